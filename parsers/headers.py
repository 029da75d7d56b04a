"""Header text decoding that gets Chinese right and never raises: the one header decoder.

- Encoded words (RFC 2047): the standard library's ``email.header.decode_header`` joins adjacent
  encoded words of one charset before decoding (so words split mid-character decode correctly).
- Charset labels: gb2312/gbk read as GB18030 (their superset, as mail clients do). A label that
  does not fit the bytes is respected with replacement characters when it is a specific legacy
  charset (iso-2022-jp, big5 ...), and treated as no label when it is a catch-all default
  (us-ascii, utf-8, the GB family, an unknown name): software stamps those on text it never
  looked at.
- Raw 8-bit bytes (no label at all): strict UTF-8 when valid (it is self-identifying, and mail
  clients check it first), else the charsets the message itself declares for its parts, else
  GB18030 (right for nearly all Chinese mail), marked ``guessed``. Nothing is dropped silently:
  a lossy decode is reported as ``lossy``.
- MIME parameters (RFC 2045/2231) through our own tolerant splitter: continuations with and
  without ``*``, missing or repeated sections, ``filename*`` beside ``filename``, unquoted values
  with spaces, encoded words inside quotes. The standard library's ``get_param`` raises
  ``TypeError`` on some of these mixes, which once failed a whole message.
- Addresses are taken from the raw header (RFC 5322 structure) and display names decoded
  afterwards, so an encoded display name can never smuggle in an address.
"""

from __future__ import annotations

import codecs
import email.header
import email.utils
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import Compat32
from typing import NamedTuple
from urllib.parse import unquote_to_bytes

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
# Codecs (normalised names) whose label is a default rather than a statement about the bytes.
_CATCH_ALL = frozenset({"ascii", "utf-8", "gb18030"})


class Decoded(NamedTuple):
    text: str
    lossy: bool = False  # some bytes could not be decoded (U+FFFD in text)
    guessed: bool = False  # no declared charset fitted: the charset was guessed


class _RawHeaderPolicy(Compat32):
    """compat32, but header values keep their raw 8-bit bytes (as surrogate escapes).

    compat32 would replace them with U+FFFD before we can try UTF-8 and GB18030 on them.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


RAW_POLICY = _RawHeaderPolicy()


def parse_header_block(block: bytes) -> Message:
    """Headers of one MIME entity, values kept raw for ``decode_value``."""
    return BytesHeaderParser(policy=RAW_POLICY).parsebytes(block)


def codec_for(charset: str | None) -> str:
    """The codec to decode a declared charset with (gb2312 → gb18030 and friends)."""
    name = (charset or "").strip().strip('"').lower()
    return _CHARSET_ALIASES.get(name, name) or "utf-8"


def _codec(label: str | None) -> str:
    """The normalised text codec of a charset label; "" for none, unknown or not text."""
    name = (label or "").strip().strip("\"'").lower()
    if not name:
        return ""
    try:
        info = codecs.lookup(_CHARSET_ALIASES.get(name, name))
    except (LookupError, ValueError, TypeError):
        return ""
    return info.name if info._is_text_encoding else ""  # type: ignore[attr-defined]


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (LookupError, ValueError, TypeError):  # UnicodeDecodeError is a ValueError
        return None


def guess_bytes(data: bytes, charsets: Sequence[str] = ()) -> Decoded:
    """Unlabelled bytes: UTF-8 if valid, else a charset the message declares, else GB18030."""
    if data.isascii():
        return Decoded(data.decode("ascii"))
    text = _strict(data, "utf-8")
    if text is not None:
        return Decoded(text)
    for label in charsets:
        codec = _codec(label)
        if codec and codec not in ("ascii", "utf-8"):
            text = _strict(data, codec)
            if text is not None:
                return Decoded(text)
    text = _strict(data, "gb18030")
    if text is not None:
        return Decoded(text, guessed=True)
    return Decoded(data.decode("utf-8", "replace"), lossy=True, guessed=True)


def decode_bytes(data: bytes, label: str | None, charsets: Sequence[str] = ()) -> Decoded:
    """Bytes with a declared charset label (possibly wrong, unknown or empty)."""
    codec = _codec(label)
    if codec:
        text = _strict(data, codec)
        if text is not None:
            return Decoded(text)
        if codec not in _CATCH_ALL:
            try:
                return Decoded(data.decode(codec, "replace"), lossy=True)
            except (LookupError, ValueError, TypeError):  # idna & co. refuse "replace"
                pass
    found = guess_bytes(data, charsets)
    if found.lossy and codec:  # nothing fits: the declared charset, with replacements
        try:
            return Decoded(data.decode(codec, "replace"), lossy=True)
        except (LookupError, ValueError, TypeError):
            pass
    return found._replace(guessed=found.guessed or bool(codec))


def decode_raw_bytes(data: bytes, charsets: Sequence[str] = ()) -> tuple[str, bool]:
    """Decode undeclared bytes (see ``guess_bytes``); returns (text, lossy)."""
    found = guess_bytes(data, charsets)
    return found.text, found.lossy


def decode_text(data: bytes, charset: str | None) -> tuple[str, bool]:
    """Decode a body in its declared charset, falling back when the label is a default."""
    found = decode_bytes(data, charset)
    return found.text, found.lossy


def _unfold(text: str) -> str:
    return re.sub(r"\r?\n[ \t]+", " ", text).replace("\r", "").replace("\n", "")


def _raw(text: str) -> bytes:
    """The original bytes of a header string (8-bit bytes arrive as surrogate escapes)."""
    return text.encode("utf-8", "surrogateescape")


def decode_value(value: object, charsets: Sequence[str] = ()) -> Decoded:
    """Decode one header value as the compat32 parser returns it. Never raises.

    Raw 8-bit bytes arrive as surrogate escapes and are recovered before decoding;
    ``charsets`` are the ones the message declares, tried on raw bytes before guessing.
    """
    if value is None:
        return Decoded("")
    text = _unfold(str(value))
    lossy = guessed = False
    if re.search(r"[\udc80-\udcff]", text):
        text, lossy, guessed = guess_bytes(_raw(text), charsets)
    if "=?" not in text:
        return Decoded(text.strip(), lossy, guessed)
    try:
        chunks = email.header.decode_header(text)
    except Exception:  # HeaderParseError, ValueError ... on hostile words: keep them as text
        return Decoded(text.strip(), True, guessed)
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            piece = Decoded(chunk)
        elif charset is None and not text.isascii():
            # decode_header hands back non-ASCII plain runs as raw-unicode-escape bytes
            piece = Decoded(chunk.decode("raw-unicode-escape", "replace"))
        elif charset is None:
            piece = guess_bytes(chunk, charsets)
        else:
            piece = decode_bytes(chunk, charset, charsets)
        out.append(piece.text)
        lossy, guessed = lossy or piece.lossy, guessed or piece.guessed
    return Decoded("".join(out).strip(), lossy, guessed)


def decode_header_value(value: object, charsets: Sequence[str] = ()) -> tuple[str, bool]:
    """``decode_value`` as (text, lossy)."""
    found = decode_value(value, charsets)
    return found.text, found.lossy


# ---- MIME parameters (RFC 2045 / RFC 2231) -------------------------------------------------


@dataclass(frozen=True)
class Params:
    """A structured header such as Content-Type: its main value and its parameters."""

    value: str  # lower-case main value: "multipart/mixed", "attachment"
    items: tuple[tuple[str, str], ...] = ()  # (lower-case name, unquoted value), header order

    def get(self, name: str) -> str:
        """The first plain value of ``name``, else its RFC 2231 form as text, else ""."""
        for key, value in self.items:
            if key == name:
                return value
        found = param_text(self, name)
        return found.text if found else ""


def _param_value(text: str, pos: int) -> tuple[str, int]:
    """One parameter value starting at ``pos``: (value, position after its ';')."""
    end = text.find(";", pos)
    end = len(text) if end < 0 else end
    if not text.startswith('"', pos) or text.find('"', pos + 1) < 0:
        return text[pos:end].strip().strip('"'), end + 1  # unquoted, spaces allowed
    out: list[str] = []
    i = pos + 1
    while i < len(text) and text[i] != '"':
        # Only \" and \\ are escapes: Windows paths (C:\dir\a.doc) keep their backslashes.
        if text[i] == "\\" and text[i + 1 : i + 2] in ('"', "\\"):
            i += 1
        out.append(text[i])
        i += 1
    end = text.find(";", i)
    end = len(text) if end < 0 else end
    tail = text[i + 1 : end].strip().strip('"')  # text after the closing quote: keep it
    return "".join(out) + tail, end + 1


def split_params(value: object) -> Params:
    """Split a Content-Type/Content-Disposition value into its parts. Never raises."""
    text = _unfold("" if value is None else str(value))
    head, _, rest = text.partition(";")
    missing = re.match(r"\s*([^\s=]+)\s+(?=[\w*.-]+\s*=)", head)
    if missing:  # "application/pdf name=a.pdf": a forgotten ';' before the first parameter
        head, rest = missing[1], f"{head[missing.end() :]};{rest}"
    items: list[tuple[str, str]] = []
    pos = 0
    while pos < len(rest):
        stop = min((i for i in (rest.find("=", pos), rest.find(";", pos)) if i >= 0), default=-1)
        if stop < 0 or rest[stop] == ";":  # a word without '=': no parameter
            pos = len(rest) if stop < 0 else stop + 1
            continue
        name = rest[pos:stop].strip().lower()
        param, pos = _param_value(rest, stop + 1 + _spaces(rest, stop + 1))
        if name:
            items.append((name, param))
    return Params(head.strip().lower(), tuple(items))


def _spaces(text: str, pos: int) -> int:
    return len(text[pos:]) - len(text[pos:].lstrip(" \t"))


_SECTION = re.compile(r"^(?P<base>[^*]+)\*(?:(?P<num>\d{1,4})\*?|)$")
_SECTION_STAR = re.compile(r"^[^*]+\*\d{1,4}\*$|^[^*]+\*$")
_CHARSET_PREFIX = re.compile(r"^([A-Za-z0-9_.:+-]*)'([A-Za-z0-9-]*)'")


class _Extended(NamedTuple):
    data: bytes
    charset: str
    encoded: bool  # some section was %-encoded: the bytes are in ``charset``
    complete: bool  # sections 0..n without a gap


def _extended(params: Params, base: str) -> _Extended | None:
    """The RFC 2231 value of ``base``: ``base*`` whole, or its ``base*N``/``base*N*`` sections
    joined in order (first of a repeated section wins; gaps are joined over, but incomplete)."""
    single: str | None = None
    sections: dict[int, tuple[str, bool]] = {}
    for name, value in params.items:
        match = _SECTION.match(name)
        if not match or match["base"] != base:
            continue
        if match["num"] is None:
            single = value if single is None else single
        else:
            sections.setdefault(int(match["num"]), (value, bool(_SECTION_STAR.match(name))))
    if single is not None:
        charset, data = _percent(single, True)
        return _Extended(data, charset, True, True)
    if not sections:
        return None
    order = sorted(sections)
    charset, chunks, encoded = "", [], False
    for num in order:
        value, is_encoded = sections[num]
        if is_encoded:
            label, data = _percent(value, not encoded)
            charset, encoded = charset or label, True
        else:
            data = _raw(value)
        chunks.append(data)
    return _Extended(b"".join(chunks), charset, encoded, order == list(range(len(order))))


def _percent(value: str, first: bool) -> tuple[str, bytes]:
    """(charset, bytes) of an extended value: ``charset'lang'%XX..`` (prefix on the first)."""
    charset = ""
    match = _CHARSET_PREFIX.match(value) if first else None
    if match:
        charset, value = match[1], value[match.end() :]
    return charset, unquote_to_bytes(_raw(value))


def param_text(params: Params, name: str, charsets: Sequence[str] = ()) -> Decoded | None:
    """The decoded text of parameter ``name`` (RFC 2231 first, then plain), None if absent."""
    for found in _candidates(params, name, charsets, complete=True):
        return found
    for found in _candidates(params, name, charsets, complete=False):
        return found
    return None


def _candidates(params: Params, name: str, charsets: Sequence[str], complete: bool):
    """Decoded values of ``name``: with ``complete``, a complete RFC 2231 value then the plain
    ones; without, only an RFC 2231 value with gaps (always reported lossy)."""
    extended = _extended(params, name)
    if extended is not None and extended.complete == complete:
        if extended.encoded:
            found = decode_bytes(extended.data, extended.charset or None, charsets)
        else:  # plain sections (some clients even split an encoded word across them)
            found = decode_value(extended.data.decode("utf-8", "surrogateescape"), charsets)
        text = unicodedata.normalize("NFC", found.text.strip().strip('"'))
        if text:
            lossy = found.lossy or not complete
            yield Decoded(text, lossy, found.guessed)
    if complete:
        for key, value in params.items:
            if key == name:
                found = decode_value(value.strip('"'), charsets)
                text = unicodedata.normalize("NFC", found.text.strip().strip('"'))
                if text:
                    yield Decoded(text, found.lossy, found.guessed)


def filename_of(disposition: Params, content_type: Params, charsets: Sequence[str] = ()) -> Decoded:
    """An attachment's name the way mail clients choose it: the complete RFC 2231 value, then
    the plain ``filename``, then the Content-Type ``name`` (same order), then an incomplete
    RFC 2231 value (marked lossy). ``Decoded("")`` when the part has no name."""
    for complete in (True, False):
        for params, name in ((disposition, "filename"), (content_type, "name")):
            for found in _candidates(params, name, charsets, complete):
                return found
    return Decoded("")


# ---- addresses -----------------------------------------------------------------------------

_ADDR_SPEC = re.compile(r"[A-Za-z0-9._%+=!#$&'*/?^`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def _mailboxes(text: str) -> list[str]:
    """Split an address list on commas outside quotes, comments and angle brackets."""
    out, current, quoted, depth, angle = [], [], False, 0, False
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and (quoted or depth):
            escaped = True
        elif char == '"' and not depth:
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")" and depth:
            depth -= 1
        elif not quoted and not depth and char in "<>":
            angle = char == "<"
        elif char == "," and not (quoted or depth or angle):
            out.append("".join(current))
            current = []
            continue
        current.append(char)
    out.append("".join(current))
    return [item for item in out if item.strip()]


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _outside_quotes(text: str) -> str:
    """``text`` with quoted strings, comments and encoded words blanked out (same length)."""
    text = re.sub(r'"(?:\\.|[^"\\])*"?', _blank, text)
    text = re.sub(r"\((?:\\.|[^()\\])*\)?", _blank, text)
    return re.sub(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=", _blank, text)


def _is_address(text: str) -> bool:
    return "@" in text and not re.search(r"\s|=\?.*\?=", text)


def _mailbox(text: str) -> tuple[str, str]:
    """(raw display name, address) of one mailbox; address "" when it has none."""
    bare = _outside_quotes(text)
    start = bare.find("<")
    if start >= 0:  # name-addr: the address is inside the angle brackets, never in the name
        end = bare.find(">", start)
        inner = text[start + 1 : end if end >= 0 else len(text)].strip()
        inner = inner.rsplit(":", 1)[-1].strip()  # obsolete source route "@a,@b:x@y"
        return text[:start].strip(), inner if _is_address(inner) else ""
    name, address = email.utils.parseaddr(text)
    if _is_address(address):
        return name, address
    found = _ADDR_SPEC.findall(bare)  # "西渡镇 zs@qq.com": an addr-spec among loose words
    return "", found[0] if len(found) == 1 else ""


def parse_address(value: object, charsets: Sequence[str] = ()) -> tuple[str, str]:
    """(display name, lower-case address) of a From-like header: the first mailbox that has an
    address. The address comes from the raw header; the display name is decoded afterwards."""
    if value is None:
        return "", ""
    text = _unfold(str(value))
    for mailbox in _mailboxes(text):
        raw_name, address = _mailbox(mailbox)
        if not address:
            continue
        raw_name = raw_name.strip()
        if len(raw_name) >= 2 and raw_name[0] == raw_name[-1] == '"':
            raw_name = re.sub(r'\\(["\\])', r"\1", raw_name[1:-1])
        name = decode_value(raw_name, charsets).text
        if re.search(r"[\udc80-\udcff]", address):
            address = guess_bytes(_raw(address)).text
        return unicodedata.normalize("NFC", name.strip()), address.strip().lower()
    return "", ""
