"""Certificates of honour: one .docx per awarded unit."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import docx
from docx.enum.section import WD_ORIENT

from outputs.certificates import certificate_filename, write_certificates
from tests.support.report_tables import HOSTILE_UNIT, sample_tables


def _text(path: Path) -> list[str]:
    return [p.text for p in docx.Document(str(path)).paragraphs if p.text]


def test_one_certificate_per_awarded_unit(tmp_path: Path) -> None:
    tables = sample_tables(with_individuals=False)
    paths = write_certificates(tmp_path / "证书", tables)
    awarded = tables.units.loc[tables.units["award"], "unit"].tolist()
    assert awarded == ["西渡镇", "界牌镇"]
    assert [p.name for p in paths] == ["荣誉证书_西渡镇.docx", "荣誉证书_界牌镇.docx"]
    assert sorted(p.name for p in (tmp_path / "证书").iterdir()) == sorted(p.name for p in paths)
    text = _text(paths[0])
    assert text == [
        "荣誉证书",
        "西渡镇：",
        "在2020年度“衡阳群众”禁毒志愿服务活动中表现突出，被评为先进单位。",
        "特发此证，以资鼓励。",
        "衡阳县禁毒委员会办公室",
        "2021年X月X日",
    ]
    section = docx.Document(str(paths[0])).sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert section.page_width > section.page_height


def test_file_names_are_sanitised_and_distinct(tmp_path: Path) -> None:
    tables = sample_tables(hostile_unit_name=True, with_individuals=False)
    units = tables.units.copy()
    units.loc[7, "award"] = True
    units.loc[6, "unit"] = HOSTILE_UNIT.replace("<", ">")  # sanitises to the same name
    units.loc[6, "award"] = True
    units.loc[5, "unit"] = "CON"
    units.loc[5, "award"] = True
    paths = write_certificates(tmp_path, dataclasses.replace(tables, units=units))
    names = [p.name for p in paths]
    assert len(names) == len(set(names)) == 5
    for name in names:
        assert not set(name) & set('<>:"/\\|?*'), name
        assert name.startswith("荣誉证书_") and name.endswith(".docx")
    assert "荣誉证书_CON.docx" in names  # valid on Windows: the name is not the device CON
    first = certificate_filename(HOSTILE_UNIT)
    assert first == certificate_filename(units.loc[6, "unit"])
    assert names[names.index(first) + 1] == first.replace(".docx", "_2.docx")
    assert _text(paths[names.index(first)])[1] == f"{units.loc[6, 'unit']}："
    assert _text(paths[names.index(first) + 1])[1] == f"{HOSTILE_UNIT}："


def test_stale_certificates_are_removed(tmp_path: Path) -> None:
    tables = sample_tables(with_individuals=False)
    write_certificates(tmp_path, tables)
    (tmp_path / "说明.txt").write_text("staff note", encoding="utf-8")
    units = tables.units.copy()
    units.loc[units["unit"] == "界牌镇", "award"] = False
    paths = write_certificates(tmp_path, dataclasses.replace(tables, units=units))
    assert [p.name for p in paths] == ["荣誉证书_西渡镇.docx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["荣誉证书_西渡镇.docx", "说明.txt"]


def test_no_award_no_certificate(tmp_path: Path) -> None:
    tables = sample_tables(n_units=3, with_individuals=False)
    units = tables.units.copy()
    units["award"] = False
    assert write_certificates(tmp_path, dataclasses.replace(tables, units=units)) == []


def test_confirmed_individuals_get_their_own_certificates(tmp_path: Path) -> None:
    tables = sample_tables()  # 张建华 and 李梅 confirmed, 王志刚 still a candidate
    paths = write_certificates(tmp_path / "证书", tables)
    people = [p.name for p in paths if p.name.startswith("荣誉证书_个人_")]
    assert people == ["荣誉证书_个人_张建华_西渡镇.docx", "荣誉证书_个人_李梅_界牌镇.docx"]
    text = _text(tmp_path / "证书" / people[0])
    assert text[1:3] == [
        "张建华同志（西渡镇）：",
        "在2020年度“衡阳群众”禁毒志愿服务活动中表现突出，被评为先进个人。",
    ]
    # Once rejected, the certificate goes away on the next build.
    individuals = tables.individuals.copy()
    individuals.loc[individuals["name"] == "李梅", "status"] = "rejected"
    import dataclasses

    write_certificates(tmp_path / "证书", dataclasses.replace(tables, individuals=individuals))
    assert not (tmp_path / "证书" / "荣誉证书_个人_李梅_界牌镇.docx").exists()
