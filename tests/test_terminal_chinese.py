"""No English reaches a person in the terminal: usage errors, config mistakes, YAML syntax,
mailbox failures, log lines, internal errors. The log file keeps English and tracebacks."""

from __future__ import annotations

import logging

import pytest
import yaml
from pydantic import BaseModel

import run_pipeline
from pipeline.config import Config
from pipeline.terminal import console_line, translate_usage_error
from tests.support.chinese import assert_chinese, english_words
from tests.support.dovecot import free_port
from tests.support.project import run_cli, write_config


def _commands() -> tuple[str, ...]:
    """Every subcommand the CLI has (their names are names, not English sentences)."""
    import argparse

    from run_pipeline import _parser

    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return tuple(sub.choices)


COMMANDS = (*_commands(), "run_pipeline.py")


def test_the_checker_finds_english():
    assert english_words("错误：ConnectionRefusedError: [Errno 111] Connection refused") == [
        "ConnectionRefusedError", "Errno", "Connection", "refused"]  # fmt: skip
    assert english_words("配置项 mailbox.host 有误，见 data/logs/pipeline.log") == []
    assert english_words("环境变量 TEST_IMAP_PASSWORD 未设置，而不是“abc”") == []


@pytest.mark.parametrize(
    "argv",
    [
        ["fetch"],
        [],
        ["import"],
        ["score", "西渡镇", "abc"],
        ["once", "--bogus"],
        ["--config"],
        ["assign", "12"],
    ],
)
def test_usage_errors_are_chinese(tmp_path, argv):
    result = run_cli(tmp_path / "config.yaml", *argv)
    assert result.returncode == 2
    assert "用法：" in result.stderr and "错误：" in result.stderr
    assert "Traceback" not in result.stderr
    assert_chinese(result.stderr, allowed=(*COMMANDS, "--bogus", "abc"))


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS[:-1]]])
def test_help_is_chinese(tmp_path, command):
    result = run_cli(tmp_path / "config.yaml", *command, "--help")
    assert (
        result.returncode == 0 and "用法：" in result.stdout and "显示本帮助并退出" in result.stdout
    )
    assert_chinese(result.stdout, allowed=COMMANDS)


@pytest.mark.parametrize(
    "message",
    [
        "the following arguments are required: unit, --received",
        "unrecognized arguments: --x",
        "argument 命令: invalid choice: 'x' (choose from 'once', 'watch')",
        "argument 得分: invalid float value: 'abc'",
        "argument --config: expected one argument",
        "ambiguous option: --re could match --reason, --received",
        "something argparse adds in a later version",
    ],
)
def test_argparse_messages_translate(message):
    allowed = ("unit", "--x", "--reason", "--received", "--re", "once", "watch")
    assert_chinese(translate_usage_error(message), allowed=allowed)


def _keys(model) -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        names.add(name)
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            names |= _keys(field.annotation)
    return names


CONFIG_KEYS = tuple(sorted(_keys(Config), key=len, reverse=True))  # names a person typed
BAD_CONFIGS = [
    (lambda c: c["mailbox"].update(hots="x"), "未知的配置项 mailbox.hots"),
    (lambda c: c["mailbox"].update(port="abc"), "mailbox.port 有误：须为整数"),
    (lambda c: c["mailbox"].update(port=0), "须不小于 1"),
    (lambda c: c["mailbox"].update(timeout_s=0), "须大于 0"),
    (lambda c: c["mailbox"].update(verify_tls="maybe"), "须为 true 或 false"),
    (lambda c: c["mailbox"].update(security="tls"), "须为以下之一"),
    (lambda c: c["campaign"].update(deadline="tomorrow"), "须为带时区的时间"),
    (lambda c: c["campaign"].update(deadline="2020-12-31T23:59:59"), "须带时区"),
    (lambda c: c.update(schedule=5), "须为下一级配置"),
    (lambda c: c.update(scoring={"timeliness": {"points": 10}}), "之和须为 100"),
    (lambda c: c.update(scoring={"grades": [{"min_score": 60, "grade": "合格"}]}), "须为 0"),
    (lambda c: c.update(notify={"receipts_per_day": "many"}), "notify.receipts_per_day"),
]


@pytest.mark.parametrize(("change", "expected"), BAD_CONFIGS)
def test_config_mistakes_are_chinese_with_key_and_value(tmp_path, change, expected):
    path = write_config(tmp_path)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(config)
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    result = run_cli(path, "once")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert_chinese(result.stderr, allowed=(str(path), *CONFIG_KEYS))


@pytest.mark.parametrize(
    ("text", "line", "hint"),
    [
        ("mailbox:\n\tsource: folder\n", 2, "Tab"),
        ("mailbox:\n  source: folder\n  host: imap.qq.com: 993\n", 3, "冒号"),
        ('campaign:\n  title: "衡阳\n', 3, "引号"),
        ("units_file: registry.csv\nsorting:\n  keywords: [事迹, 先进\n", 4, "没有配对"),
    ],
)
def test_yaml_syntax_errors_name_the_line(tmp_path, text, line, hint):
    path = write_config(tmp_path)
    path.write_text(text, encoding="utf-8")
    result = run_cli(path, "once")
    assert result.returncode == 2
    assert f"第 {line} 行" in result.stderr and hint in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert_chinese(result.stderr, allowed=(str(path),))


def test_a_config_saved_as_gbk_by_notepad_still_loads(tmp_path):
    path = write_config(tmp_path)
    text = path.read_text(encoding="utf-8") + "# 注释：记事本另存为 ANSI\n"
    path.write_bytes(text.encode("gbk"))
    assert run_cli(path, "report").returncode == 0


@pytest.mark.parametrize(
    ("mailbox", "cause"),
    [
        ({"host": "nosuchhost.invalid"}, "域名无法解析"),
        ({"port": "free"}, "拒绝连接"),
    ],
)
def test_mailbox_errors_name_the_cause_in_chinese(tmp_path, imap_account, mailbox, cause):
    if mailbox.get("port") == "free":
        mailbox = {"port": free_port()}
    path = write_config(tmp_path, imap_account, mailbox=mailbox)
    result = run_cli(path, "once", password="secret")
    assert result.returncode == 3
    assert (
        result.stderr.strip().startswith("邮箱错误：无法连接邮箱服务器") and cause in result.stderr
    )
    assert "正在连接" in result.stdout
    assert_chinese(result.stderr + result.stdout, allowed=(str(path),))


def test_console_log_lines_are_chinese_and_the_file_keeps_english(tmp_path, imap_account):
    path = write_config(tmp_path, imap_account, mailbox={"port": free_port()})
    result = run_cli(path, "-v", "once", password="secret")
    assert result.returncode == 3
    assert "警告：连接邮箱服务器" in result.stderr  # the retry warning, shown with -v
    assert_chinese(result.stderr, allowed=(str(path),))
    log = (tmp_path / "data" / "logs" / "pipeline.log").read_text(encoding="utf-8")
    assert "Connection refused" in log and "poll failed" in log


def test_an_untranslated_log_record_still_reads_chinese():
    record = logging.LogRecord("parsers.archives", logging.WARNING, __file__, 1,
                               "member %s exceeds %d bytes", ("a.jpg", 5), None)  # fmt: skip
    line = console_line(record, None)
    assert line.startswith("警告：解析邮件") and "日志文件无法写入" in line
    assert_chinese(line)


def test_an_internal_error_is_one_chinese_line_and_a_logged_traceback(
    tmp_path, monkeypatch, capsys
):
    path = write_config(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug nobody foresaw")

    monkeypatch.setattr(run_pipeline, "run_report", broken)
    assert run_pipeline.main(["--config", str(path), "report"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("内部错误：") and len(err.strip().splitlines()) == 1
    assert str(tmp_path / "data" / "logs" / "pipeline.log") in err
    assert_chinese(err, allowed=(str(tmp_path),))
    log = (tmp_path / "data" / "logs" / "pipeline.log").read_text(encoding="utf-8")
    assert "Traceback" in log and "a bug nobody foresaw" in log
