"""Sending the office's mail over SMTP, or writing it to a folder in dry-run mode.

``Outbox`` owns one SMTP session, opened lazily on the first ``send`` and closed by the context
manager, always with socket timeouts. ``send`` never raises for mail that could not go out
(server down, login refused, recipients refused, connection dropped): it returns a
``SentResult`` with status ``failed`` and a one-line Chinese/English error. A connection found
dropped is re-opened once per message. The only exception is ``PasswordMissing``, a
configuration error: the password environment variable is read when connecting, never logged.
"""

from __future__ import annotations

import hashlib
import logging
import os
import smtplib
import ssl
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from types import TracebackType

from portable.atomic import write_bytes_atomic
from portable.names import safe_component

__all__ = ["Outbox", "OutboxError", "PasswordMissing", "SentResult", "SmtpSettings", "eml_name"]

log = logging.getLogger(__name__)

SECURITY_MODES = ("ssl", "starttls", "none")


class OutboxError(Exception):
    """Base of this package's exceptions."""


class PasswordMissing(OutboxError):
    """The environment variable that should hold the SMTP password (授权码) is not set."""


class _ConnectFailed(OutboxError):
    """No usable SMTP session (unreachable, TLS, login); the text is the user-facing error."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send. ``password_env`` is the NAME of an environment variable."""

    host: str = "smtp.qq.com"
    port: int = 465
    security: str = "ssl"  # ssl (implicit TLS, QQ: 465) | starttls (587) | none
    username: str = ""  # log in only when set; QQ: the full mailbox address
    password_env: str = "INTAKE_SMTP_PASSWORD"
    timeout_s: float = 30
    verify_tls: bool = True

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ValueError(f"security must be one of {', '.join(SECURITY_MODES)}")
        if not 0 < self.port < 65536:
            raise ValueError("port must be between 1 and 65535")
        if self.timeout_s <= 0:
            raise ValueError("timeout_s must be positive")


@dataclass(frozen=True)
class SentResult:
    """What became of one message."""

    status: str  # "sent" | "dry_run" | "failed"
    path: Path | None = None  # the .eml written in dry-run mode
    error: str = ""  # why it failed; for "sent", the recipients some were refused
    refused: tuple[str, ...] = ()  # recipients the server refused while it accepted others

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def _recipients(message: EmailMessage) -> list[str]:
    fields = [str(value) for name in ("To", "Cc", "Bcc") for value in message.get_all(name, [])]
    return [address for _, address in getaddresses(fields) if address]


def _slug(text: str, limit: int = 40) -> str:
    """A file-name-safe slug: letters and digits (Chinese included) kept, the rest '-'."""
    text = unicodedata.normalize("NFKC", text)
    slug = "".join(char if char.isalnum() else "-" for char in text)
    slug = "-".join(part for part in slug.split("-") if part)
    return slug[:limit].strip("-") or "mail"


def _stamp(message: EmailMessage) -> str:
    try:
        moment = parsedate_to_datetime(str(message["Date"]))
    except (TypeError, ValueError, IndexError):
        moment = datetime.now()
    return moment.strftime("%Y%m%d-%H%M%S")


def eml_name(message: EmailMessage, data: bytes) -> str:
    """``<date>-<subject slug>-<hash of the Message-ID>.eml``; stable for the same message."""
    key = str(message["Message-ID"] or "").encode("utf-8", "replace") or data
    digest = hashlib.sha256(key).hexdigest()[:12]
    name = f"{_stamp(message)}-{_slug(str(message['Subject'] or ''))}-{digest}.eml"
    return safe_component(name)  # the one sanitiser of stored names (NTFS rules)


def _is_drop(exc: BaseException) -> bool:
    """A connection lost mid-session (worth one reconnect), not a timeout or a refusal."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code == 421:
        return True  # "service not available, closing channel"
    if isinstance(exc, TimeoutError):
        return False  # the server may have taken the message; resending could duplicate it
    return isinstance(exc, (ConnectionError, EOFError))


def _refused_text(refused: dict[str, tuple[int, bytes]]) -> str:
    parts = []
    for address, (code, reply) in refused.items():
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        parts.append(f"{address} ({code} {text})")
    return "; ".join(parts)


class Outbox:
    """One SMTP session for a batch of messages, or a folder of .eml files in dry-run mode.

    Use as a context manager; the connection opens on the first real send. After a failure to
    connect or log in, later sends in the same session fail fast with the same error (no
    hammering a server that refuses us, no repeated wrong-password logins); ``close`` resets.
    """

    def __init__(self, settings: SmtpSettings, outbox_dir: Path, dry_run: bool) -> None:
        self.settings = settings
        self.outbox_dir = Path(outbox_dir)
        self.dry_run = dry_run
        self._smtp: smtplib.SMTP | None = None
        self._broken = ""

    # -- context manager ----------------------------------------------------------------------
    def __enter__(self) -> Outbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Say QUIT (politely, ignoring errors) and forget any connection failure."""
        smtp, self._smtp, self._broken = self._smtp, None, ""
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            smtp.close()

    # -- sending ------------------------------------------------------------------------------
    def send(self, message: EmailMessage) -> SentResult:
        """Send ``message`` (or write it, in dry-run mode); failures come back as the result."""
        recipients = _recipients(message)
        if not recipients:
            return SentResult("failed", error="邮件没有收件人 / the message has no recipient")
        if self.dry_run:
            return self._write(message)
        if self._broken:
            return SentResult("failed", error=self._broken)

        last: BaseException | None = None
        for _attempt in range(2):  # the second only after a dropped connection
            try:
                smtp = self._session()
            except _ConnectFailed as exc:
                self._broken = str(exc)
                return SentResult("failed", error=self._broken)
            try:
                refused = smtp.send_message(message)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = {code for code, _ in exc.recipients.values()}
                if codes != {421}:  # 421 for all: the server is closing, like a drop below
                    error = _refused_text(exc.recipients)
                    return SentResult("failed", error=f"收件人被拒收 / recipients refused: {error}")
                self._drop()
                last = exc
                continue
            except (smtplib.SMTPException, OSError) as exc:
                if not _is_drop(exc):
                    if not isinstance(exc, smtplib.SMTPResponseException):
                        self._drop()  # a timeout or protocol error: the session state is unknown
                    return SentResult("failed", error=self._describe(exc))
                log.info("SMTP connection dropped (%s); reconnecting once", type(exc).__name__)
                self._drop()
                last = exc
                continue
            refused_list = tuple(refused)
            error = ""
            if refused_list:
                error = f"部分收件人被拒收 / some recipients refused: {_refused_text(refused)}"
            log.info(
                "sent %s to %d recipient(s)", message["Message-ID"], len(recipients) - len(refused)
            )
            return SentResult("sent", error=error, refused=refused_list)
        return SentResult(
            "failed", error=f"SMTP 连接中断，重连后仍未发出 / connection dropped: {last}"
        )

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, smtplib.SMTPSenderRefused):
            reply = exc.smtp_error.decode("utf-8", "replace")
            return f"发件人被拒绝 / sender refused: {exc.sender} ({exc.smtp_code} {reply})"
        if isinstance(exc, smtplib.SMTPDataError):
            reply = exc.smtp_error.decode("utf-8", "replace")
            return f"服务器拒收邮件内容 / message refused: {exc.smtp_code} {reply}"
        if isinstance(exc, TimeoutError):
            return f"SMTP 服务器响应超时 / timed out after {self.settings.timeout_s:g}s"
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return f"服务器不支持此邮件（需要 SMTPUTF8）/ not supported: {exc}"
        return f"发送失败 / send failed: {type(exc).__name__}: {exc}"

    # -- the session --------------------------------------------------------------------------
    def _session(self) -> smtplib.SMTP:
        """The open connection, re-opened when the server has hung up in the meantime."""
        if self._smtp is not None:
            try:
                alive = self._smtp.noop()[0] == 250
            except (smtplib.SMTPException, OSError):
                alive = False
            if alive:
                return self._smtp
            log.info("SMTP connection found closed; reconnecting")
            self._drop()
        self._smtp = self._connect()
        return self._smtp

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _password(self) -> str:
        name = self.settings.password_env
        password = os.environ.get(name, "") if name else ""
        if not password:
            raise PasswordMissing(
                f"未设置环境变量 {name}（SMTP 授权码）/ "
                f"environment variable {name} with the SMTP password is not set"
            )
        return password

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.settings.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        password = self._password() if s.username else ""  # before any network traffic
        where = f"{s.host}:{s.port}"
        smtp: smtplib.SMTP | None = None
        try:
            if s.security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout_s, context=self._tls_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            elif s.security == "none" and s.username:
                log.warning("SMTP login to %s without TLS: the password travels in clear", where)
            if s.username:
                smtp.login(s.username, password)
        except smtplib.SMTPAuthenticationError as exc:
            self._abandon(smtp)
            raise _ConnectFailed(
                f"SMTP 登录失败：用户名或授权码错误（{s.username}，{where}）/ "
                f"SMTP login refused ({exc.smtp_code})"
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            self._abandon(smtp)
            raise _ConnectFailed(
                f"SMTP 服务器 {where} 不支持所需功能（STARTTLS 或登录）/ not supported: {exc}"
            ) from exc
        except ssl.SSLCertVerificationError as exc:
            self._abandon(smtp)
            raise _ConnectFailed(
                f"SMTP 服务器 {where} 的 TLS 证书校验失败 / TLS certificate rejected: "
                f"{exc.verify_message}"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._abandon(smtp)
            raise _ConnectFailed(
                f"无法连接 SMTP 服务器 {where} / cannot connect: {type(exc).__name__}: {exc}"
            ) from exc
        log.info("SMTP session open to %s (%s)", where, s.security)
        return smtp

    @staticmethod
    def _abandon(smtp: smtplib.SMTP | None) -> None:
        if smtp is not None:
            smtp.close()

    # -- dry run ------------------------------------------------------------------------------
    def _write(self, message: EmailMessage) -> SentResult:
        data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        path = self.outbox_dir / eml_name(message, data)
        try:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(path, data)
        except OSError as exc:
            return SentResult(
                "failed", error=f"无法写入发件箱目录 {self.outbox_dir} / cannot write: {exc}"
            )
        log.info("dry run: %s written to %s", message["Message-ID"], path)
        return SentResult("dry_run", path=path)
