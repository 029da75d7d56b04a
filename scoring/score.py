"""Scores from the rubric, with a per-criterion breakdown that adds up to the score.

Every breakdown row is rounded to one decimal and the score is the sum of a unit's rows, so the
breakdown always explains the score exactly.

Substance (工作成效) is read from the unit's summary reports (and, for work items, its deeds
documents). A report without a text layer (a scanned PDF) or without readable text cannot be
read by the machine; rather than score its substance as zero, the unit is flagged
``needs_manual`` ("需人工评分") and gets a provisional substance score: the substance maximum
times the share of points it earned on the other criteria, or what its readable text earns if
that is more. Staff then rescore it by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from contract import MISSING_NOUNS, REQUIRED_CATEGORY
from scoring._frames import (
    DOCUMENT_COLUMNS,
    aware,
    campaign_tz,
    require_columns,
    valid_materials,
)
from scoring.rubric import ScoringConfig
from scoring.substance import best_volunteer_mention, work_item_coverage

SCORE_COLUMNS = ("unit", "score", "grade", "needs_manual", "volunteers")
BREAKDOWN_COLUMNS = ("unit", "criterion", "points", "max_points", "evidence")

LABEL_TIMELINESS = "按时报送"
LABEL_COMPLETE = {code: f"材料齐全：{noun}" for code, noun in MISSING_NOUNS.items()}
LABEL_RICH_PHOTOS = "材料丰富：照片数量"
LABEL_RICH_VIDEOS = "材料丰富：视频数量"
LABEL_RICH_DEEDS = "材料丰富：事迹材料数量"
LABEL_RICH_REPORT = "材料丰富：总结报告篇幅"
LABEL_SUBSTANCE = "工作成效："
LABEL_VOLUNTEERS = "工作成效：志愿者招募人数"
LABEL_MANUAL = "工作成效（需人工评分）"
NOT_SUBMITTED = "未报送"


@dataclass(frozen=True)
class _Doc:
    name: str
    text: str
    readable: bool

    @property
    def length(self) -> int:
        return sum(1 for ch in self.text if not ch.isspace())


def _points(value: float) -> float:
    return round(value + 1e-9, 1)


def _fmt(value: float) -> str:
    return f"{value:g}"


def _when(stamp: pd.Timestamp, tz) -> str:
    return stamp.tz_convert(tz).strftime("%Y-%m-%d %H:%M:%S")


def _documents_by_unit(
    materials: pd.DataFrame, documents: pd.DataFrame
) -> dict[tuple[str, str], list[_Doc]]:
    """(unit, "report"|"deeds") → distinct documents, longest readable first."""
    require_columns(documents, DOCUMENT_COLUMNS, "documents")
    stored = valid_materials(materials)
    stored = stored.loc[(stored["kind"] == "file") & stored["category"].isin(["report", "deeds"])]
    stored = stored.sort_values(["received_at", "message_key"], kind="stable")
    stored = stored.drop_duplicates(["unit", "category", "sha256"])
    docs = documents.drop_duplicates("sha256").set_index("sha256")
    result: dict[tuple[str, str], list[_Doc]] = {}
    for unit, category, sha, name in zip(
        stored["unit"], stored["category"], stored["sha256"], stored["filename"], strict=True
    ):
        text, readable = "", False
        if sha in docs.index:
            row = docs.loc[sha]
            text = "" if pd.isna(row["text"]) else str(row["text"])
            layer = row["has_text_layer"]
            readable = bool(layer) if not pd.isna(layer) else False
            readable = readable and bool(text.strip())
        result.setdefault((unit, category), []).append(
            _Doc(
                name=name.rsplit("/", 1)[-1] or name,
                text=text if readable else "",
                readable=readable,
            )
        )
    for key, docs_of_unit in result.items():
        result[key] = sorted(docs_of_unit, key=lambda d: (not d.readable, -d.length))
    return result


def _first_files(materials: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(unit, category code) → name of the file or link that first satisfied it."""
    stored = valid_materials(materials).sort_values(
        ["received_at", "kind", "message_key"], kind="stable"
    )
    stored = stored.drop_duplicates(["unit", "category"])
    names = {}
    for unit, category, kind, name, url in zip(
        stored["unit"],
        stored["category"],
        stored["kind"],
        stored["filename"],
        stored["url"],
        strict=True,
    ):
        names[(unit, category)] = f"视频链接 {url}" if kind == "link" else name
    return names


def score(
    status: pd.DataFrame,
    materials: pd.DataFrame,
    documents: pd.DataFrame,
    rubric: ScoringConfig,
    deadline: datetime,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every unit of ``status`` (the output of ``completeness``), in its order.

    Returns ``(scores, breakdown)``:

    - scores: SCORE_COLUMNS — score 0–100 with one decimal (0 for a unit that sent nothing),
      grade ("" when not submitted), needs_manual (bool), volunteers (Int64: the figure the
      reports state, <NA> when none).
    - breakdown: BREAKDOWN_COLUMNS, one row per criterion part per unit; a unit's points add
      up to its score and its max_points to 100.

    Everything received counts, late material included; lateness costs timeliness points only.
    """
    tz = campaign_tz(deadline)
    campaign_deadline = aware(deadline, tz)
    docs = _documents_by_unit(materials, documents)
    first_files = _first_files(materials)
    timeliness, complete_rule = rubric.timeliness, rubric.completeness
    rich, substance = rubric.richness, rubric.substance
    substance_max = substance.max_points

    score_rows = []
    rows: list[dict] = []
    for record in status.to_dict("records"):
        unit = record["unit"]
        unit_rows: list[tuple[str, float, float, str]] = []
        if not record["submitted"]:
            unit_rows.append((LABEL_TIMELINESS, 0.0, timeliness.points, NOT_SUBMITTED))
            for name in LABEL_COMPLETE:
                unit_rows.append(
                    (LABEL_COMPLETE[name], 0.0, getattr(complete_rule, name), NOT_SUBMITTED)
                )
            for label, max_points in (
                (LABEL_RICH_PHOTOS, rich.photo_points),
                (LABEL_RICH_VIDEOS, rich.video_points),
                (LABEL_RICH_DEEDS, rich.deeds_points),
                (LABEL_RICH_REPORT, rich.report_points),
            ):
                unit_rows.append((label, 0.0, max_points, NOT_SUBMITTED))
            for item in substance.items:
                unit_rows.append((LABEL_SUBSTANCE + item.label, 0.0, item.points, NOT_SUBMITTED))
            unit_rows.append((LABEL_VOLUNTEERS, 0.0, substance.volunteers_points, NOT_SUBMITTED))
            rows.extend(_as_dicts(unit, unit_rows))
            score_rows.append((unit, 0.0, "", False, pd.NA))
            continue

        # Timeliness.
        unit_deadline = record.get("deadline")
        if unit_deadline is None or pd.isna(unit_deadline):
            unit_deadline = campaign_deadline
        if record["on_time"]:
            points = timeliness.points
            evidence = (
                f"按时报送：首次报送 {_when(record['first_received'], tz)}，"
                f"截止时间 {_when(unit_deadline, tz)}"
            )
        else:
            days = math.ceil(float(record["days_late"]))
            points = max(0.0, timeliness.points - timeliness.points_per_day_late * days)
            evidence = (
                f"逾期 {float(record['days_late']):g} 天，按 {days} 天计，"
                f"每天扣 {_fmt(timeliness.points_per_day_late)} 分"
                f"（截止时间 {_when(unit_deadline, tz)}）"
            )
        unit_rows.append((LABEL_TIMELINESS, _points(points), timeliness.points, evidence))

        # Completeness.
        counts = {
            "photos": int(record["photos"]),
            "report": int(record["reports"]),
            "deeds": int(record["deeds"]),
            "video": int(record["videos"]) + int(record["video_links"]),
        }
        for name, label in LABEL_COMPLETE.items():
            max_points = getattr(complete_rule, name)
            if counts[name] > 0:
                first = first_files.get((unit, REQUIRED_CATEGORY[name]), "")
                evidence = (
                    f"已报送{MISSING_NOUNS[name]}：{first}"
                    if first
                    else f"已报送{MISSING_NOUNS[name]}"
                )
                unit_rows.append((label, _points(max_points), max_points, evidence))
            else:
                unit_rows.append((label, 0.0, max_points, f"缺少{MISSING_NOUNS[name]}"))

        # Richness.
        for label, count, cap, max_points, what, measure in (
            (LABEL_RICH_PHOTOS, counts["photos"], rich.photo_cap, rich.photo_points, "照片", "张"),
            (LABEL_RICH_VIDEOS, counts["video"], rich.video_cap, rich.video_points, "视频", "个"),
            (
                LABEL_RICH_DEEDS,
                counts["deeds"],
                rich.deeds_cap,
                rich.deeds_points,
                "事迹材料",
                "份",
            ),
        ):
            points = max_points * min(count, cap) / cap
            evidence = f"{what}共 {count} {measure}（{cap} {measure}及以上得满分）"
            unit_rows.append((label, _points(points), max_points, evidence))
        reports = docs.get((unit, "report"), [])
        readable = [d for d in reports if d.readable]
        unreadable = [d for d in reports if not d.readable]
        if readable:
            longest = readable[0]
            points = rich.report_points * min(longest.length, rich.report_chars_cap)
            points /= rich.report_chars_cap
            evidence = (
                f"《{longest.name}》共 {longest.length} 字"
                f"（{rich.report_chars_cap} 字及以上得满分）"
            )
        elif unreadable:
            points = 0.0
            evidence = f"需人工评分：《{unreadable[0].name}》无文字层，无法统计字数"
        else:
            points = 0.0
            evidence = "未报送总结报告"
        unit_rows.append((LABEL_RICH_REPORT, _points(points), rich.report_points, evidence))

        # Substance, read by the machine.
        readable_deeds = [d for d in docs.get((unit, "deeds"), []) if d.readable]
        texts = readable + readable_deeds
        coverage = [(doc, work_item_coverage(doc.text, rubric)) for doc in texts]
        substance_rows = []
        for index, item in enumerate(substance.items):
            evidence, covered = "", False
            for doc, items in coverage:
                _, hit, sentence = items[index]
                if hit:
                    covered, evidence = True, f"《{doc.name}》：{sentence}"
                    break
            if not covered:
                if readable:
                    keywords = "、".join(item.keywords[:5])
                    evidence = f"报告中未见相关表述（关键词：{keywords}）"
                else:
                    evidence = "无可识别文字的总结报告"
            points = item.points if covered else 0.0
            substance_rows.append(
                (LABEL_SUBSTANCE + item.label, _points(points), item.points, evidence)
            )
        volunteers: int | None = None
        volunteer_evidence = "报告中未见志愿者招募人数" if readable else "无可识别文字的总结报告"
        for doc in readable:
            mention = best_volunteer_mention(doc.text)
            if mention is not None and (volunteers is None or mention.value > volunteers):
                volunteers = mention.value
                note = f"，约数按 {mention.value} 人计" if mention.approximate else ""
                volunteer_evidence = (
                    f"《{doc.name}》：{mention.evidence}"
                    f"（{mention.value} 人，目标 {substance.volunteers_target} 人{note}）"
                )
        points = 0.0
        if volunteers is not None:
            share = min(volunteers, substance.volunteers_target) / substance.volunteers_target
            points = substance.volunteers_points * share
        substance_rows.append(
            (LABEL_VOLUNTEERS, _points(points), substance.volunteers_points, volunteer_evidence)
        )

        # A report the machine cannot read: provisional substance, flagged for manual scoring.
        needs_manual = False
        machine = sum(row[1] for row in substance_rows)
        if unreadable:
            other = sum(row[1] for row in unit_rows)
            other_max = 100.0 - substance_max
            share = other / other_max if other_max > 0 else 0.0
            provisional = _points(substance_max * share)
            if not readable or provisional > machine:
                needs_manual = True
                names = "、".join(f"《{d.name}》" for d in unreadable[:3])
                if provisional > machine:
                    evidence = (
                        f"需人工评分：{names}无文字层（扫描件或无法读取），"
                        f"暂按其他各项得分率 {share:.0%} 折算"
                    )
                else:
                    evidence = (
                        f"需人工评分：{names}无文字层（扫描件或无法读取），暂按可识别的其他材料计分"
                    )
                substance_rows = [
                    (LABEL_MANUAL, _points(max(provisional, machine)), substance_max, evidence)
                ]
        unit_rows.extend(substance_rows)

        total = _points(sum(row[1] for row in unit_rows))
        rows.extend(_as_dicts(unit, unit_rows))
        score_rows.append(
            (
                unit,
                total,
                rubric.grade_for(total),
                needs_manual,
                pd.NA if volunteers is None else volunteers,
            )
        )

    scores = pd.DataFrame(score_rows, columns=list(SCORE_COLUMNS))
    scores["unit"] = scores["unit"].astype(str)
    scores["score"] = scores["score"].astype("float64")
    scores["grade"] = scores["grade"].astype(str)
    scores["needs_manual"] = scores["needs_manual"].astype(bool)
    scores["volunteers"] = scores["volunteers"].astype("Int64")
    breakdown = pd.DataFrame(rows, columns=list(BREAKDOWN_COLUMNS))
    breakdown = breakdown.astype(
        {
            "unit": str,
            "criterion": str,
            "points": "float64",
            "max_points": "float64",
            "evidence": str,
        }
    )
    return scores, breakdown


def _as_dicts(unit: str, rows: list[tuple[str, float, float, str]]) -> list[dict]:
    return [
        {
            "unit": unit,
            "criterion": criterion,
            "points": float(points),
            "max_points": float(max_points),
            "evidence": evidence,
        }
        for criterion, points, max_points, evidence in rows
    ]
