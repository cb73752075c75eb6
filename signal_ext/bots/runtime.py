"""Running bots: one python-telegram-bot ``Application`` per bot, long polling its Bot API server.

A bot whose token Telegram refuses (401, on start or later) is stopped alone: :meth:`BotRunner.start` raises
:class:`TokenRefused`, and a refusal while it runs stops it and calls ``on_refused``; the other bots go on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from signal_ext.channels.aiohttp_request import AiohttpRequest

log = logging.getLogger("signal_ext.bots")

POOL_SIZE = 8  # httpcore checks every pooled connection on each request; 8 keep up with 64 updates in hand
UpdateHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
BotApplication = Application[Any, Any, Any, Any, Any, Any]


class TokenRefused(Exception):
    """Telegram refused the token of bot ``name`` (401); the token is not in the error."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Telegram refused the token of bot {name}")
        self.name = name


class _RefusalReportedHere(logging.Filter):
    """A refused token ends polling, the last getUpdates of the stop and the replies in hand, each logged with a
    traceback by PTB or asyncio; the service reports the refusal itself, in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        refused = isinstance(record.exc_info, tuple) and isinstance(record.exc_info[1], InvalidToken)  # may be False
        return not refused and "Invalid token" not in str(record.msg)


for _logger in ("telegram.ext", "telegram.ext.Updater", "asyncio"):
    logging.getLogger(_logger).addFilter(_RefusalReportedHere())


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Chats are served concurrently, but one chat's updates one after another, in the order they came."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock, users = self._locks.get(chat.id, (asyncio.Lock(), 0))
        self._locks[chat.id] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._locks[chat.id]
            if users == 1:
                del self._locks[chat.id]
            else:
                self._locks[chat.id] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


@dataclass
class BotRunner:
    """Starts and stops the bots' applications; a bot's failure to start does not stop the others."""

    api_url: str
    limiter: Callable[[], AIORateLimiter | None] = field(default=lambda: AIORateLimiter(max_retries=3))
    """Makes each bot's limiter: Telegram's limits are kept before its replies are sent (None: no limits)."""
    running: dict[str, BotApplication] = field(default_factory=dict)
    on_refused: Callable[[str, str], Awaitable[None]] | None = None
    """Called with (name, token) once a running bot was stopped because Telegram refused its token."""
    _refusing: set[str] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(
        self,
        name: str,
        token: str,
        on_message: UpdateHandler,
        on_press: UpdateHandler,
        webhook: tuple[str, str] | None = None,
        limiter: BaseRateLimiter[Any] | None = None,
    ) -> None:
        """Starts bot ``name``: long polling, or with ``webhook`` (url, secret) Telegram posts the updates to the
        service (see :meth:`feed`). Messages go to ``on_message``, button presses to ``on_press``. ``limiter``
        shares Telegram's limits with another sender of the same token (the notification channel).
        Raises :class:`TokenRefused` when Telegram refuses the token; nothing of the bot is left running then."""
        base = self.api_url.rstrip("/")

        def refused() -> None:
            self._refused_while_running(name, token)

        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
            .concurrent_updates(PerChatUpdateProcessor(64))
            .request(AiohttpRequest(POOL_SIZE, on_unauthorized=refused))
            .get_updates_request(AiohttpRequest(1, on_unauthorized=refused))
        )
        chosen = limiter or self.limiter()
        application = builder.build() if chosen is None else builder.rate_limiter(chosen).build()
        application.add_handler(MessageHandler(filters.ALL & ~filters.UpdateType.EDITED, on_message))
        application.add_handler(CallbackQueryHandler(on_press))
        application.add_error_handler(_log_error)
        try:
            await _run(application, webhook)
        except InvalidToken:  # its words quote the token: not chained, not logged
            await _discard(application)
            raise TokenRefused(name) from None
        self.running[name] = application
        log.info("bot %s started (@%s)", name, application.bot.username)

    async def feed(self, name: str, payload: dict[str, Any]) -> bool:
        """Queues an update that arrived by webhook for bot ``name``; False when no such bot runs."""
        application = self.running.get(name)
        if application is None:
            return False
        await application.update_queue.put(Update.de_json(payload, application.bot))
        return True

    async def stop(self, name: str) -> None:
        """Stops bot ``name`` (if it runs), letting the updates in hand finish."""
        application = self.running.pop(name, None)
        if application is None:
            return
        if application.updater is not None and application.updater.running:
            with contextlib.suppress(TelegramError):  # a refused bot's polling ended with Telegram's refusal
                await application.updater.stop()
        await application.stop()
        await application.shutdown()

    async def stop_all(self) -> None:
        """Stops every bot, letting the updates in hand finish."""
        for name in list(self.running):
            await self.stop(name)

    def _refused_while_running(self, name: str, token: str) -> None:
        """A 401 to a request of bot ``name``: stops it (once) in its own task, unless it is not running yet (a
        refusal on start is :meth:`start`'s) or already runs with another token."""
        application = self.running.get(name)
        if application is None or application.bot.token != token or name in self._refusing:
            return
        self._refusing.add(name)
        task = asyncio.get_running_loop().create_task(self._stop_refused(name, token))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _stop_refused(self, name: str, token: str) -> None:
        try:
            await self.stop(name)
        finally:
            self._refusing.discard(name)
        if self.on_refused is not None:
            await self.on_refused(name, token)


async def _run(application: BotApplication, webhook: tuple[str, str] | None) -> None:
    """Initializes and starts ``application``: getMe, then the webhook or long polling."""
    await application.initialize()
    await application.start()
    if webhook is not None:
        url, secret = webhook
        await application.bot.set_webhook(url=url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
    else:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=10, drop_pending_updates=False)


async def _discard(application: BotApplication) -> None:
    """Releases what a failed start opened (connections, a started application)."""
    with contextlib.suppress(Exception):
        if application.running:
            await application.stop()
        await application.shutdown()
    with contextlib.suppress(Exception):
        await application.bot.shutdown()  # an application whose getMe failed is not initialized: its bot's pool is


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    if isinstance(context.error, InvalidToken):  # the runner stops the bot and reports it once
        return
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
