"""The polling worker inside ``serve``: the same scheduled cycle as ``watch``, in a thread, with a
status object that the 总览 page reads (last poll, next poll, progress, the last error in Chinese).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from intake.models import IntakeError
from parsers.units import RegistryError
from pipeline.config import Config, ConfigError
from pipeline.jobs import BusyError, watch_cycle

log = logging.getLogger(__name__)
ALERT_AFTER = 3  # failed polls in a row before the console shouts


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
        status = self.status
        status.update(polling=True, done=0, total=0)
        try:
            summary, error = watch_cycle(
                self.config, self.clock(), lambda d, t: status.update(done=d, total=t)
            )
            if summary is not None and summary.report is not None:
                self.on_report(summary.report)
        except Exception as exc:  # a bug or a busy data folder: log it, say it, keep polling
            log.exception("poll failed")
            summary, error = None, exc
        if error is None:
            status.update(polling=False, error="", failures=0, last_result=_result_line(summary))
            failures = 0
        else:
            failures += 1
            if isinstance(error, IntakeError | BusyError | ConfigError | RegistryError):
                text = str(error)
            else:
                text = f"内部错误 {type(error).__name__}（详见 data/logs/pipeline.log）"
            alert = (
                "【警告】邮箱已连续多次无法收取，请检查网络和授权码。"
                if failures >= ALERT_AFTER
                else ""
            )
            status.update(
                polling=False, error=f"收取失败：{text}{alert}", failures=failures, last_result=""
            )
        status.update(last_poll=_stamp(self.clock()))
        return failures
