"""The command line: every command documented, errors one line, no tracebacks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from run_pipeline import _parser
from tests.support.project import REPO


def _commands() -> dict[str, str]:
    parser = _parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return {choice.dest: choice.help for choice in action._choices_actions}


def test_every_command_has_help_text():
    commands = _commands()
    expected = {"once", "watch", "report", "reprocess", "remind", "assign", "category", "exclude",
                "confirm-sender", "import", "extend", "score", "doctor", "revoke", "serve",
                "add-user", "confirm-scores", "confirm-individual",
                "reject-individual"}  # fmt: skip
    assert set(commands) == expected
    assert all(text and text.strip() for text in commands.values())


@pytest.mark.parametrize("command", sorted(_commands()))
def test_each_command_explains_itself(command):
    result = subprocess.run(
        [sys.executable, str(REPO / "run_pipeline.py"), command, "--help"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0 and "用法：" in result.stdout


def test_unknown_command_is_an_error_not_a_traceback():
    result = subprocess.run(
        [sys.executable, str(REPO / "run_pipeline.py"), "fetch"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
