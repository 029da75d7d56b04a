"""Sorting and attribution through the real IMAP path, one SPEC input class per test.

One mailbox (module fixture) holds about fifty messy real-world mails, each appended into
Dovecot with a chosen INTERNALDATE; ``once`` runs once through the CLI in a subprocess, and every
test below asserts on what that single run left: ``units.csv``, ``attachments.csv``, the
materials tree and (for review reasons, which the contract CSVs do not carry) the ledger.

Every mail comes from its own sender and, where a unit is meant to be recognised, names its own
unit, so the cases cannot lend each other evidence (a personal address that was attributed once
is learned for later mail).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from tests.support import files
from tests.support.mails import (
    Att,
    Mail,
    auto_reply,
    baidu_share,
    bounce,
    forwarded,
    inline_image,
    newsletter,
    qq_big_attachment,
    qq_ftn_url,
    qq_reply_quote,
)
from tests.support.project import run_cli, snapshot, tree, write_config

CST = timezone(timedelta(hours=8))
MiB = 1024**2
CONTRACT_ATTACHMENT_COLUMNS = [
    "message_id",
    "uid",
    "received_at",
    "sender",
    "unit",
    "filename",
    "category",
    "size",
    "sha256",
    "path",
]

BAIDU_URL = "https://pan.baidu.com/s/1hBq7mXw2LkPzR9tYvN3cAe"
QUOTED_BAIDU_URL = "https://pan.baidu.com/s/1QuOtEdLiNkNoTcOuNtEd00"
FTN_URL = qq_ftn_url("县委宣传部-禁毒宣传片")
ADJACENT_URL = "https://pan.baidu.com/s/1yZpOsTaLvIdEo2020JdbXx"


def at(day: int, hour: int = 10, minute: int = 0, second: int = 0, month: int = 12) -> datetime:
    year = 2021 if month == 1 else 2020
    return datetime(year, month, day, hour, minute, second, tzinfo=CST)


def jpg(seed: int, width: int = 320, height: int = 240) -> bytes:
    return files.jpeg(width, height, seed=seed, quality=80)


def report_docx(title: str, seed: str = "") -> bytes:
    return files.docx([f"今年以来，我单位扎实开展禁毒志愿服务活动。{seed}"], title=title)


# --------------------------------------------------------------------------------------
# The mailbox: key -> (mail bytes, INTERNALDATE). Keys name the case; Message-IDs are kept
# so that tests can find each mail's rows.
# --------------------------------------------------------------------------------------


@dataclass
class Mailbox:
    mails: dict[str, tuple[bytes, datetime, tuple[str, ...]]] = field(default_factory=dict)
    message_ids: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, mail: Mail, received: datetime, flags: tuple[str, ...] = ()) -> None:
        assert key not in self.mails, key
        mail.seed = mail.seed or key
        self.mails[key] = (mail.to_bytes(), received, flags)
        self.message_ids[key] = mail.message_id_value() or ""
        if self.message_ids[key]:
            assert list(self.message_ids.values()).count(self.message_ids[key]) == 1, key


def personal(name: str) -> tuple[str, str]:
    """A personal QQ address (never registered) unique to one case."""
    return ("禁毒专干", f"{name}@qq.com")


def build_mailbox() -> Mailbox:
    box = Mailbox()

    # -- charsets of subjects and file names --------------------------------------------
    box.add(
        "gb2312_label_gbk_bytes",
        Mail(
            sender=personal("gb2312"),
            subject="集兵镇禁毒志愿服务活动照片（张喆摄）",
            client="foxmail",  # gb2312 label with GBK bytes: 喆 is not in GB2312
            attachments=[Att("集兵镇活动照片_张喆.jpg", jpg(101))],
        ),
        at(20),
    )
    box.add(
        "gb18030_four_byte",
        Mail(
            sender=personal("gb18030"),
            subject="杉桥镇禁毒志愿服务材料（䶮）",
            client="qq",  # gb18030 label; 䶮 (U+4DAE) needs four GB18030 bytes
            attachments=[Att("杉桥镇活动照片䶮.jpg", jpg(102))],
        ),
        at(20, 11),
    )
    box.add(
        "gbk_coremail",
        Mail(
            sender=personal("gbkcore"),
            subject="井头镇禁毒志愿服务活动照片",
            client="coremail",  # GBK label
            attachments=[Att("井头镇活动照片（一）.jpg", jpg(103))],
        ),
        at(20, 12),
    )
    box.add(
        "rfc2047_split_mid_character",
        Mail(
            sender=personal("outlook"),
            subject="演陂镇2020年度禁毒志愿服务活动材料报送（照片）",
            client="outlook",  # words cut inside multi-byte characters
            attachments=[Att("演陂镇禁毒志愿服务活动照片之一（宣传进村）.jpg", jpg(104))],
        ),
        at(20, 13),
    )
    box.add(
        "rfc2231_continuations",
        Mail(
            sender=personal("rfc2231"),
            subject="洪市镇禁毒材料",
            client="plain",
            attachments=[
                Att(
                    "洪市镇禁毒志愿服务活动照片（十二月二十日摄于洪市镇中心学校操场）.jpg",
                    jpg(105),
                    name_style="rfc2231-cont",
                    charset="gbk",
                )
            ],
        ),
        at(20, 14),
    )
    box.add(
        "raw_8bit_utf8",
        Mail(
            sender=personal("rawutf8"),
            subject="曲兰镇禁毒志愿服务活动照片",
            client="plain",
            subject_style="raw",
            header_charset="utf-8",
            attachments=[Att("曲兰镇照片.jpg", jpg(106), name_style="raw", charset="utf-8")],
        ),
        at(20, 15),
    )
    box.add(
        "raw_8bit_gbk",
        Mail(
            sender=personal("rawgbk"),
            subject="界牌镇禁毒志愿服务活动照片",
            client="plain",
            subject_style="raw",
            header_charset="gbk",
            attachments=[Att("界牌镇照片.jpg", jpg(107), name_style="raw", charset="gbk")],
        ),
        at(20, 16),
    )
    box.add(
        "raw_text_beside_encoded_word",
        Mail(
            sender=personal("rawmixed"),
            subject=None,
            client="plain",
            # a client that writes the unit raw and the rest as an encoded word
            extra_headers=[("Subject", "县城管局 ".encode() + b"=?utf-8?B?56aB5q+S5p2Q5paZ?=")],
            attachments=[Att("活动照片.jpg", jpg(109))],
        ),
        at(20, 18),
    )
    box.add(
        "name_only_in_content_type",
        Mail(
            sender=personal("ctname"),
            subject="渣江镇禁毒志愿服务活动照片",
            client="foxmail",
            attachments=[Att("渣江镇照片.jpg", jpg(108), name_in="type")],
        ),
        at(20, 17),
    )

    # -- archives ----------------------------------------------------------------------------
    box.add(
        "zip_gbk_names",
        Mail(
            sender=personal("zipgbk"),
            subject="台源镇禁毒志愿服务材料",
            attachments=[
                Att(
                    "材料.zip",
                    files.zip_archive(
                        {
                            "活动照片/": b"",
                            "活动照片/禁毒宣传1.jpg": jpg(111),
                            "活动照片/禁毒宣传2.jpg": jpg(112),
                        },
                        name_encoding="gbk",
                    ),
                )
            ],
        ),
        at(21),
    )
    box.add(
        "nested_archives",
        Mail(
            sender=personal("nested"),
            subject="石市镇禁毒志愿服务材料（压缩包）",
            attachments=[Att("石市镇材料.7z", files.nested_zip())],
        ),
        at(21, 11),
    )
    box.add(
        "sevenzip",
        Mail(
            sender=personal("sevenz"),
            subject="岘山镇禁毒志愿服务材料",
            attachments=[
                Att(
                    "岘山镇.7z",
                    files.sevenzip({"照片/宣传1.jpg": jpg(113), "视频/宣传.mp4": files.mp4()}),
                )
            ],
        ),
        at(21, 12),
    )
    box.add(
        "rar",
        Mail(
            sender=("库宗桥镇", "kzqzjdb@hyx.gov.cn"),  # registered
            subject="材料",
            attachments=[
                Att("资料.rar", files.rar_sample("rar5-subdirs.rar")),
                Att("unicode.rar", files.rar_sample("unicode.rar")),
            ],
        ),
        at(21, 13),
    )

    # -- where the unit is named --------------------------------------------------------------
    box.add(
        "unit_only_in_file_name",
        Mail(
            sender=personal("fileonly"),
            subject="报送材料",
            attachments=[Att("关市镇禁毒活动照片.jpg", jpg(121))],
        ),
        at(22),
    )
    box.add(
        "unit_only_in_document_title",
        Mail(
            sender=personal("titleonly"),
            subject="报送材料",
            attachments=[
                Att("新建 Microsoft Word 文档.docx", report_docx("大安乡禁毒志愿服务工作总结")),
                Att("附件1.jpg", jpg(122)),
            ],
        ),
        at(22, 11),
    )
    box.add(
        "alias_full_width",
        Mail(
            sender=personal("alias"),
            subject="关于报送禁毒志愿服务活动材料的函（西渡）",
            attachments=[Att("活动照片.jpg", jpg(123))],
        ),
        at(22, 12),
    )
    box.add(
        "full_width_forms",
        Mail(
            sender=personal("fullwidth"),
            subject="【溪江乡】　２０２０年禁毒志愿服务活动照片",
            attachments=[Att("ＩＭＧ＿２０２０.jpg", jpg(124))],
        ),
        at(22, 13),
    )
    box.add(
        "jinlan",
        Mail(
            sender=personal("jinlan"),
            subject="金兰镇禁毒志愿服务活动照片",
            attachments=[Att("照片.jpg", jpg(125))],
        ),
        at(22, 14),
    )
    box.add(
        "jinxi",
        Mail(
            sender=personal("jinxi"),
            subject="金溪镇禁毒志愿服务活动照片",
            attachments=[Att("照片.jpg", jpg(126))],
        ),
        at(22, 15),
    )
    box.add(
        "near_miss_name",
        Mail(
            sender=personal("jinlan_typo"),
            subject="金澜镇禁毒志愿服务活动照片",  # a typo: neither 金兰镇 nor 金溪镇
            attachments=[Att("照片.jpg", jpg(127))],
        ),
        at(22, 16),
    )
    box.add(
        "typo_in_unit_name",
        Mail(
            sender=personal("typo"),
            subject="县退役军人事物局禁毒志愿服务活动照片",  # 物 for 务
            attachments=[Att("活动照片.jpg", jpg(128))],
        ),
        at(22, 17),
    )

    # -- split over several mails, identical files twice --------------------------------------
    banshi = ("板市乡禁毒办", "banshixiang@163.com")  # registered
    photo = jpg(131)
    report = report_docx("板市乡2020年禁毒志愿服务工作总结")
    box.add(
        "split_1",
        Mail(
            sender=banshi,
            subject="材料（一）",
            attachments=[Att("活动照片.jpg", photo), Att("工作总结.docx", report)],
        ),
        at(20, 9),
    )
    box.add(
        "split_2",
        Mail(
            sender=banshi,
            subject="材料（二）",
            attachments=[
                Att("事迹材料.docx", files.docx(["某某同志先进事迹。"], title="先进事迹材料")),
                Att("宣传视频.mp4", files.mp4()),
            ],
        ),
        at(22, 9),
    )
    box.add(
        "split_3_resend",
        Mail(
            sender=banshi,
            subject="材料（重发）",
            attachments=[Att("活动照片.jpg", photo), Att("工作总结.docx", report)],
        ),
        at(26, 9),
    )

    # -- forwarded mail -----------------------------------------------------------------------
    inner = Mail(
        sender=("栏垅乡禁毒办", "lanlongxiang@163.com"),  # registered
        subject="禁毒志愿服务活动照片",
        date=at(19, 8),
        attachments=[Att("栏垅乡活动照片.jpg", jpg(141))],
        client="coremail",
        seed="inner-lanlong",
    )
    box.add(
        "forwarded_rfc822",
        Mail(
            sender=personal("forwarder"),
            subject="Fw: 材料",
            client="outlook",
            text="转发给禁毒办。",
            attachments=[forwarded(inner)],
        ),
        at(23),
    )
    inner_qq = Mail(
        sender=("岣嵝乡", "goulouxiang@163.com"),  # registered
        subject="岣嵝乡禁毒材料",
        date=at(19, 9),
        attachments=[Att("活动照片.jpg", jpg(142))],
        seed="inner-goulou",
    )
    box.add(
        "forwarded_eml_octet_stream",
        Mail(
            sender=personal("forwarder_qq"),
            subject="转发：材料",
            attachments=[forwarded(inner_qq, as_octet_stream=True)],
        ),
        at(23, 11),
    )

    # -- cloud links ---------------------------------------------------------------------------
    ftn_text, _ = qq_big_attachment("禁毒宣传片.mp4", "186.52M", FTN_URL, "2021年1月22日 10:12")
    _, ftn_html = qq_big_attachment(
        "禁毒宣传片.mp4", "186.52M", FTN_URL.replace("&", "&amp;"), "2021年1月22日 10:12"
    )
    box.add(
        "links",
        Mail(
            sender=("县委宣传部", "hyxwxcb@163.com"),  # registered
            subject="视频资料",
            text="视频太大，用超大附件和网盘发送。"
            + ftn_text
            + "\n"
            + baidu_share("禁毒微电影.mp4", BAIDU_URL, "x7k9"),
            html=f"<div>视频太大，用超大附件和网盘发送。</div>{ftn_html}",
        ),
        at(23, 12),
    )
    quote = qq_reply_quote(
        baidu_share("去年的视频.mp4", QUOTED_BAIDU_URL, "ab12"),
        ("县禁毒办", "hyxjdb@qq.com"),
        at(1, 9),
        "视频资料",
    )
    box.add(
        "link_in_quoted_reply",
        Mail(
            sender=("县委政法委", "hyxzfw@163.com"),  # registered
            subject="回复：视频资料",
            text="收到，马上整理。" + quote,
            html=(
                "<div>收到，马上整理。</div>"
                '<div style="font-size: 12px;">------------------&nbsp;原始邮件&nbsp;'
                "------------------</div>"
                f'<div>链接: <a href="{QUOTED_BAIDU_URL}">{QUOTED_BAIDU_URL}</a> 提取码: ab12</div>'
            ),
        ),
        at(23, 13),
    )

    box.add(
        "link_followed_by_chinese",
        Mail(
            sender=("县邮政分公司", "hyxyz@163.com"),  # registered
            subject="视频",
            text=f"视频链接：{ADJACENT_URL}提取码：k3m9，请下载。",
            html=f'<div>视频链接：<a href="{ADJACENT_URL}">{ADJACENT_URL}</a>提取码：k3m9</div>',
        ),
        at(23, 14),
    )

    # -- receive time: INTERNALDATE decides; the deadline is inclusive -------------------------
    box.add(
        "late_by_one_second",
        Mail(
            sender=("县法院", "hyxrmfy@163.com"),  # registered
            subject="材料",
            date=at(30, 16),  # the Date header claims the 30th
            attachments=[Att("活动照片.jpg", jpg(151))],
        ),
        at(1, 0, 0, 0, month=1),
    )
    box.add(
        "on_time_at_last_second",
        Mail(
            sender=("县检察院", "hyxjcy@163.com"),  # registered
            subject="材料",
            date=at(5, 9, month=1),  # the Date header claims January
            attachments=[Att("活动照片.jpg", jpg(152))],
        ),
        at(31, 23, 59, 59),
    )

    box.add(
        "late_identical_resend",
        Mail(
            sender=("县检察院", "hyxjcy@163.com"),
            subject="材料（重发）",
            attachments=[Att("活动照片.jpg", jpg(152))],
        ),
        at(2, 9, month=1),
    )
    box.add(
        "seen_without_message_id",
        Mail(
            sender=personal("noid"),
            subject="樟树乡禁毒志愿服务活动照片",
            message_id=None,
            attachments=[Att("樟树乡照片.jpg", jpg(153))],
        ),
        at(27),
        flags=("\\Seen",),
    )
    box.add(
        "subject_beats_file_name",
        Mail(
            sender=personal("levels"),
            subject="长安乡禁毒志愿服务活动照片",
            attachments=[Att("与三湖镇联合活动.jpg", jpg(154))],
        ),
        at(27, 11),
    )

    # -- not submissions -----------------------------------------------------------------------
    box.add("newsletter", newsletter(subject="禁毒周刊：县民政局开展禁毒宣传"), at(24, 8))
    original = Mail(
        sender=("县禁毒办", "hyxjdb@qq.com"),
        to=("县妇联", "hyxfl@163.com"),
        subject="请报送禁毒志愿服务材料",
        text="请于12月31日前报送。",
    )
    reply = auto_reply(original, sender=("县妇联", "hyxfl@163.com"))  # a registered address
    reply.attachments = [Att("县妇联活动照片.jpg", jpg(161))]
    box.add("auto_reply", reply, at(24, 9))
    to_renshe = Mail(
        sender=("县禁毒办", "hyxjdb@qq.com"),
        to=("县人社局", "hyxrsj@163.com"),
        subject="县人社局：请报送禁毒材料",
        attachments=[Att("县人社局活动照片.jpg", jpg(162))],
        seed="to-renshe",
    )
    box.add("bounce", bounce(to_renshe), at(24, 10))
    box.add(
        "circular",
        Mail(
            sender=("县禁毒办", "hyxjdb@qq.com"),
            subject="关于县总工会、县教育局、县卫健局、县司法局报送禁毒材料情况的通报",
            attachments=[Att("通报.docx", report_docx("关于报送情况的通报"))],
        ),
        at(24, 11),
    )

    # -- hostile and broken input --------------------------------------------------------------
    box.add(
        "zip_traversal",
        Mail(
            sender=personal("traversal"),
            subject="县财政局禁毒志愿服务材料",
            attachments=[
                Att("照片.zip", files.zip_traversal(symlink=True)),
                Att("up.rar", files.rar_sample("rar5-evil-symlink-traversal.rar")),
            ],
        ),
        at(25),
    )
    box.add(
        "zip_bomb",
        Mail(
            sender=personal("bomb"),
            subject="县文旅广体局禁毒志愿服务材料",
            attachments=[Att("照片.zip", files.zip_bomb())],
        ),
        at(25, 11),
    )
    box.add(
        "zip_encrypted",
        Mail(
            sender=personal("encrypted"),
            subject="县市场监管局禁毒志愿服务材料",
            attachments=[
                Att("加密照片.zip", files.zip_encrypted()),
                Att("加密.rar", files.rar_sample("rar5-psw.rar")),
                Att("工作总结.docx", report_docx("县市场监管局禁毒工作总结")),
            ],
        ),
        at(25, 12),
    )
    box.add(
        "missing_close_boundary",
        Mail(
            sender=personal("brokenmime"),
            subject="县交通运输局禁毒志愿服务活动照片",
            attachments=[Att("活动照片.jpg", jpg(171))],
            broken="missing-close",
        ),
        at(25, 13),
    )
    box.add(
        "zero_byte",
        Mail(
            sender=personal("zerobyte"),
            subject="县住建局禁毒志愿服务活动照片",
            attachments=[Att("空白.jpg", b""), Att("活动照片.jpg", jpg(172))],
        ),
        at(25, 14),
    )
    box.add(
        "jpeg_named_dat",
        Mail(
            sender=personal("datfile"),
            subject="县自然资源局禁毒志愿服务活动照片",
            attachments=[Att("IMG_0001.dat", jpg(173))],
        ),
        at(25, 15),
    )
    box.add(
        "corrupt_docx",
        Mail(
            sender=personal("corrupt"),
            subject="县林业局禁毒志愿服务材料",
            attachments=[Att("禁毒工作总结.docx", files.corrupt_docx())],
        ),
        at(25, 16),
    )
    box.add(
        "scanned_pdf",
        Mail(
            sender=personal("scanned"),
            subject="县商务局禁毒志愿服务材料",
            attachments=[Att("禁毒工作总结（扫描件）.pdf", files.pdf_scanned())],
        ),
        at(25, 17),
    )
    box.add(
        "doc_and_wps",
        Mail(
            sender=personal("docwps"),
            subject="县发改局禁毒志愿服务材料",
            attachments=[
                Att(
                    "新建 Microsoft Word 文档.doc",
                    files.doc(["全年开展禁毒宣传六次。"], title="禁毒志愿服务工作总结"),
                ),
                Att("文档1.wps", files.wps(["某某同志的事迹。"], title="禁毒志愿者先进事迹")),
            ],
        ),
        at(26),
    )
    box.add(
        "heic",
        Mail(
            sender=personal("iphone"),
            subject="县工信局禁毒志愿服务活动照片",
            client="apple",
            attachments=[Att("IMG_2041.HEIC", files.heic(640, 480, seed=5))],
        ),
        at(26, 11),
    )
    box.add(
        "inline_images",
        Mail(
            sender=personal("inline"),
            subject="县应急管理局禁毒志愿服务活动照片",
            html=(
                "<div>活动现场：</div>"
                '<div><img src="cid:photo-pasted@qq"></div>'
                '<div>--<br><img src="cid:logo-sig@qq"> 县应急管理局</div>'
            ),
            attachments=[
                inline_image("pasted.jpg", files.jpeg(1200, 900, seed=181), "photo-pasted@qq"),
                inline_image("logo.png", files.tiny_logo_png(), "logo-sig@qq"),
                inline_image("IMG_3001.jpg", jpg(182), "not-referenced@apple"),
            ],
        ),
        at(26, 12),
    )
    box.add(
        "no_unit_evidence",
        Mail(
            sender=personal("nobody"),
            subject="材料",
            attachments=[Att("照片.jpg", jpg(191))],
        ),
        at(26, 13),
    )
    box.add(
        "two_units_in_subject",
        Mail(
            sender=personal("twounits"),
            subject="县医保局、县税务局联合开展禁毒宣传活动照片",
            attachments=[Att("联合活动.jpg", jpg(192))],
        ),
        at(26, 14),
    )
    return box


# --------------------------------------------------------------------------------------
# One run for the whole module
# --------------------------------------------------------------------------------------


@dataclass
class Run:
    root: Path
    data: Path
    stdout: str
    units: dict[str, dict[str, str]]
    header: list[str]
    rows: list[dict[str, str]]
    messages: pd.DataFrame
    files_table: pd.DataFrame
    message_ids: dict[str, str]
    outside_before: dict[str, str]
    outside_after: dict[str, str]
    etc_evil_before: bool
    first_snapshot: dict
    second_snapshot: dict
    second_stdout: str

    def rows_of(self, key: str) -> list[dict[str, str]]:
        mid = self.message_ids[key]
        return [r for r in self.rows if r["message_id"] == mid]

    def message(self, key: str) -> pd.Series:
        found = self.messages[self.messages["message_id"] == self.message_ids[key]]
        assert len(found) == 1, (key, len(found))
        return found.iloc[0]

    def files_of(self, key: str) -> pd.DataFrame:
        return self.files_table[self.files_table["message"] == self.message(key)["id"]]


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def _outside(root: Path, data: Path) -> dict[str, str]:
    return {k: v for k, v in tree(root).items() if not (root / k).is_relative_to(data)}


@pytest.fixture(scope="module")
def run(dovecot, tmp_path_factory) -> Run:
    missing = [tool for tool in ("soffice", "ffmpeg") if shutil.which(tool) is None]
    if not (files.shared_dir() / "fixtures" / "rar").is_dir():
        missing.append(f"{files.shared_dir()}/fixtures/rar (set SHARED_DIR)")
    if missing:
        message = f"needed to build this module's mails: {', '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    if not dovecot.running:
        dovecot.start()
    account = dovecot.account()
    box = build_mailbox()
    for raw, received, flags in box.mails.values():
        dovecot.append(account.username, raw, received, flags=flags)
    # The office folder sits two levels below the root, so "../../x" from anything under
    # data/ that escapes would land inside the watched root.
    root = tmp_path_factory.mktemp("sorting")
    config = write_config(root / "a" / "b" / "office", account)
    data = config.parent / "data"
    etc_evil = Path("/etc/evil.txt").exists()
    before = _outside(root, data)
    result = run_cli(config, "once", password="secret")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    after = _outside(root, data)
    first = snapshot(data)
    again = run_cli(config, "once", password="secret")
    assert again.returncode == 0, again.stdout + again.stderr
    units_header, units_rows = _read_csv(data / "reports" / "units.csv")
    assert units_header[:2] == ["unit", "category"]
    header, rows = _read_csv(data / "reports" / "attachments.csv")
    from intake.ledger import Ledger

    with Ledger(data / "ledger.sqlite3") as ledger:
        messages = ledger.frame("messages")
        files_table = ledger.frame("files")
    return Run(
        root=root,
        data=data,
        stdout=result.stdout,
        units={r["unit"]: r for r in units_rows},
        header=header,
        rows=rows,
        messages=messages,
        files_table=files_table,
        message_ids=box.message_ids,
        outside_before=before,
        outside_after=after,
        etc_evil_before=etc_evil,
        first_snapshot=first,
        second_snapshot=snapshot(data),
        second_stdout=again.stdout,
    )


def only(rows: list[dict[str, str]]) -> dict[str, str]:
    assert len(rows) == 1, rows
    return rows[0]


def names(rows: list[dict[str, str]]) -> list[str]:
    return sorted(r["filename"] for r in rows)


# --------------------------------------------------------------------------------------
# The run itself
# --------------------------------------------------------------------------------------


def test_second_poll_changes_nothing(run: Run):
    assert "新邮件 0 封" in run.second_stdout
    assert run.second_snapshot == run.first_snapshot


def test_every_mail_is_taken_and_none_fails(run: Run):
    assert len(run.messages) == len(run.message_ids)
    assert set(run.messages["status"]) <= {"done", "review", "ignored"}, run.messages[
        ["subject", "status", "error"]
    ]
    assert run.header == CONTRACT_ATTACHMENT_COLUMNS
    for row in run.rows:
        assert row["uid"].isdigit()
        assert row["received_at"].endswith("+08:00")


# --------------------------------------------------------------------------------------
# Charsets
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "unit", "filename"),
    [
        ("gb2312_label_gbk_bytes", "集兵镇", "集兵镇活动照片_张喆.jpg"),
        ("gb18030_four_byte", "杉桥镇", "杉桥镇活动照片䶮.jpg"),
        ("gbk_coremail", "井头镇", "井头镇活动照片（一）.jpg"),
        ("rfc2047_split_mid_character", "演陂镇", "演陂镇禁毒志愿服务活动照片之一（宣传进村）.jpg"),
        (
            "rfc2231_continuations",
            "洪市镇",
            "洪市镇禁毒志愿服务活动照片（十二月二十日摄于洪市镇中心学校操场）.jpg",
        ),
        ("raw_8bit_utf8", "曲兰镇", "曲兰镇照片.jpg"),
        ("raw_8bit_gbk", "界牌镇", "界牌镇照片.jpg"),
        ("name_only_in_content_type", "渣江镇", "渣江镇照片.jpg"),
    ],
)
def test_chinese_names_decode_exactly(run: Run, key: str, unit: str, filename: str):
    """GIVEN a subject and file name in a legacy or awkward encoding WHEN sorted THEN both decode
    exactly: the unit comes from the subject, the stored name is the sender's."""
    row = only(run.rows_of(key))
    assert row["filename"] == filename
    assert row["unit"] == unit
    assert row["category"] == "photo"
    assert row["path"] == f"materials/{unit}/照片/{filename}"
    assert (run.data / row["path"]).is_file()
    assert run.units[unit]["photos"] == "1"
    message = run.message(key)
    assert message["unit_level"] == "subject"
    assert unit in message["subject"]


def test_raw_8bit_unit_name_beside_encoded_word(run: Run):
    assert run.message("raw_text_beside_encoded_word")["subject"] == "县城管局 禁毒材料"
    assert only(run.rows_of("raw_text_beside_encoded_word"))["unit"] == "县城管局"


def test_gb2312_subject_keeps_gbk_only_character(run: Run):
    assert (
        run.message("gb2312_label_gbk_bytes")["subject"] == "集兵镇禁毒志愿服务活动照片（张喆摄）"
    )
    assert run.message("rfc2047_split_mid_character")["subject"] == (
        "演陂镇2020年度禁毒志愿服务活动材料报送（照片）"
    )
    assert run.message("raw_8bit_gbk")["subject"] == "界牌镇禁毒志愿服务活动照片"


# --------------------------------------------------------------------------------------
# Archives
# --------------------------------------------------------------------------------------


def test_zip_with_gbk_names_lists_members_under_the_archive(run: Run):
    rows = run.rows_of("zip_gbk_names")
    photos = [r for r in rows if r["category"] == "photo"]
    assert names(photos) == ["材料.zip/活动照片/禁毒宣传1.jpg", "材料.zip/活动照片/禁毒宣传2.jpg"]
    assert all(r["unit"] == "台源镇" for r in rows)
    assert all(r["category"] == "other" for r in rows if r not in photos)  # a container row
    assert {r["path"] for r in photos} == {
        "materials/台源镇/照片/禁毒宣传1.jpg",
        "materials/台源镇/照片/禁毒宣传2.jpg",
    }
    assert run.units["台源镇"]["photos"] == "2"


def test_nested_archives_are_walked(run: Run):
    """GIVEN a .7z holding a .zip holding a GBK-named .zip and a report WHEN sorted THEN every
    leaf is found under its full archive chain and counted."""
    rows = run.rows_of("nested_archives")
    materials = {r["filename"]: r["category"] for r in rows if r["category"] != "other"}
    assert materials == {
        "石市镇材料.7z/材料.zip/材料/照片.zip/活动照片/禁毒宣传1.jpg": "photo",
        "石市镇材料.7z/材料.zip/材料/照片.zip/活动照片/禁毒宣传2.jpg": "photo",
        "石市镇材料.7z/材料.zip/材料/总结报告.docx": "report",
    }
    unit = run.units["石市镇"]
    assert (unit["photos"], unit["reports"]) == ("2", "1")


def test_sevenzip_members(run: Run):
    rows = run.rows_of("sevenzip")
    materials = {r["filename"]: r["category"] for r in rows if r["category"] != "other"}
    assert materials == {"岘山镇.7z/照片/宣传1.jpg": "photo", "岘山镇.7z/视频/宣传.mp4": "video"}
    unit = run.units["岘山镇"]
    assert (unit["photos"], unit["videos"]) == ("1", "1")


def test_rar_members(run: Run):
    rows = run.rows_of("rar")
    listed = {r["filename"] for r in rows if r["path"]}
    assert {
        "资料.rar/sub/dir1/file1.txt",
        "资料.rar/sub/dir2/file2.txt",
        "资料.rar/sub/with space/long fn.txt",
        "资料.rar/sub/üȵĩöḋè/file.txt",
        "unicode.rar/уииоотивл.txt",
        "unicode.rar/𝐀𝐁𝐁𝐂.txt",
    } <= listed
    assert all(r["unit"] == "库宗桥镇" for r in rows)
    assert all(r["path"].startswith("materials/库宗桥镇/") for r in rows if r["path"])


# --------------------------------------------------------------------------------------
# Attribution
# --------------------------------------------------------------------------------------


def test_subject_evidence_beats_file_name(run: Run):
    row = only(run.rows_of("subject_beats_file_name"))
    assert row["unit"] == "长安乡"
    assert run.units["三湖镇"]["submitted"] == "false"


def test_personal_sender_unit_only_in_file_name(run: Run):
    row = only(run.rows_of("unit_only_in_file_name"))
    assert row["unit"] == "关市镇"
    assert run.message("unit_only_in_file_name")["unit_level"] == "filename"


def test_personal_sender_unit_only_in_document_title(run: Run):
    """GIVEN "新建 Microsoft Word 文档.docx" titled 大安乡…工作总结 and "附件1.jpg" WHEN sorted
    THEN the unit and the category both come from the document's own title."""
    rows = {r["filename"]: r for r in run.rows_of("unit_only_in_document_title")}
    assert rows["新建 Microsoft Word 文档.docx"]["category"] == "report"
    assert rows["附件1.jpg"]["category"] == "photo"
    assert {r["unit"] for r in rows.values()} == {"大安乡"}
    assert run.message("unit_only_in_document_title")["unit_level"] == "title"
    unit = run.units["大安乡"]
    assert (unit["photos"], unit["reports"]) == ("1", "1")


@pytest.mark.parametrize(
    ("key", "unit"), [("alias_full_width", "西渡镇"), ("full_width_forms", "溪江乡")]
)
def test_alias_and_full_width_punctuation(run: Run, key: str, unit: str):
    assert only(run.rows_of(key))["unit"] == unit
    assert run.message(key)["unit_level"] == "subject"


def test_full_width_file_name_is_kept_as_sent(run: Run):
    assert only(run.rows_of("full_width_forms"))["filename"] == "ＩＭＧ＿２０２０.jpg"


def test_jinlan_and_jinxi_are_never_confused(run: Run):
    assert only(run.rows_of("jinlan"))["unit"] == "金兰镇"
    assert only(run.rows_of("jinxi"))["unit"] == "金溪镇"
    assert run.units["金兰镇"]["photos"] == "1"
    assert run.units["金溪镇"]["photos"] == "1"


def test_near_identical_name_is_never_merged(run: Run):
    """GIVEN "金澜镇" (no such unit; one character off 金兰镇) WHEN sorted THEN it is assigned to
    neither 金兰镇 nor 金溪镇: the message waits for staff in the review folder."""
    message = run.message("near_miss_name")
    assert message["status"] == "review"
    assert not isinstance(message["unit"], str) or message["unit"] == ""
    row = only(run.rows_of("near_miss_name"))
    assert row["unit"] == ""
    assert row["path"].startswith("materials/待确认/")


def test_fuzzy_match_only_proposes(run: Run):
    """GIVEN a typo in a unit's name WHEN sorted THEN the unit is proposed, never assigned."""
    message = run.message("typo_in_unit_name")
    assert message["status"] == "review"
    assert not isinstance(message["unit"], str) or message["unit"] == ""
    assert "县退役军人事务局" in message["candidates"].split(";")
    assert only(run.rows_of("typo_in_unit_name"))["unit"] == ""
    assert run.units["县退役军人事务局"]["submitted"] == "false"


def test_no_unit_evidence_goes_to_review(run: Run):
    message = run.message("no_unit_evidence")
    assert message["status"] == "review"
    assert "无法判断报送单位" in message["reason"]
    row = only(run.rows_of("no_unit_evidence"))
    assert row["unit"] == ""
    assert row["path"].startswith("materials/待确认/照片/")
    assert (run.data / row["path"]).is_file()


def test_two_units_in_subject_go_to_review_with_candidates(run: Run):
    message = run.message("two_units_in_subject")
    assert message["status"] == "review"
    assert set(message["candidates"].split(";")) == {"县医保局", "县税务局"}
    assert "多个单位" in message["reason"]
    assert only(run.rows_of("two_units_in_subject"))["path"].startswith("materials/待确认/")
    assert run.units["县医保局"]["submitted"] == "false"
    assert run.units["县税务局"]["submitted"] == "false"


# --------------------------------------------------------------------------------------
# Several mails, duplicates
# --------------------------------------------------------------------------------------


def test_materials_split_over_mails_and_resent_count_once(run: Run):
    """GIVEN a unit's materials over three mails, the third resending two identical files WHEN
    sorted THEN each file counts and is stored once; attachments.csv has one row per message."""
    unit = run.units["板市乡"]
    counts = (unit["photos"], unit["reports"], unit["deeds"], unit["videos"])
    assert counts == ("1", "1", "1", "1")
    assert unit["complete"] == "true" and unit["on_time"] == "true"
    assert unit["first_received"] == "2020-12-20T09:00:00+08:00"
    assert unit["last_received"] == "2020-12-26T09:00:00+08:00"  # all-duplicate mail counts
    photo = [r for r in run.rows if r["unit"] == "板市乡" and r["category"] == "photo"]
    assert len(photo) == 2
    assert {r["message_id"] for r in photo} == {
        run.message_ids["split_1"],
        run.message_ids["split_3_resend"],
    }
    assert len({r["path"] for r in photo}) == 1 and len({r["sha256"] for r in photo}) == 1
    stored = list(tree(run.data / "materials" / "板市乡"))
    assert sorted(stored) == [
        "事迹材料/事迹材料.docx",
        "总结报告/工作总结.docx",
        "照片/活动照片.jpg",
        "视频/宣传视频.mp4",
    ]


def test_rows_of_one_sha_agree_on_unit_and_category(run: Run):
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for row in run.rows:
        if row["sha256"]:
            key = (row["unit"], row["sha256"])
            assert seen.setdefault(key, (row["category"], row["path"])) == (
                row["category"],
                row["path"],
            ), row


def test_identical_file_from_two_units_is_stored_once_per_unit(run: Run):
    """The same video inside 岘山镇's .7z and in 板市乡's mail: each unit keeps its own copy."""
    digest = files.sha256(files.mp4())
    paths = {r["unit"]: r["path"] for r in run.rows if r["sha256"] == digest}
    assert paths == {
        "岘山镇": "materials/岘山镇/视频/宣传.mp4",
        "板市乡": "materials/板市乡/视频/宣传视频.mp4",
    }
    assert all((run.data / p).is_file() for p in paths.values())


# --------------------------------------------------------------------------------------
# Forwarded mail
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "unit", "inner_sender", "filename", "received"),
    [
        (
            "forwarded_rfc822",
            "栏垅乡",
            "lanlongxiang@163.com",
            "栏垅乡活动照片.jpg",
            "2020-12-23T10:00:00+08:00",
        ),
        (
            "forwarded_eml_octet_stream",
            "岣嵝乡",
            "goulouxiang@163.com",
            "活动照片.jpg",
            "2020-12-23T11:00:00+08:00",
        ),
    ],
)
def test_forwarded_message_belongs_to_inner_sender(
    run: Run, key: str, unit: str, inner_sender: str, filename: str, received: str
):
    """GIVEN a unit's mail forwarded as an attachment by a personal address WHEN sorted THEN its
    files belong to the inner sender's unit, with the outer message's id and receive time."""
    row = only([r for r in run.rows_of(key) if r["category"] == "photo"])
    assert row["filename"] == filename
    assert row["unit"] == unit
    assert row["sender"] == inner_sender
    assert row["received_at"] == received  # the outer INTERNALDATE, not the inner Date (19th)
    assert run.units[unit]["submitted"] == "true"
    assert run.units[unit]["first_received"] == received


# --------------------------------------------------------------------------------------
# Cloud links
# --------------------------------------------------------------------------------------


def test_big_attachment_and_baidu_links_are_video_links(run: Run):
    rows = run.rows_of("links")
    assert sorted(r["filename"] for r in rows) == sorted([FTN_URL, BAIDU_URL])
    for row in rows:
        assert row["category"] == "video"
        assert (row["size"], row["sha256"], row["path"]) == ("", "", "")
        assert row["unit"] == "县委宣传部"
    unit = run.units["县委宣传部"]
    assert unit["video_links"] == "2"
    assert "video" not in unit["missing"].split(";")
    codes = dict(
        run.files_of("links")[["filename", "link_code"]].itertuples(index=False, name=None)
    )
    assert codes[BAIDU_URL] == "x7k9"
    notes = run.files_of("links").set_index("filename")["note"]
    assert "过期" in notes[FTN_URL]


def test_link_in_quoted_reply_does_not_count(run: Run):
    assert run.rows_of("link_in_quoted_reply") == []
    unit = run.units["县委政法委"]
    assert unit["submitted"] == "true"
    assert unit["video_links"] == "0"
    assert "video" in unit["missing"].split(";")


def test_link_followed_directly_by_chinese_text_counts_once(run: Run):
    assert [r["filename"] for r in run.rows_of("link_followed_by_chinese")] == [ADJACENT_URL]
    assert run.units["县邮政分公司"]["video_links"] == "1"


# --------------------------------------------------------------------------------------
# Receive time
# --------------------------------------------------------------------------------------


def test_internaldate_decides_and_deadline_is_inclusive(run: Run):
    late, on_time = run.units["县法院"], run.units["县检察院"]
    assert late["first_received"] == "2021-01-01T00:00:00+08:00"
    assert late["on_time"] == "false"
    assert "late" in late["notice_reasons"].split(";")
    assert on_time["first_received"] == "2020-12-31T23:59:59+08:00"
    assert on_time["on_time"] == "true"
    assert "late" not in on_time["notice_reasons"].split(";")
    assert only(run.rows_of("late_by_one_second"))["received_at"] == "2021-01-01T00:00:00+08:00"


def test_late_identical_resend_does_not_make_a_unit_late(run: Run):
    unit = run.units["县检察院"]
    assert unit["on_time"] == "true"
    assert unit["photos"] == "1"
    assert unit["last_received"] == "2021-01-02T09:00:00+08:00"
    assert len(run.rows_of("late_identical_resend")) == 1


def test_seen_mail_without_message_id_is_processed(run: Run):
    row = only([r for r in run.rows if r["unit"] == "樟树乡"])
    assert row["message_id"] == ""
    assert row["filename"] == "樟树乡照片.jpg"
    assert run.units["樟树乡"]["photos"] == "1"


# --------------------------------------------------------------------------------------
# Not submissions
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "units"),
    [
        ("newsletter", ["县民政局"]),
        ("auto_reply", ["县妇联"]),
        ("bounce", ["县人社局"]),
        ("circular", ["县总工会", "县教育局", "县卫健局", "县司法局"]),
    ],
)
def test_non_submissions_are_attributed_to_nobody(run: Run, key: str, units: list[str]):
    message = run.message(key)
    assert message["status"] == "ignored"
    assert message["nature"]
    assert all(r["unit"] == "" for r in run.rows_of(key))
    for unit in units:
        assert run.units[unit]["submitted"] == "false", unit
        assert run.units[unit]["notice_reasons"] == "not_submitted"


# --------------------------------------------------------------------------------------
# Hostile and broken input
# --------------------------------------------------------------------------------------


def test_traversal_zip_writes_nothing_outside_data(run: Run):
    """GIVEN a zip with ../, absolute and backslash members plus a symlink, and a RAR whose
    symlink 'up' -> .. is followed by 'up/pwned.txt' WHEN sorted THEN nothing lands outside the
    data folder (the tree above it is unchanged), no link is created, the safe photo counts."""
    assert run.outside_after == run.outside_before
    assert not any(
        p.name in ("evil.txt", "pwned.txt")
        for p in run.root.rglob("*")
        if not p.is_relative_to(run.data)
    )
    if not run.etc_evil_before:
        assert not Path("/etc/evil.txt").exists()
    for path in (run.data / "materials").rglob("*"):
        assert path.resolve().is_relative_to(run.data.resolve())
        assert not path.is_symlink()
    rows = run.rows_of("zip_traversal")
    safe = only([r for r in rows if r["category"] == "photo"])
    assert safe["filename"] == "照片.zip/活动照片/safe.jpg"
    assert run.units["县财政局"]["photos"] == "1"
    reasons = " ".join(run.files_of("zip_traversal")["review_reason"])
    assert "路径异常" in reasons
    assert "链接或特殊文件" in reasons


def test_zip_bomb_is_capped_and_flagged(run: Run):
    biggest = max(p.stat().st_size for p in run.data.rglob("*") if p.is_file())
    assert biggest <= 256 * MiB
    rows = run.rows_of("zip_bomb")
    assert only([r for r in rows if r["category"] == "photo"])["filename"] == (
        "照片.zip/photo_ok.jpg"
    )
    assert run.units["县文旅广体局"]["photos"] == "1"
    reasons = " ".join(run.files_of("zip_bomb")["review_reason"])
    assert "压缩炸弹" in reasons


def test_encrypted_zip_goes_to_review_and_the_rest_stays(run: Run):
    table = run.files_of("zip_encrypted")
    flagged = table[table["review_reason"].str.contains("加密")]
    assert {name.split("/")[0] for name in flagged["filename"]} == {"加密照片.zip", "加密.rar"}
    unit = run.units["县市场监管局"]
    assert unit["reports"] == "1"
    assert run.message("zip_encrypted")["status"] == "done"


def test_missing_close_boundary_still_yields_the_photo(run: Run):
    row = only(run.rows_of("missing_close_boundary"))
    assert (row["unit"], row["category"], row["filename"]) == (
        "县交通运输局",
        "photo",
        "活动照片.jpg",
    )
    assert row["sha256"] == files.sha256(jpg(171))
    # The message stays with its unit but is flagged for staff: parts may be missing.
    message = run.message("missing_close_boundary")
    assert message["status"] == "done"
    assert "缺少结束边界" in message["reason"]


def test_zero_byte_attachment_is_never_a_material(run: Run):
    rows = run.rows_of("zero_byte")
    assert [r["filename"] for r in rows] == ["活动照片.jpg"]
    assert run.units["县住建局"]["photos"] == "1"
    table = run.files_of("zero_byte")
    empty = table[table["filename"] == "空白.jpg"]
    assert len(empty) == 1 and empty.iloc[0]["kind"] == "skipped"
    assert "0字节" in empty.iloc[0]["review_reason"]


def test_jpeg_named_dat_is_a_photo(run: Run):
    row = only(run.rows_of("jpeg_named_dat"))
    assert (row["filename"], row["category"]) == ("IMG_0001.dat", "photo")
    assert row["path"].startswith("materials/县自然资源局/照片/")
    assert run.units["县自然资源局"]["photos"] == "1"


def test_corrupt_docx_is_kept_and_flagged(run: Run):
    row = only(run.rows_of("corrupt_docx"))
    assert row["unit"] == "县林业局"
    assert row["path"] and (run.data / row["path"]).is_file()
    assert row["sha256"] == files.sha256(files.corrupt_docx())
    reason = only(run.files_of("corrupt_docx")["review_reason"].tolist())
    assert "损坏" in reason or "无法读取" in reason


def test_scanned_pdf_is_flagged(run: Run):
    row = only(run.rows_of("scanned_pdf"))
    assert (row["unit"], row["category"]) == ("县商务局", "report")
    reason = only(run.files_of("scanned_pdf")["review_reason"].tolist())
    assert "扫描件" in reason


def test_doc_and_wps_are_classified_by_title(run: Run):
    rows = {r["filename"]: r["category"] for r in run.rows_of("doc_and_wps")}
    assert rows == {"新建 Microsoft Word 文档.doc": "report", "文档1.wps": "deeds"}
    unit = run.units["县发改局"]
    assert (unit["reports"], unit["deeds"]) == ("1", "1")


def test_heic_is_a_photo(run: Run):
    row = only(run.rows_of("heic"))
    assert (row["filename"], row["category"], row["unit"]) == ("IMG_2041.HEIC", "photo", "县工信局")


def test_inline_images_logo_vs_pasted_photo_vs_unreferenced(run: Run):
    """GIVEN a small cid: logo, a large cid: photo pasted into the body and an inline image that
    nothing references WHEN sorted THEN the logo is no material, the other two are photos."""
    rows = {r["filename"]: r["category"] for r in run.rows_of("inline_images")}
    assert rows == {"pasted.jpg": "photo", "IMG_3001.jpg": "photo"}
    assert run.units["县应急管理局"]["photos"] == "2"
