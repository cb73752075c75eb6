"""Keyword files designers keep in git: YAML parsed into checked records, errors naming the record and the line.

A file is ``keywords:`` — a list of records; a record has ``words`` («Расчёт, Расчет»), ``kind`` and the fields
its kind uses (see docs/keywords.md). The checks of one record are here; the checks across records (duplicate
words, alias targets and loops, algorithm names) are in :mod:`keywords.checks`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from keywords.checks import first_problem
from keywords.errors import KeywordFileError
from keywords.matching import normalise, split_words
from keywords.models import KeywordKind
from processes.files import read_text_file
from processes.validation import describe_error
from processes.yaml_text import child_node, compose_yaml, load_yaml

AlgorithmExists = Callable[[str], bool]

KIND_NAMES: dict[KeywordKind, str] = {
    KeywordKind.TEXT: "Текстовый ответ",
    KeywordKind.ALGORITHM: "Выполнение алгоритма",
    KeywordKind.CHOICE: "Выбор",
    KeywordKind.KEYWORD: "Ключевое слово",
}
_KINDS = {normalise(name): kind for kind, name in KIND_NAMES.items()} | {kind.value: kind for kind in KeywordKind}
_KIND_HELP = ", ".join(f"{kind.value} ({name})" for kind, name in KIND_NAMES.items())
# which optional fields each kind uses; a field set on a kind that ignores it is refused, not silently dropped
_USES: dict[KeywordKind, frozenset[str]] = {
    KeywordKind.TEXT: frozenset({"answer"}),
    KeywordKind.ALGORITHM: frozenset({"algorithm"}),
    KeywordKind.CHOICE: frozenset({"algorithm", "title", "confirm", "choices"}),
    KeywordKind.KEYWORD: frozenset({"target"}),
}


def _text(value: Any) -> Any:
    """YAML reads «1» or «2021» as numbers; a designer means the text."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class KeywordSpec(BaseModel):
    """One record as written in the file (``choices`` are its child records)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    words: str = Field(max_length=1024)
    kind: KeywordKind
    answer: str = Field(default="", max_length=4096)
    algorithm: str | None = Field(default=None, max_length=128)
    title: str = Field(default="", max_length=4096)
    confirm: bool = False
    choices: tuple[KeywordSpec, ...] = ()
    target: str | None = Field(default=None, max_length=1024)
    deleted: bool = False

    _texts = field_validator("words", "answer", "algorithm", "title", "target", mode="before")(_text)

    @field_validator("kind", mode="before")
    @classmethod
    def _known_kind(cls, value: Any) -> Any:
        kind = _KINDS.get(normalise(value)) if isinstance(value, str) else None
        if kind is None:
            raise ValueError(f"неизвестный вид «{value}»; допустимы: {_KIND_HELP}")
        return kind

    @model_validator(mode="after")
    def _complete(self) -> KeywordSpec:
        if not split_words(self.words):
            raise ValueError("words: укажите хотя бы одно слово")
        for name in ("answer", "algorithm", "title", "confirm", "choices", "target"):
            if name in self.model_fields_set and name not in _USES[self.kind]:
                raise ValueError(f"поле {name} не используется у вида {self.kind.value} ({KIND_NAMES[self.kind]})")
        problem = _missing(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def live_choices(self) -> tuple[KeywordSpec, ...]:
        """The child records not marked deleted."""
        return tuple(child for child in self.choices if not child.deleted)


def _missing(spec: KeywordSpec) -> str:
    if spec.kind is KeywordKind.TEXT and not spec.answer.strip():
        return "у текстового ответа должен быть answer"
    if spec.kind is KeywordKind.ALGORITHM and not (spec.algorithm or "").strip():
        return "у выполнения алгоритма должен быть algorithm"
    if spec.kind is KeywordKind.KEYWORD and not (spec.target or "").strip():
        return "у ключевого слова должен быть target — слово, по настройкам которого его обрабатывать"
    if spec.kind is not KeywordKind.CHOICE or spec.deleted:
        return ""
    live = len(spec.live_choices)
    if spec.algorithm is None and live == 0:
        return "у выбора нет вариантов: добавьте choices"
    if spec.algorithm is not None and live != 1:
        return f"у выбора из алгоритма должен быть ровно один вариант в choices — он обработает выбор (сейчас {live})"
    return ""


class KeywordFile(BaseModel):
    """A whole file: the bot's top-level records."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keywords: tuple[KeywordSpec, ...]

    def count(self) -> tuple[int, int]:
        """(all records, records marked deleted, their subtrees included)."""
        return _count(self.keywords, False)


def _count(specs: tuple[KeywordSpec, ...], under_deleted: bool) -> tuple[int, int]:
    total = deleted = 0
    for spec in specs:
        gone = under_deleted or spec.deleted
        sub_total, sub_deleted = _count(spec.choices, gone)
        total += 1 + sub_total
        deleted += int(gone) + sub_deleted
    return total, deleted


def read_keyword_file(path: Path, algorithm_exists: AlgorithmExists) -> KeywordFile:
    """Parses and checks the keyword file at ``path``; raises :class:`KeywordFileError` naming record and line."""
    try:
        text = read_text_file(path)
    except ValueError as error:
        raise KeywordFileError(str(path), None, f"не удалось прочитать файл: {error}") from None
    return parse_keyword_file(text, algorithm_exists, str(path))


def parse_keyword_file(text: str, algorithm_exists: AlgorithmExists, source: str = "<text>") -> KeywordFile:
    """Parses keyword YAML ``text``; ``algorithm_exists(name)`` tells whether a named algorithm is known."""
    try:
        data = load_yaml(text)
    except yaml.MarkedYAMLError as error:
        mark = error.context_mark or error.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise KeywordFileError(source, line, f"ошибка YAML: {error.problem or error}") from error
    if not isinstance(data, dict) or "keywords" not in data:
        raise KeywordFileError(source, 1, "ожидается словарь с ключом keywords (список записей)")
    try:
        parsed = KeywordFile.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        raise _error(source, compose_yaml(text), data, first["loc"], describe_error(first)) from error
    problem = first_problem(parsed.keywords, algorithm_exists)
    if problem is not None:
        indices, detail = problem
        loc: list[Any] = ["keywords"]
        for depth, index in enumerate(indices):
            loc += ["choices", index] if depth else [index]
        raise _error(source, compose_yaml(text), data, tuple(loc), detail)
    return parsed


def _error(source: str, root: yaml.Node | None, data: Any, loc: tuple[Any, ...], detail: str) -> KeywordFileError:
    """The error for pydantic-style location ``loc``: the record path in words, the rest of ``loc``, the line."""
    node, line = root, 1
    names: list[str] = []
    rest: list[str] = []
    for part in loc:
        data = _step(data, part)
        child = child_node(node, part)
        if child is not None:
            node, line = child, child.start_mark.line + 1
        if isinstance(part, int) and isinstance(data, dict):
            words = split_words(str(data.get("words", "")))
            names.append(f"«{words[0]}»" if words else f"запись №{part + 1}")
            rest = []
        else:
            rest.append(str(part))
    field = ".".join(rest)
    return KeywordFileError(source, line, f"{field}: {detail}" if field else detail, " → ".join(names))


def _step(data: Any, part: Any) -> Any:
    if isinstance(data, dict):
        return data.get(part)
    if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
        return data[part]
    return None
