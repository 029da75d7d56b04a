"""Fast unit tests of the text-level parsers: headers, MIME walking, unit names, cloud links.

Plus Hypothesis: ``parse_mail`` never raises, on arbitrary bytes or on mutated real messages.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.headers import (
    codec_for,
    decode_header_value,
    decode_raw_bytes,
    decode_text,
    filename_of,
    parse_address,
    parse_header_block,
    split_params,
)
from parsers.links import find_links, own_html_text, own_text
from parsers.mail import parse_mail, payload
from parsers.mime import decode_body, parse_entity
from parsers.sort import SortRules, sort_mail
from parsers.units import Registry, RegistryError, Unit, load_registry, normalise
from pipeline.config import DEFAULT_KEYWORDS, DEFAULT_LINK_HOSTS
from tests.support import files
from tests.support.mails import Att, Mail, forwarded, split_encoded_words
from tests.support.project import REGISTRY, REPO

HOSTS = list(DEFAULT_LINK_HOSTS)


def b_word(text: str, charset: str) -> str:
    codec = {"gb2312": "gbk"}.get(charset, charset)
    return f"=?{charset}?B?{base64.b64encode(text.encode(codec)).decode()}?="


def header(raw: bytes, name: str = "Subject") -> object:
    """A header value as the product's parser hands it over (raw 8-bit kept)."""
    return parse_header_block(raw + b"\r\n")[name]


# ======================================================================================
# parsers/headers.py
# ======================================================================================


class TestHeaders:
    def test_words_split_mid_character_join_before_decoding(self):
        words = split_encoded_words("衡阳县西渡镇喆禁毒材料", "gb2312", split_bytes=7)
        assert decode_header_value(words[0]) == ("衡阳县\ufffd", True)  # one word alone: lossy
        for glue in (" ", "\r\n ", "\r\n\t"):
            assert decode_header_value(glue.join(words)) == ("衡阳县西渡镇喆禁毒材料", False)

    def test_split_words_through_the_header_parser(self):
        words = split_encoded_words("演陂镇禁毒志愿服务活动材料", "gb2312")
        value = header(b"Subject: " + "\r\n ".join(words).encode())
        assert decode_header_value(value) == ("演陂镇禁毒志愿服务活动材料", False)

    @pytest.mark.parametrize("label", ["gb2312", "GB2312", "gbk", "x-gbk", "cp936", "euc-cn"])
    def test_gb2312_label_decodes_as_gb18030(self, label: str):
        """GIVEN 喆 (GBK-only) under a gb2312-family label THEN it survives (GB18030 superset)."""
        word = f"=?{label}?B?{base64.b64encode('张喆'.encode('gbk')).decode()}?="
        assert decode_header_value(word) == ("张喆", False)
        assert codec_for(label) == "gb18030"

    def test_gb18030_four_byte_character(self):
        assert decode_header_value(b_word("杉桥镇䶮", "gb18030")) == ("杉桥镇䶮", False)

    def test_adjacent_words_in_different_charsets(self):
        value = b_word("西渡", "utf-8") + " " + b_word("镇", "gbk")
        assert decode_header_value(value) == ("西渡镇", False)

    @pytest.mark.parametrize("codec", ["utf-8", "gbk", "gb18030"])
    def test_raw_8bit_header(self, codec: str):
        value = header(b"Subject: " + "界牌镇禁毒志愿服务活动照片（喆）".encode(codec))
        assert decode_header_value(value) == ("界牌镇禁毒志愿服务活动照片（喆）", False)

    def test_raw_bytes_that_no_codec_reads_are_reported_lossy(self):
        text, lossy = decode_raw_bytes(b"\xff\xfe\xfa")
        assert lossy and "\ufffd" in text

    def test_unknown_charset_falls_back_to_raw_decoding(self):
        assert decode_header_value(b_word("西渡", "utf-8").replace("utf-8", "x-unknown")) == (
            "西渡",
            False,
        )

    def test_wrong_label_falls_back(self):
        """GBK bytes labelled UTF-8 (a common webmail bug) still decode."""
        assert decode_text("西渡镇".encode("gbk"), "utf-8") == ("西渡镇", False)

    def test_broken_encoded_word_is_kept_and_flagged(self):
        assert decode_header_value("=?gb2312?B?!!!notbase64?=") == (
            "=?gb2312?B?!!!notbase64?=",
            True,
        )

    @pytest.mark.parametrize("codec", ["utf-8", "gbk"])
    def test_raw_8bit_text_beside_encoded_words(self, codec: str):
        """GIVEN a client that writes '回复：' (or the unit) raw before an encoded word."""
        raw = "西渡镇 ".encode(codec) + b_word("禁毒材料", "utf-8").encode()
        assert decode_header_value(header(b"Subject: " + raw)) == ("西渡镇 禁毒材料", False)

    def test_raw_display_name_beside_encoded_word(self):
        raw = "From: 张 ".encode() + b_word("三", "utf-8").encode() + b" <a@qq.com>"
        assert parse_address(header(raw, "From")) == ("张 三", "a@qq.com")

    @pytest.mark.parametrize(
        ("disposition", "expected"),
        [
            (b"attachment; filename*=gbk''%D5%D5%C6%AC.jpg", "照片.jpg"),
            (b"attachment; filename*=''%E7%85%A7%E7%89%87.jpg", "照片.jpg"),  # no charset
            (
                b"attachment; filename*0*=utf-8''%E4%B8%AD; filename*1*=%E6%96%87.jpg",
                "中文.jpg",
            ),
            # continuation cut inside a character: the bytes join before decoding
            (b"attachment; filename*0*=gb2312''%D5%D5%C6; filename*1*=%AC%86%B4.jpg", "照片喆.jpg"),
            (b'attachment; filename*0="abc"; filename*1="def.jpg"', "abcdef.jpg"),
            (b'attachment; filename="=?gb2312?B?1dXGrC5qcGc=?="', "照片.jpg"),
            ('attachment; filename="照片.jpg"'.encode("gbk"), "照片.jpg"),
            ('attachment; filename="照片.jpg"'.encode(), "照片.jpg"),
        ],
    )
    def test_rfc2231_and_friends(self, disposition: bytes, expected: str):
        headers = parse_header_block(b"Content-Disposition: " + disposition + b"\r\n")
        params = split_params(headers["Content-Disposition"])
        found = filename_of(params, split_params(""))
        assert (found.text, found.lossy) == (expected, False)

    def test_parse_address(self):
        value = header(
            b"From: " + b_word("西渡镇禁毒办", "gb2312").encode() + b" <HYX@163.COM>", "From"
        )
        assert parse_address(value) == ("西渡镇禁毒办", "hyx@163.com")
        raw = header('From: "张三" <zs@qq.com>'.encode("gbk"), "From")
        assert parse_address(raw) == ("张三", "zs@qq.com")
        assert parse_address(None) == ("", "")


@pytest.mark.parametrize(
    "raw",
    [
        b"From: a@qq.com\r\nSubject: x\r\nContent-Type: text/plain; charset=undefined\r\n\r\nhi",
        b"From: a@qq.com\r\nSubject: =?undefined?B?YQ==?=\r\n\r\nhi",
        b"From: a@qq.com\r\nSubject: =?idna?Q?=FF?=\r\n\r\nhi",
        b'From: a@qq.com\r\nSubject: x\r\nContent-Type: text/plain; charset="utf\x008"\r\n\r\nhi',
        b"From: a@qq.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename*=undefined''%41.jpg\r\n\r\nabc\r\n--b--\r\n",
    ],
    ids=["body-undefined", "subject-undefined", "subject-idna", "body-nul", "name-undefined"],
)
def test_hostile_charset_labels_do_not_raise(raw: bytes):
    mail = parse_mail(raw)
    assert mail.sender == "a@qq.com"


# ======================================================================================
# parsers/mime.py
# ======================================================================================

PLAIN = b"Content-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n"


def _attachment(name: bytes, body: bytes, cte: bytes = b"base64") -> bytes:
    return (
        b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="
        + name
        + b"\r\nContent-Transfer-Encoding: "
        + cte
        + b"\r\n\r\n"
        + body
    )


class TestMime:
    def test_missing_close_boundary_keeps_the_last_part(self):
        raw = (
            b"Content-Type: multipart/mixed; boundary=XX\r\n\r\npreamble\r\n--XX\r\n"
            + PLAIN
            + b"--XX\r\n"
            + _attachment(b"a.bin", b"QUJD\r\n")
        )
        root = parse_entity(raw)
        assert [c.content_type for c in root.children] == ["text/plain", "application/octet-stream"]
        assert "multipart without closing boundary" in root.defects
        assert decode_body(raw, root.children[1]) == b"ABC"
        mail = parse_mail(b"From: a@qq.com\r\n" + raw)
        assert [a.name for a in mail.attachments] == ["a.bin"]
        assert payload(mail, mail.attachments[0]) == b"ABC"

    def test_no_boundary_parameter(self):
        raw = b"From: a@qq.com\r\nContent-Type: multipart/mixed\r\n\r\n--XX\r\n" + PLAIN
        root = parse_entity(raw)
        assert root.children == () and "multipart without boundary" in root.defects
        mail = parse_mail(raw)
        assert mail.attachments == () and "multipart without boundary" in mail.defects

    def test_declared_boundary_never_used(self):
        raw = (
            b"Content-Type: multipart/mixed; boundary=NOPE\r\n\r\n--XX\r\n" + PLAIN + b"--XX--\r\n"
        )
        root = parse_entity(raw)
        assert root.children == () and "multipart boundary not found" in root.defects

    def test_nested_multiparts_and_exact_spans(self):
        raw = (
            b"Content-Type: multipart/mixed; boundary=OUT\r\n\r\n--OUT\r\n"
            b"Content-Type: multipart/related; boundary=REL\r\n\r\n--REL\r\n"
            b"Content-Type: multipart/alternative; boundary=ALT\r\n\r\n--ALT\r\n"
            + PLAIN
            + b"--ALT\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--ALT--\r\n--REL\r\n"
            b"Content-Type: image/png\r\nContent-ID: <logo>\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--REL--\r\n--OUT\r\n"
            + _attachment(b"x.txt", b"plain bytes", b"7bit")
            + b"\r\n--OUT--\r\nepilogue\r\n"
        )
        root = parse_entity(raw)
        related, attachment = root.children
        alternative, image = related.children
        assert [c.content_type for c in alternative.children] == ["text/plain", "text/html"]
        assert decode_body(raw, alternative.children[0]) == b"hello"
        assert decode_body(raw, alternative.children[1]) == b"<p>hi</p>"
        assert decode_body(raw, image) == b"ABC"
        assert decode_body(raw, attachment) == b"plain bytes"
        assert root.defects == ()

    def test_longer_boundary_and_mid_line_delimiters_are_not_delimiters(self):
        raw = (
            b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
            b"Content-Type: text/plain\r\n\r\nline --XX inside\r\n--XXY not a delimiter\r\n"
            b"--XX--\r\n"
        )
        (part,) = parse_entity(raw).children
        assert decode_body(raw, part) == b"line --XX inside\r\n--XXY not a delimiter"

    def test_lf_only_line_ends(self):
        raw = (
            b"From: a@qq.com\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\n"
            b"Content-Type: text/plain\n\nhi\n--XX\n"
            b"Content-Type: image/jpeg\nContent-Disposition: attachment; filename=a.jpg\n"
            b"Content-Transfer-Encoding: base64\n\nQUJD\n--XX--\n"
        )
        mail = parse_mail(raw)
        assert mail.text == "hi"
        assert payload(mail, mail.attachments[0]) == b"ABC"

    def test_quoted_printable_and_forwarded_message(self):
        inner = Mail(
            sender=("栏垅乡", "lanlongxiang@163.com"),
            subject="照片",
            attachments=[Att("活动照片.jpg", b"\xff\xd8\xff\xe0jpeg-bytes")],
        )
        outer = Mail(
            sender=("转发人", "fw@qq.com"),
            subject="Fw: 材料",
            text="转发=测试",
            body_encoding="quoted-printable",
            client="plain",
            attachments=[forwarded(inner), forwarded(inner, "b.eml", as_octet_stream=True)],
        )
        mail = parse_mail(outer.to_bytes())
        assert mail.text.strip() == "转发=测试"
        assert mail.attachments == ()
        assert [m.sender for m in mail.forwarded] == ["lanlongxiang@163.com"] * 2
        for inner_mail in mail.forwarded:
            (att,) = inner_mail.attachments
            assert att.name == "活动照片.jpg"
            assert payload(inner_mail, att) == b"\xff\xd8\xff\xe0jpeg-bytes"

    def test_mis_padded_base64_keeps_every_byte(self):
        raw = b"From: a@qq.com\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
        raw += _attachment(b"a.bin", b"QUJD\r\nREVG\r\nR0g\r\n") + b"\r\n--XX--\r\n"
        mail = parse_mail(raw)
        assert payload(mail, mail.attachments[0]) == b"ABCDEFGH"

    def test_uuencoded_last_line_with_padding(self):
        data = bytes(range(45)) + bytes(range(41))
        lines = [binascii.b2a_uu(data[:45]).rstrip(b"\n"), binascii.b2a_uu(data[45:]).rstrip(b"\n")]
        body = b"begin 644 a.zip\r\n" + lines[0] + b"\r\n" + lines[1] + b"_\r\n`\r\nend\r\n"
        raw = b"From: a@qq.com\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
        raw += _attachment(b"a.zip", body, b"x-uuencode") + b"\r\n--XX--\r\n"
        mail = parse_mail(raw)
        assert payload(mail, mail.attachments[0]) == data

    def test_nested_multipart_reusing_the_outer_boundary(self):
        raw = (
            b"From: a@qq.com\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
            b"Content-Type: multipart/alternative; boundary=XX\r\n\r\n--XX\r\n"
            + PLAIN
            + b"--XX--\r\n\r\n--XX\r\n"
            + _attachment(b"photo.jpg", b"QUJD\r\n")
            + b"--XX--\r\n"
        )
        mail = parse_mail(raw)
        assert [a.name for a in mail.attachments] == ["photo.jpg"]


# ======================================================================================
# parsers/units.py
# ======================================================================================


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(REGISTRY)


class TestUnits:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("（西渡）", "西渡"),
            ("ＡＢＣ　１２３", "abc123"),
            ("衡阳县 西渡镇！", "衡阳县西渡镇"),
            ("【溪江乡】—材料_2020", "溪江乡材料2020"),
            ("", ""),
        ],
    )
    def test_normalise(self, text: str, expected: str):
        assert normalise(text) == expected

    @pytest.mark.parametrize(
        ("text", "units"),
        [
            ("衡阳县西渡镇人民政府禁毒办", ["西渡镇"]),
            ("关于报送材料的函（西渡）", ["西渡镇"]),
            ("衡阳西渡高新技术产业开发区活动照片", ["西渡高新区"]),  # not also 西渡镇
            ("西渡高新区与西渡镇联合活动", ["西渡高新区", "西渡镇"]),  # in text order
            ("县公安局禁毒大队", ["县公安局"]),
            ("中共衡阳县委宣传部", ["县委宣传部"]),
            ("金兰镇", ["金兰镇"]),
            ("金溪镇", ["金溪镇"]),
            ("金兰", ["金兰镇"]),
            ("金溪", ["金溪镇"]),
            ("金溪镇、金兰镇", ["金溪镇", "金兰镇"]),
            ("曲兰镇", ["曲兰镇"]),
            ("金澜镇", []),
            ("禁毒志愿服务材料", []),
        ],
    )
    def test_find_longest_match(self, registry: Registry, text: str, units: list[str]):
        assert [m.unit for m in registry.find(text)] == units

    def test_find_reports_each_unit_once(self, registry: Registry):
        assert [m.unit for m in registry.find("金兰镇 金兰镇人民政府 金兰")] == ["金兰镇"]

    def test_propose_offers_candidates_for_typos_only(self, registry: Registry):
        assert registry.find("县退役军人事物局") == []
        assert "县退役军人事务局" in registry.propose("县退役军人事物局")
        assert registry.propose("x") == []

    def test_propose_never_assigns(self, registry: Registry, tmp_path: Path):
        """GIVEN a typo'd unit name as the only evidence WHEN sorted THEN no unit is assigned;
        the fuzzy candidate is only proposed."""
        raw = Mail(
            sender=("专干", "somebody@qq.com"),
            subject="县退役军人事物局禁毒志愿服务活动照片",
            attachments=[Att("照片.jpg", files.jpeg(64, 48, seed=1))],
        ).to_bytes()
        result = sort_mail(parse_mail(raw), tmp_path / "s", registry, RULES, {})
        assert result.attribution.unit is None
        assert "县退役军人事务局" in result.attribution.candidates
        assert result.attribution.reason

    def test_jinlan_jinxi_through_sorting(self, registry: Registry, tmp_path: Path):
        for i, unit in enumerate(("金兰镇", "金溪镇")):
            raw = Mail(sender=("专干", f"jl{i}@qq.com"), subject=f"{unit}材料").to_bytes()
            attribution = sort_mail(parse_mail(raw), tmp_path / unit, registry, RULES, {})
            assert (attribution.attribution.unit, attribution.attribution.level) == (
                unit,
                "subject",
            )

    def test_by_email_ignores_case(self, registry: Registry):
        assert registry.by_email(" HYXXIDUJDB@163.com ") == "西渡镇"
        assert registry.by_email("nobody@qq.com") is None

    def test_load_registry_bom_and_errors(self, tmp_path: Path):
        good = tmp_path / "units.csv"
        good.write_text(
            "\ufeffunit,category,aliases,emails\n西渡镇,乡镇,西渡,A@163.com;b@qq.com\n",
            encoding="utf-8",
        )
        (unit,) = load_registry(good).units
        assert unit == Unit("西渡镇", "乡镇", ("西渡",), ("a@163.com", "b@qq.com"))
        duplicate = tmp_path / "dup.csv"
        duplicate.write_text("unit,category\n西渡镇,乡镇\n西渡镇,乡镇\n", encoding="utf-8")
        with pytest.raises(RegistryError, match="重复"):
            load_registry(duplicate)
        no_unit = tmp_path / "nounit.csv"
        no_unit.write_text("name,category\n西渡镇,乡镇\n", encoding="utf-8")
        with pytest.raises(RegistryError, match="unit"):
            load_registry(no_unit)


RULES = SortRules(
    keywords={k: tuple(v) for k, v in DEFAULT_KEYWORDS.items()},
    inline_min_bytes=30 * 1024,
    inline_min_px=300,
    link_hosts=tuple(DEFAULT_LINK_HOSTS),
    circular_min_units=4,
    office_addresses=frozenset(),
)


# ======================================================================================
# parsers/links.py
# ======================================================================================

BAIDU = "https://pan.baidu.com/s/1hBq7mXw2LkPzR9tYvN3cAe"
FTN = "https://wx.mail.qq.com/ftn/download?func=3&k=abc123&key=def456&code=9a8b7c6d"


class TestLinks:
    @pytest.mark.parametrize(
        "text",
        [
            "收到\n\n------------------ 原始邮件 ------------------\n发件人: x\n" + BAIDU,
            '收到\n\n在 2020年12月1日 09:00，"县禁毒办"<hyxjdb@qq.com> 写道：\n' + BAIDU,
            "收到\nOn Mon, 1 Dec 2020 at 09:00, a <a@b.c> wrote:\n" + BAIDU,
            "收到\n-----Original Message-----\n" + BAIDU,
            "收到\n> 链接: " + BAIDU,
        ],
    )
    def test_quoted_replies_are_excluded(self, text: str):
        assert own_text(text).strip() == "收到"
        assert find_links(text, "", HOSTS) == ()

    def test_quoted_html_is_excluded(self):
        html = (
            f'<div>见 <a href="{FTN.replace("&", "&amp;")}">附件</a></div>'
            f"<blockquote>{BAIDU}</blockquote>"
            "<div>------------------&nbsp;原始邮件&nbsp;------------------</div>"
            f'<div><a href="https://pan.baidu.com/s/1quoted">x</a></div>'
        )
        assert "pan.baidu.com" not in own_html_text(html)
        assert [link.url for link in find_links("", html, HOSTS)] == [FTN]

    @pytest.mark.parametrize(
        ("text", "code"),
        [
            (f"链接: {BAIDU}  提取码: x7k9  复制这段内容后打开百度网盘手机App", "x7k9"),
            (f"链接：{BAIDU} 提取码：AB12", "AB12"),
            (f"{BAIDU}?pwd=q1w2", "q1w2"),
            (f"{BAIDU} 密码 9z8y", "9z8y"),
            (f"{BAIDU}。提取码ab12", "ab12"),
            (BAIDU, ""),
        ],
    )
    def test_code_extraction(self, text: str, code: str):
        (link,) = find_links(text, "", HOSTS)
        assert link.code == code
        assert link.url.startswith(BAIDU)

    def test_code_belongs_to_its_own_link(self):
        text = f"{BAIDU} 提取码: aaaa\nhttps://pan.baidu.com/s/1other"
        links = find_links(text, "", HOSTS)
        assert [(link.url, link.code) for link in links] == [
            (BAIDU, "aaaa"),
            ("https://pan.baidu.com/s/1other", ""),
        ]

    def test_same_url_in_text_and_html_counts_once(self):
        html = f'<a href="{FTN.replace("&", "&amp;")}">禁毒宣传片.mp4</a>'
        links = find_links(f"进入下载页面：{FTN}", html, HOSTS)
        assert [link.url for link in links] == [FTN]
        assert "30天" in links[0].note

    @pytest.mark.parametrize(
        ("text", "found"),
        [
            ("https://example.com/s/abc", []),
            ("https://mail.163.com/large-attachment-download/index.html?p=X", ["163"]),
            ("pan.baidu.com/s/1abc", ["https://pan.baidu.com/s/1abc"]),
            ("https://share.weiyun.com/AbC 密码：q1w2e3", ["https://share.weiyun.com/AbC"]),
        ],
    )
    def test_host_list(self, text: str, found: list[str]):
        urls = [link.url for link in find_links(text, "", HOSTS)]
        assert len(urls) == len(found)
        for url, want in zip(urls, found, strict=True):
            assert want in url

    def test_config_can_add_hosts(self):
        assert find_links("https://pan.example.cn/s/1", "", HOSTS) == ()
        (link,) = find_links("https://pan.example.cn/s/1", "", [*HOSTS, "pan.example.cn"])
        assert link.host == "pan.example.cn"

    def test_url_followed_directly_by_chinese_text(self):
        html = f'<a href="{BAIDU}">{BAIDU}</a>'
        links = find_links(f"链接：{BAIDU}提取码：x7k9", html, HOSTS)
        assert [(link.url, link.code) for link in links] == [(BAIDU, "x7k9")]

    def test_look_alike_host_is_not_a_known_host(self):
        assert find_links("https://pan.baidu.com.evil.cn/s/1abc", "", HOSTS) == ()


# ======================================================================================
# Hypothesis: parse_mail never raises
# ======================================================================================


def _walk(mail) -> None:
    for attachment in mail.attachments:
        payload(mail, attachment)
    for inner in mail.forwarded:
        _walk(inner)


def _seeds() -> list[bytes]:
    """Real messages to mutate: our messy builders, plus a few public corpus messages."""
    inner = Mail(sender=("栏垅乡", "lanlongxiang@163.com"), subject="照片", client="coremail")
    seeds = [
        Mail(
            subject="演陂镇禁毒志愿服务活动材料报送",
            client="outlook",
            text="请查收",
            html="<p>请查收<img src='cid:logo@x'></p>",
            attachments=[
                Att("活动照片（一）.jpg", files.jpeg(64, 48, seed=1)),
                Att("总结.docx", b"PK\x03\x04 not really", name_style="rfc2231-cont"),
                Att("logo.png", files.tiny_logo_png(), disposition="inline", cid="logo@x"),
                forwarded(inner),
            ],
        ).to_bytes(),
        Mail(
            subject="界牌镇材料",
            client="plain",
            subject_style="raw",
            header_charset="gbk",
            attachments=[Att("照片.jpg", b"\xff\xd8\xff", name_style="raw", charset="gbk")],
            broken="missing-close",
        ).to_bytes(),
    ]
    shared = Path(os.environ.get("SHARED_DIR", REPO.parent / "shared")) / "corpora"
    index = shared / "index.json"
    if index.is_file():
        for entry in json.loads(index.read_text(encoding="utf-8")):
            path = shared / entry["file"]
            if path.stat().st_size < 20_000 and len(seeds) < 40:
                seeds.append(path.read_bytes())
    return seeds


SEEDS = _seeds()
TOKENS = [
    b"\r\n--",
    b"--",
    b"=?",
    b"?=",
    b"=?gb2312?B?",
    b"\r\n\r\n",
    b"boundary=",
    b'boundary=""',
    b"*0*=",
    b"''",
    b"%",
    b"\x00",
    b"begin 644 x\r\n",
    b"Content-Type: multipart/mixed; boundary=x\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Type: message/rfc822\r\n\r\n",
    b"\xff\xfe",
]
_mutation = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.binary(min_size=1, max_size=1)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("token"), st.floats(0, 1), st.sampled_from(TOKENS)),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 200)),
    st.tuples(st.just("truncate"), st.floats(0, 1), st.none()),
)


def _mutate(data: bytes, mutations) -> bytes:
    buf = bytearray(data)
    for op, where, arg in mutations:
        pos = int(where * len(buf))
        if op == "flip" and buf:
            buf[min(pos, len(buf) - 1)] = arg[0]
        elif op in ("insert", "token"):
            buf[pos:pos] = arg
        elif op == "delete":
            del buf[pos : pos + arg]
        elif op == "truncate":
            del buf[pos:]
    return bytes(buf)


_FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@_FUZZ
@given(st.binary(max_size=4096))
def test_parse_mail_never_raises_on_arbitrary_bytes(raw: bytes):
    _walk(parse_mail(raw))


@_FUZZ
@given(st.sampled_from(range(len(SEEDS))), st.lists(_mutation, min_size=1, max_size=8))
def test_parse_mail_never_raises_on_mutated_real_mail(seed: int, mutations):
    _walk(parse_mail(_mutate(SEEDS[seed], mutations)))
