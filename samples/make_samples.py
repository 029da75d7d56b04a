#!/usr/bin/env python3
"""Generate the demo inbox: ``samples/inbox/*.eml`` and ``samples/inbox/README.md``.

A dozen submissions for the 衡阳县禁毒办 campaign (deadline 2020-12-31T23:59:59+08:00), built with
the deterministic builders in ``tests/support``: running this twice writes identical bytes.
Each message's topmost ``Received`` header carries its receive time (what the folder source
reads); Date headers are left a little earlier, and in one case lie.

Needs ffmpeg (the small videos) and LibreOffice (one .doc report); both outputs are cached in
``tests/.cache``. Run from anywhere: ``python samples/make_samples.py``.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support import files as F  # noqa: E402
from tests.support.mails import (  # noqa: E402
    CST,
    OFFICE,
    Att,
    Mail,
    auto_reply,
    baidu_share,
    forwarded,
    html_from_text,
    inline_image,
    mx_received,
    newsletter,
    qq_big_attachment,
    qq_ftn_url,
)

OUT = ROOT / "samples" / "inbox"
DEADLINE = "2020-12-31T23:59:59+08:00"
CIRCULAR = "关于报送2020年度“衡阳群众”禁毒志愿服务活动材料的通知"


@dataclass(frozen=True)
class Sample:
    filename: str
    mail: Mail
    demonstrates: str
    expected: str


def when(month: int, day: int, hh: int, mm: int, ss: int, year: int = 2020) -> dt.datetime:
    return dt.datetime(year, month, day, hh, mm, ss, tzinfo=CST)


def received(mail_sender: str, at: dt.datetime, seed: str) -> list[str]:
    return [mx_received(at, mail_sender, seed=seed)]


def photo(seed: int, taken: str | None = None) -> bytes:
    """A phone photo, 800x600 (~85 KB) so the whole inbox stays small."""
    return F.jpeg(800, 600, seed=seed, quality=80, exif_datetime=taken)


# -- documents ---------------------------------------------------------------------------------

XIDU_REPORT = F.docx(
    [
        "2020年，西渡镇在县禁毒委的坚强领导下，深入开展“衡阳群众”禁毒志愿服务活动，"
        "全镇共组建禁毒志愿服务队伍12支，注册志愿者486人。",
        "一、强化组织领导。镇党委、政府将禁毒志愿服务纳入年度重点工作，成立了以镇长为组长的工作领导小组。",
        "二、丰富活动载体。全年开展禁毒宣传进校园、进社区、进家庭活动42场次，发放宣传资料1.2万余份，"
        "并通过镇政府公众号和文艺汇演扩大宣传覆盖面。",
        "三、广泛招募志愿者。今年新招募“禁毒妈妈”志愿者68名，吸纳退休教师、村医等加入志愿者队伍。",
        "四、抓好调研培训。组织志愿者骨干培训3期，开展禁毒形势入户调研和问卷调查，形成调研报告1份。",
        "五、推进示范创建。创建禁毒示范村2个、示范社区1个，梅花村被评为县级禁毒示范点。",
        "六、做实帮扶帮教。志愿者与社区戒毒、社区康复人员结对帮扶23人，帮助其中9人实现就业。",
        "七、下一步工作打算。持续壮大志愿者队伍，完善激励机制，推动禁毒志愿服务常态化。",
    ],
    title="西渡镇2020年度禁毒志愿服务\n工作总结",
    table=[["活动类别", "场次", "参与人数"], ["进校园", "15", "3200"], ["进社区", "27", "5100"]],
    core_title="西渡镇2020年度禁毒志愿服务工作总结",
    author="西渡镇综治办",
)

XIDU_DEEDS = F.docx(
    [
        "张三，男，1975年出生，西渡镇梅花村禁毒志愿者。",
        "2020年以来，张三同志坚持每周走村入户开展禁毒宣传，累计服务时长达320小时，"
        "协助镇禁毒办帮扶社区戒毒康复人员5名，先后被评为“西渡镇优秀禁毒志愿者”。",
        "他常说：“禁毒工作关系千家万户，我愿意做一名永不停歇的宣传员。”",
    ],
    title="张三同志禁毒志愿服务先进事迹材料",
    images=1,
    image_seed=201,
    author="西渡镇综治办",
)

YANPO_REPORT_DOC = F.doc(
    [
        "今年以来，演陂镇认真落实县禁毒委部署，组织开展“衡阳群众”禁毒志愿服务活动28场次。",
        "镇禁毒志愿服务队深入各村（社区）开展禁毒知识宣讲，覆盖群众1.5万余人次。",
    ],
    title="演陂镇2020年禁毒志愿服务工作总结报告",
)

YANPO_DEEDS = F.docx(
    [
        "演陂镇禁毒志愿服务队成立于2018年，现有队员62人。",
        "服务队坚持“宣传在一线、帮扶在一线”，今年共开展禁毒宣传活动28场次。",
    ],
    title="演陂镇禁毒志愿服务队先进事迹",
    images=1,
    image_seed=301,
)

JIAOYU_REPORT = F.docx(
    [
        "县教育局以“开学第一课”为抓手，在全县中小学校组织开展禁毒教育活动。",
        "全年共组织禁毒主题班会1260余场，覆盖学生9.8万人。",
    ],
    title="县教育局2020年禁毒志愿服务工作总结",
    core_title="县教育局2019年工作总结",
)

JIAOYU_DEEDS = F.docx(
    [
        "李老师，衡阳县第一中学教师，从事禁毒宣传教育志愿服务八年。",
        "她编写校本禁毒教材一套，组织学生志愿者开展禁毒宣传进社区活动36次。",
    ],
    title="李老师禁毒志愿服务先进事迹材料",
    images=1,
    image_seed=501,
)

JINLAN_REPORT = F.docx(
    ["金兰镇2020年共开展禁毒志愿服务活动19场次，参与志愿者230人次。"],
    title="金兰镇2020年度禁毒志愿服务工作总结",
)

JINLAN_DEEDS = F.docx(
    ["王五同志担任金兰镇禁毒志愿服务队队长以来，带领队员走遍全镇23个村。"],
    title="王五同志先进事迹材料",
    images=1,
    image_seed=601,
)

JIAOTONG_REPORT = F.docx(
    [
        "县交通运输局结合行业特点，在客运站、物流企业开展禁毒宣传志愿服务活动。",
        "全年开展“禁毒宣传进车站”活动8场次，发放宣传资料3000余份。",
    ],
    title="县交通运输局2020年禁毒志愿服务工作总结",
    core_title="关于开展2019年度安全生产大检查的通知",
)

ZHANGSHU_REPORT = F.docx(
    ["樟树乡坚持把禁毒志愿服务作为平安建设的重要内容，全年开展活动16场次。"],
    title="樟树乡2020年禁毒志愿服务工作总结",
)

ZHANGSHU_DEEDS = F.docx(
    ["李喆同志是樟树乡禁毒志愿服务队骨干，今年协助开展禁毒宣传活动16场次。"],
    title="李喆同志禁毒志愿服务先进事迹",
    images=1,
    image_seed=701,
)


# -- the mails ---------------------------------------------------------------------------------


def build() -> list[Sample]:
    samples: list[Sample] = []

    # 01 + 02: 西渡镇, registered 163 address, materials split over two mails.
    xidu = ("西渡镇禁毒办", "hyxxidujdb@163.com")
    xidu_zip = F.zip_archive(
        {
            "西渡镇禁毒志愿活动照片/": b"",
            "西渡镇禁毒志愿活动照片/禁毒宣传进校园.jpg": photo(11, "2020:11:12 09:31:05"),
            "西渡镇禁毒志愿活动照片/禁毒宣传进社区.jpg": photo(12, "2020:11:26 15:02:44"),
            "西渡镇禁毒志愿活动照片/志愿者培训.jpg": photo(13, "2020:12:03 10:18:20"),
        },
        name_encoding="gbk",
    )
    signature = "\n\n--\n西渡镇禁毒办\n电话：0734-6812345"
    text1 = "县禁毒办：\n现报送我镇2020年度禁毒志愿服务活动照片及工作总结，视频和事迹材料另行发送。"
    html1 = html_from_text(text1 + signature, charset="GBK") + (
        '<div><img src="cid:sign_logo_01" width="120" height="40"></div>'
    )
    at1 = when(12, 23, 10, 12, 20)
    m1 = Mail(
        sender=xidu,
        subject="西渡镇2020年度禁毒志愿服务活动材料（一）",
        date=at1 - dt.timedelta(seconds=2),
        text=text1 + signature,
        html=html1,
        client="coremail",
        attachments=[
            inline_image("logo.png", F.tiny_logo_png(), "sign_logo_01"),
            Att("西渡镇禁毒志愿活动照片.zip", xidu_zip),
            Att("西渡镇2020年度禁毒志愿服务工作总结.docx", XIDU_REPORT),
        ],
        received=received(xidu[1], at1, "01"),
    )
    samples.append(
        Sample(
            "01_xidu_part1_photos_report.eml",
            m1,
            "registered sender (163/Coremail, GBK); photos zipped with GBK member names (no UTF-8 "
            "flag) in a folder; summary report .docx; small signature logo referenced by cid",
            "西渡镇: 3 photo (zip members), 1 report; the logo is not a photo",
        )
    )

    at2 = when(12, 23, 10, 20, 5)
    text2 = "县禁毒办：\n补充报送张三同志先进事迹材料及禁毒宣传视频，请查收。"
    m2 = Mail(
        sender=xidu,
        subject="西渡镇2020年度禁毒志愿服务活动材料（二）",
        date=at2 - dt.timedelta(seconds=3),
        text=text2 + signature,
        html=html_from_text(text2 + signature, charset="GBK"),
        client="coremail",
        attachments=[
            Att("张三同志禁毒志愿服务先进事迹材料.docx", XIDU_DEEDS),
            Att("西渡镇禁毒宣传视频.mp4", F.mp4()),
        ],
        received=received(xidu[1], at2, "02"),
    )
    samples.append(
        Sample(
            "02_xidu_part2_deeds_video.eml",
            m2,
            "second mail of the same unit; deeds .docx with an embedded picture; an .mp4 video",
            "西渡镇: 1 deeds, 1 video → with 01 complete and on time",
        )
    )

    # 03: 演陂镇 from a personal QQ address; unit named in the subject; video as QQ 超大附件.
    yanpo = ("演陂镇 刘芳", "1847261035@qq.com")
    at3 = when(12, 25, 16, 40, 12)
    ftn = qq_ftn_url("yanpo-video")
    big_text, big_html = qq_big_attachment(
        "演陂镇禁毒志愿服务宣传片.mp4", "186.52M", ftn, "2021年1月24日 16:39"
    )
    text3 = (
        "领导好！演陂镇禁毒志愿服务年终材料已整理好，照片、总结、事迹见附件，"
        "视频较大用超大附件发送。"
    )
    m3 = Mail(
        sender=yanpo,
        subject="演陂镇禁毒志愿服务年终材料报送",
        date=at3 - dt.timedelta(seconds=1),
        text=text3 + big_text,
        html=html_from_text(text3) + big_html,
        client="qq",
        attachments=[
            Att("IMG_20201218_093012.jpg", photo(31, "2020:12:18 09:30:12")),
            Att("IMG_20201218_095547.jpg", photo(32, "2020:12:18 09:55:47")),
            Att("IMG_20201220_144301.jpg", photo(33, "2020:12:20 14:43:01")),
            Att("演陂镇2020年禁毒志愿服务工作总结报告.doc", YANPO_REPORT_DOC),
            Att("演陂镇禁毒志愿服务队先进事迹.docx", YANPO_DEEDS),
        ],
        received=received(yanpo[1], at3, "03"),
    )
    samples.append(
        Sample(
            "03_yanpo_qq_personal_bigattach.eml",
            m3,
            "personal QQ address (QQ Mail web: gb18030 words, octet-stream parts); unit only in "
            "the subject and file names; loose phone photos; a Word 97 .doc report; the video as a "
            "QQ 超大附件 link in text and HTML (one URL)",
            "演陂镇: 3 photo, 1 report, 1 deeds, 1 video link (flag: download before it expires) "
            "→ complete, on time",
        )
    )

    # 04: 曲兰镇 from its registered iCloud address, iPhone Mail: HEIC photos inline, Baidu link.
    qulan = ("曲兰镇禁毒办", "qlzzhb@icloud.com")
    at4 = when(12, 28, 21, 5, 33)
    text4 = (
        "曲兰镇禁毒志愿服务活动照片和视频，视频在百度网盘：\n"
        + baidu_share(
            "曲兰镇禁毒宣传视频.mp4", "https://pan.baidu.com/s/1qLzZhB7x2K9mNp4RtY6wEa", "q7k2"
        )
        + "\n\n发自我的iPhone"
    )
    m4 = Mail(
        sender=qulan,
        subject="曲兰镇禁毒志愿服务照片",
        date=at4 - dt.timedelta(seconds=4),
        text=text4,
        client="apple",
        attachments=[
            Att("IMG_0412.HEIC", F.heic(800, 600, seed=41), disposition="inline"),
            Att("IMG_0415.HEIC", F.heic(800, 600, seed=42), disposition="inline"),
        ],
        received=received(qulan[1], at4, "04"),
    )
    samples.append(
        Sample(
            "04_qulan_iphone_heic_baidu.eml",
            m4,
            "iPhone Mail (UTF-8, RFC 2231 file names); HEIC photos as inline parts that no cid "
            "references (Apple style: they are photos); Baidu Netdisk link with 提取码",
            "曲兰镇: 2 photo, 1 video link; missing report and deeds → incomplete",
        )
    )

    # 05: 县教育局's mail forwarded as an attachment by a colleague's personal 163 address.
    jiaoyu = ("衡阳县教育局", "hyxjyj@163.com")
    inner_at = when(12, 24, 9, 1, 45)
    inner = Mail(
        sender=jiaoyu,
        to=("王芳", "wangfang1985@163.com"),
        subject="县教育局禁毒志愿服务材料",
        date=inner_at - dt.timedelta(seconds=2),
        text="王老师：材料已整理好，请转县禁毒办。",
        client="coremail",
        attachments=[
            Att(
                "教育系统禁毒活动照片.zip",
                F.zip_archive(
                    {
                        "照片/开学第一课.jpg": photo(51),
                        "照片/禁毒主题班会.jpg": photo(52),
                    },
                    name_encoding="utf-8",
                ),
            ),
            Att("2020年禁毒志愿服务工作总结.docx", JIAOYU_REPORT),
            Att("李老师先进事迹.docx", JIAOYU_DEEDS),
        ],
        received=[mx_received(inner_at, jiaoyu[1], seed="05i", mx="mx3.mail.163.com")],
    )
    at5 = when(12, 26, 8, 47, 10)
    m5 = Mail(
        sender=("王芳", "wangfang1985@163.com"),
        subject="转发：县教育局禁毒志愿服务材料",
        date=at5 - dt.timedelta(seconds=2),
        text="县禁毒办：转发县教育局的禁毒志愿服务材料，请查收。",
        client="outlook",
        attachments=[forwarded(inner, "县教育局禁毒志愿服务材料.eml")],
        received=received("wangfang1985@163.com", at5, "05"),
    )
    samples.append(
        Sample(
            "05_jiaoyu_forwarded_rfc822.eml",
            m5,
            "Outlook (gb2312 words split mid-character) forwarding the unit's own mail as "
            "message/rfc822; attribution by the inner (registered) sender; UTF-8 zip names; "
            "report title in the document differs from its stale metadata title",
            "县教育局: 2 photo, 1 report, 1 deeds; received 2020-12-26 (outer); missing video",
        )
    )

    # 06: 金兰镇, late: the Date header claims 31 Dec, the server received it on 3 Jan.
    jinlan = ("金兰镇", "jinlanzhen_zzb@163.com")
    at6 = when(1, 3, 9, 15, 42, year=2021)
    m6 = Mail(
        sender=jinlan,
        subject="金兰镇禁毒志愿服务材料（补报）",
        date=when(12, 31, 23, 40, 11),
        text="县禁毒办：因网络原因，我镇材料补报，请谅解。",
        client="foxmail",
        attachments=[
            Att("金兰镇活动照片1.jpg", photo(61)),
            Att("金兰镇活动照片2.jpg", photo(62)),
            Att("金兰镇2020年度禁毒志愿服务工作总结.docx", JINLAN_REPORT),
            Att("王五同志先进事迹材料.docx", JINLAN_DEEDS),
            Att("金兰镇禁毒宣传视频.mp4", F.video("mp4", seconds=2)),
        ],
        received=received(jinlan[1], at6, "06"),
    )
    samples.append(
        Sample(
            "06_jinlan_late.eml",
            m6,
            "late: Date header 2020-12-31 23:40 but received 2021-01-03 (Foxmail, gb2312 words)",
            "金兰镇: complete but late (on_time=false, notice reason late)",
        )
    )

    # 07: generic file names; only the document's own title names the unit.
    at7 = when(12, 29, 11, 3, 27)
    m7 = Mail(
        sender=("小陈", "396615287@qq.com"),
        subject="材料",
        date=at7 - dt.timedelta(seconds=1),
        text="你好，材料见附件。",
        client="qq",
        attachments=[
            Att("新建 Microsoft Word 文档.docx", JIAOTONG_REPORT),
            Att("附件1.jpg", photo(71)),
        ],
        received=received("396615287@qq.com", at7, "07"),
    )
    samples.append(
        Sample(
            "07_generic_names_title_only.eml",
            m7,
            "unregistered personal sender, subject 材料, generic names (新建 Microsoft Word "
            "文档.docx, 附件1.jpg); the unit is named only in the document's first paragraph "
            "(its metadata title is a stale, unrelated template)",
            "县交通运输局 (from the document title): 1 report, 1 photo; missing deeds, video",
        )
    )

    # 08: a newsletter that names a unit: not a submission.
    m8 = newsletter(date=when(12, 27, 7, 0, 0))
    m8.received = received("weekly@news.jindu-example.cn", when(12, 27, 7, 0, 3), "08")
    samples.append(
        Sample(
            "08_newsletter.eml",
            m8,
            "bulk newsletter (List-Unsubscribe, Precedence: bulk) that mentions 西渡镇",
            "not a submission: attributed to nobody",
        )
    )

    # 09: an auto-reply from a unit's registered address to the office's circular.
    circular = Mail(
        sender=OFFICE,
        to=("集兵镇", "jibingzjdb@163.com"),
        subject=CIRCULAR,
        date=when(12, 10, 9, 0, 0),
        text="各乡镇、园区、县直有关单位：请于12月31日前报送材料。",
        client="qq",
    )
    m9 = auto_reply(
        circular,
        sender=("集兵镇", "jibingzjdb@163.com"),
        date=when(12, 10, 9, 0, 31),
        client="coremail",
    )
    m9.received = received("jibingzjdb@163.com", when(12, 10, 9, 0, 32), "09")
    samples.append(
        Sample(
            "09_autoreply_registered_sender.eml",
            m9,
            "auto-reply (Auto-Submitted: auto-replied, X-Autoreply) from a registered unit address",
            "not a submission: attributed to nobody (集兵镇 stays not submitted)",
        )
    )

    # 10: unknown sender, no unit anywhere: review.
    at10 = when(12, 30, 19, 22, 8)
    m10 = Mail(
        sender=("", "13973412345@139.com"),
        subject="禁毒活动照片",
        date=at10 - dt.timedelta(seconds=5),
        text="照片发给你们。",
        client="plain",
        attachments=[
            Att("mmexport1608712345678.jpg", photo(101)),
            Att("mmexport1608712399012.jpg", photo(102)),
        ],
        received=[mx_received(at10, "13973412345@139.com", seed="10")],
    )
    samples.append(
        Sample(
            "10_unknown_sender_review.eml",
            m10,
            "unknown sender, no unit in subject, names, body or documents",
            "review queue (待确认): no unit evidence",
        )
    )

    # 11: 西渡镇 resends its report unchanged: a duplicate by content.
    at11 = when(12, 29, 15, 30, 0)
    m11 = Mail(
        sender=xidu,
        subject="Re: 西渡镇2020年度禁毒志愿服务活动材料（一）",
        date=at11 - dt.timedelta(seconds=2),
        text="县禁毒办：总结报告重新发一遍，请以此为准。" + signature,
        client="coremail",
        attachments=[Att("西渡镇2020年度禁毒志愿服务工作总结.docx", XIDU_REPORT)],
        received=received(xidu[1], at11, "11"),
    )
    samples.append(
        Sample(
            "11_xidu_duplicate_resend.eml",
            m11,
            "the same report sent again (identical sha256)",
            "西渡镇: still 1 report; last_received becomes 2020-12-29T15:30:00+08:00",
        )
    )

    # 12: 樟树乡 (no registered address) via Foxmail: GBK-only 喆 under a gb2312 label, 3gp.
    at12 = when(12, 30, 10, 6, 51)
    m12 = Mail(
        sender=("李喆", "1302456789@qq.com"),
        subject="樟树乡禁毒志愿服务材料",
        date=at12 - dt.timedelta(seconds=1),
        text="县禁毒办：樟树乡禁毒志愿服务材料一套，请审阅。",
        client="foxmail",
        attachments=[
            Att(
                "樟树乡活动照片.zip",
                F.zip_archive(
                    {
                        "樟树乡活动照片/禁毒宣传1.jpg": photo(121),
                        "樟树乡活动照片/禁毒宣传2.jpg": photo(122),
                    },
                    name_encoding="gbk",
                ),
            ),
            Att("樟树乡2020年禁毒志愿服务工作总结.docx", ZHANGSHU_REPORT),
            Att("李喆同志禁毒志愿服务先进事迹.docx", ZHANGSHU_DEEDS),
            Att("樟树乡禁毒宣传.3gp", F.threegp()),
        ],
        received=received("1302456789@qq.com", at12, "12"),
    )
    samples.append(
        Sample(
            "12_zhangshu_foxmail_gbk_only_char.eml",
            m12,
            "unit without a registered address, named in subject and names; 喆 (GBK-only) in a "
            "name labelled gb2312; GBK zip; a .3gp video",
            "樟树乡: 2 photo, 1 report, 1 deeds, 1 video → complete, on time",
        )
    )

    # 13: two units in the subject from a personal address: conflict → review.
    at13 = when(12, 31, 17, 45, 9)
    m13 = Mail(
        sender=("周伟", "2851746630@qq.com"),
        subject="西渡镇、集兵镇禁毒联合宣传活动照片",
        date=at13 - dt.timedelta(seconds=2),
        text="两镇联合开展的禁毒宣传活动照片。",
        client="qq",
        attachments=[Att("联合宣传活动.jpg", photo(131))],
        received=received("2851746630@qq.com", at13, "13"),
    )
    samples.append(
        Sample(
            "13_two_units_conflict_review.eml",
            m13,
            "two units named in the subject, unregistered sender",
            "review queue: conflicting candidates 西渡镇, 集兵镇",
        )
    )
    return samples


README_HEAD = f"""# Sample inbox

Generated by `python samples/make_samples.py` (deterministic: same bytes every run).
Campaign deadline `{DEADLINE}`; office mailbox `{OFFICE[1]}`. Use it with
`mailbox.source: folder`: the receive time of each message is the date of its topmost
`Received` header (Date headers are not trusted, and in `06` the Date header lies).

| file | what it demonstrates | expected outcome |
|---|---|---|
"""

README_TAIL = """
Expected per unit, over the whole inbox: 西渡镇 complete and on time (3 photos, 1 report, 1 deeds,
1 video); 演陂镇 complete and on time (video as a link); 樟树乡 complete and on time; 曲兰镇
incomplete (report, deeds missing); 县教育局 incomplete (video missing); 县交通运输局 incomplete
(deeds, video missing); 金兰镇 complete but late; 集兵镇 and every other unit not submitted.
Two messages go to review (10, 13); two are not submissions (08, 09).
"""


def write(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    samples = build()
    written = []
    for sample in samples:
        path = out / sample.filename
        path.write_bytes(sample.mail.to_bytes())
        written.append(path)
    wanted = {s.filename for s in samples}
    for stale in out.glob("*.eml"):
        if stale.name not in wanted:
            stale.unlink()
    rows = "".join(f"| `{s.filename}` | {s.demonstrates} | {s.expected} |\n" for s in samples)
    (out / "README.md").write_text(README_HEAD + rows + README_TAIL, encoding="utf-8")
    return written


def main() -> int:
    paths = write()
    total = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} messages, {total / 1e6:.2f} MB, to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
