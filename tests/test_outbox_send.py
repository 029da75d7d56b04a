"""Sending through ``outbox.send.Outbox`` against a real SMTP server (aiosmtpd) on 127.0.0.1.

The server stores every envelope it accepts; tests check that a message arrives exactly once
with the right envelope and content, and that every failure comes back as a result.
"""

from __future__ import annotations

import email
import logging
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from outbox import compose
from outbox.send import Outbox, PasswordMissing, SentResult, SmtpSettings

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

CST = timezone(timedelta(hours=8))
OFFICE = "衡阳县禁毒办"
OFFICE_ADDRESS = "hyxjdb@qq.com"
PASSWORD_ENV = "OUTBOX_TEST_SMTP_PASSWORD"
PASSWORD = "abcdefghijklmnop"  # the shape of a QQ 授权码
DEADLINE = datetime(2020, 12, 31, 23, 59, 59, tzinfo=CST)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Recorder:
    """An aiosmtpd handler that stores what it accepts and misbehaves on request."""

    received: list[dict] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    drop_mail: int = 0  # hang up on the next N MAIL FROM commands
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.drop_mail:
            self.drop_mail -= 1
            server.transport.close()
            return "421 4.3.0 closing connection"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "data": envelope.original_content or envelope.content,
                "session": id(session),
                "login": session.auth_data if session.authenticated else None,
            }
        )
        return "250 2.0.0 queued"

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        ok = login == OFFICE_ADDRESS and password == PASSWORD
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)


@dataclass
class Server:
    recorder: Recorder
    port: int
    options: dict
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(
            self.recorder, hostname="127.0.0.1", port=self.port, **self.options
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def restart(self) -> None:
        """A new server on the same port: every open connection is gone."""
        self.stop()
        self.start()

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(item["data"], policy=policy.default)
            for item in self.recorder.received
        ]


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    if not shutil.which("openssl"):
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is not installed", pytrace=False)
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., Server]]:
    """Factory: ``smtp_server(auth=False, implicit_tls=None, starttls=None)``; stopped after."""
    started: list[Server] = []

    def start(
        *,
        auth: bool = False,
        implicit_tls: ssl.SSLContext | None = None,
        starttls: ssl.SSLContext | None = None,
    ) -> Server:
        recorder = Recorder()
        port = free_port()
        kwargs: dict = {}
        if auth:
            kwargs.update(
                authenticator=recorder.authenticator, auth_required=True, auth_require_tls=False
            )
        if implicit_tls is not None:
            kwargs["ssl_context"] = implicit_tls
        if starttls is not None:
            kwargs.update(tls_context=starttls, require_starttls=True)
        server = Server(recorder, port, kwargs)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    return context


def settings(port: int, **overrides) -> SmtpSettings:
    values = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "password_env": PASSWORD_ENV,
        "timeout_s": 5,
    }
    values.update(overrides)
    return SmtpSettings(**values)


def a_receipt(to: str = "xidu@qq.com", subject: str = "西渡镇 年终材料（第一批）") -> EmailMessage:
    return compose.receipt(
        office=OFFICE,
        office_address=OFFICE_ADDRESS,
        to=to,
        unit="西渡镇",
        subject=subject,
        message_id="tencent_ABC@qq.com",
        received_at=datetime(2020, 12, 28, 10, 12, tzinfo=CST),
        files=[("活动照片.jpg", "photo"), ("工作总结.docx", "report")],
        unit_counts={"photos": 1, "reports": 1},
        missing=["deeds", "video"],
        deadline=DEADLINE,
        late=False,
    )


def a_digest(to: list[str]) -> EmailMessage:
    return compose.digest(
        office=OFFICE,
        office_address=OFFICE_ADDRESS,
        to=to,
        now=datetime(2020, 12, 28, 18, 0, tzinfo=CST),
        deadline=DEADLINE,
        new_messages=3,
        new_units=["西渡镇"],
        review_count=1,
        missing_units=["金兰镇"],
        incomplete_units=[],
    )


# ------------------------------------------------------------------------------------------
# sending
# ------------------------------------------------------------------------------------------


def test_a_receipt_arrives_once_with_envelope_and_content(smtp_server, tmp_path):
    server = smtp_server()
    with Outbox(settings(server.port), tmp_path / "outbox", dry_run=False) as outbox:
        result = outbox.send(a_receipt())
    assert result == SentResult("sent")
    assert len(server.recorder.received) == 1
    item = server.recorder.received[0]
    assert item["mail_from"] == OFFICE_ADDRESS
    assert item["rcpt_tos"] == ["xidu@qq.com"]
    [message] = server.messages()
    assert message["Subject"] == "回执：西渡镇 年终材料（第一批）"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["In-Reply-To"] == "<tencent_ABC@qq.com>"
    assert message["X-Loop"] == OFFICE_ADDRESS
    assert "尚缺材料：事迹材料、视频资料" in message.get_content()
    assert not (tmp_path / "outbox").exists()  # nothing written when really sending


def test_one_connection_for_a_batch(smtp_server, tmp_path):
    server = smtp_server()
    with Outbox(settings(server.port), tmp_path, dry_run=False) as outbox:
        results = [outbox.send(a_receipt(to=f"unit{i}@qq.com")) for i in range(3)]
        results.append(outbox.send(a_digest(["staff1@qq.com", "staff2@qq.com"])))
    assert [r.status for r in results] == ["sent"] * 4
    received = server.recorder.received
    assert len({item["session"] for item in received}) == 1
    assert [item["rcpt_tos"] for item in received] == [
        ["unit0@qq.com"],
        ["unit1@qq.com"],
        ["unit2@qq.com"],
        ["staff1@qq.com", "staff2@qq.com"],
    ]


def test_login_when_a_username_is_set(smtp_server, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    server = smtp_server(auth=True)
    caplog.set_level(logging.DEBUG, logger="outbox")
    with Outbox(settings(server.port, username=OFFICE_ADDRESS), tmp_path, dry_run=False) as box:
        assert box.send(a_receipt()).status == "sent"
    assert server.recorder.received[0]["login"] == OFFICE_ADDRESS
    assert PASSWORD not in caplog.text


def test_a_server_requiring_auth_refuses_anonymous_mail(smtp_server, tmp_path):
    server = smtp_server(auth=True)
    with Outbox(settings(server.port), tmp_path, dry_run=False) as outbox:
        result = outbox.send(a_receipt())
    assert result.status == "failed"
    assert "530" in result.error
    assert server.recorder.received == []


def test_a_wrong_password_fails_once_and_then_fast(smtp_server, tmp_path, monkeypatch):
    """GIVEN a wrong 授权码 WHEN a batch is sent THEN one login attempt, every send failed."""
    monkeypatch.setenv(PASSWORD_ENV, "wrong-password")
    server = smtp_server(auth=True)
    with Outbox(settings(server.port, username=OFFICE_ADDRESS), tmp_path, dry_run=False) as box:
        results = [box.send(a_receipt())]
        attempts = len(server.recorder.logins)  # smtplib tries each mechanism (PLAIN, LOGIN)
        results += [box.send(a_receipt()) for _ in range(2)]
    assert [r.status for r in results] == ["failed"] * 3
    assert "SMTP 登录失败" in results[0].error and OFFICE_ADDRESS in results[0].error
    assert "wrong-password" not in results[0].error
    assert results[1].error == results[0].error
    assert 1 <= attempts <= 2 and len(server.recorder.logins) == attempts
    assert server.recorder.received == []


def test_an_unset_password_variable_is_a_clear_error(smtp_server, tmp_path, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    server = smtp_server(auth=True)
    outbox = Outbox(settings(server.port, username=OFFICE_ADDRESS), tmp_path, dry_run=False)
    with outbox, pytest.raises(PasswordMissing, match=PASSWORD_ENV) as caught:
        outbox.send(a_receipt())
    assert "SMTP 授权码" in str(caught.value)
    assert server.recorder.received == []


def test_the_password_is_not_needed_without_a_username_or_in_dry_run(tmp_path, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    outbox = Outbox(settings(free_port(), username=OFFICE_ADDRESS), tmp_path, dry_run=True)
    with outbox:
        assert outbox.send(a_receipt()).status == "dry_run"


def test_a_server_that_is_down_gives_failed_not_an_exception(tmp_path):
    port = free_port()  # nothing listens there
    started = time.monotonic()
    with Outbox(settings(port), tmp_path, dry_run=False) as outbox:
        first = outbox.send(a_receipt())
        second = outbox.send(a_receipt())
    assert first.status == "failed" and second.status == "failed"
    assert f"127.0.0.1:{port}" in first.error
    assert "无法连接" in first.error and "cannot connect" in first.error
    assert time.monotonic() - started < 5


def test_one_reconnect_after_the_server_hung_up_between_messages(smtp_server, tmp_path):
    server = smtp_server()
    with Outbox(settings(server.port), tmp_path, dry_run=False) as outbox:
        assert outbox.send(a_receipt(to="a@qq.com")).status == "sent"
        server.restart()  # every open connection is gone
        assert outbox.send(a_receipt(to="b@qq.com")).status == "sent"
    assert [item["rcpt_tos"] for item in server.recorder.received] == [["a@qq.com"], ["b@qq.com"]]


def test_a_connection_dropped_mid_transaction_is_retried_once(smtp_server, tmp_path):
    server = smtp_server()
    server.recorder.drop_mail = 1
    with Outbox(settings(server.port), tmp_path, dry_run=False) as outbox:
        result = outbox.send(a_receipt())
    assert result.status == "sent"
    assert len(server.recorder.received) == 1


def test_a_connection_that_keeps_dropping_fails_after_one_retry(smtp_server, tmp_path):
    server = smtp_server()
    server.recorder.drop_mail = 5
    with Outbox(settings(server.port), tmp_path, dry_run=False) as outbox:
        result = outbox.send(a_receipt())
    assert result.status == "failed"
    assert "连接中断" in result.error
    assert server.recorder.drop_mail == 3  # two attempts, no more
    assert server.recorder.received == []


def test_refused_recipients_are_reported(smtp_server, tmp_path):
    server = smtp_server()
    server.recorder.refuse = {"gone@qq.com"}
    with Outbox(settings(server.port), tmp_path, dry_run=False) as outbox:
        refused = outbox.send(a_receipt(to="gone@qq.com"))
        partial = outbox.send(a_digest(["staff@qq.com", "gone@qq.com"]))
        after = outbox.send(a_receipt(to="ok@qq.com"))  # the session is still usable
    assert refused.status == "failed"
    assert "gone@qq.com" in refused.error and "550" in refused.error
    assert partial.status == "sent" and partial.refused == ("gone@qq.com",)
    assert "gone@qq.com" in partial.error
    assert after.status == "sent"
    assert [item["rcpt_tos"] for item in server.recorder.received] == [
        ["staff@qq.com"],
        ["ok@qq.com"],
    ]


def test_a_message_without_recipients_fails(tmp_path):
    message = a_receipt()
    del message["To"]
    with Outbox(settings(free_port()), tmp_path, dry_run=True) as outbox:
        result = outbox.send(message)
    assert result.status == "failed" and "收件人" in result.error


# ------------------------------------------------------------------------------------------
# TLS
# ------------------------------------------------------------------------------------------


def test_implicit_tls(smtp_server, certificate, tmp_path, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    server = smtp_server(auth=True, implicit_tls=server_context(certificate))
    config = settings(server.port, security="ssl", username=OFFICE_ADDRESS, verify_tls=False)
    with Outbox(config, tmp_path, dry_run=False) as outbox:
        assert outbox.send(a_receipt()).status == "sent"
    assert len(server.recorder.received) == 1


def test_an_untrusted_certificate_is_refused_when_verifying(smtp_server, certificate, tmp_path):
    server = smtp_server(implicit_tls=server_context(certificate))
    config = settings(server.port, security="ssl", verify_tls=True)
    with Outbox(config, tmp_path, dry_run=False) as outbox:
        result = outbox.send(a_receipt())
    assert result.status == "failed"
    assert "证书" in result.error
    assert server.recorder.received == []


def test_starttls(smtp_server, certificate, tmp_path, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    server = smtp_server(auth=True, starttls=server_context(certificate))
    config = settings(server.port, security="starttls", username=OFFICE_ADDRESS, verify_tls=False)
    with Outbox(config, tmp_path, dry_run=False) as outbox:
        assert outbox.send(a_receipt()).status == "sent"
    assert server.recorder.received[0]["login"] == OFFICE_ADDRESS


# ------------------------------------------------------------------------------------------
# dry run
# ------------------------------------------------------------------------------------------


def test_dry_run_writes_eml_files_and_sends_nothing(smtp_server, tmp_path):
    server = smtp_server()
    folder = tmp_path / "outbox" / "pending"
    with Outbox(settings(server.port), folder, dry_run=True) as outbox:
        first = outbox.send(a_receipt(subject="西渡镇/年终材料：第一批 ../..\\x"))
        again = outbox.send(a_receipt(subject="西渡镇/年终材料：第一批 ../..\\x"))
        other = outbox.send(a_digest(["staff@qq.com"]))
    assert server.recorder.received == []
    assert first.status == "dry_run" and first.error == ""
    assert first.path is not None and first.path.parent == folder
    assert again.path != first.path  # a new Message-ID each time
    assert other.path is not None
    names = sorted(path.name for path in folder.iterdir())
    assert names == sorted(p.name for p in (first.path, again.path, other.path))
    assert not any(name.startswith(".tmp-") for name in names)
    # <sending date>-<subject slug>-<hash of the Message-ID>.eml; nothing path-like survives
    assert re.fullmatch(
        r"\d{8}-\d{6}-回执-西渡镇-年终材料-第一批-x-[0-9a-f]{12}\.eml", first.path.name
    )
    data = first.path.read_bytes()
    assert b"\r\n" in data and all(byte < 128 for byte in data)
    message = email.message_from_bytes(data, policy=policy.default)
    assert message["Subject"] == "回执：西渡镇/年终材料：第一批 ../..\\x"
    assert message["Auto-Submitted"] == "auto-replied"


def test_dry_run_file_name_is_stable_for_one_message(tmp_path):
    message = a_receipt()
    with Outbox(settings(free_port()), tmp_path, dry_run=True) as outbox:
        first = outbox.send(message)
        second = outbox.send(message)
    assert first.path == second.path
    assert [path.name for path in tmp_path.iterdir()] == [first.path.name]


def test_dry_run_into_an_unwritable_place_fails_cleanly(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with Outbox(settings(free_port()), blocker / "outbox", dry_run=True) as outbox:
        result = outbox.send(a_receipt())
    assert result.status == "failed" and "无法写入" in result.error


# ------------------------------------------------------------------------------------------
# settings
# ------------------------------------------------------------------------------------------


def test_settings_defaults_are_qq_mail():
    default = SmtpSettings()
    assert (default.host, default.port, default.security) == ("smtp.qq.com", 465, "ssl")
    assert default.password_env == "INTAKE_SMTP_PASSWORD"
    assert default.verify_tls and default.timeout_s == 30


@pytest.mark.parametrize(
    "bad", [{"security": "tls"}, {"port": 0}, {"port": 70000}, {"timeout_s": 0}]
)
def test_settings_are_validated(bad):
    with pytest.raises(ValueError):
        SmtpSettings(**bad)
