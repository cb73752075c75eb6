"""The values no table can hold, refused the same way on SQLite and PostgreSQL before a statement is sent.

PostgreSQL refuses a NUL character in text, a text longer than its ``VARCHAR`` column (SQLite stores both) and
a number past its 32-bit ``integer`` (SQLite only past 2^63); all used to surface as tracebacks from deep inside
the driver. Every text and number that reaches the database passes here — whether it came from a command, a
chat, a file or an algorithm — so this is the one place that refuses them, with a message a user can act on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, event
from sqlalchemy.engine import Engine

from processes.errors import ProcessError

INTEGER_MIN, INTEGER_MAX = -(2**31), 2**31 - 1
"""The range of every integer column (PostgreSQL's ``integer``)."""
NUL_MESSAGE = "Текст содержит нулевой символ (\\0 — NUL): такой текст не сохраняется, уберите этот символ"
SURROGATE_MESSAGE = (
    "Текст содержит половину суррогатной пары (\\uD800–\\uDFFF): это не текст в UTF-8, он не сохраняется"
)
_DRIVER_JSON = ("Json", "Jsonb")  # psycopg's wrappers of a JSON column's value
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")  # json.dumps writes NUL as \u0000; «\\u0000» is a backslash


class UnstorableValue(ProcessError):
    """A value no column can hold; ``value`` is what was refused."""

    def __init__(self, message: str, value: object) -> None:
        super().__init__(message)
        self.value = value


def refuse_unstorable(engine: Engine) -> None:
    """Makes ``engine`` check every statement's parameters before sending them (see :func:`check_parameters`)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _check(_conn: Any, _cursor: Any, _statement: str, parameters: Any, context: Any, _many: bool) -> None:
        writes = getattr(context, "isinsert", False) or getattr(context, "isupdate", False)
        check_parameters(parameters, getattr(context, "compiled", None), writes)


def serialise_json(value: Any) -> str:
    """``value`` as the JSON text a JSON column stores; raises :class:`UnstorableValue` for a text with a NUL
    inside (as everywhere else) and for NaN and infinities (no JSON: PostgreSQL would refuse them)."""
    try:
        text = json.dumps(value, allow_nan=False)
    except ValueError:
        raise UnstorableValue("Число NaN или бесконечность не сохраняется: нужно конечное число", value) from None
    if _ESCAPED_NUL.search(text):
        raise UnstorableValue(NUL_MESSAGE, value)
    if "\\ud" in text and not is_unicode(json.dumps(value, ensure_ascii=False)):  # a lone half of a pair
        raise UnstorableValue(SURROGATE_MESSAGE, value)
    return text


def serialise_json_marking(value: Any) -> str:
    """As :func:`serialise_json`, for a driver that gets JSON as text (SQLite): SQLAlchemy serialises before the
    statement check runs and would wrap an error raised here in its StatementError, so a refused value becomes a
    marker that the check raises for."""
    try:
        return serialise_json(value)
    except UnstorableValue as error:
        return _RefusedJson(error)


class _RefusedJson(str):
    """Stands for the JSON text of a refused value until :func:`check_parameters` meets it and raises ``error``."""

    error: UnstorableValue

    def __new__(cls, error: UnstorableValue) -> _RefusedJson:
        refused = super().__new__(cls, "null")
        refused.error = error
        return refused


def check_parameters(parameters: Any, compiled: Any = None, writes: bool = False) -> None:
    """Raises :class:`UnstorableValue` for a text with a NUL character or a lone surrogate, an integer past the
    column's type (32-bit ``integer``; 64-bit for a ``BIGINT``) and, when the statement ``writes`` (an insert or
    an update), a text longer than its ``VARCHAR`` column.

    ``parameters`` is what the driver gets: one row (a mapping or a sequence) or, for executemany, rows of them;
    ``compiled``, the statement they belong to, names the columns."""
    table = getattr(getattr(compiled, "statement", None), "table", None) if writes else None
    for name, value in _named_values(parameters, getattr(compiled, "positiontup", None) or ()):
        kind = type(value)
        if kind is str:  # the common cases first: this runs for every parameter of every statement
            if table is not None or "\x00" in value or not value.isascii():
                _check_text(value, name, table)
        elif kind is int:
            if not INTEGER_MIN <= value <= INTEGER_MAX:
                _check_big_integer(value, name, compiled)
        elif kind not in _UNCHECKED:
            _check_other(value, name, table, compiled)


_UNCHECKED = frozenset({bool, float, type(None), bytes, datetime, date, time, Decimal})
"""Parameter types no column refuses for their value (floats in JSON are checked where JSON is serialised)."""


def _check_other(value: Any, name: str | None, table: Any, compiled: Any) -> None:
    if isinstance(value, _RefusedJson):
        raise value.error
    if type(value).__name__ in _DRIVER_JSON:  # psycopg serialises when it sends: check the value now
        serialise_json(value.obj)
    if isinstance(value, str):
        _check_text(value, name, table)
    elif isinstance(value, int) and not INTEGER_MIN <= value <= INTEGER_MAX and not isinstance(value, bool):
        _check_big_integer(value, name, compiled)


def _check_text(value: str, name: str | None, table: Any) -> None:
    if "\x00" in value:
        raise UnstorableValue(NUL_MESSAGE, value)
    if not value.isascii() and not is_unicode(value):
        raise UnstorableValue(SURROGATE_MESSAGE, value)
    column = table.c.get(name) if table is not None and name is not None else None
    length = getattr(column.type, "length", None) if column is not None else None
    if length is not None and len(value) > length:
        raise UnstorableValue(
            f"Слишком длинное значение {name}: {len(value)} символов, можно не больше {length}", value
        )


def _check_big_integer(value: int, name: str | None, compiled: Any) -> None:
    """``value`` is past a 32-bit ``integer``: allowed only for a ``BIGINT`` within 64 bits."""
    bind = getattr(compiled, "binds", {}).get(name) if name is not None else None
    if isinstance(getattr(bind, "type", None), BigInteger) and -(2**63) <= value < 2**63:
        return
    shown = str(value) if value.bit_length() < 200 else "из многих десятков цифр"
    raise UnstorableValue(
        f"Число {shown} вне допустимого диапазона: хранятся целые числа от {INTEGER_MIN} до {INTEGER_MAX}", value
    )


def _named_values(parameters: Any, names: Sequence[str]) -> Iterator[tuple[str | None, Any]]:
    """Each parameter with its bind name when the driver's row tells it (a mapping, or a sequence as long as
    the statement's positions); a batch the driver flattened gives its values unnamed."""
    if isinstance(parameters, Mapping):
        yield from parameters.items()
        return
    rows = parameters or ()
    if rows and not isinstance(rows[0], Mapping | list | tuple):
        rows = [rows]  # one row given as a flat sequence
    for row in rows:
        if isinstance(row, Mapping):
            yield from row.items()
        elif len(row) == len(names):
            yield from zip(names, row, strict=True)
        else:
            yield from ((None, value) for value in row)


def is_unicode(text: str) -> bool:
    """Whether ``text`` can be encoded (a lone surrogate, from bytes that were not UTF-8, cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
