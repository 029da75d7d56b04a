"""The ledger: every message seen, every file stored, cursors and small state.

One small repository module over sqlite3 (WAL), so that a shared PostgreSQL can replace it: no
other module writes SQL. A message's effects are written inside one ``transaction()``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from portable.names import name_key

if TYPE_CHECKING:
    import pandas as pd

_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    raw_path TEXT NOT NULL,
    size INTEGER NOT NULL,
    received_at TEXT NOT NULL,          -- ISO 8601, aware
    time_source TEXT NOT NULL,          -- server | received | date | mtime
    message_id TEXT NOT NULL DEFAULT '',
    sender TEXT NOT NULL DEFAULT '',
    sender_name TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    unit TEXT,
    unit_level TEXT NOT NULL DEFAULT '',
    unit_evidence TEXT NOT NULL DEFAULT '',
    candidates TEXT NOT NULL DEFAULT '',
    nature TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,               -- pending | done | review | ignored | failed
    reason TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS messages_status ON messages(status);
CREATE TABLE IF NOT EXISTS locations (
    folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    message INTEGER NOT NULL REFERENCES messages(id),
    PRIMARY KEY (folder, uidvalidity, uid)
);
CREATE INDEX IF NOT EXISTS locations_message ON locations(message);
CREATE TABLE IF NOT EXISTS cursors (
    folder TEXT PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    last_uid INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    message INTEGER NOT NULL REFERENCES messages(id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,                 -- file | link | skipped
    filename TEXT NOT NULL,
    sender TEXT NOT NULL,
    unit TEXT,
    category TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '',
    size INTEGER,
    sha256 TEXT NOT NULL DEFAULT '',
    path TEXT NOT NULL DEFAULT '',
    link_code TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    review_reason TEXT NOT NULL DEFAULT '',
    UNIQUE (message, seq)
);
CREATE INDEX IF NOT EXISTS files_sha ON files(unit, sha256);
CREATE INDEX IF NOT EXISTS files_path ON files(path);
CREATE TABLE IF NOT EXISTS documents (
    sha256 TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    has_text_layer INTEGER NOT NULL,
    problem TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS sender_map (
    address TEXT PRIMARY KEY,
    unit TEXT NOT NULL,
    source TEXT NOT NULL,               -- learned | confirmed
    message INTEGER
);
CREATE TABLE IF NOT EXISTS folder_seen (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                 -- see CORRECTION_KINDS
    target TEXT NOT NULL,               -- message sha256, "<sha256>/<file key>", unit, address
    value TEXT NOT NULL,
    reason TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS corrections_target ON corrections(kind, target);
CREATE TABLE IF NOT EXISTS sent (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                 -- receipt | reminder | digest
    unit TEXT,
    recipient TEXT NOT NULL,
    message INTEGER,                    -- the message a receipt answers
    subject TEXT NOT NULL,
    status TEXT NOT NULL,               -- sent | dry_run | failed | skipped
    detail TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sent_kind ON sent(kind, unit, recipient);
"""

# Each step brings a ledger from the version before it to its own version; a new ledger is made
# by the same steps, so the path an upgrade takes is the path every test runs. Never edit a
# released step: add one.
_MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, _SCHEMA_V1),
    (
        2,
        """
        -- Facts measured once per stored image or video (perceptual hash, EXIF capture time,
        -- duration ...), as JSON written by the integrity checks; ``version`` names the probe
        -- that measured them, so a better probe measures again.
        CREATE TABLE media (
            sha256 TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            facts TEXT NOT NULL
        );
        """,
    ),
    (
        3,
        """
        -- Files of integrity.reference_folders / reference_texts (outside the data folder): their
        -- content hash per path, size and mtime, so an unchanged file is never read again; their
        -- facts go to ``media`` and their text to ``documents`` by that hash.
        CREATE TABLE reference_files (
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            sha256 TEXT NOT NULL
        );
        """,
    ),
    (
        4,
        """
        -- Each stored path as NTFS compares names (case- and NFC-insensitively), indexed: whether
        -- a name is taken is one lookup instead of a scan of the unit's folder (which grew with
        -- every file of the unit). name_key() is portable.names.name_key, registered by Ledger.
        ALTER TABLE files ADD COLUMN path_key TEXT NOT NULL DEFAULT '';
        UPDATE files SET path_key = name_key(path) WHERE path != '';
        CREATE INDEX files_path_key ON files(path_key) WHERE path_key != '';
        """,
    ),
)
SCHEMA_VERSION = _MIGRATIONS[-1][0]


class LedgerError(Exception):
    """The ledger cannot be used by this program; the message is one Chinese line."""


# Staff corrections; each survives re-runs and ``reprocess`` (SPEC office workflow).
CORRECTION_KINDS = (
    "assign_message",
    "exclude_message",
    "assign_file",
    "set_category",
    "exclude_file",
    "confirm_sender",
    "extend_deadline",
    "override_score",
    "revoke",  # target: the id of the correction it cancels (itself never revoked)
    "confirm_scores",  # target "scores"; value: JSON {unit: score} as staff confirmed it
    "confirm_individual",  # target "<unit>/<name>"; value "confirmed" | "rejected"
)


@dataclass(frozen=True)
class Cursor:
    uidvalidity: int
    last_uid: int


@dataclass(frozen=True)
class MessageRow:
    id: int
    sha256: str
    raw_path: str
    received_at: str
    time_source: str
    status: str
    attempts: int


@dataclass(frozen=True)
class Correction:
    id: int
    kind: str
    target: str
    value: str
    reason: str
    author: str
    created_at: str


@dataclass(frozen=True)
class FileRecord:
    """One row of ``files`` as the pipeline writes it."""

    seq: int
    kind: str
    filename: str
    sender: str
    unit: str | None
    category: str
    evidence: str
    size: int | None
    sha256: str
    path: str
    link_code: str
    note: str
    review_reason: str


class Ledger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            self._refuse_newer()  # before anything writes to the file (WAL mode does)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.create_function("name_key", 1, name_key, deterministic=True)
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    def schema_version(self) -> int:
        """0 for a new, empty database."""
        known = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone()
        if not known:
            return 0
        row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0]) if row else 0

    def _refuse_newer(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"数据库 {self.path} 由更新版本的程序创建（结构版本 {version}，本程序支持 "
                f"{SCHEMA_VERSION}），请使用新版程序，或换一个数据目录"
            )

    def _migrate(self) -> None:
        """Bring an older ledger up to this program's schema, after a backup copy."""
        version = self.schema_version()
        if version == SCHEMA_VERSION:
            return
        if version > 0:
            self._backup(version)
        for step, script in _MIGRATIONS:
            if step <= version:
                continue
            # Each step commits as one transaction: a crash leaves the ledger at a known version.
            try:
                self._db.executescript(
                    f"BEGIN IMMEDIATE;{script};INSERT OR REPLACE INTO meta "
                    f"VALUES ('schema_version', '{step}');COMMIT;"
                )
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _backup(self, version: int) -> Path:
        """A consistent copy of the ledger before it changes: data/backups/ledger-v1-….sqlite3."""
        folder = self.path.parent / "backups"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        target = folder / f"{self.path.stem}-v{version}-{stamp}{self.path.suffix}"
        with sqlite3.connect(target) as copy:
            self._db.backup(copy)
        copy.close()
        return target

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- state -------------------------------------------------------------------------------
    def get_state(self, key: str, default: str | None = "") -> str | None:
        row = self._db.execute("SELECT value FROM state WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_state(self, key: str, value: str) -> None:
        if self.get_state(key, None) != value:  # an idle poll must not touch the ledger
            self._db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (key, value))

    def bump_generation(self) -> None:
        """Reports depend on the ledger only through this counter (cheap idle polls)."""
        self.set_state("generation", str(int(self.get_state("generation", "0")) + 1))

    # -- cursors and locations ---------------------------------------------------------------
    def cursor(self, folder: str) -> Cursor | None:
        row = self._db.execute(
            "SELECT uidvalidity, last_uid FROM cursors WHERE folder=?", (folder,)
        ).fetchone()
        return Cursor(*row) if row else None

    def set_cursor(self, folder: str, uidvalidity: int, last_uid: int) -> None:
        self._db.execute(
            "INSERT INTO cursors VALUES (?, ?, ?) ON CONFLICT(folder) DO UPDATE SET "
            "uidvalidity=excluded.uidvalidity, last_uid=MAX(cursors.last_uid * "
            "(cursors.uidvalidity = excluded.uidvalidity), excluded.last_uid)",
            (folder, uidvalidity, last_uid),
        )

    def add_location(self, folder: str, uidvalidity: int, uid: int, message: int) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO locations VALUES (?, ?, ?, ?)",
            (folder, uidvalidity, uid, message),
        )

    # -- messages ----------------------------------------------------------------------------
    def message_by_sha(self, sha256: str) -> MessageRow | None:
        row = self._db.execute(
            "SELECT id, sha256, raw_path, received_at, time_source, status, attempts "
            "FROM messages WHERE sha256=?",
            (sha256,),
        ).fetchone()
        return MessageRow(*row) if row else None

    def message_by_message_id(self, message_id: str, received_at: str) -> MessageRow | None:
        """A known message with this Message-ID and receive time (re-matching after a rescan)."""
        row = self._db.execute(
            "SELECT id, sha256, raw_path, received_at, time_source, status, attempts "
            "FROM messages WHERE message_id=? AND received_at=? AND message_id != ''",
            (message_id, received_at),
        ).fetchone()
        return MessageRow(*row) if row else None

    def begin_message(
        self, sha256: str, raw_path: str, size: int, received_at: str, time_source: str
    ) -> MessageRow:
        """Record the message before processing it, counting the attempt (crash-safe retries)."""
        with self.transaction():
            self._db.execute(
                "INSERT INTO messages (sha256, raw_path, size, received_at, time_source, status, "
                "attempts) VALUES (?, ?, ?, ?, ?, 'pending', 1) ON CONFLICT(sha256) DO UPDATE "
                "SET attempts = attempts + 1",
                (sha256, raw_path, size, received_at, time_source),
            )
        row = self.message_by_sha(sha256)
        assert row is not None
        return row

    def retryable(self, max_attempts: int) -> list[MessageRow]:
        rows = self._db.execute(
            "SELECT id, sha256, raw_path, received_at, time_source, status, attempts "
            "FROM messages WHERE status IN ('pending', 'failed') AND attempts < ? ORDER BY id",
            (max_attempts,),
        ).fetchall()
        return [MessageRow(*row) for row in rows]

    def all_messages(self) -> list[MessageRow]:
        rows = self._db.execute(
            "SELECT id, sha256, raw_path, received_at, time_source, status, attempts "
            "FROM messages ORDER BY id"
        ).fetchall()
        return [MessageRow(*row) for row in rows]

    def finish_message(self, message: int, **fields: object) -> None:
        """Set the outcome columns of a message (inside the caller's transaction)."""
        columns = ", ".join(f"{name}=?" for name in fields)
        self._db.execute(f"UPDATE messages SET {columns} WHERE id=?", (*fields.values(), message))

    def clear_files(self, message: int) -> None:
        self._db.execute("DELETE FROM files WHERE message=?", (message,))

    def add_files(self, message: int, files: list[FileRecord]) -> None:
        self._db.executemany(
            "INSERT INTO files (message, seq, kind, filename, sender, unit, category, evidence, "
            "size, sha256, path, link_code, note, review_reason, path_key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    message,
                    f.seq,
                    f.kind,
                    f.filename,
                    f.sender,
                    f.unit,
                    f.category,
                    f.evidence,
                    f.size,
                    f.sha256,
                    f.path,
                    f.link_code,
                    f.note,
                    f.review_reason,
                    name_key(f.path) if f.path else "",
                )
                for f in files
            ],
        )

    def add_document(self, sha256: str, title: str, text: str, has_text: bool, problem: str):
        self._db.execute(
            "INSERT OR IGNORE INTO documents VALUES (?, ?, ?, ?, ?)",
            (sha256, title, text, int(has_text), problem),
        )

    # -- storage decisions -------------------------------------------------------------------
    def stored_copy(
        self, unit: str | None, sha256: str, ignore: frozenset[int] = frozenset()
    ) -> tuple[str, str] | None:
        """(path, category) of this content already stored for this unit."""
        rows = self._db.execute(
            "SELECT path, category, message FROM files WHERE unit IS ? AND sha256=? "
            "AND path != '' ORDER BY id",
            (unit, sha256),
        )
        for path, category, message in rows:
            if message not in ignore:
                return path, category
        return None

    def path_taken(self, path: str, ignore: frozenset[int] = frozenset()) -> bool:
        """Whether a row (outside ``ignore``) holds ``path`` as NTFS sees names: case- and
        NFC-insensitively (``path_key``)."""
        rows = self._db.execute(
            "SELECT message FROM files WHERE path_key = ? AND path_key != ''", (name_key(path),)
        )
        return any(message not in ignore for (message,) in rows)

    def taken_with_prefix(self, path: str, ignore: frozenset[int] = frozenset()) -> set[str]:
        """``path_key`` of every held path that begins like ``path`` does (as NTFS compares):
        one indexed range read instead of one lookup per numbered variant."""
        prefix = name_key(path)
        rows = self._db.execute(
            "SELECT path_key, message FROM files WHERE path_key != '' AND path_key >= ? "
            "AND path_key < ?",
            (prefix, prefix + "\U0010ffff"),
        )
        return {key for key, message in rows if message not in ignore}

    # -- sender map --------------------------------------------------------------------------
    def sender_map(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT address, unit FROM sender_map").fetchall())

    def learn_sender(self, address: str, unit: str, message: int) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO sender_map VALUES (?, ?, 'learned', ?)", (address, unit, message)
        )

    def confirm_sender(self, address: str, unit: str) -> None:
        """A staff-confirmed mapping: permanent, and stronger than a learned one."""
        self._db.execute(
            "INSERT OR REPLACE INTO sender_map VALUES (?, ?, 'confirmed', NULL)", (address, unit)
        )

    # -- corrections -------------------------------------------------------------------------
    def add_correction(
        self, kind: str, target: str, value: str, reason: str, author: str, created_at: str
    ) -> int:
        if kind not in CORRECTION_KINDS:
            raise ValueError(kind)
        cursor = self._db.execute(
            "INSERT INTO corrections (kind, target, value, reason, author, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (kind, target, value, reason, author, created_at),
        )
        return int(cursor.lastrowid)

    def corrections(
        self, kind: str | None = None, target_prefix: str = "", *, revoked: bool = False
    ) -> list[Correction]:
        """Corrections in force, in the order they were made (later ones win); with
        ``revoked=True`` also those a later ``revoke`` cancelled (for the record)."""
        rows = self._db.execute(
            "SELECT id, kind, target, value, reason, author, created_at FROM corrections "
            "WHERE (? IS NULL OR kind = ?) AND substr(target, 1, ?) = ? AND (? OR id NOT IN "
            "(SELECT CAST(target AS INTEGER) FROM corrections WHERE kind = 'revoke')) ORDER BY id",
            (kind, kind, len(target_prefix), target_prefix, int(revoked)),
        ).fetchall()
        return [Correction(*row) for row in rows]

    def correction(self, correction: int) -> Correction | None:
        row = self._db.execute(
            "SELECT id, kind, target, value, reason, author, created_at FROM corrections "
            "WHERE id=?",
            (correction,),
        ).fetchone()
        return Correction(*row) if row else None

    def unconfirm_sender(self, address: str) -> None:
        """Forget a staff-confirmed address (its confirmation was revoked)."""
        self._db.execute(
            "DELETE FROM sender_map WHERE address=? AND source='confirmed'", (address,)
        )

    def message_by_id(self, message: int) -> MessageRow | None:
        row = self._db.execute(
            "SELECT id, sha256, raw_path, received_at, time_source, status, attempts "
            "FROM messages WHERE id=?",
            (message,),
        ).fetchone()
        return MessageRow(*row) if row else None

    def file_key(self, message: int, seq: int) -> str | None:
        """The stable key of a file of a message: its content hash, or a link's URL."""
        row = self._db.execute(
            "SELECT kind, sha256, filename FROM files WHERE message=? AND seq=?", (message, seq)
        ).fetchone()
        if row is None:
            return None
        return row[1] if row[0] == "file" and row[1] else row[2]

    def message_paths(self, message: int) -> set[str]:
        rows = self._db.execute("SELECT path FROM files WHERE message=? AND path != ''", (message,))
        return {row[0] for row in rows}

    def messages_with_file(self, key: str) -> list[int]:
        """Messages holding this content (sha256) or link (URL)."""
        rows = self._db.execute(
            "SELECT DISTINCT message FROM files WHERE sha256=? OR (kind='link' AND filename=?)",
            (key, key),
        ).fetchall()
        return [row[0] for row in rows]

    def messages_from(self, address: str) -> list[MessageRow]:
        rows = self._db.execute(
            "SELECT id, sha256, raw_path, received_at, time_source, status, attempts "
            "FROM messages WHERE sender=? ORDER BY id",
            (address,),
        ).fetchall()
        return [MessageRow(*row) for row in rows]

    # -- reads for the console (one unit, one file) ------------------------------------------
    def _dicts(self, sql: str, args: tuple = ()) -> list[dict]:
        cursor = self._db.execute(sql, args)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def file_row(self, file_id: int) -> dict | None:
        """One stored file with its message's receive time and 编号 parts."""
        rows = self._dicts(
            "SELECT f.*, m.received_at, m.subject, m.sha256 AS message_sha256 FROM files f "
            "JOIN messages m ON m.id = f.message WHERE f.id=?",
            (file_id,),
        )
        return rows[0] if rows else None

    def files_of_messages(self, messages: list[int]) -> list[dict]:
        marks = ",".join("?" * len(messages))
        return self._dicts(
            f"SELECT * FROM files WHERE message IN ({marks}) ORDER BY message, seq",
            tuple(messages),
        )

    def unit_messages(self, unit: str) -> list[dict]:
        """Messages attributed to the unit, or holding a file assigned to it, oldest first."""
        return self._dicts(
            "SELECT id, received_at, sender, sender_name, subject, status, reason, unit "
            "FROM messages WHERE unit=? OR id IN (SELECT message FROM files WHERE unit=?) "
            "ORDER BY received_at, id",
            (unit, unit),
        )

    def unit_files(self, unit: str) -> list[dict]:
        return self._dicts(
            "SELECT f.*, m.received_at FROM files f JOIN messages m ON m.id = f.message "
            "WHERE f.unit=? AND f.kind IN ('file', 'link') AND m.status IN ('done', 'review') "
            "ORDER BY m.received_at, f.message, f.seq",
            (unit,),
        )

    def files_by_keys(self, keys: list[str]) -> list[dict]:
        """(message, seq, filename, unit, category) of files by content hash or link URL."""
        marks = ",".join("?" * len(keys))
        return self._dicts(
            "SELECT id, message, seq, filename, unit, category, sha256 FROM files WHERE "
            f"kind IN ('file','link','excluded') AND (sha256 IN ({marks}) OR filename IN ({marks}))"
            " ORDER BY message, seq",
            (*keys, *keys),
        )

    def messages_by_sha(self, digests: list[str]) -> list[dict]:
        marks = ",".join("?" * len(digests))
        return self._dicts(
            f"SELECT id, sha256, subject, sender, unit FROM messages WHERE sha256 IN ({marks})",
            tuple(digests),
        )

    def document_texts(self, digests: list[str], chars: int = 400) -> dict[str, str]:
        """The first ``chars`` characters of each document's text, by content hash."""
        marks = ",".join("?" * len(digests))
        rows = self._db.execute(
            f"SELECT sha256, substr(text, 1, ?) FROM documents WHERE sha256 IN ({marks})",
            (chars, *digests),
        )
        return dict(rows.fetchall())

    def sent_rows(self, unit: str | None = None) -> list[dict]:
        return self._dicts(
            "SELECT * FROM sent WHERE (? IS NULL OR unit=?) ORDER BY id DESC", (unit, unit)
        )

    # -- sent mail ---------------------------------------------------------------------------
    def log_sent(
        self,
        kind: str,
        unit: str | None,
        recipient: str,
        message: int | None,
        subject: str,
        status: str,
        detail: str,
        created_at: str,
    ) -> int:
        cursor = self._db.execute(
            "INSERT INTO sent (kind, unit, recipient, message, subject, status, detail, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (kind, unit, recipient, message, subject, status, detail, created_at),
        )
        return int(cursor.lastrowid)

    def update_sent(self, sent: int, status: str, detail: str) -> None:
        self._db.execute("UPDATE sent SET status=?, detail=? WHERE id=?", (status, detail, sent))

    def message_info(self, message: int) -> dict:
        cursor = self._db.execute("SELECT * FROM messages WHERE id=?", (message,))
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
        return dict(zip(names, row, strict=True)) if row else {}

    def message_files(self, message: int) -> list[tuple[str, str, str]]:
        """(filename, category, kind) of the materials of one message, in order."""
        rows = self._db.execute(
            "SELECT filename, category, kind FROM files WHERE message=? AND kind IN "
            "('file', 'link') ORDER BY seq",
            (message,),
        )
        return [tuple(row) for row in rows]

    def count_received_since(self, since: str) -> tuple[int, list[str]]:
        """Submissions received after ``since`` (ISO): how many, and which units."""
        rows = self._db.execute(
            "SELECT unit FROM messages WHERE received_at > ? AND status IN ('done', 'review')",
            (since,),
        ).fetchall()
        return len(rows), sorted({row[0] for row in rows if row[0]})

    def sent_times(self, kind: str, unit: str | None = None, recipient: str | None = None):
        rows = self._db.execute(
            "SELECT created_at FROM sent WHERE kind=? AND (? IS NULL OR unit=?) AND "
            "(? IS NULL OR recipient=?) AND status IN ('sent', 'dry_run') ORDER BY id",
            (kind, unit, unit, recipient, recipient),
        ).fetchall()
        return [row[0] for row in rows]

    def next_message_id(self) -> int:
        """The id the next new message will get (ids only grow: rows are never deleted)."""
        return int(self._db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM messages").fetchone()[0])

    def receipts_owed(self, first_id: int) -> list[int]:
        """Submissions from ``first_id`` on that no receipt row answers yet (mail, not imports)."""
        rows = self._db.execute(
            "SELECT id FROM messages WHERE id >= ? AND status IN ('done', 'review') "
            "AND time_source != 'manual' AND id NOT IN "
            "(SELECT message FROM sent WHERE kind='receipt' AND message IS NOT NULL) ORDER BY id",
            (first_id,),
        ).fetchall()
        return [row[0] for row in rows]

    def receipt_sent(self, message: int) -> bool:
        return (
            self._db.execute(
                "SELECT 1 FROM sent WHERE kind='receipt' AND message=?", (message,)
            ).fetchone()
            is not None
        )

    # -- folder source -----------------------------------------------------------------------
    def folder_seen(self, path: str) -> tuple[int, int] | None:
        row = self._db.execute(
            "SELECT size, mtime_ns FROM folder_seen WHERE path=?", (path,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def mark_folder_seen(self, path: str, size: int, mtime_ns: int, sha256: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO folder_seen VALUES (?, ?, ?, ?)", (path, size, mtime_ns, sha256)
        )

    # -- reprocess ---------------------------------------------------------------------------
    def reset_sorting(self) -> None:
        """Forget every sorting outcome (files, documents, learned senders), keep the messages."""
        self._db.execute("DELETE FROM files")
        self._db.execute("DELETE FROM documents")
        self._db.execute("DELETE FROM sender_map WHERE source='learned'")
        self._db.execute("UPDATE messages SET status='pending', attempts=0")

    # -- measured facts (integrity checks) ---------------------------------------------------
    def stored_media(self, message: int | None = None) -> list[tuple[str, str, str]]:
        """(sha256, a stored path, category) of every stored photo and video, once per sha256;
        of one message only when ``message`` is given."""
        # Two statements, not "(? IS NULL OR message = ?)": that form keeps SQLite from using
        # the (message, seq) index, and a poll asks once per message.
        query = (
            "SELECT sha256, MIN(path), MIN(category) FROM files WHERE kind='file' AND "
            "category IN ('photo', 'video') AND path != '' AND sha256 != '' {} GROUP BY sha256"
        )
        if message is None:
            rows = self._db.execute(query.format("")).fetchall()
        else:
            rows = self._db.execute(query.format("AND message = ?"), (message,)).fetchall()
        return [tuple(row) for row in rows]

    def media_versions(self) -> dict[str, int]:
        return dict(self._db.execute("SELECT sha256, version FROM media").fetchall())

    def put_media(self, sha256: str, version: int, facts: dict) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO media VALUES (?, ?, ?)",
            (sha256, version, json.dumps(facts, ensure_ascii=False, sort_keys=True)),
        )

    def media_facts(self, sha256s: list[str] | None = None) -> dict[str, dict]:
        """sha256 → facts (JSON as written); all, or those of ``sha256s``."""
        rows = self._db.execute("SELECT sha256, facts FROM media").fetchall()
        wanted = None if sha256s is None else set(sha256s)
        return {sha: json.loads(facts) for sha, facts in rows if wanted is None or sha in wanted}

    def reference_file(self, path: str) -> tuple[int, int, str] | None:
        row = self._db.execute(
            "SELECT size, mtime_ns, sha256 FROM reference_files WHERE path=?", (path,)
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def reference_files(self) -> dict[str, str]:
        """path → sha256 of every reference file seen so far."""
        return dict(self._db.execute("SELECT path, sha256 FROM reference_files").fetchall())

    def put_reference_file(self, path: str, size: int, mtime_ns: int, sha256: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO reference_files VALUES (?, ?, ?, ?)",
            (path, size, mtime_ns, sha256),
        )

    def document_text(self, sha256: str) -> tuple[str, bool] | None:
        row = self._db.execute(
            "SELECT text, has_text_layer FROM documents WHERE sha256=?", (sha256,)
        ).fetchone()
        return (row[0], bool(row[1])) if row else None

    # -- export for scoring and reports ------------------------------------------------------
    def frame(self, table: str) -> pd.DataFrame:
        if table not in (
            "messages",
            "files",
            "documents",
            "locations",
            "sender_map",
            "corrections",
            "sent",
            "media",
        ):
            raise ValueError(table)
        import pandas as pd  # reports only: an idle poll never loads it

        return pd.read_sql_query(f"SELECT * FROM {table} ORDER BY 1", self._db)

    def dump(self) -> str:
        """A canonical text of the ledger's meaningful content (tests compare runs with it)."""
        out = {}
        queries = {
            "messages": "SELECT sha256, raw_path, received_at, time_source, message_id, sender, "
            "subject, unit, unit_level, candidates, nature, status, reason FROM messages "
            "ORDER BY sha256",
            "files": "SELECT m.sha256, f.seq, f.kind, f.filename, f.unit, f.category, f.size, "
            "f.sha256, f.path, f.review_reason FROM files f JOIN messages m ON m.id=f.message "
            "ORDER BY m.sha256, f.seq",
            "locations": "SELECT l.folder, l.uidvalidity, l.uid, m.sha256 FROM locations l "
            "JOIN messages m ON m.id=l.message ORDER BY 1, 2, 3",
            "cursors": "SELECT * FROM cursors ORDER BY folder",
        }
        for name, sql in queries.items():
            out[name] = [list(row) for row in self._db.execute(sql).fetchall()]
        return json.dumps(out, ensure_ascii=False, indent=1)
