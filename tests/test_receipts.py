"""Receipts are owed by the ledger, not by one poll, and go only to a plain, parsed address.

A poll that fails or is killed after storing mail still answers every message it stored (then or
at the next poll), each exactly once; turning receipts on never answers the history; a display
name that decodes to ``单位 <victim@…>`` or carries ``\\r\\nBcc:`` never makes the office relay.
"""

from __future__ import annotations

import base64
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
import yaml

import pipeline.jobs
from intake.ledger import Ledger
from outbox import receipt
from outbox.address import addr_spec, from_addresses
from pipeline.config import load_config
from pipeline.jobs import run_once
from tests.support import files
from tests.support.mails import Att, Mail
from tests.support.project import REPO, run_cli, write_config
from tests.support.smtp import SmtpServer

CST = timezone(timedelta(hours=8))
NOW = datetime(2020, 12, 30, 12, tzinfo=CST)
OFFICE = "office@qq.com"
UNITS = [("西渡镇", "hyxxidujdb@163.com"), ("金兰镇", "jinlanzhen_zzb@163.com")]
VICTIM = "victim@evil.example.com"


def submission(i: int) -> Mail:
    unit, address = UNITS[i % 2]
    photo = Att(f"照片{i}.jpg", files.jpeg(320, 240, seed=i))
    return Mail(sender=(f"{unit}禁毒办", address), subject=f"{unit}禁毒材料（第{i}批）",
                seed=f"r{i}", attachments=[photo])  # fmt: skip


def project(tmp_path, smtp: SmtpServer, receipts: bool = True):
    return write_config(
        tmp_path,
        campaign={"deadline": "2020-12-31T23:59:59+08:00", "office_addresses": [OFFICE]},
        smtp=smtp.config(),
        notify={"receipts": receipts, "dry_run": False, "receipts_per_day": 100},
    )


def drop(tmp_path, *mails: Mail) -> None:
    for mail in mails:
        (tmp_path / "inbox" / f"{mail.seed}.eml").write_bytes(mail.to_bytes())


def answered(smtp: SmtpServer) -> list[str]:
    """The Message-IDs the receipts answered, one per receipt received."""
    return [str(m["In-Reply-To"]).strip("<>") for _, m in smtp.sink.messages()]


def stored_ids(tmp_path) -> list[str]:
    with Ledger(tmp_path / "data" / "ledger.sqlite3") as ledger:
        frame = ledger.frame("messages")
    return sorted(frame.loc[frame["status"].isin(["done", "review"]), "message_id"])


# -- owed by the ledger ------------------------------------------------------------------------
def test_a_poll_that_fails_halfway_answers_what_it_stored(tmp_path, monkeypatch):
    """GIVEN 4 mails WHEN the mailbox fails after the second THEN the two stored ones are
    answered in that same poll, and the next poll answers the other two: each exactly once."""
    with SmtpServer() as smtp:
        path = project(tmp_path, smtp)
        mails = [submission(i) for i in range(4)]
        drop(tmp_path, *mails)
        config = load_config(path)
        real = pipeline.jobs._source

        class Failing:
            def __init__(self, inner):
                self.inner, self.skipped_folders = inner, []

            def __enter__(self):
                self.inner.__enter__()
                return self

            def __exit__(self, *exc):
                return self.inner.__exit__(*exc)

            def count_new(self, ledger):
                return self.inner.count_new(ledger)

            def record(self, *args):
                return self.inner.record(*args)

            def new_mail(self, ledger):
                for n, mail in enumerate(self.inner.new_mail(ledger)):
                    if n == 2:
                        raise OSError(104, "Connection reset by peer")
                    yield mail

        monkeypatch.setattr(pipeline.jobs, "_source", lambda c: Failing(real(c)))
        first = run_once(config, NOW)
        assert isinstance(first.failure, OSError) and first.new == 2
        assert sorted(answered(smtp)) == stored_ids(tmp_path) and len(answered(smtp)) == 2
        monkeypatch.setattr(pipeline.jobs, "_source", real)
        second = run_once(config, NOW)
        assert second.failure is None and second.new == 2
        assert sorted(answered(smtp)) == sorted(m.message_id_value() for m in mails)
        run_once(config, NOW)
        assert len(answered(smtp)) == 4  # nothing twice


def _done_count(db) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM messages WHERE status='done'").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_poll_killed_after_storing_mail_owes_its_receipts_to_the_next(tmp_path):
    """GIVEN 40 mails WHEN `once` is SIGKILLed after storing a few, before any receipt
    THEN the next `once` answers every stored mail exactly once, and a third sends nothing."""
    with SmtpServer() as smtp:
        path = project(tmp_path, smtp)
        mails = [submission(i) for i in range(40)]
        drop(tmp_path, *mails)
        db = tmp_path / "data" / "ledger.sqlite3"
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "run_pipeline.py"), "--config", str(path), "once"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while _done_count(db) < 3 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.02)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        killed_with = _done_count(db)
        assert 3 <= killed_with < 40 and smtp.sink.received == []  # killed before the receipts
        result = run_cli(path, "once")
        assert result.returncode == 0, result.stderr
        assert "回执：发出 40 封" in result.stdout
        assert sorted(answered(smtp)) == sorted(m.message_id_value() for m in mails)
        again = run_cli(path, "once")
        assert again.returncode == 0 and len(smtp.sink.received) == 40


def _set_receipts(path, on: bool) -> None:
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["notify"]["receipts"] = on
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


def test_turning_receipts_on_never_answers_the_history(tmp_path):
    with SmtpServer() as smtp:
        path = project(tmp_path, smtp, receipts=False)
        drop(tmp_path, submission(0), submission(1))
        assert run_cli(path, "once").returncode == 0
        _set_receipts(path, True)
        drop(tmp_path, submission(2))
        assert run_cli(path, "once").returncode == 0
        assert answered(smtp) == [submission(2).message_id_value()]
        _set_receipts(path, False)  # off for a while: what arrives meanwhile is never answered
        drop(tmp_path, submission(3))
        assert run_cli(path, "once").returncode == 0
        _set_receipts(path, True)
        drop(tmp_path, submission(4))
        assert run_cli(path, "once").returncode == 0
    assert answered(smtp) == [submission(i).message_id_value() for i in (2, 4)]


def test_a_receipt_decided_against_is_decided_once(tmp_path):
    """A receipt over the daily cap is logged as not sent and never considered again, also
    not on a later day (an old mail gets no late receipt)."""
    with SmtpServer() as smtp:
        path = project(tmp_path, smtp)
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        config["notify"]["receipts_per_day"] = 1
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        drop(tmp_path, submission(0), submission(2))  # both from 西渡镇's address
        result = run_cli(path, "once")
        assert (
            result.returncode == 0 and "发出 1 封" in result.stdout and "跳过 1 封" in result.stdout
        )
        with Ledger(tmp_path / "data" / "ledger.sqlite3") as ledger:
            sent = ledger.frame("sent")
            assert ledger.receipts_owed(1) == []
        assert sorted(sent["status"]) == ["sent", "skipped"]
        assert "超过每日回执上限" in sent["detail"].tolist()
        later = load_config(path)
        assert "回执" not in " ".join(run_once(later, NOW + timedelta(days=3)).notices)
        assert len(smtp.sink.received) == 1


# -- header injection --------------------------------------------------------------------------
def _b(text: str) -> bytes:
    return b"=?utf-8?B?" + base64.b64encode(text.encode()) + b"?="


UNIT_ADDRESS = b"<hyxxidujdb@163.com>"
# The From header a unit's mail arrives with: display names that decode to another address.
INJECTIONS = {
    "crlf_bcc": _b(f"西渡镇\r\nBcc: {VICTIM}") + b" " + UNIT_ADDRESS,
    "crlf_bcc_quoted": b'"' + _b(f"西渡镇\r\nBcc: {VICTIM}") + b'" ' + UNIT_ADDRESS,
    "angle": _b(f"西渡镇 <{VICTIM}>") + b" " + UNIT_ADDRESS,
    "angle_quoted": b'"' + _b(f"西渡镇 <{VICTIM}>") + b'" ' + UNIT_ADDRESS,
    "raw_8bit": f"西渡镇 <{VICTIM}> ".encode() + UNIT_ADDRESS,
    "list": f"西渡镇 <{VICTIM}>, ".encode() + UNIT_ADDRESS,
}


def injected(name: str) -> bytes:
    """A real submission of 西渡镇 whose From header is ``INJECTIONS[name]``."""
    photo = Att("1.jpg", files.jpeg(320, 240, seed=len(name)))
    raw = Mail(sender=("西渡镇", "hyxxidujdb@163.com"), subject=f"西渡镇禁毒材料 {name}",
               seed=name, attachments=[photo]).to_bytes()  # fmt: skip
    start = raw.index(b"\r\nFrom: ") + 2
    end = raw.index(b"\r\n", start)
    return raw[:start] + b"From: " + INJECTIONS[name] + raw[end:]


@pytest.mark.parametrize("name", sorted(INJECTIONS))
def test_a_display_name_never_makes_the_office_a_relay(tmp_path, name):
    """GIVEN a unit's mail whose display name smuggles in another address WHEN it is taken and
    answered THEN the victim receives nothing, every receipt goes to one plain address of the
    unit, and the mail still counts for its unit."""
    with SmtpServer() as smtp:
        path = project(tmp_path, smtp)
        (tmp_path / "inbox" / "injected.eml").write_bytes(injected(name))
        result = run_cli(path, "once")
        assert result.returncode == 0, result.stderr
        for rcpt, message in smtp.sink.messages():
            assert rcpt == ["hyxxidujdb@163.com"]
            assert str(message["To"]) == "hyxxidujdb@163.com"
            assert message["Bcc"] is None and message["Cc"] is None
        raw = b"".join(data for _, data in smtp.sink.received)
        assert VICTIM.encode() not in raw.lower()
    with Ledger(tmp_path / "data" / "ledger.sqlite3") as ledger:
        messages = ledger.frame("messages")
    assert messages["unit"].tolist() == ["西渡镇"] and messages["status"].tolist() == ["done"]


def test_only_the_structure_of_a_from_header_gives_its_address():
    encoded = b"From: =?utf-8?b?5Y2V5L2NIDx2aWN0aW1AZXZpbC5jbj4=?= <unit@x.cn>\r\n\r\n"
    assert from_addresses(encoded) == ["unit@x.cn"]  # the name decodes to "单位 <victim@evil.cn>"
    assert from_addresses(b"From: a@x.cn, b@y.cn\r\n\r\n") == ["a@x.cn", "b@y.cn"]
    assert from_addresses(b"Subject: none\r\n\r\n") == []


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("hyxxidujdb@163.com", True),
        ("A.B+tag@sub.qq.com", True),
        ("单位 <victim@x.cn>", False),
        ("a@x.cn\r\nBcc: victim@x.cn", False),
        ("a@x.cn, victim@x.cn", False),
        ("a@x.cn;victim@x.cn", False),
        ('"a"@x.cn', False),
        ("a@localhost", False),
        ("a@@x.cn", False),
        ("张三@x.cn", False),
        ("", False),
        (None, False),
    ],
)
def test_a_recipient_is_one_plain_address(text, ok):
    assert (addr_spec(text) is not None) == ok


@pytest.mark.parametrize(
    "to", ["单位 <victim@x.cn>", "a@x.cn\r\nBcc: victim@x.cn", "a@x.cn, b@y.cn"]
)
def test_composing_refuses_anything_but_a_plain_address(to):
    with pytest.raises(ValueError):
        receipt(office="禁毒办", office_address=OFFICE, to=to, unit="西渡镇", subject="材料",
                message_id="<m@x>", received_at=NOW, files=[], unit_counts={}, missing=[],
                deadline=NOW, late=False, now=NOW)  # fmt: skip


def test_a_message_id_that_is_no_plain_id_is_not_referenced():
    mail = receipt(office="禁毒办", office_address=OFFICE, to="a@x.cn", unit="西渡镇",
                   subject="材料", message_id="<m@x>\r\nBcc: victim@x.cn", received_at=NOW,
                   files=[], unit_counts={}, missing=[], deadline=NOW, late=False,
                   now=NOW)  # fmt: skip
    assert mail["In-Reply-To"] is None and b"victim" not in mail.as_bytes()
