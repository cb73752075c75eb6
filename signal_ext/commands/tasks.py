"""``signal-ext task``: list, create, complete and acknowledge tasks."""

from __future__ import annotations

from datetime import datetime

import click

from processes.errors import ProcessError, quoted
from processes.models import TaskCreate, TaskPublic, TaskStatus
from processes.persons import find_person
from processes.queries import list_tasks, show_task
from signal_ext.commands.common import current_app, emit, json_option, local_time, reading
from signal_ext.commands.params import RECORD_ID, Choice, DateTime

_DEADLINE_FORMATS = ["%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"]


@click.group("task")
def task_group() -> None:
    """Задачи."""


@task_group.command("list")
@click.option("--performer", default=None, help="Исполнитель (id или часть имени).")
@click.option("--status", type=Choice([s.value for s in TaskStatus]), default=None)
@json_option
def list_(performer: str | None, status: str | None, as_json: bool) -> None:
    """Список задач."""
    with reading() as session:
        performer_id = find_person(session, performer).id if performer else None
        found = list_tasks(session, performer_id, TaskStatus(status) if status else None)
    emit(found, as_json, lambda: "\n".join(_line(t) for t in found) or "Задач нет")


@task_group.command("show")
@click.argument("task_id", type=RECORD_ID)
@json_option
def show(task_id: int, as_json: bool) -> None:
    """Задача подробно."""
    with reading() as session:
        task = show_task(session, task_id)
    emit(task, as_json, lambda: _card(task))


@task_group.command("create")
@click.option("--description", required=True, help="Что сделать.")
@click.option("--performer", default=None, help="Исполнитель (по умолчанию — автор).")
@click.option("--author", required=True, help="Автор задачи (id или часть имени).")
@click.option("--title", default=None, help="Заголовок (по умолчанию — начало описания).")
@click.option("--deadline", type=DateTime(_DEADLINE_FORMATS), default=None, help="Срок: ДД.ММ.ГГГГ ЧЧ:ММ.")
@click.option("--important", is_flag=True, help="Важная задача.")
@json_option
def create(
    description: str,
    performer: str | None,
    author: str,
    title: str | None,
    deadline: datetime | None,
    important: bool,
    as_json: bool,
) -> None:
    """Создать отдельную задачу (вне процесса)."""
    app = current_app()
    with reading() as session:
        author_id = find_person(session, author).id
        performer_id = find_person(session, performer).id if performer else author_id
    assert author_id is not None and performer_id is not None
    if deadline is not None and deadline.tzinfo is None:
        deadline = _with_workday_end(deadline).replace(tzinfo=app.settings.zone)
    data = TaskCreate(
        title=title or description.strip()[:80],
        description=description,
        performer_id=performer_id,
        author_id=author_id,
        deadline=deadline,
        important=important,
    )
    task = app.processes.create_task(data)
    assert task.id is not None
    with reading() as session:
        public = show_task(session, task.id)
    emit(public, as_json, lambda: f"Создана задача {public.id}: {public.title} — {public.performer}")


@task_group.command("complete")
@click.argument("task_id", type=RECORD_ID)
@click.option("--comment", default="", help="Комментарий исполнителя.")
@click.option("--data", "pairs", multiple=True, metavar="FIELD=VALUE", help="Значение обязательного поля.")
@json_option
def complete(task_id: int, comment: str, pairs: tuple[str, ...], as_json: bool) -> None:
    """Выполнить задачу; процесс переходит к следующему шагу."""
    values = dict(_pair(item) for item in pairs)
    current_app().processes.complete_task(task_id, comment, values)
    with reading() as session:
        public = show_task(session, task_id)
    emit(public, as_json, lambda: f"Задача {task_id} выполнена")


@task_group.command("ack")
@click.argument("task_id", type=RECORD_ID)
def acknowledge(task_id: int) -> None:
    """Отметить ознакомление с задачей."""
    task = current_app().processes.acknowledge_task(task_id)
    click.echo(f"Задача {task_id}: ознакомлен {local_time(task.acknowledged_at)}")


def _with_workday_end(deadline: datetime) -> datetime:
    if deadline.hour == 0 and deadline.minute == 0:
        end = current_app().settings.workday_end
        return deadline.replace(hour=end.hour, minute=end.minute)
    return deadline


def _pair(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name.strip():
        raise ProcessError(f"--data {quoted(item)}: ожидается ПОЛЕ=ЗНАЧЕНИЕ")
    return name.strip(), value


def _line(task: TaskPublic) -> str:
    important = "!" if task.important else " "
    deadline = f"  срок {local_time(task.deadline)}" if task.deadline else ""
    where = f"процесс {task.process_id}" if task.process_id else "отдельная"
    return f"{task.id:>4} {important} {task.status:<9} {task.title} — {task.performer} ({where}){deadline}"


def _card(task: TaskPublic) -> str:
    lines = [_line(task), f"  автор: {task.author}"]
    if task.description:
        lines.append(f"  описание: {task.description}")
    if task.comment:
        lines.append(f"  комментарий: {task.comment}")
    if task.data:
        lines.append("  данные: " + ", ".join(f"{k}={v}" for k, v in task.data.items()))
    if task.acknowledged_at:
        lines.append(f"  ознакомлен: {local_time(task.acknowledged_at)}")
    if task.attachments:
        lines.append(f"  вложений процесса: {task.attachments}")
    return "\n".join(lines)
