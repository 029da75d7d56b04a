"""Does English reach a person? Find English words in what the terminal showed.

Names are allowed: paths, file names, config keys (``mailbox.host``), environment variables,
addresses, host names, anything quoted (the value a person typed), option names, and the few
product and protocol names people know (IMAP, QQ, …). What is left, a plain word of three or
more ASCII letters (``error``, ``Traceback``, ``ConnectionRefusedError``, ``gaierror``), is
English that a person should not have to read.
"""

from __future__ import annotations

import re

KNOWN_NAMES = frozenset(
    {"IMAP", "SMTP", "SSL", "TLS", "QQ", "YAML", "CSV", "Excel", "WPS", "Tab", "Ctrl", "BOM",
     "ssl", "starttls", "none", "true", "false", "help", "imap", "folder", "INBOX", "UTF", "ANSI",
     "GBK", "PDF", "DOCX", "HTML", "Word", "LibreOffice", "Windows", "ID"}
)  # fmt: skip
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|'[^']*'|「[^」]*」|《[^》]*》")
# A token with a path, key, address, option or variable shape is a name, whatever its letters.
_TOKEN = re.compile(r"[A-Za-z0-9_.\-/\\:@~+]+")
_WORD = re.compile(r"[A-Za-z]{3,}")


def english_words(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """The English words in ``text`` that are no name (empty when the text is fine).

    ``allowed``: further names; a single word is matched as a whole token, anything longer
    (a path, a value with spaces) is removed from the text first.
    """
    words = {name for name in allowed if re.fullmatch(r"[\w-]+", name)}
    for name in sorted(set(allowed) - words, key=len, reverse=True):
        text = text.replace(name, " ")
    text = _QUOTED.sub(" ", text)
    found = []
    for token in _TOKEN.findall(text):
        token = token.rstrip(".:/\\")  # "ConnectionRefusedError:" is a word, not a name
        if not _WORD.fullmatch(token) or token in KNOWN_NAMES or token in words:
            continue  # digits, dots, slashes, underscores, @, dashes: a name, not a sentence
        found.append(token)
    return found


def assert_chinese(text: str, allowed: tuple[str, ...] = ()) -> None:
    words = english_words(text, allowed)
    assert not words, f"English reaches a person: {words} in:\n{text}"
