"""A bot as the authorization sees it: found by the name it runs under, its chat and outbox names, its chain
settings («Авторизация», request text, algorithm, scenario, responsible person, kind)."""

from __future__ import annotations

from sqlmodel import Session

from algorithms.directory import find_algorithm
from auth.decision import parse_kind
from processes.errors import NotFound, ProcessError
from processes.models import Person
from processes.persons import find_person
from processes.scenarios import find_scenario
from signal_ext.bots.directory import find_bot, system_bot, update_bot
from signal_ext.bots.models import Bot
from signal_ext.notifications.models import SYSTEM_BOT

UNSET = ""
"""Passed for a chain setting, removes it (None keeps it)."""


def runtime_bot(session: Session, name: str) -> Bot:
    """The directory record of the bot running as ``name``: ``system`` is the system bot, whatever its name."""
    if name == SYSTEM_BOT:
        bot = system_bot(session)
        if bot is None:
            raise NotFound("чат-бот", SYSTEM_BOT)
        return bot
    return find_bot(session, name)


def chat_bot_name(bot: Bot) -> str:
    """The bot's name in ``telegram_chat.bot``: ``system`` for the system bot, else its own name."""
    return SYSTEM_BOT if bot.is_system else bot.name


def outbox_bot_name(bot: Bot) -> str | None:
    """The bot's name in ``outbox.bot``: None for the system bot, else its own name."""
    return None if bot.is_system else bot.name


def is_available(person: Person | None) -> bool:
    """Whether ``person`` may decide requests or be registered: exists, active, not blocked."""
    return person is not None and person.active and not person.blocked


def set_auth(
    session: Session,
    bot: Bot,
    *,
    enabled: bool | None = None,
    request_text: str | None = None,
    algorithm: str | None = None,
    scenario: str | None = None,
    responsible: str | int | None = None,
    kind: str | None = None,
) -> Bot:
    """Changes the bot's chain settings (None = keep, ``""`` = remove); each named algorithm, scenario and
    person must exist (the scenario is stored by its name, the person by id). The caller commits."""
    if algorithm is not None:
        bot.auth_algorithm = find_algorithm(session, algorithm).name if algorithm.strip() else None
    if scenario is not None:
        bot.auth_scenario = find_scenario(session, scenario).name if scenario.strip() else None
    if responsible is not None:
        bot.auth_responsible_id = _responsible(session, responsible)
    if kind is not None:
        bot.auth_kind = parse_kind(kind).value
    return update_bot(session, bot, auth_enabled=enabled, auth_request_text=request_text)


def _responsible(session: Session, ref: str | int) -> int | None:
    if not str(ref).strip():
        return None
    person = find_person(session, ref)
    if not is_available(person):
        raise ProcessError(f"«{person.full_name}» неактивен или заблокирован и не может разбирать заявки")
    return person.id
