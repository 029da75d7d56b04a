"""The notice draft (通报) on the submission of the campaign's materials, as a .docx.

Layout follows GB/T 9704-2012 as far as plain Word paragraphs allow (so staff can edit it freely):
A4, margins 37/35/28/26 mm, a red 发文机关标志 line, 发文字号 above a red separator rule, a
二号 小标宋 title, 主送, a 三号 仿宋 body on a 22-line grid, headings in 黑体, 落款 and date
placeholder, and "— 1 —" page numbers (odd pages right, even pages left).

Which units a section names comes from the tables: ``notice_reasons`` codes decide the 通报
sections, ``award`` the 表扬 section, and ``individuals`` the candidate outstanding individuals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

from contract import NOTICE_REASON_LABELS
from outputs._common import (
    chinese_ordinal,
    display_width,
    format_number,
    is_missing,
    missing_label,
    split_codes,
    write_report,
    xml_safe,
)
from outputs._docx import (
    FONT_BODY,
    FONT_HEADING,
    FONT_SONG,
    FONT_TITLE,
    RED,
    SIZE_ERHAO,
    SIZE_SANHAO,
    SIZE_SIHAO,
    SIZE_XIAOCHU,
    add_field,
    clear_body,
    exact_spacing,
    paragraph_border,
    run_font,
    set_chinese_defaults,
    set_doc_grid,
    style_font,
)
from outputs.tables import ReportTables

RECIPIENTS = "各乡镇（园区）禁毒办，县禁毒委各成员单位："
DOC_NUMBER_PREFIX = "县禁毒办"
NONE_TEXT = "无。"

# GB/T 9704: 22 lines per page of 28 characters on a 156 x 225 mm text block.
LINE_PITCH_PT = 28.95
BODY_INDENT_PT = 2 * SIZE_SANHAO

STYLE_HEAD = "公文发文机关标志"
STYLE_NUMBER = "公文发文字号"
STYLE_TITLE = "公文标题"
STYLE_RECIPIENT = "公文主送机关"
STYLE_HEADING = "公文一级标题"
STYLE_SIGNATURE = "公文落款"
STYLE_PAGE_NUMBER = "公文页码"

# The sections naming units, in order, by notice_reasons code.
REASON_SECTIONS = (
    ("not_submitted", "未报送单位"),
    ("late", "逾期报送单位"),
    ("incomplete", "材料不全单位"),
    ("low_score", "评分偏低单位"),
)


def _cn_date(moment: datetime) -> str:
    return f"{moment.year}年{moment.month}月{moment.day}日"


def _cn_time(moment: datetime) -> str:
    return f"{_cn_date(moment)}{moment.hour}时"


def _names(names: Sequence[str]) -> str:
    return "、".join(xml_safe(name) for name in names)


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None or frame.empty:
        return []
    return frame.to_dict(orient="records")


def _has_reason(record: dict[str, Any], code: str) -> bool:
    return code in split_codes(record.get("notice_reasons"))


def _count(records: Sequence[dict[str, Any]], flag: str) -> int:
    return sum(1 for record in records if bool(record.get(flag)))


def _entry(record: dict[str, Any], code: str) -> str:
    """A unit as named in one section, with the detail that section needs from its row."""
    name = xml_safe(record.get("unit"))
    if code == "late":
        days = record.get("days_late")
        if not is_missing(days) and float(days) > 0:
            return f"{name}（逾期{format_number(days)}天）"
        return name
    if code == "incomplete":
        missing = missing_label(record.get("missing"))
        return f"{name}（缺{missing}）" if missing else name
    if code == "low_score":
        score = record.get("score")
        return name if is_missing(score) else f"{name}（{float(score):.1f}分）"
    if code not in NOTICE_REASON_LABELS:
        return f"{name}（{xml_safe(code)}）"
    return name


def _section_sentence(code: str, entries: Sequence[str]) -> str:
    joined = "、".join(entries)
    count = len(entries)
    if code == "not_submitted":
        return f"{joined}，共{count}个单位未报送任何材料。"
    if code == "late":
        return f"{joined}，共{count}个单位在截止时间之后报送材料。"
    if code == "incomplete":
        return f"{joined}，共{count}个单位报送材料不全。"
    if code == "low_score":
        return f"{joined}，共{count}个单位报送材料质量不高、评分偏低。"
    return f"{joined}，共{count}个单位。"


def _rank_key(record: dict[str, Any]) -> tuple[int, float]:
    rank = record.get("rank")
    return (1, 0.0) if is_missing(rank) else (0, float(rank))


def _build_styles(document) -> None:
    styles = document.styles
    normal = styles["Normal"]
    style_font(normal, FONT_BODY, SIZE_SANHAO)
    exact_spacing(normal.paragraph_format, LINE_PITCH_PT)
    normal.paragraph_format.first_line_indent = Pt(BODY_INDENT_PT)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    normal.paragraph_format.widow_control = False

    def paragraph_style(
        name: str,
        font: str,
        size: float,
        *,
        color=None,
        align=None,
        indent: float = 0.0,
        line: float = LINE_PITCH_PT,
    ):
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        style.quick_style = True
        style_font(style, font, size, color=color)
        exact_spacing(style.paragraph_format, line)
        style.paragraph_format.first_line_indent = Pt(indent)
        if align is not None:
            style.paragraph_format.alignment = align
        return style

    head = paragraph_style(
        STYLE_HEAD,
        FONT_TITLE,
        SIZE_XIAOCHU,
        color=RED,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        line=SIZE_XIAOCHU * 1.2,
    )
    head.font.color.rgb = RED
    paragraph_style(STYLE_NUMBER, FONT_BODY, SIZE_SANHAO, align=WD_ALIGN_PARAGRAPH.CENTER)
    paragraph_style(STYLE_TITLE, FONT_TITLE, SIZE_ERHAO, align=WD_ALIGN_PARAGRAPH.CENTER, line=35)
    paragraph_style(STYLE_RECIPIENT, FONT_BODY, SIZE_SANHAO, align=WD_ALIGN_PARAGRAPH.LEFT)
    paragraph_style(STYLE_HEADING, FONT_HEADING, SIZE_SANHAO, indent=BODY_INDENT_PT)
    paragraph_style(STYLE_SIGNATURE, FONT_BODY, SIZE_SANHAO, align=WD_ALIGN_PARAGRAPH.RIGHT)
    paragraph_style(STYLE_PAGE_NUMBER, FONT_SONG, SIZE_SIHAO, line=SIZE_SIHAO * 1.2)


def _page_setup(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width = Mm(210)
    section.page_height = Mm(297)
    section.top_margin = Mm(37)
    section.bottom_margin = Mm(35)
    section.left_margin = Mm(28)
    section.right_margin = Mm(26)
    section.header_distance = Mm(15)
    # The page number's dash sits 7 mm below the text block.
    section.footer_distance = Mm(35 - 7 - 6)
    set_doc_grid(section, round(LINE_PITCH_PT * 20))
    document.settings.odd_and_even_pages_header_footer = True
    for footer, align, side in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right"),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left"),
    ):
        footer.is_linked_to_previous = False
        paragraph = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
        paragraph.style = document.styles[STYLE_PAGE_NUMBER]
        paragraph.alignment = align
        if side == "right":
            paragraph.paragraph_format.right_indent = Pt(SIZE_SIHAO)
        else:
            paragraph.paragraph_format.left_indent = Pt(SIZE_SIHAO)
        dash = run_font(paragraph.add_run("— "), FONT_SONG, SIZE_SIHAO, latin=FONT_SONG)
        add_field(paragraph, "PAGE", "1", dash)
        run_font(paragraph.add_run(" —"), FONT_SONG, SIZE_SIHAO, latin=FONT_SONG)


def _blank(document, count: int = 1, *, keep_with_next: bool = False) -> None:
    for _ in range(count):
        document.add_paragraph("").paragraph_format.keep_with_next = keep_with_next


def write_notice(
    path: Path,
    tables: ReportTables,
    *,
    doc_number: str | None = None,
    recipients: str = RECIPIENTS,
) -> Path:
    """Write the 通报 draft to ``path`` (.docx) atomically; returns where it landed (see
    ``write_report``).

    ``doc_number`` defaults to the placeholder "县禁毒办〔<year of generated_at>〕X号".
    """
    campaign = tables.campaign
    tz = campaign.deadline.tzinfo
    generated = campaign.generated_at.astimezone(tz)
    deadline = campaign.deadline.astimezone(tz)
    campaign_year = deadline.year
    issue_year = generated.year
    office = xml_safe(campaign.office)
    title = xml_safe(campaign.title)
    doc_number = doc_number or f"{DOC_NUMBER_PREFIX}〔{issue_year}〕X号"
    date_placeholder = f"{issue_year}年X月X日"

    document = Document()
    clear_body(document)
    set_chinese_defaults(document, FONT_BODY, SIZE_SANHAO)
    _build_styles(document)
    _page_setup(document)
    core = document.core_properties
    core.title = f"关于{campaign_year}年度{title}材料报送情况的通报"
    core.author = office
    core.last_modified_by = office
    core.comments = ""

    # 版头: 发文机关标志 (red), 发文字号, red separator rule.
    head_text = f"{office}文件"
    head = document.add_paragraph(head_text, style=STYLE_HEAD)
    # Shrink the mark so it stays on one line of the 156 mm text block.
    chars = max(display_width(head_text) / 2, 1)
    size = min(SIZE_XIAOCHU, int(440 / chars))
    for run in head.runs:
        run_font(run, FONT_TITLE, size, color=RED)
    head.paragraph_format.space_before = Mm(25)
    head.paragraph_format.line_spacing = Pt(size * 1.2)
    _blank(document, 2)
    number = document.add_paragraph(doc_number, style=STYLE_NUMBER)
    paragraph_border(number, "bottom", color="FF0000", size_eighths=12, space_pt=11)
    _blank(document, 2)

    # 主体: title, 主送, body.
    document.add_paragraph(f"关于{campaign_year}年度{title}材料报送情况的通报", style=STYLE_TITLE)
    _blank(document)
    document.add_paragraph(xml_safe(recipients), style=STYLE_RECIPIENT)

    units = _records(tables.units)
    total = len(units)
    submitted = _count(units, "submitted")
    on_time = _count(units, "on_time")
    complete = _count(units, "complete")
    not_submitted = total - submitted
    document.add_paragraph(
        f"根据{campaign_year}年度{title}工作安排，各乡镇（园区）禁毒办、县禁毒委各成员单位"
        f"应于{_cn_date(deadline)}前将活动照片、总结报告、事迹材料和视频资料报送{office}。"
        f"截至{_cn_time(generated)}，全县应报送单位{total}个，已报送{submitted}个，"
        f"其中按时报送{on_time}个，材料齐全{complete}个；未报送{not_submitted}个。"
        "现将有关情况通报如下："
    )

    section_number = 0

    def heading(label: str) -> None:
        nonlocal section_number
        section_number += 1
        document.add_paragraph(f"{chinese_ordinal(section_number)}、{label}", style=STYLE_HEADING)

    for code, label in REASON_SECTIONS:
        heading(label)
        entries = [_entry(r, code) for r in units if _has_reason(r, code)]
        document.add_paragraph(_section_sentence(code, entries) if entries else NONE_TEXT)

    # Project codes scoring added beyond the contract's four get one section of their own.
    known = {code for code, _ in REASON_SECTIONS}
    extra = [
        f"{xml_safe(r.get('unit'))}（{'、'.join(xml_safe(c) for c in codes)}）"
        for r in units
        if (codes := [c for c in split_codes(r.get("notice_reasons")) if c not in known])
    ]
    if extra:
        heading("其他需通报情况")
        document.add_paragraph("、".join(extra) + "。")

    heading("表扬")
    awarded = sorted((r for r in units if bool(r.get("award"))), key=_rank_key)
    if awarded:
        names = [xml_safe(r.get("unit")) for r in awarded]
        document.add_paragraph(
            f"{_names(names)}，共{len(names)}个单位材料报送及时、内容齐全、质量较高，"
            "拟评为先进单位，予以通报表扬。"
        )
    else:
        document.add_paragraph(NONE_TEXT)
    individuals = _records(tables.individuals)
    if individuals:
        people = "、".join(
            f"{xml_safe(p.get('name'))}（{xml_safe(p.get('unit'))}）" for p in individuals
        )
        document.add_paragraph(f"推荐{people}为先进个人候选人。")
    else:
        document.add_paragraph("先进个人候选人：无。")

    # 绩效考评扣分, as scoring decided it (the rule is in config.yaml scoring.deduction).
    deducted = [
        f"{xml_safe(r.get('unit'))}{format_number(r.get('deduction'))}分"
        for r in units
        if not is_missing(r.get("deduction")) and float(r.get("deduction")) > 0
    ]
    if deducted:
        document.add_paragraph(
            "按照年度绩效考评有关规定，对被通报单位扣分如下：" + "、".join(deducted) + "。"
        )

    document.add_paragraph(
        "请被通报单位高度重视，认真查找原因，抓紧补报相关材料，并于"
        f"{date_placeholder}前将整改情况报{office}。各单位要以此次活动为契机，"
        "进一步压实工作责任，推动禁毒志愿服务工作常态化、规范化开展。"
    )
    closing = document.add_paragraph("特此通报。")
    closing.paragraph_format.keep_with_next = True

    # 落款: office two characters from the right edge; the date below, starting two characters
    # further right than the office name (GB/T 9704 7.3.5.2 without a seal).
    _blank(document, 2, keep_with_next=True)
    signature = document.add_paragraph(office, style=STYLE_SIGNATURE)
    signature.paragraph_format.keep_with_next = True
    signature.paragraph_format.right_indent = Pt(2 * SIZE_SANHAO)
    shift = (display_width(office) - display_width(date_placeholder)) / 2 - 2
    date = document.add_paragraph(date_placeholder, style=STYLE_SIGNATURE)
    date.paragraph_format.right_indent = Pt(max(2 + shift, 2) * SIZE_SANHAO)

    return write_report(
        Path(path), lambda tmp: document.save(str(tmp)), tables.campaign.generated_at
    )
