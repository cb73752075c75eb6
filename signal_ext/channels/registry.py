"""The explicit registry of channels: name → channel, built once in the composition root."""

from __future__ import annotations

from collections.abc import Iterable

from signal_ext.channels.base import Channel


class ChannelRegistry:
    """Channels by name; a message for a channel that is not configured fails with a clear reason."""

    def __init__(self, channels: Iterable[Channel] = ()) -> None:
        self._channels: dict[str, Channel] = {}
        for channel in channels:
            self.register(channel)

    def register(self, channel: Channel) -> None:
        """Adds (or replaces) the channel called ``channel.name``."""
        self._channels[channel.name] = channel

    def get(self, name: str) -> Channel | None:
        """The channel called ``name``, if configured."""
        return self._channels.get(name)

    async def aclose(self) -> None:
        """Closes the channels that hold connections."""
        for channel in self._channels.values():
            close = getattr(channel, "close", None)
            if close is not None:
                await close()

    def names(self) -> list[str]:
        """The configured channels' names."""
        return sorted(self._channels)
