"""The 通报 draft (.docx), opened again with python-docx."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from outputs.notice import RECIPIENTS, write_notice
from tests.support.report_tables import sample_tables

TITLE = "关于2020年度“衡阳群众”禁毒志愿服务活动材料报送情况的通报"
HEADINGS = [
    "一、未报送单位",
    "二、逾期报送单位",
    "三、材料不全单位",
    "四、评分偏低单位",
    "五、表扬",
]


def _open(path: Path):
    return docx.Document(str(path))


def _texts(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def _section_body(texts: list[str], heading: str) -> list[str]:
    """The paragraphs after a heading, up to the next heading or the closing paragraph."""
    start = texts.index(heading) + 1
    body = []
    for line in texts[start:]:
        if line[:2] in {f"{n}、" for n in "一二三四五六七八九"} or line.startswith("请被通报单位"):
            break
        body.append(line)
    return body


def _close(actual, expected_mm: float) -> bool:
    return abs(actual - Mm(expected_mm)) <= Mm(0.1)


@pytest.fixture(scope="module")
def notice(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("notice") / "通报.docx"
    write_notice(path, sample_tables())
    return _open(path), path


def test_head_title_and_recipients(notice) -> None:
    document, _ = notice
    paragraphs = [p for p in document.paragraphs if p.text]
    head = paragraphs[0]
    assert head.text == "衡阳县禁毒委员会办公室文件"
    assert (
        head.alignment == WD_ALIGN_PARAGRAPH.CENTER
        or head.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    )
    assert all(run.font.color.rgb == RGBColor(0xFF, 0, 0) for run in head.runs)
    east_asia = head.runs[0]._r.rPr.rFonts.get(qn("w:eastAsia"))
    assert east_asia == "方正小标宋简体"
    number = paragraphs[1]
    assert number.text == "县禁毒办〔2021〕X号"
    border = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert border.get(qn("w:color")) == "FF0000"  # the red separator line
    title = paragraphs[2]
    # Broken between words only: a line break after 禁毒, none inside a word.
    assert title.text.split("\n") == [
        "关于2020年度“衡阳群众”禁毒",
        "志愿服务活动材料报送情况的通报",
    ]
    assert title.style.font.size == Pt(22)
    assert title.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert paragraphs[3].text == RECIPIENTS == "各乡镇（园区）禁毒办，县禁毒委各成员单位："
    body = document.styles["Normal"]
    assert body.font.size == Pt(16)
    assert body.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert document.core_properties.title == TITLE


def test_overall_situation_and_sections(notice) -> None:
    document, _ = notice
    texts = _texts(document)
    overall = next(t for t in texts if t.startswith("根据"))
    assert "应于2020年12月31日前" in overall
    assert "全县应报送单位8个，已报送6个，其中按时报送4个，材料齐全4个；未报送2个" in overall
    headings = [p.text for p in document.paragraphs if p.style.name == "公文一级标题"]
    assert headings == HEADINGS
    assert _section_body(texts, "一、未报送单位") == ["共2个单位未报送任何材料，名单见附件1。"]
    late = _section_body(texts, "二、逾期报送单位")[0]
    # Whole days, as scoring counted them, and what arrived late.
    assert late.startswith(
        "县公安局（逾期2天，全部材料均在截止时间后报送）、"
        "衡阳县工业园区（逾期3天，全部材料均在截止时间后报送）"
    )
    incomplete = _section_body(texts, "三、材料不全单位")[0]
    assert incomplete.startswith("金兰镇（缺视频）、衡阳县工业园区（缺照片、总结报告）")
    assert "金溪镇" not in incomplete  # not-submitted units are named once, in section 一
    assert _section_body(texts, "四、评分偏低单位")[0].startswith("衡阳县工业园区（45.0分）")
    praise = _section_body(texts, "五、表扬")
    assert praise[0].startswith("西渡镇、界牌镇，共2个单位")
    # Only staff-confirmed individuals; 王志刚 is still a candidate (internal page only).
    assert (
        praise[1]
        == "张建华（西渡镇）、李梅（界牌镇），共2名同志表现突出，拟评为先进个人，予以通报表扬。"
    )
    body = texts[: texts.index("特此通报。")]
    assert not any("王志刚" in t for t in body)
    assert "特此通报。" in texts
    assert "附件：1．未报送单位名单" in texts and "　　　2．通报单位及绩效考评扣分情况表" in texts


def test_signature_and_date_right_aligned(notice) -> None:
    document, _ = notice
    paragraphs = [p for p in document.paragraphs if p.text]
    at = next(i for i, p in enumerate(paragraphs) if p.style.name == "公文落款")
    office, date = paragraphs[at], paragraphs[at + 1]
    assert office.text == "衡阳县禁毒委员会办公室"
    assert date.text == "2021年X月X日"
    for paragraph in (office, date):
        assert paragraph.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    # The date starts further right than the office name (GB/T 9704, no seal).
    assert date.paragraph_format.right_indent > office.paragraph_format.right_indent


def test_page_setup_and_page_numbers(notice) -> None:
    document, _ = notice
    section = document.sections[0]
    assert _close(section.page_width, 210) and _close(section.page_height, 297)
    assert _close(section.top_margin, 37)
    assert _close(section.bottom_margin, 35)
    assert _close(section.left_margin, 28)
    assert _close(section.right_margin, 26)
    assert document.settings.odd_and_even_pages_header_footer
    for footer, align in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        paragraph = footer.paragraphs[0]
        assert paragraph.alignment == align
        assert paragraph.text == "— 1 —"
        instructions = [e.text for e in paragraph._p.iter(qn("w:instrText"))]
        assert instructions == [" PAGE "]
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:linePitch")) == "579"  # 22 lines on the page
    # Plain paragraphs only: nothing hidden in text boxes or shapes.
    body_xml = document.element.body.xml
    assert "txbxContent" not in body_xml and "<w:drawing" not in body_xml


def test_empty_sections_say_none(tmp_path: Path) -> None:
    tables = sample_tables()
    units = tables.units.copy()
    units["notice_reasons"] = ""
    units["notice"] = False
    units["award"] = False
    quiet = dataclasses.replace(tables, units=units, individuals=tables.individuals.iloc[0:0])
    path = tmp_path / "quiet.docx"
    write_notice(path, quiet)
    texts = _texts(_open(path))
    for heading in HEADINGS:
        assert _section_body(texts, heading)[0] == "无。", heading
    assert "先进个人：无。" in texts


def test_project_codes_get_their_own_section_and_bad_characters_are_dropped(
    tmp_path: Path,
) -> None:
    tables = sample_tables()
    units = tables.units.copy()
    units.loc[7, "notice_reasons"] = "duplicate_only"
    units.loc[0, "unit"] = "西渡\x0b镇"
    path = tmp_path / "extra.docx"
    write_notice(path, dataclasses.replace(tables, units=units), doc_number="县禁毒办〔2021〕3号")
    texts = _texts(_open(path))
    assert "县禁毒办〔2021〕3号" in texts
    assert "五、其他需通报情况" in texts and "六、表扬" in texts
    assert _section_body(texts, "五、其他需通报情况") == ["洪市镇（duplicate_only）。"]
    assert _section_body(texts, "六、表扬")[0].startswith("西渡镇、界牌镇")


def test_notice_written_atomically(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "通报.docx"
    write_notice(path, sample_tables())
    write_notice(path, sample_tables(n_units=3))
    assert [p.name for p in path.parent.iterdir()] == ["通报.docx"]
    assert "全县应报送单位3个" in "".join(_texts(_open(path)))


def test_performance_deductions_are_an_attachment_table(notice):
    document, _ = notice
    tables = sample_tables()
    text = "\n".join(p.text for p in document.paragraphs)
    assert "扣分情况见附件2。" in text
    grid = next(t for t in document.tables if t.rows[0].cells[-1].text == "扣分")
    assert [c.text for c in grid.rows[0].cells] == [
        "序号",
        "单位名称",
        "通报事由",
        "具体情况",
        "扣分",
    ]
    rows = {r.cells[1].text: r.cells[4].text for r in grid.rows[1:]}
    deducted = tables.units[tables.units["deduction"] > 0]
    assert len(deducted) > 0
    for row in deducted.itertuples():
        assert rows[row.unit] == f"{row.deduction:g}"
    names = next(t for t in document.tables if t.rows[0].cells[-1].text == "单位类别")
    assert [r.cells[1].text for r in names.rows[1:]] == ["金溪镇", "县教育局"]


def test_colophon_names_cc_issuer_and_date(notice):
    document, _ = notice
    colophon = document.tables[-1]
    assert [r.cells[0].text for r in colophon.rows] == [
        "抄送：市禁毒办，县委政法委。",
        "衡阳县禁毒委员会办公室\t2021年X月X日印发",
    ]
    assert colophon._tbl.tblPr.find(qn("w:tblpPr")).get(qn("w:tblpYSpec")) == "bottom"


def test_fonts_are_declared_with_windows_substitutes(notice):
    _, path = notice
    import zipfile

    fonts = zipfile.ZipFile(path).read("word/fontTable.xml").decode()
    for name, substitute in (("方正小标宋简体", "华文中宋"), ("仿宋_GB2312", "仿宋")):
        assert f'w:name="{name}"><w:altName w:val="{substitute}"/>' in fonts


def test_unconfirmed_low_scores_are_only_suggested_on_the_internal_page(tmp_path):
    tables = sample_tables()
    units = tables.units.copy()
    low = units["notice_reasons"].str.contains("low_score")
    units.loc[low, "pending_reasons"] = "low_score"
    units.loc[low, "notice_reasons"] = units.loc[low, "notice_reasons"].str.replace(
        ";low_score", ""
    )
    units.loc[low, "score_confirmed"] = False
    path = tmp_path / "通报.docx"
    write_notice(path, dataclasses.replace(tables, units=units))
    texts = _texts(_open(path))
    assert _section_body(texts, "四、评分偏低单位") == ["评分结果待核定后列出。"]
    internal = texts[texts.index("内部审核清单（不属于通报正文，印发前删除）") :]
    assert internal[1] == "一、建议通报为评分偏低的单位（评分未经确认，仅供内部参考）："
    assert "衡阳县工业园区（45.0分）" in internal
    official = texts[: texts.index("内部审核清单（不属于通报正文，印发前删除）")]
    assert not any("45.0分" in t for t in official)
