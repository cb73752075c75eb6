"""The chat page ``/emulator``: its JSON helpers, and a real headless Chromium (driven by Playwright) that picks an
employee and completes a task by talking to the system bot, inside ``signal-ext run``'s service.

Without Chromium or Playwright the browser test is skipped with a note; ``SIGNAL_REQUIRE_BROWSER=1`` (CI) makes
that a failure. ``SIGNAL_EMULATOR_SCREENSHOT=<file.png>`` saves a screenshot of the page in the middle of the dialog.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from sqlmodel import select

from cli import main
from processes.models import Person, PersonCreate, Task, TaskCreate, TaskStatus
from processes.persons import add_person
from signal_ext.bootstrap import App, bootstrap
from signal_ext.demo.constructor import DEMO_BOT
from signal_ext.http.app import create_http_app
from signal_ext.http.emulator_page import GUEST_FIRST_ID, GUEST_NAME
from signal_ext.notifications.chats import link_chat
from signal_ext.run import Running, start_service, stop_service
from signal_ext.settings import Settings
from signal_ext.telegram_emulator import EmulatorState

PETROVA, IVANOV = "Петрова Мария Сергеевна", "Иванов Иван Иванович"
PETROVA_CHAT, IVANOV_CHAT = 20_001, 20_002
TASK_TITLE = "Отчёт для банка <Q3> & налоговой"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSER_HELP = (
    "Browser test skipped: {problem}. Install Debian's chromium (apt-get install chromium) and the dev extra "
    "(pip install -e '.[dev]'); set SIGNAL_REQUIRE_BROWSER=1 to make this an error."
)


@pytest.fixture
def seeded(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A SQLite database: Петрова (chat 20001, one open task) and Иванов (chat 20002) linked, Смирнов not."""
    path = tmp_path / "signal.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    app = bootstrap(Settings(database_url=url), apply_migrations=False)
    with app.open_session() as session:
        petrova = add_person(session, PersonCreate(full_name=PETROVA))
        ivanov = add_person(session, PersonCreate(full_name=IVANOV))
        add_person(session, PersonCreate(full_name="Смирнов Пётр Петрович"))
        link_chat(session, petrova, str(PETROVA_CHAT))
        link_chat(session, ivanov, str(IVANOV_CHAT))
        session.commit()
        petrova_id = petrova.id or 0
    app.processes.create_task(TaskCreate(title=TASK_TITLE, performer_id=petrova_id, author_id=petrova_id))
    app.close()
    yield url


@pytest.fixture
def app(seeded: str) -> Iterator[App]:
    application = bootstrap(Settings(database_url=seeded), apply_migrations=False)
    yield application
    application.close()


# --- the JSON helpers, without a browser ----------------------------------------------------------------------


class Client:
    """GET requests to the ASGI application in process."""

    def __init__(self, api: FastAPI) -> None:
        self.transport = httpx.ASGITransport(app=api)

    def get(self, path: str) -> httpx.Response:
        async def fetch() -> httpx.Response:
            async with httpx.AsyncClient(transport=self.transport, base_url="http://signal.test") as client:
                return await client.get(path)

        return asyncio.run(fetch())


def test_people_are_the_linked_persons_and_a_guest_with_an_unlinked_chat(app: App) -> None:
    client = Client(create_http_app(app, EmulatorState()))
    people = client.get("/emulator/api/people").json()
    assert people == [
        {"person_id": 2, "full_name": IVANOV, "phone": None, "chat_id": IVANOV_CHAT},
        {"person_id": 1, "full_name": PETROVA, "phone": None, "chat_id": PETROVA_CHAT},
        {"person_id": None, "full_name": GUEST_NAME, "chat_id": GUEST_FIRST_ID},
    ]
    assert client.get("/emulator/api/people").json()[-1]["chat_id"] == GUEST_FIRST_ID  # a reload keeps the guest

    with app.open_session() as session:  # the guest's key is linked to Смирнов: he is listed, a new guest appears
        smirnov = session.exec(select(Person).where(Person.full_name == "Смирнов Пётр Петрович")).one()
        link_chat(session, smirnov, str(GUEST_FIRST_ID))
        session.commit()
    people = client.get("/emulator/api/people").json()
    assert [p["full_name"] for p in people] == [IVANOV, PETROVA, "Смирнов Пётр Петрович", GUEST_NAME]
    assert people[-1]["chat_id"] == GUEST_FIRST_ID + 1


def test_page_config_static_files_and_downloads(app: App) -> None:
    emulator = EmulatorState()
    client = Client(create_http_app(app, emulator))
    page = client.get("/emulator")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/emulator/static/emulator.js" in page.text and "://" not in page.text  # nothing from elsewhere
    for name, kind in (("emulator.js", "text/javascript"), ("emulator.css", "text/css")):
        response = client.get(f"/emulator/static/{name}")
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
    assert client.get("/emulator/static/..%2Femulator_page.py").status_code == 404
    assert client.get("/emulator/static/other.js").status_code == 404
    assert "innerHTML" not in client.get("/emulator/static/emulator.js").text  # text goes in as text nodes only

    config = client.get("/emulator/api/config").json()
    assert config["control_url"] == "/telegram/_emulator" and config["poll_ms"] == 700

    stored = emulator.store_file("Договор №15.pdf", "application/pdf", b"%PDF-1.4 demo")
    download = client.get(f"/emulator/api/files/{stored.file_id}")
    assert download.status_code == 200 and download.content == b"%PDF-1.4 demo"
    assert unquote(download.headers["content-disposition"]).endswith("''Договор №15.pdf")
    assert client.get("/emulator/api/files/nope").status_code == 404


def test_no_page_without_the_emulator(app: App) -> None:
    client = Client(create_http_app(app))
    assert client.get("/emulator").status_code == 404
    assert client.get("/emulator/api/people").status_code == 404


# --- the page in a real browser -------------------------------------------------------------------------------


@pytest.fixture
def chromium() -> str:
    """Chromium's executable, or a skip (a failure under ``SIGNAL_REQUIRE_BROWSER=1``) saying what is missing."""
    path = os.environ.get("SIGNAL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    problem = None
    if path is None:
        problem = "no chromium on PATH"
    elif importlib.util.find_spec("playwright") is None:
        problem = "the playwright package is not installed"
    if problem is None and path is not None:
        return path
    message = BROWSER_HELP.format(problem=problem)
    if os.environ.get("SIGNAL_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def service_in_thread(database_url: str) -> Iterator[Running]:
    """``signal-ext run``'s service (HTTP, the system bot, the emulator) on its own event loop in a thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="signal-service", daemon=True)
    thread.start()
    try:
        started = asyncio.run_coroutine_threadsafe(
            start_service(Settings(database_url=database_url), "127.0.0.1", 0), loop
        )
        running = started.result(timeout=30)
        try:
            yield running
        finally:
            asyncio.run_coroutine_threadsafe(stop_service(running), loop).result(timeout=30)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def test_an_employee_completes_a_task_in_the_browser(seeded: str, chromium: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with service_in_thread(seeded) as running, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1180, "height": 780}, locale="ru-RU")
        page.set_default_timeout(10_000)
        expect.set_options(timeout=10_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            page.goto(f"{running.url}/emulator")
            people = page.locator("[data-person]")
            expect(people).to_have_count(3)
            assert people.evaluate_all("items => items.map(item => item.dataset.person)") == [
                IVANOV,
                PETROVA,
                GUEST_NAME,
            ]

            page.click(f'[data-person="{PETROVA}"]')
            page.fill("#text", "Меню")
            page.press("#text", "Enter")  # Enter sends
            bot = page.locator('[data-testid="message"][data-from="bot"]')
            user = page.locator('[data-testid="message"][data-from="user"]')
            expect(user.last.locator(".text")).to_have_text("Меню")
            expect(bot.last).to_contain_text("Меню включено")

            page.locator('[data-testid="reply-button"]', has_text="Мои задачи").click()
            expect(bot.last).to_contain_text("Ваши задачи (1)")
            bot.last.locator('[data-testid="inline-button"]', has_text="Отчёт для банка").click()

            card = bot.last
            expect(card.locator("b")).to_have_text(TASK_TITLE)  # <b> from the bold entity; <Q3> & stay text
            card.locator('[data-testid="inline-button"]', has_text="Выполнена").click()
            expect(bot.last).to_contain_text("Введите комментарий")
            if target := os.environ.get("SIGNAL_EMULATOR_SCREENSHOT"):
                page.fill("#text", "Отправлено в банк <b>и</b> в налоговую")
                page.screenshot(path=target)

            page.fill("#text", "Отправлено в банк <b>и</b> в налоговую")
            page.click("#send")
            expect(bot.last).to_contain_text("выполнена")
            expect(user.last).to_contain_text("<b>и</b>")  # the user's markup is shown as typed, never parsed
            expect(user.locator("b")).to_have_count(0)
            expect(page.locator('[data-testid="reply-button"]')).to_have_count(3)  # the menu stays

            page.click(f'[data-person="{GUEST_NAME}"]')  # an unlinked chat: the not-authorized text and its key
            page.click('[data-testid="start-button"]')
            expect(bot.last).to_contain_text("не авторизованы")
            expect(bot.last).to_contain_text(str(GUEST_FIRST_ID))
            expect(page.locator('[data-testid="reply-button"]')).to_have_count(0)
            assert errors == []
        except Exception:
            page.screenshot(path=tmp_path / "failure.png")
            raise
        finally:
            browser.close()

        with running.app.read_session() as session:
            [task] = session.exec(select(Task)).all()
        assert task.status == TaskStatus.DONE
        assert task.comment == "Отправлено в банк <b>и</b> в налоговую"


def test_the_page_talks_to_the_constructor_bot_of_the_demo(
    sqlite_template: Path, chromium: str, tmp_path: Path
) -> None:
    """The bot picker lists the demo's constructor bot; its people keep their chat; a choice is pressed; a guest
    authorizes by sharing a phone number with the «share my number» button."""
    from playwright.sync_api import expect, sync_playwright

    shutil.copyfile(sqlite_template, tmp_path / "demo.db")
    database_url = f"sqlite:///{tmp_path / 'demo.db'}"
    loaded = CliRunner().invoke(main, ["demo", "--no-serve"], env={"SIGNAL_DATABASE_URL": database_url})
    assert loaded.exit_code == 0, loaded.output
    with service_in_thread(database_url) as running, sync_playwright() as playwright:
        config = httpx.get(f"{running.url}/emulator/api/config").json()
        assert [bot["name"] for bot in config["bots"]] == ["system", DEMO_BOT]
        helper = httpx.get(f"{running.url}/emulator/api/people", params={"bot": DEMO_BOT}).json()
        assert len(helper) == 6 and helper[-1]["full_name"] == GUEST_NAME
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1180, "height": 780}, locale="ru-RU")
        page.set_default_timeout(10_000)
        expect.set_options(timeout=10_000)
        try:
            page.goto(f"{running.url}/emulator")
            page.click('[data-person="Петрова Мария Сергеевна"]')
            page.select_option('[data-testid="bot-select"]', DEMO_BOT)
            expect(page.locator("#chat-name")).to_contain_text("Бот-конструктор")
            page.fill("#text", "Выбор")
            page.press("#text", "Enter")  # the chat stayed open: the same person has a chat with this bot
            bot = page.locator('[data-testid="message"][data-from="bot"]')
            expect(bot.last).to_contain_text("Выберите один из вариантов")
            expect(bot.last.locator('[data-testid="inline-button"]')).to_have_count(3)
            bot.last.locator('[data-testid="inline-button"]', has_text="Вариант №1").click()
            expect(bot.last).to_contain_text("Вы выбрали «Вариант №1». Верно?")
            bot.last.locator('[data-testid="inline-button"]', has_text="Да").click()
            expect(bot.last).to_contain_text('Выбрали "Вариант №1"')
            page.select_option('[data-testid="bot-select"]', "system")  # the system bot's chat has none of it
            expect(page.locator('[data-testid="message"]')).to_have_count(0)

            page.select_option('[data-testid="bot-select"]', DEMO_BOT)  # a guest must authorize with «helper»
            page.click(f'[data-person="{GUEST_NAME}"]')
            page.fill("#text", "Привет")
            page.press("#text", "Enter")
            expect(bot.last).to_contain_text("Наименование, ИНН")
            page.once("dialog", lambda dialog: dialog.accept("+7 903 200-00-01"))  # the partner's number
            page.locator('[data-testid="reply-button"]', has_text="Отправить номер телефона").click()
            user = page.locator('[data-testid="message"][data-from="user"]')
            expect(user.last).to_contain_text("📱 +7 903 200-00-01")
            expect(bot.last).to_contain_text("Вы авторизованы как ИП Лебедев Олег Николаевич")
            expect(page.locator('[data-testid="reply-button"]')).to_have_count(0)
        except Exception:
            page.screenshot(path=tmp_path / "failure.png")
            raise
        finally:
            browser.close()
