"""Fast paths give the same results as the slow ones (issue 12: every shortcut is checked
against the plain way on the same input)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from intake.ledger import Ledger
from parsers.tools import find_tools
from pipeline.jobs import PREFETCH_FROM
from pipeline.media import refresh_stored
from tests.support.project import REPO, run_cli, write_config
from tests.test_corpora import CORPORA


def test_photos_measured_during_the_poll_equal_those_measured_at_report_time(tmp_path: Path):
    """GIVEN the sample inbox WHEN `once` measures photos and videos while it polls THEN the
    facts it kept are exactly what measuring every stored file afterwards gives."""
    config = write_config(tmp_path)
    for mail in (REPO / "samples" / "inbox").glob("*.eml"):
        shutil.copy(mail, tmp_path / "inbox")
        copy = mail.read_bytes().replace(b"Subject:", b"X-Copy: 1\r\nSubject:", 1)
        (tmp_path / "inbox" / f"copy-{mail.name}").write_bytes(copy)  # a poll that prefetches
    assert len(list((tmp_path / "inbox").glob("*.eml"))) >= PREFETCH_FROM
    assert run_cli(config, "once").returncode == 0
    data = tmp_path / "data"
    log = (data / "logs" / "pipeline.log").read_text(encoding="utf-8")
    assert "new photos/videos" not in log  # the report found nothing left to measure
    with Ledger(data / "ledger.sqlite3") as ledger:
        during_poll = ledger.media_facts()
        assert len(during_poll) >= len({sha for sha, _, _ in ledger.stored_media()}) > 5
        with ledger.transaction():
            ledger._db.execute("DELETE FROM media")
        refresh_stored(ledger, data, find_tools())
        assert ledger.media_facts() == during_poll


_PROBE = """
import json, sys
sys.path.insert(0, {repo!r})
import outputs._title as title
import run_pipeline
cut = []
segments = title.segments
title.segments = lambda text: cut.append(text) or segments(text)
code = run_pipeline.main(["--config", {config!r}, "report"])
print(json.dumps({{"code": code, "segmented": bool(cut), "rjieba": "rjieba" in sys.modules}}))
"""


def _report_loads_the_segmenter(config: Path) -> bool:
    probe = _PROBE.format(repo=str(REPO), config=str(config))
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=config.parent
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["code"] == 0
    assert not answer["rjieba"]  # the dictionary is loaded in a child process, never here
    return answer["segmented"]


def _title_paragraph(notice: Path) -> str:
    import docx

    return next(p for p in docx.Document(str(notice)).paragraphs if "通报" in p.text).text


def test_the_notice_title_is_broken_once_per_title(tmp_path: Path):
    """The word segmenter (33 MB) breaks a title once; later rebuilds reuse the breaks, and
    the notice shows the same title lines as when they were decided."""
    config = write_config(tmp_path)
    notice = tmp_path / "data" / "reports" / "通报草稿.docx"

    assert _report_loads_the_segmenter(config)
    first = _title_paragraph(notice)
    assert not _report_loads_the_segmenter(config)
    assert _title_paragraph(notice) == first and "\n" in first


def _python_docx_lines(path: Path) -> tuple[list[str], list[str]]:
    """The slow path, as the reader did it before: python-docx opens the whole package."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    def table_lines(table: Table) -> list[str]:
        lines, seen = [], set()
        for row in table.rows:
            for cell in row.cells:
                if cell._tc in seen:
                    continue
                seen.add(cell._tc)
                for block in cell.iter_inner_content():
                    if isinstance(block, Paragraph):
                        lines.append(block.text)
                    else:
                        lines.extend(table_lines(block))
        return lines

    paragraphs, lines = [], []
    for block in docx.Document(str(path)).iter_inner_content():
        if isinstance(block, Paragraph):
            paragraphs.append(block.text)
            lines.append(block.text)
        else:
            lines.extend(table_lines(block))
    return paragraphs, lines


def _awkward_docx(path: Path) -> None:
    """Merged cells across and down, a nested table, tabs, breaks and a hyperlink."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    first = document.add_paragraph()
    run = first.add_run("西渡镇")
    run.add_tab()
    run.add_text("禁毒工作")
    run.add_break()
    run.add_text("总结")
    link = parse_xml(f"<w:hyperlink {nsdecls('w')}><w:r><w:t>（链接）</w:t></w:r></w:hyperlink>")
    first._p.append(link)
    first.add_run("尾")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"格{r}{c}"
    table.cell(0, 0).merge(table.cell(0, 1))
    table.cell(1, 2).merge(table.cell(2, 2))
    table.cell(2, 0).add_table(rows=1, cols=2).cell(0, 1).text = "嵌套"
    document.add_paragraph("正文第二段")
    document.save(str(path))


def test_docx_text_read_with_lxml_equals_python_docx(tmp_path: Path):
    from parsers.documents import _result, read_document
    from tests.support import files

    cases = {
        "plain.docx": files.docx(["今年开展宣传十余场。"] * 3, title="西渡镇\n禁毒工作总结"),
        "table.docx": files.docx(["正文"], table=[["单位", "人数"], ["西渡镇", "62"]]),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    _awkward_docx(tmp_path / "awkward.docx")

    for path in sorted(tmp_path.glob("*.docx")):
        expected = _result(*_python_docx_lines(path))
        assert read_document(path, "docx") == expected, path.name


def test_a_measuring_worker_that_cannot_run_costs_only_a_later_measurement(tmp_path: Path):
    """The worker beside the poll is an optimisation: when it cannot take work, the poll goes
    on and the photos are measured at report time."""
    from pipeline.media import Prefetch

    prefetch = Prefetch(tmp_path, find_tools())
    prefetch._pool.shutdown()  # as if the worker could not start
    prefetch.submit([("a" * 64, "materials/x/照片/1.jpg", "photo")])
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert prefetch.store(ledger) == 0
        assert ledger.media_facts() == {}


def test_the_poll_helps_the_worker_and_every_photo_is_measured_once(tmp_path: Path):
    """GIVEN more photos queued than the worker has started WHEN the poll ends THEN this process
    measures from the back of the queue, and every photo's facts are kept, equal to a
    measurement made on its own."""
    from parsers.media import measure_image
    from pipeline.media import Prefetch
    from tests.support import files

    stored = []
    for seed in range(12):
        relative = f"materials/西渡镇/照片/{seed}.jpg"
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(files.photo(seed))
        stored.append((f"{seed:064x}", relative, "photo"))
    prefetch = Prefetch(tmp_path, find_tools())
    prefetch.submit(stored)
    helped = [sha for sha, _ in prefetch._help()]  # what the worker had not started
    assert helped and len(helped) < len(stored)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        prefetch.store(ledger)
        facts = ledger.media_facts()
    assert sorted(facts) == sorted(sha for sha, _, _ in stored)
    for sha, relative, _ in stored:
        assert facts[sha] == measure_image(tmp_path / relative).to_json()


def test_a_measuring_worker_ends_when_the_poll_is_killed(tmp_path: Path):
    """GIVEN a poll with its measuring worker WHEN the poll is killed (SIGKILL, a closed window)
    THEN the worker ends too instead of waiting for work forever."""
    import psutil

    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from parsers.tools import find_tools\n"
        "from pipeline.media import Prefetch\n"
        "if __name__ == '__main__':\n"
        "    p = Prefetch(Path(sys.argv[1]), find_tools())\n"
        "    p.submit([('a' * 64, 'missing.jpg', 'photo')])\n"
        "    p._pending['a' * 64][0].result(timeout=60)\n"
        "    print(*p._pool._processes, flush=True)\n"
        "    time.sleep(120)\n"
    )
    poll = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        worker = psutil.Process(int(poll.stdout.readline()))
        assert worker.is_running()
        poll.kill()
        poll.wait(timeout=10)
        worker.wait(timeout=10)  # raises TimeoutExpired if the worker is left behind
    finally:
        poll.kill()
        poll.stdout.close()


def test_a_title_cut_in_a_child_process_equals_one_cut_here():
    import rjieba

    from outputs._title import segments

    for title in (
        "关于2020年度“衡阳群众”禁毒宣传材料报送情况的通报",
        "关于2021年度全民禁毒宣传月活动开展情况的通报",
        "衡阳县禁毒委员会办公室 ABC 测试（第2期）",
    ):
        assert segments(title) == list(rjieba.cut(title))


def test_one_message_s_media_are_found_through_an_index(tmp_path: Path):
    """A poll asks for each message's photos; that must not scan every file row each time."""
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        statements: list[str] = []
        ledger._db.set_trace_callback(statements.append)
        assert ledger.stored_media(5) == []
        ledger._db.set_trace_callback(None)
        query = next(s for s in statements if "FROM files" in s)
        plan = " ".join(row[-1] for row in ledger._db.execute(f"EXPLAIN QUERY PLAN {query}"))
    assert "USING INDEX" in plan and "SCAN files" not in plan, plan


def _plain_b64decode(data: bytes) -> bytes:
    """The standard library's way (the path before pybase64), broken-padding recovery included."""
    import binascii
    import re

    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        clean = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
        clean = clean[:-1] if len(clean) % 4 == 1 else clean + b"=" * (-len(clean) % 4)
        return binascii.a2b_base64(clean)


_B64_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n \t-_.*\x00\xff"


@given(
    st.one_of(
        st.binary(max_size=60).map(lambda b: base64.encodebytes(b).replace(b"\n", b"\r\n")),
        st.lists(st.sampled_from(list(_B64_BYTES)), max_size=60).map(bytes),
    ),
    st.lists(st.tuples(st.integers(0, 200), st.sampled_from(list(_B64_BYTES))), max_size=4),
    st.binary(max_size=8),
)
@settings(max_examples=3000, deadline=None)
def test_base64_bodies_decode_as_the_standard_library_decodes_them(body, damage, around):
    """pybase64 decodes bodies whose padding comes last; every body, well formed or damaged,
    must decode to the same bytes as the plain way (a span inside a larger mail)."""
    from parsers.mime import decode_span

    damaged = bytearray(body)
    for position, byte in damage:
        if damaged:
            damaged[position % len(damaged)] = byte
    raw = around + bytes(damaged) + around
    start, end = len(around), len(around) + len(damaged)
    assert decode_span(raw, start, end, "base64") == _plain_b64decode(bytes(damaged))


def test_every_base64_part_of_the_corpora_decodes_as_the_standard_library_decodes_it():
    from parsers.mime import decode_body, flatten, parse_entity, transfer_encoding

    mails = [*(REPO / "samples" / "inbox").glob("*.eml"), *CORPORA.rglob("*.eml")]
    decoded = 0
    for mail in mails:
        raw = mail.read_bytes()
        leaves, _ = flatten(raw, parse_entity(raw))
        for leaf in leaves:
            if transfer_encoding(leaf.headers) == "base64":
                expected = _plain_b64decode(raw[leaf.start : leaf.end])
                assert decode_body(raw, leaf) == expected, mail
                decoded += 1
    assert decoded > 50


def test_a_report_rebuild_pauses_the_cycle_collector_and_always_restores_it(
    tmp_path: Path, monkeypatch
):
    """GIVEN the sample inbox WHEN `report` rebuilds THEN the writers run with Python's cycle
    collector paused (issue 12: it only rescanned the live tables), and it is on again
    afterwards, also when a writer fails halfway."""
    import gc

    import outputs.notice
    import run_pipeline

    config = write_config(tmp_path)
    for mail in (REPO / "samples" / "inbox").glob("*.eml"):
        shutil.copy(mail, tmp_path / "inbox")
    seen: list[bool] = []
    real = outputs.notice.write_notice

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        if len(seen) == 2:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(outputs.notice, "write_notice", watched)
    assert gc.isenabled()
    assert run_pipeline.main(["--config", str(config), "report"]) == 0
    assert gc.isenabled()
    assert run_pipeline.main(["--config", str(config), "report"]) != 0  # the failing writer
    assert gc.isenabled()
    assert seen == [False, False]


_CELLS = st.one_of(
    st.none(),
    st.floats(allow_nan=True),
    st.integers(),
    st.text(alphabet=st.sampled_from("=+-@\t\r 1.e'西渡镇aZ"), max_size=6),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_CELLS, max_size=30))
def test_csv_cells_neutralised_per_column_equal_the_cell_by_cell_way(cells):
    """GIVEN any column of text, numbers and gaps WHEN it is neutralised with the one-pass scan
    THEN every cell equals what ``neutralise`` makes of it alone."""
    import pandas as pd

    from outputs.csv import _neutralised, neutralise

    for dtype in (object, "string"):
        if dtype == "string" and not all(c is None or isinstance(c, str) for c in cells):
            continue
        column = pd.Series(cells, dtype=dtype, index=range(5, 5 + len(cells)))
        fast = _neutralised(column)
        assert list(fast.index) == list(column.index)
        # cell by cell, without Series.map, which would also turn [None, 0] into [NaN, 0.0]
        assert _as_written(fast) == _as_written([neutralise(cell) for cell in column.tolist()])


def _as_written(column) -> list[str]:
    """Cells as a CSV holds them: None, NaN and pd.NA all an empty cell."""
    import pandas as pd

    return ["" if v is None or v is pd.NA or v != v else repr(v) for v in list(column)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 5)), max_size=30))
def test_csv_times_and_numbers_converted_once_per_value_equal_the_cell_by_cell_way(picks):
    """GIVEN received times and sizes with repeats and gaps WHEN each distinct value is
    converted once THEN the column equals converting every cell."""
    import pandas as pd

    from outputs._common import each_distinct
    from outputs.csv import _int, _iso

    times = [None if p is None else pd.Timestamp(1_600_000_000 + 3_600 * p, unit="s",
                                                 tz="Asia/Shanghai") for p in picks]  # fmt: skip
    for values, convert in (
        (pd.Series(times, dtype=object), _iso),
        (pd.Series(pd.to_datetime(times, utc=True), dtype="datetime64[ns, UTC]"), _iso),
        (pd.Series([None if p is None else p * 1024 for p in picks], dtype="Int64"), _int),
        (pd.Series([None if p is None else float(p) for p in picks], dtype=float), _int),
    ):
        assert each_distinct(values, convert).tolist() == values.map(convert).tolist()
