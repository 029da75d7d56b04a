#!/usr/bin/env python3
"""Build the offline install bundle for the office's Windows PC, on this Linux machine.

    python tools/build_windows_bundle.py --out DIR [--cache DIR] [--offline]

writes ``DIR/hyjdb-intake-windows.zip``: one folder ``hyjdb-intake/`` holding
- the application (the files git tracks, without tests, benchmarks and dev tools);
- ``wheelhouse/``: a ``win_amd64`` or ``py3-none-any`` wheel for every runtime requirement and
  everything they need, for Python 3.11 and 3.12 (``pip download --platform win_amd64
  --python-version 3.x --only-binary=:all:``);
- ``.bat`` launchers in the Chinese Windows code page (GBK, ``chcp 936``) with CRLF line ends:
  安装.bat, 设置授权码.bat, 启动控制台.bat, 收取一次.bat, 开机自动运行.bat, 取消开机自动运行.bat;
- 使用说明.txt: the README's Windows section (UTF-8 with BOM, CRLF, for Notepad).

pip evaluates dependency markers for the machine it runs on, not for ``--platform``: tqdm's
``colorama; platform_system == "Windows"`` would be left out here. So the wheelhouse is closed
over the requirements again with Windows' markers (``packaging``), what is missing is downloaded,
and every shipped wheel is checked to install on CPython 3.11/3.12 win_amd64.
"""

from __future__ import annotations

import argparse
import email.parser
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging import tags
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
PYTHONS = ("3.11", "3.12")
ROOT = "hyjdb-intake"
ZIP_NAME = "hyjdb-intake-windows.zip"
NOT_SHIPPED = ("tests/", "benchmarks/", "tools/", ".ci/", "samples/make_samples.py",
               "requirements-dev.txt", ".gitignore", "pyproject.toml")  # fmt: skip
WINDOWS_BEGIN, WINDOWS_END = "<!-- windows:begin -->", "<!-- windows:end -->"
MAX_ROUNDS = 6


class BundleError(Exception):
    """The bundle cannot be built as asked."""


@dataclass(frozen=True)
class Wheel:
    path: Path
    name: str  # canonical
    version: Version
    tags: frozenset[tags.Tag]
    requires: tuple[str, ...]  # Requires-Dist lines


# ---- requirements and wheels ----------------------------------------------------------------


def runtime_requirements(path: Path = REPO / "requirements.txt") -> list[Requirement]:
    reqs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if text.startswith("-"):
            raise BundleError(f"{path.name}: options are not supported in the runtime file: {text}")
        reqs.append(Requirement(text))
    return reqs


def windows_markers(python: str) -> dict[str, str]:
    """Environment markers of 64-bit CPython ``python`` on Windows 10/11."""
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "os_name": "nt",
        "platform_machine": "AMD64",
        "platform_python_implementation": "CPython",
        "platform_release": "10",
        "platform_system": "Windows",
        "platform_version": "10.0.19045",
        "python_full_version": f"{python}.0",
        "python_version": python,
        "sys_platform": "win32",
    }


def windows_tags(python: str) -> frozenset[tags.Tag]:
    major, minor = (int(part) for part in python.split("."))
    interpreter = f"cp{major}{minor}"
    found = set(tags.cpython_tags((major, minor), abis=[interpreter], platforms=["win_amd64"]))
    found |= set(tags.compatible_tags((major, minor), interpreter, platforms=["win_amd64"]))
    return frozenset(found)


def read_wheel(path: Path) -> Wheel:
    name, version, _, wheel_tags = parse_wheel_filename(path.name)
    with zipfile.ZipFile(path) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        message = email.parser.BytesParser().parsebytes(zf.read(meta), headersonly=True)
    return Wheel(path, canonicalize_name(name), version, wheel_tags,
                 tuple(message.get_all("Requires-Dist") or ()))  # fmt: skip


def wheels_in(folder: Path) -> list[Wheel]:
    return [read_wheel(path) for path in sorted(folder.glob("*.whl"))]


def close_over(
    requirements: Iterable[Requirement], wheels: list[Wheel], python: str
) -> tuple[list[Wheel], list[Requirement]]:
    """The wheels that ``pip install --no-index`` needs on Windows for ``requirements``, and
    the requirements no wheel in ``wheels`` satisfies (markers evaluated as on Windows)."""
    supported = windows_tags(python)
    env = windows_markers(python)
    chosen: dict[str, Wheel] = {}
    missing: list[Requirement] = []
    queue: list[tuple[Requirement, str]] = [(req, "") for req in requirements]
    done: set[tuple[str, str]] = set()
    while queue:
        req, extra = queue.pop()
        if req.marker is not None and not req.marker.evaluate({**env, "extra": extra}):
            continue
        key = (str(req), extra)
        if key in done:
            continue
        done.add(key)
        name = canonicalize_name(req.name)
        fits = [w for w in wheels if w.name == name and w.tags & supported
                and req.specifier.contains(w.version, prereleases=True)]  # fmt: skip
        if not fits:
            missing.append(req)
            continue
        wheel = chosen.get(name) or max(fits, key=lambda w: w.version)
        chosen[name] = wheel
        for line in wheel.requires:
            try:
                dependency = Requirement(line)
            except InvalidRequirement:
                continue
            queue.extend((dependency, e) for e in (req.extras or {""}))
    return sorted(chosen.values(), key=lambda w: w.name), missing


def check_wheelhouse(folder: Path, requirements: list[Requirement], pythons=PYTHONS) -> list[str]:
    """Problems that would stop an offline install on Windows (empty: none)."""
    wheels = wheels_in(folder)
    problems = []
    for python in pythons:
        _, missing = close_over(requirements, wheels, python)
        problems += [f"Python {python} (win_amd64): no wheel for {req}" for req in missing]
    return problems


# ---- downloading ----------------------------------------------------------------------------


def pip_download(specs: list[str], dest: Path, python: str) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--only-binary=:all:", "--platform", "win_amd64", "--python-version", python,
               "--implementation", "cp", "--dest", str(dest), *specs]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise BundleError(f"pip download failed for Python {python}: {' | '.join(tail)}")


def _spec(req: Requirement) -> str:
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    return f"{req.name}{extras}{req.specifier}"


def gather_wheels(
    requirements: list[Requirement], cache: Path, python: str, offline: bool
) -> list[Wheel]:
    """Download (unless ``offline``) until the Windows closure of ``requirements`` is complete."""
    folder = cache / f"cp{python.replace('.', '')}-win_amd64"
    folder.mkdir(parents=True, exist_ok=True)
    if not offline:
        pip_download([_spec(req) for req in requirements], folder, python)
    for _ in range(MAX_ROUNDS):
        chosen, missing = close_over(requirements, wheels_in(folder), python)
        if not missing:
            return chosen
        if offline:
            break
        pip_download([_spec(req) for req in missing], folder, python)
    names = ", ".join(str(req) for req in missing)
    raise BundleError(f"Python {python}: no Windows wheel for {names}")


# ---- the application and the launchers ------------------------------------------------------


def app_files(repo: Path = REPO) -> list[str]:
    """Tracked files the office's PC needs (relative, '/'-separated)."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True,
                                check=True).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BundleError(f"the application files come from git: {exc}") from exc
    names = [name for name in listed.decode("utf-8").split("\0") if name]
    return sorted(n for n in names if not n.startswith(NOT_SHIPPED) and (repo / n).is_file())


_HEAD = ["@echo off", "chcp 936 >nul", "setlocal", 'cd /d "%~dp0"']
_NOT_INSTALLED = [
    'if exist ".venv\\Scripts\\python.exe" goto run',
    "echo 还没有安装：请先双击“安装.bat”。",
    "pause",
    "exit /b 1",
    ":run",
]
TASK_NAME = "衡阳县禁毒办材料收取"


def _run(title: str, command: str) -> list[str]:
    return [*_HEAD, *_NOT_INSTALLED, f"title {title}",
            f'".venv\\Scripts\\python.exe" run_pipeline.py --config config.yaml {command}',
            "pause"]  # fmt: skip


def bat_files() -> dict[str, list[str]]:
    """Launcher name -> lines (written in GBK with CRLF)."""
    version_check = (
        "import sys, struct; sys.exit(0 if sys.version_info[:2] in ((3, 11), (3, 12)) "
        "and struct.calcsize('P') == 8 else 1)"
    )
    install = [
        *_HEAD,
        "title 安装 衡阳县禁毒办材料收取",
        "echo 正在查找 Python 3.12 或 3.11（64 位）……",
        'py -3.12-64 -c "pass" >nul 2>nul && (set "PY=py -3.12-64" & goto found)',
        'py -3.11-64 -c "pass" >nul 2>nul && (set "PY=py -3.11-64" & goto found)',
        f'python -c "{version_check}" >nul 2>nul && (set "PY=python" & goto found)',
        "echo.",
        "echo 没有找到可用的 Python。请先安装 Python 3.12（64 位）：",
        "echo   1. 打开 https://www.python.org/downloads/windows/",
        "echo      下载 Windows installer 64-bit；",
        "echo   2. 安装时勾选 Add python.exe to PATH；",
        "echo   3. 装好后重新双击“安装.bat”。",
        "echo 本安装包只带有 Python 3.11 和 3.12 用的组件，其他版本无法离线安装。",
        "pause",
        "exit /b 1",
        ":found",
        "echo 使用 %PY%",
        'if exist ".venv\\Scripts\\python.exe" goto install',
        "%PY% -m venv .venv",
        "if errorlevel 1 goto venvfail",
        ":install",
        '".venv\\Scripts\\python.exe" -m pip install --no-index --disable-pip-version-check '
        "--find-links wheelhouse -r requirements.txt",
        "if errorlevel 1 goto pipfail",
        "echo.",
        '".venv\\Scripts\\python.exe" run_pipeline.py --config config.yaml doctor',
        "echo.",
        "echo 安装完成。请用记事本打开 config.yaml 填写邮箱，再双击“设置授权码.bat”；",
        "echo 以后双击“启动控制台.bat”打开控制台，或双击“收取一次.bat”收取一次邮件。",
        "pause",
        "exit /b 0",
        ":venvfail",
        "echo 创建运行环境失败：请把本文件夹放在可写的位置（如 D:\\禁毒办），",
        "echo 不要放在 C:\\Program Files 下。",
        "pause",
        "exit /b 1",
        ":pipfail",
        "echo 安装组件失败：请把上面的提示拍照发给技术人员。",
        "pause",
        "exit /b 1",
    ]
    password = [
        *_HEAD,
        "title 设置 QQ 邮箱授权码",
        "echo 授权码在 QQ 邮箱网页版生成：设置 → 账户 → 开启“IMAP/SMTP服务” → 生成授权码。",
        "echo 授权码是 16 位字母，不是 QQ 密码。它只保存在本机当前用户的环境变量里。",
        'set "CODE="',
        'set /p "CODE=请输入授权码后按回车："',
        'if "%CODE%"=="" goto empty',
        'setx INTAKE_IMAP_PASSWORD "%CODE%" >nul',
        "if errorlevel 1 goto failed",
        "echo 已保存。请关闭所有命令行窗口后再启动控制台或收取。",
        "pause",
        "exit /b 0",
        ":empty",
        "echo 没有输入授权码，未做修改。",
        "pause",
        "exit /b 1",
        ":failed",
        "echo 保存失败，请重试。",
        "pause",
        "exit /b 1",
    ]
    startup_file = f"%APPDATA%\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\{TASK_NAME}.bat"
    autostart = [
        *_HEAD,
        "title 开机自动运行",
        f'schtasks /Create /F /TN "{TASK_NAME}" /SC ONLOGON '
        '/TR "\\"%~dp0启动控制台.bat\\" --no-browser" >nul 2>nul',
        "if not errorlevel 1 goto task",
        "rem Without administrator rights a logon task may be refused: use the Startup folder.",
        f'> "{startup_file}" echo @start "{TASK_NAME}" /min cmd /c ""%~dp0启动控制台.bat" '
        '--no-browser"',
        "if errorlevel 1 goto failed",
        "echo 已设置：登录 Windows 后自动在后台启动（启动文件夹）。",
        "pause",
        "exit /b 0",
        ":task",
        f"echo 已设置：登录 Windows 后自动启动（任务计划程序中的“{TASK_NAME}”）。",
        "pause",
        "exit /b 0",
        ":failed",
        "echo 设置失败：请以管理员身份运行本文件，或按使用说明手动设置。",
        "pause",
        "exit /b 1",
    ]
    no_autostart = [
        *_HEAD,
        f'schtasks /Delete /F /TN "{TASK_NAME}" >nul 2>nul',
        f'if exist "{startup_file}" del "{startup_file}"',
        "echo 已取消开机自动运行。",
        "pause",
    ]
    return {
        "安装.bat": install,
        "设置授权码.bat": password,
        "启动控制台.bat": _run("衡阳县禁毒办材料收取 控制台（关闭本窗口即停止）", "serve %*"),
        "收取一次.bat": _run("衡阳县禁毒办材料收取 收取一次", "once"),
        "开机自动运行.bat": autostart,
        "取消开机自动运行.bat": no_autostart,
    }


def bat_bytes(lines: list[str]) -> bytes:
    """GBK (what cmd.exe reads on Chinese Windows), CRLF line ends."""
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def windows_guide(readme: Path = REPO / "README.md") -> bytes:
    text = readme.read_text(encoding="utf-8")
    match = re.search(re.escape(WINDOWS_BEGIN) + r"(.*?)" + re.escape(WINDOWS_END), text, re.S)
    if match is None:
        raise BundleError("README.md has no Windows section (windows:begin/end markers)")
    return ("\ufeff" + match.group(1).strip() + "\n").replace("\n", "\r\n").encode("utf-8")


# ---- the bundle -----------------------------------------------------------------------------


def build(out: Path, cache: Path, offline: bool = False, pythons=PYTHONS) -> Path:
    requirements = runtime_requirements()
    wheels: dict[Path, Wheel] = {}
    for python in pythons:
        for wheel in gather_wheels(requirements, cache, python, offline):
            wheels.setdefault(Path(wheel.path.name), wheel)
    out.mkdir(parents=True, exist_ok=True)
    target = out / ZIP_NAME
    partial = out / f".{ZIP_NAME}.part"
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in app_files():
            zf.write(REPO / name, f"{ROOT}/{name}")
        for name, wheel in sorted(wheels.items()):
            zf.write(wheel.path, f"{ROOT}/wheelhouse/{name}", compress_type=zipfile.ZIP_STORED)
        for name, lines in bat_files().items():
            zf.writestr(f"{ROOT}/{name}", bat_bytes(lines))
        zf.writestr(f"{ROOT}/使用说明.txt", windows_guide())
    partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the offline Windows install bundle.")
    parser.add_argument("--out", type=Path, required=True, help="folder for the .zip")
    parser.add_argument("--cache", type=Path, default=REPO / "build" / "wheel-cache",
                        help="where downloaded wheels are kept between builds")  # fmt: skip
    parser.add_argument("--offline", action="store_true",
                        help="use only wheels already in the cache (no network)")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        target = build(args.out, args.cache, args.offline)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    with zipfile.ZipFile(target) as zf:
        count = sum(1 for n in zf.namelist() if n.startswith(f"{ROOT}/wheelhouse/"))
    size = target.stat().st_size / 1024**2
    print(f"{target} ({size:.0f} MB, {count} wheels for Python {', '.join(PYTHONS)} win_amd64)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
