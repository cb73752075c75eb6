"""Moments that users type: task deadlines and delayed-message times (``06.02 14:00``, ``6.2.21``, ``3``, «завтра»).

Numeric forms are parsed here, day before month always; what remains (Russian phrases) goes to ``dateparser``.
A form without a time of day means the end of the working day; a date without a year is the nearest one
that is not in the past (judged to the minute, at the time the text names or implies).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dateparser

from processes.durations import MAX_DAYS
from processes.errors import ProcessError

MAX_YEARS = 100
"""How far ahead a deadline may be: a date near the calendar's end (year 9999) would fail in date arithmetic."""
MAX_TEXT = 200
"""The longest text read as a moment: anything longer is no date, and would be quoted whole in the refusal."""
FORMS = (
    "06.02, 06.02 14:00, 06.02.21, 06.02.2021 14:00, 14:00, число дней (0 — сегодня, 3 — через три дня) "
    "или «завтра», «через 3 дня», «через 2 часа», «в пятницу в 15:00»"
)
_CLOCK = r"(?:\s+(?:в\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2}))?"
_DAY_MONTH = re.compile(r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})(?:\.(?P<year>\d{4}|\d{2}))?" + _CLOCK)
_ISO = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})" + _CLOCK)
_TIME_ONLY = re.compile(r"(?P<hour>\d{1,2}):(?P<minute>\d{2})")
_DAYS = re.compile(r"\d+")
_LETTER = re.compile(r"[^\W\d_]")
_HOUR_OF_DAY = re.compile(r"\bв\s+(\d{1,2})\s*(?:час(?:а|ов)?\s*)?(утра|дня|вечера|ночи)\b")
_BARE_HOUR = re.compile(r"\bв\s+(\d{1,2})(?:\s*час(?:а|ов)?)?$")
_HAS_TIME = re.compile(r"\d:\d{2}|час|мин|сек|\d\s*ч\b")
_PHRASE_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_UNIT = r"(?:дн|ден|недел|мес|год|лет|час|ч\b|мин|сек|янв|фев|мар|апр|ма[йя]|июн|июл|авг|сен|окт|ноя|дек)"
# a number that is not a clock, a year, a fraction or a count of some unit: dateparser would silently ignore it
_STRAY_NUMBER = re.compile(rf"(?<![\d:,])(?!\d{{4}}\b)\d+(?![\d:,])(?!\s*{_UNIT})")


class DeadlineError(ProcessError):
    """``text`` names no moment (or names one that is already over); the message lists the accepted forms."""

    def __init__(self, text: str, message: str | None = None) -> None:
        super().__init__(message or f"Не понимаю срок «{text}»: пишите, например, {FORMS}")
        self.text = text


def parse_when(text: str, now: datetime, zone: ZoneInfo, workday_end: time) -> datetime:
    """The aware datetime (``tzinfo=zone``) that ``text`` names, relative to the aware ``now``.

    Raises DeadlineError when the text names no moment, names an impossible date or time (``31.02``,
    ``25:00``), or is a number of days whose working day is already over (``0`` after ``workday_end``).
    """
    local_now = now.astimezone(zone).replace(tzinfo=None)
    cleaned = " ".join(text.split()).lower()
    if not cleaned:
        raise DeadlineError(text, f"Срок не указан: пишите, например, {FORMS}")
    if len(cleaned) > MAX_TEXT:
        raise DeadlineError(text[:40] + "…")
    moment = _numeric(text, cleaned, local_now, workday_end)
    if moment is None:
        moment = _phrase(text, cleaned, local_now, workday_end)
    if moment > latest_deadline(local_now):
        raise _too_far(text)
    if moment < local_now - timedelta(days=MAX_DAYS):  # a date in year 1 is no deadline, and UTC may not hold it
        raise _past(text, moment)
    return moment.replace(tzinfo=zone)


def parse_deadline(text: str, now: datetime, zone: ZoneInfo, workday_end: time) -> datetime:
    """As :func:`parse_when`, but a moment that is not later than ``now`` raises DeadlineError «Срок уже прошёл…»."""
    moment = parse_when(text, now, zone, workday_end)
    if moment <= now:
        raise _past(text, moment)
    return moment


def _numeric(text: str, cleaned: str, now: datetime, workday_end: time) -> datetime | None:
    """The naive local moment of a numeric form, or None when ``cleaned`` is not one."""
    floor = now.replace(second=0, microsecond=0)
    if _DAYS.fullmatch(cleaned):
        if len(cleaned) > len(str(MAX_DAYS)) or int(cleaned) > MAX_DAYS:
            raise DeadlineError(text, f"Срок «{text}» слишком далёк: не больше {MAX_DAYS} дней")
        days = int(cleaned)
        moment = datetime.combine(now.date() + timedelta(days=days), workday_end)
        if moment < floor:
            raise _past(text, moment)
        return moment
    if match := _TIME_ONLY.fullmatch(cleaned):
        at = _clock(text, match["hour"], match["minute"])
        moment = datetime.combine(now.date(), at)
        return moment if moment >= floor else moment + timedelta(days=1)
    match = _DAY_MONTH.fullmatch(cleaned) or _ISO.fullmatch(cleaned)
    if match is None:
        return None
    day, month = int(match["day"]), int(match["month"])
    at = workday_end if match["hour"] is None else _clock(text, match["hour"], match["minute"])
    if match["year"] is not None:
        year = int(match["year"]) + (2000 if len(match["year"]) == 2 else 0)
        return datetime.combine(_date(text, year, month, day), at)
    _date(text, 2000, month, day)  # a leap year: only dates that exist in no year fail here
    for year in range(now.year, now.year + 9):  # 29.02 waits for the next leap year
        try:
            moment = datetime.combine(date(year, month, day), at)
        except ValueError:
            continue
        if moment >= floor:
            return moment
    raise DeadlineError(text)  # unreachable for an existing date; kept for the type checker


def _phrase(text: str, cleaned: str, now: datetime, workday_end: time) -> datetime:
    """The naive local moment of a Russian phrase, through dateparser; no time of day means ``workday_end``."""
    if not _LETTER.search(cleaned):
        raise DeadlineError(text)
    phrase = _HOUR_OF_DAY.sub(_hour_of_day, cleaned)
    phrase = _BARE_HOUR.sub(r"в \1:00", phrase)
    if _STRAY_NUMBER.search(phrase):
        raise DeadlineError(text)
    for clock in _PHRASE_CLOCK.finditer(phrase):
        _clock(text, clock[1], clock[2])
    has_time = _HAS_TIME.search(phrase) is not None
    if not has_time:  # let dateparser judge "not in the past" at the end of the working day
        phrase = f"{phrase} {workday_end:%H:%M}"
    settings = {
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now,
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        moment = dateparser.parse(phrase, languages=["ru"], settings=settings)
    except (OverflowError, ValueError):  # «через 10000000 лет»: past the calendar's end
        raise _too_far(text) from None
    if moment is None:
        raise DeadlineError(text)
    return moment if has_time else datetime.combine(moment.date(), workday_end)


def _hour_of_day(match: re.Match[str]) -> str:
    """«в 7 вечера» → «в 19:00»: dateparser does not understand the parts of the day."""
    hour, part = int(match[1]), match[2]
    if part in ("дня", "вечера") and hour < 12:
        hour += 12
    elif part == "ночи" and hour == 12:
        hour = 0
    return f"в {hour}:00"


def _clock(text: str, hour: str, minute: str) -> time:
    try:
        return time(int(hour), int(minute))
    except ValueError:
        raise DeadlineError(text, f"В сроке «{text}» нет такого времени: часы 0–23, минуты 0–59") from None


def _date(text: str, year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        message = f"В сроке «{text}» нет такой даты: сначала день, потом месяц (06.02), время через двоеточие (14:00)"
        raise DeadlineError(text, message) from None


def latest_deadline(now: datetime) -> datetime:
    """The farthest deadline accepted at ``now``: :data:`MAX_YEARS` ahead."""
    return now + timedelta(days=MAX_YEARS * 366)


def _too_far(text: str) -> DeadlineError:
    return DeadlineError(text, f"Срок «{text}» слишком далёк: не позже чем через {MAX_YEARS} лет")


def _past(text: str, moment: datetime) -> DeadlineError:
    return DeadlineError(text, f"Срок уже прошёл: «{text}» — это {moment:%d.%m.%Y %H:%M}")
