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
from openpyxl.worksheet.dimensions import RowDimension

from ..domain.cells import date_text
from ..domain.issuing import COMPLETION_HEADER, SELF_LIGHT_HEADER, SIGNERS, Form, IssuedWorkbook
from ..domain.models import Completion, LightColor, TaskKind
from ..domain.periods import Period
from .ledger_store import print_setup, write_cell
from .views import fit_row_height

SHEET = "反馈表"
TARGETS_SHEET = "目标安排表"
META_SHEET = "_duban"
HEADER_ROW = 5
FIRST_ROW = HEADER_ROW + 1
# chosen so that a form prints one A4 landscape page wide at ≥ MIN_PRINT_SCALE (see print_scale):
# a unit's clerk reads and signs the printed form
WIDTHS = {"任务编号": 12, "工作任务": 26, "节点目标": 20, "上期进展": 16, "完成时限": 10, "完成情况": 8,
          "进展情况": 26, "存在问题及原因分析": 18, "下一步工作计划和意见建议": 18, "自评灯色": 7}
PERIOD_WIDTHS = {TaskKind.key: 18, TaskKind.livelihood: 8.5}  # a 目标安排表's quarter / month columns
SIGNER_ROW = HEADER_ROW - 1  # 填报人：[ ] 联系电话：[ ] 审核人：[ ]
LOCKED_FILL = PatternFill("solid", fgColor="FFF2F2F2")
HEADER_FILL = PatternFill("solid", fgColor="FFD9E1F2")
_THIN = Side(style="thin", color="FF808080")
_BORDER = Border(top=_THIN, bottom=_THIN, left=_THIN, right=_THIN)
_WRAP_TOP = Alignment(vertical="top", wrap_text=True)
META_FIELDS = ("格式版本", "表类型", "下发编号", "单位", "周期", "类别", "年度", "下发时间", "截止时间", "任务数", "签名")
META_ROWS_HEADER = ("任务编号", "行号", "锁定内容")  # one row per task; the locked texts follow from column C


def sheet_name(form: Form) -> str:
    return SHEET if form is Form.feedback else TARGETS_SHEET


def _title(issue: IssuedWorkbook) -> str:
    what = "《政府工作报告》督查重点任务" if issue.kind is TaskKind.key else "十件民生实事"
    if issue.form is Form.targets:
        return f"{issue.year}年区{what}{'季度' if issue.kind is TaskKind.key else '月度'}目标安排表"
    return f"{Period.parse(issue.period).label}区{what}落实情况反馈表"


def _instructions(issue: IssuedWorkbook) -> str:
    """What the unit must know to fill the form in truly: which cells are its own, and what
    its answers lead to (the light rules of DESIGN §5, as domain.lights applies them)."""
    signers = "、".join(SIGNERS)
    if issue.form is Form.targets:
        return ("填写说明：1. 灰色单元格由督查室填写，请勿改动；2. 请在各周期列中填写该周期末应达到的节点目标（可量化、可检验），"
                "已填写的为已登记目标，如需调整请直接修改并在邮件中说明理由（调整须经分管领导同意）；"
                "每期将按这里的节点目标检查完成情况、亮绿灯/黄灯/红灯；"
                f"3. 不要增删行列或改动工作表名称，在第{SIGNER_ROW}行填写{signers}；"
                "4. 填好后直接保存（.xlsx），作为邮件附件回复督查室。")
    return ("填写说明：1. 灰色单元格由督查室填写，请勿改动；请逐项填写白色单元格（行高随内容增加），不要增删行列或改动工作表名称，"
            f"并在第{SIGNER_ROW}行填写{signers}。\n"
            "2.“完成情况”从下拉列表选择：已完成——本期节点目标已经完成；未完成——本期节点目标没有完成；"
            "已办结——整项任务已全部完成，以后各期不再报送、不再亮灯。\n"
            "3. 灯色：绿灯——按时完成本期节点目标（已完成或已办结）；黄灯——未完成本期节点目标，未报送的也按黄灯计"
            "（以督查室设置为准），将发督查整改通知；红灯——连续黄灯达到规定次数（默认连续两次），"
            "将约谈单位主要负责人。“自评灯色”请如实自评，最终灯色以督查室核定为准。\n"
            "4. 填好后直接保存（.xlsx），作为邮件附件回复督查室。")


def write_unit_workbook(path: Path, issue: IssuedWorkbook, signature: str) -> Path:
    """Write the workbook a unit fills in; locked columns grey, inputs white with drop-downs."""
    headers = [*issue.form.locked_headers, *issue.inputs]
    n_locked = len(issue.form.locked_headers)
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name(issue.form)
    last_col = get_column_letter(len(headers))
    ws.merge_cells(f"A1:{last_col}1")
    ws["A1"] = _title(issue)
    ws["A1"].font = Font(name="宋体", bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 30
    due = date.fromisoformat(issue.due)
    split = get_column_letter(min(n_locked, len(headers) - 1))
    ws.merge_cells(f"A2:{split}2")
    write_cell(ws["A2"], f"报送单位：{issue.unit}")
    right = get_column_letter(min(n_locked, len(headers) - 1) + 1)
    ws.merge_cells(f"{right}2:{last_col}2")
    write_cell(ws[f"{right}2"], f"截止时间：{date_text(due)}（含当日）前报送")
    for cell in (ws["A2"], ws[f"{right}2"]):
        cell.font = Font(bold=True, size=12)
    ws.merge_cells(f"A3:{last_col}3")
    write_cell(ws["A3"], _instructions(issue))
    ws["A3"].alignment = Alignment(wrap_text=True, vertical="top")
    widths = {}
    for col, header in enumerate(headers, 1):
        cell = ws.cell(HEADER_ROW, col, header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        widths[col] = WIDTHS.get(header, PERIOD_WIDTHS[issue.kind])
        ws.column_dimensions[get_column_letter(col)].width = widths[col]
    ws.row_dimensions[HEADER_ROW].height = 32
    fit_row_height(ws, 3, {1: sum(widths.values())})  # a merged cell never grows by itself
    _signer_cells(ws, widths)
    for r, row in enumerate(issue.rows, FIRST_ROW):
        values = [*row.locked, *(row.inputs or ("",) * len(issue.inputs))]
        for col, text in enumerate(values, 1):
            cell = ws.cell(r, col)
            write_cell(cell, text)
            cell.border = _BORDER
            cell.alignment = _WRAP_TOP
            locked = col <= n_locked
            cell.protection = Protection(locked=locked)
            if locked:
                cell.fill = LOCKED_FILL
        # the issued texts' height, stored as an automatic height: the row still grows with
        # what the unit types (a fixed height hid text beyond the second line, in print too)
        fit_row_height(ws, r, widths)
        ws.row_dimensions[r] = AutoHeight(ws, index=r, ht=max(ws.row_dimensions[r].height, 30))
    last_row = FIRST_ROW + len(issue.rows) - 1
    if issue.form is Form.feedback:
        _dropdown(ws, headers.index(COMPLETION_HEADER) + 1, [c.value for c in Completion], COMPLETION_HEADER, last_row)
        _dropdown(ws, headers.index(SELF_LIGHT_HEADER) + 1, [c.value for c in LightColor], SELF_LIGHT_HEADER, last_row)
    ws.freeze_panes = ws.cell(FIRST_ROW, 3)
    ws.protection.sheet = True
    ws.protection.formatRows = False  # units may resize rows and columns to read long text
    ws.protection.formatColumns = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False
    print_setup(ws, title_row=HEADER_ROW)
    ws.print_options.horizontalCentered = True
    _write_meta(wb, issue, signature)
    wb.active = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


class AutoHeight(RowDimension):
    """A row height written without ``customHeight``: Excel and LibreOffice show it until the
    row's content changes, then fit the row to its text again (openpyxl marks every height
    it writes as custom, i.e. fixed)."""

    @property
    def customHeight(self):  # noqa: N802 (openpyxl's attribute)
        return False


def _signer_cells(ws, widths: dict[int, float]) -> None:
    """Row SIGNER_ROW: 填报人：[ ] 联系电话：[ ] 审核人：[ ] — labels locked, inputs unlocked
    (each input spans enough columns to hold a phone number)."""
    col = 1
    for label in SIGNERS:
        cell = ws.cell(SIGNER_ROW, col, f"{label}：")
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="right", vertical="center")
        first = last = col + 1
        while widths.get(last, 0) and sum(widths.get(c, 0) for c in range(first, last + 1)) < 14:
            last += 1
        box = ws.cell(SIGNER_ROW, first)
        box.number_format = "@"  # a phone number stays as typed, not 1.38E+10
        box.protection = Protection(locked=False)
        box.alignment = Alignment(vertical="center", wrap_text=True)
        for c in range(first, last + 1):
            ws.cell(SIGNER_ROW, c).border = _BORDER
        if last > first:
            ws.merge_cells(start_row=SIGNER_ROW, start_column=first, end_row=SIGNER_ROW, end_column=last)
        col = last + 1
    ws.row_dimensions[SIGNER_ROW].height = 22


def _dropdown(ws, col: int, choices: list[str], header: str, last_row: int) -> None:
    letter = get_column_letter(col)
    dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True, showErrorMessage=True,
                        errorTitle="请从下拉列表中选择", error=f"【{header}】只能填写：" + "、".join(choices),
                        showInputMessage=True, promptTitle=header, prompt="请从下拉列表中选择")
    dv.add(f"{letter}{FIRST_ROW}:{letter}{max(last_row, FIRST_ROW)}")
    ws.add_data_validation(dv)


def meta_values(issue: IssuedWorkbook, signature: str) -> tuple[str, ...]:
    """The identity fields of ``_duban`` in META_FIELDS order (all text)."""
    return (issue.format_version, issue.form.value, issue.issue_id, issue.unit, issue.period, issue.kind.value,
            str(issue.year), issue.issued_at.isoformat(timespec="seconds"), issue.due, str(len(issue.rows)), signature)


def _write_meta(wb: Workbook, issue: IssuedWorkbook, signature: str) -> None:
    """``_duban``: identity fields, then one row per task with its issued row number and the
    locked texts as issued (so collect can name the exact cell a unit changed)."""
    meta = wb.create_sheet(META_SHEET)
    for r, (key, value) in enumerate(zip(META_FIELDS, meta_values(issue, signature)), 1):
        meta.cell(r, 1, key)
        write_cell(meta.cell(r, 2), value)
    start = len(META_FIELDS) + 2
    for col, header in enumerate(META_ROWS_HEADER, 1):
        meta.cell(start, col, header)
    for i, row in enumerate(issue.rows, 1):
        write_cell(meta.cell(start + i, 1), row.task_id)
        meta.cell(start + i, 2, FIRST_ROW + i - 1)
        for col, text in enumerate(row.locked[1:], 3):
            write_cell(meta.cell(start + i, col), text)
    meta.sheet_state = "veryHidden"
    meta.protection.sheet = True
