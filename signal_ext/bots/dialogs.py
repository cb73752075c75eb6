"""Dialog state of a chat, stored in the database so that a restart resumes the dialog where it was."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, bindparam
from sqlmodel import Field, Session, SQLModel, select

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


_STEP_OF_CHAT = select(DialogState).where(DialogState.bot == bindparam("bot"), DialogState.chat_id == bindparam("chat"))
"""Built once: every update of every chat asks it."""


def current_step(session: Session, bot: str, chat_id: str) -> DialogState | None:
    """The open dialog step of the chat, if any."""
    return session.exec(_STEP_OF_CHAT, params={"bot": bot, "chat": chat_id}).first()


def set_step(session: Session, bot: str, chat_id: str, step: str, data: dict[str, Any]) -> None:
    """Opens (or moves) the chat's dialog to ``step`` with ``data``; the caller commits."""
    state = current_step(session, bot, chat_id) or DialogState(bot=bot, chat_id=chat_id, step=step)
    state.step, state.data, state.updated_at = step, dict(data), utcnow()
    session.add(state)


def end_dialog(session: Session, bot: str, chat_id: str) -> None:
    """Closes the chat's dialog; the caller commits."""
    state = current_step(session, bot, chat_id)
    if state is not None:
        session.delete(state)
