"""Where the system bot's token comes from: SIGNAL_TELEGRAM_TOKEN, else the directory's system bot record."""

from __future__ import annotations

from pydantic import SecretStr
from sqlmodel import Session

from signal_ext.bots.directory import system_bot
from signal_ext.settings import Settings
from signal_ext.storage import create_db_engine, migrate


def with_directory_token(settings: Settings) -> Settings:
    """The settings with the system bot's token from its directory record (``bot add NAME --token T --system``)
    when SIGNAL_TELEGRAM_TOKEN is not set; the environment's token wins, as in ``bot check``."""
    if settings.telegram_token is not None:
        return settings
    engine = create_db_engine(settings.database_url)
    try:
        migrate(engine)
        with Session(engine) as session:
            record = system_bot(session)
            token = record.token if record is not None else None
    finally:
        engine.dispose()
    return settings if token is None else settings.model_copy(update={"telegram_token": SecretStr(token)})
