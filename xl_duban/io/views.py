"""Generated sheets: 亮灯总览 (task × period matrix). Regenerated whole on every light-up."""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..domain.bulletin import task_text
from ..domain.models import LightColor, LightRecord, Task, TaskKind
from ..domain.periods import periods_of_year
from ..domain.schema import OVERVIEW_SHEET
from .ledger_store import HEADER_FILL, HEADER_FONT, Stamps, print_setup, write_cell

LIGHT_FILLS = {
    LightColor.green.value: PatternFill("solid", fgColor="FFC6EFCE"),
    LightColor.yellow.value: PatternFill("solid", fgColor="FFFFEB9C"),
    LightColor.red.value: PatternFill("solid", fgColor="FFFF7C80"),
}
_THIN = Side(style="thin", color="FFBFBFBF")
_BORDER = Border(top=_THIN, bottom=_THIN, left=_THIN, right=_THIN)
_WRAP = Alignment(vertical="center", wrap_text=True)
_CENTERED = Alignment(horizontal="center", vertical="center")
_WIDTHS = {"A": 12, "B": 38, "C": 16}
_PERIOD_WIDTH = 8  # 12 months of 绿灯/黄灯/红灯 beside the task text still print at ≥ 85 % (print_scale)


def text_lines(text: str, width: float) -> int:
    """Lines a wrapped cell needs: CJK characters take two width units, others one; a column
    ``width`` characters wide holds about 0.95 × width units once its padding is taken off
    (measured in LibreOffice with the CJK fonts of an office PC — too few lines cut text);
    a line of 11 pt CJK text takes about 15.5 pt there."""
    per_line = max(int(width * 0.95), 1)
    return sum(max(1, -(-_display_width(part) // per_line)) for part in text.split("\n"))


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def fit_row_height(ws, row: int, widths: dict[int, float], line_height: float = 15.5) -> None:
    """Set a row's height to fit its wrapped cells (office suites do not re-measure on open)."""
    lines = max((text_lines(str(ws.cell(row, col).value or ""), width) for col, width in widths.items()), default=1)
    ws.row_dimensions[row].height = line_height * max(lines, 1) + 2


def _fresh_sheet(wb: Workbook, name: str):
    """Replace a generated sheet by an empty one at the same position."""
    index = wb.sheetnames.index(name) if name in wb.sheetnames else len(wb.sheetnames)
    if name in wb.sheetnames:
        wb.remove(wb[name])
    return wb.create_sheet(name, index)


def write_overview(wb: Workbook, year: int, tasks: list[Task], lights: list[LightRecord], as_of: str) -> None:
    """亮灯总览: one row per task, one column per period of its cadence, coloured cells,
    a legend and green/yellow/red counts under every period column."""
    ws = _fresh_sheet(wb, OVERVIEW_SHEET)
    ws["A1"] = f"{year}年督查任务亮灯总览（截至{as_of}）"
    ws["A1"].font = Font(bold=True, size=14)
    ws["C2"] = "图例："
    ws["C2"].alignment = Alignment(horizontal="right")
    for col, (label, fill) in enumerate(LIGHT_FILLS.items(), 4):
        cell = ws.cell(2, col, label)
        cell.fill, cell.border = fill, _BORDER
        cell.alignment = Alignment(horizontal="center")
    ws.cell(2, 7, "空白：该周期无节点目标或尚未亮灯")
    by_key = {(r.task_id, r.period): r.light for r in lights if r.light}
    stamps = Stamps()
    row = 4
    first_header = None
    for kind in TaskKind:
        kind_tasks = [t for t in tasks if t.kind == kind.value and t.id]
        if not kind_tasks:
            continue
        periods = [str(p) for p in periods_of_year(year, kind.cadence)]
        ws.cell(row, 1, f"{kind.value}（{len(kind_tasks)}项）").font = Font(bold=True, size=12)
        row += 1
        headers = ["任务编号", "工作任务", "牵头单位", *periods]
        first_header = first_header or row
        for col, header in enumerate(headers, 1):
            cell = ws.cell(row, col, header)
            cell.fill, cell.font, cell.border = HEADER_FILL, HEADER_FONT, _BORDER
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.row_dimensions[row].height = 30  # 2026-01 wraps in a narrow period column
        row += 1
        for task in kind_tasks:
            write_cell(ws.cell(row, 1), task.id)
            write_cell(ws.cell(row, 2), task_text(task))  # whole: a printed view cuts nothing
            write_cell(ws.cell(row, 3), "、".join(task.lead_units))
            for col in (1, 2, 3):
                stamps.apply(ws.cell(row, col), "text", alignment=_WRAP, border=_BORDER)
            fit_row_height(ws, row, {2: _WIDTHS["B"], 3: _WIDTHS["C"]})
            for col, period in enumerate(periods, 4):
                light = by_key.get((task.id, period))
                fill = LIGHT_FILLS.get(light) or PatternFill(fill_type=None)
                stamps.apply(ws.cell(row, col, light), ("light", light if light in LIGHT_FILLS else None),
                             border=_BORDER, alignment=_CENTERED, fill=fill)
            row += 1
        for label, fill in LIGHT_FILLS.items():
            ws.cell(row, 3, f"{label}数").font = Font(bold=True)
            for col, period in enumerate(periods, 4):
                count = sum(1 for t in kind_tasks if by_key.get((t.id, period)) == label)
                stamps.apply(ws.cell(row, col, count), ("count", label), fill=fill, border=_BORDER,
                             alignment=Alignment(horizontal="center"))
            row += 1
        row += 1
    for letter, width in _WIDTHS.items():
        ws.column_dimensions[letter].width = width
    for col in range(4, 4 + 12):
        ws.column_dimensions[get_column_letter(col)].width = _PERIOD_WIDTH
    ws.freeze_panes = f"D{(first_header or 3) + 1}"  # below the header, not on the title
    print_setup(ws, title_row=first_header)



COLLECTION_SHEET = "收集报告"
COLLECTION_HEADERS = (("文件", 28), ("单位", 16), ("周期", 10), ("结果", 9), ("接收时间", 16), ("任务数", 7),
                      ("说明", 36), ("处理建议", 28))
RESULT_FILLS = {"已接收": LIGHT_FILLS["绿灯"], "逾期接收": LIGHT_FILLS["黄灯"], "退回": LIGHT_FILLS["红灯"],
                "未报送": LIGHT_FILLS["黄灯"]}


def write_collection_report(wb: Workbook, title: str, rows: list[dict]) -> None:
    """收集报告: one line per file handled by the last collect (and per unit still missing),
    regenerated on every collect that read a new file; print-ready."""
    ws = _fresh_sheet(wb, COLLECTION_SHEET)
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=14)
    for col, (header, width) in enumerate(COLLECTION_HEADERS, 1):
        cell = ws.cell(3, col, header)
        cell.fill, cell.font, cell.border = HEADER_FILL, HEADER_FONT, _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = width
    widths = {col: width for col, (_h, width) in enumerate(COLLECTION_HEADERS, 1)}
    stamps = Stamps()
    for r, item in enumerate(rows, 4):
        fill = RESULT_FILLS.get(item.get("结果", ""))
        for col, (header, _width) in enumerate(COLLECTION_HEADERS, 1):
            cell = ws.cell(r, col)
            write_cell(cell, item.get(header, ""))
            if col == 4 and fill is not None:
                stamps.apply(cell, ("result", item["结果"]), alignment=_WRAP, border=_BORDER, fill=fill)
            else:
                stamps.apply(cell, "text", alignment=_WRAP, border=_BORDER)
        fit_row_height(ws, r, widths)
    ws.freeze_panes = "A4"
    print_setup(ws, title_row=3)
