"""py7zr glue for parsers.archives: writers that stream each 7z member into a capped sink.

Its own module so that py7zr (and its compression libraries) load only when a 7z archive
arrives; parsers.archives imports it there.
"""

from __future__ import annotations

from typing import IO

import py7zr
import py7zr.exceptions
from py7zr.io import Py7zIO, WriterFactory

from parsers.archives import Member, _FormatError, _Job, _Run, _Sink


class SinkFactory(WriterFactory):
    """py7zr calls create() per member; each writer is a capped _Sink on the planned path."""

    def __init__(self, run: _Run, jobs: list[_Job]) -> None:
        self.run = run
        self.by_key = {job.key: job for job in jobs}
        self.current: _Job | None = None

    def create(self, filename: str) -> Py7zIO:
        job = self.by_key.get(filename)
        if job is None:
            return _DiscardIO()
        self.current = job
        job.sink = _Sink(self.run, job.target, job.compressed)
        return _SinkIO(job, self)


class _SinkIO(Py7zIO):
    def __init__(self, job: _Job, factory: SinkFactory) -> None:
        self.job = job
        self.factory = factory

    def write(self, s: bytes | bytearray) -> int:
        assert self.job.sink is not None
        return self.job.sink.write(s)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return self.job.sink.written if self.job.sink else 0

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        sink = self.job.sink
        if sink is not None and sink.fd is not None:
            sink.close()
            self.job.member = Member(self.job.name, self.job.target, sink.written)
            if self.factory.current is self.job:
                self.factory.current = None


class _DiscardIO(Py7zIO):
    def write(self, s: bytes | bytearray) -> int:
        return len(s)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return 0

    def seekable(self) -> bool:
        return False


def open_7z(fh: IO[bytes], max_extract_size: int | None = None) -> py7zr.SevenZipFile:
    try:
        return py7zr.SevenZipFile(fh, mode="r", max_extract_size=max_extract_size)
    except py7zr.exceptions.PasswordRequired as exc:
        raise _FormatError("encrypted") from exc
    except py7zr.exceptions.UnsupportedCompressionMethodError as exc:
        raise _FormatError("unsupported") from exc
    except Exception as exc:  # Bad7zFile, EOFError, struct.error, lzma errors on damaged input
        raise _FormatError("corrupt") from exc
