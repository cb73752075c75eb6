"""The composition root: settings → engine → bus → services, wired once per process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from algorithms.runner import AlgorithmRunner, Limits
from algorithms.service import AlgorithmService
from processes.bus import EventBus
from processes.services import ProcessService
from processes.timeutil import utcnow
from signal_ext.channels.bot_channels import BotChannels
from signal_ext.channels.registry import ChannelRegistry
from signal_ext.channels.setup import build_channels
from signal_ext.notifications.dispatcher import Dispatcher, RetryPolicy
from signal_ext.notifications.engine import NotificationEngine
from signal_ext.notifications.rules import approaching_leads
from signal_ext.notifications.templates import Templates
from signal_ext.redaction import register_settings
from signal_ext.registrations.scenario_events import ScenarioDecisions
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
    channels: ChannelRegistry
    dispatcher: Dispatcher
    algorithms: AlgorithmService
    bot_channels: BotChannels
    clock: Callable[[], datetime] = field(default=utcnow)

    def close(self) -> None:
        """Stops the algorithm workers and releases the database connections."""
        self.algorithms.close()
        self.engine.dispose()

    async def aclose(self) -> None:
        """Releases the channels' connections (call from the event loop that used them)."""
        await self.channels.aclose()
        await self.bot_channels.aclose()

    def deadline_leads(self) -> list[int]:
        """The lead times (minutes) of the enabled «deadline approaching» rules."""
        with self.read_session() as session:
            return approaching_leads(session)


def bootstrap(
    settings: Settings | None = None,
    *,
    apply_migrations: bool = True,
    clock: Callable[[], datetime] = utcnow,
) -> App:
    """Wires the application; with ``apply_migrations`` the schema is brought up to date first."""
    settings = settings or Settings()
    register_settings(settings)  # from here on, no log line, stored error or CLI output shows them
    engine = create_db_engine(settings.database_url)
    if apply_migrations:
        migrate(engine)
    open_session = session_factory(engine)
    bus = EventBus()
    templates = Templates()
    bus.subscribe(NotificationEngine(templates, settings.zone))
    bus.subscribe(ScenarioDecisions())  # an authorization process's end decides its registration request
    processes = ProcessService(open_session, bus, clock)
    channels = build_channels(settings)
    read_session = read_session_factory(engine)
    bot_channels = BotChannels(settings, read_session)
    policy = RetryPolicy(max_attempts=settings.dispatch_max_attempts)
    dispatcher = Dispatcher(
        open_session, channels, policy, settings.dispatch_lease_seconds, clock=clock, bot_channels=bot_channels
    )
    limits = Limits(timeout_seconds=settings.algorithm_timeout_seconds, memory_mb=settings.algorithm_memory_mb)
    runner = AlgorithmRunner(  # tries bubblewrap and starts its workers on the first run
        limits, settings.algorithm_workers, settings.algorithm_bwrap, settings.algorithms_unisolated
    )
    algorithms = AlgorithmService(open_session, processes, runner, settings.zone)
    return App(
        settings,
        engine,
        open_session,
        read_session,
        bus,
        processes,
        templates,
        channels,
        dispatcher,
        algorithms,
        bot_channels,
        clock,
    )
