"""Facts measured from a stored picture or video: perceptual hashes, capture time, duration.

Pure functions from a path to a frozen record; nothing here knows about units or the ledger.
The integrity checks (scoring/integrity.py) compare these facts; the pipeline caches them per
sha256 in the ledger's ``media`` table, tagged with ``PROBE_VERSION``.

Pictures: decoded once, at reduced size where the format allows (JPEG DCT scaling), turned
upright by their EXIF orientation, then hashed with pHash and dHash (the definitions of the
imagehash library, computed here with numpy on a small gray copy: imagehash would bring scipy for
one 32x32 DCT, and hashing from a 96-pixel copy is four times faster). A copy that was
resized or recompressed hashes alike; a cropped copy is caught because the hashes of eleven
windows of the picture (the whole, centred 90 % and 80 %, the four 90 % sides and the four 90 %
corners) are kept, and a copy's whole-picture hash lands near one of the original's windows.
Pillow's decompression-bomb limit applies.

Videos: ffprobe (a subprocess with a timeout; parsers/tools.py finds it) reads the container,
decodes the first frames and reads the picture stream's packets near the end; a file it cannot
open, without a picture stream, whose first frames do not decode, or whose stream stops short,
does not play.
"""

from __future__ import annotations

import functools
import json
import math
import subprocess
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageOps

from parsers.filetypes import MAX_IMAGE_PIXELS

# Bump when what is measured changes: cached facts of an older version are measured again.
PROBE_VERSION = 3

HASH_SIDE = 96  # pictures are hashed from a gray copy at most this many pixels on a side
# (name, left, top, right, bottom) as shares of the picture; the first is the whole picture.
WINDOWS: tuple[tuple[str, float, float, float, float], ...] = (
    ("whole", 0.0, 0.0, 1.0, 1.0),
    ("centre90", 0.05, 0.05, 0.95, 0.95),
    ("centre80", 0.1, 0.1, 0.9, 0.9),
    ("left90", 0.0, 0.0, 0.9, 1.0),
    ("right90", 0.1, 0.0, 1.0, 1.0),
    ("top90", 0.0, 0.0, 1.0, 0.9),
    ("bottom90", 0.0, 0.1, 1.0, 1.0),
    ("topleft90", 0.0, 0.0, 0.9, 0.9),
    ("topright90", 0.1, 0.0, 1.0, 0.9),
    ("bottomleft90", 0.0, 0.1, 0.9, 1.0),
    ("bottomright90", 0.1, 0.1, 1.0, 1.0),
)
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_DATETIME = 0x0132
FFPROBE_TIMEOUT_S = 60.0
_END_FRAMES_FROM = 0.9  # the picture stream must reach this share of the duration


@dataclass(frozen=True)
class ImageFacts:
    width: int = 0
    height: int = 0
    taken: str = ""  # EXIF DateTimeOriginal as ISO 8601 (with its offset when the file has one)
    phash: tuple[str, ...] = ()  # 16 hex digits per window of WINDOWS, in that order
    dhash: tuple[str, ...] = ()
    problem: str = ""  # Chinese reason when the picture could not be measured

    def to_json(self) -> dict:
        return {
            "kind": "image",
            **self.__dict__,
            "phash": list(self.phash),
            "dhash": list(self.dhash),
        }


@dataclass(frozen=True)
class VideoFacts:
    probed: bool = False  # False when no ffprobe was available: nothing is known
    playable: bool = False
    duration: float = 0.0  # seconds
    width: int = 0
    height: int = 0
    codec: str = ""
    problem: str = ""  # Chinese reason when it does not play

    def to_json(self) -> dict:
        return {"kind": "video", **self.__dict__}


@dataclass(frozen=True)
class _Probe:
    ok: bool
    data: dict = field(default_factory=dict)
    error: str = ""


def facts_from_json(data: dict) -> ImageFacts | VideoFacts:
    """The record ``to_json`` wrote (unknown keys of other probe versions are ignored)."""
    if data.get("kind") == "video":
        names = VideoFacts.__dataclass_fields__
        return VideoFacts(**{k: v for k, v in data.items() if k in names})
    names = ImageFacts.__dataclass_fields__
    values = {k: v for k, v in data.items() if k in names}
    values["phash"] = tuple(values.get("phash", ()))
    values["dhash"] = tuple(values.get("dhash", ()))
    return ImageFacts(**values)


# ---------------------------------------------------------------------------------------------
# pictures


def measure_file(path: str, category: str, ffprobe: str | None) -> dict | None:
    """Facts of a stored photo or video as JSON (what a worker process hands back), or None
    when the file is no longer there (a correction moved it meanwhile)."""
    target = Path(path)
    if not target.is_file():
        return None
    facts = measure_video(target, ffprobe) if category == "video" else measure_image(target)
    return facts.to_json()


def measure_image(path: Path) -> ImageFacts:
    """Hashes, size and capture time of the picture at ``path``; never raises for bad input."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            picture, exif = _open_picture(Path(path))
    except (Image.DecompressionBombError, _TooLarge):
        return ImageFacts(problem="图片像素数超过安全上限，未计算")
    except Exception as exc:  # Pillow and libheif raise many types on damaged files
        return ImageFacts(problem=f"图片无法解码（{str(exc)[:80] or type(exc).__name__}）")
    width, height = picture.size
    phashes, dhashes = window_hashes(np.asarray(picture, dtype=float))
    return ImageFacts(
        width=exif.get("width", width),
        height=exif.get("height", height),
        taken=exif.get("taken", ""),
        phash=tuple(phashes),
        dhash=tuple(dhashes),
    )


# DCT-II matrix as scipy.fftpack.dct computes it (unnormalised): C[k, n] = 2 cos(pi k (2n+1) / 2N)
_N = 32
_DCT = 2 * np.cos(np.pi * np.outer(np.arange(_N), 2 * np.arange(_N) + 1) / (2 * _N))


def _hex(bits: np.ndarray) -> list[str]:
    """Each row of 64 bits as 16 hex digits, most significant first (imagehash's text form)."""
    return [row.tobytes().hex() for row in np.packbits(bits.reshape(len(bits), 64), axis=1)]


Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels


def window_boxes(width: int, height: int) -> list[Box]:
    """The pixel box of each window of WINDOWS on a picture of this size."""
    return [
        (round(left * width), round(top * height), round(right * width), round(bottom * height))
        for _, left, top, right, bottom in WINDOWS
    ]


def window_hashes(pixels: np.ndarray) -> tuple[list[str], list[str]]:
    """pHash and dHash of every window of a gray picture (a 2-D array of 0..255)."""
    return phash(pixels), dhash(pixels)


def phash(pixels: np.ndarray) -> list[str]:
    """pHash of each window of a gray picture: the 8x8 lowest frequencies of a 32x32 DCT, each
    above or below their median (all windows in one batch of matrix products)."""
    low = (_DCT @ resized(pixels, (_N, _N)) @ _DCT.T)[:, :8, :8].reshape(len(WINDOWS), 64)
    return _hex(low > np.median(low, axis=1, keepdims=True))


def dhash(pixels: np.ndarray) -> list[str]:
    """dHash of each window of a gray picture: on a 9x8 copy, whether each pixel is brighter
    than its left neighbour."""
    shrunk = resized(pixels, (9, 8))
    return _hex(shrunk[:, :, 1:] > shrunk[:, :, :-1])


# Pillow's LANCZOS resize of 8-bit pictures, as matrix products. Pillow (libImaging/Resample.c)
# weighs each output pixel with a truncated sinc in 22-bit fixed point and rounds to 8 bits
# after the horizontal pass and after the vertical one. The same integer weights, embedded at
# each window's offset, turn the crop-then-resize of all eleven windows into two products;
# float64 holds every product and sum exactly (< 2**40), so the pixels are Pillow's, bit for
# bit (tests/test_integrity.py compares them), at a quarter of the cost of 22 crops and
# resizes. Only for a sliver (a window enlarged on one side, shrunk on the other) do Pillow
# releases differ in the order of the passes; here it is always horizontal first, so a hash
# never depends on the Pillow installed.
_BITS = 22  # Resample.c: PRECISION_BITS = 32 - 8 - 2
_LANCZOS_SUPPORT = 3.0


def _sinc(x: float) -> float:
    if x == 0.0:
        return 1.0
    x = x * math.pi
    return math.sin(x) / x


def _lanczos(x: float) -> float:
    return _sinc(x) * _sinc(x / 3) if -3.0 <= x < 3.0 else 0.0


@functools.lru_cache(maxsize=512)
def _weights(size: int, start: int, stop: int, out: int) -> np.ndarray:
    """(out, size) fixed-point weights resizing pixels start..stop of a line of ``size`` to
    ``out`` pixels, computed as Resample.c's precompute_coeffs and normalize_coeffs_8bpc."""
    matrix = np.zeros((out, size))
    span = stop - start
    if span == out:  # Pillow skips the pass: the pixels stay as they are
        matrix[:, start:stop] = np.eye(out) * (1 << _BITS)
        return matrix
    scale = span / out
    filterscale = max(scale, 1.0)
    support = _LANCZOS_SUPPORT * filterscale
    inverse = 1.0 / filterscale
    for x_out in range(out):
        center = (x_out + 0.5) * scale
        low = max(int(center - support + 0.5), 0)
        count = min(int(center + support + 0.5), span) - low
        taps = [_lanczos((x + low - center + 0.5) * inverse) for x in range(count)]
        total = 0.0
        for tap in taps:
            total += tap
        for x, tap in enumerate(taps):
            weight = (tap / total if total != 0.0 else tap) * (1 << _BITS)
            matrix[x_out, start + low + x] = int(weight - 0.5 if weight < 0 else weight + 0.5)
    matrix.flags.writeable = False  # shared through the cache
    return matrix


def _to_8bit(sums: np.ndarray) -> np.ndarray:
    """Resample.c's clip8, in place: round the fixed-point sums to 0..255."""
    sums += 1 << (_BITS - 1)
    sums *= 1.0 / (1 << _BITS)  # a power of two: exact
    np.floor(sums, out=sums)
    return np.clip(sums, 0, 255, out=sums)


@functools.lru_cache(maxsize=64)
def _passes(width: int, height: int, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The horizontal weights of every window side by side, (width, windows * out_w), and the
    vertical ones stacked, (windows, out_h, height), for pictures of this size."""
    out_w, out_h = size
    boxes = window_boxes(width, height)
    across = np.concatenate([_weights(width, b[0], b[2], out_w) for b in boxes])
    down = np.stack([_weights(height, b[1], b[3], out_h) for b in boxes])
    return np.ascontiguousarray(across.T), down


def resized(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Each window of a gray picture cut out and resized to ``size`` (width, height) exactly
    as Pillow's ``crop(box).resize(size, LANCZOS)`` does: an array (windows, height, width)."""
    height, width = pixels.shape
    across, down = _passes(width, height, size)
    rows = _to_8bit(pixels @ across)  # the horizontal pass, every window at once
    rows = rows.reshape(height, len(down), size[0]).transpose(1, 0, 2)
    return _to_8bit(down @ rows)  # the vertical pass


class _TooLarge(Exception):
    """More pixels than the intake's bomb limit (parsers/filetypes.MAX_IMAGE_PIXELS) allows."""


def _check_pixels(width: int, height: int, scaled: bool) -> None:
    # A JPEG decodes at reduced scale, so it may have up to twice as many (as at intake).
    if width * height > (2 if scaled else 1) * MAX_IMAGE_PIXELS:
        raise _TooLarge


def _open_picture(path: Path) -> tuple[Image.Image, dict]:
    """The picture, upright and at most HASH_SIDE on a side, and what its EXIF says."""
    if pillow_heif.is_supported(str(path)):
        return _open_heif(path)
    with Image.open(path) as image:
        full = image.size
        _check_pixels(*full, scaled=image.format == "JPEG")
        image.draft("L", (HASH_SIDE, HASH_SIDE))  # JPEG: decode at 1/2, 1/4 or 1/8 scale, gray
        exif = image.getexif()
        picture = ImageOps.exif_transpose(image).convert("L")
    picture.thumbnail((HASH_SIDE, HASH_SIDE))
    return picture, _exif_facts(exif) | {"width": full[0], "height": full[1]}


def _open_heif(path: Path) -> tuple[Image.Image, dict]:
    """HEIC: the embedded thumbnail when it is large enough and turned like the picture
    (iPhones store one; decoding 12 megapixels of HEVC costs seconds), else the picture."""
    heif = pillow_heif.open_heif(str(path), convert_hdr_to_8bit=True)
    primary = heif[heif.primary_index]
    exif = Image.Exif()
    if heif.info.get("exif"):
        exif.load(heif.info["exif"])
    width, height = primary.size  # libheif applies the orientation itself
    picture = None
    sizes = list(heif.info.get("thumbnails") or [])
    if sizes and max(sizes) >= HASH_SIDE:
        thumb = primary.get_thumbnail(sizes.index(max(sizes))).to_pillow()
        if (thumb.width >= thumb.height) == (width >= height):
            picture = thumb
    if picture is None:
        _check_pixels(width, height, scaled=False)
        picture = primary.to_pillow()
    picture = picture.convert("L")
    picture.thumbnail((HASH_SIDE, HASH_SIDE))
    return picture, _exif_facts(exif) | {"width": width, "height": height}


def _exif_facts(exif: Image.Exif) -> dict:
    """{"taken": ISO 8601} from DateTimeOriginal (with OffsetTimeOriginal when present)."""
    sub = exif.get_ifd(_EXIF_IFD) if exif else {}
    raw = sub.get(_DATETIME_ORIGINAL) or ""
    taken = _exif_time(raw, sub.get(_OFFSET_TIME_ORIGINAL) or "")
    return {"taken": taken} if taken else {}


def _exif_time(raw: object, offset: object) -> str:
    text = str(raw).strip().strip("\x00")
    try:
        moment = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return ""  # absent, or a camera's placeholder such as "0000:00:00 00:00:00"
    suffix = str(offset).strip().strip("\x00")
    if len(suffix) == 6 and suffix[0] in "+-" and suffix[3] == ":":
        return moment.isoformat() + suffix
    return moment.isoformat()


# ---------------------------------------------------------------------------------------------
# videos


def measure_video(
    path: Path, ffprobe: str | None, timeout_s: float = FFPROBE_TIMEOUT_S
) -> VideoFacts:
    """Duration, picture size and whether the video at ``path`` plays; never raises."""
    if not ffprobe:
        return VideoFacts(problem="未安装 ffprobe，无法检查视频")
    head = _ffprobe(
        ffprobe,
        ["-show_entries", "format=duration:stream=codec_type,codec_name,width,height,duration"],
        path,
        timeout_s,
    )
    if not head.ok:
        return VideoFacts(probed=True, problem=f"视频无法打开（{head.error}）")
    streams = [s for s in head.data.get("streams", []) if s.get("codec_type") == "video"]
    if not streams:
        return VideoFacts(probed=True, problem="文件中没有视频画面")
    stream = streams[0]
    duration = _seconds(head.data.get("format", {}).get("duration")) or _seconds(
        stream.get("duration")
    )
    facts = VideoFacts(
        probed=True,
        duration=round(duration, 2),
        width=int(stream.get("width") or 0),
        height=int(stream.get("height") or 0),
        codec=str(stream.get("codec_name") or ""),
    )
    if not _decodes_start(ffprobe, path, timeout_s):
        return VideoFacts(**{**facts.__dict__, "problem": "视频开头的画面无法解码"})
    if not _reaches_end(ffprobe, path, duration * _END_FRAMES_FROM, timeout_s):
        return VideoFacts(**{**facts.__dict__, "problem": "视频数据不完整（文件可能被截断）"})
    return VideoFacts(**{**facts.__dict__, "playable": True})


def _decodes_start(ffprobe: str, path: Path, timeout_s: float) -> bool:
    """True when the first picture frames decode."""
    probe = _ffprobe(
        ffprobe,
        ["-select_streams", "v:0", "-show_entries", "frame=pict_type", "-read_intervals", "%+#2"],
        path,
        timeout_s,
    )
    return probe.ok and bool(probe.data.get("frames"))


def _reaches_end(ffprobe: str, path: Path, start: float, timeout_s: float) -> bool:
    """True when the picture stream's packets (read, not decoded: cheap) reach ``start``
    seconds: a file cut short in transfer still has its header but not its end."""
    probe = _ffprobe(
        ffprobe,
        [
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=pts_time",
            "-read_intervals",
            f"{start:.3f}%",
        ],
        path,
        timeout_s,
    )
    times = [_seconds(p.get("pts_time")) for p in probe.data.get("packets", [])]
    return probe.ok and bool(times) and max(times) >= start


def _ffprobe(ffprobe: str, args: list[str], path: Path, timeout_s: float) -> _Probe:
    command = [ffprobe, "-v", "error", "-print_format", "json", *args, str(path)]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return _Probe(False, error=f"检查超时（{timeout_s:g} 秒）")
    except OSError as exc:
        return _Probe(False, error=f"ffprobe 无法运行：{exc}")
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return _Probe(False, error=(lines[-1] if lines else f"退出码 {done.returncode}")[:120])
    try:
        return _Probe(True, json.loads(done.stdout.decode("utf-8", "replace") or "{}"))
    except json.JSONDecodeError:
        return _Probe(False, error="ffprobe 输出无法解析")


def _seconds(value: object) -> float:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return seconds if seconds > 0 else 0.0
