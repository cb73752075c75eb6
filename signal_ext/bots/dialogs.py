"""Dialog state of a chat, stored in the database so that a restart resumes the dialog where it was."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, bindparam, delete, insert, select, update
from sqlmodel import Field, Session, SQLModel

from processes.timeutil import UTCDateTime, utcnow


class DialogState(SQLModel, table=True):
    """What a chat's next message answers (e.g. the comment of task 5), and what was gathered so far."""

    __tablename__ = "dialog_state"
    __table_args__ = (UniqueConstraint("bot", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    bot: str = Field(max_length=64)
    chat_id: str = Field(max_length=32)
    step: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


_TABLE = DialogState.__table__  # type: ignore[attr-defined]
_OF_CHAT = (_TABLE.c.bot == bindparam("of_bot")) & (_TABLE.c.chat_id == bindparam("of_chat"))
_READ = select(_TABLE).where(_OF_CHAT)
_UPDATE = (
    update(_TABLE)
    .where(_OF_CHAT)
    .values(step=bindparam("to_step"), data=bindparam("to_data"), updated_at=bindparam("at"))
)
_DELETE = delete(_TABLE).where(_OF_CHAT)
"""Built once, in SQLAlchemy Core: every update of every chat reads its step, and many move it."""


def current_step(session: Session, bot: str, chat_id: str) -> DialogState | None:
    """The open dialog step of the chat, if any (a detached copy: change it with :func:`set_step`)."""
    row = session.connection().execute(_READ, {"of_bot": bot, "of_chat": chat_id}).first()
    return None if row is None else DialogState(**row._mapping)


def set_step(session: Session, bot: str, chat_id: str, step: str, data: dict[str, Any]) -> None:
    """Opens (or moves) the chat's dialog to ``step`` with ``data``; the caller commits."""
    now, connection = utcnow(), session.connection()
    moved = connection.execute(
        _UPDATE, {"of_bot": bot, "of_chat": chat_id, "to_step": step, "to_data": data, "at": now}
    )
    if moved.rowcount == 0:
        row = {"bot": bot, "chat_id": chat_id, "step": step, "data": dict(data), "updated_at": now}
        connection.execute(insert(_TABLE), row)


def end_dialog(session: Session, bot: str, chat_id: str) -> None:
    """Closes the chat's dialog; the caller commits."""
    session.connection().execute(_DELETE, {"of_bot": bot, "of_chat": chat_id})
