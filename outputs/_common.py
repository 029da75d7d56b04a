"""Helpers shared by the report writers: labels, formatting, atomic writes.

Nothing here computes a figure that scoring owns; these only translate codes and format values.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from contract import CATEGORY_LABELS, MISSING_LABELS, NOTICE_REASON_LABELS

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


_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)
}


def safe_filename_part(value: Any, fallback: str = "未命名", limit: int = 60) -> str:
    """A string usable inside a file name on Windows, macOS and Linux."""
    name = unicodedata.normalize("NFC", text(value))
    name = _UNSAFE_FILENAME.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    name = name[:limit].strip(" .")
    if not name or name.upper() in _WINDOWS_RESERVED:
        return fallback
    return name


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one step.

    Readers (and a crash) only ever see the old file or the complete new one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f"{path.suffix}.tmp", dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        # mkstemp creates 0600; give the report the mode a plain open() would have.
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text_atomic(path: Path, content: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(content, encoding="utf-8", newline="\n")
