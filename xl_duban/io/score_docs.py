"""The 绩效考核 result as the ledger's sheets, a workbook for the assessment office and an
official 考核结果通报 (the same official layout as the bulletin: :mod:`.bulletin_docs`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from ..domain.scoring import ADJUST, Assessment, points
from .bulletin_docs import _colophon, _para, _signature, _title, add_table, distribution, official_document
from .ledger_store import HEADER_FILL, print_setup, write_cell
from .views import _fresh_sheet, fit_row_height

SCORE_HEADERS = (("单位", 28), ("类型", 10), ("基础分", 8), ("黄灯", 7), ("红灯", 7), ("逾期报送", 9), ("未报送", 8),
                 ("调整", 8), ("扣分", 8), ("得分", 8), ("等次", 8), ("排名", 7))
ITEM_HEADERS = (("单位", 26), ("任务编号", 15), ("周期", 10), ("项目", 10), ("扣分", 8), ("依据", 70))
GRADE_FILLS = {"好": "FFC6EFCE", "较好": "FFDDEBF7", "一般": "FFFFEB9C", "差": "FFFFC7CE"}
_THIN = Side(style="thin", color="FF808080")
_BORDER = Border(top=_THIN, bottom=_THIN, left=_THIN, right=_THIN)
_WRAP = Alignment(vertical="top", wrap_text=True)


def sheet_names(year: int) -> tuple[str, str]:
    return f"考核-{year}", f"考核明细-{year}"


def title(a: Assessment) -> str:
    return f"{a.year}年度督查工作绩效考核结果（{a.scope}）"


def score_rows(a: Assessment) -> list[list]:
    return [[r.unit, r.type, r.base, r.yellow, r.red, r.late, r.missing, r.adjustment, r.deduction, r.score, r.grade, r.rank]
            for r in a.rows]


def item_rows(a: Assessment) -> list[list]:
    """One row per point: a deduction shows as taken off (−1), an adjustment as typed (+2)."""
    rows = sorted(a.items, key=lambda i: ([r.unit for r in a.rows].index(i.unit), i.period, i.task_id))
    return [[i.unit, i.task_id, i.period, i.kind, i.points if i.kind == ADJUST else -i.points, i.basis] for i in rows]


def _table_sheet(wb: Workbook, name: str, heading: str, headers, rows: list[list], grade_col: int | None = None) -> None:
    ws = _fresh_sheet(wb, name)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.cell(1, 1, heading).font = Font(bold=True, size=14)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.row_dimensions[1].height = 24
    for col, (header, width) in enumerate(headers, 1):
        cell = ws.cell(2, col, header)
        cell.font, cell.fill, cell.border = Font(bold=True), HEADER_FILL, _BORDER
        ws.column_dimensions[cell.column_letter].width = width
    widths = {col: width for col, (_h, width) in enumerate(headers, 1)}
    for r, values in enumerate(rows, 3):
        for col, value in enumerate(values, 1):
            cell = ws.cell(r, col)
            write_cell(cell, value) if isinstance(value, str) else setattr(cell, "value", value)
            cell.border, cell.alignment = _BORDER, _WRAP
            if col == grade_col and value in GRADE_FILLS:
                cell.fill = PatternFill("solid", fgColor=GRADE_FILLS[value])
        fit_row_height(ws, r, widths)
    ws.freeze_panes = "A3"
    if rows:
        ws.auto_filter.ref = f"A2:{ws.cell(2, len(headers)).column_letter}{len(rows) + 2}"
    print_setup(ws, title_row=2)
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def write_score_sheets(wb: Workbook, a: Assessment) -> None:
    """考核-Y and 考核明细-Y (in the ledger, and in the assessment office's workbook)."""
    scores, items = sheet_names(a.year)
    _table_sheet(wb, scores, title(a), SCORE_HEADERS, score_rows(a), grade_col=11)
    _table_sheet(wb, items, f"{a.year}年度督查工作绩效考核扣分及调整明细（{a.scope}）", ITEM_HEADERS, item_rows(a))


def write_score_workbook(path: Path, a: Assessment) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    write_score_sheets(wb, a)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_score_docx(path: Path, a: Assessment, rules_text: str, *, office: str, issued_on: date,
                     colophon: tuple[str, str, str] = ("", "", "")) -> Path:
    """考核结果通报: what was scored and how, the table of every unit, who signs, and the 版记
    (the bulletin's 报 / 送 / 发, from 设置) — the same official layout as the bulletin."""
    doc = official_document()
    _title(doc, ("关于", f"{a.year}年度", "督查工作", "绩效考核结果", "的通报"))
    _para(doc, "", indent=False)
    grades = {g: sum(r.grade == g for r in a.rows) for g in ("好", "较好", "一般", "差")}
    _para(doc, f"根据督查工作方案，督查重点任务及民生实事落实情况与年度绩效考核挂钩。现将{a.year}年度"
               f"{'' if a.through is None else f'（统计至{a.through.label}）'}各牵头单位督查工作考核结果通报如下。")
    _para(doc, f"一、考核办法。{rules_text}")
    _para(doc, f"二、考核结果。共考核{len(a.rows)}个牵头单位，其中等次为“好”的{grades['好']}个、“较好”的{grades['较好']}个、"
               f"“一般”的{grades['一般']}个、“差”的{grades['差']}个（见下表；每个单位的扣分明细见台账“考核明细-{a.year}”工作表）。")
    _para(doc, "", indent=False)
    add_table(doc, ["排名", "单位", "黄灯", "红灯", "逾期", "未报", "调整", "得分", "等次"],
              [[r.rank, r.unit, r.yellow, r.red, r.late, r.missing, points(r.adjustment) if r.adjustment else "",
                points(r.score), r.grade] for r in a.rows] or [["", "本期无考核单位", "", "", "", "", "", "", ""]],
              [1.4, 4.6, 1.3, 1.3, 1.5, 1.5, 1.3, 1.4, 1.3])
    _para(doc, "", indent=False)
    _para(doc, "请各单位对照考核结果，认真查找差距，抓好整改落实。", indent=True)
    _signature(doc, office, issued_on)
    _colophon(doc, distribution(colophon), office, issued_on)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path
