"""The ledger workbook on disk, through openpyxl (DESIGN §3, §8).

``LedgerStore.load`` reads every data sheet into typed records; ``save`` writes them back
into the same workbook object so that sheets, columns, styles and settings the user added
survive. Writes are atomic: the new file is written next to the ledger, the old one is
copied to the backup folder, then the new file replaces it in one rename — a crash at any
point leaves either the old ledger or the new one, never half of each.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
import os
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Collection, Iterable, Sequence

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.cell.rich_text import CellRichText
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

from ..domain.findings import Finding, error
from ..domain.models import Ledger, Record, Setting
from ..domain.rules import int_setting
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
def cell_text(value: Any) -> str:
    """A cell value as the text a clerk sees: integral floats without .0, dates in ISO form."""
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
    if isinstance(value, CellRichText):  # contract columns hold plain text; runs of fonts are not data
        value = str(value)
    if kind == "text":
        return cell_text(value)
    if kind == "list":
        return split_list(cell_text(value))
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
@dataclass(frozen=True)
class Layout:
    """Where a data sheet's header row is: users insert title rows and columns in front."""

    header_row: int = 1
    first_col: int = 1

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1


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


def grid_layout(rows: Sequence[Sequence[Any]], spec: SheetSpec) -> Layout:
    """The header row of a sheet given as values (row 1 first): the first of its first 10
    rows that holds a required header; users put titles above the table and columns before it."""
    required = {c.header for c in spec.columns if c.required}
    for r, row in enumerate(rows[:10], 1):
        texts = [cell_text(v) for v in row]
        if required & set(texts):
            return Layout(r, next(i for i, t in enumerate(texts, 1) if t))
    return Layout()


def _header_cells(ws, layout: Layout) -> list[str]:
    return grid_headers([[c.value for c in row] for row in ws.iter_rows(min_row=layout.header_row, max_row=layout.header_row)],
                        layout)


def grid_headers(rows: Sequence[Sequence[Any]], layout: Layout) -> list[str]:
    """The header texts from the layout's first column on, trailing blanks dropped."""
    row = rows[layout.header_row - 1] if len(rows) >= layout.header_row else ()
    headers = [cell_text(v) for v in row[layout.first_col - 1:]]
    while headers and not headers[-1]:
        headers.pop()
    return headers


def _extra_keys(headers: list[str]) -> list[str]:
    """Keys for user columns: the header, or ``#N`` (position) when blank or repeated."""
    return [h if h and headers.count(h) == 1 else f"#{i}" for i, h in enumerate(headers, 1)]


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


def print_setup(ws, *, title_row: int | None = None) -> None:
    """A4 landscape, one page wide, header row repeated on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_row:
        ws.print_title_rows = f"{title_row}:{title_row}"


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
    table.tableColumns = []  # rebuilt from the header cells when saved


# -- records -----------------------------------------------------------------------------------------------
def read_records(ws, spec: SheetSpec, file: str) -> tuple[list[Record], list[Finding]]:
    """Records of one openpyxl sheet (see :func:`records_from_grid`)."""
    layout = find_layout(ws, spec)
    rows: list[list[Any]] = []
    formulas: set[tuple[int, int]] = set()
    for r, cells in enumerate(ws.iter_rows(min_row=1), 1):
        rows.append([c.value for c in cells])
        formulas.update((r, col) for col, c in enumerate(cells, 1) if c.data_type == "f")
    return records_from_grid(rows, spec, file, layout, formulas)


def records_from_grid(rows: Sequence[Sequence[Any]], spec: SheetSpec, file: str, layout: Layout,
                      formulas: Collection[tuple[int, int]] = ()) -> tuple[list[Record], list[Finding]]:
    """Records of one data sheet given as values (row 1 first; any reader: openpyxl, calamine,
    a live Excel book): contract columns by header, the rest kept as extras. ``formulas`` are
    the (row, column) cells holding a formula, kept as formulas in user columns."""
    headers = grid_headers(rows, layout)
    keys = _extra_keys(headers)
    findings = []
    by_header = {c.header: c for c in spec.columns}
    for column in spec.columns:
        if column.required and column.header not in headers:
            findings.append(error("missing-column", f"【{spec.name}】缺少必需的列【{column.header}】。", file=file,
                                  sheet=spec.name, row=layout.header_row, column=column.header,
                                  hint=f"在表头行恢复列名“{column.header}”（列名需一字不差）。"))
    records = []
    first, last = layout.first_col - 1, layout.first_col - 1 + len(headers)
    for row_index in range(layout.first_data_row, len(rows) + 1):
        values = list(rows[row_index - 1][first:last])
        values += [None] * (len(headers) - len(values))
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        data: dict[str, Any] = {}
        extras: dict[str, Any] = {}
        for col, (header, key, value) in enumerate(zip(headers, keys, values), layout.first_col):
            column = by_header.get(header)
            if column and key == header:
                data[column.field] = _from_cell(column.kind, value)
            elif value is not None and value != "":
                extras[key] = Formula(value) if (row_index, col) in formulas else value
        records.append(spec.record(row=row_index, extras=extras, **data))
    return records, findings


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
    keys = _extra_keys(headers)
    by_header = {c.header: c for c in spec.columns}
    records = list(records)
    old_max = ws.max_row
    wrap = Alignment(vertical="top", wrap_text=True)
    columns = [by_header.get(header) if key == header else None for header, key in zip(headers, keys)]
    for r, record in enumerate(records[unchanged:], layout.first_data_row + unchanged):
        for col, (column, value) in enumerate(zip(columns, row_values(record, headers, keys, by_header)), layout.first_col):
            cell = ws.cell(r, col)
            if column is not None:
                write_cell(cell, value)
                if column.kind in ("text", "list"):
                    cell.number_format = "@"  # 2024-03 typed later stays text, not a date
                if column.width >= 20 or column.kind == "list":
                    cell.alignment = wrap
            else:
                write_cell(cell, value, as_text=not isinstance(value, Formula))
    for r in range(layout.first_data_row + len(records), old_max + 1):
        for col in range(layout.first_col, layout.first_col + len(headers)):
            ws.cell(r, col).value = None
    _style_header(ws, spec, headers, layout)
    _apply_dropdowns(ws, spec, headers, layout)
    _ensure_table(ws, spec, headers, len(records), layout)


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


def clear_highlights(ws) -> None:
    """Remove the finding highlight from every cell (user fills of other colours stay).

    Cells are matched by the index of their fill in the workbook's fill table, not by
    building each cell's style objects: a year's ledger has 10⁵–10⁶ cells and only a few
    dozen carry the highlight."""
    fills = ws.parent._fills
    marked = {i for i, fill in enumerate(fills)
              if getattr(fill, "fill_type", None) == "solid" and fill.fgColor is not None and fill.fgColor.rgb == HIGHLIGHT}
    if not marked:
        return
    for cell in list(ws._cells.values()):
        if cell.has_style and cell._style.fillId in marked:
            cell.fill = PatternFill(fill_type=None)
            if cell.comment is not None and cell.comment.author == "督办校验":
                cell.comment = None


def highlight(ws, spec: SheetSpec, findings: Iterable[Finding]) -> None:
    """Fill the cells findings point at and attach the message as a comment."""
    layout = find_layout(ws, spec)
    headers = _header_cells(ws, layout)
    for f in findings:
        if f.row is None or f.row < layout.first_data_row or f.column not in headers:
            continue
        cell = ws.cell(f.row, layout.first_col + headers.index(f.column))
        cell.fill = PatternFill("solid", fgColor=HIGHLIGHT)
        cell.comment = Comment(f.text(), "督办校验", width=300, height=90)


def _content(record: Record) -> dict:
    """What a record holds, apart from where it stands."""
    return record.model_dump(exclude={"row"})


# -- the stores -------------------------------------------------------------------------------------------
class RecordStore:
    """What the file store and the live-book store share: data sheets to records and the
    bookkeeping that lets a save skip the rows that did not change. Subclasses read a sheet
    (:meth:`_read_sheet`) and know where its first data row is (:meth:`_first_data_row`)."""

    file: str

    def __init__(self) -> None:
        self._incomplete: set[str] = set()  # sheets missing a required column: never rewritten
        self._as_read: dict[str, list[tuple[int, dict]]] = {}  # sheet → (Excel row, content) of each record loaded

    def _read_sheet(self, spec: SheetSpec) -> tuple[list[Record], list[Finding]] | None:
        raise NotImplementedError

    def _first_data_row(self, spec: SheetSpec) -> int:
        raise NotImplementedError

    def _load_records(self) -> tuple[Ledger, list[Finding]]:
        ledger = Ledger()
        findings: list[Finding] = []
        for spec in DATA_SHEETS:
            read = self._read_sheet(spec)
            if read is None:
                findings.append(error("missing-sheet", f"台账缺少工作表【{spec.name}】，保存时将重新建立。",
                                      file=self.file, sheet=spec.name, hint="请勿删除或重命名标准工作表。"))
                continue
            records, sheet_findings = read
            setattr(ledger, spec.attr, records)
            self._as_read[spec.name] = [(r.row, _content(r)) for r in records]
            findings.extend(sheet_findings)
            if any(f.code == "missing-column" for f in sheet_findings):
                self._incomplete.add(spec.name)
        self.renumber(ledger)
        return ledger, findings

    def _unchanged(self, spec: SheetSpec, first: int, contents: list[dict]) -> int:
        """How many leading records still stand, unchanged, in the rows they were read from."""
        n = 0
        for (row, before), now in zip(self._as_read.get(spec.name, ()), contents):
            if row != first + n or now != before:
                break
            n += 1
        return n

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
        return [spec for spec in DATA_SHEETS if spec.name not in self._incomplete]


class LedgerStore(RecordStore):
    """Load and atomically save one ledger workbook (.xlsx, or .xlsm keeping its VBA)."""

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self.path = Path(path)
        self._wb: Workbook | None = None

    @property
    def file(self) -> str:
        return self.path.name

    def load(self) -> tuple[Ledger, list[Finding]]:
        """All data sheets as records, plus findings for sheets or columns that are missing.

        Record rows are numbered as they will stand after the next save (blank rows
        closed up), so findings computed now point at the right cells once written.
        """
        if not self.path.exists():
            raise LedgerError(f"找不到台账文件“{self.path}”。可先运行 duban init 年度 台账.xlsx 新建。")
        if not self.path.is_file():
            raise LedgerError(f"“{self.path}”不是文件，请指定台账 .xlsx 文件。")
        ensure_not_open_in_excel(self.path)
        from . import package

        package.check_writable(self.path, file_name=self.path.name)  # refuse up front what a save could not carry
        try:
            self._wb = load_workbook(self.path, keep_vba=_is_macro(self.path), rich_text=True)
        except Exception as exc:
            raise LedgerError(f"台账“{self.path.name}”无法打开（{type(exc).__name__}），文件可能已损坏；"
                              f"可从“{BACKUP_DIR}”文件夹恢复最近的备份。") from exc
        return self._load_records()

    def _read_sheet(self, spec: SheetSpec) -> tuple[list[Record], list[Finding]] | None:
        if spec.name not in self._wb.sheetnames:
            return None
        return read_records(self._wb[spec.name], spec, self.file)

    def _first_data_row(self, spec: SheetSpec) -> int:
        ws = self._wb[spec.name] if self._wb is not None and spec.name in self._wb.sheetnames else None
        return find_layout(ws, spec).first_data_row if ws is not None else 2

    def save(self, ledger: Ledger, *, highlights: list[Finding] | None = None, now: datetime,
             views: Iterable[Callable[[Workbook], None]] = (), skip_incomplete: bool = False) -> None:
        """Write every data sheet back and replace the file atomically after a backup.

        ``views`` render generated sheets (亮灯总览, bulletins) into the same workbook, so the
        ledger and its views are written in one atomic step. A sheet that lost a required
        column is never rewritten (its rows could not be written back faithfully): with
        ``skip_incomplete`` it is left as it is, otherwise the save is refused.
        """
        if self._wb is None:
            raise LedgerError("内部错误：保存前未读取台账")
        specs = self._writable_specs(skip_incomplete)
        ensure_not_open_in_excel(self.path)
        wb = self._wb
        written: dict[str, list[tuple[int, dict]]] = {}
        for spec in specs:
            ws = wb[spec.name] if spec.name in wb.sheetnames else wb.create_sheet(spec.name)
            first = find_layout(ws, spec).first_data_row
            contents = [_content(r) for r in getattr(ledger, spec.attr)]
            write_records(ws, spec, getattr(ledger, spec.attr), unchanged=self._unchanged(spec, first, contents))
            written[spec.name] = [(first + i, c) for i, c in enumerate(contents)]
        if highlights is not None:
            for spec in specs:
                clear_highlights(wb[spec.name])
                highlight(wb[spec.name], spec, [f for f in highlights if f.sheet == spec.name])
        for render in views:
            render(wb)
        keep, _ = int_setting(ledger, "备份保留份数", 10)  # a bad value is reported by validate
        atomic_save(wb, self.path, now=now, keep_backups=keep)
        self._as_read.update(written)  # the file now holds exactly these records


def atomic_save(wb: Workbook, path: Path, *, now: datetime, keep_backups: int = 10) -> None:
    """Save to a temp file beside ``path``, back up the old file, then rename into place."""
    tmp = _temp_path(path, os.getpid())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _write_replace(wb, path, tmp, now, keep_backups)
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


def _write_replace(wb: Workbook, path: Path, tmp: Path, now: datetime, keep_backups: int) -> None:
    """Write ``tmp`` and flush it to disk, back the old ledger up, then rename over it.

    What openpyxl drops on save (the ribbon's relationship, charts, pictures, shapes, threaded
    comments, sparklines, …) is carried over from the old file into ``tmp``; content that cannot
    be carried is refused before anything is written (:mod:`.package`).
    """
    from . import package

    _sweep_stale_temps(path)
    original = path.read_bytes() if path.exists() else None
    if original is not None:
        package.check_writable(original, file_name=path.name)
    drawn = package.drawn_by_program(wb)
    with open(tmp, "w+b") as fh:  # fsync needs a writable handle on Windows
        wb.save(fh)
        if original is not None:
            fh.seek(0)
            written = fh.read()
            carried = package.carry_over(original, written, keep_written=drawn)
            if carried is not written:
                fh.seek(0)
                fh.truncate()
                fh.write(carried)
        fh.flush()
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
