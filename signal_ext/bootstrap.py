"""The composition root: settings → engine → bus → services, wired once per process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from processes.bus import EventBus
from processes.services import ProcessService
from processes.timeutil import utcnow
from signal_ext.notifications.engine import NotificationEngine
from signal_ext.notifications.templates import Templates
from signal_ext.settings import Settings
from signal_ext.storage import create_db_engine, migrate, read_session_factory, session_factory


@dataclass
class App:
    """Everything an entry point needs, built by :func:`bootstrap`."""

    settings: Settings
    engine: Engine
    open_session: Callable[[], Session]
    read_session: Callable[[], Session]
    bus: EventBus
    processes: ProcessService
    templates: Templates
    clock: Callable[[], datetime] = field(default=utcnow)

    def close(self) -> None:
        """Releases the database connections."""
        self.engine.dispose()


def bootstrap(
    settings: Settings | None = None,
    *,
    apply_migrations: bool = True,
    clock: Callable[[], datetime] = utcnow,
) -> App:
    """Wires the application; with ``apply_migrations`` the schema is brought up to date first."""
    settings = settings or Settings()
    engine = create_db_engine(settings.database_url)
    if apply_migrations:
        migrate(engine)
    open_session = session_factory(engine)
    bus = EventBus()
    templates = Templates()
    bus.subscribe(NotificationEngine(templates, settings.zone))
    processes = ProcessService(open_session, bus, clock)
    return App(settings, engine, open_session, read_session_factory(engine), bus, processes, templates, clock)
