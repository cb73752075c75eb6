"""The demo company: a handful of employees and counterparties, and the demo scenarios."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from processes.models import Person, PersonCreate, PersonKind
from processes.persons import add_person
from processes.scenarios import LoadOutcome
from signal_ext.notifications.chats import link_chat
from signal_ext.notifications.models import TelegramChat
from signal_ext.notifications.templates import Templates
from signal_ext.scenario_loading import read_checked, store_document

SCENARIOS_FILE = Path(__file__).parent / "scenarios.yaml"

DEMO_PERSONS = [
    PersonCreate(
        full_name="Иванов Иван Иванович",
        email="ivanov@example.com",
        phone="+7 916 100-00-01",
        roles=["Руководитель"],
    ),
    PersonCreate(
        full_name="Петрова Мария Сергеевна",
        email="petrova@example.com",
        phone="+7 916 100-00-02",
        roles=["Юрист"],
    ),
    PersonCreate(
        full_name="Сидоров Алексей Петрович",
        email="sidorov@example.com",
        phone="+7 916 100-00-03",
        roles=["Бухгалтер"],
    ),
    PersonCreate(
        full_name="Кузнецова Елена Викторовна",
        email="kuznetsova@example.com",
        phone="+7 916 100-00-04",
        roles=["Менеджер"],
    ),
    PersonCreate(
        full_name="Смирнов Дмитрий Олегович",
        email="smirnov@example.com",
        phone="+7 916 100-00-05",
        roles=["Менеджер"],
    ),
    PersonCreate(
        full_name="ООО «Ромашка»",
        short_name="Ромашка",
        kind=PersonKind.COUNTERPARTY,
        inn="7701234567",
        email="office@romashka.example.com",
    ),
    PersonCreate(
        full_name="ИП Лебедев Олег Николаевич",
        short_name="ИП Лебедев",
        kind=PersonKind.PARTNER,
        phone="+7 903 200-00-01",
    ),
]


def load_demo(session: Session) -> tuple[list[str], list[LoadOutcome]]:
    """Adds the demo persons that are missing and loads the demo scenarios; safe to run again."""
    existing = set(session.exec(select(Person.full_name)).all())
    added = [add_person(session, person).full_name for person in DEMO_PERSONS if person.full_name not in existing]
    document = read_checked(SCENARIOS_FILE, Templates())
    outcomes, _rules = store_document(session, document, SCENARIOS_FILE.name)
    return added, outcomes


DEMO_CHAT_BASE = 7000


def link_demo_chats(session: Session) -> list[str]:
    """Links every demo employee without a chat to a chat of the built-in emulator; returns their names."""
    linked = []
    for person in session.exec(select(Person).where(Person.kind == PersonKind.USER)).all():
        if session.exec(select(TelegramChat).where(TelegramChat.person_id == person.id)).first() is None:
            link_chat(session, person, str(DEMO_CHAT_BASE + (person.id or 0)))
        linked.append(person.short_name)
    return linked
