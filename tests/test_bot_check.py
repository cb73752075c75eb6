"""``signal-ext bot check``: Telegram's ``getMe`` through the real Bot API emulator; the token never shows."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import Result
from sqlalchemy import text

from signal_ext.storage import create_db_engine
from signal_ext.telegram_emulator import EmulatorServer
from tests.conftest import CliRun

TOKEN = "1691888282:AAFgK7brh5ACYCE1mcYvcsJpmspJL9zyEms"
SYSTEM_TOKEN = "424242:SystemBotSecretFromTheEnvironment"
REFUSED_TOKEN = "refused-token-with-no-bot-id-SECRET"  # not <digits>:<secret>: the emulator answers 401
SECRETS = (TOKEN, TOKEN.split(":", 1)[1], SYSTEM_TOKEN.split(":", 1)[1], REFUSED_TOKEN)


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as running:
        yield running


@pytest.fixture
def telegram_api(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """The emulator as the Bot API of every ``cli`` call; no token from the developer's environment."""
    server.state.reset()
    monkeypatch.setenv("SIGNAL_TELEGRAM_API_URL", server.url)
    monkeypatch.delenv("SIGNAL_TELEGRAM_TOKEN", raising=False)
    return server.url


def _no_secret(result: Result) -> None:
    for secret in SECRETS:
        assert secret not in result.output


def _refused(result: Result) -> str:
    _no_secret(result)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _username(cli: CliRun, bot: str) -> str | None:
    result = cli("bot", "show", bot, "--json")
    assert result.exit_code == 0, result.output
    value: str | None = json.loads(result.stdout)["username"]
    return value


def _store_token(database_url: str, bot: str, token: str) -> None:
    """Writes a token straight into the record, past ``add_bot``'s format check (as an old row might hold)."""
    engine = create_db_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE bot SET token = :token WHERE name = :name"), {"token": token, "name": bot})
    engine.dispose()


def test_check_reports_and_stores_the_username(cli: CliRun, telegram_api: str) -> None:
    assert cli("bot", "add", "shop", "--token", TOKEN).exit_code == 0
    assert _username(cli, "shop") is None

    result = cli("bot", "check", "shop")

    _no_secret(result)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Бот shop: @bot1691888282_bot (id 1691888282)\n"
    assert _username(cli, "shop") == "bot1691888282_bot"
    assert "@bot1691888282_bot" in cli("bot", "list").stdout


def test_system_bot_is_checked_with_the_environment_token(
    cli: CliRun, telegram_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("bot", "add", "main", "--system").exit_code == 0
    monkeypatch.setenv("SIGNAL_TELEGRAM_TOKEN", SYSTEM_TOKEN)

    result = cli("bot", "check", "main")

    _no_secret(result)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Бот main: @bot424242_bot (id 424242)\n"
    assert _username(cli, "main") == "bot424242_bot"


def test_refused_token_is_one_line_and_stores_nothing(cli: CliRun, telegram_api: str, database_url: str) -> None:
    assert cli("bot", "add", "shop", "--token", TOKEN).exit_code == 0
    _store_token(database_url, "shop", REFUSED_TOKEN)

    line = _refused(cli("bot", "check", "shop"))

    assert line.startswith("Error: Telegram не принял токен бота shop"), line
    assert line.endswith("(токен задаёт signal-ext bot update shop --token …)"), line
    assert _username(cli, "shop") is None


def test_refused_environment_token_of_the_system_bot(
    cli: CliRun, telegram_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("bot", "add", "main", "--system").exit_code == 0
    monkeypatch.setenv("SIGNAL_TELEGRAM_TOKEN", REFUSED_TOKEN)

    line = _refused(cli("bot", "check", "main"))

    assert line.startswith("Error: Telegram не принял токен бота main"), line
    assert line.endswith("(токен задаёт SIGNAL_TELEGRAM_TOKEN)"), line


def test_unreachable_api_names_the_url_not_the_token(
    cli: CliRun, telegram_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("SIGNAL_TELEGRAM_API_URL", url)
    assert cli("bot", "add", "shop", "--token", TOKEN).exit_code == 0

    line = _refused(cli("bot", "check", "shop"))

    assert line.startswith(f"Error: Нет связи с {url}: "), line
    assert _username(cli, "shop") is None


class _EchoNotFound(BaseHTTPRequestHandler):
    """A web server that is not the Bot API: a plain-text 404 quoting the path asked for (token included)."""

    def do_POST(self) -> None:
        body = f"No page at {self.path}".encode()
        self.send_response(404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def test_a_server_that_is_not_the_bot_api_is_named_and_its_echo_of_the_token_hidden(
    cli: CliRun, telegram_api: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the HTTP client's and python-telegram-bot's records quote the URL and body
    with ThreadingHTTPServer(("127.0.0.1", 0), _EchoNotFound) as web:
        thread = threading.Thread(target=web.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{web.server_address[1]}"
        monkeypatch.setenv("SIGNAL_TELEGRAM_API_URL", url)
        assert cli("bot", "add", "shop", "--token", TOKEN).exit_code == 0
        try:
            line = _refused(cli("bot", "check", "shop"))
        finally:
            web.shutdown()

    assert line == f"Error: Нет связи с {url}: по этому адресу отвечает не Telegram Bot API"
    assert not any(secret in caplog.text for secret in SECRETS)


def test_bot_without_token_runs_on_the_emulator(cli: CliRun, telegram_api: str, server: EmulatorServer) -> None:
    assert cli("bot", "add", "helper").exit_code == 0

    line = _refused(cli("bot", "check", "helper"))

    assert line.startswith("Error: у бота helper нет токена: он работает на встроенном эмуляторе"), line
    assert not server.state.bots  # Telegram was not asked at all


def test_unknown_bot_is_one_line(cli: CliRun, telegram_api: str) -> None:
    line = _refused(cli("bot", "check", "nobody"))

    assert "nobody" in line
