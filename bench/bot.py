"""The system bot under load: N simulated users at once, each completing one task through the real bot.

Each user, in its own asyncio task, walks the route «Мои задачи» → presses its task (inline button) → presses
«Выполнена» → sends a comment → receives the confirmation («… выполнена»), waiting for the bot's reply before
each next step. The service is ``signal-ext run`` in a process of its own, as deployed, its token pointing at the
Bot API emulator this process serves (uvicorn in a thread); so the service has one core, and the emulator with
the simulated users the other. Users wait on a per-chat queue fed by a thin wrapper around the emulator's
``record_message`` (see :class:`Inbox`).

Seed, per run: a fresh SQLite file in a temporary directory (migrated by ``bootstrap``), N persons each linked to
its own chat, and one open standalone task per person (``ProcessService.create_task``).

Runs, one after the other, each with its own database, service process and bot token:

* «limits off»: the emulator's limits off, and the service told so (``SIGNAL_TELEGRAM_RATE_PER_SECOND=0``: it
  keeps no client-side limits, as with a Bot API server that has none);
* «limits on»: Telegram's limits on in the emulator (30 messages/s per bot, 1/s per chat with a burst of 3);
  the service exactly as it ships (it keeps those limits itself).

Measured: route time from the user's first message to the confirmation (p50/p95/max), updates handled per second
(updates pushed ÷ wall time of the whole run, from the first message to the last bot reply), per-step reply
times, the CPU of the service process and of this one, lost replies (a user gives up when the bot has sent
nothing at all for ``STALL_S`` seconds), unanswered button presses, 429s the emulator answered, and the warnings
and errors the service logged; for «limits on» the floor the 30 messages/s limit sets (bot messages ÷ 30) and
the run's ratio to it.

Run from the repository root: ``.venv/bin/python bench/bot.py [--quick] [--users N]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

from sqlmodel import col, func, select  # noqa: E402

from processes.models import PersonCreate, Task, TaskCreate, TaskStatus  # noqa: E402
from processes.persons import add_person  # noqa: E402
from signal_ext.bootstrap import bootstrap  # noqa: E402
from signal_ext.notifications.chats import link_chat  # noqa: E402
from signal_ext.settings import Settings  # noqa: E402
from signal_ext.telegram_emulator import EmulatorServer, EmulatorState, LimitConfig  # noqa: E402
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


@dataclass(frozen=True)
class RunSpec:
    """One run's conditions."""

    name: str
    limited: bool  # the emulator enforces Telegram's limits
    client_limiter: bool  # the service keeps Telegram's limits itself (SIGNAL_TELEGRAM_RATE_PER_SECOND > 0)
    bot_id: int  # each run's service has a token of its own, so the runs' chats and updates never mix


LIMITS_OFF = RunSpec("limits off", limited=False, client_limiter=False, bot_id=300001)
LIMITS_ON = RunSpec("limits on", limited=True, client_limiter=True, bot_id=300002)


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
    """Per-chat queues of the messages the bots send, fed by a wrapper around ``EmulatorState.record_message``.

    The emulator records every accepted ``sendMessage`` through ``record_message`` (in the emulator's server
    thread); the wrapper hands a snapshot to the chat's queue in the users' event loop, so a waiting user wakes
    exactly when its reply exists, without polling ``messages()`` (which copies every chat's messages)."""

    def __init__(self, state: EmulatorState) -> None:
        self._loop = asyncio.get_running_loop()
        self._queues: dict[tuple[int, int], asyncio.Queue[Seen]] = {}
        self._last_at: dict[int, float] = {}
        original = state.record_message

        def record_message(bot_id: int, chat_id: int, **content: Any) -> RecordedMessage:
            message = original(bot_id, chat_id, **content)
            self._loop.call_soon_threadsafe(self._put, bot_id, chat_id, _snapshot(message))
            return message

        state.record_message = record_message  # type: ignore[method-assign]

    def last_at(self, bot_id: int) -> float:
        """When bot ``bot_id`` last sent anything (perf_counter seconds; 0 before its first message)."""
        return self._last_at.get(bot_id, 0.0)

    def _queue(self, bot_id: int, chat_id: int) -> asyncio.Queue[Seen]:
        found = self._queues.get((bot_id, chat_id))
        if found is None:
            found = self._queues[(bot_id, chat_id)] = asyncio.Queue()
        return found

    def _put(self, bot_id: int, chat_id: int, seen: Seen) -> None:
        self._last_at[bot_id] = seen.at
        self._queue(bot_id, chat_id).put_nowait(seen)

    async def next(self, bot_id: int, chat_id: int, limit_s: float) -> Seen:
        """The chat's next message from the bot. Gives up when the bot has sent nothing to anyone for ``STALL_S``
        seconds since this wait began (the reply is lost), or after ``limit_s`` seconds in any case."""
        queue = self._queue(bot_id, chat_id)
        began = time.perf_counter()
        while True:
            try:
                return await asyncio.wait_for(queue.get(), 1.0)
            except TimeoutError:
                now = time.perf_counter()
                if now - max(self.last_at(bot_id), began) > STALL_S:
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
        seen = await inbox.next(bot_id, chat_id, limit_s)
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


# --- one run --------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one run measured."""

    spec: RunSpec
    users: int
    seed_s: float
    wall_s: float
    waited_s: float
    cpu_s: float  # the service process's
    bench_cpu_s: float  # this process's: the emulator and the simulated users
    routes: list[Route]
    bot_messages: int
    got_429: int
    requests: dict[str, int]
    unanswered_presses: int
    pending_updates: int
    done_in_db: int
    active_in_db: int
    problems: list[str] = field(default_factory=list)  # the service's WARNING/ERROR log lines

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


class Service:
    """``signal-ext run`` in a process of its own, as deployed: its token points at the bench's emulator."""

    def __init__(self, spec: RunSpec, database_url: str, api_url: str, token: str, log_path: Path) -> None:
        env = dict(os.environ) | {
            "SIGNAL_DATABASE_URL": database_url,
            "SIGNAL_TELEGRAM_TOKEN": token,
            "SIGNAL_TELEGRAM_API_URL": api_url,
            "SIGNAL_LOG_LEVEL": "WARNING",
        }
        if not spec.client_limiter:
            env["SIGNAL_TELEGRAM_RATE_PER_SECOND"] = "0"  # a Bot API server without limits needs none kept
        script = Path(sys.executable).parent / "signal-ext"
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [str(script), "run", "--host", "127.0.0.1", "--port", "0"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )

    async def started(self) -> None:
        """Returns once the service says it runs (its bots are polling by then)."""
        assert self.process.stdout is not None
        line = await asyncio.to_thread(self.process.stdout.readline)
        if "Signal работает" not in line:
            raise RuntimeError(f"the service did not start: {line!r}; see {self.log_path}")

    def cpu_seconds(self) -> float:
        """User + system CPU the service process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def stop(self) -> list[str]:
        """SIGTERM (a clean stop, as Ctrl-C), then the warnings and errors it logged."""
        self.process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(self.process.wait, 30)
        self._log.close()
        return [
            line.rstrip()
            for line in self.log_path.read_text().splitlines()
            if " WARNING " in line or " ERROR " in line or " CRITICAL " in line
        ]


async def run(spec: RunSpec, directory: str, users: int, emulator: EmulatorServer, inbox: Inbox) -> Outcome:
    """Seeds a database, starts the service process, lets ``users`` users walk at once, stops the service."""
    database_url = f"sqlite:///{directory}/{spec.name.replace(' ', '_')}.db"
    seed_s = await asyncio.to_thread(seed, database_url, users)
    state = emulator.state
    state.configure(limits=LimitConfig(enabled=spec.limited))
    token = f"{spec.bot_id}:bench-system-bot-{spec.bot_id}-token"
    service = Service(spec, database_url, emulator.url, token, Path(directory) / f"{spec.bot_id}.log")
    try:
        await service.started()
        bot_id = state.bot_for_token(token).id
        before = state.stats()
        # A reply may wait behind every message of the run when a limiter paces the bot; lost ones end sooner.
        limit_s = 60.0 + 2 * UPDATES_PER_ROUTE * users / BOT_LIMIT_PER_SECOND
        cpu_began, own_cpu_began, began = service.cpu_seconds(), time.process_time(), time.perf_counter()
        chats = [CHAT_BASE + number for number in range(users)]
        routes = await asyncio.gather(*(walk(state, inbox, bot_id, chat, limit_s) for chat in chats))
        ended = time.perf_counter()
        cpu_s, own_cpu_s = service.cpu_seconds() - cpu_began, time.process_time() - own_cpu_began
        await asyncio.sleep(0.3)  # the last answerCallbackQuery may still be on its way
        after = state.stats()
        with state.lock:
            unanswered = sum(1 for query in state.callbacks.values() if query["answer"] is None)
        pending = state.updates.pending(bot_id)
        requests = {m: n - before.requests.get(m, 0) for m, n in after.requests.items()}
    finally:
        problems = await service.stop()
    done, active = await asyncio.to_thread(count_tasks, database_url)
    return Outcome(
        spec=spec,
        users=users,
        seed_s=seed_s,
        wall_s=max(inbox.last_at(bot_id), began) - began,
        waited_s=ended - began,
        cpu_s=cpu_s,
        bench_cpu_s=own_cpu_s,
        routes=list(routes),
        bot_messages=after.accepted - before.accepted,
        got_429=after.rejected_429 - before.rejected_429,
        requests=requests,
        unanswered_presses=unanswered,
        pending_updates=pending,
        done_in_db=done,
        active_in_db=active,
        problems=problems,
    )


# --- the report -----------------------------------------------------------------------------------------------


def _quantiles(values: list[float]) -> str:
    if not values:
        return "—"
    return (
        f"p50 {_rank(values, 0.5):6.2f}  p95 {_rank(values, 0.95):6.2f}  max {values[-1]:6.2f}"
        f"  mean {statistics.fmean(values):6.2f}"
    )


def show(outcome: Outcome) -> None:
    """Prints one run's figures."""
    spec = outcome.spec
    limiter = (
        "keeps Telegram's limits" if spec.client_limiter else "keeps no limits (SIGNAL_TELEGRAM_RATE_PER_SECOND=0)"
    )
    print(
        f"\n== {spec.name}: {outcome.users} users at once; emulator limits {'on' if spec.limited else 'off'}, "
        f"the service {limiter}; seeded in {outcome.seed_s:.1f} s"
    )
    print(
        f"  whole run {outcome.wall_s:.2f} s: {outcome.pushed} updates → {outcome.updates_per_s:.1f} updates/s, "
        f"{outcome.bot_messages} bot messages → {outcome.bot_messages / outcome.wall_s:.1f}/s"
    )
    print(
        f"  CPU: service {outcome.cpu_s:.1f} s ({100 * outcome.cpu_s / outcome.waited_s:.0f} % of one core, "
        f"{1000 * outcome.cpu_s / max(1, outcome.pushed):.1f} ms per update); emulator + users "
        f"{outcome.bench_cpu_s:.1f} s ({100 * outcome.bench_cpu_s / outcome.waited_s:.0f} %)"
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
    print(f"  429 answered by the emulator: {outcome.got_429}")
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
    print(f"  the service logged {len(outcome.problems)} warnings/errors")
    for line in outcome.problems[:6]:
        print(f"    {line[:240]}")


def verdict(free: Outcome, limited: Outcome) -> None:
    """Prints the targets met or missed."""
    print("\n== targets")
    met = "met" if free.updates_per_s >= TARGET_UPDATES_PER_S else "MISSED"
    print(f"  limits off: {free.updates_per_s:.1f} updates/s (target ≥ {TARGET_UPDATES_PER_S:.0f}) — {met}")
    ratio = "met" if limited.floor_ratio <= TARGET_FLOOR_RATIO else "MISSED"
    zero = "met" if limited.got_429 == 0 else "MISSED"
    print(
        f"  limits on: whole run {limited.floor_ratio:.3f} × the floor (target ≤ {TARGET_FLOOR_RATIO:.2f}) — {ratio};"
        f" 429s {limited.got_429} (target 0) — {zero}"
    )
    print(f"  lost or wrong replies over both runs: {len(free.failures) + len(limited.failures)}")
    slowest = max(o.percentile(1.0) for o in (free, limited))
    print(f"  slowest route {slowest:.1f} s (DIRECTUM's reference: ~{REFERENCE_SLOWEST_S:.0f} s for 1,000 routes)")


async def main_async(users: int, only_free: bool) -> tuple[Outcome, Outcome | None]:
    """Both runs, one after the other, each with its own database and service process, on one emulator."""
    with tempfile.TemporaryDirectory(prefix="signal-bench-bot-") as directory, EmulatorServer() as emulator:
        inbox = Inbox(emulator.state)
        free = await run(LIMITS_OFF, directory, users, emulator, inbox)
        show(free)
        if only_free:
            return free, None
        limited = await run(LIMITS_ON, directory, users, emulator, inbox)
        show(limited)
    return free, limited


def main() -> None:
    """Runs the benchmark and prints the summary, ending with the RESULT line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_USERS} users instead of {FULL_USERS}")
    parser.add_argument("--users", type=int, default=None, help="any other number of users")
    parser.add_argument("--limits-off-only", action="store_true", help="only the «limits off» run (no RESULT line)")
    arguments = parser.parse_args()
    users = arguments.users or (QUICK_USERS if arguments.quick else FULL_USERS)
    # The emulator, standing in for Telegram's servers, shares this process with the simulated users: a long
    # collection of this process's many objects would stall it, and the requests it then takes in a bunch would
    # count against its limits as a burst the service never sent. Collect rarely; the run is short.
    gc.set_threshold(200_000, 50, 1_000)
    began = time.perf_counter()
    free, limited = asyncio.run(main_async(users, arguments.limits_off_only))
    if limited is None:
        return
    verdict(free, limited)
    print(f"  benchmark took {time.perf_counter() - began:.1f} s in all")
    print(
        f"RESULT updates_per_s={free.updates_per_s:.1f} p95_route_s={free.percentile(0.95):.2f} "
        f"max_route_s={free.percentile(1.0):.2f} floor_ratio={limited.floor_ratio:.3f} got_429={limited.got_429}"
    )


if __name__ == "__main__":
    main()
