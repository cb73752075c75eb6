"""``signal-ext run``: bots, scheduler, dispatcher and HTTP server in one asyncio process.

A bot without a token talks to the built-in Bot API emulator, served by the same HTTP server under
``/telegram``, so the whole service can be tried locally without Telegram."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from dataclasses import dataclass

import uvicorn
from pydantic import SecretStr

from signal_ext.bootstrap import App, bootstrap
from signal_ext.bots.directory_bots import DirectoryBots
from signal_ext.bots.runtime import BotRunner
from signal_ext.bots.system_bot import SystemBot
from signal_ext.bots.system_token import with_directory_token
from signal_ext.channels.bot_channels import EMULATOR_BOT_BASE as EMULATOR_BOT_BASE  # tests and the page use it
from signal_ext.channels.bot_channels import EMULATOR_TOKEN as EMULATOR_TOKEN  # tests use it
from signal_ext.channels.setup import rate_limiter
from signal_ext.channels.telegram import TelegramChannel
from signal_ext.http.app import EMULATOR_PREFIX, WEBHOOK_PREFIX, create_http_app
from signal_ext.notifications.models import SYSTEM_BOT
from signal_ext.service import build_scheduler, dispatch_round, stop_on_signals
from signal_ext.settings import Settings
from signal_ext.telegram_emulator import EmulatorState

log = logging.getLogger("signal_ext.run")


@dataclass
class Running:
    """What a started service holds, for its stop."""

    app: App
    url: str
    emulator: EmulatorState | None
    runner: BotRunner
    server: uvicorn.Server
    server_task: asyncio.Task[None]
    watch_task: asyncio.Task[None]  # keeps the directory's bots in line with the ``bot`` table
    system: SystemBot


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0 = any free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


async def start_service(settings: Settings, host: str, port: int, directory_token: bool = True) -> Running:
    """Binds the HTTP port, wires the application and starts it all. The system bot's token is the setting's, or
    its directory record's (unless ``directory_token`` is off, as for the demo); with neither, the built-in
    emulator serves every bot."""
    if directory_token:
        settings = await asyncio.to_thread(with_directory_token, settings)
    sock = bind(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}"
    emulator = EmulatorState() if settings.telegram_token is None else None
    if emulator is not None:
        settings = settings.model_copy(
            update={"telegram_token": SecretStr(EMULATOR_TOKEN), "telegram_api_url": url + EMULATOR_PREFIX}
        )
    app = await asyncio.to_thread(bootstrap, settings)
    runner = BotRunner(settings.telegram_api_url, lambda: rate_limiter(settings, max_retries=3))
    http = create_http_app(app, emulator, runner)
    config = uvicorn.Config(http, log_level="warning", lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    server_task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if server_task.done():
            await server_task
        await asyncio.sleep(0.01)
    token = settings.telegram_token
    assert token is not None
    system = SystemBot(app, SYSTEM_BOT)
    # Replies and notifications go out with one token: one limiter keeps their sum within Telegram's limits.
    channel = app.channels.get("telegram")
    shared = channel.bot.rate_limiter if isinstance(channel, TelegramChannel) else None
    await runner.start(
        SYSTEM_BOT, token.get_secret_value(), system.on_message, system.on_press, _webhook(settings), shared
    )
    directory = DirectoryBots(app, runner, emulator is not None, lambda name: _webhook(settings, name))
    await directory.sync()
    watch_task = asyncio.create_task(directory.watch(settings.bots_reload_seconds))
    return Running(app, url, emulator, runner, server, server_task, watch_task, system)


def _webhook(settings: Settings, bot: str = SYSTEM_BOT) -> tuple[str, str] | None:
    if settings.telegram_webhook_url is None:
        return None
    if settings.telegram_webhook_secret is None:
        raise ValueError("для вебхука нужен SIGNAL_TELEGRAM_WEBHOOK_SECRET")
    url = f"{settings.telegram_webhook_url.rstrip('/')}{WEBHOOK_PREFIX}/{bot}"
    return url, settings.telegram_webhook_secret.get_secret_value()


async def stop_service(running: Running) -> None:
    """Stops the bots (finishing the updates in hand), then the HTTP server, then releases the channels."""
    running.watch_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running.watch_task
    await running.runner.stop_all()
    running.system.close()
    running.server.should_exit = True
    await running.server_task
    await running.app.aclose()
    running.app.close()


def configure_logging(level: str) -> None:
    """Time, level and logger of every record on stderr; the HTTP client's line per request only when debugging."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":
        for chatty in ("httpx", "httpcore", "apscheduler"):
            logging.getLogger(chatty).setLevel(logging.WARNING)


async def run_forever(
    settings: Settings, host: str, port: int, ready: asyncio.Event | None = None, directory_token: bool = True
) -> None:
    """The whole service until SIGINT or SIGTERM."""
    configure_logging(settings.log_level)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    running = await start_service(settings, host, port, directory_token)
    stop_on_signals(loop, stop, running.app)  # from now on a signal also ends the dispatch round in progress
    scheduler = build_scheduler(running.app)
    scheduler.start()
    print(f"Signal работает: {running.url}", flush=True)
    if running.emulator is not None:
        print(f"Telegram — встроенный эмулятор; чат в браузере: {running.url}/emulator", flush=True)
    if ready is not None:
        ready.set()
    try:
        await dispatch_round(running.app)
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        running.app.dispatcher.stop()  # a round in progress gives its chats back after the sends in flight
        await stop_service(running)
