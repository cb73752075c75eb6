"""Domain events of the core: one frozen dataclass per transition."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class DomainEvent:
    """Base of every event; ``name`` is the stable identifier stored in the event log."""

    name: ClassVar[str] = "event"
    uid: str = field(default_factory=lambda: uuid.uuid4().hex, kw_only=True)
    """Unique per event: the idempotency of everything the event causes rests on it."""

    def payload(self) -> dict[str, Any]:
        """The event's fields as a JSON-ready dict (events hold only ids and strings, so a shallow copy will do)."""
        return dict(vars(self))


@dataclass(frozen=True)
class ProcessEvent(DomainEvent):
    """An event about one process."""

    process_id: int
    scenario_id: int
    author_id: int


@dataclass(frozen=True)
class ProcessCreated(ProcessEvent):
    name: ClassVar[str] = "process.created"


@dataclass(frozen=True)
class ProcessStarted(ProcessEvent):
    name: ClassVar[str] = "process.started"


@dataclass(frozen=True)
class ProcessCompleted(ProcessEvent):
    name: ClassVar[str] = "process.completed"


@dataclass(frozen=True)
class ProcessCancelled(ProcessEvent):
    name: ClassVar[str] = "process.cancelled"
    reason: str = ""


@dataclass(frozen=True)
class TaskEvent(DomainEvent):
    """An event about one task; ``process_id`` is None for a standalone task."""

    task_id: int
    process_id: int | None
    performer_id: int
    author_id: int


@dataclass(frozen=True)
class TaskCreated(TaskEvent):
    name: ClassVar[str] = "task.created"


@dataclass(frozen=True)
class TaskCompleted(TaskEvent):
    name: ClassVar[str] = "task.completed"
    comment: str = ""


@dataclass(frozen=True)
class TaskCancelled(TaskEvent):
    name: ClassVar[str] = "task.cancelled"


@dataclass(frozen=True)
class TaskAcknowledged(TaskEvent):
    name: ClassVar[str] = "task.acknowledged"


@dataclass(frozen=True)
class TaskDeadlineApproaching(TaskEvent):
    name: ClassVar[str] = "task.deadline_approaching"
    lead_minutes: int = 0


@dataclass(frozen=True)
class TaskOverdue(TaskEvent):
    name: ClassVar[str] = "task.overdue"
