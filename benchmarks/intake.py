#!/usr/bin/env python3
"""Intake speed benchmark against a private Dovecot: raw fetch vs the product, and idle polls.

Not part of CI. Starts its own Dovecot (``tests/support/dovecot.py``), APPENDs a synthetic
mailbox of unit submissions (photos, .docx reports, a few large videos), then measures in one
run:

Two mailbox shapes, each measured the same way (``--shape``):

- ``photo`` (the shape of a real campaign, where photos dominate the file count): 500 mails of
  about 200 MiB, 1–5 JPEG photos of 100–400 KB each, every 4th mail also a .docx report;
- ``video``: 500 mails of about 300 MiB, photos and .docx as above plus a few 20–60 MiB videos.

Each mailbox is measured in rounds (``--rounds``, 3): (a), (p) and (b) in turn, compared by
their medians, so that a machine whose speed drifts slows all three alike.

(a) raw baseline: imapclient as shipped (its imaplib debug level untouched), in a child
    process: login, select, UID SEARCH ALL, RFC822.SIZE, then BODY.PEEK[] of every message in
    batches of 50 UIDs / 8 MiB, discarded;
(p) peer loop, as simple mail importers do it: the same fetch, then the standard library's
    ``email`` parser (policy.default) on every message, every named leaf part decoded, written
    to a file and hashed with sha256;
(b) the product: ``python run_pipeline.py --config CFG once`` in a child process on the same
    mailbox with a fresh data folder; wall time, throughput and the child's peak RSS
    (``os.wait4``);
(c) idle-poll cost: ``once`` on an already-ingested mailbox of N small mails vs ``once`` on an
    empty one (both already polled, nothing new), median of 5 each.

Figures are wall times of whole child processes (interpreter start included). MiB = 2**20 bytes;
mailbox size = sum of RFC822.SIZE.

    python benchmarks/intake.py                      # both shapes, idle N = 10,000
    python benchmarks/intake.py --shape photo --skip-idle   # only the photo-heavy mailbox
    python benchmarks/intake.py --mails 100 --total-mb 60 --idle-mails 1000
    python benchmarks/intake.py --skip-idle --keep   # keep the temp dirs for inspection
    python benchmarks/intake.py --profile            # also profile (b) with cProfile (slower)
    python benchmarks/intake.py --rounds 1           # one round per mailbox (quicker, noisier)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import pstats
import random
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MiB = 1 << 20
CST = dt.timezone(dt.timedelta(hours=8))
FETCH_BATCH = 50  # UIDs per FETCH in the raw baseline (the product's default batch_size)
FETCH_BATCH_BYTES = 8 * MiB  # and bytes (the product's default batch_bytes)
IDLE_RUNS = 5
JPEG_POOL = 30
DOCX_EVERY = 4  # every 4th photo mail also carries a .docx report
VIDEO_SHARE = 0.05  # at most this share of mails carry a video ...
VIDEO_BUDGET = 0.5  # ... and videos take at most this share of --total-mb
# the largest first (it sets the RSS target); all distinct, so no two videos share a hash
VIDEO_SIZES_MB = list(dict.fromkeys([60, 20, 40, 30, 50, 25, 45, 35, 55, *range(21, 60)]))
UNITS_USED = 12
TARGET_RATIO = 0.5
TARGET_IDLE_MS = 100.0  # extra cost of 10,000 known mails
TARGET_IDLE_WALL_MS = 400  # an idle `once`, interpreter start included
TARGET_IDLE_RSS = 60  # MiB, peak RSS of an idle `once`
TARGET_INGEST_RATE = 1000  # mails/s, first `once` of 10,000 small mails
START = time.perf_counter()


def say(text: str) -> None:
    print(f"[{time.perf_counter() - START:6.1f}s] {text}", flush=True)


# ---------------------------------------------------------------------------------------------
# child processes
# ---------------------------------------------------------------------------------------------


@dataclass
class Child:
    seconds: float  # wall time
    cpu_s: float  # user + system time of the child (and the children it waited for)
    peak_rss_mib: float
    stdout: str
    stderr: str


def launch(result: str, cmd: list[str]) -> int:
    """Run ``cmd`` from this small process and write its wall time and rusage to ``result``.

    The measured process must not be spawned by the big benchmark process itself: Linux carries
    the spawning process's high-water RSS across exec into the child's ``ru_maxrss`` (with vfork
    even its historical peak), so the child would report the parent's memory. This launcher is a
    fresh interpreter (about 12 MiB), which is then the floor of the figure.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = code = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    figures = {
        "seconds": seconds,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,  # KiB on Linux
        "code": code,
    }
    Path(result).write_text(json.dumps(figures))
    return code


def run_child(cmd: list[str], label: str, cwd: Path | None = None, env=None) -> Child:
    """Run ``cmd`` through :func:`launch`; fail loudly with its output if it exits non-zero."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile(suffix=".json") as result,
    ):
        launcher = [sys.executable, str(Path(__file__).resolve()), "--launch", result.name, *cmd]
        code = subprocess.run(launcher, stdout=out, stderr=err, cwd=cwd, env=env).returncode
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        text = Path(result.name).read_text()
    if code != 0 or not text:
        print(f"\n*** {label} FAILED with exit status {code}: {' '.join(cmd)}")
        print("--- stderr ---\n" + stderr[-8000:])
        print("--- stdout ---\n" + stdout[-4000:])
        raise SystemExit(1)
    figures = json.loads(text)
    return Child(figures["seconds"], figures["cpu_s"], figures["peak_rss_mib"], stdout, stderr)


def fetch_all(host: str, port: int, user: str, sink) -> dict:
    """imapclient exactly as shipped: fetch every message in the product's batches and hand
    each one to ``sink(uid, raw)``; returns what was fetched."""
    from imapclient import IMAPClient

    started = time.perf_counter()
    client = IMAPClient(host, port=port, ssl=False, timeout=120)
    client.login(user, os.environ["BENCH_IMAP_PASSWORD"])
    client.select_folder("INBOX", readonly=True)
    uids = client.search(["ALL"])  # UID SEARCH ALL (imapclient uses UIDs by default)
    sizes: dict[int, int] = {}
    for start in range(0, len(uids), 500):
        for uid, data in client.fetch(uids[start : start + 500], ["RFC822.SIZE"]).items():
            sizes[uid] = int(data[b"RFC822.SIZE"])
    batches: list[list[int]] = []
    batch: list[int] = []
    total = 0
    for uid in uids:
        if batch and (len(batch) >= FETCH_BATCH or total + sizes[uid] > FETCH_BATCH_BYTES):
            batches.append(batch)
            batch, total = [], 0
        batch.append(uid)
        total += sizes[uid]
    if batch:
        batches.append(batch)
    received = 0
    for batch in batches:
        response = client.fetch(batch, ["BODY.PEEK[]"])
        for uid, data in response.items():
            received += len(data[b"BODY[]"])
            sink(uid, data[b"BODY[]"])
        del response
    client.logout()
    return {
        "messages": len(uids),
        "bytes": sum(sizes.values()),
        "largest": max(sizes.values(), default=0),
        "received": received,
        "seconds_inside": time.perf_counter() - started,
    }


def raw_fetch_child(host: str, port: int, user: str) -> None:
    """(a) in the child: fetch everything, discard it."""
    print(json.dumps(fetch_all(host, port, user, lambda uid, raw: None)))


def peer_loop_child(host: str, port: int, user: str, out: str) -> None:
    """(p) in the child: fetch, parse with the standard library, write and hash every file."""
    import email
    import hashlib
    from email import policy

    folder = Path(out)
    files = 0

    def sink(uid: int, raw: bytes) -> None:
        nonlocal files
        message = email.message_from_bytes(raw, policy=policy.default)
        for n, part in enumerate(message.walk()):
            if part.is_multipart() or not part.get_filename():
                continue
            data = part.get_payload(decode=True) or b""
            (folder / f"{uid}-{n}").write_bytes(data)
            hashlib.sha256(data).hexdigest()
            files += 1

    summary = fetch_all(host, port, user, sink)
    print(json.dumps({**summary, "files": files}))


# ---------------------------------------------------------------------------------------------
# synthetic mailbox
# ---------------------------------------------------------------------------------------------


def registered_units(count: int) -> list[tuple[str, str]]:
    """(unit, first registered address) of ``count`` units spread over the registry."""
    import csv

    with (REPO / "registry.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["emails"].strip()]
    step = max(1, len(rows) // count)
    return [(r["unit"], r["emails"].split(";")[0].strip()) for r in rows[::step][:count]]


def distinct_photo(shape: str, number: int, sizes) -> bytes:
    """Photo ``number`` of a mailbox: every one a different picture, as in a real campaign (a
    pool of repeated pictures would make the integrity check report thousands of shared
    photos). Cached under benchmarks/.work/photos, since drawing one takes about 40 ms."""
    from tests.support.files import jpeg

    width, height, quality = sizes[number % len(sizes)]
    cache = REPO / "benchmarks" / ".work" / "photos" / f"{shape}-{number}.jpg"
    if not cache.is_file():
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(jpeg(width, height, seed=100_000 + number, quality=quality))
    return cache.read_bytes()


def with_zip_comment(data: bytes, tag: str) -> bytes:
    """The same .docx with an archive comment: still valid, a different sha256."""
    if data[-22:-18] != b"PK\x05\x06":
        raise ValueError("expected a ZIP without comment")
    comment = tag.encode()
    return data[:-2] + struct.pack("<H", len(comment)) + comment


def mail_size_estimate(raw_bytes: int) -> int:
    """RFC822 size of a mail carrying ``raw_bytes`` of base64 attachment (72-char lines)."""
    return raw_bytes * 4 // 3 * 74 // 72 + 2048


def plan_videos(mails: int, total_bytes: int) -> list[int]:
    """Video sizes in MiB: at most VIDEO_SHARE of the mails and VIDEO_BUDGET of the bytes."""
    most = max(1, round(mails * VIDEO_SHARE))
    budget = total_bytes * VIDEO_BUDGET
    chosen: list[int] = []
    used = 0
    for mb in VIDEO_SIZES_MB:
        size = mail_size_estimate(mb * MiB)
        if len(chosen) >= most:
            break
        if used + size <= budget:  # one that does not fit is skipped for a smaller one
            chosen.append(mb)
            used += size
    return chosen


@dataclass
class Loaded:
    messages: int
    bytes: int
    largest: int
    photos: int
    docx: int
    videos: list[int]
    per_mail: Counter[int] = field(default_factory=Counter)  # photos per photo mail


# (width, height, JPEG quality) of the photo pools: the video shape keeps the first measured
# mailbox; the photo shape gives photos of 100-400 KB, as phones and WeChat send them.
POOLS = {
    "video": [
        (w, h, 82) for w, h in [(640, 480), (800, 600), (960, 720), (1024, 768), (1280, 960)]
    ],
    "photo": [
        (800, 600, 88),
        (960, 720, 80),
        (800, 600, 90),
        (960, 720, 88),
        (1024, 768, 84),
        (1280, 960, 80),
        (1600, 1200, 80),
    ],
}
SHAPES = {"photo": (500, 200.0), "video": (500, 300.0)}  # default (mails, MiB) per shape


def load_submissions(server, user: str, mails: int, total_mb: float, shape: str) -> Loaded:
    """APPEND ``mails`` submissions of about ``total_mb`` MiB (RFC822) to ``user``'s INBOX."""
    from tests.support.files import big_video, docx
    from tests.support.mails import Att, Mail

    units = registered_units(UNITS_USED)
    rnd = random.Random(f"intake-benchmark-{shape}")
    sizes = POOLS[shape]
    pool = [distinct_photo(shape, i, sizes) for i in range(JPEG_POOL)]
    jpeg_mail = mail_size_estimate(sum(len(p) for p in pool) // len(pool)) - 2048
    taken = 0
    reports = {
        unit: docx(
            [
                f"今年以来，{unit}认真组织开展禁毒宣传进村入户、进校园活动，共开展宣传活动十余场。",
                f"{unit}禁毒志愿者队伍现有志愿者五十余名，全年参与志愿服务两百余人次。",
                "下一步，我们将继续深化禁毒宣传教育，巩固禁毒人民战争成果。",
            ],
            title=f"{unit}2020年度禁毒志愿服务工作总结",
        )
        for unit, _ in units
    }
    total_bytes = int(total_mb * MiB)
    videos = plan_videos(mails, total_bytes) if mails > 1 and shape == "video" else []
    video_at = {round((k + 0.5) * mails / len(videos)): mb for k, mb in enumerate(videos)}
    left_bytes = total_bytes - sum(mail_size_estimate(mb * MiB) for mb in videos)
    left_mails = mails - len(video_at)
    loaded = Loaded(0, 0, 0, 0, 0, videos)
    when0 = dt.datetime(2020, 12, 1, 8, 0, tzinfo=CST)  # all before the 12-31 deadline
    step = dt.timedelta(days=28) / max(1, mails)
    clients = ["qq", "qq", "foxmail", "coremail", "apple"]
    with server.connect(user) as client:
        client._imap.debug = 0  # the loader is not measured: skip imapclient's debug logging
        for i in range(mails):
            unit, address = units[i % len(units)]
            when = when0 + step * i
            attachments = []
            if i in video_at:
                mb = video_at[i]
                attachments.append(Att(f"{unit}禁毒宣传视频.mp4", big_video(mb)))
                subject = f"{unit}禁毒宣传活动视频"
            else:
                target = left_bytes / max(1, left_mails)
                if i % DOCX_EVERY == 0:
                    target -= mail_size_estimate(len(reports[unit]))
                k = min(5, max(1, round(target / jpeg_mail + rnd.uniform(-2, 2))))
                loaded.per_mail[k] += 1
                for j in range(k):
                    photo = distinct_photo(shape, taken, sizes)
                    taken += 1
                    attachments.append(Att(f"{unit}活动照片{j + 1}.jpg", photo))
                    loaded.photos += 1
                if i % DOCX_EVERY == 0:
                    report = with_zip_comment(reports[unit], f"m{i}")
                    attachments.append(Att(f"{unit}禁毒工作总结.docx", report))
                    loaded.docx += 1
                subject = f"{unit}禁毒志愿服务活动材料报送（第{i // len(units) + 1}批）"
            raw = Mail(
                sender=(f"{unit}禁毒办", address),
                subject=subject,
                date=when,
                text=f"县禁毒办：\n现报送{unit}禁毒志愿服务活动材料，请查收。\n{unit}禁毒办",
                attachments=attachments,
                client=clients[i % len(clients)],
                seed=f"bench-{i}",
            ).to_bytes()
            client.append("INBOX", raw, (), when)
            loaded.messages += 1
            loaded.bytes += len(raw)
            loaded.largest = max(loaded.largest, len(raw))
            if i not in video_at:
                left_bytes -= len(raw)
                left_mails -= 1
            if (i + 1) % 100 == 0 or i + 1 == mails:
                say(f"  appended {i + 1}/{mails} mails, {loaded.bytes / MiB:.1f} MiB")
    return loaded


def load_tiny(server, user: str, count: int) -> int:
    """APPEND ``count`` small text-only mails (MULTIAPPEND in chunks); return their bytes."""
    from tests.support.mails import Mail

    units = registered_units(UNITS_USED)
    when0 = dt.datetime(2020, 11, 1, 8, 0, tzinfo=CST)
    step = dt.timedelta(days=28) / max(1, count)
    total = 0
    chunk: list[dict] = []
    with server.connect(user) as client:
        client._imap.debug = 0
        for i in range(count):
            unit, address = units[i % len(units)]
            when = when0 + step * i
            raw = Mail(
                sender=(f"{unit}禁毒办", address),
                subject=f"{unit}禁毒宣传工作信息第{i + 1}期",
                date=when,
                text=f"{unit}今日开展禁毒宣传活动一次，发放宣传资料若干份。",
                seed=f"idle-{i}",
            ).to_bytes()
            total += len(raw)
            chunk.append({"msg": raw, "date": when})
            if len(chunk) == 250 or i + 1 == count:
                client.multiappend("INBOX", chunk)
                chunk = []
            if (i + 1) % 2000 == 0 or i + 1 == count:
                say(f"  appended {i + 1}/{count} small mails")
    return total


# ---------------------------------------------------------------------------------------------
# the product
# ---------------------------------------------------------------------------------------------


def product_env(password: str, work: Path) -> dict[str, str]:
    """The product's environment: bytecode cached as on an installed PC (in the work folder,
    so the repository is not littered), compiled once before anything is measured."""
    from tests.support.project import PASSWORD_ENV

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update({PASSWORD_ENV: password, "PYTHONPYCACHEPREFIX": str(work / "pycache")})
    folders = ["contract.py", "run_pipeline.py", "intake", "parsers", "scoring", "outputs",
               "outbox", "pipeline", "portable"]  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *folders], cwd=REPO, env=env, check=True
    )
    return env


def run_once(config: Path, env, label: str, profile: Path | None = None) -> Child:
    cmd = [sys.executable]
    if profile is not None:
        cmd += ["-m", "cProfile", "-o", str(profile)]
    cmd += [str(REPO / "run_pipeline.py"), "--config", str(config), "once"]
    return run_child(cmd, label, cwd=config.parent, env=env)


def new_count(child: Child) -> int | None:
    match = re.search(r"新邮件 (\d+) 封", child.stdout)
    return int(match.group(1)) if match else None


def check_new(child: Child, expected: int, label: str) -> None:
    got = new_count(child)
    if got != expected:
        print(f"  WARNING: {label}: the product reported {got} new mails, expected {expected}")


def print_profile(path: Path, top: int = 20) -> None:
    stats = pstats.Stats(str(path))
    for key in ("tottime", "cumulative"):
        print(f"\n--- cProfile of (b), top {top} by {key} ---")
        stats.sort_stats(key).print_stats(top)


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


@dataclass
class ShapeRun:
    """The figures of (a), (p) and (b) on one mailbox shape."""

    shape: str
    loaded: Loaded
    raw: Child
    peer: Child
    product: Child
    mib: float
    largest_mib: float
    files: int  # files the peer loop wrote
    rounds: int = 1
    b_p_range: tuple[float, float] = (0.0, 0.0)  # the lowest and highest b/p of one round


def typical(children: list[Child]) -> Child:
    """The median wall and CPU time of repeated runs, and the highest peak RSS among them."""
    return Child(
        statistics.median(c.seconds for c in children),
        statistics.median(c.cpu_s for c in children),
        max(c.peak_rss_mib for c in children),
        children[-1].stdout,
        children[-1].stderr,
    )


def measure_shape(
    server, work: Path, env, shape: str, mails: int, total_mb: float, profile, rounds: int
):
    """Build one mailbox and run (a), (p) and (b) on it, ``rounds`` times in turn (so that a
    machine whose speed drifts slows all three alike); the medians are compared."""
    from tests.support.project import write_config

    account = server.account(f"bench{shape}")
    say(f"[{shape}] building and appending {mails} mails, about {total_mb:g} MiB ...")
    loaded = load_submissions(server, account.username, mails, total_mb, shape)
    mix = ", ".join(f"{k}: {n}" for k, n in sorted(loaded.per_mail.items()))
    say(
        f"[{shape}] mailbox: {loaded.messages} mails, {loaded.bytes / MiB:.1f} MiB, largest "
        f"{loaded.largest / MiB:.1f} MiB; {loaded.photos} photos, {loaded.docx} .docx, videos "
        f"of {loaded.videos} MiB; mails by number of photos: {mix}"
    )
    fetch_args = [server.host, str(server.imap_port), account.username]
    raw_env = {**os.environ, "BENCH_IMAP_PASSWORD": server.password}
    me = str(Path(__file__).resolve())
    # Not measured: the first run compiles the libraries' bytecode into the work folder's
    # cache (as an installed PC has it) and warms the disk cache.
    say(f"[{shape}] warm-up: (b) once, not measured ...")
    run_once(write_config(work / f"warm-up-{shape}", account), env, "(b) warm-up")
    runs: dict[str, list[Child]] = {"a": [], "p": [], "b": []}
    info, files = {}, 0
    for turn in range(1, rounds + 1):
        say(f"[{shape}] round {turn}/{rounds}: (a) raw fetch, (p) peer loop, (b) product once")
        raw = run_child([sys.executable, me, "--raw-fetch-child", *fetch_args], "(a)", env=raw_env)
        info = json.loads(raw.stdout.strip().splitlines()[-1])
        if info["received"] != info["bytes"] or info["messages"] != loaded.messages:
            print(f"  WARNING: raw fetch got {info}, expected {loaded.messages} mails")
        out = work / f"peer-{shape}-{turn}"
        out.mkdir()
        cmd = [sys.executable, me, "--peer-loop-child", *fetch_args, str(out)]
        peer = run_child(cmd, "(p)", env=raw_env)
        files = json.loads(peer.stdout.strip().splitlines()[-1])["files"]
        shutil.rmtree(out, ignore_errors=True)
        product = run_once(write_config(work / f"product-{shape}-{turn}", account), env, "(b)")
        check_new(product, loaded.messages, "(b)")
        if "处理失败" in product.stdout:
            print("  WARNING: the product reported failed mails")
        for key, child in (("a", raw), ("p", peer), ("b", product)):
            runs[key].append(child)
        say(
            f"    (a) {raw.seconds:.2f} s, (p) {peer.seconds:.2f} s, (b) {product.seconds:.2f} s "
            f"(b/p {peer.seconds / product.seconds:.2f}), RSS (b) {product.peak_rss_mib:.0f} MiB"
        )
    if profile:
        say(f"[{shape}] (b) again under cProfile (fresh data folder; timings not used) ...")
        prof = work / f"product-{shape}.prof"
        run_once(write_config(work / f"profile-{shape}", account), env, "(b) cProfile", prof)
        print_profile(prof)
    mib = info["bytes"] / MiB
    spread = [p.seconds / b.seconds for p, b in zip(runs["p"], runs["b"], strict=True)]
    return ShapeRun(
        shape, loaded, typical(runs["a"]), typical(runs["p"]), typical(runs["b"]), mib,
        info["largest"] / MiB, files, rounds, (min(spread), max(spread)),
    )  # fmt: skip


@dataclass
class IdleRun:
    mails: int
    ingest: Child
    big: list[Child]
    empty: list[Child]


def measure_idle(server, work: Path, env, count: int) -> IdleRun:
    """(c): the first ingest of ``count`` small mails, then idle polls against an empty box."""
    from tests.support.project import write_config

    big = server.account("idlebig")
    empty = server.account("idleempty")
    say(f"(c) appending {count} small mails ...")
    tiny = load_tiny(server, big.username, count)
    say(f"    {tiny / MiB:.1f} MiB, no attachments")
    config_big = write_config(work / "idle-big", big)
    config_empty = write_config(work / "idle-empty", empty)
    say(f"    first once: ingesting {count} mails ...")
    first = run_once(config_big, env, "(c) first once (ingest)")
    check_new(first, count, "(c) ingest")
    say(f"    ingested in {first.seconds:.1f} s ({count / first.seconds:.0f} mails/s)")
    run_once(config_empty, env, "(c) first once (empty)")
    for config_c in (config_big, config_empty):  # a warm-up poll that finds nothing
        check_new(run_once(config_c, env, "(c) warm-up once"), 0, "(c) warm-up")
    runs: dict[str, list[Child]] = {"big": [], "empty": []}
    for i in range(IDLE_RUNS):  # alternate, so drifting machine load hits both alike
        for key, config_c in (("big", config_big), ("empty", config_empty)):
            child = run_once(config_c, env, f"(c) idle once ({key})")
            check_new(child, 0, "(c) idle")
            runs[key].append(child)
        say(
            f"    run {i + 1}/{IDLE_RUNS}: {runs['big'][-1].seconds * 1000:.0f} ms vs "
            f"{runs['empty'][-1].seconds * 1000:.0f} ms"
        )
    return IdleRun(count, first, runs["big"], runs["empty"])


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def shape_rows(run: ShapeRun) -> list[tuple[str, str, str, str, str]]:
    rate = {
        k: run.mib / c.seconds for k, c in (("a", run.raw), ("p", run.peer), ("b", run.product))
    }
    rss_target = 2 * run.largest_mib + 150
    rows = []
    for key, label, child in (
        ("a", "(a) raw imapclient fetch, as shipped", run.raw),
        ("p", "(p) peer loop: + stdlib email, write, sha256", run.peer),
        ("b", "(b) run_pipeline.py once", run.product),
    ):
        rows.append((label, f"{child.seconds:.2f} s", f"{child.cpu_s:.2f} s", "", ""))
        rows.append(("    throughput", f"{rate[key]:.1f} MiB/s", "", "", ""))
        rows.append(("    peak RSS", f"{child.peak_rss_mib:.0f} MiB", "", "", ""))
    b_a, p_a, b_p = rate["b"] / rate["a"], rate["p"] / rate["a"], rate["b"] / rate["p"]
    rows += [
        ("ratio p/a (peer loop / raw)", f"{p_a:.2f}", "", "", ""),
        ("ratio b/a (product / raw)", f"{b_a:.2f}", "", f">= {TARGET_RATIO}",
         verdict(b_a >= TARGET_RATIO)),
        ("ratio b/p (product / peer loop)", f"{b_p:.2f}", "", "> 1", verdict(b_p > 1)),
        (f"    b/p of each round ({run.rounds})",
         f"{run.b_p_range[0]:.2f}-{run.b_p_range[1]:.2f}", "", "", ""),
        ("peak RSS of (b)", f"{run.product.peak_rss_mib:.0f} MiB", "",
         f"<= {rss_target:.0f} MiB", verdict(run.product.peak_rss_mib <= rss_target)),
    ]  # fmt: skip
    return rows


def idle_rows(idle: IdleRun) -> list[tuple[str, str, str, str, str]]:
    n = f"{idle.mails:,}"
    big_ms = statistics.median(c.seconds * 1000 for c in idle.big)
    empty_ms = statistics.median(c.seconds * 1000 for c in idle.empty)
    big_cpu = statistics.median(c.cpu_s * 1000 for c in idle.big)
    empty_cpu = statistics.median(c.cpu_s * 1000 for c in idle.empty)
    rss = max(c.peak_rss_mib for c in idle.big + idle.empty)
    rate = idle.mails / idle.ingest.seconds
    return [
        (f"(c) first once, ingest {n} small mails", f"{idle.ingest.seconds:.1f} s",
         f"{idle.ingest.cpu_s:.1f} s", "", ""),
        ("    ingest rate", f"{rate:.0f} mails/s", "", f">= {TARGET_INGEST_RATE}",
         verdict(rate >= TARGET_INGEST_RATE)),
        (f"    idle once, {n} known mails", f"{big_ms:.0f} ms", f"{big_cpu:.0f} ms",
         f"<= {TARGET_IDLE_WALL_MS} ms", verdict(big_ms <= TARGET_IDLE_WALL_MS)),
        ("    idle once, empty mailbox", f"{empty_ms:.0f} ms", f"{empty_cpu:.0f} ms",
         f"<= {TARGET_IDLE_WALL_MS} ms", verdict(empty_ms <= TARGET_IDLE_WALL_MS)),
        (f"    extra cost of {n} known mails", f"{big_ms - empty_ms:+.0f} ms",
         f"{big_cpu - empty_cpu:+.0f} ms", f"< {TARGET_IDLE_MS:.0f} ms",
         verdict(big_ms - empty_ms < TARGET_IDLE_MS)),
        ("    idle once, peak RSS (max of runs)", f"{rss:.0f} MiB", "",
         f"<= {TARGET_IDLE_RSS} MiB", verdict(rss <= TARGET_IDLE_RSS)),
    ]  # fmt: skip


def print_table(title: str, rows: list[tuple[str, str, str, str, str]]) -> None:
    print(title)
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'wall':>12}  {'CPU':>9}  {'target':<13}  verdict")
    for name, value, cpu, target, ok in rows:
        print(f"{name:<{width}}  {value:>12}  {cpu:>9}  {target:<13}  {ok}".rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=["photo", "video", "both"], default="both")
    parser.add_argument("--mails", type=int, help="mails per mailbox (500)")
    parser.add_argument("--total-mb", type=float, help="its size in MiB (photo 200, video 300)")
    parser.add_argument("--idle-mails", type=int, default=10_000, help="N for (c) (10000)")
    parser.add_argument("--skip-idle", action="store_true", help="skip (c)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs")
    parser.add_argument("--profile", action="store_true", help="rerun (b) under cProfile")
    parser.add_argument("--rounds", type=int, default=3, help="runs of (a), (p), (b) in turn (3)")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from tests.support import dovecot as dovecot_support

    if not dovecot_support.dovecot_available():
        print("Dovecot is not installed (/usr/sbin/dovecot, /usr/bin/doveadm)")
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    server = dovecot_support.Dovecot()
    server.start()
    env = product_env(server.password, work)
    say(f"Dovecot on 127.0.0.1:{server.imap_port} ({server.dir}); work dir {work}")
    load_before = os.getloadavg()
    shapes = ["photo", "video"] if args.shape == "both" else [args.shape]
    runs: list[ShapeRun] = []
    idle: IdleRun | None = None
    try:
        for shape in shapes:
            mails, total_mb = SHAPES[shape]
            runs.append(
                measure_shape(
                    server, work, env, shape, args.mails or mails, args.total_mb or total_mb,
                    args.profile, args.rounds,
                )
            )  # fmt: skip
        if not args.skip_idle:
            idle = measure_idle(server, work, env, args.idle_mails)
    finally:
        if args.keep:
            server.stop()
            dovecot_support._instances.discard(server)  # or atexit would delete it
            say(f"kept: {work} (data folders, configs) and {server.dir} (maildirs)")
        else:
            server.close()
            shutil.rmtree(work, ignore_errors=True)

    load_after = os.getloadavg()
    print()
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{load_before[0]:.1f} before / {load_after[0]:.1f} after; (a), (p), (b) = median of "
        f"{args.rounds} rounds, (c) = median of {IDLE_RUNS} runs; wall time decides the verdicts"
    )
    for run in runs:
        loaded = run.loaded
        print()
        print_table(
            f"[{run.shape}] {loaded.messages} mails, {run.mib:.1f} MiB (largest mail "
            f"{run.largest_mib:.1f} MiB), {run.files} files: {loaded.photos} photos, "
            f"{loaded.docx} .docx, videos {loaded.videos} MiB",
            shape_rows(run),
        )
    if idle is not None:
        print()
        print_table("[idle] polls that find nothing", idle_rows(idle))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "--launch":
        sys.exit(launch(sys.argv[2], sys.argv[3:]))
    if len(sys.argv) == 5 and sys.argv[1] == "--raw-fetch-child":
        raw_fetch_child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        sys.exit(0)
    if len(sys.argv) == 6 and sys.argv[1] == "--peer-loop-child":
        peer_loop_child(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
        sys.exit(0)
    sys.exit(main())
