"""The outgoing mail of the office workflow: the reply guard and the composed messages.

Incoming mail is built as real RFC 822 bytes by ``tests.support.mails``; outgoing messages are
flattened to bytes and parsed back with the standard library, as a recipient's client would.
SMTP sending is in ``test_outbox_send.py``.
"""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from outbox import compose, guard
from outbox.guard import REASONS, RateLimit, allowed, no_reply_reason
from tests.support.mails import Mail

CST = timezone(timedelta(hours=8))
OFFICE = "衡阳县禁毒办"
OFFICE_ADDRESS = "hyxjdb@qq.com"
OWN = [OFFICE_ADDRESS, "Jdb-Backup@163.com"]
DEADLINE = datetime(2020, 12, 31, 23, 59, 59, tzinfo=CST)
SENDER = "xidu@qq.com"


def incoming(*extra: tuple[str, str | bytes], sender: str = SENDER, **kwargs) -> bytes:
    return Mail(sender=("西渡镇", sender), extra_headers=list(extra), **kwargs).to_bytes()


def parsed(message: EmailMessage) -> EmailMessage:
    """What a recipient's client sees: the flattened bytes parsed back."""
    data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    assert all(byte < 128 for byte in data), "outgoing mail must be 7-bit clean"
    return email.message_from_bytes(data, policy=policy.default)


# ------------------------------------------------------------------------------------------
# guard: no_reply_reason
# ------------------------------------------------------------------------------------------


def test_an_ordinary_submission_may_be_answered():
    raw = incoming(text="请查收我镇年终材料。")
    assert no_reply_reason(raw, SENDER, OWN) == ""


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (("Auto-Submitted", "auto-replied"), "auto_submitted"),
        (("Auto-Submitted", "auto-generated"), "auto_submitted"),
        (("Auto-Submitted", "Auto-Replied; owner-email=x@qq.com"), "auto_submitted"),
        (("Auto-Submitted", "auto-notified"), "auto_submitted"),
        (("Precedence", "bulk"), "precedence"),
        (("Precedence", "List"), "precedence"),
        (("Precedence", "junk"), "precedence"),
        (("Precedence", "auto_reply"), "precedence"),
        (("List-Id", "<news.example.cn>"), "list_mail"),
        (("List-Unsubscribe", "<mailto:unsub@example.cn>"), "list_mail"),
        (("List-Post", "<mailto:list@example.cn>"), "list_mail"),
        (("List-Help", "<mailto:help@example.cn>"), "list_mail"),
        (("X-Auto-Response-Suppress", "All"), "suppress_requested"),
        (("X-Auto-Response-Suppress", "OOF, AutoReply"), "suppress_requested"),
        (("X-Autoreply", "yes"), "auto_reply"),
        (("X-Autorespond", "Vacation"), "auto_reply"),
        (("X-Loop", OFFICE_ADDRESS), "loop"),
        (("X-Loop", "衡阳县禁毒办 <HYXJDB@QQ.COM>"), "loop"),
        (("X-Loop", "jdb-backup@163.com"), "loop"),
        (("Return-Path", "<>"), "null_return_path"),
        (("Return-Path", " <> "), "null_return_path"),
    ],
)
def test_each_robot_header_forbids_a_reply(header, reason):
    """GIVEN an otherwise ordinary submission WHEN it carries one robot header THEN silence."""
    raw = incoming(header)
    assert no_reply_reason(raw, SENDER, OWN) == reason
    assert reason in REASONS


@pytest.mark.parametrize(
    "header",
    [
        ("Auto-Submitted", "no"),
        ("Auto-Submitted", " No "),
        ("Precedence", "normal"),
        ("X-Loop", "someone-else@example.cn"),
        ("Return-Path", "<xidu@qq.com>"),
        ("X-Mailer", "QQMail 2.x"),
    ],
)
def test_harmless_values_of_the_same_headers_allow_a_reply(header):
    assert no_reply_reason(incoming(header), SENDER, OWN) == ""


def test_a_delivery_report_is_never_answered():
    raw = (
        b"From: Mail Delivery System <bounce@qq.com>\r\n"
        b"Subject: Undelivered\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n"
    )
    assert no_reply_reason(raw, "bounce@qq.com", OWN) == "delivery_report"


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("MAILER-DAEMON@qq.com", "system_sender"),
        ("mailer-daemon@mx.example.cn", "system_sender"),
        ("postmaster@163.com", "system_sender"),
        ("noreply@example.cn", "noreply_sender"),
        ("No-Reply@example.cn", "noreply_sender"),
        ("no_reply+notice@example.cn", "noreply_sender"),
        ("donotreply@gov.cn", "noreply_sender"),
        ("do-not-reply@gov.cn", "noreply_sender"),
        (OFFICE_ADDRESS, "own_address"),
        ("衡阳县禁毒办 <HyxJdb@qq.com>", "own_address"),
        ("jdb-backup@163.com", "own_address"),
        ("", "empty_sender"),
        ("   ", "empty_sender"),
        ("<>", "empty_sender"),
        ("xidu", "invalid_sender"),
        ("@qq.com", "invalid_sender"),
    ],
)
def test_system_and_own_senders_are_never_answered(sender, reason):
    assert no_reply_reason(incoming(), sender, OWN) == reason


@pytest.mark.parametrize(
    "subject",
    ["自动回复：年终材料报送", "Automatic reply: 材料", "Out of Office: 材料", "系统退信"],
)
def test_a_subject_that_says_auto_reply_is_not_answered(subject):
    """QQ Mail's vacation reply carries no Auto-Submitted header, only its subject."""
    for style in ("b", "raw"):
        raw = incoming(subject=subject, subject_style=style)
        assert no_reply_reason(raw, SENDER, OWN) == "auto_subject", style


@pytest.mark.parametrize("charset", ["gb18030", "utf-8"])
def test_raw_8bit_headers_do_not_crash(charset):
    raw = incoming(
        ("X-Loop", "西渡镇 <xidu@qq.com>".encode(charset)),
        ("Precedence", "普通".encode(charset)),
        subject="西渡镇年终材料",
        subject_style="raw",
        header_charset=charset,
        client="foxmail",
    )
    assert no_reply_reason(raw, SENDER, OWN) == ""
    raw_loop = incoming(("X-Loop", f"禁毒办 <{OFFICE_ADDRESS}>".encode(charset)))
    assert no_reply_reason(raw_loop, SENDER, OWN) == "loop"


def test_only_the_header_block_is_enough():
    raw = incoming(("Auto-Submitted", "auto-replied"))
    header_block = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    assert no_reply_reason(header_block, SENDER, OWN) == "auto_submitted"
    assert no_reply_reason(b"", SENDER, OWN) == ""


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.text(max_size=40))
def test_the_guard_never_raises(raw, sender):
    assert no_reply_reason(raw, sender, OWN) in {"", *REASONS}


def test_our_own_mail_is_not_answered_by_our_guard():
    """GIVEN a receipt we sent WHEN it comes back (a loop) THEN the guard recognises it."""
    message = compose.receipt(**receipt_args())
    raw = message.as_bytes()
    assert no_reply_reason(raw, "someone@qq.com", OWN) != ""


# ------------------------------------------------------------------------------------------
# guard: rate limit
# ------------------------------------------------------------------------------------------


def test_rate_limit_counts_a_rolling_day():
    now = datetime(2020, 12, 28, 10, 0, tzinfo=CST)
    sent = [now - timedelta(hours=1), now - timedelta(hours=20)]
    assert allowed(sent, now, per_day=3)
    assert not allowed([*sent, now - timedelta(minutes=5)], now, per_day=3)
    old = [now - timedelta(days=1, seconds=1)] * 10
    assert allowed(old, now, per_day=1)
    assert not allowed([], now, per_day=0)
    assert RateLimit(per_day=2).allowed([now - timedelta(hours=2)], now)
    assert not RateLimit(per_day=1).allowed([now - timedelta(hours=2)], now)


def test_rate_limit_mixes_timezones_correctly():
    now = datetime(2020, 12, 28, 10, 0, tzinfo=CST)
    sent_utc = [datetime(2020, 12, 28, 1, 0, tzinfo=UTC)]  # 09:00 +08:00, one hour ago
    assert not allowed(sent_utc, now, per_day=1)


@given(
    st.lists(st.integers(min_value=-3 * 86400, max_value=3600), max_size=20),
    st.integers(min_value=0, max_value=10),
)
def test_rate_limit_property(offsets, per_day):
    now = datetime(2020, 12, 28, 10, 0, tzinfo=CST)
    sent = [now + timedelta(seconds=offset) for offset in offsets]
    recent = sum(1 for offset in offsets if offset > -86400)
    assert allowed(sent, now, per_day) == (recent < per_day)


# ------------------------------------------------------------------------------------------
# compose: receipt
# ------------------------------------------------------------------------------------------


def receipt_args(**overrides):
    args = {
        "office": OFFICE,
        "office_address": OFFICE_ADDRESS,
        "to": SENDER,
        "unit": "西渡镇",
        "subject": "西渡镇年终材料报送（第一批）",
        "message_id": "tencent_ABC123@qq.com",
        "received_at": datetime(2020, 12, 28, 2, 12, 20, tzinfo=UTC),  # 10:12 +08:00
        "files": [
            ("活动照片1.jpg", "photo"),
            ("材料.zip/照片/活动照片2.jpg", "photo"),
            ("西渡镇2020年禁毒志愿服务工作总结.docx", "report"),
            ("https://mail.qq.com/cgi-bin/ftnExs_download?k=abc&t=exs_ftn_download", "video"),
            ("新建文本文档.txt", "other"),
        ],
        "unit_counts": {"photos": 5, "reports": 1, "deeds": 0, "videos": 0, "video_links": 1},
        "missing": ["deeds"],
        "deadline": DEADLINE,
        "late": False,
        "now": datetime(2020, 12, 28, 10, 15, tzinfo=CST),
    }
    args.update(overrides)
    return args


def test_receipt_headers_survive_the_wire():
    message = parsed(compose.receipt(**receipt_args()))
    assert message["Subject"] == "回执：西渡镇年终材料报送（第一批）"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["In-Reply-To"] == "<tencent_ABC123@qq.com>"
    assert message["References"] == "<tencent_ABC123@qq.com>"
    assert message["X-Loop"] == OFFICE_ADDRESS
    assert message["X-Auto-Response-Suppress"] == "All"
    assert "Precedence" not in message
    assert message["From"].addresses[0].display_name == OFFICE
    assert message["From"].addresses[0].addr_spec == OFFICE_ADDRESS
    assert message["To"].addresses[0].addr_spec == SENDER
    assert re.fullmatch(r"<[^@<>]+@qq\.com>", message["Message-ID"])
    assert message["Date"].datetime == datetime(2020, 12, 28, 10, 15, tzinfo=CST)
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"


def test_receipt_body_lists_files_totals_missing_and_deadline():
    body = parsed(compose.receipt(**receipt_args())).get_content()
    assert body.startswith("西渡镇：")
    assert "报送单位：西渡镇" in body
    assert "收到时间：2020年12月28日 10:12" in body  # in the deadline's timezone
    assert "照片（2）" in body and "· 材料.zip/照片/活动照片2.jpg" in body
    assert "总结报告（1）" in body and "工作总结.docx" in body
    assert "视频（1）" in body
    assert "· （链接）https://mail.qq.com/cgi-bin/ftnExs_download?k=abc" in body
    assert "其他（1）" in body and "新建文本文档.txt" in body
    assert "事迹材料（" not in body  # no deeds in this mail
    assert "照片 5 张、总结报告 1 份、事迹材料 0 份、视频 0 个、视频链接 1 个" in body
    assert "尚缺材料：事迹材料" in body
    assert "报送截止时间：2020年12月31日 23:59" in body
    assert "逾期" not in body
    assert "自动发送的回执，请勿直接回复" in body
    assert body.rstrip().splitlines()[-4:-2] == [OFFICE, "2020年12月28日"]


def test_receipt_when_late_complete_and_in_review():
    args = receipt_args(
        received_at=datetime(2021, 1, 1, 0, 0, tzinfo=CST),
        missing=[],
        late=True,
        review_reason="附件中有无法识别的文档",
    )
    body = parsed(compose.receipt(**args)).get_content()
    assert "材料已齐全" in body
    assert "尚缺" not in body
    assert "截止时间之后收到" in body and "逾期报送" in body
    assert "人工核对（附件中有无法识别的文档）" in body


def test_receipt_for_an_unknown_unit_asks_for_manual_check():
    args = receipt_args(unit=None, unit_counts={}, missing=[], files=[], message_id="")
    message = parsed(compose.receipt(**args))
    body = message.get_content()
    assert "未能识别报送单位，工作人员将人工核对" in body
    assert "累计报送" not in body.replace("暂无法核对累计报送情况", "")
    assert "未发现可归档的附件" in body
    assert "In-Reply-To" not in message and "References" not in message


def test_receipt_missing_codes_are_named_in_chinese():
    args = receipt_args(missing=["photos", "report", "deeds", "video"])
    body = parsed(compose.receipt(**args)).get_content()
    assert "尚缺材料：活动照片、总结报告、事迹材料、视频资料" in body


def test_receipt_message_id_with_brackets_and_subject_edge_cases():
    args = receipt_args(message_id="<abc@qq.com>", subject="回执：西渡镇\r\n材料")
    message = parsed(compose.receipt(**args))
    assert message["In-Reply-To"] == "<abc@qq.com>"
    assert message["Subject"] == "回执：西渡镇 材料"  # no "回执：回执：", no header injection
    assert parsed(compose.receipt(**receipt_args(subject="")))["Subject"] == "回执：（无主题）"


def test_spaces_in_long_subjects_survive_folding():
    """Python 3.11's own folder can drop a space between encoded words; ours must not."""
    subject = "(补报) Re: 活动照片 总结报告 视频资料 年终材料报送 第一批 禁毒志愿服务 衡阳群众"
    # Python 3.11 alone sends this one as "...视频资料年终材料报送..."
    message = parsed(compose.receipt(**receipt_args(subject=subject)))
    assert message["Subject"] == "回执：" + subject
    assert max(len(line) for line in message.as_bytes().splitlines()) <= 998


def test_receipt_message_ids_are_unique():
    ids = {compose.receipt(**receipt_args())["Message-ID"] for _ in range(20)}
    assert len(ids) == 20


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200), st.text(max_size=60))
@example("0𝐀𝐀𝐀𝐀𝐀𝒩𝒩𝒩 ¡ ¡", "")
def test_receipt_subject_round_trips(subject, filename):
    message = parsed(compose.receipt(**receipt_args(subject=subject, files=[(filename, "photo")])))
    expected = " ".join("".join(c for c in subject if c.isprintable() or c.isspace()).split())
    expected = expected or "（无主题）"
    if not expected.startswith("回执："):
        expected = "回执：" + expected
    assert message["Subject"] == expected
    assert "照片（1）" in message.get_content()


# ------------------------------------------------------------------------------------------
# compose: reminder and digest
# ------------------------------------------------------------------------------------------


def test_reminder_for_a_unit_that_sent_nothing():
    message = parsed(
        compose.reminder(
            office=OFFICE,
            office_address=OFFICE_ADDRESS,
            to=["xidu@qq.com", "xidu-office@163.com"],
            unit="西渡镇",
            missing=["photos", "report", "deeds", "video"],
            submitted=False,
            deadline=DEADLINE,
            now=datetime(2020, 12, 25, 9, 0, tzinfo=CST),
        )
    )
    assert message["Subject"] == "催报：西渡镇年终报送材料（距截止还有6天）"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Loop"] == OFFICE_ADDRESS
    assert message["Reply-To"] == OFFICE_ADDRESS
    assert [a.addr_spec for a in message["To"].addresses] == [
        "xidu@qq.com",
        "xidu-office@163.com",
    ]
    body = message.get_content()
    assert "尚未收到贵单位报送的年终材料" in body
    assert "距报送截止还有 6 天" in body
    assert "活动照片、总结报告、事迹材料、视频资料" in body
    assert OFFICE_ADDRESS in body and "直接回复本邮件" in body
    assert "邮件主题请注明单位全称" in body


def test_reminder_for_a_partial_unit_on_the_last_day_and_after():
    args = {
        "office": OFFICE,
        "office_address": OFFICE_ADDRESS,
        "to": ["xidu@qq.com"],
        "unit": "西渡镇",
        "missing": ["video"],
        "submitted": True,
        "deadline": DEADLINE,
    }
    last_day = parsed(compose.reminder(**args, now=datetime(2020, 12, 31, 8, 0, tzinfo=CST)))
    assert last_day["Subject"] == "催报：西渡镇年终报送材料今日截止"
    body = last_day.get_content()
    assert "已收到贵单位报送的部分材料，尚缺：视频资料" in body
    assert "今天是报送截止日" in body
    late = parsed(compose.reminder(**args, now=datetime(2021, 1, 3, 8, 0, tzinfo=CST)))
    assert "已逾期" in late["Subject"]
    assert "已过 3 天" in late.get_content()


def test_digest():
    message = parsed(
        compose.digest(
            office=OFFICE,
            office_address=OFFICE_ADDRESS,
            to=["staff1@qq.com", "staff2@qq.com"],
            now=datetime(2020, 12, 28, 18, 0, tzinfo=CST),
            deadline=DEADLINE,
            new_messages=7,
            new_units=["西渡镇", "井头镇"],
            review_count=2,
            missing_units=["金兰镇", "金溪镇", "县公安局"],
            incomplete_units=["西渡镇"],
        )
    )
    assert message["Subject"] == "每日汇总：2020年12月28日 新收邮件7封，待确认2项"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Loop"] == OFFICE_ADDRESS
    body = message.get_content()
    assert "新收邮件：7 封" in body
    assert "新报送单位（2 个）" in body and "西渡镇、井头镇" in body
    assert "待人工确认：2 项" in body
    assert "尚未报送的单位（3 个）" in body and "金兰镇、金溪镇、县公安局" in body
    assert "材料不全的单位（1 个）" in body
    assert "距报送截止还有 3 天" in body


def test_digest_with_nothing_new():
    body = parsed(
        compose.digest(
            office=OFFICE,
            office_address=OFFICE_ADDRESS,
            to=["staff1@qq.com"],
            now=datetime(2020, 12, 28, 18, 0, tzinfo=CST),
            deadline=DEADLINE,
            new_messages=0,
            new_units=[],
            review_count=0,
            missing_units=[],
            incomplete_units=[],
        )
    ).get_content()
    assert "新收邮件：0 封" in body
    assert "无，所有单位均已报送" in body


def test_compose_needs_a_recipient():
    with pytest.raises(ValueError):
        compose.receipt(**receipt_args(to=" "))


def test_reason_labels_are_chinese():
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in guard.REASONS.values())
