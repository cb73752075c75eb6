"""Telegram delivery end to end: rules and manual messages → outbox → dispatcher → the real python-telegram-bot
client → the project's Bot API emulator over HTTP, with Telegram's limits and injected faults."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select

from processes.errors import InvalidState, NotFound
from processes.models import PersonCreate, Task
from processes.persons import add_person
from processes.scenario_file import parse_scenario_file
from processes.services import NewAttachment
from signal_ext.bootstrap import App, bootstrap
from signal_ext.channels.registry import ChannelRegistry
from signal_ext.channels.setup import telegram_channel
from signal_ext.channels.telegram import TelegramChannel
from signal_ext.notifications.acknowledgement import acknowledge_press
from signal_ext.notifications.chats import link_chat
from signal_ext.notifications.dispatcher import Dispatcher, RetryPolicy
from signal_ext.notifications.messages import queue_message
from signal_ext.notifications.models import MessageStatus, OutboxMessage
from signal_ext.notifications.templates import Templates
from signal_ext.scenario_loading import store_document
from signal_ext.settings import Settings
from signal_ext.telegram_emulator import EmulatorServer, FaultConfig
from signal_ext.telegram_emulator.limits import LimitConfig

TOKEN = "7001:system-bot-token"
FAST_RETRIES = RetryPolicy(max_attempts=100, base_seconds=0.05, max_seconds=0.2)
SEED_RULES = """
scenarios:
  - name: Согласование договора
    steps:
      - {title: Согласование договора, description: "Договор <№5> с ООО «Ромашка»", deadline: 2d}
    notifications:
      - event: process.started
        channel: telegram
        recipient: process_author
        template: "Запущен новый процесс «{{ process.scenario }}»"
      - event: task.created
        channel: telegram
        recipient: task_performer
        attachments: true
        template: |
          Вам поставлена новая задача: {{ task.description }}
          Срок: {{ task.deadline }}
          <b><u>Важно! Обратите внимание на срок выполнения</u></b>
"""


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def tg_app(database_url: str, emulator: EmulatorServer) -> Iterator[App]:
    settings = Settings(database_url=database_url, telegram_token=TOKEN, telegram_api_url=emulator.url)
    application = bootstrap(settings, apply_migrations=False)
    yield application
    application.close()


def _people(app: App, count: int) -> list[int]:
    with app.open_session() as session:
        ids = []
        for number in range(count):
            person = add_person(session, PersonCreate(full_name=f"Сотрудник {number:04d}"))
            link_chat(session, person, str(10_000 + number))
            ids.append(person.id or 0)
        session.commit()
    return ids


def _queue(app: App, person_ids: list[int], per_person: int = 1) -> None:
    from processes.models import Person

    with app.open_session() as session:
        for person_id in person_ids:
            person = session.get(Person, person_id)
            assert person is not None
            for copy in range(per_person):
                queue_message(session, person, "telegram", f"Сообщение {copy} для <b>{person.full_name}</b>")
        session.commit()


def _dispatcher(app: App, lease: float = 60.0) -> Dispatcher:
    channels = ChannelRegistry([telegram_channel(app.settings, TOKEN)])
    return Dispatcher(app.open_session, channels, FAST_RETRIES, lease_seconds=lease)


def _statuses(app: App) -> list[str]:
    with app.read_session() as session:
        return list(session.exec(select(OutboxMessage.status).order_by(col(OutboxMessage.id))))


async def _drain(app: App, dispatcher: Dispatcher, seconds: float = 60.0) -> None:
    """Runs rounds until no message is pending or being sent (retries are scheduled a moment later)."""
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            await dispatcher.run_once()
            if not {MessageStatus.PENDING, MessageStatus.SENDING} & set(_statuses(app)):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("messages still pending")
    finally:
        await dispatcher._channels.aclose()


def test_seed_example_reaches_telegram_with_formatting_and_button(tg_app: App, emulator: EmulatorServer) -> None:
    [author] = _people(tg_app, 1)
    with tg_app.open_session() as session:
        store_document(session, parse_scenario_file(SEED_RULES, "seed.yaml", Templates().check), "seed.yaml")
        session.commit()
    files = [NewAttachment("договор.pdf", b"%PDF-1.4 signed", "application/pdf")]
    tg_app.processes.start_process("Согласование договора", author, attachments=files)
    asyncio.run(_drain(tg_app, _dispatcher(tg_app)))

    started, task, document = emulator.state.messages(10_000)
    assert document.document is not None and document.document.file_name == "договор.pdf"
    assert document.document.content == b"%PDF-1.4 signed"
    assert started.text == "Запущен новый процесс «Согласование договора»"
    assert task.parse_mode == "HTML"
    assert "Договор <№5> с ООО «Ромашка»" in (task.text or "")
    assert task.entities is not None and {"bold", "underline"} <= {e["type"] for e in task.entities}
    [buttons] = (task.reply_markup or {})["inline_keyboard"]
    assert [b["text"] for b in buttons] == ["Подробнее…", "Выполнена", "Ознакомлен"]
    assert buttons[2]["callback_data"].startswith("ack:")
    assert _statuses(tg_app) == [MessageStatus.SENT, MessageStatus.SENT]


def test_bad_html_is_resent_as_plain_text_and_long_text_is_split(tg_app: App, emulator: EmulatorServer) -> None:
    [person_id] = _people(tg_app, 1)
    from processes.models import Person

    with tg_app.open_session() as session:
        person = session.get(Person, person_id)
        assert person is not None
        queue_message(session, person, "telegram", "Итог: <b>не закрыт тег и a < b")
        queue_message(session, person, "telegram", "<i>" + "длинная строка\n" * 600 + "</i>")
        session.commit()
    asyncio.run(_drain(tg_app, _dispatcher(tg_app)))
    texts = [m.text or "" for m in emulator.state.messages(10_000)]
    assert texts[0] == "Итог: не закрыт тег и a < b"
    assert len(texts) == 4 and all(len(text) <= 4096 for text in texts[1:])
    assert "".join(texts[1:]).count("длинная строка") == 600
    assert _statuses(tg_app) == [MessageStatus.SENT, MessageStatus.SENT]


def test_blocked_and_missing_chats_fail_at_once_with_the_reason(tg_app: App, emulator: EmulatorServer) -> None:
    ids = _people(tg_app, 3)
    emulator.state.block_chat(10_000)
    emulator.state.set_chat_missing(10_001)
    _queue(tg_app, ids)
    asyncio.run(_drain(tg_app, _dispatcher(tg_app)))
    with tg_app.read_session() as session:
        rows = list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))
    assert [r.status for r in rows] == [MessageStatus.FAILED, MessageStatus.FAILED, MessageStatus.SENT]
    assert "blocked" in rows[0].last_error and "chat not found" in rows[1].last_error.lower()
    assert rows[0].attempts == 1 and rows[1].attempts == 1


def test_transient_faults_and_429_deliver_every_message_exactly_once(tg_app: App, emulator: EmulatorServer) -> None:
    ids = _people(tg_app, 40)
    _queue(tg_app, ids[:20], per_person=3)
    _queue(tg_app, ids[20:])
    emulator.state.configure(
        faults=FaultConfig(server_error=0.15, drop_connection=0.15, seed=7),
        limits=LimitConfig(enabled=True, per_bot_per_second=30, per_chat_per_second=1.0, chat_burst=1),
    )
    asyncio.run(_drain(tg_app, _dispatcher(tg_app), seconds=90))
    stats = emulator.state.stats()
    assert stats.accepted == 80
    assert emulator.state.duplicates() == []
    assert set(_statuses(tg_app)) == {MessageStatus.SENT}
    assert sum(stats.faults_injected.values()) > 0


def test_answers_lost_after_acceptance_lose_nothing_and_explain_every_duplicate(
    tg_app: App, emulator: EmulatorServer
) -> None:
    ids = _people(tg_app, 30)
    _queue(tg_app, ids)
    emulator.state.configure(faults=FaultConfig(lost_answer=0.3, server_error=0.1, seed=3))
    asyncio.run(_drain(tg_app, _dispatcher(tg_app)))
    delivered = {chat for chat in range(10_000, 10_030) if emulator.state.messages(chat)}
    assert len(delivered) == 30  # nothing lost
    duplicates = sum(len(group.message_ids) - 1 for group in emulator.state.duplicates())
    assert duplicates > 0
    assert duplicates == emulator.state.duplicates_from_lost_answers()


def test_two_dispatchers_never_send_the_same_message(tg_app: App, emulator: EmulatorServer) -> None:
    ids = _people(tg_app, 120)
    _queue(tg_app, ids)
    first, second = _dispatcher(tg_app), _dispatcher(tg_app)
    outcome: list[BaseException] = []

    def work(dispatcher: Dispatcher) -> None:
        try:
            asyncio.run(_drain(tg_app, dispatcher))
        except BaseException as error:
            outcome.append(error)

    threads = [threading.Thread(target=work, args=(d,)) for d in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcome == []
    assert emulator.state.stats().accepted == 120
    assert emulator.state.duplicates() == []


def test_refused_connections_are_retried_until_telegram_answers(database_url: str) -> None:
    with EmulatorServer() as probe:
        port = probe.port  # a port that answers nothing once the probe is gone
    settings = Settings(database_url=database_url, telegram_token=TOKEN, telegram_api_url=f"http://127.0.0.1:{port}")
    app = bootstrap(settings, apply_migrations=False)
    _queue(app, _people(app, 3))
    dispatcher = _dispatcher(app)
    report = asyncio.run(dispatcher.run_once())
    assert report.retried == 3 and set(_statuses(app)) == {MessageStatus.PENDING}
    with app.read_session() as session:
        errors = set(session.exec(select(OutboxMessage.last_error)))
    assert all("недоступен" in error for error in errors), errors
    with EmulatorServer(port=port) as emulator:
        asyncio.run(_drain(app, _dispatcher(app)))
        assert emulator.state.stats().accepted == 3 and emulator.state.duplicates() == []
    app.close()


def test_429_waits_retry_after_without_spending_an_attempt(tg_app: App, emulator: EmulatorServer) -> None:
    [person_id] = _people(tg_app, 1)
    _queue(tg_app, [person_id], per_person=3)
    emulator.state.configure(limits=LimitConfig(enabled=True, chat_burst=1))
    unlimited = ChannelRegistry([TelegramChannel(TOKEN, emulator.url)])  # no client-side limiter: 429s come back
    asyncio.run(_drain(tg_app, Dispatcher(tg_app.open_session, unlimited, RetryPolicy(max_attempts=2))))
    assert emulator.state.stats().rejected_429 >= 2
    with tg_app.read_session() as session:
        rows = list(session.exec(select(OutboxMessage)))
    assert {r.status for r in rows} == {MessageStatus.SENT} and {r.attempts for r in rows} == {1}
    assert [m.text for m in emulator.state.messages(10_000)] == [f"Сообщение {n} для Сотрудник 0000" for n in range(3)]


def test_acknowledgement_button_records_the_time_for_the_performer_only(tg_app: App, emulator: EmulatorServer) -> None:
    author, other = _people(tg_app, 2)
    with tg_app.open_session() as session:
        store_document(session, parse_scenario_file(SEED_RULES, "seed.yaml", Templates().check), "seed.yaml")
        session.commit()
    tg_app.processes.start_process("Согласование договора", author)
    asyncio.run(_drain(tg_app, _dispatcher(tg_app)))
    [[*_, button]] = (emulator.state.messages(10_000)[1].reply_markup or {})["inline_keyboard"]
    with pytest.raises(InvalidState):
        acknowledge_press(tg_app.open_session, tg_app.processes, button["callback_data"], "10001")
    with pytest.raises(NotFound):
        acknowledge_press(tg_app.open_session, tg_app.processes, "ack:999999", "10000")
    with pytest.raises(NotFound):
        acknowledge_press(tg_app.open_session, tg_app.processes, "ack:1;drop", "10000")
    task_id = acknowledge_press(tg_app.open_session, tg_app.processes, button["callback_data"], "10000")
    with tg_app.read_session() as session:
        task = session.get(Task, task_id)
        acknowledged = session.exec(select(OutboxMessage.acknowledged_at).where(OutboxMessage.task_id == task_id))
        marks = list(acknowledged)
    assert task is not None and task.acknowledged_at is not None
    assert marks == [task.acknowledged_at]
    assert other


def test_emulator_command_serves_the_bot_api(tmp_path: Path) -> None:
    script = str(Path(sys.executable).parent / "signal-ext")
    process = subprocess.Popen([script, "emulator", "--port", "0"], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split(" at ")[1].split()[0]
        answer = httpx.post(f"{url}/bot123:abc/getMe", timeout=10).json()
        assert answer["ok"] is True and answer["result"]["is_bot"] is True
    finally:
        process.terminate()
        process.wait(timeout=10)
