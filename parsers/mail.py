"""Raw message bytes → ParsedMail: headers, bodies, attachment spans, forwarded messages.

mail-parser parses the Date header, where it is right (it recovers obsolete forms); a full
mail-parser parse would cost 0.7 ms a message for nothing else we need (benchmarks/). Text that
users see (subject, display names, file names) goes through ``parsers.headers``, because
mail-parser decodes it with errors ignored (it silently drops GBK-only characters of
gb2312-labelled names). Bodies and attachments come from the byte-level walker in
``parsers.mime`` so large parts are never copied twice.
"""

from __future__ import annotations

import html as html_lib
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from mailparser.utils import convert_mail_date

from parsers.headers import decode_header_value, decode_param, decode_text, parse_address
from parsers.mime import Entity, decode_body, decode_span, parse_entity, transfer_encoding

log = logging.getLogger(__name__)

MAX_FORWARD_DEPTH = 5
_CID_REF = re.compile(r"""cid:([^"'\s>)]+)""", re.IGNORECASE)


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


def payload(mail: ParsedMail, attachment: Attachment) -> bytes:
    """Decode one attachment; callers hash, write and drop it before decoding the next."""
    return decode_span(mail.raw, attachment.start, attachment.end, attachment.encoding)


_AUTO_SUBJECT = re.compile(
    r"^\s*(自动回复|自动答复|auto(matic)?[ -]?reply|out of (the )?office|休假|退信|"
    r"undeliver|delivery status notification|mail delivery (failed|failure)|"
    r"returned mail|系统退信|投递失败)",
    re.IGNORECASE,
)
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon")
# Mail-system and service senders (QQ's 10000@qq.com is the QQ Mail system account).
_SYSTEM_SENDERS = {
    "10000",
    "system",
    "service",
    "notice",
    "notify",
    "notification",
    "notifications",
    "admin",
    "webmaster",
    "newsletter",
    "news",
    "alert",
    "alerts",
    "security",
}
_SYSTEM_SUBJECT = re.compile(
    r"^\s*[【\[]?\s*(系统通知|系统消息|系统提醒|安全提醒|登录提醒|账号安全|邮箱容量|QQ邮箱团队)",
    re.I,
)


def _nature(headers, sender: str, subject: str, content_type: str) -> str:
    """Why a mail is no submission, from headers alone; "" for an ordinary mail."""
    local = sender.split("@", 1)[0]
    if content_type == "multipart/report" or local in _BOUNCE_SENDERS:
        return "bounce"
    auto = str(headers.get("Auto-Submitted", "") or "").strip().lower()
    if auto and auto != "no":
        return "auto_reply"
    if headers.get("X-Autoreply") or headers.get("X-Autorespond"):
        return "auto_reply"
    precedence = str(headers.get("Precedence", "") or "").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        return "bulk"
    if precedence == "auto_reply":
        return "auto_reply"
    if headers.get("List-Id") or headers.get("List-Unsubscribe"):
        return "newsletter"
    if _AUTO_SUBJECT.search(subject):
        return "auto_reply"
    if local in _SYSTEM_SENDERS or local.startswith(("noreply", "no-reply", "donotreply")):
        return "system_notice"
    if _SYSTEM_SUBJECT.search(subject):
        return "system_notice"
    return ""


def _date_header(value: object) -> datetime | None:
    """The Date header as an aware datetime, through mail-parser's date parser, which also
    recovers obsolete RFC 5322 forms (two-digit years, zone names); None when unusable."""
    if not value:
        return None
    try:
        date, _offset = convert_mail_date(str(value))
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    return date if date.tzinfo is not None else date.replace(tzinfo=UTC)


def _filename(entity: Entity) -> tuple[str, bool]:
    headers = entity.headers
    for param, header in (("filename", "content-disposition"), ("name", "content-type")):
        value = headers.get_param(param, header=header)
        if value:
            name, lossy = decode_param(value)
            name = unicodedata.normalize("NFC", name.strip().strip('"'))
            if name:
                if lossy:
                    log.warning("suspect attachment name decoded with loss: %r", name)
                return name, lossy
    return "", False


def _disposition(entity: Entity) -> str:
    value = str(entity.headers.get("Content-Disposition", "") or "")
    return value.split(";", 1)[0].strip().lower()


def _text_of(raw: bytes, entity: Entity) -> str:
    data = decode_body(raw, entity)
    text, _ = decode_text(data, entity.headers.get_content_charset())
    return text


_TAG = re.compile(r"<[^>]+>")
_DROP_BLOCKS = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_HREF = re.compile(r"""<[a-z]+\b[^>]*?href\s*=\s*["']?([^"'\s>]+)[^>]*>""", re.IGNORECASE)
_BREAKS = re.compile(r"<(br|/p|/div|/tr|/li|/h\d)\b[^>]*>", re.IGNORECASE)


def html_to_text(html: str) -> str:
    """Readable text of an HTML body, keeping link targets in place (cloud links live there)."""
    text = _DROP_BLOCKS.sub(" ", html)
    text = _HREF.sub(lambda m: f" {m.group(1)} ", text)
    text = _BREAKS.sub("\n", text)
    text = _TAG.sub(" ", text)
    text = html_lib.unescape(text)
    return re.sub(r"[ \t\u00a0]+", " ", text)


def parse_mail(raw: bytes, depth: int = 0) -> ParsedMail:
    """Parse one message; never raises on malformed input (defects are recorded instead)."""
    root = parse_entity(raw)
    headers = root.headers
    subject, _ = decode_header_value(headers.get("Subject"))
    subject = unicodedata.normalize("NFC", subject)
    sender_name, sender = parse_address(headers.get("From"))
    if not sender:
        sender_name, sender = parse_address(headers.get("Sender") or headers.get("Reply-To"))
    message_id = str(headers.get("Message-ID", "") or "").strip().strip("<>").strip()
    date = _date_header(headers.get("Date"))

    texts: list[str] = []
    htmls: list[str] = []
    leaves: list[tuple[Entity, str, bool]] = []
    forwarded: list[ParsedMail] = []
    defects: list[str] = list(root.defects)

    def walk(entity: Entity) -> None:
        defects.extend(entity.defects)
        ctype = entity.content_type
        if ctype == "message/rfc822" and depth < MAX_FORWARD_DEPTH:
            inner_raw = (
                raw[entity.start : entity.end]
                if transfer_encoding(entity.headers) in ("7bit", "8bit", "binary", "")
                else decode_body(raw, entity)
            )
            forwarded.append(parse_mail(inner_raw, depth + 1))
            return
        if entity.children:
            for child in entity.children:
                walk(child)
            return
        name, lossy = _filename(entity)
        disposition = _disposition(entity)
        is_body_text = ctype in ("text/plain", "text/html") or ctype.startswith("multipart/")
        if is_body_text and not name and disposition != "attachment":
            text = _text_of(raw, entity)
            (htmls if ctype == "text/html" else texts).append(text)
            return
        if name.lower().endswith(".eml") and depth < MAX_FORWARD_DEPTH:
            data = decode_body(raw, entity)
            if _looks_like_message(data):
                forwarded.append(parse_mail(data, depth + 1))
                return
        leaves.append((entity, name, lossy))

    walk(root)
    html = "\n".join(htmls)
    referenced = {ref.strip("<>").lower() for ref in _CID_REF.findall(html)}
    attachments = []
    for entity, name, lossy in leaves:
        content_id = str(entity.headers.get("Content-ID", "") or "").strip().strip("<>")
        attachments.append(
            Attachment(
                name=name,
                content_type=entity.content_type,
                disposition=_disposition(entity),
                content_id=content_id,
                referenced=bool(content_id) and content_id.lower() in referenced,
                start=entity.start,
                end=entity.end,
                encoding=transfer_encoding(entity.headers),
                suspect_name=lossy,
            )
        )
    text = "\n".join(texts) if texts else html_to_text(html)
    return ParsedMail(
        message_id=message_id,
        subject=subject,
        sender=sender,
        sender_name=sender_name,
        date=date,
        text=text,
        html=html,
        attachments=tuple(attachments),
        forwarded=tuple(forwarded),
        nature=_nature(headers, sender, subject, root.content_type),
        defects=tuple(defects),
        raw=raw,
    )


def _looks_like_message(data: bytes) -> bool:
    head = data[:4096]
    return bool(
        re.search(rb"^(From|Received|Message-ID|Subject|Date|Return-Path):", head, re.M | re.I)
    )
