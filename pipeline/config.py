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

from scoring.rubric import ScoringConfig


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
    batch_bytes: int = Field(32 * 1024**2, gt=0, description="upper bound of one FETCH batch")
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
            raise ValueError("deadline 须带时区，例如 2020-12-31T23:59:59+08:00")
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
    link_hosts: list[str] = Field(default_factory=lambda: list(DEFAULT_LINK_HOSTS))
    circular_min_units: int = Field(
        4, ge=2, description="a mail naming this many units in its subject is a circular"
    )
    max_attempts: int = Field(3, ge=1, description="tries before a failing mail goes to review")
    archive_max_total_mb: int = Field(2048, gt=0)
    archive_max_members: int = Field(2000, gt=0)
    archive_max_ratio: int = Field(200, gt=1)
    archive_max_depth: int = Field(3, ge=1)
    document_timeout_s: float = Field(60, gt=0)


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
    console: ConsoleConfig = ConsoleConfig()
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


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(根)"
    if first["type"] == "extra_forbidden":
        return f"未知的配置项 {where}（请检查拼写）"
    if not first["loc"]:
        return str(first["msg"]).removeprefix("Value error, ")
    return f"配置项 {where} 有误：{first['msg']}"


def load_config(path: Path) -> Config:
    """Read, validate and resolve a config file; every problem is one ConfigError line."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"找不到配置文件 {path}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"配置文件 {path} 无法读取：{exc}".splitlines()[0]) from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"配置文件 {path} 的顶层必须是键值对")
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_describe(exc)}") from exc
    base = path.resolve().parent
    mailbox = config.mailbox.model_copy(update={"path": _resolve(base, config.mailbox.path)})
    paths = PathsConfig(
        data=_resolve(base, config.paths.data), reports=_resolve(base, config.paths.reports)
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
            "source_path": path.resolve(),
        }
    )
