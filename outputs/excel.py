"""The Excel ledger (台账) staff keep and print.

``write_ledger(path, tables)`` renders a ``ReportTables`` into one .xlsx workbook:
汇总 (one row per unit), 文件明细 (every stored file and cloud link), 逾期与缺报, 评分明细, 待确认
(the review queue), 先进个人候选, 更正记录 (staff corrections), 发信记录 (mail the office
sent), and a short 说明 sheet with the colour legend.

Only rendering happens here: values come from the tables; codes are translated into Chinese,
booleans shown as 是/否, times as 'YYYY-MM-DD HH:MM' in the campaign's zone. Cells holding text
from mail are always stored as text (a subject starting with "=" never becomes a formula).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from contract import CATEGORIES, INTEGRITY_KIND_LABELS, MISSING_LABELS
from outputs._common import (
    KIND_LABELS,
    category_label,
    display_width,
    format_datetime,
    is_missing,
    missing_label,
    reasons_label,
    split_codes,
    to_local,
    write_report,
    xml_safe,
    yes_no,
)
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

# Fill colours (ARGB). Late: orange; missing material: yellow; nothing sent: red.
LATE_FILL = PatternFill("solid", start_color="FFF8CBAD", end_color="FFF8CBAD")
MISSING_FILL = PatternFill("solid", start_color="FFFFE699", end_color="FFFFE699")
NOT_SUBMITTED_FILL = PatternFill("solid", start_color="FFFF9999", end_color="FFFF9999")
AWARD_FILL = PatternFill("solid", start_color="FFC6EFCE", end_color="FFC6EFCE")
HEADER_FILL = PatternFill("solid", start_color="FFD9E1F2", end_color="FFD9E1F2")

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_THIN = Side(style="thin", color="FFBFBFBF")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FONT = Font(bold=True)
_HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)
_BODY_ALIGNMENTS = {wrap: Alignment(vertical="top", wrap_text=wrap) for wrap in (False, True)}
_MIN_WIDTH = 6
_MAX_WIDTH = 60

# Unit count columns per ``missing`` code: which cells to mark when that material is missing
# (a video link satisfies the video requirement, so both video columns are marked).
_MISSING_COUNT_COLUMNS = {
    **{c.required: (c.count_column,) for c in CATEGORIES if c.required},
    "video": ("videos", "video_links"),
}


@dataclass(frozen=True)
class Column:
    """One ledger column: header, how to get the value from a record, and how to show it."""

    header: str
    get: Callable[[dict[str, Any]], Any]
    kind: str = "text"  # text | int | float | datetime
    number_format: str | None = None
    wrap: bool = False
    max_width: int = _MAX_WIDTH


def _field(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda record: record.get(name)


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None or frame.empty:
        return []
    return frame.to_dict(orient="records")


def _cell_value(value: Any, column: Column, tz: Any) -> Any:
    if is_missing(value):
        return None
    if column.kind == "datetime":
        local = to_local(value, tz)
        return None if local is None else local.replace(tzinfo=None)
    if column.kind == "int":
        return int(value)
    if column.kind == "float":
        return float(value)
    return xml_safe(value)


def _shown_width(value: Any, column: Column) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, float):
        return len(f"{value:,.1f}")
    if isinstance(value, int):
        return len(f"{value:,}")
    text = str(value)
    if text.isascii() and text.isprintable():
        return len(text)  # what display_width gives here, without its per-character lookups
    return max(display_width(line) for line in text.splitlines() or [""])


class _Looks:
    """The cell styles of one sheet, each built once and then shared by index.

    Assigning a style object to an openpyxl cell hashes it (recursively, for a border) to find its
    index in the workbook's style tables; doing that for border, alignment, number format and fill
    of every cell was most of the ledger's run time. Each distinct look (the header, or a body
    column's format with or without a fill) is set once through openpyxl's setters on a detached
    template cell; cells are then created with a copy of its style indices
    (``Cell(style_array=...)``), as openpyxl itself copies styles between cells. Every cell gets
    the same font, fill, border, alignment and number format as when set one by one.
    """

    def __init__(self, ws: Worksheet) -> None:
        self._ws = ws
        self._arrays: dict[tuple[Any, ...], Any] = {}

    def _array(self, key: tuple[Any, ...], build: Callable[[Cell], None]) -> Any:
        array = self._arrays.get(key)
        if array is None:
            template = Cell(self._ws)  # never placed in the sheet
            build(template)
            array = self._arrays[key] = template._style
        return array

    def header(self) -> Any:
        def build(cell: Cell) -> None:
            cell.font = _HEADER_FONT
            cell.fill = HEADER_FILL
            cell.border = _BORDER
            cell.alignment = _HEADER_ALIGNMENT

        return self._array(("header",), build)

    def body(self, number_format: str | None, wrap: bool, fill: PatternFill | None) -> Any:
        def build(cell: Cell) -> None:
            cell.border = _BORDER
            if number_format:
                cell.number_format = number_format
            cell.alignment = _BODY_ALIGNMENTS[wrap]
            if fill is not None:
                cell.fill = fill

        return self._array(("body", number_format, wrap, fill), build)


def _write_sheet(
    ws: Worksheet,
    columns: Sequence[Column],
    records: Sequence[dict[str, Any]],
    tz: Any,
    fills: Callable[[dict[str, Any]], dict[str, PatternFill]] | None = None,
    freeze: str = "A2",
) -> None:
    """Header row, one row per record, styles, widths, frozen header and an autofilter."""
    looks = _Looks(ws)
    header_look = looks.header()
    ws.append([Cell(ws, value=column.header, style_array=header_look) for column in columns])
    widths = [display_width(column.header) for column in columns]
    formats = [
        DATETIME_FORMAT if column.kind == "datetime" else column.number_format for column in columns
    ]
    plain_looks = [
        looks.body(number_format, column.wrap, None)
        for column, number_format in zip(columns, formats, strict=True)
    ]

    for record in records:
        row_fills = fills(record) if fills else {}
        row = []
        for index, column in enumerate(columns):
            value = _cell_value(column.get(record), column, tz)
            fill = row_fills.get(column.header)
            look = (
                plain_looks[index]
                if fill is None
                else looks.body(formats[index], column.wrap, fill)
            )
            cell = Cell(ws, value=value, style_array=look)
            if isinstance(value, str):
                # Mail text is text: never let "=..." become a formula.
                cell.data_type = "s"
            row.append(cell)
            widths[index] = max(widths[index], _shown_width(value, column))
        ws.append(row)

    for col_index, column in enumerate(columns, start=1):
        width = min(max(widths[col_index - 1] + 2, _MIN_WIDTH), column.max_width)
        ws.column_dimensions[get_column_letter(col_index)].width = width
    ws.freeze_panes = freeze
    last = get_column_letter(len(columns))
    ws.auto_filter.ref = f"A1:{last}{max(len(records) + 1, 1)}"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _summary_columns() -> list[Column]:
    return [
        Column("单位", _field("unit")),
        Column("类别", _field("category")),
        Column("是否报送", lambda r: yes_no(r.get("submitted"))),
        Column("按时报送", lambda r: yes_no(r.get("on_time"))),
        Column("首次报送时间", _field("first_received"), "datetime"),
        Column("最后报送时间", _field("last_received"), "datetime"),
        Column("逾期天数", _field("days_late"), "int", "0"),
        *(Column(header, _field(key), "int", "0") for key, header in _COUNT_HEADERS.items()),
        Column("材料齐全", lambda r: yes_no(r.get("complete"))),
        Column("缺少材料", lambda r: missing_label(r.get("missing"))),
        Column("得分", _field("score"), "float", "0.0"),
        Column("等级", _field("grade")),
        Column("排名", _field("rank"), "int", "0"),
        Column("绩效扣分", _field("deduction"), "float", "0.0"),
        Column("志愿者人数", _field("volunteers"), "int", "0"),
        Column("需人工核查", lambda r: yes_no(r.get("needs_manual"))),
        Column("表彰", lambda r: yes_no(r.get("award"))),
        Column("通报", lambda r: yes_no(r.get("notice"))),
        Column("通报原因", lambda r: reasons_label(r.get("notice_reasons"))),
        Column("评分已确认", lambda r: yes_no(r.get("score_confirmed"))),
        Column("待确认后通报", lambda r: reasons_label(r.get("pending_reasons"))),
        Column("疑点", _field("findings"), "int", "0"),
        Column("材料文件夹", _field("folder")),
    ]


_COUNT_HEADERS = {
    **{c.count_column: c.label for c in CATEGORIES if c.count_column},
    "video_links": "视频链接",
}


def _is_late(record: dict[str, Any]) -> bool:
    return bool(record.get("submitted")) and not bool(record.get("on_time"))


def _summary_fills(record: dict[str, Any]) -> dict[str, PatternFill]:
    fills: dict[str, PatternFill] = {}
    if not record.get("submitted"):
        fills["是否报送"] = NOT_SUBMITTED_FILL
    elif _is_late(record):
        fills["按时报送"] = LATE_FILL
        fills["逾期天数"] = LATE_FILL
    missing = split_codes(record.get("missing"))
    if missing:
        fills["缺少材料"] = MISSING_FILL
        fills["材料齐全"] = MISSING_FILL
    for code in missing:
        for count_column in _MISSING_COUNT_COLUMNS.get(code, ()):
            fills[_COUNT_HEADERS[count_column]] = MISSING_FILL
    if record.get("award"):
        fills["表彰"] = AWARD_FILL
    return fills


def _situation(record: dict[str, Any]) -> str:
    if not record.get("submitted"):
        return "未报送"
    parts = []
    if not record.get("on_time"):
        parts.append("逾期报送")
    if not record.get("complete"):
        parts.append("材料不全")
    return "、".join(parts)


def _late_columns() -> list[Column]:
    return [
        Column("单位", _field("unit")),
        Column("类别", _field("category")),
        Column("情况", _situation),
        Column("首次报送时间", _field("first_received"), "datetime"),
        Column("最后报送时间", _field("last_received"), "datetime"),
        Column("逾期天数", _field("days_late"), "int", "0"),
        Column("逾期报送的材料", lambda r: missing_label(r.get("late_items"))),
        Column("缺少材料", lambda r: missing_label(r.get("missing"))),
        Column("得分", _field("score"), "float", "0.0"),
        Column("绩效扣分", _field("deduction"), "float", "0.0"),
        Column("通报原因", lambda r: reasons_label(r.get("notice_reasons"))),
    ]


def _late_fills(record: dict[str, Any]) -> dict[str, PatternFill]:
    if not record.get("submitted"):
        return {"情况": NOT_SUBMITTED_FILL, "缺少材料": MISSING_FILL}
    fills = {}
    if _is_late(record):
        fills["情况"] = LATE_FILL
        fills["逾期天数"] = LATE_FILL
    if split_codes(record.get("missing")):
        fills["缺少材料"] = MISSING_FILL
        fills.setdefault("情况", MISSING_FILL)
    return fills


def _file_columns() -> list[Column]:
    def size_kb(record: dict[str, Any]) -> Any:
        size = record.get("size")
        return None if is_missing(size) else int(size) / 1024

    return [
        Column("编号", _field("ref")),
        Column("收到时间", _field("received_at"), "datetime"),
        Column("单位", _field("unit")),
        Column("发件人", _field("sender")),
        Column("文件名或链接", _field("filename"), max_width=70),
        Column("材料类别", lambda r: category_label(r.get("category"))),
        Column("类型", lambda r: KIND_LABELS.get(str(r.get("kind") or ""), r.get("kind"))),
        Column("大小（KB）", size_kb, "float", "#,##0.0"),
        Column("提取码", _field("link_code")),
        Column("逾期", lambda r: yes_no(r.get("late"))),
        Column("待确认原因", _field("review_reason"), wrap=True, max_width=40),
        Column("存放位置", _field("path"), max_width=70),
        Column("邮件编号", _field("message_id"), max_width=40),
        Column("UID", _field("uid"), "int", "0"),
        Column("SHA-256", _field("sha256"), max_width=20),
    ]


def _file_fills(record: dict[str, Any]) -> dict[str, PatternFill]:
    fills = {}
    if record.get("late"):
        fills["收到时间"] = LATE_FILL
        fills["逾期"] = LATE_FILL
    if not is_missing(record.get("review_reason")) and str(record.get("review_reason")):
        fills["待确认原因"] = MISSING_FILL
    if not record.get("unit") or is_missing(record.get("unit")):
        fills["单位"] = MISSING_FILL
    return fills


def _sorted_attachments(tables: ReportTables) -> list[dict[str, Any]]:
    """Files grouped by unit in registry order (unassigned last), then by receive time."""
    records = _records(tables.attachments)
    order = {unit: i for i, unit in enumerate(tables.units["unit"].tolist())}

    def key(record: dict[str, Any]) -> tuple[int, float]:
        unit = record.get("unit")
        position = order.get(unit, len(order)) if not is_missing(unit) else len(order)
        received = record.get("received_at")
        stamp = float("inf") if is_missing(received) else pd.Timestamp(received).timestamp()
        return position, stamp

    return sorted(records, key=key)


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
        Column("文件名", lambda r: r.get("filename") or "（整封邮件）", wrap=True, max_width=50),
        Column("原因", _field("reason"), wrap=True, max_width=40),
        Column("候选单位", lambda r: "、".join(split_codes(r.get("candidates")))),
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
        Column("疑点", lambda r: INTEGRITY_KIND_LABELS.get(r.get("kind"), r.get("kind"))),
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
        Column("状态", lambda r: INDIVIDUAL_STATUS.get(r.get("status"), r.get("status") or "")),
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


def _write_readme(ws: Worksheet, tables: ReportTables) -> None:
    campaign = tables.campaign
    tz = campaign.deadline.tzinfo
    rows = [
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
    for row_index, (label, value, fill) in enumerate(rows, start=1):
        label_cell = ws.cell(row=row_index, column=1, value=label)
        label_cell.font = _HEADER_FONT
        value_cell = ws.cell(row=row_index, column=2, value=value)
        value_cell.data_type = "s"
        if fill is not None:
            label_cell.fill = fill
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 80


def write_ledger(path: Path, tables: ReportTables) -> Path:
    """Write the Excel ledger to ``path`` atomically; returns where it landed (beside ``path``
    when the old file is open in WPS/Excel, see ``write_report``)."""
    tz = tables.campaign.deadline.tzinfo
    workbook = Workbook()
    workbook.properties.creator = xml_safe(tables.campaign.office)
    workbook.properties.title = f"{xml_safe(tables.campaign.title)}材料报送台账"

    units = _records(tables.units)
    summary = workbook.active
    summary.title = SHEET_SUMMARY
    _write_sheet(summary, _summary_columns(), units, tz, _summary_fills, freeze="B2")

    _write_sheet(
        workbook.create_sheet(SHEET_FILES),
        _file_columns(),
        _sorted_attachments(tables),
        tz,
        _file_fills,
    )

    late_or_missing = [
        r for r in units if not r.get("submitted") or not r.get("on_time") or not r.get("complete")
    ]
    _write_sheet(
        workbook.create_sheet(SHEET_LATE), _late_columns(), late_or_missing, tz, _late_fills
    )
    _write_sheet(
        workbook.create_sheet(SHEET_BREAKDOWN),
        _breakdown_columns(),
        _records(tables.breakdown),
        tz,
    )
    _write_sheet(
        workbook.create_sheet(SHEET_INTEGRITY),
        _integrity_columns(),
        _records(tables.integrity),
        tz,
    )
    _write_sheet(
        workbook.create_sheet(SHEET_REVIEW), _review_columns(), _records(tables.review), tz
    )
    _write_sheet(
        workbook.create_sheet(SHEET_INDIVIDUALS),
        _individual_columns(),
        _records(tables.individuals),
        tz,
    )
    _write_sheet(
        workbook.create_sheet(SHEET_CORRECTIONS),
        _correction_columns(),
        _records(tables.corrections),
        tz,
    )
    _write_sheet(workbook.create_sheet(SHEET_SENT), _sent_columns(), _records(tables.sent), tz)
    _write_readme(workbook.create_sheet(SHEET_README), tables)

    return write_report(Path(path), workbook.save, tables.campaign.generated_at)
