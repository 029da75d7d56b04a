"""The unit registry and finding unit names in free text.

Names and aliases come only from the office's units file. Matching is exact on normalised text
(NFKC, no punctuation or spaces); a longer name hides the shorter names it contains, so
"衡阳县西渡镇" is one hit. rapidfuzz only *proposes* candidates for staff and never assigns: near-
identical names such as 金兰镇 / 金溪镇 must not be merged silently.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rapidfuzz import fuzz, process

_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)
_PREFIXES = ("衡阳县",)
_SUFFIXES = ("人民政府",)


class RegistryError(Exception):
    """The units file cannot be used."""


def normalise(text: str) -> str:
    """NFKC (full-width → half-width), lower case, no spaces or punctuation."""
    return _STRIP.sub("", unicodedata.normalize("NFKC", text or "")).lower()


@dataclass(frozen=True)
class Unit:
    name: str
    category: str
    aliases: tuple[str, ...]
    emails: tuple[str, ...]

    def spellings(self) -> set[str]:
        """Every normalised spelling that names this unit."""
        keys = set()
        for spelling in (self.name, *self.aliases):
            key = normalise(spelling)
            variants = {key}
            for prefix in _PREFIXES:
                variants |= {v[len(prefix) :] for v in variants if v.startswith(prefix)}
            for suffix in _SUFFIXES:
                variants |= {v[: -len(suffix)] for v in variants if v.endswith(suffix)}
            keys |= {v for v in variants if len(v) >= 2}
        return keys


@dataclass(frozen=True)
class Match:
    unit: str
    text: str  # the spelling that matched, as normalised


@dataclass(frozen=True)
class Registry:
    units: tuple[Unit, ...]

    def __post_init__(self) -> None:
        keys: dict[str, str] = {}
        for unit in self.units:
            for key in unit.spellings():
                keys.setdefault(key, unit.name)
        emails = {email: unit.name for unit in self.units for email in unit.emails}
        object.__setattr__(self, "_keys", sorted(keys.items(), key=lambda kv: -len(kv[0])))
        object.__setattr__(self, "_emails", emails)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(unit.name for unit in self.units)

    def by_email(self, address: str) -> str | None:
        return self._emails.get(address.strip().lower())  # type: ignore[attr-defined]

    def find(self, text: str) -> list[Match]:
        """Units named in ``text``, longest spelling first, each unit once, in text order."""
        haystack = normalise(text)
        if not haystack:
            return []
        taken = [False] * len(haystack)
        hits: list[tuple[int, Match]] = []
        seen: set[str] = set()
        for key, unit in self._keys:  # type: ignore[attr-defined]
            start = haystack.find(key)
            while start >= 0:
                span = range(start, start + len(key))
                if not any(taken[i] for i in span):
                    for i in span:
                        taken[i] = True
                    if unit not in seen:
                        seen.add(unit)
                        hits.append((start, Match(unit, key)))
                start = haystack.find(key, start + 1)
        return [match for _, match in sorted(hits, key=lambda item: item[0])]

    def propose(self, text: str, limit: int = 3) -> list[str]:
        """Fuzzy candidates for staff to choose from; never used to assign."""
        query = normalise(text)
        if len(query) < 2:
            return []
        choices = {unit.name: normalise(unit.name) for unit in self.units}
        found = process.extract(query, choices, scorer=fuzz.partial_ratio, limit=limit)
        return [name for _, score, name in found if score >= 75]


def _split(value: object) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ()
    parts = re.split(r"[;；,，、\s]+", str(value))
    return tuple(part.strip() for part in parts if part.strip())


def load_registry(path: Path) -> Registry:
    """Read the units file (CSV in UTF-8 with or without BOM, or .xlsx), all cells as strings."""
    try:
        if path.suffix.lower() in (".xlsx", ".xls"):
            frame = pd.read_excel(path, dtype=str)
        else:
            frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise RegistryError(f"单位名录 {path} 无法读取：{exc}".splitlines()[0]) from exc
    frame.columns = [str(column).strip().lower() for column in frame.columns]
    if "unit" not in frame.columns:
        raise RegistryError(
            f"单位名录 {path} 缺少 unit 列（需要列：unit, category, aliases, emails）"
        )
    units = []
    seen: set[str] = set()
    for row in frame.fillna("").to_dict("records"):
        name = unicodedata.normalize("NFKC", str(row.get("unit", ""))).strip()
        if not name:
            continue
        if name in seen:
            raise RegistryError(f"单位名录 {path} 中单位 {name} 重复")
        seen.add(name)
        emails = tuple(e.lower() for e in _split(row.get("emails", "")) if "@" in e)
        units.append(
            Unit(name, str(row.get("category", "")).strip(), _split(row.get("aliases")), emails)
        )
    if not units:
        raise RegistryError(f"单位名录 {path} 中没有任何单位")
    return Registry(tuple(units))
