"""The ASGI app: Bot API at ``/bot<token>/<method>``, files at ``/file/bot<token>/<path>``, control at ``/_emulator``.

Dropped connections (faults ``drop_connection`` and ``lost_answer``) start a response with a ``Content-Length``
and end without its body: uvicorn then closes the connection, and httpx (python-telegram-bot's HTTP client) raises
``httpx.RemoteProtocolError``, which python-telegram-bot turns into ``telegram.error.NetworkError``.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile
from starlette.types import Receive, Scope, Send

from .control import control_router
from .errors import ApiError, bad_request, forbidden_blocked, not_found_method, too_many_requests
from .faults import FaultKind
from .limits import LIMITED_METHODS
from .methods import lookup
from .params import Call, Params, UploadedFile
from .state import EmulatorState

_DROPPING: contextvars.ContextVar[bool] = contextvars.ContextVar("telegram_emulator_dropping", default=False)


class _DroppedConnectionLogFilter(logging.Filter):
    """Silences uvicorn's "returned without completing response" for connections the emulator drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _DROPPING.get()


class DroppedConnection(Response):
    """A response that announces a body and never sends it, so the server closes the connection."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        logger = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _DroppedConnectionLogFilter) for f in logger.filters):
            logger.addFilter(_DroppedConnectionLogFilter())
        _DROPPING.set(True)  # seen by the filter: uvicorn logs from this request's task once we return
        headers = [(b"content-type", b"application/json"), (b"content-length", b"64")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})


async def read_params(request: Request) -> Params:
    """Query, form (urlencoded or multipart, files read into memory) or JSON parameters of a call."""
    values: dict[str, object] = dict(request.query_params)
    files: dict[str, UploadedFile] = {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "application/json":
            body = await request.body()
            data = json.loads(body) if body.strip() else {}
            if not isinstance(data, dict):
                raise bad_request("JSON object expected")
            values.update(data)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.form(max_part_size=16 * 1024 * 1024)
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    files[key] = UploadedFile(value.filename or key, value.content_type, await value.read())
                else:
                    values[key] = value
    except ApiError:
        raise
    except Exception as error:
        raise bad_request(f"can't parse request: {error}") from None
    return Params(values, files)


def _chat_key(params: Params) -> int | None:
    value = params.raw("chat_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


async def _hang(state: EmulatorState, seconds: float) -> None:
    """Wait ``seconds``, or less when the server is stopping."""
    deadline = time.monotonic() + seconds
    while not state.updates.stopping and (left := deadline - time.monotonic()) > 0:
        await asyncio.sleep(min(left, 0.05))


async def handle_call(state: EmulatorState, token: str, method: str, request: Request) -> Response:
    """Answer one Bot API call, injecting the configured faults and enforcing the limits."""
    fault: FaultKind | None = None
    try:
        bot = state.bot_for_token(token)
        found = lookup(method)
        if found is None:
            raise not_found_method()
        name, handler = found
        state.note_request(name)
        params = await read_params(request)
        fault = state.choose_fault(name)
        if fault == "blocked":
            raise forbidden_blocked()
        if fault == "server_error":
            status = state.server_error_status()
            description = "Internal Server Error" if status == 500 else "Bad Gateway"
            return JSONResponse({"ok": False, "error_code": status, "description": description}, status)
        if fault == "drop_connection":
            return DroppedConnection()
        if fault == "timeout":
            await _hang(state, state.faults.timeout_seconds)
        if name in LIMITED_METHODS and (retry_after := state.check_rate(bot.id, _chat_key(params))) is not None:
            raise too_many_requests(retry_after)
        call = Call(state, bot, params)
        result = await handler(call)
    except ApiError as error:
        return DroppedConnection() if fault == "lost_answer" else JSONResponse(error.body(), error.status)
    lost = fault == "lost_answer" or (fault == "timeout" and await request.is_disconnected())
    if lost and call.created is not None:
        state.mark_answer_lost(call.created)
    if fault == "lost_answer":
        return DroppedConnection()
    return JSONResponse({"ok": True, "result": result})


def create_emulator_app(state: EmulatorState | None = None) -> FastAPI:
    """The emulator as a FastAPI app over ``state`` (a new one when None; kept at ``app.state.emulator``)."""
    emulator = state if state is not None else EmulatorState()
    app = FastAPI(title="Telegram Bot API emulator", docs_url="/_emulator/docs", openapi_url="/_emulator/openapi.json")
    app.state.emulator = emulator

    @app.api_route("/bot{token}/{method}", methods=["GET", "POST"], include_in_schema=False)
    async def bot_api(token: str, method: str, request: Request) -> Response:
        emulator.call_started()
        try:
            return await handle_call(emulator, token, method, request)
        finally:
            emulator.call_finished()

    @app.get("/file/bot{token}/{file_path:path}", include_in_schema=False)
    async def download(token: str, file_path: str) -> Response:
        try:
            emulator.bot_for_token(token)
        except ApiError as error:
            return JSONResponse(error.body(), error.status)
        stored = emulator.get_file(file_path.rsplit("/", 1)[-1])
        if stored is None:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return Response(stored.content, media_type=stored.mime_type)

    app.include_router(control_router(emulator))
    return app
