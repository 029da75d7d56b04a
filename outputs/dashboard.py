"""The HTML dashboard: one self-contained page (inline CSS, JS and SVG; no network, no fonts to
download) that opens from ``file://``.

``write_dashboard(path, tables, data_dir)`` shows the totals, the progress of submissions over
time against the deadline (server-drawn SVG), the per-unit table (sortable by clicking a header,
filterable by text and by status, each unit linking to its materials folder), the review queue
and the cloud links to download before they expire.

Every string from the tables is HTML-escaped where it is rendered; the data the script sorts and
filters by travels as JSON in ``<script type="application/json">`` with ``<``, ``>`` and ``&``
escaped, so nothing from a mail can close the element. A Content-Security-Policy allows only the
page's own script (by hash), as a second line of defence.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pandas as pd

from outputs._common import (
    category_label,
    format_datetime,
    format_number,
    is_missing,
    missing_label,
    reasons_label,
    split_codes,
    text,
    to_local,
    write_report,
    xml_safe,
)
from outputs.tables import ReportTables

# Status filters: id -> label. A unit carries every tag that applies (see _tags).
STATUSES = (
    ("not_submitted", "未报送"),
    ("late", "逾期"),
    ("incomplete", "不全"),
    ("award", "表彰"),
    ("notice", "通报"),
    ("manual", "需人工核查"),
    ("good", "按时齐全"),
)
_STATUS_LABELS = dict(STATUSES)

# Unit table: header, JSON key, sort type.
UNIT_COLUMNS = (
    ("单位", "unit", "text"),
    ("类别", "category", "text"),
    ("状态", "status", "text"),
    ("首次报送", "first", "date"),
    ("最后报送", "last", "date"),
    ("照片", "photos", "number"),
    ("报告", "reports", "number"),
    ("事迹", "deeds", "number"),
    ("视频", "videos", "number"),
    ("链接", "links", "number"),
    ("缺少材料", "missing", "text"),
    ("得分", "score", "number"),
    ("等级", "grade", "text"),
    ("排名", "rank", "number"),
    ("通报原因", "reasons", "text"),
)

CSS = """
:root{--ink:#1f2933;--muted:#52606d;--line:#d9e2ec;--bg:#f5f7fa;--card:#fff;--accent:#1f5fa8;
--red:#c81e1e;--orange:#c05621;--yellow:#8d6e00;--green:#1e7b34}
*{box-sizing:border-box}
html{font-size:15px}
body{margin:0;background:var(--bg);color:var(--ink);line-height:1.5;
font-family:"Microsoft YaHei","PingFang SC","Hiragino Sans GB","Noto Sans CJK SC",
"Source Han Sans SC","WenQuanYi Micro Hei",system-ui,sans-serif}
header{background:#8f1d1d;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:1.5rem;font-weight:600}
.alert{background:#fff3cd;border:1px solid #e0a800;color:#5c4400;padding:8px 14px;margin:0 0 8px}
header p{margin:4px 0 0;opacity:.9}
main{padding:18px 28px 40px;max-width:1500px;margin:0 auto}
section{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:14px 18px;
margin:0 0 18px}
h2{font-size:1.15rem;margin:0 0 10px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;
background:none;border:0;padding:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px 14px}
.card .label{color:var(--muted);font-size:.9rem}
.card .value{font-size:1.7rem;font-weight:600}
.card .value small{font-size:.95rem;font-weight:400;color:var(--muted)}
.card.bad .value{color:var(--red)}
.card.warn .value{color:var(--orange)}
.card.ok .value{color:var(--green)}
svg.chart{width:100%;max-width:1000px;height:auto;display:block}
.chart .grid{stroke:#e4e7eb}
.chart .axis{fill:var(--muted);font-size:12px}
.chart .step{fill:none;stroke:var(--accent);stroke-width:2.5}
.chart .area{fill:#1f5fa8;fill-opacity:.12}
.chart .deadline{stroke:var(--red);stroke-width:2;stroke-dasharray:6 4}
.chart .now{stroke:#7b8794;stroke-width:1.5;stroke-dasharray:2 3}
.chart .total{stroke:#9aa5b1;stroke-dasharray:4 4}
.chart .dot{fill:#fff;stroke:var(--accent);stroke-width:2}
.chart .dot.late{stroke:var(--orange)}
.chart .tag{font-size:12px}
.chart .tag.deadline-tag{fill:var(--red)}
.toolbar{display:none;gap:10px;align-items:center;flex-wrap:wrap;margin:0 0 10px}
.js .toolbar{display:flex}
.toolbar input,.toolbar select{font:inherit;padding:5px 8px;border:1px solid #bcccdc;
border-radius:4px;background:#fff}
.toolbar input{min-width:320px}
.toolbar .count{color:var(--muted)}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.93rem}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:#eef2f7;white-space:nowrap;position:sticky;top:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.nowrap{white-space:nowrap}
.js th.sortable{cursor:pointer;user-select:none}
.js th.sortable:hover{background:#dde6f0}
.js th.sortable::after{content:" \\2195";color:#9aa5b1;font-size:.8em}
.js th[aria-sort=ascending]::after{content:" \\25B2";color:var(--accent)}
.js th[aria-sort=descending]::after{content:" \\25BC";color:var(--accent)}
tbody tr:hover{background:#f8fafc}
.badge{display:inline-block;padding:0 6px;margin:1px 2px 1px 0;border-radius:3px;
font-size:.82rem;white-space:nowrap;border:1px solid transparent}
.b-not_submitted{background:#fde8e8;color:var(--red);border-color:#f8b4b4}
.b-late{background:#feecdc;color:var(--orange);border-color:#fbd5b5}
.b-incomplete{background:#fdf6b2;color:var(--yellow);border-color:#fce96a}
.b-award{background:#def7ec;color:var(--green);border-color:#a8e6c1}
.b-notice{background:#f3f4f6;color:#4b5563;border-color:#d1d5db}
.b-manual{background:#e1effe;color:#1e429f;border-color:#a4cafe}
.b-good{background:#e1effe;color:var(--accent);border-color:#c3ddfd}
.missing{color:var(--red)}
.empty{color:var(--muted);text-align:center;padding:14px}
.hint{color:var(--muted);font-size:.9rem;margin:0 0 8px}
a{color:var(--accent)}
.wrap{word-break:break-all}
footer{color:var(--muted);font-size:.85rem;text-align:center;padding:0 0 24px}
@media print{
header{background:none;color:#000;border-bottom:2px solid #000}
.toolbar{display:none!important}
section{break-inside:avoid;border:0}
th{position:static}
}
"""

SCRIPT = """
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  var data = JSON.parse(source.textContent);
  document.documentElement.className += " js";
  var table = document.getElementById("unit-table");
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr[data-i]"));
  var heads = Array.prototype.slice.call(table.tHead.querySelectorAll("th[data-col]"));
  var query = document.getElementById("unit-filter");
  var status = document.getElementById("status-filter");
  var shown = document.getElementById("shown-count");
  var empty = document.getElementById("unit-empty");
  var collator = null;
  try {
    collator = new Intl.Collator("zh-Hans-CN", {numeric: true});
  } catch (e) {
    collator = null;
  }
  var current = {col: -1, dir: 1};

  function record(row) { return data.rows[Number(row.getAttribute("data-i"))]; }
  function blank(v) { return v === null || v === undefined || v === ""; }
  function compareText(a, b) {
    if (collator) { return collator.compare(a, b); }
    return a < b ? -1 : (a > b ? 1 : 0);
  }

  function sortBy(index) {
    var column = data.columns[index];
    var dir = current.col === index ? -current.dir : 1;
    current = {col: index, dir: dir};
    var keyed = rows.map(function (row, pos) {
      return {row: row, v: record(row)[column.key], pos: pos};
    });
    keyed.sort(function (a, b) {
      var an = blank(a.v), bn = blank(b.v);
      if (an || bn) { return an && bn ? a.pos - b.pos : (an ? 1 : -1); }
      var c = column.type === "text" ? compareText(String(a.v), String(b.v)) : a.v - b.v;
      return c !== 0 ? c * dir : a.pos - b.pos;
    });
    rows = keyed.map(function (k) { return k.row; });
    rows.forEach(function (row) { tbody.appendChild(row); });
    tbody.appendChild(empty);
    heads.forEach(function (th) {
      var on = Number(th.getAttribute("data-col")) === index;
      if (on) { th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending"); }
      else { th.removeAttribute("aria-sort"); }
    });
  }

  function applyFilter() {
    var q = query.value.replace(/^\\s+|\\s+$/g, "").toLowerCase();
    var s = status.value;
    var count = 0;
    rows.forEach(function (row) {
      var r = record(row);
      var ok = (!q || r.search.indexOf(q) !== -1) && (s === "all" || r.tags.indexOf(s) !== -1);
      row.hidden = !ok;
      if (ok) { count += 1; }
    });
    shown.textContent = "显示 " + count + " / " + rows.length + " 个单位";
    empty.hidden = count !== 0;
  }

  heads.forEach(function (th) {
    var index = Number(th.getAttribute("data-col"));
    th.classList.add("sortable");
    th.tabIndex = 0;
    th.title = "点击排序";
    th.addEventListener("click", function () { sortBy(index); });
    th.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(index); }
    });
  });
  query.addEventListener("input", applyFilter);
  status.addEventListener("change", applyFilter);
  applyFilter();
}());
"""


def _e(value: Any) -> str:
    """HTML-escape display text (quotes too, so it is safe in attributes); control characters
    a mail may carry (vertical tab, NUL ...) are dropped."""
    return html.escape(xml_safe(value), quote=True)


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None or frame.empty:
        return []
    return frame.to_dict(orient="records")


def _epoch_ms(value: Any) -> int | None:
    if is_missing(value):
        return None
    return int(pd.Timestamp(value).timestamp() * 1000)


def _number(value: Any) -> float | int | None:
    if is_missing(value):
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return int(number) if number == int(number) else number


def _tags(record: dict[str, Any]) -> list[str]:
    submitted = bool(record.get("submitted"))
    on_time = bool(record.get("on_time"))
    complete = bool(record.get("complete"))
    tags = []
    if not submitted:
        tags.append("not_submitted")
    else:
        if not on_time:
            tags.append("late")
        if not complete:
            tags.append("incomplete")
    if record.get("award"):
        tags.append("award")
    if record.get("notice"):
        tags.append("notice")
    if record.get("needs_manual"):
        tags.append("manual")
    if submitted and on_time and complete:
        tags.append("good")
    return tags


def _href(target: Path, start: Path, *, directory: bool = False) -> str:
    """A URL for ``target`` relative to the folder ``start`` (both absolute), percent-encoded."""
    try:
        relative = os.path.relpath(target, start)
    except ValueError:  # another drive on Windows
        return target.as_uri() + ("/" if directory else "")
    url = quote(Path(relative).as_posix(), safe="/")
    return url + "/" if directory and not url.endswith("/") else url


def _inside(relative: str) -> bool:
    """A stored relative path that stays inside the data folder."""
    parts = Path(relative).parts
    return bool(parts) and not Path(relative).is_absolute() and ".." not in parts


def _json_for_script(data: Any) -> str:
    """JSON that cannot end its <script> element or open a comment in it."""
    encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        encoded.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _deadline_text(deadline: datetime, generated: datetime) -> tuple[str, str, str]:
    """The deadline card: (label, value, css class)."""
    delta = deadline - generated
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    value = f"{days}<small> 天 {rest // 3600} 小时</small>"
    if delta.total_seconds() >= 0:
        return "距截止时间还有", value, "warn" if days < 3 else ""
    return "已过截止时间", value, ""


def _nice_step(total: int, target: int = 5) -> int:
    if total <= 10:
        return 1
    raw = total / target
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _progress_svg(tables: ReportTables) -> str:
    """Cumulative number of units whose first mail arrived by t, against the deadline."""
    campaign = tables.campaign
    tz = campaign.deadline.tzinfo
    deadline = campaign.deadline.astimezone(tz)
    generated = campaign.generated_at.astimezone(tz)
    units = _records(tables.units)
    total = len(units)
    arrivals: list[tuple[datetime, str]] = sorted(
        (
            (local, text(record.get("unit")))
            for record in units
            if (local := to_local(record.get("first_received"), tz)) is not None
        ),
        key=lambda item: item[0],
    )
    times = [t for t, _ in arrivals]
    start = min([*times, deadline - timedelta(days=7)])
    start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    end = max([*times, deadline])
    # Show "now" only while it is part of the campaign; a report rebuilt months later (or the
    # demo, years later) would squeeze the whole campaign into a sliver of the chart.
    if generated <= end + timedelta(days=30):
        end = max(end, generated)
    end_floor = end.replace(hour=0, minute=0, second=0, microsecond=0)
    end = end_floor + timedelta(days=1) if end > end_floor else end
    span = max((end - start).total_seconds(), 1.0)

    width, height = 1000, 300
    left, right, top, bottom = 52, 30, 30, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    y_max = max(total, 1)

    def x(moment: datetime) -> float:
        return left + (moment - start).total_seconds() / span * plot_w

    def y(count: float) -> float:
        return top + (1 - count / y_max) * plot_h

    parts: list[str] = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="报送进度：按首次报送时间累计的报送单位数，红色虚线为截止时间">'
    ]
    step = _nice_step(y_max)
    for value in range(0, y_max + 1, step):
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}"/>'
            f'<text class="axis" x="{left - 8}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{value}</text>'
        )
    days = max(round(span / 86400), 1)
    day_step = 1 if days <= 16 else 2 if days <= 32 else 7 if days <= 120 else 30
    tick = start
    while tick <= end:
        parts.append(
            f'<line class="grid" x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top}" '
            f'y2="{height - bottom}"/>'
            f'<text class="axis" x="{x(tick):.1f}" y="{height - bottom + 18}" '
            f'text-anchor="middle">{tick:%m-%d}</text>'
        )
        tick += timedelta(days=day_step)

    # The step line: count rises by one at each unit's first receive time.
    now = min(max([generated, *times]), end)
    path = [f"M{x(start):.1f},{y(0):.1f}"]
    for count, moment in enumerate(times, start=1):
        path.append(f"H{x(moment):.1f}V{y(count):.1f}")
    path.append(f"H{x(now):.1f}")
    line = "".join(path)
    parts.append(f'<path class="area" d="{line}V{y(0):.1f}Z"/>')
    parts.append(f'<path class="step" d="{line}"/>')
    parts.append(
        f'<line class="total" x1="{left}" x2="{width - right}" y1="{y(total):.1f}" '
        f'y2="{y(total):.1f}"/>'
        f'<text class="tag axis" x="{left + 6}" y="{y(total) - 6:.1f}">应报送 {total} 个单位</text>'
    )
    parts.append(
        f'<line class="deadline" x1="{x(deadline):.1f}" x2="{x(deadline):.1f}" y1="{top - 8}" '
        f'y2="{height - bottom}"/>'
        f'<text class="tag deadline-tag" x="{x(deadline) - 6:.1f}" y="{top + 6}" '
        f'text-anchor="end">截止 {deadline:%m-%d %H:%M}</text>'
    )
    if start <= generated <= end:
        parts.append(
            f'<line class="now" x1="{x(generated):.1f}" x2="{x(generated):.1f}" y1="{top}" '
            f'y2="{height - bottom}"/>'
            f'<text class="tag axis" x="{x(generated) - 6:.1f}" y="{top + 22}" '
            f'text-anchor="end">统计 {generated:%m-%d %H:%M}</text>'
        )
    for count, (moment, unit) in enumerate(arrivals, start=1):
        late = " late" if moment > deadline else ""
        parts.append(
            f'<circle class="dot{late}" cx="{x(moment):.1f}" cy="{y(count):.1f}" r="4">'
            f"<title>{_e(unit)}：{moment:%Y-%m-%d %H:%M} 首次报送（累计 {count} 个）</title>"
            "</circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _cards(tables: ReportTables) -> str:
    units = _records(tables.units)
    total = len(units)
    submitted = sum(1 for r in units if r.get("submitted"))
    on_time = sum(1 for r in units if r.get("on_time"))
    complete = sum(1 for r in units if r.get("complete"))
    review = 0 if tables.review is None else len(tables.review)
    campaign = tables.campaign
    tz = campaign.deadline.tzinfo
    deadline_label, deadline_value, deadline_class = _deadline_text(
        campaign.deadline.astimezone(tz), campaign.generated_at.astimezone(tz)
    )
    cards = [
        ("units", "应报送单位", f"{total}", ""),
        ("submitted", "已报送", f"{submitted}<small> / {total}</small>", "ok" if submitted else ""),
        ("not-submitted", "未报送", f"{total - submitted}", "bad" if total - submitted else "ok"),
        ("on-time", "按时报送", f"{on_time}", ""),
        ("complete", "材料齐全", f"{complete}", ""),
        ("review", "待确认", f"{review}", "warn" if review else "ok"),
        ("deadline", deadline_label, deadline_value, deadline_class),
    ]
    return "".join(
        f'<div class="card {css}" id="card-{key}"><div class="label">{label}</div>'
        f'<div class="value">{value}</div></div>'
        for key, label, value, css in cards
    )


def _unit_rows(
    tables: ReportTables, reports_dir: Path, data_dir: Path
) -> tuple[str, list[dict[str, Any]]]:
    tz = tables.campaign.deadline.tzinfo
    rows_html: list[str] = []
    rows_json: list[dict[str, Any]] = []
    for index, record in enumerate(_records(tables.units)):
        unit = text(record.get("unit"))
        tags = _tags(record)
        status = "、".join(_STATUS_LABELS[t] for t in tags if t != "notice")
        missing = missing_label(record.get("missing"))
        reasons = reasons_label(record.get("notice_reasons"))
        folder = text(record.get("folder"))
        link_ok = (
            bool(folder)
            and _inside(folder)
            and (bool(record.get("submitted")) or (data_dir / folder).is_dir())
        )
        if link_ok:
            href = _href(data_dir / folder, reports_dir, directory=True)
            unit_cell = f'<a href="{_e(href)}" title="打开材料文件夹">{_e(unit)}</a>'
        else:
            unit_cell = _e(unit)
        badges = "".join(
            f'<span class="badge b-{tag}">{_STATUS_LABELS[tag]}</span>' for tag in tags
        )
        score = record.get("score")
        rank = record.get("rank")
        cells = [
            f'<td class="nowrap">{unit_cell}</td>',
            f'<td class="nowrap">{_e(record.get("category"))}</td>',
            f'<td class="nowrap">{badges}</td>',
            f'<td class="nowrap">{_e(format_datetime(record.get("first_received"), tz))}</td>',
            f'<td class="nowrap">{_e(format_datetime(record.get("last_received"), tz))}</td>',
        ]
        for key in ("photos", "reports", "deeds", "videos", "video_links"):
            cells.append(f'<td class="num">{_e(format_number(record.get(key)))}</td>')
        cells += [
            f'<td class="missing">{_e(missing)}</td>',
            f'<td class="num">{"" if is_missing(score) else f"{float(score):.1f}"}</td>',
            f'<td class="nowrap">{_e(record.get("grade"))}</td>',
            f'<td class="num">{_e(format_number(rank))}</td>',
            f"<td>{_e(reasons)}</td>",
        ]
        rows_html.append(f'<tr data-i="{index}">{"".join(cells)}</tr>')
        search = " ".join(
            [
                unit,
                text(record.get("category")),
                status,
                missing,
                reasons,
                text(record.get("grade")),
            ]
            + [_STATUS_LABELS[t] for t in tags]
        ).lower()
        rows_json.append(
            {
                "unit": unit,
                "category": text(record.get("category")),
                "status": status,
                "first": _epoch_ms(record.get("first_received")),
                "last": _epoch_ms(record.get("last_received")),
                "photos": _number(record.get("photos")),
                "reports": _number(record.get("reports")),
                "deeds": _number(record.get("deeds")),
                "videos": _number(record.get("videos")),
                "links": _number(record.get("video_links")),
                "missing": missing,
                "score": _number(score),
                "grade": text(record.get("grade")),
                "rank": _number(rank),
                "reasons": reasons,
                "tags": tags,
                "search": search,
            }
        )
    return "".join(rows_html), rows_json


def _unit_table(tables: ReportTables, reports_dir: Path, data_dir: Path) -> tuple[str, dict]:
    rows_html, rows_json = _unit_rows(tables, reports_dir, data_dir)
    numeric = {key for _, key, kind in UNIT_COLUMNS if kind == "number"}
    num_class = ' class="num"'
    head = "".join(
        f'<th data-col="{i}" data-type="{kind}"{num_class if key in numeric else ""} '
        f'scope="col">{label}</th>'
        for i, (label, key, kind) in enumerate(UNIT_COLUMNS)
    )
    counts = {tag: sum(1 for row in rows_json if tag in row["tags"]) for tag, _ in STATUSES}
    options = f'<option value="all">全部（{len(rows_json)}）</option>' + "".join(
        f'<option value="{tag}">{label}（{counts[tag]}）</option>' for tag, label in STATUSES
    )
    markup = (
        '<div class="toolbar">'
        '<label>筛选 <input type="search" id="unit-filter" '
        'placeholder="输入单位名称、类别、缺少的材料…" autocomplete="off"></label>'
        f'<label>状态 <select id="status-filter">{options}</select></label>'
        f'<span class="count" id="shown-count">显示 {len(rows_json)} / {len(rows_json)} 个单位'
        "</span></div>"
        '<p class="hint">点击表头可排序；点击单位名称打开该单位的材料文件夹。</p>'
        '<div class="table-wrap"><table id="unit-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{rows_html}"
        f'<tr id="unit-empty" hidden><td class="empty" colspan="{len(UNIT_COLUMNS)}">'
        "没有符合条件的单位</td></tr></tbody></table></div>"
    )
    data = {
        "columns": [{"key": key, "type": kind} for _, key, kind in UNIT_COLUMNS],
        "rows": rows_json,
    }
    return markup, data


def _simple_table(
    table_id: str, headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str
) -> str:
    head = "".join(f'<th scope="col">{h}</th>' for h in headers)
    if rows:
        body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    else:
        body = f'<tr><td class="empty" colspan="{len(headers)}">{empty}</td></tr>'
    return (
        f'<div class="table-wrap"><table id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _review_table(tables: ReportTables, reports_dir: Path, data_dir: Path) -> str:
    tz = tables.campaign.deadline.tzinfo
    rows = []
    for record in _records(tables.review):
        stored = text(record.get("path"))
        if stored and _inside(stored):
            where = (
                f'<a href="{_e(_href(data_dir / stored, reports_dir))}" class="wrap">'
                f"{_e(stored)}</a>"
            )
        else:
            where = f'<span class="wrap">{_e(stored)}</span>'
        rows.append(
            [
                f'<td class="nowrap">{_e(format_datetime(record.get("received_at"), tz))}</td>',
                f'<td class="wrap">{_e(record.get("sender"))}</td>',
                f'<td class="wrap">{_e(record.get("subject"))}</td>',
                f"<td>{_e(record.get('unit'))}</td>",
                f'<td class="wrap">{_e(record.get("filename") or "（整封邮件）")}</td>',
                f"<td>{_e(record.get('reason'))}</td>",
                f"<td>{_e('、'.join(split_codes(record.get('candidates'))))}</td>",
                f"<td>{where}</td>",
            ]
        )
    return _simple_table(
        "review-table",
        ("收到时间", "发件人", "邮件主题", "单位", "文件名", "原因", "候选单位", "存放位置"),
        rows,
        "没有待确认的邮件或文件",
    )


def _links_table(tables: ReportTables) -> str:
    tz = tables.campaign.deadline.tzinfo
    frame = tables.attachments
    records = []
    if frame is not None and not frame.empty and "kind" in frame.columns:
        records = _records(frame[frame["kind"] == "link"])
    rows = []
    for record in records:
        url = text(record.get("filename"))
        if urlsplit(url).scheme.lower() in ("http", "https"):
            link = (
                f'<a href="{_e(url)}" rel="noopener noreferrer" target="_blank" '
                f'class="wrap">{_e(url)}</a>'
            )
        else:
            link = f'<span class="wrap">{_e(url)}</span>'
        rows.append(
            [
                f"<td>{_e(record.get('unit'))}</td>",
                f'<td class="nowrap">{_e(format_datetime(record.get("received_at"), tz))}</td>',
                f"<td>{_e(category_label(record.get('category')))}</td>",
                f"<td>{link}</td>",
                f'<td class="nowrap">{_e(record.get("link_code"))}</td>',
            ]
        )
    return _simple_table(
        "link-table", ("单位", "收到时间", "类别", "链接", "提取码"), rows, "没有网盘或超大附件链接"
    )


def _alerts(alerts: tuple[str, ...]) -> str:
    """Loud banners for staff (mailbox unreachable, untrusted receive times)."""
    return "".join(f'<p class="alert" role="alert">{_e(alert)}</p>' for alert in alerts)


def render_dashboard(tables: ReportTables, reports_dir: Path, data_dir: Path) -> str:
    """The dashboard page as a string (``reports_dir``: the folder the page will be in)."""
    campaign = tables.campaign
    tz = campaign.deadline.tzinfo
    reports_dir = Path(os.path.abspath(reports_dir))
    data_dir = Path(os.path.abspath(data_dir))
    year = campaign.deadline.astimezone(tz).year
    title = f"{year}年度{text(campaign.title)}材料报送情况"
    unit_markup, data = _unit_table(tables, reports_dir, data_dir)
    review_count = 0 if tables.review is None else len(tables.review)
    script_hash = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode()
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{_e(title)}</h1>"
        f"<p>{_e(campaign.office)} · 截止时间 "
        f"{_e(format_datetime(campaign.deadline, tz))} · 统计时间 "
        f"{_e(format_datetime(campaign.generated_at, tz))}</p></header><main>"
        f"{_alerts(campaign.alerts)}"
        f'<section class="cards" aria-label="汇总">{_cards(tables)}</section>'
        '<section id="progress"><h2>报送进度</h2>'
        '<p class="hint">按各单位首次报送时间累计；红色虚线为截止时间，'
        "橙色圆点为截止后才首次报送的单位。</p>"
        f"{_progress_svg(tables)}</section>"
        f'<section id="units"><h2>各单位报送情况</h2>{unit_markup}</section>'
        f'<section id="review"><h2>待确认（{review_count}）</h2>'
        '<p class="hint">系统无法确定单位或类别的邮件和文件，请人工核对后归档。</p>'
        f"{_review_table(tables, reports_dir, data_dir)}</section>"
        '<section id="links"><h2>网盘与超大附件链接</h2>'
        '<p class="hint">视频以链接方式报送的，请在链接过期前下载保存'
        "（QQ 邮箱超大附件一般保存 30 天）。</p>"
        f"{_links_table(tables)}</section>"
        "</main><footer>本页由系统根据已保存的邮件材料自动生成，可离线打开。</footer>"
        '<script type="application/json" id="dashboard-data">'
        f"{_json_for_script(data)}</script>"
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def write_dashboard(path: Path, tables: ReportTables, data_dir: Path) -> Path:
    """Write the dashboard to ``path`` atomically; unit links point into ``data_dir``.
    Returns where it landed (see ``write_report``)."""
    path = Path(path)
    page = render_dashboard(tables, path.parent, Path(data_dir))
    return write_report(
        path,
        lambda tmp: tmp.write_text(page, encoding="utf-8", newline="\n"),
        tables.campaign.generated_at,
    )
