"""What the host accepts from the sandbox: every message is checked for its shape, types and sizes before use.

A message that does not fit is treated as the sandbox misbehaving: the run is stopped and the template replaced.
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Any

from algorithms.errors import AlgorithmError, AlgorithmFailed, AlgorithmStopped, CodeRefused, ExpressionRefused
from algorithms.expression import ExpressionValue
from algorithms.values import AlgorithmValue, UnusableValue, to_result

if TYPE_CHECKING:
    from algorithms.runner import Limits

MAX_TEXT = 2000
MAX_TRACEBACK = 20_000
MAX_METHOD = 64
CHILD_OUT_OF_MEMORY = 71


class ProtocolError(AlgorithmError):
    """The sandbox sent something the protocol does not allow."""

    def __init__(self) -> None:
        super().__init__("Процесс алгоритма прислал непонятный ответ")


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise ProtocolError()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def check_call(message: dict[str, Any]) -> tuple[str, list[Any], dict[str, Any]]:
    """An api call's method, positional and keyword arguments, each of the right type."""
    method, args, kwargs = message.get("call"), message.get("args", []), message.get("kwargs", {})
    if not isinstance(method, str) or len(method) > MAX_METHOD or not isinstance(args, list):
        raise ProtocolError()
    if not isinstance(kwargs, dict) or not all(isinstance(key, str) for key in kwargs):
        raise ProtocolError()
    return method, args, kwargs


def final_stop(message: dict[str, Any], seconds: float, memory_mb: int) -> None:
    """Raises :class:`AlgorithmStopped` when the run ended at a limit rather than with an answer."""
    if message.get("stopped") == "memory":
        raise AlgorithmStopped("memory", f"превышен лимит памяти ({memory_mb} МБ)")
    ended = message.get("ended")
    if ended is None:
        return
    if ended == "time":
        raise AlgorithmStopped("time", f"превышено время выполнения ({seconds:g} с)")
    if ended == "size":
        raise AlgorithmStopped("size", "слишком большой объём данных от алгоритма")
    code = message.get("code")
    if code in (-signal.SIGXCPU, -signal.SIGKILL):  # the soft processor-time limit, then the hard one
        raise AlgorithmStopped("cpu", f"превышен лимит процессорного времени ({max(1, int(seconds + 0.999))} с)")
    if code == CHILD_OUT_OF_MEMORY:
        raise AlgorithmStopped("memory", f"превышен лимит памяти ({memory_mb} МБ)")
    shown = code if isinstance(code, int) else "?"
    raise AlgorithmStopped("crash", f"процесс алгоритма аварийно завершился (код {shown}); возможно, не хватило памяти")


def to_value(message: dict[str, Any], limits: Limits) -> AlgorithmValue:
    """An algorithm's final message as its result, or the error it reports."""
    if "done" in message:
        try:
            return to_result(message["done"], limits.result_bytes, limits.result_items)
        except UnusableValue:
            raise ProtocolError() from None
    if "failed" in message:
        raise AlgorithmFailed(_text(message["failed"]), _text(message.get("traceback", ""), MAX_TRACEBACK))
    refused = message.get("refused")
    if isinstance(refused, dict):
        line = refused.get("line")
        known = line if isinstance(line, int) and not isinstance(line, bool) else None
        raise CodeRefused(known, _text(refused.get("detail")))
    raise ProtocolError()


def to_expression(message: dict[str, Any]) -> ExpressionValue | None:
    """An expression's final message as its value (None: not an expression), or the refusal it reports."""
    if "declined" in message:
        raise ExpressionRefused(_text(message["declined"]))
    if "value" not in message:
        raise ProtocolError()
    found = message["value"]
    if found is None:
        return None
    if not isinstance(found, dict):
        raise ProtocolError()
    value = found.get("value")
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ProtocolError()
    return ExpressionValue(value, _text(found.get("text")))
