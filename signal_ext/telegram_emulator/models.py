"""Records the emulator keeps (bots, chats, files, messages, stats) and their Bot API JSON forms."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]


@dataclass(frozen=True)
class BotInfo:
    """A bot: its ``id`` is the digits before the colon of its token."""

    id: int
    username: str
    first_name: str

    def to_api(self) -> JSONDict:
        """The bot as a Bot API ``User`` (the ``from`` of its messages)."""
        return {"id": self.id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    def me(self) -> JSONDict:
        """The complete ``User`` that ``getMe`` answers."""
        return {
            **self.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }


@dataclass
class ChatInfo:
    """A chat: private for a positive id (the user's id), a group or supergroup for a negative one."""

    id: int
    type: str = "private"
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    title: str | None = None

    def to_api(self) -> JSONDict:
        """The Bot API ``Chat``."""
        data: JSONDict = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    def user_api(self) -> JSONDict:
        """The Bot API ``User`` behind a private chat."""
        data: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name or f"User{self.id}"}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        data["language_code"] = "ru"
        return data


@dataclass(frozen=True)
class StoredFile:
    """An uploaded file."""

    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str
    content: bytes = field(repr=False)

    def to_api(self) -> JSONDict:
        """The Bot API ``Document``."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.content),
        }

    def to_json(self) -> JSONDict:
        """The control API form: the ``Document`` plus the SHA-256 of the content."""
        return {**self.to_api(), "sha256": hashlib.sha256(self.content).hexdigest()}


@dataclass(frozen=True)
class MessageVersion:
    """One version of a message's content (the edit history keeps the earlier ones)."""

    date: int
    text: str | None
    raw_text: str | None
    parse_mode: str | None
    entities: list[JSONDict]
    reply_markup: JSONDict | None

    def to_json(self) -> JSONDict:
        """The version as JSON."""
        return dict(self.__dict__)


@dataclass
class RecordedMessage:
    """A message in a chat: sent by the bot (``outgoing``) or pushed as the user's.

    ``text`` is what the user sees (the caption for a document), ``raw_text`` what the bot sent (HTML and all).
    """

    bot_id: int
    chat_id: int
    message_id: int
    date: int
    seq: int
    outgoing: bool
    sender_id: int
    text: str | None = None
    raw_text: str | None = None
    parse_mode: str | None = None
    entities: list[JSONDict] = field(default_factory=list)
    reply_markup: JSONDict | None = None
    document: StoredFile | None = None
    contact: JSONDict | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    history: list[MessageVersion] = field(default_factory=list)
    deleted: bool = False
    answer_lost: bool = False

    @property
    def caption(self) -> str | None:
        """The caption of a document message."""
        return self.text if self.document is not None else None

    def version(self) -> MessageVersion:
        """The current content."""
        date = self.edit_date or self.date
        return MessageVersion(date, self.text, self.raw_text, self.parse_mode, self.entities, self.reply_markup)

    def original(self) -> MessageVersion:
        """The content as first delivered."""
        return self.history[0] if self.history else self.version()

    def content_key(self) -> tuple[Any, ...]:
        """What makes two deliveries the same: bot, chat, the text or caption sent, the markup and the file."""
        first = self.original()
        markup = json.dumps(first.reply_markup, sort_keys=True) if first.reply_markup else None
        file = (self.document.file_name, hashlib.sha256(self.document.content).hexdigest()) if self.document else None
        return self.bot_id, self.chat_id, first.raw_text, markup, file

    def to_json(self) -> JSONDict:
        """The control API form."""
        return {
            "bot_id": self.bot_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "date": self.date,
            "outgoing": self.outgoing,
            "sender_id": self.sender_id,
            "text": self.text,
            "raw_text": self.raw_text,
            "parse_mode": self.parse_mode,
            "entities": self.entities,
            "reply_markup": self.reply_markup,
            "document": self.document.to_json() if self.document else None,
            "contact": self.contact,
            "reply_to_message_id": self.reply_to_message_id,
            "edit_date": self.edit_date,
            "edits": [version.to_json() for version in self.history],
            "deleted": self.deleted,
            "answer_lost": self.answer_lost,
        }


def message_api(
    message: RecordedMessage, chat: ChatInfo, sender: JSONDict, reply_to: JSONDict | None = None
) -> JSONDict:
    """The complete Bot API ``Message``."""
    data: JSONDict = {"message_id": message.message_id, "from": sender, "chat": chat.to_api(), "date": message.date}
    if message.edit_date is not None:
        data["edit_date"] = message.edit_date
    if reply_to is not None:
        data["reply_to_message"] = reply_to
    if message.contact is not None:
        data["contact"] = message.contact
    elif message.document is not None:
        data["document"] = message.document.to_api()
        if message.text:
            data["caption"] = message.text
            if message.entities:
                data["caption_entities"] = message.entities
    elif message.text is not None:
        data["text"] = message.text
        if message.entities:
            data["entities"] = message.entities
    if message.reply_markup is not None and "inline_keyboard" in message.reply_markup:
        data["reply_markup"] = message.reply_markup
    return data


@dataclass
class Stats:
    """Counters: messages accepted, edits applied, 429 answers, faults injected by kind, answers lost; and the Bot
    API calls being answered right now (``in_progress``: once it is 0, nothing more is accepted from a client that
    has gone)."""

    accepted: int = 0
    edited: int = 0
    rejected_429: int = 0
    faults_injected: dict[str, int] = field(default_factory=dict)
    lost_answers: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    in_progress: int = 0

    def to_json(self) -> JSONDict:
        """The counters as JSON."""
        return {
            "accepted": self.accepted,
            "edited": self.edited,
            "rejected_429": self.rejected_429,
            "faults_injected": dict(self.faults_injected),
            "lost_answers": self.lost_answers,
            "requests": dict(self.requests),
            "in_progress": self.in_progress,
        }


@dataclass(frozen=True)
class DuplicateGroup:
    """Messages with the same content delivered to one chat more than once.

    ``after_lost_answer`` counts the repeats a lost answer explains: each copy that was accepted but whose answer
    the bot never got explains one repeat, whether the retry came after it or — the original hanging — before it.
    """

    bot_id: int
    chat_id: int
    text: str | None
    message_ids: tuple[int, ...]
    after_lost_answer: int

    @property
    def extra(self) -> int:
        """How many deliveries beyond the first."""
        return len(self.message_ids) - 1

    def to_json(self) -> JSONDict:
        """The group as JSON."""
        return {
            "bot_id": self.bot_id,
            "chat_id": self.chat_id,
            "text": self.text,
            "message_ids": list(self.message_ids),
            "after_lost_answer": self.after_lost_answer,
        }
