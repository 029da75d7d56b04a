"""The shipped config.yaml documents every key of the schema, with its default and a comment."""

from __future__ import annotations

import re

import yaml
from pydantic import BaseModel

from pipeline.config import DEFAULT_LINK_HOSTS, Config, SortingConfig, load_config
from tests.support.project import REPO, write_config

SHIPPED = REPO / "config.yaml"
_KEY = re.compile(r"^(\s*)(#\s?)?([A-Za-z_][A-Za-z0-9_]*):(\s|$)(.*)")


def schema_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every leaf key path of the schema (a nested section is walked, a list or dict is a leaf)."""
    keys = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            keys += schema_keys(field.annotation, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


def file_keys(text: str) -> dict[str, tuple[bool, str]]:
    """Key path → (commented out, the rest of its line), by indentation, commented keys too."""
    stack: list[tuple[int, str]] = []
    found = {}
    for line in text.splitlines():
        match = _KEY.match(line)
        if not match:
            continue
        indent = len(match[1])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match[3]))
        found[".".join(key for _, key in stack)] = (bool(match[2]), match[5])
    return found


def test_every_schema_key_is_in_config_yaml_with_a_comment():
    found = file_keys(SHIPPED.read_text(encoding="utf-8"))
    missing = [key for key in schema_keys(Config) if key not in found]
    assert not missing, f"config.yaml lacks {missing}"

    def explained(key: str) -> bool:  # its own comment, or its section's (scoring.awards: …)
        commented, rest = found[key]
        return commented or "#" in rest or ("." in key and explained(key.rsplit(".", 1)[0]))

    unexplained = [key for key in schema_keys(Config) if not explained(key)]
    assert not unexplained, f"config.yaml has no comment for {unexplained}"


def test_config_yaml_values_are_the_defaults():
    """What a user reads in config.yaml is what the program does without it."""
    shipped = Config.model_validate(yaml.safe_load(SHIPPED.read_text(encoding="utf-8")))
    default = Config()
    differ = [key for key in schema_keys(Config) if _get(shipped, key) != _get(default, key)]
    assert differ == ["mailbox.username"]  # an example address in place of the empty default


def _get(config: Config, key: str):
    value = config
    for part in key.split("."):
        value = getattr(value, part)
    return value


def test_the_checker_sees_a_missing_key():
    text = "mailbox:\n  host: x\n  # port: 993\nsorting:\n  max_attempts: 3\n"
    assert set(file_keys(text)) == {"mailbox", "mailbox.host", "mailbox.port", "sorting",
                                    "sorting.max_attempts"}  # fmt: skip
    assert "mailbox.timeout_s" not in file_keys(text)


def test_link_hosts_extend_the_built_in_list_unless_replaced():
    extended = SortingConfig(link_hosts=["pan.example.cn", "pan.baidu.com"])
    hosts = extended.all_link_hosts()
    assert hosts[: len(DEFAULT_LINK_HOSTS)] == tuple(DEFAULT_LINK_HOSTS)
    assert hosts[-1] == "pan.example.cn" and hosts.count("pan.baidu.com") == 1
    replaced = SortingConfig(link_hosts=["pan.example.cn"], link_hosts_replace=True)
    assert replaced.all_link_hosts() == ("pan.example.cn",)
    assert SortingConfig().all_link_hosts() == tuple(DEFAULT_LINK_HOSTS)


def test_a_users_link_host_counts_as_a_video_and_the_built_in_ones_still_do(tmp_path):
    from tests.support.mails import Mail
    from tests.support.project import run_cli

    path = write_config(tmp_path, sorting={"link_hosts": ["pan.example.cn"]})
    text = ("视频较大，网盘链接：https://pan.example.cn/s/abc 提取码 1234 ；"
            "另一个：https://pan.baidu.com/s/1xyz 提取码 abcd")  # fmt: skip
    mail = Mail(sender=("西渡镇", "hyxxidujdb@163.com"), subject="西渡镇视频", text=text, seed="l")
    (tmp_path / "inbox" / "a.eml").write_bytes(mail.to_bytes())
    assert run_cli(path, "once").returncode == 0
    units = (tmp_path / "data" / "reports" / "units.csv").read_text(encoding="utf-8-sig")
    row = next(line for line in units.splitlines() if line.startswith("西渡镇,"))
    header = units.splitlines()[0].split(",")
    assert row.split(",")[header.index("video_links")] == "2"
    assert load_config(path).sorting.link_hosts == ["pan.example.cn"]
