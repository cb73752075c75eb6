"""Builds the channel registry from the settings: the one place that knows every channel module."""

from __future__ import annotations

from signal_ext.channels.email import EmailChannel, SmtpConfig
from signal_ext.channels.inbox import InboxChannel
from signal_ext.channels.registry import ChannelRegistry
from signal_ext.channels.telegram import ChatRateLimiter, TelegramChannel
from signal_ext.settings import Settings


def build_channels(settings: Settings) -> ChannelRegistry:
    """Inbox and e-mail always; Telegram when the system bot's token is set."""
    registry = ChannelRegistry([InboxChannel(), EmailChannel(SmtpConfig.from_settings(settings))])
    if settings.telegram_token is not None:
        registry.register(telegram_channel(settings, settings.telegram_token.get_secret_value()))
    return registry


def telegram_channel(settings: Settings, token: str) -> TelegramChannel:
    """A Telegram channel for ``token`` with the configured API server and rate limits."""
    # the dispatcher reschedules a 429 itself; the bot's replies sharing the limiter wait in line
    return TelegramChannel(token, settings.telegram_api_url, rate_limiter(settings, max_retries=0))


def rate_limiter(settings: Settings, max_retries: int) -> ChatRateLimiter | None:
    """The client-side limiter that keeps a token within Telegram's limits; None when the overall rate is set
    to 0 (a Bot API server that does not limit, such as the emulator with its limits off)."""
    if settings.telegram_rate_per_second <= 0:
        return None
    return ChatRateLimiter(
        settings.telegram_rate_per_second,
        settings.telegram_chat_rate_per_second,
        settings.telegram_group_rate_per_minute,
        max_retries=max_retries,
    )
