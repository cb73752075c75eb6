"""One run inside the sandbox: the code a fresh process forked by :mod:`algorithms.zygote` executes, then exits.

The process talks JSON lines with the template over a socket: any number of ``call`` requests out (the template
passes them to the host, which alone touches the database, and passes the answer back), then one final answer:
``done``, ``failed``, ``stopped`` or ``refused`` for an algorithm; ``value`` or ``declined`` for an expression.
Nothing here imports the service: only the standard library, RestrictedPython, simpleeval and this package.
"""

from __future__ import annotations

import contextlib
import json
import resource
from datetime import datetime
from types import CodeType, TracebackType
from typing import IO, Any

from algorithms.errors import ExpressionRefused
from algorithms.expression import evaluate_expression
from algorithms.guards import algorithm_globals
from algorithms.sandbox import DATA, FILENAME, PERFORMER, RESULT
from algorithms.values import UnusableValue, to_plain, to_result

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


def run_algorithm(code: CodeType, source: str, request: dict[str, Any], channel: Channel) -> dict[str, Any]:
    """Runs one compiled algorithm in this (fresh) process and returns the final answer for the host."""
    names = algorithm_globals()
    performer, data = request.get("performer"), request.get("data")
    api = Api(channel)
    names.update({PERFORMER: performer, "performer": performer, DATA: data, "data": data})
    names.update({RESULT: None, "result": None, "api": api, "ApiError": ApiError, "ОшибкаApi": ApiError})
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


def evaluate(request: dict[str, Any]) -> dict[str, Any]:
    """Evaluates one code-mode expression in this (fresh) process: ``value`` (None: not an expression) or
    ``declined`` with the Russian reason."""
    try:
        found = evaluate_expression(str(request["text"]), datetime.fromisoformat(str(request["now"])))
    except ExpressionRefused as error:
        return {"declined": _short(error.message)}
    except MemoryError:
        return {"stopped": "memory"}
    except Exception as error:  # the evaluator's own failure on absurd input: refused, never shown as a repr
        return {"declined": f"Выражение не вычисляется ({type(error).__name__})"}
    if found is None:
        return {"value": None}
    value = found.value if isinstance(found.value, str | int | float | bool) else None
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        value = None  # the text says it; a huge number needs not cross the pipe twice
    return {"value": {"text": _short(found.text), "value": value}}


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


def _set_limit(kind: int, soft: int, hard: int | None = None) -> None:
    # not permitted here (e.g. a lower hard limit already): the other limits still hold
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(kind, (soft, soft if hard is None else hard))


def apply_limits(memory_mb: int, cpu_seconds: int) -> None:
    """The limits of one run's process, set for good (hard limits too): memory, processor time (SIGXCPU at the
    soft limit, SIGKILL a second later), no files written, no processes, no core dumps, few descriptors."""
    _set_limit(resource.RLIMIT_AS, memory_mb * 1024 * 1024)
    _set_limit(resource.RLIMIT_CPU, max(1, cpu_seconds), max(1, cpu_seconds) + 1)
    _set_limit(resource.RLIMIT_CORE, 0)
    _set_limit(resource.RLIMIT_FSIZE, 0)
    _set_limit(resource.RLIMIT_NPROC, 0)
    _set_limit(resource.RLIMIT_NOFILE, 16)  # room for the standard library's own lazy imports (read-only)
