"""What an algorithm may return and how values cross the pipe: scalars, or a list of scalars (= buttons).

Dates, times and decimals become text the way a Russian user reads them; anything else is refused with a clear
message. Shared by the worker (checking a result) and the host (showing one).
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeAlias

Scalar: TypeAlias = str | int | float | bool | None
AlgorithmValue: TypeAlias = Scalar | list[Scalar]

MAX_RESULT_BYTES = 64 * 1024
MAX_RESULT_ITEMS = 100


class UnusableValue(ValueError):
    """A value that cannot be an algorithm's result; the message is Russian and names the type."""


def _scalar(value: Any) -> Scalar:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, Decimal):
        return format(value, "f")
    raise UnusableValue(f"значение типа {type(value).__name__} не может быть результатом")


def to_result(value: Any, max_bytes: int = MAX_RESULT_BYTES, max_items: int = MAX_RESULT_ITEMS) -> AlgorithmValue:
    """``value`` as a result: a scalar, or a list/tuple of scalars of at most ``max_items``; JSON ≤ ``max_bytes``."""
    result: AlgorithmValue
    if isinstance(value, list | tuple):
        if len(value) > max_items:
            raise UnusableValue(f"в списке-результате {len(value)} элементов, допустимо не больше {max_items}")
        result = [_scalar(item) for item in value]
    else:
        result = _scalar(value)
    size = len(json.dumps(result, ensure_ascii=False).encode())
    if size > max_bytes:
        raise UnusableValue(f"результат занимает {size} байт, допустимо не больше {max_bytes}")
    return result


def to_plain(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-ready data for an API call's arguments (dates → ISO text, tuples → lists)."""
    if depth > 20:
        raise UnusableValue("слишком глубокая вложенность данных")
    if isinstance(value, dict):
        return {str(key): to_plain(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_plain(item, depth + 1) for item in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise UnusableValue(f"значение типа {type(value).__name__} нельзя передать в api")


def format_scalar(value: Scalar) -> str:
    """A result scalar as chat text: whole floats without «.0», ``Истина``/``Ложь`` for booleans, None as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Истина" if value else "Ложь"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return f"{value:.15g}"
    return str(value)


def result_lines(value: AlgorithmValue) -> list[str]:
    """A result as lines of text: one per list item (button), or the scalar's one line."""
    if isinstance(value, list):
        return [format_scalar(item) for item in value]
    return [format_scalar(value)]
