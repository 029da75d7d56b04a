"""The tables every report is rendered from.

Scoring builds them from the ledger; each writer in ``outputs/`` only renders them. Keeping them in
one frozen record means a writer can never compute a number that scoring should own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from contract import INTEGRITY_COLUMNS


@dataclass(frozen=True)
class ScoreConfirmation:
    """The last time staff confirmed the score list (confirm-scores)."""

    author: str
    at: datetime  # aware
    reason: str = ""


@dataclass(frozen=True)
class Campaign:
    """What the documents say about the campaign itself (from config)."""

    title: str  # e.g. "“衡阳群众”禁毒志愿服务活动"
    office: str  # e.g. "衡阳县禁毒委员会办公室"
    deadline: datetime  # aware; its offset is the campaign's time zone
    generated_at: datetime  # aware, same offset
    alerts: tuple[str, ...] = ()  # Chinese banners for staff (e.g. the mailbox unreachable)
    doc_number: str = ""  # 发文字号; "" for the placeholder
    cc: tuple[str, ...] = ()  # 抄送 of the notice's 版记
    issuer: str = ""  # 印发机关 ("" = office)
    confirmation: ScoreConfirmation | None = None  # None: scores never confirmed
    title_lines: tuple[str, ...] = ()  # the notice title's lines, when decided earlier


@dataclass(frozen=True)
class ReportTables:
    """Everything a report may show. DataFrames are never mutated by writers.

    units: one row per registry unit, registry order. Columns: contract.UNIT_COLUMNS plus
        ``grade`` (优秀/良好/基本合格/不合格, "" when not submitted),
        ``deduction`` (float, 绩效考评扣分),
        ``needs_manual`` (bool: a report without a text layer),
        ``days_late`` (float, 0 when on time),
        ``volunteers`` (Int64 or <NA>: count stated in the report),
        ``late_items`` (';'-joined missing-codes of what arrived after the deadline),
        ``score_confirmed`` (bool: staff confirmed this very score),
        ``pending_reasons`` (';'-joined notice codes waiting for that confirmation),
        ``findings`` (int: rows of ``integrity`` about the unit),
        ``folder`` (str: materials folder relative to the data folder, e.g. "materials/西渡镇").
        Types: bools are bool; counts int; score float; rank Int64 (<NA> when not submitted);
        first/last_received pandas Timestamps in the deadline's offset (NaT when none);
        missing and notice_reasons are ';'-joined strings.
    attachments: one row per stored file per message, plus one per cloud link:
        contract.ATTACHMENT_COLUMNS plus ``kind`` ("file" | "link"), ``link_code`` (提取码 or ""),
        ``late`` (bool),
        ``review_reason`` (Chinese, "" when none). received_at is a Timestamp in the deadline's
        offset; size Int64 (<NA> for links); uid Int64 (<NA> for the folder source).
    breakdown: unit, criterion (Chinese label), points (float), max_points (float), evidence (str).
    review: the review queue: received_at, sender, subject, unit ("" if unknown), filename
        ("" for a whole message), reason (Chinese), candidates (str), path (relative to data).
    individuals: candidate outstanding individuals: name, unit, document, excerpt,
        status (candidate | confirmed | rejected), note (staff's reason).
    corrections: staff corrections: created_at, author, kind (Chinese), target, value, reason.
    sent: mail the office sent: created_at, kind (Chinese), unit, recipient, subject, status.
    integrity: findings for staff to judge (疑点): INTEGRITY_COLUMNS, one row per finding;
        measure is a float, the rest str (kinds: contract.INTEGRITY_KIND_LABELS).
    attachments and review also carry ``ref``: the 编号 staff give to correction commands
    ("12" a message, "12-3" a file).
    """

    units: pd.DataFrame
    attachments: pd.DataFrame
    breakdown: pd.DataFrame
    review: pd.DataFrame
    individuals: pd.DataFrame
    campaign: Campaign
    corrections: pd.DataFrame = field(default_factory=pd.DataFrame)
    sent: pd.DataFrame = field(default_factory=pd.DataFrame)
    integrity: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(INTEGRITY_COLUMNS))
    )
