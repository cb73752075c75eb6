"""Errors of the business-process core: one root, data in attributes, Russian messages."""

from __future__ import annotations


class ProcessError(Exception):
    """Root of every error the core raises; ``message`` is ready to show to a user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


QUOTED_CHARS = 60
"""How much of what a user typed a message repeats: a megabyte-long name must not become a megabyte-long answer."""


def quoted(value: object) -> str:
    """``value`` as text in «», cut to :data:`QUOTED_CHARS` characters, control characters shown as escapes."""
    text = str(value)
    cut = text[:QUOTED_CHARS] + ("…" if len(text) > QUOTED_CHARS else "")
    return "«" + "".join(char if char.isprintable() else repr(char)[1:-1] for char in cut) + "»"


def shortened(text: str, limit: int = 80) -> str:
    """``text`` itself when short, else its start and its end around «…» (a path keeps its file name)."""
    return text if len(text) <= limit else f"{text[: limit // 4]}…{text[-(limit - limit // 4 - 1) :]}"


class NotFound(ProcessError):
    """A person, scenario, process or task that the caller named does not exist."""

    def __init__(self, kind: str, ref: str) -> None:
        super().__init__(f"Не найдено: {kind} {quoted(ref)}")
        self.kind = kind
        self.ref = ref


class AmbiguousReference(ProcessError):
    """A name part matched several records; ``candidates`` holds their names."""

    def __init__(self, kind: str, ref: str, candidates: list[str]) -> None:
        listed = ", ".join(candidates[:10])
        more = f" и ещё {len(candidates) - 10}" if len(candidates) > 10 else ""
        super().__init__(f"Неоднозначно: {kind} {quoted(ref)} — подходят {listed}{more}; уточните")
        self.kind = kind
        self.ref = ref
        self.candidates = candidates


class InvalidState(ProcessError):
    """The operation does not fit the current status (e.g. completing a finished task)."""


class AlreadyCompleted(InvalidState):
    """The task was completed (or cancelled) before this request; nothing was changed."""

    def __init__(self, task_id: int, status: str) -> None:
        super().__init__(f"Задача {task_id} уже в статусе «{status}»; ничего не изменено")
        self.task_id = task_id
        self.status = status


class FieldError(ProcessError):
    """One required-data field is missing or does not fit its type."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class DataValidationError(ProcessError):
    """Required data of a task did not validate; ``errors`` has one entry per bad field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(error.message for error in errors))
        self.errors = errors


class ScenarioFileError(ProcessError):
    """A scenario file could not be loaded; ``line`` is 1-based when known."""

    def __init__(self, path: str, line: int | None, detail: str) -> None:
        where = f"{shortened(path)}, строка {line}" if line is not None else shortened(path)
        super().__init__(f"{where}: {detail}")
        self.path = path
        self.line = line
        self.detail = detail
