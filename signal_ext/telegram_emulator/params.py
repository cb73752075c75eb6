"""A call's parameters as the Bot API reads them (form fields are strings, objects are JSON) and their checks."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .entities import EntityParseError, parse_html, strip_text
from .errors import bad_request
from .models import BotInfo, RecordedMessage
from .state import EmulatorState

JSONDict = dict[str, Any]
PARSE_MODES = {"html": "HTML", "markdown": "Markdown", "markdownv2": "MarkdownV2"}
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str | None
    content: bytes = field(repr=False)


@dataclass
class Params:
    """The parameters of one call: query, form or JSON values, and uploaded files by part name."""

    values: Mapping[str, Any]
    files: Mapping[str, UploadedFile] = field(default_factory=dict)

    def raw(self, name: str) -> Any:
        """The value as sent (a string for form data), or None."""
        return self.values.get(name)

    def string(self, name: str) -> str | None:
        """A string parameter."""
        value = self.raw(name)
        return None if value is None else value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        """An integer parameter; a value that is not one is 400 like Telegram's."""
        value = self.raw(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        """A boolean parameter (``true``/``1`` for form data)."""
        value = self.raw(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def obj(self, name: str) -> Any:
        """An object parameter: JSON text in form data, the object itself in a JSON body."""
        value = self.raw(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def chat_id(self) -> int | str:
        """``chat_id``: an integer, or an ``@username``; missing is 400 "chat_id is empty"."""
        value = self.raw("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, str) and value.startswith("@"):
            return value
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None


@dataclass
class Call:
    """One Bot API call: the state, the calling bot, its parameters, and the message it created, if any."""

    state: EmulatorState
    bot: BotInfo
    params: Params
    created: RecordedMessage | None = None


Handler = Callable[[Call], Awaitable[Any]]


def format_text(
    params: Params, text_name: str, mode_name: str, entities_name: str, *, caption: bool = False
) -> tuple[str, str | None, list[JSONDict]]:
    """Parse a text or caption: (the visible text, the parse mode, the entities); Telegram's 400s on bad input."""
    source = params.string(text_name) or ""
    mode_value = params.string(mode_name) or ""
    if mode_value and mode_value.lower() not in PARSE_MODES:
        raise bad_request("unsupported parse_mode")
    mode = PARSE_MODES.get(mode_value.lower()) if mode_value else None
    entities: list[JSONDict] = []
    text = source
    if mode == "HTML":
        try:
            text, entities = parse_html(source)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    elif mode is None and isinstance(given := params.obj(entities_name), list):
        entities = [e for e in given if isinstance(e, dict)]
    text, entities = strip_text(text, entities)
    if caption:
        if len(text) > CAPTION_LIMIT:
            raise bad_request("message caption is too long")
    elif not text:
        raise bad_request("message text is empty")
    elif len(text) > MESSAGE_LIMIT:
        raise bad_request("message is too long")
    return text, mode, entities


def reply_markup(params: Params) -> JSONDict | None:
    """``reply_markup`` as a dict, checked like Telegram checks inline keyboards."""
    if params.raw("reply_markup") in (None, ""):
        return None
    try:
        markup = params.obj("reply_markup")
    except Exception:
        raise bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('can\'t parse inline keyboard button: field "inline_keyboard" must be an Array')
        for button in (button for row in rows for button in row):
            _check_button(button)
    elif not {"keyboard", "remove_keyboard", "force_reply"} & markup.keys():
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
    if not button["text"]:
        raise bad_request("BUTTON_TEXT_INVALID")
    if sum(1 for action in _BUTTON_ACTIONS if action in button) != 1:
        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must have exactly one action")
    data = button.get("callback_data")
    if data is not None and (not isinstance(data, str) or not 1 <= len(data.encode()) <= 64):
        raise bad_request("BUTTON_DATA_INVALID")
