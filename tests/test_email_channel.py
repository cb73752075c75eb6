"""The e-mail channel against a real SMTP server (aiosmtpd) in each security mode: what arrives, what fails how."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr

from signal_ext.channels.base import DeliveryStatus, OutgoingAttachment, OutgoingMessage
from signal_ext.channels.email import EmailChannel, SmtpConfig, render_body
from signal_ext.settings import Settings

USER, PASSWORD = "signal", "Corr3ct-Horse"
PDF = b"%PDF-1.4\n" + bytes(range(256)) + b"\r\n.\r\n..\n%%EOF"
BODY = (
    'Вам поставлена новая задача: <a href="https://signal.example/tasks/7">Согласование договора</a>\n'
    "Срок: 01.12.2026 12:00\n"
    "<b><u>Важно! Обратите внимание на срок выполнения</u></b>\n"
    "Условие: a &lt; b &amp; c"
)
MESSAGE = OutgoingMessage(
    message_id=42,
    address="petrova@example.com",
    body=BODY,
    subject="Вам поставлена новая задача",
    recipient_name="Петрова Мария Сергеевна",
    attachments=(OutgoingAttachment("договор.pdf", PDF, "application/pdf"),),
)


@dataclass
class Received:
    envelope: Envelope
    tls: bool
    authenticated: bool

    @property
    def message(self) -> EmailMessage:
        assert isinstance(self.envelope.content, bytes)
        parsed = message_from_bytes(self.envelope.content, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class Recorder:
    """An aiosmtpd handler that keeps what it accepted and can answer RCPT or DATA with a given reply."""

    def __init__(self, rcpt_reply: str | None = None, data_reply: str | None = None) -> None:
        self.rcpt_reply, self.data_reply = rcpt_reply, data_reply
        self.received: list[Received] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        tls = server.transport is not None and server.transport.get_extra_info("ssl_object") is not None
        self.received.append(Received(envelope, tls, bool(session.authenticated)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A port nothing listens on (the kernel just handed it out and it was closed again)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server(Controller):
    """A controller that counts the connections it accepts."""

    connections = 0

    def factory(self) -> SMTP:
        self.connections += 1
        return SMTP(self.handler, **self.SMTP_kwargs)


def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost, made with the openssl binary."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl binary is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
            *("-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def server_tls(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*tls_files)
    return context


@pytest.fixture
def client_tls(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    """Trusts only the test certificate, so the client really verifies the server."""
    return ssl.create_default_context(cafile=str(tls_files[0]))


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    """Starts an SMTP server on 127.0.0.1 with the given handler and aiosmtpd options; stops them all after."""
    servers: list[Server] = []

    def start(handler: Recorder, **options: Any) -> Server:
        server = Server(handler, hostname="127.0.0.1", port=free_port(), server_hostname="localhost", **options)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def config_for(server: Server, **changes: Any) -> SmtpConfig:
    return replace(SmtpConfig(host="127.0.0.1", port=server.port, sender="Сигнал <signal@example.com>"), **changes)


@pytest.mark.parametrize("security", ["none", "starttls", "ssl"])
def test_a_message_arrives_as_the_user_sees_it(
    security: str,
    start_server: Callable[..., Server],
    server_tls: ssl.SSLContext,
    client_tls: ssl.SSLContext,
) -> None:
    handler = Recorder()
    modes: dict[str, dict[str, Any]] = {
        "none": {},
        "starttls": {"tls_context": server_tls, "require_starttls": True},
        "ssl": {"ssl_context": server_tls},
    }
    server = start_server(handler, **modes[security])
    channel = EmailChannel(config_for(server, security=security, ssl_context=client_tls))

    result = asyncio.run(channel.send(MESSAGE))

    assert result.status is DeliveryStatus.SENT, result.error
    [received] = handler.received
    assert received.tls is (security != "none")
    assert received.envelope.mail_from == "signal@example.com"
    assert received.envelope.rcpt_tos == ["petrova@example.com"]
    assert isinstance(received.envelope.content, bytes)
    headers = received.envelope.content.split(b"\r\n\r\n", 1)[0]
    assert headers.isascii(), "Cyrillic headers must be MIME-encoded"

    mail = received.message
    assert mail["Subject"] == "Вам поставлена новая задача"
    [to] = mail["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Петрова Мария Сергеевна", "petrova@example.com")
    [sender] = mail["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Сигнал", "signal@example.com")
    message_id = str(mail["Message-ID"])
    assert result.external_id == message_id
    assert message_id.startswith("<signal-42.") and message_id.endswith("@example.com>")

    html_part, text_part = mail.get_body(("html",)), mail.get_body(("plain",))
    assert html_part is not None and text_part is not None
    page, text = html_part.get_content(), text_part.get_content()
    assert "<b><u>Важно! Обратите внимание на срок выполнения</u></b>" in page
    assert '<a href="https://signal.example/tasks/7">Согласование договора</a>' in page
    assert "a &lt; b &amp; c" in page and "<br>" in page
    assert "Важно! Обратите внимание на срок выполнения" in text
    assert "Условие: a < b & c" in text
    assert "Согласование договора (https://signal.example/tasks/7)" in text
    assert "<" not in text.replace("a < b", "")

    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "договор.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


def test_an_untrusted_certificate_is_a_retry_with_a_tls_error(
    start_server: Callable[..., Server], server_tls: ssl.SSLContext
) -> None:
    handler = Recorder()
    server = start_server(handler, ssl_context=server_tls)

    result = asyncio.run(EmailChannel(config_for(server, security="ssl")).send(MESSAGE))  # system trust store

    assert result.status is DeliveryStatus.RETRY
    assert result.error is not None and "TLS" in result.error and "CERTIFICATE_VERIFY_FAILED" in result.error
    assert handler.received == []


def test_login_is_used_when_a_user_is_set(start_server: Callable[..., Server]) -> None:
    handler = Recorder()
    server = start_server(handler, authenticator=authenticate, auth_require_tls=False)

    result = asyncio.run(EmailChannel(config_for(server, user=USER, password=PASSWORD)).send(MESSAGE))

    assert result.status is DeliveryStatus.SENT, result.error
    assert [received.authenticated for received in handler.received] == [True]


def test_a_wrong_password_fails_without_revealing_it(
    start_server: Callable[..., Server], caplog: pytest.LogCaptureFixture
) -> None:
    handler = Recorder()
    server = start_server(handler, authenticator=authenticate, auth_require_tls=False)
    config = config_for(server, user=USER, password="Wr0ng-Pa55word")

    result = asyncio.run(EmailChannel(config).send(MESSAGE))

    assert result.status is DeliveryStatus.FAILED
    assert result.error == "SMTP: неверный логин или пароль"
    assert "Wr0ng-Pa55word" not in caplog.text and "Wr0ng-Pa55word" not in repr(config)
    assert handler.received == []


@pytest.mark.parametrize(
    "address", ["", "   ", "petrova", "petrova@", "@example.com", "a@b.ru, c@d.ru", "a@b.ru\nBcc: x@y.ru"]
)
def test_a_bad_address_fails_without_connecting(address: str, start_server: Callable[..., Server]) -> None:
    handler = Recorder()
    server = start_server(handler)
    before = server.connections

    result = asyncio.run(EmailChannel(config_for(server)).send(replace(MESSAGE, address=address)))

    assert result.status is DeliveryStatus.FAILED
    assert result.error is not None and "адрес" in result.error
    assert server.connections == before
    assert handler.received == []


@pytest.mark.parametrize(
    ("refusal", "status"),
    [
        ({"rcpt_reply": "550 5.1.1 No such user here"}, DeliveryStatus.FAILED),
        ({"rcpt_reply": "451 4.3.0 Try again later"}, DeliveryStatus.RETRY),
        ({"data_reply": "554 5.6.0 Message rejected"}, DeliveryStatus.FAILED),
        ({"data_reply": "452 4.3.1 Insufficient system storage"}, DeliveryStatus.RETRY),
    ],
)
def test_server_refusals_are_classified_by_their_code(
    refusal: dict[str, str], status: DeliveryStatus, start_server: Callable[..., Server]
) -> None:
    server = start_server(Recorder(**refusal))

    result = asyncio.run(EmailChannel(config_for(server)).send(MESSAGE))

    assert result.status is status
    reply = next(iter(refusal.values()))
    assert result.error is not None and reply in result.error


def test_nothing_listening_is_a_retry_with_a_clear_error() -> None:
    channel = EmailChannel(SmtpConfig(host="127.0.0.1", port=free_port(), timeout=5))

    result = asyncio.run(channel.send(MESSAGE))

    assert result.status is DeliveryStatus.RETRY
    assert result.error == "SMTP недоступен: Connection refused"


def test_a_silent_server_is_a_retry_after_the_timeout() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        config = SmtpConfig(host="127.0.0.1", port=listener.getsockname()[1], timeout=0.3)
        result = asyncio.run(EmailChannel(config).send(MESSAGE))

    assert result.status is DeliveryStatus.RETRY
    assert result.error is not None and "не ответил" in result.error


def test_config_from_settings_keeps_the_password_out_of_its_repr() -> None:
    settings = Settings(
        smtp_host="mail.example.com",
        smtp_port=587,
        smtp_security="starttls",
        smtp_user="robot",
        smtp_password=SecretStr("s3cr3t"),
        smtp_from="robot@example.com",
        smtp_timeout=10,
    )

    config = SmtpConfig.from_settings(settings)

    assert config == SmtpConfig("mail.example.com", 587, "starttls", "robot", "s3cr3t", "robot@example.com", 10)
    assert "s3cr3t" not in repr(config)
    assert SmtpConfig.from_settings(Settings(smtp_password=None)).password is None


def test_body_conversion_keeps_pre_blocks_and_stray_angle_brackets() -> None:
    text, page = render_body("x < y\n<pre>line 1\nline 2</pre>\n<i>конец</i> <span class='tg-spoiler'>тайна</span>")

    assert text == "x < y\nline 1\nline 2\nконец тайна"
    assert "x &lt; y<br>" in page
    assert "<pre>line 1\nline 2</pre>" in page
    assert "<i>конец</i> тайна" in page
