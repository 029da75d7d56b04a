"""Mail nobody here wrote (issue 8): total parsing, raw 8-bit names, registered senders,
spoofed display names, deep nesting, per-part fault isolation, HTML bodies.

Messages are real RFC 822 bytes, written by hand where the point is a precise malformation and
with ``tests.support.mails`` elsewhere. Hypothesis builds structured messages (random parameter
lists, nesting and transfer encodings) beside the byte-level fuzzing in test_parsers_unit.py.
"""

from __future__ import annotations

import base64
import binascii
import quopri
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outbox.guard import no_reply_reason
from parsers import mail as mail_module
from parsers import sort as sort_module
from parsers.headers import decode_value, filename_of, parse_address, split_params
from parsers.html_text import html_to_text
from parsers.mail import (
    MAX_FORWARD_DEPTH,
    PART_PROBLEM,
    TOO_DEEP_PROBLEM,
    ParsedMail,
    parse_mail,
    payload,
)
from parsers.mime import MAX_DEPTH
from parsers.sort import PART_FAILED, SortRules, sort_mail
from parsers.units import Registry, Unit
from pipeline.config import DEFAULT_KEYWORDS, DEFAULT_LINK_HOSTS
from tests.support import files
from tests.support.mails import Att, Mail

RULES = SortRules(
    keywords={k: tuple(v) for k, v in DEFAULT_KEYWORDS.items()},
    inline_min_bytes=30 * 1024,
    inline_min_px=300,
    link_hosts=tuple(DEFAULT_LINK_HOSTS),
    circular_min_units=3,
    office_addresses=frozenset({"hyxjdb@qq.com"}),
)
REGISTRY = Registry(
    (
        Unit("西渡镇", "乡镇", (), ("admin@xidu.gov.cn", "notice@xidu.gov.cn")),
        Unit("县医保局", "县直机关", ("医保局",), ("hyxybj@163.com",)),
        Unit("演陂镇", "乡镇", (), ()),
        Unit("金兰镇", "乡镇", (), ()),
    )
)
JPEG = files.jpeg(64, 48, seed=5)


def multipart(*parts: bytes, headers: bytes = b"From: a@qq.com\r\nSubject: x\r\n") -> bytes:
    body = b"".join(b"--BOUNDARY\r\n" + part + b"\r\n" for part in parts)
    return (
        headers + b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BOUNDARY\r\n\r\n"
        b"preamble\r\n" + body + b"--BOUNDARY--\r\n"
    )


def part(disposition: bytes, data: bytes = JPEG, ctype: bytes = b"application/octet-stream"):
    return (
        b"Content-Type: "
        + ctype
        + b"\r\nContent-Disposition: "
        + disposition
        + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(data)
    )


def pct(text: str, codec: str = "utf-8") -> str:
    return quote_from_bytes(text.encode(codec), safe="")


def all_attachments(mail: ParsedMail) -> list:
    found = list(mail.attachments)
    for inner in mail.forwarded:
        found += all_attachments(inner)
    return found


def sort(raw: bytes, tmp_path: Path, registry: Registry = REGISTRY):
    return sort_mail(parse_mail(raw), tmp_path / "staging", registry, RULES, {})


# ======================================================================================
# 1. Total parsing: MIME parameters
# ======================================================================================


def test_the_nine_attachment_message_that_failed_whole(tmp_path: Path):
    """GIVEN nine attachments, several with Chinese names, one of whose Content-Disposition
    mixes filename*0*= continuations with filename*= and filename= (the standard library's
    get_param raised TypeError on it) WHEN parsed and sorted THEN all nine are listed, named
    from the complete RFC 2231 value, and the mail keeps its unit."""
    names = [f"活动照片{i}.jpg" for i in range(1, 9)]
    parts = [part(f"attachment; filename*=utf-8''{pct(n)}".encode()) for n in names[:4]]
    words = [f'attachment; filename="=?gbk?B?{b64(n, "gbk")}?="' for n in names[4:8]]
    parts += [part(word.encode()) for word in words]
    mixed = (
        f"attachment; filename*0*=utf-8''{pct('西渡镇禁毒')}; filename*1*={pct('工作总结.docx')};"
        f" filename*=utf-8''{pct('别的.docx')}; filename=\"fallback.docx\""
    ).encode()
    parts.append(part(mixed, files.docx(["西渡镇2020年禁毒工作总结"])))
    raw = multipart(*parts, headers=b"From: admin@xidu.gov.cn\r\nSubject: materials\r\n")
    mail = parse_mail(raw)
    got = [a.name for a in mail.attachments]
    assert got == [*names, "别的.docx"]  # a whole filename*= wins over sections
    result = sort(raw, tmp_path)
    assert len(result.files) == 9 and result.attribution.unit == "西渡镇"
    assert [f.category for f in result.files] == ["photo"] * 8 + ["report"]


def b64(text: str, codec: str) -> str:
    return base64.b64encode(text.encode(codec)).decode()


def u8(text: str) -> str:
    """An RFC 2231 extended value in UTF-8: ``utf-8''%XX..``."""
    return f"utf-8''{pct(text)}"


ZHAO, PIAN = u8("照"), pct("片.jpg")


@pytest.mark.parametrize(
    ("disposition", "content_type", "expected", "suspect"),
    [
        # the standard library raises TypeError on each of these three mixes
        (f"attachment; filename*0*={u8('中')}; filename*={u8('文.jpg')}", "", "文.jpg", False),
        (f"attachment; filename*={u8('全.jpg')}; filename*0=x; filename*1=y", "", "全.jpg", False),
        (
            f"attachment; filename*1*={PIAN}; filename*0*={ZHAO}; filename*=gbk''%D5%D5.jpg",
            "",
            "照.jpg",
            False,
        ),
        # continuations with and without '*', out of order
        (f"attachment; filename*1*={PIAN}; filename*0*={ZHAO}", "", "照片.jpg", False),
        ('attachment; filename*1="def.jpg"; filename*0="abc"', "", "abcdef.jpg", False),
        (f'attachment; filename*0*={ZHAO}; filename*1="片.jpg"', "", "照片.jpg", False),
        # a repeated section: the first wins
        (f"attachment; filename*0*={ZHAO}; filename*0*=x; filename*1=a.jpg", "", "照a.jpg", False),
        # a missing section: the complete plain filename wins; alone, the rest is kept, suspect
        (f'attachment; filename*0*={ZHAO}; filename*2=b; filename="ok.jpg"', "", "ok.jpg", False),
        (f"attachment; filename*0*={ZHAO}; filename*2=b.jpg", "", "照b.jpg", True),
        # filename before name; the RFC 2231 name before a plain name
        ('attachment; filename="a.jpg"', f"image/jpeg; name*={u8('乙.jpg')}", "a.jpg", False),
        ("attachment", f'image/jpeg; name="b.jpg"; name*={u8("乙.jpg")}', "乙.jpg", False),
        # unquoted values with spaces, encoded words inside quotes, a forgotten ';'
        ("attachment; filename=This is a test.pdf", "", "This is a test.pdf", False),
        (f'attachment; filename="=?utf-8?B?{b64("总结.docx", "utf-8")}?="', "", "总结.docx", False),
        ("attachment", 'application/pdf name="c.pdf"', "c.pdf", False),
        ('attachment; filename="d.pdf; size=3', "", "d.pdf", False),
        ('attachment; filename="C:\\Users\\x\\e.pdf"', "", "C:\\Users\\x\\e.pdf", False),
        ("attachment; filename; =x;;", "", "", False),
    ],
)
def test_mime_parameters(disposition: str, content_type: str, expected: str, suspect: bool):
    found = filename_of(split_params(disposition), split_params(content_type))
    assert (found.text, found.lossy) == (expected, suspect)


def test_boundary_and_charset_in_rfc2231_form_do_not_raise():
    raw = (
        b"From: a@qq.com\r\nContent-Type: multipart/mixed; boundary*=''XX; boundary*0=YY\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain; charset*=''gbk; charset*0=x\r\n\r\n"
        + "正文".encode("gbk")
        + b"\r\n--XX--\r\n"
    )
    assert parse_mail(raw).text == "正文"


# ======================================================================================
# 1. Structured fuzzing: never raises, every leaf part listed once
# ======================================================================================

_NAME_CHARS = st.sampled_from([*"abcXYZ019._-()（）【】照片总结西渡镇禁毒é ", "喆", "䶮"])
_CHARSETS = ("utf-8", "gbk", "gb18030")


@dataclass
class Node:
    """A generated MIME entity and what the parser must make of it."""

    ctype: str
    headers: list[bytes] = field(default_factory=list)
    body: bytes = b""
    children: list[Node] = field(default_factory=list)
    inner: Node | None = None  # message/rfc822: the attached message's root
    encoding: str = "7bit"
    named: bool = False
    disposition: str = ""

    def render(self, boundary_seed: list[int]) -> bytes:
        headers = list(self.headers)
        if self.children:
            boundary_seed[0] += 1
            boundary = f"=_b{boundary_seed[0]}_q7Zr".encode()
            ctype = self.ctype.encode() + b'; boundary="' + boundary + b'"'
            headers.insert(0, b"Content-Type: " + ctype)
            body = b"".join(
                b"--" + boundary + b"\r\n" + child.render(boundary_seed) + b"\r\n"
                for child in self.children
            )
            return b"\r\n".join(headers) + b"\r\n\r\n" + body + b"--" + boundary + b"--"
        body = self.body
        if self.inner is not None:
            message = b"From: inner@qq.com\r\nSubject: fw\r\n" + self.inner.render(boundary_seed)
            body = _encode(message, self.encoding)
        return b"\r\n".join(headers) + b"\r\n\r\n" + body

    def is_body(self) -> bool:
        return (
            self.ctype in ("text/plain", "text/html")
            and not self.named
            and self.disposition != "attachment"
        )


def _encode(data: bytes, encoding: str) -> bytes:
    if encoding == "base64":
        return base64.encodebytes(data).replace(b"\n", b"\r\n")
    if encoding == "quoted-printable":
        return quopri.encodestring(data).replace(b"\n", b"\r\n")
    if encoding == "x-uuencode":
        lines = [binascii.b2a_uu(data[i : i + 45]) for i in range(0, len(data), 45)]
        return b"begin 644 x\r\n" + b"".join(lines).replace(b"\n", b"\r\n") + b"`\r\nend\r\n"
    return data  # 7bit, 8bit, binary and nonsense encodings: the bytes as they are


@st.composite
def name_params(draw, name: str) -> list[bytes]:
    """Parameters naming ``name`` in one or several of the ways real clients (and broken
    ones) write them, with duplicates, stray sections and a random order."""
    charset = draw(st.sampled_from(_CHARSETS))
    data = name.encode("utf-8" if charset == "utf-8" else "gb18030")  # gbk is read as GB18030
    params: list[bytes] = []
    for style in draw(st.lists(st.sampled_from(range(7)), min_size=1, max_size=3)):
        base = draw(st.sampled_from(["filename", "name"]))
        if style == 0:
            params.append(f'{base}="'.encode() + name.replace('"', "").encode() + b'"')
        elif style == 1:
            params.append(f'{base}="=?{charset}?B?'.encode() + base64.b64encode(data) + b'?="')
        elif style == 2:
            params.append(f"{base}*={charset}''{quote_from_bytes(data, safe='')}".encode())
        elif style in (3, 4):
            cut = draw(st.integers(0, len(data)))
            sections = [data[:cut], data[cut:]]
            order = draw(st.permutations(range(2)))
            for i in order:
                value = quote_from_bytes(sections[i], safe="")
                prefix = f"{charset}''" if i == 0 else ""
                params.append(f"{base}*{i}*={prefix}{value}".encode())
            if style == 4:  # a stray duplicate, a gap, a plain section
                params.append(f"{base}*0*=dup".encode())
                params.append(f'{base}*5="gap"'.encode())
        elif style == 5:
            params.append(base.encode() + b'="' + data.replace(b'"', b"") + b'"')  # raw 8-bit
        else:
            params.append(f"{base}=".encode() + name.replace(";", "").replace('"', "").encode())
    params += draw(st.lists(st.sampled_from([b"size=12", b'x="y"', b"junk", b";"]), max_size=2))
    return draw(st.permutations(params))


@st.composite
def leaf(draw) -> Node:
    ctype = draw(
        st.sampled_from(["application/octet-stream", "image/jpeg", "text/plain", "text/html"])
    )
    named = draw(st.booleans())
    disposition = draw(st.sampled_from(["attachment", "inline", ""]))
    encoding = draw(
        st.sampled_from(["base64", "quoted-printable", "7bit", "8bit", "x-uuencode", "base65"])
    )
    body = draw(st.binary(max_size=200))
    type_params: list[bytes] = []
    disp_params: list[bytes] = []
    if named:
        stem = draw(st.text(_NAME_CHARS, min_size=1, max_size=12).filter(lambda t: t.strip()))
        name = stem + draw(st.sampled_from([".jpg", ".docx", ".pdf", ".txt", ".zip"]))
        for param in draw(name_params(name)):
            (type_params if param.startswith(b"name") else disp_params).append(param)
        named = any(p.startswith(b"filename") for p in disp_params) or any(
            p.startswith(b"name") for p in type_params
        )
    headers = [b"Content-Type: " + b"; ".join([ctype.encode(), *type_params])]
    if disposition or disp_params:
        headers.append(b"Content-Disposition: " + b"; ".join([disposition.encode(), *disp_params]))
    headers.append(b"Content-Transfer-Encoding: " + encoding.encode())
    if ctype.startswith("text/"):
        headers[0] += draw(st.sampled_from([b"", b"; charset=gbk", b"; charset=utf-8"]))
    node = Node(ctype, headers, _encode(body, encoding), encoding=encoding, named=named)
    node.disposition = disposition
    return node


def _multipart(ctype: str, children: list[Node]) -> Node:
    return Node(ctype, children=children)


def _message(inner: Node, encoding: str) -> Node:
    headers = [b"Content-Type: message/rfc822", b"Content-Transfer-Encoding: " + encoding.encode()]
    return Node("message/rfc822", headers, inner=inner, encoding=encoding)


TREES = st.recursive(
    leaf(),
    lambda children: st.one_of(
        st.builds(
            _multipart,
            st.sampled_from(["multipart/mixed", "multipart/related", "multipart/alternative"]),
            st.lists(children, min_size=1, max_size=3),
        ),
        st.builds(_message, children, st.sampled_from(["7bit", "base64"])),
    ),
    max_leaves=10,
)


def _wrapped(root: Node, encodings: list[str]) -> Node:
    for encoding in encodings:
        root = _message(root, encoding)
    return root


# Chains of attached messages long enough to pass MAX_FORWARD_DEPTH now and then.
DEEP_TREES = st.builds(_wrapped, TREES, st.lists(st.sampled_from(["7bit", "base64"]), max_size=8))


def _flat_count(node: Node) -> int:
    if node.children:
        return sum(_flat_count(child) for child in node.children)
    if node.inner is not None and node.encoding == "7bit":
        return _flat_count(node.inner)
    return 1  # a leaf, or an encoded attached message kept whole


def expected_listed(node: Node, mail_depth: int = 0, mime_depth: int = 0) -> int:
    """How many leaves ``parse_mail`` must list (over the mail and its forwarded mails): past
    either nesting cap every leaf is listed flat, body text included."""
    container = bool(node.children) or (node.inner is not None and node.encoding == "7bit")
    if container and mime_depth >= MAX_DEPTH:
        return _flat_count(node)
    if node.children:
        return sum(expected_listed(c, mail_depth, mime_depth + 1) for c in node.children)
    if node.inner is not None:
        if mail_depth >= MAX_FORWARD_DEPTH:
            return _flat_count(node)
        return expected_listed(node.inner, mail_depth + 1)
    return 0 if node.is_body() else 1


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.one_of(TREES, DEEP_TREES))
def test_structured_messages_never_fail_and_list_every_leaf_once(root: Node):
    raw = b"From: =?gbk?B?" + base64.b64encode("西渡".encode("gbk")) + b"?= <a@qq.com>\r\n"
    raw += b"Subject: \xce\xf7\xb6\xc9\r\nMIME-Version: 1.0\r\n" + root.render([0])
    mail = parse_mail(raw)
    listed = all_attachments(mail)
    assert len(listed) == expected_listed(root)
    spans = [(a.start, a.end, a.content_type) for a in mail.attachments]
    assert len(spans) == len(set(spans))  # nothing listed twice
    for found in listed:
        assert isinstance(found.name, str)
    _decode_all(mail)


def _decode_all(mail: ParsedMail) -> None:
    for attachment in mail.attachments:
        payload(mail, attachment)
    for inner in mail.forwarded:
        _decode_all(inner)


# ======================================================================================
# 2. Raw 8-bit names
# ======================================================================================


def _raw_named(name: bytes, body_charset: bytes) -> bytes:
    text = b"Content-Type: text/plain; charset=" + body_charset + b"\r\n\r\nhello"
    attachment = part(b'attachment; filename="' + name + b'"', files.pdf_text(["x"]))
    return multipart(text, attachment)


@pytest.mark.parametrize(
    ("name", "body_charset", "expected", "guessed"),
    [
        # the message declares ISO-8859-1: a Latin-1 name is not CJK mojibake
        ("Formação.pdf".encode("latin-1"), b"iso-8859-1", "Formação.pdf", False),
        ("总结报告.pdf".encode("gbk"), b"gb2312", "总结报告.pdf", False),
        ("总结报告.pdf".encode(), b"gb2312", "总结报告.pdf", False),  # valid UTF-8 is UTF-8
        # nothing declares the charset of these bytes: GB18030 is a guess, marked as one
        ("总结报告.pdf".encode("gbk"), b"utf-8", "总结报告.pdf", True),
    ],
)
def test_raw_8bit_names_use_the_charsets_the_message_declares(
    name: bytes, body_charset: bytes, expected: str, guessed: bool, tmp_path: Path
):
    raw = _raw_named(name, body_charset)
    (attachment,) = parse_mail(raw).attachments
    assert (attachment.name, attachment.guessed_name) == (expected, guessed)
    (row,) = sort(raw, tmp_path).files
    assert ("推测" in row.note) is guessed


def test_a_raw_subject_uses_a_charset_declared_in_another_header():
    raw = b"From: =?iso-8859-1?Q?Jos=E9?= <j@x.pt>\r\nSubject: Forma\xe7\xe3o\r\n\r\nhi"
    assert parse_mail(raw).subject == "Formação"


# ======================================================================================
# 3. A registered address always wins
# ======================================================================================


@pytest.mark.parametrize(
    ("sender", "subject"),
    [
        ("admin@xidu.gov.cn", "西渡镇年终材料"),  # system-looking local part
        ("notice@xidu.gov.cn", "材料"),
        ("admin@xidu.gov.cn", "系统通知：年终材料"),  # system-looking subject
        ("admin@xidu.gov.cn", "西渡镇、演陂镇、金兰镇联合活动材料"),  # names many units
    ],
)
def test_a_registered_sender_is_credited_despite_heuristics(sender, subject, tmp_path: Path):
    raw = Mail(sender=("", sender), subject=subject, attachments=[Att("1.jpg", JPEG)]).to_bytes()
    result = sort(raw, tmp_path)
    assert result.nature == ""
    assert (result.attribution.unit, result.attribution.level) == ("西渡镇", "registered")


@pytest.mark.parametrize(
    ("sender", "subject", "nature"),
    [
        ("admin@other.cn", "西渡镇年终材料", "system_notice"),
        ("someone@qq.com", "系统通知：年终材料", "system_notice"),
        ("someone@qq.com", "西渡镇、演陂镇、金兰镇联合活动材料", "circular"),
    ],
)
def test_the_same_heuristics_apply_to_unregistered_senders(sender, subject, nature, tmp_path):
    raw = Mail(sender=("", sender), subject=subject, attachments=[Att("1.jpg", JPEG)]).to_bytes()
    result = sort(raw, tmp_path)
    assert result.nature == nature and result.attribution.unit is None


@pytest.mark.parametrize(
    ("header", "nature"),
    [(("Auto-Submitted", "auto-replied"), "auto_reply"), (("Precedence", "bulk"), "bulk")],
)
def test_a_declared_robot_from_a_registered_address_is_still_no_submission(
    header, nature, tmp_path: Path
):
    """Headers the sending software set are facts, not guesses: a unit's vacation responder
    sends no materials."""
    raw = Mail(sender=("", "admin@xidu.gov.cn"), extra_headers=[header]).to_bytes()
    assert sort(raw, tmp_path).nature == nature


def test_a_registered_units_vacation_reply_without_materials_is_no_submission(tmp_path: Path):
    """GIVEN a unit whose mailbox answers our 催报 with a QQ-style vacation reply (the subject
    is the only sign) WHEN it arrives THEN it does not make the unit "submitted"; the same
    subject on a mail with materials is still the unit's submission."""
    reply = Mail(sender=("", "admin@xidu.gov.cn"), subject="自动回复：关于报送年终材料的提醒")
    assert sort(reply.to_bytes(), tmp_path / "a").nature == "auto_reply"
    with_photo = Mail(
        sender=("", "admin@xidu.gov.cn"),
        subject="自动回复：关于报送年终材料的提醒",
        attachments=[Att("1.jpg", JPEG)],
    )
    result = sort(with_photo.to_bytes(), tmp_path / "b")
    assert result.nature == "" and result.attribution.unit == "西渡镇"


def test_a_delivery_report_from_a_registered_address_is_a_bounce(tmp_path: Path):
    """Judgement call: multipart/report (RFC 6522) is declared structure, not a guess; a report
    (bounce or read receipt) carries no materials of the unit, so it is credited to nobody."""
    raw = (
        b"From: admin@xidu.gov.cn\r\nSubject: Delivery Status Notification\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n"
    )
    assert sort(raw, tmp_path).nature == "bounce"


@pytest.mark.parametrize(
    ("extra", "subject", "nature", "reason"),
    [
        ([("Auto-Submitted", "auto-replied")], "材料", "auto_reply", "auto_submitted"),
        ([("List-Id", "<x.example.cn>")], "材料", "newsletter", "list_mail"),
        ([], "自动回复：材料", "auto_reply", "auto_subject"),
    ],
)
def test_the_reply_guard_and_the_parser_read_the_same_signs(extra, subject, nature, reason):
    """One detector: what makes a mail no submission also keeps a receipt from going out;
    the guard reads a raw 8-bit GBK subject through the same header decoder."""
    raw = Mail(
        sender=("", "a@qq.com"), subject=subject, subject_style="raw", header_charset="gbk",
        extra_headers=extra,
    ).to_bytes()  # fmt: skip
    assert parse_mail(raw).nature == nature
    assert no_reply_reason(raw, "a@qq.com", ["hyxjdb@qq.com"]) == reason


_HEADER_TEXT = st.lists(
    st.sampled_from([*"<>\"\\()@,;:=*?'% \tabcQB.-_", "\r\n ", "\udcd5", "\udcff", "中", "=?"])
    | st.sampled_from(["?=", "=?utf-8?B?", "=?gbk?Q?", "filename*0*=", "name*=", "''"]),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(_HEADER_TEXT, st.lists(st.sampled_from(["gbk", "utf-8", "latin-1", "idna", "zlib"])))
def test_header_functions_never_raise(text: str, charsets: list[str]):
    params = split_params(text)
    assert isinstance(filename_of(params, params, charsets).text, str)
    assert isinstance(parse_address(text, charsets)[1], str)
    assert isinstance(decode_value(text, charsets).text, str)


# ======================================================================================
# 7a. Sender spoofing through encoded words
# ======================================================================================


@pytest.mark.parametrize(
    ("from_header", "name", "address"),
    [
        (
            f"=?UTF-8?B?{b64('县医保局 <hyxybj@163.com>', 'utf-8')}?= <attacker@qq.com>".encode(),
            "县医保局 <hyxybj@163.com>",
            "attacker@qq.com",
        ),
        (b"hyxybj@163.com <attacker@qq.com>", "hyxybj@163.com", "attacker@qq.com"),
        (b'"hyxybj@163.com" <attacker@qq.com>', "hyxybj@163.com", "attacker@qq.com"),
        (b"=?UTF-8?Q?hyxybj@163.com?=", "", ""),  # an address only inside an encoded word
        (b"=?UTF-8?B?" + base64.b64encode(b"<hyxybj@163.com>") + b"?=", "", ""),
    ],
)
def test_addresses_come_from_the_raw_header(from_header, name, address, tmp_path: Path):
    raw = b"From: " + from_header + b"\r\nSubject: " + "县医保局材料".encode() + b"\r\n\r\nhi"
    mail = parse_mail(raw)
    assert (mail.sender_name, mail.sender) == (name, address)
    result = sort(raw, tmp_path)
    assert result.attribution.level != "registered"


# ======================================================================================
# 7d. Deep nesting
# ======================================================================================


def _nested_messages(levels: int, innermost: bytes) -> bytes:
    raw = innermost
    for level in range(levels):
        raw = (
            f"From: l{level}@qq.com\r\nSubject: fw {level}\r\n".encode()
            + b"Content-Type: message/rfc822\r\n\r\n"
            + raw
        )
    return raw


def test_a_photo_inside_100_nested_messages_is_listed_with_a_reason(tmp_path: Path):
    innermost = Mail(
        sender=("西渡镇", "admin@xidu.gov.cn"), attachments=[Att("深处的照片.jpg", JPEG)]
    ).to_bytes()
    raw = _nested_messages(100, innermost)
    listed = all_attachments(parse_mail(raw))
    photos = [a for a in listed if a.name == "深处的照片.jpg"]
    assert len(photos) == 1 and photos[0].problem == TOO_DEEP_PROBLEM
    rows = [f for f in sort(raw, tmp_path).files if f.filename == "深处的照片.jpg"]
    assert len(rows) == 1
    assert rows[0].category == "photo" and "嵌套层数过多" in rows[0].review_reason


def test_parts_past_the_multipart_depth_cap_are_listed(tmp_path: Path):
    inner = part(b'attachment; filename="deep.jpg"')
    for level in range(MAX_DEPTH + 10):
        boundary = f"L{level}".encode()
        inner = (
            b"Content-Type: multipart/mixed; boundary="
            + boundary
            + b"\r\n\r\n--"
            + boundary
            + b"\r\n"
            + inner
            + b"\r\n--"
            + boundary
            + b"--"
        )
    raw = b"From: a@qq.com\r\nSubject: deep\r\n" + inner
    (found,) = parse_mail(raw).attachments
    assert found.name == "deep.jpg" and found.problem == TOO_DEEP_PROBLEM
    (row,) = sort(raw, tmp_path).files
    assert row.category == "photo" and "嵌套层数过多" in row.review_reason


def test_an_encoded_message_past_the_cap_is_kept_whole(tmp_path: Path):
    innermost = Mail(attachments=[Att("x.jpg", JPEG)]).to_bytes()
    encoded = (
        b"From: z@qq.com\r\nContent-Type: message/rfc822\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(innermost)
    )
    raw = _nested_messages(MAX_FORWARD_DEPTH, encoded)
    (found,) = all_attachments(parse_mail(raw))
    assert found.content_type == "message/rfc822" and found.problem == TOO_DEEP_PROBLEM
    (row,) = sort(raw, tmp_path).files
    assert row.kind == "file" and "嵌套层数过多" in row.review_reason


# ======================================================================================
# Per-part fault isolation
# ======================================================================================


def _three_parts() -> bytes:
    return multipart(
        part(b'attachment; filename="a.jpg"'),
        part(b'attachment; filename="boom.jpg"'),
        part(b'attachment; filename="c.jpg"'),
        headers=b"From: admin@xidu.gov.cn\r\nSubject: x\r\n",
    )


def test_a_part_whose_headers_cannot_be_read_is_listed_and_the_rest_goes_on(monkeypatch):
    """A fake stands in for an unknown parser bug: naming one part raises."""
    real = mail_module.filename_of

    def flaky(disposition, content_type, charsets=()):
        if "boom" in str(disposition):
            raise TypeError("simulated parser bug")
        return real(disposition, content_type, charsets)

    monkeypatch.setattr(mail_module, "filename_of", flaky)
    mail = parse_mail(_three_parts())
    assert [(a.name, a.problem) for a in mail.attachments] == [
        ("a.jpg", ""),
        ("", PART_PROBLEM),
        ("c.jpg", ""),
    ]


def test_a_part_whose_sorting_fails_is_kept_for_review(monkeypatch, tmp_path: Path):
    real = sort_module.sniff

    def flaky(path, name):
        if name == "boom.jpg":
            raise ValueError("simulated sniffing bug")
        return real(path, name)

    monkeypatch.setattr(sort_module, "sniff", flaky)
    result = sort(_three_parts(), tmp_path)
    rows = [(f.filename, f.store_name, f.category, f.review_reason) for f in result.files]
    assert rows[0][:3] == ("a.jpg", "a.jpg", "photo") and rows[2][:3] == ("c.jpg", "c.jpg", "photo")
    assert rows[1] == ("boom.jpg", "未命名附件2.bin", "other", PART_FAILED)
    assert result.files[1].staged.read_bytes() == JPEG
    assert result.attribution.unit == "西渡镇"


def test_an_archive_member_whose_sorting_fails_is_kept_for_review(monkeypatch, tmp_path: Path):
    real = sort_module.sniff

    def flaky(path, name):
        if name.endswith("boom.jpg"):
            raise ValueError("simulated sniffing bug")
        return real(path, name)

    archive = files.zip_archive({"照片/a.jpg": JPEG, "照片/boom.jpg": JPEG, "照片/c.jpg": JPEG})
    raw = Mail(sender=("", "admin@xidu.gov.cn"), attachments=[Att("照片.zip", archive)]).to_bytes()
    monkeypatch.setattr(sort_module, "sniff", flaky)
    rows = {f.filename: f for f in sort(raw, tmp_path).files}
    assert rows["照片.zip/照片/a.jpg"].category == rows["照片.zip/照片/c.jpg"].category == "photo"
    failed = rows["照片.zip/照片/boom.jpg"]
    assert (failed.kind, failed.category, failed.review_reason) == ("file", "other", PART_FAILED)
    assert failed.store_name.startswith("未命名附件") and failed.staged.read_bytes() == JPEG


def test_a_full_disk_still_fails_the_message(monkeypatch, tmp_path: Path):
    """A full disk is no property of the mail: the message fails and is retried later."""

    def full(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(OSError):
        sort(_three_parts(), tmp_path)


# ======================================================================================
# HTML bodies through html.parser
# ======================================================================================


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<p>见<a href="https://pan.baidu.com/s/1x">网盘</a></p>',
            "见 https://pan.baidu.com/s/1x 网盘",
        ),
        ("<head><title>t</title><style>p{}</style></head><script>a<b</script>正文", "正文"),
        ("<head><meta charset=gbk><div>no closing head</div>", "no closing head"),
        ("a&amp;b&nbsp;c&#x4e2d;", "a&b c中"),
        ("<div title='a > b'>x</div><br/>y", "x\n\ny"),
        ("<!-- <a href='https://evil'> -->z", "z"),
    ],
)
def test_html_to_text(html: str, expected: str):
    assert html_to_text(html).strip() == expected


@pytest.mark.parametrize("junk", ["<a ", "</", "<!", "&#", "<div>"])
def test_hostile_markup_is_read_in_one_pass(junk: str):
    """The standard library's html.parser needs minutes (quadratic time) for the first two;
    lxml reads every one in milliseconds and keeps the text before the junk."""
    assert "正文" in html_to_text("<p>正文</p>" + junk * 100_000)


def test_quoted_replies_are_dropped_when_asked():
    html = "<p>新</p><blockquote>旧<blockquote>更旧</blockquote>仍旧</blockquote><p>尾</p>"
    assert html_to_text(html, drop_quotes=True).split() == ["新", "尾"]
    assert "更旧" in html_to_text(html)
