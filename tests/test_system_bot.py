"""The system bot end to end: the real python-telegram-bot Application long-polls the built-in emulator over HTTP
inside ``signal-ext run``'s service; simulated users write and press buttons through the emulator."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlmodel import select

from cli import main
from processes.models import PersonCreate, Task, TaskCreate, TaskStatus
from processes.persons import add_person
from processes.scenario_file import parse_scenario_file
from processes.services import NewAttachment
from signal_ext.bootstrap import App, bootstrap
from signal_ext.bots.conversation import Conversation
from signal_ext.notifications.chats import link_chat
from signal_ext.notifications.models import SYSTEM_BOT
from signal_ext.notifications.templates import Templates
from signal_ext.run import EMULATOR_BOT_BASE, Running, start_service, stop_service
from signal_ext.scenario_loading import store_document
from signal_ext.service import dispatch_round
from signal_ext.settings import Settings
from tests.bot_chat import SystemChat

PETROVA, STRANGER = 20_001, 20_999
SCENARIOS = """
scenarios:
  - name: Закупка
    steps:
      - title: Заявка
        fields:
          - {name: quantity, title: Количество, type: integer}
          - {name: kind, title: Вид, type: choice, choices: [Мебель, Техника]}
  - name: Командировка
    manual_start: true
    steps: [title: Оформить]
"""


@pytest.fixture
def seeded(database_url: str) -> Iterator[str]:
    app = bootstrap(Settings(database_url=database_url), apply_migrations=False)
    with app.open_session() as session:
        petrova = add_person(session, PersonCreate(full_name="Петрова Мария Сергеевна"))
        add_person(session, PersonCreate(full_name="Иванов Иван Иванович"))
        add_person(session, PersonCreate(full_name="Иванова Анна Петровна"))
        link_chat(session, petrova, str(PETROVA))
        store_document(session, parse_scenario_file(SCENARIOS, "s.yaml", Templates().check), "s.yaml")
        session.commit()
    app.close()
    yield database_url


def run_bot(database_url: str, story: Callable[[Running, SystemChat, SystemChat], Awaitable[None]]) -> None:
    async def main() -> None:
        # Dialog tests, not rate-limit tests: the bot may answer as fast as the emulator takes it.
        fast = Settings(database_url=database_url, telegram_rate_per_second=1000, telegram_chat_rate_per_second=100)
        running = await start_service(fast, "127.0.0.1", 0)
        try:
            assert running.emulator is not None
            await story(running, SystemChat(running.emulator, PETROVA), SystemChat(running.emulator, STRANGER))
        finally:
            await stop_service(running)

    asyncio.run(main())


def _tasks(app: App) -> list[Task]:
    with app.read_session() as session:
        return list(session.exec(select(Task)))


def test_unlinked_chat_gets_its_key_and_no_tasks(seeded: str) -> None:
    async def story(_running: Running, _petrova: SystemChat, stranger: SystemChat) -> None:
        greeting, refusal = await stranger.say("/start", expect=2)
        assert "Здравствуйте" in (greeting.text or "")
        assert "не авторизованы" in (refusal.text or "") and str(STRANGER) in (refusal.text or "")
        [key] = await stranger.say("  МОЙ   ключ ")
        assert str(STRANGER) in (key.text or "")
        [denied] = await stranger.say("мз")
        assert "не авторизованы" in (denied.text or "")

    run_bot(seeded, story)


def test_menu_shows_and_hides_the_reply_keyboard(seeded: str) -> None:
    async def story(_running: Running, petrova: SystemChat, _stranger: SystemChat) -> None:
        [shown] = await petrova.say("Меню")
        labels = [b["text"] for row in shown.reply_markup["keyboard"] for b in row]
        assert labels == ["Мои задачи", "Новая задача", "Новый процесс"]
        [hidden] = await petrova.say("б м")
        assert hidden.reply_markup == {"remove_keyboard": True}

    run_bot(seeded, story)


def test_new_process_then_my_tasks_with_required_data_bad_then_good(seeded: str) -> None:
    async def story(running: Running, petrova: SystemChat, _stranger: SystemChat) -> None:
        [choose] = await petrova.say("Новый процесс")
        [ask] = await petrova.press(choose, "Закупка")
        assert "описание" in (ask.text or "").lower()
        [started] = await petrova.say("Стулья для переговорной")
        assert "Создан и запущен новый процесс" in (started.text or "")

        [listing] = await petrova.say("Мои задачи")
        [card] = await petrova.press(listing, "Заявка")
        needs, ask_quantity = await petrova.press(card, "Выполнена", expect=2)
        assert "заполнить данные" in (needs.text or "") and "Количество" in (ask_quantity.text or "")
        bad, again = await petrova.say("много", expect=2)
        assert "целое число" in (bad.text or "") and "Количество" in (again.text or "")
        [ask_kind] = await petrova.say("12")
        [ask_comment] = await petrova.press(ask_kind, "Мебель")
        assert "комментарий" in (ask_comment.text or "").lower()
        [done] = await petrova.say("Заказано")
        assert "выполнена" in (done.text or "")
        [task] = _tasks(running.app)
        assert task.status == TaskStatus.DONE and task.data == {"quantity": 12, "kind": "Мебель"}
        assert task.comment == "Заказано"
        [stale] = await petrova.press(card, "Выполнена")
        assert "уже в статусе «Выполнена»" in (stale.text or "")

    run_bot(seeded, story)


def test_manual_start_scenario_is_only_created(seeded: str) -> None:
    async def story(_running: Running, petrova: SystemChat, _stranger: SystemChat) -> None:
        [choose] = await petrova.say("нп")
        await petrova.press(choose, "Командировка")
        [created] = await petrova.say("Москва, 3 дня")
        text = created.text or ""
        assert text.startswith("Создан новый процесс") and "запущен" not in text.split("\n")[0]

    run_bot(seeded, story)


def test_new_task_with_an_ambiguous_performer_and_a_past_deadline(seeded: str) -> None:
    async def story(running: Running, petrova: SystemChat, _stranger: SystemChat) -> None:
        await petrova.say("Новая задача")
        [past] = await petrova.say("Отчёт, Петрова, 01.01.2020")
        assert "прошёл" in (past.text or "")
        [which] = await petrova.say("Отчёт о закупках, Ив, 6.2 14:00, важная")
        assert "Уточните" in (which.text or "")
        [created] = await petrova.press(which, "Иванова Анна")
        assert "Создана задача" in (created.text or "") and "Иванова Анна Петровна" in (created.text or "")
        [task] = _tasks(running.app)
        assert task.important and task.description == "Отчёт о закупках" and task.deadline is not None
        assert task.deadline.astimezone(running.app.settings.zone).strftime("%d.%m %H:%M") == "06.02 14:00"

    run_bot(seeded, story)


def test_foreign_forged_and_stale_payloads_are_refused(seeded: str) -> None:
    app = bootstrap(Settings(database_url=seeded), apply_migrations=False)
    ivanov_task = app.processes.create_task(TaskCreate(title="Чужая задача", performer_id=2, author_id=2))
    own = app.processes.create_task(TaskCreate(title="Своя задача", performer_id=1, author_id=2))
    petrova = Conversation(app, SYSTEM_BOT, str(PETROVA))
    for payload in (
        f"done:{ivanov_task.id}",
        f"task:{ivanov_task.id}",
        f"ack:{ivanov_task.id}",
        "done:99999",
        "done:1;2",
        "proc:99999",
        "perf:1",
        "choice:Мебель",
        "drop table",
        "",
    ):
        [reply] = petrova.press(payload)
        assert "недоступна" in reply.text, payload
    app.processes.complete_task(own.id or 0, "")
    [stale] = petrova.press(f"done:{own.id}")
    assert "уже в статусе «Выполнена»" in stale.text
    [stranger] = Conversation(app, SYSTEM_BOT, str(STRANGER)).press(f"done:{own.id}")
    assert "не авторизованы" in stranger.text
    assert [t.status for t in _tasks(app)] == [TaskStatus.ACTIVE, TaskStatus.DONE]
    app.close()


def test_a_restart_in_the_middle_of_a_dialog_resumes_it(seeded: str) -> None:
    async def first(_running: Running, petrova: SystemChat, _stranger: SystemChat) -> None:
        [choose] = await petrova.say("Новый процесс")
        await petrova.press(choose, "Закупка")

    async def second(running: Running, petrova: SystemChat, _stranger: SystemChat) -> None:
        [started] = await petrova.say("После перезапуска")
        assert "Создан и запущен новый процесс" in (started.text or "")
        assert len(_tasks(running.app)) == 1

    run_bot(seeded, first)
    run_bot(seeded, second)


def test_invite_link_links_the_chat_once(seeded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    printed = CliRunner().invoke(main, ["person", "invite", "Иванов Иван"], env={"SIGNAL_DATABASE_URL": seeded})
    assert printed.exit_code == 0, printed.output
    token = printed.output.strip().split("?start=")[1]

    async def story(_running: Running, _petrova: SystemChat, stranger: SystemChat) -> None:
        _greeting, menu = await stranger.say(f"/start {token}", expect=2)
        assert menu.reply_markup is not None and "keyboard" in menu.reply_markup
        [tasks] = await stranger.say("мз")
        assert "нет открытых задач" in (tasks.text or "")
        reuse = SystemChat(stranger.state, 20_555)
        [refused] = await reuse.say(f"/start {token}")
        assert "недействительна или уже использована" in (refused.text or "")

    run_bot(seeded, story)


def test_person_link_by_key_and_overridden_menu_labels(
    seeded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"SIGNAL_DATABASE_URL": seeded}
    runner = CliRunner()
    assert runner.invoke(main, ["person", "link", "Иванов Иван", "--key", str(STRANGER)], env=env).exit_code == 0
    assert runner.invoke(main, ["bot", "add", "system", "--system"], env=env).exit_code == 0
    changed = runner.invoke(main, ["bot", "text-set", "system", "button_my_tasks", "📋 Мои дела"], env=env)
    assert changed.exit_code == 0, changed.output
    bad = runner.invoke(main, ["person", "link", "Иванов Иван", "--key", "abc"], env=env)
    assert bad.exit_code == 1 and "ожидается число" in bad.output

    async def story(_running: Running, _petrova: SystemChat, ivanov: SystemChat) -> None:
        [menu] = await ivanov.say("меню")
        labels = [b["text"] for row in menu.reply_markup["keyboard"] for b in row]
        assert labels[0] == "📋 Мои дела"
        [listing] = await ivanov.say("📋 Мои дела")
        assert "нет открытых задач" in (listing.text or "")

    run_bot(seeded, story)


def test_acknowledge_button_of_a_notification(seeded: str) -> None:
    rules = (
        "notifications:\n  - {event: task.created, channel: telegram, recipient: task_performer,"
        " template: 'Вам задача «{{ task.title }}» от {{ task.author }}'}\n"
    )
    app = bootstrap(Settings(database_url=seeded), apply_migrations=False)
    with app.open_session() as session:
        store_document(session, parse_scenario_file(rules, "r.yaml", Templates().check), "r.yaml")
        session.commit()
    app.close()

    async def story(running: Running, petrova: SystemChat, _stranger: SystemChat) -> None:
        running.app.processes.create_task(TaskCreate(title="Проверить счёт", performer_id=1, author_id=2))
        await dispatch_round(running.app)
        [notice] = await petrova.arrived(0, 1)
        assert notice.text == "Вам задача «Проверить счёт» от Иванов Иван Иванович"
        [ack] = await petrova.press(notice, "Ознакомлен")
        assert "ознакомились" in (ack.text or "")
        [task] = _tasks(running.app)
        assert task.acknowledged_at is not None

    run_bot(seeded, story)


def test_demo_serves_on_the_emulator_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    script = str(Path(sys.executable).parent / "signal-ext")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNAL_")}
    demo = subprocess.Popen([script, "demo", "--port", "0"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert demo.stdout is not None
        lines = [demo.stdout.readline() for _ in range(7)]
        url = next(line for line in lines if line.startswith("Signal работает")).split(": ", 1)[1].strip()
        assert any(f"{url}/emulator" in line for line in lines)
        assert httpx.get(f"{url}/health", timeout=10).json()["status"] == "ok"
        people = httpx.get(f"{url}/telegram/_emulator/stats", timeout=10)
        assert people.status_code == 200
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)
    assert demo.returncode == 0


def test_webhook_mode_accepts_only_updates_with_the_secret(seeded: str) -> None:
    secret = "s3cret-webhook-token-123"
    settings = Settings(
        database_url=seeded, telegram_webhook_url="https://signal.example.com", telegram_webhook_secret=secret
    )
    update = {
        "update_id": 7,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": PETROVA, "type": "private", "first_name": "Мария"},
            "from": {"id": PETROVA, "is_bot": False, "first_name": "Мария"},
            "text": "Мой ключ",
        },
    }

    async def main() -> None:
        running = await start_service(settings, "127.0.0.1", 0)
        try:
            assert running.emulator is not None
            async with httpx.AsyncClient(base_url=running.url) as client:
                wrong = await client.post(
                    "/telegram-webhook/system", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
                )
                missing = await client.post("/telegram-webhook/system", json=update)
                assert (wrong.status_code, missing.status_code) == (403, 403)
                right = await client.post(
                    "/telegram-webhook/system", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
                )
                assert right.status_code == 200
            [answer] = await SystemChat(running.emulator, PETROVA).arrived(0, 1)
            assert str(PETROVA) in (answer.text or "")
        finally:
            await stop_service(running)

    asyncio.run(main())


def test_a_task_notification_completes_the_task_like_the_list_and_sends_attachments(seeded: str) -> None:
    rules = (
        "notifications:\n  - {event: task.created, channel: telegram, recipient: task_performer,"
        " attachments: true, template: 'Задача «{{ task.title }}»'}\n"
        "scenarios:\n  - name: Договор\n    steps: [title: Согласовать]\n"
    )
    app = bootstrap(Settings(database_url=seeded), apply_migrations=False)
    with app.open_session() as session:
        store_document(session, parse_scenario_file(rules, "r.yaml", Templates().check), "r.yaml")
        session.commit()
    app.close()

    async def story(running: Running, petrova: SystemChat, _stranger: SystemChat) -> None:
        files = [NewAttachment("договор.pdf", b"%PDF-1.4 demo", "application/pdf")]
        running.app.processes.start_process("Договор", "Петрова", attachments=files)
        await dispatch_round(running.app)
        notice, _document = await petrova.arrived(0, 2)
        [details] = await petrova.press(notice, "Подробнее")
        assert "Согласовать" in (details.text or "")
        [listing] = await petrova.say("мз")
        [card] = await petrova.press(listing, "Согласовать")
        [attachment] = await petrova.press(card, "Вложения (1)")
        assert attachment.document is not None and attachment.document.content == b"%PDF-1.4 demo"
        [ask] = await petrova.press(notice, "Выполнена")
        assert "комментарий" in (ask.text or "").lower()
        [done] = await petrova.say("Согласовано")
        assert "выполнена" in (done.text or "")

    run_bot(seeded, story)


def test_other_bots_of_the_directory_run_beside_the_system_bot(seeded: str, tmp_path: Path) -> None:
    env = {"SIGNAL_DATABASE_URL": seeded}
    added = CliRunner().invoke(
        main,
        ["bot", "add", "support", "--description", "Бот поддержки", "--unknown-answer", "Не знаю, спросите оператора"],
        env=env,
    )
    assert added.exit_code == 0, added.output

    async def story(running: Running, petrova: SystemChat, _stranger: SystemChat) -> None:
        assert running.emulator is not None
        support = EMULATOR_BOT_BASE + 1
        await _until(lambda: support in running.emulator.bots if running.emulator else False)
        running.emulator.push_user_message(30_001, "/start", bot=support)
        running.emulator.push_user_message(30_001, "Сколько стоит?", bot=support)
        await _until(lambda: len(running.emulator.messages(30_001)) >= 2 if running.emulator else False)
        greeting, unknown = running.emulator.messages(30_001)
        assert "Бот поддержки" in (greeting.text or "") and unknown.text == "Не знаю, спросите оператора"
        [key] = await petrova.say("мк")  # the system bot still answers its own chats
        assert str(PETROVA) in (key.text or "")

    run_bot(seeded, story)


async def _until(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_every_deadline_form_through_the_bot(seeded: str) -> None:
    forms = {
        "06.02 14:00": "06.02 14:00",
        "06.02.27 14:00": "06.02.2027 14:00",
        "06.02.2027 14:00": "06.02.2027 14:00",
        "6.2 14:00": "06.02 14:00",
        "6.2": "06.02 18:00",
        "завтра в 15:00": "завтра 15:00",
    }

    async def story(running: Running, petrova: SystemChat, _stranger: SystemChat) -> None:
        zone = running.app.settings.zone
        for typed in [*forms, "3"]:
            await petrova.say("нз")
            [created] = await petrova.say(f"Отчёт к сроку, Петрова, {typed}")
            assert "Создана задача" in (created.text or ""), (typed, created.text)
        deadlines = [t.deadline.astimezone(zone) for t in _tasks(running.app) if t.deadline is not None]
        assert len(deadlines) == len(forms) + 1
        now = datetime.now(zone)
        for moment, expected in zip(deadlines, forms.values(), strict=False):
            if expected.startswith("завтра"):
                assert moment.date() == (now + timedelta(days=1)).date() and moment.strftime("%H:%M") == "15:00"
            elif expected.count(".") == 1:
                assert moment.strftime("%d.%m %H:%M") == expected and moment > now
            else:
                assert moment.strftime("%d.%m.%Y %H:%M") == expected
        in_three_days = deadlines[-1]
        assert in_three_days.date() == (now + timedelta(days=3)).date() and in_three_days.strftime("%H:%M") == "18:00"

    run_bot(seeded, story)
