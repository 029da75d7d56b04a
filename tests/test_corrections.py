"""Staff corrections: stored with who/when/why, survive report, new polls and reprocess."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from tests.support import files
from tests.support.mails import Att, Mail
from tests.support.project import run_cli, snapshot, write_config

CST = timezone(timedelta(hours=8))


def _rows(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _units(root) -> dict[str, dict]:
    return {r["unit"]: r for r in _rows(root / "data" / "reports" / "units.csv")}


def _attachments(root) -> list[dict]:
    return _rows(root / "data" / "reports" / "attachments.csv")


def _ok(result):
    assert result.returncode == 0, result.stderr
    return result


def _message_id(root, subject: str) -> int:
    with sqlite3.connect(root / "data" / "ledger.sqlite3") as db:
        return db.execute("SELECT id FROM messages WHERE subject=?", (subject,)).fetchone()[0]


def _seq(root, message: int, filename: str) -> int:
    with sqlite3.connect(root / "data" / "ledger.sqlite3") as db:
        return db.execute(
            "SELECT seq FROM files WHERE message=? AND filename=?", (message, filename)
        ).fetchone()[0]


@pytest.fixture
def office(tmp_path):
    config = write_config(tmp_path)
    inbox = tmp_path / "inbox"
    received = "Received: from mx by mx.qq.com; Wed, 23 Dec 2020 10:12:20 +0800"
    unknown = Mail(
        sender=("小李", "lixiaoli@qq.com"),
        subject="活动照片",
        text="照片请查收",
        attachments=[Att("照片1.jpg", files.jpeg(400, 300, seed=1))],
        received=[received],
        seed="u",
    )
    xidu = Mail(
        sender=("西渡镇", "hyxxidujdb@163.com"),
        subject="西渡镇材料",
        attachments=[
            Att("材料.docx", files.docx(["西渡镇2020年禁毒工作总结", "正文"])),
            Att("视频.mp4", files.big_video(1)),
        ],
        received=[received],
        seed="x",
    )
    (inbox / "a.eml").write_bytes(unknown.to_bytes())
    (inbox / "b.eml").write_bytes(xidu.to_bytes())
    _ok(run_cli(config, "once"))
    return config, tmp_path


def test_assign_a_review_message_moves_its_files_and_survives_everything(office):
    config, root = office
    message = _message_id(root, "活动照片")
    assert (root / "data/materials/待确认/照片/照片1.jpg").exists()
    result = _ok(run_cli(config, "assign", str(message), "集兵镇", "--reason", "电话核实"))
    assert "已将" in result.stdout
    assert not (root / "data/materials/待确认/照片/照片1.jpg").exists()
    assert (root / "data/materials/集兵镇/照片/照片1.jpg").exists()
    assert _units(root)["集兵镇"]["submitted"] == "true"
    state = snapshot(root / "data")
    # GIVEN the correction WHEN report, a new poll and a full reprocess run THEN it holds.
    _ok(run_cli(config, "report"))
    _ok(run_cli(config, "once"))
    _ok(run_cli(config, "reprocess"))
    assert snapshot(root / "data") == state
    ledger = pd.read_excel(root / "data/reports/报送台账.xlsx", sheet_name="更正记录")
    assert ledger.loc[0, "更正类型"] == "指定邮件单位" and ledger.loc[0, "理由"] == "电话核实"


def test_learned_senders_are_confirmed_and_reapplied(office):
    config, root = office
    result = _ok(run_cli(config, "confirm-sender", "lixiaoli@qq.com", "集兵"))
    assert "集兵镇" in result.stdout
    assert _units(root)["集兵镇"]["photos"] == "1"
    _ok(run_cli(config, "reprocess"))  # a confirmed mapping is permanent
    assert _units(root)["集兵镇"]["photos"] == "1"


def test_change_category_and_exclude_a_file(office):
    config, root = office
    message = _message_id(root, "西渡镇材料")
    doc = f"{message}-{_seq(root, message, '材料.docx')}"
    video = f"{message}-{_seq(root, message, '视频.mp4')}"
    assert _units(root)["西渡镇"]["reports"] == "1"
    _ok(run_cli(config, "category", doc, "事迹材料", "--reason", "实为事迹"))
    units = _units(root)
    assert (units["西渡镇"]["reports"], units["西渡镇"]["deeds"]) == ("0", "1")
    assert (root / "data/materials/西渡镇/事迹材料/材料.docx").exists()
    assert not (root / "data/materials/西渡镇/总结报告").exists()
    _ok(run_cli(config, "exclude", video, "--reason", "与活动无关"))
    assert _units(root)["西渡镇"]["videos"] == "0"
    assert not (root / "data/materials/西渡镇/视频/视频.mp4").exists()
    _ok(run_cli(config, "reprocess"))
    units = _units(root)
    assert (units["西渡镇"]["deeds"], units["西渡镇"]["videos"]) == ("1", "0")


def test_import_extension_and_score_override(office, tmp_path):
    config, root = office
    usb = tmp_path / "usb"
    usb.mkdir()
    (usb / "总结报告.docx").write_bytes(files.docx(["金兰镇2020年禁毒工作总结", "招募志愿者62名"]))
    result = _ok(
        run_cli(
            config,
            "import",
            "金兰镇",
            str(usb / "总结报告.docx"),
            "--received",
            "2021-01-02T09:00:00+08:00",
            "--reason",
            "U盘报送",
        )
    )
    assert "导入 1 个文件" in result.stdout
    row = _units(root)["金兰镇"]
    assert (row["reports"], row["on_time"]) == ("1", "false")
    assert row["first_received"] == "2021-01-02T09:00:00+08:00"
    _ok(run_cli(config, "extend", "金兰镇", "2021-01-05T23:59:59+08:00", "--reason", "特殊情况"))
    assert _units(root)["金兰镇"]["on_time"] == "true"
    _ok(run_cli(config, "score", "金兰镇", "88.5", "--reason", "实地核查加分"))
    assert _units(root)["金兰镇"]["score"] == "88.5"
    breakdown = pd.read_excel(root / "data/reports/报送台账.xlsx", sheet_name="评分明细")
    mine = breakdown[breakdown["单位"] == "金兰镇"]
    assert mine["得分"].sum() == pytest.approx(88.5, abs=0.05)
    assert "人工调整" in set(mine["评分项"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("assign", "999", "西渡镇"), "没有编号为 999 的邮件"),
        (("assign", "1", "金蘭"), "单位名录中没有"),
        (("assign", "x-1", "西渡镇"), "格式不对"),
        (("category", "1", "照片"), "需指定文件编号"),
        (("category", "2-1", "图片"), "类别“图片”无效"),
        (("score", "西渡镇", "120", "--reason", "x"), "0–100"),
        (("score", "西渡镇", "80"), "须写明理由"),
        (("extend", "西渡镇", "下周一"), "看不懂时间"),  # a bare date is fine: the end of that day
        (
            ("import", "西渡镇", "/nonexistent.jpg", "--received", "2021-01-01T00:00:00+08:00"),
            "找不到文件",
        ),
    ],
)
def test_bad_corrections_are_one_line(office, args, expected):
    config, _ = office
    result = run_cli(config, *args)
    assert result.returncode == 2
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_corrections_survive_a_new_imap_poll(tmp_path, dovecot, imap_account):
    config = write_config(tmp_path / "office", imap_account)
    mail = Mail(
        sender=("小王", "wang@qq.com"),
        subject="照片",
        seed="w",
        attachments=[Att("1.jpg", files.jpeg(400, 300, seed=3))],
    )
    dovecot.append(imap_account.username, mail.to_bytes(), datetime(2020, 12, 20, tzinfo=CST))
    _ok(run_cli(config, "once", password="secret"))
    root = config.parent
    message = _message_id(root, "照片")
    _ok(run_cli(config, "assign", str(message), "台源镇", "--reason", "核实"))
    later = Mail(
        sender=("小王", "wang@qq.com"),
        subject="照片2",
        seed="w2",
        attachments=[Att("2.jpg", files.jpeg(400, 300, seed=4))],
    )
    dovecot.append(imap_account.username, later.to_bytes(), datetime(2020, 12, 21, tzinfo=CST))
    _ok(run_cli(config, "once", password="secret"))
    rows = [r for r in _attachments(root) if r["filename"] == "1.jpg"]
    assert rows[0]["unit"] == "台源镇" and rows[0]["uid"] == "1"
    assert _units(root)["台源镇"]["photos"] == "1"
