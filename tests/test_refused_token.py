"""A token Telegram refuses (401, as after @BotFather's «revoke»): it shows in no CLI output, no stored column and
no log line of a real ``signal-ext run``; that bot alone stops, says why, and starts again with a new token."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlmodel import SQLModel

from cli import main
from signal_ext.bootstrap import bootstrap
from signal_ext.channels.telegram import TOKEN_REFUSED
from signal_ext.notifications.models import OutboxMessage
from signal_ext.settings import Settings
from signal_ext.storage import create_db_engine
from signal_ext.telegram_emulator import EmulatorServer

SYSTEM_TOKEN = "7312459081:AAHk3vQ9zR2mX8pL5tW1yB6nC4dF7gJ0sEu"  # the shape @BotFather gives
SYSTEM_NEW_TOKEN = "7312459082:AAEw4Xs6Cd8Vf0Bg2Nh4Mj6Ki8Lo0Pq2Rs"
SALES_TOKEN = "6120384756:AAGp2Lq8Wz4Rt6Yu1Io3Pa5Sd7Fg9Hj0KlM"
SALES_NEW_TOKEN = "6120384756:AAFr7Tg2Yh4Uj6Ik8Ol0Pz1Xc3Vb5Nm9QwE"
CHAT = 52_001
TOKENS = (SYSTEM_TOKEN, SYSTEM_NEW_TOKEN, SALES_TOKEN, SALES_NEW_TOKEN)
SECRETS = tuple(part for token in TOKENS for part in (token, token.split(":")[1]))
REFUSAL = "токен отклонён Telegram (401)"


@pytest.fixture
def telegram() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def env(database_url: str, telegram: EmulatorServer) -> dict[str, str]:
    """The environment of every command: the test database, the emulator as Telegram, no token of the caller's."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("SIGNAL_")}
    return kept | {
        "SIGNAL_DATABASE_URL": database_url,
        "SIGNAL_TELEGRAM_API_URL": telegram.url,
        "SIGNAL_TELEGRAM_RATE_PER_SECOND": "0",
    }


def _cli(env: dict[str, str]) -> Callable[..., Result]:
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    return run


def _no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, text


def _stored(database_url: str) -> str:
    """Every column of every table (texts, JSON, bytes), all rows, but the one place a token belongs: ``bot.token``."""
    engine = create_db_engine(database_url)
    dumped = []
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) != ("bot", "token")]
            dumped += [f"{table.name}: {tuple(row)!r}" for row in connection.execute(select(*columns))]
    engine.dispose()
    return "\n".join(dumped)


def _queue_for_the_dispatcher(database_url: str) -> None:
    """A message due now, queued as the notification engine queues it, for ``signal-ext dispatch``."""
    app = bootstrap(Settings(database_url=database_url), apply_migrations=False)
    with app.open_session() as session:
        session.add(OutboxMessage(idempotency_key="t:1", channel="telegram", address=str(CHAT), body="Итоги"))
        session.commit()
    app.close()


def _seed(cli: Callable[..., Result]) -> None:
    for args in (
        ("bot", "add", "tasks", "--system", "--token", SYSTEM_TOKEN),
        ("bot", "add", "sales", "--token", SALES_TOKEN, "--description", "Отдел продаж"),
        ("person", "add", "Петрова Мария"),
        ("person", "link", "Петрова", "--key", str(CHAT)),
    ):
        result = cli(*args)
        assert result.exit_code == 0, result.output


def test_commands_never_show_or_store_a_refused_token(
    env: dict[str, str], telegram: EmulatorServer, database_url: str
) -> None:
    cli = _cli(env)
    _seed(cli)
    telegram.state.revoke_token(SYSTEM_TOKEN)

    sent = cli("message", "send", "--to", "Петрова", "--channel", "telegram", "--text", "Совещание в 10:00")
    _queue_for_the_dispatcher(database_url)
    dispatched = cli("dispatch", "--once")
    listed, as_json = cli("message", "list"), cli("message", "list", "--json")
    checked = cli("bot", "check", "tasks")

    for result in (sent, dispatched, listed, as_json, checked):
        _no_secret(result.output)
    # nothing is lost: the messages wait for a corrected token instead of failing for good
    assert sent.exit_code == 0 and sent.stdout == f"Сообщение 1: pending, {TOKEN_REFUSED} (повтор — в сервисе)\n"
    # the queued message waits behind the first in their chat (order kept); neither fails
    assert "Отправлено: 0, повтор позже: 0, ошибок: 0" in dispatched.output, dispatched.output
    assert listed.output.count("Telegram отклонил токен бота (401)") == 1, listed.output
    assert [m["status"] for m in json.loads(as_json.stdout)] == ["pending", "pending"], as_json.stdout
    errors = [m["last_error"] for m in json.loads(as_json.stdout)]
    assert errors[0].startswith("Telegram отклонил токен бота (401)") and not errors[1], errors
    assert checked.exit_code == 1 and "Telegram не принял токен бота tasks" in checked.stderr
    stored = _stored(database_url)
    _no_secret(stored)
    assert stored.count(TOKEN_REFUSED) == 1 and "bot: (" in stored, stored  # the dump reaches the errors and bots
    assert not telegram.state.messages(CHAT)  # nothing went out with the refused token


def _wait(condition: Callable[[], bool], what: str, output: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}; the service said:\n{output.read_text()}")
        time.sleep(0.05)


def _answered(telegram: EmulatorServer, bot_id: int, text: str, output: Path) -> str:
    """Pushes ``text`` to bot ``bot_id`` and waits for its answer."""
    before = len(telegram.state.messages(CHAT))
    telegram.state.push_user_message(CHAT, text, bot=bot_id)

    def answers() -> list[str]:
        return [m.text or "" for m in telegram.state.messages(CHAT)[before:] if m.bot_id == bot_id]

    _wait(lambda: bool(answers()), f"bot {bot_id} did not answer {text!r}", output)
    return answers()[0]


def _shown(cli: Callable[..., Result], bot: str) -> str:
    result = cli("bot", "show", bot)
    assert result.exit_code == 0, result.output
    _no_secret(result.output)
    return result.stdout


def test_a_refused_token_stops_only_its_bot_in_a_running_service(
    env: dict[str, str], telegram: EmulatorServer, database_url: str, tmp_path: Path
) -> None:
    cli = _cli(env)
    _seed(cli)
    telegram.state.revoke_token(SYSTEM_TOKEN)
    sales_id, new_sales_id = (int(token.split(":")[0]) for token in (SALES_TOKEN, SALES_NEW_TOKEN))
    output = tmp_path / "run.log"
    script = str(Path(sys.executable).parent / "signal-ext")
    service_env = env | {"SIGNAL_BOTS_RELOAD_SECONDS": "0.2", "SIGNAL_LOG_LEVEL": "DEBUG"}  # URLs in the log
    with output.open("w") as sink:
        service = subprocess.Popen(
            [script, "run", "--port", "0"], cwd=tmp_path, env=service_env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        _wait(lambda: "Signal работает: " in output.read_text(), "the service did not start", output)
        url = output.read_text().split("Signal работает: ", 1)[1].split()[0]

        assert "Отдел продаж" in _answered(telegram, sales_id, "/start", output)  # the other bot answers
        health = httpx.get(f"{url}/health", timeout=10).json()
        assert health["status"] == "ok" and REFUSAL in health["bots_stopped"]["system"], health
        assert REFUSAL in _shown(cli, "tasks")
        assert REFUSAL in cli("bot", "list").stdout

        telegram.state.revoke_token(SALES_TOKEN)  # revoked while it runs: its next request is refused
        telegram.state.push_user_message(CHAT, "/start", bot=sales_id)
        _wait(lambda: REFUSAL in _shown(cli, "sales"), "the bot refused while running was not reported", output)
        assert service.poll() is None

        assert cli("bot", "update", "sales", "--token", SALES_NEW_TOKEN).exit_code == 0
        assert "Отдел продаж" in _answered(telegram, new_sales_id, "/start", output)  # restarted by the reload
        _wait(lambda: REFUSAL not in _shown(cli, "sales"), "the restarted bot still shows as stopped", output)
        assert list(httpx.get(f"{url}/health", timeout=10).json()["bots_stopped"]) == ["system"]

        assert cli("bot", "update", "tasks", "--token", SYSTEM_NEW_TOKEN).exit_code == 0  # the system bot too
        system_id = int(SYSTEM_NEW_TOKEN.split(":")[0])
        assert "ключ" in _answered(telegram, system_id, "Мой ключ", output).lower()
        _queue_for_the_dispatcher(database_url)  # and its notifications go out with the new token
        _wait(lambda: any(m.text == "Итоги" for m in telegram.state.messages(CHAT, bot_id=system_id)), "", output)
        _wait(lambda: httpx.get(f"{url}/health", timeout=10).json()["bots_stopped"] == {}, "still stopped", output)
        assert service.poll() is None, output.read_text()
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=30)

    log = output.read_text()
    _no_secret(log)
    _no_secret(_stored(database_url))
    assert log.count("bot system stopped: Telegram refused its token (401)") == 1, log
    assert log.count("bot sales stopped: Telegram refused its token (401)") == 1, log
    assert "Traceback" not in log, log
    assert service.returncode == 0, log


def test_the_refusal_filter_keeps_other_records_of_the_loggers_it_sits_on(caplog: pytest.LogCaptureFixture) -> None:
    import signal_ext.bots.runtime  # noqa: F401  # puts the filter on asyncio's and PTB's loggers

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        logging.getLogger("asyncio").error("Task was destroyed but it is pending!", exc_info=False)

    assert "Task was destroyed but it is pending!" in caplog.text
