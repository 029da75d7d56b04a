"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests.support.dovecot import DOVECOT_BIN, Dovecot, ImapAccount, TcpProxy, dovecot_available

# --------------------------------------------------------------------------------------
# Real IMAP server (Dovecot) and TCP proxy — see tests/support/dovecot.py
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One private Dovecot for the whole session; use a fresh username per test."""
    if not dovecot_available():
        message = (
            f"Dovecot is not installed ({DOVECOT_BIN} or doveadm missing); "
            "install the Debian packages dovecot-imapd and dovecot-core"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    server = Dovecot()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def imap_account(dovecot: Dovecot) -> ImapAccount:
    """Credentials of a fresh user, i.e. an empty mailbox, on the running server."""
    if not dovecot.running:  # an earlier test may have stopped it and failed
        dovecot.start()
    return dovecot.account()


@pytest.fixture
def tcp_proxy() -> Iterator[Callable[..., TcpProxy]]:
    """Factory ``tcp_proxy(target_port, target_host="127.0.0.1")``; all stopped at teardown."""
    proxies: list[TcpProxy] = []

    def make(target_port: int, target_host: str = "127.0.0.1") -> TcpProxy:
        proxy = TcpProxy(target_port, target_host)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.stop()
