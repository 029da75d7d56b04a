"""A builder of raw RFC 822 messages (bytes) with precise control over every encoding.

Real mail is messy, and the standard library's generator only writes tidy mail, so this module
writes the header and body bytes itself. A :class:`Mail` describes one message; ``to_bytes()``
renders it. The ``client`` profile (``qq``, ``foxmail``, ``outlook``, ``coremail``, ``apple``,
``plain``) sets the defaults that client really uses (header charset, how file names are encoded,
boundary and Message-ID shapes, X-Mailer); every one of them can be overridden per mail or per
attachment. Output is deterministic: boundaries and Message-IDs derive from a hash of the mail's
sender, subject, date and ``seed``.

Name / subject styles (``subject_style``, ``Att.name_style``):

- ``plain``: ASCII as is.
- ``b`` / ``q``: RFC 2047 encoded-words, split only between characters.
- ``split``: RFC 2047 B words whose encoded BYTES are cut inside a multi-byte character, as
  Outlook does (each word alone does not decode; the concatenated bytes do).
- ``rfc2231``: ``filename*=charset''%XX..``; ``rfc2231-cont``: ``filename*0*=..; filename*1*=..``.
- ``raw``: the text's bytes in the charset, unencoded (8-bit headers).

A charset label ``gb2312`` is written with GBK bytes (what Windows clients really send), so a
GBK-only character such as 喆 can appear under a gb2312 label.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import itertools
import mimetypes
import quopri
from collections.abc import Callable
from dataclasses import dataclass, field

CRLF = b"\r\n"
CST = dt.timezone(dt.timedelta(hours=8))

#: The office mailbox used as the default recipient.
OFFICE = ("衡阳县禁毒办", "hyxjdb@qq.com")
DEFAULT_DATE = dt.datetime(2020, 12, 23, 10, 12, 20, tzinfo=CST)

Address = tuple[str, str] | str


class _Auto:
    """Sentinel: derive the value (e.g. a Message-ID) deterministically."""

    def __repr__(self) -> str:
        return "AUTO"


AUTO = _Auto()

# ---------------------------------------------------------------------------------------------
# charsets and encoded words
# ---------------------------------------------------------------------------------------------


def codec_for(charset: str) -> str:
    """The Python codec used to write text labelled ``charset``: gb2312 labels carry GBK bytes."""
    label = charset.lower()
    return {"gb2312": "gbk", "x-gbk": "gbk", "cp936": "gbk"}.get(label, label)


def encode_text(text: str, charset: str) -> bytes:
    """``text`` in the bytes a client labelling it ``charset`` would write."""
    try:
        return text.encode(codec_for(charset))
    except UnicodeEncodeError:
        if codec_for(charset) == "gbk":
            return text.encode("gb18030")
        raise


def _char_spans(text: str, charset: str) -> list[bytes]:
    return [encode_text(ch, charset) for ch in text]


_Q_SAFE = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!*+-/")


def _q_encode(data: bytes) -> str:
    out = []
    for b in data:
        if b == 0x20:
            out.append("_")
        elif b in _Q_SAFE:
            out.append(chr(b))
        else:
            out.append(f"={b:02X}")
    return "".join(out)


def encoded_word(data: bytes, charset: str, encoding: str = "B") -> str:
    """One RFC 2047 encoded-word holding ``data`` (already in ``charset``)."""
    payload = base64.b64encode(data).decode("ascii") if encoding.upper() == "B" else _q_encode(data)
    return f"=?{charset}?{encoding.upper()}?{payload}?="


def _word_len(n_bytes: int, charset: str, encoding: str, data: bytes | None = None) -> int:
    overhead = len(charset) + 7
    if encoding == "B":
        return overhead + 4 * ((n_bytes + 2) // 3)
    return overhead + len(_q_encode(data or b""))


def encoded_words(
    text: str,
    charset: str = "utf-8",
    encoding: str = "B",
    max_len: int = 75,
) -> list[str]:
    """RFC 2047 words for ``text``, each at most ``max_len`` chars, split between characters."""
    words: list[str] = []
    chunk = b""
    for piece in _char_spans(text, charset):
        candidate = chunk + piece
        if chunk and _word_len(len(candidate), charset, encoding, candidate) > max_len:
            words.append(encoded_word(chunk, charset, encoding))
            chunk = piece
        else:
            chunk = candidate
    if chunk or not words:
        words.append(encoded_word(chunk, charset, encoding))
    return words


def split_encoded_words(
    text: str, charset: str = "gb2312", split_bytes: int | None = None
) -> list[str]:
    """B words whose byte chunks are cut INSIDE multi-byte characters (Outlook's habit).

    Cuts fall every ``split_bytes`` bytes (default: as many as fit in 75 chars), moved back one
    byte where they would land on a character boundary; text that fits in one word is still cut
    once, inside its middle character. ASCII-only text cannot be cut mid-character and is split
    plainly.
    """
    data = encode_text(text, charset)
    boundaries = {0}
    pos = 0
    for piece in _char_spans(text, charset):
        pos += len(piece)
        boundaries.add(pos)
    size = split_bytes or (75 - len(charset) - 7) // 4 * 3
    cuts: list[int] = []
    candidates = [len(data) // 2] if len(data) <= size else list(range(size, len(data), size))
    last = 0
    for cut in candidates:
        if cut in boundaries and cut - 1 > last and cut - 1 not in boundaries:
            cut -= 1
        elif cut in boundaries and cut + 1 < len(data) and cut + 1 not in boundaries:
            cut += 1
        if last < cut < len(data):
            cuts.append(cut)
            last = cut
    edges = [0, *cuts, len(data)]
    return [encoded_word(data[a:b], charset, "B") for a, b in itertools.pairwise(edges)]


def _pct(data: bytes) -> str:
    safe = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&+-.^_`|~")
    return "".join(chr(b) if b in safe else f"%{b:02X}" for b in data)


def rfc2231_params(
    param: str, text: str, charset: str = "utf-8", continuation: bool = False, chunk: int = 30
) -> list[bytes]:
    """RFC 2231 parameter(s): ``param*=charset''..`` or continuations ``param*0*=..``.

    Continuation chunks hold ``chunk`` raw bytes each, cut without regard to characters (the
    bytes are joined before decoding, so that is legal and common).
    """
    data = encode_text(text, charset)
    if not continuation:
        return [f"{param}*={charset}''{_pct(data)}".encode("ascii")]
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] or [b""]
    out = []
    for i, piece in enumerate(pieces):
        prefix = f"{charset}''" if i == 0 else ""
        out.append(f"{param}*{i}*={prefix}{_pct(piece)}".encode("ascii"))
    return out


def encode_phrase(text: str, style: str, charset: str, split_bytes: int | None = None) -> bytes:
    """Header text (a subject, a display name) in ``style``; several words are CRLF-folded."""
    if style == "plain" or (text.isascii() and style in ("b", "q", "split", "raw")):
        return text.encode("ascii") if text.isascii() else text.encode("utf-8")
    if style == "raw":
        return encode_text(text, charset)
    if style == "b":
        words = encoded_words(text, charset, "B")
    elif style == "q":
        words = encoded_words(text, charset, "Q")
    elif style == "split":
        words = split_encoded_words(text, charset, split_bytes)
    else:
        raise ValueError(f"unknown header style {style!r}")
    return "\r\n ".join(words).encode("ascii")


def _quote(value: bytes) -> bytes:
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


# ---------------------------------------------------------------------------------------------
# client profiles
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    """What one mail client writes by default."""

    name: str
    charset: str  # header and body charset label
    subject_style: str
    name_style: str  # attachment file names
    body_encoding: str
    base64_line: int
    quote_encoded_names: bool  # QQ writes "=?gb18030?B?..?=" <a@b> (quoted words)
    generic_attachment_type: bool  # every attachment is application/octet-stream
    attachment_charset_param: bool  # QQ adds charset="gb18030" to attachment Content-Type
    preamble: bytes
    boundary: Callable[[str, int], str]
    message_id: Callable[[str, str, dt.datetime | None], str]
    headers: Callable[[str], list[tuple[str, str]]]


def _dt_or_default(when: dt.datetime | None) -> dt.datetime:
    return when or DEFAULT_DATE


def _domain(addr: str) -> str:
    return addr.rsplit("@", 1)[-1] if "@" in addr else "localhost"


CLIENTS: dict[str, Client] = {
    "qq": Client(
        name="qq",
        charset="gb18030",
        subject_style="b",
        name_style="b",
        body_encoding="base64",
        base64_line=72,
        quote_encoded_names=True,
        generic_attachment_type=True,
        attachment_charset_param=True,
        preamble=b"This is a multi-part message in MIME format.\r\n",
        boundary=lambda h, i: (
            f"----=_NextPart_{h[:8].upper()}_{h[8:16].upper()}_{h[16 + 8 * i : 24 + 8 * i].upper()}"
        ),
        message_id=lambda h, addr, when: f"tencent_{h[:36].upper()}@qq.com",
        headers=lambda h: [
            ("X-QQ-mid", f"xmsezb{h[40:46]}-{int(h[46:54], 16)}t{h[54:60]}"),
            ("X-QQ-MIME", "TCMime 1.0 by Tencent"),
            ("X-Mailer", "QQMail 2.x"),
            ("X-QQ-Mailer", "QQMail 2.x"),
        ],
    ),
    "foxmail": Client(
        name="foxmail",
        charset="gb2312",
        subject_style="b",
        name_style="b",
        body_encoding="base64",
        base64_line=76,
        quote_encoded_names=True,
        generic_attachment_type=False,
        attachment_charset_param=False,
        preamble=b"This is a multi-part message in MIME format.\r\n",
        boundary=lambda h, i: f"----=_{i + 1:03d}_NextPart{int(h[:10], 16) % 10**12:012d}_=----",
        message_id=lambda h, addr, when: (
            f"{_dt_or_default(when).strftime('%Y%m%d%H%M%S')}{int(h[:6], 16) % 10**7:07d}"
            f"@{_domain(addr)}"
        ),
        headers=lambda h: [
            ("X-Priority", "3"),
            ("X-GUID", f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}".upper()),
            ("X-Has-Attach", "yes"),
            ("X-Mailer", "Foxmail 7.2.19.158[cn]"),
        ],
    ),
    "outlook": Client(
        name="outlook",
        charset="gb2312",
        subject_style="split",
        name_style="split",
        body_encoding="base64",
        base64_line=76,
        quote_encoded_names=False,
        generic_attachment_type=False,
        attachment_charset_param=False,
        preamble=b"This is a multipart message in MIME format.\r\n",
        boundary=lambda h, i: f"----=_NextPart_{i:03d}_{h[:4].upper()}_01D6D8F2.{h[4:12].upper()}",
        message_id=lambda h, addr, when: f"000001d6d8f2${h[:8]}${h[8:16]}$@{_domain(addr)}",
        headers=lambda h: [
            ("X-Mailer", "Microsoft Outlook 16.0"),
            ("Thread-Index", "AdbY8" + base64.b64encode(bytes.fromhex(h[:30])).decode()),
            ("Content-Language", "zh-cn"),
        ],
    ),
    "coremail": Client(  # 163 / 126 webmail
        name="coremail",
        charset="GBK",
        subject_style="b",
        name_style="b",
        body_encoding="base64",
        base64_line=76,
        quote_encoded_names=False,
        generic_attachment_type=False,
        attachment_charset_param=False,
        preamble=b"",
        boundary=lambda h, i: (
            f"----=_Part_{int(h[:6], 16) + i}_{int(h[6:14], 16)}.1608689540{h[14:17]}"
        ),
        message_id=lambda h, addr, when: (
            f"{h[:7]}.{h[7:11]}.{h[11:22]}.Coremail.{addr.split('@')[0]}@{_domain(addr)}"
        ),
        headers=lambda h: [
            (
                "X-Mailer",
                "Coremail Webmail Server Version XT5.0.13 build 20200820(ab8c9b4a) "
                "Copyright (c) 2002-2020 www.mailtech.cn 163com",
            ),
            ("X-Originating-IP", f"[113.247.{int(h[:2], 16)}.{int(h[2:4], 16)}]"),
        ],
    ),
    "apple": Client(  # iPhone Mail
        name="apple",
        charset="utf-8",
        subject_style="b",
        name_style="rfc2231",
        body_encoding="quoted-printable",
        base64_line=76,
        quote_encoded_names=False,
        generic_attachment_type=False,
        attachment_charset_param=False,
        preamble=b"",
        boundary=lambda h, i: (
            "Apple-Mail-" + f"{h[i * 4 : i * 4 + 8]}-{h[10:14]}-{h[14:18]}-{h[18:30]}".upper()
        ),
        message_id=lambda h, addr, when: (
            f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}".upper() + f"@{_domain(addr)}"
        ),
        headers=lambda h: [("X-Mailer", "iPhone Mail (18B92)")],
    ),
    "plain": Client(
        name="plain",
        charset="utf-8",
        subject_style="b",
        name_style="b",
        body_encoding="base64",
        base64_line=76,
        quote_encoded_names=False,
        generic_attachment_type=False,
        attachment_charset_param=False,
        preamble=b"",
        boundary=lambda h, i: f"==============={int(h[i : i + 16], 16) % 10**19:019d}==",
        message_id=lambda h, addr, when: f"{h[:20]}@{_domain(addr)}",
        headers=lambda h: [],
    ),
}


# ---------------------------------------------------------------------------------------------
# MIME tree
# ---------------------------------------------------------------------------------------------


@dataclass
class Part:
    """One MIME entity, rendered byte by byte. A leaf has ``body`` (already transfer-encoded);
    a multipart has ``children``. ``params`` are extra Content-Type parameters (bytes, formatted).
    ``broken``: ``"missing-close"`` (no closing delimiter) or ``"wrong-boundary"`` (the header
    declares a boundary the body never uses)."""

    content_type: str
    params: list[bytes] = field(default_factory=list)
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    body: bytes = b""
    children: list[Part] | None = None
    boundary: str | None = None
    preamble: bytes = b""
    broken: str | None = None

    def render(self) -> bytes:
        params = list(self.params)
        if self.children is not None:
            if not self.boundary:
                raise ValueError("multipart without a boundary")
            declared = self.boundary
            if self.broken == "wrong-boundary":
                declared = "----=_WrongBoundary_" + self.boundary[-12:]
            params.append(b"boundary=" + _quote(declared.encode("ascii")))
        out = [_header("Content-Type", _with_params(self.content_type.encode(), params))]
        out += [_header(name, value) for name, value in self.headers]
        head = b"".join(out) + CRLF
        if self.children is None:
            return head + self.body
        delim = b"--" + self.boundary.encode("ascii")
        body = [self.preamble]
        for child in self.children:
            body.append(CRLF + delim + CRLF + child.render())
        if self.broken != "missing-close":
            body.append(CRLF + delim + b"--" + CRLF)
        return head + b"".join(body)


def _header(name: str, value: bytes | str) -> bytes:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return name.encode("ascii") + b": " + value + CRLF


def _with_params(value: bytes, params: list[bytes]) -> bytes:
    if not params:
        return value
    return value + b";" + b";".join(b"\r\n\t" + p for p in params)


def _b64(data: bytes, line: int) -> bytes:
    text = base64.b64encode(data)
    return b"".join(text[i : i + line] + CRLF for i in range(0, len(text), line))


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def encode_body(data: bytes, encoding: str, line: int = 76) -> bytes:
    """Transfer-encode ``data``: base64, quoted-printable, 7bit or 8bit (CRLF line ends)."""
    if encoding == "base64":
        return _b64(data, line)
    if encoding == "quoted-printable":
        return _crlf(quopri.encodestring(data.replace(b"\r\n", b"\n")))
    if encoding in ("7bit", "8bit", "binary"):
        return data
    raise ValueError(f"unknown transfer encoding {encoding!r}")


# ---------------------------------------------------------------------------------------------
# attachments and mails
# ---------------------------------------------------------------------------------------------


@dataclass
class Att:
    """An attachment, inline image or forwarded message (``data`` is a :class:`Mail`).

    ``disposition``: ``"attachment"``, ``"inline"``, or None for no Content-Disposition header.
    ``name_in``: where the name goes: ``"both"``, ``"type"`` (Content-Type ``name=`` only) or
    ``"disposition"``. ``name_style`` / ``charset`` default to the mail's client profile.
    An inline part with a ``cid`` goes into multipart/related beside the HTML body.
    """

    name: str | None
    data: bytes | Mail
    content_type: str | None = None
    disposition: str | None = "attachment"
    cid: str | None = None
    name_style: str | None = None
    charset: str | None = None
    name_in: str = "both"
    transfer_encoding: str | None = None
    split_bytes: int | None = None
    extra_headers: list[tuple[str, str | bytes]] = field(default_factory=list)


# Python's built-in table only (not /etc/mime.types), so output does not depend on the host.
_MIME = mimetypes.MimeTypes()
_MIME_OVERRIDES = {
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".webp": "image/webp",
    ".3gp": "video/3gpp",
    ".mkv": "video/x-matroska",
    ".wmv": "video/x-ms-wmv",
    ".7z": "application/x-7z-compressed",
    ".rar": "application/x-rar-compressed",
    ".wps": "application/octet-stream",
    ".eml": "message/rfc822",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def guess_type(name: str) -> str:
    """The Content-Type a desktop client would give a file of this name."""
    dot = name.rfind(".")
    ext = name[dot:].lower() if dot >= 0 else ""
    if ext in _MIME_OVERRIDES:
        return _MIME_OVERRIDES[ext]
    return _MIME.guess_type("x" + ext, strict=False)[0] or "application/octet-stream"


def inline_image(name: str, data: bytes, cid: str | None, content_type: str | None = None) -> Att:
    """An inline image; with ``cid`` it is meant to be referenced as ``<img src="cid:...">``."""
    return Att(name, data, content_type=content_type, disposition="inline", cid=cid)


def forwarded(mail: Mail, name: str | None = None, as_octet_stream: bool = False) -> Att:
    """A mail forwarded as an attachment: message/rfc822 (Outlook, Foxmail), or with
    ``as_octet_stream`` a base64 ``.eml`` file as QQ Mail's web client sends it."""
    name = name or f"{mail.subject or 'message'}.eml"
    if as_octet_stream:
        return Att(name, mail, content_type="application/octet-stream")
    return Att(name, mail, content_type="message/rfc822")


def _address(addr: Address, style: str, charset: str, quote_words: bool) -> bytes:
    if isinstance(addr, str):
        return addr.encode("ascii")
    name, mail = addr
    if not name:
        return mail.encode("ascii")
    if name.isascii() or style == "plain":
        shown = _quote(name.encode("ascii" if name.isascii() else "utf-8"))
    elif style == "raw":
        shown = _quote(encode_text(name, charset))
    else:
        words = encode_phrase(name, style, charset)
        shown = _quote(words) if quote_words else words
    return shown + b" <" + mail.encode("ascii") + b">"


def _addresses(value: Address | list[Address], style: str, charset: str, quote: bool) -> bytes:
    items = value if isinstance(value, list) else [value]
    return b",\r\n\t".join(_address(a, style, charset, quote) for a in items)


def format_date(when: dt.datetime) -> str:
    """RFC 5322 date, e.g. ``Wed, 23 Dec 2020 10:12:20 +0800``."""
    return email.utils.format_datetime(when)


@dataclass
class Mail:
    """One message. ``to_bytes()`` renders it; see the module docstring for styles.

    ``message_id``: AUTO derives one in the client's shape; None omits the header.
    ``date``: a datetime, a literal header string (to send nonsense), or None to omit.
    ``received``: Received header values, topmost (latest) first; see :func:`mx_received`.
    ``body``: a hand-built :class:`Part` replacing the generated structure (bounces).
    ``broken``: ``missing-close`` / ``wrong-boundary`` on the outermost multipart, or
    ``truncated`` (the message stops in the middle of its last part).
    """

    sender: Address = ("张三", "zhangsan@qq.com")
    to: Address | list[Address] = OFFICE
    subject: str | None = "材料报送"
    date: dt.datetime | str | None = DEFAULT_DATE
    message_id: str | _Auto | None = AUTO
    text: str | None = None
    html: str | None = None
    attachments: list[Att] = field(default_factory=list)
    client: str = "qq"
    header_charset: str | None = None
    subject_style: str | None = None
    subject_split_bytes: int | None = None
    body_charset: str | None = None
    body_encoding: str | None = None
    cc: list[Address] = field(default_factory=list)
    reply_to: Address | None = None
    received: list[str] = field(default_factory=list)
    extra_headers: list[tuple[str, str | bytes]] = field(default_factory=list)
    broken: str | None = None
    body: Part | None = None
    seed: str = ""

    # -- derived -----------------------------------------------------------------------------

    @property
    def profile(self) -> Client:
        return CLIENTS[self.client]

    def _sender_addr(self) -> str:
        return self.sender if isinstance(self.sender, str) else self.sender[1]

    def _hash(self) -> str:
        key = repr((self.sender, self.subject, self._date_str(), self.seed, self.client))
        return hashlib.sha256(key.encode("utf-8")).hexdigest() * 2

    def _date_str(self) -> str | None:
        if isinstance(self.date, dt.datetime):
            return format_date(self.date)
        return self.date

    def message_id_value(self) -> str | None:
        """The Message-ID without angle brackets (None when the mail has none)."""
        if self.message_id is None:
            return None
        if isinstance(self.message_id, _Auto):
            when = self.date if isinstance(self.date, dt.datetime) else None
            return self.profile.message_id(self._hash(), self._sender_addr(), when)
        return self.message_id.strip("<>")

    # -- rendering ---------------------------------------------------------------------------

    def _boundary(self, counter: list[int]) -> str:
        i = counter[0]
        counter[0] += 1
        return self.profile.boundary(self._hash(), i)

    def _text_part(self, subtype: str, text: str, charset: str, encoding: str) -> Part:
        data = encode_text(text.replace("\r\n", "\n").replace("\n", "\r\n"), charset)
        if encoding == "7bit" and not data.isascii():
            encoding = "8bit"
        return Part(
            f"text/{subtype}",
            params=[b"charset=" + _quote(charset.encode("ascii"))],
            headers=[("Content-Transfer-Encoding", encoding.encode())],
            body=encode_body(data, encoding, self.profile.base64_line),
        )

    def _name_params(self, att: Att, param: str) -> list[bytes]:
        style = att.name_style or self.profile.name_style
        charset = att.charset or self.header_charset or self.profile.charset
        name = att.name or ""
        if style.startswith("rfc2231"):
            if param == "name":  # clients using RFC 2231 for filename put RFC 2047 in name
                return [b"name=" + _quote(encode_phrase(name, "b", charset))]
            return rfc2231_params(param, name, charset, continuation=style == "rfc2231-cont")
        value = encode_phrase(name, style, charset, att.split_bytes or None)
        return [param.encode() + b"=" + _quote(value)]

    def _attachment_part(self, att: Att) -> Part:
        profile = self.profile
        data = att.data
        is_mail = isinstance(data, Mail)
        raw = data.to_bytes() if is_mail else data
        ctype = att.content_type
        if ctype is None:
            if profile.generic_attachment_type and not att.cid:
                ctype = "application/octet-stream"
            else:
                ctype = guess_type(att.name or "")
        if att.transfer_encoding:
            cte = att.transfer_encoding
        elif ctype == "message/rfc822":
            cte = "7bit" if raw.isascii() else "8bit"
        else:
            cte = "base64"
        params: list[bytes] = []
        charset = att.charset or self.header_charset or profile.charset
        if profile.attachment_charset_param and not ctype.startswith(("message/", "image/")):
            params.append(b"charset=" + _quote(charset.encode("ascii")))
        if att.name is not None and att.name_in in ("both", "type"):
            params += self._name_params(att, "name")
        headers: list[tuple[str, bytes]] = []
        if att.disposition is not None:
            disp = att.disposition.encode()
            if att.name is not None and att.name_in in ("both", "disposition"):
                disp = _with_params(disp, self._name_params(att, "filename"))
            headers.append(("Content-Disposition", disp))
        headers.append(("Content-Transfer-Encoding", cte.encode()))
        if att.cid:
            headers.append(("Content-ID", f"<{att.cid}>".encode()))
        headers += [(n, v if isinstance(v, bytes) else v.encode()) for n, v in att.extra_headers]
        body = encode_body(raw, cte, profile.base64_line)
        return Part(ctype, params=params, headers=headers, body=body)

    def _structure(self) -> Part:
        profile = self.profile
        counter = [0]
        charset = self.body_charset or profile.charset
        encoding = self.body_encoding or profile.body_encoding
        alternatives = []
        if self.text is not None:
            alternatives.append(self._text_part("plain", self.text, charset, encoding))
        if self.html is not None:
            alternatives.append(self._text_part("html", self.html, charset, encoding))
        if not alternatives:
            alternatives.append(self._text_part("plain", "", charset, encoding))
        related = [a for a in self.attachments if a.cid and a.disposition != "attachment"]
        mixed = [a for a in self.attachments if not any(a is r for r in related)]
        # boundaries are numbered outermost first, as clients generate them
        outer_b = self._boundary(counter) if mixed else None
        related_b = self._boundary(counter) if related else None
        alt_b = self._boundary(counter) if len(alternatives) > 1 else None
        body = alternatives[0]
        if alt_b:
            body = Part("multipart/alternative", children=alternatives, boundary=alt_b)
        if related_b:
            children = [body] + [self._attachment_part(a) for a in related]
            body = Part(
                "multipart/related",
                params=[b'type="multipart/alternative"'] if alt_b else [],
                children=children,
                boundary=related_b,
            )
        if outer_b:
            children = [body] + [self._attachment_part(a) for a in mixed]
            body = Part("multipart/mixed", children=children, boundary=outer_b)
        if body.children is not None:
            body.preamble = profile.preamble
        return body

    def headers(self) -> list[tuple[str, bytes]]:
        """The top-level headers, in the order they are written (without MIME headers)."""
        profile = self.profile
        charset = self.header_charset or profile.charset
        style = self.subject_style or profile.subject_style
        addr_style = "b" if style in ("split", "rfc2231", "rfc2231-cont") else style
        quote = profile.quote_encoded_names
        out: list[tuple[str, bytes]] = [("Received", r.encode("ascii")) for r in self.received]
        out += [(n, v.encode()) for n, v in profile.headers(self._hash())]
        out.append(("From", _addresses(self.sender, addr_style, charset, quote)))
        if self.to:
            out.append(("To", _addresses(self.to, addr_style, charset, quote)))
        if self.cc:
            out.append(("Cc", _addresses(self.cc, addr_style, charset, quote)))
        if self.reply_to:
            out.append(("Reply-To", _addresses(self.reply_to, addr_style, charset, quote)))
        if self.subject is not None:
            split = self.subject_split_bytes
            out.append(("Subject", encode_phrase(self.subject, style, charset, split)))
        date = self._date_str()
        if date is not None:
            out.append(("Date", date.encode("ascii")))
        mid = self.message_id_value()
        if mid is not None:
            out.append(("Message-ID", f"<{mid}>".encode()))
        out += [(n, v if isinstance(v, bytes) else v.encode()) for n, v in self.extra_headers]
        out.append(("Mime-Version", b"1.0"))
        return out

    def to_bytes(self) -> bytes:
        """The message as it would sit in the mailbox (CRLF line ends)."""
        body = self.body if self.body is not None else self._structure()
        if self.broken in ("missing-close", "wrong-boundary"):
            if body.children is None:
                raise ValueError(f"broken={self.broken!r} needs a multipart mail")
            body.broken = self.broken
        raw = b"".join(_header(n, v) for n, v in self.headers()) + body.render()
        if self.broken == "truncated":
            raw = raw[: int(len(raw) * 0.8)]
        elif self.broken not in (None, "missing-close", "wrong-boundary"):
            raise ValueError(f"unknown broken mode {self.broken!r}")
        return raw


# ---------------------------------------------------------------------------------------------
# headers and texts seen in real mailboxes
# ---------------------------------------------------------------------------------------------

_MX_PEERS = {
    "163.com": ("m13-{n}.163.com", "220.181.13.{n}"),
    "126.com": ("m15-{n}.126.com", "220.181.15.{n}"),
    "qq.com": ("smtpbg{n}.qq.com", "203.205.250.{n}"),
    "foxmail.com": ("smtpbg{n}.qq.com", "203.205.250.{n}"),
    "icloud.com": ("qs51p00im-qukt01071{n}.me.com", "17.57.155.{n}"),
}


def mx_received(when: dt.datetime, sender_addr: str, seed: str = "", mx: str | None = None) -> str:
    """A plausible topmost ``Received`` value written by QQ Mail's inbound MX.

    The folder source treats the date after the last ``;`` of the topmost Received header as the
    receive time.
    """
    h = hashlib.sha256(f"{sender_addr}|{when.isoformat()}|{seed}".encode()).hexdigest()
    n = int(h[:2], 16) % 200 + 20
    host_t, ip_t = _MX_PEERS.get(_domain(sender_addr), ("mail.{d}", "61.187.54.{n}"))
    host = host_t.format(n=n, d=_domain(sender_addr))
    ip = ip_t.format(n=n)
    mx = mx or f"newxmesmtplogicsvrszc{int(h[2:4], 16) % 9 + 1}.qq.com"
    return (
        f"from {host} ({host} [{ip}])\r\n\tby {mx} (NewEsmtp) with SMTP\r\n\t"
        f"id {h[4:12].upper()}; {format_date(when)}"
    )


def qq_ftn_url(seed: str) -> str:
    """A QQ Mail 超大附件 (large attachment) download URL."""
    h = hashlib.sha256(seed.encode()).hexdigest()
    return (
        f"https://wx.mail.qq.com/ftn/download?func=3&k={h[:40]}&key={h[24:64]}"
        f"&code={h[10:18]}&fweb=1&cl=1"
    )


def qq_big_attachment(name: str, size: str, url: str, expires: str) -> tuple[str, str]:
    """(text, html) of the block QQ Mail appends for a 超大附件, e.g. size "186.52M",
    expires "2021年1月22日 10:12"."""
    text = f"\n\n从QQ邮箱发来的超大附件\n\n{name} ({size}, {expires} 到期)进入下载页面：{url}\n"
    html = (
        '<div style="padding:2px 0 2px 0;clear:both;"><div style="font:12px/16px Verdana;">'
        '<b>从QQ邮箱发来的超大附件</b></div><div style="clear:both;">'
        f'<a href="{url}" target="_blank">{name}</a>'
        f' <span style="color:#a0a0a0;">({size}, {expires} 到期)</span></div></div>'
    )
    return text, html


def baidu_share(name: str, url: str, code: str) -> str:
    """The text the Baidu Netdisk app copies when sharing a file (link + 提取码)."""
    return (
        f"链接: {url}  提取码: {code}  复制这段内容后打开百度网盘手机App，操作更方便哦"
        f"\n--来自百度网盘超级会员V2的分享（{name}）"
    )


def html_from_text(text: str, font: str = "宋体", charset: str = "GB18030") -> str:
    """The simple HTML a webmail client sends beside the text part."""
    lines = "".join(
        f"<div>{line or '<br>'}</div>"
        for line in text.replace("&", "&amp;").replace("<", "&lt;").splitlines()
    )
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    return f'{meta}<div style="font-family:{font}">{lines}</div>'


def qq_reply_quote(text: str, sender: Address, when: dt.datetime, subject: str) -> str:
    """A QQ Mail reply quote block ("------------------ 原始邮件 ------------------")."""
    name, addr = (sender, sender) if isinstance(sender, str) else sender
    weekday = "一二三四五六日"[when.weekday()]
    return (
        "\n\n------------------ 原始邮件 ------------------\n"
        f'发件人: "{name}"<{addr}>;\n'
        f"发送时间: {when:%Y年%m月%d日}(星期{weekday}) {when:%H:%M}\n"
        f"主题: {subject}\n\n{text}\n"
    )


# ---------------------------------------------------------------------------------------------
# mail that is not a submission
# ---------------------------------------------------------------------------------------------


def auto_reply(
    original: Mail,
    sender: Address | None = None,
    text: str = "您好，您的邮件我已收到，我会尽快处理。此为自动回复。",
    date: dt.datetime | None = None,
    client: str = "qq",
) -> Mail:
    """An out-of-office / auto reply to ``original`` (Auto-Submitted, X-Autoreply headers)."""
    return Mail(
        sender=sender or (original.to if not isinstance(original.to, list) else original.to[0]),
        to=original.sender,
        subject=f"自动回复: {original.subject or ''}",
        date=date or DEFAULT_DATE,
        text=text,
        client=client,
        extra_headers=[
            ("Auto-Submitted", "auto-replied"),
            ("X-Autoreply", "yes"),
            ("In-Reply-To", f"<{original.message_id_value()}>"),
        ],
        seed="auto-reply",
    )


def newsletter(
    subject: str = "禁毒周刊第50期：西渡镇开展禁毒宣传进校园活动",
    sender: Address = ("禁毒周刊", "weekly@news.jindu-example.cn"),
    to: Address = OFFICE,
    date: dt.datetime | None = None,
    html: str | None = None,
) -> Mail:
    """A bulk newsletter (List-Unsubscribe, List-Id, Precedence: bulk); it names a unit."""
    html = html or (
        "<html><body><h2>禁毒周刊 第50期</h2>"
        "<p>12月18日，西渡镇联合县禁毒办开展禁毒宣传进校园活动……</p>"
        '<p><a href="https://news.jindu-example.cn/unsubscribe?u=9f2c">退订</a></p>'
        "</body></html>"
    )
    return Mail(
        sender=sender,
        to=to,
        subject=subject,
        date=date or DEFAULT_DATE,
        html=html,
        text="禁毒周刊 第50期\n12月18日，西渡镇联合县禁毒办开展禁毒宣传进校园活动……",
        client="plain",
        body_encoding="quoted-printable",
        extra_headers=[
            ("List-Id", "<weekly.news.jindu-example.cn>"),
            (
                "List-Unsubscribe",
                "<mailto:unsubscribe@news.jindu-example.cn?subject=unsubscribe>,\r\n"
                " <https://news.jindu-example.cn/unsubscribe?u=9f2c>",
            ),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Precedence", "bulk"),
        ],
        seed="newsletter",
    )


def bounce(
    original: Mail,
    recipient: str | None = None,
    date: dt.datetime | None = None,
    reporting_mta: str = "newxmesmtplogicsvrszc5.qq.com",
) -> Mail:
    """A delivery failure report (multipart/report from MAILER-DAEMON) returning ``original``."""
    if recipient is None:
        first = original.to[0] if isinstance(original.to, list) else original.to
        recipient = first if isinstance(first, str) else first[1]
    when = date or DEFAULT_DATE
    explanation = (
        "This is the mail system at host "
        f"{reporting_mta}.\r\n\r\nI'm sorry to have to inform you that your message could not\r\n"
        "be delivered to one or more recipients.\r\n\r\n"
        f"<{recipient}>: host mx.163.com said: 550 User not found or disabled\r\n"
    ).encode()
    status = (
        f"Reporting-MTA: dns; {reporting_mta}\r\nArrival-Date: {format_date(when)}\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 User not found or disabled\r\n"
    ).encode()
    b = "BOUNCE." + hashlib.sha256(repr(original.message_id_value()).encode()).hexdigest()[:16]
    body = Part(
        "multipart/report",
        params=[b"report-type=delivery-status"],
        boundary=b,
        preamble=b"This is a MIME-encapsulated message.\r\n",
        children=[
            Part(
                "text/plain",
                params=[b"charset=us-ascii"],
                headers=[("Content-Description", b"Notification")],
                body=explanation,
            ),
            Part(
                "message/delivery-status",
                headers=[("Content-Description", b"Delivery report")],
                body=status,
            ),
            Part(
                "message/rfc822",
                headers=[("Content-Description", b"Undelivered Message")],
                body=original.to_bytes(),
            ),
        ],
    )
    return Mail(
        sender=("Mail Delivery System", "MAILER-DAEMON@qq.com"),
        to=original.sender,
        subject="Undelivered Mail Returned to Sender",
        date=when,
        client="plain",
        body=body,
        extra_headers=[("Return-Path", "<>"), ("Auto-Submitted", "auto-replied")],
        seed="bounce",
    )
