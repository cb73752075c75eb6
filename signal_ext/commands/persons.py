"""``signal-ext person``: the directory of employees, partners and counterparties."""

from __future__ import annotations

import click
from sqlmodel import col, select

from processes.errors import ProcessError, quoted
from processes.models import Person, PersonCreate, PersonKind, PersonPublic
from processes.persons import add_person, find_person
from processes.timeutil import utcnow
from signal_ext.bots.directory import system_bot
from signal_ext.bots.invites import create_invite, invite_link
from signal_ext.commands.common import emit, json_option, local_time, reading, writing
from signal_ext.commands.params import Choice
from signal_ext.lifecycle.persons import Change, block_person, delete_person, unblock_person
from signal_ext.notifications.chats import link_chat
from signal_ext.notifications.models import SYSTEM_BOT


@click.group("person")
def person_group() -> None:
    """Сотрудники, партнёры и контрагенты."""


@person_group.command("add")
@click.argument("full_name")
@click.option("--short", "short_name", default="", help="Краткое имя (по умолчанию «Фамилия И. О.»).")
@click.option("--kind", type=Choice([k.value for k in PersonKind]), default=PersonKind.USER.value)
@click.option("--email", default=None)
@click.option("--phone", default=None)
@click.option("--inn", default=None, help="ИНН контрагента.")
@click.option("--role", "roles", multiple=True, help="Роль (можно несколько раз).")
@json_option
def add(
    full_name: str,
    short_name: str,
    kind: str,
    email: str | None,
    phone: str | None,
    inn: str | None,
    roles: tuple[str, ...],
    as_json: bool,
) -> None:
    """Добавить человека в справочник."""
    data = PersonCreate(
        full_name=full_name.strip(),
        short_name=short_name,
        kind=PersonKind(kind),
        email=email,
        phone=phone,
        inn=inn,
        roles=list(roles),
    )
    with writing() as session:
        person = PersonPublic.model_validate(add_person(session, data))
    emit(person, as_json, lambda: f"Добавлен {person.full_name} (id {person.id})")


@person_group.command("list")
@json_option
def list_(as_json: bool) -> None:
    """Список людей справочника."""
    with reading() as session:
        people = [PersonPublic.model_validate(p) for p in session.exec(select(Person).order_by(col(Person.id)))]
    emit(people, as_json, lambda: "\n".join(_line(p) for p in people) or "Справочник пуст")


@person_group.command("show")
@click.argument("person_ref")
@json_option
def show(person_ref: str, as_json: bool) -> None:
    """Карточка человека (по id или части имени)."""
    with reading() as session:
        person = PersonPublic.model_validate(find_person(session, person_ref))
    emit(person, as_json, lambda: _card(person))


def _line(person: PersonPublic) -> str:
    roles = f" [{', '.join(person.roles)}]" if person.roles else ""
    return f"{person.id:>4}  {person.full_name}  ({person.short_name}){roles}{_state(person)}"


def _paused(person: PersonPublic) -> bool:
    return person.paused_until is not None and person.paused_until > utcnow()


def _state(person: PersonPublic) -> str:
    """« (удалён)», « (заблокирован: …)», « (пауза до …)» or nothing."""
    if not person.active:
        return " (удалён)"
    if person.blocked:
        return f" (заблокирован: {person.blocked_reason or 'причина не указана'})"
    if _paused(person):
        return f" (пауза до {local_time(person.paused_until)})"
    return ""


def _card(person: PersonPublic) -> str:
    rows = [
        ("id", str(person.id)),
        ("ФИО", person.full_name),
        ("Краткое имя", person.short_name),
        ("Вид", person.kind),
        ("E-mail", person.email or ""),
        ("Телефон", person.phone or ""),
        ("ИНН", person.inn or ""),
        ("Роли", ", ".join(person.roles)),
        ("Активен", "да" if person.active else "нет (удалён)"),
        ("Заблокирован", f"да: {person.blocked_reason or 'причина не указана'}" if person.blocked else ""),
        ("Пауза до", local_time(person.paused_until) if _paused(person) else ""),
    ]
    return "\n".join(f"{label}: {value}" for label, value in rows if value)


@person_group.command("link-telegram")
@click.argument("person_ref")
@click.argument("chat_id")
def link_telegram(person_ref: str, chat_id: str) -> None:
    """Связать человека с чатом системного бота (CHAT_ID — из «Мой ключ» или из Telegram)."""
    if not chat_id.lstrip("-").isdigit():
        raise ProcessError(f"CHAT_ID {quoted(chat_id)}: ожидается число")
    with writing() as session:
        person = find_person(session, person_ref)
        link_chat(session, person, chat_id)
    click.echo(f"{person.full_name}: Telegram-чат {chat_id}")


@person_group.command("link")
@click.argument("person_ref")
@click.option("--key", required=True, help="Ключ чата: бот сообщает его на «Мой ключ».")
def link(person_ref: str, key: str) -> None:
    """Связать человека с чатом системного бота по ключу чата."""
    if not key.strip().lstrip("-").isdigit():
        raise ProcessError(f"Ключ {quoted(key)}: ожидается число, которое бот прислал на «Мой ключ»")
    with writing() as session:
        person = find_person(session, person_ref)
        link_chat(session, person, key.strip())
    click.echo(f"{person.full_name}: чат {key.strip()} подключён")


@person_group.command("invite")
@click.argument("person_ref")
def invite(person_ref: str) -> None:
    """Напечатать одноразовую ссылку-приглашение: открывший её чат будет связан с человеком."""
    with writing() as session:
        person = find_person(session, person_ref)
        created = create_invite(session, person, SYSTEM_BOT)
        bot = system_bot(session)
        username = bot.username if bot is not None else None
    click.echo(invite_link(username, created.token))


@person_group.command("block")
@click.argument("person_ref")
@click.option("--reason", required=True, help="Причина: её увидят в чатах человека.")
def block(person_ref: str, reason: str) -> None:
    """Заблокировать: чаты человека получают сообщение с причиной и теряют доступ к ботам."""
    with writing() as session:
        person = find_person(session, person_ref)
        change = block_person(session, person, reason.strip(), utcnow())
    _report(person.full_name, change, "заблокирован", "уже заблокирован")


@person_group.command("unblock")
@click.argument("person_ref")
def unblock(person_ref: str) -> None:
    """Разблокировать: чаты человека получают сообщение, доступ и меню возвращаются."""
    with writing() as session:
        person = find_person(session, person_ref)
        change = unblock_person(session, person, utcnow())
    _report(person.full_name, change, "разблокирован", "не заблокирован")


@person_group.command("delete")
@click.argument("person_ref")
def delete(person_ref: str) -> None:
    """Удалить (деактивировать) без сообщения: чат узнает об этом при следующем обращении к боту."""
    with writing() as session:
        person = find_person(session, person_ref)
        change = delete_person(session, person, utcnow())
    _report(person.full_name, change, "удалён, чаты отвязаны", "уже удалён")


def _report(name: str, change: Change, done: str, already: str) -> None:
    if not change.changed:
        click.echo(f"{name}: {already}, ничего не изменено")
        return
    told = f"; сообщение отправится в чатов: {change.told}" if change.told else ""
    click.echo(f"{name}: {done}{told}")
