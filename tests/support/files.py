"""Deterministic builders of real files: pictures, documents, videos and archives.

Every builder returns the bytes of a genuine file of its kind (Pillow, python-docx, LibreOffice,
ffmpeg, py7zr or a hand-written ZIP writer made them), and the same arguments give the same file:
seeds and timestamps are fixed. LibreOffice and ffmpeg outputs are cached on disk under
``tests/.cache/`` (or ``$HYJDB_TEST_CACHE``), keyed by a hash of their input, so that repeated test
runs do not start those tools again. Where a tool embeds a random salt (encrypted 7z) the bytes vary
from call to call but the content does not.

Tests that need an external tool can skip cleanly with ``have_soffice()``, ``have_ffmpeg()`` and
``have_cjk_font()``.
"""

from __future__ import annotations

import bz2
import datetime as dt
import functools
import hashlib
import io
import os
import random
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = Path(os.environ.get("HYJDB_TEST_CACHE", REPO_ROOT / "tests" / ".cache"))
#: Bump when a cached builder changes what it produces.
BUILDER_VERSION = "1"

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30

#: The timestamp stamped into every archive member and document: a December 2020 workday.
FIXED_TIME = dt.datetime(2020, 12, 20, 9, 30, 0)
FIXED_TIME_UTC = dt.datetime(2020, 12, 20, 1, 30, 0, tzinfo=dt.UTC)

SOFFICE_TIMEOUT_S = 180
FFMPEG_TIMEOUT_S = 120


# ---------------------------------------------------------------------------------------------
# tool detection
# ---------------------------------------------------------------------------------------------


def have_soffice() -> bool:
    """True when LibreOffice (``soffice``) is on PATH."""
    return shutil.which("soffice") is not None


def have_ffmpeg() -> bool:
    """True when ``ffmpeg`` is on PATH."""
    return shutil.which("ffmpeg") is not None


@functools.cache
def cjk_font_path() -> str | None:
    """Path of a font that covers Chinese (fontconfig's pick), or None when none is installed."""
    if shutil.which("fc-list") is None:
        return None
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())
    return files[0] if files else None


def have_cjk_font() -> bool:
    """True when a Chinese font is installed (needed for PDFs with a Chinese text layer)."""
    return cjk_font_path() is not None


# ---------------------------------------------------------------------------------------------
# on-disk cache for outputs of external tools
# ---------------------------------------------------------------------------------------------


def _cached(kind: str, key: bytes, suffix: str, make: Callable[[Path], bytes]) -> bytes:
    """Return the cached bytes for (kind, key), or build them with ``make(workdir)`` and store."""
    digest = hashlib.sha256(BUILDER_VERSION.encode() + b"\0" + kind.encode() + b"\0" + key)
    path = CACHE_DIR / f"{kind}-{digest.hexdigest()[:24]}{suffix}"
    if path.is_file():
        return path.read_bytes()
    with tempfile.TemporaryDirectory(prefix=f"hyjdb-{kind}-") as tmp:
        data = make(Path(tmp))
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=CACHE_DIR, prefix=".tmp-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp_name, 0o644)
    os.replace(tmp_name, path)  # atomic: parallel test workers never see half a file
    return data


# ---------------------------------------------------------------------------------------------
# pictures
# ---------------------------------------------------------------------------------------------


def _picture(width: int, height: int, seed: int, fine_noise: bool = True):
    """A seeded, photo-like RGB picture: smooth colour blobs, a gradient, shapes, sensor noise."""
    from PIL import Image, ImageDraw

    rnd = random.Random(f"picture-{seed}-{width}x{height}")
    sw, sh = max(2, width // 8), max(2, height // 8)
    base = Image.frombytes("RGB", (sw, sh), rnd.randbytes(sw * sh * 3))
    base = base.resize((width, height), Image.Resampling.BICUBIC)
    grad = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    img = Image.blend(base, grad, 0.3)
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x0, y0 = rnd.randrange(width), rnd.randrange(height)
        x1 = x0 + rnd.randrange(10, max(11, width // 3))
        y1 = y0 + rnd.randrange(10, max(11, height // 3))
        colour = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
        if rnd.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    if fine_noise:
        grain = Image.frombytes("L", (width, height), rnd.randbytes(width * height))
        grain = grain.point(lambda v: 128 + (v - 128) // 8).convert("RGB")
        img = Image.blend(img, grain, 0.15)
    return img


def _exif(taken: str, make: str, model: str):
    from PIL import ExifTags, Image

    exif = Image.Exif()
    exif[0x010F] = make  # Make
    exif[0x0110] = model  # Model
    exif[0x0132] = taken  # DateTime
    exif.get_ifd(ExifTags.IFD.Exif)[0x9003] = taken  # DateTimeOriginal
    return exif


@functools.lru_cache(maxsize=64)
def jpeg(
    width: int = 1200,
    height: int = 900,
    seed: int = 0,
    quality: int = 85,
    exif_datetime: str | None = None,
    camera: tuple[str, str] = ("HUAWEI", "ELE-AL00"),
) -> bytes:
    """A photo-like JPEG (about 200 KB at 1200x900). ``exif_datetime`` ("2020:12:20 09:30:00")
    adds camera EXIF as a phone would."""
    img = _picture(width, height, seed)
    buf = io.BytesIO()
    kwargs: dict = {"quality": quality}
    if exif_datetime is not None:
        kwargs["exif"] = _exif(exif_datetime, *camera)
    img.save(buf, "JPEG", **kwargs)
    return buf.getvalue()


def _natural(width: int, height: int, seed: int):
    """A seeded picture with the statistics of a photograph: an amplitude spectrum falling as
    1/f (natural scenes do), colour channels correlated. Distinct seeds look unrelated, as two
    photos of different scenes do; nothing in it favours one hash over another."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    falloff = np.sqrt(fx**2 + fy**2)
    falloff[0, 0] = 1.0
    shape = (height, width // 2 + 1)

    def spectrum():
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)

    shared = spectrum()
    channels = []
    for _ in range(3):
        plane = np.fft.irfft2((0.7 * shared + 0.3 * spectrum()) / falloff, s=(height, width))
        channels.append((plane - plane.mean()) / plane.std())
    pixels = np.clip(np.stack(channels, -1) * 45 + 128, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels)


@functools.lru_cache(maxsize=64)
def photo(
    seed: int = 0,
    width: int = 1200,
    height: int = 900,
    quality: int = 88,
    exif_datetime: str | None = None,
) -> bytes:
    """A photograph-like JPEG (see ``_natural``); ``exif_datetime`` ("2020:12:20 09:30:00")
    adds camera EXIF with that DateTimeOriginal, as a phone writes it."""
    img = _natural(width, height, seed)
    buf = io.BytesIO()
    kwargs: dict = {"quality": quality}
    if exif_datetime is not None:
        kwargs["exif"] = _exif(exif_datetime, "HUAWEI", "ELE-AL00")
    img.save(buf, "JPEG", **kwargs)
    return buf.getvalue()


def photo_variant(data: bytes, how: str, amount: float = 0.0) -> bytes:
    """A copy of a picture as people make them, without EXIF (chat apps strip it):
    ``resize`` (to ``amount`` of its size, default half), ``recompress`` (JPEG quality
    ``amount``, default 35), ``crop`` (``amount`` of each side, default 5 %), ``crop_side``
    (``amount`` off the right edge, default 10 %), ``heic`` (re-encoded as HEIC)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as src:
        img = src.convert("RGB")
    width, height = img.size
    quality = 85
    if how == "resize":
        share = amount or 0.5
        img = img.resize((int(width * share), int(height * share)), Image.Resampling.LANCZOS)
    elif how == "recompress":
        quality = int(amount or 35)
    elif how == "crop":
        dx, dy = int(width * (amount or 0.05)), int(height * (amount or 0.05))
        img = img.crop((dx, dy, width - dx, height - dy))
    elif how == "crop_side":
        img = img.crop((0, 0, int(width * (1 - (amount or 0.1))), height))
    elif how == "heic":
        import pillow_heif

        pillow_heif.register_heif_opener()
        buf = io.BytesIO()
        thumbnails = [int(amount)] if amount else []
        img.save(buf, "HEIF", quality=60, thumbnails=thumbnails)
        return buf.getvalue()
    else:
        raise ValueError(how)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@functools.lru_cache(maxsize=32)
def png(width: int = 800, height: int = 600, seed: int = 0, photo: bool = False) -> bytes:
    """A PNG picture (smooth, no sensor grain); ``photo=True`` adds grain (much larger file)."""
    img = _picture(width, height, seed, fine_noise=photo)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@functools.lru_cache(maxsize=16)
def heic(width: int = 1200, height: int = 900, seed: int = 0, quality: int = 60) -> bytes:
    """An iPhone-style HEIC (HEVC in HEIF) picture, made by pillow-heif (~1 s at 1200x900)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    img = _picture(width, height, seed)
    buf = io.BytesIO()
    img.save(buf, "HEIF", quality=quality)
    return buf.getvalue()


@functools.lru_cache(maxsize=16)
def webp(width: int = 1200, height: int = 900, seed: int = 0, quality: int = 80) -> bytes:
    """A lossy WebP picture (as WeChat saves them)."""
    img = _picture(width, height, seed)
    buf = io.BytesIO()
    img.save(buf, "WEBP", quality=quality, method=4)
    return buf.getvalue()


@functools.cache
def tiny_logo_png() -> bytes:
    """A 120x40 mail-signature logo, well under 5 KB."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (120, 40), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.rectangle((2, 2, 37, 37), fill=(200, 16, 46))
    draw.ellipse((9, 9, 30, 30), fill=(255, 215, 0))
    for i in range(4):
        draw.rectangle((46, 8 + i * 7, 46 + 66 - i * 9, 11 + i * 7), fill=(40, 40, 40))
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


@functools.cache
def tiny_emoji_gif() -> bytes:
    """A 24x24 GIF like the emoji QQ Mail pastes into HTML bodies."""
    from PIL import Image, ImageDraw

    img = Image.new("P", (24, 24), 0)
    img.putpalette([255, 255, 255, 255, 200, 0, 60, 40, 0] + [0] * (256 * 3 - 9))
    draw = ImageDraw.Draw(img)
    draw.ellipse((1, 1, 22, 22), fill=1)
    draw.ellipse((7, 8, 9, 10), fill=2)
    draw.ellipse((15, 8, 17, 10), fill=2)
    draw.arc((6, 8, 18, 18), 20, 160, fill=2)
    buf = io.BytesIO()
    img.save(buf, "GIF")
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# documents
# ---------------------------------------------------------------------------------------------

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"


def _set_font(run, name: str, size_pt: float, bold: bool = False) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = name
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _fixed_zip(data: bytes, date_time: tuple = FIXED_TIME.timetuple()[:6]) -> bytes:
    """Re-pack a ZIP package with a fixed timestamp on every member (python-docx stamps 'now')."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            new = zipfile.ZipInfo(info.filename, date_time=date_time)
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = info.external_attr
            dst.writestr(new, src.read(info))
    return out.getvalue()


def docx(
    paragraphs: list[str],
    title: str | None = None,
    table: list[list[str]] | None = None,
    images: int = 0,
    core_title: str | None = None,
    author: str = "Administrator",
    image_seed: int = 100,
) -> bytes:
    """A Word 2007+ document as a Chinese office writes one.

    ``title`` becomes the first paragraph(s) (one per line of it), centred in a headline font;
    ``paragraphs`` follow in 仿宋; ``table`` (first row = header) and ``images`` embedded photos
    come after. ``core_title`` sets only the file's metadata title, which in real life is often a
    stale template title unrelated to the text.
    """
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    document = Document()
    if title:
        for line in title.splitlines():
            para = document.add_paragraph()
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _set_font(para.add_run(line), TITLE_FONT, 22)
        document.add_paragraph()
    for text in paragraphs:
        para = document.add_paragraph()
        para.paragraph_format.first_line_indent = Pt(32)
        _set_font(para.add_run(text), BODY_FONT, 16)
    if table:
        grid = document.add_table(rows=len(table), cols=max(len(r) for r in table))
        grid.style = "Table Grid"
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                cell = grid.cell(r, c)
                cell.text = ""
                _set_font(cell.paragraphs[0].add_run(value), BODY_FONT, 12, bold=(r == 0))
    for i in range(images):
        document.add_picture(
            io.BytesIO(jpeg(640, 480, seed=image_seed + i, quality=75)), width=Cm(14)
        )
        caption = document.add_paragraph()
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _set_font(caption.add_run(f"图{i + 1}"), BODY_FONT, 12)
    props = document.core_properties
    props.title = core_title or ""
    props.author = author
    props.last_modified_by = author
    props.comments = ""
    props.revision = 1
    props.created = FIXED_TIME_UTC.replace(tzinfo=None)
    props.modified = FIXED_TIME_UTC.replace(tzinfo=None)
    buf = io.BytesIO()
    document.save(buf)
    return _fixed_zip(buf.getvalue())


def corrupt_docx(paragraphs: list[str] | None = None) -> bytes:
    """A .docx cut in half, as an interrupted upload leaves it: starts like a ZIP, will not open."""
    data = docx(paragraphs or ["本文件已损坏。"], title="工作总结")
    return data[: len(data) // 2]


def _soffice_convert(src: bytes, src_suffix: str, filter_name: str, out_suffix: str) -> bytes:
    """Convert with LibreOffice in a private profile; cached on disk by input hash."""

    def make(work: Path) -> bytes:
        if not have_soffice():
            raise RuntimeError("soffice (LibreOffice) is not installed")
        infile = work / f"input{src_suffix}"
        infile.write_bytes(src)
        profile = (work / "profile").as_uri()
        cmd = [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            filter_name,
            "--outdir",
            str(work / "out"),
            str(infile),
        ]
        proc = subprocess.run(
            cmd, capture_output=True, timeout=SOFFICE_TIMEOUT_S, check=False, cwd=work
        )
        result = work / "out" / f"input{out_suffix}"
        if proc.returncode != 0 or not result.is_file():
            raise RuntimeError(
                f"soffice failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-500:]}"
            )
        return result.read_bytes()

    return _cached(
        f"soffice-{out_suffix.lstrip('.')}", src + filter_name.encode(), out_suffix, make
    )


def doc(paragraphs: list[str], title: str | None = None, **docx_kwargs) -> bytes:
    """A real Word 97-2003 .doc (OLE2), made by LibreOffice from :func:`docx`. Cached."""
    return _soffice_convert(
        docx(paragraphs, title, **docx_kwargs), ".docx", "doc:MS Word 97", ".doc"
    )


def wps(paragraphs: list[str], title: str | None = None, **docx_kwargs) -> bytes:
    """Stand-in for a Kingsoft WPS Writer .wps file: a .doc (WPS files are DOC-based)."""
    return doc(paragraphs, title, **docx_kwargs)


def pdf_text(paragraphs: list[str], title: str | None = None, **docx_kwargs) -> bytes:
    """A PDF with a real (extractable) Chinese text layer, exported by LibreOffice. Cached.

    Needs a CJK font (Debian: fonts-wqy-microhei or fonts-noto-cjk); without one LibreOffice
    would silently draw boxes, so this raises instead.
    """
    if not have_cjk_font():
        raise RuntimeError("no Chinese font installed (apt-get install fonts-wqy-microhei)")
    data = docx(paragraphs, title, **docx_kwargs)
    return _soffice_convert(data, ".docx", "pdf:writer_pdf_Export", ".pdf")


def pdf_scanned(paragraphs: list[str] | None = None, pages: int = 1, seed: int = 0) -> bytes:
    """An image-only PDF, as a scanner produces: the text is pixels, there is no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    lines = paragraphs or ["衡阳县禁毒志愿服务工作总结", "（扫描件）"]
    font_path = cjk_font_path()
    font = ImageFont.truetype(font_path, 28) if font_path else None
    rnd = random.Random(f"scan-{seed}")
    images = []
    for page in range(pages):
        img = Image.new("L", (1240, 1754), 246)  # A4 at 150 dpi, greyish paper
        draw = ImageDraw.Draw(img)
        y = 140
        for line in lines:
            if font is not None:
                draw.text((140, y), line, fill=25, font=font)
            else:  # no CJK font: draw text-like bars so the page still looks scanned
                draw.rectangle((140, y + 6, 140 + 26 * len(line), y + 30), fill=40)
            y += 56
        draw.text((600, 1650), f"- {page + 1} -", fill=60)
        speckle = Image.frombytes("L", img.size, rnd.randbytes(img.size[0] * img.size[1]))
        img = Image.blend(img, speckle.point(lambda v: 200 + v // 5), 0.08)
        images.append(img.convert("RGB"))
    buf = io.BytesIO()
    images[0].save(
        buf,
        "PDF",
        save_all=True,
        append_images=images[1:],
        resolution=150,
        quality=70,
        creationDate=time.gmtime(FIXED_TIME_UTC.timestamp()),
        modDate=time.gmtime(FIXED_TIME_UTC.timestamp()),
        producer="Scanner",
        title="",
    )
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# videos (ffmpeg, bit-exact, cached)
# ---------------------------------------------------------------------------------------------

# container -> (ffmpeg muxer, video codec, audio codec, extra args)
_VIDEO = {
    "mp4": ("mp4", "libx264", "aac", ["-movflags", "+faststart"]),
    "mov": ("mov", "libx264", "aac", []),
    "avi": ("avi", "mpeg4", "libmp3lame", []),
    "mkv": ("matroska", "libx264", "aac", []),
    "wmv": ("asf", "wmv2", "wmav2", []),
    "3gp": ("3gp", "h263", "aac", []),
}


def video(
    container: str = "mp4",
    seconds: float = 1,
    size: tuple[int, int] | None = None,
    audio: bool = True,
) -> bytes:
    """A small real video (ffmpeg test pattern + tone) in ``container``; byte-stable. Cached.

    ``size`` defaults to 320x240, or 176x144 for 3gp (H.263 accepts only standard sizes).
    """
    muxer, vcodec, acodec, extra = _VIDEO[container]
    width, height = size or ((176, 144) if container == "3gp" else (320, 240))
    key = f"{container}|{seconds}|{width}x{height}|{audio}".encode()

    def make(work: Path) -> bytes:
        if not have_ffmpeg():
            raise RuntimeError("ffmpeg is not installed")
        out = work / f"out.{container}"
        cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
        cmd += ["-f", "lavfi", "-i", f"testsrc=size={width}x{height}:rate=15:duration={seconds}"]
        if audio:
            cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}:sample_rate=22050"]
        cmd += ["-c:v", vcodec, "-pix_fmt", "yuv420p", "-threads", "1"]
        if audio:
            cmd += ["-c:a", acodec, "-ac", "1", "-b:a", "32k"]
        cmd += ["-map_metadata", "-1", "-fflags", "+bitexact"]
        cmd += ["-flags:v", "+bitexact", "-flags:a", "+bitexact", *extra, "-f", muxer, str(out)]
        proc = subprocess.run(cmd, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
        if proc.returncode != 0 or not out.is_file():
            raise RuntimeError(f"ffmpeg failed: {proc.stderr.decode(errors='replace')[-500:]}")
        return out.read_bytes()

    return _cached(f"video-{container}", key, f".{container}", make)


def mp4(seconds: float = 1, size: tuple[int, int] = (320, 240)) -> bytes:
    """H.264/AAC MP4 (phones, WeChat)."""
    return video("mp4", seconds, size)


def mov(seconds: float = 1, size: tuple[int, int] = (320, 240)) -> bytes:
    """QuickTime .mov (iPhone)."""
    return video("mov", seconds, size)


def avi(seconds: float = 1, size: tuple[int, int] = (320, 240)) -> bytes:
    """MPEG-4 part 2 + MP3 in AVI (old cameras)."""
    return video("avi", seconds, size)


def mkv(seconds: float = 1, size: tuple[int, int] = (320, 240)) -> bytes:
    """Matroska with H.264/AAC."""
    return video("mkv", seconds, size)


def wmv(seconds: float = 1, size: tuple[int, int] = (320, 240)) -> bytes:
    """Windows Media (WMV2/WMA2 in ASF)."""
    return video("wmv", seconds, size)


def threegp(seconds: float = 1, size: tuple[int, int] = (176, 144)) -> bytes:
    """3GPP (H.263 + AAC) as old feature phones record; H.263 needs a standard size like 176x144."""
    return video("3gp", seconds, size)


def _free_box(total: int) -> bytes:
    if total < 8:
        raise ValueError("padding box needs at least 8 bytes")
    return struct.pack(">I4s", total, b"free") + bytes(total - 8)


def big_video(mb: int) -> bytes:
    """A valid MP4 of ``mb`` MiB: :func:`mp4` followed by a top-level ``free`` padding box."""
    base = mp4()
    target = mb * MiB
    if target < len(base) + 8:
        raise ValueError(f"{mb} MiB is smaller than the base video")
    return base + _free_box(target - len(base))


def write_big_video(path: str | os.PathLike, mb: int) -> Path:
    """Like :func:`big_video`, streamed to ``path`` without holding it in memory."""
    path = Path(path)
    base = mp4()
    pad = mb * MiB - len(base)
    if pad < 8:
        raise ValueError(f"{mb} MiB is smaller than the base video")
    with path.open("wb") as fh:
        fh.write(base)
        fh.write(struct.pack(">I4s", pad, b"free"))
        left, chunk = pad - 8, bytes(MiB)
        while left:
            n = min(left, MiB)
            fh.write(chunk[:n])
            left -= n
    return path


# ---------------------------------------------------------------------------------------------
# ZIP: a small hand-written writer, for what Python's zipfile will not write
# ---------------------------------------------------------------------------------------------

STORED, DEFLATED, BZIP2 = 0, 8, 12
FLAG_ENCRYPTED = 0x0001
FLAG_UTF8 = 0x0800


@dataclass
class ZipEntry:
    """One member for :func:`build_zip`. ``name`` is the raw bytes written into the archive."""

    name: bytes
    data: bytes = b""
    method: int = DEFLATED
    utf8_flag: bool = False
    #: Pre-compressed stream; with it ``data`` is ignored and crc/size must be given.
    raw_stream: bytes | None = None
    crc: int | None = None
    size: int | None = None
    #: Lies: sizes written in the headers instead of the true ones.
    declared_size: int | None = None
    password: bytes | None = None
    create_system: int = 0  # 0 = MS-DOS/Windows, 3 = Unix
    external_attr: int = 0x20  # DOS "archive" bit
    extra: bytes = b""
    date_time: tuple = FIXED_TIME.timetuple()[:6]


def _dos_time(date_time: tuple) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def _compress(data: bytes, method: int) -> bytes:
    if method == STORED:
        return data
    if method == DEFLATED:
        comp = zlib.compressobj(9, zlib.DEFLATED, -15)
        return comp.compress(data) + comp.flush()
    if method == BZIP2:
        return bz2.compress(data)
    raise ValueError(f"unsupported method {method}")


def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc_table()


def zipcrypto_encrypt(data: bytes, password: bytes, check_byte: int, seed: str = "zc") -> bytes:
    """Traditional PKWARE ("ZipCrypto") encryption: 12-byte header + encrypted data.

    ``check_byte`` is the high byte of the CRC-32 (what readers verify the password against).
    The 11 random header bytes come from a seeded generator, so the output is deterministic.
    """
    k0, k1, k2 = 0x12345678, 0x23456789, 0x34567890
    table = _CRC_TABLE

    def update(c: int) -> None:
        nonlocal k0, k1, k2
        k0 = table[(k0 ^ c) & 0xFF] ^ (k0 >> 8)
        k1 = (k1 + (k0 & 0xFF)) & 0xFFFFFFFF
        k1 = (k1 * 134775813 + 1) & 0xFFFFFFFF
        k2 = table[(k2 ^ (k1 >> 24)) & 0xFF] ^ (k2 >> 8)

    for c in password:
        update(c)
    header = random.Random(seed).randbytes(11) + bytes([check_byte & 0xFF])
    out = bytearray()
    for p in header + data:
        t = (k2 | 2) & 0xFFFF
        out.append(p ^ (((t * (t ^ 1)) >> 8) & 0xFF))
        update(p)
    return bytes(out)


def build_zip(entries: Iterable[ZipEntry], comment: bytes = b"") -> bytes:
    """Write a ZIP archive byte by byte (no ZIP64; members up to 4 GiB declared)."""
    out = io.BytesIO()
    central = []
    for entry in entries:
        if entry.raw_stream is not None:
            if entry.crc is None or entry.size is None:
                raise ValueError("raw_stream needs crc and size")
            stream, crc, size = entry.raw_stream, entry.crc, entry.size
        else:
            stream = _compress(entry.data, entry.method)
            crc, size = zlib.crc32(entry.data), len(entry.data)
        flags = FLAG_UTF8 if entry.utf8_flag else 0
        if entry.password is not None:
            flags |= FLAG_ENCRYPTED
            stream = zipcrypto_encrypt(stream, entry.password, crc >> 24, seed=entry.name.hex())
        declared = size if entry.declared_size is None else entry.declared_size
        version = {STORED: 10, DEFLATED: 20, BZIP2: 46}[entry.method]
        mtime, mdate = _dos_time(entry.date_time)
        offset = out.tell()
        fields = (version, flags, entry.method, mtime, mdate, crc, len(stream), declared)
        out.write(struct.pack("<IHHHHHIII", 0x04034B50, *fields))
        out.write(struct.pack("<HH", len(entry.name), len(entry.extra)))
        out.write(entry.name + entry.extra + stream)
        made_by = (entry.create_system << 8) | 63
        central.append(
            struct.pack("<IHHHHHHIII", 0x02014B50, made_by, *fields)
            + struct.pack(
                "<HHHHHII",
                len(entry.name),
                len(entry.extra),
                0,
                0,
                0,
                entry.external_attr,
                offset,
            )
            + entry.name
            + entry.extra
        )
    cd_offset = out.tell()
    for record in central:
        out.write(record)
    cd_size = out.tell() - cd_offset
    n = len(central)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, cd_size, cd_offset, len(comment)))
    out.write(comment)
    return out.getvalue()


def _unicode_path_extra(name_bytes: bytes, name: str) -> bytes:
    """Info-ZIP Unicode Path extra field (0x7075), as WinRAR and 7-Zip add beside a GBK name."""
    utf8 = name.encode("utf-8")
    body = struct.pack("<BI", 1, zlib.crc32(name_bytes)) + utf8
    return struct.pack("<HH", 0x7075, len(body)) + body


def zip_archive(
    members: dict[str, bytes],
    name_encoding: str = "utf-8",
    compression: int = DEFLATED,
    password: str | None = None,
    unicode_path_extra: bool = False,
) -> bytes:
    """A ZIP of ``members`` (name -> data; a name ending in "/" is a folder entry).

    ``name_encoding``: ``"utf-8"`` (UTF-8 names, flag bit 11 set for non-ASCII names, as 7-Zip
    and Python do); ``"utf-8-noflag"`` (UTF-8 bytes without the flag: macOS Archive Utility);
    ``"gbk"`` / ``"gb18030"`` / ``"cp936"`` (names in the Chinese Windows code page without the
    flag: Windows "Send to compressed folder", 360压缩, WinRAR's default). ``password`` applies
    ZipCrypto. ``unicode_path_extra`` adds the 0x7075 UTF-8 name field beside a legacy name.
    """
    entries = []
    for name, data in members.items():
        if name_encoding == "utf-8":
            raw, flag = name.encode("utf-8"), not name.isascii()
        elif name_encoding == "utf-8-noflag":
            raw, flag = name.encode("utf-8"), False
        else:
            raw, flag = name.encode(name_encoding), False
        is_dir = name.endswith("/")
        entries.append(
            ZipEntry(
                name=raw,
                data=b"" if is_dir else data,
                method=STORED if is_dir else compression,
                utf8_flag=flag,
                password=None if password is None or is_dir else password.encode(),
                external_attr=0x10 if is_dir else 0x20,
                extra=_unicode_path_extra(raw, name) if unicode_path_extra and not flag else b"",
            )
        )
    return build_zip(entries)


def zip_encrypted(
    members: dict[str, bytes] | None = None,
    password: str = "123456",
    name_encoding: str = "gbk",
) -> bytes:
    """A ZIP with traditional ZipCrypto encryption (flag bit 0), as 360压缩 or WinRAR make."""
    if members is None:
        members = {"活动照片/照片1.jpg": jpeg(320, 240, seed=7), "说明.txt": "密码见短信".encode()}
    return zip_archive(members, name_encoding=name_encoding, password=password)


def zip_traversal(symlink: bool = False) -> bytes:
    """A hostile ZIP: ``../../evil.txt``, ``/etc/evil.txt``, ``..\\..\\evil.txt`` plus one safe
    photo ``活动照片/safe.jpg``. ``symlink`` adds a Unix symlink ``link`` -> ``/etc/passwd``."""
    entries = [
        ZipEntry(name=b"../../evil.txt", data=b"escaped via ../\n"),
        ZipEntry(name=b"/etc/evil.txt", data=b"escaped via absolute path\n"),
        ZipEntry(name=b"..\\..\\evil.txt", data=b"escaped via backslashes\n"),
        ZipEntry(name="活动照片/safe.jpg".encode(), data=jpeg(320, 240, seed=3), utf8_flag=True),
    ]
    if symlink:
        entries.append(
            ZipEntry(
                name=b"link",
                data=b"/etc/passwd",
                method=STORED,
                create_system=3,
                external_attr=(0o120777 << 16),
            )
        )
    return build_zip(entries)


@functools.cache
def _deflated_zeros(size: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``size`` zero bytes, and its CRC-32, built without compressing
    ``size`` bytes: after a full flush the compressor state resets, so equal chunks give equal
    output and the stream is one chunk's output repeated."""
    chunk = 4 * MiB
    zeros = bytes(chunk)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    repeat = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    count, rest = divmod(size, chunk)
    parts = [first] + [repeat] * (count - 1) if count else []
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    tail = comp.compress(bytes(rest)) if rest else b""
    crc = zlib.crc32(bytes(rest), crc)
    return b"".join(parts) + tail + comp.flush(), crc


def zip_bomb(
    size: int = GiB + MiB,
    lie: bool = False,
    name: str = "活动照片.jpg",
    with_safe_member: bool = True,
) -> bytes:
    """A ZIP (about 1 MB: deflate cannot beat ~1:1030) whose member expands to ``size`` zero
    bytes (default just over 1 GiB). With ``lie=True`` the headers declare 1 KiB instead, so a
    check of the declared size passes while the stream still inflates to ``size``.
    ``with_safe_member`` adds a small genuine photo that should still be extracted."""
    stream, crc = _deflated_zeros(size)
    entries = [
        ZipEntry(
            name=name.encode("utf-8"),
            raw_stream=stream,
            crc=crc,
            size=size,
            declared_size=KiB if lie else None,
            utf8_flag=not name.isascii(),
        )
    ]
    if with_safe_member:
        entries.append(ZipEntry(name=b"photo_ok.jpg", data=jpeg(320, 240, seed=4)))
    return build_zip(entries)


def zip_bomb_nested(depth: int = 2, fanout: int = 10) -> bytes:
    """42.zip-style recursion: ``fanout`` copies of the next level per level, leaves of 1 GiB.
    Expands to fanout**depth GiB when archives in archives are unpacked without a budget."""
    level = zip_bomb(GiB, with_safe_member=False, name="0.bin")
    for d in range(depth):
        level = zip_archive({f"{d}-{i}.zip": level for i in range(fanout)})
    return level


# ---------------------------------------------------------------------------------------------
# Bombs inside documents and pictures: tiny files that expand enormously when decoded
# ---------------------------------------------------------------------------------------------


def docx_bomb(size: int = GiB) -> bytes:
    """A ~1 MB .docx (it sniffs as Word: [Content_Types].xml and word/) whose
    ``word/document.xml`` inflates to ``size`` bytes (zeros), declared truthfully."""
    stream, crc = _deflated_zeros(size)
    types = (
        b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        b'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
        b"</Types>"
    )
    rels = (
        b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlform'
        b'ats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxm'
        b'lformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.x'
        b'ml"/></Relationships>'
    )
    return build_zip(
        [
            ZipEntry(name=b"[Content_Types].xml", data=types),
            ZipEntry(name=b"_rels/.rels", data=rels),
            ZipEntry(name=b"word/document.xml", raw_stream=stream, crc=crc, size=size),
        ]
    )


def pdf_page_bomb(fanout: int = 20, depth: int = 3) -> bytes:
    """A PDF of a few KB whose page tree shares each level's node ``fanout`` times: it has
    ``fanout ** depth`` pages (8,000 by default) although it holds one page object."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        number = 3 + level  # every level is one node, referenced ``fanout`` times
        kids = b" ".join(b"%d 0 R" % number for _ in range(fanout))
        count = fanout ** (depth - level)
        objects.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count))
    objects.append(b"<< /Type /Page /MediaBox [0 0 200 200] >>")
    return _pdf(objects)


def _pdf(objects: list[bytes], extra_trailer: bytes = b"") -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    size = len(objects) + 1
    out.write(b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (size, extra_trailer))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A grayscale PNG of ``width`` x ``height`` black pixels: ~1 KB per 1 MB of pixels,
    written without building the image (the IDAT stream is zeros deflated chunk by chunk)."""
    raw_size = height * (width + 1)  # one filter byte per row, all zero
    stream, _crc = _deflated_zeros(raw_size)
    adler = ((raw_size % 65521) << 16) | 1  # Adler-32 of zeros: a stays 1, b counts bytes
    idat = b"\x78\xda" + stream + struct.pack(">I", adler)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def bmp_rle_bomb(width: int, height: int) -> bytes:
    """An 8-bit RLE BMP of ``width`` x ``height``: ~1 KB (palette plus a few RLE "delta" codes
    that each skip 255 rows), decoded to width*height bytes."""
    palette = b"".join(bytes((i, i, i, 0)) for i in range(256))
    deltas = -(-width * height // (255 + 255 * width))
    pixels = b"\x00\x02\xff\xff" * deltas + b"\x00\x01"  # skip 255 right and up; end
    offset = 14 + 40 + len(palette)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, len(pixels), 2835, 2835, 256, 0)
    head = struct.pack("<2sIHHI", b"BM", offset + len(pixels), 0, 0, offset)
    return head + info + palette + pixels


def jpeg_with_size(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header claims ``width`` x ``height`` pixels."""
    data = bytearray(jpeg(64, 48, seed=9))
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


# ---------------------------------------------------------------------------------------------
# 7z (py7zr) and RAR fixtures
# ---------------------------------------------------------------------------------------------


def _seven_zip_class():
    import py7zr
    from py7zr.helpers import ArchiveTimestamp

    fixed = FIXED_TIME_UTC.timestamp()

    class FixedTimeSevenZipFile(py7zr.SevenZipFile):
        """py7zr stamps 'now' on members written from bytes; stamp a fixed time instead."""

        @staticmethod
        def _make_file_info_from_name(bio, size, arcname):
            # A private py7zr hook (present in 0.20 .. 1.x); if it goes away, times float.
            info = py7zr.SevenZipFile._make_file_info_from_name(bio, size, arcname)
            stamp = ArchiveTimestamp.from_datetime(fixed)
            info.update(creationtime=stamp, lastwritetime=stamp, lastaccesstime=stamp)
            return info

    return FixedTimeSevenZipFile


def sevenzip(
    members: dict[str, bytes], password: str | None = None, header_encryption: bool = False
) -> bytes:
    """A .7z archive (LZMA2). Deterministic without a password; with one, AES uses a random IV."""
    buf = io.BytesIO()
    kwargs = {"password": password, "header_encryption": header_encryption} if password else {}
    with _seven_zip_class()(buf, "w", **kwargs) as archive:
        for name, data in members.items():
            archive.writestr(data, name)
    return buf.getvalue()


def sevenzip_encrypted(
    members: dict[str, bytes] | None = None,
    password: str = "123456",
    header_encryption: bool = False,
) -> bytes:
    """A password-protected .7z (AES-256); ``header_encryption`` hides the member names too."""
    if members is None:
        members = {"活动照片/照片1.jpg": jpeg(320, 240, seed=8)}
    return sevenzip(members, password=password, header_encryption=header_encryption)


def nested_zip(leaf: dict[str, bytes] | None = None) -> bytes:
    """A .7z holding ``材料.zip`` (UTF-8 names) that holds ``照片.zip`` (GBK names, no flag).

    Default leaf: two photos in ``活动照片/`` plus, at the middle level, a summary report .docx.
    """
    if leaf is None:
        leaf = {
            "活动照片/": b"",
            "活动照片/禁毒宣传1.jpg": jpeg(640, 480, seed=11),
            "活动照片/禁毒宣传2.jpg": jpeg(640, 480, seed=12),
        }
    inner = zip_archive(leaf, name_encoding="gbk")
    middle = zip_archive(
        {
            "材料/照片.zip": inner,
            "材料/总结报告.docx": docx(
                ["今年以来，我单位扎实开展禁毒志愿服务活动。"], "禁毒工作总结"
            ),
        }
    )
    return sevenzip({"材料.zip": middle})


def shared_dir() -> Path:
    """The shared folder beside the repository (``$SHARED_DIR`` overrides)."""
    return Path(os.environ.get("SHARED_DIR", REPO_ROOT.parent / "shared"))


def rar_sample(name: str) -> bytes:
    """Bytes of a RAR fixture from ``<shared>/fixtures/rar/`` (no RAR writer exists here).

    Names: rar3-solid.rar, rar3-subdirs.rar, rar5-solid.rar, rar5-subdirs.rar, unicode.rar,
    unicode2.rar, rar5-psw.rar (encrypted data), rar5-hpsw.rar (encrypted headers),
    rar5-evil-symlink-traversal.rar. Each has a ``.exp`` listing beside it.
    """
    path = shared_dir() / "fixtures" / "rar" / name
    if not path.is_file():
        raise FileNotFoundError(f"RAR fixture not found: {path} (set SHARED_DIR)")
    return path.read_bytes()


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data`` (what the pipeline keys stored files by)."""
    return hashlib.sha256(data).hexdigest()
