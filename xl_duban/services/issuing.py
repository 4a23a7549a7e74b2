"""``duban issue``: one signed workbook per lead unit (DESIGN §6)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from ..domain.changes import record_issue
from ..domain.collecting import SubmissionIndex
from ..domain.findings import error, warning
from ..domain.issuing import (Form, IssueIndex, build_issue, build_targets_issue, file_name as issue_file_name, recipients,
                              sign, targets_label, unnamed_group_findings)
from ..domain.models import TaskKind
from ..domain.periods import Period
from ..domain.units import UnitDirectory
from ..io.archive import archive_issued
from ..io.keys import signing_key
from ..io.unit_workbook import write_unit_workbook
from ..timing import stage
from .outcome import BadInput, Outcome, Progress, kind_argument, period_argument, reports_bad_input
from .session import Store, session

TARGETS_DAYS = 10  # a 目标安排表 is due ten days after it is issued (next working day if that is a day off)


def issue_target(period_text: str, kind_text: str | None, targets: bool) -> tuple[str, TaskKind, Period | None, int]:
    """What to issue: (报送情况 周期, kind, period or None for a 目标安排表, year).

    A feedback form's kind follows its period (quarter → key tasks, month → 民生实事). A
    目标安排表 covers a year: ``--period 2024`` (key tasks unless ``--kind``) or any period of it.
    """
    kind = kind_argument(kind_text)
    if targets:
        text = str(period_text).strip()
        if re.fullmatch(r"\d{4}(年|年度)?", text):
            year, kind = int(text[:4]), kind or TaskKind.key
        else:
            period = period_argument(text)
            year, kind = period.year, kind or TaskKind.reporting_in(period)
        return targets_label(year, kind), kind, None, year
    period = period_argument(period_text)
    natural = TaskKind.reporting_in(period)
    if kind is not None and kind is not natural:
        raise BadInput(error("cadence-mismatch", f"{period}是{'季度' if period.quarter else '月份'}，只能下发{natural.value}反馈表。",
                             hint="重点任务用季度（2024Q1），民生实事用月份（2024-03）。"))
    return str(period), natural, period, period.year


@reports_bad_input
def issue_workbooks(ledger_path: Path | Store, period_text: str, out_dir: Path, *, now: datetime,
                    kind_text: str | None = None, targets: bool = False, progress: Progress | None = None) -> Outcome:
    """``duban issue``: one signed workbook per lead unit with only its tasks.

    Files are written first, then every issue is recorded in 报送情况 in one ledger write;
    re-issuing for the same unit and period supersedes the earlier file (its 下发时间 changes,
    so collect can refuse a return of the old one). With ``targets`` the start-of-year
    目标安排表 is issued instead: one column per quarter (key tasks) or month (民生实事).
    """
    label, kind, period, year = issue_target(period_text, kind_text, targets)
    with session(ledger_path, "issue", now) as s:
        ledger, findings, due = s.ledger, s.findings, s.due
        due_day = due(period) if period is not None else due.workday_on_or_after(now.date() + timedelta(days=TARGETS_DAYS))
        key = signing_key()
        by_unit = recipients(ledger, kind)
        findings.extend(unnamed_group_findings(ledger, kind))  # 相关镇街道 gets no form: say which tasks
        directory = UnitDirectory(ledger.units)
        written: list[dict] = []
        index = IssueIndex.of(ledger) if period is not None else None  # feedback forms only
        submissions = SubmissionIndex(ledger.submissions)
        for n, (unit, tasks) in enumerate(by_unit.items(), 1):
            if progress:
                progress(f"生成 {unit}", n - 1, len(by_unit))
            if directory.unit(unit) is None:
                findings.append(warning("unknown-unit", f"“{unit}”不在单位名录中，仍为其生成了反馈表，但无法发送邮件。",
                                        sheet="单位名录", hint="在【单位名录】中登记该单位及邮箱。"))
            if period is not None:
                issue = build_issue(ledger, unit, tasks, period, now, due_day.isoformat(), index)
            else:
                issue = build_targets_issue(ledger, unit, tasks, year, now, due_day.isoformat())
            with stage("写工作簿 write_unit_workbook"):
                path = write_unit_workbook(out_dir / issue_file_name(issue), issue, sign(issue.payload(), key))
            archive_issued(s.path, label, unit, path)
            written.append({"unit": unit, "file": str(path), "tasks": len(tasks), "issue_id": issue.issue_id})
            record_issue(ledger, submissions, label, unit, now, due_day)
        if progress:
            progress("保存台账", len(by_unit), len(by_unit))
        if not by_unit:
            findings.append(warning("nothing-to-issue", f"台账中没有需要报送的{kind.value}。", sheet="任务台账"))
        s.save()
        form = Form.feedback if period is not None else Form.targets
        return Outcome(summary={"ledger": str(s.path), "period": label, "kind": kind.value, "form": form.value,
                                "due": due_day.isoformat(), "out_dir": str(out_dir), "workbooks": written},
                       findings=[*findings, *due.findings])
