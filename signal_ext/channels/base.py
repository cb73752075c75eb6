"""The protocol every channel implements: send one rendered message, say what happened."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class DeliveryStatus(StrEnum):
    """How a send attempt ended."""

    SENT = "sent"
    """The channel accepted the message."""
    RETRY = "retry"
    """A transient failure (network, 5xx, timeout, 429): try again later; see ``retry_after``."""
    FAILED = "failed"
    """A permanent failure (chat not found, bot blocked, bad address): retrying cannot help."""


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one send attempt, as the dispatcher records it."""

    status: DeliveryStatus
    external_id: str | None = None
    error: str | None = None
    retry_after: float | None = None
    """Seconds the channel asked us to wait (Telegram's 429); such a retry does not spend an attempt."""

    @classmethod
    def sent(cls, external_id: str | None = None) -> DeliveryResult:
        return cls(DeliveryStatus.SENT, external_id=external_id)

    @classmethod
    def retry(cls, error: str, retry_after: float | None = None) -> DeliveryResult:
        return cls(DeliveryStatus.RETRY, error=error, retry_after=retry_after)

    @classmethod
    def failed(cls, error: str) -> DeliveryResult:
        return cls(DeliveryStatus.FAILED, error=error)


@dataclass(frozen=True)
class OutgoingAttachment:
    """A file that goes along with a message (a process attachment)."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Button:
    """An inline button under a message; ``data`` is the callback payload the bot receives on a press."""

    text: str
    data: str


@dataclass(frozen=True)
class OutgoingMessage:
    """A rendered message ready for one channel and one address."""

    message_id: int
    """The outbox row's id (stable across retries)."""
    address: str
    """Telegram chat id, e-mail address, or the person id for the inbox."""
    body: str
    """The text in Telegram's HTML subset (<b>, <i>, <u>, <s>, <a href>, <code>, <pre>)."""
    subject: str = ""
    recipient_name: str = ""
    person_id: int | None = None
    attachments: tuple[OutgoingAttachment, ...] = ()
    buttons: tuple[Button, ...] = ()


class Channel(Protocol):
    """One way of reaching a person; ``name`` is how rules and messages refer to it.

    A message goes out in parts, each delivered on its own (a long Telegram text's pieces, then its files); the
    dispatcher records every delivered part at once, so a retry sends only the parts still missing."""

    name: str

    def parts(self, message: OutgoingMessage) -> int:
        """How many parts ``message`` goes out in (1 for a channel that delivers a message whole)."""
        ...

    async def send_part(self, message: OutgoingMessage, part: int) -> DeliveryResult:
        """Delivers part number ``part`` (from 0) of ``message`` once; never raises for delivery problems, reports
        them in the result."""
        ...
