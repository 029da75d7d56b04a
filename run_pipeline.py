#!/usr/bin/env python3
"""衡阳县禁毒办 材料报送收取与评估 — command line.

python run_pipeline.py --config config.yaml once       # poll once, update reports
python run_pipeline.py --config config.yaml watch      # poll on a schedule until Ctrl-C
python run_pipeline.py --config config.yaml report     # rebuild reports, no network
python run_pipeline.py --config config.yaml reprocess  # re-sort every stored mail
python run_pipeline.py --config config.yaml doctor     # which tools this PC has, and the fixes
python run_pipeline.py --config config.yaml serve      # the office console in the browser
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import os
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pipeline.config import Config, ConfigError, load_config
from pipeline.dates import parse_moment
from pipeline.faults import EXIT_CONFIG, EXIT_DATA, EXIT_UNEXPECTED, describe
from pipeline.jobs import (
    PollSummary,
    run_correction,
    run_once,
    run_remind,
    run_report,
    run_reprocess,
    run_watch,
)
from pipeline.reports import ALERT_AFTER, ReportSummary
from pipeline.terminal import ArgumentParser, setup_logging

log = logging.getLogger("pipeline")


def _parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="run_pipeline.py",
        description="收取各单位报送材料邮件，分类归档，生成台账、通报与看板。",
    )
    parser.add_argument(
        "--config", default="config.yaml", metavar="配置文件", help="配置文件（默认 config.yaml）"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="在终端显示详细日志")
    commands = parser.add_subparsers(dest="command", required=True, metavar="命令")
    commands.add_parser("once", help="收取一次新邮件并更新报表")
    commands.add_parser("watch", help="按 schedule.poll_minutes 定时收取，Ctrl-C 退出")
    commands.add_parser("report", help="仅根据已存数据重建报表（不连接邮箱）")
    commands.add_parser("reprocess", help="名录或关键词修改后，重新分拣所有已存邮件")
    commands.add_parser("remind", help="向未报送或材料不全的单位发催报邮件")
    commands.add_parser("doctor", help="检查本机的外部程序（LibreOffice、7-Zip 等）和邮箱设置")
    sub = commands.add_parser("serve", help="打开网页管理台（同时定时收取），Ctrl-C 退出")
    sub.add_argument("--no-poll", action="store_true", help="只开管理台，不定时收取")
    sub.add_argument("--no-browser", action="store_true", help="不自动打开浏览器")
    sub = commands.add_parser("add-user", help="创建或重设管理台账号（局域网访问时登录用）")
    sub.add_argument("name", metavar="用户名", help="用户名")
    sub.add_argument(
        "--role",
        choices=["查看", "管理"],
        default="查看",
        metavar="角色",
        help="查看（只读，默认）或 管理（可更正、发信）",
    )
    sub.add_argument(
        "--password-env",
        metavar="变量名",
        help="从这个环境变量读取密码（供脚本使用），否则在终端输入两次",
    )
    _add_corrections(commands)
    return parser


def _add_corrections(commands) -> None:
    """The staff corrections, each with its --reason."""

    def correction(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--reason", default="", metavar="理由", help="更正理由（记入台账）")
        return sub

    sub = correction("assign", "把邮件或文件归入某单位（编号见台账“编号”列：邮件 12，文件 12-3）")
    sub.add_argument("ref", metavar="编号", help="邮件或文件编号")
    sub.add_argument("unit", metavar="单位", help="单位名称")
    sub = correction("category", "更改文件类别（照片/总结报告/事迹材料/视频/其他）")
    sub.add_argument("ref", metavar="编号", help="文件编号，如 12-3")
    sub.add_argument("category", metavar="类别", help="新类别")
    sub = correction("exclude", "排除邮件或文件，不再计入材料")
    sub.add_argument("ref", metavar="编号", help="邮件或文件编号")
    sub = correction("confirm-sender", "确认某发件地址属于某单位（长期有效）")
    sub.add_argument("address", metavar="地址", help="发件地址")
    sub.add_argument("unit", metavar="单位", help="单位名称")
    sub = correction("import", "导入线下（U盘、微信）收到的材料")
    sub.add_argument("unit", metavar="单位", help="单位名称")
    sub.add_argument("files", nargs="+", type=Path, metavar="文件", help="文件")
    sub.add_argument(
        "--received",
        required=True,
        metavar="时间",
        help="实际收到时间，如 2020-12-30 10:00、2020/12/30、2020年12月30日"
        "（只写日期按当天 0 点计）",
    )
    sub = correction("extend", "为某单位延长截止时间")
    sub.add_argument("unit", metavar="单位", help="单位名称")
    sub.add_argument(
        "deadline",
        metavar="截止时间",
        help="新截止时间，如 2021-01-05、2021/1/5、2021年1月5日 17:00"
        "（只写日期按当天 23:59:59 计）",
    )
    sub = correction("score", "人工调整某单位得分（须写理由）")
    sub.add_argument("unit", metavar="单位", help="单位名称")
    sub.add_argument("score", type=float, metavar="得分", help="新得分 0-100")
    sub = correction("revoke", "撤销一项更正（编号见台账“更正记录”或管理台“记录”页）")
    sub.add_argument("id", type=int, metavar="更正编号", help="更正记录编号")
    correction(
        "confirm-scores",
        "核对后确认当前评分表；确认后评分偏低单位才列入通报（某单位得分此后变化需重新确认）",
    )
    sub = correction("confirm-individual", "确认先进个人候选人（生成个人荣誉证书并列入通报表扬）")
    sub.add_argument("name", metavar="姓名", help="姓名")
    sub.add_argument("unit", metavar="单位", help="所在单位")
    sub.add_argument("--new", action="store_true", help="此人不在候选名单中，仍确认表彰")
    sub = correction("reject-individual", "不予表彰某先进个人候选人")
    sub.add_argument("name", metavar="姓名", help="姓名")
    sub.add_argument("unit", metavar="单位", help="所在单位")


CORRECTION_COMMANDS = (
    "assign",
    "category",
    "exclude",
    "confirm-sender",
    "import",
    "extend",
    "score",
    "revoke",
    "confirm-scores",
    "confirm-individual",
    "reject-individual",
)


def _correction(args: argparse.Namespace, now: datetime, config: Config):
    """The correction a command line asks for, as ``apply(ledger, ctx) -> message``."""
    from pipeline import corrections  # the sorting stack: loaded by the commands that need it
    from pipeline.tables import current_tables

    reason, tz = args.reason, now.tzinfo
    match args.command:
        case "confirm-scores":
            return lambda ledger, ctx: corrections.confirm_scores(
                ledger, current_tables(ledger, ctx.registry, config, now), reason, now
            )
        case "confirm-individual" | "reject-individual":
            confirm = args.command == "confirm-individual"
            return lambda ledger, ctx: corrections.decide_individual(
                ledger,
                current_tables(ledger, ctx.registry, config, now),
                args.name,
                corrections.resolve_unit(ctx.registry, args.unit),
                confirm,
                getattr(args, "new", False),
                reason,
                now,
            )
        case "assign":
            return lambda ledger, ctx: corrections.assign(
                ledger, ctx, args.ref, args.unit, reason, now
            )
        case "category":
            return lambda ledger, ctx: corrections.set_category(
                ledger, ctx, args.ref, args.category, reason, now
            )
        case "exclude":
            return lambda ledger, ctx: corrections.exclude(ledger, ctx, args.ref, reason, now)
        case "confirm-sender":
            return lambda ledger, ctx: corrections.confirm_sender(
                ledger, ctx, args.address, args.unit, reason, now
            )
        case "import":
            received = parse_moment(args.received, tz, day_end=False)
            return lambda ledger, ctx: corrections.import_files(
                ledger, ctx, args.unit, args.files, received, reason, now
            )
        case "extend":
            deadline = parse_moment(args.deadline, tz, day_end=True)
            return lambda ledger, ctx: corrections.extend_deadline(
                ledger, ctx.registry, args.unit, deadline, reason, now
            )
        case "score":
            return lambda ledger, ctx: corrections.override_score(
                ledger, ctx.registry, args.unit, args.score, reason, now
            )
        case "revoke":
            return lambda ledger, ctx: corrections.revoke(ledger, ctx, args.id, reason, now)
    raise AssertionError(args.command)


def _console_errors() -> tuple[type[Exception], ...]:
    """The console's one-line errors (imported late: other commands need no web stack)."""
    from console.auth import AccountError
    from console.serve import ServeError

    return (AccountError, ServeError)


def _now(config: Config) -> datetime:
    return datetime.now(config.campaign.deadline.tzinfo)


def _say_reports(config: Config, report: ReportSummary | None) -> None:
    if report is None:
        print("报表：无变化，未重建。")
        return
    print(
        f"报表：{report.units} 个单位，已报送 {report.submitted}，按时 {report.on_time}，"
        f"材料齐全 {report.complete}，待确认 {report.review} 项。"
    )
    print(f"报表目录：{config.reports_dir}")
    for note in report.notes:
        print(f"注意：{note}")


def _say_poll(summary: PollSummary) -> None:
    units = "、".join(sorted(summary.units)) or "无"
    line = (
        f"新邮件 {summary.new} 封，存入文件 {summary.stored} 个，涉及单位 {len(summary.units)} 个"
    )
    if summary.duplicates:
        line += f"，重复邮件 {summary.duplicates} 封"
    if summary.failure is None or summary.new or summary.duplicates:
        print(line + "。")
    if summary.units:
        print(f"涉及单位：{units}")
    if summary.review or summary.failed:
        print(f"待人工确认 {summary.review} 封，处理失败待重试 {summary.failed} 封。")
    for line in summary.notices:
        print(line)


def _say(line: str) -> None:
    print(line, flush=True)


def _log_note(log_path: Callable[[], Path | None]) -> str:
    path = log_path()
    return f"（详情见日志 {path}）" if path else ""


def _stop_on_sigterm() -> None:
    """SIGTERM (systemd, a service manager) stops `watch` like Ctrl-C."""

    def stop(signum, frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # SIGTERM exists on Windows too


def _watch(config: Config, log_path: Callable[[], Path | None]) -> None:
    print(f"开始定时收取（每 {config.schedule.poll_minutes:g} 分钟），按 Ctrl-C 退出。", flush=True)
    _stop_on_sigterm()

    def on_poll(summary: PollSummary) -> None:
        stamp = _now(config).strftime("%m-%d %H:%M")
        if summary.failure is not None:
            alert = "【警告】已连续多次收取失败，请检查网络、授权码和磁盘！"
            note = (
                _log_note(log_path)
                if describe(summary.failure)[0] in (EXIT_UNEXPECTED, EXIT_DATA)
                else ""
            )
            line = f"[{stamp}] 收取失败：{summary.error}{note}"
            print(f"{line} {alert if summary.failures >= ALERT_AFTER else ''}".rstrip(), flush=True)
        if summary.new or summary.report or summary.notices:
            print(f"[{stamp}] ", end="")
            _say_poll(summary)
            _say_reports(config, summary.report)
        sys.stdout.flush()

    # In a terminal, say when it connects; a service's log needs no line every few minutes.
    run_watch(config, lambda: _now(config), on_poll, say=_say if sys.stdout.isatty() else None)


def _run(args: argparse.Namespace, config: Config, log_path) -> None:
    if args.command == "once":
        summary = run_once(config, _now(config), say=_say)
        _say_poll(summary)
        if summary.report is not None or summary.failure is None:
            _say_reports(config, summary.report)
        if summary.failure is not None:
            raise summary.failure
    elif args.command == "report":
        _say_reports(config, run_report(config, _now(config)))
    elif args.command == "remind":
        message, report = run_remind(config, _now(config))
        print(message)
        _say_reports(config, report)
    elif args.command == "reprocess":
        summary, report = run_reprocess(config, _now(config))
        print(f"重新分拣邮件 {summary.new} 封。")
        _say_reports(config, report)
    elif args.command in CORRECTION_COMMANDS:
        now = _now(config)
        message, report = run_correction(config, now, _correction(args, now, config))
        print(message)
        _say_reports(config, report)
    elif args.command == "watch":
        _watch(config, log_path)
    elif args.command == "serve":
        _serve(config, args)
    elif args.command == "add-user":
        _add_user(config, args)


def _console_errors() -> tuple[type[Exception], ...]:
    """The console's one-line errors (imported late: other commands need no web stack)."""
    from console.auth import AccountError
    from console.serve import ServeError

    return (AccountError, ServeError)


def _add_user(config: Config, args: argparse.Namespace) -> None:
    from console.auth import AccountError, add_user

    if args.password_env:
        password = os.environ.get(args.password_env, "")
        if not password:
            raise AccountError(f"环境变量 {args.password_env} 未设置或为空")
    elif sys.stdin.isatty():
        password = getpass.getpass("密码（至少 8 位）：")
        if getpass.getpass("再输入一次：") != password:
            raise AccountError("两次输入的密码不一致")
    else:
        raise AccountError("没有终端可输入密码：请用 --password-env 指定存放密码的环境变量")
    replaced = add_user(config.data_dir, args.name, password, args.role)
    print(f"已{'更新' if replaced else '创建'}账号 {args.name}（{args.role}）。")


def _serve(config: Config, args: argparse.Namespace) -> None:
    from console.serve import serve

    serve(config, poll=not args.no_poll, browser=not args.no_browser, say=_say)
    print("已停止。")


def _quiet_unraisable(unraisable) -> None:
    """An error in a finaliser (a half-written file closed at exit on a full disk) goes to the
    log file, not to the console as a traceback."""
    log.warning(
        "ignored error in %r", unraisable.object,
        exc_info=(unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback),
        extra={"console": False},
    )  # fmt: skip


def _doctor(config_path: Path) -> int:
    """List tools and settings with their fixes; exit 0 unless the config itself is unusable."""
    from parsers.tools import find_tools
    from pipeline import doctor

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print("\n".join(doctor.render(doctor.tool_checks(find_tools()))))
        code, line = describe(exc)
        print(line, file=sys.stderr)
        return code
    print("\n".join(doctor.render(doctor.diagnose(config))))
    return 0


def main(argv: list[str] | None = None) -> int:
    # Photo hashing multiplies small matrices; OpenBLAS's own threads would only spin against
    # the poll for the same cores (measured: twice the CPU, half the speed). Set before numpy
    # loads; the measuring worker inherits it.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    for stream in (sys.stdout, sys.stderr):  # a Windows console redirected to GBK: never crash
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="replace")
    args = _parser().parse_args(argv)
    if args.command == "doctor":
        return _doctor(Path(args.config))
    sys.unraisablehook = _quiet_unraisable
    log_path: Callable[[], Path | None] = lambda: None  # noqa: E731 - until logging is set up
    try:
        config = load_config(Path(args.config))
        log_path = setup_logging(config.data_dir / "logs", args.verbose)
        _run(args, config, log_path)
    except KeyboardInterrupt:
        print("\n已停止。")
        return 0
    except Exception as exc:  # every failure: one Chinese line; a traceback only in the log
        if args.command in ("serve", "add-user") and isinstance(exc, _console_errors()):
            print(f"错误：{exc}", file=sys.stderr)
            return EXIT_CONFIG
        code, line = describe(exc)
        if code in (EXIT_UNEXPECTED, EXIT_DATA):
            log.error("command failed", exc_info=exc, extra={"console": False})
            line += _log_note(log_path)
        print(line, file=sys.stderr)
        return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
