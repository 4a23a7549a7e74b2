"""Read source documents (.docx, .xlsx/.xlsm/.xls, .csv) into raw tables and prose.

Adapters only: they turn bytes into :class:`RawTable` / :class:`RawProse` with exact source
locations and leave every decision to ``domain.importing``.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

from ..domain.importing import RawProse, RawRow, RawTable


class UnreadableFile(Exception):
    """The file cannot be read at all; the message is Chinese and names the cause."""


def read_source(path: Path) -> tuple[list[RawTable], RawProse | None]:
    """Tables (and, for Word files, prose paragraphs) of one source file."""
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
    except Exception as exc:  # any parser failure becomes one clear message
        raise UnreadableFile(f"文件无法读取（{type(exc).__name__}），可能已损坏或不是有效的{suffix}文件") from exc
    raise UnreadableFile(f"不支持的文件类型“{suffix}”，请提供 .docx、.xlsx、.xls 或 .csv 文件")


def _cell_text(cell) -> str:
    return "\n".join(p.text for p in cell.paragraphs)


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
                seen, cells = set(), []
                for cell in row.cells:  # horizontally merged cells repeat: keep each once
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    cells.append(_cell_text(cell))
                rows.append(RawRow(tuple(cells), r_index))
            context = " ".join(recent + [path.stem])
            tables.append(RawTable(path.name, f"表格{len(tables) + 1}", rows, context))
            recent = []
    return tables, RawProse(path.name, paragraphs)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def read_workbook(path: Path) -> list[RawTable]:
    """Every sheet of a workbook via python-calamine, with real Excel row numbers."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    tables = []
    for name in wb.sheet_names:
        sheet = wb.get_sheet_by_name(name)
        values = sheet.to_python(skip_empty_area=False)
        rows = [RawRow(tuple(_text(v) for v in row), r) for r, row in enumerate(values, 1)]
        title = " ".join(c for r in rows[:3] for c in r.cells if c)
        tables.append(RawTable(path.name, name, rows, f"{title} {path.stem}"))
    return tables


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
