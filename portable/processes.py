"""Running an external program with a time limit, and ending it with everything it started.

This is the project's one compatibility module for processes: the only place allowed to use
POSIX-only calls (process groups, signals), each behind a check that the call exists, so that
the same code runs on the office's Windows PC. ``psutil`` (a well-kept, cross-platform library)
finds and kills the program's whole process tree on every platform; on POSIX the program also
gets its own session, and the session's process group is killed as well, catching a grandchild
that detached from the tree.

A program killed this way cannot remove the Unix-domain sockets it listened on (LibreOffice's
``OSL_PIPE_*`` in the system temp folder): they are removed once the program is gone. Windows
named pipes vanish with their process, so nothing is left there.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import tempfile
import time
from typing import IO

import psutil

KILL_WAIT_S = 10


def run_bounded(
    command: list[str],
    timeout_s: float,
    *,
    stdout: int | IO[bytes] = subprocess.DEVNULL,
    env: dict[str, str] | None = None,
) -> str:
    """Run ``command``: "ok", "failed" (could not start, or non-zero exit) or "timeout".
    Whatever it started is ended before this returns, whether it finished or not."""
    started = time.time()
    try:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.DEVNULL,
            env=env,
            **_isolation(),
        )
    except OSError:
        return "failed"
    try:
        code = proc.wait(timeout=max(timeout_s, 0.01))
    except subprocess.TimeoutExpired:
        return "timeout"
    finally:
        kill_tree(proc, started)
    return "ok" if code == 0 else "failed"


def kill_tree(proc: subprocess.Popen, started: float | None = None) -> None:
    """Kill ``proc`` and all its descendants, wait for them, remove the sockets they left."""
    family = _family(proc.pid, started if started is not None else time.time() - 1)
    sockets = _listening_sockets(family)
    for member in family:
        with contextlib.suppress(psutil.Error):
            member.kill()
    if _has_process_groups():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(psutil.Error):
        psutil.wait_procs(family, timeout=KILL_WAIT_S)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=KILL_WAIT_S)
    _remove_sockets(sockets)


def _has_process_groups() -> bool:
    return hasattr(os, "setsid") and hasattr(os, "killpg") and hasattr(signal, "SIGKILL")


def _isolation() -> dict[str, object]:
    """Popen options that keep the program apart from us (and without a console window)."""
    if _has_process_groups():
        return {"start_new_session": True}
    flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
    flags |= getattr(subprocess, "CREATE_NO_WINDOW", 0)
    return {"creationflags": flags}


def _family(pid: int, started: float) -> list[psutil.Process]:
    """The process and its descendants; once it has exited, the children it left behind."""
    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.Error:
        pass
    orphans = []
    for candidate in psutil.process_iter(["ppid", "create_time"]):
        info = candidate.info
        if info.get("ppid") == pid and (info.get("create_time") or 0) >= started - 1:
            orphans.append(candidate)
    family = list(orphans)
    for orphan in orphans:
        with contextlib.suppress(psutil.Error):
            family.extend(orphan.children(recursive=True))
    return family


def _listening_sockets(family: list[psutil.Process]) -> set[str]:
    paths: set[str] = set()
    for member in family:
        try:
            connections = member.net_connections(kind="unix")
        except (psutil.Error, ValueError, NotImplementedError, OSError):
            continue  # no Unix sockets on this platform, or the process is gone
        paths.update(c.laddr for c in connections if isinstance(c.laddr, str) and c.laddr)
    return paths


def _remove_sockets(paths: set[str]) -> None:
    """Only in temp folders: a killed program's rendezvous sockets live there (LibreOffice
    always uses /tmp, whatever TMPDIR says), never a system service's."""
    folders = {os.path.realpath(d) for d in (tempfile.gettempdir(), "/tmp", "/var/tmp")}
    for path in paths:
        if os.path.dirname(os.path.realpath(path)) not in folders:
            continue
        with contextlib.suppress(OSError):
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)


def exit_with_parent() -> None:
    """For a worker process: end it as soon as the process that started it is gone.

    A pool worker holds both ends of its own task pipe, so when its parent is killed (SIGKILL,
    a closed console window) it would wait for work forever. The parent's sentinel works the
    same way on Windows (a process handle) and on POSIX (a pipe).
    """
    import multiprocessing
    import multiprocessing.connection
    import threading

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
