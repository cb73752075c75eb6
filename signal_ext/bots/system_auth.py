"""The system bot's side of authorization: the gate for unregistered chats when the system bot's record has
«Авторизация» on (otherwise such a chat is told its key, as before), and the responsible person's decisions."""

from __future__ import annotations

from signal_ext.bots.auth_gate import KEYBOARD_AUTH, KEYBOARD_DONE, AuthGate, GateReply, SharedContact, gate_enabled
from signal_ext.bots.commands import MENU_BUTTONS, Command
from signal_ext.bots.conversation_base import MENU_LABELS, Reply
from signal_ext.bots.registration_dialogs import RegistrationDialogs


class AuthorizationDialogs(RegistrationDialogs):
    """The gate an unregistered chat meets, and the decisions of the responsible person."""

    def gate_on(self) -> bool:
        """Whether this chat must authorize first: it is not registered and the bot asks for authorization."""
        if self.person is not None:
            return False
        with self.app.read_session() as session:
            return gate_enabled(session, self.bot)

    def gated_text(self, text: str, command: Command | None, applicant: str) -> list[Reply]:
        """A text of an unregistered chat: /start greets and asks; «Мой ключ» still answers (a link by key works
        too); any other command shows the request again; anything else goes to the gate's dialog."""
        gate = self._gate()
        if command is Command.START:
            return [Reply(self.say("start", bot=self.bot, description="")), *self._from_gate(gate.prompt())]
        if command is Command.MY_KEY:
            return [Reply(self.say("my_key", key=self.chat_id))]
        if command is not None:
            return self._from_gate(gate.prompt())
        return self._from_gate(gate.answer(text, applicant))

    def gated_press(self, data: str, applicant: str) -> list[Reply]:
        """A button press of an unregistered chat: only the gate's buttons do anything."""
        return self._from_gate(self._gate().press(data, applicant))

    def gated_contact(self, shared: SharedContact, applicant: str) -> list[Reply]:
        """A shared contact of an unregistered chat."""
        return self._from_gate(self._gate().contact(shared, applicant))

    def _gate(self) -> AuthGate:
        return AuthGate(self.app, self.bot, self.texts, self.chat_id, self.step)

    def _from_gate(self, replies: list[GateReply]) -> list[Reply]:
        sent = []
        for reply in replies:
            buttons = [[button] for button in reply.buttons]
            if reply.keyboard == KEYBOARD_AUTH:
                send, share = self.texts.get("button_send_auth_data"), self.texts.get("button_share_phone")
                sent.append(Reply(reply.text, buttons, keyboard=[(send, False), (share, True)]))
            elif reply.keyboard == KEYBOARD_DONE and reply.registered:
                labels = [self.texts.get(MENU_LABELS[command]) for command in MENU_BUTTONS]
                sent.append(Reply(reply.text, buttons, menu=True, menu_labels=labels))
            elif reply.keyboard == KEYBOARD_DONE:
                sent.append(Reply(reply.text, buttons, menu=False))
            else:
                sent.append(Reply(reply.text, buttons))
        return sent
