"""Reading registrations: the list for the CLI and the API, who a chat is registered as, its pending request."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from auth.models import Registration, RegistrationStage, RegistrationStatus
from processes.errors import NotFound, ProcessError, quoted
from processes.models import Person
from signal_ext.bots.models import Bot
from signal_ext.notifications.models import SYSTEM_BOT, TelegramChat
from signal_ext.registrations.bots import chat_bot_name, runtime_bot


class RegistrationPublic(BaseModel):
    """A request as ``registration list`` shows it."""

    id: int
    bot: str
    chat_id: str
    applicant: str
    data: str
    phone: str | None
    status: RegistrationStatus
    stage: RegistrationStage
    process_id: int | None
    person_id: int | None
    person: str = ""
    reason: str
    decided_by: str = ""
    created_at: datetime
    decided_at: datetime | None


def parse_status(text: str) -> RegistrationStatus:
    """A status by its Russian value («Ожидает») or English name (``pending``), ignoring case."""
    folded = text.strip().casefold()
    for status in RegistrationStatus:
        if folded in (status.value.casefold(), status.name.casefold()):
            return status
    known = ", ".join(s.value for s in RegistrationStatus)
    raise ProcessError(f"Статус заявки {quoted(text)} неизвестен: {known}")


def _chat_bot(session: Session, bot_name: str) -> str:
    """The name under which ``bot_name``'s chats are linked (``system`` for the system bot by any name)."""
    if bot_name == SYSTEM_BOT:
        return SYSTEM_BOT
    try:
        return chat_bot_name(runtime_bot(session, bot_name))
    except NotFound:
        return bot_name


def registered_person(session: Session, bot_name: str, chat_id: str) -> Person | None:
    """The person ``chat_id`` is registered as with the bot running as ``bot_name``; None when it is not (or its
    link was revoked by a block or a deletion — the lifecycle says what to tell such a chat)."""
    link = session.exec(
        select(TelegramChat).where(TelegramChat.bot == _chat_bot(session, bot_name), TelegramChat.chat_id == chat_id)
    ).first()
    if link is None or link.revoked_at is not None:
        return None
    return session.get(Person, link.person_id)


def pending_request(session: Session, bot_name: str, chat_id: str) -> Registration | None:
    """The chat's request to the bot running as ``bot_name`` that is still being decided, if any."""
    try:
        bot = runtime_bot(session, bot_name)
    except NotFound:
        return None
    statement = select(Registration).where(
        Registration.bot_id == bot.id,
        Registration.chat_id == chat_id,
        Registration.status == RegistrationStatus.PENDING,
    )
    return session.exec(statement.order_by(col(Registration.id).desc())).first()


def list_registrations(
    session: Session, status: RegistrationStatus | str | None = None, bot: str | None = None
) -> list[RegistrationPublic]:
    """Requests, the newest first; ``status`` (e.g. «Ожидает») and ``bot`` (a name or id) narrow the list."""
    statement = select(Registration).order_by(col(Registration.id).desc())
    if status is not None:
        statement = statement.where(Registration.status == parse_status(str(status)))
    if bot is not None:
        statement = statement.where(Registration.bot_id == runtime_bot(session, bot).id)
    rows = list(session.exec(statement))
    bots = {b.id: b.name for b in session.exec(select(Bot))}
    wanted = {r.person_id for r in rows} | {r.decided_by_id for r in rows}
    ids = [i for i in wanted if i is not None]
    names = {p.id: p.full_name for p in session.exec(select(Person).where(col(Person.id).in_(ids)))} if ids else {}
    return [
        RegistrationPublic.model_validate(
            {name: getattr(row, name) for name in Registration.model_fields if name not in ("status", "stage")}
            | {
                "status": RegistrationStatus(row.status),
                "stage": RegistrationStage(row.stage),
                "bot": bots.get(row.bot_id, str(row.bot_id)),
                "person": names.get(row.person_id, ""),
                "decided_by": names.get(row.decided_by_id, ""),
            }
        )
        for row in rows
    ]
