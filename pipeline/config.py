"""Config schema: read and validated once at start, then passed down as frozen objects.

pydantic gives one precise message per mistake (unknown key, wrong type) for free; the CLI turns a
``ConfigError`` into one Chinese line and a non-zero exit.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from scoring.rubric import IntegrityConfig, ScoringConfig


class ConfigError(Exception):
    """The config file or something it points at is unusable."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MailboxConfig(_Strict):
    source: Literal["imap", "folder"] = "folder"
    host: str = "imap.qq.com"
    port: int = Field(993, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str = ""
    password_env: str = "INTAKE_IMAP_PASSWORD"
    folder: list[str] = Field(default_factory=lambda: ["INBOX"])
    path: Path = Path("samples/inbox")
    timeout_s: float = Field(60.0, gt=0, description="socket timeout of every IMAP call")
    batch_bytes: int = Field(8 * 1024**2, gt=0, description="upper bound of one FETCH batch")
    batch_size: int = Field(50, gt=0, description="at most this many messages per FETCH")
    reconnect_attempts: int = Field(4, ge=0, description="reconnects per poll before giving up")
    reconnect_backoff_s: float = Field(2.0, ge=0, description="first backoff; doubles per try")
    verify_tls: bool = Field(True, description="verify the server certificate")

    @field_validator("folder", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    def password(self) -> str:
        """The secret, read from the environment only when a connection is made."""
        value = os.environ.get(self.password_env, "")
        if not value:
            raise ConfigError(f"环境变量 {self.password_env} 未设置：请填入邮箱授权码后重试")
        return value


class CampaignConfig(_Strict):
    deadline: datetime = datetime.fromisoformat("2020-12-31T23:59:59+08:00")
    title: str = Field("“衡阳群众”禁毒志愿服务活动", description="without the year: reports add it")
    office: str = "衡阳县禁毒委员会办公室"
    office_addresses: list[str] = Field(
        default_factory=list, description="the office's own addresses: their mail is no submission"
    )

    @field_validator("deadline")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("须带时区，例如 2020-12-31T23:59:59+08:00")
        return value


class PathsConfig(_Strict):
    data: Path = Path("data")
    reports: Path = Path("data/reports")


class ScheduleConfig(_Strict):
    poll_minutes: float = Field(10, gt=0)


DEFAULT_KEYWORDS = {
    "deeds": ["事迹", "先进", "典型", "好人好事", "表彰"],
    "report": ["总结", "报告", "汇报", "小结", "工作开展情况", "工作情况", "开展情况"],
}

DEFAULT_LINK_HOSTS = [
    "mail.qq.com/cgi-bin/ftnExs_download",
    "wx.mail.qq.com/ftn/download",
    "mail.qq.com/ftn/",
    "iwx.mail.qq.com/ftn/",
    "mail.163.com/large-attachment-download",
    "dashi.163.com/html/cloud-attachment-download",
    "mail.126.com/large-attachment-download",
    "pan.baidu.com",
    "yun.baidu.com",
    "share.weiyun.com",
    "www.aliyundrive.com",
    "www.alipan.com",
    "cloud.189.cn",
    "caiyun.139.com",
    "yunpan.360.cn",
    "pan.quark.cn",
    "drive.uc.cn",
    "www.123pan.com",
    "www.123865.com",
    "www.lanzoui.com",
    "www.lanzoux.com",
    "www.lanzouw.com",
    "yun.139.com",
]


class SortingConfig(_Strict):
    keywords: dict[Literal["deeds", "report"], list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_KEYWORDS.items()},
        description="document category keywords; deeds is checked before report",
    )
    inline_image_min_bytes: int = Field(30 * 1024, ge=0)
    inline_image_min_px: int = Field(300, ge=0)
    link_hosts: list[str] = Field(
        default_factory=list, description="extra cloud-drive hosts, added to DEFAULT_LINK_HOSTS"
    )
    link_hosts_replace: bool = Field(
        False, description="true: link_hosts replaces the built-in list instead of extending it"
    )
    circular_min_units: int = Field(
        4, ge=2, description="a mail naming this many units in its subject is a circular"
    )
    max_attempts: int = Field(3, ge=1, description="tries before a failing mail goes to review")
    archive_max_total_mb: int = Field(2048, gt=0)
    archive_max_members: int = Field(2000, gt=0)
    archive_max_ratio: int = Field(200, gt=1)
    archive_max_depth: int = Field(3, ge=1)
    document_timeout_s: float = Field(60, gt=0)

    def all_link_hosts(self) -> tuple[str, ...]:
        """The hosts whose links count as videos: the built-in list plus the user's, or theirs."""
        hosts = (
            self.link_hosts if self.link_hosts_replace else [*DEFAULT_LINK_HOSTS, *self.link_hosts]
        )
        return tuple(dict.fromkeys(host.strip() for host in hosts if host.strip()))


class ToolsConfig(_Strict):
    """External programs; empty = look on PATH and in the usual Windows install folders."""

    soffice: Path | None = Field(None, description="LibreOffice soffice(.exe) or its folder")
    sevenzip: Path | None = Field(None, description="7-Zip 7z.exe or its folder (opens RAR)")
    ffmpeg: Path | None = None
    ffprobe: Path | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value


class SmtpConfig(_Strict):
    """Outgoing mail (QQ Mail: smtp.qq.com:465 over SSL with the same 授权码)."""

    host: str = "smtp.qq.com"
    port: int = Field(465, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str | None = Field(
        None, description="SMTP login; unset: mailbox.username; empty: no login"
    )
    password_env: str = Field("", description="defaults to mailbox.password_env")
    timeout_s: float = Field(30, gt=0)
    verify_tls: bool = True


class RemindersConfig(_Strict):
    days_before: list[int] = Field(
        default_factory=lambda: [7, 3, 1], description="watch reminds on these days before"
    )
    interval_days: float = Field(2, ge=0, description="a unit is reminded at most this often")
    hour: int = Field(9, ge=0, le=23, description="local hour of the daily reminder run")


class DigestConfig(_Strict):
    enabled: bool = False
    to: list[str] = Field(default_factory=list, description="the office's own addresses")
    hour: int = Field(8, ge=0, le=23)


class NotifyConfig(_Strict):
    receipts: bool = Field(False, description="reply to each submission with a receipt (回执)")
    dry_run: bool = Field(True, description="write mail to <data>/outbox/ instead of sending")
    receipts_per_day: int = Field(3, ge=1, description="cap of receipts per sender per day")
    reminders: RemindersConfig = RemindersConfig()
    digest: DigestConfig = DigestConfig()


class ConsoleConfig(_Strict):
    """The office console (``serve``): where it listens and how large an upload may be."""

    listen: str = Field(
        "127.0.0.1:8765", description="HOST:PORT; any address but loopback requires sign-in"
    )
    sign_in: Literal["auto", "always"] = Field(
        "auto", description="auto: sign-in off the loopback address only; always: on a shared PC"
    )
    max_upload_mb: int = Field(512, gt=0, description="cap of one 导入 upload (all files)")
    thumbnail_px: int = Field(320, ge=64, le=2048, description="longer side of a preview")

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"应写成 主机:端口，例如 127.0.0.1:8765，而不是“{value}”")
        return value.strip()

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


class NoticeConfig(_Strict):
    """The 通报 draft's 版记 and 发文字号 (GB/T 9704-2012)."""

    doc_number: str = Field("", description="发文字号; empty: 县禁毒办〔<year>〕X号 to fill in")
    cc: list[str] = Field(
        default_factory=lambda: ["市禁毒办"], description="抄送 of the 版记, in order"
    )
    issuer: str = Field("", description="印发机关 of the 版记; empty: campaign.office")


class Config(_Strict):
    mailbox: MailboxConfig = MailboxConfig()
    campaign: CampaignConfig = CampaignConfig()
    units_file: Path = Path("registry.csv")
    paths: PathsConfig = PathsConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    sorting: SortingConfig = SortingConfig()
    scoring: ScoringConfig = ScoringConfig()
    smtp: SmtpConfig = SmtpConfig()
    notify: NotifyConfig = NotifyConfig()
    tools: ToolsConfig = ToolsConfig()
    console: ConsoleConfig = ConsoleConfig()
    integrity: IntegrityConfig = IntegrityConfig()
    notice: NoticeConfig = NoticeConfig()
    source_path: Path = Field(Path("config.yaml"), exclude=True)

    @model_validator(mode="after")
    def _sender_known(self) -> Config:
        sending = self.notify.receipts or self.notify.digest.enabled
        sender = next(iter(self.campaign.office_addresses), "") or self.smtp.username
        sender = sender or self.mailbox.username
        if sending and "@" not in (sender or ""):
            raise ValueError("发信需要本办邮箱地址：请在 campaign.office_addresses 中填写")
        return self

    @property
    def data_dir(self) -> Path:
        return self.paths.data

    @property
    def reports_dir(self) -> Path:
        return self.paths.reports


def _resolve(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else (base / path).resolve()


_PROBLEMS = {  # pydantic error type → what is wrong, in Chinese
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "int_from_float": "须为整数",
    "float_parsing": "须为数字",
    "float_type": "须为数字",
    "bool_parsing": "须为 true 或 false",
    "bool_type": "须为 true 或 false",
    "string_type": "须为文字",
    "list_type": "须为列表，如 [甲, 乙]",
    "dict_type": "须为下一级配置（键: 值）",
    "model_type": "须为下一级配置（键: 值）",
    "model_attributes_type": "须为下一级配置（键: 值）",
    "datetime_parsing": "须为带时区的时间，如 2020-12-31T23:59:59+08:00",
    "datetime_from_date_parsing": "须为带时区的时间，如 2020-12-31T23:59:59+08:00",
    "datetime_type": "须为带时区的时间，如 2020-12-31T23:59:59+08:00",
    "date_parsing": "须为日期，如 2020-12-31",
    "date_from_datetime_parsing": "须为日期，如 2020-12-31",
    "date_type": "须为日期，如 2020-12-31",
    "path_type": "须为文件或文件夹路径",
    "too_short": "项数太少",
    "too_long": "项数太多",
    "finite_number": "须为有限的数字",
}
_BOUNDS = {
    "greater_than": ("gt", "须大于"),
    "greater_than_equal": ("ge", "须不小于"),
    "less_than": ("lt", "须小于"),
    "less_than_equal": ("le", "须不大于"),
}


def _where(loc: tuple) -> str:
    parts = [f"[第{part + 1}项]" if isinstance(part, int) else str(part) for part in loc]
    return ".".join(part for part in parts if part != "[key]").replace(".[", "[")


def _shown(value: object) -> str:
    if isinstance(value, dict | list):
        return ""
    text = str(value)
    return f"，而不是“{text[:40]}{'…' if len(text) > 40 else ''}”"


def _problem(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"{words} {ctx.get(key)}{_shown(error.get('input'))}"
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace(" or ", "、").replace(", ", "、")
        return f"须为以下之一：{expected}{_shown(error.get('input'))}"
    if kind in ("value_error", "assertion_error"):  # our own validators speak Chinese
        return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in _PROBLEMS:
        return f"{_PROBLEMS[kind]}{_shown(error.get('input'))}"
    return f"取值不符合要求{_shown(error.get('input'))}"


def describe_validation(error: ValidationError) -> str:
    """The first mistake of a config, in Chinese, with its key path and the value given."""
    errors = error.errors()
    first = errors[0]
    where = _where(first["loc"])
    more = f"（另有 {len(errors) - 1} 处错误）" if len(errors) > 1 else ""
    if first["type"] == "extra_forbidden":
        return f"未知的配置项 {where}（请检查拼写）{more}"
    if first["type"] == "missing":
        return f"缺少配置项 {where}{more}"
    if not first["loc"]:
        return _problem(first) + more
    return f"配置项 {where} 有误：{_problem(first)}{more}"


_YAML_HINTS = (
    ("cannot start any token", "不能用 Tab 键缩进，请改用空格"),
    ("mapping values are not allowed", "冒号用法不对：冒号后要有空格，值里含冒号时请加引号"),
    ("could not find expected ':'", "缺少冒号“:”"),
    ("did not find expected key", "缩进不一致，或缺少冒号"),
    ("expected <block end>", "缩进不一致"),
    ("end of stream", "引号或括号没有配对"),
    ("quoted scalar", "引号没有配对"),
    ("flow sequence", "方括号 [ ] 没有配对"),
    ("flow mapping", "花括号 { } 没有配对"),
    ("undefined alias", "“*”开头的值须加引号"),
    ("special characters are not allowed", "含有不允许的特殊字符"),
)


def describe_yaml(path: Path, error: yaml.YAMLError) -> str:
    """A YAML syntax error in Chinese, with the line and column a text editor shows."""
    text = " ".join(str(getattr(error, name, "") or "") for name in ("context", "problem"))
    hint = next((zh for key, zh in _YAML_HINTS if key in text), "格式不对")
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is None and isinstance(error, yaml.reader.ReaderError):
        return f"配置文件 {path} 第 {error.position + 1} 个字符处含有无法识别的字符"
    if mark is None:
        return f"配置文件 {path} 格式不对（YAML 语法）"
    return f"配置文件 {path} 第 {mark.line + 1} 行第 {mark.column + 1} 列附近格式不对：{hint}"


def _read(path: Path) -> object:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"找不到配置文件 {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"配置文件 {path} 是一个文件夹，不是文件") from None
    except OSError as exc:
        raise ConfigError(f"配置文件 {path} 无法读取（没有权限或磁盘出错）") from exc
    try:
        text = _config_text(data)
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")
    try:
        # libyaml's safe loader when PyYAML has it: the config is read at every poll
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        hint = _WINDOWS_PATH_HINT if "\\" in text else ""
        raise ConfigError(describe_yaml(path, exc) + hint) from exc


def _folder(path: Path, key: str) -> Path:
    """A folder the program may create: neither it nor any parent may be a file."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            if not candidate.is_dir():
                raise ConfigError(f"{key} 指向 {path}，但 {candidate} 不是文件夹，而是一个文件")
            break
    return path


_WINDOWS_PATH_HINT = (
    "（Windows 路径请不加引号、加单引号或改用正斜杠，如 D:/禁毒办/材料；双引号里的 \\ 是转义符）"
)


def _config_text(raw: bytes) -> str:
    """The file as Notepad saves it: UTF-8 with or without BOM, or the Chinese ANSI code page
    (GBK) of older Notepad; CRLF line ends are fine for YAML."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def load_config(path: Path) -> Config:
    """Read, validate and resolve a config file; every problem is one ConfigError line."""
    path = Path(path)
    raw = _read(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"配置文件 {path} 的顶层必须是键值对")
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}：{describe_validation(exc)}") from exc
    base = path.resolve().parent
    mailbox = config.mailbox.model_copy(update={"path": _resolve(base, config.mailbox.path)})
    paths = PathsConfig(
        data=_folder(_resolve(base, config.paths.data), "paths.data"),
        reports=_folder(_resolve(base, config.paths.reports), "paths.reports"),
    )
    tools = ToolsConfig(
        **{
            key: _resolve(base, value) if value else None
            for key, value in config.tools.model_dump().items()
        }
    )
    integrity = config.integrity.model_copy(
        update={
            "reference_folders": [_resolve(base, p) for p in config.integrity.reference_folders],
            "reference_texts": [_resolve(base, p) for p in config.integrity.reference_texts],
        }
    )
    units_file = _resolve(base, config.units_file)
    if not units_file.is_file():
        raise ConfigError(f"找不到单位名录文件 {units_file}（配置项 units_file）")
    if mailbox.source == "folder" and not mailbox.path.is_dir():
        raise ConfigError(f"找不到邮件文件夹 {mailbox.path}（配置项 mailbox.path）")
    return config.model_copy(
        update={
            "mailbox": mailbox,
            "paths": paths,
            "units_file": units_file,
            "tools": tools,
            "integrity": integrity,
            "source_path": path.resolve(),
        }
    )
