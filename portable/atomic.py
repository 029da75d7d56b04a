"""The one atomic writer: a file is replaced in one step, or not at all.

The new content goes to a temporary file (beside the target, or in a scratch folder on the same
file system), is flushed to disk, then renamed over the target: readers and a crash only ever
see the old file or the complete new one.

Windows refuses to replace a file that another program holds open (a 台账 open in WPS or
Excel): ``os.replace`` raises PermissionError (winerror 5 or 32). After a few short retries
(virus scanners and the search indexer hold files for a moment), a writer that passes
``divert_at`` keeps the old file and puts the new one beside it, as
``报送台账（已更新 12-31 15时30分）.xlsx``; ``settle`` moves it into place once the file is closed.
Without ``divert_at`` the PermissionError propagates.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from portable.names import split_suffix

RETRY_DELAYS_S = (0.05, 0.2, 0.5)  # a file held for a moment by a scanner is not "locked"
_MARK = "已更新"
_DIVERTED = re.compile(rf"^(?P<stem>.+)（{_MARK} [^（）]*）(?P<suffix>\.[^.]*)?$")


def write_atomic(
    path: Path,
    write: Callable[[Path], object] | bytes,
    *,
    scratch: Path | None = None,
    divert_at: datetime | None = None,
    durable: bool = True,
) -> Path:
    """Fill a temporary file with ``write(tmp)`` and put it at ``path`` in one step.

    Returns where the content landed: ``path``, or, when ``path`` is held open by another
    program and ``divert_at`` is given, the copy beside it (older copies are then removed).
    ``durable=False`` leaves flushing to the caller (``flush_to_disk`` for a whole group).
    ``write`` may be the bytes themselves (written through the temporary file's handle).
    """
    path = Path(path)
    _folder(path.parent)
    folder = scratch if scratch is not None else path.parent
    _folder(folder)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f"{path.suffix}.tmp", dir=folder)
    tmp = Path(name)
    try:
        if hasattr(os, "fchmod"):  # not on Windows, where the mode means little anyway
            os.fchmod(fd, _mode(path))
        else:
            _match_mode(tmp, path)
        if isinstance(write, bytes | bytearray | memoryview):
            with os.fdopen(fd, "wb") as handle:
                fd = -1
                handle.write(write)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
        else:
            os.close(fd)
            fd = -1
            write(tmp)
            if durable:
                _fsync(tmp)
        landed = _place(tmp, path, divert_at)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if divert_at is not None:
        _remove_diverted(path, keep=landed)
    return landed


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def flush_to_disk(paths: list[Path]) -> None:
    """Make files written with ``durable=False`` survive a power cut, as a group: one
    ``os.sync`` where the system has it (a few ms for a whole fetch batch, against a
    fsync per file), else a flush of each file (Windows)."""
    if not paths:
        return
    sync = getattr(os, "sync", None)
    if sync is not None:
        sync()
        return
    for path in paths:
        _fsync(path)


def write_bytes_atomic(path: Path, data: bytes, **options) -> Path:
    return write_atomic(path, data, **options)


def _folder(folder: Path) -> None:
    if not folder.is_dir():  # a stat: cheaper than a mkdir that fails on every write
        folder.mkdir(parents=True, exist_ok=True)


def replace_with_retry(source: Path, target: Path) -> None:
    """``os.replace``, retried briefly while Windows reports the target in use."""
    for delay in (*RETRY_DELAYS_S, None):
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if delay is None:
                raise
            time.sleep(delay)


def diverted_name(path: Path, when: datetime, number: int = 1) -> Path:
    """``报送台账（已更新 12-31 15时30分）.xlsx``: no ':' (NTFS refuses it in names)."""
    stem, suffix = split_suffix(path.name)
    extra = f" {number}" if number > 1 else ""
    return path.with_name(f"{stem}（{_MARK} {when:%m-%d %H时%M分}{extra}）{suffix}")


def diverted_copies(path: Path) -> list[Path]:
    """Copies of ``path`` written beside it while it was locked, newest first."""
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return []
    found = [entry for entry in entries if canonical_name(entry.name) == path.name]
    return sorted(found, key=_mtime, reverse=True)


def canonical_name(name: str) -> str | None:
    """The file a diverted copy stands in for (``报送台账.xlsx``), or None."""
    match = _DIVERTED.match(name)
    if match is None:
        return None
    return match["stem"] + (match["suffix"] or "")


def settle(folder: Path) -> list[Path]:
    """Move the newest diverted copy of every file in ``folder`` into place where the file is
    no longer held open (older copies are removed); returns the files brought into place."""
    if not folder.is_dir():
        return []
    targets = {canonical_name(entry.name) for entry in folder.iterdir()} - {None}
    settled = []
    for name in sorted(targets):  # type: ignore[arg-type]
        target = folder / name
        copies = diverted_copies(target)
        if not copies:
            continue
        try:
            os.replace(copies[0], target)
        except OSError:  # still open (PermissionError on Windows), or gone meanwhile
            continue
        settled.append(target)
        for copy in copies[1:]:
            with contextlib.suppress(OSError):
                copy.unlink()
    return settled


def _place(tmp: Path, path: Path, divert_at: datetime | None) -> Path:
    try:
        replace_with_retry(tmp, path)
        return path
    except PermissionError:
        if divert_at is None:
            raise
    for number in range(1, 6):
        beside = diverted_name(path, divert_at, number)
        try:
            os.replace(tmp, beside)
            return beside
        except PermissionError:  # someone opened an earlier copy too
            continue
    raise PermissionError(f"{path} and its copies beside it are all held open")


def _remove_diverted(path: Path, keep: Path) -> None:
    for copy in diverted_copies(path):
        if copy != keep:
            with contextlib.suppress(OSError):
                copy.unlink()


def _match_mode(tmp: Path, path: Path) -> None:
    """mkstemp creates 0600; give the file the mode a plain open() would have."""
    os.chmod(tmp, _mode(path))


def _mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_UMASK


def _read_umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


_UMASK = _read_umask()  # read once: os.umask can only be read by setting it


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
