"""``signal-ext run``: bots, scheduler, dispatcher and HTTP server in one asyncio process.

A bot without a token talks to the built-in Bot API emulator, served by the same HTTP server under
``/telegram``, so the whole service can be tried locally without Telegram."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
from dataclasses import dataclass

import uvicorn
from pydantic import SecretStr

from algorithms.isolation import Mode, describe
from processes.errors import ProcessError, quoted
from signal_ext.bootstrap import App, bootstrap
from signal_ext.bots.directory_bots import DirectoryBots
from signal_ext.bots.runtime import BotRunner, TokenRefused
from signal_ext.bots.status import BotHealth
from signal_ext.bots.system_bot import SystemBot
from signal_ext.bots.system_token import with_directory_token
from signal_ext.channels.bot_channels import EMULATOR_BOT_BASE as EMULATOR_BOT_BASE  # tests and the page use it
from signal_ext.channels.bot_channels import EMULATOR_TOKEN as EMULATOR_TOKEN  # tests use it
from signal_ext.channels.setup import rate_limiter
from signal_ext.channels.telegram import TelegramChannel
from signal_ext.http.app import EMULATOR_PREFIX, WEBHOOK_PREFIX, create_http_app
from signal_ext.notifications.models import SYSTEM_BOT
from signal_ext.redaction import install_log_redaction
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
    health: BotHealth
    server: uvicorn.Server
    server_task: asyncio.Task[None]
    watch_task: asyncio.Task[None]  # keeps the directory's bots in line with the ``bot`` table
    system: SystemBot


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0 = any free port); a host or port that cannot be had is a ProcessError saying why."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except (OSError, OverflowError, UnicodeError) as error:
        sock.close()
        raise bind_refusal(host, port, error) from None
    sock.listen(128)
    return sock


def bind_refusal(host: str, port: int, error: Exception) -> ProcessError:
    """Why ``host`` and ``port`` could not be listened on, in Russian, naming the options that set them."""
    reason = _BIND_REASONS.get(getattr(error, "errno", None) or 0, "адрес не подходит")
    if isinstance(error, socket.gaierror):
        reason = "такого адреса нет"
    return ProcessError(f"Не удалось открыть {quoted(host)}, порт {port}: {reason} (параметры --host и --port)")


_BIND_REASONS = {
    errno.EADDRINUSE: "порт уже занят",
    errno.EACCES: "нет прав (порты до 1024 — только для root)",
    errno.EADDRNOTAVAIL: "у этой машины нет такого адреса",
}


async def start_service(settings: Settings, host: str, port: int, directory_token: bool = True) -> Running:
    """Binds the HTTP port, wires the application and starts it all. The system bot's token is the setting's, or
    its directory record's (unless ``directory_token`` is off, as for the demo); with neither, the built-in
    emulator serves every bot. A token from the record follows the record while running (as any directory bot's);
    a token from the setting or the emulator is fixed for the run."""
    in_environment = settings.telegram_token is not None
    sock = bind(host, port)  # first: a port that cannot be had is told before anything starts (or logs)
    if directory_token:
        settings = await asyncio.to_thread(with_directory_token, settings)
    url = f"http://{host}:{sock.getsockname()[1]}"
    emulator = EmulatorState() if settings.telegram_token is None else None
    if emulator is not None:
        settings = settings.model_copy(
            update={"telegram_token": SecretStr(EMULATOR_TOKEN), "telegram_api_url": url + EMULATOR_PREFIX}
        )
    app = await asyncio.to_thread(bootstrap, settings)
    health = BotHealth(app.open_session, app.clock)
    runner = BotRunner(settings.telegram_api_url, lambda: rate_limiter(settings, max_retries=3))
    runner.on_refused = health.token_refused
    http = create_http_app(app, emulator, runner)
    config = uvicorn.Config(http, log_level="warning", lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    server_task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if server_task.done():
            await server_task
        await asyncio.sleep(0.01)
    system = SystemBot(app, SYSTEM_BOT)
    from_record = directory_token and not in_environment and emulator is None
    directory = DirectoryBots(
        app,
        runner,
        emulator is not None,
        health,
        lambda name: _webhook(settings, name),
        system if from_record else None,
    )
    if not from_record:
        await _start_system_bot(app, runner, health, system)
    await directory.sync()  # the system bot too when its token is its record's
    watch_task = asyncio.create_task(directory.watch(settings.bots_reload_seconds))
    return Running(app, url, emulator, runner, health, server, server_task, watch_task, system)


async def _start_system_bot(app: App, runner: BotRunner, health: BotHealth, system: SystemBot) -> None:
    """Starts the system bot with the token of the settings; a refused token stops only this bot."""
    token = app.settings.telegram_token
    assert token is not None
    # Replies and notifications go out with one token: one limiter keeps their sum within Telegram's limits.
    channel = app.channels.get("telegram")
    shared = channel.bot.rate_limiter if isinstance(channel, TelegramChannel) else None
    secret = token.get_secret_value()
    try:
        await runner.start(SYSTEM_BOT, secret, system.on_message, system.on_press, _webhook(app.settings), shared)
    except TokenRefused:  # the other bots, the dispatcher and the HTTP server go on without it
        await health.token_refused(SYSTEM_BOT, secret)
    else:
        await health.started(SYSTEM_BOT)


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
    """Time, level and logger of every record on stderr, secrets masked; the HTTP client's line per request only
    when debugging."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_redaction()
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
    isolation = await asyncio.to_thread(lambda: running.app.algorithms.runner.isolation)
    print(f"Signal работает: {running.url}", flush=True)
    if isolation.mode is not Mode.ISOLATED:
        log.warning("Алгоритмы: %s", describe(isolation))
    if running.emulator is not None:
        print(f"Telegram — встроенный эмулятор; чат в браузере: {running.url}/emulator", flush=True)
    print(f"Алгоритмы: {describe(isolation)}", flush=True)
    if ready is not None:
        ready.set()
    try:
        await dispatch_round(running.app)
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        running.app.dispatcher.stop()  # a round in progress gives its chats back after the sends in flight
        await stop_service(running)
