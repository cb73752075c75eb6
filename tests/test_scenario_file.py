"""Scenario YAML: what designers write is checked, and mistakes name their line."""

from __future__ import annotations

import pytest

from processes.errors import ScenarioFileError
from processes.scenario_file import PersonPerformer, RolePerformer, parse_scenarios


def test_full_scenario_parses() -> None:
    [spec] = parse_scenarios(
        "scenarios:\n"
        "  - name: Закупка\n    manual_start: true\n    deadline: 2d 4h\n    steps:\n"
        "      - title: A\n        deadline: 30m\n        performer: {person: Иванов}\n"
        "      - title: B\n        performer: {role: Юрист}\n        deadline: 3\n"
        "      - title: C\n"
    )
    assert spec.manual_start and spec.deadline == (2 * 24 + 4) * 60
    assert isinstance(spec.steps[0].performer, PersonPerformer) and spec.steps[0].deadline == 30
    assert isinstance(spec.steps[1].performer, RolePerformer) and spec.steps[1].deadline == 180
    assert spec.steps[2].performer == "author" and spec.steps[2].deadline is None


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("scenarios:\n  - name: A\n    steps:\n      - title: x\n        deadline: скоро\n", 5, "длительность"),
        ("scenarios:\n  - name: A\n    steps:\n      - title: x\n        performer: boss\n", 5, "исполнитель"),
        ("scenarios:\n  - name: A\n    steps:\n      - title: x\n        colour: red\n", 5, "неизвестный ключ"),
        ("scenarios:\n  - name: A\n    steps: []\n", 3, "пустым"),
        ("scenarios:\n  - steps:\n      - title: x\n", 2, "name"),
        ("scenarios:\n  - name: A\n    steps:\n      - {title: x, fields: [{name: a, type: regex}]}\n", 4, "pattern"),
        ("scenarios:\n  - name: A\n    steps:\n      - {title: x, fields: [{name: a, type: choice}]}\n", 4, "choices"),
        ("scenarios:\n  - name: A\n    steps:\n      - {title: x, fields: [{name: a}, {name: a}]}\n", 4, "повторяются"),
        (
            "scenarios:\n  - name: A\n    steps:\n      - title: x\n  - name: a\n    steps:\n      - title: y\n",
            1,
            "дважды",
        ),
        ("scenarios:\n  - name: A\n    steps:\n      - title: 'x\n", 4, "YAML"),
        ("- just a list\n", 1, "scenarios"),
    ],
)
def test_mistakes_name_the_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ScenarioFileError) as error:
        parse_scenarios(text, "s.yaml")
    assert error.value.line == line, error.value.message
    assert fragment in error.value.message
    assert error.value.message.startswith(f"s.yaml, строка {line}: ")
