"""Constructor bots end to end: the real python-telegram-bot Application long-polls the built-in emulator inside
``signal-ext run``'s service; simulated users write and press buttons. The demo (``signal-ext demo --no-serve``,
run twice) gives the bot «helper» the seed's keywords and algorithms; the bot «guard» is added here for the order
of processing, code mode and the security cases."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from algorithms.models import Algorithm, CollectionRecord
from keywords.file import parse_keyword_file
from keywords.store import replace_tree
from processes.models import Person
from signal_ext.bootstrap import bootstrap
from signal_ext.bots.directory import add_bot, find_bot, update_bot
from signal_ext.bots.models import BotCreate
from signal_ext.demo.constructor import DEMO_BOT
from signal_ext.notifications.chats import link_chat
from signal_ext.notifications.models import TelegramChat
from signal_ext.run import EMULATOR_BOT_BASE, Running, start_service, stop_service
from signal_ext.settings import Settings
from tests.bot_chat import BotChat
from tests.conftest import CliRun

FAILED = "Не удалось выполнить запрос"
STOPPED = "был остановлен"
EXPIRED = "уже неактуален"
UNKNOWN = "Не понимаю"
ESCAPE_FILE = Path("/tmp") / f"signal-escape-{uuid.uuid4().hex}"
GUARD_ALGORITHMS = {  # stored as they are (no check on save): the runner must refuse them itself
    "Цикл": "while True:\n    pass",
    "Память": "x = 'x' * (10 * 1024 ** 3)",
    "Импорт": "import os\n_Результат = os.getcwd()",
    "Файл": "_Результат = open('/etc/passwd').read()",
    "Подклассы": "_Результат = str(().__class__.__base__.__subclasses__())",
    "Запись": f"open({str(ESCAPE_FILE)!r}, 'w').write('x')\n_Результат = 'записано'",
    "Угловые": "_Результат = 'a <b> & c'",
}
GUARD_KEYWORDS = """
keywords:
  - {words: Привет, kind: text, answer: Привет с верхнего уровня}
  - words: Меню дня
    kind: choice
    choices:
      - {words: Привет, kind: text, answer: Привет из выбора}
      - {words: Суп, kind: text, answer: Суп дня}
  - {words: 2+2, kind: text, answer: Это ключевое слово}
  - {words: Жирный, kind: text, answer: <b>важно</b>}
  - {words: Сломанный, kind: text, answer: <b>не закрыт}
""" + "".join(f"  - {{words: {name}, kind: algorithm, algorithm: {name}}}\n" for name in GUARD_ALGORITHMS)


def labels(message: Any) -> list[str]:
    return [b["text"] for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row]


Story = Callable[[Running, Callable[[str, str], BotChat]], Awaitable[None]]


def run_bot(database_url: str, story: Story) -> None:
    """Starts the service (fast rates, a 1 s algorithm limit) and runs ``story`` with a chat maker (bot, person)."""

    async def main() -> None:
        settings = Settings(
            database_url=database_url,
            telegram_rate_per_second=1000,
            telegram_chat_rate_per_second=100,
            algorithm_timeout_seconds=1,
        )
        running = await start_service(settings, "127.0.0.1", 0)
        try:
            emulator = running.emulator
            assert emulator is not None
            with running.app.read_session() as session:
                bots = {name: EMULATOR_BOT_BASE + (find_bot(session, name).id or 0) for name in (DEMO_BOT, "guard")}
                chats = {p.full_name.split()[0]: int(c.chat_id) for p, c in session.exec(_chats())}

            def chat(bot: str, person: str) -> BotChat:
                return BotChat(emulator, chats[person], bots[bot])

            await story(running, chat)
        finally:
            await stop_service(running)

    asyncio.run(main())


def _chats() -> Any:
    return select(Person, TelegramChat).join(TelegramChat).where(TelegramChat.bot == DEMO_BOT)


@pytest.fixture
def demo(cli: CliRun, database_url: str) -> str:
    """The demo loaded twice, then the «guard» bot (code mode off) with its keywords and algorithms."""
    for _ in range(2):
        result = cli("demo", "--no-serve")
        assert result.exit_code == 0, result.output
    app = bootstrap(Settings(database_url=database_url), apply_migrations=False)
    with app.open_session() as session:
        guard = add_bot(session, BotCreate(name="guard", unknown_answer="Не понимаю (guard)"))
        session.add_all(Algorithm(name=name, code=code) for name, code in GUARD_ALGORITHMS.items())
        session.flush()
        document = parse_keyword_file(GUARD_KEYWORDS, lambda name: name in GUARD_ALGORITHMS)
        replace_tree(session, guard.id or 0, document.keywords)
        for link in session.exec(select(TelegramChat).where(TelegramChat.bot == DEMO_BOT)).all():
            link_chat(session, _person(session, link.person_id), link.chat_id, "guard")
        session.commit()
    app.close()
    return database_url


def _person(session: Session, person_id: int) -> Person:
    found = session.get(Person, person_id)
    assert found is not None
    return found


def test_demo_bot_every_kind_nesting_confirmation_alias_and_dynamic_choice(demo: str) -> None:
    async def story(running: Running, chat: Callable[[str, str], BotChat]) -> None:
        petrova, ivanov = chat(DEMO_BOT, "Петрова"), chat(DEMO_BOT, "Иванов")
        assert "Бот-конструктор" in ((await petrova.say("/start")).text or "")
        assert "Здравствуйте!" in ((await petrova.say("привет")).text or "")
        assert "Петрова Мария Сергеевна: активных задач 0" in ((await petrova.say(" РАСЧЕТ ")).text or "")

        offer = await petrova.say("Выбор")
        assert offer.text == "Выберите один из вариантов"
        assert labels(offer) == ["Вариант №1", "Вариант №2", "Вариант №3"]
        confirm = await petrova.press(offer, "Вариант №2")
        assert confirm.text == "Вы выбрали «Вариант №2». Верно?" and labels(confirm) == ["Да", "Нет"]
        again = await petrova.press(confirm, "Нет")  # «Нет» offers the same choice again
        assert again.text == "Выберите один из вариантов" and labels(again) == labels(offer)
        nested = await petrova.press(await petrova.press(again, "Вариант №2"), "Да")
        assert labels(nested) == ["Вариант 2.1 (Алгоритм)", "Вариант 2.2", "Вариант 2.3"]
        path = await petrova.press(nested, "Вариант 2.1 (Алгоритм)")
        assert path.text == "Вы прошли путь: Выбор → Вариант №2 → Вариант 2.1 (Алгоритм)"
        assert EXPIRED in ((await petrova.press(nested, "Вариант 2.2")).text or "")  # that choice is closed

        offer = await petrova.say("выбор")
        await petrova.press(offer, "Вариант №1")
        assert (await petrova.say("да")).text == 'Выбрали "Вариант №1"'  # «Да» typed works as the button
        recursion = await petrova.press(await petrova.press(await petrova.say("Выбор"), "Вариант №3"), "Да")
        assert recursion.text == "Выберите один из вариантов" and labels(recursion) == labels(offer)

        dates = await petrova.say("Запись на приём")
        assert dates.text == "Выберите дату приёма" and len(labels(dates)) == 5
        picked = labels(dates)[0]
        booked = await petrova.press(dates, picked)
        assert (booked.text or "").startswith(f"Записали вас на {picked}.")
        with running.app.read_session() as session:
            [record] = session.exec(select(CollectionRecord)).all()
            petrova_id = session.exec(select(Person.id).where(Person.full_name.startswith("Петрова"))).one()
        assert record.collection == "Визит клиента" and record.data["дата"] == picked
        assert record.person_id == petrova_id
        assert picked not in labels(await petrova.say("запись"))  # a booked date is not offered again

        offer = await petrova.say("Выбор")
        for forged in (f"kw:{_node(offer)}:99", "kw:1:0", "kw:x:0", "kl:0", f"kw:{_node(offer)}:yes"):
            assert EXPIRED in ((await petrova.press_data(offer, forged)).text or ""), forged
        assert "Открытых задач: 0" in ((await ivanov.say("а 1")).text or "")  # a Telegram algorithm by its alias
        assert (await ivanov.say("2+2*2")).text == "6"

    run_bot(demo, story)


def _node(message: Any) -> str:
    return str(message.reply_markup["inline_keyboard"][0][0]["callback_data"].split(":")[1])


def test_order_of_processing_code_mode_and_html(demo: str) -> None:
    async def story(running: Running, chat: Callable[[str, str], BotChat]) -> None:
        petrova = chat("guard", "Петрова")
        assert (await petrova.say("2+2*2")).text == "Не понимаю (guard)"  # code mode off
        assert (await petrova.say("2+2")).text == "Это ключевое слово"
        with running.app.open_session() as session:
            update_bot(session, find_bot(session, "guard"), allow_code=True)
            session.commit()
        assert (await petrova.say("2+2*2")).text == "6"  # picked up without a restart
        assert (await petrova.say("2+2")).text == "4"  # code mode before keywords
        assert (await petrova.say("Привет")).text == "Привет с верхнего уровня"  # keywords before unknown
        assert (await petrova.say("абракадабра")).text == "Не понимаю (guard)"

        menu = await petrova.say("Меню дня")
        assert (await petrova.say("привет")).text == "Привет из выбора"  # an open choice beats keywords
        assert (await petrova.say("привет")).text == "Привет с верхнего уровня"  # the choice closed
        menu = await petrova.say("Меню дня")
        assert str(petrova.chat_id) in ((await petrova.say("мк")).text or "")  # a command cancels the choice
        assert EXPIRED in ((await petrova.press(menu, "Суп")).text or "")

        bold = await petrova.say("Жирный")
        assert bold.text == "важно" and [e["type"] for e in bold.entities] == ["bold"]
        assert (await petrova.say("Сломанный")).text == "не закрыт"  # refused markup goes out as plain text
        assert (await petrova.say("угловые")).text == "a <b> & c"  # an algorithm's result is text, never markup

    run_bot(demo, story)


def test_security_through_the_bot_each_followed_by_an_answer_to_another_chat(demo: str) -> None:
    cases = [
        ("Цикл", STOPPED),
        ("Память", STOPPED),
        ("Импорт", FAILED),
        ("Файл", FAILED),
        ("Подклассы", FAILED),
        ("Запись", FAILED),
        ("__import__('os').system('id')", "служебному имени «__import__» запрещено"),
        ("().__class__.__base__.__subclasses__()", "служебному имени"),
        ("9**9**9", "Слишком большое число"),
        ("import os", "Не понимаю (guard)"),
    ]

    async def story(running: Running, chat: Callable[[str, str], BotChat]) -> None:
        with running.app.open_session() as session:
            update_bot(session, find_bot(session, "guard"), allow_code=True)
            session.commit()
        petrova, ivanov = chat("guard", "Петрова"), chat("guard", "Иванов")
        for text, expected in cases:
            started = time.monotonic()
            assert expected in ((await petrova.say(text)).text or ""), text
            assert time.monotonic() - started < 5, text
            assert (await ivanov.say("Привет")).text == "Привет с верхнего уровня", text
        assert not ESCAPE_FILE.exists()
        assert (await petrova.say("3*3")).text == "9"

    run_bot(demo, story)


HOSTILE = [
    "'%03000000000d' % 1",
    "'%09000000000d' % 1",
    "9**9**9",
    "1<<10**9",
    "'x'*10**9",
    "Лев(Число, 200)",
    "-" * 400 + "1",
    "(" * 90 + "1" + ")" * 90,
    "10**10**10",
    "'%.999999999f' % 1.0",
    "'ab' * 99999999",
    "Макс(9**99999, 1)",
    "СтрДлина('x' * 10**8)",
    "ВРег('я' * 10**9)",
    "2**2**2**2**2",
    "1 << 10**10",
    "'%s' % ('x' * 10**9)",
    "999999999999 * 'x'",
    "Прав('x', 10**18)",
    "Окр(1e308 * 10, 2)",
]


def _peak_rss_kb() -> int:
    """The most memory this process (the service with its bots) ever held: VmHWM."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])


def test_hostile_expressions_of_one_chat_leave_another_chat_answered_and_the_service_small(demo: str) -> None:
    async def story(running: Running, chat: Callable[[str, str], BotChat]) -> None:
        with running.app.open_session() as session:
            update_bot(session, find_bot(session, "guard"), allow_code=True)
            session.commit()
        petrova, ivanov = chat("guard", "Петрова"), chat("guard", "Иванов")
        assert (await ivanov.say("1+1")).text == "2"
        peak_before, before = _peak_rss_kb(), len(petrova.seen())
        assert running.emulator is not None and len(HOSTILE) == 20
        for text in HOSTILE:  # all at once: the bot works through them one at a time
            running.emulator.push_user_message(petrova.chat_id, text, bot=petrova.bot_id)
        started = time.monotonic()
        assert (await ivanov.say("7*6")).text == "42"
        assert time.monotonic() - started < 1
        deadline = time.monotonic() + 90
        while len(petrova.seen()) < before + len(HOSTILE):
            assert time.monotonic() < deadline, [m.text for m in petrova.seen()[before:]]
            await asyncio.sleep(0.05)
        replies = [message.text or "" for message in petrova.seen()[before:]]
        assert len(replies) == len(HOSTILE) and all(replies) and not any("Traceback" in r for r in replies)
        assert _peak_rss_kb() - peak_before < 100 * 1024
        assert (await petrova.say("3*3")).text == "9"

    run_bot(demo, story)
