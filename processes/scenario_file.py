"""Scenario files designers keep in git: YAML parsed into checked specs, errors named by line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from processes.durations import parse_duration_minutes
from processes.errors import ScenarioFileError
from processes.fields import FieldSpec
from processes.files import read_text_file
from processes.rule_spec import RuleSpec, TemplateCheck
from processes.validation import describe_error
from processes.yaml_text import child_node, compose_yaml, load_yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonPerformer(_Strict):
    person: str = Field(min_length=1)


class RolePerformer(_Strict):
    role: str = Field(min_length=1)


def _minutes(value: Any) -> Any:
    return None if value is None else parse_duration_minutes(value)


class StepSpec(_Strict):
    """One step of a scenario: the task it creates and who performs it."""

    title: str = Field(min_length=1)
    description: str = ""
    performer: Literal["author"] | PersonPerformer | RolePerformer = "author"
    deadline: int | None = None
    important: bool = False
    fields: list[FieldSpec] = []

    _deadline_minutes = field_validator("deadline", mode="before")(_minutes)

    @field_validator("performer", mode="before")
    @classmethod
    def _known_performer(cls, value: Any) -> Any:
        if value == "author":
            return value
        if isinstance(value, dict) and set(value) in ({"person"}, {"role"}):
            ((key, name),) = value.items()
            if isinstance(name, str) and name.strip():
                return value
            raise ValueError(f"{key}: укажите {'ФИО' if key == 'person' else 'название роли'}")
        raise ValueError("исполнитель задаётся как author, {person: ФИО} или {role: Роль}")

    @model_validator(mode="after")
    def _unique_fields(self) -> StepSpec:
        names = [spec.name for spec in self.fields]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError("повторяются поля: " + ", ".join(duplicates))
        return self


class ScenarioSpec(_Strict):
    """A scenario as written in the file; ``deadline`` is in minutes after validation."""

    name: str = Field(min_length=1)
    description: str = ""
    manual_start: bool = False
    deadline: int | None = None
    attachments: bool = True
    steps: list[StepSpec] = Field(min_length=1)
    notifications: list[RuleSpec] = []

    _deadline_minutes = field_validator("deadline", mode="before")(_minutes)


class ScenarioFile(_Strict):
    """A whole file: scenarios and, optionally, global notification rules (for every process and task)."""

    scenarios: list[ScenarioSpec] = []
    notifications: list[RuleSpec] | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> ScenarioFile:
        if not self.scenarios and self.notifications is None:
            raise ValueError("файл должен описывать scenarios или notifications")
        seen: set[str] = set()
        for spec in self.scenarios:
            if spec.name.casefold() in seen:
                raise ValueError(f"сценарий «{spec.name}» описан дважды")
            seen.add(spec.name.casefold())
        return self


def read_scenario_file(path: Path, check_template: TemplateCheck | None = None) -> ScenarioFile:
    """Parses and checks the scenario file at ``path``; raises ScenarioFileError naming the line.

    ``check_template`` is called on every rule template and subject; a ValueError it raises becomes an error
    naming the rule's line."""
    try:
        text = read_text_file(path)
    except ValueError as error:
        raise ScenarioFileError(str(path), None, f"не удалось прочитать файл: {error}") from None
    return parse_scenario_file(text, str(path), check_template)


def parse_scenarios(text: str, source: str = "<text>") -> list[ScenarioSpec]:
    """The scenarios of YAML ``text`` (see :func:`parse_scenario_file`)."""
    return parse_scenario_file(text, source).scenarios


def parse_scenario_file(text: str, source: str = "<text>", check_template: TemplateCheck | None = None) -> ScenarioFile:
    """Parses scenario YAML ``text``; ``source`` names it in error messages."""
    try:
        data = load_yaml(text)
    except yaml.MarkedYAMLError as error:
        mark = error.context_mark or error.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise ScenarioFileError(source, line, f"ошибка YAML: {error.problem or error}") from error
    if not isinstance(data, dict):
        raise ScenarioFileError(source, 1, "ожидается словарь с ключом scenarios")
    try:
        return ScenarioFile.model_validate(data, context={"check_template": check_template})
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        line = _line_of(compose_yaml(text), first["loc"])
        raise ScenarioFileError(source, line, f"{location}: {describe_error(first)}") from error


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest YAML node that the pydantic error location ``loc`` reaches."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        child = child_node(node, part)
        if child is None:
            continue  # union branch names and the like are not in the document
        node = child
        line = node.start_mark.line + 1
    return line
