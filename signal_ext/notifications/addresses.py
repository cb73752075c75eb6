"""Where a person is reached on each channel."""

from __future__ import annotations

from sqlalchemy import Table, select
from sqlmodel import Session, SQLModel

from processes.models import Person
from signal_ext.notifications.models import SYSTEM_BOT

TELEGRAM_CHATS: Table = SQLModel.metadata.tables["telegram_chat"]


def address_of(session: Session, person: Person, channel: str, bot: str = SYSTEM_BOT) -> str | None:
    """The person's address on ``channel`` (chat id, e-mail, or the person id for the inbox), if known.

    No Telegram address for a blocked person or a revoked chat (the person was deleted): such a chat may not use
    the bot, so nothing is sent there."""
    if channel == "inbox":
        return str(person.id)
    if channel == "email":
        return person.email or None
    if person.blocked:
        return None
    statement = select(TELEGRAM_CHATS.c.chat_id).where(
        TELEGRAM_CHATS.c.person_id == person.id,
        TELEGRAM_CHATS.c.bot == bot,
        TELEGRAM_CHATS.c.revoked_at.is_(None),
    )
    chat_id = session.connection().execute(statement).scalar_one_or_none()
    return str(chat_id) if chat_id is not None else None
