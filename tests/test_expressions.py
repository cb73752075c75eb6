"""Code mode: a chat message as a safe expression — calculated, refused with a reason, or left to keywords."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from algorithms.errors import AlgorithmError, ExpressionRefused
from algorithms.expression import evaluate_expression, format_value, looks_like_expression

NOW = datetime(2026, 11, 21, 10, 15, 3, 500)


def _text(source: str) -> str:
    value = evaluate_expression(source, NOW)
    assert value is not None, source
    return value.text


@pytest.mark.parametrize(
    ("source", "answer"),
    [
        ("2+2*2", "6"),
        (" (2 + 2) * 2 ", "8"),
        ("10/4", "2.5"),
        ("10/5", "2"),
        ("0.1 + 0.2", "0.3"),
        ("7 // 2 + 7 % 2", "4"),
        ("2 ** 10", "1024"),
        ("3 > 2", "Истина"),
        ("Истина and Ложь", "Ложь"),
        ("'Привет, ' + 'мир'", "Привет, мир"),
        ("ТекущаяДата()", "21.11.2026 10:15:03"),
        ("ТекущаяДата() + 86400", "22.11.2026 10:15:03"),
        ("Окр(2.5)", "3"),
        ("Окр(3.14159, 2)", "3.14"),
        ("Цел(7.9)", "7"),
        ("Макс(1, 5, 3) - Мин(4, 2)", "3"),
        ("'да' if 2 > 1 else 'нет'", "да"),
        ("Строка(2 > 1)", "Истина"),
        ("Число('1,5') * 2", "3"),
        ("СтрДлина('абв') + 1", "4"),
        ("Лев('Привет', 3) + Прав('Привет', 2)", "Приет"),
        ("ВРег('да') + НРег('НЕТ')", "ДАнет"),
    ],
)
def test_expressions_are_calculated_for_a_chat(source: str, answer: str) -> None:
    assert _text(source) == answer


@pytest.mark.parametrize(
    "message",
    ["Выбор", "Привет мир", "А1", "а 1", "42", "Мои задачи", "abs(-1)", "x.upper()", "[1, 2]", "", "Да!", "1 +"],
)
def test_plain_messages_are_not_expressions(message: str) -> None:
    assert evaluate_expression(message, NOW) is None


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("9**9**9", "Слишком большое число"),
        ("10**5000", "Слишком большое число"),
        ("'a' * 10**9", "Слишком длинная строка"),
        ("'a' * 9000 + 'b' * 9000", "Слишком длинная строка"),
        ("__import__('os').system('id')", "«__import__» запрещено"),
        ("().__class__.__base__", "запрещено"),
        ("Строка(1).__class__", "«__class__» запрещено"),
        ("1/0", "Деление на ноль"),
        ("'a' - 1", "не вычисляется"),
        ("Число('много')", "не преобразуется в число"),
        ("'%03000000000d' % 1", "Слишком длинная строка"),
        ("'%09000000000d' % 1", "Слишком длинная строка"),
        ("'%.999999999f' % 1", "Слишком длинная строка"),
        ("'%*d' % 5", "не поддерживается"),
        ("'ab' * 9000", "Слишком длинная строка"),
        ("1 << 10**9", "Слишком большое число"),
        ("1 >> 10**9", "Слишком большое число"),
        ("(10**999) * (10**999)", "Слишком большое число"),
        ("Цел(1e308) * Цел(1e308) * Цел(1e308) * Цел(1e308)", "Слишком большое число"),
        ("Лев(Число, 200)", "Функцию «Число» нужно вызывать"),
        ("Строка(ТекущаяДата)", "Функцию «ТекущаяДата» нужно вызывать"),
        ("Окр(1, 10**9)", "Окр: число знаков"),
        ("-" * 300 + "1", "Слишком сложное выражение"),
        ("+".join(["1"] * 200), "Слишком сложное выражение"),
        ("Макс()", "не вычисляется"),
    ],
)
def test_refused_expressions_say_why_quickly(source: str, reason: str) -> None:
    started = time.monotonic()
    with pytest.raises(ExpressionRefused) as caught:
        evaluate_expression(source, NOW)
    assert reason in caught.value.message
    assert isinstance(caught.value, AlgorithmError)
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(
    "message",
    ["2+2", "Лев(Число, 200)", "'%09000000000d' % 1", "().__class__", "Выбор", "42", "x.upper()", "1 +", "[1, 2]"],
)
def test_the_shape_check_agrees_with_evaluation_without_evaluating(message: str) -> None:
    try:
        evaluated = evaluate_expression(message, NOW) is not None
    except ExpressionRefused:
        evaluated = True
    assert looks_like_expression(message) is evaluated


def test_no_answer_shows_an_object() -> None:
    for value in (len, object(), [1], {"a": 1}, NOW - NOW):
        with pytest.raises(ExpressionRefused, match="не является числом, строкой, датой"):
            format_value(value)
    assert _text("ТекущаяДата() - ТекущаяДата() + 5") == "5"
