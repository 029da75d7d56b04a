"""What the two confirmation pages show: the score list staff confirm (确认评分) and the candidate
outstanding individuals they confirm or reject (先进个人). Plain data, as in console.data; the
buttons are in console.actions and call the same correction functions as the CLI."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd

from console.data import Store, unit_url
from outputs._common import split_codes
from pipeline.tables import staff_decisions
from scoring.decisions import INDIVIDUAL_STATUS


def scores_seen(units: pd.DataFrame) -> str:
    """A short fingerprint of the score list (every submitted unit and its score, as shown), so
    the button confirms exactly the list its page showed."""
    shown = units.loc[units["submitted"].astype(bool)]
    pairs = sorted(
        f"{u}={float(v):.1f}" for u, v in zip(shown["unit"], shown["score"], strict=True)
    )
    return hashlib.sha256("\n".join(pairs).encode("utf-8")).hexdigest()[:16]


def _score(value: Any) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.1f}"


def _confirm_state(record: dict, confirmed: dict[str, float]) -> tuple[str, str]:
    """(words, css) for one unit's score: confirmed, changed since, or never confirmed."""
    if record["score_confirmed"]:
        return "已确认", "ok"
    if record["unit"] in confirmed:
        return f"得分有变化（确认时 {float(confirmed[record['unit']]):.1f} 分），需重新确认", "warn"
    return "未确认", "warn"


def _low_state(record: dict) -> str:
    if "low_score" in split_codes(record.get("notice_reasons")):
        return "通报中列为评分偏低"
    if "low_score" in split_codes(record.get("pending_reasons")):
        return "确认后列为评分偏低"
    return ""


def scores_view(store: Store) -> dict[str, Any]:
    """Every submitted unit's score and whether staff confirmed it; who the notice names as
    评分偏低 now, and who once the list is confirmed as it stands."""
    with store.ledger() as ledger:
        tables = store.tables(ledger)
        confirmed = staff_decisions(ledger).confirmed_scores
    units = tables.units.loc[tables.units["submitted"].astype(bool)]
    units = units.sort_values("score", ascending=False, kind="stable")
    rows = []
    for record in units.to_dict("records"):
        state, css = _confirm_state(record, confirmed)
        rows.append(
            {
                "unit": record["unit"],
                "href": unit_url(record["unit"]),
                "score": _score(record["score"]),
                "grade": record.get("grade") or "",
                "rank": "" if pd.isna(record.get("rank")) else str(int(record["rank"])),
                "state": state,
                "state_css": css,
                "low": _low_state(record),
            }
        )
    named = [f"{r['unit']}（{r['score']} 分）" for r in rows if r["low"].startswith("通报中")]
    waiting = [f"{r['unit']}（{r['score']} 分）" for r in rows if r["low"].startswith("确认后")]
    mark = tables.campaign.confirmation
    rule = store.config.scoring.notice
    return {
        "rows": rows,
        "unconfirmed": sum(1 for r in rows if r["state"] != "已确认"),
        "named_now": named,
        "named_after": named + waiting,
        "threshold": f"{rule.low_score_below:g}",
        "rule_on": rule.low_score,
        "needs_confirmation": rule.low_score_requires_confirmation,
        "last": {
            "author": mark.author,
            "when": store.local(mark.at.isoformat()),
            "reason": mark.reason,
        }
        if mark
        else None,
        "seen": scores_seen(tables.units),
    }


def individuals_view(store: Store) -> dict[str, Any]:
    """The candidates, one row per person and unit (a person may be named by several files)."""
    with store.ledger() as ledger:
        tables = store.tables(ledger)
    people: dict[tuple[str, str], dict[str, Any]] = {}
    for record in tables.individuals.to_dict("records"):
        key = (record["unit"], record["name"])
        row = people.setdefault(
            key,
            {
                "name": record["name"],
                "unit": record["unit"],
                "href": unit_url(record["unit"]),
                "documents": [],
                "excerpt": "",
                "status": record["status"],
                "status_label": INDIVIDUAL_STATUS.get(record["status"], record["status"]),
                "note": record["note"],
            },
        )
        if record["document"] and record["document"] not in row["documents"]:
            row["documents"].append(record["document"])
        row["excerpt"] = row["excerpt"] or record["excerpt"]
    rows = list(people.values())
    return {
        "rows": rows,
        "counts": {
            label: sum(1 for r in rows if r["status"] == code)
            for code, label in INDIVIDUAL_STATUS.items()
        },
        "units": [u.name for u in store.registry().units],
    }
