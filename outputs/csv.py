"""units.csv, attachments.csv and integrity.csv exactly as the contract says (UTF-8 with BOM,
header row).

Staff open these files in Excel or WPS, which run a cell that begins with ``=``, ``+``, ``-`` or
``@`` as a formula (``=HYPERLINK(...)`` in a file name, ``=cmd|' /C calc'!A0``). Every cell
that could be read so gets a leading ``'`` (OWASP, CSV injection); a plain number is left alone,
and the contract's numeric columns never hold a negative number anyway.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from contract import ATTACHMENT_COLUMNS, INTEGRITY_COLUMNS, UNIT_COLUMNS
from outputs._common import each_distinct, write_report
from outputs.tables import ReportTables


def _iso(value: object) -> str:
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


def _bool(value: object) -> str:
    return "true" if bool(value) else "false"


def _int(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(int(value))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(cell: object) -> object:
    """A text cell that a spreadsheet would run as a formula, made inert with a leading '."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def _neutralised(values: pd.Series) -> pd.Series:
    """``neutralise`` on a column, the cells that start like a formula found in one pass."""
    cells = values.to_numpy(dtype=object)
    starts = (isinstance(cell, str) and cell.startswith(_FORMULA_START) for cell in cells)
    suspects = np.fromiter(starts, bool, len(cells))
    if not suspects.any():
        return values
    cells = cells.copy()
    cells[suspects] = [neutralise(cell) for cell in cells[suspects]]
    return pd.Series(cells, index=values.index, dtype=object)


def write_csv(frame: pd.DataFrame, path: Path, when: datetime) -> Path:
    """The one CSV writer of the reports: every CSV goes through it, formula cells neutralised."""
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if pd.api.types.is_string_dtype(values) or pd.api.types.is_object_dtype(values):
            safe[column] = _neutralised(values)
    return write_report(
        path,
        lambda tmp: safe.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n"),
        when,
    )


def units_frame(tables: ReportTables) -> pd.DataFrame:
    units = tables.units
    out = pd.DataFrame(index=units.index)
    for column in UNIT_COLUMNS:
        values = units[column]
        if column in ("submitted", "on_time", "complete", "award", "notice"):
            out[column] = values.map(_bool)
        elif column in ("first_received", "last_received"):
            out[column] = values.map(_iso)
        elif column in ("photos", "reports", "deeds", "videos", "video_links", "rank"):
            out[column] = values.map(_int)
        elif column == "score":
            out[column] = values.map(lambda v: f"{float(v):.1f}")
        else:
            out[column] = values.fillna("").astype(str)
    return out


def attachments_frame(tables: ReportTables) -> pd.DataFrame:
    rows = tables.attachments
    out = pd.DataFrame(index=rows.index)
    for column in ATTACHMENT_COLUMNS:
        values = rows[column]
        if column == "received_at":
            out[column] = pd.Series(each_distinct(values, _iso), index=rows.index)
        elif column in ("uid", "size"):
            out[column] = pd.Series(each_distinct(values, _int), index=rows.index)
        else:
            out[column] = values.fillna("").astype(str)
    return out


def integrity_frame(tables: ReportTables) -> pd.DataFrame:
    """integrity.csv: one row per finding; measure without trailing zeros (2, 0.35, 3.5)."""
    rows = tables.integrity
    out = pd.DataFrame(index=rows.index)
    for column in INTEGRITY_COLUMNS:
        values = rows[column]
        if column == "measure":
            out[column] = values.map(lambda v: "" if pd.isna(v) else f"{float(v):g}")
        else:
            out[column] = values.fillna("").astype(str)
    return out


def write_csvs(folder: Path, tables: ReportTables) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    units_path, attachments_path = folder / "units.csv", folder / "attachments.csv"
    return [
        write_csv(units_frame(tables), units_path, tables.campaign.generated_at),
        write_csv(attachments_frame(tables), attachments_path, tables.campaign.generated_at),
        write_csv(integrity_frame(tables), folder / "integrity.csv", tables.campaign.generated_at),
    ]
