"""`watch` never ends because one poll failed; only Ctrl-C, SIGTERM or its stop event end it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

import pipeline.jobs
from pipeline.config import load_config
from pipeline.jobs import run_watch
from tests.support import files
from tests.support.chinese import assert_chinese
from tests.support.mails import Att, Mail
from tests.support.project import REPO, write_config

CST = timezone(timedelta(hours=8))


def submission(i: int) -> bytes:
    return Mail(sender=("西渡镇禁毒办", "hyxxidujdb@163.com"), subject=f"西渡镇材料{i}",
                seed=f"w{i}", attachments=[Att(f"{i}.jpg", files.jpeg(320, 240, seed=i))]
                ).to_bytes()  # fmt: skip


def _watch_in_thread(config, until, timeout=60):
    """Run `watch` until ``until(summaries)`` holds; returns the summaries it reported."""
    summaries, stop = [], threading.Event()

    def on_poll(summary) -> None:
        summaries.append(summary)
        if until(summaries):
            stop.set()

    worker = threading.Thread(
        target=run_watch, args=(config, lambda: datetime.now(CST), on_poll, stop), daemon=True
    )
    worker.start()
    worker.join(timeout)
    stop.set()
    assert not worker.is_alive(), "watch did not stop when asked"
    return summaries


def test_an_exception_in_a_poll_never_ends_watch(tmp_path, monkeypatch):
    """GIVEN a source that raises a bug three times WHEN watch runs THEN every failure is one
    Chinese line, counted toward the banner, and the next poll takes the mail."""
    path = write_config(tmp_path, schedule={"poll_minutes": 0.003})
    (tmp_path / "inbox" / "a.eml").write_bytes(submission(1))
    config = load_config(path)
    real, calls = pipeline.jobs._source, []

    def flaky(config):
        calls.append(1)
        if len(calls) <= 3:
            raise ZeroDivisionError("a bug in one poll")
        return real(config)

    monkeypatch.setattr(pipeline.jobs, "_source", flaky)
    dashboard = tmp_path / "data" / "reports" / "报送看板.html"
    banners = []

    def until(summaries) -> bool:
        banners.append("已连续 3 次收取失败" in dashboard.read_text(encoding="utf-8"))
        return any(x.new for x in summaries)

    summaries = _watch_in_thread(config, until)
    failed = [s for s in summaries if s.failure is not None]
    assert [s.failures for s in failed] == [1, 2, 3]
    assert all(s.error.startswith("内部错误") for s in failed)
    assert_chinese(" ".join(s.error for s in failed))
    assert banners[:4] == [False, False, True, False]  # the banner after three failed polls
    good = summaries[-1]
    assert good.failure is None and good.new == 1 and good.failures == 0
    assert "收取失败" not in dashboard.read_text(encoding="utf-8")  # a good poll ends it


def test_a_failure_outside_the_poll_itself_does_not_end_watch_either(tmp_path, monkeypatch):
    """Even when the ledger session cannot be opened (here: the units file is broken for a
    while) the loop goes on; failures are counted in memory then."""
    path = write_config(tmp_path, schedule={"poll_minutes": 0.003})
    config = load_config(path)
    good = (tmp_path / "registry.csv").read_bytes()
    (tmp_path / "registry.csv").write_text("name\n西渡镇\n", encoding="utf-8")

    def until(summaries) -> bool:
        if len(summaries) == 2:
            (tmp_path / "registry.csv").write_bytes(good)
        return len(summaries) >= 3

    summaries = _watch_in_thread(config, until)
    assert [s.failures for s in summaries] == [1, 2, 0]
    assert summaries[0].error.startswith("配置错误") and summaries[2].failure is None


def _start(config, env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(REPO / "run_pipeline.py"), "--config", str(config), "watch"],
        env={**env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=config.parent,
    )  # fmt: skip


def _wait_for(predicate, timeout=60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_watch_in_a_terminal_survives_failing_polls_and_stops_on_sigterm(tmp_path):
    """GIVEN a real `watch` process WHEN its polls fail with an error that is no mailbox error
    (a dangling link in the inbox folder) THEN it says so in Chinese and keeps polling; once the
    fault is gone it takes the mail; SIGTERM stops it cleanly with exit 0."""
    path = write_config(tmp_path, schedule={"poll_minutes": 0.01})
    inbox = tmp_path / "inbox"
    os.symlink(tmp_path / "gone.eml", inbox / "dangling.eml")
    watcher = _start(path, dict(os.environ))
    units = tmp_path / "data" / "reports" / "units.csv"
    log = tmp_path / "data" / "logs" / "pipeline.log"
    try:
        _wait_for(lambda: log.exists() and log.read_text("utf-8").count("poll failed") >= 2)
        (inbox / "dangling.eml").unlink()
        (inbox / "a.eml").write_bytes(submission(2))
        _wait_for(lambda: units.exists() and "西渡镇,乡镇,true" in units.read_text("utf-8-sig"))
        time.sleep(1)
    finally:
        watcher.send_signal(signal.SIGTERM)
        out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert out.count("收取失败：数据目录故障：找不到文件或文件夹") >= 2, out
    assert "新邮件 1 封" in out and "已停止" in out
    assert "Traceback" not in err
    assert_chinese(out + err, allowed=(str(tmp_path),))
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "FileNotFoundError" in text  # the details stay in the file
