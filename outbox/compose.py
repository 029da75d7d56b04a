"""The office's outgoing mail as ``EmailMessage`` objects: receipts, reminders, the daily digest.

Pure functions, no network: each returns a UTF-8 message built with the standard library's
default policy (RFC 2047 headers, a base64 body, so 7-bit clean; see ``POLICY`` for the one
fix), stamped ``Auto-Submitted`` and ``X-Loop`` so that our own mail never triggers another
robot, nor us (see ``guard``). Datetimes should be timezone-aware; dates in the text are shown
in the deadline's timezone.
All text the recipients read is Simplified Chinese, in the polite style of official mail.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, formatdate, make_msgid

from contract import CATEGORIES, CATEGORY_LABELS, MISSING_NOUNS
from outbox.address import addr_spec

__all__ = [
    "COUNT_NAMES",
    "MISSING_NAMES",
    "POLICY",
    "digest",
    "receipt",
    "reminder",
]

# The ``missing`` codes of units.csv (``photos`` is plural there); ``photo`` accepted as well.
MISSING_NAMES: dict[str, str] = {**MISSING_NOUNS, "photo": MISSING_NOUNS["photos"]}
# The count columns of units.csv: (key, name, measure word).
COUNT_NAMES: tuple[tuple[str, str, str], ...] = (
    *((c.count_column, c.label, c.measure) for c in CATEGORIES if c.count_column),
    ("video_links", "视频链接", "个"),
)
_LINK_PREFIXES = ("http://", "https://")
_NO_REPLY_LINE = "本邮件为系统自动发送的回执，请勿直接回复。"


class _MailPolicy(EmailPolicy):
    """``policy.default``, except that a non-ASCII Subject is encoded by ``email.header.Header``.

    Python 3.11's folder can put a space of the text between two encoded words, where every
    RFC 2047 decoder drops it ("西渡镇 年终材料" arrives as "西渡镇年终材料" in about one long
    subject in fifteen). The legacy encoder keeps spaces inside the encoded words.
    """

    def _subject(self, name: str, value: object) -> str | None:
        if name.lower() != "subject" or self.utf8 or str(value).isascii():
            return None
        encoded = Header(str(value), "utf-8", header_name=name).encode(
            linesep=self.linesep, maxlinelen=self.max_line_length or 78
        )
        return f"{name}: {encoded}{self.linesep}"

    def fold(self, name: str, value: object) -> str:
        folded = self._subject(name, value)
        return folded if folded is not None else super().fold(name, value)

    def fold_binary(self, name: str, value: object) -> bytes:
        folded = self._subject(name, value)
        return folded.encode("ascii") if folded is not None else super().fold_binary(name, value)


# The policy of every message built here; flatten with ``message.policy`` (smtplib does).
POLICY = _MailPolicy()


# -- small helpers ----------------------------------------------------------------------------
def _one_line(text: str) -> str:
    """Header-safe text: control characters dropped, any run of whitespace one space."""
    kept = "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace() or not unicodedata.category(char).startswith("C")
    )
    return " ".join(kept.split())


def _domain(address: str) -> str | None:
    domain = address.rpartition("@")[2].strip().strip(">")
    return domain or None


def _angle(message_id: str) -> str:
    """``message_id`` as ``<id>``; "" when blank or when it is no single plain id."""
    bare = _one_line(message_id).strip("<> ")
    if not bare or not bare.isascii() or any(c.isspace() or c in '<>,;"' for c in bare):
        return ""
    return f"<{bare}>"


def _when(moment: datetime, zone: datetime | None = None) -> str:
    """``2020年12月28日 10:12``, in the timezone of ``zone`` when both are aware."""
    if zone is not None and zone.tzinfo is not None and moment.tzinfo is not None:
        moment = moment.astimezone(zone.tzinfo)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def _day(moment: date) -> str:
    return f"{moment.year}年{moment.month}月{moment.day}日"


def _local_day(moment: datetime, deadline: datetime) -> date:
    if deadline.tzinfo is not None and moment.tzinfo is not None:
        moment = moment.astimezone(deadline.tzinfo)
    return moment.date()


def _days_left(now: datetime, deadline: datetime) -> int:
    """Calendar days from today to the deadline's day, in the deadline's timezone."""
    return (deadline.date() - _local_day(now, deadline)).days


def _countdown(now: datetime, deadline: datetime) -> str:
    if now > deadline:
        days = (_local_day(now, deadline) - deadline.date()).days
        return f"报送截止时间（{_when(deadline)}）已过{f' {days} 天' if days else ''}。"
    days = _days_left(now, deadline)
    if days == 0:
        return f"今天是报送截止日，截止时间为{_when(deadline)}。"
    return f"距报送截止还有 {days} 天（截止时间：{_when(deadline)}）。"


def _missing_names(missing: list[str]) -> list[str]:
    names: list[str] = []
    for code in missing:
        name = MISSING_NAMES.get(code, code)
        if name not in names:
            names.append(name)
    return names


def _recipients(to: str | list[str]) -> tuple[Address, ...]:
    """Each recipient as one validated plain address: never a name, a list or a line break."""
    given = [to] if isinstance(to, str) else list(to)
    addresses = []
    for text in given:
        if not (text or "").strip():
            continue
        address = addr_spec(text)
        if address is None:
            raise ValueError(f"not a plain address: {text!r}")
        addresses.append(Address(addr_spec=address))
    if not addresses:
        raise ValueError("no recipient address")
    return tuple(addresses)


def _message(
    *,
    office: str,
    office_address: str,
    to: str | list[str],
    subject: str,
    body: str,
    auto_submitted: str,
    now: datetime | None,
) -> EmailMessage:
    message = EmailMessage(policy=POLICY)
    message["From"] = Address(display_name=_one_line(office), addr_spec=_one_line(office_address))
    message["To"] = _recipients(to)
    message["Subject"] = _one_line(subject)
    if now is None:
        message["Date"] = formatdate(localtime=True)
    else:  # a naive time is taken as this machine's local time
        message["Date"] = format_datetime(now if now.tzinfo else now.astimezone())
    message["Message-ID"] = make_msgid(domain=_domain(office_address))
    message["Auto-Submitted"] = auto_submitted
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Loop"] = _one_line(office_address)
    message.set_content(body, charset="utf-8", cte="base64")  # 7-bit clean for any relay
    return message


def _signature(office: str, now: datetime, deadline: datetime) -> list[str]:
    return ["", _one_line(office), _day(_local_day(now, deadline))]


# -- receipt (回执) ----------------------------------------------------------------------------
def _file_lines(files: list[tuple[str, str]]) -> list[str]:
    if not files:
        return ["  本邮件未发现可归档的附件或视频链接。如有遗漏，请重新发送。"]
    lines: list[str] = []
    for code, name in CATEGORY_LABELS.items():
        members = [filename for filename, category in files if category == code]
        if not members:
            continue
        lines.append(f"  {name}（{len(members)}）：")
        for filename in members:
            mark = "（链接）" if filename.strip().lower().startswith(_LINK_PREFIXES) else ""
            lines.append(f"    · {mark}{_one_line(filename)}")
    unknown = [(f, c) for f, c in files if c not in CATEGORY_LABELS]
    if unknown:
        lines.append(f"  其他（{len(unknown)}）：")
        lines.extend(f"    · {_one_line(filename)}" for filename, _ in unknown)
    return lines


def _count_line(unit_counts: dict[str, int]) -> str:
    parts = [
        f"{name} {int(unit_counts.get(key, 0))} {measure}" for key, name, measure in COUNT_NAMES
    ]
    return "、".join(parts)


def _receipt_lines(
    unit_name: str,
    original: str,
    received_at: datetime,
    files: list[tuple[str, str]],
    unit_counts: dict[str, int],
    missing: list[str],
    deadline: datetime,
) -> list[str]:
    """The receipt's salutation and its numbered items (一 to 六)."""
    when = _when(received_at, deadline)
    lines = [f"{unit_name}：" if unit_name else "您好：", ""]
    lines.append(f"    我办已于{when}收到您发送的邮件《{original}》，现将登记情况回执如下。")
    lines.append("")
    lines.append(f"一、报送单位：{unit_name or '未能识别报送单位，工作人员将人工核对'}")
    lines.append(f"二、收到时间：{when}")
    lines.append("三、本次收到的材料：")
    lines.extend(_file_lines(files))
    if unit_name:
        lines.append(f"四、截至目前贵单位累计报送：{_count_line(unit_counts)}")
        names = _missing_names(missing)
        if names:
            lines.append(f"五、尚缺材料：{'、'.join(names)}。请尽快补报。")
        else:
            lines.append("五、材料已齐全，感谢贵单位的支持与配合。")
    else:
        lines.append(
            "四、因未能识别报送单位，暂无法核对累计报送情况。补发材料时，请在邮件主题中注明单位全称。"
        )
    lines.append(f"六、报送截止时间：{_when(deadline)}")
    return lines


def receipt(
    *,
    office: str,
    office_address: str,
    to: str,
    unit: str | None,
    subject: str,
    message_id: str,
    received_at: datetime,
    files: list[tuple[str, str]],
    unit_counts: dict[str, int],
    missing: list[str],
    deadline: datetime,
    late: bool,
    review_reason: str = "",
    now: datetime | None = None,
) -> EmailMessage:
    """The automatic receipt (回执) for one incoming mail.

    ``files`` are (filename, category code) of this mail, a cloud link given by its URL;
    ``unit_counts`` the unit's totals so far (keys of ``COUNT_NAMES``); ``missing`` the codes
    still missing (``photos``, ``report``, ``deeds``, ``video``). ``now`` stamps the Date
    header (the current time when omitted).
    """
    now = now or datetime.now(deadline.tzinfo or received_at.tzinfo)
    original = _one_line(subject) or "（无主题）"
    title = original if original.startswith("回执：") else f"回执：{original}"
    lines = _receipt_lines(
        _one_line(unit or ""), original, received_at, files, unit_counts, missing, deadline
    )
    if late:
        lines += [
            "",
            "    特别提醒：本次材料在报送截止时间之后收到，已按逾期报送登记，"
            "将在年终考评中如实反映。",
        ]
    if review_reason.strip():
        lines += [
            "",
            f"    说明：本邮件已转工作人员人工核对（{_one_line(review_reason)}），"
            "核对结果以最终台账为准。",
        ]
    lines += ["", f"    如有疑问，请与{_one_line(office)}联系。"]
    lines += [*_signature(office, now, deadline), "", _NO_REPLY_LINE]
    message = _message(
        office=office,
        office_address=office_address,
        to=to,
        subject=title,
        body="\n".join(lines) + "\n",
        auto_submitted="auto-replied",
        now=now,
    )
    reference = _angle(message_id)
    if reference:
        message["In-Reply-To"] = reference
        message["References"] = reference
    return message


# -- reminder (催报) ---------------------------------------------------------------------------
def reminder(
    *,
    office: str,
    office_address: str,
    to: list[str],
    unit: str,
    missing: list[str],
    submitted: bool,
    deadline: datetime,
    now: datetime,
) -> EmailMessage:
    """A reminder (催报) to a unit that has not sent everything yet."""
    unit_name = _one_line(unit)
    names = _missing_names(missing)
    days = _days_left(now, deadline)
    if now > deadline:
        title = f"催报：{unit_name}年终报送材料已逾期，请尽快补报"
    elif days == 0:
        title = f"催报：{unit_name}年终报送材料今日截止"
    else:
        title = f"催报：{unit_name}年终报送材料（距截止还有{days}天）"

    lines = [f"{unit_name}：", ""]
    if not submitted:
        lines.append(f"    截至{_when(now, deadline)}，我办尚未收到贵单位报送的年终材料。")
    elif names:
        lines.append(
            f"    截至{_when(now, deadline)}，我办已收到贵单位报送的部分材料，"
            f"尚缺：{'、'.join(names)}。"
        )
    else:
        lines.append(
            f"    截至{_when(now, deadline)}，贵单位材料已齐全，感谢支持与配合。"
            "如有补充，可继续发送。"
        )
    lines.append(f"    {_countdown(now, deadline)}")
    if not submitted:
        wanted = names or _missing_names(["photos", "report", "deeds", "video"])
        lines.append(f"    需报送的材料：{'、'.join(wanted)}。")
    lines.append("")
    lines.append("    报送方式：")
    lines.append(f"    1. 直接回复本邮件，或将材料作为附件发送至 {_one_line(office_address)}；")
    lines.append(f"    2. 邮件主题请注明单位全称（如“{unit_name}年终材料”），以便登记；")
    lines.append(
        "    3. 视频文件较大时，可使用超大附件或网盘链接（请一并注明提取码），并请留意链接有效期。"
    )
    lines.append("")
    lines.append("    逾期未报或材料不全的单位，将在年终考评中予以通报。请按时报送，谢谢配合！")
    lines.extend(_signature(office, now, deadline))
    message = _message(
        office=office,
        office_address=office_address,
        to=to,
        subject=title,
        body="\n".join(lines) + "\n",
        auto_submitted="auto-generated",
        now=now,
    )
    message["Reply-To"] = _one_line(office_address)
    return message


# -- daily digest (每日汇总) -------------------------------------------------------------------
def _unit_list(units: list[str], empty: str) -> list[str]:
    names = [_one_line(unit) for unit in units if _one_line(unit)]
    if not names:
        return [f"  {empty}"]
    return [f"  {'、'.join(names)}"]


def digest(
    *,
    office: str,
    office_address: str,
    to: list[str],
    now: datetime,
    deadline: datetime,
    new_messages: int,
    new_units: list[str],
    review_count: int,
    missing_units: list[str],
    incomplete_units: list[str],
) -> EmailMessage:
    """The daily digest (每日汇总) for the office staff."""
    today = _day(_local_day(now, deadline))
    title = f"每日汇总：{today} 新收邮件{new_messages}封，待确认{review_count}项"
    lines = ["各位同事：", ""]
    lines.append(f"    现将截至{_when(now, deadline)}的材料报送情况汇总如下。")
    lines.append(f"    {_countdown(now, deadline)}")
    lines.append("")
    lines.append(f"一、自上次汇总以来新收邮件：{new_messages} 封")
    lines.append(f"二、新报送单位（{len(new_units)} 个）：")
    lines.extend(_unit_list(new_units, "无"))
    lines.append(
        f"三、待人工确认：{review_count} 项" + ("，请及时核对。" if review_count else "。")
    )
    lines.append(f"四、尚未报送的单位（{len(missing_units)} 个）：")
    lines.extend(_unit_list(missing_units, "无，所有单位均已报送"))
    lines.append(f"五、材料不全的单位（{len(incomplete_units)} 个）：")
    lines.extend(_unit_list(incomplete_units, "无"))
    lines.extend(_signature(office, now, deadline))
    lines.append("")
    lines.append("本邮件由报送收取系统自动生成。")
    return _message(
        office=office,
        office_address=office_address,
        to=to,
        subject=title,
        body="\n".join(lines) + "\n",
        auto_submitted="auto-generated",
        now=now,
    )
