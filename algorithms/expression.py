"""Code mode: a chat message evaluated as a safe expression (simpleeval over a checked AST, never ``eval``).

``2+2*2`` → ``6``; ``ТекущаяДата()`` → «ДД.ММ.ГГГГ ЧЧ:ММ:СС». A message that is not an expression (a word, a
phrase, an unknown name or function, a lone number) gives None so the bot goes on to keywords; an expression that
may not or cannot be evaluated raises :class:`ExpressionRefused`.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from simpleeval import (  # type: ignore[import-untyped]  # no stubs; pyproject is not ours to change
    DEFAULT_OPERATORS,
    InvalidExpression,
    NumberTooHigh,
    SimpleEval,
)

from algorithms.errors import ExpressionRefused

MAX_TEXT = 500
MAX_DIGITS = 1000
MAX_STRING = 10_000


@dataclass(frozen=True)
class ExpressionValue:
    """An evaluated expression: the value and the text a chat shows for it."""

    value: object
    text: str


def format_value(value: object) -> str:
    """A value as chat text: 6 not 6.0, ``Истина``/``Ложь``, dates as ДД.ММ.ГГГГ[ ЧЧ:ММ:СС]."""
    if value is None:
        return "Неопределено"
    if isinstance(value, bool):
        return "Истина" if value else "Ложь"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExpressionRefused("Результат не является конечным числом")
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else f"{value:.15g}"
    if isinstance(value, int) and value.bit_length() > MAX_DIGITS * 3.33:
        raise ExpressionRefused(f"Слишком большое число: результат длиннее {MAX_DIGITS} цифр")
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)


def _too_long(value: Any) -> bool:
    return isinstance(value, str | list | tuple) and len(value) > MAX_STRING


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(base, int | float) and isinstance(exponent, int | float):
        size = abs(exponent) * math.log10(abs(base)) if abs(base) > 1 else 0.0
        if abs(exponent) > 100_000 or size > MAX_DIGITS:
            raise NumberTooHigh("степень")
    return base**exponent


def _multiply(left: Any, right: Any) -> Any:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * times > MAX_STRING:
            raise ExpressionRefused(f"Слишком длинная строка: больше {MAX_STRING} символов")
    return left * right


def _add(left: Any, right: Any) -> Any:
    if isinstance(left, datetime) and isinstance(right, int | float) and not isinstance(right, bool):
        return left + timedelta(seconds=right)  # as in 1C: date + seconds
    result = left + right
    if _too_long(result):
        raise ExpressionRefused(f"Слишком длинная строка: больше {MAX_STRING} символов")
    return result


def _round(value: float, digits: int = 0) -> float | int:
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_UP)
    return int(rounded) if digits <= 0 else float(rounded)


def _number(text: Any) -> int | float:
    cleaned = str(text).replace(" ", "").replace("\xa0", "").replace(",", ".")
    try:
        return int(cleaned)
    except ValueError:
        try:
            return float(cleaned)
        except ValueError:
            raise ExpressionRefused(f"«{text}» не преобразуется в число") from None


def _functions(now: datetime) -> dict[str, Callable[..., Any]]:
    return {
        "ТекущаяДата": lambda: now.replace(microsecond=0, tzinfo=None),
        "Окр": _round,
        "Цел": lambda value: int(value),
        "Макс": max,
        "Мин": min,
        "Строка": format_value,
        "Число": _number,
        "СтрДлина": lambda text: len(str(text)),
        "Лев": lambda text, count: str(text)[: max(0, int(count))],
        "Прав": lambda text, count: str(text)[len(str(text)) - max(0, int(count)) :],
        "ВРег": lambda text: str(text).upper(),
        "НРег": lambda text: str(text).lower(),
    }


NAMES: dict[str, Any] = {"Истина": True, "Ложь": False, "Неопределено": None}
_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    *(ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.Constant, ast.Name),
    *(ast.operator, ast.unaryop, ast.boolop, ast.cmpop, ast.expr_context),
)


def _shape(tree: ast.Expression, functions: dict[str, Callable[..., Any]]) -> bool:
    """Refuses service names; says whether the tree is an expression this mode handles at all."""
    for node in ast.walk(tree):
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
        if name.startswith("_"):
            raise ExpressionRefused(f"Обращение к служебному имени «{name}» запрещено")
    if isinstance(tree.body, ast.Constant | ast.Name):
        return False  # a lone number or word is a message, not a calculation
    for node in ast.walk(tree.body):
        if not isinstance(node, _ALLOWED_NODES):
            return False
        if isinstance(node, ast.Name) and node.id not in NAMES and node.id not in functions:
            return False
        if isinstance(node, ast.Call) and (
            not isinstance(node.func, ast.Name) or node.func.id not in functions or node.keywords
        ):
            return False
    return True


def looks_like_expression(text: str) -> bool:
    """Whether ``text`` is shaped like a code-mode expression: parsed and its shape checked, nothing evaluated.

    Cheap enough for the service's own process; False lets the bot go on to keywords. A service name counts as an
    expression: its evaluation refuses it with the reason.
    """
    source = text.strip()
    if not source or len(source) > MAX_TEXT:
        return False
    try:
        tree = ast.parse(source, mode="eval")
        return _shape(tree, _functions(datetime.now()))
    except ExpressionRefused:
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def evaluate_expression(text: str, now: datetime) -> ExpressionValue | None:
    """Evaluates ``text`` as a code-mode expression at the moment ``now`` (the user's local time).

    None when it is not an expression; :class:`ExpressionRefused` with a Russian reason when it is one but is
    refused (a limit, a service name) or cannot be evaluated (division by zero, wrong types).
    """
    source = text.strip()
    if not source or len(source) > MAX_TEXT:
        return None
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError):
        return None
    functions = _functions(now)
    if not _shape(tree, functions):
        return None
    operators = dict(DEFAULT_OPERATORS)
    operators.update({ast.Pow: _power, ast.Mult: _multiply, ast.Add: _add, ast.Div: operator.truediv})
    evaluator = SimpleEval(operators=operators, functions=functions, names=dict(NAMES))
    try:
        value = evaluator.eval(source, previously_parsed=tree.body)
        return ExpressionValue(value, format_value(value))
    except ExpressionRefused:
        raise
    except NumberTooHigh:
        raise ExpressionRefused(f"Слишком большое число: результат длиннее {MAX_DIGITS} цифр") from None
    except ZeroDivisionError:
        raise ExpressionRefused("Деление на ноль") from None
    except OverflowError:
        raise ExpressionRefused("Слишком большое число") from None
    except (InvalidExpression, TypeError, ValueError, ArithmeticError) as error:
        raise ExpressionRefused(f"Выражение не вычисляется: {error}") from None
