"""``signal-ext registration``: authorization requests (list, approve, reject) and ``bot auth``, a bot's chain."""

from __future__ import annotations

import click
from sqlmodel import Session, select

from processes.errors import ProcessError
from processes.models import Person
from signal_ext.bots.directory import find_bot
from signal_ext.bots.models import Bot
from signal_ext.commands.common import current_app, emit, json_option, local_time, reading, writing
from signal_ext.commands.params import RECORD_ID, Choice
from signal_ext.notifications.models import SYSTEM_BOT, TelegramChat
from signal_ext.registrations import RegistrationPublic, approve, list_registrations, reject, set_auth
from signal_ext.registrations.queries import parse_status

KIND_CHOICE = Choice(["user", "partner", "counterparty"], case_sensitive=False)


@click.command("auth")
@click.argument("bot_ref", metavar="BOT")
@click.option("--on/--off", "enabled", default=None, help="Включить или выключить авторизацию.")
@click.option("--algorithm", default=None, help="Алгоритм автоматической регистрации («» — убрать).")
@click.option("--scenario", default=None, help="Сценарий процесса авторизации («» — убрать).")
@click.option("--responsible", default=None, help="Ответственный за обработку заявок («» — убрать).")
@click.option("--request-text", default=None, help="Текст запроса авторизации («» — стандартный).")
@click.option("--kind", type=KIND_CHOICE, default=None, help="Кем регистрировать по умолчанию (для сценария).")
def bot_auth_command(
    bot_ref: str,
    enabled: bool | None,
    algorithm: str | None,
    scenario: str | None,
    responsible: str | None,
    request_text: str | None,
    kind: str | None,
) -> None:
    """Авторизация чат-бота: алгоритм → сценарий → ответственный → текст ошибки."""
    with writing() as session:
        bot = find_bot(session, bot_ref)
        set_auth(
            session,
            bot,
            enabled=enabled,
            request_text=request_text,
            algorithm=algorithm,
            scenario=scenario,
            responsible=responsible,
            kind=kind,
        )
        card = _auth_card(bot, session.get(Person, bot.auth_responsible_id) if bot.auth_responsible_id else None)
        warnings = _warnings(session, bot)
    click.echo(card)
    for warning in warnings:
        click.echo(f"Внимание: {warning}")


@click.group("registration")
def registration_group() -> None:
    """Заявки на авторизацию в чат-ботах: список, одобрение, отказ."""


@registration_group.command("list")
@click.option("--status", default=None, help="Ожидает, Зарегистрирован, Отклонён, Ошибка (или pending…).")
@click.option("--bot", "bot_ref", default=None, help="Только заявки этого чат-бота.")
@json_option
def list_(status: str | None, bot_ref: str | None, as_json: bool) -> None:
    """Заявки на авторизацию, новые сверху."""
    wanted = parse_status(status) if status is not None else None
    with reading() as session:
        rows = list_registrations(session, wanted, bot_ref)
    emit(rows, as_json, lambda: "\n".join(_line(row) for row in rows) or "Заявок нет")


@registration_group.command("approve")
@click.argument("registration_id", type=RECORD_ID, metavar="ID")
@click.option("--as", "kind", type=KIND_CHOICE, required=True, help="Кем зарегистрировать.")
@click.option("--person", "person_ref", default=None, help="Существующий человек: id или часть имени.")
@click.option("--new-name", default=None, help="Имя нового человека этого вида.")
def approve_command(registration_id: int, kind: str, person_ref: str | None, new_name: str | None) -> None:
    """Одобрить заявку: зарегистрировать чат как существующего человека или нового."""
    if (person_ref is None) == (new_name is None):
        raise ProcessError("Укажите либо --person, либо --new-name")
    registration = approve(current_app(), registration_id, kind, person_ref, new_name)
    with reading() as session:
        person = session.get(Person, registration.person_id) if registration.person_id else None
    click.echo(f"Заявка № {registration.id} одобрена: чат зарегистрирован как «{person.full_name if person else ''}»")


@registration_group.command("reject")
@click.argument("registration_id", type=RECORD_ID, metavar="ID")
@click.option("--reason", required=True, help="Причина: заявитель её получит.")
def reject_command(registration_id: int, reason: str) -> None:
    """Отклонить заявку с причиной."""
    registration = reject(current_app(), registration_id, reason)
    click.echo(f"Заявка № {registration.id} отклонена: {registration.reason}")


def _line(row: RegistrationPublic) -> str:
    who = f" → {row.person}" if row.person else ""
    data = " ".join(row.data.split())
    data = data if len(data) <= 60 else data[:59] + "…"
    reason = f" ({row.reason})" if row.reason and row.status != "Зарегистрирован" else ""
    return (
        f"{row.id:>4}  {local_time(row.created_at)}  {row.bot}  чат {row.chat_id}  {row.status} [{row.stage}]"
        f"{who}  «{data}» {row.applicant}{reason}"
    ).rstrip()


KIND_NAMES = {"user": "пользователь", "partner": "партнёр", "counterparty": "контрагент"}


def _auth_card(bot: Bot, responsible: Person | None) -> str:
    rows = [
        ("Чат-бот", bot.name),
        ("Авторизация", "да" if bot.auth_enabled else "нет"),
        ("Запрос авторизации", bot.auth_request_text or "стандартный"),
        ("Алгоритм", bot.auth_algorithm or "не задан"),
        ("Сценарий", bot.auth_scenario or "не задан"),
        ("Ответственный", f"{responsible.full_name} (id {responsible.id})" if responsible else "не задан"),
        ("Регистрировать как", KIND_NAMES.get(bot.auth_kind, bot.auth_kind)),
    ]
    return "\n".join(f"{label}: {value}" for label, value in rows)


def _warnings(session: Session, bot: Bot) -> list[str]:
    found: list[str] = []
    if bot.auth_enabled and not (bot.auth_algorithm or bot.auth_scenario or bot.auth_responsible_id):
        found.append("ни алгоритм, ни сценарий, ни ответственный не заданы — заявители получат текст ошибки")
    if bot.auth_responsible_id is not None:
        chat = session.exec(
            select(TelegramChat).where(
                TelegramChat.bot == SYSTEM_BOT, TelegramChat.person_id == bot.auth_responsible_id
            )
        ).first()
        if chat is None:
            found.append("у ответственного нет чата с системным ботом — заявки придут только во «Входящие»")
    return found
