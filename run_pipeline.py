#!/usr/bin/env python3
"""衡阳县禁毒办 材料报送收取与评估 — command line.

python run_pipeline.py --config config.yaml once       # poll once, update reports
python run_pipeline.py --config config.yaml watch      # poll on a schedule until Ctrl-C
python run_pipeline.py --config config.yaml report     # rebuild reports, no network
python run_pipeline.py --config config.yaml reprocess  # re-sort every stored mail
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
from datetime import datetime
from pathlib import Path

from intake.models import IntakeError
from parsers.units import RegistryError
from pipeline.config import Config, ConfigError, load_config
from pipeline.jobs import BusyError, PollSummary, run_once, run_report, run_reprocess, run_watch
from pipeline.reports import ReportSummary

log = logging.getLogger("pipeline")
EXIT_CONFIG, EXIT_MAILBOX, EXIT_BUSY = 2, 3, 4


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_pipeline.py",
        description="收取各单位报送材料邮件，分类归档，生成台账、通报与看板。",
    )
    parser.add_argument("--config", default="config.yaml", help="配置文件（默认 config.yaml）")
    parser.add_argument("-v", "--verbose", action="store_true", help="在终端显示详细日志")
    commands = parser.add_subparsers(dest="command", required=True, metavar="命令")
    commands.add_parser("once", help="收取一次新邮件并更新报表")
    commands.add_parser("watch", help="按 schedule.poll_minutes 定时收取，Ctrl-C 退出")
    commands.add_parser("report", help="仅根据已存数据重建报表（不连接邮箱）")
    commands.add_parser("reprocess", help="名录或关键词修改后，重新分拣所有已存邮件")
    return parser


def _logging(config: Config, verbose: bool) -> None:
    folder = config.data_dir / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        folder / "pipeline.log", maxBytes=5 * 1024**2, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.INFO if verbose else logging.ERROR)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.handlers[:] = [handler, console]
    for noisy in ("imapclient", "mailparser", "pypdf", "PIL", "py7zr", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


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


def _say_poll(summary: PollSummary) -> None:
    units = "、".join(sorted(summary.units)) or "无"
    line = (
        f"新邮件 {summary.new} 封，存入文件 {summary.stored} 个，涉及单位 {len(summary.units)} 个"
    )
    if summary.duplicates:
        line += f"，重复邮件 {summary.duplicates} 封"
    print(line + "。")
    if summary.units:
        print(f"涉及单位：{units}")
    if summary.review or summary.failed:
        print(f"待人工确认 {summary.review} 封，处理失败待重试 {summary.failed} 封。")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(Path(args.config))
        _logging(config, args.verbose)
        if args.command == "once":
            summary = run_once(config, _now(config))
            _say_poll(summary)
            _say_reports(config, summary.report)
        elif args.command == "report":
            _say_reports(config, run_report(config, _now(config)))
        elif args.command == "reprocess":
            summary, report = run_reprocess(config, _now(config))
            print(f"重新分拣邮件 {summary.new} 封。")
            _say_reports(config, report)
        elif args.command == "watch":
            print(f"开始定时收取（每 {config.schedule.poll_minutes:g} 分钟），按 Ctrl-C 退出。")

            def on_poll(summary, error, failures) -> None:
                stamp = _now(config).strftime("%m-%d %H:%M")
                if error is not None:
                    alert = (
                        "【警告】邮箱已连续多次无法连接，请检查网络和授权码！"
                        if failures >= 3
                        else ""
                    )
                    print(f"[{stamp}] 收取失败：{error} {alert}".rstrip(), flush=True)
                elif summary.new or summary.report:
                    print(f"[{stamp}] ", end="")
                    _say_poll(summary)
                    _say_reports(config, summary.report)

            run_watch(config, lambda: _now(config), on_poll)
    except KeyboardInterrupt:
        print("\n已停止。")
        return 0
    except (ConfigError, RegistryError) as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return EXIT_CONFIG
    except BusyError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_BUSY
    except IntakeError as exc:
        print(f"邮箱错误：{exc}", file=sys.stderr)
        return EXIT_MAILBOX
    except Exception as exc:  # a bug: the full traceback goes to the log, one line to the user
        log.exception("unexpected error")
        print(
            f"内部错误：{type(exc).__name__}: {exc}（详见 data/logs/pipeline.log）", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
