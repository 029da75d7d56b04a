"""What a summary report says: coverage of the campaign's work items, volunteers recruited.

Text is matched after NFKC normalisation (full-width digits, letters and punctuation become
ASCII), but evidence is quoted from the original sentence, so it reads as the unit wrote it.

Volunteer figures: the figure that talks about volunteers / 禁毒妈妈 recruited is chosen among
all "<number><名|人|位>" mentions by its context (see ``volunteer_count``). Approximate figures
count as the round number the report states: "100余名", "一百二十余人", "逾百人", "上百名" are
lower bounds and count as 100, 120, 100, 100; "近百名", "约80人" count as 100 and 80 (the
stated figure, never guessed up or down). "数百名" names no figure and is ignored.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from scoring._frames import excerpt_around
from scoring.rubric import ScoringConfig

_SENTENCE = re.compile(r"[^。！？!?；;\n\r]+[。！？!?；;]*")


def normalize(text: str) -> tuple[str, list[int]]:
    """NFKC per character, with the original index of every normalised character."""
    out: list[str] = []
    index: list[int] = []
    for position, char in enumerate(text):
        folded = unicodedata.normalize("NFKC", char)
        out.append(folded)
        index.extend([position] * len(folded))
    return "".join(out), index


@dataclass(frozen=True)
class _Sentence:
    original: str
    norm: str
    index: list[int]

    def quote(self, start: int, end: int) -> str:
        """Excerpt of the original sentence around normalised span [start, end)."""
        if not self.index:
            return self.original.strip()
        lo = self.index[min(start, len(self.index) - 1)]
        hi = self.index[min(max(end, 1), len(self.index)) - 1] + 1
        return excerpt_around(self.original, lo, hi)


def sentences(text: str) -> list[_Sentence]:
    """The text split into sentences (at 。！？；and line breaks), empty ones dropped."""
    result = []
    for match in _SENTENCE.finditer(text or ""):
        original = match.group(0)
        if not original.strip():
            continue
        norm, index = normalize(original)
        result.append(_Sentence(original, norm, index))
    return result


def work_item_coverage(text: str, rubric: ScoringConfig) -> list[tuple[str, bool, str]]:
    """For each work item of the rubric: (label, covered, evidence sentence or "").

    An item is covered when a sentence contains one of its keywords (both NFKC-normalised);
    the evidence is the first such sentence (an excerpt when the sentence is long).
    """
    parts = sentences(text)
    result = []
    for item in rubric.substance.items:
        keywords = [unicodedata.normalize("NFKC", k) for k in item.keywords]
        evidence = ""
        for sentence in parts:
            hits = [(sentence.norm.find(k), k) for k in keywords if k in sentence.norm]
            if hits:
                start, keyword = min(hits)
                evidence = sentence.quote(start, start + len(keyword))
                break
        result.append((item.label, bool(evidence), evidence))
    return result


# ---------------------------------------------------------------------------------------------
# Volunteers recruited

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_MULTIPLIER = {"十": 10, "百": 100, "千": 1000, "万": 10000}

_PREFIX = r"(?P<pre>将近|接近|近|大约|约|上|逾|超过|超|达到|达|共计|共|数)?"
_NUMBER = (
    r"(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?[十百千万]?|[零〇一二两三四五六七八九十百千万]+)"
)
_MENTION = re.compile(_PREFIX + _NUMBER + r"(?P<approx>余|多|来)?(?P<unit>名|人|位)")

# A bare 百/千/万 ("百人") is a slogan unless a prefix makes it a figure ("近百名", "上千人").
_BARE_OK = {
    "将近",
    "接近",
    "近",
    "大约",
    "约",
    "上",
    "逾",
    "超过",
    "超",
    "达到",
    "达",
    "共计",
    "共",
}
_CLAUSE_BREAK = re.compile(r"[,，、:：;；()（）]")
_QUOTE = "\"'“”‘’「」『』"
_AFTER_VOLUNTEER = re.compile(
    rf"^的?[{_QUOTE}]?(?:禁毒)?[{_QUOTE}]?(?:志愿者|志愿服务|妈妈|队员|志愿)"
)
_AFTER_OTHER = (
    "次",
    "群众",
    "学生",
    "师生",
    "干部",
    "党员",
    "村民",
    "居民",
    "家长",
    "青少年",
    "职工",
    "人员",
    "吸毒",
    "戒毒",
    "骨干",
    "签名",
    "参与",
    "受益",
    "观看",
    "民警",
    "讲师",
    "专家",
)
_VOLUNTEER_WORDS = ("志愿者", "禁毒妈妈", "志愿服务队", "服务队", "队员", "分队", "志愿队伍")
_RECRUIT_WORDS = (
    "招募",
    "吸纳",
    "发展",
    "组建",
    "注册",
    "招收",
    "动员",
    "新增",
    "壮大",
    "达",
    "共有",
    "现有",
    "拥有",
)
_WEAK_WORDS = ("培训", "受益", "服务群众", "帮扶", "覆盖", "慰问")


def _cn_number(text: str) -> int:
    if not any(ch in _CN_UNITS or ch == "万" for ch in text):
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total = section = digit = 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (digit or 1) * _CN_UNITS[ch]
            digit = 0
        else:  # 万
            total += ((section + digit) or 1) * 10000
            section = digit = 0
    return total + section + digit


def parse_number(text: str) -> int:
    """'62' / '1,200' / '1.2万' / '六十二' / '一百二十' / '百' → int."""
    text = text.replace(",", "")
    if text and text[0].isdigit():
        multiplier = 1
        if text[-1] in _MULTIPLIER:
            multiplier = _MULTIPLIER[text[-1]]
            text = text[:-1]
        return round(float(text) * multiplier)
    return _cn_number(text)


@dataclass(frozen=True)
class VolunteerMention:
    value: int
    evidence: str
    approximate: str  # "" for an exact figure, else the word that made it approximate
    weight: int


def _clause(norm: str, start: int, end: int) -> tuple[str, str]:
    before_breaks = [m.end() for m in _CLAUSE_BREAK.finditer(norm, 0, start)]
    lo = before_breaks[-1] if before_breaks else 0
    after_break = _CLAUSE_BREAK.search(norm, end)
    hi = after_break.start() if after_break else len(norm)
    return norm[lo:start], norm[end:hi]


def volunteer_mentions(text: str) -> list[VolunteerMention]:
    """Every figure in the text that counts people and is about volunteers, in text order."""
    found = []
    for sentence in sentences(text):
        norm = sentence.norm
        for match in _MENTION.finditer(norm):
            number, prefix = match.group("num"), match.group("pre") or ""
            if prefix == "数" or (match.start() > 0 and norm[match.start() - 1] == "第"):
                continue
            if number in _MULTIPLIER and prefix not in _BARE_OK:
                continue
            before, after = _clause(norm, match.start(), match.end())
            if after.startswith(_AFTER_OTHER):
                continue
            weight = 0
            if _AFTER_VOLUNTEER.match(after):
                weight += 3
            if any(word in before for word in _VOLUNTEER_WORDS):
                weight += 2
            if weight == 0:
                continue
            if any(word in before for word in _RECRUIT_WORDS) or prefix.startswith("达"):
                weight += 1
            elif any(word in before for word in _WEAK_WORDS):
                weight -= 1
            if "其中" in before:
                weight -= 2
            approximate = match.group("approx") or (
                prefix
                if prefix in {"将近", "接近", "近", "大约", "约", "上", "逾", "超过", "超"}
                else ""
            )
            found.append(
                VolunteerMention(
                    value=parse_number(number),
                    evidence=sentence.quote(match.start(), match.end()),
                    approximate=approximate,
                    weight=weight,
                )
            )
    return found


def best_volunteer_mention(text: str) -> VolunteerMention | None:
    """The mention most likely to state the number recruited (highest weight, then first)."""
    mentions = volunteer_mentions(text)
    if not mentions:
        return None
    best = max(mention.weight for mention in mentions)
    return next(mention for mention in mentions if mention.weight == best)


def volunteer_count(text: str) -> tuple[int | None, str]:
    """(volunteers recruited as the text states it, the sentence it came from) or (None, "").

    Understands Arabic and Chinese numerals, full-width digits and thousands separators
    ("62名", "六十二名", "1,200名", "６２名", "1.2万人"), and approximations ("100余名" → 100,
    "一百二十余人" → 120, "近百名" → 100: the stated round figure). Only figures counting people
    (名/人/位) whose context names volunteers or 禁毒妈妈 count; "人次", ranks ("第一名"),
    dates and other counts ("2020年", "3次培训", "群众500人") are ignored. When several figures
    qualify, one next to a recruiting verb (招募, 吸纳, 组建 …) wins over a sub-total ("其中…")
    or a training head count; on a tie, the first in the text.
    """
    mention = best_volunteer_mention(text)
    if mention is None:
        return None, ""
    return mention.value, mention.evidence
