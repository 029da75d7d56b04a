"""Fast paths give the same results as the slow ones (issue 12: every shortcut is checked
against the plain way on the same input)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
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


_PROBE = """
import json, sys
sys.path.insert(0, {repo!r})
import run_pipeline
code = run_pipeline.main(["--config", {config!r}, "report"])
print(json.dumps({{"code": code, "rjieba": "rjieba" in sys.modules}}))
"""


def _report_loads_the_segmenter(config: Path) -> bool:
    probe = _PROBE.format(repo=str(REPO), config=str(config))
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=config.parent
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["code"] == 0
    return answer["rjieba"]


def _title_paragraph(notice: Path) -> str:
    import docx

    return next(p for p in docx.Document(str(notice)).paragraphs if "通报" in p.text).text


def test_the_notice_title_is_broken_once_per_title(tmp_path: Path):
    """The word segmenter (33 MB) breaks a title once; later rebuilds reuse the breaks, and
    the notice shows the same title lines as when they were decided."""
    config = write_config(tmp_path)
    notice = tmp_path / "data" / "reports" / "通报草稿.docx"

    assert _report_loads_the_segmenter(config)
    first = _title_paragraph(notice)
    assert not _report_loads_the_segmenter(config)
    assert _title_paragraph(notice) == first and "\n" in first
