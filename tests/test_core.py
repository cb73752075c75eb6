"""The business-process core on both databases: processes advance, complete, cancel; events are logged."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlmodel import col, select

from processes.errors import AlreadyCompleted, DataValidationError, InvalidState, NotFound, ProcessError
from processes.events import DomainEvent, TaskCreated
from processes.models import (
    EventRecord,
    PersonCreate,
    Process,
    ProcessStatus,
    Task,
    TaskCreate,
    TaskStatus,
)
from processes.queries import show_process
from processes.services import NewAttachment
from processes.timeutil import utcnow
from signal_ext.bootstrap import App
from tests.helpers import row_counts, seed

SCENARIOS = """
scenarios:
  - name: Согласование договора
    deadline: 5d
    steps:
      - title: Согласование договора
        deadline: 2d
  - name: Закупка
    steps:
      - title: Заявка
        fields:
          - {name: item, title: Что закупить}
          - {name: quantity, title: Количество, type: integer}
          - {name: phone, title: Телефон, type: phone, required: false}
      - title: Решение
        performer: {role: Руководитель}
        important: true
        fields:
          - {name: decision, title: Решение, type: choice, choices: [Согласовано, Отклонено]}
      - title: Оплата
        performer: {person: Сидоров}
        fields:
          - {name: invoice, type: regex, pattern: 'СЧ-\\d+'}
          - {name: paid_on, type: date}
  - name: Командировка
    manual_start: true
    steps:
      - title: Оформить
"""

PEOPLE = [
    PersonCreate(full_name="Иванов Иван Иванович", roles=["Руководитель"]),
    PersonCreate(full_name="Петрова Мария Сергеевна", roles=["Руководитель"]),
    PersonCreate(full_name="Сидоров Алексей Петрович"),
]


@pytest.fixture
def people(app: App) -> list[int]:
    return seed(app, SCENARIOS, PEOPLE)


def _tasks(app: App, process_id: int) -> list[Task]:
    with app.read_session() as session:
        return list(session.exec(select(Task).where(Task.process_id == process_id).order_by(col(Task.id))))


def _event_names(app: App) -> list[str]:
    with app.read_session() as session:
        return list(session.exec(select(EventRecord.name).order_by(col(EventRecord.id))))


def test_single_step_process_goes_to_author_and_completes(app: App, people: list[int]) -> None:
    process = app.processes.start_process("Согласование договора", "Петрова", "Договор №5")
    assert process.status == ProcessStatus.ACTIVE
    assert process.deadline is not None and process.started_at is not None
    assert process.deadline - process.started_at == timedelta(days=5)
    [task] = _tasks(app, process.id or 0)
    assert task.performer_id == people[1] and task.author_id == people[1]
    assert task.deadline is not None and task.deadline - task.created_at == timedelta(days=2)

    completion = app.processes.complete_task(task.id or 0, "Согласовано")
    assert completion.process_completed and completion.next_task_id is None

    with app.read_session() as session:
        shown = show_process(session, process.id or 0)
    assert shown.status == ProcessStatus.COMPLETED
    assert shown.finished_at is not None
    assert [t.status for t in shown.tasks] == [TaskStatus.DONE]
    assert shown.tasks[0].comment == "Согласовано"
    assert _event_names(app) == [
        "process.created",
        "process.started",
        "task.created",
        "task.completed",
        "process.completed",
    ]


def test_three_steps_with_required_data_and_performer_rules(app: App, people: list[int]) -> None:
    ivanov, petrova, sidorov = people
    process = app.processes.start_process("Закупка", "Сидоров")
    [first] = _tasks(app, process.id or 0)
    assert first.performer_id == sidorov

    with pytest.raises(DataValidationError) as missing:
        app.processes.complete_task(first.id or 0, "", {"quantity": "два"})
    assert {e.field for e in missing.value.errors} == {"item", "quantity"}
    assert "Поле «Количество»: ожидается целое число, получено «два»" in missing.value.message
    assert "Поле «Что закупить» обязательно" in missing.value.message
    assert len(_tasks(app, process.id or 0)) == 1

    app.processes.complete_task(first.id or 0, "", {"item": "Ноутбук", "quantity": "2", "phone": "8 916 555-44-33"})
    second = _tasks(app, process.id or 0)[1]
    assert second.important and second.performer_id in (ivanov, petrova)

    app.processes.complete_task(second.id or 0, "", {"decision": "согласовано"})
    third = _tasks(app, process.id or 0)[2]
    assert third.performer_id == sidorov
    with pytest.raises(DataValidationError, match="шаблону"):
        app.processes.complete_task(third.id or 0, "", {"invoice": "1024", "paid_on": "01.12.2026"})
    with pytest.raises(DataValidationError, match="дата"):
        app.processes.complete_task(third.id or 0, "", {"invoice": "СЧ-1024", "paid_on": "31.02.2026"})
    app.processes.complete_task(third.id or 0, "Оплачено", {"invoice": "СЧ-1024", "paid_on": "1.12.2026"})

    with app.read_session() as session:
        shown = show_process(session, process.id or 0)
    assert shown.status == ProcessStatus.COMPLETED
    assert shown.data == {
        "item": "Ноутбук",
        "quantity": 2,
        "phone": "+79165554433",
        "decision": "Согласовано",
        "invoice": "СЧ-1024",
        "paid_on": "2026-12-01",
    }


def test_role_goes_to_the_least_busy_holder(app: App, people: list[int]) -> None:
    ivanov, petrova, _ = people
    performers = []
    for _ in range(4):
        process = app.processes.start_process("Закупка", "Сидоров")
        [first] = _tasks(app, process.id or 0)
        app.processes.complete_task(first.id or 0, "", {"item": "Стул", "quantity": "1"})
        performers.append(_tasks(app, process.id or 0)[1].performer_id)
    assert sorted(performers) == sorted([ivanov, ivanov, petrova, petrova])


def test_manual_start_only_creates_until_started(app: App, people: list[int]) -> None:
    process = app.processes.start_process("Командировка", "Иванов")
    assert process.status == ProcessStatus.CREATED
    assert _tasks(app, process.id or 0) == []

    started = app.processes.start_created(process.id or 0)
    assert started.status == ProcessStatus.ACTIVE
    assert len(_tasks(app, process.id or 0)) == 1
    with pytest.raises(InvalidState, match="Активен"):
        app.processes.start_created(process.id or 0)


def test_cancel_cancels_open_tasks_and_refuses_twice(app: App, people: list[int]) -> None:
    process = app.processes.start_process("Согласование договора", "Иванов")
    app.processes.cancel_process(process.id or 0, "Передумали")
    [task] = _tasks(app, process.id or 0)
    assert task.status == TaskStatus.CANCELLED
    with app.read_session() as session:
        stored = session.get(Process, process.id)
    assert stored is not None and stored.status == ProcessStatus.CANCELLED and stored.cancel_reason == "Передумали"
    with pytest.raises(InvalidState):
        app.processes.cancel_process(process.id or 0)
    with pytest.raises(AlreadyCompleted, match="Отменена"):
        app.processes.complete_task(task.id or 0, "")
    assert _event_names(app)[-2:] == ["task.cancelled", "process.cancelled"]


def test_standalone_task(app: App, people: list[int]) -> None:
    ivanov, petrova, _ = people
    with pytest.raises(ProcessError, match="прошёл"):
        app.processes.create_task(
            TaskCreate(
                title="Позвонить", performer_id=petrova, author_id=ivanov, deadline=utcnow() - timedelta(hours=1)
            )
        )
    task = app.processes.create_task(
        TaskCreate(title="Позвонить", performer_id=petrova, author_id=ivanov, deadline=utcnow() + timedelta(days=1))
    )
    assert task.process_id is None and task.status == TaskStatus.ACTIVE
    with pytest.raises(InvalidState, match="другому"):
        app.processes.complete_task(task.id or 0, "", by=ivanov)
    done = app.processes.complete_task(task.id or 0, "Позвонила", by=petrova)
    assert done.next_task_id is None and not done.process_completed
    with app.read_session() as session:
        stored = session.get(Task, task.id)
    assert stored is not None and stored.status == TaskStatus.DONE and stored.comment == "Позвонила"
    assert _event_names(app) == ["task.created", "task.completed"]


def test_acknowledgement_keeps_the_first_time(app: App, people: list[int]) -> None:
    process = app.processes.start_process("Согласование договора", "Иванов")
    [task] = _tasks(app, process.id or 0)
    first = app.processes.acknowledge_task(task.id or 0).acknowledged_at
    second = app.processes.acknowledge_task(task.id or 0).acknowledged_at
    assert first is not None and first == second
    assert _event_names(app).count("task.acknowledged") == 1


def test_unknown_and_ambiguous_references_change_nothing(app: App, people: list[int]) -> None:
    before = row_counts(app.engine)
    with pytest.raises(NotFound, match="сценарий «Нет такого»"):
        app.processes.start_process("Нет такого", "Иванов")
    with pytest.raises(NotFound, match="сотрудник «Никто»"):
        app.processes.start_process("Закупка", "Никто")
    with pytest.raises(ProcessError, match="Неоднозначно"):
        app.processes.start_process("Закупка", "ов")  # Иванов, Петрова, Сидоров
    with pytest.raises(NotFound):
        app.processes.complete_task(999, "")
    assert row_counts(app.engine) == before


def test_subscribers_run_inside_the_transaction(app: App, people: list[int]) -> None:
    seen: list[DomainEvent] = []

    def refuse_task_creation(_session: object, events: Sequence[DomainEvent]) -> None:
        seen.extend(events)
        if any(isinstance(event, TaskCreated) for event in events):
            raise RuntimeError("subscriber failed")

    app.bus.subscribe(refuse_task_creation)
    before = row_counts(app.engine)
    with pytest.raises(RuntimeError):
        app.processes.start_process("Согласование договора", "Иванов")
    assert [e.name for e in seen] == ["process.created", "process.started", "task.created"]
    assert row_counts(app.engine) == before


def test_attachments_are_stored_with_the_process(app: App, people: list[int]) -> None:
    files = [NewAttachment("договор.pdf", b"%PDF-1.4 demo", "application/pdf")]
    process = app.processes.start_process("Согласование договора", "Иванов", attachments=files)
    with app.read_session() as session:
        shown = show_process(session, process.id or 0)
    assert shown.attachments == ["договор.pdf"]
    assert shown.tasks[0].attachments == 1


@pytest.mark.parametrize("round_", range(3))
def test_two_simultaneous_completions_one_wins(app: App, people: list[int], round_: int) -> None:
    process = app.processes.start_process("Закупка", "Сидоров")
    [task] = _tasks(app, process.id or 0)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def complete() -> None:
        barrier.wait()
        try:
            app.processes.complete_task(task.id or 0, "", {"item": "Стол", "quantity": "1"})
            outcomes.append("done")
        except AlreadyCompleted:
            outcomes.append("already")

    threads = [threading.Thread(target=complete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already", "done"]
    tasks = _tasks(app, process.id or 0)
    assert [t.position for t in tasks] == [0, 1]
    assert _event_names(app).count("task.completed") == 1


def test_role_without_holders_refuses_the_start_and_keeps_nothing(app: App) -> None:
    seed(
        app,
        "scenarios:\n  - name: Аудит\n    steps:\n      - title: Проверить\n        performer: {role: Аудитор}\n",
        [PersonCreate(full_name="Иванов Иван Иванович")],
    )
    before = row_counts(app.engine)
    with pytest.raises(ProcessError, match="ролью «Аудитор»"):
        app.processes.start_process("Аудит", "Иванов")
    assert row_counts(app.engine) == before


@pytest.mark.parametrize("round_", range(3))
def test_cancel_racing_a_completion_leaves_no_open_task(app: App, people: list[int], round_: int) -> None:
    process = app.processes.start_process("Закупка", "Сидоров")
    [task] = _tasks(app, process.id or 0)
    barrier = threading.Barrier(2)

    def complete() -> None:
        barrier.wait()
        with contextlib.suppress(AlreadyCompleted):
            app.processes.complete_task(task.id or 0, "", {"item": "Стол", "quantity": "1"})

    def cancel() -> None:
        barrier.wait()
        with contextlib.suppress(InvalidState):
            app.processes.cancel_process(process.id or 0)

    threads = [threading.Thread(target=complete), threading.Thread(target=cancel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.read_session() as session:
        stored = session.get(Process, process.id)
    assert stored is not None and stored.status == ProcessStatus.CANCELLED
    assert [t.status for t in _tasks(app, process.id or 0) if t.status == TaskStatus.ACTIVE] == []


def test_digit_names_are_found_when_no_id_matches(app: App) -> None:
    seed(app, "scenarios:\n  - name: '2027'\n    steps: [title: План]\n", [PersonCreate(full_name="Иванов Иван")])
    process = app.processes.start_process("2027", "1")
    assert process.status == ProcessStatus.ACTIVE
