"""Claims on the outbox: which rows a dispatcher may send, for how long, and the only updates it may make to them.

A chat — one channel, bot and address — is claimed as a unit, so its messages go out in ``(send_at, id)`` order
across dispatchers and restarts. Its *head* is its oldest unfinished row; a head that is due, in a chat where no row
is held by a live lease, is locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer at a time) and
claimed together with the due rows behind it, up to the first that is not due (a retry that waits keeps its place
and holds back the rows after it). A claim is a random token written into ``claimed_by`` with the lease's end in
``claimed_until``; every later update of a claimed row is conditioned on that token, so a dispatcher whose rows
were taken over after its lease ran out changes nothing."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, exists, or_, select, update
from sqlmodel import SQLModel

from signal_ext.notifications.models import MessageStatus

OUTBOX: Table = SQLModel.metadata.tables["outbox"]
WAITING = (MessageStatus.SCHEDULED.value, MessageStatus.PENDING.value)
UNFINISHED = (*WAITING, MessageStatus.SENDING.value)
Row = dict[str, Any]
ChatKey = tuple[str, str | None, str | None]


def new_token() -> str:
    """A fresh claim token, ``host:pid:random``: it names one claim (no two are ever confused) and tells an
    administrator which process holds a row."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:16]}"


def _due(table: Table, now: datetime) -> ColumnElement[bool]:
    """Rows that may be sent now: waiting ones whose time (and retry time) has come, and claims that expired."""
    waiting = and_(
        table.c.status.in_(WAITING),
        table.c.send_at <= now,
        or_(table.c.retry_at.is_(None), table.c.retry_at <= now),
    )
    expired = and_(table.c.status == MessageStatus.SENDING.value, table.c.claimed_until < now)
    return or_(waiting, expired)


def _heads(now: datetime, limit: int, only: Sequence[int] | None) -> Any:
    """Due rows with no earlier unfinished row in their chat and no live lease on any row of it, oldest first."""
    row, other = OUTBOX, OUTBOX.alias("other")
    same_chat = and_(
        other.c.address == row.c.address,
        other.c.channel == row.c.channel,
        other.c.bot.is_not_distinct_from(row.c.bot),
    )
    earlier = or_(other.c.send_at < row.c.send_at, and_(other.c.send_at == row.c.send_at, other.c.id < row.c.id))
    blocking = or_(
        and_(earlier, other.c.status.in_(UNFINISHED)),
        and_(other.c.status == MessageStatus.SENDING.value, other.c.claimed_until >= now),
    )
    statement = select(row).where(_due(row, now), ~exists().where(same_chat, blocking))
    if only is not None:
        statement = statement.where(row.c.id.in_(only))
    statement = statement.order_by(row.c.send_at, row.c.id).limit(limit)
    return statement.with_for_update(skip_locked=True, of=row)


def chat_of(row: Row) -> ChatKey:
    """The chat a row goes to."""
    return row["channel"], row["bot"], row["address"]


def claim_due(
    connection: Connection,
    token: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    per_chat: int,
    only: Sequence[int] | None = None,
) -> list[list[Row]]:
    """Claims whole chats' due rows under ``token`` until ``now + lease``: at most ``limit`` rows, ``per_chat`` of
    one chat, only ids in ``only`` when given. Returns each chat's claimed rows in their order."""
    chats: dict[ChatKey, list[Row]] = {}
    for head in connection.execute(_heads(now, limit, only)).mappings():
        chats.setdefault(chat_of(dict(head)), []).append(dict(head))
    if not chats:
        return []
    _add_followers(connection, chats, now, limit - len(chats), per_chat, only)
    wanted = [row["id"] for rows in chats.values() for row in rows]
    claim = {"status": MessageStatus.SENDING.value, "claimed_by": token, "claimed_until": now + lease}
    statement = update(OUTBOX).where(OUTBOX.c.id.in_(wanted), _due(OUTBOX, now)).values(**claim)
    claimed = set(connection.execute(statement.returning(OUTBOX.c.id)).scalars())
    # a row cancelled meanwhile is not claimed: it is never sent, so the order of the rest holds
    found = [[row for row in rows if row["id"] in claimed] for rows in chats.values()]
    return [rows for rows in found if rows]


def _add_followers(
    connection: Connection,
    chats: dict[ChatKey, list[Row]],
    now: datetime,
    room: int,
    per_chat: int,
    only: Sequence[int] | None,
) -> None:
    """Appends to each head the chat's unfinished rows behind it while they are due (``room`` rows in all)."""
    addresses = sorted({key[2] for key in chats if key[2] is not None})
    if room <= 0 or not addresses:
        return
    statement = select(OUTBOX, _due(OUTBOX, now).label("due_now")).where(
        OUTBOX.c.address.in_(addresses), OUTBOX.c.status.in_(UNFINISHED), OUTBOX.c.send_at <= now
    )
    if only is not None:
        statement = statement.where(OUTBOX.c.id.in_(only))
    closed: set[ChatKey] = set()
    for found in connection.execute(statement.order_by(OUTBOX.c.send_at, OUTBOX.c.id)).mappings():
        row = dict(found)
        due_now = bool(row.pop("due_now"))
        key = chat_of(row)
        rows = chats.get(key)
        if rows is None or key in closed or (row["send_at"], row["id"]) <= (rows[0]["send_at"], rows[0]["id"]):
            continue
        if not due_now or len(rows) >= per_chat or room <= 0:
            closed.add(key)  # the chat's order: nothing behind a row that is not sent now
            continue
        rows.append(row)
        room -= 1


def renew(connection: Connection, token: str, ids: Collection[int], until: datetime) -> set[int]:
    """Extends the lease of the rows ``ids`` still held under ``token``; returns those rows."""
    if not ids:
        return set()
    statement = (
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(list(ids)), OUTBOX.c.claimed_by == token, OUTBOX.c.status == MessageStatus.SENDING)
        .values(claimed_until=until)
        .returning(OUTBOX.c.id)
    )
    return set(connection.execute(statement).scalars())


def update_held(connection: Connection, token: str, row_id: int, values: dict[str, Any]) -> bool:
    """Writes ``values`` into row ``row_id`` if it is still held under ``token``; whether it was."""
    mine = and_(OUTBOX.c.id == row_id, OUTBOX.c.claimed_by == token, OUTBOX.c.status == MessageStatus.SENDING)
    return bool(connection.execute(update(OUTBOX).where(mine).values(**values)).rowcount)


def release(connection: Connection, token: str, ids: Collection[int]) -> None:
    """Gives back the rows ``ids`` still held under ``token`` unsent: due again, in their places."""
    if not ids:
        return
    held = and_(OUTBOX.c.id.in_(list(ids)), OUTBOX.c.claimed_by == token, OUTBOX.c.status == MessageStatus.SENDING)
    free = {"status": MessageStatus.PENDING.value, "claimed_by": None, "claimed_until": None}
    connection.execute(update(OUTBOX).where(held).values(**free))
