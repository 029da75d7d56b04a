"""The log file, rotated at a size limit, also when several processes write it on Windows.

``watch`` (or the console) and a staff command (``report``, a correction) may log to the same
file at once. Windows refuses to rename a file another process holds open, so the standard
rotation fails there and ``logging`` prints a traceback for every later line. Here a refused
rotation is skipped and tried again a minute later; the lines go on into the current file.
"""

from __future__ import annotations

import logging.handlers
import time

RETRY_AFTER_S = 60.0


class RotatingLog(logging.handlers.RotatingFileHandler):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._next_try = 0.0

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        if time.monotonic() < self._next_try:
            return False
        return bool(super().shouldRollover(record))

    def doRollover(self) -> None:
        try:
            super().doRollover()
        except PermissionError:  # another process has the file open (Windows)
            self._next_try = time.monotonic() + RETRY_AFTER_S
            if self.stream is None:
                self.stream = self._open()
