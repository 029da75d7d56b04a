#!/usr/bin/env python3
"""Generate the blind inbox (``.work/inbox/*.eml``) and ``expected.json``.

Written from /work/shared/SPEC.md and the shared unit registry alone. Every mail is built byte
by byte the way a real client would send it to the office's QQ Mail mailbox; every file it
carries is recorded with its sha256 and the category the SPEC's rules give it, and each unit's
expected units.csv values are derived from those records by the SPEC's rules.

Deterministic: fixed seeds, fixed timestamps; needs Pillow, python-docx, py7zr, numpy, ffmpeg
and LibreOffice (soffice).

    python benchmarks/blind/make_blind.py            # writes .work/inbox and expected.json
    python benchmarks/blind/make_blind.py --out DIR  # inbox elsewhere (expected.json next to it)
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import shutil
import sys
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import blindlib as bl
import numpy as np

HERE = Path(__file__).resolve().parent
REGISTRY = Path("/work/shared/registry/units-hengyang.csv")
RAR_FIXTURE = Path("/work/shared/fixtures/rar/rar5-evil-symlink-traversal.rar")
DEADLINE = "2020-12-31T23:59:59+08:00"
OFFICE = "hyxjdb2020@qq.com"
OFFICE_NAME = "衡阳县禁毒办"
TZ8 = timezone(timedelta(hours=8))
CATEGORIES = ("photo", "report", "deeds", "video")
NOT_MATERIAL = "not a material"
MISSING_NAMES = {"photo": "photos", "report": "report", "deeds": "deeds", "video": "video"}

MIME = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "wps": "application/octet-stream",
    "pdf": "application/pdf",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "avi": "video/avi",
    "wmv": "video/x-ms-wmv",
    "3gp": "video/3gpp",
    "zip": "application/x-zip-compressed",
    "7z": "application/octet-stream",
    "rar": "application/octet-stream",
    "eml": "message/rfc822",
}


def t8(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ8)


def iso8(dt: datetime) -> str:
    return dt.astimezone(TZ8).isoformat()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_seeds = itertools.count(101)


def photo(w: int = 800, h: int = 600) -> bytes:
    return bl.jpeg(next(_seeds), w, h)


def png(w: int = 480, h: int = 360) -> bytes:
    return bl.png_photo(next(_seeds), w, h)


# ---------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------

_doc_n = itertools.count(1)


def report_paras(title: str, who: str = "我单位") -> list[str]:
    n = next(_doc_n)
    return [
        title,
        f"今年以来，{who}认真落实县禁毒委关于开展“衡阳群众”禁毒志愿服务活动的部署要求，"
        "组织志愿者深入村（社区）、学校、企业开展禁毒宣传。",
        "一、主要做法",
        "（一）加强组织领导。成立活动领导小组，明确专人负责，将禁毒志愿服务纳入年度重点工作。",
        f"（二）广泛宣传发动。全年累计开展宣传活动{12 + n % 17}场次，发放宣传资料{800 + n * 37}份，"
        f"参与志愿者{40 + n % 60}人次。",
        "（三）创新活动形式。结合“6·26”国际禁毒日、“12·1”世界艾滋病日等节点，开展禁毒知识竞赛和文艺演出。",
        "二、存在的问题",
        "部分群众参与度不高，志愿者队伍专业化程度有待提升。",
        "三、下步打算",
        "继续壮大志愿者队伍，推动禁毒志愿服务常态化、制度化。",
    ]


def deeds_paras(title: str, person: str) -> list[str]:
    n = next(_doc_n)
    return [
        title,
        f"{person}，{'男' if n % 2 else '女'}，{35 + n % 20}岁，中共党员，禁毒志愿者。",
        f"{person}同志长期扎根基层，利用业余时间走村入户开展禁毒宣传，"
        f"累计服务时长{200 + n * 7}小时。",
        f"在“衡阳群众”禁毒志愿服务活动中，主动请缨，组织宣讲{n}场，"
        f"帮助{3 + n % 5}名社区戒毒人员重新就业。",
        "其事迹多次被媒体报道，在群众中产生了良好反响。",
    ]


def report_docx(title: str, who: str = "我单位", meta: str = "", lead_blank: int = 0) -> bytes:
    return bl.make_docx(report_paras(title, who), meta_title=meta, lead_blank=lead_blank)


def deeds_docx(title: str, person: str, picture: bool = True, meta: str = "") -> bytes:
    pic = bl.jpeg(next(_seeds), 480, 360) if picture else None
    return bl.make_docx(deeds_paras(title, person), meta_title=meta, picture=pic)


def report_pdf(title: str, who: str = "我单位") -> bytes:
    return bl.make_pdf(report_paras(title, who), meta_title="Word 模板")


def deeds_pdf(title: str, person: str) -> bytes:
    return bl.make_pdf(deeds_paras(title, person), images=[bl.jpeg(next(_seeds), 400, 300)])


_video_seed = itertools.count(1)


def video(kind: str = "mp4", **kw) -> bytes:
    return bl.make_video(kind, next(_video_seed), **kw)


def rand_token(rng: np.random.Generator, n: int, alphabet: str) -> str:
    return "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), n))


ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
HEX = "0123456789abcdef"


# ---------------------------------------------------------------------------------------------
# Mail builder that records what it puts in
# ---------------------------------------------------------------------------------------------


@dataclass
class Mem:
    """An archive member. ``nested``: (kind, members, encoding) of an archive inside."""

    path: str
    data: bytes | None = None
    category: str | None = "photo"
    title: str | None = None
    nested: tuple | None = None
    name_bytes: bytes | None = None
    zeros: int = 0
    is_dir: bool = False


@dataclass
class Mail:
    key: str
    unit: str | None
    kind: str  # submission | review | not_submission
    classes: list[str]
    received: datetime
    sender: str
    name: str
    subject: str
    subject_style: str = "ew:utf-8"
    name_style: str = "ew:utf-8"
    date: datetime | None = None
    msgid: bool = True
    mailer: str = "Coremail Webmail Server Version XT5.0.13"
    hop_time: datetime | None = None
    received_tz: timezone = TZ8
    to: str = OFFICE
    extra_headers: list[tuple[str, bytes]] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    _bcount: int = 0

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(zlib.crc32(self.key.encode()))
        domain = self.sender.rsplit("@", 1)[1]
        if not self.msgid:
            self.message_id = ""
        elif domain == "qq.com":
            self.message_id = f"tencent_{rand_token(self.rng, 32, HEX).upper()}@qq.com"
        elif domain == "icloud.com":
            u = rand_token(self.rng, 32, HEX).upper()
            self.message_id = f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}@icloud.com"
        else:
            self.message_id = (
                f"{rand_token(self.rng, 8, HEX)}.{int(self.rng.integers(1000, 99999))}."
                f"{rand_token(self.rng, 13, HEX)}@{domain}"
            )

    # -- records ----------------------------------------------------------------------------

    def cat(self, category: str | None) -> str | None:
        """Files of mail that is not a submission are not scored for category."""
        return None if self.kind == "not_submission" and category != NOT_MATERIAL else category

    def rec(self, filename, data, category, *, title=None, container=False, sender=None) -> None:
        entry = {
            "filename": filename,
            "sha256": sha(data) if data is not None else None,
            "size": len(data) if data is not None else None,
            "category": self.cat(category),
            "sender": sender or self.sender,
            "container": container,
        }
        if title:
            entry["title"] = title
        self.files.append(entry)

    def boundary(self) -> str:
        self._bcount += 1
        return f"----=_Part_{self.key}_{self._bcount}_{rand_token(self.rng, 10, HEX)}"

    # -- parts ------------------------------------------------------------------------------

    def att(
        self,
        filename: str,
        data: bytes,
        category: str | None,
        *,
        style: str = "ew:utf-8",
        mime: str | None = None,
        disposition: str = "attachment",
        cid: str | None = None,
        title: str | None = None,
    ) -> bl.Leaf:
        ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        self.rec(filename, data, category, title=title)
        return bl.file_part(
            filename,
            data,
            mime or MIME.get(ext, "application/octet-stream"),
            style,
            disposition,
            cid,
        )

    def build_archive(self, kind: str, members: list[Mem], encoding: str, password, prefix: str):
        """(bytes, records) of an archive; records carry paths prefixed with ``prefix``."""
        records, entries, files7 = [], [], []
        for m in members:
            shown = f"{prefix}/{m.path}"
            if m.is_dir:
                entries.append(bl.ZEntry(m.path, None, encoding))
                continue
            data = m.data
            if m.nested is not None:
                nkind, nmembers, nenc = m.nested
                data, nrec = self.build_archive(nkind, nmembers, nenc, None, shown)
                records.append((shown, data, NOT_MATERIAL, None, True))
                records.extend(nrec)
            elif m.zeros:
                records.append((shown, None, NOT_MATERIAL, None, False))
            elif m.name_bytes is not None:
                records.append((shown, data, NOT_MATERIAL, None, False))
            else:
                records.append((shown, data, m.category, m.title, False))
            if kind == "zip":
                entries.append(
                    bl.ZEntry(m.path, data, encoding, name_bytes=m.name_bytes, zeros=m.zeros)
                )
            else:
                files7.append((m.path, data))
        if password is not None:  # nothing inside can be read
            records = [(r[0], None, NOT_MATERIAL, None, r[4]) for r in records]
        if kind == "zip":
            blob = bl.make_zip(entries, seed=zlib.crc32(prefix.encode()), password=(password))
        else:
            blob = bl.make_7z(files7)
        return blob, records

    def arch(
        self,
        filename: str,
        members: list[Mem],
        *,
        encoding: str = "utf8-flag",
        password: bytes | None = None,
        style: str = "ew:utf-8",
    ) -> bl.Leaf:
        kind = "7z" if filename.endswith(".7z") else "zip"
        blob, records = self.build_archive(kind, members, encoding, password, filename)
        self.rec(filename, blob, NOT_MATERIAL, container=True)
        for shown, data, category, title, container in records:
            self.rec(shown, data, category, title=title, container=container)
        return bl.file_part(filename, blob, MIME[kind], style)

    def link(self, url: str, counted: bool = True, code: str = "") -> str:
        self.links.append({"url": url, "counted": counted and self.unit is not None, "code": code})
        return url

    def body(
        self,
        text: str,
        html: str | None = None,
        charset: str = "utf-8",
        related: list[bl.Leaf] | None = None,
    ):
        if html is None:
            html = "<div>" + text.replace("\n", "<br>") + "</div>"
        html = f"<html><head><meta charset={charset}></head><body>{html}</body></html>"
        html_part = bl.text_part(html, "html", charset)
        if related:
            html_part = bl.Multi("related", self.boundary(), [html_part, *related])
        return bl.Multi(
            "alternative",
            self.boundary(),
            [bl.text_part(text, "plain", charset), html_part],
            preamble=b"",
        )

    def mixed(self, *parts, close: bool = True) -> bl.Multi:
        return bl.Multi("mixed", self.boundary(), list(parts), close=close)

    # -- whole message ----------------------------------------------------------------------

    def headers(self, inner: bool = False) -> list[tuple[str, bytes]]:
        hs: list[tuple[str, bytes]] = []
        if not inner:
            top = self.received.astimezone(self.received_tz)
            hop = self.hop_time or (self.received - timedelta(seconds=2))
            domain = self.sender.rsplit("@", 1)[1]
            mx = {
                "qq.com": "smtpbg%d.qq.com",
                "163.com": "m%d-163.mail.163.com",
                "126.com": "m%d-126.mail.126.com",
                "icloud.com": "ms%d.mail.icloud.com",
            }.get(domain, "mail%d." + domain)
            mx = mx % int(self.rng.integers(11, 99))
            ip = ".".join(str(int(x)) for x in self.rng.integers(1, 254, 4))
            sid = rand_token(self.rng, 16, HEX)
            hs.append(
                (
                    "Received",
                    bl.received_header(
                        top,
                        mx,
                        ip,
                        f"newxmesmtplogicsvrsza{int(self.rng.integers(1, 30))}.qq.com",
                        f"{sid}",
                    ),
                )
            )
            hs.append(
                (
                    "Received",
                    (
                        "from PC-20201018 "
                        f"(unknown [192.168.1.{int(self.rng.integers(2, 250))}])\r\n\t"
                        f"by {mx} (Coremail) with SMTP id {rand_token(self.rng, 22, ALNUM)};\r\n\t"
                        f"{format_datetime(hop.astimezone(TZ8))}"
                    ).encode(),
                )
            )
        date = self.date or (self.received - timedelta(seconds=int(self.rng.integers(3, 40))))
        hs.append(("Date", format_datetime(date.astimezone(TZ8)).encode()))
        if self.name:
            hs.append(
                (
                    "From",
                    b'"'
                    + bl.header_text(self.name, self.name_style)
                    + b'" <'
                    + self.sender.encode()
                    + b">",
                )
            )
        else:
            hs.append(("From", self.sender.encode()))
        hs.append(("To", self.to.encode()))
        hs.append(("Subject", bl.header_text(self.subject, self.subject_style)))
        if self.message_id:
            hs.append(("Message-ID", f"<{self.message_id}>".encode()))
        hs.append(("X-Mailer", self.mailer.encode()))
        hs.append(("MIME-Version", b"1.0"))
        hs.extend(self.extra_headers)
        return hs

    def build(self, root, inner: bool = False) -> bytes:
        return bl.render_headers(self.headers(inner)) + bl.render(root)

    def forward(self, filename: str, inner: Mail, inner_root, style: str = "ew:utf-8"):
        """Attach ``inner`` as message/rfc822; its files are recorded with the inner sender."""
        data = inner.build(inner_root, inner=True)
        self.rec(filename, data, NOT_MATERIAL, container=True)
        for f in inner.files:
            self.files.append({**f, "category": self.cat(f["category"])})
        for lk in inner.links:
            self.links.append({**lk, "counted": lk["counted"] and self.unit is not None})
        name_p, file_p = bl.name_params(filename, style)
        return bl.Leaf(
            [
                ("Content-Type", b"message/rfc822;\r\n\t" + name_p),
                ("Content-Disposition", b"attachment;\r\n\t" + file_p),
            ],
            data,
        )

    def expected(self) -> dict:
        return {
            "file": f"{self.key}.eml",
            "message_id": self.message_id,
            "received_at": iso8(self.received),
            "date_header": iso8(self.date) if self.date else None,
            "sender": self.sender,
            "subject": self.subject,
            "unit": self.unit,
            "kind": self.kind,
            "classes": self.classes,
            "files": self.files,
            "links": self.links,
        }


QQ = "QQMail 2.x"
FOX = "Foxmail 7.2.19.158[cn]"
APPLE = "Apple Mail (2.3654.20.0.2.21)"


def ftn_qq(m: Mail) -> str:
    k = rand_token(m.rng, 48, HEX)
    return f"https://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k={k}&code={k[:8]}"


def ftn_163(m: Mail) -> str:
    return (
        "https://mail.163.com/large-attachment-download/index.html?p=X-NETEASE-HUGE-ATTACHMENT."
        f"{rand_token(m.rng, 40, ALNUM)}&file={rand_token(m.rng, 24, ALNUM)}"
    )


def baidu(m: Mail) -> tuple[str, str]:
    return f"https://pan.baidu.com/s/1{rand_token(m.rng, 22, ALNUM)}", rand_token(m.rng, 4, ALNUM)


def amp(url: str) -> str:
    return url.replace("&", "&amp;")


SIGN_163 = "\n\n--\n发自网易邮箱大师"
SIGN_QQ = ""


# ---------------------------------------------------------------------------------------------
# The mails
# ---------------------------------------------------------------------------------------------


def mails() -> list[tuple[Mail, object]]:
    out: list[tuple[Mail, object]] = []

    def add(m: Mail, root) -> None:
        out.append((m, root))

    # m01: registered sender, everything in one mail, signature logo referenced by cid
    m = Mail(
        "m01",
        "西渡镇",
        "submission",
        [
            "registered-sender",
            "complete",
            "signature-logo",
            "zip-utf8-flag",
            "embedded-picture-in-docx",
        ],
        t8("2020-12-28 10:12:20"),
        "hyxxidujdb@163.com",
        "西渡镇禁毒办",
        "西渡镇“衡阳群众”禁毒志愿服务活动材料报送",
    )
    logo = m.att("logo.png", bl.logo_png(1), NOT_MATERIAL, disposition="inline", cid="logo01")
    t = (
        "县禁毒办：\n    西渡镇“衡阳群众”禁毒志愿服务活动材料见附件，请审阅。\n"
        "衡阳县西渡镇人民政府 综治办"
    )
    html = t.replace("\n", "<br>") + '<br><img src="cid:logo01" width="160">'
    rep_title = "西渡镇2020年“衡阳群众”禁毒志愿服务工作总结"
    add(
        m,
        m.mixed(
            m.body(t, html, related=[logo]),
            m.arch(
                "照片.zip",
                [
                    Mem("活动/", is_dir=True),
                    Mem("活动/1.jpg", photo()),
                    Mem("活动/2.jpg", photo()),
                    Mem("活动/3.jpg", photo()),
                ],
            ),
            m.att(
                "西渡镇禁毒志愿服务工作总结.docx",
                report_docx(rep_title, "我镇"),
                "report",
                title=rep_title,
            ),
            m.att(
                "西渡镇禁毒志愿者先进事迹材料.docx",
                deeds_docx("西渡镇禁毒志愿者刘建国先进事迹", "刘建国"),
                "deeds",
            ),
            m.att("宣传视频.mp4", video("mp4"), "video"),
        ),
    )

    # m02-m04: one unit, split over three mails; 163 large-attachment link for the video
    m = Mail(
        "m02",
        "集兵镇",
        "submission",
        ["split-submission", "gbk-subject"],
        t8("2020-12-20 09:05:11"),
        "jibingzjdb@163.com",
        "集兵镇",
        "集兵镇志愿服务活动照片（一）",
        subject_style="ew:gbk",
        name_style="ew:gbk",
    )
    add(
        m,
        m.mixed(
            m.body("禁毒办：先发活动照片，其余材料随后报送。" + SIGN_163),
            m.att("IMG_20201218_093012.jpg", photo(), "photo", style="ascii"),
            m.att("IMG_20201218_093544.jpg", photo(), "photo", style="ascii"),
            m.att("IMG_20201218_101210.jpg", photo(), "photo", style="ascii"),
        ),
    )
    m = Mail(
        "m03",
        "集兵镇",
        "submission",
        ["split-submission", "doc-binary", "pdf-text"],
        t8("2020-12-24 16:40:02"),
        "jibingzjdb@163.com",
        "集兵镇",
        "集兵镇禁毒志愿服务总结及事迹材料",
    )
    title = "集兵镇2020年禁毒志愿服务工作总结"
    add(
        m,
        m.mixed(
            m.body("禁毒办：总结和事迹材料见附件。" + SIGN_163),
            m.att(
                "集兵镇2020年禁毒志愿服务工作总结.doc",
                bl.docx_to_doc(report_docx(title, "我镇")),
                "report",
                title=title,
            ),
            m.att(
                "集兵镇禁毒志愿者先进事迹.pdf",
                deeds_pdf("集兵镇禁毒志愿者王秀英先进事迹", "王秀英"),
                "deeds",
            ),
        ),
    )
    m = Mail(
        "m04",
        "集兵镇",
        "submission",
        ["split-submission", "large-attachment-link-163", "link-in-text-and-html"],
        t8("2020-12-29 11:20:45"),
        "jibingzjdb@163.com",
        "集兵镇",
        "集兵镇禁毒宣传视频（超大附件）",
    )
    url = m.link(ftn_163(m))
    t = (
        "禁毒办：视频文件较大，用超大附件发送。\n\n从网易163邮箱发来的超大附件\n"
        "集兵镇禁毒宣传视频.mp4 "
        f"(356.12M, 2021年1月13日 11:20 到期)\n下载：{url}" + SIGN_163
    )
    html = (
        f"<div>禁毒办：视频文件较大，用超大附件发送。</div><div>从网易163邮箱发来的超大附件</div>"
        f'<div><a href="{amp(url)}">集兵镇禁毒宣传视频.mp4</a>'
        " (356.12M, 2021年1月13日 11:20 到期)</div>"
    )
    add(m, m.body(t, html))

    # m05-m06: the same mail sent twice
    photos = [photo(), photo()]
    rep = report_docx("杉桥镇禁毒志愿服务工作总结", "我镇")
    for key, when in (("m05", "2020-12-26 15:02:10"), ("m06", "2020-12-26 15:09:44")):
        m = Mail(
            key,
            "杉桥镇",
            "submission",
            ["duplicate-mail"],
            t8(when),
            "shanqiaozhen@126.com",
            "杉桥镇政府",
            "杉桥镇禁毒志愿服务材料",
        )
        add(
            m,
            m.mixed(
                m.body("您好，杉桥镇禁毒志愿服务材料见附件。"),
                m.att("杉桥镇禁毒志愿活动照片1.jpg", photos[0], "photo"),
                m.att("杉桥镇禁毒志愿活动照片2.jpg", photos[1], "photo"),
                m.att("杉桥镇禁毒志愿服务工作总结.docx", rep, "report"),
            ),
        )

    # m07: personal QQ, unit only in the subject (gb18030 words split mid-character),
    # generic names in RFC 2231 continuations split mid-character
    m = Mail(
        "m07",
        "井头镇",
        "submission",
        [
            "personal-qq",
            "unit-only-in-subject",
            "rfc2047-split-mid-char",
            "rfc2231-continuations",
            "generic-names",
            "title-only-category",
        ],
        t8("2020-12-27 20:31:05"),
        "3318827465@qq.com",
        "刘晓芳",
        "井头镇“衡阳群众”禁毒志愿服务活动资料",
        subject_style="ew:gb18030:5",
        name_style="ew:gb18030",
        mailer=QQ,
    )
    s = "2231:gb18030:7"
    title = "2020年“衡阳群众”禁毒志愿服务活动工作总结"
    add(
        m,
        m.mixed(
            m.body("请查收", charset="gb18030"),
            m.att("附件1.jpg", photo(), "photo", style=s),
            m.att("附件2.jpg", photo(), "photo", style=s),
            m.att(
                "新建 Microsoft Word 文档.docx",
                report_docx(title, "我镇"),
                "report",
                style=s,
                title=title,
            ),
            m.att("VID_20201225_153012.mp4", video("mp4"), "video", style=s),
        ),
    )

    # m08: personal 163, unit only in file names; zip with GBK names, no UTF-8 flag
    m = Mail(
        "m08",
        "演陂镇",
        "submission",
        ["personal-163", "unit-only-in-file-names", "zip-gbk-no-flag"],
        t8("2020-12-30 09:45:00"),
        "yangli_1990@163.com",
        "杨丽",
        "禁毒志愿服务材料",
    )
    d = "演陂镇禁毒志愿服务活动照片"
    add(
        m,
        m.mixed(
            m.body("禁毒办：材料见附件，请查收。" + SIGN_163),
            m.arch(
                "演陂镇禁毒志愿服务活动照片.zip",
                [
                    Mem(f"{d}/", is_dir=True),
                    Mem(f"{d}/IMG_001.jpg", photo()),
                    Mem(f"{d}/IMG_002.jpg", photo()),
                    Mem(f"{d}/IMG_003.jpg", photo()),
                ],
                encoding="gbk",
            ),
            m.att(
                "演陂镇2020年禁毒工作小结.docx", report_docx("2020年禁毒工作小结", "我镇"), "report"
            ),
            m.att("演陂镇先进事迹.docx", deeds_docx("禁毒志愿者先进事迹", "陈小红"), "deeds"),
        ),
    )

    # m09: personal QQ, QQ Mail 超大附件 in text and HTML (one URL)
    m = Mail(
        "m09",
        "金兰镇",
        "submission",
        ["personal-qq", "qq-large-attachment-link", "link-in-text-and-html", "near-identical-name"],
        t8("2020-12-23 11:02:33"),
        "1054872236@qq.com",
        "小周",
        "金兰镇禁毒志愿服务活动材料",
        subject_style="ew:gb18030",
        name_style="ew:gb18030",
        mailer=QQ,
    )
    url = m.link(ftn_qq(m))
    t = (
        "禁毒办：照片、总结、事迹材料见附件，视频用超大附件发送。\n\n从QQ邮箱发来的超大附件\n\n"
        f"金兰镇禁毒宣传视频.mp4 (186.52M, 2021年01月22日 11:02 到期)进入下载页面：{url}"
    )
    html = (
        "<div>禁毒办：照片、总结、事迹材料见附件，视频用超大附件发送。</div>"
        '<div style="padding:6px">从QQ邮箱发来的超大附件</div>'
        f'<div><a href="{amp(url)}" target="_blank">金兰镇禁毒宣传视频.mp4</a>'
        " (186.52M, 2021年01月22日 11:02 到期)</div>"
    )
    add(
        m,
        m.mixed(
            m.body(t, html, charset="gb18030"),
            m.att("微信图片_20201222103015.jpg", photo(), "photo", style="ew:gb18030"),
            m.att("微信图片_20201222103022.jpg", photo(), "photo", style="ew:gb18030"),
            m.att(
                "金兰镇禁毒志愿服务活动总结.docx",
                report_docx("金兰镇禁毒志愿服务活动总结", "我镇"),
                "report",
                style="ew:gb18030",
            ),
            m.att(
                "金兰镇禁毒志愿者事迹材料.docx",
                deeds_docx("金兰镇禁毒志愿者事迹材料", "周志强"),
                "deeds",
                style="ew:gb18030",
            ),
        ),
    )

    # m10: the near-identical unit, registered
    m = Mail(
        "m10",
        "金溪镇",
        "submission",
        ["registered-sender", "near-identical-name", "full-width-punctuation"],
        t8("2020-12-25 14:10:00"),
        "jinxizhenjdb@163.com",
        "金溪镇",
        "金溪镇报送材料",
    )
    add(
        m,
        m.mixed(
            m.body("材料见附件。" + SIGN_163),
            m.att("金溪镇活动照片（1）.jpg", photo(), "photo"),
            m.att("金溪镇活动照片（2）.jpg", photo(), "photo"),
            m.att(
                "金溪镇禁毒志愿服务工作汇报.docx",
                report_docx("金溪镇禁毒志愿服务工作汇报", "我镇"),
                "report",
            ),
        ),
    )

    # m11: unit only in the document's own title; the metadata title is a stale template
    m = Mail(
        "m11",
        "洪市镇",
        "submission",
        ["personal-163", "unit-only-in-doc-title", "stale-metadata-title", "generic-names"],
        t8("2020-12-29 17:22:08"),
        "hs_wangjun@163.com",
        "王军",
        "材料",
    )
    title = "洪市镇2020年“衡阳群众”禁毒志愿服务活动工作总结"
    add(
        m,
        m.mixed(
            m.body("请查收" + SIGN_163),
            m.att(
                "新建 Microsoft Word 文档.docx",
                report_docx(title, "我镇", meta="集兵镇禁毒工作总结", lead_blank=2),
                "report",
                title=title,
            ),
            m.att("附件1.jpg", photo(), "photo"),
            m.att("附件2.jpg", photo(), "photo"),
        ),
    )

    # m12: Apple Mail from the unit's second registered address: unreferenced inline photos
    m = Mail(
        "m12",
        "曲兰镇",
        "submission",
        ["registered-second-address", "apple-inline-photos", "rfc2231-utf8", "q-encoded-subject"],
        t8("2020-12-21 08:15:37"),
        "qlzzhb@icloud.com",
        "曲兰镇综治办",
        "曲兰镇禁毒志愿服务材料",
        subject_style="ewq:utf-8",
        mailer=APPLE,
    )
    add(
        m,
        m.mixed(
            bl.text_part("曲兰镇禁毒志愿服务活动照片及总结，请查收。\n"),
            m.att(
                "IMG_4021.jpeg", photo(1008, 756), "photo", disposition="inline", style="2231:utf-8"
            ),
            m.att(
                "IMG_4022.jpeg", photo(1008, 756), "photo", disposition="inline", style="2231:utf-8"
            ),
            bl.text_part("\n\n发自我的iPhone\n"),
            m.att(
                "曲兰镇禁毒志愿服务工作总结.docx",
                report_docx("曲兰镇禁毒志愿服务工作总结", "我镇"),
                "report",
                style="2231:utf-8",
            ),
        ),
    )

    # m13: subject names one unit, a file name names two: the subject wins
    m = Mail(
        "m13",
        "界牌镇",
        "submission",
        ["personal-163", "subject-beats-file-names", "pdf-text"],
        t8("2020-12-22 10:05:19"),
        "jp_lixia@163.com",
        "李霞",
        "界牌镇禁毒志愿服务活动材料",
    )
    add(
        m,
        m.mixed(
            m.body("禁毒办：材料见附件。" + SIGN_163),
            m.att("界牌镇与渣江镇联合禁毒宣传.jpg", photo(), "photo"),
            m.att("界牌镇禁毒宣传进校园.jpg", photo(), "photo"),
            m.att(
                "界牌镇禁毒志愿服务工作汇报.pdf",
                report_pdf("界牌镇禁毒志愿服务工作汇报", "我镇"),
                "report",
            ),
        ),
    )

    # m14: everything late, with a Date header that claims it was on time
    m = Mail(
        "m14",
        "渣江镇",
        "submission",
        ["registered-sender", "late", "lying-date-header", "mov"],
        t8("2021-01-02 09:15:40"),
        "zhajiangjdb@163.com",
        "渣江镇",
        "渣江镇禁毒志愿服务材料",
        date=t8("2020-12-31 18:03:12"),
    )
    add(
        m,
        m.mixed(
            m.body("禁毒办：材料见附件。" + SIGN_163),
            m.arch("渣江镇照片.zip", [Mem(f"{i}.jpg", photo()) for i in range(1, 5)]),
            m.att(
                "渣江镇禁毒志愿服务工作总结.docx",
                report_docx("渣江镇禁毒志愿服务工作总结", "我镇"),
                "report",
            ),
            m.att("渣江镇先进事迹材料.docx", deeds_docx("渣江镇先进事迹材料", "李卫东"), "deeds"),
            m.att("渣江镇禁毒志愿服务.mov", video("mov"), "video"),
        ),
    )

    # m15: received at the last second, the Received header written in UTC
    m = Mail(
        "m15",
        "三湖镇",
        "submission",
        ["deadline-last-second", "received-header-utc"],
        t8("2020-12-31 23:59:59"),
        "sanhuzhen@163.com",
        "三湖镇",
        "三湖镇禁毒志愿服务材料",
        received_tz=UTC,
    )
    add(
        m,
        m.mixed(
            m.body("材料见附件。" + SIGN_163),
            m.att("三湖镇活动照片1.jpg", photo(), "photo"),
            m.att("三湖镇活动照片2.jpg", photo(), "photo"),
            m.att(
                "三湖镇禁毒志愿服务工作总结.docx",
                report_docx("三湖镇禁毒志愿服务工作总结", "我镇"),
                "report",
            ),
        ),
    )

    # m16: unit only in an archive's folder names
    m = Mail(
        "m16",
        "台源镇",
        "submission",
        ["personal-qq", "unit-only-in-archive-folder", "zip-gbk-no-flag", "generic-names"],
        t8("2020-12-30 15:20:00"),
        "2845539012@qq.com",
        "阿华",
        "报送材料",
        subject_style="ew:gb18030",
        name_style="ew:gb18030",
        mailer=QQ,
    )
    d = "台源镇禁毒志愿服务材料"
    add(
        m,
        m.mixed(
            m.body("请查收", charset="gb18030"),
            m.arch(
                "材料.zip",
                [
                    Mem(f"{d}/", is_dir=True),
                    Mem(f"{d}/照片/", is_dir=True),
                    Mem(f"{d}/照片/1.jpg", photo()),
                    Mem(f"{d}/照片/2.jpg", photo()),
                    Mem(
                        f"{d}/工作总结.docx",
                        report_docx("禁毒志愿服务活动工作总结", "我镇"),
                        "report",
                    ),
                    Mem(
                        f"{d}/志愿者事迹.docx", deeds_docx("禁毒志愿者事迹材料", "黄建军"), "deeds"
                    ),
                ],
                encoding="gbk",
                style="ew:gb18030",
            ),
        ),
    )

    # m17: received at 00:00:00 on 1 January (late); the lower hop and Date say 31 December
    m = Mail(
        "m17",
        "石市镇",
        "submission",
        ["deadline-first-late-second", "lying-date-header", "lower-received-hop-before-deadline"],
        t8("2021-01-01 00:00:00"),
        "shishizhenzf@163.com",
        "石市镇",
        "石市镇禁毒志愿服务材料",
        date=t8("2020-12-31 23:58:40"),
        hop_time=t8("2020-12-31 23:59:58"),
    )
    add(
        m,
        m.mixed(
            m.body("材料见附件。" + SIGN_163),
            m.att("石市镇活动照片1.jpg", photo(), "photo"),
            m.att("石市镇活动照片2.jpg", photo(), "photo"),
            m.att(
                "石市镇禁毒志愿服务工作总结.docx",
                report_docx("石市镇禁毒志愿服务工作总结", "我镇"),
                "report",
            ),
        ),
    )

    # m18-m19: split, and the second half (deeds, video) arrives late
    m = Mail(
        "m18",
        "岘山镇",
        "submission",
        ["split-submission"],
        t8("2020-12-30 16:45:12"),
        "xianshanzhen@163.com",
        "岘山镇",
        "岘山镇禁毒志愿服务材料（照片和总结）",
    )
    add(
        m,
        m.mixed(
            m.body("事迹材料和视频正在整理，随后报送。" + SIGN_163),
            m.att("岘山镇1.jpg", photo(), "photo"),
            m.att("岘山镇2.jpg", photo(), "photo"),
            m.att("岘山镇3.jpg", photo(), "photo"),
            m.att(
                "岘山镇禁毒志愿服务工作总结.docx",
                report_docx("岘山镇禁毒志愿服务工作总结", "我镇"),
                "report",
            ),
        ),
    )
    m = Mail(
        "m19",
        "岘山镇",
        "submission",
        ["split-submission", "late-completion"],
        t8("2021-01-03 10:01:15"),
        "xianshanzhen@163.com",
        "岘山镇",
        "岘山镇禁毒志愿服务材料（事迹和视频）",
    )
    add(
        m,
        m.mixed(
            m.body("补报事迹材料和视频。" + SIGN_163),
            m.att(
                "岘山镇禁毒志愿者先进事迹.docx",
                deeds_docx("岘山镇禁毒志愿者先进事迹", "谭海燕"),
                "deeds",
            ),
            m.att("岘山镇禁毒宣传视频.mp4", video("mp4"), "video"),
        ),
    )

    # m20-m21: complete on time, then late extra photos (one new, one already sent)
    m = Mail(
        "m20",
        "库宗桥镇",
        "submission",
        ["registered-gov-address", "complete"],
        t8("2020-12-22 09:00:03"),
        "kzqzjdb@hyx.gov.cn",
        "库宗桥镇",
        "库宗桥镇禁毒志愿服务材料",
        mailer=FOX,
    )
    kz = [photo(), photo()]
    add(
        m,
        m.mixed(
            m.body("材料见附件。"),
            m.arch("库宗桥镇活动照片.zip", [Mem("DSC01.jpg", kz[0]), Mem("DSC02.jpg", kz[1])]),
            m.att(
                "库宗桥镇禁毒志愿服务工作总结.pdf",
                report_pdf("库宗桥镇禁毒志愿服务工作总结", "我镇"),
                "report",
            ),
            m.att(
                "库宗桥镇禁毒志愿者先进事迹.docx",
                deeds_docx("库宗桥镇禁毒志愿者先进事迹", "彭国华"),
                "deeds",
            ),
            m.att("库宗桥镇禁毒宣传.mp4", video("mp4"), "video"),
        ),
    )
    m = Mail(
        "m21",
        "库宗桥镇",
        "submission",
        ["late-extra-files", "duplicate-file"],
        t8("2021-01-04 14:30:00"),
        "kzqzjdb@hyx.gov.cn",
        "库宗桥镇",
        "库宗桥镇补充照片",
        mailer=FOX,
    )
    add(
        m,
        m.mixed(
            m.body("补充两张照片。"),
            m.att("DSC02.jpg", kz[1], "photo"),
            m.att("DSC05.jpg", photo(), "photo"),
        ),
    )

    # m22-m23: complete on time, then the identical mail again after the deadline
    gs = {
        "p1": photo(),
        "p2": photo(),
        "rep": report_docx("关市镇禁毒志愿服务工作总结", "我镇"),
        "deeds": deeds_docx("关市镇禁毒志愿者先进事迹", "曾丽萍"),
        "vid": video("avi"),
    }
    for key, when, subj, classes in (
        ("m22", "2020-12-23 10:10:10", "关市镇禁毒志愿服务材料", ["complete", "avi"]),
        (
            "m23",
            "2021-01-05 08:00:00",
            "关市镇禁毒志愿服务材料（重发）",
            ["late-identical-resubmission"],
        ),
    ):
        m = Mail(
            key, "关市镇", "submission", classes, t8(when), "guanshizhen@163.com", "关市镇", subj
        )
        add(
            m,
            m.mixed(
                m.body("材料见附件。" + SIGN_163),
                m.att("关市镇活动照片1.jpg", gs["p1"], "photo"),
                m.att("关市镇活动照片2.jpg", gs["p2"], "photo"),
                m.att("关市镇禁毒志愿服务工作总结.docx", gs["rep"], "report"),
                m.att("关市镇禁毒志愿者先进事迹.docx", gs["deeds"], "deeds"),
                m.att("关市镇禁毒宣传.avi", gs["vid"], "video"),
            ),
        )

    # m24: Date header in the future (a wrong PC clock), received on time
    m = Mail(
        "m24",
        "大安乡",
        "submission",
        ["lying-date-header-future", "complete"],
        t8("2020-12-29 19:40:00"),
        "daanxiang@163.com",
        "大安乡",
        "大安乡禁毒志愿服务材料",
        date=t8("2021-01-02 07:12:00"),
    )
    add(
        m,
        m.mixed(
            m.body("材料见附件。" + SIGN_163),
            m.att("大安乡活动照片1.jpg", photo(), "photo"),
            m.att("大安乡活动照片2.jpg", photo(), "photo"),
            m.att(
                "大安乡禁毒志愿服务工作总结.docx",
                report_docx("大安乡禁毒志愿服务工作总结", "我乡"),
                "report",
            ),
            m.att(
                "大安乡禁毒志愿者先进事迹.docx",
                deeds_docx("大安乡禁毒志愿者先进事迹", "罗春梅"),
                "deeds",
            ),
            m.att("大安乡禁毒宣传.avi", video("avi"), "video"),
        ),
    )

    # m25: forwarded as an attachment (message/rfc822) by a personal address
    m = Mail(
        "m25",
        "溪江乡",
        "submission",
        ["forwarded-rfc822", "personal-qq"],
        t8("2020-12-30 10:30:00"),
        "597731245@qq.com",
        "小陈",
        "转发：材料",
        subject_style="ew:gb18030",
        name_style="ew:gb18030",
        mailer=QQ,
    )
    inner = Mail(
        "m25-inner",
        "溪江乡",
        "submission",
        [],
        t8("2020-12-18 10:00:00"),
        "xijiangxiang@163.com",
        "溪江乡",
        "溪江乡禁毒志愿服务材料",
        date=t8("2020-12-18 09:59:30"),
        to="597731245@qq.com",
    )
    inner_root = inner.mixed(
        inner.body("材料见附件。" + SIGN_163),
        inner.arch(
            "照片.zip", [Mem("1.jpg", photo()), Mem("2.jpg", photo()), Mem("3.jpg", photo())]
        ),
        inner.att(
            "溪江乡禁毒志愿服务工作总结.docx",
            report_docx("溪江乡禁毒志愿服务工作总结", "我乡"),
            "report",
        ),
    )
    add(
        m,
        m.mixed(
            m.body("领导让转给你们，请查收。", charset="gb18030"),
            m.forward("溪江乡禁毒志愿服务材料.eml", inner, inner_root),
        ),
    )

    # m26: raw 8-bit UTF-8 subject; RFC 2231 UTF-8 continuations split mid-character
    m = Mail(
        "m26",
        "樟树乡",
        "submission",
        [
            "unit-without-registered-address",
            "raw-8bit-utf8-subject",
            "rfc2231-continuations",
            "mov",
        ],
        t8("2020-12-27 09:12:44"),
        "liuyan19870312@163.com",
        "刘艳",
        "樟树乡报送“衡阳群众”禁毒志愿服务活动资料",
        subject_style="raw:utf-8",
        name_style="raw:utf-8",
    )
    s = "2231:utf-8:10"
    add(
        m,
        m.mixed(
            m.body("禁毒办：材料见附件，总结报告还在审核，审核后报送。" + SIGN_163),
            m.att("樟树乡禁毒志愿活动照片1.jpg", photo(), "photo", style=s),
            m.att("樟树乡禁毒志愿活动照片2.jpg", photo(), "photo", style=s),
            m.att(
                "樟树乡禁毒志愿者先进事迹.docx",
                deeds_docx("樟树乡禁毒志愿者先进事迹", "肖红梅"),
                "deeds",
                style=s,
            ),
            m.att("樟树乡禁毒宣传视频.mov", video("mov"), "video", style=s),
        ),
    )

    # m27: raw 8-bit GBK subject and file names (an old client)
    m = Mail(
        "m27",
        "长安乡",
        "submission",
        ["raw-8bit-gbk-headers", "personal-qq"],
        t8("2020-12-28 16:05:30"),
        "1847203366@qq.com",
        "",
        "长安乡禁毒志愿服务活动材料",
        subject_style="raw:gbk",
        mailer="Microsoft Outlook Express 6.00.2900.5512",
    )
    add(
        m,
        m.mixed(
            bl.text_part("材料见附件。\n", charset="gbk", cte="8bit"),
            m.att("长安乡活动照片.jpg", photo(), "photo", style="raw:gbk"),
            m.att(
                "长安乡禁毒志愿服务工作总结.docx",
                report_docx("长安乡禁毒志愿服务工作总结", "我乡"),
                "report",
                style="raw:gbk",
            ),
        ),
    )

    # m28: GBK zip with a nested zip holding the video
    m = Mail(
        "m28",
        "栏垅乡",
        "submission",
        ["zip-gbk-no-flag", "nested-archive", "complete"],
        t8("2020-12-24 10:00:00"),
        "lanlongxiang@163.com",
        "栏垅乡",
        "栏垅乡禁毒志愿服务资料",
    )
    add(
        m,
        m.mixed(
            m.body("资料见附件。" + SIGN_163),
            m.arch(
                "资料.zip",
                [
                    Mem("照片/", is_dir=True),
                    Mem("照片/IMG_01.jpg", photo()),
                    Mem("照片/IMG_02.jpg", photo()),
                    Mem(
                        "视频.zip",
                        nested=("zip", [Mem("活动视频.mp4", video("mp4"), "video")], "utf8-flag"),
                    ),
                    Mem(
                        "总结.docx",
                        report_docx("栏垅乡2020年禁毒志愿服务工作总结", "我乡"),
                        "report",
                        title="栏垅乡2020年禁毒志愿服务工作总结",
                    ),
                    Mem("事迹/", is_dir=True),
                    Mem(
                        "事迹/栏垅乡禁毒志愿者先进事迹.docx",
                        deeds_docx("栏垅乡禁毒志愿者先进事迹", "邓志华"),
                        "deeds",
                    ),
                ],
                encoding="gbk",
            ),
        ),
    )

    # m29: 7z archive; Baidu Netdisk link with 提取码
    m = Mail(
        "m29",
        "板市乡",
        "submission",
        ["7z", "baidu-link-with-code", "personal-qq"],
        t8("2020-12-31 21:30:00"),
        "2298817430@qq.com",
        "板市乡小邓",
        "板市乡禁毒志愿服务材料（含视频链接）",
        subject_style="ew:gb18030",
        name_style="ew:gb18030",
        mailer=QQ,
    )
    url, code = baidu(m)
    m.link(url, code=code)
    t = (
        f"禁毒办：材料见压缩包，视频在百度网盘。\n链接：{url} \n提取码：{code} \n"
        "复制这段内容后打开百度网盘手机App，操作更方便哦"
    )
    d = "板市乡禁毒志愿服务材料"
    add(
        m,
        m.mixed(
            m.body(t, charset="gb18030"),
            m.arch(
                "板市乡禁毒志愿服务材料.7z",
                [
                    Mem(f"{d}/活动照片/DSC_0101.JPG", photo()),
                    Mem(f"{d}/活动照片/DSC_0102.JPG", photo()),
                    Mem(
                        f"{d}/工作总结.docx",
                        report_docx("板市乡禁毒志愿服务活动总结", "我乡"),
                        "report",
                    ),
                    Mem(
                        f"{d}/先进事迹.docx",
                        deeds_docx("板市乡禁毒志愿者先进事迹", "龙小兵"),
                        "deeds",
                    ),
                ],
                style="ew:gb18030",
            ),
        ),
    )

    # m30: a zip bomb next to the real materials
    m = Mail(
        "m30",
        "岣嵝乡",
        "submission",
        ["zip-bomb", "registered-sender"],
        t8("2020-12-26 11:11:11"),
        "goulouxiang@163.com",
        "岣嵝乡",
        "岣嵝乡禁毒志愿服务材料",
    )
    add(
        m,
        m.mixed(
            m.body("材料见附件。" + SIGN_163),
            m.arch(
                "岣嵝乡活动照片.zip",
                [Mem("1.jpg", photo()), Mem("2.jpg", photo()), Mem("3.jpg", photo())],
            ),
            m.arch("视频.zip", [Mem("岣嵝乡禁毒宣传视频.mp4", zeros=300 << 20)]),
            m.att(
                "岣嵝乡禁毒志愿服务工作总结.docx",
                report_docx("岣嵝乡禁毒志愿服务工作总结", "我乡"),
                "report",
            ),
        ),
    )

    # m31: the park, whose names contain another unit's alias (西渡)
    m = Mail(
        "m31",
        "西渡高新区",
        "submission",
        ["alias-overlap", "personal-163", "unit-without-registered-address"],
        t8("2020-12-29 09:30:00"),
        "zhouhong_2008@163.com",
        "周红",
        "西渡高新区禁毒志愿服务活动材料报送",
    )
    title = "衡阳西渡高新技术产业开发区禁毒工作总结"
    add(
        m,
        m.mixed(
            m.body("材料见附件。" + SIGN_163),
            m.att("西渡高新区活动照片1.jpg", photo(), "photo"),
            m.att("西渡高新区活动照片2.jpg", photo(), "photo"),
            m.att(
                "衡阳西渡高新技术产业开发区禁毒工作总结.docx", report_docx(title, "园区"), "report"
            ),
            m.att(
                "西渡高新区禁毒志愿者事迹.docx",
                deeds_docx("西渡高新区禁毒志愿者事迹", "蒋文"),
                "deeds",
            ),
        ),
    )

    # m32: traversal zip (safe members still count) and a symlink-traversal RAR
    m = Mail(
        "m32",
        "县委宣传部",
        "submission",
        ["zip-traversal", "rar-symlink-traversal", "registered-sender"],
        t8("2020-12-27 15:00:00"),
        "hyxwxcb@163.com",
        "县委宣传部",
        "县委宣传部“衡阳群众”禁毒志愿服务材料",
    )
    add(
        m,
        m.mixed(
            m.body("材料见附件。" + SIGN_163),
            m.arch(
                "宣传部活动照片.zip",
                [
                    Mem(
                        "trav",
                        b"hyblind traversal\n",
                        name_bytes=b"../../../../../../../../../../tmp/hyblind_trav.txt",
                    ),
                    Mem("abs", b"hyblind absolute\n", name_bytes=b"/tmp/hyblind_abs.txt"),
                    Mem(
                        "win",
                        b"hyblind windows\n",
                        name_bytes=b"..\\..\\..\\..\\..\\hyblind_win.txt",
                    ),
                    Mem("照片/1.jpg", photo()),
                    Mem("照片/2.jpg", photo()),
                ],
            ),
            m.att("宣传部材料.rar", RAR_FIXTURE.read_bytes(), NOT_MATERIAL),
            m.att(
                "县委宣传部禁毒志愿服务工作总结.docx",
                report_docx("县委宣传部禁毒志愿服务工作总结", "我部"),
                "report",
            ),
        ),
    )

    # m33: an encrypted zip (nothing inside counts) next to readable files
    m = Mail(
        "m33",
        "县委政法委",
        "submission",
        ["encrypted-zip", "registered-sender"],
        t8("2020-12-28 09:20:00"),
        "hyxzfw@163.com",
        "县委政法委",
        "县委政法委禁毒志愿服务材料",
    )
    add(
        m,
        m.mixed(
            m.body("材料见附件。" + SIGN_163),
            m.arch(
                "政法委材料.zip",
                [
                    Mem("照片/1.jpg", photo()),
                    Mem("照片/2.jpg", photo()),
                    Mem("先进事迹.docx", deeds_docx("禁毒志愿者先进事迹", "袁明"), "deeds"),
                ],
                password=b"123456",
            ),
            m.att(
                "县委政法委禁毒志愿服务工作总结.docx",
                report_docx("县委政法委禁毒志愿服务工作总结", "我委"),
                "report",
            ),
            m.att("政法委禁毒宣传视频.mp4", video("mp4"), "video"),
        ),
    )

    # m34: broken MIME: the closing boundary is missing (a truncated upload)
    m = Mail(
        "m34",
        "县法院",
        "submission",
        ["broken-mime-missing-close-boundary"],
        t8("2020-12-21 16:16:16"),
        "hyxrmfy@163.com",
        "县法院",
        "县法院禁毒志愿服务材料",
    )
    add(
        m,
        m.mixed(
            m.body("材料见附件。" + SIGN_163),
            m.att("县法院禁毒志愿活动照片1.jpg", photo(), "photo"),
            m.att("县法院禁毒志愿活动照片2.jpg", photo(), "photo"),
            m.att(
                "县法院禁毒志愿服务工作总结.docx",
                report_docx("县法院禁毒志愿服务工作总结", "我院"),
                "report",
            ),
            close=False,
        ),
    )

    # m35: a 0-byte attachment and a scanned PDF without text
    m = Mail(
        "m35",
        "县检察院",
        "submission",
        ["zero-byte-attachment", "scanned-pdf", "full-width-punctuation"],
        t8("2020-12-30 11:45:00"),
        "hyxjcy@163.com",
        "县检察院",
        "县检察院禁毒志愿服务材料",
    )
    add(
        m,
        m.mixed(
            m.body("材料见附件。" + SIGN_163),
            m.att("附件1.jpg", b"", NOT_MATERIAL),
            m.att("县检察院禁毒志愿活动（1）.jpg", photo(), "photo"),
            m.att("县检察院禁毒志愿活动（2）.jpg", photo(), "photo"),
            m.att(
                "县检察院禁毒志愿服务工作总结（扫描件）.pdf",
                bl.make_pdf(scanned=[bl.scan_page_jpeg(1), bl.scan_page_jpeg(2)]),
                "report",
            ),
            m.att(
                "县检察院禁毒志愿者先进事迹.docx",
                deeds_docx("县检察院禁毒志愿者先进事迹", "唐敏"),
                "deeds",
            ),
        ),
    )

    # m36: wrong extensions (JPEG as .dat, PNG as .jpg, DOCX as .doc), WMV video
    m = Mail(
        "m36",
        "县公安局",
        "submission",
        ["wrong-extension", "wmv", "complete", "pdf-text"],
        t8("2020-12-25 10:20:00"),
        "hyxgajjdb@163.com",
        "县公安局禁毒大队",
        "县公安局禁毒志愿服务材料",
    )
    add(
        m,
        m.mixed(
            m.body("材料见附件。" + SIGN_163),
            m.att("IMG_2031.dat", photo(), "photo", style="ascii"),
            m.att("活动照片2.jpg", png(), "photo"),
            m.att(
                "县公安局禁毒志愿服务工作总结.doc",
                report_docx("县公安局禁毒志愿服务工作总结", "我局"),
                "report",
            ),
            m.att(
                "县公安局禁毒大队先进事迹.pdf",
                deeds_pdf("县公安局禁毒大队先进事迹", "赵刚"),
                "deeds",
            ),
            m.att("禁毒宣传片.wmv", video("wmv"), "video"),
        ),
    )

    # m37: a corrupt .docx (not a material) among good files
    m = Mail(
        "m37",
        "团县委",
        "submission",
        ["corrupt-docx", "generic-names"],
        t8("2020-12-24 17:30:00"),
        "hyxtw2020@163.com",
        "团县委",
        "团县委禁毒志愿服务材料",
    )
    broken = report_docx("禁毒志愿服务", "我单位")
    add(
        m,
        m.mixed(
            m.body("材料见附件。" + SIGN_163),
            m.att("新建 Microsoft Word 文档.docx", broken[: len(broken) * 3 // 5], NOT_MATERIAL),
            m.att("团县委禁毒志愿服务活动1.jpg", photo(), "photo"),
            m.att("团县委禁毒志愿服务活动2.jpg", photo(), "photo"),
            m.att(
                "团县委禁毒志愿服务活动小结.docx",
                report_docx("团县委禁毒志愿服务活动小结", "我单位"),
                "report",
            ),
        ),
    )

    # m38-m39: full-width punctuation, two batches, the same Baidu link twice
    m = Mail(
        "m38",
        "县妇联",
        "submission",
        ["full-width-punctuation", "split-submission", "baidu-link-with-code"],
        t8("2020-12-18 15:30:00"),
        "hyxfl@163.com",
        "县妇联",
        "【县妇联】“衡阳群众”禁毒志愿服务活动材料（第一批）",
    )
    url, code = baidu(m)
    m.link(url, code=code)
    add(
        m,
        m.mixed(
            m.body(
                f"禁毒办：第一批照片见附件，视频见百度网盘。\n链接：{url}\n提取码：{code}"
                + SIGN_163
            ),
            m.att("巾帼志愿者进社区（1）.jpg", photo(), "photo"),
            m.att("巾帼志愿者进社区（2）.jpg", photo(), "photo"),
            m.att("巾帼志愿者进社区（3）.jpg", photo(), "photo"),
        ),
    )
    m = Mail(
        "m39",
        "县妇联",
        "submission",
        [
            "full-width-punctuation",
            "split-submission",
            "title-with-ideographic-spaces",
            "same-link-again",
        ],
        t8("2020-12-22 09:10:00"),
        "hyxfl@163.com",
        "县妇联",
        "【县妇联】“衡阳群众”禁毒志愿服务活动材料（第二批）",
    )
    m.link(url, code=code)
    title = "　　衡阳县妇联２０２０年巾帼禁毒志愿者先进事迹"
    add(
        m,
        m.mixed(
            m.body(f"禁毒办：第二批材料见附件。视频链接同上：{url} 提取码：{code}" + SIGN_163),
            m.att(
                "巾帼禁毒志愿者事迹.docx",
                bl.make_docx(deeds_paras(title, "谢芳")),
                "deeds",
                title=title,
            ),
            m.att(
                "县妇联禁毒志愿服务工作总结.docx",
                report_docx("县妇联禁毒志愿服务工作总结", "我会"),
                "report",
            ),
        ),
    )

    # m40: a full alias in the subject; an unclassified document (a roster)
    m = Mail(
        "m40",
        "县卫健局",
        "submission",
        ["alias-in-subject", "personal-163", "unclassified-document", "complete"],
        t8("2020-12-26 14:00:00"),
        "zhangli_0731@163.com",
        "张莉",
        "衡阳县卫生健康局“衡阳群众”禁毒志愿服务活动材料",
    )
    roster = bl.make_docx(
        ["禁毒志愿者花名册", "截至2020年12月"],
        table=[
            ["序号", "姓名", "性别", "联系电话"],
            ["1", "张莉", "女", "138****1234"],
            ["2", "王强", "男", "139****5678"],
        ],
    )
    add(
        m,
        m.mixed(
            m.body("材料见附件。" + SIGN_163),
            m.att("禁毒志愿服务活动照片1.jpg", photo(), "photo"),
            m.att("禁毒志愿服务活动照片2.jpg", photo(), "photo"),
            m.att(
                "禁毒志愿服务工作总结.docx",
                report_docx("2020年禁毒志愿服务工作总结", "我局"),
                "report",
            ),
            m.att("禁毒志愿者先进事迹.docx", deeds_docx("禁毒志愿者先进事迹", "何平"), "deeds"),
            m.att("禁毒志愿者花名册.docx", roster, "other"),
            m.att("禁毒宣传.mp4", video("mp4"), "video"),
        ),
    )

    # m41: registered sender wins over a town named in file names; a large video
    m = Mail(
        "m41",
        "县教育局",
        "submission",
        ["sender-beats-file-names", "large-attachment-20mb", "complete"],
        t8("2020-12-29 15:00:00"),
        "hyxjyj@163.com",
        "县教育局",
        "县教育局禁毒志愿服务材料",
    )
    d = "西渡镇中学禁毒活动照片"
    add(
        m,
        m.mixed(
            m.body("材料见附件。" + SIGN_163),
            m.arch(
                "西渡镇中学禁毒活动照片.zip",
                [
                    Mem(f"{d}/1.jpg", photo()),
                    Mem(f"{d}/2.jpg", photo()),
                    Mem(f"{d}/3.jpg", photo()),
                ],
            ),
            m.att(
                "县教育局禁毒志愿服务工作总结.docx",
                report_docx("县教育局禁毒志愿服务工作总结", "我局"),
                "report",
            ),
            m.att(
                "县教育局禁毒志愿者先进事迹.docx",
                deeds_docx("县教育局禁毒志愿者先进事迹", "龙飞"),
                "deeds",
            ),
            m.att(
                "教育局禁毒宣传片.mp4",
                video("mp4", seconds=8, size="1280x720", bitrate="20M", noise=60),
                "video",
            ),
        ),
    )

    # m42: a photo pasted into the body (large, cid) and an emoji (small, cid); a .wps report
    m = Mail(
        "m42",
        "县司法局",
        "submission",
        ["inline-cid-large-photo", "inline-cid-small-emoji", "wps"],
        t8("2020-12-23 16:20:00"),
        "hyxsfj@163.com",
        "县司法局",
        "县司法局禁毒志愿服务材料",
    )
    big = m.att(
        "IMG_20201222_101530.jpg", photo(1080, 810), "photo", disposition="inline", cid="pasted01"
    )
    emo = m.att(
        "emoji_smile.gif", bl.emoji_gif(3), NOT_MATERIAL, disposition="inline", cid="emoji01"
    )
    html = (
        '<div>禁毒办：总结见附件，活动照片如下：</div><div><img src="cid:pasted01" '
        'width="540"></div><div>谢谢<img src="cid:emoji01"></div>'
    )
    add(
        m,
        m.mixed(
            m.body("禁毒办：总结见附件，活动照片如下：\n\n谢谢", html, related=[big, emo]),
            m.att(
                "县司法局禁毒志愿服务工作总结.wps",
                bl.docx_to_doc(report_docx("县司法局禁毒志愿服务工作总结", "我局")),
                "report",
            ),
        ),
    )

    # m43: a short alias in the subject, personal sender
    m = Mail(
        "m43",
        "县民政局",
        "submission",
        ["short-alias-in-subject", "personal-qq"],
        t8("2020-12-30 08:50:00"),
        "3027716548@qq.com",
        "民政小唐",
        "民政局禁毒志愿服务材料",
        subject_style="ew:gb18030",
        name_style="ew:gb18030",
        mailer=QQ,
    )
    add(
        m,
        m.mixed(
            m.body("照片见附件。", charset="gb18030"),
            m.att("IMG_0456.JPG", photo(), "photo", style="ascii"),
            m.att("IMG_0457.JPG", photo(), "photo", style="ascii"),
        ),
    )

    # m44: two units named in the subject and nothing higher: review
    m = Mail(
        "m44",
        None,
        "review",
        ["subject-conflict"],
        t8("2020-12-24 09:30:00"),
        "1390012768@qq.com",
        "小罗",
        "县人社局、县财政局联合开展禁毒志愿服务活动照片",
        subject_style="ew:gb18030",
        name_style="ew:gb18030",
        mailer=QQ,
    )
    add(
        m,
        m.mixed(
            m.body("照片见附件。", charset="gb18030"),
            m.att("mmexport1608788881234.jpg", photo(), "photo", style="ascii"),
            m.att("mmexport1608788889876.jpg", photo(), "photo", style="ascii"),
        ),
    )

    # m45: the second of those units on its own
    m = Mail(
        "m45",
        "县财政局",
        "submission",
        ["registered-sender"],
        t8("2020-12-28 10:00:00"),
        "hyxczj@163.com",
        "县财政局",
        "县财政局禁毒志愿服务材料",
    )
    add(
        m,
        m.mixed(
            m.body("材料见附件。" + SIGN_163),
            m.att("县财政局活动照片1.jpg", photo(), "photo"),
            m.att("县财政局活动照片2.jpg", photo(), "photo"),
            m.att(
                "县财政局禁毒志愿服务工作总结.docx",
                report_docx("县财政局禁毒志愿服务工作总结", "我局"),
                "report",
            ),
        ),
    )

    # m46: PNG photos; own Baidu link, and the office's link inside the quoted original
    m = Mail(
        "m46",
        "县文旅广体局",
        "submission",
        ["png-photos", "baidu-link-with-code", "quoted-reply-link", "complete"],
        t8("2020-12-31 16:00:00"),
        "hyxwlgtj@163.com",
        "县文旅广体局",
        "回复：关于报送“衡阳群众”禁毒志愿服务活动材料的通知",
    )
    url, code = baidu(m)
    m.link(url, code=code)
    ourl, ocode = baidu(m)
    m.link(ourl, counted=False, code=ocode)
    quote = (
        "------------------ 原始邮件 ------------------\n"
        f'发件人: "{OFFICE_NAME}"<{OFFICE}>;\n发送时间: 2020年12月15日(星期二) 上午9:30\n'
        '收件人: "各成员单位";\n主题: 关于报送“衡阳群众”禁毒志愿服务活动材料的通知\n\n'
        "各单位：\n    请于12月31日前将活动照片、总结报告、事迹材料和视频资料报送至本邮箱。"
        "报送模板下载：\n"
        f"链接：{ourl} 提取码：{ocode}"
    )
    own = (
        f"禁毒办：\n    我局材料见附件，视频较大，已上传百度网盘：\n链接：{url} 提取码：{code}\n"
        "复制这段内容后打开百度网盘手机App，操作更方便哦\n\n"
    )
    html = (
        own.replace("\n", "<br>")
        + '<blockquote style="margin:0 0 0 .8ex;padding-left:1ex">'
        + quote.replace("\n", "<br>")
        + "</blockquote>"
    )
    add(
        m,
        m.mixed(
            m.body(own + "\n".join("> " + ln for ln in quote.split("\n")), html),
            m.att("禁毒文艺汇演1.png", png(), "photo"),
            m.att("禁毒文艺汇演2.png", png(), "photo"),
            m.att(
                "县文旅广体局禁毒志愿服务工作总结.docx",
                report_docx("县文旅广体局禁毒志愿服务工作总结", "我局"),
                "report",
            ),
            m.att(
                "县文旅广体局禁毒志愿者事迹材料.docx",
                deeds_docx("县文旅广体局禁毒志愿者事迹材料", "欧阳春"),
                "deeds",
            ),
        ),
    )

    # m47: a misspelt town (no exact name anywhere): review, never merged silently
    m = Mail(
        "m47",
        None,
        "review",
        ["typo-near-identical-name"],
        t8("2020-12-27 11:00:00"),
        "2736615840@qq.com",
        "小金",
        "金栏镇志愿服务活动照片",
        subject_style="ew:gb18030",
        name_style="ew:gb18030",
        mailer=QQ,
    )
    add(
        m,
        m.mixed(
            m.body("照片见附件。", charset="gb18030"),
            m.att("IMG_1101.jpg", photo(), "photo", style="ascii"),
            m.att("IMG_1102.jpg", photo(), "photo", style="ascii"),
        ),
    )

    # m48: the unit's second registered address; no Message-ID
    m = Mail(
        "m48",
        "县交通运输局",
        "submission",
        ["registered-second-address", "no-message-id", "pdf-text"],
        t8("2020-12-30 17:40:00"),
        "hyxjtj_bgs@126.com",
        "县交通运输局办公室",
        "交通运输局禁毒志愿服务材料",
        msgid=False,
    )
    add(
        m,
        m.mixed(
            m.body("材料见附件。"),
            m.att("交通运输局活动照片1.jpg", photo(), "photo"),
            m.att("交通运输局活动照片2.jpg", photo(), "photo"),
            m.att(
                "县交通运输局禁毒志愿服务工作总结.docx",
                report_docx("县交通运输局禁毒志愿服务工作总结", "我局"),
                "report",
            ),
            m.att(
                "县交通运输局禁毒志愿者先进事迹.pdf",
                deeds_pdf("县交通运输局禁毒志愿者先进事迹", "汤军"),
                "deeds",
            ),
        ),
    )

    # m49: the same report as .docx and as .pdf: two reports
    m = Mail(
        "m49",
        "县农业农村局",
        "submission",
        ["same-report-docx-and-pdf"],
        t8("2020-12-28 11:30:00"),
        "hyxnyncj@163.com",
        "县农业农村局",
        "县农业农村局禁毒志愿服务材料",
    )
    title = "县农业农村局禁毒志愿服务工作总结"
    paras = report_paras(title, "我局")
    add(
        m,
        m.mixed(
            m.body("材料见附件，总结附Word版和PDF版。" + SIGN_163),
            m.att("县农业农村局活动照片1.jpg", photo(), "photo"),
            m.att("县农业农村局活动照片2.jpg", photo(), "photo"),
            m.att("县农业农村局禁毒志愿服务工作总结.docx", bl.make_docx(paras), "report"),
            m.att("县农业农村局禁毒志愿服务工作总结.pdf", bl.make_pdf(paras), "report"),
        ),
    )

    # m50: a macOS zip: UTF-8 names without the flag, __MACOSX AppleDouble files
    m = Mail(
        "m50",
        "县住建局",
        "submission",
        ["zip-utf8-no-flag", "macosx-appledouble"],
        t8("2020-12-29 20:10:00"),
        "hyxzjj@163.com",
        "县住建局",
        "县住建局禁毒志愿服务材料",
        mailer=APPLE,
    )
    d = "住建局照片"
    apple = [
        b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes([0, 2, i]) + bytes(60)
        for i in (1, 2)
    ]
    add(
        m,
        m.mixed(
            bl.text_part("材料见附件。\n"),
            m.arch(
                "住建局照片.zip",
                [
                    Mem(f"{d}/", is_dir=True),
                    Mem(f"{d}/IMG_3301.jpeg", photo()),
                    Mem(f"{d}/IMG_3302.jpeg", photo()),
                    Mem(f"__MACOSX/{d}/._IMG_3301.jpeg", apple[0], NOT_MATERIAL),
                    Mem(f"__MACOSX/{d}/._IMG_3302.jpeg", apple[1], NOT_MATERIAL),
                ],
                encoding="utf8-noflag",
                style="2231:utf-8",
            ),
            m.att(
                "县住建局禁毒志愿服务工作总结.docx",
                report_docx("县住建局禁毒志愿服务工作总结", "我局"),
                "report",
                style="2231:utf-8",
            ),
        ),
    )

    # m51: GBK bytes labelled gb2312 (a character outside GB2312)
    m = Mail(
        "m51",
        "县自然资源局",
        "submission",
        ["gbk-labelled-gb2312"],
        t8("2020-12-25 15:45:00"),
        "hyxzrzyj@163.com",
        "县自然资源局",
        "县自然资源局禁毒志愿服务材料（张玥）",
        subject_style="ew:gbk@gb2312",
        name_style="ew:gbk@gb2312",
    )
    s = "ew:gbk@gb2312"
    add(
        m,
        m.mixed(
            m.body("材料见附件。", charset="gbk"),
            m.att("自然资源局禁毒活动照片.jpg", photo(), "photo", style=s),
            m.att(
                "县自然资源局禁毒志愿服务工作总结.docx",
                report_docx("县自然资源局禁毒志愿服务工作总结", "我局"),
                "report",
                style=s,
            ),
            m.att(
                "县自然资源局张玥同志先进事迹.docx",
                deeds_docx("张玥同志先进事迹", "张玥"),
                "deeds",
                style=s,
            ),
        ),
    )

    # m52: unit only in a PDF's own title
    m = Mail(
        "m52",
        "县林业局",
        "submission",
        ["unit-only-in-doc-title", "pdf-text", "personal-qq"],
        t8("2020-12-29 10:20:00"),
        "3456712098@qq.com",
        "林",
        "禁毒材料",
        subject_style="ew:gb18030",
        name_style="ew:gb18030",
        mailer=QQ,
    )
    title = "衡阳县林业局2020年“衡阳群众”禁毒志愿服务工作总结"
    add(
        m,
        m.mixed(
            m.body("请查收", charset="gb18030"),
            m.att(
                "2020年工作总结.pdf",
                report_pdf(title, "我局"),
                "report",
                style="ew:gb18030",
                title=title,
            ),
            m.att("微信图片_20201229101530.jpg", photo(), "photo", style="ew:gb18030"),
        ),
    )

    # m60: one document that is both summary and deeds (deeds first); Q-encoded names split
    # mid-character; a .3gp phone video
    m = Mail(
        "m60",
        "县总工会",
        "submission",
        ["deeds-before-report-keywords", "3gp", "q-encoded-split-names", "personal-qq"],
        t8("2020-12-31 09:05:00"),
        "1278830456@qq.com",
        "工会小王",
        "衡阳县总工会禁毒志愿服务材料",
        subject_style="ewq:gb18030:9",
        name_style="ew:gb18030",
        mailer=FOX,
    )
    title = "衡阳县总工会禁毒志愿服务工作总结及先进个人事迹"
    qn = "ewq:utf-8:11"
    add(
        m,
        m.mixed(
            m.body("材料见附件。", charset="gb18030"),
            m.att("职工禁毒志愿服务1.JPEG", photo(), "photo", style=qn),
            m.att("职工禁毒志愿服务2.JPEG", photo(), "photo", style=qn),
            m.att(
                "总工会禁毒志愿服务工作总结及先进事迹.docx",
                bl.make_docx(
                    [*report_paras(title, "我会"), *deeds_paras("先进个人", "文建平")[1:]]
                ),
                "deeds",
                style=qn,
                title=title,
            ),
            m.att("VID_20201230_0931.3gp", video("3gp"), "video", style="ascii"),
        ),
    )

    # ---- mail that is not a submission ---------------------------------------------------

    m = Mail(
        "m53",
        None,
        "not_submission",
        ["newsletter-naming-a-unit"],
        t8("2020-12-26 07:00:00"),
        "rednet_news@rednet.cn",
        "红网时刻",
        "红网时刻｜衡阳县西渡镇开展“衡阳群众”禁毒志愿服务活动",
        extra_headers=[
            ("List-Unsubscribe", b"<https://news.rednet.cn/unsubscribe?u=8812>"),
            ("List-Id", b"<daily.rednet.cn>"),
            ("Precedence", b"bulk"),
        ],
        mailer="rednet-mailer 3.1",
    )
    nlogo = m.att("rednet_logo.png", bl.logo_png(7), None, disposition="inline", cid="rn_logo")
    npic = m.att("news_20201225.jpg", photo(900, 600), None, disposition="inline", cid="rn_pic")
    t = (
        "红网时刻12月26日讯 近日，衡阳县西渡镇组织禁毒志愿者走进社区开展禁毒宣传……\n"
        "退订请点击：https://news.rednet.cn/unsubscribe?u=8812"
    )
    html = (
        '<img src="cid:rn_logo"><h2>衡阳县西渡镇开展“衡阳群众”禁毒志愿服务活动</h2>'
        '<img src="cid:rn_pic" width="600">'
        "<p>近日，衡阳县西渡镇组织禁毒志愿者走进社区开展禁毒宣传……</p>"
    )
    add(m, m.body(t, html, related=[nlogo, npic]))

    m = Mail(
        "m54",
        None,
        "not_submission",
        ["system-notice", "transfer-station-link"],
        t8("2020-12-28 03:00:00"),
        "10000@qq.com",
        "QQ邮箱团队",
        "文件中转站文件即将过期提醒",
        subject_style="ew:gb18030",
        name_style="ew:gb18030",
        mailer=QQ,
    )
    url = m.link("https://mail.qq.com/cgi-bin/ftnExs_files?t=exs_ftn_files&listtype=expire", False)
    add(
        m,
        m.body(
            "您的文件中转站中有文件即将过期：\n县教育局禁毒宣传片.mp4（3天后过期）\n"
            f"查看详情：{url}",
            charset="gb18030",
        ),
    )

    m = Mail(
        "m55",
        None,
        "not_submission",
        ["auto-reply-from-registered-address"],
        t8("2020-12-16 09:31:00"),
        "hyxybj@163.com",
        "县医保局",
        "自动回复：关于报送“衡阳群众”禁毒志愿服务活动材料的通知",
        extra_headers=[("Auto-Submitted", b"auto-replied"), ("X-Autoreply", b"yes")],
    )
    add(m, m.body("您好，您的来信已收到，我会尽快处理。\n——衡阳县医疗保障局"))

    m = Mail(
        "m56",
        None,
        "not_submission",
        ["bounce-with-original"],
        t8("2020-12-16 09:35:00"),
        "MAILER-DAEMON@qq.com",
        "Mail Delivery System",
        "退信：西渡镇：关于报送禁毒志愿服务活动材料的提醒",
        mailer="QQMail",
    )
    orig = Mail(
        "m56-orig",
        None,
        "not_submission",
        [],
        t8("2020-12-16 09:30:00"),
        OFFICE,
        OFFICE_NAME,
        "西渡镇：关于报送禁毒志愿服务活动材料的提醒",
        to="hyxxidujbd@163.com",
        mailer=QQ,
    )
    orig_root = orig.mixed(
        orig.body("西渡镇：请于12月31日前报送“衡阳群众”禁毒志愿服务活动材料。"),
        orig.att(
            "报送要求.docx",
            bl.make_docx(
                ["关于报送“衡阳群众”禁毒志愿服务活动材料的通知", "各单位：请按要求报送。"]
            ),
            None,
        ),
    )
    status = bl.Leaf(
        [("Content-Type", b"message/delivery-status")],
        b"Reporting-MTA: dns; qq.com\r\n\r\nFinal-Recipient: rfc822; hyxxidujbd@163.com\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n",
    )
    add(
        m,
        bl.Multi(
            "report",
            m.boundary(),
            [
                bl.text_part("很抱歉您的邮件没有发送成功。收件人地址不存在：hyxxidujbd@163.com"),
                status,
                m.forward("original.eml", orig, orig_root),
            ],
            type_params=b"; report-type=delivery-status",
        ),
    )

    m = Mail(
        "m57",
        None,
        "not_submission",
        ["office-circular-many-units"],
        t8("2020-12-25 18:00:00"),
        OFFICE,
        OFFICE_NAME,
        "关于催报“衡阳群众”禁毒志愿服务活动材料的通知",
        subject_style="ew:gb18030",
        name_style="ew:gb18030",
        mailer=QQ,
        to=f"{OFFICE}, hyxxidujdb@163.com, jibingzjdb@163.com, hyxjcy@163.com",
    )
    late_units = [
        "西渡镇",
        "杉桥镇",
        "井头镇",
        "演陂镇",
        "金兰镇",
        "县法院",
        "县检察院",
        "县总工会",
    ]
    circ = bl.make_docx(
        ["未报送单位名单", "截至2020年12月25日"],
        table=[["序号", "单位"], *[[str(i + 1), u] for i, u in enumerate(late_units)]],
    )
    add(
        m,
        m.mixed(
            m.body(
                "各单位：\n    截至12月25日，"
                + "、".join(late_units)
                + "尚未报送“衡阳群众”禁毒志愿服务活动材料，请于12月31日前报送。\n"
                + "衡阳县禁毒委员会办公室",
                charset="gb18030",
            ),
            m.att("附件：未报送单位名单.docx", circ, None, style="ew:gb18030"),
        ),
    )

    m = Mail(
        "m58",
        None,
        "not_submission",
        ["spam"],
        t8("2020-12-19 02:13:00"),
        "fapiao8888@163.com",
        "王经理",
        "诚信代开各类发票，点数优惠",
    )
    add(m, m.body("本公司常年代开各类增值税发票，点数优惠，验证后付款。联系电话：13800000000"))

    m = Mail(
        "m59",
        None,
        "review",
        ["no-evidence"],
        t8("2020-12-30 11:15:00"),
        "1592648370@qq.com",
        "",
        "照片",
        subject_style="ew:gb18030",
        mailer=QQ,
    )
    add(
        m,
        m.mixed(
            m.body("照片", charset="gb18030"),
            m.att("IMG_20201230_111111.jpg", photo(), "photo", style="ascii"),
            m.att("IMG_20201230_111205.jpg", photo(), "photo", style="ascii"),
        ),
    )
    return out


# ---------------------------------------------------------------------------------------------
# Expected units.csv values, by the SPEC's rules
# ---------------------------------------------------------------------------------------------


def read_registry(path: Path = REGISTRY) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def derive_units(mail_records: list[dict], registry: list[dict]) -> dict:
    deadline = datetime.fromisoformat(DEADLINE)
    units = {}
    for row in registry:
        unit = row["unit"]
        ms = [m for m in mail_records if m["unit"] == unit]
        times = [datetime.fromisoformat(m["received_at"]) for m in ms]
        first_seen: dict[str, dict[str, datetime]] = {c: {} for c in CATEGORIES}
        links: dict[str, datetime] = {}
        for m, when in zip(ms, times, strict=True):
            for f in m["files"]:
                if f["category"] in CATEGORIES and not f["container"] and f["sha256"]:
                    seen = first_seen[f["category"]]
                    seen[f["sha256"]] = min(seen.get(f["sha256"], when), when)
            for lk in m["links"]:
                if lk["counted"]:
                    links[lk["url"]] = min(links.get(lk["url"], when), when)
        satisfied = {c: min(first_seen[c].values()) for c in CATEGORIES if first_seen[c]}
        if links:
            satisfied["video"] = min(
                [*links.values(), *([satisfied["video"]] if "video" in satisfied else [])]
            )
        submitted = bool(ms)
        complete = submitted and all(c in satisfied for c in CATEGORIES)
        on_time = (
            submitted and min(times) <= deadline and all(t <= deadline for t in satisfied.values())
        )
        missing = [MISSING_NAMES[c] for c in CATEGORIES if c not in satisfied]
        if not submitted:
            reasons = ["not_submitted"]
        else:
            reasons = (["late"] if not on_time else []) + (["incomplete"] if not complete else [])
        units[unit] = {
            "category": row["category"],
            "submitted": submitted,
            "on_time": on_time,
            "complete": complete,
            "first_received": iso8(min(times)) if times else "",
            "last_received": iso8(max(times)) if times else "",
            "photos": len(first_seen["photo"]),
            "reports": len(first_seen["report"]),
            "deeds": len(first_seen["deeds"]),
            "videos": len(first_seen["video"]),
            "video_links": len(links),
            "missing": ";".join(missing),
            "notice_reasons": reasons,
        }
    return units


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--out",
        type=Path,
        default=HERE / ".work" / "inbox",
        help="inbox folder to (re)create (default: .work/inbox)",
    )
    ap.add_argument(
        "--expected",
        type=Path,
        default=HERE / "expected.json",
        help="where to write expected.json (default: next to this script)",
    )
    args = ap.parse_args()

    built = mails()
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    records = []
    for m, root in built:
        raw = m.build(root)
        (args.out / f"{m.key}.eml").write_bytes(raw)
        rec = m.expected()
        rec["eml_sha256"] = sha(raw)
        records.append(rec)
    expected = {
        "about": "Written from /work/shared/SPEC.md alone; see README.md.",
        "spec": "/work/shared/SPEC.md",
        "registry": str(REGISTRY),
        "registry_sha256": sha(REGISTRY.read_bytes()),
        "deadline": DEADLINE,
        "office_address": OFFICE,
        "mails": records,
        "units": derive_units(records, read_registry()),
    }
    args.expected.write_text(
        json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    subs = sum(1 for r in records if r["unit"])
    print(f"make_blind: {len(records)} mails ({subs} attributed to a unit) -> {args.out}")
    print(f"make_blind: expected -> {args.expected}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
