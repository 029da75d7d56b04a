"""Every failure a person may meet, as one Chinese line and an exit code.

The CLI, ``watch`` and the console show the same line for the same fault; the traceback goes to
the log file only. Faults of the machine (a full disk, a read-only or missing data folder) are
found anywhere in the exception's chain, also when a library wrapped the ``OSError`` or when
SQLite reported it.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from intake.ledger import LedgerError
from intake.models import IntakeError
from parsers.units import RegistryError
from pipeline.config import ConfigError
from pipeline.dates import DateError

__all__ = [
    "EXIT_BUSY",
    "EXIT_CONFIG",
    "EXIT_DATA",
    "EXIT_MAILBOX",
    "EXIT_UNEXPECTED",
    "BusyError",
    "CorrectionError",
    "data_folder_unusable",
    "describe",
    "machine_fault",
]

EXIT_UNEXPECTED, EXIT_CONFIG, EXIT_MAILBOX, EXIT_BUSY, EXIT_DATA = 1, 2, 3, 4, 5


class BusyError(Exception):
    """Another worker holds this data folder."""


class CorrectionError(Exception):
    """A staff correction that cannot be applied; the message is one Chinese line."""


_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_READ_ONLY = {errno.EROFS}
_DENIED = {errno.EACCES, errno.EPERM}
_NOT_FOLDER = {errno.ENOTDIR, errno.EEXIST, errno.EISDIR}
_SQLITE = {  # primary result codes (the low byte of an extended code)
    13: "磁盘已满",  # SQLITE_FULL
    8: "数据目录只读",  # SQLITE_READONLY
    3: "没有写入权限",  # SQLITE_PERM
    14: "无法打开数据库文件（数据目录不可写或不存在）",  # SQLITE_CANTOPEN
    10: "磁盘读写出错（磁盘已满或损坏）",  # SQLITE_IOERR
    11: "数据库文件已损坏",  # SQLITE_CORRUPT
    26: "数据库文件已损坏",  # SQLITE_NOTADB
}


def _chain(exc: BaseException):
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _os_fault(exc: OSError) -> str | None:
    where = f"：{exc.filename}" if exc.filename else ""
    if exc.errno in _NO_SPACE:
        return f"磁盘已满，无法写入{where}。请清理磁盘空间后重试"
    if exc.errno in _READ_ONLY:
        return f"数据目录只读，无法写入{where}。请换一个可写的 paths.data"
    if exc.errno in _DENIED:
        return f"没有写入权限{where}。请检查数据目录的权限，或换一个 paths.data"
    if exc.errno in _NOT_FOLDER:
        return f"不是文件夹{where}。paths.data 和 paths.reports 须指向文件夹"
    if exc.errno == errno.ENOENT and exc.filename:
        return f"找不到文件或文件夹{where}"
    if exc.errno is not None and not isinstance(exc, ConnectionError | TimeoutError):
        return f"文件读写失败{where}（错误码 {exc.errno}）"
    return None


def machine_fault(exc: BaseException) -> str | None:
    """The Chinese cause when ``exc`` comes from the disk or the data folder, else None."""
    for link in _chain(exc):
        if isinstance(link, OSError):
            line = _os_fault(link)
            if line:
                return line
        code = getattr(link, "sqlite_errorcode", None)
        if isinstance(link, sqlite3.Error) and code is not None and code & 0xFF in _SQLITE:
            return f"{_SQLITE[code & 0xFF]}（数据库 ledger.sqlite3）"
    return None


_UNUSABLE_ERRNO = _NO_SPACE | _READ_ONLY | _DENIED
_UNUSABLE_SQLITE = {13, 8, 3, 10}  # full, read-only, permission, I/O error


def data_folder_unusable(exc: BaseException) -> bool:
    """True when the data folder cannot take writes (full, read-only, no permission).

    Such a failure is the machine's, never the mail's: it must fail the poll, not count
    against the message being processed.
    """
    for link in _chain(exc):
        if isinstance(link, OSError) and link.errno in _UNUSABLE_ERRNO:
            return True
        code = getattr(link, "sqlite_errorcode", None)
        if isinstance(link, sqlite3.Error) and code is not None and code & 0xFF in _UNUSABLE_SQLITE:
            return True
    return False


def describe(exc: BaseException, log_path: Path | None = None) -> tuple[int, str]:
    """(exit code, one Chinese line) for any exception that reaches a person."""
    if isinstance(exc, ConfigError | RegistryError):
        return EXIT_CONFIG, f"配置错误：{exc}"
    if isinstance(exc, LedgerError):
        return EXIT_CONFIG, f"数据错误：{exc}"
    if isinstance(exc, CorrectionError | DateError):
        return EXIT_CONFIG, f"无法更正：{exc}"
    if isinstance(exc, BusyError):
        return EXIT_BUSY, f"错误：{exc}"
    if isinstance(exc, IntakeError):
        return EXIT_MAILBOX, f"邮箱错误：{exc}"
    fault = machine_fault(exc)
    if fault:
        return EXIT_DATA, f"数据目录故障：{fault}"
    where = f"详情已写入日志 {log_path}" if log_path else "日志文件也无法写入"
    return EXIT_UNEXPECTED, f"内部错误：程序遇到意外问题（{where}）"
