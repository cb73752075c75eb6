"""The chat lifecycle end to end (docs/lifecycle.md): ``person block|unblock|delete`` through
the CLI, «Не беспокоить» / «Возобновить» through the system bot of the running service and the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import col, select

from cli import main
from processes.models import Person, PersonCreate, TaskCreate
from processes.persons import add_person
from processes.scenario_file import parse_scenario_file
from processes.timeutil import utcnow
from signal_ext.bootstrap import App, bootstrap
from signal_ext.bots.directory import add_bot
from signal_ext.bots.keyword_replies import KeywordChat
from signal_ext.bots.keyword_state import TreeCache
from signal_ext.bots.models import BotCreate
from signal_ext.lifecycle.persons import block_person, delete_person, unblock_person
from signal_ext.notifications.chats import link_chat
from signal_ext.notifications.messages import queue_message
from signal_ext.notifications.models import MessageStatus, OutboxMessage, TelegramChat
from signal_ext.notifications.templates import Templates
from signal_ext.run import Running, start_service, stop_service
from signal_ext.scenario_loading import store_document
from signal_ext.service import dispatch_round
from signal_ext.settings import Settings
from tests.bot_chat import SystemChat

PETROVA, SHOP_CHAT = 30_001, 30_002
RULES = """
notifications:
  - {event: task.created, channel: telegram, recipient: task_performer, template: 'Обычное: {{ task.title }}'}
  - {event: task.created, channel: telegram, recipient: task_performer, critical: true,
     template: 'Срочное: {{ task.title }}'}
"""


@pytest.fixture
def seeded(database_url: str) -> Iterator[str]:
    app = bootstrap(Settings(database_url=database_url), apply_migrations=False)
    with app.open_session() as session:
        petrova = add_person(session, PersonCreate(full_name="Петрова Мария Сергеевна"))
        add_person(session, PersonCreate(full_name="Иванов Иван Иванович"))
        link_chat(session, petrova, str(PETROVA))
        add_bot(session, BotCreate(name="shop"))
        link_chat(session, petrova, str(SHOP_CHAT), bot="shop")
        store_document(session, parse_scenario_file(RULES, "r.yaml", Templates().check), "r.yaml")
        session.commit()
    app.close()
    yield database_url


def run_story(database_url: str, story: Callable[[Running, SystemChat], Awaitable[None]]) -> None:
    async def main() -> None:
        fast = Settings(database_url=database_url, telegram_rate_per_second=1000, telegram_chat_rate_per_second=100)
        running = await start_service(fast, "127.0.0.1", 0)
        try:
            assert running.emulator is not None
            await story(running, SystemChat(running.emulator, PETROVA))
        finally:
            await stop_service(running)

    asyncio.run(main())


async def signal_ext(database_url: str, *args: str) -> Any:
    """``signal-ext ARGS`` in a worker thread (the service keeps running in the event loop)."""
    runner = CliRunner()
    env = {"SIGNAL_DATABASE_URL": database_url}
    return await asyncio.to_thread(runner.invoke, main, list(args), env=env)


def _outbox(app: App) -> list[OutboxMessage]:
    with app.read_session() as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def _petrova(app: App) -> Person:
    with app.read_session() as session:
        person = session.get(Person, 1)
        assert person is not None
        return person


def test_block_tells_every_chat_and_closes_the_bot_unblock_restores_it(seeded: str) -> None:
    async def story(running: Running, petrova: SystemChat) -> None:
        blocked = await signal_ext(seeded, "person", "block", "Петрова", "--reason", "Уволена <с 1.12>")
        assert blocked.exit_code == 0 and "заблокирован" in blocked.output, blocked.output
        rows = _outbox(running.app)
        assert [(r.bot, r.address) for r in rows] == [(None, str(PETROVA)), ("shop", str(SHOP_CHAT))]
        assert "Уволена &lt;с 1.12&gt;" in rows[1].body
        await dispatch_round(running.app)
        [told] = await petrova.arrived(0)
        assert "Доступ к боту закрыт" in (told.text or "") and "Уволена <с 1.12>" in (told.text or "")
        [refused] = await petrova.say("Мои задачи")
        assert "Доступ к боту закрыт" in (refused.text or "") and refused.reply_markup == {"remove_keyboard": True}
        again = await signal_ext(seeded, "person", "block", "Петрова", "--reason", "Ещё раз")
        assert again.exit_code == 0 and "уже заблокирован" in again.output
        assert len(_outbox(running.app)) == 2

        unblocked = await signal_ext(seeded, "person", "unblock", "Петрова")
        assert unblocked.exit_code == 0 and "разблокирован" in unblocked.output
        before = len(petrova.seen())
        await dispatch_round(running.app)
        [opened] = await petrova.arrived(before)
        assert "снова открыт" in (opened.text or "")
        menu, tasks = await petrova.say("Мои задачи", expect=2)
        assert [b["text"] for row in menu.reply_markup["keyboard"] for b in row] == [
            "Мои задачи",
            "Новая задача",
            "Новый процесс",
        ]
        assert "нет открытых задач" in (tasks.text or "")
        [plain] = await petrova.say("мз")
        assert "нет открытых задач" in (plain.text or "")

    run_story(seeded, story)


def test_delete_is_silent_and_told_once_on_the_next_message(seeded: str) -> None:
    async def story(running: Running, petrova: SystemChat) -> None:
        deleted = await signal_ext(seeded, "person", "delete", "Петрова")
        assert deleted.exit_code == 0 and "удалён" in deleted.output, deleted.output
        assert _outbox(running.app) == []
        await dispatch_round(running.app)
        await asyncio.sleep(0.2)
        assert petrova.seen() == []
        told, unknown = await petrova.say("Мои задачи", expect=2)
        assert "учётная запись удалена" in (told.text or "")
        assert "не авторизованы" in (unknown.text or "") and str(PETROVA) in (unknown.text or "")
        [unknown_again] = await petrova.say("мз")
        assert "не авторизованы" in (unknown_again.text or "")
        again = await signal_ext(seeded, "person", "delete", "Петрова")
        assert again.exit_code == 0 and "уже удалён" in again.output
        missing = await signal_ext(seeded, "person", "block", "Сидоров", "--reason", "x")
        assert missing.exit_code == 1 and len(missing.output.strip().splitlines()) == 1

    run_story(seeded, story)


def test_a_deleted_persons_constructor_bot_chat_is_told_once(seeded: str) -> None:
    app = bootstrap(Settings(database_url=seeded), apply_migrations=False)
    trees = TreeCache()
    with app.open_session() as session:
        person = session.get(Person, 1)
        assert person is not None
        block_person(session, person, "Проверка", utcnow())
        session.commit()
    [refused] = KeywordChat(app, "shop", str(SHOP_CHAT), trees).answer_text("привет")
    assert "Проверка" in refused.text
    with app.open_session() as session:
        person = session.get(Person, 1)
        assert person is not None
        unblock_person(session, person, utcnow())
        delete_person(session, person, utcnow())
        session.commit()
    told = KeywordChat(app, "shop", str(SHOP_CHAT), trees).answer_text("привет")
    assert "учётная запись удалена" in told[0].text
    later = KeywordChat(app, "shop", str(SHOP_CHAT), trees).answer_text("привет")
    assert all("удалена" not in reply.text for reply in later)
    with app.read_session() as session:
        assert session.exec(select(TelegramChat).where(TelegramChat.bot == "shop")).all() == []
    app.close()


def test_pause_defers_all_but_critical_and_resume_sends_the_rest(seeded: str) -> None:
    async def story(running: Running, petrova: SystemChat) -> None:
        [past] = await petrova.say("Не беспокоить до 01.01.2020 10:00")
        assert "уже прошло" in (past.text or "")
        [ask] = await petrova.say("Пауза")
        assert "До какого времени" in (ask.text or "")
        [paused] = await petrova.say("2 часа")
        assert "приостановлены до" in (paused.text or "")
        until = _petrova(running.app).paused_until
        assert until is not None and abs(until - utcnow() - timedelta(hours=2)) < timedelta(minutes=1)
        zone = running.app.settings.zone
        assert until.astimezone(zone).strftime("%d.%m.%Y %H:%M") in (paused.text or "")

        running.app.processes.create_task(TaskCreate(title="Счёт", performer_id=1, author_id=2))
        with running.app.open_session() as session:
            person = session.get(Person, 1)
            assert person is not None
            manual = queue_message(session, person, "telegram", "Вручную")
            session.commit()
            assert manual.send_at == until
        before = len(petrova.seen())
        await dispatch_round(running.app)
        [critical] = await petrova.arrived(before)
        assert critical.text == "Срочное: Счёт"
        waiting = [r for r in _outbox(running.app) if r.status == MessageStatus.PENDING]
        assert [r.body for r in waiting] == ["Обычное: Счёт"]  # the manual one is SCHEDULED, as delayed ones are
        assert all(r.send_at == until for r in _outbox(running.app) if r.body != "Срочное: Счёт")

        [resumed] = await petrova.say("Возобновить")
        assert "снова включены" in (resumed.text or "")
        before = len(petrova.seen())
        await dispatch_round(running.app)
        arrived = await petrova.arrived(before, 2)
        assert sorted(m.text for m in arrived) == ["Вручную", "Обычное: Счёт"]
        assert _petrova(running.app).paused_until is None

    run_story(seeded, story)


def test_pause_words_inside_a_task_description_are_not_a_command(seeded: str) -> None:
    async def story(_running: Running, petrova: SystemChat) -> None:
        await petrova.say("Новая задача")
        [created] = await petrova.say("Пауза в работе сервера, Иванов")
        assert "Создана задача" in (created.text or "")
        [again] = await petrova.say("Не беспокоить на 30 минут")
        assert "приостановлены до" in (again.text or "")

    run_story(seeded, story)


def test_a_deleted_persons_chat_may_be_linked_to_someone_else_at_once(seeded: str) -> None:
    """The administrator re-links the chat of a deleted employee before it writes again: the revoked link is free."""
    runner = CliRunner()
    env = {"SIGNAL_DATABASE_URL": seeded}
    assert runner.invoke(main, ["person", "delete", "Петрова"], env=env).exit_code == 0
    app = bootstrap(Settings(database_url=seeded), apply_migrations=False)
    try:
        with app.open_session() as session:
            newcomer = add_person(session, PersonCreate(full_name="Новикова Ольга"))
            session.commit()
    finally:
        app.close()
    linked = runner.invoke(main, ["person", "link", "Новикова", "--key", str(PETROVA)], env=env)
    assert linked.exit_code == 0, linked.output
    app = bootstrap(Settings(database_url=seeded), apply_migrations=False)
    try:
        with app.read_session() as session:
            [link] = session.exec(select(TelegramChat).where(TelegramChat.chat_id == str(PETROVA))).all()
        assert link.person_id == newcomer.id and link.revoked_at is None
    finally:
        app.close()


def test_the_directory_shows_who_is_blocked_deleted_or_paused(seeded: str) -> None:
    runner = CliRunner()
    env = {"SIGNAL_DATABASE_URL": seeded}

    def cli(*args: str) -> str:
        result = runner.invoke(main, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    cli("person", "block", "Петрова", "--reason", "Отпуск без содержания")
    assert "(заблокирован: Отпуск без содержания)" in cli("person", "list")
    assert "Заблокирован: да: Отпуск без содержания" in cli("person", "show", "Петрова")
    assert '"blocked": true' in cli("person", "show", "Петрова", "--json")
    cli("person", "unblock", "Петрова")
    assert "заблокирован" not in cli("person", "list")
    cli("person", "delete", "Петрова")
    assert "(удалён)" in cli("person", "list")
