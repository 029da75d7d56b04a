"""The IMAP source (imapclient): new mail by UID above a per-folder cursor, never changing it.

Fetches use BODY.PEEK[] (no \\Seen flag) with INTERNALDATE, in batches bounded by count and
bytes; every socket call has a timeout; a dropped connection is re-opened with backoff and the
poll resumes from the ledger's cursor, so nothing is fetched twice into the ledger.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import ssl
import time
from collections.abc import Iterator
from datetime import UTC

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from intake.ledger import Ledger
from intake.models import IntakeError, LoginFailed, MailboxUnreachable, RawMail

log = logging.getLogger(__name__)

_NETWORK_ERRORS = (OSError, socket.timeout, ssl.SSLError, IMAPClientAbortError, EOFError)
CLIENT_ID = {"name": "hyjdb-intake", "version": "0.1", "vendor": "hengyang-jdb"}


def _permanent(exc: BaseException) -> bool:
    """Failures that another try within the same poll would only repeat."""
    if isinstance(exc, socket.gaierror | ConnectionRefusedError | TimeoutError):
        return True
    if isinstance(exc, ssl.SSLCertVerificationError):
        return True
    unreachable = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL}
    return isinstance(exc, OSError) and exc.errno in unreachable


def network_cause(exc: BaseException, timeout_s: float | None = None) -> str:
    """Why a connection failed, in Chinese, without the exception's English name."""
    if isinstance(exc, socket.gaierror):
        return "找不到该服务器（域名无法解析），请检查 mailbox.host 和网络"
    if isinstance(exc, ConnectionRefusedError):
        return "服务器拒绝连接，请检查 mailbox.port 和 mailbox.security，或服务是否开启"
    if isinstance(exc, TimeoutError):
        within = f"{timeout_s:g} 秒内" if timeout_s else "长时间"
        return f"{within}没有响应，请检查网络、防火墙或服务器地址"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "服务器证书验证失败（证书不受信任或与地址不符）"
    if isinstance(exc, ssl.SSLError):
        return "加密连接失败，请检查 mailbox.security 与端口是否匹配（QQ 邮箱：ssl，993）"
    if isinstance(exc, ConnectionResetError | ConnectionAbortedError | BrokenPipeError | EOFError):
        return "连接被服务器断开"
    if isinstance(exc, IMAPClientAbortError):
        return "连接被服务器断开"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "网络不可达，请检查本机网络"
    if isinstance(exc, IMAPClientError):
        return "服务器答复异常"
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"网络错误（错误码 {exc.errno}）"
    return "网络错误"


class ImapSource:
    def __init__(self, settings, secret: str) -> None:
        self.settings = settings
        self._secret = secret  # the 授权码, from the environment; never logged
        self._client: IMAPClient | None = None
        self.skipped_folders: list[str] = []
        self._bad_folders: set[str] = set()

    # -- connection --------------------------------------------------------------------------
    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.settings.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect_once(self, connect_s: float) -> IMAPClient:
        s = self.settings
        timeout = SocketTimeout(connect=min(connect_s, s.timeout_s), read=s.timeout_s)
        client = IMAPClient(
            s.host,
            port=s.port,
            ssl=s.security == "ssl",
            ssl_context=self._context(),
            timeout=timeout,
        )
        # imapclient sets imaplib's debug level to 5, which formats a repr of every response
        # (whole attachments included) for a logger that discards it: 5x slower fetches and
        # twice the memory (measured in benchmarks/). imaplib documents ``debug`` as public.
        client._imap.debug = 0
        client.normalise_times = False  # keep INTERNALDATE aware, not naive local time
        try:
            if s.security == "starttls":
                client.starttls(self._context())
            client.login(s.username, self._secret)
        except LoginError as exc:
            client.shutdown()
            raise LoginFailed(f"邮箱登录失败：用户名或授权码错误（{s.username}@{s.host}）") from exc
        try:
            if b"ID" in client.capabilities():
                client.id_(CLIENT_ID)  # 163/126 refuse SELECT from clients that don't say who
        except IMAPClientError:
            log.info("server refused the ID command; continuing")
        return client

    def connect(self) -> IMAPClient:
        """Open a session within ``timeout_s`` in all: a refused port or an unknown host is not
        retried (it will not change within seconds), a dropped or reset connection is, with
        backoff, while time is left."""
        s = self.settings
        delay = s.reconnect_backoff_s
        give_up = time.monotonic() + s.timeout_s
        for attempt in range(s.reconnect_attempts + 1):
            left = give_up - time.monotonic()
            try:
                self._client = self._connect_once(max(left, 0.5))
                return self._client
            except LoginFailed:
                raise
            except (*_NETWORK_ERRORS, IMAPClientError) as exc:
                log.warning("connect to %s:%s failed: %s", s.host, s.port, exc)
                left = give_up - time.monotonic()
                if _permanent(exc) or attempt == s.reconnect_attempts or left <= delay:
                    raise MailboxUnreachable(
                        f"无法连接邮箱服务器 {s.host}:{s.port}：{network_cause(exc, s.timeout_s)}"
                    ) from exc
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.logout()
            except Exception:  # the connection may already be gone; nothing to save
                with contextlib.suppress(Exception):
                    self._client.shutdown()
            self._client = None

    def __enter__(self) -> ImapSource:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- polling -----------------------------------------------------------------------------
    def _select(self, folder: str) -> tuple[int, list[int]]:
        assert self._client is not None
        try:
            info = self._client.select_folder(folder, readonly=True)
        except IMAPClientError as exc:
            if isinstance(exc, IMAPClientAbortError):
                raise
            log.info("select %s refused: %s", folder, exc)
            raise IntakeError(f"邮箱中无法打开文件夹“{folder}”（不存在或无权访问）") from exc
        return int(info[b"UIDVALIDITY"]), []

    def _new_uids(self, folder: str, ledger: Ledger) -> tuple[int, list[int], bool]:
        assert self._client is not None
        uidvalidity, _ = self._select(folder)
        cursor = ledger.cursor(folder)
        last = 0
        if cursor is not None:
            if cursor.uidvalidity == uidvalidity:
                last = cursor.last_uid
            else:
                log.warning(
                    "UIDVALIDITY of %s changed %s -> %s: re-scanning, known mail matched by hash",
                    folder,
                    cursor.uidvalidity,
                    uidvalidity,
                )
        # ASCII-only server-side search; "N:*" answers the last UID even when it is <= last.
        uids = self._client.search(["UID", f"{last + 1}:*"])
        rescan = cursor is not None and cursor.uidvalidity != uidvalidity
        return uidvalidity, sorted(uid for uid in uids if uid > last), rescan

    def _batches(self, uids: list[int]) -> Iterator[list[int]]:
        assert self._client is not None
        s = self.settings
        sizes: dict[int, int] = {}
        for start in range(0, len(uids), 500):
            chunk = uids[start : start + 500]
            for uid, data in self._client.fetch(chunk, ["RFC822.SIZE"]).items():
                sizes[uid] = int(data.get(b"RFC822.SIZE", 0))
        batch: list[int] = []
        total = 0
        for uid in uids:
            size = sizes.get(uid, 0)
            if batch and (len(batch) >= s.batch_size or total + size > s.batch_bytes):
                yield batch
                batch, total = [], 0
            batch.append(uid)
            total += size
        if batch:
            yield batch

    def count_new(self, ledger: Ledger) -> int:
        total = 0
        for folder in self.settings.folder:
            try:
                total += len(self._with_reconnect(lambda f=folder: self._new_uids(f, ledger))[1])
            except IntakeError as exc:
                if isinstance(exc, MailboxUnreachable):
                    raise
                self._skip(folder, exc)
        return total

    def _skip(self, folder: str, exc: IntakeError) -> None:
        """A folder that cannot be opened (e.g. a Junk folder the account lacks) is skipped."""
        if folder not in self._bad_folders:
            log.warning("skipping folder %s: %s", folder, exc)
            self._bad_folders.add(folder)
            self.skipped_folders.append(str(exc))

    def _with_reconnect(self, action):
        s = self.settings
        delay = s.reconnect_backoff_s
        for attempt in range(s.reconnect_attempts + 1):
            try:
                return action()
            except _NETWORK_ERRORS as exc:
                if attempt == s.reconnect_attempts:
                    raise MailboxUnreachable(
                        f"与邮箱服务器的连接多次中断：{network_cause(exc, s.timeout_s)}"
                    ) from exc
                log.warning("connection lost (%s); reconnecting in %.1fs", exc, delay)
                self.close()
                time.sleep(delay)
                delay *= 2
                self.connect()
        raise AssertionError("unreachable")

    def new_mail(self, ledger: Ledger) -> Iterator[RawMail]:
        """New messages of every configured folder in UID order, resuming after drops."""
        for folder in self.settings.folder:
            if folder in self._bad_folders:
                continue
            failures = 0
            while True:
                try:
                    yield from self._poll_folder(folder, ledger)
                    break
                except IntakeError as exc:
                    if isinstance(exc, MailboxUnreachable):
                        raise
                    self._skip(folder, exc)
                    break
                except _NETWORK_ERRORS as exc:
                    failures += 1
                    if failures > self.settings.reconnect_attempts:
                        cause = network_cause(exc, self.settings.timeout_s)
                        raise MailboxUnreachable(f"与邮箱服务器的连接多次中断：{cause}") from exc
                    log.warning("connection lost during fetch (%s); resuming", exc)
                    self.close()
                    time.sleep(self.settings.reconnect_backoff_s * 2 ** (failures - 1))
                    self.connect()

    def _poll_folder(self, folder: str, ledger: Ledger) -> Iterator[RawMail]:
        assert self._client is not None
        uidvalidity, uids, rescan = self._new_uids(folder, ledger)
        for batch in self._batches(uids):
            response = self._client.fetch(batch, ["BODY.PEEK[]", "INTERNALDATE"])
            for uid in batch:
                data = response.pop(uid, None)
                if data is None:
                    continue  # expunged meanwhile
                raw = data.get(b"BODY[]") or b""
                when = data[b"INTERNALDATE"]
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                yield RawMail(folder, uidvalidity, uid, when, "server", raw, rescan)
            del response

    def record(self, ledger: Ledger, mail: RawMail, message: int, sha256: str) -> None:
        """Bookkeeping inside the caller's transaction: location and cursor."""
        assert mail.uid is not None and mail.uidvalidity is not None
        ledger.add_location(mail.folder, mail.uidvalidity, mail.uid, message)
        ledger.set_cursor(mail.folder, mail.uidvalidity, mail.uid)
