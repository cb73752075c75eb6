"""Schema migrations (Alembic), applied by ``signal-ext init`` and at service start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that runs the project's migrations on ``engine``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Brings the database schema to the newest revision; a no-op when it is already there."""
    command.upgrade(alembic_config(engine), "head")
