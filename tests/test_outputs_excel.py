"""The Excel ledger, read back with pandas and openpyxl."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from outputs._common import display_width
from outputs._xlsx import text_width
from outputs.excel import (
    LATE_FILL,
    MISSING_FILL,
    NOT_SUBMITTED_FILL,
    SHEETS,
    write_ledger,
)
from tests.support.ledger_snapshot import SNAPSHOT, VARIANTS, read
from tests.support.report_tables import (
    FORMULA_SUBJECT,
    HOSTILE_FILENAME,
    HOSTILE_SUBJECT,
    sample_tables,
)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    tables = sample_tables()
    path = tmp_path_factory.mktemp("ledger") / "台账.xlsx"
    write_ledger(path, tables)
    return path, tables


def _sheet_rows(ws) -> dict[str, dict[str, object]]:
    """Rows of a sheet keyed by the first column, as {header: cell}."""
    headers = [cell.value for cell in ws[1]]
    return {row[0].value: dict(zip(headers, row, strict=True)) for row in ws.iter_rows(min_row=2)}


def _color(cell) -> str | None:
    return cell.fill.start_color.rgb if cell.fill and cell.fill.fill_type == "solid" else None


def test_sheets_and_row_counts(ledger) -> None:
    path, tables = ledger
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == list(SHEETS)
    assert len(sheets["汇总"]) == len(tables.units)
    assert len(sheets["文件明细"]) == len(tables.attachments)
    assert len(sheets["评分明细"]) == len(tables.breakdown)
    assert len(sheets["待确认"]) == len(tables.review)
    assert len(sheets["先进个人候选"]) == len(tables.individuals)
    units = tables.units
    late_or_missing = ~units["submitted"] | ~units["on_time"] | ~units["complete"]
    assert sheets["逾期与缺报"]["单位"].tolist() == units.loc[late_or_missing, "unit"].tolist()


def test_summary_values_are_translated(ledger) -> None:
    path, tables = ledger
    summary = pd.read_excel(path, sheet_name="汇总", dtype=object).set_index("单位")
    assert list(summary.index) == tables.units["unit"].tolist()
    for header in (
        "类别",
        "是否报送",
        "按时报送",
        "首次报送时间",
        "照片",
        "总结报告",
        "事迹材料",
        "视频",
        "视频链接",
        "材料齐全",
        "缺少材料",
        "得分",
        "等级",
        "排名",
        "绩效扣分",
        "表彰",
        "通报",
        "通报原因",
        "材料文件夹",
    ):
        assert header in summary.columns, header
    xidu = summary.loc["西渡镇"]
    assert (xidu["是否报送"], xidu["按时报送"], xidu["材料齐全"], xidu["表彰"]) == (
        "是",
        "是",
        "是",
        "是",
    )
    assert xidu["得分"] == 92.5 and xidu["排名"] == 1 and xidu["等级"] == "优秀"
    assert xidu["首次报送时间"] == pd.Timestamp("2020-12-28 10:10:20")
    assert summary.loc["金兰镇", "缺少材料"] == "视频"
    assert summary.loc["金溪镇", "缺少材料"] == "照片、总结报告、事迹材料、视频"
    assert summary.loc["金溪镇", "是否报送"] == "否"
    assert summary.loc["金溪镇", "通报原因"] == "未报送"
    assert pd.isna(summary.loc["金溪镇", "排名"])
    assert pd.isna(summary.loc["金溪镇", "首次报送时间"])
    assert summary.loc["县公安局", "通报原因"] == "逾期报送"
    assert summary.loc["衡阳县工业园区", "通报原因"] == "逾期报送、材料不全、评分偏低"
    assert summary.loc["衡阳县工业园区", "缺少材料"] == "照片、总结报告"


def test_cells_formats_widths_and_frozen_header(ledger) -> None:
    path, _ = ledger
    workbook = openpyxl.load_workbook(path)
    summary = workbook["汇总"]
    assert summary.freeze_panes == "B2"
    for name in SHEETS[1:-1]:
        assert workbook[name].freeze_panes == "A2", name
        assert workbook[name].auto_filter.ref
    rows = _sheet_rows(summary)
    first = rows["西渡镇"]["首次报送时间"]
    assert first.value == datetime(2020, 12, 28, 10, 10, 20)
    assert first.number_format == "yyyy-mm-dd hh:mm"
    assert rows["西渡镇"]["得分"].number_format == "0.0"
    # CJK characters count double in the width.
    headers = [cell.value for cell in summary[1]]
    unit_width = summary.column_dimensions["A"].width
    assert unit_width >= display_width("衡阳县工业园区") + 2
    folder_col = openpyxl.utils.get_column_letter(headers.index("材料文件夹") + 1)
    assert summary.column_dimensions[folder_col].width >= display_width("materials/衡阳县工业园区")
    assert summary.column_dimensions["B"].width < unit_width


def test_late_and_missing_cells_are_highlighted(ledger) -> None:
    path, _ = ledger
    workbook = openpyxl.load_workbook(path)
    rows = _sheet_rows(workbook["汇总"])
    assert _color(rows["县公安局"]["按时报送"]) == LATE_FILL
    assert _color(rows["县公安局"]["逾期天数"]) == LATE_FILL
    assert _color(rows["西渡镇"]["按时报送"]) is None
    assert _color(rows["金兰镇"]["视频"]) == MISSING_FILL
    assert _color(rows["金兰镇"]["视频链接"]) == MISSING_FILL
    assert _color(rows["金兰镇"]["照片"]) is None
    assert _color(rows["金兰镇"]["缺少材料"]) == MISSING_FILL
    assert _color(rows["金溪镇"]["是否报送"]) == NOT_SUBMITTED_FILL
    for header in ("照片", "总结报告", "事迹材料", "视频"):
        assert _color(rows["金溪镇"][header]) == MISSING_FILL
    files = workbook["文件明细"]
    headers = [cell.value for cell in files[1]]
    late_col = headers.index("逾期")
    for row in files.iter_rows(min_row=2):
        expected = LATE_FILL if row[late_col].value == "是" else None
        assert _color(row[late_col]) == expected
    late_sheet = _sheet_rows(workbook["逾期与缺报"])
    assert late_sheet["县公安局"]["情况"].value == "逾期报送"
    assert late_sheet["衡阳县工业园区"]["情况"].value == "逾期报送、材料不全"
    assert late_sheet["金溪镇"]["情况"].value == "未报送"
    assert _color(late_sheet["金溪镇"]["情况"]) == NOT_SUBMITTED_FILL


def test_files_review_and_individuals(ledger) -> None:
    path, tables = ledger
    files = pd.read_excel(path, sheet_name="文件明细", dtype=object)
    links = files[files["类型"] == "链接"]
    assert len(links) == int((tables.attachments["kind"] == "link").sum())
    assert set(links["材料类别"]) == {"视频"}
    assert "x7k2" in links["提取码"].tolist()
    assert set(files["材料类别"]) <= {"照片", "总结报告", "事迹材料", "视频", "其他"}
    assert set(files["逾期"]) == {"是", "否"}
    assert any(HOSTILE_FILENAME in name for name in files["文件名或链接"])
    # Grouped by unit in registry order.
    order = [u for u in tables.units["unit"] if u in set(files["单位"])]
    assert list(dict.fromkeys(files["单位"])) == order

    review = openpyxl.load_workbook(path)["待确认"]
    subjects = [row[3] for row in review.iter_rows(min_row=2)]  # 编号, 收到时间, 发件人, 邮件主题
    assert subjects[0].value == HOSTILE_SUBJECT
    formula = next(cell for cell in subjects if str(cell.value).startswith("="))
    assert formula.value == FORMULA_SUBJECT and formula.data_type == "s"  # text, not a formula
    assert "\x0b" not in str(subjects[1].value) and subjects[1].value.endswith("禁毒材料")
    frame = pd.read_excel(path, sheet_name="待确认", dtype=object)
    assert frame.loc[0, "候选单位"] == "金兰镇、金溪镇"
    assert frame.loc[0, "文件名"] == "（整封邮件）"
    people = pd.read_excel(path, sheet_name="先进个人候选", dtype=object)
    assert people["姓名"].tolist() == tables.individuals["name"].tolist()
    assert list(people.columns) == ["姓名", "单位", "状态", "工作人员意见", "所在文件", "事迹摘录"]
    assert people["状态"].tolist() == ["已确认", "已确认", "待确认"]
    findings = pd.read_excel(path, sheet_name="疑点", dtype=object)
    assert list(findings.columns) == [
        "单位",
        "疑点",
        "文件",
        "对方单位",
        "对方文件",
        "数值",
        "依据",
    ]
    assert findings["疑点"].tolist() == ["与其他单位照片相同", "视频过短"]
    assert findings.loc[0, "依据"] == tables.integrity.loc[0, "evidence"]


def test_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "reports" / "台账.xlsx"
    write_ledger(path, sample_tables())
    before = path.read_bytes()
    assert [p.name for p in path.parent.iterdir()] == ["台账.xlsx"]

    def broken_write(self, data):  # a crash half way through writing
        with open(self, "wb") as out:
            out.write(data[:100])
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_bytes", broken_write)
    with pytest.raises(OSError, match="disk full"):
        write_ledger(path, sample_tables(n_units=3))
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["台账.xlsx"]


def test_empty_and_unusual_tables(tmp_path: Path) -> None:
    empty = sample_tables(n_units=0, with_review=False, with_individuals=False)
    path = tmp_path / "empty.xlsx"
    write_ledger(path, empty)
    sheets = pd.read_excel(path, sheet_name=None)
    assert all(len(sheets[name]) == 0 for name in SHEETS[:-1])
    assert list(sheets["汇总"].columns)[:2] == ["单位", "类别"]

    tables = sample_tables()
    units = tables.units.copy()
    units.loc[0, "notice_reasons"] = "late;custom_code"
    units.loc[0, "unit"] = "西渡镇\x07"
    write_ledger(tmp_path / "odd.xlsx", dataclasses.replace(tables, units=units))
    summary = pd.read_excel(tmp_path / "odd.xlsx", sheet_name="汇总")
    assert summary.loc[0, "单位"] == "西渡镇"
    assert summary.loc[0, "通报原因"] == "逾期报送、custom_code"


def _comparable(snapshot: dict) -> dict:
    """A snapshot with each cell's look spelled out, and widths as Excel shows them: whole
    characters (openpyxl stored the width as given; XlsxWriter adds the ~0.7 character padding
    Excel shows separately)."""
    content = {}
    for name, sheet in snapshot["content"].items():
        looks = sheet["looks"]
        content[name] = {
            **{key: value for key, value in sheet.items() if key not in ("styles", "looks")},
            "widths": {letter: int(width) for letter, width in sheet["widths"].items()},
            "cells": [[looks[index] for index in row] for row in sheet["styles"]],
        }
    return {**snapshot, "content": content}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_same_ledger_as_the_openpyxl_writer(variant: str, tmp_path: Path) -> None:
    """Every value, number format, fill, font, alignment, border, width, frozen pane, filter and
    page setting is what the openpyxl writer produced (tests/fixtures/ledger_snapshot.json)."""
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))[variant]
    path = tmp_path / "台账.xlsx"
    write_ledger(path, VARIANTS[variant]())
    actual = json.loads(json.dumps(read(path), ensure_ascii=False))
    assert actual["sheets"] == expected["sheets"] == list(SHEETS)
    assert actual["properties"] == expected["properties"]
    for name in SHEETS:
        got, want = _comparable(actual)["content"][name], _comparable(expected)["content"][name]
        for key in want:
            assert got[key] == want[key], (name, key)


def test_text_width_counts_wide_characters_lines_and_the_cap() -> None:
    texts = [
        "abc",
        "衡阳县工业园区",  # CJK: 2 each
        "ＡＢＣ（全角）",  # full-width forms: 2 each
        "cafe\u0301 noir",  # a combining accent takes no column
        "一行\n第二行更长一些",  # the widest line counts
        "tab\there",
    ]
    for text in texts:
        expected = max(display_width(line) for line in text.splitlines())
        assert text_width([text], 60) == expected, text
    assert text_width(texts, 60) == display_width("第二行更长一些") == 14
    assert text_width(["很长" * 100], 40) == 80  # cut at 40 characters: over any column's cap
    assert text_width([], 40) == 0
    assert text_width(["", "\n"], 40) == 0
