"""Notification rules as designers write them next to their scenarios (the «Сигнал» settings)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from processes.durations import parse_duration_minutes

CHANNELS = ("telegram", "email", "inbox")
TemplateCheck = Callable[[str], None]


class RuleEvent(StrEnum):
    """The events a rule can react to (the names stored in the event log)."""

    PROCESS_CREATED = "process.created"
    PROCESS_STARTED = "process.started"
    PROCESS_COMPLETED = "process.completed"
    PROCESS_CANCELLED = "process.cancelled"
    TASK_CREATED = "task.created"
    TASK_COMPLETED = "task.completed"
    TASK_DEADLINE_APPROACHING = "task.deadline_approaching"
    TASK_OVERDUE = "task.overdue"


class RecipientKind(StrEnum):
    PROCESS_AUTHOR = "process_author"
    TASK_PERFORMER = "task_performer"
    TASK_AUTHOR = "task_author"
    PERSON = "person"
    ROLE = "role"


class RuleSpec(BaseModel):
    """On ``event``, send ``template`` through ``channel`` to ``recipient``."""

    model_config = ConfigDict(extra="forbid")

    event: RuleEvent
    channel: Literal["telegram", "email", "inbox"]
    recipient: Literal["process_author", "task_performer", "task_author"] | dict[str, str]
    template: str = Field(min_length=1)
    subject: str = ""
    attachments: bool = False
    enabled: bool = True
    critical: bool = False
    """Delivered at once even while the recipient pauses notifications («Не беспокоить»)."""
    lead: int = 60
    """For ``task.deadline_approaching``: how long before the deadline, in minutes («1h», «1d»)."""

    @field_validator("lead", mode="before")
    @classmethod
    def _lead_minutes(cls, value: Any) -> Any:
        return parse_duration_minutes(value)

    @field_validator("recipient", mode="before")
    @classmethod
    def _known_recipient(cls, value: Any) -> Any:
        if value in ("process_author", "task_performer", "task_author"):
            return value
        if isinstance(value, dict) and set(value) in ({"person"}, {"role"}):
            ((_key, name),) = value.items()
            if isinstance(name, str) and name.strip():
                return value
        raise ValueError("получатель: process_author, task_performer, task_author, {person: ФИО} или {role: Роль}")

    @field_validator("template", "subject")
    @classmethod
    def _template_compiles(cls, value: str, info: ValidationInfo) -> str:
        check: TemplateCheck | None = (info.context or {}).get("check_template")
        if check is not None and value:
            check(value)
        return value

    @property
    def recipient_kind(self) -> RecipientKind:
        """Which of the recipient rules this is."""
        if isinstance(self.recipient, dict):
            return RecipientKind(next(iter(self.recipient)))
        return RecipientKind(self.recipient)

    @property
    def recipient_name(self) -> str | None:
        """The person's name or the role, for the two rules that name one."""
        return next(iter(self.recipient.values())) if isinstance(self.recipient, dict) else None
