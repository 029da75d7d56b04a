"""What a file really is: sniffed from its content, the name's extension only as a tie-breaker.

Libraries and why:
- ``filetype`` holds the magic-byte signatures (images, videos, archives, PDF, RTF, OOXML by
  its local headers); we never keep a signature table of our own for what it covers.
- ``zipfile`` (stdlib) reads a ZIP's central directory: tells .docx/.xlsx/.pptx from a plain
  archive by their parts, and flags a truncated ZIP (no central directory) as corrupt.
- ``olefile`` reads the stream directory of OLE2 compound files (.doc/.wps/.xls/.ppt all share
  one magic; only the stream names tell them apart). ``filetype``'s own .doc test only looks at
  fixed offsets and misses most real files.
- ``Pillow`` reads image headers lazily (size without decoding) and decodes to find damage;
  ``pillow-heif`` does the same for HEIC (used directly, without registering a Pillow plugin,
  so that sniffing changes no process-wide state).
- ``pypdf``, ``py7zr``, ``rarfile`` and ``tarfile`` open their formats to tell a damaged file
  from a good one.

Every check is local and bounded: nothing here decompresses a whole archive. Images are
decoded only below Pillow's decompression-bomb limit (JPEGs, decoded at 1/8 scale, up to twice
it, where Pillow itself refuses); a PDF's page tree and object count are checked before pypdf
builds its page list (``pdf_limits_problem``).
"""

from __future__ import annotations

import codecs
import re
import tarfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import filetype
import olefile
import pillow_heif
from PIL import Image

KINDS = ("image", "video", "document", "archive", "message", "other")

# Pillow's default decompression-bomb limit (Image.MAX_IMAGE_PIXELS), as our own constant:
# that global can be changed by any library. A JPEG is decoded at 1/8 scale, so it may have
# up to twice as many pixels (108-megapixel phone photos exist); other images are decoded whole.
MAX_IMAGE_PIXELS = 89_478_485
# PDFs: page-tree nodes visited (a shared subtree counts once per reference, so a tree that
# multiplies pages by sharing is caught) and objects declared in the cross-reference table.
MAX_PDF_PAGE_NODES = 5000
MAX_PDF_OBJECTS = 500_000

_HEAD_BYTES = 8192  # what filetype itself inspects
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# filetype's extension -> our canonical subtype, per kind. Formats of the same container family
# share one subtype (m4v is MP4, webm is Matroska, apng is PNG).
_IMAGE = {
    "jpg": "jpg",
    "png": "png",
    "apng": "png",
    "gif": "gif",
    "bmp": "bmp",
    "webp": "webp",
    "heic": "heic",
    "tif": "tiff",
}
_OTHER_IMAGE = {"jpx", "cr2", "jxr", "psd", "ico", "avif", "dcm", "xcf", "dwg"}
_VIDEO = {
    "mp4": "mp4",
    "m4v": "mp4",
    "mov": "mov",
    "avi": "avi",
    "wmv": "wmv",
    "3gp": "3gp",
    "mkv": "mkv",
    "webm": "mkv",
    "flv": "flv",
    "mpg": "mpg",
}

MIME = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "webp": "image/webp",
    "heic": "image/heic",
    "tiff": "image/tiff",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "avi": "video/x-msvideo",
    "wmv": "video/x-ms-wmv",
    "3gp": "video/3gpp",
    "mkv": "video/x-matroska",
    "flv": "video/x-flv",
    "mpg": "video/mpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "wps": "application/vnd.ms-works",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "ppt": "application/vnd.ms-powerpoint",
    "txt": "text/plain",
    "rtf": "application/rtf",
    "odt": "application/vnd.oasis.opendocument.text",
    "ofd": "application/ofd",
    "zip": "application/zip",
    "7z": "application/x-7z-compressed",
    "rar": "application/vnd.rar",
    "gz": "application/gzip",
    "tar": "application/x-tar",
    "eml": "message/rfc822",
}

# Extension -> (kind, subtype): used only when the content leaves the choice open.
_BY_EXTENSION = {
    **{ext: ("image", sub) for ext, sub in _IMAGE.items()},
    "jpeg": ("image", "jpg"),
    "jpe": ("image", "jpg"),
    "jfif": ("image", "jpg"),
    "heif": ("image", "heic"),
    "tiff": ("image", "tiff"),
    **{ext: ("video", sub) for ext, sub in _VIDEO.items()},
    "mpeg": ("video", "mpg"),
    "rmvb": ("video", ""),
    "rm": ("video", ""),
    "ts": ("video", ""),
    "vob": ("video", ""),
    **{
        ext: ("document", ext)
        for ext in ("docx", "doc", "wps", "pdf", "xlsx", "xls", "pptx", "ppt", "txt", "rtf")
    },
    "et": ("document", "xls"),
    "dps": ("document", "ppt"),
    "odt": ("document", "odt"),
    "ofd": ("document", "ofd"),
    **{ext: ("archive", ext) for ext in ("zip", "7z", "rar", "gz", "tar")},
    "tgz": ("archive", "gz"),
    "eml": ("message", "eml"),
}

_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]{0,40}:[ \t]")
_MAIL_HEADERS = {
    b"from",
    b"to",
    b"subject",
    b"date",
    b"received",
    b"message-id",
    b"mime-version",
    b"return-path",
    b"delivered-to",
    b"reply-to",
    b"content-type",
    b"x-mailer",
}


@dataclass(frozen=True)
class FileType:
    kind: str  # "image" | "video" | "document" | "archive" | "message" | "other"
    subtype: str  # canonical, see MIME; "" when unknown
    mime: str
    corrupt: str = ""  # non-empty Chinese reason when the content is damaged or unreadable


def extension(name: str) -> str:
    """The lower-case extension of a file name, without the dot ('' if none)."""
    base = PurePosixPath(name.replace("\\", "/")).name
    return base.rsplit(".", 1)[1].lower() if "." in base.strip(".") else ""


def sniff(path: Path, name: str) -> FileType:
    """Classify ``path`` by its content; ``name`` (the original file name) only breaks ties.

    Never raises for bad content: a damaged file keeps its best-guess type and a reason in
    ``corrupt``. A file that cannot be read at all is ``other`` with a reason.
    """
    ext = extension(name)
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)
    except OSError:
        return FileType("other", "", "application/octet-stream", "文件无法读取")
    if size == 0:
        return FileType("other", "", "application/x-empty", "文件为空（0 字节）")

    if head.startswith(_OLE_MAGIC):
        return _sniff_ole(path, ext)
    guess = filetype.guess(head)
    if guess is not None:
        found = _from_guess(path, _refine(guess.extension, head), guess.mime, ext, size)
        if found is not None:
            return found
    return _sniff_unrecognised(head, ext)


def archive_subtype(path: Path, name: str) -> str:
    """'zip', '7z', 'rar', 'gz' or 'tar' when the content is an archive to expand, else ''.

    A cheaper ``sniff`` for archive members: magic bytes and a ZIP's part names only, no
    damage checks (expanding the archive finds the damage anyway)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)
    except OSError:
        return ""
    guess = filetype.guess(head) if head and not head.startswith(_OLE_MAGIC) else None
    if guess is None:
        return ""
    gext = guess.extension
    if gext in ("7z", "rar", "gz", "tar"):
        return gext
    if gext in ("bz2", "xz"):
        return "tar" if _tar_damage(path) == "" else ""
    if gext in ("zip", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub"):
        found = _sniff_zip(path, gext, extension(name))
        return "zip" if found.kind == "archive" else ""
    return ""


def _refine(gext: str, head: bytes) -> str:
    """Correct filetype's answer where it is known to be wrong: its 3GP matcher looks for the
    'ftyp' box at offset 0 instead of 4, so real 3GP files come back as MP4."""
    if gext in ("mp4", "m4v", "mov") and head[4:8] == b"ftyp" and head[8:11] in (b"3gp", b"3g2"):
        return "3gp"
    return gext


def _from_guess(path: Path, gext: str, gmime: str, ext: str, size: int) -> FileType | None:
    if gext in _IMAGE:
        subtype = _IMAGE[gext]
        return FileType("image", subtype, MIME[subtype], _image_damage(path, subtype))
    if gext in _OTHER_IMAGE:
        return FileType("image", "", gmime)
    if gext in _VIDEO:
        subtype = _VIDEO[gext]
        return FileType("video", subtype, MIME[subtype])
    if gext in ("zip", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub"):
        return _sniff_zip(path, gext, ext)
    if gext == "pdf":
        return FileType("document", "pdf", MIME["pdf"], _pdf_damage(path, size))
    if gext == "rtf":
        return FileType("document", "rtf", MIME["rtf"])
    if gext == "7z":
        return FileType("archive", "7z", MIME["7z"], _7z_damage(path))
    if gext == "rar":
        return FileType("archive", "rar", MIME["rar"], _rar_damage(path))
    if gext == "gz":
        return FileType("archive", "gz", MIME["gz"])
    if gext == "tar":
        return FileType("archive", "tar", MIME["tar"], _tar_damage(path))
    if gext in ("bz2", "xz"):
        # Only a compressed tar is an archive we expand; a bare .bz2/.xz stream is not.
        if _tar_damage(path) == "":
            return FileType("archive", "tar", MIME["tar"])
        return FileType("other", "", gmime)
    if gext in ("doc", "xls", "ppt"):  # OLE, handled before guessing; defensive only
        return None
    return FileType("other", "", gmime)


def _sniff_zip(path: Path, gext: str, ext: str) -> FileType:
    """A ZIP container: an office document by its parts, else an archive."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            mimetype = b""
            if "mimetype" in names and zf.getinfo("mimetype").file_size < 200:
                mimetype = zf.read("mimetype").strip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        # No usable central directory (a truncated download). filetype already looked at the
        # local headers; the extension decides between an office file and a plain archive.
        subtype = gext if gext in ("docx", "xlsx", "pptx") else ""
        if not subtype and ext in ("docx", "xlsx", "pptx", "odt", "ofd"):
            subtype = ext
        reason = f"压缩结构损坏或文件不完整（{_short(exc)}）"
        if subtype:
            return FileType("document", subtype, MIME[subtype], reason)
        return FileType("archive", "zip", MIME["zip"], reason)
    subtype = _ooxml_subtype(names, mimetype)
    if subtype:
        return FileType("document", subtype, MIME[subtype])
    return FileType("archive", "zip", MIME["zip"])


def _ooxml_subtype(names: list[str], mimetype: bytes) -> str:
    has_types = "[Content_Types].xml" in names
    prefixes = {n.split("/", 1)[0] for n in names if "/" in n}
    if has_types and "word" in prefixes:
        return "docx"
    if has_types and "xl" in prefixes:
        return "xlsx"
    if has_types and "ppt" in prefixes:
        return "pptx"
    if mimetype == b"application/vnd.oasis.opendocument.text":
        return "odt"
    if "OFD.xml" in names or "ofd.xml" in names:
        return "ofd"
    return ""


def _sniff_ole(path: Path, ext: str) -> FileType:
    """OLE2 compound file: Word (.doc, Kingsoft .wps), Excel, PowerPoint, or encrypted OOXML."""
    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=False)}
    except Exception as exc:  # olefile raises plain OSError/ValueError/IndexError on bad input
        kind, subtype = _BY_EXTENSION.get(ext, ("other", ""))
        if kind != "document" or subtype not in ("doc", "wps", "xls", "ppt"):
            kind, subtype = "document", "doc"
        return FileType(kind, subtype, MIME[subtype], f"文档结构损坏（{_short(exc)}）")
    if "WordDocument" in streams:
        subtype = "wps" if ext == "wps" else "doc"
    elif "Workbook" in streams or "Book" in streams:
        subtype = "xls"
    elif "PowerPoint Document" in streams:
        subtype = "ppt"
    elif "EncryptedPackage" in streams:
        subtype = ext if ext in ("docx", "xlsx", "pptx") else "docx"
        return FileType("document", subtype, MIME[subtype], "文档已加密（需要密码），无法读取")
    else:
        return FileType("other", "", "application/x-ole-storage")
    return FileType("document", subtype, MIME[subtype])


def _sniff_unrecognised(head: bytes, ext: str) -> FileType:
    """No magic matched: a mail, plain text, a known stream without magic, or by extension."""
    if _looks_like_mail(head):
        if ext in ("doc", "wps"):  # Word's "single file web page" (MHTML) saved as .doc
            return FileType("document", ext, MIME[ext])
        if ext in ("mht", "mhtml"):
            return FileType("other", "", "multipart/related")
        return FileType("message", "eml", MIME["eml"])
    if _looks_like_video_stream(head):
        return FileType("video", "", "video/octet-stream")
    if _looks_like_text(head):
        if ext in ("doc", "wps"):  # HTML or text saved with a Word extension: LibreOffice reads it
            return FileType("document", ext, MIME[ext])
        if ext in ("txt", "text", "log", ""):
            return FileType("document", "txt", MIME["txt"])
        return FileType("other", "", "text/plain")
    kind, subtype = _BY_EXTENSION.get(ext, ("other", ""))
    if kind == "other":
        return FileType("other", "", "application/octet-stream")
    mime = MIME.get(subtype, "application/octet-stream")
    return FileType(kind, subtype, mime, "内容无法识别，与扩展名不符，可能已损坏")


def _looks_like_mail(head: bytes) -> bool:
    lines = head.lstrip(b"\r\n").splitlines()[:30]
    if not lines or not _HEADER_LINE.match(lines[0]):
        return False
    known = {
        line.split(b":", 1)[0].lower()
        for line in lines
        if _HEADER_LINE.match(line) and line.split(b":", 1)[0].lower() in _MAIL_HEADERS
    }
    return len(known) >= 2


def _looks_like_video_stream(head: bytes) -> bool:
    if head.startswith(b".RMF"):  # RealMedia (.rm/.rmvb)
        return True
    # MPEG transport stream: a 0x47 sync byte every 188 bytes
    return len(head) >= 188 * 4 and all(head[i * 188] == 0x47 for i in range(4))


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            # A final=False incremental decode tolerates a character cut at the head's end.
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return True
    return False


def _image_damage(path: Path, subtype: str) -> str:
    """'' if the image decodes, else a reason. JPEGs decode at 1/8 scale (fast, reads it all)."""
    if subtype == "heic":
        try:
            heif = pillow_heif.open_heif(str(path), convert_hdr_to_8bit=True)
            too_big = _pixel_problem(*heif.size, subtype)
            if too_big:
                return too_big
            heif[0].data  # noqa: B018 - decoding is the check
        except Exception as exc:  # libheif reports every failure as a generic error
            return f"图片已损坏或不完整（{_short(exc)}）"
        return ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                too_big = _pixel_problem(im.width, im.height, subtype)
                if too_big:
                    return too_big
                if subtype == "png":
                    im.verify()  # checks every chunk's CRC without inflating the pixels
                    return ""
                if subtype == "jpg":
                    if _ends_with_eoi(path):
                        return ""  # headers parse and the end marker is there: the usual case
                    # No end marker at the end (truncated, or a phone appended data such as a
                    # motion-photo video): decode at 1/8 scale to tell which.
                    im.draft("RGB", (max(1, im.width // 8), max(1, im.height // 8)))
                im.load()
    except Image.DecompressionBombError:  # over twice Pillow's limit: refused at open
        return _BOMB_IMAGE
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError... on bad data
        return f"图片已损坏或不完整（{_short(exc)}）"
    return ""


_BOMB_IMAGE = "图片像素数超过安全上限（疑似解压炸弹），未解码，请人工核对"


def _pixel_problem(width: int, height: int, subtype: str) -> str:
    """A reason not to decode an image of this size, or ""."""
    pixels = int(width) * int(height)
    limit = 2 * MAX_IMAGE_PIXELS if subtype == "jpg" else MAX_IMAGE_PIXELS
    return _BOMB_IMAGE if pixels > limit else ""


def _ends_with_eoi(path: Path) -> bool:
    """A JPEG's EOI marker (FF D9) within its last bytes: a cheap sign it arrived whole."""
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - 64))
        return b"\xff\xd9" in handle.read()


def _pdf_damage(path: Path, size: int) -> str:
    from pypdf import PdfReader  # these libraries load only for their own formats

    try:
        with path.open("rb") as fh:
            fh.seek(max(0, size - 2048))
            tail = fh.read()
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return "PDF 已加密（需要密码），无法读取"
        limits = pdf_limits_problem(reader)
        if limits:
            return limits
        if len(reader.pages) == 0:
            return "PDF 没有页面，可能已损坏"
    except Exception as exc:  # pypdf raises many unrelated types on damaged files
        return f"PDF 已损坏（{_short(exc)}）"
    if b"%%EOF" not in tail:
        return "PDF 文件不完整（缺少结束标记），可能传输中被截断"
    return ""


def pdf_limits_problem(reader) -> str:
    """Why a PDF must not be read further (too many objects or pages), or "".

    Walks the page tree with a budget before pypdf flattens it: a tree whose nodes share
    subtrees multiplies its pages without growing the file (a page bomb), and flattening it
    costs memory and time in proportion to the pages, not to the file."""
    try:
        size = int(reader.trailer.get("/Size", 0) or 0)
    except (TypeError, ValueError):
        size = 0
    if size > MAX_PDF_OBJECTS:
        return f"PDF 对象数量超过安全上限（{size} 个），未读取，请人工核对"
    root = reader.trailer["/Root"].get_object()
    stack = [root.get("/Pages")]
    visited = 0
    while stack:
        node = stack.pop()
        node = node.get_object() if node is not None else None
        if not hasattr(node, "get"):
            continue
        visited += 1
        if visited > MAX_PDF_PAGE_NODES:
            return f"PDF 页数超过安全上限（超过 {MAX_PDF_PAGE_NODES} 页），未读取，请人工核对"
        kids = node.get("/Kids")
        kids = kids.get_object() if kids is not None else None
        if isinstance(kids, list):
            stack.extend(kids)
    return ""


def _7z_damage(path: Path) -> str:
    import py7zr

    try:
        with py7zr.SevenZipFile(path, mode="r"):
            pass
    except py7zr.PasswordRequired:
        return ""  # encrypted headers: intact, but expand() will report it
    except Exception as exc:  # py7zr raises Bad7zFile, EOFError, struct.error...
        return f"压缩包已损坏或不完整（{_short(exc)}）"
    return ""


def _rar_damage(path: Path) -> str:
    import rarfile

    try:
        with rarfile.RarFile(path):
            pass
    except rarfile.PasswordRequired:
        return ""
    except Exception as exc:
        return f"压缩包已损坏或不完整（{_short(exc)}）"
    return ""


def _tar_damage(path: Path) -> str:
    try:
        with tarfile.open(path, mode="r:*") as tf:
            tf.next()
    except Exception as exc:
        return f"压缩包已损坏或不完整（{_short(exc)}）"
    return ""


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the image header, without decoding pixels; None if unreadable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                return int(im.width), int(im.height)
    except Exception:
        pass
    try:
        if pillow_heif.is_supported(str(path)):
            width, height = pillow_heif.open_heif(str(path)).size
            return int(width), int(height)
    except Exception:
        pass
    return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:120]
