"""``signal-ext message``, ``inbox``, ``rule``: the notification side of the command line."""

from __future__ import annotations

import asyncio

import click

from processes.deadlines import parse_deadline
from processes.errors import ProcessError
from processes.persons import find_person
from signal_ext.bots.system_token import with_directory_token
from signal_ext.commands.common import current_app, emit, json_option, local_time, reading, writing
from signal_ext.commands.params import RECORD_ID, Choice
from signal_ext.notifications.messages import cancel_message, list_messages, mark_read, queue_message
from signal_ext.notifications.models import MessageStatus, OutboxPublic
from signal_ext.notifications.rules import list_rules
from signal_ext.redaction import redact


@click.group("message")
def message_group() -> None:
    """Сообщения: отправить сейчас или отложенно, список, отмена."""


@message_group.command("send")
@click.option("--to", "recipient", required=True, help="Получатель (id или часть имени).")
@click.option("--channel", type=Choice(["telegram", "email", "inbox"]), required=True)
@click.option("--text", required=True, help="Текст (HTML Telegram: <b>, <i>, <u>, <a href>).")
@click.option("--subject", default="", help="Тема (для e-mail).")
@click.option("--at", "when", default=None, help="Когда отправить: 06.02 14:00, 6.2, 3 (дня), «завтра»…")
def send(recipient: str, channel: str, text: str, subject: str, when: str | None) -> None:
    """Отправить сообщение сейчас или в указанное время."""
    app = current_app(with_directory_token)  # sent at once: with the system bot's token, wherever it is set
    send_at = None
    if when is not None:
        settings = app.settings
        send_at = parse_deadline(when, app.clock(), settings.zone, settings.workday_end)
    with writing() as session:
        message = queue_message(session, find_person(session, recipient), channel, text, subject, send_at)
    if message.status == MessageStatus.FAILED:
        raise ProcessError(f"Сообщение {message.id} не отправлено: {redact(message.last_error)}")
    if message.status == MessageStatus.SCHEDULED:
        click.echo(f"Сообщение {message.id} будет отправлено {local_time(message.send_at)}")
        return
    asyncio.run(_dispatch_now(message.id or 0))
    with reading() as session:
        [shown] = [m for m in list_messages(session) if m.id == message.id]
    if shown.status == MessageStatus.SENT:
        click.echo(f"Сообщение {shown.id} отправлено")
    elif shown.status == MessageStatus.FAILED:  # not retried: say so as the error it is
        raise ProcessError(f"Сообщение {shown.id} не отправлено: {redact(shown.last_error)}")
    else:
        click.echo(f"Сообщение {shown.id}: {shown.status}, {redact(shown.last_error)} (повтор — в сервисе)")


async def _dispatch_now(message_id: int) -> None:
    app = current_app()
    try:
        await app.dispatcher.run_once(only=[message_id])
    finally:
        await app.aclose()


@message_group.command("list")
@click.option("--to", "recipient", default=None, help="Только этому получателю.")
@json_option
def list_(recipient: str | None, as_json: bool) -> None:
    """Все сообщения со статусами; отложенные отмечены."""
    with reading() as session:
        person_id = find_person(session, recipient).id if recipient else None
        # errors are masked when stored; rows stored before that are masked here, in text and JSON alike
        found = [m.model_copy(update={"last_error": redact(m.last_error)}) for m in list_messages(session, person_id)]
    emit(found, as_json, lambda: "\n".join(_line(m) for m in found) or "Сообщений нет")


@message_group.command("cancel")
@click.argument("message_id", type=RECORD_ID)
def cancel(message_id: int) -> None:
    """Отменить ещё не отправленное сообщение."""
    with writing() as session:
        cancel_message(session, message_id)
    click.echo(f"Сообщение {message_id} отменено")


@click.group("inbox")
def inbox_group() -> None:
    """Входящие («система взаимодействия»)."""


@inbox_group.command("list")
@click.argument("person_ref")
@json_option
def inbox_list(person_ref: str, as_json: bool) -> None:
    """Входящие человека, новые отмечены «●»."""
    with reading() as session:
        person = find_person(session, person_ref)
        found = [m for m in list_messages(session, person.id, "inbox") if m.status == MessageStatus.SENT]
    emit(found, as_json, lambda: "\n".join(_inbox_line(m) for m in found) or "Входящих нет")


@inbox_group.command("read")
@click.argument("message_id", type=RECORD_ID)
def inbox_read(message_id: int) -> None:
    """Отметить сообщение прочитанным."""
    with writing() as session:
        message = mark_read(session, message_id)
    click.echo(f"Сообщение {message_id} прочитано {local_time(message.read_at)}")


@click.command("rule")
@click.argument("action", type=Choice(["list"]))
@json_option
def rule_command(action: str, as_json: bool) -> None:
    """Правила оповещений: signal-ext rule list."""
    with reading() as session:
        rules = [rule.model_dump(mode="json") for rule in list_rules(session)]
    emit(rules, as_json, lambda: "\n".join(_rule_line(r) for r in rules) or "Правил нет")


def _line(message: OutboxPublic) -> str:
    delayed = f" отложено до {local_time(message.send_at)}" if message.delayed else ""
    error = f" — {message.last_error}" if message.last_error else ""
    text = " ".join(message.body.split())[:60]
    return f"{message.id:>5} {message.status:<9} {message.channel:<8} {message.recipient}{delayed}: {text}{error}"


def _inbox_line(message: OutboxPublic) -> str:
    mark = " " if message.read_at else "●"
    return f"{mark} {message.id:>5} {local_time(message.sent_at)}  {' '.join(message.body.split())}"


def _rule_line(rule: dict[str, object]) -> str:
    scope = f"сценарий {rule['scenario_id']}" if rule["scenario_id"] else "общее"
    state = "" if rule["enabled"] else " (выключено)"
    return f"{rule['id']:>4} {scope:<14} {rule['event']:<26} {rule['channel']:<8} → {rule['recipient_kind']}{state}"
