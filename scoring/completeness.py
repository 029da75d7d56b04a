"""Per-unit completeness and lateness (SPEC "Rules": submitted, on_time, complete, counts)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import pandas as pd

from contract import REQUIRED, REQUIRED_CATEGORY, UNIT_COLUMNS
from scoring._frames import (
    MESSAGE_COLUMNS,
    aware,
    campaign_tz,
    ceil_days,
    has_unit,
    require_columns,
    utc_times,
    valid_materials,
)

# The contract's unit columns up to ``missing`` (scores and decisions come later), plus two.
STATUS_COLUMNS = (*UNIT_COLUMNS[: UNIT_COLUMNS.index("missing") + 1], "days_late", "deadline")


def completeness(
    units: pd.DataFrame,
    messages: pd.DataFrame,
    materials: pd.DataFrame,
    deadline: datetime,
    extensions: Mapping[str, datetime] | None = None,
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
    - ``days_late``: how late the unit's last late step was (its first message or the first
      file of a category), in days rounded up to 0.01 (so any lateness is > 0); 0.0 when on
      time and for units that sent nothing.
    - ``deadline``: the deadline that applied to the unit (extension or campaign), in the
      campaign's offset.
    """
    require_columns(units, ("unit", "category"), "units")
    require_columns(messages, MESSAGE_COLUMNS, "messages")
    tz = campaign_tz(deadline)
    campaign_deadline = aware(deadline, tz)
    extended = {str(unit): aware(moment, tz) for unit, moment in (extensions or {}).items()}

    sent = messages.loc[has_unit(messages["unit"]), ["unit", "received_at"]].copy()
    sent["unit"] = sent["unit"].astype(str)
    sent["received_at"] = utc_times(sent["received_at"])
    stored = valid_materials(materials)
    # Only materials of the messages given count (the caller decides which messages count);
    # a material's own unit makes its message one of that unit's messages.
    stored = stored.loc[stored["message_key"].isin(messages["message_key"])]
    times = pd.concat([sent, stored[["unit", "received_at"]]], ignore_index=True)
    times = times.loc[times["received_at"].notna()]
    message_times = times.groupby("unit")["received_at"].agg(["min", "max"])

    files = stored.loc[stored["kind"] == "file"]
    links = stored.loc[stored["kind"] == "link"]
    counts = files.groupby(["unit", "category"])["sha256"].nunique()
    link_counts = links.groupby("unit")["url"].nunique()
    # When each category was first satisfied (videos: file or link).
    first_seen = stored.groupby(["unit", "category"])["received_at"].min()

    rows = []
    for unit, category in zip(units["unit"].astype(str), units["category"], strict=True):
        unit_deadline = extended.get(unit, campaign_deadline)
        submitted = unit in message_times.index
        first = message_times.at[unit, "min"] if submitted else pd.NaT
        last = message_times.at[unit, "max"] if submitted else pd.NaT

        def count(code: str, unit: str = unit) -> int:
            return int(counts.get((unit, code), 0))

        n_links = int(link_counts.get(unit, 0))
        present = {
            name: (count(code) + (n_links if code == "video" else 0)) > 0
            for name, code in REQUIRED_CATEGORY.items()
        }
        missing = [name for name in REQUIRED if not present[name]]

        days_late = 0.0
        on_time = False
        if submitted:
            steps = [first] + [
                first_seen[(unit, REQUIRED_CATEGORY[name])] for name in REQUIRED if present[name]
            ]
            latest = max(steps)
            on_time = bool(latest <= unit_deadline)
            if not on_time:
                days_late = ceil_days((latest - unit_deadline).to_pytimedelta())

        rows.append(
            {
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
                "days_late": days_late,
                "deadline": unit_deadline,
            }
        )

    frame = pd.DataFrame(rows, columns=list(STATUS_COLUMNS))
    for column in ("first_received", "last_received"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_convert(tz)
    frame["deadline"] = pd.to_datetime(frame["deadline"], utc=True).dt.tz_convert(tz)
    for column in ("submitted", "on_time", "complete"):
        frame[column] = frame[column].astype(bool)
    for column in ("photos", "reports", "deeds", "videos", "video_links"):
        frame[column] = frame[column].astype("int64")
    frame["days_late"] = frame["days_late"].astype("float64")
    for column in ("unit", "category", "missing"):
        frame[column] = frame[column].astype(str)
    return frame
