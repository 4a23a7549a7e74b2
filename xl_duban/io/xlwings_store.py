"""The ledger as the workbook open in Excel, through xlwings: the store behind the ribbon.

It offers what :class:`~xl_duban.io.ledger_store.LedgerStore` offers (``load``, ``save``,
``renumber``, ``path``, ``file``), so a ribbon button runs the very same service as the
command line. Differences that follow from the book being open:

* nothing is written to disk — the changes land in the open book, and the clerk saves it
  (Excel keeps its own undo-free autosave/backup as configured);
* each data sheet is read in one call and written back in one call per block of changed
  rows, never cell by cell (automation calls are slow; a year's ledger has 10⁴–10⁵ cells);
* generated sheets (亮灯总览, 收集报告, 通报, 督查看板) are rendered with the same openpyxl code
  as the file store into a scratch workbook and then transferred: values in one call, fills
  and bold fonts range by range, merged cells, column widths, and each chart whose data is
  one block of the sheet (督查看板's) made again as the book's own native chart (same kind,
  data, place, size, title and colours) — not the bulletin sheet's chart, whose series skip
  a column (its .docx has the chart either way).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterable

from openpyxl import Workbook
from openpyxl.utils.cell import range_boundaries

from ..domain.findings import Finding
from ..domain.models import Ledger, Record
from ..domain.schema import SHEET_ORDER, SheetSpec, VALIDATION
from ..domain.grid import Formula, Layout, extra_keys, grid_headers, grid_layout, records_from_grid
from .ledger_store import HIGHLIGHT, RecordStore, content_digest, row_values, table_width

# Text Excel would turn into something else when assigned as a value: formulas, numbers,
# dates and times, percentages, currency, fractions, booleans, error values.
_COERCED = re.compile(r"[=+\-@'#]|[\d\s.,:/%()+\-eE$¥￥年月日时分秒]+$|(?i:true|false)$")


def excel_value(value: Any) -> Any:
    """A value as it must be assigned through automation so Excel stores exactly it: text
    that Excel would parse (``=…``, ``001``, ``2024-03``) gets the apostrophe prefix, which
    Excel keeps as a formatting mark, not as part of the value."""
    if isinstance(value, Formula):
        return str(value)
    if isinstance(value, str) and value and _COERCED.match(value):
        return "'" + value
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


def _hex(rgb: str | None) -> str | None:
    """openpyxl's ARGB (``FFC6EFCE``) as the ``#c6efce`` xlwings takes."""
    if not rgb or not isinstance(rgb, str) or len(rgb) < 6:
        return None
    return "#" + rgb[-6:].lower()


class XlwingsStore(RecordStore):
    """Load and save the ledger held by an open xlwings ``Book`` (Excel, or any xlwings engine)."""

    def __init__(self, book) -> None:
        super().__init__()
        self.book = book
        self.path = Path(book.fullname)
        self._grids: dict[str, list[list[Any]]] = {}
        self._layouts: dict[str, Layout] = {}
        self._written: set[str] = set()  # data sheets whose grid is what this store last wrote
        self._marked: list[tuple[str, int | None, str]] | None = None  # cells now carrying the highlight

    @property
    def file(self) -> str:
        return self.book.name

    # -- reading ---------------------------------------------------------------------------------
    def _sheet(self, name: str):
        return next((s for s in self.book.sheets if s.name == name), None)

    @staticmethod
    def _values(sheet) -> tuple[list[list[Any]], set[tuple[int, int]]]:
        """Every value from A1 to the end of the used range, in one call, with the formula
        text in place of the value where a cell holds a formula (a second call), so a user
        column's formulas are written back as formulas. Engines that cannot read formulas
        (xlwings' remote engine) send values only."""
        used = sheet.used_range
        last_row = used.row + used.rows.count - 1
        last_col = used.column + used.columns.count - 1
        block = sheet.range((1, 1), (last_row, last_col))
        values = [[None if v == "" else v for v in row] for row in block.options(ndim=2).value]
        formulas: set[tuple[int, int]] = set()
        try:
            texts = block.formula
        except NotImplementedError:
            return values, formulas
        if not isinstance(texts, (list, tuple)):
            texts = ((texts,),)
        for r, row in enumerate(texts, 1):
            for c, text in enumerate(row if isinstance(row, (list, tuple)) else (row,), 1):
                if isinstance(text, str) and text.startswith("="):
                    values[r - 1][c - 1] = text
                    formulas.add((r, c))
        return values, formulas

    def load(self) -> tuple[Ledger, list[Finding]]:
        """All data sheets of the open book as records (see ``LedgerStore.load``)."""
        return self._load_records()

    def _read_sheet(self, spec: SheetSpec) -> tuple[list[Record], list[Finding]] | None:
        if spec.name in self._written:  # what this store wrote (an engine may still read the old values)
            rows, layout = self._grids[spec.name], self._layouts[spec.name]
            return records_from_grid(rows, spec, self.file, layout)
        sheet = self._sheet(spec.name)
        if sheet is None:
            return None
        rows, formulas = self._values(sheet)
        layout = grid_layout(rows, spec)
        self._grids[spec.name], self._layouts[spec.name] = rows, layout
        read = records_from_grid(rows, spec, self.file, layout, formulas)
        if spec is VALIDATION and self._marked is None:  # the cells the last findings highlighted
            self._marked = [(r.sheet, r.at_row, r.column) for r in read[0]]
        return read

    def _first_data_row(self, spec: SheetSpec) -> int:
        return self._layouts.get(spec.name, Layout()).first_data_row

    # -- writing ---------------------------------------------------------------------------------
    def save(self, ledger: Ledger, *, highlights: list[Finding] | None = None, now: datetime,
             views: Iterable[Callable[[Workbook], None]] = (), skip_incomplete: bool = False) -> None:
        """Write the changed rows of every data sheet and the generated sheets into the book.

        Rows before the first changed record are not touched (their cells keep whatever the
        clerk formatted); from there on every row is written in one block. Cells that earlier
        findings highlighted are cleared, and the new findings' cells are highlighted.
        """
        specs = self._writable_specs(skip_incomplete)
        listed = [c for _row, c in self._as_read.get(VALIDATION.name, [])]
        if highlights is not None or [content_digest(r) for r in ledger.validation] != listed:
            self._highlight(specs, None)  # the old marks go with the 校验结果 rows that listed them
        for spec in specs:
            self._write_sheet(spec, getattr(ledger, spec.attr))
        if highlights:
            self._highlight(specs, highlights)
        for render in views:
            scratch = Workbook()
            scratch.remove(scratch.active)
            render(scratch)
            for ws in scratch.worksheets:
                self._transfer(ws)

    def _add_sheet(self, name: str):
        """A new sheet placed where DESIGN §3 puts it among the sheets that exist."""
        order = list(SHEET_ORDER)
        names = [s.name for s in self.book.sheets]
        after = None
        if name in order:
            before = [n for n in order[:order.index(name)] if n in names]
            after = before[-1] if before else None
        if after is None and names and name not in order:
            after = names[-1]
        if after is None:
            return self.book.sheets.add(name, before=self.book.sheets[0]) if names else self.book.sheets.add(name)
        return self.book.sheets.add(name, after=self.book.sheets[after])

    def _write_sheet(self, spec: SheetSpec, records: list[Record]) -> None:
        sheet = self._sheet(spec.name) or self._add_sheet(spec.name)
        rows = self._grids.get(spec.name, [])
        layout = self._layouts.get(spec.name, Layout())
        headers = grid_headers(rows, layout)
        old_headers = list(headers)
        for column in spec.columns:
            if column.header not in headers:
                headers.append(column.header)
        first = layout.first_data_row
        contents = [content_digest(r) for r in records]
        unchanged = self._unchanged(spec, first, contents) if headers == old_headers else 0
        if headers != old_headers:
            header_cell = sheet.range((layout.header_row, layout.first_col), (layout.header_row, layout.first_col + len(headers) - 1))
            header_cell.value = [headers]
            header_cell.font.bold = True
        keys = extra_keys(headers)
        by_header = {c.header: c for c in spec.columns}
        # contract text columns are formatted as text before the values go in, so Excel keeps
        # 2024-03, 001 or =… exactly as text (as the file store's "@" cells do); other cells
        # get the apostrophe prefix where Excel would parse the text
        text = {i for i, (h, k) in enumerate(zip(headers, keys))
                if k == h and h in by_header and by_header[h].kind in ("text", "list")}
        values = [row_values(r, headers, keys, by_header) for r in records[unchanged:]]
        block = [[v if i in text else excel_value(v) for i, v in enumerate(row)] for row in values]
        if block:
            top, bottom = first + unchanged, first + len(records) - 1
            for i in sorted(text):
                sheet.range((top, layout.first_col + i), (bottom, layout.first_col + i)).number_format = "@"
            sheet.range((top, layout.first_col)).value = block
        old_last = max(first - 1, len(rows))
        new_last = first + len(records) - 1
        if old_last > new_last:
            sheet.range((new_last + 1, layout.first_col), (old_last, layout.first_col + len(headers) - 1)).clear_contents()
        self._fit_table(sheet, spec, headers, layout, new_last)
        self._as_read[spec.name] = [(first + i, c) for i, c in enumerate(contents)]
        self._remember(spec.name, rows, layout, headers, values, unchanged, len(records))

    @staticmethod
    def _fit_table(sheet, spec: SheetSpec, headers: list[str], layout: Layout, last_row: int) -> None:
        """The sheet's table (tblTasks, …) spans the rows now written, as the file store's
        does: rows appended below a table are outside it (no banding, no drop-downs, and
        structured references such as tblUnits[#全部] miss them)."""
        tables = list(sheet.tables)
        table = next((t for t in tables if t.name == spec.table), tables[0] if tables else None)
        if table is None:
            return
        ncols = table_width(headers)
        table.resize(sheet.range((layout.header_row, layout.first_col),
                                 (max(last_row, layout.header_row + 1), layout.first_col + ncols - 1)))

    def _remember(self, name: str, rows: list[list[Any]], layout: Layout, headers: list[str],
                  block: list[list[Any]], unchanged: int, count: int) -> None:
        """The sheet's values as they stand after a write, for a later load by this store:
        a command may load again after saving (the ribbon's 亮灯 lights a quarter and then a
        month), and an engine that works on a snapshot would still read the old cells."""
        first, lead = layout.first_data_row, [None] * (layout.first_col - 1)
        grid = [list(r) for r in rows[:first - 1]]
        while len(grid) < first - 1:
            grid.append([])
        grid[layout.header_row - 1] = lead + list(headers)
        grid += [list(r) for r in rows[first - 1:first - 1 + unchanged]]
        grid += [lead + list(values) for values in block]
        assert len(grid) == first - 1 + count
        self._grids[name], self._layouts[name] = grid, layout
        self._written.add(name)

    def _highlight(self, specs: list[SheetSpec], findings: list[Finding] | None) -> None:
        """Clear the highlight from the cells the previous findings pointed at (校验结果 as the
        book was read, or what this store marked since), then — when ``findings`` are given —
        fill the cells they point at. Reading every cell's colour is not possible through
        every engine and far too slow through COM, so the marks are known from 校验结果."""
        wanted = {spec.name for spec in specs}
        for sheet_name, row, column in self._marked or ():
            cell = self._cell(sheet_name, row, column) if sheet_name in wanted else None
            if cell is not None:
                cell.color = None
        self._marked = []
        for f in findings or ():
            cell = self._cell(f.sheet, f.row, f.column) if f.sheet in wanted else None
            if cell is not None:
                cell.color = _hex(HIGHLIGHT)
                self._marked.append((f.sheet, f.row, f.column))

    def _cell(self, sheet_name: str | None, row: int | None, column: str | None):
        layout = self._layouts.get(sheet_name or "")
        if layout is None or not row or row < layout.first_data_row or not column:
            return None
        headers = grid_headers(self._grids[sheet_name], layout)
        if column not in headers:
            return None
        return self._sheet(sheet_name).range((row, layout.first_col + headers.index(column)))

    def _transfer(self, ws) -> None:
        """Put a sheet rendered by openpyxl into the book: a fresh sheet of that name at the
        same place, its values in one call, then fills, bold fonts and column widths."""
        old = self._sheet(ws.title)
        if old is not None:
            old.clear()
            sheet = old
        else:
            sheet = self._add_sheet(ws.title)
        if ws.max_row == 0 or ws.max_column == 0:
            return
        values = [[excel_value(c.value) for c in row] for row in ws.iter_rows(min_row=1, max_row=ws.max_row,
                                                                              max_col=ws.max_column)]
        sheet.range((1, 1)).value = values
        for row in ws.iter_rows():
            for run in _runs(row, lambda c: _hex(c.fill.fgColor.rgb) if c.fill is not None and c.fill.fill_type == "solid" else None):
                color, first, last = run
                sheet.range((first.row, first.column), (last.row, last.column)).color = color
            for run in _runs(row, lambda c: True if c.font is not None and c.font.b else None):
                _flag, first, last = run
                sheet.range((first.row, first.column), (last.row, last.column)).font.bold = True
        for merged in ws.merged_cells.ranges:
            sheet.range(merged.coord).merge()
        for letter, dim in ws.column_dimensions.items():
            if dim.width:
                sheet.range(f"{letter}1").column_width = dim.width
        # clearing the cells leaves the last run's charts in Excel; the last first: the others keep their numbers
        for chart in reversed(list(sheet.charts)):
            chart.delete()
        for figure in ws._charts:
            _transfer_chart(sheet, figure)


CHART_TYPES = {("col", "stacked"): "column_stacked", ("bar", "stacked"): "bar_stacked",
               ("col", "clustered"): "column_clustered", ("bar", "clustered"): "bar_clustered"}
POINTS_PER_CM = 72 / 2.54


def _transfer_chart(sheet, figure) -> None:
    """An openpyxl bar chart made again as a native chart of the open book: its categories
    and series are one block of the sheet (the header row names the series), so the block
    is its source; a 督查看板 read in Excel is the same as one the file store wrote."""
    blocks = [_block(s.val.numRef.f) for s in figure.series] + [_block(_category_ref(s)) for s in figure.series]
    columns = {c for b in blocks for c in range(b[0], b[2] + 1)}
    if len(columns) != max(columns) - min(columns) + 1:
        return  # not one block (the bulletin sheet's chart skips 亮灯任务): its .docx carries the chart
    top = min(b[1] for b in blocks) - 1  # the series' names are in the header row above the values
    source = sheet.range((top, min(b[0] for b in blocks)), (max(b[3] for b in blocks), max(b[2] for b in blocks)))
    chart = sheet.charts.add(width=figure.width * POINTS_PER_CM, height=figure.height * POINTS_PER_CM,
                             chart_type=CHART_TYPES[(figure.type, figure.grouping)], anchor=sheet.range(str(figure.anchor)))
    chart.set_source_data(source, plot_by="columns")
    if figure.title is not None:
        chart.title = "".join(run.t for p in figure.title.tx.rich.p for run in (p.r or []))
    try:
        made = list(chart.series)  # the series Excel made from the source, one per column
    except NotImplementedError:  # xlwings Server/Lite cannot list them synchronously: Excel's own colours stay
        return
    for series, figure_series in zip(made, figure.series):
        fill = figure_series.graphicalProperties.solidFill if figure_series.graphicalProperties is not None else None
        rgb = getattr(fill.srgbClr, "val", fill.srgbClr) if fill is not None else None  # "5CB85C" or an RGB element
        if rgb:
            series.fill_color = f"#{rgb}"  # 绿灯 green, 黄灯 yellow, 红灯 red, not Excel's blue/orange/grey


def _category_ref(series) -> str:
    return (series.cat.strRef or series.cat.numRef).f


def _block(formula: str) -> tuple[int, int, int, int]:
    """(min_col, min_row, max_col, max_row) of a chart formula such as '督查看板'!$B$5:$D$8."""
    return range_boundaries(formula.rsplit("!", 1)[1].replace("$", ""))


def _runs(cells, key) -> list[tuple[Any, Any, Any]]:
    """Consecutive cells of a row with the same non-empty ``key``: (key, first, last) —
    one automation call per run instead of one per cell."""
    runs: list[tuple[Any, Any, Any]] = []
    for cell in cells:
        k = key(cell)
        if k is None:
            continue
        if runs and runs[-1][0] == k and runs[-1][2].column == cell.column - 1:
            runs[-1] = (k, runs[-1][1], cell)
        else:
            runs.append((k, cell, cell))
    return runs
