"""Durations as designers write them in scenario files: ``3d``, ``4h``, ``2d 4h``, ``30m``, ``1д 2ч``."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+)\s*(d|h|m|д|ч|м|мин)\b", re.IGNORECASE)
_UNIT_MINUTES = {"d": 24 * 60, "д": 24 * 60, "h": 60, "ч": 60, "m": 1, "м": 1, "мин": 1}


def parse_duration_minutes(text: str | int) -> int:
    """The number of minutes ``text`` stands for; a bare number means hours. Raises ValueError."""
    if isinstance(text, int):
        return _positive(text * 60, str(text))
    cleaned = text.strip()
    if cleaned.isdigit():
        return _positive(int(cleaned) * 60, text)
    parts = list(_PART.finditer(cleaned))
    if not parts or _PART.sub("", cleaned).strip():
        raise ValueError(f"не понимаю длительность «{text}»: пишите, например, 3d, 4h, 2d 4h, 30m")
    minutes = sum(int(part.group(1)) * _UNIT_MINUTES[part.group(2).lower()] for part in parts)
    return _positive(minutes, text)


def _positive(minutes: int, text: str) -> int:
    if minutes <= 0:
        raise ValueError(f"длительность «{text}» должна быть больше нуля")
    return minutes
