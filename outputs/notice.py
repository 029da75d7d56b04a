"""The notice draft (通报) on the submission of the campaign's materials, as a .docx.

Layout follows GB/T 9704-2012 as far as plain Word paragraphs allow (so staff can edit it freely):
A4, margins 37/35/28/26 mm, a red 发文机关标志 line, 发文字号 above a red separator rule, a
二号 小标宋 title, 主送, a 三号 仿宋 body on a 22-line grid, headings in 黑体, 落款 and date
placeholder, and "— 1 —" page numbers (odd pages right, even pages left).

The title breaks between words only (outputs/_title.py); the long lists (deductions, units
that sent nothing) are 附件 tables on their own pages; the 版记 (抄送, 印发机关, 印发日期
between rules) closes the last page. Fonts are named as a Chinese Windows has them, with
substitutes in the font table (outputs/_docx.FONT_FALLBACKS).

Which units a section names comes from the tables: ``notice_reasons`` codes decide the 通报
sections (``low_score`` only once staff confirmed the score; until then the unit is in
``pending_reasons``), ``award`` the 表扬 section, and confirmed ``individuals`` the
commendation list. What is not yet confirmed goes to a last, separate page marked for
internal use (内部审核清单), never into the notice itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_TAB_ALIGNMENT
from docx.shared import Mm, Pt

from contract import INTEGRITY_KIND_LABELS, MISSING_NOUNS, NOTICE_REASON_LABELS
from outputs._common import (
    chinese_ordinal,
    display_width,
    format_number,
    is_missing,
    missing_label,
    reasons_label,
    split_codes,
    write_report,
    xml_safe,
)
from outputs._docx import (
    FONT_BODY,
    FONT_HEADING,
    FONT_KAI,
    FONT_SONG,
    FONT_TITLE,
    RED,
    SIZE_ERHAO,
    SIZE_SANHAO,
    SIZE_SIHAO,
    SIZE_XIAOCHU,
    add_field,
    add_font_fallbacks,
    cell_margins,
    clear_body,
    column_widths,
    exact_spacing,
    float_to_bottom,
    no_grid_snap,
    paragraph_border,
    repeat_header,
    rules,
    run_font,
    set_chinese_defaults,
    set_doc_grid,
    style_font,
    table_borders,
    table_cells,
)
from outputs._title import TITLE_CAPACITY, notice_title, title_lines
from outputs.tables import ReportTables

RECIPIENTS = "各乡镇（园区）禁毒办，县禁毒委各成员单位："
DOC_NUMBER_PREFIX = "县禁毒办"
NONE_TEXT = "无。"

# GB/T 9704: 22 lines per page of 28 characters on a 156 x 225 mm text block.
LINE_PITCH_PT = 28.95
TEXT_WIDTH_PT = 156 / 25.4 * 72
TEXT_HEIGHT_PT = 225 / 25.4 * 72
TABLE_SIZE = 14.0  # 四号 in the 附件 tables and the 版记
BODY_INDENT_PT = 2 * SIZE_SANHAO

STYLE_HEAD = "公文发文机关标志"
STYLE_NUMBER = "公文发文字号"
STYLE_TITLE = "公文标题"
STYLE_RECIPIENT = "公文主送机关"
STYLE_HEADING = "公文一级标题"
STYLE_SIGNATURE = "公文落款"
STYLE_PAGE_NUMBER = "公文页码"
STYLE_TABLE = "公文表格"
STYLE_COLOPHON = "公文版记"
STYLE_INTERNAL = "内部审核"
# Column widths of the 附件 tables as shares of the text width, by column count.
COLUMN_SHARES = {3: (0.16, 0.5, 0.34), 5: (0.09, 0.26, 0.2, 0.35, 0.1)}
INTERNAL_TITLE = "内部审核清单（不属于通报正文，印发前删除）"
ATTACHMENT_DEDUCTIONS = "通报单位及绩效考评扣分情况表"
ATTACHMENT_NOT_SUBMITTED = "未报送单位名单"

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


def _late_detail(record: dict[str, Any]) -> str:
    """逾期2天，视频资料在截止时间后报送: whole days as scoring counted them, and what."""
    days = record.get("days_late")
    parts = []
    if not is_missing(days) and float(days) > 0:
        parts.append(f"逾期{format_number(days)}天")
    late = split_codes(record.get("late_items"))
    present = [c for c in MISSING_NOUNS if c not in split_codes(record.get("missing"))]
    if late and late == present:
        parts.append("全部材料均在截止时间后报送")
    elif late:
        parts.append("、".join(MISSING_NOUNS.get(c, c) for c in late) + "在截止时间后报送")
    return "，".join(parts)


def _entry(record: dict[str, Any], code: str) -> str:
    """A unit as named in one section, with the detail that section needs from its row."""
    name = xml_safe(record.get("unit"))
    if code == "late":
        detail = _late_detail(record)
        return f"{name}（{detail}）" if detail else name
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
    table = paragraph_style(
        STYLE_TABLE, FONT_BODY, TABLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER, line=20
    )
    colophon = paragraph_style(
        STYLE_COLOPHON, FONT_BODY, TABLE_SIZE, align=WD_ALIGN_PARAGRAPH.LEFT, line=TABLE_SIZE * 1.5
    )
    internal = paragraph_style(STYLE_INTERNAL, FONT_KAI, SIZE_SANHAO, align=WD_ALIGN_PARAGRAPH.LEFT)
    for style in (table, colophon, internal):
        no_grid_snap(style)


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


class _Draft:
    """The document being written and what every part of it reads from the tables."""

    def __init__(self, tables: ReportTables, doc_number: str | None, recipients: str) -> None:
        campaign = tables.campaign
        tz = campaign.deadline.tzinfo
        self.tables = tables
        self.generated = campaign.generated_at.astimezone(tz)
        self.deadline = campaign.deadline.astimezone(tz)
        self.office = xml_safe(campaign.office)
        self.issuer = xml_safe(campaign.issuer) or self.office
        self.campaign_title = xml_safe(campaign.title)
        self.title = notice_title(self.deadline.year, self.campaign_title)
        number = doc_number or campaign.doc_number
        self.doc_number = number or f"{DOC_NUMBER_PREFIX}〔{self.generated.year}〕X号"
        self.date_placeholder = f"{self.generated.year}年X月X日"
        self.recipients = xml_safe(recipients)
        self.units = _records(tables.units)
        self.people = _records(tables.individuals)
        self.findings = _records(tables.integrity)
        self.document = Document()
        self.section_number = 0
        self.attachments: list[tuple[str, list[str], list[list[str]]]] = []

    def paragraph(self, text: str, style: str | None = None):
        return self.document.add_paragraph(xml_safe(text), style=style)

    def heading(self, label: str) -> None:
        self.section_number += 1
        self.paragraph(f"{chinese_ordinal(self.section_number)}、{label}", STYLE_HEADING)

    def with_reason(self, code: str) -> list[dict[str, Any]]:
        return [r for r in self.units if _has_reason(r, code)]

    def confirmed_people(self) -> list[dict[str, Any]]:
        seen, people = set(), []
        for person in self.people:
            key = (person.get("unit"), person.get("name"))
            if person.get("status") == "confirmed" and key not in seen:
                seen.add(key)
                people.append(person)
        return people


def write_notice(
    path: Path,
    tables: ReportTables,
    *,
    doc_number: str | None = None,
    recipients: str = RECIPIENTS,
) -> Path:
    """Write the 通报 draft to ``path`` (.docx) atomically; returns where it landed (see
    ``write_report``).

    ``doc_number`` defaults to the campaign's (config ``notice.doc_number``), else the
    placeholder "县禁毒办〔<year of generated_at>〕X号".
    """
    draft = _Draft(tables, doc_number, recipients)
    _setup(draft)
    _head(draft)
    _body(draft)
    _closing(draft)
    _attachment_pages(draft)
    _colophon(draft)
    _internal_page(draft)
    return write_report(
        Path(path), lambda tmp: draft.document.save(str(tmp)), tables.campaign.generated_at
    )


def _setup(draft: _Draft) -> None:
    document = draft.document
    clear_body(document)
    set_chinese_defaults(document, FONT_BODY, SIZE_SANHAO)
    add_font_fallbacks(document)
    _build_styles(document)
    _page_setup(document)
    core = document.core_properties
    core.title = draft.title
    core.author = draft.office
    core.last_modified_by = draft.office
    core.comments = ""


def _head(draft: _Draft) -> None:
    """版头: 发文机关标志 (red), 发文字号, red separator rule; then the title and 主送."""
    head_text = f"{draft.office}文件"
    head = draft.paragraph(head_text, STYLE_HEAD)
    # Shrink the mark so it stays on one line of the 156 mm text block.
    size = min(SIZE_XIAOCHU, int(440 / max(display_width(head_text) / 2, 1)))
    for run in head.runs:
        run_font(run, FONT_TITLE, size, color=RED)
    head.paragraph_format.space_before = Mm(25)
    head.paragraph_format.line_spacing = Pt(size * 1.2)
    _blank(draft.document, 2)
    number = draft.paragraph(draft.doc_number, STYLE_NUMBER)
    paragraph_border(number, "bottom", color="FF0000", size_eighths=12, space_pt=11)
    _blank(draft.document, 2)
    title = draft.document.add_paragraph(style=STYLE_TITLE)
    decided = draft.tables.campaign.title_lines
    lines = (
        list(decided)
        if "".join(decided) == draft.title
        else title_lines(draft.title, TITLE_CAPACITY)
    )
    for index, line in enumerate(lines):
        run = title.add_run(line)
        if index < len(lines) - 1:
            run.add_break(WD_BREAK.LINE)  # the only places the title may break
    _blank(draft.document)
    draft.paragraph(draft.recipients, STYLE_RECIPIENT)


def _body(draft: _Draft) -> None:
    units, office, year = draft.units, draft.office, draft.deadline.year
    submitted = _count(units, "submitted")
    draft.paragraph(
        f"根据{year}年度{draft.campaign_title}工作安排，各乡镇（园区）禁毒办、县禁毒委各成员单位"
        f"应于{_cn_date(draft.deadline)}前将活动照片、总结报告、事迹材料和视频资料报送{office}。"
        f"截至{_cn_time(draft.generated)}，全县应报送单位{len(units)}个，已报送{submitted}个，"
        f"其中按时报送{_count(units, 'on_time')}个，材料齐全{_count(units, 'complete')}个；"
        f"未报送{len(units) - submitted}个。现将有关情况通报如下："
    )
    for code, label in REASON_SECTIONS:
        draft.heading(label)
        draft.paragraph(_section_text(draft, code))
    _other_codes(draft)
    _praise(draft)
    _deductions_note(draft)


def _section_text(draft: _Draft, code: str) -> str:
    records = draft.with_reason(code)
    if code == "not_submitted" and records:
        rows = [
            [str(i), xml_safe(r.get("unit")), xml_safe(r.get("category"))]
            for i, r in enumerate(records, 1)
        ]
        number = _attach(draft, ATTACHMENT_NOT_SUBMITTED, ["序号", "单位名称", "单位类别"], rows)
        return f"共{len(records)}个单位未报送任何材料，名单见附件{number}。"
    if code == "low_score" and not records and _pending_low(draft):
        return "评分结果待核定后列出。"
    if not records:
        return NONE_TEXT
    return _section_sentence(code, [_entry(r, code) for r in records])


def _pending_low(draft: _Draft) -> list[dict[str, Any]]:
    return [r for r in draft.units if "low_score" in split_codes(r.get("pending_reasons"))]


def _other_codes(draft: _Draft) -> None:
    """Project codes scoring added beyond the contract's four get one section of their own."""
    known = {code for code, _ in REASON_SECTIONS}
    extra = [
        f"{xml_safe(r.get('unit'))}（{'、'.join(xml_safe(c) for c in codes)}）"
        for r in draft.units
        if (codes := [c for c in split_codes(r.get("notice_reasons")) if c not in known])
    ]
    if extra:
        draft.heading("其他需通报情况")
        draft.paragraph("、".join(extra) + "。")


def _praise(draft: _Draft) -> None:
    draft.heading("表扬")
    awarded = sorted((r for r in draft.units if bool(r.get("award"))), key=_rank_key)
    if awarded:
        names = [xml_safe(r.get("unit")) for r in awarded]
        draft.paragraph(
            f"{_names(names)}，共{len(names)}个单位材料报送及时、内容齐全、质量较高，"
            "拟评为先进单位，予以通报表扬。"
        )
    else:
        draft.paragraph(NONE_TEXT)
    people = draft.confirmed_people()
    if people:
        listed = "、".join(
            f"{xml_safe(p.get('name'))}（{xml_safe(p.get('unit'))}）" for p in people
        )
        draft.paragraph(f"{listed}，共{len(people)}名同志表现突出，拟评为先进个人，予以通报表扬。")
    else:
        draft.paragraph("先进个人：无。")


def _deductions_note(draft: _Draft) -> None:
    """绩效考评扣分, as scoring decided it (config.yaml scoring.deduction): 附件 table."""
    rows = []
    for record in draft.units:
        deduction = record.get("deduction")
        lost = 0.0 if is_missing(deduction) else float(deduction)
        if not (lost > 0 or split_codes(record.get("notice_reasons"))):
            continue
        rows.append(
            [
                str(len(rows) + 1),
                xml_safe(record.get("unit")),
                reasons_label(record.get("notice_reasons")),
                _situation(record),
                format_number(lost) if lost > 0 else "—",
            ]
        )
    if not any(row[4] != "—" for row in rows):
        return
    header = ["序号", "单位名称", "通报事由", "具体情况", "扣分"]
    number = _attach(draft, ATTACHMENT_DEDUCTIONS, header, rows)
    draft.paragraph(f"按照年度绩效考评有关规定，对被通报单位予以扣分，扣分情况见附件{number}。")


def _situation(record: dict[str, Any]) -> str:
    parts = []
    if _has_reason(record, "not_submitted"):
        parts.append("未报送任何材料")
    if _has_reason(record, "late"):
        parts.append(_late_detail(record))
    if _has_reason(record, "incomplete"):
        parts.append(f"缺{missing_label(record.get('missing'))}")
    if _has_reason(record, "low_score"):
        parts.append(f"得分{float(record.get('score')):.1f}分")
    return "；".join(parts)


def _attach(draft: _Draft, title: str, header: list[str], rows: list[list[str]]) -> int:
    draft.attachments.append((title, header, rows))
    return len(draft.attachments)


def _closing(draft: _Draft) -> None:
    draft.paragraph(
        "请被通报单位高度重视，认真查找原因，抓紧补报相关材料，并于"
        f"{draft.date_placeholder}前将整改情况报{draft.office}。各单位要以此次活动为契机，"
        "进一步压实工作责任，推动禁毒志愿服务工作常态化、规范化开展。"
    )
    closing = draft.paragraph("特此通报。")
    closing.paragraph_format.keep_with_next = True
    if draft.attachments:  # 附件说明: below the body, 2 characters in, numbered
        _blank(draft.document, keep_with_next=True)
        for index, (title, _, _) in enumerate(draft.attachments, 1):
            label = "附件：" if index == 1 else "　　　"
            item = draft.paragraph(
                f"{label}{index}．{title}" if len(draft.attachments) > 1 else f"附件：{title}"
            )
            item.paragraph_format.keep_with_next = True
    # 落款: office two characters from the right edge; the date below, starting two characters
    # further right than the office name (GB/T 9704 7.3.5.2 without a seal).
    _blank(draft.document, 2, keep_with_next=True)
    signature = draft.paragraph(draft.office, STYLE_SIGNATURE)
    signature.paragraph_format.keep_with_next = True
    signature.paragraph_format.right_indent = Pt(2 * SIZE_SANHAO)
    shift = (display_width(draft.office) - display_width(draft.date_placeholder)) / 2 - 2
    date = draft.paragraph(draft.date_placeholder, STYLE_SIGNATURE)
    date.paragraph_format.right_indent = Pt(max(2 + shift, 2) * SIZE_SANHAO)


def _attachment_pages(draft: _Draft) -> None:
    """Each 附件 on a page of its own: "附件N" in 黑体, its title, then the table."""
    for index, (title, header, rows) in enumerate(draft.attachments, 1):
        label = draft.paragraph(f"附件{index}" if len(draft.attachments) > 1 else "附件")
        label.paragraph_format.page_break_before = True
        label.paragraph_format.first_line_indent = Pt(0)
        for run in label.runs:
            run_font(run, FONT_HEADING, SIZE_SANHAO)
        _blank(draft.document)
        draft.paragraph(title, STYLE_TITLE)
        _blank(draft.document)
        _table(draft, header, rows)


def _table(draft: _Draft, header: list[str], rows: list[list[str]]) -> None:
    table = draft.document.add_table(rows=1 + len(rows), cols=len(header))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table_borders(table)
    cell_margins(table)
    shares = COLUMN_SHARES.get(len(header), (1 / len(header),) * len(header))
    column_widths(table, [share * TEXT_WIDTH_PT for share in shares])
    repeat_header(table.rows[0])
    style_id = draft.document.styles[STYLE_TABLE].style_id
    for r, (cells, values) in enumerate(zip(table_cells(table), [header, *rows], strict=True)):
        for c, (cell, value) in enumerate(zip(cells, values, strict=True)):
            paragraph = cell.paragraphs[0]
            paragraph._p.style = style_id  # by id: the style setter looks the name up each time
            wide = c > 0 and len(header) > 3 and c == len(header) - 2
            if r > 0 and wide:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT
            run = paragraph.add_run(xml_safe(value))
            run_font(run, FONT_HEADING if r == 0 else FONT_BODY, TABLE_SIZE)


def _colophon(draft: _Draft) -> None:
    """版记 at the foot of the last page: 抄送 and 印发机关 / 印发日期 between rules (the first
    and last thick, the one between thin), 四号 仿宋, one character in from each side."""
    cc = draft.tables.campaign.cc
    lines = [f"抄送：{'，'.join(xml_safe(c) for c in cc)}。"] if cc else []
    lines.append(f"{draft.issuer}\t{draft.date_placeholder}印发")
    table = draft.document.add_table(rows=len(lines), cols=1)
    rules(table, top=8, inside=4, bottom=8)
    column_widths(table, [TEXT_WIDTH_PT])
    float_to_bottom(table, TEXT_HEIGHT_PT - len(lines) * (TABLE_SIZE * 1.5 + 2))
    for row, text in zip(table.rows, lines, strict=True):
        paragraph = row.cells[0].paragraphs[0]
        paragraph.style = draft.document.styles[STYLE_COLOPHON]
        paragraph.paragraph_format.left_indent = Pt(TABLE_SIZE)
        paragraph.paragraph_format.right_indent = Pt(TABLE_SIZE)
        stop = TEXT_WIDTH_PT - 2 * TABLE_SIZE - 10
        paragraph.paragraph_format.tab_stops.add_tab_stop(Pt(stop), WD_TAB_ALIGNMENT.RIGHT)
        run_font(paragraph.add_run(text), FONT_BODY, TABLE_SIZE)


def _internal_page(draft: _Draft) -> None:
    """What is not yet confirmed, on a page of its own section (no page number), clearly
    marked for internal use: the notice above never names these units or people."""
    lines = _internal_lines(draft)
    if not lines:
        return
    section = draft.document.add_section(WD_SECTION.NEW_PAGE)
    for footer in (section.footer, section.even_page_footer):
        footer.is_linked_to_previous = False
        for paragraph in footer.paragraphs:
            for run in paragraph.runs:
                run.text = ""
            for child in list(paragraph._p):
                if child.tag.endswith("}r"):
                    paragraph._p.remove(child)
    title = draft.paragraph(INTERNAL_TITLE, STYLE_INTERNAL)
    for run in title.runs:
        run_font(run, FONT_HEADING, SIZE_SANHAO, color=RED)
    for text, indent in lines:
        paragraph = draft.paragraph(text, STYLE_INTERNAL)
        paragraph.paragraph_format.first_line_indent = Pt(0)
        paragraph.paragraph_format.left_indent = Pt(indent * SIZE_SANHAO)


def _internal_lines(draft: _Draft) -> list[tuple[str, int]]:
    lines: list[tuple[str, int]] = []
    pending = _pending_low(draft)
    if pending:
        lines.append(("一、建议通报为评分偏低的单位（评分未经确认，仅供内部参考）：", 0))
        lines += [
            (f"{xml_safe(r.get('unit'))}（{float(r.get('score')):.1f}分）", 2) for r in pending
        ]
        lines.append(
            ("核对评分后在管理台“确认评分”页确认（或运行 confirm-scores），确认后方列入通报。", 2)
        )
    waiting = [p for p in draft.people if p.get("status") == "candidate"]
    if waiting:
        lines.append((f"{chinese_ordinal(_next(lines))}、先进个人候选人（待确认）：", 0))
        lines += [
            (
                f"{xml_safe(p.get('name'))}（{xml_safe(p.get('unit'))}）："
                f"{xml_safe(p.get('document'))}",
                2,
            )
            for p in waiting
        ]
        lines.append(
            (
                "在管理台“先进个人”页确认或不予表彰（或运行 confirm-individual / "
                "reject-individual 姓名 单位）。",
                2,
            )
        )
    if draft.findings:
        lines.append(
            (
                f"{chinese_ordinal(_next(lines))}、疑点（供核实，详见 integrity.csv）：",
                0,
            )
        )
        lines += _finding_lines(draft.findings)
    return lines


def _next(lines: list[tuple[str, int]]) -> int:
    return sum(1 for _, indent in lines if indent == 0) + 1


def _finding_lines(findings: list[dict[str, Any]]) -> list[tuple[str, int]]:
    by_unit: dict[str, dict[str, int]] = {}
    for finding in findings:
        kinds = by_unit.setdefault(str(finding.get("unit")), {})
        kind = str(finding.get("kind"))
        kinds[kind] = kinds.get(kind, 0) + 1
    return [
        (
            f"{xml_safe(unit)}："
            + "，".join(
                f"{INTEGRITY_KIND_LABELS.get(kind, kind)} {count} 处"
                for kind, count in kinds.items()
            ),
            2,
        )
        for unit, kinds in by_unit.items()
    ]
