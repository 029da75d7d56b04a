"""A report that a colleague has open in WPS/Excel (Windows refuses to replace an open file).

The replace is made to fail the way Windows fails it (PermissionError on ``os.replace`` onto,
or ``os.unlink`` of, an open file). The old file stays, the new one lands beside it with a
Chinese name, one Chinese line and the dashboard say so, the other reports are written, and
neither ``once`` nor ``watch`` stops. Once the file is closed, the copy moves into place.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from intake.ledger import Ledger
from intake.materials import move_into_place, remove_unreferenced
from pipeline.config import load_config
from pipeline.jobs import run_watch
from portable import atomic
from portable.atomic import canonical_name, diverted_name, settle, write_bytes_atomic
from run_pipeline import main
from tests.support import files
from tests.support.mails import Att, Mail
from tests.support.project import write_config

CST = timezone(timedelta(hours=8))
LEDGER = "报送台账.xlsx"


class OpenFiles:
    """Files held open by another program, as Windows treats them: they can be neither
    replaced, nor moved, nor deleted."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.held: set[str] = set()
        self.refused = 0
        real_replace, real_unlink = os.replace, os.unlink

        def replace(src, dst, *args, **kwargs):
            if os.path.abspath(dst) in self.held or os.path.abspath(src) in self.held:
                self.refused += 1
                raise PermissionError(13, "另一个程序正在使用此文件，进程无法访问。", str(dst))
            return real_replace(src, dst, *args, **kwargs)

        def unlink(path, *args, **kwargs):
            if os.path.abspath(path) in self.held:
                raise PermissionError(13, "另一个程序正在使用此文件，进程无法访问。", str(path))
            return real_unlink(path, *args, **kwargs)

        monkeypatch.setattr(os, "replace", replace)
        monkeypatch.setattr(os, "unlink", unlink)
        monkeypatch.setattr(atomic, "RETRY_DELAYS_S", (0.01, 0.01))

    def open(self, path: Path) -> None:
        self.held.add(os.path.abspath(path))

    def close(self, path: Path) -> None:
        self.held.discard(os.path.abspath(path))


@pytest.fixture
def open_files(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenFiles]:
    yield OpenFiles(monkeypatch)


def mail(unit: str, address: str, seed: str) -> bytes:
    photo = Att("活动照片.jpg", files.jpeg(640, 480, seed=len(seed)))
    return Mail(sender=(unit, address), subject=f"{unit}年终材料", seed=seed,
                attachments=[photo]).to_bytes()  # fmt: skip


def copies(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if canonical_name(p.name) == LEDGER)


# ---- the writer itself ----------------------------------------------------------------------


def test_a_locked_target_gets_a_copy_beside_it_and_settles_later(tmp_path, open_files) -> None:
    target = tmp_path / LEDGER
    target.write_bytes(b"old")
    open_files.open(target)
    when = datetime(2020, 12, 31, 15, 30, tzinfo=CST)
    landed = write_bytes_atomic(target, b"new", divert_at=when)
    assert landed.name == "报送台账（已更新 12-31 15时30分）.xlsx"
    assert ":" not in landed.name and canonical_name(landed.name) == LEDGER
    assert (target.read_bytes(), landed.read_bytes()) == (b"old", b"new")
    assert open_files.refused >= 3  # retried before giving up on the target
    # A later build while still open replaces the earlier copy: one copy at most.
    later = write_bytes_atomic(target, b"newer", divert_at=when + timedelta(minutes=10))
    assert copies(tmp_path) == [later]
    assert settle(tmp_path) == []  # still open: nothing moves
    open_files.close(target)
    assert settle(tmp_path) == [target]
    assert target.read_bytes() == b"newer" and copies(tmp_path) == []
    # A copy a colleague opened too: the next copy takes a numbered name.
    open_files.open(target)
    first = write_bytes_atomic(target, b"a", divert_at=when)
    open_files.open(first)
    second = write_bytes_atomic(target, b"b", divert_at=when)
    assert second == diverted_name(target, when, 2) and first.read_bytes() == b"a"


def test_without_divert_a_locked_target_raises(tmp_path, open_files) -> None:
    target = tmp_path / "ledger.sqlite3-copy"
    target.write_bytes(b"old")
    open_files.open(target)
    with pytest.raises(PermissionError):
        write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temp file left


# ---- once / report --------------------------------------------------------------------------


def test_once_with_the_ledger_open_in_wps(tmp_path, open_files, capsys) -> None:
    path = write_config(tmp_path)
    inbox = tmp_path / "inbox"
    (inbox / "a.eml").write_bytes(mail("西渡镇", "hyxxidujdb@163.com", "a"))
    args = ["--config", str(path)]
    assert main([*args, "once"]) == 0
    reports = load_config(path).reports_dir
    ledger = reports / LEDGER
    before = ledger.read_bytes()
    units_before = (reports / "units.csv").read_bytes()
    capsys.readouterr()

    # GIVEN a colleague has the 台账 open WHEN new mail arrives
    open_files.open(ledger)
    (inbox / "b.eml").write_bytes(mail("集兵镇", "jibingzjdb@163.com", "bb"))
    assert main([*args, "once"]) == 0
    out = capsys.readouterr().out
    # THEN the old 台账 stays, the new one is beside it, and one Chinese line says so
    (copy,) = copies(reports)
    assert ledger.read_bytes() == before and copy.stat().st_size > 0
    notes = [line for line in out.splitlines() if "正被其他程序" in line]
    assert len(notes) == 1 and copy.name in notes[0] and notes[0].startswith("注意：报送台账.xlsx")
    # ... the other reports are up to date, and the dashboard says what happened
    assert (reports / "units.csv").read_bytes() != units_before
    assert "集兵镇,乡镇,true" in (reports / "units.csv").read_text(encoding="utf-8-sig")
    assert copy.name in (reports / "报送看板.html").read_text(encoding="utf-8")

    # WHEN nothing changes and the file is still open THEN nothing is rebuilt (no loop)
    assert main([*args, "once"]) == 0
    assert "无变化" in capsys.readouterr().out and copies(reports) == [copy]

    # WHEN the colleague closes it THEN the next poll puts the new 台账 in place, rebuilds once
    # (the dashboard no longer mentions the copy), and then rests again.
    open_files.close(ledger)
    assert main([*args, "once"]) == 0
    assert "报表：" in capsys.readouterr().out
    assert copies(reports) == [] and ledger.read_bytes() != before
    assert "正被其他程序" not in (reports / "报送看板.html").read_text(encoding="utf-8")
    assert main([*args, "once"]) == 0
    assert "无变化" in capsys.readouterr().out


def test_report_with_several_files_open(tmp_path, open_files, capsys) -> None:
    path = write_config(tmp_path)
    (tmp_path / "inbox" / "a.eml").write_bytes(mail("西渡镇", "hyxxidujdb@163.com", "a"))
    args = ["--config", str(path)]
    assert main([*args, "once"]) == 0
    reports = load_config(path).reports_dir
    for name in ("units.csv", "通报草稿.docx", LEDGER):
        open_files.open(reports / name)
    capsys.readouterr()
    assert main([*args, "report"]) == 0
    out = capsys.readouterr().out
    assert sum("正被其他程序" in line for line in out.splitlines()) == 3
    for stem in ("units", "通报草稿", "报送台账"):
        assert list(reports.glob(f"{stem}（已更新 *）.*")), stem
    assert (reports / "attachments.csv").is_file()


# ---- watch ----------------------------------------------------------------------------------


def test_watch_keeps_polling_while_the_ledger_is_open(tmp_path, open_files) -> None:
    path = write_config(tmp_path, schedule={"poll_minutes": 0.005})
    inbox = tmp_path / "inbox"
    (inbox / "a.eml").write_bytes(mail("西渡镇", "hyxxidujdb@163.com", "a"))
    config = load_config(path)
    ledger = config.reports_dir / LEDGER
    seen: list[tuple[int, tuple[str, ...]]] = []

    def on_poll(summary) -> None:
        assert summary.failure is None
        notes = summary.report.notes if summary.report else ()
        seen.append((summary.new, notes))
        if len(seen) == 1:
            open_files.open(ledger)  # a colleague opens the 台账 ...
            (inbox / "b.eml").write_bytes(mail("集兵镇", "jibingzjdb@163.com", "bb"))
        elif len(seen) == 2:
            (inbox / "c.eml").write_bytes(mail("杉桥镇", "shanqiaozhen@126.com", "ccc"))
        elif len(seen) >= 3:
            raise KeyboardInterrupt  # Ctrl-C

    with pytest.raises(KeyboardInterrupt):
        run_watch(config, lambda: datetime(2020, 12, 26, 10, tzinfo=CST), on_poll)
    assert [new for new, _ in seen] == [1, 1, 1]
    assert seen[0][1] == () and len(seen[1][1]) == 1 and len(seen[2][1]) == 1
    assert "杉桥镇,乡镇,true" in (config.reports_dir / "units.csv").read_text(encoding="utf-8-sig")
    assert len(copies(config.reports_dir)) == 1


def test_a_stored_file_open_in_another_program_does_not_stop_a_correction(
    tmp_path, open_files
) -> None:
    """A correction moves a photo while a colleague has the old copy open: the old copy stays
    as an orphan instead of the correction failing."""
    data = tmp_path / "data"
    old = data / "materials" / "西渡镇" / "照片" / "1.jpg"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"jpeg")
    staged = tmp_path / "staged.jpg"
    staged.write_bytes(b"jpeg")
    open_files.open(old)
    with Ledger(data / "ledger.sqlite3") as ledger:
        remove_unreferenced(ledger, data, {"materials/西渡镇/照片/1.jpg"})
    assert old.exists()
    move_into_place(data, staged, "materials/集兵镇/照片/1.jpg")
    assert (data / "materials" / "集兵镇" / "照片" / "1.jpg").read_bytes() == b"jpeg"
