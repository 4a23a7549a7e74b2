"""Validation of a ledger: a list of plain check functions, each returning findings.

Like beancount's validations, every rule is a function ``(ledger, context) -> list[Finding]``
with one concern; :data:`CHECKS` lists them and :func:`validate` runs them all. Findings
carry the Excel row and the header so the clerk can jump to the cell (DESIGN §7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Callable

from .cells import parse_cell_date  # re-exported: io.calendar_source and older callers import it from here
from .deadlines import overdue_days, read_deadline
from .findings import Finding, error, info, warning
from .models import TASK_ID, Ledger, Record, TaskStatus, parse_period_or_none
from .periods import Cadence
from .settings import read_settings
from .schema import (
    DATA_SHEETS,
    FEEDBACK,
    HOLIDAYS,
    SETTINGS,
    TARGETS,
    TASKS,
    UNITS,
    SheetSpec,
)
from .scoring import adjustment_findings  # the score's own rule, so validate and score agree
from .units import Match, UnitDirectory, collective, names_itself, normalize_name

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Context:
    """What a rule may need beyond the records: the ledger file name and today's date."""

    file: str
    today: date


def _at(spec: SheetSpec, record: Record, field: str, ctx: Context) -> dict:
    return {"file": ctx.file, "sheet": spec.name, "row": record.row, "column": spec.column(field).header}


def check_required(ledger: Ledger, ctx: Context) -> list[Finding]:
    """Required cells must not be blank: a task without 牵头单位 cannot be issued to anyone."""
    out = []
    for spec in (TASKS, TARGETS, FEEDBACK, UNITS, HOLIDAYS):
        for record in getattr(ledger, spec.attr):
            values = record.model_dump()
            for column in spec.columns:
                if column.required and values.get(column.field) in (None, "", []):
                    out.append(error("required-field", f"【{column.header}】不能为空。", **_at(spec, record, column.field, ctx),
                                     hint=f"补填【{column.header}】。"))
    return out


def check_choices(ledger: Ledger, ctx: Context) -> list[Finding]:
    """Enumerated columns accept only their listed values, because lights and counts key on them."""
    out = []
    for spec in DATA_SHEETS:
        for record in getattr(ledger, spec.attr):
            values = record.model_dump()
            for column in spec.columns:
                value = values.get(column.field)
                if column.choices and value not in (None, "") and value not in column.choices:
                    out.append(error("invalid-choice", f"【{column.header}】的值“{value}”无效。", **_at(spec, record, column.field, ctx),
                                     hint="只能填写：" + "、".join(column.choices) + "（可用下拉列表选择）。"))
    return out


def check_task_ids(ledger: Ledger, ctx: Context) -> list[Finding]:
    """任务编号 must be unique and well-formed: returns and lights are matched by it."""
    out = []
    seen: dict[str, int | None] = {}
    for task in ledger.tasks:
        if not task.id:
            continue
        at = _at(TASKS, task, "id", ctx)
        if task.id in seen:
            out.append(error("duplicate-task-id", f"任务编号“{task.id}”与第{seen[task.id]}行重复。", **at,
                             hint="每项任务的编号必须唯一，请修改其中一行。"))
        else:
            seen[task.id] = task.row
        m = TASK_ID.match(task.id)
        if not m:
            out.append(warning("bad-task-id", f"任务编号“{task.id}”不符合“年度-ZD-001 / 年度-MS-03-2”格式。", **at,
                               hint="重点任务写作 2024-ZD-001，民生实事写作 2024-MS-03，子项写作 2024-MS-03-2。"))
            continue
        kind = task.kind_enum
        if kind and m.group(2) != kind.id_code:
            out.append(warning("task-id-kind-mismatch", f"任务编号“{task.id}”与类别“{task.kind}”不一致。", **at,
                               hint=f"{kind.value}的编号中应为“{kind.id_code}”。"))
        if ledger.year and int(m.group(1)) != ledger.year:
            out.append(warning("task-id-year", f"任务编号“{task.id}”的年度与台账年度{ledger.year}不一致。", **at))
    return out


def _unit_finding(name: str, directory: UnitDirectory, at: dict) -> Finding | None:
    res = directory.resolve(name)
    group = collective(res.name) if res.match is Match.collective else None
    if group is not None and not group.expandable:  # 相关镇街道: the office must name the units
        return error("unnamed-collective", f"第{at.get('row') or '?'}行【{at.get('column', '')}】“{name}”须明确具体单位。", **at,
                     hint="把统称改为具体单位名称，多个用“、”隔开；明确前不下发反馈表，通报中也不列出。")
    if res.match in (Match.exact, Match.collective):
        if group is not None and not directory.expand(res.name):
            return warning("collective-empty", f"“{name}”是统称，但单位名录中没有对应类型的单位。", **at,
                           hint="在【单位名录】中登记各镇（街道）并将类型设为“镇街”。")
        return None
    if res.match is Match.alias:
        return info("unit-alias", f"“{name}”是“{res.name}”的别名。", **at, hint=f"建议统一写作“{res.name}”。")
    if res.name:
        return warning("unknown-unit", f"“{name}”不在单位名录中，是否为“{res.name}”？", **at,
                       hint=f"改为“{res.name}”，或在【单位名录】中将其登记为别名。")
    guess = f"是否为“{res.suggestions[0]}”？" if res.suggestions else ""
    return error("unknown-unit", f"“{name}”不在单位名录中。{guess}", **at,
                 hint="改为单位名录中的名称，或先在【单位名录】中新增该单位。")


def check_units(ledger: Ledger, ctx: Context) -> list[Finding]:
    """Every unit named in a task must be in 单位名录, or sheets and emails go nowhere."""
    directory = UnitDirectory(ledger.units)
    out = []
    for task in ledger.tasks:
        for fld in ("lead_units", "co_units"):
            for name in getattr(task, fld):
                f = _unit_finding(name, directory, _at(TASKS, task, fld, ctx))
                if f:
                    out.append(f)
    for fb in ledger.feedback:
        if fb.unit:
            f = _unit_finding(fb.unit, directory, _at(FEEDBACK, fb, "unit", ctx))
            if f:
                out.append(f)
    return out


def check_unit_directory(ledger: Ledger, ctx: Context) -> list[Finding]:
    """Names and aliases must point to one unit only; emails must look like addresses.

    Spellings are compared as the directory compares them (normalised), because 区财政局 and
    区 财政局 are one unit to every lookup: a second row would be silently shadowed.
    """
    out = []
    owner: dict[str, tuple[str, int | None]] = {}  # spelling → (unit name, row)
    names = [n for n in (normalize_name(u.name) for u in ledger.units) if n]
    for unit in ledger.units:
        name = normalize_name(unit.name)
        if name and collective(name) is not None:
            out.append(warning("collective-in-directory", f"“{unit.name}”是统称，不是单位，不应登记在单位名录中。",
                               **_at(UNITS, unit, "name", ctx), hint="删除该行；在任务中写明具体单位，或使用“各镇街”等会自动展开的统称。"))
        elif name and (parts := _glued_parts(name, names)):
            out.append(warning("glued-unit-name", f"“{unit.name}”像是“{parts[0]}”和“{parts[1]}”两个单位连在一起。",
                               **_at(UNITS, unit, "name", ctx), hint="如是两个单位，在任务中用“、”分开填写，并删除该行。"))
        if name:
            if name in owner and owner[name][0] == name:
                out.append(error("duplicate-unit", f"单位“{unit.name}”与第{owner[name][1]}行重复登记。",
                                 **_at(UNITS, unit, "name", ctx), hint="删除重复的行，或合并两行的联系方式。"))
            elif name in owner:
                out.append(error("ambiguous-unit-name", f"“{unit.name}”已是“{owner[name][0]}”的别名。",
                                 **_at(UNITS, unit, "name", ctx), hint="一个名称或别名只能属于一个单位。"))
            owner.setdefault(name, (name, unit.row))
            for alias in unit.aliases:
                key = normalize_name(alias)
                if not key or key == name:
                    continue
                if key in owner and owner[key][0] != name:
                    out.append(error("ambiguous-unit-name", f"别名“{alias}”同时指向“{owner[key][0]}”和“{name}”。",
                                     **_at(UNITS, unit, "aliases", ctx), hint="一个名称或别名只能属于一个单位。"))
                owner.setdefault(key, (name, unit.row))
        for address in re.split(r"[;；,，\s]+", unit.email.strip()):
            if address and not _EMAIL.match(address):
                out.append(error("bad-email", f"邮箱“{address}”格式不正确。", **_at(UNITS, unit, "email", ctx),
                                 hint="形如 name@example.gov.cn；多个地址用分号隔开。"))
    return out


def _glued_parts(name: str, names: list[str]) -> tuple[str, str] | None:
    """``埔前镇源南镇`` → (埔前镇, 源南镇): a directory name that is another unit's name followed or
    preceded by a name of its own (a town, a 区… name) — left by an import that glued lines."""
    for other in names:
        if other == name or len(other) < 3 or other not in name:
            continue
        rest = name[len(other):] if name.startswith(other) else name[: -len(other)] if name.endswith(other) else ""
        if rest and names_itself(rest, names):
            return (other, rest) if name.startswith(other) else (rest, other)
    return None


def check_leaders(ledger: Ledger, ctx: Context) -> list[Finding]:
    """Each task that is not cancelled needs its 责任领导: yellow notices are copied to the
    leader in charge, and bulletins group results by 分管领导."""
    return [
        warning("missing-leader", "该任务未填写责任领导。", **_at(TASKS, t, "leaders", ctx),
                hint="补填分管区领导，整改通知书需抄送分管领导。")
        for t in ledger.tasks
        if t.id and not t.leaders and t.status != TaskStatus.cancelled.value and t.parent_id is None
    ]


# (sheet, field, may lie in the future, must lie in the ledger year, accepted free text, hint);
# 完成时限 has its own check (check_deadlines): it is read as task lists write it
_DATE_FIELDS = (
    (TARGETS, "confirmed_on", False, False, None, "写作 2024-03-29。"),
    (FEEDBACK, "received_at", False, False, None, "写作 2024-04-08 10:30。"),
    (HOLIDAYS, "day", True, False, None, "写作 2027-01-01。"),
)


def check_dates(ledger: Ledger, ctx: Context) -> list[Finding]:
    """Dates must parse and be plausible: a 完成时限 outside the ledger year, or a confirmation
    or a return dated in the future, are typing errors that would distort deadlines."""
    out = []
    year = ledger.year
    for spec, field, future_ok, in_year, free_text, hint in _DATE_FIELDS:
        header = spec.column(field).header
        for record in getattr(ledger, spec.attr):
            value = getattr(record, field)
            if value in (None, ""):
                continue
            # a year-less 完成时限 (6月底前, 年底前) means the ledger year; other dates are read
            # elsewhere without a year, so they must carry one
            d = parse_cell_date(value, year if in_year else None)
            at = _at(spec, record, field, ctx)
            if d is None:
                if not (free_text and re.search(free_text, str(value))):
                    out.append(error("bad-date", f"{header}“{value}”不是有效日期。", **at, hint=hint))
            elif in_year and year and not (year <= d.year <= year + 1):
                out.append(error("date-out-of-range", f"{header}{d.isoformat()}不在{year}年度内。", **at,
                                 hint="核对年份是否录入错误。"))
            elif not future_ok and d > ctx.today:
                out.append(error("date-in-future", f"{header}{d.isoformat()}晚于今天。", **at, hint="核对日期是否录入错误。"))
    return out


def check_deadlines(ledger: Ledger, ctx: Context) -> list[Finding]:
    """完成时限 is a date cell of the ledger year (DESIGN §3). Text is read as task lists write
    it (domain.deadlines): readable text may become a date, unreadable or ambiguous text is
    flagged, 长期坚持 and the like are no deadline. A task past its deadline and not 已办结 or
    已取消 is 超期 (``ctx.today``), one finding per task."""
    out = []
    year = ledger.year
    for task in ledger.tasks:
        value = task.deadline
        if value in (None, ""):
            continue
        at = _at(TASKS, task, "deadline", ctx)
        read = read_deadline(value, year)
        if read.kind in ("invalid", "no-year"):
            why = "未写年份，且【设置】中没有年度" if read.kind == "no-year" else "不是有效日期"
            out.append(error("bad-date", f"完成时限“{value}”{why}。", **at,
                             hint="写作 2024-06-30、2024年6月底，或“长期”“持续推进”。"))
            continue
        if read.kind == "ambiguous":
            out.append(warning("deadline-ambiguous", f"完成时限“{value}”含多个时间，无法确定完成日期，不计超期。", **at,
                               hint="在【完成时限】中只填最终完成日期，分阶段的时间写在【备注】中。"))
            continue
        if read.kind == "unreadable":
            out.append(warning("deadline-unreadable", f"完成时限“{value}”无法识别为日期，不计超期。", **at,
                               hint="写作 2024-12-31、12月底前、三季度末或年底前；确无具体时限的写“长期”“持续推进”。"))
            continue
        if read.day is None:  # 长期坚持, 持续推进: no deadline
            continue
        if year and not (year <= read.day.year <= year + 1):
            out.append(error("date-out-of-range", f"完成时限{read.day.isoformat()}不在{year}年度内。", **at,
                             hint="核对年份是否录入错误。"))
            continue
        if read.text:
            moved = "，说明文字移入【备注】" if read.keeps_text else ""
            out.append(warning("deadline-text", f"完成时限“{value}”是文字，可改为日期{read.day.isoformat()}{moved}。", **at,
                               hint=f"在单元格中输入 {read.day.isoformat()}（日期格式），超期按该日期计算。"))
        days = overdue_days(read.day, task.status, ctx.today)
        if days is not None and task.id:
            out.append(warning("task-overdue", f"任务{task.id}超期未办结：完成时限{read.day.isoformat()}，已超期{days}天。", **at,
                               hint="督促牵头单位办结；已办结的将【状态】改为“已办结”。"))
    return out


def check_cadence(ledger: Ledger, ctx: Context) -> list[Finding]:
    """Key tasks report per quarter and 民生实事 per month: a target for the wrong kind of
    period would never be matched by a return and the task would turn yellow unfairly."""
    out = []
    tasks = {t.id: t for t in ledger.tasks if t.id}
    for task in ledger.tasks:
        kind = task.kind_enum
        if kind and task.cadence in (c.value for c in Cadence) and task.cadence != kind.cadence.value:
            out.append(warning("cadence-mismatch", f"{kind.value}通常按{kind.cadence.value}报送，此处为“{task.cadence}”。",
                               **_at(TASKS, task, "cadence", ctx), hint=f"如无特殊安排，改为“{kind.cadence.value}”。"))
    for spec, records in ((TARGETS, ledger.targets), (FEEDBACK, ledger.feedback)):
        for rec in records:
            if not rec.period:
                continue
            period = parse_period_or_none(rec.period)
            at = _at(spec, rec, "period", ctx)
            if period is None:
                out.append(error("bad-period", f"周期“{rec.period}”无法识别。", **at, hint="季度写作 2024Q1，月份写作 2024-03。"))
                continue
            if str(period) != rec.period:
                out.append(info("period-format", f"周期“{rec.period}”建议写作“{period}”。", **at))
            if ledger.year and period.year != ledger.year:
                out.append(warning("period-year", f"周期{period}不在台账年度{ledger.year}内。", **at))
            task = tasks.get(rec.task_id)
            if task and task.cadence in (c.value for c in Cadence) and period.cadence.value != task.cadence:
                out.append(error("cadence-mismatch", f"任务{task.id}按{task.cadence}报送，周期却是“{rec.period}”。", **at,
                                 hint="季度任务写作 2024Q1，月度任务写作 2024-03。"))
    return out


def check_references(ledger: Ledger, ctx: Context) -> list[Finding]:
    """Targets and returns must point at a task in 任务台账; orphans are typing errors."""
    ids = {t.id for t in ledger.tasks}
    out = []
    for spec, records, code, what in ((TARGETS, ledger.targets, "target-unknown-task", "节点目标"),
                                      (FEEDBACK, ledger.feedback, "feedback-unknown-task", "反馈")):
        for rec in records:
            if rec.task_id and rec.task_id not in ids:
                out.append(error(code, f"{what}所属的任务编号“{rec.task_id}”不在任务台账中。", **_at(spec, rec, "task_id", ctx),
                                 hint="核对任务编号，或先在【任务台账】中登记该任务。"))
    seen: dict[tuple[str, str], int | None] = {}
    for t in ledger.targets:
        period = parse_period_or_none(t.period)
        key = (t.task_id, str(period) if period else t.period)  # 2024Q1 and 2024年第一季度 are one period
        if t.task_id and t.period and key in seen:
            out.append(error("duplicate-target", f"任务{t.task_id}在{t.period}的节点目标与第{seen[key]}行重复。",
                             **_at(TARGETS, t, "period", ctx), hint="每项任务每个周期只保留一条节点目标。"))
        seen.setdefault(key, t.row)
    for task in ledger.tasks:
        parent = task.parent_id
        if parent and parent not in ids:
            out.append(error("orphan-subitem", f"子项{task.id}所属的项目{parent}不在任务台账中。", **_at(TASKS, task, "id", ctx)))
    return out


def check_settings(ledger: Ledger, ctx: Context) -> list[Finding]:
    """设置 values the rules depend on must be usable (the typed settings' own findings)."""
    _settings, out = read_settings(ledger.settings)
    return [f.model_copy(update={"file": ctx.file}) if not f.file else f for f in out]


def check_adjustments(ledger: Ledger, ctx: Context) -> list[Finding]:
    """考核调整 rows must name a unit of 单位名录, a number, a reason and an approver: a score
    change nobody can trace is not applied (:mod:`.scoring`)."""
    return [f.model_copy(update={"file": ctx.file}) for f in adjustment_findings(ledger)]


Check = Callable[[Ledger, Context], list[Finding]]

CHECKS: tuple[Check, ...] = (
    check_settings,
    check_required,
    check_choices,
    check_task_ids,
    check_units,
    check_unit_directory,
    check_leaders,
    check_dates,
    check_deadlines,
    check_cadence,
    check_references,
    check_adjustments,
)


def validate(ledger: Ledger, ctx: Context) -> list[Finding]:
    """Run every check; findings sorted by sheet, row and column for the 校验结果 sheet."""
    findings = [f for check in CHECKS for f in check(ledger, ctx)]
    order = {spec.name: i for i, spec in enumerate(DATA_SHEETS)}
    return sorted(findings, key=lambda f: (order.get(f.sheet, 99), f.row or 0, f.column, f.code))

