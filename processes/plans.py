"""Scenario versions never change once stored, so their steps are read once and kept: the hot path reads no step."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlmodel import Session

from processes.errors import NotFound
from processes.fields import FieldSpec
from processes.models import PerformerRule, Scenario
from processes.scenarios import field_specs, steps_of


@dataclass(frozen=True)
class StepPlan:
    """One step of a scenario version with its field definitions already parsed."""

    id: int
    position: int
    title: str
    description: str
    performer_rule: PerformerRule
    performer_person_id: int | None
    performer_role: str | None
    deadline_minutes: int | None
    important: bool
    fields: tuple[FieldSpec, ...]


@dataclass(frozen=True)
class ScenarioPlan:
    """A scenario version and its steps in order."""

    id: int
    name: str
    manual_start: bool
    deadline_minutes: int | None
    attachments_allowed: bool
    steps: tuple[StepPlan, ...]

    def step(self, step_id: int | None) -> StepPlan | None:
        """The step with ``step_id``, or None for a task outside the scenario."""
        return next((step for step in self.steps if step.id == step_id), None)

    def after(self, step: StepPlan) -> StepPlan | None:
        """The step that follows ``step``, or None when it was the last one."""
        index = self.steps.index(step) + 1
        return self.steps[index] if index < len(self.steps) else None


class ScenarioPlans:
    """A process-wide cache of scenario plans, keyed by the (immutable) scenario version id."""

    def __init__(self) -> None:
        self._plans: dict[int, ScenarioPlan] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, scenario_id: int) -> ScenarioPlan:
        """The plan of scenario version ``scenario_id``, read from the database on first use."""
        plan = self._plans.get(scenario_id)
        if plan is None:
            plan = _read_plan(session, scenario_id)
            with self._lock:
                self._plans[scenario_id] = plan
        return plan


def _read_plan(session: Session, scenario_id: int) -> ScenarioPlan:
    scenario = session.get(Scenario, scenario_id)
    if scenario is None:
        raise NotFound("сценарий", str(scenario_id))
    steps = tuple(
        StepPlan(
            id=step.id or 0,
            position=step.position,
            title=step.title,
            description=step.description,
            performer_rule=PerformerRule(step.performer_rule),
            performer_person_id=step.performer_person_id,
            performer_role=step.performer_role,
            deadline_minutes=step.deadline_minutes,
            important=step.important,
            fields=tuple(field_specs(step)),
        )
        for step in steps_of(session, scenario_id)
    )
    return ScenarioPlan(
        id=scenario_id,
        name=scenario.name,
        manual_start=scenario.manual_start,
        deadline_minutes=scenario.deadline_minutes,
        attachments_allowed=scenario.attachments_allowed,
        steps=steps,
    )
