"""Code mode: a chat message evaluated as a safe expression (simpleeval over a checked AST, never ``eval``).

``2+2*2`` → ``6``; ``ТекущаяДата()`` → «ДД.ММ.ГГГГ ЧЧ:ММ:СС». Two entry points:

* :func:`looks_like_expression` — parsing and shape only, no evaluation: cheap enough for the service process to
  decide whether a message goes to code mode at all;
* :func:`evaluate_expression` — the evaluation (run where time and memory are limited): None when the message is
  not an expression (a word, a phrase, an unknown name or function, a lone number), the value otherwise, or
  :class:`ExpressionRefused` with a Russian reason.

Every operator is bounded before it computes (``%`` formatting's width, ``*``, ``**``, shifts, ``+`` on strings),
and a value is shown only when it is a number, a string, a boolean, a date or Неопределено — never an object's
repr. Nothing here needs the database.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from simpleeval import (  # type: ignore[import-untyped]  # no stubs; pyproject is not ours to change
    InvalidExpression,
    NumberTooHigh,
    SimpleEval,
)

from algorithms.errors import ExpressionRefused
from algorithms.expression_operators import MAX_BITS, OPERATORS, TOO_BIG

MAX_TEXT = 500
MAX_DEPTH = 100
MAX_ROUND_DIGITS = 20

FUNCTION_NAMES = frozenset(
    {"ТекущаяДата", "Окр", "Цел", "Макс", "Мин", "Строка", "Число", "СтрДлина", "Лев", "Прав", "ВРег", "НРег"}
)
NAMES: dict[str, Any] = {"Истина": True, "Ложь": False, "Неопределено": None}
_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    *(ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.Constant, ast.Name),
    *(ast.operator, ast.unaryop, ast.boolop, ast.cmpop, ast.expr_context),
)


@dataclass(frozen=True)
class ExpressionValue:
    """An evaluated expression: the value and the text a chat shows for it."""

    value: object
    text: str


def format_value(value: object) -> str:
    """A value as chat text: 6 not 6.0, ``Истина``/``Ложь``, dates as ДД.ММ.ГГГГ[ ЧЧ:ММ:СС]; anything that is not
    a number, string, boolean, date or Неопределено is refused (no object's repr reaches a chat)."""
    if value is None:
        return "Неопределено"
    if isinstance(value, bool):
        return "Истина" if value else "Ложь"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExpressionRefused("Результат не является конечным числом")
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else f"{value:.15g}"
    if isinstance(value, int):
        if value.bit_length() > MAX_BITS:
            raise ExpressionRefused(TOO_BIG)
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, str):
        return value
    raise ExpressionRefused("Значение не является числом, строкой, датой или логическим значением")


def _round(value: float, digits: int = 0) -> float | int:
    places = int(digits)
    if abs(places) > MAX_ROUND_DIGITS:
        raise ExpressionRefused(f"Окр: число знаков — от {-MAX_ROUND_DIGITS} до {MAX_ROUND_DIGITS}")
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return int(rounded) if places <= 0 else float(rounded)


def _number(text: Any) -> int | float:
    cleaned = format_value(text).replace(" ", "").replace("\xa0", "").replace(",", ".")
    try:
        return int(cleaned)
    except ValueError:
        try:
            return float(cleaned)
        except ValueError:
            raise ExpressionRefused(f"«{cleaned[:50]}» не преобразуется в число") from None


def _functions(now: datetime) -> dict[str, Callable[..., Any]]:
    functions: dict[str, Callable[..., Any]] = {
        "ТекущаяДата": lambda: now.replace(microsecond=0, tzinfo=None),
        "Окр": _round,
        "Цел": lambda value: int(value),
        "Макс": max,
        "Мин": min,
        "Строка": format_value,
        "Число": _number,
        "СтрДлина": lambda text: len(format_value(text)),
        "Лев": lambda text, count: format_value(text)[: max(0, int(count))],
        "Прав": lambda text, count: format_value(text)[len(format_value(text)) - max(0, int(count)) :],
        "ВРег": lambda text: format_value(text).upper(),
        "НРег": lambda text: format_value(text).lower(),
    }
    assert functions.keys() == FUNCTION_NAMES
    return functions


def _parse(text: str) -> ast.Expression | None:
    """The message's expression tree when it has the shape of a code-mode expression, else None."""
    source = text.strip()
    if not source or len(source) > MAX_TEXT:
        return None
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    nodes = list(ast.walk(tree.body))
    if any(_service_name(node) for node in nodes):
        return tree  # an expression reaching for internals: evaluation refuses it with the reason
    if isinstance(tree.body, ast.Constant | ast.Name):
        return None  # a lone number or word is a message, not a calculation
    for node in nodes:
        if not isinstance(node, _ALLOWED_NODES):
            return None
        if isinstance(node, ast.Name) and node.id not in NAMES and node.id not in FUNCTION_NAMES:
            return None
        if isinstance(node, ast.Call) and (
            not isinstance(node.func, ast.Name) or node.func.id not in FUNCTION_NAMES or node.keywords
        ):
            return None
    return tree


def _service_name(node: ast.AST) -> str:
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name if name.startswith("_") else ""


def looks_like_expression(text: str) -> bool:
    """Whether ``text`` is a code-mode expression (to be evaluated or refused with a reason), by parsing and
    shape alone — nothing is evaluated. False exactly when :func:`evaluate_expression` would give None."""
    return _parse(text) is not None


def _check(tree: ast.Expression) -> None:
    """Refuses service names, functions used as values and trees too deep to evaluate."""
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    stack: list[tuple[ast.AST, int]] = [(tree.body, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionRefused("Слишком сложное выражение")
        if name := _service_name(node):
            raise ExpressionRefused(f"Обращение к служебному имени «{name}» запрещено")
        if isinstance(node, ast.Name) and node.id in FUNCTION_NAMES and id(node) not in called:
            raise ExpressionRefused(f"Функцию «{node.id}» нужно вызывать: {node.id}(…)")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def evaluate_expression(text: str, now: datetime) -> ExpressionValue | None:
    """Evaluates ``text`` as a code-mode expression at the moment ``now`` (the user's local time).

    None when it is not an expression; :class:`ExpressionRefused` with a Russian reason when it is one but is
    refused (a limit, a service name) or cannot be evaluated (division by zero, wrong types).
    """
    tree = _parse(text)
    if tree is None:
        return None
    _check(tree)
    evaluator = SimpleEval(operators=dict(OPERATORS), functions=_functions(now), names=dict(NAMES))
    try:
        value = evaluator.eval(text.strip(), previously_parsed=tree.body)
        return ExpressionValue(value, format_value(value))
    except ExpressionRefused:
        raise
    except NumberTooHigh:
        raise ExpressionRefused(TOO_BIG) from None
    except ZeroDivisionError:
        raise ExpressionRefused("Деление на ноль") from None
    except OverflowError:
        raise ExpressionRefused("Слишком большое число") from None
    except (RecursionError, MemoryError):
        raise ExpressionRefused("Слишком сложное выражение") from None
    except TypeError:
        raise ExpressionRefused("Выражение не вычисляется: несовместимые типы значений") from None
    except ValueError:
        raise ExpressionRefused("Выражение не вычисляется: недопустимое значение") from None
    except (InvalidExpression, ArithmeticError):
        raise ExpressionRefused("Выражение не вычисляется") from None
