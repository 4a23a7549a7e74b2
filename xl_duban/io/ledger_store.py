"""The ledger workbook on disk, through openpyxl (DESIGN §3, §8).

``LedgerStore.load`` reads every data sheet into typed records; ``save`` writes them back
into the same workbook object so that sheets, columns, styles and settings the user added
survive. Writes are atomic: the new file is written next to the ledger, the old one is
copied to the backup folder, then the new file replaces it in one rename — a crash at any
point leaves either the old ledger or the new one, never half of each.
"""

from __future__ import annotations

import glob
import os
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterable

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

from ..domain.findings import Finding, error
from ..domain.models import Ledger, Record, Setting
from ..domain.units import split_list
from ..domain.schema import DATA_SHEETS, DEFAULT_SETTINGS, OVERVIEW_SHEET, SETTINGS, SHEET_ORDER, SheetSpec

HIGHLIGHT = "FFFF9DA7"  # fill of cells a finding points at (not Excel's "Bad" style colour); cleared on the next validate
HEADER_FILL = PatternFill("solid", fgColor="FF1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFFFF")
THIN = Side(style="thin", color="FFBFBFBF")
DV_TITLE = "请从下拉列表中选择"
BACKUP_DIR = "台账备份"


class LedgerError(Exception):
    """A ledger that cannot be opened or written; the message is Chinese and actionable."""


def lock_files(path: Path) -> list[Path]:
    """Excel's owner files for ``path`` (``~$name``; long names lose their first 2 chars)."""
    return [path.with_name("~$" + path.name), path.with_name("~$" + path.name[2:])]


def ensure_not_open_in_excel(path: Path) -> None:
    """Refuse while Excel (or WPS) holds the file, which it marks with a ``~$`` owner file."""
    if any(p.exists() for p in lock_files(path)):
        raise LedgerError(f"台账“{path.name}”正在被 Excel 或 WPS 打开，请先保存并关闭该文件后再运行。")


def _is_macro(path: Path) -> bool:
    return path.suffix.lower() == ".xlsm"


# -- cell conversion -------------------------------------------------------------------------------
def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _from_cell(kind: str, value: Any) -> Any:
    if kind == "text":
        return _to_text(value)
    if kind == "list":
        return split_list(_to_text(value))
    if kind == "int":
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return None
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date()
    if isinstance(value, str):
        return value.strip() or None
    return value


def _to_cell(kind: str, value: Any) -> Any:
    if kind == "list":
        return "、".join(value) if value else None
    if value == "" or value is None:
        return None
    return value


class Formula(str):
    """A formula read from a user column: written back as a formula, never as text."""


def write_cell(cell, value: Any, *, as_text: bool = True) -> None:
    """Put a value into a cell; text is always text (``=…`` never becomes a formula)."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = value
        if as_text:
            cell.data_type = "s"
        return
    cell.value = value
    if isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"


# -- sheet layout ------------------------------------------------------------------------------------
def _header_cells(ws) -> list[str]:
    headers = []
    for col in range(1, ws.max_column + 1):
        value = ws.cell(1, col).value
        headers.append(_to_text(value))
    while headers and not headers[-1]:
        headers.pop()
    return headers


def _style_header(ws, spec: SheetSpec, headers: list[str]) -> None:
    widths = {c.header: c.width for c in spec.columns}
    for col, header in enumerate(headers, 1):
        cell = ws.cell(1, col)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
        if header in widths:
            ws.column_dimensions[get_column_letter(col)].width = widths[header]
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 24
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"


def _apply_dropdowns(ws, spec: SheetSpec, headers: list[str]) -> None:
    """Drop-downs for enumerated columns, placed by header so moved columns keep theirs."""
    ws.data_validations.dataValidation = [dv for dv in ws.data_validations.dataValidation if dv.errorTitle != DV_TITLE]
    for column in spec.columns:
        if not column.choices or column.header not in headers:
            continue
        letter = get_column_letter(headers.index(column.header) + 1)
        dv = DataValidation(type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle=DV_TITLE,
                            error=f"【{column.header}】只能填写：" + "、".join(column.choices))
        dv.add(f"{letter}2:{letter}1048576")
        ws.add_data_validation(dv)


def _ensure_table(ws, spec: SheetSpec, ncols: int, nrows: int) -> None:
    ref = f"A1:{get_column_letter(ncols)}{max(nrows, 1) + 1}"
    table = ws.tables.get(spec.table)
    if table is None:
        for name in list(ws.tables):  # a table renamed by the user is still ours
            table = ws.tables[name]
            break
    if table is None:
        table = Table(displayName=spec.table, ref=ref)
        table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        ws.add_table(table)
    table.ref = ref
    if table.autoFilter is not None:
        table.autoFilter.ref = ref
    table.tableColumns = []  # rebuilt from the header cells when saved


# -- records -----------------------------------------------------------------------------------------------
def read_records(ws, spec: SheetSpec, file: str) -> tuple[list[Record], list[Finding]]:
    """Records of one data sheet; contract columns by header, the rest kept as extras."""
    headers = _header_cells(ws)
    findings = []
    by_header = {c.header: c for c in spec.columns}
    for column in spec.columns:
        if column.required and column.header not in headers:
            findings.append(error("missing-column", f"【{spec.name}】缺少必需的列【{column.header}】。", file=file,
                                  sheet=spec.name, row=1, column=column.header,
                                  hint=f"在表头行恢复列名“{column.header}”（列名需一字不差）。"))
    records = []
    for row_index, cells in enumerate(ws.iter_rows(min_row=2, max_col=len(headers)), 2):
        if all(c.value is None or (isinstance(c.value, str) and not c.value.strip()) for c in cells):
            continue
        data: dict[str, Any] = {}
        extras: dict[str, Any] = {}
        for header, cell in zip(headers, cells):
            column = by_header.get(header)
            if column:
                data[column.field] = _from_cell(column.kind, cell.value)
            elif header:
                extras[header] = Formula(cell.value) if cell.data_type == "f" else cell.value
        records.append(spec.record(row=row_index, extras=extras, **data))
    return records, findings


def write_records(ws, spec: SheetSpec, records: Iterable[Record]) -> None:
    """Rewrite a data sheet's rows from records, keeping the user's column order and extras."""
    headers = _header_cells(ws)
    for column in spec.columns:
        if column.header not in headers:
            headers.append(column.header)
    for col, header in enumerate(headers, 1):
        if ws.cell(1, col).value != header:
            write_cell(ws.cell(1, col), header)
    by_header = {c.header: c for c in spec.columns}
    records = list(records)
    old_max = ws.max_row
    wrap = Alignment(vertical="top", wrap_text=True)
    for r, record in enumerate(records, 2):
        values = record.model_dump()
        for col, header in enumerate(headers, 1):
            cell = ws.cell(r, col)
            column = by_header.get(header)
            if column:
                write_cell(cell, _to_cell(column.kind, values.get(column.field)))
                if column.width >= 20 or column.kind == "list":
                    cell.alignment = wrap
            else:
                value = record.extras.get(header)
                write_cell(cell, value, as_text=not isinstance(value, Formula))
    for r in range(len(records) + 2, old_max + 1):
        for col in range(1, len(headers) + 1):
            ws.cell(r, col).value = None
    _style_header(ws, spec, headers)
    _apply_dropdowns(ws, spec, headers)
    _ensure_table(ws, spec, len(headers), len(records))


def clear_highlights(ws) -> None:
    """Remove the finding highlight from every cell (user fills of other colours stay)."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.fill is not None and cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == HIGHLIGHT:
                cell.fill = PatternFill(fill_type=None)
                if cell.comment is not None and cell.comment.author == "督办校验":
                    cell.comment = None


def highlight(ws, findings: Iterable[Finding]) -> None:
    """Fill the cells findings point at and attach the message as a comment."""
    headers = _header_cells(ws)
    for f in findings:
        if f.row is None or f.row < 2 or f.column not in headers:
            continue
        cell = ws.cell(f.row, headers.index(f.column) + 1)
        cell.fill = PatternFill("solid", fgColor=HIGHLIGHT)
        cell.comment = Comment(f.text(), "督办校验", width=300, height=90)


# -- the store ---------------------------------------------------------------------------------------------
class LedgerStore:
    """Load and atomically save one ledger workbook (.xlsx, or .xlsm keeping its VBA)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._wb: Workbook | None = None

    @property
    def file(self) -> str:
        return self.path.name

    def load(self) -> tuple[Ledger, list[Finding]]:
        """All data sheets as records, plus findings for sheets or columns that are missing."""
        if not self.path.exists():
            raise LedgerError(f"找不到台账文件“{self.path}”。可先运行 duban init 年度 台账.xlsx 新建。")
        ensure_not_open_in_excel(self.path)
        try:
            self._wb = load_workbook(self.path, keep_vba=_is_macro(self.path), rich_text=False)
        except Exception as exc:
            raise LedgerError(f"台账“{self.path.name}”无法打开（{type(exc).__name__}），文件可能已损坏；"
                              f"可从“{BACKUP_DIR}”文件夹恢复最近的备份。") from exc
        ledger = Ledger()
        findings: list[Finding] = []
        for spec in DATA_SHEETS:
            if spec.name not in self._wb.sheetnames:
                findings.append(error("missing-sheet", f"台账缺少工作表【{spec.name}】，保存时将重新建立。",
                                      file=self.file, sheet=spec.name, hint="请勿删除或重命名标准工作表。"))
                continue
            records, sheet_findings = read_records(self._wb[spec.name], spec, self.file)
            setattr(ledger, spec.attr, records)
            findings.extend(sheet_findings)
        return ledger, findings

    def save(self, ledger: Ledger, *, highlights: list[Finding] | None = None, now: datetime,
             views: Iterable[Callable[[Workbook], None]] = ()) -> None:
        """Write every data sheet back and replace the file atomically after a backup.

        ``views`` render generated sheets (亮灯总览, bulletins) into the same workbook, so the
        ledger and its views are written in one atomic step.
        """
        if self._wb is None:
            raise LedgerError("内部错误：保存前未读取台账")
        ensure_not_open_in_excel(self.path)
        wb = self._wb
        for spec in DATA_SHEETS:
            ws = wb[spec.name] if spec.name in wb.sheetnames else wb.create_sheet(spec.name)
            write_records(ws, spec, getattr(ledger, spec.attr))
        if highlights is not None:
            for spec in DATA_SHEETS:
                clear_highlights(wb[spec.name])
            for spec in DATA_SHEETS:
                highlight(wb[spec.name], [f for f in highlights if f.sheet == spec.name])
        for render in views:
            render(wb)
        keep = _int_setting(ledger, "备份保留份数", 10)
        atomic_save(wb, self.path, now=now, keep_backups=keep)


def _int_setting(ledger: Ledger, key: str, default: int) -> int:
    try:
        return max(1, int(float(ledger.setting(key, default))))
    except (TypeError, ValueError):
        return default


def atomic_save(wb: Workbook, path: Path, *, now: datetime, keep_backups: int = 10) -> None:
    """Save to a temp file beside ``path``, back up the old file, then rename into place."""
    tmp = path.with_name(f".~{path.stem}.{os.getpid()}.tmp{path.suffix}")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _write_replace(wb, path, tmp, now, keep_backups)
    except OSError as exc:
        raise LedgerError(f"保存“{path.name}”失败（{exc.strerror or type(exc).__name__}），原文件未改动。"
                          "请检查磁盘空间和文件夹写入权限后重试。") from exc
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_replace(wb: Workbook, path: Path, tmp: Path, now: datetime, keep_backups: int) -> None:
    """Write ``tmp`` and flush it to disk, back the old ledger up, then rename over it."""
    wb.save(tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    if path.exists():
        backup_dir = path.parent / BACKUP_DIR
        backup_dir.mkdir(exist_ok=True)
        shutil.copy2(path, backup_dir / f"{path.stem}.{now:%Y%m%d-%H%M%S-%f}{path.suffix}")
        backups = sorted(backup_dir.glob(f"{glob.escape(path.stem)}.*{glob.escape(path.suffix)}"))
        for old in backups[:-keep_backups]:
            old.unlink()
    os.replace(tmp, path)


def new_ledger_workbook(year: int) -> tuple[Workbook, Ledger]:
    """A fresh ledger: every sheet of DESIGN §3 with headers, tables, drop-downs, defaults."""
    wb = Workbook()
    wb.remove(wb.active)
    for name in SHEET_ORDER:
        ws = wb.create_sheet(name)
        if name == OVERVIEW_SHEET:
            ws["A1"] = "亮灯总览"
            ws["A1"].font = Font(bold=True, size=14)
            ws["A2"] = "运行“亮灯”后自动生成：每行一项任务，每列一个周期，单元格按绿灯/黄灯/红灯着色。"
    ledger = Ledger()
    for key, value, note in DEFAULT_SETTINGS:
        ledger.settings.append(Setting(key=key, value=year if key == "年度" else value, extras={"说明": note}))
    settings_ws = wb[SETTINGS.name]
    settings_ws.cell(1, 1, "项目")
    settings_ws.cell(1, 2, "值")
    settings_ws.cell(1, 3, "说明")
    settings_ws.column_dimensions["C"].width = 50
    for spec in DATA_SHEETS:
        write_records(wb[spec.name], spec, getattr(ledger, spec.attr))
    wb.active = 0
    return wb, ledger


def create_ledger(path: Path, year: int, *, now: datetime) -> None:
    """Write a new ledger file; refuses to overwrite an existing one."""
    if path.exists():
        raise LedgerError(f"“{path.name}”已存在，为防止覆盖未新建。请换一个文件名或先移走原文件。")
    if path.suffix.lower() != ".xlsx":
        raise LedgerError("新台账文件名须以 .xlsx 结尾（带督办功能区的 .xlsm 台账由模板生成）")
    wb, _ = new_ledger_workbook(year)
    atomic_save(wb, path, now=now)
