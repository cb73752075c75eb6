"""Engine creation for SQLite and PostgreSQL through the same code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url
from sqlmodel import Session, create_engine

import algorithms.models  # noqa: F401  (registers the algorithm tables)
import auth.models  # noqa: F401  (registers the registration table)
import keywords.models  # noqa: F401  (registers the keyword table)
import processes.models  # noqa: F401  (registers the tables on SQLModel.metadata)
import signal_ext.bots.dialogs  # registers the dialog table
import signal_ext.bots.invites  # registers the invite table
import signal_ext.bots.models  # registers the bot tables
import signal_ext.notifications.models  # noqa: F401
from signal_ext.storage.guard import refuse_unstorable, serialise_json, serialise_json_marking

SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_db_engine(url: str, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and write-locking transactions. On both, a value no
    column can hold is refused before it is sent (:mod:`signal_ext.storage.guard`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        timeout = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        engine = create_engine(url, echo=echo, connect_args=timeout, json_serializer=serialise_json_marking)
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, echo=echo, pool_pre_ping=True, json_serializer=serialise_json)
    refuse_unstorable(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling defers the write lock, so two concurrent read-then-write
    # transactions can dead-end in SQLITE_BUSY; we begin every transaction ourselves with IMMEDIATE.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        connection.connection.driver_connection.execute(f"BEGIN {mode}")


BEGIN_OPTION = "sqlite_begin"


def session_factory(engine: Engine) -> Callable[[], Session]:
    """Opens sessions for units of work that write; on SQLite they take the write lock up front."""

    def open_session() -> Session:
        return Session(engine, expire_on_commit=False)

    return open_session


def read_session_factory(engine: Engine) -> Callable[[], Session]:
    """Opens sessions for reading only; on SQLite they never wait for or block a writer."""
    reader = engine.execution_options(**{BEGIN_OPTION: "DEFERRED"})

    def open_read_session() -> Session:
        return Session(reader, expire_on_commit=False)

    return open_read_session
