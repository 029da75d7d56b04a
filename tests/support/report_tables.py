"""A realistic synthetic ``ReportTables`` for the report writers' tests.

The numbers here stand in for what scoring computes; the writers must only render them. The record
is deterministic: the same arguments always give the same tables.

Hostile strings are planted on purpose: a review-queue subject and a stored file name hold
``<script>alert(1)</script>`` and ``&"'`` (escaping), a subject starts with ``=`` (spreadsheet
formulas) and one holds a vertical tab (not allowed in XML). ``hostile_unit_name=True`` also gives
one unit a name full of markup, for writers that must escape unit names too.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pandas as pd

from contract import ATTACHMENT_COLUMNS, INTEGRITY_COLUMNS, UNIT_COLUMNS
from outputs.tables import Campaign, ReportTables

TZ = timezone(timedelta(hours=8))
DEADLINE = datetime(2020, 12, 31, 23, 59, 59, tzinfo=TZ)
GENERATED_AT = datetime(2021, 1, 4, 9, 30, tzinfo=TZ)

XSS = "<script>alert(1)</script>"
HOSTILE_SUBJECT = f"{XSS}年终材料 &\"'"
HOSTILE_FILENAME = f"{XSS}&\"'.jpg"
FORMULA_SUBJECT = '=HYPERLINK("http://example.invalid","点我")'
HOSTILE_UNIT = "<img src=x onerror=alert(2)>&\"'镇"

UNIT_POOL = (
    ("西渡镇", "乡镇"),
    ("金兰镇", "乡镇"),
    ("金溪镇", "乡镇"),
    ("县公安局", "成员单位"),
    ("界牌镇", "乡镇"),
    ("衡阳县工业园区", "园区"),
    ("县教育局", "成员单位"),
    ("洪市镇", "乡镇"),
    ("台源镇", "乡镇"),
    ("三湖镇", "乡镇"),
    ("县卫健局", "县直机关"),
    ("库宗桥镇", "乡镇"),
    ("县司法局", "成员单位"),
    ("演陂镇", "乡镇"),
    ("井头镇", "乡镇"),
    ("县民政局", "县直机关"),
)

# Scenario per unit position (cycled): when the unit sent what, and how scoring rated it.
# first: minutes relative to the deadline of the first message (None: nothing sent);
# photos/reports/deeds/videos/links: distinct files; late_first: which category arrived late.
SCENARIOS = (
    dict(first=-4 * 1440 + 611, photos=3, reports=1, deeds=2, videos=1, links=0, score=92.5),
    dict(first=-2 * 1440 + 95, photos=2, reports=1, deeds=1, videos=0, links=0, score=68.0),
    dict(first=None, score=0.0),
    dict(first=1 * 1440 + 620, photos=4, reports=1, deeds=1, videos=0, links=1, score=80.0),
    dict(first=-6 * 1440 + 300, photos=2, reports=2, deeds=1, videos=1, links=1, score=88.5),
    dict(first=2 * 1440 + 50, photos=0, reports=0, deeds=1, videos=1, links=0, score=45.0),
    dict(first=None, score=0.0),
    dict(first=-1 * 1440 + 1000, photos=5, reports=1, deeds=1, videos=1, links=0, score=75.0),
)

CRITERIA = (
    ("材料完整性", 40.0),
    ("报送时效", 20.0),
    ("照片数量与质量", 10.0),
    ("总结报告质量", 20.0),
    ("事迹材料", 10.0),
)


UNIT_FRAME_COLUMNS = [
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
    "folder",
]


def _aware(column: pd.Series) -> pd.Series:
    """Timestamps in the campaign's zone (NaT kept), whatever came in."""
    return pd.to_datetime(column, utc=True).dt.tz_convert(TZ)


def _grade(score: float, submitted: bool) -> str:
    if not submitted:
        return ""
    if score >= 90:
        return "优秀"
    if score >= 75:
        return "良好"
    if score >= 60:
        return "基本合格"
    return "不合格"


def _sha(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def _unit_names(n_units: int, hostile_unit_name: bool) -> list[tuple[str, str]]:
    names = [
        UNIT_POOL[i] if i < len(UNIT_POOL) else (f"测试单位{i + 1}", "县直机关")
        for i in range(n_units)
    ]
    if hostile_unit_name and n_units > 7:
        names[7] = (HOSTILE_UNIT, "乡镇")
    return names


def sample_tables(
    n_units: int = 8,
    *,
    generated_at: datetime = GENERATED_AT,
    hostile_unit_name: bool = False,
    with_review: bool = True,
    with_individuals: bool = True,
) -> ReportTables:
    """Build a deterministic ReportTables with ``n_units`` units (registry order).

    With the default 8 units: 西渡镇 and 界牌镇 are awarded; 金溪镇 and 县教育局 sent nothing;
    县公安局 and 衡阳县工业园区 are late; 金兰镇 misses its video and 衡阳县工业园区 its photos and
    report (and scores low); 洪市镇 is on time and complete but unremarkable.
    """
    units = _unit_names(n_units, hostile_unit_name)
    unit_rows: list[dict] = []
    attachment_rows: list[dict] = []
    breakdown_rows: list[dict] = []
    uid = 100
    for index, (unit, category) in enumerate(units):
        scenario = SCENARIOS[index % len(SCENARIOS)]
        cycle = index // len(SCENARIOS)
        folder = f"materials/{unit}"
        sender = f"{20480000 + index * 7919}@qq.com"
        if scenario["first"] is None:
            unit_rows.append(
                dict(
                    unit=unit,
                    category=category,
                    submitted=False,
                    on_time=False,
                    first_received=pd.NaT,
                    last_received=pd.NaT,
                    photos=0,
                    reports=0,
                    deeds=0,
                    videos=0,
                    video_links=0,
                    complete=False,
                    missing="photos;report;deeds;video",
                    score=0.0,
                    rank=pd.NA,
                    award=False,
                    notice=True,
                    notice_reasons="not_submitted",
                    grade="",
                    deduction=2.0,
                    needs_manual=False,
                    days_late=0.0,
                    volunteers=pd.NA,
                    late_items="",
                    score_confirmed=False,
                    pending_reasons="",
                    findings=0,
                    folder=folder,
                )
            )
            continue

        first = DEADLINE + timedelta(minutes=scenario["first"] + cycle * 37)
        first = first.replace(second=20)
        second = first + timedelta(hours=3, minutes=11)
        messages = [
            (first, f"{first:%Y%m%d%H%M}.{index}a@qq.com", uid),
            (second, f"{second:%Y%m%d%H%M}.{index}b@qq.com", uid + 1),
        ]
        uid += 2

        def add_file(message, filename, category, size, sha, path, *, unit=unit, sender=sender):
            received, message_id, message_uid = message
            attachment_rows.append(
                dict(
                    message_id=message_id,
                    uid=message_uid,
                    received_at=received,
                    sender=sender,
                    unit=unit,
                    filename=filename,
                    category=category,
                    size=size,
                    sha256=sha,
                    path=path,
                    kind="file",
                    link_code="",
                    late=received > DEADLINE,
                    review_reason="",
                )
            )

        archive = f"{unit}活动照片.zip"
        for k in range(scenario["photos"]):
            name = f"IMG_{k + 1:04d}.jpg"
            if index == 4 and k == 0:
                name = HOSTILE_FILENAME
            add_file(
                messages[0],
                f"{archive}/照片/{name}",
                "photo",
                1_800_000 + 4099 * k,
                _sha(unit, "photo", str(k)),
                f"{folder}/照片/{name}",
            )
        for k in range(scenario["reports"]):
            ext = "docx" if k == 0 else "pdf"
            name = f"{unit}2020年度禁毒志愿服务工作总结.{ext}"
            add_file(
                messages[0],
                name,
                "report",
                48_213 + k,
                _sha(unit, "report", str(k)),
                f"{folder}/总结报告/{name}",
            )
        for k in range(scenario["deeds"]):
            name = f"{unit}先进事迹材料{'' if k == 0 else k + 1}.docx"
            add_file(
                messages[1],
                name,
                "deeds",
                210_554 + k,
                _sha(unit, "deeds", str(k)),
                f"{folder}/事迹材料/{name}",
            )
        for k in range(scenario["videos"]):
            name = f"{unit}禁毒宣传视频.mp4"
            add_file(
                messages[1],
                name,
                "video",
                95_000_000 + k,
                _sha(unit, "video", str(k)),
                f"{folder}/视频/{name}",
            )
        if scenario["photos"]:
            # An identical resubmission: a second row, same sha256; counts do not change.
            name = "IMG_0001.jpg" if index != 4 else HOSTILE_FILENAME
            add_file(
                messages[1],
                f"{archive}/照片/{name}",
                "photo",
                1_800_000,
                _sha(unit, "photo", "0"),
                f"{folder}/照片/{name}",
            )
        for k in range(scenario["links"]):
            received, message_id, message_uid = messages[1]
            attachment_rows.append(
                dict(
                    message_id=message_id,
                    uid=message_uid,
                    received_at=received,
                    sender=sender,
                    unit=unit,
                    filename=f"https://wx.mail.qq.com/ftn/download?func=3&k={_sha(unit)[:16]}&t={k}",
                    category="video",
                    size=pd.NA,
                    sha256="",
                    path="",
                    kind="link",
                    link_code="" if index % 2 else "x7k2",
                    late=received > DEADLINE,
                    review_reason="",
                )
            )

        missing = [
            code
            for code, count in (
                ("photos", scenario["photos"]),
                ("report", scenario["reports"]),
                ("deeds", scenario["deeds"]),
                ("video", scenario["videos"] + scenario["links"]),
            )
            if count == 0
        ]
        on_time = first <= DEADLINE
        score = max(0.0, scenario["score"] - cycle * 1.5)
        reasons = []
        if not on_time:
            reasons.append("late")
        if missing:
            reasons.append("incomplete")
        if score < 60:
            reasons.append("low_score")
        # Whole days, every started day counting (scoring.timeliness.late_days: started).
        days_late = 0.0 if on_time else float(-(-(second - DEADLINE) // timedelta(days=1)))
        present = [code for code in ("photos", "report", "deeds", "video") if code not in missing]
        award = on_time and not missing and score >= 85
        unit_rows.append(
            dict(
                unit=unit,
                category=category,
                submitted=True,
                on_time=on_time,
                first_received=pd.Timestamp(first),
                last_received=pd.Timestamp(second),
                photos=scenario["photos"],
                reports=scenario["reports"],
                deeds=scenario["deeds"],
                videos=scenario["videos"],
                video_links=scenario["links"],
                complete=not missing,
                missing=";".join(missing),
                score=score,
                rank=pd.NA,
                award=award,
                notice=bool(reasons),
                notice_reasons=";".join(reasons),
                grade=_grade(score, True),
                deduction=round(0.5 * len(missing) + (1.0 if not on_time else 0.0), 1),
                needs_manual=index % len(SCENARIOS) == 4,
                days_late=days_late,
                volunteers=pd.NA if index % 3 == 2 else 20 + index * 3,
                late_items="" if on_time else ";".join(present),
                score_confirmed=True,
                pending_reasons="",
                findings=2 if index == 1 else 0,
                folder=folder,
            )
        )
        remaining = score
        for position, (criterion, max_points) in enumerate(CRITERIA):
            if position == len(CRITERIA) - 1:
                points = round(remaining, 1)
            else:
                points = round(max_points * score / 100, 1)
                remaining -= points
            breakdown_rows.append(
                dict(
                    unit=unit,
                    criterion=criterion,
                    points=points,
                    max_points=max_points,
                    evidence=(
                        f"照片{scenario['photos']}张、报告{scenario['reports']}份、"
                        f"事迹{scenario['deeds']}份、视频{scenario['videos']}个、"
                        f"链接{scenario['links']}个"
                    ),
                )
            )

    units_df = pd.DataFrame(unit_rows, columns=UNIT_FRAME_COLUMNS)
    submitted = units_df["submitted"].astype(bool)
    units_df["rank"] = (
        units_df["score"].where(submitted).rank(method="min", ascending=False).astype("Int64")
    )
    for column in ("submitted", "on_time", "complete", "award", "notice", "needs_manual"):
        units_df[column] = units_df[column].astype(bool)
    for column in ("photos", "reports", "deeds", "videos", "video_links"):
        units_df[column] = units_df[column].astype("int64")
    for column in ("score", "deduction", "days_late"):
        units_df[column] = units_df[column].astype("float64")
    units_df["volunteers"] = units_df["volunteers"].astype("Int64")
    for column in ("first_received", "last_received"):
        units_df[column] = _aware(units_df[column])
    units_df["score_confirmed"] = units_df["score_confirmed"].astype(bool)
    units_df["findings"] = units_df["findings"].astype("int64")

    extra_attachment_columns = ["kind", "link_code", "late", "review_reason"]
    attachments = pd.DataFrame(
        attachment_rows, columns=[*ATTACHMENT_COLUMNS, *extra_attachment_columns]
    )
    attachments["uid"] = attachments["uid"].astype("Int64")
    attachments["size"] = attachments["size"].astype("Int64")
    attachments["late"] = attachments["late"].astype(bool)
    attachments["received_at"] = _aware(attachments["received_at"])

    review_rows: list[dict] = []
    if with_review:
        names = [u for u, _ in units]
        candidates = ";".join(n for n in ("金兰镇", "金溪镇") if n in names)
        review_rows.append(
            dict(
                received_at=pd.Timestamp(DEADLINE - timedelta(days=2, hours=8, minutes=39)),
                sender="13800000000@163.com",
                subject=HOSTILE_SUBJECT,
                unit="",
                filename="",
                reason="无法确定报送单位：主题与附件中未出现已登记的单位名称",
                candidates=candidates,
                path="materials/待确认/20201229-1520-13800000000",
            )
        )
        if n_units > 1:
            review_rows.append(
                dict(
                    received_at=pd.Timestamp(DEADLINE - timedelta(days=1, hours=5)),
                    sender=f"{20480000 + 1 * 7919}@qq.com",
                    subject=f"{units[1][0]}禁毒\x0b材料",
                    unit=units[1][0],
                    filename="新建 Microsoft Word 文档.docx",
                    reason="未能分类的文档",
                    candidates="",
                    path=f"materials/待确认/{units[1][0]}/新建 Microsoft Word 文档.docx",
                )
            )
        if n_units > 4:
            review_rows.append(
                dict(
                    received_at=pd.Timestamp(DEADLINE - timedelta(days=6, hours=1)),
                    sender=f"{20480000 + 4 * 7919}@qq.com",
                    subject=FORMULA_SUBJECT,
                    unit=units[4][0],
                    filename=f"{units[4][0]}活动照片.zip/照片/{HOSTILE_FILENAME}",
                    reason="文件扩展名与内容不符，请人工确认",
                    candidates="",
                    path=f"materials/待确认/{units[4][0]}/{HOSTILE_FILENAME}",
                )
            )
    review = pd.DataFrame(
        review_rows,
        columns=[
            "received_at",
            "sender",
            "subject",
            "unit",
            "filename",
            "reason",
            "candidates",
            "path",
        ],
    )
    review["received_at"] = _aware(review["received_at"])

    individual_rows: list[dict] = []
    if with_individuals:
        for position, name, excerpt, status in (
            (
                0,
                "张建华",
                "张建华同志扎根基层禁毒宣传一线，全年组织志愿活动二十余场……",
                "confirmed",
            ),
            (4, "李梅", "李梅同志带领“衡阳群众”志愿者队伍走村入户开展禁毒宣传……", "confirmed"),
            (3, "王志刚", "王志刚同志协助破获涉毒案件三起，积极参与禁毒宣传进校园……", "candidate"),
        ):
            if position < n_units and units_df.loc[position, "submitted"]:
                unit = units[position][0]
                individual_rows.append(
                    dict(
                        name=name,
                        unit=unit,
                        document=f"{unit}先进事迹材料.docx",
                        excerpt=excerpt,
                        status=status,
                        note="",
                    )
                )
    individuals = pd.DataFrame(
        individual_rows, columns=["name", "unit", "document", "excerpt", "status", "note"]
    )
    integrity = pd.DataFrame(_sample_findings(units), columns=list(INTEGRITY_COLUMNS))

    breakdown = pd.DataFrame(
        breakdown_rows, columns=["unit", "criterion", "points", "max_points", "evidence"]
    )
    campaign = Campaign(
        title="“衡阳群众”禁毒志愿服务活动",
        office="衡阳县禁毒委员会办公室",
        deadline=DEADLINE,
        generated_at=generated_at,
        cc=("市禁毒办", "县委政法委"),
    )
    return ReportTables(
        units=units_df,
        attachments=attachments,
        breakdown=breakdown,
        review=review,
        individuals=individuals,
        campaign=campaign,
        integrity=integrity,
    )


def _sample_findings(units) -> list[dict]:
    """Two 疑点 of the second unit (a photo the first unit sent too, a 3-second video)."""
    if len(units) < 2:
        return []
    first_unit, second_unit = units[0][0], units[1][0]
    return [
        dict(
            unit=second_unit,
            kind="same_photo_other_unit",
            path=f"materials/{second_unit}/照片/活动1.jpg",
            other_unit=first_unit,
            other_path=f"materials/{first_unit}/照片/IMG_0001.jpg",
            measure=2.0,
            evidence=f"与{first_unit}报送的《IMG_0001.jpg》为同一张照片（哈希差异 2）",
        ),
        dict(
            unit=second_unit,
            kind="short_video",
            path=f"materials/{second_unit}/视频/宣传.mp4",
            other_unit="",
            other_path="",
            measure=3.0,
            evidence="视频时长仅 3 秒，不足 10 秒",
        ),
    ]
