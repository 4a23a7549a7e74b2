"""Changes to the ledger that every use case makes the same way, each logged in 变更日志.

The ledger is the office's record: whoever reads it later (an auditor, the 绩效考核, the
office itself after a dispute with a unit) must be able to see who changed what and when.
So every change a command makes to a row of record goes through one function here, which
appends its 变更日志 entries. Pure: time is handed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable

from .due import DueDates
from .lights import LightRules, light_tasks
from .models import (TASK_ID, ChangeLogEntry, Ledger, LightRecord, NodeTarget, Submission, SubmissionState, TargetStatus,
                     parse_period_or_none)
from .periods import Period
from .units import UnitDirectory

BULLETIN = "通报"  # 变更日志 操作 of a published bulletin; 对象 is its sheet, 新值 its 期号
COLLECTED = "收集文件"  # 变更日志 操作 of one accepted file; its 来源 ends with the file's SHA-256
LIGHT_FIELDS = (("light", "灯色"), ("streak", "连续黄灯"), ("basis", "依据"), ("self_light", "自评灯色"))


def record_issue(ledger: Ledger, submissions, period: str, unit: str, now: datetime, due_day: date) -> None:
    """Create or refresh the 报送情况 row of (period, unit): issued now, not yet sent or
    returned. A re-issue is logged, because it makes the unit's earlier form void."""
    row = submissions.get(period, unit)
    if row is None:
        row = Submission(period=period, unit=unit)
        submissions.add(row)
    elif row.issued_at:
        ledger.changelog.append(ChangeLogEntry(time=now, action="下发", object=unit, field=f"{period}下发时间",
                                               old=str(row.issued_at), new=now.isoformat(sep=" "), source="duban issue"))
    row.issued_at, row.due_at = now, due_day
    row.send_status = row.send_status or "未发送"
    row.status = row.status or SubmissionState.missing.value


# 变更说明 of a confirmed target a unit proposes to change (collect writes it, confirm --approve reads it)
PROPOSAL = re.compile(r"报送拟调整为：(?P<target>.*)（待分管领导同意）$", re.S)


def proposal_note(unit: str, day: date, target: str) -> str:
    """The 变更说明 of a target a unit proposes to change: the confirmed one stands until the
    分管领导 agrees (督查方案: a confirmed target changes only with the 分管区领导's consent)."""
    return f"{unit}{day:%Y-%m-%d}报送拟调整为：{target}（待分管领导同意）"


@dataclass
class Confirmation:
    """What ``confirm`` did: targets confirmed, proposals approved, and what it left alone."""

    confirmed: list[str] = field(default_factory=list)  # "任务编号 周期"
    approved: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)  # 待报送 rows with no target text: nothing to confirm


def confirm_targets(ledger: Ledger, now: datetime, source: str, *, selected: Callable[[NodeTarget], bool] = lambda t: True,
                    approve: bool = False, by: str = "", note: str = "") -> Confirmation:
    """The office confirms returned node targets still 待报送 — or, with ``approve``, applies the
    调整待批 proposals the 分管领导 (``by``) agreed to: the new target replaces the old, the old
    one stays in 变更说明. Each change is logged in 变更日志 with who and why: a confirmed target
    is what the unit is judged against, and may change later only with a recorded approval."""
    done = Confirmation()
    who = "，".join(x for x in (by and f"{'分管领导' if approve else '确认人'}：{by}", note and f"说明：{note}") if x)
    source = f"{source}（{who}）" if who else source
    for target in ledger.targets:
        if not selected(target):
            continue
        key = f"{target.task_id} {target.period}"
        log = lambda field, old, new: ledger.changelog.append(ChangeLogEntry(  # noqa: E731
            time=now, action="批准调整" if approve else "确认目标", object=target.task_id, field=f"{target.period} {field}",
            old=old, new=new, source=source))
        if approve and target.status == TargetStatus.change_pending.value:
            found = PROPOSAL.search(target.change_note or "")
            if found is None:
                continue
            new_target = found["target"].strip()
            kept = f"原节点目标：{target.target}；{now:%Y-%m-%d}经{by or '分管领导'}同意调整" + (f"（{note}）" if note else "")
            log("节点目标", target.target, new_target)
            log("变更说明", target.change_note, kept)
            log("确认状态", target.status, TargetStatus.confirmed.value)
            target.target, target.change_note = new_target, kept
            target.status, target.confirmed_on = TargetStatus.confirmed.value, now.date()
            done.approved.append(key)
        elif not approve and target.status == TargetStatus.pending.value:
            if not target.target.strip():
                done.empty.append(key)
                continue
            log("确认状态", target.status, TargetStatus.confirmed.value)
            target.status, target.confirmed_on = TargetStatus.confirmed.value, now.date()
            done.confirmed.append(key)
    return done


def bulletin_number(ledger: Ledger, sheet: str, start: int) -> tuple[int, bool]:
    """The 期号 of a bulletin: kept when the same bulletin is published again (a corrected
    reissue is the same issue of the journal), else the next number after every earlier
    bulletin (or ``start``, 设置 起始期号, for the first). (number, is new)."""
    numbers: dict[str, int] = {}
    for e in ledger.changelog:
        if e.action == BULLETIN and e.new.isdigit():
            numbers[e.object] = int(e.new)
    if sheet in numbers:
        return numbers[sheet], False
    return max([start - 1, *numbers.values()]) + 1, True


def accepted_hashes(ledger: Ledger) -> set[str]:
    """Full SHA-256 of the files accepted before, from the ledger (反馈记录 and 变更日志). The
    same bytes are never handled twice, so collecting one inbox again changes nothing."""
    accepted = {f.file_hash for f in ledger.feedback if f.file_hash}
    accepted |= {e.source.rsplit("#", 1)[-1] for e in ledger.changelog if e.action == COLLECTED and "#" in e.source}
    return accepted


def light_order(record: LightRecord) -> tuple:
    """亮灯记录 by task (2022-ZD-99 before 2022-ZD-100 before 2022-ZD-1000), then period."""
    p = parse_period_or_none(record.period)
    m = TASK_ID.match(record.task_id or "")
    task = (m.group(1), m.group(2), int(m.group(3)), int(m.group(4) or 0), "") if m else ("", "", 0, 0, record.task_id)
    return (task, p.sort_key() if p else (9999, 99, 9))


def relight(ledger: Ledger, period: Period, due: DueDates, rules: LightRules, now: datetime,
            where: Callable[[str, Period], dict] = lambda task_id, p: {}):
    """The ledger's lights of P's cadence recomputed over the whole history (DESIGN §5):
    every changed field of a 亮灯记录 row logged in 变更日志, the office's own columns kept,
    亮灯记录 sorted. Returns the domain's run (verdicts and findings). 单位名录 goes with it: a
    collective lead unit is each of its units, and every lead unit answers for the task."""
    existing = {(r.task_id, r.period): r for r in ledger.lights}
    run = light_tasks(ledger.tasks, ledger.targets, ledger.feedback, ledger.lights, period, due, rules, where,
                      directory=UnitDirectory(ledger.units))
    source = f"duban light --period {period}"
    fresh = {}
    for verdict in run.verdicts:
        record = verdict.record()
        old = existing.get((record.task_id, record.period))
        if old is not None:
            record.extras = old.extras
        for name, label in LIGHT_FIELDS:
            before, after = getattr(old, name, None) if old else None, getattr(record, name)
            if (old is None and name == "light") or (old is not None and before != after):
                ledger.changelog.append(ChangeLogEntry(time=now, action="亮灯", object=record.task_id,
                                                       field=f"{record.period}{label}", old="" if before is None else str(before),
                                                       new="" if after is None else str(after), source=source))
        fresh[(record.task_id, record.period)] = record
    # lights that were not recomputed stay as they are: the history of a task that was closed or
    # cancelled later (a red light led to an 约谈) must never be rewritten
    kept = [r for r in ledger.lights if (r.task_id, r.period) not in fresh]
    ledger.lights = sorted([*kept, *fresh.values()], key=light_order)
    return run
