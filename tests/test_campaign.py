"""A simulated campaign against real servers: Dovecot for the mailbox, aiosmtpd for replies.

Units mail over several weeks across the deadline; the office runs `once`, a reminder run and a
correction; the receipts, reminders and final reports must be right.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from tests.support import files
from tests.support.mails import Att, Mail, auto_reply, newsletter
from tests.support.project import run_cli, write_config
from tests.support.smtp import SmtpServer

CST = timezone(timedelta(hours=8))
OFFICE = "hyxjdb@qq.com"


def at(month: int, day: int, hour: int = 10) -> datetime:
    year = 2021 if month == 1 else 2020
    return datetime(year, month, day, hour, tzinfo=CST)


def _units(root) -> dict[str, dict]:
    text = (root / "data/reports/units.csv").read_text(encoding="utf-8-sig")
    return {r["unit"]: r for r in csv.DictReader(io.StringIO(text))}


def _body(message) -> str:
    return message.get_body(("plain",)).get_content()


@pytest.fixture
def campaign(tmp_path, dovecot, imap_account):
    with SmtpServer() as smtp:
        config = write_config(
            tmp_path / "office",
            imap_account,
            campaign={"deadline": "2020-12-31T23:59:59+08:00", "office_addresses": [OFFICE]},
            smtp=smtp.config(),
            notify={"receipts": True, "dry_run": False},
        )
        yield config, imap_account, smtp


def once(config):
    result = run_cli(config, "once", password="secret")
    assert result.returncode == 0, result.stderr
    return result


def test_full_campaign(campaign, dovecot):
    config, account, smtp = campaign
    user = account.username
    root = config.parent

    # Week 1: 西渡镇 sends photos and its report from its registered address.
    first = Mail(
        sender=("西渡镇禁毒办", "hyxxidujdb@163.com"),
        subject="西渡镇禁毒志愿服务材料（一）",
        attachments=[
            Att("活动照片.jpg", files.jpeg(800, 600, seed=1)),
            Att("西渡镇工作总结.docx", files.docx(["西渡镇2020年禁毒工作总结", "招募志愿者62名"])),
        ],
        seed="xidu1",
    )
    dovecot.append(user, first.to_bytes(), at(12, 10))
    # Not submissions: an auto-reply from a registered unit and a newsletter.
    dovecot.append(user, auto_reply(first, sender=("集兵镇", "jibingzjdb@163.com")).to_bytes(),
                   at(12, 11))  # fmt: skip
    dovecot.append(user, newsletter(subject="禁毒周刊").to_bytes(), at(12, 12))
    result = once(config)
    assert "回执：发出 1 封" in result.stdout

    receipts = smtp.sink.messages()
    assert len(receipts) == 1
    rcpt, receipt = receipts[0]
    assert rcpt == ["hyxxidujdb@163.com"]
    assert receipt["Auto-Submitted"] == "auto-replied"
    assert receipt["In-Reply-To"].strip("<>") == first.message_id_value().strip("<>")
    body = _body(receipt)
    assert "西渡镇" in body and "事迹材料" in body and "视频" in body  # still missing

    # A second poll sends nothing again.
    once(config)
    assert len(smtp.sink.received) == 1

    # Reminder run: every registered unit not submitted or incomplete, once per interval.
    reminded = run_cli(config, "remind", password="secret")
    assert reminded.returncode == 0, reminded.stderr
    reminders = smtp.sink.messages()[1:]
    recipients = {tuple(rcpt) for rcpt, _ in reminders}
    assert ("hyxxidujdb@163.com",) in recipients  # incomplete
    assert ("jinlanzhen_zzb@163.com",) in recipients  # not submitted
    assert all(m["Auto-Submitted"] == "auto-generated" for _, m in reminders)
    count = len(smtp.sink.received)
    again = run_cli(config, "remind", password="secret")
    assert again.returncode == 0 and len(smtp.sink.received) == count  # interval respected

    # Week 3: 西渡镇 completes (deeds + a QQ 超大附件 video link); an unknown sender writes.
    second = Mail(
        sender=("西渡镇禁毒办", "hyxxidujdb@163.com"),
        subject="西渡镇禁毒志愿服务材料（二）",
        text="视频较大，用超大附件发送：https://wx.mail.qq.com/ftn/download?func=3&k=abc123",
        attachments=[
            Att("张三同志先进事迹材料.docx", files.docx(["张三同志先进事迹材料", "事迹"]))
        ],
        seed="xidu2",
    )
    unknown = Mail(sender=("小刘", "liu@qq.com"), subject="照片", seed="liu",
                   attachments=[Att("1.jpg", files.jpeg(640, 480, seed=9))])  # fmt: skip
    dovecot.append(user, second.to_bytes(), at(12, 28))
    dovecot.append(user, unknown.to_bytes(), at(12, 29))
    # After the deadline: 金兰镇 sends everything, late.
    late = Mail(
        sender=("金兰镇", "jinlanzhen_zzb@163.com"),
        subject="金兰镇年终材料",
        attachments=[
            Att("照片.jpg", files.jpeg(800, 600, seed=2)),
            Att("金兰镇工作总结.docx", files.docx(["金兰镇2020年禁毒工作总结"])),
            Att("王五同志先进事迹.docx", files.docx(["王五同志先进事迹"])),
            Att("宣传.mp4", files.mp4()),
        ],
        seed="jinlan",
    )
    dovecot.append(user, late.to_bytes(), at(1, 3))
    before = len(smtp.sink.received)
    once(config)
    new = smtp.sink.messages()[before:]
    by_rcpt = {rcpt[0]: m for rcpt, m in new}
    assert set(by_rcpt) == {"hyxxidujdb@163.com", "liu@qq.com", "jinlanzhen_zzb@163.com"}
    assert "已齐全" in _body(by_rcpt["hyxxidujdb@163.com"])
    assert "截止" in _body(by_rcpt["jinlanzhen_zzb@163.com"])
    assert "未能识别" in _body(by_rcpt["liu@qq.com"]) or "人工" in _body(by_rcpt["liu@qq.com"])

    # Correction: the unknown sender was 井头镇's volunteer.
    with sqlite3.connect(root / "data/ledger.sqlite3") as db:
        (message,) = db.execute("SELECT id FROM messages WHERE sender='liu@qq.com'").fetchone()
    fixed = run_cli(config, "assign", str(message), "井头镇", "--reason", "电话核实")
    assert fixed.returncode == 0, fixed.stderr

    units = _units(root)
    xidu, jinlan, jingtou = units["西渡镇"], units["金兰镇"], units["井头镇"]
    assert (xidu["complete"], xidu["on_time"], xidu["video_links"]) == ("true", "true", "1")
    assert (jinlan["complete"], jinlan["on_time"]) == ("true", "false")
    assert "late" in jinlan["notice_reasons"]
    assert (jingtou["submitted"], jingtou["photos"]) == ("true", "1")
    assert units["集兵镇"]["submitted"] == "false"  # its auto-reply is no submission
    sent = pd.read_excel(root / "data/reports/报送台账.xlsx", sheet_name="发信记录")
    assert (sent["类型"] == "回执").sum() == 4
    assert (sent["类型"] == "催报").sum() == len(reminders)
    assert set(sent["状态"]) == {"已发送"}


def test_dry_run_writes_the_outbox_and_sends_nothing(tmp_path, dovecot, imap_account):
    with SmtpServer() as smtp:
        config = write_config(
            tmp_path / "office", imap_account, smtp=smtp.config(),
            campaign={"deadline": "2020-12-31T23:59:59+08:00", "office_addresses": [OFFICE]},
            notify={"receipts": True},  # dry_run is the default
        )  # fmt: skip
        mail = Mail(sender=("西渡镇", "hyxxidujdb@163.com"), subject="西渡镇材料", seed="d",
                    attachments=[Att("1.jpg", files.jpeg(400, 300, seed=1))])  # fmt: skip
        dovecot.append(imap_account.username, mail.to_bytes(), at(12, 20))
        result = once(config)
        assert "演练模式" in result.stdout
        assert smtp.sink.received == []
        written = list((config.parent / "data" / "outbox").glob("*.eml"))
        assert len(written) == 1 and b"Auto-Submitted: auto-replied" in written[0].read_bytes()
