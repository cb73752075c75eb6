"""Deciding a pending request: register the chat (as an existing or a new person) or reject it.

Idempotent and safe under concurrency: the request's row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; on
SQLite every writing session begins IMMEDIATE) and its status is checked inside the transaction, so of two
simultaneous approvals one registers and the other finds it done. Approving again as the same person returns the
request unchanged; approving a rejected request, or rejecting an approved one, is refused.
The ``*_in`` functions work in the caller's session (the scenario subscriber runs inside the core's
transaction); :func:`approve` and :func:`reject` are one transaction each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session, select

from auth.models import Registration, RegistrationStage, RegistrationStatus
from processes.errors import InvalidState, NotFound, ProcessError
from processes.models import Person
from processes.timeutil import utcnow
from signal_ext.bots.models import Bot
from signal_ext.notifications.chats import link_chat
from signal_ext.registrations import notify
from signal_ext.registrations.bots import chat_bot_name, is_available
from signal_ext.registrations.persons import chosen_person

if TYPE_CHECKING:
    from signal_ext.bootstrap import App

KIND_LABEL = "заявка на авторизацию"


def lock_registration(session: Session, registration_id: int) -> Registration:
    """The request's row, locked for this transaction and read afresh."""
    statement = (
        select(Registration)
        .where(Registration.id == registration_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    registration = session.exec(statement).first()
    if registration is None:
        raise NotFound(KIND_LABEL, str(registration_id))
    return registration


def approve_in(
    session: Session,
    registration: Registration,
    kind: str,
    person_ref: str | int | None = None,
    new_name: str | None = None,
    decided_by: int | None = None,
) -> Registration:
    """Registers the locked ``registration``'s chat as an existing person of ``kind`` or a new one."""
    if registration.status == RegistrationStatus.REGISTERED:
        return _same_approval(session, registration, kind, person_ref, new_name)
    _check_pending(registration, "одобрить")
    person = chosen_person(session, kind, person_ref, new_name)
    bot = _bot(session, registration)
    link_chat(session, person, registration.chat_id, chat_bot_name(bot))
    registration.person_id = person.id
    _decide(session, registration, RegistrationStatus.REGISTERED, decided_by)
    notify.tell_applicant(session, registration, bot, "approved", notify.success_text(session, bot, person))
    return registration


def reject_in(session: Session, registration: Registration, reason: str, decided_by: int | None = None) -> Registration:
    """Rejects the locked ``registration``; the applicant is told ``reason``. Rejecting again is a no-op."""
    reason = " ".join(reason.split())
    if not reason:
        raise ProcessError("Укажите причину отказа: заявитель её получит")
    if registration.status == RegistrationStatus.REJECTED:
        return registration
    _check_pending(registration, "отклонить")
    registration.reason = reason
    _decide(session, registration, RegistrationStatus.REJECTED, decided_by)
    bot = _bot(session, registration)
    notify.tell_applicant(session, registration, bot, "rejected", notify.rejected_text(session, bot, reason))
    return registration


def hand_over_in(session: Session, registration: Registration, why: str) -> Registration:
    """A scenario could not decide: the request goes to the bot's responsible person, or fails (the applicant
    then gets the authorization-error text)."""
    bot = _bot(session, registration)
    responsible = session.get(Person, bot.auth_responsible_id) if bot.auth_responsible_id else None
    registration.reason = why
    if responsible is not None and is_available(responsible):
        registration.stage = RegistrationStage.RESPONSIBLE
        session.add(registration)
        session.flush()
        notify.notify_responsible(session, registration, bot, responsible)
        return registration
    _decide(session, registration, RegistrationStatus.FAILED, None)
    notify.tell_applicant(session, registration, bot, "failed", notify.error_text(session, bot))
    return registration


def approve(
    app: App,
    registration_id: int,
    kind: str,
    person_ref: str | int | None = None,
    new_name: str | None = None,
    decided_by: int | None = None,
) -> Registration:
    """Approves request ``registration_id`` in one transaction (see :func:`approve_in`)."""
    with app.open_session() as session:
        registration = approve_in(
            session, lock_registration(session, registration_id), kind, person_ref, new_name, decided_by
        )
        session.commit()
        return registration


def reject(app: App, registration_id: int, reason: str, decided_by: int | None = None) -> Registration:
    """Rejects request ``registration_id`` in one transaction (see :func:`reject_in`)."""
    with app.open_session() as session:
        registration = reject_in(session, lock_registration(session, registration_id), reason, decided_by)
        session.commit()
        return registration


def _same_approval(
    session: Session, registration: Registration, kind: str, person_ref: str | int | None, new_name: str | None
) -> Registration:
    """An approval of an already registered request: fine when it names the same person, refused otherwise."""
    person = session.get(Person, registration.person_id) if registration.person_id else None
    shown = person.full_name if person else str(registration.person_id)
    same = False
    if person is not None and new_name is not None and new_name.strip():
        same = " ".join(new_name.split()).casefold() == person.full_name.casefold()
    elif person is not None and person_ref is not None and str(person_ref).strip():
        try:
            same = chosen_person(session, kind, person_ref, None).id == person.id
        except ProcessError:
            same = False
    if not same:
        raise InvalidState(f"Заявка № {registration.id} уже одобрена: чат зарегистрирован как «{shown}»")
    return registration


def _check_pending(registration: Registration, action: str) -> None:
    if registration.status == RegistrationStatus.PENDING:
        return
    verdict = {
        RegistrationStatus.REGISTERED: "уже одобрена",
        RegistrationStatus.REJECTED: f"уже отклонена ({registration.reason})",
        RegistrationStatus.FAILED: "завершилась ошибкой авторизации; заявитель может отправить данные снова",
    }[registration.status]
    raise InvalidState(f"Заявка № {registration.id} {verdict}: {action} её нельзя")


def _decide(session: Session, registration: Registration, status: RegistrationStatus, decided_by: int | None) -> None:
    registration.status = status
    registration.decided_by_id = decided_by
    registration.decided_at = utcnow()
    session.add(registration)
    session.flush()


def _bot(session: Session, registration: Registration) -> Bot:
    bot = session.get(Bot, registration.bot_id)
    if bot is None:
        raise NotFound("чат-бот", str(registration.bot_id))
    return bot
