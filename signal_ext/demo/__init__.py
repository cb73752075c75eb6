"""The demo company: a handful of employees and counterparties, the demo scenarios, and the constructor bot."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from processes.models import Person, PersonCreate, PersonKind
from processes.persons import add_person
from processes.scenarios import LoadOutcome
from signal_ext.bots.models import Bot
from signal_ext.demo.constructor import DEMO_BOT, load_demo_bot
from signal_ext.notifications.chats import link_chat
from signal_ext.notifications.models import SYSTEM_BOT, TelegramChat
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
    """Adds the demo persons that are missing, loads the demo scenarios and the constructor bot (keywords and
    algorithms, see :mod:`signal_ext.demo.constructor`); safe to run again."""
    existing = set(session.exec(select(Person.full_name)).all())
    added = [add_person(session, person).full_name for person in DEMO_PERSONS if person.full_name not in existing]
    document = read_checked(SCENARIOS_FILE, Templates())
    outcomes, _rules = store_document(session, document, SCENARIOS_FILE.name)
    load_demo_bot(session)
    return added, outcomes


DEMO_CHAT_BASE = 7000


def link_demo_chats(session: Session) -> list[str]:
    """Links every demo employee without a chat to a chat of the built-in emulator, with the system bot and with
    the constructor bot (the same chat id with both, as a Telegram user's private chats); returns their names."""
    bots = [SYSTEM_BOT] + ([DEMO_BOT] if session.exec(select(Bot).where(Bot.name == DEMO_BOT)).first() else [])
    linked = []
    for person in session.exec(select(Person).where(Person.kind == PersonKind.USER)).all():
        chats = session.exec(select(TelegramChat).where(TelegramChat.person_id == person.id)).all()
        chat_id = next((c.chat_id for c in chats if c.bot == SYSTEM_BOT), str(DEMO_CHAT_BASE + (person.id or 0)))
        for bot in bots:
            taken = session.exec(select(TelegramChat).where(TelegramChat.bot == bot, TelegramChat.chat_id == chat_id))
            if all(c.bot != bot for c in chats) and taken.first() is None:
                link_chat(session, person, chat_id, bot)
        linked.append(person.short_name)
    return linked
