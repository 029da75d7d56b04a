"""Helpers shared by the report writers: labels, formatting, writing report files.

Nothing here computes a figure that scoring owns; these only translate codes and format values.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from contract import CATEGORY_LABELS, INTEGRITY_KIND_LABELS, MISSING_LABELS, NOTICE_REASON_LABELS
from portable.atomic import write_atomic

KIND_LABELS = {"file": "文件", "link": "链接"}

# Characters XML 1.0 forbids (docx/xlsx would be unreadable): C0 controls except tab, LF, CR.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

_CN_NUMERALS = "零一二三四五六七八九十"


def is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and pd.NA (scalars only)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str | bytes | list | tuple | dict | set):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def each_distinct(series: pd.Series, func: Callable[[Any], Any]) -> np.ndarray:
    """``func`` of every row's value, called once per distinct value (missing ones as None):
    the files of one mail share its time, unit and sender."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    results = np.empty(len(uniques) + 1, dtype=object)
    for position, value in enumerate(uniques):
        results[position] = func(value)
    results[-1] = func(None)  # code -1: missing
    return results[codes]


def text(value: Any) -> str:
    """A cell value as display text: missing -> "", otherwise ``str``."""
    if is_missing(value):
        return ""
    return str(value)


def xml_safe(value: Any) -> str:
    """Display text with the characters XML cannot hold removed (vertical tab, NUL ...)."""
    return _XML_ILLEGAL.sub("", text(value))


def split_codes(value: Any) -> list[str]:
    """A ';'-joined code list as a list, empty entries dropped."""
    return [part.strip() for part in text(value).split(";") if part.strip()]


def missing_label(value: Any, sep: str = "、") -> str:
    """``photos;video`` -> ``照片、视频``."""
    return sep.join(MISSING_LABELS.get(code, code) for code in split_codes(value))


def reasons_label(value: Any, sep: str = "、") -> str:
    """``late;incomplete`` -> ``逾期报送、材料不全``; unknown project codes pass through."""
    return sep.join(NOTICE_REASON_LABELS.get(code, code) for code in split_codes(value))


def late_label(record: dict[str, Any]) -> str:
    """How late a unit was, one way on every page: ``逾期 2 天（视频）`` (the 台账's 逾期天数 and
    逾期报送的材料 columns in one phrase); "" for a unit on time or that sent nothing."""
    if not record.get("submitted") or record.get("on_time"):
        return ""
    days = record.get("days_late")
    phrase = "逾期" if is_missing(days) or float(days) <= 0 else f"逾期 {format_number(days)} 天"
    what = missing_label(record.get("late_items"))
    return f"{phrase}（{what}）" if what else phrase


# How each finding's ``measure`` reads (integrity.csv keeps the bare number).
_MEASURES = {
    "same_photo_other_unit": "图像差异 {:g}/64",
    "duplicate_photo_same_unit": "图像差异 {:g}/64",
    "reused_photo": "图像差异 {:g}/64",
    "exif_outside_window": "超出活动期 {:g} 天",
    "copied_text": "雷同占 {:.0%}",
    "short_video": "时长 {:g} 秒",
    "unplayable_video": "时长 {:g} 秒",
    "expired_video_link": "已过 {:.0f} 天",
}


def integrity_label(kind: Any) -> str:
    code = text(kind)
    return INTEGRITY_KIND_LABELS.get(code, code)


def measure_label(kind: Any, measure: Any) -> str:
    """A finding's measure for people: ``图像差异 3/64``, ``雷同占 35%``, ``时长 2 秒``."""
    if is_missing(measure):
        return ""
    try:
        number = float(measure)
    except (TypeError, ValueError):
        return text(measure)
    if not math.isfinite(number) or (number <= 0 and text(kind) == "unplayable_video"):
        return ""
    return _MEASURES.get(text(kind), "{:g}").format(number)


def category_label(value: Any) -> str:
    code = text(value)
    return CATEGORY_LABELS.get(code, code)


def yes_no(value: Any) -> str:
    if is_missing(value):
        return ""
    return "是" if bool(value) else "否"


def to_local(value: Any, tz: Any) -> datetime | None:
    """A timestamp converted to the campaign's zone, or None."""
    if is_missing(value):
        return None
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(tz) if stamp.tzinfo is None else stamp.tz_convert(tz)
    return stamp.to_pydatetime()


def format_datetime(value: Any, tz: Any) -> str:
    """'YYYY-MM-DD HH:MM' in the campaign's zone, "" when missing."""
    local = to_local(value, tz)
    return "" if local is None else local.strftime("%Y-%m-%d %H:%M")


def format_number(value: Any, digits: int = 1) -> str:
    """A float without a useless ".0": 92.5 -> "92.5", 80.0 -> "80"."""
    if is_missing(value):
        return ""
    number = float(value)
    if math.isfinite(number) and number == round(number):
        return str(round(number))
    return f"{number:.{digits}f}"


def chinese_ordinal(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 21 -> 二十一 (enough for section headings)."""
    if n <= 10:
        return _CN_NUMERALS[n]
    tens, ones = divmod(n, 10)
    head = "十" if tens == 1 else _CN_NUMERALS[tens] + "十"
    return head + (_CN_NUMERALS[ones] if ones else "")


def display_width(value: str) -> int:
    """Columns a string occupies in a monospaced view: CJK / full-width characters count 2."""
    width = 0
    for char in value:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def write_report(path: Path, write: Callable[[Path], object], when: datetime) -> Path:
    """Write one report file atomically (``write(tmp)`` fills it) and return where it landed.

    When another program holds the old file open (a 台账 open in WPS or Excel on Windows), the
    old file stays and the new one lands beside it, named with ``when``:
    ``报送台账（已更新 12-31 15时30分）.xlsx``; it is moved into place once the file is closed.
    """
    return write_atomic(Path(path), write, divert_at=when)
