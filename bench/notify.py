"""Notification throughput: task-created events → rules → outbox → dispatcher → the Bot API emulator.

Three runs on SQLite, each with its own database and emulator:
* unthrottled: the emulator's limits off and the client's limiter off — messages/s end to end (from the first
  task created to the last message the emulator accepted);
* throttled: Telegram's limits on at both ends (the client keeps ~30/s per bot and 1/s per chat before sending,
  the emulator answers 429 past them) — the sustained rate and how many 429s came back;
The emulator runs in its own process (``signal-ext emulator``), as Telegram would be on another machine, so the
two do not share one interpreter lock.

* faults: 20 % of send requests fail (5 % each: HTTP 5xx, dropped connection, timeout, answer lost after the
  message was accepted) — delivered, lost, duplicated, and how many duplicates a lost answer explains.

Run from the repository root: ``.venv/bin/python bench/notify.py [--quick]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
from sqlmodel import select  # noqa: E402

from processes.models import PersonCreate, TaskCreate  # noqa: E402
from processes.persons import add_person  # noqa: E402
from processes.scenario_file import parse_scenario_file  # noqa: E402
from signal_ext.bootstrap import App, bootstrap  # noqa: E402
from signal_ext.channels.registry import ChannelRegistry  # noqa: E402
from signal_ext.channels.telegram import ChatRateLimiter, TelegramChannel  # noqa: E402
from signal_ext.notifications.chats import link_chat  # noqa: E402
from signal_ext.notifications.dispatcher import Dispatcher, RetryPolicy  # noqa: E402
from signal_ext.notifications.models import MessageStatus, OutboxMessage  # noqa: E402
from signal_ext.notifications.templates import Templates  # noqa: E402
from signal_ext.scenario_loading import store_document  # noqa: E402
from signal_ext.settings import Settings  # noqa: E402

TOKEN = "9001:bench"
CHATS_BASE = 500_000
RULE = """
notifications:
  - event: task.created
    channel: telegram
    recipient: task_performer
    template: "Вам поставлена новая задача №{{ task.id }}: <b>{{ task.title }}</b> от {{ task.author }}"
"""


class RemoteEmulator:
    """``signal-ext emulator`` in a child process, steered through its control API."""

    def __init__(self) -> None:
        script = Path(sys.executable).parent / "signal-ext"
        self.process = subprocess.Popen(
            [str(script), "emulator", "--port", str(free_port())], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        self.url = banner.split(" at ")[1].split()[0]
        self.client = httpx.Client(base_url=self.url, timeout=30)

    def configure(self, faults: dict[str, object] | None, limits: dict[str, object]) -> None:
        """Sets the fault rates and the limits."""
        self.client.post("/_emulator/config", json={"faults": faults or {}, "limits": limits}).raise_for_status()

    def stats(self) -> dict[str, Any]:
        """The emulator's counters."""
        answer: dict[str, Any] = self.client.get("/_emulator/stats").json()
        return answer

    def close(self) -> None:
        """Stops the child process."""
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=10)


def free_port() -> int:
    """A port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Outcome:
    """What one run measured."""

    messages: int
    seconds: float
    got_429: int
    delivered: int
    duplicated: int
    dup_from_lost_answers: int

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def prepare(directory: str, name: str, performers: int) -> App:
    """A fresh database with ``performers`` linked persons and the task-created rule."""
    app = bootstrap(Settings(database_url=f"sqlite:///{directory}/{name}.db"))
    with app.open_session() as session:
        for number in range(performers + 1):
            person = add_person(session, PersonCreate(full_name=f"Сотрудник {number:05d}"))
            link_chat(session, person, str(CHATS_BASE + number))
        store_document(session, parse_scenario_file(RULE, "bench.yaml", Templates().check), "bench.yaml")
        session.commit()
    return app


def create_tasks(app: App, count: int, performers: int) -> None:
    """``count`` standalone tasks by person 1, spread over the performers."""
    for number in range(count):
        performer = 2 + number % performers
        app.processes.create_task(TaskCreate(title=f"Задача {number}", performer_id=performer, author_id=1))


async def dispatch_all(app: App, dispatcher: Dispatcher, channel: TelegramChannel, limit_s: float) -> None:
    """Dispatch rounds until nothing is pending (or ``limit_s`` runs out)."""
    deadline = time.monotonic() + limit_s
    try:
        while time.monotonic() < deadline:
            report = await dispatcher.run_once(limit=500)
            if report.claimed == 0 and not pending(app):
                return
            if report.claimed == 0:
                await asyncio.sleep(0.05)
    finally:
        await channel.close()


def pending(app: App) -> int:
    """Messages not yet in a final state."""
    open_states = (MessageStatus.PENDING, MessageStatus.SENDING, MessageStatus.SCHEDULED)
    with app.read_session() as session:
        return len(session.exec(select(OutboxMessage.id).where(OutboxMessage.status.in_(open_states))).all())  # type: ignore[attr-defined]


def run(directory: str, name: str, count: int, throttled: bool, faults: dict[str, object] | None) -> Outcome:
    """One run: tasks → outbox → dispatcher → emulator; the clock runs from the first task to the last send."""
    performers = min(1000, max(40, count // 10))
    app = prepare(directory, name, performers)
    emulator = RemoteEmulator()
    try:
        emulator.configure(faults, {"enabled": throttled})
        defaults = Settings()
        rates = (defaults.telegram_rate_per_second, defaults.telegram_chat_rate_per_second, 20.0)
        limiter = ChatRateLimiter(*rates) if throttled else None
        channel = TelegramChannel(TOKEN, emulator.url, limiter, timeout_seconds=1.5)
        policy = RetryPolicy(max_attempts=1000, base_seconds=0.05, max_seconds=0.5)
        dispatcher = Dispatcher(app.open_session, ChannelRegistry([channel]), policy)
        began = time.perf_counter()
        create_tasks(app, count, performers)
        created = time.perf_counter()
        asyncio.run(dispatch_all(app, dispatcher, channel, limit_s=3600))
        done = time.perf_counter()
        print(f"  {name}: tasks created in {created - began:.1f} s, dispatched in {done - created:.1f} s")
        # End to end from the first task; with limits on, the sustained sending rate once the outbox is full.
        seconds = done - created if throttled else done - began
        stats = emulator.stats()
    finally:
        emulator.close()
        app.close()
    duplicated = int(stats["duplicates"])
    return Outcome(
        count,
        seconds,
        int(stats["rejected_429"]),
        int(stats["accepted"]) - duplicated,
        duplicated,
        int(stats["duplicates_from_lost_answers"]),
    )


def main() -> None:
    """Runs the three measurements and prints them with the RESULT line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small load, under 30 s")
    quick = parser.parse_args().quick
    sizes = (1000, 250, 300) if quick else (10_000, 10_000, 10_000)
    faults: dict[str, object] = {
        "server_error": 0.05,
        "drop_connection": 0.05,
        "timeout": 0.05,
        "lost_answer": 0.05,
        "timeout_seconds": 2.0,
        "seed": 42,
    }
    with tempfile.TemporaryDirectory() as directory:
        free = run(directory, "free", sizes[0], throttled=False, faults=None)
        print(f"unthrottled: {free.messages} messages in {free.seconds:.1f} s = {free.per_second:.1f}/s")
        limited = run(directory, "limited", sizes[1], throttled=True, faults=None)
        print(
            f"throttled:   {limited.messages} messages in {limited.seconds:.1f} s = {limited.per_second:.1f}/s, "
            f"429 received: {limited.got_429}"
        )
        faulty = run(directory, "faults", sizes[2], throttled=False, faults=faults)
        lost = faulty.messages - faulty.delivered
        print(
            f"20% faults:  delivered {faulty.delivered}/{faulty.messages}, lost {lost}, duplicated "
            f"{faulty.duplicated} (from answers lost after acceptance: {faulty.dup_from_lost_answers})"
        )
    print(
        f"RESULT unthrottled_per_s={free.per_second:.1f} throttled_per_s={limited.per_second:.1f} "
        f"got_429={limited.got_429} delivered={faulty.delivered} lost={lost} duplicated={faulty.duplicated} "
        f"dup_from_lost_answers={faulty.dup_from_lost_answers}"
    )


if __name__ == "__main__":
    main()
