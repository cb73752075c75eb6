"""``signal-ext scenario``: load designers' YAML files, list and show scenarios."""

from __future__ import annotations

from pathlib import Path

import click

from processes.models import ScenarioPublic
from processes.queries import scenario_public
from processes.scenarios import current_scenarios, find_scenario
from signal_ext.commands.common import current_app, emit, json_option, reading, writing
from signal_ext.commands.params import FILE_PATH
from signal_ext.scenario_loading import read_checked, store_document

_ACTIONS = {"created": "добавлен", "updated": "обновлён", "unchanged": "без изменений"}


@click.group("scenario")
def scenario_group() -> None:
    """Сценарии бизнес-процессов."""


@scenario_group.command("load")
@click.argument("path", type=FILE_PATH)
def load(path: Path) -> None:
    """Загрузить сценарии из YAML-файла (всё или ничего)."""
    document = read_checked(path, current_app().templates)
    with writing() as session:
        outcomes, _rules = store_document(session, document, str(path))
    for outcome in outcomes:
        click.echo(f"Сценарий «{outcome.name}» v{outcome.version}: {_ACTIONS[outcome.action]}")
    if document.notifications is not None:
        click.echo(f"Общие правила оповещений заменены: {len(document.notifications)}")


@scenario_group.command("list")
@json_option
def list_(as_json: bool) -> None:
    """Действующие сценарии."""
    with reading() as session:
        scenarios = [scenario_public(session, s) for s in current_scenarios(session)]
    emit(scenarios, as_json, lambda: "\n".join(_line(s) for s in scenarios) or "Сценариев нет")


@scenario_group.command("show")
@click.argument("scenario_ref")
@json_option
def show(scenario_ref: str, as_json: bool) -> None:
    """Сценарий с шагами (по id или названию)."""
    with reading() as session:
        scenario = scenario_public(session, find_scenario(session, scenario_ref))
    emit(scenario, as_json, lambda: _card(scenario))


def _line(scenario: ScenarioPublic) -> str:
    manual = ", ручной старт" if scenario.manual_start else ""
    return f"{scenario.id:>4}  {scenario.name}  (v{scenario.version}, шагов: {len(scenario.steps)}{manual})"


def _card(scenario: ScenarioPublic) -> str:
    lines = [_line(scenario)]
    if scenario.description:
        lines.append(scenario.description)
    for step in scenario.steps:
        important = " [важная]" if step.important else ""
        lines.append(f"  {step.position + 1}. {step.title} — {step.performer}{important}")
        for field in step.fields:
            required = "обязательное" if field.get("required", True) else "необязательное"
            lines.append(f"       {field['name']}: {field['type']}, {required}")
    return "\n".join(lines)
