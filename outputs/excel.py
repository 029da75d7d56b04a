"""The Excel ledger (台账) staff keep and print.

``write_ledger(path, tables)`` renders a ``ReportTables`` into one .xlsx workbook:
汇总 (one row per unit), 文件明细 (every stored file and cloud link), 逾期与缺报, 评分明细, 疑点,
待确认 (the review queue), 先进个人候选, 更正记录 (staff corrections), 发信记录 (mail the office
sent), and a short 说明 sheet with the colour legend.

Only rendering happens here: values come from the tables; codes are translated into Chinese,
booleans shown as 是/否, times as 'YYYY-MM-DD HH:MM' in the campaign's zone. Cells holding text
from mail are always stored as text (a subject starting with "=" never becomes a formula).

Written with XlsxWriter, a column at a time (``outputs._xlsx``): a campaign of 50,000 files is
some 800,000 cells; openpyxl, cell by cell, took about three times as long
(benchmarks/excel.py).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from xlsxwriter.workbook import Workbook

from contract import CATEGORIES, INTEGRITY_KIND_LABELS, MISSING_LABELS
from outputs._common import (
    KIND_LABELS,
    category_label,
    each_distinct,
    format_datetime,
    missing_label,
    reasons_label,
    split_codes,
    write_report,
    xml_safe,
    yes_no,
)
from outputs._xlsx import Column, Looks, write_sheet
from outputs.tables import ReportTables

# How the 台账 names a candidate individual's status (scoring/decisions.py codes).
INDIVIDUAL_STATUS = {"candidate": "待确认", "confirmed": "已确认", "rejected": "不予表彰"}

SHEET_SUMMARY = "汇总"
SHEET_FILES = "文件明细"
SHEET_LATE = "逾期与缺报"
SHEET_BREAKDOWN = "评分明细"
SHEET_REVIEW = "待确认"
SHEET_INTEGRITY = "疑点"
SHEET_INDIVIDUALS = "先进个人候选"
SHEET_README = "说明"
SHEET_CORRECTIONS = "更正记录"
SHEET_SENT = "发信记录"
SHEETS = (
    SHEET_SUMMARY,
    SHEET_FILES,
    SHEET_LATE,
    SHEET_BREAKDOWN,
    SHEET_INTEGRITY,
    SHEET_REVIEW,
    SHEET_INDIVIDUALS,
    SHEET_CORRECTIONS,
    SHEET_SENT,
    SHEET_README,
)

# Fill colours (ARGB, as a reader such as openpyxl reports them). Late: orange; missing
# material: yellow; nothing sent: red; award: green.
LATE_FILL = "FFF8CBAD"
MISSING_FILL = "FFFFE699"
NOT_SUBMITTED_FILL = "FFFF9999"
AWARD_FILL = "FFC6EFCE"

# Unit count columns per ``missing`` code: which cells to mark when that material is missing
# (a video link satisfies the video requirement, so both video columns are marked).
_MISSING_COUNT_COLUMNS = {
    **{c.required: (c.count_column,) for c in CATEGORIES if c.required},
    "video": ("videos", "video_links"),
}
_COUNT_HEADERS = {
    **{c.count_column: c.label for c in CATEGORIES if c.count_column},
    "video_links": "视频链接",
}


def _get(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column of the table, or an empty one when the table lacks it."""
    if name in frame.columns:
        return frame[name]
    return pd.Series(None, index=frame.index, dtype=object)


def _field(name: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda frame: _get(frame, name)


def _shown(name: str, func: Callable[[Any], Any]) -> Callable[[pd.DataFrame], np.ndarray]:
    """A column shown through ``func`` (a label, 是/否 ...)."""
    return lambda frame: each_distinct(_get(frame, name), func)


def _truthy(frame: pd.DataFrame, name: str) -> np.ndarray:
    truthy = each_distinct(_get(frame, name), lambda value: value is not None and bool(value))
    return truthy.astype(bool)


def _marked(mask: np.ndarray, fill: str, otherwise: Any = None) -> np.ndarray:
    return np.where(mask, fill, otherwise).astype(object)


def _missing_codes(frame: pd.DataFrame) -> np.ndarray:
    return each_distinct(_get(frame, "missing"), lambda value: frozenset(split_codes(value)))


def _summary_columns() -> list[Column]:
    return [
        Column("单位", _field("unit")),
        Column("类别", _field("category")),
        Column("是否报送", _shown("submitted", yes_no)),
        Column("按时报送", _shown("on_time", yes_no)),
        Column("首次报送时间", _field("first_received"), "datetime"),
        Column("最后报送时间", _field("last_received"), "datetime"),
        Column("逾期天数", _field("days_late"), "int", "0"),
        *(Column(header, _field(key), "int", "0") for key, header in _COUNT_HEADERS.items()),
        Column("材料齐全", _shown("complete", yes_no)),
        Column("缺少材料", _shown("missing", missing_label)),
        Column("得分", _field("score"), "float", "0.0"),
        Column("等级", _field("grade")),
        Column("排名", _field("rank"), "int", "0"),
        Column("绩效扣分", _field("deduction"), "float", "0.0"),
        Column("志愿者人数", _field("volunteers"), "int", "0"),
        Column("需人工核查", _shown("needs_manual", yes_no)),
        Column("表彰", _shown("award", yes_no)),
        Column("通报", _shown("notice", yes_no)),
        Column("通报原因", _shown("notice_reasons", reasons_label)),
        Column("评分已确认", _shown("score_confirmed", yes_no)),
        Column("待确认后通报", _shown("pending_reasons", reasons_label)),
        Column("疑点", _field("findings"), "int", "0"),
        Column("材料文件夹", _field("folder")),
    ]


def _summary_fills(units: pd.DataFrame) -> dict[str, np.ndarray]:
    submitted = _truthy(units, "submitted")
    late = submitted & ~_truthy(units, "on_time")
    missing = _missing_codes(units)
    any_missing = np.array([bool(codes) for codes in missing], dtype=bool)
    fills = {
        "是否报送": _marked(~submitted, NOT_SUBMITTED_FILL),
        "按时报送": _marked(late, LATE_FILL),
        "逾期天数": _marked(late, LATE_FILL),
        "缺少材料": _marked(any_missing, MISSING_FILL),
        "材料齐全": _marked(any_missing, MISSING_FILL),
        "表彰": _marked(_truthy(units, "award"), AWARD_FILL),
    }
    for code, count_columns in _MISSING_COUNT_COLUMNS.items():
        lacking = np.array([code in codes for codes in missing], dtype=bool)
        for count_column in count_columns:
            header = _COUNT_HEADERS[count_column]
            fills[header] = _marked(lacking, MISSING_FILL, fills.get(header))
    return fills


def _late_or_missing(units: pd.DataFrame) -> pd.DataFrame:
    keep = ~_truthy(units, "submitted") | ~_truthy(units, "on_time") | ~_truthy(units, "complete")
    return units[keep]


def _situation(units: pd.DataFrame) -> np.ndarray:
    submitted = _truthy(units, "submitted")
    late, incomplete = ~_truthy(units, "on_time"), ~_truthy(units, "complete")
    return np.select(
        [~submitted, late & incomplete, late, incomplete],
        ["未报送", "逾期报送、材料不全", "逾期报送", "材料不全"],
        "",
    ).astype(object)


def _late_columns() -> list[Column]:
    return [
        Column("单位", _field("unit")),
        Column("类别", _field("category")),
        Column("情况", _situation),
        Column("首次报送时间", _field("first_received"), "datetime"),
        Column("最后报送时间", _field("last_received"), "datetime"),
        Column("逾期天数", _field("days_late"), "int", "0"),
        Column("逾期报送的材料", _shown("late_items", missing_label)),
        Column("缺少材料", _shown("missing", missing_label)),
        Column("得分", _field("score"), "float", "0.0"),
        Column("绩效扣分", _field("deduction"), "float", "0.0"),
        Column("通报原因", _shown("notice_reasons", reasons_label)),
    ]


def _late_fills(units: pd.DataFrame) -> dict[str, np.ndarray]:
    submitted = _truthy(units, "submitted")
    late = submitted & ~_truthy(units, "on_time")
    missing = submitted & np.array([bool(codes) for codes in _missing_codes(units)], dtype=bool)
    situation = np.select(
        [~submitted, late, missing], [NOT_SUBMITTED_FILL, LATE_FILL, MISSING_FILL], ""
    )
    return {
        "情况": _marked(situation != "", situation),
        "逾期天数": _marked(late, LATE_FILL),
        "缺少材料": _marked(~submitted | missing, MISSING_FILL),
    }


def _size_kb(files: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(_get(files, "size"), errors="coerce") / 1024


def _file_columns() -> list[Column]:
    return [
        Column("编号", _field("ref")),
        Column("收到时间", _field("received_at"), "datetime"),
        Column("单位", _field("unit")),
        Column("发件人", _field("sender")),
        Column("文件名或链接", _field("filename"), max_width=70),
        Column("材料类别", _shown("category", category_label)),
        Column("类型", _shown("kind", lambda v: KIND_LABELS.get(str(v or ""), v))),
        Column("大小（KB）", _size_kb, "float", "#,##0.0"),
        Column("提取码", _field("link_code")),
        Column("逾期", _shown("late", yes_no)),
        Column("待确认原因", _field("review_reason"), wrap=True, max_width=40),
        Column("存放位置", _field("path"), max_width=70),
        Column("邮件编号", _field("message_id"), max_width=40),
        Column("UID", _field("uid"), "int", "0"),
        Column("SHA-256", _field("sha256"), max_width=20),
    ]


def _file_fills(files: pd.DataFrame) -> dict[str, np.ndarray]:
    late = _truthy(files, "late")
    waiting = each_distinct(_get(files, "review_reason"), lambda v: v is not None and str(v) != "")
    unknown = each_distinct(_get(files, "unit"), lambda v: v is None or not v)
    return {
        "收到时间": _marked(late, LATE_FILL),
        "逾期": _marked(late, LATE_FILL),
        "待确认原因": _marked(waiting.astype(bool), MISSING_FILL),
        "单位": _marked(unknown.astype(bool), MISSING_FILL),
    }


def _sorted_attachments(tables: ReportTables) -> pd.DataFrame:
    """Files grouped by unit in registry order (unassigned last), then by receive time."""
    files = _table(tables.attachments)
    if files.empty:
        return files
    order = {unit: i for i, unit in enumerate(tables.units["unit"].tolist())}
    position = each_distinct(_get(files, "unit"), lambda unit: order.get(unit, len(order)))
    received = pd.to_datetime(_get(files, "received_at"), utc=True)  # no zone: taken as UTC
    seconds = (received - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    stamps = seconds.to_numpy(dtype="float64", na_value=np.inf)
    return files.iloc[np.lexsort((stamps, position.astype(np.int64)))]


def _breakdown_columns() -> list[Column]:
    return [
        Column("单位", _field("unit")),
        Column("评分项", _field("criterion")),
        Column("得分", _field("points"), "float", "0.0"),
        Column("满分", _field("max_points"), "float", "0.0"),
        Column("评分依据", _field("evidence"), wrap=True, max_width=60),
    ]


def _review_columns() -> list[Column]:
    return [
        Column("编号", _field("ref")),
        Column("收到时间", _field("received_at"), "datetime"),
        Column("发件人", _field("sender")),
        Column("邮件主题", _field("subject"), wrap=True, max_width=50),
        Column("单位", _field("unit")),
        Column(
            "文件名", _shown("filename", lambda v: v or "（整封邮件）"), wrap=True, max_width=50
        ),
        Column("原因", _field("reason"), wrap=True, max_width=40),
        Column("候选单位", _shown("candidates", lambda v: "、".join(split_codes(v)))),
        Column("存放位置", _field("path"), max_width=60),
    ]


def _correction_columns() -> list[Column]:
    return [
        Column("时间", _field("created_at"), "datetime"),
        Column("操作人", _field("author")),
        Column("更正类型", _field("kind")),
        Column("对象", _field("target"), max_width=50),
        Column("更正为", _field("value")),
        Column("理由", _field("reason"), wrap=True, max_width=50),
    ]


def _sent_columns() -> list[Column]:
    return [
        Column("时间", _field("created_at"), "datetime"),
        Column("类型", _field("kind")),
        Column("单位", _field("unit")),
        Column("收件人", _field("recipient")),
        Column("主题", _field("subject"), wrap=True, max_width=50),
        Column("状态", _field("status")),
        Column("说明", _field("detail"), wrap=True, max_width=40),
    ]


def _integrity_columns() -> list[Column]:
    return [
        Column("单位", _field("unit")),
        Column("疑点", _shown("kind", lambda v: INTEGRITY_KIND_LABELS.get(v, v))),
        Column("文件", _field("path"), max_width=50),
        Column("对方单位", _field("other_unit")),
        Column("对方文件", _field("other_path"), max_width=50),
        Column("数值", _field("measure"), "float", "0.##"),
        Column("依据", _field("evidence"), wrap=True, max_width=70),
    ]


def _individual_columns() -> list[Column]:
    return [
        Column("姓名", _field("name")),
        Column("单位", _field("unit")),
        Column("状态", _shown("status", lambda v: INDIVIDUAL_STATUS.get(v, v or ""))),
        Column("工作人员意见", _field("note"), wrap=True, max_width=40),
        Column("所在文件", _field("document"), max_width=50),
        Column("事迹摘录", _field("excerpt"), wrap=True, max_width=70),
    ]


def _confirmation(tables: ReportTables) -> str:
    confirmed = tables.campaign.confirmation
    if confirmed is None:
        return (
            "尚未确认（确认前通报不列评分偏低单位）：核对评分后在管理台“确认评分”页确认"
            "（或运行 confirm-scores）"
        )
    tz = tables.campaign.deadline.tzinfo
    units = tables.units
    changed = units.loc[units["submitted"] & ~units.get("score_confirmed", True), "unit"]
    note = f"；此后得分有变化、需重新确认：{'、'.join(changed)}" if len(changed) else ""
    return f"{format_datetime(confirmed.at, tz)} 由 {xml_safe(confirmed.author)} 确认{note}"


def _readme_rows(tables: ReportTables) -> list[tuple[str, str, str | None]]:
    campaign = tables.campaign
    tz = campaign.deadline.tzinfo
    return [
        ("活动", xml_safe(campaign.title), None),
        ("发文机关", xml_safe(campaign.office), None),
        ("报送截止时间", format_datetime(campaign.deadline, tz), None),
        ("台账生成时间", format_datetime(campaign.generated_at, tz), None),
        ("评分确认", _confirmation(tables), None),
        *(("注意", xml_safe(alert), MISSING_FILL) for alert in campaign.alerts),
        ("", "", None),
        ("颜色说明", "", None),
        ("红色", "未报送", NOT_SUBMITTED_FILL),
        ("橙色", "逾期报送（截止时间以邮件服务器收信时间为准）", LATE_FILL),
        ("黄色", "缺少材料、待确认或未确定单位", MISSING_FILL),
        ("绿色", "拟表彰", AWARD_FILL),
        ("", "", None),
        (
            "材料类别",
            "、".join(MISSING_LABELS.values())
            + "；视频可用超大附件或网盘链接代替，请在链接过期前下载",
            None,
        ),
    ]


def _write_readme(workbook: Workbook, looks: Looks, tables: ReportTables) -> None:
    ws = workbook.add_worksheet(SHEET_README)
    for row, (label, value, fill) in enumerate(_readme_rows(tables)):
        if label:
            ws.write_string(row, 0, label, looks.label(fill))
        else:
            ws.write_blank(row, 0, None, looks.label(fill))
        if value:
            ws.write_string(row, 1, value)
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 80)


def _table(frame: pd.DataFrame | None) -> pd.DataFrame:
    return pd.DataFrame() if frame is None else frame


def render_ledger(tables: ReportTables) -> bytes:
    """The 台账 as the bytes of an .xlsx file."""
    tz = tables.campaign.deadline.tzinfo
    buffer = io.BytesIO()
    workbook = Workbook(buffer, {"in_memory": True})
    workbook.set_properties(
        {
            "author": xml_safe(tables.campaign.office),
            "title": f"{xml_safe(tables.campaign.title)}材料报送台账",
        }
    )
    looks = Looks(workbook)
    units = _table(tables.units)
    late = _late_or_missing(units) if len(units) else units
    files = _sorted_attachments(tables)
    sheets: list[tuple[str, list[Column], pd.DataFrame, Any]] = [
        (SHEET_SUMMARY, _summary_columns(), units, _summary_fills),
        (SHEET_FILES, _file_columns(), files, _file_fills),
        (SHEET_LATE, _late_columns(), late, _late_fills),
        (SHEET_BREAKDOWN, _breakdown_columns(), _table(tables.breakdown), None),
        (SHEET_INTEGRITY, _integrity_columns(), _table(tables.integrity), None),
        (SHEET_REVIEW, _review_columns(), _table(tables.review), None),
        (SHEET_INDIVIDUALS, _individual_columns(), _table(tables.individuals), None),
        (SHEET_CORRECTIONS, _correction_columns(), _table(tables.corrections), None),
        (SHEET_SENT, _sent_columns(), _table(tables.sent), None),
    ]
    for name, columns, frame, fills in sheets:
        marks = fills(frame) if fills is not None and len(frame) else None
        freeze = (1, 1) if name == SHEET_SUMMARY else (1, 0)  # 汇总 keeps the unit in view
        write_sheet(workbook.add_worksheet(name), looks, columns, frame, tz, marks, freeze)
    _write_readme(workbook, looks, tables)
    workbook.close()
    return buffer.getvalue()


def write_ledger(path: Path, tables: ReportTables) -> Path:
    """Write the Excel ledger to ``path`` atomically; returns where it landed (beside ``path``
    when the old file is open in WPS/Excel, see ``write_report``)."""
    data = render_ledger(tables)
    return write_report(
        Path(path), lambda target: target.write_bytes(data), tables.campaign.generated_at
    )
