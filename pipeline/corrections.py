"""Staff corrections: record who/when/why in the ledger, then re-sort what they touch.

Every correction is a ledger row that processing and reporting consult, so it survives new
polls, ``report`` and ``reprocess``; files move on disk because the affected messages are
sorted again and files nobody references any more are removed.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import mimetypes
import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from contract import category_code
from intake.ledger import Ledger
from intake.rawstore import RawStore
from parsers.units import Registry
from pipeline.faults import CorrectionError
from pipeline.process import Context, Outcome, process


@dataclass(frozen=True)
class Target:
    message: int
    sha256: str
    file_key: str | None  # None: the whole message


# Who acts: the console's signed-in user for the request being served, else the OS user (CLI).
_acting: ContextVar[str | None] = ContextVar("acting", default=None)


@contextlib.contextmanager
def acting_as(name: str) -> Iterator[None]:
    """Record the corrections made inside this block as made by ``name``."""
    token = _acting.set(name)
    try:
        yield
    finally:
        _acting.reset(token)


def author() -> str:
    if name := _acting.get():
        return name
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def resolve_unit(registry: Registry, name: str) -> str:
    matches = registry.find(name)
    if name in registry.names:
        return name
    if len(matches) == 1 and len(name) >= 2:
        return matches[0].unit
    candidates = registry.propose(name)
    hint = f"，是否指：{'、'.join(candidates)}" if candidates else ""
    raise CorrectionError(f"单位名录中没有“{name}”{hint}")


def resolve_target(ledger: Ledger, ref: str) -> Target:
    """'12' is message 12; '12-3' is file 3 of message 12 (the 编号 column of the 台账)."""
    head, _, tail = ref.strip().partition("-")
    try:
        message = int(head)
        seq = int(tail) if tail else None
    except ValueError:
        raise CorrectionError(f"编号“{ref}”格式不对：邮件写 12，文件写 12-3") from None
    row = ledger.message_by_id(message)
    if row is None:
        raise CorrectionError(f"没有编号为 {message} 的邮件")
    if seq is None:
        return Target(message, row.sha256, None)
    key = ledger.file_key(message, seq)
    if key is None:
        raise CorrectionError(f"邮件 {message} 中没有编号为 {ref} 的文件")
    return Target(message, row.sha256, key)


def resort(ledger: Ledger, ctx: Context, messages: list[int]) -> list[Outcome]:
    """Sort the given messages again, together, so their old rows don't pin old places."""
    ignore = frozenset(messages)
    outcomes = []
    for message in sorted(set(messages)):
        row = ledger.message_by_id(message)
        if row is None:
            continue
        raw = (ctx.data_dir / row.raw_path).read_bytes()
        outcomes.append(process(ledger, row, raw, ctx, ignore=ignore))
    return outcomes


def _record(ledger: Ledger, kind: str, target: str, value: str, reason: str, now: datetime):
    with ledger.transaction():
        ledger.add_correction(kind, target, value, reason, author(), now.isoformat())
        ledger.bump_generation()


def revoke(ledger: Ledger, ctx: Context, correction: int, reason: str, now: datetime) -> str:
    """Cancel a correction; the cancellation is itself recorded, and what it moved moves back."""
    old = ledger.correction(correction)
    if old is None:
        raise CorrectionError(f"没有编号为 {correction} 的更正记录")
    if old.kind == "revoke":
        raise CorrectionError("撤销记录本身不能再撤销；如需恢复，请重新做一次更正")
    if old.id not in {c.id for c in ledger.corrections(old.kind, old.target)}:
        raise CorrectionError(f"更正 {correction} 已经撤销过了")
    with ledger.transaction():
        ledger.add_correction("revoke", str(old.id), old.kind, reason, author(), now.isoformat())
        if old.kind == "confirm_sender":  # fall back to an earlier confirmation still in force
            ledger.unconfirm_sender(old.target)
            for earlier in ledger.corrections("confirm_sender", old.target):
                if earlier.target == old.target:
                    ledger.confirm_sender(earlier.target, earlier.value)
        ledger.bump_generation()
    sha = old.target.split("/", 1)[0]
    if old.kind in ("assign_message", "exclude_message", "assign_file", "exclude_file"):
        row = ledger.message_by_sha(sha)
        resort(ledger, ctx, [row.id] if row else [])
    elif old.kind == "set_category":
        resort(ledger, ctx, ledger.messages_with_file(old.target))
    elif old.kind == "confirm_sender":
        resort(ledger, ctx, [row.id for row in ledger.messages_from(old.target)])
    return f"已撤销更正 {correction}。"


def assign(ledger: Ledger, ctx: Context, ref: str, unit: str, reason: str, now: datetime) -> str:
    unit = resolve_unit(ctx.registry, unit)
    target = resolve_target(ledger, ref)
    if target.file_key is None:
        _record(ledger, "assign_message", target.sha256, unit, reason, now)
    else:
        _record(ledger, "assign_file", f"{target.sha256}/{target.file_key}", unit, reason, now)
    resort(ledger, ctx, [target.message])
    return f"已将 {ref} 归入 {unit}。"


def set_category(
    ledger: Ledger, ctx: Context, ref: str, category: str, reason: str, now: datetime
) -> str:
    code = category_code(category)
    if code is None:
        raise CorrectionError(f"类别“{category}”无效，可选：照片、总结报告、事迹材料、视频、其他")
    target = resolve_target(ledger, ref)
    if target.file_key is None:
        raise CorrectionError("更改类别需指定文件编号，例如 12-3")
    _record(ledger, "set_category", target.file_key, code, reason, now)
    resort(ledger, ctx, ledger.messages_with_file(target.file_key))
    return f"已将 {ref} 的类别改为 {category}。"


def exclude(ledger: Ledger, ctx: Context, ref: str, reason: str, now: datetime) -> str:
    target = resolve_target(ledger, ref)
    if target.file_key is None:
        _record(ledger, "exclude_message", target.sha256, "", reason, now)
    else:
        _record(ledger, "exclude_file", f"{target.sha256}/{target.file_key}", "", reason, now)
    resort(ledger, ctx, [target.message])
    return f"已排除 {ref}，不再计入材料。"


def confirm_sender(
    ledger: Ledger, ctx: Context, address: str, unit: str, reason: str, now: datetime
) -> str:
    unit = resolve_unit(ctx.registry, unit)
    address = address.strip().lower()
    if "@" not in address:
        raise CorrectionError(f"“{address}”不是邮件地址")
    with ledger.transaction():
        ledger.add_correction("confirm_sender", address, unit, reason, author(), now.isoformat())
        ledger.confirm_sender(address, unit)
        ledger.bump_generation()
    outcomes = resort(ledger, ctx, [row.id for row in ledger.messages_from(address)])
    return f"已确认 {address} 属于 {unit}，重新分拣该地址的邮件 {len(outcomes)} 封。"


def extend_deadline(
    ledger: Ledger, registry: Registry, unit: str, deadline: datetime, reason: str, now: datetime
) -> str:
    unit = resolve_unit(registry, unit)
    if deadline.tzinfo is None:
        raise CorrectionError("延期截止时间须带时区，例如 2021-01-05T23:59:59+08:00")
    _record(ledger, "extend_deadline", unit, deadline.isoformat(), reason, now)
    return f"已为 {unit} 延期至 {deadline.isoformat()}。"


def override_score(
    ledger: Ledger, registry: Registry, unit: str, score: float, reason: str, now: datetime
) -> str:
    unit = resolve_unit(registry, unit)
    if not 0 <= score <= 100:
        raise CorrectionError("分数须在 0–100 之间")
    if not reason.strip():
        raise CorrectionError("人工调整分数须写明理由（--reason）")
    _record(ledger, "override_score", unit, f"{score:.1f}", reason, now)
    return f"已将 {unit} 的得分调整为 {score:.1f}。"


def import_files(
    ledger: Ledger,
    ctx: Context,
    unit: str,
    paths: list[Path],
    received: datetime,
    reason: str,
    now: datetime,
) -> str:
    """Materials that reached the office outside mail (U盘, 微信) enter as a synthetic mail."""
    unit = resolve_unit(ctx.registry, unit)
    if received.tzinfo is None:
        raise CorrectionError("收到时间须带时区，例如 2020-12-30T10:00:00+08:00")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise CorrectionError(f"找不到文件：{'、'.join(missing)}")
    message = EmailMessage()
    message["From"] = "线下导入 <import@localhost>"
    message["Subject"] = f"[线下导入] {unit}"
    message["Date"] = format_datetime(received)
    digest = hashlib.sha256(unit.encode())
    for path in paths:
        digest.update(path.read_bytes())
    message["Message-ID"] = f"<import-{digest.hexdigest()[:24]}@localhost>"
    message.set_content(f"工作人员导入（{reason or '线下报送'}），操作人 {author()}。")
    for path in paths:
        maintype, _, subtype = (
            mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        ).partition("/")
        message.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
        )
    raw = message.as_bytes()
    store = RawStore(ctx.data_dir)
    sha = store.put(raw)
    if ledger.message_by_sha(sha) is not None:
        raise CorrectionError("这些文件已按同一时间导入过")
    row = ledger.begin_message(sha, store.relpath(sha), len(raw), received.isoformat(), "manual")
    _record(ledger, "assign_message", sha, unit, reason or "线下导入", now)
    outcome = process(ledger, row, raw, ctx)
    return f"已为 {unit} 导入 {len(paths)} 个文件（邮件编号 {row.id}），存入 {outcome.stored} 个。"


def confirm_scores(ledger: Ledger, tables, reason: str, now: datetime) -> str:
    """Staff confirm the score list as it stands (``tables``: the ReportTables just built).

    The correction records every submitted unit's score; a unit counts as confirmed while its
    score stays the same, so a later change (new mail, a correction, a rubric edit) puts just
    that unit back among the suggestions until the list is confirmed again.
    """
    units = tables.units.loc[tables.units["submitted"].astype(bool)]
    if units.empty:
        raise CorrectionError("还没有单位报送材料，没有可确认的评分")
    scores = {
        unit: round(float(value), 1)
        for unit, value in zip(units["unit"], units["score"], strict=True)
    }
    _record(ledger, "confirm_scores", "scores", json.dumps(scores, ensure_ascii=False), reason, now)
    reasons = units["pending_reasons"] + ";" + units["notice_reasons"]
    low = units.loc[reasons.str.contains("low_score")]
    named = f"，其中评分偏低 {len(low)} 个将在通报中列出" if len(low) else ""
    return f"已确认 {len(scores)} 个单位的评分{named}。"


# A person's name as staff type it: letters (汉字 or Latin), the middle dot of minority names.
_PERSON_NAME = re.compile(r"[^\W\d_](?:[^\W\d_]|[·• .\-]){1,19}")


def decide_individual(
    ledger: Ledger, tables, name: str, unit: str, confirm: bool, add: bool, reason: str, now
) -> str:
    """Confirm (or reject) a candidate outstanding individual of a unit.

    Only a candidate found in the unit's deeds materials can be confirmed, unless ``add``
    (staff name someone the documents do not show as a candidate).
    """
    name = " ".join(name.split())
    if not _PERSON_NAME.fullmatch(name):
        raise CorrectionError(f"姓名“{name[:40]}”无效：请填写 2–20 个字的姓名（汉字、字母或“·”）")
    people = tables.individuals
    mine = people.loc[people["unit"] == unit]
    if name not in set(mine["name"]) and not (confirm and add):
        listed = "、".join(sorted(set(mine["name"]))) or "无"
        hint = "；如确需表彰此人，请按新增人员确认（命令行加 --new）" if confirm else ""
        raise CorrectionError(f"{unit} 的先进个人候选人中没有“{name}”（候选：{listed}）{hint}")
    value = "confirmed" if confirm else "rejected"
    _record(ledger, "confirm_individual", f"{unit}/{name}", value, reason, now)
    if confirm:
        return f"已确认 {name}（{unit}）为先进个人，将生成荣誉证书并列入通报表扬名单。"
    return f"已将 {name}（{unit}）移出先进个人名单。"
