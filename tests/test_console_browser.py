"""The console in a real browser: Debian's Chromium driven by Playwright against ``serve`` started
as a subprocess, as staff use it. One server per module; the tests run in file order and build
on each other like a working day (sign in, clear the queue, import, extend, remind, revoke).

Without Chromium (or the playwright package) these tests fail under ``CI=true`` and skip
otherwise. ``CONSOLE_SCREENSHOTS=DIR`` keeps the 1366×768 screenshots (README: docs/screenshots).
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from openpyxl import load_workbook

from pipeline.config import load_config
from pipeline.jobs import run_once
from tests.support import files
from tests.support.console import (
    HOSTILE,
    HOSTILE_SUBJECT,
    PASSWORD,
    REFERENCE,
    add_shared_materials,
    add_user,
    make_campaign,
    serving,
)
from tests.support.project import run_cli
from tests.support.smtp import SmtpServer

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=zh-CN",
]
NOW = datetime.fromisoformat("2021-01-02T10:00:00+08:00")


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -r requirements.txt)")
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        _missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        # A Chinese browser like the office's (form controls, date picker) where the
        # chromium-l10n package is installed; English controls otherwise.
        env = {**os.environ, "LANG": "C.UTF-8", "LANGUAGE": "zh_CN:zh"}
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, env=env)
        yield launched
        launched.close()


class Watched:
    """A page that records console errors, page errors and dialogs (none may happen)."""

    def __init__(self, context, base: str) -> None:
        self.page = context.new_page()
        self.base = base
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        self.page.on(
            "console", lambda m: self.problems.append(m.text) if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))

        def dialog(d) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", dialog)

    def go(self, path: str):
        self.page.goto(self.base + path)
        return self.page

    def clean(self) -> None:
        assert self.problems == [] and self.dialogs == []


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A campaign served with sign-in required, a real SMTP server for 催报."""
    folder = tmp_path_factory.mktemp("console-browser")
    with SmtpServer() as smtp:
        config = make_campaign(
            folder,
            smtp=smtp.config(),
            notify={"dry_run": False},
            console={"sign_in": "always"},
            integrity={"reference_folders": [REFERENCE]},
        )
        add_shared_materials(folder)  # 疑点 to look at: a shared photo, a copied passage
        import yaml

        raw = yaml.safe_load(config.read_text(encoding="utf-8"))
        raw["campaign"]["office_addresses"] = ["office@example.cn"]
        config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        run_once(load_config(config), NOW)
        add_user(config, "小王", "管理")
        add_user(config, "小李", "查看")
        with serving(config, "--no-poll") as base:
            yield {"config": config, "base": base, "smtp": smtp, "data": folder / "data"}


@pytest.fixture(scope="module")
def staff(browser, site):
    """小王 (管理), signed in once for the module, at the office's screen size."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    watched = Watched(context, site["base"])
    page = watched.go("/")
    assert "/login" in page.url
    page.fill("input[name=name]", "小王")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(site["base"] + "/")
    yield watched
    context.close()


def shoot(page, name: str) -> None:
    target = os.environ.get("CONSOLE_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{name}.png"))


def units(site) -> pd.DataFrame:
    return pd.read_csv(
        site["data"] / "reports" / "units.csv", encoding="utf-8-sig", dtype=str
    ).set_index("unit")


def flash(page) -> str:
    return page.inner_text(".flash")


# -- the working day -------------------------------------------------------------------------


def test_overview_after_sign_in(staff, site) -> None:
    page = staff.go("/")
    assert page.inner_text("#card-units .value") == "60"
    assert page.inner_text("#worker-state").startswith("未开启")
    assert page.locator("#progress circle").count() >= 7
    shoot(page, "1-overview")
    staff.clean()


def test_hostile_mail_strings_render_literally(staff) -> None:
    page = staff.go("/review")
    page.wait_for_timeout(300)
    text = page.inner_text("main, .page")
    assert HOSTILE_SUBJECT in text and HOSTILE in text
    sources = page.eval_on_selector_all("img", "els => els.map(e => e.getAttribute('src'))")
    assert all(src.startswith("/file/") for src in sources)
    assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0
    shoot(page, "2-review")
    staff.clean()


def _resolve_first(page) -> None:
    item = page.locator("article.item").first
    reason = item.locator(".reason").first.inner_text()
    candidates = item.locator("button.candidate")
    if candidates.count():
        candidates.first.click()
    elif "非报送" in reason or item.locator(".mail").inner_text().find("stranger@") >= 0:
        item.locator("button.danger", has_text="不计入").click()
    elif item.locator("button.category").count():
        item.locator("button.category", has_text="事迹材料").click()
    else:
        row = item.locator("form", has_text="归入其他单位")
        row.locator("input.unit-input").fill("洪市镇")
        row.locator("button", has_text="归入").click()
    page.wait_for_load_state()


def test_clear_the_review_queue_by_clicking(staff, site) -> None:
    before = units(site)
    notice_before = _notice_text(site)
    page = staff.go("/review")
    for _ in range(20):
        if page.locator("article.item").count() == 0:
            break
        count = int(page.inner_text("#review-count"))
        _resolve_first(page)
        assert "已" in flash(page)
        assert int(page.inner_text("#review-count")) < count
    assert "全部处理完毕" in page.inner_text(".done-all")
    assert page.inner_text("#nav-review") == "0"
    after = units(site)
    assert (
        before.loc["洪市镇", "submitted"] == "false" and after.loc["洪市镇", "submitted"] == "true"
    )
    assert not after.equals(before)
    sheet = load_workbook(site["data"] / "reports" / "报送台账.xlsx")["待确认"]
    assert all(not any(c.value for c in row) for row in sheet.iter_rows(min_row=3))
    assert _notice_text(site) != notice_before
    # Everything clicked is in the ledger: reprocess sorts every mail again and agrees.
    assert run_cli(site["config"], "reprocess").returncode == 0
    assert units(site).equals(after)
    assert page.goto(site["base"] + "/review") and page.locator("article.item").count() == 0
    staff.clean()


def _notice_text(site) -> str:
    document = Document(str(site["data"] / "reports" / "通报草稿.docx"))
    return "\n".join(p.text for p in document.paragraphs)


def test_import_a_usb_submission(staff, site) -> None:
    page = staff.go("/unit/金溪镇")
    page.set_input_files(
        "#import-files",
        [
            {"name": "活动照片1.jpg", "mimeType": "image/jpeg", "buffer": files.jpeg(seed=11)},
            {
                "name": "金溪镇禁毒志愿服务工作总结.docx",
                "mimeType": "application/octet-stream",
                "buffer": files.docx(["金溪镇禁毒志愿服务工作总结", "开展活动八次。"]),
            },
        ],
    )
    page.fill("#import-received", "2020-12-30T10:00")
    page.locator("form", has=page.locator("#import-files")).locator("button").click()
    page.wait_for_load_state()
    assert "导入 2 个文件" in flash(page)
    assert "活动照片1.jpg" in page.inner_text("#files")
    assert page.locator("#files img").count() == 1
    table = units(site)
    assert table.loc["金溪镇", "photos"] == "1" and table.loc["金溪镇", "reports"] == "1"
    assert table.loc["金溪镇", "first_received"] == "2020-12-30T10:00:00+08:00"
    shoot(page, "3-unit")
    staff.clean()


def test_extend_a_deadline_with_the_date_picker(staff, site) -> None:
    assert units(site).loc["金兰镇", "on_time"] == "false"
    page = staff.go("/unit/金兰镇")
    page.fill("#extend-day", "2021-01-05")
    page.locator("form", has=page.locator("#extend-day")).locator("input.reason").fill("领导同意")
    page.locator("form", has=page.locator("#extend-day")).locator("button").click()
    page.wait_for_load_state()
    assert "延期至 2021-01-05T23:59:59+08:00" in flash(page)
    assert units(site).loc["金兰镇", "on_time"] == "true"
    assert "领导同意" in page.inner_text("#unit-corrections")
    staff.clean()


def test_send_reminders_to_a_real_smtp_server(staff, site) -> None:
    page = staff.go("/remind")
    due = int(page.inner_text("#remind-due"))
    assert due > 0
    page.locator("details.plan").first.click()
    assert "报送方式" in page.locator("details.plan pre").first.inner_text()
    shoot(page, "4-remind")
    page.locator("button.primary", has_text="发送催报").click()
    page.wait_for_load_state()
    assert f"发出 {due} 封" in flash(page)
    received = site["smtp"].sink.messages()
    assert len(received) == due and all("催报" in m["Subject"] for _, m in received)
    assert page.locator("#remind-log tbody tr").count() == due
    assert int(page.inner_text("#remind-due")) == 0  # the interval holds them back now
    staff.clean()


def test_revoke_a_correction(staff, site) -> None:
    page = staff.go("/log")
    row = page.locator("#corrections tr", has_text="延期").first
    row.locator("input.reason").fill("延期作废")
    row.locator("button", has_text="撤销").click()
    page.wait_for_load_state()
    assert "已撤销" in flash(page)
    assert "已撤销" in page.locator("#corrections tr", has_text="领导同意").inner_text()
    assert "延期作废" in page.locator("#corrections tr", has_text="撤销更正").first.inner_text()
    assert units(site).loc["金兰镇", "on_time"] == "false"
    shoot(page, "5-log")
    page = staff.go("/reports")
    assert page.locator("#report-files a", has_text="报送台账.xlsx").count() == 1
    with page.expect_download() as download:
        page.click("text=报送台账.xlsx")
    assert download.value.suggested_filename == "报送台账.xlsx"
    shoot(page, "6-reports")
    staff.clean()


def _low_score_sentence(site) -> str:
    return next((line for line in _notice_text(site).splitlines() if "评分偏低。" in line), "")


def test_confirm_scores_and_an_individual_by_clicking(staff, site) -> None:
    table = units(site).fillna("")
    low = table.index[(table["submitted"] == "true") & (table["score"].astype(float) < 60)][0]
    assert "low_score" not in table.loc[low, "notice_reasons"]  # not before staff confirm
    assert f"{low}（" not in _low_score_sentence(site)
    page = staff.go("/scores")
    assert low in page.inner_text("#named-after") and page.inner_text("#named-now") == "无"
    shoot(page, "7-scores")
    page.locator("#low-score input.reason").fill("已核对评分明细")
    page.click("#confirm-scores")
    page.wait_for_load_state()
    assert "已确认" in flash(page) and low in page.inner_text("#named-now")
    assert "low_score" in units(site).loc[low, "notice_reasons"]
    assert f"{low}（" in _low_score_sentence(site)  # the 通报 names it now

    page = staff.go("/individuals")
    row = page.locator("#people-table tr", has_text="张三")
    assert "待确认" in row.inner_text()
    shoot(page, "8-individuals")
    row.locator("input.reason").fill("事迹突出")
    row.locator("button", has_text="确认表彰").click()
    page.wait_for_load_state()
    assert "已确认 张三" in flash(page)
    certificate = site["data"] / "reports" / "荣誉证书" / "荣誉证书_个人_张三_西渡镇.docx"
    assert certificate.is_file()
    with page.expect_download() as download:
        page.locator("#people-table tr", has_text="张三").locator("a", has_text="荣誉证书").click()
    assert download.value.suggested_filename == certificate.name
    assert "确认表彰" in staff.go("/log").locator("#corrections tr", has_text="张三").inner_text()

    page = staff.go("/unit/集兵镇")
    assert "往年照片重复使用" in page.inner_text("#integrity")
    page.evaluate("document.getElementById('integrity').scrollIntoView()")
    shoot(page, "9-findings")
    page = staff.go("/doctor")
    assert page.locator("table.doctor tr", has_text="ffprobe").count() == 1
    shoot(page, "10-doctor")
    staff.clean()


# -- security in the browser -----------------------------------------------------------------


def test_without_sign_in_every_page_asks_for_it(browser, site) -> None:
    context = browser.new_context(locale="zh-CN")
    watched = Watched(context, site["base"])
    for path in ("/review", "/unit/西渡镇", "/log"):
        page = watched.go(path)
        assert "/login" in page.url and page.locator("input[type=password]").count() == 1
    status = page.evaluate("fetch('/api/status').then(r => r.status)")
    assert status == 401
    context.close()


def test_a_viewer_sees_but_cannot_correct(browser, site) -> None:
    context = browser.new_context(locale="zh-CN")
    watched = Watched(context, site["base"])
    page = watched.go("/login")
    page.fill("input[name=name]", "小李")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page = watched.go("/unit/西渡镇")
    assert page.locator("#unit-actions").count() == 0
    page = watched.go("/log")
    assert page.locator("button", has_text="撤销").count() == 0
    code = page.evaluate(
        """() => fetch('/act/rebuild', {method: 'POST', headers: {'Content-Type':
        'application/x-www-form-urlencoded'}, body: 'csrf_token=' + encodeURIComponent(
        document.querySelector('meta[name=csrf-token]').content)}).then(r => r.status)"""
    )
    assert code == 403
    forged = page.evaluate(
        """() => fetch('/act/rebuild', {method: 'POST', headers: {'Content-Type':
        'application/x-www-form-urlencoded'}, body: 'x=1'}).then(r => r.status)"""
    )
    assert forged == 400
    context.close()


# -- with the polling worker on a real IMAP server -------------------------------------------


def _status(base: str) -> dict:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{base}/api/status", timeout=10) as response:
        return json.load(response)


def _wait(check, timeout: float = 90, step: float = 0.1):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(step)
    raise AssertionError("timed out")


def test_polling_worker_on_dovecot_and_staff_clicking_during_a_poll(
    browser, dovecot, imap_account, tmp_path
) -> None:
    from datetime import timedelta

    from intake.ledger import Ledger
    from tests.support.console import SAMPLES, serve_log
    from tests.support.mails import Att, Mail
    from tests.support.project import PASSWORD_ENV, write_config

    user = imap_account.username
    when = datetime.fromisoformat("2020-12-28T10:00:00+08:00")
    for index, eml in enumerate(sorted(SAMPLES.glob("*.eml"))):
        dovecot.append(user, eml.read_bytes(), when + timedelta(minutes=index))
    config = write_config(tmp_path, account=imap_account, schedule={"poll_minutes": 0.05})
    env = {PASSWORD_ENV: imap_account.password}
    with serving(config, env=env) as base:
        first = _wait(lambda: (s := _status(base))["worker"]["last_poll"] and s)
        assert "新邮件 13 封" in first["worker"]["last_result"] and first["review"] > 0
        busy = run_cli(config, "once", password=imap_account.password)
        assert busy.returncode == 4  # one mailbox worker per data folder, serve included

        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        watched = Watched(context, base)
        page = watched.go("/")
        assert page.inner_text("#worker-last") != "—"
        assert page.inner_text("#worker-result").startswith("新邮件")
        page = watched.go("/review")

        more = [  # 西渡镇 sends thirty more photos while staff work
            Mail(
                sender=("西渡镇", "hyxxidujdb@163.com"),
                subject=f"西渡镇补充照片{seed}",
                attachments=[Att(f"照片{seed}.jpg", files.jpeg(seed=100 + seed))],
                seed=f"more{seed}",
            ).to_bytes()
            for seed in range(30)
        ]
        for seed, raw in enumerate(more):
            dovecot.append(user, raw, when + timedelta(days=1, minutes=seed))
        # A poll taking the new mail, with its progress on show ...
        _wait(lambda: (w := _status(base)["worker"])["polling"] and w["total"] > 0, step=0.01)
        clicked = 0
        for _ in range(2):  # ... while staff click: each click waits for the ledger
            item = page.locator("article.item").first
            item.locator("button.danger", has_text="不计入").click()
            page.wait_for_load_state()
            assert "已排除" in flash(page)
            clicked += 1

        def taken() -> bool:
            with Ledger(tmp_path / "data" / "ledger.sqlite3") as ledger:
                return len(ledger.all_messages()) == 43

        _wait(taken)
        page = watched.go("/")
        assert page.inner_text("#worker-error") == ""
        watched.clean()
        context.close()
    assert serving.exit_code == 0 and "已停止" in serve_log(config)
    with Ledger(tmp_path / "data" / "ledger.sqlite3") as ledger:
        assert len(ledger.all_messages()) == 43
        assert len(ledger.corrections("exclude_message")) == clicked
    table = pd.read_csv(tmp_path / "data" / "reports" / "units.csv", dtype=str).set_index("unit")
    assert int(table.loc["西渡镇", "photos"]) >= 30
