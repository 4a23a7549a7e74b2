"""The ledger workbook contract (DESIGN §3): sheet names, column headers, field mapping.

Headers are user interface: Chinese, exact and stable. Code addresses columns by header
text, never by letter, so users may reorder columns or add their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .models import (
    Adjustment,
    ChangeLogEntry,
    Completion,
    Feedback,
    Holiday,
    HolidayType,
    LightColor,
    LightRecord,
    NodeTarget,
    Record,
    ReturnSource,
    Setting,
    Submission,
    SubmissionState,
    TargetStatus,
    Task,
    TaskKind,
    TaskStatus,
    Unit,
    UnitType,
    ValidationRow,
)
from .periods import Cadence

ValueKind = Literal["text", "list", "date", "datetime", "int", "any"]


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    kind: ValueKind = "text"
    width: int = 14
    choices: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class SheetSpec:
    name: str
    table: str  # ListObject name (ASCII, Excel requires a valid identifier)
    attr: str  # attribute of Ledger holding the records
    record: type[Record]
    columns: tuple[Column, ...] = field(default_factory=tuple)
    # A sheet added after ledgers were already in use: a ledger without it loads without a
    # finding and is not given one by an ordinary save (the command that needs it adds it).
    optional: bool = False

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)


def _choices(enum_cls) -> tuple[str, ...]:
    return tuple(e.value for e in enum_cls)


LIGHTS = _choices(LightColor)
YES_NO = ("是", "否")

TASKS = SheetSpec("任务台账", "tblTasks", "tasks", Task, (
    Column("任务编号", "id", width=16, required=True),
    Column("类别", "kind", width=10, choices=_choices(TaskKind), required=True),
    Column("大类", "category", width=16),
    Column("序号", "seq", width=7),
    Column("工作任务", "content", width=60, required=True),
    Column("责任领导", "leaders", "list", width=14),
    Column("牵头单位", "lead_units", "list", width=26, required=True),
    Column("配合单位", "co_units", "list", width=26),
    Column("完成时限", "deadline", "date", width=12),  # a date cell; text deadlines of older ledgers still load
    Column("报送周期", "cadence", width=10, choices=_choices(Cadence), required=True),
    Column("状态", "status", width=10, choices=_choices(TaskStatus), required=True),
    Column("备注", "note", width=20),
    Column("任务简称", "short_name", width=18),  # filled by the office for long tasks: the bulletin's tables print it
))

TARGETS = SheetSpec("节点目标", "tblTargets", "targets", NodeTarget, (
    Column("任务编号", "task_id", width=16, required=True),
    Column("周期", "period", width=10, required=True),
    Column("节点目标", "target", width=60, required=True),
    Column("确认状态", "status", width=12, choices=_choices(TargetStatus)),
    Column("确认日期", "confirmed_on", "any", width=12),
    Column("变更说明", "change_note", width=30),
))

FEEDBACK = SheetSpec("反馈记录", "tblFeedback", "feedback", Feedback, (
    Column("任务编号", "task_id", width=16, required=True),
    Column("周期", "period", width=10, required=True),
    Column("报送单位", "unit", width=22, required=True),
    Column("完成情况", "completion", width=10, choices=_choices(Completion)),
    Column("进展情况", "progress", width=50),
    Column("存在问题", "problems", width=30),
    Column("下一步计划", "plan", width=30),
    Column("自评灯色", "self_light", width=10, choices=LIGHTS),
    Column("报送时间", "received_at", "any", width=18),
    Column("是否逾期", "late", width=10, choices=YES_NO),
    Column("来源文件", "source_file", width=30),
    Column("文件指纹", "file_hash", width=20),
))

LIGHTS_SHEET = SheetSpec("亮灯记录", "tblLights", "lights", LightRecord, (
    Column("任务编号", "task_id", width=16, required=True),
    Column("周期", "period", width=10, required=True),
    Column("灯色", "light", width=8, choices=LIGHTS),
    Column("连续黄灯", "streak", "int", width=10),
    Column("依据", "basis", width=40),
    Column("自评灯色", "self_light", width=10, choices=LIGHTS),
    Column("核定灯色", "override", width=10, choices=LIGHTS),
    Column("核定说明", "override_note", width=30),
))

UNITS = SheetSpec("单位名录", "tblUnits", "units", Unit, (
    Column("单位名称", "name", width=28, required=True),
    Column("别名", "aliases", "list", width=30),
    Column("类型", "type", width=10, choices=_choices(UnitType), required=True),
    Column("联系人", "contact", width=10),
    Column("联系电话", "phone", width=14),
    Column("邮箱", "email", width=26),
))

SUBMISSIONS = SheetSpec("报送情况", "tblSubmissions", "submissions", Submission, (
    Column("周期", "period", width=10, required=True),
    Column("单位", "unit", width=20, required=True),
    Column("下发时间", "issued_at", "any", width=16),
    Column("截止时间", "due_at", "any", width=12),
    Column("发送状态", "send_status", width=10),
    Column("回收时间", "received_at", "any", width=16),
    Column("状态", "status", width=10, choices=_choices(SubmissionState)),
    Column("问题", "problem", width=28),
    Column("来源", "source", width=10, choices=_choices(ReturnSource)),
    Column("填报人", "filler", width=10),
    Column("联系电话", "phone", width=14),
    Column("审核人", "reviewer", width=10),
))

VALIDATION = SheetSpec("校验结果", "tblValidation", "validation", ValidationRow, (
    Column("工作表", "sheet", width=16),
    Column("行", "at_row", "int", width=6),
    Column("列", "column", width=12),
    Column("级别", "level", width=8, choices=("错误", "警告", "提示")),
    Column("代码", "code", width=22),
    Column("说明", "message", width=80),
))

CHANGELOG = SheetSpec("变更日志", "tblChangeLog", "changelog", ChangeLogEntry, (
    Column("时间", "time", "any", width=18),
    Column("操作", "action", width=10),
    Column("对象", "object", width=18),
    Column("字段", "field", width=12),
    Column("旧值", "old", width=30),
    Column("新值", "new", width=30),
    Column("来源", "source", width=40),
))

SETTINGS = SheetSpec("设置", "tblSettings", "settings", Setting, (
    Column("项目", "key", width=18, required=True),
    Column("值", "value", "any", width=40),
))

HOLIDAYS = SheetSpec("节假日", "tblHolidays", "holidays", Holiday, (
    Column("日期", "day", "any", width=12, required=True),
    Column("类型", "type", width=8, choices=_choices(HolidayType), required=True),
    Column("说明", "note", width=24),
))

ADJUSTMENTS = SheetSpec("考核调整", "tblAdjustments", "adjustments", Adjustment, (
    Column("单位", "unit", width=28, required=True),
    Column("分值", "points", "any", width=10, required=True),
    Column("事由", "reason", width=50),
    Column("批准人", "approver", width=14),
), optional=True)

OVERVIEW_SHEET = "亮灯总览"

# Sheet order in a new ledger (亮灯总览 is a generated view placed after 亮灯记录).
DATA_SHEETS: tuple[SheetSpec, ...] = (
    TASKS, TARGETS, FEEDBACK, LIGHTS_SHEET, UNITS, SUBMISSIONS, VALIDATION, CHANGELOG, SETTINGS, HOLIDAYS, ADJUSTMENTS,
)
SHEET_ORDER: tuple[str, ...] = (
    TASKS.name, TARGETS.name, FEEDBACK.name, LIGHTS_SHEET.name, OVERVIEW_SHEET,
    UNITS.name, SUBMISSIONS.name, VALIDATION.name, CHANGELOG.name, SETTINGS.name, HOLIDAYS.name, ADJUSTMENTS.name,
)
