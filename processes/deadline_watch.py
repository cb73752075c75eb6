"""Deadline events: «deadline approaching» (once per task and lead time) and «overdue» (once per task)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from processes import events
from processes.models import TaskStatus
from processes.rows import TASKS

MARKS: Table = SQLModel.metadata.tables["deadline_mark"]
OVERDUE, APPROACHING = "overdue", "approaching"


def due_deadline_events(db: Connection, now: datetime, leads: Sequence[int]) -> list[events.TaskEvent]:
    """The deadline events due at ``now`` that were not raised before, their marks written (the caller's
    transaction; a concurrent scan that wrote the same mark makes this one fail on the unique key)."""
    horizon = now + timedelta(minutes=max(leads, default=0))
    statement = select(TASKS).where(
        TASKS.c.status == TaskStatus.ACTIVE.value, TASKS.c.deadline.is_not(None), TASKS.c.deadline <= horizon
    )
    tasks = [dict(row) for row in db.execute(statement).mappings()]
    if not tasks:
        return []
    marked = {
        (row.task_id, row.kind, row.lead_minutes)
        for row in db.execute(select(MARKS).where(MARKS.c.task_id.in_([t["id"] for t in tasks])))
    }
    raised: list[events.TaskEvent] = []
    new_marks: list[dict[str, object]] = []
    for task in tasks:
        for kind, lead in _due_kinds(task["deadline"], now, leads):
            if (task["id"], kind, lead) in marked:
                continue
            new_marks.append({"task_id": task["id"], "kind": kind, "lead_minutes": lead, "created_at": now})
            raised.append(_event(task, kind, lead))
    if new_marks:
        db.execute(insert(MARKS), new_marks)
    return raised


def _due_kinds(deadline: datetime, now: datetime, leads: Sequence[int]) -> list[tuple[str, int]]:
    if deadline <= now:
        return [(OVERDUE, 0)]
    return [(APPROACHING, lead) for lead in sorted(set(leads)) if deadline - timedelta(minutes=lead) <= now]


def _event(task: dict[str, object], kind: str, lead: int) -> events.TaskEvent:
    ids = {
        "task_id": task["id"],
        "process_id": task["process_id"],
        "performer_id": task["performer_id"],
        "author_id": task["author_id"],
    }
    if kind == OVERDUE:
        return events.TaskOverdue(**ids)  # type: ignore[arg-type]
    return events.TaskDeadlineApproaching(**ids, lead_minutes=lead)  # type: ignore[arg-type]
