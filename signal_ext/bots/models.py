"""Tables of the bots directory («Чат-боты»): the bots and their overrides of the texts table.

A bot's ``name`` is its handle in the command line and in ``telegram_chat.bot``. The token is a secret: it is
stored (the bot needs it), and nothing that shows a bot — :class:`BotPublic`, the CLI, the API — carries it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint, event, text
from sqlmodel import Field, SQLModel

from processes.timeutil import UTCDateTime, utcnow
from signal_ext.redaction import register_secrets


class BotBase(SQLModel):
    """The card fields a designer edits."""

    description: str = ""
    unknown_answer: str = ""  # «Ответ на неизвестный запрос»; empty = the texts table's «unknown_request»
    allow_code: bool = False  # «Разрешить выполнять программный код»
    auth_enabled: bool = False  # «Авторизация»
    auth_request_text: str = ""  # «Запрос авторизации»; empty = the texts table's «auth_request»
    auth_algorithm: str | None = Field(default=None, max_length=128)  # step 1 of the chain: registers by data
    auth_scenario: str | None = Field(default=None, max_length=300)  # step 2: a process decides
    auth_responsible_id: int | None = Field(default=None, foreign_key="person.id")  # step 3: a person decides
    auth_kind: str = Field(default="user", max_length=16)  # what a registration links to by default (PersonKind)


class BotCreate(BotBase):
    """What ``add_bot`` takes; it checks the name and the token itself, with Russian messages."""

    name: str
    token: str | None = None
    is_system: bool = False


class Bot(BotBase, table=True):
    """A Telegram bot. Without a token it runs on the built-in Bot API emulator. At most one is the system bot
    (the one with the task menu), which the partial unique index keeps even under concurrent writers."""

    __table_args__ = (
        Index(
            "uq_bot_single_system",
            "is_system",
            unique=True,
            sqlite_where=text("is_system"),
            postgresql_where=text("is_system"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    token: str | None = Field(default=None, max_length=128, unique=True)
    is_system: bool = False
    username: str | None = Field(default=None, max_length=64)  # the bot's @username, filled by a getMe check
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@event.listens_for(Bot, "load")
@event.listens_for(Bot, "refresh")
def _remember_token(bot: Bot, *_: object) -> None:
    """Every token read from the directory (each reload, each command) is a secret the redaction masks."""
    register_secrets(bot.token)


@event.listens_for(Bot.token, "set")
def _remember_new_token(_bot: Bot, token: str | None, *_: object) -> None:
    """A token given to a bot (``bot add``, ``bot update --token``) is masked from then on as well."""
    register_secrets(token)


class BotText(SQLModel, table=True):
    """A bot's own text for one key of the texts table (see ``signal_ext.bots.texts``)."""

    __tablename__ = "bot_text"
    __table_args__ = (UniqueConstraint("bot_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(foreign_key="bot.id")
    key: str = Field(max_length=64)
    value: str
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BotStatus(SQLModel, table=True):
    """Why a bot the service should run is stopped, by the name it runs under (``system`` for the system bot);
    no row: no trouble known. The service writes it when Telegram refuses a token and removes it once the bot
    starts again."""

    __tablename__ = "bot_status"

    bot: str = Field(primary_key=True, max_length=64)
    state: str = Field(max_length=16)  # BotState
    since: datetime = Field(sa_type=UTCDateTime)


class BotPublic(BotBase):
    """A bot as lists and the API show it: never the token, only whether there is one and a masked hint."""

    id: int
    name: str
    is_system: bool
    username: str | None
    has_token: bool
    token_hint: str | None
    overridden_texts: int = 0
    created_at: datetime
    stopped: str | None = None  # BotState: why the service stopped the bot; None: no trouble known
    stopped_at: datetime | None = None
