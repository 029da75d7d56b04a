"""Group commit: a fetch group's raw mails are flushed to disk before any of them is handed
on to be recorded, while the next group is written (unit tests of pipeline.jobs._durable)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

import portable.atomic
from intake.models import IntakeError, RawMail
from intake.rawstore import RawStore
from pipeline.jobs import _durable


def _mail(n: int) -> RawMail:
    raw = f"Subject: {n}\r\n\r\nbody {n}\r\n".encode()
    return RawMail("INBOX", 1, n, datetime(2026, 12, 1, tzinfo=UTC), "server", raw)


def _groups(count: int, fail_after: int | None = None):
    for n in range(count):
        if fail_after is not None and n == fail_after:
            raise IntakeError("与邮箱服务器的连接多次中断")
        yield [_mail(2 * n), _mail(2 * n + 1)]


@pytest.fixture
def flushes(monkeypatch):
    """Every flush, slowed down so that a flush still running when its group is handed out
    would be seen: (paths, finished) in the order they started."""
    log: list[tuple[list[Path], threading.Event]] = []

    def slow_flush(paths):
        done = threading.Event()
        log.append((list(paths), done))
        time.sleep(0.05)
        done.set()

    monkeypatch.setattr(portable.atomic, "flush_to_disk", slow_flush)
    return log


def test_a_group_is_handed_out_only_after_its_flush_returned(tmp_path: Path, flushes):
    store = RawStore(tmp_path)
    handed = []
    for group, digests in _durable(_groups(4), store):
        mine = [p for paths, _ in flushes for p in paths if p.stem in digests]
        assert len(mine) == len(group)  # this group's files were flushed ...
        assert all(done.is_set() for paths, done in flushes if set(paths) & set(mine))  # ... fully
        assert all(
            (tmp_path / store.relpath(d)).read_bytes() == m.raw
            for m, d in zip(group, digests, strict=True)
        )
        handed.append([m.uid for m in group])
    assert handed == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert len(flushes) == 4


def test_the_groups_before_a_mailbox_failure_are_still_handed_out(tmp_path: Path, flushes):
    handed = []
    with pytest.raises(IntakeError):
        for group, _ in _durable(_groups(5, fail_after=3), RawStore(tmp_path)):
            handed.append([m.uid for m in group])
    assert handed == [[0, 1], [2, 3], [4, 5]]
    assert all(done.is_set() for _, done in flushes)


def test_a_mail_already_stored_is_not_written_again(tmp_path: Path, flushes):
    store = RawStore(tmp_path)
    list(_durable(_groups(1), store))
    list(_durable(_groups(1), store))
    assert [len(paths) for paths, _ in flushes] == [2, 0]
