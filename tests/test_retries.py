"""A message that fails is retried a capped number of times, then kept in review with a reason."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import parsers.sort
from intake.models import RawMail
from pipeline.config import load_config
from pipeline.jobs import _context, run_once, worker
from pipeline.process import ingest
from tests.support import files
from tests.support.mails import Att, Mail
from tests.support.project import write_config

CST = timezone(timedelta(hours=8))
NOW = datetime(2020, 12, 30, 12, tzinfo=CST)


def _mail() -> bytes:
    return Mail(sender=("西渡镇", "hyxxidujdb@163.com"), subject="西渡镇材料", seed="r",
                attachments=[Att("1.jpg", files.jpeg(320, 240, seed=1))]).to_bytes()  # fmt: skip


def _status(config) -> tuple[str, int, str]:
    with worker(config) as (ledger, _):
        row = ledger.frame("messages").iloc[0]
    return row["status"], int(row["attempts"]), row["reason"]


def test_failing_message_is_retried_then_sent_to_review(tmp_path, monkeypatch):
    path = write_config(tmp_path, sorting={"max_attempts": 2})
    (tmp_path / "inbox" / "a.eml").write_bytes(_mail())
    config = load_config(path)

    def broken(*args, **kwargs):
        raise RuntimeError("parser bug")

    monkeypatch.setattr(parsers.sort, "sort_mail", broken)  # process() imports it per call
    assert run_once(config, NOW).failed == 1
    assert _status(config)[:2] == ("failed", 1)
    assert run_once(config, NOW).failed == 1  # retried from the stored raw mail
    status, attempts, reason = _status(config)
    assert (status, attempts) == ("review", 2) and "多次处理失败" in reason
    assert run_once(config, NOW).new == 0  # never retried forever
    assert _status(config)[:2] == ("review", 2)


def test_mail_that_kills_the_worker_every_time_goes_to_review(tmp_path):
    path = write_config(tmp_path, sorting={"max_attempts": 2})
    config = load_config(path)
    raw = _mail()
    mail = RawMail("a.eml", None, None, NOW, "received", raw)

    class Source:
        def record(self, ledger, mail, message, sha256) -> None:
            pass

    with worker(config) as (ledger, registry):
        from intake.rawstore import RawStore

        digest = RawStore(config.data_dir).put(raw)
        for _ in range(2):  # two runs that died mid-way: the attempt was counted, nothing else
            ledger.begin_message(digest, RawStore(config.data_dir).relpath(digest), len(raw),
                                 NOW.isoformat(), "received")  # fmt: skip
        outcome = ingest(ledger, Source(), mail, _context(config, registry))
        row = ledger.frame("messages").iloc[0]
    assert outcome.status == "review"
    assert row["status"] == "review" and "多次中断" in row["reason"]


def test_receipts_are_capped_per_sender_per_day(tmp_path):
    path = write_config(
        tmp_path,
        campaign={"deadline": "2020-12-31T23:59:59+08:00", "office_addresses": ["o@qq.com"]},
        notify={"receipts": True, "receipts_per_day": 1},
    )
    for i in range(2):
        mail = Mail(sender=("西渡镇", "hyxxidujdb@163.com"), subject=f"西渡镇材料{i}", seed=f"c{i}",
                    attachments=[Att(f"{i}.jpg", files.jpeg(320, 240, seed=i))])  # fmt: skip
        (tmp_path / "inbox" / f"{i}.eml").write_bytes(mail.to_bytes())
    summary = run_once(load_config(path), NOW)
    assert any("发出 1 封" in line and "跳过 1 封" in line for line in summary.notices)
    assert len(list((tmp_path / "data" / "outbox").glob("*.eml"))) == 1
