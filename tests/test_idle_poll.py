"""An idle poll loads only what it needs (issue 12: the report, Excel, Word, PDF and image
libraries are imported when they are used). Not a timing test: it checks which libraries a
poll that finds nothing has loaded, which is what its cost comes from."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.project import REPO, run_cli, write_config

HEAVY = (
    "pandas",
    "numpy",
    "openpyxl",
    "xlsxwriter",
    "docx",
    "PIL",
    "pypdf",
    "py7zr",
    "rarfile",
    "lxml",
    "rjieba",
    "imagehash",
    "scipy",
    "jinja2",
    "flask",
    "mailparser",
    "rapidfuzz",
    "psutil",
    "tqdm",
    "schedule",
)
_PROBE = """
import json, sys
sys.path.insert(0, {repo!r})
import run_pipeline
code = run_pipeline.main(["--config", {config!r}, "once"])
loaded = sorted({{name.split(".")[0] for name in sys.modules}})
print(json.dumps({{"code": code, "loaded": loaded}}))
"""


def _loaded_by_once(config: Path) -> tuple[int, set[str]]:
    probe = _PROBE.format(repo=str(REPO), config=str(config))
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=config.parent
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    return answer["code"], set(answer["loaded"])


def test_an_idle_poll_loads_no_report_parsing_or_image_library(tmp_path: Path):
    config = write_config(tmp_path)
    for mail in sorted((REPO / "samples" / "inbox").glob("0[1-3]_*.eml")):
        shutil.copy(mail, tmp_path / "inbox")
    assert run_cli(config, "once").returncode == 0  # the first poll takes the mail

    code, loaded = _loaded_by_once(config)

    assert code == 0
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_the_check_sees_a_poll_that_works(tmp_path: Path):
    """The same probe on a poll with new mail does load them: the check can fail."""
    config = write_config(tmp_path)
    shutil.copy(next((REPO / "samples" / "inbox").glob("01_*.eml")), tmp_path / "inbox")

    code, loaded = _loaded_by_once(config)

    assert code == 0
    assert {"pandas", "xlsxwriter", "docx"} <= loaded  # the 台账 is written with XlsxWriter
