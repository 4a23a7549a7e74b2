"""Returned unit workbooks: find them in inbox folders and e-mails, and read them as text.

Adapters only. Files are read from bytes with python-calamine (the fast reader; it reads
.xlsx/.xlsm/.xls/.ods alike and never evaluates formulas — a formula cell gives its cached
value), so nothing a unit sends is ever opened by an office suite or by Excel automation.
Every decision is left to :mod:`xl_duban.domain.collecting`.
"""

from __future__ import annotations

import email
import io
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email import policy
from email.utils import parseaddr
from pathlib import Path

from ..domain.cells import cell_text, column_letter
from ..domain.collecting import META_SHEET, Checked, ReturnedFile, ReturnedRow, examine

from .guard import inspect_package
from .readers import UnreadableFile

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
NO_ATTACHMENT = "邮件中没有 Excel 附件"
CHINA = timezone(timedelta(hours=8))  # receipt times are Beijing time, wherever the server runs
HEADER_SCAN_ROWS = 30


@dataclass(frozen=True)
class Incoming:
    """One candidate return: its bytes, where it came from and when it was received."""

    name: str  # shown in findings; "邮件.eml › 附件.xlsx" for an attachment
    file_name: str  # the workbook's own file name (archive and quarantine use it)
    data: bytes
    received_at: datetime  # naive, Beijing time
    sender: str = ""


def beijing(moment: datetime) -> datetime:
    """A naive Beijing-time datetime (the ledger's convention) from an aware or naive one."""
    return moment.astimezone(CHINA).replace(tzinfo=None) if moment.tzinfo else moment


def gather(paths: list[Path]) -> tuple[list[Incoming], list[tuple[str, str]]]:
    """Every workbook under the given files and folders, and every workbook attached to an
    .eml among them. Returns the candidates and (name, reason) of what could not be read."""
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if _wanted(p.name) and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            problems.append((str(path), f"找不到文件或文件夹“{path}”"))
    out: list[Incoming] = []
    for path in files:
        try:
            with open(path, "rb") as fh:  # the time of the very bytes read
                data, modified = fh.read(), os.fstat(fh.fileno()).st_mtime
            mtime = beijing(datetime.fromtimestamp(modified, CHINA))
        except OSError as exc:
            problems.append((path.name, f"文件无法读取（{exc.strerror or type(exc).__name__}）"))
            continue
        if path.suffix.lower() == ".eml":
            attachments = list(_attachments(path.name, data, mtime))
            if not attachments:
                problems.append((path.name, NO_ATTACHMENT))
            out.extend(attachments)
        elif path.suffix.lower() in WORKBOOK_SUFFIXES:
            out.append(Incoming(path.name, path.name, data, mtime))
        else:
            problems.append((path.name, f"不支持的文件类型“{path.suffix}”，请提供 .xlsx、.xls 或邮件 .eml"))
    return out, problems


def _wanted(name: str) -> bool:
    """A workbook or .eml file, not Office's lock file (``~$…``) nor a hidden one."""
    return not name.startswith(("~$", ".")) and os.path.splitext(name)[1].lower() in (*WORKBOOK_SUFFIXES, ".eml")


def _attachments(eml_name: str, data: bytes, fallback: datetime):
    msg = email.message_from_bytes(data, policy=policy.default)
    sender = parseaddr(str(msg.get("From", "")))[1]
    try:
        received = beijing(msg["Date"].datetime) if msg["Date"] else fallback
    except (TypeError, ValueError, AttributeError):
        received = fallback
    for part in msg.iter_attachments():
        name = part.get_filename() or ""
        if Path(name).suffix.lower() in WORKBOOK_SUFFIXES:
            yield Incoming(f"{eml_name} › {name}", name, part.get_payload(decode=True) or b"", received, sender)


def read_returned(incoming: Incoming, file_hash: str, sheet_names: tuple[str, ...]) -> ReturnedFile:
    """The text of a returned workbook: ``_duban`` identity and the table found by its header.

    ``sheet_names`` are the names the visible sheet was issued under; a renamed sheet is still
    found as the first visible sheet whose header row holds 任务编号. The container is
    inspected first (:func:`~xl_duban.io.guard.inspect_package`: zip bombs, XML entity
    declarations, encryption), and the formula cells of the table's sheet are found in its
    XML. Raises UnreadableFile.
    """
    from python_calamine import CalamineWorkbook, PasswordError

    inspection = inspect_package(incoming.data)
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(incoming.data))
        sheets = {name: wb.get_sheet_by_name(name) for name in wb.sheet_names}
        grids = {name: sheet.to_python(skip_empty_area=False) for name, sheet in sheets.items()}
    except PasswordError as exc:
        raise UnreadableFile("文件设置了打开密码或已加密，无法读取") from exc
    except Exception as exc:
        raise UnreadableFile(f"文件已损坏或不是有效的 Excel 文件（{type(exc).__name__}）") from exc
    meta, meta_rows = _meta(_texts(grids.get(META_SHEET, [])))
    identity = {"name": incoming.name, "file_hash": file_hash, "received_at": incoming.received_at,
                "sender": incoming.sender, "meta": meta, "meta_rows": meta_rows}
    # the locked texts stand in _duban and again in the table: one string object for both, so
    # the file's text crosses from the reading process once (pickle sends a repeated object once)
    same = {text: text for row in meta_rows for text in row}
    ordered = [n for n in sheet_names if n in grids] + [n for n in grids if n not in sheet_names and n != META_SHEET]
    for name in ordered:
        texts = _texts(grids[name])
        header = next((r for r, row in enumerate(texts[:HEADER_SCAN_ROWS]) if "任务编号" in row), None)
        if header is None:
            continue
        headers = texts[header]
        columns: dict[str, int] = {}
        for c, h in enumerate(headers):
            if h:
                columns.setdefault(h, c)
        rows = [ReturnedRow(r + 1, {h: same.get(row[c], row[c]) if c < len(row) else "" for h, c in columns.items()})
                for r, row in enumerate(texts[header + 1:], header + 1) if any(row)]
        label = lambda c: headers[c] if c < len(headers) and headers[c] else column_letter(c + 1)  # noqa: E731  0-based
        formulas = [(r, label(c - 1)) for r, c in inspection.formula_cells(name) if r > header + 1]
        merged = [(r0 + 1, r1 + 1, tuple(label(c) for c in range(c0, c1 + 1)))
                  for (r0, c0), (r1, c1) in _merged_ranges(sheets[name]) if r1 > header]
        return ReturnedFile(**identity, sheet=name, header_row=header + 1, rows=rows, headers=[h for h in headers if h],
                            formula_cells=formulas, merged_cells=merged)
    return ReturnedFile(**identity, sheet=next(iter(ordered), ""))


def read_and_examine(incoming: Incoming, file_hash: str, sheet_names: tuple[str, ...], key: bytes) -> Checked:
    """:func:`read_returned`, then the part of the verdict the file alone decides
    (:func:`~xl_duban.domain.collecting.examine`). Collect runs it in the reading processes:
    the checks are about as much work as the reading, and there they run on every core
    instead of one after another in the command's process. The signing key travels with the
    request over the reader's private pipe; the reader runs as the same user, who can read
    the key anyway. Raises UnreadableFile."""
    return examine(read_returned(incoming, file_hash, sheet_names), key)


def _merged_ranges(sheet) -> list:
    """Merged ranges ((row, col), (row, col)), 0-based; formats without them (.xls in some
    versions, .ods) give none."""
    try:
        return list(sheet.merged_cell_ranges or [])
    except Exception:  # noqa: BLE001 - an optional detail; the values were read already
        return []


def _meta(texts: list[list[str]]) -> tuple[dict[str, str], list[tuple[str, ...]]]:
    """Identity fields (column A → B) until the 任务编号 header, then one row per task:
    task id, issued row number, locked texts."""
    meta: dict[str, str] = {}
    rows: list[tuple[str, ...]] = []
    in_rows = False
    for cells in texts:
        if not any(cells):
            continue
        if in_rows:
            rows.append((cells[0], *cells[2:]))
        elif cells[0] == "任务编号":
            in_rows = True
        else:
            meta[cells[0]] = cells[1] if len(cells) > 1 else ""
    return meta, rows


# Unicode category Cc (C0 and C1 controls) except tab and line feed: dropped from cell text.
_CONTROLS = dict.fromkeys(c for c in [*range(0x20), *range(0x7F, 0xA0)] if c not in (0x09, 0x0A))
_UNUSUAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # the controls above, and \r


def _texts(grid: list[list]) -> list[list[str]]:
    """Cell texts as typed: line breaks unified, stray control characters dropped.

    Nearly every cell of a return is a plain string, so the texts are made with ``strip``
    alone and one search over the whole sheet decides whether any of them needs the slow
    clean-up (a carriage return, a control character pasted from another program)."""
    texts = [[v.strip() if v.__class__ is str else cell_text(v) for v in row] for row in grid]
    if _UNUSUAL.search("\t".join(["\t".join(row) for row in texts])):
        texts = [[_clean(t) for t in row] for row in texts]
    return texts


def _clean(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_CONTROLS)
