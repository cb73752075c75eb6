"""Storage: the database engine, sessions and schema migrations."""

from signal_ext.storage.engine import create_db_engine, read_session_factory, session_factory
from signal_ext.storage.migrate import migrate

__all__ = ["create_db_engine", "migrate", "read_session_factory", "session_factory"]
