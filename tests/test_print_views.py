"""Printed ledger views (issue 25 point 7) and the 报送情况 marks (point 6), on the demo's year.

The print scale is computed from the column widths (``print_scale``); it is calibrated by
the layout issue 25 measured in LibreOffice (亮灯总览 printed at 67 %), and one view is
rendered by LibreOffice and read back with pdftotext.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from xl_duban.io.ledger_store import MIN_PRINT_SCALE, STATE_FILLS, print_scale
from xl_duban.io.views import COLLECTION_SHEET

from .test_libreoffice import ARTIFACTS, Office, _run, office, poppler  # noqa: F401  (fixtures)

DATA_SHEETS = {"任务台账", "节点目标", "反馈记录", "亮灯记录", "单位名录", "报送情况", "校验结果", "变更日志", "设置",
               "节假日", "考核调整"}


def generated(ws) -> bool:
    return ws.title not in DATA_SHEETS


@pytest.fixture(scope="module")
def demo_book(demo_year: Path):
    return openpyxl.load_workbook(demo_year / "2022年督查台账.xlsx")


def test_the_scale_is_what_libreoffice_printed_for_the_old_overview():
    """Issue 25 read the old 亮灯总览 (columns 15 / 48 / 26 and 12 × 9, margins 0.75 in) off
    LibreOffice's print at 67 %: the computation must agree, or its ≥ 85 % means nothing."""
    ws = openpyxl.Workbook().active
    for col, width in enumerate([15, 48, 26, *[9] * 12], 1):
        ws.column_dimensions[get_column_letter(col)].width = width
        ws.cell(1, col, "x")
    ws.page_setup.orientation = "landscape"
    ws.page_margins.left = ws.page_margins.right = 0.75
    assert print_scale(ws) == 67


def test_every_generated_sheet_prints_a4_one_page_wide_at_85_percent_with_headers(demo_book):
    names = [ws.title for ws in demo_book.worksheets if generated(ws)]
    assert {"亮灯总览", COLLECTION_SHEET, "考核-2022", "考核明细-2022", "通报-2022Q2", "月报-2022-06"} <= set(names)
    for ws in demo_book.worksheets:
        if not generated(ws):
            continue
        assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1, ws.title
        assert print_scale(ws) >= MIN_PRINT_SCALE, (ws.title, print_scale(ws))
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text, ws.title
    for name, header in (("亮灯总览", "任务编号"), (COLLECTION_SHEET, "文件"), ("考核-2022", "单位")):
        ws = demo_book[name]
        row = int(ws.print_title_rows.split(":")[0].strip("$"))
        assert ws.cell(row, 1).value == header, name  # the repeated row is the header, not the title
        assert int("".join(ch for ch in ws.freeze_panes if ch.isdigit())) == row + 1, name  # frozen below it


def test_submissions_mark_missing_late_and_refused_rows_and_filter(demo_book):
    ws = demo_book["报送情况"]
    headers = [c.value for c in ws[1]]
    status = get_column_letter(headers.index("状态") + 1)
    states = {ws[f"{status}{r}"].value for r in range(2, ws.max_row + 1)}
    assert {"未报送", "逾期报送", "退回"} <= states  # the demo has each: the rules below are exercised
    rules = [(str(cf.sqref), rule.formula[0], rule.dxf.fill.fgColor.rgb if rule.dxf.fill.fgColor.rgb != "00000000"
              else rule.dxf.fill.bgColor.rgb) for cf in ws.conditional_formatting for rule in cf.rules]
    table = ws.tables["tblSubmissions"]
    last = table.ref.split(":")[1].rstrip("0123456789")
    # one rule per state (none piled up by the demo's ~40 saves), over whole rows, to the sheet's end:
    # a 状态 the clerk types, or a row Excel adds, recolours by itself
    assert sorted(rules) == sorted((f"A2:{last}1048576", f'${status}2="{state}"', color)
                                   for state, color in STATE_FILLS.items())
    assert table.autoFilter is not None and table.autoFilter.ref == table.ref
    assert print_scale(ws) >= MIN_PRINT_SCALE  # its three signer columns did not push it below 85 %


def test_overview_renders_whole_with_repeated_header_and_page_numbers(office: Office, poppler, demo_book, tmp_path):
    """亮灯总览 alone, printed by LibreOffice: every page carries the header row and its
    number, and the longest task text is printed whole."""
    for ws in list(demo_book.worksheets):
        if ws.title != "亮灯总览":
            demo_book.remove(ws)
    ws = demo_book["亮灯总览"]
    longest = max((str(ws.cell(r, 2).value or "") for r in range(1, ws.max_row + 1)), key=len)
    assert len(longest) > 60  # the old view cut at 60
    source = tmp_path / "亮灯总览.xlsx"
    demo_book.save(source)
    pdf = office.convert(source, "pdf", tmp_path / "pdf", ".pdf")
    pages = _run([poppler["pdftotext"], "-layout", str(pdf), "-"], what="pdftotext").stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) >= 2
    for n, page in enumerate(pages, 1):
        flat = "".join(page.split())
        assert "任务编号" in flat and "工作任务" in flat and f"第{n}页，共{len(pages)}页" in flat, n
    raw = _run([poppler["pdftotext"], "-raw", str(pdf), "-"], what="pdftotext").stdout  # a cell's lines together
    assert "".join(longest.split()) in "".join(raw.split())
    ARTIFACTS.mkdir(exist_ok=True)
    stem = ARTIFACTS / "view-亮灯总览"
    _run([poppler["pdftoppm"], "-png", "-r", "60", "-f", "2", "-l", "2", "-singlefile", str(pdf), str(stem)],
         what="pdftoppm")
    width, height = struct.unpack(">II", stem.with_name(stem.name + ".png").read_bytes()[16:24])
    assert width > height  # A4 landscape
    shutil.copy(pdf, ARTIFACTS / "view-亮灯总览.pdf")
