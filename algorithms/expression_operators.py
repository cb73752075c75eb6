"""Code mode's operators, each bounded before it computes: strings and sequences stay within 10,000 characters
(``*``, ``+`` and ``%`` formatting, whose width and precision are checked before formatting), numbers within
1,000 digits (``**``, ``*`` of integers, shifts). Dates follow 1C: date ± seconds, date − date = seconds.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from simpleeval import DEFAULT_OPERATORS, NumberTooHigh  # type: ignore[import-untyped]

from algorithms.errors import ExpressionRefused

MAX_DIGITS = 1000
MAX_BITS = int(MAX_DIGITS * math.log2(10))
MAX_STRING = 10_000
TOO_LONG = f"Слишком длинная строка: больше {MAX_STRING} символов"
TOO_BIG = f"Слишком большое число: результат длиннее {MAX_DIGITS} цифр"
# A %-conversion's flags, width and precision: «%-010.3f», «%(name)s», «%*d».
_CONVERSION = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?")


def _sequence_refusal(value: Any) -> None:
    if isinstance(value, str | list | tuple) and len(value) > MAX_STRING:
        raise ExpressionRefused(TOO_LONG)


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(base, int | float) and isinstance(exponent, int | float):
        size = abs(exponent) * math.log10(abs(base)) if abs(base) > 1 else 0.0
        if abs(exponent) > 100_000 or size > MAX_DIGITS:
            raise NumberTooHigh("степень")
    return base**exponent


def _multiply(left: Any, right: Any) -> Any:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * times > MAX_STRING:
            raise ExpressionRefused(TOO_LONG)
    if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_BITS + 1:
        raise NumberTooHigh("произведение")
    return left * right


def _add(left: Any, right: Any) -> Any:
    if isinstance(left, datetime) and isinstance(right, int | float) and not isinstance(right, bool):
        return left + timedelta(seconds=right)  # as in 1C: date + seconds
    if isinstance(left, str) and isinstance(right, str) and len(left) + len(right) > MAX_STRING:
        raise ExpressionRefused(TOO_LONG)
    return left + right


def _subtract(left: Any, right: Any) -> Any:
    if isinstance(left, datetime) and isinstance(right, datetime):
        seconds = (left - right).total_seconds()  # as in 1C: the difference of two dates in seconds
        return int(seconds) if seconds.is_integer() else seconds
    if isinstance(left, datetime) and isinstance(right, int | float) and not isinstance(right, bool):
        return left - timedelta(seconds=right)
    return left - right


def _modulo(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        for width, precision in _CONVERSION.findall(left):
            if "*" in (width, precision):
                raise ExpressionRefused("Ширина «*» в форматировании через % не поддерживается")
            if int(width or 0) > MAX_STRING or int(precision or 0) > MAX_STRING:
                raise ExpressionRefused(TOO_LONG)
        result = left % right
        _sequence_refusal(result)
        return result
    return left % right


def _shift(shift: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def bounded(left: Any, right: Any) -> Any:
        if isinstance(left, int) and isinstance(right, int) and (abs(right) > MAX_BITS or left.bit_length() > MAX_BITS):
            raise NumberTooHigh("сдвиг")
        return shift(left, right)

    return bounded


OPERATORS: dict[type[ast.AST], Callable[[Any, Any], Any]] = {
    **DEFAULT_OPERATORS,
    ast.Pow: _power,
    ast.Mult: _multiply,
    ast.Add: _add,
    ast.Sub: _subtract,
    ast.Div: operator.truediv,
    ast.Mod: _modulo,
    ast.LShift: _shift(operator.lshift),
    ast.RShift: _shift(operator.rshift),
}
