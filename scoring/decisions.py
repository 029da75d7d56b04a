"""Decisions drawn from status and scores: rank, awards, notice (通报) reasons, deductions;
and candidate outstanding individuals from deeds documents."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

import pandas as pd

from contract import NOTICE_CODES
from scoring._frames import DOCUMENT_COLUMNS, require_columns, valid_materials
from scoring.rubric import ScoringConfig
from scoring.substance import sentences

DECISION_COLUMNS = (
    "rank",
    "award",
    "notice",
    "notice_reasons",
    "deduction",
    "score_confirmed",
    "pending_reasons",
)


def decide(
    status: pd.DataFrame,
    scores: pd.DataFrame,
    rubric: ScoringConfig,
    confirmed: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """``status`` joined with ``scores`` (by unit, status order) plus DECISION_COLUMNS.

    - rank (Int64): competition ranking by score among units that submitted — 1 is best, tied
      scores share the best of their places and the next place is skipped (1, 2, 2, 4);
      <NA> for units that did not submit.
    - award (bool): the unit is eligible (submitted; on time and complete unless the rubric
      says otherwise; score ≥ awards.min_score; not waiting for manual scoring unless allowed)
      and ranks within awards.top_n among eligible units (competition ranking, so a tie at
      place N awards every tied unit).
    - score_confirmed (bool): staff confirmed this very score (``confirmed``: unit → the score
      they confirmed; a score that changed since is no longer confirmed).
    - notice_reasons: ';'-joined codes in the fixed order not_submitted, late, incomplete,
      low_score, each when its notice rule is on. A unit that sent nothing gets only
      ``not_submitted``; ``late``/``incomplete``/``low_score`` apply to submitted units.
      ``low_score`` is named only for a confirmed score when notice.low_score_requires_
      confirmation; until then it is in ``pending_reasons`` (a suggestion for staff).
    - notice (bool): any reason; deduction (float): the rubric's points for each reason.
    """
    require_columns(status, ("unit", "submitted", "on_time", "complete"), "status")
    require_columns(scores, ("unit", "score"), "scores")
    table = _joined(status, scores)
    submitted = table["submitted"].astype(bool)
    rounded = table["score"].round(1)
    table["rank"] = rounded.where(submitted).rank(method="min", ascending=False).astype("Int64")
    table["award"] = _awards(table, rounded, rubric)
    confirmed = confirmed or {}
    table["score_confirmed"] = pd.Series(
        [
            unit in confirmed and round(float(confirmed[unit]), 1) == value
            for unit, value in zip(table["unit"], rounded, strict=True)
        ],
        dtype=bool,
    )
    reasons, pending = _reasons(table, rounded, rubric)
    table["notice_reasons"] = pd.Series([";".join(r) for r in reasons], dtype=str)
    table["pending_reasons"] = pd.Series([";".join(r) for r in pending], dtype=str)
    table["notice"] = pd.Series([bool(r) for r in reasons], dtype=bool)
    table["deduction"] = pd.Series(
        [rubric.deduction.for_reasons(r) for r in reasons], dtype="float64"
    )
    return table


def _joined(status: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    score_columns = [c for c in scores.columns if c == "unit" or c not in status.columns]
    table = status.merge(scores[score_columns], on="unit", how="left", validate="one_to_one")
    table["score"] = table["score"].astype("float64").fillna(0.0)
    if "needs_manual" in table.columns:
        table["needs_manual"] = table["needs_manual"].astype("boolean").fillna(False).astype(bool)
    if "grade" in table.columns:
        table["grade"] = table["grade"].astype("string").fillna("").astype(str)
    return table


def _awards(table: pd.DataFrame, rounded: pd.Series, rubric: ScoringConfig) -> pd.Series:
    awards = rubric.awards
    eligible = table["submitted"].astype(bool) & (rounded >= awards.min_score)
    if awards.require_on_time:
        eligible &= table["on_time"].astype(bool)
    if awards.require_complete:
        eligible &= table["complete"].astype(bool)
    if awards.exclude_needs_manual and "needs_manual" in table.columns:
        eligible &= ~table["needs_manual"]
    place = rounded.where(eligible).rank(method="min", ascending=False)
    return (eligible & (place <= awards.top_n)).astype(bool)


def _reasons(
    table: pd.DataFrame, rounded: pd.Series, rubric: ScoringConfig
) -> tuple[list[list[str]], list[list[str]]]:
    """(named reasons, pending reasons) per unit."""
    rules = rubric.notice
    named, pending = [], []
    for is_submitted, on_time, complete, value, confirmed in zip(
        table["submitted"].astype(bool),
        table["on_time"].astype(bool),
        table["complete"].astype(bool),
        rounded,
        table["score_confirmed"],
        strict=True,
    ):
        flags = {
            "not_submitted": not is_submitted,
            "late": is_submitted and not on_time,
            "incomplete": is_submitted and not complete,
            "low_score": is_submitted and value < rules.low_score_below,
        }
        codes = [code for code in NOTICE_CODES if flags[code] and getattr(rules, code)]
        waiting = rules.low_score_requires_confirmation and not confirmed
        held = ["low_score"] if "low_score" in codes and waiting else []
        named.append([code for code in codes if code not in held])
        pending.append(held)
    return named, pending


# ---------------------------------------------------------------------------------------------
# Outstanding individuals

INDIVIDUAL_COLUMNS = ("name", "unit", "document", "excerpt", "status", "note")
INDIVIDUAL_STATUS = {"candidate": "待确认", "confirmed": "已确认", "rejected": "不予表彰"}

_HAN = r"\u4e00-\u9fff"
# Words that end the part of a title in front of a person's name: roles, places, prepositions.
_PREFIX_WORDS = (
    "关于",
    "优秀",
    "先进",
    "禁毒",
    "志愿者",
    "志愿服务",
    "妈妈",
    "社工",
    "网格员",
    "民警",
    "辅警",
    "干部",
    "书记",
    "主任",
    "队长",
    "委员",
    "村民",
    "居民",
    "教师",
    "老师",
    "医生",
    "同志",
    "代表",
    "个人",
    "的",
    "镇",
    "乡",
    "村",
    "社区",
    "局",
    "所",
    "办",
    "院",
    "中心",
    "学校",
    "园区",
    "公司",
)
_MARKERS = ("同志", "先进事迹", "事迹材料", "个人事迹", "事迹")
# Characters that never appear in the names we look for (they mark a unit or an activity).
_NOT_NAME = set("工作活动服务宣传单位集体队组部门委办禁毒事迹材料典型度镇乡村局")
_SURNAMES_2 = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "司徒")
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左"
    "柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶"
    "解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬"
    "边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝封"
)


def _plausible_name(candidate: str) -> bool:
    if not 2 <= len(candidate) <= 4 or any(ch in _NOT_NAME for ch in candidate):
        return False
    if candidate.startswith(_SURNAMES_2):
        return len(candidate) >= 3
    return candidate[0] in _SURNAMES and len(candidate) <= 3


def _name_in(window: str) -> str:
    """The name at the end of a run of Han characters, after any role or place words."""
    cut = max(
        (window.rfind(word) + len(word) for word in _PREFIX_WORDS if word in window),
        default=0,
    )
    if _plausible_name(window[cut:]):
        return window[cut:]
    if cut == 0:
        # No role or place word in front ("护苗行动王小明"): try name-sized tails.
        for size in (4, 3, 2):
            if len(window) > size and _plausible_name(window[-size:]):
                return window[-size:]
    return ""


def person_name(title: str) -> str:
    """The person a deeds title is about ("张三同志禁毒志愿服务先进事迹材料" → "张三"), or ""."""
    text = unicodedata.normalize("NFKC", title or "")
    if not any(marker in text for marker in _MARKERS):
        return ""
    for marker in _MARKERS:
        for match in re.finditer(re.escape(marker), text):
            head = re.search(rf"[{_HAN}]+$", text[: match.start()])
            name = _name_in(head.group(0)) if head else ""
            if name:
                return name
    # "禁毒志愿者张伟：做群众身边的禁毒卫士（事迹材料）": the name leads the title.
    lead = re.match(rf"[{_HAN}]+(?=[^{_HAN}])", text)
    return _name_in(lead.group(0)) if lead else ""


def _excerpt(text: str, name: str, title: str, width: int = 80) -> str:
    parts = [s.original.strip() for s in sentences(text)]
    body = [p for p in parts if p and p != (title or "").strip()]
    chosen = next((p for p in body if name in p and len(p) > len(name) + 8), None)
    chosen = chosen or (body[0] if body else "")
    return chosen if len(chosen) <= width else chosen[: width - 1] + "…"


def individuals(
    materials: pd.DataFrame,
    documents: pd.DataFrame,
    decisions: Mapping[tuple[str, str], tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Candidate outstanding individuals: one row per (person, unit, deeds document).

    ``status`` is ``candidate`` until staff decide: ``decisions`` maps (unit, name) to
    (``confirmed`` | ``rejected``, reason), which becomes ``status`` and ``note``. A person
    staff confirmed whom no document names is added with an empty document.

    A deeds document is about a person when its own title (else its file name) names one in
    front of 同志 / 先进事迹 / 事迹材料: 2–4 Han characters starting with a common surname, after
    any role or place words ("优秀禁毒志愿者王小明事迹材料" → 王小明). Unit deeds ("西渡镇禁毒工作
    先进事迹") name nobody and are skipped, as are materials not yet assigned to a unit. The
    excerpt is the first body sentence naming the person (at most 80 characters).
    """
    require_columns(documents, DOCUMENT_COLUMNS, "documents")
    stored = valid_materials(materials)
    stored = stored.loc[(stored["kind"] == "file") & (stored["category"] == "deeds")]
    stored = stored.sort_values(["received_at", "message_key"], kind="stable")
    stored = stored.drop_duplicates(["unit", "sha256"])
    docs = documents.drop_duplicates("sha256")
    known = dict(  # sha256 -> (title, text); a dict, not a DataFrame row lookup per file
        zip(docs["sha256"], zip(docs["title"], docs["text"], strict=True), strict=True)
    )
    rows = []
    for unit, sha, filename in zip(
        stored["unit"], stored["sha256"], stored["filename"], strict=True
    ):
        title = text = ""
        if sha in known:
            raw_title, raw_text = known[sha]
            title = "" if pd.isna(raw_title) else str(raw_title)
            text = "" if pd.isna(raw_text) else str(raw_text)
        stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", filename.rsplit("/", 1)[-1])
        name = person_name(title) or person_name(stem)
        if not name:
            continue
        rows.append(
            {
                "name": name,
                "unit": unit,
                "document": filename,
                "excerpt": _excerpt(text, name, title),
            }
        )
    return _with_decisions(rows, decisions or {})


def _with_decisions(
    rows: list[dict], decisions: Mapping[tuple[str, str], tuple[str, str]]
) -> pd.DataFrame:
    found = {(row["unit"], row["name"]) for row in rows}
    for (unit, name), (status, _) in decisions.items():
        if status == "confirmed" and (unit, name) not in found:
            rows.append({"name": name, "unit": unit, "document": "", "excerpt": ""})
    for row in rows:
        status, note = decisions.get((row["unit"], row["name"]), ("candidate", ""))
        row["status"], row["note"] = status, note
    frame = pd.DataFrame(rows, columns=list(INDIVIDUAL_COLUMNS))
    return frame.astype({column: str for column in INDIVIDUAL_COLUMNS})
