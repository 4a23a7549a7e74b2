"""The ledger store's fast path: rows nobody changed are copied, not rewritten (io/sheet_rows.py).

The byte-level tests build sheet XML by hand; the store tests write real ledgers, change
them the way commands do, and read the result back with openpyxl and LibreOffice's own
reader is exercised in test_package/test_libreoffice. Expected values are literals.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from xl_duban.domain.findings import Finding, Level
from xl_duban.domain.models import ChangeLogEntry, Feedback
from xl_duban.io.ledger_store import HIGHLIGHT, LedgerError, LedgerStore, create_ledger
from xl_duban.io.sheet_rows import (SheetRows, UnusualSheet, cell_style, error_cells, formula_cells, formula_groups, restyle,
                                    safe_tail, set_styles, splice)

NOW = datetime(2024, 5, 6, 10, 0)
MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def sheet(rows: str, *, root: str = f"<worksheet {MAIN}>", dimension: str = "A1:C3") -> bytes:
    return (f'{root}<dimension ref="{dimension}"/><sheetData>{rows}</sheetData>'
            f"<pageMargins/></worksheet>").encode()


def row(n: int, text: str = "x", extra: str = "") -> str:
    return f'<row r="{n}"{extra}><c r="A{n}" t="inlineStr"><is><t>{text}{n}</t></is></c></row>'


# -- bytes --------------------------------------------------------------------------------------------
def test_rows_are_cut_and_put_back_in_place():
    original = SheetRows(sheet("".join(row(n) for n in range(1, 8))))
    stub = SheetRows(original.stub(1, 6))
    assert stub.numbers == [1, 6, 7]

    written = sheet(row(1, "H") + row(6, "new") + row(7, "new") + row(8, "new"), dimension="A1:A8")
    out = b"".join(splice(written, original, 1, 6))
    numbers = SheetRows(out).numbers
    assert numbers == [1, 2, 3, 4, 5, 6, 7, 8]
    assert b"<t>H1</t>" in out and b"<t>new6</t>" in out  # head and tail as openpyxl wrote them
    assert all(f"<t>x{n}</t>".encode() in out for n in (2, 3, 4, 5))  # the middle as it was
    assert b"<t>x6</t>" not in out
    assert b'<dimension ref="A1:C8"/>' in out  # rows of both, columns of the wider


def test_splice_declares_the_namespaces_excel_rows_use():
    root = (f'<worksheet {MAIN} xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
            'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" mc:Ignorable="x14ac">')
    original = SheetRows(sheet("".join(row(n, extra=' x14ac:dyDescent="0.25"') for n in range(1, 5)), root=root))
    out = b"".join(splice(sheet(row(1) + row(4)), original, 1, 4))
    parsed = openpyxl.xml.functions.fromstring(out)  # well-formed: the prefix is declared
    assert parsed is not None
    assert b'mc:Ignorable="x14ac"' in out and b'x14ac:dyDescent="0.25"' in out


def test_prefixes_to_ignore_are_merged_when_both_roots_list_some():
    mc = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
    original = SheetRows(sheet(row(1) + row(2) + row(3), root=f'<worksheet {MAIN} {mc} xmlns:xr="urn:xr" mc:Ignorable="x14ac xr">'))
    written = sheet(row(1) + row(3), root=f'<worksheet {MAIN} {mc} xmlns:x14ac="urn:x14ac" mc:Ignorable="x14ac">')
    out = b"".join(splice(written, original, 1, 3))
    assert b'mc:Ignorable="x14ac xr"' in out and out.count(b"mc:Ignorable") == 1 and b'xmlns:xr="urn:xr"' in out


def test_nothing_to_put_back_leaves_what_openpyxl_wrote():
    original = SheetRows(sheet(row(1) + row(2)))
    written = sheet(row(1, "H") + row(2, "y"))
    assert splice(written, original, 1, 2) == [written]


def test_formats_are_set_in_copied_rows_where_the_cells_stand():
    rows = ('<row r="2"><c r="A2" s="3" t="inlineStr"><is><t>a</t></is></c><c r="D2"><v>1</v></c></row>'
            '<row r="3" spans="1:4"/>'
            '<row r="5"><c r="B5" s="7"><v>2</v></c></row>').encode()
    out = set_styles(rows, {(2, 1): 9, (2, 3): 9, (3, 2): 9, (4, 1): 9, (5, 2): 9})
    assert out == ('<row r="2"><c r="A2" s="9" t="inlineStr"><is><t>a</t></is></c><c r="C2" s="9"/>'
                   '<c r="D2"><v>1</v></c></row>'
                   '<row r="3" spans="1:4"><c r="B3" s="9"/></row>'
                   '<row r="4"><c r="A4" s="9"/></row>'
                   '<row r="5"><c r="B5" s="9"><v>2</v></c></row>').encode()
    assert restyle(out, {9: 0, 7: 1}) == out.replace(b's="9"', b's="0"')
    assert cell_style(SheetRows(sheet(rows.decode())), 5, 2) == 7
    assert cell_style(SheetRows(sheet(rows.decode())), 2, 4) == 0  # there, without a format
    assert cell_style(SheetRows(sheet(rows.decode())), 4, 1) is None


@pytest.mark.parametrize("xml", [
    b'<x:worksheet xmlns:x="m"><x:sheetData><x:row r="1"/></x:sheetData></x:worksheet>',  # prefixed
    sheet('<row><c r="A1"/></row>'),  # a row without its number
    sheet(row(2) + row(1)),  # out of order
])
def test_unusual_sheets_are_not_taken_apart(xml: bytes):
    with pytest.raises(UnusualSheet):
        SheetRows(xml)


def test_empty_sheet_data():
    rows = SheetRows(sheet("").replace(b"<sheetData></sheetData>", b"<sheetData/>"))
    assert rows.numbers == [] and rows.stub(1, 2).count(b"<sheetData>") == 1


def test_formula_cells_expand_shared_formulas():
    xml = sheet('<row r="2"><c r="D2"><f t="shared" ref="D2:D4" si="0">B2*2</f><v>4</v></c>'
                '<c r="E2"><f>SUM(A1:A2)&amp;"件"</f><v>3件</v></c></row>'
                '<row r="3"><c r="D3"><f t="shared" si="0"/><v>6</v></c></row>'
                '<row r="4"><c r="D4"><f t="shared" si="0"/><v>8</v></c><c r="E4"><v>1</v></c></row>')
    assert formula_cells(xml) == {(2, 4): "=B2*2", (2, 5): '=SUM(A1:A2)&"件"', (3, 4): "=B3*2", (4, 4): "=B4*2"}
    assert formula_cells(sheet(row(1))) == {}


# -- the store ---------------------------------------------------------------------------------------
def log(i: int) -> ChangeLogEntry:
    return ChangeLogEntry(time=f"2024-05-06 10:{i % 60:02d}", action="测试", object=f"对象{i}", field="字段", old="",
                          new=str(i), source="test")


def ledger_with(path: Path, **records) -> Path:
    """A new ledger at ``path`` holding ``records`` (sheet attribute → records), saved once."""
    create_ledger(path, 2024, now=NOW)
    store = LedgerStore(path)
    led, _ = store.load()
    for attr, rows in records.items():
        setattr(led, attr, rows)
    store.save(led, now=NOW)
    return path


@pytest.fixture
def long_ledger(tmp_path: Path) -> Path:
    """A ledger with 60 变更日志 rows, one of them formatted by the clerk."""
    path = ledger_with(tmp_path / "台账.xlsx", changelog=[log(i) for i in range(60)])
    wb = openpyxl.load_workbook(path)
    wb["变更日志"]["B10"].font = Font(bold=True, color="FFC00000")  # the clerk marks a row
    wb["变更日志"]["J10"] = "备查"  # and writes beside the table
    wb.save(path)
    # rows as Excel writes them, with an attribute openpyxl would not write back
    part = sheet_part(path, "变更日志")
    rewrite_part(path, part, re.sub(rb'<row r="(\d+)"', rb'<row r="\1" spans="1:7"', read_part(path, part)))
    return path


def sheet_part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as zf:
        book, rels = zf.read("xl/workbook.xml").decode(), zf.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{name}"[^>]*r:id="(rId\d+)"', book).group(1)
    target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*/>', rels).group(0)
    target = re.search(r'Target="([^"]+)"', target).group(1).lstrip("/")
    return target if target.startswith("xl/") else "xl/" + target


def read_part(path: Path, part: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(part)


def rewrite_part(path: Path, part: str, data: bytes) -> None:
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    parts[part] = data
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)


def sheet_xml(path: Path, name: str) -> bytes:
    return read_part(path, sheet_part(path, name))


def test_appending_keeps_every_earlier_row_byte_for_byte(long_ledger: Path):
    before = SheetRows(sheet_xml(long_ledger, "变更日志"))
    assert before.between(2, 62).count(b'spans="1:7"') == 60
    store = LedgerStore(long_ledger)
    led, _ = store.load()
    led.changelog.append(log(60))
    store.save(led, now=NOW)

    after = SheetRows(sheet_xml(long_ledger, "变更日志"))
    assert after.between(2, 62) == before.between(2, 62)  # rows 2–61 (60 records) untouched
    assert after.last_row == 62
    ws = openpyxl.load_workbook(long_ledger)["变更日志"]
    assert ws["B10"].font.bold and ws["B10"].font.color.rgb == "FFC00000"
    assert ws["J10"].value == "备查"
    assert ws["C62"].value == "对象60"
    assert ws.tables["tblChangeLog"].ref == "A1:G62"
    assert LedgerStore(long_ledger).load()[0].changelog[-1].new == "60"


def test_a_changed_row_in_the_middle_is_rewritten_with_what_follows(long_ledger: Path):
    store = LedgerStore(long_ledger)
    led, _ = store.load()
    led.changelog[30].new = "改过"
    del led.changelog[45]
    store.save(led, now=NOW)

    ws = openpyxl.load_workbook(long_ledger)["变更日志"]
    assert ws["F32"].value == "改过"  # record 30 stands in row 32
    assert [ws.cell(r, 3).value for r in (46, 47, 60)] == ["对象44", "对象46", "对象59"]
    assert ws["C61"].value is None  # the last row moved up, nothing left behind
    assert ws["J10"].value == "备查"
    assert [c.new for c in LedgerStore(long_ledger).load()[0].changelog][44:47] == ["44", "46", "47"]


def test_highlights_in_untouched_rows_are_set_and_cleared(long_ledger: Path):
    store = LedgerStore(long_ledger)
    led, _ = store.load()
    finding = Finding(level=Level.error, code="t", message="第40行有误", sheet="变更日志", row=40, column="对象")
    store.save(led, highlights=[finding], now=NOW)
    ws = openpyxl.load_workbook(long_ledger)["变更日志"]
    assert ws["C40"].fill.fgColor.rgb == HIGHLIGHT and ws["C40"].comment.author == "督办校验"
    assert ws["C40"].number_format == "@"  # the cell keeps its own format under the fill
    assert ws["H40"].fill.fgColor.rgb != HIGHLIGHT and ws["B10"].font.bold  # nothing else disturbed

    store = LedgerStore(long_ledger)  # the same finding again: still marked, one comment
    led, _ = store.load()
    store.save(led, highlights=[finding], now=NOW)
    ws = openpyxl.load_workbook(long_ledger)["变更日志"]
    assert ws["C40"].fill.fgColor.rgb == HIGHLIGHT and ws["C40"].comment.text.count("第40行有误") == 1

    store = LedgerStore(long_ledger)
    led, _ = store.load()
    store.save(led, highlights=[], now=NOW)
    ws = openpyxl.load_workbook(long_ledger)["变更日志"]
    assert ws["C40"].fill.fill_type is None and ws["C40"].comment is None
    assert ws["C40"].value == "对象38" and ws["C40"].number_format == "@"


def test_user_comments_and_fills_in_copied_rows_survive(long_ledger: Path):
    wb = openpyxl.load_workbook(long_ledger)
    wb["变更日志"]["E20"].comment = Comment("请核实", "王科长")
    wb["变更日志"]["E21"].fill = PatternFill("solid", fgColor="FFFFFF00")
    wb.save(long_ledger)
    store = LedgerStore(long_ledger)
    led, _ = store.load()
    led.changelog.append(log(99))
    store.save(led, highlights=[], now=NOW)
    ws = openpyxl.load_workbook(long_ledger)["变更日志"]
    assert ws["E20"].comment.text == "请核实"
    assert ws["E21"].fill.fgColor.rgb == "FFFFFF00"


def test_a_file_changed_since_it_was_read_is_not_overwritten(long_ledger: Path, tmp_path: Path):
    store = LedgerStore(long_ledger)
    led, _ = store.load()
    other = tmp_path / "other.xlsx"
    shutil.copy(long_ledger, other)
    wb = openpyxl.load_workbook(other)
    wb["设置"]["B30"] = "别人的修改"
    wb.save(long_ledger)  # another program saved the ledger meanwhile
    changed = long_ledger.read_bytes()
    led.changelog.append(log(61))
    with pytest.raises(LedgerError, match="被改动过"):
        store.save(led, now=NOW)
    assert long_ledger.read_bytes() == changed


def test_saving_twice_through_one_store(long_ledger: Path):
    store = LedgerStore(long_ledger)
    led, _ = store.load()
    led.changelog.append(log(70))
    store.save(led, now=NOW)
    led.changelog.append(log(71))
    store.save(led, now=NOW)
    assert [c.new for c in LedgerStore(long_ledger).load()[0].changelog][-3:] == ["59", "70", "71"]


@pytest.fixture
def counted_feedback(tmp_path: Path) -> Path:
    """A ledger with 5 反馈记录 rows and a user column 字数 of formulas =LEN(E2)…=LEN(E6)."""
    path = ledger_with(tmp_path / "台账.xlsx", feedback=[
        Feedback(task_id="2024-ZD-001", period="2024Q1", unit="区教育局", completion="未完成", progress=f"进展{i}")
        for i in range(5)])
    wb = openpyxl.load_workbook(path)
    ws = wb["反馈记录"]
    ws["M1"] = "字数"
    for r in range(2, 7):
        ws[f"M{r}"] = f"=LEN(E{r})"
    wb.save(path)
    return path


def test_feedback_formula_in_a_user_column_is_kept(counted_feedback: Path):
    path = counted_feedback
    store = LedgerStore(path)
    led, _ = store.load()
    assert led.feedback[0].extras["字数"] == "=LEN(E2)"
    led.feedback[4].progress = "改过的进展"  # row 6 is rewritten; rows 2–5 are copied
    store.save(led, now=NOW)
    ws = openpyxl.load_workbook(path)["反馈记录"]
    assert [ws[f"M{r}"].value for r in range(2, 7)] == [f"=LEN(E{r})" for r in range(2, 7)]


# -- any sequence of changes --------------------------------------------------------------------------
TEXTS = st.text(alphabet=st.sampled_from(list("督查变更日志ABCxyz019 &<>\"'=+-@\n") + ["🎉", "。", "\t"]), max_size=12)
STEPS = st.lists(st.one_of(
    st.tuples(st.just("append"), TEXTS),
    st.tuples(st.just("edit"), st.integers(0, 40), TEXTS),
    st.tuples(st.just("delete"), st.integers(0, 40)),
    st.tuples(st.just("mark"), st.integers(0, 40)),
), min_size=1, max_size=5)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEPS, min_size=1, max_size=3))
def test_any_changes_read_back_exactly(tmp_path_factory, steps):
    """Saves of appended, edited and deleted rows and of highlights, in any order: a fresh
    store and openpyxl (an independent reader) both read back exactly what was saved, and
    exactly the cells findings point at carry the highlight."""
    path = ledger_with(tmp_path_factory.mktemp("prop") / "台账.xlsx", changelog=[log(i) for i in range(30)])
    for save in steps:
        store = LedgerStore(path)
        led, _ = store.load()
        marks = []
        for step in save:
            if step[0] == "append":
                led.changelog.append(log(len(led.changelog)).model_copy(update={"new": step[1]}))
            elif step[0] == "edit" and step[1] < len(led.changelog):
                led.changelog[step[1]].old = step[2]
            elif step[0] == "delete" and step[1] < len(led.changelog):
                del led.changelog[step[1]]
            elif step[0] == "mark" and step[1] < len(led.changelog):
                marks.append(step[1])
        store.renumber(led)
        findings = [Finding(level=Level.error, code="t", message="核对", sheet="变更日志", row=led.changelog[i].row, column="旧值")
                    for i in marks]
        store.save(led, highlights=findings, now=NOW)
        expected = [{k: v.strip() if isinstance(v, str) else v for k, v in c.model_dump(exclude={"row"}).items()}
                    for c in led.changelog]  # texts read back trimmed, as the store reads any sheet

        assert [c.model_dump(exclude={"row"}) for c in LedgerStore(path).load()[0].changelog] == expected
        ws = openpyxl.load_workbook(path)["变更日志"]
        olds = [(ws.cell(r, 5).value or "").strip() for r in range(2, len(expected) + 2)]
        assert olds == [e["old"] for e in expected]
        assert all(ws.cell(r, c).value is None for r in range(len(expected) + 2, ws.max_row + 1) for c in range(1, 8))
        marked = {r for r in range(2, ws.max_row + 1) for c in range(1, 8)
                  if ws.cell(r, c).fill.fgColor.rgb == HIGHLIGHT and ws.cell(r, c).fill.fill_type == "solid"}
        assert marked == {led.changelog[i].row for i in marks}


@pytest.mark.parametrize("groups, cut, moved", [
    ([(3, 5)], (1, 9), 9),  # wholly copied
    ([(10, 12)], (1, 9), 9),  # wholly given to openpyxl
    ([(4, 12)], (1, 9), 4),  # would be split between copied rows and openpyxl's: openpyxl gets it whole
    ([(1, 6)], (1, 9), 1),  # from the header row into the copied rows: nothing is copied
    ([(4, 12), (2, 5)], (1, 9), 2),  # moving for one group splits another
])
def test_a_cut_never_splits_a_formula_group(groups, cut, moved):
    assert safe_tail(groups, *cut) == moved


def test_shared_formulas_across_the_cut_stay_whole(counted_feedback: Path):
    """Excel stores a formula filled down as one shared formula: the dependents hold only the
    anchor's number. A change in the middle of the group must not leave them without it."""
    path = counted_feedback
    part = sheet_part(path, "反馈记录")
    xml = read_part(path, part)
    xml = xml.replace(b"<f>LEN(E2)</f>", b'<f t="shared" ref="M2:M6" si="0">LEN(E2)</f>')
    for r in range(3, 7):
        xml = xml.replace(f"<f>LEN(E{r})</f>".encode(), b'<f t="shared" si="0"/>')
    rewrite_part(path, part, xml)
    assert formula_groups(read_part(path, part)) == [(2, 6)]

    store = LedgerStore(path)
    led, _ = store.load()
    assert [f.extras["字数"] for f in led.feedback] == [f"=LEN(E{r})" for r in range(2, 7)]
    led.feedback[2].progress = "改过"  # row 4: inside the group
    store.save(led, now=NOW)
    ws = openpyxl.load_workbook(path)["反馈记录"]
    assert [ws[f"M{r}"].value for r in range(2, 7)] == [f"=LEN(E{r})" for r in range(2, 7)]
    assert b'si="0"' not in read_part(path, part)  # no member left pointing at an anchor that is gone


def test_a_formula_after_an_empty_cell_is_found():
    """Excel and LibreOffice write an empty formatted cell as <c …/>: the formula of the next
    cell is that cell's, not the empty one's."""
    xml = sheet('<row r="2"><c r="L2" s="4"/><c r="M2" s="4"><f>LEN(E2)</f><v>3</v></c>'
                '<c r="N2" t="e"><v>#N/A</v></c><c r="O2" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>')
    assert formula_cells(xml) == {(2, 13): "=LEN(E2)", (2, 15): "=1/0"}
    assert error_cells(xml) == {(2, 14): "#N/A"}


def test_error_values_and_formulas_of_user_columns_survive_a_rewrite(long_ledger: Path):
    part = sheet_part(long_ledger, "变更日志")
    xml = read_part(long_ledger, part)
    rows = SheetRows(xml)
    row2 = rows.between(2, 3)
    new_row2 = row2.replace(b"</row>", b'<c r="H2" s="0"/><c r="I2"><f>ROW()*2</f><v>4</v></c><c r="J2" t="e"><v>#N/A</v></c></row>')
    rewrite_part(long_ledger, part, xml.replace(row2, new_row2))
    wb = openpyxl.load_workbook(long_ledger)
    wb["变更日志"]["H1"], wb["变更日志"]["I1"], wb["变更日志"]["J1"] = "空列", "公式", "核对"
    wb.save(long_ledger)  # openpyxl keeps H2's empty cell, I2's formula and J2's error

    store = LedgerStore(long_ledger)
    led, _ = store.load()
    assert led.changelog[0].extras == {"公式": "=ROW()*2", "核对": "#N/A"}
    led.changelog[0].new = "改过"  # row 2 is rewritten
    store.save(led, now=NOW)
    ws = openpyxl.load_workbook(long_ledger)["变更日志"]
    assert (ws["F2"].value, ws["I2"].value, ws["J2"].value) == ("改过", "=ROW()*2", "#N/A")


def test_a_column_the_save_adds_is_text_in_every_row(long_ledger: Path):
    wb = openpyxl.load_workbook(long_ledger)
    ws = wb["变更日志"]
    ws.delete_cols(7)  # 来源, not a required column: the next save puts it back
    ws.tables["tblChangeLog"].ref = "A1:F61"
    ws.tables["tblChangeLog"].tableColumns = ws.tables["tblChangeLog"].tableColumns[:6]
    ws.tables["tblChangeLog"].autoFilter.ref = "A1:F61"
    wb.save(long_ledger)
    store = LedgerStore(long_ledger)
    led, _ = store.load()
    led.changelog.append(log(60))
    store.save(led, now=NOW)
    ws = openpyxl.load_workbook(long_ledger)["变更日志"]
    assert ws["G1"].value == "来源"
    assert {ws.cell(r, 7).number_format for r in range(2, 63)} == {"@"}  # 2024-03 typed in later stays text
