"""The directory of persons: adding them and finding one by id or by an unambiguous part of the name."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from processes.errors import AmbiguousReference, NotFound, ProcessError
from processes.fields import normalise_phone
from processes.ids import record_id
from processes.models import Person, PersonCreate

KIND_LABEL = "сотрудник"


def name_key(full_name: str, short_name: str) -> str:
    """The case-folded text that name searches run against."""
    return f"{full_name} {short_name}".casefold()


def add_person(session: Session, data: PersonCreate) -> Person:
    """Adds a person to the directory (phone normalised, roles de-duplicated); the caller commits."""
    phone = data.phone
    if phone:
        try:
            phone = normalise_phone(phone)
        except ValueError as error:
            raise ProcessError(f"Телефон «{data.phone}»: {error}") from error
    short_name = data.short_name or default_short_name(data.full_name)
    values = data.model_dump()
    values.update(
        phone=phone,
        short_name=short_name,
        roles=sorted({role.strip() for role in data.roles if role.strip()}),
        name_key=name_key(data.full_name, short_name),
    )
    person = Person.model_validate(values)
    session.add(person)
    session.flush()
    return person


def default_short_name(full_name: str) -> str:
    """«Иванов Иван Иванович» → «Иванов И. И.»: the short form 1C users are used to."""
    words = full_name.split()
    if len(words) < 2:
        return full_name.strip()
    return " ".join([words[0], *(f"{word[0]}." for word in words[1:3])])


def find_person(session: Session, ref: str | int) -> Person:
    """The one person ``ref`` names: an id, or a part of the full or short name (case-insensitive)."""
    text = str(ref).strip()
    number = record_id(text)  # a longer number (an ИНН, a phone) is no id: it is looked for in the names
    if number is not None:
        person = session.get(Person, number)
        if person is not None:
            return person
    matches = match_persons(session, text)
    if not matches:
        raise NotFound(KIND_LABEL, text)
    if len(matches) > 1:
        raise AmbiguousReference(KIND_LABEL, text, [f"{p.full_name} (id {p.id})" for p in matches])
    return matches[0]


def match_persons(session: Session, text: str) -> Sequence[Person]:
    """Persons whose name contains ``text``; whole-word matches win over partial ones."""
    needle = " ".join(text.casefold().split())
    if not needle:
        return []
    statement = select(Person).where(col(Person.name_key).contains(needle, autoescape=True)).order_by(col(Person.id))
    found = session.exec(statement).all()
    exact = [p for p in found if _is_whole_name_match(p, needle)]
    return exact or found


def _is_whole_name_match(person: Person, needle: str) -> bool:
    full = person.full_name.casefold()
    short = person.short_name.casefold()
    return needle in (full, short) or needle in full.split()


def persons_with_role(session: Session, role: str) -> Sequence[Person]:
    """Active persons that hold ``role`` (case-insensitive), in id order."""
    wanted = role.casefold()
    everyone = session.exec(select(Person).where(col(Person.active)).order_by(col(Person.id))).all()
    return [p for p in everyone if any(r.casefold() == wanted for r in p.roles)]
