"""The long-running service: the scheduler drives the dispatcher and the deadline watch until stopped."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from signal_ext.bootstrap import App

log = logging.getLogger("signal_ext.service")


async def dispatch_round(app: App) -> None:
    """Sends whatever is due now."""
    report = await app.dispatcher.run_once()
    if report.claimed:
        log.info(
            "dispatch: claimed %d, sent %d, retried %d, failed %d",
            report.claimed,
            report.sent,
            report.retried,
            report.failed,
        )


async def deadline_round(app: App) -> None:
    """Raises the due deadline events (their notifications go to the outbox with them)."""
    raised = await asyncio.to_thread(lambda: app.processes.raise_deadline_events(app.deadline_leads()))
    if raised:
        log.info("deadlines: %d events raised", raised)


def build_scheduler(app: App) -> AsyncIOScheduler:
    """The scheduler with the service's periodic jobs; each job never overlaps itself."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    every = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.add_job(
        dispatch_round, "interval", seconds=app.settings.dispatch_interval_seconds, args=[app], id="dispatch", **every
    )
    scheduler.add_job(
        deadline_round, "interval", seconds=app.settings.deadline_scan_seconds, args=[app], id="deadlines", **every
    )
    return scheduler


async def serve(app: App, stop: asyncio.Event | None = None) -> None:
    """Runs the scheduled jobs until ``stop`` is set or SIGINT/SIGTERM arrives, then finishes what is in
    flight and releases the channels."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    stop_on_signals(loop, stop, app)
    scheduler = build_scheduler(app)
    scheduler.start()
    try:
        await dispatch_round(app)
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        app.dispatcher.stop()  # a round in progress gives its chats back after the sends in flight
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await _drain(loop)
        await app.aclose()


def stop_on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event, app: App) -> None:
    """SIGINT and SIGTERM set ``stop`` and end the dispatcher's round in progress after its sends in flight (its
    chats are given back at once, not held until their lease runs out)."""

    def on_signal() -> None:
        app.dispatcher.stop()
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)


async def _drain(loop: asyncio.AbstractEventLoop) -> None:
    """Waits for the jobs that were running when the stop came."""
    current = asyncio.current_task(loop)
    pending = [task for task in asyncio.all_tasks(loop) if task is not current and not task.done()]
    if pending:
        await asyncio.wait(pending, timeout=30)
