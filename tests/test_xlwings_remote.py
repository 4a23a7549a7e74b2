"""The xlwings remote-engine harness: real ``xw.Book`` objects over a real workbook, no Excel.

Each test builds a small 督办 workbook with openpyxl, runs macro code through
``run_macro`` (payload as Remote.bas sends it -> ``xw.Book(json=...)`` -> ``book.json()``
applied with openpyxl) and checks the file afterwards, cell by cell.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table, TableStyleInfo

from .xlwings_remote import (
    HarnessError,
    PayloadError,
    UnsupportedActionError,
    VbaClientError,
    apply_actions,
    payload_from_file,
    remote_bas_handlers,
    remote_engine,  # noqa: F401  (fixture)
    run_macro,
    vba_parse_iso,
)

pytestmark = pytest.mark.usefixtures("remote_engine")

TODAY = dt.date(2022, 5, 1)
HEADER = ["编号", "任务", "牵头单位", "截止日期", "进度", "完成"]
ROWS = [
    ["2022-ZD-001", "一季度GDP增长", "区发展和改革局", dt.datetime(2022, 3, 31), 0.5, False],
    ["2022-ZD-002", "重点项目开工", None, dt.datetime(2022, 6, 30, 10, 30), 1, True],
    ["2022-ZD-003", None, "区财政局", None, 0.1 + 0.2, None],
]


@pytest.fixture
def book_path(tmp_path: Path) -> Path:
    """任务清单 (header, dates, numbers, empty cells, a table), 反馈记录, hidden 配置, a name."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "任务清单"
    ws.append(HEADER)
    for row in ROWS:
        ws.append(row)
    ws["A1"].font = Font(bold=True)
    ws["D2"].number_format = "yyyy/m/d"
    ws["H8"].fill = PatternFill("solid", start_color="FFFFFF00", end_color="FFFFFF00")  # format only
    ws.add_table(Table(displayName="任务表", ref="A1:F4",
                       tableStyleInfo=TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)))
    fb = wb.create_sheet("反馈记录")
    fb.append(["编号", "单位", "反馈", "身份证号"])
    fb.append(["2022-ZD-001", "区发展和改革局", "一季度GDP增长5.1%", "110101199001011234"])
    hidden = wb.create_sheet("配置")
    hidden["A1"] = "年度"
    hidden["B1"] = 2022
    hidden.sheet_state = "hidden"
    wb.defined_names["年度"] = DefinedName("年度", attr_text="配置!$B$1")
    fb.defined_names["反馈区"] = DefinedName("反馈区", attr_text="反馈记录!$A$1:$D$2")
    wb.active = 0
    path = tmp_path / "督办台账.xlsx"
    wb.save(path)
    return path


def snapshot(path: Path) -> dict[tuple[str, str], tuple]:
    """Every stored cell: value, fill colour, bold, number format."""
    wb = openpyxl.load_workbook(path)
    cells = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None and not cell.has_style:
                    continue
                fill = cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type == "solid" else None
                cells[(ws.title, cell.coordinate)] = (cell.value, fill, bool(cell.font.b), cell.number_format)
    return cells


def changed(before: dict, after: dict) -> set[tuple[str, str]]:
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


# --- the payload ------------------------------------------------------------------------

def test_payload_is_what_remote_bas_sends(book_path):
    import xlwings as xw

    payload = payload_from_file(book_path, active_sheet="反馈记录", selection="B2:C3")
    assert payload["client"] == "VBA" and payload["version"] == xw.__version__
    assert payload["book"] == {"name": "督办台账.xlsx", "active_sheet_index": 1, "selection": "B2:C3"}
    assert [s["name"] for s in payload["sheets"]] == ["任务清单", "反馈记录", "配置"]  # hidden sheets too
    values = payload["sheets"][0]["values"]
    assert len(values) == 8 and {len(row) for row in values} == {8}  # A1 to H8: a format extends UsedRange
    assert values[0][:6] == HEADER
    assert values[1][:6] == ["2022-ZD-001", "一季度GDP增长", "区发展和改革局", "2022-03-31T00:00:00.000Z", 0.5, False]
    assert values[2][:6] == ["2022-ZD-002", "重点项目开工", None, "2022-06-30T10:30:00.000Z", 1, True]
    assert values[3][:6] == ["2022-ZD-003", None, "区财政局", None, 0.3, None]  # CStr: 15 digits
    assert isinstance(values[2][4], int)  # integral doubles arrive as JSON integers
    assert values[7] == [None] * 8  # empty cells are null (ConvertToJson: Empty -> null)
    assert payload["sheets"][2]["values"] == [["年度", 2022]]
    # text of 16+ digits goes out unquoted (VBA-JSON "large number"): an 18-digit ID is an int
    assert payload["sheets"][1]["values"][1][3] == 110101199001011234
    assert payload["sheets"][0]["tables"] == [{
        "name": "任务表", "range_address": "$A$1:$F$4", "header_row_range_address": "$A$1:$F$1",
        "data_body_range_address": "$A$2:$F$4", "total_row_range_address": None, "show_headers": True,
        "show_totals": False, "table_style": "TableStyleMedium2", "show_autofilter": True}]
    assert all(sheet["pictures"] == [] for sheet in payload["sheets"])
    assert payload["names"] == [
        {"name": "反馈记录!反馈区", "sheet_index": 1, "address": "A1:D2", "book_scope": False,
         "scope_sheet_name": "反馈记录", "scope_sheet_index": 1},
        {"name": "年度", "sheet_index": 2, "address": "B1", "book_scope": True,
         "scope_sheet_name": None, "scope_sheet_index": None},
    ]
    json.dumps(payload, allow_nan=False)


def test_payload_include_exclude_and_defaults(book_path):
    payload = payload_from_file(book_path, exclude="反馈记录, 配置", selection=None)
    assert payload["book"]["active_sheet_index"] == 0 and payload["book"]["selection"] is None
    assert [s["values"] for s in payload["sheets"][1:]] == [[[]], [[]]]
    assert payload_from_file(book_path, include=["配置"])["sheets"][0]["values"] == [[]]
    with pytest.raises(HarnessError, match="hidden"):
        payload_from_file(book_path, active_sheet="配置")


def test_payload_refuses_what_excel_cannot_send(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A32768"] = "too far"
    wb.save(tmp_path / "long.xlsx")
    with pytest.raises(PayloadError, match="Overflow"):
        payload_from_file(tmp_path / "long.xlsx")
    wb = openpyxl.Workbook()
    wb.active["A1"] = "1234567890123456E"  # sent unquoted by VBA-JSON, and not valid JSON
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(PayloadError, match="not valid JSON"):
        payload_from_file(tmp_path / "bad.xlsx")
    wb = openpyxl.Workbook()
    wb.active["C3"].font = Font(bold=True)  # formatted but empty: UsedRange.Value is Empty
    wb.save(tmp_path / "empty.xlsx")
    assert payload_from_file(tmp_path / "empty.xlsx")["sheets"][0]["values"] == [[]]


# --- reading through the real Range API ---------------------------------------------------

def test_macro_reads_values_and_dataframe_without_touching_the_file(book_path):
    before = book_path.read_bytes()

    def macro(book):
        sheet = book.sheets["任务清单"]
        return {
            "table": sheet["A1"].expand().value,
            "df": sheet["A1"].expand().options(pd.DataFrame, index=False).value,
            "used": sheet.used_range.address,
            "last": sheet.cells.last_cell.address,
            "down": sheet["A1"].end("down").address,
            "year": book.sheets["配置"]["B1"].value,
            "named": sheet["年度"].value,
            "name": (book.name, book.fullname),
            "active": book.sheets.active.name,
            "selection": book.app.selection.address,
        }

    result = run_macro(book_path, macro, caller_sheet="任务清单", selection="C3")
    got = result.return_value
    assert got["table"] == [HEADER] + [
        ["2022-ZD-001", "一季度GDP增长", "区发展和改革局", dt.datetime(2022, 3, 31), 0.5, False],
        ["2022-ZD-002", "重点项目开工", None, dt.datetime(2022, 6, 30, 10, 30), 1, True],
        ["2022-ZD-003", None, "区财政局", None, 0.3, None],
    ]
    df = got["df"]
    assert list(df.columns) == HEADER and len(df) == 3
    assert df["截止日期"].iloc[0] == pd.Timestamp("2022-03-31") and pd.isna(df["截止日期"].iloc[2])
    assert df["进度"].tolist() == [0.5, 1.0, 0.3]
    assert got["used"] == "$A$1:$H$8" and got["last"] == "$XFD$1048576" and got["down"] == "$A$4"
    assert got["year"] == 2022 and got["named"] == 2022
    assert got["name"] == ("督办台账.xlsx", "督办台账.xlsx")  # fullname has no folder on this engine
    assert got["active"] == "任务清单" and got["selection"] == "$C$3"
    assert result.actions == [] and result.alerts == []
    assert book_path.read_bytes() == before


def test_engine_limits_macros_must_respect(book_path):
    import xlwings as xw

    def macro(book):
        sheet = book.sheets["任务清单"]
        sheet["J1"].value = "new"
        seen = {"read_after_write": sheet["J1"].value, "empty_option": sheet["C3"].options(empty="").value,
                # Excel's End(xlDown) from C2 jumps over the empty C3 to C4; the engine stops at C2
                "end_down_over_gap": sheet["C2"].end("down").address,
                "last_row": sheet.used_range.last_cell.row}
        for label, call in [
            ("color", lambda: sheet["A1"].color),
            ("bold", lambda: sheet["A1"].font.bold),
            ("number_format", lambda: sheet["D2"].number_format),
            ("column_width", lambda: sheet["A1"].column_width),
            ("formula", lambda: sheet["A1"].formula),
            ("current_region", lambda: sheet["A1"].current_region),
            ("status_bar", lambda: setattr(book.app, "status_bar", "处理中")),
            ("visible", lambda: book.sheets["配置"].visible),
            ("alignment", lambda: setattr(sheet["A1"], "horizontal_alignment", "center")),
            ("delete_without_shift", lambda: sheet["3:3"].delete()),
            ("caller", lambda: xw.Book.caller()),
            # the usual "last row" idiom fails: end("up") from below the payload indexes past its end
            ("last_row_idiom", lambda: sheet.range((sheet.cells.last_cell.row, 1)).end("up").row),
        ]:
            try:
                call()
                seen[label] = "ok"
            except Exception as exc:  # noqa: BLE001 - recording which exception
                seen[label] = type(exc).__name__
        return seen

    seen = run_macro(book_path, macro).return_value
    assert seen["read_after_write"] is None  # the payload is a snapshot: own writes are not visible
    assert seen["empty_option"] is None  # VBA sends null, so options(empty=...) never applies
    assert seen["end_down_over_gap"] == "$C$2"
    assert seen["last_row"] == 8  # A1:H8 - formatted cells count, as in Excel's UsedRange
    for label in ("color", "bold", "number_format", "column_width", "formula", "current_region",
                  "status_bar", "alignment"):
        assert seen[label] == "NotImplementedError", label
    assert seen["visible"] == "KeyError"  # the VBA payload carries no sheet visibility
    assert seen["delete_without_shift"] == "XlwingsError"
    assert seen["caller"] != "ok"
    assert seen["last_row_idiom"] == "IndexError"


# --- writing --------------------------------------------------------------------------

def test_write_block_changes_exactly_those_cells(book_path):
    before = snapshot(book_path)

    def macro(book):
        book.sheets["反馈记录"]["A3"].value = [
            ["2022-ZD-002", "区财政局", "已完成", 3],
            ["2022-ZD-003", "区教育局", None, 4.5],
        ]

    result = run_macro(book_path, macro, caller_sheet="反馈记录")
    assert result.funcs == ["setValues"] and result.coercions == []
    after = snapshot(book_path)
    written = {("反馈记录", c) for c in ("A3", "B3", "C3", "D3", "A4", "B4", "D4")}
    assert changed(before, after) == written
    ws = openpyxl.load_workbook(book_path)["反馈记录"]
    assert [[c.value for c in row] for row in ws["A3:D4"]] == [
        ["2022-ZD-002", "区财政局", "已完成", 3], ["2022-ZD-003", "区教育局", None, 4.5]]
    assert ws["A3"].data_type == "s"


def test_add_sheet_colour_bold_alert(book_path):
    before = snapshot(book_path)

    def macro(book):
        tasks = book.sheets["任务清单"]
        summary = book.sheets.add("汇总", after=tasks)
        summary["A1"].value = [["单位", "任务数"], ["区财政局", 1]]
        tasks["A2:F2"].color = "#FFC7CE"
        tasks["B3"].color = (0, 176, 80)
        tasks["A4:F4"].font.bold = True
        tasks["C2"].font.color = "#9C0006"
        book.app.alert("已生成汇总表", title="督办", buttons="ok", mode="info")

    result = run_macro(book_path, macro, caller_sheet="任务清单")
    assert result.messages == ["已生成汇总表"]
    assert (result.alerts[0].title, result.alerts[0].buttons, result.alerts[0].mode) == ("督办", "ok", "info")
    assert [a["func"] for a in result.other] == ["alert"]
    assert result.vba_missing == ["setFontProperty"]  # the stock VBA client could not run these
    wb = openpyxl.load_workbook(book_path)
    assert wb.sheetnames == ["任务清单", "汇总", "反馈记录", "配置"]
    assert wb["配置"].sheet_state == "hidden" and wb.active.title == "汇总"
    assert [[c.value for c in row] for row in wb["汇总"]["A1:B2"]] == [["单位", "任务数"], ["区财政局", 1]]
    tasks = wb["任务清单"]
    assert {tasks.cell(2, c).fill.fgColor.rgb for c in range(1, 7)} == {"FFFFC7CE"}
    assert tasks["B3"].fill.fgColor.rgb == "FF00B050"
    assert all(tasks.cell(4, c).font.b for c in range(1, 7))
    assert tasks["C2"].font.color.rgb == "FF9C0006"
    after = snapshot(book_path)
    expected = ({("任务清单", f"{c}2") for c in "ABCDEF"} | {("任务清单", "B3")}
                | {("任务清单", f"{c}4") for c in "ABCDEF"}
                | {("汇总", c) for c in ("A1", "B1", "A2", "B2")})
    assert changed(before, after) == expected
    for key in expected & before.keys():  # restyled cells keep their values
        assert after[key][0] == before[key][0]


def test_text_is_parsed_the_way_excel_parses_it(book_path):
    def macro(book):
        book.sheets["反馈记录"]["A5"].value = [[
            "001", "'001", "5%", "2022-03-01", dt.date(2022, 4, 1), dt.datetime(2022, 4, 1, 8, 30), "3/1", "=1+1",
            "2022年度", "TRUE"]]

    result = run_macro(book_path, macro, today=TODAY)
    ws = openpyxl.load_workbook(book_path)["反馈记录"]
    cells = [ws.cell(5, c) for c in range(1, 11)]
    assert [c.value for c in cells] == [
        1, "001", 0.05, dt.datetime(2022, 3, 1), dt.datetime(2022, 4, 1), dt.datetime(2022, 4, 1, 8, 30),
        dt.datetime(2022, 3, 1), "=1+1", "2022年度", True]
    assert cells[1].quotePrefix and cells[1].data_type == "s"
    assert [c.number_format for c in cells[2:6]] == ["0%", "yyyy/m/d", "yyyy/m/d", "yyyy/m/d h:mm"]
    # Everything Excel changed is reported, except "yyyy-mm-dd[ HH:MM:SS]" text: that is how the
    # engine sends Python dates, so it cannot be told apart from a date written on purpose.
    assert [(c.cell, c.kind) for c in result.coercions] == [
        ("A5", "number"), ("C5", "percent"), ("G5", "date"), ("H5", "formula"), ("J5", "boolean")]


def test_delete_insert_clear_and_sort(book_path):
    def macro(book):
        tasks = book.sheets["任务清单"]
        tasks["2:2"].delete("up")
        tasks["B2:C2"].clear_contents()
        feedback = book.sheets["反馈记录"]
        feedback["A2"].insert("down", "format_from_left_or_above")
        feedback["A6"].value = [["b"], ["C"], ["a"], [None], [2]]
        feedback["A6:A10"].sort(1, True)

    run_macro(book_path, macro)
    wb = openpyxl.load_workbook(book_path)
    tasks = wb["任务清单"]
    assert [c.value for c in tasks[2]][:6] == ["2022-ZD-002", None, None, dt.datetime(2022, 6, 30, 10, 30), 1, True]
    assert [c.value for c in tasks[3]][:6] == ["2022-ZD-003", None, "区财政局", None, pytest.approx(0.3), None]
    assert tasks["H7"].fill.fgColor.rgb == "FFFFFF00"  # whole row deleted: the format moved up too
    feedback = wb["反馈记录"]
    assert [feedback.cell(r, 1).value for r in range(1, 4)] == ["编号", None, "2022-ZD-001"]
    assert feedback["B2"].value == "区发展和改革局"  # only column A shifted
    assert [feedback.cell(r, 1).value for r in range(6, 11)] == [2, "a", "b", "C", None]


def test_macro_error_leaves_the_file_alone(book_path):
    before = book_path.read_bytes()

    def macro(book):
        book.sheets["任务清单"]["A1"].value = "half done"
        raise RuntimeError("台账格式不对")

    with pytest.raises(RuntimeError, match="台账格式不对"):
        run_macro(book_path, macro)
    assert book_path.read_bytes() == before


# --- apply_actions directly -------------------------------------------------------------

def test_unknown_and_unemulated_actions_raise(book_path):
    base = {"args": [None], "values": None, "sheet_position": 0, "start_row": 0, "start_column": 0,
            "row_count": 1, "column_count": 1}
    for func, match in [("addPivotTable", "pivot tables"), ("rangeAutofill", "series"),
                        ("setDataValidationList", "Office.js"), ("someFutureAction", "not emulated")]:
        with pytest.raises(UnsupportedActionError, match=match):
            apply_actions(book_path, [{**base, "func": func}], out=book_path.with_name("x.xlsx"))
    with pytest.raises(HarnessError, match="2x1 values"):
        apply_actions(book_path, {"actions": [{**base, "func": "setValues", "values": [[1], [2]]}]},
                      out=book_path.with_name("x.xlsx"))


def test_apply_to_open_workbook_collects_non_cell_actions(book_path):
    wb = openpyxl.load_workbook(book_path)
    actions = [
        {"func": "setScreenUpdating", "args": [False]},
        {"func": "runMacro", "args": ["'督办台账.xlsm'!Refresh", 1]},
        {"func": "setValues", "args": [None], "values": [["x"]], "sheet_position": 1, "start_row": 9,
         "start_column": 0, "row_count": 1, "column_count": 1},
        {"func": "save", "args": []},
    ]
    result = apply_actions(wb, actions)
    assert [a["func"] for a in result.other] == ["setScreenUpdating", "runMacro", "save"]
    assert wb["反馈记录"]["A10"].value == "x"
    assert result.vba_missing == ["setScreenUpdating", "save"]


# --- the stock VBA client (client="vba") ---------------------------------------------------

def test_vba_client_stops_at_actions_remote_bas_cannot_run(book_path):
    assert {"setValues", "setRangeColor", "alert", "addSheet"} <= remote_bas_handlers()
    assert "setFontProperty" not in remote_bas_handlers()

    def macro(book):
        sheet = book.sheets["反馈记录"]
        sheet["A5"].value = [["2022-03-01-补充", "1-2-3"]]
        sheet["A6"].font.bold = True
        sheet["A7"].value = "never"

    with pytest.raises(VbaClientError, match="setFontProperty") as info:
        run_macro(book_path, macro, client="vba")
    # ParseIso turns any "y-m-d..." text into a date, even with trailing text
    assert [(c.cell, c.stored) for c in info.value.result.coercions] == [
        ("A5", dt.datetime(2022, 3, 1)), ("B5", dt.datetime(2001, 2, 3))]
    ws = openpyxl.load_workbook(book_path)["反馈记录"]
    assert ws["A5"].value == dt.datetime(2022, 3, 1) and ws["A7"].value is None


def test_vba_client_add_sheet_lands_after_the_wrong_sheet(book_path, tmp_path):
    def macro(book):
        book.sheets.add("汇总", after=book.sheets["任务清单"])

    # Remote.bas: wb.Sheets.Add (before the ACTIVE sheet), then Move After:=Worksheets(index + 1)
    # counted after that insertion. From 反馈记录 the result happens to be right ...
    other = tmp_path / "copy.xlsx"
    other.write_bytes(book_path.read_bytes())
    result = run_macro(other, macro, caller_sheet="反馈记录", client="vba")
    assert openpyxl.load_workbook(other).sheetnames == ["任务清单", "汇总", "反馈记录", "配置"]
    assert result.warnings == []
    # ... from a sheet further right it is not (the desktop engine would put it second).
    wb = openpyxl.load_workbook(book_path)
    wb.create_sheet("附件")
    wb.active = wb.sheetnames.index("附件")
    wb.save(book_path)
    result = run_macro(book_path, macro, caller_sheet="附件", client="vba")
    assert openpyxl.load_workbook(book_path).sheetnames == ["任务清单", "反馈记录", "汇总", "配置", "附件"]
    assert any("Remote.bas put '汇总' at position 2" in w for w in result.warnings)


def test_vba_parse_iso_matches_webhelpers():
    assert vba_parse_iso("2022-03-01T10:20:30.000Z") == dt.datetime(2022, 3, 1, 10, 20, 30)
    assert vba_parse_iso("2022-13-45") == dt.datetime(2023, 2, 14)  # DateSerial rolls over
    assert vba_parse_iso("22-3-1") == dt.datetime(2022, 3, 1)
    for text in ("2022-03-01 10:00:00", "abc", 5, True, "2022-03"):
        with pytest.raises(ValueError):
            vba_parse_iso(text)


def test_sheet_and_format_actions_land_in_the_file(book_path):
    def macro(book):
        tasks, feedback = book.sheets["任务清单"], book.sheets["反馈记录"]
        tasks["G2:G4"].formula = "=E2*2"
        tasks["A6:C6"].merge()
        tasks.freeze_panes.freeze_at("A1")
        tasks.page_setup.print_area = "A1:F4"
        tasks["A1:F4"].borders.line_style = "continuous"
        table = tasks.tables["任务表"]
        table.name, table.table_style = "任务表2", "TableStyleLight9"
        tasks["A1:F4"].copy(feedback["F1"])
        feedback["A10"].copy_from(tasks["A1:B2"], copy_type="values", transpose=True)
        tasks["2:3"].group()
        tasks["A2:A4"].replace_all("ZD", "重点")
        feedback["A1:D2"].name = "反馈表"
        book.names["年度"].delete()
        feedback.name = "反馈"
        settings = book.sheets["配置"]
        settings.visible = True
        feedback.copy(after=settings)
        settings.move(before=tasks)
        tasks.activate()
        tasks["B2"].select()
        book.app.calculate()
        tasks["D1:D4"].number_format = "yyyy年m月d日"
        tasks["B1"].wrap_text = True
        tasks["B1"].row_height = 28
        tasks["B:B"].column_width = 30
        tasks["A8:B9"].clear()

    result = run_macro(book_path, macro, caller_sheet="反馈记录")
    assert [a["func"] for a in result.other] == ["activateSheet", "rangeSelect", "calculate"]
    assert result.selection == "B2" and result.active_sheet == "任务清单"
    assert any("not recalculated" in w for w in result.warnings)
    wb = openpyxl.load_workbook(book_path)
    assert wb.sheetnames == ["配置", "任务清单", "反馈", "反馈 (2)"] and wb.active.title == "任务清单"
    assert all(ws.sheet_state == "visible" for ws in wb.worksheets)
    tasks = wb["任务清单"]
    assert [tasks.cell(r, 7).value for r in range(2, 5)] == ["=E2*2", "=E3*2", "=E4*2"]  # references adjusted
    assert [tasks.cell(r, 1).value for r in range(2, 5)] == ["2022-重点-001", "2022-重点-002", "2022-重点-003"]
    assert {str(m) for m in tasks.merged_cells.ranges} == {"A6:C6"}
    assert tasks.freeze_panes == "B2" and tasks.print_area == "'任务清单'!$A$1:$F$4"
    assert list(tasks.tables) == ["任务表2"] and tasks.tables["任务表2"].tableStyleInfo.name == "TableStyleLight9"
    assert tasks["A1"].border.top.style == "thin" and tasks["C3"].border.left.style == "thin"
    assert tasks.row_dimensions[2].outline_level == 1 and tasks.column_dimensions["B"].width == 30
    assert tasks["B1"].alignment.wrap_text and tasks.row_dimensions[1].height == 28
    assert tasks["D2"].number_format == "yyyy年m月d日" and tasks["D2"].value == dt.datetime(2022, 3, 31)
    feedback = wb["反馈"]
    assert [[c.value for c in row] for row in feedback["F1:G2"]] == [["编号", "任务"], ["2022-ZD-001", "一季度GDP增长"]]
    assert [[c.value for c in row] for row in feedback["A10:B11"]] == [["编号", "2022-ZD-001"], ["任务", "一季度GDP增长"]]
    assert wb["反馈 (2)"]["C2"].value == "一季度GDP增长5.1%"
    assert {k: v.attr_text for k, v in wb.defined_names.items()} == {"反馈表": "反馈!$A$1:$D$2"}
    assert feedback.defined_names["反馈区"].attr_text == "反馈!$A$1:$D$2"  # Excel rewrites names on rename


def test_enable_remote_after_xlwings_was_imported_without_a_key(tmp_path):
    """xlwings registers its PRO engines at import time; enable_remote() copes with a late key."""
    import os
    import subprocess
    import sys

    code = (
        "import xlwings as xw\n"
        "assert 'remote' not in [e.name for e in xw.engines]\n"
        "from tests.xlwings_remote import enable_remote\n"
        "enable_remote()\n"
        "book = xw.Book(json={'client': 'VBA', 'version': xw.__version__, 'names': [],\n"
        "    'book': {'name': 'x.xlsx', 'active_sheet_index': 0, 'selection': 'A1'},\n"
        "    'sheets': [{'name': 'S', 'values': [[1]], 'pictures': [], 'tables': []}]})\n"
        "print(book.sheets[0]['A1'].value)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "XLWINGS_LICENSE_KEY"}
    env["HOME"] = str(tmp_path)  # no ~/.xlwings/xlwings.conf key either
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
