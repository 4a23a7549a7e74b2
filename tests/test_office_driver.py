"""The real-office driver (tests/office.py): a clerk fills a protected feedback workbook in LibreOffice.

The workbook mimics a per-unit feedback workbook: a protected sheet '反馈表' where only the input cells are
unlocked, a drop-down (list validation) on the status column, and a veryHidden sheet '_duban'. It is filled
through the UNO API without unprotecting anything, saved as .xlsx and .xls, and read back with
python-calamine and openpyxl.

LibreOffice missing: skipped locally, a failure when the ``CI`` environment variable is set.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font, Protection
from openpyxl.worksheet.datavalidation import DataValidation
from python_calamine import CalamineWorkbook, SheetVisibleEnum

from . import office as office_module
from .office import LockedCellError, Office, OfficeError, OfficeTimeout, office  # noqa: F401 (fixture)

SHEET = "反馈表"
HIDDEN = "_duban"
STATUS_LIST = '"未启动,进行中,已完成"'
PASSWORD = "duban2024"
INPUT_CELLS = [f"{col}{row}" for row in (3, 4, 5) for col in "CDE"]
EDITS = [
    (SHEET, "C3", "已完成招标，正在施工（进度70%）"),
    (SHEET, "D3", "进行中"),
    (SHEET, "E3", 0.75),
    (SHEET, "C4", "=1+1"),  # typed as text: must stay the text "=1+1", not a formula giving 2
    (SHEET, "D4", "已完成"),
    (SHEET, "E4", 42),
    (SHEET, "C5", "+86 0762-3333333"),
    (SHEET, "E5", -3.5),
]


def build_feedback_book(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    ws["A1"] = "2024年重点任务进展反馈表（区教育局）"
    ws["A1"].font = Font(name="宋体", size=14, bold=True)
    ws.append(["任务编号", "工作任务", "进展情况", "完成状态", "完成率"])
    ws.append(["2024-ZD-001", "推动制造业高质量发展", None, None, None])
    ws.append(["2024-ZD-002", None, None, None, None])
    ws.append(["2024-MS-03-2", "新建公办幼儿园2所", None, None, None])
    ws["B4"].value = "=SUM(1,2) 旧文本"
    ws["B4"].data_type = "s"  # openpyxl writes any str starting with "=" as a formula unless told otherwise
    for address in INPUT_CELLS:
        ws[address].protection = Protection(locked=False)
    dv = DataValidation(type="list", formula1=STATUS_LIST, allow_blank=True, showErrorMessage=True)
    dv.add("D3:D5")
    ws.add_data_validation(dv)
    ws.protection.sheet = True
    ws.protection.password = PASSWORD
    hidden = wb.create_sheet(HIDDEN)
    hidden.append(["unit", "区教育局"])
    hidden.append(["token", "9f1c-2024"])
    hidden.sheet_state = "veryHidden"
    wb.save(path)


def grid(path: Path, sheet: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def with_edits(rows: list[list], edits) -> list[list]:
    rows = [list(r) + [""] * (5 - len(r)) for r in rows]
    for _, address, value in edits:
        col, row = ord(address[0]) - ord("A"), int(address[1:]) - 1
        rows[row][col] = value
    return rows


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("office-src") / "反馈表-区教育局.xlsx"
    build_feedback_book(path)
    assert [m.visible for m in CalamineWorkbook.from_path(str(path)).sheets_metadata] == [
        SheetVisibleEnum.Visible, SheetVisibleEnum.VeryHidden]
    return path


@pytest.fixture(scope="module")
def filled(office: Office, source: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    before = sha(source)
    out = tmp_path_factory.mktemp("office-out")
    paths = {"xlsx": out / "已填报.xlsx", "xls": out / "已填报.xls"}
    office.fill(source, EDITS, out_xlsx=paths["xlsx"], out_xls=paths["xls"])
    assert sha(source) == before, "fill must not change the source workbook"
    return paths


# -- what the clerk typed, read back independently ---------------------------------------------------------------
@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_typed_values_read_back_exactly_and_locked_cells_unchanged(filled: dict[str, Path], source: Path,
                                                                   kind: str):
    rows = grid(filled[kind], SHEET)
    expected = with_edits(grid(source, SHEET), EDITS)
    assert rows == expected  # every typed value, and every other (locked) cell as it was
    assert rows[3][1] == "=SUM(1,2) 旧文本"
    assert rows[2][2] == "已完成招标，正在施工（进度70%）" and rows[3][2] == "=1+1"
    # numbers came back as numbers (calamine gives 42.0 from .xlsx but 42 from .xls: compare by value)
    assert [type(rows[r][4]) in (int, float) for r in (2, 3, 4)] == [True] * 3


@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_hidden_sheet_survives_but_only_as_hidden(filled: dict[str, Path], kind: str):
    book = CalamineWorkbook.from_path(str(filled[kind]))
    assert book.sheet_names == [SHEET, HIDDEN]
    visibility = {m.name: m.visible for m in book.sheets_metadata}
    assert visibility[SHEET] == SheetVisibleEnum.Visible
    # LibreOffice has no "very hidden": it saves the sheet as plain hidden (a user can unhide it)
    assert visibility[HIDDEN] == SheetVisibleEnum.Hidden
    assert book.get_sheet_by_name(HIDDEN).to_python() == [["unit", "区教育局"], ["token", "9f1c-2024"]]


def _assert_protection_kept(path: Path, source: Path) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    assert ws.protection.sheet is True
    # the same legacy password hash (LibreOffice writes the hex digits in lower case)
    assert ws.protection.password.upper() == openpyxl.load_workbook(source)[SHEET].protection.password.upper()
    for address in INPUT_CELLS:
        assert ws[address].protection.locked is False, address
    for address in ("A1", "A3", "B3", "B4", "A5"):
        assert ws[address].protection.locked is True, address
    validations = ws.data_validations.dataValidation
    assert [(dv.type, dv.formula1, str(dv.sqref)) for dv in validations] == [("list", STATUS_LIST, "D3:D5")]
    assert wb[HIDDEN].sheet_state == "hidden"


def test_xlsx_keeps_protection_unlocked_cells_and_dropdown(filled: dict[str, Path], source: Path):
    _assert_protection_kept(filled["xlsx"], source)
    ws = openpyxl.load_workbook(filled["xlsx"])[SHEET]
    assert (ws["C4"].value, ws["C4"].data_type) == ("=1+1", "s")  # text, not a formula
    assert (ws["B4"].value, ws["B4"].data_type) == ("=SUM(1,2) 旧文本", "s")
    assert (ws["E4"].value, ws["E4"].data_type) == (42, "n")


def test_xls_keeps_protection_unlocked_cells_and_dropdown(office: Office, filled: dict[str, Path], source: Path,
                                                         tmp_path: Path):
    # no .xls reader in the venv sees protection or validations: let LibreOffice read its .xls back
    back = tmp_path / "xls-read-back.xlsx"
    office.fill(filled["xls"], [], out_xlsx=back, out_xls=None)
    _assert_protection_kept(back, source)


# -- what the clerk could not do ------------------------------------------------------------------------------------
def test_locked_cell_raises_and_writes_nothing(office: Office, source: Path, tmp_path: Path):
    out_xlsx, out_xls = tmp_path / "locked.xlsx", tmp_path / "locked.xls"
    out_xlsx.write_bytes(b"stale output from an earlier run")
    before = sha(source)
    edits = [(SHEET, "C3", "合法输入"), (SHEET, "B3", "改任务内容")]  # the second targets a locked cell
    with pytest.raises(LockedCellError, match=r"反馈表!B3 is a locked cell"):
        office.fill(source, edits, out_xlsx=out_xlsx, out_xls=out_xls)
    assert not out_xlsx.exists() and not out_xls.exists()
    assert sha(source) == before
    # the hidden sheet is not protected: typing there is possible (LibreOffice would let a user unhide it)
    office.fill(source, [(HIDDEN, "B1", "改了")], out_xlsx=out_xlsx, out_xls=None)
    assert grid(out_xlsx, HIDDEN)[0] == ["unit", "改了"]
    assert grid(out_xlsx, SHEET) == grid(source, SHEET)


@pytest.mark.parametrize("edit, message", [
    ((SHEET + "X", "C3", "x"), "no sheet"),
    ((SHEET, "C3:D4", "x"), "not a single A1 cell"),
    ((SHEET, "3C", "x"), "not a single A1 cell"),
])
def test_bad_edits_raise_office_error(office: Office, source: Path, tmp_path: Path, edit, message: str):
    out = tmp_path / "bad.xlsx"
    with pytest.raises(OfficeError, match=message) as info:
        office.fill(source, [edit], out_xlsx=out)
    assert not isinstance(info.value, LockedCellError)
    assert not out.exists()


@pytest.mark.parametrize("value", [True, None, b"bytes", [1]])
def test_value_types_checked_before_calling_office(source: Path, tmp_path: Path, value):
    idle = Office(soffice="/nonexistent/soffice")  # never started: the check comes first
    with pytest.raises(TypeError):
        idle.fill(source, [(SHEET, "C3", value)], out_xlsx=tmp_path / "x.xlsx")


def test_fill_needs_an_output(source: Path):
    with pytest.raises(ValueError):
        Office(soffice="/nonexistent/soffice").fill(source, [], None, None)


# -- the driver itself ---------------------------------------------------------------------------------------------
def test_timeout_kills_and_next_call_restarts(office: Office, source: Path, tmp_path: Path):
    with Office(op_timeout=0.05) as quick:
        first_pid, workdir = quick._proc.pid, quick._workdir
        with pytest.raises(OfficeTimeout):
            quick.fill(source, [(SHEET, "C3", "x")], out_xlsx=tmp_path / "t.xlsx")
        assert not quick.running and not (tmp_path / "t.xlsx").exists()
        assert not office_module.group_alive(first_pid)  # the whole process group is gone
        assert not workdir.exists()  # and so is the private profile
        quick.op_timeout = 120
        quick.fill(source, [(SHEET, "C3", "重启后")], out_xlsx=tmp_path / "t.xlsx")  # starts a fresh soffice
        second_pid = quick._proc.pid
    assert grid(tmp_path / "t.xlsx", SHEET)[2][2] == "重启后"
    assert not office_module.group_alive(second_pid)


def test_fixture_skips_locally_and_fails_on_ci(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(office_module, "office_unavailable_reason", lambda: "`soffice` not found on PATH")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="soffice"):
        office_module.require_office()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        office_module.require_office()
