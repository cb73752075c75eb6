"""Running the emulator: ``EmulatorServer`` in a background thread (tests, benchmarks), ``serve_forever`` (CLI)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from .app import create_emulator_app
from .state import EmulatorState

START_TIMEOUT = 10.0


def _bind(host: str, port: int) -> socket.socket:
    """A bound socket (port 0 picks a free port); uvicorn starts listening on it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # with the protocol, asyncio sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server that, when shutting down, first ends the long polls and injected hangs in flight."""

    def __init__(self, config: uvicorn.Config, state: EmulatorState) -> None:
        super().__init__(config)
        self.emulator_state = state

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.emulator_state.updates.stop_waiting()
        await super().shutdown(sockets)


def _url(host: str, port: int) -> str:
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


class EmulatorServer:
    """The emulator on uvicorn in a daemon thread; a context manager.

    >>> with EmulatorServer() as server:
    ...     bot = telegram.Bot("123:abc", base_url=server.url + "/bot")
    """

    def __init__(self, state: EmulatorState | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state if state is not None else EmulatorState()
        self.host = host
        self.port = port
        self.app = create_emulator_app(self.state)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        """``http://HOST:PORT``; python-telegram-bot's ``base_url`` is ``url + "/bot"``."""
        if self._socket is None:
            raise RuntimeError("the emulator server is not running")
        return _url(self.host, self.port)

    def start(self) -> EmulatorServer:
        """Start serving and return once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the emulator server is already running")
        self._socket = _bind(self.host, self.port)
        self.state.updates.stop_waiting(False)
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = self._server = _Server(config, self.state)
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._socket]}, name=f"telegram-emulator:{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the Telegram emulator did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving: long polls and injected hangs end at once, the rest finish; then wait for the thread."""
        self.state.updates.stop_waiting()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=START_TIMEOUT)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def serve_forever(host: str, port: int) -> None:
    """Run the emulator in the foreground until interrupted (``signal-ext emulator``); port 0 picks a free port."""
    sock = _bind(host, port)
    url = _url(host, sock.getsockname()[1])
    state = EmulatorState()
    config = uvicorn.Config(
        create_emulator_app(state), log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    print(f"Telegram Bot API emulator at {url} (python-telegram-bot base_url: {url}/bot)", flush=True)
    try:
        _Server(config, state).run(sockets=[sock])
    finally:
        sock.close()
