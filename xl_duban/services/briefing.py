"""``duban brief``: one 督查专报 per 分管区领导 — read-only for the ledger."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from ..domain.findings import warning
from ..domain.issuing import file_safe
from ..domain.models import TaskKind
from .bulletin import chart_font_missing, not_lit
from .outcome import Outcome, date_argument, period_argument, reports_bad_input
from .session import Store, session


def brief_file_name(leader: str, period: object) -> str:
    """督查专报-<leader>-<period>.docx, the leader's name made safe for any file system."""
    return f"督查专报-{file_safe(leader)}-{period}.docx"


@reports_bad_input
def brief_leaders(ledger_path: Path | Store, period_text: str, out_dir: Path, *, now: datetime,
                  issued_on: date | str | None = None) -> Outcome:
    """``duban brief``: the 督查专报 of P for every leader named in 责任领导 of a task lit in P
    (quarter → key tasks, month → 民生实事), written into ``out_dir``.

    The ledger is only read: no sheet, no 期号 and no 变更日志 entry — a 专报 is the bulletin's
    content cut to one leader, and publishing the bulletin is what the record keeps. Dated
    ``issued_on`` (``--date``), else the day they are made."""
    from ..domain.briefs import leader_briefs
    from ..domain.bulletin import build_bulletin
    from ..domain.lights import LightRules
    from ..io.bulletin_docs import brief_chart_figure, figure_png, write_brief_docx

    period = period_argument(period_text)
    issued_on = date_argument(issued_on)
    with session(ledger_path, "brief", now) as s:  # never saved: the ledger's bytes stay as they are
        ledger, findings, settings = s.ledger, list(s.findings), s.settings
        unlit = not_lit(ledger, period, "专报")
        if unlit is not None:
            return Outcome(findings=[*findings, unlit])
        kind = TaskKind.reporting_in(period)
        issued_on = issued_on or now.date()
        bulletin = build_bulletin(ledger, period, 0, settings.similarity, LightRules.of(settings), s.due, today=issued_on)
        office = settings.signing_office
        documents, chart_missing = [], False
        for brief in leader_briefs(ledger, bulletin):
            chart = figure_png(lambda font_file, b=brief: brief_chart_figure(b, font_file))
            chart_missing |= chart is None
            path = write_brief_docx(out_dir / brief_file_name(brief.leader, period), brief, office=office,
                                    issued_on=issued_on, chart=chart)
            c = brief.counts
            documents.append({"leader": brief.leader, "document": str(path),
                              "counts": {"绿灯": c.green, "黄灯": c.yellow, "红灯": c.red, "合计": c.total},
                              "red": [i.task_id for i in brief.red], "yellow": [i.task_id for i in brief.yellow],
                              "late": brief.late, "missing": brief.missing, "returned": brief.returned})
        if chart_missing:
            findings.append(chart_font_missing("专报"))
        rows = {t.id: t.row for t in ledger.tasks}
        for item in bulletin.items:
            if not item.leaders:  # in no leader's 专报: the office fills in 责任领导
                findings.append(warning("missing-leader", f"{item.task_id}未填写责任领导，本期亮{item.light}，不在任何领导的专报中。",
                                        sheet="任务台账", row=rows.get(item.task_id), column="责任领导",
                                        hint="在【任务台账】补填责任领导后重新生成专报。"))
        summary = {"ledger": str(s.path), "period": str(period), "kind": kind.value, "out": str(out_dir),
                   "issued_on": issued_on.isoformat(), "chart": bool(documents) and not chart_missing,
                   "briefs": documents}
        return Outcome(summary=summary, findings=findings)
