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
    assert title.text == TITLE
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
    headings = [t for t in texts if t[:2] in {f"{n}、" for n in "一二三四五六七"}]
    assert headings == HEADINGS
    assert _section_body(texts, "一、未报送单位") == ["金溪镇、县教育局，共2个单位未报送任何材料。"]
    late = _section_body(texts, "二、逾期报送单位")[0]
    assert late.startswith("县公安局（逾期1.6天）、衡阳县工业园区（逾期2.2天）")
    incomplete = _section_body(texts, "三、材料不全单位")[0]
    assert incomplete.startswith("金兰镇（缺视频）、衡阳县工业园区（缺照片、总结报告）")
    assert "金溪镇" not in incomplete  # not-submitted units are named once, in section 一
    assert _section_body(texts, "四、评分偏低单位")[0].startswith("衡阳县工业园区（45.0分）")
    praise = _section_body(texts, "五、表扬")
    assert praise[0].startswith("西渡镇、界牌镇，共2个单位")
    assert praise[1] == "推荐张建华（西渡镇）、李梅（界牌镇）、王志刚（县公安局）为先进个人候选人。"
    assert "特此通报。" in texts


def test_signature_and_date_right_aligned(notice) -> None:
    document, _ = notice
    paragraphs = [p for p in document.paragraphs if p.text]
    office, date = paragraphs[-2], paragraphs[-1]
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
    assert "先进个人候选人：无。" in texts


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


def test_performance_deductions_are_listed(tmp_path):
    tables = sample_tables()
    path = tmp_path / "通报.docx"
    write_notice(path, tables)
    text = "\n".join(p.text for p in docx.Document(path).paragraphs)
    deducted = tables.units[tables.units["deduction"] > 0]
    assert len(deducted) > 0
    for row in deducted.itertuples():
        assert f"{row.unit}{row.deduction:g}分" in text
    assert "绩效考评" in text
