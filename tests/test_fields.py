"""Required-data field types: what a performer may type and the precise message when it does not fit."""

from __future__ import annotations

from typing import Any

import pytest

from processes.errors import DataValidationError
from processes.fields import FieldSpec, FieldType, validate_data


def _spec(kind: FieldType, **extra: Any) -> FieldSpec:
    return FieldSpec(name="f", title="Поле", type=kind, **extra)


@pytest.mark.parametrize(
    ("spec", "typed", "stored"),
    [
        (_spec(FieldType.TEXT), "  привет ", "привет"),
        (_spec(FieldType.INTEGER), "1 000", 1000),
        (_spec(FieldType.INTEGER), "-7", -7),
        (_spec(FieldType.NUMBER), "12,5", 12.5),
        (_spec(FieldType.NUMBER), "1 234.75", 1234.75),
        (_spec(FieldType.DATE), "06.02.2021", "2021-02-06"),
        (_spec(FieldType.DATE), "6.2.21", "2021-02-06"),
        (_spec(FieldType.DATE), "2021-02-06", "2021-02-06"),
        (_spec(FieldType.PHONE), "8 (916) 123-45-67", "+79161234567"),
        (_spec(FieldType.PHONE), "+7 916 1234567", "+79161234567"),
        (_spec(FieldType.CHOICE, choices=["Да", "Нет"]), "нет", "Нет"),
        (_spec(FieldType.REGEX, pattern=r"\d{3}-\d{2}"), "123-45", "123-45"),
    ],
)
def test_good_values_are_normalised(spec: FieldSpec, typed: str, stored: object) -> None:
    assert validate_data([spec], {"f": typed}) == {"f": stored}


@pytest.mark.parametrize(
    ("spec", "typed", "message"),
    [
        (_spec(FieldType.INTEGER), "1.5", "Поле «Поле»: ожидается целое число, получено «1.5»"),
        (_spec(FieldType.NUMBER), "много", "Поле «Поле»: ожидается число, получено «много»"),
        (_spec(FieldType.NUMBER), "inf", "конечное"),
        (_spec(FieldType.DATE), "31.02.2021", "ожидается дата"),
        (_spec(FieldType.PHONE), "12345", "номер телефона"),
        (_spec(FieldType.CHOICE, choices=["Да", "Нет"]), "Может быть", "выберите одно из: Да, Нет"),
        (_spec(FieldType.REGEX, pattern=r"\d{3}"), "12a", "шаблону"),
    ],
)
def test_bad_values_get_a_precise_message(spec: FieldSpec, typed: str, message: str) -> None:
    with pytest.raises(DataValidationError) as error:
        validate_data([spec], {"f": typed})
    assert message in error.value.message


def test_optional_field_may_stay_empty_and_required_may_not() -> None:
    optional = FieldSpec(name="a", type=FieldType.INTEGER, required=False)
    required = FieldSpec(name="b", title="Б")
    with pytest.raises(DataValidationError) as error:
        validate_data([optional, required], {"a": ""})
    assert [e.field for e in error.value.errors] == ["b"]
    assert validate_data([optional, required], {"b": "x"}) == {"b": "x"}


def test_bad_definitions_are_refused() -> None:
    with pytest.raises(ValueError, match="choices"):
        FieldSpec(name="a", type=FieldType.CHOICE)
    with pytest.raises(ValueError, match="регулярном"):
        FieldSpec(name="a", type=FieldType.REGEX, pattern="(")
