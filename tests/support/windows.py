"""Simulated Windows for tests on Linux: the POSIX-only APIs removed from the product's view.

``POSIX_ONLY`` lists what Windows' Python lacks (process groups, signals it cannot send,
``fcntl`` and friends). ``scan_posix_only`` finds them in source code (AST, so comments and
strings do not count, but ``start_new_session=`` and ``/tmp`` paths do); ``simulate_windows``
hides them from every product module at run time, while libraries (psutil, filelock) keep their
own platform code, as they would on Windows.
"""

from __future__ import annotations

import ast
import os
import signal
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = ("intake", "parsers", "scoring", "outputs", "outbox", "pipeline", "portable")
PRODUCT_MODULES = ("run_pipeline", "contract")
COMPAT_MODULE = "portable/processes.py"  # the one guarded compatibility module

POSIX_ONLY_OS = frozenset(
    {
        "killpg", "setsid", "setpgid", "getpgid", "getpgrp", "setpgrp", "fork", "forkpty",
        "getuid", "geteuid", "getgid", "getegid", "setuid", "setgid", "chown", "lchown",
        "fchown", "mkfifo", "mknod", "sync", "uname", "getloadavg", "nice", "wait3", "wait4",
        "WNOHANG", "O_NOFOLLOW", "O_CLOEXEC", "O_DIRECTORY", "pipe2", "sched_getaffinity",
        "posix_spawn", "getsid", "tcgetpgrp",
    }
)  # fmt: skip
POSIX_ONLY_SIGNAL = frozenset(
    {
        "SIGKILL", "SIGHUP", "SIGQUIT", "SIGALRM", "SIGUSR1", "SIGUSR2", "SIGCHLD", "SIGPIPE",
        "SIGSTOP", "SIGCONT", "SIGTSTP", "alarm", "setitimer", "getitimer", "pause",
        "pthread_kill", "sigwait", "siginterrupt", "killpg",
    }
)  # fmt: skip
POSIX_ONLY_MODULES = frozenset(
    {"fcntl", "pwd", "grp", "resource", "termios", "tty", "pty", "posix", "syslog", "crypt"}
)
POSIX_ONLY_KEYWORDS = frozenset({"start_new_session", "preexec_fn", "process_group", "pass_fds"})
POSIX_PATHS = ("/tmp", "/var/tmp", "/dev/null", "/proc/")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str


def product_files() -> list[Path]:
    """Every Python file the office's PC runs (tests, benchmarks and dev tools excluded)."""
    files = [REPO / f"{name}.py" for name in PRODUCT_MODULES if (REPO / f"{name}.py").is_file()]
    for package in PRODUCT_PACKAGES:
        files.extend(sorted((REPO / package).rglob("*.py")))
    return files


def scan_posix_only(path: Path) -> list[Finding]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(REPO).as_posix()
    found: list[Finding] = []

    def add(node: ast.AST, what: str) -> None:
        found.append(Finding(where, getattr(node, "lineno", 0), what))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in POSIX_ONLY_MODULES:
                    add(node, f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            root = node.module.split(".")[0]
            if root in POSIX_ONLY_MODULES:
                add(node, f"from {node.module} import")
            banned = {"os": POSIX_ONLY_OS, "signal": POSIX_ONLY_SIGNAL}.get(root, frozenset())
            for alias in node.names:
                if alias.name in banned:
                    add(node, f"from {root} import {alias.name}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            banned = {"os": POSIX_ONLY_OS, "signal": POSIX_ONLY_SIGNAL}.get(node.value.id)
            if banned and node.attr in banned:
                add(node, f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.keyword) and node.arg in POSIX_ONLY_KEYWORDS:
            add(node, f"{node.arg}=")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith(POSIX_PATHS)
        ):
            add(node, f"path {node.value!r}")
    return found


def _without(module: types.ModuleType, names: frozenset[str]) -> types.ModuleType:
    proxy = types.ModuleType(module.__name__, module.__doc__)
    proxy.__dict__.update({k: v for k, v in vars(module).items() if k not in names})
    return proxy


def simulate_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide the POSIX-only APIs from every loaded product module; block ``fcntl``."""
    windows_os = _without(os, POSIX_ONLY_OS)
    windows_signal = _without(signal, POSIX_ONLY_SIGNAL)
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in (*PRODUCT_PACKAGES, *PRODUCT_MODULES):
            continue
        if getattr(module, "os", None) is os:
            monkeypatch.setattr(module, "os", windows_os)
        if getattr(module, "signal", None) is signal:
            monkeypatch.setattr(module, "signal", windows_signal)
    # A fresh `import fcntl` fails (the product's file locks go through filelock). Other
    # POSIX-only modules stay importable: libraries pick them by sys.platform, which still
    # says Linux here (py7zr imports `resource` lazily); the static scan keeps them out of
    # the product.
    monkeypatch.setitem(sys.modules, "fcntl", None)
