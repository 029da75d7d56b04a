#!/usr/bin/env python3
"""Blind accuracy run: the product, through its contract only, against expected.json.

Writes ``.work/config.yaml`` (folder source on ``.work/inbox``, the shared registry, the SPEC's
deadline, data and reports under ``.work/run/data``), runs

    python run_pipeline.py --config .work/config.yaml once

from the project root with a timeout, then reads ``reports/units.csv`` and
``reports/attachments.csv`` and prints per-file unit and category accuracy, per-unit field
accuracy, missing and extra rows, and a concise list of mismatches. It also checks that nothing
was written outside the data folder, and (unless --no-rerun) that a second ``once`` on the same
mailbox changes nothing.

    python benchmarks/blind/make_blind.py     # once, to build the inbox
    python benchmarks/blind/accuracy.py [--timeout 900] [--all] [--no-run] [--no-rerun]

Exit status: 0 when everything matches, 1 when something does not (or the product failed),
2 when the fixtures are missing.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import html
import json
import os
import shutil
import subprocess
import sys
import time
import unicodedata
from collections import defaultdict
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
WORK = HERE / ".work"
INBOX = WORK / "inbox"
CONFIG = WORK / "config.yaml"
RUN = WORK / "run"
DATA = RUN / "data"
REPORTS = DATA / "reports"
CATS = ("photo", "report", "deeds", "video")
FOLDERS = {
    "photo": "照片",
    "report": "总结报告",
    "deeds": "事迹材料",
    "video": "视频",
    "other": "其他",
}
NOT_MATERIAL = "not a material"
UNIT_COLUMNS = [
    "unit",
    "category",
    "submitted",
    "on_time",
    "first_received",
    "last_received",
    "photos",
    "reports",
    "deeds",
    "videos",
    "video_links",
    "complete",
    "missing",
    "score",
    "rank",
    "award",
    "notice",
    "notice_reasons",
]
ATT_COLUMNS = [
    "message_id",
    "uid",
    "received_at",
    "sender",
    "unit",
    "filename",
    "category",
    "size",
    "sha256",
    "path",
]
STANDARD_REASONS = {"not_submitted", "late", "incomplete"}
MARKERS = [
    Path("/tmp/hyblind_trav.txt"),
    Path("/tmp/hyblind_abs.txt"),
    Path("/hyblind_win.txt"),
    Path("/tmp/hyblind_win.txt"),
    Path("/tmp/pwned.txt"),
    Path("/pwned.txt"),
]
SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".venv", ".mypy_cache"}


class Report:
    """Collects mismatches and prints them concisely."""

    def __init__(self) -> None:
        self.mismatches: list[str] = []
        self.failed = False

    def miss(self, text: str) -> None:
        self.mismatches.append(text)
        self.failed = True


def sha_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def snapshot(root: Path, exclude: list[Path], content: bool = False) -> dict[str, tuple]:
    """relative path -> (size, mtime_ns) of every file under ``root``, minus ``exclude``;
    (size, sha256) with ``content``."""
    out: dict[str, tuple] = {}
    if not root.exists():
        return out
    excl = {p.resolve() for p in exclude}
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        dirnames[:] = [n for n in dirnames if n not in SKIP_DIRS and (d / n).resolve() not in excl]
        for n in filenames:
            p = d / n
            try:
                st = p.lstat()
            except OSError:
                continue
            stamp = sha_file(p) if content and p.is_file() else st.st_mtime_ns
            out[str(p.relative_to(root))] = (st.st_size, stamp)
    return out


def diff(before: dict, after: dict) -> list[str]:
    out = [f"new {k}" for k in sorted(after.keys() - before.keys())]
    out += [f"deleted {k}" for k in sorted(before.keys() - after.keys())]
    out += [f"changed {k}" for k in sorted(before.keys() & after.keys()) if before[k] != after[k]]
    return out


def write_config(expected: dict) -> None:
    CONFIG.write_text(
        "# Written by benchmarks/blind/accuracy.py: only the SPEC's contract keys.\n"
        "mailbox:\n"
        "  source: folder\n"
        "  path: inbox\n"
        f"  username: {expected['office_address']}\n"
        "campaign:\n"
        f'  deadline: "{expected["deadline"]}"\n'
        f"units_file: {expected['registry']}\n"
        "paths:\n"
        "  data: run/data\n"
        "  reports: run/data/reports\n",
        encoding="utf-8",
    )


def run_product(root: Path, timeout: int, label: str) -> tuple[bool, str]:
    """Run ``once``; (ok, one-line summary). Never raises."""
    script = root / "run_pipeline.py"
    if not script.exists():
        return False, f"{label}: {script} does not exist (the product is not there yet)"
    cmd = [sys.executable, "run_pipeline.py", "--config", str(CONFIG), "once"]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            cmd, cwd=root, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        return False, f"{label}: timed out after {timeout}s"
    except OSError as exc:
        return False, f"{label}: could not start: {exc}"
    secs = time.monotonic() - t0
    out = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()
    tail = "\n".join("    | " + ln for ln in out.splitlines()[-12:])
    traceback = "Traceback (most recent call last)" in out
    ok = proc.returncode == 0
    head = f"{label}: exit {proc.returncode} in {secs:.1f}s" + (
        " (printed a traceback)" if traceback else ""
    )
    return ok and not traceback, head + ("\n" + tail if tail and (not ok or traceback) else "")


def read_csv(path: Path, columns: list[str], rep: Report) -> list[dict] | None:
    if not path.exists():
        rep.miss(f"{path.name}: missing")
        return None
    raw = path.read_bytes()
    if not raw.startswith(b"\xef\xbb\xbf"):
        rep.miss(f"{path.name}: no UTF-8 BOM")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        rep.miss(f"{path.name}: not UTF-8")
        return None
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    absent = [c for c in columns if c not in header]
    if absent:
        rep.miss(f"{path.name}: columns missing: {', '.join(absent)}")
    elif header[: len(columns)] != columns:
        print(f"  note: {path.name} column order differs from the contract: {header}")
    return list(reader)


def instant(text: str) -> datetime | None:
    try:
        dt = datetime.fromisoformat((text or "").strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else None


def norm_url(url: str) -> str:
    return html.unescape((url or "").strip()).rstrip(".,;，。；)）>\"'")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text or "")


def pct(ok: int, total: int) -> str:
    return f"{ok}/{total} ({100.0 * ok / total:.1f}%)" if total else "0/0"


# ---------------------------------------------------------------------------------------------
# attachments.csv
# ---------------------------------------------------------------------------------------------


def match_rows(expected: dict, rows: list[dict], rep: Report) -> dict:
    mails = expected["mails"]
    by_mid = {m["message_id"]: m for m in mails if m["message_id"]}
    by_time = {instant(m["received_at"]): m for m in mails if not m["message_id"]}
    per_mail: dict[str, list[dict]] = defaultdict(list)
    orphans = []
    for r in rows:
        mid = (r.get("message_id") or "").strip().strip("<>")
        m = by_mid.get(mid) if mid else by_time.get(instant(r.get("received_at", "")))
        if m is None:
            orphans.append(r)
        else:
            per_mail[m["file"]].append(r)

    stats = defaultdict(int)
    for m in mails:
        key, unit = m["file"][:-4], m["unit"] or ""
        got = list(per_mail.get(m["file"], []))
        exp_files = [dict(f) for f in m["files"]]
        exp_links = [dict(lk) for lk in m["links"]]

        def take(pred, pool, row):
            for e in pool:
                if "_row" not in e and pred(e):
                    e["_row"] = row
                    return e
            return None

        leftovers = []
        for r in got:  # 1: by sha256, preferring the same name
            s = (r.get("sha256") or "").strip().lower()
            e = None
            if s:
                e = take(
                    lambda e, s=s, r=r: (
                        e["sha256"] == s and nfc(e["filename"]) == nfc(r.get("filename"))
                    ),
                    exp_files,
                    r,
                ) or take(lambda e, s=s: e["sha256"] == s, exp_files, r)
            if e is None:
                leftovers.append(r)
        rest = []
        for r in leftovers:  # 2: links by URL, files by exact name
            name = nfc(r.get("filename"))
            e = take(lambda e, name=name: norm_url(e["url"]) == norm_url(name), exp_links, r)
            if e is None:
                e = take(lambda e, name=name: nfc(e["filename"]) == name, exp_files, r)
            if e is None:
                rest.append(r)
        extras = []
        for r in rest:  # 3: files by base name
            base = nfc(r.get("filename")).replace("\\", "/").split("/")[-1]
            e = take(
                lambda e, base=base: (
                    e.get("filename", "").split("/")[-1] == base and not e.get("sha256")
                ),
                exp_files,
                r,
            )
            if e is None:
                extras.append(r)

        # -- score ------------------------------------------------------------------------
        for e in exp_files:
            cat, r = e["category"], e.get("_row")
            where = f"{key} {e['filename']}"
            if cat in (*CATS, "other"):
                stats["cat_total"] += 1
                stats["unit_total"] += 1
                if r is None:
                    stats["missing"] += 1
                    rep.miss(f"{where}: no row (expected {cat}, unit {unit or '(none)'})")
                    continue
                rcat, runit = (r.get("category") or "").strip(), (r.get("unit") or "").strip()
                stats["cat_ok"] += rcat == cat
                stats["unit_ok"] += runit == unit
                if rcat != cat:
                    rep.miss(f"{where}: category {rcat or '(empty)'} != {cat}")
                if runit != unit:
                    rep.miss(f"{where}: unit {runit or '(empty)'} != {unit or '(none)'}")
            elif cat == NOT_MATERIAL:
                stats["nonmat_total"] += 1
                if r is None:
                    stats["nonmat_ok"] += 1
                    continue
                rcat = (r.get("category") or "").strip()
                ok = rcat in ("other", "")
                if not m["unit"]:
                    ok = ok and not (r.get("unit") or "").strip()
                stats["nonmat_ok"] += ok
                if not ok:
                    rep.miss(
                        f"{where}: not a material, but row says {rcat}/"
                        f"{(r.get('unit') or '').strip() or '(no unit)'}"
                    )
            else:  # mail that is not a submission: only the unit must stay empty
                if r is not None:
                    stats["unit_total"] += 1
                    runit = (r.get("unit") or "").strip()
                    stats["unit_ok"] += not runit
                    if runit:
                        rep.miss(f"{where}: not a submission, but unit {runit}")
            if r is None or e["container"] or cat in (None, NOT_MATERIAL):
                continue
            stats["name_total"] += 1
            rname = nfc(r.get("filename"))
            inner = e["sender"] != m["sender"]
            if rname == nfc(e["filename"]) or (inner and rname.endswith("/" + nfc(e["filename"]))):
                stats["name_ok"] += 1
            else:
                rep.miss(f"{where}: filename shown as {rname!r}")
            stats["sender_total"] += 1
            if (r.get("sender") or "").strip().lower() == e["sender"].lower():
                stats["sender_ok"] += 1
            else:
                rep.miss(f"{where}: sender {r.get('sender')!r} != {e['sender']}")
            if str(e["size"]) != (r.get("size") or "").strip():
                rep.miss(f"{where}: size {r.get('size')!r} != {e['size']}")
        for lk in exp_links:
            r = lk.get("_row")
            where = f"{key} link {lk['url'][:48]}…"
            if lk["counted"]:
                stats["cat_total"] += 1
                stats["unit_total"] += 1
                stats["link_total"] += 1
                if r is None:
                    stats["missing"] += 1
                    rep.miss(f"{where}: no row (expected a video link of {unit})")
                    continue
                stats["link_ok"] += 1
                rcat, runit = (r.get("category") or "").strip(), (r.get("unit") or "").strip()
                stats["cat_ok"] += rcat == "video"
                stats["unit_ok"] += runit == unit
                if rcat != "video":
                    rep.miss(f"{where}: category {rcat or '(empty)'} != video")
                if runit != unit:
                    rep.miss(f"{where}: unit {runit or '(empty)'} != {unit}")
            elif r is not None and (r.get("unit") or "").strip():
                stats["extra_material"] += 1
                rep.miss(
                    f"{where}: a link that must not count (quoted or system mail) is listed "
                    f"for {r.get('unit')}"
                )
        for r in got:  # receive time on every row of this mail
            stats["time_total"] += 1
            if (r.get("received_at") or "").strip() == m["received_at"]:
                stats["time_ok"] += 1
            else:
                rep.miss(f"{key}: received_at {r.get('received_at')!r} != {m['received_at']}")
        for r in extras:
            rcat = (r.get("category") or "").strip()
            if rcat in CATS and (r.get("unit") or "").strip():
                stats["extra_material"] += 1
                rep.miss(
                    f"{key}: extra row {r.get('filename')!r} counted as {rcat} for {r.get('unit')}"
                )
            else:
                stats["extra_other"] += 1
    for r in orphans:
        stats["orphans"] += 1
        rep.miss(
            f"row of an unknown message {r.get('message_id')!r}/{r.get('received_at')!r}: "
            f"{r.get('filename')!r}"
        )

    # every row of one sha256 agrees on unit and category
    seen: dict[str, set] = defaultdict(set)
    for r in rows:
        s = (r.get("sha256") or "").strip()
        if s:
            seen[s].add(((r.get("unit") or "").strip(), (r.get("category") or "").strip()))
    for s, v in seen.items():
        if len(v) > 1:
            rep.miss(f"sha256 {s[:12]}: rows disagree on (unit, category): {sorted(v)}")
    return stats


def check_storage(rows: list[dict], rep: Report) -> tuple[int, int]:
    """Stored files exist under the data folder, have the row's hash, sit in the unit's tree."""
    ok = total = 0
    data = DATA.resolve()
    for r in rows:
        rel = (r.get("path") or "").strip()
        if not rel:
            continue
        total += 1
        p = (DATA / rel).resolve()
        unit, cat = (r.get("unit") or "").strip(), (r.get("category") or "").strip()
        if not p.is_relative_to(data):
            rep.miss(f"stored path escapes the data folder: {rel}")
            continue
        if not p.is_file():
            rep.miss(f"stored file missing: {rel}")
            continue
        s = (r.get("sha256") or "").strip()
        if s and sha_file(p) != s:
            rep.miss(f"stored file {rel} does not match its sha256")
            continue
        want = f"materials/{unit}/{FOLDERS.get(cat, '')}/" if unit else "materials/"
        if unit and cat in FOLDERS and not Path(rel).as_posix().startswith(want):
            rep.miss(f"{rel}: expected under {want}")
            continue
        ok += 1
    return ok, total


# ---------------------------------------------------------------------------------------------
# units.csv
# ---------------------------------------------------------------------------------------------


def check_units(expected: dict, rows: list[dict], rep: Report) -> dict:
    fields = [
        "submitted",
        "on_time",
        "complete",
        "photos",
        "reports",
        "deeds",
        "videos",
        "video_links",
        "missing",
        "first_received",
        "last_received",
        "notice_reasons",
    ]
    ok = defaultdict(int)
    got = {(r.get("unit") or "").strip(): r for r in rows}
    exp_units = expected["units"]
    extra = sorted(set(got) - set(exp_units))
    if extra:
        rep.miss(f"units.csv: units not in the registry: {', '.join(extra)}")
    order = [u for u in (r.get("unit", "").strip() for r in rows) if u in exp_units]
    if order != [u for u in exp_units if u in got]:
        print("  note: units.csv is not in registry order")
    invariant_bad = 0
    for unit, e in exp_units.items():
        r = got.get(unit)
        if r is None:
            rep.miss(f"units.csv: no row for {unit}")
            continue
        for f in fields:
            want = e[f]
            have = (r.get(f) or "").strip()
            if isinstance(want, bool):
                good = have.lower() == str(want).lower()
            elif isinstance(want, int):
                good = have == str(want)
            elif f == "missing":
                good = set(filter(None, have.split(";"))) == set(filter(None, want.split(";")))
            elif f == "notice_reasons":
                codes = set(filter(None, have.split(";"))) & STANDARD_REASONS
                good = codes == set(want)
                want = ";".join(want)
            else:
                good = have == want
            ok[f] += good
            if not good:
                rep.miss(f"{unit}.{f}: {have or '(empty)'} != {want if want != '' else '(empty)'}")
        bad = []
        if not e["submitted"]:
            if (r.get("notice") or "").strip().lower() != "true":
                bad.append("notice must be true")
            if (r.get("rank") or "").strip():
                bad.append("rank must be empty")
            try:
                if float((r.get("score") or "nan").strip()) != 0:
                    bad.append("score must be 0")
            except ValueError:
                bad.append("score not a number")
        elif e["notice_reasons"] and (r.get("notice") or "").strip().lower() != "true":
            bad.append(f"notice must be true ({';'.join(e['notice_reasons'])})")
        if bad:
            invariant_bad += 1
            rep.miss(f"{unit}: " + ", ".join(bad))
    ok["_invariants_bad"] = invariant_bad
    ok["_fields"] = fields
    return ok


# ---------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description="Blind accuracy run against expected.json.")
    ap.add_argument("--timeout", type=int, default=900, help="seconds for one `once` run")
    ap.add_argument("--all", action="store_true", help="print every mismatch (default: 80)")
    ap.add_argument("--no-run", action="store_true", help="only re-read the last run's reports")
    ap.add_argument("--no-rerun", action="store_true", help="skip the idempotency rerun")
    ap.add_argument(
        "--project", type=Path, default=ROOT, help="project root holding run_pipeline.py"
    )
    args = ap.parse_args()

    exp_path = HERE / "expected.json"
    if not exp_path.exists() or not INBOX.is_dir():
        print("accuracy: fixtures missing; run `python benchmarks/blind/make_blind.py` first")
        return 2
    expected = json.loads(exp_path.read_text(encoding="utf-8"))
    stale = [
        m["file"]
        for m in expected["mails"]
        if not (INBOX / m["file"]).is_file() or sha_file(INBOX / m["file"]) != m["eml_sha256"]
    ]
    if stale:
        print(
            f"accuracy: inbox does not match expected.json ({len(stale)} mails); "
            "rerun make_blind.py"
        )
        return 2

    rep = Report()
    print(
        f"accuracy: {len(expected['mails'])} mails, {len(expected['units'])} units, "
        f"deadline {expected['deadline']}"
    )
    if not args.no_run:
        if RUN.exists():
            shutil.rmtree(RUN)
        RUN.mkdir(parents=True)
        write_config(expected)
        for marker in MARKERS:
            marker.unlink(missing_ok=True)
        before_work = snapshot(WORK, [DATA])
        before_root = snapshot(args.project, [WORK])
        before_tmp = {p.name for p in Path("/tmp").iterdir()}
        ok, line = run_product(args.project, args.timeout, "run 1 (once)")
        print(line)
        if not ok:
            rep.failed = True
        writes = diff(before_work, snapshot(WORK, [DATA]))
        # In the project tree, files that appear under data/ or run/ (the config's relative paths
        # resolved from the working directory instead of the config's folder) are the product's;
        # other changes there may be someone editing the code meanwhile, so they are only noted.
        tree = diff(before_root, snapshot(args.project, [WORK]))
        ours = [w for w in tree if w.split(" ", 1)[1].startswith(("data/", "run/", "inbox/"))]
        writes += [f"{w} (in the project tree)" for w in ours]
        others = [w for w in tree if w not in ours]
        if others:
            print(
                f"  note: project tree changed during the run (concurrent edits?): "
                f"{'; '.join(others[:6])}"
            )
        writes += [f"{m} exists" for m in MARKERS if m.exists()]
        print(
            "outside the data folder:", f"{len(writes)} write(s)" if writes else "nothing written"
        )
        for w in writes:
            rep.miss(f"written outside the data folder: {w}")
            print("   ", w)
        left = sorted({p.name for p in Path("/tmp").iterdir()} - before_tmp)
        if left:
            print(
                f"  note: new entries left in /tmp during the run (may be unrelated): "
                f"{', '.join(left[:8])}"
            )
        big = [p for p in DATA.rglob("*") if p.is_file() and p.stat().st_size > 256 << 20]
        for p in big:
            rep.miss(f"a file over 256 MiB in the data folder: {p.relative_to(DATA)}")

    units_rows = read_csv(REPORTS / "units.csv", UNIT_COLUMNS, rep)
    att_rows = read_csv(REPORTS / "attachments.csv", ATT_COLUMNS, rep)

    if att_rows is not None:
        st = match_rows(expected, att_rows, rep)
        print(f"attachments.csv: {len(att_rows)} rows")
        print(f"  per-file unit accuracy:      {pct(st['unit_ok'], st['unit_total'])}")
        print(f"  per-file category accuracy:  {pct(st['cat_ok'], st['cat_total'])}")
        print(f"  non-materials kept out:      {pct(st['nonmat_ok'], st['nonmat_total'])}")
        print(f"  video links found:           {pct(st['link_ok'], st['link_total'])}")
        print(f"  decoded file names:          {pct(st['name_ok'], st['name_total'])}")
        print(f"  sender column:               {pct(st['sender_ok'], st['sender_total'])}")
        print(f"  received_at column:          {pct(st['time_ok'], st['time_total'])}")
        s_ok, s_total = check_storage(att_rows, rep)
        print(f"  stored files verified:       {pct(s_ok, s_total)}")
        print(
            f"  files missing: {st['missing']}; extra rows counted as materials: "
            f"{st['extra_material']}; extra non-material rows: {st['extra_other']}; "
            f"rows of unknown messages: {st['orphans']}"
        )
    if units_rows is not None:
        uk = check_units(expected, units_rows, rep)
        n = len(expected["units"])
        print(f"units.csv: {len(units_rows)} rows")
        for f in uk["_fields"]:
            print(f"  {f + ':':28} {pct(uk[f], n)}")
        print(f"  contract invariants broken:  {uk['_invariants_bad']}")

    if not args.no_run and not args.no_rerun and REPORTS.exists():
        before = snapshot(DATA, [], content=True)
        hashes = {
            p: sha_file(REPORTS / p)
            for p in ("units.csv", "attachments.csv")
            if (REPORTS / p).exists()
        }
        ok, line = run_product(args.project, args.timeout, "run 2 (once again, same mailbox)")
        print(line)
        if not ok:
            rep.failed = True
        changed = diff(before, snapshot(DATA, [], content=True))
        again = {p: sha_file(REPORTS / p) for p in hashes if (REPORTS / p).exists()}
        if again != hashes:
            rep.miss("rerun: units.csv or attachments.csv changed on an unchanged mailbox")
        print(
            "rerun: data folder",
            "unchanged" if not changed else f"changed ({len(changed)}): " + "; ".join(changed[:6]),
        )
        if changed:
            rep.miss(
                f"rerun changed {len(changed)} file(s) in the data folder (SPEC: re-running `once` "
                "on an unchanged mailbox changes nothing)"
            )

    limit = None if args.all else 80
    if rep.mismatches:
        print(f"mismatches ({len(rep.mismatches)}):")
        for line in rep.mismatches[:limit]:
            print("  -", line)
        if limit and len(rep.mismatches) > limit:
            print(f"  … {len(rep.mismatches) - limit} more (use --all)")
    print("accuracy:", "ALL MATCH" if not rep.failed else "MISMATCHES (see above)")
    return 1 if rep.failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("accuracy: interrupted")
        sys.exit(1)
    except Exception as exc:  # the harness must report, not crash
        print(f"accuracy: harness error: {type(exc).__name__}: {exc}")
        sys.exit(1)
