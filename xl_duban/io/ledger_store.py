"""The ledger workbook on disk, through openpyxl (DESIGN §3, §8).

``LedgerStore.load`` reads every data sheet into typed records; ``save`` writes them back
into the same workbook object so that sheets, columns, styles and settings the user added
survive. Writes are atomic: the new file is written next to the ledger, the old one is
copied to the backup folder, then the new file replaces it in one rename — a crash at any
point leaves either the old ledger or the new one, never half of each.
"""

from __future__ import annotations

import glob
import gc
import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from copy import copy
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from sys import intern
from typing import Any, Callable, Collection, Iterable, Sequence

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.formatting.rule import FormulaRule
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from ..domain.cells import cell_text
from ..domain.findings import Finding, error
from ..domain.models import Ledger, Record, Setting
from ..domain.settings import initial_rows, read_settings
from ..errors import LedgerError
from ..timing import stage
from ..domain.grid import Formula, Layout, extra_keys, from_cell, grid_headers, grid_layout, records_from_grid
from ..domain.units import split_list
from ..domain.schema import DATA_SHEETS, OVERVIEW_SHEET, SETTINGS, SHEET_ORDER, SUBMISSIONS, TASKS, SheetSpec
from .sheet_rows import (END, SheetRows, UnusualSheet, cell_style, error_cells, formula_cells, formula_groups, restyle,
                         safe_tail, set_styles, splice, style_pattern)

HIGHLIGHT = "FFFF9DA7"  # fill of cells a finding points at (not Excel's "Bad" style colour); cleared on the next validate
HEADER_FILL = PatternFill("solid", fgColor="FF1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFFFF")
THIN = Side(style="thin", color="FFBFBFBF")
DV_TITLE = "请从下拉列表中选择"
NOTE_AUTHOR = "督办校验"  # author of the comments findings leave on the cells they point at
BACKUP_DIR = "台账备份"


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
def _to_cell(kind: str, value: Any) -> Any:
    if kind == "list":
        return "、".join(value) if value else None
    if value == "" or value is None:
        return None
    return value


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


class Stamps:
    """Cell formats made once and stamped on many cells. openpyxl looks every format
    attribute up in the workbook's tables when it is set (~30–50 µs a cell); a year's new
    rows and a province's 亮灯总览 have tens of thousands of cells in a handful of formats."""

    def __init__(self) -> None:
        self._made: dict = {}

    def apply(self, cell, key, **formats) -> None:
        """Give ``cell`` (not formatted yet) the formats named ``key``: ``formats`` the first
        time, a copy of what they made afterwards."""
        made = self._made.get(key)
        if made is not None:
            cell._style = copy(made)
            return
        for name, value in formats.items():
            setattr(cell, name, value)
        self._made[key] = copy(cell._style)


# -- sheet layout ------------------------------------------------------------------------------------
def _our_table(ws, spec: SheetSpec):
    table = ws.tables.get(spec.table)
    if table is None and ws.tables:  # a table renamed by the user is still ours
        table = ws.tables[next(iter(ws.tables))]
    return table


def find_layout(ws, spec: SheetSpec) -> Layout:
    """The header row: the table's first row, else the first of 10 rows holding a required header."""
    table = _our_table(ws, spec)
    if table is not None:
        min_col, min_row, _max_col, _max_row = range_boundaries(table.ref)
        return Layout(min_row, min_col)
    top = [[c.value for c in row] for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 10))]
    return grid_layout(top, spec)


def _header_cells(ws, layout: Layout) -> list[str]:
    return grid_headers([[c.value for c in row] for row in ws.iter_rows(min_row=layout.header_row, max_row=layout.header_row)],
                        layout)


def _style_header(ws, spec: SheetSpec, headers: list[str], layout: Layout) -> None:
    widths = {c.header: c.width for c in spec.columns}
    for col, header in enumerate(headers, layout.first_col):
        cell = ws.cell(layout.header_row, col)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
        if header in widths:
            ws.column_dimensions[get_column_letter(col)].width = widths[header]
    ws.freeze_panes = ws.cell(layout.first_data_row, 1).coordinate
    ws.row_dimensions[layout.header_row].height = 24
    print_setup(ws, title_row=layout.header_row)


PRINT_MARGIN = 0.4  # inches left and right: the most of an A4 width an office printer still prints
MIN_PRINT_SCALE = 85  # below this a printed view's 10.5 pt text is too small to read on paper
_A4_INCHES = (8.27, 11.69)


def print_setup(ws, *, title_row: int | None = None) -> None:
    """A4 landscape, one page wide, header row repeated on every page, page numbers in the
    footer (a printed ledger view is read and filed on paper: its pages must be countable).
    Each view chooses its column widths so that :func:`print_scale` stays at or above
    MIN_PRINT_SCALE — fitting a wide sheet to one page width otherwise shrinks it unreadably."""
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = PRINT_MARGIN
    if title_row:
        ws.print_title_rows = f"{title_row}:{title_row}"


def column_pixels(width: float) -> int:
    """Screen pixels of a column ``width`` characters wide (Excel's default font: 7 px a
    character plus 5 px of padding)."""
    return int(width * 7 + 5)


def print_scale(ws) -> int:
    """The percentage at which the sheet's used columns fit one landscape (or portrait) A4
    width between its margins — what "fit to one page wide" will print at (96 px an inch)."""
    default = ws.sheet_format.defaultColWidth or 8.43
    letters = [get_column_letter(c) for c in range(1, ws.max_column + 1)]
    pixels = sum(column_pixels(ws.column_dimensions[x].width if x in ws.column_dimensions and ws.column_dimensions[x].width
                               else default) for x in letters)
    paper = _A4_INCHES[1] if ws.page_setup.orientation == "landscape" else _A4_INCHES[0]
    printable = (paper - (ws.page_margins.left or 0) - (ws.page_margins.right or 0)) * 96
    return min(100, int(printable * 100 / max(pixels, 1)))


# 报送情况 rows the office must act on stand out; conditional formatting (not cell fills) so a
# 状态 the clerk changes by hand, or a row added in Excel, recolours by itself
STATE_FILLS = {"未报送": "FFFFC7CE", "逾期报送": "FFFFEB9C", "退回": "FFF8CBAD"}


def _state_fills(ws, spec: SheetSpec, headers: list[str], layout: Layout) -> None:
    if spec.name != SUBMISSIONS.name or "状态" not in headers:
        return
    ours = {f'"{state}"' for state in STATE_FILLS}
    kept = ConditionalFormattingList()
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            if not (rule.type == "expression" and rule.formula and any(rule.formula[0].endswith("=" + s) for s in ours)):
                kept.add(str(cf.sqref), rule)
    ws.conditional_formatting = kept
    status = get_column_letter(layout.first_col + headers.index("状态"))
    last = get_column_letter(layout.first_col + table_width(headers) - 1)
    first = layout.first_data_row
    for state, color in STATE_FILLS.items():
        fill = PatternFill(start_color=color, end_color=color, fill_type="solid")
        ws.conditional_formatting.add(f"{get_column_letter(layout.first_col)}{first}:{last}1048576",
                                      FormulaRule(formula=[f'${status}{first}="{state}"'], fill=fill))


def _apply_dropdowns(ws, spec: SheetSpec, headers: list[str], layout: Layout) -> None:
    """Drop-downs for enumerated columns, placed by header so moved columns keep theirs."""
    ws.data_validations.dataValidation = [dv for dv in ws.data_validations.dataValidation if dv.errorTitle != DV_TITLE]
    for column in spec.columns:
        if not column.choices or column.header not in headers:
            continue
        letter = get_column_letter(layout.first_col + headers.index(column.header))
        dv = DataValidation(type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle=DV_TITLE,
                            error=f"【{column.header}】只能填写：" + "、".join(column.choices))
        dv.add(f"{letter}{layout.first_data_row}:{letter}1048576")
        ws.add_data_validation(dv)


def table_width(headers: list[str]) -> int:
    """How many header columns the sheet's table spans: a table header must be non-blank and
    unique, so it stops before the first user column that is not."""
    return next((i for i, h in enumerate(headers) if not h or headers.count(h) > 1), len(headers))


def _ensure_table(ws, spec: SheetSpec, headers: list[str], nrows: int, layout: Layout) -> None:
    ncols = table_width(headers)
    ref = (f"{get_column_letter(layout.first_col)}{layout.header_row}:"
           f"{get_column_letter(layout.first_col + ncols - 1)}{layout.header_row + max(nrows, 1)}")
    table = _our_table(ws, spec)
    if table is None:
        table = Table(displayName=spec.table, ref=ref)
        table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        ws.add_table(table)
    table.ref = ref
    if table.autoFilter is not None:
        table.autoFilter.ref = ref
    elif table.headerRowCount:
        table.autoFilter = AutoFilter(ref=ref)
    # named after the header cells, which Excel requires (as openpyxl names them when the list
    # is left empty, except that it visits every cell of the table's range to do so)
    table.tableColumns = [TableColumn(id=col, name=str(ws.cell(layout.header_row, col).value))
                          for col in range(layout.first_col, layout.first_col + ncols)]


# -- records -----------------------------------------------------------------------------------------------
def write_records(ws, spec: SheetSpec, records: Iterable[Record], *, unchanged: int = 0) -> None:
    """Rewrite a data sheet's rows from records, keeping the user's column order and extras.

    The first ``unchanged`` records are known to stand in their rows exactly as read (see
    :meth:`LedgerStore.save`) and are not rewritten: most commands append to 变更日志 or
    change a few rows, and restyling every cell of a year's ledger is what makes a save slow.
    """
    layout = find_layout(ws, spec)
    headers = _header_cells(ws, layout)
    for column in spec.columns:
        if column.header not in headers:
            headers.append(column.header)
            unchanged = 0  # a new column: every row gets a cell in it
    for col, header in enumerate(headers, layout.first_col):
        if header and ws.cell(layout.header_row, col).value != header:
            write_cell(ws.cell(layout.header_row, col), header)
    keys = extra_keys(headers)
    by_header = {c.header: c for c in spec.columns}
    records = list(records)
    old_max = ws.max_row
    wrap = Alignment(vertical="top", wrap_text=True)
    columns = [by_header.get(header) if key == header else None for header, key in zip(headers, keys)]
    stamps = Stamps()  # a new row's cells get their column's format made once
    for r, record in enumerate(records[unchanged:], layout.first_data_row + unchanged):
        for col, (column, value) in enumerate(zip(columns, row_values(record, headers, keys, by_header)), layout.first_col):
            cell = ws.cell(r, col)
            if column is not None:
                formats = {}
                if column.kind in ("text", "list"):
                    formats["number_format"] = "@"  # 2024-03 typed later stays text, not a date
                if column.width >= 20 or column.kind == "list":
                    formats["alignment"] = wrap
                fresh = not cell.has_style
                write_cell(cell, value)  # a date's number format is set here
                if fresh and not isinstance(value, date):
                    stamps.apply(cell, col, **formats)
                else:
                    for name, format_ in formats.items():
                        setattr(cell, name, format_)
            else:
                write_cell(cell, value, as_text=not isinstance(value, Formula))
    _drop_rows(ws, layout.first_data_row + len(records), old_max, layout.first_col, layout.first_col + len(headers) - 1)
    _style_header(ws, spec, headers, layout)
    _apply_dropdowns(ws, spec, headers, layout)
    _state_fills(ws, spec, headers, layout)
    _ensure_table(ws, spec, headers, len(records), layout)


def _drop_rows(ws, first: int, last: int, min_col: int, max_col: int) -> None:
    """Remove the table's cells of rows that no longer hold a record (fewer findings than
    last time): a cleared cell keeps its format, and Excel, LibreOffice and every reader then
    show a run of blank rows under the table. Cells the user keeps beside the table stay."""
    if first > last:
        return
    for (row, col) in [key for key in ws._cells if first <= key[0] <= last and min_col <= key[1] <= max_col]:
        del ws._cells[(row, col)]


def row_values(record: Record, headers: list[str], keys: list[str], by_header: dict) -> list[Any]:
    """The cell values of one record's row, column by column in the sheet's header order:
    contract columns converted for the sheet, user columns (extras) as they were read."""
    values = record.model_dump()
    out = []
    for header, key in zip(headers, keys):
        column = by_header.get(header)
        if column and key == header:
            out.append(_to_cell(column.kind, values.get(column.field)))
        else:
            out.append(record.extras.get(key))
    return out


def _highlight_fills(wb) -> set[int]:
    return {i for i, fill in enumerate(wb._fills)
            if getattr(fill, "fill_type", None) == "solid" and fill.fgColor is not None and fill.fgColor.rgb == HIGHLIGHT}


def highlight_formats(wb) -> set[int]:
    """Indexes of the workbook's cell formats that carry the finding highlight fill."""
    fills = _highlight_fills(wb)
    return {i for i, style in enumerate(wb._cell_styles) if style.fillId in fills}


def clear_highlights(ws) -> None:
    """Remove the finding highlight from every cell (user fills of other colours stay).

    Cells are matched by the index of their fill, not by building each cell's style
    objects: a year's ledger has 10⁵–10⁶ cells and only a few dozen carry the highlight."""
    marked = _highlight_fills(ws.parent)
    if not marked:
        return
    for cell in list(ws._cells.values()):
        if cell.has_style and cell._style.fillId in marked:
            cell.fill = PatternFill(fill_type=None)
            if cell.comment is not None and cell.comment.author == NOTE_AUTHOR:
                cell.comment = None


def highlight(ws, spec: SheetSpec, findings: Iterable[Finding]) -> list[tuple[int, int]]:
    """Fill the cells findings point at and attach the message as a comment; returns the
    (row, column) of each cell marked."""
    layout = find_layout(ws, spec)
    headers = _header_cells(ws, layout)
    marked = []
    for f in findings:
        if f.row is None or f.row < layout.first_data_row or f.column not in headers:
            continue
        cell = ws.cell(f.row, layout.first_col + headers.index(f.column))
        cell.fill = PatternFill("solid", fgColor=HIGHLIGHT)
        cell.comment = Comment(f.text(), NOTE_AUTHOR, width=300, height=90)
        marked.append((cell.row, cell.column))
    return marked


def content_digest(record: Record) -> bytes:
    """A 128-bit digest of what a record holds, apart from where it stands.

    A save compares each record with what was read to skip the rows that did not change;
    keeping a digest per record instead of a copy of its values keeps a year's ledger
    (50k records) from costing its size twice in memory."""
    values = [v for k, v in record.__dict__.items() if k != "row"]  # the fields, in the model's order
    return hashlib.blake2b(repr(values).encode(), digest_size=16).digest()


# The sheets without which a workbook is not a ledger at all: its tasks and its 设置 (the year).
# Any other standard sheet a clerk deleted is rebuilt on the next save; but a command pointed
# at an ordinary workbook (a unit list, last year's statistics) must not add the ledger's
# sheets to it.
LEDGER_MARKS = (TASKS.name, SETTINGS.name)


def not_a_ledger(file: str, absent: Iterable[str]) -> str:
    """The refusal of a workbook that is not a ledger, naming the sheets a ledger has."""
    return (f"“{file}”不是督办台账（缺少工作表【" + "】【".join(absent) + "】），未作任何修改。台账应包含工作表："
            + "、".join(SHEET_ORDER) + "。请指定正确的台账文件，或运行 duban init 年度 新台账.xlsx 新建台账。")


# -- the stores -------------------------------------------------------------------------------------------
class RecordStore:
    """What the file store and the live-book store share: data sheets to records and the
    bookkeeping that lets a save skip the rows that did not change. Subclasses read a sheet
    (:meth:`_read_sheet`) and know where its first data row is (:meth:`_first_data_row`)."""

    file: str

    def __init__(self) -> None:
        self._incomplete: set[str] = set()  # sheets missing a required column: never rewritten
        self._absent: set[str] = set()  # optional sheets the ledger does not have: not added by a save
        self._as_read: dict[str, list[tuple[int, bytes]]] = {}  # sheet → (Excel row, content digest) of each record loaded

    def _read_sheet(self, spec: SheetSpec) -> tuple[list[Record], list[Finding]] | None:
        raise NotImplementedError

    def _first_data_row(self, spec: SheetSpec) -> int:
        raise NotImplementedError

    def _load_records(self) -> tuple[Ledger, list[Finding]]:
        ledger = Ledger()
        findings: list[Finding] = []
        reads = {spec.name: self._read_sheet(spec) for spec in DATA_SHEETS}
        absent = [name for name in LEDGER_MARKS if reads[name] is None]
        if absent:
            raise LedgerError(not_a_ledger(self.file, absent))
        for spec in DATA_SHEETS:
            read = reads[spec.name]
            if read is None and spec.optional:
                self._absent.add(spec.name)
                continue
            if read is None:
                findings.append(error("missing-sheet", f"台账缺少工作表【{spec.name}】，保存时将重新建立。",
                                      file=self.file, sheet=spec.name, hint="请勿删除或重命名标准工作表。"))
                continue
            records, sheet_findings = read
            setattr(ledger, spec.attr, records)
            self._as_read[spec.name] = [(r.row, content_digest(r)) for r in records]
            findings.extend(sheet_findings)
            if any(f.code == "missing-column" for f in sheet_findings):
                self._incomplete.add(spec.name)
        self.renumber(ledger)
        return ledger, findings

    @property
    def absent_sheets(self) -> frozenset[str]:
        """The optional data sheets (考核调整) this ledger was made without: a save leaves them
        out; the command that needs one adds it as a view."""
        return frozenset(self._absent)

    def _unchanged(self, spec: SheetSpec, first: int, contents: list[bytes]) -> int:
        """How many leading records still stand, unchanged, in the rows they were read from."""
        n = 0
        for (row, before), now in zip(self._as_read.get(spec.name, ()), contents):
            if row != first + n or now != before:
                break
            n += 1
        return n

    def changed(self, ledger: Ledger, *, ignore: Iterable[str] = ()) -> bool:
        """Whether any data sheet (but those in ``ignore``) holds other records than were read; a
        standard sheet that was missing counts as a change (the save rebuilds it)."""
        for spec in DATA_SHEETS:
            if spec.name in ignore or spec.name in self._absent:  # an optional sheet the ledger lacks stays absent
                continue
            if spec.name not in self._as_read:
                return True
            records, before = getattr(ledger, spec.attr), self._as_read.get(spec.name, [])
            if len(records) != len(before) or any(content_digest(r) != d for r, (_row, d) in zip(records, before)):
                return True
        return False

    def renumber(self, ledger: Ledger) -> None:
        """Give every record the Excel row it will occupy when saved (new records included)."""
        for spec in DATA_SHEETS:
            first = self._first_data_row(spec)
            for i, record in enumerate(getattr(ledger, spec.attr)):
                record.row = first + i

    def _writable_specs(self, skip_incomplete: bool) -> list[SheetSpec]:
        """The data sheets a save may rewrite; refuses the save when one lost a required column."""
        if self._incomplete and not skip_incomplete:
            raise LedgerError("台账的【" + "】【".join(sorted(self._incomplete)) + "】缺少必需的列，为防止数据丢失未作任何修改。"
                              "请先恢复列名（可运行 duban validate 查看缺少哪些列）。")
        return [spec for spec in DATA_SHEETS if spec.name not in self._incomplete | self._absent]


class LedgerStore(RecordStore):
    """Load and atomically save one ledger workbook (.xlsx, or .xlsm keeping its VBA).

    Reading goes through python-calamine (values) and the sheet XML (formulas); a save hands
    openpyxl only the rows that change and splices the rest back byte for byte
    (:mod:`.sheet_rows`), so a command on a year's ledger costs what it changes, not what the
    ledger holds.
    """

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self.path = Path(path)
        self._original: bytes | None = None  # the file as loaded
        self._layouts: dict[str, Layout] = {}
        self._new_columns: set[str] = set()  # data sheets lacking a contract column, which a save adds

    @property
    def file(self) -> str:
        return self.path.name

    def load(self) -> tuple[Ledger, list[Finding]]:
        """All data sheets as records, plus findings for sheets or columns that are missing.

        Record rows are numbered as they will stand after the next save (blank rows
        closed up), so findings computed now point at the right cells once written.

        The loaded records (some 160,000 objects at province scale) live until the command
        ends and hold no reference cycles, so they are frozen out of the cycle collector
        (``gc.freeze``): otherwise the command's next allocations walk all of them again,
        60–100 ms a pass, in the middle of reading the returns or lighting up. The next
        load gives them back to the collector first, so a long-lived process leaks nothing.
        """
        if not self.path.exists():
            raise LedgerError(f"找不到台账文件“{self.path}”。可先运行 duban init 年度 台账.xlsx 新建。")
        if not self.path.is_file():
            raise LedgerError(f"“{self.path}”不是文件，请指定台账 .xlsx 文件。")
        ensure_not_open_in_excel(self.path)
        from python_calamine import CalamineWorkbook

        from . import package

        data = self.path.read_bytes()
        broken = (f"台账“{self.path.name}”无法打开（{{}}），文件可能已损坏；"
                  f"可从“{BACKUP_DIR}”文件夹恢复最近的备份。")
        try:
            pkg = package.Package(data)
        except Exception as exc:
            raise LedgerError(broken.format(type(exc).__name__)) from exc
        package.check_writable(pkg, file_name=self.path.name)  # refuse up front what a save could not carry
        try:
            self._sheets = SheetSource(pkg, CalamineWorkbook.from_filelike(io.BytesIO(data)))
        except Exception as exc:
            raise LedgerError(broken.format(type(exc).__name__)) from exc
        self._original = data
        gc.unfreeze()  # what an earlier load froze (in a long-lived process) is the collector's again
        try:
            return self._load_records()
        finally:
            self._sheets = None  # the parsed parts (~15× the file) are parsed again when saving
            gc.freeze()  # see below

    def _read_sheet(self, spec: SheetSpec) -> tuple[list[Record], list[Finding]] | None:
        try:
            grid = self._sheets.grid(spec.name)
        except Exception as exc:  # calamine on a sheet it cannot read
            raise LedgerError(f"台账“{self.path.name}”的工作表【{spec.name}】无法读取（{type(exc).__name__}），"
                              f"文件可能已损坏；可从“{BACKUP_DIR}”文件夹恢复最近的备份。") from exc
        if grid is None:
            return None
        rows, formulas = grid
        layout = self._sheets.table_layout(spec) or grid_layout(rows, spec)
        self._layouts[spec.name] = layout
        headers = grid_headers(rows, layout)
        if any(c.header not in headers for c in spec.columns):
            self._new_columns.add(spec.name)  # the save adds them: every row gets a cell in them
        return records_from_grid(rows, spec, self.file, layout, formulas)

    def _first_data_row(self, spec: SheetSpec) -> int:
        return self._layouts.get(spec.name, Layout()).first_data_row

    def save(self, ledger: Ledger, *, highlights: list[Finding] | None = None, now: datetime,
             views: Iterable[Callable[[Workbook], None]] = (), skip_incomplete: bool = False) -> None:
        """Write the data sheets back and replace the file atomically after a backup.

        ``views`` render generated sheets (亮灯总览, bulletins) into the same workbook, so the
        ledger and its views are written in one atomic step. A sheet that lost a required
        column is never rewritten (its rows could not be written back faithfully): with
        ``skip_incomplete`` it is left as it is, otherwise the save is refused.

        Rows that stand unchanged where they were read — and hold no finding highlight to
        clear or set — are not given to openpyxl at all: they are copied from the file as
        they are (see :mod:`.sheet_rows`).
        """
        if self._original is None:
            raise LedgerError("内部错误：保存前未读取台账")
        specs = self._writable_specs(skip_incomplete)
        ensure_not_open_in_excel(self.path)
        if not self.path.exists() or self.path.read_bytes() != self._original:
            raise LedgerError(f"台账“{self.path.name}”在本次读取之后被改动过（或已被移走），为防止覆盖他人的修改，"
                              "本次未作任何保存。请重新运行该命令。")
        contents = {spec.name: [content_digest(r) for r in getattr(ledger, spec.attr)] for spec in specs}
        keep = {spec.name: self._first_data_row(spec) + self._unchanged(spec, self._first_data_row(spec), contents[spec.name])
                for spec in specs}
        from .package import Package

        pkg = Package(self._original)  # the file as loaded (checked above to be the file on disk)
        stub = Stub(pkg)
        for spec in specs:
            layout = self._layouts.get(spec.name, Layout())
            tail = layout.first_data_row if spec.name in self._new_columns else keep[spec.name]
            stub.plan(spec.name, layout.header_row, tail)
        try:
            wb = load_workbook(io.BytesIO(stub.bytes()), keep_vba=_is_macro(self.path), rich_text=True)
        except Exception as exc:
            raise LedgerError(f"台账“{self.path.name}”无法打开（{type(exc).__name__}），文件可能已损坏；"
                              f"可从“{BACKUP_DIR}”文件夹恢复最近的备份。") from exc
        written: dict[str, list[tuple[int, bytes]]] = {}
        for spec in specs:
            ws = wb[spec.name] if spec.name in wb.sheetnames else wb.create_sheet(spec.name)
            first = find_layout(ws, spec).first_data_row
            write_records(ws, spec, getattr(ledger, spec.attr), unchanged=max(keep[spec.name] - first, 0))
            written[spec.name] = [(first + i, c) for i, c in enumerate(contents[spec.name])]
        if highlights is not None:
            marked = highlight_formats(wb)
            for spec in specs:
                clear_highlights(wb[spec.name])
                stub.clear_marks(spec.name, wb, marked)
                cells = highlight(wb[spec.name], spec, [f for f in highlights if f.sheet == spec.name])
                stub.set_marks(spec.name, wb, cells)
        before = {ws.title: ws for ws in wb.worksheets}
        for render in views:
            render(wb)
        redrawn = {ws.title for ws in wb.worksheets if before.get(ws.title) is not ws}
        backups = read_settings(ledger.settings)[0].backups  # a bad value is reported by validate
        with stage("其中写出文件 atomic_save"):
            atomic_save(wb, self.path, now=now, keep_backups=backups, original=pkg,
                        finish=lambda data: stub.splice(data, skip=redrawn))
        self._as_read.update(written)  # the file now holds exactly these records
        self._layouts.update({spec.name: find_layout(wb[spec.name], spec) for spec in specs})
        self._new_columns -= {spec.name for spec in specs}
        self._original = self.path.read_bytes()


class SheetSource:
    """The data sheets of a loaded ledger as value grids: calamine for values, the sheet XML
    for formulas and for the table that marks where a sheet's header row is."""

    def __init__(self, pkg, calamine) -> None:
        self.pkg, self.calamine = pkg, calamine
        self.parts = {name: part for name, (part, _type) in pkg.sheets().items()}

    def grid(self, name: str) -> tuple[list[list[Any]], dict[tuple[int, int], str]] | None:
        """(rows of values from A1, formula cells) of sheet ``name``; None when there is none."""
        if name not in self.parts or name not in self.calamine.sheet_names:
            return None
        # a whole number reads as an int, as openpyxl (and the records' extras) have it
        rows = [[int(v) if type(v) is float and v.is_integer() else v for v in row]
                for row in self.calamine.get_sheet_by_name(name).to_python(skip_empty_area=False)]
        xml = self.pkg.parts.get(self.parts[name], b"")
        formulas = formula_cells(xml)
        # a formula cell reads as its formula and an error cell as its error text, as openpyxl gives them
        for (r, c), text in [*error_cells(xml).items(), *formulas.items()]:
            while len(rows) < r:
                rows.append([])
            rows[r - 1] += [None] * (c - len(rows[r - 1]))
            rows[r - 1][c - 1] = text
        return rows, formulas

    def table_layout(self, spec: SheetSpec) -> Layout | None:
        """Where the sheet's table starts: the table named for it, else its first table in the
        sheet's own order (openpyxl's, which the save goes by)."""
        from .package import MAIN_NS, R_ID, resolve, sheet_outline

        part = self.parts.get(spec.name)
        if part is None or part not in self.pkg.parts:
            return None
        tables = []
        for el in sheet_outline(self.pkg, part).iter(f"{{{MAIN_NS}}}tablePart"):
            rel = self.pkg.rel_by_id(part, el.get(R_ID))
            target = resolve(part, rel.target) if rel is not None and not rel.external else None
            root = self.pkg.tree(target) if target in self.pkg.parts else None
            if root is not None and root.get("ref"):
                tables.append((root.get("displayName") == spec.table, root.get("ref")))
        if not tables:
            return None
        ref = next((r for ours, r in tables if ours), tables[0][1])
        min_col, min_row, _max_col, _max_row = range_boundaries(ref)
        return Layout(min_row, min_col)


class Stub:
    """The ledger package with each worksheet cut down to the rows a save writes (see
    :mod:`.sheet_rows`), and the splice that puts the other rows back into what openpyxl wrote."""

    def __init__(self, pkg) -> None:
        from .package import RT_WORKSHEET

        self.pkg = pkg
        self.rows: dict[str, SheetRows] = {}
        self.cuts: dict[str, tuple[int, int]] = {}  # sheet → (rows kept at the top, first row of the tail)
        self.restyles: dict[str, dict[int, int]] = {}  # sheet → format swaps in the copied rows
        self.marks: dict[str, dict[tuple[int, int], int]] = {}  # sheet → (row, column) → format, copied rows
        for name, (part, rel_type) in pkg.sheets().items():
            if rel_type != RT_WORKSHEET or part not in pkg.parts:
                continue
            try:
                self.rows[name] = SheetRows(pkg.parts[part])
            except UnusualSheet:
                continue  # openpyxl gets the whole sheet
            self.cuts[name] = (0, END)  # sheets no data sheet plan touches are copied whole

    def plan(self, name: str, keep_head: int, tail_start: int) -> None:
        """Give openpyxl rows ≤ ``keep_head`` and rows ≥ ``tail_start`` of sheet ``name``
        (earlier, when a shared or array formula would be cut: :func:`.sheet_rows.safe_tail`)."""
        if name in self.cuts:
            groups = formula_groups(self.rows[name].xml)
            self.cuts[name] = (keep_head, safe_tail(groups, keep_head, tail_start) if groups else tail_start)

    def _middle(self, name: str) -> tuple[int, int] | None:
        """(first, stop) of the rows of ``name`` copied rather than given to openpyxl."""
        if name not in self.cuts:
            return None
        keep_head, tail_start = self.cuts[name]
        start, end = self.rows[name].span(keep_head + 1, tail_start)
        return (keep_head + 1, tail_start) if start < end else None

    def clear_marks(self, name: str, wb, marked: set[int]) -> None:
        """Clear the finding highlight in the copied rows too (:func:`clear_highlights` does
        the rows openpyxl holds): their formats are swapped for the same without the fill,
        and the findings' comments on them are removed."""
        middle = self._middle(name)
        pattern = style_pattern(marked)
        if middle is None or pattern is None or not pattern.search(self.rows[name].xml, *self.rows[name].span(*middle)):
            return
        no_fill = wb._fills.add(PatternFill(fill_type=None))
        self.restyles[name] = {index: _with_fill(wb, index, no_fill) for index in marked}
        for cell in list(wb[name]._cells.values()):  # cells openpyxl made to hang a comment on
            if (middle[0] <= cell.row < middle[1] and cell.comment is not None and cell.comment.author == NOTE_AUTHOR
                    and cell_style(self.rows[name], cell.row, cell.column) in marked):
                cell.comment = None

    def set_marks(self, name: str, wb, cells: list[tuple[int, int]]) -> None:
        """Give the cells of the copied rows that findings point at the highlight fill (their
        comments are on the cells :func:`highlight` made, which openpyxl writes)."""
        middle = self._middle(name)
        cells = [(r, c) for r, c in cells if middle is not None and middle[0] <= r < middle[1]]
        if not cells:
            return
        fill = wb._fills.add(PatternFill("solid", fgColor=HIGHLIGHT))
        self.marks[name] = {(r, c): _with_fill(wb, cell_style(self.rows[name], r, c) or 0, fill) for r, c in cells}

    def _edit(self, name: str) -> Callable[[bytes], bytes] | None:
        restyles, marks = self.restyles.get(name, {}), self.marks.get(name, {})
        if not restyles and not marks:
            return None
        return lambda rows: set_styles(restyle(rows, restyles), marks)

    def bytes(self) -> bytes:
        """The cut-down package, uncompressed (only openpyxl reads it, from memory)."""
        parts = dict(self.pkg.parts)
        for name, (part, _type) in self.pkg.sheets().items():
            if name in self.cuts:
                parts[part] = self.rows[name].stub(*self.cuts[name])
        from .package import zip_parts

        return zip_parts(parts, compression=zipfile.ZIP_STORED)

    def splice(self, written: bytes, *, skip: Collection[str]) -> bytes:
        """The package openpyxl wrote from the stub, with every sheet's uncut rows put back
        (except sheets in ``skip``, which the program drew anew) and, when those rows use it,
        the original shared-string table."""
        from .package import Package

        out = Package(written)
        pieces: dict[str, list[bytes]] = {}
        for name, (part, _type) in out.sheets().items():
            if name in skip or name not in self.cuts or part not in out.parts:
                continue
            spliced = splice(out.parts[part], self.rows[name], *self.cuts[name], edit=self._edit(name))
            if len(spliced) > 1:
                pieces[part] = spliced
        if not pieces:
            return written
        wb = self.pkg.workbook() or ""
        sst = next((t for _r, t in self.pkg.targets(wb, OD_SHARED_STRINGS) if t in self.pkg.parts), None)
        out_wb = out.workbook() or ""
        if sst is not None and not out.targets(out_wb, OD_SHARED_STRINGS):
            name = "xl/sharedStrings.xml"
            if name in out.parts:
                raise LedgerError("内部错误：保存时共享字符串表冲突，为防止损坏未作任何修改。请把台账发给维护人员。")
            out.parts[name] = self.pkg.parts[sst]
            out.add_rel(out_wb, OD_SHARED_STRINGS, name)
            out.overrides[name] = CT_SHARED_STRINGS
            out.types_changed = True
        return out.to_bytes(pieces)


def _with_fill(wb, index: int, fill: int) -> int:
    """The index of cell format ``index`` with fill ``fill`` instead (added when new)."""
    style = copy(wb._cell_styles[index] if index < len(wb._cell_styles) else wb._cell_styles[0])
    style.fillId = fill
    return wb._cell_styles.add(style)


OD_SHARED_STRINGS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
CT_SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def atomic_save(wb: Workbook, path: Path, *, now: datetime, keep_backups: int = 10, original=None,
                finish: Callable[[bytes], bytes] | None = None) -> None:
    """Save to a temp file beside ``path``, back up the old file, then rename into place.

    ``original`` is the file's package as the caller read it (and checked it still is), else
    the file is read now. ``finish`` turns the package openpyxl wrote (with what it dropped
    carried over) into the final one: the store splices back the rows it did not give openpyxl."""
    tmp = _temp_path(path, os.getpid())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _write_replace(wb, path, tmp, now, keep_backups, original, finish)
    except OSError as exc:
        raise LedgerError(f"保存“{path.name}”失败（{exc.strerror or type(exc).__name__}），原文件未改动。"
                          "请检查磁盘空间和文件夹写入权限后重试。") from exc
    finally:
        if tmp.exists():
            tmp.unlink()


def _temp_path(path: Path, pid: int | str) -> Path:
    """Where process ``pid`` writes the new ledger before renaming it over ``path``."""
    return path.with_name(f".~{path.stem}.{pid}.tmp{path.suffix}")


def _sweep_stale_temps(path: Path) -> None:
    """Temp files left by a save that was killed before its rename (their process is gone)."""
    from .lock import pid_alive

    for old in path.parent.glob(f".~*.tmp{glob.escape(path.suffix)}"):
        pid = old.name[len(f".~{path.stem}."):].split(".", 1)[0]
        if pid.isdigit() and old == _temp_path(path, pid) and not pid_alive(int(pid)):
            old.unlink(missing_ok=True)


def _write_replace(wb: Workbook, path: Path, tmp: Path, now: datetime, keep_backups: int, original,
                   finish: Callable[[bytes], bytes] | None) -> None:
    """Write ``tmp`` and flush it to disk, back the old ledger up, then rename over it.

    What openpyxl drops on save (the ribbon's relationship, charts, pictures, shapes, threaded
    comments, sparklines, …) is carried over from the old file into ``tmp``; content that cannot
    be carried is refused before anything is written (:mod:`.package`).
    """
    from . import package

    _sweep_stale_temps(path)
    if original is None and path.exists():
        original = path.read_bytes()
    if original is not None:
        package.check_writable(original, file_name=path.name)
    drawn = package.drawn_by_program(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    data = buffer.getvalue()
    if original is not None:
        data = package.carry_over(original, data, keep_written=drawn)
    if finish is not None:
        data = finish(data)
    write_durably(tmp, data)
    if path.exists():
        backup_dir = path.parent / BACKUP_DIR
        backup_dir.mkdir(exist_ok=True)
        shutil.copy2(path, backup_dir / f"{path.stem}.{now:%Y%m%d-%H%M%S-%f}{path.suffix}")
        for old in backups_to_drop(sorted(backup_dir.glob(f"{glob.escape(path.stem)}.*{glob.escape(path.suffix)}")),
                                   keep_backups):
            old.unlink()
    os.replace(tmp, path)


def backups_to_drop(backups: list[Path], keep: int) -> list[Path]:
    """The backups (sorted oldest first) that the rotation deletes: all but the newest ``keep``
    and the oldest of each day. A burst of runs on one day (ten typos in a row) thus cannot push
    out yesterday's state; the folder grows by at most one file a day beyond ``keep``."""
    first_of_day: dict[str, Path] = {}
    for p in backups:
        first_of_day.setdefault(p.stem.rsplit(".", 1)[-1][:8], p)  # 台账.20240104-100000-000000 → 20240104
    kept = set(first_of_day.values())
    return [p for p in (backups[:-keep] if keep > 0 else backups) if p not in kept]


def write_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and flush it to the disk before anything renames it."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


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
    for key, value, note in initial_rows(year):
        ledger.settings.append(Setting(key=key, value=value, extras={"说明": note}))
    settings_ws = wb[SETTINGS.name]
    settings_ws.cell(1, 1, "项目")
    settings_ws.cell(1, 2, "值")
    settings_ws.cell(1, 3, "说明")
    settings_ws.column_dimensions["C"].width = 50
    for spec in DATA_SHEETS:
        write_records(wb[spec.name], spec, getattr(ledger, spec.attr))
    wb.active = 0
    return wb, ledger


def create_ledger(path: Path, year: int, *, now: datetime, template: Path | None = None) -> None:
    """Write a new ledger file; refuses to overwrite an existing one.

    An .xlsx is built from scratch; an .xlsm is a copy of ``template`` (the ledger skeleton
    with the 督办 ribbon and its VBA project) with 年度 filled in, saved through the store so
    the copy is exactly what every later command will write."""
    if path.exists():
        raise LedgerError(f"“{path.name}”已存在，为防止覆盖未新建。请换一个文件名或先移走原文件。")
    suffix = path.suffix.lower()
    if suffix == ".xlsm":
        if template is None or not template.is_file():
            raise LedgerError(f"找不到带督办功能区的模板“{template}”，无法新建 .xlsm 台账；"
                              "可运行 duban template build 重新生成模板，或改用 .xlsx。")
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".~duban-init-") as work:
            draft = Path(work) / path.name  # its save's backup stays in the scratch folder
            shutil.copyfile(template, draft)
            store = LedgerStore(draft)
            ledger, _ = store.load()
            ledger.set_setting("年度", year)
            store.save(ledger, now=now)
            os.replace(draft, path)
        return
    if suffix != ".xlsx":
        raise LedgerError("新台账文件名须以 .xlsx（普通台账）或 .xlsm（带督办功能区的台账）结尾。")
    wb, _ = new_ledger_workbook(year)
    atomic_save(wb, path, now=now)
