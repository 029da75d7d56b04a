"""Where sorted files live: ``materials/<unit>/<category folder>/<safe name>``.

Names are decided from the ledger alone (never from what happens to be on disk), so a run that
crashed after moving files but before committing decides the same names when rerun and simply
overwrites its own orphans: the end state equals that of an uninterrupted run.

Names go through the project's one sanitiser (``portable.names``) and are compared as NTFS
compares them (case- and NFC-insensitively), so ``Photo.JPG`` and ``photo.jpg`` never land on
one file on the office's Windows PC; a whole stored path stays within Windows' 260 characters.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from contract import CATEGORY_LABELS
from intake.ledger import Ledger
from portable import names
from portable.atomic import replace_with_retry

REVIEW_DIR = "待确认"
UNIT_FOLDER_CHARS = 60


def safe_name(name: str, max_chars: int = names.NTFS_MAX_COMPONENT) -> str:
    """A stored file name: safe on Windows and Linux, in the sender's wording."""
    return names.safe_component(name, fallback="未命名", max_chars=max_chars)


def unit_folder(unit: str | None) -> str:
    if not unit:
        return f"materials/{REVIEW_DIR}"
    folder = names.safe_component(unit, fallback="未命名单位", max_chars=UNIT_FOLDER_CHARS)
    return f"materials/{folder}"


class Placer:
    """Decides stored paths for one message; remembers what it decided for that message.

    ``ignore`` lists messages being re-sorted (after a correction): their old rows neither
    supply a stored copy nor block a name.
    """

    def __init__(
        self,
        ledger: Ledger,
        ignore: frozenset[int] = frozenset(),
        max_path: int = names.WINDOWS_MAX_PATH,
    ) -> None:
        """``max_path``: characters a stored path (relative to the data folder) may have; see
        ``names.relative_budget``."""
        self.ledger = ledger
        self.ignore = ignore
        self.max_path = max_path
        self._chosen: dict[tuple[str | None, str], tuple[str, str]] = {}
        self._taken: set[str] = set()  # name_key of every path decided in this message

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
        room = max(self.max_path - names.utf16_length(folder.as_posix()) - 1, 24)
        name = safe_name(name, max_chars=room)
        candidate = (folder / name).as_posix()
        # Names that start like this one (``照片.jpg``, ``照片 (2).jpg`` ...), read at once:
        # many mails of a unit carry the same generic names (附件1.jpg).
        stem = (folder / names.split_suffix(name)[0]).as_posix()
        prefix, taken = names.name_key(stem), self.ledger.taken_with_prefix(stem, self.ignore)
        counter = 2
        while self._is_taken(candidate, prefix, taken):
            candidate = (folder / names.numbered(name, counter, max_chars=room)).as_posix()
            counter += 1
        self._taken.add(names.name_key(candidate))
        self._chosen[key] = (candidate, category)
        return candidate, category, True

    def _is_taken(self, candidate: str, prefix: str, held: set[str]) -> bool:
        key = names.name_key(candidate)
        if key in self._taken:
            return True
        if key.startswith(prefix):  # within the range read at once
            return key in held
        return self.ledger.path_taken(candidate, self.ignore)  # a name shortened to fit


def remove_unreferenced(ledger: Ledger, data_dir: Path, paths: set[str]) -> None:
    """Delete stored files that no ledger row points at any more (after a correction)."""
    for relative in paths:
        if not ledger.path_taken(relative):
            target = data_dir / relative
            if data_dir.resolve() in target.resolve().parents:
                try:
                    target.unlink(missing_ok=True)
                except PermissionError:  # open in another program (Windows): an orphan stays
                    continue
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
    replace_with_retry(staged, target)  # a virus scanner may hold a new file for a moment
