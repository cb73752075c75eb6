"""The recorded chats' messages and uploaded files, with message-id counters and duplicate detection."""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
from dataclasses import replace
from typing import Any

from .models import DuplicateGroup, MessageVersion, RecordedMessage, StoredFile

JSONDict = dict[str, Any]


class MessageStore:
    """Messages per (bot, chat) and files by id. Not thread-safe by itself: ``EmulatorState`` holds the lock."""

    def __init__(self) -> None:
        self.messages: dict[tuple[int, int], list[RecordedMessage]] = {}
        self.files: dict[str, StoredFile] = {}
        self._next_id: dict[tuple[int, int], int] = {}
        self._seq = itertools.count(1)

    def add(self, bot_id: int, chat_id: int, *, outgoing: bool, sender_id: int, **content: Any) -> RecordedMessage:
        """Record a new message with the chat's next ``message_id`` (shared by both directions, as in Telegram)."""
        key = (bot_id, chat_id)
        message_id = self._next_id.get(key, 1)
        self._next_id[key] = message_id + 1
        message = RecordedMessage(
            bot_id=bot_id,
            chat_id=chat_id,
            message_id=message_id,
            date=int(time.time()),
            seq=next(self._seq),
            outgoing=outgoing,
            sender_id=sender_id,
            **content,
        )
        self.messages.setdefault(key, []).append(message)
        return message

    def find(self, bot_id: int, chat_id: int, message_id: int) -> RecordedMessage | None:
        """The message, unless unknown or deleted."""
        for message in self.messages.get((bot_id, chat_id), []):
            if message.message_id == message_id and not message.deleted:
                return message
        return None

    @staticmethod
    def edit(message: RecordedMessage, **changes: Any) -> None:
        """Apply an edit, keeping the previous version in ``history``."""
        message.history.append(message.version())
        for name, value in changes.items():
            setattr(message, name, value)
        message.edit_date = int(time.time())

    def chat_messages(self, chat_id: int, bot_id: int | None, incoming: bool) -> list[RecordedMessage]:
        """Copies of a chat's messages in delivery order."""
        found = [
            message
            for (owner, chat), messages in self.messages.items()
            if chat == chat_id and (bot_id is None or owner == bot_id)
            for message in messages
            if incoming or message.outgoing
        ]
        return [
            replace(m, entities=list(m.entities), history=list(m.history)) for m in sorted(found, key=lambda m: m.seq)
        ]

    def store_file(self, file_name: str, mime_type: str, content: bytes) -> StoredFile:
        """Keep an uploaded file; equal contents share ``file_unique_id``, as in Telegram."""
        unique = "AgAD" + hashlib.sha256(content).hexdigest()[:12]
        stored = StoredFile("BQACAgIAAxkBAAI" + secrets.token_urlsafe(24), unique, file_name, mime_type, content)
        self.files[stored.file_id] = stored
        return stored

    def duplicates(self) -> list[DuplicateGroup]:
        """Groups of bot messages with the same content delivered to one chat more than once."""
        groups: dict[tuple[Any, ...], list[RecordedMessage]] = {}
        for messages in self.messages.values():
            for message in messages:
                if message.outgoing:
                    groups.setdefault(message.content_key(), []).append(message)
        result = []
        for same in groups.values():
            if len(same) < 2:
                continue
            same.sort(key=lambda m: m.seq)
            # Each copy whose answer was lost explains one repeat, whichever came first: a retry may be accepted
            # before the hung original it repeats (the original then arrives late, its answer lost).
            after_lost = min(len(same) - 1, sum(1 for message in same if message.answer_lost))
            first: MessageVersion = same[0].original()
            result.append(
                DuplicateGroup(
                    bot_id=same[0].bot_id,
                    chat_id=same[0].chat_id,
                    text=first.text,
                    message_ids=tuple(m.message_id for m in same),
                    after_lost_answer=after_lost,
                )
            )
        return sorted(result, key=lambda g: (g.chat_id, g.message_ids))
