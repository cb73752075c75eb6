"""The user's side of the chats: messages users write and buttons they press become updates for ``getUpdates``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .entities import command_entities
from .models import BotInfo

if TYPE_CHECKING:
    from .state import EmulatorState

JSONDict = dict[str, Any]


def resolve_bot(state: EmulatorState, bot: int | str | None) -> BotInfo:
    """A bot by id or token; None means the only bot that has called the emulator (else ``ValueError``)."""
    with state.lock:
        if isinstance(bot, str):
            return state.bot_for_token(bot)
        if isinstance(bot, int):
            return state.bot(bot)
        if len(state.bots) != 1:
            raise ValueError(f"{len(state.bots)} bots are known to the emulator; say which one with bot=")
        return next(iter(state.bots.values()))


def push_user_message(
    state: EmulatorState, chat_id: int, text: str, *, bot: int | str | None = None, user_id: int | None = None
) -> JSONDict:
    """Queue a ``message`` update: the user (``chat_id``, or ``user_id`` in a group) writes ``text``."""
    with state.lock:
        owner = resolve_bot(state, bot)
        chat = state.chat(chat_id)
        sender = user_id if user_id is not None else chat_id
        if sender <= 0:
            raise ValueError("a message in a group needs user_id")
        state.chat(sender)
        message = state.store.add(
            owner.id, chat.id, outgoing=False, sender_id=sender, text=text, entities=command_entities(text)
        )
        return state.updates.push(owner.id, {"message": state.message_json(message)})


def push_contact(
    state: EmulatorState,
    chat_id: int,
    phone_number: str,
    first_name: str,
    *,
    contact_user_id: int | None = None,
    bot: int | str | None = None,
) -> JSONDict:
    """Queue a ``message`` update with a shared contact. Telegram sets ``user_id`` to the contact's account: the
    sender's own number has ``contact_user_id == chat_id``; a forwarded card carries another id or none."""
    with state.lock:
        owner = resolve_bot(state, bot)
        chat = state.chat(chat_id)
        contact: JSONDict = {"phone_number": phone_number, "first_name": first_name}
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        message = state.store.add(owner.id, chat.id, outgoing=False, sender_id=chat_id, contact=contact)
        return state.updates.push(owner.id, {"message": state.message_json(message)})


def push_callback(
    state: EmulatorState,
    chat_id: int,
    message_id: int,
    data: str,
    *,
    bot: int | str | None = None,
    user_id: int | None = None,
) -> str:
    """Queue a ``callback_query`` update: the user presses the button with ``data``; the query id is returned."""
    with state.lock:
        owner = resolve_bot(state, bot)
        message = state.store.find(owner.id, state.chat(chat_id).id, message_id)
        if message is None or not message.outgoing:
            raise ValueError(f"no message {message_id} of bot {owner.id} in chat {chat_id}")
        buttons = [b for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row]
        if not any(button.get("callback_data") == data for button in buttons):
            raise ValueError(f"message {message_id} has no button with callback_data {data!r}")
        sender = user_id if user_id is not None else chat_id
        query_id = str(4_000_000_000_000 + len(state.callbacks) + 1)
        state.callbacks[query_id] = {
            "bot_id": owner.id,
            "chat_id": chat_id,
            "message_id": message_id,
            "data": data,
            "user_id": sender,
            "answer": None,
        }
        query = {
            "id": query_id,
            "from": state.chat(sender).user_api(),
            "message": state.message_json(message),
            "chat_instance": str(chat_id),
            "data": data,
        }
        state.updates.push(owner.id, {"callback_query": query})
        return query_id
