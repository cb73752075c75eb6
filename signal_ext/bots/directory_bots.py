"""The directory's bots (all but the system bot) kept running as the directory says, without a restart.

Every ``reload_seconds`` the directory is read: a new bot is started, a deleted one stopped, one whose token
changed restarted; the others are not touched. A bot's card, texts and keywords are read per message anyway.
A bot whose token Telegram refused is not tried again until its token changes (``bot update NAME --token …``)."""

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
from signal_ext.channels.bot_channels import sending_token

log = logging.getLogger("signal_ext.bots.directory")


@dataclass
class DirectoryBots:
    """Starts and stops the directory's bots on ``runner`` to match the ``bot`` table."""

    app: App
    runner: BotRunner
    on_emulator: bool
    health: BotHealth
    webhook: Callable[[str], tuple[str, str] | None] = lambda _name: None
    started: dict[str, str] = field(default_factory=dict)  # bot name → the token it runs with

    def wanted(self) -> dict[str, str]:
        """Bot name → token of every bot that should run now."""
        with self.app.read_session() as session:
            bots = [(bot.name, sending_token(bot, self.on_emulator)) for bot in list_bots(session) if not bot.is_system]
        wanted: dict[str, str] = {}
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
        handlers = KeywordBot(self.app, name)
        # Replies and the outbox's messages of this bot share one limiter: one token, one set of Telegram limits.
        channel = await asyncio.to_thread(self.app.bot_channels.get, name)
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

    async def _stop(self, name: str) -> None:
        del self.started[name]
        await self.runner.stop(name)
        log.info("bot %s stopped", name)
