"""Byte-level builders for the blind fixtures: MIME, headers, zip, 7z, PDF, DOCX, images, videos.

Everything here is deterministic: the same arguments give the same bytes on the same machine
(Pillow, python-docx, py7zr, ffmpeg and LibreOffice versions fixed). Nothing here knows the
product; it only knows RFC 822 / 2045 / 2047 / 2231, PKZIP and PDF.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import struct
import subprocess
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import quote_from_bytes

import numpy as np
from PIL import Image, ImageDraw

CRLF = b"\r\n"
FIXED_ZIP_TIME = (2020, 12, 20, 9, 30, 0)
FIXED_EPOCH = 1608427800  # 2020-12-20T09:30:00+08:00


# ---------------------------------------------------------------------------------------------
# Header encodings
# ---------------------------------------------------------------------------------------------


def encoded_words(
    text: str, charset: str = "utf-8", enc: str = "B", chunk: int = 0, label: str = ""
) -> bytes:
    """RFC 2047 encoded words. ``chunk`` > 0 splits the raw bytes every ``chunk`` bytes, which
    splits multi-byte characters across words (as Foxmail and QQ Mail do). ``label``: the charset
    name written in the words when it differs from the real encoding (GBK bytes labelled gb2312)."""
    raw = text.encode(charset)
    label = label or charset
    pieces = [raw] if chunk <= 0 else [raw[i : i + chunk] for i in range(0, len(raw), chunk)]
    words = []
    for piece in pieces:
        if enc.upper() == "B":
            payload = base64.b64encode(piece).decode("ascii")
        else:
            payload = "".join(
                chr(b) if (48 <= b <= 57 or 65 <= b <= 90 or 97 <= b <= 122) else f"={b:02X}"
                for b in piece
            )
        words.append(f"=?{label}?{enc.upper()}?{payload}?=".encode("ascii"))
    return (CRLF + b" ").join(words)


def rfc2231(param: str, text: str, charset: str = "utf-8", chunk: int = 0) -> bytes:
    """RFC 2231 extended parameter, with continuations every ``chunk`` raw bytes."""
    raw = text.encode(charset)
    if chunk <= 0:
        return f"{param}*={charset}''".encode() + quote_from_bytes(raw, safe="").encode()
    pieces = [raw[i : i + chunk] for i in range(0, len(raw), chunk)]
    out = []
    for i, piece in enumerate(pieces):
        prefix = f"{param}*{i}*=" + (f"{charset}''" if i == 0 else "")
        out.append(prefix.encode() + quote_from_bytes(piece, safe="").encode())
    return (b";" + CRLF + b" ").join(out)


def parse_style(style: str) -> tuple[str, str, int, str]:
    """``kind:charset[:chunk][@label]`` -> (kind, charset, chunk, label)."""
    label = ""
    if "@" in style:
        style, label = style.split("@", 1)
    kind, _, rest = style.partition(":")
    charset, _, chunk = rest.partition(":")
    return kind, charset, int(chunk or 0), label


def name_params(filename: str, style: str) -> tuple[bytes, bytes]:
    """(Content-Type name param, Content-Disposition filename param) in a client's style:
    ``ascii``; ``ew:CHARSET[:CHUNK][@LABEL]`` or ``ewq:…`` (RFC 2047 B or Q words inside
    quotes, as QQ Mail, Foxmail and Outlook write them); ``2231:CHARSET[:CHUNK]`` (RFC 2231, as
    Thunderbird and Apple Mail write them); ``raw:CHARSET`` (raw 8-bit bytes, as old clients
    write them)."""
    kind, charset, chunk, label = parse_style(style)
    if kind == "ascii":
        v = filename.encode("ascii")
    elif kind in ("ew", "ewq"):
        v = encoded_words(filename, charset, "Q" if kind == "ewq" else "B", chunk, label)
    elif kind == "2231":
        return rfc2231("name", filename, charset, chunk), rfc2231(
            "filename", filename, charset, chunk
        )
    elif kind == "raw":
        v = filename.encode(charset)
    else:
        raise ValueError(style)
    return b'name="' + v + b'"', b'filename="' + v + b'"'


def header_text(text: str, style: str) -> bytes:
    """A header value (Subject, display name) in the same styles as ``name_params``."""
    kind, charset, chunk, label = parse_style(style)
    if kind == "ascii":
        return text.encode("ascii")
    if kind in ("ew", "ewq"):
        return encoded_words(text, charset, "Q" if kind == "ewq" else "B", chunk, label)
    if kind == "raw":
        return text.encode(charset)
    raise ValueError(style)


def received_header(by_time: datetime, helo: str, ip: str, by: str, smtp_id: str) -> bytes:
    """A folded Received header whose date (after the last ';') is ``by_time``."""
    return (
        f"from {helo} (unknown [{ip}])\r\n\tby {by} (NewEsmtp) with SMTP id {smtp_id};\r\n\t"
        f"{format_datetime(by_time)}"
    ).encode("ascii")


# ---------------------------------------------------------------------------------------------
# MIME tree
# ---------------------------------------------------------------------------------------------


@dataclass
class Leaf:
    headers: list[tuple[str, bytes]]
    body: bytes


@dataclass
class Multi:
    subtype: str
    boundary: str
    parts: list
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    preamble: bytes = b"This is a multi-part message in MIME format."
    close: bool = True  # False: the closing boundary is missing (truncated mail)
    type_params: bytes = b""


def fold_b64(data: bytes) -> bytes:
    enc = base64.b64encode(data)
    return CRLF.join(enc[i : i + 76] for i in range(0, len(enc), 76)) + CRLF


def render_headers(headers: list[tuple[str, bytes]]) -> bytes:
    return b"".join(name.encode("ascii") + b": " + value + CRLF for name, value in headers)


def render(node) -> bytes:
    """Serialise a MIME node (headers included)."""
    if isinstance(node, Leaf):
        return render_headers(node.headers) + CRLF + node.body
    ctype = f'multipart/{node.subtype};\r\n\tboundary="{node.boundary}"'.encode() + node.type_params
    out = render_headers([*node.headers, ("Content-Type", ctype)]) + CRLF
    if node.preamble:
        out += node.preamble + CRLF
    for part in node.parts:
        out += CRLF + b"--" + node.boundary.encode() + CRLF + render(part)
    if node.close:
        out += CRLF + b"--" + node.boundary.encode() + b"--" + CRLF
    return out


def text_part(text: str, subtype: str = "plain", charset: str = "utf-8", cte: str = "base64"):
    raw = text.replace("\n", "\r\n").encode(charset)
    ctype = f"text/{subtype}; charset={charset}".encode()
    if cte == "base64":
        body = fold_b64(raw)
    elif cte == "8bit":
        body = raw + CRLF
    else:
        raise ValueError(cte)
    return Leaf([("Content-Type", ctype), ("Content-Transfer-Encoding", cte.encode())], body)


def file_part(
    filename: str,
    data: bytes,
    mime: str = "application/octet-stream",
    style: str = "ew:utf-8",
    disposition: str = "attachment",
    cid: str | None = None,
) -> Leaf:
    name_p, file_p = name_params(filename, style)
    headers = [
        ("Content-Type", mime.encode() + b";\r\n\t" + name_p),
        ("Content-Transfer-Encoding", b"base64"),
        ("Content-Disposition", disposition.encode() + b";\r\n\t" + file_p),
    ]
    if cid:
        headers.append(("Content-ID", f"<{cid}>".encode()))
    return Leaf(headers, fold_b64(data))


# ---------------------------------------------------------------------------------------------
# Zip archives, written by hand (GBK names without the UTF-8 flag, ZipCrypto, bombs)
# ---------------------------------------------------------------------------------------------


@dataclass
class ZEntry:
    name: str
    data: bytes | None = None  # None: a directory entry
    encoding: str = "utf8-flag"  # utf8-flag | utf8-noflag | gbk | ascii | raw (name_bytes)
    name_bytes: bytes | None = None
    stored: bool = False
    zeros: int = 0  # > 0: a bomb member of this many zero bytes, streamed


class _ZipCrypto:
    def __init__(self, password: bytes):
        self.k0, self.k1, self.k2 = 0x12345678, 0x23456789, 0x34567890
        for b in password:
            self._update(b)

    @staticmethod
    def _crc_byte(crc: int, b: int) -> int:
        return (zlib.crc32(bytes([b]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF) & 0xFFFFFFFF

    def _update(self, b: int) -> None:
        self.k0 = self._crc_byte(self.k0, b)
        self.k1 = (self.k1 + (self.k0 & 0xFF)) & 0xFFFFFFFF
        self.k1 = (self.k1 * 134775813 + 1) & 0xFFFFFFFF
        self.k2 = self._crc_byte(self.k2, (self.k1 >> 24) & 0xFF)

    def encrypt(self, data: bytes) -> bytes:
        out = bytearray()
        for b in data:
            t = (self.k2 | 2) & 0xFFFF
            out.append(b ^ (((t * (t ^ 1)) >> 8) & 0xFF))
            self._update(b)
        return bytes(out)


def _dos_time(t=FIXED_ZIP_TIME) -> tuple[int, int]:
    y, mo, d, h, mi, s = t
    return (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d


def make_zip(entries: list[ZEntry], password: bytes | None = None, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    dtime, ddate = _dos_time()
    out = io.BytesIO()
    central = []
    for e in entries:
        if e.name_bytes is not None:
            name, flag = e.name_bytes, 0
        elif e.encoding == "utf8-flag":
            name, flag = e.name.encode("utf-8"), 0x800
        elif e.encoding == "utf8-noflag":
            name, flag = e.name.encode("utf-8"), 0
        elif e.encoding == "gbk":
            name, flag = e.name.encode("gbk"), 0
        else:
            name, flag = e.name.encode("ascii"), 0
        is_dir = e.data is None and not e.zeros
        if is_dir:
            method, crc, comp, size = 0, 0, b"", 0
        elif e.zeros:
            method, size = 8, e.zeros
            co = zlib.compressobj(9, zlib.DEFLATED, -15)
            chunk = bytes(1 << 20)
            parts, crc, left = [], 0, e.zeros
            while left:
                n = min(left, len(chunk))
                parts.append(co.compress(chunk[:n]))
                crc = zlib.crc32(chunk[:n], crc)
                left -= n
            parts.append(co.flush())
            comp = b"".join(parts)
        else:
            size, crc = len(e.data), zlib.crc32(e.data)
            if e.stored:
                method, comp = 0, e.data
            else:
                co = zlib.compressobj(6, zlib.DEFLATED, -15)
                method, comp = 8, co.compress(e.data) + co.flush()
        if password is not None and not is_dir:
            flag |= 0x1
            zc = _ZipCrypto(password)
            header = bytes(rng.integers(0, 256, 11, dtype=np.uint8)) + bytes([(crc >> 24) & 0xFF])
            comp = zc.encrypt(header + comp)
        offset = out.tell()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                flag,
                method,
                dtime,
                ddate,
                crc & 0xFFFFFFFF,
                len(comp),
                size,
                len(name),
                0,
            )
        )
        out.write(name)
        out.write(comp)
        ext_attr = 0x10 if is_dir else 0x20
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                flag,
                method,
                dtime,
                ddate,
                crc & 0xFFFFFFFF,
                len(comp),
                size,
                len(name),
                0,
                0,
                0,
                0,
                ext_attr,
                offset,
            )
            + name
        )
    cd_start = out.tell()
    for c in central:
        out.write(c)
    cd_size = out.tell() - cd_start
    out.write(
        struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), cd_size, cd_start, 0)
    )
    return out.getvalue()


def normalize_zip(data: bytes) -> bytes:
    """Rewrite an OOXML package with fixed timestamps so that its bytes are reproducible."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


def make_7z(files: list[tuple[str, bytes]]) -> bytes:
    import py7zr

    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files:
            path = os.path.join(tmp, "src", name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(data)
            os.utime(path, (FIXED_EPOCH, FIXED_EPOCH))
        out = os.path.join(tmp, "a.7z")
        with py7zr.SevenZipFile(out, "w") as z:
            for name, _ in files:
                z.write(os.path.join(tmp, "src", name), name)
        with open(out, "rb") as fh:
            return fh.read()


# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------


def photo_array(seed: int, w: int, h: int, noise: float = 18.0) -> np.ndarray:
    """A photo-like picture: sky/ground gradient, a few shapes (banner, people), sensor noise."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, h)[:, None, None]
    top = rng.integers(90, 220, 3)
    bottom = rng.integers(30, 160, 3)
    img = (top * (1 - y) + bottom * y) * np.ones((1, w, 1))
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(pil)
    bx = int(rng.integers(0, w // 3))
    draw.rectangle([bx, h // 8, bx + w // 2, h // 8 + h // 10], fill=(200, 20, 30))  # red banner
    for _ in range(int(rng.integers(4, 12))):  # people
        px, py = int(rng.integers(0, w)), int(rng.integers(h // 2, h))
        col = tuple(int(c) for c in rng.integers(0, 255, 3))
        draw.ellipse([px - 12, py - 60, px + 12, py - 36], fill=(230, 190, 160))
        draw.rectangle([px - 18, py - 36, px + 18, py + 30], fill=col)
    arr = np.asarray(pil).astype(np.float32)
    arr += rng.normal(0, noise, arr.shape)
    return np.clip(arr, 0, 255).astype(np.uint8)


def jpeg(seed: int, w: int = 800, h: int = 600, quality: int = 85, noise: float = 18.0) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(photo_array(seed, w, h, noise)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def png_photo(seed: int, w: int = 640, h: int = 480) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(photo_array(seed, w, h, noise=6.0)).save(buf, "PNG")
    return buf.getvalue()


def logo_png(seed: int, w: int = 160, h: int = 48) -> bytes:
    rng = np.random.default_rng(seed)
    pil = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(pil)
    col = tuple(int(c) for c in rng.integers(0, 200, 3))
    draw.ellipse([4, 4, h - 4, h - 4], fill=col)
    draw.rectangle([h + 4, h // 3, w - 8, h // 3 + 8], fill=col)
    buf = io.BytesIO()
    pil.save(buf, "PNG", optimize=False)
    return buf.getvalue()


def emoji_gif(seed: int) -> bytes:
    pil = Image.new("P", (22, 22), 0)
    draw = ImageDraw.Draw(pil)
    draw.ellipse([1, 1, 20, 20], fill=1 + seed % 200)
    buf = io.BytesIO()
    pil.save(buf, "GIF")
    return buf.getvalue()


def scan_page_jpeg(seed: int, w: int = 1240, h: int = 1754) -> bytes:
    """A grey 'scanned page': paper texture and dark line blocks where text would be."""
    rng = np.random.default_rng(seed)
    arr = np.full((h, w), 238, np.float32) + rng.normal(0, 6, (h, w))
    for line in range(40):
        y0 = 180 + line * 36
        x1 = int(rng.integers(600, w - 120))
        arr[y0 : y0 + 16, 120:x1] -= rng.uniform(120, 170)
    buf = io.BytesIO()
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L").save(buf, "JPEG", quality=60)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------


def make_docx(
    paragraphs: list[str],
    meta_title: str = "",
    author: str = "Administrator",
    picture: bytes | None = None,
    lead_blank: int = 0,
    table: list[list[str]] | None = None,
) -> bytes:
    """A real .docx. The first non-empty paragraph is the document's own title; ``meta_title`` is
    the (often stale) core-properties title."""
    import docx
    from docx.shared import Cm, Pt

    d = docx.Document()
    cp = d.core_properties
    cp.title = meta_title
    cp.author = author
    cp.last_modified_by = author
    cp.created = datetime(2020, 11, 2, 8, 0, 0)
    cp.modified = datetime(2020, 12, 20, 9, 30, 0)
    cp.revision = 3
    for _ in range(lead_blank):
        d.add_paragraph("")
    for i, text in enumerate(paragraphs):
        p = d.add_paragraph()
        run = p.add_run(text)
        if i == 0:
            run.bold = True
            run.font.size = Pt(18)
    if table:
        t = d.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, val in enumerate(row):
                t.cell(r, c).text = val
    if picture is not None:
        d.add_picture(io.BytesIO(picture), width=Cm(12))
        d.add_paragraph("图为活动现场。")
    buf = io.BytesIO()
    d.save(buf)
    return normalize_zip(buf.getvalue())


def docx_to_doc(docx_bytes: bytes) -> bytes:
    """Convert with LibreOffice to the binary Word 97 format (.doc; also what .wps files are)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise SystemExit("make_blind: LibreOffice (soffice) is required to build .doc fixtures")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.docx")
        with open(src, "wb") as fh:
            fh.write(docx_bytes)
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{tmp}/profile",
                "--headless",
                "--convert-to",
                "doc",
                "--outdir",
                tmp,
                src,
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
        with open(os.path.join(tmp, "in.doc"), "rb") as fh:
            return fh.read()


def _pdf_hex(text: str) -> str:
    return "<" + text.encode("utf-16-be").hex().upper() + ">"


def make_pdf(
    lines: list[str] | None = None,
    images: list[bytes] | None = None,
    meta_title: str = "",
    scanned: list[bytes] | None = None,
) -> bytes:
    """A PDF written by hand. ``lines``: a text page (STSong-Light, UniGB-UCS2-H, with a
    ToUnicode map so that text extraction works); ``images``: JPEGs drawn on that page;
    ``scanned``: one full-page JPEG per page and no text layer at all."""
    objs: dict[int, bytes] = {}
    pages: list[int] = []
    nxt = [3]

    def new(body: bytes) -> int:
        n = nxt[0]
        nxt[0] += 1
        objs[n] = body
        return n

    def stream(dict_extra: bytes, data: bytes) -> bytes:
        return b"<< /Length %d %s >>\nstream\n" % (len(data), dict_extra) + data + b"\nendstream"

    def image_obj(jpg: bytes) -> tuple[int, int, int]:
        im = Image.open(io.BytesIO(jpg))
        cs = b"/DeviceGray" if im.mode == "L" else b"/DeviceRGB"
        extra = (
            b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s "
            % (im.width, im.height, cs)
            + b"/BitsPerComponent 8 /Filter /DCTDecode"
        )
        return new(stream(extra, jpg)), im.width, im.height

    font_ref = None
    if lines:
        used = sorted({ord(c) for c in "".join(lines)})
        bf = "".join(f"<{u:04X}> <{u:04X}>\n" for u in used)
        cmap = (
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            f"{len(used)} beginbfchar\n{bf}endbfchar\n"
            "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
        ).encode()
        tounicode = new(stream(b"", cmap))
        desc = new(
            b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
            b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
            b"/CapHeight 880 /StemV 93 >>"
        )
        cid = new(
            b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
            b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
            b"/FontDescriptor %d 0 R /DW 1000 >>" % desc
        )
        font_ref = new(
            b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light-UniGB-UCS2-H "
            b"/Encoding /UniGB-UCS2-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>"
            % (cid, tounicode)
        )
        ops, xobjs = [], []
        y = 780
        for i, line in enumerate(lines):
            size = 18 if i == 0 else 12
            ops.append(f"BT /F1 {size} Tf 60 {y} Td {_pdf_hex(line)} Tj ET")
            y -= 34 if i == 0 else 20
        for k, jpg in enumerate(images or []):
            ref, w, h = image_obj(jpg)
            xobjs.append(b"/Im%d %d 0 R" % (k, ref))
            dw = 300
            dh = int(dw * h / w)
            y -= dh + 20
            ops.append(f"q {dw} 0 0 {dh} 60 {y} cm /Im{k} Do Q")
        content = new(stream(b"", "\n".join(ops).encode("ascii")))
        res = b"<< /Font << /F1 %d 0 R >> /XObject << %s >> >>" % (font_ref, b" ".join(xobjs))
        pages.append(
            new(
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                b"/Resources %s /Contents %d 0 R >>" % (res, content)
            )
        )
    for jpg in scanned or []:
        ref, _, _ = image_obj(jpg)
        content = new(stream(b"", b"q 595 0 0 842 0 0 cm /Im0 Do Q"))
        pages.append(
            new(
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                b"/Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>" % (ref, content)
            )
        )
    objs[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objs[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % p for p in pages),
        len(pages),
    )
    info = new(
        b"<< /Title <FEFF"
        + meta_title.encode("utf-16-be").hex().upper().encode()
        + b">"
        + b" /Producer (Microsoft Word 2016) "
        b"/CreationDate (D:20201228101200+08'00') >>"
    )
    out = io.BytesIO()
    out.write(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for n in sorted(objs):
        offsets[n] = out.tell()
        out.write(b"%d 0 obj\n" % n + objs[n] + b"\nendobj\n")
    xref = out.tell()
    count = max(objs) + 1
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % count)
    for n in range(1, count):
        out.write(b"%010d 00000 n \n" % offsets[n])
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (count, info, xref)
    )
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Videos (ffmpeg)
# ---------------------------------------------------------------------------------------------

_VIDEO_ARGS = {
    "mp4": [
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
    ],
    "mov": [
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-f",
        "mov",
    ],
    "avi": ["-c:v", "mpeg4", "-q:v", "5", "-c:a", "pcm_s16le", "-f", "avi"],
    "wmv": ["-c:v", "wmv2", "-b:v", "600k", "-c:a", "wmav2", "-f", "asf"],
    "3gp": [
        "-c:v",
        "h263",
        "-s",
        "352x288",
        "-c:a",
        "aac",
        "-ar",
        "16000",
        "-ac",
        "1",
        "-f",
        "3gp",
    ],
}


def make_video(
    kind: str,
    seed: int,
    seconds: float = 2.0,
    size: str = "320x240",
    source: str = "testsrc2",
    bitrate: str | None = None,
    noise: int = 0,
) -> bytes:
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        raise SystemExit("make_blind: ffmpeg is required to build video fixtures")
    vf = f"{source}=size={size}:rate=25:duration={seconds}"
    if noise:
        vf += f",noise=alls={noise}:allf=t+u"
    freq = 220 + 37 * seed
    args = list(_VIDEO_ARGS[kind])
    if bitrate:
        args = [*args[:-2], "-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate, *args[-2:]]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "v." + kind)
        cmd = [
            ffmpeg,
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            vf,
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={freq}:duration={seconds}",
            "-threads",
            "1",
            *args[:-2],
            "-fflags",
            "+bitexact",
            "-flags:v",
            "+bitexact",
            "-flags:a",
            "+bitexact",
            "-map_metadata",
            "-1",
            *args[-2:],
            out,
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=300)
        with open(out, "rb") as fh:
            return fh.read()
