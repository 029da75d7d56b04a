"""Readable text of an HTML body, with link targets kept in place (cloud links live in hrefs).

lxml's HTML parser (libxml2) builds the tree: it recovers from any malformed markup, never
reaches the network, and takes linear time. The standard library's ``html.parser`` was tried
first and rejected: on hostile markup such as ``"<a " * 100_000`` it takes quadratic time
(minutes for a 300 KB body), a worker-stalling bomb in a mail nobody here wrote.
"""

from __future__ import annotations

import logging
import re

from lxml import etree

log = logging.getLogger(__name__)

_HIDDEN = frozenset({"script", "style", "head", "title", "noscript", "template"})
_BLOCKS = frozenset(
    {"p", "div", "br", "tr", "li", "ul", "ol", "table", "blockquote", "pre", "hr", "section"}
    | {f"h{level}" for level in range(1, 7)}
)
_PARSER = etree.HTMLParser(
    recover=True, no_network=True, remove_comments=True, remove_pis=True, default_doctype=False
)


def html_to_text(html: str, drop_quotes: bool = False) -> str:
    """Text of ``html``: link targets kept as words, blocks on their own lines; script, style
    and head dropped; with ``drop_quotes``, <blockquote> (quoted replies) dropped too."""
    if not html.strip():
        return ""
    try:
        root = etree.fromstring(html, _PARSER)
    except (etree.LxmlError, ValueError):  # nothing parseable at all
        log.warning("HTML body could not be parsed; using no text from it")
        return ""
    if root is None:
        return ""
    hidden = _HIDDEN | ({"blockquote"} if drop_quotes else set())
    out: list[str] = []
    skipping = 0  # depth inside a hidden element
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if event == "start":
            if skipping or tag in hidden:
                skipping += 1
                continue
            if tag in _BLOCKS:
                out.append("\n")
            href = element.get("href")
            if href and href.strip():
                out.append(f" {href.strip()} ")
            out.append(element.text or "")
            continue
        if skipping:
            skipping -= 1
            if skipping:
                continue
        elif tag in _BLOCKS and tag not in ("br", "hr"):  # void elements: one break only
            out.append("\n")
        out.append(element.tail or "")  # text after the element belongs to its parent
    return re.sub(r"[ \t\u00a0]+", " ", "".join(out))
