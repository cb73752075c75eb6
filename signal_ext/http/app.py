"""The service's HTTP application: health, and the built-in Bot API emulator when a bot runs without a token."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import FastAPI, Request, Response
from sqlalchemy import text

from signal_ext.bootstrap import App
from signal_ext.bots.runtime import BotRunner
from signal_ext.bots.status import describe, stopped_bots
from signal_ext.http.emulator_page import emulator_page_router
from signal_ext.telegram_emulator import EmulatorState, create_emulator_app

EMULATOR_PREFIX = "/telegram"
WEBHOOK_PREFIX = "/telegram-webhook"


def create_http_app(app: App, emulator: EmulatorState | None = None, runner: BotRunner | None = None) -> FastAPI:
    """The FastAPI application; with ``emulator`` the Bot API emulator answers under ``/telegram``; with
    ``runner`` and a webhook secret, Telegram's webhook calls arrive at ``/telegram-webhook/<bot>``."""
    api = FastAPI(title="Signal", description="Бизнес-процессы, оповещения и чат-боты")
    secret = app.settings.telegram_webhook_secret

    @api.post(WEBHOOK_PREFIX + "/{bot}", include_in_schema=False)
    async def webhook(bot: str, request: Request) -> Response:
        """One update from Telegram; refused unless it carries the secret the bot registered."""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if runner is None or secret is None or not hmac.compare_digest(given, secret.get_secret_value()):
            return Response(status_code=403)
        try:
            payload = await request.json()
        except ValueError:
            return Response(status_code=400)
        return Response(status_code=200 if await runner.feed(bot, payload) else 404)

    @api.get("/health")
    def health() -> dict[str, Any]:
        """Whether the service and its database answer; which bots are stopped and why; how algorithms run:
        ``isolated`` (bubblewrap), ``unisolated`` (allowed by the administrator) or ``refused``."""
        with app.read_session() as session:
            session.connection().execute(text("select 1"))
            stopped = {row.bot: describe(row.state, row.since, app.settings.zone) for row in stopped_bots(session)}
        mode = app.algorithms.runner.isolation.mode
        return {"status": "ok", "emulator": emulator is not None, "algorithms": mode.value, "bots_stopped": stopped}

    if emulator is not None:
        api.include_router(emulator_page_router(app, emulator, EMULATOR_PREFIX))  # the chat page /emulator
        api.mount(EMULATOR_PREFIX, create_emulator_app(emulator))
    return api
