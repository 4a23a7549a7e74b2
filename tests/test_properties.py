"""Property-based (hypothesis): random edits of a valid filled return. Collect either accepts
exactly the unit's input values as the edited file holds them, or refuses the file with a
finding and leaves the ledger byte-identical. It never writes into another task or unit."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from xl_duban.io.ledger_store import LedgerStore
from xl_duban.samples import fill_return
from xl_duban.services import collect_returns, issue_workbooks

from .conftest import ISSUED_AT
from .test_collect import COLLECT_AT, ON_TIME, UNIT, answers_for, content, received, task_ids_of

pytestmark = pytest.mark.usefixtures("config_dir")
FREE_TEXT = ("进展情况", "存在问题及原因分析", "下一步工作计划和意见建议")
LEDGER_FIELDS = {"进展情况": "progress", "存在问题及原因分析": "problems", "下一步工作计划和意见建议": "plan"}
TEXT = st.text(alphabet=st.sampled_from(list("督查进展完成已未绿黄红灯ABCxyz0123４５%=+-@ \n") + ["🎉", "。", "，"]), max_size=40)


@st.composite
def edits(draw):
    """One edit a unit (or its software) might make: type into any cell, insert or delete a row,
    or touch the hidden identity sheet."""
    kind = draw(st.sampled_from(["cell", "cell", "cell", "input", "input", "insert", "delete", "identity"]))
    if kind == "cell":
        return ("cell", draw(st.integers(1, 14)), draw(st.integers(1, 12)), draw(TEXT))
    if kind == "input":  # the answer columns of the task rows: what a unit mostly does
        return ("input", draw(st.integers(0, 5)), draw(st.sampled_from(FREE_TEXT + ("完成情况", "自评灯色"))), draw(TEXT))
    if kind in ("insert", "delete"):
        return (kind, draw(st.integers(5, 12)))
    return ("identity", draw(st.integers(1, 12)), draw(TEXT))


def apply(data: bytes, changes: list[tuple]) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["反馈表"]
    headers = {ws.cell(5, c).value: c for c in range(1, ws.max_column + 1)}
    for change in changes:
        if change[0] in ("cell", "input"):
            if change[0] == "cell":
                cell = ws.cell(change[1], change[2])
            else:
                cell = ws.cell(6 + change[1], headers[change[2]])
            if type(cell).__name__ == "MergedCell":
                continue
            cell.value = change[3]
            cell.data_type = "s"
        elif change[0] == "insert":
            ws.insert_rows(change[1])
        elif change[0] == "delete":
            ws.delete_rows(change[1])
        else:
            wb["_duban"].cell(change[1], 2).value = change[2]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def typed_values(data: bytes, issued: set[str]) -> dict[str, dict[str, str]]:
    """The free-text answers as the edited file holds them, read with openpyxl (not the code under test)."""
    ws = openpyxl.load_workbook(io.BytesIO(data))["反馈表"]
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows[:30]) if "任务编号" in r)
    h = rows[header]
    out = {}
    for r in rows[header + 1:]:
        if r[h.index("任务编号")] in issued:
            out[r[h.index("任务编号")]] = {k: str(r[h.index(k)] or "").strip() for k in FREE_TEXT}
    return out


@pytest.fixture
def setting(planned_ledger, tmp_path):
    out = tmp_path / "下发"
    assert issue_workbooks(planned_ledger, "2022Q2", out, now=ISSUED_AT).exit_code == 0
    workbook = out / f"2022Q2_{UNIT}_重点任务反馈表.xlsx"
    ids = task_ids_of(workbook)
    valid = fill_return(workbook, tmp_path / "valid.xlsx", answers_for(ids)).read_bytes()
    return planned_ledger, valid, set(ids)


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(changes=st.lists(edits(), min_size=1, max_size=3))
def test_random_edits_are_accepted_exactly_or_refused(setting, tmp_path_factory, changes):
    ledger, valid, issued = setting
    home = tmp_path_factory.mktemp("edit")
    target = home / "台账.xlsx"
    shutil.copy2(ledger, target)
    data = apply(valid, changes)
    path = home / "收件" / "回复.xlsx"
    path.parent.mkdir()
    path.write_bytes(data)
    received(path, ON_TIME)
    before_content = content(target)
    before = [f.model_dump() for f in LedgerStore(target).load()[0].feedback]
    outcome = collect_returns(target, [path.parent], now=COLLECT_AT)
    event("accepted" if outcome.summary.get("accepted") else "refused")
    if not outcome.summary.get("accepted"):
        refusals = [f for f in outcome.findings if f.level.value == "错误"]
        assert refusals and all(f.message for f in refusals)
        assert content(target) == before_content  # only 报送情况 (退回) and the logs record a refusal
        return
    after = LedgerStore(target).load()[0].feedback
    others = [f.model_dump() for f in after if not (f.unit == UNIT and f.period == "2022Q2")]
    assert others == before  # nothing else touched (the only earlier row is another period's)
    mine = {f.task_id: f for f in after if f.unit == UNIT and f.period == "2022Q2"}
    assert set(mine) <= issued
    expected = typed_values(data, issued)
    for task, record in mine.items():
        assert {k: getattr(record, LEDGER_FIELDS[k]) for k in FREE_TEXT} == expected[task]
        assert record.completion in ("已完成", "未完成", "")
        assert record.self_light in ("绿灯", "黄灯", "红灯", "")
