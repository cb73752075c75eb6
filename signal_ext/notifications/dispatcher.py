"""The dispatcher: claims due outbox messages, sends them through their channels, records each outcome.

At-least-once: a message is claimed with a lease before it is sent and its result is recorded right after, one
message per transaction; a process that dies mid-batch leaves claims that expire and are taken again. On
PostgreSQL the claim uses ``FOR UPDATE SKIP LOCKED``, so several dispatchers never take the same message."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, and_, or_, select, update
from sqlmodel import Session, SQLModel

if TYPE_CHECKING:
    from signal_ext.channels.bot_channels import BotChannels

from processes.timeutil import utcnow
from signal_ext.channels.base import (
    Button,
    Channel,
    DeliveryResult,
    DeliveryStatus,
    OutgoingAttachment,
    OutgoingMessage,
)
from signal_ext.channels.registry import ChannelRegistry
from signal_ext.notifications.models import SYSTEM_BOT, MessageStatus
from signal_ext.redaction import redact

OUTBOX: Table = SQLModel.metadata.tables["outbox"]
ATTACHMENTS: Table = SQLModel.metadata.tables["attachment"]
DUE = (MessageStatus.SCHEDULED.value, MessageStatus.PENDING.value)


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried: exponential backoff with full jitter, up to ``max_attempts``."""

    max_attempts: int = 8
    base_seconds: float = 2.0
    max_seconds: float = 600.0

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Seconds to wait before attempt number ``attempts + 1``."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(attempts - 1, 0))
        return rng.uniform(ceiling / 2, ceiling)


@dataclass
class DispatchReport:
    """What one dispatch round did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class Dispatcher:
    """Sends due messages; ``run_once`` is one round, the scheduler calls it every second or so."""

    def __init__(
        self,
        open_session: Callable[[], Session],
        channels: ChannelRegistry,
        policy: RetryPolicy | None = None,
        lease_seconds: float = 120.0,
        concurrency: int = 16,
        clock: Callable[[], datetime] = utcnow,
        bot_channels: BotChannels | None = None,
    ) -> None:
        self._open_session = open_session
        self._channels = channels
        self._bot_channels = bot_channels
        self._policy = policy or RetryPolicy()
        self._lease = timedelta(seconds=lease_seconds)
        self._concurrency = concurrency
        self._clock = clock
        self._rng = random.Random()
        self.worker_id = uuid.uuid4().hex[:16]
        # One writer thread: concurrent SQLite write transactions would wait on each other in the busy handler.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dispatch-writer")

    async def run_once(self, limit: int = 200, only: Sequence[int] | None = None) -> DispatchReport:
        """Claims up to ``limit`` due messages (or just the ids in ``only``), sends them concurrently and
        records every result."""
        report = DispatchReport()
        claimed = await asyncio.to_thread(self._claim, limit, only)
        report.claimed = len(claimed)
        gate = asyncio.Semaphore(self._concurrency)

        async def deliver(rows: list[dict[str, Any]]) -> None:
            for row in rows:  # one address's messages in their order; addresses in parallel
                async with gate:
                    result = await self._send(row)
                    await asyncio.get_running_loop().run_in_executor(self._writer, self._record, row, result)
                    _count(report, result)

        await asyncio.gather(*(deliver(rows) for rows in _by_address(claimed)))
        return report

    async def run_until_idle(self, limit: int = 200) -> DispatchReport:
        """Rounds until nothing is due now: what ``signal-ext dispatch --once`` does."""
        total = DispatchReport()
        while True:
            report = await self.run_once(limit)
            for name in ("claimed", "sent", "retried", "failed"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            total.errors.extend(report.errors)
            if report.claimed == 0 or report.sent + report.failed == 0:
                return total

    def _claim(self, limit: int, only: Sequence[int] | None) -> list[dict[str, Any]]:
        now = self._clock()
        due = or_(
            and_(OUTBOX.c.status.in_(DUE), OUTBOX.c.send_at <= now),
            and_(OUTBOX.c.status == MessageStatus.SENDING.value, OUTBOX.c.claimed_until < now),
        )
        statement = select(OUTBOX).where(due).order_by(OUTBOX.c.send_at, OUTBOX.c.id).limit(limit)
        if only is not None:
            statement = statement.where(OUTBOX.c.id.in_(only))
        with self._open_session() as session:
            connection = session.connection()
            rows = [dict(r) for r in connection.execute(statement.with_for_update(skip_locked=True)).mappings()]
            if rows:
                claim = {
                    "status": MessageStatus.SENDING,
                    "claimed_by": self.worker_id,
                    "claimed_until": now + self._lease,
                }
                connection.execute(update(OUTBOX).where(OUTBOX.c.id.in_([r["id"] for r in rows])).values(**claim))
                session.commit()
            return rows

    async def _channel(self, row: dict[str, Any]) -> Channel | None:
        """The row's channel; a telegram row of a directory bot goes out with that bot's token."""
        bot = row.get("bot")
        if row["channel"] != "telegram" or bot in (None, SYSTEM_BOT) or self._bot_channels is None:
            return self._channels.get(row["channel"])
        return await asyncio.to_thread(self._bot_channels.get, bot)

    async def _send(self, row: dict[str, Any]) -> DeliveryResult:
        channel = await self._channel(row)
        if channel is None:
            where = f"бота {row['bot']}" if row.get("bot") else row["channel"]
            return DeliveryResult.retry(f"Канал {where} не настроен")
        if not row["address"]:
            return DeliveryResult.failed(f"У получателя нет адреса для канала {row['channel']}")
        message = OutgoingMessage(
            message_id=row["id"],
            address=row["address"],
            body=row["body"],
            subject=row["subject"],
            person_id=row["person_id"],
            attachments=await asyncio.to_thread(self._attachments, row) if row["with_attachments"] else (),
            buttons=tuple(Button(b["text"], b["data"]) for b in row["buttons"]),
        )
        try:
            return await channel.send(message)
        except Exception as error:  # a channel must not raise, but one that does must not stop the round
            return DeliveryResult.retry(f"{type(error).__name__}: {error}")

    def _attachments(self, row: dict[str, Any]) -> tuple[OutgoingAttachment, ...]:
        if not row["with_attachments"] or row["process_id"] is None:
            return ()
        statement = select(ATTACHMENTS).where(ATTACHMENTS.c.process_id == row["process_id"]).order_by(ATTACHMENTS.c.id)
        with self._open_session() as session:
            found = session.connection().execute(statement).mappings().all()
        return tuple(OutgoingAttachment(a["filename"], a["content"], a["content_type"]) for a in found)

    def _record(self, row: dict[str, Any], result: DeliveryResult) -> None:
        now = self._clock()
        values: dict[str, Any] = {"claimed_by": None, "claimed_until": None, "last_error": redact(result.error or "")}
        attempts = row["attempts"] + (0 if result.retry_after is not None else 1)
        values["attempts"] = attempts
        if result.status is DeliveryStatus.SENT:
            values.update(status=MessageStatus.SENT, sent_at=now, external_id=result.external_id, last_error="")
        elif result.status is DeliveryStatus.FAILED or attempts >= self._policy.max_attempts:
            values.update(status=MessageStatus.FAILED)
        else:
            wait = result.retry_after if result.retry_after is not None else self._policy.delay(attempts, self._rng)
            values.update(status=MessageStatus.PENDING, send_at=now + timedelta(seconds=wait))
        mine = and_(OUTBOX.c.id == row["id"], OUTBOX.c.claimed_by == self.worker_id)
        with self._open_session() as session:
            session.connection().execute(update(OUTBOX).where(mine).values(**values))
            session.commit()


def _by_address(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[tuple[str, str | None, str | None], list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: (r["send_at"], r["id"])):
        groups.setdefault((row["channel"], row.get("bot"), row["address"]), []).append(row)
    return list(groups.values())


def _count(report: DispatchReport, result: DeliveryResult) -> None:
    if result.status is DeliveryStatus.SENT:
        report.sent += 1
    elif result.status is DeliveryStatus.FAILED:
        report.failed += 1
        report.errors.append(result.error or "")
    else:
        report.retried += 1
