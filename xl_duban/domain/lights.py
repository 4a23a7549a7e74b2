"""Light-up (亮灯) with streak escalation (DESIGN §5) — pure functions over a task's history.

The 督查方案 says: green when the node target is met on time, yellow when not, red after two
consecutive yellows; a yellow brings a 督查整改通知书, a red an 约谈 of the unit head. Because
a red light has consequences for people, every light carries a one-sentence 依据, the office
can override (核定) any light with a stated reason, and the whole history is recomputed on
every run so a late return or an override in an earlier period re-flows every later streak.
Every 牵头单位 answers for its task, so a task led by several units is judged on each unit's
own return and is as bad as the worst of them; a task that cannot be lit (no node target) is
reported, not skipped in silence.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Callable, Iterable, TypeVar

from .cells import parse_cell_date, parse_cell_datetime
from .findings import Finding, error, warning
from .issuing import lead_units_of
from .models import (Completion, Feedback, Ledger, LightColor, LightRecord, NodeTarget, Task, TaskKind, TaskStatus,
                     parse_period_or_none)
from .periods import Period
from .settings import Settings
from .units import UnitDirectory, normalize_name

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


def is_lit(ledger: Ledger, period: object) -> bool:
    """Whether 亮灯记录 holds a light of ``period``: every number of a 通报, 专报 or 公开版
    comes from the lights, and none can be made before the light-up."""
    return any(r.period == str(period) and r.light for r in ledger.lights)


def final_light(record: LightRecord) -> LightColor | None:
    """A 亮灯记录 row's final light: the office's 核定灯色 where it set one (even before the
    next light-up writes it into 灯色), else 灯色 — what the 考核 and the 督查看板 count."""
    return normalize_light(record.override) or normalize_light(record.light)


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
    missing: bool = False  # a lead unit's return (or any return) is missing (the service warns before the deadline)
    units: tuple[UnitResult, ...] = ()  # each unit's own result (lead units first)

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


def _latest_per_unit(feedback: list[Feedback], unit_key: Callable[[str], str] = normalize_name) -> list[Feedback]:
    """Each unit's latest return (by 报送时间; none is oldest; on a tie the later row wins).

    A unit that corrects its return sends it again: only the correction counts, or an old
    未完成 would keep the task yellow forever. ``unit_key`` names the unit of a row (an alias
    typed by hand is the same unit as its canonical name).
    """
    def when(f: Feedback) -> tuple[int, datetime]:
        moment = parse_cell_datetime(f.received_at)
        return (1, moment) if moment else (0, datetime.min)

    latest: dict[str, Feedback] = {}
    for f in feedback:
        unit = unit_key(f.unit)
        if unit not in latest or when(f) >= when(latest[unit]):
            latest[unit] = f
    chosen = {id(f) for f in latest.values()}
    return [f for f in feedback if id(f) in chosen]


_SEVERITY = {LightColor.green: 0, LightColor.yellow: 1, LightColor.red: 2}


def worst(lights: Iterable[LightColor]) -> LightColor:
    """The most severe of some lights (red > yellow > green); green when there are none."""
    return max(lights, key=_SEVERITY.__getitem__, default=LightColor.green)


@dataclass(frozen=True)
class UnitResult:
    """One lead unit's own result on a task in one period, before any streak or 核定.

    The 督查方案 holds every 牵头单位 answerable for its task (整改通知书 and 约谈 go to the
    unit): when several units lead one task, each reports in its own form and is judged on
    its own return, so the office can say which unit held the task back.
    """

    unit: str
    light: LightColor
    reason: str  # 未报送 / 节点目标未完成 / 反馈未填写完成情况 / 节点目标已完成 / 任务已办结, （逾期报送）
    completion: Completion | None = None
    missing: bool = False
    late: bool = False
    feedback: Feedback | None = None


def judge_units(reports: list[Feedback], leads: Iterable[str], due_day: date | None, rules: LightRules,
                unit_key: Callable[[str], str] = normalize_name) -> list[UnitResult]:
    """Each unit's own result for one period: every lead unit (a missing return is judged as
    设置 缺报视为 says), then any other unit that returned a report on the task (it is not
    dropped unseen). ``reports`` must already be one return per unit (:func:`_latest_per_unit`).
    Empty when the task has no known lead unit and nobody reported."""
    by_unit: dict[str, Feedback] = {}
    for f in reports:
        by_unit.setdefault(unit_key(f.unit), f)
    results = []
    for unit in dict.fromkeys([*(unit_key(u) for u in leads), *by_unit]):
        fb = by_unit.get(unit)
        if fb is None:
            results.append(UnitResult(unit, rules.missing_as, "未报送", missing=True))
            continue
        completion = normalize_completion(fb.completion)
        if completion is None:
            light, reason = LightColor.yellow, "反馈未填写完成情况"
        elif completion is Completion.not_done:
            light, reason = LightColor.yellow, "节点目标未完成"
        else:
            light, reason = LightColor.green, "任务已办结" if completion is Completion.closed else "节点目标已完成"
        late = is_late(fb, due_day)
        if late:
            if rules.late_yellow and light is LightColor.green:
                light, reason = LightColor.yellow, reason + "，但逾期报送"
            else:
                reason += "（逾期报送）"
        results.append(UnitResult(unit, light, reason, completion, late=late, feedback=fb))
    return results


def unit_results(feedback: list[Feedback], leads: Iterable[str], due_day: date | None, rules: LightRules,
                 unit_key: Callable[[str], str] = normalize_name) -> list[UnitResult]:
    """:func:`judge_units` over a period's 反馈记录 rows of one task (each unit's latest return)."""
    return judge_units(_latest_per_unit(feedback, unit_key), leads, due_day, rules, unit_key)


def answerable_light(own: LightColor, final: LightColor, anyone_behind: bool) -> LightColor:
    """The light a lead unit answers for on a task: the task's final light when the unit itself
    fell short (or when no unit did, so the light was set by 核定 for all of them), green when
    it met its own target while another lead unit did not. A 核定 green clears every unit."""
    if final is LightColor.green:
        return LightColor.green
    return final if own is not LightColor.green or not anyone_behind else LightColor.green


def _names(units: list[str], limit: int = 3) -> str:
    return "、".join(units) if len(units) <= limit else f"{len(units)}个牵头单位"


def _basis(name: str, results: list[UnitResult]) -> str:
    """The system's reason for one period, before the light's own words (，亮黄灯 …).

    One unit (or none): as it always was ("第一季度节点目标未完成"). Several: the units that
    held the task back are named, the most severe first ("第一季度区住建局未报送，区水务局节点目标
    未完成"); when all met the target, that all did."""
    if not results:
        return f"{name}未报送"
    if len(results) == 1:
        return f"{name}{results[0].reason}"
    behind = sorted((r for r in results if r.light is not LightColor.green), key=lambda r: -_SEVERITY[r.light])
    if not behind:
        units = [r.unit for r in results]
        done = "均报任务已办结" if all(r.completion is Completion.closed for r in results) else "节点目标均已完成"
        late = [r.unit for r in results if r.late]
        return f"{name}{_names(units)}{done}" + (f"（{'、'.join(late)}逾期报送）" if late else "")
    groups: dict[str, list[str]] = {}
    for r in behind:
        groups.setdefault(r.reason, []).append(r.unit)
    if len(groups) == 1 and len(behind) == len(results) > 3:  # a collective all behind alike: count them
        return f"{name}全部{len(results)}个牵头单位{behind[0].reason}"
    return name + "，".join(f"{'、'.join(units)}{reason}" for reason, units in groups.items())


def light_task(
    task: Task,
    periods: list[Period],
    targets: dict[Period, NodeTarget],
    feedback: dict[Period, list[Feedback]],
    overrides: dict[Period, LightRecord],
    due: Callable[[Period], date | None],
    rules: LightRules,
    where: Callable[[Period], dict] = lambda p: {},
    leads: Iterable[str] = (),
    unit_key: Callable[[str], str] = normalize_name,
) -> tuple[list[Verdict], list[Finding]]:
    """Lights of one task over ``periods`` (ascending), with streaks carried across them.

    A period without a node target gets no light and leaves the streak as it is: 连续两次
    亮黄灯 counts the checks that happened. After a period reported 已办结 nothing is lit any
    more. A task marked 已办结 in 任务台账 keeps its past — every period up to and including
    the last one with any return is lit as usual — and gets no light in later periods. A
    cancelled task gets no verdicts (the service keeps its existing records).

    ``leads`` are the units that must report (:func:`~xl_duban.domain.issuing.lead_units_of`:
    collectives expanded). Each is judged on its own latest return and the task's light is the
    worst of them (DESIGN §5.8): a co-led task is not green while one of its lead units has
    not reported, and its 依据 names that unit. Without ``leads`` (the worksheet function,
    a task whose 牵头单位 is blank) whoever reported is judged.
    """
    leads = list(leads)
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
        reports = _latest_per_unit(feedback.get(period, []), unit_key)
        results = judge_units(reports, leads, due(period) if reports else None, rules, unit_key)
        missing = not results or any(r.missing for r in results)
        computed = worst(r.light for r in results) if results else rules.missing_as
        basis = _basis(period_name(period), results)
        # the task is closed when every unit answering for it says so (one co-lead finishing
        # its part does not end the others' duty)
        closed = bool(results) and all(r.completion is Completion.closed for r in results)
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
                                self_light.value if self_light else "", override_value, override_note, missing,
                                tuple(results)))
        if len(results) > 1:  # co-led: each unit's self-assessment against the light it answers for
            behind = any(r.light is not LightColor.green for r in results)
            differ: dict[tuple[LightColor, LightColor], list[str]] = {}
            for r in results:
                own = normalize_light(r.feedback.self_light) if r.feedback else None
                answered = answerable_light(r.light, light, behind)
                if own and own is not answered:
                    differ.setdefault((own, answered), []).append(r.unit)
            if differ:  # one finding per task and period, the units grouped by what they said
                text = "；".join(f"{'、'.join(units)}自评{own.value}，核定结果为{answered.value}"
                                for (own, answered), units in differ.items())
                findings.append(warning("self-assessment-disagreement", f"{task.id} {period} {text}。",
                                        **where(period), subject=f"{task.id} {period}", column="自评灯色",
                                        hint="请在通报中说明差异原因，必要时与责任单位核实。"))
        elif self_light and self_light is not light:
            findings.append(warning("self-assessment-disagreement",
                                    f"{task.id} {period} 自评{self_light.value}，核定结果为{light.value}。", **where(period), subject=f"{task.id} {period}",
                                    column="自评灯色", hint="请在通报中说明差异原因，必要时与责任单位核实。"))
        if closed:
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
    directory: UnitDirectory | None = None,
) -> LightRun:
    """Light every task of ``up_to``'s cadence over its whole history.

    Periods are every period with a node target up to ``up_to`` — and beyond it, when
    lights for later periods already exist, so that re-running an earlier period after a
    late return or an override recomputes every later streak. Overrides (核定灯色 and
    核定说明) are read from the existing 亮灯记录 rows and kept. A 节点目标 row whose text is
    blank is no node target: the unit's form said “本期未设定节点目标”, so nothing can be
    judged against it. ``directory`` (单位名录) expands collective lead units and resolves
    aliases in 反馈记录, as the forms were issued.

    Open tasks that report in ``up_to`` but have no node target for it get no light; they are
    listed in one ``no-node-target`` warning, never left out silently — the 督查方案 lights a
    task against its confirmed node target, and a missing one is the office's to chase.
    """
    run = LightRun()
    cadence = up_to.cadence
    directory = directory or UnitDirectory(())
    by_task_targets: dict[str, dict[Period, NodeTarget]] = {}
    for t in targets:
        p = parse_period_or_none(t.period)
        if p and p.cadence is cadence and str(t.target or "").strip():
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
    tasks = list(tasks)
    unit_key = unit_key_of(directory)
    unnamed: list[str] = []
    for task in tasks:
        task_targets = by_task_targets.get(task.id, {})
        periods = sorted((p for p in task_targets if not horizon < p), key=Period.sort_key)
        leads = lead_units_of(task, directory)
        if task.lead_units and not leads:  # only 相关镇街道 and the like: no form went to anyone
            if periods and task.status != TaskStatus.cancelled.value:
                unnamed.append(task.id)
            continue
        verdicts, findings = light_task(task, periods, task_targets, by_task_feedback.get(task.id, {}),
                                        by_task_overrides.get(task.id, {}), due, rules,
                                        lambda p, tid=task.id: where(tid, p), leads, unit_key)
        run.verdicts.extend(verdicts)
        run.findings.extend(findings)
    if unnamed:
        run.findings.append(warning(
            "unnamed-lead-unlit", f"{len(unnamed)}项任务的牵头单位是统称，未明确具体单位，未亮灯：{'、'.join(unnamed)}。",
            **{**where("", up_to), "sheet": "任务台账", "column": "牵头单位"}, subject=f"{up_to} 牵头单位",
            hint="在【任务台账】中把“相关镇街道”等统称改为具体单位名称，下发反馈表后再亮灯。"))
    unlit = [t.id for t in tasks_without_target(tasks, by_task_targets, up_to)]
    if unlit:
        run.findings.append(warning(
            "no-node-target", f"{up_to}有{len(unlit)}项任务没有节点目标，本期未亮灯：{'、'.join(unlit)}。",
            **{**where("", up_to), "sheet": "节点目标", "column": "节点目标"}, subject=f"{up_to} 节点目标",
            hint=f"在【节点目标】中为这些任务补填{up_to}的节点目标（须经确认）后重新亮灯；已完成的任务请在【任务台账】标为“已办结”。"))
    return run


def unit_key_of(directory: UnitDirectory) -> Callable[[str], str]:
    """The unit a 报送单位 cell names: its 单位名录 name when the spelling is certain (the name
    or an alias), else the cell's own normalised text."""
    def key(text: str) -> str:
        name = normalize_name(text)
        resolved = directory.resolve(name) if directory.units else None
        return resolved.name if resolved and resolved.certain and resolved.name else name
    return functools.lru_cache(maxsize=None)(key)


def tasks_without_target(tasks: Iterable[Task], targets: dict[str, dict[Period, NodeTarget]], period: Period) -> list[Task]:
    """Open tasks that report in ``period`` (its kind; a 民生实事 split into sub-items reports
    through them) and have no node target for it — they cannot be lit."""
    tasks = list(tasks)
    kind = TaskKind.reporting_in(period)
    parents = {t.parent_id for t in tasks if t.parent_id}
    return [t for t in tasks if t.id and t.kind == kind.value and t.status in (TaskStatus.open.value, "")
            and t.id not in parents and period not in targets.get(t.id, {})]

