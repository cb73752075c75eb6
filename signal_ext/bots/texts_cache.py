"""A bot's texts table, read at most once a second: every update needs it, and it changes rarely."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlmodel import Session

from processes.errors import ProcessError
from signal_ext.bots.directory import find_bot, system_bot, texts_of
from signal_ext.bots.texts import BotTexts
from signal_ext.notifications.models import SYSTEM_BOT

FRESH_SECONDS = 1.0
"""How long a read texts table is used before it is read again: a changed text is said within this time."""


def read_texts(session: Session, bot: str) -> BotTexts:
    """The texts of ``bot``; for the system bot, those of the directory's system record, whatever its name;
    the defaults when the directory has no such bot."""
    record = system_bot(session) if bot == SYSTEM_BOT else None
    try:
        return texts_of(session, record or find_bot(session, bot))
    except ProcessError:
        return BotTexts()


class TextsCache:
    """Texts per bot name, re-read when older than ``fresh_seconds``."""

    def __init__(self, read_session: Callable[[], Session], fresh_seconds: float = FRESH_SECONDS) -> None:
        self._read_session = read_session
        self._fresh_seconds = fresh_seconds
        self._read: dict[str, tuple[float, BotTexts]] = {}

    def get(self, bot: str, session: Session | None = None) -> BotTexts:
        """The texts of ``bot``, read in ``session`` (or a new read session) when the cached ones are stale."""
        now = time.monotonic()
        cached = self._read.get(bot)
        if cached is not None and now - cached[0] < self._fresh_seconds:
            return cached[1]
        if session is not None:
            texts = read_texts(session, bot)
        else:
            with self._read_session() as own:
                texts = read_texts(own, bot)
        self._read[bot] = (now, texts)
        return texts
