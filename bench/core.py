"""Throughput benchmark of the core against SpiffWorkflow, on SQLite and on PostgreSQL.

Workload: N processes of a three-step scenario (A → B → C, every step performed by the author).

* Signal: ``ProcessService.start_process`` N times (timed as starts), then three rounds; before each round the
  active task ids are read with one query (timed apart, as «lookup»), then ``complete_task`` runs for each of them
  (timed as completions: each one is a transaction that closes the task, creates the next one and logs events).
* SpiffWorkflow, as the brief asks («in memory»): for each workflow, create it, run engine steps, serialise it
  and INSERT the row (timed as a start), then complete the ready user tasks one by one, serialising and UPDATEing
  the row after each (timed as completions). One transaction per INSERT/UPDATE.
* SpiffWorkflow «reload»: what a service answering one request per completion must do — start N workflows as
  above, then in three rounds each completion SELECTs the row, deserialises, runs the task, serialises and
  UPDATEs it in one transaction; this is the like-for-like comparison with ``complete_task``.

Every workload runs in a forked child process, so its peak RSS (``ru_maxrss``, imported libraries included; an
idle forked child's peak is printed for reference) is its own. SQLite databases are files in a temporary
directory opened through the project's engine factory (WAL, ``synchronous=NORMAL``) for both systems;
PostgreSQL gets throwaway databases (``signal_bench_<random>_*``) dropped at the end.

Run from the repository root: ``.venv/bin/python bench/core.py [--quick] [--postgres-url URL]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from time import perf_counter  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.parser import BpmnParser  # noqa: E402
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine, event, func, insert, text, update  # noqa: E402
from sqlalchemy import select as core_select  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from processes.models import PersonCreate, Process, ProcessStatus, Task, TaskStatus  # noqa: E402
from processes.persons import add_person  # noqa: E402
from processes.scenario_file import parse_scenarios  # noqa: E402
from processes.scenarios import load_scenarios  # noqa: E402
from signal_ext.bootstrap import App, bootstrap  # noqa: E402
from signal_ext.settings import Settings, normalise_database_url  # noqa: E402
from signal_ext.storage import create_db_engine  # noqa: E402

FULL_N = 5000
QUICK_N = 300
STEPS = 3
SCENARIO_NAME = "Три шага"
SCENARIO_YAML = f"""
scenarios:
  - name: {SCENARIO_NAME}
    steps:
      - title: A
      - title: B
      - title: C
"""
BPMN_FILE = Path(__file__).resolve().parent / "three_tasks.bpmn"
BPMN_PROCESS_ID = "three_tasks"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
SQLITE, POSTGRES = "SQLite", "PostgreSQL"
OURS, SPIFF, SPIFF_RELOAD = "Signal", "Spiff (in memory)", "Spiff (reload)"
ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class Figures:
    """What one workload measured."""

    system: str
    backend: str
    n: int
    starts_per_s: float
    completions_per_s: float
    peak_mb: float
    completed: int
    lookup_s: float = 0.0
    sql_per_start: float = 0.0
    sql_per_completion: float = 0.0

    @property
    def correct(self) -> bool:
        """Every one of the N processes (workflows) ended completed."""
        return self.completed == self.n


@dataclass
class Stopwatch:
    """Accumulated seconds and operations of one kind."""

    seconds: float = 0.0
    operations: int = 0

    @property
    def rate(self) -> float:
        """Operations per second."""
        return self.operations / self.seconds if self.seconds else 0.0


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB (Linux reports ``ru_maxrss`` in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_isolated(workload: Callable[..., ResultT], *args: Any) -> ResultT:
    """Runs ``workload(*args)`` in a fresh forked process so that its peak memory is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        return pool.submit(workload, *args).result()


# --- Signal ---------------------------------------------------------------------------------------------------


def seed_app(app: App) -> int:
    """Adds the author and the three-step scenario; returns the author's id."""
    with app.open_session() as session:
        author = add_person(session, PersonCreate(full_name="Иванов Иван Иванович"))
        load_scenarios(session, parse_scenarios(SCENARIO_YAML), "bench")
        session.commit()
    assert author.id is not None
    return author.id


@contextmanager
def count_statements(engine: Engine, counter: list[int]) -> Iterator[None]:
    """Counts the SQL statements ``engine`` executes while the block runs into ``counter[0]``."""

    def _count(*_args: Any) -> None:
        counter[0] += 1

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def start_processes(app: App, author_id: int, n: int) -> tuple[Stopwatch, int]:
    """Starts ``n`` processes; returns the timing and the number of SQL statements."""
    watch, statements = Stopwatch(operations=n), [0]
    with count_statements(app.engine, statements):
        began = perf_counter()
        for _ in range(n):
            app.processes.start_process(SCENARIO_NAME, author_id)
        watch.seconds = perf_counter() - began
    return watch, statements[0]


def active_task_ids(app: App) -> list[int]:
    """Ids of all active tasks, in id order."""
    with app.read_session() as session:
        rows = session.exec(
            select(Task.id, Task.process_id).where(Task.status == TaskStatus.ACTIVE).order_by(col(Task.id))
        ).all()
    return [task_id for task_id, _process_id in rows if task_id is not None]


def complete_rounds(app: App, n: int) -> tuple[Stopwatch, float, int]:
    """Completes every active task, round by round; returns the timing, lookup seconds and SQL statements."""
    watch, lookup, statements = Stopwatch(), 0.0, [0]
    for _ in range(STEPS):
        began = perf_counter()
        task_ids = active_task_ids(app)
        lookup += perf_counter() - began
        assert len(task_ids) == n, f"expected {n} active tasks, found {len(task_ids)}"
        with count_statements(app.engine, statements):
            began = perf_counter()
            for task_id in task_ids:
                app.processes.complete_task(task_id, "готово")
            watch.seconds += perf_counter() - began
        watch.operations += len(task_ids)
    return watch, lookup, statements[0]


def completed_processes(app: App) -> int:
    """How many processes are «Завершен»."""
    with app.read_session() as session:
        statement = select(func.count()).select_from(Process).where(Process.status == ProcessStatus.COMPLETED)
        return session.exec(statement).one()


def run_ours(url: str, backend: str, n: int) -> Figures:
    """The Signal workload on the database at ``url`` (migrated and seeded untimed)."""
    app = bootstrap(Settings(database_url=url))
    try:
        author_id = seed_app(app)
        starts, start_sql = start_processes(app, author_id, n)
        completions, lookup, completion_sql = complete_rounds(app, n)
        peak_mb = peak_rss_mb()  # before the check, which is not part of the workload
        completed = completed_processes(app)
    finally:
        app.close()
    return Figures(
        OURS,
        backend,
        n,
        starts.rate,
        completions.rate,
        peak_mb,
        completed,
        lookup,
        start_sql / n,
        completion_sql / max(completions.operations, 1),
    )


# --- SpiffWorkflow ------------------------------------------------------------------------------------------


def spiff_spec() -> Any:
    """The parsed spec of ``three_tasks.bpmn``."""
    parser = BpmnParser()
    parser.add_bpmn_file(str(BPMN_FILE))
    return parser.get_spec(BPMN_PROCESS_ID)


def spiff_table(engine: Engine) -> Table:
    """Creates the ``spiff_workflow(id, state)`` table on ``engine``."""
    metadata = MetaData()
    table = Table(
        "spiff_workflow",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("state", Text, nullable=False),
    )
    metadata.create_all(engine)
    return table


def ready_user_task(workflow: Any) -> Any:
    """The first ready user task of ``workflow``, or None."""
    return workflow.get_next_task(state=TaskState.READY, manual=True)


def spiff_start(engine: Engine, table: Table, spec: Any, serializer: Any, workflow_id: int) -> Any:
    """Creates a workflow, runs engine steps and INSERTs its serialisation; returns the workflow."""
    workflow = BpmnWorkflow(spec)
    workflow.do_engine_steps()
    with engine.begin() as connection:
        connection.execute(insert(table).values(id=workflow_id, state=serializer.serialize_json(workflow)))
    return workflow


def spiff_save(engine: Engine, table: Table, serializer: Any, workflow_id: int, workflow: Any) -> None:
    """UPDATEs the row of ``workflow`` with its serialisation, in its own transaction."""
    with engine.begin() as connection:
        statement = update(table).where(table.c.id == workflow_id).values(state=serializer.serialize_json(workflow))
        connection.execute(statement)


def spiff_in_memory(engine: Engine, table: Table, n: int) -> tuple[Stopwatch, Stopwatch]:
    """Per workflow: start and save it, then complete its user tasks one by one, saving after each."""
    spec, serializer = spiff_spec(), BpmnWorkflowSerializer()
    starts, completions = Stopwatch(operations=n), Stopwatch()
    for workflow_id in range(1, n + 1):
        began = perf_counter()
        workflow = spiff_start(engine, table, spec, serializer, workflow_id)
        started = perf_counter()
        while (task := ready_user_task(workflow)) is not None:
            task.run()
            workflow.do_engine_steps()
            spiff_save(engine, table, serializer, workflow_id, workflow)
            completions.operations += 1
        starts.seconds += started - began
        completions.seconds += perf_counter() - started
    return starts, completions


def spiff_complete_reloaded(engine: Engine, table: Table, serializer: Any, workflow_id: int) -> None:
    """One request: SELECT the row, deserialise, complete the ready task, UPDATE the row — one transaction."""
    with engine.begin() as connection:
        query = core_select(table.c.state).where(table.c.id == workflow_id).with_for_update()
        workflow = serializer.deserialize_json(connection.execute(query).scalar_one())
        ready_user_task(workflow).run()
        workflow.do_engine_steps()
        statement = update(table).where(table.c.id == workflow_id).values(state=serializer.serialize_json(workflow))
        connection.execute(statement)


def spiff_reload(engine: Engine, table: Table, n: int) -> tuple[Stopwatch, Stopwatch]:
    """Starts ``n`` workflows, then completes them in rounds, each completion reloading its workflow."""
    spec, serializer = spiff_spec(), BpmnWorkflowSerializer()
    began = perf_counter()
    for workflow_id in range(1, n + 1):
        spiff_start(engine, table, spec, serializer, workflow_id)
    starts = Stopwatch(perf_counter() - began, n)
    began = perf_counter()
    for _ in range(STEPS):
        for workflow_id in range(1, n + 1):
            spiff_complete_reloaded(engine, table, serializer, workflow_id)
    return starts, Stopwatch(perf_counter() - began, STEPS * n)


def completed_workflows(engine: Engine, table: Table) -> int:
    """How many stored workflows deserialise as completed."""
    serializer = BpmnWorkflowSerializer()
    with engine.connect() as connection:
        states = connection.execution_options(yield_per=500).execute(core_select(table.c.state)).scalars()
        return sum(1 for state in states if serializer.deserialize_json(state).is_completed())


def run_spiff(url: str, backend: str, n: int, reload: bool) -> Figures:
    """The SpiffWorkflow workload on the fresh database at ``url``."""
    engine = create_db_engine(url)
    try:
        table = spiff_table(engine)
        starts, completions = (spiff_reload if reload else spiff_in_memory)(engine, table, n)
        peak_mb = peak_rss_mb()  # before the check, which deserialises every stored workflow
        completed = completed_workflows(engine, table)
    finally:
        engine.dispose()
    system = SPIFF_RELOAD if reload else SPIFF
    return Figures(system, backend, n, starts.rate, completions.rate, peak_mb, completed)


# --- databases and the run --------------------------------------------------------------------------------------


def sqlite_url(directory: str, name: str) -> str:
    """The URL of a SQLite file ``name`` in ``directory``."""
    return f"sqlite:///{Path(directory) / name}"


@contextmanager
def postgres_databases(admin_url: str, names: list[str]) -> Iterator[dict[str, str] | None]:
    """Creates throwaway databases ``signal_bench_<random>_<name>``; yields their URLs (None if no server)."""
    url = normalise_database_url(admin_url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    prefix = f"signal_bench_{uuid.uuid4().hex[:10]}"
    created: list[str] = []
    try:
        try:
            with admin.connect() as connection:
                for name in names:
                    connection.execute(text(f'CREATE DATABASE "{prefix}_{name}"'))
                    created.append(f"{prefix}_{name}")
        except SQLAlchemyError as error:
            print(f"note: PostgreSQL unavailable at {make_url(url).render_as_string()}: {type(error).__name__}")
            yield None
            return
        yield {name: make_url(url).set(database=f"{prefix}_{name}").render_as_string(False) for name in names}
    finally:
        drop_databases(admin, created)


def drop_databases(admin: Engine, names: list[str]) -> None:
    """Drops the databases ``names`` (connections are terminated) and disposes ``admin``."""
    try:
        if names:
            with admin.connect() as connection:
                for name in names:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def run_backend(urls: dict[str, str], backend: str, n: int) -> list[Figures]:
    """Runs the three workloads on one backend, each on its own fresh database."""
    return [
        run_isolated(run_ours, urls["ours"], backend, n),
        run_isolated(run_spiff, urls["spiff"], backend, n, False),
        run_isolated(run_spiff, urls["spiff_reload"], backend, n, True),
    ]


def run_all(n: int, postgres_url: str) -> tuple[list[Figures], bool]:
    """Every workload on SQLite, then on PostgreSQL when reachable; returns the figures and PG availability."""
    kinds = ["ours", "spiff", "spiff_reload"]
    with tempfile.TemporaryDirectory(prefix="signal_bench_") as directory:
        figures = run_backend({kind: sqlite_url(directory, f"{kind}.db") for kind in kinds}, SQLITE, n)
    with postgres_databases(postgres_url, kinds) as urls:
        if urls is None:
            return figures, False
        figures += run_backend(urls, POSTGRES, n)
    return figures, True


def find(figures: list[Figures], system: str, backend: str) -> Figures | None:
    """The figures of ``system`` on ``backend``, if measured."""
    return next((f for f in figures if f.system == system and f.backend == backend), None)


def print_table(figures: list[Figures]) -> None:
    """Prints every figure as an aligned table."""
    header = f"{'system':<18} {'backend':<10} {'N':>5} {'starts/s':>9} {'compl/s':>9} {'peak MB':>8} "
    print(header + f"{'SQL/start':>9} {'SQL/compl':>9} {'lookup s':>8}  completed")
    for f in figures:
        sql = f"{f.sql_per_start:>9.1f} {f.sql_per_completion:>9.1f} {f.lookup_s:>8.3f}" if f.system == OURS else ""
        line = f"{f.system:<18} {f.backend:<10} {f.n:>5} {f.starts_per_s:>9.1f} {f.completions_per_s:>9.1f} "
        print(line + f"{f.peak_mb:>8.1f} {sql or ' ' * 28}  {f.completed}/{f.n} {'ok' if f.correct else 'WRONG'}")


def ratio(figures: list[Figures], other: str, backend: str) -> float | None:
    """Signal's completions per second divided by ``other``'s on ``backend``."""
    ours, theirs = find(figures, OURS, backend), find(figures, other, backend)
    if ours is None or theirs is None or not theirs.completions_per_s:
        return None
    return ours.completions_per_s / theirs.completions_per_s


def print_ratios(figures: list[Figures]) -> None:
    """Prints Signal ÷ Spiff for completions and starts on every measured backend."""
    for backend in (SQLITE, POSTGRES):
        for other in (SPIFF, SPIFF_RELOAD):
            value = ratio(figures, other, backend)
            if value is not None:
                print(f"completions Signal ÷ {other} on {backend}: {value:.2f}")


def result_line(figures: list[Figures]) -> str:
    """The final machine-readable line."""
    sqlite, postgres = find(figures, OURS, SQLITE), find(figures, OURS, POSTGRES)
    spiff_ratio, reload_ratio = ratio(figures, SPIFF, SQLITE), ratio(figures, SPIFF_RELOAD, SQLITE)
    assert sqlite is not None and spiff_ratio is not None and reload_ratio is not None
    pg = f"{postgres.completions_per_s:.1f}" if postgres is not None else "n/a"
    ours = f"completions_per_s={sqlite.completions_per_s:.1f} pg_completions_per_s={pg}"
    return f"RESULT {ours} spiff_ratio={spiff_ratio:.2f} spiff_reload_ratio={reload_ratio:.2f}"


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description="Signal core vs SpiffWorkflow throughput on SQLite and PostgreSQL")
    parser.add_argument("--quick", action="store_true", help=f"N={QUICK_N} instead of {FULL_N}")
    default_url = os.environ.get("SIGNAL_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    parser.add_argument("--postgres-url", default=default_url, help="a database to create throwaway ones from")
    return parser.parse_args()


def main() -> None:
    """Runs the benchmark and prints the table, the ratios, the correctness check and the RESULT line."""
    args = parse_args()
    n = QUICK_N if args.quick else FULL_N
    began, baseline_mb = perf_counter(), run_isolated(peak_rss_mb)
    figures, _postgres_ok = run_all(n, args.postgres_url)
    print_table(figures)
    print(f"peak MB: each run's own peak RSS (forked); an idle forked child peaks at {baseline_mb:.1f} MB")
    print_ratios(figures)
    correct = all(f.correct for f in figures)
    print(f"correctness: all {n} processes/workflows completed in every run: {'yes' if correct else 'NO'}")
    print(f"wall time: {perf_counter() - began:.1f} s (N={n})")
    print(result_line(figures))


if __name__ == "__main__":
    main()
