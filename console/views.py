"""The pages (GET). Each gathers its data once (console.data) and renders it; ``?format=json``
returns the same data, so tests and scripts read exactly what the page shows."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    render_template,
    request,
    send_file,
)

from console import data, decisions, previews
from outputs.certificates import person_certificate_filename
from pipeline.notify import office_address, plan_reminders
from pipeline.reports import (
    ATTACHMENTS_CSV,
    CERTIFICATES_DIR,
    DASHBOARD_HTML,
    LEDGER_XLSX,
    NOTICE_DOCX,
    UNITS_CSV,
)

pages = Blueprint("pages", __name__)
PLACEHOLDER = previews.placeholder()
REPORTS = (  # what the 报表 page offers, in this order: (file name, what it is)
    (LEDGER_XLSX, "报送台账（Excel/WPS 表格）"),
    (NOTICE_DOCX, "通报草稿（Word/WPS 文字）"),
    (DASHBOARD_HTML, "报送看板（单个网页文件，可离线打开）"),
    (UNITS_CSV, "各单位汇总（CSV）"),
    (ATTACHMENTS_CSV, "文件明细（CSV）"),
    ("integrity.csv", "材料疑点（CSV）"),
)


def _state():
    from console.app import console

    return console()


def _page(template: str, **view):
    if request.args.get("format") == "json":
        return jsonify(view)
    return render_template(template, **view)


@pages.app_context_processor
def _live() -> dict:
    """The figures in the navigation bar on every page."""
    store = _state().store
    try:
        with store.ledger() as ledger:
            tables = store.tables(ledger)
            generation = store.generation(ledger)
    except Exception:  # an error page must render even when the ledger cannot be read
        return {"review_count": "", "generation": ""}
    units = tables.units
    return {
        "review_count": len(tables.review),
        "generation": generation,
        "unconfirmed_scores": int((units["submitted"] & ~units["score_confirmed"]).sum()),
        "pending_people": int((tables.individuals["status"] == "candidate").sum()),
    }


@pages.get("/")
def overview():
    return _page("overview.html", view=_dashboard(), status=_state().status.as_dict())


def _dashboard() -> dict:
    store = _state().store
    with store.ledger() as ledger:
        return store.dashboard(store.tables(ledger))


@pages.get("/api/status")
def status():
    store = _state().store
    with store.ledger() as ledger:
        generation = store.generation(ledger)
        review = len(store.tables(ledger).review)
    return jsonify(worker=_state().status.as_dict(), generation=generation, review=review)


@pages.get("/review")
def review():
    page = request.args.get("page", "1")
    view = data.review_view(_state().store, int(page) if page.isdigit() else 1)
    return _page("review.html", **view)


@pages.get("/units")
def units():
    return _page("units.html", view=_dashboard())


@pages.get("/unit/<name>")
def unit(name: str):
    view = data.unit_view(_state().store, name)
    if view is None:
        abort(404)
    return _page("unit.html", **view)


@pages.get("/remind")
def remind():
    state = _state()
    store = state.store
    with store.ledger() as ledger:
        tables = store.tables(ledger)
        plan = plan_reminders(ledger, state.config, store.registry(), tables, state.clock())
        sent = data.sent_view(store, [r for r in ledger.sent_rows() if r["kind"] == "reminder"])
    rows = [
        {
            "unit": p.unit,
            "to": "；".join(p.to),
            "skip": p.skip,
            "subject": str(p.mail["Subject"]) if p.mail else "",
            "text": p.mail.get_body(("plain",)).get_content() if p.mail else "",
        }
        for p in plan
    ]
    due = sum(1 for r in rows if not r["skip"])
    problem = (
        ""
        if "@" in office_address(state.config)
        else (
            "还没有配置本办的发信地址：请在 config.yaml 的 campaign.office_addresses 中"
            "填写本办邮箱，并在 smtp 中填写发信服务器，才能发送催报。"
        )
    )
    dry_run = state.config.notify.dry_run
    return _page("remind.html", plan=rows, due=due, sent=sent, dry_run=dry_run, problem=problem)


@pages.get("/log")
def log():
    store = _state().store
    with store.ledger() as ledger:
        view = data.records_view(store, ledger)
        view["sent"] = data.sent_view(store, ledger.sent_rows())
    return _page("log.html", **view)


@pages.get("/scores")
def scores():
    return _page("scores.html", **decisions.scores_view(_state().store))


@pages.get("/individuals")
def individuals():
    view = decisions.individuals_view(_state().store)
    keys = {path.name: key for key, (path, _) in _report_files().items()}
    for row in view["rows"]:  # a confirmed person's certificate, once the reports hold it
        found = keys.get(person_certificate_filename(row["name"], row["unit"]), "")
        row["certificate"] = found if row["status"] == "confirmed" else ""
    return _page("individuals.html", **view)


@pages.get("/doctor")
def doctor():
    return _page("doctor.html", **data.doctor_view(_state().config))


def _report_files() -> dict[str, tuple[Path, str]]:
    """Download key → (file, description): only what the reports folder really holds."""
    folder = _state().config.reports_dir
    found = {name: (folder / name, label) for name, label in REPORTS if (folder / name).is_file()}
    certificates = folder / CERTIFICATES_DIR
    if certificates.is_dir():
        for index, path in enumerate(sorted(certificates.glob("*.docx"))):
            found[f"cert-{index}"] = (path, f"荣誉证书：{path.stem}")
    return found


@pages.get("/reports")
def reports():
    store = _state().store
    rows = []
    for key, (path, label) in _report_files().items():
        stat = path.stat()
        rows.append(
            {
                "key": key,
                "name": path.name,
                "label": label,
                "size": data.size_text(stat.st_size),
                "when": store.local(_mtime(stat.st_mtime, store)),
            }
        )
    return _page("reports.html", files=rows, folder=str(_state().config.reports_dir))


def _mtime(seconds: float, store: data.Store) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(seconds, store.config.campaign.deadline.tzinfo).isoformat()


@pages.get("/reports/<key>")
def report_file(key: str):
    found = _report_files().get(key)
    if found is None:
        abort(404)
    return send_file(found[0], as_attachment=True, download_name=found[0].name, max_age=0)


def _material(file_id: int) -> tuple[dict, Path]:
    """A stored file by its ledger id; its path comes from the ledger, never from the request."""
    config = _state().config
    with _state().store.ledger() as ledger:
        row = ledger.file_row(file_id)
    if row is None or row["kind"] != "file" or not row["path"]:
        abort(404)
    materials = (config.data_dir / "materials").resolve()
    path = (config.data_dir / row["path"]).resolve()
    if not path.is_relative_to(materials) or not path.is_file():
        abort(404)
    return row, path


@pages.get("/file/<int:file_id>")
def download(file_id: int):
    row, path = _material(file_id)
    name = row["filename"].replace("\\", "/").rsplit("/", 1)[-1] or path.name
    return send_file(path, as_attachment=True, download_name=name, max_age=0)


@pages.get("/file/<int:file_id>/thumb")
def thumb(file_id: int):
    row, path = _material(file_id)
    config = _state().config
    made = previews.thumbnail(
        config.data_dir, path, row["sha256"], row["category"], config.console.thumbnail_px
    )
    if made is None:  # not a 404: the page asked for a file that exists
        return Response(PLACEHOLDER, mimetype="image/jpeg", headers={"Cache-Control": "no-store"})
    return send_file(made, mimetype="image/jpeg", max_age=86400)
