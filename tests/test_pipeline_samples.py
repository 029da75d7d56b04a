"""The README's quick start, end to end on the bundled sample inbox, and report/reprocess."""

from __future__ import annotations

import csv
import io
import shutil

import pandas as pd
import pytest
from docx import Document

from tests.support.project import REPO, run_cli, snapshot, tree


def _rows(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The shipped config.yaml run as-is on a copy of the repository's samples."""
    root = tmp_path_factory.mktemp("demo")
    shutil.copy(REPO / "config.yaml", root / "config.yaml")
    shutil.copy(REPO / "registry.csv", root / "registry.csv")
    shutil.copytree(REPO / "samples" / "inbox", root / "samples" / "inbox")
    result = run_cli(root / "config.yaml", "once")
    assert result.returncode == 0, result.stderr
    return root, result


def test_quick_start_prints_a_chinese_summary(demo):
    _, result = demo
    assert "新邮件 13 封" in result.stdout
    assert "报表：60 个单位，已报送 7" in result.stdout
    assert result.stderr == ""


def test_units_csv_matches_the_samples_readme(demo):
    root, _ = demo
    units = {r["unit"]: r for r in _rows(root / "data" / "reports" / "units.csv")}
    assert len(units) == 60
    expect = {  # unit: (complete, on_time, photos, reports, deeds, videos, video_links, missing)
        "西渡镇": ("true", "true", "3", "1", "1", "1", "0", ""),
        "演陂镇": ("true", "true", "3", "1", "1", "0", "1", ""),
        "樟树乡": ("true", "true", "2", "1", "1", "1", "0", ""),
        "曲兰镇": ("false", "true", "2", "0", "0", "0", "1", "report;deeds"),
        "县教育局": ("false", "true", "2", "1", "1", "0", "0", "video"),
        "县交通运输局": ("false", "true", "1", "1", "0", "0", "0", "deeds;video"),
        "金兰镇": ("true", "false", "2", "1", "1", "1", "0", ""),
    }
    fields = ("complete", "on_time", "photos", "reports", "deeds", "videos", "video_links")
    for unit, values in expect.items():
        row = units[unit]
        assert tuple(row[f] for f in (*fields, "missing")) == values, unit
        assert row["submitted"] == "true"
    assert "late" in units["金兰镇"]["notice_reasons"].split(";")
    assert units["西渡镇"]["last_received"] == "2020-12-29T15:30:00+08:00"
    jibing = units["集兵镇"]
    assert (jibing["submitted"], jibing["missing"], jibing["notice_reasons"], jibing["score"]) == (
        "false",
        "photos;report;deeds;video",
        "not_submitted",
        "0.0",
    )
    assert jibing["rank"] == "" and jibing["first_received"] == ""


def test_attachments_csv_contract(demo):
    root, _ = demo
    text = (root / "data" / "reports" / "attachments.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    rows = _rows(root / "data" / "reports" / "attachments.csv")
    assert list(rows[0]) == [
        "message_id",
        "uid",
        "received_at",
        "sender",
        "unit",
        "filename",
        "category",
        "size",
        "sha256",
        "path",
    ]
    for row in rows:
        assert row["uid"] == ""  # folder source
        if row["size"]:
            stored = root / "data" / row["path"]
            assert stored.is_file() and stored.stat().st_size == int(row["size"])
        else:
            assert row["category"] == "video" and row["filename"].startswith("https://")
    by_sha: dict[str, set] = {}
    for row in rows:
        if row["sha256"]:
            by_sha.setdefault(row["sha256"], set()).add((row["unit"], row["category"]))
    assert all(len(v) == 1 for v in by_sha.values())
    review = [r for r in rows if r["unit"] == ""]
    assert review and all(r["path"].startswith("materials/待确认/") for r in review)


def test_every_report_kind_is_written(demo):
    root, _ = demo
    reports = root / "data" / "reports"
    for name in ("报送台账.xlsx", "通报草稿.docx", "报送看板.html"):
        assert (reports / name).stat().st_size > 1000
    sheets = pd.read_excel(reports / "报送台账.xlsx", sheet_name=None)
    assert {"汇总", "文件明细", "待确认"} <= set(sheets)
    notice = "\n".join(p.text for p in Document(reports / "通报草稿.docx").paragraphs)
    assert "金兰镇" in notice and "通报" in notice
    # 西渡镇's report covers all six work items: it is the one award of the demo.
    awarded = [r["unit"] for r in _rows(reports / "units.csv") if r["award"] == "true"]
    assert awarded == ["西渡镇"]
    assert [p.name for p in (reports / "荣誉证书").iterdir()] == ["荣誉证书_西渡镇.docx"]


def test_report_rebuilds_the_same_content(demo, tmp_path):
    root, _ = demo
    reports = root / "data" / "reports"
    before = {
        n: (reports / n).read_text(encoding="utf-8-sig") for n in ("units.csv", "attachments.csv")
    }
    xlsx_before = pd.read_excel(reports / "报送台账.xlsx", sheet_name=None)
    result = run_cli(root / "config.yaml", "report")
    assert result.returncode == 0, result.stderr
    for name, text in before.items():
        assert (reports / name).read_text(encoding="utf-8-sig") == text
    xlsx_after = pd.read_excel(reports / "报送台账.xlsx", sheet_name=None)
    for sheet, frame in xlsx_before.items():
        if sheet != "说明":  # holds the generation time
            pd.testing.assert_frame_equal(frame, xlsx_after[sheet])


def test_reprocess_is_idempotent(demo):
    root, _ = demo
    data = root / "data"
    before = snapshot(data)
    first = run_cli(root / "config.yaml", "reprocess")
    assert first.returncode == 0, first.stderr
    assert "重新分拣邮件 13 封" in first.stdout
    assert snapshot(data) == before


def test_a_deleted_report_is_rebuilt_by_once(demo):
    root, _ = demo
    (root / "data" / "reports" / "units.csv").unlink()
    result = run_cli(root / "config.yaml", "once")
    assert result.returncode == 0 and "新邮件 0 封" in result.stdout
    assert (root / "data" / "reports" / "units.csv").exists()
    assert tree(root / "data" / "materials")
