"""``signal-ext process``: start, list, show and cancel processes."""

from __future__ import annotations

import mimetypes
from pathlib import Path

import click

from processes.errors import NotFound, ProcessError, shortened
from processes.files import read_file_bytes
from processes.ids import is_decimal, record_id
from processes.models import ProcessPublic, ProcessStatus
from processes.queries import list_processes, show_process
from processes.services import NewAttachment
from signal_ext.commands.common import current_app, emit, json_option, local_time, reading
from signal_ext.commands.params import INPUT_FILE, RECORD_ID, Choice


@click.group("process")
def process_group() -> None:
    """Процессы по сценариям."""


@process_group.command("start")
@click.argument("target")
@click.option("--author", help="Автор процесса (id или часть имени); без него TARGET — номер созданного процесса.")
@click.option("--description", default="", help="Описание процесса.")
@click.option("--attach", "files", multiple=True, type=INPUT_FILE)
@json_option
def start(target: str, author: str | None, description: str, files: tuple[Path, ...], as_json: bool) -> None:
    """Создать процесс по сценарию TARGET (и запустить, если у сценария нет ручного старта),
    или запустить созданный процесс с номером TARGET."""
    service = current_app().processes
    if author is not None:
        attachments = [_attachment(path) for path in files]
        process = service.start_process(target, author, description, attachments)
    elif is_decimal(target):
        number = record_id(target)
        if number is None:
            raise NotFound("процесс", target)
        process = service.start_created(number)
    else:
        raise ProcessError("Укажите --author, чтобы создать процесс по сценарию, или номер созданного процесса")
    assert process.id is not None
    with reading() as session:
        public = show_process(session, process.id)
    started = "Создан и запущен" if public.status == ProcessStatus.ACTIVE else "Создан"
    if author is None:
        started = "Запущен"
    emit(public, as_json, lambda: f"{started} процесс {public.id} «{public.scenario}»\n" + _tasks(public))


@process_group.command("list")
@click.option("--status", type=Choice([s.value for s in ProcessStatus]), default=None)
@json_option
def list_(status: str | None, as_json: bool) -> None:
    """Список процессов."""
    with reading() as session:
        found = list_processes(session, ProcessStatus(status) if status else None)
    emit(found, as_json, lambda: "\n".join(_line(p) for p in found) or "Процессов нет")


@process_group.command("show")
@click.argument("process_id", type=RECORD_ID)
@json_option
def show(process_id: int, as_json: bool) -> None:
    """Процесс с его задачами."""
    with reading() as session:
        public = show_process(session, process_id)
    emit(public, as_json, lambda: _card(public))


@process_group.command("cancel")
@click.argument("process_id", type=RECORD_ID)
@click.option("--reason", default="", help="Причина прерывания.")
def cancel(process_id: int, reason: str) -> None:
    """Прервать процесс; его открытые задачи отменяются."""
    current_app().processes.cancel_process(process_id, reason)
    click.echo(f"Процесс {process_id} прерван")


def _attachment(path: Path) -> NewAttachment:
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    try:
        content = read_file_bytes(path)
    except ValueError as error:
        raise ProcessError(f"Вложение {shortened(str(path))}: {error}") from None
    return NewAttachment(path.name, content, content_type)


def _line(process: ProcessPublic) -> str:
    return f"{process.id:>4}  {process.status:<9} «{process.scenario}»  автор: {process.author}  {process.description}"


def _tasks(process: ProcessPublic) -> str:
    return "\n".join(
        f"  задача {t.id}: {t.title} — {t.performer} [{t.status}]"
        + (f", срок {local_time(t.deadline)}" if t.deadline else "")
        for t in process.tasks
    )


def _card(process: ProcessPublic) -> str:
    lines = [_line(process)]
    if process.deadline:
        lines.append(f"  срок: {local_time(process.deadline)}")
    if process.data:
        lines.append("  данные: " + ", ".join(f"{k}={v}" for k, v in process.data.items()))
    if process.attachments:
        lines.append("  вложения: " + ", ".join(process.attachments))
    if process.cancel_reason:
        lines.append(f"  причина прерывания: {process.cancel_reason}")
    tasks = _tasks(process)
    return "\n".join([*lines, tasks] if tasks else lines)
