"""Telegram's flood limits: per bot overall, per chat, per group; over the limit the answer is 429."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

K = TypeVar("K")
LIMITED_METHODS = frozenset({"sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup"})


@dataclass
class LimitConfig:
    """Rate limits, enforced only when ``enabled``.

    - per bot: a sliding one-second window of ``per_bot_per_second`` messages;
    - per chat: a token bucket refilled at ``per_chat_per_second`` holding up to ``chat_burst`` messages (so a
      short burst of ``chat_burst`` passes, then one message per ``1 / per_chat_per_second`` seconds);
    - per group (negative chat id): a sliding one-minute window of ``per_group_per_minute`` messages.
    """

    enabled: bool = False
    per_bot_per_second: int = 30
    per_chat_per_second: float = 1.0
    chat_burst: int = 3
    per_group_per_minute: int = 20

    def __post_init__(self) -> None:
        if self.per_bot_per_second < 1 or self.chat_burst < 1 or self.per_group_per_minute < 1:
            raise ValueError("limits must be at least 1")
        if self.per_chat_per_second <= 0:
            raise ValueError("per_chat_per_second must be positive")

    def to_json(self) -> dict[str, Any]:
        """The configuration as JSON."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LimitConfig:
        """Build from JSON; missing keys take their defaults, unknown keys raise ``ValueError``."""
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown limit settings: {', '.join(sorted(unknown))}")
        return cls(**dict(data))


class RateLimiter:
    """Counts messages and tells how long a sender over a limit must wait. Not thread-safe by itself."""

    def __init__(self, config: LimitConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self._bot_windows: dict[int, deque[float]] = {}
        self._group_windows: dict[tuple[int, int], deque[float]] = {}
        self._buckets: dict[tuple[int, int], tuple[float, float]] = {}  # (tokens, at)

    def check(self, bot_id: int, chat_id: int | None) -> int | None:
        """Record one message; or, over a limit, record nothing and return ``retry_after`` in whole seconds."""
        if not self.config.enabled:
            return None
        now = self.clock()
        waits: list[float] = []
        bot_window = self._window(self._bot_windows, bot_id, now, 1.0)
        if len(bot_window) >= self.config.per_bot_per_second:
            waits.append(bot_window[0] + 1.0 - now)
        tokens = 0.0
        group_window: deque[float] | None = None
        if chat_id is not None:
            rate, burst = self.config.per_chat_per_second, float(self.config.chat_burst)
            tokens, at = self._buckets.get((bot_id, chat_id), (burst, now))
            tokens = min(burst, tokens + (now - at) * rate)
            if tokens < 1.0:
                waits.append((1.0 - tokens) / rate)
            if chat_id < 0:
                group_window = self._window(self._group_windows, (bot_id, chat_id), now, 60.0)
                if len(group_window) >= self.config.per_group_per_minute:
                    waits.append(group_window[0] + 60.0 - now)
        if waits:
            return max(1, math.ceil(max(waits)))
        bot_window.append(now)
        if chat_id is not None:
            self._buckets[(bot_id, chat_id)] = (tokens - 1.0, now)
            if group_window is not None:
                group_window.append(now)
        return None

    @staticmethod
    def _window(windows: dict[K, deque[float]], key: K, now: float, span: float) -> deque[float]:
        window = windows.setdefault(key, deque())
        while window and window[0] <= now - span:
            window.popleft()
        return window
