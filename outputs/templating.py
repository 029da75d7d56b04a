"""One Jinja2 environment for every HTML page: the offline dashboard renders from it, and the
console adds its own templates in front of the same folder. Autoescaping is on for everything, so a
string from a mail can never become markup; only our own CSS, script and JSON are marked safe.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")


@cache
def environment(*extra: Path) -> Environment:
    """The environment, with ``extra`` template folders searched before the shared one."""
    loader = ChoiceLoader([FileSystemLoader([*map(str, extra), str(TEMPLATES)])])
    return Environment(
        loader=loader,
        autoescape=True,  # every template, whatever its name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def static_text(name: str) -> str:
    """A shared static file (CSS, script) as text, for pages that inline it."""
    return (STATIC / name).read_text(encoding="utf-8")
