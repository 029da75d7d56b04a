"""DataFrames into XlsxWriter sheets: header, cells, looks, widths, frozen header, autofilter.

Every column is prepared whole, with pandas and numpy: its values converted for Excel (text,
numbers, campaign-local times as Excel serial numbers), its highlights and its width. Each
distinct look (number format, wrap, fill) is one XlsxWriter format made once. The work left
per cell is XlsxWriter's own: one ``write_*`` call and its share of the file. Text is always
written with ``write_string`` (a cell from mail that starts with "=" stays text, never a formula),
with the characters XML forbids removed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from outputs._common import display_width, xml_safe

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MIN_WIDTH = 6
MAX_WIDTH = 60
_BORDER_COLOR = "#BFBFBF"
_HEADER_COLOR = "#D9E1F2"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # serial day 0 for every date after 1900-02-28
_DATETIME_WIDTH = 16  # 'YYYY-MM-DD HH:MM'


@dataclass(frozen=True)
class Column:
    """One sheet column: header, its values for a whole table, and how to show them."""

    header: str
    values: Callable[[pd.DataFrame], Any]  # the table -> one value per row (Series or array)
    kind: str = "text"  # text | int | float | datetime
    number_format: str | None = None
    wrap: bool = False
    max_width: int = MAX_WIDTH


class Looks:
    """The workbook's cell formats, each distinct look made once (XlsxWriter formats are
    workbook-wide objects; making one per cell would make one XF record per cell)."""

    def __init__(self, workbook: Workbook) -> None:
        self._workbook = workbook
        self._formats: dict[tuple[Any, ...], Format] = {}

    def _get(self, key: tuple[Any, ...], properties: dict[str, Any]) -> Format:
        look = self._formats.get(key)
        if look is None:
            look = self._formats[key] = self._workbook.add_format(properties)
        return look

    def header(self) -> Format:
        return self._get(
            ("header",),
            {
                "bold": True,
                "bg_color": _HEADER_COLOR,
                "border": 1,
                "border_color": _BORDER_COLOR,
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
            },
        )

    def body(self, number_format: str | None, wrap: bool, fill: str | None) -> Format:
        properties: dict[str, Any] = {"border": 1, "border_color": _BORDER_COLOR, "valign": "top"}
        if number_format:
            properties["num_format"] = number_format
        if wrap:
            properties["text_wrap"] = True
        if fill:
            properties["bg_color"] = rgb(fill)
        return self._get(("body", number_format, wrap, fill), properties)

    def label(self, fill: str | None) -> Format:
        properties: dict[str, Any] = {"bold": True}
        if fill:
            properties["bg_color"] = rgb(fill)
        return self._get(("label", fill), properties)


def rgb(argb: str) -> str:
    """'FFF8CBAD' (ARGB, as openpyxl reads fills back) -> '#F8CBAD' (XlsxWriter)."""
    return f"#{argb[-6:]}"


def write_sheet(
    ws: Worksheet,
    looks: Looks,
    columns: Sequence[Column],
    frame: pd.DataFrame,
    tz: Any,
    fills: dict[str, np.ndarray] | None = None,
    freeze: tuple[int, int] = (1, 0),
) -> None:
    """Header row, one row per table row, looks, widths, frozen header, autofilter, A4 landscape.

    ``fills`` maps a header to one fill (ARGB) or None per row: the highlighted cells.
    """
    rows = len(frame)
    fills = fills or {}
    for index, column in enumerate(columns):
        ws.write_string(0, index, column.header, looks.header())
        values, width = cells(column, column.values(frame), tz) if rows else ([], 0)
        shown = max(display_width(column.header), width)
        ws.set_column(index, index, min(max(shown + 2, MIN_WIDTH), column.max_width))
        formats = _formats(looks, column, fills.get(column.header))
        _write_column(ws, index, column.kind == "text", values, formats)
    ws.freeze_panes(*freeze)
    ws.autofilter(0, 0, rows, len(columns) - 1)
    ws.repeat_rows(0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)  # one page wide, as many pages tall as needed


def _formats(looks: Looks, column: Column, fills: np.ndarray | None) -> Iterable[Format]:
    """The format of each of the column's cells: one look, or one per fill when highlighted."""
    number_format = DATETIME_FORMAT if column.kind == "datetime" else column.number_format
    if fills is None:
        return itertools.repeat(looks.body(number_format, column.wrap, None))
    by_fill = {fill: looks.body(number_format, column.wrap, fill) for fill in set(fills)}
    return [by_fill[fill] for fill in fills]


def _write_column(
    ws: Worksheet, col: int, text: bool, values: list[Any], formats: Iterable[Format]
) -> None:
    write = ws.write_string if text else ws.write_number
    blank = ws.write_blank
    # formats may be an endless repeat of one look
    for row, (value, look) in enumerate(zip(values, formats, strict=False), start=1):
        if value is None:
            blank(row, col, None, look)  # empty, but bordered like its neighbours
        else:
            write(row, col, value, look)


def cells(column: Column, values: Any, tz: Any) -> tuple[list[Any], int]:
    """A column's cell values (None: empty) and the display width of its widest one."""
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    if column.kind == "datetime":
        serials = _excel_serials(series, tz)
        return _numbers(serials), _DATETIME_WIDTH if np.isfinite(serials).any() else 0
    if column.kind in ("int", "float"):
        numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        if column.kind == "int":
            numbers = np.trunc(numbers)
        return _numbers(numbers), _number_width(numbers, column.kind == "int")
    texts = _texts(series)
    return texts, text_width([t for t in texts if t is not None], column.max_width)


def _texts(series: pd.Series) -> list[str | None]:
    """Display text per row: missing or empty -> None, XML-illegal characters removed."""
    missing = series.isna().to_numpy()
    objects = series.to_numpy(dtype=object)
    texts = [
        None if gap else (value if type(value) is str else str(value)) or None
        for value, gap in zip(objects, missing, strict=True)
    ]
    joined = "".join(t for t in texts if t is not None)
    if len(xml_safe(joined)) != len(joined):  # one scan of the column; rarely true
        texts = [None if t is None else xml_safe(t) or None for t in texts]
    return texts


def _excel_serials(series: pd.Series, tz: Any) -> np.ndarray:
    """Times in the campaign's zone as Excel serial day numbers (NaN when missing); a time
    without a zone is taken as already local."""
    stamps = series if isinstance(series.dtype, pd.DatetimeTZDtype) else None
    if stamps is None and pd.api.types.is_datetime64_dtype(series.dtype):
        local = series
    elif stamps is not None:
        local = stamps.dt.tz_convert(tz).dt.tz_localize(None)
    else:  # object: each value may or may not carry a zone
        local = pd.to_datetime(series.map(lambda value: _local(value, tz)))
    return ((local - _EXCEL_EPOCH) / pd.Timedelta(days=1)).to_numpy(
        dtype="float64", na_value=np.nan
    )


def _local(value: Any, tz: Any) -> Any:
    if value is None or pd.isna(value):
        return pd.NaT
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(tz) if stamp.tzinfo is None else stamp.tz_convert(tz)
    return stamp.tz_localize(None)


def _numbers(numbers: np.ndarray) -> list[Any]:
    values = numbers.astype(object)
    values[~np.isfinite(numbers)] = None  # missing (and inf, which a cell cannot hold)
    return values.tolist()


def _number_width(numbers: np.ndarray, integer: bool) -> int:
    finite = numbers[np.isfinite(numbers)]
    if not finite.size:
        return 0
    extremes = (finite.min(), finite.max())  # the longest rendering is at one of them
    if integer:
        return max(len(f"{int(value):,}") for value in extremes)
    return max(len(f"{value:,.1f}") for value in extremes)


def text_width(texts: Sequence[str], limit: int) -> int:
    """The widest display width among ``texts`` (CJK and full-width characters count 2, a
    multi-line text counts its widest line), exact up to ``limit``.

    Texts are cut at ``limit`` characters (a wider text is shown at the column's cap anyway) and
    measured together as one numpy array of code points, each distinct character looked up once.
    """
    if not texts:
        return 0
    widths, breaks = _widths([text[:limit] for text in texts])
    if breaks:  # some text has several lines: measure line by line
        widths, _ = _widths([line[:limit] for text in texts for line in text.splitlines()])
    return widths


def _widths(lines: list[str]) -> tuple[int, bool]:
    """The widest of ``lines`` and whether any of them holds a line break."""
    if not lines:
        return 0, False
    codes = np.array(lines, dtype=str)
    points = codes.view(np.uint32).reshape(len(lines), -1)  # '<U' arrays pad with NUL (width 0)
    present = np.flatnonzero(np.bincount(points.ravel()))
    table = np.zeros(int(present[-1]) + 1, dtype=np.int64)
    table[present] = [display_width(chr(point)) for point in present]
    table[0] = 0
    breaks = any(len(f"x{chr(point)}x".splitlines()) > 1 for point in present)
    return int(table[points].sum(axis=1).max()), breaks
