"""Per-bot update queues with ``getUpdates`` semantics: offsets confirm, long polls wait, a newer poll wins."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any

from .errors import conflict

JSONDict = dict[str, Any]


@dataclass
class _Queue:
    updates: list[JSONDict] = field(default_factory=list)
    next_id: int = 1
    generation: int = 0
    closed: bool = False
    waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=list)

    def wake(self) -> None:
        for loop, event in list(self.waiters):
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(event.set)

    def confirm(self, offset: int) -> None:
        if offset < 0:
            del self.updates[: max(0, len(self.updates) + offset)]
        elif offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]

    def ready(self, offset: int, limit: int) -> list[JSONDict]:
        return [u for u in self.updates if u["update_id"] >= offset][:limit]


class UpdateQueues:
    """Updates waiting for each bot; every method takes the owner's lock itself."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._queues: dict[int, _Queue] = {}
        self.stopping = False

    def stop_waiting(self, stopping: bool = True) -> None:
        """While ``stopping``, long polls answer at once (a stopping server then has nothing in flight)."""
        with self._lock:
            self.stopping = stopping
            for queue in self._queues.values():
                queue.wake()

    def push(self, bot_id: int, update: JSONDict) -> JSONDict:
        """Give ``update`` the bot's next ``update_id``, queue it and wake a waiting long poll."""
        with self._lock:
            queue = self._queues.setdefault(bot_id, _Queue())
            update = {"update_id": queue.next_id, **update}
            queue.next_id += 1
            queue.updates.append(update)
            queue.wake()
            return update

    def pending(self, bot_id: int) -> int:
        """How many updates wait for the bot (unconfirmed)."""
        with self._lock:
            queue = self._queues.get(bot_id)
            return len(queue.updates) if queue else 0

    def drop_pending(self, bot_id: int) -> None:
        """Forget the bot's waiting updates (``deleteWebhook(drop_pending_updates=True)``)."""
        with self._lock:
            queue = self._queues.get(bot_id)
            if queue:
                queue.updates.clear()

    def close(self) -> None:
        """Forget every queue; polls waiting on them return empty lists."""
        with self._lock:
            for queue in self._queues.values():
                queue.closed = True
                queue.wake()
            self._queues.clear()

    async def get(self, bot_id: int, offset: int, limit: int, timeout: float) -> list[JSONDict]:
        """``getUpdates``: confirm below ``offset``, answer at once or wait up to ``timeout`` seconds.

        A newer ``getUpdates`` for the same bot ends this one with 409 Conflict, as Telegram does.
        """
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        with self._lock:
            queue = self._queues.setdefault(bot_id, _Queue())
            queue.generation += 1
            generation = queue.generation
            queue.wake()
            queue.confirm(offset)
            found = queue.ready(offset, limit)
            if found or timeout <= 0 or self.stopping:
                return found
            queue.waiters.append((loop, event))
        deadline = loop.time() + timeout
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), max(0.0, deadline - loop.time()))
                with self._lock:
                    event.clear()
                    if queue.closed or self.stopping:
                        return queue.ready(offset, limit) if not queue.closed else []
                    if queue.generation != generation:
                        raise conflict(
                            "terminated by other getUpdates request; make sure that only one bot instance is running"
                        )
                    found = queue.ready(offset, limit)
                    if found or loop.time() >= deadline:
                        return found
        finally:
            with self._lock:
                if (loop, event) in queue.waiters:
                    queue.waiters.remove((loop, event))
