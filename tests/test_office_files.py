"""What the office's own tools write: the units file as Excel/WPS save it on Chinese Windows,
and config.yaml edited in Notepad, in folders with Chinese names and spaces."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from openpyxl import Workbook

from parsers.units import RegistryError, Unit, load_registry
from pipeline.config import ConfigError, load_config
from tests.support.project import REGISTRY, run_cli

XIDU = Unit("西渡镇", "乡镇", ("西渡", "西渡镇人民政府"), ("a@163.com", "b@qq.com"))
JIBING = Unit("集兵镇", "乡镇", ("集兵",), ())
CHINESE = (
    "单位名称,类别,别名,邮箱\r\n"
    "西渡镇,乡镇,西渡;西渡镇人民政府,A@163.com;b@qq.com\r\n"
    "集兵镇,乡镇,集兵,\r\n"
)


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("gbk", b""), ("gb18030", b""), ("utf-8", b""), ("utf-8", codecs.BOM_UTF8)],
)
def test_csv_as_excel_and_wps_save_it(tmp_path: Path, encoding: str, bom: bytes) -> None:
    """Excel's plain “CSV（逗号分隔）” on Chinese Windows is GBK; “CSV UTF-8” has a BOM."""
    path = tmp_path / "单位名录.csv"
    path.write_bytes(bom + CHINESE.encode(encoding))
    assert load_registry(path).units == (XIDU, JIBING)


def test_gbk_only_characters_and_short_headers(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    text = (
        "单位,类别,别名,邮箱\n喆城镇,乡镇,,\n西渡镇,乡镇,西渡;西渡镇人民政府,A@163.com;b@qq.com\n"
    )
    path.write_bytes(text.encode("gbk"))
    names = [unit.name for unit in load_registry(path).units]
    assert names == ["喆城镇", "西渡镇"]


def test_unicode_text_saved_by_excel_is_utf16_with_tabs(tmp_path: Path) -> None:
    path = tmp_path / "units.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + CHINESE.replace(",", "\t").encode("utf-16-le"))
    assert load_registry(path).units == (XIDU, JIBING)


def test_xlsx_with_a_title_row_and_chinese_headers(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["衡阳县禁毒志愿服务活动参与单位名录"])
    sheet.append(["序号", "单位名称", "单位类别", "简称", "电子邮箱（多个用分号隔开）"])
    sheet.append([1, "西渡镇", "乡镇", "西渡；西渡镇人民政府", "A@163.com；b@qq.com"])
    sheet.append([2, "集兵镇", "乡镇", "集兵", None])
    sheet.append([None, None, None, None, None])
    path = tmp_path / "名录 2020.xlsx"
    workbook.save(path)
    assert load_registry(path).units == (XIDU, JIBING)


def test_english_headers_still_work() -> None:
    assert len(load_registry(REGISTRY).units) >= 50


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("u.csv", "名称,类别\n西渡镇,乡镇\n".encode("gbk"), "缺少 unit 列"),
        ("u.csv", "单位,类别\n西渡镇,乡镇\n西渡镇,乡镇\n".encode("gbk"), "重复"),
        ("u.csv", b"unit\nABC\nabc\n", "重复"),  # one folder on Windows
        ("u.csv", "单位\n".encode("gbk"), "没有任何单位"),
        ("u.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100, "另存为 .xlsx"),
        ("u.xlsx", b"not a zip", "无法读取"),
        ("u.csv", b"\x80\xff" * 5, "编码无法识别"),
    ],
)
def test_units_file_errors_are_one_chinese_line(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RegistryError, match=message) as caught:
        load_registry(path)
    assert "\n" not in str(caught.value)


# ---- config.yaml from Notepad, in Chinese folders with spaces -------------------------------

NOTEPAD_CONFIG = """\
# 衡阳县禁毒办 配置（记事本编辑）
mailbox:
  source: folder
  path: 邮件 备份
units_file: 单位 名录.csv
paths:
  data: D:/禁毒办/2020年度材料/data
  reports: 报表 输出
tools:
  soffice: ""
"""


@pytest.mark.parametrize(
    "encoding", ["utf-8-sig", "utf-8", "gbk"], ids=["notepad-bom", "notepad-utf8", "notepad-ansi"]
)
def test_config_saved_by_notepad_in_a_chinese_folder(tmp_path: Path, encoding: str) -> None:
    office = tmp_path / "禁毒办" / "2020年度 材料"
    (office / "邮件 备份").mkdir(parents=True)
    (office / "单位 名录.csv").write_bytes(CHINESE.encode("gbk"))
    text = NOTEPAD_CONFIG.replace("D:/禁毒办/2020年度材料/data", str(office / "数据 目录"))
    path = office / "config.yaml"
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    config = load_config(path)
    assert config.mailbox.path == office / "邮件 备份"
    assert config.units_file == office / "单位 名录.csv"
    assert config.data_dir == office / "数据 目录"
    assert config.reports_dir == office / "报表 输出"
    assert config.tools.soffice is None
    assert [u.name for u in load_registry(config.units_file).units] == ["西渡镇", "集兵镇"]


def test_a_windows_path_in_double_quotes_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text('paths:\n  data: "D:\\禁毒办\\2020年度材料\\data"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="正斜杠") as caught:
        load_config(path)
    assert "\n" not in str(caught.value)


def test_once_runs_in_a_folder_with_chinese_names_and_spaces(tmp_path: Path) -> None:
    office = tmp_path / "禁毒办" / "2020年度 材料"
    (office / "邮件 备份").mkdir(parents=True)
    (office / "单位 名录.csv").write_bytes(CHINESE.encode("gbk"))
    text = NOTEPAD_CONFIG.replace("D:/禁毒办/2020年度材料/data", "数据 目录")
    path = office / "config.yaml"
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8-sig"))
    result = run_cli(path, "once", timeout=300)
    assert result.returncode == 0, result.stderr
    assert (office / "报表 输出" / "units.csv").is_file()
    assert "西渡镇" in (office / "报表 输出" / "units.csv").read_text(encoding="utf-8-sig")
