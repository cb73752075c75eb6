"""Which person a registration means: the one an algorithm's result names, the owner of a phone, the author
of an authorization process, or the one a responsible person picked (or created)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_
from sqlmodel import Session, col, select

from auth.decision import KIND_NAMES, parse_kind
from processes.errors import ProcessError
from processes.fields import normalise_phone
from processes.ids import is_decimal, record_id
from processes.models import Person, PersonCreate
from processes.persons import add_person, find_person
from signal_ext.bots.models import Bot
from signal_ext.registrations.bots import is_available

ADMIN_ROLE = "admin"


def _usable() -> ColumnElement[bool]:
    return and_(col(Person.active), col(Person.blocked).is_(False))


def _one(candidates: list[Person]) -> int | None:
    return candidates[0].id if len(candidates) == 1 else None


def person_from_result(session: Session, value: object) -> int | None:
    """The one active, unblocked person an algorithm's ``_Результат`` names: a person id, an ИНН, or a whole
    full or short name (case-insensitive); None for anything else (several matches, a list, a flag)."""
    if value is None or isinstance(value, bool | list):
        return None
    text = " ".join(str(value).split())
    if not text:
        return None
    if is_decimal(text):
        number = record_id(text)
        person = session.get(Person, number) if number is not None else None
        if person is not None and is_available(person):
            return person.id
        by_inn = session.exec(select(Person).where(Person.inn == text, _usable())).all()
        if by_inn:
            return _one(list(by_inn))
    folded = text.casefold()
    everyone = session.exec(select(Person).where(_usable()).order_by(col(Person.id))).all()
    return _one([p for p in everyone if folded in (p.full_name.casefold(), p.short_name.casefold())])


def person_by_phone(session: Session, phone: str) -> int | None:
    """The one active, unblocked person whose phone is ``phone`` (compared in E.164: +7 / 8 / spaces / dashes
    do not matter); None when nobody or several have it, or it is not a phone number."""
    try:
        normal = normalise_phone(phone)
    except ValueError:
        return None
    return _one(list(session.exec(select(Person).where(Person.phone == normal, _usable())).all()))


def scenario_author(session: Session, bot: Bot) -> int:
    """Who starts a bot's authorization process: its responsible person when available, else the first active
    user with the role «admin», else the first active user."""
    responsible = session.get(Person, bot.auth_responsible_id) if bot.auth_responsible_id else None
    if responsible is not None and is_available(responsible):
        return responsible.id or 0
    users = session.exec(select(Person).where(Person.kind == "user", _usable()).order_by(col(Person.id))).all()
    admins = [p for p in users if any(role.casefold() == ADMIN_ROLE for role in p.roles)]
    chosen = admins or list(users)
    if not chosen:
        raise ProcessError("Некому запустить процесс авторизации: нет ни одного активного пользователя")
    return chosen[0].id or 0


def chosen_person(session: Session, kind_text: str, person_ref: str | int | None, new_name: str | None) -> Person:
    """The person a registration links to: an existing one of ``kind`` (id or an unambiguous name part) or a
    new one of ``kind`` named ``new_name``; exactly one of the two must be given."""
    kind = parse_kind(kind_text)
    has_ref = person_ref is not None and str(person_ref).strip() != ""
    has_name = new_name is not None and new_name.strip() != ""
    if has_ref == has_name:
        raise ProcessError("Укажите либо существующего человека, либо имя нового — одно из двух")
    if has_name:
        return add_person(session, PersonCreate(full_name=" ".join((new_name or "").split()), kind=kind))
    person = find_person(session, person_ref or "")
    if person.kind != kind:
        raise ProcessError(f"«{person.full_name}» — {KIND_NAMES[person.kind]}, а не {KIND_NAMES[kind]}")
    if not is_available(person):
        raise ProcessError(f"«{person.full_name}» неактивен или заблокирован: зарегистрировать чат на него нельзя")
    return person
