"""A bot of the directory as the chat-bot constructor makes it: keywords, algorithms and code mode.

What it answers is :mod:`signal_ext.bots.keyword_replies` (run in a worker thread: algorithms block); this module
receives the updates, answers every button press's callback query and sends the replies, falling back to plain
text when Telegram refuses the HTML of a designer's text."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Callable
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from signal_ext.bootstrap import App
from signal_ext.bots.auth_gate import SharedContact
from signal_ext.bots.conversation import Conversation
from signal_ext.bots.keyword_replies import KeywordChat
from signal_ext.bots.keyword_state import BotReply, TreeCache

log = logging.getLogger("signal_ext.bots.keywords")
RETRIES = 10
"""How often a reply is re-sent after Telegram's 429 (the limiter waits ``retry_after`` in between): a 429 says
«later», not «never», so a reply is given up only after a sustained refusal."""
MAX_TEXT = 4096  # Telegram's limit of one message
_TAG = re.compile(r"<[^>]*>")


class KeywordBot:
    """Handles the updates of one constructor bot of the directory (every chat; one chat's updates in order)."""

    def __init__(self, app: App, name: str) -> None:
        self.app = app
        self.name = name
        self.trees = TreeCache()

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A text from a chat: answered in the order docs/keywords.md gives (see :class:`KeywordChat`)."""
        message, chat, user = update.effective_message, update.effective_chat, update.effective_user
        if message is None or chat is None:
            return
        applicant = user.full_name if user is not None else ""
        if message.contact is not None:
            shared = SharedContact(
                message.contact.phone_number, user is not None and message.contact.user_id == user.id
            )
            replies = await asyncio.to_thread(self._safely, lambda c: c.answer_contact(shared, applicant), str(chat.id))
        elif message.text is not None:
            text = message.text
            replies = await asyncio.to_thread(self._safely, lambda c: c.answer_text(text, applicant), str(chat.id))
        else:
            return
        await self._send(context, chat.id, replies)

    async def on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A press on an inline button: its data are checked against the chat's stored state, never trusted."""
        query, chat = update.callback_query, update.effective_chat
        if query is None:
            return
        if chat is None:
            await query.answer()
            return
        applicant = update.effective_user.full_name if update.effective_user is not None else ""
        data = query.data or ""
        replies = await asyncio.to_thread(self._safely, lambda c: c.answer_press(data, applicant), str(chat.id))
        await query.answer()
        await self._send(context, chat.id, replies)

    def _safely(self, answer: Callable[[KeywordChat], list[BotReply]], chat_id: str) -> list[BotReply]:
        """The answer, or the bot's error text when something unexpected broke (the log gets the traceback)."""
        try:
            return answer(KeywordChat(self.app, self.name, chat_id, self.trees))
        except Exception:
            log.exception("bot %s, chat %s: answering failed", self.name, chat_id)
            return [BotReply(Conversation.error_text(self.app, self.name))]

    async def _send(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, replies: list[BotReply]) -> None:
        bot: Any = context.bot  # its limiter takes the retry count as rate_limit_args; DEFAULT_TYPE says None
        retries = RETRIES if bot.rate_limiter is not None else None
        for reply in replies:
            markup = _markup(reply)
            text = reply.text if reply.text.strip() else "…"
            try:
                if len(text) > MAX_TEXT:
                    raise BadRequest("Message is too long")
                await bot.send_message(chat_id, text, parse_mode="HTML", reply_markup=markup, rate_limit_args=retries)
            except BadRequest as error:
                reason = str(error).lower()
                if "entit" not in reason and "too long" not in reason:
                    raise
                log.warning("bot %s: reply sent as plain text (%s)", self.name, error)
                plain = html.unescape(_TAG.sub("", text))[: MAX_TEXT - 1]
                await bot.send_message(chat_id, plain or "…", reply_markup=markup, rate_limit_args=retries)


def _markup(reply: BotReply) -> Any:
    """Inline buttons, the reply keyboard (a button may share the contact), its removal, or nothing."""
    if reply.buttons:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(label[:128], callback_data=data)] for label, data in reply.buttons]
        )
    if reply.keyboard:
        keys = [[KeyboardButton(label, request_contact=contact or None)] for label, contact in reply.keyboard]
        return ReplyKeyboardMarkup(keys, resize_keyboard=True)
    return ReplyKeyboardRemove() if reply.remove_keyboard else None
