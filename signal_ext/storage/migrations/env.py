"""Alembic environment: runs online against the engine handed over in ``config.attributes``."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import algorithms.models  # noqa: F401  (registers the algorithm tables)
import auth.models  # noqa: F401  (registers the registration table)
import keywords.models  # noqa: F401  (registers the keyword table)
import processes.models  # noqa: F401  (registers the tables)
import signal_ext.bots.dialogs  # registers the dialog table
import signal_ext.bots.invites  # registers the invite table
import signal_ext.bots.models  # registers the bot tables
import signal_ext.notifications.models  # noqa: F401

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
