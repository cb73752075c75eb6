"""Checks across the records of a keyword file: what one record alone cannot tell.

Records marked deleted (and everything under them) are kept but ignored, so they are not checked here.
Each check names the record it refuses by its position (indices from the top level down).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from keywords.matching import MAX_ALIAS_DEPTH, normalise, split_words
from keywords.models import KeywordKind

if TYPE_CHECKING:
    from keywords.file import KeywordSpec

Problem = tuple[tuple[int, ...], str]  # (indices of the record, what is wrong)


def first_problem(specs: Sequence[KeywordSpec], algorithm_exists: Callable[[str], bool]) -> Problem | None:
    """The first cross-record problem of the file's top-level ``specs`` in file order, or None."""
    top = {normalise(word): spec for spec in specs if not spec.deleted for word in split_words(spec.words)}
    return _walk(specs, (), top, algorithm_exists)


def _walk(
    specs: Sequence[KeywordSpec],
    path: tuple[int, ...],
    top: dict[str, KeywordSpec],
    algorithm_exists: Callable[[str], bool],
) -> Problem | None:
    seen: dict[str, str] = {}
    for index, spec in enumerate(specs):
        if spec.deleted:
            continue
        here = (*path, index)
        detail = _duplicate(spec, seen) or _record_problem(spec, top, algorithm_exists)
        if detail:
            return here, detail
        found = _walk(spec.choices, here, top, algorithm_exists)
        if found is not None:
            return found
    return None


def _duplicate(spec: KeywordSpec, seen: dict[str, str]) -> str:
    words = split_words(spec.words)
    for word in words:
        owner = seen.get(normalise(word))
        if owner is not None:
            return f"слово «{word}» уже есть у «{owner}» (регистр и пробелы не различаются)"
    for word in words:
        seen[normalise(word)] = words[0]
    return ""


def _record_problem(spec: KeywordSpec, top: dict[str, KeywordSpec], algorithm_exists: Callable[[str], bool]) -> str:
    if spec.algorithm is not None and not algorithm_exists(spec.algorithm):
        return f"алгоритм «{spec.algorithm}» не найден (список: signal-ext algorithm list)"
    if spec.kind is KeywordKind.KEYWORD:
        return _alias_problem(spec, top)
    return ""


def _alias_problem(spec: KeywordSpec, top: dict[str, KeywordSpec]) -> str:
    """An alias must reach a non-alias top-level record without passing a record twice, in few steps."""
    chain = [split_words(spec.words)[0]]
    visited = [spec]
    current = spec
    while current.kind is KeywordKind.KEYWORD:
        target = top.get(normalise(current.target or ""))
        if target is None:
            return f"target: ключевое слово «{current.target}» не найдено среди записей верхнего уровня"
        chain.append(split_words(target.words)[0])
        if any(target is seen for seen in visited):
            return "ключевые слова ссылаются друг на друга по кругу: " + " → ".join(f"«{w}»" for w in chain)
        if len(chain) > MAX_ALIAS_DEPTH:
            return f"цепочка ключевых слов длиннее {MAX_ALIAS_DEPTH}: " + " → ".join(f"«{w}»" for w in chain[:4])
        visited.append(target)
        current = target
    return ""
