"""Authorization end to end: applicants write to a bot with «Авторизация» on through the emulator; the chain decides
(algorithm → scenario → responsible person); the responsible person decides with the system bot's buttons; the
outcome reaches the applicant through the outbox. The real service (``start_service``) and python-telegram-bot."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlmodel import select

from processes.models import Person, PersonKind
from signal_ext.bootstrap import bootstrap
from signal_ext.bots.directory import add_bot, find_bot
from signal_ext.bots.models import BotCreate
from signal_ext.registrations import set_auth
from signal_ext.run import EMULATOR_BOT_BASE, Running, start_service, stop_service
from signal_ext.settings import Settings
from tests.bot_chat import SYSTEM_BOT_ID, BotChat
from tests.test_auth_chain import BOT, RESPONSIBLE_CHAT, configure, make_world, scenario_task

APPLICANT = 555
SEND_DATA, SHARE_PHONE = "Отправить данные для авторизации…", "Отправить номер телефона"
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def inline(message: Any) -> list[str]:
    return [b["text"] for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row]


def keyboard(message: Any) -> list[dict[str, Any]]:
    return [b for row in (message.reply_markup or {}).get("keyboard", []) for b in row]


Story = Callable[[Running, BotChat, BotChat], Awaitable[None]]


def run(database_url: str, story: Story, **auth: str | bool) -> None:
    """Seeds the world of tests/test_auth_chain.py, sets the bot's chain, starts the service, runs ``story`` with
    the applicant's chat with «shop» and the responsible person's chat with the system bot."""
    app = bootstrap(Settings(database_url=database_url), apply_migrations=False)
    make_world(app)
    configure(app, **auth)
    with app.read_session() as session:
        shop = EMULATOR_BOT_BASE + (find_bot(session, BOT).id or 0)
    app.close()

    async def main() -> None:
        fast = Settings(database_url=database_url, telegram_rate_per_second=0)
        running = await start_service(fast, "127.0.0.1", 0)
        try:
            assert running.emulator is not None
            applicant = BotChat(running.emulator, APPLICANT, shop)
            responsible = BotChat(running.emulator, int(RESPONSIBLE_CHAT), SYSTEM_BOT_ID)
            await story(running, applicant, responsible)
        finally:
            await stop_service(running)

    asyncio.run(main())


async def apply(applicant: BotChat, data: str) -> Any:
    """The applicant's way up to the chain: the request, «Отправить данные…», the data, «Да»."""
    prompt = await applicant.say("Здравствуйте")
    assert "авториз" in prompt.text  # the default request text or the bot's own
    assert [b["text"] for b in keyboard(prompt)] == [SEND_DATA, SHARE_PHONE]
    assert keyboard(prompt)[1].get("request_contact") is True
    asked = await applicant.say(SEND_DATA)
    assert "Введите данные" in asked.text
    confirm = await applicant.say(data)
    assert confirm.text == f"Данные верны?\n{data}" and inline(confirm) == ["Да", "Нет"]
    return await applicant.press(confirm, "Да")


def test_algorithm_alone_registers_and_the_bot_then_answers(database_url: str) -> None:
    async def story(running: Running, applicant: BotChat, _responsible: BotChat) -> None:
        done = await apply(applicant, "ООО Ромашка, 7701234567")
        assert "Вы авторизованы как ООО Ромашка" in done.text
        after = await applicant.say("Здравствуйте")
        assert "авторизоваться" not in after.text  # registered: the bot's usual answers now

    run(database_url, story, algorithm="По ИНН")


@SQLITE_ONLY
def test_wrong_data_can_be_typed_again_and_a_failing_algorithm_alone_gives_the_error_text(database_url: str) -> None:
    async def story(running: Running, applicant: BotChat, _responsible: BotChat) -> None:
        await applicant.say("Здравствуйте")
        await applicant.say(SEND_DATA)
        confirm = await applicant.say("ООО Нет такой, 000")
        again = await applicant.press(confirm, "Нет")
        assert "Введите данные" in again.text
        confirm = await applicant.say("<b>ООО</b> & Ко, 000")
        assert "&lt;b&gt;ООО&lt;/b&gt; &amp; Ко" in (confirm.raw_text or "")  # the applicant's text is escaped
        failed = await applicant.press(confirm, "Да")
        assert "Не удалось выполнить авторизацию" in failed.text

    run(database_url, story, algorithm="По ИНН")


@SQLITE_ONLY
@pytest.mark.parametrize("verdict", ["Зарегистрировать", "Отклонить"])
def test_algorithm_fails_then_the_scenario_decides(database_url: str, verdict: str) -> None:
    async def story(running: Running, applicant: BotChat, _responsible: BotChat) -> None:
        pending = await apply(applicant, "ООО Неизвестная, 000")
        assert "на проверку" in pending.text
        with running.app.read_session() as session:
            admin = session.exec(select(Person).where(Person.full_name == "Админов Админ")).one()
        from auth.models import Registration

        with running.app.read_session() as session:
            request = session.exec(select(Registration)).one()
        task = scenario_task(running.app, request.process_id)
        data = {"decision": verdict, "new_name": "ООО Неизвестная", "kind": "Контрагент", "reason": "не наш клиент"}
        await asyncio.to_thread(running.app.processes.complete_task, task.id or 0, "", data, admin.id)
        told = await applicant.delivered(running)
        if verdict == "Зарегистрировать":
            assert "Вы авторизованы как ООО Неизвестная" in told.text
        else:
            assert told.text == "В авторизации отказано: не наш клиент"

    run(database_url, story, algorithm="По ИНН", scenario="Авторизация")


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("kind", "typed", "pick", "registered", "person_kind"),
    [
        ("Пользователь", "Петров", "Петров Пётр", "Петров Пётр", PersonKind.USER),
        ("Партнёр", "Альфа", "Альфа Партнёр", "Альфа Партнёр", PersonKind.PARTNER),
        ("Контрагент", "Ромаш", "ООО Ромашка", "ООО Ромашка", PersonKind.COUNTERPARTY),
        ("Пользователь", "Сидорова Анна", "Создать «Сидорова Анна»", "Сидорова Анна", PersonKind.USER),
        ("Партнёр", "ИП Лесной", "Создать «ИП Лесной»", "ИП Лесной", PersonKind.PARTNER),
        ("Контрагент", "ООО Вектор", "Создать «ООО Вектор»", "ООО Вектор", PersonKind.COUNTERPARTY),
    ],
)
def test_scenario_that_cannot_start_hands_over_and_the_responsible_registers(
    database_url: str, kind: str, typed: str, pick: str, registered: str, person_kind: PersonKind
) -> None:
    async def story(running: Running, applicant: BotChat, responsible: BotChat) -> None:
        with running.app.open_session() as session:
            find_bot(session, BOT).auth_scenario = "Удалённый сценарий"  # deleted after it was configured
            session.commit()
        pending = await apply(applicant, "Новый клиент, тел. 123")
        assert "на проверку" in pending.text
        review = await responsible.delivered(running)
        assert "Заявка на авторизацию" in review.text and "Новый клиент, тел. 123" in review.text
        kinds = await responsible.press(review, "Зарегистрировать")
        assert inline(kinds) == ["Пользователь", "Партнёр", "Контрагент"]
        asked = await responsible.press(kinds, kind)
        assert "часть имени" in asked.text
        offered = await responsible.say(typed)
        assert pick in inline(offered)
        done = await responsible.press(offered, pick)
        assert f"зарегистрирован(а) {registered}" in done.text
        told = await applicant.delivered(running)
        assert f"Вы авторизованы как {registered}" in told.text
        with running.app.read_session() as session:
            person = session.exec(select(Person).where(Person.full_name == registered)).one()
        assert person.kind == person_kind
        stale = await responsible.press(review, "Отклонить")  # decided already: nothing changes
        assert "недоступна или уже рассмотрена" in stale.text

    run(database_url, story, scenario="Авторизация", responsible="Админов")


@SQLITE_ONLY
def test_the_responsible_rejects_with_a_reason(database_url: str) -> None:
    async def story(running: Running, applicant: BotChat, responsible: BotChat) -> None:
        await apply(applicant, "Кто-то")
        review = await responsible.delivered(running)
        asked = await responsible.press(review, "Отклонить")
        assert "причину отказа" in asked.text
        done = await responsible.say("Нет договора")
        assert "отклонена" in done.text
        told = await applicant.delivered(running)
        assert told.text == "В авторизации отказано: Нет договора"
        again = await applicant.say("Здравствуйте")
        assert "авторизоваться" in again.text  # may apply again

    run(database_url, story, responsible="Админов")


@SQLITE_ONLY
def test_nothing_configured_gives_the_error_text(database_url: str) -> None:
    async def story(running: Running, applicant: BotChat, _responsible: BotChat) -> None:
        failed = await apply(applicant, "Иванов")
        assert "Не удалось выполнить авторизацию" in failed.text

    run(database_url, story)


@SQLITE_ONLY
def test_phone_own_contact_registers_a_forwarded_one_is_refused_an_unknown_one_is_handed_on(
    database_url: str,
) -> None:
    async def story(running: Running, applicant: BotChat, _responsible: BotChat) -> None:
        await applicant.say("Здравствуйте")
        refused = await applicant.share("+79161234567", own=False)
        assert "Это не ваш номер" in refused.text
        unknown = await applicant.share("+7 999 000-00-00")
        assert "на проверку" in unknown.text  # no such phone: the responsible person decides
        waiting = await applicant.share("8 (916) 123-45-67")
        assert "уже на проверке" in waiting.text

    run(database_url, story, responsible="Админов")


@SQLITE_ONLY
def test_own_phone_matched_registers(database_url: str) -> None:
    async def story(running: Running, applicant: BotChat, _responsible: BotChat) -> None:
        await applicant.say("Здравствуйте")
        done = await applicant.share("8 (916) 123-45-67")
        assert "Вы авторизованы как Альфа Партнёр" in done.text

    run(database_url, story)


@SQLITE_ONLY
def test_the_system_bot_with_authorization_on_asks_instead_of_telling_the_key_and_then_shows_the_menu(
    database_url: str,
) -> None:
    async def story(running: Running, _applicant: BotChat, _responsible: BotChat) -> None:
        with running.app.open_session() as session:
            system = add_bot(session, BotCreate(name="tasks", is_system=True))
            set_auth(session, system, enabled=True, algorithm="По ИНН")
            session.commit()
        assert running.emulator is not None
        stranger = BotChat(running.emulator, 777, SYSTEM_BOT_ID)
        asked = await stranger.say("Мои задачи")
        assert "авторизоваться" in asked.text and "ключ" not in asked.text.lower()
        key = await stranger.say("Мой ключ")
        assert "777" in key.text  # a link by key still works for an administrator
        done = await apply(stranger, "ООО Ромашка, 7701234567")
        assert "Вы авторизованы как ООО Ромашка" in done.text
        assert [b["text"] for b in keyboard(done)] == ["Мои задачи", "Новая задача", "Новый процесс"]
        tasks = await stranger.say("Мои задачи")
        assert "задач" in tasks.text.lower() and "авторизоваться" not in tasks.text

    run(database_url, story)


@SQLITE_ONLY
def test_the_demo_constructor_bot_asks_a_guest_to_authorize_and_registers_the_counterparty_by_inn(
    database_url: str, cli: Any
) -> None:
    assert cli("demo", "--no-serve").exit_code == 0

    async def main() -> None:
        running = await start_service(Settings(database_url=database_url, telegram_rate_per_second=0), "127.0.0.1", 0)
        try:
            assert running.emulator is not None
            with running.app.read_session() as session:
                helper = EMULATOR_BOT_BASE + (find_bot(session, "helper").id or 0)
            guest = BotChat(running.emulator, 424242, helper)
            done = await apply(guest, "Ромашка, 7701234567")
            assert "Вы авторизованы как ООО «Ромашка»" in done.text
            answered = await guest.say("2+2*2")
            assert answered.text == "6"
        finally:
            await stop_service(running)

    asyncio.run(main())
