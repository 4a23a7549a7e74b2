"""Typed records of the ledger (DESIGN §3) and the aggregate that holds them.

Enumerated cells (类别, 状态, 灯色 …) are kept as the text the user typed, because a ledger
is edited by hand in Excel: loading must never fail on a bad cell — validation reports it
as a finding with its row instead. Enum classes below list the allowed values and the
properties give typed access once a value is known to be valid.

Every record remembers the Excel row it came from (``row``, for findings) and the values
of columns the user added (``extras``, written back untouched).
"""

from __future__ import annotations

from functools import lru_cache

import re
from datetime import date, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .periods import Cadence, Period
from .settings import set_value, year_of

SEP = "、"  # DESIGN §3: multi-valued cells are joined with 、


class TaskKind(str, Enum):
    key = "重点任务"
    livelihood = "民生实事"

    @property
    def cadence(self) -> Cadence:
        """Key tasks report quarterly, 民生实事 monthly (督查方案, 附件6/7)."""
        return Cadence.quarterly if self is TaskKind.key else Cadence.monthly

    @property
    def id_code(self) -> str:
        return "ZD" if self is TaskKind.key else "MS"

    @classmethod
    def reporting_in(cls, period: Period) -> "TaskKind":
        """The kind that reports in a period: key tasks per quarter, 民生实事 per month."""
        return cls.key if period.cadence is Cadence.quarterly else cls.livelihood


class TaskStatus(str, Enum):
    open = "进行中"
    done = "已办结"
    cancelled = "已取消"


class TargetStatus(str, Enum):
    pending = "待报送"
    confirmed = "已确认"
    change_pending = "调整待批"


class Completion(str, Enum):
    done = "已完成"
    not_done = "未完成"
    closed = "已办结"


class LightColor(str, Enum):
    green = "绿灯"
    yellow = "黄灯"
    red = "红灯"


class UnitType(str, Enum):
    department = "区直部门"
    township = "镇街"
    vertical = "垂直管理"
    other = "其他"


class SubmissionState(str, Enum):
    on_time = "已报送"
    late = "逾期报送"
    missing = "未报送"
    returned = "退回"


class ReturnSource(str, Enum):
    """Where an accepted return came from (报送情况 来源). A return from an address not in
    单位名录 may be anyone's: the unit's own return — from its registered address, dropped in
    the inbox by the clerk, or accepted by the clerk with a reason — replaces it whatever the
    times (domain.collecting.merge_returns)."""

    registered = "登记邮箱"
    unregistered = "未登记地址"
    inbox = "收件箱文件"
    clerk = "人工接收"


class HolidayType(str, Enum):
    off = "休"
    work = "班"
    checked = "已核对"  # the year's schedule is typed in whole: no longer estimated (domain.calendar)


CellValue = str | int | float | date | datetime | None


class Record(BaseModel):
    """Base of every row record: source row and user-added columns travel with it."""

    model_config = ConfigDict(validate_assignment=False, extra="forbid")

    row: int | None = Field(default=None, exclude=True)
    extras: dict[str, Any] = Field(default_factory=dict, exclude=True)


class Unit(Record):
    """An organisation in 单位名录; ``aliases`` are other names seen for it in documents."""

    name: str = ""
    aliases: list[str] = Field(default_factory=list)
    type: str = ""
    contact: str = ""
    phone: str = ""
    email: str = ""


# 任务编号 (DESIGN §3): 2024-ZD-001, 2024-MS-03, sub-item 2024-MS-03-2
TASK_ID = re.compile(r"^(\d{4})-(ZD|MS)-(\d{2,4})(?:-(\d{1,2}))?$")  # a province lists 1,000+ key tasks


class Task(Record):
    """One supervised item. A 民生实事 sub-item has id ``2024-MS-03-2`` under ``2024-MS-03``."""

    id: str = ""
    kind: str = ""
    category: str = ""
    seq: str = ""
    content: str = ""
    short_name: str = ""  # 任务简称: what a bulletin's table prints instead of a long 工作任务
    leaders: list[str] = Field(default_factory=list)
    lead_units: list[str] = Field(default_factory=list)
    co_units: list[str] = Field(default_factory=list)
    deadline: CellValue = None
    cadence: str = ""
    status: str = ""
    note: str = ""

    @property
    def kind_enum(self) -> TaskKind | None:
        return _enum_or_none(TaskKind, self.kind)

    @property
    def parent_id(self) -> str | None:
        """Id of the project a sub-item belongs to, or None for a top-level task."""
        m = TASK_ID.match(self.id)
        if m and m.group(4):
            return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
        return None


class NodeTarget(Record):
    """What a task must achieve by the end of a period (季度/月度目标安排表)."""

    task_id: str = ""
    period: str = ""
    target: str = ""
    status: str = ""
    confirmed_on: CellValue = None
    change_note: str = ""


class Feedback(Record):
    """One unit's return on one task for one period (附件6/7 落实情况反馈表)."""

    task_id: str = ""
    period: str = ""
    unit: str = ""
    completion: str = ""
    progress: str = ""
    problems: str = ""
    plan: str = ""
    self_light: str = ""
    received_at: CellValue = None
    late: str = ""
    source_file: str = ""
    file_hash: str = ""


class LightRecord(Record):
    """The verdict for a task in a period, with the streak and the reason (DESIGN §5)."""

    task_id: str = ""
    period: str = ""
    light: str = ""
    streak: int | None = None
    basis: str = ""
    self_light: str = ""
    override: str = ""
    override_note: str = ""


class Submission(Record):
    """Issue/return status of one unit for one period (报送情况)."""

    period: str = ""
    unit: str = ""
    issued_at: CellValue = None
    due_at: CellValue = None
    send_status: str = ""
    received_at: CellValue = None
    status: str = ""
    problem: str = ""
    source: str = ""  # ReturnSource of the accepted return ("" in rows recorded before 来源 existed)
    filler: str = ""  # 填报人, 联系电话, 审核人 of the accepted return
    phone: str = ""
    reviewer: str = ""

    @property
    def accepted(self) -> bool:
        """Whether a return of the unit stands for the period (已报送 or 逾期报送)."""
        return self.status in (SubmissionState.on_time.value, SubmissionState.late.value)


class ValidationRow(Record):
    """A row of 校验结果 — a finding as the clerk sees it in Excel."""

    sheet: str = ""
    at_row: int | None = None
    column: str = ""
    level: str = ""
    code: str = ""
    message: str = ""


class ChangeLogEntry(Record):
    """One change to the ledger: who/what/when, old and new value, and its source."""

    time: CellValue = None
    action: str = ""
    object: str = ""
    field: str = ""
    old: str = ""
    new: str = ""
    source: str = ""


class Setting(Record):
    key: str = ""
    value: CellValue = None


class Holiday(Record):
    """A 节假日 override: 休 (day off) or 班 (make-up working day)."""

    day: CellValue = None
    type: str = ""
    note: str = ""


class Adjustment(Record):
    """A 考核调整 row: points the office adds to or takes from a unit's 绩效考核 score for
    something the lights cannot show (a commendation, a verified complaint), with the
    reason and who approved it — the 督查方案 leaves such judgements to the district's leaders."""

    unit: str = ""
    points: CellValue = None
    reason: str = ""
    approver: str = ""


class Ledger(BaseModel):
    """Everything in a ledger workbook, as plain records. Services change it; stores save it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    tasks: list[Task] = Field(default_factory=list)
    targets: list[NodeTarget] = Field(default_factory=list)
    feedback: list[Feedback] = Field(default_factory=list)
    lights: list[LightRecord] = Field(default_factory=list)
    units: list[Unit] = Field(default_factory=list)
    submissions: list[Submission] = Field(default_factory=list)
    validation: list[ValidationRow] = Field(default_factory=list)
    changelog: list[ChangeLogEntry] = Field(default_factory=list)
    settings: list[Setting] = Field(default_factory=list)
    holidays: list[Holiday] = Field(default_factory=list)
    adjustments: list[Adjustment] = Field(default_factory=list)

    def set_setting(self, key: str, value: Any) -> None:
        """Write one 设置 value (a key the settings module declares)."""
        set_value(self.settings, key, value, Setting)

    @property
    def year(self) -> int | None:
        """The ledger's year (设置 年度); None if missing or not a number."""
        return year_of(self.settings)


def _enum_or_none(enum_cls: type[Enum], value: str):
    try:
        return enum_cls(value)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def parse_period_or_none(text: str) -> Period | None:
    """A period from cell text, or None when it cannot be read (validation reports it).

    Cached: a year's ledger names a few dozen periods in tens of thousands of rows, and
    Period is immutable, so every row can share one parsed value."""
    try:
        return Period.parse(text)
    except ValueError:
        return None
