"""A bot's status as the service saw it: stopped because Telegram refused its token, and since when.

The running service writes it (:class:`BotHealth`); ``bot list``, ``bot show`` and ``/health`` read it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from signal_ext.bots.models import Bot, BotStatus
from signal_ext.notifications.models import SYSTEM_BOT

log = logging.getLogger("signal_ext.bots")


class BotState(StrEnum):
    """Why a bot is stopped."""

    REFUSED = "refused"
    """Telegram answered 401 to its token (revoked or mistyped): retrying the same token cannot help."""


STATE_TEXT: dict[str, str] = {BotState.REFUSED: "токен отклонён Telegram (401)"}


def runtime_name(bot: Bot) -> str:
    """The name bot ``bot`` runs under in the service: ``system`` for the system bot, else its own name."""
    return SYSTEM_BOT if bot.is_system else bot.name


def status_of(session: Session, bot: Bot) -> BotStatus | None:
    """Why ``bot`` is stopped, or None when no trouble is known."""
    return session.get(BotStatus, runtime_name(bot))


def stopped_bots(session: Session) -> list[BotStatus]:
    """Every stopped bot, by the name it runs under."""
    return list(session.exec(select(BotStatus).order_by(col(BotStatus.bot))))


def describe(state: str, since: datetime, zone: ZoneInfo) -> str:
    """The status in Russian: «токен отклонён Telegram (401) в 02.12 10:15» (time in ``zone``)."""
    what = STATE_TEXT.get(state, state)
    return f"{what} в {since.astimezone(zone).strftime('%d.%m %H:%M')}"


def record_stopped(session: Session, name: str, state: BotState, when: datetime) -> None:
    """Stores that bot ``name`` is stopped for ``state`` since ``when`` (the caller commits)."""
    row = session.get(BotStatus, name) or BotStatus(bot=name, state=state, since=when)
    row.state, row.since = state, when
    session.add(row)


def clear_status(session: Session, name: str) -> None:
    """Forgets bot ``name``'s trouble: it runs again (the caller commits)."""
    row = session.get(BotStatus, name)
    if row is not None:
        session.delete(row)


class BotHealth:
    """The running service's record of refused tokens: which token of which bot Telegram refused (so the
    directory's reload does not try it again until it changes), kept in the ``bot_status`` table too."""

    def __init__(self, open_session: Callable[[], Session], clock: Callable[[], datetime]) -> None:
        self._open_session = open_session
        self._clock = clock
        self.refused: dict[str, str] = {}  # bot name → the token Telegram refused

    def is_refused(self, name: str, token: str) -> bool:
        """Whether Telegram already refused ``token`` of bot ``name``."""
        return self.refused.get(name) == token

    async def token_refused(self, name: str, token: str) -> None:
        """Logs one line and records that bot ``name`` is stopped because Telegram refused ``token``."""
        self.refused[name] = token
        log.error("bot %s stopped: Telegram refused its token (401); the other bots keep running", name)
        await asyncio.to_thread(self._write, name, BotState.REFUSED)

    async def started(self, name: str) -> None:
        """Bot ``name`` runs: any recorded trouble is over."""
        if self.refused.pop(name, None) is not None or await asyncio.to_thread(self._has_status, name):
            await asyncio.to_thread(self._write, name, None)

    def _has_status(self, name: str) -> bool:
        with self._open_session() as session:
            return session.get(BotStatus, name) is not None

    def _write(self, name: str, state: BotState | None) -> None:
        with self._open_session() as session:
            if state is None:
                clear_status(session, name)
            else:
                record_stopped(session, name, state, self._clock())
            session.commit()
