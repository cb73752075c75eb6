"""The system bot's «Пауза» / «Не беспокоить до 25.12 10:00» / «Не беспокоить 2 часа» and «Возобновить».

«Пауза» (or «Не беспокоить») without a time asks until when and takes the next message as the answer; a time
that is not understood or already over is said plainly and asked again. Only a linked, unblocked person gets
here: the bot's authorization gate answers everybody else."""

from __future__ import annotations

from processes.models import Person
from signal_ext.bots.conversation_base import ConversationBase, Reply
from signal_ext.bots.dialogs import end_dialog
from signal_ext.lifecycle.pause import PauseError, clear_pause, parse_pause, set_pause

PAUSE_STEP = "pause"


class PauseDialogs(ConversationBase):
    """Pausing and resuming the notifications of the chat's person."""

    def pause(self, argument: str) -> list[Reply]:
        """«Пауза» with or without the time it ends."""
        if not argument.strip():
            self._set_step(PAUSE_STEP, {})
            return [Reply(self.say("pause_ask"))]
        return self.pause_until(argument)

    def pause_until(self, text: str) -> list[Reply]:
        """The answer to «until when»: the pause is set, or the problem said and the question kept open."""
        if self.person is None:
            return []
        settings, now = self.app.settings, self.app.clock()
        try:
            until = parse_pause(text, now, settings.zone, settings.workday_end)
        except PauseError as error:
            self._set_step(PAUSE_STEP, {})
            return [Reply(self.say("pause_time_error", reason=error.message))]
        with self.app.open_session() as session:
            person = session.get(Person, self.person.id)
            if person is not None:
                set_pause(session, person, until, now)
            end_dialog(session, self.bot, self.chat_id)
            session.commit()
        return [Reply(self.say("paused", until=self._local(until)))]

    def resume(self) -> list[Reply]:
        """«Возобновить»: the pause ends and what it held back is due now."""
        if self.person is None:
            return []
        with self.app.open_session() as session:
            person = session.get(Person, self.person.id)
            if person is not None:
                clear_pause(session, person, self.app.clock())
            session.commit()
        return [Reply(self.say("resumed"))]
