"""The fixture builders make what they claim: real files, honest mail bytes, a sample inbox."""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import io
import re
import shutil
import struct
import subprocess
import zipfile
import zlib
from email import policy
from email.parser import BytesParser

import pytest
from PIL import Image

from tests.support import files as F
from tests.support import mails as M

needs_soffice = pytest.mark.skipif(not F.have_soffice(), reason="LibreOffice (soffice) missing")
needs_ffmpeg = pytest.mark.skipif(not F.have_ffmpeg(), reason="ffmpeg missing")
needs_cjk = pytest.mark.skipif(not F.have_cjk_font(), reason="no CJK font (fonts-wqy-microhei)")


def parse(raw: bytes, pol=policy.default):
    return BytesParser(policy=pol).parsebytes(raw)


def header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def raw_header(raw: bytes, name: str) -> bytes:
    """The unfolded raw value of the first ``name`` header of a header block (bytes as sent)."""
    pattern = rb"^" + name.encode() + rb": (.*?)\r\n(?=\S)"
    match = re.search(pattern, header_block(raw) + b"\r\nX", re.M | re.S | re.I)
    assert match, f"no {name} header"
    return re.sub(rb"\r\n[ \t]", b" ", match.group(1))


WORD = re.compile(rb"=\?([^?]+)\?([BbQq])\?([^?]*)\?=")


def word_bytes(value: bytes) -> list[tuple[str, bytes]]:
    out = []
    for charset, enc, payload in WORD.findall(value):
        data = base64.b64decode(payload) if enc in b"Bb" else _q_decode(payload)
        out.append((charset.decode(), data))
    return out


def _q_decode(payload: bytes) -> bytes:
    return re.sub(rb"=([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]), payload).replace(
        b"_", b" "
    )


# ---------------------------------------------------------------------------------------------
# pictures
# ---------------------------------------------------------------------------------------------


def test_jpeg_is_a_realistic_photo():
    data = F.jpeg()
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG" and img.size == (1200, 900)
    assert 80_000 < len(data) < 400_000
    assert F.jpeg() == data  # deterministic
    assert F.jpeg(seed=1) != data


def test_jpeg_exif_has_the_capture_time():
    data = F.jpeg(320, 240, exif_datetime="2020:12:18 09:30:12")
    exif = Image.open(io.BytesIO(data)).getexif()
    assert exif[0x0132] == "2020:12:18 09:30:12"
    assert exif.get_ifd(0x8769)[0x9003] == "2020:12:18 09:30:12"


@pytest.mark.parametrize(("builder", "fmt"), [(F.png, "PNG"), (F.webp, "WEBP"), (F.heic, "HEIF")])
def test_other_picture_formats_open_with_the_size_asked(builder, fmt):
    import pillow_heif

    pillow_heif.register_heif_opener()
    data = builder(320, 240, seed=5)
    img = Image.open(io.BytesIO(data))
    assert img.format == fmt and img.size == (320, 240)
    assert builder(320, 240, seed=5) == data


def test_heic_has_the_iso_bmff_brand():
    assert F.heic(160, 120)[4:12] in (b"ftypheic", b"ftypmif1")


def test_signature_logo_and_emoji_are_small():
    logo = F.tiny_logo_png()
    assert Image.open(io.BytesIO(logo)).size == (120, 40) and len(logo) < 5_000
    emoji = F.tiny_emoji_gif()
    assert Image.open(io.BytesIO(emoji)).format == "GIF" and len(emoji) < 2_000


# ---------------------------------------------------------------------------------------------
# documents
# ---------------------------------------------------------------------------------------------


def test_docx_has_title_paragraphs_table_images_and_a_stale_core_title():
    import docx

    data = F.docx(
        ["正文第一段。", "正文第二段。"],
        title="西渡镇2020年\n禁毒志愿服务工作总结",
        table=[["姓名", "单位"], ["张三", "西渡镇"]],
        images=2,
        core_title="关于报送2019年度材料的通知",
    )
    document = docx.Document(io.BytesIO(data))
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts[:3] == ["西渡镇2020年", "禁毒志愿服务工作总结", "正文第一段。"]
    assert document.core_properties.title == "关于报送2019年度材料的通知"
    assert document.tables[0].cell(1, 0).text == "张三"
    assert len(document.inline_shapes) == 2
    assert document.core_properties.created == F.FIXED_TIME_UTC


def test_docx_is_byte_stable():
    args = (["正文。"], "标题")
    data = F.docx(*args)
    assert F.docx(*args) == data
    stamps = {i.date_time for i in zipfile.ZipFile(io.BytesIO(data)).infolist()}
    assert stamps == {(2020, 12, 20, 9, 30, 0)}


def test_corrupt_docx_looks_like_a_zip_but_does_not_open():
    import docx

    data = F.corrupt_docx()
    assert data.startswith(b"PK\x03\x04")
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(data))
    with pytest.raises(Exception):  # noqa: B017 - python-docx raises various errors
        docx.Document(io.BytesIO(data))


@needs_soffice
def test_doc_is_a_word97_file_with_the_text():
    data = F.doc(["今年以来，我镇认真开展禁毒宣传。"], title="演陂镇禁毒工作总结")
    assert data.startswith(bytes.fromhex("d0cf11e0a1b11ae1"))  # OLE2 compound file
    assert "演陂镇禁毒工作总结".encode("utf-16-le") in data
    assert F.wps(["今年以来，我镇认真开展禁毒宣传。"], title="演陂镇禁毒工作总结") == data


@needs_soffice
@needs_cjk
def test_pdf_text_has_an_extractable_chinese_text_layer():
    import pypdf

    data = F.pdf_text(["今年以来，我镇认真开展禁毒宣传。"], title="西渡镇禁毒工作总结")
    text = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "西渡镇禁毒工作总结" in re.sub(r"\s", "", text)


def test_pdf_scanned_has_pages_but_no_text():
    import pypdf

    data = F.pdf_scanned(pages=2)
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    assert all(not page.extract_text().strip() for page in reader.pages)
    assert reader.pages[0]["/Resources"]["/XObject"]
    assert F.pdf_scanned(pages=2) == data


# ---------------------------------------------------------------------------------------------
# videos
# ---------------------------------------------------------------------------------------------

MAGIC = {
    "mp4": lambda d: d[4:8] == b"ftyp",
    "mov": lambda d: d[4:12] == b"ftypqt  ",
    "avi": lambda d: d[:4] == b"RIFF" and d[8:12] == b"AVI ",
    "mkv": lambda d: d[:4] == bytes.fromhex("1a45dfa3"),
    "wmv": lambda d: d[:16] == bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"),
    "3gp": lambda d: d[4:11] == b"ftyp3gp",
}


@needs_ffmpeg
@pytest.mark.parametrize("container", sorted(MAGIC))
def test_videos_have_their_container_magic(container):
    data = F.video(container)
    assert MAGIC[container](data)
    assert 1_000 < len(data) < 200_000


@needs_ffmpeg
def test_named_video_builders():
    assert F.mp4() == F.video("mp4")
    assert MAGIC["mov"](F.mov()) and MAGIC["avi"](F.avi()) and MAGIC["mkv"](F.mkv())
    assert MAGIC["wmv"](F.wmv()) and MAGIC["3gp"](F.threegp())


@needs_ffmpeg
def test_mp4_is_bit_exact_without_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(F, "CACHE_DIR", tmp_path / "a")
    first = F.mp4()
    monkeypatch.setattr(F, "CACHE_DIR", tmp_path / "b")
    assert F.mp4() == first


def _top_level_boxes(data: bytes) -> list[bytes]:
    boxes, pos = [], 0
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        boxes.append(kind)
        pos += size
    assert pos == len(data)
    return boxes


@needs_ffmpeg
def test_big_video_is_a_valid_mp4_of_the_size_asked(tmp_path):
    data = F.big_video(3)
    assert len(data) == 3 * F.MiB
    assert _top_level_boxes(data)[-1] == b"free" and b"moov" in _top_level_boxes(data)
    path = F.write_big_video(tmp_path / "big.mp4", 3)
    assert path.read_bytes() == data


# ---------------------------------------------------------------------------------------------
# archives
# ---------------------------------------------------------------------------------------------

GBK_MEMBERS = {
    "西渡镇活动照片/": b"",
    "西渡镇活动照片/禁毒宣传1.jpg": b"jpeg-1",
    "西渡镇活动照片/禁毒宣传2.jpg": b"jpeg-2",
}


def test_gbk_zip_has_no_utf8_flag_and_decodes_with_gb18030():
    data = F.zip_archive(GBK_MEMBERS, name_encoding="gbk")
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert all(not (i.flag_bits & 0x800) for i in infos)
    assert infos[1].filename != "西渡镇活动照片/禁毒宣传1.jpg"  # cp437 mojibake by default
    archive = zipfile.ZipFile(io.BytesIO(data), metadata_encoding="gb18030")
    assert archive.namelist() == list(GBK_MEMBERS)
    assert archive.read("西渡镇活动照片/禁毒宣传2.jpg") == b"jpeg-2"
    assert archive.testzip() is None
    assert "西渡镇".encode("gbk") in data


def test_utf8_zip_sets_the_flag_and_noflag_variant_does_not():
    flagged = zipfile.ZipFile(io.BytesIO(F.zip_archive({"照片.jpg": b"x", "a.txt": b"y"})))
    assert [bool(i.flag_bits & 0x800) for i in flagged.infolist()] == [True, False]
    assert flagged.namelist()[0] == "照片.jpg"
    noflag = F.zip_archive({"照片.jpg": b"x"}, name_encoding="utf-8-noflag")
    info = zipfile.ZipFile(io.BytesIO(noflag)).infolist()[0]
    assert not info.flag_bits & 0x800
    assert info.filename.encode("cp437") == "照片.jpg".encode()


def test_unicode_path_extra_field():
    data = F.zip_archive({"照片.jpg": b"x"}, name_encoding="gbk", unicode_path_extra=True)
    extra = zipfile.ZipFile(io.BytesIO(data)).infolist()[0].extra
    assert extra[:2] == struct.pack("<H", 0x7075) and extra.endswith("照片.jpg".encode())


def test_zip_encrypted_uses_zipcrypto():
    data = F.zip_encrypted(password="123456")
    archive = zipfile.ZipFile(io.BytesIO(data), metadata_encoding="gb18030")
    assert all(i.flag_bits & 0x1 for i in archive.infolist())
    with pytest.raises(RuntimeError, match="encrypted"):
        archive.read("说明.txt")
    assert archive.read("说明.txt", pwd=b"123456") == "密码见短信".encode()
    jpg = archive.read("活动照片/照片1.jpg", pwd=b"123456")
    assert Image.open(io.BytesIO(jpg)).format == "JPEG"
    with pytest.raises(RuntimeError, match="Bad password"):
        archive.read("说明.txt", pwd=b"wrong")


@pytest.mark.skipif(shutil.which("7zz") is None, reason="7zz missing")
def test_zip_encrypted_is_accepted_by_7zip(tmp_path):
    path = tmp_path / "enc.zip"
    path.write_bytes(F.zip_encrypted(password="123456"))
    result = subprocess.run(
        ["7zz", "t", "-p123456", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "Everything is Ok" in result.stdout


def test_zip_traversal_members():
    archive = zipfile.ZipFile(io.BytesIO(F.zip_traversal()))
    assert archive.namelist() == [
        "../../evil.txt",
        "/etc/evil.txt",
        "..\\..\\evil.txt",
        "活动照片/safe.jpg",
    ]
    assert Image.open(io.BytesIO(archive.read("活动照片/safe.jpg"))).format == "JPEG"
    link = zipfile.ZipFile(io.BytesIO(F.zip_traversal(symlink=True))).getinfo("link")
    assert (link.external_attr >> 16) & 0o170000 == 0o120000


def _inflated_size(data: bytes, info: zipfile.ZipInfo, cap: int) -> int:
    """Inflate a member's raw stream, counting output, stopping once ``cap`` bytes came out."""
    name_len, extra_len = struct.unpack(
        "<HH", data[info.header_offset + 26 : info.header_offset + 30]
    )
    start = info.header_offset + 30 + name_len + extra_len
    stream = data[start : start + info.compress_size]
    inflater, total, pos = zlib.decompressobj(-15), 0, 0
    while total < cap:
        chunk = inflater.decompress(stream[pos : pos + 65536], 16 * F.MiB)
        pos += 65536
        total += len(chunk)
        while inflater.unconsumed_tail and total < cap:
            chunk = inflater.decompress(inflater.unconsumed_tail, 16 * F.MiB)
            total += len(chunk)
        if inflater.eof or (pos >= len(stream) and not inflater.unconsumed_tail):
            break
    return total


def test_zip_bomb_is_small_but_expands_beyond_1_gib():
    data = F.zip_bomb()
    assert len(data) < 2 * F.MiB
    archive = zipfile.ZipFile(io.BytesIO(data))
    bomb, safe = archive.infolist()
    assert bomb.file_size > F.GiB
    assert bomb.file_size / len(data) > 1000
    assert _inflated_size(data, bomb, cap=2 * F.GiB) == bomb.file_size
    assert Image.open(io.BytesIO(archive.read(safe))).format == "JPEG"


def test_zip_bomb_crc_matches_the_full_expansion():
    data = F.zip_bomb(size=64 * F.MiB + 123, with_safe_member=False)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    assert archive.read(archive.infolist()[0]) == bytes(64 * F.MiB + 123)


def test_lying_zip_bomb_declares_1_kib_yet_inflates_far_beyond():
    data = F.zip_bomb(lie=True)
    info = zipfile.ZipFile(io.BytesIO(data)).infolist()[0]
    assert info.file_size == F.KiB
    assert _inflated_size(data, info, cap=64 * F.MiB) >= 64 * F.MiB


def test_nested_zip_bomb_is_tiny():
    data = F.zip_bomb_nested(depth=2, fanout=10)
    assert len(data) < 100_000
    outer = zipfile.ZipFile(io.BytesIO(data))
    assert len(outer.namelist()) == 10
    level1 = zipfile.ZipFile(io.BytesIO(outer.read(outer.namelist()[0])))
    leaf = zipfile.ZipFile(io.BytesIO(level1.read(level1.namelist()[0])))
    assert leaf.infolist()[0].file_size == F.GiB


def test_sevenzip_is_deterministic_and_readable():
    import py7zr

    members = {"活动照片/照片1.jpg": F.jpeg(160, 120), "说明.txt": "说明".encode()}
    data = F.sevenzip(members)
    assert data.startswith(b"7z\xbc\xaf\x27\x1c") and F.sevenzip(members) == data
    with py7zr.SevenZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.getnames()) == sorted(members)
        assert not archive.needs_password()


def test_sevenzip_encrypted_needs_the_password():
    import py7zr

    data = F.sevenzip_encrypted(password="123456")
    with py7zr.SevenZipFile(io.BytesIO(data)) as archive:
        assert archive.needs_password()
        assert archive.getnames() == ["活动照片/照片1.jpg"]  # names visible, data encrypted
    hidden = F.sevenzip_encrypted(password="123456", header_encryption=True)
    with pytest.raises(py7zr.PasswordRequired):
        py7zr.SevenZipFile(io.BytesIO(hidden))
    with py7zr.SevenZipFile(io.BytesIO(hidden), password="123456") as archive:
        assert archive.getnames() == ["活动照片/照片1.jpg"]


def test_nested_zip_is_zip_in_zip_in_7z(tmp_path):
    import py7zr

    with py7zr.SevenZipFile(io.BytesIO(F.nested_zip())) as archive:
        assert archive.getnames() == ["材料.zip"]
        archive.extractall(path=tmp_path)
    middle = zipfile.ZipFile(tmp_path / "材料.zip")
    assert set(middle.namelist()) == {"材料/照片.zip", "材料/总结报告.docx"}
    inner = zipfile.ZipFile(io.BytesIO(middle.read("材料/照片.zip")), metadata_encoding="gbk")
    assert "活动照片/禁毒宣传1.jpg" in inner.namelist()
    assert not any(i.flag_bits & 0x800 for i in inner.infolist())


@pytest.mark.skipif(not (F.shared_dir() / "fixtures" / "rar").is_dir(), reason="no shared/")
def test_rar_sample_reads_the_shared_fixture():
    assert F.rar_sample("rar5-subdirs.rar").startswith(b"Rar!\x1a\x07\x01\x00")
    assert F.rar_sample("rar3-solid.rar").startswith(b"Rar!\x1a\x07\x00")
    with pytest.raises(FileNotFoundError):
        F.rar_sample("nope.rar")


# ---------------------------------------------------------------------------------------------
# mails
# ---------------------------------------------------------------------------------------------


def test_mail_is_crlf_and_deterministic():
    mail = M.Mail(subject="西渡镇材料", text="正文", attachments=[M.Att("照片.jpg", b"x")])
    raw = mail.to_bytes()
    assert raw == mail.to_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    msg = parse(raw)
    assert msg["Message-ID"] == f"<{mail.message_id_value()}>"
    assert msg["Message-ID"].startswith("<tencent_")


@pytest.mark.parametrize("charset", ["utf-8", "gbk", "gb2312", "gb18030"])
@pytest.mark.parametrize("style", ["b", "q"])
def test_subject_encoded_words_in_each_charset(charset, style):
    subject = "西渡镇2020年度禁毒志愿服务活动材料（一）补充报送的照片和视频"
    raw = M.Mail(subject=subject, subject_style=style, header_charset=charset).to_bytes()
    value = raw_header(raw, "Subject")
    words = word_bytes(value)
    assert len(words) >= 2  # long subjects need several words
    assert all(w[0] == charset for w in words)
    assert all(len(w) <= 75 for w in value.split(b" "))
    assert parse(raw)["subject"] == subject


def test_gb2312_label_carries_gbk_only_characters():
    raw = M.Mail(
        subject="李喆同志先进事迹",
        header_charset="gb2312",
        attachments=[M.Att("李喆同志先进事迹.docx", b"x")],
    ).to_bytes()
    data = b"".join(d for _, d in word_bytes(raw_header(raw, "Subject")))
    with pytest.raises(UnicodeDecodeError):
        data.decode("gb2312")
    assert data.decode("gb18030") == "李喆同志先进事迹"


@pytest.mark.parametrize(("charset", "codec"), [("gb2312", "gbk"), ("utf-8", "utf-8")])
def test_split_words_cut_inside_a_character(charset, codec):
    subject = "演陂镇2020年禁毒志愿服务工作总结报告及先进事迹材料"
    mail = M.Mail(subject=subject, subject_style="split", header_charset=charset)
    words = word_bytes(raw_header(mail.to_bytes(), "Subject"))
    assert len(words) >= 2
    whole = b"".join(d for _, d in words)
    assert whole.decode(codec) == subject
    broken = 0
    for _, data in words:
        try:
            data.decode(codec)
        except UnicodeDecodeError:
            broken += 1
    assert broken >= 1


def test_outlook_splits_even_short_file_names():
    mail = M.Mail(client="outlook", attachments=[M.Att("总结报告.docx", b"x")])
    raw = mail.to_bytes()
    value = re.search(rb'filename="([^"]*)"', raw, re.S).group(1)
    words = word_bytes(value)
    assert len(words) == 2
    assert b"".join(d for _, d in words).decode("gbk") == "总结报告.docx"
    with pytest.raises(UnicodeDecodeError):
        words[0][1].decode("gbk")
    assert b"X-Mailer: Microsoft Outlook 16.0" in raw


def test_rfc2231_continuations_in_gbk():
    name = "西渡镇2020年度禁毒志愿服务工作总结报告.docx"
    att = M.Att(name, b"x", name_style="rfc2231-cont", charset="gbk")
    raw = M.Mail(attachments=[att]).to_bytes()
    assert b"filename*0*=gbk''%CE%F7" in raw and b"filename*1*=" in raw
    part = next(p for p in parse(raw).walk() if p.get_filename())
    assert part.get_filename() == name
    single = M.Mail(attachments=[M.Att("照片.jpg", b"x", name_style="rfc2231")]).to_bytes()
    assert b"filename*=gb18030''" in single


def test_raw_8bit_headers_utf8_and_gbk():
    subject = "西渡镇禁毒材料"
    raw = M.Mail(subject=subject, subject_style="raw", header_charset="utf-8").to_bytes()
    assert b"Subject: " + subject.encode("utf-8") + b"\r\n" in raw
    raw = M.Mail(
        subject=subject,
        subject_style="raw",
        header_charset="gbk",
        attachments=[M.Att("事迹材料.doc", b"d", name_style="raw", charset="gbk")],
    ).to_bytes()
    assert b"Subject: " + subject.encode("gbk") + b"\r\n" in raw
    assert b'filename="' + "事迹材料.doc".encode("gbk") + b'"' in raw
    parse(raw, policy.compat32)  # the parser does not choke on 8-bit headers


def test_name_only_in_content_type():
    att = M.Att(
        "总结.doc", b"d", name_in="type", disposition=None, content_type="application/msword"
    )
    raw = M.Mail(client="foxmail", attachments=[att]).to_bytes()
    part = next(p for p in parse(raw).walk() if p.get_content_type() == "application/msword")
    assert part["Content-Disposition"] is None
    assert part.get_param("name") == "总结.doc"
    assert part.get_filename() == "总结.doc"  # the stdlib falls back to name=


def test_inline_cid_image_sits_in_related_and_is_referenced():
    html = '<div>见图<img src="cid:logo_01"></div>'
    mail = M.Mail(
        text="见图",
        html=html,
        attachments=[
            M.inline_image("logo.png", F.tiny_logo_png(), "logo_01"),
            M.Att("总结.docx", b"x"),
        ],
    )
    msg = parse(mail.to_bytes())
    assert msg.get_content_type() == "multipart/mixed"
    related = msg.get_payload()[0]
    assert related.get_content_type() == "multipart/related"
    assert related.get_param("type") == "multipart/alternative"
    image = related.get_payload()[1]
    assert image["Content-ID"] == "<logo_01>" and image.get_content_disposition() == "inline"
    html_part = next(p for p in msg.walk() if p.get_content_type() == "text/html")
    assert "cid:logo_01" in html_part.get_content()
    assert image.get_content() == F.tiny_logo_png()


def test_unreferenced_inline_image_apple_style():
    mail = M.Mail(
        client="apple",
        text="照片",
        attachments=[M.Att("IMG_0412.HEIC", b"heic", disposition="inline")],
    )
    raw = mail.to_bytes()
    msg = parse(raw)
    image = msg.get_payload()[1]
    assert image.get_content_disposition() == "inline" and image["Content-ID"] is None
    assert msg.get_content_type() == "multipart/mixed"
    assert b"X-Mailer: iPhone Mail" in raw and b"Apple-Mail-" in raw


def test_forwarded_message_rfc822_and_octet_stream():
    inner = M.Mail(
        sender=("县教育局", "hyxjyj@163.com"),
        subject="县教育局禁毒材料",
        client="coremail",
        attachments=[M.Att("总结.docx", b"docx")],
    )
    msg = parse(M.Mail(client="outlook", attachments=[M.forwarded(inner)]).to_bytes())
    part = msg.get_payload()[1]
    assert part.get_content_type() == "message/rfc822"
    embedded = part.get_payload()[0]
    assert embedded["subject"] == "县教育局禁毒材料"
    assert embedded["from"].addresses[0].addr_spec == "hyxjyj@163.com"
    qq = parse(M.Mail(attachments=[M.forwarded(inner, as_octet_stream=True)]).to_bytes())
    eml = qq.get_payload()[1]
    assert eml.get_content_type() == "application/octet-stream"
    assert eml.get_filename() == "县教育局禁毒材料.eml"
    assert eml.get_content() == inner.to_bytes()


@pytest.mark.parametrize("charset", ["gbk", "utf-8", "gb18030"])
@pytest.mark.parametrize("encoding", ["base64", "quoted-printable", "8bit"])
def test_alternative_bodies_in_each_charset_and_encoding(charset, encoding):
    text = "县禁毒办：\n现报送我镇材料，请查收。" + "很长的一行" * 30
    mail = M.Mail(text=text, html=f"<p>{text}</p>", body_charset=charset, body_encoding=encoding)
    msg = parse(mail.to_bytes())
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = msg.get_payload()
    assert plain["Content-Transfer-Encoding"] == encoding
    assert plain.get_content_charset() == charset
    assert plain.get_content().replace("\r\n", "\n").rstrip("\n") == text
    assert text in html.get_content().replace("\r\n", "\n")


def test_broken_multipart_missing_close_and_wrong_boundary():
    from email import errors

    base = {"text": "正文", "attachments": [M.Att("a.jpg", b"x")]}
    missing = M.Mail(broken="missing-close", **base).to_bytes()
    assert missing.rstrip().endswith(b"eA==")
    defects = [type(d) for p in parse(missing, policy.compat32).walk() for d in p.defects]
    assert errors.CloseBoundaryNotFoundDefect in defects
    wrong = parse(M.Mail(broken="wrong-boundary", **base).to_bytes(), policy.compat32)
    assert any(isinstance(d, errors.StartBoundaryNotFoundDefect) for d in wrong.defects)
    truncated = M.Mail(broken="truncated", attachments=[M.Att("a.jpg", F.jpeg(320, 240))])
    raw = truncated.to_bytes()
    assert len(raw) < len(M.Mail(attachments=[M.Att("a.jpg", F.jpeg(320, 240))]).to_bytes())


def test_no_message_id_and_lying_date():
    raw = M.Mail(message_id=None, date="Thu, 31 Dec 2020 23:40:11 +0800").to_bytes()
    assert b"Message-ID" not in raw
    assert parse(raw)["Date"].datetime == dt.datetime(2020, 12, 31, 23, 40, 11, tzinfo=M.CST)


def test_zero_byte_attachment():
    msg = parse(M.Mail(attachments=[M.Att("空文件.docx", b"")]).to_bytes())
    part = msg.get_payload()[1]
    assert part.get_filename() == "空文件.docx" and part.get_content() == b""


def test_qq_client_shape():
    raw = M.Mail(
        sender=("张三", "zhangsan@qq.com"), attachments=[M.Att("照片.jpg", b"x")]
    ).to_bytes()
    assert raw_header(raw, "From").startswith(b'"=?gb18030?B?')
    assert b"X-Mailer: QQMail 2.x" in raw and b"----=_NextPart_" in raw
    assert b'Content-Type: application/octet-stream;\r\n\tcharset="gb18030";' in raw


def test_mx_received_is_topmost_and_dated():
    when = dt.datetime(2021, 1, 3, 9, 15, 42, tzinfo=M.CST)
    mail = M.Mail(received=[M.mx_received(when, "jinlanzhen_zzb@163.com")])
    raw = mail.to_bytes()
    assert raw.startswith(b"Received: from m13-")
    value = parse(raw)["Received"]
    assert "newxmesmtplogicsvrszc" in value
    assert email.utils.parsedate_to_datetime(value.rsplit(";", 1)[1].strip()) == when


def test_auto_reply_newsletter_and_bounce():
    original = M.Mail(sender=M.OFFICE, to=("集兵镇", "jibingzjdb@163.com"), subject="通知")
    reply = parse(M.auto_reply(original, sender=("集兵镇", "jibingzjdb@163.com")).to_bytes())
    assert reply["Auto-Submitted"] == "auto-replied" and reply["X-Autoreply"] == "yes"
    assert reply["subject"].startswith("自动回复")
    news = parse(M.newsletter().to_bytes())
    assert news["Precedence"] == "bulk" and "unsubscribe" in news["List-Unsubscribe"]
    bounce = parse(M.bounce(original).to_bytes())
    assert bounce.get_content_type() == "multipart/report"
    assert bounce.get_param("report-type") == "delivery-status"
    assert bounce["from"].addresses[0].username == "MAILER-DAEMON"
    assert bounce["Return-Path"] == "<>"
    kinds = [p.get_content_type() for p in bounce.get_payload()]
    assert kinds == ["text/plain", "message/delivery-status", "message/rfc822"]
    returned = bounce.get_payload()[2].get_payload()[0]
    assert returned["subject"] == "通知"


def test_link_helpers():
    url = M.qq_ftn_url("x")
    assert url.startswith("https://wx.mail.qq.com/ftn/download?func=3&k=")
    text, html = M.qq_big_attachment("视频.mp4", "186.52M", url, "2021年1月24日 16:39")
    assert url in text and f'href="{url}"' in html and "超大附件" in text
    share = M.baidu_share("视频.mp4", "https://pan.baidu.com/s/1abc", "q7k2")
    assert "https://pan.baidu.com/s/1abc" in share and "提取码: q7k2" in share
    quote = M.qq_reply_quote(share, M.OFFICE, M.DEFAULT_DATE, "通知")
    assert "原始邮件" in quote and "(星期三)" in quote and share in quote


# ---------------------------------------------------------------------------------------------
# the bundled sample inbox
# ---------------------------------------------------------------------------------------------

INBOX = F.REPO_ROOT / "samples" / "inbox"


@pytest.mark.skipif(not INBOX.is_dir(), reason="samples/inbox not generated")
def test_sample_inbox_parses_and_is_documented():
    emls = sorted(INBOX.glob("*.eml"))
    assert 10 <= len(emls) <= 20
    assert sum(p.stat().st_size for p in emls) < 4_000_000
    readme = (INBOX / "README.md").read_text(encoding="utf-8")
    for path in emls:
        raw = path.read_bytes()
        assert raw.startswith(b"Received: "), path.name
        msg = parse(raw)
        when = email.utils.parsedate_to_datetime(msg["Received"].rsplit(";", 1)[1].strip())
        assert (
            dt.datetime(2020, 12, 1, tzinfo=M.CST) <= when < dt.datetime(2021, 1, 10, tzinfo=M.CST)
        )
        assert f"`{path.name}`" in readme
