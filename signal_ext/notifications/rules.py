"""Storing the rules of a loaded scenario file, and listing them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete
from sqlmodel import Session, col, select

from processes.errors import AmbiguousReference, NotFound, ScenarioFileError
from processes.persons import find_person
from processes.rule_spec import RecipientKind, RuleEvent, RuleSpec
from processes.scenario_file import ScenarioFile
from processes.scenarios import LoadOutcome
from signal_ext.notifications.models import NotificationRule


def store_rules(session: Session, document: ScenarioFile, outcomes: Sequence[LoadOutcome], source: str) -> int:
    """Stores the rules of new scenario versions and, when the file has them, replaces the global rules.

    Returns how many rules were written; the caller commits together with the scenarios."""
    written = 0
    for index, (spec, outcome) in enumerate(zip(document.scenarios, outcomes, strict=True)):
        if outcome.action != "unchanged":
            where = f"{source}: scenarios.{index}.notifications"
            written += _add(session, spec.notifications, outcome.scenario_id, where)
    if document.notifications is not None:
        session.execute(delete(NotificationRule).where(col(NotificationRule.scenario_id).is_(None)))
        written += _add(session, document.notifications, None, f"{source}: notifications")
    return written


def _add(session: Session, specs: Sequence[RuleSpec], scenario_id: int | None, where: str) -> int:
    for position, spec in enumerate(specs):
        rule = NotificationRule(
            scenario_id=scenario_id,
            position=position,
            event=spec.event.value,
            channel=spec.channel,
            recipient_kind=spec.recipient_kind.value,
            subject=spec.subject,
            template=spec.template,
            attachments=spec.attachments,
            enabled=spec.enabled,
            lead_minutes=spec.lead,
            critical=spec.critical,
        )
        if spec.recipient_kind is RecipientKind.PERSON:
            try:
                rule.recipient_person_id = find_person(session, spec.recipient_name or "").id
            except (NotFound, AmbiguousReference) as error:
                raise ScenarioFileError(where, None, f"{position}.recipient: {error.message}") from error
        elif spec.recipient_kind is RecipientKind.ROLE:
            rule.recipient_role = spec.recipient_name
        session.add(rule)
    session.flush()
    return len(specs)


def list_rules(session: Session, scenario_ids: Sequence[int] | None = None) -> Sequence[NotificationRule]:
    """Global rules and the rules of the given scenario versions (all when None), in file order."""
    statement = select(NotificationRule).order_by(col(NotificationRule.scenario_id), col(NotificationRule.position))
    if scenario_ids is not None:
        statement = statement.where(
            col(NotificationRule.scenario_id).is_(None) | col(NotificationRule.scenario_id).in_(scenario_ids)
        )
    return session.exec(statement).all()


def approaching_leads(session: Session) -> list[int]:
    """The distinct lead times of the enabled «deadline approaching» rules."""
    statement = select(NotificationRule.lead_minutes).where(
        col(NotificationRule.enabled), NotificationRule.event == RuleEvent.TASK_DEADLINE_APPROACHING.value
    )
    return sorted(set(session.exec(statement).all()))
