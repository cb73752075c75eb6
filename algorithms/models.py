"""Tables of the algorithms directory («Алгоритмы») and of the free-form collections algorithms write to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from processes.timeutil import UTCDateTime, utcnow


class AlgorithmBase(SQLModel):
    """The card fields a designer edits."""

    name: str = Field(max_length=128, unique=True)
    alias: str | None = Field(default=None, max_length=128)  # «Дополнительное наименование», e.g. «А1»
    telegram: bool = False  # «Алгоритм Telegram»: callable by name from a bot that allows code
    code: str = Field(sa_column=Column(Text, nullable=False))


class AlgorithmCreate(AlgorithmBase):
    """What ``add_algorithm`` takes."""


class Algorithm(AlgorithmBase, table=True):
    """Designer-written Python code, run only in the isolated runner."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlgorithmPublic(AlgorithmBase):
    """An algorithm as lists and the API show it."""

    id: int
    created_at: datetime
    updated_at: datetime


class CollectionRecord(SQLModel, table=True):
    """One record an algorithm stored in a named free-form collection (e.g. «Визит клиента»).

    A collection belongs to the bot whose algorithm wrote it (``bot``); ``bot`` is None for a shared collection
    (declared ``shared=True``, or written by a run outside any bot).
    """

    __tablename__ = "collection_record"
    __table_args__ = (Index("ix_collection_record_collection_bot", "collection", "bot"),)

    id: int | None = Field(default=None, primary_key=True)
    collection: str = Field(max_length=128)
    bot: str | None = Field(default=None, max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    person_id: int | None = Field(default=None, foreign_key="person.id")  # the performer who ran the algorithm
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
