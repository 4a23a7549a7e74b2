"""The 督查看板 sheet: tables of :mod:`xl_duban.domain.dashboard` with native Excel charts."""

from __future__ import annotations

from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, Side

from ..domain.bulletin import Counts
from ..domain.dashboard import Dashboard
from ..domain.models import TaskKind
from .ledger_store import HEADER_FILL, print_setup, write_cell
from .views import LIGHT_FILLS, _fresh_sheet

DASHBOARD_SHEET = "督查看板"
_THIN = Side(style="thin", color="FF808080")
_BORDER = Border(top=_THIN, bottom=_THIN, left=_THIN, right=_THIN)
COLUMNS = ("绿灯", "黄灯", "红灯", "合计")
CHART_COLORS = ("5CB85C", "F0C419", "D9534F")


def write_dashboard(wb, board: Dashboard) -> None:
    """Title, then per kind: lights by period (table + stacked columns) and by 分管领导 in the
    latest period (table + stacked bars); then the units most often yellow or red."""
    ws = _fresh_sheet(wb, DASHBOARD_SHEET)  # a new sheet goes last: moving sheets renumbers the parts the save splices
    latest = "、".join(f"{k.value}{p.label}" for k, p in board.latest.items() if p is not None) or "尚未亮灯"
    ws["A1"] = f"{board.year}年督查看板（截至{latest}）"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = "按最终灯色计数（督查室核定过的以核定灯色为准）；共同牵头的任务在单位排名中每个牵头单位各计一次。"
    for letter, width in zip("ABCDEFGH", (22, 8, 8, 8, 8, 4, 4, 4)):
        ws.column_dimensions[letter].width = width
    row = 4
    for kind in TaskKind:
        rows = board.by_period.get(kind) or []
        if not rows:
            continue
        row = _table(ws, row, f"{kind.value}：各{'季度' if kind is TaskKind.key else '月'}亮灯情况", "周期",
                     [(p.label, c) for p, c in rows], chart="col")
        leaders = board.by_leader.get(kind) or []
        if leaders:
            row = _table(ws, row, f"{kind.value}：按责任领导（{board.latest[kind].label}）", "责任领导", leaders, chart="bar")
    ws.cell(row, 1, f"黄灯、红灯次数最多的{len(board.units_behind)}个单位（全年）").font = Font(bold=True, size=12)
    row += 1
    for col, header in enumerate(("单位", "黄灯", "红灯", "合计"), 1):
        cell = ws.cell(row, col, header)
        cell.font, cell.fill, cell.border = Font(bold=True), HEADER_FILL, _BORDER
    for unit, yellow, red in board.units_behind or [("（无黄灯、红灯）", 0, 0)]:
        row += 1
        write_cell(ws.cell(row, 1), unit)
        for col, value in enumerate((yellow, red, yellow + red), 2):
            ws.cell(row, col, value)
        for col in range(1, 5):
            ws.cell(row, col).border = _BORDER
    ws.freeze_panes = "A4"
    print_setup(ws)
    ws.page_setup.orientation = "portrait"


def _table(ws, row: int, title: str, label: str, rows: list[tuple[str, Counts]], chart: str) -> int:
    """A titled table of counts with a chart beside it; returns the next free row."""
    ws.cell(row, 1, title).font = Font(bold=True, size=12)
    header = row + 1
    for col, text in enumerate((label, *COLUMNS), 1):
        cell = ws.cell(header, col, text)
        cell.font, cell.fill, cell.border = Font(bold=True), HEADER_FILL, _BORDER
        if text in LIGHT_FILLS:
            cell.fill = LIGHT_FILLS[text]
    for n, (name, counts) in enumerate(rows, header + 1):
        write_cell(ws.cell(n, 1), name)
        for col, value in enumerate(counts.row(), 2):
            ws.cell(n, col, value).alignment = Alignment(horizontal="center")
        for col in range(1, 6):
            ws.cell(n, col).border = _BORDER
    last = header + len(rows)
    figure = BarChart()
    figure.type = "col" if chart == "col" else "bar"
    figure.grouping, figure.overlap = "stacked", 100
    figure.title = title
    figure.add_data(Reference(ws, min_col=2, max_col=4, min_row=header, max_row=last), titles_from_data=True)
    figure.set_categories(Reference(ws, min_col=1, min_row=header + 1, max_row=last))
    for series, color in zip(figure.series, CHART_COLORS):
        series.graphicalProperties.solidFill = color
    figure.y_axis.majorUnit = max(1, _step(max((c.total for _n, c in rows), default=1)))  # whole tasks
    figure.height = 7.0 if chart == "col" else max(7.0, 0.6 * len(rows) + 2.5)  # a bar per leader, each labelled
    figure.width = 13.0
    ws.add_chart(figure, f"G{row}")
    return max(last + 2, row + int(figure.height * 2) + 2)  # about two rows per centimetre of chart


def _step(top: int) -> int:
    """A whole-number tick step giving at most about 8 ticks."""
    return max(1, -(-top // 8))
