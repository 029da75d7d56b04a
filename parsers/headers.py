"""Header text decoding that gets Chinese right.

The standard library's ``email.header.decode_header`` joins adjacent encoded words of one charset
before decoding (so words split mid-character decode correctly); on top of it we map gb2312/gbk to
gb18030 (their superset, as mail clients do), recover raw 8-bit header bytes (UTF-8 first, then
GB18030), and never drop bytes silently: a lossy decode is reported to the caller.
"""

from __future__ import annotations

import email.header
import email.utils
import re
import unicodedata
from email.errors import HeaderParseError
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import Compat32

_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "gb_2312-80": "gb18030",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "ks_c_5601-1987": "cp949",
    "iso-8859-8-i": "iso-8859-8",
}


class _RawHeaderPolicy(Compat32):
    """compat32, but header values keep their raw 8-bit bytes (as surrogate escapes).

    compat32 would replace them with U+FFFD before we can try UTF-8 and GB18030 on them.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


RAW_POLICY = _RawHeaderPolicy()


def parse_header_block(block: bytes) -> Message:
    """Headers of one MIME entity, values kept raw for ``decode_header_value``."""
    return BytesHeaderParser(policy=RAW_POLICY).parsebytes(block)


def codec_for(charset: str | None) -> str:
    """The codec to decode a declared charset with (gb2312 → gb18030 and friends)."""
    name = (charset or "").strip().strip('"').lower()
    return _CHARSET_ALIASES.get(name, name) or "utf-8"


def decode_raw_bytes(data: bytes) -> tuple[str, bool]:
    """Decode undeclared bytes: UTF-8 if valid, else GB18030; returns (text, lossy)."""
    for codec in ("utf-8", "gb18030"):
        try:
            return data.decode(codec), False
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace"), True


def decode_text(data: bytes, charset: str | None) -> tuple[str, bool]:
    """Decode bytes in a declared charset, falling back when the label is wrong or unknown."""
    codec = codec_for(charset)
    try:
        return data.decode(codec), False
    except (LookupError, ValueError):  # unknown label, "undefined", idna, NUL in the label
        pass
    text, lossy = decode_raw_bytes(data)
    if not lossy:
        return text, False
    try:
        return data.decode(codec, "replace"), True
    except (LookupError, ValueError):
        return text, True


def _unfold(text: str) -> str:
    return re.sub(r"\r?\n[ \t]+", " ", text).replace("\r", "").replace("\n", "")


def decode_header_value(value: object) -> tuple[str, bool]:
    """Decode one header value as the compat32 parser returns it; returns (text, lossy).

    Raw 8-bit bytes arrive as surrogate escapes and are recovered before decoding.
    """
    if value is None:
        return "", False
    if isinstance(value, email.header.Header):
        value = str(value)
    text = _unfold(str(value))
    raw = text.encode("utf-8", "surrogateescape")
    recovered_lossy = False
    if any(byte >= 0x80 for byte in raw) and re.search(r"[\udc80-\udcff]", text):
        text, recovered_lossy = decode_raw_bytes(raw)
    if "=?" not in text:
        return text.strip(), recovered_lossy
    try:
        chunks = email.header.decode_header(text)
    except (HeaderParseError, ValueError):
        return text.strip(), True
    out: list[str] = []
    lossy = recovered_lossy
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        if charset is None and not text.isascii():
            # decode_header hands back non-ASCII plain runs as raw-unicode-escape bytes
            piece, bad = chunk.decode("raw-unicode-escape"), False
        elif charset is None:
            piece, bad = decode_raw_bytes(chunk)
        else:
            piece, bad = decode_text(chunk, charset)
        out.append(piece)
        lossy = lossy or bad
    return "".join(out).strip(), lossy


def decode_param(value: object) -> tuple[str, bool]:
    """Decode a MIME parameter from ``Message.get_param`` (plain, RFC 2047 or RFC 2231)."""
    if value is None:
        return "", False
    if isinstance(value, tuple):
        charset, _language, text = value
        data = str(text).encode("latin-1", "surrogateescape")
        return decode_text(data, charset) if charset else decode_raw_bytes(data)
    return decode_header_value(email.utils.unquote(str(value)))


def parse_address(value: object) -> tuple[str, str]:
    """(display name, lower-case address) of a From-like header."""
    text, _ = decode_header_value(value)
    name, address = email.utils.parseaddr(text)
    if not address and "@" in text:
        match = re.search(r"[\w.+-]+@[\w.-]+", text)
        address = match.group(0) if match else ""
    return unicodedata.normalize("NFC", name.strip()), address.strip().lower()
