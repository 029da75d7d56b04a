"""When `watch` sends reminders and the digest: configured days, once a day, once per interval."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipeline.config import load_config
from pipeline.jobs import _daily, worker
from tests.support.project import write_config
from tests.support.smtp import SmtpServer

CST = timezone(timedelta(hours=8))


def test_reminders_and_digest_follow_the_schedule(tmp_path):
    with SmtpServer() as smtp:
        path = write_config(
            tmp_path,
            campaign={"deadline": "2020-12-31T23:59:59+08:00", "office_addresses": ["o@qq.com"]},
            smtp=smtp.config(),
            notify={
                "dry_run": False,
                "reminders": {"days_before": [7, 3], "interval_days": 2, "hour": 9},
                "digest": {"enabled": True, "to": ["boss@qq.com"], "hour": 8},
            },
        )
        config = load_config(path)
        with worker(config) as (ledger, registry):
            registered = sum(1 for unit in registry.units if unit.emails)

            def run(day: int, hour: int) -> list[str]:
                return _daily(ledger, registry, config, datetime(2020, 12, day, hour, tzinfo=CST))

            def count(kind: str) -> int:
                return len(ledger.sent_times(kind))

            assert run(24, 7) == []  # before both hours
            said = run(24, 8)
            assert count("digest") == 1 and count("reminder") == 0
            assert any("每日汇总" in line for line in said)
            run(24, 9)  # 7 days left: every registered unit (none has submitted)
            assert count("reminder") == registered
            run(24, 15)  # same day: nothing more
            assert count("reminder") == registered and count("digest") == 1
            run(25, 10)  # 6 days left: not a reminder day; a new digest
            assert count("reminder") == registered and count("digest") == 2
            run(28, 9)  # 3 days left, interval passed
            assert count("reminder") == 2 * registered
        digests = [m for rcpt, m in smtp.sink.messages() if rcpt == ["boss@qq.com"]]
        assert len(digests) == 3
        assert digests[0]["Auto-Submitted"] == "auto-generated"
