"""Measured facts for the integrity checks, cached in the ledger (``media`` table by sha256).

Measured at report time, only what is new: stored photos and videos without facts of the
current probe version (so old ledgers and ``reprocess`` get them too), and the office's
reference material (``integrity.reference_folders`` pictures, ``integrity.reference_texts``),
whose content hash is kept per path, size and mtime so unchanged files are never read again.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from intake.ledger import Ledger
from parsers.documents import read_document
from parsers.filetypes import sniff
from parsers.media import (
    PROBE_VERSION,
    ImageFacts,
    VideoFacts,
    facts_from_json,
    measure_file,
    measure_image,
    measure_video,
)
from parsers.tools import ToolPaths
from portable.processes import exit_with_parent

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".bmp", ".gif", ".tif"}
IMAGE_SUFFIXES |= {".tiff"}


@dataclass(frozen=True)
class References:
    photos: pd.DataFrame  # path, phash, dhash, taken
    texts: pd.DataFrame  # path, text
    alerts: tuple[str, ...]  # Chinese lines for staff (a folder that is not there ...)


def workers() -> int:
    """Threads for measuring: Pillow decodes and ffprobe runs outside the GIL."""
    return max(1, min(4, os.cpu_count() or 1))


def _measure(job: tuple[str, Path, str], ffprobe: str | None) -> tuple[str, object]:
    sha, path, category = job
    if category == "video":
        return sha, measure_video(path, ffprobe)
    return sha, measure_image(path)


def measure_missing(ledger: Ledger, jobs: Iterable[tuple[str, Path, str]], tools: ToolPaths) -> int:
    """Measure (sha256, path, "photo"|"video") jobs lacking current facts; store the results.

    A file that is not on disk, or a video while no ffprobe is installed, is left unmeasured
    so that a later run measures it.
    """
    versions = ledger.media_versions()
    todo = [j for j in jobs if versions.get(j[0]) != PROBE_VERSION and j[1].is_file()]
    todo = list({j[0]: j for j in todo}.values())
    if not todo:
        return 0
    ffprobe = tools.ffprobe
    with ThreadPoolExecutor(max_workers=workers()) as pool:
        results = list(pool.map(lambda job: _measure(job, ffprobe), todo))
    stored = _keep(ledger, results)
    log.info("measured %d of %d new photos/videos", stored, len(todo))
    return stored


class Prefetch:
    """Measures the photos and videos a poll stores while the poll goes on.

    The poll parses mail on one core; a worker process measures on the other (a process, not
    threads: a measuring thread would hold the GIL whenever the poll waits for the disk or the
    ledger, slowing every such wait down). The report built after the poll finds the facts
    ready instead of measuring them all then. Facts are written by ``store``, on the thread
    that owns the ledger; what could not be measured is left to ``refresh_stored``.
    """

    def __init__(self, data_dir: Path, tools: ToolPaths) -> None:
        self._data_dir, self._ffprobe = data_dir, tools.ffprobe
        # spawn, as on Windows: a forked copy of a process holding the ledger is no worker
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=context, initializer=exit_with_parent
        )
        self._pending: dict[str, tuple[Future, tuple[str, str, str | None]]] = {}
        self._broken = False

    def submit(self, stored: Iterable[tuple[str, str, str]]) -> None:
        """(sha256, stored path, "photo"|"video") of files just committed. A worker that
        cannot run (it could not start, it died) only means measuring at report time."""
        for sha, path, category in stored:
            if self._broken or sha in self._pending:
                continue
            job = (str(self._data_dir / path), category, self._ffprobe)
            try:
                future = self._pool.submit(measure_file, *job)
            except (BrokenExecutor, RuntimeError, OSError):
                self._give_up()
                return
            self._pending[sha] = (future, job)

    def store(self, ledger: Ledger) -> int:
        """Wait for the measurements and keep them (those of the current probe version).

        The poll is over, so this process helps: it measures, from the back of the queue, what
        the worker has not started yet, until the two meet.
        """
        results = list(self._help())
        for sha, (future, _) in self._pending.items():
            if future.cancelled():
                continue
            try:
                facts = future.result()
            except Exception:  # the worker died or hit a bug: refresh_stored measures again
                self._give_up()
                continue
            results.append((sha, facts))
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()
        return _keep(ledger, [(sha, facts_from_json(f)) for sha, f in results if f is not None])

    def _help(self) -> Iterable[tuple[str, dict | None]]:
        for sha, (future, job) in reversed(self._pending.items()):
            if not future.cancel():  # the worker has it (and everything queued before it)
                return
            try:
                yield sha, measure_file(*job)
            except Exception:  # measure_file does not raise on bad input; a bug: measure later
                log.warning("measuring %s failed", job[0], exc_info=True)

    def _give_up(self) -> None:
        if not self._broken:
            log.warning("the measuring worker failed; photos are measured at report time")
            self._broken = True


def _keep(ledger: Ledger, results: list[tuple[str, object]]) -> int:
    stored = 0
    with ledger.transaction():
        for sha, facts in results:
            if isinstance(facts, VideoFacts) and not facts.probed:
                continue
            ledger.put_media(sha, PROBE_VERSION, facts.to_json())
            stored += 1
    return stored


def refresh_stored(ledger: Ledger, data_dir: Path, tools: ToolPaths) -> int:
    """Facts for every stored photo and video that lacks them."""
    versions = ledger.media_versions()  # paths only for those lacking facts: 50,000 cost 0.2 s
    jobs = [
        (sha, data_dir / path, category)
        for sha, path, category in ledger.stored_media()
        if versions.get(sha) != PROBE_VERSION
    ]
    return measure_missing(ledger, jobs, tools)


def _content_hash(ledger: Ledger, path: Path) -> str:
    """sha256 of a reference file, read only when its size or mtime changed."""
    stat = path.stat()
    known = ledger.reference_file(str(path))
    if known and known[:2] == (stat.st_size, stat.st_mtime_ns):
        return known[2]
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    sha = digest.hexdigest()
    with ledger.transaction():
        ledger.put_reference_file(str(path), stat.st_size, stat.st_mtime_ns, sha)
    return sha


def _photo_rows(ledger: Ledger, found: list[tuple[str, Path]]) -> pd.DataFrame:
    facts = ledger.media_facts([sha for sha, _ in found])
    rows = []
    for sha, path in found:
        record = facts_from_json(facts[sha]) if sha in facts else None
        if isinstance(record, ImageFacts) and record.phash:
            rows.append(
                {"path": str(path), "phash": record.phash, "dhash": record.dhash,
                 "taken": record.taken}
            )  # fmt: skip
    return pd.DataFrame(rows, columns=["path", "phash", "dhash", "taken"])


def reference_photos(
    ledger: Ledger, folders: list[Path], tools: ToolPaths
) -> tuple[pd.DataFrame, list[str]]:
    """(path, phash, dhash, taken) of every picture below ``folders``, and alerts."""
    alerts, found = [], []
    for folder in folders:
        if not folder.is_dir():
            alerts.append(f"往年材料文件夹 {folder} 不存在（配置项 integrity.reference_folders）")
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                found.append((_content_hash(ledger, path), path))
    measure_missing(ledger, [(sha, path, "photo") for sha, path in found], tools)
    return _photo_rows(ledger, found), alerts


def reference_texts(
    ledger: Ledger, paths: list[Path], timeout_s: float, tools: ToolPaths
) -> tuple[pd.DataFrame, list[str]]:
    """(path, text) of every readable reference text, and alerts for those that are not."""
    alerts, rows = [], []
    for path in paths:
        if not path.is_file():
            alerts.append(f"参考文本 {path} 不存在（配置项 integrity.reference_texts）")
            continue
        sha = _content_hash(ledger, path)
        known = ledger.document_text(sha)
        if known is None:
            subtype = sniff(path, path.name).subtype
            document = read_document(path, subtype, timeout_s, tools)
            with ledger.transaction():
                ledger.add_document(
                    sha, document.title, document.text, document.has_text_layer, document.problem
                )
            known = (document.text, document.has_text_layer)
        if known[1] and known[0].strip():
            rows.append({"path": str(path), "text": known[0]})
        else:
            alerts.append(f"参考文本 {path.name} 没有可读取的文字，未用于比对")
    return pd.DataFrame(rows, columns=["path", "text"]), alerts


def references(
    ledger: Ledger, folders: list[Path], texts: list[Path], timeout_s: float, tools: ToolPaths
) -> References:
    photos, photo_alerts = reference_photos(ledger, folders, tools)
    text_frame, text_alerts = reference_texts(ledger, texts, timeout_s, tools)
    return References(photos, text_frame, tuple(photo_alerts + text_alerts))


def cached_references(ledger: Ledger, folders: list[Path], texts: list[Path]) -> References:
    """The reference tables as the last ``references`` call left them in the ledger, without
    touching the files (for tables built between report runs: the console, receipts)."""
    known = ledger.reference_files()
    found = [
        (sha, Path(path))
        for path, sha in sorted(known.items())
        if Path(path).suffix.lower() in IMAGE_SUFFIXES
        and any(Path(path).is_relative_to(folder) for folder in folders)
    ]
    rows = []
    for path in texts:
        text = ledger.document_text(known.get(str(path), ""))
        if text is not None and text[1] and text[0].strip():
            rows.append({"path": str(path), "text": text[0]})
    return References(_photo_rows(ledger, found), pd.DataFrame(rows, columns=["path", "text"]), ())
