"""Errors of the algorithms package: one root, Russian messages, details for the designer in attributes."""

from __future__ import annotations

from processes.errors import ProcessError


class AlgorithmError(ProcessError):
    """Root of every error the algorithms package raises; ``message`` is ready to show to a user."""


class AlgorithmNotFound(AlgorithmError):
    """No algorithm has the id, name or additional name the caller gave."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"Не найдено: алгоритм «{ref}»")
        self.ref = ref


def _subject(algorithm: str | None) -> str:
    return f"Алгоритм «{algorithm}»" if algorithm else "Алгоритм"


class CodeRefused(AlgorithmError):
    """The code does not compile under the sandbox's rules; ``line`` is 1-based when known."""

    def __init__(self, line: int | None, detail: str, algorithm: str | None = None) -> None:
        where = f"строка {line}: " if line is not None else ""
        subject = f"Код алгоритма «{algorithm}»" if algorithm else "Код алгоритма"
        super().__init__(f"{subject} не принят: {where}{detail}")
        self.line = line
        self.detail = detail

    def named(self, algorithm: str) -> CodeRefused:
        """The same refusal, its message naming the algorithm."""
        return CodeRefused(self.line, self.detail, algorithm)


class AlgorithmFailed(AlgorithmError):
    """The algorithm raised an exception or returned an unusable value.

    ``traceback`` holds the designer's traceback (lines of the algorithm only); it is for the log, never for
    the user's message.
    """

    def __init__(self, detail: str, traceback: str = "", algorithm: str | None = None) -> None:
        super().__init__(f"{_subject(algorithm)} завершился с ошибкой: {detail}")
        self.detail = detail
        self.traceback = traceback

    def named(self, algorithm: str) -> AlgorithmFailed:
        """The same failure, its message naming the algorithm."""
        return AlgorithmFailed(self.detail, self.traceback, algorithm)


class AlgorithmStopped(AlgorithmError):
    """The run hit a limit and was stopped; ``limit`` names it: ``time``, ``cpu``, ``memory``, ``api``,
    ``size`` or ``crash``."""

    def __init__(self, limit: str, detail: str, algorithm: str | None = None) -> None:
        super().__init__(f"{_subject(algorithm)} остановлен: {detail}")
        self.limit = limit
        self.detail = detail

    def named(self, algorithm: str) -> AlgorithmStopped:
        """The same stop, its message naming the algorithm."""
        return AlgorithmStopped(self.limit, self.detail, algorithm)


class ExpressionRefused(AlgorithmError):
    """A chat message is an expression, but it is not evaluated (a limit, a forbidden name, an error)."""
