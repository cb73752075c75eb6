"""Settings, engine and migrations: the schema the code expects is the schema the migrations build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from signal_ext.settings import Settings, normalise_database_url
from signal_ext.storage import create_db_engine, migrate


def test_migrations_match_the_models(database_url: str) -> None:
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_migrate_builds_a_fresh_database_and_is_idempotent(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrate(engine)
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"person", "scenario", "step", "process", "task", "attachment", "event_log", "alembic_version"} <= tables
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    engine.dispose()


def test_settings_defaults_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SIGNAL_DATABASE_URL", "DATABASE_URL", "SIGNAL_TIMEZONE", "SIGNAL_WORKDAY_END"):
        monkeypatch.delenv(name, raising=False)
    defaults = Settings()
    assert defaults.database_url == "sqlite:///signal.db"
    assert defaults.timezone == "Europe/Moscow" and defaults.workday_end.hour == 18

    (tmp_path / ".env").write_text("SIGNAL_TIMEZONE=Asia/Yekaterinburg\nSIGNAL_WORKDAY_END=17:30\n", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", "postgres://app:secret@db/signal")
    configured = Settings()
    assert configured.timezone == "Asia/Yekaterinburg" and configured.workday_end.minute == 30
    assert configured.database_url == "postgresql+psycopg://app:secret@db/signal"


def test_normalise_database_url_keeps_explicit_drivers() -> None:
    assert normalise_database_url("postgresql+psycopg://x@h/d") == "postgresql+psycopg://x@h/d"
    assert normalise_database_url(" sqlite:///a.db ") == "sqlite:///a.db"


def test_console_script_runs_on_embedded_defaults(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "signal-ext"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNAL_") and k != "DATABASE_URL"}
    result = subprocess.run(
        [str(script), "demo", "--no-serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "signal.db").exists()
    listed = subprocess.run(
        [str(script), "scenario", "list"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert "Согласование договора" in listed.stdout


def test_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "signal-ext"
    env = dict(os.environ, SIGNAL_DATABASE_URL="postgresql://app:topsecret@127.0.0.1:1/none")
    result = subprocess.run([str(script), "task", "list"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "недоступна" in result.stderr and "topsecret" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
