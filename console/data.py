"""What each console page shows, gathered once as plain data (dicts of strings and numbers).

The ledger is opened per request for reading (SQLite WAL: a running poll never blocks a page);
the report tables, which take longest, are built once per ledger generation and reused. Every
string that came from a mail stays a plain string here: the templates escape it.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from console import previews
from contract import CATEGORY_LABELS, MISSING_LABELS
from intake.ledger import Ledger
from outputs._common import integrity_label, late_label, measure_label
from outputs.dashboard import dashboard_view
from outputs.tables import ReportTables
from parsers.units import Registry, load_registry
from pipeline.config import Config
from pipeline.doctor import diagnose
from pipeline.tables import CORRECTION_LABELS, SENT_LABELS, SENT_STATUS, build_tables

Clock = Callable[[], datetime]
MESSAGE_STATUS = {
    "done": "已归档",
    "review": "待确认",
    "ignored": "非报送邮件",
    "excluded": "已排除",
    "failed": "处理失败",
    "pending": "处理中",
}


def size_text(size: Any) -> str:
    if size is None or pd.isna(size):
        return ""
    size = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


class Store:
    """The console's read side over one data folder."""

    def __init__(self, config: Config, clock: Clock) -> None:
        self.config, self.clock = config, clock
        self._lock = threading.Lock()
        self._registry: tuple[tuple, Registry] | None = None
        self._tables: tuple[tuple, ReportTables] | None = None
        self._views: dict[str, Any] = {}  # views built from the current tables
        self._bodies: dict[str, str] = {}

    @contextlib.contextmanager
    def ledger(self) -> Iterator[Ledger]:
        with Ledger(self.config.data_dir / "ledger.sqlite3") as ledger:
            yield ledger

    def _stamp(self, path: Path) -> tuple:
        try:
            stat = path.stat()
        except OSError:
            return (str(path), 0, 0)
        return (str(path), stat.st_mtime_ns, stat.st_size)

    def registry(self) -> Registry:
        key = self._stamp(self.config.units_file)
        with self._lock:
            if self._registry is None or self._registry[0] != key:
                self._registry = (key, load_registry(self.config.units_file))
            return self._registry[1]

    def generation(self, ledger: Ledger) -> str:
        return ledger.get_state("generation", "0") or "0"

    def _key(self, generation: str, ledger: Ledger) -> tuple:
        failures = ledger.get_state("connection_failures", "0")
        return (generation, failures, self._stamp(self.config.units_file))

    def adopt(self, report) -> None:
        """Take the tables a report rebuild just made (after a poll or a correction), so the
        next page does not build them again."""
        if report is None or report.tables is None:
            return
        with self.ledger() as ledger:
            key = self._key(report.generation, ledger)
        with self._lock:
            self._tables = (key, report.tables)
            self._views = {}
        self.dashboard(report.tables)  # paid by the poll or the button, not the next page

    def dashboard(self, tables: ReportTables) -> dict[str, Any]:
        """The dashboard's view with links into the console, built once per ledger generation."""
        return self.view("dashboard", tables, lambda: console_dashboard(tables))

    def tables(self, ledger: Ledger) -> ReportTables:
        """The report tables for the ledger as it is now (built once per generation)."""
        key = self._key(self.generation(ledger), ledger)
        with self._lock:
            if self._tables is not None and self._tables[0] == key:
                return self._tables[1]
        tables = build_tables(ledger, self.registry(), self.config, self.clock())
        with self._lock:
            self._tables = (key, tables)
            self._views = {}
        return tables

    def view(self, name: str, tables: ReportTables, build: Callable[[], Any]) -> Any:
        """A view of ``tables`` built once (the big unit table costs most of a page)."""
        with self._lock:
            current = self._tables is not None and self._tables[1] is tables
            if current and name in self._views:
                return self._views[name]
        built = build()
        with self._lock:
            if self._tables is not None and self._tables[1] is tables:
                self._views[name] = built
        return built

    def body(self, raw_path: str) -> str:
        """A mail's body as plain text, parsed once per process (raw mail never changes)."""
        with self._lock:
            if raw_path in self._bodies:
                return self._bodies[raw_path]
        text = previews.mail_text(self.config.data_dir / raw_path)
        with self._lock:
            if len(self._bodies) > 2000:
                self._bodies.clear()
            self._bodies[raw_path] = text
        return text

    def local(self, iso: str | None) -> str:
        if not iso:
            return ""
        moment = datetime.fromisoformat(iso).astimezone(self.config.campaign.deadline.tzinfo)
        return moment.strftime("%Y-%m-%d %H:%M")


def unit_url(name: str) -> str:
    return "/unit/" + quote(name, safe="")


def console_dashboard(tables: ReportTables) -> dict[str, Any]:
    return dashboard_view(
        tables,
        unit_href=lambda r: unit_url(r["unit"]),
        path_href=lambda stored: "",
        ref_href=lambda ref: f"/review#item-{ref}",
        unit_hint="点击单位名称查看该单位的材料、得分和操作。",
        unit_link_title="查看单位详情",
        review_hint="点击编号到“待确认”页处理。",
    )


def file_view(store: Store, row: dict, docs: dict[str, str]) -> dict[str, Any]:
    """One stored file or link as the pages show it (with how to preview and download it)."""
    kind, category = row["kind"], row["category"]
    preview, seconds = "", None
    if kind == "file" and row.get("path"):
        if category == "photo" or row["filename"].lower().endswith((".heic", ".heif")):
            preview = "image"
        elif previews.is_video(row["filename"], category) and previews.can_poster():
            preview = "video"
            source = store.config.data_dir / row["path"]
            seconds = previews.video_seconds(store.config.data_dir, source, row["sha256"])
        elif row["sha256"] in docs:
            preview = "text"
    return {
        "id": row["id"],
        "ref": f"{row['message']}-{row['seq']}",
        "filename": row["filename"],
        "kind": kind,
        "category": category,
        "category_label": CATEGORY_LABELS.get(category, category),
        "size": size_text(row.get("size")),
        "downloadable": kind == "file" and bool(row.get("path")),
        "preview": preview,
        "seconds": f"{seconds:.0f} 秒" if seconds else "",
        "lines": docs.get(row["sha256"], "").strip()[:300] if preview == "text" else "",
        "url": row["filename"] if kind == "link" else "",
        "note": row.get("note") or "",
        "review_reason": row.get("review_reason") or "",
        "unit": row.get("unit") or "",
        "excluded": kind == "excluded",
    }


def files_view(store: Store, ledger: Ledger, rows: list[dict]) -> list[dict]:
    shown = [r for r in rows if r["kind"] in ("file", "link", "excluded", "skipped")]
    docs = ledger.document_texts([r["sha256"] for r in shown if r["sha256"]]) if shown else {}
    return [file_view(store, r, docs) for r in shown]


def mail_view(store: Store, info: dict) -> dict[str, Any]:
    return {
        "id": info["id"],
        "sender": info["sender"],
        "sender_name": info.get("sender_name") or "",
        "subject": info.get("subject") or "（无主题）",
        "received": store.local(info["received_at"]),
        "status": MESSAGE_STATUS.get(info["status"], info["status"]),
        "unit": info.get("unit") or "",
        "reason": info.get("reason") or "",
    }


REVIEW_PAGE = 30  # items per page: a long queue stays quick to load and to read


def review_view(store: Store, page: int = 1) -> dict[str, Any]:
    """The review queue (the reports' definition), one page of it with mails and previews."""
    with store.ledger() as ledger:
        tables = store.tables(ledger)
        every = tables.review.to_dict("records") if len(tables.review) else []
        pages = max(1, -(-len(every) // REVIEW_PAGE))
        page = min(max(page, 1), pages)
        records = every[(page - 1) * REVIEW_PAGE : page * REVIEW_PAGE]
        ids = sorted({int(str(r["ref"]).split("-")[0]) for r in records})
        files = ledger.files_of_messages(ids) if ids else []
        by_message: dict[int, list[dict]] = {}
        for view in files_view(store, ledger, files):
            by_message.setdefault(int(view["ref"].split("-")[0]), []).append(view)
        items = []
        for record in records:
            ref = str(record["ref"])
            message = int(ref.split("-")[0])
            info = ledger.message_info(message)
            mail = mail_view(store, info) | {"body": store.body(info["raw_path"])}
            its_files = by_message.get(message, [])
            target = [f for f in its_files if f["ref"] == ref]
            candidates = [c for c in str(record.get("candidates") or "").split(";") if c]
            items.append(
                {
                    "ref": ref,
                    "whole": "-" not in ref,
                    "reason": record["reason"],
                    "mail": mail,
                    "files": target or its_files,
                    "file": target[0] if target else None,
                    "candidates": candidates,
                    "unit": record.get("unit") or "",
                }
            )
        registry = store.registry()
    return {
        "items": items,
        "count": len(every),
        "page": page,
        "pages": pages,
        "units": [u.name for u in registry.units],
        "categories": [{"code": c, "label": label} for c, label in CATEGORY_LABELS.items()],
    }


def _unit_record(tables: ReportTables, name: str) -> dict | None:
    rows = tables.units[tables.units["unit"] == name]
    return rows.iloc[0].to_dict() if len(rows) else None


def _status_line(record: dict) -> str:
    if not record["submitted"]:
        return "未报送"
    parts = [
        late_label(record) or "按时",
        "材料齐全" if record["complete"] else "材料不全",
    ]
    return "、".join(parts)


def unit_view(store: Store, name: str) -> dict[str, Any] | None:
    with store.ledger() as ledger:
        tables = store.tables(ledger)
        record = _unit_record(tables, name)
        if record is None:
            return None
        messages = [mail_view(store, m) for m in ledger.unit_messages(name)]
        files = files_view(store, ledger, ledger.unit_files(name))
        corrections = records_view(store, ledger, unit=name)["corrections"]
        sent = sent_view(store, ledger.sent_rows(name))
        findings = findings_view(ledger, tables.integrity, name)
    breakdown = tables.breakdown[tables.breakdown["unit"] == name]
    groups = [
        {"code": code, "label": label, "files": [f for f in files if f["category"] == code]}
        for code, label in CATEGORY_LABELS.items()
    ]
    missing = [MISSING_LABELS.get(m, m) for m in str(record.get("missing") or "").split(";") if m]
    score = record.get("score")
    return {
        "unit": name,
        "category": record.get("category") or "",
        "status": _status_line(record),
        "missing": "、".join(missing),
        "score": "" if pd.isna(score) else f"{float(score):.1f}",
        "grade": record.get("grade") or "",
        "rank": "" if pd.isna(record.get("rank")) else str(int(record["rank"])),
        "first": store.local(_iso(record.get("first_received"))),
        "last": store.local(_iso(record.get("last_received"))),
        "messages": messages,
        "groups": [g for g in groups if g["files"]],
        "breakdown": [
            {
                "criterion": b["criterion"],
                "points": f"{float(b['points']):g}",
                "max": f"{float(b['max_points']):g}",
                "evidence": b["evidence"] or "",
            }
            for b in breakdown.to_dict("records")
        ],
        "integrity": findings,
        "corrections": corrections,
        "sent": sent,
        "today": store.clock().date().isoformat(),
        "now_local": store.clock().strftime("%Y-%m-%dT%H:%M"),
    }


def findings_view(ledger: Ledger, integrity: pd.DataFrame, unit: str) -> list[dict[str, Any]]:
    """The unit's 疑点 as staff read them: the kind in Chinese, the measure in words, and both
    files by their ledger id (so the page links to /file/<id>). A file the ledger does not hold
    (last year's material in a reference folder) is named, never served."""
    if integrity is None or not len(integrity):
        return []
    records = integrity[integrity["unit"] == unit].to_dict("records")
    stored: dict[str, dict] = {}
    for name in {unit} | {r["other_unit"] for r in records if r["other_unit"]}:
        stored.update({f["path"]: f for f in ledger.unit_files(name) if f["path"]})

    def file(path: str) -> dict[str, Any]:
        row = stored.get(path) if path else None
        if row is None:
            return {"id": None, "name": path}
        return {"id": row["id"], "name": _base_name(row["filename"]), "path": path}

    return [
        {
            "kind": integrity_label(r["kind"]),
            "measure": measure_label(r["kind"], r["measure"]),
            "file": file(r["path"] or ""),
            "other_unit": r["other_unit"] or "",
            "other": file(r["other_path"] or ""),
            "evidence": r["evidence"] or "",
        }
        for r in records
    ]


def _base_name(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1] or name


def _iso(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


def sent_view(store: Store, rows: list[dict]) -> list[dict]:
    return [
        {
            "when": store.local(r["created_at"]),
            "kind": SENT_LABELS.get(r["kind"], r["kind"]),
            "unit": r["unit"] or "",
            "recipient": r["recipient"],
            "subject": r["subject"],
            "status": SENT_STATUS.get(r["status"], r["status"]),
            "detail": r["detail"] or "",
        }
        for r in rows
    ]


def _describe_target(ledger: Ledger, kind: str, target: str, cache: dict) -> dict[str, str]:
    """A correction's target as staff read it: 编号, file name, unit; never a hash."""
    if kind in ("assign_message", "exclude_message"):
        rows = ledger.messages_by_sha([target])
        if rows:
            return {"ref": str(rows[0]["id"]), "what": f"邮件《{rows[0]['subject']}》"}
        return {"ref": "", "what": "（邮件已不在台账中）"}
    if kind in ("assign_file", "exclude_file", "set_category"):
        # A file key is a content hash or a link's URL (which has slashes of its own).
        sha, _, key = ("", "", target) if kind == "set_category" else target.partition("/")
        message = ledger.messages_by_sha([sha])[0]["id"] if sha else None
        files = cache.setdefault(key, ledger.files_by_keys([key]))
        hit = [f for f in files if message is None or f["message"] == message] or files
        if hit:
            more = f"（共 {len(hit)} 处）" if len(hit) > 1 else ""
            return {
                "ref": f"{hit[0]['message']}-{hit[0]['seq']}",
                "what": hit[0]["filename"] + more,
            }
        return {"ref": "", "what": "（文件已不在台账中）"}
    if kind == "confirm_sender":
        return {"ref": "", "what": f"发件地址 {target}"}
    if kind == "revoke":
        return {"ref": "", "what": f"更正 #{target}"}
    if kind == "confirm_scores":
        return {"ref": "", "what": "各单位评分"}
    if kind == "confirm_individual":
        unit, _, name = target.partition("/")
        return {"ref": "", "what": f"先进个人 {name}（{unit}）"}
    return {"ref": "", "what": target}


def _describe_value(store: Store, kind: str, value: str) -> str:
    if kind == "set_category":
        return CATEGORY_LABELS.get(value, value)
    if kind == "extend_deadline":
        return "延期至 " + store.local(value)
    if kind == "override_score":
        return f"得分改为 {value}"
    if kind == "revoke":
        return f"撤销「{CORRECTION_LABELS.get(value, value)}」"
    if kind in ("exclude_message", "exclude_file"):
        return "不计入"
    if kind == "confirm_scores":
        return f"确认 {len(_json_dict(value))} 个单位的得分"
    if kind == "confirm_individual":
        return INDIVIDUAL_DECISIONS.get(value, value)
    return value


INDIVIDUAL_DECISIONS = {"confirmed": "确认表彰", "rejected": "不予表彰"}


def _json_dict(value: str) -> dict:
    try:
        loaded = json.loads(value)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _unit_of(kind: str, target: str, value: str) -> str:
    """The unit a correction is about ("" for one about every unit, like 确认评分)."""
    if kind in ("assign_message", "assign_file", "confirm_sender"):
        return value
    if kind in ("extend_deadline", "override_score"):
        return target
    if kind == "confirm_individual":
        return target.partition("/")[0]
    return ""


def records_view(store: Store, ledger: Ledger, unit: str | None = None) -> dict[str, Any]:
    every = ledger.corrections(revoked=True)
    live = {c.id for c in ledger.corrections()}
    revoked_by = {int(c.target): c.id for c in every if c.kind == "revoke"}
    cache: dict = {}
    rows = []
    for c in reversed(every):
        target = _describe_target(ledger, c.kind, c.target, cache)
        unit_of = _unit_of(c.kind, c.target, c.value)
        if unit is not None and unit_of != unit:
            continue
        rows.append(
            {
                "id": c.id,
                "when": store.local(c.created_at),
                "author": c.author,
                "kind": CORRECTION_LABELS.get(c.kind, c.kind),
                "ref": target["ref"],
                "what": target["what"],
                "value": _describe_value(store, c.kind, c.value),
                "unit": unit_of,
                "reason": c.reason,
                "revocable": c.kind != "revoke" and c.id in live,
                "revoked_by": revoked_by.get(c.id),
            }
        )
    return {"corrections": rows}


def doctor_view(config: Config) -> dict[str, Any]:
    """``doctor``'s rows (the very function the CLI prints), grouped by section."""
    sections: list[dict[str, Any]] = []
    for check in diagnose(config):
        if not sections or sections[-1]["title"] != check.section:
            sections.append({"title": check.section, "checks": []})
        state = "ok" if check.ok else ("optional" if check.optional else "bad")
        sections[-1]["checks"].append(
            {
                "name": check.name,
                "ok": check.ok,
                "state": state,
                "mark": {"ok": "正常", "optional": "缺少（可选）", "bad": "需处理"}[state],
                "detail": check.detail,
                "fix": check.fix,
            }
        )
    every = [c for s in sections for c in s["checks"]]
    return {
        "sections": sections,
        "problems": sum(1 for c in every if c["state"] == "bad"),
        "optional": sum(1 for c in every if c["state"] == "optional"),
    }
