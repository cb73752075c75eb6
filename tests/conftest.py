"""Fixtures: every storage-touching test runs on SQLite and on PostgreSQL through the same code."""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

from algorithms.isolation import probe
from cli import main
from signal_ext.bootstrap import App, bootstrap
from signal_ext.settings import Settings, normalise_database_url
from signal_ext.storage import create_db_engine, migrate

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_HELP = (
    "PostgreSQL tests skipped: no server at {url}. Start one (trust auth) or point SIGNAL_TEST_POSTGRES_URL "
    "at a database this user may create databases from; set SIGNAL_REQUIRE_POSTGRES=1 to make this an error."
)


def _postgres_admin_url() -> str:
    return normalise_database_url(os.environ.get("SIGNAL_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped at the end."""
    admin_url = _postgres_admin_url()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("select 1"))
    except OperationalError:
        admin.dispose()
        message = POSTGRES_HELP.format(url=make_url(admin_url).render_as_string(hide_password=True))
        if os.environ.get("SIGNAL_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    name = f"signal_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies, so migrations run once per session."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


def _truncate_all(url: str) -> None:
    engine = create_db_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database: a SQLite file of this test, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "signal.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate_all(url)
    return url


@pytest.fixture
def app(database_url: str) -> Iterator[App]:
    """The application wired on the test database."""
    application = bootstrap(Settings(database_url=database_url), apply_migrations=False)
    yield application
    application.close()


@pytest.fixture
def engine(app: App) -> Engine:
    return app.engine


CliRun = Callable[..., Result]


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRun:
    """Runs ``signal-ext`` with the given arguments against the test database."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), env={"SIGNAL_DATABASE_URL": database_url}, catch_exceptions=False)

    return run


ISOLATION_HELP = (
    "Isolation tests skipped: bubblewrap cannot start here ({reason}). Install it (apt-get install bubblewrap) on a "
    "kernel that allows user namespaces; set SIGNAL_REQUIRE_ISOLATION=1 to make this an error. The rest of the suite "
    "runs algorithms unisolated meanwhile."
)


@functools.cache
def isolation_problem() -> str | None:
    """Why bubblewrap cannot start here (tried once per session), or None when it can."""
    bwrap = os.environ.get("SIGNAL_ALGORITHM_BWRAP", "bwrap")
    return probe(shutil.which(bwrap) or bwrap)


def require_isolation() -> None:
    """Skips the calling test where bubblewrap cannot start (fails instead under SIGNAL_REQUIRE_ISOLATION=1)."""
    problem = isolation_problem()
    if problem is not None:
        message = ISOLATION_HELP.format(reason=problem)
        if os.environ.get("SIGNAL_REQUIRE_ISOLATION") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def _algorithms_where_bubblewrap_cannot_start() -> Iterator[None]:
    """Without a working bubblewrap (and not required), the suite's algorithms run unisolated; the isolation tests
    skip with :data:`ISOLATION_HELP`."""
    if isolation_problem() is None or os.environ.get("SIGNAL_REQUIRE_ISOLATION") == "1":
        yield
        return
    os.environ["SIGNAL_ALGORITHMS_UNISOLATED"] = "true"
    yield
    os.environ.pop("SIGNAL_ALGORITHMS_UNISOLATED", None)
