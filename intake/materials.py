"""Where sorted files live: ``materials/<unit>/<category folder>/<safe name>``.

Names are decided from the ledger alone (never from what happens to be on disk), so a run that
crashed after moving files but before committing decides the same names when rerun and simply
overwrites its own orphans: the end state equals that of an uninterrupted run.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from intake.ledger import Ledger

CATEGORY_DIRS = {
    "photo": "照片",
    "report": "总结报告",
    "deeds": "事迹材料",
    "video": "视频",
    "other": "其他",
}
REVIEW_DIR = "待确认"
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_MAX_NAME_BYTES = 180


def safe_name(name: str) -> str:
    """A file name that is safe on Linux and Windows and keeps the sender's wording."""
    name = unicodedata.normalize("NFC", name)
    name = _FORBIDDEN.sub("_", name).strip().lstrip(".").strip()
    if not name or set(name) <= {".", "_", " "}:
        name = "未命名"
    stem, suffix = os.path.splitext(name)
    if len(suffix.encode()) > 16:
        stem, suffix = name, ""
    while len((stem + suffix).encode()) > _MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    if stem.upper().split(".")[0] in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}:
        stem = f"_{stem}"
    return (stem or "未命名") + suffix


def unit_folder(unit: str | None) -> str:
    return f"materials/{safe_name(unit) if unit else REVIEW_DIR}"


@dataclass
class Placer:
    """Decides stored paths for one message; remembers what it decided for that message."""

    ledger: Ledger
    unit: str | None
    _chosen: dict[str, tuple[str, str]]
    _taken: set[str]

    @classmethod
    def for_message(cls, ledger: Ledger, unit: str | None) -> Placer:
        return cls(ledger, unit, {}, set())

    def place(self, sha256: str, category: str, name: str) -> tuple[str, str, bool]:
        """(relative path, category, is_new_copy). Known content reuses its path and category."""
        if sha256 in self._chosen:
            path, known_category = self._chosen[sha256]
            return path, known_category, False
        stored = self.ledger.stored_copy(self.unit, sha256)
        if stored is not None:
            self._chosen[sha256] = stored
            return stored[0], stored[1], False
        folder = PurePosixPath(unit_folder(self.unit)) / CATEGORY_DIRS[category]
        name = safe_name(name)
        stem, suffix = os.path.splitext(name)
        candidate = (folder / name).as_posix()
        counter = 2
        while candidate in self._taken or self.ledger.path_taken(candidate):
            candidate = (folder / f"{stem} ({counter}){suffix}").as_posix()
            counter += 1
        self._taken.add(candidate)
        self._chosen[sha256] = (candidate, category)
        return candidate, category, True


def move_into_place(data_dir: Path, staged: Path, relative: str) -> None:
    """Move a staged file to its place; an orphan of a crashed run there is overwritten."""
    target = data_dir / relative
    if data_dir.resolve() not in target.resolve().parents:
        raise ValueError(f"refusing to write outside the data folder: {relative}")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)
