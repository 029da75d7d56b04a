"""The application factory: one Flask app per data folder (tests build a fresh one each).

Why Flask + waitress: the pipeline is synchronous (SQLite, file locks, subprocesses), so a WSGI
app served by threads fits it without an async layer; both are pure Python, well kept, and run
the same on the office's Windows PC; Flask-WTF gives the CSRF token, Flask-Limiter the sign-in
rate limit, argon2-cffi the password hashes, and Jinja2 (Flask's own) the shared templates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import Flask, abort, g, redirect, render_template, request, send_file, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import FileSystemLoader

from console import actions, auth, views
from console.data import Clock, Store
from console.worker import WorkerStatus
from outputs.templating import STATIC as SHARED_STATIC
from outputs.templating import TEMPLATES as SHARED_TEMPLATES
from pipeline.config import Config
from pipeline.corrections import author

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
STATIC_FILES = {  # the only files /static serves, by name
    "dashboard.css": SHARED_STATIC / "dashboard.css",
    "dashboard.js": SHARED_STATIC / "dashboard.js",
    "console.css": HERE / "static" / "console.css",
    "console.js": HERE / "static" / "console.js",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
OPEN_ENDPOINTS = ("login", "static_file")
LOGIN_LIMIT = "10 per minute"


@dataclass(frozen=True)
class Console:
    """What every request needs: the config, the read side, the worker, the sign-in rule."""

    config: Config
    store: Store
    status: WorkerStatus
    require_login: bool
    clock: Clock


def console() -> Console:
    from flask import current_app

    return current_app.extensions["console"]


def create_app(
    config: Config,
    *,
    status: WorkerStatus | None = None,
    clock: Clock | None = None,
    require_login: bool | None = None,
) -> Flask:
    """The console for ``config``'s data folder. ``require_login`` defaults to "not loopback"."""
    clock = clock or (lambda: datetime.now(config.campaign.deadline.tzinfo))
    if require_login is None:
        require_login = auth.sign_in_required(config)
    app = Flask(__name__, static_folder=None)
    app.jinja_options = {**app.jinja_options, "autoescape": True}
    app.jinja_loader = FileSystemLoader([str(HERE / "templates"), str(SHARED_TEMPLATES)])
    app.config.update(
        SECRET_KEY=auth.secret_key(config.data_dir),
        SESSION_COOKIE_NAME="hyjdb_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        MAX_CONTENT_LENGTH=config.console.max_upload_mb * 1024**2,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        WTF_CSRF_SSL_STRICT=False,  # plain HTTP on the office LAN
    )
    CSRFProtect(app)
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://")
    app.extensions["console"] = Console(
        config, Store(config, clock), status or WorkerStatus(False), require_login, clock
    )
    app.add_url_rule("/static/<name>", "static_file", _static)
    app.add_url_rule(
        "/login",
        "login",
        limiter.limit(LOGIN_LIMIT, methods=["POST"])(_login),
        methods=["GET", "POST"],
    )
    app.add_url_rule("/logout", "logout", _logout, methods=["POST"])
    app.register_blueprint(views.pages)
    app.register_blueprint(actions.acts)
    app.before_request(_who)
    app.after_request(_headers)
    app.context_processor(_globals)
    _errors(app)
    return app


def _static(name: str):
    path = STATIC_FILES.get(name)
    if path is None:
        abort(404)
    return send_file(path, max_age=300)


def _who():
    state = console()
    g.user = None
    if not state.require_login:
        g.user = auth.User(author(), auth.MANAGER)
        return None
    name = session.get("user")
    entry = auth.load_users(state.config.data_dir).get(name) if name else None
    if entry:  # read on every request: a removed account or a changed role counts at once
        g.user = auth.User(name, entry["role"])
    elif request.endpoint not in OPEN_ENDPOINTS:
        if request.path.startswith("/api/"):
            abort(401)
        return redirect(url_for("login", next=request.full_path.rstrip("?")))
    return None


def _headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


def _globals() -> dict:
    state = console()
    return {
        "user": g.get("user"),
        "signed_in": state.require_login,
        "office": state.config.campaign.office,
    }


def _login():
    state = console()
    error = ""
    if request.method == "POST":
        user = auth.check_password(
            state.config.data_dir, request.form.get("name", ""), request.form.get("password", "")
        )
        if user is not None:
            session.clear()
            session["user"] = user.name
            target = request.args.get("next", "")
            # Only a path on this site: never an open redirect.
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("pages.overview")
            return redirect(target)
        log.warning("failed sign-in for %r from %s", request.form.get("name"), request.remote_addr)
        error = "用户名或密码不对"
    return render_template("login.html", error=error), 401 if error else 200


def _logout():
    session.clear()
    return redirect(url_for("login"))


def _errors(app: Flask) -> None:
    def page(code: int, title: str, text: str):
        return render_template("error.html", title=title, text=text), code

    @app.errorhandler(CSRFError)
    def csrf(_exc):
        return page(400, "请求无效", "页面已过期或缺少安全令牌，请刷新页面后重试。")

    @app.errorhandler(401)
    def unauthorized(_exc):
        return page(401, "请先登录", "请先登录后再使用。")

    @app.errorhandler(403)
    def forbidden(_exc):
        return page(403, "没有权限", "您的账号只能查看，不能更正或发信（需要“管理”角色）。")

    @app.errorhandler(404)
    def not_found(_exc):
        return page(404, "没有找到", "没有找到这个页面或文件。")

    @app.errorhandler(413)
    def too_large(_exc):
        cap = console().config.console.max_upload_mb
        return page(413, "文件过大", f"上传的文件合计超过 {cap} MB，请分批导入。")

    @app.errorhandler(429)
    def too_many(_exc):
        return page(429, "尝试次数过多", "登录尝试次数过多，请一分钟后再试。")

    @app.errorhandler(500)
    def internal(_exc):
        return page(500, "内部错误", "程序出错了，详情已记入 data/logs/pipeline.log。")
