"""``signal-ext`` as a user drives it: the demo process to «Завершен», bad input refused with one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from signal_ext.storage import create_db_engine
from tests.conftest import CliRun
from tests.helpers import row_counts


def _json(cli: CliRun, *args: str) -> Any:
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _refused(cli: CliRun, *args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_demo_process_runs_to_completion(cli: CliRun) -> None:
    assert cli("demo", "--no-serve").exit_code == 0
    started = cli("process", "start", "«Согласование договора»", "--author", "Петрова")
    assert started.exit_code == 0, started.output
    assert "Создан и запущен процесс 1" in started.output

    tasks = _json(cli, "task", "list", "--performer", "Петрова", "--status", "Активна")
    assert isinstance(tasks, list) and len(tasks) == 1
    task = tasks[0]
    assert task["title"] == "Согласование договора" and task["performer"] == "Петрова Мария Сергеевна"

    done = cli("task", "complete", str(task["id"]), "--comment", "Согласовано")
    assert done.exit_code == 0, done.output

    process = _json(cli, "process", "show", "1")
    assert isinstance(process, dict)
    assert process["status"] == "Завершен"
    assert process["tasks"][0]["comment"] == "Согласовано"


def test_demo_is_safe_to_run_twice(cli: CliRun) -> None:
    assert cli("demo", "--no-serve").exit_code == 0
    assert cli("demo", "--no-serve").exit_code == 0
    people = _json(cli, "person", "list")
    assert isinstance(people, list) and len(people) == len({p["full_name"] for p in people}) >= 5
    scenarios = _json(cli, "scenario", "list")
    assert isinstance(scenarios, list)
    assert {s["name"]: s["version"] for s in scenarios} == {
        "Согласование договора": 1,
        "Закупка оборудования": 1,
        "Командировка": 1,
    }


def test_three_step_scenario_with_data_from_the_command_line(cli: CliRun) -> None:
    cli("demo", "--no-serve")
    assert cli("process", "start", "Закупка оборудования", "--author", "Кузнецова").exit_code == 0
    [first] = _json(cli, "task", "list", "--status", "Активна")
    assert [f["name"] for f in first["fields"]][:3] == ["item", "quantity", "amount"]
    message = _refused(cli, "task", "complete", str(first["id"]), "--data", "item=Ноутбук", "--data", "quantity=x")
    assert "Количество" in message and "Сумма" in message
    ok = cli(
        "task",
        "complete",
        str(first["id"]),
        "--data",
        "item=Ноутбук",
        "--data",
        "quantity=3",
        "--data",
        "amount=1 500,50",
    )
    assert ok.exit_code == 0, ok.output
    [second] = _json(cli, "task", "list", "--status", "Активна")
    assert second["performer"] == "Иванов Иван Иванович" and second["important"] is True


def test_manual_start_then_start_by_number(cli: CliRun) -> None:
    cli("demo", "--no-serve")
    created = cli("process", "start", "Командировка", "--author", "Иванов")
    assert "Создан процесс 1" in created.output and "запущен" not in created.output
    assert _json(cli, "task", "list") == []
    assert cli("process", "start", "1").exit_code == 0
    process = _json(cli, "process", "show", "1")
    assert isinstance(process, dict) and process["status"] == "Активен"
    assert process["tasks"][0]["performer"] == "Кузнецова Елена Викторовна"
    assert "Активен" in _refused(cli, "process", "start", "1")


def test_standalone_task_from_the_command_line(cli: CliRun) -> None:
    cli("demo", "--no-serve")
    created = cli(
        "task",
        "create",
        "--description",
        "Подготовить отчёт",
        "--performer",
        "Смирнов",
        "--author",
        "Иванов",
        "--deadline",
        "01.02.2099",
        "--important",
        "--json",
    )
    assert created.exit_code == 0, created.output
    task = json.loads(created.output)
    assert task["process_id"] is None and task["important"] is True
    assert task["deadline"] == "2099-02-01T15:00:00Z"  # end of the working day, 18:00 Moscow


BAD_INPUTS = [
    (("process", "start", "Нет такого", "--author", "Иванов"), "сценарий «Нет такого»"),
    (("process", "start", "Согласование договора", "--author", "Никто"), "сотрудник «Никто»"),
    (("process", "start", "Согласование договора", "--author", "ов"), "Неоднозначно"),
    (("process", "start", "Согласование договора"), "--author"),
    (("task", "complete", "1"), "уже в статусе «Выполнена»"),
    (("task", "complete", "2", "--data", "item"), "ПОЛЕ=ЗНАЧЕНИЕ"),
    (("task", "complete", "2", "--data", "colour=red"), "не предусмотрено"),
    (("task", "complete", "2", "--data", "item=x", "--data", "quantity=1.5", "--data", "amount=1"), "целое число"),
    (("task", "complete", "99"), "задача «99»"),
    (("process", "cancel", "1"), "Завершен"),
    (("person", "add", "Новиков", "--phone", "12"), "Телефон"),
    (("task", "create", "--description", "x", "--author", "Иванов", "--deadline", "01.01.2001"), "прошёл"),
]


@pytest.mark.parametrize(("args", "expected"), BAD_INPUTS, ids=[" ".join(a[:3]) for a, _ in BAD_INPUTS])
def test_bad_input_is_one_line_and_changes_nothing(
    cli: CliRun, database_url: str, args: tuple[str, ...], expected: str
) -> None:
    cli("demo", "--no-serve")
    cli("process", "start", "Согласование договора", "--author", "Иванов")
    cli("task", "complete", "1")
    cli("process", "start", "Закупка оборудования", "--author", "Иванов")
    engine = create_db_engine(database_url)
    before = row_counts(engine)
    assert expected in _refused(cli, *args)
    assert row_counts(engine) == before
    engine.dispose()


def test_malformed_scenario_file_names_the_line_and_loads_nothing(
    cli: CliRun, database_url: str, tmp_path: Path
) -> None:
    good = "scenarios:\n  - name: Первый\n    steps:\n      - title: Шаг\n"
    bad_type = (
        good + "  - name: Второй\n    steps:\n      - title: Шаг\n        fields:\n          - {name: a, type: money}\n"
    )
    bad_yaml = good + "  - name: Третий\n    steps: [\n"
    (tmp_path / "bad_type.yaml").write_text(bad_type, encoding="utf-8")
    (tmp_path / "bad_yaml.yaml").write_text(bad_yaml, encoding="utf-8")
    engine = create_db_engine(database_url)
    before = row_counts(engine)
    message = _refused(cli, "scenario", "load", str(tmp_path / "bad_type.yaml"))
    assert "строка 9" in message and "type" in message
    assert "строка 7" in _refused(cli, "scenario", "load", str(tmp_path / "bad_yaml.yaml"))
    assert "строка" not in _refused(cli, "scenario", "load", str(tmp_path / "missing.yaml"))
    assert row_counts(engine) == before
    engine.dispose()


def test_unknown_performer_in_file_loads_nothing(cli: CliRun, database_url: str, tmp_path: Path) -> None:
    text = (
        "scenarios:\n  - name: Первый\n    steps:\n      - title: Шаг\n"
        "  - name: Второй\n    steps:\n      - title: Шаг\n        performer: {person: Призраков}\n"
    )
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    message = _refused(cli, "scenario", "load", str(tmp_path / "s.yaml"))
    assert "Призраков" in message and "scenarios.1" in message
    assert _json(cli, "scenario", "list") == []


def test_reloading_a_changed_scenario_makes_a_new_version(cli: CliRun, tmp_path: Path) -> None:
    cli("person", "add", "Иванов Иван Иванович")
    path = tmp_path / "s.yaml"
    path.write_text("scenarios:\n  - name: С\n    steps:\n      - title: Первый\n", encoding="utf-8")
    assert "добавлен" in cli("scenario", "load", str(path)).output
    cli("process", "start", "С", "--author", "Иванов")
    assert "без изменений" in cli("scenario", "load", str(path)).output
    path.write_text(
        "scenarios:\n  - name: С\n    steps:\n      - title: Первый\n      - title: Второй\n", encoding="utf-8"
    )
    assert "v2: обновлён" in cli("scenario", "load", str(path)).output
    cli("task", "complete", "1")
    old = _json(cli, "process", "show", "1")
    assert isinstance(old, dict) and old["status"] == "Завершен"  # the running process kept version 1
    shown = _json(cli, "scenario", "show", "С")
    assert isinstance(shown, dict) and [s["title"] for s in shown["steps"]] == ["Первый", "Второй"]


def test_person_commands(cli: CliRun) -> None:
    added = cli("person", "add", "Орлова Анна Павловна", "--phone", "8 (916) 000-11-22", "--role", "Юрист", "--json")
    assert added.exit_code == 0, added.output
    person = json.loads(added.output)
    assert person["short_name"] == "Орлова А. П." and person["phone"] == "+79160001122"
    shown = _json(cli, "person", "show", "орлова")
    assert isinstance(shown, dict) and shown["roles"] == ["Юрист"]
    assert "Юрист" in cli("person", "show", str(person["id"])).output


def test_a_long_number_is_looked_up_as_a_name_not_an_id(cli: CliRun) -> None:
    """An ИНН-like number is beyond any id: it is searched among names and found missing, not a database error."""
    result = cli("person", "show", "7701234567")
    assert result.exit_code == 1 and "не найден" in result.output.lower()


def test_a_bad_setting_is_one_russian_line(database_url: str) -> None:
    env = {"SIGNAL_DATABASE_URL": database_url, "SIGNAL_LOG_LEVEL": "LOUD"}
    result = CliRunner().invoke(main, ["bot", "list"], env=env)
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: Настройка SIGNAL_LOG_LEVEL: допустимые значения: 'DEBUG', 'INFO', 'WARNING' или 'ERROR'"
    )
