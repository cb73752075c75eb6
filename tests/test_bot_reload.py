"""A running service picks up the bots directory's changes without a restart, and the other bots keep answering;
the outbox sends a directory bot's messages with that bot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from click.testing import CliRunner
from sqlmodel import select

from cli import main
from signal_ext.bootstrap import bootstrap
from signal_ext.bots.directory import add_bot, find_bot, set_token
from signal_ext.bots.models import BotCreate
from signal_ext.notifications.models import MessageStatus, OutboxMessage
from signal_ext.run import EMULATOR_BOT_BASE, EMULATOR_TOKEN, Running, start_service, stop_service
from signal_ext.service import dispatch_round
from signal_ext.settings import Settings
from signal_ext.telegram_emulator import EmulatorServer, EmulatorState

SYSTEM_BOT_ID = int(EMULATOR_TOKEN.split(":")[0])
CHAT = 31_001
NEW_TOKEN = "555000:a-token-given-while-the-service-runs"


async def _reply(state: EmulatorState, bot: int, text: str) -> str:
    """What ``bot`` answers ``text`` in the test chat (waits up to 10 s)."""
    before = len(state.messages(CHAT))
    state.push_user_message(CHAT, text, bot=bot)
    deadline = time.monotonic() + 10
    while True:
        answers = [m for m in state.messages(CHAT)[before:] if m.outgoing and m.bot_id == bot]
        if answers:
            return answers[0].text or ""
        if time.monotonic() > deadline:
            raise AssertionError(f"bot {bot} did not answer {text!r}")
        await asyncio.sleep(0.02)


async def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(what)
        await asyncio.sleep(0.05)


def test_a_bot_added_or_given_a_token_while_running_is_picked_up(database_url: str) -> None:
    async def story() -> None:
        settings = Settings(database_url=database_url, bots_reload_seconds=0.2, telegram_rate_per_second=0)
        running: Running = await start_service(settings, "127.0.0.1", 0)
        try:
            state = running.emulator
            assert state is not None
            assert "ключ" in (await _reply(state, SYSTEM_BOT_ID, "Мой ключ")).lower()

            with running.app.open_session() as session:
                bot = add_bot(session, BotCreate(name="sales", description="Отдел продаж"))
                session.commit()
                bot_id = EMULATOR_BOT_BASE + (bot.id or 0)
            await _until(lambda: "sales" in running.runner.running, "the new bot was not started")
            assert "Отдел продаж" in await _reply(state, bot_id, "/start")

            with running.app.open_session() as session:
                set_token(session, find_bot(session, "sales"), NEW_TOKEN)
                session.commit()
            await _until(
                lambda: "sales" in running.runner.running and running.runner.running["sales"].bot.token == NEW_TOKEN,
                "the bot was not restarted with its new token",
            )
            assert "Отдел продаж" in await _reply(state, int(NEW_TOKEN.split(":")[0]), "/start")
            assert "ключ" in (await _reply(state, SYSTEM_BOT_ID, "Мой ключ")).lower()  # untouched throughout
        finally:
            await stop_service(running)

    asyncio.run(story())


def test_an_outbox_message_of_a_directory_bot_goes_out_with_that_bot(database_url: str) -> None:
    async def story() -> None:
        settings = Settings(database_url=database_url, telegram_rate_per_second=0)
        running: Running = await start_service(settings, "127.0.0.1", 0)
        try:
            state = running.emulator
            assert state is not None
            with running.app.open_session() as session:
                bot = add_bot(session, BotCreate(name="sales"))
                session.add(
                    OutboxMessage(
                        idempotency_key="t:1",
                        channel="telegram",
                        bot="sales",
                        address=str(CHAT),
                        body="<b>Заявка</b> принята",
                    )
                )
                session.add(
                    OutboxMessage(idempotency_key="t:2", channel="telegram", bot="nobody", address=str(CHAT), body="x")
                )
                session.commit()
                sales_id = EMULATOR_BOT_BASE + (bot.id or 0)
            await dispatch_round(running.app)
            [message] = [m for m in state.messages(CHAT) if m.outgoing]
            assert (message.bot_id, message.text) == (sales_id, "Заявка принята")
            with running.app.read_session() as session:
                unknown = session.exec(select(OutboxMessage).where(OutboxMessage.bot == "nobody")).one()
            assert unknown.status == MessageStatus.PENDING and "бота nobody не настроен" in unknown.last_error
        finally:
            await stop_service(running)

    asyncio.run(story())


def test_the_system_bot_runs_with_the_token_of_its_directory_record(database_url: str) -> None:
    """``bot add NAME --token T --system`` is enough: without SIGNAL_TELEGRAM_TOKEN the record's token is used (here
    against a Bot API server of our own), not the built-in emulator."""
    token = "424242:the-system-bots-own-token-from-the-directory"
    with EmulatorServer() as telegram:
        app = bootstrap(Settings(database_url=database_url), apply_migrations=False)
        with app.open_session() as session:
            add_bot(session, BotCreate(name="tasks", is_system=True, token=token))
            session.commit()
        app.close()

        async def story() -> None:
            settings = Settings(database_url=database_url, telegram_api_url=telegram.url, telegram_rate_per_second=0)
            running = await start_service(settings, "127.0.0.1", 0)
            try:
                assert running.emulator is None  # a real Bot API server, not the built-in emulator
                assert "ключ" in (await _reply(telegram.state, 424242, "Мой ключ")).lower()
            finally:
                await stop_service(running)

        asyncio.run(story())


def test_message_send_and_dispatch_use_the_system_bots_record_token(database_url: str) -> None:
    """``signal-ext message send`` and ``signal-ext dispatch`` (as cron would run it) find the system bot's token in
    the directory too."""
    token = "434343:the-system-bots-own-token-for-the-dispatcher"
    with EmulatorServer() as telegram:
        env = {"SIGNAL_DATABASE_URL": database_url, "SIGNAL_TELEGRAM_API_URL": telegram.url}
        runner = CliRunner()
        for args in (
            ["bot", "add", "tasks", "--system", "--token", token],
            ["person", "add", "Петрова Мария"],
            ["person", "link", "Петрова", "--key", str(CHAT)],
        ):
            result = runner.invoke(main, args, env=env)
            assert result.exit_code == 0, result.output
        sent = runner.invoke(
            main, ["message", "send", "--to", "Петрова", "--channel", "telegram", "--text", "Совещание"], env=env
        )
        assert sent.exit_code == 0 and "отправлено" in sent.output, sent.output
        app = bootstrap(Settings(database_url=database_url), apply_migrations=False)
        with app.open_session() as session:  # queued as the notification engine queues, for the dispatcher
            session.add(OutboxMessage(idempotency_key="t:3", channel="telegram", address=str(CHAT), body="Итоги"))
            session.commit()
        app.close()
        dispatched = runner.invoke(main, ["dispatch", "--once"], env=env)
        assert dispatched.exit_code == 0 and "Отправлено: 1" in dispatched.output, dispatched.output
        assert [(m.bot_id, m.text) for m in telegram.state.messages(CHAT)] == [(434343, "Совещание"), (434343, "Итоги")]
