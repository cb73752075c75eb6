"""The host side of the sandbox: a lazily started pool of sandboxed templates, and the wall-clock limit.

Each pool slot is one template process (:mod:`algorithms.zygote`) inside bubblewrap (:mod:`algorithms.isolation`);
every algorithm run and every code-mode expression runs in a fresh process the template forks. The template stops
a run at the wall-clock limit itself; the host's own deadline (a second later) is the backstop: a template that
does not answer by then is killed with everything in its sandbox and replaced on the next run. What arrives from
the sandbox is checked here (:mod:`algorithms.protocol`) before anything uses it.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from algorithms.api import HostApi
from algorithms.errors import AlgorithmError, AlgorithmStopped, ExpressionRefused
from algorithms.expression import ExpressionValue
from algorithms.isolation import INSTALL_HINT, Isolation, Mode, decide
from algorithms.pool import Gone, SandboxProcess
from algorithms.protocol import check_call, final_stop, to_expression, to_value
from algorithms.values import MAX_RESULT_BYTES, MAX_RESULT_ITEMS, AlgorithmValue, UnusableValue, to_plain
from processes.errors import ProcessError

GRACE_SECONDS = 1.0


@dataclass(frozen=True)
class Limits:
    """What one run may use; code-mode expressions have their own shorter time and smaller memory."""

    timeout_seconds: float = 5.0
    memory_mb: int = 256
    api_calls: int = 100
    result_bytes: int = MAX_RESULT_BYTES
    result_items: int = MAX_RESULT_ITEMS
    expression_timeout_seconds: float = 2.0
    expression_memory_mb: int = 128


class IsolationUnavailable(AlgorithmError):
    """Designers' algorithms are refused: the OS layer cannot start here and running without it is not allowed."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"Алгоритмы не выполняются: изоляция недоступна — {reason}; "
            f"{INSTALL_HINT} или разрешите запуск без изоляции: SIGNAL_ALGORITHMS_UNISOLATED=true"
        )
        self.reason = reason


class AlgorithmRunner:
    """Runs algorithms and expressions in ``workers`` sandboxed templates; thread-safe, blocking (use a thread).

    ``bwrap`` is the bubblewrap program; where it cannot start, algorithms are refused unless ``allow_unisolated``
    (expressions then run in plain worker processes: never in the service's own process).
    """

    def __init__(
        self, limits: Limits | None = None, workers: int = 2, bwrap: str = "bwrap", allow_unisolated: bool = False
    ) -> None:
        self.limits = limits or Limits()
        self._bwrap = bwrap
        self._allow_unisolated = allow_unisolated
        self._isolation: Isolation | None = None
        self._slots = threading.BoundedSemaphore(max(1, workers))
        self._lock = threading.Lock()
        self._chats: dict[str, tuple[threading.Lock, int]] = {}
        self._idle: list[SandboxProcess] = []
        self._busy: set[SandboxProcess] = set()
        self._closed = False

    @property
    def isolation(self) -> Isolation:
        """The mode in force, found by trying bubblewrap once (on first use)."""
        with self._lock:
            if self._isolation is None:
                found = shutil.which(self._bwrap) or self._bwrap
                self._isolation = decide(found, self._allow_unisolated)
            return self._isolation

    def run(self, code: str, performer: dict[str, Any] | None, data: Any, api: HostApi) -> AlgorithmValue:
        """Runs ``code`` with ``_Исполнитель``=``performer`` and ``_ДанныеДляОбработки``=``data``; its result.

        Raises :class:`IsolationUnavailable`, :class:`CodeRefused`, :class:`AlgorithmFailed` (the designer's
        traceback in ``.traceback``) or :class:`AlgorithmStopped` (a limit hit).
        """
        isolation = self.isolation
        if isolation.mode is Mode.REFUSED:
            raise IsolationUnavailable(isolation.reason)
        try:
            request = {"kind": "run", "code": code, "performer": to_plain(performer), "data": to_plain(data)}
        except UnusableValue as error:
            raise AlgorithmError(f"Данные для алгоритма не передать: {error}") from None
        limits = self.limits
        request |= _budget(limits.timeout_seconds, limits.memory_mb)
        request |= {"max_bytes": limits.result_bytes, "max_items": limits.result_items}
        message = self._exchange(request, limits.timeout_seconds, api)
        return to_value(message, limits)

    def evaluate_expression(self, text: str, now: datetime, chat: str | None = None) -> ExpressionValue | None:
        """Evaluates a code-mode message in a fresh sandboxed process: its value, or None when it is not an
        expression. Raises :class:`ExpressionRefused` (a limit, a forbidden name, an error) with a Russian reason.
        One ``chat``'s expressions are evaluated one at a time, so one chat cannot take every worker."""
        limits = self.limits
        request = {"kind": "expression", "text": text, "now": now.isoformat()}
        request |= _budget(limits.expression_timeout_seconds, limits.expression_memory_mb)
        with self._chat_turn(chat):
            try:
                message = self._exchange(request, limits.expression_timeout_seconds, None)
            except AlgorithmStopped as stop:
                raise ExpressionRefused(f"Выражение не вычислено: {stop.detail}") from None
        return to_expression(message)

    @contextlib.contextmanager
    def _chat_turn(self, chat: str | None) -> Iterator[None]:
        if chat is None:
            yield
            return
        with self._lock:
            lock, users = self._chats.get(chat, (threading.Lock(), 0))
            self._chats[chat] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, users = self._chats[chat]
                if users == 1:
                    del self._chats[chat]
                else:
                    self._chats[chat] = (lock, users - 1)

    def _exchange(self, request: dict[str, Any], seconds: float, api: HostApi | None) -> dict[str, Any]:
        """Sends one request and answers its api calls; the final message (checked by the caller)."""
        with self._slots:
            worker = self._take()
            healthy = False
            try:
                message = self._converse(worker, request, seconds, api)
                healthy = True
                final_stop(message, seconds, int(request["memory_mb"]))  # a run ended at a limit: the template is fine
                return message
            except Gone as gone:
                raise gone.stop from None
            except AlgorithmStopped:  # too many api calls: the template stopped that run and serves the next
                healthy = True
                raise
            finally:
                self._give_back(worker, healthy)

    def _converse(
        self, worker: SandboxProcess, request: dict[str, Any], seconds: float, api: HostApi | None
    ) -> dict[str, Any]:
        deadline = worker.clock() + seconds + GRACE_SECONDS
        calls = 0
        worker.send(request)
        while True:
            message = worker.receive(deadline, seconds)
            if "call" not in message:
                return message
            method, args, kwargs = check_call(message)
            calls += 1
            if calls > self.limits.api_calls or api is None:
                worker.send({"abort": True})
                while "ended" not in worker.receive(deadline, seconds):
                    pass  # the template's «ended: aborted» comes after whatever the child sent before it
                raise AlgorithmStopped("api", f"больше {self.limits.api_calls} вызовов api за один запуск")
            try:
                answer = {"result": to_plain(api.call(method, args, kwargs))}
            except ProcessError as error:
                answer = {"error": error.message}
            worker.send(answer)

    def _take(self) -> SandboxProcess:
        isolation = self.isolation
        with self._lock:
            if self._closed:
                raise AlgorithmError("Выполнение алгоритмов остановлено")
            worker = self._idle.pop() if self._idle else None
        if worker is None:
            bwrap = isolation.bwrap if isolation.mode is Mode.ISOLATED else None
            worker = SandboxProcess(bwrap, self.limits.memory_mb, isolation.program)
        with self._lock:
            self._busy.add(worker)
        return worker

    def _give_back(self, worker: SandboxProcess, healthy: bool) -> None:
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


def _budget(seconds: float, memory_mb: int) -> dict[str, Any]:
    return {"wall_seconds": seconds, "cpu_seconds": max(1, math.ceil(seconds)), "memory_mb": memory_mb}
