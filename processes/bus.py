"""The event bus: stores each domain event in the log and hands it to subscribers, in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from processes.events import DomainEvent
from processes.models import EventRecord

Subscriber = Callable[[Session, DomainEvent], None]


class EventBus:
    """In-process publish/subscribe; a subscriber's writes commit or roll back with the event itself."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        """Registers ``subscriber`` to receive every event published after this call."""
        self._subscribers.append(subscriber)

    def publish(self, session: Session, event: DomainEvent) -> None:
        """Writes ``event`` to the event log and calls every subscriber within the caller's transaction."""
        payload: dict[str, Any] = event.payload()
        session.add(
            EventRecord(
                name=event.name,
                process_id=payload.get("process_id"),
                task_id=payload.get("task_id"),
                payload=payload,
            )
        )
        for subscriber in self._subscribers:
            subscriber(session, event)
