"""Scenarios in the database: versioned loading from specs, and finding one by id or name."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from processes.errors import AmbiguousReference, NotFound, ScenarioFileError
from processes.fields import FieldSpec
from processes.ids import record_id
from processes.models import PerformerRule, Scenario, Step
from processes.persons import find_person
from processes.scenario_file import PersonPerformer, RolePerformer, ScenarioSpec, StepSpec

KIND_LABEL = "сценарий"


@dataclass(frozen=True)
class LoadOutcome:
    """What loading did with one scenario: ``created``, ``updated`` (a new version) or ``unchanged``."""

    name: str
    version: int
    action: str
    scenario_id: int


def load_scenarios(session: Session, specs: Sequence[ScenarioSpec], source: str) -> list[LoadOutcome]:
    """Stores ``specs`` as current scenario versions; a changed scenario gets a new version and running
    processes keep the version they started with. The caller commits (all or nothing)."""
    return [_load_one(session, spec, index, source) for index, spec in enumerate(specs)]


def _load_one(session: Session, spec: ScenarioSpec, index: int, source: str) -> LoadOutcome:
    digest = hashlib.sha256(spec.model_dump_json().encode()).hexdigest()
    current = _current_by_name(session, spec.name)
    if current is not None and current.content_hash == digest:
        return LoadOutcome(spec.name, current.version, "unchanged", current.id or 0)
    version = 1
    if current is not None:
        current.current = False
        session.add(current)
        version = current.version + 1
    scenario = Scenario(
        name=spec.name,
        version=version,
        description=spec.description,
        manual_start=spec.manual_start,
        deadline_minutes=spec.deadline,
        attachments_allowed=spec.attachments,
        content_hash=digest,
    )
    session.add(scenario)
    session.flush()
    assert scenario.id is not None
    for position, step_spec in enumerate(spec.steps):
        session.add(_step_row(session, scenario.id, position, step_spec, f"{source}: scenarios.{index}"))
    session.flush()
    return LoadOutcome(spec.name, version, "created" if current is None else "updated", scenario.id)


def _step_row(session: Session, scenario_id: int, position: int, spec: StepSpec, where: str) -> Step:
    step = Step(
        scenario_id=scenario_id,
        position=position,
        title=spec.title,
        description=spec.description,
        deadline_minutes=spec.deadline,
        important=spec.important,
        fields=[field.model_dump(mode="json") for field in spec.fields],
    )
    if isinstance(spec.performer, PersonPerformer):
        try:
            step.performer_person_id = find_person(session, spec.performer.person).id
        except (NotFound, AmbiguousReference) as error:
            raise ScenarioFileError(
                where, None, f"steps.{position}.performer (шаг «{spec.title}»): {error.message}"
            ) from error
        step.performer_rule = PerformerRule.PERSON
    elif isinstance(spec.performer, RolePerformer):
        step.performer_rule = PerformerRule.ROLE
        step.performer_role = spec.performer.role
    return step


def _current_by_name(session: Session, name: str) -> Scenario | None:
    statement = select(Scenario).where(col(Scenario.current), Scenario.name == name)
    return session.exec(statement).first()


def current_scenarios(session: Session) -> Sequence[Scenario]:
    """The current version of every scenario, by name."""
    return session.exec(select(Scenario).where(col(Scenario.current)).order_by(col(Scenario.name))).all()


def find_scenario(session: Session, ref: str | int) -> Scenario:
    """The scenario ``ref`` names: a version's id, or the current version by its exact name or an unambiguous
    part of it (a name made of digits is found when no id matches)."""
    text = str(ref).strip().strip("«»\"'").strip()
    number = record_id(text)
    if number is not None:
        scenario = session.get(Scenario, number)
        if scenario is not None:
            return scenario
    needle = text.casefold()
    everything = current_scenarios(session)
    exact = [s for s in everything if s.name.casefold() == needle]
    found = exact or [s for s in everything if needle in s.name.casefold()]
    if not found:
        raise NotFound(KIND_LABEL, text)
    if len(found) > 1:
        raise AmbiguousReference(KIND_LABEL, text, [s.name for s in found])
    return found[0]


def steps_of(session: Session, scenario_id: int) -> Sequence[Step]:
    """The steps of a scenario version in their order."""
    statement = select(Step).where(Step.scenario_id == scenario_id).order_by(col(Step.position))
    return session.exec(statement).all()


def field_specs(step: Step | None) -> list[FieldSpec]:
    """The required-data definitions of ``step`` (none for a standalone task)."""
    return [] if step is None else [FieldSpec.model_validate(raw) for raw in step.fields]
