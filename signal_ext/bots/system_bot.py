"""The system bot: commands, the task menu, and the dialogs of «Мои задачи» / «Новая задача» / «Новый процесс».

Incoming order: the lifecycle gate (a blocked chat gets only its text; a deleted person's chat is told once) →
an open dialog step (unless the text is a command, which cancels it) → commands → the authorization gate → the
unknown-request answer. Every text comes from the bot's texts table."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import ContextTypes

from processes.errors import ProcessError
from signal_ext.bootstrap import App
from signal_ext.bots.auth_gate import SharedContact
from signal_ext.bots.commands import Command, command_of, pause_command_of
from signal_ext.bots.conversation import Conversation, Reply
from signal_ext.bots.dialogs import end_dialog
from signal_ext.bots.texts_cache import TextsCache

log = logging.getLogger("signal_ext.bots.system")
RETRIES = 10
DATABASE_THREADS = 2
"""Threads answering updates: one may wait on the database while the other works; more only contend for the GIL
(bench/bot.py, 600 users: 6 threads ~213 updates/s, 2 threads ~237)."""
"""How often a reply is re-sent after Telegram's 429 (the limiter waits ``retry_after`` in between): a 429 says
«later», not «never», so a reply is given up only after a sustained refusal."""


class SystemBot:
    """Handles the updates of one bot with the task menu."""

    def __init__(self, app: App, name: str) -> None:
        self.app = app
        self.name = name
        self.texts = TextsCache(app.read_session)
        self._threads = ThreadPoolExecutor(DATABASE_THREADS, thread_name_prefix=f"bot-{name}")

    def close(self) -> None:
        """Lets the bot's database threads go (after its application stopped)."""
        self._threads.shutdown(wait=True)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message from a chat: dialog step, command, shared contact, or unknown request."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        applicant = update.effective_user.full_name if update.effective_user is not None else ""
        if message.contact is not None:
            own = update.effective_user is not None and message.contact.user_id == update.effective_user.id
            shared = SharedContact(message.contact.phone_number, own)
            replies = await self._in_thread(partial(self._answer_contact, shared, applicant), str(chat.id), "")
        elif message.text is not None:
            replies = await self._in_thread(partial(self._answer_text, applicant=applicant), str(chat.id), message.text)
        else:
            return
        await self._send(context, chat.id, replies)

    async def on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A press on an inline button: the payload is checked against the chat's own tasks, never trusted."""
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None:
            return
        applicant = update.effective_user.full_name if update.effective_user is not None else ""
        replies = await self._in_thread(
            partial(self._answer_press, applicant=applicant), str(chat.id), query.data or ""
        )
        await query.answer()
        await self._send(context, chat.id, replies)

    async def _in_thread(self, answer: Callable[[str, str], list[Reply]], chat_id: str, text: str) -> list[Reply]:
        """The answer, worked out in one of the bot's database threads (the event loop never waits on SQL)."""
        return await asyncio.get_running_loop().run_in_executor(self._threads, self._safely, answer, chat_id, text)

    def _safely(self, answer: Callable[[str, str], list[Reply]], chat_id: str, text: str) -> list[Reply]:
        """The answer, or the bot's error text when something unexpected broke (the log gets the traceback)."""
        try:
            return answer(chat_id, text)
        except Exception:
            log.exception("bot %s, chat %s: answering %r failed", self.name, chat_id, text[:100])
            return [Reply(Conversation.error_text(self.app, self.name))]

    def _answer_text(self, chat_id: str, text: str, applicant: str = "") -> list[Reply]:
        conversation = Conversation(self.app, self.name, chat_id, self.texts)
        first, whole = conversation.lifecycle_gate()
        return first if whole else first + self._answer(conversation, chat_id, text, applicant)

    def _answer_contact(self, shared: SharedContact, applicant: str, chat_id: str, _text: str) -> list[Reply]:
        conversation = Conversation(self.app, self.name, chat_id, self.texts)
        first, whole = conversation.lifecycle_gate()
        if whole:
            return first
        if conversation.gate_on():
            return first + conversation.gated_contact(shared, applicant)
        return [*first, conversation.unknown()]

    def _answer(self, conversation: Conversation, chat_id: str, text: str, applicant: str) -> list[Reply]:
        label = conversation.menu_command(text)
        found = (label, "") if label is not None else command_of(text) or pause_command_of(text)
        try:
            invite = found is not None and found[0] is Command.START and bool(found[1])
            if not invite and conversation.gate_on():  # an invite link still links the chat that opens it
                return conversation.gated_text(text, found[0] if found else None, applicant)
            if found is None:
                if conversation.step is not None:
                    return conversation.continue_dialog(conversation.step, text)
                return [conversation.unknown()]
            if conversation.step is not None:
                with self.app.open_session() as session:
                    end_dialog(session, self.name, chat_id)  # a command typed during a dialog cancels it
                    session.commit()
            return self._command(conversation, *found)
        except ProcessError as error:
            return [Reply(html.escape(error.message))]

    def _command(self, conversation: Conversation, command: Command, argument: str) -> list[Reply]:
        if command is Command.START:
            return conversation.start(argument)
        if command is Command.MY_KEY:
            return [conversation.my_key()]
        if conversation.person is None:
            return [conversation.not_authorized()]
        if command is Command.MENU:
            return [conversation.menu_shown()]
        if command is Command.NO_MENU:
            return [conversation.menu_removed()]
        if command is Command.MY_TASKS:
            return conversation.my_tasks()
        if command is Command.NEW_TASK:
            return conversation.new_task()
        if command is Command.PAUSE:
            return conversation.pause(argument)
        if command is Command.RESUME:
            return conversation.resume()
        return conversation.new_process()

    def _answer_press(self, chat_id: str, data: str, applicant: str = "") -> list[Reply]:
        conversation = Conversation(self.app, self.name, chat_id, self.texts)
        first, whole = conversation.lifecycle_gate()
        try:
            if not whole and conversation.gate_on():
                return first + conversation.gated_press(data, applicant)
            return first if whole else first + conversation.press(data)
        except ProcessError as error:
            return [Reply(html.escape(error.message))]

    async def _send(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, replies: list[Reply]) -> None:
        bot: Any = context.bot  # its limiter takes the retry count (an int) as rate_limit_args; DEFAULT_TYPE says None
        retries = RETRIES if bot.rate_limiter is not None else None
        for reply in replies:
            markup: Any = None
            if reply.menu is True:
                labels = [[KeyboardButton(label)] for label in reply.menu_labels]
                markup = ReplyKeyboardMarkup(labels, resize_keyboard=True)
            elif reply.menu is False:
                markup = ReplyKeyboardRemove()
            elif reply.keyboard:
                keys = [[KeyboardButton(label, request_contact=contact or None)] for label, contact in reply.keyboard]
                markup = ReplyKeyboardMarkup(keys, resize_keyboard=True)
            elif reply.buttons:
                rows = [
                    [InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in reply.buttons
                ]
                markup = InlineKeyboardMarkup(rows)
            if reply.document is not None:
                name, content = reply.document
                await bot.send_document(chat_id, document=content, filename=name, rate_limit_args=retries)
                continue
            await bot.send_message(chat_id, reply.text, parse_mode="HTML", reply_markup=markup, rate_limit_args=retries)
