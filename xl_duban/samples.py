"""Sample documents rebuilt from the bundled seed texts (2022 lists of the real process).

The seed files are plain-text extractions of Word attachments: each table cell starts on a
new line with a tab, a cell's further paragraphs follow after a blank line, and a table
ends at two blank lines. This module turns them back into real .docx files — with the
irregularities real files have (padded names, wrapped names, repeated header rows at page
breaks, sub-item rows with an empty 序号) — for the demo and the tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .domain.importing import split_subitems  # the importer's own rule, so samples round-trip

LISTS_2022 = "seed2022_lists.txt"
DIVISION_2022 = "seed2022_division.txt"


@dataclass
class SeedTable:
    attachment: str  # 附件2
    title: str
    header: list[str]
    rows: list[list[list[str]]] = field(default_factory=list)  # row → cell → paragraphs


def bundled_text(name: str) -> str:
    return resources.files("xl_duban.data").joinpath(name).read_text(encoding="utf-8")


def parse_flattened_tables(text: str) -> list[SeedTable]:
    """Tables of a flattened Word document, each with its 附件 label and title line."""
    lines = text.splitlines()
    tables: list[SeedTable] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("\t"):
            attachment, title = _title_above(lines, i)
            cells, i = _read_cells(lines, i)
            ncols = _header_width(cells)
            header = ["".join(p) for p in cells[:ncols]]
            body = cells[ncols:]
            rows = [body[k:k + ncols] for k in range(0, len(body) - ncols + 1, ncols)]
            tables.append(SeedTable(attachment, title, header, rows))
        else:
            i += 1
    return tables


def _title_above(lines: list[str], i: int) -> tuple[str, str]:
    above = [ln.strip() for ln in lines[max(0, i - 4):i] if ln.strip()]
    attachment = next((a for a in above if re.fullmatch(r"附件\d+", a)), "")
    title = next((a for a in reversed(above) if "表" in a or "清单" in a), above[-1] if above else "")
    return attachment, title


def _read_cells(lines: list[str], i: int) -> tuple[list[list[str]], int]:
    cells: list[list[str]] = []
    blanks = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("\t"):
            cells.append([line[1:]] if line[1:] else [])
            blanks = 0
        elif not line.strip():
            blanks += 1
            if blanks >= 2:
                break
        else:
            if blanks == 0 and cells and cells[-1]:
                cells[-1].append(line)  # a line break inside a paragraph
            elif cells:
                cells[-1].append(line)
            blanks = 0
        i += 1
    return cells, i


def _header_width(cells: list[list[str]]) -> int:
    """Header cells run until the first cell that is a number or empty (the first row)."""
    for k, cell in enumerate(cells):
        text = "".join(cell).strip()
        if not text or text.isdigit():
            return k
    return len(cells)


def parse_prose(text: str) -> list[str]:
    """Non-empty paragraphs of a flattened prose document (附件1 单位分工清单)."""
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def write_tables_docx(
    tables: list[SeedTable],
    path: Path,
    *,
    repeat_header_every: int | None = None,
    subitem_rows: bool = False,
) -> Path:
    """Write tables as a Word document shaped like the office's attachments.

    ``repeat_header_every`` inserts the header row again every N data rows, as tables
    pasted across pages often have. ``subitem_rows`` writes 民生实事 sub-items as separate
    rows whose 序号 cell is empty (the 2024 form) instead of numbered paragraphs.
    """
    from docx import Document  # local import: only the demo and tests write documents

    doc = Document()
    for t_index, table in enumerate(tables):
        if t_index:
            doc.add_page_break()
        if table.attachment:
            doc.add_paragraph(table.attachment)
        doc.add_paragraph(table.title)
        rows = _expand_subitem_rows(table) if subitem_rows else table.rows
        grid = doc.add_table(rows=0, cols=len(table.header))
        grid.style = "Table Grid"
        _add_row(grid, [[h] for h in table.header])
        for n, row in enumerate(rows, 1):
            _add_row(grid, row)
            if repeat_header_every and n % repeat_header_every == 0 and n < len(rows):
                _add_row(grid, [[h] for h in table.header])
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def _expand_subitem_rows(table: SeedTable) -> list[list[list[str]]]:
    try:
        task_col = table.header.index("工作任务")
    except ValueError:
        return table.rows
    out = []
    for row in table.rows:
        intro, items = split_subitems(row[task_col])
        if not items:
            out.append(row)
            continue
        out.append([*row[:task_col], intro, *row[task_col + 1:]])
        for item in items:
            sub = [[] for _ in row]
            sub[task_col] = item.split("\n")  # a continued item keeps its paragraphs
            out.append(sub)
    return out


def _add_row(grid, cells: list[list[str]]) -> None:
    row = grid.add_row()
    for cell, paragraphs in zip(row.cells, cells):
        paragraphs = paragraphs or [""]
        cell.paragraphs[0].text = paragraphs[0]
        for p in paragraphs[1:]:
            cell.add_paragraph(p)


def write_prose_docx(paragraphs: list[str], path: Path) -> Path:
    """Write the 单位分工清单 prose as one Word paragraph per line."""
    from docx import Document

    doc = Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def seed_2022_tables() -> dict[str, SeedTable]:
    """The bundled 2022 tables keyed by attachment: 附件2 (98 key tasks), 附件3 (10 民生实事)."""
    return {t.attachment: t for t in parse_flattened_tables(bundled_text(LISTS_2022)) if t.attachment}


def fill_return(issued: Path, out: Path, answers: dict[str, dict[str, object]]) -> Path:
    """A unit filling its workbook: ``answers[task id][header] = value`` typed into the visible
    sheet (found by its 任务编号 header row, as a unit sees it) and saved as ``out``.

    Used by the demo to simulate units and by tests to make returns. Any header may be
    written — an answer for a grey column is how a unit that unprotected the sheet would
    edit a locked cell — so the same code makes honest and tampered returns.
    """
    import openpyxl

    wb = openpyxl.load_workbook(issued)
    ws = wb.worksheets[0]
    header_row = next(r for r in range(1, 31) if any(c.value == "任务编号" for c in ws[r]))
    columns = {c.value: c.column for c in ws[header_row] if c.value}
    for r in range(header_row + 1, ws.max_row + 1):
        row_answers = answers.get(str(ws.cell(r, columns["任务编号"]).value or ""), {})
        for header, value in row_answers.items():
            ws.cell(r, columns[header]).value = value
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
