"""One message, start to finish: raw store → parse → sort → place files → one ledger commit."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from intake.ledger import FileRecord, Ledger, MessageRow
from intake.materials import Placer, move_into_place
from intake.models import RawMail
from intake.rawstore import RawStore
from parsers.mail import parse_mail
from parsers.sort import NATURE_LABELS, SortedMail, SortRules, sort_mail
from parsers.units import Registry

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
    status: str  # done | review | ignored | failed | duplicate
    unit: str | None = None
    stored: int = 0  # new files written to the materials tree


class Source:  # the two methods of a mailbox source that processing uses (typing aid)
    def record(self, ledger: Ledger, mail: RawMail, message: int, sha256: str) -> None: ...


def ingest(ledger: Ledger, source: Source, mail: RawMail, ctx: Context) -> Outcome:
    """Take one new message from a source exactly once."""
    store = RawStore(ctx.data_dir)
    digest = store.put(mail.raw)  # on disk before anything else happens
    known = ledger.message_by_sha(digest)
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
        return Outcome("review")
    return process(ledger, row, mail.raw, ctx, record)


def process(ledger: Ledger, row: MessageRow, raw: bytes, ctx: Context, record=None) -> Outcome:
    """Sort a recorded message and commit its effects in one transaction."""
    staging = ctx.data_dir / "tmp" / str(row.id)
    try:
        parsed = parse_mail(raw)
        sorted_mail = sort_mail(parsed, staging, ctx.registry, ctx.rules, ledger.sender_map())
    except Exception as exc:  # one bad mail must never stop a run: record it and go on
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
        shutil.rmtree(staging, ignore_errors=True)
        return Outcome("failed")
    outcome = _commit(ledger, row, sorted_mail, ctx, record)
    shutil.rmtree(staging, ignore_errors=True)
    return outcome


def _status(sorted_mail: SortedMail) -> tuple[str, str]:
    if sorted_mail.nature:
        return "ignored", f"非报送邮件：{NATURE_LABELS.get(sorted_mail.nature, sorted_mail.nature)}"
    if sorted_mail.attribution.unit is None:
        return "review", sorted_mail.attribution.reason
    return "done", ""


def _commit(ledger: Ledger, row: MessageRow, sorted_mail: SortedMail, ctx: Context, record):
    unit = sorted_mail.attribution.unit
    status, reason = _status(sorted_mail)
    placer = Placer.for_message(ledger, unit)
    records: list[FileRecord] = []
    moves: list[tuple[Path, str]] = []
    for item in sorted_mail.files:
        path, category = "", item.category
        if item.kind == "file" and item.staged is not None:
            path, category, is_new = placer.place(item.sha256, item.category, item.store_name)
            if is_new:
                moves.append((item.staged, path))
        records.append(
            FileRecord(
                item.seq,
                item.kind,
                item.filename,
                item.sender,
                unit,
                category,
                item.evidence,
                item.size,
                item.sha256,
                path,
                item.link_code,
                item.note,
                item.review_reason,
            )
        )
    for staged, path in moves:
        move_into_place(ctx.data_dir, staged, path)
    attribution = sorted_mail.attribution
    with ledger.transaction():
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
            unit=unit,
            unit_level=attribution.level,
            unit_evidence=attribution.evidence,
            candidates=";".join(attribution.candidates),
            nature=sorted_mail.nature,
            status=status,
            reason=reason,
            error="",
        )
        sender = sorted_mail.sender
        if unit and sorted_mail.learnable and sender and not ctx.registry.by_email(sender):
            ledger.learn_sender(sorted_mail.sender, unit, row.id)
        if record:
            record()
        ledger.bump_generation()
    return Outcome(status, unit, len(moves))
