"""Record ids as people and button payloads give them: decimal numbers that an integer key can hold.

Every table's key is a 32-bit ``integer`` (PostgreSQL refuses a larger number outright, SQLite one past 2^63),
so a number beyond :data:`MAX_ID` names no record: a lookup says «not found» instead of asking the database.
"""

from __future__ import annotations

import re

MAX_ID = 2**31 - 1
"""The largest id an integer primary key holds."""

_DECIMAL = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also accepts «²» and «١», which int() refuses or reads


def record_id(ref: str | int) -> int | None:
    """The id ``ref`` names — a whole number from 1 to :data:`MAX_ID`, surrounding spaces ignored — or None."""
    if isinstance(ref, int):
        number = ref
    else:
        text = ref.strip()
        if not _DECIMAL.fullmatch(text) or len(text) > len(str(MAX_ID)):
            return None
        number = int(text)
    return number if 1 <= number <= MAX_ID else None


def is_decimal(text: str) -> bool:
    """Whether ``text`` is a non-empty run of ASCII digits (what ``int()`` reads as a plain decimal number)."""
    return _DECIMAL.fullmatch(text) is not None
