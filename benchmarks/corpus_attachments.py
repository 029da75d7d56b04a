#!/usr/bin/env python3
"""Judged attachments of the public corpora: how many we decode against Python's ``email``.

Not part of CI (tests/test_corpora.py asserts that we decode at least as many). A judged
attachment is one listed in ``<shared>/corpora/index.json``; it counts as decoded when a file
of the same name and decoded size (and hash, where known) comes out. The standard library is
read at its strongest: ``policy.default`` and every leaf of ``walk()``.

    python benchmarks/corpus_attachments.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_corpora import ENTRIES, judged_counts


def main() -> int:
    if not ENTRIES:
        print("shared corpora not found (set SHARED_DIR)")
        return 1
    judged, ours, theirs, differ = judged_counts()
    print(f"messages: {len(ENTRIES)}; judged attachments: {judged}")
    print(f"decoded by us: {ours}; by the standard library (walk, policy.default): {theirs}")
    for file, name, mine in differ:
        print(f"  only {'we' if mine else 'the standard library'}: {file}: {name!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
