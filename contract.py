"""The SPEC's contract as data: category codes and their Chinese names, report columns, codes.

Every layer reads these instead of keeping its own copy (intake names folders with them, parsers
classify into them, scoring counts by them, outputs and outbox print them, the console offers
them). This module imports nothing of the project, so any layer may import it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """One file category: its code in attachments.csv and how people name it."""

    code: str  # attachments.csv ``category``
    label: str  # the folder name under materials/<unit>/ and the name on every report
    noun: str  # how the campaign notice asks for it (活动照片, 视频资料)
    measure: str  # the measure word for a count (张, 份, 个)
    required: str = ""  # its units.csv ``missing`` code; "" when not required
    count_column: str = ""  # its units.csv count column; "" when not counted


CATEGORIES: tuple[Category, ...] = (
    Category("photo", "照片", "活动照片", "张", "photos", "photos"),
    Category("report", "总结报告", "总结报告", "份", "report", "reports"),
    Category("deeds", "事迹材料", "事迹材料", "份", "deeds", "deeds"),
    Category("video", "视频", "视频资料", "个", "video", "videos"),
    Category("other", "其他", "其他文件", "个"),
)
CATEGORY_CODES = tuple(c.code for c in CATEGORIES)
CATEGORY_LABELS = {c.code: c.label for c in CATEGORIES}
BY_CODE = {c.code: c for c in CATEGORIES}

# units.csv ``missing`` codes, in the order the SPEC lists them, and the category each stands for.
REQUIRED = tuple(c.required for c in CATEGORIES if c.required)
REQUIRED_CATEGORY = {c.required: c.code for c in CATEGORIES if c.required}
MISSING_LABELS = {c.required: c.label for c in CATEGORIES if c.required}
MISSING_NOUNS = {c.required: c.noun for c in CATEGORIES if c.required}

# Names staff type or click for a category (CLI corrections, console menus).
_CATEGORY_WORDS = {
    **{c.code: c.code for c in CATEGORIES},
    **{c.label: c.code for c in CATEGORIES},
    **{c.noun: c.code for c in CATEGORIES},
    "报告": "report",
    "事迹": "deeds",
}


def category_code(word: str) -> str | None:
    """The category code for a code or a Chinese name ("事迹材料" → "deeds"); None if unknown."""
    return _CATEGORY_WORDS.get(word.strip())


# units.csv ``notice_reasons``: the SPEC's codes (the project may add its own after them).
NOTICE_REASON_LABELS = {
    "not_submitted": "未报送",
    "late": "逾期报送",
    "incomplete": "材料不全",
    "low_score": "评分偏低",
}
NOTICE_CODES = tuple(NOTICE_REASON_LABELS)

# units.csv columns, in contract order.
UNIT_COLUMNS = (
    "unit",
    "category",
    "submitted",
    "on_time",
    "first_received",
    "last_received",
    "photos",
    "reports",
    "deeds",
    "videos",
    "video_links",
    "complete",
    "missing",
    "score",
    "rank",
    "award",
    "notice",
    "notice_reasons",
)

# attachments.csv columns, in contract order.
ATTACHMENT_COLUMNS = (
    "message_id",
    "uid",
    "received_at",
    "sender",
    "unit",
    "filename",
    "category",
    "size",
    "sha256",
    "path",
)

# integrity.csv columns, in contract order (SPEC "Contract additions (turn 2)").
INTEGRITY_COLUMNS = (
    "unit",
    "kind",
    "path",
    "other_unit",
    "other_path",
    "measure",
    "evidence",
)
INTEGRITY_KIND_LABELS = {
    "same_photo_other_unit": "与其他单位照片相同",
    "reused_photo": "往年照片重复使用",
    "exif_outside_window": "拍摄时间不在活动期内",
    "copied_text": "文字与他处雷同",
    "short_video": "视频过短",
    "unplayable_video": "视频无法播放",
    # The project's own kinds.
    "duplicate_photo_same_unit": "同一照片重复报送",
    "expired_video_link": "视频链接已过期",
}
