"""Fast paths give the same results as the slow ones (issue 12: every shortcut is checked
against the plain way on the same input)."""

from __future__ import annotations

import shutil
from pathlib import Path

from intake.ledger import Ledger
from parsers.tools import find_tools
from pipeline.media import refresh_stored
from tests.support.project import REPO, run_cli, write_config


def test_photos_measured_during_the_poll_equal_those_measured_at_report_time(tmp_path: Path):
    """GIVEN the sample inbox WHEN `once` measures photos and videos while it polls THEN the
    facts it kept are exactly what measuring every stored file afterwards gives."""
    config = write_config(tmp_path)
    for mail in (REPO / "samples" / "inbox").glob("*.eml"):
        shutil.copy(mail, tmp_path / "inbox")
    assert run_cli(config, "once").returncode == 0
    data = tmp_path / "data"
    with Ledger(data / "ledger.sqlite3") as ledger:
        during_poll = ledger.media_facts()
        assert len(during_poll) >= len({sha for sha, _, _ in ledger.stored_media()}) > 5
        with ledger.transaction():
            ledger._db.execute("DELETE FROM media")
        refresh_stored(ledger, data, find_tools())
        assert ledger.media_facts() == during_poll
