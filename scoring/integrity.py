"""Integrity checks (疑点): reused photos, copied text, videos that are too short or do not play.

Pure table functions: the facts measured from files (parsers/media.py, cached by the pipeline)
and the documents' text come in, findings come out as rows of ``contract.INTEGRITY_COLUMNS``.
Findings are for staff to judge; they change a score only where the rubric says so
(``scoring.integrity`` in config.yaml, no deduction by default).

Photos: two pictures are the same when their perceptual hashes (pHash and dHash, both) differ in
at most ``photo_max_distance`` of 64 bits for the best-aligned pair of windows (see
parsers/media.WINDOWS: a cropped copy matches a window of the original). Two shots of a burst
(both with EXIF capture times that differ) are not the same photo sent twice by one unit.

Text: documents are compared on 8-character shingles of their normalised text (NFKC, letters and
digits only, so spacing and punctuation changes do not hide a copy). Shared runs of at least
``text_min_passage_chars`` characters are passages; a document whose passages shared with one
other document cover at least ``text_min_share`` of it is flagged, with the longest passage
quoted. Passages that also occur in a reference text (the campaign notice, a template) count
against the reference only, not between units that both pasted it.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from contract import INTEGRITY_COLUMNS
from scoring.rubric import SHINGLE, IntegrityConfig

QUOTE_CHARS = 60  # longest passage quoted in the evidence


FINDING_SORT = ("unit", "kind", "path", "other_unit", "other_path")


def _finding(unit, kind, path, measure, evidence, other_unit="", other_path="") -> dict:
    return {
        "unit": unit,
        "kind": kind,
        "path": path,
        "other_unit": other_unit,
        "other_path": other_path,
        "measure": measure,
        "evidence": evidence,
    }


def findings_frame(rows: Iterable[dict]) -> pd.DataFrame:
    """Rows as a findings table: INTEGRITY_COLUMNS, sorted, measure a float."""
    frame = pd.DataFrame(list(rows), columns=list(INTEGRITY_COLUMNS))
    frame = frame.drop_duplicates(list(FINDING_SORT))
    frame = frame.sort_values(list(FINDING_SORT), kind="stable").reset_index(drop=True)
    frame["measure"] = frame["measure"].astype("float64")
    for column in INTEGRITY_COLUMNS:
        if column != "measure":
            frame[column] = frame[column].fillna("").astype(str)
    return frame


def find_all(
    photos: pd.DataFrame,
    reference_photos: pd.DataFrame,
    videos: pd.DataFrame,
    links: pd.DataFrame,
    documents: pd.DataFrame,
    reference_texts: pd.DataFrame,
    config: IntegrityConfig,
    deadline: datetime,
    now: datetime,
) -> pd.DataFrame:
    """Every finding, as ``findings_frame`` rows (frames as the functions below describe)."""
    rows = [
        *photo_findings(photos, reference_photos, config.photo_max_distance),
        *capture_date_findings(photos, config.window(deadline)),
        *video_findings(videos, config.min_video_seconds),
        *link_findings(links, videos, config.link_expiry_days, now),
        *text_findings(documents, reference_texts, config),
    ]
    return findings_frame(rows)


# ---------------------------------------------------------------------------------------------
# photos


def _bits(values: Iterable[tuple[str, ...]]) -> np.ndarray:
    """(n, windows) uint64 hashes from their hex digits."""
    rows = [[int(h, 16) for h in hashes] for hashes in values]
    return np.array(rows, dtype=np.uint64).reshape(len(rows), -1)


def hash_distances(a_p, a_d, b_p, b_d) -> np.ndarray:
    """(len(a), len(b)) distances: for the best-aligned windows, the larger of the pHash and
    dHash differences; either picture's whole may match any window of the other."""
    out = np.empty((a_p.shape[0], b_p.shape[0]), dtype=np.int64)
    step = 64  # rows at a time keeps the (rows, n, windows) temporaries small
    for lo in range(0, a_p.shape[0], step):
        hi = lo + step
        whole_a = np.maximum(
            np.bitwise_count(a_p[lo:hi, None, None, 0] ^ b_p[None, :, :]),
            np.bitwise_count(a_d[lo:hi, None, None, 0] ^ b_d[None, :, :]),
        ).min(axis=2)
        whole_b = np.maximum(
            np.bitwise_count(b_p[None, :, None, 0] ^ a_p[lo:hi, None, :]),
            np.bitwise_count(b_d[None, :, None, 0] ^ a_d[lo:hi, None, :]),
        ).min(axis=2)
        out[lo:hi] = np.minimum(whole_a, whole_b)
    return out


def _hashed(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose hashes are complete (a picture that could not be decoded has none)."""
    if frame.empty:
        return frame
    ok = frame["phash"].map(len) > 0
    return frame.loc[ok & (frame["phash"].map(len) == frame["dhash"].map(len))].reset_index(
        drop=True
    )


def _name(path: str) -> str:
    return str(path).replace("\\", "/").rsplit("/", 1)[-1]


def photo_findings(photos: pd.DataFrame, references: pd.DataFrame, max_distance: int) -> list[dict]:
    """same_photo_other_unit (one row for each unit), duplicate_photo_same_unit, reused_photo.

    photos: unit, path, sha256, taken (ISO or ""), phash, dhash (tuples of hex digits).
    references: path, phash, dhash.
    """
    photos = _hashed(photos)
    rows: list[dict] = []
    if photos.empty:
        return rows
    p, d = _bits(photos["phash"]), _bits(photos["dhash"])
    distance = hash_distances(p, d, p, d)
    records = photos.to_dict("records")
    for i, j in zip(*np.nonzero(np.triu(distance <= max_distance, k=1)), strict=True):
        rows.extend(_pair_rows(records[i], records[j], int(distance[i, j])))
    references = _hashed(references)
    if not references.empty:
        ref = hash_distances(p, d, _bits(references["phash"]), _bits(references["dhash"]))
        paths = references["path"].tolist()
        for i, j in zip(*np.nonzero(ref <= max_distance), strict=True):
            photo, value = records[i], int(ref[i, j])
            rows.append(
                _finding(
                    photo["unit"],
                    "reused_photo",
                    photo["path"],
                    value,
                    f"与往年材料中的《{_name(paths[j])}》为同一张照片（哈希差异 {value}）",
                    other_path=paths[j],
                )
            )
    return rows


def _pair_rows(a: dict, b: dict, value: int) -> list[dict]:
    if a["unit"] == b["unit"]:
        if a["sha256"] == b["sha256"] or (a["taken"] and b["taken"] and a["taken"] != b["taken"]):
            return []  # the same file, or two shots of a burst taken at different moments
        first, second = sorted((a, b), key=lambda r: r["path"])
        evidence = (
            f"与本单位已报送的《{_name(first['path'])}》为同一张照片（哈希差异 {value}），"
            "不应重复计数"
        )
        return [
            _finding(
                second["unit"],
                "duplicate_photo_same_unit",
                second["path"],
                value,
                evidence,
                first["unit"],
                first["path"],
            )
        ]
    same = "文件完全相同" if a["sha256"] == b["sha256"] else f"哈希差异 {value}"
    return [
        _finding(
            x["unit"],
            "same_photo_other_unit",
            x["path"],
            value,
            f"与{y['unit']}报送的《{_name(y['path'])}》为同一张照片（{same}）",
            y["unit"],
            y["path"],
        )
        for x, y in ((a, b), (b, a))
    ]


def capture_date_findings(photos: pd.DataFrame, window: tuple[date, date]) -> list[dict]:
    """exif_outside_window: an EXIF capture date outside the window; no EXIF, no finding."""
    start, end = window
    rows = []
    for photo in photos.to_dict("records"):
        taken = str(photo.get("taken") or "")
        if not taken:
            continue
        day = datetime.fromisoformat(taken).date()
        if start <= day <= end:
            continue
        days = (start - day).days if day < start else (day - end).days
        rows.append(
            _finding(
                photo["unit"],
                "exif_outside_window",
                photo["path"],
                days,
                f"照片拍摄时间 {taken.replace('T', ' ')[:19]}（EXIF），"
                f"不在活动期 {start.isoformat()} 至 {end.isoformat()} 内",
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------
# videos


def video_findings(videos: pd.DataFrame, min_seconds: float) -> list[dict]:
    """short_video and unplayable_video, from measured facts.

    videos: unit, path, probed, playable, duration, problem. A video nobody could measure
    (no ffprobe) is not judged.
    """
    rows = []
    for video in videos.to_dict("records"):
        if not video["probed"]:
            continue
        duration = float(video["duration"] or 0.0)
        if not video["playable"]:
            rows.append(
                _finding(
                    video["unit"],
                    "unplayable_video",
                    video["path"],
                    duration,
                    f"视频无法播放：{video['problem'] or '无法解码'}",
                )
            )
        elif duration < min_seconds:
            rows.append(
                _finding(
                    video["unit"],
                    "short_video",
                    video["path"],
                    duration,
                    f"视频时长仅 {duration:g} 秒，不足 {min_seconds:g} 秒",
                )
            )
    return rows


def link_findings(
    links: pd.DataFrame, videos: pd.DataFrame, expiry: dict[str, int], now: datetime
) -> list[dict]:
    """expired_video_link: a unit whose videos are only links, one of which has expired.

    links: unit, url, received_at (aware Timestamp). A unit with a video file that plays (or
    could not be checked) has its video; its links are not judged.
    """
    has_video = set()
    if not videos.empty:
        usable = videos["playable"].astype(bool) | ~videos["probed"].astype(bool)
        has_video = set(videos.loc[usable, "unit"])
    rows = []
    for link in links.to_dict("records"):
        days = next((d for host, d in expiry.items() if host in link["url"]), None)
        if days is None or link["unit"] in has_video:
            continue
        age = (pd.Timestamp(now) - pd.Timestamp(link["received_at"])).total_seconds() / 86400
        if age > days:
            rows.append(
                _finding(
                    link["unit"],
                    "expired_video_link",
                    "",
                    round(age, 1),
                    f"视频只有链接 {link['url']}，收到已 {int(age)} 天，"
                    f"超过 {days} 天有效期，链接可能已失效",
                )
            )
    return rows


# ---------------------------------------------------------------------------------------------
# text


@dataclass(frozen=True)
class _Text:
    """A document's text with letters and digits only, mapped back to the original."""

    key: int
    original: str
    norm: str
    index: tuple[int, ...]  # original position of every normalised character

    def shingles(self) -> set[str]:
        return {self.norm[i : i + SHINGLE] for i in range(len(self.norm) - SHINGLE + 1)}

    def quote(self, start: int, end: int) -> str:
        lo, hi = self.index[start], self.index[end - 1] + 1
        text = " ".join(self.original[lo:hi].split())
        return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def _normalised(key: int, text: str) -> _Text:
    chars, index = [], []
    for position, char in enumerate(text or ""):
        for folded in unicodedata.normalize("NFKC", char):
            if folded.isalnum():
                chars.append(folded.lower())
                index.append(position)
    return _Text(key, text or "", "".join(chars), tuple(index))


def shared_passages(
    doc: _Text, other: set[str], ignore: set[str], min_chars: int
) -> list[tuple[int, int]]:
    """[start, end) runs of ``doc.norm`` of at least ``min_chars`` covered by shingles in
    ``other`` and not in ``ignore``."""
    covered = np.zeros(len(doc.norm) + 1, dtype=bool)
    for i in range(len(doc.norm) - SHINGLE + 1):
        shingle = doc.norm[i : i + SHINGLE]
        if shingle in other and shingle not in ignore:
            covered[i : i + SHINGLE] = True
    edges = np.flatnonzero(np.diff(np.concatenate(([False], covered))))
    runs = list(zip(edges[::2], edges[1::2], strict=False))
    return [(int(a), int(b)) for a, b in runs if b - a >= min_chars]


def _copy_finding(unit, path, doc: _Text, runs, other_unit, other_path, what) -> dict:
    share = sum(b - a for a, b in runs) / max(len(doc.norm), 1)
    longest = max(runs, key=lambda r: r[1] - r[0])
    more = f"等 {len(runs)} 处" if len(runs) > 1 else ""
    evidence = f"与{what}雷同{more}，占本文 {share:.0%}：“{doc.quote(*longest)}”"
    return _finding(unit, "copied_text", path, round(share, 2), evidence, other_unit, other_path)


def text_findings(
    documents: pd.DataFrame, references: pd.DataFrame, config: IntegrityConfig
) -> list[dict]:
    """copied_text: a unit's document sharing passages with another unit's document or with a
    reference text. documents: unit, path, text (readable ones). references: path, text."""
    if documents.empty:
        return []
    if references.empty:
        references = pd.DataFrame(columns=["path", "text"])
    docs = [_normalised(i, t) for i, t in enumerate(documents["text"].tolist())]
    refs = [_normalised(i, t) for i, t in enumerate(references["text"].tolist())]
    doc_shingles = [d.shingles() for d in docs]
    ref_shingles = [r.shingles() for r in refs]
    every_ref = set().union(*ref_shingles) if ref_shingles else set()
    units, paths = documents["unit"].tolist(), documents["path"].tolist()
    ref_paths = references["path"].tolist()
    minimum, rows = config.text_min_passage_chars, []
    for doc, shingles in zip(docs, doc_shingles, strict=True):
        for k, ref in enumerate(ref_shingles):
            if len(shingles & ref) * 2 < minimum:
                continue
            runs = shared_passages(doc, ref, set(), minimum)
            if _enough(doc, runs, config.text_min_share):
                rows.append(
                    _copy_finding(
                        units[doc.key],
                        paths[doc.key],
                        doc,
                        runs,
                        "",
                        ref_paths[k],
                        f"参考文本《{_name(ref_paths[k])}》",
                    )
                )
    for a, b in _candidate_pairs(doc_shingles, units, minimum, every_ref):
        for x, y in ((a, b), (b, a)):
            runs = shared_passages(docs[x], doc_shingles[y], every_ref, minimum)
            if _enough(docs[x], runs, config.text_min_share):
                rows.append(
                    _copy_finding(
                        units[x],
                        paths[x],
                        docs[x],
                        runs,
                        units[y],
                        paths[y],
                        f"{units[y]}的《{_name(paths[y])}》",
                    )
                )
    return rows


def _enough(doc: _Text, runs: list[tuple[int, int]], min_share: float) -> bool:
    return bool(runs) and sum(b - a for a, b in runs) >= min_share * len(doc.norm)


def _candidate_pairs(shingles: list[set[str]], units: list[str], minimum: int, ignore: set[str]):
    """Pairs of documents of different units sharing enough shingles to hold a passage."""
    owners: dict[str, list[int]] = defaultdict(list)
    for key, items in enumerate(shingles):
        for shingle in items - ignore:
            owners[shingle].append(key)
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for keys in owners.values():
        if 1 < len(keys) <= 50:  # a shingle in most documents is common phrasing, not a copy
            for i, a in enumerate(keys):
                for b in keys[i + 1 :]:
                    if units[a] != units[b]:
                        shared[(a, b)] += 1
    return sorted(pair for pair, count in shared.items() if count >= minimum - SHINGLE + 1)
