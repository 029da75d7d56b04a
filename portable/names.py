"""The one sanitiser for every name the product stores: sorted materials, archive members,
unit folders and report files.

A stored name must be valid on NTFS (the office's Windows PC, where WPS, Explorer and Excel
open the files) as well as on Linux, and must read like what the sender wrote:
- NFC, so that a name typed on a Mac (NFD) and the same name from Windows are one name;
- no control or invisible format characters (C0/C1 controls, bidi overrides U+202A-E and
  U+2066-9, zero-width characters, BOM): they hide a name's real extension or make two names
  look alike;
- none of ``<>:"/\\|?*`` (NTFS refuses them), no leading dots or spaces, no trailing dots or
  spaces (Windows silently drops those, so ``a.jpg.`` and ``a.jpg`` would be one file);
- not a device name (``CON``, ``CONIN$``, ``COM1``, ``LPT¹``, ``NUL.txt``, ``aux .doc``...),
  which Windows opens as a device instead of a file;
- short: at most ``MAX_COMPONENT_BYTES`` UTF-8 bytes (ext4 allows 255) and 255 UTF-16 units
  (NTFS), and callers can fit a whole path into Windows' default 260-character limit
  (``relative_budget``). Names are shortened, never refused, and keep their extension.

NTFS compares names case-insensitively, so collisions are decided on ``name_key`` (case-folded
and NFC), never on the raw string: ``Photo.JPG`` and ``photo.jpg`` are one name there.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath

MAX_COMPONENT_BYTES = 200  # leaves room for " (12)" and ".archive" under ext4's 255 bytes
NTFS_MAX_COMPONENT = 255  # UTF-16 code units
WINDOWS_MAX_PATH = 259  # MAX_PATH (260) less the terminating NUL
MIN_RELATIVE_BUDGET = 80  # a data folder deeper than this leaves no sensible room anyway
_MAX_SUFFIX_BYTES = 16
_INVALID = re.compile(r'[<>:"/\\|?*]')
_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"}
    | {f"{port}{digit}" for port in ("COM", "LPT") for digit in "0123456789¹²³"}
)
# Categories that never belong in a name: controls, invisible format characters (bidi
# controls, zero-width space/joiners, BOM, soft hyphen), lone surrogates, line/paragraph seps.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def utf16_length(text: str) -> int:
    """Length as Windows counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def is_device_name(name: str) -> bool:
    """True when Windows would open ``name`` as a device: the part before the first dot,
    trailing spaces ignored, is a reserved device name (any case)."""
    return name.split(".", 1)[0].rstrip(" ").upper() in _DEVICES


def safe_component(
    name: str,
    *,
    fallback: str = "未命名",
    max_chars: int = NTFS_MAX_COMPONENT,
    max_bytes: int = MAX_COMPONENT_BYTES,
) -> str:
    """One path component that is safe on NTFS and Linux and keeps the sender's wording."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    text = _INVALID.sub("_", text)
    text = _trim_ends(text)
    if not text or set(text) <= {".", "_", " "}:
        text = fallback
    if is_device_name(text):
        text = "_" + text
    return fit(text, max_chars=max_chars, max_bytes=max_bytes)


def fit(
    name: str, *, max_chars: int = NTFS_MAX_COMPONENT, max_bytes: int = MAX_COMPONENT_BYTES
) -> str:
    """``name`` shortened (its stem, keeping the extension) to the given limits."""
    if _fits(name, max_chars, max_bytes):
        return name
    stem, suffix = split_suffix(name)
    if not _fits(suffix + "_", max_chars, max_bytes):
        stem, suffix = name, ""
    return _shorten(stem, suffix, max_chars, max_bytes)


def numbered(
    name: str,
    number: int,
    *,
    max_chars: int = NTFS_MAX_COMPONENT,
    max_bytes: int = MAX_COMPONENT_BYTES,
) -> str:
    """``照片 (2).jpg`` for ``照片.jpg``, still within the limits."""
    stem, suffix = split_suffix(name)
    return _shorten(stem, f" ({number}){suffix}", max_chars, max_bytes)


def split_suffix(name: str) -> tuple[str, str]:
    """(stem, ".ext"); no suffix when there is no stem or the extension is implausibly long."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or not ext or len(ext.encode("utf-8")) >= _MAX_SUFFIX_BYTES:
        return name, ""
    if ext != ext.strip():
        return name, ""
    return stem, f".{ext}"


def name_key(text: str) -> str:
    """The key under which NTFS (case-insensitive) and NFC-normalising tools see one name."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def relative_budget(base: str | PurePath) -> int:
    """How many characters a path below ``base`` may have, so that the whole path stays within
    Windows' default 260-character limit (which Explorer, WPS and Excel still obey)."""
    used = utf16_length(str(base)) + 1  # the separator after base
    return max(MIN_RELATIVE_BUDGET, WINDOWS_MAX_PATH - used)


def _trim_ends(text: str) -> str:
    """No leading dots/whitespace; no trailing dots/whitespace (Windows drops them)."""
    previous = None
    while text != previous:
        previous = text
        text = text.strip().lstrip(".").rstrip(". ")
    return text


def _fits(text: str, max_chars: int, max_bytes: int) -> bool:
    return (
        utf16_length(text) <= max_chars and len(text.encode("utf-8", "surrogatepass")) <= max_bytes
    )


def _shorten(stem: str, tail: str, max_chars: int, max_bytes: int) -> str:
    room_chars = max_chars - utf16_length(tail)
    room_bytes = max_bytes - len(tail.encode("utf-8"))
    cut = stem
    while cut and not _fits(cut, room_chars, room_bytes):
        overflow = max(utf16_length(cut) - room_chars, len(cut.encode("utf-8")) - room_bytes)
        cut = cut[: -max(1, overflow // 4)]  # a CJK character is 3 bytes: cut gently
    cut = cut.rstrip(". ") or "_"
    result = cut + tail
    return "_" + result if is_device_name(result) else result
