"""A campaign for the console tests: the sample inbox plus a hostile mail, processed once, and
``serve`` started as users start it (a subprocess on a free port)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.support import files
from tests.support.dovecot import free_port
from tests.support.mails import Att, Mail
from tests.support.project import REPO, write_config

SAMPLES = REPO / "samples" / "inbox"
HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_SUBJECT = f"{HOSTILE}</script><script>alert(2)</script>材料"
HOSTILE_BODY = "正文</script><script>alert(3)</script><b>加粗</b>"
HOSTILE_FILE = "<img src=x onerror=alert(4)>说明.docx"
PASSWORD = "正确的密码-123"


def hostile_mail() -> bytes:
    """A mail whose every string tries to become markup; its sender is unknown (review)."""
    return Mail(
        sender=(HOSTILE, "stranger@example.com"),
        subject=HOSTILE_SUBJECT,
        date=dt.datetime(2020, 12, 30, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        text=HOSTILE_BODY,
        html="<p>HTML正文</p><script>alert(5)</script><img src=x onerror=alert(6)>",
        attachments=[Att(HOSTILE_FILE, files.docx(["说明", "这是一份说明。"]))],
        seed="hostile",
    ).to_bytes()


PASSAGE = (
    "今年我们组织志愿者深入各村组开展禁毒宣传，发放宣传资料三千余份，举办专题讲座八场，"
    "受教育群众达两万人次，并对社区戒毒人员逐一走访帮扶，取得了良好的社会效果。"
)
DEEDS = "赵六同志长期坚持禁毒宣传，带领志愿者走遍全镇各村。"
REFERENCE = "往年材料"  # last year's material, beside config.yaml (integrity.reference_folders)


def shared_photo() -> bytes:
    return files.photo(77, 800, 600, exif_datetime="2020:12:15 10:30:00")


def add_shared_materials(
    folder: Path, photo_name: str = "活动照片.jpg", passage: str = PASSAGE, deeds: str = DEEDS
) -> None:
    """Mails for integrity findings: 集兵镇 and 杉桥镇 both send one photo (also in last year's
    folder) and a report with one passage; 集兵镇's deeds name 赵六. The config must list
    ``REFERENCE`` under integrity.reference_folders."""
    photo = shared_photo()
    (folder / REFERENCE).mkdir(exist_ok=True)
    (folder / REFERENCE / "2019年活动.jpg").write_bytes(photo)
    senders = {"集兵镇": "jibingzjdb@163.com", "杉桥镇": "shanqiaozhen@126.com"}
    for index, (unit, address) in enumerate(senders.items()):
        attachments = [
            Att(photo_name, photo),
            Att(f"{unit}工作总结.docx", files.docx([passage], title=f"{unit}工作总结")),
        ]
        if unit == "集兵镇":
            title = "赵六同志先进事迹材料"
            attachments.append(Att(f"{title}.docx", files.docx([deeds], title=title)))
        mail = Mail(
            sender=(unit, address),
            subject=f"{unit}禁毒志愿服务材料",
            date=dt.datetime(2020, 12, 20 + index, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
            attachments=attachments,
            seed=unit,
        )
        (folder / "inbox" / f"50_{index}.eml").write_bytes(mail.to_bytes())


def make_campaign(folder: Path, **sections) -> Path:
    """A config over a copy of the sample inbox plus the hostile mail; returns the config path."""
    inbox = folder / "inbox"
    shutil.copytree(SAMPLES, inbox, ignore=shutil.ignore_patterns("*.md"))
    (inbox / "99_hostile.eml").write_bytes(hostile_mail())
    return write_config(folder, **sections)


def add_user(config: Path, name: str, role: str) -> None:
    env = {**os.environ, "CONSOLE_TEST_PASSWORD": PASSWORD}
    done = subprocess.run(
        [sys.executable, str(REPO / "run_pipeline.py"), "--config", str(config), "add-user",
         name, "--role", role, "--password-env", "CONSOLE_TEST_PASSWORD"],
        capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def set_listen(config: Path, listen: str) -> None:
    import yaml

    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data.setdefault("console", {})["listen"] = listen
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@contextlib.contextmanager
def serving(config: Path, *args: str, env: dict | None = None) -> Iterator[str]:
    """``serve`` in a subprocess on a free port; yields its base URL; Ctrl-C (SIGINT) at the end."""
    port = free_port()
    set_listen(config, f"127.0.0.1:{port}")
    log = open(config.parent / "serve.log", "w", encoding="utf-8")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, str(REPO / "run_pipeline.py"), "--config", str(config), "serve",
         "--no-browser", *args],
        stdout=log, stderr=subprocess.STDOUT, cwd=config.parent, stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/static/console.css", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(serve_log(config)) from None
                time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        serving.exit_code = process.returncode  # type: ignore[attr-defined]


def serve_log(config: Path) -> str:
    path = config.parent / "serve.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""
