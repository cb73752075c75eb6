"""The Bot API methods the emulator answers, with complete Telegram objects as results; ``lookup`` finds them."""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import bad_request, conflict
from .messages import MESSAGE_METHODS
from .params import Call, Handler

JSONDict = dict[str, Any]
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


async def get_me(call: Call) -> JSONDict:
    """The bot as a complete ``User``."""
    return call.bot.me()


async def log_out(call: Call) -> bool:
    """Nothing to do for an emulator: true."""
    return True


async def answer_callback_query(call: Call) -> bool:
    """Record the answer to a pushed callback query."""
    query_id = call.params.string("callback_query_id")
    if not query_id:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    answer = {key: call.params.raw(key) for key in ("text", "show_alert", "url", "cache_time") if call.params.raw(key)}
    call.state.answer_callback(call.bot.id, query_id, answer)
    return True


async def get_updates(call: Call) -> list[JSONDict]:
    """Queued updates from ``offset`` (confirming earlier ones), waiting up to ``timeout`` seconds for new ones."""
    if call.state.webhooks.get(call.bot.id):
        raise conflict(
            "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
        )
    limit = min(100, max(1, call.params.integer("limit", 100) or 100))
    timeout = max(0, call.params.integer("timeout", 0) or 0)
    return await call.state.get_updates(call.bot.id, call.params.integer("offset", 0) or 0, limit, timeout)


async def set_webhook(call: Call) -> bool:
    """Remember the webhook (updates are not delivered to it yet); an empty url deletes it."""
    url = call.params.string("url") or ""
    if call.params.flag("drop_pending_updates"):
        call.state.updates.drop_pending(call.bot.id)
    with call.state.lock:
        if not url:
            call.state.webhooks.pop(call.bot.id, None)
            return True
        if not url.startswith(("https://", "http://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        call.state.webhooks[call.bot.id] = {
            "url": url,
            "secret_token": call.params.string("secret_token"),
            "allowed_updates": call.params.obj("allowed_updates"),
            "max_connections": call.params.integer("max_connections", 40),
        }
    return True


async def delete_webhook(call: Call) -> bool:
    """Forget the webhook (and, with ``drop_pending_updates``, the waiting updates)."""
    if call.params.flag("drop_pending_updates"):
        call.state.updates.drop_pending(call.bot.id)
    with call.state.lock:
        call.state.webhooks.pop(call.bot.id, None)
    return True


async def get_webhook_info(call: Call) -> JSONDict:
    """The webhook and the number of waiting updates."""
    with call.state.lock:
        hook = call.state.webhooks.get(call.bot.id) or {}
    info: JSONDict = {
        "url": hook.get("url", ""),
        "has_custom_certificate": False,
        "pending_update_count": call.state.updates.pending(call.bot.id),
    }
    if hook:
        info["max_connections"] = hook["max_connections"]
        if hook.get("allowed_updates"):
            info["allowed_updates"] = hook["allowed_updates"]
    return info


def _commands_key(call: Call) -> tuple[int, str, str]:
    scope = call.params.obj("scope") or {"type": "default"}
    return call.bot.id, json.dumps(scope, sort_keys=True), call.params.string("language_code") or ""


async def set_my_commands(call: Call) -> bool:
    """Store the command list for a scope and language."""
    commands = call.params.obj("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND_NAME.match(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    with call.state.lock:
        call.state.commands[_commands_key(call)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
    return True


async def get_my_commands(call: Call) -> list[JSONDict]:
    """The command list for a scope and language (empty when none was set)."""
    with call.state.lock:
        return list(call.state.commands.get(_commands_key(call), []))


async def delete_my_commands(call: Call) -> bool:
    """Forget the command list for a scope and language."""
    with call.state.lock:
        call.state.commands.pop(_commands_key(call), None)
    return True


async def get_file(call: Call) -> JSONDict:
    """A ``File`` whose ``file_path`` downloads from ``/file/bot<token>/<file_path>``."""
    stored = call.state.get_file(call.params.string("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.content),
        "file_path": f"documents/{stored.file_id}",
    }


_BOT_METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "close": log_out,
    "logOut": log_out,
    "answerCallbackQuery": answer_callback_query,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "getFile": get_file,
}
METHODS = {name.lower(): (name, handler) for name, handler in {**_BOT_METHODS, **MESSAGE_METHODS}.items()}


def lookup(name: str) -> tuple[str, Handler] | None:
    """The Bot API name and handler of a method (found case-insensitively, as Telegram does), or None."""
    return METHODS.get(name.lower())
