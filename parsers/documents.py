"""Plain text and the document's own title from .docx, .doc, .wps, .rtf, .odt, .pdf and .txt.

Libraries and tools, and why:
- ``lxml`` reads a .docx's ``word/document.xml``: body paragraphs and tables in document order,
  merged table cells once, the same text python-docx gives (tests/test_fast_paths.py checks it)
  at a tenth of the cost, since python-docx builds every part of the package.
- LibreOffice (``soffice --headless --convert-to docx``) converts .doc, Kingsoft .wps (an OLE
  Word file), .rtf, .odt and HTML saved as .doc into .docx, which then goes through the same
  reader, so titles and tables come out the same way. Every run gets its own temporary profile
  (``-env:UserInstallation``); on timeout LibreOffice and everything it started are killed
  (``portable.processes``, the same on Windows), so parallel or hung conversions cannot clash
  or linger. Where LibreOffice is installed comes from ``parsers.tools`` (config, PATH, or
  Program Files on Windows).
- ``antiword``, then ``catdoc``: the fallback for .doc/.wps when LibreOffice is not installed.
- ``pypdf`` extracts a PDF's text layer page by page; a PDF with no text on any page (a scan)
  has ``has_text_layer`` False.

Bombs: a .docx or .odt is a ZIP whose document part is read whole into memory, so the
central directory is checked first (``package_problem``: the sizes and compression ratio of
every member, as declared there; zipfile never inflates a member past its declared size).
lxml parses it with entity expansion and the network off, and its defaults keep tree depth and
text nodes bounded. A PDF's page tree and object count are checked before pypdf
builds its page list (``filetypes.pdf_limits_problem``), and pypdf caps each stream's inflation.

The title is the document's first non-empty paragraphs (up to 3 lines / 120 characters), never
the metadata title, which is often a stale template's. Nothing here raises for bad input: a
damaged, encrypted or unconvertible file gives a ``problem`` text in Chinese for office staff.
"""

from __future__ import annotations

import codecs
import os
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from parsers.filetypes import pdf_limits_problem
from parsers.tools import ToolPaths, find_tools
from portable.processes import run_bounded

MAX_TEXT_CHARS = 500_000
# Office packages (.docx/.odt): what may be loaded into memory.
MAX_PACKAGE_MEMBERS = 5000
MAX_PACKAGE_BYTES = 512 * 1024**2  # every member together, pictures included
MAX_XML_PART_BYTES = 64 * 1024**2  # one XML part, parsed whole
MAX_MEMBER_RATIO = 200  # expanded / compressed, for members over RATIO_FLOOR_BYTES
RATIO_FLOOR_BYTES = 1024**2
_BOMB = "文档内部数据解压后体积异常膨胀（疑似压缩炸弹），未读取，请人工核对"
TITLE_MAX_LINES = 3
TITLE_MAX_CHARS = 120
_OFFICE_SUBTYPES = {"doc", "wps", "rtf", "odt"}


@dataclass(frozen=True)
class DocumentText:
    title: str  # the first non-empty paragraphs (up to 3 lines / 120 chars), joined by " "
    text: str  # full plain text, paragraphs and table cells, newline-separated, capped
    has_text_layer: bool  # False when no text could be extracted (a scanned PDF)
    problem: str = ""  # Chinese reason when unreadable/corrupt/conversion failed/timed out


def read_document(
    path: Path, subtype: str, timeout_s: float = 60, tools: ToolPaths | None = None
) -> DocumentText:
    """Text and title of the document at ``path``; ``subtype`` as ``filetypes.sniff`` gives it.
    ``tools``: where the converters are (default: looked up now)."""
    try:
        if subtype == "docx":
            return _read_docx(path)
        if subtype in _OFFICE_SUBTYPES:
            return _read_via_office(path, subtype, timeout_s, tools or find_tools())
        if subtype == "pdf":
            return _read_pdf(path, timeout_s)
        if subtype == "txt":
            return _read_txt(path)
    except Exception as exc:  # a last guard: parsers of hostile files raise anything
        return _failed(f"文档无法读取，可能已损坏（{_short(exc)}）")
    return _failed("不支持的文档类型，无法提取文字")


def title_of(lines: list[str]) -> str:
    """The first non-empty lines, up to TITLE_MAX_LINES lines and TITLE_MAX_CHARS characters."""
    picked: list[str] = []
    length = 0
    for line in lines:
        line = " ".join(line.split())
        if not line:
            continue
        if picked and length + 1 + len(line) > TITLE_MAX_CHARS:
            break
        picked.append(line)
        length += len(line) + (1 if len(picked) > 1 else 0)
        if len(picked) >= TITLE_MAX_LINES or length >= TITLE_MAX_CHARS:
            break
    return " ".join(picked)[:TITLE_MAX_CHARS]


def _failed(problem: str) -> DocumentText:
    return DocumentText("", "", False, problem)


def _result(paragraphs: list[str], lines: list[str], problem: str = "") -> DocumentText:
    text = "\n".join(line for line in lines if line.strip())[:MAX_TEXT_CHARS]
    title = title_of(paragraphs) or title_of(lines)
    return DocumentText(title, text, bool(text.strip()), problem)


# ---- .docx ---------------------------------------------------------------------------------


def package_problem(path: Path) -> str:
    """Why an office package (.docx/.odt, a ZIP) must not be opened; "" when it may.

    Reads only the central directory: nothing is inflated here."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return ""  # not a readable ZIP: the reader itself reports the damage
    if len(members) > MAX_PACKAGE_MEMBERS:
        return f"文档内部文件数量异常（{len(members)} 个），未读取，请人工核对"
    total = 0
    for member in members:
        total += member.file_size
        big = member.file_size > RATIO_FLOOR_BYTES
        if big and member.file_size > MAX_MEMBER_RATIO * max(member.compress_size, 1):
            return _BOMB
        is_xml = member.filename.lower().endswith((".xml", ".rels"))
        if is_xml and member.file_size > MAX_XML_PART_BYTES:
            return _BOMB
    if total > MAX_PACKAGE_BYTES:
        return _BOMB
    return ""


def _read_docx(path: Path) -> DocumentText:
    """Paragraphs and table cells of the body, in reading order.

    Read from ``word/document.xml`` with lxml rather than by opening the package with
    python-docx (which builds every part; 5 ms against 0.5 ms a report): the text is what
    python-docx's ``Paragraph.text`` gives (runs and hyperlinks; tabs and breaks as such), each
    table cell once however many grid columns or rows it spans. The package's size and ratio
    were checked before (``package_problem``); the XML parser resolves no entities and never
    reads the network.
    """
    problem = package_problem(path)
    if problem:
        return _failed(problem)
    try:
        with zipfile.ZipFile(path) as package:
            body = _docx_body(package)
    except Exception as exc:  # BadZipFile, KeyError (no document part), XMLSyntaxError
        return _failed(f"Word 文档已损坏或不完整，无法读取（{_short(exc)}）")
    paragraphs: list[str] = []  # body paragraphs only: where the title is looked for
    lines: list[str] = []
    size = 0
    for block in body:
        if block.tag == _W_P:
            new = [_paragraph_text(block)]
            paragraphs.append(new[0])
        elif block.tag == _W_TBL:
            new = _table_lines(block)
        else:
            continue
        lines.extend(new)
        size += sum(len(line) + 1 for line in new)
        if size > MAX_TEXT_CHARS:
            break
    return _result(paragraphs, lines)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W_P, _W_TBL, _W_TC, _W_R, _W_T = f"{_W}p", f"{_W}tbl", f"{_W}tc", f"{_W}r", f"{_W}t"
_W_HYPERLINK = f"{_W}hyperlink"
_RUN_MARKS = {f"{_W}tab": "\t", f"{_W}ptab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n",
              f"{_W}noBreakHyphen": "-"}  # fmt: skip


def _docx_body(package: zipfile.ZipFile):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    root = etree.fromstring(package.read("word/document.xml"), parser)
    body = root.find(f"{_W}body")
    if body is None:
        raise KeyError("w:body")
    return body


def _paragraph_text(paragraph) -> str:
    parts = []
    for child in paragraph:
        runs = (child,) if child.tag == _W_R else child.iterchildren(_W_R)
        if child.tag not in (_W_R, _W_HYPERLINK):
            continue
        for run in runs:
            for piece in run:
                if piece.tag == _W_T:
                    parts.append(piece.text or "")
                elif piece.tag in _RUN_MARKS:
                    parts.append(_RUN_MARKS[piece.tag])
    return "".join(parts)


def _table_lines(table) -> list[str]:
    """Every cell once (a merged cell is one w:tc; a vertically merged continuation is empty),
    its paragraphs and nested tables in order."""
    lines: list[str] = []
    for cell in table.iter(_W_TC):
        if cell.getparent().getparent() is not table:  # a nested table's cell: its own turn
            continue
        for block in cell:
            if block.tag == _W_P:
                lines.append(_paragraph_text(block))
            elif block.tag == _W_TBL:
                lines.extend(_table_lines(block))
    return lines


# ---- .doc / .wps / .rtf / .odt ---------------------------------------------------------------


def _read_via_office(path: Path, subtype: str, timeout_s: float, tools: ToolPaths) -> DocumentText:
    problem = package_problem(path) if subtype == "odt" else ""
    if problem:  # LibreOffice would inflate it just the same
        return _failed(problem)
    binary = tools.soffice
    if binary is None:
        return _read_with_fallback_tools(path, subtype, timeout_s, tools)
    with tempfile.TemporaryDirectory(prefix="intake-soffice-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        source = work / f"input.{subtype}"
        shutil.copyfile(path, source)  # LibreOffice never touches the stored original
        outdir = work / "out"
        command = [
            binary,
            "--headless",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nofirststartwizard",
            "--nolockcheck",
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
        ]
        if _looks_like_html(source):
            # HTML opens in Writer/Web, which has no .docx export; force the Writer import.
            command.append("--infilter=HTML (StarWriter)")
        command += ["--convert-to", "docx", "--outdir", str(outdir), str(source)]
        # Leftovers stay in work (TMP/TEMP on Windows); the OSL pipe, which LibreOffice puts in
        # /tmp whatever TMPDIR says, is removed by run_bounded when the run is killed.
        env = {**os.environ, "HOME": str(work), "TMPDIR": str(work), "TMP": str(work)}
        env["TEMP"] = str(work)
        outcome = run_bounded(command, timeout_s, env=env)
        if outcome == "timeout":
            return _failed(f"文档转换超时（超过 {timeout_s:g} 秒），请人工查看")
        converted = outdir / "input.docx"
        if not converted.is_file() or converted.stat().st_size == 0:
            return _failed("文档无法转换（可能已损坏或格式不受支持），请人工查看")
        result = _read_docx(converted)
    if result.problem:
        return _failed("文档转换结果无法读取，请人工查看")
    return result


def _read_with_fallback_tools(
    path: Path, subtype: str, timeout_s: float, tools: ToolPaths
) -> DocumentText:
    missing = _failed(f"未安装 LibreOffice，.{subtype} 需人工查看")
    if subtype not in ("doc", "wps"):
        return missing
    commands = []
    if tools.antiword:
        commands.append([tools.antiword, "-w", "0", "-m", "UTF-8.txt", str(path)])
    if tools.catdoc:
        commands.append([tools.catdoc, "-d", "utf-8", "-w", str(path)])
    if not commands:
        return missing
    timed_out = False
    for command in commands:
        with tempfile.TemporaryFile() as out:
            outcome = run_bounded(command, timeout_s, stdout=out)
            if outcome == "timeout":
                timed_out = True
                continue
            out.seek(0)
            raw = out.read(MAX_TEXT_CHARS * 4)
        text = raw.decode("utf-8", "replace")
        if outcome == "ok" and text.strip():
            lines = text.splitlines()
            return _result(lines, lines)
    if timed_out:
        return _failed(f"文档读取超时（超过 {timeout_s:g} 秒），请人工查看")
    return _failed("Word 文档无法读取，可能已损坏")


def _looks_like_html(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(1024).lstrip(codecs.BOM_UTF8).lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml")) and b"html" in head


# ---- .pdf ----------------------------------------------------------------------------------


def _read_pdf(path: Path, timeout_s: float) -> DocumentText:
    from pypdf import PdfReader  # only for PDFs

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return _failed("PDF 已加密（需要密码），无法读取")
        limits = pdf_limits_problem(reader)
        if limits:
            return _failed(limits)
        pages = list(reader.pages)
    except Exception as exc:  # pypdf raises many unrelated types on damaged files
        return _failed(f"PDF 已损坏，无法读取（{_short(exc)}）")
    started = time.monotonic()
    chunks: list[str] = []
    size = 0
    problem = ""
    unreadable = 0
    for page in pages:
        if time.monotonic() - started > timeout_s:
            problem = f"PDF 文字提取超时（超过 {timeout_s:g} 秒），只提取了部分内容"
            break
        try:
            text = page.extract_text() or ""
        except Exception:  # one bad page must not lose the others
            unreadable += 1
            continue
        chunks.append(text)
        size += len(text)
        if size > MAX_TEXT_CHARS:
            break
    if unreadable and not problem:
        problem = f"PDF 有 {unreadable} 页无法提取文字，可能已损坏"
    lines = "\n".join(chunks).splitlines()
    return _result(lines, lines, problem)


# ---- .txt ----------------------------------------------------------------------------------


def _read_txt(path: Path) -> DocumentText:
    with path.open("rb") as fh:
        raw = fh.read(MAX_TEXT_CHARS * 4)
    text = _decode_text(raw)
    lines = text.splitlines()
    return _result(lines, lines)


def _decode_text(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8", "replace")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", "replace")
    for encoding in ("utf-8", "gb18030"):
        try:
            return codecs.getincrementaldecoder(encoding)().decode(raw, final=False)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def _short(exc: BaseException) -> str:
    return (str(exc).strip() or type(exc).__name__)[:120]
