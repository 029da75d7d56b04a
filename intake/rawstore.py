"""Content-addressed store of raw messages: the audit trail everything else is rebuilt from."""

from __future__ import annotations

import hashlib
from pathlib import Path

from portable.atomic import flush_to_disk, write_bytes_atomic


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RawStore:
    """``<data>/mail/<aa>/<sha256>.eml``; writing the same message twice is a no-op."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "mail"
        self.scratch = data_dir / "tmp"

    def relpath(self, digest: str) -> str:
        return f"mail/{digest[:2]}/{digest}.eml"

    def put(self, raw: bytes) -> str:
        return self.put_all([raw])[0]

    def put_all(self, raws: list[bytes]) -> list[str]:
        """Store messages and make them durable together (one flush for a fetch batch); a
        crash before the flush loses nothing the ledger knows of, since the ledger records a
        message only after this returns."""
        digests, written = self.write_all(raws)
        flush_to_disk(written)
        return digests

    def write_all(self, raws: list[bytes]) -> tuple[list[str], list[Path]]:
        """Store messages without flushing them: their digests, and the files written, which
        the caller flushes (``flush_to_disk``) before the ledger records any of them."""
        digests, written = [], []
        for raw in raws:
            digest = sha256_hex(raw)
            path = self.root / digest[:2] / f"{digest}.eml"
            if not path.exists() or path.stat().st_size != len(raw):
                # via a temp file in scratch (emptied when a worker starts), so a crash never
                # leaves a half-written message in place
                written.append(write_bytes_atomic(path, raw, scratch=self.scratch, durable=False))
            digests.append(digest)
        return digests, written
