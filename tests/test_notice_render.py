"""The 通报 draft as a reader sees it: rendered by LibreOffice to PDF, read back as text."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from outputs.notice import write_notice
from tests.support import files
from tests.support.report_tables import sample_tables

pytestmark = pytest.mark.skipif(
    not files.have_soffice() or shutil.which("pdftotext") is None,
    reason="LibreOffice or pdftotext not installed",
)
# Words of the title that a line break must never split.
TITLE_WORDS = (
    "2020年度",
    "衡阳群众",
    "禁毒",
    "志愿",
    "服务",
    "活动",
    "材料",
    "报送",
    "情况",
    "通报",
)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The text of every page of the notice (one LibreOffice run for all the tests here)."""
    folder = tmp_path_factory.mktemp("render")
    source = folder / "通报.docx"
    write_notice(source, sample_tables(n_units=16))
    profile = (folder / "profile").as_uri()
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(folder), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    text = subprocess.run(
        ["pdftotext", "-layout", str(folder / "通报.pdf"), "-"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    return text.split("\f")


def _squeezed(line: str) -> str:
    return "".join(line.split())


def test_the_title_breaks_between_words_only(pages):
    lines = [_squeezed(line) for line in pages[0].splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.startswith("关于"))
    end = next(i for i, line in enumerate(lines) if line.endswith("的通报"))
    title_lines = lines[start : end + 1]
    assert len(title_lines) == 2
    joined = "".join(title_lines)
    assert joined == "关于2020年度“衡阳群众”禁毒志愿服务活动材料报送情况的通报"
    cut = len(title_lines[0])
    for word in TITLE_WORDS:
        at = joined.find(word)
        assert not at < cut < at + len(word), f"the title breaks inside {word}"


def test_the_attachment_tables_are_on_their_own_pages(pages):
    names = next(i for i, page in enumerate(pages) if "未报送单位名单" in page and "序号" in page)
    assert _squeezed(pages[names].strip().splitlines()[0]) == "附件1"
    rows = [_squeezed(line) for line in pages[names].splitlines()]
    assert any(row.startswith("1金溪镇乡镇") for row in rows)
    deductions = next(
        i
        for i, page in enumerate(pages)
        if "通报单位及绩效考评扣分情况表" in page and "扣分" in page and "序号" in page
    )
    assert deductions > names
    rows = [_squeezed(line) for line in pages[deductions].splitlines()]
    assert any(row.startswith("2金溪镇未报送未报送任何材料2") for row in rows)


def test_the_colophon_closes_the_notice(pages):
    official = [p for p in pages if "内部审核清单" not in p and p.strip()]
    last = [_squeezed(line) for line in official[-1].splitlines() if line.strip()]
    cc = next(i for i, line in enumerate(last) if line.startswith("抄送："))
    assert last[cc] == "抄送：市禁毒办，县委政法委。"
    assert last[cc + 1] == "衡阳县禁毒委员会办公室2021年X月X日印发"
    assert last[cc + 2 :] == [f"—{len(official)}—"]  # only the page number after the 版记
