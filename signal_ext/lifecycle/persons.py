"""``person block|unblock|delete``: the person's state, and what each of their chats is told (the seed's map).

* block — every live chat (of every bot) is told the «blocked» text with the reason, through the outbox; from
  then on each message of those chats gets that text and nothing else;
* unblock — told «unblocked»; the system bot's chat gets its reply menu with its next message (an outbox row
  cannot carry a reply keyboard, so a dialog step «menu_restore» remembers it);
* delete — the person is deactivated and their chats revoked, silently: each chat is told on its next message.

Messages still waiting for the person in Telegram are cancelled on block and delete: their buttons would only
be refused. Every command is idempotent: repeating it changes nothing and tells nobody again."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from processes.models import Person
from signal_ext.bots.dialogs import end_dialog, set_step
from signal_ext.bots.texts_cache import read_texts
from signal_ext.lifecycle.pause import OUTBOX, WAITING
from signal_ext.notifications.models import SYSTEM_BOT, MessageStatus, OutboxMessage, TelegramChat

MENU_RESTORE = "menu_restore"
"""The system bot's dialog step that shows the reply menu with the answer to the chat's next message."""
DELETED = "deleted"


@dataclass(frozen=True)
class Change:
    """What a lifecycle command did: whether anything changed, and how many chats were told."""

    changed: bool
    told: int = 0


def block_person(session: Session, person: Person, reason: str, now: datetime) -> Change:
    """Blocks ``person`` and tells their chats why; the caller commits."""
    session.refresh(person, with_for_update=True)  # two blocks at once: the second sees the first
    if person.blocked:
        return Change(False)
    person.blocked, person.blocked_reason = True, reason
    session.add(person)
    _cancel_waiting(session, person)
    chats = live_chats(session, person)
    for chat in chats:
        end_dialog(session, chat.bot, chat.chat_id)
        _tell(session, person, chat, "blocked", now, reason=html.escape(reason or "не указана"))
    return Change(True, len(chats))


def unblock_person(session: Session, person: Person, now: datetime) -> Change:
    """Unblocks ``person`` and tells their chats; the caller commits."""
    session.refresh(person, with_for_update=True)
    if not person.blocked:
        return Change(False)
    person.blocked, person.blocked_reason = False, ""
    session.add(person)
    chats = live_chats(session, person)
    for chat in chats:
        _tell(session, person, chat, "unblocked", now)
        if chat.bot == SYSTEM_BOT:
            set_step(session, chat.bot, chat.chat_id, MENU_RESTORE, {})
    return Change(True, len(chats))


def delete_person(session: Session, person: Person, now: datetime) -> Change:
    """Deactivates ``person`` and revokes their chats without a word (each is told on its next message)."""
    session.refresh(person, with_for_update=True)
    chats = live_chats(session, person)
    if not person.active and not chats:
        return Change(False)
    person.active = False
    session.add(person)
    _cancel_waiting(session, person)
    for chat in chats:
        chat.revoked_at, chat.revoked_reason = now, DELETED
        session.add(chat)
        end_dialog(session, chat.bot, chat.chat_id)
    session.flush()
    return Change(True)


def live_chats(session: Session, person: Person) -> list[TelegramChat]:
    """The person's chats that are not revoked, of every bot, in link order."""
    statement = (
        select(TelegramChat)
        .where(TelegramChat.person_id == person.id, col(TelegramChat.revoked_at).is_(None))
        .order_by(col(TelegramChat.id))
    )
    return list(session.exec(statement))


def _tell(session: Session, person: Person, chat: TelegramChat, key: str, now: datetime, **values: str) -> None:
    text = read_texts(session, chat.bot).get(key, **values)
    session.add(
        OutboxMessage(
            idempotency_key=f"lifecycle:{person.id}:{chat.id}:{key}:{now:%Y%m%dT%H%M%S%f}",
            person_id=person.id,
            channel="telegram",
            bot=None if chat.bot == SYSTEM_BOT else chat.bot,
            address=chat.chat_id,
            body=text,
            status=MessageStatus.PENDING,
            send_at=now,
            created_at=now,
        )
    )


def _cancel_waiting(session: Session, person: Person) -> None:
    waiting = (OUTBOX.c.person_id == person.id) & (OUTBOX.c.channel == "telegram") & OUTBOX.c.status.in_(WAITING)
    session.connection().execute(update(OUTBOX).where(waiting).values(status=MessageStatus.CANCELLED))
