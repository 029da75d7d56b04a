"""``doctor``: what this PC has and lacks, each with the fix in Chinese.

The external programs (found by ``parsers.tools``, exactly as a poll would find them) and the
mailbox settings. The password is never shown: only whether its environment variable is set.
The same ``Check`` rows serve the command line and the console.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from parsers.tools import ToolPaths, find_tools
from parsers.units import RegistryError, load_registry
from pipeline.config import Config


@dataclass(frozen=True)
class Check:
    section: str  # "外部程序" | "邮箱设置" | "数据与名录"
    name: str  # what is checked, in Chinese
    ok: bool
    detail: str  # the path or value found (never a secret)
    fix: str = ""  # what to do, in Chinese, when not ok
    optional: bool = False  # missing it degrades (staff review by hand) but never stops a run


_LIBREOFFICE_FIX = (
    "从 https://zh-cn.libreoffice.org/download/ 下载安装 LibreOffice（默认位置即可），"
    "或在 config.yaml 的 tools.soffice 填写 soffice.exe 的位置；未安装时 .doc/.wps 报告需人工查看"
)
_SEVENZIP_FIX = (
    "从 https://www.7-zip.org/ 下载安装 7-Zip（64 位，默认位置即可），或在 config.yaml 的 "
    "tools.sevenzip 填写 7z.exe 的位置；未安装时 .rar 压缩包需人工解压"
)
_FFMPEG_FIX = (
    "下载 ffmpeg（https://www.gyan.dev/ffmpeg/builds/ 的 release essentials），解压后把文件夹"
    "改名为 C:\\ffmpeg（里面有 bin\\{key}.exe），或在 config.yaml 的 tools.{key} 填写 {key}.exe "
    "的位置；未安装时视频时长与能否播放无法自动检查"
)


def diagnose(config: Config) -> list[Check]:
    """Every check, in the order they are shown."""
    tools = find_tools(config.tools.model_dump())
    return [
        *tool_checks(tools, config.tools.model_dump()),
        *mailbox_checks(config),
        *data_checks(config),
    ]


def tool_checks(tools: ToolPaths, configured: dict[str, Path | None] | None = None) -> list[Check]:
    configured = configured or {}

    def tool(name: str, found: str | None, key: str, fix: str) -> Check:
        wanted = configured.get(key)
        missing = f"配置的位置不存在：{wanted}" if wanted else "未找到"
        return Check("外部程序", name, bool(found), found or missing, "" if found else fix, True)

    archives = [
        f"{label} {path}"
        for label, path in (
            ("unar", tools.unar),
            ("7-Zip", tools.sevenzip),
            ("bsdtar", tools.bsdtar),
        )
        if path
    ]
    return [
        tool("LibreOffice（读取 .doc/.wps）", tools.soffice, "soffice", _LIBREOFFICE_FIX),
        tool("7-Zip/unar/bsdtar（解压 .rar）", "；".join(archives), "sevenzip", _SEVENZIP_FIX),
        tool("ffmpeg（视频检查）", tools.ffmpeg, "ffmpeg", _FFMPEG_FIX.format(key="ffmpeg")),
        tool("ffprobe（视频时长）", tools.ffprobe, "ffprobe", _FFMPEG_FIX.format(key="ffprobe")),
    ]


def mailbox_checks(config: Config) -> list[Check]:
    box = config.mailbox
    if box.source == "folder":
        return [
            _check("邮箱设置", "收取方式", "folder（从文件夹导入 .eml：演示或离线导入）", ""),
            _check(
                "邮箱设置",
                "邮件文件夹",
                str(box.path),
                ""
                if box.path.is_dir()
                else "在 config.yaml 的 mailbox.path 填写存放 .eml 的文件夹",
            ),
        ]
    has_password = bool(os.environ.get(box.password_env))
    state = "已设置" if has_password else "未设置"
    password_fix = (
        f"双击“设置授权码.bat”，或在命令行运行 setx {box.password_env} 你的授权码，再重新打开"
        "窗口（授权码：QQ 邮箱 → 设置 → 账户 → 开启 IMAP/SMTP 服务 → 生成授权码）"
    )
    username_fix = "在 config.yaml 的 mailbox.username 填写本办邮箱地址"
    return [
        _check("邮箱设置", "收取方式", "imap（连接邮箱服务器）", ""),
        _check(
            "邮箱设置",
            "服务器",
            f"{box.host}:{box.port}（{box.security}）",
            "" if box.host else "在 config.yaml 的 mailbox.host 填写，QQ 邮箱为 imap.qq.com",
        ),
        _check(
            "邮箱设置",
            "邮箱账号",
            box.username or "未填写",
            "" if "@" in box.username else username_fix,
        ),
        _check(
            "邮箱设置",
            "授权码",
            f"环境变量 {box.password_env} {state}（不显示内容）",
            "" if has_password else password_fix,
        ),
        _check("邮箱设置", "收取的文件夹", "、".join(box.folder), ""),
    ]


def data_checks(config: Config) -> list[Check]:
    try:
        registry = load_registry(config.units_file)
        units = _check(
            "数据与名录", "单位名录", f"{config.units_file}（{len(registry.units)} 个单位）", ""
        )
    except RegistryError as exc:
        units = _check("数据与名录", "单位名录", str(config.units_file), str(exc))
    writable = _writable(config.data_dir)
    fix = (
        ""
        if writable
        else "数据目录无法写入：请在 config.yaml 的 paths.data 换一个有写权限的文件夹"
    )
    return [units, _check("数据与名录", "数据目录", str(config.data_dir), fix)]


def _check(section: str, name: str, detail: str, fix: str) -> Check:
    return Check(section, name, not fix, detail, fix)


def _writable(folder: Path) -> bool:
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK)


def render(checks: list[Check]) -> list[str]:
    """Lines for the terminal; GBK-safe characters only (a redirected Windows console)."""
    lines: list[str] = []
    section = ""
    for check in checks:
        if check.section != section:
            section = check.section
            lines.append(f"【{section}】")
        mark = "√" if check.ok else ("－" if check.optional else "×")
        lines.append(f"  {mark} {check.name}：{check.detail}")
        if check.fix:
            lines.append(f"      → {check.fix}")
    missing = [c for c in checks if not c.ok]
    if missing:
        lines.append(f"共 {len(missing)} 项需要处理（标“－”的为可选，缺少时相应材料转人工查看）。")
    else:
        lines.append("检查通过。")
    return lines
