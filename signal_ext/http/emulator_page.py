"""The chat page at ``/emulator``: pick a bot (the system bot or a constructor bot of the directory) and a demo
employee, and talk to the bot as in Telegram.

Served only when the bot runs on the built-in Bot API emulator. The page (``static/``: HTML, CSS and vanilla JS,
nothing from a CDN) reads and writes the chats through the emulator's control API; this router adds the list of
people to chat as, the page's settings and downloads of the files the bot sent."""

from __future__ import annotations

import re
import threading
from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from sqlmodel import col, select

from processes.models import Person
from signal_ext.bootstrap import App
from signal_ext.bots.directory import list_bots
from signal_ext.channels.bot_channels import EMULATOR_BOT_BASE
from signal_ext.notifications.models import SYSTEM_BOT, TelegramChat
from signal_ext.telegram_emulator import EmulatorState

PAGE_PATH = "/emulator"
GUEST_NAME = "Гость (не подключён)"
SYSTEM_TITLE = "Сигнал · системный бот"
GUEST_FIRST_ID = 990_000_001  # guests' private chats: ids no demo person is linked to
STATIC_FILES = {
    "emulator.html": "text/html; charset=utf-8",
    "emulator.css": "text/css; charset=utf-8",
    "emulator.js": "text/javascript; charset=utf-8",
}
_TOKEN_BOT_ID = re.compile(r"^(\d+):")
JSONDict = dict[str, Any]


def _static(name: str) -> Response:
    content = resources.files("signal_ext.http").joinpath("static", name).read_bytes()
    return Response(content, media_type=STATIC_FILES[name], headers={"Cache-Control": "no-cache"})


def _bot_id(app: App) -> int | None:
    """The system bot's id on the emulator: the digits before the colon of its token."""
    token = app.settings.telegram_token
    match = _TOKEN_BOT_ID.match(token.get_secret_value()) if token is not None else None
    return int(match.group(1)) if match else None


def _bots(app: App) -> list[JSONDict]:
    """The bots to talk to: the system bot first, then the directory's bots by their id on the emulator."""
    found: list[JSONDict] = [{"bot_id": _bot_id(app), "name": SYSTEM_BOT, "title": SYSTEM_TITLE}]
    with app.read_session() as session:
        for bot in list_bots(session):
            if bot.is_system:
                continue
            match = _TOKEN_BOT_ID.match(bot.token or "")
            bot_id = int(match.group(1)) if match else EMULATOR_BOT_BASE + (bot.id or 0)
            title = f"{bot.name} · {bot.description}" if bot.description else bot.name
            found.append({"bot_id": bot_id, "name": bot.name, "title": title})
    return found


class _Guest:
    """The chat id of the «guest»: unlinked, kept while it stays unlinked so a reload shows the same dialog."""

    def __init__(self, emulator: EmulatorState) -> None:
        self.emulator = emulator
        self.lock = threading.Lock()
        self.chat_id: int | None = None

    def chat(self, linked: set[int]) -> int:
        with self.lock:
            if self.chat_id is None or self.chat_id in linked:
                candidate = GUEST_FIRST_ID if self.chat_id is None else self.chat_id + 1
                with self.emulator.lock:
                    known = set(self.emulator.chats)
                while candidate in linked or candidate in known:
                    candidate += 1
                self.chat_id = candidate
            return self.chat_id


def emulator_page_router(app: App, emulator: EmulatorState, emulator_prefix: str) -> APIRouter:
    """``/emulator`` and its JSON helpers; ``emulator_prefix`` is where the emulator app is mounted."""
    router = APIRouter(prefix=PAGE_PATH, tags=["emulator page"])
    guest = _Guest(emulator)

    @router.get("", include_in_schema=False)
    def page() -> Response:
        """The chat page."""
        return _static("emulator.html")

    @router.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        """The page's stylesheet and script (a fixed list: no paths)."""
        if name not in STATIC_FILES:
            raise HTTPException(404, "Not Found")
        return _static(name)

    @router.get("/api/config")
    def config() -> JSONDict:
        """What the page needs to talk to the emulator: the control API's address, the system bot's id and the bots
        to choose from."""
        return {
            "control_url": f"{emulator_prefix}/_emulator",
            "bot_id": _bot_id(app),
            "bots": _bots(app),
            "poll_ms": 700,
        }

    @router.get("/api/people")
    def people(bot: str = Query(SYSTEM_BOT, max_length=64)) -> list[JSONDict]:
        """Active persons with a chat of ``bot`` (the system bot by default), by name, then a guest with a chat
        no bot has linked."""
        statement = (
            select(Person, TelegramChat.chat_id)
            .join(TelegramChat, col(TelegramChat.person_id) == col(Person.id))
            .where(TelegramChat.bot == bot, col(Person.active).is_(True))
            .order_by(col(Person.full_name), col(Person.id))
        )
        with app.read_session() as session:
            rows = [(person.id, person.full_name, person.phone, chat_id) for person, chat_id in session.exec(statement)]
            linked_ids = session.exec(select(TelegramChat.chat_id)).all()
        linked = {int(chat_id) for chat_id in linked_ids if chat_id.lstrip("-").isdigit()}
        found: list[JSONDict] = [
            {"person_id": person_id, "full_name": full_name, "phone": phone, "chat_id": int(chat_id)}
            for person_id, full_name, phone, chat_id in rows
            if chat_id.lstrip("-").isdigit() and int(chat_id) > 0  # a private chat on the emulator
        ]
        return [*found, {"person_id": None, "full_name": GUEST_NAME, "chat_id": guest.chat(linked)}]

    @router.get("/api/files/{file_id}")
    def download(file_id: str) -> Response:
        """A file the bot sent, as an attachment under its own name."""
        stored = emulator.get_file(file_id)
        if stored is None:
            raise HTTPException(404, "Файл не найден")
        disposition = f"attachment; filename*=UTF-8''{quote(stored.file_name, safe='')}"
        return Response(stored.content, media_type=stored.mime_type, headers={"Content-Disposition": disposition})

    return router
