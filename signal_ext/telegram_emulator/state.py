"""``EmulatorState``: everything the emulator knows, in memory, behind one lock (tests read it from their thread)."""

from __future__ import annotations

import copy
import re
import threading
from typing import Any

from . import users
from .errors import bad_request, forbidden_blocked, unauthorized
from .faults import FaultConfig, FaultKind
from .limits import LimitConfig, RateLimiter
from .models import BotInfo, ChatInfo, DuplicateGroup, RecordedMessage, Stats, StoredFile, message_api
from .store import MessageStore
from .updates import UpdateQueues

JSONDict = dict[str, Any]
TOKEN_RE = re.compile(r"^(\d+):[^/\s]+$")


class EmulatorState:
    """Bots, chats, recorded messages, update queues, fault and limit settings, and stats; thread-safe."""

    def __init__(self, faults: FaultConfig | None = None, limits: LimitConfig | None = None) -> None:
        self.lock = threading.RLock()
        self.missing_chats: set[int] = set()
        self.blocked_chats: set[int] = set()
        self.revoked_tokens: set[str] = set()
        self.updates = UpdateQueues(self.lock)
        self._clear(faults, limits)

    def _clear(self, faults: FaultConfig | None, limits: LimitConfig | None) -> None:
        self._faults = faults or FaultConfig()
        self._limiter = RateLimiter(limits or LimitConfig())
        self.bots: dict[int, BotInfo] = {}
        self.chats: dict[int, ChatInfo] = {}
        self.store = MessageStore()
        self.webhooks: dict[int, JSONDict] = {}
        self.commands: dict[tuple[int, str, str], list[JSONDict]] = {}
        self.callbacks: dict[str, JSONDict] = {}
        previous: Stats | None = getattr(self, "_stats", None)
        in_progress = previous.in_progress if previous is not None else 0  # calls being answered end after a reset
        self._stats = Stats(in_progress=in_progress)

    def reset(self) -> None:
        """Forget everything and return to the default settings (faults and limits off)."""
        with self.lock:
            self.updates.close()
            self.missing_chats.clear()
            self.blocked_chats.clear()
            self.revoked_tokens.clear()
            self._clear(None, None)

    # --- settings -------------------------------------------------------------------------------------------

    @property
    def faults(self) -> FaultConfig:
        """The fault settings in force."""
        return self._faults

    @property
    def limits(self) -> LimitConfig:
        """The rate-limit settings in force."""
        return self._limiter.config

    def configure(self, faults: FaultConfig | None = None, limits: LimitConfig | None = None) -> None:
        """Replace the fault and/or limit settings (new limits start with empty counters)."""
        with self.lock:
            if faults is not None:
                self._faults = faults
            if limits is not None:
                self._limiter = RateLimiter(limits)

    def choose_fault(self, method: str) -> FaultKind | None:
        """Draw the fault for one request (counted in the stats)."""
        with self.lock:
            kind = self._faults.choose(method)
            if kind is not None:
                self._stats.faults_injected[kind] = self._stats.faults_injected.get(kind, 0) + 1
            return kind

    def server_error_status(self) -> int:
        """500 or 502 for an injected server error."""
        with self.lock:
            return self._faults.server_error_status()

    def check_rate(self, bot_id: int, chat_id: int | None) -> int | None:
        """Count a message against the limits; over them, the ``retry_after`` seconds (counted in the stats)."""
        with self.lock:
            retry_after = self._limiter.check(bot_id, chat_id)
            if retry_after is not None:
                self._stats.rejected_429 += 1
            return retry_after

    # --- bots and chats -------------------------------------------------------------------------------------

    def bot_for_token(self, token: str) -> BotInfo:
        """The bot of a ``<digits>:<secret>`` token, created on first use; any other token, or a revoked one, is
        401 Unauthorized."""
        match = TOKEN_RE.match(token)
        if not match or token in self.revoked_tokens:
            raise unauthorized()
        return self.bot(int(match.group(1)))

    def revoke_token(self, token: str, revoked: bool = True) -> None:
        """Makes ``token`` refused from now on (401), as @BotFather's «revoke» does; ``revoked=False`` undoes it."""
        with self.lock:
            if revoked:
                self.revoked_tokens.add(token)
            else:
                self.revoked_tokens.discard(token)

    def bot(self, bot_id: int) -> BotInfo:
        """The bot with this id, created on first use (username ``bot<id>_bot``)."""
        with self.lock:
            if bot_id not in self.bots:
                self.bots[bot_id] = BotInfo(bot_id, f"bot{bot_id}_bot", f"Bot{bot_id}")
            return self.bots[bot_id]

    def add_chat(self, chat_id: int, **details: Any) -> ChatInfo:
        """Create or update a chat (``first_name``, ``last_name``, ``username``, ``title``, ``type``)."""
        with self.lock:
            chat = self.chats.get(chat_id) or self._new_chat(chat_id)
            for name, value in details.items():
                setattr(chat, name, value)
            self.chats[chat_id] = chat
            self.missing_chats.discard(chat_id)
            return chat

    @staticmethod
    def _new_chat(chat_id: int) -> ChatInfo:
        if chat_id > 0:
            return ChatInfo(chat_id, "private", first_name=f"User{chat_id}")
        kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        return ChatInfo(chat_id, kind, title=f"Group{-chat_id}")

    def chat(self, chat_id: int | str) -> ChatInfo:
        """The chat (auto-created for a nonzero integer id); 400 "chat not found" for missing chats."""
        with self.lock:
            if isinstance(chat_id, str):
                found = [c for c in self.chats.values() if c.username and "@" + c.username == chat_id]
                if not found:
                    raise bad_request("chat not found")
                chat_id = found[0].id
            if chat_id == 0 or chat_id in self.missing_chats:
                raise bad_request("chat not found")
            if chat_id not in self.chats:
                self.chats[chat_id] = self._new_chat(chat_id)
            return self.chats[chat_id]

    def check_not_blocked(self, chat_id: int) -> None:
        """403 "bot was blocked by the user" for blocked chats."""
        if chat_id in self.blocked_chats:
            raise forbidden_blocked()

    def block_chat(self, chat_id: int, blocked: bool = True) -> None:
        """Make the user block (or unblock) the bots."""
        with self.lock:
            (self.blocked_chats.add if blocked else self.blocked_chats.discard)(chat_id)

    def set_chat_missing(self, chat_id: int, missing: bool = True) -> None:
        """Make the chat unknown to Telegram (or known again)."""
        with self.lock:
            (self.missing_chats.add if missing else self.missing_chats.discard)(chat_id)

    # --- messages -------------------------------------------------------------------------------------------

    def record_message(self, bot_id: int, chat_id: int, **content: Any) -> RecordedMessage:
        """Record a message the bot sent (counted as accepted)."""
        with self.lock:
            self._stats.accepted += 1
            return self.store.add(bot_id, chat_id, outgoing=True, sender_id=bot_id, **content)

    def find_message(self, bot_id: int, chat_id: int, message_id: int) -> RecordedMessage | None:
        """A message of the chat (the live record: hold ``lock`` to change it)."""
        with self.lock:
            return self.store.find(bot_id, chat_id, message_id)

    def edit_message(self, message: RecordedMessage, **changes: Any) -> None:
        """Apply an edit to a recorded message."""
        with self.lock:
            self.store.edit(message, **changes)
            self._stats.edited += 1

    def mark_answer_lost(self, message: RecordedMessage) -> None:
        """The message was accepted but the bot never got the answer."""
        with self.lock:
            if not message.answer_lost:
                message.answer_lost = True
                self._stats.lost_answers += 1

    def messages(self, chat_id: int, *, bot_id: int | None = None, incoming: bool = False) -> list[RecordedMessage]:
        """Copies of the messages bots sent to the chat, in order; ``incoming=True`` adds the user's own."""
        with self.lock:
            return self.store.chat_messages(chat_id, bot_id, incoming)

    def message_json(self, message: RecordedMessage, with_reply: bool = True) -> JSONDict:
        """The complete Bot API ``Message`` for a recorded message."""
        with self.lock:
            chat = self.chat(message.chat_id)
            sender = self.bot(message.bot_id).to_api() if message.outgoing else self.chat(message.sender_id).user_api()
            reply = None
            if with_reply and message.reply_to_message_id is not None:
                replied = self.store.find(message.bot_id, message.chat_id, message.reply_to_message_id)
                reply = self.message_json(replied, with_reply=False) if replied else None
            return message_api(message, chat, sender, reply)

    def store_file(self, file_name: str, mime_type: str, content: bytes) -> StoredFile:
        """Keep an uploaded file."""
        with self.lock:
            return self.store.store_file(file_name, mime_type, content)

    def get_file(self, file_id: str) -> StoredFile | None:
        """An uploaded file by ``file_id``."""
        with self.lock:
            return self.store.files.get(file_id)

    # --- stats ----------------------------------------------------------------------------------------------

    def note_request(self, method: str) -> None:
        """Count a Bot API call."""
        with self.lock:
            self._stats.requests[method] = self._stats.requests.get(method, 0) + 1

    def call_started(self) -> None:
        """A Bot API call is being answered."""
        with self.lock:
            self._stats.in_progress += 1

    def call_finished(self) -> None:
        """A Bot API call has its answer (or its dropped connection)."""
        with self.lock:
            self._stats.in_progress -= 1

    def stats(self) -> Stats:
        """A snapshot of the counters."""
        with self.lock:
            return copy.deepcopy(self._stats)

    def duplicates(self) -> list[DuplicateGroup]:
        """Bot messages with identical (bot, chat, text or caption, reply_markup, file) delivered more than once."""
        with self.lock:
            return self.store.duplicates()

    def duplicates_from_lost_answers(self) -> int:
        """How many duplicate deliveries came right after a delivery of the same content whose answer was lost."""
        return sum(group.after_lost_answer for group in self.duplicates())

    def stats_json(self) -> JSONDict:
        """Counters and duplicate totals as JSON (``GET /_emulator/stats``)."""
        groups = self.duplicates()
        return {
            **self.stats().to_json(),
            "duplicates": sum(group.extra for group in groups),
            "duplicates_from_lost_answers": sum(group.after_lost_answer for group in groups),
            "duplicate_groups": [group.to_json() for group in groups],
        }

    # --- the user's side ------------------------------------------------------------------------------------

    def resolve_bot(self, bot: int | str | None) -> BotInfo:
        """A bot by id or token; None means the only bot that has called the emulator (else ``ValueError``)."""
        return users.resolve_bot(self, bot)

    def push_user_message(
        self, chat_id: int, text: str, *, bot: int | str | None = None, user_id: int | None = None
    ) -> JSONDict:
        """Queue a ``message`` update: the user (``chat_id``, or ``user_id`` in a group) writes ``text`` to ``bot``."""
        return users.push_user_message(self, chat_id, text, bot=bot, user_id=user_id)

    def push_contact(
        self,
        chat_id: int,
        phone_number: str,
        first_name: str,
        *,
        contact_user_id: int | None = None,
        bot: int | str | None = None,
    ) -> JSONDict:
        """Queue a ``message`` update: the user shares a contact (their own when ``contact_user_id == chat_id``)."""
        return users.push_contact(self, chat_id, phone_number, first_name, contact_user_id=contact_user_id, bot=bot)

    def push_callback(
        self, chat_id: int, message_id: int, data: str, *, bot: int | str | None = None, user_id: int | None = None
    ) -> str:
        """Queue a ``callback_query`` update: the user presses the button with ``data``; the query id is returned."""
        return users.push_callback(self, chat_id, message_id, data, bot=bot, user_id=user_id)

    def answer_callback(self, bot_id: int, query_id: str, answer: JSONDict) -> None:
        """Record ``answerCallbackQuery``; an unknown or already answered query is 400 as in Telegram."""
        with self.lock:
            query = self.callbacks.get(query_id)
            if query is None or query["bot_id"] != bot_id or query["answer"] is not None:
                raise bad_request("query is too old and response timeout expired or query ID is invalid")
            query["answer"] = answer

    async def get_updates(self, bot_id: int, offset: int, limit: int, timeout: float) -> list[JSONDict]:
        """``getUpdates`` for the bot (long polling up to ``timeout`` seconds)."""
        return await self.updates.get(bot_id, offset, limit, timeout)
