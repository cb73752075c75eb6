"""Read-side of the core: lists and details shaped as the public models."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, func, select

from processes.errors import NotFound
from processes.models import (
    Attachment,
    PerformerRule,
    Person,
    Process,
    ProcessPublic,
    ProcessStatus,
    Scenario,
    ScenarioPublic,
    Step,
    StepPublic,
    Task,
    TaskPublic,
    TaskStatus,
)
from processes.scenarios import steps_of


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(select(Person).where(col(Person.id).in_(ids))).all()
    return {p.id: p.full_name for p in rows if p.id is not None}


def _attachment_counts(session: Session, process_ids: set[int]) -> dict[int, int]:
    if not process_ids:
        return {}
    statement = (
        select(Attachment.process_id, func.count())
        .where(col(Attachment.process_id).in_(process_ids))
        .group_by(col(Attachment.process_id))
    )
    return {pid: count for pid, count in session.exec(statement).all() if pid is not None}


def list_tasks(session: Session, performer_id: int | None = None, status: TaskStatus | None = None) -> list[TaskPublic]:
    """Tasks, newest last, optionally of one performer and/or in one status."""
    statement = select(Task).order_by(col(Task.id))
    if performer_id is not None:
        statement = statement.where(Task.performer_id == performer_id)
    if status is not None:
        statement = statement.where(Task.status == status)
    return tasks_public(session, session.exec(statement).all())


def tasks_public(session: Session, tasks: Sequence[Task]) -> list[TaskPublic]:
    """``tasks`` with performer and author names and the count of their process attachments."""
    names = _names(session, {t.performer_id for t in tasks} | {t.author_id for t in tasks})
    counts = _attachment_counts(session, {t.process_id for t in tasks if t.process_id is not None})
    step_ids = {t.step_id for t in tasks if t.step_id is not None}
    steps = {s.id: s.fields for s in session.exec(select(Step).where(col(Step.id).in_(step_ids)))} if step_ids else {}
    return [
        TaskPublic.model_validate(
            task,
            update={
                "performer": names.get(task.performer_id, ""),
                "author": names.get(task.author_id, ""),
                "attachments": counts.get(task.process_id or 0, 0),
                "fields": steps.get(task.step_id, []),
            },
        )
        for task in tasks
    ]


def list_processes(session: Session, status: ProcessStatus | None = None) -> list[ProcessPublic]:
    """Processes in creation order, optionally in one status."""
    statement = select(Process).order_by(col(Process.id))
    if status is not None:
        statement = statement.where(Process.status == status)
    processes = session.exec(statement).all()
    names = _names(session, {p.author_id for p in processes})
    scenario_names = {s.id: s.name for s in session.exec(select(Scenario)).all()}
    return [
        ProcessPublic.model_validate(
            p,
            update={"author": names.get(p.author_id, ""), "scenario": scenario_names.get(p.scenario_id, "")},
        )
        for p in processes
    ]


def show_process(session: Session, process_id: int) -> ProcessPublic:
    """One process with its tasks and attachment names."""
    process = session.get(Process, process_id)
    if process is None:
        raise NotFound("процесс", str(process_id))
    scenario = session.get(Scenario, process.scenario_id)
    tasks = session.exec(select(Task).where(Task.process_id == process_id).order_by(col(Task.id))).all()
    files = session.exec(select(Attachment.filename).where(Attachment.process_id == process_id)).all()
    return ProcessPublic.model_validate(
        process,
        update={
            "author": _names(session, {process.author_id}).get(process.author_id, ""),
            "scenario": scenario.name if scenario else "",
            "tasks": tasks_public(session, tasks),
            "attachments": list(files),
        },
    )


def show_task(session: Session, task_id: int) -> TaskPublic:
    """One task with names filled in."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound("задача", str(task_id))
    return tasks_public(session, [task])[0]


def scenario_public(session: Session, scenario: Scenario) -> ScenarioPublic:
    """A scenario version with its steps, performers described in words."""
    assert scenario.id is not None
    steps = steps_of(session, scenario.id)
    names = _names(session, {s.performer_person_id for s in steps if s.performer_person_id is not None})
    public_steps = []
    for step in steps:
        if step.performer_rule == PerformerRule.PERSON:
            performer = names.get(step.performer_person_id or 0, "")
        elif step.performer_rule == PerformerRule.ROLE:
            performer = f"роль: {step.performer_role}"
        else:
            performer = "автор процесса"
        public_steps.append(StepPublic.model_validate(step, update={"performer": performer}))
    return ScenarioPublic.model_validate(scenario, update={"steps": public_steps})
