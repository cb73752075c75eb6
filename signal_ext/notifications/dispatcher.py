"""The dispatcher: claims due outbox messages chat by chat, sends them part by part, records each part at once.

At-least-once, and never twice while the dispatchers live: a claim (see :mod:`claims`) holds whole chats under a
lease that a heartbeat renews while the batch is worked; before every send the lease is checked (and renewed when
near its end), and a chat whose rows were taken over stops at once. Every delivered part — a piece of a long
text, an attachment — is recorded as soon as it is accepted, under the claim's token, so a retry sends only what
is missing and a killed process costs at most the sends it had in flight."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection
from sqlmodel import Session

if TYPE_CHECKING:
    from signal_ext.channels.bot_channels import BotChannels

from processes.timeutil import utcnow
from signal_ext.channels.base import (
    Channel,
    DeliveryResult,
    DeliveryStatus,
    OutgoingMessage,
)
from signal_ext.channels.registry import ChannelRegistry
from signal_ext.notifications import claims
from signal_ext.notifications.delivery import (
    Claim,
    DispatchReport,
    RetryPolicy,
    count,
    joined_ids,
    outgoing_message,
)
from signal_ext.notifications.models import SYSTEM_BOT, MessageStatus
from signal_ext.redaction import redact

__all__ = ["DispatchReport", "Dispatcher", "RetryPolicy"]

T = TypeVar("T")
log = logging.getLogger(__name__)


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
        per_chat: int = 30,
    ) -> None:
        self._open_session = open_session
        self._channels = channels
        self._bot_channels = bot_channels
        self._policy = policy or RetryPolicy()
        self._lease = timedelta(seconds=lease_seconds)
        self._concurrency = concurrency
        self._per_chat = per_chat
        self._clock = clock
        self._rng = random.Random()
        # One writer thread: concurrent SQLite write transactions would wait on each other in the busy handler.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dispatch-writer")
        self._stopping = False

    def stop(self) -> None:
        """Ends the rounds in progress after their sends in flight (the rest of their chats is given back at once,
        for another dispatcher) and claims nothing more."""
        self._stopping = True

    async def run_once(self, limit: int = 200, only: Sequence[int] | None = None) -> DispatchReport:
        """Claims due chats (up to ``limit`` messages, or just the ids in ``only``), sends their messages — chats
        in parallel, each chat's in order — and records every part; what was claimed but not worked is given
        back."""
        report = DispatchReport()
        if self._stopping:
            return report
        token, now = claims.new_token(), self._clock()
        chats = await self._write(lambda c: claims.claim_due(c, token, now, self._lease, limit, self._per_chat, only))
        claim = Claim(token, now + self._lease, {row["id"] for rows in chats for row in rows})
        report.claimed = len(claim.held)
        if not chats:
            return report
        gate = asyncio.Semaphore(self._concurrency)
        heartbeat = asyncio.create_task(self._heartbeat(claim))
        try:  # every chat runs to its end before anything is given back, even when one of them fails
            outcomes = await asyncio.gather(
                *(self._deliver_chat(claim, rows, gate, report) for rows in chats), return_exceptions=True
            )
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            unworked = set(claim.held)
            await self._write(lambda c: claims.release(c, token, unworked))
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
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

    async def _deliver_chat(
        self, claim: Claim, rows: list[dict[str, Any]], gate: asyncio.Semaphore, report: DispatchReport
    ) -> None:
        """One chat's messages in their order; a retry or a lost claim stops the chat (the rest keep their
        places and are given back)."""
        for row in rows:
            result = await self._deliver(claim, row, gate)
            if result is None:
                return
            count(report, result)
            if result.status is DeliveryStatus.RETRY:
                return

    async def _deliver(self, claim: Claim, row: dict[str, Any], gate: asyncio.Semaphore) -> DeliveryResult | None:
        """Sends the parts of ``row`` not yet delivered, recording each; None when the claim was lost."""
        channel = await self._channel(row)
        if channel is None:
            where = f"бота {row['bot']}" if row.get("bot") else row["channel"]
            return await self._finish(claim, row, DeliveryResult.retry(f"Канал {where} не настроен"))
        if not row["address"]:
            return await self._finish(
                claim, row, DeliveryResult.failed(f"У получателя нет адреса для канала {row['channel']}")
            )
        reads = row["with_attachments"]  # only a message with attachments reads the database
        message = await asyncio.to_thread(outgoing_message, row, self._open_session) if reads else outgoing_message(row)
        total = channel.parts(message)
        while row["delivered_parts"] < total:
            if not await self._holding(claim, row["id"]):
                return None
            async with gate:
                result = await self._send_part(channel, message, row["delivered_parts"])
            if result.status is not DeliveryStatus.SENT:
                return await self._finish(claim, row, result)
            row["delivered_parts"] += 1
            row["external_id"] = joined_ids(row["external_id"], result.external_id)
            if row["delivered_parts"] < total and not await self._record_part(claim, row):
                return None
        return await self._finish(claim, row, DeliveryResult.sent(row["external_id"]))

    async def _channel(self, row: dict[str, Any]) -> Channel | None:
        """The row's channel; a telegram row of a directory bot goes out with that bot's token."""
        bot = row.get("bot")
        if row["channel"] != "telegram" or bot in (None, SYSTEM_BOT) or self._bot_channels is None:
            return self._channels.get(row["channel"])
        return await asyncio.to_thread(self._bot_channels.get, bot)

    async def _send_part(self, channel: Channel, message: OutgoingMessage, part: int) -> DeliveryResult:
        try:
            return await channel.send_part(message, part)
        except Exception as error:  # a channel must not raise, but one that does must not stop the round
            return DeliveryResult.retry(f"{type(error).__name__}: {error}")

    # --- the lease ------------------------------------------------------------------------------------------

    async def _heartbeat(self, claim: Claim) -> None:
        """Renews the claim every third of the lease while the batch is worked."""
        period = self._lease.total_seconds() / 3
        while True:
            await asyncio.sleep(period)  # a period, not a synchronisation: renewals are conditioned on the token
            try:
                await self._renew(claim)
            except Exception as error:  # the next check before a send renews again, or stops the chat
                log.warning("dispatch: lease not renewed: %s", error)

    async def _renew(self, claim: Claim) -> None:
        async with claim.renewing:
            ids, until = set(claim.held), self._clock() + self._lease
            kept = await self._write(lambda c: claims.renew(c, claim.token, ids, until))
            claim.lost |= (ids & claim.held) - kept  # rows finished meanwhile left ``held`` before their write
            claim.lease_until = until

    async def _holding(self, claim: Claim, row_id: int) -> bool:
        """Whether row ``row_id`` is still this claim's with time to send: renewed first when the lease is in its
        last third; a row another dispatcher took over, or a lease that cannot be renewed, stops the chat (and so
        does a stop)."""
        if self._stopping:
            return False
        if row_id not in claim.lost and claim.lease_until - self._clock() > self._lease / 3:
            return True
        try:
            await self._renew(claim)
        except Exception as error:
            log.warning("dispatch: lease not renewed, chat stopped: %s", error)
            return False
        return row_id not in claim.lost and claim.lease_until > self._clock()

    # --- recording ------------------------------------------------------------------------------------------

    async def _record_part(self, claim: Claim, row: dict[str, Any]) -> bool:
        """Records a delivered part (not the last) at once; False when the claim was lost."""
        values = {"delivered_parts": row["delivered_parts"], "external_id": row["external_id"]}
        if await self._write(lambda c: claims.update_held(c, claim.token, row["id"], values)):
            return True
        claim.lost.add(row["id"])
        return False

    async def _finish(self, claim: Claim, row: dict[str, Any], result: DeliveryResult) -> DeliveryResult | None:
        """Records the outcome of ``row`` and lets it go; None when the claim was lost (nothing is recorded)."""
        values = self._outcome(row, result)
        claim.held.discard(row["id"])  # before the write: a renewal meanwhile must not take it for lost
        if await self._write(lambda c: claims.update_held(c, claim.token, row["id"], values)):
            return result
        claim.lost.add(row["id"])
        return None

    def _outcome(self, row: dict[str, Any], result: DeliveryResult) -> dict[str, Any]:
        """The row's columns after ``result``: sent, failed, or waiting for a retry in its place."""
        now = self._clock()
        attempts = row["attempts"] + (0 if result.retry_after is not None else 1)
        values: dict[str, Any] = {
            "claimed_by": None,
            "claimed_until": None,
            "attempts": attempts,
            "delivered_parts": row["delivered_parts"],
            "last_error": redact(result.error or ""),
        }
        if result.status is DeliveryStatus.SENT:
            values.update(status=MessageStatus.SENT, sent_at=now, external_id=result.external_id, retry_at=None)
        elif result.status is DeliveryStatus.FAILED or attempts >= self._policy.max_attempts:
            values.update(status=MessageStatus.FAILED)
        else:
            wait = result.retry_after if result.retry_after is not None else self._policy.delay(attempts, self._rng)
            values.update(status=MessageStatus.PENDING, retry_at=now + timedelta(seconds=wait))
        return values

    async def _write(self, work: Callable[[Connection], T]) -> T:
        """Runs ``work`` in one transaction on the writer thread."""

        def run() -> T:
            with self._open_session() as session:
                done = work(session.connection())
                session.commit()
                return done

        return await asyncio.get_running_loop().run_in_executor(self._writer, run)
