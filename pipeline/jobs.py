"""The commands: poll once, watch, rebuild reports, reprocess. Wiring only; logic lives below."""

from __future__ import annotations

import contextlib
import functools
import logging
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout

from intake.ledger import Ledger
from intake.models import IntakeError, RawMail
from intake.rawstore import RawStore
from parsers.tools import find_tools
from parsers.units import Registry, load_registry
from pipeline.config import Config, ConfigError
from pipeline.faults import BusyError, describe
from pipeline.notify import (
    NotifyResult,
    daily_due,
    days_left,
    mark_daily,
    send_digest,
    send_receipts,
    send_reminders,
)
from pipeline.process import Context, ingest, process
from pipeline.reports import (
    ALERT_AFTER,
    FAILURES,
    LAST_FAILURE,
    ReportSummary,
    reports_current,
    write_reports,
)

log = logging.getLogger(__name__)
RECEIPTS_FROM = "receipts_from_message"  # first message id owed a receipt ("" while off)
PREFETCH_FROM = 20  # a poll this large measures photos beside the parsing (see media.Prefetch)
PROGRESS_FROM = 20  # show a progress bar when a poll brings at least this many mails
LEDGER_WAIT_S = 600  # how long a command waits for a running poll before giving up


@dataclass
class PollSummary:
    new: int = 0
    duplicates: int = 0
    stored: int = 0
    units: set[str] = field(default_factory=set)
    review: int = 0
    failed: int = 0
    messages: list[int] = field(default_factory=list)  # ledger ids of the new messages
    report: ReportSummary | None = None
    notices: list[str] = field(default_factory=list)  # Chinese lines about outgoing mail
    error: str = ""  # one Chinese line when the poll failed
    failure: Exception | None = field(default=None, repr=False)  # what failed, for the CLI
    failures: int = 0  # failed polls in a row, this one included (0 after a good poll)


@contextlib.contextmanager
def _locked(path: Path, wait_s: float, busy: str) -> Iterator[None]:
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=wait_s)
    except Timeout:
        raise BusyError(busy) from None
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def poller(config: Config) -> Iterator[None]:
    """One mailbox worker (once, watch, reprocess) per data folder; a second one is refused."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    busy = f"另一个收取任务正在使用数据目录 {config.data_dir}，请勿同时运行两个"
    with _locked(config.data_dir / ".worker.lock", 0, busy):
        yield


@contextlib.contextmanager
def session(config: Config) -> Iterator[tuple[Ledger, Registry]]:
    """Exclusive use of the ledger for one operation, waiting for a running poll to finish.

    `watch` holds it only while it polls, so staff can correct and rebuild reports meanwhile.
    """
    data = config.data_dir
    data.mkdir(parents=True, exist_ok=True)
    busy = f"数据目录 {data} 被另一个任务占用超过 {LEDGER_WAIT_S // 60} 分钟，请稍后再试"
    with _locked(data / ".ledger.lock", LEDGER_WAIT_S, busy):
        # Leftovers of an interrupted run: scratch files, half-written report temp files.
        shutil.rmtree(data / "tmp", ignore_errors=True)
        for stale in config.reports_dir.rglob(".*.tmp") if config.reports_dir.is_dir() else ():
            with contextlib.suppress(OSError):  # held for a moment by a scanner (Windows)
                stale.unlink(missing_ok=True)
        registry = load_registry(config.units_file)  # fresh: the office may have edited it
        with Ledger(data / "ledger.sqlite3") as ledger:
            yield ledger, registry


@contextlib.contextmanager
def worker(config: Config) -> Iterator[tuple[Ledger, Registry]]:
    """A mailbox worker's whole run: the poller lock and the ledger."""
    with poller(config), session(config) as opened:
        yield opened


def _context(config: Config, registry: Registry) -> Context:
    # The sorting stack (archives, documents, images) loads only when a message is processed.
    from parsers.archives import ArchiveLimits
    from parsers.sort import SortRules

    s = config.sorting
    rules = SortRules(
        keywords={k: tuple(v) for k, v in s.keywords.items()},
        inline_min_bytes=s.inline_image_min_bytes,
        inline_min_px=s.inline_image_min_px,
        link_hosts=s.all_link_hosts(),
        circular_min_units=s.circular_min_units,
        office_addresses=frozenset(
            a.lower() for a in [*config.campaign.office_addresses, config.mailbox.username] if a
        ),
        limits=ArchiveLimits(
            max_total_bytes=s.archive_max_total_mb * 1024**2,
            max_members=s.archive_max_members,
            max_ratio=s.archive_max_ratio,
            max_depth=s.archive_max_depth,
        ),
        document_timeout_s=s.document_timeout_s,
        tools=find_tools(config.tools.model_dump()),
    )
    return Context(config.data_dir, registry, rules, s.max_attempts)


def _source(config: Config):
    if config.mailbox.source == "folder":
        from intake.folder import FolderSource

        return FolderSource(config.mailbox.path)
    from intake.imap import ImapSource

    return ImapSource(config.mailbox, config.mailbox.password())


def _tally(summary: PollSummary, outcome) -> None:
    if outcome.status == "duplicate":
        summary.duplicates += 1
        return
    summary.new += 1
    summary.stored += outcome.stored
    if outcome.message is not None:
        summary.messages.append(outcome.message)
    if outcome.unit:
        summary.units.add(outcome.unit)
    summary.review += outcome.status == "review"
    summary.failed += outcome.status == "failed"


def _progress_bar(pending: int):
    """A terminal progress bar for a large poll; nothing (and no tqdm import) for a small one."""
    if pending < PROGRESS_FROM:
        return contextlib.nullcontext(None)
    from tqdm import tqdm

    return tqdm(total=pending, unit="封", desc="收取邮件", disable=None, file=sys.stderr)


def _groups(mails: Iterator[RawMail], mailbox) -> Iterator[list[RawMail]]:
    """Consecutive mails, at most a fetch batch's worth (count and bytes) at a time.

    When the mailbox fails halfway, the mails already fetched are still handed out (and
    stored) before the failure goes on.
    """
    group: list[RawMail] = []
    size = 0
    try:
        for mail in mails:
            group.append(mail)
            size += len(mail.raw)
            if len(group) >= mailbox.batch_size or size >= mailbox.batch_bytes // 2:
                yield group
                group, size = [], 0
    except Exception:
        if group:
            yield group
        raise
    if group:
        yield group


def _durable(groups: Iterator[list[RawMail]], store: RawStore):
    """Each group with its digests, once its raw mails are on disk.

    The next group is fetched and written before this one is handed out, and flushed by a
    thread while the caller parses this one: the flush is one system call that waits for the
    disk without the GIL. The ledger still records a mail only after its group's flush has
    returned; a group written but never recorded (a crash) is simply taken again.
    """
    from concurrent.futures import ThreadPoolExecutor

    from portable.atomic import flush_to_disk

    with ThreadPoolExecutor(1, thread_name_prefix="flush") as flusher:
        ahead, failure = None, None
        try:
            for group in groups:
                digests, written = store.write_all([m.raw for m in group])
                flushing = (group, digests, flusher.submit(flush_to_disk, written))
                if ahead is not None:
                    ahead[2].result()
                    yield ahead[0], ahead[1]
                ahead = flushing
        except Exception as exc:  # what came before a failure is still taken, then it goes on
            failure = exc
        if ahead is not None:
            ahead[2].result()
            yield ahead[0], ahead[1]
        if failure is not None:
            raise failure


def _prefetch(config: Config, ctx):
    from pipeline.media import Prefetch  # with the first message that stores a photo or video

    return Prefetch(config.data_dir, ctx().rules.tools)


def _take_new_mail(ledger: Ledger, config: Config, ctx, prefetch, summary, say, progress) -> None:
    """``ctx()`` builds the sorting context when the first message needs it; ``prefetch()``
    measures what each message stored while the next ones are parsed."""
    if say is not None and config.mailbox.source == "imap":
        say(f"正在连接邮箱 {config.mailbox.host}:{config.mailbox.port}…")
    with _source(config) as source:
        pending = source.count_new(ledger)
        store = RawStore(config.data_dir)
        with _progress_bar(pending) as bar:
            if progress:
                progress(0, pending)
            done = 0
            groups = _groups(source.new_mail(ledger), config.mailbox)
            for group, digests in _durable(groups, store):
                for mail, digest in zip(group, digests, strict=True):
                    outcome = ingest(ledger, source, mail, ctx(), digest)
                    _tally(summary, outcome)
                    if pending >= PREFETCH_FROM and outcome.stored and outcome.message:
                        prefetch().submit(ledger.stored_media(outcome.message))
                    done += 1
                    if bar is not None:
                        bar.update(1)
                    if progress:
                        progress(done, max(pending, done))
        summary.notices.extend(f"注意：{line}，已跳过" for line in source.skipped_folders)


def _count_failure(ledger: Ledger, summary: PollSummary, exc: Exception) -> None:
    """Record a failed poll: the log file gets the traceback, the summary and banner a line."""
    summary.failure = exc
    summary.error = describe(exc)[1]
    if isinstance(exc, IntakeError | ConfigError):  # already one Chinese line: no traceback
        log.warning("poll failed: %s", exc)
    else:
        log.warning("poll failed", exc_info=exc)
    with contextlib.suppress(Exception):  # the ledger itself may be what failed (a full disk)
        summary.failures = int(ledger.get_state(FAILURES, "0") or 0) + 1
        ledger.set_state(FAILURES, str(summary.failures))
        ledger.set_state(LAST_FAILURE, "mailbox" if isinstance(exc, IntakeError) else summary.error)
    if summary.failures >= ALERT_AFTER:
        log.warning("%d failed polls in a row", summary.failures)


def _store_measured(ledger: Ledger, prefetch) -> None:
    """The facts measured during the poll; they are only a cache, so a failure to keep them
    (a full disk) costs a new measurement at report time, never the poll."""
    try:
        prefetch.store(ledger)
    except Exception:
        log.warning("measurements made during the poll were not kept", exc_info=True)


def _retry_failed(ledger: Ledger, config: Config, ctx, summary: PollSummary) -> None:
    handled = set(summary.messages)  # a mail that just failed waits for the next poll
    for row in ledger.retryable(config.sorting.max_attempts):
        if row.id in handled:
            continue
        raw = (config.data_dir / row.raw_path).read_bytes()
        retried = ledger.begin_message(
            row.sha256, row.raw_path, len(raw), row.received_at, row.time_source
        )
        _tally(summary, process(ledger, retried, raw, ctx()))


def poll(
    ledger: Ledger, registry: Registry, config: Config, say=None, progress=None
) -> PollSummary:
    """Take every new message once and retry earlier failures.

    Never raises an ``Exception``: what was stored before a failure stays stored, and the
    failure (mailbox, disk, a bug) is in the summary and counts toward the reports' banner.
    ``say`` receives progress lines for a person (the connection attempt); ``progress(done,
    total)`` hears about every mail taken (the console shows it).
    """
    ctx = functools.cache(lambda: _context(config, registry))  # for the first message only
    prefetch = functools.cache(lambda: _prefetch(config, ctx))
    summary = PollSummary()
    try:
        _take_new_mail(ledger, config, ctx, prefetch, summary, say, progress)
    except Exception as exc:
        _count_failure(ledger, summary, exc)
        return summary
    finally:
        if prefetch.cache_info().currsize:
            _store_measured(ledger, prefetch())
    ledger.set_state(FAILURES, "0")
    _retry_failed(ledger, config, ctx, summary)
    return summary


def _receipts_start(ledger: Ledger, config: Config) -> None:
    """Receipts are owed for mail stored from the poll that found them on: never the history.

    The first message id of that poll is kept in the ledger; a poll with receipts off forgets
    it, so turning them on again starts afresh.
    """
    if not config.notify.receipts:
        ledger.set_state(RECEIPTS_FROM, "")
    elif not ledger.get_state(RECEIPTS_FROM):
        ledger.set_state(RECEIPTS_FROM, str(ledger.next_message_id()))


def _receipts(ledger: Ledger, registry: Registry, config: Config, summary, now) -> None:
    """Answer every message the ledger owes a receipt, whichever poll stored it."""
    if not config.notify.receipts:
        return
    owed = ledger.receipts_owed(int(ledger.get_state(RECEIPTS_FROM) or 1))
    if not owed:
        return
    tables = _tables(ledger, registry, config, now)
    result = send_receipts(ledger, config, registry, tables, owed, now)
    summary.notices.append(_say_notify("回执", result, config))


def _tables(ledger: Ledger, registry: Registry, config: Config, now: datetime):
    """The report tables, for mail that quotes them (loads the table stack on first use)."""
    from pipeline.tables import build_tables

    return build_tables(ledger, registry, config, now)


def _say_notify(kind: str, result: NotifyResult, config: Config) -> str:
    if result.error:  # the outbox writes "中文 / English": a person reads the Chinese half
        return f"{kind}未发送：{result.error.split(' / ')[0]}"
    where = "（演练模式，已写入 outbox 文件夹）" if config.notify.dry_run else ""
    line = f"{kind}：发出 {result.sent} 封{where}，跳过 {result.skipped} 封"
    return line + (f"，失败 {result.failed} 封" if result.failed else "") + "。"


def _daily(ledger: Ledger, registry: Registry, config: Config, now: datetime) -> list[str]:
    """Reminders on the configured days before the deadline, and the digest; once a day."""
    said = []
    reminders = config.notify.reminders
    if daily_due(ledger, "last_reminder_day", reminders.hour, now):
        if days_left(config, now) in reminders.days_before:
            tables = _tables(ledger, registry, config, now)
            result = send_reminders(ledger, config, registry, tables, now)
            said.append(_say_notify("催报", result, config))
        mark_daily(ledger, "last_reminder_day", now)
    digest = config.notify.digest
    if digest.enabled and daily_due(ledger, "last_digest_day", digest.hour, now):
        tables = _tables(ledger, registry, config, now)
        said.append(_say_notify("每日汇总", send_digest(ledger, config, tables, now), config))
        mark_daily(ledger, "last_digest_day", now)
    return said


def poll_cycle(
    ledger: Ledger,
    registry: Registry,
    config: Config,
    now: datetime,
    *,
    daily=False,
    say=None,
    progress=None,
) -> PollSummary:
    """One poll as `once`, `watch` and the console run it: new mail, the receipts the ledger
    owes, the daily reminders and digest (``daily``), the reports brought up to date.

    A poll that fails still answers and reports what it stored; the failure is in the summary.
    """
    _receipts_start(ledger, config)
    summary = poll(ledger, registry, config, say, progress)
    _receipts(ledger, registry, config, summary, now)
    if daily:
        summary.notices.extend(_daily(ledger, registry, config, now))
    if not reports_current(ledger, config):
        summary.report = write_reports(ledger, registry, config, now)
    return summary


def run_once(config: Config, now: datetime, say=None) -> PollSummary:
    """Poll once; a failed poll comes back with ``failure`` set (the CLI exits non-zero)."""
    with worker(config) as (ledger, registry):
        return poll_cycle(ledger, registry, config, now, say=say)


def run_remind(
    config: Config, now: datetime, only: frozenset[str] | None = None
) -> tuple[str, ReportSummary]:
    """催报 now, to every unit not submitted or incomplete (``only``: just these units),
    respecting the interval."""
    with session(config) as (ledger, registry):
        tables = _tables(ledger, registry, config, now)
        result = send_reminders(ledger, config, registry, tables, now, only)
        return _say_notify("催报", result, config), write_reports(ledger, registry, config, now)


def run_report(config: Config, now: datetime) -> ReportSummary:
    with session(config) as (ledger, registry):
        return write_reports(ledger, registry, config, now)


def run_reprocess(config: Config, now: datetime) -> tuple[PollSummary, ReportSummary]:
    """Sort every stored raw mail again (after a registry or keyword change); idempotent."""
    with worker(config) as (ledger, registry):
        ctx = _context(config, registry)
        with ledger.transaction():
            ledger.reset_sorting()
        shutil.rmtree(config.data_dir / "materials", ignore_errors=True)
        summary = PollSummary()
        for row in ledger.all_messages():
            raw = (config.data_dir / row.raw_path).read_bytes()
            fresh = ledger.begin_message(
                row.sha256, row.raw_path, len(raw), row.received_at, row.time_source
            )
            _tally(summary, process(ledger, fresh, raw, ctx))
        return summary, write_reports(ledger, registry, config, now)


def run_correction(config: Config, now: datetime, apply) -> tuple[str, ReportSummary]:
    """Apply one staff correction (``apply(ledger, ctx) -> message``), then rebuild reports."""
    with session(config) as (ledger, registry):
        message = apply(ledger, _context(config, registry))
        return message, write_reports(ledger, registry, config, now)


def watch_poll(
    config: Config, now: datetime, failures: int, say=None, progress=None
) -> PollSummary:
    """One poll of `watch` (and of the console's worker): never raises an ``Exception``.

    Whatever fails, the mailbox, the ledger, the disk, a bug, comes back in the summary with
    ``failures`` counting failed polls in a row (``failures`` is the count before this one, for
    when the ledger itself cannot be read); the traceback is in the log file.
    """
    try:
        with session(config) as (ledger, registry):
            summary = poll_cycle(
                ledger, registry, config, now, daily=True, say=say, progress=progress
            )
    except Exception as exc:
        log.warning("poll failed", exc_info=exc)
        summary = PollSummary(failure=exc, error=describe(exc)[1])
    if summary.failure is not None:
        summary.failures = max(summary.failures, failures + 1)
    return summary


def run_watch(
    config: Config, clock, on_poll, stop: threading.Event | None = None, say=None
) -> None:
    """Poll every ``schedule.poll_minutes`` until ``stop`` is set, Ctrl-C or SIGTERM.

    One worker per data folder; the ledger is held only during a poll, so corrections and
    `report` can run in between. ``on_poll(summary)`` hears about every poll, failed or not;
    a failing poll never ends the loop. ``say`` hears progress lines (the connection attempt).
    """
    stop = stop or threading.Event()
    with poller(config):
        failures = 0

        def job() -> None:
            nonlocal failures
            summary = watch_poll(config, clock(), failures, say)
            failures = summary.failures if summary.failure is not None else 0
            try:
                on_poll(summary)
            except Exception:  # a display problem must not end the worker either
                log.exception("on_poll failed")

        import schedule  # watch only

        scheduler = schedule.Scheduler()
        scheduler.every(config.schedule.poll_minutes).minutes.do(job)
        job()
        while not stop.is_set():
            scheduler.run_pending()
            # Short naps: time.sleep, unlike a lock wait, lets Ctrl-C through on Windows too.
            time.sleep(min(0.5, max(0.05, scheduler.idle_seconds or 0.5)))
