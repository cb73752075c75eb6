"""Mistakes in how a command is called, told in one Russian line (click's own words are English and take four)."""

from __future__ import annotations

import re

import click

from processes.errors import quoted

_EXTRA_ARGUMENTS = re.compile(r"\((?P<args>.*)\)")


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
        return f"Неизвестный параметр {quoted(error.option_name)}" + _maybe(error.possibilities)
    if isinstance(error, click.BadOptionUsage):
        if "does not take a value" in error.message:
            return f"Параметр {quoted(error.option_name)} пишется без значения"
        return f"Параметру {quoted(error.option_name)} нужно значение"
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
    """Why the value was refused: the parameter types of :mod:`signal_ext.commands.params` say it in Russian."""
    kind = error.param.type if error.param is not None else None
    if kind is not None and type(kind).__module__.startswith("click"):
        return "неверное значение"  # one of click's own types, in English: commands use ours instead
    return error.message
