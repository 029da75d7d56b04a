"""Per-unit completeness and lateness (SPEC "Rules": submitted, on_time, complete, counts)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from contract import REQUIRED, REQUIRED_CATEGORY, UNIT_COLUMNS
from scoring._frames import (
    MESSAGE_COLUMNS,
    aware,
    campaign_tz,
    has_unit,
    require_columns,
    utc_times,
    valid_materials,
)

# The contract's unit columns up to ``missing`` (scores and decisions come later), plus four.
STATUS_COLUMNS = (
    *UNIT_COLUMNS[: UNIT_COLUMNS.index("missing") + 1],
    "days_late",
    "late_items",
    "late_at",
    "deadline",
)


def late_days(late: timedelta, deadline: pd.Timestamp, rule: str = "started") -> int:
    """Whole days late by the rubric's rule (0 when not late).

    started: every started 24 hours after the deadline is a day (one second late = 1 day);
    calendar: calendar days from the deadline's date to the arrival's date (at least 1).
    """
    if late <= timedelta(0):
        return 0
    if rule == "calendar":
        arrived = (deadline + late).date()
        return max((arrived - deadline.date()).days, 1)
    return math.ceil(late / timedelta(days=1))


@dataclass(frozen=True)
class _Sent:
    """What every unit sent, grouped once for the per-unit loop (plain dicts: the loop looks
    them up some twenty times a unit, and a pandas lookup costs about a hundred dict lookups)."""

    times: dict[str, tuple[pd.Timestamp, pd.Timestamp]]  # unit → (first, last) receive time
    counts: dict[tuple[str, str], int]  # (unit, category) → distinct files
    links: dict[str, int]  # unit → distinct link URLs
    first_seen: dict[tuple[str, str], pd.Timestamp]  # (unit, category) → when first satisfied


def _sent(messages: pd.DataFrame, materials: pd.DataFrame) -> _Sent:
    sent = messages.loc[has_unit(messages["unit"]), ["unit", "received_at"]].copy()
    sent["unit"] = sent["unit"].astype(str)
    sent["received_at"] = utc_times(sent["received_at"])
    stored = valid_materials(materials)
    # Only materials of the messages given count (the caller decides which messages count);
    # a material's own unit makes its message one of that unit's messages.
    stored = stored.loc[stored["message_key"].isin(messages["message_key"])]
    times = pd.concat([sent, stored[["unit", "received_at"]]], ignore_index=True)
    times = times.loc[times["received_at"].notna()]
    span = times.groupby("unit")["received_at"].agg(["min", "max"])
    files = stored.loc[stored["kind"] == "file"]
    return _Sent(
        times=dict(zip(span.index, zip(span["min"], span["max"], strict=True), strict=True)),
        counts=files.groupby(["unit", "category"])["sha256"].nunique().to_dict(),
        links=stored.loc[stored["kind"] == "link"].groupby("unit")["url"].nunique().to_dict(),
        first_seen=stored.groupby(["unit", "category"])["received_at"].min().to_dict(),
    )


def completeness(
    units: pd.DataFrame,
    messages: pd.DataFrame,
    materials: pd.DataFrame,
    deadline: datetime,
    extensions: Mapping[str, datetime] | None = None,
    day_rule: str = "started",
) -> pd.DataFrame:
    """One row per registry unit, registry order: what it sent and whether it was on time.

    Columns: STATUS_COLUMNS.

    - ``submitted``: at least one message (late ones included) is attributed to the unit.
      Materials count only when their message is among ``messages``; a material's own unit
      counts even where its message row has none.
    - ``first_received`` / ``last_received``: min / max receive time over the unit's messages
      (also those whose files were all duplicates), in the deadline's offset; NaT when none.
    - ``photos``, ``reports``, ``deeds``, ``videos``: distinct sha256 per category over all mail;
      ``video_links``: distinct link URLs. A link satisfies the video requirement.
    - ``complete``: photo, report, deeds and video (file or link) all present, late included;
      ``missing`` lists the absent ones among ``photos;report;deeds;video`` in that order.
    - ``on_time``: submitted by the unit's deadline (inclusive to the second; ``extensions``
      give per-unit deadlines) and no required category first satisfied after it. Late extra
      files in an already satisfied category, or a late identical resubmission, do not count.
    - ``days_late``: whole days (``late_days`` by ``day_rule``) of the unit's last late step
      (its first message or the first file of a category); 0 when on time or nothing sent.
    - ``late_items``: the required categories first satisfied after the deadline
      (``;``-joined, as ``missing``); all the unit's categories when its first mail was late.
    - ``late_at``: when the last late step arrived (NaT when on time).
    - ``deadline``: the deadline that applied to the unit (extension or campaign), in the
      campaign's offset.
    """
    require_columns(units, ("unit", "category"), "units")
    require_columns(messages, MESSAGE_COLUMNS, "messages")
    tz = campaign_tz(deadline)
    campaign_deadline = aware(deadline, tz)
    extended = {str(unit): aware(moment, tz) for unit, moment in (extensions or {}).items()}
    sent = _sent(messages, materials)
    rows = [
        _unit_status(
            str(unit), category, sent, extended.get(str(unit), campaign_deadline), day_rule
        )
        for unit, category in zip(units["unit"].astype(str), units["category"], strict=True)
    ]
    return _typed(pd.DataFrame(rows, columns=list(STATUS_COLUMNS)), tz)


def _unit_status(unit: str, category, sent: _Sent, deadline: pd.Timestamp, rule: str) -> dict:
    submitted = unit in sent.times
    first, last = sent.times[unit] if submitted else (pd.NaT, pd.NaT)

    def count(code: str) -> int:
        return int(sent.counts.get((unit, code), 0))

    n_links = int(sent.links.get(unit, 0))
    present = {
        name: (count(code) + (n_links if code == "video" else 0)) > 0
        for name, code in REQUIRED_CATEGORY.items()
    }
    missing = [name for name in REQUIRED if not present[name]]
    steps = {
        name: sent.first_seen[(unit, REQUIRED_CATEGORY[name])] for name in REQUIRED if present[name]
    }
    late_steps = {name: at for name, at in steps.items() if at > deadline}
    latest = max([first, *steps.values()]) if submitted else pd.NaT
    on_time = bool(submitted and latest <= deadline)
    if submitted and first > deadline:
        late_steps = steps  # the first mail was late: everything it brought was late
    return {
        "unit": unit,
        "category": "" if pd.isna(category) else str(category),
        "submitted": submitted,
        "on_time": on_time,
        "first_received": first,
        "last_received": last,
        "photos": count("photo"),
        "reports": count("report"),
        "deeds": count("deeds"),
        "videos": count("video"),
        "video_links": n_links,
        "complete": not missing,
        "missing": ";".join(missing),
        "days_late": 0
        if on_time or not submitted
        else late_days(latest - deadline, deadline, rule),
        "late_items": "" if on_time else ";".join(name for name in REQUIRED if name in late_steps),
        "late_at": pd.NaT if on_time or not submitted else latest,
        "deadline": deadline,
    }


def _typed(frame: pd.DataFrame, tz) -> pd.DataFrame:
    for column in ("first_received", "last_received", "late_at", "deadline"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_convert(tz)
    for column in ("submitted", "on_time", "complete"):
        frame[column] = frame[column].astype(bool)
    for column in ("photos", "reports", "deeds", "videos", "video_links"):
        frame[column] = frame[column].astype("int64")
    frame["days_late"] = frame["days_late"].astype("float64")
    for column in ("unit", "category", "missing", "late_items"):
        frame[column] = frame[column].astype(str)
    return frame
