"""«Новая задача» and «Новый процесс»: creating a standalone task or a process from the chat."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from processes.errors import ProcessError
from processes.models import Person, ProcessStatus, Scenario, TaskCreate
from processes.persons import match_persons
from processes.queries import show_task
from processes.scenarios import current_scenarios
from signal_ext.bots.conversation_base import ConversationBase, Reply
from signal_ext.bots.dialogs import current_step
from signal_ext.bots.new_task_text import parse_new_task_text


class CreationDialogs(ConversationBase):
    """The dialogs that create a task or start a process."""

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
