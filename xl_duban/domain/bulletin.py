"""What a bulletin (通报) says — pure: every number is computed from 亮灯记录, 反馈记录 and
报送情况 of the ledger, so a leader's question "why is this unit named?" is answered by a row.

The 督查方案 asks the bulletin to count green / yellow / red, name the red items (约谈) and
yellow items (整改), praise units whose work is all green and whose returns were all on time,
criticise late or missing returns, and flag progress copied from the previous period — a
report that repeats last quarter's words has not reported anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Callable

from rapidfuzz.fuzz import ratio

from .deadlines import overdue_days, read_deadline
from .issuing import lead_units_of
from .lights import LightRules, answerable_light, normalize_light, period_name, unit_key_of, unit_results
from .models import Completion, Ledger, LightColor, SubmissionState, Task, TaskKind
from .periods import Period
from .units import UnitDirectory, collective, normalize_name

COLORS = (LightColor.green, LightColor.yellow, LightColor.red)


@dataclass(frozen=True)
class Counts:
    """Lights of one period: how many of each colour among the lit tasks."""

    green: int = 0
    yellow: int = 0
    red: int = 0

    @property
    def total(self) -> int:
        return self.green + self.yellow + self.red

    def of(self, color: LightColor) -> int:
        return {LightColor.green: self.green, LightColor.yellow: self.yellow, LightColor.red: self.red}[color]

    def rate(self, color: LightColor) -> float:
        return self.of(color) / self.total if self.total else 0.0

    def row(self) -> list[int]:
        """A table's row: 绿灯, 黄灯, 红灯, 合计."""
        return [self.green, self.yellow, self.red, self.total]


class UnitState(str, Enum):
    """What one lead unit's return for a period was — the words a notice or bulletin uses.

    A notice is an official statement to the unit: it must not say 未完成节点目标 of a unit
    that sent nothing, nor 未报送 of a unit whose return the office refused (退回)."""

    missing = "未报送"
    returned = "退回未重报"
    not_done = "节点目标未完成"
    blank = "反馈未填写完成情况"
    done = "节点目标已完成"
    closed = "任务已办结"


@dataclass(frozen=True)
class UnitReport:
    """One lead unit's own part in an item: its state, lateness and its own words."""

    unit: str
    light: str  # the light this unit answers for
    state: UnitState
    late: bool = False
    progress: str = ""
    problems: str = ""
    returned_reason: str = ""  # 退回: why the office refused the return (报送情况 问题)


@dataclass(frozen=True)
class Item:
    """A task named in the bulletin with its light and why."""

    task_id: str
    content: str
    units: tuple[str, ...]
    leaders: tuple[str, ...]
    light: str
    streak: int
    basis: str
    responsible: tuple[str, ...] = ()  # the lead units that answer for this light (all when empty)
    target: str = ""  # this period's node target (节点目标)
    reports: tuple[UnitReport, ...] = ()  # each lead unit's own result, lead units in order
    override: str = ""  # 核定说明 when the office set the light by hand
    short_name: str = ""  # the office's 任务简称, when it filled one

    def report_of(self, unit: str) -> UnitReport | None:
        return next((r for r in self.reports if r.unit == unit), None)

    def light_words(self, not_done: bool = True) -> str:
        """How the light is stated: a red after a streak says how long it has lasted (连续N期
        未完成节点目标, or 未亮绿灯 when this period's cause is a missing or refused return, not
        a target reported unmet); a light set by 核定 says so with the office's reason."""
        if self.override:
            return f"经核定亮{self.light}（{self.override}）"
        if self.light == LightColor.red.value and self.streak >= 2:
            return f"连续{self.streak}期{'未完成节点目标' if not_done else '未亮绿灯'}，亮红灯"
        return f"亮{self.light}"

    @property
    def answerable(self) -> tuple[str, ...]:
        """The units a 整改通知书 or 约谈 goes to: on a co-led task, those that fell short."""
        return self.responsible or self.units

    @property
    def units_text(self) -> str:
        """The 牵头单位 as the bulletin prints them: on a co-led task where only some units fell
        short, those units, then the others that met their target (they are not criticised)."""
        met = self.met_text
        return "、".join(self.answerable) + (f"（{met}）" if met else "")

    @property
    def met_text(self) -> str:
        """共同牵头的…本期已完成 on a co-led task where only some units fell short, else ""."""
        others = [u for u in self.units if u not in self.answerable]
        if not others:
            return ""
        met = "、".join(others) if len(others) <= 3 else f"其余{len(others)}个牵头单位"
        return f"共同牵头的{met}本期已完成"


@dataclass(frozen=True)
class Row:
    """One line of the by-unit or by-leader table."""

    name: str
    counts: Counts


@dataclass(frozen=True)
class Disagreement:
    task_id: str
    unit: str
    self_light: str
    light: str


@dataclass(frozen=True)
class Copied:
    task_id: str
    unit: str
    score: float
    text: str


@dataclass(frozen=True)
class Overdue:
    """A task past its 完成时限 and not 已办结 (超期未办结), as of the bulletin's date."""

    task_id: str
    content: str
    units: tuple[str, ...]
    leaders: tuple[str, ...]
    deadline: date
    days: int  # days past the deadline


@dataclass
class Bulletin:
    """Everything a 通报 / 月报 prints, in print order."""

    period: Period
    kind: TaskKind
    number: int
    counts: Counts
    previous: Counts | None
    by_unit: list[Row] = field(default_factory=list)
    by_leader: list[Row] = field(default_factory=list)
    red: list[Item] = field(default_factory=list)
    yellow: list[Item] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)  # every lit task, green too (a 专报 takes its leader's)
    praised: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # sent nothing
    returned: list[str] = field(default_factory=list)  # return refused (退回) and not sent again
    disagreements: list[Disagreement] = field(default_factory=list)
    copied: list[Copied] = field(default_factory=list)
    overdue: list[Overdue] = field(default_factory=list)  # 超期未办结, as of ``as_of``
    as_of: date | None = None  # the day 超期 is counted on (the bulletin's date); None: not counted

    @property
    def sheet_name(self) -> str:
        """通报-2024Q1 / 月报-2024-03 (DESIGN §3)."""
        return f"{'通报' if self.kind is TaskKind.key else '月报'}-{self.period}"

    @property
    def title_words(self) -> tuple[str, ...]:
        """The title in the words a line may break between (a title never breaks inside a word)."""
        return ("关于", *subject_words(self.period, self.kind), "的通报")

    @property
    def title(self) -> str:
        return "".join(self.title_words)

    def summary_sentence(self) -> str:
        """The opening numbers, in one sentence a leader reads first."""
        return counts_sentence(f"{self.period.label}共对{self.counts.total}项{self.kind.value}亮灯",
                               self.counts, self.previous, self.period)


def counts_sentence(opening: str, counts: Counts, previous: Counts | None, period: Period) -> str:
    """``opening``, then the counts by colour with their shares and, when the previous period
    of the same kind was lit, the change from it (quarter on quarter, month on month): the
    sentence of a bulletin's 总体情况 and of a leader's 督查专报."""
    c = counts
    text = (f"{opening}，其中绿灯{c.green}项（{c.rate(LightColor.green):.1%}）、"
            f"黄灯{c.yellow}项（{c.rate(LightColor.yellow):.1%}）、红灯{c.red}项（{c.rate(LightColor.red):.1%}）")
    if previous is not None and previous.total:
        p = previous
        text += (f"；与{period_name(period.previous())}相比，绿灯{_delta(c.green - p.green)}、"
                 f"黄灯{_delta(c.yellow - p.yellow)}、红灯{_delta(c.red - p.red)}")
    return text + "。"


def subject_words(period: Period, kind: TaskKind, district: str = "区") -> tuple[str, ...]:
    """What a period's documents report on, in the words a title may break between:
    2024年第一季度 / 区 / 《政府工作报告》 / 重点任务 / 落实情况 — the bulletin's title and the
    public page's say the same thing."""
    what = ("《政府工作报告》", "重点任务") if kind is TaskKind.key else ("十件民生实事",)
    return (period.label, district, *what, "落实情况")


def _delta(n: int) -> str:
    return f"增加{n}项" if n > 0 else f"减少{-n}项" if n < 0 else "持平"


def lit_counts(ledger: Ledger, period: Period, task_ids: set[str] | dict) -> Counts | None:
    """The lights of ``task_ids`` in ``period`` as 亮灯记录 holds them (灯色), None when none
    of them was lit: the numbers a bulletin compares with, and a 专报's per period."""
    lights = [r.light for r in ledger.lights if r.period == str(period) and r.light and r.task_id in task_ids]
    return counts_of(lights) if lights else None


def counts_of(lights: list[str]) -> Counts:
    """The counts of a list of lights (their Chinese names; anything else is not counted)."""
    return Counts(green=lights.count(LightColor.green.value), yellow=lights.count(LightColor.yellow.value),
                  red=lights.count(LightColor.red.value))


def build_bulletin(ledger: Ledger, period: Period, number: int, similarity: float = 0.9,
                   rules: LightRules = LightRules(), due: Callable[[Period], date | None] = lambda p: None,
                   today: date | None = None) -> Bulletin:
    """The content of the bulletin for ``period`` (quarter → key tasks, month → 民生实事).

    Only tasks lit in ``period`` count (no node target → no light → not in the numbers).
    A task with several lead units counts once in the totals and once for each of its units
    in the by-unit table, because each unit answers for it — with that unit's own result
    (:func:`~xl_duban.domain.lights.answerable_light`): a unit that met its target is not
    counted yellow, nor sent a 整改通知书, because its co-lead did not. ``rules`` and ``due``
    are the ones the lights were computed with (逾期报送视为 黄灯 needs them).
    """
    kind = TaskKind.reporting_in(period)
    tasks = {t.id: t for t in ledger.tasks if t.kind == kind.value and t.id}
    directory = UnitDirectory(ledger.units)
    records = {r.task_id: r for r in ledger.lights if r.period == str(period) and r.light and r.task_id in tasks}
    units_of = {task_id: tuple(lead_units_of(tasks[task_id], directory)) for task_id in records}
    feedback: dict[str, list] = {}  # task → this period's feedback rows, gathered in one pass
    for fb in ledger.feedback:
        if fb.period == str(period) and fb.task_id in records:
            feedback.setdefault(fb.task_id, []).append(fb)
    bulletin = Bulletin(period=period, kind=kind, number=number, counts=counts_of([r.light for r in records.values()]),
                        previous=lit_counts(ledger, period.previous(), tasks))
    key = unit_key_of(directory)
    # A group name (相关镇街道) is never named in a bulletin, even if an old 报送情况 row holds one.
    submissions = [s for s in ledger.submissions if s.period == str(period) and s.issued_at and collective(s.unit) is None]
    refused = {key(s.unit): s.problem for s in submissions if s.status == SubmissionState.returned.value}
    targets = {t.task_id: t.target for t in ledger.targets if t.period == str(period)}
    reports = {task_id: _unit_reports(record, units_of[task_id], feedback.get(task_id, []), period, rules, due, key, refused)
               for task_id, record in records.items()}
    bulletin.by_unit = _rows({task_id: [(r.unit, r.light) for r in rs] for task_id, rs in reports.items()})
    bulletin.by_leader = _table(records, lambda task_id: tuple(tasks[task_id].leaders) or ("（未填写）",))
    for task_id, record in records.items():
        task = tasks[task_id]
        responsible = tuple(r.unit for r in reports[task_id] if r.light != LightColor.green.value)
        item = Item(task_id, task_text(task), units_of[task_id], tuple(task.leaders), record.light, record.streak or 0,
                    record.basis, responsible if responsible != units_of[task_id] else (),
                    target=targets.get(task_id, ""), reports=reports[task_id],
                    override=record.override_note.strip() if normalize_light(record.override) else "",
                    short_name=" ".join(task.short_name.split()))
        bulletin.items.append(item)
        if record.light == LightColor.red.value:
            bulletin.red.append(item)
        elif record.light == LightColor.yellow.value:
            bulletin.yellow.append(item)
        if len(units_of[task_id]) > 1:  # co-led: each unit against the light it answers for
            answered = {normalize_name(r.unit): r.light for r in reports[task_id]}
            for fb in feedback.get(task_id, ()):
                light = answered.get(normalize_name(fb.unit), record.light)
                if fb.self_light and fb.self_light != light:
                    bulletin.disagreements.append(Disagreement(task_id, fb.unit, fb.self_light, light))
        elif record.self_light and record.self_light != record.light:
            for fb in feedback.get(task_id, ()):
                if fb.self_light and fb.self_light != record.light:
                    bulletin.disagreements.append(Disagreement(task_id, fb.unit, fb.self_light, record.light))
    bulletin.late = sorted(s.unit for s in submissions if s.status == SubmissionState.late.value)
    bulletin.returned = sorted(s.unit for s in submissions if s.status == SubmissionState.returned.value)
    bulletin.missing = sorted(s.unit for s in submissions if not s.accepted and s.status != SubmissionState.returned.value)
    on_time = {normalize_name(s.unit) for s in submissions if s.status == SubmissionState.on_time.value}
    bulletin.praised = [row.name for row in bulletin.by_unit
                        if row.counts.total and row.counts.green == row.counts.total and normalize_name(row.name) in on_time]
    bulletin.copied = copied_progress(ledger, period, set(tasks), similarity)
    if today is not None:  # 超期未办结 as of the bulletin's date, of this bulletin's kind only
        bulletin.as_of, bulletin.overdue = today, overdue_tasks(ledger, kind, today)
    return bulletin


def overdue_tasks(ledger: Ledger, kind: TaskKind, today: date) -> list[Overdue]:
    """Tasks of ``kind`` past their 完成时限 on ``today`` and not 已办结 or 已取消 (the rule of
    :func:`~xl_duban.domain.deadlines.overdue_days`, as validate applies it), longest overdue
    first. A text 完成时限 counts when it can be read (年底前 → 12-31 of the ledger year).
    牵头单位 as the ledger names them (a collective stays one name, not a list of every town)."""
    year = ledger.year
    out = []
    for task in ledger.tasks:
        if task.kind != kind.value or not task.id:
            continue
        deadline = read_deadline(task.deadline, year).day
        days = overdue_days(deadline, task.status, today)
        if days is not None:
            out.append(Overdue(task.id, task.content, tuple(task.lead_units), tuple(task.leaders), deadline, days))
    return sorted(out, key=lambda o: (-o.days, o.task_id))


def _table(records: dict, names_of) -> list[Row]:
    return _rows({task_id: [(name, record.light) for name in names_of(task_id)] for task_id, record in records.items()})


def _rows(lights_of: dict[str, list[tuple[str, str]]]) -> list[Row]:
    """Rows of a table from each task's (name, light) pairs, the names most behind first."""
    lights: dict[str, list[str]] = {}
    for pairs in lights_of.values():
        for name, light in pairs:
            lights.setdefault(name, []).append(light)
    rows = [Row(name, counts_of(values)) for name, values in lights.items()]
    return sorted(rows, key=lambda r: (-r.counts.red, -r.counts.yellow, -r.counts.total, r.name))


def _unit_reports(record, units: tuple[str, ...], feedback: list, period: Period, rules: LightRules,
                  due: Callable[[Period], date | None], key: Callable[[str], str],
                  refused: dict[str, str]) -> tuple[UnitReport, ...]:
    """Each lead unit's own part in one task this period: its state, judged as the lights were
    (:func:`~xl_duban.domain.lights.unit_results`), and the light it answers for. A single lead
    unit answers for the task's light as recorded (核定 included); on a co-led task a unit that
    met its own target while another did not answers for green
    (:func:`~xl_duban.domain.lights.answerable_light`)."""
    final = normalize_light(record.light)
    results = unit_results(feedback, units, due(period) if feedback else None, rules, key)
    by_key = {r.unit: r for r in results}
    behind = any(r.light is not LightColor.green for r in results)
    out = []
    for unit in units or tuple(r.unit for r in results):
        result = by_key.get(key(unit))
        if len(units) < 2 or final is None or result is None:
            light = record.light
        else:
            light = answerable_light(result.light, final, behind).value
        if result is None or result.missing:
            state = UnitState.returned if key(unit) in refused else UnitState.missing
        else:
            state = {Completion.not_done: UnitState.not_done, Completion.done: UnitState.done,
                     Completion.closed: UnitState.closed}.get(result.completion, UnitState.blank)
        fb = result.feedback if result is not None else None
        out.append(UnitReport(unit, light, state, late=bool(result and result.late),
                              progress=fb.progress.strip() if fb else "", problems=fb.problems.strip() if fb else "",
                              returned_reason=refused.get(key(unit), "") if state is UnitState.returned else ""))
    return tuple(out)


def copied_progress(ledger: Ledger, period: Period, task_ids: set[str], threshold: float) -> list[Copied]:
    """进展情况 that repeats the same unit's text of the previous period (similarity ≥ threshold,
    0–1, from 设置 相似度阈值), with its score: the bulletin shows the evidence, not a verdict."""
    before = {(f.task_id, normalize_name(f.unit)): f.progress for f in ledger.feedback
              if f.period == str(period.previous()) and f.progress.strip()}
    out = []
    for f in ledger.feedback:
        if f.period != str(period) or f.task_id not in task_ids or not f.progress.strip():
            continue
        old = before.get((f.task_id, normalize_name(f.unit)))
        if old is None:
            continue
        score = ratio(old, f.progress) / 100
        if score >= threshold:
            out.append(Copied(f.task_id, f.unit, round(score, 3), f.progress))
    return sorted(out, key=lambda c: (-c.score, c.task_id, c.unit))


def notices(bulletin: Bulletin) -> dict[str, list[Item]]:
    """Unit → its yellow and red items: each unit gets one 督查整改通知书 (DESIGN §1.5). On a
    co-led task only the lead units that fell short get one: the 督查方案 sends it to the unit
    that is behind, not to a co-lead that met its target."""
    out: dict[str, list[Item]] = {}
    for item in [*bulletin.red, *bulletin.yellow]:
        for unit in item.answerable:
            out.setdefault(unit, []).append(item)
    return dict(sorted(out.items()))


def leaders_of(items: list[Item]) -> list[str]:
    """The 分管领导 to copy a notice to, in first-seen order."""
    seen: list[str] = []
    for item in items:
        for leader in item.leaders:
            if leader not in seen:
                seen.append(leader)
    return seen


def task_title(item: "Item") -> str:
    """How a bulletin's table names a task: the office's 任务简称 where it filled one, else the
    whole task (a document never cuts a task with “…”; a 600-character 民生实事 sub-item printed
    whole takes half a page of a leader's bulletin)."""
    return item.short_name or item.content


def task_text(task: Task) -> str:
    """A task's text as an official document prints it: whole (a document never cuts a task
    with “…”), its lines joined."""
    return "".join(line.strip() for line in task.content.splitlines())


_SENTENCE_END = re.compile(r"(?<=[。！？；;!?])")


def split_sentences(text: str) -> list[str]:
    """``text`` as its sentences, each with its closing mark (。！？；), runs of white space
    made one space; empty pieces dropped."""
    return [part for part in _SENTENCE_END.split(" ".join(text.split())) if part.strip()]


def sentences(text: str, limit: int = 80, most: int | None = None) -> str:
    """``text`` cut only at a sentence end: whole sentences while they fit in ``limit``
    characters (and number no more than ``most``), and always the first one whole. An
    official document quotes a unit's own words; a sentence cut in the middle (“…”) changes
    what the unit said."""
    out, count = "", 0
    for part in split_sentences(text):
        if out and (len(out) + len(part) > limit or (most is not None and count >= most)):
            break
        out, count = out + part, count + 1
    return out.strip()


@dataclass(frozen=True)
class CopiedUnit:
    """进展雷同 of one unit: how many of its items repeat last period's words, the highest score."""

    unit: str
    count: int
    top: float
    tasks: tuple[str, ...]


def copied_by_unit(copied: list[Copied]) -> list[CopiedUnit]:
    """One line per unit (a unit that copied 13 items is one finding, not 13 lines), the most first."""
    groups: dict[str, list[Copied]] = {}
    for c in copied:
        groups.setdefault(c.unit, []).append(c)
    rows = [CopiedUnit(unit, len(cs), max(c.score for c in cs), tuple(sorted({c.task_id for c in cs})))
            for unit, cs in groups.items()]
    return sorted(rows, key=lambda r: (-r.count, -r.top, r.unit))


def total(rows: list[Row]) -> Counts:
    """The 合计 of a table: on the by-unit and by-leader tables a co-led task (or one with two
    leaders) counts once per row it is in, so this can exceed the bulletin's task count."""
    return Counts(*(sum(r.counts.of(c) for r in rows) for c in COLORS))
