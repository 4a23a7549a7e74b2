"""``duban score``: the year's 绩效考核 of every lead unit, from the ledger's own record."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..domain.findings import error, warning
from ..domain.models import ChangeLogEntry
from ..domain.schema import ADJUSTMENTS, HOLIDAYS
from .outcome import BadInput, Outcome, period_argument, reports_bad_input
from .session import Store, session

SCORE = "考核"  # 变更日志 操作 of a score run
SCORE_SETTINGS = ("考核基础分", "黄灯扣分", "红灯扣分", "逾期报送扣分", "未报送扣分", "等次好分数线", "等次较好分数线", "等次一般分数线")


def _after_holidays(wb) -> int | None:
    """Where 考核调整 goes among the sheets: after 节假日, as in a new ledger (DESIGN §3)."""
    return wb.sheetnames.index(HOLIDAYS.name) + 1 if HOLIDAYS.name in wb.sheetnames else None


@reports_bad_input
def score_units(ledger_path: Path | Store, year: int | None = None, *, through: str | None = None,
                out_dir: Path | None = None, now: datetime) -> Outcome:
    """``duban score``: 考核-Y and 考核明细-Y in the ledger (and, with ``out_dir``, a workbook
    for the assessment office and the 考核结果通报). Counts 亮灯记录 and 报送情况 as they stand:
    light the last period first. ``through`` limits it to the periods up to P."""
    from ..domain.scoring import ScoreRules, assess, points
    from ..io.ledger_store import write_records
    from ..io.score_docs import sheet_names, write_score_docx, write_score_sheets, write_score_workbook

    last = period_argument(through) if through else None
    with session(ledger_path, "score", now) as s:
        ledger, findings, settings = s.ledger, list(s.findings), s.settings
        own = ledger.year
        year = year or own
        if year is None:
            raise BadInput(error("bad-setting", "台账【设置】中缺少年度，无法确定考核年度。", sheet="设置", hint="填写年度，或用 --year 指定。"))
        if own is not None and year != own:
            raise BadInput(error("usage-error", f"这是{own}年度的台账，不能计算{year}年度的考核。",
                                 hint=f"改用 --year {own}，或打开{year}年度的台账。"))
        if last is not None and last.year != year:
            raise BadInput(error("usage-error", f"--through {last} 不在{year}年度内。", hint=f"填写{year}年度的季度或月份，如 {year}Q2。"))
        rules = ScoreRules.of(settings)
        result = assess(ledger, year, rules, now.date(), s.due, last)
        findings.extend([*settings.findings(*SCORE_SETTINGS), *result.findings])
        if not result.rows:
            findings.append(warning("score-empty", f"{year}年度台账中没有牵头单位，未生成考核结果。", sheet="任务台账",
                                    hint="先导入任务并下发、亮灯。"))
            return Outcome(summary={"ledger": str(s.path), "year": year, "units": 0}, findings=findings)
        scores, details = sheet_names(year)
        views = [lambda wb: write_score_sheets(wb, result)]
        if ADJUSTMENTS.name in s.store.absent_sheets:  # a ledger made before 考核调整 existed: give it one to fill
            views.append(lambda wb: write_records(wb.create_sheet(ADJUSTMENTS.name, _after_holidays(wb)), ADJUSTMENTS, []))
        scope = f"--through {last}" if last else ""
        ledger.changelog.append(ChangeLogEntry(time=now, action=SCORE, object=scores, field="得分",
                                               new=f"{len(result.rows)}个单位（{result.scope}）",
                                               source=f"duban score --year {year} {scope}".strip()))
        files = {}
        if out_dir is not None:
            stem = f"{year}年度督查工作绩效考核结果" + (f"（统计至{last.label}）" if last else "")
            files["workbook"] = str(write_score_workbook(out_dir / f"{stem}.xlsx", result))
            files["document"] = str(write_score_docx(out_dir / f"{stem}通报.docx", result, rules.text(),
                                                     office=settings.signing_office, issued_on=now.date(),
                                                     colophon=(settings.bulletin_report_to, settings.bulletin_send_to,
                                                               settings.bulletin_issue_to)))
        s.save(views=views)
        rows = [{"unit": r.unit, "score": r.score, "grade": r.grade, "rank": r.rank, "yellow": r.yellow, "red": r.red,
                 "late": r.late, "missing": r.missing, "adjustment": r.adjustment} for r in result.rows]
        summary = {"ledger": str(s.path), "year": year, "through": str(last) if last else None, "sheets": [scores, details],
                   "units": len(rows), "items": len(result.items), "rows": rows, **files,
                   "top": [f"{r['unit']} {points(r['score'])}" for r in rows[:3]],
                   "bottom": [f"{r['unit']} {points(r['score'])}" for r in rows[-3:]]}
        return Outcome(summary=summary, findings=findings)
