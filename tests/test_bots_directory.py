"""The bots directory and the texts table, as a designer drives them from ``signal-ext bot``; the token never shows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from processes.errors import ProcessError
from signal_ext.bootstrap import App
from signal_ext.bots.directory import add_bot, find_bot, reset_text, set_text, texts_of, update_bot
from signal_ext.bots.models import BotCreate
from signal_ext.bots.texts import DEFAULT_TEXTS, BotTexts, TextError, template_problem, validate_override
from signal_ext.storage import create_db_engine
from tests.conftest import CliRun
from tests.helpers import row_counts

TOKEN = "1691888282:AAFgK7brh5ACYCE1mcYvcsJpmspJL9zyEms"
SECRET = TOKEN.split(":", 1)[1]
OTHER_TOKEN = "987654321:BBHhL8csi6BDZDF2ndZwdtKqnt-KM0azFnt"


def _ok(cli: CliRun, *args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def _json(cli: CliRun, *args: str) -> Any:
    return json.loads(_ok(cli, *args, "--json"))


def _refused(cli: CliRun, *args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


def _state(engine: Engine) -> tuple[dict[str, int], list[Any], list[Any]]:
    """Row counts of every table plus the bots and their texts as stored: proof a refused command changed nothing."""
    with engine.connect() as connection:
        bots = [tuple(row) for row in connection.execute(text("SELECT * FROM bot ORDER BY id"))]
        texts = [tuple(row) for row in connection.execute(text("SELECT * FROM bot_text ORDER BY id"))]
    return row_counts(engine), bots, texts


def test_add_list_show_never_print_the_token(cli: CliRun) -> None:
    added = _ok(cli, "bot", "add", "system", "--system", "--token", TOKEN, "--description", "Бот компании")
    assert "Добавлен чат-бот «system» (id 1)" in added
    assert "эмулятор" in _ok(cli, "bot", "add", "sales", "--unknown-answer", "Не знаю, спросите менеджера")
    as_json = _json(cli, "bot", "add", "support", "--allow-code")
    assert as_json["name"] == "support" and as_json["allow_code"] is True and as_json["has_token"] is False

    outputs = [
        _ok(cli, "bot", "list"),
        _ok(cli, "bot", "list", "--json"),
        _ok(cli, "bot", "show", "system"),
        _ok(cli, "bot", "show", "1", "--json"),
        _ok(cli, "bot", "texts", "system", "--json"),
    ]
    for output in outputs:
        assert SECRET not in output and TOKEN not in output

    bots = _json(cli, "bot", "list")
    assert [b["name"] for b in bots] == ["system", "sales", "support"]
    system = bots[0]
    assert system["is_system"] is True and system["has_token"] is True
    assert "token" not in system and system["token_hint"] == "169…:•••"
    assert bots[1]["unknown_answer"] == "Не знаю, спросите менеджера" and bots[1]["token_hint"] is None

    card = _ok(cli, "bot", "show", "SALES")  # a name ignores case
    assert "Ответ на неизвестный запрос: Не знаю, спросите менеджера" in card
    assert "эмулятор" in card
    assert "169…:•••" in _ok(cli, "bot", "show", "system")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("bot", "add", "sales"), "уже занято"),
        (("bot", "add", "SALES"), "уже занято"),
        (("bot", "add", "other", "--token", "12345:short"), "Токен не похож"),
        (("bot", "add", "other", "--token", "abc:" + SECRET), "Токен не похож"),
        (("bot", "add", "other", "--token", TOKEN), "уже у чат-бота «system»"),
        (("bot", "add", "other", "--system"), "Системный чат-бот уже есть: «system»"),
        (("bot", "add", "a b"), "без пробелов"),
        (("bot", "add", "42"), "из одних цифр"),
        (("bot", "add", "x" * 65), "не длиннее 64"),
        (("bot", "add", "other", "--unknown-answer", "Не знаю {name}"), "{name}"),
        (("bot", "show", "nobody"), "Не найдено: чат-бот «nobody»"),
        (("bot", "text-set", "sales", "greeting", "Привет"), "Нет текста «greeting»"),
        (("bot", "text-set", "sales", "my_key", "Ваш ключ: {kye}"), "неизвестная подстановка {kye}"),
        (("bot", "text-set", "sales", "my_key", "Ключ {key"), "непарная фигурная скобка"),
        (("bot", "text-set", "sales", "my_key", "Ключ {key.__class__}"), "{key.__class__}"),
        (("bot", "text-set", "sales", "my_key", "Ключ {0}"), "{0}"),
        (("bot", "text-set", "sales", "my_key", "Ключ {key!r}"), "{key!r}"),
        (("bot", "text-set", "sales", "my_key", "<b>Ключ</b> {key} <br>"), "<br>"),
        (("bot", "text-set", "sales", "my_key", "<b>Ключ {key}"), "не закрыт"),
        (("bot", "text-set", "sales", "my_key", "Ключ < {key}"), "&lt;"),
        (("bot", "text-set", "sales", "button_complete", "Готово\nсовсем"), "одна строка"),
        (("bot", "text-set", "sales", "menu_shown", "   "), "не может быть пустым"),
        (("bot", "text-set", "nobody", "my_key", "{key}"), "Не найдено"),
        (("bot", "text-reset", "sales", "mykey"), "Нет текста «mykey»"),
        (("bot", "update", "sales", "--token", "nonsense"), "Токен не похож"),
        (("bot", "update", "sales", "--description", "Новое", "--token", "nonsense"), "Токен не похож"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    cli: CliRun, db: Engine, args: tuple[str, ...], expected: str
) -> None:
    _ok(cli, "bot", "add", "system", "--system", "--token", TOKEN)
    _ok(cli, "bot", "add", "sales")
    _ok(cli, "bot", "text-set", "sales", "my_key", "Ключ чата: {key}")
    before = _state(db)
    message = _refused(cli, *args)
    assert expected in message
    assert SECRET not in message
    assert _state(db) == before


def test_unknown_key_and_placeholder_errors_name_what_is_close(cli: CliRun) -> None:
    _ok(cli, "bot", "add", "sales")
    assert "my_key" in _refused(cli, "bot", "text-set", "sales", "my_kye", "x")
    message = _refused(cli, "bot", "text-set", "sales", "ask_field", "Укажите {titel}")
    assert "{titel}" in message and "{title}" in message
    assert "подстановок нет" in _refused(cli, "bot", "text-set", "sales", "menu_shown", "Меню {x}")


def test_texts_table_lists_every_key_with_russian_defaults(cli: CliRun) -> None:
    _ok(cli, "bot", "add", "sales")
    entries = _json(cli, "bot", "texts", "sales")
    assert len(entries) == len(DEFAULT_TEXTS) >= 30
    assert len({e["key"] for e in entries}) == len(entries)
    for entry in entries:
        assert re.search("[а-яА-ЯёЁ]", entry["value"]), entry
        assert entry["description"] and entry["overridden"] is False and entry["value"] == entry["default"]
    by_key = {e["key"]: e for e in entries}
    assert by_key["not_authorized"]["placeholders"] == ["key"]
    assert "Вы не авторизованы" in by_key["not_authorized"]["value"]
    assert by_key["button_my_tasks"]["value"] == "Мои задачи" and by_key["button_my_tasks"]["button"] is True
    assert "[Описание], [Исполнитель], [Срок], [Важная]" in by_key["new_task_prompt"]["value"]
    assert by_key["button_details"]["value"] == "Подробнее…"
    for key in ("process_started", "process_created", "auth_confirm", "auth_rejected", "error", "unknown_request"):
        assert key in by_key
    listing = _ok(cli, "bot", "texts", "sales")
    assert "  my_key — Ответ на «Мой ключ»  {key}" in listing


def test_override_and_reset_show_in_bot_texts(cli: CliRun) -> None:
    _ok(cli, "bot", "add", "sales", "--unknown-answer", "Спросите менеджера")
    assert "изменён" in _ok(cli, "bot", "text-set", "sales", "my_key", "🔑 Ключ: <code>{key}</code> ({key})")
    assert "изменён" in _ok(cli, "bot", "text-set", "sales", "auth_request", "Представьтесь: ФИО и телефон")
    by_key = {e["key"]: e for e in _json(cli, "bot", "texts", "sales")}
    assert by_key["my_key"]["overridden"] is True and by_key["my_key"]["value"].startswith("🔑 Ключ")
    assert by_key["my_key"]["default"] == DEFAULT_TEXTS["my_key"].default
    # the card fields are the overrides of their texts, shown and reset alike
    assert by_key["unknown_request"]["overridden"] is True
    assert by_key["unknown_request"]["value"] == "Спросите менеджера"
    assert by_key["auth_request"]["value"] == "Представьтесь: ФИО и телефон"
    assert _json(cli, "bot", "show", "sales")["auth_request_text"] == "Представьтесь: ФИО и телефон"
    listing = _ok(cli, "bot", "texts", "sales")
    assert "* my_key — " in listing and "    🔑 Ключ: <code>{key}</code> ({key})" in listing
    assert "  start — " in listing

    assert "возвращён к стандартному" in _ok(cli, "bot", "text-reset", "sales", "my_key")
    assert "и так стандартный" in _ok(cli, "bot", "text-reset", "sales", "my_key")
    assert "возвращён к стандартному" in _ok(cli, "bot", "text-reset", "sales", "unknown_request")
    by_key = {e["key"]: e for e in _json(cli, "bot", "texts", "sales")}
    assert by_key["my_key"]["overridden"] is False and by_key["my_key"]["value"] == DEFAULT_TEXTS["my_key"].default
    assert by_key["unknown_request"]["overridden"] is False
    assert _json(cli, "bot", "show", "sales")["unknown_answer"] == ""


def test_overrides_are_per_bot(cli: CliRun) -> None:
    _ok(cli, "bot", "add", "a")
    _ok(cli, "bot", "add", "b")
    _ok(cli, "bot", "text-set", "a", "button_complete", "Готово ✅")
    _ok(cli, "bot", "text-set", "a", "button_complete", "Сделано")  # a second set replaces the first
    a = {e["key"]: e["value"] for e in _json(cli, "bot", "texts", "a")}
    b = {e["key"]: e["value"] for e in _json(cli, "bot", "texts", "b")}
    assert a["button_complete"] == "Сделано" and b["button_complete"] == "Выполнена"
    assert _json(cli, "bot", "show", "a")["overridden_texts"] == 1


def test_update_changes_only_what_is_given(cli: CliRun) -> None:
    _ok(cli, "bot", "add", "sales", "--description", "Отдел продаж", "--allow-code")
    _ok(cli, "bot", "update", "sales", "--unknown-answer", "Не понял", "--no-allow-code", "--token", OTHER_TOKEN)
    card = _json(cli, "bot", "show", "sales")
    assert card["description"] == "Отдел продаж" and card["unknown_answer"] == "Не понял"
    assert card["allow_code"] is False and card["has_token"] is True and card["token_hint"] == "987…:•••"
    _ok(cli, "bot", "update", "sales", "--no-token")
    assert _json(cli, "bot", "show", "sales")["has_token"] is False


def test_bot_texts_get_renders_placeholders_as_given() -> None:
    texts = BotTexts({"my_key": "Ключ {key}, ещё раз: {key}", "button_attachments": "📎 {count}"})
    assert texts.get("my_key", key=123456789) == "Ключ 123456789, ещё раз: 123456789"
    assert texts.get("button_attachments", count=2) == "📎 2"
    assert texts.get("not_authorized", key="<42>").startswith("Вы не авторизованы. Ваш ключ: <code><42></code>")
    assert texts.get("menu_shown") == DEFAULT_TEXTS["menu_shown"].default
    assert BotTexts().get("auth_rejected", reason="нет в списке") == "В авторизации отказано: нет в списке"
    literal = BotTexts({"menu_shown": "Меню {{без подстановок}}"})
    assert literal.get("menu_shown") == "Меню {без подстановок}"
    with pytest.raises(TypeError, match="missing: key"):
        texts.get("my_key")
    with pytest.raises(TypeError, match="unexpected: title"):
        texts.get("my_key", key=1, title="x")
    with pytest.raises(KeyError):
        texts.get("no_such_text")


def test_a_stored_override_that_no_longer_fits_falls_back_to_the_default() -> None:
    texts = BotTexts({"my_key": "Ключ {chat}", "gone": "x", "menu_shown": "Меню"})
    assert texts.get("my_key", key=7) == "Ваш ключ: <code>7</code>"
    assert not texts.is_overridden("my_key") and texts.is_overridden("menu_shown")
    assert set(texts.invalid) == {"my_key", "gone"} and "{chat}" in texts.invalid["my_key"]


def test_every_default_is_a_valid_template() -> None:
    for key, spec in DEFAULT_TEXTS.items():
        assert spec.key == key
        assert template_problem(spec, spec.default) is None, key
        validate_override(key, spec.default)
    with pytest.raises(TextError) as caught:
        validate_override("task_creted", "x")
    assert "task_created" in caught.value.message


def test_directory_service_in_one_session(app: App) -> None:
    with app.open_session() as session:
        bot = add_bot(session, BotCreate(name="  helpdesk ", token=TOKEN, description="Поддержка"))
        assert bot.name == "helpdesk" and find_bot(session, str(bot.id)) is bot and find_bot(session, "HELPDESK") is bot
        set_text(session, bot, "start", "Здравствуйте! {description}")
        update_bot(session, bot, unknown_answer="Уточните вопрос", allow_code=True)
        texts = texts_of(session, bot)
        assert texts.get("start", bot="helpdesk", description="Поддержка") == "Здравствуйте! Поддержка"
        assert texts.get("unknown_request") == "Уточните вопрос"
        with pytest.raises(ProcessError, match="уже занято"):
            add_bot(session, BotCreate(name="Helpdesk"))
        assert reset_text(session, bot, "start") is True and reset_text(session, bot, "start") is False
        session.commit()
    with app.read_session() as session:
        stored = find_bot(session, "helpdesk")
        assert stored.allow_code is True and stored.token == TOKEN
        assert not texts_of(session, stored).is_overridden("start")


def test_the_database_keeps_one_system_bot_and_unique_names_even_past_the_checks(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a concurrent writer would slip past the checks, the unique indexes refuse, as a clear error."""
    import signal_ext.bots.directory as directory

    monkeypatch.setattr(directory, "system_bot", lambda session: None)
    monkeypatch.setattr(directory, "_bot_named", lambda session, name: None)
    with app.open_session() as session:
        add_bot(session, BotCreate(name="first", is_system=True, token=TOKEN))
        with pytest.raises(ProcessError, match="системный") as caught:
            add_bot(session, BotCreate(name="second", is_system=True))
        assert SECRET not in caught.value.message and caught.value.__cause__ is None
        with pytest.raises(ProcessError, match="имя"):
            add_bot(session, BotCreate(name="first"))
        add_bot(session, BotCreate(name="third"))  # the session is still usable
        session.commit()
    with app.read_session() as session:
        assert [(b.name, b.is_system) for b in directory.list_bots(session)] == [("first", True), ("third", False)]
