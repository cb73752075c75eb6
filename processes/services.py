"""The core's use cases: start, advance, complete and cancel; each one transaction that emits events."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, func, select

from processes import events
from processes.bus import EventBus
from processes.errors import AlreadyCompleted, InvalidState, NotFound, ProcessError
from processes.fields import validate_data
from processes.models import (
    Attachment,
    PerformerRule,
    Process,
    ProcessStatus,
    Scenario,
    Step,
    Task,
    TaskCreate,
    TaskStatus,
)
from processes.persons import find_person, persons_with_role
from processes.scenarios import field_specs, find_scenario, steps_of
from processes.timeutil import utcnow

ProcessEventT = TypeVar("ProcessEventT", bound=events.ProcessEvent)
TaskEventT = TypeVar("TaskEventT", bound=events.TaskEvent)


@dataclass(frozen=True)
class NewAttachment:
    """A file handed over with a new process."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


class ProcessService:
    """Runs the business-process use cases, one unit of work each, publishing events to ``bus``."""

    def __init__(
        self, open_session: Callable[[], Session], bus: EventBus, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._open_session = open_session
        self._bus = bus
        self._clock = clock

    @contextmanager
    def _unit_of_work(self) -> Iterator[Session]:
        with self._open_session() as session:
            try:
                yield session
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
        with self._unit_of_work() as session:
            scenario = find_scenario(session, scenario_ref)
            author = find_person(session, author_ref)
            if attachments and not scenario.attachments_allowed:
                raise ProcessError(f"Сценарий «{scenario.name}» не допускает вложений")
            assert scenario.id is not None and author.id is not None
            process = Process(scenario_id=scenario.id, author_id=author.id, description=description)
            process.created_at = self._clock()
            session.add(process)
            session.flush()
            for attachment in attachments:
                session.add(_attachment_row(process, attachment))
            self._publish(session, _process_event(events.ProcessCreated, process))
            if not scenario.manual_start:
                self._start(session, process, scenario)
            return process

    def start_created(self, process_id: int) -> Process:
        """Starts a process that a manual-start scenario left in «Создан»."""
        with self._unit_of_work() as session:
            process = _get_process(session, process_id)
            if process.status != ProcessStatus.CREATED:
                raise InvalidState(f"Процесс {process_id} уже в статусе «{process.status}», запуск невозможен")
            scenario = session.get(Scenario, process.scenario_id)
            assert scenario is not None
            self._start(session, process, scenario)
            return process

    def cancel_process(self, process_id: int, reason: str = "") -> Process:
        """Interrupts a created or active process; its open tasks are cancelled."""
        with self._unit_of_work() as session:
            process = _get_process(session, process_id)
            if process.status not in (ProcessStatus.CREATED, ProcessStatus.ACTIVE):
                raise InvalidState(f"Процесс {process_id} уже в статусе «{process.status}», прервать нельзя")
            open_tasks = session.exec(
                select(Task).where(Task.process_id == process.id, Task.status == TaskStatus.ACTIVE)
            ).all()
            for task in open_tasks:
                task.status = TaskStatus.CANCELLED
                session.add(task)
                self._publish(session, _task_event(events.TaskCancelled, task))
            process.status = ProcessStatus.CANCELLED
            process.cancel_reason = reason
            process.finished_at = self._clock()
            session.add(process)
            self._publish(session, _process_event(events.ProcessCancelled, process, reason=reason))
            return process

    def create_task(self, data: TaskCreate) -> Task:
        """Creates a standalone task (no process), e.g. from «Новая задача»."""
        with self._unit_of_work() as session:
            find_person(session, data.performer_id)
            find_person(session, data.author_id)
            if data.deadline is not None and data.deadline <= self._clock():
                raise ProcessError("Срок задачи уже прошёл; укажите срок в будущем")
            task = Task.model_validate(data.model_dump(), update={"created_at": self._clock()})
            session.add(task)
            session.flush()
            self._publish(session, _task_event(events.TaskCreated, task))
            return task

    def complete_task(
        self, task_id: int, comment: str = "", data: dict[str, str] | None = None, by: int | None = None
    ) -> Task:
        """Completes an active task with its required data, then advances or completes its process.

        Of two concurrent completions exactly one wins; the other gets AlreadyCompleted."""
        with self._unit_of_work() as session:
            task = _get_task(session, task_id)
            if task.status != TaskStatus.ACTIVE:
                raise AlreadyCompleted(task_id, task.status)
            if by is not None and by != task.performer_id:
                raise InvalidState(f"Задача {task_id} назначена другому исполнителю")
            step = session.get(Step, task.step_id) if task.step_id is not None else None
            values = validate_data(field_specs(step), data or {})
            self._mark_done(session, task, comment, values)
            self._publish(session, _task_event(events.TaskCompleted, task, comment=comment))
            if task.process_id is not None:
                self._advance(session, _get_process(session, task.process_id), task, values)
            return task

    def acknowledge_task(self, task_id: int) -> Task:
        """Records when the performer acknowledged the task («Ознакомлен»); repeated presses keep the first."""
        with self._unit_of_work() as session:
            task = _get_task(session, task_id)
            if task.acknowledged_at is None:
                task.acknowledged_at = self._clock()
                session.add(task)
                self._publish(session, _task_event(events.TaskAcknowledged, task))
            return task

    def _mark_done(self, session: Session, task: Task, comment: str, values: dict[str, object]) -> None:
        now = self._clock()
        changed = {"status": TaskStatus.DONE, "comment": comment, "data": values, "completed_at": now}
        result = session.execute(
            update(Task)
            .where(col(Task.id) == task.id, col(Task.status) == TaskStatus.ACTIVE)
            .values(**changed)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            assert task.id is not None
            raise AlreadyCompleted(task.id, TaskStatus.DONE)
        for key, value in changed.items():
            set_committed_value(task, key, value)

    def _start(self, session: Session, process: Process, scenario: Scenario) -> None:
        now = self._clock()
        process.status = ProcessStatus.ACTIVE
        process.started_at = now
        if scenario.deadline_minutes:
            process.deadline = now + timedelta(minutes=scenario.deadline_minutes)
        session.add(process)
        self._publish(session, _process_event(events.ProcessStarted, process))
        steps = steps_of(session, scenario.id or 0)
        self._create_step_task(session, process, steps[0])

    def _advance(self, session: Session, process: Process, done: Task, values: dict[str, object]) -> None:
        process.data = {**process.data, **values}
        following = session.exec(
            select(Step).where(Step.scenario_id == process.scenario_id, Step.position == (done.position or 0) + 1)
        ).first()
        if following is not None:
            self._create_step_task(session, process, following)
        else:
            process.status = ProcessStatus.COMPLETED
            process.finished_at = self._clock()
            self._publish(session, _process_event(events.ProcessCompleted, process))
        session.add(process)

    def _create_step_task(self, session: Session, process: Process, step: Step) -> Task:
        now = self._clock()
        task = Task(
            process_id=process.id,
            step_id=step.id,
            position=step.position,
            title=step.title,
            description=step.description or process.description,
            performer_id=_performer_for(session, step, process),
            author_id=process.author_id,
            important=step.important,
            deadline=now + timedelta(minutes=step.deadline_minutes) if step.deadline_minutes else None,
            created_at=now,
        )
        session.add(task)
        session.flush()
        self._publish(session, _task_event(events.TaskCreated, task))
        return task

    def _publish(self, session: Session, event: events.DomainEvent) -> None:
        self._bus.publish(session, event)


def _performer_for(session: Session, step: Step, process: Process) -> int:
    if step.performer_rule == PerformerRule.PERSON and step.performer_person_id is not None:
        return step.performer_person_id
    if step.performer_rule == PerformerRule.ROLE and step.performer_role:
        holders = persons_with_role(session, step.performer_role)
        if not holders:
            raise ProcessError(f"Шаг «{step.title}»: нет активных сотрудников с ролью «{step.performer_role}»")
        return _least_busy([h.id for h in holders if h.id is not None], session)
    return process.author_id


def _least_busy(person_ids: list[int], session: Session) -> int:
    counts = dict(
        session.exec(
            select(Task.performer_id, func.count())
            .where(col(Task.performer_id).in_(person_ids), Task.status == TaskStatus.ACTIVE)
            .group_by(col(Task.performer_id))
        ).all()
    )
    return min(person_ids, key=lambda person_id: (counts.get(person_id, 0), person_id))


def _attachment_row(process: Process, attachment: NewAttachment) -> Attachment:
    return Attachment(
        process_id=process.id,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=len(attachment.content),
        content=attachment.content,
    )


def _get_process(session: Session, process_id: int) -> Process:
    process = session.get(Process, process_id)
    if process is None:
        raise NotFound("процесс", str(process_id))
    return process


def _get_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound("задача", str(task_id))
    return task


def _process_event(kind: type[ProcessEventT], process: Process, **extra: str) -> ProcessEventT:
    assert process.id is not None
    return kind(process_id=process.id, scenario_id=process.scenario_id, author_id=process.author_id, **extra)


def _task_event(kind: type[TaskEventT], task: Task, **extra: str) -> TaskEventT:
    assert task.id is not None
    return kind(
        task_id=task.id,
        process_id=task.process_id,
        performer_id=task.performer_id,
        author_id=task.author_id,
        **extra,
    )
