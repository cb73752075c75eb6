"""Dispatcher integrity with real parts: ``signal-ext dispatch`` processes on the test database against the
emulator server with Telegram's limits (one message per second per chat after a burst of three) and a lease that
runs out long before a chat's batch is done; killed processes; long texts and attachments under faults."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from processes.models import Person, PersonCreate
from processes.persons import add_person
from processes.scenario_file import parse_scenario_file
from processes.services import NewAttachment
from processes.timeutil import utcnow
from signal_ext.bootstrap import App, bootstrap
from signal_ext.notifications.chats import link_chat
from signal_ext.notifications.dispatcher import Dispatcher, RetryPolicy
from signal_ext.notifications.messages import queue_message
from signal_ext.notifications.models import MessageStatus, OutboxMessage
from signal_ext.notifications.templates import Templates
from signal_ext.scenario_loading import store_document
from signal_ext.settings import Settings
from signal_ext.storage import create_db_engine
from signal_ext.telegram_emulator import EmulatorServer, FaultConfig
from signal_ext.telegram_emulator.limits import LimitConfig

TOKEN = "7001:system-bot-token"
CHAT_BASE = 20_000
FAST_RETRIES = RetryPolicy(max_attempts=100, base_seconds=0.05, max_seconds=0.2)
SCRIPT = str(Path(sys.executable).parent / "signal-ext")


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def reader(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


def _queue(database_url: str, chats: int, per_chat: int, text: Callable[[int, int], str]) -> dict[int, list[str]]:
    """``per_chat`` messages to each of ``chats`` linked persons, queued round-robin so the chats' rows interleave;
    returns each chat's texts in the order they were queued."""
    app = bootstrap(Settings(database_url=database_url), apply_migrations=False)
    expected: dict[int, list[str]] = {}
    with app.open_session() as session:
        for number in range(chats):
            person = add_person(session, PersonCreate(full_name=f"Получатель {number:02d}"))
            link_chat(session, person, str(CHAT_BASE + number))
        session.commit()
    with app.open_session() as session:
        people = list(session.exec(select(Person).order_by(col(Person.id))))
        for index in range(per_chat):
            for number, person in enumerate(people):
                body = text(number, index)
                queue_message(session, person, "telegram", body)
                expected.setdefault(CHAT_BASE + number, []).append(body)
        session.commit()
    app.close()
    return expected


def _short(chat: int, index: int) -> str:
    return f"Сообщение {index:02d} в чат {chat}"


def _start(database_url: str, emulator: EmulatorServer, workdir: Path, lease: float) -> subprocess.Popen[bytes]:
    """A ``signal-ext dispatch`` process (stderr kept in ``workdir``)."""
    env = dict(
        os.environ,
        SIGNAL_DATABASE_URL=database_url,
        SIGNAL_TELEGRAM_TOKEN=TOKEN,
        SIGNAL_TELEGRAM_API_URL=emulator.url,
        SIGNAL_DISPATCH_LEASE_SECONDS=str(lease),
        SIGNAL_DISPATCH_INTERVAL_SECONDS="0.1",
    )
    log = open(workdir / f"dispatch-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115  (the child owns it)
    with log:
        return subprocess.Popen([SCRIPT, "dispatch"], env=env, cwd=workdir, stdout=log, stderr=log)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:g} s: {what}")
        time.sleep(0.05)


def _rows(reader: Engine) -> list[OutboxMessage]:
    with Session(reader) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def _all_sent(reader: Engine) -> bool:
    return all(row.status == MessageStatus.SENT for row in _rows(reader))


def _first_copies(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def test_two_dispatchers_with_a_short_lease_send_every_message_once_and_in_order(
    database_url: str, emulator: EmulatorServer, reader: Engine, tmp_path: Path
) -> None:
    expected = _queue(database_url, chats=5, per_chat=8, text=_short)
    emulator.state.configure(limits=LimitConfig(enabled=True))  # a chat's 8 messages take 5 s; the lease is 1 s
    processes = [_start(database_url, emulator, tmp_path, lease=1.0) for _ in range(2)]
    try:
        _wait_for(lambda: _all_sent(reader), 120, "every message sent")
    finally:
        _stop(processes)
    assert emulator.state.duplicates() == []
    assert emulator.state.stats().accepted == 40
    for chat, texts in expected.items():
        assert [m.text for m in emulator.state.messages(chat)] == texts


def test_ten_kills_lose_nothing_keep_the_order_and_duplicate_only_the_sends_in_flight(
    database_url: str, emulator: EmulatorServer, reader: Engine, tmp_path: Path
) -> None:
    expected = _queue(database_url, chats=8, per_chat=7, text=_short)
    chats = sorted(expected)
    emulator.state.configure(limits=LimitConfig(enabled=True))
    running = [_start(database_url, emulator, tmp_path, lease=1.5) for _ in range(2)]
    counted: set[int] = set()  # the emulator's copies already counted as in flight at a kill
    in_flight: list[int] = []
    try:
        for _kill in range(10):
            target = emulator.state.stats().accepted + 3
            _wait_for(lambda goal=target: emulator.state.stats().accepted >= goal, 60, "sends before the kill")  # type: ignore[misc]
            victim = _busiest(running, reader)  # the one holding chats: a kill in the middle of its sends
            running.remove(victim)
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            # its rows carry its claim until the lease runs out: what the emulator accepted of them it never recorded
            held = {r.body for r in _rows(reader) if r.status == MessageStatus.SENDING and _holder(r) == victim.pid}
            running.append(_start(database_url, emulator, tmp_path, lease=1.5))
            _wait_for(lambda: emulator.state.stats().in_progress == 0, 10, "the dead process's calls answered")
            copies = [m for chat in chats for m in emulator.state.messages(chat) if m.text in held]
            in_flight.append(len({m.seq for m in copies} - counted))
            counted |= {m.seq for m in copies}
        _wait_for(lambda: _all_sent(reader), 120, "every message sent after the kills")
    finally:
        _stop(running)
    for chat, texts in expected.items():
        assert _first_copies([m.text or "" for m in emulator.state.messages(chat)]) == texts  # none lost, in order
    duplicates = sum(group.extra for group in emulator.state.duplicates())
    assert duplicates <= sum(in_flight), (duplicates, in_flight)


def test_a_stopped_dispatcher_gives_its_chats_back_at_once(
    database_url: str, emulator: EmulatorServer, reader: Engine, tmp_path: Path
) -> None:
    expected = _queue(database_url, chats=2, per_chat=8, text=_short)  # a round of 8 s: one message a second
    process = _start(database_url, emulator, tmp_path, lease=60.0)  # its chats would wait a minute for the lease
    try:
        _wait_for(lambda: emulator.state.stats().accepted >= 4, 60, "the first sends")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        _stop([process])
    rows = _rows(reader)
    sent = [row.body for row in rows if row.status == MessageStatus.SENT]
    assert {row.status for row in rows} == {MessageStatus.SENT, MessageStatus.PENDING}
    left = [row for row in rows if row.status == MessageStatus.PENDING]
    assert all(row.claimed_by is None for row in rows)  # nothing held: another dispatcher takes the rest now
    assert {(row.attempts, row.last_error) for row in left} == {(0, "")}  # given back untouched
    for chat, texts in expected.items():
        delivered = [m.text or "" for m in emulator.state.messages(chat)]
        assert delivered == texts[: len(delivered)] and set(delivered) <= set(sent)


def _holder(row: OutboxMessage) -> int | None:
    """The process id in a row's claim (``host:pid:random``), if it is claimed from this host."""
    host, _, rest = (row.claimed_by or "").partition(":")
    pid = rest.partition(":")[0]
    return int(pid) if host == socket.gethostname()[:30] and pid.isdigit() else None


def _busiest(running: list[subprocess.Popen[bytes]], reader: Engine) -> subprocess.Popen[bytes]:
    """The dispatcher process holding the most rows (the oldest when none holds any)."""
    holders = [_holder(row) for row in _rows(reader) if row.status == MessageStatus.SENDING]
    return max(running, key=lambda process: holders.count(process.pid))


def _long_text(chat: int, index: int) -> str:
    return "\n".join(
        f"Сообщение {index} в чат {chat}, строка {line:03d}: " + " ".join(["текст"] * 12) for line in range(110)
    )


def test_long_texts_under_server_errors_send_no_piece_twice(
    database_url: str, emulator: EmulatorServer, reader: Engine
) -> None:
    expected = _queue(database_url, chats=4, per_chat=3, text=_long_text)  # ~9,000 characters: 3 pieces each
    emulator.state.configure(faults=FaultConfig(server_error=0.2, seed=11))
    settings = Settings(database_url=database_url, telegram_token=TOKEN, telegram_api_url=emulator.url)
    app = bootstrap(settings.model_copy(update={"telegram_rate_per_second": 0}))  # limits play no part here
    dispatcher = Dispatcher(app.open_session, app.channels, FAST_RETRIES, lease_seconds=2)
    try:
        asyncio.run(_drain(app, dispatcher, reader))
    finally:
        app.close()
    assert emulator.state.duplicates() == []
    assert emulator.state.stats().faults_injected["server_error"] > 5
    for chat, texts in expected.items():
        pieces = [m.text or "" for m in emulator.state.messages(chat)]
        assert len(pieces) == 9
        assert "\n".join(pieces).split("\n") == "\n".join(texts).split("\n")  # every line once, in order
    assert {row.delivered_parts for row in _rows(reader)} == {3}


async def _drain(app: App, dispatcher: Dispatcher, reader: Engine, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    try:
        while not _all_sent(reader):
            assert time.monotonic() < deadline, "messages still pending"
            if (await dispatcher.run_once()).claimed == 0:
                await asyncio.sleep(0.05)  # polling: the retries are due a moment later
    finally:
        await app.aclose()


ATTACHING_RULE = """
scenarios:
  - name: Договор
    steps:
      - {title: Подписать договор, deadline: 2d}
    notifications:
      - event: task.created
        channel: telegram
        recipient: task_performer
        attachments: true
        template: "Подпишите договор: задача {{ task.title }}"
"""


def test_a_failed_attachment_is_sent_again_without_its_text(
    database_url: str, emulator: EmulatorServer, reader: Engine
) -> None:
    app = bootstrap(Settings(database_url=database_url, telegram_token=TOKEN, telegram_api_url=emulator.url))
    with app.open_session() as session:
        person = add_person(session, PersonCreate(full_name="Подписант"))
        link_chat(session, person, str(CHAT_BASE))
        store_document(session, parse_scenario_file(ATTACHING_RULE, "r.yaml", Templates().check), "r.yaml")
        session.commit()
    files = [NewAttachment("договор.pdf", b"%PDF-1.4 contract", "application/pdf")]
    app.processes.start_process("Договор", person.id or 0, attachments=files)
    emulator.state.configure(faults=FaultConfig(server_error=1.0, methods=frozenset({"sendDocument"})))
    dispatcher = Dispatcher(app.open_session, app.channels, FAST_RETRIES)

    async def scenario() -> None:
        report = await dispatcher.run_once()
        assert report.retried == 1
        [row] = _rows(reader)
        assert (row.status, row.delivered_parts) == (MessageStatus.PENDING, 1)  # the text is delivered
        emulator.state.configure(faults=FaultConfig())
        await _drain(app, dispatcher, reader)

    try:
        asyncio.run(scenario())
    finally:
        app.close()
    text, document = emulator.state.messages(CHAT_BASE)
    assert text.text == "Подпишите договор: задача Подписать договор" and text.document is None
    assert document.document is not None and document.document.content == b"%PDF-1.4 contract"
    assert emulator.state.stats().faults_injected == {"server_error": 1}


def test_a_dispatcher_that_lost_its_lease_sends_no_more_and_records_nothing(
    database_url: str, emulator: EmulatorServer, reader: Engine
) -> None:
    expected = _queue(database_url, chats=1, per_chat=6, text=_short)
    emulator.state.configure(limits=LimitConfig(enabled=True, chat_burst=1))  # one message a second
    settings = Settings(database_url=database_url, telegram_token=TOKEN, telegram_api_url=emulator.url)
    app = bootstrap(settings, apply_migrations=False)
    late = timedelta()  # how far this dispatcher has fallen behind (a stalled process)
    dispatcher = Dispatcher(
        app.open_session, app.channels, FAST_RETRIES, lease_seconds=30, clock=lambda: utcnow() + late
    )
    worker = threading.Thread(target=lambda: asyncio.run(_round(app, dispatcher)))
    worker.start()
    try:
        _wait_for(lambda: len(emulator.state.messages(CHAT_BASE)) >= 1, 30, "the first message")
        with reader.begin() as connection:  # its lease ran out and another dispatcher took the chat over
            sending = col(OutboxMessage.status) == MessageStatus.SENDING.value
            connection.execute(update(OutboxMessage).where(sending).values(claimed_by="other:1:claim"))
        late = timedelta(seconds=31)
        worker.join(timeout=30)
        assert not worker.is_alive()
    finally:
        app.close()
    delivered = [m.text for m in emulator.state.messages(CHAT_BASE)]
    assert delivered == expected[CHAT_BASE][: len(delivered)] and len(delivered) <= 2  # at most the one in flight
    first, *taken = _rows(reader)
    assert first.status == MessageStatus.SENT
    assert {(row.status, row.claimed_by, row.attempts) for row in taken} == {
        (MessageStatus.SENDING, "other:1:claim", 0)
    }


async def _round(app: App, dispatcher: Dispatcher) -> None:
    try:
        await dispatcher.run_once()
    finally:
        await app.aclose()
