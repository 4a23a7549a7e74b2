"""The year's 绩效考核 score of every lead unit, from the ledger's own record.

The 督查方案 ties the supervised tasks to the annual performance assessment
("督查重点任务及十件民生实事落实情况与区委、区政府年度绩效考核挂钩"): a unit that let its tasks
fall behind, or did not report on them, loses points. The rules are plain and every value
lives in 设置 (:class:`ScoreRules`), so an office with other rules changes numbers, not code:

- every lead unit starts from 考核基础分;
- each final 黄灯 / 红灯 of a task it leads costs 黄灯扣分 / 红灯扣分 — the final light is the
  office's 核定灯色 where it set one, else the computed 灯色; a co-led task charges each of its
  lead units (every 牵头单位 answers for the task, DESIGN §5.8);
- each feedback period in which its return came late costs 逾期报送扣分; each one still missing
  after the deadline (a refused return not sent again counts) costs 未报送扣分 — feedback
  periods only, the rounds that collect node targets are not scored;
- the office's 考核调整 rows (单位, 分值, 事由, 批准人) add or take points, each one an item;
- 得分 = max(0, 基础分 − 扣分 + 调整); 等次 by the thresholds; equal scores share a rank.

Every point is an :class:`Item` with its task, period and reason, so the 考核明细 sheet shows
where each score comes from and anyone can recompute it. Pure: the date is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from .cells import parse_cell_date
from .findings import Finding, error
from .issuing import lead_units_of
from .lights import final_light, normalize_light, unit_key_of
from .models import Adjustment, LightColor, Ledger, SubmissionState, parse_period_or_none
from .periods import Period
from .settings import Settings
from .units import UnitDirectory, collective, normalize_name

YELLOW, RED, LATE, MISSING, ADJUST = "黄灯", "红灯", "逾期报送", "未报送", "调整"
GRADES = ("好", "较好", "一般", "差")
_COUNTERS = {YELLOW: "yellow", RED: "red", LATE: "late", MISSING: "missing"}  # the UnitScore field each counts in


@dataclass(frozen=True)
class ScoreRules:
    """The assessment's numbers (设置): base score, points per item, grade thresholds."""

    base: float = 100
    yellow: float = 1
    red: float = 3
    late: float = 0.5
    missing: float = 2
    thresholds: tuple[float, float, float] = (95, 85, 70)  # 好, 较好, 一般; below: 差

    @classmethod
    def of(cls, settings: Settings) -> ScoreRules:
        return cls(settings.score_base, settings.score_yellow, settings.score_red, settings.score_late,
                   settings.score_missing, (settings.grade_good, settings.grade_fair, settings.grade_pass))

    def text(self) -> str:
        """The rules in one paragraph of the 考核结果通报 (from the very numbers applied)."""
        good, fair, passing = (points(t) for t in self.thresholds)
        return (f"每个牵头单位基础分{points(self.base)}分。所牵头任务每期最终亮黄灯一次扣{points(self.yellow)}分、亮红灯一次扣"
                f"{points(self.red)}分（以核定灯色为准，共同牵头的任务各牵头单位均扣分）；每期反馈逾期报送一次扣{points(self.late)}分，"
                f"截止后未报送（含退回后未重新报送）一次扣{points(self.missing)}分；经批准的加减分计入调整。"
                f"得分{good}分及以上为“好”，{fair}分及以上为“较好”，{passing}分及以上为“一般”，以下为“差”；得分相同的名次并列。")

    def grade(self, score: float) -> str:
        return next((g for g, low in zip(GRADES, self.thresholds) if score >= low), GRADES[-1])


@dataclass(frozen=True)
class Item:
    """One line of 考核明细: a deduction (positive ``points`` taken off) or an adjustment
    (``points`` as the office typed them, + adds)."""

    unit: str
    task_id: str
    period: str
    kind: str  # 黄灯 / 红灯 / 逾期报送 / 未报送 / 调整
    points: float
    basis: str


@dataclass
class UnitScore:
    """One row of 考核-Y."""

    unit: str
    type: str
    base: float
    yellow: int = 0
    red: int = 0
    late: int = 0
    missing: int = 0
    adjustment: float = 0
    deduction: float = 0
    score: float = 0
    grade: str = ""
    rank: int = 0


@dataclass
class Assessment:
    year: int
    through: Period | None
    as_of: date
    rows: list[UnitScore] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def scope(self) -> str:
        """What the assessment covers, for titles: 全年, or up to a period."""
        return f"统计至{self.through.label}" if self.through else "全年"


def points(value: float) -> str:
    """A score as people write it: 97, 96.5 (never 97.0 or 96.49999)."""
    value = round(value, 2)
    return f"{value:g}"


def _in_scope(period: Period, year: int, through: Period | None) -> bool:
    """A feedback period of the year, up to ``through`` (a quarter counts once its last month
    is within the scope; a month once it is)."""
    if period.year != year:
        return False
    return through is None or period.last_month <= through.last_month


def assess(ledger: Ledger, year: int, rules: ScoreRules, today: date, due: Callable[[Period], date | None],
           through: Period | None = None) -> Assessment:
    """Score every lead unit of ``ledger`` for ``year`` (see the module's rules) as of
    ``today``; a 报送情况 row without its 截止时间 takes ``due`` of its period."""
    out = Assessment(year, through, today)
    directory = UnitDirectory(ledger.units)
    canonical = unit_key_of(directory)  # 单位名录's name, as the light-up matches returns

    tasks = {t.id: t for t in ledger.tasks if t.id}
    leads: dict[str, list[str]] = {tid: lead_units_of(t, directory) for tid, t in tasks.items()}
    units: list[str] = []
    for names in leads.values():
        units.extend(u for u in names if u not in units)
    for record in ledger.lights:
        period = parse_period_or_none(record.period)
        if period is None or not _in_scope(period, year, through) or record.task_id not in tasks:
            continue
        final = final_light(record)
        if final not in (LightColor.yellow, LightColor.red):
            continue
        kind, cost = (YELLOW, rules.yellow) if final is LightColor.yellow else (RED, rules.red)
        why = f"核定为{final.value}：{record.override_note}".rstrip("：") if normalize_light(record.override) else record.basis
        for unit in leads[record.task_id]:
            out.items.append(Item(unit, record.task_id, record.period, kind, cost, why))
    for row in ledger.submissions:
        period = parse_period_or_none(row.period)  # the targets rounds (2024年度季度目标) are no period
        if period is None or not _in_scope(period, year, through) or not row.issued_at or collective(row.unit):
            continue
        unit = canonical(row.unit)
        if row.status == SubmissionState.late.value:
            out.items.append(Item(unit, "", row.period, LATE, rules.late, f"{period.label}反馈逾期报送"))
        elif row.status in (SubmissionState.missing.value, SubmissionState.returned.value, ""):
            deadline = parse_cell_date(row.due_at) or due(period)
            if deadline is not None and today > deadline:
                what = "退回后未重新报送" if row.status == SubmissionState.returned.value else "截止后仍未报送"
                out.items.append(Item(unit, "", row.period, MISSING, rules.missing,
                                      f"{period.label}反馈{what}（截止{deadline.isoformat()}）"))
        if unit not in units:
            units.append(unit)
    for adj in ledger.adjustments:
        item, finding = _adjustment(adj, canonical, directory)
        if finding is not None:
            out.findings.append(finding)
            continue
        out.items.append(item)
        if item.unit not in units:
            units.append(item.unit)
    by_unit: dict[str, UnitScore] = {}
    for name in units:
        unit = directory.unit(name)
        by_unit[name] = UnitScore(name, unit.type if unit else "", rules.base)
    for item in out.items:
        row = by_unit[item.unit]
        if item.kind == ADJUST:
            row.adjustment += item.points
            continue
        row.deduction += item.points
        counter = _COUNTERS[item.kind]
        setattr(row, counter, getattr(row, counter) + 1)
    for row in by_unit.values():
        row.adjustment, row.deduction = round(row.adjustment, 2), round(row.deduction, 2)
        row.score = round(max(0.0, row.base - row.deduction + row.adjustment), 2)
        row.grade = rules.grade(row.score)
    ordered = sorted(by_unit.values(), key=lambda r: -r.score)  # stable: 单位名录 order among equals
    for row in ordered:
        row.rank = 1 + sum(other.score > row.score for other in ordered)
    out.rows = ordered
    return out


def adjustment_findings(ledger: Ledger) -> list[Finding]:
    """The 考核调整 rows that cannot count, as ``validate`` lists them."""
    directory = UnitDirectory(ledger.units)
    return [f for adj in ledger.adjustments if (f := _adjustment(adj, normalize_name, directory)[1]) is not None]


def _adjustment(adj: Adjustment, canonical, directory: UnitDirectory) -> tuple[Item | None, Finding | None]:
    """An adjustment row as an item, or the finding why it cannot count: a score change that
    is not traceable to a named unit, a number, a reason and an approver is not applied."""
    where = {"sheet": "考核调整", "row": adj.row}
    name = normalize_name(adj.unit)
    if not name or directory.unit(name) is None and not directory.resolve(name).certain:
        return None, error("score-adjustment-invalid", f"考核调整中的单位“{adj.unit}”不在单位名录中，该项调整未计入。",
                           **where, column="单位", hint="填写单位名录中的单位名称。")
    try:
        value = float(str(adj.points).strip().replace("＋", "+").replace("－", "-"))
    except ValueError:
        return None, error("score-adjustment-invalid", f"考核调整中“{adj.unit}”的分值“{adj.points}”不是数字，该项调整未计入。",
                           **where, column="分值", hint="填写加分（如 2）或减分（如 -1.5）。")
    if not str(adj.reason or "").strip() or not str(adj.approver or "").strip():
        return None, error("score-adjustment-invalid", f"考核调整中“{adj.unit}”{points(value)}分未写明事由或批准人，该项调整未计入。",
                           **where, column="事由" if not str(adj.reason or "").strip() else "批准人",
                           hint="考核加减分须写明事由并经领导批准，填写事由和批准人后重新运行考核。")
    return Item(canonical(name), "", "", ADJUST, round(value, 2), f"{adj.reason.strip()}（批准人：{adj.approver.strip()}）"), None

