"""Required data of a step: typed field definitions and the validation of what a performer typed."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, model_validator

from processes.errors import DataValidationError, FieldError, quoted

MAX_DIGITS = 18
"""The most digits of an integer field: it fits every database's 64-bit integer and a JSON reader's."""
MAX_NUMBER = Decimal("1e300")
"""The largest number field (by magnitude): a float holds it, so it is never stored as infinity."""


class FieldType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    DATE = "date"
    PHONE = "phone"
    CHOICE = "choice"
    REGEX = "regex"


class FieldSpec(BaseModel):
    """One field the performer must (or may) fill in to complete a task."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[\w.-]+$")
    title: str = ""
    type: FieldType = FieldType.TEXT
    required: bool = True
    choices: list[str] = []
    pattern: str | None = None
    hint: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.type is FieldType.CHOICE and not self.choices:
            raise ValueError(f"поле «{self.name}» типа choice требует непустой список choices")
        if self.type is FieldType.REGEX:
            if not self.pattern:
                raise ValueError(f"поле «{self.name}» типа regex требует pattern")
            try:
                re.compile(self.pattern)
            except re.error as error:
                raise ValueError(f"поле «{self.name}»: ошибка в регулярном выражении: {error}") from error
        return self

    @property
    def label(self) -> str:
        """The name shown to people: the title when given, else the technical name."""
        return self.title or self.name


def validate_data(specs: list[FieldSpec], raw: dict[str, str]) -> dict[str, Any]:
    """Checks every field of ``raw`` against ``specs``; returns JSON-ready values or raises with all errors."""
    errors: list[FieldError] = []
    known = {spec.name for spec in specs}
    for name in raw:
        if name not in known:
            allowed = ", ".join(sorted(known)) or "нет полей"
            errors.append(FieldError(name, f"Поле «{name}» не предусмотрено задачей (ожидаются: {allowed})"))
    values: dict[str, Any] = {}
    for spec in specs:
        text = raw.get(spec.name, "").strip()
        if not text:
            if spec.required:
                errors.append(FieldError(spec.name, f"Поле «{spec.label}» обязательно для заполнения"))
            continue
        try:
            values[spec.name] = parse_value(spec, text)
        except FieldError as error:
            errors.append(error)
    if errors:
        raise DataValidationError(errors)
    return values


def parse_value(spec: FieldSpec, text: str) -> Any:
    """The value of one field typed as ``text``, normalised for storage; raises FieldError when it does not fit."""
    parser = _PARSERS[spec.type]
    try:
        return parser(spec, text)
    except ValueError as error:
        raise FieldError(spec.name, f"Поле «{spec.label}»: {error}, получено {quoted(text)}") from error


def _parse_text(_spec: FieldSpec, text: str) -> str:
    return text


def _parse_integer(_spec: FieldSpec, text: str) -> int:
    cleaned = text.replace(" ", "").replace("\u00a0", "")
    if not re.fullmatch(r"[+-]?\d+", cleaned):
        raise ValueError("ожидается целое число")
    if len(cleaned.lstrip("+-")) > MAX_DIGITS:
        raise ValueError(f"слишком большое число: не больше {MAX_DIGITS} цифр")
    return int(cleaned)


def _parse_number(_spec: FieldSpec, text: str) -> float:
    cleaned = text.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    try:
        number = Decimal(cleaned)
    except InvalidOperation as error:
        raise ValueError("ожидается число") from error
    if not number.is_finite():
        raise ValueError("ожидается конечное число")
    if abs(number) > MAX_NUMBER:
        raise ValueError("слишком большое число: не больше 10^300 по модулю")
    return float(number)


_DATE_FORMATS = ("%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d")


def _parse_date(_spec: FieldSpec, text: str) -> str:
    for pattern in _DATE_FORMATS:
        try:
            parsed: date = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return parsed.isoformat()
    raise ValueError("ожидается дата в виде ДД.ММ.ГГГГ")


def _parse_phone(_spec: FieldSpec, text: str) -> str:
    return normalise_phone(text)


def normalise_phone(text: str, region: str = "RU") -> str:
    """The phone number in E.164 form (``+79161234567``); raises ValueError when it is not a valid number."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise ValueError("ожидается номер телефона") from error
    if not phonenumbers.is_valid_number(number):
        raise ValueError("ожидается действительный номер телефона")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_choice(spec: FieldSpec, text: str) -> str:
    for choice in spec.choices:
        if choice.casefold() == text.casefold():
            return choice
    raise ValueError("выберите одно из: " + ", ".join(spec.choices))


def _parse_regex(spec: FieldSpec, text: str) -> str:
    assert spec.pattern is not None
    if not re.fullmatch(spec.pattern, text):
        raise ValueError(f"значение не соответствует шаблону {spec.pattern}")
    return text


_PARSERS = {
    FieldType.TEXT: _parse_text,
    FieldType.INTEGER: _parse_integer,
    FieldType.NUMBER: _parse_number,
    FieldType.DATE: _parse_date,
    FieldType.PHONE: _parse_phone,
    FieldType.CHOICE: _parse_choice,
    FieldType.REGEX: _parse_regex,
}
