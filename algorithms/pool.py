"""One slot of the runner's pool: a template process (inside bubblewrap or not) and the JSON lines to and from it."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import tempfile
import time
from typing import Any

from algorithms.errors import AlgorithmError, AlgorithmStopped
from algorithms.isolation import zygote_command
from algorithms.zygote import MAX_MESSAGE_BYTES

START_SECONDS = 15.0


class Gone(Exception):
    """The template stopped answering: timed out, died, or sent too much or nonsense; it is killed."""

    def __init__(self, stop: AlgorithmStopped) -> None:
        super().__init__(stop.message)
        self.stop = stop


class SandboxProcess:
    """One template process, in its own session (killed with everything it started), and its unread bytes."""

    clock = staticmethod(time.monotonic)

    def __init__(self, bwrap: str | None, memory_mb: int, program: bytes | None) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="signal-algorithm-")
        self._process = subprocess.Popen(
            zygote_command(bwrap, memory_mb, program),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self._dir.name,
            env={},  # nothing of the service's environment: no secret crosses
            close_fds=True,
            start_new_session=True,
        )
        self._buffer = bytearray()
        try:
            self.receive(time.monotonic() + START_SECONDS, START_SECONDS)
        except Gone as error:
            self.kill()
            raise AlgorithmError("Не удалось запустить процесс для алгоритмов") from error

    @property
    def alive(self) -> bool:
        """Whether the process still runs."""
        return self._process.poll() is None

    def send(self, message: dict[str, Any]) -> None:
        """Writes one message; a dead template is reported as a crash."""
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise Gone(self._death()) from None

    def receive(self, deadline: float, seconds: float) -> dict[str, Any]:
        """Reads the next message (a JSON object), waiting at most until ``deadline`` (monotonic)."""
        assert self._process.stdout is not None
        fd = self._process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            ready = select.select([fd], [], [], remaining)[0] if remaining > 0 else []
            if not ready:
                raise Gone(AlgorithmStopped("time", f"превышено время выполнения ({seconds:g} с)"))
            chunk = os.read(fd, 65536)
            if not chunk:
                raise Gone(self._death())
            self._buffer += chunk
            if len(self._buffer) > MAX_MESSAGE_BYTES + 4096:
                raise Gone(AlgorithmStopped("size", "слишком большой объём данных от алгоритма"))
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            raise Gone(AlgorithmStopped("crash", "процесс алгоритма прислал непонятное сообщение"))
        return message

    def _death(self) -> AlgorithmStopped:
        try:
            code = self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        return AlgorithmStopped("crash", f"процесс алгоритмов аварийно завершился (код {code})")

    def kill(self) -> None:
        """Kills the template and everything in its session (the sandbox dies with bwrap), removes its directory."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        self._dir.cleanup()
