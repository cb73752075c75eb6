"""The Telegram Bot API emulator, driven through the real python-telegram-bot ``Bot`` over HTTP."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from signal_ext.telegram_emulator import EmulatorServer, EmulatorState, FaultConfig, LimitConfig
from signal_ext.telegram_emulator.entities import parse_html
from signal_ext.telegram_emulator.limits import RateLimiter

TOKEN = "123456:test-token"
CHAT = 1001
T = TypeVar("T")


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as running:
        yield running


@pytest.fixture()
def emulator(server: EmulatorServer) -> EmulatorServer:
    """The shared server with a clean state for each test."""
    server.state.reset()
    return server


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def make_bot(server: EmulatorServer, read_timeout: float = 5.0, token: str = TOKEN) -> Bot:
    return Bot(token, base_url=server.url + "/bot", request=HTTPXRequest(read_timeout=read_timeout))


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton("Выполнена", callback_data="done:1"), InlineKeyboardButton("Сайт", url="https://x.ru")]]
    )


def retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after  # an int now; a timedelta with PTB_TIMEDELTA=true and in PTB 23
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def test_get_me(emulator: EmulatorServer) -> None:
    async def scenario() -> None:
        async with make_bot(emulator) as bot:
            me = await bot.get_me()
            assert (me.id, me.username, me.is_bot) == (123456, "bot123456_bot", True)
            assert me.can_join_groups is True and me.supports_inline_queries is False

    run(scenario())


def test_unknown_token_format_is_unauthorized(emulator: EmulatorServer) -> None:
    async def scenario() -> None:
        with pytest.raises(InvalidToken):
            async with make_bot(emulator, token="not-a-token"):
                pass

    run(scenario())
    answer = httpx.post(f"{emulator.url}/bot{TOKEN}/noSuchMethod")
    assert answer.status_code == 404
    assert answer.json() == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}


def test_send_message_with_html_and_inline_keyboard_is_recorded(emulator: EmulatorServer) -> None:
    text = "<b><u>Важно!</u></b> Срок: <i>06.02</i> 🙂 <a href='https://example.com/t/1'>задача</a> &lt;1&gt;"

    async def scenario() -> None:
        async with make_bot(emulator) as bot:
            sent = await bot.send_message(CHAT, text, parse_mode="HTML", reply_markup=keyboard())
            assert sent.text == "Важно! Срок: 06.02 🙂 задача <1>"
            assert sent.chat.id == CHAT and sent.chat.first_name == f"User{CHAT}" and sent.from_user is not None
            assert sent.from_user.id == 123456
            assert [(e.type, e.offset, e.length) for e in sent.entities] == [
                ("bold", 0, 6),
                ("underline", 0, 6),
                ("italic", 13, 5),
                ("text_link", 22, 6),
            ]
            assert sent.reply_markup == keyboard()

    run(scenario())
    [message] = emulator.state.messages(CHAT)
    assert (message.raw_text, message.parse_mode, message.text) == (text, "HTML", "Важно! Срок: 06.02 🙂 задача <1>")
    buttons = message.reply_markup["inline_keyboard"][0] if message.reply_markup else []
    assert [(b["text"], b.get("callback_data")) for b in buttons] == [("Выполнена", "done:1"), ("Сайт", None)]
    assert emulator.state.stats().accepted == 1


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<script>x</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
def test_bad_html_is_rejected_like_telegram(emulator: EmulatorServer, text: str, detail: str) -> None:
    async def scenario() -> None:
        async with make_bot(emulator) as bot:
            with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
                await bot.send_message(CHAT, text, parse_mode="HTML")

    run(scenario())
    raw = httpx.post(
        f"{emulator.url}/bot{TOKEN}/sendMessage", data={"chat_id": CHAT, "text": text, "parse_mode": "HTML"}
    )
    assert raw.status_code == 400
    assert raw.json() == {"ok": False, "error_code": 400, "description": f"Bad Request: can't parse entities: {detail}"}
    assert emulator.state.messages(CHAT) == []


def test_html_parser_entities_and_offsets() -> None:
    text, entities = parse_html('😀 <pre><code class="language-python">x = 1</code></pre> <tg-spoiler>s</tg-spoiler>')
    assert text == "😀 x = 1 s"
    assert entities == [
        {"offset": 3, "length": 5, "type": "pre", "language": "python"},
        {"offset": 9, "length": 1, "type": "spoiler"},
    ]
    assert parse_html("<blockquote expandable>q</blockquote> &#8470; &amp") == (
        "q № &",
        [{"offset": 0, "length": 1, "type": "expandable_blockquote"}],
    )


def test_text_too_long_or_empty(emulator: EmulatorServer) -> None:
    async def scenario() -> None:
        async with make_bot(emulator) as bot:
            await bot.send_message(CHAT, "я" * 4096)
            with pytest.raises(BadRequest, match=r"(?i)message is too long"):
                await bot.send_message(CHAT, "я" * 4097)
            with pytest.raises(BadRequest, match=r"(?i)message is too long"):
                await bot.send_message(CHAT, "<b>" + "я" * 4097 + "</b>", parse_mode="HTML")
            await bot.send_message(CHAT, "<b>" + "я" * 4096 + "</b>", parse_mode="HTML")  # counted after parsing
            with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
                await bot.send_message(CHAT, "<b> </b>", parse_mode="HTML")

    run(scenario())
    assert len(emulator.state.messages(CHAT)) == 2


def test_send_document_records_file(emulator: EmulatorServer) -> None:
    async def scenario() -> None:
        async with make_bot(emulator) as bot:
            sent = await bot.send_document(CHAT, b"%PDF-1.4 contract", filename="Договор №15.pdf", caption="Вложение")
            assert sent.document is not None and sent.caption == "Вложение"
            assert (sent.document.file_name, sent.document.mime_type, sent.document.file_size) == (
                "Договор №15.pdf",
                "application/pdf",
                17,
            )
            again = await bot.send_document(CHAT, sent.document.file_id)  # resend by file_id
            assert again.document is not None and again.document.file_unique_id == sent.document.file_unique_id
            file = await bot.get_file(sent.document.file_id)
            assert file.file_path is not None

    run(scenario())
    first = emulator.state.messages(CHAT)[0]
    assert first.document is not None and first.caption == "Вложение"
    assert (first.document.file_name, first.document.content) == ("Договор №15.pdf", b"%PDF-1.4 contract")
    download = httpx.get(f"{emulator.url}/file/bot{TOKEN}/documents/{first.document.file_id}")
    assert download.content == b"%PDF-1.4 contract"


def test_edit_message_text_and_markup(emulator: EmulatorServer) -> None:
    async def scenario() -> None:
        async with make_bot(emulator) as bot:
            sent = await bot.send_message(CHAT, "Задача 1", reply_markup=keyboard())
            edited = await bot.edit_message_text(
                "Задача 1 — <b>выполнена</b>", CHAT, sent.message_id, parse_mode="HTML"
            )
            assert isinstance(edited, Message)
            assert edited.text == "Задача 1 — выполнена" and edited.edit_date is not None
            assert edited.reply_markup is None  # editMessageText without reply_markup removes the keyboard
            with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
                await bot.edit_message_text("Задача 1 — <b>выполнена</b>", CHAT, sent.message_id, parse_mode="HTML")
            await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=keyboard())
            with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
                await bot.edit_message_text("x", CHAT, 999)

    run(scenario())
    [message] = emulator.state.messages(CHAT)
    assert message.text == "Задача 1 — выполнена" and message.reply_markup is not None
    assert [version.text for version in message.history] == ["Задача 1", "Задача 1 — выполнена"]
    assert emulator.state.duplicates() == []


def test_blocked_and_missing_chats(emulator: EmulatorServer) -> None:
    emulator.state.block_chat(2002)
    emulator.state.missing_chats.add(3003)

    async def scenario() -> None:
        async with make_bot(emulator) as bot:
            with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
                await bot.send_message(2002, "hi")
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await bot.send_message(3003, "hi")

    run(scenario())
    assert emulator.state.stats().accepted == 0


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
def test_rate_limit_per_chat_answers_retry_after(emulator: EmulatorServer) -> None:
    emulator.state.configure(limits=LimitConfig(enabled=True))

    async def scenario() -> list[float]:
        waits = []
        async with make_bot(emulator) as bot:
            for number in range(5):
                try:
                    await bot.send_message(CHAT, f"m{number}")
                except RetryAfter as error:
                    waits.append(retry_seconds(error))
            await bot.send_message(CHAT + 1, "another chat is not limited")
        return waits

    waits = run(scenario())
    assert waits and all(wait >= 1 for wait in waits)
    assert emulator.state.stats().rejected_429 == len(waits) == 2
    assert len(emulator.state.messages(CHAT)) == 3


def test_rate_limit_per_bot_and_group() -> None:
    now = [0.0]
    limiter = RateLimiter(LimitConfig(enabled=True), clock=lambda: now[0])
    assert all(limiter.check(1, chat) is None for chat in range(1, 31))
    assert limiter.check(1, 99) == 1  # 31st message within a second
    now[0] = 2.0
    assert limiter.check(1, 99) is None
    for _ in range(20):
        now[0] += 3.0
        assert limiter.check(1, -500) is None
    assert limiter.check(1, -500) == 3  # 20 per minute in a group: the first of them leaves the window at 65


def test_server_error_is_network_error(emulator: EmulatorServer) -> None:
    emulator.state.configure(faults=FaultConfig(server_error=1.0, seed=1))

    async def scenario() -> None:
        async with make_bot(emulator) as bot:
            for _ in range(3):
                with pytest.raises(NetworkError) as caught:
                    await bot.send_message(CHAT, "hi")
                assert type(caught.value) is NetworkError
                assert caught.value.message in ("Internal Server Error", "Bad Gateway")
            await bot.get_me()  # faults only hit the send methods

    run(scenario())
    assert emulator.state.messages(CHAT) == []
    assert emulator.state.stats().faults_injected == {"server_error": 3}


def test_dropped_connection_is_network_error_and_nothing_is_recorded(emulator: EmulatorServer) -> None:
    emulator.state.configure(faults=FaultConfig(drop_connection=1.0))

    async def scenario() -> None:
        async with make_bot(emulator) as bot:
            for _ in range(2):
                with pytest.raises(NetworkError, match="RemoteProtocolError") as caught:
                    await bot.send_message(CHAT, "hi")
                assert type(caught.value) is NetworkError

    run(scenario())
    assert emulator.state.messages(CHAT) == []
    assert emulator.state.stats().faults_injected == {"drop_connection": 2}


def test_lost_answer_records_the_message_and_a_resend_is_a_duplicate_from_it(emulator: EmulatorServer) -> None:
    emulator.state.configure(faults=FaultConfig(lost_answer=1.0))

    async def scenario() -> None:
        async with make_bot(emulator) as bot:
            with pytest.raises(NetworkError) as caught:
                await bot.send_message(CHAT, "Вам поставлена новая задача", reply_markup=keyboard())
            assert type(caught.value) is NetworkError
            emulator.state.configure(faults=FaultConfig())
            await bot.send_message(CHAT, "Вам поставлена новая задача", reply_markup=keyboard())  # the retry
            await bot.send_message(CHAT + 1, "Дважды")  # a real double send, not caused by a lost answer
            await bot.send_message(CHAT + 1, "Дважды")

    run(scenario())
    first, second = emulator.state.messages(CHAT)
    assert first.answer_lost and not second.answer_lost
    stats = emulator.state.stats()
    assert (stats.accepted, stats.lost_answers, stats.faults_injected) == (4, 1, {"lost_answer": 1})
    assert [(g.chat_id, g.message_ids, g.after_lost_answer) for g in emulator.state.duplicates()] == [
        (CHAT, (1, 2), 1),
        (CHAT + 1, (1, 2), 0),
    ]
    assert emulator.state.duplicates_from_lost_answers() == 1


def test_timeout_is_timed_out_and_the_late_message_counts_as_lost(emulator: EmulatorServer) -> None:
    emulator.state.configure(faults=FaultConfig(timeout=1.0, timeout_seconds=0.8))

    async def scenario() -> None:
        async with make_bot(emulator, read_timeout=0.3) as bot:
            with pytest.raises(TimedOut):
                await bot.send_message(CHAT, "slow")

    run(scenario())
    deadline = time.monotonic() + 3
    while not emulator.state.messages(CHAT) and time.monotonic() < deadline:
        time.sleep(0.05)
    [message] = emulator.state.messages(CHAT)
    assert message.answer_lost
    assert emulator.state.stats().faults_injected == {"timeout": 1}


def test_a_retry_accepted_before_the_hung_original_is_explained_by_its_lost_answer(emulator: EmulatorServer) -> None:
    emulator.state.configure(faults=FaultConfig(timeout=1.0, timeout_seconds=1.0))

    async def scenario() -> None:
        async with make_bot(emulator, read_timeout=0.2) as bot:
            with pytest.raises(TimedOut):
                await bot.send_message(CHAT, "Напоминание о сроке")
            emulator.state.configure(faults=FaultConfig())
            await bot.send_message(CHAT, "Напоминание о сроке")  # the retry, while the original still hangs

    run(scenario())
    deadline = time.monotonic() + 5
    while len(emulator.state.messages(CHAT)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    retry, original = emulator.state.messages(CHAT)
    assert not retry.answer_lost and original.answer_lost  # the retry came first
    [group] = emulator.state.duplicates()
    assert (group.message_ids, group.after_lost_answer) == ((1, 2), 1)
    assert emulator.state.stats_json()["duplicates_from_lost_answers"] == 1


def test_get_updates_long_poll_returns_a_pushed_message(emulator: EmulatorServer) -> None:
    async def scenario() -> None:
        async with make_bot(emulator) as bot:
            assert await bot.delete_webhook()
            started = time.monotonic()
            poll = asyncio.create_task(bot.get_updates(timeout=5))
            await asyncio.sleep(0.2)
            assert not poll.done()
            emulator.state.push_user_message(CHAT, "/start abc")
            [update] = await poll
            assert time.monotonic() - started < 2
            assert update.message is not None and update.message.text == "/start abc"
            assert update.message.from_user is not None and update.message.from_user.id == CHAT
            assert [(e.type, e.length) for e in update.message.entities] == [("bot_command", 6)]
            assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()

    run(scenario())


def test_callback_query_round_trip(emulator: EmulatorServer) -> None:
    async def scenario() -> None:
        async with make_bot(emulator) as bot:
            sent = await bot.send_message(CHAT, "Задача", reply_markup=keyboard())
            with pytest.raises(ValueError, match="no button"):
                emulator.state.push_callback(CHAT, sent.message_id, "other")
            query_id = emulator.state.push_callback(CHAT, sent.message_id, "done:1")
            [update] = await bot.get_updates(timeout=1)
            query = update.callback_query
            assert query is not None and query.data == "done:1" and query.id == query_id
            assert query.message is not None and query.message.message_id == sent.message_id
            assert await bot.answer_callback_query(query_id, text="Готово")
            with pytest.raises(BadRequest, match=r"(?i)query is too old"):
                await bot.answer_callback_query(query_id)

    run(scenario())
    assert emulator.state.callbacks and next(iter(emulator.state.callbacks.values()))["answer"] == {"text": "Готово"}


def test_application_polling_round_trip(emulator: EmulatorServer) -> None:
    """python-telegram-bot's Application polls, answers /start and a button press."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html("<b>Привет</b>", reply_markup=keyboard())

    async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("Принято")
        await update.callback_query.edit_message_text("Готово")

    async def wait_for(condition: Callable[[], bool]) -> None:
        for _ in range(200):
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the bot did not answer")

    async def scenario() -> None:
        application = Application.builder().token(TOKEN).base_url(emulator.url + "/bot").build()
        application.add_handler(CommandHandler("start", start))
        application.add_handler(CallbackQueryHandler(press))
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=5)
            emulator.state.push_user_message(CHAT, "/start")
            await wait_for(lambda: bool(emulator.state.messages(CHAT)))
            message_id = emulator.state.messages(CHAT)[0].message_id
            query_id = emulator.state.push_callback(CHAT, message_id, "done:1")
            await wait_for(lambda: emulator.state.messages(CHAT)[0].text == "Готово")
            await application.updater.stop()
            await application.stop()
        assert emulator.state.callbacks[query_id]["answer"] == {"text": "Принято"}

    run(scenario())
    [message] = emulator.state.messages(CHAT)
    assert [version.text for version in message.history] == ["Привет"] and message.reply_markup is None


def test_json_bodies_and_query_strings_are_accepted(emulator: EmulatorServer) -> None:
    api = f"{emulator.url}/bot{TOKEN}"
    markup = {"inline_keyboard": [[{"text": "Да", "callback_data": "yes"}]]}
    body = {"chat_id": CHAT, "text": "<i>JSON</i>", "parse_mode": "html", "reply_markup": markup}
    sent = httpx.post(f"{api}/sendMessage", json=body)
    assert sent.json()["result"]["reply_markup"] == markup and sent.json()["result"]["entities"][0]["type"] == "italic"
    assert httpx.get(f"{api}/sendmessage", params={"chat_id": CHAT, "text": "GET"}).json()["ok"] is True
    too_long_data = {"inline_keyboard": [[{"text": "x", "callback_data": "d" * 65}]]}
    bad = httpx.post(f"{api}/sendMessage", json={"chat_id": CHAT, "text": "x", "reply_markup": too_long_data})
    assert bad.json()["description"] == "Bad Request: BUTTON_DATA_INVALID"
    assert [m.text for m in emulator.state.messages(CHAT)] == ["JSON", "GET"]


def test_stopping_the_server_ends_a_pending_long_poll() -> None:
    with EmulatorServer() as server:
        result: list[object] = []

        async def poll() -> None:
            async with make_bot(server) as bot:
                result.append(await bot.get_updates(timeout=30))

        thread = threading.Thread(target=lambda: run(poll()))
        thread.start()
        time.sleep(0.3)
    started = time.monotonic()
    thread.join(timeout=5)
    assert result == [()] and time.monotonic() - started < 1


def test_control_api(emulator: EmulatorServer) -> None:
    base = f"{emulator.url}/_emulator"
    config = httpx.post(f"{base}/config", json={"faults": {"blocked": 1.0, "seed": 7}, "limits": {"enabled": True}})
    assert config.status_code == 200 and config.json()["faults"]["blocked"] == 1.0
    assert httpx.post(f"{base}/config", json={"faults": {"blocked": 2}}).status_code == 400

    async def scenario() -> None:
        async with make_bot(emulator) as bot:
            with pytest.raises(Forbidden):
                await bot.send_message(CHAT, "x")
            httpx.post(f"{base}/config", json={"faults": {}})
            await bot.send_message(CHAT, "<b>ok</b>", parse_mode="HTML")
            httpx.post(f"{base}/chats/{CHAT + 5}/missing")
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await bot.send_message(CHAT + 5, "x")
            httpx.delete(f"{base}/chats/{CHAT + 5}/missing")
            await bot.send_message(CHAT + 5, "x")

    run(scenario())
    [message] = httpx.get(f"{base}/chats/{CHAT}/messages").json()
    assert (message["text"], message["raw_text"], message["entities"][0]["type"]) == ("ok", "<b>ok</b>", "bold")
    stats = httpx.get(f"{base}/stats").json()
    assert (stats["accepted"], stats["faults_injected"], stats["duplicates"]) == (2, {"blocked": 1}, 0)
    pushed = httpx.post(f"{base}/chats/{CHAT}/messages", json={"text": "Мои задачи"})
    assert pushed.status_code == 200 and pushed.json()["message"]["text"] == "Мои задачи"
    assert len(httpx.get(f"{base}/chats/{CHAT}/messages", params={"incoming": True}).json()) == 2
    assert httpx.post(f"{base}/reset").json() == {"ok": True}
    assert httpx.get(f"{base}/stats").json()["accepted"] == 0
    assert emulator.state.limits.enabled is False


def test_state_works_without_a_server() -> None:
    state = EmulatorState()
    with pytest.raises(ValueError, match="0 bots"):
        state.push_user_message(5, "hi")
    bot = state.bot_for_token("42:x")
    state.push_user_message(5, "hi")
    assert state.updates.pending(bot.id) == 1


def test_a_shared_contact_reaches_the_bot_with_whose_number_it_is() -> None:
    async def scenario(server: EmulatorServer) -> None:
        async with Bot("4242:contact-test-token", base_url=server.url + "/bot") as bot:
            server.state.push_contact(901, "+79161234567", "Мария", contact_user_id=901)
            server.state.push_contact(901, "+79030000000", "Кто-то", bot=4242)
            own, forwarded = await bot.get_updates(timeout=1)
        assert own.message is not None and own.message.contact is not None
        assert own.message.contact.phone_number == "+79161234567" and own.message.contact.user_id == 901
        assert forwarded.message is not None and forwarded.message.contact is not None
        assert forwarded.message.contact.user_id is None

    with EmulatorServer() as server:
        asyncio.run(scenario(server))
