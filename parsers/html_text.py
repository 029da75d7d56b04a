"""Readable text of an HTML body, with link targets kept in place (cloud links live in hrefs).

The standard library's ``html.parser`` tokenises the markup (tags, attributes, entities,
comments, unclosed elements) so that no regular expression has to guess where a tag ends.
"""

from __future__ import annotations

import logging
import re
from html.parser import HTMLParser

log = logging.getLogger(__name__)

_HIDDEN = ("script", "style", "head", "title")
# What may stand in <head>; any other tag (or text) starts the body, as browsers read it.
_HEAD_ONLY = frozenset({"html", "head", "meta", "link", "title", "style", "script", "base"})
_BLOCKS = frozenset(
    {"p", "div", "tr", "li", "ul", "ol", "table", "blockquote", "pre", "hr", "section"}
    | {f"h{level}" for level in range(1, 7)}
)


class _TextParser(HTMLParser):
    def __init__(self, drop_quotes: bool):
        super().__init__(convert_charrefs=True)
        self.drop_quotes = drop_quotes
        self.hidden = dict.fromkeys(_HIDDEN, 0)
        self.quotes = 0
        self.out: list[str] = []

    @property
    def visible(self) -> bool:
        return not any(self.hidden.values()) and not self.quotes

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HEAD_ONLY:
            self.hidden["head"] = 0  # a <head> nobody closed ends where the body starts
        if tag in self.hidden:
            self.hidden[tag] += 1
        elif tag == "blockquote" and self.drop_quotes:
            self.quotes += 1
        if not self.visible:
            return
        if tag == "br" or tag in _BLOCKS:
            self.out.append("\n")
        href = next((value for name, value in attrs if name == "href" and value), None)
        if href:
            self.out.append(f" {href.strip()} ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.hidden and tag != "blockquote":  # <br/>, <a href=... />
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.hidden:
            self.hidden[tag] = max(0, self.hidden[tag] - 1)
        elif tag == "blockquote" and self.drop_quotes:
            self.quotes = max(0, self.quotes - 1)
        elif tag in _BLOCKS and self.visible:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.hidden["head"] and data.strip() and sum(self.hidden.values()) == 1:
            self.hidden["head"] = 0
        if self.visible:
            self.out.append(data)


def html_to_text(html: str, drop_quotes: bool = False) -> str:
    """Text of ``html``: link targets kept as words, block ends as line breaks, script, style
    and head dropped; with ``drop_quotes``, <blockquote> (quoted replies) dropped too."""
    parser = _TextParser(drop_quotes)
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser raises on a few malformed declarations (<![if ...>)
        log.warning("HTML body could not be fully parsed; using the text read so far")
    return re.sub(r"[ \t\u00a0]+", " ", "".join(parser.out))
