"""The table of registration requests: who asked a bot for access, with what data, and what was decided."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field, SQLModel

from processes.timeutil import UTCDateTime, utcnow


class RegistrationStatus(StrEnum):
    """Where a request stands."""

    PENDING = "Ожидает"  # a scenario's process or the responsible person is deciding
    REGISTERED = "Зарегистрирован"
    REJECTED = "Отклонён"
    FAILED = "Ошибка"  # no step of the chain could decide: the applicant got the authorization-error text


class RegistrationStage(StrEnum):
    """Which step of the chain decided (or is deciding)."""

    PHONE = "phone"
    ALGORITHM = "algorithm"
    SCENARIO = "scenario"
    RESPONSIBLE = "responsible"
    NONE = "none"


class Registration(SQLModel, table=True):
    """One request of one chat to one bot. At most one is pending per (bot, chat) at a time."""

    __table_args__ = (Index("ix_registration_bot_chat", "bot_id", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(foreign_key="bot.id")
    chat_id: str = Field(max_length=32)
    applicant: str = Field(default="", max_length=300)  # the Telegram name, as the applicant's client sent it
    data: str = Field(default="", sa_column=Column(Text, nullable=False))  # what the applicant typed
    phone: str | None = Field(default=None, max_length=32)
    status: RegistrationStatus = Field(default=RegistrationStatus.PENDING, sa_type=String(16))
    stage: RegistrationStage = Field(default=RegistrationStage.NONE, sa_type=String(16))
    process_id: int | None = Field(default=None, foreign_key="process.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")  # registered as
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))  # of a rejection
    decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
