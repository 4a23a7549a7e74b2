"""``duban issue``: one signed workbook per lead unit, re-read from disk."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, strategies as st

from xl_duban.domain.issuing import Form, IssueRow, IssuedWorkbook, verify
from xl_duban.domain.models import NodeTarget, TaskKind
from xl_duban.io.ledger_store import LedgerStore
from xl_duban.io.ledger_store import MIN_PRINT_SCALE, print_scale
from xl_duban.io.unit_workbook import FIRST_ROW, HEADER_ROW, META_FIELDS, META_SHEET, SHEET, SIGNER_ROW, SIGNERS
from xl_duban.services import issue_workbooks

from .conftest import ISSUED_AT, add_targets, run_json

pytestmark = pytest.mark.usefixtures("config_dir")


def read_issue(path: Path):
    wb = openpyxl.load_workbook(path)
    ws, meta = wb[SHEET], wb[META_SHEET]
    rows = []
    for r in range(FIRST_ROW, ws.max_row + 1):
        if ws.cell(r, 1).value:
            rows.append([ws.cell(r, c).value or "" for c in range(1, 10)])
    fields = {meta.cell(r, 1).value: meta.cell(r, 2).value for r in range(1, len(META_FIELDS) + 1)}
    return wb, ws, meta, rows, fields


def expected_units(led, task) -> set[str]:
    towns = {u.name for u in led.units if u.type == "镇街"}
    out = set()
    for name in task.lead_units:
        out |= towns if name == "各镇人民政府、街道办事处" else {name}
    return out


def test_one_workbook_per_lead_unit_with_only_its_tasks(planned_ledger, tmp_path):
    out = tmp_path / "下发"
    outcome = issue_workbooks(planned_ledger, "2022Q2", out, now=ISSUED_AT)
    assert outcome.exit_code == 0, outcome.findings
    led, _ = LedgerStore(planned_ledger).load()
    key_tasks = [t for t in led.tasks if t.kind == "重点任务"]
    units = set().union(*(expected_units(led, t) for t in key_tasks))
    files = sorted(out.glob("*.xlsx"))
    assert {f.name for f in files} == {f"2022Q2_{u}_重点任务反馈表.xlsx" for u in units}
    for f in files:
        unit = f.name.split("_")[1]
        _wb, _ws, _meta, rows, fields = read_issue(f)
        assert [r[0] for r in rows] == [t.id for t in key_tasks if unit in expected_units(led, t)]
        assert fields["单位"] == unit and fields["周期"] == "2022Q2" and fields["类别"] == "重点任务"
        for row in rows:
            assert row[2] == f"{row[0]}二季度目标"  # the node target of P
            assert row[4:] == ["", "", "", "", ""]  # inputs empty


def test_workbook_layout_protection_and_dropdowns(planned_ledger, tmp_path):
    issue_workbooks(planned_ledger, "2022Q2", tmp_path, now=ISSUED_AT)
    wb, ws, meta, rows, fields = read_issue(tmp_path / "2022Q2_区发展和改革局_重点任务反馈表.xlsx")
    assert ws["A1"].value == "2022年第二季度区《政府工作报告》督查重点任务落实情况反馈表"
    assert ws["A2"].value == "报送单位：区发展和改革局"
    assert "2022年7月10日" in ws["E2"].value
    assert [ws.cell(HEADER_ROW, c).value for c in range(1, 10)] == [
        "任务编号", "工作任务", "节点目标", "上期进展", "完成情况", "进展情况", "存在问题及原因分析", "下一步工作计划和意见建议", "自评灯色"]
    # last period's progress of this unit, read-only
    zd1 = next(r for r in rows if r[0] == "2022-ZD-001")
    assert zd1[3] == "一季度GDP增长5.1%"
    assert ws.protection.sheet is True
    for r in range(FIRST_ROW, FIRST_ROW + len(rows)):
        assert [ws.cell(r, c).protection.locked for c in range(1, 10)] == [True] * 4 + [False] * 5
    validations = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    last = FIRST_ROW + len(rows) - 1
    assert validations == {f"E{FIRST_ROW}:E{last}": '"已完成,未完成,已办结"', f"I{FIRST_ROW}:I{last}": '"绿灯,黄灯,红灯"'}
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    assert meta.sheet_state == "veryHidden"
    assert wb.sheetnames == [SHEET, META_SHEET]


@pytest.mark.parametrize("folder", ["2022Q2", "2022-06", "2022年度季度目标", "2022年度月度目标"])
def test_form_prints_one_page_wide_grows_with_text_and_explains_the_lights(demo_year, folder):
    """Issue 25: the old form fixed its rows at 60 pt (text beyond ~70 characters hidden, in
    print too), printed at 68 % and never said what 绿/黄/红 or 已完成/已办结 mean. Every form
    the demo issued (real task texts, quarterly and monthly, feedback and targets)."""
    targets = "目标" in folder
    paths = sorted((demo_year / "下发" / folder).glob("*.xlsx"))
    assert paths
    for path in paths:
        ws = openpyxl.load_workbook(path).worksheets[0]
        assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
        assert print_scale(ws) >= MIN_PRINT_SCALE, (path.name, print_scale(ws))
        text = ws["A3"].value
        words = ("绿灯", "黄灯", "红灯") if targets else ("绿灯", "黄灯", "红灯", "已完成", "未完成", "已办结", "约谈")
        assert all(w in text for w in words), text
        # 填报人 / 联系电话 / 审核人: locked labels, each followed by an unlocked cell
        labels = {ws.cell(SIGNER_ROW, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(SIGNER_ROW, c).value}
        assert list(labels) == [f"{s}：" for s in SIGNERS]
        for col in labels.values():
            assert ws.cell(SIGNER_ROW, col).protection.locked and not ws.cell(SIGNER_ROW, col + 1).protection.locked
        # task rows: a height for the issued text, but not a fixed one (no customHeight), so the
        # row grows when the unit types; the merged instructions get a fixed height for theirs
        with zipfile.ZipFile(path) as z:
            sheet = z.read("xl/worksheets/sheet1.xml").decode()
        rows = {int(m.group(1)): m.group(0) for m in re.finditer(r'<row r="(\d+)"[^>]*>', sheet)}
        task_rows = [r for r in rows if r >= FIRST_ROW and ws.cell(r, 1).value]
        assert task_rows
        for r in task_rows:
            assert "customHeight" not in rows[r] and 'ht="' in rows[r], rows[r]
        assert ws.row_dimensions[3].height >= 15 * 3


def test_signature_verifies_and_key_never_leaves_the_config_dir(planned_ledger, tmp_path, config_dir):
    issue_workbooks(planned_ledger, "2022Q2", tmp_path / "out", now=ISSUED_AT)
    key = bytes.fromhex((config_dir / "signing.key").read_text())
    assert len(key) == 32
    path = tmp_path / "out" / "2022Q2_区发展和改革局_重点任务反馈表.xlsx"
    _wb, ws, meta, rows, fields = read_issue(path)
    issue = IssuedWorkbook(issue_id=fields["下发编号"], unit=fields["单位"], period=fields["周期"],
                           kind=TaskKind(fields["类别"]), issued_at=datetime.fromisoformat(fields["下发时间"]),
                           due=fields["截止时间"], rows=tuple(IssueRow(locked=tuple(r[:4])) for r in rows),
                           form=Form(fields["表类型"]), year=int(fields["年度"]))
    assert verify(issue.payload(), key, fields["签名"])
    first = issue.rows[0].locked
    edited = issue.model_copy(update={"rows": (IssueRow(locked=(*first[:2], "改过的目标", first[3])), *issue.rows[1:])})
    assert not verify(edited.payload(), key, fields["签名"])
    assert not verify(issue.payload(), b"\0" * 32, fields["签名"])
    assert not verify(issue.payload(), key, "签名已改")  # any text in the cell is a mismatch, never an error
    with zipfile.ZipFile(path) as z:
        blob = b"".join(z.read(n) for n in z.namelist())
    assert key.hex().encode() not in blob and key not in blob


def test_issue_is_recorded_and_reissue_supersedes(planned_ledger, tmp_path):
    issue_workbooks(planned_ledger, "2022Q2", tmp_path / "a", now=ISSUED_AT)
    led, _ = LedgerStore(planned_ledger).load()
    rows = {s.unit: s for s in led.submissions if s.period == "2022Q2"}
    assert len(rows) == len(list((tmp_path / "a").glob("*.xlsx")))
    fdrc = rows["区发展和改革局"]
    assert (fdrc.issued_at, fdrc.due_at, fdrc.send_status, fdrc.status) == (ISSUED_AT, date(2022, 7, 10), "未发送", "未报送")
    later = datetime(2022, 6, 28, 15, 30)
    issue_workbooks(planned_ledger, "2022Q2", tmp_path / "b", now=later, reissue=True)
    led, _ = LedgerStore(planned_ledger).load()
    assert len([s for s in led.submissions if s.period == "2022Q2"]) == len(rows)
    assert next(s for s in led.submissions if s.unit == "区发展和改革局").issued_at == later
    log = [e for e in led.changelog if e.action == "下发" and e.object == "区发展和改革局"]
    assert [(e.old, e.new) for e in log] == [("2022-06-25 09:00:00", "2022-06-28 15:30:00")]


def test_monthly_issue_for_livelihood_with_statutory_deadline(planned_ledger, tmp_path):
    add_targets(planned_ledger, "2022-03")
    outcome = issue_workbooks(planned_ledger, "2022-03", tmp_path, now=ISSUED_AT)
    # April 2022: 1 Fri works, 2 Sat is a make-up working day, 3-5 Qingming holiday → 3rd working day is the 6th
    assert outcome.summary["due"] == "2022-04-06"
    _wb, _ws, _meta, rows, _fields = read_issue(tmp_path / "2022-03_区教育局_民生实事反馈表.xlsx")
    # project 8 is split into sub-items: they report, the project line does not
    assert [r[0] for r in rows] == ["2022-MS-08-1", "2022-MS-08-2", "2022-MS-08-3", "2022-MS-08-4"]
    assert [r[2] for r in rows] == [f"2022-MS-08-{i}节点目标" for i in range(1, 5)]


def test_kind_must_match_the_period(planned_ledger, tmp_path):
    out = tmp_path / "下发"
    code, result = run_json("issue", str(planned_ledger), "--period", "2022Q2", "--kind", "livelihood", "--out", str(out))
    assert code == 2 and result["findings"][0]["code"] == "cadence-mismatch"
    assert not out.exists()


# texts a cell can hold: any character but a lone surrogate (a workbook's XML cannot carry one)
CELL_TEXTS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@given(st.lists(CELL_TEXTS, max_size=6))
def test_the_locked_digest_is_json_dumps_of_the_texts_as_it_always_was(texts):
    """Workbooks issued before keep their signatures: the row digest still covers exactly
    ``json.dumps(texts, ensure_ascii=False)`` — quotes, backslashes, controls, any script."""
    locked = ("2022-ZD-001", *texts)
    assert IssueRow(locked=locked).digest() == hashlib.sha256(json.dumps(list(locked), ensure_ascii=False).encode()).hexdigest()


def test_the_locked_digest_of_awkward_texts():
    awkward = ("", "引号\"与\\反斜杠", "换行\n回车\r制表\t", "\x00\x1f\x7f\u2028\u2029", "emoji 🚦 ꧁")
    for locked in (awkward, ()):
        assert IssueRow(locked=locked).digest() == hashlib.sha256(json.dumps(list(locked), ensure_ascii=False).encode()).hexdigest()


# -- refusals: what would quietly harm is refused, nothing written ----------------------------------------------------
def _state(ledger: Path) -> tuple[bytes, list]:
    return ledger.read_bytes(), sorted((ledger.parent / "台账备份").glob("*"))


@pytest.mark.parametrize("period", ["2021Q1", "2020年第一季度", "2023-01", "2023Q4"])
def test_a_period_outside_the_ledgers_year_is_refused(planned_ledger, tmp_path, period):
    out = tmp_path / "下发"
    before = _state(planned_ledger)
    code, result = run_json("issue", str(planned_ledger), "--period", period, "--out", str(out))
    assert code == 2 and [f["code"] for f in result["findings"]] == ["period-outside-year"]
    assert "2022" in result["findings"][0]["message"] and result["findings"][0]["hint"]
    assert _state(planned_ledger) == before and not out.exists()


def test_q4_and_december_are_the_ledgers_own_periods(planned_ledger, tmp_path):
    add_targets(planned_ledger, "2022Q4")
    outcome = issue_workbooks(planned_ledger, "2022Q4", tmp_path / "q4", now=datetime(2022, 12, 20, 9, 0))
    assert outcome.exit_code == 0 and outcome.summary["due"] == "2023-01-10" and outcome.summary["workbooks"]


def test_a_second_issue_is_refused_without_reissue(planned_ledger, tmp_path):
    assert issue_workbooks(planned_ledger, "2022Q2", tmp_path / "a", now=ISSUED_AT).exit_code == 0
    before = _state(planned_ledger)
    code, result = run_json("issue", str(planned_ledger), "--period", "2022Q2", "--out", str(tmp_path / "b"))
    assert code == 2 and [f["code"] for f in result["findings"]] == ["already-issued"]
    assert "--reissue" in result["findings"][0]["hint"]
    assert _state(planned_ledger) == before and not (tmp_path / "b").exists()


def _mark_returned(ledger: Path, unit: str, period: str) -> None:
    """What collect leaves for a unit whose return was accepted."""
    store = LedgerStore(ledger)
    led, _ = store.load()
    row = next(r for r in led.submissions if r.period == period and r.unit == unit)
    row.status, row.received_at = "已报送", datetime(2022, 7, 1, 10, 0)
    store.save(led, now=datetime(2022, 7, 1, 10, 0))


def test_reissue_keeps_returned_units_and_supersedes_only_the_others(planned_ledger, tmp_path):
    first = issue_workbooks(planned_ledger, "2022Q2", tmp_path / "a", now=ISSUED_AT)
    units = [w["unit"] for w in first.summary["workbooks"]]
    _mark_returned(planned_ledger, "区发展和改革局", "2022Q2")
    asked = []
    later = datetime(2022, 7, 2, 9, 0)
    outcome = issue_workbooks(planned_ledger, "2022Q2", tmp_path / "b", now=later, reissue=True,
                              confirm=lambda returned, superseded: asked.append((returned, superseded)) or True)
    assert outcome.exit_code == 0
    assert asked == [(["区发展和改革局"], [u for u in units if u != "区发展和改革局"])]
    assert outcome.summary["kept_returned"] == ["区发展和改革局"]
    assert sorted(w["unit"] for w in outcome.summary["workbooks"]) == sorted(u for u in units if u != "区发展和改革局")
    assert not list((tmp_path / "b").glob("*区发展和改革局*"))
    led, _ = LedgerStore(planned_ledger).load()
    rows = {r.unit: r for r in led.submissions if r.period == "2022Q2"}
    assert rows["区发展和改革局"].issued_at == ISSUED_AT and rows["区发展和改革局"].status == "已报送"
    assert all(r.issued_at == later for u, r in rows.items() if u != "区发展和改革局")


def test_reissue_needs_confirmation_and_a_no_writes_nothing(planned_ledger, tmp_path):
    issue_workbooks(planned_ledger, "2022Q2", tmp_path / "a", now=ISSUED_AT)
    before = _state(planned_ledger)
    outcome = issue_workbooks(planned_ledger, "2022Q2", tmp_path / "b", now=ISSUED_AT.replace(day=26), reissue=True,
                              confirm=lambda returned, superseded: False)
    assert outcome.exit_code == 2 and [f.code for f in outcome.findings] == ["reissue-not-confirmed"]
    assert _state(planned_ledger) == before and not (tmp_path / "b").exists()
    # a script without a terminal is not asked: it must say --yes
    code, result = run_json("issue", str(planned_ledger), "-p", "2022Q2", "-o", str(tmp_path / "c"), "--reissue")
    assert code == 2 and result["findings"][0]["code"] == "reissue-not-confirmed" and "--yes" in result["findings"][0]["hint"]
    assert _state(planned_ledger) == before
    code, result = run_json("issue", str(planned_ledger), "-p", "2022Q2", "-o", str(tmp_path / "c"), "--reissue", "--yes")
    assert code == 0 and result["workbooks"]


def test_a_deadline_already_past_is_a_warning(planned_ledger, tmp_path):
    outcome = issue_workbooks(planned_ledger, "2022Q2", tmp_path, now=datetime(2022, 7, 15, 9, 0))
    assert outcome.exit_code == 0
    [late] = [f for f in outcome.findings if f.code == "deadline-passed"]
    assert late.level.value == "警告" and "2022-07-10" in late.message


def test_tasks_without_a_confirmed_target_get_no_row_and_an_error(planned_ledger, tmp_path):
    # two livelihood sub-items with a confirmed March target, one still 待报送, the rest none
    add_targets(planned_ledger, "2022-03", only={"2022-MS-08-1", "2022-MS-08-2"})
    store = LedgerStore(planned_ledger)
    led, _ = store.load()
    led.targets.append(NodeTarget(task_id="2022-MS-08-3", period="2022-03", target="待确认的目标", status="待报送"))
    store.save(led, now=ISSUED_AT)
    outcome = issue_workbooks(planned_ledger, "2022-03", tmp_path, now=ISSUED_AT)
    assert outcome.exit_code == 1
    [missing] = [f for f in outcome.findings if f.code == "no-confirmed-target"]
    assert "2022-MS-08-3" in missing.message and "2022-MS-08-4" in missing.message
    assert "2022-MS-08-1" not in missing.message
    assert [w["unit"] for w in outcome.summary["workbooks"]] == ["区教育局"]
    _wb, _ws, _meta, rows, _fields = read_issue(tmp_path / "2022-03_区教育局_民生实事反馈表.xlsx")
    assert [r[0] for r in rows] == ["2022-MS-08-1", "2022-MS-08-2"]
