"""The responsible person's side of a registration request, in the system bot.

A request reaches the responsible person with «Зарегистрировать» / «Отклонить» (``reg:<id>:approve|reject``).
«Зарегистрировать» → the kind (``reg:<id>:as:<kind>``) → a part of a name: the matching persons of that kind as
buttons (``reg:<id>:p:<person id>``) and «Создать «…»» (``reg:<id>:new``, the typed name kept in the dialog
state). «Отклонить» → the reason. Every press is checked: only the bot's responsible person decides, only a
pending request, only the person ids the bot offered; the decision itself is idempotent in the service."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from sqlmodel import col, select

from auth.models import Registration, RegistrationStatus
from processes.errors import ProcessError
from processes.ids import record_id
from processes.models import Person, PersonKind
from processes.persons import match_persons
from signal_ext.bots.conversation_base import ConversationBase, Reply
from signal_ext.bots.models import Bot
from signal_ext.registrations.decisions import approve, reject

KIND_BUTTONS = {
    PersonKind.USER: "button_kind_user",
    PersonKind.PARTNER: "button_kind_partner",
    PersonKind.COUNTERPARTY: "button_kind_counterparty",
}
MATCHES_SHOWN = 8
STEP_NAME, STEP_REASON = "reg_name", "reg_reason"
REGISTRATION_STEPS = (STEP_NAME, STEP_REASON)


class RegistrationDialogs(ConversationBase):
    """«Зарегистрировать» / «Отклонить» under a request, and the questions that follow."""

    def _registration_press(self, value: str) -> list[Reply]:
        """A press of ``reg:<value>``."""
        number, _, action = value.partition(":")
        registration_id = record_id(number)
        if registration_id is None or self._request_for_me(registration_id) is None:
            return [Reply(self.say("reg_not_available"))]
        verb, _, argument = action.partition(":")
        if verb == "approve":
            buttons = [
                [(self.texts.get(key), f"reg:{registration_id}:as:{kind}")] for kind, key in KIND_BUTTONS.items()
            ]
            return [Reply(self.say("reg_choose_kind", id=registration_id), buttons)]
        if verb == "as" and argument in KIND_BUTTONS:
            self._set_step(STEP_NAME, {"id": registration_id, "kind": argument, "name": "", "offered": []})
            title = self.texts.get(KIND_BUTTONS[PersonKind(argument)])
            return [Reply(self.say("reg_ask_name", id=registration_id, title=title))]
        if verb == "reject":
            self._set_step(STEP_REASON, {"id": registration_id})
            return [Reply(self.say("reg_ask_reason", id=registration_id))]
        if verb in ("p", "new"):
            return self._approve_pick(registration_id, verb, argument)
        return [Reply(self.say("reg_not_available"))]

    def _registration_answer(self, step: Any, text: str) -> list[Reply]:
        """A typed answer while a request's name or reason is asked."""
        data = dict(step.data)
        if self._request_for_me(int(data.get("id", 0))) is None:
            self._end()
            return [Reply(self.say("reg_not_available"))]
        if step.step == STEP_REASON:
            return self._decide(int(data["id"]), lambda: reject(self.app, int(data["id"]), text.strip(), self._me()))
        return self._offer_persons(data, text.strip())

    def _offer_persons(self, data: dict[str, Any], name: str) -> list[Reply]:
        if not name:
            return [Reply(self.say("reg_ask_name", id=data["id"], title=self.texts.get(KIND_BUTTONS[data["kind"]])))]
        with self.app.read_session() as session:
            found = [p for p in match_persons(session, name) if p.kind == data["kind"] and p.active]
        found = found[:MATCHES_SHOWN]
        self._set_step(STEP_NAME, data | {"name": name, "offered": [p.id for p in found]})
        registration_id = data["id"]
        buttons = [[(p.full_name, f"reg:{registration_id}:p:{p.id}")] for p in found]
        buttons.append([(self.texts.get("button_reg_new", name=name), f"reg:{registration_id}:new")])
        text = self.say("reg_pick_person", id=registration_id, count=len(found), name=name)
        return [Reply(text, buttons)]

    def _approve_pick(self, registration_id: int, verb: str, argument: str) -> list[Reply]:
        step = self.step
        data = dict(step.data) if step is not None and step.step == STEP_NAME else {}
        if data.get("id") != registration_id:
            return [Reply(self.say("reg_not_available"))]
        kind = str(data["kind"])
        if verb == "p":
            person_id = record_id(argument)
            if person_id is None or person_id not in data.get("offered", []):
                return [Reply(self.say("reg_not_available"))]
            return self._decide(
                registration_id,
                lambda: approve(self.app, registration_id, kind, person_ref=person_id, decided_by=self._me()),
            )
        if not data.get("name"):
            return [Reply(self.say("reg_not_available"))]
        name = str(data["name"])
        return self._decide(
            registration_id, lambda: approve(self.app, registration_id, kind, new_name=name, decided_by=self._me())
        )

    def _decide(self, registration_id: int, decision: Callable[[], Registration]) -> list[Reply]:
        try:
            registration = decision()
        except ProcessError as error:
            return [Reply(html.escape(error.message))]
        self._end()
        if registration.status == RegistrationStatus.REJECTED:
            return [Reply(self.say("reg_rejected_done", id=registration_id))]
        with self.app.read_session() as session:
            person = session.get(Person, registration.person_id) if registration.person_id else None
        return [Reply(self.say("reg_done", id=registration_id, name=person.full_name if person else "—"))]

    def _request_for_me(self, registration_id: int) -> Registration | None:
        """The pending request ``registration_id`` when this chat's person is its bot's responsible person."""
        if self.person is None:
            return None
        with self.app.read_session() as session:
            found = session.exec(
                select(Registration)
                .join(Bot, col(Bot.id) == col(Registration.bot_id))
                .where(Registration.id == registration_id, Bot.auth_responsible_id == self.person.id)
            ).first()
        return found if found is not None and found.status == RegistrationStatus.PENDING else None

    def _me(self) -> int | None:
        return self.person.id if self.person is not None else None
