"""The compile side of the sandbox: RestrictedPython's rules plus the three 1C-style underscore names.

RestrictedPython refuses every name starting with ``_``; the designer's variables ``_Исполнитель``,
``_ДанныеДляОбработки`` and ``_Результат`` are allowed by name, nothing else is. Attributes of the guards'
deny-set (``format``, ``gi_frame``…) are refused here already. The host compiles here to refuse bad code when it
is saved; the worker compiles here again before it runs the code. The code's size and nesting are bounded before
any recursive pass sees it, and every refusal is one Russian line.
"""

from __future__ import annotations

import ast
import re
from types import CodeType
from typing import Any

from RestrictedPython.transformer import RestrictingNodeTransformer

from algorithms.errors import CodeRefused
from algorithms.guards import attribute_refusal

PERFORMER = "_Исполнитель"
DATA = "_ДанныеДляОбработки"
RESULT = "_Результат"
DESIGNER_NAMES = frozenset({PERFORMER, DATA, RESULT})
FILENAME = "<алгоритм>"
MAX_CODE_CHARS = 100_000
MAX_DEPTH = 150
MAX_NODES = 100_000
TOO_COMPLEX = f"код слишком сложный (вложенность больше {MAX_DEPTH} уровней или больше {MAX_NODES} элементов)"

_CONSTRUCTS = {
    "AsyncFunctionDef": "async def",
    "AsyncFor": "async for",
    "AsyncWith": "async with",
    "Await": "await",
    "Global": "global",
    "Nonlocal": "nonlocal",
    "TryStar": "except*",
    "Match": "match",
    "TypeAlias": "type",
    "Starred": "«*» в выражении",
}
_TRANSLATIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r'"(?P<n>[^"]+)" is an invalid variable name because it starts with "_"'), "имя «{n}» запрещено"),
    (re.compile(r'"(?P<n>[^"]+)" is an invalid attribute name because it starts with "_"'), "атрибут «{n}» запрещён"),
    (re.compile(r'"(?P<n>[^"]+)" is an invalid variable name because it ends with'), "имя «{n}» запрещено"),
    (re.compile(r'"(?P<n>[^"]+)" is an invalid attribute name because it ends with'), "атрибут «{n}» запрещён"),
    (re.compile(r'"(?P<n>[^"]+)" is a restricted name'), "атрибут «{n}» запрещён"),
    (re.compile(r'"(?P<n>[^"]+)" is a reserved name'), "имя «{n}» зарезервировано"),
    (re.compile(r"Lazy import statements are not allowed"), "отложенный импорт запрещён"),
    (re.compile(r"Exec calls are not allowed"), "вызов exec запрещён"),
    (re.compile(r"Eval calls are not allowed"), "вызов eval запрещён"),
    (re.compile(r'"\*" imports are not allowed'), "импорт «*» запрещён"),
    (re.compile(r"Unpacking in comprehensions is not allowed"), "распаковка «*» в генераторах запрещена"),
    (re.compile(r"Augmented assignment of attributes"), "«+=» и подобные для атрибутов запрещены"),
    (re.compile(r"Augmented assignment of object items"), "«+=» и подобные для элементов запрещены: x[k] = x[k] + 1"),
    (re.compile(r'keyword argument "metaclass"'), "аргумент «metaclass» запрещён"),
    (re.compile(r"Assignment expressions are only allowed"), "«:=» допустимо только для простого имени"),
    (re.compile(r"(?P<n>\w+) statements are not allowed"), "конструкция {n} запрещена"),
]
_SYNTAX = [
    ("invalid syntax", "неверный синтаксис"),
    ("expected ':'", "ожидается «:»"),
    ("unexpected indent", "лишний отступ"),
    ("unindent does not match", "отступ не совпадает ни с одним внешним уровнем"),
    ("expected an indented block", "ожидается блок с отступом"),
    ("unterminated string", "незакрытая строка"),
    ("unterminated triple-quoted string", "незакрытая строка"),
    ("was never closed", "незакрытая скобка"),
    ("unmatched", "лишняя закрывающая скобка"),
    ("does not match opening parenthesis", "скобки не соответствуют друг другу"),
    ("invalid character", "недопустимый символ"),
    ("invalid decimal literal", "неверное число"),
    ("too many nested parentheses", "слишком глубокая вложенность скобок"),
    ("cannot assign to", "присваивать этому нельзя"),
    ("inconsistent use of tabs", "отступы смешивают табуляцию и пробелы"),
    ("'return' outside function", "return вне функции"),
    ("outside loop", "break или continue вне цикла"),
    ("EOF", "код оборвался"),
    ("null bytes", "символ NUL в тексте"),
]


def _russian(info: str) -> str:
    for pattern, template in _TRANSLATIONS:
        found = pattern.search(info)
        if found:
            groups = {key: _CONSTRUCTS.get(value, value) for key, value in found.groupdict().items()}
            return template.format(**groups)
    return "запрещённая конструкция"


def _syntax(message: str) -> str:
    for english, russian in _SYNTAX:
        if english in message:
            return f"синтаксическая ошибка ({russian})"
    return "синтаксическая ошибка"


class DesignerPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy that also lets the designer use the three documented underscore names and
    refuses the guards' denied attributes at once."""

    def __init__(self) -> None:
        super().__init__(errors=[], warnings=[], used_names={})
        self.problems: list[tuple[int, int, str]] = []

    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        """Allows exactly the documented designer names; every other name goes through RestrictedPython's check."""
        if name in DESIGNER_NAMES:
            return
        super().check_name(node, name, allow_magic_methods)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        """Refuses the attributes the guards deny at run time (``x.format``, ``g.gi_frame``) when code is saved."""
        refusal = None if node.attr.startswith("_") else attribute_refusal(node.attr)
        if refusal is not None:
            self.problems.append((node.lineno, node.end_col_offset or 0, refusal))
        return super().visit_Attribute(node)

    def error(self, node: ast.AST, info: str) -> None:
        """Records the refusal with its position, in Russian."""
        super().error(node, info)
        self.problems.append((getattr(node, "lineno", 0), getattr(node, "end_col_offset", 0) or 0, _russian(info)))


def _check_size(tree: ast.AST) -> None:
    """Refuses trees too deep or too large for the recursive passes (RestrictedPython's and the compiler's)."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH or count > MAX_NODES:
            raise CodeRefused(getattr(node, "lineno", None), TOO_COMPLEX)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def compile_algorithm(source: str) -> CodeType:
    """Compiles an algorithm's code under the sandbox's rules; refuses it with the first problem's line."""
    if len(source) > MAX_CODE_CHARS:
        raise CodeRefused(None, f"код длиннее {MAX_CODE_CHARS} символов")
    try:
        tree = ast.parse(source, FILENAME, "exec")
    except SyntaxError as error:
        raise CodeRefused(error.lineno, _syntax(error.msg)) from None
    except ValueError:  # e.g. a NUL character
        raise CodeRefused(None, "недопустимый текст (например, символ NUL)") from None
    except (RecursionError, MemoryError):
        raise CodeRefused(None, TOO_COMPLEX) from None
    _check_size(tree)
    policy = DesignerPolicy()
    try:
        policy.visit(tree)
        if policy.problems:
            line, _, detail = min(policy.problems)  # the first in reading order, not in the visiting order
            raise CodeRefused(line or None, detail)
        return compile(tree, FILENAME, "exec")
    except (RecursionError, MemoryError):
        raise CodeRefused(None, TOO_COMPLEX) from None
    except SyntaxError as error:  # the compiler's own checks (e.g. «nonlocal» at module level)
        raise CodeRefused(error.lineno, _syntax(error.msg)) from None
