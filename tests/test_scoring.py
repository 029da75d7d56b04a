"""Completeness, lateness, scores, breakdown, decisions and the evaluate() table."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from scoring.completeness import completeness
from scoring.decisions import decide
from scoring.evaluation import UNITS_TABLE_COLUMNS, StaffDecisions, evaluate
from scoring.rubric import ScoringConfig
from scoring.score import LABEL_MANUAL, LABEL_TIMELINESS, LABEL_VOLUNTEERS, score

DEADLINE = datetime.fromisoformat("2020-12-31T23:59:59+08:00")
ON_TIME = "2020-12-28T10:12:20+08:00"
LATE = "2021-01-02T09:00:00+08:00"
RUBRIC = ScoringConfig()

FULL_REPORT = (
    "西渡镇2020年“衡阳群众”禁毒志愿服务工作总结\n"
    "一、健全组织。3月，成立了西渡镇禁毒志愿服务分会，下设12个村志愿服务分队。\n"
    "二、壮大队伍。全镇共招募禁毒志愿者62名，其中“禁毒妈妈”18名。\n"
    "三、广泛宣传。开展禁毒宣传进校园、进社区活动20余场，发放宣传资料5000余份。\n"
    "四、调研培训。组织志愿者开展业务培训3次，参训150人次。\n"
    "五、示范创建。打造了2个禁毒示范村。\n"
    "六、帮扶帮教。与辖区12名社区戒毒康复人员结对帮扶。\n"
) + "各村志愿者坚持每月开展入户走访，把禁毒知识送到千家万户。" * 120


@dataclass
class Ledger:
    """Builds the four input tables the lead derives from the SQLite ledger."""

    units: tuple[str, ...] = ("西渡镇", "井头镇", "台源镇")
    messages: list[dict] = field(default_factory=list)
    materials: list[dict] = field(default_factory=list)
    documents: dict[str, dict] = field(default_factory=dict)

    def send(self, unit: str | None, at: str, *files: tuple, status: str = "done") -> int:
        key = len(self.messages) + 1
        received = pd.Timestamp(at).tz_convert("UTC")
        self.messages.append(
            {"message_key": key, "unit": unit, "received_at": received, "status": status}
        )
        for item in files:
            category, name, sha, size = item[:4]
            kind = "link" if category == "link" else "file"
            self.materials.append(
                {
                    "message_key": key,
                    "unit": unit,
                    "received_at": received,
                    "category": "video" if kind == "link" else category,
                    "kind": kind,
                    "sha256": "" if kind == "link" else sha,
                    "url": name if kind == "link" else "",
                    "filename": name,
                    "size": None if kind == "link" else size,
                }
            )
            if len(item) > 4:
                text, layer = item[4]
                self.documents[sha] = {
                    "sha256": sha,
                    "title": text.split("\n", 1)[0] if layer else "",
                    "text": text if layer else "",
                    "has_text_layer": layer,
                    "problem": "" if layer else "no text layer",
                }
        return key

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        units = pd.DataFrame({"unit": list(self.units), "category": ["乡镇"] * len(self.units)})
        messages = pd.DataFrame(
            self.messages, columns=["message_key", "unit", "received_at", "status"]
        )
        messages["received_at"] = pd.to_datetime(messages["received_at"], utc=True)
        materials = pd.DataFrame(
            self.materials,
            columns=[
                "message_key",
                "unit",
                "received_at",
                "category",
                "kind",
                "sha256",
                "url",
                "filename",
                "size",
            ],
        )
        materials["received_at"] = pd.to_datetime(materials["received_at"], utc=True)
        materials["size"] = materials["size"].astype("Int64")
        documents = pd.DataFrame(
            list(self.documents.values()),
            columns=["sha256", "title", "text", "has_text_layer", "problem"],
        )
        return units, messages, materials, documents

    def status(self, extensions: dict | None = None) -> pd.DataFrame:
        units, messages, materials, _ = self.frames()
        return completeness(units, messages, materials, DEADLINE, extensions or {})

    def evaluate(self, rubric: ScoringConfig = RUBRIC, extensions: dict | None = None):
        units, messages, materials, documents = self.frames()
        return evaluate(
            units,
            messages,
            materials,
            documents,
            rubric,
            DEADLINE,
            StaffDecisions(extensions=extensions or {}),
        )


def photo(sha: str, name: str | None = None, size: int = 200_000) -> tuple:
    return ("photo", name or f"{sha}.jpg", sha, size)


def video(sha: str, name: str | None = None) -> tuple:
    return ("video", name or f"{sha}.mp4", sha, 9_000_000)


def link(url: str) -> tuple:
    return ("link", url, "", None)


def report(sha: str, name: str = "工作总结.docx", text: str = FULL_REPORT, layer: bool = True):
    return ("report", name, sha, 40_000, (text, layer))


def deeds(sha: str, name: str = "先进事迹材料.docx", text: str = "", layer: bool = True):
    body = text or "张三同志先进事迹\n张三同志是西渡镇的一名禁毒志愿者，常年坚持帮教。"
    return ("deeds", name, sha, 30_000, (body, layer))


def full_set(prefix: str) -> list[tuple]:
    return [photo(f"{prefix}p1"), report(f"{prefix}r1"), deeds(f"{prefix}d1"), video(f"{prefix}v1")]


def row(frame: pd.DataFrame, unit: str) -> pd.Series:
    return frame.loc[frame["unit"] == unit].iloc[0]


# ---------------------------------------------------------------------------------------------
# Completeness and lateness


def test_unit_that_sent_nothing_is_the_spec_example_row():
    ledger = Ledger()
    ledger.send("西渡镇", ON_TIME, *full_set("x"))
    table, breakdown, _ = ledger.evaluate()
    r = row(table, "台源镇")
    assert not r["submitted"] and not r["on_time"] and not r["complete"]
    assert r["missing"] == "photos;report;deeds;video"
    assert r["notice"] and r["notice_reasons"] == "not_submitted"
    assert [r[c] for c in ("photos", "reports", "deeds", "videos", "video_links")] == [0] * 5
    assert r["score"] == 0.0 and r["grade"] == ""
    assert r["rank"] is pd.NA
    assert pd.isna(r["first_received"]) and pd.isna(r["last_received"])
    assert not r["award"] and r["deduction"] == RUBRIC.deduction.not_submitted
    assert breakdown.loc[breakdown["unit"] == "台源镇", "points"].sum() == 0


def test_spec_example_counts_and_times():
    ledger = Ledger()
    files = [photo("p1"), photo("p2"), photo("p3"), report("r1"), deeds("d1"), deeds("d2")]
    ledger.send("西渡镇", ON_TIME, *files, video("v1"))
    r = row(ledger.status(), "西渡镇")
    assert r["submitted"] and r["on_time"] and r["complete"] and r["missing"] == ""
    assert r["first_received"].isoformat() == "2020-12-28T10:12:20+08:00"
    assert r["last_received"].isoformat() == "2020-12-28T10:12:20+08:00"
    counts = [r[c] for c in ("photos", "reports", "deeds", "videos", "video_links")]
    assert counts == [3, 1, 2, 1, 0]
    assert r["days_late"] == 0.0


@pytest.mark.parametrize(
    ("at", "on_time", "days_late"),
    [
        ("2020-12-31T23:59:59+08:00", True, 0.0),
        ("2021-01-01T00:00:00+08:00", False, 1.0),  # whole days: one second late is a day
        ("2020-12-31T15:59:59+00:00", True, 0.0),
        ("2020-12-31T16:00:00+00:00", False, 1.0),
        ("2021-01-02T11:59:59+08:00", False, 2.0),
        ("2021-01-01T23:59:59+08:00", False, 1.0),
    ],
)
def test_deadline_is_inclusive_to_the_second_in_any_offset(at, on_time, days_late):
    ledger = Ledger()
    ledger.send("西渡镇", at, *full_set("x"))
    r = row(ledger.status(), "西渡镇")
    assert bool(r["on_time"]) is on_time
    assert r["days_late"] == days_late
    assert r["first_received"].utcoffset().total_seconds() == 8 * 3600


def test_exactly_at_deadline_scores_full_timeliness_and_a_second_later_loses_a_day():
    for at, expected in (("2020-12-31T23:59:59+08:00", 20.0), ("2021-01-01T00:00:00+08:00", 15.0)):
        ledger = Ledger()
        ledger.send("西渡镇", at, *full_set("x"))
        _, breakdown, _ = ledger.evaluate()
        b = breakdown[
            (breakdown["unit"] == "西渡镇") & (breakdown["criterion"] == LABEL_TIMELINESS)
        ]
        assert b["points"].item() == expected


def test_late_identical_resubmission_is_not_late():
    ledger = Ledger()
    ledger.send("西渡镇", ON_TIME, *full_set("x"))
    ledger.send("西渡镇", LATE, *full_set("x"))
    r = row(ledger.status(), "西渡镇")
    assert r["on_time"] and r["days_late"] == 0.0
    assert r["last_received"].isoformat() == "2021-01-02T09:00:00+08:00"
    assert [r["photos"], r["reports"], r["deeds"], r["videos"]] == [1, 1, 1, 1]


def test_late_extra_files_in_a_satisfied_category_are_not_late():
    ledger = Ledger()
    ledger.send("西渡镇", ON_TIME, *full_set("x"))
    ledger.send(
        "西渡镇", LATE, photo("extra1"), photo("extra2"), link("https://pan.baidu.com/s/1a")
    )
    r = row(ledger.status(), "西渡镇")
    assert r["on_time"] and r["photos"] == 3 and r["video_links"] == 1


def test_category_first_satisfied_late_makes_the_unit_late():
    ledger = Ledger()
    ledger.send("西渡镇", ON_TIME, photo("p1"), report("r1"), deeds("d1"))
    ledger.send("西渡镇", LATE, video("v1"))
    table, _, _ = ledger.evaluate()
    r = row(table, "西渡镇")
    assert not r["on_time"] and r["complete"]
    assert r["days_late"] == 2  # 2021-01-02 09:00 is 1 d 9 h 1 s late: two started days
    assert r["late_items"] == "video"
    assert r["notice_reasons"] == "late"
    assert r["deduction"] == RUBRIC.deduction.late


def test_all_late():
    ledger = Ledger()
    for unit in ledger.units:
        ledger.send(unit, LATE, *full_set(unit))
    table, _, _ = ledger.evaluate()
    assert not table["on_time"].any()
    assert table["notice_reasons"].str.contains("late").all()
    assert not table["award"].any()
    assert table["rank"].tolist() == [1, 1, 1]  # identical material: one shared rank


def test_docx_and_pdf_of_the_same_report_are_two_reports():
    ledger = Ledger()
    ledger.send("西渡镇", ON_TIME, report("r-docx", "总结.docx"), report("r-pdf", "总结.pdf"))
    assert row(ledger.status(), "西渡镇")["reports"] == 2


def test_video_link_satisfies_video_and_counts_distinct_urls():
    ledger = Ledger()
    url = "https://wx.mail.qq.com/ftn/download?func=3&k=abc"
    ledger.send("西渡镇", ON_TIME, photo("p1"), report("r1"), deeds("d1"), link(url), link(url))
    ledger.send("西渡镇", ON_TIME, link(url))
    r = row(ledger.status(), "西渡镇")
    assert r["complete"] and r["videos"] == 0 and r["video_links"] == 1


def test_unassigned_mail_counts_for_nobody_and_review_mail_with_a_unit_counts():
    ledger = Ledger()
    ledger.send(None, ON_TIME, *full_set("nobody"))
    ledger.send("井头镇", ON_TIME, photo("p1"), status="review")
    status = ledger.status()
    assert status["submitted"].tolist() == [False, True, False]
    assert row(status, "井头镇")["photos"] == 1


def test_materials_of_messages_that_do_not_count_are_ignored():
    ledger = Ledger()
    ledger.send("西渡镇", ON_TIME, photo("p1"))
    ledger.send("井头镇", ON_TIME, *full_set("x"))
    units, messages, materials, documents = ledger.frames()
    counted = messages[messages["unit"] != "井头镇"]  # e.g. a message that failed processing
    table, _, people = evaluate(units, counted, materials, documents, RUBRIC, DEADLINE)
    r = row(table, "井头镇")
    assert not r["submitted"] and r["photos"] == 0 and r["score"] == 0.0
    assert people.empty


def test_duplicate_only_message_still_moves_last_received_and_zero_byte_files_do_not_count():
    ledger = Ledger()
    ledger.send("西渡镇", ON_TIME, photo("p1"), ("report", "空.docx", "empty", 0))
    ledger.send("西渡镇", "2020-12-30T08:00:00+08:00", photo("p1"))
    ledger.send("西渡镇", "2020-12-30T09:00:00+08:00")  # a message with no files at all
    r = row(ledger.status(), "西渡镇")
    assert r["last_received"].isoformat() == "2020-12-30T09:00:00+08:00"
    assert r["photos"] == 1 and r["reports"] == 0
    assert r["missing"] == "report;deeds;video"


def test_submitted_without_materials_is_incomplete_but_on_time():
    ledger = Ledger()
    ledger.send("西渡镇", ON_TIME)
    table, _, _ = ledger.evaluate()
    r = row(table, "西渡镇")
    assert r["submitted"] and r["on_time"] and not r["complete"]
    # 评分偏低 waits for staff to confirm the score: a suggestion until then.
    assert r["notice_reasons"] == "incomplete" and r["pending_reasons"] == "low_score"


def test_extension_moves_the_units_deadline():
    ledger = Ledger()
    ledger.send("西渡镇", LATE, *full_set("a"))
    ledger.send("井头镇", LATE, *full_set("b"))
    extended = {"西渡镇": datetime.fromisoformat("2021-01-05T23:59:59+08:00")}
    status = ledger.status(extended)
    assert row(status, "西渡镇")["on_time"] and not row(status, "井头镇")["on_time"]


def test_functions_never_mutate_their_inputs():
    ledger = Ledger()
    ledger.send("西渡镇", ON_TIME, *full_set("a"))
    ledger.send("井头镇", LATE, report("scan", "扫描.pdf", layer=False))
    frames = ledger.frames()
    copies = [frame.copy(deep=True) for frame in frames]
    units, messages, materials, documents = frames
    evaluate(units, messages, materials, documents, RUBRIC, DEADLINE)
    status = completeness(units, messages, materials, DEADLINE, {})
    status_copy = status.copy(deep=True)
    scores, _ = score(status, materials, documents, RUBRIC, DEADLINE)
    scores_copy = scores.copy(deep=True)
    decide(status, scores, RUBRIC)
    for before, after in zip(copies, frames, strict=True):
        pd.testing.assert_frame_equal(before, after)
    pd.testing.assert_frame_equal(status, status_copy)
    pd.testing.assert_frame_equal(scores, scores_copy)


def test_deadline_must_be_aware():
    ledger = Ledger()
    units, messages, materials, _ = ledger.frames()
    with pytest.raises(ValueError, match="timezone-aware"):
        completeness(units, messages, materials, datetime(2020, 12, 31, 23, 59, 59), {})


# ---------------------------------------------------------------------------------------------
# Scores and breakdown


def assert_breakdown_explains(table: pd.DataFrame, breakdown: pd.DataFrame) -> None:
    sums = breakdown.groupby("unit")["points"].sum()
    maxima = breakdown.groupby("unit")["max_points"].sum()
    for unit, value in zip(table["unit"], table["score"], strict=True):
        assert sums[unit] == pytest.approx(value, abs=1e-6)
        assert maxima[unit] == pytest.approx(100.0)
        assert round(value, 1) == value and 0 <= value <= 100


def test_perfect_unit_scores_100_and_breakdown_adds_up():
    ledger = Ledger()
    files = [photo(f"p{i}") for i in range(20)] + [video("v1"), link("https://pan.baidu.com/s/x")]
    files += [deeds(f"d{i}") for i in range(3)] + [report("r1")]
    ledger.send("西渡镇", ON_TIME, *files)
    table, breakdown, _ = ledger.evaluate()
    r = row(table, "西渡镇")
    assert r["score"] == 100.0 and r["grade"] == "优秀" and r["volunteers"] == 62
    assert r["rank"] == 1 and r["award"] and not r["notice"]
    assert_breakdown_explains(table, breakdown)
    assert set(breakdown["criterion"]) >= {LABEL_TIMELINESS, LABEL_VOLUNTEERS}


def test_no_report():
    ledger = Ledger()
    ledger.send("西渡镇", ON_TIME, photo("p1"), deeds("d1"), video("v1"))
    table, breakdown, _ = ledger.evaluate()
    r = row(table, "西渡镇")
    assert r["missing"] == "report" and r["volunteers"] is pd.NA and not r["needs_manual"]
    unit_rows = breakdown[breakdown["unit"] == "西渡镇"]
    vol = unit_rows[unit_rows["criterion"] == LABEL_VOLUNTEERS]
    assert vol["points"].item() == 0.0
    assert r["notice_reasons"] == "incomplete" and r["pending_reasons"] == "low_score"
    assert_breakdown_explains(table, breakdown)


def test_report_without_numbers():
    text = "井头镇禁毒工作总结\n我镇高度重视禁毒宣传工作，组织开展了形式多样的宣传活动。"
    ledger = Ledger()
    ledger.send("井头镇", ON_TIME, photo("p1"), report("r1", text=text), deeds("d1"), video("v1"))
    table, breakdown, _ = ledger.evaluate()
    r = row(table, "井头镇")
    assert r["volunteers"] is pd.NA
    vol = breakdown[(breakdown["unit"] == "井头镇") & (breakdown["criterion"] == LABEL_VOLUNTEERS)]
    assert vol["points"].item() == 0.0 and "未见" in vol["evidence"].item()
    propaganda = breakdown[
        breakdown["criterion"].str.contains("宣传") & (breakdown["unit"] == "井头镇")
    ]
    assert propaganda["points"].item() == 5.0 and "宣传" in propaganda["evidence"].item()
    assert_breakdown_explains(table, breakdown)


def test_scanned_report_needs_manual_scoring_instead_of_zero():
    ledger = Ledger()
    ledger.send("西渡镇", ON_TIME, photo("p1"), report("scan", "总结.pdf", layer=False))
    ledger.send("井头镇", ON_TIME, photo("p2"))
    table, breakdown, _ = ledger.evaluate()
    scanned, without = row(table, "西渡镇"), row(table, "井头镇")
    assert scanned["needs_manual"] and not without["needs_manual"]
    manual = breakdown[(breakdown["unit"] == "西渡镇") & (breakdown["criterion"] == LABEL_MANUAL)]
    assert manual["points"].item() > 0 and manual["evidence"].item().startswith("需人工评分")
    assert manual["max_points"].item() == RUBRIC.substance.max_points
    assert scanned["score"] > without["score"]
    assert_breakdown_explains(table, breakdown)


def test_lateness_costs_points_per_started_day_with_a_floor_of_zero():
    ledger = Ledger()
    ledger.send("西渡镇", "2021-01-03T12:00:00+08:00", *full_set("a"))  # 2.5 days → 3 days
    ledger.send("井头镇", "2021-01-20T12:00:00+08:00", *full_set("b"))
    _, breakdown, _ = ledger.evaluate()
    timely = breakdown[breakdown["criterion"] == LABEL_TIMELINESS].set_index("unit")["points"]
    assert timely["西渡镇"] == 20 - 3 * 5
    assert timely["井头镇"] == 0.0


@pytest.mark.parametrize(
    ("value", "grade"),
    [(100, "优秀"), (90, "优秀"), (89.9, "良好"), (80, "良好"), (79.9, "基本合格"),
     (60, "基本合格"), (59.9, "不合格"), (0, "不合格")],
)  # fmt: skip
def test_grade_bands(value, grade):
    assert RUBRIC.grade_for(value) == grade


def test_rubric_validation():
    with pytest.raises(ValidationError, match="之和须为 100"):
        ScoringConfig(timeliness={"points": 10})
    with pytest.raises(ValidationError, match="pointz"):
        ScoringConfig(timeliness={"pointz": 10})
    with pytest.raises(ValidationError, match="起始分数（min_score）须为 0"):
        ScoringConfig(grades=[{"min_score": 60, "grade": "合格"}])
    custom = ScoringConfig(
        timeliness={"points": 30},
        completeness={"photos": 2.5, "report": 2.5, "deeds": 2.5, "video": 2.5},
        deduction={"late": 0.5},
    )
    assert custom.criterion_max()["timeliness"] == 30
    assert sum(ScoringConfig().criterion_max().values()) == 100


def test_rubric_round_trips_through_a_config_mapping():
    dumped = RUBRIC.model_dump(mode="json")
    assert ScoringConfig.model_validate(dumped) == RUBRIC
    assert len(dumped["substance"]["items"]) == 6


# ---------------------------------------------------------------------------------------------
# Decisions


def _status_and_scores(values: list[float | None], on_time=None, complete=None):
    units = [f"单位{i}" for i in range(len(values))]
    n = len(values)
    status = pd.DataFrame(
        {
            "unit": units,
            "submitted": [v is not None for v in values],
            "on_time": on_time or [v is not None for v in values],
            "complete": complete or [v is not None for v in values],
        }
    )
    scores = pd.DataFrame(
        {
            "unit": units,
            "score": [0.0 if v is None else v for v in values],
            "grade": [RUBRIC.grade_for(v) if v is not None else "" for v in values],
            "needs_manual": [False] * n,
            "volunteers": pd.array([pd.NA] * n, dtype="Int64"),
        }
    )
    return status, scores


def test_ranks_with_ties_use_competition_ranking():
    status, scores = _status_and_scores([90.0, 85.5, 85.5, 70.0, None, 95.0])
    table = decide(status, scores, RUBRIC)
    assert table["rank"].tolist()[:4] == [2, 3, 3, 5]
    assert table["rank"][4] is pd.NA and table["rank"][5] == 1
    assert str(table["rank"].dtype) == "Int64"


def test_awards_top_n_with_a_tie_at_the_boundary_and_eligibility():
    rubric = ScoringConfig(awards={"top_n": 2, "min_score": 80})
    values = [99.0, 90.0, 88.0, 88.0, 85.0, 79.0]
    status, scores = _status_and_scores(values, on_time=[False, True, True, True, True, True])
    table = decide(status, scores, rubric)
    assert table["award"].tolist() == [False, True, True, True, False, False]
    scores.loc[1, "needs_manual"] = True
    table = decide(status, scores, rubric)
    assert table["award"].tolist() == [False, False, True, True, False, False]


def test_notice_reasons_fixed_order_and_deduction():
    status, scores = _status_and_scores([50.0, None, 95.0], on_time=[False, False, True])
    status["complete"] = [False, False, True]
    table = decide(status, scores, RUBRIC)
    # Not confirmed by staff: low_score is only suggested, and costs nothing yet.
    assert table["notice_reasons"].tolist() == ["late;incomplete", "not_submitted", ""]
    assert table["pending_reasons"].tolist() == ["low_score", "", ""]
    table = decide(status, scores, RUBRIC, confirmed={"单位0": 50.0, "单位2": 95.0})
    assert table["score_confirmed"].tolist() == [True, False, True]
    assert table["notice_reasons"].tolist() == ["late;incomplete;low_score", "not_submitted", ""]
    assert table["pending_reasons"].tolist() == ["", "", ""]
    assert table["notice"].tolist() == [True, True, False]
    assert table["deduction"].tolist() == [2.0, 2.0, 0.0]
    # A score that changed after it was confirmed is no longer confirmed.
    table = decide(status, scores, RUBRIC, confirmed={"单位0": 55.0})
    assert not table["score_confirmed"][0] and table["pending_reasons"][0] == "low_score"
    allowed = ScoringConfig(notice={"low_score_requires_confirmation": False})
    assert decide(status, scores, allowed)["notice_reasons"][0] == "late;incomplete;low_score"
    rubric = ScoringConfig(notice={"low_score": False}, deduction={"late": 0.5, "incomplete": 0.25})
    table = decide(status, scores, rubric)
    assert table["notice_reasons"].tolist() == ["late;incomplete", "not_submitted", ""]
    assert table["deduction"].tolist() == [0.75, 2.0, 0.0]


def test_evaluate_table_has_the_report_tables_columns_and_types():
    ledger = Ledger()
    ledger.send("西渡镇", ON_TIME, *full_set("a"))
    ledger.send("井头镇", LATE, photo("p9"))
    table, breakdown, people = ledger.evaluate()
    assert tuple(table.columns) == UNITS_TABLE_COLUMNS
    assert table["unit"].tolist() == list(ledger.units)
    for column in ("submitted", "on_time", "complete", "award", "notice", "needs_manual"):
        assert table[column].dtype == bool
    for column in ("photos", "reports", "deeds", "videos", "video_links"):
        assert table[column].dtype == "int64"
    for column in ("score", "deduction", "days_late"):
        assert table[column].dtype == "float64"
    assert str(table["rank"].dtype) == "Int64" and str(table["volunteers"].dtype) == "Int64"
    assert str(table["first_received"].dtype).endswith("UTC+08:00]")
    assert list(breakdown.columns) == ["unit", "criterion", "points", "max_points", "evidence"]
    assert list(people.columns) == ["name", "unit", "document", "excerpt", "status", "note"]
    assert people["name"].tolist() == ["张三"]


# ---------------------------------------------------------------------------------------------
# Properties

REPORT_TEXTS = {
    "r-full": (FULL_REPORT, True),
    "r-short": ("我局开展禁毒宣传进社区活动，招募志愿者30名。", True),
    "r-none": ("本单位按要求报送材料。", True),
    "r-scan": ("", False),
}
DEEDS_TEXTS = {
    "d-person": ("李四同志先进事迹\n李四同志长期开展帮教工作。", True),
    "d-unit": ("西渡镇禁毒工作先进事迹\n我镇组建了禁毒示范村。", True),
    "d-scan": ("", False),
}

material_st = st.one_of(
    st.builds(lambda i: photo(f"p{i}"), st.integers(0, 25)),
    st.builds(lambda i: video(f"v{i}"), st.integers(0, 3)),
    st.builds(lambda i: link(f"https://pan.baidu.com/s/{i}"), st.integers(0, 3)),
    st.builds(
        lambda k, n: ("report", f"{k}.{n}", k, 1000, REPORT_TEXTS[k]),
        st.sampled_from(sorted(REPORT_TEXTS)),
        st.sampled_from(["docx", "pdf"]),
    ),
    st.builds(
        lambda k: ("deeds", f"{k}.docx", k, 1000, DEEDS_TEXTS[k]),
        st.sampled_from(sorted(DEEDS_TEXTS)),
    ),
    st.just(("other", "说明.txt", "o1", 10)),
)
when_st = st.sampled_from(
    ["2020-12-20T08:00:00+08:00", "2020-12-31T23:59:59+08:00", "2021-01-01T00:00:00+08:00", LATE]
)


def _unit_score(files: list[tuple], at: str) -> tuple[float, pd.DataFrame, pd.DataFrame]:
    ledger = Ledger()
    ledger.send("西渡镇", at, *files)
    ledger.send("井头镇", ON_TIME, *full_set("other-unit"))
    table, breakdown, _ = ledger.evaluate()
    return row(table, "西渡镇")["score"], table, breakdown


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.lists(material_st, max_size=12), extra=material_st, at=when_st)
def test_more_material_at_the_same_time_never_lowers_the_score(base, extra, at):
    before, table_before, breakdown_before = _unit_score(base, at)
    after, table_after, breakdown_after = _unit_score([*base, extra], at)
    assert after >= before
    assert row(table_before, "井头镇")["score"] == row(table_after, "井头镇")["score"]
    assert_breakdown_explains(table_before, breakdown_before)
    assert_breakdown_explains(table_after, breakdown_after)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batches=st.lists(st.tuples(when_st, st.lists(material_st, max_size=6)), min_size=1, max_size=4)
)
def test_breakdown_always_adds_up_and_scores_stay_in_range(batches):
    ledger = Ledger()
    for at, files in batches:
        ledger.send("西渡镇", at, *files)
    table, breakdown, _ = ledger.evaluate()
    assert_breakdown_explains(table, breakdown)
    r = row(table, "西渡镇")
    assert r["grade"] in {"优秀", "良好", "基本合格", "不合格"}
    assert math.isclose(r["days_late"], 0.0) == bool(r["on_time"])


# ---------------------------------------------------------------------------------------------
# Rubric hooks for the integrity checks, and how lateness is counted


def _evaluate_with(ledger: Ledger, rubric: ScoringConfig, findings=None, videos=None):
    units, messages, materials, documents = ledger.frames()
    return evaluate(units, messages, materials, documents, rubric, DEADLINE, None, findings, videos)


def test_integrity_findings_cost_points_only_where_the_rubric_says_so():
    ledger = Ledger()
    ledger.send("西渡镇", ON_TIME, *full_set("x"))
    findings = pd.DataFrame(
        [{"unit": "西渡镇", "kind": "reused_photo"}, {"unit": "西渡镇", "kind": "short_video"}]
    )
    before, _, _ = _evaluate_with(ledger, RUBRIC, findings)
    assert row(before, "西渡镇")["findings"] == 2
    rubric = ScoringConfig(integrity={"points": {"reused_photo": 1.5}})
    after, breakdown, _ = _evaluate_with(ledger, rubric, findings)
    assert row(after, "西渡镇")["score"] == pytest.approx(row(before, "西渡镇")["score"] - 1.5)
    lost = breakdown[(breakdown["unit"] == "西渡镇") & (breakdown["criterion"] == "疑点扣分")]
    assert lost["points"].item() == -1.5 and lost["max_points"].item() == 0.0
    assert "往年照片重复使用 1 处" in lost["evidence"].item()
    assert_breakdown_explains(after, breakdown)
    with pytest.raises(ValueError, match="unknown finding kind"):
        ScoringConfig(integrity={"points": {"reused_photos": 1}})


def test_short_videos_can_be_left_out_of_richness():
    ledger = Ledger()
    ledger.send("西渡镇", ON_TIME, *full_set("x"), video("v2"))
    videos = pd.DataFrame(
        [
            {"unit": "西渡镇", "sha256": "xv1", "probed": True, "playable": True,
             "duration": 3.0},
            {"unit": "西渡镇", "sha256": "v2", "probed": True, "playable": True,
             "duration": 30.0},
        ]
    )  # fmt: skip
    counted = ScoringConfig(richness={"video_min_seconds": 10})
    _, all_count, _ = _evaluate_with(ledger, RUBRIC, videos=videos)
    _, long_only, _ = _evaluate_with(ledger, counted, videos=videos)

    def rich(breakdown):
        rows = breakdown[
            (breakdown["criterion"] == "材料丰富：视频数量") & (breakdown["unit"] == "西渡镇")
        ]
        return rows["points"].item(), rows["evidence"].item()

    assert rich(all_count)[0] == RUBRIC.richness.video_points
    points, evidence = rich(long_only)
    assert points == RUBRIC.richness.video_points / 2
    assert "1 个不足 10 秒或无法播放，不计" in evidence


def test_lateness_by_calendar_days():
    ledger = Ledger()
    ledger.send("西渡镇", "2021-01-02T11:00:00+08:00", *full_set("x"))
    started, _, _ = ledger.evaluate()
    calendar, breakdown, _ = ledger.evaluate(ScoringConfig(timeliness={"late_days": "calendar"}))
    assert row(started, "西渡镇")["days_late"] == 2  # 1 day 11 h: two started days
    assert row(calendar, "西渡镇")["days_late"] == 2  # 2 January is two days after 31 December
    ledger = Ledger()
    ledger.send("西渡镇", "2021-01-01T09:00:00+08:00", *full_set("x"))
    calendar, breakdown, _ = ledger.evaluate(ScoringConfig(timeliness={"late_days": "calendar"}))
    assert row(calendar, "西渡镇")["days_late"] == 1
    timely = breakdown[
        (breakdown["criterion"] == LABEL_TIMELINESS) & (breakdown["unit"] == "西渡镇")
    ]
    evidence = timely["evidence"].item()
    assert evidence.startswith("逾期 1 天（活动照片、总结报告、事迹材料、视频资料，")
