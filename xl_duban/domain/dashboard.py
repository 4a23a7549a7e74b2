"""督查看板: the year at a glance, for the office and its leaders, from 亮灯记录 alone.

Three views a 督查室 is asked for between bulletins: how the lights moved period by period
(key tasks by quarter, 民生实事 by month), how each 分管区领导's portfolio stands in the
latest period, and which units are most often behind. Every count is of the *final* light
(核定灯色 where the office set one), as the bulletins and the 考核 count them. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .bulletin import COLORS, Counts, counts_of
from .issuing import lead_units_of
from .lights import final_light
from .models import Ledger, LightColor, TaskKind, parse_period_or_none
from .periods import Period, periods_of_year
from .units import UnitDirectory

TOP_UNITS = 10


@dataclass
class Dashboard:
    year: int
    by_period: dict[TaskKind, list[tuple[Period, Counts]]] = field(default_factory=dict)
    latest: dict[TaskKind, Period | None] = field(default_factory=dict)
    by_leader: dict[TaskKind, list[tuple[str, Counts]]] = field(default_factory=dict)
    units_behind: list[tuple[str, int, int]] = field(default_factory=list)  # (unit, yellow, red), most behind first


def build_dashboard(ledger: Ledger, year: int) -> Dashboard:
    """The dashboard of ``year``: periods without any light are left out of the tables."""
    tasks = {t.id: t for t in ledger.tasks if t.id}
    directory = UnitDirectory(ledger.units)
    final: dict[tuple[str, Period], LightColor] = {}
    for record in ledger.lights:
        period = parse_period_or_none(record.period)
        light = final_light(record)
        if period is not None and period.year == year and light in COLORS and record.task_id in tasks:
            final[(record.task_id, period)] = light
    board = Dashboard(year)
    behind: dict[str, list[int]] = {}
    for kind in TaskKind:
        rows = []
        for period in periods_of_year(year, kind.cadence):
            counts = counts_of([light.value for (task_id, p), light in final.items()
                                if p == period and tasks[task_id].kind == kind.value])
            if counts.total:
                rows.append((period, counts))
        board.by_period[kind] = rows
        latest = rows[-1][0] if rows else None
        board.latest[kind] = latest
        lights: dict[str, list[str]] = {}
        for (task_id, p), light in final.items():
            if p == latest and tasks[task_id].kind == kind.value:
                for leader in tasks[task_id].leaders or ["（未填责任领导）"]:
                    lights.setdefault(leader, []).append(light.value)
        leaders = [(leader, counts_of(values)) for leader, values in lights.items()]
        board.by_leader[kind] = sorted(leaders, key=lambda kv: (-kv[1].red, -kv[1].yellow, kv[0]))
    for (task_id, _p), light in final.items():
        if light is LightColor.green:
            continue
        for unit in lead_units_of(tasks[task_id], directory):
            counts = behind.setdefault(unit, [0, 0])
            counts[0 if light is LightColor.yellow else 1] += 1
    ranked = sorted(behind.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), -kv[1][1], kv[0]))  # most lights, then most red
    board.units_behind = [(unit, y, r) for unit, (y, r) in ranked[:TOP_UNITS]]
    return board
