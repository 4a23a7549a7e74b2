"""Returned files from dozens of machines, a few of them hostile: look before parsing, and
parse behind a wall.

Two layers, both adapters:

* :func:`inspect_package` looks at a file's container without parsing any cell: a zip whose
  parts would inflate past :data:`MAX_UNPACKED` or by more than :data:`MAX_RATIO` (a zip
  bomb), an XML part declaring a DOCTYPE (entity expansion, external entities — Office never
  writes one), an encrypted Office file. It also lists the cells holding a formula, so collect
  can refuse them by location rather than trust a cached value nobody can see.
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
import subprocess
import sys
import threading
import zipfile
from dataclasses import dataclass, field
from typing import Callable
from xml.etree import ElementTree

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
# a cell (not an empty <c …/>) whose own content holds an <f>: the search stops at its </c> or
# at the next cell, so an empty cell before a formula cell is not taken for it
CELL_WITH_FORMULA = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*(?<!/)>(?:(?!</c>|<c\b).){0,4000}?<f[\s>/]', re.S)
NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


@dataclass
class Inspection:
    """What the container says before any cell is parsed."""

    formulas: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # sheet name → (row, col), 1-based


def inspect_package(data: bytes) -> Inspection:
    """Refuse containers that are dangerous to parse; list formula cells of an .xlsx/.xlsm.

    Raises :class:`UnreadableFile` with the reason in Chinese. Files that are neither a zip
    nor an OLE container are left to the parser, which refuses them itself.
    """
    if data.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
            raise UnreadableFile("文件设置了打开密码或已加密，无法读取")
        return Inspection()
    if not data.startswith(b"PK"):
        return Inspection()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UnreadableFile(f"文件已损坏或不是有效的 Excel 文件（{type(exc).__name__}）") from exc
    if len(members) > MAX_MEMBERS:
        raise UnreadableFile(f"文件内部包含 {len(members)} 个部件，超出正常表格的范围，疑似恶意文件")
    total = sum(m.file_size for m in members)
    if total > MAX_UNPACKED:
        raise UnreadableFile(f"文件解压后达 {total / 2**20:.0f} MB，超过 {MAX_UNPACKED // 2**20} MB 的上限，疑似压缩炸弹")
    for m in members:
        if m.file_size > RATIO_FLOOR and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise UnreadableFile(f"文件部件“{m.filename}”压缩比异常（{m.file_size // max(m.compress_size, 1)} 倍），疑似压缩炸弹")
    parts: dict[str, bytes] = {}
    try:
        for m in members:
            if m.filename.endswith((".xml", ".rels", ".vml")):
                body = _read_member(archive, m)
                if b"<!" in body and DOCTYPE.search(body):  # anywhere: a long comment may come before it
                    raise UnreadableFile(f"文件部件“{m.filename}”含有 XML 实体声明（DOCTYPE），正常的 Excel 文件不会包含，已拒收")
                parts[m.filename] = body
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise UnreadableFile(f"文件已损坏，无法解压（{type(exc).__name__}）") from exc
    return Inspection(formulas=_formula_cells(parts))


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes:
    """A member's bytes, never more than its declared size (a lying header cannot inflate us)."""
    with archive.open(member) as fh:
        body = fh.read(member.file_size + 1)
    if len(body) > member.file_size:
        raise ValueError("member larger than declared")
    return body


def _formula_cells(parts: dict[str, bytes]) -> dict[str, list[tuple[int, int]]]:
    """Sheet name → cells holding a formula, for an .xlsx/.xlsm package (empty for others)."""
    workbook, rels = parts.get("xl/workbook.xml"), parts.get("xl/_rels/workbook.xml.rels")
    if not workbook or not rels:
        return {}
    try:
        targets = {r.get("Id"): r.get("Target", "") for r in ElementTree.fromstring(rels)}
        sheets = [(s.get("name", ""), s.get(NS_REL)) for s in ElementTree.fromstring(workbook).iter()
                  if s.tag.endswith("}sheet")]
    except ElementTree.ParseError as exc:
        raise UnreadableFile("文件已损坏（工作簿结构无法解析）") from exc
    out: dict[str, list[tuple[int, int]]] = {}
    for name, rid in sheets:
        target = targets.get(rid, "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        body = parts.get(path, b"")
        if FORMULA.search(body):
            out[name] = [(int(row), column_index(col.decode())) for col, row in CELL_WITH_FORMULA.findall(body)]
    return out


# -- parsing behind a wall ---------------------------------------------------------------------------
class ReadWorker:
    """A reading process with a memory ceiling; each call has a time limit.

    A file that makes the process run out of memory, crash or overrun its time becomes an
    :class:`UnreadableFile` for that file only; the next call gets a fresh process. The
    process is a plain ``python -m xl_duban.io.read_worker`` (not multiprocessing, which
    would re-import the command's main module in every reader).
    """

    def __init__(self, seconds: float = READ_SECONDS, memory: int = READ_MEMORY) -> None:
        self.seconds, self.memory = seconds, memory
        self._proc: subprocess.Popen | None = None
        self._replies: queue.Queue = queue.Queue()

    def __enter__(self) -> "ReadWorker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> subprocess.Popen:
        self._proc = subprocess.Popen([sys.executable, "-m", "xl_duban.io.read_worker", str(self.memory), *PRELOAD],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._replies = queue.Queue()
        threading.Thread(target=_pump, args=(self._proc.stdout, self._replies), daemon=True).start()
        return self._proc

    def call(self, fn, *args):
        """``fn(*args)`` in the reading process; its own exceptions (UnreadableFile) pass through."""
        proc = self._proc or self._start()
        data = pickle.dumps((fn, args))
        try:
            proc.stdin.write(HEADER.pack(len(data)) + data)
            proc.stdin.flush()
            reply = self._replies.get(timeout=self.seconds)
        except queue.Empty:
            self._kill()
            raise UnreadableFile(f"读取超过 {self.seconds:.0f} 秒仍未完成，文件结构异常或过大") from None
        except OSError:
            reply = None
        if reply is None:
            self._kill()
            raise UnreadableFile(CRASHED)
        ok, value = pickle.loads(reply)
        if ok:
            return value
        if isinstance(value, MemoryError):
            raise UnreadableFile(CRASHED)
        raise value

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                stream.close()

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if not proc.stdin.closed:
                proc.stdin.close()  # the reader ends when its input ends
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()


class ReadPool:
    """Reading processes working through a list of files side by side, one per core (at
    most two: reading is quick, and each process holds its own interpreter).

    Started early (:meth:`start`), their start-up (importing the readers, ~0.4 s) overlaps
    with whatever the command does meanwhile, such as loading the ledger; :meth:`map` then
    keeps every process busy. Each process keeps :class:`ReadWorker`'s limits per file.
    """

    def __init__(self, size: int | None = None, *, seconds: float = READ_SECONDS, memory: int = READ_MEMORY) -> None:
        self.workers = [ReadWorker(seconds, memory) for _ in range(size or min(2, os.cpu_count() or 1))]

    def __enter__(self) -> "ReadPool":
        return self

    def __exit__(self, *exc) -> None:
        for worker in self.workers:  # all told to end first: their interpreters shut down side by side
            if worker._proc is not None:
                worker._proc.stdin.close()
        for worker in self.workers:
            worker.close()

    def start(self) -> "ReadPool":
        for worker in self.workers:
            if worker._proc is None:
                worker._start()
        return self

    def map(self, fn, calls: list[tuple], progress: Callable[[int], None] | None = None) -> list[tuple[bool, object]]:
        """``fn(*args)`` for every ``args`` of ``calls``, in order: ``(True, value)`` or
        ``(False, UnreadableFile)`` per call. ``progress(done)`` is called in the calling
        thread as calls finish (a live Excel object may only be used from its own thread).
        Any other exception of ``fn`` is raised here once every process has stopped."""
        jobs: queue.Queue = queue.Queue()
        for index, args in enumerate(calls):
            jobs.put((index, args))
        finished: queue.Queue = queue.Queue()  # (index, result) per call; (None, exception) on failure
        stop = threading.Event()

        def work(worker: ReadWorker) -> None:
            while not stop.is_set():
                try:
                    index, args = jobs.get_nowait()
                except queue.Empty:
                    return
                try:
                    finished.put((index, (True, worker.call(fn, *args))))
                except UnreadableFile as exc:
                    finished.put((index, (False, exc)))
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                    finished.put((None, exc))
                    return

        threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in self.workers[:max(len(calls), 1)]]
        for thread in threads:
            thread.start()
        results: list = [None] * len(calls)
        failure: BaseException | None = None
        try:
            for done in range(1, len(calls) + 1):
                index, result = finished.get()
                if index is None:
                    failure = result
                    break
                results[index] = result
                if progress:
                    progress(done)
        except BaseException as exc:  # the progress callback failed (or Ctrl+C): stop the readers cleanly
            failure = exc
        stop.set()
        for thread in threads:
            thread.join()
        if failure is not None:
            raise failure
        return results


CRASHED = "读取时超出内存上限或读取程序异常退出，文件结构异常或过大"
# imported by a reading process as it starts, so a pool started early has them ready by the
# first file (they take ~0.4 s, which would otherwise fall on the first file of each process)
PRELOAD = ("xl_duban.io.returns", "python_calamine")


def _pump(stream, replies: queue.Queue) -> None:
    """Move the reader's replies into a queue, so waiting for one can time out; None at the end."""
    while True:
        head = read_exactly(stream, HEADER.size)
        body = read_exactly(stream, HEADER.unpack(head)[0]) if head else None
        replies.put(body)
        if body is None:
            return
