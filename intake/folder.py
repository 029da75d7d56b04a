"""A folder of .eml files as a mailbox: offline import (Foxmail/Outlook exports) and the demo.

There is no server receive time here, so the receive time is the topmost ``Received:`` header's
date, else the ``Date`` header, else the file's modification time, and reports say which.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parsedate_to_datetime
from pathlib import Path

from intake.ledger import Ledger
from intake.models import IntakeError, RawMail

log = logging.getLogger(__name__)


def _aware(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def receive_time(raw: bytes, mtime: float) -> tuple[datetime, str]:
    """(time, source) by the order of trust described in the module docstring."""
    end = raw.find(b"\n\n")
    end2 = raw.find(b"\r\n\r\n")
    cut = min(x for x in (end, end2, len(raw)) if x >= 0)
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw[: cut + 2])
    received = headers.get_all("Received") or []
    if received:
        topmost = str(received[0])
        when = _aware(topmost.rsplit(";", 1)[-1]) if ";" in topmost else None
        if when is not None:
            return when, "received"
    when = _aware(str(headers.get("Date") or ""))
    if when is not None:
        return when, "date"
    return datetime.fromtimestamp(mtime, tz=UTC), "mtime"


class FolderSource:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.skipped_folders: list[str] = []  # same face as the IMAP source; never filled

    def __enter__(self) -> FolderSource:
        if not self.path.is_dir():
            raise IntakeError(f"找不到邮件文件夹 {self.path}")
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _key(self, file: Path) -> str:
        return file.relative_to(self.path).as_posix()

    def new_mail(self, ledger: Ledger) -> Iterator[RawMail]:
        """Every .eml file not seen before with the same size and mtime, in name order."""
        files = sorted(p for p in self.path.rglob("*.eml") if p.is_file())
        for file in files:
            stat = file.stat()
            if ledger.folder_seen(self._key(file)) == (stat.st_size, stat.st_mtime_ns):
                continue
            raw = file.read_bytes()
            when, source = receive_time(raw, stat.st_mtime)
            yield RawMail(self._key(file), None, None, when, source, raw)

    def count_new(self, ledger: Ledger) -> int:
        return sum(
            1
            for p in self.path.rglob("*.eml")
            if ledger.folder_seen(self._key(p)) != (p.stat().st_size, p.stat().st_mtime_ns)
        )

    def record(self, ledger: Ledger, mail: RawMail, message: int, sha256: str) -> None:
        """Bookkeeping inside the caller's transaction: this file is done."""
        stat = (self.path / mail.folder).stat()
        ledger.mark_folder_seen(mail.folder, stat.st_size, stat.st_mtime_ns, sha256)
