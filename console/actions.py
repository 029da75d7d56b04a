"""The buttons (POST). Each calls the same correction or notification function as the CLI, as
the signed-in user, through ``run_correction`` / ``run_remind`` / ``run_report`` (which wait for
a running poll like the CLI does), then goes back to the page it came from with one line."""

from __future__ import annotations

import shutil
import uuid
from datetime import datetime
from pathlib import Path

from flask import Blueprint, flash, g, redirect, request, url_for

from console.auth import MANAGER, requires
from console.decisions import scores_seen
from intake.ledger import LedgerError
from pipeline import corrections
from pipeline.corrections import CorrectionError
from pipeline.dates import DateError, parse_moment
from pipeline.jobs import BusyError, run_correction, run_remind, run_report
from pipeline.tables import current_tables

acts = Blueprint("acts", __name__, url_prefix="/act")
MAX_REASON = 500


def _state():
    from console.app import console

    return console()


def _back():
    target = request.form.get("back", "")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("pages.overview")
    return redirect(target)


def _field(name: str) -> str:
    return request.form.get(name, "").strip()


def _reason() -> str:
    return _field("reason")[:MAX_REASON]


def _moment(text: str, tz, *, day_end: bool) -> datetime:
    """A date staff typed or picked, read as the CLI reads it; its error is a correction's."""
    try:
        return parse_moment(text, tz, day_end=day_end)
    except DateError as exc:
        raise CorrectionError(str(exc)) from None


def parse_local(text: str, tz) -> datetime:
    """When something was received: a bare date is its start."""
    return _moment(text, tz, day_end=False)


def end_of_day(text: str, tz) -> datetime:
    """A new deadline: a bare date is its end."""
    return _moment(text, tz, day_end=True)


def _correct(make) -> None:
    """Run ``make(ledger, ctx, now) -> message`` as a correction by the signed-in user."""
    state = _state()
    now = state.clock()
    try:
        with corrections.acting_as(g.user.name):
            message, report = run_correction(
                state.config, now, lambda ledger, ctx: make(ledger, ctx, now)
            )
        state.store.adopt(report)
        flash(message, "ok")
    except (CorrectionError, BusyError, LedgerError) as exc:
        flash(f"无法更正：{exc}", "error")


@acts.post("/assign")
@requires(MANAGER)
def assign():
    ref, unit, reason = _field("ref"), _field("unit"), _reason()
    _correct(lambda ledger, ctx, now: corrections.assign(ledger, ctx, ref, unit, reason, now))
    return _back()


@acts.post("/category")
@requires(MANAGER)
def category():
    ref, code, reason = _field("ref"), _field("category"), _reason()
    _correct(lambda ledger, ctx, now: corrections.set_category(ledger, ctx, ref, code, reason, now))
    return _back()


@acts.post("/exclude")
@requires(MANAGER)
def exclude():
    ref, reason = _field("ref"), _reason() or "不计入：非报送材料"
    _correct(lambda ledger, ctx, now: corrections.exclude(ledger, ctx, ref, reason, now))
    return _back()


@acts.post("/confirm-sender")
@requires(MANAGER)
def confirm_sender():
    address, unit, reason = _field("address"), _field("unit"), _reason()
    _correct(
        lambda ledger, ctx, now: corrections.confirm_sender(ledger, ctx, address, unit, reason, now)
    )
    return _back()


@acts.post("/extend")
@requires(MANAGER)
def extend():
    tz = _state().config.campaign.deadline.tzinfo
    unit, reason = _field("unit"), _reason()
    try:
        deadline = end_of_day(_field("day"), tz)
    except CorrectionError as exc:
        flash(f"无法更正：{exc}", "error")
        return _back()
    _correct(
        lambda ledger, ctx, now: corrections.extend_deadline(
            ledger, ctx.registry, unit, deadline, reason, now
        )
    )
    return _back()


@acts.post("/score")
@requires(MANAGER)
def score():
    unit, reason = _field("unit"), _reason()
    try:
        value = float(_field("score"))
    except ValueError:
        flash("无法更正：请填写 0–100 之间的分数", "error")
        return _back()
    _correct(
        lambda ledger, ctx, now: corrections.override_score(
            ledger, ctx.registry, unit, value, reason, now
        )
    )
    return _back()


@acts.post("/confirm-scores")
@requires(MANAGER)
def confirm_scores():
    config, reason, seen = _state().config, _reason(), _field("seen")

    def make(ledger, ctx, now) -> str:
        tables = current_tables(ledger, ctx.registry, config, now)
        # The list staff looked at must be the list confirmed: new mail or a correction since
        # the page was drawn would otherwise confirm scores nobody has seen.
        if seen != scores_seen(tables.units):
            raise CorrectionError("评分在您打开本页后有变化（新邮件或他人更正），请核对后再确认")
        return corrections.confirm_scores(ledger, tables, reason, now)

    _correct(make)
    return _back()


@acts.post("/individual")
@requires(MANAGER)
def individual():
    """确认 / 不予表彰 a candidate; ``new`` confirms someone the documents do not name."""
    config, reason = _state().config, _reason()
    name, unit_name, decision = _field("name"), _field("unit"), _field("decision")
    add = bool(_field("new"))
    if decision not in ("confirm", "reject"):
        flash("无法更正：请点“确认表彰”或“不予表彰”", "error")
        return _back()

    def make(ledger, ctx, now) -> str:
        unit = corrections.resolve_unit(ctx.registry, unit_name)
        tables = current_tables(ledger, ctx.registry, config, now)
        confirm = decision == "confirm"
        return corrections.decide_individual(
            ledger, tables, name, unit, confirm, add and confirm, reason, now
        )

    _correct(make)
    return _back()


@acts.post("/revoke")
@requires(MANAGER)
def revoke():
    reason = _reason() or "撤销"
    try:
        target = int(_field("id"))
    except ValueError:
        flash("无法撤销：缺少更正编号", "error")
        return _back()
    _correct(lambda ledger, ctx, now: corrections.revoke(ledger, ctx, target, reason, now))
    return _back()


def _upload_name(name: str, index: int) -> str:
    """The file's own name (Chinese kept) without folders or characters Windows refuses."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip(" .")
    return base[:120] or f"附件{index}"


@acts.post("/import")
@requires(MANAGER)
def import_files():
    config = _state().config
    unit, reason = _field("unit"), _reason() or "线下报送"
    uploads = [f for f in request.files.getlist("files") if f.filename]
    if not uploads:
        flash("无法导入：请选择要导入的文件", "error")
        return _back()
    try:
        received = parse_local(_field("received"), config.campaign.deadline.tzinfo)
    except CorrectionError as exc:
        flash(f"无法导入：{exc}", "error")
        return _back()

    def make(ledger, ctx, now) -> str:
        # Written inside the ledger session, which clears data/tmp when it starts.
        folder = config.data_dir / "tmp" / f"upload-{uuid.uuid4().hex}"
        paths: list[Path] = []
        try:
            for index, upload in enumerate(uploads, start=1):
                path = folder / str(index) / _upload_name(upload.filename, index)
                path.parent.mkdir(parents=True, exist_ok=True)
                upload.save(path)
                paths.append(path)
            return corrections.import_files(ledger, ctx, unit, paths, received, reason, now)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    _correct(make)
    return _back()


@acts.post("/remind")
@requires(MANAGER)
def remind():
    state = _state()
    config = state.config
    if request.form.get("dry_run"):
        notify = config.notify.model_copy(update={"dry_run": True})
        config = config.model_copy(update={"notify": notify})
    unit = _field("unit")
    only = frozenset([unit]) if unit else None
    try:
        message, report = run_remind(config, state.clock(), only)
        state.store.adopt(report)
        flash(message, "error" if "未发送" in message else "ok")
    except (BusyError, LedgerError) as exc:
        flash(f"无法发送：{exc}", "error")
    return _back()


@acts.post("/rebuild")
@requires(MANAGER)
def rebuild():
    state = _state()
    try:
        report = run_report(state.config, state.clock())
        state.store.adopt(report)
        flash(f"报表已重建：{report.units} 个单位，待确认 {report.review} 项。", "ok")
    except (BusyError, LedgerError) as exc:
        flash(f"无法重建：{exc}", "error")
    return _back()


@acts.post("/poll")
@requires(MANAGER)
def poll_now():
    status = _state().status
    if not status.snapshot().enabled:
        flash("本次启动未开启定时收取（--no-poll），请在命令行运行 once。", "error")
    else:
        status.wake.set()
        flash("已开始收取新邮件。", "ok")
    return _back()
