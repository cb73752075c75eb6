"""The run side of the sandbox: a worker process that executes algorithms under OS limits.

Started by the host (:mod:`algorithms.runner`) as ``python -I -m algorithms.worker --memory-mb N`` with an empty
environment and an empty working directory. It talks JSON lines over stdin/stdout: a ``run`` request in, then any
number of ``call`` requests out (each answered by the host, which alone touches the database), then one final
answer: ``done``, ``failed``, ``stopped`` or ``refused``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import resource
import sys
from types import CodeType, TracebackType
from typing import IO, Any

from algorithms.errors import CodeRefused
from algorithms.guards import algorithm_globals, preload_modules
from algorithms.sandbox import DATA, FILENAME, PERFORMER, RESULT, compile_algorithm
from algorithms.values import UnusableValue, to_plain, to_result

CACHE_SIZE = 256
MAX_MESSAGE_CHARS = 500


class ApiError(Exception):
    """An ``api`` call the host refused; the algorithm may catch it (``except ApiError``/``ОшибкаApi``)."""


class Channel:
    """JSON lines to and from the host."""

    def __init__(self, reader: IO[bytes], writer: IO[bytes]) -> None:
        self._reader = reader
        self._writer = writer

    def send(self, message: dict[str, Any]) -> None:
        """Writes one message as one line."""
        self._writer.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
        self._writer.flush()

    def receive(self) -> dict[str, Any] | None:
        """Reads one message; None when the host closed the pipe."""
        line = self._reader.readline()
        if not line:
            return None
        message: dict[str, Any] = json.loads(line)
        return message


class Api:
    """The ``api`` object of an algorithm: each method is a request the host executes against the database."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            request = {"call": method, "args": to_plain(list(args)), "kwargs": to_plain(kwargs)}
        except UnusableValue as error:
            raise ApiError(str(error)) from None
        self._channel.send(request)
        answer = self._channel.receive()
        if answer is None:
            raise SystemExit(0)
        if "error" in answer:
            raise ApiError(answer["error"])
        return answer.get("result")

    def persons(self, text: str) -> Any:
        """Persons whose name contains ``text``."""
        return self._call("persons", text)

    def person(self, person_id: int) -> Any:
        """One person by id, or None."""
        return self._call("person", person_id)

    def my_tasks(self) -> Any:
        """The open tasks of the performer running the algorithm."""
        return self._call("my_tasks")

    def scenarios(self) -> Any:
        """Names of the current scenarios."""
        return self._call("scenarios")

    def create_task(
        self,
        title: str,
        performer: Any = None,
        description: str = "",
        deadline: Any = None,
        important: bool = False,
    ) -> Any:
        """Creates a task authored by the running performer; returns its id."""
        return self._call(
            "create_task", title, performer=performer, description=description, deadline=deadline, important=important
        )

    def start_process(self, scenario: str, description: str = "") -> Any:
        """Starts a process of a scenario on behalf of the running performer; returns its id."""
        return self._call("start_process", scenario, description=description)

    def store(self, collection: str, data: Any, shared: bool = False) -> Any:
        """Stores a record in a named collection (the bot's own, or the shared one); returns its id."""
        return self._call("store", collection, data, shared=shared)

    def records(self, collection: str, shared: bool = False) -> Any:
        """The records of a named collection (the bot's own, or the shared one), oldest first."""
        return self._call("records", collection, shared=shared)


class Worker:
    """Runs requests one after another, caching compiled code by the hash of its text."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._compiled: dict[str, CodeType] = {}

    def serve(self) -> None:
        """Answers run requests until the host closes the pipe."""
        while (request := self._channel.receive()) is not None:
            self._channel.send(self.run(request))

    def _compile(self, source: str) -> CodeType:
        key = hashlib.sha256(source.encode()).hexdigest()
        code = self._compiled.get(key)
        if code is None:
            code = compile_algorithm(source)
            if len(self._compiled) >= CACHE_SIZE:
                self._compiled.pop(next(iter(self._compiled)))
            self._compiled[key] = code
        return code

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        """Runs one algorithm and returns the final answer for the host."""
        source: str = request["code"]
        try:
            code = self._compile(source)
        except CodeRefused as error:
            return {"refused": {"line": error.line, "detail": error.detail}}
        except Exception as error:  # e.g. MemoryError or RecursionError on absurd code
            return {"failed": _short(f"код не компилируется: {type(error).__name__}: {error}"), "traceback": ""}
        names = algorithm_globals()
        performer, data = request.get("performer"), request.get("data")
        api = Api(self._channel)
        names.update({PERFORMER: performer, "performer": performer, DATA: data, "data": data})
        names.update({RESULT: None, "result": None, "api": api, "ApiError": ApiError, "ОшибкаApi": ApiError})
        _allow_cpu(int(request.get("cpu_seconds", 5)))
        try:
            exec(code, names)
            value = names.get(RESULT)
            if value is None:
                value = names.get("result")
            return {"done": to_result(value, request.get("max_bytes", 65536), request.get("max_items", 100))}
        except MemoryError:
            return {"stopped": "memory"}
        except UnusableValue as error:
            return {"failed": str(error), "traceback": ""}
        except BaseException as error:
            text = _short(f"{type(error).__name__}: {error}")
            return {"failed": text, "traceback": designer_traceback(error, source)}


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def designer_traceback(error: BaseException, source: str) -> str:
    """The traceback of ``error`` through the algorithm's own lines only (the worker's frames are not shown)."""
    lines = source.splitlines()
    shown = ["Traceback (most recent call last):"]
    tb: TracebackType | None = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == FILENAME:
            shown.append(f"  строка {tb.tb_lineno}, в {code.co_name}")
            if 0 < tb.tb_lineno <= len(lines):
                shown.append(f"    {lines[tb.tb_lineno - 1].strip()}")
        tb = tb.tb_next
    shown.append(_short(f"{type(error).__name__}: {error}"))
    return "\n".join(shown)


def _set_limit(kind: int, value: int) -> None:
    # not permitted here (e.g. a lower hard limit already): the other limits still hold
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(kind, (value, value))


def apply_limits(memory_mb: int) -> None:
    """Memory, files, processes and core dumps of the worker, set once and for good (hard limits too)."""
    _set_limit(resource.RLIMIT_AS, memory_mb * 1024 * 1024)
    _set_limit(resource.RLIMIT_CORE, 0)
    _set_limit(resource.RLIMIT_FSIZE, 0)
    _set_limit(resource.RLIMIT_NPROC, 0)
    _set_limit(resource.RLIMIT_NOFILE, 16)  # room for the standard library's own lazy imports (read-only)


def _allow_cpu(seconds: int) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = math.ceil(usage.ru_utime + usage.ru_stime)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + max(1, seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def main(argv: list[str] | None = None) -> None:
    """The worker's entry point: preload the allowed modules, lock the process down, serve the host."""
    parser = argparse.ArgumentParser(prog="algorithms.worker")
    parser.add_argument("--memory-mb", type=int, default=256)
    options = parser.parse_args(argv)
    preload_modules()
    channel = Channel(sys.stdin.buffer, sys.stdout.buffer)
    sys.stdout = sys.stderr  # nothing but the protocol goes to the host's pipe
    apply_limits(options.memory_mb)
    channel.send({"ready": True})
    Worker(channel).serve()


if __name__ == "__main__":
    main()
