"""Pydantic validation errors told in the product's language."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

_MESSAGES = {
    "missing": "обязательный ключ отсутствует",
    "extra_forbidden": "неизвестный ключ",
    "too_short": "список не должен быть пустым",
    "string_too_short": "значение не должно быть пустым",
    "string_too_long": "слишком длинное значение",
    "time_parsing": "ожидается время ЧЧ:ММ",
    "int_parsing": "ожидается целое число",
    "string_type": "ожидается строка",
    "bool_parsing": "ожидается true или false",
    "list_type": "ожидается список",
    "model_type": "ожидается словарь",
    "dict_type": "ожидается словарь",
    "enum": "допустимые значения: ",
    "float_parsing": "ожидается число",
    "finite_number": "ожидается конечное число",
    "int_from_float": "ожидается целое число",
    "int_type": "ожидается целое число",
    "float_type": "ожидается число",
    "bool_type": "ожидается true или false",
    "string_unicode": "ожидается текст в UTF-8",
    "string_pattern_mismatch": "недопустимые символы",
    "too_long": "слишком длинный список",
    "recursion_loop": "значение ссылается само на себя",
    "date_parsing": "ожидается дата",
    "datetime_parsing": "ожидаются дата и время",
}
_BOUNDS = {
    "greater_than": "ожидается число больше {gt}",
    "greater_than_equal": "ожидается число не меньше {ge}",
    "less_than": "ожидается число меньше {lt}",
    "less_than_equal": "ожидается число не больше {le}",
}


def describe_error(error: Any) -> str:
    """One pydantic error entry as a short Russian phrase."""
    kind = error["type"]
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind in ("enum", "literal_error"):  # a StrEnum or a Literal: the same «one of» for the reader
        return _MESSAGES["enum"] + str(error.get("ctx", {}).get("expected", "")).replace(" or ", " или ")
    if kind in _BOUNDS:
        return _BOUNDS[kind].format(**error.get("ctx", {}))
    return _MESSAGES.get(kind, str(error["msg"]))


def describe_validation(error: ValidationError) -> str:
    """The first problem of ``error`` as «поле: что не так»."""
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    return f"{location}: {describe_error(first)}" if location else describe_error(first)
