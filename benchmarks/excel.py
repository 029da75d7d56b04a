#!/usr/bin/env python3
"""Excel 台账 (``outputs.excel.write_ledger``) speed on small and large campaigns.

Not part of CI. Builds ``ReportTables`` directly (synthetic DataFrames in the shape of
``tests/support/report_tables.py``: no ledger, no mail), then writes the 台账 N times and prints
seconds per write (median and worst, wall and CPU), the file size and the process's peak RSS
(Linux/macOS; the peak so far, so sizes run smallest first).

    python benchmarks/excel.py                               # 60/1,000 and 1,000/50,000
    python benchmarks/excel.py --sizes 1000:50000 --rounds 3
    python benchmarks/excel.py --sizes 1000:50000 --profile  # also print cProfile hotspots
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from outputs.excel import write_ledger
from outputs.tables import Campaign, ReportTables

TZ = timezone(timedelta(hours=8))
DEADLINE = datetime(2020, 12, 31, 23, 59, 59, tzinfo=TZ)
CATEGORIES = np.array(["photo", "photo", "photo", "report", "deeds", "video", "other"])
FOLDERS = {
    "photo": "照片",
    "report": "总结报告",
    "deeds": "事迹材料",
    "video": "视频",
    "other": "其他",
}
NAMES = {
    "photo": "活动照片{}.jpg",
    "report": "2020年度禁毒工作总结{}.docx",
    "deeds": "先进事迹材料{}.docx",
    "video": "禁毒宣传视频{}.mp4",
    "other": "附件{}.xlsx",
}
CRITERIA = (
    ("材料完整性", 40.0),
    ("报送时效", 20.0),
    ("照片数量与质量", 10.0),
    ("总结报告质量", 20.0),
    ("事迹材料", 10.0),
)


def _units(n_units: int, rng: np.random.Generator) -> pd.DataFrame:
    names = [f"测试单位{i:04d}" for i in range(n_units)]
    submitted = rng.random(n_units) > 0.1
    on_time = submitted & (rng.random(n_units) > 0.2)
    first = pd.Series(
        DEADLINE + pd.to_timedelta(rng.integers(-20 * 1440, 3 * 1440, n_units), unit="min")
    ).where(submitted)
    counts = {c: np.where(submitted, rng.integers(0, 40, n_units), 0) for c in ("photos",)}
    for column in ("reports", "deeds", "videos", "video_links"):
        counts[column] = np.where(submitted, rng.integers(0, 3, n_units), 0)
    missing = [
        ";".join(
            code
            for code, count in (
                ("photos", counts["photos"][i]),
                ("report", counts["reports"][i]),
                ("deeds", counts["deeds"][i]),
                ("video", counts["videos"][i] + counts["video_links"][i]),
            )
            if count == 0
        )
        for i in range(n_units)
    ]
    score = np.where(submitted, rng.uniform(30, 99, n_units).round(1), 0.0)
    units = pd.DataFrame(
        {
            "unit": names,
            "category": np.where(np.arange(n_units) % 3, "乡镇", "县直机关"),
            "submitted": submitted,
            "on_time": on_time,
            "first_received": first,
            "last_received": first + pd.Timedelta(hours=3),
            **counts,
            "complete": [not m for m in missing],
            "missing": missing,
            "score": score,
            "rank": pd.Series(score).where(submitted).rank(method="min", ascending=False),
            "award": submitted & on_time & (score >= 85),
            "notice": ~on_time,
            "notice_reasons": np.where(on_time, "", np.where(submitted, "late", "not_submitted")),
            "grade": np.where(score >= 90, "优秀", np.where(score >= 60, "良好", "不合格")),
            "deduction": np.where(on_time, 0.0, 1.0),
            "needs_manual": np.arange(n_units) % 17 == 0,
            "days_late": np.where(on_time | ~submitted, 0.0, 2.0),
            "volunteers": pd.array(rng.integers(0, 80, n_units), dtype="Int64"),
            "late_items": np.where(on_time | ~submitted, "", "photos;report"),
            "score_confirmed": submitted,
            "pending_reasons": "",
            "findings": rng.integers(0, 3, n_units),
            "folder": [f"materials/{name}" for name in names],
        }
    )
    units["rank"] = units["rank"].astype("Int64")
    return units


def _attachments(units: pd.DataFrame, n_files: int, rng: np.random.Generator) -> pd.DataFrame:
    per_message = 10
    message = np.arange(n_files) // per_message
    seq = np.arange(n_files) % per_message + 1
    unit_index = message % len(units)
    unit = units["unit"].to_numpy()[unit_index].astype(object)
    unit[message % 50 == 0] = ""  # every 50th mail waits for review
    category = CATEGORIES[rng.integers(0, len(CATEGORIES), n_files)]
    received = pd.Series(DEADLINE + pd.to_timedelta((message * 7) % (40 * 1440) - 30 * 1440, "min"))
    names = [NAMES[c].format(s) for c, s in zip(category, seq, strict=True)]
    link = rng.random(n_files) < 0.01
    filename = np.where(
        link, [f"https://wx.mail.qq.com/ftn/download?func=3&k={m:016x}" for m in message], names
    )
    paths = [
        "" if is_link else f"materials/{u or '待确认'}/{FOLDERS[c]}/{m}-{name}"
        for u, c, m, name, is_link in zip(unit, category, message, names, link, strict=True)
    ]
    return pd.DataFrame(
        {
            "message_id": [f"<{m:08d}.{m % 97}@qq.com>" for m in message],
            "uid": pd.array(message + 100, dtype="Int64"),
            "received_at": received,
            "sender": [f"{20480000 + i * 7919}@qq.com" for i in unit_index],
            "unit": unit,
            "filename": filename,
            "category": np.where(link, "video", category),
            "size": pd.array(np.where(link, 0, rng.integers(50_000, 5_000_000, n_files)), "Int64"),
            "sha256": np.where(link, "", [f"{i:064x}" for i in range(n_files)]),
            "path": paths,
            "kind": np.where(link, "link", "file"),
            "link_code": np.where(link & (message % 2 == 0), "x7k2", ""),
            "late": (received > DEADLINE).to_numpy(),
            "review_reason": np.where(
                (category == "other") & (message % 40 == 0), "未能识别文件类别，请人工确认", ""
            ),
            "ref": [f"{m + 1}-{s}" for m, s in zip(message, seq, strict=True)],
        }
    ).assign(size=lambda f: f["size"].mask(f["kind"] == "link"))


def _side_tables(units: pd.DataFrame, attachments: pd.DataFrame) -> dict[str, pd.DataFrame]:
    submitted = units[units["submitted"]]
    breakdown = pd.DataFrame(
        [
            dict(
                unit=u,
                criterion=c,
                points=round(m * s / 100, 1),
                max_points=m,
                evidence=f"照片{p}张、报告{r}份、事迹{d}份",
            )
            for u, s, p, r, d in submitted[["unit", "score", "photos", "reports", "deeds"]].values
            for c, m in CRITERIA
        ]
    )
    waiting = attachments[attachments["unit"] == ""].drop_duplicates("message_id")
    review = pd.DataFrame(
        {
            "ref": waiting["ref"].str.split("-").str[0],
            "received_at": waiting["received_at"],
            "sender": waiting["sender"],
            "subject": "=年终禁毒材料报送 " + waiting["ref"],  # "=": must stay text
            "unit": "",
            "filename": "",
            "reason": "无法确定报送单位：主题与附件中未出现已登记的单位名称",
            "candidates": "测试单位0001;测试单位0002",
            "path": "materials/待确认/" + waiting["ref"],
        }
    )
    some = submitted.head(max(1, len(submitted) // 5))
    integrity = pd.DataFrame(
        {
            "unit": some["unit"],
            "kind": "same_photo_other_unit",
            "path": some["folder"] + "/照片/活动1.jpg",
            "other_unit": units["unit"].iloc[0],
            "other_path": "materials/测试单位0000/照片/活动1.jpg",
            "measure": 2.0,
            "evidence": "与测试单位0000报送的《活动1.jpg》为同一张照片（哈希差异 2）",
        }
    )
    individuals = pd.DataFrame(
        {
            "name": [f"张{i}华" for i in range(len(some))],
            "unit": some["unit"],
            "document": some["unit"] + "先进事迹材料.docx",
            "excerpt": "同志扎根基层禁毒宣传一线，全年组织志愿活动二十余场……",
            "status": "candidate",
            "note": "",
        }
    )
    stamp = pd.Series(pd.Timestamp(DEADLINE), index=some.index)
    corrections = pd.DataFrame(
        {
            "created_at": stamp,
            "author": "bench",
            "kind": "延长截止时间",
            "target": some["unit"],
            "value": "2021-01-05 23:59",
            "reason": "网络故障",
        }
    )
    sent = pd.DataFrame(
        {
            "created_at": stamp,
            "kind": "催报",
            "unit": some["unit"],
            "recipient": "u@example.cn",
            "subject": "请尽快报送材料",
            "status": "已发送",
            "detail": "",
        }
    )
    return dict(
        breakdown=breakdown,
        review=review,
        integrity=integrity,
        individuals=individuals,
        corrections=corrections,
        sent=sent,
    )


def build_tables(n_units: int, n_files: int) -> ReportTables:
    rng = np.random.default_rng(7)
    units = _units(n_units, rng)
    attachments = _attachments(units, n_files, rng)
    campaign = Campaign(
        title="“衡阳群众”禁毒志愿服务活动",
        office="衡阳县禁毒委员会办公室",
        deadline=DEADLINE,
        generated_at=DEADLINE + timedelta(days=4),
    )
    return ReportTables(
        units=units, attachments=attachments, campaign=campaign, **_side_tables(units, attachments)
    )


def measure(
    tables: ReportTables, rounds: int, folder: Path
) -> tuple[list[float], list[float], int]:
    """Wall and CPU seconds of each write (CPU time is steadier on a shared machine)."""
    walls, cpus = [], []
    path = folder / "报送台账.xlsx"
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        write_ledger(path, tables)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus, path.stat().st_size


def _rows(tables: ReportTables) -> int:
    frames = (
        tables.units,
        tables.attachments,
        tables.breakdown,
        tables.review,
        tables.integrity,
        tables.individuals,
        tables.corrections,
        tables.sent,
    )
    return sum(len(frame) for frame in frames)


def _peak_rss_mib() -> float:
    try:
        import resource  # POSIX only; the benchmark does not run on the office's Windows PC
    except ImportError:
        return float("nan")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="60:1000,1000:50000", help="units:files,...")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile one write per size")
    args = parser.parse_args()
    print(
        f"{'units':>6} {'files':>7} {'rows':>7} {'wall median s':>14} {'wall worst s':>13}"
        f" {'CPU median s':>13} {'MiB':>5} {'peak RSS MiB':>13}"
    )
    for size in args.sizes.split(","):
        n_units, n_files = (int(part) for part in size.split(":"))
        tables = build_tables(n_units, n_files)
        with tempfile.TemporaryDirectory() as folder:
            walls, cpus, size_bytes = measure(tables, args.rounds, Path(folder))
            print(
                f"{n_units:>6} {n_files:>7} {_rows(tables):>7} {statistics.median(walls):>14.2f}"
                f" {max(walls):>13.2f} {statistics.median(cpus):>13.2f}"
                f" {size_bytes / 2**20:>5.1f} {_peak_rss_mib():>13.0f}",
                flush=True,
            )
            if args.profile:
                profiler = cProfile.Profile()
                profiler.runcall(write_ledger, Path(folder) / "profile.xlsx", tables)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
