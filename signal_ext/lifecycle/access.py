"""What one chat of one bot is now: linked to a person who may use the bot, unlinked, blocked, or revoked.

A revoked chat (its person was deleted) is told «учётная запись удалена» on its next message, once: the chat's
row is deleted by the message that tells it, so the next one finds an unlinked chat, which may be linked anew."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Table, bindparam, delete, select
from sqlmodel import Session, SQLModel

CHATS: Table = SQLModel.metadata.tables["telegram_chat"]
PERSONS: Table = SQLModel.metadata.tables["person"]


class ChatState(StrEnum):
    LINKED = "linked"  # the person may use the bot
    UNLINKED = "unlinked"  # nobody (or a deactivated person without a revoked chat)
    BLOCKED = "blocked"  # the person is blocked: every message gets the «blocked» text only
    REVOKED = "revoked"  # the person was deleted: told once, then unlinked


@dataclass(frozen=True)
class ChatAccess:
    """The chat's state, its person (when linked or blocked), its ``telegram_chat`` row, the block reason."""

    state: ChatState
    person_id: int | None = None
    chat_row: int | None = None
    reason: str = ""


UNLINKED = ChatAccess(ChatState.UNLINKED)


def access_from(
    chat_row: int | None,
    person_id: int | None,
    active: bool,
    blocked: bool,
    reason: str,
    revoked_at: datetime | None,
) -> ChatAccess:
    """The access the read columns of a chat row and its person give."""
    if chat_row is None:
        return UNLINKED
    if revoked_at is not None:
        return ChatAccess(ChatState.REVOKED, None, chat_row)
    if not active:
        return UNLINKED
    if blocked:
        return ChatAccess(ChatState.BLOCKED, person_id, chat_row, reason)
    return ChatAccess(ChatState.LINKED, person_id, chat_row)


_READ = (
    select(
        CHATS.c.id,
        CHATS.c.person_id,
        CHATS.c.revoked_at,
        PERSONS.c.active,
        PERSONS.c.blocked,
        PERSONS.c.blocked_reason,
    )
    .join(PERSONS, PERSONS.c.id == CHATS.c.person_id)
    .where(CHATS.c.bot == bindparam("bot"), CHATS.c.chat_id == bindparam("chat"))
)
_FORGET = delete(CHATS).where(CHATS.c.id == bindparam("row"), CHATS.c.revoked_at.is_not(None))
"""Built once, in SQLAlchemy Core: every update of a constructor bot reads its chat."""


def read_access(session: Session, bot: str, chat_id: str) -> ChatAccess:
    """The access of ``chat_id`` with ``bot``."""
    row = session.connection().execute(_READ, {"bot": bot, "chat": chat_id}).first()
    if row is None:
        return UNLINKED
    return access_from(row.id, row.person_id, row.active, row.blocked, row.blocked_reason, row.revoked_at)


def forget_revoked(session: Session, chat_row: int) -> bool:
    """Drops a revoked chat row; True only for the call that dropped it (that one tells the chat). Commits."""
    dropped = session.connection().execute(_FORGET, {"row": chat_row}).rowcount == 1
    session.commit()
    return dropped
