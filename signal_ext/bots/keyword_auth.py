"""A constructor bot's authorization gate: the shared :class:`AuthGate` with this bot's replies and keyboards."""

from __future__ import annotations

from signal_ext.bootstrap import App
from signal_ext.bots.auth_gate import KEYBOARD_AUTH, KEYBOARD_DONE, AuthGate, GateReply, SharedContact
from signal_ext.bots.dialogs import current_step
from signal_ext.bots.keyword_state import BotReply
from signal_ext.bots.texts import BotTexts


class KeywordGate:
    """The gate of one unregistered chat of a constructor bot with «Авторизация» on."""

    def __init__(self, app: App, bot_name: str, chat_id: str, texts: BotTexts) -> None:
        with app.read_session() as session:
            step = current_step(session, bot_name, chat_id)
        self.texts = texts
        self.gate = AuthGate(app, bot_name, texts, chat_id, step)

    def start(self, greeting: str) -> list[BotReply]:
        """/start: the greeting, then the request."""
        return [BotReply(greeting), *self._replies(self.gate.prompt())]

    def text(self, text: str, applicant: str) -> list[BotReply]:
        """A typed text (a command other than /start and «Мой ключ» shows the request again)."""
        return self._replies(self.gate.answer(text, applicant))

    def prompt(self) -> list[BotReply]:
        """The request text with its buttons."""
        return self._replies(self.gate.prompt())

    def press(self, data: str, applicant: str) -> list[BotReply]:
        """A button press."""
        return self._replies(self.gate.press(data, applicant))

    def contact(self, shared: SharedContact, applicant: str) -> list[BotReply]:
        """A shared contact."""
        return self._replies(self.gate.contact(shared, applicant))

    def _replies(self, replies: list[GateReply]) -> list[BotReply]:
        sent = []
        for reply in replies:
            if reply.keyboard == KEYBOARD_AUTH:
                keys = ((self.texts.get("button_send_auth_data"), False), (self.texts.get("button_share_phone"), True))
                sent.append(BotReply(reply.text, reply.buttons, keyboard=keys))
            else:
                sent.append(BotReply(reply.text, reply.buttons, remove_keyboard=reply.keyboard == KEYBOARD_DONE))
        return sent
