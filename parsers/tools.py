"""Where the external programs are: LibreOffice, 7-Zip, unar, bsdtar, antiword, catdoc, ffmpeg.

Looked for, in order: the path set in config (``tools.soffice`` ...; a file or the folder that
holds it), then PATH, then the folders Windows installers use (``%ProgramFiles%``,
``%ProgramFiles(x86)%``, ``%LOCALAPPDATA%``), since the office's PC rarely has them on PATH.
The result is a frozen ``ToolPaths`` of plain values, handed to the parsers through
``SortRules``; a missing program is ``None`` and the parser says in Chinese what staff must do.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

# name -> (program names on PATH, places below the Windows install roots)
_SEARCH: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "soffice": (("soffice", "libreoffice"), ("LibreOffice/program/soffice.exe",)),
    "sevenzip": (("7z", "7zz"), ("7-Zip/7z.exe",)),
    "unar": (("unar",), ()),
    # Windows 10 (1803+) ships bsdtar as System32\tar.exe
    "bsdtar": (("bsdtar",), ("System32/tar.exe",)),
    "antiword": (("antiword",), ()),
    "catdoc": (("catdoc",), ()),
    "ffmpeg": (("ffmpeg",), ("ffmpeg/bin/ffmpeg.exe", "Microsoft/WinGet/Links/ffmpeg.exe")),
    "ffprobe": (("ffprobe",), ("ffmpeg/bin/ffprobe.exe", "Microsoft/WinGet/Links/ffprobe.exe")),
}
_WINDOWS_ROOTS = ("ProgramFiles", "ProgramFiles(x86)", "ProgramW6432", "LOCALAPPDATA", "SystemRoot")
_LOCAL_PROGRAMS = ("LOCALAPPDATA", "Programs")  # per-user installs (Python, LibreOffice ...)


@dataclass(frozen=True)
class ToolPaths:
    """Full paths of the external programs; None where one is not installed."""

    soffice: str | None = None
    sevenzip: str | None = None
    unar: str | None = None
    bsdtar: str | None = None
    antiword: str | None = None
    catdoc: str | None = None
    ffmpeg: str | None = None
    ffprobe: str | None = None


def find_tools(
    configured: Mapping[str, str | Path | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ToolPaths:
    """Every tool's path. A tool set in ``configured`` is taken from there only."""
    configured = configured or {}
    environ = os.environ if environ is None else environ
    found = {}
    for spec in fields(ToolPaths):
        chosen = configured.get(spec.name)
        if chosen:
            found[spec.name] = _configured(Path(chosen), _SEARCH[spec.name][0])
        else:
            found[spec.name] = _search(*_SEARCH[spec.name], environ)
    return ToolPaths(**found)


def _configured(path: Path, names: tuple[str, ...]) -> str | None:
    """A configured file, or a configured folder holding one of the program's names."""
    if path.is_dir():
        candidates = [path / f"{name}{ext}" for name in names for ext in (".exe", "")]
        return next((str(c) for c in candidates if _runnable(c)), None)
    return str(path) if _runnable(path) else None


def _search(
    names: tuple[str, ...], places: tuple[str, ...], environ: Mapping[str, str]
) -> str | None:
    search_path = environ.get("PATH", os.defpath)
    for name in names:
        found = shutil.which(name, path=search_path)
        if found:
            return found
    for root in _roots(environ):
        for place in places:
            candidate = root / place
            if _runnable(candidate):
                return str(candidate)
    return None


def _roots(environ: Mapping[str, str]) -> list[Path]:
    roots = [Path(environ[key]) for key in _WINDOWS_ROOTS if environ.get(key)]
    if environ.get(_LOCAL_PROGRAMS[0]):
        roots.append(Path(environ[_LOCAL_PROGRAMS[0]]) / _LOCAL_PROGRAMS[1])
    drive = environ.get("SystemDrive")
    if drive:
        roots.append(Path(f"{drive}/"))  # C:\ffmpeg\bin, as ffmpeg's guides suggest
    return roots


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)
