"""The authorization gate of a bot with «Авторизация» on: what an unregistered chat is told and asked.

The request text with «Отправить данные для авторизации…» (``auth:send``) and a «share my number» button →
the data typed → «Данные верны?» Да (``auth:yes``) / Нет (``auth:no``, type again) → the chain
(:func:`signal_ext.registrations.submit.submit`) → what happens next. A shared contact counts only when it is the
sender's own; its number goes through the same chain (matched against persons' phones first). The dialog state is
stored like every other, so a restart resumes it. Plain logic: the bots turn :class:`GateReply` into messages."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from sqlmodel import Session

from processes.errors import NotFound, ProcessError
from signal_ext.bootstrap import App
from signal_ext.bots.commands import normalise
from signal_ext.bots.dialogs import DialogState, end_dialog, set_step
from signal_ext.bots.texts import BotTexts
from signal_ext.registrations.bots import runtime_bot
from signal_ext.registrations.queries import pending_request
from signal_ext.registrations.submit import submit

STEP_DATA, STEP_CONFIRM = "auth_data", "auth_confirm"
STEPS = (STEP_DATA, STEP_CONFIRM)
SEND, YES, NO = "auth:send", "auth:yes", "auth:no"


KEYBOARD_AUTH, KEYBOARD_DONE = "auth", "done"


@dataclass(frozen=True)
class GateReply:
    """One message: HTML text and inline buttons (label, callback data) one per row; ``keyboard`` asks the bot
    for the reply keyboard «Отправить данные…» / «Отправить номер телефона» (``auth``: the second shares the
    contact), or, once the request is decided (``done``), for its usual keyboard: the system bot's menu after a
    registration, none otherwise; ``registered`` tells which."""

    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    keyboard: str | None = None
    registered: bool = False


@dataclass(frozen=True)
class SharedContact:
    """A contact a user sent: its number, and whether it is the sender's own (Telegram's ``user_id`` matches)."""

    phone: str
    own: bool


def gate_enabled(session: Session, bot_name: str) -> bool:
    """Whether the bot running as ``bot_name`` asks unregistered chats to authorize."""
    try:
        return runtime_bot(session, bot_name).auth_enabled
    except NotFound:
        return False


class AuthGate:
    """The gate of one bot for one chat; ``step`` is the chat's open dialog step, if any."""

    def __init__(self, app: App, bot_name: str, texts: BotTexts, chat_id: str, step: DialogState | None) -> None:
        self.app, self.bot_name, self.texts, self.chat_id = app, bot_name, texts, chat_id
        self.step = step if step is not None and step.step in STEPS else None

    def prompt(self) -> list[GateReply]:
        """The request text with its buttons; a chat whose request is being decided is told so instead."""
        with self.app.read_session() as session:
            waiting = pending_request(session, self.bot_name, self.chat_id) is not None
            request_text = runtime_bot(session, self.bot_name).auth_request_text
        if waiting:
            return [GateReply(self.texts.get("auth_already_pending"))]
        return [GateReply(request_text or self.texts.get("auth_request"), keyboard=KEYBOARD_AUTH)]

    def answer(self, text: str, applicant: str) -> list[GateReply]:
        """A typed text: the data, the answer to «Данные верны?», or anything else (→ the prompt)."""
        if normalise(text) == normalise(self.texts.get("button_send_auth_data")):
            return self.press(SEND, applicant)
        if self.step is not None and self.step.step == STEP_DATA:
            return self._confirm(text.strip())
        if self.step is not None and self.step.step == STEP_CONFIRM:
            typed = normalise(text)
            if typed == normalise(self.texts.get("button_yes")):
                return self.press(YES, applicant)
            if typed == normalise(self.texts.get("button_no")):
                return self.press(NO, applicant)
            return self._confirm(str(self.step.data.get("data", "")))
        return self.prompt()

    def press(self, data: str, applicant: str) -> list[GateReply]:
        """A press of one of the gate's buttons; anything else (or out of turn) shows the prompt again."""
        if data == SEND or (data == NO and self._confirming()):
            self._move(STEP_DATA, {})
            return [GateReply(self.texts.get("auth_enter_data"))]
        if data == YES and self._confirming():
            assert self.step is not None
            self._close()
            return self._submit(str(self.step.data.get("data", "")), applicant, None)
        return self.prompt()

    def contact(self, shared: SharedContact, applicant: str) -> list[GateReply]:
        """A shared contact: someone else's is refused; one's own goes through the chain."""
        if not shared.own:
            return [GateReply(self.texts.get("phone_not_own"))]
        self._close()
        return self._submit(shared.phone, applicant, shared.phone)

    def _confirm(self, data: str) -> list[GateReply]:
        if not data:
            return [GateReply(self.texts.get("auth_enter_data"))]
        self._move(STEP_CONFIRM, {"data": data})
        buttons = [(self.texts.get("button_yes"), YES), (self.texts.get("button_no"), NO)]
        return [GateReply(self.texts.get("auth_confirm", data=html.escape(data)), buttons)]

    def _submit(self, data: str, applicant: str, phone: str | None) -> list[GateReply]:
        try:
            outcome = submit(self.app, self.bot_name, self.chat_id, data, applicant, phone)
        except ProcessError as error:
            return [GateReply(html.escape(error.message))]
        done = outcome.text_key == "auth_success"
        return [GateReply(outcome.text(self.texts), keyboard=KEYBOARD_DONE, registered=done)]

    def _confirming(self) -> bool:
        return self.step is not None and self.step.step == STEP_CONFIRM

    def _move(self, step: str, data: dict[str, str]) -> None:
        with self.app.open_session() as session:
            set_step(session, self.bot_name, self.chat_id, step, data)
            session.commit()

    def _close(self) -> None:
        with self.app.open_session() as session:
            end_dialog(session, self.bot_name, self.chat_id)
            session.commit()
