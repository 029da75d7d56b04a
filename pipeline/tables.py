"""Ledger → scoring → the tables every report, the console and the outgoing mail show.

Needs nothing but the ledger, the config and the stored files (the integrity checks measure
new photos and videos). See ``pipeline.reports`` for the files built from these tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from intake.ledger import Ledger
from intake.materials import unit_folder
from outputs.tables import Campaign, ReportTables, ScoreConfirmation
from parsers.units import Registry
from pipeline import integrity
from pipeline.config import Config
from pipeline.media import References
from pipeline.reports import poll_alert
from scoring.evaluation import StaffDecisions, evaluate


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, format="ISO8601")


@dataclass(frozen=True)
class _LedgerFrames:
    """The ledger's rows as the evaluation reads them."""

    units: pd.DataFrame  # unit, category (registry order)
    messages: pd.DataFrame  # every message, unit None where it counts for nobody
    message_frame: pd.DataFrame  # scoring's messages: the ones that count
    joined: pd.DataFrame  # files with their message's receive time, status, subject
    material_rows: pd.DataFrame  # joined files and links, in message order
    materials: pd.DataFrame  # scoring's materials
    documents: pd.DataFrame  # scoring's documents


def _ledger_frames(ledger: Ledger, registry: Registry) -> _LedgerFrames:
    units = pd.DataFrame(
        {"unit": [u.name for u in registry.units], "category": [u.category for u in registry.units]}
    )
    known = set(units["unit"])
    messages = ledger.frame("messages")
    messages = messages.assign(received_at=_utc(messages["received_at"]))
    # A unit dropped from the registry still has ledger rows; it counts for nobody.
    messages["unit"] = messages["unit"].where(messages["unit"].isin(known), None)
    counted = messages[messages["status"].isin(["done", "review"])]
    message_frame = pd.DataFrame(
        {
            "message_key": counted["id"],
            "unit": counted["unit"],
            "received_at": counted["received_at"],
            "status": counted["status"],
        }
    )
    joined = ledger.frame("files").merge(
        messages[["id", "received_at", "message_id", "status", "subject"]],
        left_on="message",
        right_on="id",
        suffixes=("", "_m"),
    )
    joined["unit"] = joined["unit"].where(joined["unit"].isin(known), None)
    rows = joined[joined["kind"].isin(["file", "link"])].sort_values(["message", "seq"])
    return _LedgerFrames(
        units, messages, message_frame, joined, rows, _materials(rows), _documents(ledger)
    )


def _materials(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "message_key": rows["message"],
            "unit": rows["unit"].where(rows["status"] != "ignored", None),
            "received_at": rows["received_at"],
            "category": rows["category"],
            "kind": rows["kind"],
            "sha256": rows["sha256"].fillna(""),
            "url": rows["filename"].where(rows["kind"] == "link", ""),
            "filename": rows["filename"],
            "size": rows["size"].astype("Int64"),
        }
    )


def _documents(ledger: Ledger) -> pd.DataFrame:
    documents = ledger.frame("documents")
    return pd.DataFrame(
        {
            "sha256": documents["sha256"],
            "title": documents["title"],
            "text": documents["text"],
            "has_text_layer": documents["has_text_layer"].astype(bool),
            "problem": documents["problem"],
        }
    )


def build_tables(
    ledger: Ledger,
    registry: Registry,
    config: Config,
    now: datetime,
    refs: References | None = None,
) -> ReportTables:
    """Every table the reports show. Integrity facts come from the ledger's cache, reference
    material as the last report run found it; ``refs`` (from ``integrity.prepare``, which
    measures what is new first) replaces that."""
    deadline = config.campaign.deadline
    tz = deadline.tzinfo
    frames = _ledger_frames(ledger, registry)
    rows = frames.material_rows
    counted_rows = rows.assign(unit=rows["unit"].where(rows["status"] != "ignored", None))
    checked = integrity.check(
        ledger,
        config,
        counted_rows,
        frames.documents,
        refs or integrity.cached(ledger, config),
        now,
    )
    table, breakdown, individuals = evaluate(
        frames.units,
        frames.message_frame,
        frames.materials,
        frames.documents,
        config.scoring,
        deadline,
        staff_decisions(ledger),
        checked.findings,
        checked.videos,
    )
    table = table.assign(folder=[unit_folder(name) for name in table["unit"]])
    campaign = Campaign(
        config.campaign.title,
        config.campaign.office,
        deadline,
        now,
        _alerts(ledger, frames.messages) + checked.alerts,
        doc_number=config.notice.doc_number,
        cc=tuple(config.notice.cc),
        issuer=config.notice.issuer or config.campaign.office,
        confirmation=score_confirmation(ledger),
    )
    return ReportTables(
        table,
        _attachments(rows, ledger.frame("locations"), deadline),
        breakdown,
        _review(frames.messages, frames.joined, tz),
        individuals,
        campaign,
        corrections=_corrections(ledger, tz),
        sent=_sent(ledger, tz),
        integrity=checked.findings,
    )


def staff_decisions(ledger: Ledger) -> StaffDecisions:
    """Extensions, score overrides, the confirmed score list and decisions on individuals."""
    confirmed = ledger.corrections("confirm_scores")
    people = {}
    for c in ledger.corrections("confirm_individual"):
        unit, _, name = c.target.partition("/")
        people[(unit, name)] = (c.value, c.reason)
    return StaffDecisions(
        extensions={
            c.target: datetime.fromisoformat(c.value) for c in ledger.corrections("extend_deadline")
        },
        overrides={
            c.target: (float(c.value), c.reason) for c in ledger.corrections("override_score")
        },
        confirmed_scores=json.loads(confirmed[-1].value) if confirmed else {},
        individuals=people,
    )


def score_confirmation(ledger: Ledger) -> ScoreConfirmation | None:
    """Who confirmed the score list last, and when (None: never)."""
    confirmed = ledger.corrections("confirm_scores")
    if not confirmed:
        return None
    last = confirmed[-1]
    return ScoreConfirmation(last.author, datetime.fromisoformat(last.created_at), last.reason)


CORRECTION_LABELS = {
    "assign_message": "指定邮件单位",
    "exclude_message": "排除邮件",
    "assign_file": "指定文件单位",
    "set_category": "更改文件类别",
    "exclude_file": "排除文件",
    "confirm_sender": "确认发件地址",
    "extend_deadline": "延期",
    "override_score": "调整得分",
    "revoke": "撤销更正",
    "confirm_scores": "确认评分",
    "confirm_individual": "先进个人确认",
}
SENT_LABELS = {"receipt": "回执", "reminder": "催报", "digest": "每日汇总"}
SENT_STATUS = {
    "sent": "已发送",
    "dry_run": "未发送（演练，已存 outbox）",
    "failed": "发送失败",
    "skipped": "不发送",
    "pending": "发送中断",
}


def _alerts(ledger: Ledger, messages: pd.DataFrame) -> tuple[str, ...]:
    alerts = []
    banner = poll_alert(ledger)
    if banner:
        alerts.append(banner)
    untrusted = int((messages["time_source"].isin(["received", "date", "mtime"])).sum())
    if untrusted:
        alerts.append(
            f"有 {untrusted} 封邮件来自离线导入，收信时间取自邮件头，可信度低于邮箱服务器时间。"
        )
    return tuple(alerts)


def _corrections(ledger: Ledger, tz) -> pd.DataFrame:
    frame = ledger.frame("corrections")
    return pd.DataFrame(
        {
            "created_at": _utc(frame["created_at"]).dt.tz_convert(tz) if len(frame) else [],
            "author": frame["author"],
            "kind": frame["kind"].map(CORRECTION_LABELS).fillna(frame["kind"]),
            "target": frame["target"],
            "value": frame["value"],
            "reason": frame["reason"],
        }
    )


def _sent(ledger: Ledger, tz) -> pd.DataFrame:
    frame = ledger.frame("sent")
    return pd.DataFrame(
        {
            "created_at": _utc(frame["created_at"]).dt.tz_convert(tz) if len(frame) else [],
            "kind": frame["kind"].map(SENT_LABELS).fillna(frame["kind"]),
            "unit": frame["unit"].fillna(""),
            "recipient": frame["recipient"],
            "subject": frame["subject"],
            "status": frame["status"].map(SENT_STATUS).fillna(frame["status"]),
            "detail": frame["detail"],
        }
    )


def _attachments(rows: pd.DataFrame, locations: pd.DataFrame, deadline: datetime) -> pd.DataFrame:
    uids = locations.groupby("message")["uid"].min() if len(locations) else pd.Series(dtype=int)
    received = rows["received_at"].dt.tz_convert(deadline.tzinfo)
    return pd.DataFrame(
        {
            "message_id": rows["message_id"].fillna(""),
            "uid": rows["message"].map(uids).astype("Int64"),
            "received_at": received,
            "sender": rows["sender"],
            "unit": rows["unit"].fillna(""),
            "filename": rows["filename"],
            "category": rows["category"],
            "size": rows["size"].astype("Int64"),
            "sha256": rows["sha256"].fillna(""),
            "path": rows["path"].fillna(""),
            "kind": rows["kind"],
            "link_code": rows["link_code"].fillna(""),
            "late": received > pd.Timestamp(deadline),
            "review_reason": rows["review_reason"].fillna(""),
            "ref": rows["message"].astype(str) + "-" + rows["seq"].astype(str),
        }
    ).reset_index(drop=True)


def _review(messages: pd.DataFrame, joined: pd.DataFrame, tz) -> pd.DataFrame:
    flagged = (messages["status"] == "done") & (messages["reason"] != "")
    whole = messages[messages["status"].isin(["review", "failed", "ignored"]) | flagged]
    parts = joined[(joined["review_reason"] != "") & (joined["status"] != "ignored")]
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "received_at": whole["received_at"],
                    "sender": whole["sender"],
                    "subject": whole["subject"],
                    "unit": whole["unit"].fillna(""),
                    "filename": "",
                    "reason": whole["reason"].where(whole["reason"] != "", whole["error"]),
                    "candidates": whole["candidates"],
                    "path": whole["raw_path"],
                    "ref": whole["id"].astype(str),
                }
            ),
            pd.DataFrame(
                {
                    "received_at": parts["received_at"],
                    "sender": parts["sender"],
                    "subject": parts["subject"],
                    "unit": parts["unit"].fillna(""),
                    "filename": parts["filename"],
                    "reason": parts["review_reason"],
                    "candidates": "",
                    "path": parts["path"],
                    "ref": parts["message"].astype(str) + "-" + parts["seq"].astype(str),
                }
            ),
        ],
        ignore_index=True,
    )
    if len(frame):
        frame["received_at"] = frame["received_at"].dt.tz_convert(tz)
        frame = frame.sort_values("received_at", kind="stable").reset_index(drop=True)
    return frame


def current_tables(ledger: Ledger, registry: Registry, config: Config, now: datetime):
    """The tables exactly as the reports show them: what is new is measured first and the
    reference material is compared too."""
    return build_tables(ledger, registry, config, now, integrity.prepare(ledger, config))
