"""The service's HTTP application: health, and the built-in Bot API emulator when a bot runs without a token."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from signal_ext.bootstrap import App
from signal_ext.telegram_emulator import EmulatorState, create_emulator_app

EMULATOR_PREFIX = "/telegram"


def create_http_app(app: App, emulator: EmulatorState | None = None) -> FastAPI:
    """The FastAPI application; with ``emulator`` the Bot API emulator answers under ``/telegram``."""
    api = FastAPI(title="Signal", description="Бизнес-процессы, оповещения и чат-боты")

    @api.get("/health")
    def health() -> dict[str, Any]:
        """Whether the service and its database answer."""
        with app.read_session() as session:
            session.connection().execute(text("select 1"))
        return {"status": "ok", "emulator": emulator is not None}

    if emulator is not None:
        api.mount(EMULATOR_PREFIX, create_emulator_app(emulator))
    return api
