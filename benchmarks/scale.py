#!/usr/bin/env python3
"""How the costs grow: mails, files and units at 1x, 10x and 100x.

Not part of CI. Each figure is the wall time of a whole ``run_pipeline.py`` child process
(interpreter start included, bytecode cached as on an installed PC), with its peak RSS:

- first ``once`` of N small text-only mails (folder source: the intake work without the
  network; benchmarks/intake.py measures the same over IMAP), and an idle ``once`` after it;
- ``report`` for a campaign of U units and F files, built directly in a ledger (synthetic rows,
  as benchmarks/console.py builds them: no mail is parsed); beside it, in the same run, its
  baseline: a bare XlsxWriter child writing F rows of plain cells shaped like the 台账's
  文件明细 sheet (without looks, widths or any other report), and the ratio of the two; the two
  alternated ``--rounds`` times and compared by their medians.

    python benchmarks/scale.py            # mails 100 / 1,000 / 10,000; units 10 / 100 / 1,000
    python benchmarks/scale.py --quick    # mails 100 / 1,000; units 10 / 100
    python benchmarks/scale.py --rounds 1 # report and its baseline once each (noisier)
    python benchmarks/scale.py --against 35adefe --rounds 5   # report: this checkout vs a commit
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CST = dt.timezone(dt.timedelta(hours=8))
STEPS = ((1, 100, 10, 500), (10, 1_000, 100, 5_000), (100, 10_000, 1_000, 50_000))
SOURCES = ["contract.py", "run_pipeline.py", "intake", "parsers", "scoring", "outputs",
           "outbox", "pipeline", "portable"]  # fmt: skip


@functools.cache
def _sibling(name: str):
    """Another benchmark script as a module (its file name is also a package's name)."""
    import importlib.util

    path = REPO / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def environment(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    subprocess.run([sys.executable, "-m", "compileall", "-q", *SOURCES], cwd=REPO, env=env)
    return env


def timed(
    command: list[str], folder: Path, env: dict[str, str], repo: Path = REPO
) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of one child, measured by a small launcher (see intake.py)."""
    # benchmarks/intake.py's launcher reports the child's own peak RSS
    child = _sibling("intake").run_child(
        [sys.executable, str(repo / "run_pipeline.py"), "--config", "config.yaml", *command],
        " ".join(command),
        cwd=folder,
        env=env,
    )
    return child.seconds, child.peak_rss_mib


def small_mails(folder: Path, count: int) -> None:
    from tests.support.mails import Mail

    units = _sibling("intake").registered_units(12)
    inbox = folder / "inbox"
    inbox.mkdir(parents=True)
    for i in range(count):
        unit, address = units[i % len(units)]
        raw = Mail(
            sender=(f"{unit}禁毒办", address),
            subject=f"{unit}禁毒宣传工作信息第{i + 1}期",
            date=dt.datetime(2020, 11, 1, 8, tzinfo=CST) + dt.timedelta(minutes=i),
            text=f"{unit}今日开展禁毒宣传活动一次，发放宣传资料若干份。",
            seed=f"scale-{i}",
        ).to_bytes()
        (inbox / f"{i:05d}.eml").write_bytes(raw)
    shutil.copy(REPO / "registry.csv", folder / "registry.csv")
    (folder / "config.yaml").write_text(
        "mailbox: {source: folder, path: inbox}\nunits_file: registry.csv\n"
        "paths: {data: data, reports: data/reports}\n",
        encoding="utf-8",
    )


BARE_COLUMNS = 15  # as many as the 台账's 文件明细 sheet


def bare_cells(rows: int) -> None:
    """The baseline of ``report``: XlsxWriter writing ``rows`` × 15 plain cells into an .xlsx
    in memory, shaped like the 文件明细 sheet (10 files a mail, 1,000 units; per row three
    unique texts, the mail's two, the unit's two, three numbers, two gaps), nothing else."""
    import io

    from xlsxwriter.workbook import Workbook

    workbook = Workbook(io.BytesIO(), {"in_memory": True})
    sheet = workbook.add_worksheet()
    kinds = ("附件", "压缩包内文件", "云盘链接")
    categories = ("照片", "总结报告", "事迹材料", "视频")
    for row in range(rows):
        mail, unit = row // 10, f"测试单位{row % 1000:04d}"
        texts = {0: f"M{mail:06d}", 2: unit, 3: f"{unit}禁毒办 <u{row % 1000}@qq.com>",
                 4: f"活动照片{row}.jpg", 5: categories[row % 4], 6: kinds[row % 3], 9: "否",
                 11: f"materials/{unit}/照片/活动照片{row}.jpg", 12: f"<{mail}.abc@qq.com>",
                 14: f"{row * 2654435761:064x}"}  # fmt: skip
        for col, text in texts.items():
            sheet.write_string(row, col, text)
        for col in (1, 7, 13):
            sheet.write_number(row, col, 44000.5 + row / 1440 + col)
    workbook.close()


def against(revision: str, rounds: int) -> int:
    """``report`` at 1,000 units / 50,000 files by this checkout and by ``revision`` (a git
    worktree of it, run with the same Python), alternated ``rounds`` times: medians and ratio."""
    work = Path(tempfile.mkdtemp(prefix="bench-scale-against-"))
    old = work / "old"
    subprocess.run(["git", "worktree", "add", "-q", "--detach", str(old), revision], cwd=REPO,
                   check=True)  # fmt: skip
    try:
        env = environment(work)
        campaign = work / "campaign"
        campaign.mkdir()
        _sibling("console").build(campaign, 1_000, 50_000)
        for repo in (old, REPO):  # unmeasured: compiles the revision's bytecode
            timed(["report"], campaign, env, repo)
        runs: dict[str, list[tuple[float, float]]] = {revision: [], "this checkout": []}
        for _ in range(rounds):
            runs[revision].append(timed(["report"], campaign, env, old))
            runs["this checkout"].append(timed(["report"], campaign, env))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=REPO)
        shutil.rmtree(work, ignore_errors=True)
    print(f"report, 1,000 units / 50,000 files, {rounds} alternated runs each, medians "
          f"(load average {os.getloadavg()[0]:.1f})")  # fmt: skip
    medians = {}
    for name, figures in runs.items():
        medians[name] = statistics.median(seconds for seconds, _ in figures)
        each = ", ".join(f"{seconds:.2f}" for seconds, _ in figures)
        peak = max(rss for _, rss in figures)
        print(f"  {name:>14}: {medians[name]:.2f} s (runs {each}), peak RSS {peak:.0f} MiB")
    print(f"  ratio this checkout / {revision}: {medians['this checkout'] / medians[revision]:.2f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only 1x and 10x")
    parser.add_argument(
        "--rounds", type=int, default=3, help="report and its baseline alternated (medians)"
    )
    parser.add_argument("--against", metavar="REV", help="only: report here vs git revision REV")
    parser.add_argument("--bare-cells", type=int, help=argparse.SUPPRESS)  # the baseline's child
    args = parser.parse_args()
    if args.bare_cells is not None:
        bare_cells(args.bare_cells)
        return 0
    if args.against:
        return against(args.against, args.rounds)
    console_bench = _sibling("console")  # benchmarks/console.py: the synthetic campaign

    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    env = environment(work)
    load_before = os.getloadavg()
    rows = []
    try:
        warm = work / "warm-up"  # the first child of a run pays for cold caches: not measured
        small_mails(warm, 5)
        timed(["once"], warm, env)
        for factor, mails, units, files in STEPS[: 2 if args.quick else 3]:
            folder = work / f"mails-{factor}"
            small_mails(folder, mails)
            first, first_rss = timed(["once"], folder, env)
            idle, idle_rss = timed(["once"], folder, env)
            campaign = work / f"campaign-{factor}"
            campaign.mkdir()
            console_bench.build(campaign, units, files)
            # alternated, medians: this machine's speed drifts by a third within minutes
            bare_cmd = [sys.executable, str(Path(__file__).resolve()), "--bare-cells", str(files)]
            reports, bares = [], []
            for _ in range(args.rounds):
                reports.append(timed(["report"], campaign, env))
                bares.append(_sibling("intake").run_child(bare_cmd, "bare", env=env).seconds)
            report = statistics.median(seconds for seconds, _ in reports)
            report_rss = max(rss for _, rss in reports)
            bare = statistics.median(bares)
            rows.append((factor, mails, first, first_rss, idle, idle_rss, units, files, report,
                         report_rss, bare))  # fmt: skip
            print(f"{factor}x done: once {first:.1f} s, idle {idle:.2f} s, report {report:.1f} s",
                  flush=True)  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()
    print()
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{load_before[0]:.1f} before / {load_after[0]:.1f} after"
    )
    header = ("scale", "mails", "first once", "mails/s", "RSS", "idle once", "RSS",
              "units", "files", "report", "RSS", "bare cells", "ratio")  # fmt: skip
    print("  ".join(f"{h:>10}" for h in header))
    for factor, mails, first, frss, idle, irss, units, files, report, rrss, bare in rows:
        cells = (f"{factor}x", f"{mails:,}", f"{first:.2f} s", f"{mails / first:,.0f}",
                 f"{frss:.0f} MiB", f"{idle:.2f} s", f"{irss:.0f} MiB", f"{units:,}",
                 f"{files:,}", f"{report:.2f} s", f"{rrss:.0f} MiB", f"{bare:.2f} s",
                 f"{report / bare:.2f}")  # fmt: skip
        print("  ".join(f"{c:>10}" for c in cells))
    print(f"report, bare cells: medians of {args.rounds} alternated runs; bare cells: XlsxWriter "
          "alone writing the 文件明细 sheet's cells, plain (report's baseline); "
          "ratio = report / bare cells")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
