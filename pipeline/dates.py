"""Dates and times as office staff type them, for the CLI and the console alike.

Accepted: ISO 8601 (``2021-01-05T23:59:59+08:00``, a space instead of ``T`` too), ``2021-01-05``,
``2021/1/5``, ``2021.1.5``, ``2021年1月5日`` (or ``5号``), each with an optional time ``10:30`` or
``10:30:00`` (full-width digits and colons are fine). A time without an offset is in the
campaign's time zone. A date without a time means a whole day: its end (23:59:59) for a deadline,
its start (00:00:00) for a moment something was received, so that a material handed in "on the
31st" is never judged late for want of an hour nobody wrote down.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, time, tzinfo

__all__ = ["DateError", "parse_moment"]


class DateError(ValueError):
    """Text that is no date; the message is one Chinese line with examples."""


_DATE = re.compile(
    r"(?P<y>\d{4})\s*(?:[-/.]\s*(?P<m1>\d{1,2})\s*[-/.]\s*(?P<d1>\d{1,2})"
    r"|年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号]?)"
)
_TIME = re.compile(
    r"(?P<h>\d{1,2})\s*[:时点]\s*(?P<mi>\d{1,2})(?:\s*分)?"
    r"(?:\s*:\s*(?P<s>\d{1,2})|\s*(?P<s2>\d{1,2})\s*秒)?"
)
EXAMPLES = "2021-01-05、2021/1/5、2021年1月5日，可加时刻如 2021-01-05 10:30"


def parse_moment(text: str, tz: tzinfo, *, day_end: bool = True) -> datetime:
    """An aware datetime for ``text``; ``day_end`` chooses what a bare date means."""
    cleaned = unicodedata.normalize("NFKC", str(text)).strip()
    if not cleaned:
        raise DateError(f"时间不能为空，例如 {EXAMPLES}")
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        moment = None
    if moment is not None:
        if len(cleaned) <= 10:  # a bare ISO date: the whole day
            moment = datetime.combine(moment.date(), time(23, 59, 59) if day_end else time())
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)
    return _human(cleaned, text, tz, day_end)


def _human(cleaned: str, text: str, tz: tzinfo, day_end: bool) -> datetime:
    date = _DATE.match(cleaned)
    rest = cleaned[date.end() :].strip() if date else ""
    clock = _TIME.fullmatch(rest.removeprefix("T").strip()) if rest else None
    if date is None or (rest and clock is None):
        raise DateError(f"看不懂时间“{text}”，请写成 {EXAMPLES}")
    month = int(date["m1"] or date["m2"])
    day = int(date["d1"] or date["d2"])
    if clock is None:
        hour, minute, second = (23, 59, 59) if day_end else (0, 0, 0)
    else:
        hour, minute, second = (
            int(clock["h"]),
            int(clock["mi"]),
            int(clock["s"] or clock["s2"] or 0),
        )
    try:
        return datetime(int(date["y"]), month, day, hour, minute, second, tzinfo=tz)
    except ValueError:
        raise DateError(f"日期“{text}”不存在（请检查月、日和时刻）") from None
