"""Injected faults: server errors, hanging requests, dropped connections, lost answers, blocked users."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

FaultKind = Literal["server_error", "timeout", "drop_connection", "lost_answer", "blocked"]
FAULT_KINDS: tuple[FaultKind, ...] = ("server_error", "timeout", "drop_connection", "lost_answer", "blocked")
SEND_METHODS = frozenset({"sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup"})


@dataclass
class FaultConfig:
    """Fault rates (0..1, summing to at most 1) for the methods in ``methods``; one seeded draw per request.

    - ``server_error``: HTTP 500 or 502 with a Telegram-style JSON body; nothing is accepted.
    - ``timeout``: the request hangs ``timeout_seconds``, then is handled as usual (a message is accepted late);
      when the client has gone by then, the answer counts as lost.
    - ``drop_connection``: the connection closes after the response headers; nothing is accepted.
    - ``lost_answer``: the request is handled (a message is accepted and recorded), then the connection closes
      without the answer.
    - ``blocked``: 403 "Forbidden: bot was blocked by the user"; nothing is accepted.
    """

    server_error: float = 0.0
    timeout: float = 0.0
    drop_connection: float = 0.0
    lost_answer: float = 0.0
    blocked: float = 0.0
    timeout_seconds: float = 15.0
    seed: int | None = None
    methods: frozenset[str] = SEND_METHODS
    rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for kind in FAULT_KINDS:
            rate = getattr(self, kind)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate {kind} must be within 0..1, got {rate}")
        if self.total_rate() > 1.0 + 1e-9:
            raise ValueError(f"fault rates must sum to at most 1, got {self.total_rate()}")
        if self.timeout_seconds < 0:
            raise ValueError("timeout_seconds must not be negative")
        self.methods = frozenset(self.methods)
        self._lowered = frozenset(method.lower() for method in self.methods)
        self.rng = random.Random(self.seed)

    def total_rate(self) -> float:
        """The probability that a request to one of ``methods`` gets some fault."""
        return sum(float(getattr(self, kind)) for kind in FAULT_KINDS)

    def applies_to(self, method: str) -> bool:
        """Whether faults are injected into ``method`` (compared case-insensitively, as Telegram does)."""
        return method.lower() in self._lowered

    def choose(self, method: str) -> FaultKind | None:
        """Draw the fault for one request to ``method``, or None for a normal answer."""
        if not self.applies_to(method) or self.total_rate() == 0.0:
            return None
        draw = self.rng.random()
        threshold = 0.0
        for kind in FAULT_KINDS:
            threshold += float(getattr(self, kind))
            if draw < threshold:
                return kind
        return None

    def server_error_status(self) -> int:
        """500 or 502, drawn from the same seeded generator."""
        return self.rng.choice((500, 502))

    def to_json(self) -> dict[str, Any]:
        """The configuration as JSON (``methods`` sorted)."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        data["methods"] = sorted(self.methods)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultConfig:
        """Build from JSON; missing keys take their defaults, unknown keys raise ``ValueError``."""
        known = {f.name for f in fields(cls) if f.init}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        values = dict(data)
        if "methods" in values:
            values["methods"] = frozenset(values["methods"])
        return cls(**values)
