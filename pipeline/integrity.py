"""Ledger → the integrity checks' input tables → findings (疑点) for every report.

Measuring happens in pipeline/media.py (``prepare`` at report time); the checks themselves are
scoring/integrity.py's pure functions. This module only joins what the ledger holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from intake.ledger import Ledger
from parsers.media import ImageFacts, VideoFacts, facts_from_json
from parsers.tools import find_tools
from pipeline.config import Config
from pipeline.media import References, cached_references, references, refresh_stored
from scoring.integrity import find_all

PHOTO_COLUMNS = ["unit", "path", "sha256", "filename", "taken", "phash", "dhash"]
VIDEO_COLUMNS = ["unit", "path", "sha256", "probed", "playable", "duration", "problem"]


@dataclass(frozen=True)
class Integrity:
    findings: pd.DataFrame  # contract.INTEGRITY_COLUMNS
    videos: pd.DataFrame  # VIDEO_COLUMNS, for the rubric's video duration rule
    alerts: tuple[str, ...]


def prepare(ledger: Ledger, config: Config) -> References:
    """Measure what is new (stored files, reference material); the reference tables."""
    tools = find_tools(config.tools.model_dump())
    refresh_stored(ledger, config.data_dir, tools)
    checks = config.integrity
    timeout = config.sorting.document_timeout_s
    return references(ledger, checks.reference_folders, checks.reference_texts, timeout, tools)


def cached(ledger: Ledger, config: Config) -> References:
    """The reference tables as the last report run measured them (no file is read)."""
    checks = config.integrity
    return cached_references(ledger, checks.reference_folders, checks.reference_texts)


def _counted(rows: pd.DataFrame) -> pd.DataFrame:
    """Stored files and links that count for a unit (its message counts, the file is kept)."""
    counted = rows["status"].isin(["done", "review"]) & rows["unit"].notna()
    return rows.loc[counted & rows["kind"].isin(["file", "link"])]


def _files(rows: pd.DataFrame, category: str) -> pd.DataFrame:
    files = rows.loc[(rows["kind"] == "file") & (rows["category"] == category)]
    files = files.loc[(files["path"] != "") & (files["sha256"] != "")]
    return files.drop_duplicates(["unit", "sha256"])


def _photos(rows: pd.DataFrame, facts: dict[str, dict]) -> pd.DataFrame:
    out = []
    for unit, path, sha, name in _files(rows, "photo")[
        ["unit", "path", "sha256", "filename"]
    ].values:
        record = facts_from_json(facts[sha]) if sha in facts else None
        if isinstance(record, ImageFacts):
            out.append([unit, path, sha, name, record.taken, record.phash, record.dhash])
    return pd.DataFrame(out, columns=PHOTO_COLUMNS)


def _videos(rows: pd.DataFrame, facts: dict[str, dict]) -> pd.DataFrame:
    out = []
    for unit, path, sha in _files(rows, "video")[["unit", "path", "sha256"]].values:
        record = facts_from_json(facts[sha]) if sha in facts else VideoFacts()
        if isinstance(record, VideoFacts):
            out.append(
                [unit, path, sha, record.probed, record.playable, record.duration, record.problem]
            )
    return pd.DataFrame(out, columns=VIDEO_COLUMNS)


def _links(rows: pd.DataFrame) -> pd.DataFrame:
    links = rows.loc[rows["kind"] == "link"]
    return pd.DataFrame(
        {"unit": links["unit"], "url": links["filename"], "received_at": links["received_at"]}
    ).drop_duplicates(["unit", "url"])


def _documents(rows: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    docs = pd.concat([_files(rows, "report"), _files(rows, "deeds")])
    readable = documents.loc[documents["has_text_layer"].astype(bool)].set_index("sha256")["text"]
    docs = docs.loc[docs["sha256"].isin(readable.index)]
    return pd.DataFrame(
        {"unit": docs["unit"], "path": docs["path"], "text": docs["sha256"].map(readable)}
    ).reset_index(drop=True)


def check(
    ledger: Ledger,
    config: Config,
    material_rows: pd.DataFrame,
    documents: pd.DataFrame,
    refs: References,
    now: datetime,
) -> Integrity:
    """Findings over the counted materials (``material_rows``: files joined with their
    messages' status and receive time, unit None where it counts for nobody)."""
    rows = _counted(material_rows)
    facts = ledger.media_facts()
    videos = _videos(rows, facts)
    findings = find_all(
        _photos(rows, facts),
        refs.photos,
        videos,
        _links(rows),
        _documents(rows, documents),
        refs.texts,
        config.integrity,
        config.campaign.deadline,
        now,
    )
    alerts = list(refs.alerts)
    if (~videos["probed"].astype(bool)).any():
        alerts.append(
            "未找到 ffprobe，视频时长和能否播放未检查（请安装 ffmpeg，"
            "或在 config.yaml 的 tools.ffprobe 中填写其位置；可运行 doctor 检查）。"
        )
    return Integrity(findings, videos, tuple(alerts))
