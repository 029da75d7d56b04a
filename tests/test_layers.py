"""The data flows one way: no stage imports a layer above it (DESIGN "Data flows one way").

mailbox → intake → parsers → scoring → outputs; outbox (the mail the office sends) and pipeline
(the application layer that wires them) sit above; the console and the CLI on top. ``contract``
is the SPEC as data and ``portable`` what must work alike on Windows and Linux (stored names,
atomic writes, ending programs); everyone may import them and they import nothing of the project.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.project import REPO

# package -> the project packages it may import (itself always allowed)
ALLOWED = {
    "contract": set(),
    "portable": set(),
    "intake": {"contract", "portable"},
    "parsers": {"contract", "portable"},
    "scoring": {"contract", "portable"},
    "outputs": {"contract", "portable", "scoring"},
    "outbox": {"contract", "portable", "parsers"},
    "pipeline": {"contract", "portable", "intake", "parsers", "scoring", "outputs", "outbox"},
    "console": {"contract", "portable", "intake", "parsers", "scoring", "outputs", "outbox",
                "pipeline"},
}  # fmt: skip
PROJECT = {*ALLOWED, "run_pipeline", "tests", "benchmarks", "tools"}


def _modules() -> list[tuple[str, Path]]:
    found = []
    for package in ALLOWED:
        single = REPO / f"{package}.py"
        if single.is_file():
            found.append((package, single))
        folder = REPO / package
        if folder.is_dir():
            found += [(package, path) for path in sorted(folder.rglob("*.py"))]
    return found


def _imports(path: Path) -> set[str]:
    """Top-level project packages a module imports, wherever the import statement is."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & PROJECT


MODULES = _modules()


def test_every_layer_has_modules():
    assert {package for package, _ in MODULES} >= {"intake", "parsers", "scoring", "outputs"}


@pytest.mark.parametrize(
    ("package", "path"), MODULES, ids=[str(p.relative_to(REPO)) for _, p in MODULES]
)
def test_no_stage_imports_a_layer_above_it(package: str, path: Path):
    above = _imports(path) - ALLOWED[package] - {package}
    assert not above, f"{path.relative_to(REPO)} imports {sorted(above)}"


def test_the_check_catches_an_upward_import(tmp_path: Path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from outputs.tables import ReportTables\n", encoding="utf-8")
    assert _imports(module) - ALLOWED["scoring"] - {"scoring"} == {"outputs"}


MAX_FUNCTION_LINES = 65  # "no function runs past ~60 lines" (issue 8), docstring included


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


def test_functions_stay_short():
    product = [path for _, path in MODULES] + [REPO / "run_pipeline.py"]
    long = {str(p.relative_to(REPO)): found for p in product if (found := _long_functions(p))}
    assert not long, f"split these: {long}"


def test_the_length_check_catches_a_long_function(tmp_path: Path):
    module = tmp_path / "m.py"
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    module.write_text(f"def f():\n{body}", encoding="utf-8")
    assert _long_functions(module) == [f"f ({MAX_FUNCTION_LINES + 1} lines)"]
