"""Certificates of honour (荣誉证书), one .docx per awarded unit.

``write_certificates(folder, tables)`` writes ``荣誉证书_<unit>.docx`` (unit name made safe for a
file name) for every unit whose ``award`` is true, and ``荣誉证书_个人_<name>_<unit>.docx`` for
every outstanding individual staff confirmed, landscape A4 with a red double border, and
returns the paths (units in registry order, then individuals). Certificates no longer due are
removed from ``folder`` so a rebuild never leaves a stale one behind; other files stay.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from outputs._common import text, write_report, xml_safe
from outputs._docx import (
    FONT_BODY,
    FONT_KAI,
    FONT_TITLE,
    RED,
    SIZE_ERHAO,
    clear_body,
    exact_spacing,
    page_border,
    run_font,
    set_chinese_defaults,
)
from outputs.tables import ReportTables
from portable import names

FILE_PREFIX = "荣誉证书_"
UNIT_CHARS = 60  # of the unit name in a file name
TITLE = "荣誉证书"
TITLE_SIZE = 60.0
BODY_SIZE = SIZE_ERHAO
BODY_LINE = 40.0


def certificate_filename(unit: Any) -> str:
    """``荣誉证书_<unit>.docx``, made safe on every file system by the one sanitiser."""
    wording = " ".join(text(unit).split())[:UNIT_CHARS] or "单位"
    return names.safe_component(f"{FILE_PREFIX}{wording}.docx")


def _character_spacing(run, points: float) -> None:
    rpr = run._r.get_or_add_rPr()
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), str(int(points * 20)))
    rpr.append(spacing)


def _paragraph(
    document,
    text: str,
    font: str,
    size: float,
    *,
    align=None,
    indent_chars=0.0,
    line: float = BODY_LINE,
    before: float = 0.0,
    color=None,
    bold=False,
):
    paragraph = document.add_paragraph()
    exact_spacing(paragraph.paragraph_format, line, before=before)
    if align is not None:
        paragraph.alignment = align
    paragraph.paragraph_format.first_line_indent = Pt(indent_chars * size)
    run = paragraph.add_run(text)
    run_font(run, font, size, color=color, bold=bold)
    return paragraph, run


def person_certificate_filename(name: Any, unit: Any) -> str:
    """``荣誉证书_个人_<name>_<unit>.docx``, made safe by the same sanitiser."""
    who = " ".join(text(name).split())[:UNIT_CHARS] or "个人"
    where = " ".join(text(unit).split())[:UNIT_CHARS] or "单位"
    return names.safe_component(f"{FILE_PREFIX}个人_{who}_{where}.docx")


def _certificate(unit: str, tables: ReportTables, person: str = "") -> DocumentObject:
    campaign = tables.campaign
    tz = campaign.deadline.tzinfo
    deadline: datetime = campaign.deadline.astimezone(tz)
    issue_year = campaign.generated_at.astimezone(tz).year
    office = xml_safe(campaign.office)

    document = Document()
    clear_body(document)
    set_chinese_defaults(document, FONT_KAI, BODY_SIZE)
    core = document.core_properties
    core.title = f"{TITLE}：{person or unit}"
    core.author = office
    core.last_modified_by = office

    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width = Mm(297)
    section.page_height = Mm(210)
    section.top_margin = Mm(28)
    section.bottom_margin = Mm(22)
    section.left_margin = Mm(38)
    section.right_margin = Mm(38)
    page_border(section)

    _, title_run = _paragraph(
        document,
        TITLE,
        FONT_TITLE,
        TITLE_SIZE,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        line=TITLE_SIZE * 1.3,
        color=RED,
    )
    _character_spacing(title_run, TITLE_SIZE / 3)
    addressee = f"{person}同志（{unit}）" if person else unit
    honour = "先进个人" if person else "先进单位"
    _paragraph(document, f"{addressee}：", FONT_KAI, BODY_SIZE, line=BODY_LINE, before=24)
    _paragraph(
        document,
        f"在{deadline.year}年度{xml_safe(campaign.title)}中表现突出，被评为{honour}。",
        FONT_KAI,
        BODY_SIZE,
        indent_chars=2,
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
    )
    _paragraph(document, "特发此证，以资鼓励。", FONT_KAI, BODY_SIZE, indent_chars=2)
    _paragraph(
        document, office, FONT_BODY, BODY_SIZE, align=WD_ALIGN_PARAGRAPH.RIGHT, before=BODY_LINE
    )
    _paragraph(
        document, f"{issue_year}年X月X日", FONT_BODY, BODY_SIZE, align=WD_ALIGN_PARAGRAPH.RIGHT
    )
    return document


def write_certificates(folder: Path, tables: ReportTables) -> list[Path]:
    """Write one certificate per awarded unit into ``folder``; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    units = tables.units
    awarded: list[str] = []
    if units is not None and not units.empty and "award" in units.columns:
        mask = units["award"].fillna(False).astype(bool)
        awarded = [xml_safe(unit) for unit in units.loc[mask, "unit"].tolist() if not pd.isna(unit)]

    written: list[Path] = []
    used: set[str] = set()
    for unit in awarded:
        name = certificate_filename(unit)
        counter = 2
        while name.casefold() in used:  # two units that sanitise alike keep separate files
            name = certificate_filename(unit)[: -len(".docx")] + f"_{counter}.docx"
            counter += 1
        used.add(name.casefold())
        document = _certificate(unit, tables)
        written.append(
            write_report(
                folder / name,
                lambda tmp, d=document: d.save(str(tmp)),
                tables.campaign.generated_at,
            )
        )

    written += _person_certificates(folder, tables, used)
    keep = {path.name for path in written}
    for stale in folder.glob(f"{FILE_PREFIX}*.docx"):
        if stale.name not in keep and stale.is_file():
            with contextlib.suppress(OSError):
                stale.unlink()
    return written


def _person_certificates(folder: Path, tables: ReportTables, used: set[str]) -> list[Path]:
    """One certificate per individual staff confirmed (confirm-individual)."""
    people = tables.individuals
    if people is None or people.empty or "status" not in people.columns:
        return []
    confirmed = people.loc[people["status"] == "confirmed"].drop_duplicates(["name", "unit"])
    written = []
    for name, unit in zip(confirmed["name"], confirmed["unit"], strict=True):
        filename = person_certificate_filename(name, unit)
        if filename.casefold() in used:
            continue
        used.add(filename.casefold())
        document = _certificate(xml_safe(unit), tables, person=xml_safe(name))
        written.append(
            write_report(
                folder / filename,
                lambda tmp, d=document: d.save(str(tmp)),
                tables.campaign.generated_at,
            )
        )
    return written
