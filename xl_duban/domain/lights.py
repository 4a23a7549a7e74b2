"""Light-up (亮灯) with streak escalation (DESIGN §5) — pure functions over a task's history.

The 督查方案 says: green when the node target is met on time, yellow when not, red after two
consecutive yellows; a yellow brings a 督查整改通知书, a red an 约谈 of the unit head. Because
a red light has consequences for people, every light carries a one-sentence 依据, the office
can override (核定) any light with a stated reason, and the whole history is recomputed on
every run so a late return or an override in an earlier period re-flows every later streak.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Callable, Iterable, TypeVar

from .cells import parse_cell_date, parse_cell_datetime
from .findings import Finding, error, warning
from .models import Completion, Feedback, LightColor, LightRecord, NodeTarget, Task, TaskStatus, parse_period_or_none
from .periods import Period
from .settings import Settings
from .units import normalize_name

_LIGHT_SPELLINGS = {
    LightColor.green: ("绿灯", "绿", "green", "g", "✓", "√", "🟢", "绿色"),
    LightColor.yellow: ("黄灯", "黄", "yellow", "y", "🟡", "黄色"),
    LightColor.red: ("红灯", "红", "red", "r", "✗", "×", "🔴", "红色"),
}
_COMPLETION_SPELLINGS = {
    Completion.done: ("已完成", "完成", "done", "是", "✓", "√"),
    Completion.not_done: ("未完成", "未完成目标", "没完成", "否", "进行中", "推进中", "not done", "×", "✗"),
    Completion.closed: ("已办结", "办结", "closed"),
}


E = TypeVar("E", bound=Enum)


def _key(text: object) -> str:
    return unicodedata.normalize("NFKC", str(text or "")).strip().lower()


def _index(spellings: dict[E, tuple[str, ...]]) -> dict[str, E]:
    """Spelling → value. Every spelling is its own key (already NFKC, stripped, lower case),
    so a text found here as typed needs no normalising — the drop-down's own words, which
    is what nearly every cell holds."""
    index: dict[str, E] = {}
    for value, words in spellings.items():
        for word in words:
            assert _key(word) == word, word
            index.setdefault(word, value)
    return index


_LIGHTS, _COMPLETIONS = _index(_LIGHT_SPELLINGS), _index(_COMPLETION_SPELLINGS)


def _lookup(text: object, index: dict[str, E]) -> E | None:
    """The enum value one of whose spellings ``text`` is (NFKC, case and spaces forgiven)."""
    found = index.get(text) if isinstance(text, str) else None
    return found if found is not None else index.get(_key(text))


def normalize_light(text: object) -> LightColor | None:
    """A light from what people type (绿/绿灯/green/G/✓ …); None if blank or unknown."""
    return _lookup(text, _LIGHTS)


def normalize_completion(text: object) -> Completion | None:
    """A 完成情况 from what people type (已完成/完成/是/✓ …); None if blank or unknown."""
    return _lookup(text, _COMPLETIONS)


@dataclass(frozen=True)
class LightRules:
    """The 设置 values the rules depend on (defaults are the 督查方案's)."""

    red_threshold: int = 2  # 红灯阈值: consecutive yellows that make a red
    missing_as: LightColor = LightColor.yellow  # 缺报视为
    late_yellow: bool = False  # 逾期报送视为 黄灯 (True) or 按内容 (False)

    @classmethod
    def of(cls, settings: Settings) -> "LightRules":
        """The rules of a ledger's typed 设置 (红灯阈值, 缺报视为, 逾期报送视为)."""
        return cls(red_threshold=settings.red_threshold, missing_as=LightColor(settings.missing_as),
                   late_yellow=settings.late_as == "黄灯")


@dataclass(frozen=True)
class Verdict:
    """The light of one task in one period, before it becomes a 亮灯记录 row."""

    task_id: str
    period: Period
    light: LightColor
    streak: int
    basis: str
    self_light: str = ""
    override: str = ""
    override_note: str = ""
    missing: bool = False  # no return at all (the service warns when that is before the deadline)

    def record(self) -> LightRecord:
        return LightRecord(task_id=self.task_id, period=str(self.period), light=self.light.value, streak=self.streak,
                           basis=self.basis, self_light=self.self_light, override=self.override,
                           override_note=self.override_note)


def period_name(period: Period) -> str:
    """How a 依据 names a period: 第二季度 / 3月 (the year is obvious in context)."""
    return period.label.removeprefix(f"{period.year}年")


def is_late(fb: Feedback, due: date | None) -> bool:
    """A return is late when marked so, or received after its due date: the 督查方案 counts
    逾期报送 against the unit even when the content is good."""
    if fb.late == "是":
        return True
    received = parse_cell_date(fb.received_at)
    return bool(due and received and received > due)


def _latest_per_unit(feedback: list[Feedback]) -> list[Feedback]:
    """Each unit's latest return (by 报送时间; none is oldest; on a tie the later row wins).

    A unit that corrects its return sends it again: only the correction counts, or an old
    未完成 would keep the task yellow forever.
    """
    def when(f: Feedback) -> tuple[int, datetime]:
        moment = parse_cell_datetime(f.received_at)
        return (1, moment) if moment else (0, datetime.min)

    latest: dict[str, Feedback] = {}
    for f in feedback:
        unit = normalize_name(f.unit)
        if unit not in latest or when(f) >= when(latest[unit]):
            latest[unit] = f
    chosen = {id(f) for f in latest.values()}
    return [f for f in feedback if id(f) in chosen]


def _combined(feedback: list[Feedback]) -> Completion | None:
    """Several lead units may report on one task: any 未完成 makes the task not done.

    ``feedback`` must already be one return per unit (:func:`_latest_per_unit`).
    """
    values = [normalize_completion(f.completion) for f in feedback]
    if any(v is Completion.not_done for v in values):
        return Completion.not_done
    if any(v is Completion.closed for v in values):
        return Completion.closed
    if values and all(v is Completion.done for v in values):
        return Completion.done
    return None


def light_task(
    task: Task,
    periods: list[Period],
    targets: dict[Period, NodeTarget],
    feedback: dict[Period, list[Feedback]],
    overrides: dict[Period, LightRecord],
    due: Callable[[Period], date | None],
    rules: LightRules,
    where: Callable[[Period], dict] = lambda p: {},
) -> tuple[list[Verdict], list[Finding]]:
    """Lights of one task over ``periods`` (ascending), with streaks carried across them.

    A period without a node target gets no light and leaves the streak as it is: 连续两次
    亮黄灯 counts the checks that happened. After a period reported 已办结 nothing is lit any
    more. A task marked 已办结 in 任务台账 keeps its past — every period up to and including
    the last one with any return is lit as usual — and gets no light in later periods. A
    cancelled task gets no verdicts (the service keeps its existing records).
    """
    verdicts: list[Verdict] = []
    findings: list[Finding] = []
    streak = 0
    if task.status == TaskStatus.cancelled.value:
        return [], []
    if task.status == TaskStatus.done.value:
        reported = [p for p, rows in feedback.items() if rows]
        last = max(reported, key=Period.sort_key) if reported else None
        periods = [p for p in periods if last is not None and not last < p]
    for period in periods:
        if period not in targets:
            continue
        reports = _latest_per_unit(feedback.get(period, []))
        completion = _combined(reports)
        name = period_name(period)
        due_day = due(period) if reports else None
        late = any(is_late(f, due_day) for f in reports)
        missing = not reports
        if missing:
            computed, basis = rules.missing_as, f"{name}未报送"
        elif completion is None:
            computed, basis = LightColor.yellow, f"{name}反馈未填写完成情况"
        elif completion in (Completion.done, Completion.closed):
            computed = LightColor.green
            basis = f"{name}任务已办结" if completion is Completion.closed else f"{name}节点目标已完成"
        else:
            computed, basis = LightColor.yellow, f"{name}节点目标未完成"
        if late and not missing:
            if rules.late_yellow and computed is LightColor.green:
                computed, basis = LightColor.yellow, basis + "，但逾期报送"
            else:
                basis += "（逾期报送）"
        override = overrides.get(period)
        override_value, override_note = (override.override, override.override_note) if override else ("", "")
        chosen = normalize_light(override_value)
        if override_value and chosen is None:
            findings.append(error("invalid-override", f"核定灯色“{override_value}”无效。", **where(period), subject=f"{task.id} {period}", column="核定灯色",
                                  hint="只能填写 绿灯、黄灯 或 红灯。"))
        elif chosen and not override_note.strip():
            findings.append(error("override-without-reason", f"{task.id} {period} 核定为{chosen.value}，但未填写核定说明，核定未生效。",
                                  **where(period), subject=f"{task.id} {period}", column="核定说明", hint="填写核定依据（如：经分管领导同意，某月某日已完成）。"))
            chosen = None
        final = chosen or computed
        # the streak counts consecutive periods whose *final* light is not green
        streak = 0 if final is LightColor.green else streak + 1
        escalated = not chosen and final is LightColor.yellow and streak >= rules.red_threshold
        light = LightColor.red if escalated else final
        if chosen:
            basis = f"经核定为{chosen.value}：{override_note.strip()}（系统判定：{basis}）"
        elif escalated:
            basis += f"，连续{streak}次黄灯，亮红灯"
        elif light is LightColor.red:  # red in its own right (缺报视为 红灯), not by a streak
            basis += "，亮红灯"
        elif light is LightColor.yellow:
            basis += "，亮黄灯"
        else:
            basis += "，亮绿灯"
        self_light = next((normalize_light(f.self_light) for f in reports if normalize_light(f.self_light)), None)
        verdicts.append(Verdict(task.id, period, light, streak, basis,
                                self_light.value if self_light else "", override_value, override_note, missing))
        if self_light and self_light is not light:
            findings.append(warning("self-assessment-disagreement",
                                    f"{task.id} {period} 自评{self_light.value}，核定结果为{light.value}。", **where(period), subject=f"{task.id} {period}",
                                    column="自评灯色", hint="请在通报中说明差异原因，必要时与责任单位核实。"))
        if completion is Completion.closed:
            break
    return verdicts, findings


@dataclass
class LightRun:
    """All verdicts of a light-up, and the findings it raised."""

    verdicts: list[Verdict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def light_tasks(
    tasks: Iterable[Task],
    targets: Iterable[NodeTarget],
    feedback: Iterable[Feedback],
    existing: Iterable[LightRecord],
    up_to: Period,
    due: Callable[[Period], date | None],
    rules: LightRules,
    where: Callable[[str, Period], dict] = lambda task_id, p: {},
) -> LightRun:
    """Light every task of ``up_to``'s cadence over its whole history.

    Periods are every period with a node target up to ``up_to`` — and beyond it, when
    lights for later periods already exist, so that re-running an earlier period after a
    late return or an override recomputes every later streak. Overrides (核定灯色 and
    核定说明) are read from the existing 亮灯记录 rows and kept.
    """
    run = LightRun()
    cadence = up_to.cadence
    by_task_targets: dict[str, dict[Period, NodeTarget]] = {}
    for t in targets:
        p = parse_period_or_none(t.period)
        if p and p.cadence is cadence:
            by_task_targets.setdefault(t.task_id, {})[p] = t
    by_task_feedback: dict[str, dict[Period, list[Feedback]]] = {}
    for f in feedback:
        p = parse_period_or_none(f.period)
        if p and p.cadence is cadence:
            by_task_feedback.setdefault(f.task_id, {}).setdefault(p, []).append(f)
    by_task_overrides: dict[str, dict[Period, LightRecord]] = {}
    horizon = up_to
    for rec in existing:
        p = parse_period_or_none(rec.period)
        if p and p.cadence is cadence:
            by_task_overrides.setdefault(rec.task_id, {})[p] = rec
            horizon = max(horizon, p, key=Period.sort_key)
    for task in tasks:
        task_targets = by_task_targets.get(task.id, {})
        periods = sorted((p for p in task_targets if not horizon < p), key=Period.sort_key)
        verdicts, findings = light_task(task, periods, task_targets, by_task_feedback.get(task.id, {}),
                                        by_task_overrides.get(task.id, {}), due, rules,
                                        lambda p, tid=task.id: where(tid, p))
        run.verdicts.extend(verdicts)
        run.findings.extend(findings)
    return run

