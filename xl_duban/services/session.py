"""One session per command: lock the ledger, load it once, save it once.

Every use case opens the ledger the same way — take the ledger's lock (``io.lock``) so a
second command started meanwhile waits instead of overwriting this one's work, load the
workbook once, parse 设置 once, and at the end write the findings to 校验结果 and save in
one atomic write (or not at all: a command that changes nothing writes nothing). The ribbon
hands over a store already open on the live book (``io.xlwings_store``); Excel owns that
book, so no lock is taken for it.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

from ..domain.codes import describe
from ..domain.due import DueDates
from ..domain.findings import Finding
from ..domain.models import Ledger, ValidationRow
from ..domain.schema import DATA_SHEETS, VALIDATION
from ..domain.settings import Settings, read_settings
from ..io import lock
from ..io.calendar_source import work_calendar
from ..io.ledger_store import LedgerStore
from ..timing import stage


class Store(Protocol):
    """What a service needs of a ledger: the openpyxl file store (:class:`LedgerStore`, the
    command line) and the live-book store (:class:`~xl_duban.io.xlwings_store.XlwingsStore`,
    the ribbon) both provide it, so both run the very same service code."""

    path: Path

    @property
    def file(self) -> str: ...

    @property
    def absent_sheets(self) -> frozenset[str]: ...

    def load(self) -> tuple[Ledger, list[Finding]]: ...

    def renumber(self, ledger: Ledger) -> None: ...

    def save(self, ledger: Ledger, *, highlights: list[Finding] | None = None, now: datetime,
             views: Iterable[Callable] = (), skip_incomplete: bool = False) -> None: ...

    def changed(self, ledger: Ledger, *, ignore: Iterable[str] = ()) -> bool: ...


def is_ledger_path(target: object) -> bool:
    """A service's first argument names a ledger file (else it is a store already open)."""
    return isinstance(target, (str, Path))


LEDGER_SHEETS = {spec.name for spec in DATA_SHEETS}


def findings_to_rows(findings: Iterable[Finding]) -> list[ValidationRow]:
    """The 校验结果 rows of findings (a finding about another file names that file too)."""
    return [ValidationRow(sheet=f.sheet if f.sheet in LEDGER_SHEETS else " › ".join(p for p in (f.file, f.sheet) if p),
                          at_row=f.row, column=f.column, level=f.level.value, code=f.code, message=f.text())
            for f in findings]


def source_file_rows(ledger: Ledger, replaced: Iterable[str] = ()) -> list[ValidationRow]:
    """The rows of 校验结果 about source files (an import's findings: a repeated header, a
    new unit whose 类型 is to be confirmed …), except those of the ``replaced`` files. The
    ledger cannot show them again — the file is not in it — so they stay listed until the
    file is imported again, whatever validate finds in the ledger itself."""
    gone = set(replaced)
    return [r for r in ledger.validation if r.sheet not in LEDGER_SHEETS and r.sheet.split(" › ")[0] not in gone
            and (info := describe(r.code)) is not None and "导入" in info.areas]


def due_dates(ledger: Ledger, settings: Settings | None = None) -> DueDates:
    """The due dates of a ledger: its 节假日 over the statutory calendar, its 设置 deadlines."""
    return DueDates(work_calendar(ledger.holidays), settings or read_settings(ledger.settings)[0])


class Session:
    """A command's hold on one ledger: the store, and after :meth:`load` the ledger, the
    findings of loading it and its typed settings."""

    def __init__(self, store: Store, now: datetime) -> None:
        self.store = store
        self.now = now
        self.ledger: Ledger | None = None
        self.findings: list[Finding] = []  # of loading: unreadable rows, missing columns …
        self.settings: Settings | None = None
        self._due: DueDates | None = None

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def file(self) -> str:
        return self.store.file

    def load(self) -> Ledger:
        with stage("台账读取 load"):
            self.ledger, self.findings = self.store.load()
        self.settings, _ = read_settings(self.ledger.settings)
        return self.ledger

    @property
    def due(self) -> DueDates:
        """The ledger's due dates (one object per command: its calendar warnings gather)."""
        if self._due is None:
            self._due = due_dates(self.ledger, self.settings)
        return self._due

    def save(self, *, validation: Iterable[Finding] | None = None, keep: Iterable[ValidationRow] = (),
             highlights: list[Finding] | None = None, views: Iterable[Callable] = (), skip_incomplete: bool = False,
             report: bool = False, always: bool = False) -> bool:
        """Write the ledger once: ``validation`` (when given) becomes 校验结果 after the rows to
        ``keep``, ``highlights`` marks cells, ``views`` redraw generated sheets.

        Nothing is written — no ledger bytes, no backup, no 校验结果 — when the command changed
        no record: a failed import or a repeated run must not rewrite the office's record nor push
        a real backup out of the rotation (its findings are printed and in ``--json``). For
        ``validate`` (``report``) 校验结果 is the result, so a change there alone is written;
        ``always`` is for a command whose product is a generated sheet (the bulletin).
        Returns whether the ledger was written."""
        if validation is not None:
            self.ledger.validation = [*keep, *findings_to_rows(validation)]
        if not always and not self.store.changed(self.ledger, ignore=() if report else (VALIDATION.name,)):
            return False
        with stage("台账保存 save"):
            self.store.save(self.ledger, highlights=highlights, now=self.now, views=views,
                            skip_incomplete=skip_incomplete)
        return True


@contextmanager
def session(target: Path | str | Store, command: str, now: datetime, *, load: bool = True) -> Iterator[Session]:
    """Hold the ledger for one command: locked (a file; a live book is Excel's), loaded
    unless ``load`` is False (collect starts its readers first), released however it ends."""
    path = Path(target) if is_ledger_path(target) else None
    if path is not None:
        lock.acquire(path, command=f"duban {command}")
    try:
        s = Session(LedgerStore(path) if path is not None else target, now)
        if load:
            s.load()
        yield s
    finally:
        if path is not None:
            lock.release(path)
