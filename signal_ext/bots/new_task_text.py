"""The «Новая задача» message of the system bot: ``[Описание], [Исполнитель], [Срок], [Важная]``.

Only the description is required; the other fields may be left out from the right, and a field is recognised
by what it is, not by its position (``Отчёт, 6.2`` has a deadline and no performer). The text is split on commas
and fields are taken FROM THE RIGHT: an importance word, then a deadline, then a performer; the rest, joined
back with ", ", is the description, so commas inside the description are kept. The first part is never a field.

Choices, made to surprise the user least:

* Trailing empty parts are dropped (``Отчёт, Петрова,``); an empty part in the deadline or performer slot is
  that field left empty (``Отчёт, , 6.2`` = oneself; ``Отчёт, Петрова, , важная`` = no deadline); empty parts
  inside the description are dropped (``Купить бумагу,, ручки`` → «Купить бумагу, ручки»).
* A part shaped like a numeric deadline (``6.2``, ``06.02.21 14:00``, ``14:00``, ``3``) IS the deadline: if it is
  impossible or already over, its error is raised, never folded into the description. A phrase («завтра
  в 15:00») is a deadline when it parses and does not name a known person (a person called «Марта» is not
  March); a phrase in the past is refused too. Anything else (``8 916 000-11-22``) is description.
* A part that names nobody is an unknown performer (an error, not a silent «oneself») only when it is the part
  just left of a recognised field or the second of two parts, and looks like a name: one to three words of
  letters, each starting with a capital (``Петрва``, ``Петрова М. С.``). Lower-case clauses such as
  ``Позвонить клиенту, уточнить сроки`` stay in the description; the matcher is case-insensitive, so a known
  name typed in lower case is still found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from processes.deadlines import DeadlineError, parse_deadline, parse_when
from processes.errors import ProcessError

FORMAT = "[Описание], [Исполнитель], [Срок], [Важная]"
EXAMPLE = "Подготовить отчёт, Петрова, 06.02 14:00, важная"
IMPORTANT_WORDS = frozenset({"важная", "важно", "важный", "важное", "да", "срочно", "срочная", "срочный"})
_EXCLAMATIONS = re.compile(r"!+")
_CLOCK = r"(?:\s+(?:в\s+)?\d{1,2}:\d{2})?"
_NUMERIC_DEADLINE = re.compile(
    rf"\d+|\d{{1,2}}:\d{{2}}|\d{{1,2}}\.\d{{1,2}}(?:\.\d{{4}}|\.\d{{2}})?{_CLOCK}|\d{{4}}-\d{{1,2}}-\d{{1,2}}{_CLOCK}"
)
_NAME = re.compile(r"[^\W\d_]+(?:[-.][^\W\d_]+)*\.?(?:\s+[^\W\d_]+(?:[-.][^\W\d_]+)*\.?){0,2}")


@dataclass(frozen=True)
class NewTaskText:
    """What the employee asked for; the bot resolves ``performer_ids`` (several = buttons) and creates the task."""

    description: str
    performer_text: str | None  # the text that named the performer (None = oneself)
    performer_ids: tuple[int, ...]  # candidates found by the matcher (empty when performer_text is None)
    deadline: datetime | None  # aware, in the given zone
    important: bool


class NewTaskTextError(ProcessError):
    """The message cannot become a task; ``message`` is the Russian text to answer with."""


def parse_new_task_text(
    text: str, match_persons: Callable[[str], Sequence[int]], now: datetime, zone: ZoneInfo, workday_end: time
) -> NewTaskText:
    """Parse one «Новая задача» message; ``match_persons(part)`` gives the ids of persons that ``part`` names.

    Raises NewTaskTextError for an empty description, an unknown performer and a deadline that is impossible
    or already over (see the module docstring for which parts count as such).
    """
    parts = [part.strip() for part in text.split(",")]
    while parts and not parts[-1]:
        parts.pop()
    important = len(parts) >= 2 and _is_importance(parts[-1])
    if important:
        parts.pop()
    deadline: datetime | None = None
    if len(parts) >= 2 and (not parts[-1] or (deadline := _deadline(parts[-1], match_persons, now, zone, workday_end))):
        parts.pop()
        field_on_right = True
    else:
        field_on_right = important
    performer_text: str | None = None
    performer_ids: tuple[int, ...] = ()
    if len(parts) >= 2:
        candidate = " ".join(parts[-1].split())
        if not candidate:
            parts.pop()
        elif ids := tuple(match_persons(candidate)):
            performer_text, performer_ids = candidate, ids
            parts.pop()
        elif (field_on_right or len(parts) == 2) and _looks_like_name(candidate):
            raise NewTaskTextError(
                f"Не нашёл сотрудника «{candidate}». Проверьте фамилию или оставьте исполнителя пустым "
                f"(«Описание, , срок» — задача себе); если это часть описания, отделите её не запятой, "
                f"а, например, точкой с запятой"
            )
    description = ", ".join(part for part in parts if part)
    if not description:
        raise NewTaskTextError(f"Опишите задачу: {FORMAT}, например «{EXAMPLE}»; обязательно только описание")
    return NewTaskText(description, performer_text, performer_ids, deadline, important)


def _is_importance(part: str) -> bool:
    word = part.casefold()
    return word in IMPORTANT_WORDS or _EXCLAMATIONS.fullmatch(word) is not None


def _deadline(
    part: str, match_persons: Callable[[str], Sequence[int]], now: datetime, zone: ZoneInfo, workday_end: time
) -> datetime | None:
    """The deadline that ``part`` names, None when it names none; raises for an impossible or past one."""
    cleaned = " ".join(part.split()).casefold()
    try:
        if _NUMERIC_DEADLINE.fullmatch(cleaned):
            return parse_deadline(part, now, zone, workday_end)
        if match_persons(part):
            return None
        try:
            parse_when(part, now, zone, workday_end)
        except DeadlineError:
            return None
        return parse_deadline(part, now, zone, workday_end)
    except DeadlineError as error:
        raise NewTaskTextError(error.message) from error


def _looks_like_name(part: str) -> bool:
    """One to three words of letters (``Петрова``, ``Петрова М. С.``, ``Римский-Корсаков``), each capitalised."""
    return _NAME.fullmatch(part) is not None and all(word[0].isupper() for word in part.split())
