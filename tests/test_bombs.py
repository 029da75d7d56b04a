"""Memory and time bombs inside documents and pictures (issue 8, 7c).

Every bomb is a real file of a few KB or MB built by ``tests.support.files`` that expands
enormously when decoded. The product must refuse to expand it, give the file a review reason,
and go on with the rest of the message.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from parsers.documents import read_document
from parsers.filetypes import sniff
from parsers.mail import parse_mail
from parsers.sort import SortRules, sort_mail
from parsers.units import Registry, Unit
from pipeline.config import DEFAULT_KEYWORDS, DEFAULT_LINK_HOSTS
from tests.support import files
from tests.support.mails import Att, Mail
from tests.support.project import REPO

RULES = SortRules(
    keywords={k: tuple(v) for k, v in DEFAULT_KEYWORDS.items()},
    inline_min_bytes=30 * 1024,
    inline_min_px=300,
    link_hosts=tuple(DEFAULT_LINK_HOSTS),
    circular_min_units=4,
    office_addresses=frozenset(),
)
REGISTRY = Registry((Unit("西渡镇", "乡镇", (), ("xidu@qq.com",)),))


@pytest.fixture(scope="module")
def docx_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bombs") / "总结报告.docx"
    path.write_bytes(files.docx_bomb())
    assert path.stat().st_size < 2 * files.MiB
    return path


def test_docx_bomb_is_refused_before_inflating(docx_bomb: Path):
    """GIVEN a 1 MB .docx whose document.xml inflates to 1 GiB WHEN read THEN it is refused
    from the central directory alone, with a reason for staff."""
    assert sniff(docx_bomb, docx_bomb.name).subtype == "docx"
    document = read_document(docx_bomb, "docx")
    assert "压缩炸弹" in document.problem
    assert document.text == "" and not document.has_text_layer


def test_docx_bomb_keeps_memory_small(docx_bomb: Path):
    """Peak RSS of reading the bomb in a fresh process stays far below the 1 GiB it holds.

    The peak is VmHWM from /proc (tests run on Linux): getrusage's ru_maxrss would include the
    memory of the pytest process it was forked from, which Linux carries across exec."""
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(REPO)!r})
        from parsers.documents import read_document
        result = read_document(Path({str(docx_bomb)!r}), "docx")
        status = Path("/proc/self/status").read_text()
        print(status.split("VmHWM:")[1].split()[0], result.problem != "")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    peak_kib, refused = out.stdout.split()
    assert refused == "True"
    assert int(peak_kib) < 300 * 1024, f"peak RSS {int(peak_kib) // 1024} MiB"


def test_odt_bomb_is_refused_before_libreoffice(tmp_path: Path):
    path = tmp_path / "事迹.odt"
    path.write_bytes(files.docx_bomb(256 * files.MiB))
    assert "压缩炸弹" in read_document(path, "odt").problem


def test_pdf_page_bomb_is_refused(tmp_path: Path):
    """GIVEN a 2 KB PDF whose page tree shares nodes into 8,000 pages WHEN sniffed and read THEN
    both stop at the page cap with a reason (pypdf would build every page)."""
    path = tmp_path / "总结.pdf"
    path.write_bytes(files.pdf_page_bomb(fanout=20, depth=3))
    assert path.stat().st_size < 4 * files.KiB
    assert "页数超过安全上限" in sniff(path, path.name).corrupt
    assert "页数超过安全上限" in read_document(path, "pdf").problem


def test_pdf_declaring_too_many_objects_is_refused(tmp_path: Path):
    path = tmp_path / "a.pdf"
    data = files.pdf_page_bomb(fanout=1, depth=1)
    path.write_bytes(data.replace(b"/Size 4 ", b"/Size 900000 "))
    assert "对象数量超过安全上限" in read_document(path, "pdf").problem


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("huge.png", lambda: files.png_bomb(10_000, 10_000)),  # 100 Mpx: over Pillow's limit
        ("huger.png", lambda: files.png_bomb(20_000, 20_000)),  # 400 Mpx: Pillow refuses
        ("rle.bmp", lambda: files.bmp_rle_bomb(16_000, 11_000)),  # 176 Mpx from 1 KB
        ("claims.jpg", lambda: files.jpeg_with_size(60_000, 60_000)),
    ],
)
def test_picture_bombs_are_not_decoded(tmp_path: Path, name: str, build):
    path = tmp_path / name
    path.write_bytes(build())
    found = sniff(path, name)
    assert found.kind == "image"
    assert "像素数超过安全上限" in found.corrupt


def test_a_large_real_photo_is_still_a_photo(tmp_path: Path):
    """A JPEG is decoded at 1/8 scale, so a 108-megapixel phone photo stays below its limit."""
    path = tmp_path / "big.jpg"
    path.write_bytes(files.jpeg_with_size(12_000, 9_000))
    assert "像素数" not in sniff(path, path.name).corrupt


def test_the_run_goes_on_past_every_bomb(tmp_path: Path, docx_bomb: Path):
    """GIVEN one mail holding a docx bomb, a PDF page bomb, a PNG bomb and a real photo WHEN
    sorted THEN the photo is a photo, and every bomb is a file with a review reason."""
    mail = Mail(
        sender=("西渡镇", "xidu@qq.com"),
        subject="西渡镇年终材料",
        attachments=[
            Att("总结报告.docx", docx_bomb.read_bytes()),
            Att("事迹材料.pdf", files.pdf_page_bomb()),
            Att("活动照片1.png", files.png_bomb(10_000, 10_000)),
            Att("活动照片2.jpg", files.jpeg(640, 480, seed=3)),
        ],
    ).to_bytes()
    result = sort_mail(parse_mail(mail), tmp_path / "staging", REGISTRY, RULES, {})
    rows = {item.filename: item for item in result.files}
    assert rows["活动照片2.jpg"].category == "photo" and not rows["活动照片2.jpg"].review_reason
    assert "压缩炸弹" in rows["总结报告.docx"].review_reason
    assert "页数超过安全上限" in rows["事迹材料.pdf"].review_reason
    assert "像素数超过安全上限" in rows["活动照片1.png"].review_reason
    assert all(item.kind == "file" for item in rows.values())
    assert result.attribution.unit == "西渡镇"
