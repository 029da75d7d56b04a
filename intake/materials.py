"""Where sorted files live: ``materials/<unit>/<category folder>/<safe name>``.

Names are decided from the ledger alone (never from what happens to be on disk), so a run that
crashed after moving files but before committing decides the same names when rerun and simply
overwrites its own orphans: the end state equals that of an uninterrupted run.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path, PurePosixPath

from contract import CATEGORY_LABELS
from intake.ledger import Ledger

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


class Placer:
    """Decides stored paths for one message; remembers what it decided for that message.

    ``ignore`` lists messages being re-sorted (after a correction): their old rows neither
    supply a stored copy nor block a name.
    """

    def __init__(self, ledger: Ledger, ignore: frozenset[int] = frozenset()) -> None:
        self.ledger = ledger
        self.ignore = ignore
        self._chosen: dict[tuple[str | None, str], tuple[str, str]] = {}
        self._taken: set[str] = set()

    def place(
        self, unit: str | None, sha256: str, category: str, name: str, forced: bool = False
    ) -> tuple[str, str, bool]:
        """(relative path, category, is_new_copy). Known content reuses its path and category,
        unless ``forced`` (a staff category correction) asks for another category."""
        key = (unit, sha256)
        if key in self._chosen:
            path, known_category = self._chosen[key]
            return path, known_category, False
        stored = self.ledger.stored_copy(unit, sha256, self.ignore)
        if stored is not None and (not forced or stored[1] == category):
            self._chosen[key] = stored
            return stored[0], stored[1], False
        folder = PurePosixPath(unit_folder(unit)) / CATEGORY_LABELS[category]
        name = safe_name(name)
        stem, suffix = os.path.splitext(name)
        candidate = (folder / name).as_posix()
        counter = 2
        while candidate in self._taken or self.ledger.path_taken(candidate, self.ignore):
            candidate = (folder / f"{stem} ({counter}){suffix}").as_posix()
            counter += 1
        self._taken.add(candidate)
        self._chosen[key] = (candidate, category)
        return candidate, category, True


def remove_unreferenced(ledger: Ledger, data_dir: Path, paths: set[str]) -> None:
    """Delete stored files that no ledger row points at any more (after a correction)."""
    for relative in paths:
        if not ledger.path_taken(relative):
            target = data_dir / relative
            if data_dir.resolve() in target.resolve().parents:
                target.unlink(missing_ok=True)
                _prune_empty(target.parent, data_dir / "materials")


def _prune_empty(folder: Path, stop: Path) -> None:
    """Remove folders a move left empty, so staff don't browse dead ends."""
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty (or already gone): stop here
            return
        folder = folder.parent


def move_into_place(data_dir: Path, staged: Path, relative: str) -> None:
    """Move a staged file to its place; an orphan of a crashed run there is overwritten."""
    target = data_dir / relative
    if data_dir.resolve() not in target.resolve().parents:
        raise ValueError(f"refusing to write outside the data folder: {relative}")
    if not target.parent.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)
