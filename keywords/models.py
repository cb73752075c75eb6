"""The keyword directory («Ключевые слова»): per bot, a tree of records a designer loads from YAML."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from processes.timeutil import UTCDateTime, utcnow


class KeywordKind(StrEnum):
    """«Вид»: what the bot does when the record's word arrives."""

    TEXT = "text"  # «Текстовый ответ»
    ALGORITHM = "algorithm"  # «Выполнение алгоритма»
    CHOICE = "choice"  # «Выбор» (with ``algorithm`` set: a dynamic choice)
    KEYWORD = "keyword"  # «Ключевое слово»: handle as the word in ``target``


class Keyword(SQLModel, table=True):
    """One record of a bot's keyword tree; a child of a choice answers one of its options."""

    __table_args__ = (Index("ix_keyword_bot_parent", "bot_id", "parent_id"),)

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(foreign_key="bot.id")
    parent_id: int | None = Field(default=None, foreign_key="keyword.id")
    position: int = 0  # order among its siblings (the order of the buttons)
    words: str = Field(max_length=1024)  # comma-separated, as the designer wrote them
    kind: KeywordKind
    answer: str = Field(default="", sa_column=Column(Text, nullable=False))  # the text of a text record
    algorithm: str | None = Field(default=None, max_length=128)  # algorithm of an algorithm / dynamic choice
    choice_title: str = Field(default="", sa_column=Column(Text, nullable=False))  # «Заголовок выбора»
    confirm: bool = False  # «Подтверждать выбор»
    target: str | None = Field(default=None, max_length=1024)  # the word an alias record stands for
    deleted: bool = False  # «Пометка удаления»: kept, ignored
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
