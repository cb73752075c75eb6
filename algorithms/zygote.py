"""The template process inside the sandbox: it preloads what algorithms may use, then forks one fresh process per
request, so every run starts from the same clean state and nothing one run changes is seen by the next.

Started by the host (:mod:`algorithms.runner`) inside bubblewrap, or as a plain process where the administrator
allowed that, with ``--memory-mb N``. It reads a request line from stdin (``kind`` ``run`` or ``expression``),
compiles an algorithm here (the compiled code is cached by the hash of its text; compiling runs no designer code)
and hands it (marshalled) to a child forked ahead of time, which applies the run's limits, does exactly one thing
and exits. The template passes the child's ``call`` lines to the host and the host's answers back, and writes one
final line: the child's own, or ``ended`` when the child was stopped at the wall-clock limit (``time``), sent too
much (``size``), was aborted by the host (``aborted``) or died (``exit`` with its code). The child is killed once
its final line is out. The host's own deadline stays the backstop.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import gc
import hashlib
import json
import marshal
import os
import resource
import select
import signal
import socket
import sys
import time
from types import CodeType
from typing import Any

from algorithms.errors import CodeRefused
from algorithms.guards import preload_modules
from algorithms.isolation_seccomp import Confinement
from algorithms.sandbox import compile_algorithm
from algorithms.worker import Channel, apply_limits, evaluate, run_algorithm

CACHE_SIZE = 256
MAX_MESSAGE_BYTES = 1024 * 1024
_PR_SET_DUMPABLE = 4


class Lines:
    """JSON lines read from a raw descriptor, without reading past what the other side sent."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.closed = False

    def pop(self) -> dict[str, Any] | None:
        """The next complete message, if one arrived (a line that is not a JSON object counts as an empty one)."""
        end = self.buffer.find(b"\n")
        if end < 0:
            return None
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 1]
        try:
            message = json.loads(line)
        except ValueError:
            return {}
        return message if isinstance(message, dict) else {}

    def fill(self) -> None:
        """Reads what is there (blocks until something is); an empty read marks the other side closed."""
        chunk = os.read(self.fd, 65536)
        self.closed = not chunk
        self.buffer += chunk

    @property
    def oversized(self) -> bool:
        """Whether the other side sent more than one message may hold."""
        return len(self.buffer) > MAX_MESSAGE_BYTES


def _write(fd: int, message: dict[str, Any]) -> None:
    data = memoryview(json.dumps(message, ensure_ascii=False).encode() + b"\n")
    while data:
        data = data[os.write(fd, data) :]


class Template:
    """Serves the host's requests one after another, each in a fresh child process.

    The child for the next request is forked ahead (right after the previous run's answer went out) and waits
    for its request on its socket, so the fork is off the path the host waits for.
    """

    def __init__(self, confinement: Confinement | None) -> None:
        self.host = Lines(0)
        self._confinement = confinement
        self._compiled: dict[str, CodeType] = {}
        self._spare: tuple[int, socket.socket] | None = None
        self._finished: int | None = None  # a run's child that answered: killed once its answer is out

    def serve(self) -> None:
        """Answers requests until the host closes the pipe."""
        self._spawn()
        while True:
            request = self.host.pop()
            if request is None:
                if self.host.closed:
                    return
                self.host.fill()
                continue
            if request.get("kind") in ("run", "expression"):  # a late api answer or abort is no request: dropped
                _write(1, self.handle(request))
                if self._finished is not None:
                    _stop(self._finished)
                    self._finished = None
                self._spawn()

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """The final answer to one request."""
        if request.get("kind") == "expression":
            return self._dispatch(request)
        try:
            code = self._compile(str(request.get("code", "")))
        except CodeRefused as error:
            return {"refused": {"line": error.line, "detail": error.detail}}
        except Exception as error:  # e.g. MemoryError or RecursionError on absurd code
            return {"failed": f"код не компилируется: {type(error).__name__}", "traceback": ""}
        return self._dispatch(request | {"compiled": base64.b64encode(marshal.dumps(code)).decode()})

    def _compile(self, source: str) -> CodeType:
        key = hashlib.sha256(source.encode()).hexdigest()
        code = self._compiled.get(key)
        if code is None:
            code = compile_algorithm(source)
            if len(self._compiled) >= CACHE_SIZE:
                self._compiled.pop(next(iter(self._compiled)))
            self._compiled[key] = code
        return code

    def _spawn(self) -> None:
        if self._spare is not None:
            return
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:  # the next run's own process: it never returns from here
            _child(theirs, self._confinement)
        theirs.close()
        self._spare = (pid, ours)

    def _dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        self._spawn()
        assert self._spare is not None
        (pid, ours), self._spare = self._spare, None
        deadline = time.monotonic() + float(request.get("wall_seconds", 5))
        try:
            with contextlib.suppress(OSError):  # a spare that died is reported as the run's crash below
                ours.sendall(json.dumps(request, ensure_ascii=False).encode() + b"\n")
            return self._relay(pid, ours, deadline)
        finally:
            ours.close()

    def _relay(self, pid: int, child_socket: socket.socket, deadline: float) -> dict[str, Any]:
        child = Lines(child_socket.fileno())
        pidfd = os.pidfd_open(pid)
        try:
            while True:
                while (message := child.pop()) is not None:
                    if "call" not in message:
                        self._finished = pid
                        return message
                    _write(1, message)
                while (answer := self.host.pop()) is not None:
                    if "abort" in answer:
                        _stop(pid)
                        return {"ended": "aborted"}
                    with contextlib.suppress(OSError):  # the child died meanwhile: its exit is reported below
                        child_socket.sendall(json.dumps(answer, ensure_ascii=False).encode() + b"\n")
                if child.closed:
                    return {"ended": "exit", "code": _stop(pid)}
                if child.oversized:
                    _stop(pid)
                    return {"ended": "size"}
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    _stop(pid)
                    return {"ended": "time"}
                ready = select.select([self.host.fd, child.fd, pidfd], [], [], remaining)[0]
                if self.host.fd in ready:
                    self.host.fill()
                    if self.host.closed:
                        _stop(pid)
                        raise SystemExit(0)
                if child.fd in ready or pidfd in ready:
                    child.fill()
        finally:
            os.close(pidfd)


def _stop(pid: int) -> int:
    """Kills the child (if it still runs) and reaps it; its exit code (negative: the signal)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _child(sock: socket.socket, confinement: Confinement | None) -> None:
    """A run's process: waits for its one request, applies the limits, answers, exits."""
    status = 70
    try:
        fd = sock.fileno()
        quiet = os.open(os.devnull, os.O_RDWR)
        for standard in (0, 1):
            os.dup2(quiet, standard)  # the host's pipes belong to the template
        os.closerange(3, fd)
        os.closerange(fd + 1, 1024)
        channel = Channel(sock.makefile("rb"), sock.makefile("wb"))
        request = channel.receive()
        if request is None:  # the template went away before giving it a run
            status = 0
            return
        apply_limits(int(request.get("memory_mb", 256)), int(request.get("cpu_seconds", 5)))
        if confinement is not None:
            confinement.apply()  # from here on: no new process, namespace, mount or trace
        if request.get("kind") == "expression":
            answer = evaluate(request)
        else:
            code = marshal.loads(base64.b64decode(request["compiled"]))  # the template's own compilation
            answer = run_algorithm(code, str(request.get("code", "")), request, channel)
        channel.send(answer)
        status = 0
    except MemoryError:
        status = 71
    finally:
        os._exit(status)


def _check(confinement: Confinement | None) -> int:
    """Whether a run's process is held: it must not be able to start another process (0: held)."""
    pid = os.fork()
    if pid == 0:
        status = 3
        try:
            if confinement is not None:
                confinement.apply()
            try:
                os.fork()  # both processes, if it worked, leave with 3
            except OSError:
                status = 0
        finally:
            os._exit(status)
    if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0:
        print("процесс запуска может порождать процессы (фильтр seccomp не действует)", file=sys.stderr)
        return 1
    return 0


def _not_dumpable() -> None:
    """No process of the sandbox (same uid) may trace the template or read its memory."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def main(argv: list[str] | None = None) -> None:
    """The template's entry point: preload, lock down, tell the host it is ready, serve."""
    parser = argparse.ArgumentParser(prog="algorithms.zygote")
    parser.add_argument("--memory-mb", type=int, default=256)
    parser.add_argument("--seccomp", default=None, help="the compiled filter for each run's process, base64")
    parser.add_argument("--check", action="store_true", help="only show that a run's process is held, then exit")
    options = parser.parse_args(argv)
    confinement = None if options.seccomp is None else Confinement(base64.b64decode(options.seccomp))
    if options.check:
        raise SystemExit(_check(confinement))
    preload_modules()
    import algorithms.expression  # noqa: F401  # code mode's evaluator, loaded once for every child

    sys.stdout = sys.stderr  # nothing but the protocol goes to the host's pipe
    _not_dumpable()
    for kind, value in ((resource.RLIMIT_AS, options.memory_mb * 1024 * 1024), (resource.RLIMIT_CORE, 0)):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(kind, (value, value))
    gc.freeze()  # what is loaded now stays shared with the children instead of being copied on their first GC
    _write(1, {"ready": True})
    Template(confinement).serve()


if __name__ == "__main__":
    main()
