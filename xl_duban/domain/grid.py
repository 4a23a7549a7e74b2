"""A data sheet given as values (row 1 first) read into records — whatever read it.

The ledger file (calamine), a live Excel book (xlwings) and a worksheet function's range all
hand over a grid of cell values; the same code finds the header row (users put titles above
the table and columns before it), maps contract columns by header text and keeps the rest
as extras. Pure: no file, no Excel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from sys import intern
from typing import Any, Collection, Sequence

from .cells import cell_text
from .findings import Finding, error
from .models import Record
from .schema import SheetSpec
from .units import split_list


class Formula(str):
    """A formula read from a user column: written back as a formula, never as text."""


def from_cell(kind: str, value: Any) -> Any:
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


@dataclass(frozen=True)
class Layout:
    """Where a data sheet's header row is: users insert title rows and columns in front."""

    header_row: int = 1
    first_col: int = 1

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1


def grid_layout(rows: Sequence[Sequence[Any]], spec: SheetSpec) -> Layout:
    """The header row of a sheet given as values (row 1 first): the first of its first 10
    rows that holds a required header; users put titles above the table and columns before it."""
    required = {c.header for c in spec.columns if c.required}
    for r, row in enumerate(rows[:10], 1):
        texts = [cell_text(v) for v in row]
        if required & set(texts):
            return Layout(r, next(i for i, t in enumerate(texts, 1) if t))
    return Layout()


def grid_headers(rows: Sequence[Sequence[Any]], layout: Layout) -> list[str]:
    """The header texts from the layout's first column on, trailing blanks dropped."""
    row = rows[layout.header_row - 1] if len(rows) >= layout.header_row else ()
    headers = [cell_text(v) for v in row[layout.first_col - 1:]]
    while headers and not headers[-1]:
        headers.pop()
    return headers


def extra_keys(headers: list[str]) -> list[str]:
    """Keys for user columns: the header, or ``#N`` (position) when blank or repeated."""
    return [h if h and headers.count(h) == 1 else f"#{i}" for i, h in enumerate(headers, 1)]


def records_from_grid(rows: Sequence[Sequence[Any]], spec: SheetSpec, file: str, layout: Layout,
                      formulas: Collection[tuple[int, int]] = ()) -> tuple[list[Record], list[Finding]]:
    """Records of one data sheet given as values (row 1 first; any reader: calamine for the
    file, a live Excel book, a worksheet function's range): contract columns by header, the rest kept as extras. ``formulas`` are
    the (row, column) cells holding a formula, kept as formulas in user columns."""
    headers = grid_headers(rows, layout)
    keys = extra_keys(headers)
    findings = []
    by_header = {c.header: c for c in spec.columns}
    for column in spec.columns:
        if column.required and column.header not in headers:
            findings.append(error("missing-column", f"【{spec.name}】缺少必需的列【{column.header}】。", file=file,
                                  sheet=spec.name, row=layout.header_row, column=column.header,
                                  hint=f"在表头行恢复列名“{column.header}”（列名需一字不差）。"))
    records = []
    first, last = layout.first_col - 1, layout.first_col - 1 + len(headers)
    # per column: (contract field and kind) or (None, extras key); a year's ledger has 400k cells
    plan = [(by_header[h].field, by_header[h].kind) if h in by_header and k == h else (None, k)
            for h, k in zip(headers, keys)]
    for row_index in range(layout.first_data_row, len(rows) + 1):
        values = list(rows[row_index - 1][first:last])
        values += [None] * (len(headers) - len(values))
        for v in values:
            if v is not None and v != "" and (type(v) is not str or v.strip()):
                break
        else:
            continue  # a blank row
        data: dict[str, Any] = {}
        extras: dict[str, Any] = {}
        for col, (field, kind), value in zip(range(layout.first_col, last + 1), plan, values):
            if field is not None:
                if type(value) is str and kind == "text":
                    value = value.strip()  # short texts repeat (units, periods, actions): one copy of each
                    data[field] = intern(value) if len(value) <= 40 else value
                else:
                    data[field] = from_cell(kind, value)
            elif value is not None and value != "":
                extras[kind] = Formula(value) if (row_index, col) in formulas else value
        records.append(spec.record(row=row_index, extras=extras, **data))
    return records, findings
