"""Evaluation: ledger tables in, per-unit decisions out (pure functions, rubric passed in)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from contract import UNIT_COLUMNS
from scoring._frames import MATERIAL_COLUMNS, MESSAGE_COLUMNS, require_columns
from scoring.completeness import completeness
from scoring.decisions import decide, individuals
from scoring.rubric import ScoringConfig
from scoring.score import score

# ReportTables.units columns produced here (outputs/tables.py), ``folder`` excepted.
UNITS_TABLE_COLUMNS = (
    *UNIT_COLUMNS,
    "grade",
    "deduction",
    "needs_manual",
    "days_late",
    "volunteers",
    "late_items",
    "score_confirmed",
    "pending_reasons",
    "findings",
)

__all__ = [
    "UNITS_TABLE_COLUMNS",
    "ScoringConfig",
    "StaffDecisions",
    "completeness",
    "decide",
    "evaluate",
    "individuals",
    "score",
]


def apply_overrides(
    scores: pd.DataFrame,
    breakdown: pd.DataFrame,
    overrides: Mapping[str, tuple[float, str]],
    rubric: ScoringConfig,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Staff score overrides (人工调整), kept traceable: one breakdown row holds the difference."""
    if not overrides:
        return scores, breakdown
    scores = scores.copy()
    rows = []
    for unit, (value, reason) in overrides.items():
        mask = scores["unit"] == unit
        if not mask.any():
            continue
        before = float(scores.loc[mask, "score"].iloc[0])
        scores.loc[mask, "score"] = round(value, 1)
        scores.loc[mask, "grade"] = rubric.grade_for(value)
        scores.loc[mask, "needs_manual"] = False
        rows.append(
            {
                "unit": unit,
                "criterion": "人工调整",
                "points": round(value - before, 1),
                "max_points": 0.0,
                "evidence": f"工作人员调整（原得分 {before:.1f}）：{reason}",
            }
        )
    return scores, pd.concat([breakdown, pd.DataFrame(rows)], ignore_index=True)


@dataclass(frozen=True)
class StaffDecisions:
    """What staff decided that bears on the evaluation (corrections in the ledger)."""

    extensions: Mapping[str, datetime] = field(default_factory=dict)  # unit → deadline
    overrides: Mapping[str, tuple[float, str]] = field(default_factory=dict)  # unit → score
    confirmed_scores: Mapping[str, float] = field(default_factory=dict)  # unit → score
    individuals: Mapping[tuple[str, str], tuple[str, str]] = field(default_factory=dict)


def evaluate(
    units: pd.DataFrame,
    messages: pd.DataFrame,
    materials: pd.DataFrame,
    documents: pd.DataFrame,
    rubric: ScoringConfig,
    deadline: datetime,
    staff: StaffDecisions | None = None,
    findings: pd.DataFrame | None = None,
    videos: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(units_table, breakdown, individuals) for ReportTables.

    units_table: one row per registry unit in registry order, columns UNITS_TABLE_COLUMNS
    (ReportTables.units without ``folder``), typed as outputs/tables.py describes.
    ``findings`` are the integrity findings (counted per unit in ``findings``; points lost only
    as the rubric says); ``videos`` the measured videos (see ``score``).
    """
    staff = staff or StaffDecisions()
    require_columns(messages, MESSAGE_COLUMNS, "messages")
    require_columns(materials, MATERIAL_COLUMNS, "materials")
    # Materials of messages that do not count (not among ``messages``) count nowhere.
    materials = materials.loc[materials["message_key"].isin(messages["message_key"])]
    status = completeness(
        units, messages, materials, deadline, staff.extensions, rubric.timeliness.late_days
    )
    scores, breakdown = score(status, materials, documents, rubric, deadline, findings, videos)
    scores, breakdown = apply_overrides(scores, breakdown, staff.overrides, rubric)
    table = decide(status, scores, rubric, staff.confirmed_scores)
    counts = findings["unit"].value_counts() if findings is not None else pd.Series(dtype=int)
    table["findings"] = table["unit"].map(counts).fillna(0).astype("int64")
    table = table.loc[:, list(UNITS_TABLE_COLUMNS)].reset_index(drop=True)
    table = table.astype(_UNIT_TYPES)
    return table, breakdown, individuals(materials, documents, staff.individuals)


_UNIT_TYPES = {
    "unit": str,
    "category": str,
    "submitted": bool,
    "on_time": bool,
    "photos": "int64",
    "reports": "int64",
    "deeds": "int64",
    "videos": "int64",
    "video_links": "int64",
    "complete": bool,
    "missing": str,
    "score": "float64",
    "rank": "Int64",
    "award": bool,
    "notice": bool,
    "notice_reasons": str,
    "grade": str,
    "deduction": "float64",
    "needs_manual": bool,
    "days_late": "float64",
    "volunteers": "Int64",
    "late_items": str,
    "score_confirmed": bool,
    "pending_reasons": str,
    "findings": "int64",
}
