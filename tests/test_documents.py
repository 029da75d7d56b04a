"""parsers.documents: text and the document's own title from real .docx/.doc/.wps/.pdf files."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from docx import Document
from PIL import Image
from pypdf import PdfWriter

from parsers.documents import DocumentText, read_document, title_of
from parsers.tools import ToolPaths, find_tools

IN_CI = os.environ.get("CI") == "true"
TITLE = "西渡镇2020年禁毒志愿服务工作总结"


def require(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        message = f"{tool} is not installed"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def report_docx(path: Path) -> Path:
    """A report whose metadata title is a stale template's, with a leading empty paragraph,
    a table with a merged cell, and body text after the table."""
    document = Document()
    document.core_properties.title = "模板标题（旧）"
    document.add_paragraph("")
    document.add_paragraph(TITLE)
    document.add_paragraph("衡阳县西渡镇人民政府")
    document.add_paragraph("今年以来，我镇认真组织开展禁毒志愿服务活动。")
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "活动项目"
    table.cell(0, 2).text = "次数"
    table.cell(1, 0).text = "宣传"
    table.cell(1, 1).text = "走访"
    table.cell(1, 2).text = "12"
    document.add_paragraph("下一步工作打算。")
    document.save(path)
    return path


def convert(source: Path, target_format: str, outdir: Path) -> Path:
    soffice = require("soffice")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                *(soffice, "--headless", "--norestore"),
                f"-env:UserInstallation={Path(profile).as_uri()}",
                *("--convert-to", target_format, "--outdir", str(outdir), str(source)),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    return outdir / f"{source.stem}.{target_format}"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """.docx by python-docx; .doc and a text PDF from it by LibreOffice."""
    work = tmp_path_factory.mktemp("docs")
    docx_path = report_docx(work / "report.docx")
    return {
        "docx": docx_path,
        "doc": convert(docx_path, "doc", work),
        "pdf": convert(docx_path, "pdf", work),
    }


# ---- .docx ------------------------------------------------------------------------------


def test_docx_title_text_and_tables_in_order(made: dict[str, Path]) -> None:
    result = read_document(made["docx"], "docx")
    assert result.problem == ""
    assert result.has_text_layer
    # The first non-empty paragraphs, not the metadata title.
    assert (
        result.title == f"{TITLE} 衡阳县西渡镇人民政府 今年以来，我镇认真组织开展禁毒志愿服务活动。"
    )
    assert "模板标题" not in result.title
    assert result.text.split("\n") == [
        TITLE,
        "衡阳县西渡镇人民政府",
        "今年以来，我镇认真组织开展禁毒志愿服务活动。",
        "活动项目",  # the merged cell once
        "次数",
        "宣传",
        "走访",
        "12",
        "下一步工作打算。",
    ]


def test_title_is_capped_at_three_lines_and_120_chars() -> None:
    assert title_of(["", "  一  ", "二", "三", "四"]) == "一 二 三"
    assert title_of(["甲" * 200]) == "甲" * 120
    assert title_of(["甲" * 100, "乙" * 30]) == "甲" * 100  # the next line would not fit


def test_corrupt_docx_gives_a_problem_not_an_exception(tmp_path: Path, made: dict) -> None:
    data = made["docx"].read_bytes()
    cut = tmp_path / "cut.docx"
    cut.write_bytes(data[: len(data) // 2])
    result = read_document(cut, "docx")
    assert result.problem != ""
    assert (result.title, result.text, result.has_text_layer) == ("", "", False)
    garbage = tmp_path / "garbage.docx"
    garbage.write_bytes(os.urandom(3000))
    assert read_document(garbage, "docx").problem != ""
    assert read_document(tmp_path / "missing.docx", "docx").problem != ""


def test_docx_with_only_a_picture_has_no_text(tmp_path: Path) -> None:
    picture = tmp_path / "p.png"
    Image.new("RGB", (50, 50), "red").save(picture)
    document = Document()
    document.add_picture(str(picture))
    path = tmp_path / "pic.docx"
    document.save(path)
    result = read_document(path, "docx")
    assert (result.title, result.has_text_layer, result.problem) == ("", False, "")


# ---- .doc / .wps / .rtf / HTML, through LibreOffice -------------------------------------


def test_doc_via_libreoffice(made: dict[str, Path]) -> None:
    started = time.monotonic()
    result = read_document(made["doc"], "doc")
    elapsed = time.monotonic() - started
    assert result.problem == ""
    assert result.title.startswith(TITLE)
    assert "走访" in result.text and "下一步工作打算。" in result.text
    assert elapsed < 60


def test_wps_is_read_like_doc(tmp_path: Path, made: dict[str, Path]) -> None:
    wps = tmp_path / "总结.wps"
    shutil.copyfile(made["doc"], wps)
    result = read_document(wps, "wps")
    assert result.problem == ""
    assert result.title.startswith(TITLE)


def test_html_saved_as_doc_and_rtf(tmp_path: Path) -> None:
    require("soffice")
    html = tmp_path / "网页.doc"
    html.write_text(f"<html><body><h1>{TITLE}</h1><p>正文内容</p></body></html>", "utf-8")
    result = read_document(html, "doc")
    assert (result.problem, result.title) == ("", f"{TITLE} 正文内容")
    rtf = tmp_path / "a.rtf"
    rtf.write_text(r"{\rtf1\ansi\ansicpg936 {\b Summary of work}\par Second line\par}", "ascii")
    result = read_document(rtf, "rtf")
    assert result.problem == ""
    assert result.title == "Summary of work Second line"


def test_broken_doc_gives_a_problem(tmp_path: Path, made: dict[str, Path]) -> None:
    require("soffice")
    broken = tmp_path / "broken.doc"
    broken.write_bytes(made["doc"].read_bytes()[:1500])
    result = read_document(broken, "doc")
    assert result.problem != ""
    assert result.text == ""


def test_timeout_kills_the_whole_conversion(
    tmp_path: Path, made: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    require("soffice")
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))  # where the profile goes
    started = time.monotonic()
    result = read_document(made["doc"], "doc", timeout_s=0.2)
    assert time.monotonic() - started < 15
    assert "超时" in result.problem
    assert result.text == ""
    assert list(private_tmp.iterdir()) == []  # profile and copies removed
    time.sleep(0.2)
    assert _processes_mentioning(str(private_tmp)) == []


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(int(entry.name))
    return found


def test_parallel_conversions_do_not_clash(tmp_path: Path, made: dict[str, Path]) -> None:
    require("soffice")
    copies = []
    for index in range(3):
        copy = tmp_path / f"{index}.doc"
        shutil.copyfile(made["doc"], copy)
        copies.append(copy)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda p: read_document(p, "doc"), copies))
    assert [r.problem for r in results] == ["", "", ""]
    assert all(r.title.startswith(TITLE) for r in results)


def test_fallback_tools_without_libreoffice(made: dict[str, Path]) -> None:
    if not (shutil.which("antiword") or shutil.which("catdoc")):
        require("catdoc")
    tools = replace(find_tools(), soffice=None)
    result = read_document(made["doc"], "doc", tools=tools)
    assert result.problem == ""
    assert TITLE in result.text
    assert result.title.startswith(TITLE)
    # only Word files have a fallback; the reason says what to install
    assert (
        read_document(made["doc"], "rtf", tools=tools).problem
        == "未安装 LibreOffice，.rtf 需人工查看"
    )


def test_without_any_converter_the_reason_names_libreoffice(made: dict[str, Path]) -> None:
    """GIVEN a PC without LibreOffice, antiword or catdoc (a fresh Windows PC)
    WHEN a .doc report is read THEN the problem says what to install, never a silent empty."""
    result = read_document(made["doc"], "doc", tools=ToolPaths())
    assert result.problem == "未安装 LibreOffice，.doc 需人工查看"
    assert result.text == ""


# ---- .pdf -------------------------------------------------------------------------------


def test_pdf_with_text_layer(made: dict[str, Path]) -> None:
    result = read_document(made["pdf"], "pdf")
    assert result.problem == ""
    assert result.has_text_layer
    assert result.title.replace(" ", "").startswith(TITLE)
    assert "下一步工作打算" in result.text.replace(" ", "")


def test_scanned_pdf_has_no_text_layer(tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    pages = [Image.new("RGB", (600, 800), "white") for _ in range(2)]
    pages[0].save(scan, "PDF", save_all=True, append_images=pages[1:])
    result = read_document(scan, "pdf")
    assert result == DocumentText("", "", False, "")


def test_encrypted_and_broken_pdf(tmp_path: Path, made: dict[str, Path]) -> None:
    writer = PdfWriter(clone_from=made["pdf"])
    writer.encrypt(user_password="SECRET", owner_password="OWNER")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as fh:
        writer.write(fh)
    assert "加密" in read_document(locked, "pdf").problem

    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"%PDF-1.4\n" + os.urandom(2000))
    result = read_document(garbage, "pdf")
    assert result.problem != "" or not result.has_text_layer


def test_pdf_restricted_by_owner_password_only_is_readable(
    tmp_path: Path, made: dict[str, Path]
) -> None:
    writer = PdfWriter(clone_from=made["pdf"])
    writer.encrypt(user_password="", owner_password="OWNER")
    out = io.BytesIO()
    writer.write(out)
    path = tmp_path / "restricted.pdf"
    path.write_bytes(out.getvalue())
    result = read_document(path, "pdf")
    assert result.problem == ""
    assert result.has_text_layer


# ---- .txt and others --------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gbk", "utf-8", "utf-8-sig", "utf-16"])
def test_txt_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(f"\n{TITLE}\n内容\n".encode(encoding))
    result = read_document(path, "txt")
    assert result.title == f"{TITLE} 内容"
    assert result.text == f"{TITLE}\n内容"


def test_unsupported_subtype(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"x")
    result = read_document(path, "xlsx")
    assert result.problem != ""
    assert not result.has_text_layer
