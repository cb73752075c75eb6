"""Designers' templates, rendered in Jinja2's sandbox with autoescaping (user data never becomes markup)."""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

SAMPLE_CONTEXT: dict[str, Any] = {
    "event": "task.created",
    "process": {
        "id": 1,
        "scenario": "Сценарий",
        "description": "Описание",
        "status": "Активен",
        "author": "Иванов И. И.",
        "deadline": "01.01.2030 18:00",
        "data": {},
    },
    "task": {
        "id": 1,
        "title": "Задача",
        "description": "Описание",
        "deadline": "01.01.2030 18:00",
        "important": True,
        "performer": "Петров П. П.",
        "author": "Иванов И. И.",
        "status": "Активна",
        "comment": "",
        "data": {},
    },
    "recipient": {"name": "Петров Пётр Петрович", "short_name": "Петров П. П."},
    "lead": "1 ч",
}


class TemplateError(ValueError):
    """A template that does not compile or reaches for what the sandbox forbids."""


class Templates:
    """Compiles and renders notification templates (Telegram HTML subset, also used for e-mail)."""

    def __init__(self) -> None:
        options: dict[str, Any] = {"autoescape": True, "trim_blocks": True, "lstrip_blocks": True}
        self._environment = ImmutableSandboxedEnvironment(**options)
        # The check renders strictly, so that an unsafe attribute fails loudly instead of printing nothing.
        self._strict = ImmutableSandboxedEnvironment(undefined=StrictUndefined, **options)

    def check(self, source: str) -> None:
        """Raises TemplateError when ``source`` does not compile or a trial render hits the sandbox."""
        try:
            self._strict.from_string(source).render(SAMPLE_CONTEXT)
        except TemplateSyntaxError as error:
            raise TemplateError(f"ошибка в шаблоне, строка {error.lineno}: {error.message}") from error
        except SecurityError as error:
            raise TemplateError(f"шаблон обращается к недоступному: {error}") from error
        except (UndefinedError, TypeError, ValueError, ArithmeticError, LookupError):
            return  # depends on the data: a real message that hits it fails with the reason, per message

    def render(self, source: str, context: dict[str, Any]) -> str:
        """``source`` rendered with ``context``; raises TemplateError on any failure."""
        try:
            return self._environment.from_string(source).render(context).strip()
        except SecurityError as error:
            raise TemplateError(f"шаблон обращается к недоступному: {error}") from error
        except Exception as error:  # a designer's template may fail in any way; the message records why
            raise TemplateError(f"ошибка шаблона: {error}") from error
