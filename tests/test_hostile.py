"""Hostile returns (issue 7): every file ends accepted with exactly its values, or quarantined
with a finding that says why — collect never crashes, hangs or writes a partial ledger."""

from __future__ import annotations

import io
import os
import pickle
import threading
import zipfile
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest

from xl_duban.io import guard
from xl_duban.io.guard import ReadPool, ReadWorker, inspect_package
from xl_duban.io.readers import UnreadableFile
from xl_duban.samples import fill_return
from xl_duban.services import collect_returns, issue_workbooks

from .conftest import ISSUED_AT
from .hostile import build_corpus, copy_file
from .test_collect import (COLLECT_AT, ON_TIME, UNIT, UNIT_MAIL, answers_for, as_eml, feedback_rows, received,
                           task_ids_of)

pytestmark = pytest.mark.usefixtures("config_dir")
OTHER_UNIT = "区财政局"
INPUTS = ("完成情况", "进展情况", "存在问题及原因分析", "下一步工作计划和意见建议", "自评灯色")
NORMAL = {"完成": "已完成", "已完成": "已完成", "未完成": "未完成", "绿": "绿灯", "Y": "黄灯", "绿灯": "绿灯", "黄灯": "黄灯"}


def encrypt(data: bytes) -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt("1234", out)
    return out.getvalue()


@pytest.fixture
def corpus(planned_ledger, tmp_path, monkeypatch):
    """The ledger with 2022Q2 issued twice (the first issue superseded) and the hostile corpus."""
    ledger = planned_ledger
    first = tmp_path / "第一次下发"
    assert issue_workbooks(ledger, "2022Q2", first, now=ISSUED_AT).exit_code == 0
    # the same ledger state signed with another office's key
    monkeypatch.setenv("XL_DUBAN_CONFIG_DIR", str(tmp_path / "别处的密钥"))
    elsewhere = copy_file(ledger, tmp_path / "别处" / "台账.xlsx")
    later = ISSUED_AT + timedelta(hours=1)
    assert issue_workbooks(elsewhere, "2022Q2", tmp_path / "别处下发", now=later, reissue=True).exit_code == 0
    monkeypatch.setenv("XL_DUBAN_CONFIG_DIR", str(tmp_path / "config"))
    out = tmp_path / "下发"
    assert issue_workbooks(ledger, "2022Q2", out, now=later, reissue=True).exit_code == 0
    name = f"2022Q2_{UNIT}_重点任务反馈表.xlsx"
    ids = task_ids_of(out / name)
    answers = answers_for(ids)
    fill = lambda src, dst, values=answers: fill_return(src, tmp_path / "填写" / dst, values).read_bytes()  # noqa: E731
    valid = fill(out / name, "valid.xlsx")
    other_name = f"2022Q2_{OTHER_UNIT}_重点任务反馈表.xlsx"
    other_ids = task_ids_of(out / other_name)
    cases = build_corpus(valid, answers, other_key=fill(tmp_path / "别处下发" / name, "key.xlsx"),
                         superseded=fill(first / name, "old.xlsx"),
                         other_unit=fill(out / other_name, "other.xlsx", answers_for(other_ids)),
                         sender=UNIT_MAIL, encrypt=encrypt)
    return ledger, ids, cases


def expected_rows(ids: list[str], values: dict[str, dict[str, str]]) -> dict[str, tuple]:
    out = {}
    for task, answer in values.items():
        row = [answer.get(h, "") for h in INPUTS]
        row[0], row[4] = NORMAL.get(row[0], row[0]), NORMAL.get(row[4], row[4])
        out[task] = tuple(row)
    return out


def test_every_hostile_return_is_accepted_exactly_or_quarantined_with_a_finding(corpus, tmp_path):
    ledger, ids, cases = corpus
    assert len(cases) == 23
    problems = []
    for n, case in enumerate(cases):
        home = tmp_path / f"case{n:02d}"
        target = copy_file(ledger, home / "台账.xlsx")
        inbox = home / "收件"
        path = inbox / case.name
        path.parent.mkdir(parents=True)
        path.write_bytes(case.data)
        received(path, ON_TIME)
        if case.sender:
            as_eml(path, inbox / (case.name + ".eml"), case.sender, ON_TIME)
            path.unlink()
        before = target.read_bytes()
        outcome = collect_returns(target, [inbox], now=COLLECT_AT)
        codes = {f.code for f in outcome.findings if f.level.value == "错误"}
        if case.code is None:
            if outcome.summary.get("accepted") != 1:
                problems.append(f"{case.name}: not accepted: {sorted(codes)}")
                continue
            rows = {r[0]: r[2:7] for r in feedback_rows(target) if r[1] == UNIT}
            want = expected_rows(ids, case.values)
            if {t: rows.get(t) for t in want} != want:
                problems.append(f"{case.name}: values differ: {[(t, rows.get(t), want[t]) for t in want if rows.get(t) != want[t]]}")
            if set(rows) - set(want):
                problems.append(f"{case.name}: rows written for tasks nobody filled: {sorted(set(rows) - set(want))}")
            leading = [c for row in openpyxl.load_workbook(target)["反馈记录"].iter_rows() for c in row
                       if isinstance(c.value, str) and c.value[:1] in "=+-@"]
            if any(c.data_type != "s" for c in leading):
                problems.append(f"{case.name}: text starting with = + - @ stored as a formula in the ledger")
            continue
        finding = next((f for f in outcome.findings if f.code == case.code), None)
        if outcome.summary.get("accepted") or finding is None:
            problems.append(f"{case.name}: expected {case.code}, got accepted={outcome.summary.get('accepted')} {sorted(codes)}")
            continue
        if case.reason and case.reason not in finding.message:
            problems.append(f"{case.name}: message {finding.message!r} lacks {case.reason!r}")
        if not (finding.file and finding.hint):
            problems.append(f"{case.name}: finding without file or hint: {finding.text()}")
        if target.read_bytes() != before:
            problems.append(f"{case.name}: ledger changed although the file was refused")
        quarantined = list((home / "quarantine").glob("*"))
        if not any(p.name.endswith(".退回原因.txt") for p in quarantined):
            problems.append(f"{case.name}: not quarantined with a reason")
    assert not problems, "\n".join(problems)


def test_the_same_file_twice_and_two_returns_for_one_unit(corpus, tmp_path):
    ledger, ids, cases = corpus
    valid = next(c for c in cases if c.name == "工作表改名.xlsx").data
    newer = next(c for c in cases if c.name == "特殊字符.xlsx")
    inbox = tmp_path / "收件"
    for name, data, when in (("a.xlsx", valid, ON_TIME), ("副本.xlsx", valid, ON_TIME + timedelta(minutes=5)),
                             ("更正.xlsx", newer.data, ON_TIME + timedelta(hours=2))):
        path = inbox / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        received(path, when)
    outcome = collect_returns(ledger, [inbox], now=COLLECT_AT)
    assert (outcome.summary["accepted"], outcome.summary["skipped"]) == (2, 1)
    rows = {r[0]: r[2:7] for r in feedback_rows(ledger) if r[1] == UNIT}
    assert rows == expected_rows(ids, newer.values)  # the later return wins, whole


def _sleep_forever(_item, _digest, _sheets):
    import time

    time.sleep(60)


def _eat_memory(_item, _digest, _sheets):
    return bytearray(8 * 2**30)


def test_the_reading_process_has_a_time_and_a_memory_limit():
    with ReadWorker(seconds=2, memory=1 * 2**30) as worker:
        with pytest.raises(UnreadableFile, match="超过 2 秒"):
            worker.call(_sleep_forever, None, "", ())
        if os.name == "posix":
            with pytest.raises(UnreadableFile, match="内存"):
                worker.call(_eat_memory, None, "", ())
        assert worker.call(len, b"still works") == 11  # a fresh process after each failure


@pytest.fixture(params=["select", "threads"])
def answers(request, monkeypatch):
    """Both ways the answers of the reading processes arrive: waiting on the pipes (POSIX)
    and a thread per pipe (Windows, which cannot wait on pipes), tested here alike."""
    if request.param == "threads":
        monkeypatch.setattr(guard.Answers, "for_platform", staticmethod(guard.ThreadAnswers))
    elif os.name != "posix":
        pytest.skip("waiting on pipes needs POSIX")
    return request.param


def test_read_pool_reports_progress_in_the_calling_thread_and_never_drops_a_file(answers):
    """Progress goes to the thread that called map (a live Excel object may only be used there);
    a failing progress report stops the pool with that error instead of losing files."""
    caller = threading.get_ident()
    with ReadPool() as pool:
        pool.start()
        threads: list[int] = []
        results = pool.map(abs, [(-n,) for n in range(7)], lambda done: threads.append(threading.get_ident()))
        assert results == [(True, n) for n in range(7)]
        assert threads == [caller] * 7

        def fails(done: int) -> None:
            if done == 2:
                raise RuntimeError("状态栏不可用")

        with pytest.raises(RuntimeError, match="状态栏不可用"):
            pool.map(abs, [(-n,) for n in range(7)], fails)
        assert pool.map(abs, [(-5,), (-6,)]) == [(True, 5), (True, 6)]  # the pool still works afterwards


def _divide(n: int) -> float:
    return 1 / n


def test_an_exception_of_the_reading_function_is_raised_in_the_caller():
    """Anything but an unreadable file is a bug, not a verdict: it is raised once the readers
    have stopped, and the pool reads again afterwards."""
    with ReadPool() as pool:
        with pytest.raises(ZeroDivisionError):
            pool.map(_divide, [(n,) for n in range(3)])
        assert pool.map(abs, [(-5,), (-6,)]) == [(True, 5), (True, 6)]


def _package(part: bytes, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        zf.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        zf.writestr("xl/workbook.xml", part)
    return out.getvalue()


DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
ENTITY = b'<!DOCTYPE workbook [<!ENTITY a "ha">]>'


@pytest.mark.parametrize("comment", [0, guard.HEAD - 40, guard.HEAD - 10, 1020, 5000])
@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_BZIP2])
def test_a_doctype_is_found_past_any_comments_however_the_part_is_stored(comment, compression):
    """Only the prolog is read, but all of it: a DOCTYPE after a long comment (or one that
    straddles the first bytes inflated) is refused, from a stored, deflated or bzip2 member alike."""
    prolog = DECLARATION + (b"<!--" + b"x" * comment + b"-->" if comment else b"") + b"\n"
    with pytest.raises(UnreadableFile, match="DOCTYPE"):
        inspect_package(_package(prolog + ENTITY + b"<workbook>&a;</workbook>", compression))
    assert inspect_package(_package(prolog + b"<workbook/>", compression)).formula_cells("x") == []


def test_text_after_the_root_element_is_content_not_a_declaration():
    """XML allows a DOCTYPE only before the root element; the same characters later (here in
    a comment) declare nothing, and no parser expands anything because of them."""
    inspect_package(_package(DECLARATION + b"<workbook><!-- <!DOCTYPE x [<!ENTITY a 'b'>]> --></workbook>"))


def _flaky(n: int) -> int:
    if n == 2:
        import time

        time.sleep(60)
    if n == 4:
        os._exit(3)  # the reading process dies in the middle of a batch
    return n * 10


def test_a_file_that_hangs_or_kills_its_reader_costs_that_file_only(answers):
    """Files go to a reader several at a time; one that overruns its time or ends the process
    is reported alone, and the rest of its batch is read by a fresh process."""
    with ReadPool(1, seconds=2) as pool:
        results = pool.map(_flaky, [(n,) for n in range(7)])
    assert [ok for ok, _value in results] == [True, True, False, True, False, True, True]
    assert [v for ok, v in results if ok] == [0, 10, 30, 50, 60]
    assert "超过 2 秒" in str(results[2][1]) and "异常退出" in str(results[4][1])


def _echo(data: bytes) -> bytes:
    return data


def test_large_answers_and_large_requests_never_wait_for_each_other(answers):
    """A busy reader writing large answers while the next large request waits to be written:
    the next request is only queued when the pipe can hold it, so neither side waits forever."""
    files = [(bytes([n]) * (1536 * 1024),) for n in range(8)]
    results: list = []
    with ReadPool(1, seconds=20) as pool:
        reading = threading.Thread(target=lambda: results.extend(pool.map(_echo, files)), daemon=True)
        reading.start()
        reading.join(60)
        stuck = reading.is_alive()
    assert not stuck
    assert results == [(True, data) for (data,) in files]


def test_large_files_go_in_several_requests_and_a_reader_that_ended_while_idle_is_replaced(monkeypatch):
    """A request carries files up to a few MiB (one at least), so a batch of large returns
    never lands in a reader at once, while small ones travel together; a reader that died
    between requests is replaced before the next file is sent, and that file is not blamed."""
    requests: list[int] = []  # the number of files in each request
    send = ReadWorker._send
    monkeypatch.setattr(ReadWorker, "_send",
                        lambda self, request: requests.append(len(pickle.loads(request)[1])) or send(self, request))
    with ReadWorker() as worker:
        answers = list(worker.results(len, [(bytes([n]) * (3 * 2**20),) for n in range(3)]))
        assert answers == [(True, 3 * 2**20)] * 3 and requests == [1, 1, 1]
        assert list(worker.results(len, [(b"x" * n,) for n in range(5)])) == [(True, n) for n in range(5)]
        assert sum(requests[3:]) == 5 and max(requests[3:]) > 1
    with ReadWorker() as worker:
        assert worker.call(len, b"abc") == 3
        worker._proc.kill()
        worker._proc.wait()
        assert worker.call(len, b"abcd") == 4
