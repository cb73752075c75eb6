"""Every refusal of a command is one line on stderr: the core's errors (exit code 1) and mistakes in calling the
command (exit code 2), in Russian, whatever the input held."""

from __future__ import annotations

from typing import Any

import click
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from processes.errors import ProcessError
from processes.validation import describe_validation
from signal_ext.commands.common import DATABASE_SETTING, load_settings
from signal_ext.commands.usage import usage_problem
from signal_ext.redaction import redact
from signal_ext.storage.guard import is_unicode

MAX_LINE = 1000
"""The longest refusal printed: a message quoting a megabyte of input is cut, not printed whole."""


class UsageRefusal(click.ClickException):
    """A command called wrongly (an unknown option, a value of the wrong kind): one line, click's exit code 2."""

    exit_code = 2


class SignalGroup(click.Group):
    """The top command: turns the core's errors into one line on stderr and exit code 1, and mistakes in calling a
    command into one Russian line and exit code 2."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        for arg in args:
            if not is_unicode(arg):
                raise UsageRefusal(f"Аргумент {_shown(arg)} — не текст в UTF-8: проверьте кодировку терминала")
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as error:
            raise _usage_error(error) from error

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise  # a group called alone prints its help, as it should
        except click.UsageError as error:
            raise _usage_error(error) from error
        except click.ClickException as error:
            raise _one_line(error) from error
        except ProcessError as error:
            raise _one_line(click.ClickException(error.message)) from error
        except ValidationError as error:
            raise _one_line(click.ClickException(f"Неверные данные: {describe_validation(error)}")) from error
        except OperationalError as error:
            url = make_url(load_settings().database_url).render_as_string(hide_password=True)
            message = f"База данных {url} ({DATABASE_SETTING}) недоступна: {error.orig}"
            raise _one_line(click.ClickException(message)) from error


def _usage_error(error: click.UsageError) -> click.ClickException:
    if isinstance(error, click.exceptions.NoArgsIsHelpError):
        return error
    return _one_line(UsageRefusal(usage_problem(error)))


def _one_line(error: click.ClickException) -> click.ClickException:
    """``error`` with its message on one line of at most :data:`MAX_LINE` characters, secrets masked (the CLI's
    one error printing point)."""
    text = " ".join(redact(error.message).split())
    if len(text) > MAX_LINE:
        text = text[: MAX_LINE - 1] + "…"
    return UsageRefusal(text) if isinstance(error, UsageRefusal) else click.ClickException(text)


def _shown(text: str) -> str:
    return "«" + text[:60].encode("utf-8", "backslashreplace").decode("ascii", "replace") + "»"
