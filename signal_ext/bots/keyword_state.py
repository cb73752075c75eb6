"""What a constructor bot keeps per chat and how it reads its buttons: the open choice or the last list of
buttons (a ``DialogState`` row), the keyword tree cached per bot, the bot's texts with inserted values escaped.

Callback data carry no trust: ``kw:<node_id>:<index>`` / ``kw:<node_id>:yes|no`` (a button of the open choice)
and ``kl:<index>`` (a button of an algorithm's list) are only indexes, resolved against the chat's stored state.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from keywords.dialog import ChoiceState
from keywords.errors import StateError
from keywords.matching import KeywordTree
from keywords.store import load_tree, revision
from processes.ids import is_decimal, record_id
from signal_ext.bots.dialogs import current_step, end_dialog, set_step
from signal_ext.bots.texts import BotTexts

CHOICE_STEP = "keyword_choice"  # data: ChoiceState.to_dict()
LIST_STEP = "keyword_list"  # data: {"labels": [...]}, the buttons of an algorithm's list result


@dataclass(frozen=True)
class BotReply:
    """One message: HTML text and inline buttons (label, callback data), one per row; reply-keyboard buttons
    (label, shares the contact), or the removal of the reply keyboard."""

    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    keyboard: tuple[tuple[str, bool], ...] = ()
    remove_keyboard: bool = False


@dataclass(frozen=True)
class Stored:
    """The chat's open step as this bot reads it: an open choice, the labels of a list, or nothing."""

    choice: ChoiceState | None = None
    labels: tuple[str, ...] = ()


def read_stored(session: Session, bot: str, chat_id: str) -> Stored:
    """The chat's stored choice or list; a row this bot cannot read counts as nothing."""
    row = current_step(session, bot, chat_id)
    if row is None:
        return Stored()
    if row.step == CHOICE_STEP:
        try:
            return Stored(choice=ChoiceState.from_dict(row.data))
        except StateError:
            return Stored()
    labels = row.data.get("labels") if row.step == LIST_STEP else None
    if isinstance(labels, list) and all(isinstance(label, str) for label in labels):
        return Stored(labels=tuple(labels))
    return Stored()


def store_choice(session: Session, bot: str, chat_id: str, state: ChoiceState | None) -> None:
    """Keeps ``state`` as the chat's open choice (None: closes whatever was open); the caller commits."""
    if state is None:
        end_dialog(session, bot, chat_id)
    else:
        set_step(session, bot, chat_id, CHOICE_STEP, state.to_dict())


def store_labels(session: Session, bot: str, chat_id: str, labels: tuple[str, ...]) -> None:
    """Keeps the labels of a list of buttons just sent, for their presses; the caller commits."""
    set_step(session, bot, chat_id, LIST_STEP, {"labels": list(labels)})


def choice_data(state: ChoiceState, labels: tuple[str, ...]) -> list[tuple[str, str]]:
    """The buttons of a reply that leaves ``state`` open: the options by index, or «Да»/«Нет» of a confirmation."""
    if state.pending is not None:
        actions = ("yes", "no")
        return [(label, f"kw:{state.node_id}:{action}") for label, action in zip(labels, actions, strict=False)]
    return [(label, f"kw:{state.node_id}:{index}") for index, label in enumerate(labels)]


def list_data(labels: tuple[str, ...]) -> list[tuple[str, str]]:
    """The buttons of an algorithm's list result: the press sends the label back as a message."""
    return [(label, f"kl:{index}") for index, label in enumerate(labels)]


class EscapedTexts:
    """The bot's texts with every inserted value HTML-escaped: the templates are the designer's HTML,
    the values (user input, algorithm results, reasons) are text."""

    def __init__(self, texts: BotTexts) -> None:
        self.texts = texts

    def get(self, key: str, /, **values: object) -> str:
        """The text ``key`` with ``values`` escaped and inserted."""
        return self.texts.get(key, **{name: html.escape(str(value)) for name, value in values.items()})


class TreeCache:
    """One bot's keyword tree, reloaded only when :func:`keywords.store.revision` changes (a load replaced it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tree: KeywordTree | None = None

    def get(self, session: Session, bot_id: int) -> KeywordTree:
        """The current tree of bot ``bot_id``."""
        current = revision(session, bot_id)
        with self._lock:
            if self._tree is None or self._tree.revision != current:
                self._tree = load_tree(session, bot_id)
            return self._tree


def parse_press(data: str) -> tuple[str, Any, str] | None:
    """``kw:<node>:<action>`` → ("kw", node id, action); ``kl:<index>`` → ("kl", index, ""); else None."""
    parts = data.split(":")
    node = record_id(parts[1]) if len(parts) == 3 and parts[0] == "kw" else None
    if node is not None:
        return "kw", node, parts[2]
    if len(parts) == 2 and parts[0] == "kl" and is_decimal(parts[1]) and len(parts[1]) < 4:
        return "kl", int(parts[1]), ""
    return None
