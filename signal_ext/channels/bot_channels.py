"""Telegram channels of the directory's bots: an outbox row with ``bot`` set goes out with that bot's token.

The system bot's channel is the registry's ``telegram``; any other bot gets its channel here on first use, made
from its directory record: its token, or — when the service runs on the built-in emulator — the emulator token it
polls with. A channel is remade when its bot's token changes."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, select

from signal_ext.bots.models import Bot
from signal_ext.channels.setup import rate_limiter
from signal_ext.channels.telegram import TelegramChannel
from signal_ext.settings import Settings

EMULATOR_TOKEN = "100000:signal-system-bot-on-the-built-in-emulator"
"""The system bot's token on the built-in emulator (``signal-ext run`` without SIGNAL_TELEGRAM_TOKEN)."""
EMULATOR_BOT_BASE = 200000
"""A directory bot without a token runs on the emulator as bot id EMULATOR_BOT_BASE + its record id."""


def emulator_token(bot_id: int) -> str:
    """The token a directory bot without its own token uses on the built-in emulator."""
    return f"{EMULATOR_BOT_BASE + bot_id}:signal-emulator-bot"


def sending_token(bot: Bot, emulator: bool) -> str | None:
    """The token directory bot ``bot`` talks to Telegram with: its own, or its emulator token when the service runs on
    the built-in emulator; None when it has neither."""
    if bot.token:
        return bot.token
    return emulator_token(bot.id or 0) if emulator else None


def on_emulator(settings: Settings) -> bool:
    """Whether the service talks to the built-in emulator (it then sets the emulator's system token)."""
    token = settings.telegram_token
    return token is not None and token.get_secret_value() == EMULATOR_TOKEN


class BotChannels:
    """Channels by bot name, made from the bots directory."""

    def __init__(self, settings: Settings, read_session: Callable[[], Session]) -> None:
        self._settings = settings
        self._read_session = read_session
        self._made: dict[str, tuple[str, TelegramChannel]] = {}
        self._retired: list[TelegramChannel] = []

    def token_of(self, bot_name: str) -> str | None:
        """The token bot ``bot_name`` sends with now (None: no such bot, or no token and no emulator)."""
        with self._read_session() as session:
            bot = session.exec(select(Bot).where(Bot.name == bot_name)).first()
        return None if bot is None else sending_token(bot, on_emulator(self._settings))

    def get(self, bot_name: str) -> TelegramChannel | None:
        """The channel of bot ``bot_name`` (blocking: reads the directory); None when it cannot send."""
        token = self.token_of(bot_name)
        if token is None:
            return None
        made = self._made.get(bot_name)
        if made is not None and made[0] == token:
            return made[1]
        if made is not None:
            self._retired.append(made[1])
        channel = TelegramChannel(token, self._settings.telegram_api_url, rate_limiter(self._settings, max_retries=0))
        self._made[bot_name] = (token, channel)
        return channel

    async def aclose(self) -> None:
        """Releases every channel's connections."""
        for channel in [*self._retired, *(made[1] for made in self._made.values())]:
            await channel.close()
        self._made.clear()
        self._retired.clear()
