"""The core's use cases: start, advance, complete and cancel; each one transaction that emits events."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from processes import events
from processes.bus import EventBus
from processes.deadline_watch import due_deadline_events
from processes.deadlines import MAX_YEARS, latest_deadline
from processes.errors import AlreadyCompleted, InvalidState, ProcessError
from processes.fields import validate_data
from processes.models import Attachment, Process, ProcessStatus, Task, TaskCreate, TaskStatus
from processes.performers import choose_performer
from processes.persons import find_person
from processes.plans import ScenarioPlan, ScenarioPlans, StepPlan
from processes.rows import (
    PROCESSES,
    TASKS,
    Row,
    insert_model,
    insert_row,
    load_process,
    load_task,
    load_task_and_process,
    update_row,
)
from processes.scenarios import find_scenario
from processes.timeutil import utcnow

ProcessEventT = TypeVar("ProcessEventT", bound=events.ProcessEvent)
TaskEventT = TypeVar("TaskEventT", bound=events.TaskEvent)


@dataclass(frozen=True)
class NewAttachment:
    """A file handed over with a new process."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Completion:
    """What completing a task did: the next step's task, if any, and whether the process is now finished."""

    task_id: int
    process_id: int | None
    next_task_id: int | None
    process_completed: bool


@dataclass
class _Unit:
    """One transaction and the events it raised, published together just before it commits."""

    session: Session
    now: datetime
    raised: list[events.DomainEvent] = field(default_factory=list)

    _connection: Connection | None = None

    @property
    def db(self) -> Connection:
        """The transaction's connection, for the Core statements of the hot path."""
        if self._connection is None:
            self._connection = self.session.connection()
        return self._connection

    def emit(self, event: events.DomainEvent) -> None:
        self.raised.append(event)


class ProcessService:
    """Runs the business-process use cases, one unit of work each, publishing events to ``bus``."""

    def __init__(
        self, open_session: Callable[[], Session], bus: EventBus, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._open_session = open_session
        self._bus = bus
        self._clock = clock
        self._plans = ScenarioPlans()

    @contextmanager
    def _unit_of_work(self) -> Iterator[_Unit]:
        with self._open_session() as session:
            unit = _Unit(session, self._clock())
            try:
                yield unit
                self._bus.publish(session, unit.raised, unit.now)
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def start_process(
        self,
        scenario_ref: str | int,
        author_ref: str | int,
        description: str = "",
        attachments: Sequence[NewAttachment] = (),
    ) -> Process:
        """Creates a process of a scenario; starts it at once unless the scenario has manual start."""
        with self._unit_of_work() as unit:
            scenario = find_scenario(unit.session, scenario_ref)
            author = find_person(unit.session, author_ref)
            plan = self._plans.get(unit.session, scenario.id or 0)
            if attachments and not plan.attachments_allowed:
                raise ProcessError(f"Сценарий «{plan.name}» не допускает вложений")
            process = Process(scenario_id=plan.id, author_id=author.id or 0, description=description)
            process.created_at = unit.now
            if not plan.manual_start:
                _mark_started(process, plan, unit.now)
            process.id = insert_model(unit.db, PROCESSES, process)
            for attachment in attachments:
                unit.session.add(_attachment_row(process, attachment))
            unit.emit(_process_event(events.ProcessCreated, process))
            if not plan.manual_start:
                self._enter_first_step(unit, process, plan)
            return process

    def start_created(self, process_id: int) -> Process:
        """Starts a process that a manual-start scenario left in «Создан»."""
        with self._unit_of_work() as unit:
            process = Process(**load_process(unit.db, process_id, lock=True))
            if process.status != ProcessStatus.CREATED:
                raise InvalidState(f"Процесс {process_id} уже в статусе «{process.status}», запуск невозможен")
            plan = self._plans.get(unit.session, process.scenario_id)
            _mark_started(process, plan, unit.now)
            _update_process(unit.db, process_id, status=process.status, started_at=unit.now, deadline=process.deadline)
            self._enter_first_step(unit, process, plan)
            return process

    def cancel_process(self, process_id: int, reason: str = "") -> Process:
        """Interrupts a created or active process; its open tasks are cancelled."""
        with self._unit_of_work() as unit:
            process = Process(**load_process(unit.db, process_id, lock=True))
            if process.status not in (ProcessStatus.CREATED, ProcessStatus.ACTIVE):
                raise InvalidState(f"Процесс {process_id} уже в статусе «{process.status}», прервать нельзя")
            for task in _cancel_open_tasks(unit.db, process_id):
                unit.emit(_task_event(events.TaskCancelled, task))
            process.status = ProcessStatus.CANCELLED
            process.cancel_reason = reason
            process.finished_at = unit.now
            _update_process(unit.db, process_id, status=process.status, cancel_reason=reason, finished_at=unit.now)
            unit.emit(_process_event(events.ProcessCancelled, process, reason=reason))
            return process

    def create_task(self, data: TaskCreate) -> Task:
        """Creates a standalone task (no process), e.g. from «Новая задача»."""
        with self._unit_of_work() as unit:
            find_person(unit.session, data.performer_id)
            find_person(unit.session, data.author_id)
            if data.deadline is not None and data.deadline <= unit.now:
                raise ProcessError("Срок задачи уже прошёл; укажите срок в будущем")
            if data.deadline is not None and data.deadline > latest_deadline(unit.now):
                raise ProcessError(f"Срок задачи слишком далёк: не позже чем через {MAX_YEARS} лет")
            task = Task.model_validate(data.model_dump(), update={"created_at": unit.now})
            task.id = insert_model(unit.db, TASKS, task)
            unit.emit(_task_event(events.TaskCreated, task))
            return task

    def complete_task(
        self, task_id: int, comment: str = "", data: dict[str, str] | None = None, by: int | None = None
    ) -> Completion:
        """Completes an active task with its required data, then advances or completes its process.

        Of two concurrent completions exactly one wins; the other gets AlreadyCompleted."""
        with self._unit_of_work() as unit:
            task, process = load_task_and_process(unit.db, task_id)
            if task["status"] != TaskStatus.ACTIVE:
                raise AlreadyCompleted(task_id, task["status"])
            if by is not None and by != task["performer_id"]:
                raise InvalidState(f"Задача {task_id} назначена другому исполнителю")
            plan = self._plans.get(unit.session, process["scenario_id"]) if process else None
            step = plan.step(task["step_id"]) if plan else None
            values = validate_data(list(step.fields) if step else [], data or {})
            _mark_done(unit, task_id, comment, values)
            unit.emit(_task_event(events.TaskCompleted, task, comment=comment))
            next_task_id = None
            if process is not None and plan is not None and step is not None:
                next_task_id = self._advance(unit, process, plan, step, values)
            return Completion(task_id, task["process_id"], next_task_id, process is not None and next_task_id is None)

    def raise_deadline_events(self, leads: Sequence[int]) -> int:
        """Raises the due «deadline approaching» (for each lead time, in minutes) and «overdue» events, each
        once per task; returns how many were raised."""
        with self._unit_of_work() as unit:
            for event in due_deadline_events(unit.db, unit.now, leads):
                unit.emit(event)
            return len(unit.raised)

    def acknowledge_task(self, task_id: int, by: int | None = None) -> Task:
        """Records when the performer acknowledged the task («Ознакомлен»); repeated presses keep the first.
        With ``by``, only that person, the performer, may do it."""
        with self._unit_of_work() as unit:
            task = dict(load_task(unit.db, task_id))
            if by is not None and by != task["performer_id"]:
                raise InvalidState(f"Задача {task_id} назначена другому исполнителю")
            if task["acknowledged_at"] is None:
                result = unit.db.execute(
                    update(TASKS)
                    .where(TASKS.c.id == task_id, TASKS.c.acknowledged_at.is_(None))
                    .values(acknowledged_at=unit.now)
                )
                if result.rowcount == 1:
                    task["acknowledged_at"] = unit.now
                    unit.emit(_task_event(events.TaskAcknowledged, task))
            return Task(**task)

    def _advance(
        self, unit: _Unit, process: Row, plan: ScenarioPlan, done: StepPlan, values: dict[str, Any]
    ) -> int | None:
        changed: dict[str, Any] = {"data": {**process["data"], **values}} if values else {}
        following = plan.after(done)
        if following is None:
            changed.update(status=ProcessStatus.COMPLETED, finished_at=unit.now)
            unit.emit(_process_event(events.ProcessCompleted, process))
        if changed:
            _update_process(unit.db, process["id"], **changed)
        return self._create_step_task(unit, process, following) if following is not None else None

    def _enter_first_step(self, unit: _Unit, process: Process, plan: ScenarioPlan) -> None:
        unit.emit(_process_event(events.ProcessStarted, process))
        self._create_step_task(unit, process, plan.steps[0])

    def _create_step_task(self, unit: _Unit, process: Process | Row, step: StepPlan) -> int:
        author_id = _get(process, "author_id")
        values = {
            "process_id": _get(process, "id"),
            "step_id": step.id,
            "position": step.position,
            "title": step.title,
            "description": step.description or _get(process, "description"),
            "performer_id": choose_performer(unit.session, step, author_id),
            "author_id": author_id,
            "important": step.important,
            "deadline": unit.now + timedelta(minutes=step.deadline_minutes) if step.deadline_minutes else None,
            "status": TaskStatus.ACTIVE,
            "comment": "",
            "data": {},
            "created_at": unit.now,
        }
        values["id"] = insert_row(unit.db, TASKS, values)
        unit.emit(_task_event(events.TaskCreated, values))
        return int(values["id"])


def _get(source: object, key: str) -> Any:
    return source[key] if isinstance(source, Mapping) else getattr(source, key)


def _mark_started(process: Process, plan: ScenarioPlan, now: datetime) -> None:
    process.status = ProcessStatus.ACTIVE
    process.started_at = now
    if plan.deadline_minutes:
        process.deadline = now + timedelta(minutes=plan.deadline_minutes)


_COMPLETE_IF_ACTIVE = update(TASKS).where(
    TASKS.c.id == bindparam("_task_id"), TASKS.c.status == TaskStatus.ACTIVE.value
)


def _mark_done(unit: _Unit, task_id: int, comment: str, values: dict[str, Any]) -> None:
    """Completes the task if it is still active: of concurrent completions only the first changes the row.

    The caller holds the process lock first (as cancellation does), so the two never wait on each other in a
    circle, and a cancellation that follows sees the next step's task."""
    changed = {"status": TaskStatus.DONE, "comment": comment, "data": values, "completed_at": unit.now}
    result = unit.db.execute(_COMPLETE_IF_ACTIVE, {**changed, "_task_id": task_id})
    if result.rowcount != 1:
        raise AlreadyCompleted(task_id, TaskStatus.DONE)


def _cancel_open_tasks(db: Connection, process_id: int) -> list[Row]:
    still_open = (TASKS.c.process_id == process_id) & (TASKS.c.status == TaskStatus.ACTIVE)
    statement = update(TASKS).where(still_open).values(status=TaskStatus.CANCELLED).returning(*TASKS.c)
    return list(db.execute(statement).mappings())


def _update_process(db: Connection, process_id: int, **values: Any) -> None:
    update_row(db, PROCESSES, process_id, values)


def _attachment_row(process: Process, attachment: NewAttachment) -> Attachment:
    return Attachment(
        process_id=process.id,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=len(attachment.content),
        content=attachment.content,
    )


def _process_event(kind: type[ProcessEventT], process: Process | Row, **extra: str) -> ProcessEventT:
    return kind(
        process_id=_get(process, "id"),
        scenario_id=_get(process, "scenario_id"),
        author_id=_get(process, "author_id"),
        **extra,
    )


def _task_event(kind: type[TaskEventT], task: Task | Row, **extra: str) -> TaskEventT:
    return kind(
        task_id=_get(task, "id"),
        process_id=_get(task, "process_id"),
        performer_id=_get(task, "performer_id"),
        author_id=_get(task, "author_id"),
        **extra,
    )
