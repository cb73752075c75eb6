"""The bots directory («Чат-боты»): adding bots, finding them, editing their card and their texts table.

Every function works in the caller's session and leaves the commit to it; a refused change raises
:class:`~processes.errors.ProcessError` (a Russian message) before anything is written. No message names a token.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from processes.errors import NotFound, ProcessError
from processes.ids import record_id
from processes.timeutil import utcnow
from signal_ext.bots.models import Bot, BotCreate, BotPublic, BotText
from signal_ext.bots.status import status_of
from signal_ext.bots.texts import DEFAULT_TEXTS, BotTexts, spec_of, validate_override

KIND_LABEL = "чат-бот"
NAME_PATTERN = re.compile(r"[\w.-]{1,64}")
TOKEN_PATTERN = re.compile(r"\d+:[\w-]{20,}", re.ASCII)
TOKEN_EXAMPLE = "123456789:AAF…"


def add_bot(session: Session, data: BotCreate) -> Bot:
    """Adds a bot: a free name of 1–64 letters, digits, ``_ . -`` (not digits only, which would read as an id),
    a token in @BotFather's form or none, at most one system bot; card texts valid as templates."""
    name = data.name.strip()
    _check_name(name)
    taken = _bot_named(session, name)
    if taken is not None:
        raise ProcessError(f"Имя «{name}» уже занято чат-ботом {taken.id}; выберите другое")
    token = _check_token(session, data.token, None)
    if data.is_system:
        _check_no_other_system(session, None)
    _check_card_texts(data.unknown_answer, data.auth_request_text)
    bot = Bot.model_validate(data.model_dump() | {"name": name, "token": token})
    _flush(session, bot)
    return bot


def find_bot(session: Session, ref: str | int) -> Bot:
    """The bot ``ref`` names: its id, or its name (exact, then ignoring case)."""
    text = str(ref).strip()
    number = record_id(text)
    if number is not None:
        bot = session.get(Bot, number)
        if bot is not None:
            return bot
    bot = _bot_named(session, text)
    if bot is None:
        raise NotFound(KIND_LABEL, text)
    return bot


def list_bots(session: Session) -> list[Bot]:
    """All bots, the oldest first."""
    return list(session.exec(select(Bot).order_by(col(Bot.id))))


def system_bot(session: Session) -> Bot | None:
    """The system bot (the one with the task menu), if one is marked."""
    return session.exec(select(Bot).where(col(Bot.is_system))).first()


def update_bot(
    session: Session,
    bot: Bot,
    *,
    description: str | None = None,
    unknown_answer: str | None = None,
    allow_code: bool | None = None,
    auth_enabled: bool | None = None,
    auth_request_text: str | None = None,
) -> Bot:
    """Changes the given card fields (None = keep); an empty answer or request text means the table's default."""
    _check_card_texts(unknown_answer or "", auth_request_text or "")
    if description is not None:
        bot.description = description
    if unknown_answer is not None:
        bot.unknown_answer = unknown_answer
    if allow_code is not None:
        bot.allow_code = allow_code
    if auth_enabled is not None:
        bot.auth_enabled = auth_enabled
    if auth_request_text is not None:
        bot.auth_request_text = auth_request_text
    _flush(session, bot)
    return bot


def set_token(session: Session, bot: Bot, token: str | None) -> Bot:
    """Gives ``bot`` a token (checked like in :func:`add_bot`), or takes it away (None: the emulator then).
    A new token forgets the ``username`` a getMe check filled in."""
    checked = _check_token(session, token, bot.id)
    if checked != bot.token:
        bot.token = checked
        bot.username = None
    _flush(session, bot)
    return bot


def record_username(session: Session, bot: Bot, username: str | None) -> Bot:
    """Remembers the ``@username`` Telegram's ``getMe`` gave for the bot's token (the card and invite links show
    it); :func:`set_token` forgets it again when the token changes."""
    bot.username = username
    _flush(session, bot)
    return bot


def set_text(session: Session, bot: Bot, key: str, value: str) -> None:
    """Makes ``value`` the bot's text for ``key`` after :func:`validate_override`; card texts («Ответ на
    неизвестный запрос», «Запрос авторизации») are stored in their card field."""
    validate_override(key, value)
    spec = spec_of(key)
    if spec.bot_field is not None:
        setattr(bot, spec.bot_field, value)
        _flush(session, bot)
        return
    row = _text_row(session, bot, key)
    if row is None:
        row = BotText(bot_id=_id(bot), key=key, value=value)
    row.value = value
    row.updated_at = utcnow()
    _flush(session, row)


def reset_text(session: Session, bot: Bot, key: str) -> bool:
    """Returns ``key`` to the default text; False when it was the default already."""
    spec = spec_of(key)
    if spec.bot_field is not None:
        if not getattr(bot, spec.bot_field):
            return False
        setattr(bot, spec.bot_field, "")
        _flush(session, bot)
        return True
    row = _text_row(session, bot, key)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def overrides_of(session: Session, bot: Bot) -> dict[str, str]:
    """The bot's own texts by key: its ``bot_text`` rows and its non-empty card texts."""
    rows = session.exec(select(BotText).where(BotText.bot_id == _id(bot)))
    overrides = {row.key: row.value for row in rows}
    for spec in DEFAULT_TEXTS.values():
        if spec.bot_field is not None and getattr(bot, spec.bot_field):
            overrides[spec.key] = getattr(bot, spec.bot_field)
    return overrides


def texts_of(session: Session, bot: Bot) -> BotTexts:
    """The texts ``bot`` says."""
    return BotTexts(overrides_of(session, bot))


def mask_token(token: str | None) -> str | None:
    """A token shown without its secret: ``123…:•••``."""
    if not token:
        return None
    return f"{token.split(':', 1)[0][:3]}…:•••"


def bot_public(session: Session, bot: Bot) -> BotPublic:
    """The bot as it may be shown: no token; why the service stopped it, if it did."""
    status = status_of(session, bot)
    return BotPublic.model_validate(
        bot.model_dump(exclude={"token"})
        | {
            "has_token": bool(bot.token),
            "token_hint": mask_token(bot.token),
            "overridden_texts": len(texts_of(session, bot).overrides),
            "stopped": status.state if status is not None else None,
            "stopped_at": status.since if status is not None else None,
        }
    )


def _check_name(name: str) -> None:
    if not name:
        raise ProcessError("Имя чат-бота не может быть пустым")
    if len(name) > 64:
        raise ProcessError(f"Имя чат-бота не длиннее 64 символов (сейчас {len(name)})")
    if not NAME_PATTERN.fullmatch(name):
        raise ProcessError(f"Имя чат-бота «{name}»: допустимы буквы, цифры, «_», «.» и «-», без пробелов")
    if name.isdigit():
        raise ProcessError(f"Имя чат-бота «{name}» не может состоять из одних цифр: так пишется номер бота")


def _check_token(session: Session, token: str | None, bot_id: int | None) -> str | None:
    if token is None:
        return None
    token = token.strip()
    if not TOKEN_PATTERN.fullmatch(token):
        raise ProcessError(f"Токен не похож на токен Telegram: ожидается {TOKEN_EXAMPLE} от @BotFather")
    owner = session.exec(select(Bot).where(Bot.token == token)).first()
    if owner is not None and owner.id != bot_id:
        raise ProcessError(f"Этот токен уже у чат-бота «{owner.name}»: у двух ботов не может быть одного токена")
    return token


def _check_no_other_system(session: Session, bot_id: int | None) -> None:
    current = system_bot(session)
    if current is not None and current.id != bot_id:
        raise ProcessError(f"Системный чат-бот уже есть: «{current.name}»; системный бот может быть только один")


def _check_card_texts(unknown_answer: str, auth_request_text: str) -> None:
    if unknown_answer:
        validate_override("unknown_request", unknown_answer)
    if auth_request_text:
        validate_override("auth_request", auth_request_text)


def _bot_named(session: Session, name: str) -> Bot | None:
    exact = session.exec(select(Bot).where(Bot.name == name)).first()
    if exact is not None:
        return exact
    # SQLite's lower() folds ASCII only, and the directory is small: compare case-folded names here
    folded = name.casefold()
    return next((bot for bot in list_bots(session) if bot.name.casefold() == folded), None)


def _text_row(session: Session, bot: Bot, key: str) -> BotText | None:
    return session.exec(select(BotText).where(BotText.bot_id == _id(bot), BotText.key == key)).first()


def _id(bot: Bot) -> int:
    if bot.id is None:
        raise ValueError("the bot is not stored yet")
    return bot.id


def _flush(session: Session, row: Bot | BotText) -> None:
    """Writes ``row`` in a savepoint: a unique index a concurrent writer got to first is a clear refusal that
    leaves the caller's session usable."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as error:  # the database's words may quote a token: never chained, never shown
        raise ProcessError(f"Не сохранено: такое значение уже есть ({_what(error)}); повторите команду") from None


def _what(error: IntegrityError) -> str:
    reason = str(error.orig).lower()
    for column, label in (("name", "имя"), ("token", "токен"), ("system", "системный"), ("key", "текст")):
        if column in reason:
            return label
    return "ограничение базы"
