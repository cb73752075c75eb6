"""What every command shares: the lazily built application, its settings, output as text or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import click
from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from processes.validation import describe_error
from signal_ext.bootstrap import App, bootstrap
from signal_ext.redaction import register_settings
from signal_ext.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

json_option = click.option("--json", "as_json", is_flag=True, help="Вывод в JSON для скриптов.")


class AppContext:
    """Builds the application on first use, so ``--help`` never touches the database."""

    def __init__(self) -> None:
        self._app: App | None = None

    @property
    def app(self) -> App:
        return self.build()

    def build(self, adjust: Callable[[Settings], Settings] | None = None) -> App:
        """The application; the first call builds it, from the settings as ``adjust`` changes them."""
        if self._app is None:
            settings = load_settings()
            self._app = bootstrap(adjust(settings) if adjust is not None else settings)
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


def load_settings() -> Settings:
    """The settings from the environment; a bad value becomes one clear line."""
    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = _setting_name(str(first["loc"][0])) if first["loc"] else "SIGNAL_*"
        raise click.ClickException(f"Настройка {name}: {describe_error(first)}") from error
    register_settings(settings)
    return settings


DATABASE_SETTING = "SIGNAL_DATABASE_URL"


def _setting_name(field: str) -> str:
    """The environment variable of settings field (or alias) ``field``."""
    upper = field.upper()
    return upper if upper.startswith("SIGNAL_") else "SIGNAL_" + upper


def current_app(adjust: Callable[[Settings], Settings] | None = None) -> App:
    """The application of the running command (``adjust`` changes the settings it is built from)."""
    return click.get_current_context().find_object(AppContext).build(adjust)  # type: ignore[union-attr]


@contextmanager
def reading() -> Iterator[Session]:
    """A read-only session of the running command's database."""
    with current_app().read_session() as session:
        yield session


@contextmanager
def writing() -> Iterator[Session]:
    """A session whose changes are committed together when the block ends without an error."""
    with current_app().open_session() as session:
        yield session
        session.commit()


def local_time(moment: datetime | None) -> str:
    """``moment`` in the configured time zone as «ДД.ММ.ГГГГ ЧЧ:ММ», or an empty string."""
    if moment is None:
        return ""
    return moment.astimezone(current_app().settings.zone).strftime("%d.%m.%Y %H:%M")


def emit(value: BaseModel | list[Any] | dict[str, Any], as_json: bool, text: Callable[[], str]) -> None:
    """Prints ``value`` as JSON when asked, else the human text ``text()`` builds."""
    if as_json:
        click.echo(json.dumps(_plain(value), ensure_ascii=False, indent=2))
    else:
        click.echo(text())


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
