#!/usr/bin/env python3
"""Self-check of the blind fixtures: is expected.json true to the inbox and to the SPEC's rules?

Independently of make_blind.py's own bookkeeping it
  1. parses every .eml with the standard library, unpacks zip/7z members in memory, and checks
     that every expected file (sha256, name) really is in that mail, and that the topmost
     Received header and the Message-ID match;
  2. re-derives each file's category from its bytes (magic) and, for documents, from its name
     and its own first paragraph (python-docx / pypdf), with the SPEC's keyword order;
  3. re-derives each mail's unit from the SPEC's attribution order (registered address, subject,
     file and folder names, document titles) with a longest-match alias matcher;
  4. re-derives every units.csv row by the SPEC's rules and compares it with expected.json;
  5. checks a few hand-written rows;
  6. with --determinism, regenerates the inbox elsewhere and compares bytes.

    python benchmarks/blind/check_expected.py [--determinism]
"""

from __future__ import annotations

import argparse
import csv
import email
import hashlib
import io
import json
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.utils import parsedate_to_datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
CATS = ("photo", "report", "deeds", "video")
DEEDS_KW = ("事迹", "先进")
REPORT_KW = ("总结", "报告", "汇报", "小结", "工作开展情况")
NON_SUBMISSION = {
    "newsletter-naming-a-unit",
    "system-notice",
    "auto-reply-from-registered-address",
    "bounce-with-original",
    "office-circular-many-units",
    "spam",
}

problems: list[str] = []


def fail(msg: str) -> None:
    problems.append(msg)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# 1. What is really in each mail
# ---------------------------------------------------------------------------------------------


def zip_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def unpack(name: str, data: bytes, found: dict) -> None:
    """Add archive members (recursively) to ``found``: shown name -> bytes."""
    if name.lower().endswith(".zip"):
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            return
        for info in zf.infolist():
            if info.is_dir() or info.flag_bits & 0x1 or info.file_size > 256 << 20:
                continue
            shown = f"{name}/{zip_name(info)}"
            member = zf.read(info)
            found.setdefault(shown, member)
            unpack(shown, member, found)
    elif name.lower().endswith(".7z"):
        import py7zr

        with tempfile.TemporaryDirectory() as tmp:
            with py7zr.SevenZipFile(io.BytesIO(data)) as z:
                z.extractall(tmp)
            for path in sorted(Path(tmp).rglob("*")):
                if path.is_file():
                    shown = f"{name}/{path.relative_to(tmp).as_posix()}"
                    found.setdefault(shown, path.read_bytes())
                    unpack(shown, found[shown], found)


def decode_name(part) -> str | None:
    raw = part.get_filename()
    if raw is None:
        return None
    if "\ufffd" in raw:  # raw 8-bit bytes: take them from the undecoded header
        value = next(v for k, v in part.raw_items() if k.lower() == "content-disposition")
        raw = value.split('filename="', 1)[1].split('"', 1)[0]
    if "=?" in raw:
        raw = str(make_header(decode_header(raw.replace("gb2312", "gb18030"))))
    if any("\udc80" <= c <= "\udcff" for c in raw):  # raw 8-bit header bytes
        b = raw.encode("utf-8", "surrogateescape")
        try:
            raw = b.decode("utf-8")
        except UnicodeDecodeError:
            raw = b.decode("gb18030")
    return raw


def walk(msg, found: dict) -> None:
    for part in msg.walk():
        if part.get_content_type() == "message/rfc822":
            continue  # walk() descends into it by itself
        if part.is_multipart():
            continue
        name = decode_name(part)
        if name is None:
            continue
        data = part.get_payload(decode=True) or b""
        found.setdefault(name, data)
        unpack(name, data, found)


def check_mail_bytes(mail: dict, raw: bytes) -> None:
    key = mail["file"]
    msg = email.message_from_bytes(raw, policy=policy.compat32)
    top = msg.get_all("Received")[0]
    when = parsedate_to_datetime(" ".join(top.split(";")[-1].split()))
    if when != datetime.fromisoformat(mail["received_at"]):
        fail(f"{key}: topmost Received {when} != {mail['received_at']}")
    mid = (msg.get("Message-ID") or "").strip().strip("<>")
    if mid != mail["message_id"]:
        fail(f"{key}: Message-ID {mid!r} != {mail['message_id']!r}")
    found: dict[str, bytes] = {}
    walk(msg, found)
    by_sha = {sha(v): k for k, v in found.items()}
    for f in mail["files"]:
        if f["sha256"] is None or f["filename"].endswith(".eml"):
            continue
        if f["sha256"] not in by_sha:
            fail(f"{key}: {f['filename']} (sha {f['sha256'][:10]}) not found in the mail")
            continue
        got = by_sha[f["sha256"]]
        if f["category"] != "not a material" and not got.endswith(f["filename"].split("/")[-1]):
            fail(f"{key}: {f['filename']} decodes as {got!r}")
        f["_bytes"] = found[got]


# ---------------------------------------------------------------------------------------------
# 2. Category from content
# ---------------------------------------------------------------------------------------------


def doc_title(data: bytes) -> str:
    if data[:4] == b"PK\x03\x04":
        import docx

        try:
            paras = [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]
        except Exception:
            return ""
        return next((p for p in paras if p.strip()), "")
    if data[:5] == b"%PDF-":
        import pypdf

        text = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text() or ""
        return next((ln for ln in text.splitlines() if ln.strip()), "")
    return ""


def content_category(f: dict) -> str | None:
    data = f.get("_bytes")
    if data is None:
        return None
    if not data:
        return "not a material"
    if data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n" or data[:4] == b"GIF8":
        return "photo"
    if data[4:8] == b"ftyp" or data[:4] == b"RIFF" or data[:4] == b"\x30\x26\xb2\x75":
        return "video"
    is_doc = data[:4] == b"PK\x03\x04" or data[:5] == b"%PDF-" or data[:4] == b"\xd0\xcf\x11\xe0"
    if not is_doc:
        return "not a material"
    title = doc_title(data) if data[:4] != b"\xd0\xcf\x11\xe0" else f.get("title", "")
    if data[:4] == b"PK\x03\x04" and not title and data.find(b"word/document.xml") < 0:
        return "not a material"
    text = unicodedata.normalize("NFKC", f["filename"].split("/")[-1] + " " + title)
    if data[:4] == b"PK\x03\x04":
        try:
            zipfile.ZipFile(io.BytesIO(data)).testzip()
        except zipfile.BadZipFile:
            return "not a material"
    if any(k in text for k in DEEDS_KW):
        return "deeds"
    if any(k in text for k in REPORT_KW):
        return "report"
    return "other"


def small_image(f: dict) -> bool:
    from PIL import Image

    data = f.get("_bytes") or b""
    return len(data) < 30 * 1024 or max(Image.open(io.BytesIO(data)).size) < 300


# ---------------------------------------------------------------------------------------------
# 3. Attribution by the SPEC's order
# ---------------------------------------------------------------------------------------------


class Matcher:
    def __init__(self, registry: list[dict]):
        self.names: list[tuple[str, str]] = []
        self.emails: dict[str, str] = {}
        for row in registry:
            for n in [row["unit"], *filter(None, row["aliases"].split(";"))]:
                self.names.append((unicodedata.normalize("NFKC", n), row["unit"]))
            for e in filter(None, row["emails"].split(";")):
                self.emails[e.strip().lower()] = row["unit"]
        self.names.sort(key=lambda p: -len(p[0]))

    def units_in(self, text: str) -> set[str]:
        text = unicodedata.normalize("NFKC", text)
        taken = [False] * len(text)
        hits = set()
        for name, unit in self.names:  # longest first; a shorter name inside a longer one loses
            start = text.find(name)
            while start >= 0:
                if not any(taken[start : start + len(name)]):
                    hits.add(unit)
                    for i in range(start, start + len(name)):
                        taken[i] = True
                start = text.find(name, start + 1)
        return hits

    def attribute(self, mail: dict) -> str | None:
        files = [f for f in mail["files"] if not f["filename"].endswith(".eml")]
        inner_senders = {f["sender"] for f in files}
        senders = inner_senders if inner_senders - {mail["sender"]} else {mail["sender"]}
        levels = [
            {self.emails[s.lower()] for s in senders if s.lower() in self.emails},
            self.units_in(mail["subject"]),
            set().union(*[self.units_in(f["filename"]) for f in mail["files"]]),
            set().union(
                *[self.units_in(f.get("title") or doc_title(f.get("_bytes") or b"")) for f in files]
            ),
        ]
        inner_subject = [f for f in files if f["sender"] != mail["sender"]]
        if inner_subject:  # forwarded: the inner message decides; its subject is in the name
            levels[1] = set()
        for level in levels:
            if level:
                return next(iter(level)) if len(level) == 1 else None
        return None


# ---------------------------------------------------------------------------------------------
# 4. units.csv by the rules (written apart from make_blind.derive_units)
# ---------------------------------------------------------------------------------------------


def rederive(expected: dict, registry: list[dict]) -> dict:
    deadline = datetime.fromisoformat(expected["deadline"])
    rows = {}
    for r in registry:
        u = r["unit"]
        mine = [m for m in expected["mails"] if m["unit"] == u]
        at = {m["file"]: datetime.fromisoformat(m["received_at"]) for m in mine}
        per_cat: dict[str, dict[str, datetime]] = {}
        for m in sorted(mine, key=lambda m: at[m["file"]]):
            for f in m["files"]:
                if f["category"] in CATS and not f["container"]:
                    per_cat.setdefault(f["category"], {}).setdefault(f["sha256"], at[m["file"]])
            for lk in m["links"]:
                if lk["counted"]:
                    per_cat.setdefault("link", {}).setdefault(lk["url"], at[m["file"]])
        first = {c: min(v.values()) for c, v in per_cat.items()}
        if "link" in first:
            first["video"] = min(first["link"], first.get("video", first["link"]))
            del first["link"]
        ok = {c for c in CATS if c in first}
        sub = bool(mine)
        on_time = sub and min(at.values()) <= deadline and max(first.values()) <= deadline
        miss = ";".join({"photo": "photos"}.get(c, c) for c in CATS if c not in ok)
        reasons = (
            ["not_submitted"]
            if not sub
            else [*(["late"] if not on_time else []), *(["incomplete"] if ok != set(CATS) else [])]
        )
        rows[u] = {
            "category": r["category"],
            "submitted": sub,
            "on_time": on_time,
            "complete": ok == set(CATS),
            "first_received": min(at.values()).isoformat() if at else "",
            "last_received": max(at.values()).isoformat() if at else "",
            "photos": len(per_cat.get("photo", {})),
            "reports": len(per_cat.get("report", {})),
            "deeds": len(per_cat.get("deeds", {})),
            "videos": len(per_cat.get("video", {})),
            "video_links": len(per_cat.get("link", {})),
            "missing": miss,
            "notice_reasons": reasons,
        }
    return rows


HAND_WRITTEN = {  # unit: {field: value}, written by hand from the scenario descriptions
    "渣江镇": {"submitted": True, "on_time": False, "complete": True},
    "石市镇": {"on_time": False, "first_received": "2021-01-01T00:00:00+08:00"},
    "三湖镇": {"on_time": True, "last_received": "2020-12-31T23:59:59+08:00"},
    "岘山镇": {"on_time": False, "complete": True, "missing": ""},
    "库宗桥镇": {"on_time": True, "photos": 3, "last_received": "2021-01-04T14:30:00+08:00"},
    "关市镇": {"on_time": True, "photos": 2, "last_received": "2021-01-05T08:00:00+08:00"},
    "大安乡": {"on_time": True, "complete": True},
    "杉桥镇": {"photos": 2, "reports": 1, "missing": "deeds;video"},
    "集兵镇": {"complete": True, "videos": 0, "video_links": 1},
    "县妇联": {"video_links": 1, "complete": True},
    "县文旅广体局": {"video_links": 1},
    "县农业农村局": {"reports": 2},
    "县委政法委": {"photos": 0, "deeds": 0, "missing": "photos;deeds"},
    "县人社局": {"submitted": False, "notice_reasons": ["not_submitted"]},
    "西渡镇": {"complete": True, "photos": 3},
    "西渡高新区": {"submitted": True, "missing": "video"},
    "县医保局": {"submitted": False},
    "县市场监管局": {"submitted": False, "missing": "photos;report;deeds;video"},
}


def main() -> int:
    ap = argparse.ArgumentParser(description="Self-check of the blind fixtures.")
    ap.add_argument("--inbox", type=Path, default=HERE / ".work" / "inbox")
    ap.add_argument(
        "--determinism",
        action="store_true",
        help="also regenerate the inbox in a temp folder and compare bytes (slow)",
    )
    args = ap.parse_args()
    expected = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
    registry_path = Path(expected["registry"])
    with registry_path.open(encoding="utf-8-sig", newline="") as fh:
        registry = list(csv.DictReader(fh))
    if sha(registry_path.read_bytes()) != expected["registry_sha256"]:
        fail("the registry changed since expected.json was written; rerun make_blind.py")

    mails = expected["mails"]
    if not 40 <= len(mails) <= 60:
        fail(f"{len(mails)} mails, outside 40-60")
    ids = [m["message_id"] for m in mails if m["message_id"]]
    if len(ids) != len(set(ids)):
        fail("duplicate Message-IDs")
    times = [m["received_at"] for m in mails if not m["message_id"]]
    if len(times) != len(set(times)):
        fail("mails without Message-ID share a receive time")

    for m in mails:
        path = args.inbox / m["file"]
        if not path.exists():
            fail(f"{m['file']}: missing from the inbox (run make_blind.py)")
            continue
        raw = path.read_bytes()
        if sha(raw) != m["eml_sha256"]:
            fail(f"{m['file']}: bytes differ from expected.json (regenerate)")
        check_mail_bytes(m, raw)

    matcher = Matcher(registry)
    for m in mails:
        classes = set(m["classes"])
        if classes & NON_SUBMISSION:
            if m["unit"] is not None or m["kind"] != "not_submission":
                fail(f"{m['file']}: not a submission but expected unit {m['unit']}")
            if any(lk["counted"] for lk in m["links"]):
                fail(f"{m['file']}: a link counted in mail that is not a submission")
            continue
        got = matcher.attribute(m)
        if got != m["unit"]:
            fail(f"{m['file']}: attribution by the rules gives {got}, expected says {m['unit']}")
        for f in m["files"]:
            if f["container"] or f["category"] is None:
                continue
            c = content_category(f)
            if c == "photo" and f["category"] == "not a material" and small_image(f):
                continue  # a signature logo or an emoji referenced from the HTML body
            if c is not None and c != f["category"]:
                fail(f"{m['file']}: {f['filename']}: content says {c}, expected {f['category']}")
        for f in m["files"]:
            f.pop("_bytes", None)

    rows = rederive(expected, registry)
    if list(rows) != list(expected["units"]):
        fail("units in expected.json are not the registry's units in registry order")
    for unit, row in rows.items():
        exp = expected["units"].get(unit, {})
        for k, v in row.items():
            if exp.get(k) != v:
                fail(f"units[{unit}].{k}: rules give {v!r}, expected.json has {exp.get(k)!r}")
    for unit, want in HAND_WRITTEN.items():
        for k, v in want.items():
            if expected["units"][unit][k] != v:
                fail(
                    f"hand-written {unit}.{k}={v!r} but expected.json has "
                    f"{expected['units'][unit][k]!r}"
                )
    # every file of one sha has one category and one unit
    seen: dict[str, tuple] = {}
    for m in mails:
        for f in m["files"]:
            if f["sha256"] and f["category"] in CATS:
                key = (m["unit"], f["category"])
                if seen.setdefault(f["sha256"], key) != key:
                    fail(
                        f"sha {f['sha256'][:10]} has two (unit, category): {seen[f['sha256']]}"
                        f" and {key}"
                    )

    if args.determinism:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "make_blind.py"),
                    "--out",
                    f"{tmp}/inbox",
                    "--expected",
                    f"{tmp}/expected.json",
                ],
                check=True,
            )
            again = Path(f"{tmp}/expected.json").read_bytes()
            if again != (HERE / "expected.json").read_bytes():
                fail("make_blind.py is not deterministic: expected.json differs on a rerun")

    n_files = sum(len(m["files"]) for m in mails)
    print(f"check_expected: {len(mails)} mails, {n_files} file records, {len(rows)} units")
    for p in problems:
        print("PROBLEM:", p)
    print("check_expected:", "OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
