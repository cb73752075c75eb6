"""The directory's bots kept running as the directory says, without a restart.

Every ``reload_seconds`` the directory is read: a new bot is started, a deleted one stopped, one whose token
changed restarted; the others are not touched. A bot's card, texts and keywords are read per message anyway.
A bot whose token Telegram refused is not tried again until its token changes (``bot update NAME --token …``).
The system bot is among them when its token is its record's (``system`` set); its notification channel then
follows the token too. With SIGNAL_TELEGRAM_TOKEN, or on the built-in emulator, its token is fixed for the run."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from signal_ext.bootstrap import App
from signal_ext.bots.directory import list_bots
from signal_ext.bots.keyword_bot import KeywordBot
from signal_ext.bots.runtime import BotRunner, TokenRefused
from signal_ext.bots.status import BotHealth
from signal_ext.bots.system_bot import SystemBot
from signal_ext.channels.bot_channels import sending_token
from signal_ext.channels.setup import telegram_channel
from signal_ext.channels.telegram import TelegramChannel
from signal_ext.notifications.models import SYSTEM_BOT

log = logging.getLogger("signal_ext.bots.directory")


@dataclass
class DirectoryBots:
    """Starts and stops the directory's bots on ``runner`` to match the ``bot`` table."""

    app: App
    runner: BotRunner
    on_emulator: bool
    health: BotHealth
    webhook: Callable[[str], tuple[str, str] | None] = lambda _name: None
    system: SystemBot | None = None  # set: the system bot runs with its record's token, kept in line here too
    started: dict[str, str] = field(default_factory=dict)  # bot name → the token it runs with

    def wanted(self) -> dict[str, str]:
        """Bot name → token of every bot that should run now."""
        with self.app.read_session() as session:
            found = list_bots(session)
        bots = [(bot.name, sending_token(bot, self.on_emulator)) for bot in found if not bot.is_system]
        wanted: dict[str, str] = {}
        system_tokens = [bot.token for bot in found if bot.is_system and bot.token]
        if self.system is not None and system_tokens:
            wanted[SYSTEM_BOT] = system_tokens[0]
        for name, token in bots:
            if token is None:
                if name not in self.started:
                    log.warning("bot %s has no token and the emulator is off: not started", name)
                continue
            wanted[name] = token
        return wanted

    async def sync(self) -> None:
        """Brings the running bots in line with the directory; one bot's failure does not stop the others."""
        wanted = await asyncio.to_thread(self.wanted)
        for name, token in list(self.started.items()):
            if wanted.get(name) != token:
                await self._stop(name)
        for name, token in wanted.items():
            if name not in self.started and not self.health.is_refused(name, token):
                await self._start(name, token)

    async def watch(self, every_seconds: float) -> None:
        """Syncs every ``every_seconds`` until cancelled."""
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await self.sync()
            except Exception:  # a database hiccup must not end the watching
                log.exception("reading the bots directory failed")

    async def _start(self, name: str, token: str) -> None:
        if name == SYSTEM_BOT and self.system is not None:
            handlers: SystemBot | KeywordBot = self.system
            channel: TelegramChannel | None = await self._system_channel(token)
        else:
            handlers = KeywordBot(self.app, name)
            channel = await asyncio.to_thread(self.app.bot_channels.get, name)
        # Replies and the outbox's messages of this bot share one limiter: one token, one set of Telegram limits.
        shared = channel.bot.rate_limiter if channel is not None else None
        try:
            await self.runner.start(name, token, handlers.on_message, handlers.on_press, self.webhook(name), shared)
        except TokenRefused:
            await self.health.token_refused(name, token)
            return
        except Exception:  # one bot's failure must not keep the others from running
            log.exception("bot %s did not start", name)
            return
        self.started[name] = token
        await self.health.started(name)

    async def _system_channel(self, token: str) -> TelegramChannel:
        """The notification channel of the system bot, made anew when its token changed."""
        current = self.app.channels.get("telegram")
        if isinstance(current, TelegramChannel) and current.bot.token == token:
            return current
        channel = telegram_channel(self.app.settings, token)
        self.app.channels.register(channel)
        if isinstance(current, TelegramChannel):
            await current.close()
        return channel

    async def _stop(self, name: str) -> None:
        del self.started[name]
        await self.runner.stop(name)
        log.info("bot %s stopped", name)
