"""The chat-bot constructor's two hot paths: matching a message to one bot's keywords, and running an algorithm.

(a) Keywords. One bot gets 10,000 keyword records (both modes), 1,000 blocks of ten:

* a text record with three comma-separated synonyms («Товар 0001, Изделие 0001, Позиция 0001»);
* a choice with two synonyms and a title (every other one asks to confirm the pick) whose four options are three
  text records and a nested choice of two text records (seven records in all);
* an alias («Синоним 0001» → «Изделие 0001»);
* an algorithm record («Расчёт 0001, Расчет 0001»).

They go the real way: the YAML text is parsed and checked by :func:`keywords.file.parse_keyword_file`, stored by
:func:`keywords.store.replace_tree` in a fresh SQLite file (migrated by ``bootstrap``) and read back by
:func:`keywords.store.load_tree` (its size checked against :func:`keywords.store.spec_tree` of the same records);
each step's time is printed. Then :class:`keywords.engine.KeywordEngine` (the bot's default texts) answers a
seeded random mix of messages, each timed alone with ``perf_counter_ns``:

* ``handle_top_level``: hits on every kind (text, choice, alias, algorithm) written with random case and random
  whitespace inside and around («  тОв Ар0042 »), and misses (unknown numbers, everyday phrases);
* ``answer_open_choice``: an option of the open choice (odd case and spacing again), the nested choice's options,
  «Да»/«Нет» to a pending confirmation, and text that is no option (the engine says None).

The algorithm records' runner is an in-process stub returning a constant here: (a) measures resolution; running
algorithms is (b). Every answer is checked (hits answer, misses give None), so a wrong path is not timed as fast.

(b) Algorithms. ``AlgorithmService.run`` through the ``App`` of ``bootstrap`` on a temporary SQLite database, the
algorithms added with :func:`algorithms.directory.add_algorithm` — the path a bot's keyword takes: the directory
lookup, the performer's card, the isolated worker process with its limits, and the ``api`` calls answered by the
host. Each run is a fresh process forked from the sandboxed template (the RESULT line says whether bubblewrap
isolated it). Two algorithms: a trivial one (``_Результат = 2 + 2 * 2``) and one that reads ``_ДанныеДляОбработки`` (a
choice history) and calls ``api.my_tasks()``. Warm-up runs first (the first starts the worker process), then N
runs of each, one after the other. The runner alone (``AlgorithmRunner.run`` of the trivial code, no database) is
printed for reference, and so is a code-mode expression evaluated in the sandbox. The RESULT line's algorithm
figures are the heavier algorithm's (data and api).

Targets: keyword p99 < 1 ms; algorithm p50 < 10 ms (inside bubblewrap, a fresh process per run).

Run from the repository root: ``.venv/bin/python bench/keywords.py [--quick]`` (``--quick``: fewer messages and
runs, same 10,000 records; under 30 s).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime  # noqa: E402
from typing import Any  # noqa: E402

import yaml  # noqa: E402

from algorithms.api import NoApi  # noqa: E402
from algorithms.directory import add_algorithm  # noqa: E402
from algorithms.isolation import describe  # noqa: E402
from algorithms.models import AlgorithmCreate  # noqa: E402
from algorithms.runner import AlgorithmRunner  # noqa: E402
from keywords.dialog import AlgorithmValue, ChoiceState, Outcome  # noqa: E402
from keywords.engine import KeywordEngine  # noqa: E402
from keywords.file import KeywordFile, parse_keyword_file  # noqa: E402
from keywords.store import load_tree, replace_tree, spec_tree  # noqa: E402
from processes.models import PersonCreate, TaskCreate  # noqa: E402
from processes.persons import add_person  # noqa: E402
from signal_ext.bootstrap import App, bootstrap  # noqa: E402
from signal_ext.bots.directory import add_bot  # noqa: E402
from signal_ext.bots.models import BotCreate  # noqa: E402
from signal_ext.bots.texts import BotTexts  # noqa: E402
from signal_ext.settings import Settings  # noqa: E402

BLOCKS = 1000  # × 10 records = 10,000
RECORDS_PER_BLOCK = 10
FULL_MESSAGES, QUICK_MESSAGES = 200_000, 30_000
FULL_RUNS, QUICK_RUNS = 1000, 200
WARMUP_RUNS = 20
TARGET_KEYWORD_P99_MS = 1.0
TARGET_ALGORITHM_P50_MS = 10.0
SEED = 20240501
STUB_ALGORITHM = "Ответ"
OPTIONS = ("Вариант 1", "Вариант 2", "Вариант 3")
NESTED, NESTED_OPTIONS = "Ещё варианты", ("Подвариант А", "Подвариант Б")
MISSES = ("Привет", "как дела?", "Товар 99999", "Выбор", "Синоним", "Вариант 1", "спасибо большое", "/help")
TRIVIAL_CODE = "_Результат = 2 + 2 * 2"
API_CODE = """
выбор = [шаг["choice"] for шаг in _ДанныеДляОбработки]
задачи = api.my_tasks()
_Результат = f"{_Исполнитель['short_name']}: {' → '.join(выбор)}; задач: {len(задачи)}"
"""
HISTORY = [{"keyword": "Выбор 0001", "choice": "Ещё варианты"}, {"keyword": "Ещё варианты", "choice": "Подвариант Б"}]


# --- the records ----------------------------------------------------------------------------------------------


def block(number: int) -> list[dict[str, Any]]:
    """The ten records of block ``number`` (four at the top level)."""
    n = f"{number:04d}"
    options: list[dict[str, Any]] = [
        {"words": f"{label}, {label.replace(' ', '-')}", "kind": "text", "answer": f"{label} из выбора {n}"}
        for label in OPTIONS
    ]
    nested = [{"words": label, "kind": "text", "answer": f"{label} ({n})"} for label in NESTED_OPTIONS]
    options.append({"words": NESTED, "kind": "choice", "title": "Уточните", "choices": nested})
    choice: dict[str, Any] = {"words": f"Выбор {n}, Меню {n}", "kind": "choice", "title": f"Выбор {n}:"}
    if number % 2:
        choice["confirm"] = True
    choice["choices"] = options
    return [
        {"words": f"Товар {n}, Изделие {n}, Позиция {n}", "kind": "text", "answer": f"Карточка товара {n}"},
        choice,
        {"words": f"Синоним {n}", "kind": "keyword", "target": f"Изделие {n}"},
        {"words": f"Расчёт {n}, Расчет {n}", "kind": "algorithm", "algorithm": STUB_ALGORITHM},
    ]


def keyword_yaml() -> str:
    """The whole keyword file, as a designer would keep it."""
    records = [record for number in range(1, BLOCKS + 1) for record in block(number)]
    return yaml.dump({"keywords": records}, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)


# --- (a) keyword resolution -----------------------------------------------------------------------------------


@dataclass
class Timings:
    """Per-call durations in nanoseconds, by kind of message."""

    by_kind: dict[str, list[int]] = field(default_factory=dict)

    def add(self, kind: str, nanoseconds: int) -> None:
        """Records one call."""
        self.by_kind.setdefault(kind, []).append(nanoseconds)

    def all(self) -> list[int]:
        """Every call's duration."""
        return [value for values in self.by_kind.values() for value in values]


def percentile_ms(values: list[int] | list[float], share: float, scale: float = 1e-6) -> float:
    """The ``share`` quantile (nearest rank) of ``values``, times ``scale`` (ns → ms by default)."""
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, int(share * len(ordered) + 0.999999) - 1))
    return ordered[rank] * scale


def mangle(word: str, rng: random.Random) -> str:
    """``word`` with random case per letter and random spaces inside and around (normalisation must undo it)."""
    letters = [ch.upper() if rng.random() < 0.5 else ch.lower() for ch in word.replace(" ", "")]
    out = [ch + (" " if rng.random() < 0.2 else "") for ch in letters]
    return " " * rng.randint(0, 2) + "".join(out) + " \t"[rng.randint(0, 1)] * rng.randint(0, 2)


def load_keywords(app: App, bot_id: int) -> tuple[KeywordEngine, dict[str, float]]:
    """Parses, stores and reads back the 10,000 records; the engine and each step's seconds."""
    steps: dict[str, float] = {}
    began = time.perf_counter()
    text = keyword_yaml()
    steps["build YAML"] = time.perf_counter() - began

    began = time.perf_counter()
    parsed: KeywordFile = parse_keyword_file(text, lambda name: name == STUB_ALGORITHM, "bench.yaml")
    steps["parse + check (keywords.file)"] = time.perf_counter() - began
    total, deleted = parsed.count()
    assert (total, deleted) == (BLOCKS * RECORDS_PER_BLOCK, 0), (total, deleted)

    began = time.perf_counter()
    with app.open_session() as session:
        added = replace_tree(session, bot_id, parsed.keywords)
        session.commit()
    steps["replace_tree + commit (SQLite)"] = time.perf_counter() - began
    assert added == total

    began = time.perf_counter()
    with app.read_session() as session:
        tree = load_tree(session, bot_id)
    steps["load_tree"] = time.perf_counter() - began
    assert len(tree) == len(spec_tree(parsed.keywords)) == total, (len(tree), total)

    def stub(_name: str, _data: list[dict[str, str]]) -> AlgorithmValue:
        return "42"

    return KeywordEngine(tree, stub, BotTexts()), steps


Check = Callable[[Outcome | None], bool]


def _answers(outcome: Outcome | None) -> bool:
    return outcome is not None and bool(outcome.replies)


def _opens(outcome: Outcome | None) -> bool:
    return outcome is not None and outcome.state is not None


def _nothing(outcome: Outcome | None) -> bool:
    return outcome is None


@dataclass(frozen=True)
class Message:
    """One timed call: its kind, the text, the open choice (None: top level) and what a right answer looks like."""

    kind: str
    text: str
    state: ChoiceState | None
    check: Check


def open_state(engine: KeywordEngine, text: str) -> ChoiceState:
    """The choice state ``text`` leaves open (prepared untimed)."""
    outcome = engine.handle_top_level(text)
    assert outcome is not None and outcome.state is not None, text
    return outcome.state


def messages(engine: KeywordEngine, count: int, rng: random.Random) -> list[Message]:
    """``count`` seeded messages: about two thirds at the top level, one third answering an open choice."""
    chosen: list[Message] = []
    choice_states: dict[int, ChoiceState] = {}
    nested_states: dict[int, ChoiceState] = {}
    pending_states: dict[int, ChoiceState] = {}

    def choice_state(number: int) -> ChoiceState:
        if number not in choice_states:
            choice_states[number] = open_state(engine, f"Меню {number:04d}")
        return choice_states[number]

    for _ in range(count):
        number = rng.randint(1, BLOCKS)
        n = f"{number:04d}"
        roll = rng.random()
        if roll < 0.20:
            word = rng.choice((f"Товар {n}", f"Изделие {n}", f"Позиция {n}"))
            chosen.append(Message("top: text hit", mangle(word, rng), None, _answers))
        elif roll < 0.30:
            word = rng.choice((f"Выбор {n}", f"Меню {n}"))
            chosen.append(Message("top: choice hit", mangle(word, rng), None, _opens))
        elif roll < 0.40:
            chosen.append(Message("top: alias hit", mangle(f"Синоним {n}", rng), None, _answers))
        elif roll < 0.45:
            chosen.append(Message("top: algorithm hit", mangle(f"Расчет {n}", rng), None, _answers))
        elif roll < 0.65:
            miss = rng.choice((*MISSES, f"Товар {rng.randint(BLOCKS + 1, 99999):05d}", f"Товар {n}x"))
            chosen.append(Message("top: miss", miss, None, _nothing))
        elif roll < 0.80:
            label = rng.choice((*OPTIONS, NESTED))
            check = _opens if number % 2 or label == NESTED else _answers  # odd blocks confirm first
            chosen.append(Message("choice: option", mangle(label, rng), choice_state(number), check))
        elif roll < 0.88:
            if number % 2:  # a confirming choice: the nested choice opens only after «Да»
                continue
            if number not in nested_states:
                after = engine.answer_open_choice(NESTED, choice_state(number))
                assert after is not None and after.state is not None
                nested_states[number] = after.state
            label = rng.choice(NESTED_OPTIONS)
            chosen.append(Message("choice: nested option", mangle(label, rng), nested_states[number], _answers))
        elif roll < 0.94:
            odd = number if number % 2 else number - 1
            if odd not in pending_states:
                asked = engine.answer_open_choice(OPTIONS[0], choice_state(odd))
                assert asked is not None and asked.state is not None and asked.state.pending is not None
                pending_states[odd] = asked.state
            yes = rng.random() < 0.5
            check = _answers if yes else _opens  # «Нет» offers the choice again
            chosen.append(Message("choice: confirm yes/no", "Да" if yes else " нет ", pending_states[odd], check))
        else:
            text = rng.choice(("Вариант 7", "не знаю", "Подвариант А"))
            chosen.append(Message("choice: not an option", text, choice_state(number), _nothing))
    return chosen


def time_keywords(engine: KeywordEngine, batch: list[Message]) -> tuple[Timings, int]:
    """Times every message alone; (timings, answers that were not what the message expects)."""
    timings = Timings()
    wrong = 0
    clock = time.perf_counter_ns
    for message in batch:
        if message.state is None:
            began = clock()
            outcome = engine.handle_top_level(message.text)
            elapsed = clock() - began
        else:
            began = clock()
            outcome = engine.answer_open_choice(message.text, message.state)
            elapsed = clock() - began
        timings.add(message.kind, elapsed)
        wrong += not message.check(outcome)
    return timings, wrong


# --- (b) algorithm runs ---------------------------------------------------------------------------------------


def seed_algorithms(app: App) -> int:
    """Adds the two algorithms, a performer and one task of theirs; the performer's id."""
    with app.open_session() as session:
        add_algorithm(session, AlgorithmCreate(name="Пустяк", code=TRIVIAL_CODE))
        add_algorithm(session, AlgorithmCreate(name="История и api", alias="ИА", code=API_CODE))
        person = add_person(session, PersonCreate(full_name="Петрова Анна Сергеевна"))
        session.commit()
        assert person.id is not None
        performer_id = person.id
    app.processes.create_task(TaskCreate(title="Проверить отчёт", performer_id=performer_id, author_id=performer_id))
    return performer_id


def time_runs(call: Callable[[], AlgorithmValue], runs: int, expect: Callable[[AlgorithmValue], bool]) -> list[float]:
    """Seconds of each of ``runs`` calls after the warm-up; every result is checked."""
    for _ in range(WARMUP_RUNS):
        assert expect(call())
    seconds: list[float] = []
    for _ in range(runs):
        began = time.perf_counter()
        value = call()
        seconds.append(time.perf_counter() - began)
        assert expect(value), value
    return seconds


def time_algorithms(app: App, performer_id: int, runs: int) -> dict[str, list[float]]:
    """The timed runs of each algorithm through the service, and of the runner alone."""
    service = app.algorithms
    first = time.perf_counter()
    assert service.run("Пустяк", performer_id) == 6
    cold = time.perf_counter() - first
    print(f"first run (starts the worker process): {cold * 1000:.1f} ms")
    picked = "Ещё варианты → Подвариант Б; задач: 1"  # the history in order, and the one seeded task
    return {
        "trivial (service)": time_runs(lambda: service.run("Пустяк", performer_id), runs, lambda v: v == 6),
        "data + api (service)": time_runs(
            lambda: service.run("ИА", performer_id, HISTORY), runs, lambda v: isinstance(v, str) and v.endswith(picked)
        ),
        "trivial (runner alone)": time_runs(
            lambda: service.runner.run(TRIVIAL_CODE, None, None, NoApi()), runs, lambda v: v == 6
        ),
        "expression 2+2*2 (runner)": time_runs(lambda: _expression(service.runner), runs, lambda v: v == "6"),
    }


def _expression(runner: AlgorithmRunner) -> str | None:
    found = runner.evaluate_expression("2+2*2", datetime.now(), "bench")
    return None if found is None else found.text


# --- report ---------------------------------------------------------------------------------------------------


def met(ok: bool) -> str:
    """«met» or «MISSED»."""
    return "met" if ok else "MISSED"


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description="Keyword resolution and algorithm runs of the chat-bot constructor")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_MESSAGES} messages and {QUICK_RUNS} runs (under 30 s)"
    )
    return parser.parse_args()


def main() -> None:
    """Runs (a) and (b) and prints their figures, the targets and the RESULT line."""
    args = parse_args()
    count = QUICK_MESSAGES if args.quick else FULL_MESSAGES
    runs = QUICK_RUNS if args.quick else FULL_RUNS
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="signal-bench-keywords-") as directory:
        app = bootstrap(Settings(database_url=f"sqlite:///{directory}/bench.db"))
        try:
            with app.open_session() as session:
                bot = add_bot(session, BotCreate(name="bench"))
                session.commit()
                assert bot.id is not None
                bot_id = bot.id
            print(f"(a) keywords: {BLOCKS * RECORDS_PER_BLOCK} records of one bot")
            engine, steps = load_keywords(app, bot_id)
            for step, seconds in steps.items():
                print(f"  {step:<32} {seconds * 1000:>9.1f} ms")
            batch = messages(engine, count, random.Random(SEED))
            time_keywords(engine, batch[: min(len(batch), 2000)])  # warm caches and the allocator
            timings, wrong = time_keywords(engine, batch)
            print(f"  {'message kind':<26} {'calls':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
            for kind, values in sorted(timings.by_kind.items()):
                p50, p99, peak = percentile_ms(values, 0.5), percentile_ms(values, 0.99), max(values) / 1e6
                print(f"  {kind:<26} {len(values):>7} {p50:>8.4f} {p99:>8.4f} {peak:>8.3f}")
            every = timings.all()
            keyword_p50, keyword_p99 = percentile_ms(every, 0.5), percentile_ms(every, 0.99)
            print(f"  {'all':<26} {len(every):>7} {keyword_p50:>8.4f} {keyword_p99:>8.4f} {max(every) / 1e6:>8.3f}")
            print(f"  answers not as expected: {wrong}")
            assert wrong == 0, "the engine answered some message unexpectedly: the timings are not of the right path"

            print(f"(b) algorithms: {WARMUP_RUNS} warm-up runs, then {runs} runs each, one at a time")
            isolation = app.algorithms.runner.isolation
            print(f"  algorithms: {isolation.mode.value} ({describe(isolation)})")
            performer_id = seed_algorithms(app)
            runs_by_name = time_algorithms(app, performer_id, runs)
            print(f"  {'algorithm':<26} {'runs':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
            for name, durations in runs_by_name.items():
                p50, p99 = percentile_ms(durations, 0.5, 1000), percentile_ms(durations, 0.99, 1000)
                print(f"  {name:<26} {len(durations):>7} {p50:>8.2f} {p99:>8.2f} {max(durations) * 1000:>8.2f}")
        finally:
            app.close()
    heavy = runs_by_name["data + api (service)"]
    algorithm_p50, algorithm_p99 = percentile_ms(heavy, 0.5, 1000), percentile_ms(heavy, 0.99, 1000)
    print(f"target keyword p99 < {TARGET_KEYWORD_P99_MS:g} ms: {met(keyword_p99 < TARGET_KEYWORD_P99_MS)}")
    print(
        f"target algorithm p50 < {TARGET_ALGORITHM_P50_MS:g} ms (data + api): "
        f"{met(algorithm_p50 < TARGET_ALGORITHM_P50_MS)}"
    )
    print(f"wall time: {time.perf_counter() - began:.1f} s ({'quick' if args.quick else 'full'})")
    algorithm = f"algorithm_p50_ms={algorithm_p50:.2f} algorithm_p99_ms={algorithm_p99:.2f}"
    print(f"RESULT keyword_p99_ms={keyword_p99:.4f} {algorithm} algorithms={isolation.mode.value}")


if __name__ == "__main__":
    main()
