"""The HTML dashboard, as plain data for the shared Jinja2 templates (outputs/templates).

``write_dashboard(path, tables, data_dir)`` writes one self-contained page (inline CSS, JS and
SVG; no network, no fonts to download) that opens from ``file://``: the totals, the progress of
submissions over time against the deadline (an SVG drawn on the server), the per-unit table
(sortable by clicking a header, filterable by text and by status, each unit linking to its
materials folder), the review queue with its 编号, the cloud links to download before they
expire, and the integrity findings (疑点) with their evidence. ``dashboard_view`` gathers the
same data for the console's 总览 page.

Templates autoescape every string; the data the script sorts and filters by travels as JSON in
``<script type="application/json">`` with ``<``, ``>`` and ``&`` escaped, so nothing from a mail can
close the element. A Content-Security-Policy allows only the page's own script (by hash).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pandas as pd
from markupsafe import Markup

from contract import INTEGRITY_KIND_LABELS
from outputs._common import (
    category_label,
    format_datetime,
    format_number,
    integrity_label,
    is_missing,
    late_label,
    missing_label,
    reasons_label,
    split_codes,
    text,
    to_local,
    write_report,
    xml_safe,
)
from outputs.tables import ReportTables
from outputs.templating import environment, static_text

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


def _e(value: Any) -> str:
    """Display text without the control characters a mail may carry (vertical tab, NUL ...);
    the templates escape it."""
    return xml_safe(value)


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


def _deadline_card(deadline: datetime, generated: datetime) -> dict[str, str]:
    delta = deadline - generated
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    card = {"key": "deadline", "value": str(days), "small": f" 天 {rest // 3600} 小时"}
    if delta.total_seconds() >= 0:
        return card | {"label": "距截止时间还有", "css": "warn" if days < 3 else ""}
    return card | {"label": "已过截止时间", "css": ""}


def _nice_step(total: int, target: int = 5) -> int:
    if total <= 10:
        return 1
    raw = total / target
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _chart_days(
    times: list[datetime], deadline: datetime, generated: datetime
) -> tuple[datetime, datetime]:
    """The chart's time axis: whole days from a week before the deadline (or the first mail)
    to the deadline, the last mail or now, whichever is latest."""
    start = min([*times, deadline - timedelta(days=7)])
    start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    end = max([*times, deadline])
    # Show "now" only while it is part of the campaign; a report rebuilt months later (or the
    # demo, years later) would squeeze the whole campaign into a sliver of the chart.
    if generated <= end + timedelta(days=30):
        end = max(end, generated)
    end_floor = end.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, end_floor + timedelta(days=1) if end > end_floor else end


def _day_ticks(start: datetime, end: datetime) -> list[datetime]:
    """Ticks every day, or every 2, 7 or 30 days on a longer axis."""
    days = max(round((end - start).total_seconds() / 86400), 1)
    step = timedelta(days=1 if days <= 16 else 2 if days <= 32 else 7 if days <= 120 else 30)
    ticks = [start]
    while ticks[-1] + step <= end:
        ticks.append(ticks[-1] + step)
    return ticks


def _chart(tables: ReportTables) -> dict[str, Any]:
    """Geometry of the progress chart: units whose first mail arrived by t, against the deadline."""
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
    start, end = _chart_days(times, deadline, generated)
    span = max((end - start).total_seconds(), 1.0)
    width, height, left, right, top, bottom = 1000, 300, 52, 30, 30, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    y_max = max(total, 1)

    def x(moment: datetime) -> str:
        return f"{left + (moment - start).total_seconds() / span * plot_w:.1f}"

    def y(count: float, shift: float = 0) -> str:
        return f"{top + (1 - count / y_max) * plot_h + shift:.1f}"

    now = min(max([generated, *times]), end)
    line = f"M{x(start)},{y(0)}" + "".join(
        f"H{x(moment)}V{y(count)}" for count, moment in enumerate(times, start=1)
    )
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": height - bottom,
        "zero": y(0),
        "line": f"{line}H{x(now)}",
        "y_ticks": [
            {"y": y(v), "label_y": y(v, 4), "label": v}
            for v in range(0, y_max + 1, _nice_step(y_max))
        ],
        "x_ticks": [{"x": x(tick), "label": f"{tick:%m-%d}"} for tick in _day_ticks(start, end)],
        "total": {"y": y(total), "label_y": y(total, -6), "label": f"应报送 {total} 个单位"},
        "deadline": _marker(x(deadline), f"截止 {deadline:%m-%d %H:%M}"),
        "now": _marker(x(generated), f"统计 {generated:%m-%d %H:%M}")
        if start <= generated <= end
        else None,
        "dots": [
            {
                "x": x(moment),
                "y": y(count),
                "late": moment > deadline,
                "title": f"{_e(unit)}：{moment:%Y-%m-%d %H:%M} 首次报送（累计 {count} 个）",
            }
            for count, (moment, unit) in enumerate(arrivals, start=1)
        ],
    }


def _marker(x: str, label: str) -> dict[str, str]:
    """A vertical line on the chart with its label just left of it."""
    return {"x": x, "label_x": f"{float(x) - 6:.1f}", "label": label}


def _cards(tables: ReportTables) -> list[dict[str, str]]:
    units = _records(tables.units)
    total = len(units)
    submitted = sum(1 for r in units if r.get("submitted"))
    on_time = sum(1 for r in units if r.get("on_time"))
    complete = sum(1 for r in units if r.get("complete"))
    review = 0 if tables.review is None else len(tables.review)
    campaign = tables.campaign
    tz = campaign.deadline.tzinfo
    missing = total - submitted

    def card(key: str, label: str, value: int, css: str = "", small: str = "") -> dict[str, str]:
        return {"key": key, "label": label, "value": str(value), "css": css, "small": small}

    return [
        card("units", "应报送单位", total),
        card("submitted", "已报送", submitted, "ok" if submitted else "", f" / {total}"),
        card("not-submitted", "未报送", missing, "bad" if missing else "ok"),
        card("on-time", "按时报送", on_time),
        card("complete", "材料齐全", complete),
        card("review", "待确认", review, "warn" if review else "ok"),
        _deadline_card(campaign.deadline.astimezone(tz), campaign.generated_at.astimezone(tz)),
    ]


def _unit_row(record: dict[str, Any], tz, href: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """One unit as the table shows it, and as the script sorts and filters it."""
    unit = text(record.get("unit"))
    tags = _tags(record)
    labels = {t: _STATUS_LABELS[t] for t in tags} | (
        {"late": late_label(record)} if "late" in tags else {}
    )
    status = "、".join(labels[t] for t in tags if t != "notice")
    missing = missing_label(record.get("missing"))
    reasons = reasons_label(record.get("notice_reasons"))
    score, rank = record.get("score"), record.get("rank")
    counts = ("photos", "reports", "deeds", "videos", "video_links")
    shown = {
        "unit": _e(unit),
        "href": href,
        "category": _e(record.get("category")),
        "badges": [{"tag": t, "label": labels[t]} for t in tags],
        "first": format_datetime(record.get("first_received"), tz),
        "last": format_datetime(record.get("last_received"), tz),
        "counts": [format_number(record.get(key)) for key in counts],
        "missing": missing,
        "score": "" if is_missing(score) else f"{float(score):.1f}",
        "grade": _e(record.get("grade")),
        "rank": format_number(rank),
        "reasons": _e(reasons),
    }
    words = [unit, text(record.get("category")), status, missing, reasons]
    words += [text(record.get("grade")), *(_STATUS_LABELS[t] for t in tags), labels.get("late", "")]
    data = {
        "unit": unit,
        "category": text(record.get("category")),
        "status": status,
        "first": _epoch_ms(record.get("first_received")),
        "last": _epoch_ms(record.get("last_received")),
        **{k: _number(record.get(c)) for k, c in zip(_JSON_COUNTS, counts, strict=True)},
        "missing": missing,
        "score": _number(score),
        "grade": text(record.get("grade")),
        "rank": _number(rank),
        "reasons": reasons,
        "tags": tags,
        "search": " ".join(words).lower(),
    }
    return shown, data


_JSON_COUNTS = ("photos", "reports", "deeds", "videos", "links")


def _unit_table(tables: ReportTables, unit_href: Callable[[dict], str]) -> dict[str, Any]:
    tz = tables.campaign.deadline.tzinfo
    pairs = [_unit_row(r, tz, unit_href(r)) for r in _records(tables.units)]
    rows_json = [data for _, data in pairs]
    return {
        "columns": [{"label": label, "type": kind} for label, _, kind in UNIT_COLUMNS],
        "rows": [shown for shown, _ in pairs],
        "options": [
            {"tag": tag, "label": label, "count": sum(tag in r["tags"] for r in rows_json)}
            for tag, label in STATUSES
        ],
        "json": Markup(
            _json_for_script(
                {
                    "columns": [{"key": key, "type": kind} for _, key, kind in UNIT_COLUMNS],
                    "rows": rows_json,
                }
            )
        ),
    }


def _review_rows(tables: ReportTables, path_href: Callable[[str], str], ref_href) -> list[dict]:
    tz = tables.campaign.deadline.tzinfo
    rows = []
    for record in _records(tables.review):
        stored = text(record.get("path"))
        ref = text(record.get("ref"))
        rows.append(
            {
                "ref": ref,
                "ref_href": ref_href(ref) if ref else "",
                "received": format_datetime(record.get("received_at"), tz),
                "sender": _e(record.get("sender")),
                "subject": _e(record.get("subject")),
                "unit": _e(record.get("unit")),
                "filename": _e(record.get("filename") or "（整封邮件）"),
                "reason": _e(record.get("reason")),
                "candidates": _e("、".join(split_codes(record.get("candidates")))),
                "path": _e(stored),
                "path_href": path_href(stored) if stored and _inside(stored) else "",
            }
        )
    return rows


def _link_rows(tables: ReportTables) -> list[dict]:
    tz = tables.campaign.deadline.tzinfo
    frame = tables.attachments
    records = []
    if frame is not None and not frame.empty and "kind" in frame.columns:
        records = _records(frame[frame["kind"] == "link"])
    return [
        {
            "unit": _e(record.get("unit")),
            "received": format_datetime(record.get("received_at"), tz),
            "category": category_label(record.get("category")),
            "url": _e(record.get("filename")),
            "web": urlsplit(text(record.get("filename"))).scheme.lower() in ("http", "https"),
            "code": _e(record.get("link_code")),
        }
        for record in records
    ]


def _integrity(
    tables: ReportTables, unit_hrefs: dict[str, str], path_href: Callable[[str], str]
) -> dict[str, Any]:
    """The 疑点 section: how many findings of each kind, and each finding with its evidence."""
    records = _records(tables.integrity)
    counts: dict[str, int] = {}
    for record in records:
        kind = text(record.get("kind"))
        counts[kind] = counts.get(kind, 0) + 1
    order = list(INTEGRITY_KIND_LABELS)
    ranked = sorted(counts, key=lambda k: (order.index(k) if k in order else len(order), k))
    rows = []
    for record in records:
        stored, unit = text(record.get("path")), text(record.get("unit"))
        rows.append(
            {
                "unit": _e(unit),
                "unit_href": unit_hrefs.get(unit, ""),
                "kind": _e(integrity_label(record.get("kind"))),
                "file": _e(stored.replace("\\", "/").rsplit("/", 1)[-1]),
                "path": _e(stored),
                "file_href": path_href(stored) if stored and _inside(stored) else "",
                "other_unit": _e(record.get("other_unit")),
                "evidence": _e(record.get("evidence")),
            }
        )
    return {
        "counts": [{"label": _e(integrity_label(k)), "count": counts[k]} for k in ranked],
        "rows": rows,
    }


def dashboard_view(
    tables: ReportTables,
    *,
    unit_href: Callable[[dict], str],
    path_href: Callable[[str], str],
    ref_href: Callable[[str], str] = lambda ref: "",
    unit_hint: str = "点击单位名称打开该单位的材料文件夹。",
    unit_link_title: str = "打开材料文件夹",
    review_hint: str = "系统无法确定单位或类别的邮件和文件，请人工核对后归档（编号用于更正命令）。",
) -> dict[str, Any]:
    """Everything the dashboard shows, as plain data; links are made by the caller."""
    campaign = tables.campaign
    tz = campaign.deadline.tzinfo
    year = campaign.deadline.astimezone(tz).year
    unit_hrefs = {text(r.get("unit")): unit_href(r) for r in _records(tables.units)}
    return {
        "title": f"{year}年度{_e(campaign.title)}材料报送情况",
        "office": _e(campaign.office),
        "deadline": format_datetime(campaign.deadline, tz),
        "generated": format_datetime(campaign.generated_at, tz),
        "alerts": [_e(a) for a in campaign.alerts],
        "cards": _cards(tables),
        "chart": _chart(tables),
        "unit_table": _unit_table(tables, unit_href),
        "unit_hint": unit_hint,
        "unit_link_title": unit_link_title,
        "review": _review_rows(tables, path_href, ref_href),
        "review_hint": review_hint,
        "links": _link_rows(tables),
        "integrity": _integrity(tables, unit_hrefs, path_href),
    }


def _folder_links(reports_dir: Path, data_dir: Path):
    """Links from the offline page (in ``reports_dir``) into the materials tree."""

    def unit_href(record: dict) -> str:
        folder = text(record.get("folder"))
        ok = (
            bool(folder)
            and _inside(folder)
            and (bool(record.get("submitted")) or (data_dir / folder).is_dir())
        )
        return _href(data_dir / folder, reports_dir, directory=True) if ok else ""

    return unit_href, lambda stored: _href(data_dir / stored, reports_dir)


def render_dashboard(tables: ReportTables, reports_dir: Path, data_dir: Path) -> str:
    """The offline page as a string (``reports_dir``: the folder the page will be in)."""
    reports_dir = Path(os.path.abspath(reports_dir))
    data_dir = Path(os.path.abspath(data_dir))
    unit_href, path_href = _folder_links(reports_dir, data_dir)
    view = dashboard_view(tables, unit_href=unit_href, path_href=path_href)
    script = static_text("dashboard.js")
    script_hash = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'"
    )
    template = environment().get_template("dashboard.html")
    page = template.render(
        view=view, csp=csp, css=Markup(static_text("dashboard.css")), script=Markup(script)
    )
    return page + "\n"


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
