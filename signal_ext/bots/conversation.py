"""What the system bot says to one chat: plain logic over the core, no Telegram objects (the bot sends them).

Button payloads carry no trust: every press is checked against the chat's own person and the task's state."""

from __future__ import annotations

from typing import Any

from processes.ids import record_id
from signal_ext.bootstrap import App
from signal_ext.bots.commands import MENU_BUTTONS, Command, normalise
from signal_ext.bots.conversation_base import MENU_LABELS, Reply
from signal_ext.bots.creation_dialogs import CreationDialogs
from signal_ext.bots.invites import redeem_invite
from signal_ext.bots.registration_dialogs import REGISTRATION_STEPS
from signal_ext.bots.system_auth import AuthorizationDialogs
from signal_ext.bots.task_dialogs import TaskDialogs
from signal_ext.bots.texts import BotTexts
from signal_ext.bots.texts_cache import read_texts
from signal_ext.lifecycle.access import ChatState, forget_revoked
from signal_ext.lifecycle.pause_dialog import PAUSE_STEP, PauseDialogs
from signal_ext.lifecycle.persons import MENU_RESTORE

__all__ = ["Conversation", "Reply"]


class Conversation(TaskDialogs, CreationDialogs, PauseDialogs, AuthorizationDialogs):
    """What the system bot says to one chat: commands, button presses and the answers to open dialog steps."""

    @staticmethod
    def error_text(app: App, bot: str) -> str:
        """The bot's «something went wrong» text (defaults when even the texts cannot be read)."""
        try:
            with app.read_session() as session:
                return read_texts(session, bot).get("error")
        except Exception:
            return BotTexts().get("error")

    def lifecycle_gate(self) -> tuple[list[Reply], bool]:
        """What the chat's lifecycle says before anything else, and whether that is the whole answer: a blocked
        person's chat gets only the «blocked» text; a revoked chat is told «deauthorized» once and then answered as
        an unlinked chat; the first message after an unblock brings the reply menu back."""
        if self.access.state is ChatState.BLOCKED:
            return [Reply(self.say("blocked", reason=self.access.reason or "не указана"), menu=False)], True
        if self.access.state is ChatState.REVOKED and self.access.chat_row is not None:
            with self.app.open_session() as session:
                told = forget_revoked(session, self.access.chat_row)
            return ([Reply(self.say("deauthorized"), menu=False)] if told else []), False
        if self.step is not None and self.step.step == MENU_RESTORE:
            self._end()
            self.step = None
            return ([self.menu_shown()] if self.person is not None else []), False
        return [], False

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

    def press(self, data: str) -> list[Reply]:
        """A button press; anything not understood, not this person's or no longer open is refused politely."""
        kind, _, value = data.partition(":")
        if self.person is None:
            return [self.not_authorized()]
        number = record_id(value)  # None for anything but an id a record may have: a forged one asks no database
        if kind == "page" and (value == "0" or number is not None):
            return self.my_tasks(number or 0)
        if kind in ("task", "more", "done", "files", "ack") and number is not None:
            return self._task_press(kind, number)
        if kind == "choice":
            return self._choice(value)
        if kind == "proc" and number is not None:
            return self._choose_scenario(number)
        if kind == "perf" and number is not None:
            return self._choose_performer(number)
        if kind == "reg":
            return self._registration_press(value)
        return [Reply(self.say("task_not_available"))]

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
        if step.step == PAUSE_STEP:
            return self.pause_until(text)
        if step.step in REGISTRATION_STEPS:
            return self._registration_answer(step, text)
        if step.step == "process_description":
            return self._start_process(int(step.data["scenario_id"]), text.strip())
        return [self.unknown()]
