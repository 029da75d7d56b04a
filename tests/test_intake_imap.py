"""The intake spine against a real Dovecot: exactly-once polling, cursors, failures, crashes."""

from __future__ import annotations

import csv
import io
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.support import files
from tests.support.mails import Att, Mail
from tests.support.project import REPO, run_cli, snapshot, write_config

CST = timezone(timedelta(hours=8))
UNITS = [("西渡镇", "hyxxidujdb@163.com"), ("金兰镇", "jinlanzhen_zzb@163.com")]


def submission(i: int, size: int = 320) -> bytes:
    unit, address = UNITS[i % len(UNITS)]
    return Mail(
        sender=(f"{unit}禁毒办", address),
        subject=f"{unit}禁毒志愿服务活动照片（第{i}批）",
        text="请查收活动照片。",
        attachments=[Att(f"活动照片{i}.jpg", files.jpeg(size, size * 3 // 4, seed=i))],
        seed=str(i),
    ).to_bytes()


def when(day: int, hour: int = 10) -> datetime:
    return datetime(2020, 12, day, hour, 0, 0, tzinfo=CST)


def read_csv(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


@pytest.fixture
def project(tmp_path, dovecot, imap_account):
    config = write_config(tmp_path / "office", imap_account)
    return config, imap_account


def once(config, password="secret"):
    result = run_cli(config, "once", password=password)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_first_poll_takes_all_second_takes_none(project, dovecot):
    """GIVEN three mails WHEN polled twice THEN all are taken once, idle polls change nothing."""
    config, account = project
    for i in range(3):
        dovecot.append(account.username, submission(i), when(20 + i))
    first = once(config)
    assert first.returncode == 0, first.stderr
    assert "新邮件 3 封" in first.stdout
    data = config.parent / "data"
    rows = read_csv(data / "reports" / "attachments.csv")
    assert sorted(r["filename"] for r in rows) == [f"活动照片{i}.jpg" for i in range(3)]
    assert {r["uid"] for r in rows} == {"1", "2", "3"}
    assert rows[0]["received_at"].endswith("+08:00")
    before = snapshot(data)
    mtimes = {p: p.stat().st_mtime_ns for p in (data / "reports").iterdir()}

    second = once(config)
    assert second.returncode == 0
    assert "新邮件 0 封" in second.stdout and "未重建" in second.stdout
    assert snapshot(data) == before
    assert {p: p.stat().st_mtime_ns for p in (data / "reports").iterdir()} == mtimes


def test_new_mail_is_taken_and_mail_stays_unread(project, dovecot):
    config, account = project
    dovecot.append(account.username, submission(0), when(20))
    assert once(config).returncode == 0
    dovecot.append(account.username, submission(1), when(21))
    result = once(config)
    assert "新邮件 1 封" in result.stdout
    units = {r["unit"]: r for r in read_csv(config.parent / "data" / "reports" / "units.csv")}
    assert units["西渡镇"]["photos"] == "1" and units["金兰镇"]["photos"] == "1"
    with dovecot.connect(account.username) as client:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags(client.search("ALL"))
    assert all(b"\\Seen" not in f for f in flags.values())  # BODY.PEEK[] never marks read


def test_uidvalidity_change_rescans_without_double_counting(project, dovecot):
    config, account = project
    for i in range(2):
        dovecot.append(account.username, submission(i), when(20 + i))
    assert once(config).returncode == 0
    data = config.parent / "data"
    rows_before = read_csv(data / "reports" / "attachments.csv")
    dovecot.change_uidvalidity(account.username)
    dovecot.append(account.username, submission(5), when(25))
    result = once(config)
    assert result.returncode == 0, result.stderr
    assert "新邮件 1 封" in result.stdout and "重复邮件 2 封" in result.stdout
    rows = read_csv(data / "reports" / "attachments.csv")
    assert len(rows) == len(rows_before) + 1
    assert len({r["sha256"] for r in rows}) == 3


def test_mail_without_attachment_and_without_message_id_is_recorded(project, dovecot):
    config, account = project
    plain = Mail(sender=("某人", "someone@qq.com"), subject="咨询", text="你好", message_id=None)
    dovecot.append(account.username, plain.to_bytes(), when(20))
    assert once(config).returncode == 0
    from intake.ledger import Ledger

    with Ledger(config.parent / "data" / "ledger.sqlite3") as ledger:
        messages = ledger.frame("messages")
    assert len(messages) == 1 and messages.loc[0, "status"] == "review"
    assert once(config).stdout.count("新邮件 0 封") == 1


def test_server_down_then_back(project, dovecot):
    """A poll while the server is away fails with one clear line; the next one catches up."""
    config, account = project
    dovecot.append(account.username, submission(0), when(20))
    dovecot.stop()
    try:
        down = once(config)
    finally:
        dovecot.start()
    assert down.returncode == 3
    assert down.stderr.strip().startswith("邮箱错误：无法连接邮箱服务器")
    assert len(down.stderr.strip().splitlines()) == 1
    up = once(config)
    assert up.returncode == 0 and "新邮件 1 封" in up.stdout


def test_connection_dropped_mid_fetch_is_resumed(tmp_path, dovecot, imap_account, tcp_proxy):
    proxy = tcp_proxy(dovecot.imap_port)
    for i in range(4):
        dovecot.append(imap_account.username, submission(i, size=900), when(20 + i))
    config = write_config(
        tmp_path / "office", imap_account, mailbox={"port": proxy.port, "batch_size": 1}
    )
    proxy.cut_after(150_000)  # somewhere inside the first large FETCH response
    result = once(config)
    assert result.returncode == 0, result.stderr
    assert "新邮件 4 封" in result.stdout
    assert proxy.accepted >= 2  # it really reconnected
    rows = read_csv(config.parent / "data" / "reports" / "attachments.csv")
    assert len(rows) == 4


def test_wrong_password_is_one_clear_line(project, dovecot):
    config, _ = project
    result = once(config, password="wrong")
    assert result.returncode == 3
    assert result.stderr.strip() == result.stderr.strip().splitlines()[0]
    assert "登录失败" in result.stderr


def test_unreachable_host_is_one_clear_line(tmp_path, imap_account):
    from tests.support.dovecot import free_port

    config = write_config(tmp_path / "o", imap_account, mailbox={"port": free_port()})
    result = once(config)
    assert result.returncode == 3
    assert "无法连接邮箱服务器" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_unset_password_variable(project):
    config, _ = project
    result = run_cli(config, "once", password=None)
    assert result.returncode == 2
    assert "TEST_IMAP_PASSWORD" in result.stderr and "Traceback" not in result.stderr


def test_second_worker_on_same_data_folder_is_refused(project, dovecot):
    config, account = project
    for i in range(40):
        dovecot.append(account.username, submission(i, size=1200), when(20))
    env_cmd = [sys.executable, str(REPO / "run_pipeline.py"), "--config", str(config), "watch"]
    import os

    env = {**os.environ, "TEST_IMAP_PASSWORD": "secret"}
    watcher = subprocess.Popen(env_cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lock = config.parent / "data" / ".worker.lock"
        deadline = time.time() + 30
        while not lock.exists() and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        second = once(config)
        assert second.returncode == 4
        assert "另一个收取任务正在使用数据目录" in second.stderr
        # Between polls staff can still rebuild reports and correct (they wait for a poll).
        report = run_cli(config, "report", password=None)
        assert report.returncode == 0, report.stderr
        fix = run_cli(config, "extend", "西渡镇", "2021-01-05T23:59:59+08:00", "--reason", "x")
        assert fix.returncode == 0, fix.stderr
    finally:
        watcher.send_signal(signal.SIGINT)
        out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert "已停止" in out.decode()


@pytest.mark.slow
def test_sigkill_at_random_points_then_rerun_equals_clean_run(tmp_path, dovecot):
    """GIVEN 200 mails WHEN a worker is SIGKILLed at seeded random moments and rerun
    THEN the final state equals an uninterrupted run's (nothing lost, nothing twice)."""
    mails = [submission(i, size=240) for i in range(200)]
    clean_account = dovecot.account()
    for i, raw in enumerate(mails):
        dovecot.append(clean_account.username, raw, when(1 + i % 28))
    clean_config = write_config(tmp_path / "clean", clean_account)
    started = time.monotonic()
    assert once(clean_config).returncode == 0
    full = time.monotonic() - started
    expected = snapshot(clean_config.parent / "data")
    rng = random.Random(20201231)
    for attempt in range(3):
        account = dovecot.account()
        for i, raw in enumerate(mails):
            dovecot.append(account.username, raw, when(1 + i % 28))
        config = write_config(tmp_path / f"killed{attempt}", account)
        env = {**__import__("os").environ, "TEST_IMAP_PASSWORD": "secret"}
        for _kill in range(2):
            proc = subprocess.Popen(
                [sys.executable, str(REPO / "run_pipeline.py"), "--config", str(config), "once"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=config.parent,
            )
            time.sleep(rng.uniform(0.3, max(0.5, full * 0.9)))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        assert once(config).returncode == 0
        got = snapshot(config.parent / "data")
        # Locations, folder names and paths match; the two mailboxes differ only in user name.
        assert got == expected, f"attempt {attempt} differs from the clean run"


def test_uidvalidity_change_rematches_rewritten_mail_by_message_id(project, dovecot):
    """A migrated mailbox hands back known mail with an extra header: not a new submission."""
    config, account = project
    raw = submission(0)
    dovecot.append(account.username, raw, when(20))
    assert once(config).returncode == 0
    dovecot.delete_all(account.username)
    dovecot.change_uidvalidity(account.username)
    dovecot.append(account.username, b"X-Migrated: yes\r\n" + raw, when(20))
    result = once(config)
    assert result.returncode == 0, result.stderr
    assert "新邮件 0 封" in result.stdout and "重复邮件 1 封" in result.stdout
    rows = read_csv(config.parent / "data" / "reports" / "attachments.csv")
    assert len(rows) == 1


def test_repeated_connection_failures_put_a_banner_on_the_reports(project, dovecot):
    config, _ = project
    assert once(config).returncode == 0
    dovecot.stop()
    try:
        for _ in range(3):
            assert once(config).returncode == 3
    finally:
        dovecot.start()
    reports = config.parent / "data" / "reports"
    page = (reports / "报送看板.html").read_text(encoding="utf-8")
    assert "连续 3 次无法连接" in page
    assert once(config).returncode == 0  # back: the banner goes away
    assert "无法连接" not in (reports / "报送看板.html").read_text(encoding="utf-8")


def test_watch_survives_the_server_being_away(tmp_path, dovecot, imap_account):
    """GIVEN a watch worker WHEN the server is down for several polls THEN it keeps going and
    takes the mail once the server is back; Ctrl-C ends it cleanly."""
    import os

    config = write_config(
        tmp_path / "office", imap_account, schedule={"poll_minutes": 0.03},
        mailbox={"reconnect_attempts": 0},
    )  # fmt: skip
    env = {**os.environ, "TEST_IMAP_PASSWORD": "secret", "PYTHONUNBUFFERED": "1"}
    dovecot.stop()
    watcher = subprocess.Popen(
        [sys.executable, str(REPO / "run_pipeline.py"), "--config", str(config), "watch"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(6)  # a few failed polls
        dovecot.start()
        dovecot.append(imap_account.username, submission(0), when(20))
        units = config.parent / "data" / "reports" / "units.csv"
        deadline = time.time() + 60
        while time.time() < deadline:
            if units.exists() and "西渡镇,乡镇,true" in units.read_text(encoding="utf-8-sig"):
                break
            time.sleep(0.5)
        else:
            raise AssertionError("watch did not take the mail after the server came back")
        time.sleep(2)  # let it finish printing its summary before Ctrl-C
    finally:
        if not dovecot.running:
            dovecot.start()
        watcher.send_signal(signal.SIGINT)
        out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert "收取失败" in out and "新邮件 1 封" in out
    assert "Traceback" not in err


def test_several_folders_including_a_chinese_one(tmp_path, dovecot, imap_account):
    """QQ's Junk and 其他文件夹 (modified UTF-7 on the wire) are polled beside INBOX."""
    user = imap_account.username
    dovecot.create_folder(user, "其他文件夹")
    dovecot.create_folder(user, "Junk")
    dovecot.append(user, submission(0), when(20))
    dovecot.append(user, submission(1), when(21), folder="其他文件夹")
    dovecot.append(user, submission(2), when(22), folder="Junk")
    config = write_config(
        tmp_path / "office", imap_account, mailbox={"folder": ["INBOX", "其他文件夹", "Junk"]}
    )
    result = once(config)
    assert result.returncode == 0, result.stderr
    assert "新邮件 3 封" in result.stdout
    assert "新邮件 0 封" in once(config).stdout
    from intake.ledger import Ledger

    with Ledger(config.parent / "data" / "ledger.sqlite3") as ledger:
        folders = set(ledger.frame("locations")["folder"])
    assert folders == {"INBOX", "其他文件夹", "Junk"}


def test_a_missing_folder_is_skipped_not_fatal(tmp_path, dovecot, imap_account):
    dovecot.append(imap_account.username, submission(0), when(20))
    config = write_config(tmp_path / "o", imap_account, mailbox={"folder": ["INBOX", "Nope"]})
    result = once(config)
    assert result.returncode == 0, result.stderr
    assert "新邮件 1 封" in result.stdout
    assert "注意：邮箱中无法打开文件夹“Nope”" in result.stdout
