"""Row-level reads and writes of the hot path, in SQLAlchemy Core: the ORM's unit of work and SQLModel's object
construction cost more than the database here. Rows travel as plain mappings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from processes.errors import NotFound
from processes.models import Process, Task  # noqa: F401  (registers the tables)

PROCESSES: Table = SQLModel.metadata.tables["process"]
TASKS: Table = SQLModel.metadata.tables["task"]

Row = Mapping[Any, Any]

_SELECT_TASK = select(TASKS).where(TASKS.c.id == bindparam("row_id"))
_SELECT_PROCESS = select(PROCESSES).where(PROCESSES.c.id == bindparam("row_id"))
_LOCK_PROCESS = _SELECT_PROCESS.with_for_update()


_PROCESS_PREFIX = "process__"
_SELECT_TASK_AND_LOCKED_PROCESS = (
    select(TASKS, *(column.label(_PROCESS_PREFIX + column.name) for column in PROCESSES.c))
    .join_from(TASKS, PROCESSES, TASKS.c.process_id == PROCESSES.c.id)
    .where(TASKS.c.id == bindparam("row_id"))
    .with_for_update(of=PROCESSES)
)
_UPDATE_BY_ID = {table.name: update(table).where(table.c.id == bindparam("_row_id")) for table in (TASKS, PROCESSES)}
_INSERT_RETURNING_ID = {table.name: insert(table).returning(table.c.id) for table in (TASKS, PROCESSES)}


def insert_row(db: Connection, table: Table, values: Row) -> int:
    """Inserts ``values`` (every column but the id) into ``table`` (tasks or processes); returns the new id."""
    statement = _INSERT_RETURNING_ID[table.name]
    return int(db.execute(statement, dict(values)).scalar_one())


def update_row(db: Connection, table: Table, row_id: int, values: Row) -> int:
    """Sets ``values`` on row ``row_id`` of ``table`` (tasks or processes); returns how many rows changed."""
    parameters = {**values, "_row_id": row_id}
    return db.execute(_UPDATE_BY_ID[table.name], parameters).rowcount


def insert_model(db: Connection, table: Table, item: SQLModel) -> int:
    """Inserts ``item`` with its model defaults applied; returns the new id."""
    return insert_row(db, table, {key: value for key, value in item.model_dump().items() if key != "id"})


def load_task(db: Connection, task_id: int) -> Row:
    """The row of task ``task_id``, or NotFound."""
    row = db.execute(_SELECT_TASK, {"row_id": task_id}).mappings().one_or_none()
    if row is None:
        raise NotFound("задача", str(task_id))
    return row


def load_task_and_process(db: Connection, task_id: int) -> tuple[Row, Row | None]:
    """Task ``task_id`` and, when it belongs to one, its process, locked until the transaction ends (PostgreSQL);
    one round trip for the common case of a process task."""
    found = db.execute(_SELECT_TASK_AND_LOCKED_PROCESS, {"row_id": task_id}).mappings().first()
    if found is None:
        return load_task(db, task_id), None
    task, process = {}, {}
    for key, value in found.items():
        if key.startswith(_PROCESS_PREFIX):
            process[key[len(_PROCESS_PREFIX) :]] = value
        else:
            task[key] = value
    return task, process


def load_process(db: Connection, process_id: int, lock: bool = False) -> Row:
    """The row of process ``process_id``; with ``lock`` it stays locked until the transaction ends (PostgreSQL)."""
    statement = _LOCK_PROCESS if lock else _SELECT_PROCESS
    row = db.execute(statement, {"row_id": process_id}).mappings().one_or_none()
    if row is None:
        raise NotFound("процесс", str(process_id))
    return row
