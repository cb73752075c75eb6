"""Checks of what an algorithm passes to ``api``: every argument is refused here, in Russian, before it reaches the
database (an id past 2^63, a NUL character, a deadline in year 9999, data nested a thousand deep).

What arrives was decoded from the worker's JSON, so it is made of str, int, float, bool, None, lists and dicts —
but its values are whatever the algorithm chose.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, tzinfo
from typing import Any

from algorithms.errors import AlgorithmError

MAX_ID = 2**63 - 1
MIN_YEAR = 2000
MAX_YEAR = 2999
MAX_RECORD_BYTES = 64 * 1024
MAX_RECORD_DEPTH = 20
MAX_RECORD_ITEMS = 10_000
MAX_MOMENT_CHARS = 64
DEADLINE_EXAMPLE = "пример: 2026-12-31T18:00 или 31.12.2026 18:00"


def refuse(method: str, reason: str) -> AlgorithmError:
    """The error an algorithm receives as ``ApiError``: ``api.<method>: <reason>``."""
    return AlgorithmError(f"api.{method}: {reason}")


def _clean(value: str) -> str | None:
    """Why a string cannot be stored (a NUL character, a lone surrogate), or None."""
    if "\x00" in value:
        return "текст содержит символ NUL"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "текст содержит недопустимый символ"
    return None


def api_id(value: Any, method: str, what: str = "id") -> int:
    """A database id: a whole number from 1 to 2^63−1."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise refuse(method, f"{what} — целое число")
    if not 1 <= value <= MAX_ID:
        raise refuse(method, f"{what} — число от 1 до {MAX_ID}")
    return value


def api_text(value: Any, method: str, what: str, max_chars: int, required: bool = True) -> str:
    """A text argument, trimmed: a string of at most ``max_chars`` characters, without NUL; non-empty if
    ``required``."""
    if not isinstance(value, str):
        raise refuse(method, f"{what} — текст")
    text = value.strip()
    if required and not text:
        raise refuse(method, f"{what} — непустой текст")
    if len(text) > max_chars:
        raise refuse(method, f"{what} длиннее {max_chars} символов")
    problem = _clean(text)
    if problem is not None:
        raise refuse(method, f"{what}: {problem}")
    return text


def api_flag(value: Any, method: str, what: str) -> bool:
    """A yes/no argument: True or False, nothing else."""
    if not isinstance(value, bool):
        raise refuse(method, f"{what} — True или False")
    return value


def api_moment(value: Any, method: str, zone: tzinfo) -> datetime | None:
    """A deadline: None/empty, or ISO or «ДД.ММ.ГГГГ ЧЧ:ММ» text with a year from 2000 to 2999 (the service's time
    zone when the text names none)."""
    if value is None or value == "":
        return None
    text = api_text(value, method, "срок", MAX_MOMENT_CHARS)
    for parse in (datetime.fromisoformat, lambda t: datetime.strptime(t, "%d.%m.%Y %H:%M")):
        try:
            moment = parse(text)
        except ValueError:
            continue
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            raise refuse(method, f"срок «{text}» — год от {MIN_YEAR} до {MAX_YEAR}")
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
    raise refuse(method, f"срок «{text}» не понят; {DEADLINE_EXAMPLE}")


def api_record(data: Any, method: str) -> dict[str, Any]:
    """A collection record: a dict of JSON data, at most 20 levels deep, 10,000 values and 64 KB; strings
    without NUL, numbers finite."""
    if not isinstance(data, dict):
        raise refuse(method, "данные записи должны быть словарём")
    stack: list[tuple[Any, int]] = [(data, 1)]
    count = 0
    while stack:
        value, depth = stack.pop()
        count += 1
        if depth > MAX_RECORD_DEPTH:
            raise refuse(method, f"вложенность данных больше {MAX_RECORD_DEPTH} уровней")
        if count > MAX_RECORD_ITEMS:
            raise refuse(method, f"в записи больше {MAX_RECORD_ITEMS} значений")
        if isinstance(value, dict):
            stack.extend((key, depth + 1) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            problem = _clean(value)
            if problem is not None:
                raise refuse(method, problem)
        elif isinstance(value, float) and not math.isfinite(value):
            raise refuse(method, "в записи есть бесконечное или неопределённое число")
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ID:
            raise refuse(method, f"целые числа в записи — не больше {MAX_ID} по модулю")
        elif value is not None and not isinstance(value, bool | int | float):
            raise refuse(method, f"значение типа {type(value).__name__} нельзя сохранить")
    if len(json.dumps(data, ensure_ascii=False).encode()) > MAX_RECORD_BYTES:
        raise refuse(method, f"запись больше {MAX_RECORD_BYTES // 1024} КБ")
    return data
