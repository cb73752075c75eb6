"""What a constructor bot answers, in the order docs/keywords.md gives: the open choice → built-in commands → the
authorization gate → code mode (when the bot allows code) → keywords → the unknown-request answer.

Blocking (database, algorithms): :class:`KeywordChat` runs in a worker thread, one per update. Designer texts
(answers, titles, the texts table) are Telegram HTML as written; everything else put in a message is escaped.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from algorithms.errors import ExpressionRefused
from algorithms.expression import looks_like_expression
from keywords.dialog import AlgorithmValue, ChoiceState, Outcome, format_value
from keywords.engine import KeywordEngine
from keywords.errors import KeywordError
from processes.errors import ProcessError
from processes.ids import is_decimal
from signal_ext.bootstrap import App
from signal_ext.bots.auth_gate import SharedContact
from signal_ext.bots.commands import Command, command_of
from signal_ext.bots.directory import find_bot, texts_of
from signal_ext.bots.keyword_auth import KeywordGate
from signal_ext.bots.keyword_state import (
    BotReply,
    EscapedTexts,
    Stored,
    TreeCache,
    choice_data,
    list_data,
    parse_press,
    read_stored,
    store_choice,
    store_labels,
)
from signal_ext.bots.models import Bot
from signal_ext.lifecycle.access import ChatState, forget_revoked, read_access

log = logging.getLogger("signal_ext.bots.keywords")


class KeywordChat:
    """One chat of one constructor bot, for one incoming update: reads the bot's card, texts and the chat's state."""

    def __init__(self, app: App, bot_name: str, chat_id: str, trees: TreeCache) -> None:
        self.app, self.name, self.chat_id = app, bot_name, chat_id
        with app.read_session() as session:
            self.bot: Bot = find_bot(session, bot_name)  # read per message: `bot update` is picked up live
            self.texts = EscapedTexts(texts_of(session, self.bot))
            self.tree = trees.get(session, self.bot.id or 0)
            self.stored: Stored = read_stored(session, bot_name, chat_id)
            self.access = read_access(session, bot_name, chat_id)  # a revoked chat or a blocked person: no one
            self.performer_id: int | None = self.access.person_id if self.access.state is ChatState.LINKED else None
        self.engine = KeywordEngine(self.tree, self._run_algorithm, self.texts)

    def lifecycle_gate(self) -> tuple[list[BotReply], bool]:
        """As the system bot's: a blocked person's chat gets only the «blocked» text; a revoked chat is told
        «deauthorized» once, then answered as an unlinked chat. The flag says the replies are the whole answer."""
        if self.access.state is ChatState.BLOCKED:
            return [BotReply(self.texts.get("blocked", reason=self.access.reason or "не указана"))], True
        if self.access.state is ChatState.REVOKED and self.access.chat_row is not None:
            with self.app.open_session() as session:
                told = forget_revoked(session, self.access.chat_row)
            return ([BotReply(self.texts.get("deauthorized"))] if told else []), False
        return [], False

    def answer_text(self, text: str, applicant: str = "") -> list[BotReply]:
        """The replies to a text message, in the order docs/keywords.md gives."""
        first, whole = self.lifecycle_gate()
        return first if whole else first + self._answer_text(text, applicant)

    def answer_contact(self, shared: SharedContact, applicant: str = "") -> list[BotReply]:
        """A shared contact: the authorization gate's, when this chat must authorize; else not understood."""
        first, whole = self.lifecycle_gate()
        if whole:
            return first
        gate = self._gate()
        return first + (gate.contact(shared, applicant) if gate else [BotReply(self.texts.get("unknown_request"))])

    def _answer_text(self, text: str, applicant: str) -> list[BotReply]:
        if self.stored.choice is not None:
            outcome = self.engine.answer_open_choice(text, self.stored.choice)
            if outcome is not None:
                return self._apply(outcome)
        if self.stored != Stored():
            self._close()  # whatever was open is left behind: the text is handled afresh
        found, gate = command_of(text), self._gate()
        if found is not None and (gate is None or found[0] is Command.MY_KEY):
            return self._command(found[0])
        if gate is not None:  # not registered with a bot that asks for it: the gate answers, nothing else
            return self._gated_command(gate, found[0]) if found is not None else gate.text(text, applicant)
        if self.bot.allow_code:
            answered = self._code_mode(text)
            if answered is not None:
                return answered
        outcome = self.engine.handle_top_level(text)
        if outcome is not None:
            return self._apply(outcome)
        return [BotReply(self.texts.get("unknown_request"))]

    def answer_press(self, data: str, applicant: str = "") -> list[BotReply]:
        """The replies to a button press, resolved against the stored state only; anything else is expired."""
        first, whole = self.lifecycle_gate()
        return first if whole else first + self._answer_press(data, applicant)

    def _answer_press(self, data: str, applicant: str) -> list[BotReply]:
        gate = self._gate()
        if gate is not None:
            return gate.press(data, applicant)
        press, choice = parse_press(data), self.stored.choice
        if press is not None and press[0] == "kl" and press[1] < len(self.stored.labels):
            label = self.stored.labels[press[1]]
            self._close()
            self.stored = Stored()
            return self.answer_text(label)
        if press is None or press[0] != "kw" or choice is None or choice.node_id != press[1]:
            return [self._expired()]
        action = press[2]
        if is_decimal(action) and len(action) <= 4 and int(action) < len(choice.offered):  # forged ones included
            text, choice = choice.offered[int(action)], choice.model_copy(update={"pending": None})
        elif action in ("yes", "no") and choice.pending is not None:
            text = self.texts.get("button_yes" if action == "yes" else "button_no")
        else:
            return [self._expired()]
        outcome = self.engine.answer_open_choice(text, choice)
        if outcome is None:
            self._close()
            return [self._expired()]
        return self._apply(outcome)

    def _gate(self) -> KeywordGate | None:
        """The authorization gate when this chat must pass it: the bot asks for authorization and the chat is not
        registered with it; None lets the message through."""
        if not self.bot.auth_enabled or self.performer_id is not None:
            return None
        return KeywordGate(self.app, self.name, self.chat_id, self.texts.texts)

    def _gated_command(self, gate: KeywordGate, command: Command) -> list[BotReply]:
        if command is Command.START:
            return gate.start(self._command(Command.START)[0].text)
        return gate.prompt()

    def _command(self, command: Command) -> list[BotReply]:
        if command is Command.START:
            description = html.escape(self.bot.description)
            return [BotReply(self.texts.texts.get("start", bot=html.escape(self.name), description=description))]
        if command is Command.MY_KEY:
            return [BotReply(self.texts.get("my_key", key=self.chat_id))]
        return [BotReply(self.texts.get("unknown_request"))]  # the task menu's commands are the system bot's

    def _code_mode(self, text: str) -> list[BotReply] | None:
        if looks_like_expression(text):  # evaluated in the sandbox, never here; one at a time per chat
            try:
                now = datetime.now(self.app.settings.zone)
                value = self.app.algorithms.evaluate(text, now, f"{self.name}:{self.chat_id}")
            except ExpressionRefused as error:
                return [BotReply(self.texts.get("expression_refused", value=text.strip(), reason=error.message))]
            except ProcessError as error:
                return [BotReply(self._failure_text(error))]
            if value is not None:
                return [BotReply(html.escape(value.text))]
        try:
            result = self.app.algorithms.run_telegram(text, self.performer_id, bot=self.name)
        except ProcessError as error:
            return [BotReply(self._failure_text(error))]
        return None if result is None else self._value_replies(result)

    def _value_replies(self, value: AlgorithmValue) -> list[BotReply]:
        if isinstance(value, list):
            labels = tuple(label for label in (format_value(v, self.texts) for v in value if v is not None) if label)
            if labels:
                self._save(lambda session: store_labels(session, self.name, self.chat_id, labels))
                return [BotReply(self.texts.get("algorithm_buttons"), list_data(labels))]
            return [BotReply(self.texts.get("algorithm_done"))]
        shown = "" if value is None else format_value(value, self.texts)
        return [BotReply(html.escape(shown) if shown.strip() else self.texts.get("algorithm_done"))]

    def _failure_text(self, error: ProcessError) -> str:
        key = "algorithm_stopped" if getattr(error, "limit", None) else "algorithm_failed"
        return self.texts.get(key, reason=error.message)

    def _run_algorithm(self, name: str, data: list[dict[str, str]]) -> AlgorithmValue:
        value = self.app.algorithms.run(name, self.performer_id, data, bot=self.name)
        return html.escape(value) if isinstance(value, str) else value  # a scalar is only ever shown as text

    def _apply(self, outcome: Outcome) -> list[BotReply]:
        if isinstance(outcome.error, KeywordError):
            log.warning("bot %s: %s", self.name, outcome.error.message)
        state: ChoiceState | None = outcome.state
        listed = next((reply.buttons for reply in outcome.replies if reply.buttons), ()) if state is None else ()
        if listed:
            self._save(lambda session: store_labels(session, self.name, self.chat_id, listed))
        else:
            self._save(lambda session: store_choice(session, self.name, self.chat_id, state))
        replies = []
        for reply in outcome.replies:
            if not reply.buttons:
                replies.append(BotReply(reply.text))
            elif state is not None:
                replies.append(BotReply(reply.text, choice_data(state, reply.buttons)))
            else:
                replies.append(BotReply(reply.text, list_data(reply.buttons)))
        return replies

    def _expired(self) -> BotReply:
        return BotReply(self.texts.get("choice_expired"))

    def _close(self) -> None:
        self._save(lambda session: store_choice(session, self.name, self.chat_id, None))

    def _save(self, change: Callable[[Session], None]) -> None:
        with self.app.open_session() as session:
            change(session)
            session.commit()
