"""The dispatcher's small parts: the retry policy, a round's report, a claim held in memory, the message a row
makes, external ids."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session, SQLModel

from signal_ext.channels.base import Button, DeliveryResult, DeliveryStatus, OutgoingAttachment, OutgoingMessage

ATTACHMENTS: Table = SQLModel.metadata.tables["attachment"]
EXTERNAL_ID_LENGTH = 200  # the outbox column's width


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


@dataclass
class Claim:
    """One round's claim as the dispatcher holds it: its token, when its lease ends, the rows it still holds
    (claimed and neither finished nor given back) and the rows another dispatcher took over."""

    token: str
    lease_until: datetime
    held: set[int]
    lost: set[int] = field(default_factory=set)
    renewing: asyncio.Lock = field(default_factory=asyncio.Lock)


def count(report: DispatchReport, result: DeliveryResult) -> None:
    """Adds one message's outcome to ``report``."""
    if result.status is DeliveryStatus.SENT:
        report.sent += 1
    elif result.status is DeliveryStatus.FAILED:
        report.failed += 1
        report.errors.append(result.error or "")
    else:
        report.retried += 1


def joined_ids(previous: str | None, new: str | None) -> str | None:
    """The external ids of a message's delivered parts, comma-separated; when they outgrow the column, the
    first and the latest are kept around an ellipsis."""
    ids = [i for i in (previous or "").split(",") if i] + ([new] if new else [])
    if not ids:
        return None
    text = ",".join(ids)
    if len(text) <= EXTERNAL_ID_LENGTH:
        return text
    first, last = ids[0].split("…")[0], ids[-1]
    return f"{first}…{last}"[:EXTERNAL_ID_LENGTH]


def outgoing_message(row: dict[str, Any], open_session: Callable[[], Session] | None = None) -> OutgoingMessage:
    """The message an outbox row makes, with its process's attachments when the rule asked for them (then
    blocking: they are read through ``open_session``)."""
    attachments: tuple[OutgoingAttachment, ...] = ()
    if open_session is not None and row["with_attachments"] and row["process_id"] is not None:
        statement = select(ATTACHMENTS).where(ATTACHMENTS.c.process_id == row["process_id"]).order_by(ATTACHMENTS.c.id)
        with open_session() as session:
            found = session.connection().execute(statement).mappings().all()
        attachments = tuple(OutgoingAttachment(a["filename"], a["content"], a["content_type"]) for a in found)
    return OutgoingMessage(
        message_id=row["id"],
        address=row["address"],
        body=row["body"],
        subject=row["subject"],
        person_id=row["person_id"],
        attachments=attachments,
        buttons=tuple(Button(b["text"], b["data"]) for b in row["buttons"]),
    )
