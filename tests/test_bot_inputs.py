"""Forged button payloads and texts no table can hold get the bot's polite answer in Russian, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from processes.models import PersonCreate, TaskCreate
from processes.persons import add_person
from signal_ext.bootstrap import App, bootstrap
from signal_ext.bots.conversation import Conversation
from signal_ext.notifications.chats import link_chat
from signal_ext.notifications.models import SYSTEM_BOT
from signal_ext.run import start_service, stop_service
from signal_ext.settings import Settings
from signal_ext.storage import create_db_engine
from tests.bot_chat import SYSTEM_BOT_ID, BotChat
from tests.helpers import row_counts

PETROVA = 20_001
HUGE = "99999999999999999999999"
FORGED = [
    *(
        f"{kind}:{value}"
        for kind in ("task", "more", "done", "files", "ack", "proc", "perf")
        for value in (HUGE, "2147483648", "²", "0", "-1", "1e9", "1 2")
    ),
    f"page:{HUGE}",
    "page:²",
    f"reg:{HUGE}:approve",
    f"reg:{HUGE}:as:user",
    "reg:²:reject",
]


@pytest.fixture
def app(database_url: str) -> Iterator[App]:
    """Petrova, linked to the system bot's chat, with one task of her own."""
    application = bootstrap(Settings(database_url=database_url), apply_migrations=False)
    with application.open_session() as session:
        petrova = add_person(session, PersonCreate(full_name="Петрова Мария Сергеевна"))
        link_chat(session, petrova, str(PETROVA))
        session.commit()
    application.processes.create_task(TaskCreate(title="Своя задача", performer_id=petrova.id or 0, author_id=1))
    yield application
    application.close()


def test_a_forged_id_in_a_button_gets_the_polite_refusal(app: App) -> None:
    before = row_counts(app.engine)
    petrova = Conversation(app, SYSTEM_BOT, str(PETROVA))
    for payload in FORGED:
        [reply] = petrova.press(payload)
        assert "недоступна" in reply.text, (payload, reply.text)
    assert row_counts(app.engine) == before


def test_a_forged_huge_id_and_a_nul_through_the_running_bot(app: App, database_url: str) -> None:
    """End to end: the press of a forged huge id, a new task whose text holds a NUL and one due in year 9999 are
    answered in Russian, and nothing is written."""

    async def story() -> None:
        fast = Settings(database_url=database_url, telegram_rate_per_second=1000, telegram_chat_rate_per_second=100)
        running = await start_service(fast, "127.0.0.1", 0)
        try:
            assert running.emulator is not None
            petrova = BotChat(running.emulator, PETROVA, SYSTEM_BOT_ID)
            listing = await petrova.say("Мои задачи")
            refused = await petrova.press_data(listing, f"task:{HUGE}")
            assert "недоступна" in refused.text
            await petrova.say("Новая задача")
            engine = create_db_engine(database_url)
            before = row_counts(engine)
            told = await petrova.say("Купить\x00 бумагу")
            assert "нулевой символ" in told.text
            await petrova.say("Новая задача")
            too_far = await petrova.say("Купить бумагу, 31.12.9999")
            assert "слишком далёк" in too_far.text
            assert row_counts(engine) == before
            engine.dispose()
        finally:
            await stop_service(running)

    asyncio.run(story())
