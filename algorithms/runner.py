"""The host side of the sandbox: a lazily started pool of worker processes and the wall-clock limit.

A worker that overran its time is killed; one that died (CPU or memory limit) or hit any other limit is replaced
by a fresh one on the next run. Nothing starts until the first run.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any

from algorithms.api import HostApi
from algorithms.errors import AlgorithmError, AlgorithmFailed, AlgorithmStopped, CodeRefused
from algorithms.values import MAX_RESULT_BYTES, MAX_RESULT_ITEMS, AlgorithmValue, UnusableValue, to_plain
from processes.errors import ProcessError

START_SECONDS = 15.0
MAX_MESSAGE_BYTES = 1024 * 1024
WORKER_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


@dataclass(frozen=True)
class Limits:
    """What one run may use."""

    timeout_seconds: float = 5.0
    memory_mb: int = 256
    api_calls: int = 100
    result_bytes: int = MAX_RESULT_BYTES
    result_items: int = MAX_RESULT_ITEMS


class _Gone(Exception):
    """The worker stopped answering: timed out, died, or sent too much."""

    def __init__(self, stop: AlgorithmStopped) -> None:
        super().__init__(stop.message)
        self.stop = stop


class _Worker:
    """One worker process and the bytes it sent that were not read as a message yet."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._dir = tempfile.TemporaryDirectory(prefix="signal-algorithm-")
        command = [sys.executable, "-I", "-m", "algorithms.worker", "--memory-mb", str(limits.memory_mb)]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self._dir.name,
            env=dict(WORKER_ENV),
            close_fds=True,
        )
        self._buffer = bytearray()
        try:
            self.receive(time.monotonic() + START_SECONDS)
        except _Gone as error:
            self.kill()
            raise AlgorithmError("Не удалось запустить процесс для алгоритмов") from error

    @property
    def alive(self) -> bool:
        """Whether the process still runs."""
        return self._process.poll() is None

    def send(self, message: dict[str, Any]) -> None:
        """Writes one message; a dead worker is reported as a crash."""
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise _Gone(self._death()) from None

    def receive(self, deadline: float) -> dict[str, Any]:
        """Reads the next message, waiting at most until ``deadline`` (monotonic)."""
        assert self._process.stdout is not None
        fd = self._process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            ready = select.select([fd], [], [], remaining)[0] if remaining > 0 else []
            if not ready:
                seconds = f"{self._limits.timeout_seconds:g}"
                raise _Gone(AlgorithmStopped("time", f"превышено время выполнения ({seconds} с)"))
            chunk = os.read(fd, 65536)
            if not chunk:
                raise _Gone(self._death())
            self._buffer += chunk
            if len(self._buffer) > MAX_MESSAGE_BYTES:
                raise _Gone(AlgorithmStopped("size", "слишком большой объём данных от алгоритма"))
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        message: dict[str, Any] = json.loads(line)
        return message

    def _death(self) -> AlgorithmStopped:
        try:
            code = self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        if code == -signal.SIGXCPU:
            seconds = _cpu_seconds(self._limits)
            return AlgorithmStopped("cpu", f"превышен лимит процессорного времени ({seconds} с)")
        return AlgorithmStopped(
            "crash", f"процесс алгоритма аварийно завершился (код {code}); возможно, не хватило памяти"
        )

    def kill(self) -> None:
        """Kills the process and removes its working directory."""
        if self._process.poll() is None:
            self._process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        self._dir.cleanup()


def _cpu_seconds(limits: Limits) -> int:
    return max(1, int(limits.timeout_seconds + 0.999))


class AlgorithmRunner:
    """Runs algorithms in a warm pool of ``workers`` processes; thread-safe, blocking (use ``to_thread``)."""

    def __init__(self, limits: Limits | None = None, workers: int = 2) -> None:
        self.limits = limits or Limits()
        self._slots = threading.BoundedSemaphore(max(1, workers))
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._closed = False

    def run(self, code: str, performer: dict[str, Any] | None, data: Any, api: HostApi) -> AlgorithmValue:
        """Runs ``code`` with ``_Исполнитель``=``performer`` and ``_ДанныеДляОбработки``=``data``; its result.

        Raises :class:`CodeRefused`, :class:`AlgorithmFailed` (the designer's traceback in ``.traceback``) or
        :class:`AlgorithmStopped` (a limit hit; the worker is replaced).
        """
        try:
            request = {"code": code, "performer": to_plain(performer), "data": to_plain(data)}
        except UnusableValue as error:
            raise AlgorithmError(f"Данные для алгоритма не передать: {error}") from None
        request |= {
            "cpu_seconds": _cpu_seconds(self.limits),
            "max_bytes": self.limits.result_bytes,
            "max_items": self.limits.result_items,
        }
        with self._slots:
            worker = self._take()
            healthy = False
            try:
                value, healthy = self._exchange(worker, request, api)
                return value
            except (AlgorithmFailed, CodeRefused):
                healthy = True
                raise
            finally:
                self._give_back(worker, healthy)

    def _exchange(self, worker: _Worker, request: dict[str, Any], api: HostApi) -> tuple[AlgorithmValue, bool]:
        deadline = time.monotonic() + self.limits.timeout_seconds
        calls = 0
        try:
            worker.send(request)
            while True:
                message = worker.receive(deadline)
                if "call" not in message:
                    return _outcome(message, self.limits), True
                calls += 1
                if calls > self.limits.api_calls:
                    raise AlgorithmStopped("api", f"больше {self.limits.api_calls} вызовов api за один запуск")
                try:
                    answer = {"result": api.call(str(message["call"]), message["args"], message["kwargs"])}
                except ProcessError as error:
                    answer = {"error": error.message}
                worker.send(answer)
        except _Gone as gone:
            raise gone.stop from None

    def _take(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise AlgorithmError("Выполнение алгоритмов остановлено")
            worker = self._idle.pop() if self._idle else None
        if worker is None:
            worker = _Worker(self.limits)
        with self._lock:
            self._busy.add(worker)
        return worker

    def _give_back(self, worker: _Worker, healthy: bool) -> None:
        with self._lock:
            self._busy.discard(worker)
            keep = healthy and not self._closed and worker.alive
            if keep:
                self._idle.append(worker)
        if not keep:
            worker.kill()

    def close(self) -> None:
        """Kills every worker; later runs are refused."""
        with self._lock:
            self._closed = True
            workers = [*self._idle, *self._busy]
            self._idle.clear()
        for worker in workers:
            worker.kill()


def _outcome(message: dict[str, Any], limits: Limits) -> AlgorithmValue:
    if "done" in message:
        value: AlgorithmValue = message["done"]
        return value
    if "failed" in message:
        raise AlgorithmFailed(str(message["failed"]), str(message.get("traceback", "")))
    if "refused" in message:
        refused = message["refused"]
        raise CodeRefused(refused.get("line"), str(refused.get("detail", "")))
    if message.get("stopped") == "memory":
        raise AlgorithmStopped("memory", f"превышен лимит памяти ({limits.memory_mb} МБ)")
    raise AlgorithmError("Непонятный ответ процесса алгоритма")
