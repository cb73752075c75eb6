"""The system bot under load: N simulated users at once, each completing one task through the real bot.

Each user, in its own asyncio task, walks the route «Мои задачи» → presses its task (inline button) → presses
«Выполнена» → sends a comment → receives the confirmation («… выполнена»), waiting for the bot's reply before
each next step. The service is ``signal-ext run``'s own (``start_service``): uvicorn with the Bot API emulator
under ``/telegram`` and the system bot, a real python-telegram-bot ``Application`` long-polling it — all in this
process and event loop, so the simulated users share the CPU with the bot and are kept light: they do not poll
``EmulatorState.messages`` (it copies and sorts every recorded message of every chat) but wait on a per-chat
queue fed by a thin wrapper around this emulator instance's ``record_message`` (see :class:`Inbox`).

Seed, per run: a fresh SQLite file in a temporary directory (migrated by ``bootstrap``), N persons each linked to
its own chat, and one open standalone task per person (``ProcessService.create_task``).

Runs, each with its own database and service:

* «limits off»: the emulator's limits off; the service exactly as it ships;
* «limits on»: Telegram's limits on in the emulator (``LimitConfig(enabled=True)``: 30 messages/s per bot, 1/s
  per chat with a burst of 3); the service exactly as it ships;
* «raw capacity» (diagnostic, ``--no-raw`` skips it): the emulator's limits off and the bot's own client-side
  rate limiter removed from the running bot, so the run shows what the handlers, HTTP and database can do.

Measured: route time from the user's first message to the confirmation (p50/p95/max), updates handled per second
(updates pushed ÷ wall time of the whole run, from the first message to the last bot reply), per-step reply
times, the CPU the process used, lost replies (a user gives up when the bot has sent nothing at all for
``STALL_S`` seconds), unanswered button presses, 429s the emulator answered, PTB's retries after them, and the
warnings and errors logged meanwhile, attributed to their run; for «limits on» the floor the 30 messages/s limit
sets (bot messages ÷ 30) and the run's ratio to it.

With ``--quick`` (or ``--side-by-side``) «limits off» and «limits on» run at the same time, each with its own
service: both are paced by rate limiters, not by the CPU, and one after the other they would not fit in 30 s.

Run from the repository root: ``.venv/bin/python bench/bot.py [--quick] [--users N] [--no-raw]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextvars  # noqa: E402
import logging  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

from sqlmodel import col, func, select  # noqa: E402

from processes.models import PersonCreate, Task, TaskCreate, TaskStatus  # noqa: E402
from processes.persons import add_person  # noqa: E402
from signal_ext.bootstrap import bootstrap  # noqa: E402
from signal_ext.notifications.chats import link_chat  # noqa: E402
from signal_ext.notifications.models import SYSTEM_BOT  # noqa: E402
from signal_ext.run import Running, start_service, stop_service  # noqa: E402
from signal_ext.settings import Settings  # noqa: E402
from signal_ext.telegram_emulator import EmulatorState, LimitConfig  # noqa: E402
from signal_ext.telegram_emulator.models import RecordedMessage  # noqa: E402

FULL_USERS = 1000
QUICK_USERS = 100
CHAT_BASE = 700_000
BOT_LIMIT_PER_SECOND = 30
STALL_S = 5.0  # a user gives up on a reply when the bot has sent nothing to anyone for this long
MY_TASKS, COMMENT, ASK_MARK, DONE_MARK = "Мои задачи", "Сделано, проверено", "комментарий", "выполнена"
STEPS = ("«Мои задачи» → список", "задача → карточка", "«Выполнена» → запрос комментария", "комментарий → «выполнена»")
UPDATES_PER_ROUTE = len(STEPS)
TARGET_UPDATES_PER_S = 200.0
TARGET_FLOOR_RATIO = 1.10
REFERENCE_SLOWEST_S = 250.0
MIGRATING = asyncio.Lock()
RUN_NAME: contextvars.ContextVar[str] = contextvars.ContextVar("bench_bot_run", default="-")


@dataclass(frozen=True)
class RunSpec:
    """One run's conditions."""

    name: str
    limited: bool  # the emulator enforces Telegram's limits
    client_limiter: bool  # the bot keeps its own rate limiter (as the service ships)


LIMITS_OFF = RunSpec("limits off", limited=False, client_limiter=True)
LIMITS_ON = RunSpec("limits on", limited=True, client_limiter=True)
RAW = RunSpec("raw capacity", limited=False, client_limiter=False)


# --- seeding --------------------------------------------------------------------------------------------------


def seed(database_url: str, users: int) -> float:
    """Migrates a fresh database and adds ``users`` persons, each linked to chat ``CHAT_BASE + i`` with one open
    standalone task of their own; returns the seconds it took."""
    began = time.perf_counter()
    app = bootstrap(Settings(database_url=database_url))
    try:
        person_ids: list[int] = []
        with app.open_session() as session:
            for number in range(users):
                person = add_person(session, PersonCreate(full_name=f"Сотрудник Номер {number:05d}"))
                link_chat(session, person, str(CHAT_BASE + number))
                assert person.id is not None
                person_ids.append(person.id)
            session.commit()
        for number, person_id in enumerate(person_ids):
            title = f"Проверить отчёт {number:05d}"
            app.processes.create_task(TaskCreate(title=title, performer_id=person_id, author_id=person_id))
    finally:
        app.close()
    return time.perf_counter() - began


def count_tasks(database_url: str) -> tuple[int, int]:
    """(tasks done, tasks still active) in the database."""
    app = bootstrap(Settings(database_url=database_url), apply_migrations=False)
    try:
        with app.read_session() as session:
            counts = dict(session.exec(select(Task.status, func.count(col(Task.id))).group_by(Task.status)).all())
    finally:
        app.close()
    return int(counts.get(TaskStatus.DONE, 0)), int(counts.get(TaskStatus.ACTIVE, 0))


# --- the users' side ------------------------------------------------------------------------------------------


class RouteError(Exception):
    """A user's route went wrong: no reply, or not the reply the route expects."""


@dataclass(frozen=True)
class Seen:
    """A bot message as the user sees it: its id, text, inline buttons (label, callback data), arrival time."""

    message_id: int
    text: str
    buttons: tuple[tuple[str, str], ...]
    at: float

    def button(self, prefix: str) -> str:
        """The callback data of the only button whose data starts with ``prefix``."""
        found = [data for _label, data in self.buttons if data.startswith(prefix)]
        if len(found) != 1:
            raise RouteError(f"expected one {prefix!r} button in {self.text!r}, found {self.buttons}")
        return found[0]


class Inbox:
    """Per-chat queues of the messages the bot sends, fed by a wrapper around ``EmulatorState.record_message``.

    The emulator records every accepted ``sendMessage`` through ``record_message`` (here in the event loop, as the
    emulator is served by the service's own uvicorn); the wrapper hands a snapshot to the chat's queue, so a
    waiting user wakes exactly when its reply exists, without polling. Only this emulator instance is wrapped."""

    def __init__(self, state: EmulatorState) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._queues: dict[int, asyncio.Queue[Seen]] = {}
        self.last_at = time.perf_counter()
        original = state.record_message

        def record_message(bot_id: int, chat_id: int, **content: Any) -> RecordedMessage:
            message = original(bot_id, chat_id, **content)
            self._deliver(chat_id, _snapshot(message))
            return message

        state.record_message = record_message  # type: ignore[method-assign]

    def _queue(self, chat_id: int) -> asyncio.Queue[Seen]:
        found = self._queues.get(chat_id)
        if found is None:
            found = self._queues[chat_id] = asyncio.Queue()
        return found

    def _put(self, chat_id: int, seen: Seen) -> None:
        self.last_at = seen.at
        self._queue(chat_id).put_nowait(seen)

    def _deliver(self, chat_id: int, seen: Seen) -> None:
        if threading.get_ident() == self._loop_thread:
            self._put(chat_id, seen)
        else:
            self._loop.call_soon_threadsafe(self._put, chat_id, seen)

    async def next(self, chat_id: int, limit_s: float) -> Seen:
        """The chat's next bot message. Gives up when the bot has sent nothing to anyone for ``STALL_S`` seconds
        since this wait began (the reply is lost), or after ``limit_s`` seconds in any case."""
        queue = self._queue(chat_id)
        began = time.perf_counter()
        while True:
            try:
                return await asyncio.wait_for(queue.get(), 1.0)
            except TimeoutError:
                now = time.perf_counter()
                if now - max(self.last_at, began) > STALL_S:
                    raise RouteError(f"reply lost: the bot sent nothing to anyone for {STALL_S:.0f} s") from None
                if now - began > limit_s:
                    raise RouteError(f"no reply within {limit_s:.0f} s") from None


def _snapshot(message: RecordedMessage) -> Seen:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    buttons = tuple((str(b.get("text", "")), str(b.get("callback_data", ""))) for row in rows for b in row)
    return Seen(message.message_id, message.text or "", buttons, time.perf_counter())


@dataclass
class Route:
    """One user's walk: when each reply came (seconds from the first message), or what went wrong."""

    chat_id: int
    steps: list[float] = field(default_factory=list)
    error: str | None = None
    pushed: int = 0

    @property
    def seconds(self) -> float | None:
        """From the first message to the confirmation, if the route completed."""
        return self.steps[-1] if self.error is None and len(self.steps) == UPDATES_PER_ROUTE else None


async def walk(state: EmulatorState, inbox: Inbox, bot_id: int, chat_id: int, limit_s: float) -> Route:
    """One simulated user: «Мои задачи» → its task → «Выполнена» → a comment → the confirmation."""
    route = Route(chat_id)
    began = time.perf_counter()

    async def reply() -> Seen:
        seen = await inbox.next(chat_id, limit_s)
        route.steps.append(seen.at - began)
        return seen

    try:
        state.push_user_message(chat_id, MY_TASKS, bot=bot_id)
        route.pushed += 1
        listing = await reply()
        state.push_callback(chat_id, listing.message_id, listing.button("task:"), bot=bot_id)
        route.pushed += 1
        card = await reply()
        state.push_callback(chat_id, card.message_id, card.button("done:"), bot=bot_id)
        route.pushed += 1
        ask = await reply()
        if ASK_MARK not in ask.text:
            raise RouteError(f"expected the comment prompt, got {ask.text!r}")
        state.push_user_message(chat_id, COMMENT, bot=bot_id)
        route.pushed += 1
        done = await reply()
        if DONE_MARK not in done.text:
            raise RouteError(f"expected the confirmation, got {done.text!r}")
    except (RouteError, ValueError) as error:  # ValueError: the emulator refused a press
        step = min(len(route.steps), UPDATES_PER_ROUTE - 1)
        route.error = f"step {step + 1} ({STEPS[step]}): {error}"
    return route


# --- what the service logs meanwhile --------------------------------------------------------------------------


class LogTally(logging.Handler):
    """Counts, per run, the records at WARNING and above, and PTB's «Rate limit hit» retries (logged at INFO).

    The run is told by ``RUN_NAME``, set in each run's task and so inherited by the tasks and threads the
    service starts in it."""

    RETRIES_LOGGER = "telegram.ext.AIORateLimiter"

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: Counter[tuple[str, str, str, str]] = Counter()  # (run, logger, level, message head)
        self.examples: dict[tuple[str, str, str, str], str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        """Tallies one record."""
        if record.levelno < logging.WARNING and record.name != self.RETRIES_LOGGER:
            return
        text = record.getMessage()
        first = text.splitlines()[0] if text else ""
        head = re.sub(r"\d+", "N", " ".join(first.split()[:5]))  # «update 88 failed» and «update 95 failed» are one
        key = (RUN_NAME.get(), record.name, record.levelname, head)
        self.counts[key] += 1
        if key not in self.examples:
            if record.exc_info and record.exc_info[1] is not None:
                first += f" — {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
            self.examples[key] = first[:240]

    def retries(self, run: str) -> int:
        """How many times PTB's limiter slept on a 429 before retrying, in ``run``."""
        return sum(n for (r, name, level, _), n in self.counts.items() if r == run and level == "INFO")

    def problems(self, run: str) -> list[tuple[int, str]]:
        """(count, «logger LEVEL: first message») of the warnings and errors of ``run``, most frequent first."""
        return [
            (n, f"{name} {level}: {self.examples[(r, name, level, head)]}")
            for (r, name, level, head), n in self.counts.most_common()
            if r == run and level != "INFO"
        ]


# --- one run --------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one run measured."""

    spec: RunSpec
    users: int
    seed_s: float
    wall_s: float
    waited_s: float
    cpu_s: float
    routes: list[Route]
    bot_messages: int
    got_429: int
    requests: dict[str, int]
    unanswered_presses: int
    pending_updates: int
    done_in_db: int
    active_in_db: int
    ptb_retries: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def completed(self) -> list[float]:
        """The route times of the users who got their confirmation, sorted."""
        return sorted(s for r in self.routes if (s := r.seconds) is not None)

    @property
    def failures(self) -> list[Route]:
        """The routes that did not complete."""
        return [r for r in self.routes if r.error is not None]

    @property
    def pushed(self) -> int:
        """Updates the users pushed (messages and button presses)."""
        return sum(r.pushed for r in self.routes)

    @property
    def updates_per_s(self) -> float:
        """Updates pushed ÷ wall time of the whole run."""
        return self.pushed / self.wall_s if self.wall_s else 0.0

    @property
    def floor_s(self) -> float:
        """The least time 30 messages/s allow for the bot messages sent."""
        return self.bot_messages / BOT_LIMIT_PER_SECOND

    @property
    def floor_ratio(self) -> float:
        """Whole run time ÷ the floor."""
        return self.wall_s / self.floor_s if self.floor_s else 0.0

    def percentile(self, share: float) -> float:
        """A percentile of the completed route times (nearest rank), 0 when none completed."""
        return _rank(self.completed, share)

    def step_times(self, index: int) -> list[float]:
        """Sorted durations of step ``index`` (from the user's action to the bot's reply) over all users."""
        durations = []
        for route in self.routes:
            if len(route.steps) > index:
                durations.append(route.steps[index] - (route.steps[index - 1] if index else 0.0))
        return sorted(durations)


def _rank(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, max(0, round(share * len(values)) - 1))] if values else 0.0


async def run(spec: RunSpec, directory: str, users: int) -> Outcome:
    """Seeds a database, starts the service, lets ``users`` users walk at once, stops the service."""
    RUN_NAME.set(spec.name)
    database_url = f"sqlite:///{directory}/{spec.name.replace(' ', '_')}.db"
    async with MIGRATING:  # Alembic's ``context`` is global: two migrations at once in one process cross-wire
        seed_s = await asyncio.to_thread(seed, database_url, users)
        running: Running = await start_service(Settings(database_url=database_url), "127.0.0.1", 0)
    try:
        state = running.emulator
        assert state is not None, "the service must run on the built-in emulator"
        state.configure(limits=LimitConfig(enabled=spec.limited))
        bot = running.runner.running[SYSTEM_BOT].bot
        if not spec.client_limiter:
            bot._rate_limiter = None  # diagnostic only: PTB then sends at once
        inbox = Inbox(state)
        bot_id = state.bot_for_token(bot.token).id  # the system bot, whatever other bots run beside it
        before = state.stats()
        # A reply may wait behind every message of the run when a limiter paces the bot; lost ones end sooner.
        limit_s = 60.0 + 2 * UPDATES_PER_ROUTE * users / BOT_LIMIT_PER_SECOND
        cpu_began, began = time.process_time(), time.perf_counter()
        chats = [CHAT_BASE + number for number in range(users)]
        routes = await asyncio.gather(*(walk(state, inbox, bot_id, chat, limit_s) for chat in chats))
        ended, cpu_s = time.perf_counter(), time.process_time() - cpu_began
        await asyncio.sleep(0.3)  # the last answerCallbackQuery may still be on its way
        after = state.stats()
        with state.lock:
            unanswered = sum(1 for query in state.callbacks.values() if query["answer"] is None)
        pending = state.updates.pending(bot_id)
        requests = {m: n - before.requests.get(m, 0) for m, n in after.requests.items()}
    finally:
        await stop_service(running)
    done, active = await asyncio.to_thread(count_tasks, database_url)
    return Outcome(
        spec=spec,
        users=users,
        seed_s=seed_s,
        wall_s=max(inbox.last_at, began) - began,
        waited_s=ended - began,
        cpu_s=cpu_s,
        routes=list(routes),
        bot_messages=after.accepted - before.accepted,
        got_429=after.rejected_429 - before.rejected_429,
        requests=requests,
        unanswered_presses=unanswered,
        pending_updates=pending,
        done_in_db=done,
        active_in_db=active,
    )


# --- the report -----------------------------------------------------------------------------------------------


def _quantiles(values: list[float]) -> str:
    if not values:
        return "—"
    return (
        f"p50 {_rank(values, 0.5):6.2f}  p95 {_rank(values, 0.95):6.2f}  max {values[-1]:6.2f}"
        f"  mean {statistics.fmean(values):6.2f}"
    )


def show(outcome: Outcome, cpu_shared: bool) -> None:
    """Prints one run's figures."""
    spec = outcome.spec
    limiter = "kept" if spec.client_limiter else "REMOVED (diagnostic)"
    print(
        f"\n== {spec.name}: {outcome.users} users at once; emulator limits {'on' if spec.limited else 'off'}, "
        f"bot's own rate limiter {limiter}; seeded in {outcome.seed_s:.1f} s"
    )
    cpu = f"CPU {outcome.cpu_s:.1f} s ({100 * outcome.cpu_s / outcome.waited_s:.0f} % of one core)"
    print(
        f"  whole run {outcome.wall_s:.2f} s: {outcome.pushed} updates → {outcome.updates_per_s:.1f} updates/s, "
        f"{outcome.bot_messages} bot messages → {outcome.bot_messages / outcome.wall_s:.1f}/s; "
        + (f"{cpu}, both runs together" if cpu_shared else cpu)
    )
    completed = outcome.completed
    print(f"  routes completed {len(completed)}/{outcome.users}; route s: {_quantiles(completed)}")
    for index, step in enumerate(STEPS):
        print(f"    step {index + 1} {step:36} s: {_quantiles(outcome.step_times(index))}")
    print("  requests: " + ", ".join(f"{m} {n}" for m, n in sorted(outcome.requests.items()) if n))
    print(
        f"  database: {outcome.done_in_db} tasks done, {outcome.active_in_db} still active; presses unanswered "
        f"{outcome.unanswered_presses}; updates never fetched {outcome.pending_updates}"
    )
    print(f"  429 answered by the emulator: {outcome.got_429}; PTB's retries after a 429: {outcome.ptb_retries}")
    if spec.limited:
        print(
            f"  floor at {BOT_LIMIT_PER_SECOND} messages/s: {outcome.floor_s:.2f} s; whole run ÷ floor = "
            f"{outcome.floor_ratio:.3f} (target ≤ {TARGET_FLOOR_RATIO:.2f} with zero 429s)"
        )
    failures = outcome.failures
    if failures:
        print(
            f"  FAILED routes: {len(failures)} (the users then waited {outcome.waited_s - outcome.wall_s:.1f} s "
            "more before giving up; not counted in the whole run)"
        )
        for reason, count in Counter(r.error for r in failures).most_common(5):
            print(f"    {count} × {reason}")
    print(f"  logged: {sum(n for n, _ in outcome.problems)} warnings/errors")
    for count, line in outcome.problems[:6]:
        print(f"    {count} × {line}")
    if len(outcome.problems) > 6:
        print(f"    … and {sum(n for n, _ in outcome.problems[6:])} more like them")


def verdict(free: Outcome, limited: Outcome, raw: Outcome | None) -> None:
    """Prints the targets met or missed, and what the diagnostic run says."""
    print("\n== targets")
    met = "met" if free.updates_per_s >= TARGET_UPDATES_PER_S else "MISSED"
    print(f"  limits off: {free.updates_per_s:.1f} updates/s (target ≥ {TARGET_UPDATES_PER_S:.0f}) — {met}")
    paced = free.bot_messages / free.wall_s
    if paced <= BOT_LIMIT_PER_SECOND * 1.1:
        print(
            f"    the bot sent {paced:.1f} messages/s with the emulator's limits off: its own client-side limiter "
            f"(about {BOT_LIMIT_PER_SECOND}/s per bot) paces it, so this run cannot exceed about "
            f"{BOT_LIMIT_PER_SECOND * free.pushed / max(1, free.bot_messages):.0f} updates/s"
        )
    if raw is not None:
        met = "would meet" if raw.updates_per_s >= TARGET_UPDATES_PER_S else "would still miss"
        print(
            f"    without that limiter (diagnostic run): {raw.updates_per_s:.1f} updates/s, "
            f"CPU {100 * raw.cpu_s / raw.waited_s:.0f} % of one core — {met} the target"
        )
    ratio = "met" if limited.floor_ratio <= TARGET_FLOOR_RATIO else "MISSED"
    zero = "met" if limited.got_429 == 0 else "MISSED"
    print(
        f"  limits on: whole run {limited.floor_ratio:.3f} × the floor (target ≤ {TARGET_FLOOR_RATIO:.2f}) — {ratio};"
        f" 429s {limited.got_429} (target 0) — {zero}"
    )
    lost = sum(len(o.failures) for o in (free, limited, raw) if o is not None)
    print(f"  lost or wrong replies over all runs: {lost}")
    slowest = max(o.percentile(1.0) for o in (free, limited))
    print(f"  slowest route {slowest:.1f} s (DIRECTUM's reference: ~{REFERENCE_SLOWEST_S:.0f} s for 1,000 routes)")


async def main_async(users: int, side_by_side: bool, with_raw: bool) -> tuple[Outcome, Outcome, Outcome | None]:
    """The runs, each with its own database and service; the log tally attributes records to them."""
    tally = LogTally()
    root = logging.getLogger()
    root.addHandler(tally)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    logging.getLogger(LogTally.RETRIES_LOGGER).setLevel(logging.INFO)
    try:
        with tempfile.TemporaryDirectory(prefix="signal-bench-bot-") as directory:
            if side_by_side:
                free, limited = await asyncio.gather(
                    run(LIMITS_OFF, directory, users), run(LIMITS_ON, directory, users)
                )
            else:  # each run in a task of its own, so that its RUN_NAME stays with it
                free = await asyncio.create_task(run(LIMITS_OFF, directory, users))
                limited = await asyncio.create_task(run(LIMITS_ON, directory, users))
            raw = await asyncio.create_task(run(RAW, directory, users)) if with_raw else None
    finally:
        root.removeHandler(tally)
    for outcome in (free, limited, raw):
        if outcome is not None:
            outcome.ptb_retries = tally.retries(outcome.spec.name)
            outcome.problems = tally.problems(outcome.spec.name)
            show(outcome, cpu_shared=side_by_side and outcome is not raw)
    return free, limited, raw


def main() -> None:
    """Runs the benchmark and prints the summary, ending with the RESULT line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_USERS} users instead of {FULL_USERS}")
    parser.add_argument("--users", type=int, default=None, help="any other number of users")
    parser.add_argument("--no-raw", action="store_true", help="skip the diagnostic run without the bot's limiter")
    together = parser.add_mutually_exclusive_group()
    together.add_argument("--side-by-side", action="store_true", help="«limits off» and «limits on» at once")
    together.add_argument("--one-by-one", action="store_true", help="one after the other (the default unless quick)")
    arguments = parser.parse_args()
    users = arguments.users or (QUICK_USERS if arguments.quick else FULL_USERS)
    side_by_side = arguments.side_by_side or (arguments.quick and not arguments.one_by_one)
    began = time.perf_counter()
    free, limited, raw = asyncio.run(main_async(users, side_by_side, not arguments.no_raw))
    verdict(free, limited, raw)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  benchmark took {time.perf_counter() - began:.1f} s in all; peak RSS {peak_mb:.0f} MB")
    print(
        f"RESULT updates_per_s={free.updates_per_s:.1f} p95_route_s={free.percentile(0.95):.2f} "
        f"max_route_s={free.percentile(1.0):.2f} floor_ratio={limited.floor_ratio:.3f} got_429={limited.got_429}"
    )


if __name__ == "__main__":
    main()
