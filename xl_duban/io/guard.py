"""Returned files from dozens of machines, a few of them hostile: look before parsing, and
parse behind a wall.

Two layers, both adapters:

* :func:`inspect_package` looks at a file's container without parsing any cell: a zip whose
  parts would inflate past :data:`MAX_UNPACKED` or by more than :data:`MAX_RATIO` (a zip
  bomb), an XML part declaring a DOCTYPE (entity expansion, external entities — Office never
  writes one), an encrypted Office file. Asked for a sheet, it then finds the cells holding a
  formula, so collect can refuse them by location rather than trust a cached value nobody
  can see.
* :class:`ReadWorker` parses in a separate process with a memory ceiling and a time limit per
  file, so a workbook crafted to exhaust memory or CPU (a sheet declaring a million rows of
  cells, a parser bug) costs one quarantined file, never the collect run.
"""

from __future__ import annotations

import io
import os
import pickle
import posixpath
import queue
import re
import selectors
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from collections import deque
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator
from xml.parsers import expat

from ..domain.cells import column_index
from .read_worker import HEADER, read_exactly
from .readers import UnreadableFile

MAX_UNPACKED = 64 * 2**20  # a unit's form is well under 1 MiB unpacked
MAX_MEMBERS = 2000
MAX_RATIO = 200  # deflate reaches 10–30× on sheet XML; thousands× only on crafted data
RATIO_FLOOR = 2**20  # small parts may compress arbitrarily well
READ_SECONDS = 30.0
READ_MEMORY = 2 * 2**30  # address-space ceiling of the reading process (where the OS supports it)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.I)
FORMULA = re.compile(rb"<f[\s>/]")
# a cell (not an empty <c …/>) with an r= whose own content holds an <f>: the search stops at its </c>
# or at the next cell. Used on the ledger's own sheets (written by Excel or openpyxl, always with
# r=); a returned sheet's formulas are found by :func:`_xlsx_formulas`, which needs no r=
CELL_WITH_FORMULA = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*(?<!/)>(?:(?!</c>|<c\b).){0,4000}?<f[\s>/]', re.S)
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


class Package:
    """The parts of a zip package held in memory, read through :mod:`zipfile` without trusting
    their headers."""

    def __init__(self, data: bytes) -> None:
        self.archive = zipfile.ZipFile(io.BytesIO(data))
        self.members = self.archive.infolist()
        self.by_name = {m.filename: m for m in self.members}  # the last of duplicate names, as zipfile

    def head(self, member: zipfile.ZipInfo, limit: int) -> bytes:
        """At most ``limit`` bytes from the start of a part, inflating no more than that."""
        with self.archive.open(member) as fh:
            return fh.read(limit)

    def read(self, member: zipfile.ZipInfo) -> bytes:
        """A part's bytes, never more than its declared size (a lying header cannot inflate
        us), checked against its CRC."""
        body = self.head(member, member.file_size + 1)
        if len(body) > member.file_size:
            raise ValueError("member larger than declared")
        if len(body) < member.file_size:
            raise EOFError(f"member {member.filename!r} ends before its declared size")
        if zlib.crc32(body) != member.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {member.filename!r}")
        return body


@dataclass
class Inspection:
    """What the container says before any cell is parsed; the formula cells of a sheet are
    looked up when asked for (:meth:`formula_cells`)."""

    package: Package | None = None  # an .xlsx/.xlsm or .ods package; None for other formats
    _sheets: dict[str, str] | None = field(default=None, repr=False)  # sheet name → part
    ole: bytes | None = field(default=None, repr=False)  # the whole file, for an .xls (OLE) workbook

    def formula_cells(self, sheet: str) -> list[tuple[int, int]]:
        """``(row, col)``, 1-based, of the cells of ``sheet`` holding a formula, in every
        format a return may come in: .xlsx cells with an ``<f>`` (whether or not they name
        their position with ``r=``), .ods cells with ``table:formula``, .xls FORMULA records.
        Formulas are found, never evaluated; their cached values are never used.

        Only that sheet's part is inflated (collect asks for the one holding the table), in
        full and never past its declared size. Raises :class:`UnreadableFile`."""
        if self.ole is not None:
            return _xls_formulas(self.ole).get(sheet, [])[:MAX_FORMULA_CELLS]
        if self.package is None:
            return []
        if ODS_CONTENT in self.package.by_name:
            with _unzipping():
                body = self.package.read(self.package.by_name[ODS_CONTENT])
            return _ods_formulas(body, sheet) if b"formula" in body else []
        if self._sheets is None:
            self._sheets = _sheet_parts(self.package)
        member = self.package.by_name.get(self._sheets.get(sheet, ""))
        if member is None:
            return []
        with _unzipping():
            body = self.package.read(member)
        if not FORMULA.search(body):
            return []
        return _xlsx_formulas(body)


MAX_FORMULA_CELLS = 1000  # a file with more is refused just the same; the findings are bounded anyway
ODS_CONTENT = "content.xml"


def _parse_xml(xml: bytes, start) -> None:
    """Run ``start(local name, attributes)`` over every element of ``xml`` (expat, namespaces
    joined to names with ``}``); a document that does not parse makes the file damaged."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    try:
        parser.Parse(xml, True)
    except expat.ExpatError as exc:
        raise UnreadableFile("文件已损坏（工作表内容无法解析）") from exc


def _xlsx_formulas(body: bytes) -> list[tuple[int, int]]:
    """The formula cells of a sheet part. A cell's position is its ``r=`` when present, else
    the cell after the previous one (rows likewise), as Excel reads a sheet written without them."""
    found: list[tuple[int, int]] = []
    at = {"row": 0, "col": 0}

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition("}")[2]
        if local == "row":
            at["row"] = int(attrs["r"]) if attrs.get("r", "").isdigit() else at["row"] + 1
            at["col"] = 0
        elif local == "c":
            ref = re.fullmatch(r"([A-Z]{1,3})([0-9]{1,7})", attrs.get("r", ""))
            if ref:
                at["col"], at["row"] = column_index(ref.group(1)), int(ref.group(2))
            else:
                at["col"] += 1
        elif local == "f" and len(found) < MAX_FORMULA_CELLS and (not found or found[-1] != (at["row"], at["col"])):
            found.append((at["row"], at["col"]))

    _parse_xml(body, start)
    return found


TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0}"


def _ods_formulas(body: bytes, sheet: str) -> list[tuple[int, int]]:
    """The formula cells (``table:formula``) of one table of an OpenDocument spreadsheet,
    counting repeated rows and columns as LibreOffice writes them."""
    found: list[tuple[int, int]] = []
    at = {"table": "", "row": 0, "col": 0, "repeat": 0}  # row: 0-based, of the row being read

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition("}")[2]
        if local == "table":
            at["table"], at["row"], at["repeat"] = attrs.get(TABLE_NS + "name", ""), 0, 0
        elif at["table"] != sheet:
            return
        elif local == "table-row":
            at["row"] += at["repeat"]
            at["repeat"] = _repeat(attrs.get(TABLE_NS + "number-rows-repeated"))
            at["col"] = 0
        elif local in ("table-cell", "covered-table-cell"):
            repeat = _repeat(attrs.get(TABLE_NS + "number-columns-repeated"))
            if TABLE_NS + "formula" in attrs and len(found) < MAX_FORMULA_CELLS:
                found.append((at["row"] + 1, at["col"] + 1))
            at["col"] += repeat

    _parse_xml(body, start)
    return found


def _repeat(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 1


# BIFF record types of an .xls workbook stream
BIFF_BOF, BIFF_BOUNDSHEET = 0x0809, 0x0085
BIFF_FORMULAS = {0x0006, 0x0206, 0x0406}  # FORMULA records of BIFF5–8, BIFF3, BIFF4


def _xls_formulas(data: bytes) -> dict[str, list[tuple[int, int]]]:
    """Sheet name → ``(row, col)``, 1-based, of every FORMULA record of an .xls workbook.

    The workbook stream is a list of records (type, length, data); each sheet's records follow
    a BOF at the offset its BOUNDSHEET record names, and a FORMULA record begins with its
    cell's 0-based row and column."""
    import struct

    import olefile

    try:
        with olefile.OleFileIO(data) as ole:
            stream = next((s for s in ("Workbook", "Book") if ole.exists(s)), None)
            if stream is None:
                raise UnreadableFile("文件已损坏或不是有效的 .xls 文件（没有工作簿数据）")
            book = ole.openstream(stream).read(MAX_UNPACKED + 1)
    except UnreadableFile:
        raise
    except Exception as exc:  # noqa: BLE001 - any damage to the container makes the file unreadable
        raise UnreadableFile(f"文件已损坏或不是有效的 .xls 文件（{type(exc).__name__}）") from exc
    sheets_at: dict[int, str] = {}
    found: dict[str, list[tuple[int, int]]] = {}
    current = ""
    pos = 0
    while pos + 4 <= len(book):
        kind, size = struct.unpack_from("<HH", book, pos)
        body = book[pos + 4:pos + 4 + size]
        if kind == BIFF_BOUNDSHEET and len(body) >= 8:
            sheets_at[struct.unpack_from("<I", body)[0]] = _biff_name(body[6:])
        elif kind == BIFF_BOF:
            current = sheets_at.get(pos, current if pos else "")
        elif kind in BIFF_FORMULAS and len(body) >= 4:
            row, col = struct.unpack_from("<HH", body)
            found.setdefault(current, []).append((row + 1, col + 1))
        pos += 4 + size
    return found


def _biff_name(body: bytes) -> str:
    """A BOUNDSHEET's sheet name: a length, then (BIFF8) a flag for 16-bit characters."""
    count = body[0] if body else 0
    if len(body) >= 2 and body[1] in (0, 1) and len(body) >= 2 + count * (body[1] + 1):
        raw = body[2:2 + count * (body[1] + 1)]
        return raw.decode("utf-16-le" if body[1] else "latin-1", "replace")
    return body[1:1 + count].decode("gbk", "replace")


def inspect_package(data: bytes) -> Inspection:
    """Refuse containers that are dangerous to parse, before any parser sees them.

    Raises :class:`UnreadableFile` with the reason in Chinese. Files that are neither a zip
    nor an OLE container are left to the parser, which refuses them itself.
    """
    if data.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
            raise UnreadableFile("文件设置了打开密码或已加密，无法读取")
        return Inspection(ole=data)
    if not data.startswith(b"PK"):
        return Inspection()
    try:
        package = Package(data)
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError, RuntimeError) as exc:
        raise UnreadableFile(f"文件已损坏或不是有效的 Excel 文件（{type(exc).__name__}）") from exc
    members = package.members
    if len(members) > MAX_MEMBERS:
        raise UnreadableFile(f"文件内部包含 {len(members)} 个部件，超出正常表格的范围，疑似恶意文件")
    total = sum(m.file_size for m in members)
    if total > MAX_UNPACKED:
        raise UnreadableFile(f"文件解压后达 {total / 2**20:.0f} MB，超过 {MAX_UNPACKED // 2**20} MB 的上限，疑似压缩炸弹")
    for m in members:
        if m.file_size > RATIO_FLOOR and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise UnreadableFile(f"文件部件“{m.filename}”压缩比异常（{m.file_size // max(m.compress_size, 1)} 倍），疑似压缩炸弹")
    with _unzipping():
        for m in members:
            if _declares_doctype(package, m):  # every part, whatever its name: a parser may be pointed at any
                raise UnreadableFile(f"文件部件“{m.filename}”含有 XML 实体声明（DOCTYPE），正常的 Excel 文件不会包含，已拒收")
    return Inspection(package)


@contextmanager
def _unzipping() -> Iterator[None]:
    """A member that cannot be inflated (bad data, a lying header) makes the file damaged."""
    try:
        yield
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, zlib.error,
            NotImplementedError, RuntimeError) as exc:  # Deflate64, a bad version field, an encrypted member
        raise UnreadableFile(f"文件已损坏，无法解压（{type(exc).__name__}）") from exc


# the prolog of an XML document: byte-order mark, declaration, processing instructions, comments
PROLOG = re.compile(rb"(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.S)
HEAD = 256  # an XML declaration and the root element's start fit in far less


def _declares_doctype(package: Package, member: zipfile.ZipInfo) -> bool:
    """Whether the part declares a DOCTYPE (the door to entity expansion and external entities).

    XML allows a DOCTYPE only in the prolog, before the root element, so only that much of
    the part is inflated: its first :data:`HEAD` bytes, or all of it when comments or
    processing instructions run on past that. Anything after the root element's start is
    content, which no parser takes for a declaration."""
    head = package.head(member, HEAD)
    verdict = _prolog_verdict(head, complete=len(head) < HEAD)
    if verdict is None:
        verdict = _prolog_verdict(package.read(member), complete=True)
    return verdict


def _prolog_verdict(text: bytes, *, complete: bool) -> bool | None:
    """True for a DOCTYPE after the prolog, False for anything else; None when ``text`` (not
    the whole part) ends before the prolog does."""
    rest = text[PROLOG.match(text).end():][:16]
    if DOCTYPE.match(rest):
        return True
    if not complete and (len(rest) < 16 or rest.startswith((b"<!--", b"<?"))):
        return None
    return False


def _sheet_parts(package: Package) -> dict[str, str]:
    """Sheet name → its part in the package (empty when the workbook part is missing)."""
    workbook, rels = package.by_name.get("xl/workbook.xml"), package.by_name.get("xl/_rels/workbook.xml.rels")
    if workbook is None or rels is None:
        return {}
    with _unzipping():
        workbook_xml, rels_xml = package.read(workbook), package.read(rels)
    try:
        targets = {r.get("Id"): r.get("Target", "") for r in _elements(rels_xml, "Relationship")}
        sheets = [(s.get("name", ""), s.get(NS_REL)) for s in _elements(workbook_xml, "sheet")]
    except expat.ExpatError as exc:
        raise UnreadableFile("文件已损坏（工作簿结构无法解析）") from exc
    out: dict[str, str] = {}
    for name, rid in sheets:
        target = targets.get(rid, "")
        out[name] = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
    return out


def _elements(xml: bytes, local: str) -> list[dict[str, str]]:
    """The attributes of every element named ``local`` (in any namespace), read with expat
    directly: building an ElementTree costs several times as much, twice per returned file.
    A namespaced attribute is keyed ``uri}name``, as :data:`NS_REL`."""
    found: list[dict[str, str]] = []
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = lambda name, attrs: found.append(attrs) if name.rpartition("}")[2] == local else None
    parser.Parse(xml, True)
    return found


# -- parsing behind a wall ---------------------------------------------------------------------------
class ReadWorker:
    """A reading process with a memory ceiling; each call has a time limit.

    A file that makes the process run out of memory, crash or overrun its time becomes an
    :class:`UnreadableFile` for that file only; the next call gets a fresh process. The
    process is a plain ``python -m xl_duban.io.read_worker`` (not multiprocessing, which
    would re-import the command's main module in every reader). Its answers arrive through
    ``answers`` (shared by the workers of a pool), where waiting for them can time out.
    """

    def __init__(self, seconds: float = READ_SECONDS, memory: int = READ_MEMORY,
                 answers: "Answers | None" = None) -> None:
        self.seconds, self.memory = seconds, memory
        self._proc: subprocess.Popen | None = None
        self._room = 0  # bytes a request may wait in the process's pipe while it is busy
        self._answers: Answers = answers if answers is not None else Answers.for_platform()

    def __enter__(self) -> "ReadWorker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "xl_duban.io.read_worker", str(self.memory), *PRELOAD],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._room = self._answers.watch(self, proc)
        self._proc = proc
        return proc

    def call(self, fn, *args):
        """``fn(*args)`` in the reading process; its own exceptions (UnreadableFile) pass through."""
        ((ok, value),) = self.results(fn, [args])
        if ok:
            return value
        raise value

    def results(self, fn, calls: list[tuple]) -> Iterator[tuple[bool, object]]:
        """``fn(*args)`` for every ``args`` of ``calls``, in order (see :func:`_completed`)."""
        return (result for _index, result in _completed([self], fn, calls, ReadPool.MAX_BATCH))

    def _send(self, request: bytes) -> None:
        """Hand a request to the process, first replacing one that ended while idle (its end
        would otherwise be blamed on the first call of this request)."""
        if self._proc is not None and self._proc.poll() is not None:
            self._kill()
        proc = self._proc or self._start()
        try:
            proc.stdin.write(HEADER.pack(len(request)) + request)
            proc.stdin.flush()
        except OSError:  # the process ended just now; its end arrives among the answers
            pass

    def _kill(self) -> None:
        """Stop the process at once and stop listening to it: its answers no longer matter."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
            try:
                proc.stdin.close()
            except OSError:  # unsent request bytes meet a closed pipe: nothing is waiting for them
                pass
            self._answers.forget(proc)

    def close(self) -> None:
        """End the reading process. It holds nothing worth a clean shutdown (it only ever reads),
        so it is stopped at once rather than left to unwind its interpreter."""
        self._kill()


class ReadPool:
    """Reading processes working through a list of files side by side, one per core (at
    most two: reading is quick, and each process holds its own interpreter).

    Started early (:meth:`start`), their start-up (importing the readers, ~0.4 s) overlaps
    with whatever the command does meanwhile, such as loading the ledger; :meth:`map` then
    keeps every process busy, handing each a few files at a time (fewer as the list runs
    out, so both finish together). Each process keeps :class:`ReadWorker`'s limits per file.
    """

    MAX_BATCH = 16

    def __init__(self, size: int | None = None, *, seconds: float = READ_SECONDS, memory: int = READ_MEMORY) -> None:
        answers = Answers.for_platform()
        self.workers = [ReadWorker(seconds, memory, answers) for _ in range(size or min(2, os.cpu_count() or 1))]

    def __enter__(self) -> "ReadPool":
        return self

    def __exit__(self, *exc) -> None:
        for worker in self.workers:
            worker.close()

    def start(self) -> "ReadPool":
        for worker in self.workers:
            if worker._proc is None:
                worker._start()
        return self

    def pids(self) -> list[int]:
        """The process ids of the reading processes running now (the benchmark reads their peak memory)."""
        return [worker._proc.pid for worker in self.workers if worker._proc is not None]

    def map(self, fn, calls: list[tuple], progress: Callable[[int], None] | None = None) -> list[tuple[bool, object]]:
        """``fn(*args)`` for every ``args`` of ``calls``, in order: ``(True, value)`` or
        ``(False, UnreadableFile)`` per call. ``progress(done)`` is called in the calling
        thread as calls finish (a live Excel object may only be used from its own thread).
        Any other exception of ``fn`` is raised here once every process has stopped."""
        results: list = [None] * len(calls)
        with closing(self.completed(fn, calls)) as finished:
            for done, (index, result) in enumerate(finished, 1):
                results[index] = result
                if progress:
                    progress(done)
        return results

    def completed(self, fn, calls: list[tuple]) -> Iterator[tuple[int, tuple[bool, object]]]:
        """``(index, result)`` of every call as it finishes, in the calling thread, so the
        caller can work on one file's result while the processes read the next ones
        (see :func:`_completed`). Close the iterator (``contextlib.closing``) when leaving
        the loop early: that stops the processes' remaining work before the pool is used again."""
        return _completed(self.workers, fn, calls, self.MAX_BATCH)


def _completed(workers: list[ReadWorker], fn, calls: list[tuple], max_batch: int) -> Iterator[tuple[int, tuple[bool, object]]]:
    """``(index, result)`` of every ``fn(*args)`` of ``calls`` as the processes answer:
    ``(True, value)``, or ``(False, UnreadableFile)`` for a call that overran its time,
    crashed its process or ran out of memory; any other exception of ``fn`` is raised, once
    every process with work left has been stopped.

    Everything runs in the calling thread (see :class:`Answers`): no hand-off between
    threads per file. Calls go to a process in requests of a few (at most ``max_batch``, at
    most :data:`REQUEST_BYTES`, one at least; fewer as the list runs out, so the processes
    finish together). A busy process's next request is queued in its pipe before it runs dry,
    so it never waits for this side between files — but only as much as the pipe holds
    unread: a write that waited for a process busy writing its own answers would wait forever.
    The process answers each call as soon as it is done; the time limit runs per call, from
    the previous answer. After a failure, the calls that process had not answered go to a
    fresh one."""
    if not calls:
        return
    answers = workers[0]._answers
    packed: list[bytes | None] = [None] * len(calls)  # each call's arguments, pickled once, when first sent

    def pack(index: int) -> bytes:
        if packed[index] is None:
            packed[index] = pickle.dumps(calls[index])
        return packed[index]

    pending = deque(range(len(calls)))
    sent: dict[ReadWorker, deque[int]] = {w: deque() for w in workers}  # sent, not answered, in order
    unread: dict[ReadWorker, deque[tuple[int, int]]] = {w: deque() for w in workers}  # (first call, bytes) per request
    deadline: dict[ReadWorker, float] = {}
    seconds = workers[0].seconds

    def send(worker: ReadWorker) -> bool:
        """The next few calls to ``worker``, if they fit where they must wait; whether any went."""
        room = REQUEST_BYTES if not sent[worker] else min(REQUEST_BYTES, worker._room - sum(n for _i, n in unread[worker]))
        share = min(max_batch, -(-len(pending) // (2 * len(workers))))
        batch: list[int] = []
        size = 0
        while pending and len(batch) < share and (size + len(pack(pending[0])) <= room or not sent[worker] and not batch):
            size += len(packed[pending[0]])
            batch.append(pending.popleft())
        if not batch:
            return False
        if not sent[worker]:
            deadline[worker] = time.monotonic() + seconds
        request = pickle.dumps((fn, [packed[i] for i in batch]))
        sent[worker].extend(batch)
        unread[worker].append((batch[0], len(request) + HEADER.size))
        worker._send(request)
        return True

    def fail(worker: ReadWorker, reason: str) -> tuple[int, tuple[bool, object]]:
        """The call the process was on fails; the ones after it go back to the front."""
        worker._kill()
        index, *rest = sent[worker]
        sent[worker].clear()
        unread[worker].clear()
        pending.extendleft(reversed(rest))
        return index, (False, UnreadableFile(reason))

    left = len(calls)
    try:
        while left:
            for worker in workers:
                if pending and len(sent[worker]) <= REFILL:
                    send(worker)
            busy = [w for w in workers if sent[w]]
            due = min(busy, key=deadline.__getitem__)
            try:
                worker, proc, body = answers.get(max(deadline[due] - time.monotonic(), 0))
            except queue.Empty:
                left -= 1
                yield fail(due, f"读取超过 {due.seconds:.0f} 秒仍未完成，文件结构异常或过大")
                continue
            if proc is not worker._proc or not sent.get(worker):
                continue  # the end of a process stopped earlier
            if body is None:
                left -= 1
                yield fail(worker, CRASHED)
                continue
            index = sent[worker].popleft()
            if unread[worker] and unread[worker][0][0] == index:  # the process has read that request
                unread[worker].popleft()
            deadline[worker] = time.monotonic() + seconds
            ok, value = pickle.loads(body)
            if not ok and isinstance(value, MemoryError):
                value = UnreadableFile(CRASHED)
            elif not ok and not isinstance(value, UnreadableFile):
                raise value
            left -= 1
            yield index, (ok, value)
    finally:
        for worker in workers:
            if sent[worker]:  # stopped early (an error, or the caller gave up): answers still due are void
                worker._kill()


CRASHED = "读取时超出内存上限或读取程序异常退出，文件结构异常或过大"
REQUEST_BYTES = 4 * 2**20  # a request holds several files up to this size (one file at least), well inside READ_MEMORY
REFILL = 2  # a process's next request goes out once it has this few calls left to answer
# imported by a reading process as it starts, so a pool started early has them ready by the
# first file (they take ~0.4 s, which would otherwise fall on the first file of each process)
PRELOAD = ("xl_duban.io.returns", "python_calamine")


class Answers:
    """Where the answers of a pool's reading processes arrive, ``(worker, process, answer)``
    each; the answer is None when the process has ended. Waiting for the next one can time out.

    On POSIX the calling thread waits on every process's pipe at once (:class:`SelectAnswers`);
    Windows cannot wait on pipes that way, so a thread per process reads its pipe into a
    queue (:class:`ThreadAnswers`). Both deliver the same answers in the same order per process.
    """

    @staticmethod
    def for_platform() -> "Answers":
        return SelectAnswers() if os.name == "posix" else ThreadAnswers()

    def watch(self, worker: ReadWorker, proc: subprocess.Popen) -> int:
        """Listen to a new process; returns how many request bytes may wait in its pipe while
        it is busy (0: send only to an idle process)."""
        raise NotImplementedError

    def get(self, timeout: float) -> tuple[ReadWorker, subprocess.Popen, bytes | None]:
        """The next answer of any process; ``queue.Empty`` when none comes within ``timeout``."""
        raise NotImplementedError

    def forget(self, proc: subprocess.Popen) -> None:
        """Stop listening to a process that was stopped; its answers no longer matter."""


class ThreadAnswers(Answers):
    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()

    def watch(self, worker: ReadWorker, proc: subprocess.Popen) -> int:
        threading.Thread(target=_pump, args=(worker, proc, self._queue), daemon=True).start()
        return REQUEST_BYTES  # a write that waits for the process never blocks its answers: the pump reads them

    def get(self, timeout: float) -> tuple[ReadWorker, subprocess.Popen, bytes | None]:
        return self._queue.get(timeout=timeout)


def _pump(worker: ReadWorker, proc: subprocess.Popen, answers: queue.Queue) -> None:
    """Move a process's answers into ``answers``, then None at the end, when the pipe is closed too."""
    with proc.stdout as stream:
        while True:
            try:
                head = read_exactly(stream, HEADER.size)
                body = read_exactly(stream, HEADER.unpack(head)[0]) if head else None
            except (OSError, ValueError):
                body = None
            answers.put((worker, proc, body))
            if body is None:
                return


class SelectAnswers(Answers):
    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._ready: deque[tuple[ReadWorker, subprocess.Popen, bytes | None]] = deque()
        self._buffers: dict[int, bytearray] = {}

    def watch(self, worker: ReadWorker, proc: subprocess.Popen) -> int:
        fd = proc.stdout.fileno()
        os.set_blocking(fd, False)
        self._buffers[fd] = bytearray()
        self._selector.register(fd, selectors.EVENT_READ, (worker, proc))
        return _widen(proc.stdin)

    def get(self, timeout: float) -> tuple[ReadWorker, subprocess.Popen, bytes | None]:
        end = time.monotonic() + timeout
        while not self._ready:
            ready = self._selector.select(max(end - time.monotonic(), 0))
            if not ready and time.monotonic() >= end:
                raise queue.Empty
            for key, _events in ready:
                self._read(key)
        return self._ready.popleft()

    def _read(self, key: selectors.SelectorKey) -> None:
        """What the pipe holds: every whole answer in it is ready; the end of the pipe too."""
        worker, proc = key.data
        try:
            data = os.read(key.fd, PIPE_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close(proc)
            self._ready.append((worker, proc, None))
            return
        buffer = self._buffers[key.fd]
        buffer += data
        while len(buffer) >= HEADER.size:
            end = HEADER.size + HEADER.unpack_from(buffer)[0]
            if len(buffer) < end:
                break
            self._ready.append((worker, proc, bytes(buffer[HEADER.size:end])))
            del buffer[:end]

    def forget(self, proc: subprocess.Popen) -> None:
        self._close(proc)

    def _close(self, proc: subprocess.Popen) -> None:
        fd = proc.stdout.fileno() if not proc.stdout.closed else -1
        if fd in self._buffers:
            self._selector.unregister(fd)
            del self._buffers[fd]
        proc.stdout.close()


def _widen(pipe) -> int:
    """The pipe grown to :data:`PIPE_BYTES` (Linux), room for whole requests on the way in; the
    bytes it now holds, or 0 where the size of a pipe is not known."""
    try:
        import fcntl

        grow, size = fcntl.F_SETPIPE_SZ, fcntl.F_GETPIPE_SZ
    except (ImportError, AttributeError):
        return 0
    try:
        fcntl.fcntl(pipe.fileno(), grow, PIPE_BYTES)
    except OSError:  # above the system's limit for pipes: keep the size it has
        pass
    try:
        return fcntl.fcntl(pipe.fileno(), size)
    except OSError:
        return 0


PIPE_BYTES = 2**20
