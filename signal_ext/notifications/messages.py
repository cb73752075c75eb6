"""Manual and delayed messages, the message list, the inbox and its read marks."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from processes.errors import InvalidState, NotFound, ProcessError
from processes.models import Person
from processes.rule_spec import CHANNELS
from processes.timeutil import utcnow
from signal_ext.lifecycle.pause import deferred_send_at
from signal_ext.notifications.addresses import address_of
from signal_ext.notifications.models import MessageStatus, OutboxMessage, OutboxPublic

CANCELLABLE = (MessageStatus.SCHEDULED, MessageStatus.PENDING)


def queue_message(
    session: Session, person: Person, channel: str, text: str, subject: str = "", send_at: datetime | None = None
) -> OutboxMessage:
    """Stores a manual message for ``person``; delayed when ``send_at`` is in the future. The caller commits."""
    if channel not in CHANNELS:
        raise ProcessError(f"Неизвестный канал «{channel}»: {', '.join(CHANNELS)}")
    if not text.strip():
        raise ProcessError("Текст сообщения пуст")
    now = utcnow()
    send_at = max(send_at or now, deferred_send_at(person, channel, False, now))  # a manual one waits out a pause
    delayed = send_at > now
    address = address_of(session, person, channel)
    message = OutboxMessage(
        idempotency_key=f"manual:{uuid.uuid4().hex}",
        person_id=person.id,
        channel=channel,
        address=address,
        subject=subject,
        body=text,
        manual=True,
        status=MessageStatus.SCHEDULED if delayed else MessageStatus.PENDING,
        send_at=send_at if delayed else now,
    )
    if address is None:
        message.status = MessageStatus.FAILED
        message.last_error = f"У получателя нет адреса для канала {channel}"
    session.add(message)
    session.flush()
    return message


def list_messages(session: Session, person_id: int | None = None, channel: str | None = None) -> list[OutboxPublic]:
    """Messages, newest last, with the recipient's name and the delayed mark."""
    statement = select(OutboxMessage, Person.full_name).join(Person, isouter=True).order_by(col(OutboxMessage.id))
    if person_id is not None:
        statement = statement.where(OutboxMessage.person_id == person_id)
    if channel is not None:
        statement = statement.where(OutboxMessage.channel == channel)
    return [
        OutboxPublic.model_validate(
            message,
            update={"recipient": name or "", "delayed": message.status == MessageStatus.SCHEDULED},
        )
        for message, name in session.exec(statement).all()
    ]


def cancel_message(session: Session, message_id: int) -> None:
    """Cancels a message that has not been sent yet; the caller commits."""
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.status).in_(CANCELLABLE))
        .values(status=MessageStatus.CANCELLED)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        message = session.get(OutboxMessage, message_id)
        if message is None:
            raise NotFound("сообщение", str(message_id))
        raise InvalidState(f"Сообщение {message_id} в статусе «{message.status}», отменить нельзя")


def mark_read(session: Session, message_id: int, person_id: int | None = None) -> OutboxMessage:
    """Sets the read mark of an inbox message (once); the caller commits."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.channel != "inbox" or message.status != MessageStatus.SENT:
        raise NotFound("сообщение во «Входящих»", str(message_id))
    if person_id is not None and message.person_id != person_id:
        raise InvalidState(f"Сообщение {message_id} адресовано другому человеку")
    if message.read_at is None:
        message.read_at = utcnow()
        session.add(message)
    return message
