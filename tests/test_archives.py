"""parsers.archives: real archives, hostile ones included; nothing may land outside dest."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import stat
import subprocess
import tarfile
import zipfile
from pathlib import Path

import py7zr
import pytest

from parsers.archives import ArchiveLimits, Expansion, expand
from portable.names import safe_component

IN_CI = os.environ.get("CI") == "true"
MiB = 1024**2


def require(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        message = f"{tool} is not installed"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture
def rar_dir() -> Path:
    shared = Path(os.environ.get("SHARED_DIR", Path(__file__).resolve().parents[1] / "../shared"))
    fixtures = shared / "fixtures" / "rar"
    if not fixtures.is_dir():
        if IN_CI:
            pytest.fail(f"RAR fixtures missing: {fixtures}", pytrace=False)
        pytest.skip(f"RAR fixtures missing: {fixtures}")
    return fixtures


# ---- builders ---------------------------------------------------------------------------


def zip_file(path: Path, files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def zip_raw_names(path: Path, files: list[tuple[bytes, bytes]]) -> Path:
    """A ZIP whose member names are the given raw bytes WITHOUT the UTF-8 flag, as Windows
    tools write GBK names. zipfile would set the flag, so ASCII placeholders of the same length
    are written and then replaced in the local and central headers."""
    placeholders = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for index, (raw, data) in enumerate(files):
            placeholder = f"@{index:0{len(raw) - 1}d}".encode()
            assert len(placeholder) == len(raw)
            placeholders.append((placeholder, raw))
            zf.writestr(placeholder.decode(), data)
    blob = path.read_bytes()
    for placeholder, raw in placeholders:
        assert blob.count(placeholder) == 2
        blob = blob.replace(placeholder, raw)
    path.write_bytes(blob)
    return path


def zip_with_symlink(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        link = zipfile.ZipInfo("link-to-etc")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "../../../../etc")
        zf.writestr("link-to-etc/passwd-copy.txt", b"written through a link?")
        fifo = zipfile.ZipInfo("a-fifo")
        fifo.create_system = 3
        fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
        zf.writestr(fifo, b"")
        zf.writestr("ok.txt", b"fine")
    return path


def seven_zip(path: Path, files: dict[str, bytes], password: str | None = None) -> Path:
    header = password is not None
    with py7zr.SevenZipFile(path, "w", password=password, header_encryption=header) as archive:
        for name, data in files.items():
            archive.writestr(data, name)
    return path


def snapshot(root: Path, skip: Path) -> set[tuple[str, bool]]:
    """Every path under ``root`` except inside ``skip``: (relative path, is symlink)."""
    seen = set()
    for current, dirs, files in os.walk(root):
        here = Path(current)
        if here == skip or skip in here.parents:
            continue
        for name in dirs + files:
            entry = here / name
            if entry == skip:
                continue
            seen.add((str(entry.relative_to(root)), entry.is_symlink()))
    return seen


def assert_contained(result: Expansion, dest: Path) -> None:
    real_dest = dest.resolve()
    for member in result.members:
        assert real_dest in member.path.resolve().parents, member
        assert member.path.is_file() and not member.path.is_symlink()
        assert member.path.stat().st_size == member.size
    for current, dirs, files in os.walk(dest):
        for name in dirs + files:
            assert not (Path(current) / name).is_symlink(), name


def names(result: Expansion) -> list[str]:
    return [member.name for member in result.members]


def codes(result: Expansion) -> list[str]:
    return [problem.code for problem in result.problems]


# ---- zip --------------------------------------------------------------------------------


def test_zip_with_folders_and_utf8_names(tmp_path: Path) -> None:
    archive = zip_file(
        tmp_path / "材料.zip",
        {"照片/1.jpg": b"jpeg-1", "照片/活动 2.jpg": b"jpeg-2", "总结.docx": b"docx"},
    )
    dest = tmp_path / "out"
    result = expand(archive, "材料.zip", dest)
    assert result.expanded
    assert result.problems == ()
    assert names(result) == [
        "材料.zip/照片/1.jpg",
        "材料.zip/照片/活动 2.jpg",
        "材料.zip/总结.docx",
    ]
    assert (dest / "照片" / "1.jpg").read_bytes() == b"jpeg-1"
    assert_contained(result, dest)


def test_gbk_names_without_utf8_flag(tmp_path: Path) -> None:
    archive = zip_raw_names(
        tmp_path / "gbk.zip",
        [
            ("西渡镇\\活动照片\\图1.jpg".encode("gbk"), b"one"),
            ("西渡镇\\工作总结.docx".encode("gbk"), b"two"),
        ],
    )
    with zipfile.ZipFile(archive) as zf:
        assert not any(info.flag_bits & 0x800 for info in zf.infolist())
    dest = tmp_path / "out"
    result = expand(archive, "西渡镇.zip", dest)
    assert names(result) == [
        "西渡镇.zip/西渡镇/活动照片/图1.jpg",
        "西渡镇.zip/西渡镇/工作总结.docx",
    ]
    assert (dest / "西渡镇" / "活动照片" / "图1.jpg").read_bytes() == b"one"
    assert result.problems == ()  # backslashes from Windows tools are separators, not attacks


def test_names_are_nfc(tmp_path: Path) -> None:
    archive = zip_file(tmp_path / "nfd.zip", {"cafe\u0301/e\u0301.txt": b"x"})  # macOS writes NFD
    result = expand(archive, "nfd.zip", tmp_path / "out")
    assert names(result) == ["nfd.zip/caf\u00e9/\u00e9.txt"]
    assert (tmp_path / "out" / "caf\u00e9" / "\u00e9.txt").is_file()


def test_utf8_names_without_flag_stay_utf8(tmp_path: Path) -> None:
    archive = zip_raw_names(tmp_path / "mac.zip", [("照片/图.jpg".encode(), b"x")])
    assert names(expand(archive, "mac.zip", tmp_path / "out")) == ["mac.zip/照片/图.jpg"]


def test_traversal_names_are_neutralised_and_reported(tmp_path: Path) -> None:
    archive = zip_file(
        tmp_path / "evil.zip",
        {
            "../../escaped.txt": b"1",
            "/tmp/absolute.txt": b"2",
            "C:\\Windows\\drive.txt": b"3",
            "..\\..\\back.txt": b"4",
            "ok/../../../deep.txt": b"5",
            "fine.txt": b"6",
        },
    )
    dest = tmp_path / "sandbox" / "out"
    dest.parent.mkdir()
    before = snapshot(tmp_path, dest)
    result = expand(archive, "evil.zip", dest)
    assert snapshot(tmp_path, dest) == before  # nothing appeared outside dest
    assert not Path("/tmp/absolute.txt").exists() or Path("/tmp/absolute.txt").read_bytes() != b"2"
    assert_contained(result, dest)
    assert codes(result).count("traversal") == 5
    # Policy: the member is still extracted, under its neutralised name inside dest.
    assert sorted(names(result)) == sorted(
        [
            "evil.zip/escaped.txt",
            "evil.zip/tmp/absolute.txt",
            "evil.zip/Windows/drive.txt",
            "evil.zip/back.txt",
            "evil.zip/ok/deep.txt",
            "evil.zip/fine.txt",
        ]
    )
    assert (dest / "tmp" / "absolute.txt").read_bytes() == b"2"
    assert all("（" in p.message for p in result.problems)


def test_symlinks_and_special_entries_are_never_created(tmp_path: Path) -> None:
    archive = zip_with_symlink(tmp_path / "links.zip")
    dest = tmp_path / "out"
    before = snapshot(tmp_path, dest)
    result = expand(archive, "links.zip", dest)
    assert snapshot(tmp_path, dest) == before
    assert_contained(result, dest)
    assert codes(result) == ["link", "link"]
    assert "links.zip/ok.txt" in names(result)
    # The member "under" the link name lands in a real directory inside dest.
    assert (dest / "link-to-etc" / "passwd-copy.txt").is_file()
    assert not (dest / "link-to-etc").is_symlink()


def test_windows_invalid_names_and_collisions(tmp_path: Path) -> None:
    archive = zip_file(
        tmp_path / "names.zip",
        {
            'a<b>:c|d?*".txt': b"1",
            "CON.txt": b"2",
            "trailing. ": b"3",
            "dup.txt": b"4",
            "x": b"5",
            "x/inside.txt": b"6",
        },
    )
    with zipfile.ZipFile(archive, "a") as zf, pytest.warns(UserWarning):
        zf.writestr("dup.txt", b"7")  # a second member with the same name
    dest = tmp_path / "out"
    result = expand(archive, "names.zip", dest)
    on_disk = sorted(str(m.path.relative_to(dest)) for m in result.members)
    assert on_disk == sorted(
        [
            "a_b__c_d___.txt",
            "_CON.txt",
            "trailing",
            "dup.txt",
            "x",
            "x (2)/inside.txt",
            "dup (2).txt",
        ]
    )
    assert [m.path.read_bytes() for m in result.members if m.name.endswith("dup.txt")] == [
        b"4",
        b"7",
    ]
    assert_contained(result, dest)


def test_safe_component_caps_length_and_keeps_extension() -> None:
    long = "很" * 200 + ".jpg"
    safe = safe_component(long)
    assert safe.endswith(".jpg")
    assert len(safe.encode()) <= 200
    assert safe_component("..", fallback="_") == "_"
    assert safe_component("nul") == "_nul"


def test_encrypted_zip(tmp_path: Path) -> None:
    seven = require("7zz")
    (tmp_path / "secret.txt").write_bytes(b"secret")
    (tmp_path / "plain.txt").write_bytes(b"plain")
    whole = tmp_path / "enc.zip"
    subprocess.run(
        [seven, "a", "-pSECRET", "-tzip", str(whole), str(tmp_path / "secret.txt")],
        check=True,
        capture_output=True,
    )
    result = expand(whole, "enc.zip", tmp_path / "out1")
    assert not result.expanded
    assert codes(result) == ["encrypted"]
    assert result.problems[0].name == "enc.zip"
    assert result.problems[0].message == "压缩包已加密，无法解压，请人工处理"

    # One encrypted member next to a plain one: the plain one still comes out.
    subprocess.run(
        [seven, "a", "-tzip", str(whole), str(tmp_path / "plain.txt")],
        check=True,
        capture_output=True,
    )
    mixed = expand(whole, "enc.zip", tmp_path / "out2")
    assert mixed.expanded
    assert names(mixed) == ["enc.zip/plain.txt"]
    assert [(p.code, p.name) for p in mixed.problems] == [("encrypted", "enc.zip/secret.txt")]
    assert not (tmp_path / "out2" / "secret.txt").exists()


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ~1 MB zip holding 1.1 GiB of zeros (written in chunks) between two normal members."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("before.txt", b"before")
        with zf.open("zeros.bin", "w", force_zip64=True) as fh:
            chunk = bytes(MiB)
            for _ in range(1100):
                fh.write(chunk)
        zf.writestr("after.txt", b"after")
    assert path.stat().st_size < 2 * MiB
    return path


def test_zip_bomb_is_stopped_while_streaming(tmp_path: Path, zip_bomb: Path) -> None:
    dest = tmp_path / "out"
    before = snapshot(tmp_path, dest)
    result = expand(zip_bomb, "bomb.zip", dest)
    assert result.expanded
    assert names(result) == ["bomb.zip/before.txt", "bomb.zip/after.txt"]
    assert [(p.code, p.name) for p in result.problems] == [("bomb", "bomb.zip/zeros.bin")]
    assert not (dest / "zeros.bin").exists()  # the partial file is deleted
    biggest = max(f.stat().st_size for f in dest.rglob("*") if f.is_file())
    assert biggest < 256 * MiB
    assert snapshot(tmp_path, dest) == before


def test_zip_bomb_by_member_and_total_caps(tmp_path: Path) -> None:
    noise = os.urandom(3 * MiB)  # incompressible: only the size caps can stop it
    archive = zip_file(tmp_path / "big.zip", {"a.bin": noise, "small.txt": b"s", "b.bin": noise})
    tight = ArchiveLimits(max_member_bytes=2 * MiB)
    result = expand(archive, "big.zip", tmp_path / "o1", tight)
    assert names(result) == ["big.zip/small.txt"]
    assert codes(result) == ["member_too_large", "member_too_large"]
    assert "2 MB" in result.problems[0].message
    assert sorted(p.name for p in (tmp_path / "o1").iterdir()) == ["small.txt"]

    total = ArchiveLimits(max_total_bytes=4 * MiB)
    result = expand(archive, "big.zip", tmp_path / "o2", total)
    assert names(result) == ["big.zip/a.bin", "big.zip/small.txt"]
    assert codes(result) == ["bomb"]  # the total cap stops the rest of the expansion
    assert sum(f.stat().st_size for f in (tmp_path / "o2").rglob("*")) <= 4 * MiB


def test_too_many_members(tmp_path: Path) -> None:
    archive = zip_file(tmp_path / "many.zip", {f"{i}.txt": b"x" for i in range(5)})
    result = expand(archive, "many.zip", tmp_path / "out", ArchiveLimits(max_members=3))
    assert names(result) == ["many.zip/0.txt", "many.zip/1.txt", "many.zip/2.txt"]
    assert codes(result) == ["too_many_members"]


def test_member_with_bad_crc_is_corrupt_others_survive(tmp_path: Path) -> None:
    archive = zip_file(
        tmp_path / "crc.zip", {"good.txt": b"good", "bad.txt": b"BADBADBAD"}, zipfile.ZIP_STORED
    )
    blob = archive.read_bytes().replace(b"BADBADBAD", b"BADXADBAD")
    archive.write_bytes(blob)
    result = expand(archive, "crc.zip", tmp_path / "out")
    assert names(result) == ["crc.zip/good.txt"]
    assert [(p.code, p.name) for p in result.problems] == [("corrupt", "crc.zip/bad.txt")]
    assert not (tmp_path / "out" / "bad.txt").exists()


def test_truncated_and_non_archives(tmp_path: Path) -> None:
    archive = zip_file(tmp_path / "a.zip", {f"{i}.bin": os.urandom(2000) for i in range(3)})
    cut = tmp_path / "cut.zip"
    cut.write_bytes(archive.read_bytes()[:-100])
    result = expand(cut, "cut.zip", tmp_path / "o1")
    assert (result.expanded, codes(result), result.members) == (False, ["corrupt"], ())

    text = tmp_path / "not.zip"
    text.write_bytes(b"plain text, not an archive")
    result = expand(text, "not.zip", tmp_path / "o2")
    assert (result.expanded, codes(result)) == (False, ["unsupported"])


def test_mac_resource_forks_are_skipped(tmp_path: Path) -> None:
    archive = zip_file(
        tmp_path / "mac.zip",
        {"照片/1.jpg": b"1", "__MACOSX/照片/._1.jpg": b"fork", "照片/.DS_Store": b"ds"},
    )
    result = expand(archive, "mac.zip", tmp_path / "out")
    assert names(result) == ["mac.zip/照片/1.jpg"]
    assert result.problems == ()


# ---- nesting ----------------------------------------------------------------------------


def test_nested_archives_expand_with_the_chain_in_names(tmp_path: Path) -> None:
    inner = seven_zip(tmp_path / "内层.7z", {"a.docx": b"docx", "图/b.jpg": b"jpg"})
    outer = zip_file(tmp_path / "外层.zip", {"内层.7z": inner.read_bytes(), "说明.txt": b"readme"})
    dest = tmp_path / "out"
    result = expand(outer, "外层.zip", dest)
    assert result.expanded
    assert sorted(names(result)) == sorted(
        ["外层.zip/内层.7z/a.docx", "外层.zip/内层.7z/图/b.jpg", "外层.zip/说明.txt"]
    )
    by_name = {m.name: m for m in result.members}
    assert by_name["外层.zip/内层.7z/a.docx"].path.read_bytes() == b"docx"
    assert not any(m.name.endswith("内层.7z") for m in result.members)
    leftovers = [p.name for p in dest.rglob("*") if p.is_file()]
    assert sorted(leftovers) == ["a.docx", "b.jpg", "说明.txt"]  # the nested .7z is gone
    assert_contained(result, dest)


def test_depth_limit_keeps_the_innermost_archive_as_a_member(tmp_path: Path) -> None:
    level3 = zip_file(tmp_path / "l3.zip", {"deep.txt": b"deep"})
    level2 = zip_file(tmp_path / "l2.zip", {"l3.zip": level3.read_bytes(), "two.txt": b"2"})
    level1 = zip_file(tmp_path / "l1.zip", {"l2.zip": level2.read_bytes()})
    result = expand(level1, "l1.zip", tmp_path / "out", ArchiveLimits(max_depth=2))
    assert sorted(names(result)) == ["l1.zip/l2.zip/l3.zip", "l1.zip/l2.zip/two.txt"]
    assert [(p.code, p.name) for p in result.problems] == [("too_deep", "l1.zip/l2.zip/l3.zip")]
    kept = {m.name: m for m in result.members}["l1.zip/l2.zip/l3.zip"]
    assert zipfile.is_zipfile(kept.path)

    full = expand(level1, "l1.zip", tmp_path / "out2")  # default depth 3: all levels open
    assert "l1.zip/l2.zip/l3.zip/deep.txt" in names(full)


def test_broken_nested_archive_is_kept_as_a_member(tmp_path: Path) -> None:
    outer = zip_file(tmp_path / "o.zip", {"broken.zip": b"PK\x03\x04" + os.urandom(100)})
    result = expand(outer, "o.zip", tmp_path / "out")
    assert names(result) == ["o.zip/broken.zip"]
    assert codes(result) == ["corrupt"]
    assert result.members[0].path.is_file()


def test_docx_inside_zip_is_not_expanded(tmp_path: Path) -> None:
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    outer = zip_file(tmp_path / "o.zip", {"总结.docx": docx.getvalue()})
    assert names(expand(outer, "o.zip", tmp_path / "out")) == ["o.zip/总结.docx"]


# ---- 7z ---------------------------------------------------------------------------------


def test_7z_encrypted(tmp_path: Path) -> None:
    archive = seven_zip(tmp_path / "enc.7z", {"a.txt": b"secret"}, password="SECRET")
    result = expand(archive, "enc.7z", tmp_path / "out")
    assert (result.expanded, codes(result)) == (False, ["encrypted"])

    seven = require("7zz")
    (tmp_path / "b.txt").write_bytes(b"data")
    visible = tmp_path / "names-visible.7z"  # encrypted data, readable names
    subprocess.run(
        [seven, "a", "-pSECRET", "-mhe=off", str(visible), str(tmp_path / "b.txt")],
        check=True,
        capture_output=True,
    )
    result = expand(visible, "names-visible.7z", tmp_path / "out2")
    assert (result.expanded, codes(result)) == (False, ["encrypted"])


def test_7z_bomb_in_a_solid_block_and_in_separate_blocks(tmp_path: Path) -> None:
    seven = require("7zz")
    src = tmp_path / "src"
    src.mkdir()
    (src / "1-first.txt").write_bytes(b"first")
    with (src / "2-zeros.bin").open("wb") as fh:
        for _ in range(40):
            fh.write(bytes(MiB))
    (src / "3-last.txt").write_bytes(b"last")
    solid = tmp_path / "solid.7z"
    split = tmp_path / "split.7z"
    for target, option in ((solid, "-ms=on"), (split, "-ms=off")):
        subprocess.run(
            [seven, "a", option, str(target), "1-first.txt", "2-zeros.bin", "3-last.txt"],
            check=True,
            capture_output=True,
            cwd=src,
        )
    result = expand(solid, "solid.7z", tmp_path / "o1")
    assert names(result) == ["solid.7z/1-first.txt"]
    assert [(p.code, p.name) for p in result.problems] == [
        ("bomb", "solid.7z/2-zeros.bin"),
        ("bomb", "solid.7z/3-last.txt"),  # same solid block: not decompressed again
    ]
    result = expand(split, "split.7z", tmp_path / "o2")
    assert names(result) == ["split.7z/1-first.txt", "split.7z/3-last.txt"]
    assert [(p.code, p.name) for p in result.problems] == [("bomb", "split.7z/2-zeros.bin")]
    assert (tmp_path / "o2" / "3-last.txt").read_bytes() == b"last"
    assert not (tmp_path / "o2" / "2-zeros.bin").exists()


def test_7z_folders_empty_files_and_duplicates(tmp_path: Path) -> None:
    archive = tmp_path / "d.7z"
    with py7zr.SevenZipFile(archive, "w") as sz:
        sz.writestr(b"one", "照片/1.jpg")
        sz.writestr(b"", "empty.txt")
        sz.writestr(b"first", "dup.txt")
        sz.writestr(b"second", "dup.txt")
    result = expand(archive, "d.7z", tmp_path / "out")
    got = {m.name + "|" + m.path.name: m.path.read_bytes() for m in result.members}
    assert got == {
        "d.7z/照片/1.jpg|1.jpg": b"one",
        "d.7z/empty.txt|empty.txt": b"",
        "d.7z/dup.txt|dup.txt": b"first",
        "d.7z/dup.txt|dup (2).txt": b"second",
    }
    assert result.problems == ()


def test_corrupt_7z(tmp_path: Path) -> None:
    archive = seven_zip(tmp_path / "x.7z", {"a.bin": os.urandom(5000)})
    cut = tmp_path / "cut.7z"
    cut.write_bytes(archive.read_bytes()[:-40])
    result = expand(cut, "cut.7z", tmp_path / "out")
    assert (result.expanded, codes(result)) == (False, ["corrupt"])


# ---- tar / gz ---------------------------------------------------------------------------


def test_tar_gz_with_links_devices_and_traversal(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:

        def add(
            name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = ""
        ) -> None:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = link
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tf.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

        add("docs/report.txt", b"report")
        add("docs/sym", kind=tarfile.SYMTYPE, link="/etc/passwd")
        add("docs/hard", kind=tarfile.LNKTYPE, link="docs/report.txt")
        add("docs/dev", kind=tarfile.CHRTYPE)
        add("docs/fifo", kind=tarfile.FIFOTYPE)
        add("../../outside.txt", b"escape")
        add("中文.txt".encode().decode("utf-8"), b"zh")
    dest = tmp_path / "out"
    before = snapshot(tmp_path, dest)
    result = expand(archive, "a.tar.gz", dest)
    assert snapshot(tmp_path, dest) == before
    assert_contained(result, dest)
    assert names(result) == [
        "a.tar.gz/docs/report.txt",
        "a.tar.gz/outside.txt",
        "a.tar.gz/中文.txt",
    ]
    assert codes(result) == ["link", "link", "link", "link", "traversal"]


def test_bare_gz(tmp_path: Path) -> None:
    archive = tmp_path / "总结.docx.gz"
    archive.write_bytes(gzip.compress(b"not really a docx"))
    result = expand(archive, "总结.docx.gz", tmp_path / "out")
    assert names(result) == ["总结.docx.gz/总结.docx"]


# ---- rar (shared fixtures) --------------------------------------------------------------


STEST = "".join(f"{i:03d}\n" for i in range(512)).encode()


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("rar3-solid.rar", {"stest1.txt": STEST, "stest2.txt": STEST}),
        ("rar5-solid.rar", {"stest1.txt": STEST, "stest2.txt": STEST}),
        (
            "rar3-subdirs.rar",
            {
                "sub/dir2/file2.txt": b"file2\n",
                "sub/with space/long fn.txt": b"long fn\n",
                "sub/üȵĩöḋè/file.txt": b"file\n",
                "sub/dir1/file1.txt": b"file1\n",
            },
        ),
        (
            "rar5-subdirs.rar",
            {
                "sub/dir2/file2.txt": b"file2\n",
                "sub/with space/long fn.txt": b"long fn\n",
                "sub/üȵĩöḋè/file.txt": b"file\n",
                "sub/dir1/file1.txt": b"file1\n",
            },
        ),
        ("unicode.rar", {"уииоотивл.txt": b"1\n", "𝐀𝐁𝐁𝐂.txt": b"1\n"}),
        ("unicode2.rar", {"уииоотивл.txt": b"1\n", "𝐀𝐁𝐁𝐂.txt": b"1\n"}),
    ],
)
def test_rar_fixtures(tmp_path: Path, rar_dir: Path, fixture: str, expected: dict) -> None:
    require("unar")
    dest = tmp_path / "out"
    result = expand(rar_dir / fixture, fixture, dest)
    assert result.expanded
    assert result.problems == ()
    got = {m.name.split("/", 1)[1]: m.path.read_bytes() for m in result.members}
    assert got == expected
    assert_contained(result, dest)


def test_rar_symlink_traversal(tmp_path: Path, rar_dir: Path) -> None:
    require("unar")
    dest = tmp_path / "sandbox" / "out"
    dest.parent.mkdir()
    before = snapshot(tmp_path, dest)
    result = expand(rar_dir / "rar5-evil-symlink-traversal.rar", "evil.rar", dest)
    assert snapshot(tmp_path, dest) == before  # no pwned.txt next to dest
    assert_contained(result, dest)
    assert [(p.code, p.name) for p in result.problems] == [("link", "evil.rar/up")]
    assert names(result) == ["evil.rar/up/pwned.txt"]
    assert (dest / "up").is_dir() and not (dest / "up").is_symlink()


@pytest.mark.parametrize("fixture", ["rar5-psw.rar", "rar5-hpsw.rar"])
def test_rar_with_password(tmp_path: Path, rar_dir: Path, fixture: str) -> None:
    require("unar")
    result = expand(rar_dir / fixture, fixture, tmp_path / "out")
    assert not result.expanded
    assert [(p.code, p.name) for p in result.problems] == [("encrypted", fixture)]
    assert list((tmp_path / "out").iterdir()) == []


def test_rar_inside_zip(tmp_path: Path, rar_dir: Path) -> None:
    require("unar")
    outer = zip_file(
        tmp_path / "材料.zip", {"附件/照片.rar": (rar_dir / "rar5-subdirs.rar").read_bytes()}
    )
    result = expand(outer, "材料.zip", tmp_path / "out")
    assert "材料.zip/附件/照片.rar/sub/dir1/file1.txt" in names(result)
    assert len(result.members) == 4


def test_capped_member_ends_a_compressed_tar(tmp_path: Path) -> None:
    archive = tmp_path / "t.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for name, data in (("a.txt", b"a"), ("big.bin", os.urandom(3 * MiB)), ("z.txt", b"z")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    result = expand(archive, "t.tar.gz", tmp_path / "out", ArchiveLimits(max_member_bytes=MiB))
    assert names(result) == ["t.tar.gz/a.txt"]
    assert [(p.code, p.name) for p in result.problems] == [
        ("member_too_large", "t.tar.gz/big.bin"),
        ("bomb", "t.tar.gz"),  # the rest of the stream is not decompressed
    ]
