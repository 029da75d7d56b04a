#!/usr/bin/env python3
"""Console page speed on a large campaign: 1,000 units and 50,000 files.

Not part of CI. Builds the campaign directly in a fresh ledger (synthetic rows through the
Ledger API: no mail is parsed), then renders every page N times in-process with Flask's test
client and prints milliseconds per page (median and worst). Three figures per page:

- cold: the first request after another process changed the ledger (the report tables are
  rebuilt); after a poll in ``serve`` or a button, the console reuses the tables that the
  report rebuild made, so the page after it is warm (the button itself pays the rebuild);
- warm: later requests (tables reused until the ledger's generation moves);
- thumbnails: the first request of a photo's preview (made and cached under
  <data>/cache/thumbs/) against a later one (read from the cache).

    python benchmarks/console.py                     # 1,000 units, 50,000 files, 20 rounds
    python benchmarks/console.py --units 200 --files 10000 --rounds 5   # quick look
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.app import create_app
from intake.ledger import FileRecord, Ledger
from pipeline.config import load_config
from tests.support import files as make_files

TZ = datetime.fromisoformat("2020-12-31T23:59:59+08:00").tzinfo
CATEGORIES = ("photo", "photo", "photo", "report", "deeds", "video", "other")
NAMES = {"photo": "照片{}.jpg", "report": "工作总结{}.docx", "deeds": "先进事迹{}.docx",
         "video": "活动视频{}.mp4", "other": "附件{}.xlsx"}  # fmt: skip
LABELS = {
    "photo": "照片",
    "report": "总结报告",
    "deeds": "事迹材料",
    "video": "视频",
    "other": "其他",
}


def build(folder: Path, n_units: int, n_files: int, per_message: int = 10) -> Path:
    """A config, a registry of ``n_units`` and a ledger holding ``n_files`` files."""
    rng = random.Random(7)
    units = [f"测试单位{i:04d}" for i in range(n_units)]
    with open(folder / "registry.csv", "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["unit", "category", "aliases", "emails"])
        for i, unit in enumerate(units):
            writer.writerow([unit, "乡镇" if i % 3 else "县直单位", "", f"u{i}@example.cn"])
    (folder / "inbox").mkdir()
    (folder / "config.yaml").write_text(
        "mailbox: {source: folder, path: inbox}\nunits_file: registry.csv\n"
        "paths: {data: data, reports: data/reports}\n",
        encoding="utf-8",
    )
    data = folder / "data"
    start = datetime(2020, 12, 1, 9, 0, tzinfo=TZ)
    photo = make_files.jpeg(seed=1)
    real_photos: list[str] = []
    with Ledger(data / "ledger.sqlite3") as ledger:
        for m in range(n_files // per_message):
            unit = units[m % n_units] if m % 50 else None  # every 50th mail waits for review
            received = start + timedelta(minutes=m * 7 % (40 * 24 * 60))
            sha = f"{m:064x}"
            row = ledger.begin_message(sha, f"mail/{sha}.eml", 1000, received.isoformat(), "server")
            records = []
            for seq in range(1, per_message + 1):
                category = rng.choice(CATEGORIES)
                file_sha = f"{m:032x}{seq:032x}"
                name = NAMES[category].format(seq)
                path = f"materials/{unit or '待确认'}/{LABELS[category]}/{m}-{name}"
                if category == "photo" and len(real_photos) < 20:
                    target = data / path
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(photo)
                    real_photos.append(path)
                review = (
                    "未能识别文件类别，请人工确认" if category == "other" and m % 40 == 0 else ""
                )
                records.append(
                    FileRecord(
                        seq,
                        "file",
                        name,
                        f"u{m % n_units}@example.cn",
                        unit,
                        category,
                        "",
                        50_000 + seq,
                        file_sha,
                        path,
                        "",
                        "",
                        review,
                    )
                )
            with ledger.transaction():
                ledger.add_files(row.id, records)
                ledger.finish_message(
                    row.id,
                    sender=f"u{m % n_units}@example.cn",
                    subject=f"{unit or '某单位'}材料报送{m}",
                    unit=unit,
                    status="done" if unit else "review",
                    reason="" if unit else "无法判断报送单位，请人工确认",
                )
                for c in range(m % 10 == 0):
                    ledger.add_correction("extend_deadline", units[m % n_units],
                                          "2021-01-05T23:59:59+08:00", f"理由{c}", "bench",
                                          received.isoformat())  # fmt: skip
                ledger.bump_generation()
    return folder / "config.yaml"


def timed(client, path: str) -> float:
    began = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path}: HTTP {response.status_code}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="console-bench-") as temp:
        began = time.perf_counter()
        config = load_config(build(Path(temp), args.units, args.files))
        print(f"campaign: {args.units} units, {args.files} files, built in "
              f"{time.perf_counter() - began:.1f} s")  # fmt: skip
        now = datetime(2021, 1, 2, 10, 0, tzinfo=TZ)
        client = create_app(config, clock=lambda: now, require_login=False).test_client()
        cold = timed(client, "/")
        review = client.get("/review?format=json").get_json()
        unit = "测试单位0001"
        photo = next(f["id"] for f in client.get(f"/unit/{unit}?format=json").get_json()["groups"]
                     [0]["files"])  # fmt: skip
        pages = ["/", "/review", "/units", f"/unit/{unit}", "/remind", "/log", "/reports",
                 "/api/status"]  # fmt: skip
        print(f"review queue: {review['count']} items")
        print(f"{'page':<22}{'median ms':>10}{'worst ms':>10}")
        print(f"{'/ (cold: tables built)':<22}{cold:>10.0f}")
        for page in pages:
            times = [timed(client, page) for _ in range(args.rounds)]
            print(f"{page:<22}{statistics.median(times):>10.0f}{max(times):>10.0f}")
        # A button (a correction: the ledger changes, every report is rebuilt) and the page
        # that follows it, which reuses the tables the rebuild made.
        token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").text).group(1)
        began = time.perf_counter()
        client.post("/act/extend", data={"csrf_token": token, "unit": unit, "day": "2021-01-05"})
        action = (time.perf_counter() - began) * 1000
        print(f"{'button: 延期 (write)':<22}{action:>10.0f}")
        print(f"{'/ after the button':<22}{timed(client, '/'):>10.0f}")
        first = timed(client, f"/file/{photo}/thumb")
        later = [timed(client, f"/file/{photo}/thumb") for _ in range(args.rounds)]
        print(f"{'thumbnail, first':<22}{first:>10.0f}")
        print(f"{'thumbnail, cached':<22}{statistics.median(later):>10.0f}{max(later):>10.0f}")


if __name__ == "__main__":
    main()
