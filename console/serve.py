"""``serve``: the console and, unless ``--no-poll``, the polling worker in the same process.

Waitress serves the app from threads; the worker is one more thread; Ctrl-C stops both (the
worker finishes the mail in hand: processing is crash-safe, but a clean stop is kinder).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import webbrowser
from collections.abc import Callable
from datetime import datetime

from waitress import create_server

from console.app import create_app
from console.auth import AccountError, is_loopback, load_users, sign_in_required
from console.worker import Worker, WorkerStatus
from pipeline.config import Config
from pipeline.jobs import poller, session

log = logging.getLogger(__name__)
STOP_WAIT_S = 120  # how long Ctrl-C waits for a poll in progress


class ServeError(Exception):
    """The console cannot start; one Chinese line."""


def _address(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}/"


def serve(config: Config, *, poll: bool, browser: bool, say: Callable[[str], None]) -> None:
    host, port = config.console.host, config.console.port
    lan = not is_loopback(host)
    if sign_in_required(config) and not load_users(config.data_dir):
        where = "（局域网可访问）" if lan else "（console.sign_in: always）"
        raise AccountError(
            f"管理台监听 {config.console.listen}{where}时必须登录，但还没有任何账号："
            "请先运行 add-user 用户名 --role 管理"
        )
    clock = lambda: datetime.now(config.campaign.deadline.tzinfo)  # noqa: E731
    with contextlib.ExitStack() as stack:
        if poll:
            stack.enter_context(poller(config))  # a second worker on this data folder is refused
        with session(config):  # the ledger exists and is migrated before any page reads it
            pass
        status = WorkerStatus(poll)
        app = create_app(config, status=status, clock=clock)
        try:
            server = create_server(app, host=host, port=port, threads=8, ident="hyjdb-console")
        except OSError as exc:
            raise ServeError(
                f"无法在 {config.console.listen} 启动管理台（端口被占用？）：{exc}"
            ) from exc
        url = _address(host, server.effective_port)
        worker = Worker(config, status, clock, app.extensions["console"].store.adopt)
        if poll:
            worker.start()
        say(f"管理台已启动：{url}  （按 Ctrl-C 停止）")
        if lan:
            say("局域网内的同事可用本机 IP 地址访问，需用 add-user 创建的账号登录。")
        if not poll:
            say("未开启定时收取（--no-poll）。")
        if browser:
            threading.Timer(0.8, webbrowser.open, [url]).start()
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
            if worker.is_alive():
                if status.snapshot().polling:
                    say("正在等待本次收取结束……")
                worker.stop()
                worker.join(STOP_WAIT_S)
