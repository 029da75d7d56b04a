"""Records that leave the intake stage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RawMail:
    """One message exactly as the mailbox holds it.

    ``uid``/``uidvalidity`` are None for the folder source; ``received_at`` is aware.
    ``time_source`` says how far it can be trusted, best first: server (INTERNALDATE),
    received (topmost Received header), date (Date header), mtime (file time), manual (staff).
    """

    folder: str
    uidvalidity: int | None
    uid: int | None
    received_at: datetime
    time_source: str
    raw: bytes
    rescan: bool = False  # the folder's UIDVALIDITY changed: known mail may come back changed


class IntakeError(Exception):
    """The mailbox could not be read; the message is one Chinese line for the office."""


class MailboxUnreachable(IntakeError):
    """Connection failed (host, port, TLS, timeouts) after the configured retries."""


class LoginFailed(IntakeError):
    """The server refused the credentials."""
