"""The Telegram channel: python-telegram-bot's bot, HTML parse mode, Telegram's limits kept before sending."""

from __future__ import annotations

import functools
import logging
import warnings
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, ExtBot

from signal_ext.channels.aiohttp_request import AiohttpRequest
from signal_ext.channels.base import DeliveryResult, OutgoingMessage
from signal_ext.channels.telegram_html import plain_text, split_html

CHAT_BURST = 3
TOKEN_REFUSED = "Telegram отклонил токен бота (401): проверьте токен у @BotFather"
TOKEN_REFUSED_RETRY_SECONDS = 300.0
"""How often a message of a bot whose token Telegram refused is tried again (until ``bot update --token``)."""
POOL_SIZE = 8


class _RetryAfterHandledHere(logging.Filter):
    """PTB's limiter logs a 429 it passes on with a traceback; the dispatcher records and reschedules it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "after maximum of 0 retries" not in record.getMessage()


logging.getLogger("telegram.ext.AIORateLimiter").addFilter(_RetryAfterHandledHere())


class ChatRateLimiter(AIORateLimiter):
    """PTB's limiter (overall and per-group rates) plus a per-private-chat rate: about 1 message/s after a burst
    of three, as Telegram tolerates."""

    def __init__(
        self, overall_per_second: float, chat_per_second: float, group_per_minute: float, max_retries: int = 0
    ) -> None:
        super().__init__(  # one slot every 1/rate seconds: no burst can exceed Telegram's per-second window
            overall_max_rate=1,
            overall_time_period=1 / overall_per_second,
            group_max_rate=group_per_minute,
            group_time_period=60,
            max_retries=max_retries,
        )
        self._chat_rate = chat_per_second
        self._chats: dict[int, AsyncLimiter] = {}

    async def process_request(
        self, callback: Any, args: Any, kwargs: Any, endpoint: str, data: dict[str, Any], rate_limit_args: Any
    ) -> Any:
        """Waits for the chat's own slot, then for PTB's overall and group slots."""
        chat_id = data.get("chat_id")
        if self._chat_rate and chat_id is not None and str(chat_id).lstrip("-").isdigit() and int(chat_id) > 0:
            burst = CHAT_BURST  # Telegram tolerates a short burst in a chat; the sustained rate is the limit
            limiter = self._chats.setdefault(int(chat_id), AsyncLimiter(burst, burst / self._chat_rate))
            async with limiter:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)


class TelegramChannel:
    """Sends messages of one bot; ``api_url`` may point at a self-hosted Bot API server or the emulator."""

    name = "telegram"

    def __init__(
        self,
        token: str,
        api_url: str = "https://api.telegram.org",
        limiter: AIORateLimiter | None = None,
        timeout_seconds: float = 20.0,
    ) -> None:
        request = AiohttpRequest(
            POOL_SIZE,
            read_timeout=timeout_seconds,
            connect_timeout=timeout_seconds,
            media_write_timeout=timeout_seconds,
        )
        base = api_url.rstrip("/")
        self.bot: ExtBot[Any] = ExtBot(
            token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot", request=request, rate_limiter=limiter
        )
        self._ready = False

    async def close(self) -> None:
        """Releases the HTTP connections (opened even when getMe then failed, as on a refused token)."""
        await self.bot.shutdown()
        self._ready = False

    def parts(self, message: OutgoingMessage) -> int:
        """The text's pieces (a text over 4096 characters is split), then one part per attachment."""
        return len(_pieces(message.body)) + len(message.attachments)

    async def send_part(self, message: OutgoingMessage, part: int) -> DeliveryResult:
        """Sends one piece of the text (the buttons go under the last one) or one attachment; the message id
        Telegram gave it is the result's ``external_id``."""
        try:
            if not self._ready:
                await self.bot.initialize()
                self._ready = True
            pieces = _pieces(message.body)
            if part < len(pieces):
                sent = await self._send_piece(message, pieces[part], last=part == len(pieces) - 1)
            else:
                attachment = message.attachments[part - len(pieces)]
                sent = await self.bot.send_document(
                    chat_id=message.address, document=attachment.content, filename=attachment.filename
                )
        except RetryAfter as error:
            wait = _seconds(error)
            return DeliveryResult.retry(f"Telegram: слишком часто, повтор через {wait:g} с", wait)
        except (TimedOut, NetworkError) as error:
            if isinstance(error, BadRequest):
                return DeliveryResult.failed(f"Telegram: {error.message}")
            return DeliveryResult.retry(f"Telegram недоступен: {error.message}")
        except InvalidToken:  # python-telegram-bot's words quote the token: say what happened instead
            # not the message's fault: it waits (spending no attempt) until the bot's token is corrected
            return DeliveryResult.retry(TOKEN_REFUSED, TOKEN_REFUSED_RETRY_SECONDS)
        except Forbidden as error:
            return DeliveryResult.failed(f"Telegram: {error.message}")
        except TelegramError as error:
            return DeliveryResult.failed(f"Telegram: {error.message}")
        return DeliveryResult.sent(str(sent.message_id))

    async def _send_piece(self, message: OutgoingMessage, piece: str, last: bool) -> Message:
        buttons = _keyboard(message) if last else None
        try:
            return await self.bot.send_message(
                chat_id=message.address, text=piece, parse_mode=ParseMode.HTML, reply_markup=buttons
            )
        except BadRequest as error:
            if "can't parse entities" not in error.message.lower():
                raise
            return await self.bot.send_message(chat_id=message.address, text=plain_text(piece), reply_markup=buttons)


@functools.lru_cache(maxsize=64)
def _pieces(body: str) -> tuple[str, ...]:
    """The pieces a text is sent in (asked for once to count the parts, then once per part)."""
    return tuple(split_html(body))


def _keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.text, callback_data=b.data) for b in message.buttons]])


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the type will become timedelta; both are handled
        warnings.simplefilter("ignore")
        retry_after = error.retry_after
    return float(retry_after.total_seconds()) if hasattr(retry_after, "total_seconds") else float(retry_after)
