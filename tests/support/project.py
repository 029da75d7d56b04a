"""Run the product the way users do: a config file in a folder, the CLI in a subprocess."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
REGISTRY = REPO / "registry.csv"
PASSWORD_ENV = "TEST_IMAP_PASSWORD"


def write_config(folder: Path, account=None, **sections) -> Path:
    """A config in ``folder``: IMAP against ``account`` (security none), else a folder source."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REGISTRY, folder / "registry.csv")
    if account is not None:
        mailbox = {
            "source": "imap",
            "host": account.host,
            "port": account.port,
            "security": "none",
            "username": account.username,
            "password_env": PASSWORD_ENV,
            "folder": "INBOX",
            "timeout_s": 10,
            "reconnect_attempts": 2,
            "reconnect_backoff_s": 0.1,
        }
    else:
        (folder / "inbox").mkdir(exist_ok=True)
        mailbox = {"source": "folder", "path": "inbox"}
    mailbox.update(sections.pop("mailbox", {}))
    config = {
        "mailbox": mailbox,
        "campaign": {"deadline": "2020-12-31T23:59:59+08:00"},
        "units_file": "registry.csv",
        "paths": {"data": "data", "reports": "data/reports"},
        **sections,
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def run_cli(
    config: Path,
    *args: str,
    password: str | None = None,
    timeout: float = 300,
    env: dict[str, str] | None = None,
):
    """The CLI in a subprocess; ``env`` adds to (or overrides) the environment."""
    env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k != PASSWORD_ENV}
    if password is not None:
        env[PASSWORD_ENV] = password
    return subprocess.run(
        [sys.executable, str(REPO / "run_pipeline.py"), "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=config.parent,
    )


def tree(folder: Path) -> dict[str, str]:
    """Relative path → sha256 of every file below ``folder``."""
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def snapshot(data: Path) -> dict:
    """Everything a run leaves that must not depend on interruptions."""
    from intake.ledger import Ledger

    with Ledger(data / "ledger.sqlite3") as ledger:
        dump = json.loads(ledger.dump())
    # UIDVALIDITY is the server's choice per mailbox; two equal mailboxes differ only there.
    for row in dump["cursors"]:
        row[1] = 0
    for row in dump["locations"]:
        row[1] = 0
    return {
        "ledger": dump,
        "materials": tree(data / "materials"),
        "mail": sorted(tree(data / "mail")),
        "units.csv": (data / "reports" / "units.csv").read_text(encoding="utf-8-sig"),
        "attachments.csv": (data / "reports" / "attachments.csv").read_text(encoding="utf-8-sig"),
    }
