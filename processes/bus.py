"""The event bus: stores domain events in the log and hands them to subscribers, in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlmodel import Session, SQLModel

from processes.events import DomainEvent
from processes.models import EventRecord
from processes.timeutil import utcnow

Subscriber = Callable[[Session, Sequence[DomainEvent]], None]
"""Receives every batch of events one unit of work raised, in order, inside its transaction."""
EVENT_LOG: Table = SQLModel.metadata.tables[str(EventRecord.__tablename__)]
_INSERT_EVENTS = insert(EVENT_LOG)


class EventBus:
    """In-process publish/subscribe; a subscriber's writes commit or roll back with the events themselves."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        """Registers ``subscriber`` to receive every event published after this call."""
        self._subscribers.append(subscriber)

    def publish(self, session: Session, events: Sequence[DomainEvent], occurred_at: datetime | None = None) -> None:
        """Writes ``events`` to the event log in one statement, then hands them to every subscriber, all within
        the caller's transaction."""
        if not events:
            return
        session.flush()
        moment = occurred_at or utcnow()
        session.connection().execute(_INSERT_EVENTS, [_log_row(event, moment) for event in events])
        for subscriber in self._subscribers:
            subscriber(session, events)


def _log_row(event: DomainEvent, moment: datetime) -> dict[str, Any]:
    payload = event.payload()
    return {
        "uid": event.uid,
        "name": event.name,
        "process_id": payload.get("process_id"),
        "task_id": payload.get("task_id"),
        "payload": payload,
        "occurred_at": moment,
    }
