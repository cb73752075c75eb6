"""The chain's steps wired to the application: the phone directory, the algorithms, the core, the persons.

Each port opens its own short session: the algorithm runs in a worker process and the scenario's process is
started in the core's own transaction, so nothing here holds a lock while they work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session

from auth.chain import Step
from auth.models import Registration, RegistrationStage
from auth.steps import algorithm_step, phone_step, responsible_step, scenario_step
from processes.errors import NotFound
from processes.models import Person
from signal_ext.bots.models import Bot
from signal_ext.registrations.bots import is_available
from signal_ext.registrations.persons import person_by_phone, person_from_result, scenario_author

if TYPE_CHECKING:
    from signal_ext.bootstrap import App


def chain_steps(app: App, registration_id: int) -> list[tuple[RegistrationStage, Step]]:
    """Phone → algorithm → scenario → responsible person, for request ``registration_id``."""

    def by_phone(phone: str) -> int | None:
        with app.read_session() as session:
            return person_by_phone(session, phone)

    def run_algorithm(name: str, data: str) -> object:
        return app.algorithms.run(name, None, data)

    def resolve(value: object) -> int | None:
        with app.read_session() as session:
            return person_from_result(session, value)

    def start(scenario: str, data: str) -> int:
        with app.read_session() as session:
            author = scenario_author(session, _bot_of(session, registration_id))
        process = app.processes.start_process(scenario, author, description=data)
        return process.id or 0

    def available(person_id: int) -> bool:
        with app.read_session() as session:
            return is_available(session.get(Person, person_id))

    return [
        (RegistrationStage.PHONE, phone_step(by_phone)),
        (RegistrationStage.ALGORITHM, algorithm_step(run_algorithm, resolve)),
        (RegistrationStage.SCENARIO, scenario_step(start)),
        (RegistrationStage.RESPONSIBLE, responsible_step(available)),
    ]


def _bot_of(session: Session, registration_id: int) -> Bot:
    registration = session.get(Registration, registration_id)
    bot = session.get(Bot, registration.bot_id) if registration is not None else None
    if bot is None:
        raise NotFound("заявка на авторизацию", str(registration_id))
    return bot
