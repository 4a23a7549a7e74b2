"""A worksheet's rows as byte ranges of its XML: the ledger store's fast path.

A year's ledger at province scale holds ~500k cells, almost all in rows no command touches:
变更日志 only grows at the end, 反馈记录 gains a quarter's rows. Parsing every cell into
openpyxl objects and writing it back costs 10–20 s per command. The store instead hands
openpyxl a *stub* of each sheet — its header rows and the rows that will change — and splices
the untouched rows back into what openpyxl writes, byte for byte (:func:`splice`). Cell
styles stay valid because openpyxl keeps the workbook's cell-format table in its original
order and only appends to it; shared strings stay valid because the original string table is
put back (:mod:`.ledger_store`).

Adapters only; nothing here knows about records.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Callable, Iterable

from lxml import etree
from openpyxl.formula.translate import Translator
from openpyxl.utils import column_index_from_string, get_column_letter

from .guard import CELL_WITH_FORMULA, FORMULA

SHEET_DATA = re.compile(rb"<sheetData\s*(/?)>")
SHEET_DATA_END = b"</sheetData>"
ROW_START = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
ROOT = re.compile(rb"<worksheet\b[^>]*>")
NS_DECL = re.compile(rb'\sxmlns:([\w.-]+)="[^"]*"')
IGNORABLE = re.compile(rb'\smc:Ignorable="[^"]*"')
DIMENSION = re.compile(rb'<dimension\s+ref="([^"]*)"\s*/>')
CELL_REF = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")
ERROR_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*?\bt="e"[^>]*(?<!/)>(?:(?!</c>|<c\b).)*?<v>([^<]*)</v>', re.S)
MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
END = 1 << 21  # past Excel's last row (1,048,576)


class UnusualSheet(ValueError):
    """Sheet XML this module does not take apart (prefixed elements, rows without numbers);
    the store then gives openpyxl the whole sheet."""


class SheetRows:
    """One worksheet part split into what precedes its rows, the rows, and what follows."""

    def __init__(self, xml: bytes) -> None:
        self.xml = xml
        m = SHEET_DATA.search(xml)
        if m is None:
            raise UnusualSheet("no <sheetData>")
        if m.group(1):  # <sheetData/>: no rows
            self.head, self.tail = xml[:m.start()] + b"<sheetData>", SHEET_DATA_END + xml[m.end():]
            self.starts, self.numbers = [m.end()], []
            return
        end = xml.find(SHEET_DATA_END, m.end())
        if end < 0:
            raise UnusualSheet("unterminated <sheetData>")
        self.head, self.tail = xml[:m.end()], xml[end:]
        found = [(int(r.group(1)), r.start()) for r in ROW_START.finditer(xml, m.end(), end)]
        if len(found) != xml.count(b"<row", m.end(), end):
            raise UnusualSheet("a row without its number")
        if xml.count(b"<c ", m.end(), end) + xml.count(b"<c>", m.end(), end) != xml.count(b'<c r="', m.end(), end):
            raise UnusualSheet("a cell without its reference first")  # cells are found by r="…"
        self.numbers = [n for n, _ in found]
        if any(a >= b for a, b in zip(self.numbers, self.numbers[1:])):
            raise UnusualSheet("rows out of order")
        self.starts = [s for _, s in found] + [end]  # offsets in ``xml``; the last one ends the rows

    def span(self, first: int, stop: int) -> tuple[int, int]:
        """Offsets in the XML of the rows numbered ``first`` ≤ r < ``stop`` (equal when none)."""
        i, j = bisect_left(self.numbers, first), bisect_left(self.numbers, stop)
        return (self.starts[i], self.starts[j]) if i < j else (0, 0)

    def between(self, first: int, stop: int) -> bytes:
        """The rows numbered ``first`` ≤ r < ``stop``, as they stand in the XML."""
        start, end = self.span(first, stop)
        return self.xml[start:end]

    @property
    def last_row(self) -> int:
        return self.numbers[-1] if self.numbers else 0

    def stub(self, keep_head: int, tail_start: int) -> bytes:
        """The sheet with only rows ≤ ``keep_head`` and rows ≥ ``tail_start``."""
        return b"".join((self.head, self.between(1, keep_head + 1), self.between(tail_start, END), self.tail))


FORMULA_RANGE = re.compile(rb'<f\b[^>]*?\bt="(?:shared|array)"[^>]*?\bref="\$?[A-Z]{1,3}\$?(\d+)(?::\$?[A-Z]{1,3}\$?(\d+))?"'
                           rb'|<f\b[^>]*?\bref="\$?[A-Z]{1,3}\$?(\d+)(?::\$?[A-Z]{1,3}\$?(\d+))?"[^>]*?\bt="(?:shared|array)"')


def formula_groups(xml: bytes) -> list[tuple[int, int]]:
    """(first row, last row) of every shared or array formula of a worksheet part.

    A group's cells only make sense together: the dependents of a shared formula carry no
    formula of their own, only the anchor's number. A cut must not pass through one
    (see :func:`safe_tail`)."""
    if b't="shared"' not in xml and b't="array"' not in xml:
        return []
    out = []
    for m in FORMULA_RANGE.finditer(xml):
        first, last = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        out.append((int(first), int(last or first)))
    return out


def safe_tail(groups: list[tuple[int, int]], keep_head: int, tail_start: int) -> int:
    """``tail_start`` moved up so that no formula group is split between the rows openpyxl
    gets and the rows that are copied (openpyxl turns a group it holds into single formulas,
    which orphans copied members, and cannot read members whose anchor it does not hold)."""
    moved = tail_start
    for first, last in groups:
        inside = [keep_head < first < moved, keep_head < last < moved]
        if any(inside) and not all(inside) or (first <= keep_head and last > keep_head and moved > keep_head + 1):
            moved = min(moved, first)
    return moved if moved == tail_start else safe_tail(groups, keep_head, moved)


def splice(written: bytes, original: SheetRows, keep_head: int, tail_start: int,
           edit: Callable[[bytes], bytes] | None = None) -> list[bytes]:
    """``written`` (what openpyxl wrote from the stub) with the original's rows between
    ``keep_head`` and ``tail_start`` put back in place (through ``edit``, if given), its
    namespaces declared and its ``<dimension>`` widened to cover them; as pieces to write one
    after the other (a big sheet's rows are not joined into one more copy). ``[written]``
    when nothing is put back."""
    middle = original.between(keep_head + 1, tail_start)
    if not middle:
        return [written]
    if edit is not None:
        middle = edit(middle)
    out = SheetRows(written)
    head = _declare_namespaces(out.head, original.head)
    head = _widen_dimension(head, original.head, max(out.last_row, _last_number(middle)))
    return [head, out.between(1, keep_head + 1), middle, out.between(tail_start, END), out.tail]


def _last_number(rows: bytes) -> int:
    """The number of the last row in ``rows`` (whole rows of XML)."""
    start = rows.rfind(b"<row")
    m = ROW_START.match(rows, start) if start >= 0 else None
    return int(m.group(1)) if m else 0


def _declare_namespaces(head: bytes, original_head: bytes) -> bytes:
    """Copy namespace declarations (and ``mc:Ignorable``) of the original root the written
    root lacks: Excel's rows carry ``x14ac:dyDescent`` and would not parse without them."""
    root, orig = ROOT.search(head), ROOT.search(original_head)
    if root is None or orig is None:
        raise UnusualSheet("no <worksheet> root")
    tag = root.group(0)
    have = set(NS_DECL.findall(tag))
    extra = b"".join(m.group(0) for m in NS_DECL.finditer(orig.group(0)) if m.group(1) not in have)
    ignorable, have_ignorable = IGNORABLE.search(orig.group(0)), IGNORABLE.search(tag)
    if ignorable:
        tokens = _ignorable_tokens(ignorable.group(0))
        if have_ignorable:  # both list prefixes to ignore: the written root lists them all
            merged = _ignorable_tokens(have_ignorable.group(0))
            merged += [t for t in tokens if t not in merged]
            tag = tag[:have_ignorable.start()] + b' mc:Ignorable="' + b" ".join(merged) + b'"' + tag[have_ignorable.end():]
        else:
            extra += ignorable.group(0)
    if not extra and tag == root.group(0):
        return head
    new_tag = tag[:-2] + extra + b"/>" if tag.endswith(b"/>") else tag[:-1] + extra + b">"
    return head[:root.start()] + new_tag + head[root.end():]


def _ignorable_tokens(attribute: bytes) -> list[bytes]:
    return attribute.split(b'"')[1].split()


def _widen_dimension(head: bytes, original_head: bytes, last_row: int) -> bytes:
    m = DIMENSION.search(head)
    if m is None:
        return head
    cols = [_last_column(m.group(1))]
    orig = DIMENSION.search(original_head)
    if orig is not None:
        cols.append(_last_column(orig.group(1)))
    ref = f"A1:{get_column_letter(max(cols))}{max(last_row, 1)}".encode()
    return head[:m.start()] + b'<dimension ref="' + ref + b'"/>' + head[m.end():]


def _last_column(ref: bytes) -> int:
    cells = CELL_REF.findall(ref.decode("ascii", "replace"))
    return max((column_index_from_string(col) for col, _ in cells), default=1)


# -- formulas, for the reading side ---------------------------------------------------------------------
def formula_cells(xml: bytes) -> dict[tuple[int, int], str]:
    """(row, column) → formula text (``=…``) of every formula cell of a worksheet part.

    The fast reader (calamine) gives a formula cell's cached value; a user column that holds
    a formula must be written back as that formula. Shared formulas are expanded from their
    anchor cell the way Excel and openpyxl do."""
    if not FORMULA.search(xml):
        return {}
    out: dict[tuple[int, int], str] = {}
    anchors: dict[str, tuple[str, str]] = {}
    for m in CELL_WITH_FORMULA.finditer(xml):
        end = xml.find(b"</c>", m.end())
        cell = _parse_cell(xml[m.start():end + 4] if end >= 0 else b"")
        f = cell.find(f"{{{MAIN_NS.decode()}}}f") if cell is not None else None
        if f is None:
            continue
        ref = (m.group(1) + m.group(2)).decode()
        text = f.text or ""
        if f.get("t") == "shared" and f.get("si") is not None:
            if text:
                anchors[f.get("si")] = (ref, text)
            elif f.get("si") in anchors:
                origin, anchor_text = anchors[f.get("si")]
                text = Translator("=" + anchor_text, origin=origin).translate_formula(ref)[1:]
        if text:
            out[(int(m.group(2)), column_index_from_string(m.group(1).decode()))] = "=" + text
    return out


def error_cells(xml: bytes) -> dict[tuple[int, int], str]:
    """(row, column) → the error shown (#N/A, #REF!, …) of cells holding an error value and no
    formula. calamine reads them as empty; a rewritten row must keep them, as text."""
    if b't="e"' not in xml:
        return {}
    return {(int(m.group(2)), column_index_from_string(m.group(1).decode())): m.group(3).decode("utf-8", "replace")
            for m in ERROR_CELL.finditer(xml) if not FORMULA.search(m.group(0))}


def _parse_cell(xml: bytes):
    try:
        return etree.fromstring(b'<x xmlns="' + MAIN_NS + b'">' + xml + b"</x>")[0]
    except (etree.XMLSyntaxError, IndexError):
        return None


# -- cell formats in rows that are copied, not rewritten ---------------------------------------------
CELL_TAG = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*?(/?)>')
STYLE_ATTR = re.compile(rb'\bs="(\d+)"')
STYLED_CELL = re.compile(rb'(<c\b[^>]*?\bs=")(\d+)(")')


def cell_style(rows: SheetRows, row: int, col: int) -> int | None:
    """The format index of a cell as it stands in the XML (0 when it has none); None when
    the cell is not there."""
    ref = f"{get_column_letter(col)}{row}".encode()
    for m in CELL_TAG.finditer(rows.between(row, row + 1)):
        if m.group(1) + m.group(2) == ref:
            found = STYLE_ATTR.search(m.group(0))
            return int(found.group(1)) if found else 0
    return None


def restyle(rows: bytes, mapping: dict[int, int]) -> bytes:
    """``rows`` with every cell of format ``old`` given format ``mapping[old]``."""
    if not mapping:
        return rows

    def swap(m: re.Match) -> bytes:
        old = int(m.group(2))
        return m.group(1) + str(mapping[old]).encode() + m.group(3) if old in mapping else m.group(0)

    return STYLED_CELL.sub(swap, rows)


def set_styles(rows: bytes, styles: dict[tuple[int, int], int]) -> bytes:
    """``rows`` (whole ``<row>`` elements) with the cells at (row, column) given those formats;
    a cell or row that is not there is added, in its place, empty but formatted. One pass
    over ``rows``, however many cells change."""
    if not styles:
        return rows
    found = [(int(m.group(1)), m.start()) for m in ROW_START.finditer(rows)]
    numbers, starts = [n for n, _ in found], [s for _, s in found] + [len(rows)]
    by_row: dict[int, dict[int, int]] = {}
    for (row, col), style in styles.items():
        by_row.setdefault(row, {})[col] = style
    pieces, done = [], 0
    for row in sorted(by_row):
        i = bisect_left(numbers, row)
        if i < len(numbers) and numbers[i] == row:
            xml = rows[starts[i]:starts[i + 1]]
            for col, style in sorted(by_row[row].items()):
                xml = _set_style(xml, row, col, style)
            pieces += [rows[done:starts[i]], xml]
            done = starts[i + 1]
        else:  # no such row: add one before the next
            cells = b"".join(_empty_cell(row, col, style) for col, style in sorted(by_row[row].items()))
            pieces += [rows[done:starts[i]], b'<row r="' + str(row).encode() + b'">' + cells + b"</row>"]
            done = starts[i]
    pieces.append(rows[done:])
    return b"".join(pieces)


def _empty_cell(row: int, col: int, style: int) -> bytes:
    return b'<c r="' + f"{get_column_letter(col)}{row}".encode() + b'" s="' + str(style).encode() + b'"/>'


def _set_style(xml: bytes, row: int, col: int, style: int) -> bytes:
    """One ``<row>`` element's XML with the cell at ``col`` given format ``style``."""
    new_cell = _empty_cell(row, col, style)
    open_end = xml.index(b">")
    if xml[open_end - 1:open_end] == b"/":  # <row …/>: give it a body
        return xml[:open_end - 1] + b">" + new_cell + b"</row>" + xml[open_end + 1:]
    close = xml.index(b"</row>", open_end)
    for m in CELL_TAG.finditer(xml, open_end, close):
        cell_col = column_index_from_string(m.group(1).decode())
        if cell_col == col:
            tag = m.group(0)
            attr = STYLE_ATTR.search(tag)
            tag = (tag[:attr.start()] + b's="' + str(style).encode() + b'"' + tag[attr.end():] if attr
                   else b'<c s="' + str(style).encode() + b'"' + tag[2:])
            return xml[:m.start()] + tag + xml[m.end():]
        if cell_col > col:
            return xml[:m.start()] + new_cell + xml[m.start():]
    return xml[:close] + new_cell + xml[close:]


def style_pattern(indexes: Iterable[int]) -> re.Pattern | None:
    """A pattern matching a cell whose format is one of ``indexes`` (None when there are none)."""
    alternatives = b"|".join(str(i).encode() for i in sorted(set(indexes)))
    return re.compile(rb'<c\b[^>]*?\bs="(?:' + alternatives + rb')"') if alternatives else None
