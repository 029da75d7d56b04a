"""The console in-process (Flask's test client): pages, actions through the same correction
functions as the CLI, sign-in, roles, CSRF, file routes, escaping. The browser tests are in
test_console_browser.py."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from console.app import create_app
from console.auth import AccountError, add_user, check_password
from intake.ledger import Ledger
from pipeline.config import load_config
from pipeline.jobs import run_once, run_report
from tests.support import files
from tests.support.console import (
    HOSTILE,
    HOSTILE_BODY,
    HOSTILE_FILE,
    HOSTILE_SUBJECT,
    PASSAGE,
    PASSWORD,
    REFERENCE,
    add_shared_materials,
    csrf_token,
    make_campaign,
    shared_photo,
)
from tests.support.project import run_cli
from tests.support.smtp import SmtpServer

NOW = datetime.fromisoformat("2021-01-02T10:00:00+08:00")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The sample campaign (plus a hostile mail) processed once; tests work on copies."""
    folder = tmp_path_factory.mktemp("console-campaign")
    run_once(load_config(make_campaign(folder)), NOW)
    return folder


@pytest.fixture
def campaign(built: Path, tmp_path: Path):
    folder = tmp_path / "campaign"
    shutil.copytree(built, folder)
    return load_config(folder / "config.yaml")


def client_for(config, *, login: bool = False):
    app = create_app(config, clock=lambda: NOW, require_login=login)
    return app.test_client()


def units_csv(config) -> pd.DataFrame:
    return pd.read_csv(config.reports_dir / "units.csv", encoding="utf-8-sig", dtype=str)


def review_refs(client) -> list[str]:
    return [item["ref"] for item in client.get("/review?format=json").get_json()["items"]]


def post(client, path: str, page: str = "/review", **form):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, "back": page, **form})


def corrections(config) -> list:
    with Ledger(config.data_dir / "ledger.sqlite3") as ledger:
        return ledger.corrections(revoked=True)


# -- pages -----------------------------------------------------------------------------------


def test_every_page_renders_in_chinese_and_as_json(campaign) -> None:
    client = client_for(campaign)
    for path, heading in [
        ("/", "报送情况"),
        ("/review", "待确认"),
        ("/units", "各单位"),
        ("/unit/西渡镇", "西渡镇"),
        ("/remind", "催报"),
        ("/log", "记录"),
        ("/reports", "报表"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert heading in response.get_data(as_text=True)
        assert client.get(f"{path}?format=json").is_json
    assert client.get("/unit/没有这个单位").status_code == 404


def test_review_count_is_one_number_everywhere(campaign) -> None:
    """The console, the CLI summary and the reports count the review queue the same way."""
    report = run_report(campaign, NOW)
    client = client_for(campaign)
    page = client.get("/review?format=json").get_json()
    assert page["count"] == len(page["items"]) == report.review
    assert client.get("/api/status").get_json()["review"] == report.review
    overview = client.get("/?format=json").get_json()
    cards = {c["key"]: c["value"] for c in overview["view"]["cards"]}
    assert cards["review"] == str(report.review)
    assert len(overview["view"]["review"]) == report.review
    from openpyxl import load_workbook

    sheet = load_workbook(campaign.reports_dir / "报送台账.xlsx")["待确认"]
    assert sum(1 for row in sheet.iter_rows(min_row=2) if any(c.value for c in row)) >= 1


def test_review_item_shows_the_mail_as_text_and_previews(campaign) -> None:
    client = client_for(campaign)
    items = client.get("/review?format=json").get_json()["items"]
    hostile = next(i for i in items if i["mail"]["sender"] == "stranger@example.com")
    assert hostile["mail"]["subject"] == HOSTILE_SUBJECT
    assert HOSTILE_BODY in hostile["mail"]["body"]
    assert "HTML正文" not in hostile["mail"]["body"]  # the plain part, never the mail's HTML
    docx = next(f for f in hostile["files"] if f["filename"] == HOSTILE_FILE)
    assert docx["preview"] == "text" and "这是一份说明" in docx["lines"]
    conflict = next(i for i in items if i["candidates"])
    assert set(conflict["candidates"]) == {"西渡镇", "集兵镇"}


def test_mail_strings_are_escaped_in_every_page(campaign) -> None:
    client = client_for(campaign)
    for path in ("/", "/review", "/log"):
        html = client.get(path).get_data(as_text=True)
        assert HOSTILE not in html and "<script>alert" not in html
    html = client.get("/review").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_security_headers_and_cookie(campaign, tmp_path) -> None:
    add_user(campaign.data_dir, "小王", PASSWORD, "管理")
    client = client_for(campaign, login=True)
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    token = csrf_token(response.get_data(as_text=True))
    signed = client.post("/login", data={"csrf_token": token, "name": "小王", "password": PASSWORD})
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


# -- actions ---------------------------------------------------------------------------------


def test_post_without_csrf_token_is_refused(campaign) -> None:
    client = client_for(campaign)
    before = review_refs(client)
    response = client.post("/act/exclude", data={"ref": before[0], "back": "/review"})
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)
    wrong = client.post("/act/exclude", data={"ref": before[0], "csrf_token": "forged"})
    assert wrong.status_code == 400
    assert review_refs(client) == before and corrections(campaign) == []


def test_clearing_the_queue_changes_the_reports_and_survives_reprocess(campaign) -> None:
    client = client_for(campaign)
    before = units_csv(campaign).set_index("unit")
    for item in client.get("/review?format=json").get_json()["items"]:
        if item["candidates"]:
            post(client, "/act/assign", ref=item["ref"], unit=item["candidates"][0])
        elif item["mail"]["sender"] == "13973412345@139.com":
            post(client, "/act/confirm-sender", address=item["mail"]["sender"], unit="洪市镇")
        else:
            post(client, "/act/exclude", ref=item["ref"], reason="不是报送")
    assert review_refs(client) == []
    after = units_csv(campaign).set_index("unit")
    assert (
        before.loc["洪市镇", "submitted"] == "false" and after.loc["洪市镇", "submitted"] == "true"
    )
    assert int(after.loc["西渡镇", "photos"]) > int(before.loc["西渡镇", "photos"])
    assert all(c.author for c in corrections(campaign))
    assert run_cli(campaign.source_path, "reprocess").returncode == 0
    assert units_csv(campaign).set_index("unit").equals(after)
    assert review_refs(client_for(campaign)) == []


def test_category_buttons_resolve_a_file_item(campaign) -> None:
    client = client_for(campaign)
    items = client.get("/review?format=json").get_json()["items"]
    # The hostile mail's document has no category keyword: a file-level item after assigning.
    hostile = next(i for i in items if i["mail"]["sender"] == "stranger@example.com")
    post(client, "/act/assign", ref=hostile["ref"], unit="洪市镇")
    items = client.get("/review?format=json").get_json()["items"]
    file_items = [i for i in items if not i["whole"]]
    assert file_items, items
    post(client, "/act/category", ref=file_items[0]["ref"], category="deeds")
    assert file_items[0]["ref"] not in review_refs(client)
    assert units_csv(campaign).set_index("unit").loc["洪市镇", "deeds"] == "1"


def test_revoke_moves_files_back_and_is_recorded(campaign) -> None:
    client = client_for(campaign)
    ref = next(
        i["ref"] for i in client.get("/review?format=json").get_json()["items"] if i["candidates"]
    )
    materials = campaign.data_dir / "materials"
    before = sorted(p.relative_to(materials) for p in materials.rglob("*") if p.is_file())
    post(client, "/act/assign", ref=ref, unit="集兵镇", reason="电话核实")
    moved = sorted(p.relative_to(materials) for p in materials.rglob("*") if p.is_file())
    assert moved != before and any(p.parts[0] == "集兵镇" for p in moved)
    assert ref not in review_refs(client)
    assign = corrections(campaign)[-1]
    log = client.get("/log?format=json").get_json()["corrections"]
    row = next(r for r in log if r["id"] == assign.id)
    assert row["ref"] == ref and row["value"] == "集兵镇" and row["revocable"]
    assert len(row["what"]) > 0 and assign.target not in json.dumps(log)  # never a hash

    response = post(client, "/act/revoke", page="/log", id=str(assign.id), reason="点错了")
    assert response.status_code == 302
    assert ref in review_refs(client)
    after = sorted(p.relative_to(materials) for p in materials.rglob("*") if p.is_file())
    assert after == before
    log = client.get("/log?format=json").get_json()["corrections"]
    assert next(r for r in log if r["id"] == assign.id)["revoked_by"] is not None
    assert log[0]["kind"] == "撤销更正" and log[0]["reason"] == "点错了"
    again = post(client, "/act/revoke", page="/log", id=str(assign.id))
    assert "已经撤销" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_revoked_confirm_sender_and_deadline(campaign) -> None:
    client = client_for(campaign)
    post(client, "/act/confirm-sender", address="13973412345@139.com", unit="洪市镇")
    assert units_csv(campaign).set_index("unit").loc["洪市镇", "submitted"] == "true"
    post(client, "/act/extend", page="/unit/金兰镇", unit="金兰镇", day="2021-01-05")
    extension = corrections(campaign)[-1]
    assert extension.kind == "extend_deadline" and extension.value == "2021-01-05T23:59:59+08:00"
    assert units_csv(campaign).set_index("unit").loc["金兰镇", "on_time"] == "true"
    confirm = next(c for c in corrections(campaign) if c.kind == "confirm_sender")
    for target in (confirm.id, extension.id):
        post(client, "/act/revoke", page="/log", id=str(target))
    table = units_csv(campaign).set_index("unit")
    assert table.loc["洪市镇", "submitted"] == "false" and table.loc["金兰镇", "on_time"] == "false"


def test_import_upload_goes_through_the_sorting_path(campaign) -> None:
    client = client_for(campaign)
    token = csrf_token(client.get("/unit/洪市镇").get_data(as_text=True))
    photo = files.jpeg(seed=7)
    report = files.docx(["洪市镇禁毒志愿服务工作总结", "全年开展活动十二次。"])
    response = client.post(
        "/act/import",
        data={
            "csrf_token": token,
            "back": "/unit/洪市镇",
            "unit": "洪市镇",
            "received": "2020-12-30T10:00",
            "reason": "U盘报送",
            "files": [(_stream(photo), "活动照片.jpg"), (_stream(report), "..\\..\\工作总结.docx")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get("/unit/洪市镇?format=json").get_json()
    names = {f["filename"] for g in page["groups"] for f in g["files"]}
    assert names == {"活动照片.jpg", "工作总结.docx"}
    table = units_csv(campaign).set_index("unit")
    assert table.loc["洪市镇", "photos"] == "1" and table.loc["洪市镇", "reports"] == "1"
    assert table.loc["洪市镇", "first_received"] == "2020-12-30T10:00:00+08:00"
    assert not any((campaign.data_dir / "tmp").rglob("*.jpg"))


def test_upload_over_the_cap_is_refused(campaign) -> None:
    small = campaign.model_copy(
        update={"console": campaign.console.model_copy(update={"max_upload_mb": 1})}
    )
    client = client_for(small)
    token = csrf_token(client.get("/unit/洪市镇").get_data(as_text=True))
    response = client.post(
        "/act/import",
        data={"csrf_token": token, "unit": "洪市镇", "received": "2020-12-30T10:00",
              "files": [(_stream(b"x" * (2 * 1024**2)), "大文件.jpg")]},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 413 and "超过 1 MB" in response.get_data(as_text=True)


def test_score_needs_a_reason(campaign) -> None:
    client = client_for(campaign)
    response = post(client, "/act/score", page="/unit/西渡镇", unit="西渡镇", score="88")
    assert "须写明理由" in client.get(response.headers["Location"]).get_data(as_text=True)
    post(client, "/act/score", page="/unit/西渡镇", unit="西渡镇", score="88", reason="实地核查")
    assert units_csv(campaign).set_index("unit").loc["西渡镇", "score"] == "88.0"


def test_remind_sends_to_a_real_smtp_server(campaign) -> None:
    with SmtpServer() as smtp:
        config = campaign.model_copy(
            update={
                "smtp": campaign.smtp.model_copy(update=smtp.config()),
                "notify": campaign.notify.model_copy(update={"dry_run": False}),
                "campaign": campaign.campaign.model_copy(
                    update={"office_addresses": ["office@example.cn"]}
                ),
            }
        )
        client = client_for(config)
        plan = client.get("/remind?format=json").get_json()
        due = [p for p in plan["plan"] if not p["skip"]]
        assert plan["due"] == len(due) > 0 and "催报" in due[0]["subject"]
        post(client, "/act/remind", page="/remind", unit="曲兰镇")
        assert [m["Subject"] for _, m in smtp.sink.messages()] == [
            next(p["subject"] for p in due if p["unit"] == "曲兰镇")
        ]
        post(client, "/act/remind", page="/remind")
        assert len(smtp.sink.messages()) == len(due)
    sent = client.get("/remind?format=json").get_json()["sent"]
    assert len(sent) == len(due) and {s["status"] for s in sent} == {"已发送"}


# -- sign-in and roles -----------------------------------------------------------------------


def test_lan_mode_requires_sign_in_on_every_page(campaign) -> None:
    add_user(campaign.data_dir, "小王", PASSWORD, "管理")
    client = client_for(campaign, login=True)
    for path in ("/", "/review", "/unit/西渡镇", "/log", "/reports", "/file/1", "/file/1/thumb"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    assert client.get("/api/status").status_code == 401
    token = csrf_token(client.get("/login").get_data(as_text=True))
    wrong = client.post("/login", data={"csrf_token": token, "name": "小王", "password": "x"})
    assert wrong.status_code == 401 and "密码不对" in wrong.get_data(as_text=True)
    right = client.post(
        "/login?next=/review", data={"csrf_token": token, "name": "小王", "password": PASSWORD}
    )
    assert right.headers["Location"] == "/review"
    assert client.get("/review").status_code == 200
    token = csrf_token(client.get("/login").get_data(as_text=True))  # a new session, a new token
    evil = client.post(
        "/login?next=//evil.example/",
        data={"csrf_token": token, "name": "小王", "password": PASSWORD},
    )
    assert evil.headers["Location"] == "/"


def test_a_viewer_cannot_correct(campaign) -> None:
    add_user(campaign.data_dir, "小李", PASSWORD, "查看")
    client = client_for(campaign, login=True)
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"csrf_token": token, "name": "小李", "password": PASSWORD})
    page = client.get("/review").get_data(as_text=True)
    assert "不计入" not in page and "确认发件人" not in page
    before = review_refs(client)
    for path, form in [
        ("/act/exclude", {"ref": before[0]}),
        ("/act/extend", {"unit": "金兰镇", "day": "2021-01-05"}),
        ("/act/remind", {}),
        ("/act/rebuild", {}),
    ]:
        response = client.post(path, data={"csrf_token": csrf_token(page), **form})
        assert response.status_code == 403, path
    assert review_refs(client) == before and corrections(campaign) == []


def test_sign_in_attempts_are_rate_limited(campaign) -> None:
    add_user(campaign.data_dir, "小王", PASSWORD, "管理")
    client = client_for(campaign, login=True)
    token = csrf_token(client.get("/login").get_data(as_text=True))
    codes = [
        client.post(
            "/login", data={"csrf_token": token, "name": "小王", "password": "猜"}
        ).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [401] * 10 and codes[-1] == 429
    right = client.post("/login", data={"csrf_token": token, "name": "小王", "password": PASSWORD})
    assert right.status_code == 429  # even the right password waits out the minute


def test_accounts_are_hashed_and_validated(tmp_path) -> None:
    add_user(tmp_path, "小王", PASSWORD, "管理")
    stored = (tmp_path / "users.json").read_text(encoding="utf-8")
    assert PASSWORD not in stored and "$argon2" in stored
    assert check_password(tmp_path, "小王", PASSWORD).role == "管理"
    assert check_password(tmp_path, "小王", "wrong") is None
    assert check_password(tmp_path, "没有", PASSWORD) is None
    with pytest.raises(AccountError):
        add_user(tmp_path, "a/b", PASSWORD, "管理")
    with pytest.raises(AccountError):
        add_user(tmp_path, "小张", "short", "管理")


# -- files -----------------------------------------------------------------------------------


def _first_file(config, category: str) -> dict:
    with Ledger(config.data_dir / "ledger.sqlite3") as ledger:
        frame = ledger.frame("files")
    row = frame[(frame["category"] == category) & (frame["path"] != "")].iloc[0]
    return row.to_dict()


@pytest.mark.parametrize(
    "path",
    [
        "/file/../ledger.sqlite3",
        "/file/..%2fledger.sqlite3",
        "/file/%2e%2e/%2e%2e/config.yaml",
        "/file//etc/passwd",
        "/file/%2Fetc%2Fpasswd",
        "/file/-1",
        "/file/999999",
        "/file/1/../../ledger.sqlite3",
        "/reports/..%2fledger.sqlite3",
        "/reports/%2Fetc%2Fpasswd",
        "/static/..%2fapp.py",
        "/static/%2Fetc%2Fpasswd",
    ],
)
def test_paths_from_the_request_never_reach_the_disk(campaign, path: str) -> None:
    assert client_for(campaign).get(path).status_code == 404


def test_downloads_carry_the_chinese_name_as_attachment(campaign) -> None:
    client = client_for(campaign)
    row = _first_file(campaign, "report")
    response = client.get(f"/file/{int(row['id'])}")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert response.data == (campaign.data_dir / row["path"]).read_bytes()
    report = client.get("/reports/报送台账.xlsx")
    assert report.headers["Content-Disposition"].startswith("attachment;")


def test_thumbnails_are_made_once_and_cached(campaign) -> None:
    client = client_for(campaign)
    row = _first_file(campaign, "photo")
    response = client.get(f"/file/{int(row['id'])}/thumb")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    cached = campaign.data_dir / "cache" / "thumbs" / f"{row['sha256']}.jpg"
    stamp = cached.stat().st_mtime_ns
    assert client.get(f"/file/{int(row['id'])}/thumb").data == cached.read_bytes()
    assert cached.stat().st_mtime_ns == stamp
    with Ledger(campaign.data_dir / "ledger.sqlite3") as ledger:
        frame = ledger.frame("files")
    heic = frame[frame["filename"].str.lower().str.endswith(".heic") & (frame["path"] != "")]
    assert len(heic), "the sample inbox has an iPhone photo"
    assert client.get(f"/file/{int(heic.iloc[0]['id'])}/thumb").status_code == 200


@pytest.mark.skipif(not files.have_ffmpeg(), reason="ffmpeg not installed")
def test_video_poster_and_duration(campaign) -> None:
    client = client_for(campaign)
    row = _first_file(campaign, "video")
    assert client.get(f"/file/{int(row['id'])}/thumb").status_code == 200
    page = client.get("/unit/西渡镇?format=json").get_json()
    videos = [f for g in page["groups"] if g["code"] == "video" for f in g["files"]]
    assert videos and videos[0]["preview"] == "video" and videos[0]["seconds"].endswith("秒")


# -- command line ----------------------------------------------------------------------------


def test_add_user_and_lan_refusal_from_the_command_line(campaign) -> None:
    from tests.support.console import set_listen
    from tests.support.dovecot import free_port

    set_listen(campaign.source_path, f"0.0.0.0:{free_port()}")
    refused = run_cli(campaign.source_path, "serve", "--no-browser", "--no-poll", timeout=60)
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "add-user" in lines[0] and "Traceback" not in refused.stderr
    no_tty = run_cli(campaign.source_path, "add-user", "小王")
    assert no_tty.returncode == 2 and "--password-env" in no_tty.stderr
    import os

    os.environ["CONSOLE_PW"] = PASSWORD
    try:
        made = run_cli(
            campaign.source_path,
            "add-user",
            "小王",
            "--role",
            "管理",
            "--password-env",
            "CONSOLE_PW",
        )
    finally:
        del os.environ["CONSOLE_PW"]
    assert made.returncode == 0 and "小王（管理）" in made.stdout
    assert check_password(campaign.data_dir, "小王", PASSWORD).can_edit


def _stream(data: bytes):
    import io

    return io.BytesIO(data)


# -- the worker inside serve -----------------------------------------------------------------


def test_worker_reports_its_polls_and_errors_in_chinese(campaign, monkeypatch) -> None:
    from console.worker import Worker, WorkerStatus

    status = WorkerStatus(True)
    adopted = []
    worker = Worker(campaign, status, lambda: NOW, adopted.append)
    (campaign.mailbox.path / "new.eml").write_bytes(
        (campaign.mailbox.path / "01_xidu_part1_photos_report.eml")
        .read_bytes()
        .replace(b"Subject:", b"X-Copy: 1\r\nSubject:", 1)
    )
    assert worker._cycle(0) == 0
    seen = status.snapshot()
    assert seen.last_result.startswith("新邮件 1 封") and seen.error == "" and not seen.polling
    assert seen.done == seen.total == 1 and seen.last_poll
    assert adopted and adopted[0].tables is not None  # the console reuses the rebuilt tables

    imap = campaign.model_copy(
        update={
            "mailbox": campaign.mailbox.model_copy(
                update={"source": "imap", "password_env": "CONSOLE_TEST_NO_SUCH_VARIABLE"}
            )
        }
    )
    monkeypatch.delenv("CONSOLE_TEST_NO_SUCH_VARIABLE", raising=False)
    worker = Worker(imap, status, lambda: NOW)
    failures = 0
    for _ in range(3):
        failures = worker._cycle(failures)
    error = status.snapshot().error
    assert error.startswith("收取失败：")
    assert "环境变量 CONSOLE_TEST_NO_SUCH_VARIABLE 未设置" in error
    assert "【警告】" in error and status.snapshot().failures == 3


# -- 本机检查 ---------------------------------------------------------------------------------


def test_doctor_page_shows_the_cli_rows_and_never_the_password(campaign, monkeypatch) -> None:
    from pipeline.doctor import diagnose

    secret = "授权码-abcdefgh-12345678"
    monkeypatch.setenv("CONSOLE_DOCTOR_PW", secret)
    imap = campaign.model_copy(
        update={
            "mailbox": campaign.mailbox.model_copy(
                update={"source": "imap", "host": "imap.qq.com", "port": 993,
                        "username": "hyjdb@qq.com", "password_env": "CONSOLE_DOCTOR_PW"}
            )
        }
    )  # fmt: skip
    add_user(imap.data_dir, "小李", PASSWORD, "查看")  # read-only, and still sees it
    client = client_for(imap, login=True)
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"csrf_token": token, "name": "小李", "password": PASSWORD})
    html = client.get("/doctor").get_data(as_text=True)
    assert "本机检查" in html and secret not in html
    assert "环境变量 CONSOLE_DOCTOR_PW 已设置（不显示内容）" in html
    shown = client.get("/doctor?format=json").get_json()
    rows = [(c["name"], c["detail"], c["fix"]) for s in shown["sections"] for c in s["checks"]]
    assert rows == [(c.name, c.detail, c.fix) for c in diagnose(imap)]
    assert secret not in json.dumps(shown, ensure_ascii=False)
    monkeypatch.delenv("CONSOLE_DOCTOR_PW")
    unset = client.get("/doctor").get_data(as_text=True)
    assert "CONSOLE_DOCTOR_PW 未设置" in unset and "setx CONSOLE_DOCTOR_PW" in unset
    assert "需处理" in unset and 'id="doctor-summary"' in unset


# -- 确认评分 ---------------------------------------------------------------------------------


def _low(config) -> set[str]:
    table = units_csv(config).fillna("")
    return set(table.loc[table["notice_reasons"].str.contains("low_score"), "unit"])


def test_confirm_scores_names_the_low_units_and_goes_stale_when_a_score_changes(
    campaign,
) -> None:
    client = client_for(campaign)
    before = client.get("/scores?format=json").get_json()
    waiting = {r["unit"] for r in before["rows"] if r["low"] == "确认后列为评分偏低"}
    assert before["named_now"] == [] and _low(campaign) == set() and "演陂镇" in waiting
    assert before["unconfirmed"] == len(before["rows"]) > 0
    assert {r["state"] for r in before["rows"]} == {"未确认"}
    post(client, "/act/confirm-scores", page="/scores", reason="已核对评分明细",
         seen=before["seen"])  # fmt: skip
    assert _low(campaign) == waiting
    after = client.get("/scores?format=json").get_json()
    assert after["named_now"] == after["named_after"] == before["named_after"]
    assert after["unconfirmed"] == 0 and after["last"]["reason"] == "已核对评分明细"
    [record] = [c for c in corrections(campaign) if c.kind == "confirm_scores"]
    log = client.get("/log?format=json").get_json()["corrections"]
    row = next(r for r in log if r["id"] == record.id)
    assert (row["kind"], row["what"]) == ("确认评分", "各单位评分")
    assert row["value"] == f"确认 {len(before['rows'])} 个单位的得分" and "{" not in row["value"]

    # A score that changes afterwards is no longer the confirmed one.
    post(client, "/act/score", page="/unit/演陂镇", unit="演陂镇", score="70", reason="实地核查")
    stale = {r["unit"]: r for r in client.get("/scores?format=json").get_json()["rows"]}
    assert stale["演陂镇"]["state"] == "得分有变化（确认时 59.4 分），需重新确认"
    assert stale["西渡镇"]["state"] == "已确认" and "演陂镇" not in _low(campaign)

    # Revoked on the 记录 page: back to suggestions only.
    post(client, "/act/revoke", page="/log", id=str(record.id), reason="重新核对")
    assert _low(campaign) == set()


def test_confirm_scores_refuses_a_page_drawn_before_the_scores_changed(campaign) -> None:
    client = client_for(campaign)
    drawn = client.get("/scores?format=json").get_json()["seen"]
    post(client, "/act/score", page="/unit/演陂镇", unit="演陂镇", score="70", reason="实地核查")
    for seen in (drawn, ""):  # a changed list, or a form without the list it showed
        response = post(client, "/act/confirm-scores", page="/scores", seen=seen)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "请核对后再确认" in page
    assert [c.kind for c in corrections(campaign)] == ["override_score"]
    # Mail the office sends changes nothing staff confirm: the page drawn before still works.
    drawn = client.get("/scores?format=json").get_json()["seen"]
    with Ledger(campaign.data_dir / "ledger.sqlite3") as ledger, ledger.transaction():
        ledger.bump_generation()
    post(client, "/act/confirm-scores", page="/scores", seen=drawn)
    assert [c.kind for c in corrections(campaign)] == ["override_score", "confirm_scores"]


# -- 先进个人 ---------------------------------------------------------------------------------


def _people(client) -> dict[tuple[str, str], dict]:
    rows = client.get("/individuals?format=json").get_json()["rows"]
    return {(r["unit"], r["name"]): r for r in rows}


def test_individuals_confirm_reject_add_and_revoke(campaign) -> None:
    client = client_for(campaign)
    people = _people(client)
    assert people[("西渡镇", "张三")]["status_label"] == "待确认"
    post(client, "/act/individual", page="/individuals", name="张三", unit="西渡镇",
         decision="confirm", reason="事迹突出")  # fmt: skip
    post(client, "/act/individual", page="/individuals", name="李喆", unit="樟树乡",
         decision="reject", reason="材料不足")  # fmt: skip
    post(client, "/act/individual", page="/individuals", name="欧阳明", unit="洪市镇",
         decision="confirm", new="1", reason="经领导研究同意")  # fmt: skip
    people = _people(client)
    assert people[("西渡镇", "张三")]["status_label"] == "已确认"
    assert people[("西渡镇", "张三")]["note"] == "事迹突出"
    assert people[("樟树乡", "李喆")]["status_label"] == "不予表彰"
    added = people[("洪市镇", "欧阳明")]
    assert added["status_label"] == "已确认" and added["documents"] == []
    certificates = campaign.reports_dir / "荣誉证书"
    assert (certificates / "荣誉证书_个人_张三_西渡镇.docx").is_file()
    assert (certificates / "荣誉证书_个人_欧阳明_洪市镇.docx").is_file()
    assert not (certificates / "荣誉证书_个人_李喆_樟树乡.docx").exists()
    download = client.get(f"/reports/{people[('西渡镇', '张三')]['certificate']}")
    assert download.status_code == 200 and download.data.startswith(b"PK")
    log = client.get("/log?format=json").get_json()["corrections"]
    readable = {(r["what"], r["value"]) for r in log if r["kind"] == "先进个人确认"}
    assert readable == {
        ("先进个人 张三（西渡镇）", "确认表彰"),
        ("先进个人 李喆（樟树乡）", "不予表彰"),
        ("先进个人 欧阳明（洪市镇）", "确认表彰"),
    }
    unit_log = client.get("/unit/西渡镇?format=json").get_json()["corrections"]
    assert [r["what"] for r in unit_log] == ["先进个人 张三（西渡镇）"]
    confirm = next(c for c in corrections(campaign) if c.target == "西渡镇/张三")
    post(client, "/act/revoke", page="/log", id=str(confirm.id), reason="点错了")
    assert _people(client)[("西渡镇", "张三")]["status_label"] == "待确认"
    assert not (certificates / "荣誉证书_个人_张三_西渡镇.docx").exists()


def test_individual_names_are_checked(campaign) -> None:
    client = client_for(campaign)
    for name, unit, expected in [
        ("<svg onload=alert(1)>", "洪市镇", "姓名"),
        ("", "洪市镇", "姓名"),
        ("王二麻", "没有这个单位", "单位名录中没有"),
    ]:
        response = post(client, "/act/individual", page="/individuals", name=name, unit=unit,
                        decision="confirm", new="1")  # fmt: skip
        assert expected in client.get(response.headers["Location"]).get_data(as_text=True)
    # Not a candidate of that unit, and not added as new: refused, naming the candidates.
    response = post(client, "/act/individual", page="/individuals", name="张三", unit="樟树乡",
                    decision="confirm")  # fmt: skip
    assert "候选：李喆" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert corrections(campaign) == []


def test_confirm_pages_refuse_viewers_and_posts_without_a_token(campaign) -> None:
    add_user(campaign.data_dir, "小李", PASSWORD, "查看")
    viewer = client_for(campaign, login=True)
    token = csrf_token(viewer.get("/login").get_data(as_text=True))
    viewer.post("/login", data={"csrf_token": token, "name": "小李", "password": PASSWORD})
    for path in ("/scores", "/individuals", "/doctor"):
        page = viewer.get(path)
        assert page.status_code == 200, path
        assert "acts.individual" not in page.get_data(as_text=True), path
        assert 'action="/act/' not in page.get_data(as_text=True), path
    page = viewer.get("/scores").get_data(as_text=True)
    for path, form in [
        ("/act/confirm-scores", {}),
        ("/act/individual", {"name": "张三", "unit": "西渡镇", "decision": "confirm"}),
    ]:
        response = viewer.post(path, data={"csrf_token": csrf_token(page), **form})
        assert response.status_code == 403, path
    manager = client_for(campaign)
    for path in ("/act/confirm-scores", "/act/individual"):
        form = {"name": "张三", "unit": "西渡镇", "decision": "confirm", "back": "/individuals"}
        assert manager.post(path, data=form).status_code == 400, path
    assert corrections(campaign) == []


def test_hostile_individual_names_are_escaped(campaign) -> None:
    """A name that reached the ledger some other way (an old version, a hand edit) is text."""
    with Ledger(campaign.data_dir / "ledger.sqlite3") as ledger, ledger.transaction():
        ledger.add_correction("confirm_individual", f"西渡镇/{HOSTILE}", "confirmed",
                              "<b>理由</b>", "小王", NOW.isoformat())  # fmt: skip
        ledger.bump_generation()
    client = client_for(campaign)
    for path in ("/individuals", "/log", "/unit/西渡镇"):
        html = client.get(path).get_data(as_text=True)
        assert HOSTILE not in html and "<b>理由</b>" not in html, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, path


# -- 疑点 and lateness ------------------------------------------------------------------------

HOSTILE_PASSAGE = "<script>alert('雷同')</script>" + PASSAGE
HOSTILE_PHOTO = "<img src=x onerror=alert(9)>活动.jpg"
HOSTILE_DEEDS = "赵六同志<b onmouseover=alert(8)>长期</b>坚持禁毒宣传，带领志愿者走遍全镇各村。"


@pytest.fixture(scope="module")
def findings(tmp_path_factory):
    """The sample campaign plus 集兵镇 and 杉桥镇 sharing a photo (named to be markup; also in
    last year's folder, outside the data folder) and a report passage holding markup; 集兵镇's
    deeds name 赵六 in a sentence holding markup."""
    folder = tmp_path_factory.mktemp("console-findings")
    config = load_config(make_campaign(folder, integrity={"reference_folders": [REFERENCE]}))
    add_shared_materials(folder, HOSTILE_PHOTO, HOSTILE_PASSAGE, HOSTILE_DEEDS)
    run_once(config, NOW)
    return config


def test_findings_on_the_unit_page_in_words_with_files_by_id(findings) -> None:
    client = client_for(findings)
    rows = client.get("/unit/集兵镇?format=json").get_json()["integrity"]
    kinds = {r["kind"]: r for r in rows}
    assert {"与其他单位照片相同", "往年照片重复使用", "文字与他处雷同"} <= set(kinds)
    shared = kinds["与其他单位照片相同"]
    assert shared["other_unit"] == "杉桥镇" and shared["measure"].startswith("图像差异 ")
    assert shared["file"]["name"] == shared["other"]["name"] == HOSTILE_PHOTO
    other = client.get(f"/file/{shared['other']['id']}")
    assert other.status_code == 200 and other.data == shared_photo()
    with Ledger(findings.data_dir / "ledger.sqlite3") as ledger:
        assert ledger.file_row(shared["other"]["id"])["unit"] == "杉桥镇"
    old = kinds["往年照片重复使用"]["other"]
    assert old["id"] is None and old["name"].endswith("2019年活动.jpg")  # named, never served
    assert re.fullmatch(r"雷同占 \d+%", kinds["文字与他处雷同"]["measure"])
    html = client.get("/unit/集兵镇").get_data(as_text=True)
    assert "<script>alert('雷同')" not in html and "<img src=x onerror=alert(9)>" not in html
    assert "&lt;script&gt;alert(&#39;雷同&#39;)&lt;/script&gt;" in html
    assert f'href="/file/{shared["other"]["id"]}"' in html
    assert "往年照片重复使用" in html and "2019年活动.jpg</span>" in html


def test_findings_section_on_the_overview_and_offline_dashboard(findings) -> None:
    client = client_for(findings)
    section = client.get("/?format=json").get_json()["view"]["integrity"]
    counts = {c["label"]: c["count"] for c in section["counts"]}
    assert counts["与其他单位照片相同"] == 2 and counts["文字与他处雷同"] == 2
    assert sum(counts.values()) == len(section["rows"])
    for html in (
        client.get("/").get_data(as_text=True),
        (findings.reports_dir / "报送看板.html").read_text(encoding="utf-8"),
    ):
        body = html.split('id="integrity-findings"', 1)[1].split("</section>", 1)[0]
        assert "与其他单位照片相同 2 处" in body and "杉桥镇" in body
        assert "<script>alert('雷同')" not in html and "<img src=x onerror=alert(9)>" not in html
        assert "&lt;script&gt;alert(&#39;雷同&#39;)" in body
    offline = (findings.reports_dir / "报送看板.html").read_text(encoding="utf-8")
    assert offline.count("<script") == 2 and "script-src &#39;sha256-" in offline


def test_hostile_deeds_excerpt_is_escaped(findings) -> None:
    client = client_for(findings)
    people = _people(client)
    assert "赵六同志<b onmouseover=alert(8)>长期</b>" in people[("集兵镇", "赵六")]["excerpt"]
    html = client.get("/individuals").get_data(as_text=True)
    assert "<b onmouseover" not in html and "&lt;b onmouseover=alert(8)&gt;" in html


def test_lateness_reads_as_in_the_ledger_workbook(campaign) -> None:
    """金兰镇 was late: the console and the dashboard say it the way the 台账 counts it."""
    from openpyxl import load_workbook

    sheet = load_workbook(campaign.reports_dir / "报送台账.xlsx")["逾期与缺报"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "金兰镇")
    record = dict(zip(header, row, strict=False))
    wording = f"逾期 {record['逾期天数']} 天（{record['逾期报送的材料']}）"
    assert wording == "逾期 3 天（照片、总结报告、事迹材料、视频）"
    client = client_for(campaign)
    assert client.get("/unit/金兰镇?format=json").get_json()["status"].startswith(wording)
    table = client.get("/?format=json").get_json()["view"]["unit_table"]
    row = next(r for r in table["rows"] if r["unit"] == "金兰镇")
    assert wording in [b["label"] for b in row["badges"]]
    offline = (campaign.reports_dir / "报送看板.html").read_text(encoding="utf-8")
    assert f'<span class="badge b-late">{wording}</span>' in offline


def test_console_dates_are_read_as_the_cli_reads_them() -> None:
    """GIVEN dates typed as staff type them THEN the console reads them as the CLI does, and
    junk is one Chinese line with examples (the error a correction shows), not a traceback."""
    from datetime import timedelta, timezone

    from console.actions import end_of_day, parse_local
    from pipeline.corrections import CorrectionError

    cst = timezone(timedelta(hours=8))
    assert end_of_day("2021年1月5日", cst).isoformat() == "2021-01-05T23:59:59+08:00"
    assert end_of_day("2021-01-05", cst).isoformat() == "2021-01-05T23:59:59+08:00"
    assert parse_local("2020/12/30 10:00", cst).isoformat() == "2020-12-30T10:00:00+08:00"
    assert parse_local("2020-12-30", cst).isoformat() == "2020-12-30T00:00:00+08:00"
    with pytest.raises(CorrectionError, match="2021年1月5日"):
        end_of_day("下周一", cst)
