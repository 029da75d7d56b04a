"""python-docx helpers for Chinese official-document layout (GB/T 9704-2012, as far as Word
paragraphs allow): east-Asian fonts with fallbacks, zh-CN defaults, borders and a PAGE field.
"""

from __future__ import annotations

import copy

from docx.document import Document as DocumentObject
from docx.enum.text import WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.styles.style import BaseStyle
from docx.text.paragraph import Paragraph
from docx.text.run import Run

# Font names as Chinese government offices have them installed (GB/T 9704); Word and WPS
# substitute an installed face where one is missing.
FONT_TITLE = "方正小标宋简体"  # 小标宋
FONT_BODY = "仿宋_GB2312"
FONT_HEADING = "黑体"
FONT_KAI = "楷体_GB2312"
FONT_SONG = "宋体"

RED = RGBColor(0xFF, 0x00, 0x00)

# Chinese font sizes (字号) in points.
SIZE_XIAOCHU = 36.0  # 小初
SIZE_YIHAO = 26.0  # 一号
SIZE_ERHAO = 22.0  # 二号
SIZE_SANHAO = 16.0  # 三号
SIZE_SIHAO = 14.0  # 四号


def set_rfonts(rpr, font: str, latin: str | None = None) -> None:
    """Point a run-properties element (w:rPr) at ``font`` for Chinese and ``latin`` for the rest."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        if rfonts.get(qn(attribute)) is not None:
            del rfonts.attrib[qn(attribute)]
    latin = latin or font
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)
    rfonts.set(qn("w:cs"), latin)
    rfonts.set(qn("w:eastAsia"), font)
    rfonts.set(qn("w:hint"), "eastAsia")


def style_font(
    style: BaseStyle,
    font: str,
    size: float,
    *,
    bold: bool = False,
    color: RGBColor | None = None,
    latin: str | None = None,
) -> None:
    style.font.size = Pt(size)
    style.font.bold = bold
    if color is not None:
        style.font.color.rgb = color
    set_rfonts(style.element.get_or_add_rPr(), font, latin)


def run_font(
    run: Run,
    font: str,
    size: float,
    *,
    bold: bool = False,
    color: RGBColor | None = None,
    latin: str | None = None,
) -> Run:
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    set_rfonts(run._r.get_or_add_rPr(), font, latin)
    return run


def exact_spacing(paragraph_format, line_pt: float, before: float = 0, after: float = 0) -> None:
    paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph_format.line_spacing = Pt(line_pt)
    paragraph_format.space_before = Pt(before)
    paragraph_format.space_after = Pt(after)


def set_chinese_defaults(document: DocumentObject, font: str, size: float) -> None:
    """zh-CN as the east-Asian language and ``font`` as the default, instead of the template's
    Japanese theme font; no automatic space after paragraphs."""
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_rfonts(rpr, font)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    for tag in ("w:sz", "w:szCs"):
        element = rpr.find(qn(tag))
        if element is not None:
            element.set(qn("w:val"), str(int(size * 2)))
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr.find(qn("w:spacing"))
    if spacing is not None:
        ppr.remove(spacing)
    theme_lang = document.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:eastAsia"), "zh-CN")


def paragraph_border(
    paragraph: Paragraph,
    side: str,
    *,
    color: str = "FF0000",
    size_eighths: int = 12,
    space_pt: int = 4,
    style: str = "single",
) -> None:
    """A rule along one side of a paragraph (the red separator line of the document head)."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        # pBdr must come before spacing/ind/jc in pPr's sequence.
        anchor = None
        for tag in ("w:shd", "w:tabs", "w:spacing", "w:ind", "w:jc"):
            anchor = ppr.find(qn(tag))
            if anchor is not None:
                break
        if anchor is not None:
            anchor.addprevious(borders)
        else:
            ppr.append(borders)
    edge = OxmlElement(f"w:{side}")
    edge.set(qn("w:val"), style)
    edge.set(qn("w:sz"), str(size_eighths))
    edge.set(qn("w:space"), str(space_pt))
    edge.set(qn("w:color"), color)
    borders.append(edge)


def add_field(paragraph: Paragraph, instruction: str, placeholder: str, template: Run) -> None:
    """A complex field (``PAGE`` ...) whose runs copy ``template``'s formatting."""

    def formatted_run() -> Run:
        run = paragraph.add_run()
        rpr = template._r.rPr
        if rpr is not None:
            run._r.insert(0, copy.deepcopy(rpr))
        return run

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    formatted_run()._r.append(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    formatted_run()._r.append(instr)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    formatted_run()._r.append(separate)
    formatted_run().text = placeholder
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    formatted_run()._r.append(end)


def set_doc_grid(section, line_pitch_twips: int) -> None:
    """Lines-per-page grid (GB/T 9704: 22 lines of 28 characters)."""
    sect_pr = section._sectPr
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(line_pitch_twips))


def page_border(section, color: str = "C00000") -> None:
    """A double rule around the page (certificates)."""
    sect_pr = section._sectPr
    borders = OxmlElement("w:pgBorders")
    borders.set(qn("w:offsetFrom"), "page")
    for side in ("top", "left", "bottom", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "thinThickSmallGap")
        edge.set(qn("w:sz"), "24")
        edge.set(qn("w:space"), "24")
        edge.set(qn("w:color"), color)
        borders.append(edge)
    # pgBorders follows pgMar (and paperSrc) in sectPr's sequence.
    margins = sect_pr.find(qn("w:pgMar"))
    if margins is not None:
        margins.addnext(borders)
    else:
        sect_pr.append(borders)


def clear_body(document: DocumentObject) -> None:
    """Remove the template's empty first paragraph, keeping the section properties."""
    body = document.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)


# Substitutes named in the font table (w:altName) for the faces a stock Chinese Windows lacks:
# 方正小标宋简体 and the *_GB2312 faces come with font packs; 华文中宋 comes with Office, 仿宋 /
# 楷体 / 黑体 with Windows itself.
FONT_FALLBACKS = {
    FONT_TITLE: ("华文中宋", "roman"),
    FONT_BODY: ("仿宋", "modern"),
    FONT_KAI: ("楷体", "script"),
    FONT_HEADING: ("SimHei", "modern"),
    FONT_SONG: ("SimSun", "auto"),
}


def add_font_fallbacks(document: DocumentObject) -> None:
    """Declare the Chinese faces in the font table with a substitute (w:altName), the GB2312
    charset and a family, so Word and WPS pick a Chinese face where the named one is missing."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.part import XmlPart
    from docx.oxml import parse_xml

    old = document.part.part_related_by(RT.FONT_TABLE)
    fonts = parse_xml(old.blob)
    for name, (alternative, family) in FONT_FALLBACKS.items():
        font = OxmlElement("w:font")
        font.set(qn("w:name"), name)
        for tag, value in (
            ("w:altName", alternative),
            ("w:charset", "86"),
            ("w:family", family),
            ("w:pitch", "variable"),
        ):
            child = OxmlElement(tag)
            child.set(qn("w:val"), value)
            font.append(child)
        fonts.append(font)
    new = XmlPart(old.partname, old.content_type, fonts, document.part.package)
    rel = next(r for r in document.part.rels.values() if r.reltype == RT.FONT_TABLE)
    document.part.drop_rel(rel.rId)
    document.part.relate_to(new, RT.FONT_TABLE)


def cell_margins(table, left_pt: float = 4, right_pt: float = 4) -> None:
    """Horizontal cell margins of a whole table."""
    tbl_pr = table._tbl.tblPr
    margins = OxmlElement("w:tblCellMar")
    for side, value in (("left", left_pt), ("right", right_pt)):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:w"), str(int(value * 20)))
        edge.set(qn("w:type"), "dxa")
        margins.append(edge)
    tbl_pr.append(margins)


def table_borders(table, size_eighths: int = 4) -> None:
    """Single black rules around and between every cell."""
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "single")
        edge.set(qn("w:sz"), str(size_eighths))
        edge.set(qn("w:space"), "0")
        edge.set(qn("w:color"), "000000")
        borders.append(edge)
    tbl_pr.append(borders)


def repeat_header(row) -> None:
    """Repeat a table's first row on every page it spans."""
    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def float_to_bottom(table, offset_pt: float) -> None:
    """Make a table float at the foot of the text block (a positioned table): the 版记 closes
    the last page. Word aligns it to the bottom; readers that ignore the alignment (LibreOffice)
    place it ``offset_pt`` below the top margin, which the caller computes as the text
    block's height less the table's."""
    tbl_pr = table._tbl.tblPr
    position = OxmlElement("w:tblpPr")
    for attribute, value in (
        ("w:vertAnchor", "margin"),
        ("w:horzAnchor", "margin"),
        ("w:tblpY", str(int(offset_pt * 20))),
        ("w:tblpYSpec", "bottom"),
        ("w:tblpXSpec", "center"),
    ):
        position.set(qn(attribute), value)
    tbl_pr.insert(0, position)


def no_grid_snap(style: BaseStyle) -> None:
    """Let a paragraph style keep its own line height instead of the page's line grid."""
    ppr = style.element.get_or_add_pPr()
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    ppr.insert(0, snap)


def rules(table, top: int, inside: int, bottom: int) -> None:
    """Horizontal rules only (eighths of a point): above, between and below the rows."""
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for side, size in (("top", top), ("bottom", bottom), ("insideH", inside)):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "single")
        edge.set(qn("w:sz"), str(size))
        edge.set(qn("w:space"), "0")
        edge.set(qn("w:color"), "000000")
        borders.append(edge)
    for side in ("left", "right", "insideV"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "nil")
        borders.append(edge)
    tbl_pr.append(borders)


def table_cells(table) -> list[list]:
    """The cells of a table without merged cells, row by row, in one pass (python-docx's
    ``table.cell`` and ``row.cells`` rebuild the whole grid on every call)."""
    from docx.table import _Cell

    return [[_Cell(tc, table) for tc in tr.tc_lst] for tr in table._tbl.tr_lst]


def column_widths(table, widths_pt: list[float]) -> None:
    """Fixed column widths (points), honoured by Word, WPS and LibreOffice."""
    table.autofit = False
    grid = table._tbl.tblGrid
    for column, width in zip(grid.findall(qn("w:gridCol")), widths_pt, strict=True):
        column.set(qn("w:w"), str(int(width * 20)))
    for row in table_cells(table):
        for cell, width in zip(row, widths_pt, strict=True):
            cell.width = Pt(width)
