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

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from contract import INTEGRITY_KIND_LABELS, MISSING_NOUNS, REQUIRED_CATEGORY
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
LABEL_INTEGRITY = "疑点扣分"
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
    docs = documents.drop_duplicates("sha256")
    # sha256 -> (text, has_text_layer) as a dict: a row lookup in a DataFrame per file cost
    # more than all the rest of this function at 50,000 files
    known = dict(
        zip(docs["sha256"], zip(docs["text"], docs["has_text_layer"], strict=True), strict=True)
    )
    result: dict[tuple[str, str], list[_Doc]] = {}
    for unit, category, sha, name in zip(
        stored["unit"], stored["category"], stored["sha256"], stored["filename"], strict=True
    ):
        text, readable = "", False
        if sha in known:
            raw, layer = known[sha]
            text = "" if pd.isna(raw) else str(raw)
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


Row = tuple[str, float, float, str]  # criterion, points, max points, evidence


@dataclass(frozen=True)
class _Inputs:
    """What every unit's scoring reads, prepared once."""

    rubric: ScoringConfig
    tz: object
    deadline: pd.Timestamp
    docs: dict[tuple[str, str], list[_Doc]]
    first_files: dict[tuple[str, str], str]
    counted_videos: dict[str, int] | None  # unit → videos that count for richness (None: all)
    findings: pd.DataFrame


def score(
    status: pd.DataFrame,
    materials: pd.DataFrame,
    documents: pd.DataFrame,
    rubric: ScoringConfig,
    deadline: datetime,
    findings: pd.DataFrame | None = None,
    videos: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every unit of ``status`` (the output of ``completeness``), in its order.

    Returns ``(scores, breakdown)``:

    - scores: SCORE_COLUMNS — score 0–100 with one decimal (0 for a unit that sent nothing),
      grade ("" when not submitted), needs_manual (bool), volunteers (Int64: the figure the
      reports state, <NA> when none).
    - breakdown: BREAKDOWN_COLUMNS, one row per criterion part per unit; a unit's points add
      up to its score and its max_points to 100 (an integrity deduction is a row of negative
      points with max_points 0).

    ``findings`` (integrity.csv rows) cost points only as ``rubric.integrity`` says; ``videos``
    (unit, sha256, probed, playable, duration) let ``richness.video_min_seconds`` leave short or
    broken videos out of the count. Everything received counts, late material included;
    lateness costs timeliness points only.
    """
    tz = campaign_tz(deadline)
    inputs = _Inputs(
        rubric=rubric,
        tz=tz,
        deadline=aware(deadline, tz),
        docs=_documents_by_unit(materials, documents),
        first_files=_first_files(materials),
        counted_videos=_counted_videos(videos, rubric.richness.video_min_seconds),
        findings=findings if findings is not None else pd.DataFrame(columns=["unit", "kind"]),
    )
    score_rows, rows = [], []
    for record in status.to_dict("records"):
        unit_rows, needs_manual, volunteers = _unit_rows(record, inputs)
        total = _points(sum(row[1] for row in unit_rows))
        grade = rubric.grade_for(total) if record["submitted"] else ""
        rows.extend(_as_dicts(record["unit"], unit_rows))
        score_rows.append(
            (
                record["unit"],
                total,
                grade,
                needs_manual,
                pd.NA if volunteers is None else volunteers,
            )
        )
    return _score_frames(score_rows, rows)


def _unit_rows(record: dict, inputs: _Inputs) -> tuple[list[Row], bool, int | None]:
    """(breakdown rows, needs_manual, volunteers) of one unit."""
    if not record["submitted"]:
        return _not_submitted_rows(inputs.rubric), False, None
    unit = record["unit"]
    rows = [_timeliness_row(record, inputs)]
    rows += _completeness_rows(record, inputs)
    rows += _richness_rows(record, inputs)
    substance, volunteers = _substance_rows(unit, inputs)
    substance, needs_manual = _manual_substance(unit, rows, substance, inputs)
    rows += substance
    rows += _integrity_rows(unit, _points(sum(row[1] for row in rows)), inputs)
    return rows, needs_manual, volunteers


def _not_submitted_rows(rubric: ScoringConfig) -> list[Row]:
    rich = rubric.richness
    rows: list[Row] = [(LABEL_TIMELINESS, 0.0, rubric.timeliness.points, NOT_SUBMITTED)]
    for name, label in LABEL_COMPLETE.items():
        rows.append((label, 0.0, getattr(rubric.completeness, name), NOT_SUBMITTED))
    for label, max_points in (
        (LABEL_RICH_PHOTOS, rich.photo_points),
        (LABEL_RICH_VIDEOS, rich.video_points),
        (LABEL_RICH_DEEDS, rich.deeds_points),
        (LABEL_RICH_REPORT, rich.report_points),
    ):
        rows.append((label, 0.0, max_points, NOT_SUBMITTED))
    for item in rubric.substance.items:
        rows.append((LABEL_SUBSTANCE + item.label, 0.0, item.points, NOT_SUBMITTED))
    rows.append((LABEL_VOLUNTEERS, 0.0, rubric.substance.volunteers_points, NOT_SUBMITTED))
    return rows


def _timeliness_row(record: dict, inputs: _Inputs) -> Row:
    rule, tz = inputs.rubric.timeliness, inputs.tz
    unit_deadline = record.get("deadline")
    if unit_deadline is None or pd.isna(unit_deadline):
        unit_deadline = inputs.deadline
    if record["on_time"]:
        evidence = (
            f"按时报送：首次报送 {_when(record['first_received'], tz)}，"
            f"截止时间 {_when(unit_deadline, tz)}"
        )
        return (LABEL_TIMELINESS, _points(rule.points), rule.points, evidence)
    days = int(record["days_late"])
    points = max(0.0, rule.points - rule.points_per_day_late * days)
    what = missing_label_of(record.get("late_items", ""))
    late_at = record.get("late_at")
    arrived = "" if late_at is None or pd.isna(late_at) else f"，{_when(late_at, tz)} 收到"
    evidence = (
        f"逾期 {days} 天（{what or '材料'}{arrived}；截止时间 {_when(unit_deadline, tz)}），"
        f"每天扣 {_fmt(rule.points_per_day_late)} 分"
    )
    return (LABEL_TIMELINESS, _points(points), rule.points, evidence)


def missing_label_of(codes: str) -> str:
    """``photos;video`` → ``活动照片、视频资料``."""
    return "、".join(MISSING_NOUNS.get(code, code) for code in str(codes or "").split(";") if code)


def _completeness_rows(record: dict, inputs: _Inputs) -> list[Row]:
    counts = _counts(record)
    rows: list[Row] = []
    for name, label in LABEL_COMPLETE.items():
        max_points = getattr(inputs.rubric.completeness, name)
        if counts[name] > 0:
            first = inputs.first_files.get((record["unit"], REQUIRED_CATEGORY[name]), "")
            noun = MISSING_NOUNS[name]
            evidence = f"已报送{noun}：{first}" if first else f"已报送{noun}"
            rows.append((label, _points(max_points), max_points, evidence))
        else:
            rows.append((label, 0.0, max_points, f"缺少{MISSING_NOUNS[name]}"))
    return rows


def _counts(record: dict) -> dict[str, int]:
    return {
        "photos": int(record["photos"]),
        "report": int(record["reports"]),
        "deeds": int(record["deeds"]),
        "video": int(record["videos"]) + int(record["video_links"]),
    }


def _richness_rows(record: dict, inputs: _Inputs) -> list[Row]:
    rich, unit = inputs.rubric.richness, record["unit"]
    counts = _counts(record)
    videos, video_note = counts["video"], ""
    if inputs.counted_videos is not None:
        videos = inputs.counted_videos.get(unit, 0) + int(record["video_links"])
        if videos < counts["video"]:
            left_out = counts["video"] - videos
            video_note = f"，其中 {left_out} 个不足 {rich.video_min_seconds:g} 秒或无法播放，不计"
    rows: list[Row] = []
    for label, count, cap, max_points, what, measure, note in (
        (LABEL_RICH_PHOTOS, counts["photos"], rich.photo_cap, rich.photo_points, "照片", "张", ""),
        (LABEL_RICH_VIDEOS, videos, rich.video_cap, rich.video_points, "视频", "个", video_note),
        (
            LABEL_RICH_DEEDS,
            counts["deeds"],
            rich.deeds_cap,
            rich.deeds_points,
            "事迹材料",
            "份",
            "",
        ),
    ):
        points = max_points * min(count, cap) / cap
        shown = counts["video"] if label == LABEL_RICH_VIDEOS else count
        evidence = f"{what}共 {shown} {measure}{note}（{cap} {measure}及以上得满分）"
        rows.append((label, _points(points), max_points, evidence))
    rows.append(_report_length_row(unit, inputs))
    return rows


def _report_length_row(unit: str, inputs: _Inputs) -> Row:
    rich = inputs.rubric.richness
    reports = inputs.docs.get((unit, "report"), [])
    readable = [d for d in reports if d.readable]
    unreadable = [d for d in reports if not d.readable]
    points, evidence = 0.0, "未报送总结报告"
    if readable:
        longest = readable[0]
        points = rich.report_points * min(longest.length, rich.report_chars_cap)
        points /= rich.report_chars_cap
        evidence = (
            f"《{longest.name}》共 {longest.length} 字（{rich.report_chars_cap} 字及以上得满分）"
        )
    elif unreadable:
        evidence = f"需人工评分：《{unreadable[0].name}》无文字层，无法统计字数"
    return (LABEL_RICH_REPORT, _points(points), rich.report_points, evidence)


def _substance_rows(unit: str, inputs: _Inputs) -> tuple[list[Row], int | None]:
    """Work items and volunteers, read by the machine from readable reports and deeds."""
    substance = inputs.rubric.substance
    readable = [d for d in inputs.docs.get((unit, "report"), []) if d.readable]
    texts = readable + [d for d in inputs.docs.get((unit, "deeds"), []) if d.readable]
    coverage = [(doc, work_item_coverage(doc.text, inputs.rubric)) for doc in texts]
    rows: list[Row] = []
    for index, item in enumerate(substance.items):
        hit = next(((doc, items[index][2]) for doc, items in coverage if items[index][1]), None)
        if hit is not None:
            evidence = f"《{hit[0].name}》：{hit[1]}"
        elif readable:
            evidence = f"报告中未见相关表述（关键词：{'、'.join(item.keywords[:5])}）"
        else:
            evidence = "无可识别文字的总结报告"
        points = item.points if hit is not None else 0.0
        rows.append((LABEL_SUBSTANCE + item.label, _points(points), item.points, evidence))
    row, volunteers = _volunteer_row(readable, substance)
    return [*rows, row], volunteers


def _volunteer_row(readable: list[_Doc], substance) -> tuple[Row, int | None]:
    volunteers: int | None = None
    evidence = "报告中未见志愿者招募人数" if readable else "无可识别文字的总结报告"
    for doc in readable:
        mention = best_volunteer_mention(doc.text)
        if mention is not None and (volunteers is None or mention.value > volunteers):
            volunteers = mention.value
            note = f"，约数按 {mention.value} 人计" if mention.approximate else ""
            evidence = (
                f"《{doc.name}》：{mention.evidence}"
                f"（{mention.value} 人，目标 {substance.volunteers_target} 人{note}）"
            )
    points = 0.0
    if volunteers is not None:
        share = min(volunteers, substance.volunteers_target) / substance.volunteers_target
        points = substance.volunteers_points * share
    return (LABEL_VOLUNTEERS, _points(points), substance.volunteers_points, evidence), volunteers


def _manual_substance(
    unit: str, other_rows: list[Row], substance_rows: list[Row], inputs: _Inputs
) -> tuple[list[Row], bool]:
    """A report the machine cannot read: provisional substance, flagged for manual scoring."""
    reports = inputs.docs.get((unit, "report"), [])
    readable = [d for d in reports if d.readable]
    unreadable = [d for d in reports if not d.readable]
    if not unreadable:
        return substance_rows, False
    substance_max = inputs.rubric.substance.max_points
    machine = sum(row[1] for row in substance_rows)
    other_max = 100.0 - substance_max
    share = sum(row[1] for row in other_rows) / other_max if other_max > 0 else 0.0
    provisional = _points(substance_max * share)
    if readable and provisional <= machine:
        return substance_rows, False
    names = "、".join(f"《{d.name}》" for d in unreadable[:3])
    if provisional > machine:
        evidence = (
            f"需人工评分：{names}无文字层（扫描件或无法读取），暂按其他各项得分率 {share:.0%} 折算"
        )
    else:
        evidence = f"需人工评分：{names}无文字层（扫描件或无法读取），暂按可识别的其他材料计分"
    return [(LABEL_MANUAL, _points(max(provisional, machine)), substance_max, evidence)], True


def _integrity_rows(unit: str, total: float, inputs: _Inputs) -> list[Row]:
    """Points lost for integrity findings, only where the rubric sets them (none by default)."""
    rule = inputs.rubric.integrity
    if not rule.points or inputs.findings.empty:
        return []
    mine = inputs.findings.loc[inputs.findings["unit"] == unit, "kind"].value_counts()
    parts = [(kind, n, rule.points[kind] * n) for kind, n in mine.items() if rule.points.get(kind)]
    if not parts:
        return []
    lost = min(sum(p[2] for p in parts), rule.max_points, total)
    detail = "；".join(
        f"{INTEGRITY_KIND_LABELS.get(kind, kind)} {n} 处，每处扣 {_fmt(rule.points[kind])} 分"
        for kind, n, _ in parts
    )
    evidence = f"疑点扣分（见 integrity.csv）：{detail}；最多扣 {_fmt(rule.max_points)} 分"
    return [(LABEL_INTEGRITY, -_points(lost), 0.0, evidence)]


def _counted_videos(videos: pd.DataFrame | None, min_seconds: float) -> dict[str, int] | None:
    """unit → distinct video files that count for richness; None when every video counts."""
    if videos is None or min_seconds <= 0:
        return None
    measured = videos.drop_duplicates(["unit", "sha256"])
    counts = ~measured["probed"].astype(bool) | (
        measured["playable"].astype(bool) & (measured["duration"].astype(float) >= min_seconds)
    )
    return measured.loc[counts].groupby("unit")["sha256"].nunique().astype(int).to_dict()


def _score_frames(score_rows: list[tuple], rows: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    scores = pd.DataFrame(score_rows, columns=list(SCORE_COLUMNS))
    scores = scores.astype(
        {"unit": str, "score": "float64", "grade": str, "needs_manual": bool, "volunteers": "Int64"}
    )
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
