"""Bot API methods that send, edit and delete messages: the ones faults and rate limits apply to."""

from __future__ import annotations

import mimetypes
from typing import Any

from .errors import bad_request
from .models import RecordedMessage, StoredFile
from .params import Call, Handler, format_text, reply_markup

JSONDict = dict[str, Any]
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a current "
    "content and reply markup of the message"
)


def _reply_to(call: Call, chat_id: int) -> int | None:
    """The replied message id (``reply_to_message_id`` or ``reply_parameters``), checked to exist."""
    parameters = call.params.obj("reply_parameters")
    allow = call.params.flag("allow_sending_without_reply")
    if isinstance(parameters, dict):
        message_id, allow = parameters.get("message_id"), allow or bool(parameters.get("allow_sending_without_reply"))
    else:
        message_id = call.params.integer("reply_to_message_id")
    if message_id is None:
        return None
    if call.state.find_message(call.bot.id, chat_id, int(message_id)) is None:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return int(message_id)


async def send_message(call: Call) -> JSONDict:
    """Record a text message; 400 for bad HTML, empty or too long text, 403 for a blocked chat."""
    chat = call.state.chat(call.params.chat_id())
    text, mode, entities = format_text(call.params, "text", "parse_mode", "entities")
    markup = reply_markup(call.params)
    reply_to = _reply_to(call, chat.id)
    call.state.check_not_blocked(chat.id)
    call.created = call.state.record_message(
        call.bot.id,
        chat.id,
        text=text,
        raw_text=call.params.string("text"),
        parse_mode=mode,
        entities=entities,
        reply_markup=markup,
        reply_to_message_id=reply_to,
    )
    return call.state.message_json(call.created)


def _document(call: Call) -> StoredFile:
    """The document of ``sendDocument``: an upload, an ``attach://`` part, or a known ``file_id``."""
    upload = call.params.files.get("document")
    value = call.params.string("document")
    if upload is None and value and value.startswith("attach://"):
        upload = call.params.files.get(value.removeprefix("attach://"))
    if upload is not None:
        if not upload.content:
            raise bad_request("file must be non-empty")
        mime = upload.content_type or mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"
        return call.state.store_file(upload.filename, mime, upload.content)
    if not value:
        raise bad_request("there is no document in the request")
    known = call.state.get_file(value)
    if known is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return known


async def send_document(call: Call) -> JSONDict:
    """Record a document message (file name, bytes, caption)."""
    chat = call.state.chat(call.params.chat_id())
    document = _document(call)
    caption, mode, entities = format_text(call.params, "caption", "parse_mode", "caption_entities", caption=True)
    markup = reply_markup(call.params)
    reply_to = _reply_to(call, chat.id)
    call.state.check_not_blocked(chat.id)
    call.created = call.state.record_message(
        call.bot.id,
        chat.id,
        text=caption or None,
        raw_text=call.params.string("caption"),
        parse_mode=mode,
        entities=entities,
        reply_markup=markup,
        document=document,
        reply_to_message_id=reply_to,
    )
    return call.state.message_json(call.created)


def _editable(call: Call) -> RecordedMessage:
    if call.params.string("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = call.state.chat(call.params.chat_id())
    message_id = call.params.integer("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    call.state.check_not_blocked(chat.id)
    message = call.state.find_message(call.bot.id, chat.id, message_id)
    if message is None:
        raise bad_request("message to edit not found")
    if not message.outgoing:
        raise bad_request("message can't be edited")
    return message


async def edit_message_text(call: Call) -> JSONDict:
    """Change a message's text (and inline keyboard: without ``reply_markup`` it is removed, as in Telegram)."""
    message = _editable(call)
    if message.document is not None:
        raise bad_request("there is no text in the message to edit")
    text, mode, entities = format_text(call.params, "text", "parse_mode", "entities")
    markup = reply_markup(call.params)
    if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
        raise bad_request(NOT_MODIFIED)
    call.state.edit_message(
        message,
        text=text,
        raw_text=call.params.string("text"),
        parse_mode=mode,
        entities=entities,
        reply_markup=markup,
    )
    return call.state.message_json(message)


async def edit_message_reply_markup(call: Call) -> JSONDict:
    """Change (or, without ``reply_markup``, remove) a message's inline keyboard."""
    message = _editable(call)
    markup = reply_markup(call.params)
    if markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    call.state.edit_message(message, reply_markup=markup)
    return call.state.message_json(message)


async def delete_message(call: Call) -> bool:
    """Mark a message deleted (it stays in the record with ``deleted=True``)."""
    chat = call.state.chat(call.params.chat_id())
    message = call.state.find_message(call.bot.id, chat.id, call.params.integer("message_id") or 0)
    if message is None:
        raise bad_request("message to delete not found")
    with call.state.lock:
        message.deleted = True
    return True


async def send_chat_action(call: Call) -> bool:
    """``typing`` and friends: true for a chat the bot can write to."""
    chat = call.state.chat(call.params.chat_id())
    call.state.check_not_blocked(chat.id)
    return True


MESSAGE_METHODS: dict[str, Handler] = {
    "sendMessage": send_message,
    "sendDocument": send_document,
    "editMessageText": edit_message_text,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "sendChatAction": send_chat_action,
}
