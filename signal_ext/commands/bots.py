"""``signal-ext bot``: the bots directory («Чат-боты») and each bot's texts table. Tokens are never printed."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
import telegram
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut

from processes.errors import ProcessError
from signal_ext.bots.directory import (
    add_bot,
    bot_public,
    find_bot,
    list_bots,
    record_username,
    reset_text,
    set_text,
    set_token,
    texts_of,
    update_bot,
)
from signal_ext.bots.models import Bot, BotCreate, BotPublic
from signal_ext.bots.status import describe
from signal_ext.bots.texts import TextEntry, spec_of
from signal_ext.commands.common import current_app, emit, json_option, local_time, reading, writing
from signal_ext.commands.registrations import bot_auth_command
from signal_ext.redaction import redact, register_secrets
from signal_ext.settings import Settings

NOT_BOT_API = "Parsing the server response"  # python-telegram-bot's words for an answer that is not Bot API JSON


@click.group("bot")
def bot_group() -> None:
    """Чат-боты: справочник ботов и таблица их текстов."""


@bot_group.command("add")
@click.argument("name")
@click.option("--token", default=None, help="Токен от @BotFather (без токена бот работает на встроенном эмуляторе).")
@click.option("--system", "is_system", is_flag=True, help="Системный бот: меню задач (может быть только один).")
@click.option("--description", default="", help="Описание: бот сообщает его на /start.")
@click.option("--unknown-answer", default="", help="Ответ на неизвестный запрос.")
@click.option("--allow-code", is_flag=True, help="Разрешить выполнять программный код.")
@json_option
def add(
    name: str,
    token: str | None,
    is_system: bool,
    description: str,
    unknown_answer: str,
    allow_code: bool,
    as_json: bool,
) -> None:
    """Добавить чат-бота NAME (имя — для команд и привязки чатов)."""
    data = BotCreate(
        name=name,
        token=token,
        is_system=is_system,
        description=description,
        unknown_answer=unknown_answer,
        allow_code=allow_code,
    )
    with writing() as session:
        bot = bot_public(session, add_bot(session, data))
    emulator = "" if bot.has_token else "; без токена — работает на встроенном эмуляторе"
    emit(bot, as_json, lambda: f"Добавлен чат-бот «{bot.name}» (id {bot.id}){emulator}")


@bot_group.command("list")
@json_option
def list_(as_json: bool) -> None:
    """Список чат-ботов."""
    with reading() as session:
        bots = [bot_public(session, bot) for bot in list_bots(session)]
    emit(bots, as_json, lambda: "\n".join(_line(b) for b in bots) or "Чат-ботов нет")


@bot_group.command("show")
@click.argument("bot_ref", metavar="BOT")
@json_option
def show(bot_ref: str, as_json: bool) -> None:
    """Карточка чат-бота (по id или имени)."""
    with reading() as session:
        bot = bot_public(session, find_bot(session, bot_ref))
    emit(bot, as_json, lambda: _card(bot))


@bot_group.command("update")
@click.argument("bot_ref", metavar="BOT")
@click.option("--description", default=None, help="Описание.")
@click.option("--unknown-answer", default=None, help="Ответ на неизвестный запрос (пустой — стандартный).")
@click.option("--allow-code/--no-allow-code", default=None, help="Разрешить выполнять программный код.")
@click.option("--auth/--no-auth", "auth_enabled", default=None, help="Авторизация новых пользователей.")
@click.option("--auth-request", default=None, help="Текст запроса авторизации (пустой — стандартный).")
@click.option("--token", default=None, help="Новый токен от @BotFather.")
@click.option("--no-token", is_flag=True, help="Убрать токен (бот будет работать на эмуляторе).")
def update(
    bot_ref: str,
    description: str | None,
    unknown_answer: str | None,
    allow_code: bool | None,
    auth_enabled: bool | None,
    auth_request: str | None,
    token: str | None,
    no_token: bool,
) -> None:
    """Изменить карточку чат-бота; не указанные поля не меняются."""
    if token is not None and no_token:
        raise ProcessError("Укажите либо --token, либо --no-token")
    with writing() as session:
        bot = find_bot(session, bot_ref)
        update_bot(
            session,
            bot,
            description=description,
            unknown_answer=unknown_answer,
            allow_code=allow_code,
            auth_enabled=auth_enabled,
            auth_request_text=auth_request,
        )
        if token is not None or no_token:
            set_token(session, bot, token)
    click.echo(f"Чат-бот «{bot.name}» изменён")


@bot_group.command("check")
@click.argument("bot_ref", metavar="BOT")
def check(bot_ref: str) -> None:
    """Спросить Telegram (getMe), чей это токен: напечатать @username бота и запомнить его в карточке."""
    settings = current_app().settings
    with reading() as session:
        bot = find_bot(session, bot_ref)
        bot_id, name, is_system, token = bot.id, bot.name, bot.is_system, check_token(bot, settings)
    where = f"signal-ext bot update {name} --token …"
    if token is None:
        where += " или SIGNAL_TELEGRAM_TOKEN" if is_system else ""
        raise ProcessError(
            f"у бота {name} нет токена: он работает на встроенном эмуляторе, проверять в Telegram нечего "
            f"(токен задаёт {where})"
        )
    if token != bot.token:
        where = "SIGNAL_TELEGRAM_TOKEN"
    me = get_me(token, settings.telegram_api_url, name, where)
    with writing() as session:
        record_username(session, find_bot(session, str(bot_id)), me.username)
    shown = f"@{me.username}" if me.username else "без username"
    click.echo(f"Бот {name}: {shown} (id {me.id})")


def check_token(bot: Bot, settings: Settings) -> str | None:
    """The token ``bot check`` asks about: the system bot's is SIGNAL_TELEGRAM_TOKEN when set (the token
    ``signal-ext run`` gives it), else its record's; any other bot's is its record's. None: no token."""
    if bot.is_system and settings.telegram_token is not None:
        from_env = settings.telegram_token.get_secret_value().strip()
        if from_env:
            return from_env
    return bot.token


@contextmanager
def _quiet(*names: str) -> Iterator[None]:
    """Silences the named loggers for the block: their records may quote the request URL, which holds the token."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def get_me(token: str, api_url: str, name: str, where: str) -> telegram.User:
    """Telegram's ``getMe`` for ``token`` at ``api_url``; a refusal or a network failure is a
    :class:`ProcessError` naming the bot ``name`` (and ``where`` its token is set) and never the token."""
    base = api_url.rstrip("/")
    register_secrets(token)  # SIGNAL_TELEGRAM_TOKEN or the record's: masked in whatever the server answers

    def hide(text: str) -> str:
        return " ".join(redact(text).split())

    async def ask() -> telegram.User:
        async with telegram.Bot(token, base_url=f"{base}/bot") as client:  # entering calls getMe and keeps its User
            return client.bot

    try:
        with _quiet("telegram", "httpx", "httpcore"):
            return asyncio.run(ask())
    except InvalidToken as error:
        # ``Bot.initialize`` re-raises getMe's InvalidToken with the token in its words; the server's are the cause
        answer = error.__cause__.message if isinstance(error.__cause__, TelegramError) else error.message
        if NOT_BOT_API in answer:  # a 401/404 whose body is not JSON: something else answers at api_url
            raise ProcessError(f"Нет связи с {base}: по этому адресу отвечает не Telegram Bot API") from None
        raise ProcessError(
            f"Telegram не принял токен бота {name}: проверьте токен у @BotFather (токен задаёт {where})"
        ) from None
    except TimedOut:
        raise ProcessError(f"Нет связи с {base}: Telegram не ответил вовремя") from None
    except NetworkError as error:
        raise ProcessError(f"Нет связи с {base}: {hide(error.message)}") from None
    except TelegramError as error:
        raise ProcessError(f"Telegram ответил на getMe бота {name} ошибкой: {hide(error.message)}") from None


@bot_group.command("texts")
@click.argument("bot_ref", metavar="BOT")
@json_option
def texts(bot_ref: str, as_json: bool) -> None:
    """Таблица текстов чат-бота: каждый ключ, текущий текст (* — изменён для этого бота) и назначение."""
    with reading() as session:
        entries = texts_of(session, find_bot(session, bot_ref)).entries()
    emit(entries, as_json, lambda: "\n".join(_text_block(entry) for entry in entries))


@bot_group.command("text-set")
@click.argument("bot_ref", metavar="BOT")
@click.argument("key")
@click.argument("value")
def text_set(bot_ref: str, key: str, value: str) -> None:
    """Задать боту свой текст KEY (VALUE «-» — прочитать текст из stdin)."""
    if value == "-":
        value = sys.stdin.read().rstrip("\n")
    with writing() as session:
        bot = find_bot(session, bot_ref)
        set_text(session, bot, key, value)
    click.echo(f"Текст «{key}» чат-бота «{bot.name}» изменён")


@bot_group.command("text-reset")
@click.argument("bot_ref", metavar="BOT")
@click.argument("key")
def text_reset(bot_ref: str, key: str) -> None:
    """Вернуть тексту KEY стандартное значение."""
    spec_of(key)
    with writing() as session:
        bot = find_bot(session, bot_ref)
        changed = reset_text(session, bot, key)
    if changed:
        click.echo(f"Текст «{key}» чат-бота «{bot.name}» возвращён к стандартному")
    else:
        click.echo(f"Текст «{key}» чат-бота «{bot.name}» и так стандартный")


def _token_label(bot: BotPublic) -> str:
    return f"токен {bot.token_hint}" if bot.has_token else "без токена: эмулятор"


def _stopped(bot: BotPublic) -> str:
    """«остановлен: токен отклонён Telegram (401) в 02.12 10:15», or empty when no trouble is known."""
    if bot.stopped is None or bot.stopped_at is None:
        return ""
    return f"остановлен: {describe(bot.stopped, bot.stopped_at, current_app().settings.zone)}"


def _line(bot: BotPublic) -> str:
    marks = [_token_label(bot)]
    if bot.is_system:
        marks.insert(0, "системный")
    if bot.username:
        marks.append(f"@{bot.username}")
    if bot.stopped:
        marks.append(_stopped(bot))
    return f"{bot.id:>4}  {bot.name}  ({', '.join(marks)})"


def _yes(flag: bool) -> str:
    return "да" if flag else "нет"


def _card(bot: BotPublic) -> str:
    rows = [
        ("id", str(bot.id)),
        ("Имя", bot.name),
        ("Системный", _yes(bot.is_system)),
        ("Токен", bot.token_hint or "нет (работает на встроенном эмуляторе)"),
        ("Username", f"@{bot.username}" if bot.username else ""),
        ("Состояние", _stopped(bot)),
        ("Описание", bot.description),
        ("Ответ на неизвестный запрос", bot.unknown_answer or "стандартный"),
        ("Разрешить выполнять программный код", _yes(bot.allow_code)),
        ("Авторизация", _yes(bot.auth_enabled)),
        ("Запрос авторизации", bot.auth_request_text or "стандартный"),
        ("Изменённых текстов", str(bot.overridden_texts)),
        ("Создан", local_time(bot.created_at)),
    ]
    return "\n".join(f"{label}: {value}" for label, value in rows if value)


def _text_block(entry: TextEntry) -> str:
    mark = "*" if entry.overridden else " "
    kind = " [кнопка]" if entry.button else ""
    places = f"  {{{'}, {'.join(entry.placeholders)}}}" if entry.placeholders else ""
    lines = [f"{mark} {entry.key}{kind} — {entry.description}{places}"]
    lines += [f"    {line}" for line in entry.value.splitlines() or [""]]
    if entry.invalid:
        lines.append(f"    ! своё значение не используется: {entry.invalid}")
    return "\n".join(lines)


bot_group.add_command(bot_auth_command)
