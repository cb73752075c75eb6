"""python-telegram-bot's HTTP transport on aiohttp instead of httpx.

PTB talks HTTP through a replaceable :class:`telegram.request.BaseRequest`; its default, httpx, spends about
four times the CPU of aiohttp per request (measured against the emulator: ~1.2 ms against ~0.3 ms), and a bot
answering many chats is mostly HTTP requests. This class only maps PTB's request (form fields, files, timeouts)
onto an ``aiohttp.ClientSession`` and aiohttp's errors onto PTB's, which the rest of PTB (retries, rate limiter,
error handling) already understands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_TIMEOUT_S = 20.0
UNAUTHORIZED = 401


class AiohttpRequest(BaseRequest):
    """One keep-alive connection pool of ``pool_size`` connections, opened by :meth:`initialize`."""

    def __init__(
        self,
        pool_size: int = 8,
        read_timeout: float | None = DEFAULT_TIMEOUT_S,
        connect_timeout: float | None = DEFAULT_TIMEOUT_S,
        media_write_timeout: float | None = DEFAULT_TIMEOUT_S,
        on_unauthorized: Callable[[], None] | None = None,
    ) -> None:
        """``on_unauthorized`` is called on every 401 answer: Telegram refused the token."""
        self._on_unauthorized = on_unauthorized
        self._pool_size = pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call does not give its own."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Opens the connection pool (again, after a shutdown)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        """Closes the connection pool."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Sends one Bot API request; returns the status code and the body."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else {}
        fields = request_data.json_parameters if request_data else {}
        timeout = aiohttp.ClientTimeout(
            # aiohttp's connect timeout covers waiting for a free pooled connection too
            connect=_given(connect_timeout, self._connect_timeout),
            sock_read=_given(read_timeout, self._read_timeout),
            total=_given(write_timeout, self._media_write_timeout) if files else None,
        )
        try:
            async with self._session.request(method, url, data=_body(fields, files), timeout=timeout) as response:
                status, body = response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except (aiohttp.ClientError, OSError) as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
        if status == UNAUTHORIZED and self._on_unauthorized is not None:
            self._on_unauthorized()
        return status, body


def _given(value: Any, default: float | None) -> float | None:
    """The call's own timeout when it gave one (None = none at all), else ``default`` (PTB passes a DefaultValue
    when the call gave nothing)."""
    if value is None or isinstance(value, int | float):
        return None if value is None else float(value)
    return default


def _body(fields: dict[str, str], files: dict[str, Any]) -> aiohttp.FormData | dict[str, str]:
    """Form fields alone, or a multipart form with the files (name → (filename, content, mime type))."""
    if not files:
        return fields
    form = aiohttp.FormData(quote_fields=False)  # file names in UTF-8 as browsers send them, not %-escaped
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in files.items():
        form.add_field(name, content, filename=filename or name, content_type=mime_type)
    return form
