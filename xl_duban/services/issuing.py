"""``duban issue``: one signed workbook per lead unit (DESIGN §6)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from ..domain.changes import record_issue
from ..domain.collecting import SubmissionIndex
from ..domain.findings import error, warning
from ..domain.issuing import (Form, IssueIndex, build_issue, build_targets_issue, file_name as issue_file_name, recipients,
                              sign, targets_label, unnamed_group_findings, with_confirmed_targets)
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


Confirm = Callable[[list[str], list[str]], bool]  # (units that returned, units whose forms are superseded) → go on?


@reports_bad_input
def issue_workbooks(ledger_path: Path | Store, period_text: str, out_dir: Path, *, now: datetime,
                    kind_text: str | None = None, targets: bool = False, reissue: bool = False,
                    confirm: Confirm | None = None, progress: Progress | None = None) -> Outcome:
    """``duban issue``: one signed workbook per lead unit with only its tasks.

    Files are written first, then every issue is recorded in 报送情况 in one ledger write.
    With ``targets`` the start-of-year 目标安排表 is issued instead: one column per quarter
    (key tasks) or month (民生实事).

    Refused, with nothing written, what would quietly harm: a period outside the ledger's year
    (Q4 and December are the ledger's own, reported in January); a period already issued,
    unless ``reissue`` — then the units that already returned keep their accepted return and
    get no new form, the others' forms are superseded (their 下发时间 changes, so collect
    refuses a return of the old one), after ``confirm`` agrees (the command line asks on a
    terminal). A task without a confirmed node target for the period gets no row — the
    督查方案 judges a unit against its confirmed target, and a form without one can only be
    lit by guesswork — and is named in an error finding.
    """
    label, kind, period, year = issue_target(period_text, kind_text, targets)
    with session(ledger_path, "issue", now) as s:
        ledger, findings, due = s.ledger, s.findings, s.due
        if ledger.year and year != ledger.year:
            raise BadInput(error("period-outside-year", f"{label}不在台账年度（{ledger.year}年）内，未下发任何反馈表。",
                                 sheet="设置", hint=f"周期应为{ledger.year}年的季度或月份（如 {ledger.year}Q1、{ledger.year}-03）；"
                                                     "其他年度请使用该年度的台账。"))
        returned = _check_reissue(ledger, label, reissue, confirm)
        due_day = due(period) if period is not None else due.workday_on_or_after(now.date() + timedelta(days=TARGETS_DAYS))
        if due_day < now.date():
            findings.append(warning("deadline-passed", f"{label}的报送截止日{due_day.isoformat()}已过，各单位收到反馈表时即已逾期。",
                                    sheet="报送情况", hint="确认周期是否填错；如确为补发，请另行通知各单位报送时限。"))
        key = signing_key()
        by_unit = {unit: tasks for unit, tasks in recipients(ledger, kind).items() if unit not in returned}
        findings.extend(unnamed_group_findings(ledger, kind))  # 相关镇街道 gets no form: say which tasks
        if period is not None:
            by_unit, unconfirmed = with_confirmed_targets(ledger, by_unit, period)
            if unconfirmed:
                findings.append(error("no-confirmed-target", f"{period}以下任务没有已确认的节点目标，未列入反馈表："
                                      + "、".join(unconfirmed) + "。", sheet="节点目标",
                                      hint="先下发目标安排表（duban issue --targets）收集节点目标，"
                                           "再用 duban confirm 确认，然后重新下发（duban issue --reissue）。"))
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
        if not by_unit and not returned:
            findings.append(warning("nothing-to-issue", f"台账中没有需要报送的{kind.value}。", sheet="任务台账"))
        s.save()
        form = Form.feedback if period is not None else Form.targets
        return Outcome(summary={"ledger": str(s.path), "period": label, "kind": kind.value, "form": form.value,
                                "due": due_day.isoformat(), "out_dir": str(out_dir), "workbooks": written,
                                "kept_returned": returned},
                       findings=[*findings, *due.findings])


def _check_reissue(ledger, label: str, reissue: bool, confirm: Confirm | None) -> list[str]:
    """The units that already returned ``label`` (they get no new form), after refusing a
    second issue that was not asked for with ``reissue`` or not confirmed."""
    issued = [row for row in ledger.submissions if row.period == label and row.issued_at]
    if not issued:
        return []
    returned = [row.unit for row in issued if row.accepted]
    if not reissue:
        when = max(str(row.issued_at)[:16] for row in issued)
        raise BadInput(error("already-issued", f"{label}已于{when}向{len(issued)}个单位下发，其中{len(returned)}个单位已报送；"
                                               "未重新下发。", sheet="报送情况",
                             hint="如确需重新下发（如任务或节点目标有误），加 --reissue：已报送单位的反馈保留、不再下发，"
                                  "其余单位此前的反馈表作废。"))
    superseded = [row.unit for row in issued if row.unit not in returned]
    if confirm is not None and not confirm(returned, superseded):
        raise BadInput(error("reissue-not-confirmed", f"未确认重新下发{label}，未作任何修改。", sheet="报送情况",
                             hint="在终端中回答 y 确认；在脚本中加 --yes。"))
    return returned
