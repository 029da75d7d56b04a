"""Which address an automatic mail may go to: one plain address, never a display name's text.

A display name is whatever the sender typed; once decoded it may read ``单位 <victim@x.cn>`` or
carry a line break and a ``Bcc:``. Only the address that the header's own structure gives (with
encoded words left undecoded, so they stay inside the name) may receive our mail, and only as
one validated addr-spec: the office mailbox must never become a relay.
"""

from __future__ import annotations

from email.errors import HeaderParseError
from email.headerregistry import Address
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

__all__ = ["addr_spec", "from_addresses"]

_FORBIDDEN = set('<>,;:"()[]\\')


def addr_spec(text: str | None) -> str | None:
    """``text`` as one plain ASCII address ``local@domain.tld``, or None when it is anything else.

    No display name, no list, no comment, no whitespace or control character, a dotted domain.
    """
    text = (text or "").strip()
    if not text or not text.isascii() or text.count("@") != 1:
        return None
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in text):
        return None
    if _FORBIDDEN & set(text):
        return None
    try:
        address = Address(addr_spec=text)
    except (ValueError, IndexError, HeaderParseError):
        return None
    if address.addr_spec != text or not address.username or "." not in address.domain.strip("."):
        return None
    return text


def from_addresses(head: bytes) -> list[str]:
    """The lower-cased addresses the raw From header(s) of a mail name, in order.

    ``head`` is the header block (or the whole raw mail). Encoded words are not decoded before
    the addresses are found, so a name that decodes to ``<victim@…>`` stays a name.
    """
    headers = BytesHeaderParser(policy=compat32).parsebytes(head or b"")
    values = [
        str(value).replace("\r", " ").replace("\n", " ")
        for name, value in headers.raw_items()
        if name.lower() == "from"
    ]
    found = [address.strip().lower() for _, address in getaddresses(values)]
    return [address for address in found if address]
