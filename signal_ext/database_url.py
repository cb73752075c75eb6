"""The database URL setting checked when the settings are read, so a typo is one clear line, not a traceback."""

from __future__ import annotations

import os

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

EXAMPLES = "sqlite:///signal.db или postgresql://пользователь:пароль@сервер:5432/база"
DRIVERS = {"sqlite": "pysqlite", "postgresql": "psycopg"}
"""The database each supported backend is reached through: the driver the project ships."""
_MEMORY = ("", ":memory:")


def check_database_url(url: str) -> str:
    """``url`` when the service can use it: SQLite in an existing directory or PostgreSQL through psycopg, with a
    port that exists. Raises ValueError saying, in Russian, what is wrong (the password is never repeated)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(f"это не адрес базы данных; пример: {EXAMPLES}") from None
    backend, _, driver = parsed.drivername.partition("+")  # asking SQLAlchemy would load an unknown dialect
    if backend not in DRIVERS:
        supported = " и ".join(DRIVERS)
        raise ValueError(f"СУБД «{backend}» не поддерживается (поддерживаются {supported}); пример: {EXAMPLES}")
    if driver not in ("", DRIVERS[backend]):
        raise ValueError(f"драйвер «{driver}» не поддерживается: пишите адрес без него, например {EXAMPLES}")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise ValueError(f"порт {parsed.port} вне диапазона 1–65535")
    if backend == "sqlite":
        _check_sqlite_path(parsed)
    return url


def _check_sqlite_path(parsed: URL) -> None:
    path = parsed.database or ""
    if path in _MEMORY or path.startswith("file:"):
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"каталога «{directory}» для файла базы SQLite нет")
    if os.path.isdir(path):
        raise ValueError(f"«{path}» — каталог, а нужен файл базы SQLite")
