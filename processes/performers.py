"""Who performs a step's task: a given person, the holder of a role with the fewest open tasks, or the author."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from processes.errors import ProcessError
from processes.models import PerformerRule, TaskStatus
from processes.persons import persons_with_role
from processes.plans import StepPlan
from processes.rows import TASKS


def choose_performer(session: Session, step: StepPlan, author_id: int) -> int:
    """The id of the person who gets ``step``'s task in a process by ``author_id``."""
    if step.performer_rule == PerformerRule.PERSON and step.performer_person_id is not None:
        return step.performer_person_id
    if step.performer_rule == PerformerRule.ROLE and step.performer_role:
        holders = [p.id for p in persons_with_role(session, step.performer_role) if p.id is not None]
        if not holders:
            raise ProcessError(f"Шаг «{step.title}»: нет активных сотрудников с ролью «{step.performer_role}»")
        return _least_busy(session, holders)
    return author_id


def _least_busy(session: Session, person_ids: list[int]) -> int:
    statement = (
        select(TASKS.c.performer_id, func.count())
        .where(TASKS.c.performer_id.in_(person_ids), TASKS.c.status == TaskStatus.ACTIVE)
        .group_by(TASKS.c.performer_id)
    )
    counts = {row[0]: row[1] for row in session.connection().execute(statement)}
    return min(person_ids, key=lambda person_id: (counts.get(person_id, 0), person_id))
