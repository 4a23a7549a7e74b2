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
from email.header import decode_header, make_header
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from ..domain.cells import cell_text, column_letter
from ..domain.collecting import META_SHEET, Checked, ReturnedFile, ReturnedRow, examine
from ..domain.findings import error
from ..domain.issuing import SIGNERS
from ..domain.mail import normalize_address, valid_address

from .failures import log_failure
from .guard import inspect_package
from .readers import UnreadableFile

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
NO_ATTACHMENT = "邮件中没有 Excel 附件"
CHINA = timezone(timedelta(hours=8))  # receipt times are Beijing time, wherever the server runs
HEADER_SCAN_ROWS = 30


@dataclass(frozen=True)
class Incoming:
    """One candidate return: its bytes, where it came from and when it was received."""

    name: str  # shown in findings; "邮件.eml › 附件.xlsx" for an attachment (one line, bounded)
    file_name: str  # the workbook's own file name (archive and quarantine use it)
    data: bytes
    received_at: datetime  # naive, Beijing time: when the office received it (never the sender's word)
    sender: str = ""  # the From address, normalised (empty for a file dropped in the inbox folder)
    sender_problem: str = ""  # why the From header names no single address (the return is then held)
    claimed_at: datetime | None = None  # the sender's Date header, naive Beijing time


@dataclass(frozen=True)
class Limits:
    """How much one message and one run may bring (设置 每封邮件附件上限, 每次收集文件上限)."""

    attachments: int = 20
    files: int = 500


MAX_FILE_BYTES = 64 * 2**20  # a message with a few unit forms is well under this; a bigger file is not read
MAX_DEPTH = 8  # messages forwarded inside messages, multiparts inside multiparts
MAX_PARTS = 500  # MIME part delimiters of one message parsed at most: an office's returns bring a handful
NAME_CHARS = 120  # file names as kept and shown: Chinese names of real forms are far shorter


def beijing(moment: datetime) -> datetime | None:
    """A naive Beijing-time datetime (the ledger's convention) from an aware or naive one;
    None for a moment that cannot be shown in Beijing time (year 9999 and +14:00)."""
    try:
        return moment.astimezone(CHINA).replace(tzinfo=None) if moment.tzinfo else moment
    except (OverflowError, ValueError):
        return None


def gather(paths: list[Path], limits: Limits = Limits()) -> tuple[list[Incoming], list[tuple[str, str]]]:
    """Every workbook under the given files and folders, and every workbook attached to an
    .eml among them. Returns the candidates and (name, reason) of what could not be read.

    Whatever one file or message holds costs that file alone: any failure while opening or
    taking it apart becomes its (name, reason). The walk never leaves the given folders (a
    link leading out of them is reported, not followed) and takes at most ``limits.files`` files, the
    oldest first; the rest are reported and left for the next run."""
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    for path in paths:
        if path.is_dir():
            found, links = _walk(path)
            files.extend(found)
            problems.extend((clean_name(p.name), "是指向收件文件夹以外的链接，未读取") for p in links)
        elif path.is_file():
            files.append(path)
        else:
            problems.append((clean_name(str(path)), f"找不到文件或文件夹“{clean_name(str(path))}”"))
    if len(files) > limits.files:
        first = set(sorted(files, key=_arrival)[:limits.files])
        problems.append((f"另有{len(files) - limits.files}个文件", f"超过每次收集 {limits.files} 个文件的上限，留待下次收集"))
        files = [f for f in files if f in first]
    out: list[Incoming] = []
    for path in files:
        name = clean_name(path.name)
        try:
            out.extend(_take(path, name, problems, limits))
        except Exception as exc:  # noqa: BLE001 - one file's failure costs that file only
            log_failure(f"collect {name}")
            problems.append((name, f"文件无法处理（{type(exc).__name__}），已跳过，其他文件不受影响"))
    return out, problems


def _walk(folder: Path) -> tuple[list[Path], list[Path]]:
    """(files wanted, links leading out of ``folder``), in path order. A link to a folder is
    never entered; a link to a file is read only when the file is inside ``folder`` — a
    sender who can drop files in the inbox must not make collect copy /etc/passwd."""
    files, outside = [], []
    root_dir = folder.resolve()
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(root, d)))
        for n in sorted(names):
            p = Path(root, n)
            if not _wanted(n):
                continue
            if p.is_symlink():
                target = p.resolve()
                if not target.is_relative_to(root_dir) or not target.is_file():
                    outside.append(p)
                    continue
                files.append(p)
            elif p.is_file():
                files.append(p)
    return files, outside


def _arrival(path: Path) -> tuple[float, str]:
    try:
        return path.lstat().st_mtime, str(path)
    except OSError:
        return 0.0, str(path)


def _take(path: Path, name: str, problems: list[tuple[str, str]], limits: Limits) -> list[Incoming]:
    """The candidates one file brings (itself, or a message's attachments); its problems go to ``problems``."""
    suffix = path.suffix.lower()
    if suffix not in (*WORKBOOK_SUFFIXES, ".eml"):
        problems.append((name, f"不支持的文件类型“{clean_name(path.suffix)}”，请提供 .xlsx、.xls 或邮件 .eml"))
        return []
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        with open(fd, "rb") as fh:  # the time of the very bytes read
            size, modified = os.fstat(fh.fileno()).st_size, os.fstat(fh.fileno()).st_mtime
            if size > MAX_FILE_BYTES:
                problems.append((name, f"文件大小 {size / 2**20:.0f} MB，超过 {MAX_FILE_BYTES // 2**20} MB 的上限，未读取"))
                return []
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        problems.append((name, f"文件无法读取（{exc.strerror or type(exc).__name__}）"))
        return []
    arrived = beijing(datetime.fromtimestamp(modified, CHINA))
    if suffix != ".eml":
        return [Incoming(name, name, data, arrived)]
    attachments = _attachments(name, data, arrived, problems, limits)
    if not attachments and not any(n == name for n, _ in problems):
        problems.append((name, NO_ATTACHMENT))
    return attachments


def _wanted(name: str) -> bool:
    """A workbook or .eml file, not Office's lock file (``~$…``) nor a hidden one."""
    return not name.startswith(("~$", ".")) and os.path.splitext(name)[1].lower() in (*WORKBOOK_SUFFIXES, ".eml")


_LINE_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def clean_name(text: str, limit: int = NAME_CHARS) -> str:
    """One line of at most ``limit`` characters: control characters, line breaks and bidi
    overrides become a space, so a name can never write a line of its own into a note,
    report or log, nor show itself reversed."""
    text = _LINE_BREAKS.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    stem, suffix = os.path.splitext(text)
    suffix = suffix if len(suffix) <= 8 else ""
    return text[:limit - 1 - len(suffix)] + "…" + suffix  # the type of a file stays in its name


def _attachment_name(part) -> str:
    """An attachment's own file name, without any folder a sender put in front of it."""
    try:
        raw = part.get_filename() or ""
    except Exception:  # noqa: BLE001 - a header that cannot be decoded names nothing
        raw = ""
    return clean_name(re.split(r"[\\/]", str(raw))[-1])


def _parts(msg, problems: list[tuple[str, str]], name: str):
    """The leaf parts of a message, messages forwarded as attachments (message/rfc822)
    opened too, never deeper than :data:`MAX_DEPTH`."""
    stack = [(msg, 0)]
    deep = False
    while stack:
        part, depth = stack.pop()
        payload = part.get_payload() if part.is_multipart() or part.get_content_maintype() == "message" else None
        if isinstance(payload, list):
            if depth >= MAX_DEPTH:
                deep = True
                continue
            stack.extend((p, depth + 1) for p in reversed(payload))
        else:
            yield part
    if deep:
        problems.append((name, f"邮件嵌套超过 {MAX_DEPTH} 层，更深处的附件未读取"))


_DELIMITER = re.compile(rb"^--", re.M)


def parse_message(data: bytes):
    """(the message, parsed no further than its first :data:`MAX_PARTS` part delimiters; how
    many lines starting with "--" it holds in all — more than MAX_PARTS: the rest went unparsed).

    Parsing is what a flood costs: the standard parser takes over a millisecond a part under
    the default policy, and a stranger's message of 50,000 tiny attachments held collect for
    over a minute before the attachment cap was even reached. Every MIME boundary line starts
    with "--" and base64 never does, so cutting the bytes before the (MAX_PARTS + 1)-th such
    line keeps every part of an honest message and the first few hundred of a flood."""
    total = data.count(b"\n--") + data.startswith(b"--")
    if total > MAX_PARTS:
        cut = next(m.start() for n, m in enumerate(_DELIMITER.finditer(data)) if n == MAX_PARTS)
        data = data[:cut]
    return email.message_from_bytes(data, policy=policy.default), total


def _attachments(eml_name: str, data: bytes, arrived: datetime, problems: list[tuple[str, str]],
                 limits: Limits) -> list[Incoming]:
    """The workbooks attached to one message, each received when the office's server took the
    message (:func:`receipt_time`), with the sender's address and claimed date beside it."""
    msg, delimiters = parse_message(data)
    if delimiters > MAX_PARTS:
        problems.append((eml_name, f"邮件的组成部分（正文、附件）超过 {MAX_PARTS} 个，只读取了前 {MAX_PARTS} 个，其余未读取"))
    raw = {k.lower(): v for k, v in reversed(list(msg.raw_items()))}  # the first of each header
    sender, sender_problem = sender_address([v for k, v in msg.raw_items() if k.lower() == "from"])
    received = receipt_time(msg, arrived)
    claimed = _header_time(raw.get("date", ""))
    out: list[Incoming] = []
    extra = 0
    for part in _parts(msg, problems, eml_name):
        name = _attachment_name(part)
        if Path(name).suffix.lower() not in WORKBOOK_SUFFIXES:
            continue
        if len(out) >= limits.attachments:
            extra += 1
            continue
        body = part.get_payload(decode=True) or b""
        out.append(Incoming(clean_name(f"{eml_name} › {name}"), name, body, received, sender, sender_problem, claimed))
    if extra:
        more = "至少" if delimiters > MAX_PARTS else ""  # the unparsed rest may hold more
        problems.append((eml_name, f"邮件{more}附有 {limits.attachments + extra} 个表格，超过每封 {limits.attachments} 个的上限，"
                                   f"其余{more} {extra} 个未读取"))
    return out


def receipt_time(msg, arrived: datetime) -> datetime:
    """When the office received a message: the date of its top ``Received:`` header (the one
    the office's own server — or the IMAP fetch, from INTERNALDATE — put there), else when the
    file arrived in the inbox. Never the sender's ``Date:``."""
    for key, value in msg.raw_items():
        if key.lower() == "received":
            when = _header_time(str(value).rpartition(";")[2])
            return when if when is not None else arrived
    return arrived


def _header_time(text: str) -> datetime | None:
    """A header's RFC 5322 date as naive Beijing time, or None (absent, malformed, unshowable)."""
    try:
        moment = parsedate_to_datetime(str(text).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return beijing(moment) if moment is not None else None


def sender_address(values: list[str]) -> tuple[str, str]:
    """(the normalised address of a message's one ``From:``, "") or ("", why there is none):
    encoded words decoded, display names and comments dropped, case and a trailing dot ignored."""
    if not values:
        return "", "邮件没有发件人（From）"
    if len(values) > 1:
        return "", "邮件有多个发件人（From）头"
    try:
        text = str(make_header(decode_header(str(values[0]))))
    except Exception:  # noqa: BLE001 - an undecodable header is read as it stands
        text = str(values[0])
    addresses = [a for _n, a in getaddresses([text]) if a]
    if not addresses:
        return "", f"发件人（From）“{clean_name(text, 60)}”不是邮箱地址"
    if len(addresses) > 1:
        return "", f"发件人（From）“{clean_name(text, 60)}”含有多个地址"
    address = normalize_address(addresses[0])
    if not valid_address(address):
        return "", f"发件人（From）“{clean_name(text, 60)}”不是有效的邮箱地址"
    return address, ""


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
        grids = {META_SHEET: sheets[META_SHEET].to_python(skip_empty_area=False)} if META_SHEET in sheets else {}
        limit = HEADER_SCAN_ROWS + max(len(grids.get(META_SHEET, [])), 1) + ROW_SLACK
        for name, sheet in sheets.items():
            if name != META_SHEET and sheet.height > limit:
                raise TooManyRows(name, sheet.height, limit)
        grids.update((name, sheet.to_python(skip_empty_area=False)) for name, sheet in sheets.items() if name != META_SHEET)
    except (UnreadableFile, TooManyRows):
        raise
    except PasswordError as exc:
        raise UnreadableFile("文件设置了打开密码或已加密，无法读取") from exc
    except Exception as exc:
        raise UnreadableFile(f"文件已损坏或不是有效的 Excel 文件（{type(exc).__name__}）") from exc
    meta, meta_rows = _meta(_texts(grids.get(META_SHEET, [])))
    identity = {"name": incoming.name, "file_hash": file_hash, "received_at": incoming.received_at,
                "sender": incoming.sender, "sender_problem": incoming.sender_problem, "claimed_at": incoming.claimed_at,
                "meta": meta, "meta_rows": meta_rows}
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
                            formula_cells=formulas, merged_cells=merged, signers=_signers(texts[:header]))
    return ReturnedFile(**identity, sheet=next(iter(ordered), ""))


def _signers(rows: list[list[str]]) -> dict[str, str]:
    """填报人 / 联系电话 / 审核人 above the table: the cell right of each label (``填报人：``)."""
    found = {}
    for row in rows:
        for c, text in enumerate(row[:-1]):
            label = text.strip().rstrip("：:")
            if label in SIGNERS and label not in found:
                found[label] = row[c + 1].strip()
    return found


ROW_SLACK = 200  # rows a unit may add below the table (notes, a signature) before a return is refused as padded


class TooManyRows(Exception):
    """A sheet far longer than the table issued: refused before its cells are read."""

    def __init__(self, sheet: str, rows: int, limit: int) -> None:
        super().__init__(sheet, rows, limit)
        self.sheet, self.rows, self.limit = sheet, rows, limit


def read_and_examine(incoming: Incoming, file_hash: str, sheet_names: tuple[str, ...], key: bytes) -> Checked:
    """:func:`read_returned`, then the part of the verdict the file alone decides
    (:func:`~xl_duban.domain.collecting.examine`). Collect runs it in the reading processes:
    the checks are about as much work as the reading, and there they run on every core
    instead of one after another in the command's process. The signing key travels with the
    request over the reader's private pipe; the reader runs as the same user, who can read
    the key anyway.

    Whatever goes wrong with this one file — a reader's own failure included — is its
    verdict (UnreadableFile), never an exception that would stop the run; a sheet padded far
    beyond the rows issued is refused with one finding instead of one per row."""
    try:
        return examine(read_returned(incoming, file_hash, sheet_names), key)
    except UnreadableFile:
        raise
    except TooManyRows as exc:
        return padded(incoming, file_hash, exc)
    except RecursionError as exc:
        raise UnreadableFile("文件结构嵌套过深，无法读取") from exc
    except Exception as exc:  # noqa: BLE001 - a reader's failure on this file is this file's verdict
        raise UnreadableFile(f"文件无法读取（{type(exc).__name__}），可能已损坏或是特制的文件") from exc


def padded(incoming: Incoming, file_hash: str, exc: TooManyRows) -> Checked:
    """The verdict on a return padded with rows: one finding, whatever the number of rows."""
    file = ReturnedFile(name=incoming.name, file_hash=file_hash, received_at=incoming.received_at, sender=incoming.sender,
                        sheet=exc.sheet)
    return Checked(file=file, findings=[error(
        "too-many-rows", f"工作表“{clean_name(exc.sheet, 40)}”有 {exc.rows} 行，远多于下发的表格（上限 {exc.limit} 行），未读取其内容。",
        file=incoming.name, sheet=clean_name(exc.sheet, 40),
        hint="请单位在督查室下发的原文件上填写，删除多余的行后重新报送。")])


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
