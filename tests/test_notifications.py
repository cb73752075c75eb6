"""Notification rules → outbox → dispatcher → channels, as designers and recipients see it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from processes.errors import ScenarioFileError
from processes.models import PersonCreate, TaskCreate
from processes.persons import add_person, find_person
from processes.scenario_file import parse_scenario_file
from processes.services import NewAttachment
from processes.timeutil import utcnow
from signal_ext.bootstrap import App, bootstrap
from signal_ext.notifications.chats import link_chat
from signal_ext.notifications.messages import cancel_message, list_messages, mark_read, queue_message
from signal_ext.notifications.models import MessageStatus, OutboxMessage
from signal_ext.notifications.templates import Templates
from signal_ext.scenario_loading import store_document
from signal_ext.settings import Settings
from tests.helpers import row_counts
from tests.test_email_channel import Recorder, Server, free_port

RULES = """
notifications:
  - event: task.created
    channel: inbox
    recipient: task_performer
    template: "Задача «{{ task.title }}» от {{ task.author }}"
scenarios:
  - name: Согласование договора
    deadline: 5d
    steps:
      - title: Согласование договора
        description: "Проверьте <договор> & приложения"
        deadline: 2d
    notifications:
      - event: process.started
        channel: telegram
        recipient: process_author
        template: "Запущен новый процесс «{{ process.scenario }}»"
      - event: task.created
        channel: telegram
        recipient: task_performer
        template: |
          Вам поставлена новая задача: {{ task.description }}
          Срок: {{ task.deadline }}
          <b><u>Важно! Обратите внимание на срок выполнения</u></b>
      - event: task.created
        channel: email
        recipient: task_performer
        attachments: true
        subject: "Новая задача: {{ task.title }}"
        template: "Вам поставлена новая задача <b>{{ task.title }}</b>: {{ task.description }}"
      - event: process.completed
        channel: inbox
        recipient: {role: Руководитель}
        template: "Процесс №{{ process.id }} завершён"
"""


@pytest.fixture
def smtp() -> Iterator[tuple[Server, Recorder]]:
    recorder = Recorder()
    server = Server(recorder, hostname="127.0.0.1", port=free_port(), server_hostname="localhost")
    server.start()
    yield server, recorder
    server.stop()


@pytest.fixture
def notify_app(database_url: str, smtp: tuple[Server, Recorder]) -> Iterator[App]:
    server, _ = smtp
    settings = Settings(database_url=database_url, smtp_host="127.0.0.1", smtp_port=server.port)
    application = bootstrap(settings, apply_migrations=False)
    with application.open_session() as session:
        add_person(
            session, PersonCreate(full_name="Иванов Иван Иванович", email="ivanov@example.com", roles=["Руководитель"])
        )
        petrova = add_person(session, PersonCreate(full_name="Петрова Мария Сергеевна", email="petrova@example.com"))
        add_person(session, PersonCreate(full_name="Сидоров Алексей Петрович"))
        link_chat(session, petrova, "5001")
        document = parse_scenario_file(RULES, "rules.yaml", Templates().check)
        store_document(session, document, "rules.yaml")
        session.commit()
    yield application
    application.close()


def _outbox(app: App) -> list[OutboxMessage]:
    with app.read_session() as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def _dispatch(app: App) -> Any:
    async def run() -> Any:
        try:
            return await app.dispatcher.run_until_idle()
        finally:
            await app.aclose()

    return asyncio.run(run())


def test_events_become_rendered_messages_in_the_same_transaction(notify_app: App) -> None:
    notify_app.processes.start_process("Согласование договора", "Петрова")
    outbox = _outbox(notify_app)
    assert sorted(m.channel for m in outbox) == ["email", "inbox", "telegram", "telegram"]
    messages = {(m.channel, m.person_id): m for m in outbox}
    started = outbox[0]
    assert started.body == "Запущен новый процесс «Согласование договора»" and started.buttons == []
    task_message = next(m for m in _outbox(notify_app) if m.channel == "telegram" and "задача" in m.body)
    assert "Проверьте &lt;договор&gt; &amp; приложения" in task_message.body  # user data escaped
    assert "<b><u>Важно! Обратите внимание на срок выполнения</u></b>" in task_message.body
    assert task_message.address == "5001"
    assert [b["text"] for b in task_message.buttons] == ["Подробнее…", "Выполнена", "Ознакомлен"]
    assert task_message.buttons[2]["data"] == f"ack:{task_message.task_id}"
    assert messages[("inbox", 2)].body == "Задача «Согласование договора» от Петрова Мария Сергеевна"
    assert messages[("email", 2)].subject == "Новая задача: Согласование договора"
    assert len({m.idempotency_key for m in _outbox(notify_app)}) == 4


def test_a_recipient_without_an_address_gets_a_failed_message_not_an_exception(notify_app: App) -> None:
    process = notify_app.processes.start_process("Согласование договора", "Сидоров")
    assert process.id is not None
    telegram = [m for m in _outbox(notify_app) if m.channel == "telegram"]
    assert {m.status for m in telegram} == {MessageStatus.FAILED}
    assert all(m.last_error == "У получателя нет адреса для канала telegram" for m in telegram)
    email = next(m for m in _outbox(notify_app) if m.channel == "email")
    assert email.status == MessageStatus.FAILED and "email" in email.last_error


def test_email_arrives_with_subject_html_text_and_the_process_attachment(
    notify_app: App, smtp: tuple[Server, Recorder]
) -> None:
    _, recorder = smtp
    files = [NewAttachment("договор.pdf", b"%PDF-1.4 test", "application/pdf")]
    notify_app.processes.start_process("Согласование договора", "Петрова", attachments=files)
    report = _dispatch(notify_app)
    assert report.sent >= 2  # e-mail and inbox; Telegram has no token here and waits
    [received] = recorder.received
    mail = received.message
    assert mail["Subject"] == "Новая задача: Согласование договора"
    html = mail.get_body(("html",))
    text = mail.get_body(("plain",))
    assert html is not None and "<b>Согласование договора</b>" in html.get_content()
    assert text is not None and "Проверьте <договор> & приложения" in text.get_content()
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "договор.pdf" and attachment.get_content() == b"%PDF-1.4 test"
    sent = next(m for m in _outbox(notify_app) if m.channel == "email")
    assert sent.status == MessageStatus.SENT and sent.external_id == mail["Message-ID"]


def test_inbox_shows_the_message_and_its_read_mark(notify_app: App) -> None:
    notify_app.processes.start_process("Согласование договора", "Петрова")
    _dispatch(notify_app)
    with notify_app.read_session() as session:
        petrova = find_person(session, "Петрова")
        [entry] = [m for m in list_messages(session, petrova.id, "inbox") if m.status == MessageStatus.SENT]
    assert entry.read_at is None
    with notify_app.open_session() as session:
        first = mark_read(session, entry.id).read_at
        session.commit()
    with notify_app.open_session() as session:
        assert mark_read(session, entry.id).read_at == first


def test_role_recipients_and_completion_rule(notify_app: App) -> None:
    process = notify_app.processes.start_process("Согласование договора", "Петрова")
    task_id = next(m.task_id for m in _outbox(notify_app) if m.task_id)
    notify_app.processes.complete_task(task_id or 0, "ok")
    done = [m for m in _outbox(notify_app) if m.body == f"Процесс №{process.id} завершён"]
    assert [m.person_id for m in done] == [1]  # the one holder of «Руководитель»


def test_delayed_message_waits_for_its_time_and_survives_a_restart(notify_app: App, database_url: str) -> None:
    with notify_app.open_session() as session:
        ivanov = find_person(session, "Иванов")
        later = queue_message(session, ivanov, "inbox", "Напоминание", send_at=utcnow() + timedelta(hours=1))
        session.commit()
    assert later.status == MessageStatus.SCHEDULED
    assert _dispatch(notify_app).sent == 0
    with notify_app.read_session() as session:
        [listed] = [m for m in list_messages(session) if m.id == later.id]
    assert listed.delayed and listed.status == MessageStatus.SCHEDULED

    restarted = bootstrap(
        Settings(database_url=database_url), apply_migrations=False, clock=lambda: utcnow() + timedelta(hours=2)
    )
    assert _dispatch(restarted).sent == 1
    [sent] = [m for m in _outbox(restarted) if m.id == later.id]
    assert sent.status == MessageStatus.SENT
    restarted.close()


def test_cancel_a_scheduled_message_and_refuse_to_cancel_a_sent_one(notify_app: App) -> None:
    with notify_app.open_session() as session:
        ivanov = find_person(session, "Иванов")
        later = queue_message(session, ivanov, "inbox", "Позже", send_at=utcnow() + timedelta(hours=1))
        now = queue_message(session, ivanov, "inbox", "Сейчас")
        session.commit()
    _dispatch(notify_app)
    with notify_app.open_session() as session:
        cancel_message(session, later.id or 0)
        session.commit()
    with notify_app.open_session() as session, pytest.raises(Exception, match="отменить нельзя"):
        cancel_message(session, now.id or 0)
    statuses = {m.id: m.status for m in _outbox(notify_app)}
    assert statuses[later.id] == MessageStatus.CANCELLED and statuses[now.id] == MessageStatus.SENT


def test_deadline_events_are_raised_once_per_task(notify_app: App) -> None:
    rules = """
notifications:
  - {event: task.deadline_approaching, lead: 2h, channel: inbox, recipient: task_performer,
     template: "Через {{ lead }} срок: {{ task.title }}"}
  - {event: task.overdue, channel: inbox, recipient: task_author, template: "Просрочено: {{ task.title }}"}
"""
    with notify_app.open_session() as session:
        store_document(session, parse_scenario_file(rules, "deadlines.yaml", Templates().check), "deadlines.yaml")
        session.commit()
    soon = notify_app.processes.create_task(
        TaskCreate(title="Скоро", performer_id=2, author_id=1, deadline=utcnow() + timedelta(hours=1))
    )
    later = notify_app.processes.create_task(
        TaskCreate(title="Нескоро", performer_id=2, author_id=1, deadline=utcnow() + timedelta(days=3))
    )
    leads = notify_app.deadline_leads()
    assert leads == [120]
    assert notify_app.processes.raise_deadline_events(leads) == 1
    assert notify_app.processes.raise_deadline_events(leads) == 0
    bodies = [m.body for m in _outbox(notify_app)]
    assert "Через 2 ч срок: Скоро" in bodies and not any("Нескоро" in b for b in bodies)

    overdue_clock = bootstrap(
        Settings(database_url=str(notify_app.settings.database_url)),
        apply_migrations=False,
        clock=lambda: utcnow() + timedelta(hours=2),
    )
    assert overdue_clock.processes.raise_deadline_events(leads) == 1
    assert overdue_clock.processes.raise_deadline_events(leads) == 0
    assert "Просрочено: Скоро" in [m.body for m in _outbox(overdue_clock)]
    assert soon.id and later.id
    overdue_clock.close()


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("Задача {{ task.title", "строка 1"),
        ("{% if task %}\n{{ task.title }\n{% endif %}", "строка 2"),
        ("{{ task.title.__class__.__mro__ }}", "недоступному"),
        ("{{ ''.__class__.__subclasses__() }}", "недоступному"),
    ],
)
def test_bad_templates_are_refused_at_load_naming_rule_and_line(notify_app: App, template: str, fragment: str) -> None:
    text = (
        "scenarios:\n  - name: Новый\n    steps: [title: Шаг]\n    notifications:\n      - event: task.created\n"
        f"        channel: inbox\n        recipient: task_performer\n        template: {json.dumps(template)}\n"
    )
    before = row_counts(notify_app.engine)
    with pytest.raises(ScenarioFileError) as error:
        parse_scenario_file(text, "new.yaml", Templates().check)
    assert "строка 8" in error.value.message and "notifications.0.template" in error.value.message
    assert fragment in error.value.message
    assert row_counts(notify_app.engine) == before


def test_the_service_sends_on_schedule_and_stops_cleanly_on_sigterm(notify_app: App, tmp_path: Path) -> None:
    with notify_app.open_session() as session:
        queue_message(session, find_person(session, "Иванов"), "inbox", "Из сервиса")
        session.commit()
    env = dict(os.environ, SIGNAL_DATABASE_URL=str(notify_app.settings.database_url))
    script = str(Path(sys.executable).parent / "signal-ext")
    service = subprocess.Popen([script, "dispatch"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and {m.status for m in _outbox(notify_app)} != {MessageStatus.SENT}:
            time.sleep(0.1)
        assert {m.status for m in _outbox(notify_app)} == {MessageStatus.SENT}
    finally:
        service.send_signal(signal.SIGTERM)
        _, errors = service.communicate(timeout=20)
    assert service.returncode == 0, errors
    assert "Traceback" not in errors
