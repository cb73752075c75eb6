"""«Не беспокоить»: a person's notifications wait until ``Person.paused_until``, except those of critical rules.

A deferred outbox row is an ordinary pending row whose ``send_at`` is the pause's end, so the dispatcher needs no
change: when the pause runs out the rows are simply due. The rows a pause deferred are those of the person still
waiting with ``send_at`` exactly at its end (moments are kept to the second): a new pause moves them to its own
end, «Возобновить» makes them due at once. The inbox is never deferred: it is read when the person wants."""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Table, update
from sqlmodel import Session, SQLModel

from processes.deadlines import DeadlineError, parse_when
from processes.models import Person
from signal_ext.notifications.models import MessageStatus

OUTBOX: Table = SQLModel.metadata.tables["outbox"]
DEFERRED_CHANNELS = frozenset({"telegram", "email"})
WAITING = (MessageStatus.PENDING.value, MessageStatus.SCHEDULED.value)
_LEADING = re.compile(r"^\s*(?:до|на)\s+", re.IGNORECASE)
_AMOUNT = re.compile(r"^\d+\s*(?:мин|час|ч\b|дн|день|дня|сут|недел)", re.IGNORECASE)


class PauseError(DeadlineError):
    """The pause's end is not understood or already over; ``message`` says which, in Russian."""


def parse_pause(text: str, now: datetime, zone: ZoneInfo, workday_end: time) -> datetime:
    """The aware end of a pause the user typed after «Не беспокоить»: «2 часа», «30 минут», «на 3 дня»,
    «до 25.12 10:00», «до завтра 9:00», «до 18:00». Kept to the second; a moment not in the future is refused."""
    cleaned = _LEADING.sub("", " ".join(text.split()))
    phrase = f"через {cleaned}" if _AMOUNT.match(cleaned) else cleaned
    try:
        until = parse_when(phrase, now, zone, workday_end).replace(microsecond=0)
    except DeadlineError:
        raise PauseError(text, f"Не понимаю, до какого времени: «{text.strip()}».") from None
    if until <= now:
        raise PauseError(text, f"Время уже прошло: «{text.strip()}» — это {until.astimezone(zone):%d.%m.%Y %H:%M}")
    return until


def deferred_send_at(person: Person | None, channel: str, critical: bool, now: datetime) -> datetime:
    """When a new message to ``person`` on ``channel`` is due: the end of the person's pause for a non-critical
    telegram or e-mail message, otherwise ``now``."""
    until = person.paused_until if person is not None else None
    if until is None or critical or channel not in DEFERRED_CHANNELS or until <= now:
        return now
    return until


def set_pause(session: Session, person: Person, until: datetime, now: datetime) -> int:
    """Pauses ``person``'s notifications until ``until``; rows deferred by a running pause move to the new end.
    Returns how many moved; the caller commits."""
    moved = _move_deferred(session, person, until, now)
    person.paused_until = until
    session.add(person)
    return moved


def clear_pause(session: Session, person: Person, now: datetime) -> int:
    """Ends ``person``'s pause: the deferred rows are due now. Returns how many; the caller commits."""
    moved = _move_deferred(session, person, now, now)
    person.paused_until = None
    session.add(person)
    return moved


def _move_deferred(session: Session, person: Person, to: datetime, now: datetime) -> int:
    until = person.paused_until
    if until is None or until <= now:
        return 0
    deferred = (
        (OUTBOX.c.person_id == person.id)
        & OUTBOX.c.status.in_(WAITING)
        & OUTBOX.c.channel.in_(DEFERRED_CHANNELS)
        & (OUTBOX.c.send_at == until)
    )
    result = session.connection().execute(update(OUTBOX).where(deferred).values(send_at=to))
    return int(result.rowcount)
