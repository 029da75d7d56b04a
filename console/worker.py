"""The polling worker inside ``serve``: the same scheduled cycle as ``watch``, in a thread, with a
status object that the 总览 page reads (last poll, next poll, progress, the last error in Chinese).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from pipeline.config import Config
from pipeline.jobs import watch_poll
from pipeline.reports import ALERT_AFTER

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    enabled: bool
    polling: bool
    done: int
    total: int
    last_poll: str  # "MM-DD HH:MM", "" before the first
    next_poll: str
    last_result: str  # Chinese line
    error: str  # Chinese line, "" when the last poll worked
    failures: int


class WorkerStatus:
    """Thread-safe state of the worker; the console reads snapshots."""

    def __init__(self, enabled: bool) -> None:
        self._lock = threading.Lock()
        self._state = Snapshot(enabled, False, 0, 0, "", "", "", "", 0)
        self.wake = threading.Event()  # 立即收取

    def update(self, **changes) -> None:
        with self._lock:
            self._state = Snapshot(**{**asdict(self._state), **changes})

    def snapshot(self) -> Snapshot:
        with self._lock:
            return self._state

    def as_dict(self) -> dict:
        return asdict(self.snapshot())


def _stamp(moment: datetime) -> str:
    return moment.strftime("%m-%d %H:%M:%S")


def _result_line(summary) -> str:
    line = f"新邮件 {summary.new} 封，存入文件 {summary.stored} 个"
    if summary.review:
        line += f"，待人工确认 {summary.review} 封"
    if summary.failed:
        line += f"，处理失败待重试 {summary.failed} 封"
    return "；".join([line + "。", *summary.notices])


class Worker(threading.Thread):
    """Polls every ``schedule.poll_minutes``; one poll's error never ends it."""

    def __init__(
        self,
        config: Config,
        status: WorkerStatus,
        clock: Callable[[], datetime],
        on_report: Callable[[object], None] = lambda report: None,
    ):
        super().__init__(name="poller", daemon=True)
        self.config, self.status, self.clock = config, status, clock
        self.on_report = on_report  # the console takes the rebuilt tables
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()
        self.status.wake.set()

    def run(self) -> None:
        interval = timedelta(minutes=self.config.schedule.poll_minutes)
        failures = 0
        while not self.stopping.is_set():
            failures = self._cycle(failures)
            next_at = self.clock() + interval
            self.status.update(next_poll=_stamp(next_at))
            self.status.wake.clear()
            self.status.wake.wait(max((next_at - self.clock()).total_seconds(), 0))

    def _cycle(self, failures: int) -> int:
        """One poll through the same function as `watch`; it never raises an ``Exception``."""
        status = self.status
        status.update(polling=True, done=0, total=0)
        summary = watch_poll(
            self.config,
            self.clock(),
            failures,
            progress=lambda done, total: status.update(done=done, total=total),
        )
        if summary.report is not None:
            self.on_report(summary.report)
        if summary.failure is None:
            status.update(polling=False, error="", failures=0, last_result=_result_line(summary))
        else:
            alert = (
                "【警告】已连续多次收取失败，请检查网络、授权码和磁盘。"
                if summary.failures >= ALERT_AFTER
                else ""
            )
            status.update(
                polling=False,
                error=f"收取失败：{summary.error}{alert}",
                failures=summary.failures,
                last_result=_result_line(summary) if summary.new else "",
            )
        status.update(last_poll=_stamp(self.clock()))
        return summary.failures if summary.failure is not None else 0
