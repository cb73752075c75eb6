"""The one place that keeps secrets out of what the service shows: log records, stored error texts, CLI output.

It holds every secret the service has been told about (bot tokens from the settings and the bots directory, the
SMTP password, the database password, the webhook secret) and also masks secrets it was never told about by their
shape: a Telegram token ``<digits>:<secret>``, the token in a Bot API path ``/bot<token>/``, the password in a URL
``scheme://user:password@host``. :func:`redact` is the only masking function; everything that prints, stores or
logs a text that may quote a secret passes it through here.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from types import TracebackType
from urllib.parse import quote

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from signal_ext.settings import Settings

MASK = "***"
MIN_SECRET_LENGTH = 4
"""Shorter values are not masked wherever they occur: they would hide ordinary words and numbers."""

SETTINGS_SECRETS: tuple[Callable[[Settings], str | SecretStr | None], ...] = (
    lambda settings: settings.telegram_token,
    lambda settings: settings.telegram_webhook_secret,
    lambda settings: settings.smtp_password,
    lambda settings: _database_password(settings.database_url),
)
"""Every kind of secret the settings hold, one line each (an API token setting gets its line here)."""

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # the token of a Bot API path, whatever its length: /bot123:abc/getMe, also with the colon %-encoded
    (re.compile(r"(/bot\d+(?::|%3A))[^/\s?#'\"]+", re.IGNORECASE), r"\1" + MASK),
    # a Telegram token anywhere: the bot id stays readable, the secret after the colon does not
    (re.compile(r"(\d{6,}(?::|%3A))[A-Za-z0-9_-]{30,}", re.IGNORECASE), r"\1" + MASK),
    # a password in a URL: postgresql://user:password@host, smtp://user:password@host
    (re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+(@)"), r"\1" + MASK + r"\2"),
)


class SecretRegistry:
    """The secrets the service knows; thread-safe, as bots and the dispatcher register from worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def register(self, *secrets: str | SecretStr | None) -> None:
        """Remembers each given secret (None and empty values are skipped), with its URL-encoded forms."""
        added = set()
        for secret in secrets:
            value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
            for form in _forms(value or ""):
                if len(form) >= MIN_SECRET_LENGTH:
                    added.add(form)
        with self._lock:
            if added - self._secrets:
                self._secrets |= added
                self._pattern = None

    def pattern(self) -> re.Pattern[str] | None:
        """One pattern matching any known secret, the longest first (None while none is known)."""
        with self._lock:
            if self._pattern is None and self._secrets:
                ordered = sorted(self._secrets, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(secret) for secret in ordered))
            return self._pattern


SECRETS = SecretRegistry()


def register_secrets(*secrets: str | SecretStr | None) -> None:
    """Tells the redaction about secrets (a bot token read from the directory, a password)."""
    SECRETS.register(*secrets)


def register_settings(settings: Settings) -> None:
    """Registers every secret the settings hold (see :data:`SETTINGS_SECRETS`)."""
    SECRETS.register(*(secret_of(settings) for secret_of in SETTINGS_SECRETS))


def redact(text: str) -> str:
    """``text`` with every known secret and every secret-shaped value replaced by ``***``."""
    known = SECRETS.pattern()
    if known is not None:
        text = known.sub(MASK, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _forms(secret: str) -> Iterable[str]:
    """The secret as it may appear: itself, its part after a token's colon, and their URL-encoded forms."""
    secret = secret.strip()
    if not secret:
        return ()
    forms = {secret}
    if ":" in secret and secret.split(":", 1)[0].isdigit():
        forms.add(secret.split(":", 1)[1])  # the secret half of a bot token; its id is public
    return forms | {quote(form, safe="") for form in forms} | {quote(form) for form in forms}


def _database_password(url: str) -> str | None:
    try:
        return make_url(url).password
    except (ArgumentError, ValueError):
        return None


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message (after its arguments are merged in, so a secret split between the
    format and an argument is caught too), its exception text and its stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrites the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: shown as it is, masked
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_log_redaction() -> None:
    """Puts a :class:`RedactingFilter` on every handler of the root logger and on logging's last resort (which
    prints when no handler is set up, as in most commands), once each; routes warnings through logging, and masks
    the traceback of an exception nothing caught."""
    handlers = [*logging.getLogger().handlers, *([logging.lastResort] if logging.lastResort else [])]
    for handler in handlers:
        if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
            handler.addFilter(RedactingFilter())
    logging.captureWarnings(True)
    sys.excepthook = _redacted_excepthook


def _redacted_excepthook(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:  # pragma: no cover - runs only when a process dies of an uncaught exception
    sys.stderr.write(redact("".join(traceback.format_exception(kind, error, trace))))
