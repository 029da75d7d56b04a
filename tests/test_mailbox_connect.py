"""A mailbox that cannot be reached says 正在连接… and gives up within mailbox.timeout_s.

Before, a refused port was retried four times with a doubling backoff: 30 silent seconds.
"""

from __future__ import annotations

import socket
import time

import pytest

from tests.support.chinese import assert_chinese
from tests.support.project import run_cli, write_config

TIMEOUT_S = 3
# The old defaults that summed to 30 s of waiting (2 + 4 + 8 + 16).
PATIENT = {"timeout_s": TIMEOUT_S, "reconnect_attempts": 4, "reconnect_backoff_s": 2}


def _once(config) -> tuple[float, object]:
    started = time.monotonic()
    result = run_cli(config, "once", password="secret")
    return time.monotonic() - started, result


def _assert_gave_up(result, cause: str, folder) -> None:
    assert result.returncode == 3
    assert result.stdout.startswith("正在连接邮箱 ")
    assert result.stderr.startswith("邮箱错误：无法连接邮箱服务器") and cause in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert_chinese(result.stdout + result.stderr, allowed=(str(folder),))


@pytest.fixture
def baseline(tmp_path, imap_account) -> float:
    """How long a CLI run takes here when the mailbox answers at once (imports, reports)."""
    config = write_config(tmp_path / "ok", imap_account)
    elapsed, result = _once(config)
    assert result.returncode == 0, result.stderr
    return elapsed


def test_a_refused_port_gives_up_at_once(tmp_path, imap_account, dovecot, tcp_proxy, baseline):
    proxy = tcp_proxy(dovecot.imap_port)
    proxy.refuse(listen=False)  # nothing listens: ECONNREFUSED
    config = write_config(tmp_path / "o", imap_account, mailbox={"port": proxy.port, **PATIENT})
    elapsed, result = _once(config)
    _assert_gave_up(result, "拒绝连接", tmp_path)
    assert elapsed < baseline + 2  # no retries, no backoff


def test_a_server_that_hangs_up_at_once_gives_up_within_the_timeout(
    tmp_path, imap_account, dovecot, tcp_proxy, baseline
):
    proxy = tcp_proxy(dovecot.imap_port)
    proxy.refuse(listen=True)  # accepts, then drops the connection before the greeting
    config = write_config(tmp_path / "o", imap_account, mailbox={"port": proxy.port, **PATIENT})
    elapsed, result = _once(config)
    _assert_gave_up(result, "断开", tmp_path)
    assert proxy.accepted == 0 and elapsed < baseline + TIMEOUT_S + 1


def test_a_black_hole_gives_up_within_the_timeout(tmp_path, imap_account, baseline):
    """A host that takes the connection and never answers (a firewall, a dead server)."""
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(8)  # the kernel completes the handshake; nobody ever speaks
        port = hole.getsockname()[1]
        config = write_config(tmp_path / "o", imap_account, mailbox={"port": port, **PATIENT})
        elapsed, result = _once(config)
    _assert_gave_up(result, f"{TIMEOUT_S} 秒内没有响应", tmp_path)
    assert TIMEOUT_S <= elapsed < baseline + TIMEOUT_S + 1


def test_an_unknown_host_gives_up_at_once(tmp_path, imap_account, baseline):
    config = write_config(
        tmp_path / "o", imap_account, mailbox={"host": "no-such-host.invalid", **PATIENT}
    )
    elapsed, result = _once(config)
    _assert_gave_up(result, "域名无法解析", tmp_path)
    assert elapsed < baseline + 2
