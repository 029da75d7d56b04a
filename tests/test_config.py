"""Config is validated once at start: every mistake is one clear line and a non-zero exit."""

from __future__ import annotations

import shutil

import pytest
import yaml

from pipeline.config import ConfigError, load_config
from tests.support.project import REPO, run_cli, write_config

CONTRACT_ONLY = """
mailbox:
  source: folder
  host: imap.qq.com
  port: 993
  security: ssl
  username: office@example.cn
  password_env: INTAKE_IMAP_PASSWORD
  folder: INBOX
  path: samples/inbox
campaign:
  deadline: "2020-12-31T23:59:59+08:00"
units_file: registry.csv
paths:
  data: data
  reports: data/reports
"""


def _edit(path, change):
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(config)
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


def test_shipped_config_is_valid_and_runs_on_the_sample_inbox():
    config = load_config(REPO / "config.yaml")
    assert config.mailbox.source == "folder"
    assert config.mailbox.path == (REPO / "samples" / "inbox").resolve()
    assert config.scoring.timeliness.points == 20.0


def test_a_file_with_only_the_contract_keys_runs(tmp_path):
    (tmp_path / "samples").mkdir()
    shutil.copytree(REPO / "samples" / "inbox", tmp_path / "samples" / "inbox")
    shutil.copy(REPO / "registry.csv", tmp_path / "registry.csv")
    path = tmp_path / "config.yaml"
    path.write_text(CONTRACT_ONLY, encoding="utf-8")
    result = run_cli(path, "once")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "reports" / "units.csv").exists()  # relative to the config file


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c["mailbox"].update(hots="x"), "未知的配置项 mailbox.hots"),
        (lambda c: c.update(unit_file="x.csv"), "未知的配置项 unit_file"),
        (lambda c: c["mailbox"].update(port="abc"), "配置项 mailbox.port 有误"),
        (lambda c: c["mailbox"].update(security="tls"), "配置项 mailbox.security 有误"),
        (lambda c: c["campaign"].update(deadline="2020-12-31T23:59:59"), "须带时区"),
        (lambda c: c.update(units_file="missing.csv"), "找不到单位名录文件"),
        (lambda c: c["mailbox"].update(path="nowhere"), "找不到邮件文件夹"),
        (lambda c: c.update(notify={"receipts": True}), "发信需要本办邮箱地址"),
    ],
)
def test_config_mistakes_are_one_line(tmp_path, change, expected):
    path = write_config(tmp_path)
    _edit(path, change)
    result = run_cli(path, "once")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    with pytest.raises(ConfigError):
        load_config(path)


def test_missing_config_file(tmp_path):
    result = run_cli(tmp_path / "nope.yaml", "once")
    assert result.returncode == 2 and "找不到配置文件" in result.stderr


def test_units_file_without_unit_column(tmp_path):
    path = write_config(tmp_path)
    (tmp_path / "registry.csv").write_text("name,emails\n西渡镇,a@b.cn\n", encoding="utf-8")
    result = run_cli(path, "once")
    assert result.returncode == 2 and "缺少 unit 列" in result.stderr


def test_report_needs_no_password_even_for_imap(tmp_path, imap_account):
    path = write_config(tmp_path, imap_account)
    result = run_cli(path, "report", password=None)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "reports" / "units.csv").exists()


def test_password_is_never_logged(tmp_path, dovecot, imap_account):
    path = write_config(tmp_path, imap_account)
    result = run_cli(path, "-v", "once", password="secret")
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "data" / "logs" / "pipeline.log").read_text(encoding="utf-8")
    assert "secret" not in log and "secret" not in result.stderr + result.stdout
