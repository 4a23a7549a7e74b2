"""The per-unit feedback workbook as an .xlsx file (DESIGN §6).

It must open without repair prompts in Excel, WPS and LibreOffice and use nothing a unit's
office suite would refuse: no macros, no tables, no external links — plain cells, drop-down
validations, cell locking with sheet protection, and a veryHidden ``_duban`` sheet holding
the signed identity of the issue.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..domain.issuing import IssuedWorkbook
from ..domain.models import Completion, LightColor, TaskKind
from ..domain.periods import Period
from .ledger_store import print_setup, write_cell
from .views import fit_row_height

SHEET = "反馈表"
META_SHEET = "_duban"
HEADER_ROW = 5
FIRST_ROW = HEADER_ROW + 1
# (header, width, locked)
COLUMNS: tuple[tuple[str, int, bool], ...] = (
    ("任务编号", 14, True),
    ("工作任务", 40, True),
    ("节点目标", 28, True),
    ("上期进展", 24, True),
    ("完成情况", 10, False),
    ("进展情况", 36, False),
    ("存在问题及原因分析", 26, False),
    ("下一步工作计划和意见建议", 26, False),
    ("自评灯色", 10, False),
)
LOCKED_FILL = PatternFill("solid", fgColor="FFF2F2F2")
HEADER_FILL = PatternFill("solid", fgColor="FFD9E1F2")
_THIN = Side(style="thin", color="FF808080")
_BORDER = Border(top=_THIN, bottom=_THIN, left=_THIN, right=_THIN)
_WRAP_TOP = Alignment(vertical="top", wrap_text=True)
META_FIELDS = ("格式版本", "下发编号", "单位", "周期", "类别", "下发时间", "截止时间", "任务数", "签名")


def _title(issue: IssuedWorkbook) -> str:
    label = Period.parse(issue.period).label
    what = "《政府工作报告》督查重点任务" if issue.kind is TaskKind.key else "十件民生实事"
    return f"{label}区{what}落实情况反馈表"


def write_unit_workbook(path: Path, issue: IssuedWorkbook, signature: str) -> Path:
    """Write the workbook a unit fills in; locked columns grey, inputs white with drop-downs."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    last_col = get_column_letter(len(COLUMNS))
    ws.merge_cells(f"A1:{last_col}1")
    ws["A1"] = _title(issue)
    ws["A1"].font = Font(name="宋体", bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 30
    due = date.fromisoformat(issue.due)
    ws.merge_cells("A2:D2")
    write_cell(ws["A2"], f"报送单位：{issue.unit}")
    ws.merge_cells(f"E2:{last_col}2")
    write_cell(ws["E2"], f"截止时间：{due.year}年{due.month}月{due.day}日（含当日）前报送")
    for cell in (ws["A2"], ws["E2"]):
        cell.font = Font(bold=True, size=12)
    ws.merge_cells(f"A3:{last_col}3")
    write_cell(ws["A3"], "填写说明：1. 灰色单元格由督查室填写，请勿改动；2.“完成情况”“自评灯色”请从下拉列表选择；"
                         "3. 请逐项填写白色单元格，不要增删行列或改动工作表名称；4. 填好后直接保存（.xlsx），作为邮件附件回复督查室。")
    ws["A3"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[3].height = 34
    for col, (header, width, _locked) in enumerate(COLUMNS, 1):
        cell = ws.cell(HEADER_ROW, col, header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.row_dimensions[HEADER_ROW].height = 32
    widths = {}
    for r, row in enumerate(issue.rows, FIRST_ROW):
        for col, (text, (_header, width, _locked)) in enumerate(zip(row.locked_texts(), COLUMNS), 1):
            write_cell(ws.cell(r, col), text)
            widths[col] = width
        for col, (_header, _width, locked) in enumerate(COLUMNS, 1):
            cell = ws.cell(r, col)
            cell.border = _BORDER
            cell.alignment = _WRAP_TOP
            cell.protection = Protection(locked=locked)
            if locked:
                cell.fill = LOCKED_FILL
        fit_row_height(ws, r, widths)
        if ws.row_dimensions[r].height < 60:
            ws.row_dimensions[r].height = 60  # room to type
    last_row = FIRST_ROW + len(issue.rows) - 1
    _dropdown(ws, 5, [c.value for c in Completion], "完成情况", last_row)
    _dropdown(ws, 9, [c.value for c in LightColor], "自评灯色", last_row)
    ws.freeze_panes = ws.cell(FIRST_ROW, 3)
    ws.protection.sheet = True
    ws.protection.formatRows = False  # units may resize rows and columns to read long text
    ws.protection.formatColumns = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False
    print_setup(ws, title_row=HEADER_ROW)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    _write_meta(wb, issue, signature)
    wb.active = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _dropdown(ws, col: int, choices: list[str], header: str, last_row: int) -> None:
    letter = get_column_letter(col)
    dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True, showErrorMessage=True,
                        errorTitle="请从下拉列表中选择", error=f"【{header}】只能填写：" + "、".join(choices),
                        showInputMessage=True, promptTitle=header, prompt="请从下拉列表中选择")
    dv.add(f"{letter}{FIRST_ROW}:{letter}{max(last_row, FIRST_ROW)}")
    ws.add_data_validation(dv)


def _write_meta(wb: Workbook, issue: IssuedWorkbook, signature: str) -> None:
    meta = wb.create_sheet(META_SHEET)
    values = (issue.format_version, issue.issue_id, issue.unit, issue.period, issue.kind.value,
              issue.issued_at.isoformat(timespec="seconds"), issue.due, len(issue.rows), signature)
    for r, (key, value) in enumerate(zip(META_FIELDS, values), 1):
        meta.cell(r, 1, key)
        write_cell(meta.cell(r, 2), str(value))
    start = len(META_FIELDS) + 2
    meta.cell(start, 1, "任务编号")
    meta.cell(start, 2, "行号")
    meta.cell(start, 3, "锁定内容摘要")
    for i, row in enumerate(issue.rows, 1):
        write_cell(meta.cell(start + i, 1), row.task_id)
        meta.cell(start + i, 2, FIRST_ROW + i - 1)
        write_cell(meta.cell(start + i, 3), row.digest())
    meta.sheet_state = "veryHidden"
    meta.protection.sheet = True
