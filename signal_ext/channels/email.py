"""The e-mail channel: one SMTP connection per message, HTML plus plain text, process attachments."""

from __future__ import annotations

import asyncio
import html
import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass, field
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr
from html.parser import HTMLParser
from typing import Literal

from signal_ext.channels.base import DeliveryResult, OutgoingMessage
from signal_ext.settings import Settings

log = logging.getLogger(__name__)

_KEPT_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote"}
_HTML_PAGE = '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n<body>{}</body></html>\n'


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send mail; ``ssl_context`` overrides the system trust store (tests, private CAs)."""

    host: str = "localhost"
    port: int = 25
    security: Literal["none", "starttls", "ssl"] = "none"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "signal@localhost"
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        """The ``SIGNAL_SMTP_*`` settings as a config."""
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            user=settings.smtp_user or None,
            password=password,
            sender=settings.smtp_from,
            timeout=settings.smtp_timeout,
        )


class _TelegramHtml(HTMLParser):
    """Reads Telegram-subset HTML once into a clean HTML fragment and its plain-text reading."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.html: list[str] = []
        self.text: list[str] = []
        self._pre = 0
        self._links: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.handle_data("\n")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self._links.append((href, len(self.text)))
            self.html.append(f'<a href="{html.escape(href)}">' if href else "<a>")
        elif tag in _KEPT_TAGS:
            if tag == "pre":
                self._pre += 1
            self.html.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._links:
            href, start = self._links.pop()
            if href and "".join(self.text[start:]).strip() != href:
                self.text.append(f" ({href})")
        if tag in _KEPT_TAGS:
            if tag == "pre":
                self._pre = max(self._pre - 1, 0)
            self.html.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        escaped = html.escape(data, quote=False)
        self.html.append(escaped if self._pre else escaped.replace("\n", "<br>\n"))


def render_body(body: str) -> tuple[str, str]:
    """Telegram-subset HTML → (plain text, a complete HTML document) for the two parts of a mail."""
    parser = _TelegramHtml()
    parser.feed(body)
    parser.close()
    return "".join(parser.text), _HTML_PAGE.format("".join(parser.html))


def _recipient(address: str, name: str) -> Address | None:
    """The recipient as a header address (IDN domain in punycode), or None when the address is unusable."""
    try:
        parsed = Address(addr_spec=address.strip())
        if not parsed.username or not parsed.domain:
            return None
        domain = parsed.domain if parsed.domain.isascii() else parsed.domain.encode("idna").decode("ascii")
        return Address(display_name=" ".join(name.split()), username=parsed.username, domain=domain)
    except (MessageError, ValueError, IndexError):
        return None


def _decode(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


class EmailChannel:
    """Sends an :class:`OutgoingMessage` by SMTP; ``message.address`` is the recipient's e-mail address."""

    name = "email"

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def build(self, message: OutgoingMessage, recipient: Address) -> EmailMessage:
        """The MIME message: text and HTML alternatives, the attachments, a Message-ID with the outbox id."""
        sender = parseaddr(self.config.sender)[1]
        domain = sender.rpartition("@")[2] or "localhost"
        mail = EmailMessage()
        mail["From"] = self.config.sender
        mail["To"] = recipient
        mail["Subject"] = " ".join(message.subject.split())
        mail["Message-ID"] = f"<signal-{message.message_id}.{uuid.uuid4().hex}@{domain}>"
        text, page = render_body(message.body)
        mail.set_content(text, cte="base64")
        mail.add_alternative(page, subtype="html", cte="base64")
        for attachment in message.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            if not subtype or maintype in ("multipart", "message"):
                maintype, subtype = "application", "octet-stream"
            mail.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
        return mail

    def parts(self, message: OutgoingMessage) -> int:
        """A mail carries its text and attachments together: one part."""
        return 1

    async def send_part(self, message: OutgoingMessage, part: int) -> DeliveryResult:
        """The whole mail: it has one part."""
        return await self.send(message)

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        """Delivers ``message`` once; reports bad addresses, refusals and outages in the result, never raises."""
        recipient = _recipient(message.address, message.recipient_name)
        if recipient is None:
            return self._failed(f"Некорректный адрес e-mail: «{message.address}»")
        try:
            mail = self.build(message, recipient)
        except (MessageError, ValueError, TypeError) as error:
            return self._failed(f"Не удалось собрать письмо: {error}")
        try:
            await asyncio.to_thread(self._deliver, mail, recipient.addr_spec)
        except Exception as error:  # classified below; anything unknown is worth another try
            result = self._classify(error)
            log.warning("e-mail for outbox message %s not sent: %s", message.message_id, result.error)
            return result
        return DeliveryResult.sent(str(mail["Message-ID"]))

    def _deliver(self, mail: EmailMessage, to_address: str) -> None:
        config = self.config
        context = config.ssl_context or (ssl.create_default_context() if config.security != "none" else None)
        if config.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        try:
            if config.security == "starttls":
                smtp.starttls(context=context)
            if config.user:
                smtp.login(config.user, config.password or "")
            smtp.send_message(mail, from_addr=parseaddr(config.sender)[1], to_addrs=[to_address])
        except BaseException:
            smtp.close()
            raise
        try:  # the server has the message: a failed QUIT must not turn into a retry and a second copy
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _classify(self, error: Exception) -> DeliveryResult:
        code: int | None = None
        if isinstance(error, smtplib.SMTPAuthenticationError):
            return DeliveryResult.failed("SMTP: неверный логин или пароль")
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            code, reply = max(error.recipients.values(), default=(0, b""))
            text = f"SMTP отклонил получателя: {code} {_decode(reply)}"
        elif isinstance(error, smtplib.SMTPResponseException):
            code = error.smtp_code
            text = f"SMTP ответил ошибкой: {code} {_decode(error.smtp_error)}"
        elif isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
            text = f"SMTP не ответил за {self.config.timeout:g} с"
        elif isinstance(error, smtplib.SMTPServerDisconnected):
            text = f"SMTP разорвал соединение: {error}"
        elif isinstance(error, smtplib.SMTPNotSupportedError):
            return self._failed(f"SMTP-сервер не поддерживает: {error}")
        elif isinstance(error, UnicodeEncodeError):  # e.g. smtplib's AUTH takes only ASCII
            return self._failed("SMTP: символы не из ASCII в логине, пароле или адресе отправителя")
        elif isinstance(error, ssl.SSLError):
            detail = f" ({error.verify_message})" if isinstance(error, ssl.SSLCertVerificationError) else ""
            text = f"SMTP: ошибка TLS: {error.reason or error}{detail}"
        elif isinstance(error, OSError):
            text = f"SMTP недоступен: {error.strerror or error}"
        else:
            text = f"SMTP: {type(error).__name__}: {error}"
        return self._failed(text) if code is not None and code >= 500 else DeliveryResult.retry(self._clean(text))

    def _failed(self, text: str) -> DeliveryResult:
        return DeliveryResult.failed(self._clean(text))

    def _clean(self, text: str) -> str:
        """Short, one line, and never the password (a server might echo it back)."""
        if self.config.password:
            text = text.replace(self.config.password, "***")
        return " ".join(text.split())[:300]
