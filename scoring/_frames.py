"""Small helpers shared by the scoring modules (input checks, time handling, valid materials)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd

MESSAGE_COLUMNS = ("message_key", "unit", "received_at", "status")
MATERIAL_COLUMNS = (
    "message_key",
    "unit",
    "received_at",
    "category",
    "kind",
    "sha256",
    "url",
    "filename",
    "size",
)
DOCUMENT_COLUMNS = ("sha256", "title", "text", "has_text_layer", "problem")


def require_columns(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s): {', '.join(missing)}")


def campaign_tz(deadline: datetime) -> timezone:
    """The campaign's time zone: the deadline's UTC offset, as a fixed offset."""
    offset = deadline.utcoffset()
    if offset is None:
        raise ValueError("deadline must be timezone-aware, e.g. 2020-12-31T23:59:59+08:00")
    return timezone(offset)


def aware(moment: datetime, tz: timezone) -> pd.Timestamp:
    """A deadline as a Timestamp; a naive one is read in the campaign's time zone."""
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz)
    return stamp.tz_convert(tz)


def utc_times(values: pd.Series) -> pd.Series:
    """Receive times as UTC Timestamps (naive ones are taken to be UTC already)."""
    return pd.to_datetime(values, utc=True)


def has_unit(values: pd.Series) -> pd.Series:
    """True where a unit is set (not None/NaN and not empty)."""
    return values.notna() & (values.astype("string").fillna("").str.strip() != "")


def valid_materials(materials: pd.DataFrame) -> pd.DataFrame:
    """The rows that count as materials of a unit, as a new frame.

    Files need a sha256 and a non-zero size (a 0-byte attachment is never a material); links
    need a URL and count as videos whatever their category says (every stored link is a
    cloud-drive / 超大附件 video link). Rows without a unit count for nobody.
    """
    require_columns(materials, MATERIAL_COLUMNS, "materials")
    frame = materials.loc[has_unit(materials["unit"])].copy()
    frame["unit"] = frame["unit"].astype(str)
    frame["received_at"] = utc_times(frame["received_at"])
    frame["sha256"] = frame["sha256"].astype("string").fillna("").astype(str)
    frame["url"] = frame["url"].astype("string").fillna("").astype(str)
    frame["filename"] = frame["filename"].astype("string").fillna("").astype(str)
    frame["kind"] = frame["kind"].astype("string").fillna("").astype(str)
    frame["category"] = frame["category"].astype("string").fillna("").astype(str)
    size = pd.to_numeric(frame["size"], errors="coerce")
    is_file = (frame["kind"] == "file") & (frame["sha256"] != "") & ~(size == 0).fillna(False)
    is_link = (frame["kind"] == "link") & (frame["url"] != "")
    frame = frame.loc[(is_file | is_link) & frame["received_at"].notna()].copy()
    frame.loc[frame["kind"] == "link", "category"] = "video"
    return frame


def ceil_days(late: timedelta) -> float:
    """Days late rounded up to 0.01 day, so that any lateness shows as more than zero."""
    micros = late // timedelta(microseconds=1)
    if micros <= 0:
        return 0.0
    day = 86_400 * 1_000_000
    return -(-micros * 100 // day) / 100


def excerpt_around(sentence: str, start: int, end: int, width: int = 100) -> str:
    """The sentence, or a window of about ``width`` characters around [start, end)."""
    if len(sentence.strip()) <= width:
        return sentence.strip()
    half = max((width - (end - start)) // 2, 10)
    lo = max(start - half, 0)
    hi = min(end + half, len(sentence))
    return ("…" if lo > 0 else "") + sentence[lo:hi].strip() + ("…" if hi < len(sentence) else "")
