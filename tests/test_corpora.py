"""Public real-world mail corpora (``<shared>/corpora``) through our parser and sorter.

Every message listed in ``index.json`` is parsed with ``parsers.mail.parse_mail``; its files are
collected recursively (``mail.attachments``, then every ``mail.forwarded`` message) and decoded
with ``parsers.mail.payload``. What the upstream project's own tests expect (names, decoded sizes,
hashes, counts) must match, except where we differ on purpose: each such file is listed in
``DIFFERENCES`` with the reason and with OUR exact result, which is asserted instead. Where we
differ because of a product bug, the file is in ``BUGS`` and its test is a strict xfail.

Some mail-parser messages are real spam and malware samples: their payloads are only hashed and
sized here (and, in ``test_sort_mail_survives``, staged and classified by the product exactly as
it treats any attachment); nothing is ever opened, executed or previewed by the tests.
"""

from __future__ import annotations

import email
import hashlib
import json
import os
from dataclasses import dataclass
from email import policy
from pathlib import Path

import pytest

from contract import CATEGORY_CODES
from parsers.mail import ParsedMail, parse_mail, payload
from parsers.sort import sort_mail
from parsers.units import load_registry
from pipeline.config import load_config
from pipeline.jobs import _context
from tests.support.project import REPO, write_config

SHARED = Path(os.environ.get("SHARED_DIR", REPO.parent / "shared"))
CORPORA = SHARED / "corpora"
INDEX = CORPORA / "index.json"
ENTRIES: list[dict] = json.loads(INDEX.read_text(encoding="utf-8")) if INDEX.is_file() else []

_IMAP_TOOLS_RFC822 = (
    "imap_tools lists a message/rfc822 part as one attachment (its re-serialised bytes); we walk "
    "into a forwarded message (SPEC: it is attributed by its inner message) and count the files "
    "inside it, not the container"
)
_DSN = (
    "a delivery report: we keep every nameless leaf that is not body text (message/delivery-status,"
    " text/rfc822-headers) so nothing is lost, and walk into the returned message; the whole mail"
    " is a bounce (nature 'bounce') and is attributed to nobody, so these parts never count"
)


@dataclass(frozen=True)
class Difference:
    """A deliberate difference from the upstream expectation, and what we produce instead."""

    reason: str
    files: tuple[tuple[str, int], ...]  # (name, decoded size) of every leaf file, all levels
    forwarded: int = 0  # forwarded messages walked into, all levels
    text_contains: str = ""  # a phrase our body text must hold (a part we read as body)
    nature: str = ""


DIFFERENCES: dict[str, Difference] = {
    "imap_tools/messages/attachment_2_base64.eml": Difference(
        _IMAP_TOOLS_RFC822 + " (here two base64-encoded .eml attachments, nothing inside)",
        files=(),
        forwarded=2,
    ),
    "imap_tools/messages/attachment_7bit.eml": Difference(
        _IMAP_TOOLS_RFC822 + " (the part is message/rfc822 although it is named .docx)",
        files=(),
        forwarded=1,
    ),
    "imap_tools/messages/attachment_8bit.eml": Difference(
        _IMAP_TOOLS_RFC822, files=(), forwarded=1
    ),
    "imap_tools/messages/forwarded_message.eml": Difference(
        _IMAP_TOOLS_RFC822, files=(), forwarded=1
    ),
    "imap_tools/messages/attachment_emails/attachment_message_rfc822.eml": Difference(
        _IMAP_TOOLS_RFC822 + "; the sibling broken.pdf matches upstream exactly",
        files=(("broken.pdf", 1026),),
        forwarded=1,
    ),
    "imap_tools/messages/error_emails/missing_content_disposition.eml": Difference(
        "a nameless image/jpg leaf without Content-Disposition: imap_tools ignores it (no name, no"
        " Content-ID); we keep it, because a nameless picture may be a photo a phone pasted in",
        files=(("", 1311),),
    ),
    "imap_tools/messages/mime_emails/raw_email11.eml": Difference(
        "a text/enriched leaf: not a body we render (only text/plain and text/html are), so we "
        "keep it as a nameless file rather than drop it; imap_tools ignores it",
        files=(("", 32),),
    ),
    "imap_tools/messages/text_with_content_id.eml": Difference(
        "a nameless text/plain part that has a Content-ID: imap_tools counts it because of the "
        "Content-ID; for us a nameless inline text part is the body (cid: matters for images only)",
        files=(),
        text_contains="Une nouvelle demande vous a été transmise",
    ),
    "imap_tools/messages/mime_emails/raw_email_with_mimepart_without_content_type.eml": (
        Difference(_DSN, files=(("", 322),), forwarded=1, nature="bounce")
    ),
    "imap_tools/messages/multipart_report_emails/multi_address_bounce1.eml": Difference(
        _DSN, files=(("", 2780),), forwarded=1, nature="bounce"
    ),
    "imap_tools/messages/multipart_report_emails/multi_address_bounce2.eml": Difference(
        _DSN, files=(("", 2780),), forwarded=1, nature="bounce"
    ),
    "imap_tools/messages/multipart_report_emails/multipart_report_multiple_status.eml": (
        Difference(
            _DSN + "; the text/plain and text/html parts upstream lists (they have Content-IDs) "
            "are the returned message's body for us",
            files=(("", 184), ("", 262)),
            forwarded=1,
            nature="bounce",
        )
    ),
    "imap_tools/messages/multipart_report_emails/report_422.eml": Difference(
        _DSN, files=(("", 337), ("", 686)), nature="bounce"
    ),
    "imap_tools/messages/multipart_report_emails/report_530.eml": Difference(
        _DSN, files=(("", 387), ("", 1663)), nature="bounce"
    ),
    "mail-parser/mails/mail_malformed_2": Difference(
        _DSN + "; mail-parser counts only the named delivery-status part",
        files=(("DSN57BAC498.txt", 213), ("", 826)),
        nature="bounce",
    ),
}

# Product bugs this test once exposed are fixed; a new one goes here as a strict xfail.
BUGS: dict[str, str] = {}

SUBJECT_DIFFERENCES: dict[str, tuple[str, str]] = {
    # file: (our subject, why)
    "imap_tools/messages/error_emails/invalid_subject_characters.eml": (
        "Formação FrenetikPolis: Mega Campanha Final Verão | Cursos de Setembro",
        "raw 8-bit Latin-1 bytes in the subject: decoded with the charset the message declares "
        "for its body (ISO-8859-1) before any guess; upstream drops them",
    ),
    "imap_tools/messages/rfc2822/example14.eml": (
        "Re: TEST  テストテスト",
        "folding whitespace between a plain word and an encoded word is kept (RFC 2047 6.2 "
        "ignores it only between two encoded words); upstream drops it",
    ),
}


def _require_corpora() -> None:
    if INDEX.is_file():
        return
    message = f"shared corpora not found at {INDEX} (set SHARED_DIR)"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _params(entries: list[dict]):
    for entry in entries:
        marks = []
        if entry["file"] in BUGS:
            marks.append(pytest.mark.xfail(strict=True, reason=BUGS[entry["file"]]))
        yield pytest.param(entry, id=entry["file"], marks=marks)


@dataclass(frozen=True)
class Found:
    name: str
    size: int
    sha256: str
    md5: str
    content_type: str


def collect(mail: ParsedMail) -> tuple[list[Found], int]:
    """Every leaf file of the mail and of the messages forwarded in it; forwarded count."""
    found: list[Found] = []
    forwarded = 0
    for attachment in mail.attachments:
        data = payload(mail, attachment)
        found.append(
            Found(
                attachment.name,
                len(data),
                hashlib.sha256(data).hexdigest(),
                hashlib.md5(data).hexdigest(),
                attachment.content_type,
            )
        )
    for inner in mail.forwarded:
        inner_found, inner_forwarded = collect(inner)
        found += inner_found
        forwarded += 1 + inner_forwarded
    return found, forwarded


def _matches(found: Found, want: dict) -> bool:
    return (
        found.name == want["filename"]
        and (want.get("size") is None or found.size == want["size"])
        and (not want.get("sha256") or found.sha256 == want["sha256"])
        and (not want.get("md5") or found.md5 == want["md5"])
    )


def test_corpora_present():
    _require_corpora()
    assert len(ENTRIES) >= 150
    assert {e["source"] for e in ENTRIES} == {"imap_tools", "mail-parser", "cpython-test_email"}


def test_every_exception_names_an_indexed_file():
    _require_corpora()
    indexed = {e["file"] for e in ENTRIES}
    for name in (*DIFFERENCES, *BUGS, *SUBJECT_DIFFERENCES):
        assert name in indexed, f"stale exception for {name}"
    assert not set(DIFFERENCES) & set(BUGS)


@pytest.mark.parametrize("entry", list(_params(ENTRIES)))
def test_attachments_match_upstream(entry: dict):
    """GIVEN a public test message WHEN parsed THEN nothing raises and every file the upstream
    project expects is found with the same decoded name and size (hash where known), or we
    produce exactly the result DIFFERENCES explains."""
    raw = (CORPORA / entry["file"]).read_bytes()
    mail = parse_mail(raw)
    found, forwarded = collect(mail)
    difference = DIFFERENCES.get(entry["file"])
    if difference is not None:
        assert sorted((f.name, f.size) for f in found) == sorted(difference.files)
        assert forwarded == difference.forwarded
        if difference.text_contains:
            assert difference.text_contains in mail.text
        assert mail.nature == difference.nature
        return
    remaining = list(found)
    for want in entry["expected_attachments"] or []:
        match = next((f for f in remaining if _matches(f, want)), None)
        assert match is not None, f"missing {want} among {remaining}"
        remaining.remove(match)
    if entry["expected_attachment_count"] is not None:
        assert len(found) == entry["expected_attachment_count"], found


@pytest.mark.parametrize(
    "entry", [e for e in ENTRIES if e.get("expected_subject") is not None], ids=lambda e: e["file"]
)
def test_subject_matches_upstream(entry: dict):
    """Subjects agree with upstream up to surrounding whitespace (we strip it), except where
    SUBJECT_DIFFERENCES says why not."""
    subject = parse_mail((CORPORA / entry["file"]).read_bytes()).subject
    if entry["file"] in SUBJECT_DIFFERENCES:
        assert subject == SUBJECT_DIFFERENCES[entry["file"]][0]
    else:
        assert subject == entry["expected_subject"].strip()


def test_a_specific_charset_label_is_respected_even_when_it_does_not_fit():
    """name*=iso-2022-jp'ja'...%8aat: 0x8A is invalid in the declared 7-bit charset. A specific
    legacy label is a statement about the bytes, so it is kept and the bad byte replaced (as
    upstream, the standard library and mail clients do), and the name is flagged suspect."""
    _require_corpora()
    for name in (
        "imap_tools/messages/attachment_emails/attachment_with_encoded_name.eml",
        "imap_tools/messages/plain_emails/raw_email8.eml",
    ):
        (attachment,) = parse_mail((CORPORA / name).read_bytes()).attachments
        assert attachment.name == "01 Quien Te Dij\ufffdat. Pitbull.mp3"
        assert attachment.suspect_name


# --------------------------------------------------------------------------------------
# Judged attachments: ours against the standard library's email package
# --------------------------------------------------------------------------------------


def standard_library_files(raw: bytes) -> list[Found]:
    """Every leaf of ``email`` (policy.default, walk) with its name and decoded payload: the
    strongest reading of the standard library (iter_attachments finds fewer)."""
    found = []
    for part in email.message_from_bytes(raw, policy=policy.default).walk():
        if part.is_multipart():
            continue
        try:
            name = part.get_filename() or ""
            data = part.get_payload(decode=True) or b""
        except Exception:  # a part the standard library cannot read is not decoded by it
            continue
        digest = hashlib.sha256(data).hexdigest()
        found.append(Found(name, len(data), digest, hashlib.md5(data).hexdigest(), ""))
    return found


def judged_counts() -> tuple[int, int, int, list[tuple[str, str, bool]]]:
    """(judged, decoded by us, decoded by the standard library, the files where we differ).

    A judged attachment is one of ``expected_attachments`` in index.json; it is decoded when
    a file of that exact name and size (and hash, where known) is found; a whole-message
    failure decodes nothing of that message."""
    judged = ours = theirs = 0
    differ = []
    for entry in ENTRIES:
        raw = (CORPORA / entry["file"]).read_bytes()
        try:
            mine = collect(parse_mail(raw))[0]
        except Exception:
            mine = []
        try:
            std = standard_library_files(raw)
        except Exception:
            std = []
        for want in entry["expected_attachments"] or []:
            judged += 1
            hits = []
            for pool in (mine, std):
                match = next((f for f in pool if _matches(f, want)), None)
                if match is not None:
                    pool.remove(match)
                hits.append(match is not None)
            ours, theirs = ours + hits[0], theirs + hits[1]
            if hits[0] != hits[1]:
                differ.append((entry["file"], want["filename"], hits[0]))
    return judged, ours, theirs, differ


# Nameless text parts that the standard library lists as leaves and imap_tools counts (they
# have a Content-ID); for us they are message body text, by design (see DIFFERENCES).
BODY_TEXT_PARTS = {
    "imap_tools/messages/multipart_report_emails/multipart_report_multiple_status.eml",
    "imap_tools/messages/text_with_content_id.eml",
}


def test_we_decode_at_least_as_many_judged_attachments_as_the_standard_library():
    _require_corpora()
    judged, ours, theirs, differ = judged_counts()
    assert ours >= theirs, (judged, ours, theirs, differ)
    only_theirs = {file for file, _name, mine in differ if not mine}
    assert only_theirs <= BODY_TEXT_PARTS, only_theirs


# --------------------------------------------------------------------------------------
# sort_mail on every message: real-world spam and malware must not crash sorting
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sorting(tmp_path_factory):
    _require_corpora()
    config = load_config(write_config(tmp_path_factory.mktemp("corpora") / "office"))
    registry = load_registry(config.units_file)
    return registry, _context(config, registry).rules


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_sort_mail_survives(entry: dict, sorting, tmp_path: Path):
    """GIVEN any real-world message, hostile ones included WHEN sorted as the pipeline does THEN
    nothing raises, every file has a valid kind and category, and everything written stays in
    the staging folder."""
    registry, rules = sorting
    staging = tmp_path / "staging"
    mail = parse_mail((CORPORA / entry["file"]).read_bytes())
    result = sort_mail(mail, staging, registry, rules, {})
    for item in result.files:
        assert item.kind in ("file", "link", "skipped")
        assert item.category in CATEGORY_CODES
        if item.kind == "file":
            assert item.staged is not None and item.staged.is_file()
            assert item.staged.resolve().is_relative_to(staging.resolve())
            assert item.sha256 and item.size == item.staged.stat().st_size
        if item.kind == "link":
            assert item.category == "video" and item.staged is None
    written = [p for p in tmp_path.rglob("*") if not p.is_dir()]
    assert all(p.resolve().is_relative_to(staging.resolve()) for p in written)
    assert all(not p.is_symlink() for p in written)
    if result.nature:
        assert result.attribution.unit is None
