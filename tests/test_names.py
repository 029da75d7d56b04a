"""The one sanitiser for stored names (portable.names) and the collisions NTFS would see.

NTFS refuses device names, some characters and trailing dots/spaces, compares names without
regard to case, and (through Explorer, WPS and Excel) still lives with 260-character paths.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path, PureWindowsPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.ledger import FileRecord, Ledger
from intake.materials import Placer, unit_folder
from pipeline.config import load_config
from pipeline.jobs import run_once, worker
from portable.names import (
    MAX_COMPONENT_BYTES,
    NTFS_MAX_COMPONENT,
    WINDOWS_MAX_PATH,
    fit,
    is_device_name,
    name_key,
    numbered,
    relative_budget,
    safe_component,
    utf16_length,
)
from tests.support import files
from tests.support.mails import Att, Mail
from tests.support.project import write_config

CST = timezone(timedelta(hours=8))
OFFICE_DATA = PureWindowsPath(r"D:\禁毒办\2020年度材料\data")
DEVICES = ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"] + [
    f"{port}{digit}" for port in ("COM", "LPT") for digit in "0123456789¹²³"
]


# ---- device names ---------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("form", ["{}", "{}.txt", "{} .doc", "{}.tar.gz", "{}  ", "{}."])
def test_device_names_in_every_case_and_form_are_defused(device: str, form: str) -> None:
    for spelled in (device, device.lower(), device.capitalize()):
        name = form.format(spelled)
        assert is_device_name(name.rstrip(". ")) or not name.strip(". ")
        safe = safe_component(name)
        assert not is_device_name(safe), (name, safe)
        assert safe.startswith("_")


@pytest.mark.parametrize(
    "name",
    ["CONTRACT.txt", "COM10.jpg", "console.log", "荣誉证书_CON.docx", "LPT.doc", "nul-1.jpg"],
)
def test_names_that_only_look_like_devices_are_kept(name: str) -> None:
    assert not is_device_name(name)
    assert safe_component(name) == name


# ---- characters, ends, normalisation --------------------------------------------------------


@pytest.mark.parametrize("char", list('<>:"/\\|?*'))
def test_characters_ntfs_refuses_are_replaced(char: str) -> None:
    assert safe_component(f"西渡{char}镇.jpg") == "西渡_镇.jpg"


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("总结.docx.", "总结.docx"),
        ("总结报告 . .", "总结报告"),
        ("  照片1.jpg  ", "照片1.jpg"),
        (".hidden.jpg", "hidden.jpg"),
        ("...", "未命名"),
        ("", "未命名"),
        (" . _ ", "未命名"),
        ("a\tb\nc.jpg", "abc.jpg"),
        ("\x00\x1f\x7f\x85x.jpg", "x.jpg"),
        ("photo\u202egpj.exe", "photogpj.exe"),  # a right-to-left override hid ".exe"
        ("\u2066照片\u2069.jpg", "照片.jpg"),
        ("\u202a\u202b\u202c\u202d报告.doc", "报告.doc"),
        ("zero\u200bwidth\ufeff.jpg", "zerowidth.jpg"),
        ("cafe\u0301.jpg", "caf\u00e9.jpg"),  # NFD (macOS) -> NFC
        ("报告\u2028第二行.doc", "报告第二行.doc"),
    ],
)
def test_invisible_characters_and_ends(raw: str, safe: str) -> None:
    assert safe_component(raw) == safe


def test_lone_surrogates_from_undecodable_bytes_are_dropped() -> None:
    raw = b"\xff\xfe\xe5\x9b\xbe.jpg".decode("utf-8", "surrogateescape")
    safe = safe_component(raw)
    safe.encode("utf-8")  # encodable: no lone surrogate left
    assert safe.endswith(".jpg")


# ---- lengths --------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", ["很" * 300, "a" * 400, "😀" * 200, "活动照片 " * 80])
def test_long_names_are_shortened_keeping_the_extension(stem: str) -> None:
    safe = safe_component(stem + ".jpeg")
    assert safe.endswith(".jpeg")
    assert len(safe.encode("utf-8")) <= MAX_COMPONENT_BYTES
    assert utf16_length(safe) <= NTFS_MAX_COMPONENT
    assert safe == safe.rstrip(" .")


def test_a_long_extension_is_not_mistaken_for_one() -> None:
    name = "报告." + "x" * 300
    safe = safe_component(name)
    assert len(safe.encode("utf-8")) <= MAX_COMPONENT_BYTES
    assert safe.startswith("报告.")


def test_numbered_and_fit_stay_within_limits() -> None:
    name = "西渡镇禁毒志愿服务活动照片" * 5 + ".jpg"
    assert numbered("照片.jpg", 2) == "照片 (2).jpg"
    assert numbered("README", 3) == "README (3)"
    for limit in (20, 40, 80):
        assert utf16_length(fit(name, max_chars=limit)) <= limit
        assert utf16_length(numbered(fit(name, max_chars=limit), 12, max_chars=limit)) <= limit
        assert numbered(name, 12, max_chars=limit).endswith(" (12).jpg")


def test_relative_budget_keeps_the_whole_windows_path_within_260() -> None:
    budget = relative_budget(OFFICE_DATA)
    assert utf16_length(str(OFFICE_DATA)) + 1 + budget == WINDOWS_MAX_PATH
    assert relative_budget("D:\\" + "深" * 250) == 80  # never below a sensible minimum


# ---- keys -----------------------------------------------------------------------------------


def test_name_key_is_what_ntfs_compares() -> None:
    assert len({name_key(n) for n in ("Photo.JPG", "photo.jpg", "PHOTO.jpg")}) == 1
    assert name_key("照片.jpg") == name_key("照片.JPG")
    nfd = unicodedata.normalize("NFD", "Café.JPG")
    assert name_key(nfd) == name_key("café.jpg")
    assert name_key("照片1.jpg") != name_key("照片2.jpg")


# ---- property: whatever a sender writes, the stored name is valid ----------------------------

CHARS = st.one_of(
    st.characters(codec="utf-8"), st.sampled_from(list('<>:"/\\|?*. \u202e\u2066\x00'))
)
NAMES = st.one_of(
    st.text(alphabet=CHARS, max_size=300),
    st.tuples(st.sampled_from(["CON", "com1", "LPT¹", "CONIN$", "nul"]), st.text(CHARS)).map(
        "".join
    ),
)


@given(NAMES)
def test_every_sanitised_name_is_valid_on_ntfs_and_stable(name: str) -> None:
    safe = safe_component(name)
    assert safe and safe == safe.strip() and not safe.endswith(".")
    assert not set(safe) & set('<>:"/\\|?*')
    assert all(unicodedata.category(ch) not in ("Cc", "Cf", "Cs") for ch in safe)
    assert not is_device_name(safe)
    assert len(safe.encode("utf-8")) <= MAX_COMPONENT_BYTES
    assert utf16_length(safe) <= NTFS_MAX_COMPONENT
    assert safe_component(safe) == safe


# ---- the Placer: collisions as NTFS sees them -----------------------------------------------


def _ledger_with(tmp_path: Path, paths: list[str]) -> Ledger:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    row = ledger.begin_message("a" * 64, "mail/aa/a.eml", 1, "2020-12-30T10:00:00+08:00", "imap")
    records = [
        FileRecord(i + 1, "file", p, "x@qq.com", "西渡镇", "photo", "", 1, f"{i:064d}", p, "", "",
                   "")
        for i, p in enumerate(paths)
    ]  # fmt: skip
    with ledger.transaction():
        ledger.add_files(row.id, records)
    return ledger


def test_names_differing_only_in_case_or_normalisation_get_their_own_files(tmp_path) -> None:
    with _ledger_with(tmp_path, ["materials/西渡镇/照片/照片.jpg"]) as ledger:
        placer = Placer(ledger)
        chosen = [
            placer.place("西渡镇", f"{i:064x}", "photo", name)[0]
            for i, name in enumerate(
                ["Photo.JPG", "photo.jpg", "PHOTO.jpg", "照片.JPG",
                 unicodedata.normalize("NFD", "Café.jpg"), "café.JPG"],
                start=100,
            )
        ]  # fmt: skip
    assert chosen == [
        "materials/西渡镇/照片/Photo.JPG",
        "materials/西渡镇/照片/photo (2).jpg",
        "materials/西渡镇/照片/PHOTO (3).jpg",
        "materials/西渡镇/照片/照片 (2).JPG",  # the ledger already holds 照片.jpg
        "materials/西渡镇/照片/Café.jpg",
        "materials/西渡镇/照片/café (2).JPG",
    ]
    assert len({name_key(p) for p in chosen}) == len(chosen)


def test_stored_paths_fit_the_office_data_folder_on_windows(tmp_path) -> None:
    budget = relative_budget(OFFICE_DATA)
    with _ledger_with(tmp_path, []) as ledger:
        placer = Placer(ledger, max_path=budget)
        long = "衡阳县西渡镇2020年度禁毒志愿服务活动开展情况及典型事迹材料汇编" * 6 + ".docx"
        chosen = [placer.place("西渡镇", f"{i:064x}", "deeds", long)[0] for i in range(12)]
        device = placer.place("西渡镇", "f" * 64, "photo", "CON.jpg")[0]
    assert device == "materials/西渡镇/照片/_CON.jpg"
    for relative in chosen:
        whole = OFFICE_DATA / PureWindowsPath(relative)
        assert utf16_length(str(whole)) <= WINDOWS_MAX_PATH, relative
        assert relative.endswith(".docx")
    assert len({name_key(p) for p in chosen}) == 12


def test_unit_folders_use_the_same_sanitiser() -> None:
    assert unit_folder("CON") == "materials/_CON"
    assert unit_folder("西渡镇\u202e") == "materials/西渡镇"
    assert unit_folder(None) == "materials/待确认"


def test_a_zip_and_attachments_whose_names_differ_in_case_all_survive(tmp_path: Path) -> None:
    """GIVEN three photos Photo.JPG / photo.jpg / PHOTO.jpg and a zip holding 照片.jpg and
    照片.JPG WHEN they are stored THEN five files exist, none overwrote another on NTFS."""
    path = write_config(tmp_path)
    zipped = files.zip_archive({"照片.jpg": files.jpeg(640, 480, seed=11),
                                "照片.JPG": files.jpeg(640, 480, seed=12)})  # fmt: skip
    mail = Mail(
        sender=("西渡镇", "hyxxidujdb@163.com"),
        subject="西渡镇照片",
        seed="case",
        attachments=[Att("Photo.JPG", files.jpeg(640, 480, seed=1)),
                     Att("photo.jpg", files.jpeg(640, 480, seed=2)),
                     Att("PHOTO.jpg", files.jpeg(640, 480, seed=3)),
                     Att("照片.zip", zipped)],
    )  # fmt: skip
    (tmp_path / "inbox" / "a.eml").write_bytes(mail.to_bytes())
    config = load_config(path)
    run_once(config, datetime(2020, 12, 30, tzinfo=CST))
    with worker(config) as (ledger, _):
        stored = [p for p in ledger.frame("files")["path"] if p]
    assert len(stored) == 5
    assert len({name_key(p) for p in stored}) == 5
    assert all((config.data_dir / p).is_file() for p in stored)
