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
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from .cells import date_text
from .models import Feedback, Ledger, NodeTarget, TargetStatus, Task, TaskKind, TaskStatus
from .periods import Period, periods_of_year
from .findings import Finding, warning
from .units import UnitDirectory, collective, normalize_name

FORMAT_VERSION = "1"
NO_TARGET = "（本期未设定节点目标）"


class Form(str, Enum):
    """The two workbooks a unit receives: the periodic 落实情况反馈表 (附件6/7) and the
    start-of-year 目标安排表 (附件4 quarterly for key tasks, 附件5 monthly for 民生实事)."""

    feedback = "反馈表"
    targets = "目标安排表"

    @property
    def locked_headers(self) -> tuple[str, ...]:
        """Columns the office fills and the signature protects, 任务编号 first."""
        if self is Form.feedback:
            return ("任务编号", "工作任务", "节点目标", "上期进展")
        return ("任务编号", "工作任务", "完成时限")


# the unit's input columns of a feedback form (DESIGN §6); 完成情况 and 自评灯色 are drop-downs
FEEDBACK_INPUTS = ("完成情况", "进展情况", "存在问题及原因分析", "下一步工作计划和意见建议", "自评灯色")
COMPLETION_HEADER, SELF_LIGHT_HEADER = FEEDBACK_INPUTS[0], FEEDBACK_INPUTS[-1]
# who answers for a return (the unit's clerk, a phone to call back, who checked it): unlocked
# cells above the table, outside the signature, carried into 报送情况 when the return is accepted
SIGNERS = ("填报人", "联系电话", "审核人")


def target_columns(kind: TaskKind, year: int) -> list[tuple[str, Period]]:
    """Input columns of a 目标安排表: one per period of the year (第一季度… or 1月…)."""
    return [(p.label.removeprefix(f"{year}年"), p) for p in periods_of_year(year, kind.cadence)]


# the encodings the signature covers, exactly json.dumps(…) with these options, made once:
# json.dumps builds a new encoder on every call that passes any option
_PAYLOAD_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


@lru_cache(maxsize=64)
def input_headers(form: Form, kind: TaskKind, year: int) -> tuple[str, ...]:
    """The unlocked columns a unit types into, in sheet order."""
    if form is Form.feedback:
        return FEEDBACK_INPUTS
    return tuple(header for header, _period in target_columns(kind, year))


def targets_label(year: int, kind: TaskKind) -> str:
    """The 报送情况 周期 of a 目标安排表: 2024年度季度目标 (key tasks) / 2024年度月度目标 (民生实事)."""
    return f"{year}年度{'季度' if kind is TaskKind.key else '月度'}目标"


class IssueRow(BaseModel):
    """One task line of a unit workbook: the locked texts (任务编号 first) and, for a
    目标安排表, the targets already on record (inputs the unit may keep or change)."""

    model_config = ConfigDict(frozen=True)

    locked: tuple[str, ...]
    inputs: tuple[str, ...] = ()

    @property
    def task_id(self) -> str:
        return self.locked[0]

    def digest(self) -> str:
        """SHA-256 of the locked texts: a unit cannot change what the office wrote unseen."""
        return hashlib.sha256(json.dumps(list(self.locked), ensure_ascii=False).encode("utf-8")).hexdigest()


class IssueIdentity(BaseModel):
    """Which issued workbook a file is: for whom, which period and form, when issued and due.

    What a verdict on a returned file keeps of its issue once the rows have been compared
    (:meth:`IssuedWorkbook.identity`): the ledger's checks, the archive and the merge ask
    nothing else, and a province's collect carries 200 verdicts back from its reading
    processes, where the rows would cost more to carry than the checks cost to run."""

    model_config = ConfigDict(frozen=True)

    issue_id: str
    unit: str
    period: str  # 2024Q1 / 2024-03, or targets_label() for a 目标安排表
    kind: TaskKind
    issued_at: datetime
    due: str  # ISO date
    form: Form = Form.feedback
    year: int = 0
    format_version: str = FORMAT_VERSION

    @property
    def inputs(self) -> tuple[str, ...]:
        return input_headers(self.form, self.kind, self.year)


class IssuedWorkbook(IssueIdentity):
    """The content and identity of one issued workbook (before it becomes a file)."""

    rows: tuple[IssueRow, ...]

    @property
    def task_ids(self) -> list[str]:
        return [r.task_id for r in self.rows]

    def identity(self) -> IssueIdentity:
        """This workbook without its task lines (see :class:`IssueIdentity`)."""
        return IssueIdentity.model_construct(**{name: getattr(self, name) for name in IssueIdentity.model_fields})

    def payload(self) -> bytes:
        """Canonical bytes covered by the signature: identity plus every locked row's digest."""
        body = {
            "format_version": self.format_version,
            "issue_id": self.issue_id,
            "form": self.form.value,
            "year": self.year,
            "unit": self.unit,
            "period": self.period,
            "kind": self.kind.value,
            "issued_at": self.issued_at.isoformat(timespec="seconds"),
            "due": self.due,
            "rows": [[r.task_id, r.digest()] for r in self.rows],
        }
        return _PAYLOAD_JSON(body).encode("utf-8")


def sign(payload: bytes, key: bytes) -> str:
    """HMAC-SHA256 hex signature. Only holders of the office key can produce it."""
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def verify(payload: bytes, key: bytes, signature: str) -> bool:
    """Constant-time check of a signature read back from a returned workbook. Compared as
    bytes: whatever a unit typed into the signature cell (any script) is simply a mismatch."""
    return hmac.compare_digest(sign(payload, key).encode("utf-8"), (signature or "").strip().lower().encode("utf-8"))


def make_issue_id(unit: str, period: str, kind: TaskKind, issued_at: datetime, form: Form = Form.feedback) -> str:
    """A readable, unique id: period, kind, a short hash of the unit, and the issue time."""
    unit_code = hashlib.sha256(normalize_name(unit).encode("utf-8")).hexdigest()[:6].upper()
    prefix = period if form is Form.feedback else f"{period[:4]}MB"
    return f"{prefix}-{kind.id_code}-{unit_code}-{issued_at:%Y%m%d%H%M%S}"


def lead_units_of(task: Task, directory: UnitDirectory) -> list[str]:
    """Every unit that must report on a task: its lead units, all-of groups (各镇街) expanded.

    A some-of group (相关镇街道, 区直相关单位) stands for no unit until the office names them:
    it gets no form and no bulletin or notice names it (:func:`unnamed_groups` lists them)."""
    units: list[str] = []
    for name in task.lead_units:
        named = directory.expand(name) if collective(name) is not None else directory.expand(name) or [normalize_name(name)]
        for unit in named:
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


def with_confirmed_targets(ledger: Ledger, by_unit: dict[str, list[Task]], period: Period
                           ) -> tuple[dict[str, list[Task]], list[str]]:
    """Each unit's tasks that have a confirmed node target for ``period`` (已确认, or 调整待批:
    the confirmed target stands until the 分管领导 approves the change), and the ids of the
    tasks left out. A unit with none left gets no form."""
    confirmed = {t.task_id for t in ledger.targets if t.period == str(period) and t.target.strip()
                 and t.status in (TargetStatus.confirmed.value, TargetStatus.change_pending.value)}
    kept = {unit: [t for t in tasks if t.id in confirmed] for unit, tasks in by_unit.items()}
    left_out = list(dict.fromkeys(t.id for tasks in by_unit.values() for t in tasks if t.id not in confirmed))
    return {unit: tasks for unit, tasks in kept.items() if tasks}, left_out


def unnamed_groups(ledger: Ledger, kind: TaskKind) -> dict[str, list[str]]:
    """Group name → ids of the reportable tasks it leads that no form can go to for it: some-of
    groups (相关镇街道) and all-of groups with no unit of their type in 单位名录."""
    directory = UnitDirectory(ledger.units)
    out: dict[str, list[str]] = {}
    for task in reportable_tasks(ledger, kind):
        for name in task.lead_units:
            if collective(name) is not None and not directory.expand(name):
                out.setdefault(normalize_name(name), []).append(task.id)
    return out


def unnamed_group_findings(ledger: Ledger, kind: TaskKind) -> list[Finding]:
    """One ``collective-not-issued`` finding per group name, listing its tasks (for issue)."""
    return [warning("collective-not-issued",
                    f"牵头单位“{name}”是统称，未明确具体单位，未下发反馈表：{'、'.join(ids)}。",
                    sheet="任务台账", column="牵头单位",
                    hint="在【任务台账】中把统称改为具体单位名称后重新下发。")
            for name, ids in unnamed_groups(ledger, kind).items()]


def _target_text(targets: dict[tuple[str, str], NodeTarget], task_id: str, period: Period) -> str:
    target = targets.get((task_id, str(period)))
    return target.target if target and target.target.strip() else NO_TARGET


def _previous_progress(feedback: dict[tuple[str, str, str], Feedback], task_id: str, unit: str, period: Period) -> str:
    fb = feedback.get((task_id, str(period.previous()), unit))
    return fb.progress if fb else ""


@dataclass(frozen=True)
class IssueIndex:
    """The ledger's node targets and returns keyed for lookup while forms are built: made
    once per issue run, not once per unit (a province issues 200 forms over 10⁴ returns)."""

    targets: dict
    feedback: dict

    @classmethod
    def of(cls, ledger: Ledger) -> "IssueIndex":
        return cls(targets={(t.task_id, t.period): t for t in ledger.targets},
                   feedback={(f.task_id, f.period, normalize_name(f.unit)): f for f in ledger.feedback})


def build_issue(ledger: Ledger, unit: str, tasks: list[Task], period: Period, issued_at: datetime, due: str,
                index: IssueIndex | None = None) -> IssuedWorkbook:
    """The feedback workbook for one unit: its tasks, node targets for P, last period's progress.
    ``index`` is :meth:`IssueIndex.of` the ledger, passed in when many units are issued."""
    kind = TaskKind(tasks[0].kind)
    index = index or IssueIndex.of(ledger)
    targets, feedback = index.targets, index.feedback
    rows = tuple(IssueRow(locked=(t.id, t.content, _target_text(targets, t.id, period),
                                  _previous_progress(feedback, t.id, unit, period))) for t in tasks)
    return IssuedWorkbook(issue_id=make_issue_id(unit, str(period), kind, issued_at), unit=unit, period=str(period),
                          kind=kind, issued_at=issued_at, due=due, rows=rows, year=period.year)


def build_targets_issue(ledger: Ledger, unit: str, tasks: list[Task], year: int, issued_at: datetime,
                        due: str) -> IssuedWorkbook:
    """The 目标安排表 for one unit: its tasks with one input column per period of the year,
    pre-filled with the targets on record so a unit only types what is new or changed."""
    kind = TaskKind(tasks[0].kind)
    targets = {(t.task_id, t.period): t.target for t in ledger.targets}
    columns = target_columns(kind, year)
    rows = tuple(IssueRow(locked=(t.id, t.content, deadline_text(t.deadline)),
                          inputs=tuple(targets.get((t.id, str(p)), "") for _header, p in columns)) for t in tasks)
    label = targets_label(year, kind)
    return IssuedWorkbook(issue_id=make_issue_id(unit, label, kind, issued_at, Form.targets), unit=unit, period=label,
                          kind=kind, issued_at=issued_at, due=due, rows=rows, form=Form.targets, year=year)


def deadline_text(value: object) -> str:
    """A 完成时限 cell as the text units read: a date as 2024年6月30日, text as typed."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return date_text(value)
    return str(value or "").strip()


def file_name(issue: IssuedWorkbook) -> str:
    """``{周期}_{单位}_{重点任务|民生实事}反馈表.xlsx`` (DESIGN §6); the targets variant is
    ``{年度}_{单位}_{重点任务季度|民生实事月度}目标安排表.xlsx``."""
    if issue.form is Form.targets:
        cadence = "季度" if issue.kind is TaskKind.key else "月度"
        return f"{issue.year}_{file_safe(issue.unit)}_{issue.kind.value}{cadence}目标安排表.xlsx"
    return f"{issue.period}_{file_safe(issue.unit)}_{issue.kind.value}反馈表.xlsx"


def file_safe(name: str) -> str:
    """A unit name usable in file and folder names: characters Windows forbids become ``_``."""
    return re.sub(r'[\\/:*?"<>|\s]', "_", name)
