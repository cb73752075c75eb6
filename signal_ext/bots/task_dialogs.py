"""«Мои задачи»: the list, a task's card and details, its files, and the completion dialog with required data."""

from __future__ import annotations

import html
from typing import Any

from sqlmodel import col, select

from processes.errors import AlreadyCompleted, FieldError, InvalidState
from processes.fields import FieldSpec, FieldType, parse_value
from processes.models import Attachment, Task, TaskStatus
from processes.queries import show_task
from signal_ext.bots.conversation_base import PAGE, Buttons, ConversationBase, Reply
from signal_ext.bots.dialogs import current_step
from signal_ext.notifications.acknowledgement import acknowledge_press


class TaskDialogs(ConversationBase):
    """The dialogs about the person's own tasks; every payload is checked against the person and the task."""

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
