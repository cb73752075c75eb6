"""The messages a registration causes, as outbox rows (the dispatcher sends them): the request to the responsible
person (system bot with «Зарегистрировать» / «Отклонить» buttons, and the inbox), and the outcome to the applicant
through the bot they wrote to. Every value from a user is HTML-escaped; every row has a stable idempotency key."""

from __future__ import annotations

from html import escape

from sqlmodel import Session, select

from auth.models import Registration
from processes.ids import record_id
from processes.models import Person
from signal_ext.bots.directory import texts_of
from signal_ext.bots.models import Bot
from signal_ext.bots.texts_cache import read_texts
from signal_ext.notifications.models import SYSTEM_BOT, MessageStatus, OutboxMessage, TelegramChat
from signal_ext.registrations.bots import outbox_bot_name

CALLBACK_PREFIX = "reg:"
APPROVE_ACTION = "approve"
REJECT_ACTION = "reject"
APPROVE_LABEL = "Зарегистрировать"
REJECT_LABEL = "Отклонить"


def callback_data(registration_id: int, action: str) -> str:
    """``reg:<id>:approve`` / ``reg:<id>:reject``: what the responsible person's buttons send."""
    return f"{CALLBACK_PREFIX}{registration_id}:{action}"


def parse_callback(data: str) -> tuple[int, str] | None:
    """``(registration_id, action)`` of a button's callback data, or None when it is not a registration button."""
    parts = data.split(":")
    registration_id = record_id(parts[1]) if len(parts) == 3 and f"{parts[0]}:" == CALLBACK_PREFIX else None
    if registration_id is None or parts[2] not in (APPROVE_ACTION, REJECT_ACTION):
        return None
    return registration_id, parts[2]


def review_buttons(registration_id: int) -> list[dict[str, str]]:
    """The inline buttons under the request in the system bot."""
    return [
        {"text": APPROVE_LABEL, "data": callback_data(registration_id, APPROVE_ACTION)},
        {"text": REJECT_LABEL, "data": callback_data(registration_id, REJECT_ACTION)},
    ]


def review_text(session: Session, registration: Registration, bot: Bot) -> str:
    """The request as the responsible person reads it (the system bot's «auth_review» text), user data escaped."""
    return read_texts(session, SYSTEM_BOT).get(
        "auth_review",
        id=registration.id,
        bot=escape(bot.name),
        name=escape(registration.applicant or "без имени"),
        phone=escape(registration.phone or "не передан"),
        data=escape(registration.data),
    )


def notify_responsible(session: Session, registration: Registration, bot: Bot, responsible: Person) -> None:
    """Queues the request to ``responsible``: to their system-bot chat (when they have one) and to the inbox."""
    body = review_text(session, registration, bot)
    subject = f"Заявка на авторизацию № {registration.id}"
    chat = session.exec(
        select(TelegramChat).where(TelegramChat.bot == SYSTEM_BOT, TelegramChat.person_id == responsible.id)
    ).first()
    if chat is not None and chat.revoked_at is None:
        _queue(
            session,
            f"registration:{registration.id}:review:telegram",
            "telegram",
            chat.chat_id,
            body,
            person_id=responsible.id,
            subject=subject,
            buttons=review_buttons(registration.id or 0),
        )
    _queue(
        session,
        f"registration:{registration.id}:review:inbox",
        "inbox",
        str(responsible.id),
        body,
        person_id=responsible.id,
        subject=subject,
    )


def tell_applicant(session: Session, registration: Registration, bot: Bot, outcome: str, body: str) -> None:
    """Queues ``body`` to the applicant's chat through ``bot``, once per ``outcome`` of the registration."""
    _queue(
        session,
        f"registration:{registration.id}:{outcome}",
        "telegram",
        registration.chat_id,
        body,
        person_id=registration.person_id,
        bot=outbox_bot_name(bot),
    )


def success_text(session: Session, bot: Bot, person: Person) -> str:
    """The bot's «auth_success» text for ``person``."""
    return texts_of(session, bot).get("auth_success", name=escape(person.full_name))


def rejected_text(session: Session, bot: Bot, reason: str) -> str:
    """The bot's «auth_rejected» text with ``reason``."""
    return texts_of(session, bot).get("auth_rejected", reason=escape(reason))


def error_text(session: Session, bot: Bot) -> str:
    """The bot's «auth_error» text."""
    return texts_of(session, bot).get("auth_error")


def _queue(
    session: Session,
    key: str,
    channel: str,
    address: str,
    body: str,
    *,
    person_id: int | None,
    subject: str = "",
    buttons: list[dict[str, str]] | None = None,
    bot: str | None = None,
) -> None:
    if session.exec(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)).first() is not None:
        return
    session.add(
        OutboxMessage(
            idempotency_key=key,
            person_id=person_id,
            channel=channel,
            bot=bot,
            address=address,
            subject=subject,
            body=body,
            buttons=buttons or [],
            status=MessageStatus.PENDING,
        )
    )
    session.flush()
