"""The storage check refuses what a column cannot hold, the same way on SQLite and PostgreSQL, and nothing more."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import JSON, BigInteger, Column, Integer, MetaData, String, Table, insert, select

from signal_ext.storage import create_db_engine
from signal_ext.storage.guard import UnstorableValue


def test_what_fits_is_stored_and_what_does_not_is_refused_alike(database_url: str) -> None:
    engine = create_db_engine(database_url)
    metadata = MetaData()
    probe = Table(
        f"guard_probe_{uuid.uuid4().hex[:8]}",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("big", BigInteger),
        Column("short", String(5)),
        Column("data", JSON),
    )
    metadata.create_all(engine)
    try:
        with engine.begin() as connection:
            connection.execute(insert(probe).values(big=2**62, short="12345", data={"text": "\\u0000 is text"}))
            connection.execute(insert(probe), [{"big": -(2**62), "short": "ok"}, {"big": 1, "short": "ok"}])
            assert connection.execute(select(probe.c.big).where(probe.c.big == 2**62)).scalar_one() == 2**62
        refused = [
            insert(probe).values(short="a\x00b"),
            insert(probe).values(short="\udcff"),
            insert(probe).values(short="123456"),
            insert(probe).values(big=2**63),
            insert(probe).values(id=2**31),
            insert(probe).values(data={"text": "a\x00b"}),
            insert(probe).values(data=[float("nan")]),
            insert(probe).values(data={"\ud800": 1}),
            select(probe).where(probe.c.id == 10**23),
        ]
        for statement in refused:
            with engine.begin() as connection, pytest.raises(UnstorableValue) as caught:
                connection.execute(statement)
            assert "\x00" not in caught.value.message and caught.value.message[0].isupper()
        with engine.begin() as connection, pytest.raises(UnstorableValue, match="не больше 5"):
            connection.execute(insert(probe), [{"short": "ok"}, {"short": "too long"}])
        with engine.connect() as connection:
            assert connection.execute(select(probe.c.id)).all() == [(1,), (2,), (3,)]
    finally:
        metadata.drop_all(engine)
        engine.dispose()
