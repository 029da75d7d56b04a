"""The scoring rubric: the ``scoring:`` section of config.yaml.

Every number the evaluation uses lives here, each with a default, so a config file without a
``scoring:`` section scores by the defaults below. Points are absolute: the maximum of every
criterion is the sum of its parts, and the four criteria must add up to exactly 100.

Default rubric (100 points):

============  ======  ============================================================
criterion     points  how
============  ======  ============================================================
timeliness    20      on time: 20; otherwise 5 points lost per started day late
completeness  20      5 per required category: photos, report, deeds, video
richness      20      photos 6 (20+), videos 4 (2+), deeds 4 (3+), report 6 (3000+ chars)
substance     40      six work items 5 each; volunteers recruited 10 (target 50)
============  ======  ============================================================
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contract import INTEGRITY_KIND_LABELS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimelinessRule(_Strict):
    points: float = Field(20.0, ge=0, description="points for submitting everything on time")
    points_per_day_late: float = Field(
        5.0,
        ge=0,
        description=(
            "points lost per started day late (one second late = one day); "
            "the criterion never goes below 0"
        ),
    )
    late_days: Literal["started", "calendar"] = Field(
        "started",
        description=(
            "how lateness is counted in whole days: started = every started 24 hours after the "
            "deadline is a day (one second late = 1 day); calendar = calendar days after the "
            "deadline's date. Every report shows this number."
        ),
    )


class CompletenessRule(_Strict):
    photos: float = Field(5.0, ge=0, description="points when at least one activity photo arrived")
    report: float = Field(5.0, ge=0, description="points when at least one summary report arrived")
    deeds: float = Field(5.0, ge=0, description="points when at least one deeds document arrived")
    video: float = Field(
        5.0, ge=0, description="points when at least one video file or video link arrived"
    )

    @property
    def max_points(self) -> float:
        return self.photos + self.report + self.deeds + self.video


class RichnessRule(_Strict):
    photo_points: float = Field(6.0, ge=0, description="points for photos at the cap")
    photo_cap: int = Field(20, ge=1, description="distinct photos that earn full photo points")
    video_points: float = Field(4.0, ge=0, description="points for videos at the cap")
    video_cap: int = Field(
        2, ge=1, description="distinct videos (files plus distinct links) that earn full points"
    )
    deeds_points: float = Field(4.0, ge=0, description="points for deeds documents at the cap")
    deeds_cap: int = Field(3, ge=1, description="distinct deeds documents that earn full points")
    video_min_seconds: float = Field(
        0.0,
        ge=0,
        description=(
            "when above 0, only videos that play and last at least this long count for richness "
            "(as ffprobe measured them; links and videos not yet measured count)"
        ),
    )
    report_points: float = Field(6.0, ge=0, description="points for report length at the cap")
    report_chars_cap: int = Field(
        3000,
        ge=1,
        description=(
            "length of the longest summary report, in characters without white space, "
            "that earns full points"
        ),
    )

    @property
    def max_points(self) -> float:
        return self.photo_points + self.video_points + self.deeds_points + self.report_points


class WorkItem(_Strict):
    label: str = Field(description="the work item as the breakdown names it (Chinese)")
    keywords: tuple[str, ...] = Field(
        description="the item counts as covered when a report sentence contains any of these"
    )
    points: float = Field(5.0, ge=0, description="points when the item is covered")

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(k.strip() for k in value if k.strip())
        if not cleaned:
            raise ValueError("每个工作项至少需要一个关键词")
        return cleaned


DEFAULT_WORK_ITEMS = (
    WorkItem(
        label="成立禁毒志愿服务分会/分队",
        keywords=("分会", "分队", "服务队", "志愿者协会", "组建", "挂牌"),
    ),
    WorkItem(
        label="招募“禁毒妈妈”及志愿者50人以上",
        keywords=("禁毒妈妈", "招募", "吸纳", "注册志愿者", "发展志愿者"),
    ),
    WorkItem(
        label="开展多种形式禁毒宣传",
        keywords=(
            "宣传",
            "宣讲",
            "进校园",
            "进社区",
            "进农村",
            "进家庭",
            "进企业",
            "横幅",
            "展板",
            "宣传单",
            "公众号",
            "文艺",
        ),
    ),
    WorkItem(
        label="开展调研与培训",
        keywords=("调研", "培训", "座谈", "走访调查", "问卷"),
    ),
    WorkItem(
        label="开展示范创建",
        keywords=("示范", "创建", "星级", "标杆"),
    ),
    WorkItem(
        label="开展帮扶帮教",
        keywords=(
            "帮扶",
            "帮教",
            "戒毒人员",
            "社区戒毒",
            "社区康复",
            "戒毒康复",
            "结对",
        ),
    ),
)


class SubstanceRule(_Strict):
    items: tuple[WorkItem, ...] = Field(
        default=DEFAULT_WORK_ITEMS,
        description="the campaign's work items, each scored from the unit's report text",
    )
    volunteers_points: float = Field(
        10.0, ge=0, description="points when the report states the target number of volunteers"
    )
    volunteers_target: int = Field(
        50,
        ge=1,
        description=(
            "volunteers recruited that earn full volunteer points; fewer earn a proportional share"
        ),
    )

    @field_validator("items")
    @classmethod
    def _unique_labels(cls, value: tuple[WorkItem, ...]) -> tuple[WorkItem, ...]:
        labels = [item.label for item in value]
        if len(set(labels)) != len(labels):
            raise ValueError("工作项名称（label）不能重复")
        return value

    @property
    def max_points(self) -> float:
        return sum(item.points for item in self.items) + self.volunteers_points


class GradeBand(_Strict):
    min_score: float = Field(ge=0, le=100, description="lowest score of the band (inclusive)")
    grade: str = Field(min_length=1, description="the grade's name (Chinese)")


DEFAULT_GRADES = (
    GradeBand(min_score=90, grade="优秀"),
    GradeBand(min_score=80, grade="良好"),
    GradeBand(min_score=60, grade="基本合格"),
    GradeBand(min_score=0, grade="不合格"),
)


class AwardRule(_Strict):
    top_n: int = Field(
        10,
        ge=0,
        description=(
            "award the best N eligible units (competition ranking among eligible units: "
            "a tie at place N awards every tied unit)"
        ),
    )
    min_score: float = Field(80.0, ge=0, le=100, description="lowest score that can win an award")
    require_on_time: bool = Field(True, description="only units that were on time can win")
    require_complete: bool = Field(True, description="only complete units can win")
    exclude_needs_manual: bool = Field(
        True,
        description="units whose substance still needs manual scoring cannot win until rescored",
    )


class NoticeRule(_Strict):
    not_submitted: bool = Field(True, description="name units that sent nothing")
    late: bool = Field(True, description="name units that were late")
    incomplete: bool = Field(True, description="name submitted units that are missing a category")
    low_score: bool = Field(True, description="name submitted units scoring below low_score_below")
    low_score_below: float = Field(
        60.0, ge=0, le=100, description="a submitted unit scoring below this gets `low_score`"
    )
    low_score_requires_confirmation: bool = Field(
        True,
        description=(
            "name a unit as 评分偏低 only once staff confirmed its score (confirm-scores); until "
            "then the draft lists it as a suggestion for internal use"
        ),
    )


class DeductionRule(_Strict):
    """绩效考评扣分: points deducted in the annual performance review, per notice reason."""

    not_submitted: float = Field(2.0, ge=0, description="deduction for `not_submitted`")
    late: float = Field(1.0, ge=0, description="deduction for `late`")
    incomplete: float = Field(1.0, ge=0, description="deduction for `incomplete`")
    low_score: float = Field(0.0, ge=0, description="deduction for `low_score`")

    def for_reasons(self, reasons: list[str]) -> float:
        return float(sum(getattr(self, code) for code in reasons))


class IntegrityDeductionRule(_Strict):
    """Optional points lost per integrity finding (疑点); none by default: findings are for
    staff to judge."""

    points: dict[str, float] = Field(
        default_factory=dict,
        description="finding kind (integrity.csv ``kind``) → points lost per finding",
    )
    max_points: float = Field(10.0, ge=0, description="at most this many points per unit")

    @field_validator("points")
    @classmethod
    def _known_kinds(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = [kind for kind in value if kind not in INTEGRITY_KIND_LABELS]
        if unknown:
            raise ValueError(f"unknown finding kind(s): {', '.join(unknown)}")
        if any(points < 0 for points in value.values()):
            raise ValueError("deductions are points lost: use numbers of 0 or more")
        return value


class ScoringConfig(_Strict):
    """The rubric. Criterion maxima (sum of each section's points) must add up to 100."""

    timeliness: TimelinessRule = Field(default_factory=TimelinessRule)
    completeness: CompletenessRule = Field(default_factory=CompletenessRule)
    richness: RichnessRule = Field(default_factory=RichnessRule)
    substance: SubstanceRule = Field(default_factory=SubstanceRule)
    grades: tuple[GradeBand, ...] = Field(
        default=DEFAULT_GRADES,
        description="grade bands, highest first; the lowest band must start at 0",
    )
    awards: AwardRule = Field(default_factory=AwardRule)
    notice: NoticeRule = Field(default_factory=NoticeRule)
    deduction: DeductionRule = Field(default_factory=DeductionRule)
    integrity: IntegrityDeductionRule = Field(default_factory=IntegrityDeductionRule)

    @field_validator("grades")
    @classmethod
    def _grades(cls, value: tuple[GradeBand, ...]) -> tuple[GradeBand, ...]:
        if not value:
            raise ValueError("至少需要一个等次")
        bands = tuple(sorted(value, key=lambda band: band.min_score, reverse=True))
        mins = [band.min_score for band in bands]
        if len(set(mins)) != len(mins):
            raise ValueError("两个等次的起始分数（min_score）相同")
        if mins[-1] != 0:
            raise ValueError("最低等次的起始分数（min_score）须为 0")
        return bands

    @model_validator(mode="after")
    def _total_is_100(self) -> ScoringConfig:
        maxima = self.criterion_max()
        total = sum(maxima.values())
        if abs(total - 100.0) > 1e-6:
            labels = {"timeliness": "按时报送", "completeness": "材料齐全", "richness": "材料丰富",
                      "substance": "工作成效"}  # fmt: skip
            parts = " + ".join(f"{labels[name]} {points:g}" for name, points in maxima.items())
            raise ValueError(f"各项满分之和须为 100，现为 {total:g}（{parts}）")
        return self

    def criterion_max(self) -> dict[str, float]:
        """Maximum points of each criterion (the criterion weights)."""
        return {
            "timeliness": self.timeliness.points,
            "completeness": self.completeness.max_points,
            "richness": self.richness.max_points,
            "substance": self.substance.max_points,
        }

    def grade_for(self, score: float) -> str:
        """The grade band a score falls in (bands are sorted highest first)."""
        for band in self.grades:
            if score >= band.min_score - 1e-9:
                return band.grade
        return self.grades[-1].grade


SHINGLE = 8  # characters per shingle of the copied-text check (scoring/integrity.py)
DEFAULT_LINK_EXPIRY = {
    "mail.qq.com/cgi-bin/ftnExs_download": 30,
    "wx.mail.qq.com/ftn/download": 30,
    "iwx.mail.qq.com/ftn/": 30,
    "mail.qq.com/ftn/": 30,
}


class IntegrityConfig(BaseModel):
    """The ``integrity:`` section of config.yaml (SPEC "Contract additions (turn 2)")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference_folders: list[Path] = Field(
        default_factory=list, description="earlier years' material folders: pictures reused"
    )
    reference_texts: list[Path] = Field(
        default_factory=list, description="the campaign notice, templates: text pasted back"
    )
    photo_window: tuple[date, date] | None = Field(
        None, description="[start, end] of EXIF capture dates; default: the year to the deadline"
    )
    min_video_seconds: float = Field(10.0, ge=0, description="shorter videos are flagged")
    photo_max_distance: int = Field(
        10, ge=0, le=32, description="hash bits (of 64) two copies of one picture may differ in"
    )
    text_min_passage_chars: int = Field(
        40, ge=SHINGLE, description="a shared passage is at least this long (letters, digits)"
    )
    text_min_share: float = Field(
        0.2, gt=0, le=1, description="flag a document when shared passages cover this share"
    )
    link_expiry_days: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_LINK_EXPIRY),
        description="link host (part of the URL) → days until such a link expires",
    )

    @field_validator("photo_window")
    @classmethod
    def _ordered(cls, value: tuple[date, date] | None) -> tuple[date, date] | None:
        if value is not None and value[0] > value[1]:
            raise ValueError("photo_window: start must not be after end")
        return value

    def window(self, deadline: datetime) -> tuple[date, date]:
        """The capture-date window: as configured, else 1 January of the deadline's year up to
        the deadline's date."""
        if self.photo_window is not None:
            return self.photo_window
        return date(deadline.year, 1, 1), deadline.date()
