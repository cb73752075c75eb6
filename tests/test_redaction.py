"""``redact``: every kind of secret the service knows, and secrets it was never told about, are masked — in plain
text, inside URLs (also %-encoded), and in log records whose secret is assembled only when the record is
formatted."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlmodel import Session

from signal_ext.bots.directory import add_bot, list_bots
from signal_ext.bots.models import BotCreate
from signal_ext.redaction import MASK, RedactingFilter, redact, register_secrets, register_settings
from signal_ext.settings import Settings
from signal_ext.storage import create_db_engine


def _unique(prefix: str) -> str:
    """A secret no other test registered, so each test shows its own kind being masked."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def test_a_registered_bot_token_is_masked_whole_and_by_its_secret_half() -> None:
    secret = _unique("short-secret-")
    token = f"7001:{secret}"  # not Telegram's shape: only the registration can hide it
    assert redact(f"token {token}") == f"token {token}"

    register_secrets(token)

    assert redact(f"token {token}!") == f"token {MASK}!"
    assert redact(f"secret {secret}") == f"secret {MASK}"
    in_url = redact(f"GET http://h/bot7001%3A{secret}/getMe")
    assert secret not in in_url and in_url.endswith(f"{MASK}/getMe"), in_url


def test_an_unknown_token_of_telegrams_shape_is_masked_but_its_bot_id_stays() -> None:
    token = "7312459081:AAH" + uuid.uuid4().hex  # 35 characters after the colon, as @BotFather gives
    assert redact(f"The token `{token}` was rejected by the server.") == (
        f"The token `7312459081:{MASK}` was rejected by the server."
    )
    assert token.split(":")[1] not in redact(token.replace(":", "%3A"))


def test_any_token_in_a_bot_api_path_is_masked_whatever_its_length() -> None:
    short = _unique("x")
    text = f"POST https://api.telegram.org/bot42:{short}/sendMessage and /file/bot42%3A{short}/photo.jpg"

    shown = redact(text)

    assert short not in shown
    assert shown == f"POST https://api.telegram.org/bot42:{MASK}/sendMessage and /file/bot42%3A{MASK}/photo.jpg"


def test_the_settings_secrets_are_masked_including_the_database_password_as_the_url_quotes_it() -> None:
    password, smtp, webhook, token = _unique("Pa@ss/"), _unique("smtp-"), _unique("hook_secret_"), _unique("9:t")
    quoted = password.replace("@", "%40").replace("/", "%2F")
    settings = Settings(
        database_url=f"postgresql://signal:{quoted}@db.example:5432/signal",
        smtp_password=smtp,
        telegram_webhook_secret=webhook,
        telegram_token=token,
    )

    register_settings(settings)

    for secret in (password, quoted, smtp, webhook, token):
        shown = redact(f"failed: «{secret}» at the end")
        assert secret not in shown and MASK in shown, shown


def test_an_unknown_password_in_any_url_is_masked() -> None:
    password = _unique("pw")
    shown = redact(f"cannot connect to postgresql+psycopg://admin:{password}@10.0.0.5/db (timeout)")

    assert shown == f"cannot connect to postgresql+psycopg://admin:{MASK}@10.0.0.5/db (timeout)"
    assert redact("see https://example.com/a:b and 10:30") == "see https://example.com/a:b and 10:30"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose one handler carries the redacting filter, writing to a string."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger(f"test.redaction.{uuid.uuid4().hex}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.removeHandler(handler)


def test_a_log_record_whose_url_is_assembled_from_its_arguments_is_masked(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    secret = _unique("s")  # unknown and short: only the assembled /bot<token>/ path gives it away

    logger.debug("%s/bot%s:%s/%s", "https://api.telegram.org", "77", secret, "getUpdates")

    assert secret not in stream.getvalue()
    assert f"https://api.telegram.org/bot77:{MASK}/getUpdates" in stream.getvalue()


def test_a_logged_exception_and_stack_are_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    token = "5550001234:AAE" + uuid.uuid4().hex

    try:
        raise RuntimeError(f"The token `{token}` was rejected by the server.")
    except RuntimeError:
        logger.exception("bot failed", stack_info=True)

    written = stream.getvalue()
    assert "RuntimeError: The token `5550001234:***` was rejected" in written
    assert token.split(":")[1] not in written


def test_a_token_read_from_the_bots_directory_is_masked_from_then_on(database_url: str) -> None:
    secret = _unique("stored-only-in-the-database-")
    token = f"4242:{secret}"  # not Telegram's shape, and never given to this process but through the table
    engine = create_db_engine(database_url)
    with Session(engine) as session:
        add_bot(session, BotCreate(name="shop"))
        session.commit()
    with engine.begin() as connection:
        connection.execute(text("UPDATE bot SET token = :token WHERE name = 'shop'"), {"token": token})
    assert secret in redact(f"answer for {token}")

    with Session(engine) as session:
        assert [bot.name for bot in list_bots(session)] == ["shop"]
    engine.dispose()

    assert redact(f"answer for {token}; {secret}") == f"answer for {MASK}; {MASK}"
