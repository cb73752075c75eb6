"""The JSON control API under ``/_emulator/`` for tests, benchmarks, the CLI and the demo."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from .errors import ApiError
from .faults import FaultConfig
from .limits import LimitConfig
from .state import EmulatorState

JSONDict = dict[str, Any]


class ConfigBody(BaseModel):
    """New settings: a given ``faults`` or ``limits`` object replaces that part (missing keys take defaults)."""

    faults: dict[str, Any] | None = None
    limits: dict[str, Any] | None = None


class UserMessage(BaseModel):
    """A message the user writes to a bot (``bot``: id or token; optional when one bot is known)."""

    text: str
    bot: int | str | None = None
    user_id: int | None = None


class SharedContactBody(BaseModel):
    """A contact the user shares with a bot: their own (the default) or someone else's (``own: false``)."""

    phone_number: str
    first_name: str = ""
    own: bool = True
    bot: int | str | None = None


class ButtonPress(BaseModel):
    """The user presses an inline button of a bot message."""

    message_id: int
    data: str
    bot: int | str | None = None
    user_id: int | None = None


def _config(state: EmulatorState) -> JSONDict:
    return {"faults": state.faults.to_json(), "limits": state.limits.to_json()}


def control_router(state: EmulatorState) -> APIRouter:
    """Routes to read what the bots did and to steer the emulator."""
    router = APIRouter(prefix="/_emulator", tags=["emulator control"])

    @router.get("/stats")
    async def stats() -> JSONDict:
        """Counters, duplicates and duplicates that follow a lost answer."""
        return state.stats_json()

    @router.get("/config")
    async def get_config() -> JSONDict:
        """The fault and limit settings."""
        return _config(state)

    @router.post("/config")
    async def set_config(body: ConfigBody) -> JSONDict:
        """Replace the fault and/or limit settings."""
        try:
            faults = FaultConfig.from_json(body.faults) if body.faults is not None else None
            limits = LimitConfig.from_json(body.limits) if body.limits is not None else None
        except (TypeError, ValueError) as error:
            raise HTTPException(400, str(error)) from None
        state.configure(faults=faults, limits=limits)
        return _config(state)

    @router.post("/reset")
    async def reset() -> JSONDict:
        """Forget everything; default settings."""
        state.reset()
        return {"ok": True}

    @router.get("/chats")
    async def chats() -> list[JSONDict]:
        """The chats the emulator knows, with blocked/missing marks."""
        with state.lock:
            return [
                {**chat.to_api(), "blocked": chat.id in state.blocked_chats, "missing": chat.id in state.missing_chats}
                for chat in state.chats.values()
            ]

    @router.get("/chats/{chat_id}/messages")
    async def messages(chat_id: int, bot_id: int | None = None, incoming: bool = False) -> list[JSONDict]:
        """Messages bots sent to the chat (``incoming=true`` adds the user's), in order."""
        return [m.to_json() for m in state.messages(chat_id, bot_id=bot_id, incoming=incoming)]

    @router.post("/chats/{chat_id}/messages")
    async def push_message(chat_id: int, body: UserMessage) -> JSONDict:
        """Queue an update: the user writes to the bot."""
        try:
            return state.push_user_message(chat_id, body.text, bot=body.bot, user_id=body.user_id)
        except (ApiError, ValueError) as error:
            raise HTTPException(400, str(error)) from None

    @router.post("/chats/{chat_id}/contacts")
    async def push_contact(chat_id: int, body: SharedContactBody) -> JSONDict:
        """Queue an update: the user shares a contact (a reply button with ``request_contact`` does this)."""
        owner = chat_id if body.own else None
        try:
            return state.push_contact(chat_id, body.phone_number, body.first_name, contact_user_id=owner, bot=body.bot)
        except (ApiError, ValueError) as error:
            raise HTTPException(400, str(error)) from None

    @router.post("/chats/{chat_id}/callbacks")
    async def push_callback(chat_id: int, body: ButtonPress) -> JSONDict:
        """Queue an update: the user presses a button; answers the callback query id."""
        try:
            query_id = state.push_callback(chat_id, body.message_id, body.data, bot=body.bot, user_id=body.user_id)
        except (ApiError, ValueError) as error:
            raise HTTPException(400, str(error)) from None
        return {"callback_query_id": query_id}

    @router.get("/callbacks/{query_id}")
    async def callback(query_id: str) -> JSONDict:
        """A pushed callback query and the bot's answer (null until answered)."""
        with state.lock:
            found = state.callbacks.get(query_id)
            if found is None:
                raise HTTPException(404, "no such callback query")
            return dict(found)

    for mark in ("block", "missing"):
        _add_mark_routes(router, state, mark)
    return router


def _add_mark_routes(router: APIRouter, state: EmulatorState, mark: str) -> None:
    """``POST /chats/{id}/<mark>`` sets the mark, ``DELETE`` clears it (block: 403; missing: chat not found)."""
    setter = state.block_chat if mark == "block" else state.set_chat_missing

    async def set_mark(chat_id: int) -> JSONDict:
        setter(chat_id, True)
        return {"chat_id": chat_id, mark: True}

    async def clear_mark(chat_id: int) -> JSONDict:
        setter(chat_id, False)
        return {"chat_id": chat_id, mark: False}

    router.add_api_route(f"/chats/{{chat_id}}/{mark}", set_mark, methods=["POST"], name=f"set_{mark}")
    router.add_api_route(f"/chats/{{chat_id}}/{mark}", clear_mark, methods=["DELETE"], name=f"clear_{mark}")
