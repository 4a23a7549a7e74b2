"""What goes into a unit's feedback workbook, and the signature that protects it (DESIGN §6).

Each lead unit receives one workbook with only its own tasks, the node target for the period
and last period's progress. The office must later be sure that a returned file is one it
issued, for that unit and period, and that nobody edited the cells the office filled in.
So the workbook carries its identity (issue id, unit, period, kind, issued time, task ids)
and a digest of every locked row, signed with an HMAC key that never leaves the office.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from .models import Feedback, Ledger, NodeTarget, Task, TaskKind, TaskStatus
from .periods import Period
from .units import UnitDirectory, normalize_name

FORMAT_VERSION = "1"
NO_TARGET = "（本期未设定节点目标）"


class IssueRow(BaseModel):
    """One task line of a unit workbook; the four texts are the locked cells."""

    model_config = ConfigDict(frozen=True)

    task_id: str
    content: str
    target: str
    previous: str

    def locked_texts(self) -> tuple[str, str, str, str]:
        return (self.task_id, self.content, self.target, self.previous)

    def digest(self) -> str:
        """SHA-256 of the locked texts: lets collect point at the exact row a unit edited."""
        return hashlib.sha256(json.dumps(self.locked_texts(), ensure_ascii=False).encode("utf-8")).hexdigest()


class IssuedWorkbook(BaseModel):
    """The content and identity of one issued workbook (before it becomes a file)."""

    model_config = ConfigDict(frozen=True)

    issue_id: str
    unit: str
    period: str
    kind: TaskKind
    issued_at: datetime
    due: str  # ISO date
    rows: tuple[IssueRow, ...]
    format_version: str = FORMAT_VERSION

    @property
    def task_ids(self) -> list[str]:
        return [r.task_id for r in self.rows]

    def payload(self) -> bytes:
        """Canonical bytes covered by the signature: identity plus every locked row's digest."""
        body = {
            "format_version": self.format_version,
            "issue_id": self.issue_id,
            "unit": self.unit,
            "period": self.period,
            "kind": self.kind.value,
            "issued_at": self.issued_at.isoformat(timespec="seconds"),
            "due": self.due,
            "rows": [[r.task_id, r.digest()] for r in self.rows],
        }
        return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(payload: bytes, key: bytes) -> str:
    """HMAC-SHA256 hex signature. Only holders of the office key can produce it."""
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def verify(payload: bytes, key: bytes, signature: str) -> bool:
    """Constant-time check of a signature read back from a returned workbook."""
    return hmac.compare_digest(sign(payload, key), (signature or "").strip().lower())


def make_issue_id(unit: str, period: Period, kind: TaskKind, issued_at: datetime) -> str:
    """A readable, unique id: period, kind, a short hash of the unit, and the issue time."""
    unit_code = hashlib.sha256(normalize_name(unit).encode("utf-8")).hexdigest()[:6].upper()
    return f"{period}-{kind.id_code}-{unit_code}-{issued_at:%Y%m%d%H%M%S}"


def lead_units_of(task: Task, directory: UnitDirectory) -> list[str]:
    """Every unit that must report on a task: its lead units, collectives expanded."""
    units: list[str] = []
    for name in task.lead_units:
        for unit in directory.expand(name) or [normalize_name(name)]:
            if unit not in units:
                units.append(unit)
    return units


def reportable_tasks(ledger: Ledger, kind: TaskKind) -> list[Task]:
    """Tasks that report this period: open, of the kind, and not a project split into sub-items
    (its sub-items report instead)."""
    parents = {t.parent_id for t in ledger.tasks if t.parent_id}
    return [t for t in ledger.tasks
            if t.kind == kind.value and t.status in (TaskStatus.open.value, "") and t.id and t.id not in parents]


def recipients(ledger: Ledger, kind: TaskKind) -> dict[str, list[Task]]:
    """Lead unit → its tasks of this kind, in ledger order. A unit sees only its own tasks."""
    directory = UnitDirectory(ledger.units)
    out: dict[str, list[Task]] = {}
    for task in reportable_tasks(ledger, kind):
        for unit in lead_units_of(task, directory):
            out.setdefault(unit, []).append(task)
    return out


def _target_text(targets: dict[tuple[str, str], NodeTarget], task_id: str, period: Period) -> str:
    target = targets.get((task_id, str(period)))
    return target.target if target and target.target.strip() else NO_TARGET


def _previous_progress(feedback: dict[tuple[str, str, str], Feedback], task_id: str, unit: str, period: Period) -> str:
    fb = feedback.get((task_id, str(period.previous()), unit))
    return fb.progress if fb else ""


def build_issue(ledger: Ledger, unit: str, tasks: list[Task], period: Period, issued_at: datetime, due: str) -> IssuedWorkbook:
    """The workbook content for one unit: its tasks, node targets for P, last period's progress."""
    kind = TaskKind(tasks[0].kind)
    targets = {(t.task_id, t.period): t for t in ledger.targets}
    feedback = {(f.task_id, f.period, normalize_name(f.unit)): f for f in ledger.feedback}
    rows = tuple(IssueRow(task_id=t.id, content=t.content, target=_target_text(targets, t.id, period),
                          previous=_previous_progress(feedback, t.id, unit, period)) for t in tasks)
    return IssuedWorkbook(issue_id=make_issue_id(unit, period, kind, issued_at), unit=unit, period=str(period),
                          kind=kind, issued_at=issued_at, due=due, rows=rows)


def file_name(issue: IssuedWorkbook) -> str:
    """``{周期}_{单位}_{重点任务|民生实事}反馈表.xlsx`` (DESIGN §6)."""
    return f"{issue.period}_{file_safe(issue.unit)}_{issue.kind.value}反馈表.xlsx"


def file_safe(name: str) -> str:
    """A unit name usable in file and folder names: characters Windows forbids become ``_``."""
    return re.sub(r'[\\/:*?"<>|\s]', "_", name)
