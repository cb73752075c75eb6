"""Errors of the keyword directory: one root under the core's :class:`ProcessError`, Russian messages."""

from __future__ import annotations

from processes.errors import ProcessError, shortened


class KeywordError(ProcessError):
    """Root of every error the keyword directory raises; ``message`` is ready to show."""


class KeywordFileError(KeywordError):
    """A keyword file was refused; ``line`` is 1-based when known, ``record`` is the path of words to the record."""

    def __init__(self, source: str, line: int | None, detail: str, record: str = "") -> None:
        where = f"{shortened(source)}, строка {line}" if line is not None else shortened(source)
        named = f"{record}: " if record else ""
        super().__init__(f"{where}: {named}{detail}")
        self.source = source
        self.line = line
        self.record = record
        self.detail = detail


class StateError(KeywordError):
    """A stored dialog state that cannot be read (corrupt or from another version)."""
