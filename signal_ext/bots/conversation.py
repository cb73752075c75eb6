"""What the system bot says to one chat: plain logic over the core, no Telegram objects (the bot sends them).

Button payloads carry no trust: every press is checked against the chat's own person and the task's state."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from processes.errors import AlreadyCompleted, FieldError, InvalidState, ProcessError
from processes.fields import FieldSpec, FieldType, parse_value
from processes.models import Attachment, Person, ProcessStatus, Scenario, Task, TaskCreate, TaskStatus
from processes.persons import match_persons
from processes.queries import show_task
from processes.scenarios import current_scenarios
from signal_ext.bootstrap import App
from signal_ext.bots.commands import MENU_BUTTONS, Command, normalise
from signal_ext.bots.dialogs import current_step, end_dialog, set_step
from signal_ext.bots.directory import find_bot, system_bot, texts_of
from signal_ext.bots.invites import redeem_invite
from signal_ext.bots.new_task_text import parse_new_task_text
from signal_ext.bots.texts import BotTexts
from signal_ext.notifications.acknowledgement import acknowledge_press
from signal_ext.notifications.models import SYSTEM_BOT, TelegramChat

PAGE = 8
MENU_LABELS = {
    Command.MY_TASKS: "button_my_tasks",
    Command.NEW_TASK: "button_new_task",
    Command.NEW_PROCESS: "button_new_process",
}
Buttons = list[list[tuple[str, str]]]


@dataclass
class Reply:
    """One message to send: HTML text, inline buttons (label, payload), the reply menu on/off, or a file."""

    text: str = ""
    buttons: Buttons = field(default_factory=list)
    menu: bool | None = None
    menu_labels: list[str] = field(default_factory=list)
    document: tuple[str, bytes] | None = None


class Conversation:
    """One chat of one bot, with its linked person (if any) and the bot's texts."""

    def __init__(self, app: App, bot: str, chat_id: str) -> None:
        self.app, self.bot, self.chat_id = app, bot, chat_id
        with app.read_session() as session:
            self.person = _linked_person(session, bot, chat_id)
            self.texts = _texts(session, bot)
            self.step = current_step(session, bot, chat_id)

    @staticmethod
    def error_text(app: App, bot: str) -> str:
        """The bot's «something went wrong» text (defaults when even the texts cannot be read)."""
        try:
            with app.read_session() as session:
                return _texts(session, bot).get("error")
        except Exception:
            return BotTexts().get("error")

    def say(self, text_key: str, /, **values: object) -> str:
        """The bot's text ``text_key`` with ``values`` escaped for Telegram HTML."""
        return self.texts.get(text_key, **{name: html.escape(str(value)) for name, value in values.items()})

    def start(self, argument: str) -> list[Reply]:
        greeting = Reply(self.say("start", bot=self.bot, description=""))
        if argument and self.person is None:
            with self.app.open_session() as session:
                self.person = redeem_invite(session, self.bot, argument, self.chat_id)
                session.commit()
        if self.person is None:
            return [greeting, self.not_authorized()]
        return [greeting, self.menu_shown()]

    def my_key(self) -> Reply:
        return Reply(self.say("my_key", key=self.chat_id))

    def not_authorized(self) -> Reply:
        return Reply(self.say("not_authorized", key=self.chat_id))

    def menu_shown(self) -> Reply:
        labels = [self.texts.get(MENU_LABELS[command]) for command in MENU_BUTTONS]
        return Reply(self.say("menu_shown"), menu=True, menu_labels=labels)

    def menu_command(self, text: str) -> Command | None:
        """The menu command whose (possibly overridden) button label ``text`` is."""
        typed = normalise(text)
        return next((c for c in MENU_BUTTONS if normalise(self.texts.get(MENU_LABELS[c])) == typed), None)

    def menu_removed(self) -> Reply:
        return Reply(self.say("menu_removed"), menu=False)

    def unknown(self) -> Reply:
        return Reply(
            self.say("unknown_request") if self.person is not None else self.say("not_authorized", key=self.chat_id)
        )

    def my_tasks(self, page: int = 0) -> list[Reply]:
        """The person's open tasks as buttons, important ones marked, with deadlines; paged."""
        assert self.person is not None
        with self.app.read_session() as session:
            statement = (
                select(Task)
                .where(Task.performer_id == self.person.id, Task.status == TaskStatus.ACTIVE)
                .order_by(col(Task.deadline).is_(None), col(Task.deadline), col(Task.id))
            )
            tasks = list(session.exec(statement))
        if not tasks:
            return [Reply(self.say("my_tasks_empty"))]
        shown = tasks[page * PAGE : (page + 1) * PAGE]
        buttons: Buttons = [[(self._task_label(task), f"task:{task.id}")] for task in shown]
        navigation = [("◀", f"page:{page - 1}")] if page > 0 else []
        navigation += [("▶", f"page:{page + 1}")] if (page + 1) * PAGE < len(tasks) else []
        if navigation:
            buttons.append(navigation)
        return [Reply(self.say("my_tasks_header", count=len(tasks)), buttons)]

    def new_task(self) -> list[Reply]:
        """Asks for [Описание], [Исполнитель], [Срок], [Важная]."""
        self._set_step("new_task", {})
        return [Reply(self.say("new_task_prompt"))]

    def new_process(self) -> list[Reply]:
        """Offers the scenarios as buttons."""
        with self.app.read_session() as session:
            scenarios = list(current_scenarios(session))
        if not scenarios:
            return [Reply(self.say("no_scenarios"))]
        return [Reply(self.say("choose_scenario"), [[(s.name, f"proc:{s.id}")] for s in scenarios])]

    def press(self, data: str) -> list[Reply]:
        """A button press; anything not understood, not this person's or no longer open is refused politely."""
        kind, _, value = data.partition(":")
        if self.person is None:
            return [self.not_authorized()]
        if kind == "page" and value.lstrip("-").isdigit():
            return self.my_tasks(max(int(value), 0))
        if kind in ("task", "more", "done", "files", "ack") and value.isdigit():
            return self._task_press(kind, int(value))
        if kind == "choice":
            return self._choice(value)
        if kind == "proc" and value.isdigit():
            return self._choose_scenario(int(value))
        if kind == "perf" and value.isdigit():
            return self._choose_performer(int(value))
        return [Reply(self.say("task_not_available"))]

    def _task_press(self, kind: str, task_id: int) -> list[Reply]:
        task = self._own_task(task_id)
        if task is None:
            return [Reply(self.say("task_not_available"))]
        if kind == "ack":
            acknowledge_press(self.app.open_session, self.app.processes, f"ack:{task_id}", self.chat_id, self.bot)
            return [Reply(self.say("acknowledged", title=task.title))]
        if task.status != TaskStatus.ACTIVE:
            return [Reply(self.say("task_already_completed", id=task.id, title=task.title, status=task.status))]
        if kind == "task":
            return [self._task_card(task)]
        if kind == "more":
            return [self._task_details(task)]
        if kind == "files":
            return self._files(task)
        return self._begin_completion(task)

    def continue_dialog(self, step: Any, text: str) -> list[Reply]:
        """The answer to the open dialog step."""
        if self.person is None:
            return [self.not_authorized()]
        if step.step == "comment":
            return self._complete(step.data, text.strip())
        if step.step == "field":
            return self._field_answer(step.data, text.strip())
        if step.step == "new_task":
            return self._new_task_text(text)
        if step.step == "process_description":
            return self._start_process(int(step.data["scenario_id"]), text.strip())
        return [self.unknown()]

    # -- new task, new process -------------------------------------------------------------------------------

    def _new_task_text(self, text: str) -> list[Reply]:
        settings = self.app.settings

        def match(name: str) -> list[int]:
            with self.app.read_session() as session:
                return [p.id for p in match_persons(session, name) if p.id is not None and p.active]

        try:
            parsed = parse_new_task_text(text, match, self.app.clock(), settings.zone, settings.workday_end)
        except ProcessError as error:
            return [Reply(html.escape(error.message))]
        draft = {
            "description": parsed.description,
            "deadline": parsed.deadline.isoformat() if parsed.deadline else None,
            "important": parsed.important,
        }
        if len(parsed.performer_ids) > 1:
            self._set_step("new_task_performer", draft)
            with self.app.read_session() as session:
                names = {
                    p.id: p.full_name
                    for p in session.exec(select(Person).where(col(Person.id).in_(parsed.performer_ids)))
                }
            buttons = [[(names.get(pid, str(pid)), f"perf:{pid}")] for pid in parsed.performer_ids]
            return [Reply(self.say("performer_ambiguous", name=parsed.performer_text or ""), buttons)]
        performer = parsed.performer_ids[0] if parsed.performer_ids else None
        return self._create_task(draft, performer)

    def _choose_performer(self, person_id: int) -> list[Reply]:
        with self.app.read_session() as session:
            step = current_step(session, self.bot, self.chat_id)
        if step is None or step.step != "new_task_performer":
            return [Reply(self.say("task_not_available"))]
        return self._create_task(step.data, person_id)

    def _create_task(self, draft: dict[str, Any], performer_id: int | None) -> list[Reply]:
        assert self.person is not None and self.person.id is not None
        deadline = datetime.fromisoformat(draft["deadline"]) if draft.get("deadline") else None
        description = str(draft["description"])
        data = TaskCreate(
            title=description[:80],
            description=description,
            performer_id=performer_id or self.person.id,
            author_id=self.person.id,
            deadline=deadline,
            important=bool(draft.get("important")),
        )
        task = self.app.processes.create_task(data)
        self._end()
        with self.app.read_session() as session:
            public = show_task(session, task.id or 0)
        return [
            Reply(
                self.say(
                    "task_created",
                    id=public.id,
                    title=public.title,
                    performer=public.performer,
                    deadline=self._local(public.deadline) or "—",
                )
            )
        ]

    def _choose_scenario(self, scenario_id: int) -> list[Reply]:
        with self.app.read_session() as session:
            scenario = session.get(Scenario, scenario_id)
        if scenario is None or not scenario.current:
            return [Reply(self.say("task_not_available"))]
        self._set_step("process_description", {"scenario_id": scenario_id})
        return [Reply(self.say("process_description_prompt", scenario=scenario.name))]

    def _start_process(self, scenario_id: int, description: str) -> list[Reply]:
        assert self.person is not None and self.person.id is not None
        process = self.app.processes.start_process(scenario_id, self.person.id, description)
        self._end()
        with self.app.read_session() as session:
            scenario = session.get(Scenario, scenario_id)
        key = "process_started" if process.status == ProcessStatus.ACTIVE else "process_created"
        return [
            Reply(self.say(key, id=process.id, scenario=scenario.name if scenario else "", description=description))
        ]

    # -- completion ------------------------------------------------------------------------------------------

    def _begin_completion(self, task: Task) -> list[Reply]:
        specs = self._fields(task)
        data: dict[str, Any] = {"task_id": task.id, "values": {}, "index": 0}
        if not specs:
            self._set_step("comment", data)
            return [Reply(self.say("ask_comment", title=task.title))]
        self._set_step("field", data)
        return [Reply(self.say("task_needs_data", title=task.title, count=len(specs))), self._ask_field(specs[0])]

    def _field_answer(self, data: dict[str, Any], text: str) -> list[Reply]:
        task = self._own_task(int(data["task_id"]))
        if task is None or task.status != TaskStatus.ACTIVE:
            self._end()
            return [Reply(self.say("task_not_available"))]
        specs = self._fields(task)
        spec = specs[int(data["index"])]
        try:
            parse_value(spec, text)
        except FieldError as error:
            reason = error.message.split(": ", 1)[-1]
            return [
                Reply(self.say("field_invalid", title=spec.label, value=text, reason=reason)),
                self._ask_field(spec),
            ]
        values = {**data["values"], spec.name: text}
        index = int(data["index"]) + 1
        if index < len(specs):
            self._set_step("field", {**data, "values": values, "index": index})
            return [self._ask_field(specs[index])]
        self._set_step("comment", {**data, "values": values})
        return [Reply(self.say("ask_comment", title=task.title))]

    def _choice(self, value: str) -> list[Reply]:
        with self.app.read_session() as session:
            step = current_step(session, self.bot, self.chat_id)
        if step is None or step.step != "field":
            return [Reply(self.say("task_not_available"))]
        return self._field_answer(step.data, value)

    def _complete(self, data: dict[str, Any], comment: str) -> list[Reply]:
        task_id = int(data["task_id"])
        assert self.person is not None
        try:
            self.app.processes.complete_task(task_id, comment, data.get("values") or {}, by=self.person.id)
        except AlreadyCompleted as error:
            self._end()
            return [Reply(html.escape(error.message))]
        except InvalidState:
            self._end()
            return [Reply(self.say("task_not_available"))]
        self._end()
        with self.app.read_session() as session:
            title = show_task(session, task_id).title
        return [Reply(self.say("task_completed", id=task_id, title=title))]

    def _ask_field(self, spec: FieldSpec) -> Reply:
        if spec.type is FieldType.CHOICE:
            return Reply(self.say("choose_value", title=spec.label), [[(c, f"choice:{c}")] for c in spec.choices])
        return Reply(self.say("ask_field", title=spec.label))

    # -- task views ------------------------------------------------------------------------------------------

    def _task_card(self, task: Task) -> Reply:
        buttons: Buttons = [
            [
                (self.texts.get("button_details"), f"more:{task.id}"),
                (self.texts.get("button_complete"), f"done:{task.id}"),
            ]
        ]
        count = self._attachment_count(task)
        if count:
            buttons.append([(self.texts.get("button_attachments", count=count), f"files:{task.id}")])
        return Reply(f"<b>{html.escape(task.title)}</b>" + self._deadline_suffix(task), buttons)

    def _task_details(self, task: Task) -> Reply:
        with self.app.read_session() as session:
            public = show_task(session, task.id or 0)
        deadline = self._local(public.deadline) or "—"
        process = f"№ {public.process_id}" if public.process_id else "—"
        text = self.say(
            "task_details",
            id=public.id,
            title=public.title,
            description=public.description or "—",
            process=process,
            author=public.author,
            performer=public.performer,
            deadline=deadline,
            status=public.status,
        )
        return Reply(text, [[(self.texts.get("button_complete"), f"done:{task.id}")]])

    def _files(self, task: Task) -> list[Reply]:
        with self.app.read_session() as session:
            files = list(session.exec(select(Attachment).where(Attachment.process_id == task.process_id)))
        return [Reply(document=(f.filename, f.content)) for f in files] if task.process_id else []

    # -- helpers ---------------------------------------------------------------------------------------------

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


def _linked_person(session: Session, bot: str, chat_id: str) -> Person | None:
    statement = (
        select(Person)
        .join(TelegramChat, col(TelegramChat.person_id) == col(Person.id))
        .where(TelegramChat.bot == bot, TelegramChat.chat_id == chat_id)
    )
    person = session.exec(statement).first()
    return person if person is not None and person.active else None


def _texts(session: Session, bot: str) -> BotTexts:
    """The texts of ``bot``; for the system bot, those of the directory's system record, whatever its name."""
    record = system_bot(session) if bot == SYSTEM_BOT else None
    try:
        return texts_of(session, record or find_bot(session, bot))
    except ProcessError:
        return BotTexts()
