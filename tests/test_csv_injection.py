"""CSV cells that Excel or WPS would run as a formula are neutralised (OWASP: a leading ')."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pandas as pd
import pytest

from outputs.csv import neutralise, write_csv
from tests.support import files
from tests.support.mails import Att, Mail
from tests.support.project import run_cli, write_config

HOSTILE_NAMES = ['=HYPERLINK("http://evil.example.com/","点我").jpg', "=cmd|' /C calc'!A0.jpg",
                 "+1+2.jpg", "-2+3.jpg", "@SUM(1+1).jpg"]  # fmt: skip


def _rows(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_formula_cells_in_attachments_csv_are_inert(tmp_path):
    """GIVEN a unit's mail whose file names, sender and Message-ID begin with = + - @
    WHEN the reports are written THEN every such cell of every CSV starts with ' and the rest
    of the text is kept as it was."""
    config = write_config(tmp_path)
    mail = Mail(
        sender=("西渡镇", "-attacker@qq.com"),
        subject="西渡镇禁毒志愿服务活动照片",
        message_id="=1+2@evil.example.com",
        attachments=[
            Att(name, files.jpeg(320, 240, seed=i)) for i, name in enumerate(HOSTILE_NAMES)
        ],
        seed="csv",
    )
    (tmp_path / "inbox" / "a.eml").write_bytes(mail.to_bytes())
    result = run_cli(config, "once")
    assert result.returncode == 0, result.stderr
    reports = tmp_path / "data" / "reports"
    cells = [cell for name in ("units.csv", "attachments.csv") for row in _rows(reports / name)
             for cell in row]  # fmt: skip
    assert cells and not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    for name in HOSTILE_NAMES:
        assert "'" + name in cells
    assert "'-attacker@qq.com" in cells and "'=1+2@evil.example.com" in cells


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138 0000 0000", "'+86 138 0000 0000"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-1", "-1"),  # a number stays a number
        ("-0.5", "-0.5"),
        ("+3", "+3"),
        ("-1+1", "'-1+1"),
        ("西渡镇", "西渡镇"),
        ("a=b", "a=b"),
        ("", ""),
        (3, 3),
    ],
)
def test_neutralise(cell, expected):
    assert neutralise(cell) == expected


def test_the_writer_neutralises_text_columns_of_any_csv(tmp_path):
    """integrity.csv and any later CSV go through the same writer."""
    frame = pd.DataFrame({"evidence": ['=WEBSERVICE("http://x")', "正常"], "measure": [0.5, 1.0]})
    write_csv(frame, tmp_path / "x.csv", datetime(2020, 12, 31, tzinfo=UTC))
    rows = [["evidence", "measure"], ['\'=WEBSERVICE("http://x")', "0.5"], ["正常", "1.0"]]
    assert _rows(tmp_path / "x.csv") == rows
    assert frame["evidence"][0].startswith("=")  # the caller's table is left as it was
