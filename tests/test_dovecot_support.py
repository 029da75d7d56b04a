"""Self-tests for tests/support/dovecot.py: the Dovecot test server and the TCP proxy."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, LoginError

from tests.support.dovecot import Dovecot, ImapAccount, TcpProxy, insecure_ssl_context

CHINESE_FOLDER = "其他文件夹"
SMALL = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
WHEN = datetime(2024, 12, 31, 23, 30, 15, tzinfo=timezone(timedelta(hours=8)))


def big_message(size: int = 2 * 1024 * 1024) -> bytes:
    line = b"A" * 76 + b"\r\n"
    body = line * (size // len(line))
    return b"Subject: big\r\nContent-Type: text/plain\r\n\r\n" + body


def plain_client(account: ImapAccount, port: int | None = None) -> IMAPClient:
    return IMAPClient(account.host, port=port or account.port, ssl=False, timeout=10)


def dovecot_pids(server: Dovecot) -> list[int]:
    """PIDs whose command line mentions this server's config or instance (Linux)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if str(server.dir).encode() in cmdline or server.dir.name.encode() in cmdline:
                pids.append(int(proc.name))
    return pids


# ------------------------------------------------------------------------------ login


def test_login_plain(imap_account: ImapAccount) -> None:
    client = plain_client(imap_account)
    client.login(imap_account.username, imap_account.password)
    assert client.select_folder("INBOX")[b"EXISTS"] == 0
    client.logout()


def test_login_starttls(imap_account: ImapAccount) -> None:
    client = plain_client(imap_account)
    assert b"STARTTLS" in client.capabilities()
    client.starttls(insecure_ssl_context())
    client.login(imap_account.username, imap_account.password)
    assert client.select_folder("INBOX")[b"EXISTS"] == 0
    client.logout()


def test_login_imaps(imap_account: ImapAccount) -> None:
    client = IMAPClient(
        imap_account.host,
        port=imap_account.imaps_port,
        ssl=True,
        ssl_context=insecure_ssl_context(),
        timeout=10,
    )
    client.login(imap_account.username, imap_account.password)
    assert client.select_folder("INBOX")[b"EXISTS"] == 0
    client.logout()


def test_wrong_password_is_rejected(imap_account: ImapAccount) -> None:
    client = plain_client(imap_account)
    with pytest.raises(LoginError):
        client.login(imap_account.username, "wrong")
    client.logout()


def test_each_account_has_its_own_mailbox(dovecot: Dovecot, imap_account: ImapAccount) -> None:
    dovecot.append(imap_account.username, SMALL, WHEN)
    assert dovecot.message_count(imap_account.username) == 1
    assert dovecot.message_count(dovecot.account().username) == 0


# -------------------------------------------------------------------------- mailboxes


def test_append_sets_internaldate_and_returns_uid(
    dovecot: Dovecot, imap_account: ImapAccount
) -> None:
    first = dovecot.append(imap_account.username, SMALL, WHEN)
    second = dovecot.append(
        imap_account.username, SMALL, WHEN.astimezone(UTC) + timedelta(days=1), flags=[b"\\Seen"]
    )
    assert second > first
    with dovecot.connect(imap_account.username) as client:
        client.normalise_times = False  # keep the server's offset: aware datetimes
        client.select_folder("INBOX", readonly=True)
        assert client.search("ALL") == [first, second]
        data = client.fetch([first, second], ["INTERNALDATE", "FLAGS", "BODY.PEEK[]"])
    # Maildir keeps INTERNALDATE as the file's mtime, so the +08:00 offset comes back in
    # the server's zone: compare instants (aware datetimes compare as instants).
    assert data[first][b"INTERNALDATE"] == WHEN
    assert data[second][b"INTERNALDATE"] == WHEN + timedelta(days=1)
    assert data[first][b"BODY[]"] == SMALL
    assert b"\\Seen" in data[second][b"FLAGS"]
    assert b"\\Seen" not in data[first][b"FLAGS"]


def test_append_rejects_naive_datetime(dovecot: Dovecot, imap_account: ImapAccount) -> None:
    with pytest.raises(ValueError, match="aware"):
        dovecot.append(imap_account.username, SMALL, datetime(2024, 1, 1))


def test_chinese_folder(dovecot: Dovecot, imap_account: ImapAccount) -> None:
    user = imap_account.username
    dovecot.create_folder(user, CHINESE_FOLDER)
    uid = dovecot.append(user, SMALL, WHEN, folder=CHINESE_FOLDER)
    with dovecot.connect(user) as client:
        names = [name for _flags, _sep, name in client.list_folders()]
        assert CHINESE_FOLDER in names
        client.folder_encode = False  # the wire name is modified UTF-7
        raw_names = [name for _flags, _sep, name in client.list_folders()]
        assert b"&UXZO1mWHTvZZOQ-" in raw_names
        client.folder_encode = True
        client.select_folder(CHINESE_FOLDER, readonly=True)
        assert client.search("ALL") == [uid]
    assert dovecot.message_count(user, CHINESE_FOLDER) == 1
    assert dovecot.message_count(user) == 0


@pytest.mark.parametrize("folder", ["INBOX", CHINESE_FOLDER])
def test_change_uidvalidity(dovecot: Dovecot, imap_account: ImapAccount, folder: str) -> None:
    user = imap_account.username
    if folder != "INBOX":
        dovecot.create_folder(user, folder)
    for day in range(3):
        dovecot.append(user, SMALL, WHEN + timedelta(days=day), folder=folder)
    old = dovecot.uidvalidity(user, folder)
    with dovecot.connect(user) as watcher:
        watcher.select_folder(folder)
        new = dovecot.change_uidvalidity(user, folder)
        with pytest.raises((IMAPClientAbortError, OSError)):
            watcher.noop()  # Dovecot drops sessions that have the folder selected
    assert new != old
    assert dovecot.uidvalidity(user, folder) == new
    assert dovecot.message_count(user, folder) == 3
    with dovecot.connect(user) as client:
        assert client.select_folder(folder, readonly=True)[b"UIDVALIDITY"] == new


def test_delete_all(dovecot: Dovecot, imap_account: ImapAccount) -> None:
    user = imap_account.username
    dovecot.append(user, SMALL, WHEN)
    dovecot.append(user, SMALL, WHEN)
    dovecot.delete_all(user)
    assert dovecot.message_count(user) == 0
    dovecot.delete_all(user)  # empty folder is fine too
    assert dovecot.append(user, SMALL, WHEN) == 3  # UIDs keep increasing


# ----------------------------------------------------------------------- server life


def test_stop_refuses_connections_and_restart_keeps_mailboxes(
    dovecot: Dovecot, imap_account: ImapAccount
) -> None:
    user = imap_account.username
    uid = dovecot.append(user, SMALL, WHEN)
    validity = dovecot.uidvalidity(user)
    dovecot.stop()
    try:
        assert not dovecot.running
        assert dovecot_pids(dovecot) == []
        for port in (dovecot.imap_port, dovecot.imaps_port):
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((dovecot.host, port), timeout=2).close()
    finally:
        started = time.monotonic()
        dovecot.start()
    assert time.monotonic() - started < 2
    assert dovecot.uidvalidity(user) == validity
    with dovecot.connect(user) as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search("ALL") == [uid]
    dovecot.restart()
    assert dovecot.message_count(user) == 1


def test_private_server_starts_fast_and_leaves_nothing_behind() -> None:
    started = time.monotonic()
    server = Dovecot()
    server.start()
    try:
        assert time.monotonic() - started < 2
        assert dovecot_pids(server)
        with server.connect("someone") as client:
            client.select_folder("INBOX")
    finally:
        server.close()
    assert dovecot_pids(server) == []
    assert not server.dir.exists()


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 error"), ("", "1 skipped")])
def test_missing_dovecot_skips_or_fails_on_ci(ci: str, outcome: str) -> None:
    env = {**os.environ, "DOVECOT_BIN": "/nonexistent/dovecot", "CI": ci}
    this_test = f"{__file__}::test_login_plain"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", this_test],
        cwd=Path(__file__).parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert outcome in result.stdout, result.stdout
    assert "Dovecot is not installed (/nonexistent/dovecot" in result.stdout


# -------------------------------------------------------------------------- TCP proxy


def test_proxy_forwards(
    dovecot: Dovecot, imap_account: ImapAccount, tcp_proxy: Callable[..., TcpProxy]
) -> None:
    proxy = tcp_proxy(imap_account.port)
    client = plain_client(imap_account, proxy.port)
    client.starttls(insecure_ssl_context())
    client.login(imap_account.username, imap_account.password)
    client.select_folder("INBOX")
    client.logout()
    assert proxy.accepted == 1


@pytest.mark.parametrize("reset", [False, True])
def test_proxy_cut_after_aborts_a_big_fetch(
    dovecot: Dovecot,
    imap_account: ImapAccount,
    tcp_proxy: Callable[..., TcpProxy],
    reset: bool,
) -> None:
    raw = big_message()
    uid = dovecot.append(imap_account.username, raw, WHEN)
    proxy = tcp_proxy(imap_account.port)
    client = plain_client(imap_account, proxy.port)
    client.login(imap_account.username, imap_account.password)
    client.select_folder("INBOX", readonly=True)
    proxy.cut_after(500_000, reset=reset)
    with pytest.raises((IMAPClientAbortError, OSError)):
        client.fetch([uid], ["BODY.PEEK[]"])
    # The cut is one-shot: the next connection gets the whole message.
    client = plain_client(imap_account, proxy.port)
    client.login(imap_account.username, imap_account.password)
    client.select_folder("INBOX", readonly=True)
    assert client.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"] == raw
    client.logout()


def test_proxy_refuse_and_close_all(
    imap_account: ImapAccount, tcp_proxy: Callable[..., TcpProxy]
) -> None:
    proxy = tcp_proxy(imap_account.port)
    connected = plain_client(imap_account, proxy.port)
    connected.login(imap_account.username, imap_account.password)

    proxy.refuse(True)  # accepted, then closed at once: no greeting
    with pytest.raises((IMAPClientAbortError, OSError)):
        plain_client(imap_account, proxy.port)
    proxy.refuse(True, listen=False)  # not listening: connection refused
    with pytest.raises(ConnectionRefusedError):
        plain_client(imap_account, proxy.port)
    proxy.refuse(False)
    plain_client(imap_account, proxy.port).logout()

    connected.noop()  # existing connections were not affected by refuse()
    proxy.close_all()
    with pytest.raises((IMAPClientAbortError, OSError)):
        connected.noop()


def test_proxy_stop_ends_its_threads(
    imap_account: ImapAccount, tcp_proxy: Callable[..., TcpProxy]
) -> None:
    proxy = tcp_proxy(imap_account.port)
    client = plain_client(imap_account, proxy.port)
    client.login(imap_account.username, imap_account.password)
    proxy.stop()
    assert not proxy._accept_thread.is_alive()
    with pytest.raises((IMAPClientAbortError, OSError)):
        client.noop()
    with pytest.raises(ConnectionRefusedError):
        plain_client(imap_account, proxy.port)
