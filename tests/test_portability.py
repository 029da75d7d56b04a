"""The office runs Windows: no POSIX-only call on any path the product runs.

A static scan keeps POSIX-only APIs inside the one guarded compatibility module
(``portable/processes.py``); the document, archive and lock paths then run here with those APIs
removed from the product's view (``tests.support.windows.simulate_windows``), so a regression
fails on Linux CI. External tools are looked for where Windows installs them, and a missing one
becomes a review reason, never a crash or a silent zero.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psutil
import pytest

from parsers.archives import expand
from parsers.documents import read_document
from parsers.tools import ToolPaths, find_tools
from pipeline.config import load_config
from pipeline.jobs import BusyError, poller, run_once, worker
from portable.logfile import RotatingLog
from portable.processes import kill_tree, run_bounded
from tests.support import files
from tests.support.mails import Att, Mail
from tests.support.project import run_cli, write_config
from tests.support.windows import (
    COMPAT_MODULE,
    REPO,
    product_files,
    scan_posix_only,
    simulate_windows,
)

IN_CI = os.environ.get("CI") == "true"
CST = timezone(timedelta(hours=8))
TITLE = "西渡镇2020年禁毒志愿服务工作总结"


def require(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        if IN_CI:
            pytest.fail(f"{tool} is not installed", pytrace=False)
        pytest.skip(f"{tool} is not installed")
    return found


def script(path: Path, body: str) -> Path:
    """An executable Python script (a stand-in for soffice.exe or 7z.exe)."""
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body), encoding="utf-8")
    path.chmod(0o755)
    return path


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> None:
    simulate_windows(monkeypatch)


@pytest.fixture(scope="module")
def report_doc() -> bytes:
    if not files.have_soffice():
        require("soffice")
    return files.doc([TITLE, "今年以来，我镇认真组织开展禁毒志愿服务活动。"])


# ---- the static scan ------------------------------------------------------------------------


def test_no_posix_only_api_outside_the_compatibility_module() -> None:
    findings = [
        finding
        for path in product_files()
        if path.relative_to(REPO).as_posix() != COMPAT_MODULE
        for finding in scan_posix_only(path)
    ]
    assert findings == []


def test_the_scan_finds_what_once_broke_every_doc_on_windows(tmp_path: Path) -> None:
    """The converter used to run in its own session and be killed with os.killpg/SIGKILL."""
    old = tmp_path / "old.py"
    old.write_text(
        "import os, signal, subprocess, fcntl\n"
        "p = subprocess.Popen(['soffice'], start_new_session=True)\n"
        "os.killpg(p.pid, signal.SIGKILL)\n"
        "open('/tmp/x.lock')\n",
        encoding="utf-8",
    )
    moved = REPO / "tests" / ".cache" / f"scan-{uuid.uuid4().hex}.py"
    moved.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(old, moved)
    try:
        what = {finding.what for finding in scan_posix_only(moved)}
    finally:
        moved.unlink()
    assert what == {"import fcntl", "start_new_session=", "os.killpg", "signal.SIGKILL",
                    "path '/tmp/x.lock'"}  # fmt: skip


def test_the_compatibility_module_guards_every_posix_call() -> None:
    text = (REPO / COMPAT_MODULE).read_text(encoding="utf-8")
    assert 'hasattr(os, "killpg")' in text and 'hasattr(signal, "SIGKILL")' in text


# ---- documents: a hung converter on simulated Windows ---------------------------------------


def hung_converter(tmp_path: Path) -> Path:
    """A 'soffice' that starts a child, writes both pids, and hangs."""
    return script(
        tmp_path / "soffice.exe",
        """
        import os, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(os.environ["FAKE_PIDS"], "w") as fh:
            fh.write(f"{os.getpid()} {child.pid}")
        time.sleep(600)
        """,
    )


def test_hung_converter_and_its_children_are_killed_on_simulated_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, windows: None, report_doc: bytes
) -> None:
    """GIVEN Windows (no process groups, no SIGKILL) and a converter that hangs with a child
    WHEN a .doc report is read THEN the read times out with a Chinese reason, the converter and
    its child are gone, and the next report is read normally."""
    pids = tmp_path / "pids"
    monkeypatch.setenv("FAKE_PIDS", str(pids))
    doc = tmp_path / "总结.doc"
    doc.write_bytes(report_doc)
    hung = ToolPaths(soffice=str(hung_converter(tmp_path)))
    started = time.monotonic()
    result = read_document(doc, "doc", timeout_s=3, tools=hung)
    assert time.monotonic() - started < 20
    assert "超时" in result.problem and result.text == ""
    parent, child = (int(pid) for pid in pids.read_text().split())
    deadline = time.monotonic() + 10
    while not (gone(parent) and gone(child)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone(parent) and gone(child)
    real = read_document(doc, "doc", tools=find_tools())
    assert real.problem == ""
    assert real.title.startswith(TITLE)


def test_a_killed_program_leaves_no_socket_in_the_temp_folder(tmp_path: Path) -> None:
    """LibreOffice listens on /tmp/OSL_PIPE_*; killed, it cannot remove it: we do."""
    pipe = Path(tempfile.gettempdir()) / f"OSL_PIPE_test_{uuid.uuid4().hex}"
    ready = tmp_path / "ready"
    fake = script(
        tmp_path / "listener",
        f"""
        import socket, time
        s = socket.socket(socket.AF_UNIX)
        s.bind({str(pipe)!r})
        s.listen()
        open({str(ready)!r}, "w").close()
        time.sleep(600)
        """,
    )
    try:
        assert run_bounded([str(fake)], timeout_s=5) == "timeout"
        assert ready.exists()  # it did listen before it was killed
        assert not pipe.exists()
    finally:
        pipe.unlink(missing_ok=True)


def test_real_libreoffice_killed_leaves_no_osl_pipe(tmp_path: Path) -> None:
    soffice = require("soffice")
    profile = (tmp_path / "profile").as_uri()
    command = [soffice, "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
               f"-env:UserInstallation={profile}"]  # fmt: skip
    env = {**os.environ, "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    started = time.time()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pipes: set[str] = set()
    try:
        deadline = time.monotonic() + 90
        while not pipes and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.3)
            for member in psutil.Process(proc.pid).children(recursive=True):
                try:
                    pipes |= {c.laddr for c in member.net_connections(kind="unix")
                              if isinstance(c.laddr, str) and "OSL_PIPE" in c.laddr}  # fmt: skip
                except psutil.Error:
                    continue
    finally:
        kill_tree(proc, started)
    if not pipes:
        pytest.fail("LibreOffice opened no OSL pipe within 90 s") if IN_CI else pytest.skip(
            "LibreOffice opened no OSL pipe in time"
        )
    assert all(Path(p).parent == Path("/tmp") for p in pipes)  # whatever TMPDIR says
    assert [p for p in pipes if os.path.exists(p)] == []


# ---- archives on simulated Windows ----------------------------------------------------------


def test_archives_expand_on_simulated_windows(tmp_path: Path, windows: None) -> None:
    zipped = tmp_path / "照片.zip"
    zipped.write_bytes(
        files.zip_archive({"照片.jpg": b"1", "照片.JPG": b"2", "CON.jpg": b"3", "a?b.jpg": b"4"})
    )
    result = expand(zipped, "照片.zip", tmp_path / "zip")
    assert result.expanded and not result.problems
    assert sorted(m.path.read_bytes() for m in result.members) == [b"1", b"2", b"3", b"4"]
    seven = tmp_path / "材料.7z"
    seven.write_bytes(files.sevenzip({"总结/报告.txt": b"report"}))
    result = expand(seven, "材料.7z", tmp_path / "7z")
    assert [m.name for m in result.members] == ["材料.7z/总结/报告.txt"]


def test_rar_through_unar_on_simulated_windows(tmp_path: Path, windows: None) -> None:
    require("unar")
    rar = tmp_path / "a.rar"
    rar.write_bytes(files.rar_sample("rar5-subdirs.rar"))
    result = expand(rar, "a.rar", tmp_path / "out", tools=find_tools())
    assert result.expanded and result.members and not result.problems


def seven_zip_stand_in(tmp_path: Path, unar: str) -> Path:
    """A '7z.exe' that answers rarfile's check ('7z i') and extracts one member to stdout
    ('7z e -so -bb0 -p -- archive member') through unar, as 7-Zip does on Windows."""
    return script(
        tmp_path / "7z.exe",
        f"""
        import subprocess, sys
        args = sys.argv[1:]
        if args[:1] == ["i"]:
            sys.exit(0)
        archive, *members = args[args.index("--") + 1:]
        sys.exit(subprocess.call([{unar!r}, "-q", "-o", "-", archive, *members]))
        """,
    )


def test_rar_through_7zip_when_unar_is_missing(tmp_path: Path, windows: None) -> None:
    unar = require("unar")
    seven = seven_zip_stand_in(tmp_path, unar)
    rar = tmp_path / "a.rar"
    rar.write_bytes(files.rar_sample("rar3-subdirs.rar"))
    result = expand(rar, "a.rar", tmp_path / "out", tools=ToolPaths(sevenzip=str(seven)))
    assert result.expanded and result.members and not result.problems


def test_rar_without_any_tool_is_kept_for_review_naming_7zip(tmp_path: Path) -> None:
    rar = tmp_path / "a.rar"
    rar.write_bytes(files.rar_sample("rar3-subdirs.rar"))
    result = expand(rar, "a.rar", tmp_path / "out", tools=ToolPaths())
    assert not result.expanded
    assert [p.code for p in result.problems] == ["no_tool"]
    assert "未安装 7-Zip" in result.problems[0].message


# ---- the worker lock on simulated Windows ---------------------------------------------------


def test_one_worker_per_data_folder_on_simulated_windows(tmp_path: Path, windows: None) -> None:
    config = load_config(write_config(tmp_path))
    with poller(config), pytest.raises(BusyError), poller(config):
        pass
    with worker(config):  # released: the next worker gets in
        pass


# ---- tools where Windows puts them ----------------------------------------------------------


def test_tools_are_found_where_windows_installers_put_them(tmp_path: Path) -> None:
    program_files = tmp_path / "Program Files"
    soffice = program_files / "LibreOffice" / "program" / "soffice.exe"
    seven = program_files / "7-Zip" / "7z.exe"
    local = tmp_path / "AppData" / "Local"
    ffmpeg = local / "Microsoft" / "WinGet" / "Links" / "ffmpeg.exe"
    tar = tmp_path / "Windows" / "System32" / "tar.exe"
    for tool in (soffice, seven, ffmpeg, tar):
        tool.parent.mkdir(parents=True, exist_ok=True)
        script(tool, "")
    empty = tmp_path / "empty-path"
    empty.mkdir()
    environ = {"PATH": str(empty), "ProgramFiles": str(program_files),
               "LOCALAPPDATA": str(local), "SystemRoot": str(tmp_path / "Windows")}  # fmt: skip
    found = find_tools(environ=environ)
    assert found == ToolPaths(soffice=str(soffice), sevenzip=str(seven), bsdtar=str(tar),
                              ffmpeg=str(ffmpeg))  # fmt: skip
    # A path in config wins; a folder is searched; a wrong path is "not found", not a crash.
    configured = find_tools(
        {"soffice": soffice.parent, "sevenzip": tmp_path / "nowhere" / "7z.exe"}, environ
    )
    assert configured.soffice == str(soffice)
    assert configured.sevenzip is None
    assert find_tools(environ={"PATH": str(empty)}) == ToolPaths()


def bare_windows_pc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No converter or archive tool anywhere: PATH holds only Python."""
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "python3").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(bare))
    for key in ("ProgramFiles", "ProgramFiles(x86)", "ProgramW6432", "LOCALAPPDATA", "SystemRoot"):
        monkeypatch.delenv(key, raising=False)


def test_missing_tools_become_review_reasons_not_a_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, windows: None, report_doc: bytes
) -> None:
    """GIVEN a Windows PC without LibreOffice or 7-Zip WHEN a unit sends a .doc report and a
    .rar of photos THEN both are stored and listed for review with what to install, and the rest
    of the mail counts."""
    bare_windows_pc(tmp_path, monkeypatch)
    path = write_config(tmp_path)
    mail = Mail(sender=("西渡镇", "hyxxidujdb@163.com"), subject="西渡镇材料", seed="w",
                attachments=[Att("总结.doc", report_doc),
                             Att("照片.rar", files.rar_sample("rar3-subdirs.rar")),
                             Att("1.jpg", files.jpeg(640, 480, seed=1))])  # fmt: skip
    (tmp_path / "inbox" / "a.eml").write_bytes(mail.to_bytes())
    summary = run_once(load_config(path), datetime(2020, 12, 30, tzinfo=CST))
    assert summary.units == {"西渡镇"}
    with worker(load_config(path)) as (ledger, _):
        rows = ledger.frame("files").set_index("filename")
    assert "未安装 LibreOffice，.doc 需人工查看" in rows.loc["总结.doc", "review_reason"]
    assert "未安装 7-Zip" in rows.loc["照片.rar", "review_reason"]
    assert rows.loc["照片.rar", "path"].startswith("materials/西渡镇/")
    assert rows.loc["1.jpg", "category"] == "photo"


# ---- doctor ---------------------------------------------------------------------------------


def test_doctor_lists_tools_and_mailbox_with_fixes_and_exits_0(tmp_path: Path) -> None:
    account = type("Account", (), {"host": "imap.qq.com", "port": 993, "username": "o@qq.com"})
    path = write_config(tmp_path, account=account)
    bare = tmp_path / "bin"
    bare.mkdir()
    env_path = {"PATH": str(bare)}
    result = run_cli(path, "doctor", timeout=120, env=env_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for line in ("LibreOffice", "7-Zip", "ffmpeg", "ffprobe", "imap.qq.com:993", "o@qq.com"):
        assert line in out
    assert "未找到" in out and "https://www.7-zip.org/" in out
    assert "TEST_IMAP_PASSWORD 未设置" in out and "setx TEST_IMAP_PASSWORD" in out
    secret = "s3cr3t-授权码-value"
    result = run_cli(path, "doctor", password=secret, timeout=120, env=env_path)
    assert "TEST_IMAP_PASSWORD 已设置" in result.stdout
    assert secret not in result.stdout + result.stderr


def test_doctor_with_a_broken_config_still_lists_tools(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("mailbox:\n  sourse: imap\n", encoding="utf-8")
    result = run_cli(path, "doctor", timeout=120)
    assert result.returncode == 2
    assert "LibreOffice" in result.stdout
    assert "未知的配置项 mailbox.sourse" in result.stderr and "Traceback" not in result.stderr


def test_run_bounded_reports_a_program_that_cannot_start(tmp_path: Path) -> None:
    assert run_bounded([str(tmp_path / "missing.exe")], timeout_s=5) == "failed"


def test_kill_tree_after_a_normal_exit_ends_the_child_left_behind(tmp_path: Path) -> None:
    pid_file = tmp_path / "child"
    leaver = script(
        tmp_path / "leaver",
        f"""
        import subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        """,
    )
    assert run_bounded([str(leaver)], timeout_s=30) == "ok"
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone(child)


# ---- the log file shared by watch and a staff command ---------------------------------------


def test_log_rotation_refused_by_windows_is_skipped_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN the log is open in another process (watch) WHEN it reaches its size limit THEN
    Windows refuses the rename: no traceback is printed, lines go on into the file, and the
    rotation happens once the file is free."""
    log = tmp_path / "pipeline.log"
    handler = RotatingLog(log, maxBytes=200, backupCount=2, encoding="utf-8")
    logger = logging.getLogger("test.rotation")
    logger.addHandler(handler)
    logger.propagate = False
    real_rename = os.rename

    def refused(src, dst):
        raise PermissionError(13, "另一个程序正在使用此文件，进程无法访问。", str(src))

    try:
        monkeypatch.setattr(os, "rename", refused)
        for index in range(30):
            logger.warning("line %02d %s", index, "x" * 40)
        assert "Logging error" not in capsys.readouterr().err
        assert "line 29" in log.read_text(encoding="utf-8")
        assert not (tmp_path / "pipeline.log.1").exists()
        monkeypatch.setattr(os, "rename", real_rename)
        monkeypatch.setattr(handler, "_next_try", 0.0)
        logger.warning("after the other process closed it")
        assert (tmp_path / "pipeline.log.1").exists()
    finally:
        logger.removeHandler(handler)
        handler.close()
