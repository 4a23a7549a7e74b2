"""完成时限 as task lists write it → a date cell; 超期 in validate, the bulletin and DUBAN_OVERDUE.

The parser is table-driven over the ways offices write deadlines (the 督查方案 seed writes
"2024年3月29日前", "4月10日、7月10日…前"; task lists add 年底前, 三季度末, 上半年, ranges and
full-width digits). The ledger-level tests import real .docx/.xlsx task lists built from the
seed's 附件2 rows, re-read the saved ledger with openpyxl, validate, publish a bulletin and
render it with LibreOffice.
"""

from __future__ import annotations

import copy
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

import udfs
from xl_duban.domain.deadlines import overdue_days, read_deadline, read_deadline_cell
from xl_duban.samples import write_tables_docx
from xl_duban.services import import_files, publish_bulletin, validate_ledger

from .conftest import NOW
from .test_libreoffice import office, poppler  # noqa: F401  (fixtures)

# -- the parser ------------------------------------------------------------------------------------------
Y = 2024
FORMS = [
    # (written, date in a 2024 ledger, kind)
    ("12 月 10 日", date(Y, 12, 10), "date"),
    ("12月10日", date(Y, 12, 10), "date"),
    ("12月10日前", date(Y, 12, 10), "date"),
    ("12月10号之前", date(Y, 12, 10), "date"),
    ("１２月１０日以前", date(Y, 12, 10), "date"),  # full-width digits
    ("  12月 10日前 ", date(Y, 12, 10), "date"),
    ("十二月十日", date(Y, 12, 10), "date"),  # Chinese numerals
    ("十二月", date(Y, 12, 31), "date"),
    ("十二月底前", date(Y, 12, 31), "date"),
    ("6月30日前", date(Y, 6, 30), "date"),
    ("6月底", date(Y, 6, 30), "date"),
    ("6月底前", date(Y, 6, 30), "date"),
    ("6月末", date(Y, 6, 30), "date"),
    ("6月份", date(Y, 6, 30), "date"),
    ("2月底前", date(Y, 2, 29), "date"),  # 2024 is a leap year
    ("6月上旬", date(Y, 6, 10), "date"),
    ("6月中旬前", date(Y, 6, 20), "date"),
    ("6月下旬", date(Y, 6, 30), "date"),
    ("6.30前", date(Y, 6, 30), "date"),
    ("年底前", date(Y, 12, 31), "date"),
    ("年底", date(Y, 12, 31), "date"),
    ("年末", date(Y, 12, 31), "date"),
    ("年内", date(Y, 12, 31), "date"),
    ("全年", date(Y, 12, 31), "date"),
    ("今年底前", date(Y, 12, 31), "date"),
    ("2024年12月", date(Y, 12, 31), "date"),
    ("2024年12月底前", date(Y, 12, 31), "date"),
    ("2024 年 12 月 31 日", date(Y, 12, 31), "date"),
    ("二〇二四年十二月三十一日", date(Y, 12, 31), "date"),
    ("2024.12", date(Y, 12, 31), "date"),
    ("2024-12", date(Y, 12, 31), "date"),
    ("2024/12/31", date(Y, 12, 31), "date"),
    ("2024.9.30前", date(Y, 9, 30), "date"),
    ("2024-12-31 00:00:00", date(Y, 12, 31), "date"),  # a date cell read as text
    ("2024年底", date(Y, 12, 31), "date"),
    ("2024年", date(Y, 12, 31), "date"),
    ("第三季度", date(Y, 9, 30), "date"),
    ("三季度末", date(Y, 9, 30), "date"),
    ("第3季度末前", date(Y, 9, 30), "date"),
    ("四季度", date(Y, 12, 31), "date"),
    ("2024年第一季度", date(Y, 3, 31), "date"),
    ("2024Q2", date(Y, 6, 30), "date"),
    ("上半年", date(Y, 6, 30), "date"),
    ("年中", date(Y, 6, 30), "date"),
    ("下半年", date(Y, 12, 31), "date"),
    ("截至12月31日", date(Y, 12, 31), "date"),
    ("于9月30日前完成", date(Y, 9, 30), "date"),
    ("不晚于10月15日", date(Y, 10, 15), "date"),
    # ranges: the end
    ("3月至6月", date(Y, 6, 30), "date"),
    ("3-6月", date(Y, 6, 30), "date"),
    ("3～6月", date(Y, 6, 30), "date"),
    ("二至三季度", date(Y, 9, 30), "date"),
    ("10月10日—12月20日", date(Y, 12, 20), "date"),
    ("11月至次年3月", date(Y + 1, 3, 31), "date"),
    ("2023年11月至2024年3月", date(Y, 3, 31), "date"),
    # explicit other years
    ("2025年6月底前", date(Y + 1, 6, 30), "date"),
    ("明年6月底", date(Y + 1, 6, 30), "date"),
    ("2023年12月31日", date(Y - 1, 12, 31), "date"),  # read as written; validate flags the year
    # a date with words that mean more: the date, the text to 备注
    ("2025年6月底前完成一期", date(Y + 1, 6, 30), "words"),
    ("力争年底前", date(Y, 12, 31), "words"),
    ("年底前建成投用", date(Y, 12, 31), "words"),
    ("长期坚持，年底前完成阶段任务", date(Y, 12, 31), "words"),
    ("5月1日前开工", date(Y, 5, 1), "words"),  # start *by* 5月1日: a deadline
    ("3月起草方案", date(Y, 3, 31), "words"),  # 起草 is drafting, not 起 (from)
    # a start, not a deadline: no date, the text to 备注
    ("2024年3月启动", None, "start"),
    ("2024年3月启动，持续推进", None, "start"),
    ("3月开始", None, "start"),
    ("3月起", None, "start"),
    ("10月1日动工", None, "start"),
    ("二季度开工", None, "start"),
    # no date to take
    ("长期坚持", None, "ongoing"),
    ("持续推进", None, "ongoing"),
    ("常态化开展", None, "ongoing"),
    ("长期", None, "ongoing"),
    ("6月底前完成一期，年底前完成二期", None, "ambiguous"),
    ("9月启动，12月完成", None, "ambiguous"),
    ("2月30日前", None, "invalid"),
    ("2024-02-30", None, "invalid"),
    ("13月底", None, "invalid"),
    ("第五季度", None, "invalid"),
    ("按省统一部署", None, "unreadable"),
    ("待定", None, "unreadable"),
    ("完成2.5万平方米", None, "unreadable"),  # a decimal inside words is not 2月5日
    ("三年行动计划", None, "unreadable"),
    ("", None, "blank"),
]


@pytest.mark.parametrize("written, day, kind", FORMS, ids=[f[0] or "blank" for f in FORMS])
def test_written_deadline(written, day, kind):
    got = read_deadline(written, Y)
    assert (got.day, got.kind) == (day, kind)
    assert got.keeps_text == (kind in ("words", "ongoing", "start", "ambiguous"))


# A number or date cell of a workbook (its text as cells.cell_text gives it) and its number format:
# (text, number format, date in a 2024 ledger, kind, 完成时限 text kept)
CELLS = [
    ("2024-10-01", 'yyyy"年"m"月"', date(Y, 10, 31), "date", ""),  # typing 2024年10月 in Excel
    ("2024-10-01", '[$-804]yyyy"年"m"月";@', date(Y, 10, 31), "date", ""),
    ("2024-10-01", "yyyy-mm", date(Y, 10, 31), "date", ""),
    ("2024-10-01", "mmm-yy", date(Y, 10, 31), "date", ""),
    ("2024-02-01", "yyyy/m", date(Y, 2, 29), "date", ""),
    ("2024-10-01", 'yyyy"年"', date(Y, 12, 31), "date", ""),
    ("2024-10-15", "yyyy-mm-dd", date(Y, 10, 15), "date", ""),  # the day shown: that day
    ("2024-10-15", 'm"月"d"日"', date(Y, 10, 15), "date", ""),
    ("2024-10-15 08:30", "yyyy-mm-dd h:mm", date(Y, 10, 15), "date", ""),  # mm is minutes there
    ("2024-10-01", "", date(Y, 10, 1), "date", ""),  # format unknown (.xls): the date as stored
    ("2024.1", "0.00", date(Y, 10, 31), "date", "2024.10"),  # shown 2024.10
    ("2024.1", "#,##0.00", date(Y, 10, 31), "date", "2024.10"),
    ("2024.1", "0.0", date(Y, 1, 31), "date", "2024.1"),  # shown 2024.1
    ("2024.1", "General", None, "ambiguous", "2024.1或2024.10"),  # typed 2024.10? Not guessed
    ("2024.1", "", None, "ambiguous", "2024.1或2024.10"),
    ("2024.1", "0.##", None, "ambiguous", "2024.1或2024.10"),  # # drops the zero too
    ("6.3", "General", None, "ambiguous", "6.3或6.30"),  # 6月3日 or 6月30日
    ("12.1", "General", None, "ambiguous", "12.1或12.10"),
    ("2024.12", "General", date(Y, 12, 31), "date", "2024.12"),  # 2024.120 is no date
    ("2024.3", "General", date(Y, 3, 31), "date", "2024.3"),  # 2024.30 is no date
    ("6.5", "General", date(Y, 6, 5), "date", "6.5"),
    ("2024", "General", None, "unreadable", "2024"),
]


@pytest.mark.parametrize("text, number_format, day, kind, kept", CELLS, ids=[f"{c[0]}|{c[1]}" for c in CELLS])
def test_number_and_date_cells_read_as_displayed(text, number_format, day, kind, kept):
    got = read_deadline_cell(text, Y, number_format)
    assert (got.day, got.kind, got.text) == (day, kind, kept)
    assert bool(got.reason) == (kind == "ambiguous")


def test_date_cells_and_missing_year():
    assert read_deadline(date(2024, 6, 30), Y).day == date(2024, 6, 30)
    assert read_deadline(datetime(2024, 6, 30, 0, 0), None).day == date(2024, 6, 30)
    assert read_deadline("6月底前", None).kind == "no-year"  # a ledger without 年度
    assert read_deadline("2024年6月底前", None).day == date(2024, 6, 30)  # its own year suffices
    assert read_deadline(None, Y).kind == "blank"


@pytest.mark.parametrize("deadline, status, today, days", [
    (date(2024, 6, 30), "进行中", date(2024, 6, 30), None),  # the deadline day is still on time
    (date(2024, 6, 30), "进行中", date(2024, 7, 1), 1),
    (date(2024, 6, 30), "", date(2024, 7, 10), 10),  # blank 状态 counts as 进行中
    (date(2024, 6, 30), "已办结", date(2024, 7, 10), None),
    (date(2024, 6, 30), "已取消", date(2024, 7, 10), None),
    (None, "进行中", date(2024, 7, 10), None),  # 长期坚持: never 超期
])
def test_overdue_rule(deadline, status, today, days):
    assert overdue_days(deadline, status, today) == days


def test_worksheet_function_gives_the_same_answer_as_the_rule():
    deadlines = [["年底前"], ["6月30日"], [datetime(2024, 6, 30)], ["长期坚持"], [None], [45473.0], ["三季度末"]]
    status = [["进行中"], ["进行中"], ["已办结"], ["进行中"], ["进行中"], [None], ["进行中"]]
    got = udfs.DUBAN_OVERDUE(deadlines, status, datetime(2024, 7, 1), 2024)
    assert got == [[""], ["超期"], [""], [""], [""], ["超期"], [""]]  # 45473 is 2024-06-30 as Excel counts
    for (d,), (s,), (mark,) in zip(deadlines, status, got):
        if isinstance(d, float):
            continue
        day = read_deadline(d, 2024).day
        assert mark == ("超期" if overdue_days(day, s, date(2024, 7, 1)) else "")
    assert udfs.DUBAN_OVERDUE("年底前", "进行中", datetime(2025, 1, 1), 2024) == "超期"
    assert udfs.DUBAN_OVERDUE("年底前", "进行中", datetime(2025, 1, 1), None) == ""  # 年底 of 2025 then
    bad = udfs.DUBAN_OVERDUE([["按省统一部署"], ["6月底前完成一期，年底前完成二期"]], "进行中", datetime(2024, 7, 1))
    assert bad[0][0].startswith("错误：") and "无法识别" in bad[0][0]
    assert bad[1][0].startswith("错误：") and "多个时间" in bad[1][0]


# -- the ledger: import, the 任务台账 cells, 备注, findings, validate -------------------------------------------
# (written 完成时限, clerk's 备注, 完成时限 cell in the saved 2022 ledger, 备注 after import)
DOCX_ROWS = [
    ("12 月 10 日", "", date(2022, 12, 10), ""),
    ("12月10日前", "", date(2022, 12, 10), ""),
    ("6月底", "", date(2022, 6, 30), ""),
    ("年底前", "", date(2022, 12, 31), ""),
    ("2022年12月", "", date(2022, 12, 31), ""),
    ("2022.12", "", date(2022, 12, 31), ""),
    ("第三季度", "", date(2022, 9, 30), ""),
    ("三季度末", "", date(2022, 9, 30), ""),
    ("上半年", "", date(2022, 6, 30), ""),
    ("年内", "", date(2022, 12, 31), ""),
    ("十二月底前", "", date(2022, 12, 31), ""),
    ("１２月１０日以前", "", date(2022, 12, 10), ""),
    ("3月至6月", "", date(2022, 6, 30), ""),
    ("2023年6月底前完成一期", "省重点项目", date(2023, 6, 30), "省重点项目；完成时限：2023年6月底前完成一期"),
    ("长期坚持", "", None, "完成时限：长期坚持"),
    ("持续推进", "纳入绩效考核", None, "纳入绩效考核；完成时限：持续推进"),
    ("6月底前完成一期，年底前完成二期", "", "6月底前完成一期，年底前完成二期", "完成时限：6月底前完成一期，年底前完成二期"),
    ("按省统一部署", "", "按省统一部署", ""),
    ("", "", None, ""),
    ("2月30日前", "", "2月30日前", ""),
]
IMPORT_FINDINGS = {  # docx row (header = 1) → code of the import finding on its 完成时限
    15: "deadline-words", 16: "deadline-ongoing", 17: "deadline-ongoing", 18: "deadline-ambiguous",
    19: "deadline-unreadable", 21: "deadline-unreadable",
}


def _task_list(seed_tables, rows) -> object:
    """The seed's 附件2 (序号, 工作任务, 责任领导, 牵头承办单位, 备注) with a 完成时限 column before 备注."""
    table = copy.deepcopy(seed_tables["附件2"])
    assert table.header[-1] == "备注"
    table.header = [*table.header[:-1], "完成时限", "备注"]
    table.rows = [[*row[:-1], [deadline], [note]] for row, (deadline, note, *_rest) in zip(table.rows, rows)]
    return table


def _tasks_sheet(path: Path) -> dict[str, dict]:
    ws = openpyxl.load_workbook(path)["任务台账"]
    headers = [c.value for c in ws[1]]
    return {row[0].value: dict(zip(headers, row)) for row in ws.iter_rows(min_row=2) if row[0].value}


def test_import_stores_deadlines_as_date_cells(ledger, tmp_path, seed_tables):
    docx = write_tables_docx([_task_list(seed_tables, DOCX_ROWS)], tmp_path / "附件2.docx")
    outcome = import_files(ledger, [docx], now=NOW)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    cells = _tasks_sheet(ledger)
    for n, (written, _note, expected, note) in enumerate(DOCX_ROWS, 1):
        cell = cells[f"2022-ZD-{n:03d}"]["完成时限"]
        if isinstance(expected, date):
            assert cell.is_date and cell.value == datetime.combine(expected, datetime.min.time()), written
            assert cell.number_format == "yyyy-mm-dd", written
        else:
            assert cell.value == expected and not cell.is_date, written
        assert (cells[f"2022-ZD-{n:03d}"]["备注"].value or "") == note, written
    found = {f.row: f for f in outcome.findings if f.code.startswith("deadline-")}
    assert {row: f.code for row, f in found.items()} == IMPORT_FINDINGS
    for f in found.values():
        assert (f.file, f.sheet, f.column) == ("附件2.docx", "表格1", "完成时限") and f.message
    assert all(found[r].hint for r in (18, 19, 21))
    assert "2023-06-30" in found[15].message


def test_another_offices_xlsx_with_date_cells_and_other_headers(ledger, tmp_path, seed_tables):
    """An .xlsx another office might send: 重点工作 / 责任单位 / 完成时间, a real date cell, a
    year in Chinese numerals, slashes, Q2, 年中 and a month range."""
    rows = [(datetime(2022, 9, 30), date(2022, 9, 30)), ("二〇二二年十一月三十日", date(2022, 11, 30)),
            ("2022/10/31", date(2022, 10, 31)), ("Q2", date(2022, 6, 30)), ("年中", date(2022, 6, 30)),
            ("4-6月", date(2022, 6, 30))]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2022年区重点工作任务清单"])
    ws.append(["序号", "重点工作", "责任单位", "完成时间", "备注"])
    for n, ((written, _), seed) in enumerate(zip(rows, seed_tables["附件2"].rows), 1):
        ws.append([n, "\n".join(seed[1]), "、".join(p for p in seed[3] if p.strip()), written, None])
    path = tmp_path / "重点工作.xlsx"
    wb.save(path)
    outcome = import_files(ledger, [path], now=NOW)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    assert not [f for f in outcome.findings if f.code.startswith("deadline-")]
    cells = _tasks_sheet(ledger)
    for n, (written, expected) in enumerate(rows, 1):
        cell = cells[f"2022-ZD-{n:03d}"]["完成时限"]
        assert cell.is_date and cell.value.date() == expected, written


# (完成时限 cell value, number format, 完成时限 in the saved 2022 ledger, 备注 after import, import finding)
XLSX_CELLS = [
    (2022.1, "General", "2022.1或2022.10", "完成时限：2022.1或2022.10", "deadline-ambiguous"),  # typed 2022.10
    (2022.1, "0.00", date(2022, 10, 31), "", None),  # shown 2022.10
    (datetime(2022, 10, 1), 'yyyy"年"m"月"', date(2022, 10, 31), "", None),  # typed 2022年10月
    (datetime(2022, 10, 1), "yyyy-mm", date(2022, 10, 31), "", None),
    (datetime(2022, 10, 1), "mmm-yy", date(2022, 10, 31), "", None),
    (datetime(2022, 10, 15), "yyyy-mm-dd", date(2022, 10, 15), "", None),
    (6.3, "General", "6.3或6.30", "完成时限：6.3或6.30", "deadline-ambiguous"),
    ("2022年3月启动", "@", None, "完成时限：2022年3月启动", "deadline-start"),
    ("2022年3月启动，持续推进", "@", None, "完成时限：2022年3月启动，持续推进", "deadline-start"),
    ("2021年12月", "@", date(2021, 12, 31), "", "date-out-of-range"),  # a year before the ledger's
]


def test_xlsx_number_and_date_cells_are_read_as_they_display(ledger, tmp_path, seed_tables):
    """An .xlsx whose 完成时限 cells are numbers and dates with number formats, as Excel makes
    them when a clerk types 2022.10 or 2022年10月; imported, the saved ledger re-read."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2022年区重点工作任务清单"])
    ws.append(["序号", "工作任务", "牵头单位", "完成时限", "备注"])
    for n, ((value, fmt, *_), seed) in enumerate(zip(XLSX_CELLS, seed_tables["附件2"].rows), 1):
        ws.append([n, "\n".join(seed[1]), "、".join(p for p in seed[3] if p.strip()), value, None])
        ws.cell(ws.max_row, 4).number_format = fmt
    path = tmp_path / "任务清单.xlsx"
    wb.save(path)
    outcome = import_files(ledger, [path], now=NOW)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    found = {f.row: f for f in outcome.findings if f.column == "完成时限"}
    assert {row: f.code for row, f in found.items()} == {
        n + 2: code for n, (*_, code) in enumerate(XLSX_CELLS, 1) if code}
    assert "2022.1也可能是2022.10" in found[3].message and found[3].level.value == "警告"
    assert found[10].level.value == "提示" and "开始时间" in found[10].message
    assert found[12].level.value == "警告" and "2021-12-31不在2022年度内" in found[12].message
    cells = _tasks_sheet(ledger)
    for n, (value, fmt, expected, note, _code) in enumerate(XLSX_CELLS, 1):
        cell = cells[f"2022-ZD-{n:03d}"]["完成时限"]
        if isinstance(expected, date):
            assert cell.is_date and cell.value == datetime.combine(expected, datetime.min.time()), (value, fmt)
        else:
            assert cell.value == expected and not cell.is_date, (value, fmt)
        assert (cells[f"2022-ZD-{n:03d}"]["备注"].value or "") == note, (value, fmt)
    # validate keeps flagging what import could not settle, and takes nothing as 超期 from it
    checked = validate_ledger(ledger, now=datetime(2022, 7, 20, 9, 0))
    rows = {c["任务编号"].row: c["任务编号"].value for c in cells.values()}
    flagged = {(rows[f.row], f.code) for f in checked.findings if f.sheet == "任务台账" and f.column == "完成时限"}
    assert flagged == {("2022-ZD-001", "deadline-ambiguous"), ("2022-ZD-007", "deadline-unreadable"),
                       ("2022-ZD-010", "date-out-of-range")}


def test_chinese_builtin_date_format_by_id(tmp_path):
    """Chinese Excel may name 'yyyy"年"m"月"' by its built-in id 57 alone; openpyxl reports General."""
    import zipfile

    from xl_duban.io.readers import read_workbook

    wb = openpyxl.Workbook()
    wb.active["A1"] = datetime(2022, 10, 1)
    wb.active["A1"].number_format = "yyyy-mm"
    wb.save(tmp_path / "a.xlsx")
    with zipfile.ZipFile(tmp_path / "a.xlsx") as src, zipfile.ZipFile(tmp_path / "b.xlsx", "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "xl/styles.xml":
                text = data.decode()
                fmt_id = re.search(r'<numFmt numFmtId="(\d+)" formatCode="yyyy-mm"/>', text).group(1)
                text = text.replace(f'<numFmt numFmtId="{fmt_id}" formatCode="yyyy-mm"/>', "")
                data = text.replace(f'numFmtId="{fmt_id}"', 'numFmtId="57"').encode()
            dst.writestr(name, data)
    row = read_workbook(tmp_path / "b.xlsx")[0].rows[0]
    assert row.cells == ("2022-10-01",) and read_deadline_cell(row.cells[0], 2022, row.number_formats[0]).day == date(2022, 10, 31)


def test_validate_lists_overdue_tasks_and_text_deadlines(ledger, tmp_path, seed_tables):
    docx = write_tables_docx([_task_list(seed_tables, DOCX_ROWS)], tmp_path / "附件2.docx")
    import_files(ledger, [docx], now=NOW)
    wb = openpyxl.load_workbook(ledger)
    ws = wb["任务台账"]
    headers = [c.value for c in ws[1]]
    row_of = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(row_of["2022-ZD-009"], headers.index("状态") + 1).value = "已办结"  # 上半年, done: not 超期
    ws.cell(row_of["2022-ZD-004"], headers.index("完成时限") + 1).value = "6月30日前"  # an older ledger's text
    wb.save(ledger)

    outcome = validate_ledger(ledger, now=datetime(2022, 7, 20, 9, 0))
    by_code: dict[str, list] = {}
    for f in outcome.findings:
        if f.sheet == "任务台账" and f.column == "完成时限":
            by_code.setdefault(f.code, []).append(f)
    overdue = {f.message.split("超期")[0].removeprefix("任务"): f for f in by_code["task-overdue"]}
    # due 6-30 and open: rows 3 (6月底), 4 (text 6月30日前), 13 (3月至6月); 9 is 已办结
    assert sorted(overdue) == ["2022-ZD-003", "2022-ZD-004", "2022-ZD-013"]
    assert overdue["2022-ZD-003"].message == "任务2022-ZD-003超期未办结：完成时限2022-06-30，已超期20天。"
    assert all(f.level.value == "警告" and f.row == row_of[t] for t, f in overdue.items())
    text = _only(by_code["deadline-text"])
    assert (text.row, text.message) == (row_of["2022-ZD-004"], "完成时限“6月30日前”是文字，可改为日期2022-06-30。")
    assert [f.row for f in by_code["deadline-ambiguous"]] == [row_of["2022-ZD-017"]]
    assert [f.row for f in by_code["deadline-unreadable"]] == [row_of["2022-ZD-018"]]
    assert [(f.row, f.level.value) for f in by_code["bad-date"]] == [(row_of["2022-ZD-020"], "错误")]
    assert set(by_code) == {"task-overdue", "deadline-text", "deadline-ambiguous", "deadline-unreadable", "bad-date"}
    # 校验结果 lists them too
    results = [r for r in openpyxl.load_workbook(ledger)["校验结果"].iter_rows(min_row=2, values_only=True)]
    assert sum(1 for r in results if r[4] == "task-overdue") == 3


def _only(items: list):
    assert len(items) == 1, items
    return items[0]


# -- the bulletin: 超期未办结 ------------------------------------------------------------------------------------
LATER = datetime(2022, 7, 20, 9, 0)


# 任务编号 → (完成时限 cell value, 状态)
DEADLINES = {
    "2022-ZD-005": (datetime(2022, 3, 31), "进行中"),  # 111 days over on 7-20
    "2022-ZD-012": ("6月底前", "进行中"),  # text still counts: 20 days over
    "2022-ZD-030": (datetime(2022, 6, 30), "已办结"),  # done: not listed
    "2022-ZD-040": (datetime(2022, 12, 31), "进行中"),  # not due yet
    "2022-ZD-050": ("长期坚持", "进行中"),  # no deadline
    "2022-MS-02": (datetime(2022, 5, 31), "进行中"),  # a 民生实事: only in the monthly bulletin
}


@pytest.fixture
def year(demo_year, tmp_path, config_dir) -> Path:
    ledger = tmp_path / "台账.xlsx"
    shutil.copy2(demo_year / "2022年督查台账.xlsx", ledger)
    wb = openpyxl.load_workbook(ledger)
    ws = wb["任务台账"]
    headers = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        task = ws.cell(r, 1).value
        if task in DEADLINES:
            value, status = DEADLINES[task]
            ws.cell(r, headers.index("完成时限") + 1).value = value
            ws.cell(r, headers.index("状态") + 1).value = status
    wb.save(ledger)
    return ledger


def _docx_text(path: Path) -> str:
    import docx

    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def test_bulletin_lists_overdue_tasks_of_its_kind(year, tmp_path):
    outcome = publish_bulletin(year, "2022Q2", tmp_path / "out", now=LATER)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    text = _docx_text(Path(outcome.summary["document"]))
    section = text[text.index("四、超期未办结事项"):text.index("五、表扬")]
    assert "截至2022年7月20日，已过完成时限仍未办结的重点任务共2项：" in section
    lines = [line for line in section.split("\n") if re.match(r"\d+\. ", line)]
    assert [re.search(r"（(2022-\w+-\d+)；", line).group(1) for line in lines] == ["2022-ZD-005", "2022-ZD-012"]
    assert "完成时限2022年3月31日，已超期111天。" in lines[0]
    assert "完成时限2022年6月30日，已超期20天。" in lines[1]
    assert "牵头单位：" in lines[0] and "责任领导：" in lines[0]
    assert "2022-MS-02" not in section and "2022-ZD-030" not in section
    # the bulletin sheet says the same, line for line
    rows = [r for r in openpyxl.load_workbook(year)["通报-2022Q2"].iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(rows) if r[0] == "四、超期未办结事项")
    end = next(i for i, r in enumerate(rows) if r[0] == "五、表扬")
    assert [r[0] for r in rows[at:end]] == section.strip().split("\n")

    monthly = publish_bulletin(year, "2022-06", tmp_path / "out", now=LATER)
    text = _docx_text(Path(monthly.summary["document"]))
    section = text[text.index("四、超期未办结事项"):text.index("五、表扬")]
    assert "民生实事共1项" in section and "2022-MS-02" in section and "已超期50天" in section
    assert "2022-ZD-" not in section


def test_bulletin_without_overdue_tasks_says_so(demo_year, tmp_path, config_dir):
    ledger = tmp_path / "台账.xlsx"
    shutil.copy2(demo_year / "2022年督查台账.xlsx", ledger)
    outcome = publish_bulletin(ledger, "2022Q2", tmp_path / "out", now=LATER)
    text = _docx_text(Path(outcome.summary["document"]))
    assert "四、超期未办结事项\n截至2022年7月20日，没有超过完成时限仍未办结的重点任务。\n五、表扬" in text


def test_overdue_section_renders(office, poppler, year, tmp_path):
    """LibreOffice renders the bulletin; the page with 超期未办结事项 is saved as a PNG to look at."""
    from .test_libreoffice import ARTIFACTS, _run

    outcome = publish_bulletin(year, "2022Q2", tmp_path / "out", now=LATER)
    pdf = office.convert(Path(outcome.summary["document"]), "pdf", tmp_path / "pdf", ".pdf")
    pages = int(re.search(r"Pages:\s+(\d+)", _run(["pdfinfo", str(pdf)], what="pdfinfo").stdout).group(1))
    page = next(p for p in range(1, pages + 1)
                if "超期未办结事项" in _run([poppler["pdftotext"], "-f", str(p), "-l", str(p), str(pdf), "-"],
                                         what="pdftotext").stdout)
    flat = "".join(_run([poppler["pdftotext"], "-f", str(page), "-l", str(min(page + 1, pages)), str(pdf), "-"],
                        what="pdftotext").stdout.split())
    assert "已过完成时限仍未办结的重点任务共2项" in flat and "2022-ZD-005" in flat and "已超期111天" in flat
    ARTIFACTS.mkdir(exist_ok=True)
    for n, stem in ((page, "bulletin-overdue-docx"), (min(page + 1, pages), "bulletin-overdue-docx-next")):
        png = ARTIFACTS / stem  # the page the section starts on, and the next (its list may run over)
        _run([poppler["pdftoppm"], "-png", "-r", "80", "-f", str(n), "-l", str(n), "-singlefile", str(pdf), str(png)],
             what="pdftoppm")
        assert png.with_name(png.name + ".png").read_bytes()[:4] == b"\x89PNG"


def test_sub_items_are_bound_by_their_projects_deadline(ledger, tmp_path):
    """A 民生实事 project split into numbered sub-items: a sub-item without its own 完成时限
    carries the project's, one with its own keeps it; the project's words are reported once."""
    import csv

    path = tmp_path / "民生实事.csv"
    rows = [["序号", "项目名称", "工作任务", "分管区领导", "责任单位", "完成时限"],
            ["1", "新建幼儿园", "新增学位500个。", "邓彬斌", "区教育局", "2022年9月底前完成一期"],
            ["", "", "1.完成主体工程。", "", "", ""],
            ["", "", "2.完成验收。", "", "", "11月30日"],
            ["2", "改造老旧小区", "改造小区10个。", "邓彬斌", "区住建局", ""],
            ["", "", "1.完成设计。", "", "", ""]]
    with open(path, "w", encoding="gb18030", newline="") as fh:
        csv.writer(fh).writerows(rows)
    outcome = import_files(ledger, [path], now=NOW)
    cells = _tasks_sheet(ledger)
    assert cells["2022-MS-01"]["完成时限"].value == datetime(2022, 9, 30)
    assert cells["2022-MS-01-1"]["完成时限"].value == datetime(2022, 9, 30)
    assert cells["2022-MS-01-1"]["备注"].value == cells["2022-MS-01"]["备注"].value == "完成时限：2022年9月底前完成一期"
    assert cells["2022-MS-01-2"]["完成时限"].value == datetime(2022, 11, 30)
    assert cells["2022-MS-02-1"]["完成时限"].value is None
    assert [f.code for f in outcome.findings if f.code.startswith("deadline-")] == ["deadline-words"]
