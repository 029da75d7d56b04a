"""What a person sees in the terminal: Chinese usage and errors, Chinese log lines.

``ArgumentParser`` speaks Chinese in its usage, help and errors (argparse's own messages are
translated by pattern, so every version's wording that we know is covered and anything else
still reads as Chinese). ``setup_logging`` keeps the English log file with tracebacks and shows
the console one Chinese line per record; a log file that cannot be written never crashes the
program and is never pointed to.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path

from intake.imap import network_cause
from portable.logfile import RotatingLog

__all__ = ["ArgumentParser", "console_line", "setup_logging", "translate_usage_error"]

_TYPES = {"float": "数字", "int": "整数"}


def _argument_detail(message: str) -> str:
    rules: list[tuple[str, Callable[[re.Match], str]]] = [
        (
            r"invalid choice: (.*) \(choose from (.*)\)",
            lambda m: f"无效的选择 {m[1]}（可选：{m[2]}）",
        ),
        (
            r"invalid (\w+) value: (.*)",
            lambda m: f"须为{_TYPES.get(m[1], '有效值')}，而不是 {m[2]}",
        ),
        (r"expected one argument", lambda m: "需要一个值"),
        (r"expected at most one argument", lambda m: "最多只能有一个值"),
        (r"expected at least one argument", lambda m: "至少需要一个值"),
        (r"expected (\d+) arguments?", lambda m: f"需要 {m[1]} 个值"),
        (r"ignored explicit argument (.*)", lambda m: f"不接受值 {m[1]}"),
        (r"not allowed with argument (.*)", lambda m: f"不能与 {m[1]} 同时使用"),
    ]
    for pattern, zh in rules:
        match = re.fullmatch(pattern, message)
        if match:
            return zh(match)
    return "取值有误"


def translate_usage_error(message: str) -> str:
    """argparse's English error message in Chinese (names and values kept as typed)."""
    rules: list[tuple[str, Callable[[re.Match], str]]] = [
        (r"the following arguments are required: (.*)", lambda m: f"缺少必需的参数：{m[1]}"),
        (r"unrecognized arguments: (.*)", lambda m: f"无法识别的参数：{m[1]}"),
        (r"argument (.+?): (.*)", lambda m: f"参数 {m[1]} {_argument_detail(m[2])}"),
        (
            r"ambiguous option: (.*) could match (.*)",
            lambda m: f"选项 {m[1]} 不明确，可能是 {m[2]}",
        ),
        (r"one of the arguments (.*) is required", lambda m: f"须提供以下参数之一：{m[1]}"),
        (r"can't open '(.*)': .*", lambda m: f"无法打开文件 {m[1]}"),
    ]
    for pattern, zh in rules:
        match = re.fullmatch(pattern, message, flags=re.DOTALL)
        if match:
            return zh(match)
    return "命令行参数有误"


class _HelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class ArgumentParser(argparse.ArgumentParser):
    """argparse, in Chinese; sub-commands made by ``add_subparsers`` are of this class too."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", help="显示本帮助并退出")

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"错误：{translate_usage_error(message)}（用 --help 查看用法）\n")


# -- logging ----------------------------------------------------------------------------------
_LEVELS = {
    "DEBUG": "调试",
    "INFO": "信息",
    "WARNING": "警告",
    "ERROR": "错误",
    "CRITICAL": "严重错误",
}
_AREAS = {
    "intake": "收取邮件",
    "parsers": "解析邮件",
    "scoring": "评分",
    "outputs": "生成报表",
    "outbox": "发信",
    "pipeline": "处理",
}
# Log templates (English, as in the file) → the Chinese line the console shows.
_ZH: dict[str, Callable[[tuple], str]] = {
    "connect to %s:%s failed: %s": lambda a: (
        f"连接邮箱服务器 {a[0]}:{a[1]} 失败：{network_cause(a[2])}"
    ),
    "connection lost (%s); reconnecting in %.1fs": lambda a: (
        f"与邮箱的连接中断（{network_cause(a[0])}），正在重连"
    ),
    "connection lost during fetch (%s); resuming": lambda a: (
        f"收取中连接中断（{network_cause(a[0])}），正在续传"
    ),
    "skipping folder %s: %s": lambda a: f"跳过邮箱文件夹 {a[0]}",
    "poll failed: %s": lambda a: f"收取失败：{a[0]}",
    "%d failed polls in a row": lambda a: f"已连续 {a[0]} 次收取失败",
    "message %s failed to process": lambda a: "一封邮件处理失败，下次收取时重试",
    "%s to %s failed: %s": lambda a: f"发往 {a[1]} 的邮件未能发出",
    "suspect attachment name decoded with loss: %r": lambda a: f"附件名可能有乱码：{a[0]}",
    "SMTP login to %s without TLS: the password travels in clear": lambda a: (
        f"发信服务器 {a[0]} 未加密，授权码以明文传输"
    ),
}


def console_line(record: logging.LogRecord, log_path: Path | None) -> str:
    """One Chinese line for a log record (the file keeps the English text and traceback)."""
    level = _LEVELS.get(record.levelname, record.levelname)
    zh = _ZH.get(str(record.msg))
    if zh is not None:
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        try:
            return f"{level}：{zh(args)}"
        except (IndexError, TypeError, KeyError):
            pass
    area = _AREAS.get(record.name.split(".", 1)[0], "程序")
    where = f"详情见日志 {log_path}" if log_path else "日志文件无法写入"
    return f"{level}：{area}时出现问题（{where}）"


class _ConsoleFormatter(logging.Formatter):
    def __init__(self, log_path: Callable[[], Path | None]) -> None:
        super().__init__()
        self.log_path = log_path

    def format(self, record: logging.LogRecord) -> str:
        return console_line(record, self.log_path())


def _worth_showing(record: logging.LogRecord) -> bool:
    """Warnings and errors always, unless the caller says the person already has the line
    (``extra={"console": False}``); a detail (-v) only when it has its Chinese line."""
    if not getattr(record, "console", True):
        return False
    return record.levelno >= logging.WARNING or str(record.msg) in _ZH


class _QuietFileHandler(RotatingLog):
    """A log file that stops trying (silently) once it cannot be written, e.g. a full disk."""

    broken = False

    def handleError(self, record: logging.LogRecord) -> None:
        self.broken = True

    def emit(self, record: logging.LogRecord) -> None:
        if not self.broken:
            super().emit(record)


def _file_handler(folder: Path) -> _QuietFileHandler | None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = _QuietFileHandler(
            folder / "pipeline.log", maxBytes=5 * 1024**2, backupCount=5, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler


def setup_logging(folder: Path, verbose: bool) -> Callable[[], Path | None]:
    """Log to ``folder/pipeline.log`` and, in Chinese, to the console.

    Returns a function telling where the log is, or None while it cannot be written, so that
    no message points a person to a file that does not exist.
    """
    handler = _file_handler(folder)
    path = folder / "pipeline.log" if handler is not None else None

    def log_path() -> Path | None:
        return None if handler is None or handler.broken else path

    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.INFO if verbose else logging.ERROR)
    console.setFormatter(_ConsoleFormatter(log_path))
    console.addFilter(_worth_showing)
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.handlers[:] = [console] if handler is None else [handler, console]
    for noisy in ("imapclient", "mailparser", "pypdf", "PIL", "py7zr", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    return log_path
