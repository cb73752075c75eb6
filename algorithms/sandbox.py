"""The compile side of the sandbox: RestrictedPython's rules plus the three 1C-style underscore names.

RestrictedPython refuses every name starting with ``_``; the designer's variables ``_Исполнитель``,
``_ДанныеДляОбработки`` and ``_Результат`` are allowed by name, nothing else is. The host compiles here to refuse
bad code when it is saved; the worker compiles here again before it runs the code.
"""

from __future__ import annotations

import ast
import re
from types import CodeType
from typing import Any

from RestrictedPython.transformer import RestrictingNodeTransformer

from algorithms.errors import CodeRefused

PERFORMER = "_Исполнитель"
DATA = "_ДанныеДляОбработки"
RESULT = "_Результат"
DESIGNER_NAMES = frozenset({PERFORMER, DATA, RESULT})
FILENAME = "<алгоритм>"
MAX_CODE_CHARS = 100_000

_TRANSLATIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r'"(?P<n>[^"]+)" is an invalid variable name because it starts with "_"'), "имя «{n}» запрещено"),
    (re.compile(r'"(?P<n>[^"]+)" is an invalid attribute name because it starts with "_"'), "атрибут «{n}» запрещён"),
    (re.compile(r'"(?P<n>[^"]+)" is a restricted name'), "атрибут «{n}» запрещён"),
    (re.compile(r'"(?P<n>[^"]+)" is a reserved name'), "имя «{n}» зарезервировано"),
    (re.compile(r'"(?P<n>[^"]+)" is an invalid variable name because it ends with'), "имя «{n}» запрещено"),
    (re.compile(r"Exec calls are not allowed"), "вызов exec запрещён"),
    (re.compile(r"Eval calls are not allowed"), "вызов eval запрещён"),
    (re.compile(r'"\*" imports are not allowed'), "импорт «*» запрещён"),
    (re.compile(r"(?P<n>\w+) statements are not allowed"), "конструкция {n} запрещена"),
    (re.compile(r"(?P<n>\w+) is not allowed"), "конструкция {n} запрещена"),
]


def _russian(info: str) -> str:
    for pattern, template in _TRANSLATIONS:
        found = pattern.search(info)
        if found:
            return template.format(**found.groupdict())
    return f"запрещённая конструкция ({info})"


class DesignerPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy that also lets the designer use the three documented underscore names."""

    def __init__(self) -> None:
        super().__init__(errors=[], warnings=[], used_names={})
        self.problems: list[tuple[int, int, str]] = []

    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        """Allows exactly the documented designer names; every other name goes through RestrictedPython's check."""
        if name in DESIGNER_NAMES:
            return
        super().check_name(node, name, allow_magic_methods)

    def error(self, node: ast.AST, info: str) -> None:
        """Records the refusal with its position, in Russian."""
        super().error(node, info)
        self.problems.append((getattr(node, "lineno", 0), getattr(node, "end_col_offset", 0) or 0, _russian(info)))


def compile_algorithm(source: str) -> CodeType:
    """Compiles an algorithm's code under the sandbox's rules; refuses it with the first problem's line."""
    if len(source) > MAX_CODE_CHARS:
        raise CodeRefused(None, f"код длиннее {MAX_CODE_CHARS} символов")
    try:
        tree = ast.parse(source, FILENAME, "exec")
    except SyntaxError as error:
        raise CodeRefused(error.lineno, f"синтаксическая ошибка ({error.msg})") from None
    except ValueError as error:  # e.g. a NUL character
        raise CodeRefused(None, f"недопустимый текст ({error})") from None
    policy = DesignerPolicy()
    policy.visit(tree)
    if policy.problems:
        line, _, detail = min(policy.problems)  # the first in reading order, not in the visiting order
        raise CodeRefused(line or None, detail)
    return compile(tree, FILENAME, "exec")
