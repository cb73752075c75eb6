"""The internal inbox («система взаимодействия»): the stored message is the delivery; people read it later."""

from __future__ import annotations

from signal_ext.channels.base import DeliveryResult, OutgoingMessage


class InboxChannel:
    """Delivers by keeping: the outbox row becomes an inbox entry of the person, with a read mark."""

    name = "inbox"

    def parts(self, message: OutgoingMessage) -> int:
        """An inbox entry is one part."""
        return 1

    async def send_part(self, message: OutgoingMessage, part: int) -> DeliveryResult:
        """The whole message: it has one part."""
        return await self.send(message)

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        """Accepts every message addressed to a person."""
        if message.person_id is None:
            return DeliveryResult.failed("Сообщение во «Входящие» без получателя")
        return DeliveryResult.sent(f"inbox:{message.message_id}")
