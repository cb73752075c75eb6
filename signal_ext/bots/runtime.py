"""Running bots: one python-telegram-bot ``Application`` per bot, long polling its Bot API server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
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
    running: dict[str, Application[Any, Any, Any, Any, Any, Any]] = field(default_factory=dict)

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
        shares Telegram's limits with another sender of the same token (the notification channel)."""
        base = self.api_url.rstrip("/")
        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
            .concurrent_updates(PerChatUpdateProcessor(64))
            .request(AiohttpRequest(POOL_SIZE))
            .get_updates_request(AiohttpRequest(1))
        )
        chosen = limiter or self.limiter()
        application = builder.build() if chosen is None else builder.rate_limiter(chosen).build()
        application.add_handler(MessageHandler(filters.ALL & ~filters.UpdateType.EDITED, on_message))
        application.add_handler(CallbackQueryHandler(on_press))
        application.add_error_handler(_log_error)
        await application.initialize()
        await application.start()
        if webhook is not None:
            url, secret = webhook
            await application.bot.set_webhook(url=url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
        else:
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0.0, timeout=10, drop_pending_updates=False)
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
            await application.updater.stop()
        await application.stop()
        await application.shutdown()

    async def stop_all(self) -> None:
        """Stops every bot, letting the updates in hand finish."""
        for name in list(self.running):
            await self.stop(name)


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
