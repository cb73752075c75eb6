"""The «Новая задача» message: fields taken from the right, recognised by what they are, precise errors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from processes.errors import ProcessError
from signal_ext.bots.new_task_text import NewTaskText, NewTaskTextError, parse_new_task_text

MSK = ZoneInfo("Europe/Moscow")
END = time(18, 0)
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=MSK)  # a Saturday
PEOPLE = {"петрова": [2], "иванов": [1, 5], "сидоров": [3], "марта": [7]}
DESCRIPTION = "Подготовить отчёт"


def _match(text: str) -> Sequence[int]:
    """Case-insensitive substring match over PEOPLE, like ``processes.persons.match_persons``."""
    needle = " ".join(text.casefold().split())
    return [i for name, ids in PEOPLE.items() if needle and needle in name for i in ids]


def _parse(text: str) -> NewTaskText:
    return parse_new_task_text(text, _match, NOW, MSK, END)


def _msk(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK)


def _task(
    description: str = DESCRIPTION,
    performer: str | None = None,
    ids: tuple[int, ...] = (),
    deadline: datetime | None = None,
    important: bool = False,
) -> NewTaskText:
    return NewTaskText(description, performer, ids, deadline, important)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Подготовить отчёт", _task()),
        ("  Подготовить отчёт  ", _task()),
        ("Подготовить отчёт, Петрова", _task(performer="Петрова", ids=(2,))),
        ("Подготовить отчёт,петрова", _task(performer="петрова", ids=(2,))),
        (
            "Подготовить отчёт, Петрова, 06.02 14:00",
            _task(performer="Петрова", ids=(2,), deadline=_msk(2027, 2, 6, 14)),
        ),
        (
            "Подготовить отчёт, Петрова, 6.2, важная",
            _task("Подготовить отчёт", "Петрова", (2,), _msk(2027, 2, 6, 18), True),
        ),
        ("Подготовить отчёт, , 6.2", _task(deadline=_msk(2027, 2, 6, 18))),
        ("Подготовить отчёт, 6.2", _task(deadline=_msk(2027, 2, 6, 18))),
        ("Подготовить отчёт, важная", _task(important=True)),
        ("Подготовить отчёт, Сидоров, важно", _task(performer="Сидоров", ids=(3,), important=True)),
        ("Подготовить отчёт, 3, срочно", _task(deadline=_msk(2026, 11, 24, 18), important=True)),
        ("Подготовить отчёт, Петрова, , важная", _task(performer="Петрова", ids=(2,), important=True)),
        ("Подготовить отчёт, , , важная", _task(important=True)),
        ("Подготовить отчёт, Петрова, ", _task(performer="Петрова", ids=(2,))),
        ("Подготовить отчёт, , ", _task()),
        (
            "  Подготовить   отчёт ,  Петрова  ,  6.2  ,  Важная  ",
            _task("Подготовить   отчёт", "Петрова", (2,), _msk(2027, 2, 6, 18), True),
        ),
    ],
)
def test_fields(typed: str, expected: NewTaskText) -> None:
    assert _parse(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("06.02 14:00", _msk(2027, 2, 6, 14)),
        ("06.02.27 14:00", _msk(2027, 2, 6, 14)),
        ("06.02.2027 14:00", _msk(2027, 2, 6, 14)),
        ("6.2 14:00", _msk(2027, 2, 6, 14)),
        ("6.2", _msk(2027, 2, 6, 18)),
        ("3", _msk(2026, 11, 24, 18)),
        ("0", _msk(2026, 11, 21, 18)),
        ("25.11 в 9:30", _msk(2026, 11, 25, 9, 30)),
        ("завтра в 15:00", _msk(2026, 11, 22, 15)),
        ("завтра", _msk(2026, 11, 22, 18)),
        ("через 3 дня", _msk(2026, 11, 24, 18)),
    ],
)
def test_deadline_forms(typed: str, expected: datetime) -> None:
    result = _parse(f"Подготовить отчёт, Петрова, {typed}")
    assert result == _task(performer="Петрова", ids=(2,), deadline=expected)
    assert result.deadline is not None and result.deadline.tzinfo is MSK
    assert _parse(f"Подготовить отчёт, {typed}") == _task(deadline=expected)


@pytest.mark.parametrize("word", ["важная", "Важная", "ВАЖНО", "важно", "да", "Да", "!", "!!", "срочно", "Срочно"])
def test_importance_words(word: str) -> None:
    assert _parse(f"Подготовить отчёт, Петрова, 6.2, {word}") == _task(
        performer="Петрова", ids=(2,), deadline=_msk(2027, 2, 6, 18), important=True
    )
    assert _parse(f"Подготовить отчёт, {word}") == _task(important=True)


def test_a_lone_field_word_is_the_description() -> None:
    assert _parse("важная") == _task("важная")
    assert _parse("6.2") == _task("6.2")
    assert _parse("Петрова") == _task("Петрова")


def test_commas_inside_the_description() -> None:
    assert _parse("Купить бумагу, ручки, скрепки, Петрова, 6.2, важная") == _task(
        "Купить бумагу, ручки, скрепки", "Петрова", (2,), _msk(2027, 2, 6, 18), True
    )
    assert _parse("Купить бумагу, ручки, скрепки") == _task("Купить бумагу, ручки, скрепки")
    assert _parse("Позвонить клиенту, уточнить сроки") == _task("Позвонить клиенту, уточнить сроки")
    assert _parse("Купить бумагу, ручки, скрепки, , 6.2") == _task(
        "Купить бумагу, ручки, скрепки", deadline=_msk(2027, 2, 6, 18)
    )
    assert _parse("Купить бумагу,, ручки, Петрова") == _task("Купить бумагу, ручки", "Петрова", (2,))


def test_a_part_that_is_not_a_deadline_stays_in_the_description() -> None:
    assert _parse("Позвонить клиенту, 8 916 000-11-22") == _task("Позвонить клиенту, 8 916 000-11-22")
    assert _parse("Позвонить клиенту, 8 916 000-11-22, Петрова") == _task(
        "Позвонить клиенту, 8 916 000-11-22", "Петрова", (2,)
    )


def test_a_person_named_like_a_month_is_a_performer() -> None:
    assert _parse("Подготовить отчёт, Марта") == _task(performer="Марта", ids=(7,))
    assert _parse("Подготовить отчёт, 1 марта") == _task(deadline=_msk(2027, 3, 1, 18))


def test_ambiguous_performer_returns_every_candidate() -> None:
    assert _parse("Подготовить отчёт, Иванов, 6.2") == _task(
        performer="Иванов", ids=(1, 5), deadline=_msk(2027, 2, 6, 18)
    )


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Подготовить отчёт, Петрва", "Петрва"),
        ("Подготовить отчёт, Петрва, 6.2", "Петрва"),
        ("Подготовить отчёт, Петрва, важная", "Петрва"),
        ("Подготовить отчёт, Петрва  Мария, , важная", "Петрва Мария"),
        ("Подготовить отчёт, Петрва М. С., 6.2", "Петрва М. С."),
        ("Купить бумагу, ручки, Петрва, 6.2", "Петрва"),
    ],
)
def test_unknown_performer(typed: str, name: str) -> None:
    with pytest.raises(NewTaskTextError) as caught:
        _parse(typed)
    assert caught.value.message.startswith(f"Не нашёл сотрудника «{name}». Проверьте фамилию")
    assert isinstance(caught.value, ProcessError)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # lower case, digits, more than three words, or neither second nor next to a recognised field
        ("Подготовить отчёт, петрва", _task("Подготовить отчёт, петрва")),
        ("Подготовить отчёт, петрва, 6.2", _task("Подготовить отчёт, петрва", deadline=_msk(2027, 2, 6, 18))),
        ("Купить бумагу, ручки, 6.2", _task("Купить бумагу, ручки", deadline=_msk(2027, 2, 6, 18))),
        ("Подготовить отчёт, Петрва 2", _task("Подготовить отчёт, Петрва 2")),
        ("Купить бумагу, ручки, Скрепки", _task("Купить бумагу, ручки, Скрепки")),
        ("Позвонить клиенту, Уточнить сроки у бухгалтерии", _task("Позвонить клиенту, Уточнить сроки у бухгалтерии")),
    ],
)
def test_unmatched_parts_that_are_not_names(typed: str, expected: NewTaskText) -> None:
    assert _parse(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Подготовить отчёт, Петрова, 06.02.21 14:00", "Срок уже прошёл: «06.02.21 14:00» — это 06.02.2021 14:00"),
        ("Подготовить отчёт, 06.02.2021 14:00", "Срок уже прошёл: «06.02.2021 14:00» — это 06.02.2021 14:00"),
        ("Подготовить отчёт, 21.11.26 09:00, важная", "Срок уже прошёл: «21.11.26 09:00» — это 21.11.2026 09:00"),
        ("Подготовить отчёт, вчера", "Срок уже прошёл: «вчера» — это 20.11.2026 18:00"),
        ("Подготовить отчёт, 31.02", "В сроке «31.02» нет такой даты"),
        ("Подготовить отчёт, 6.2 25:00", "В сроке «6.2 25:00» нет такого времени"),
    ],
)
def test_bad_deadline_is_refused(typed: str, message: str) -> None:
    with pytest.raises(NewTaskTextError) as caught:
        _parse(typed)
    assert caught.value.message.startswith(message)


def test_past_deadline_after_the_working_day() -> None:
    late = datetime(2026, 11, 21, 19, 0, tzinfo=MSK)
    with pytest.raises(NewTaskTextError, match="Срок уже прошёл: «0»"):
        parse_new_task_text("Подготовить отчёт, 0", _match, late, MSK, END)


@pytest.mark.parametrize("typed", ["", "   ", ",", ", Петрова", ", Петрова, 6.2, важная", " , , 6.2", ",,,"])
def test_empty_description(typed: str) -> None:
    with pytest.raises(NewTaskTextError) as caught:
        _parse(typed)
    assert caught.value.message.startswith("Опишите задачу: [Описание], [Исполнитель], [Срок], [Важная]")
