"""Raw message bytes → ParsedMail: headers, bodies, attachment spans, forwarded messages.

mail-parser parses the Date header, where it is right (it recovers obsolete forms); a full
mail-parser parse would cost 0.7 ms a message for nothing else we need (benchmarks/). Text that
users see (subject, display names, file names) goes through ``parsers.headers``, because
mail-parser decodes it with errors ignored (it silently drops GBK-only characters of
gb2312-labelled names). Bodies and attachments come from the byte-level walker in
``parsers.mime`` so large parts are never copied twice.

Nothing here fails a whole message: a part whose headers or body cannot be handled is still
listed, with a ``problem`` for the review queue, and the walk goes on (SPEC: a bad part is kept
or skipped with a reason, the rest of the message is processed).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mailparser.utils import convert_mail_date

from parsers import nature as nature_signs
from parsers.headers import (
    Decoded,
    decode_text,
    decode_value,
    filename_of,
    parse_address,
    split_params,
)
from parsers.html_text import html_to_text
from parsers.mime import (
    TOO_DEEP,
    Entity,
    decode_body,
    decode_span,
    flatten,
    parse_entity,
    transfer_encoding,
)

log = logging.getLogger(__name__)

MAX_FORWARD_DEPTH = 5  # attached messages parsed as messages; deeper ones are listed flat
_CID_REF = re.compile(r"""cid:([^"'\s>)]+)""", re.IGNORECASE)
TOO_DEEP_PROBLEM = "嵌套层数过多（转发或分段超过上限），未逐层展开，已单独列出，请人工核对原邮件"
TOO_MANY_PROBLEM = "嵌套层数过多且分段数量超过上限，其余内容未展开，已原样保存，请人工核对原邮件"
PART_PROBLEM = "该附件的头部或内容无法解析，已用替代名称保存，请人工核对原邮件"
FORWARD_PROBLEM = "转发的邮件无法解析，已原样保存，请人工核对"


@dataclass(frozen=True)
class Attachment:
    """A leaf part that may be a material. Its bytes stay in ``raw`` until ``payload`` is called."""

    name: str  # decoded file name, "" when the part has none
    content_type: str
    disposition: str  # "attachment", "inline" or ""
    content_id: str  # without angle brackets
    referenced: bool  # the HTML body refers to it by cid:
    start: int
    end: int
    encoding: str
    suspect_name: bool  # the name could not be decoded without loss
    guessed_name: bool = False  # raw 8-bit name bytes whose charset nothing declared
    problem: str = ""  # Chinese reason for the review queue when the part was not handled fully

    @property
    def encoded_size(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    subject: str
    sender: str  # lower-case address
    sender_name: str
    date: datetime | None  # the Date header: informative only, never the receive time
    text: str  # plain text body (the HTML body reduced to text when there is no plain one)
    html: str
    attachments: tuple[Attachment, ...]
    forwarded: tuple[ParsedMail, ...]
    nature: str  # "" for an ordinary mail; else why it is no submission (auto_reply, bounce, ...)
    defects: tuple[str, ...]
    raw: bytes  # the buffer the attachment spans point into
    # The nature from declared signs only (headers), for a sender the units file registers:
    # a guess from its local part or subject must not take a unit's own mail away from it.
    declared_nature: str = ""


def payload(mail: ParsedMail, attachment: Attachment) -> bytes:
    """Decode one attachment; callers hash, write and drop it before decoding the next."""
    return decode_span(mail.raw, attachment.start, attachment.end, attachment.encoding)


def _date_header(value: object) -> datetime | None:
    """The Date header as an aware datetime, through mail-parser's date parser, which also
    recovers obsolete RFC 5322 forms (two-digit years, zone names); None when unusable."""
    if not value:
        return None
    try:
        date, _offset = convert_mail_date(str(value))
    except Exception:  # dateutil and mail-parser raise many types on nonsense dates
        return None
    return date if date.tzinfo is not None else date.replace(tzinfo=UTC)


def _disposition(entity: Entity) -> str:
    return split_params(entity.headers.get("Content-Disposition")).value


_WORD_CHARSET = re.compile(r"=\?([^?*\s]+)(?:\*[^?\s]*)?\?[bBqQ]\?")


def _declared_charsets(root: Entity) -> tuple[str, ...]:
    """The charsets the message declares, in order: its parts' charset=, then those of the
    encoded words in its headers. Its raw 8-bit header bytes were most likely written in one
    of them (a client that writes raw bytes in one header often labels another)."""
    found: dict[str, None] = {}
    stack = [root]
    while stack:
        entity = stack.pop()
        if entity.charset:
            found.setdefault(entity.charset)
        stack.extend(reversed(entity.children))
    for value in root.headers.values():
        for label in _WORD_CHARSET.findall(str(value)):
            found.setdefault(label.lower())
    return tuple(found)


@dataclass
class _Leaf:
    entity: Entity
    name: Decoded
    problem: str = ""


@dataclass
class _Walker:
    """One message's bodies, leaf parts and forwarded messages, collected part by part."""

    raw: bytes
    depth: int
    charsets: tuple[str, ...]
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    leaves: list[_Leaf] = field(default_factory=list)
    forwarded: list[ParsedMail] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    def walk(self, entity: Entity) -> None:
        self.defects.extend(entity.defects)
        if TOO_DEEP in entity.defects:
            self._flat(entity)
        elif entity.content_type == "message/rfc822":
            self._message(entity)
        elif entity.children:
            for child in entity.children:
                self.walk(child)
        else:
            self._guarded(entity)

    def _message(self, entity: Entity) -> None:
        """An attached message: parsed as a message of its own, or listed flat past the cap."""
        if self.depth >= MAX_FORWARD_DEPTH:
            self._flat(entity)
            return
        try:
            if transfer_encoding(entity.headers) in ("7bit", "8bit", "binary", ""):
                inner = self.raw[entity.start : entity.end]
            else:
                inner = decode_body(self.raw, entity)
            self.forwarded.append(parse_mail(inner, self.depth + 1))
        except Exception:  # parse_mail is total; this guards against a bug, not bad input
            log.exception("attached message at byte %d could not be parsed", entity.start)
            self.leaves.append(_Leaf(entity, Decoded(""), FORWARD_PROBLEM))

    def _flat(self, entity: Entity) -> None:
        """Past the nesting caps: list every leaf inside, each with the reason, none lost."""
        leaves, cut = flatten(self.raw, entity)
        for leaf in leaves:
            self._guarded(leaf, TOO_DEEP_PROBLEM)
        if cut:
            self.leaves.append(_Leaf(entity, Decoded(""), TOO_MANY_PROBLEM))

    def _guarded(self, entity: Entity, problem: str = "") -> None:
        try:
            self._leaf(entity, problem)
        except Exception:
            log.exception("part at byte %d could not be read; listed as it is", entity.start)
            self.leaves.append(_Leaf(entity, Decoded(""), problem or PART_PROBLEM))

    def _leaf(self, entity: Entity, problem: str) -> None:
        charsets = (entity.charset, *self.charsets) if entity.charset else self.charsets
        disposition = split_params(entity.headers.get("Content-Disposition"))
        name = filename_of(disposition, entity.params, charsets)
        if name.lossy:
            log.warning("suspect attachment name decoded with loss: %r", name.text)
        ctype = entity.content_type
        is_body = ctype in ("text/plain", "text/html") or ctype.startswith("multipart/")
        if is_body and not name.text and disposition.value != "attachment" and not problem:
            body, _lossy = decode_text(decode_body(self.raw, entity), entity.charset or None)
            (self.htmls if ctype == "text/html" else self.texts).append(body)
            return
        if name.text.lower().endswith(".eml") and not problem:
            if self.depth >= MAX_FORWARD_DEPTH:
                problem = TOO_DEEP_PROBLEM
            else:
                data = decode_body(self.raw, entity)
                if _looks_like_message(data):
                    self.forwarded.append(parse_mail(data, self.depth + 1))
                    return
        self.leaves.append(_Leaf(entity, name, problem))


def _attachment(leaf: _Leaf, referenced: set[str]) -> Attachment:
    entity = leaf.entity
    try:
        content_id = str(entity.headers.get("Content-ID", "") or "").strip().strip("<>")
        return Attachment(
            name=leaf.name.text,
            content_type=entity.content_type,
            disposition=_disposition(entity),
            content_id=content_id,
            referenced=bool(content_id) and content_id.lower() in referenced,
            start=entity.start,
            end=entity.end,
            encoding=transfer_encoding(entity.headers),
            suspect_name=leaf.name.lossy,
            guessed_name=leaf.name.guessed,
            problem=leaf.problem,
        )
    except Exception:
        log.exception("part at byte %d has unreadable headers; listed as it is", entity.start)
        return Attachment(
            "",
            "application/octet-stream",
            "",
            "",
            False,
            entity.start,
            entity.end,
            "",
            False,
            problem=leaf.problem or PART_PROBLEM,
        )


def parse_mail(raw: bytes, depth: int = 0) -> ParsedMail:
    """Parse one message; never raises on malformed input (defects and per-part problems are
    recorded instead)."""
    root = parse_entity(raw)
    charsets = _declared_charsets(root)
    headers = root.headers
    subject = unicodedata.normalize("NFC", decode_value(headers.get("Subject"), charsets).text)
    sender_name, sender = parse_address(headers.get("From"), charsets)
    if not sender:
        fallback = headers.get("Sender") or headers.get("Reply-To")
        sender_name, sender = parse_address(fallback, charsets)
    message_id = str(headers.get("Message-ID", "") or "").strip().strip("<>").strip()
    walker = _Walker(raw, depth, charsets)
    walker.walk(root)
    html = "\n".join(walker.htmls)
    referenced = {ref.strip("<>").lower() for ref in _CID_REF.findall(html)}
    signs = nature_signs.signs(headers, sender, subject)
    return ParsedMail(
        message_id=message_id,
        subject=subject,
        sender=sender,
        sender_name=sender_name,
        date=_date_header(headers.get("Date")),
        text="\n".join(walker.texts) if walker.texts else html_to_text(html),
        html=html,
        attachments=tuple(_attachment(leaf, referenced) for leaf in walker.leaves),
        forwarded=tuple(walker.forwarded),
        nature=nature_signs.nature(signs),
        defects=tuple(dict.fromkeys([*root.defects, *walker.defects])),
        raw=raw,
        declared_nature=nature_signs.nature(signs, trust_guesses=False),
    )


def _looks_like_message(data: bytes) -> bool:
    head = data[:4096]
    return bool(
        re.search(rb"^(From|Received|Message-ID|Subject|Date|Return-Path):", head, re.M | re.I)
    )
