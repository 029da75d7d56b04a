"""A campaign with exactly the issue's integrity cases, end to end through the folder source.

GIVEN seven units mailing real photos, reports, deeds and videos, where 金兰镇 sends copies of
two of 西渡镇's photos, 界牌镇 resends a photo from last year's material folder, 洪市镇's report
copies 西渡镇's, and 三湖镇's video lasts 3 seconds
WHEN the office runs `once`
THEN integrity.csv holds exactly those findings with their evidence, the notice draft has its
版记 and 附件 tables and names no unit as 评分偏低 until staff confirm the scores.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import datetime, timedelta, timezone

import docx
import pytest

from tests.support import files
from tests.support.mails import Att, Mail, mx_received
from tests.support.project import run_cli, write_config

CST = timezone(timedelta(hours=8))
pytestmark = pytest.mark.skipif(not files.have_ffmpeg(), reason="ffmpeg not installed")

ADDRESSES = {
    "西渡镇": "hyxxidujdb@163.com",
    "金兰镇": "jinlanzhen_zzb@163.com",
    "界牌镇": "jiepaizhen@163.com",
    "洪市镇": "hongshizhen@163.com",
    "三湖镇": "sanhuzhen@163.com",
    "井头镇": "hyxjingtou@163.com",
    "台源镇": "taiyuanzhen@163.com",
}
# Each unit's own report, in its own words (no sentence shared between units).
REPORTS = {
    "西渡镇": (
        "今年以来，我镇组建了由党员干部、退休教师和网格员组成的禁毒志愿服务分队，共招募志愿者62名。"
        "分队每月到圩场设点宣传，向赶集群众发放宣传单三千余份，并在镇中学开展了两场禁毒知识讲座。"
        "针对辖区社区戒毒人员，分队与派出所民警结对帮扶，逐人建立帮扶台账，定期上门走访。"
        "下一步，我镇将继续扩大志愿者队伍，把禁毒宣传延伸到每一个村组。"
    ),
    "界牌镇": (
        "界牌镇依托陶瓷产业园区企业多、外来务工人员集中的特点，在园区设立禁毒宣传站。"
        "全年吸纳企业职工注册志愿者55人，利用午休时间开展禁毒微课堂十二期。"
        "镇禁毒办联合司法所对十一名社区康复人员开展就业帮扶，帮助六人在园区企业稳定就业。"
        "我们还评选了三家禁毒示范企业，带动园区形成人人参与禁毒的良好氛围。"
    ),
    "三湖镇": (
        "三湖镇地处湘江沿岸，渔民和船民流动性大，我们把禁毒宣传搬到了码头和渡口。"
        "镇里组织“禁毒妈妈”宣讲团走进十八个村的屋场会，讲身边的毒品危害案例。"
        "全镇共发展禁毒志愿者七十余人，培训骨干二十名，建立起村村有禁毒宣传员的工作网络。"
        "年底前，宣讲团还为留守儿童开设了禁毒手工课，寓教于乐效果明显。"
    ),
    "井头镇": (
        "井头镇以创建无毒村为抓手，在全镇推行禁毒工作星级评定，年内评出五星村三个。"
        "镇禁毒志愿服务分会下设六支服务队，注册志愿者八十六名，覆盖全部行政村和社区。"
        "我们在赶集日开展禁毒有奖问答，群众参与热情很高，共发放宣传品两千余件。"
        "对两名新发现的吸毒人员，我们第一时间落实社区戒毒措施并安排专人结对帮教。"
    ),
}
DEEDS = {
    "西渡镇": "张建华同志先进事迹材料|张建华同志是一名退休教师，三年来每周到学校义务讲禁毒课。",
    "金兰镇": "金兰镇禁毒工作先进事迹|金兰镇志愿者深入茶园和加工厂，为采茶工讲解新型毒品识别。",
    "界牌镇": "界牌镇禁毒先进事迹材料|界牌镇园区志愿者在夜班交接时段开展流动宣讲，覆盖三千职工。",
    "洪市镇": "洪市镇先进事迹材料|洪市镇组织老党员成立巡河护苗队，在河堤和库区巡查可疑种植。",
    "三湖镇": "三湖镇禁毒先进事迹|三湖镇禁毒妈妈宣讲团成员刘秋菊坚持为渡口船民送去禁毒宣传册。",
    "井头镇": "井头镇先进事迹材料|井头镇网格员在入户走访中劝导一名吸毒人员主动接受社区戒毒。",
}
NOTICE_TEXT = (
    "为深入贯彻落实全县禁毒工作部署，广泛动员社会力量参与禁毒斗争，经研究，决定在全县范围内开展"
    "“衡阳群众”禁毒志愿服务活动。各乡镇（园区）要成立禁毒志愿服务分会，招募禁毒妈妈及志愿者"
    "五十人以上，开展形式多样的禁毒宣传活动，推动禁毒志愿服务常态化、规范化、制度化。"
)
LAST_YEAR = 900  # seed of the photo in last year's folder that 界牌镇 sends again


def _last_year() -> bytes:
    return files.photo(LAST_YEAR, 1000, 750, exif_datetime="2019:11:20 09:00:00")


def _photo(seed: int, day: int = 15) -> bytes:
    return files.photo(seed, 800, 600, exif_datetime=f"2020:12:{day:02d} 10:30:00")


def _report(unit: str, text: str) -> Att:
    body = [s + "。" for s in text.split("。") if s]
    return Att(f"{unit}2020年禁毒志愿服务工作总结.docx", files.docx(body, title=f"{unit}工作总结"))


def _deeds(unit: str) -> Att:
    title, text = DEEDS[unit].split("|")
    return Att(f"{title}.docx", files.docx([text], title=title))


def _mail(unit: str, attachments: list[Att], when: datetime, seed: str = "") -> bytes:
    address = ADDRESSES[unit]
    return Mail(
        sender=(f"{unit}禁毒办", address),
        subject=f"{unit}禁毒志愿服务活动材料{seed}",
        date=when,
        received=[mx_received(when, address, seed=seed)],
        attachments=attachments,
        seed=unit + seed,
    ).to_bytes()


def _inbox() -> dict[str, bytes]:
    when = datetime(2020, 12, 20, 10, tzinfo=CST)
    video = {unit: files.mp4(12, (320 + 16 * i, 240)) for i, unit in enumerate(ADDRESSES)}
    copied = REPORTS["西渡镇"].replace("我镇", "我们镇")
    return {
        "01-西渡镇.eml": _mail("西渡镇", [
            Att("活动照片1.jpg", _photo(101)), Att("活动照片2.jpg", _photo(102)),
            Att("活动照片3.jpg", _photo(103)), _report("西渡镇", REPORTS["西渡镇"]),
            _deeds("西渡镇"), Att("宣传视频.mp4", video["西渡镇"]),
        ], when),
        # 金兰镇 sends two of 西渡镇's photos again, resized and recompressed, without EXIF.
        "02-金兰镇.eml": _mail("金兰镇", [
            Att("IMG_20201218.jpg", files.photo_variant(_photo(101), "resize", 0.6)),
            Att("微信图片_2020.jpg", files.photo_variant(_photo(102), "recompress", 40)),
            Att("禁毒宣传.jpg", _photo(201)), _report("金兰镇", REPORTS["井头镇"][:0] + (
                "金兰镇今年在茶叶采摘季组织志愿者进茶园开展禁毒宣传，向采茶工讲解新型毒品的伪装形式。"
                "镇里新成立的禁毒志愿服务分队招募队员五十八名，多为返乡大学生和村医。"
                "我们联合卫生院开展戒毒康复人员体检和心理疏导，全年帮扶九人。"
            )), _deeds("金兰镇"), Att("视频.mp4", video["金兰镇"]),
        ], when + timedelta(days=1)),
        # 界牌镇 resends last year's photo (EXIF 2019) besides one of this year.
        "03-界牌镇.eml": _mail("界牌镇", [
            Att("园区宣传站.jpg", _last_year()),
            Att("禁毒微课堂.jpg", _photo(301)), _report("界牌镇", REPORTS["界牌镇"]),
            _deeds("界牌镇"), Att("园区宣传.mp4", video["界牌镇"]),
        ], when + timedelta(days=2)),
        # 洪市镇's report is 西渡镇's with the town's word changed.
        "04-洪市镇.eml": _mail("洪市镇", [
            Att("巡河护苗.jpg", _photo(401)), _report("洪市镇", copied),
            _deeds("洪市镇"), Att("巡河.mp4", video["洪市镇"]),
        ], when + timedelta(days=3)),
        # 三湖镇's video is 3 seconds long.
        "05-三湖镇.eml": _mail("三湖镇", [
            Att("码头宣讲.jpg", _photo(501)), Att("屋场会.jpg", _photo(502)),
            _report("三湖镇", REPORTS["三湖镇"]), _deeds("三湖镇"),
            Att("宣讲视频.mp4", files.mp4(3)),
        ], when + timedelta(days=4)),
        "06-井头镇.eml": _mail("井头镇", [
            Att("星级评定.jpg", _photo(601)), Att("有奖问答.jpg", _photo(602)),
            _report("井头镇", REPORTS["井头镇"]), _deeds("井头镇"),
            Att("井头镇禁毒.mp4", video["井头镇"]),
        ], when + timedelta(days=5)),
        # 台源镇 sends one photo only: incomplete, and its score is low.
        "07-台源镇.eml": _mail("台源镇", [Att("照片.jpg", _photo(701))], when + timedelta(days=6)),
    }  # fmt: skip


def _rows(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _texts(path) -> list[str]:
    return [p.text for p in docx.Document(str(path)).paragraphs]


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    root = tmp_path_factory.mktemp("integrity")
    reference = root / "2019年材料" / "界牌镇"
    reference.mkdir(parents=True)
    (reference / "DSC_0042.JPG").write_bytes(_last_year())
    for seed in (910, 911, 912):  # other old photos that nobody resent
        (reference / f"DSC_{seed}.JPG").write_bytes(files.photo(seed, 1000, 750))
    notice = root / "活动通知.docx"
    notice.write_bytes(files.docx([NOTICE_TEXT], title="关于开展“衡阳群众”禁毒志愿服务活动的通知"))
    config = write_config(
        root,
        integrity={"reference_folders": ["2019年材料"], "reference_texts": ["活动通知.docx"]},
    )
    for name, data in _inbox().items():
        (root / "inbox" / name).write_bytes(data)
    result = run_cli(config, "once")
    assert result.returncode == 0, result.stderr
    return config


def test_exactly_the_planted_cases_are_flagged(campaign):
    findings = _rows(campaign.parent / "data" / "reports" / "integrity.csv")
    found = sorted((r["unit"], r["kind"], r["other_unit"]) for r in findings)
    assert found == sorted(
        [
            ("西渡镇", "same_photo_other_unit", "金兰镇"),
            ("西渡镇", "same_photo_other_unit", "金兰镇"),
            ("金兰镇", "same_photo_other_unit", "西渡镇"),
            ("金兰镇", "same_photo_other_unit", "西渡镇"),
            ("界牌镇", "reused_photo", ""),
            ("界牌镇", "exif_outside_window", ""),
            ("洪市镇", "copied_text", "西渡镇"),
            ("西渡镇", "copied_text", "洪市镇"),
            ("三湖镇", "short_video", ""),
        ]
    )


def test_every_finding_carries_its_evidence(campaign):
    findings = _rows(campaign.parent / "data" / "reports" / "integrity.csv")
    by_kind = {}
    for row in findings:
        by_kind.setdefault((row["unit"], row["kind"]), []).append(row)
    jinlan = {r["path"].rsplit("/", 1)[-1]: r for r in by_kind[("金兰镇", "same_photo_other_unit")]}
    assert jinlan["IMG_20201218.jpg"]["other_path"] == "materials/西渡镇/照片/活动照片1.jpg"
    assert float(jinlan["IMG_20201218.jpg"]["measure"]) <= 10
    assert "西渡镇报送的《活动照片1.jpg》" in jinlan["IMG_20201218.jpg"]["evidence"]
    reused = by_kind[("界牌镇", "reused_photo")][0]
    assert reused["path"] == "materials/界牌镇/照片/园区宣传站.jpg"
    assert reused["other_path"].endswith("2019年材料/界牌镇/DSC_0042.JPG")
    copied = by_kind[("洪市镇", "copied_text")][0]
    assert float(copied["measure"]) >= 0.7
    assert "禁毒志愿服务分队" in copied["evidence"]
    short = by_kind[("三湖镇", "short_video")][0]
    assert short["path"] == "materials/三湖镇/视频/宣讲视频.mp4"
    assert float(short["measure"]) == pytest.approx(3, abs=0.1)
    exif = by_kind[("界牌镇", "exif_outside_window")][0]
    assert "2019-11-20 09:00:00" in exif["evidence"]


def test_findings_are_counted_per_unit_and_listed_in_the_ledger(campaign):
    data = campaign.parent / "data"
    units = {r["unit"]: r for r in _rows(data / "reports" / "units.csv")}
    assert units["三湖镇"]["score"] and units["台源镇"]["missing"] == "report;deeds;video"
    with sqlite3.connect(data / "ledger.sqlite3") as db:
        measured = db.execute("SELECT COUNT(*) FROM media").fetchone()[0]
        references = db.execute("SELECT COUNT(*) FROM reference_files").fetchone()[0]
    assert measured >= 14 + 6  # every stored photo and video, and last year's photos
    assert references == 5  # four old photos and the campaign notice
    import openpyxl

    sheet = openpyxl.load_workbook(data / "reports" / "报送台账.xlsx")["疑点"]
    assert sheet.max_row == 1 + 9


def test_the_notice_names_no_low_score_before_staff_confirm(campaign):
    units = {r["unit"]: r for r in _rows(campaign.parent / "data" / "reports" / "units.csv")}
    assert "low_score" not in units["台源镇"]["notice_reasons"]
    texts = _texts(campaign.parent / "data" / "reports" / "通报草稿.docx")
    assert texts[texts.index("四、评分偏低单位") + 1] == "评分结果待核定后列出。"
    internal = texts.index("内部审核清单（不属于通报正文，印发前删除）")
    assert any(t.startswith("台源镇（") for t in texts[internal:])
    assert not any("台源镇（" in t for t in texts[:internal] if "评分" in t)
    document = docx.Document(str(campaign.parent / "data" / "reports" / "通报草稿.docx"))
    colophon = [row.cells[0].text for row in document.tables[-1].rows]
    assert colophon[0] == "抄送：市禁毒办。" and colophon[1].endswith("年X月X日印发")
    assert any(t.rows[0].cells[-1].text == "单位类别" for t in document.tables)  # 附件: 未报送


def test_confirming_scores_and_an_individual(campaign):
    result = run_cli(campaign, "confirm-scores", "--reason", "已逐项核对")
    assert result.returncode == 0, result.stderr
    assert "评分偏低" in result.stdout
    reports = campaign.parent / "data" / "reports"
    units = {r["unit"]: r for r in _rows(reports / "units.csv")}
    assert "low_score" in units["台源镇"]["notice_reasons"].split(";")
    texts = _texts(reports / "通报草稿.docx")
    assert texts[texts.index("四、评分偏低单位") + 1].startswith("台源镇（")

    wrong = run_cli(campaign, "confirm-individual", "李四", "西渡镇")
    assert wrong.returncode == 2 and "候选：张建华" in wrong.stderr
    result = run_cli(campaign, "confirm-individual", "张建华", "西渡镇", "--reason", "事迹属实")
    assert result.returncode == 0, result.stderr
    assert (reports / "荣誉证书" / "荣誉证书_个人_张建华_西渡镇.docx").is_file()
    texts = _texts(reports / "通报草稿.docx")
    assert any(t.startswith("张建华（西渡镇），共1名同志表现突出") for t in texts)


def test_a_score_that_changes_after_confirmation_is_suggested_again(campaign):
    # Runs after the confirmation above: 台源镇 sends its report, so its score changes.
    late = datetime(2020, 12, 30, 10, tzinfo=CST)
    report = _report("台源镇", "台源镇今年新建禁毒宣传长廊一处，组织志愿者开展入户宣传。")
    (campaign.parent / "inbox" / "08-台源镇.eml").write_bytes(_mail("台源镇", [report], late, "2"))
    result = run_cli(campaign, "once")
    assert result.returncode == 0, result.stderr
    units = {r["unit"]: r for r in _rows(campaign.parent / "data" / "reports" / "units.csv")}
    assert "low_score" not in units["台源镇"]["notice_reasons"]
    texts = _texts(campaign.parent / "data" / "reports" / "通报草稿.docx")
    assert texts[texts.index("四、评分偏低单位") + 1] == "评分结果待核定后列出。"


def test_tables_built_between_report_runs_show_the_same_findings(campaign):
    """The console and receipts build tables without reading the reference folders again:
    they must show exactly what integrity.csv says."""
    from datetime import datetime as dt

    from pipeline.config import load_config
    from pipeline.jobs import session
    from pipeline.tables import build_tables

    config = load_config(campaign)
    with session(config) as (ledger, registry):
        tables = build_tables(ledger, registry, config, dt.now(CST))
    csv_rows = _rows(campaign.parent / "data" / "reports" / "integrity.csv")
    shown = sorted(zip(tables.integrity["unit"], tables.integrity["kind"], strict=True))
    assert shown == sorted((r["unit"], r["kind"]) for r in csv_rows)
    assert "reused_photo" in set(tables.integrity["kind"])
