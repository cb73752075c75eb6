"""Tables of the notification side: Telegram chats of persons, rules, the outbox, deadline marks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from processes.timeutil import UTCDateTime, utcnow

SYSTEM_BOT = "system"


class MessageStatus(StrEnum):
    SCHEDULED = "scheduled"
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TelegramChat(SQLModel, table=True):
    """A person's chat with one bot: where that bot's messages to the person go."""

    __tablename__ = "telegram_chat"
    __table_args__ = (UniqueConstraint("bot", "person_id"), UniqueConstraint("bot", "chat_id"))

    id: int | None = Field(default=None, primary_key=True)
    bot: str = Field(default=SYSTEM_BOT, max_length=64)
    person_id: int = Field(foreign_key="person.id", index=True)
    chat_id: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # deauthorized (person deleted/blocked)
    revoked_reason: str = ""  # «deleted» / «blocked»: told on the chat's next message


class NotificationRule(SQLModel, table=True):
    """A rule of a scenario version, or a global one (``scenario_id`` empty)."""

    __tablename__ = "notification_rule"

    id: int | None = Field(default=None, primary_key=True)
    scenario_id: int | None = Field(default=None, foreign_key="scenario.id", index=True)
    position: int = 0
    event: str = Field(max_length=64, index=True)
    channel: str = Field(max_length=32)
    recipient_kind: str = Field(max_length=32)
    recipient_person_id: int | None = Field(default=None, foreign_key="person.id")
    recipient_role: str | None = None
    subject: str = ""
    template: str
    attachments: bool = False
    enabled: bool = True
    lead_minutes: int = 60
    critical: bool = False  # delivered even while the recipient pauses notifications


class OutboxMessage(SQLModel, table=True):
    """Every message, rendered and stored before it is sent; the dispatcher works this table.

    One chat's messages — same channel, bot and address — go out in ``(send_at, id)`` order; a transient failure
    sets ``retry_at`` and keeps ``send_at``, so the message keeps its place. ``delivered_parts`` counts the parts
    (pieces of a long text, then attachments) already delivered: a retry sends only the rest."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "send_at"),
        Index("ix_outbox_chat", "address", "channel", "status", "send_at"),  # a chat's earlier and leased rows
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    rule_id: int | None = Field(default=None, foreign_key="notification_rule.id")
    event_uid: str | None = Field(default=None, max_length=32)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    channel: str = Field(max_length=32)
    bot: str | None = Field(default=None, max_length=64)  # telegram: which bot sends it (None = the system bot)
    address: str | None = Field(default=None, max_length=320)
    subject: str = ""
    body: str = ""
    buttons: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    process_id: int | None = Field(default=None, index=True)
    task_id: int | None = Field(default=None, index=True)
    with_attachments: bool = False
    manual: bool = False
    status: MessageStatus = Field(default=MessageStatus.PENDING, sa_type=String(16))
    send_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    retry_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # a transient failure's next try
    attempts: int = 0
    delivered_parts: int = 0
    last_error: str = ""
    external_id: str | None = Field(default=None, max_length=200)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxPublic(SQLModel):
    """A message as ``message list`` and ``inbox list`` show it."""

    id: int
    channel: str
    person_id: int | None
    recipient: str = ""
    address: str | None
    subject: str
    body: str
    status: MessageStatus
    delayed: bool = False
    manual: bool
    send_at: datetime
    attempts: int
    last_error: str
    external_id: str | None
    created_at: datetime
    sent_at: datetime | None
    read_at: datetime | None
