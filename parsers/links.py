"""Cloud-drive and 超大附件 links in a mail's own text (quoted replies excluded)."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from parsers.html_text import html_to_text

# URLs are ASCII: stop at the first non-ASCII character ("...k3m9提取码：" is common).
_URL = re.compile(
    r"""(?:https?://|(?<![\w./])(?=[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/))[!#-;=?-~]+""", re.ASCII
)
_CODE = re.compile(
    r"(?:提取码|提取碼|取件码|访问码|密码|验证码|code)\s*[:：]?\s*([A-Za-z0-9]{4,8})", re.I
)
_PWD_PARAM = re.compile(r"[?&]pwd=([A-Za-z0-9]{4,8})")
_QUOTE_MARKERS = re.compile(
    r"^\s*(?:-{2,}\s*原始邮件\s*-{2,}|-{2,}\s*Original Message\s*-{2,}|-{3,}\s*转发邮件|"
    r"在\s.{1,80}写道[:：]|On .{1,120} wrote:|发件人[:：].{0,80}$|From:\s.+$)",
    re.I | re.M,
)
_QQ_QUOTE = re.compile(r"<div[^>]*>\s*-+(?:&nbsp;|\s)*原始邮件.*", re.I | re.S)


@dataclass(frozen=True)
class Link:
    url: str
    host: str  # the configured host pattern it matched
    code: str  # 提取码, "" when none
    note: str  # Chinese note for staff (expiry)


def own_text(text: str) -> str:
    """The part of a plain body written by the sender: before the quoted reply, no '>' lines."""
    match = _QUOTE_MARKERS.search(text)
    head = text[: match.start()] if match else text
    return "\n".join(line for line in head.splitlines() if not line.lstrip().startswith(">"))


def own_html_text(html: str) -> str:
    """The sender's own part of an HTML body as text, link targets kept in place."""
    return own_text(html_to_text(_QQ_QUOTE.sub("", html), drop_quotes=True))


def _clean(url: str) -> str:
    url = html_lib.unescape(url).rstrip(".,;:!?)]}>'\"，。；：！？")
    return url if url.lower().startswith("http") else "https://" + url


def _note(host: str) -> str:
    if "qq.com" in host:
        return "超大附件链接，约30天后过期，请尽快下载"
    if "163.com" in host or "126.com" in host:
        return "网易超大附件链接，会过期，请尽快下载"
    return "网盘链接，请及时下载保存"


def _known_host(url: str, hosts: list[str]) -> str | None:
    """The configured pattern ("host/path-prefix") this URL matches: exact host, path prefix."""
    parsed = urlsplit(url)
    hostname = (parsed.hostname or "").lower()
    for pattern in hosts:
        want_host, _, want_path = pattern.lower().partition("/")
        if hostname == want_host and parsed.path.lower().lstrip("/").startswith(want_path):
            return pattern
    return None


def find_links(text: str, html: str, hosts: list[str]) -> tuple[Link, ...]:
    """Distinct links of known hosts, with the 提取码 written near them."""
    found: dict[str, Link] = {}
    for body in (own_text(text), own_html_text(html) if html else ""):
        matches = list(_URL.finditer(body))
        claimed = 0  # text up to here belongs to earlier links (their 提取码)
        for index, match in enumerate(matches):
            url = _clean(match.group(0))
            stop = matches[index + 1].start() if index + 1 < len(matches) else len(body)
            after = _CODE.search(body, match.end(), min(stop, match.end() + 80))
            before = _CODE.search(body, max(claimed, match.start() - 40), match.start())
            claimed = after.end() if after else match.end()
            host = _known_host(url, hosts)
            if host is None or url in found:
                continue
            code = _PWD_PARAM.search(url) or after or before
            found[url] = Link(url, host, code.group(1) if code else "", _note(host))
    return tuple(found.values())
