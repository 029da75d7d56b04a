"""parsers.filetypes: real files of every kind, classified by content; extension only as a tie."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pillow_heif
import py7zr
import pytest
from docx import Document
from PIL import Image

from parsers.filetypes import FileType, archive_subtype, image_size, sniff

IN_CI = os.environ.get("CI") == "true"


def require(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        message = f"{tool} is not installed"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def photo(width: int = 64, height: int = 48) -> Image.Image:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    for x in range(width):
        image.putpixel((x, x * height // width), (0, 0, 255))
    return image


def image_bytes(fmt: str, width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    photo(width, height).save(out, fmt)
    return out.getvalue()


def heic_bytes(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    pillow_heif.from_pillow(photo(width, height)).save(out, format="HEIF", quality=50)
    return out.getvalue()


def docx_bytes(*paragraphs: str) -> bytes:
    document = Document()
    for text in paragraphs or ("2020年禁毒志愿服务工作总结", "正文。"):
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def ooxml_bytes(main_part: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        zf.writestr(main_part, '<?xml version="1.0"?><root/>')
    return out.getvalue()


def zip_bytes(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def office_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A .doc made by LibreOffice Writer (CI installs Writer only, so no .xls here)."""
    soffice = require("soffice")
    work = tmp_path_factory.mktemp("office")
    write(work, "report.docx", docx_bytes("西渡镇禁毒工作总结", "内容"))
    profile = (work / "profile").as_uri()
    subprocess.run(
        [
            *(soffice, "--headless", "--norestore", f"-env:UserInstallation={profile}"),
            *("--convert-to", "doc", "--outdir", str(work), str(work / "report.docx")),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return {"doc": work / "report.doc"}


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny real videos, one per container, made by ffmpeg."""
    ffmpeg = require("ffmpeg")
    work = tmp_path_factory.mktemp("videos")
    codecs = {
        "mp4": "mpeg4",
        "mov": "mpeg4",
        "avi": "mpeg4",
        "wmv": "wmv2",
        "3gp": "h263",
        "mkv": "mpeg4",
        "flv": "flv1",
        "mpg": "mpeg1video",
    }
    made = {}
    for ext, codec in codecs.items():
        target = work / f"clip.{ext}"
        subprocess.run(
            [
                *(ffmpeg, "-loglevel", "error", "-y", "-f", "lavfi"),
                *("-i", "testsrc=size=176x144:rate=25", "-t", "0.2", "-c:v", codec, str(target)),
            ],
            check=True,
            timeout=120,
        )
        made[ext] = target
    return made


# ---- images -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "subtype", "mime"),
    [
        ("JPEG", "jpg", "image/jpeg"),
        ("PNG", "png", "image/png"),
        ("GIF", "gif", "image/gif"),
        ("BMP", "bmp", "image/bmp"),
        ("WEBP", "webp", "image/webp"),
        ("TIFF", "tiff", "image/tiff"),
    ],
)
def test_images_are_sniffed_by_content(tmp_path: Path, fmt: str, subtype: str, mime: str) -> None:
    path = write(tmp_path, "附件1", image_bytes(fmt))
    assert sniff(path, "附件1") == FileType("image", subtype, mime)
    assert image_size(path) == (64, 48)


def test_heic_photo(tmp_path: Path) -> None:
    path = write(tmp_path, "IMG_0001.HEIC", heic_bytes(80, 60))
    assert sniff(path, "IMG_0001.HEIC") == FileType("image", "heic", "image/heic")
    assert image_size(path) == (80, 60)


def test_jpeg_named_dat_is_an_image(tmp_path: Path) -> None:
    path = write(tmp_path, "photo.dat", image_bytes("JPEG"))
    assert sniff(path, "photo.dat").kind == "image"
    assert sniff(path, "photo.dat").subtype == "jpg"


def test_png_named_jpg_is_png(tmp_path: Path) -> None:
    path = write(tmp_path, "1.jpg", image_bytes("PNG"))
    assert sniff(path, "1.jpg").subtype == "png"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "HEIC"])
def test_truncated_image_is_kept_and_flagged(tmp_path: Path, fmt: str) -> None:
    data = heic_bytes(320, 240) if fmt == "HEIC" else image_bytes(fmt, 320, 240)
    path = write(tmp_path, "cut", data[: len(data) // 2])
    result = sniff(path, "cut.jpg")
    assert result.kind == "image"
    assert result.corrupt != ""


def test_damaged_png_fails_crc(tmp_path: Path) -> None:
    data = bytearray(image_bytes("PNG", 200, 100))
    data[60] ^= 0xFF  # inside the first IDAT chunk
    path = write(tmp_path, "bad.png", bytes(data))
    assert sniff(path, "bad.png").corrupt != ""


def test_image_size_without_decoding_and_none_for_garbage(tmp_path: Path) -> None:
    big = write(tmp_path, "big.jpg", image_bytes("JPEG", 4000, 3000))
    assert image_size(big) == (4000, 3000)
    garbage = write(tmp_path, "x.jpg", os.urandom(2000))
    assert image_size(garbage) is None
    assert image_size(tmp_path / "missing.jpg") is None


# ---- documents --------------------------------------------------------------------------


def test_docx_is_found_by_its_parts_whatever_the_name(tmp_path: Path) -> None:
    data = docx_bytes()
    for name in ("总结.docx", "总结.wps", "总结.zip", "总结"):
        path = write(tmp_path, "f", data)
        assert sniff(path, name).subtype == "docx", name
        assert sniff(path, name).kind == "document"


def test_xlsx_and_pptx_by_parts(tmp_path: Path) -> None:
    xlsx = write(tmp_path, "a", ooxml_bytes("xl/workbook.xml"))
    pptx = write(tmp_path, "b", ooxml_bytes("ppt/presentation.xml"))
    assert sniff(xlsx, "a.zip").subtype == "xlsx"
    assert sniff(pptx, "b.zip").subtype == "pptx"


def test_truncated_docx_is_a_corrupt_docx(tmp_path: Path) -> None:
    data = docx_bytes("标题", "x" * 5000)
    path = write(tmp_path, "报告.docx", data[: len(data) - 200])  # central directory cut off
    result = sniff(path, "报告.docx")
    assert (result.kind, result.subtype) == ("document", "docx")
    assert result.corrupt != ""


def test_doc_and_wps_from_ole(tmp_path: Path, office_files: dict[str, Path]) -> None:
    doc = office_files["doc"]
    assert sniff(doc, "总结.doc") == FileType("document", "doc", "application/msword")
    # Kingsoft .wps is an OLE Word file: the extension breaks the tie.
    assert sniff(doc, "总结.wps").subtype == "wps"
    assert sniff(doc, "总结.dat").subtype == "doc"
    assert sniff(doc, "总结.xls").subtype == "doc"  # content wins over a wrong extension


def test_damaged_ole_is_flagged(tmp_path: Path, office_files: dict[str, Path]) -> None:
    data = office_files["doc"].read_bytes()
    path = write(tmp_path, "x.doc", data[:1500])
    result = sniff(path, "x.doc")
    assert (result.kind, result.subtype) == ("document", "doc")
    assert result.corrupt != ""


def test_pdf_and_truncated_pdf(tmp_path: Path) -> None:
    out = io.BytesIO()
    photo(300, 400).save(out, "PDF")
    path = write(tmp_path, "scan.pdf", out.getvalue())
    assert sniff(path, "scan.pdf") == FileType("document", "pdf", "application/pdf")
    cut = write(tmp_path, "cut.pdf", out.getvalue()[:-300])
    assert sniff(cut, "cut.pdf").corrupt != ""


def test_text_rtf_and_html_saved_as_doc(tmp_path: Path) -> None:
    txt = write(tmp_path, "说明.txt", "西渡镇工作小结\n内容".encode("gbk"))
    assert sniff(txt, "说明.txt") == FileType("document", "txt", "text/plain")
    rtf = write(tmp_path, "a.rtf", rb"{\rtf1\ansi hello}")
    assert sniff(rtf, "a.rtf").subtype == "rtf"
    html = write(tmp_path, "b.doc", "<html><body>总结</body></html>".encode())
    assert sniff(html, "b.doc") == FileType("document", "doc", "application/msword")


def test_unknown_binary_falls_back_to_extension_but_is_flagged(tmp_path: Path) -> None:
    path = write(tmp_path, "x", b"\x01\x02\x03" + os.urandom(500))
    result = sniff(path, "视频.mp4")
    assert (result.kind, result.subtype) == ("video", "mp4")
    assert result.corrupt != ""
    assert sniff(path, "x.bin").kind == "other"


def test_text_named_jpg_is_not_a_photo(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jpg", b"hello, this is not a picture\n")
    assert sniff(path, "a.jpg").kind == "other"


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.jpg", b"")
    result = sniff(path, "empty.jpg")
    assert result.kind == "other"
    assert result.corrupt != ""


def test_eml_is_a_message(tmp_path: Path) -> None:
    mail = b"From: a@example.cn\r\nTo: b@example.cn\r\nSubject: hi\r\n\r\nbody\r\n"
    path = write(tmp_path, "fwd", mail)
    assert sniff(path, "转发.eml") == FileType("message", "eml", "message/rfc822")
    assert sniff(path, "noname").kind == "message"


# ---- archives ---------------------------------------------------------------------------


def test_archives(tmp_path: Path) -> None:
    zpath = write(tmp_path, "a.zip", zip_bytes({"照片/1.jpg": image_bytes("JPEG")}))
    assert sniff(zpath, "a.zip") == FileType("archive", "zip", "application/zip")

    seven = tmp_path / "b.7z"
    with py7zr.SevenZipFile(seven, "w") as archive:
        archive.writestr(b"hello", "a.txt")
    assert sniff(seven, "b.7z").subtype == "7z"

    gz = write(tmp_path, "c.gz", gzip.compress(b"hello"))
    assert sniff(gz, "c.gz").subtype == "gz"

    tar_path = tmp_path / "d.tar"
    with tarfile.open(tar_path, "w") as tf:
        info = tarfile.TarInfo("a.txt")
        info.size = 5
        tf.addfile(info, io.BytesIO(b"hello"))
    assert sniff(tar_path, "d.tar").subtype == "tar"
    xz = tmp_path / "e.tar.xz"
    with tarfile.open(xz, "w:xz") as tf:
        tf.add(tar_path, "d.tar")
    assert sniff(xz, "e.tar.xz").subtype == "tar"


def test_archive_subtype_is_a_cheap_archive_test(tmp_path: Path) -> None:
    assert archive_subtype(write(tmp_path, "a", zip_bytes({"x.txt": b"x"})), "a.dat") == "zip"
    assert archive_subtype(write(tmp_path, "b", docx_bytes()), "b.zip") == ""
    assert archive_subtype(write(tmp_path, "c", gzip.compress(b"x")), "c") == "gz"
    assert archive_subtype(write(tmp_path, "d", image_bytes("JPEG")), "d.zip") == ""
    assert archive_subtype(tmp_path / "missing", "m.zip") == ""


def test_rar_fixture_and_truncated_zip(tmp_path: Path, rar_dir: Path) -> None:
    assert sniff(rar_dir / "rar5-subdirs.rar", "x.rar").subtype == "rar"
    assert sniff(rar_dir / "rar5-hpsw.rar", "x.rar").corrupt == ""  # encrypted, not damaged
    data = zip_bytes({f"{i}.txt": os.urandom(300) for i in range(5)})
    cut = write(tmp_path, "cut.zip", data[:-60])
    result = sniff(cut, "cut.zip")
    assert (result.kind, result.subtype) == ("archive", "zip")
    assert result.corrupt != ""


@pytest.fixture
def rar_dir() -> Path:
    shared = Path(os.environ.get("SHARED_DIR", Path(__file__).resolve().parents[1] / "../shared"))
    fixtures = shared / "fixtures" / "rar"
    if not fixtures.is_dir():
        if IN_CI:
            pytest.fail(f"RAR fixtures missing: {fixtures}", pytrace=False)
        pytest.skip(f"RAR fixtures missing: {fixtures}")
    return fixtures


# ---- videos -----------------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["mp4", "mov", "avi", "wmv", "3gp", "mkv", "flv", "mpg"])
def test_videos(videos: dict[str, Path], ext: str) -> None:
    result = sniff(videos[ext], "视频资料.dat")
    assert (result.kind, result.subtype, result.corrupt) == ("video", ext, "")
