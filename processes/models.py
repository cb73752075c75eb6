"""Tables of the core (SQLModel): persons, scenarios with steps, processes, tasks, attachments, events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from processes.timeutil import UTCDateTime, utcnow


def _moment(nullable: bool = True) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable)


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def _json_dict() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class PersonKind(StrEnum):
    USER = "user"
    PARTNER = "partner"
    COUNTERPARTY = "counterparty"


class ProcessStatus(StrEnum):
    CREATED = "Создан"
    ACTIVE = "Активен"
    COMPLETED = "Завершен"
    CANCELLED = "Прерван"


class TaskStatus(StrEnum):
    ACTIVE = "Активна"
    DONE = "Выполнена"
    CANCELLED = "Отменена"


class PerformerRule(StrEnum):
    AUTHOR = "author"
    PERSON = "person"
    ROLE = "role"


class PersonBase(SQLModel):
    full_name: str = Field(min_length=1, max_length=300)
    short_name: str = Field(default="", max_length=100)
    kind: PersonKind = Field(default=PersonKind.USER, sa_type=String(16))
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=32)
    inn: str | None = Field(default=None, max_length=12, index=True)
    active: bool = True


class PersonCreate(PersonBase):
    roles: list[str] = []


class Person(PersonBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    blocked: bool = False  # «Заблокирован»: the person's chats lose access until unblocked
    blocked_reason: str = ""
    paused_until: datetime | None = Field(default=None, sa_type=UTCDateTime)  # «Не беспокоить до»: non-critical waits
    roles: list[str] = _json_list()
    name_key: str = Field(default="", index=True, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PersonPublic(PersonBase):
    id: int
    roles: list[str]
    blocked: bool = False
    blocked_reason: str = ""
    paused_until: datetime | None = None


class Scenario(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, max_length=300)
    version: int = 1
    current: bool = Field(default=True, index=True)
    description: str = ""
    manual_start: bool = False
    deadline_minutes: int | None = None
    attachments_allowed: bool = True
    content_hash: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Step(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    scenario_id: int = Field(foreign_key="scenario.id", index=True)
    position: int
    title: str
    description: str = ""
    performer_rule: PerformerRule = Field(default=PerformerRule.AUTHOR, sa_type=String(16))
    performer_person_id: int | None = Field(default=None, foreign_key="person.id")
    performer_role: str | None = None
    deadline_minutes: int | None = None
    important: bool = False
    fields: list[dict[str, Any]] = _json_list()


class ProcessBase(SQLModel):
    scenario_id: int = Field(foreign_key="scenario.id", index=True)
    author_id: int = Field(foreign_key="person.id", index=True)
    description: str = ""


class Process(ProcessBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    status: ProcessStatus = Field(default=ProcessStatus.CREATED, sa_type=String(16), index=True)
    deadline: datetime | None = _moment()
    data: dict[str, Any] = _json_dict()
    cancel_reason: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = _moment()
    finished_at: datetime | None = _moment()


class TaskBase(SQLModel):
    title: str = Field(min_length=1, max_length=500)
    description: str = ""
    performer_id: int = Field(foreign_key="person.id", index=True)
    author_id: int = Field(foreign_key="person.id")
    deadline: datetime | None = _moment()
    important: bool = False


class TaskCreate(TaskBase):
    pass


class Task(TaskBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    process_id: int | None = Field(default=None, foreign_key="process.id", index=True)
    step_id: int | None = Field(default=None, foreign_key="step.id")
    position: int | None = None
    status: TaskStatus = Field(default=TaskStatus.ACTIVE, sa_type=String(16), index=True)
    comment: str = ""
    data: dict[str, Any] = _json_dict()
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = _moment()
    acknowledged_at: datetime | None = _moment()


class Attachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    process_id: int | None = Field(default=None, foreign_key="process.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=255)
    size: int = 0
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EventRecord(SQLModel, table=True):
    """The persistent log of domain events, written in the transaction that caused them."""

    __tablename__ = "event_log"

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(default="", max_length=32, index=True)
    name: str = Field(max_length=64, index=True)
    process_id: int | None = Field(default=None, index=True)
    task_id: int | None = Field(default=None, index=True)
    payload: dict[str, Any] = _json_dict()
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeadlineMark(SQLModel, table=True):
    """That a deadline event was raised for a task (once per task, lead and kind)."""

    __tablename__ = "deadline_mark"
    __table_args__ = (UniqueConstraint("task_id", "kind", "lead_minutes"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id")
    kind: str = Field(max_length=32)
    lead_minutes: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TaskPublic(TaskBase):
    """A task as lists and the API show it."""

    id: int
    process_id: int | None
    position: int | None
    status: TaskStatus
    comment: str
    data: dict[str, Any]
    created_at: datetime
    completed_at: datetime | None
    acknowledged_at: datetime | None
    performer: str = ""
    author: str = ""
    attachments: int = 0
    fields: list[dict[str, Any]] = []


class ProcessPublic(ProcessBase):
    """A process as lists and the API show it; ``tasks`` is filled by ``show``."""

    id: int
    scenario: str = ""
    author: str = ""
    status: ProcessStatus
    deadline: datetime | None
    data: dict[str, Any]
    cancel_reason: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    tasks: list[TaskPublic] = []
    attachments: list[str] = []


class StepPublic(SQLModel):
    position: int
    title: str
    description: str
    performer: str
    deadline_minutes: int | None
    important: bool
    fields: list[dict[str, Any]]


class ScenarioPublic(SQLModel):
    id: int
    name: str
    version: int
    description: str
    manual_start: bool
    deadline_minutes: int | None
    attachments_allowed: bool
    steps: list[StepPublic] = []
