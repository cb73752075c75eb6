"""Durations as designers write them in scenario files: ``3d``, ``4h``, ``2d 4h``, ``30m``, ``1д 2ч``."""

from __future__ import annotations

import re

MAX_DAYS = 3650
"""The longest duration and the farthest deadline the service accepts: ten years (a date past the calendar's end
would otherwise fail deep inside date arithmetic)."""
MAX_MINUTES = MAX_DAYS * 24 * 60

_PART = re.compile(r"([0-9]+)\s*(d|h|m|д|ч|м|мин)\b", re.IGNORECASE)
_NUMBER = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also accepts «²», which int() refuses
_UNIT_MINUTES = {"d": 24 * 60, "д": 24 * 60, "h": 60, "ч": 60, "m": 1, "м": 1, "мин": 1}


def parse_duration_minutes(text: str | int) -> int:
    """The number of minutes ``text`` stands for; a bare number means hours. Raises ValueError."""
    if isinstance(text, int):
        return _bounded(text * 60, str(text))
    cleaned = text.strip()
    if _NUMBER.fullmatch(cleaned):
        return _bounded(_number(cleaned, text) * 60, text)
    parts = list(_PART.finditer(cleaned))
    if not parts or _PART.sub("", cleaned).strip():
        raise ValueError(f"не понимаю длительность «{text}»: пишите, например, 3d, 4h, 2d 4h, 30m")
    minutes = sum(_number(part.group(1), text) * _UNIT_MINUTES[part.group(2).lower()] for part in parts)
    return _bounded(minutes, text)


def _number(digits: str, text: str) -> int:
    if len(digits) > len(str(MAX_MINUTES)):  # longer than any duration that fits: do not even convert it
        raise _too_long(text)
    return int(digits)


def _bounded(minutes: int, text: str) -> int:
    if minutes <= 0:
        raise ValueError(f"длительность «{text}» должна быть больше нуля")
    if minutes > MAX_MINUTES:
        raise _too_long(text)
    return minutes


def _too_long(text: str) -> ValueError:
    return ValueError(f"длительность «{text[:40]}» слишком велика: не больше {MAX_DAYS} дней")
