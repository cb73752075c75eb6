"""«Ознакомлен»: the press on a task notification's button records when the performer acknowledged it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import update
from sqlmodel import Session, col, select

from processes.errors import InvalidState, NotFound
from processes.ids import record_id
from processes.services import ProcessService
from signal_ext.notifications.engine import ACKNOWLEDGE_PREFIX
from signal_ext.notifications.models import SYSTEM_BOT, OutboxMessage, TelegramChat


def acknowledge_press(
    open_session: Callable[[], Session], processes: ProcessService, data: str, chat_id: str, bot: str = SYSTEM_BOT
) -> int:
    """Handles a press with callback ``data`` from ``chat_id``: only the task's performer may acknowledge.

    Records the time on the task (once) and on the notifications of that task sent to the chat; returns the
    task id. Forged or foreign payloads raise NotFound / InvalidState and change nothing."""
    task_id = record_id(data[len(ACKNOWLEDGE_PREFIX) :]) if data.startswith(ACKNOWLEDGE_PREFIX) else None
    if task_id is None:
        raise NotFound("кнопка", data)
    with open_session() as session:
        person_id = session.exec(
            select(TelegramChat.person_id).where(TelegramChat.bot == bot, TelegramChat.chat_id == chat_id)
        ).first()
    if person_id is None:
        raise InvalidState("Этот чат не связан с сотрудником")
    task = processes.acknowledge_task(task_id, by=person_id)
    with open_session() as session:
        session.execute(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.task_id) == task_id,
                col(OutboxMessage.address) == chat_id,
                col(OutboxMessage.acknowledged_at).is_(None),
            )
            .values(acknowledged_at=task.acknowledged_at)
        )
        session.commit()
    return task_id
