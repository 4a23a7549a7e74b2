"""Read source documents (.docx, .xlsx/.xlsm/.xls, .csv) into raw tables and prose.

Adapters only: they turn bytes into :class:`RawTable` / :class:`RawProse` with exact source
locations and leave every decision to ``domain.importing``.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from ..domain.cells import cell_text
from ..domain.importing import RawProse, RawRow, RawTable


class UnreadableFile(Exception):
    """The file cannot be read at all; the message is Chinese and names the cause.

    The message states the cause (``找不到文件“…”``, ``文件已损坏…``) and reads on its own as
    well as after a caller's ``文件无法读取：``, so it never starts with those words itself.
    """


def read_source(path: Path) -> tuple[list[RawTable], RawProse | None]:
    """Tables (and, for Word files, prose paragraphs) of one source file."""
    path = Path(path)
    if not path.exists():
        raise UnreadableFile(f"找不到文件“{path}”，请检查路径和文件名")
    if path.is_dir():
        raise UnreadableFile(f"“{path}”是文件夹，请选择其中的文件")
    suffix = path.suffix.lower()
    try:
        if suffix == ".docx":
            return read_docx(path)
        if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
            return read_workbook(path), None
        if suffix == ".csv":
            return [read_csv(path)], None
    except UnreadableFile:
        raise
    except PermissionError as exc:
        raise UnreadableFile("没有读取权限，或文件正被其他程序独占打开，请关闭后重试") from exc
    except Exception as exc:  # any parser failure becomes one clear message
        raise UnreadableFile(f"文件已损坏、已加密或不是有效的{suffix}文件（{type(exc).__name__}）") from exc
    raise UnreadableFile(f"不支持的文件类型“{suffix}”，请提供 .docx、.xlsx、.xls 或 .csv 文件")


def _docx_cell_text(cell) -> str:
    return "\n".join(p.text for p in cell.paragraphs)


def _docx_row(tr, table) -> tuple[tuple[str, ...], frozenset[int]]:
    """One Word table row: each ``<w:tc>`` once, and the positions continuing a vertical merge.

    A cell spanning several grid columns is kept once (as before). A cell that continues a
    vertical merge (``w:vMerge`` without ``restart``, i.e. ``tc.vMerge == "continue"``) holds no
    text of its own; python-docx's ``row.cells`` hands back the merge's top cell instead, so
    its ``_tc.vMerge`` reads ``restart`` and the continuation cannot be seen there. Reading
    ``tr.tc_lst`` directly, such a position gets the top cell's text and is reported in
    :attr:`RawRow.merged`, the same as a merged range in a workbook: the mapping decides
    which fields a row may share with the row above (牵头单位 yes, 序号 no).
    """
    from docx.table import _Cell

    cells: list[str] = []
    merged: set[int] = set()
    for tc in tr.tc_lst:
        top = tc
        try:
            while top.vMerge == "continue":
                top = top._tc_above
        except Exception:  # a malformed merge (nothing above): treat the cell as empty
            cells.append("")
            merged.add(len(cells) - 1)
            continue
        if top is not tc:
            merged.add(len(cells))
        cells.append(_docx_cell_text(_Cell(top, table)))
    return tuple(cells), frozenset(merged)


def read_docx(path: Path) -> tuple[list[RawTable], RawProse]:
    """Word tables in document order, each with the paragraphs just above it as context."""
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = Document(str(path))
    tables: list[RawTable] = []
    paragraphs: list[tuple[int, str]] = []
    recent: list[str] = []
    for block in doc.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = Paragraph(block, doc).text.strip()
            if text:
                paragraphs.append((len(paragraphs) + 1, text))
                recent = (recent + [text])[-3:]
        elif tag == "tbl":
            table = Table(block, doc)
            rows = []
            for r_index, row in enumerate(table.rows, 1):
                cells, merged = _docx_row(row._tr, table)
                rows.append(RawRow(cells, r_index, merged))
            context = " ".join(recent + [path.stem])
            tables.append(RawTable(path.name, f"表格{len(tables) + 1}", rows, context))
            recent = []
    return tables, RawProse(path.name, paragraphs)


def read_workbook(path: Path) -> list[RawTable]:
    """Every sheet of a workbook via python-calamine, with real Excel row numbers.

    Merged cells: calamine gives a merged range's value only in its top-left cell. Each
    row below it in the range's first column gets that value too and the position is
    reported in :attr:`RawRow.merged` (the same as a vertical merge in Word), so a 牵头单位 or
    责任领导 merged over several tasks reaches every one of them, while the mapping reads a
    merged-down 序号 as empty — otherwise a 序号 merged over a 民生实事 project's sub-item
    rows would turn each sub-item into a duplicate of the project. Columns to the right of
    a range's first column stay empty (the value is kept once, as for a Word cell spanning
    grid columns), so a section row ``一、…`` merged across keeps one text.

    Number and date cells: calamine gives values only, so for .xlsx/.xlsm the number formats
    of the cells holding numbers or dates are read once more with openpyxl (read-only) and
    reported in :attr:`RawRow.number_formats` ("" where unknown, as for .xls): a 完成时限 is
    read as the cell displays it (``yyyy"年"m"月"`` → the month's end, 2025.1 shown ``0.00``).
    """
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    formats = None  # sheet → (row, column) → number format, read once when a sheet has numbers
    tables = []
    for name in wb.sheet_names:
        sheet = wb.get_sheet_by_name(name)
        values = sheet.to_python(skip_empty_area=False)  # absolute grid: values[0][0] is A1
        texts = [[cell_text(v) for v in row] for row in values]
        merged = _fill_merged(texts, _merged_ranges(sheet))
        numbers = {(r, c): "" for r, row in enumerate(values, 1) for c, v in enumerate(row)
                   if isinstance(v, (int, float, date)) and not isinstance(v, bool)}
        if numbers and path.suffix.lower() in (".xlsx", ".xlsm"):
            formats = formats if formats is not None else _number_formats(path)
            numbers.update((key, fmt) for key, fmt in formats.get(name, {}).items() if key in numbers)
        by_row: dict[int, dict[int, str]] = {}
        for (r, c), fmt in numbers.items():
            by_row.setdefault(r, {})[c] = fmt
        rows = [RawRow(tuple(row), r, frozenset(merged.get(r, ())), by_row.get(r, {})) for r, row in enumerate(texts, 1)]
        title = " ".join(c for r in rows[:3] for c in r.cells if c)
        tables.append(RawTable(path.name, name, rows, f"{title} {path.stem}"))
    return tables


# Chinese Excel's built-in date formats, which a file may name by id alone (openpyxl then says General)
_ZH_DATE_FORMATS = {27: 'yyyy"年"m"月"', 28: 'm"月"d"日"', 29: 'm"月"d"日"', 30: "m-d-yy", 31: 'yyyy"年"m"月"d"日"',
                    36: 'yyyy"年"m"月"', 50: 'yyyy"年"m"月"', 51: 'm"月"d"日"', 52: 'yyyy"年"m"月"', 53: 'm"月"d"日"',
                    54: 'm"月"d"日"', 57: 'yyyy"年"m"月"', 58: 'm"月"d"日"'}


def _number_formats(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """The number format of every number or date cell with one (1-based row, 0-based column),
    sheet by sheet, read with openpyxl in read-only mode: calamine gives values only. A file
    openpyxl cannot read gives none (its cells' formats stay unknown)."""
    import openpyxl

    out: dict[str, dict[tuple[int, int], str]] = {}
    try:
        wb = openpyxl.load_workbook(path, read_only=True)
        try:
            styles = wb._cell_styles
            for ws in wb.worksheets:
                ws.reset_dimensions()
                cells = out.setdefault(ws.title, {})
                for row in ws.iter_rows():
                    for cell in row:
                        if cell.data_type not in ("n", "d") or cell.value is None:
                            continue
                        fmt = cell.number_format or ""
                        if fmt == "General" and cell._style_id:
                            fmt = _ZH_DATE_FORMATS.get(styles[cell._style_id].numFmtId, fmt)
                        cells[(cell.row, cell.column - 1)] = fmt
        finally:
            wb.close()
    except Exception:  # formats refine the reading; without them a cell reads as of unknown format
        return {}
    return out


def _merged_ranges(sheet) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """``((first_row, first_col), (last_row, last_col))``, 0-based and inclusive, as calamine 0.9 gives them.

    ``merged_cell_ranges`` is None for formats whose merges calamine does not read.
    """
    try:
        return list(sheet.merged_cell_ranges or [])
    except Exception:  # merges are a convenience: a sheet whose merges cannot be read still imports
        return []


def _fill_merged(texts: list[list[str]], ranges) -> dict[int, set[int]]:
    """Copy each range's top-left text down its first column; 1-based row → filled columns."""
    filled: dict[int, set[int]] = {}
    for (r0, c0), (r1, _c1) in ranges:
        if r0 >= len(texts) or c0 >= len(texts[r0]) or not texts[r0][c0]:
            continue
        for r in range(r0 + 1, min(r1, len(texts) - 1) + 1):
            row = texts[r]
            if c0 < len(row) and not row[c0]:
                row[c0] = texts[r0][c0]
                filled.setdefault(r + 1, set()).add(c0)
    return filled


def read_csv(path: Path) -> RawTable:
    """A CSV list; UTF-8 (with or without BOM) or GB18030, as Chinese Excel saves it."""
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableFile("CSV 文件编码无法识别，请另存为“CSV UTF-8”格式")
    rows = [RawRow(tuple(r), i) for i, r in enumerate(csv.reader(io.StringIO(text)), 1)]
    return RawTable(path.name, path.stem, rows, path.stem)
