"""What a 台账 looks like to the person who opens it, as plain JSON, for a golden comparison.

``read(path)`` reads an .xlsx back with openpyxl: sheet names and order, document properties,
and per sheet every cell's value and look (data type, number format, fill colour, bold,
alignment, border), column widths, frozen panes, autofilter and page setup. ``VARIANTS`` are
the tables it is taken from: the sample campaign, a larger one with every sheet filled
(corrections, sent mail, a score confirmation, alerts) and a hostile unit name, tables with odd
dtypes and missing values, and an empty campaign.

``tests/fixtures/ledger_snapshot.json`` was taken from the openpyxl writer the 台账 had before
it moved to XlsxWriter; ``tests/test_outputs_excel.py`` checks the current writer against it.
After a deliberate change to the 台账, regenerate it and review the diff:

    python -m tests.support.ledger_snapshot
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter

from outputs.tables import ReportTables, ScoreConfirmation
from tests.support.report_tables import DEADLINE, sample_tables

SNAPSHOT = Path(__file__).resolve().parents[1] / "fixtures" / "ledger_snapshot.json"


def _full() -> ReportTables:
    """16 units with a hostile name, and every optional sheet and note filled."""
    tables = sample_tables(16, hostile_unit_name=True)
    stamps = [DEADLINE + timedelta(days=d, minutes=7 * d) for d in (1, 2, 3)]
    corrections = pd.DataFrame(
        {
            "created_at": pd.to_datetime(stamps),
            "author": ["张三", "李四", "=cmd|' /C calc'!A0"],
            "kind": ["延期", "调整得分", "排除文件"],
            "target": ["金兰镇", "县公安局", "12-3"],
            "value": ["2021-01-05T23:59:59+08:00", 85.5, ""],
            "reason": ["网络故障\n邮件退回", "材料补充", None],
        }
    )
    sent = pd.DataFrame(
        {
            "created_at": pd.to_datetime(stamps[:2]),
            "kind": ["回执", "催报"],
            "unit": ["西渡镇", ""],
            "recipient": ["20480000@qq.com", "20487919@qq.com"],
            "subject": ["【回执】已收到西渡镇的材料", "@SUM(1+1)请尽快报送"],
            "status": ["已发送", "发送失败"],
            "detail": ["", "SMTP 550 mailbox unavailable"],
        }
    )
    campaign = dataclasses.replace(
        tables.campaign,
        alerts=("邮箱连续 3 次无法连接，请检查授权码",),
        confirmation=ScoreConfirmation(author="王主任", at=DEADLINE + timedelta(days=3)),
    )
    units = tables.units.copy()
    units.loc[[1, 4], "score_confirmed"] = False
    return dataclasses.replace(
        tables, corrections=corrections, sent=sent, campaign=campaign, units=units
    )


def _odd() -> ReportTables:
    """String dtypes with <NA>, NaN where strings were expected, float ranks, control characters,
    an unknown reason code, naive timestamps and strings in number columns' neighbours."""
    tables = sample_tables()
    units = tables.units.copy()
    for column in ("unit", "category", "missing", "notice_reasons", "grade", "folder"):
        units[column] = units[column].astype("string")
    units.loc[2, ["missing", "notice_reasons", "grade"]] = pd.NA
    units.loc[7, "notice_reasons"] = np.nan
    units.loc[0, "notice_reasons"] = "late;custom_code"
    units.loc[0, "unit"] = "西渡镇\x07"
    units["rank"] = units["rank"].astype("float64")
    units["volunteers"] = units["volunteers"].astype("float64")
    units["days_late"] = units["days_late"] + 0.75  # an "int" column holding fractions
    review = tables.review.copy().astype({"unit": "string", "candidates": "string"})
    review.loc[0, ["unit", "candidates"]] = pd.NA
    review["received_at"] = review["received_at"].dt.tz_localize(None)  # naive: taken as local
    attachments = tables.attachments.copy()
    attachments["link_code"] = attachments["link_code"].astype(object)
    attachments.loc[attachments["kind"] == "file", "link_code"] = None
    attachments.loc[3, "unit"] = None
    attachments.loc[5, "review_reason"] = "文件扩展名与内容不符\n请人工确认"
    attachments.loc[6, "filename"] = "  前后有空格的文件名.docx  "
    return dataclasses.replace(tables, units=units, review=review, attachments=attachments)


VARIANTS: dict[str, Callable[[], ReportTables]] = {
    "sample": sample_tables,
    "full": _full,
    "odd": _odd,
    "empty": lambda: sample_tables(0, with_review=False, with_individuals=False),
}


def _value(cell: Any) -> Any:
    value = cell.value
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    return value


def _look(cell: Any) -> dict[str, Any]:
    fill = cell.fill.start_color.rgb if cell.fill and cell.fill.fill_type == "solid" else None
    border = cell.border.left
    return {
        # "s" text, "n" number, "d" date, "f" a formula (never wanted); None: empty
        "type": None if cell.value is None else cell.data_type,
        "number_format": cell.number_format,
        "fill": fill,
        "bold": bool(cell.font.b),
        "horizontal": cell.alignment.horizontal,
        "vertical": cell.alignment.vertical,
        "wrap": bool(cell.alignment.wrap_text),
        "border": [border.style, border.color.rgb if border.color is not None else None],
    }


def _widths(ws: Any) -> dict[str, float]:
    """Set column widths by letter (a writer may give adjacent columns one <col> range)."""
    widths = {}
    for dimension in ws.column_dimensions.values():
        if dimension.customWidth:
            for index in range(dimension.min, dimension.max + 1):
                widths[get_column_letter(index)] = dimension.width
    return dict(sorted(widths.items(), key=lambda item: (len(item[0]), item[0])))


def _sheet(ws: Any) -> dict[str, Any]:
    looks: list[dict[str, Any]] = []
    rows, styles = [], []
    for row in ws.iter_rows():
        rows.append([_value(cell) for cell in row])
        style_row = []
        for cell in row:
            look = _look(cell)
            if look not in looks:
                looks.append(look)
            style_row.append(looks.index(look))
        styles.append(style_row)
    setup = ws.page_setup
    return {
        "freeze": ws.freeze_panes,
        "filter": ws.auto_filter.ref,
        "print_titles": ws.print_title_rows,
        "page": [
            setup.orientation,
            setup.paperSize,
            bool(ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage),
            *(1 if fit is None else fit for fit in (setup.fitToWidth, setup.fitToHeight)),
        ],  # an absent fitToWidth/fitToHeight means 1
        "widths": _widths(ws),
        "values": rows,
        "styles": styles,
        "looks": looks,
    }


def read(path: Path) -> dict[str, Any]:
    workbook = openpyxl.load_workbook(path)
    return {
        "sheets": workbook.sheetnames,
        "properties": [workbook.properties.creator, workbook.properties.title],
        "content": {ws.title: _sheet(ws) for ws in workbook.worksheets},
    }


def take(write: Callable[[Path, ReportTables], object]) -> dict[str, Any]:
    """The snapshot of every variant as ``write`` renders it."""
    with tempfile.TemporaryDirectory() as folder:
        snapshots = {}
        for name, build in VARIANTS.items():
            path = Path(folder) / f"{name}.xlsx"
            write(path, build())
            snapshots[name] = read(path)
        return snapshots


def main() -> None:
    from outputs.excel import write_ledger

    text = json.dumps(take(write_ledger), ensure_ascii=False, indent=None, separators=(",", ":"))
    SNAPSHOT.write_text(text.replace("],[", "],\n["), encoding="utf-8")
    print(f"wrote {SNAPSHOT}")


if __name__ == "__main__":
    main()
