"""The state every dialog of the system bot shares: the chat, its person, the bot's texts, the open step."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from processes.fields import FieldSpec
from processes.models import Attachment, Person, Task
from processes.queries import show_task
from signal_ext.bootstrap import App
from signal_ext.bots.commands import Command
from signal_ext.bots.dialogs import current_step, end_dialog, set_step
from signal_ext.bots.texts_cache import TextsCache, read_texts
from signal_ext.lifecycle.access import CHATS, PERSONS, UNLINKED, ChatAccess, ChatState, access_from

PAGE = 8
MENU_LABELS = {
    Command.MY_TASKS: "button_my_tasks",
    Command.NEW_TASK: "button_new_task",
    Command.NEW_PROCESS: "button_new_process",
}
Buttons = list[list[tuple[str, str]]]


@dataclass
class Reply:
    """One message to send: HTML text, inline buttons (label, payload), the reply menu on/off, other reply
    buttons, or a file."""

    text: str = ""
    buttons: Buttons = field(default_factory=list)
    menu: bool | None = None
    menu_labels: list[str] = field(default_factory=list)
    document: tuple[str, bytes] | None = None
    keyboard: list[tuple[str, bool]] = field(default_factory=list)  # reply buttons (label, shares the contact)


class ConversationBase:
    """One chat of one bot, with its linked person (if any), the bot's texts and the open dialog step."""

    def __init__(self, app: App, bot: str, chat_id: str, texts: TextsCache | None = None) -> None:
        self.app, self.bot, self.chat_id = app, bot, chat_id
        with app.read_session() as session:
            self.person, self.access = _linked_person(session, bot, chat_id)
            self.texts = texts.get(bot, session) if texts is not None else read_texts(session, bot)
            self.step = current_step(session, bot, chat_id)

    def say(self, text_key: str, /, **values: object) -> str:
        """The bot's text ``text_key`` with ``values`` escaped for Telegram HTML."""
        return self.texts.get(text_key, **{name: html.escape(str(value)) for name, value in values.items()})

    def _own_task(self, task_id: int) -> Task | None:
        with self.app.read_session() as session:
            task = session.get(Task, task_id)
        if task is None or self.person is None or task.performer_id != self.person.id:
            return None
        return task

    def _fields(self, task: Task) -> list[FieldSpec]:
        with self.app.read_session() as session:
            raw = show_task(session, task.id or 0).fields
        return [FieldSpec.model_validate(item) for item in raw]

    def _attachment_count(self, task: Task) -> int:
        if task.process_id is None:
            return 0
        with self.app.read_session() as session:
            return len(list(session.exec(select(Attachment.id).where(Attachment.process_id == task.process_id))))

    def _task_label(self, task: Task) -> str:
        mark = "❗ " if task.important else ""
        return f"{mark}{task.title}{self._deadline_suffix(task)}"

    def _deadline_suffix(self, task: Task) -> str:
        return f" (до {self._local(task.deadline)})" if task.deadline else ""

    def _local(self, moment: Any) -> str:
        return moment.astimezone(self.app.settings.zone).strftime("%d.%m.%Y %H:%M") if moment else ""

    def _set_step(self, step: str, data: dict[str, Any]) -> None:
        with self.app.open_session() as session:
            set_step(session, self.bot, self.chat_id, step, data)
            session.commit()

    def _end(self) -> None:
        with self.app.open_session() as session:
            end_dialog(session, self.bot, self.chat_id)
            session.commit()


_PERSON_COLUMNS = tuple(column.name for column in PERSONS.columns)
_PERSON_OF_CHAT = (
    core_select(PERSONS, CHATS.c.id.label("chat_row"), CHATS.c.revoked_at.label("chat_revoked_at"))
    .join(CHATS, CHATS.c.person_id == PERSONS.c.id)
    .where(CHATS.c.bot == bindparam("bot"), CHATS.c.chat_id == bindparam("chat"))
)
"""Built once, in SQLAlchemy Core: every update of every chat asks it."""


def _linked_person(session: Session, bot: str, chat_id: str) -> tuple[Person | None, ChatAccess]:
    """The chat's person when they may use the bot (linked, active, not blocked, chat not revoked), and the
    chat's access (what the lifecycle gate answers a blocked or revoked chat)."""
    row = session.connection().execute(_PERSON_OF_CHAT, {"bot": bot, "chat": chat_id}).first()
    if row is None:
        return None, UNLINKED
    values = row._mapping
    person = Person(**{name: values[name] for name in _PERSON_COLUMNS})
    access = access_from(
        values["chat_row"], person.id, person.active, person.blocked, person.blocked_reason, values["chat_revoked_at"]
    )
    return (person if access.state is ChatState.LINKED else None), access
