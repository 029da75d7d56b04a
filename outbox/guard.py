"""May we answer this mail? The auto-reply loop guard and a per-recipient rate limit.

An automatic receipt sent to a robot starts a mail loop (two auto-responders answering each
other) or spams a mailing list. ``no_reply_reason`` reads the header block of an incoming mail
(through ``parsers.headers``, tolerant of raw 8-bit bytes), asks ``parsers.nature`` for the signs
of a robot (the same detector that decides a mail's nature) and returns why we must stay silent,
or "" when a receipt may go out. ``allowed`` caps how many replies one recipient gets a day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from email.utils import getaddresses

from parsers.headers import decode_value, parse_address, parse_header_block
from parsers.nature import signs

__all__ = ["REASONS", "RateLimit", "allowed", "no_reply_reason"]

# Every reason code ``no_reply_reason`` can return, with a Chinese label for reports and logs.
REASONS: dict[str, str] = {
    "empty_sender": "无发件人地址",
    "invalid_sender": "发件人地址无效",
    "own_address": "本办自己的邮箱",
    "system_sender": "邮件系统地址（mailer-daemon / postmaster）",
    "noreply_sender": "不接收回复的地址（noreply）",
    "auto_submitted": "自动发送的邮件（Auto-Submitted）",
    "precedence": "群发或自动邮件（Precedence）",
    "list_mail": "邮件列表或订阅邮件（List-*）",
    "suppress_requested": "发件方要求不自动回复（X-Auto-Response-Suppress）",
    "auto_reply": "自动回复（X-Autoreply / X-Autorespond）",
    "loop": "本办发出的邮件回流（X-Loop）",
    "null_return_path": "退信或系统通知（Return-Path 为空）",
    "delivery_report": "投递报告或退信（multipart/report）",
    "auto_subject": "主题显示为自动回复或退信",
}
# Signs of parsers.nature that are no reason to stay silent: a receipt to admin@ or to a mail
# titled 系统通知 harms nobody (such mail is credited to no unit anyway unless registered).
_REPLY_IS_FINE = frozenset({"service_sender", "system_subject"})


def _address(value: str) -> str:
    """The bare, lower-cased address of ``value`` (a plain address or ``Name <addr>``)."""
    return parse_address(value)[1] or value.strip().strip("<>").strip().lower()


def _names_us(headers: Message, own: set[str]) -> bool:
    for value in headers.get_all("X-Loop") or ():
        text = decode_value(value).text
        found = {address.lower() for _, address in getaddresses([text]) if address}
        if found & own or any(address in text.lower() for address in own):
            return True
    return False


def no_reply_reason(raw_headers: bytes, sender: str, own_addresses: Iterable[str]) -> str:
    """Why no automatic reply may go to this mail; "" when a receipt may be sent.

    ``raw_headers`` is the header block or the whole raw message (only headers are read);
    ``sender`` the address a receipt would go to; ``own_addresses`` the office's addresses.
    The result is one of the keys of ``REASONS``.
    """
    own = {address for address in (_address(a) for a in own_addresses) if address}
    address = _address(sender or "")
    if not address:
        return "empty_sender"
    if "@" not in address.strip("@") or any(char.isspace() for char in address):
        return "invalid_sender"
    if address in own:
        return "own_address"
    headers = parse_header_block(raw_headers or b"")
    subject = decode_value(headers.get("Subject")).text
    for sign in signs(headers, address, subject):
        if sign.code not in _REPLY_IS_FINE:
            return sign.code
    if own and _names_us(headers, own):
        return "loop"
    return ""


def allowed(sent_times: list[datetime], now: datetime, per_day: int) -> bool:
    """True when one more reply to a recipient stays within ``per_day`` replies a day.

    The day is a rolling 24 hours before ``now``; ``sent_times`` are the earlier replies to
    that recipient (all timezone-aware, or all naive, like ``now``).
    """
    if per_day <= 0:
        return False
    since = now - timedelta(days=1)
    recent = sum(1 for sent in sent_times if sent > since)  # a clock ahead of now still counts
    return recent < per_day


@dataclass(frozen=True)
class RateLimit:
    """``allowed`` with the cap bound, for passing around as one value."""

    per_day: int = 3

    def allowed(self, sent_times: list[datetime], now: datetime) -> bool:
        return allowed(sent_times, now, self.per_day)
