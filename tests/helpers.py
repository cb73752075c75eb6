"""Small helpers shared by tests."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from processes.models import PersonCreate
from processes.persons import add_person
from processes.scenario_file import parse_scenarios
from processes.scenarios import load_scenarios
from signal_ext.bootstrap import App


def row_counts(engine: Engine) -> dict[str, int]:
    """How many rows each table holds: a cheap fingerprint that a failed command changed nothing."""
    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


def seed(app: App, scenarios_yaml: str, persons: list[PersonCreate]) -> list[int]:
    """Adds ``persons`` and loads ``scenarios_yaml``; returns the persons' ids."""
    with app.open_session() as session:
        ids = [add_person(session, person).id for person in persons]
        load_scenarios(session, parse_scenarios(scenarios_yaml), "test")
        session.commit()
    return [i for i in ids if i is not None]
