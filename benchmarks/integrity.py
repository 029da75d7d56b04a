#!/usr/bin/env python3
"""Integrity-check cost: measuring photos and videos, pairing photos, comparing texts.

Not part of CI. Prints figures:

(a) measuring one photo (decode once at reduced size, EXIF, pHash + dHash over 11 windows) for
    phone-sized JPEGs (4000x3000), WeChat-sized JPEGs (1280x960) and iPhone HEICs (4032x3024):
    median ms per photo, one thread;
(b) the same batch through the pipeline's thread pool (pipeline/media.workers()): photos/s;
(c) probing one video with ffprobe (12 s and 60 s clips);
(d) pairing N photos (all pairs, 11 windows each side) and comparing D documents of ~3,000
    characters: seconds.

    python benchmarks/integrity.py                 # 12 photos per size, N = 2,000, D = 120
    python benchmarks/integrity.py --photos 4 --pairs 500
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parsers.media import WINDOWS, measure_image, measure_video
from parsers.tools import find_tools
from pipeline.media import workers
from scoring.integrity import photo_findings, text_findings
from scoring.rubric import IntegrityConfig
from tests.support import files


def _write_photos(folder: Path, count: int) -> dict[str, list[Path]]:
    sets: dict[str, list[Path]] = {
        "jpeg 4000x3000": [],
        "jpeg 1280x960": [],
        "heic 4032x3024": [],
        "heic + thumbnail": [],
    }
    for i in range(count):
        big = files.photo(1000 + i, 4000, 3000, quality=92, exif_datetime="2020:12:20 09:30:00")
        path = folder / f"big{i}.jpg"
        path.write_bytes(big)
        sets["jpeg 4000x3000"].append(path)
        small = folder / f"small{i}.jpg"
        small.write_bytes(files.photo(2000 + i, 1280, 960, quality=80))
        sets["jpeg 1280x960"].append(small)
        original = files.photo(3000 + i, 4032, 3024)
        heic = folder / f"phone{i}.heic"
        heic.write_bytes(files.photo_variant(original, "heic"))
        sets["heic 4032x3024"].append(heic)
        iphone = folder / f"iphone{i}.heic"  # with a 320-pixel thumbnail, as iPhones store
        iphone.write_bytes(files.photo_variant(original, "heic", 320))
        sets["heic + thumbnail"].append(iphone)
    return sets


def bench_photos(folder: Path, count: int) -> None:
    print(f"(a) measuring one photo, one thread ({count} photos per size)")
    sets = _write_photos(folder, count)
    for name, paths in sets.items():
        times = []
        for path in paths:
            start = time.perf_counter()
            facts = measure_image(path)
            times.append(time.perf_counter() - start)
            assert facts.phash, facts.problem
        size = statistics.mean(p.stat().st_size for p in paths) / 1e6
        print(f"    {name:16} {size:5.1f} MB  median {statistics.median(times) * 1000:6.0f} ms")
    every = [p for paths in sets.values() for p in paths]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers()) as pool:
        list(pool.map(measure_image, every))
    elapsed = time.perf_counter() - start
    print(
        f"(b) {len(every)} mixed photos, {workers()} threads: {len(every) / elapsed:.1f} photos/s"
    )


def bench_videos(folder: Path) -> None:
    probe = find_tools().ffprobe
    if probe is None or not files.have_ffmpeg():
        print("(c) skipped: ffmpeg/ffprobe not installed")
        return
    for seconds in (12, 60):
        path = folder / f"clip{seconds}.mp4"
        path.write_bytes(files.mp4(seconds, (1280, 720)))
        start = time.perf_counter()
        facts = measure_video(path, probe)
        elapsed = time.perf_counter() - start
        ms = elapsed * 1000
        print(f"(c) ffprobe {seconds:3d} s 720p clip: {ms:.0f} ms (plays={facts.playable})")


def _random_hashes(rng: random.Random) -> tuple[str, ...]:
    return tuple(f"{rng.getrandbits(64):016x}" for _ in WINDOWS)


def bench_pairing(count: int, documents: int) -> None:
    rng = random.Random(7)
    frame = pd.DataFrame(
        {
            "unit": [f"单位{i % 60}" for i in range(count)],
            "path": [f"p{i}.jpg" for i in range(count)],
            "sha256": [str(i) for i in range(count)],
            "taken": "",
            "phash": [_random_hashes(rng) for _ in range(count)],
            "dhash": [_random_hashes(rng) for _ in range(count)],
        }
    )
    refs = pd.DataFrame(columns=["path", "phash", "dhash"])
    start = time.perf_counter()
    photo_findings(frame, refs, 10)
    print(f"(d) pairing {count} photos (all pairs): {time.perf_counter() - start:.2f} s")
    alphabet = np.array(list("禁毒志愿服务宣传活动群众社区学校村镇组织开展工作人员帮扶培训"))
    gen = np.random.default_rng(3)
    texts = ["".join(gen.choice(alphabet, 3000)) for _ in range(documents)]
    docs = pd.DataFrame(
        {"unit": [f"单位{i}" for i in range(documents)], "path": "r", "text": texts}
    )
    start = time.perf_counter()
    text_findings(docs, pd.DataFrame(columns=["path", "text"]), IntegrityConfig())
    print(f"    comparing {documents} documents of 3,000 characters: "
          f"{time.perf_counter() - start:.2f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=12, help="photos per size")
    parser.add_argument("--pairs", type=int, default=2000, help="photos to pair")
    parser.add_argument("--documents", type=int, default=120, help="documents to compare")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hyjdb-integrity-") as tmp:
        folder = Path(tmp)
        bench_photos(folder, args.photos)
        bench_videos(folder)
    bench_pairing(args.pairs, args.documents)


if __name__ == "__main__":
    main()
