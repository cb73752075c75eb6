"""A bot of the directory without the task menu: greets on /start and gives its unknown-request answer.

The keyword directory and algorithms (the chat-bot constructor) build on this."""

from __future__ import annotations

import asyncio
import html

from telegram import Update
from telegram.ext import ContextTypes

from signal_ext.bootstrap import App
from signal_ext.bots.commands import Command, command_of
from signal_ext.bots.directory import find_bot, texts_of


class PlainBot:
    """Answers one bot's chats from its texts table."""

    def __init__(self, app: App, name: str) -> None:
        self.app = app
        self.name = name

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start gets the greeting with the bot's description; anything else the unknown-request answer."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or message.text is None:
            return
        text = await asyncio.to_thread(self._answer, message.text)
        await context.bot.send_message(chat.id, text, parse_mode="HTML")

    async def on_press(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """This bot offers no buttons yet; a press is acknowledged and ignored."""
        if update.callback_query is not None:
            await update.callback_query.answer()

    def _answer(self, text: str) -> str:
        with self.app.read_session() as session:
            bot = find_bot(session, self.name)
            texts = texts_of(session, bot)
            description = bot.description
        found = command_of(text)
        if found is not None and found[0] is Command.START:
            return texts.get("start", bot=html.escape(self.name), description=html.escape(description))
        return texts.get("unknown_request")
