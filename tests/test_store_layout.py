"""Regressions for ledger layouts people make in Excel: title rows, odd user columns, gaps."""

from __future__ import annotations

from datetime import datetime

import openpyxl
import pytest

from xl_duban.domain.models import Task
from xl_duban.io.ledger_store import HIGHLIGHT, LedgerError, LedgerStore, create_ledger
from xl_duban.services import import_files, validate_ledger

NOW = datetime(2024, 3, 1, 9, 0)


def task(tid: str, unit: str = "区财政局") -> Task:
    return Task(id=tid, kind="重点任务", content=f"任务{tid}", leaders=["曹新华"], lead_units=[unit], cadence="季度",
                status="进行中")


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "台账.xlsx"
    create_ledger(p, 2024, now=NOW)
    store = LedgerStore(p)
    led, _ = store.load()
    from xl_duban.domain.models import Unit
    led.units = [Unit(name="区财政局", type="区直部门")]
    led.tasks = [task("2024-ZD-001"), task("2024-ZD-002"), task("2024-ZD-003")]
    store.save(led, now=NOW)
    return p


def test_title_row_inserted_above_the_table_loses_nothing(path):
    wb = openpyxl.load_workbook(path)
    ws = wb["任务台账"]
    ws.insert_rows(1)
    ws["A1"] = "2024年督查任务台账"
    table = ws.tables["tblTasks"]
    table.ref = "A2:L5"
    wb.save(path)
    led, findings = LedgerStore(path).load()
    assert findings == []
    assert [t.id for t in led.tasks] == ["2024-ZD-001", "2024-ZD-002", "2024-ZD-003"]
    assert [t.row for t in led.tasks] == [3, 4, 5]
    assert validate_ledger(path, now=NOW).exit_code == 0
    ws = openpyxl.load_workbook(path)["任务台账"]
    assert ws["A1"].value == "2024年督查任务台账"
    assert [ws.cell(r, 1).value for r in range(3, 6)] == ["2024-ZD-001", "2024-ZD-002", "2024-ZD-003"]
    assert ws.cell(3, 5).value == "任务2024-ZD-001"


def test_missing_required_column_refuses_writes_but_validate_reports_it(path, tmp_path):
    wb = openpyxl.load_workbook(path)
    wb["任务台账"]["G1"] = "牵头部门"  # the clerk renamed 牵头单位
    wb.save(path)
    before = path.read_bytes()
    csv = tmp_path / "t.csv"
    csv.write_text("序号,工作任务,牵头单位\n9,新任务。,区财政局\n", encoding="utf-8")
    with pytest.raises(LedgerError, match="缺少必需的列"):
        import_files(path, [csv], now=NOW)
    assert path.read_bytes() == before
    outcome = validate_ledger(path, now=NOW)
    assert [(f.code, f.sheet, f.column) for f in outcome.findings if f.level.value == "错误"] == [
        ("missing-column", "任务台账", "牵头单位")]
    ws = openpyxl.load_workbook(path)["任务台账"]
    assert ws["G1"].value == "牵头部门" and ws["G2"].value == "区财政局"  # the sheet was left alone


def test_user_columns_with_blank_or_repeated_headers_survive(path):
    wb = openpyxl.load_workbook(path)
    ws = wb["任务台账"]
    ws["M1"], ws["N1"], ws["O1"] = "备用", None, "备用"
    for r, values in ((2, ("a", "b", "c")), (3, ("d", None, "f"))):
        ws.cell(r, 13).value, ws.cell(r, 14).value, ws.cell(r, 15).value = values
    wb.save(path)
    store = LedgerStore(path)
    led, _ = store.load()
    led.tasks.append(task("2024-ZD-004"))
    store.save(led, now=NOW)
    ws = openpyxl.load_workbook(path)["任务台账"]
    assert [[ws.cell(r, c).value for c in (13, 14, 15)] for r in (2, 3, 5)] == [["a", "b", "c"], ["d", None, "f"],
                                                                                [None, None, None]]


def test_findings_point_at_rows_after_blank_rows_close_up(path):
    wb = openpyxl.load_workbook(path)
    ws = wb["任务台账"]
    ws.insert_rows(3)  # a blank row between task 1 and task 2
    ws["G5"] = "区不存在局"  # task 3, now in row 5, gets an unknown unit
    ws.tables["tblTasks"].ref = "A1:L5"
    wb.save(path)
    outcome = validate_ledger(path, now=NOW)
    unknown = [f for f in outcome.findings if f.code == "unknown-unit"]
    assert [(f.row, f.column) for f in unknown] == [(4, "牵头单位")]  # row 4 once the gap is closed
    ws = openpyxl.load_workbook(path)["任务台账"]
    assert ws["A4"].value == "2024-ZD-003" and ws["G4"].fill.fgColor.rgb == HIGHLIGHT
    assert ws["G5"].value is None and ws["G5"].fill.fgColor.rgb != HIGHLIGHT


def test_text_columns_are_formatted_as_text(path):
    ws = openpyxl.load_workbook(path)["任务台账"]
    assert ws["A2"].number_format == "@"  # 任务编号 typed as 2024-03 must not turn into a date


def test_a_shorter_validation_leaves_no_blank_rows_under_the_table(path):
    """A validate with dozens of findings, then one with fewer: 校验结果 holds exactly the new
    findings — no run of blank (but formatted) rows where the old ones stood."""
    store = LedgerStore(path)
    led, _ = store.load()
    led.tasks = [task(f"2024-ZD-{n:03d}", unit="区不存在局") for n in range(1, 31)]  # 30 unknown units
    store.save(led, now=NOW)
    before = validate_ledger(path, now=NOW)
    assert len(before.findings) >= 30
    store = LedgerStore(path)
    led, _ = store.load()
    led.tasks = [task(f"2024-ZD-{n:03d}") for n in range(1, 31)]
    store.save(led, now=NOW)
    validated = validate_ledger(path, now=NOW)
    ws = openpyxl.load_workbook(path)["校验结果"]
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True)]
    assert len(rows) == len(validated.findings) < len(before.findings)
    assert all(any(v not in (None, "") for v in r) for r in rows)
    _first, last = ws.tables["tblValidation"].ref.split(":")
    assert int(last[1:]) == max(len(rows) + 1, 2)


def test_validate_keeps_the_import_findings_about_its_files_until_the_file_is_imported_again(tmp_path, seed_tables):
    """The clerk's list of new units to confirm (and other notes on a source file) must not
    vanish when validate runs: validate cannot see the file, so it cannot say them again."""
    from xl_duban.samples import write_tables_docx

    ledger = tmp_path / "台账.xlsx"
    create_ledger(ledger, 2022, now=NOW)
    doc = write_tables_docx([seed_tables["附件2"]], tmp_path / "附件2.docx")
    import_files(ledger, [doc], now=NOW)

    def file_rows():
        ws = openpyxl.load_workbook(ledger)["校验结果"]
        return [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] and str(r[0]).startswith("附件2.docx")]

    imported = file_rows()
    assert "new-unit" in {r[4] for r in imported}
    validate_ledger(ledger, now=NOW)
    assert file_rows() == imported
    validate_ledger(ledger, now=NOW)
    assert file_rows() == imported  # not doubled
    again = import_files(ledger, [doc], now=NOW)  # the same file again: its rows are replaced by this import's
    assert [r[4] for r in file_rows()] == [f.code for f in again.findings if f.file == "附件2.docx"]
