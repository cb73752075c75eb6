"""Mistakes in how a command is called, told in one Russian line (click's own words are English and take four)."""

from __future__ import annotations

import os
import re

import click

QUOTED_CHARS = 60
"""How much of a refused value a message quotes: a megabyte-long argument must not become a megabyte-long line."""

_FORMAT_WORDS = {"%d": "ДД", "%m": "ММ", "%Y": "ГГГГ", "%y": "ГГ", "%H": "ЧЧ", "%M": "ММ", "%S": "СС"}
_EXTRA_ARGUMENTS = re.compile(r"\((?P<args>.*)\)")


def quoted(value: object) -> str:
    """``value`` in «», cut to :data:`QUOTED_CHARS` characters and with control characters shown as escapes."""
    text = str(value)
    cut = text[:QUOTED_CHARS] + ("…" if len(text) > QUOTED_CHARS else "")
    shown = "".join(char if char.isprintable() else repr(char)[1:-1] for char in cut)
    return f"«{shown}»"


def usage_problem(error: click.UsageError) -> str:
    """The one line that says what is wrong with the call ``error`` reports and where the help is."""
    ctx = error.ctx
    where = f" (справка: {ctx.command_path} --help)" if ctx is not None else ""
    return _problem(error) + where


def _problem(error: click.UsageError) -> str:
    if isinstance(error, click.MissingParameter):
        kind = "аргумент" if isinstance(error.param, click.Argument) else "параметр"
        return f"Не указан {kind} {_name(error.param)}"
    if isinstance(error, click.BadParameter):
        return f"{_name(error.param)}: {_reason(error)}"
    if isinstance(error, click.NoSuchOption):
        return f"Неизвестный параметр {error.option_name}" + _maybe(error.possibilities)
    if isinstance(error, click.BadOptionUsage):
        if "does not take a value" in error.message:
            return f"Параметр {error.option_name} пишется без значения"
        return f"Параметру {error.option_name} нужно значение"
    if isinstance(error, click.exceptions.NoSuchCommand):
        return f"Нет команды {quoted(error.command_name)}" + _maybe(error.possibilities)
    if error.message.startswith("Got unexpected extra argument"):
        found = _EXTRA_ARGUMENTS.search(error.message)
        return "Лишние аргументы: " + (quoted(found["args"]) if found else "")
    if error.message.startswith("Missing command"):
        return "Не указана команда"
    return "Неверный вызов команды"


def _name(param: click.Parameter | None) -> str:
    if param is None:
        return "Значение"
    if isinstance(param, click.Option):
        return "/".join(param.opts)
    return param.human_readable_name


def _maybe(possibilities: object) -> str:
    names = sorted(str(name) for name in possibilities) if isinstance(possibilities, list | tuple | set) else []
    return f"; возможно, имелось в виду {', '.join(names[:5])}" if names else ""


def _reason(error: click.BadParameter) -> str:
    """Why the value was refused: our own parameter types already say it in Russian; click's types are told here."""
    kind = error.param.type if error.param is not None else None
    value = _refused_value(error)
    if isinstance(kind, click.Choice):
        return f"{quoted(value)} — допустимые значения: {', '.join(str(choice) for choice in kind.choices)}"
    if isinstance(kind, click.types.IntRange):
        return f"{quoted(value)} — ожидается целое число от {kind.min} до {kind.max}"
    if isinstance(kind, click.types.IntParamType):
        return f"{quoted(value)} — ожидается целое число"
    if isinstance(kind, click.types.FloatParamType):
        return f"{quoted(value)} — ожидается число"
    if isinstance(kind, click.DateTime):
        forms = ", ".join(_format_words(form) for form in kind.formats)
        return f"{quoted(value)} — не дата; пишите, например, {forms}"
    if isinstance(kind, click.Path):
        return _path_reason(value)
    if kind is not None and kind.__module__.startswith("click."):
        return f"неверное значение {quoted(value)}"
    return error.message


def _refused_value(error: click.BadParameter) -> str:
    """The value the user gave: click keeps it only inside its English message, between the first quotes."""
    found = re.search(r"'(?P<value>(?:[^'\\]|\\.)*)'", error.message)
    return found["value"] if found else ""


def _format_words(form: str) -> str:
    for code, words in _FORMAT_WORDS.items():
        form = form.replace(code, words)
    return form


def _path_reason(path: str) -> str:
    if not path or not os.path.lexists(path):
        return f"файл {quoted(path)} не найден"
    if os.path.isdir(path):
        return f"{quoted(path)} — каталог, а нужен файл"
    return f"файл {quoted(path)} недоступен для чтения"
