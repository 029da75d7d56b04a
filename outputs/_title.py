"""Line breaks for a document title: between words, never inside one (GB/T 9704 7.3.3).

Chinese has no spaces, so words come from a segmenter (rjieba: the jieba dictionary in a small
Rust extension). A quoted name (“衡阳群众”), a number with its measure word (2020年度) and
punctuation stay with their neighbours. The lines are as even as the words allow and never
wider than the line.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import unicodedata
from functools import cache

_OPENING = set("“‘《（(〔【「『")
_CLOSERS = set("”’》）)〕】」』")
_CLOSING = _CLOSERS | set("，,。、；;：:！!？?·")


def _width(text: str) -> float:
    """Width in full-width characters (ASCII digits and letters are half)."""
    return sum(1.0 if unicodedata.east_asian_width(c) in ("W", "F", "A") else 0.5 for c in text)


def _glued(left: str, right: str, inside_quote: bool) -> bool:
    """True when no break may fall between two adjacent segments."""
    return (
        inside_quote
        or left[-1] in _OPENING
        or right[0] in _CLOSING
        or (left[-1].isdigit() and not right[0].isdigit() and _width(right[0]) == 1.0)
        or (left[-1].isdigit() and right[0].isdigit())
    )


TITLE_CAPACITY = 19.5  # full-width characters per title line of the notice (20 fit; a margin)


def notice_title(year: int, campaign_title: str) -> str:
    return f"关于{year}年度{campaign_title}材料报送情况的通报"


_CUT = (
    "import json, sys, rjieba; "
    "print(json.dumps(list(rjieba.cut(sys.stdin.buffer.read().decode('utf-8')))))"
)


def segments(title: str) -> list[str]:
    """rjieba's words for ``title``, cut in a short-lived child process: its dictionary costs
    33 MB, which would otherwise stay for the life of a ``serve`` or ``watch`` process (a new
    title is rare). In this process only if the child cannot run."""
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _CUT],
            input=title.encode("utf-8"),
            capture_output=True,
            timeout=60,
            check=True,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),  # Windows: no console
        )
        cut = json.loads(done.stdout)
        if isinstance(cut, list) and "".join(cut) == title:
            return cut
    except (OSError, ValueError, subprocess.SubprocessError):
        pass
    import rjieba

    return list(rjieba.cut(title))


def words(title: str) -> list[str]:
    """The title as unbreakable pieces."""
    pieces: list[str] = []
    depth = 0
    for segment in segments(title):
        if pieces and _glued(pieces[-1], segment, depth > 0):
            pieces[-1] += segment
        else:
            pieces.append(segment)
        depth += sum(c in _OPENING for c in segment) - sum(
            c in _CLOSING for c in segment if c in "”’》）)〕】」』"
        )
        depth = max(depth, 0)
    return pieces


def title_lines(title: str, capacity: float) -> list[str]:
    """The fewest lines of at most ``capacity`` full-width characters, as even as possible
    (ties: the lower lines longer, a trapezoid); a word wider than a line stands alone."""
    pieces = words(title)
    widths = [_width(p) for p in pieces]

    @cache
    def best(start: int, lines: int) -> tuple[float, tuple[int, ...]] | None:
        """(widest line, break points) for pieces[start:] in exactly ``lines`` lines."""
        if lines == 1:
            total = sum(widths[start:])
            return (total, ()) if total <= capacity or len(pieces) - start == 1 else None
        found = None
        width = 0.0
        for end in range(start + 1, len(pieces)):
            width += widths[end - 1]
            if width > capacity and end - start > 1:
                break
            rest = best(end, lines - 1)
            if rest is not None:
                candidate = (max(width, rest[0]), (end, *rest[1]))
                if found is None or candidate[0] <= found[0]:
                    found = candidate  # later breaks win ties: shorter upper lines
        return found

    for count in range(1, len(pieces) + 1):
        result = best(0, count)
        if result is not None:
            cuts = (0, *result[1], len(pieces))
            return ["".join(pieces[a:b]) for a, b in itertools.pairwise(cuts)]
    return [title]
