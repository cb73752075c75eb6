"""The parameter types of every command: each refuses a bad value with a Russian reason (click's say it in English).

Commands use these instead of click's ``int``, ``Choice``, ``DateTime`` and ``Path``; ``tests/test_cli_inputs.py``
checks that no command is left with one of click's own.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from processes.errors import quoted
from processes.ids import MAX_ID, record_id

_FORMAT_WORDS = {"%d": "ДД", "%m": "ММ", "%Y": "ГГГГ", "%y": "ГГ", "%H": "ЧЧ", "%M": "ММ", "%S": "СС"}


class RecordId(click.ParamType[int]):
    """The number of a record (a task, a process, a message, a request): a whole number from 1 to 2^31-1."""

    name = "id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        number = record_id(value) if isinstance(value, str | int) else None
        if number is None:
            self.fail(f"{quoted(value)} — не номер записи: ожидается целое число от 1 до {MAX_ID}", param, ctx)
        return number


class Choice(click.Choice[str]):
    """One of the listed values."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            allowed = ", ".join(str(choice) for choice in self.choices)
            self.fail(f"{quoted(value)} — допустимые значения: {allowed}", param, ctx)


class DateTime(click.DateTime):
    """A date (and time) in one of ``formats`` (how far ahead a deadline may be is the core's rule)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            moment = super().convert(value, param, ctx)
        except click.BadParameter:
            forms = ", ".join(_format_words(form) for form in self.formats)
            self.fail(f"{quoted(value)} — не дата; пишите, например, {forms}", param, ctx)
        assert isinstance(moment, datetime)
        return moment


class Port(click.ParamType[int]):
    """A TCP port: 0 to 65535 (0 — any free one)."""

    name = "port"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        text = str(value).strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 5 and int(text) <= 65535):
            self.fail(f"{quoted(value)} — не порт: ожидается целое число от 0 до 65535", param, ctx)
        return int(text)


class FilePath(click.ParamType[Path]):
    """A file's path as given; the command reads or writes it and tells what went wrong."""

    name = "file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        text = str(value)
        if not text or "\x00" in text:
            self.fail(f"{quoted(value)} — не путь к файлу", param, ctx)
        return Path(text)


class InputFile(FilePath):
    """An existing file to read (its content is read and checked by the command)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = super().convert(value, param, ctx)
        if os.path.isdir(path):
            self.fail(f"{quoted(value)} — каталог, а нужен файл", param, ctx)
        if not os.path.exists(path):  # never raises: a too long name or a bad one is just «not there»
            self.fail(f"файл {quoted(value)} не найден", param, ctx)
        return path


def _format_words(form: str) -> str:
    for code, words in _FORMAT_WORDS.items():
        form = form.replace(code, words)
    return form


RECORD_ID = RecordId()
PORT = Port()
FILE_PATH = FilePath()
INPUT_FILE = InputFile()
