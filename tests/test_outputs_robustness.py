"""All writers on tables shaped differently from the sample: pandas string dtypes with missing
values, floats where integers were expected. Writers must never mutate the tables."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import docx
import numpy as np
import pandas as pd

from outputs.certificates import write_certificates
from outputs.dashboard import write_dashboard
from outputs.excel import write_ledger
from outputs.notice import write_notice
from tests.support.report_tables import sample_tables


def _write_all(tmp_path: Path, tables) -> list[Path]:
    reports = tmp_path / "data" / "reports"
    write_ledger(reports / "台账.xlsx", tables)
    write_notice(reports / "通报.docx", tables)
    certificates = write_certificates(reports / "荣誉证书", tables)
    write_dashboard(reports / "dashboard.html", tables, tmp_path / "data")
    return certificates


def test_writers_do_not_mutate_tables(tmp_path: Path) -> None:
    tables = sample_tables(hostile_unit_name=True)
    copies = {
        f.name: getattr(tables, f.name).copy(deep=True)
        for f in dataclasses.fields(tables)
        if isinstance(getattr(tables, f.name), pd.DataFrame)
    }
    _write_all(tmp_path, tables)
    for name, before in copies.items():
        pd.testing.assert_frame_equal(getattr(tables, name), before, check_exact=True)


def test_string_dtypes_missing_values_and_float_ranks(tmp_path: Path) -> None:
    tables = sample_tables()
    units = tables.units.copy()
    for column in ("unit", "category", "missing", "notice_reasons", "grade", "folder"):
        units[column] = units[column].astype("string")
    units.loc[2, ["missing", "notice_reasons", "grade"]] = pd.NA
    units.loc[7, "notice_reasons"] = np.nan
    units["rank"] = units["rank"].astype("float64")  # NaN instead of <NA>
    units["volunteers"] = units["volunteers"].astype("float64")
    review = tables.review.copy().astype({"unit": "string", "candidates": "string"})
    review.loc[0, ["unit", "candidates"]] = pd.NA
    attachments = tables.attachments.copy()
    attachments["link_code"] = attachments["link_code"].astype(object)
    attachments.loc[attachments["kind"] == "file", "link_code"] = None
    odd = dataclasses.replace(tables, units=units, review=review, attachments=attachments)

    certificates = _write_all(tmp_path, odd)

    reports = tmp_path / "data" / "reports"
    summary = pd.read_excel(reports / "台账.xlsx", sheet_name="汇总", dtype=object)
    assert summary["排名"].tolist()[:2] == [1, 5]
    assert pd.isna(summary.loc[2, "缺少材料"])
    assert [p.name for p in certificates][:2] == ["荣誉证书_西渡镇.docx", "荣誉证书_界牌镇.docx"]
    notice = docx.Document(str(reports / "通报.docx"))
    texts = [p.text for p in notice.paragraphs]
    assert "共1个单位未报送任何材料，名单见附件1。" in texts  # 金溪镇's reasons are missing
    names = next(t for t in notice.tables if t.rows[0].cells[-1].text == "单位类别")
    assert [r.cells[1].text for r in names.rows[1:]] == ["县教育局"]
    page = (reports / "dashboard.html").read_text(encoding="utf-8")
    block = page.split('id="dashboard-data">', 1)[1].split("</script>", 1)[0]
    rows = json.loads(block)["rows"]
    assert rows[0]["rank"] == 1 and rows[2]["rank"] is None
