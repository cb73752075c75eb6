"""Simulated Telegram users for the end-to-end bot tests: they write, press buttons and share contacts through the
emulator, then wait for what the bot sends back."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from signal_ext.run import EMULATOR_TOKEN, Running
from signal_ext.service import dispatch_round
from signal_ext.telegram_emulator import EmulatorState

SYSTEM_BOT_ID = int(EMULATOR_TOKEN.split(":")[0])
WAIT_S = 10.0


class SystemChat:
    """A user of the system bot; every message of the chat counts, and the calls return the new ones as a list."""

    def __init__(self, state: EmulatorState, chat_id: int) -> None:
        self.state, self.chat_id = state, chat_id

    def seen(self) -> list[Any]:
        return self.state.messages(self.chat_id)

    async def say(self, text: str, expect: int = 1) -> list[Any]:
        before = len(self.seen())
        self.state.push_user_message(self.chat_id, text, bot=SYSTEM_BOT_ID)
        return await self.arrived(before, expect)

    async def press(self, message: Any, label: str, expect: int = 1) -> list[Any]:
        """Presses the inline button whose label contains ``label``."""
        before = len(self.seen())
        [data] = [
            b["callback_data"] for row in message.reply_markup["inline_keyboard"] for b in row if label in b["text"]
        ]
        self.state.push_callback(self.chat_id, message.message_id, data, bot=SYSTEM_BOT_ID)
        return await self.arrived(before, expect)

    async def arrived(self, before: int, expect: int = 1, settle_s: float = 0.05) -> list[Any]:
        """The messages after the first ``before``, once there are ``expect`` of them (and ``settle_s`` passed)."""
        deadline = time.monotonic() + WAIT_S
        while len(self.seen()) < before + expect:
            if time.monotonic() > deadline:
                raise AssertionError(f"no reply; chat has {[m.text for m in self.seen()]}")
            await asyncio.sleep(0.02)
        await asyncio.sleep(settle_s)
        return self.seen()[before:]


class BotChat:
    """A user of one bot (by its id on the emulator); the calls return the bot's one new message."""

    def __init__(self, state: EmulatorState, chat_id: int, bot_id: int) -> None:
        self.state, self.chat_id, self.bot_id = state, chat_id, bot_id

    def seen(self) -> list[Any]:
        return self.state.messages(self.chat_id, bot_id=self.bot_id)

    async def say(self, text: str) -> Any:
        before = len(self.seen())
        self.state.push_user_message(self.chat_id, text, bot=self.bot_id)
        return await self.reply(before)

    async def press(self, message: Any, label: str) -> Any:
        """Presses the inline button labelled exactly ``label``."""
        [data] = [
            b["callback_data"] for row in message.reply_markup["inline_keyboard"] for b in row if b["text"] == label
        ]
        return await self.press_data(message, data)

    async def press_data(self, message: Any, data: str) -> Any:
        """Presses a button with ``data``; data the message does not carry are forged first (a modified client)."""
        with self.state.lock:
            stored = self.state.store.find(self.bot_id, self.chat_id, message.message_id)
            assert stored is not None
            rows = list((stored.reply_markup or {}).get("inline_keyboard", []))
            if all(b["callback_data"] != data for row in rows for b in row):
                self.state.store.edit(
                    stored, reply_markup={"inline_keyboard": [*rows, [{"text": "?", "callback_data": data}]]}
                )
        before = len(self.seen())
        query_id = self.state.push_callback(self.chat_id, message.message_id, data, bot=self.bot_id)
        reply = await self.reply(before)
        assert self.state.callbacks[query_id]["answer"] is not None  # every press is answered
        return reply

    async def share(self, phone: str, own: bool = True) -> Any:
        """Shares a contact: the user's own number, or someone else's card."""
        before = len(self.seen())
        owner = self.chat_id if own else self.chat_id + 1
        self.state.push_contact(self.chat_id, phone, "Я", contact_user_id=owner, bot=self.bot_id)
        return await self.reply(before)

    async def delivered(self, running: Running) -> Any:
        """What the outbox brought this chat (a dispatch round runs first)."""
        before = len(self.seen())
        await dispatch_round(running.app)
        return await self.reply(before)

    async def reply(self, before: int) -> Any:
        """The one message the bot sent after the first ``before``."""
        deadline = time.monotonic() + WAIT_S + 5
        while len(self.seen()) <= before:
            assert time.monotonic() < deadline, f"no reply; chat has {[m.text for m in self.seen()]}"
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)
        [reply] = self.seen()[before:]
        return reply
