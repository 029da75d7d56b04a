"""The unit registry and finding unit names in free text.

Names and aliases come only from the office's units file. Matching is exact on normalised text
(NFKC, no punctuation or spaces); a longer name hides the shorter names it contains, so
"衡阳县西渡镇" is one hit. rapidfuzz only *proposes* candidates for staff and never assigns: near-
identical names such as 金兰镇 / 金溪镇 must not be merged silently.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)
_PREFIXES = ("衡阳县",)
_SUFFIXES = ("人民政府",)


class RegistryError(Exception):
    """The units file cannot be used."""


def normalise(text: str) -> str:
    """NFKC (full-width → half-width), lower case, no spaces or punctuation."""
    return _STRIP.sub("", unicodedata.normalize("NFKC", text or "")).lower()


@dataclass(frozen=True)
class Unit:
    name: str
    category: str
    aliases: tuple[str, ...]
    emails: tuple[str, ...]

    def spellings(self) -> set[str]:
        """Every normalised spelling that names this unit."""
        keys = set()
        for spelling in (self.name, *self.aliases):
            key = normalise(spelling)
            variants = {key}
            for prefix in _PREFIXES:
                variants |= {v[len(prefix) :] for v in variants if v.startswith(prefix)}
            for suffix in _SUFFIXES:
                variants |= {v[: -len(suffix)] for v in variants if v.endswith(suffix)}
            keys |= {v for v in variants if len(v) >= 2}
        return keys


@dataclass(frozen=True)
class Match:
    unit: str
    text: str  # the spelling that matched, as normalised


@dataclass(frozen=True)
class Registry:
    units: tuple[Unit, ...]

    def __post_init__(self) -> None:
        keys: dict[str, str] = {}
        for unit in self.units:
            for key in unit.spellings():
                keys.setdefault(key, unit.name)
        emails = {email: unit.name for unit in self.units for email in unit.emails}
        object.__setattr__(self, "_keys", sorted(keys.items(), key=lambda kv: -len(kv[0])))
        object.__setattr__(self, "_emails", emails)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(unit.name for unit in self.units)

    def by_email(self, address: str) -> str | None:
        return self._emails.get(address.strip().lower())  # type: ignore[attr-defined]

    def find(self, text: str) -> list[Match]:
        """Units named in ``text``, longest spelling first, each unit once, in text order."""
        haystack = normalise(text)
        if not haystack:
            return []
        taken = [False] * len(haystack)
        hits: list[tuple[int, Match]] = []
        seen: set[str] = set()
        for key, unit in self._keys:  # type: ignore[attr-defined]
            start = haystack.find(key)
            while start >= 0:
                span = range(start, start + len(key))
                if not any(taken[i] for i in span):
                    for i in span:
                        taken[i] = True
                    if unit not in seen:
                        seen.add(unit)
                        hits.append((start, Match(unit, key)))
                start = haystack.find(key, start + 1)
        return [match for _, match in sorted(hits, key=lambda item: item[0])]

    def propose(self, text: str, limit: int = 3) -> list[str]:
        """Fuzzy candidates for staff to choose from; never used to assign."""
        query = normalise(text)
        if len(query) < 2:
            return []
        choices = {unit.name: normalise(unit.name) for unit in self.units}
        from rapidfuzz import fuzz, process  # only when staff need candidates

        found = process.extract(query, choices, scorer=fuzz.partial_ratio, limit=limit)
        return [name for _, score, name in found if score >= 75]


def _split(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    parts = re.split(r"[;；,，、\s]+", str(value))
    return tuple(part.strip() for part in parts if part.strip())


# Column names as the office may type them in Excel/WPS (compared after _header_key).
_COLUMNS = {
    "unit": ("unit", "单位名称", "单位", "单位全称"),
    "category": ("category", "类别", "单位类别", "类型", "分类"),
    "aliases": ("aliases", "alias", "别名", "简称"),
    "emails": ("emails", "email", "邮箱", "电子邮箱", "邮箱地址", "联系邮箱", "电子邮件"),
}
_HEADER_ROWS = 10  # a title row or two above the header is common in office sheets
_SAVE_AS = "请在 Excel/WPS 中另存为 .xlsx 或“CSV（逗号分隔）”后重试"


def _header_key(text: str) -> str:
    """``邮箱（多个用分号隔开）`` -> ``邮箱``; ``E-mail`` -> ``email``; ``*单位名称`` ->
    ``单位名称``."""
    text = unicodedata.normalize("NFKC", str(text))
    text = re.sub(r"\(.*?\)", "", text)
    return _STRIP.sub("", text).lower()


_KEYS = {_header_key(name): column for column, names in _COLUMNS.items() for name in names}


def load_registry(path: Path) -> Registry:
    """Read the units file as Excel/WPS save it on Chinese Windows: CSV in UTF-8 (with or
    without BOM), GBK/GB18030 or UTF-16, or .xlsx; English or Chinese column headers (unit,
    category, aliases, emails / 单位名称 or 单位, 类别, 别名, 邮箱). Every cell is a string."""
    table = _read_table(Path(path))
    header = _header_row(table)
    if header is None:
        raise RegistryError(
            f"单位名录 {path} 缺少 unit 列（即单位名称：表头需有 unit 或 单位名称/单位；"
            "可选列：类别、别名、邮箱 / category, aliases, emails）"
        )
    columns = {}
    for index, cell in enumerate(table[header]):
        column = _KEYS.get(_header_key(cell))
        if column and column not in columns:
            columns[column] = index
    return _registry(path, table[header + 1 :], columns)


def _registry(path: Path, rows: list[list[str]], columns: dict[str, int]) -> Registry:
    def cell(row: list[str], column: str) -> str:
        index = columns.get(column)
        return row[index] if index is not None and index < len(row) else ""

    units = []
    seen: dict[str, str] = {}
    for values in rows:
        name = unicodedata.normalize("NFKC", cell(values, "unit")).strip()
        if not name:
            continue
        key = name.casefold()  # names differing only in case would share a folder on Windows
        if key in seen:
            raise RegistryError(f"单位名录 {path} 中单位 {name} 重复")
        seen[key] = name
        emails = tuple(e.lower() for e in _split(cell(values, "emails")) if "@" in e)
        category = cell(values, "category").strip()
        units.append(Unit(name, category, _split(cell(values, "aliases")), emails))
    if not units:
        raise RegistryError(f"单位名录 {path} 中没有任何单位")
    return Registry(tuple(units))


def _header_row(table: list[list[str]]) -> int | None:
    for index in range(min(_HEADER_ROWS, len(table))):
        if any(_KEYS.get(_header_key(cell)) == "unit" for cell in table[index]):
            return index
    return None


def _xlsx_rows(path: Path) -> list[list[str]]:
    """The first sheet's cells as text (numbers as Excel shows them: 12, not 12.0)."""
    from openpyxl import load_workbook  # only for .xlsx units files

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_table(path: Path) -> list[list[str]]:
    """The file's first sheet (or the CSV) as rows of strings, no header interpretation yet.

    The standard library's csv module and openpyxl (for .xlsx) read it: the units file is read
    at every start, and a table library would cost most of an idle poll."""
    suffix = path.suffix.lower()
    if suffix in (".xls", ".et"):
        raise RegistryError(f"单位名录 {path} 是旧版表格格式（{suffix}），{_SAVE_AS}")
    try:
        if suffix in (".xlsx", ".xlsm"):
            return _xlsx_rows(path)
        text = _decode_csv(path.read_bytes(), path)
        first = text.split("\n", 1)[0]
        sep = "\t" if "\t" in first and "," not in first else ","
        return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=sep)]
    except RegistryError:
        raise
    except FileNotFoundError:
        raise RegistryError(f"找不到单位名录 {path}") from None
    except PermissionError:
        raise RegistryError(f"单位名录 {path} 正被其他程序占用，无法读取，请关闭后重试") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RegistryError(f"单位名录 {path} 无法读取（{detail}），{_SAVE_AS}") from exc


def _decode_csv(raw: bytes, path: Path) -> str:
    """UTF-8 (BOM or not), UTF-16 with BOM (Excel's “Unicode 文本”), else GB18030 (a superset
    of GBK, what Excel's plain “CSV” writes on Chinese Windows)."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8", "replace")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RegistryError(f"单位名录 {path} 的文字编码无法识别，{_SAVE_AS}")
