"""The HTML dashboard: static checks, then driven in a real headless Chromium.

The browser is Debian's ``chromium`` (or ``$CHROMIUM``), spoken to over the Chrome DevTools
protocol on a pipe (``--remote-debugging-pipe``): no driver binary, no extra Python package, no
network. Without a browser the browser tests fail when ``CI=true`` and are skipped otherwise.
Set ``DASHBOARD_SCREENSHOT=/some/file.png`` to keep the screenshot one test takes.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from outputs.dashboard import render_dashboard, write_dashboard
from tests.support.report_tables import (
    HOSTILE_FILENAME,
    HOSTILE_SUBJECT,
    HOSTILE_UNIT,
    TZ,
    XSS,
    sample_tables,
)

BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)


# --------------------------------------------------------------------------------------------
# A minimal DevTools-protocol client over the pipe (fd 3: commands in, fd 4: replies out).


class CDPError(RuntimeError):
    pass


class Browser:
    def __init__(self, executable: str) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="dashboard-chromium-")
        self._log_path = Path(self._profile.name) / "chromium.log"
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_pipes() -> None:  # runs in the child, before exec
            a, b = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        profile = Path(self._profile.name) / "profile"
        with open(self._log_path, "wb") as log:
            self.process = subprocess.Popen(
                [executable, *BROWSER_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=wire_pipes,
                close_fds=False,
            )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = bytearray()
        self._next_id = 0
        self._replies: dict[int, dict] = {}
        self.events: list[dict] = []

    # -- transport
    def _pump(self, timeout: float) -> None:
        ready, _, _ = select.select([self._from_browser], [], [], timeout)
        if not ready:
            return
        chunk = os.read(self._from_browser, 1 << 20)
        if not chunk:
            raise CDPError(f"browser closed the pipe; log:\n{self.log_tail()}")
        self._buffer.extend(chunk)
        while (end := self._buffer.find(b"\0")) >= 0:
            message = json.loads(self._buffer[:end].decode("utf-8"))
            del self._buffer[: end + 1]
            if "id" in message:
                self._replies[message["id"]] = message
            else:
                self.events.append(message)

    def send(
        self,
        method: str,
        params: dict | None = None,
        session: str | None = None,
        timeout: float = 20.0,
    ) -> dict:
        self._next_id += 1
        message_id = self._next_id
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode("utf-8") + b"\0")
        deadline = time.monotonic() + timeout
        while message_id not in self._replies:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CDPError(f"{method}: no reply in {timeout}s")
            self._pump(remaining)
        reply = self._replies.pop(message_id)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait_for(
        self, predicate: Callable[[dict], bool], timeout: float = 20.0, start: int = 0
    ) -> dict:
        """The first event from index ``start`` on that matches, waiting for it if need be."""
        deadline = time.monotonic() + timeout
        seen = start
        while True:
            for event in self.events[seen:]:
                if predicate(event):
                    return event
            seen = len(self.events)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CDPError("timed out waiting for a browser event")
            self._pump(min(remaining, 0.2))

    def drain(self, seconds: float = 0.2) -> None:
        end = time.monotonic() + seconds
        while (remaining := end - time.monotonic()) > 0:
            self._pump(remaining)

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self._log_path.read_text(errors="replace")[-3000:]
        return ""

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("Browser.close", timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._profile.cleanup()

    # -- pages
    def open_page(self, url: str) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        page = Page(self, target, session)
        for domain in ("Page", "Runtime", "Log"):
            page.send(f"{domain}.enable")
        page.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1366, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )
        page.navigate(url)
        return page


class Page:
    def __init__(self, browser: Browser, target: str, session: str) -> None:
        self.browser = browser
        self.target = target
        self.session = session
        self.first_event = len(browser.events)

    def send(self, method: str, params: dict | None = None) -> dict:
        return self.browser.send(method, params, self.session)

    def my_events(self) -> list[dict]:
        return [
            e for e in self.browser.events[self.first_event :] if e.get("sessionId") == self.session
        ]

    def navigate(self, url: str) -> None:
        mark = len(self.browser.events)
        result = self.send("Page.navigate", {"url": url})
        assert not result.get("errorText"), result
        self.browser.wait_for(
            lambda e: (
                e.get("sessionId") == self.session and e.get("method") == "Page.loadEventFired"
            ),
            start=mark,
        )
        self.browser.drain(0.3)

    def eval(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise CDPError(f"{expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click (press + release) at the middle of the element."""
        box = self.eval(
            f"(function(){{var el=document.querySelector({json.dumps(selector)});"
            "el.scrollIntoView({block:'center'});var r=el.getBoundingClientRect();"
            "return {x:r.left+r.width/2,y:r.top+r.height/2};})()"
        )
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            params = {"type": kind, "x": box["x"], "y": box["y"]}
            if kind != "mouseMoved":
                params.update(button="left", clickCount=1)
            self.send("Input.dispatchMouseEvent", params)
        self.browser.drain(0.05)

    def type_text(self, selector: str, value: str) -> None:
        """Focus the field by clicking it, then enter text as an input method would."""
        self.click(selector)
        self.send("Input.insertText", {"text": value})
        self.browser.drain(0.05)

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors (CSP included)."""
        found = []
        for event in self.my_events():
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(f"console: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params.get('exceptionDetails')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append(f"log: {params['entry'].get('text')}")
        return found

    def dialogs(self) -> list[dict]:
        return [e for e in self.my_events() if e.get("method") == "Page.javascriptDialogOpening"]

    def screenshot(self, path: Path) -> None:
        metrics = self.send("Page.getLayoutMetrics")
        height = int(metrics["cssContentSize"]["height"]) + 1
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1366, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        shot = self.send("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        with contextlib.suppress(CDPError):
            self.browser.send("Target.closeTarget", {"targetId": self.target})


def _find_chromium() -> str | None:
    candidates = [os.environ.get("CHROMIUM", "")]
    candidates += [
        shutil.which(n) or ""
        for n in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    ]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = _find_chromium()
    if executable is None:
        message = "chromium not found (Debian: apt-get install chromium fonts-noto-cjk)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    instance = Browser(executable)
    try:
        instance.send("Browser.getVersion")
        yield instance
    finally:
        instance.close()


# --------------------------------------------------------------------------------------------
# Helpers


def _dashboard(tmp_path: Path, **kwargs: Any) -> tuple[Path, Path, Any]:
    data_dir = tmp_path / "data"
    tables = sample_tables(**kwargs)
    for folder in tables.units.loc[tables.units["submitted"], "folder"]:
        (data_dir / folder).mkdir(parents=True, exist_ok=True)
    path = data_dir / "reports" / "dashboard.html"
    write_dashboard(path, tables, data_dir)
    return path, data_dir, tables


@pytest.fixture
def page_for(browser: Browser) -> Iterator[Callable[[Path], Page]]:
    pages: list[Page] = []

    def open_(path: Path) -> Page:
        page = browser.open_page(path.as_uri())
        pages.append(page)
        return page

    yield open_
    for page in pages:
        page.close()


VISIBLE_UNITS = (
    "Array.from(document.querySelectorAll('#unit-table tbody tr[data-i]'))"
    ".filter(r => getComputedStyle(r).display !== 'none')"
    ".map(r => r.cells[0].textContent)"
)


def _stable_sorted(units: list[str], key: Callable[[str], Any], reverse: bool = False):
    return sorted(units, key=key, reverse=reverse)


def _header_selector(label: str) -> str:
    from outputs.dashboard import UNIT_COLUMNS

    index = [c[0] for c in UNIT_COLUMNS].index(label)
    return f'#unit-table th[data-col="{index}"]'


# --------------------------------------------------------------------------------------------
# Static checks (no browser)


def test_dashboard_is_self_contained_and_written_atomically(tmp_path: Path) -> None:
    path, _, _ = _dashboard(tmp_path)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    # Nothing is fetched: no external scripts, styles, images, fonts or frames.
    assert not re.search(r"<(link|iframe|img|object|embed)\b", page, re.I)
    assert not re.search(r"\bsrc\s*=", page, re.I)
    assert "@import" not in page and "url(" not in page and "@font-face" not in page
    assert page.count("<script") == 2
    assert [p.name for p in path.parent.iterdir()] == ["dashboard.html"]  # no temp file left


def test_mail_strings_are_escaped_and_json_cannot_close_its_script(tmp_path: Path) -> None:
    path, _, _ = _dashboard(tmp_path, hostile_unit_name=True)
    page = path.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    body = page.split('<script type="application/json" id="dashboard-data">', 1)[1]
    block = body.split("</script>", 1)[0]
    assert "<" not in block and ">" not in block
    data = json.loads(block)
    assert HOSTILE_UNIT in [row["unit"] for row in data["rows"]]


def test_unit_links_are_relative_to_the_dashboard(tmp_path: Path) -> None:
    tables = sample_tables()
    html = render_dashboard(tables, tmp_path / "data" / "reports", tmp_path / "data")
    assert 'href="../materials/%E8%A5%BF%E6%B8%A1%E9%95%87/"' in html  # 西渡镇
    elsewhere = render_dashboard(tables, tmp_path / "out" / "nested", tmp_path / "data")
    assert 'href="../../data/materials/%E8%A5%BF%E6%B8%A1%E9%95%87/"' in elsewhere
    # A unit that sent nothing (and has no folder) is not a dead link.
    assert "materials/%E9%87%91%E6%BA%AA%E9%95%87" not in html  # 金溪镇


def test_days_to_deadline_before_and_after(tmp_path: Path) -> None:
    before = sample_tables(generated_at=datetime(2020, 12, 29, 20, 0, tzinfo=TZ))
    html = render_dashboard(before, tmp_path, tmp_path)
    card = re.search(r'id="card-deadline">(.*?)</div></div>', html).group(1)
    assert re.sub("<[^>]+>", " ", card).split() == ["距截止时间还有", "2", "天", "3", "小时"]
    after = render_dashboard(sample_tables(), tmp_path, tmp_path)
    card = re.search(r'id="card-deadline">(.*?)</div></div>', after).group(1)
    assert re.sub("<[^>]+>", " ", card).split() == ["已过截止时间", "3", "天", "9", "小时"]


def test_empty_tables_render(tmp_path: Path) -> None:
    tables = sample_tables(n_units=0, with_review=False, with_individuals=False)
    path = tmp_path / "reports" / "dashboard.html"
    write_dashboard(path, tables, tmp_path)
    page = path.read_text(encoding="utf-8")
    assert "没有待确认的邮件或文件" in page and "没有网盘或超大附件链接" in page


def test_lateness_badge_says_how_late_and_what(tmp_path: Path) -> None:
    html = render_dashboard(sample_tables(), tmp_path, tmp_path)
    assert '<span class="badge b-late">逾期 3 天（事迹材料、视频）</span>' in html  # 衡阳县工业园区
    assert '<span class="badge b-late">逾期 2 天（照片、总结报告、事迹材料、视频）</span>' in html
    data = json.loads(html.split('id="dashboard-data">', 1)[1].split("</script>", 1)[0])
    row = next(r for r in data["rows"] if r["unit"] == "衡阳县工业园区")
    assert row["status"] == "逾期 3 天（事迹材料、视频）、不全" and "late" in row["tags"]


def test_integrity_section_counts_kinds_and_escapes_evidence(tmp_path: Path) -> None:
    import dataclasses
    from urllib.parse import quote

    tables = sample_tables()
    hostile = tables.integrity.assign(evidence=XSS + tables.integrity["evidence"])
    tables = dataclasses.replace(tables, integrity=hostile)
    html = render_dashboard(tables, tmp_path / "data" / "reports", tmp_path / "data")
    section = html.split('id="integrity-findings"', 1)[1].split("</section>", 1)[0]
    assert "材料疑点（2）" in section
    assert "与其他单位照片相同 1 处" in section and "视频过短 1 处" in section
    assert XSS not in html and section.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2
    # The file opens from the offline page, relative to it, like the materials folders.
    assert f'href="{quote("../materials/金兰镇/照片/活动1.jpg")}"' in section
    assert html.count("<script") == 2  # still one script of its own, allowed by hash
    none = render_dashboard(sample_tables(n_units=1), tmp_path, tmp_path)
    assert "没有发现疑点" in none


@pytest.mark.parametrize(
    ("kind", "measure", "words"),
    [
        ("same_photo_other_unit", 3.0, "图像差异 3/64"),
        ("reused_photo", 0.0, "图像差异 0/64"),
        ("copied_text", 0.354, "雷同占 35%"),
        ("short_video", 2.5, "时长 2.5 秒"),
        ("unplayable_video", 0.0, ""),
        ("exif_outside_window", 320.0, "超出活动期 320 天"),
        ("expired_video_link", 45.7, "已过 46 天"),
        ("a_new_kind", 7.0, "7"),
        ("short_video", float("nan"), ""),
    ],
)
def test_measures_read_as_words(kind: str, measure: float, words: str) -> None:
    from outputs._common import measure_label

    assert measure_label(kind, measure) == words


# --------------------------------------------------------------------------------------------
# In the browser


def test_page_loads_without_errors_and_shows_totals(tmp_path: Path, page_for, browser) -> None:
    path, _, tables = _dashboard(tmp_path)
    page = page_for(path)
    assert page.eval("document.documentElement.classList.contains('js')") is True
    assert page.eval(VISIBLE_UNITS) == tables.units["unit"].tolist()
    cards = page.eval(
        "Object.fromEntries(Array.from(document.querySelectorAll('.card'))"
        ".map(c => [c.id, c.querySelector('.value').textContent]))"
    )
    assert cards["card-units"] == "8"
    assert cards["card-submitted"] == "6 / 8"
    assert cards["card-not-submitted"] == "2"
    assert cards["card-on-time"] == "4"
    assert cards["card-complete"] == "4"
    assert cards["card-review"] == "3"
    # The chart: one point per unit that submitted, and the deadline marked.
    assert page.eval("document.querySelectorAll('#progress circle').length") == 6
    assert "截止 12-31 23:59" in page.eval("document.querySelector('#progress svg').textContent")
    assert page.eval("document.querySelectorAll('#review-table tbody tr').length") == 3
    assert page.eval("document.querySelectorAll('#link-table tbody tr').length") == 2
    assert page.errors() == []

    shot = tmp_path / "dashboard.png"
    page.screenshot(shot)
    assert shot.stat().st_size > 20_000
    if target := os.environ.get("DASHBOARD_SCREENSHOT"):
        shutil.copyfile(shot, target)


def test_clicking_headers_sorts_rows(tmp_path: Path, page_for) -> None:
    path, _, tables = _dashboard(tmp_path)
    units = tables.units.set_index("unit")
    registry = tables.units["unit"].tolist()
    page = page_for(path)

    def score(u: str) -> float:
        return float(units.loc[u, "score"])

    page.click(_header_selector("得分"))
    ascending = _stable_sorted(registry, score)
    assert page.eval(VISIBLE_UNITS) == ascending
    assert (
        page.eval(f"document.querySelector('{_header_selector('得分')}').getAttribute('aria-sort')")
        == "ascending"
    )
    page.click(_header_selector("得分"))
    assert page.eval(VISIBLE_UNITS) == _stable_sorted(ascending, score, reverse=True)

    # Dates by value, units without a date last.
    page.click(_header_selector("首次报送"))
    first = units["first_received"]
    expected = sorted(
        registry,
        key=lambda u: (pd.isna(first[u]), first[u] if not pd.isna(first[u]) else 0),
    )
    assert page.eval(VISIBLE_UNITS) == expected

    # Numbers numerically (rank 10 after 9), blanks last in both directions.
    page.click(_header_selector("排名"))
    ranked = page.eval(VISIBLE_UNITS)
    ranks = [units.loc[u, "rank"] for u in ranked]
    present = [int(r) for r in ranks if not pd.isna(r)]
    assert present == sorted(present) and all(pd.isna(r) for r in ranks[len(present) :])
    page.click(_header_selector("排名"))
    ranks = [units.loc[u, "rank"] for u in page.eval(VISIBLE_UNITS)]
    present = [int(r) for r in ranks if not pd.isna(r)]
    assert present == sorted(present, reverse=True)
    assert all(pd.isna(r) for r in ranks[len(present) :])
    assert page.errors() == []


def test_numeric_sort_is_not_text_sort(tmp_path: Path, page_for) -> None:
    path, _, _ = _dashboard(tmp_path, n_units=16)
    page = page_for(path)
    page.click(_header_selector("排名"))
    shown = page.eval(
        "Array.from(document.querySelectorAll('#unit-table tbody tr[data-i]'))"
        ".map(r => r.cells[13].textContent).filter(t => t)"
    )
    assert [int(v) for v in shown] == sorted(int(v) for v in shown)
    assert "10" in shown and shown.index("10") > shown.index("9")
    assert page.errors() == []


def test_text_and_status_filters(tmp_path: Path, page_for) -> None:
    path, _, tables = _dashboard(tmp_path)
    page = page_for(path)
    registry = tables.units["unit"].tolist()

    page.type_text("#unit-filter", "公安")
    assert page.eval(VISIBLE_UNITS) == ["县公安局"]
    assert page.eval("document.getElementById('shown-count').textContent") == "显示 1 / 8 个单位"

    page.type_text("#unit-filter", "不存在的单位")
    assert page.eval(VISIBLE_UNITS) == []
    assert page.eval("getComputedStyle(document.getElementById('unit-empty')).display") != "none"

    def clear_text() -> None:
        page.eval(
            "(function(){var q=document.getElementById('unit-filter');q.value='';"
            "q.dispatchEvent(new Event('input',{bubbles:true}));})()"
        )

    def choose(status: str) -> None:
        page.eval(
            "(function(){var s=document.getElementById('status-filter');s.focus();"
            f"s.value={json.dumps(status)};"
            "s.dispatchEvent(new Event('change',{bubbles:true}));})()"
        )

    clear_text()
    assert page.eval(VISIBLE_UNITS) == registry
    units = tables.units
    choose("not_submitted")
    assert page.eval(VISIBLE_UNITS) == units.loc[~units["submitted"], "unit"].tolist()
    choose("late")
    late = units["submitted"] & ~units["on_time"]
    assert page.eval(VISIBLE_UNITS) == units.loc[late, "unit"].tolist()
    choose("incomplete")
    incomplete = units["submitted"] & ~units["complete"]
    assert page.eval(VISIBLE_UNITS) == units.loc[incomplete, "unit"].tolist()
    choose("award")
    assert page.eval(VISIBLE_UNITS) == units.loc[units["award"], "unit"].tolist()
    # Text and status together.
    choose("late")
    page.type_text("#unit-filter", "园区")
    assert page.eval(VISIBLE_UNITS) == ["衡阳县工业园区"]
    choose("all")
    clear_text()
    assert page.eval(VISIBLE_UNITS) == registry
    assert page.errors() == []


def test_unit_link_points_at_its_materials_folder(tmp_path: Path, page_for) -> None:
    path, data_dir, _ = _dashboard(tmp_path)
    page = page_for(path)
    href = page.eval(
        "Array.from(document.querySelectorAll('#unit-table a'))"
        ".find(a => a.textContent === '西渡镇').href"
    )
    assert href == (data_dir / "materials" / "西渡镇").as_uri() + "/"
    assert page.errors() == []


def test_hostile_strings_show_as_text_and_never_run(tmp_path: Path, page_for) -> None:
    path, _, _ = _dashboard(tmp_path, hostile_unit_name=True)
    page = page_for(path)
    page.browser.drain(0.5)
    assert page.dialogs() == []
    assert page.eval("document.scripts.length") == 2
    assert page.eval("document.images.length") == 0
    review = page.eval("document.getElementById('review-table').textContent")
    assert HOSTILE_SUBJECT in review
    assert HOSTILE_FILENAME in review
    assert HOSTILE_UNIT in page.eval(VISIBLE_UNITS)
    # Sorting and filtering move the hostile row around without running it.
    page.click(_header_selector("单位"))
    page.type_text("#unit-filter", "onerror")
    assert page.eval(VISIBLE_UNITS) == [HOSTILE_UNIT]
    page.browser.drain(0.3)
    assert page.dialogs() == []
    assert page.errors() == []


def test_harness_sees_console_errors_and_dialogs(tmp_path: Path, page_for) -> None:
    """The "no errors" and "no dialog" assertions above can fail: prove it."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><meta charset=utf-8><script>console.error('boom');"
        "addEventListener('load',function(){setTimeout(function(){alert(1)},50)});</script>",
        encoding="utf-8",
    )
    page = page_for(bad)
    event = page.browser.wait_for(
        lambda e: (
            e.get("method") == "Page.javascriptDialogOpening" and e.get("sessionId") == page.session
        )
    )
    page.send("Page.handleJavaScriptDialog", {"accept": True})
    assert event["params"]["message"] == "1"
    assert any("boom" in error for error in page.errors())


def test_generated_before_deadline_renders_in_browser(tmp_path: Path, page_for) -> None:
    generated = datetime(2020, 12, 29, 20, 0, tzinfo=TZ)
    path, _, _ = _dashboard(tmp_path, generated_at=generated)
    page = page_for(path)
    text = page.eval("document.getElementById('card-deadline').textContent")
    assert text == "距截止时间还有2 天 3 小时"
    # Submissions after generated_at cannot exist in real data; the chart still draws.
    assert page.eval("document.querySelectorAll('#progress path').length") == 2
    assert page.errors() == []
