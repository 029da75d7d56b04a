"""One message, start to finish: raw store → parse → sort → place files → one ledger commit."""

from __future__ import annotations

import contextlib
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from intake.ledger import FileRecord, Ledger, MessageRow
from intake.materials import Placer, move_into_place, remove_unreferenced
from intake.models import RawMail
from intake.rawstore import RawStore
from parsers.headers import parse_header_block
from parsers.units import Registry
from pipeline.faults import data_folder_unusable
from portable.names import relative_budget

if TYPE_CHECKING:
    from parsers.sort import SortedMail, SortRules

log = logging.getLogger(__name__)
MAX_DOCUMENT_TEXT = 200_000


@dataclass(frozen=True)
class Context:
    data_dir: Path
    registry: Registry
    rules: SortRules
    max_attempts: int


@dataclass(frozen=True)
class Outcome:
    status: str  # done | review | ignored | excluded | failed | duplicate
    unit: str | None = None
    stored: int = 0  # new files written to the materials tree
    message: int | None = None  # the ledger id of the message


class Source(Protocol):
    """What processing needs of a mailbox source: its own bookkeeping, inside our commit."""

    def record(self, ledger: Ledger, mail: RawMail, message: int, sha256: str) -> None: ...


def message_id_of(raw: bytes) -> str:
    end = raw.find(b"\r\n\r\n")
    block = raw[: end if end >= 0 else 65536]
    value = parse_header_block(block).get("Message-ID") or ""
    return str(value).strip().strip("<>").strip()


def ingest(
    ledger: Ledger, source: Source, mail: RawMail, ctx: Context, digest: str | None = None
) -> Outcome:
    """Take one new message from a source exactly once. ``digest``: the message is already
    in the raw store, durably (``RawStore.put_all`` for a fetch batch)."""
    store = RawStore(ctx.data_dir)
    if digest is None:
        digest = store.put(mail.raw)  # on disk before anything else happens
    known = ledger.message_by_sha(digest)
    if known is None and mail.rescan:
        # After a UIDVALIDITY change a server may hand back known mail with changed bytes
        # (added headers): re-match it by Message-ID and receive time, like mbsync does.
        known = ledger.message_by_message_id(message_id_of(mail.raw), mail.received_at.isoformat())
    if known is not None and known.status not in ("pending", "failed"):
        with ledger.transaction():
            source.record(ledger, mail, known.id, digest)
        return Outcome("duplicate")
    row = ledger.begin_message(
        digest,
        store.relpath(digest),
        len(mail.raw),
        mail.received_at.isoformat(),
        mail.time_source,
    )

    def record() -> None:
        source.record(ledger, mail, row.id, digest)

    if row.attempts > ctx.max_attempts:  # it crashed the worker every time: stop trying
        with ledger.transaction():
            ledger.finish_message(row.id, status="review", reason="处理时多次中断，请人工处理")
            record()
            ledger.bump_generation()
        return Outcome("review", message=row.id)
    return process(ledger, row, mail.raw, ctx, record)


@dataclass(frozen=True)
class Overrides:
    """Staff corrections that bear on one message (later corrections win)."""

    excluded: str = ""  # reason, when the whole message is excluded
    unit: tuple[str, str] | None = None  # (unit, reason)
    file_unit: dict[str, tuple[str, str]] = field(default_factory=dict)
    file_category: dict[str, tuple[str, str]] = field(default_factory=dict)
    file_excluded: dict[str, str] = field(default_factory=dict)


def overrides_for(ledger: Ledger, sha256: str) -> Overrides:
    excluded, unit = "", None
    file_unit: dict[str, tuple[str, str]] = {}
    file_category: dict[str, tuple[str, str]] = {}
    file_excluded: dict[str, str] = {}
    for c in ledger.corrections(target_prefix=sha256):
        if c.kind == "exclude_message" and c.target == sha256:
            excluded = c.reason or "工作人员排除"
        elif c.kind == "assign_message" and c.target == sha256:
            unit, excluded = (c.value, c.reason), ""
        elif c.target.startswith(f"{sha256}/"):
            key = c.target.split("/", 1)[1]
            if c.kind == "assign_file":
                file_unit[key] = (c.value, c.reason)
            elif c.kind == "exclude_file":
                file_excluded[key] = c.reason or "工作人员排除"
    # A category belongs to the content (SPEC: all rows of one sha256 agree), not to one mail.
    for c in ledger.corrections(kind="set_category"):
        file_category[c.target] = (c.value, c.reason)
    return Overrides(excluded, unit, file_unit, file_category, file_excluded)


def process(
    ledger: Ledger,
    row: MessageRow,
    raw: bytes,
    ctx: Context,
    record=None,
    ignore: frozenset[int] = frozenset(),
) -> Outcome:
    """Sort a recorded message and commit its effects in one transaction.

    A failure of the mail (a parser bug it triggers) is recorded against it and retried later;
    a failure of the data folder (full, read-only) is raised: it fails the poll, not the mail.
    """
    # The parsing, archive, document and image libraries load with the first message: a poll
    # that finds nothing never pays for them.
    from parsers.mail import parse_mail
    from parsers.sort import sort_mail

    staging = ctx.data_dir / "tmp" / str(row.id)
    try:
        try:
            parsed = parse_mail(raw)
            sorted_mail = sort_mail(parsed, staging, ctx.registry, ctx.rules, ledger.sender_map())
        except Exception as exc:  # one bad mail must never stop a run: record it and go on
            if data_folder_unusable(exc):
                raise
            return _failed(ledger, row, ctx, record, exc)
        return _commit(ledger, row, sorted_mail, ctx, record, ignore)
    except Exception as exc:
        if data_folder_unusable(exc):
            _uncount_attempt(ledger, row)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _failed(ledger: Ledger, row: MessageRow, ctx: Context, record, exc: Exception) -> Outcome:
    log.exception("message %s failed to process", row.sha256[:12])
    final = row.attempts >= ctx.max_attempts
    with ledger.transaction():
        ledger.finish_message(
            row.id,
            status="review" if final else "failed",
            reason=f"多次处理失败，请人工处理（{type(exc).__name__}）" if final else "",
            error=f"{type(exc).__name__}: {exc}"[:500],
        )
        if record:
            record()
        ledger.bump_generation()
    return Outcome("failed", message=row.id)


def _uncount_attempt(ledger: Ledger, row: MessageRow) -> None:
    """Give back the attempt ``begin_message`` counted (best effort: the disk may be full)."""
    with contextlib.suppress(Exception), ledger.transaction():
        ledger.finish_message(row.id, attempts=max(row.attempts - 1, 0))


def _status(sorted_mail: SortedMail, unit: str | None, overrides: Overrides) -> tuple[str, str]:
    from parsers.sort import DEFECT_LABELS, NATURE_LABELS

    if overrides.excluded:
        return "excluded", f"工作人员已排除：{overrides.excluded}"
    if overrides.unit is not None:
        return "done", ""
    if sorted_mail.nature:
        return "ignored", f"非报送邮件：{NATURE_LABELS.get(sorted_mail.nature, sorted_mail.nature)}"
    if unit is None:
        return "review", sorted_mail.attribution.reason
    if sorted_mail.defects:  # a broken structure may have hidden parts: staff should look
        defects = "；".join(dict.fromkeys(DEFECT_LABELS.get(d, d) for d in sorted_mail.defects))
        return "done", f"邮件结构有缺陷（{defects}），附件可能不完整，请核对原邮件"
    return "done", ""


def _attribution(sorted_mail: SortedMail, overrides: Overrides) -> tuple[str | None, str, str]:
    """(unit, level, evidence) of the message: a staff assignment wins over the evidence."""
    attribution = sorted_mail.attribution
    if overrides.unit is None:
        return attribution.unit, attribution.level, attribution.evidence
    unit_name, why = overrides.unit
    return unit_name, "manual", f"工作人员指定：{why}" if why else "工作人员指定"


def _file_record(
    item,
    overrides: Overrides,
    message_unit: str | None,
    placer: Placer,
    moves: list[tuple[Path, str]],
) -> FileRecord:
    """One file of the message as the ledger keeps it, placed in the materials tree.

    A file stored for the first time is appended to ``moves`` (staged path, final path).
    """
    key = item.sha256 if item.kind == "file" and item.sha256 else item.filename
    unit = overrides.file_unit.get(key, (message_unit, ""))[0]
    kind, category, note = item.kind, item.category, item.note
    review_reason = item.review_reason
    forced = key in overrides.file_category and item.kind in ("file", "link")
    if forced:
        category = overrides.file_category[key][0]
        review_reason = ""
        note = f"类别由工作人员更正：{overrides.file_category[key][1]}".rstrip("：")
    if key in overrides.file_excluded:
        kind, review_reason = "excluded", ""
        note = f"工作人员已排除：{overrides.file_excluded[key]}"
    path = ""
    if kind == "file" and item.staged is not None:
        path, category, is_new = placer.place(unit, item.sha256, category, item.store_name, forced)
        if is_new:
            moves.append((item.staged, path))
    return FileRecord(
        item.seq,
        kind,
        item.filename,
        item.sender,
        unit,
        category,
        item.evidence,
        item.size,
        item.sha256,
        path,
        item.link_code,
        note,
        review_reason,
    )


def _store_outcome(
    ledger: Ledger,
    row: MessageRow,
    sorted_mail: SortedMail,
    records: list[FileRecord],
    attributed: tuple[str | None, str, str],
    status: tuple[str, str],
) -> None:
    """The message's rows (inside the caller's transaction): files, documents, outcome."""
    message_unit, level, evidence = attributed
    ledger.clear_files(row.id)
    ledger.add_files(row.id, records)
    for item in sorted_mail.files:
        if item.document is not None and item.sha256:
            doc = item.document
            ledger.add_document(
                item.sha256,
                doc.title,
                doc.text[:MAX_DOCUMENT_TEXT],
                doc.has_text_layer,
                doc.problem,
            )
    ledger.finish_message(
        row.id,
        message_id=sorted_mail.message_id,
        sender=sorted_mail.sender,
        sender_name=sorted_mail.sender_name,
        subject=sorted_mail.subject,
        unit=message_unit,
        unit_level=level if message_unit else "",
        unit_evidence=evidence if message_unit else "",
        candidates=";".join(sorted_mail.attribution.candidates),
        nature=sorted_mail.nature,
        status=status[0],
        reason=status[1],
        error="",
    )


def _commit(
    ledger: Ledger,
    row: MessageRow,
    sorted_mail: SortedMail,
    ctx: Context,
    record,
    ignore: frozenset[int],
) -> Outcome:
    """Place the files, then write every effect of the message in one transaction."""
    overrides = overrides_for(ledger, row.sha256)
    attribution_unit, level, evidence = _attribution(sorted_mail, overrides)
    status, reason = _status(sorted_mail, attribution_unit, overrides)
    message_unit = attribution_unit if status in ("done", "review") else None
    placer = Placer(ledger, ignore | {row.id}, relative_budget(ctx.data_dir))
    moves: list[tuple[Path, str]] = []
    records = [
        _file_record(item, overrides, message_unit, placer, moves)
        for item in (sorted_mail.files if status != "excluded" else ())
    ]
    old_paths = ledger.message_paths(row.id)
    for staged, path in moves:
        move_into_place(ctx.data_dir, staged, path)
    with ledger.transaction():
        _store_outcome(
            ledger, row, sorted_mail, records, (message_unit, level, evidence), (status, reason)
        )
        sender = sorted_mail.sender
        learnable = sorted_mail.learnable and overrides.unit is None and status == "done"
        if message_unit and learnable and sender and not ctx.registry.by_email(sender):
            ledger.learn_sender(sender, message_unit, row.id)
        if record:
            record()
        ledger.bump_generation()
    remove_unreferenced(ledger, ctx.data_dir, old_paths - {path for _, path in moves})
    return Outcome(status, message_unit, len(moves), row.id)
