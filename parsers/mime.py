"""A byte-level MIME walker: structure and part spans without copying payloads.

Why not ``email.message_from_bytes``: it reads mail line by line and keeps every payload as a
string, costing ~9x the message size in memory and most of the pipeline's time (see
shared/research/intake-lessons.md). Here headers are still parsed by the standard library, but
bodies stay as (start, end) spans into the raw bytes and are decoded one part at a time.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from email.message import Message
from functools import cached_property

import pybase64

from parsers.headers import Params, parse_header_block, split_params

MAX_DEPTH = 24  # nested multiparts and attached messages walked as a tree
MAX_FLAT_PARTS = 2000  # parts listed flat from beyond MAX_DEPTH (see ``flatten``)
TOO_DEEP = "nesting too deep"
_HEADER_END = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True)
class Entity:
    """One MIME entity: its headers and the span of its body inside ``raw``."""

    headers: Message
    start: int
    end: int
    children: tuple[Entity, ...] = ()
    defects: tuple[str, ...] = ()

    # Cached: every part's type and parameters are asked for several times while sorting.
    @cached_property
    def content_type(self) -> str:
        return self.headers.get_content_type()

    @cached_property
    def params(self) -> Params:
        """Content-Type parameters, parsed tolerantly (``Message.get_param`` can raise)."""
        return split_params(self.headers.get("Content-Type"))

    @property
    def charset(self) -> str:
        return self.params.get("charset").strip().lower()

    @property
    def is_multipart(self) -> bool:
        return bool(self.children) or self.content_type.startswith("multipart/")


def _split_headers(raw: bytes, start: int, end: int) -> tuple[bytes, int]:
    """Header block and body start of the entity in raw[start:end]."""
    if raw.startswith((b"\r\n", b"\n"), start):  # no headers at all
        return b"", start + (2 if raw.startswith(b"\r\n", start) else 1)
    match = _HEADER_END.search(raw, start, end)
    if match is None:
        return raw[start:end], end
    return raw[start : match.start()] + b"\r\n", match.end()


def _line_end(raw: bytes, pos: int, end: int) -> int:
    newline = raw.find(b"\n", pos, end)
    return end if newline < 0 else newline + 1


def _split_multipart(
    raw: bytes, start: int, end: int, boundary: bytes
) -> tuple[list[tuple[int, int]], list[str]]:
    """Spans of the body parts between ``--boundary`` delimiter lines."""
    delimiter = b"--" + boundary
    spans: list[tuple[int, int]] = []
    defects: list[str] = []
    part_start: int | None = None
    pos = start
    closed = False
    while pos < end:
        found = raw.find(delimiter, pos, end)
        if found < 0:
            break
        at_line_start = found == start or raw[found - 1 : found] == b"\n"
        after = found + len(delimiter)
        if not at_line_start:
            pos = after
            continue
        is_close = raw.startswith(b"--", after)
        rest_end = _line_end(raw, after, end)
        rest = raw[after + (2 if is_close else 0) : rest_end].strip()
        if rest and not is_close:  # a longer boundary that merely starts the same way
            pos = after
            continue
        if part_start is not None:
            body_end = found - 1 if found > start else found
            if body_end > part_start and raw[body_end - 1 : body_end] == b"\r":
                body_end -= 1
            spans.append((part_start, max(part_start, body_end)))
        if is_close:
            closed = True
            again = raw.find(b"\n" + delimiter, rest_end, end)
            if again < 0:
                break
            # Another opening delimiter after the close: a nested multipart reused the outer
            # boundary (seen in broken mail). Keep the parts that follow instead of losing them.
            defects.append("parts found after the closing boundary")
            closed = False
            part_start = None
            pos = again + 1
            continue
        part_start = rest_end
        pos = rest_end
    if not closed:
        if part_start is not None:
            spans.append((part_start, end))
            defects.append("multipart without closing boundary")
        else:
            defects.append("multipart boundary not found")
    return spans, defects


def parse_entity(raw: bytes, start: int = 0, end: int | None = None, depth: int = 0) -> Entity:
    """Walk the MIME tree of raw[start:end]; never raises on malformed structure."""
    end = len(raw) if end is None else end
    block, body_start = _split_headers(raw, start, end)
    entity = Entity(parse_header_block(block), body_start, end)
    if not _is_container(entity):
        return entity
    if depth >= MAX_DEPTH:  # the caller lists what is inside with ``flatten``
        return Entity(entity.headers, body_start, end, (), (TOO_DEEP,))
    spans, defects = _child_spans(raw, entity)
    children = tuple(parse_entity(raw, s, e, depth + 1) for s, e in spans)
    return Entity(entity.headers, body_start, end, children, tuple(defects))


def _is_container(entity: Entity) -> bool:
    ctype = entity.content_type
    return ctype.startswith("multipart/") or (
        ctype == "message/rfc822" and transfer_encoding(entity.headers) in _UNENCODED
    )


_UNENCODED = ("7bit", "8bit", "binary", "")


def _child_spans(raw: bytes, entity: Entity) -> tuple[list[tuple[int, int]], list[str]]:
    """Spans of a container's children: the parts of a multipart, the message inside
    an unencoded message/rfc822."""
    if entity.content_type == "message/rfc822":
        return [(entity.start, entity.end)], []
    boundary = entity.params.get("boundary").rstrip()
    if not boundary:
        return [], ["multipart without boundary"]
    encoded = boundary.encode("utf-8", "surrogateescape")
    return _split_multipart(raw, entity.start, entity.end, encoded)


def flatten(raw: bytes, entity: Entity, limit: int = MAX_FLAT_PARTS) -> tuple[list[Entity], bool]:
    """Every leaf inside ``entity``, at any depth, without recursion: what lies past MAX_DEPTH
    is listed rather than lost. Returns (leaves in order, True when ``limit`` cut the list)."""
    leaves: list[Entity] = []
    stack = [entity]
    visited = 0
    while stack:
        current = stack.pop()
        visited += 1
        if visited > limit:
            return leaves, True
        spans = _child_spans(raw, current)[0] if _is_container(current) else []
        if not spans:
            leaves.append(current)
            continue
        for start, end in reversed(spans):
            block, body_start = _split_headers(raw, start, end)
            stack.append(Entity(parse_header_block(block), body_start, end))
    return leaves, False


def transfer_encoding(headers: Message) -> str:
    value = headers.get("Content-Transfer-Encoding", "") or ""
    return str(value).strip().lower()


def _b64decode(raw: bytes, start: int, end: int) -> bytes:
    """Base64 as the standard library decodes it (non-alphabet bytes skipped), several times
    faster through pybase64's SIMD decoder.

    The two agree exactly, errors included, when padding comes only at the end; after an early
    ``=`` binascii stops while pybase64 reads on, so such broken bodies take binascii's path
    (tests/test_fast_paths.py compares them on fuzzed bodies and on the corpora).
    """
    data = memoryview(raw)[start:end]
    pad = raw.find(b"=", start, end)
    try:
        if pad < 0 or not raw[pad:end].strip(b"= \t\r\n"):
            return pybase64.b64decode(data, validate=False)
        return binascii.a2b_base64(data)
    except binascii.Error:
        # Truncated or mis-padded base64 (seen in broken mail): keep what decodes.
        clean = re.sub(rb"[^A-Za-z0-9+/]", b"", bytes(data))
        remainder = len(clean) % 4
        if remainder == 1:  # a lone 6-bit group carries no whole byte
            clean = clean[:-1]
        elif remainder:
            clean += b"=" * (4 - remainder)
        return binascii.a2b_base64(clean)


def decode_body(raw: bytes, entity: Entity) -> bytes:
    """The decoded payload of a leaf entity (one part in memory at a time)."""
    return decode_span(raw, entity.start, entity.end, transfer_encoding(entity.headers))


def decode_span(raw: bytes, start: int, end: int, encoding: str) -> bytes:
    """Decode raw[start:end] from its Content-Transfer-Encoding without copying it first."""
    if encoding == "base64":
        return _b64decode(raw, start, end)
    view = memoryview(raw)[start:end]
    if encoding == "quoted-printable":
        return binascii.a2b_qp(bytes(view))
    if encoding in ("x-uuencode", "uuencode", "x-uue"):
        return _uudecode(bytes(view))
    return bytes(view)


def _uudecode(data: bytes) -> bytes:
    out = bytearray()
    for line in data.splitlines():
        if line.startswith((b"begin ", b"end")) or not line.strip():
            continue
        try:
            out += binascii.a2b_uu(line)
        except binascii.Error:
            # Encoders that pad lines leave "trailing garbage"; keep the declared length
            # (the same workaround as the standard library's retired uu module).
            try:
                out += binascii.a2b_uu(line[: (((line[0] - 32) & 63) * 4 + 5) // 3])
            except binascii.Error:
                continue
    return bytes(out)
