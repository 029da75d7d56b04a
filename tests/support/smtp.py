"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import email
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.dovecot import free_port


@dataclass
class Sink:
    received: list[tuple[list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.received.append((list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 queued"

    def messages(self) -> list[tuple[list[str], EmailMessage]]:
        return [
            (rcpt, email.message_from_bytes(data, policy=policy.default))
            for rcpt, data in self.received
        ]


class SmtpServer:
    def __init__(self) -> None:
        self.sink = Sink()
        self.port = free_port()
        self._controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def config(self) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "security": "none", "username": ""}
