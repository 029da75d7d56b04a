"""Integrity checks on real files: photos and their copies, EXIF dates, videos, copied text."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from parsers.media import WINDOWS, ImageFacts, measure_image, measure_video
from parsers.tools import find_tools
from scoring.integrity import (
    capture_date_findings,
    find_all,
    link_findings,
    photo_findings,
    text_findings,
    video_findings,
)
from scoring.rubric import IntegrityConfig
from tests.support import files

TZ = timezone(timedelta(hours=8))
DEADLINE = datetime(2020, 12, 31, 23, 59, 59, tzinfo=TZ)
CONFIG = IntegrityConfig()
EMPTY_REFS = pd.DataFrame(columns=["path", "phash", "dhash"])


def _measure(tmp_path: Path, name: str, data: bytes) -> ImageFacts:
    path = tmp_path / name
    path.write_bytes(data)
    return measure_image(path)


def _photos(rows: list[tuple[str, str, ImageFacts]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "unit": unit,
                "path": f"materials/{unit}/照片/{name}",
                "sha256": f"{unit}/{name}",
                "taken": facts.taken,
                "phash": facts.phash,
                "dhash": facts.dhash,
            }
            for unit, name, facts in rows
        ]
    )


# ---------------------------------------------------------------------------------------------
# measuring pictures


def _one_phash(picture) -> str:
    """pHash of one picture, computed the plain way (one window at a time, bits as text)."""
    import numpy as np
    from PIL import Image

    n = 32
    dct = 2 * np.cos(np.pi * np.outer(np.arange(n), 2 * np.arange(n) + 1) / (2 * n))
    pixels = np.asarray(picture.resize((n, n), Image.Resampling.LANCZOS), float)
    low = (dct @ pixels @ dct.T)[:8, :8]
    return f"{int(''.join('1' if b else '0' for b in (low > np.median(low)).flat), 2):016x}"


def _one_dhash(picture) -> str:
    import numpy as np
    from PIL import Image

    pixels = np.asarray(picture.resize((9, 8), Image.Resampling.LANCZOS), float)
    return (
        f"{int(''.join('1' if b else '0' for b in (pixels[:, 1:] > pixels[:, :-1]).flat), 2):016x}"
    )


def _gray_pictures(tmp_path):
    """Gray pictures as measuring makes them (at most 96 pixels), in several shapes."""
    from PIL import Image

    pictures = []
    for seed, size in enumerate([(96, 72), (72, 96), (96, 54), (80, 53), (96, 96), (41, 33)]):
        path = tmp_path / f"{seed}.jpg"
        path.write_bytes(files.photo(seed))
        with Image.open(path) as image:
            gray = image.convert("L")
        pictures += [gray.resize(size), gray.crop((10, 5, 300, 200)).resize(size)]
    return pictures


def test_the_windows_resize_exactly_as_pillow_crops_and_resizes(tmp_path):
    """The fast path resizes all eleven windows with two matrix products; every pixel must be
    what Pillow's crop and LANCZOS resize give, so hashes do not depend on how they were made."""
    import numpy as np
    from PIL import Image

    from parsers.media import resized, window_boxes

    rng = np.random.default_rng(7)
    noise = [Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8)) for w, h in
             [(96, 72), (72, 96), (57, 40), (96, 33)]]  # fmt: skip
    for picture in _gray_pictures(tmp_path) + noise:
        pixels = np.asarray(picture, dtype=float)
        boxes = window_boxes(*picture.size)
        for size in ((32, 32), (9, 8)):
            ours = resized(pixels, size)
            for window, box in enumerate(boxes):
                pillow = np.asarray(picture.crop(box).resize(size, Image.Resampling.LANCZOS))
                assert np.array_equal(ours[window], pillow), (picture.size, box, size)


def test_window_hashes_equal_one_window_at_a_time(tmp_path):
    """Each batched hash equals the plain definition on its own window (cached facts of
    earlier polls are compared with new ones)."""
    import numpy as np

    from parsers.media import window_boxes, window_hashes

    seen = set()
    for picture in _gray_pictures(tmp_path):
        phashes, dhashes = window_hashes(np.asarray(picture, dtype=float))
        windows = [picture.crop(box) for box in window_boxes(*picture.size)]
        assert phashes == [_one_phash(w) for w in windows]
        assert dhashes == [_one_dhash(w) for w in windows]
        seen.add(phashes[0])
    assert len(seen) > 6  # distinct pictures, distinct hashes


def test_a_sliver_of_a_picture_is_still_hashed(tmp_path):
    """Windows narrower than the hash are enlarged on one side: still eleven hashes, no error."""
    path = tmp_path / "sliver.png"
    from PIL import Image

    Image.new("L", (400, 3), 128).save(path)
    facts = measure_image(path)
    assert facts.problem == "" and len(facts.phash) == len(facts.dhash) == len(WINDOWS)


def test_a_photo_is_hashed_in_every_window_and_its_exif_time_read(tmp_path):
    facts = _measure(tmp_path, "a.jpg", files.photo(1, exif_datetime="2020:12:20 09:30:00"))
    assert facts.problem == ""
    assert (facts.width, facts.height) == (1200, 900)
    assert facts.taken == "2020-12-20T09:30:00"
    assert len(facts.phash) == len(facts.dhash) == len(WINDOWS)
    assert all(len(h) == 16 for h in facts.phash + facts.dhash)


def test_a_photo_without_exif_has_no_capture_time(tmp_path):
    assert _measure(tmp_path, "a.jpg", files.photo(2)).taken == ""


def test_heic_is_measured_and_damage_is_a_problem_not_an_error(tmp_path):
    heic = _measure(tmp_path, "a.heic", files.photo_variant(files.photo(3), "heic"))
    assert heic.problem == "" and len(heic.phash) == len(WINDOWS)
    broken = _measure(tmp_path, "b.jpg", files.photo(3)[:2000])
    assert broken.phash == () and "无法解码" in broken.problem
    junk = _measure(tmp_path, "c.jpg", b"not a picture at all")
    assert junk.phash == () and junk.problem


def test_picture_bombs_are_not_decoded(tmp_path):
    # Over the intake's limit (parsers/filetypes.MAX_IMAGE_PIXELS): refused before decoding.
    png = _measure(tmp_path, "bomb.png", files.png_bomb(12_000, 8_000))
    assert png.phash == () and "安全上限" in png.problem
    jpeg = _measure(tmp_path, "bomb.jpg", files.jpeg_with_size(20_000, 10_000))
    assert jpeg.phash == () and "安全上限" in jpeg.problem


# ---------------------------------------------------------------------------------------------
# pairing photos


@pytest.mark.parametrize(
    ("how", "amount"),
    [
        ("resize", 0.5),
        ("resize", 0.25),
        ("recompress", 35),
        ("crop", 0.03),
        ("crop", 0.05),
        ("crop", 0.1),
        ("crop_side", 0.1),
        ("heic", 0),
        ("heic", 320),  # with a thumbnail, as iPhones store one: hashed from it
    ],
)
def test_a_copy_sent_by_another_unit_is_the_same_photo(tmp_path, how, amount):
    original = _measure(tmp_path, "o.jpg", files.photo(10))
    copy = _measure(tmp_path, "c.jpg", files.photo_variant(files.photo(10), how, amount))
    rows = photo_findings(
        _photos([("西渡镇", "o.jpg", original), ("金兰镇", "c.jpg", copy)]), EMPTY_REFS, 10
    )
    assert sorted((r["unit"], r["kind"], r["other_unit"]) for r in rows) == [
        ("西渡镇", "same_photo_other_unit", "金兰镇"),
        ("金兰镇", "same_photo_other_unit", "西渡镇"),
    ]
    assert rows[0]["measure"] <= 10
    assert (
        "为同一张照片" in rows[0]["evidence"]
        and "c.jpg" in rows[1]["evidence"] + rows[0]["evidence"]
    )


def test_different_photos_are_never_paired(tmp_path):
    facts = [_measure(tmp_path, f"{s}.jpg", files.photo(100 + s, 800, 600)) for s in range(24)]
    units = ["西渡镇", "金兰镇", "界牌镇"]
    frame = _photos([(units[i % 3], f"{i}.jpg", f) for i, f in enumerate(facts)])
    assert photo_findings(frame, EMPTY_REFS, 10) == []


def test_one_unit_resending_a_photo_under_another_name_is_flagged_once(tmp_path):
    original = _measure(tmp_path, "o.jpg", files.photo(20))
    again = _measure(tmp_path, "c.jpg", files.photo_variant(files.photo(20), "recompress", 50))
    rows = photo_findings(
        _photos([("西渡镇", "活动1.jpg", original), ("西渡镇", "微信图片.jpg", again)]),
        EMPTY_REFS,
        10,
    )
    assert [(r["unit"], r["kind"]) for r in rows] == [("西渡镇", "duplicate_photo_same_unit")]


def test_burst_shots_with_different_capture_times_are_not_duplicates():
    a = ImageFacts(taken="2020-12-20T09:30:00", phash=("0" * 16,) * 11, dhash=("0" * 16,) * 11)
    b = ImageFacts(
        taken="2020-12-20T09:30:02", phash=("0" * 15 + "3",) * 11, dhash=("0" * 16,) * 11
    )
    frame = _photos([("西渡镇", "1.jpg", a), ("西渡镇", "2.jpg", b)])
    assert photo_findings(frame, EMPTY_REFS, 10) == []
    other = _photos([("西渡镇", "1.jpg", a), ("金兰镇", "2.jpg", b)])
    assert len(photo_findings(other, EMPTY_REFS, 10)) == 2  # across units it stays a finding


def test_a_photo_reused_from_the_reference_folder(tmp_path):
    last_year = _measure(tmp_path, "old.jpg", files.photo(30))
    resent = _measure(tmp_path, "new.jpg", files.photo_variant(files.photo(30), "resize", 0.5))
    fresh = _measure(tmp_path, "fresh.jpg", files.photo(31))
    refs = pd.DataFrame(
        [
            {
                "path": "D:/2019年材料/西渡镇/old.jpg",
                "phash": last_year.phash,
                "dhash": last_year.dhash,
            }
        ]
    )
    frame = _photos([("西渡镇", "new.jpg", resent), ("西渡镇", "fresh.jpg", fresh)])
    rows = photo_findings(frame, refs, 10)
    assert [(r["kind"], r["path"], r["other_path"]) for r in rows] == [
        ("reused_photo", "materials/西渡镇/照片/new.jpg", "D:/2019年材料/西渡镇/old.jpg")
    ]
    assert "往年材料" in rows[0]["evidence"]


def test_capture_dates_outside_the_window_are_flagged_and_missing_exif_is_not():
    window = CONFIG.window(DEADLINE)
    assert window == (date(2020, 1, 1), date(2020, 12, 31))
    frame = pd.DataFrame(
        [
            {"unit": "西渡镇", "path": "in.jpg", "taken": "2020-06-01T10:00:00"},
            {"unit": "西渡镇", "path": "old.jpg", "taken": "2019-11-02T08:00:00"},
            {"unit": "西渡镇", "path": "after.jpg", "taken": "2021-01-03T08:00:00"},
            {"unit": "西渡镇", "path": "none.jpg", "taken": ""},
        ]
    )
    rows = capture_date_findings(frame, window)
    assert [(r["path"], r["measure"]) for r in rows] == [("old.jpg", 60), ("after.jpg", 3)]
    assert "2019-11-02 08:00:00" in rows[0]["evidence"]


# ---------------------------------------------------------------------------------------------
# videos


needs_ffmpeg = pytest.mark.skipif(
    not files.have_ffmpeg() or find_tools().ffprobe is None, reason="ffmpeg/ffprobe not installed"
)


@needs_ffmpeg
def test_video_duration_size_and_playability(tmp_path):
    short, long_ = tmp_path / "3s.mp4", tmp_path / "12s.mp4"
    short.write_bytes(files.mp4(3))
    long_.write_bytes(files.mp4(12, (640, 360)))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(files.mp4(12)[: len(files.mp4(12)) // 2])
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(4000))
    probe = find_tools().ffprobe
    facts = {p.name: measure_video(p, probe) for p in (short, long_, broken, fake)}
    assert facts["3s.mp4"].playable and facts["3s.mp4"].duration == pytest.approx(3, abs=0.1)
    assert facts["12s.mp4"].playable and (facts["12s.mp4"].width, facts["12s.mp4"].height) == (
        640,
        360,
    )
    assert facts["12s.mp4"].duration == pytest.approx(12, abs=0.1)
    for name in ("broken.mp4", "fake.mp4"):
        assert facts[name].probed and not facts[name].playable and facts[name].problem
    assert not measure_video(short, None).probed


def test_short_and_unplayable_videos_are_flagged():
    videos = pd.DataFrame(
        [
            {
                "unit": "西渡镇",
                "path": "a.mp4",
                "probed": True,
                "playable": True,
                "duration": 3.0,
                "problem": "",
            },
            {
                "unit": "西渡镇",
                "path": "b.mp4",
                "probed": True,
                "playable": True,
                "duration": 12.0,
                "problem": "",
            },
            {
                "unit": "金兰镇",
                "path": "c.mp4",
                "probed": True,
                "playable": False,
                "duration": 0.0,
                "problem": "视频无法打开（moov atom not found）",
            },
            {
                "unit": "界牌镇",
                "path": "d.mp4",
                "probed": False,
                "playable": False,
                "duration": 0.0,
                "problem": "未安装 ffprobe",
            },
        ]
    )
    rows = video_findings(videos, 10)
    assert [(r["unit"], r["kind"], r["measure"]) for r in rows] == [
        ("西渡镇", "short_video", 3.0),
        ("金兰镇", "unplayable_video", 0.0),
    ]
    assert "3 秒" in rows[0]["evidence"] and "moov" in rows[1]["evidence"]


def test_an_expired_qq_link_is_flagged_only_when_the_unit_has_no_video_file():
    now = datetime(2021, 2, 10, 9, 0, tzinfo=TZ)
    links = pd.DataFrame(
        [
            {
                "unit": "西渡镇",
                "url": "https://mail.qq.com/cgi-bin/ftnExs_download?k=1",
                "received_at": pd.Timestamp("2020-12-28T10:00:00+08:00"),
            },
            {
                "unit": "金兰镇",
                "url": "https://mail.qq.com/cgi-bin/ftnExs_download?k=2",
                "received_at": pd.Timestamp("2020-12-28T10:00:00+08:00"),
            },
            {
                "unit": "界牌镇",
                "url": "https://pan.baidu.com/s/1abc",
                "received_at": pd.Timestamp("2020-12-28T10:00:00+08:00"),
            },
            {
                "unit": "洪市镇",
                "url": "https://mail.qq.com/cgi-bin/ftnExs_download?k=3",
                "received_at": pd.Timestamp("2021-01-20T10:00:00+08:00"),
            },
        ]
    )
    videos = pd.DataFrame(
        [
            {
                "unit": "金兰镇",
                "path": "v.mp4",
                "probed": True,
                "playable": True,
                "duration": 20.0,
                "problem": "",
            }
        ]
    )
    rows = link_findings(links, videos, CONFIG.link_expiry_days, now)
    assert [(r["unit"], r["kind"]) for r in rows] == [("西渡镇", "expired_video_link")]
    assert rows[0]["measure"] > 30 and "30 天有效期" in rows[0]["evidence"]


# ---------------------------------------------------------------------------------------------
# copied text

NOTICE_TEXT = (
    "为深入贯彻落实全县禁毒工作部署，广泛动员社会力量参与禁毒斗争，经研究，决定在全县范围内开展"
    "“衡阳群众”禁毒志愿服务活动。各乡镇（园区）要成立禁毒志愿服务分会，招募禁毒妈妈及志愿者五十人以上，"
    "开展形式多样的禁毒宣传活动，推动禁毒志愿服务常态化、规范化、制度化。"
)
OWN_A = (
    "今年以来，我镇组建了由党员干部、退休教师和网格员组成的禁毒志愿服务分队，共招募志愿者62名。"
    "分队每月到圩场设点宣传，向赶集群众发放宣传单三千余份，并在镇中学开展了两场禁毒知识讲座。"
    "针对辖区社区戒毒人员，分队与派出所民警结对帮扶，逐人建立帮扶台账，定期上门走访。"
    "下一步，我镇将继续扩大志愿者队伍，把禁毒宣传延伸到每一个村组。"
)
OWN_B = (
    "我局结合行业特点，在全县各中小学开展毒品预防教育，组织教师参加禁毒知识培训班两期。"
    "利用国际禁毒日，在县城广场举办禁毒文艺汇演，学生家长和群众五百余人观看演出。"
    "我局还制作了校园禁毒宣传展板四十块，在各校巡回展出，并通过公众号推送禁毒知识二十余篇。"
    "全年共发展青少年禁毒志愿者八十余人，形成了家校联动的禁毒宣传格局。"
)
COMMON = "以习近平新时代中国特色社会主义思想为指导，深入贯彻落实党的十九大精神。"


def _docs(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame([{"unit": u, "path": p, "text": t} for u, p, t in rows])


def test_a_report_copied_from_another_unit_is_flagged_for_both_with_the_passage():
    copied = "我单位认真开展活动。" + OWN_A.replace("我镇", "我乡")
    rows = text_findings(
        _docs(
            ("西渡镇", "a.docx", COMMON + OWN_A),
            ("金兰镇", "b.docx", copied),
            ("县教育局", "c.docx", COMMON + OWN_B),
        ),
        pd.DataFrame(columns=["path", "text"]),
        CONFIG,
    )
    assert sorted((r["unit"], r["other_unit"]) for r in rows) == [
        ("西渡镇", "金兰镇"),
        ("金兰镇", "西渡镇"),
    ]
    mine = next(r for r in rows if r["unit"] == "金兰镇")
    assert mine["kind"] == "copied_text" and mine["measure"] >= 0.6
    assert "西渡镇的《a.docx》" in mine["evidence"] and "禁毒志愿服务分队" in mine["evidence"]


def test_shared_boilerplate_and_original_reports_are_not_flagged():
    rows = text_findings(
        _docs(("西渡镇", "a.docx", COMMON + OWN_A), ("县教育局", "b.docx", COMMON + OWN_B)),
        pd.DataFrame(columns=["path", "text"]),
        CONFIG,
    )
    assert rows == []


def test_a_report_pasting_the_campaign_notice_is_flagged_against_the_notice_only():
    pasted_a = NOTICE_TEXT + "我镇按照要求开展了工作。"
    pasted_b = "按照县里部署，" + NOTICE_TEXT + "我乡已完成。"
    rows = text_findings(
        _docs(("西渡镇", "a.docx", pasted_a), ("金兰镇", "b.docx", pasted_b)),
        pd.DataFrame([{"path": "D:/通知/活动通知.docx", "text": NOTICE_TEXT}]),
        CONFIG,
    )
    assert sorted((r["unit"], r["other_unit"], r["other_path"]) for r in rows) == [
        ("西渡镇", "", "D:/通知/活动通知.docx"),
        ("金兰镇", "", "D:/通知/活动通知.docx"),
    ]
    assert all("参考文本《活动通知.docx》" in r["evidence"] for r in rows)


def test_find_all_returns_the_contract_columns_sorted():
    frame = find_all(
        pd.DataFrame(columns=["unit", "path", "sha256", "taken", "phash", "dhash"]),
        EMPTY_REFS,
        pd.DataFrame(
            [
                {
                    "unit": "金兰镇",
                    "path": "v.mp4",
                    "probed": True,
                    "playable": True,
                    "duration": 3.0,
                    "problem": "",
                }
            ]
        ),
        pd.DataFrame(columns=["unit", "url", "received_at"]),
        _docs(),
        pd.DataFrame(columns=["path", "text"]),
        CONFIG,
        DEADLINE,
        DEADLINE,
    )
    assert list(frame.columns) == [
        "unit",
        "kind",
        "path",
        "other_unit",
        "other_path",
        "measure",
        "evidence",
    ]
    assert frame["kind"].tolist() == ["short_video"]


def test_integrity_config_keys(tmp_path):
    from pipeline.config import ConfigError, load_config
    from tests.support.project import write_config

    path = write_config(
        tmp_path,
        integrity={
            "photo_window": ["2020-03-01", "2020-12-31"],
            "reference_folders": ["往年材料"],
            "min_video_seconds": 15,
        },
    )
    config = load_config(path)
    assert config.integrity.window(DEADLINE) == (date(2020, 3, 1), date(2020, 12, 31))
    assert config.integrity.reference_folders == [(tmp_path / "往年材料").resolve()]
    assert config.integrity.min_video_seconds == 15
    assert load_config(write_config(tmp_path / "d", integrity={})).integrity.reference_texts == []
    with pytest.raises(ConfigError, match=r"integrity\.min_video_second"):
        load_config(write_config(tmp_path / "t", integrity={"min_video_second": 5}))
    with pytest.raises(ConfigError, match="photo_window"):
        load_config(
            write_config(tmp_path / "r", integrity={"photo_window": ["2020-12-31", "2020-01-01"]})
        )
