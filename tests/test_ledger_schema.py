"""Upgrades mid-campaign: a newer program migrates an older ledger in place, after a backup.

``fixtures/ledger_v1.sql`` is a dump of the ledger the previous release (schema 1) left after
``once`` on the sample inbox and one ``extend`` correction; ``ledger_v1_units.csv`` is the
units.csv that release wrote from it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from intake.ledger import SCHEMA_VERSION, Ledger, LedgerError
from tests.support.project import run_cli, write_config

FIXTURES = Path(__file__).parent / "fixtures"


def _v1_ledger(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.executescript((FIXTURES / "ledger_v1.sql").read_text(encoding="utf-8"))
    db.close()
    return path


def _rows(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as db:
        rows = db.execute(sql).fetchall()
    db.close()
    return rows


def test_a_new_ledger_has_the_current_schema_and_no_backup(tmp_path: Path):
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert ledger.schema_version() == SCHEMA_VERSION
    assert not (tmp_path / "backups").exists()


def test_a_v1_ledger_is_migrated_in_place_after_a_backup(tmp_path: Path):
    path = _v1_ledger(tmp_path / "ledger.sqlite3")
    before = _rows(path, "SELECT sha256, unit, status FROM messages ORDER BY id")

    with Ledger(path) as ledger:
        assert ledger.schema_version() == SCHEMA_VERSION
        assert ledger.frame("media").empty  # the table schema 2 added
    with Ledger(path):  # a second open changes nothing and makes no second backup
        pass

    assert _rows(path, "SELECT sha256, unit, status FROM messages ORDER BY id") == before
    backups = list((tmp_path / "backups").iterdir())
    assert len(backups) == 1 and backups[0].name.startswith("ledger-v1-")
    assert _rows(backups[0], "SELECT value FROM meta WHERE key='schema_version'") == [("1",)]
    assert _rows(backups[0], "SELECT sha256, unit, status FROM messages ORDER BY id") == before


def test_reports_from_a_migrated_ledger_equal_the_old_release(tmp_path: Path):
    """GIVEN the data folder of the previous release WHEN the new program runs `report`
    THEN it migrates the ledger and units.csv is what the old release wrote (with 评分偏低
    named without staff confirmation, as that release did)."""
    config = write_config(tmp_path, scoring={"notice": {"low_score_requires_confirmation": False}})
    _v1_ledger(tmp_path / "data" / "ledger.sqlite3")

    result = run_cli(config, "report")

    assert result.returncode == 0, result.stderr
    units = (tmp_path / "data" / "reports" / "units.csv").read_text(encoding="utf-8-sig")
    assert units == (FIXTURES / "ledger_v1_units.csv").read_text(encoding="utf-8-sig")


def test_a_ledger_newer_than_the_program_is_refused_untouched(tmp_path: Path):
    path = _v1_ledger(tmp_path / "data" / "ledger.sqlite3")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.close()
    before = path.read_bytes()

    with pytest.raises(LedgerError, match="更新版本"):
        Ledger(path)
    result = run_cli(write_config(tmp_path), "report")

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "结构版本 99" in lines[0] and "Traceback" not in result.stderr
    assert path.read_bytes() == before
    assert not (tmp_path / "data" / "backups").exists()


def test_names_stored_before_the_upgrade_still_block_their_case_variants(tmp_path: Path):
    """Schema 4 keys every stored path as NTFS compares names; rows written by the previous
    release get their key during the migration, so a new file cannot take a name that differs
    from an old one only by case."""
    path = _v1_ledger(tmp_path / "ledger.sqlite3")
    (stored,) = _rows(path, "SELECT path FROM files WHERE path LIKE '%.jpg' LIMIT 1")[0]

    with Ledger(path) as ledger:
        assert ledger.path_taken(stored.upper().replace("MATERIALS", "materials"))
        assert not ledger.path_taken(stored + ".other")
