"""Reading report texts: work-item coverage, volunteer figures, outstanding individuals."""

from __future__ import annotations

import pandas as pd
import pytest

from scoring.decisions import individuals, person_name
from scoring.rubric import ScoringConfig
from scoring.substance import parse_number, volunteer_count, work_item_coverage

RUBRIC = ScoringConfig()

TOWNSHIP_REPORT = """西渡镇2020年“衡阳群众”禁毒志愿服务工作总结

今年以来，我镇在县禁毒委的坚强领导下，认真贯彻落实蒸禁毒委发〔2020〕14号文件精神，扎实开展“衡阳群众”禁毒志愿服务活动。现将有关情况总结如下：
一、健全组织，成立禁毒志愿服务分会。3月，镇党委召开专题会议，成立了西渡镇禁毒志愿服务分会，下设12个村（社区）志愿服务分队。
二、广泛招募，壮大志愿者队伍。全镇共招募禁毒志愿者62名，其中“禁毒妈妈”18名。
三、形式多样，深入开展禁毒宣传。结合“6·26”国际禁毒日，开展禁毒宣传进校园、进社区、进农村活动20余场，发放宣传资料5000余份，受益群众1.2万余人。
四、加强培训，提升服务能力。组织志愿者开展业务培训3次，参训人员150人次，并深入各村开展吸毒人员底数调研。
五、典型引路，开展示范创建。打造了2个禁毒示范村、1个示范社区。
六、真情帮扶，做好帮扶帮教。与辖区12名社区戒毒康复人员结对帮扶，帮助5人实现就业。
"""

AGENCY_REPORT = """县教育局关于2020年度禁毒志愿服务工作情况的报告
2020年，我局把禁毒教育作为学校安全工作的重要内容。一是组建了县教育系统禁毒志愿服务队；二是共吸纳教师志愿者一百二十余人，
在全县中小学开展“禁毒第一课”；三是开展3次禁毒师资培训。我局在全市禁毒知识竞赛中荣获第一名。"""

VILLAGE_REPORT = (
    "台源镇禁毒工作小结\n截至12月底，我镇已招募禁毒志愿者近百名，覆盖全镇18个村。"
    "全年开展入户宣传40余次，帮扶戒毒人员6人。"
)

TEAM_REPORT = (
    "2020年3月，井头镇召开禁毒工作推进会，开展3次培训。截至目前，全镇禁毒志愿者队伍达150人，"
    "其中禁毒妈妈35名，全年服务群众3000余人次。"
)

FULL_WIDTH_REPORT = "全县注册禁毒志愿者１，２００名，较去年增加３００名。"

CHINESE_NUMERAL_REPORT = "全乡共招募“禁毒妈妈”六十二名，分布在各村组。"

NO_NUMBER_REPORT = (
    "我单位高度重视禁毒工作，2020年开展宣传活动5次，发放宣传资料300份，受益群众800余人，"
    "在全县禁毒知识竞赛中获得第二名。"
)

TRAINING_FIRST_REPORT = "全年培训志愿者骨干30人；新招募“禁毒妈妈”56名，组建禁毒妈妈宣讲团。"


@pytest.mark.parametrize(
    ("text", "expected", "phrase"),
    [
        (TOWNSHIP_REPORT, 62, "招募禁毒志愿者62名"),
        (AGENCY_REPORT, 120, "一百二十余人"),
        (VILLAGE_REPORT, 100, "近百名"),
        (TEAM_REPORT, 150, "志愿者队伍达150人"),
        (FULL_WIDTH_REPORT, 1200, "１，２００名"),
        (CHINESE_NUMERAL_REPORT, 62, "六十二名"),
        (TRAINING_FIRST_REPORT, 56, "56名"),
        ("我局组织100余名志愿者参与宣传活动。", 100, "100余名"),
        ("全县注册禁毒志愿者1,200名。", 1200, "1,200名"),
        ("招募禁毒志愿者６２名。", 62, "６２名"),
        ("组建了一支80人的禁毒志愿服务队。", 80, "80人"),
        ("今年招募志愿者1.2万人。", 12000, "1.2万人"),
    ],
)
def test_volunteer_count_reads_the_recruited_figure(text, expected, phrase):
    value, evidence = volunteer_count(text)
    assert value == expected
    assert phrase in evidence  # quoted from the original text, full-width forms kept


@pytest.mark.parametrize(
    "text",
    [
        NO_NUMBER_REPORT,
        "",
        "开展万人签名活动，志愿者积极参与。",
        "全镇有数百名志愿者参与。",
        "2020年开展3次培训，培训民警20人。",
    ],
)
def test_volunteer_count_ignores_dates_ranks_and_other_people(text):
    assert volunteer_count(text) == (None, "")


def test_volunteer_evidence_is_the_sentence_not_the_whole_report():
    _, evidence = volunteer_count(TOWNSHIP_REPORT)
    assert evidence == "全镇共招募禁毒志愿者62名，其中“禁毒妈妈”18名。"


@pytest.mark.parametrize(
    ("text", "value"),
    [("62", 62), ("1,200", 1200), ("六十二", 62), ("一百二十", 120), ("百", 100), ("两千", 2000),
     ("一千二百", 1200), ("十二", 12), ("三百零五", 305), ("1.2万", 12000), ("一万五千", 15000)],
)  # fmt: skip
def test_parse_number(text, value):
    assert parse_number(text) == value


def test_all_six_work_items_in_a_full_report():
    coverage = work_item_coverage(TOWNSHIP_REPORT, RUBRIC)
    assert [label for label, _, _ in coverage] == [item.label for item in RUBRIC.substance.items]
    assert all(hit for _, hit, _ in coverage)
    by_label = {label: evidence for label, _, evidence in coverage}
    assert "分会" in by_label["成立禁毒志愿服务分会/分队"]
    assert "示范" in by_label["开展示范创建"]
    assert "帮扶" in by_label["开展帮扶帮教"] or "戒毒" in by_label["开展帮扶帮教"]


def test_partial_and_empty_coverage():
    coverage = work_item_coverage("我镇积极开展禁毒宣传活动。", RUBRIC)
    assert [hit for _, hit, _ in coverage] == [False, False, True, False, False, False]
    assert coverage[2][2] == "我镇积极开展禁毒宣传活动。"
    assert all(not hit and evidence == "" for _, hit, evidence in work_item_coverage("", RUBRIC))


def test_coverage_keywords_come_from_the_rubric_and_match_full_width_text():
    rubric = ScoringConfig(
        substance={
            "items": [
                {"label": "开展ABC行动", "keywords": ["ABC行动"], "points": 20},
                {"label": "其他", "keywords": ["其他工作"], "points": 20},
            ],
            "volunteers_points": 0,
        }
    )
    coverage = work_item_coverage("今年开展了ＡＢＣ行动。", rubric)
    assert coverage == [("开展ABC行动", True, "今年开展了ＡＢＣ行动。"), ("其他", False, "")]


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("张三同志禁毒志愿服务先进事迹材料", "张三"),
        ("李四同志先进事迹", "李四"),
        ("井头镇禁毒妈妈刘桂英同志事迹", "刘桂英"),
        ("优秀禁毒志愿者王小明事迹材料", "王小明"),
        ("关于王志强同志的先进事迹", "王志强"),
        ("护苗行动欧阳娜娜事迹", "欧阳娜娜"),
        ("禁毒志愿者张伟：做群众身边的禁毒卫士（事迹材料）", "张伟"),
        ("西渡镇禁毒工作先进事迹", ""),
        ("演陂镇禁毒志愿服务队先进事迹", ""),
        ("衡阳县西渡镇2020年禁毒志愿服务工作总结", ""),
        ("新建 Microsoft Word 文档", ""),
    ],
)
def test_person_name(title, name):
    assert person_name(title) == name


def test_individuals_from_deeds_documents():
    received = pd.Timestamp("2020-12-28T02:00:00Z")
    materials = pd.DataFrame(
        {
            "message_key": [1, 1, 1, 2, 3],
            "unit": ["西渡镇", "西渡镇", "西渡镇", "西渡镇", None],
            "received_at": [received] * 5,
            "category": ["deeds", "deeds", "report", "deeds", "deeds"],
            "kind": ["file"] * 5,
            "sha256": ["d1", "d2", "r1", "d1", "d3"],
            "url": [""] * 5,
            "filename": ["事迹.zip/新建文档.docx", "西渡镇先进事迹.docx", "总结.docx",
                         "事迹.docx", "赵六同志事迹.docx"],
            "size": pd.array([10, 10, 10, 10, 10], dtype="Int64"),
        }
    )  # fmt: skip
    documents = pd.DataFrame(
        {
            "sha256": ["d1", "d2", "r1", "d3"],
            "title": ["张三同志禁毒志愿服务先进事迹材料", "西渡镇禁毒工作先进事迹", "总结", ""],
            "text": [
                "张三同志禁毒志愿服务先进事迹材料\n张三，男，1965年生，西渡镇梅花村党支部书记。"
                "他带领村里12名禁毒志愿者，五年来走访群众2000余户。",
                "西渡镇禁毒工作先进事迹\n我镇……",
                "总结",
                "",
            ],
            "has_text_layer": [True, True, True, False],
            "problem": ["", "", "", ""],
        }
    )
    people = individuals(materials, documents)
    assert people["name"].tolist() == ["张三"]  # d1 once; unit deeds and unassigned skipped
    first = people.iloc[0]
    assert first["unit"] == "西渡镇" and first["document"] == "事迹.zip/新建文档.docx"
    assert first["excerpt"].startswith("张三，男") and len(first["excerpt"]) <= 80
