"""An applicant's request: checked and reserved, run through the bot's chain, recorded with its outcome.

Three short transactions: the reservation (one pending request per chat and bot, at most
``settings.auth_requests_per_hour`` per hour), the chain (the algorithm and the scenario's start run outside
any transaction of ours), and the outcome (status, stage, the chat's link, the responsible person's messages).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from html import escape
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import Session, col, select

from auth.chain import AuthRequest, ChainResult, Failed, Pending, Registered, Rejected, run_chain
from auth.models import Registration, RegistrationStage, RegistrationStatus
from processes.errors import ProcessError
from processes.models import Person
from processes.timeutil import utcnow
from signal_ext.bots.models import Bot
from signal_ext.bots.texts import BotTexts
from signal_ext.notifications.chats import link_chat
from signal_ext.redaction import redact
from signal_ext.registrations import notify
from signal_ext.registrations.bots import chat_bot_name, runtime_bot
from signal_ext.registrations.chain_ports import chain_steps
from signal_ext.registrations.decisions import lock_registration
from signal_ext.registrations.queries import pending_request, registered_person
from signal_ext.registrations.scenario_events import settle_if_finished

if TYPE_CHECKING:
    from signal_ext.bootstrap import App

MAX_DATA = 2000


@dataclass(frozen=True)
class SubmitOutcome:
    """What became of a request and what the bot says: ``text_key`` of the texts table with ``values`` (its
    placeholders, already HTML-escaped) — ``auth_success`` {name}, ``auth_pending``, ``auth_rejected`` {reason},
    ``auth_error``, ``auth_already_pending``, ``auth_too_many`` {count}."""

    status: RegistrationStatus | None
    """The request's status; for ``auth_too_many`` and an already registered chat None (nothing was created)."""
    registration_id: int | None
    text_key: str
    person_name: str = ""
    reason: str = ""
    values: Mapping[str, str] = field(default_factory=dict)

    def text(self, texts: BotTexts) -> str:
        """The message for the applicant in the bot's own texts."""
        return texts.get(self.text_key, **self.values)


def submit(
    app: App, bot_name: str, chat_id: str, data: str, applicant: str = "", phone: str | None = None
) -> SubmitOutcome:
    """Handles the confirmed data of ``chat_id`` to the bot running as ``bot_name`` (``system`` for the system
    bot). A refusal of the call itself (unknown bot, authorization off, empty data) is a ProcessError."""
    reserved = _reserve(app, bot_name, str(chat_id), data, applicant, phone)
    if isinstance(reserved, SubmitOutcome):
        return reserved
    registration_id, request = reserved
    try:
        result = run_chain(request, chain_steps(app, registration_id))
    except BaseException as error:
        _record_crash(app, registration_id, error)
        raise
    return _record(app, registration_id, result)


def _reserve(
    app: App, bot_name: str, chat_id: str, data: str, applicant: str, phone: str | None
) -> SubmitOutcome | tuple[int, AuthRequest]:
    data = data.strip()
    if not data and not phone:
        raise ProcessError("Данные для авторизации пусты")
    if len(data) > MAX_DATA:
        raise ProcessError(f"Данные для авторизации: не длиннее {MAX_DATA} символов (сейчас {len(data)})")
    with app.open_session() as session:
        bot = _locked_bot(session, bot_name)
        if not bot.auth_enabled:
            raise ProcessError(f"У чат-бота «{bot.name}» авторизация выключена")
        person = registered_person(session, bot_name, chat_id)
        if person is not None:
            name = person.full_name
            return SubmitOutcome(None, None, "auth_success", name, values={"name": escape(name)})
        pending = pending_request(session, bot_name, chat_id)
        if pending is not None:
            return SubmitOutcome(pending.status, pending.id, "auth_already_pending")
        limit = app.settings.auth_requests_per_hour
        if _recent(session, bot, chat_id, app) >= limit:
            return SubmitOutcome(None, None, "auth_too_many", values={"count": str(limit)})
        registration = Registration(
            bot_id=bot.id or 0,
            chat_id=chat_id,
            applicant=" ".join(applicant.split())[:300],
            data=data,
            phone=phone,
            created_at=app.clock(),
        )
        session.add(registration)
        session.flush()
        request = AuthRequest(
            data, registration.applicant, phone, bot.auth_algorithm, bot.auth_scenario, bot.auth_responsible_id
        )
        session.commit()
        return registration.id or 0, request


def _locked_bot(session: Session, bot_name: str) -> Bot:
    """The bot's row, locked so that one chat's concurrent requests are counted one after the other."""
    bot = runtime_bot(session, bot_name)
    statement = select(Bot).where(Bot.id == bot.id).with_for_update().execution_options(populate_existing=True)
    return session.exec(statement).one()


def _recent(session: Session, bot: Bot, chat_id: str, app: App) -> int:
    since = app.clock() - timedelta(hours=1)
    statement = select(func.count()).where(
        col(Registration.bot_id) == bot.id, col(Registration.chat_id) == chat_id, col(Registration.created_at) >= since
    )
    return int(session.exec(statement).one())


def _record(app: App, registration_id: int, result: ChainResult) -> SubmitOutcome:
    with app.open_session() as session:
        registration = lock_registration(session, registration_id)
        bot = session.get(Bot, registration.bot_id)
        assert bot is not None  # the foreign key keeps it
        registration.stage = result.stage
        registration.reason = redact(result.summary)  # may quote an algorithm's error
        outcome = _apply(session, registration, bot, result)
        session.add(registration)
        session.commit()
        return outcome


def _apply(session: Session, registration: Registration, bot: Bot, result: ChainResult) -> SubmitOutcome:
    decided = result.outcome
    if isinstance(decided, Registered):
        person = session.get(Person, decided.person_id)
        try:
            with session.begin_nested():
                if person is None:
                    raise ProcessError(f"человек {decided.person_id} не найден")
                link_chat(session, person, registration.chat_id, chat_bot_name(bot))
        except ProcessError as error:
            registration.reason = f"{result.summary}; не зарегистрирован: {error.message}".lstrip("; ")
            return _failed(registration)
        assert person is not None
        registration.status = RegistrationStatus.REGISTERED
        registration.person_id = person.id
        registration.decided_at = utcnow()
        name = person.full_name
        return SubmitOutcome(registration.status, registration.id, "auth_success", name, values={"name": escape(name)})
    if isinstance(decided, Rejected):
        registration.status = RegistrationStatus.REJECTED
        registration.reason = decided.reason
        values = {"reason": escape(decided.reason)}
        status = registration.status
        return SubmitOutcome(status, registration.id, "auth_rejected", reason=decided.reason, values=values)
    if isinstance(decided, Pending):
        registration.process_id = decided.process_id
        if decided.stage == RegistrationStage.RESPONSIBLE:
            responsible = session.get(Person, bot.auth_responsible_id or 0)
            assert responsible is not None  # the step checked it
            notify.notify_responsible(session, registration, bot, responsible)
        else:
            session.add(registration)
            session.flush()
            settle_if_finished(session, registration)
        return SubmitOutcome(registration.status, registration.id, "auth_pending")
    assert isinstance(decided, Failed)
    return _failed(registration)


def _failed(registration: Registration) -> SubmitOutcome:
    registration.status = RegistrationStatus.FAILED
    registration.stage = RegistrationStage.NONE
    registration.decided_at = utcnow()
    return SubmitOutcome(registration.status, registration.id, "auth_error", reason=registration.reason)


def _record_crash(app: App, registration_id: int, error: BaseException) -> None:
    """Marks the reserved request failed, so that a bug does not leave the chat blocked by a pending request."""
    with app.open_session() as session:
        registration = lock_registration(session, registration_id)
        registration.status = RegistrationStatus.FAILED
        registration.reason = f"внутренняя ошибка: {type(error).__name__}"
        session.add(registration)
        session.commit()
