"""Loading a designers' file: scenarios and their notification rules, in one transaction."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from processes.scenario_file import ScenarioFile, read_scenario_file
from processes.scenarios import LoadOutcome, load_scenarios
from signal_ext.notifications.rules import store_rules
from signal_ext.notifications.templates import Templates


def read_checked(path: Path, templates: Templates) -> ScenarioFile:
    """The file at ``path``, parsed, with every template compiled; errors name the line."""
    return read_scenario_file(path, check_template=templates.check)


def store_document(session: Session, document: ScenarioFile, source: str) -> tuple[list[LoadOutcome], int]:
    """Stores the scenarios and rules of ``document``; the caller commits. Returns outcomes and rule count."""
    outcomes = load_scenarios(session, document.scenarios, source)
    return outcomes, store_rules(session, document, outcomes, source)
