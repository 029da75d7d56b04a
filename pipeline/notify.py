"""The office's outgoing mail, wired to the ledger: receipts, reminders and the daily digest.

Composition and sending live in ``outbox``; this module decides who gets what, and logs every
mail in the ledger before it is sent (at most once: a crash after logging never resends).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING

from intake.ledger import Ledger
from outbox import REASONS, Outbox, PasswordMissing, SmtpSettings, allowed, no_reply_reason
from outbox import digest as compose_digest
from outbox import receipt as compose_receipt
from outbox import reminder as compose_reminder
from outbox.address import addr_spec, from_addresses
from parsers.units import Registry
from pipeline.config import Config

if TYPE_CHECKING:
    from outputs.tables import ReportTables

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotifyResult:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    error: str = ""  # a configuration problem (e.g. the SMTP password variable is unset)


def office_address(config: Config) -> str:
    """The From of outgoing mail: the first listed office address, else the login."""
    return (
        next(iter(config.campaign.office_addresses), "")
        or config.smtp.username
        or config.mailbox.username
    )


def open_outbox(config: Config) -> Outbox:
    s = config.smtp
    settings = SmtpSettings(
        host=s.host,
        port=s.port,
        security=s.security,
        username=config.mailbox.username if s.username is None else s.username,
        password_env=s.password_env or config.mailbox.password_env,
        timeout_s=s.timeout_s,
        verify_tls=s.verify_tls,
    )
    return Outbox(settings, config.data_dir / "outbox", dry_run=config.notify.dry_run)


def _send(ledger: Ledger, outbox: Outbox, kind, unit, recipient, message, mail, now) -> str:
    """Log, then send; returns the final status."""
    with ledger.transaction():
        sent = ledger.log_sent(
            kind, unit, recipient, message, str(mail["Subject"]), "pending", "", now.isoformat()
        )
    result = outbox.send(mail)
    with ledger.transaction():
        ledger.update_sent(sent, result.status, result.error)
        ledger.bump_generation()
    if result.status == "failed":
        log.warning("%s to %s failed: %s", kind, recipient, result.error)
    return result.status


def _unit_row(tables: ReportTables, unit: str | None) -> dict:
    if not unit:
        return {}
    rows = tables.units[tables.units["unit"] == unit]
    return rows.iloc[0].to_dict() if len(rows) else {}


def _missing(row: dict) -> list[str]:
    return [code for code in str(row.get("missing", "") or "").split(";") if code]


SKIP_LABELS = {**REASONS, "rate_limited": "超过每日回执上限", "sender_unclear": "发件地址不明确"}


def _recipients_for(info: dict, head: bytes, registry: Registry) -> list[str]:
    """Where a receipt may go: the sender, when the mail's own From header names exactly that
    one address; else the unit's registered addresses; never a display name's text."""
    sender = addr_spec(info["sender"])
    if sender is not None and from_addresses(head) == [sender.lower()]:
        return [sender]
    emails = next((u.emails for u in registry.units if u.name == info["unit"]), ())
    return [address for address in map(addr_spec, emails) if address]


def _skip(ledger: Ledger, message: int, info: dict, reason: str, now: datetime) -> None:
    """A receipt decided against is logged too: the message is answered, never retried."""
    log.info("no receipt for message %s: %s", message, reason)
    with ledger.transaction():
        ledger.log_sent("receipt", info["unit"], info["sender"] or "", message, info["subject"],
                        "skipped", SKIP_LABELS.get(reason, reason), now.isoformat())  # fmt: skip
        ledger.bump_generation()


def _compose_receipt(config: Config, ledger: Ledger, tables, info, message, to, now):
    row = _unit_row(tables, info["unit"])
    received = datetime.fromisoformat(info["received_at"])
    return compose_receipt(
        office=config.campaign.office,
        office_address=office_address(config),
        to=to,
        unit=info["unit"],
        subject=info["subject"],
        message_id=info["message_id"],
        received_at=received.astimezone(config.campaign.deadline.tzinfo),
        files=[(name, category) for name, category, _ in ledger.message_files(message)],
        unit_counts={
            k: int(row.get(k, 0) or 0)
            for k in ("photos", "reports", "deeds", "videos", "video_links")
        },
        missing=_missing(row),
        deadline=config.campaign.deadline,
        late=received > config.campaign.deadline,
        review_reason=info["reason"] if info["status"] == "review" else "",
        now=now,
    )


def _receipt_to(ledger, config, registry, info, own, now) -> tuple[list[str], str]:
    """(recipients, "") for a receipt that may go out, else ([], the reason it may not)."""
    raw = (config.data_dir / info["raw_path"]).read_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    reason = no_reply_reason(head, info["sender"], own)
    if reason:
        return [], reason
    to = _recipients_for(info, head, registry)
    if not to:
        return [], "sender_unclear"
    times = [datetime.fromisoformat(t) for t in ledger.sent_times("receipt", recipient=to[0])]
    if not allowed(times, now, config.notify.receipts_per_day):
        return [], "rate_limited"
    return to, ""


def send_receipts(
    ledger: Ledger,
    config: Config,
    registry: Registry,
    tables: ReportTables,
    messages: list[int],
    now: datetime,
) -> NotifyResult:
    """One receipt per submission, never to auto-replies, lists, bounces or ourselves, and only
    to the plain address the mail came from (or the unit's registered one)."""
    own = {office_address(config), *config.campaign.office_addresses}
    own = {a.lower() for a in own if a}
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    try:
        with open_outbox(config) as outbox:
            for message in messages:
                info = ledger.message_info(message)
                if not info or info["status"] not in ("done", "review"):
                    continue
                if ledger.receipt_sent(message):
                    continue
                to, reason = _receipt_to(ledger, config, registry, info, own, now)
                if reason:
                    _skip(ledger, message, info, reason, now)
                    counts["skipped"] += 1
                    continue
                mail = _compose_receipt(config, ledger, tables, info, message, to, now)
                status = _send(ledger, outbox, "receipt", info["unit"], ";".join(to), message,
                               mail, now)  # fmt: skip
                counts["failed" if status == "failed" else "sent"] += 1
    except PasswordMissing as exc:
        return NotifyResult(**counts, error=str(exc))
    return NotifyResult(**counts)


@dataclass(frozen=True)
class PlannedReminder:
    """One 催报 as it would go out now, or why it would not."""

    unit: str
    to: tuple[str, ...]
    mail: EmailMessage | None  # None when skipped
    skip: str = ""  # Chinese reason when skipped


def plan_reminders(
    ledger: Ledger,
    config: Config,
    registry: Registry,
    tables: ReportTables,
    now: datetime,
    only: frozenset[str] | None = None,
) -> list[PlannedReminder]:
    """Every unit not submitted or incomplete (``only``: just these), with the exact mail."""
    interval = timedelta(days=config.notify.reminders.interval_days)
    emails = {unit.name: list(unit.emails) for unit in registry.units}
    sender_known = "@" in office_address(config)
    planned = []
    for row in tables.units.to_dict("records"):
        if (row["submitted"] and row["complete"]) or (only is not None and row["unit"] not in only):
            continue
        to = [a for a in map(addr_spec, emails.get(row["unit"], [])) if a]
        last = ledger.sent_times("reminder", unit=row["unit"])
        if not to:
            planned.append(PlannedReminder(row["unit"], (), None, "名录中没有该单位的邮箱"))
            continue
        if not sender_known:
            skip = "未配置本办发信地址（campaign.office_addresses）"
            planned.append(PlannedReminder(row["unit"], tuple(to), None, skip))
            continue
        if last and now - datetime.fromisoformat(last[-1]) < interval:
            skip = f"{config.notify.reminders.interval_days:g} 天内已催报过"
            planned.append(PlannedReminder(row["unit"], tuple(to), None, skip))
            continue
        mail = compose_reminder(
            office=config.campaign.office,
            office_address=office_address(config),
            to=to,
            unit=row["unit"],
            missing=_missing(row),
            submitted=bool(row["submitted"]),
            deadline=config.campaign.deadline,
            now=now,
        )
        planned.append(PlannedReminder(row["unit"], tuple(to), mail))
    return planned


def send_reminders(
    ledger: Ledger,
    config: Config,
    registry: Registry,
    tables: ReportTables,
    now: datetime,
    only: frozenset[str] | None = None,
) -> NotifyResult:
    """催报: every registered unit not submitted or incomplete, at most once per interval."""
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    try:
        with open_outbox(config) as outbox:
            for plan in plan_reminders(ledger, config, registry, tables, now, only):
                if plan.mail is None:
                    counts["skipped"] += 1
                    continue
                status = _send(ledger, outbox, "reminder", plan.unit, ";".join(plan.to), None,
                               plan.mail, now)  # fmt: skip
                counts["failed" if status == "failed" else "sent"] += 1
    except PasswordMissing as exc:
        return NotifyResult(**counts, error=str(exc))
    return NotifyResult(**counts)


def send_digest(ledger: Ledger, config: Config, tables: ReportTables, now: datetime):
    """每日汇总 to the office: what came in since the last digest and what is still missing."""
    since = ledger.get_state("last_digest_at") or (now - timedelta(days=1)).isoformat()
    new_messages, new_units = ledger.count_received_since(
        datetime.fromisoformat(since).astimezone(UTC).isoformat()
    )
    units = tables.units
    to = config.notify.digest.to or [office_address(config)]
    mail = compose_digest(
        office=config.campaign.office,
        office_address=office_address(config),
        to=to,
        now=now,
        deadline=config.campaign.deadline,
        new_messages=new_messages,
        new_units=new_units,
        review_count=len(tables.review),
        missing_units=units.loc[~units["submitted"], "unit"].tolist(),
        incomplete_units=units.loc[units["submitted"] & ~units["complete"], "unit"].tolist(),
    )
    try:
        with open_outbox(config) as outbox:
            status = _send(ledger, outbox, "digest", None, ";".join(to), None, mail, now)
    except PasswordMissing as exc:
        return NotifyResult(error=str(exc))
    with ledger.transaction():
        ledger.set_state("last_digest_at", now.isoformat())
    return NotifyResult(sent=int(status != "failed"), failed=int(status == "failed"))


def daily_due(ledger: Ledger, key: str, hour: int, now: datetime) -> bool:
    """A daily job runs once per local day, at or after ``hour``."""
    today = now.date().isoformat()
    return now.hour >= hour and ledger.get_state(key) != today


def mark_daily(ledger: Ledger, key: str, now: datetime) -> None:
    with ledger.transaction():
        ledger.set_state(key, now.date().isoformat())


def days_left(config: Config, now: datetime) -> int:
    deadline = config.campaign.deadline
    return (deadline.date() - now.astimezone(deadline.tzinfo).date()).days
