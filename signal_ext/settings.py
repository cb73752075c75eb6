"""The one typed settings object, read from ``SIGNAL_*`` environment variables and an optional ``.env``."""

from __future__ import annotations

import re
from datetime import time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from signal_ext.database_url import check_database_url

DEFAULT_DATABASE_URL = "sqlite:///signal.db"
MAX_SETTING_NUMBER = 86400
"""The largest port, timeout, interval, lease or attempt count accepted: a day of seconds (larger ones overflow)."""


class Settings(BaseSettings):
    """Everything the service reads from its environment; invalid values stop it with a clear message."""

    model_config = SettingsConfigDict(env_prefix="SIGNAL_", env_file=".env", extra="ignore", allow_inf_nan=False)

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("SIGNAL_DATABASE_URL", "DATABASE_URL"),
    )
    timezone: str = "Europe/Moscow"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """What ``signal-ext run`` logs to stderr."""
    workday_end: time = time(18, 0)

    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "signal@localhost"
    smtp_timeout: float = 30.0

    telegram_api_url: str = "https://api.telegram.org"
    telegram_token: SecretStr | None = None
    telegram_webhook_url: str | None = None
    """The service's public base URL; when set, bots get updates by webhook at <url>/telegram-webhook/<bot>."""
    telegram_webhook_secret: SecretStr | None = None
    telegram_rate_per_second: float = Field(default=28.0, ge=0)
    """Messages per second one token may send; 0 turns the client-side limits off. Telegram allows 30 in any
    second: spaced 1/29 s apart, 30 already fall in one second, and any network jitter makes a 31st; 28 leaves room."""
    telegram_chat_rate_per_second: float = 1.0
    telegram_group_rate_per_minute: float = 20.0

    bots_reload_seconds: float = Field(default=5.0, gt=0)
    """How often ``run`` re-reads the bots directory to start new bots and stop deleted ones."""

    dispatch_interval_seconds: float = 1.0
    dispatch_max_attempts: int = 8
    dispatch_lease_seconds: float = 120.0
    deadline_scan_seconds: float = 30.0

    algorithm_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    """Wall-clock limit of one algorithm run; the worker process is killed and replaced when it is exceeded."""
    algorithm_memory_mb: int = Field(default=256, ge=64, le=16384)
    """Address-space limit of each algorithm worker process."""
    algorithm_workers: int = Field(default=2, ge=1, le=64)
    """How many algorithms may run at once (worker processes, started on the first run)."""

    algorithms_unisolated: bool = Field(
        default=False,
        description="Выполнять алгоритмы проектировщиков без изоляции ОС, если bubblewrap здесь не запускается "
        "(без этой настройки они на такой машине отклоняются). Только для машины, где все проектировщики доверенные.",
    )
    """Выполнять алгоритмы без изоляции ОС (bubblewrap), когда она недоступна; иначе они отклоняются."""
    algorithm_bwrap: str = Field(
        default="bwrap", description="Программа bubblewrap, в которой выполняются алгоритмы (имя или путь)."
    )
    """Программа bubblewrap (имя в PATH или путь), в которой выполняются алгоритмы и выражения."""

    auth_requests_per_hour: int = Field(default=3, ge=1, le=1000)
    """How many authorization requests one chat may send one bot per hour (the responsible is not flooded)."""

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"неизвестный часовой пояс «{value}»") from error
        return value

    @field_validator("database_url")
    @classmethod
    def _usable_driver(cls, value: str) -> str:
        return check_database_url(normalise_database_url(value))

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _usable_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value.get_secret_value()):
            raise ValueError("секрет вебхука: 16–256 символов A-Z, a-z, 0-9, _ и - (так требует Telegram)")
        return value

    @field_validator(
        "smtp_port",
        "smtp_timeout",
        "dispatch_interval_seconds",
        "dispatch_max_attempts",
        "dispatch_lease_seconds",
        "deadline_scan_seconds",
    )
    @classmethod
    def _sane_number(cls, value: float) -> float:
        if not 0 < value <= MAX_SETTING_NUMBER:
            raise ValueError(f"ожидается число больше 0 и не больше {MAX_SETTING_NUMBER}")
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The configured time zone, in which users read and type dates."""
        return ZoneInfo(self.timezone)


def normalise_database_url(url: str) -> str:
    """Maps the usual ``postgres://`` / ``postgresql://`` URLs to the psycopg 3 driver the project ships."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
