"""Safe expansion of submitted archives (zip, 7z, rar, tar, gz), nested ones included.

Libraries and why:
- ``zipfile`` (stdlib) reads ZIP, incl. ZIP64, deflate, bzip2 and LZMA members, and exposes each
  member's raw name, flags and mode bits, so that names written without the UTF-8 flag can be
  decoded deliberately (strict UTF-8, then GB18030, then CP437) instead of blindly.
- ``py7zr`` reads 7z in pure Python and lets us stream every member into our own writer
  (``WriterFactory``), so that size caps apply while decompressing. Its own ``max_extract_size``
  bounds the work it does on members it only skips over.
- ``rarfile`` parses RAR 3/5 headers itself and decompresses through an external tool, chosen
  from ``parsers.tools``: ``unar`` (handles RAR5, solid archives and encryption), else 7-Zip
  (``7z.exe`` on Windows, which reads RAR), else bsdtar. For a member that tool cannot read,
  ``bsdtar`` (libarchive) is tried directly: ``rarfile``'s own bsdtar back end puts ``--``
  where bsdtar expects the archive name, so it cannot be used. Without any of them a RAR is kept
  whole and goes to review, saying which program to install.
- ``tarfile`` and ``gzip`` (stdlib) read tar, tar.gz/.bz2/.xz and bare .gz.
- ``parsers.filetypes.archive_subtype`` (magic bytes) decides which members are archives to
  expand in turn.

Safety rules, the same for every format:
- A member name is split on '/' and '\\'; '.', '..', empty components, a leading '/' and drive
  letters are dropped. Such a member is STILL EXTRACTED, under the neutralised name inside
  ``dest``, and a ``traversal`` problem is recorded. (7z only: py7zr itself refuses names with
  '..' or a drive letter, so those members are skipped, with the same ``traversal`` problem.)
- Each path component goes through the project's one sanitiser (``portable.names``: invalid
  characters replaced, device names prefixed, length capped); collisions get " (2)", " (3)"...
  Folders nested so deep that a path would pass Windows' 260-character limit are flattened into
  the deepest folder that fits, and long names are shortened (extension kept). Files are
  created with O_EXCL|O_NOFOLLOW (where the platform has it), directories are never reused when
  they are symlinks, and the resolved parent of every file is checked to lie inside ``dest``.
- Symlinks, hard links and device/FIFO entries are never created (problem ``link``).
- Sizes are enforced while streaming, never from headers: a member stops at
  ``max_member_bytes`` (``member_too_large``) or when it expands past ``max_ratio`` times its
  compressed size once past ``ratio_floor_bytes`` (``bomb``); the whole expansion stops at
  ``max_total_bytes`` (``bomb``). The partial file is deleted; other members still come out,
  except those after it in the same 7z solid block or the same compressed tar stream (reaching
  them would mean decompressing the capped member again), which get a problem each/one.
- Mac resource forks (``__MACOSX/``, ``._*``) and ``.DS_Store``/``Thumbs.db`` are skipped silently.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import shutil
import stat
import struct
import subprocess
import tarfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from parsers.filetypes import archive_subtype
from parsers.tools import ToolPaths, find_tools
from portable import names

_CHUNK = 1024 * 1024
_DIR_CHARS = 64  # staged folder names: the display name keeps the original
_LEAF_ROOM = 60  # a folder is descended into only while this much of the path budget is left
_NUMBER_ROOM = len(" (999)") + len(".archive")  # what _unique and nested expansion may add
_DRIVE = re.compile(r"^[A-Za-z]:")
_JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
_EXPANDABLE = {"zip", "7z", "rar", "gz", "tar"}


@dataclass(frozen=True)
class ArchiveLimits:
    max_total_bytes: int = 2 * 1024**3
    max_member_bytes: int = 256 * 1024**2
    max_members: int = 2000
    max_ratio: int = 200  # expanded/compressed for a single member, checked while streaming
    max_depth: int = 3  # the outer archive is depth 1
    ratio_floor_bytes: int = 1024**2  # a member smaller than this is never a bomb by ratio


@dataclass(frozen=True)
class Member:
    name: str  # display path with the archive chain: "材料.zip/照片/1.jpg"; '/'-separated, NFC
    path: Path  # the extracted file, always inside dest
    size: int


@dataclass(frozen=True)
class Problem:
    code: str  # encrypted bomb too_many_members too_deep traversal corrupt unsupported link
    #            member_too_large no_tool
    name: str  # display path of the member or archive concerned
    message: str  # Chinese, for office staff


@dataclass(frozen=True)
class Expansion:
    members: tuple[Member, ...]
    problems: tuple[Problem, ...]
    expanded: bool  # False when nothing could be opened at all


_MESSAGES = {
    "encrypted": "压缩包已加密，无法解压，请人工处理",
    "encrypted_member": "压缩包内该文件已加密，无法解压，请人工处理",
    "bomb": "解压后体积异常膨胀（疑似压缩炸弹），已停止解压该文件",
    "total": "压缩包解压后总大小超过上限，其余文件未解压",
    "too_many_members": "压缩包内文件数量超过上限，其余文件未解压",
    "too_deep": "压缩包嵌套层数过多，内层压缩包未解压，原样保存",
    "traversal": "压缩包内文件路径异常（{raw}），已按安全路径处理",
    "traversal_skipped": "压缩包内文件路径异常（{raw}），无法安全解压，已跳过",
    "corrupt": "压缩包已损坏或不完整，无法解压",
    "corrupt_member": "压缩包内该文件已损坏，无法解压",
    "unsupported": "不支持的压缩格式，无法解压，请人工处理",
    "unsupported_member": "压缩包内该文件使用了不支持的压缩方式，无法解压",
    "link": "压缩包内的链接或特殊文件，已跳过",
    "member_too_large": "压缩包内该文件超过大小上限（{limit}），未解压",
    "same_block": "该文件与出错的文件位于同一压缩块，无法安全解压",
    "sequential_stop": "压缩包内有文件超过上限，其后的文件未解压",
    "failed": "压缩包解压时出错，部分文件可能未解压，请人工核对",
    "bad_path": "压缩包内该文件的路径无法在本机保存，已跳过",
    "no_tool": "未安装 7-Zip（或 unar），RAR 压缩包无法解压，请安装后重新分拣或人工查看",
}


def expand(
    path: Path,
    display_name: str,
    dest: Path,
    limits: ArchiveLimits = ArchiveLimits(),
    tools: ToolPaths | None = None,
) -> Expansion:
    """Expand the archive at ``path`` into ``dest`` (created if needed); never raises for bad
    archives. ``display_name`` is the archive's own name, the first element of member names.
    ``tools``: where unar/7-Zip/bsdtar are (default: looked up now)."""
    dest.mkdir(parents=True, exist_ok=True)
    run = _Run(root=Path(os.path.realpath(dest)), limits=limits, tools=tools or find_tools())
    display = _display_join([], display_name) or "archive"
    try:
        opened = run.expand_archive(path, display, run.root, depth=1)
    except Exception:  # a last guard (disk full, a path the file system refuses...)
        run.problem("corrupt", display, _MESSAGES["failed"])
        opened = bool(run.members)
    return Expansion(tuple(run.members), tuple(run.problems), opened)


# --------------------------------------------------------------------------------------------
# Names


def decode_member_name(raw: bytes) -> str:
    """Decode a member name stored without an encoding flag: strict UTF-8, GB18030, CP437."""
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("cp437")


def _decode_zip_names(infos: list[zipfile.ZipInfo]) -> list[str]:
    """Names of ZIP members. The UTF-8 flag (bit 11) and the Info-ZIP Unicode Path extra field
    are trusted; the remaining raw names are decoded with ONE encoding for the whole archive
    (every name must decode strictly), falling back to per-name decoding."""
    raws: dict[int, bytes] = {}
    names: list[str] = []
    for index, info in enumerate(infos):
        if info.flag_bits & 0x800:
            names.append(info.orig_filename)
            continue
        raw = info.orig_filename.encode("cp437")  # zipfile decoded unflagged names as CP437
        unicode_name = _unicode_path_extra(info.extra, raw)
        if unicode_name is not None:
            names.append(unicode_name)
            continue
        names.append("")
        raws[index] = raw
    if raws:
        chosen = None
        for encoding in ("utf-8", "gb18030"):
            try:
                decoded = {i: raw.decode(encoding) for i, raw in raws.items()}
            except UnicodeDecodeError:
                continue
            chosen = decoded
            break
        if chosen is None:
            chosen = {i: decode_member_name(raw) for i, raw in raws.items()}
        for i, name in chosen.items():
            names[i] = name
    return names


def _unicode_path_extra(extra: bytes, raw_name: bytes) -> str | None:
    """APPNOTE 4.6.9: extra field 0x7075 carries a UTF-8 name valid while its CRC matches."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        pos += 4 + size
        if tag == 0x7075 and len(body) >= 5 and body[0] == 1:
            (crc,) = struct.unpack_from("<I", body, 1)
            if crc == zlib.crc32(raw_name):
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
    return None


def _split(raw: str) -> tuple[list[str], bool]:
    """Member name -> clean display components, and whether the name tried to escape."""
    text = unicodedata.normalize("NFC", raw).replace("\\", "/")
    hostile = text.startswith("/")
    if _DRIVE.match(text):
        hostile = True
        text = text[2:]
    parts: list[str] = []
    for part in text.split("/"):
        part = "".join(ch for ch in part if ch >= " " and ch != "\x7f")
        if part in ("", "."):
            continue
        if part.strip() == "..":
            hostile = True
            continue
        parts.append(part)
    return parts, hostile


def _display_join(prefix: list[str], name: str) -> str:
    parts, _ = _split(name)
    return "/".join([*prefix, *parts])


def _is_junk(parts: list[str]) -> bool:
    return parts[0] == "__MACOSX" or parts[-1].startswith("._") or parts[-1].lower() in _JUNK_NAMES


# --------------------------------------------------------------------------------------------
# Streaming with caps


class _LimitHit(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Sink:
    """A member being written: enforces the caps before every write."""

    def __init__(self, run: _Run, target: Path, compressed: int | None) -> None:
        self.run = run
        self.target = target
        self.compressed = compressed
        self.written = 0
        flags = os.O_WRONLY | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        self.fd: int | None = os.open(target, flags | getattr(os, "O_CLOEXEC", 0))

    def write(self, data: bytes | bytearray | memoryview) -> int:
        size = len(data)
        if not size:
            return 0
        limits = self.run.limits
        new = self.written + size
        if (
            self.compressed is not None
            and new > limits.ratio_floor_bytes
            and new > limits.max_ratio * max(self.compressed, 1)
        ):
            raise _LimitHit("bomb", _MESSAGES["bomb"])
        if new > limits.max_member_bytes:
            limit = _human(limits.max_member_bytes)
            raise _LimitHit("member_too_large", _MESSAGES["member_too_large"].format(limit=limit))
        if self.run.total_bytes + size > limits.max_total_bytes:
            raise _LimitHit("total", _MESSAGES["total"])
        assert self.fd is not None
        view = memoryview(data)
        while view:
            done = os.write(self.fd, view)
            view = view[done:]
        self.written = new
        self.run.total_bytes += size
        return size

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def abort(self, keep_placeholder: bool = False) -> None:
        """Drop what was written; the file is deleted unless another attempt will reuse it."""
        self.close()
        if keep_placeholder:
            os.truncate(self.target, 0)
        else:
            self.target.unlink(missing_ok=True)
        self.run.total_bytes -= self.written
        self.written = 0


def _human(size: int) -> str:
    return f"{size / 1024**2:.0f} MB"


# --------------------------------------------------------------------------------------------
# Entries: one archive member, format-independent


@dataclass
class _Entry:
    raw_name: str
    kind: str  # "file" | "dir" | "link"
    encrypted: bool = False
    compressed: int | None = None  # None: not known per member
    open: Callable[[], AbstractContextManager[IO[bytes]]] | None = None
    fallback: Callable[[], AbstractContextManager[IO[bytes]]] | None = None
    sequential: bool = False  # a compressed stream: skipping a member means decompressing it


class _EncryptedMember(Exception):
    """A member that needs a password (RAR says so only when it is opened)."""


class _FormatError(Exception):
    """The archive as a whole cannot be read: code is corrupt, encrypted or unsupported."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class _Run:
    root: Path
    limits: ArchiveLimits
    tools: ToolPaths
    members: list[Member] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    total_bytes: int = 0
    member_count: int = 0
    stopped: str = ""  # "total" or "too_many_members": the whole expansion has stopped
    _dirs: dict[tuple[Path, str], Path] = field(default_factory=dict)

    # ---- problems and targets ------------------------------------------------------------

    def problem(self, code: str, name: str, message: str | None = None) -> None:
        message = message if message is not None else _MESSAGES[code]
        self.problems.append(Problem("bomb" if code == "total" else code, name, message))

    def stop(self, code: str, name: str) -> None:
        if not self.stopped:
            self.stopped = code
            self.problem(code, name)

    def allow_member(self, display: str) -> bool:
        if self.stopped:
            return False
        if self.member_count >= self.limits.max_members:
            self.stop("too_many_members", display)
            return False
        return True

    def directory(self, base: Path, parts: list[str]) -> Path:
        """The directory for ``parts`` under ``base``: created, never a symlink, inside root."""
        current = base
        for part in parts:
            key = (current, part)
            known = self._dirs.get(key)
            if known is not None:
                current = known
                continue
            name = names.safe_component(part, fallback="_", max_chars=_DIR_CHARS)
            candidate = _unique(current, name, want_dir=True)
            if _room(candidate) < _LEAF_ROOM:
                break  # deeper folders would not fit Windows' path limit: flatten here
            if not candidate.is_dir():
                candidate.mkdir()
            self._dirs[key] = candidate
            current = candidate
        self._check_inside(current)
        return current

    def new_file(self, base: Path, parts: list[str]) -> Path:
        """Reserve a new, empty file for a member (O_EXCL: never an existing file or link)."""
        parent = self.directory(base, parts[:-1])
        leaf = names.safe_component(
            parts[-1], fallback="_", max_chars=max(_room(parent) - 1 - _NUMBER_ROOM, 12)
        )
        while True:
            target = _unique(parent, leaf, want_dir=False)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            try:
                os.close(os.open(target, flags | getattr(os, "O_CLOEXEC", 0), 0o644))
            except FileExistsError:
                continue
            return target

    def _check_inside(self, directory: Path) -> None:
        real = os.path.realpath(directory)
        if real != str(self.root) and not real.startswith(str(self.root) + os.sep):
            raise RuntimeError(f"refusing to write outside the destination: {directory}")

    # ---- one archive ---------------------------------------------------------------------

    def expand_archive(self, path: Path, display: str, base: Path, depth: int) -> bool:
        """Expand one archive into ``base``; nested archives recursively. False: unreadable."""
        subtype = archive_subtype(path, display)
        try:
            if subtype == "7z":
                new_members = self._expand_7z(path, display, base)
            else:
                entries = self._entries(path, subtype, display)
                new_members = self._extract_entries(entries, display, base)
        except _FormatError as exc:
            self.problem(exc.code, display)
            return False
        self._expand_nested(new_members, depth)
        return True

    def _entries(self, path: Path, subtype: str, display: str) -> Iterator[_Entry]:
        if subtype == "zip":
            return _zip_entries(path)
        if subtype == "rar":
            return _rar_entries(path, self.tools)
        if subtype in ("tar", "gz"):
            return _tar_or_gz_entries(path, display)
        raise _FormatError("unsupported")

    def _extract_entries(self, entries: Iterator[_Entry], display: str, base: Path) -> list[Member]:
        """Write every acceptable entry; returns the members written by this archive."""
        written: list[Member] = []
        encrypted: list[Problem] = []
        files = 0
        while True:
            try:
                entry = next(entries, None)
            except _FormatError:
                if not files:
                    raise
                self.problem("corrupt", display)  # damaged after some members came out
                break
            if entry is None:
                break
            parts, hostile = _split(entry.raw_name)
            if not parts or _is_junk(parts) or entry.kind == "dir":
                continue
            name = "/".join([display, *parts])
            if entry.kind == "link":
                self.problem("link", name)
                continue
            files += 1
            if entry.encrypted:
                encrypted.append(Problem("encrypted", name, _MESSAGES["encrypted_member"]))
                continue
            if not self.allow_member(name):
                break
            if hostile:
                self.problem("traversal", name, _MESSAGES["traversal"].format(raw=entry.raw_name))
            member, hit = self._write_entry(entry, parts, name, base)
            if member is not None:
                written.append(member)
            if hit and entry.sequential:
                # A compressed tar cannot skip the rest of a capped member without
                # decompressing it all: stop reading this archive here.
                self.problem("bomb", display, _MESSAGES["sequential_stop"])
                break
            if self.stopped:
                break
        if files and len(encrypted) == files:
            raise _FormatError("encrypted")  # one archive-level problem, not one per member
        self.problems.extend(encrypted)
        return written

    def _write_entry(
        self, entry: _Entry, parts: list[str], name: str, base: Path
    ) -> tuple[Member | None, bool]:
        """Stream one entry to a new file. Returns the member (None if it failed) and whether a
        size limit stopped it."""
        assert entry.open is not None
        try:
            target = self.new_file(base, parts)
        except OSError:  # e.g. a path longer than the file system allows
            self.problem("unsupported", name, _MESSAGES["bad_path"])
            return None, False
        openers = [entry.open] + ([entry.fallback] if entry.fallback else [])
        for attempt, opener in enumerate(openers):
            last = attempt + 1 == len(openers)
            sink = _Sink(self, target, entry.compressed)
            try:
                with opener() as stream:
                    while chunk := stream.read(_CHUNK):
                        sink.write(chunk)
            except _LimitHit as hit:
                sink.abort()
                if hit.code == "total":
                    self.stop("total", name)
                else:
                    self.problem(hit.code, name, hit.message)
                return None, True
            except NotImplementedError:  # zipfile: compression method it does not support
                sink.abort()
                self.problem("unsupported", name, _MESSAGES["unsupported_member"])
                return None, False
            except _EncryptedMember:
                sink.abort()
                self.problem("encrypted", name, _MESSAGES["encrypted_member"])
                return None, False
            except Exception:  # zlib.error, BadZipFile (CRC), EOFError, rarfile errors, OSError
                sink.abort(keep_placeholder=not last)
                if last:
                    self.problem("corrupt", name, _MESSAGES["corrupt_member"])
                    return None, False
                continue
            sink.close()
            self.member_count += 1
            member = Member(name, target, sink.written)
            self.members.append(member)
            return member, False
        return None, False

    # ---- 7z ------------------------------------------------------------------------------

    def _expand_7z(self, path: Path, display: str, base: Path) -> list[Member]:
        from parsers.sevenzip import open_7z  # py7zr loads with the first 7z archive

        with path.open("rb") as fh:
            archive = open_7z(fh)
            try:
                if archive.needs_password():
                    raise _FormatError("encrypted")
                plan = self._plan_7z(archive.files, display, base, path.stat().st_size)
            finally:
                archive.close()
        remaining = list(plan)
        while remaining and not self.stopped:
            failed = self._run_7z_pass(path, display, remaining)
            if failed is None:
                break
            at = remaining.index(failed)
            following: list[_Job] = []
            for index, job in enumerate(remaining):
                if job.member is not None or job is failed:
                    continue
                if index > at and job.folder is not None and job.folder is failed.folder:
                    # Same solid block: reaching it means decompressing the failed member again.
                    job.code = "corrupt" if failed.code == "corrupt" else "bomb"
                    self.problem(job.code, job.name, _MESSAGES["same_block"])
                    continue
                following.append(job)
            remaining = following
        for job in plan:
            if job.member is None:
                job.target.unlink(missing_ok=True)
                if job.code == "" and not self.stopped:
                    self.problem("corrupt", job.name, _MESSAGES["corrupt_member"])
            else:
                self.member_count += 1
                self.members.append(job.member)
        return [job.member for job in plan if job.member is not None]

    def _plan_7z(
        self, files: Iterable[Any], display: str, base: Path, archive_size: int
    ) -> list[_Job]:
        """Decide which members to write and where. In a solid block py7zr knows no per-member
        compressed size: the ratio is then taken against the whole archive's size."""
        import py7zr.exceptions
        import py7zr.helpers

        plan: list[_Job] = []
        seen: dict[str, int] = {}
        for f in files:
            raw = f.filename
            parts, hostile = _split(raw)
            key = raw
            # py7zr keys a repeated name as "name_0", "name_1"... (SevenZipFile._extract)
            if raw in seen:
                key = f"{raw}_{seen[raw]}"
                seen[raw] += 1
            else:
                seen[raw] = 0
            if not parts or _is_junk(parts) or f.is_directory:
                continue
            name = "/".join([display, *parts])
            if f.is_symlink or f.is_junction or f.is_socket:
                self.problem("link", name)
                continue
            try:
                key = py7zr.helpers.get_sanitized_output_path(key, None).as_posix()
            except py7zr.exceptions.Bad7zFile:
                self.problem("traversal", name, _MESSAGES["traversal_skipped"].format(raw=raw))
                continue
            if self.member_count + len(plan) >= self.limits.max_members:
                self.stop("too_many_members", name)
                break
            if hostile:
                self.problem("traversal", name, _MESSAGES["traversal"].format(raw=raw))
            try:
                target = self.new_file(base, parts)
            except OSError:  # e.g. a path longer than the file system allows
                self.problem("unsupported", name, _MESSAGES["bad_path"])
                continue
            compressed = f.compressed or archive_size
            plan.append(_Job(raw, key, name, target, compressed, f.folder))
        return plan

    def _run_7z_pass(self, path: Path, display: str, jobs: list[_Job]) -> _Job | None:
        """One py7zr extraction of ``jobs``; returns the job that failed (None: all done)."""
        import py7zr.exceptions

        from parsers.sevenzip import SinkFactory, open_7z

        factory = SinkFactory(self, jobs)
        code = ""
        message = ""
        with path.open("rb") as fh:
            try:
                archive = open_7z(fh, max_extract_size=self.limits.max_total_bytes)
            except _FormatError:
                return None  # it opened a moment ago; treat as no progress
            try:
                archive.extract(targets=sorted({job.raw for job in jobs}), factory=factory)
            except _LimitHit as hit:
                code, message = hit.code, hit.message
            except py7zr.exceptions.DecompressionBombError:
                code, message = "total", _MESSAGES["total"]
            except (py7zr.exceptions.UnsupportedCompressionMethodError, NotImplementedError):
                code, message = "unsupported", _MESSAGES["unsupported_member"]
            except Exception:  # CrcError, Bad7zFile, lzma errors on damaged data
                code, message = "corrupt", _MESSAGES["corrupt_member"]
            finally:
                archive.close()
        if not code:
            return None
        failed = factory.current
        if failed is None:  # failed between members (e.g. while skipping one): stop this archive
            if code == "total":
                self.stop("total", display)
            else:
                self.problem(code, display, _MESSAGES.get(code, message))
            for job in jobs:
                if job.member is None:
                    job.code = code
            return None
        if failed.sink is not None:
            failed.sink.abort(keep_placeholder=True)
        failed.code = code
        if code == "total":
            self.stop("total", failed.name)
        else:
            self.problem(code, failed.name, message)
        return failed

    # ---- nested archives -----------------------------------------------------------------

    def _expand_nested(self, new_members: list[Member], depth: int) -> None:
        for member in new_members:
            if self.stopped:
                return
            if archive_subtype(member.path, member.name) not in _EXPANDABLE:
                continue
            if depth >= self.limits.max_depth:
                self.problem("too_deep", member.name)
                continue
            holder = _unique(member.path.parent, member.path.name + ".archive", want_dir=False)
            member.path.rename(holder)
            member.path.mkdir()
            index = self.members.index(member)
            self.members.pop(index)
            self.member_count -= 1
            self.total_bytes -= member.size
            if self.expand_archive(holder, member.name, member.path, depth + 1):
                holder.unlink()
            else:  # nothing could be opened: keep the archive itself as a member
                shutil.rmtree(member.path)
                holder.rename(member.path)
                self.members.insert(index, member)
                self.member_count += 1
                self.total_bytes += member.size


@dataclass(eq=False)
class _Job:
    raw: str
    key: str
    name: str
    target: Path
    compressed: int | None
    folder: object
    sink: _Sink | None = None
    member: Member | None = None
    code: str = ""  # why it failed, once it has


def _room(path: Path) -> int:
    """Characters left below ``path`` within Windows' default path limit."""
    return names.WINDOWS_MAX_PATH - names.utf16_length(str(path))


def _unique(parent: Path, name: str, want_dir: bool) -> Path:
    """``parent/name``, or ``name (2)``... when taken. An existing directory is reusable only
    when a directory is wanted and it is a real directory (not a symlink)."""
    counter = 1
    while True:
        if counter == 1:
            candidate = parent / name
        elif want_dir:
            candidate = parent / f"{name} ({counter})"
        else:
            candidate = parent / names.numbered(name, counter)
        try:
            st = candidate.lstat()
        except FileNotFoundError:
            return candidate
        if want_dir and stat.S_ISDIR(st.st_mode):
            return candidate
        counter += 1


# --------------------------------------------------------------------------------------------
# Formats


def _zip_entries(path: Path) -> Iterator[_Entry]:
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise _FormatError("corrupt") from exc
    except (OSError, EOFError, ValueError, struct.error) as exc:
        raise _FormatError("corrupt") from exc
    return _zip_iter(zf, infos)


def _zip_iter(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> Iterator[_Entry]:
    with zf:
        for info, name in zip(infos, _decode_zip_names(infos), strict=True):
            mode = (info.external_attr >> 16) & 0xFFFF
            fmt = stat.S_IFMT(mode)
            if info.is_dir() or fmt == stat.S_IFDIR:
                yield _Entry(name, "dir")
            elif fmt not in (0, stat.S_IFREG):
                yield _Entry(name, "link")
            else:
                yield _Entry(
                    name,
                    "file",
                    encrypted=bool(info.flag_bits & 0x1),
                    compressed=info.compress_size,
                    open=lambda info=info: zf.open(info),
                )


@lru_cache(maxsize=1)  # re-applied whenever the tools differ from the last call's
def _rar_tool(unar: str | None, sevenzip: str | None, bsdtar: str | None) -> str:
    """Point rarfile at the tools found (unar, then 7-Zip, then bsdtar) and say which it uses.
    rarfile keeps its tool choice in module settings; this is the one place that sets them."""
    import rarfile

    rarfile.UNAR_TOOL = unar or "unar"
    rarfile.SEVENZIP_TOOL = sevenzip or "7z"
    rarfile.BSDTAR_TOOL = bsdtar or "bsdtar"
    try:
        setup = rarfile.tool_setup(
            unrar=False,
            unar=bool(unar),
            sevenzip=bool(sevenzip),
            sevenzip2=False,
            bsdtar=bool(bsdtar),
            force=True,
        )
    except rarfile.RarCannotExec:
        return ""
    return str(setup.get_cmdline("open_cmd", None)[0])


def _rar_entries(path: Path, tools: ToolPaths) -> Iterator[_Entry]:
    import rarfile

    if not _rar_tool(tools.unar, tools.sevenzip, tools.bsdtar):
        raise _FormatError("no_tool")
    try:
        rf = rarfile.RarFile(str(path))
        infos = rf.infolist()
        header_encrypted = rf.needs_password() and not infos
    except rarfile.PasswordRequired as exc:
        raise _FormatError("encrypted") from exc
    except rarfile.NeedFirstVolume as exc:
        raise _FormatError("unsupported") from exc
    except Exception as exc:  # BadRarFile, NotRarFile, struct errors on damaged input
        raise _FormatError("corrupt") from exc
    if header_encrypted:
        rf.close()
        raise _FormatError("encrypted")
    return _rar_iter(rf, infos, path, tools.bsdtar)


def _rar_iter(rf, infos: list, path: Path, bsdtar: str | None) -> Iterator[_Entry]:
    # In a solid archive a member's own packed size says little (later members reuse the
    # dictionary of earlier ones): the ratio is then taken against the whole archive.
    solid_size = path.stat().st_size if rf.is_solid() else 0
    with rf:
        for info in infos:
            name = info.filename
            if info.is_dir():
                yield _Entry(name, "dir")
            elif info.is_symlink() or not info.is_file():
                yield _Entry(name, "link")
            else:
                fallback = None
                if bsdtar and not info.needs_password():
                    fallback = lambda name=name: _BsdtarMember(bsdtar, path, name)  # noqa: E731
                yield _Entry(
                    name,
                    "file",
                    encrypted=info.needs_password(),
                    compressed=max(info.compress_size, solid_size),
                    open=lambda info=info: _open_rar_member(rf, info),
                    fallback=fallback,
                )


def _open_rar_member(rf, info) -> IO[bytes]:
    import rarfile

    try:
        return rf.open(info)
    except rarfile.PasswordRequired as exc:
        raise _EncryptedMember from exc


class _BsdtarMember(AbstractContextManager):
    """Stream one member through ``bsdtar -xO``; the process is killed when we stop early."""

    def __init__(self, bsdtar: str, archive: Path, name: str) -> None:
        pattern = re.sub(r"([\\*?\[\]])", r"\\\1", name)
        env = {**os.environ, "LC_ALL": "C.UTF-8"}
        self.proc = subprocess.Popen(
            [bsdtar, "-x", "-O", "-f", str(archive), "--", pattern],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),  # no console flash
        )

    def __enter__(self) -> IO[bytes]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.proc.kill()
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        code = self.proc.wait()
        if exc_type is None and code != 0:
            raise RuntimeError(f"bsdtar exited with {code}")


def _tar_or_gz_entries(path: Path, display: str) -> Iterator[_Entry]:
    try:
        tf = tarfile.open(path, mode="r:*")  # noqa: SIM115 - closed by _tar_iter
    except tarfile.ReadError:
        return _gz_single(path, display)
    except Exception as exc:
        raise _FormatError("corrupt") from exc
    compressed = not isinstance(tf.fileobj, io.BufferedReader)
    return _tar_iter(tf, path.stat().st_size, compressed)


def _tar_iter(tf: tarfile.TarFile, archive_size: int, compressed: bool) -> Iterator[_Entry]:
    with tf:
        while True:
            try:
                info = tf.next()
            except Exception as exc:  # TarError, EOFError, zlib/lzma errors on damaged data
                raise _FormatError("corrupt") from exc
            if info is None:
                return
            # tarfile decodes names as UTF-8 with surrogateescape: recover the raw bytes.
            raw = info.name.encode("utf-8", "surrogateescape")
            name = decode_member_name(raw)
            if info.isdir():
                yield _Entry(name, "dir")
            elif not info.isreg():
                yield _Entry(name, "link")
            else:
                yield _Entry(
                    name,
                    "file",
                    compressed=archive_size,
                    open=lambda info=info: _TarMember(tf, info),
                    sequential=compressed,
                )


class _TarMember(AbstractContextManager):
    def __init__(self, tf: tarfile.TarFile, info: tarfile.TarInfo) -> None:
        stream = tf.extractfile(info)
        if stream is None:
            raise RuntimeError("not a regular file")
        self.stream = stream

    def __enter__(self) -> IO[bytes]:
        return self.stream

    def __exit__(self, *exc: object) -> None:
        self.stream.close()


def _gz_single(path: Path, display: str) -> Iterator[_Entry]:
    base = display.rsplit("/", 1)[-1]
    inner = base[:-3] if base.lower().endswith(".gz") and len(base) > 3 else base + ".out"
    if inner.lower().endswith(".tgz"):
        inner = inner[:-4] + ".tar"
    size = path.stat().st_size
    yield _Entry(inner, "file", compressed=size, open=lambda: gzip.open(path, "rb"))  # noqa: SIM115
