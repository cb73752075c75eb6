"""Linking a person to a Telegram chat of a bot."""

from __future__ import annotations

from sqlmodel import Session, select

from processes.errors import InvalidState
from processes.models import Person
from signal_ext.notifications.models import SYSTEM_BOT, TelegramChat


def link_chat(session: Session, person: Person, chat_id: str, bot: str = SYSTEM_BOT) -> TelegramChat:
    """Makes ``chat_id`` the person's chat with ``bot`` (replacing an earlier one); refuses a chat that is
    already another person's — unless that link was revoked (its person deleted): a revoked link is free. The
    caller commits."""
    taken = session.exec(select(TelegramChat).where(TelegramChat.bot == bot, TelegramChat.chat_id == chat_id)).first()
    if taken is not None and taken.person_id != person.id and taken.revoked_at is not None:
        session.delete(taken)
        session.flush()
    elif taken is not None and taken.person_id != person.id:
        owner = session.get(Person, taken.person_id)
        raise InvalidState(f"Чат {chat_id} уже связан с «{owner.full_name if owner else taken.person_id}»")
    link = session.exec(
        select(TelegramChat).where(TelegramChat.bot == bot, TelegramChat.person_id == person.id)
    ).first()
    link = link or TelegramChat(bot=bot, person_id=person.id or 0, chat_id=chat_id)
    link.chat_id, link.revoked_at, link.revoked_reason = chat_id, None, ""
    session.add(link)
    session.flush()
    return link
