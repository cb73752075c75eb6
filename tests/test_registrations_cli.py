"""``signal-ext bot auth`` and ``signal-ext registration list|approve|reject``: success and one-line refusals."""

from __future__ import annotations

import json

import pytest
from click.testing import Result

from signal_ext.bootstrap import App
from signal_ext.registrations import submit
from tests.conftest import CliRun
from tests.helpers import row_counts
from tests.test_auth_chain import BOT, CHAT, configure, make_world


@pytest.fixture
def world(app: App) -> dict[str, int]:
    return make_world(app)


def _one_line_error(result: Result, words: str) -> None:
    assert result.exit_code == 1
    assert words in result.output and len(result.output.strip().splitlines()) == 1, result.output


def test_bot_auth_sets_validates_and_prints(app: App, world: dict[str, int], cli: CliRun) -> None:
    result = cli(
        "bot", "auth", BOT, "--on", "--algorithm", "по инн", "--scenario", "Авторизация",
        "--responsible", "Админов", "--kind", "counterparty", "--request-text", "Пришлите <b>ИНН</b>",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for line in ("Авторизация: да", "Алгоритм: По ИНН", "Сценарий: Авторизация", "Регистрировать как: контрагент"):
        assert line in result.output
    assert f"Ответственный: Админов Админ (id {world['admin']})" in result.output
    assert "Запрос авторизации: Пришлите <b>ИНН</b>" in result.output
    cleared = cli("bot", "auth", BOT, "--off", "--algorithm", "", "--responsible", "")
    assert "Алгоритм: не задан" in cleared.output and "Авторизация: нет" in cleared.output


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--algorithm", "Нет такого", "Не найдено: алгоритм «Нет такого»"),
        ("--scenario", "Нет такого", "Нет такого"),
        ("--responsible", "Нет такого", "Не найдено: сотрудник «Нет такого»"),
        ("--request-text", "<b>не закрыт", "не закрыт"),
    ],
)
def test_bot_auth_refuses_unknown_names_and_writes_nothing(
    app: App, world: dict[str, int], cli: CliRun, option: str, value: str, words: str
) -> None:
    before = row_counts(app.engine)
    _one_line_error(cli("bot", "auth", BOT, "--on", "--kind", "partner", option, value), words)
    assert row_counts(app.engine) == before
    assert "Регистрировать как: пользователь" in cli("bot", "auth", BOT).output


def test_bot_auth_warns_when_nothing_would_decide(app: App, world: dict[str, int], cli: CliRun) -> None:
    result = cli("bot", "auth", BOT, "--on")
    assert result.exit_code == 0 and "получат текст ошибки" in result.output


def test_registration_list_approve_reject(app: App, world: dict[str, int], cli: CliRun) -> None:
    configure(app, responsible="Админов")
    first = submit(app, BOT, CHAT, "Иван, склад", applicant="Иван")
    second = submit(app, BOT, "777", "Пётр", applicant="Петя")
    listed = cli("registration", "list", "--status", "pending")
    assert listed.exit_code == 0 and "Иван, склад" in listed.output and "Ожидает [responsible]" in listed.output
    approved = cli("registration", "approve", str(first.registration_id), "--as", "user", "--new-name", "Иванов Иван")
    assert approved.exit_code == 0 and "зарегистрирован как «Иванов Иван»" in approved.output
    rejected = cli("registration", "reject", str(second.registration_id), "--reason", "не знаем такого")
    assert rejected.exit_code == 0 and "отклонена: не знаем такого" in rejected.output
    rows = json.loads(cli("registration", "list", "--bot", BOT, "--json").output)
    assert [(r["id"], r["status"], r["person"]) for r in rows] == [
        (second.registration_id, "Отклонён", ""),
        (first.registration_id, "Зарегистрирован", "Иванов Иван"),
    ]
    assert cli("registration", "list", "--status", "Ошибка").output.strip() == "Заявок нет"


def test_registration_commands_refuse_in_one_line(app: App, world: dict[str, int], cli: CliRun) -> None:
    configure(app, responsible="Админов")
    outcome = submit(app, BOT, CHAT, "Я")
    ref = str(outcome.registration_id)
    before = row_counts(app.engine)
    _one_line_error(cli("registration", "approve", "999", "--as", "user", "--person", "Петров"), "Не найдено")
    _one_line_error(cli("registration", "approve", ref, "--as", "user"), "--person, либо --new-name")
    _one_line_error(cli("registration", "approve", ref, "--as", "partner", "--person", "Петров"), "а не партнёр")
    _one_line_error(cli("registration", "approve", ref, "--as", "user", "--person", "Нет Такого"), "Не найдено")
    _one_line_error(cli("registration", "reject", ref, "--reason", "  "), "Укажите причину")
    _one_line_error(cli("registration", "list", "--status", "какой-то"), "неизвестен")
    _one_line_error(cli("registration", "list", "--bot", "нет-бота"), "Не найдено: чат-бот")
    assert row_counts(app.engine) == before
    assert cli("registration", "reject", ref, "--reason", "нет").exit_code == 0
    _one_line_error(cli("registration", "approve", ref, "--as", "user", "--person", "Петров"), "уже отклонена")
