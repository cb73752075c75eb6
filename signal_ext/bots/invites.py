"""One-time invite links: ``https://t.me/<bot>?start=<token>`` links the chat that opens it to a person."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Field, Session, SQLModel, col

from processes.errors import InvalidState
from processes.models import Person
from processes.timeutil import UTCDateTime, utcnow
from signal_ext.notifications.chats import link_chat


class Invite(SQLModel, table=True):
    """A one-time token that links the first chat which presents it."""

    __tablename__ = "invite"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    bot: str = Field(max_length=64)
    person_id: int = Field(foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_chat: str | None = Field(default=None, max_length=32)


def create_invite(session: Session, person: Person, bot: str) -> Invite:
    """A new one-time invite for ``person`` to ``bot``; the caller commits."""
    invite = Invite(token=secrets.token_urlsafe(16), bot=bot, person_id=person.id or 0)
    session.add(invite)
    session.flush()
    return invite


def invite_link(username: str | None, token: str) -> str:
    """The deep link a person opens in Telegram."""
    return f"https://t.me/{username or 'signal_bot'}?start={token}"


def redeem_invite(session: Session, bot: str, token: str, chat_id: str) -> Person:
    """Links ``chat_id`` to the invite's person, once; a used or unknown token is refused. The caller commits."""
    now = utcnow()
    claimed = session.execute(
        update(Invite)
        .where(col(Invite.token) == token, col(Invite.bot) == bot, col(Invite.used_at).is_(None))
        .values(used_at=now, used_by_chat=chat_id)
        .returning(col(Invite.person_id))
    ).scalar_one_or_none()
    if claimed is None:
        raise InvalidState("Ссылка-приглашение недействительна или уже использована")
    person = session.get(Person, claimed)
    if person is None or not person.active:
        raise InvalidState("Ссылка-приглашение недействительна или уже использована")
    link_chat(session, person, chat_id, bot)
    return person
