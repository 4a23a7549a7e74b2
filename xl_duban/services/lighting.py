"""``duban light``: the lights of a period over the whole history (DESIGN §5)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..domain.changes import relight
from ..domain.findings import warning
from ..domain.lights import LightRules
from ..domain.models import LightColor
from ..domain.dashboard import build_dashboard
from ..io.dashboard_sheet import write_dashboard
from ..io.views import write_overview
from .outcome import Outcome, period_argument, reports_bad_input
from .session import Store, session

RULE_SETTINGS = ("红灯阈值", "缺报视为", "逾期报送视为")


@reports_bad_input
def light_up(ledger_path: Path | Store, period_text: str, *, now: datetime) -> Outcome:
    """``duban light``: lights of every task of P's cadence over the whole history.

    Recomputes all streaks, keeps the office's overrides, logs every changed light in
    变更日志, regenerates 亮灯总览 and 督查看板, and writes the ledger once.
    """
    period = period_argument(period_text)
    with session(ledger_path, "light", now) as s:
        ledger, findings, due = s.ledger, s.findings, s.due
        where = {"file": s.file, "sheet": "亮灯记录"}
        run = relight(ledger, period, due, LightRules.of(s.settings), now, lambda task_id, p: where)
        row_of = {f"{r.task_id} {r.period}": n for n, r in enumerate(ledger.lights, 2)}
        run.findings = [f.model_copy(update={"row": row_of.get(f.subject)}) for f in run.findings]
        if now.date() <= due(period) and any(v.missing for v in run.verdicts if v.period == period):
            findings.append(warning("before-deadline", f"{period}的报送截止日为{due(period).isoformat()}，尚未到期；"
                                                       "未报送的任务已按“未报送”亮灯。", sheet="亮灯记录",
                                    hint="截止日过后再次运行亮灯，结果会自动更新。"))
        year = ledger.year or period.year
        overview = lambda wb: write_overview(wb, year, ledger.tasks, ledger.lights, str(period))  # noqa: E731
        all_findings = [*findings, *s.settings.findings(*RULE_SETTINGS), *due.findings, *run.findings]
        dashboard = lambda wb: write_dashboard(wb, build_dashboard(ledger, year))  # noqa: E731
        s.save(validation=all_findings, highlights=all_findings, views=[overview, dashboard])
        lit = [v for v in run.verdicts if v.period == period]
        counts = {c.value: sum(v.light is c for v in lit) for c in LightColor}
        return Outcome(summary={"ledger": str(s.path), "period": str(period), "counts": counts,
                                "lit_tasks": len(lit), "recomputed": len(run.verdicts)}, findings=all_findings)
