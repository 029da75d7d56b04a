"""Content-addressed store of raw messages: the audit trail everything else is rebuilt from."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data: bytes, scratch: Path) -> None:
    """Write via a temp file in ``scratch`` and rename, so a crash never leaves a half-written
    file in place; ``scratch`` (on the same file system) is emptied when a worker starts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch.mkdir(parents=True, exist_ok=True)
    tmp = scratch / f"{path.name}.{os.getpid()}.tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class RawStore:
    """``<data>/mail/<aa>/<sha256>.eml``; writing the same message twice is a no-op."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "mail"
        self.scratch = data_dir / "tmp"

    def relpath(self, digest: str) -> str:
        return f"mail/{digest[:2]}/{digest}.eml"

    def put(self, raw: bytes) -> str:
        digest = sha256_hex(raw)
        path = self.root / digest[:2] / f"{digest}.eml"
        if not path.exists() or path.stat().st_size != len(raw):
            atomic_write(path, raw, self.scratch)
        return digest
