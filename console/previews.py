"""Previews of stored files: photo thumbnails (HEIC too), a video's poster frame and duration
(where ffmpeg is present), a mail's body as plain text. Made once, kept in <data>/cache/thumbs/
by content hash, so a page never waits for the same picture twice.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import subprocess
import uuid
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from parsers.mail import parse_mail

log = logging.getLogger(__name__)
FFMPEG_TIMEOUT_S = 30
MAX_BODY_CHARS = 4000
IMAGE_TYPES = ("photo",)
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".wmv", ".3gp", ".mkv", ".flv", ".m4v", ".mpg", ".mpeg")

try:  # iPhone photos
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - listed in requirements
    pass


def placeholder() -> bytes:
    """A plain grey picture for a file that has no preview (a broken image, no ffmpeg)."""
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (226, 232, 240)).save(out, "JPEG")
    return out.getvalue()


def cache_dir(data_dir: Path) -> Path:
    return data_dir / "cache" / "thumbs"


def is_video(name: str, category: str) -> bool:
    return category == "video" or name.lower().endswith(VIDEO_SUFFIXES)


def can_poster() -> bool:
    return shutil.which("ffmpeg") is not None


def thumbnail(data_dir: Path, source: Path, sha256: str, category: str, px: int) -> Path | None:
    """The cached JPEG preview of a stored file, made on first use; None when there is none."""
    folder = cache_dir(data_dir)
    target = folder / f"{sha256}.jpg"
    if target.is_file():
        return target
    failed = folder / f"{sha256}.none"
    if failed.exists() or not source.is_file():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".{uuid.uuid4().hex}.jpg"
    made = (
        _poster(source, temp, px) if is_video(source.name, category) else _picture(source, temp, px)
    )
    if not made:
        temp.unlink(missing_ok=True)
        failed.touch()  # never try the same broken file again
        return None
    os.replace(temp, target)
    return target


def _picture(source: Path, target: Path, px: int) -> bool:
    try:
        with Image.open(source) as image:
            image.draft("RGB", (px, px))  # JPEG: decode at a fraction of the size
            picture = ImageOps.exif_transpose(image).convert("RGB")
            picture.thumbnail((px, px))
            picture.save(target, "JPEG", quality=80)
        return True
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        log.info("no thumbnail for %s: %s", source.name, exc)
        return False


def _poster(source: Path, target: Path, px: int) -> bool:
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        return False
    for offset in ("1", "0"):
        command = [ffmpeg, "-v", "error", "-y", "-ss", offset, "-i", str(source)]
        command += ["-frames:v", "1", "-vf", f"scale='min({px},iw)':-2", "-f", "mjpeg"]
        try:
            subprocess.run(
                [*command, str(target)],
                capture_output=True,
                timeout=FFMPEG_TIMEOUT_S,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.info("no poster for %s: %s", source.name, exc)
            return False
        if target.is_file() and target.stat().st_size > 0:
            return True
    return False


def video_seconds(data_dir: Path, source: Path, sha256: str) -> float | None:
    """A video's duration by ffprobe, cached beside its poster; None without ffprobe."""
    meta = cache_dir(data_dir) / f"{sha256}.json"
    if meta.is_file():
        return json.loads(meta.read_text(encoding="utf-8")).get("seconds")
    ffprobe = shutil.which("ffprobe")
    if not ffprobe or not source.is_file():
        return None
    command = [ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0"]
    try:
        done = subprocess.run(
            [*command, str(source)],
            capture_output=True,
            text=True,
            timeout=FFMPEG_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        seconds = float(done.stdout.strip())
    except (OSError, subprocess.TimeoutExpired, ValueError):
        seconds = None
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"seconds": seconds}), encoding="utf-8")
    return seconds


def mail_text(raw_path: Path) -> str:
    """The body of a stored mail as plain text (never its HTML), forwarded mails included."""
    try:
        parsed = parse_mail(raw_path.read_bytes())
    except OSError:
        return "（原始邮件文件缺失）"
    parts = [parsed.text.strip()]
    for inner in parsed.forwarded:
        head = f"—— 转发的邮件：{inner.sender_name} <{inner.sender}>，主题：{inner.subject} ——"
        parts += [head, inner.text.strip()]
    text = "\n".join(p for p in parts if p)
    if len(text) > MAX_BODY_CHARS:
        text = text[:MAX_BODY_CHARS] + "\n……（以下省略）"
    return text or "（邮件正文为空）"
