"""Dates as staff type them: one parser for the CLI and the console."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipeline.dates import DateError, parse_moment
from tests.support.chinese import assert_chinese
from tests.support.project import run_cli, write_config

CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("text", "day_end", "expected"),
    [
        ("2021-01-05", True, datetime(2021, 1, 5, 23, 59, 59, tzinfo=CST)),
        ("2021/1/5", True, datetime(2021, 1, 5, 23, 59, 59, tzinfo=CST)),
        ("2021.1.5", True, datetime(2021, 1, 5, 23, 59, 59, tzinfo=CST)),
        ("2021年1月5日", True, datetime(2021, 1, 5, 23, 59, 59, tzinfo=CST)),
        ("2021年1月5号", True, datetime(2021, 1, 5, 23, 59, 59, tzinfo=CST)),
        ("２０２１年１月５日", True, datetime(2021, 1, 5, 23, 59, 59, tzinfo=CST)),
        ("2021-01-05", False, datetime(2021, 1, 5, 0, 0, 0, tzinfo=CST)),
        ("2021年1月5日", False, datetime(2021, 1, 5, 0, 0, 0, tzinfo=CST)),
        ("2021/1/5 10:30", True, datetime(2021, 1, 5, 10, 30, tzinfo=CST)),
        ("2021/1/5 10:30", False, datetime(2021, 1, 5, 10, 30, tzinfo=CST)),
        ("2021年1月5日 17:00:30", True, datetime(2021, 1, 5, 17, 0, 30, tzinfo=CST)),
        ("2021年1月5日17：00", True, datetime(2021, 1, 5, 17, 0, tzinfo=CST)),
        ("2021年1月5日 9点30分", True, datetime(2021, 1, 5, 9, 30, tzinfo=CST)),
        ("2021-01-05 10:30", True, datetime(2021, 1, 5, 10, 30, tzinfo=CST)),
        ("2021-01-05T10:30:00", True, datetime(2021, 1, 5, 10, 30, tzinfo=CST)),
        ("2021-01-05T10:30:00+00:00", True, datetime(2021, 1, 5, 18, 30, tzinfo=CST)),
        (" 2021-01-05T23:59:59+08:00 ", True, datetime(2021, 1, 5, 23, 59, 59, tzinfo=CST)),
    ],
)
def test_dates_people_type(text, day_end, expected):
    got = parse_moment(text, CST, day_end=day_end)
    assert got == expected and got.tzinfo is not None


def test_a_time_without_offset_is_in_the_campaign_zone():
    utc = parse_moment("2021/1/5 10:30", UTC)
    assert utc.utcoffset() == timedelta(0) and utc.hour == 10


@pytest.mark.parametrize(
    "text", ["", "明天", "2021-13-01", "2021年2月30日", "2021/1/5 25:00", "1/5", "2021-01-05 abc"]
)
def test_anything_else_is_a_chinese_error(text):
    with pytest.raises(DateError) as caught:
        parse_moment(text, CST)
    assert_chinese(str(caught.value), allowed=(text,))


def test_extend_and_import_take_dates_as_typed(tmp_path):
    """GIVEN a project WHEN staff extend with 2021年1月5日 and import with 2020/12/30
    THEN the deadline is the end of that day and the receive time the start of its day."""
    path = write_config(tmp_path)
    result = run_cli(path, "extend", "西渡镇", "2021年1月5日", "--reason", "领导同意")
    assert result.returncode == 0, result.stderr
    assert "2021-01-05T23:59:59+08:00" in result.stdout
    photo = tmp_path / "照片.jpg"
    from tests.support import files

    photo.write_bytes(files.jpeg(320, 240, seed=3))
    result = run_cli(path, "import", "金兰镇", str(photo), "--received", "2020/12/30")
    assert result.returncode == 0, result.stderr
    from intake.ledger import Ledger

    with Ledger(tmp_path / "data" / "ledger.sqlite3") as ledger:
        received = ledger.frame("messages")["received_at"].tolist()
    assert received == ["2020-12-30T00:00:00+08:00"]
    bad = run_cli(path, "extend", "西渡镇", "下周一")
    assert bad.returncode == 2 and "看不懂时间" in bad.stderr
    assert_chinese(bad.stderr, allowed=("下周一",))
