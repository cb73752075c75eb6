"""JSON that people type (``--data``), read within bounds and refused in Russian, with its line and column.

Python's parser recurses once per bracket, so 5,000 nested brackets end in a RecursionError, and it reads
``NaN``, ``1e999`` (infinity), 5,000-digit numbers and lone surrogates that nothing after it can store or send.
Here the text's length and nesting are bounded (the nesting as for YAML files) and such values are refused.
"""

from __future__ import annotations

import json
from typing import Any

from processes.yaml_text import MAX_NESTING

MAX_JSON_CHARS = 1_000_000
"""The longest JSON text read."""

_MESSAGES = {
    "Expecting value": "ожидается значение",
    "Expecting property name enclosed in double quotes": "имя поля пишется в двойных кавычках",
    "Expecting ',' delimiter": "ожидается запятая",
    "Expecting ':' delimiter": "ожидается двоеточие",
    "Unterminated string starting at": "строка не закрыта кавычкой",
    "Invalid control character at": "управляющий символ внутри строки",
    "Extra data": "лишний текст после значения",
    "Invalid \\escape": "неверная последовательность с «\\»",
    "Invalid \\uXXXX escape": "неверная последовательность \\uXXXX",
    "Illegal trailing comma before end of object": "лишняя запятая",
    "Illegal trailing comma before end of array": "лишняя запятая",
}


class _Refused(ValueError):
    """A value the parser read but the service does not accept."""


def load_json(text: str) -> Any:
    """The value of JSON ``text``; raises ValueError saying in Russian what is wrong and where."""
    if len(text) > MAX_JSON_CHARS:
        raise ValueError(f"JSON длиннее {MAX_JSON_CHARS} символов")
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite, parse_int=_int)
    except json.JSONDecodeError as error:
        problem = _MESSAGES.get(error.msg, "синтаксическая ошибка")
        raise ValueError(f"неверный JSON: {problem} (строка {error.lineno}, столбец {error.colno})") from None
    except RecursionError:
        raise ValueError(_too_deep()) from None
    except _Refused as error:
        raise ValueError(str(error)) from None
    _check(value)
    return value


def _check(value: Any) -> None:
    """Refuses nesting deeper than :data:`MAX_NESTING` and texts that are no Unicode (a lone ``\\ud800``, which
    nothing can encode); walks without recursing."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("в строке JSON половина суррогатной пары (\\uD800–\\uDFFF без пары)") from None
        elif isinstance(item, dict | list):
            if depth >= MAX_NESTING:
                raise ValueError(_too_deep())
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)


def _too_deep() -> str:
    return f"в JSON вложенность глубже {MAX_NESTING} уровней"


def _no_constant(name: str) -> Any:
    raise _Refused(f"в JSON нет значения {name}: нужно конечное число")


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise _Refused(f"число {text[:40]} слишком велико")
    return number


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 100:
        raise _Refused(f"число {text[:40]}… слишком длинное (больше 100 цифр)")
    return int(text)
