"""Faults of the machine: a full disk, a read-only data folder, a data path that is a file.

Each is one Chinese line naming the cause and a non-zero exit, never a traceback on the console
nor a pointer to a log file that could not be written; once the fault is gone, one `once` ends
in exactly the state of a run that never met it. The full disk and the read-only folder are
real (a tiny tmpfs, a read-only bind mount, in a private mount namespace); where the machine
allows no namespace, in-process tests still cover the same paths with the errors injected.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

import pipeline.jobs
import run_pipeline
from pipeline.faults import EXIT_DATA, describe
from tests.support import files
from tests.support.chinese import assert_chinese
from tests.support.mails import Att, Mail
from tests.support.project import REPO, run_cli, snapshot, write_config

UNITS = [("西渡镇", "hyxxidujdb@163.com"), ("金兰镇", "jinlanzhen_zzb@163.com")]


def fill_inbox(folder, count: int = 8, start: int = 0) -> None:
    for i in range(start, start + count):
        unit, address = UNITS[i % 2]
        mail = Mail(sender=(unit, address), subject=f"{unit}活动照片（第{i}批）", seed=f"f{i}",
                    attachments=[Att(f"照片{i}-{k}.jpg", files.jpeg(900, 700, seed=10 * i + k))
                                 for k in range(2)])  # fmt: skip
        (folder / f"{i:02d}.eml").write_bytes(mail.to_bytes())


def _namespaces_work() -> bool:
    if not shutil.which("unshare") or sys.platform != "linux":
        return False
    command = ["unshare", "-m", "true"] if os.geteuid() == 0 else ["unshare", "-Urm", "true"]
    return subprocess.run(command, capture_output=True).returncode == 0


needs_namespace = pytest.mark.skipif(
    not _namespaces_work(), reason="needs a private mount namespace (unshare) for a real fault"
)


def in_namespace(script: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``script`` (sh) in a private mount namespace: its mounts vanish when it ends."""
    prefix = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-Urm"]
    return subprocess.run(
        [*prefix, "sh", "-ec", f"mount --make-rprivate / ; {script}"],
        capture_output=True, text=True, timeout=600, env={**os.environ, **env},
    )  # fmt: skip


def _cli(config) -> str:
    return f'"{sys.executable}" "{REPO / "run_pipeline.py"}" --config "{config}" once'


def clean_snapshot(tmp_path, count: int = 8) -> dict:
    clean = write_config(tmp_path / "clean")
    fill_inbox(clean.parent / "inbox", count)
    assert run_cli(clean, "once").returncode == 0
    return snapshot(clean.parent / "data")


def assert_one_clear_line(stderr: str, cause: str, folder) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and cause in lines[0], stderr
    assert "Traceback" not in stderr
    assert_chinese(stderr, allowed=(str(folder),))


@needs_namespace
def test_a_full_disk_is_one_line_and_the_next_poll_converges(tmp_path):
    """GIVEN the data folder on a 600 KB file system WHEN `once` fills it THEN one line says
    磁盘已满 (exit 5) and never points to the log it could not write; WHEN the data moves to a
    disk with room THEN one `once` ends exactly as a run that never met the fault."""
    expected = clean_snapshot(tmp_path)
    config = write_config(tmp_path / "full")
    fill_inbox(config.parent / "inbox")
    data, saved = config.parent / "data", tmp_path / "saved"
    data.mkdir()
    result = in_namespace(
        f'mount -t tmpfs -o size=600k tmpfs "{data}"; set +e; {_cli(config)}; echo "rc=$?"; '
        f'cp -a "{data}/." "{saved}/"',
    )
    assert "rc=5" in result.stdout, result.stdout + result.stderr
    assert_one_clear_line(result.stderr, "磁盘已满", tmp_path)
    if "详情见日志" in result.stderr:  # only when the log really holds the details
        assert "Traceback" in (saved / "logs" / "pipeline.log").read_text(encoding="utf-8")
    assert (saved / "mail").is_dir()  # it had stored part of the mail when the disk filled
    shutil.rmtree(data)
    shutil.copytree(saved, data)
    again = run_cli(config, "once")
    assert again.returncode == 0, again.stderr
    assert snapshot(data) == expected


@needs_namespace
def test_a_read_only_data_folder_is_one_line_and_the_next_poll_converges(tmp_path):
    expected = clean_snapshot(tmp_path)
    config = write_config(tmp_path / "ro")
    inbox, data = config.parent / "inbox", config.parent / "data"
    fill_inbox(inbox, 4)
    assert run_cli(config, "once").returncode == 0
    fill_inbox(inbox, 4, start=4)  # new mail arrives while the folder is read-only
    result = in_namespace(
        f'mount --bind "{data}" "{data}"; mount -o remount,bind,ro "{data}"; set +e; '
        f'{_cli(config)}; echo "rc=$?"'
    )
    assert "rc=5" in result.stdout, result.stdout + result.stderr
    assert_one_clear_line(result.stderr, "数据目录只读", tmp_path)
    assert "详情见日志" not in result.stderr  # the log is in the read-only folder too
    again = run_cli(config, "once")
    assert again.returncode == 0, again.stderr
    assert snapshot(data) == expected


@pytest.mark.parametrize("where", ["registry.csv", "registry.csv/data"])
def test_a_data_path_that_is_a_file_is_one_line(tmp_path, where):
    config = write_config(tmp_path, paths={"data": where, "reports": "reports"})
    result = run_cli(config, "once")
    assert result.returncode == 2
    assert_one_clear_line(result.stderr, "不是文件夹", tmp_path)
    assert "paths.data" in result.stderr


def test_a_reports_path_that_is_a_file_is_one_line(tmp_path):
    config = write_config(tmp_path, paths={"data": "data", "reports": "registry.csv"})
    result = run_cli(config, "report")
    assert result.returncode == 2
    assert_one_clear_line(result.stderr, "不是文件夹", tmp_path)


# -- the same paths with the error injected (runs everywhere) ---------------------------------
@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "data/mail/ab.eml"), "磁盘已满"),
        (OSError(errno.EROFS, "Read-only file system", "data/.worker.lock"), "数据目录只读"),
        (PermissionError(errno.EACCES, "Permission denied", "data/ledger.sqlite3"), "没有写入权限"),
        (NotADirectoryError(errno.ENOTDIR, "Not a directory", "data/logs"), "不是文件夹"),
        (sqlite3.OperationalError("database or disk is full"), None),
    ],
)
def test_injected_faults_are_one_chinese_line(tmp_path, monkeypatch, capsys, error, cause):
    if isinstance(error, sqlite3.OperationalError):
        error.sqlite_errorcode, cause = 13, "磁盘已满"  # SQLITE_FULL, as SQLite sets it
    config = write_config(tmp_path)
    fill_inbox(tmp_path / "inbox", 2)

    def broken(*args, **kwargs):
        raise RuntimeError("writing the report failed") from error

    monkeypatch.setattr(pipeline.jobs, "write_reports", broken)
    code = run_pipeline.main(["--config", str(config), "once"])
    err = capsys.readouterr().err
    assert code == EXIT_DATA
    assert_one_clear_line(err, cause, tmp_path)
    assert "详情见日志" in err  # here the log could be written, so it holds the traceback
    log = (tmp_path / "data" / "logs" / "pipeline.log").read_text(encoding="utf-8")
    assert "Traceback" in log


def test_a_log_that_cannot_be_written_is_never_pointed_to(tmp_path, monkeypatch, capsys):
    config = write_config(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "logs").write_text("a file where the log folder should be")

    def broken(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(run_pipeline, "run_report", broken)
    assert run_pipeline.main(["--config", str(config), "report"]) == EXIT_DATA
    err = capsys.readouterr().err
    assert_one_clear_line(err, "磁盘已满", tmp_path)
    assert "日志" not in err


def test_a_bug_is_not_mistaken_for_a_machine_fault():
    code, line = describe(ValueError("bad value"))
    assert code == 1 and line.startswith("内部错误")
