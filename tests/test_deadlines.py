"""Deadlines and send times as users type them: numeric forms, day counts, Russian phrases, precise errors."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from processes.deadlines import DeadlineError, parse_deadline, parse_when
from processes.errors import ProcessError

MSK = ZoneInfo("Europe/Moscow")
END = time(18, 0)
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=MSK)  # a Saturday


def _msk(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK)


def _assert_moment(result: datetime, expected: datetime) -> None:
    """Same wall clock and the same zone object, not merely the same instant."""
    assert result.tzinfo is expected.tzinfo
    assert result.replace(tzinfo=None) == expected.replace(tzinfo=None)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("06.02 14:00", _msk(2027, 2, 6, 14)),
        ("06.02.21 14:00", _msk(2021, 2, 6, 14)),
        ("06.02.2021 14:00", _msk(2021, 2, 6, 14)),
        ("6.2 14:00", _msk(2027, 2, 6, 14)),
        ("6.2", _msk(2027, 2, 6, 18)),
        ("06.02.2021", _msk(2021, 2, 6, 18)),
        ("6.2.21", _msk(2021, 2, 6, 18)),
        ("6.2.99", _msk(2099, 2, 6, 18)),
        ("06.02 9:05", _msk(2027, 2, 6, 9, 5)),
        ("6.2 в 14:00", _msk(2027, 2, 6, 14)),
        ("  06.02   14:00 ", _msk(2027, 2, 6, 14)),
        ("\t6.2\n", _msk(2027, 2, 6, 18)),
        ("25.12", _msk(2026, 12, 25, 18)),
        ("21.11", _msk(2026, 11, 21, 18)),  # today, workday not over yet
        ("21.11 10:30", _msk(2026, 11, 21, 10, 30)),  # today, later time
        ("21.11 9:59", _msk(2027, 11, 21, 9, 59)),  # today, time gone: next year
        ("20.11", _msk(2027, 11, 20, 18)),
        ("29.02", _msk(2028, 2, 29, 18)),  # waits for a leap year
        ("29.02.2028 08:15", _msk(2028, 2, 29, 8, 15)),
        ("2021-02-06", _msk(2021, 2, 6, 18)),
        ("2027-02-06 14:00", _msk(2027, 2, 6, 14)),
        ("14:00", _msk(2026, 11, 21, 14)),
        ("9:05", _msk(2026, 11, 22, 9, 5)),
        ("0", _msk(2026, 11, 21, 18)),
        ("1", _msk(2026, 11, 22, 18)),
        ("3", _msk(2026, 11, 24, 18)),
        ("14", _msk(2026, 12, 5, 18)),
        ("3650", _msk(2036, 11, 18, 18)),
        ("завтра", _msk(2026, 11, 22, 18)),
        ("Завтра", _msk(2026, 11, 22, 18)),
        ("послезавтра", _msk(2026, 11, 23, 18)),
        ("через 3 дня", _msk(2026, 11, 24, 18)),
        ("через 2 часа", _msk(2026, 11, 21, 12)),
        ("через 15 минут", _msk(2026, 11, 21, 10, 15)),
        ("в пятницу", _msk(2026, 11, 27, 18)),
        ("в понедельник", _msk(2026, 11, 23, 18)),
        ("завтра в 15:00", _msk(2026, 11, 22, 15)),
        ("сегодня 17:30", _msk(2026, 11, 21, 17, 30)),
        ("сегодня", _msk(2026, 11, 21, 18)),
        ("в пятницу в 9:30", _msk(2026, 11, 27, 9, 30)),
        ("завтра в 9", _msk(2026, 11, 22, 9)),
        ("в 7 вечера", _msk(2026, 11, 21, 19)),
        ("завтра в 9 утра", _msk(2026, 11, 22, 9)),
        ("в 9:00", _msk(2026, 11, 22, 9)),  # 9:00 today is gone
        ("через неделю", _msk(2026, 11, 28, 18)),
        ("6 февраля", _msk(2027, 2, 6, 18)),
        ("25 декабря 14:00", _msk(2026, 12, 25, 14)),
    ],
)
def test_parse_when_forms(typed: str, expected: datetime) -> None:
    _assert_moment(parse_when(typed, NOW, MSK, END), expected)


@pytest.mark.parametrize(
    ("now", "typed", "expected"),
    [
        (_msk(2026, 2, 6, 10), "06.02 14:00", _msk(2026, 2, 6, 14)),
        (_msk(2026, 2, 6, 10), "06.02 09:00", _msk(2027, 2, 6, 9)),
        (_msk(2026, 2, 6, 17), "6.2", _msk(2026, 2, 6, 18)),
        (_msk(2026, 2, 6, 19), "6.2", _msk(2027, 2, 6, 18)),
        (_msk(2026, 2, 6, 18), "6.2", _msk(2026, 2, 6, 18)),
        (datetime(2026, 2, 6, 14, 0, 30, tzinfo=MSK), "06.02 14:00", _msk(2026, 2, 6, 14)),  # judged to the minute
        (_msk(2026, 2, 6, 14, 1), "06.02 14:00", _msk(2027, 2, 6, 14)),
        (_msk(2026, 12, 31, 23, 30), "1.1", _msk(2027, 1, 1, 18)),
        (_msk(2026, 12, 31, 23, 30), "31.12", _msk(2027, 12, 31, 18)),
        (_msk(2026, 12, 31, 23, 30), "23:45", _msk(2026, 12, 31, 23, 45)),
        (_msk(2026, 12, 31, 23, 30), "23:15", _msk(2027, 1, 1, 23, 15)),
        (_msk(2026, 12, 31, 23, 30), "1", _msk(2027, 1, 1, 18)),
        (_msk(2026, 11, 21, 17, 59), "0", _msk(2026, 11, 21, 18)),
        (_msk(2026, 11, 27, 17), "27 ноября", _msk(2026, 11, 27, 18)),
        (_msk(2026, 11, 27, 19), "27 ноября", _msk(2027, 11, 27, 18)),
        (_msk(2026, 11, 27, 10), "в пятницу", _msk(2026, 12, 4, 18)),  # said on a Friday: the next one
        (_msk(2026, 11, 21, 20), "в 7 вечера", _msk(2026, 11, 22, 19)),
        (_msk(2026, 11, 21, 19), "сегодня", _msk(2026, 11, 21, 18)),  # past; parse_deadline refuses it
    ],
)
def test_parse_when_relative_to_now(now: datetime, typed: str, expected: datetime) -> None:
    _assert_moment(parse_when(typed, now, MSK, END), expected)


def test_now_in_another_zone_is_converted_first() -> None:
    now = datetime(2026, 11, 21, 22, 30, tzinfo=UTC)  # 01:30 on 22 Nov in Moscow
    _assert_moment(parse_when("0", now, MSK, END), _msk(2026, 11, 22, 18))
    _assert_moment(parse_when("завтра", now, MSK, END), _msk(2026, 11, 23, 18))
    _assert_moment(parse_when("22.11", now, MSK, END), _msk(2026, 11, 22, 18))
    _assert_moment(parse_when("через 2 часа", now, MSK, END), _msk(2026, 11, 22, 3, 30))


def test_zone_with_daylight_saving_gets_the_offset_of_the_date() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    summer = parse_when("06.07 14:00", now, berlin, END)
    assert summer == datetime(2027, 7, 6, 12, 0, tzinfo=UTC)
    assert summer.tzinfo is berlin


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("6.2", _msk(2027, 2, 6, 17, 30)),
        ("2", _msk(2026, 11, 23, 17, 30)),
        ("завтра", _msk(2026, 11, 22, 17, 30)),
        ("в пятницу", _msk(2026, 11, 27, 17, 30)),
        ("через 3 дня", _msk(2026, 11, 24, 17, 30)),
        ("06.02 10:00", _msk(2027, 2, 6, 10)),
    ],
)
def test_workday_end_is_configurable(typed: str, expected: datetime) -> None:
    _assert_moment(parse_when(typed, NOW, MSK, time(17, 30)), expected)


@pytest.mark.parametrize(
    ("typed", "fragment"),
    [
        ("31.02", "нет такой даты"),
        ("31.02.2027", "нет такой даты"),
        ("29.02.2027", "нет такой даты"),
        ("32.1", "нет такой даты"),
        ("1.13", "нет такой даты"),
        ("14.00", "нет такой даты"),
        ("2027-02-30", "нет такой даты"),
        ("25:00", "нет такого времени"),
        ("06.02 25:00", "нет такого времени"),
        ("06.02 14:60", "нет такого времени"),
        ("завтра в 24:00", "нет такого времени"),
        ("3651", "не больше 3650 дней"),
        ("06.02 14.00", "Не понимаю срок"),
        ("завтра в 15.00", "Не понимаю срок"),
        ("завтра 9", "Не понимаю срок"),
        ("в пятницу 9", "Не понимаю срок"),
        ("-1", "Не понимаю срок"),
        ("6..2", "Не понимаю срок"),
        ("6.2.", "Не понимаю срок"),
        ("06.02.021", "Не понимаю срок"),
        ("купить хлеб", "Не понимаю срок"),
        ("когда-нибудь", "Не понимаю срок"),
        ("tomorrow", "Не понимаю срок"),
    ],
)
def test_parse_when_refuses(typed: str, fragment: str) -> None:
    with pytest.raises(DeadlineError) as caught:
        parse_when(typed, NOW, MSK, END)
    error = caught.value
    assert isinstance(error, ProcessError)
    assert error.text == typed
    assert f"«{typed}»" in error.message
    assert fragment in error.message
    assert str(error) == error.message


def test_unknown_text_lists_the_accepted_forms() -> None:
    with pytest.raises(DeadlineError) as caught:
        parse_when("когда-нибудь", NOW, MSK, END)
    assert "06.02 14:00" in caught.value.message
    assert "завтра" in caught.value.message


@pytest.mark.parametrize("typed", ["", "   ", "\n"])
def test_empty_text_is_refused(typed: str) -> None:
    with pytest.raises(DeadlineError, match="Срок не указан") as caught:
        parse_when(typed, NOW, MSK, END)
    assert caught.value.text == typed


def test_zero_days_after_the_workday_is_refused() -> None:
    with pytest.raises(DeadlineError) as caught:
        parse_when("0", _msk(2026, 11, 21, 19), MSK, END)
    assert caught.value.message == "Срок уже прошёл: «0» — это 21.11.2026 18:00"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("06.02 14:00", _msk(2027, 2, 6, 14)),
        ("завтра", _msk(2026, 11, 22, 18)),
        ("через 2 часа", _msk(2026, 11, 21, 12)),
        ("0", _msk(2026, 11, 21, 18)),
        ("10:01", _msk(2026, 11, 21, 10, 1)),
    ],
)
def test_parse_deadline_accepts_future(typed: str, expected: datetime) -> None:
    _assert_moment(parse_deadline(typed, NOW, MSK, END), expected)


@pytest.mark.parametrize(
    ("now", "typed", "shown"),
    [
        (NOW, "06.02.2021 14:00", "06.02.2021 14:00"),
        (NOW, "6.2.21", "06.02.2021 18:00"),
        (NOW, "сегодня 9:30", "21.11.2026 09:30"),
        (NOW, "вчера", "20.11.2026 18:00"),
        (NOW, "10:00", "21.11.2026 10:00"),  # this very minute is not the future
        (_msk(2026, 11, 21, 19), "сегодня", "21.11.2026 18:00"),
        (_msk(2026, 11, 21, 19), "0", "21.11.2026 18:00"),
        (datetime(2026, 2, 6, 14, 0, 30, tzinfo=MSK), "06.02 14:00", "06.02.2026 14:00"),
    ],
)
def test_parse_deadline_refuses_past(now: datetime, typed: str, shown: str) -> None:
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(typed, now, MSK, END)
    assert caught.value.message == f"Срок уже прошёл: «{typed}» — это {shown}"
    assert caught.value.text == typed
