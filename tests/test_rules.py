"""Ledger validation rules (DESIGN §5, §7): one table of cases per check function.

Every case starts from a clean ledger built in code (records carry explicit Excel ``row``
numbers), breaks one thing, and asserts the exact (code, sheet, row, column) of each
finding — nothing more, nothing less.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Callable

import pytest

from xl_duban.domain import rules
from xl_duban.domain.findings import Finding, Level, count_by_level, has_errors
from xl_duban.domain.models import (
    Adjustment,
    Feedback,
    Holiday,
    Ledger,
    LightRecord,
    NodeTarget,
    Setting,
    Submission,
    Task,
    Unit,
)
from xl_duban.domain.rules import (
    CHECKS,
    Context,
    check_adjustments,
    check_cadence,
    check_choices,
    check_dates,
    check_deadlines,
    check_leaders,
    check_references,
    check_required,
    check_settings,
    check_task_ids,
    check_unit_directory,
    check_units,
    parse_cell_date,
    validate,
)
from xl_duban.domain.settings import BY_KEY, read_settings


def _typed(ledger: Ledger, key: str, default):
    """(value, findings) of one 设置 key as the commands read it (the typed settings)."""
    settings, _ = read_settings(ledger.settings, require_year=False)
    assert BY_KEY[key].default == default  # the default the test expects is the declared one
    return getattr(settings, BY_KEY[key].attr), settings.findings(key)


int_setting = choice_setting = _typed

FILE = "台账.xlsx"
CTX = Context(file=FILE, today=date(2024, 6, 1))

TASKS, TARGETS, FEEDBACK, LIGHTS, UNITS, SUBMISSIONS, SETTINGS, HOLIDAYS = (
    "任务台账", "节点目标", "反馈记录", "亮灯记录", "单位名录", "报送情况", "设置", "节假日",
)


def clean_ledger() -> Ledger:
    """A small, fully valid 2024 ledger (rows are Excel rows: header on row 1)."""
    return Ledger(
        settings=[
            Setting(row=2, key="年度", value=2024),
            Setting(row=3, key="红灯阈值", value=2),
            Setting(row=4, key="季度截止日", value=10),
            Setting(row=5, key="月报截止工作日", value=3),
            Setting(row=6, key="机关名称", value="区人民政府办公室"),
        ],
        units=[
            Unit(row=2, name="区发展和改革局", type="区直部门", email="fgj@yc.gov.cn"),
            Unit(row=3, name="区财政局", type="区直部门", email="czj@yc.gov.cn; czj2@yc.gov.cn"),
            Unit(row=4, name="新江街道办事处", type="镇街", email="xj@yc.gov.cn"),
            Unit(row=5, name="上城街道办事处", type="镇街"),
        ],
        tasks=[
            Task(row=2, id="2024-ZD-001", kind="重点任务", category="经济发展", seq="1",
                 content="抓好稳外贸政策措施落地", leaders=["疏纲"], lead_units=["区发展和改革局"],
                 co_units=["区财政局"], deadline=date(2024, 12, 31), cadence="季度", status="进行中"),
            Task(row=3, id="2024-MS-01", kind="民生实事", content="老旧小区改造", leaders=["邓彬斌"],
                 lead_units=["各镇人民政府、街道办事处"], deadline="长期", cadence="月度", status="进行中"),
            Task(row=4, id="2024-MS-01-1", kind="民生实事", content="新江片区改造",
                 lead_units=["新江街道办事处"], deadline=date(2024, 9, 30), cadence="月度", status="进行中"),
        ],
        targets=[
            NodeTarget(row=2, task_id="2024-ZD-001", period="2024Q1", target="完成出口退税流程优化",
                       status="已确认", confirmed_on=date(2024, 3, 29)),
            NodeTarget(row=3, task_id="2024-MS-01-1", period="2024-03", target="完成摸底", status="待报送"),
        ],
        feedback=[
            Feedback(row=2, task_id="2024-ZD-001", period="2024Q1", unit="区发展和改革局", completion="已完成",
                     progress="已完成", self_light="绿灯", received_at=datetime(2024, 4, 8, 10, 30), late="否"),
        ],
        lights=[LightRecord(row=2, task_id="2024-ZD-001", period="2024Q1", light="绿灯", streak=0)],
        submissions=[Submission(row=2, period="2024Q1", unit="区发展和改革局", status="已报送")],
        holidays=[Holiday(row=2, day="2024-10-01", type="休", note="国庆节")],
    )


def where(findings: list[Finding]) -> list[tuple]:
    return sorted((f.code, f.sheet, f.row, f.column) for f in findings)


@pytest.fixture
def ledger() -> Ledger:
    return clean_ledger()


# -- the clean ledger ----------------------------------------------------------------------------

@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_clean_ledger_has_no_findings_per_check(ledger, check):
    assert check(ledger, CTX) == []


def test_clean_ledger_validates(ledger):
    assert validate(ledger, CTX) == []


def test_checks_registry_lists_every_check_function():
    defined = {name for name in dir(rules) if name.startswith("check_")}
    assert {c.__name__ for c in CHECKS} == defined


# -- table of cases ------------------------------------------------------------------------------

Mutator = Callable[[Ledger], None]


def _set(obj, **values) -> None:
    for k, v in values.items():
        setattr(obj, k, v)


CASES: list[tuple[str, Callable, Mutator, list[tuple]]] = [
    # check_settings ---------------------------------------------------------------------------
    ("year-not-number", check_settings, lambda L: _set(L.settings[0], value="二〇二四"),
     [("bad-setting", SETTINGS, 2, "值")]),
    ("year-missing", check_settings, lambda L: L.settings.pop(0),
     [("bad-setting", SETTINGS, None, "值")]),
    ("year-blank", check_settings, lambda L: _set(L.settings[0], value=""),
     [("bad-setting", SETTINGS, 2, "值")]),
    ("red-threshold-0", check_settings, lambda L: _set(L.settings[1], value=0),
     [("bad-setting", SETTINGS, 3, "值")]),
    ("red-threshold-1-ok", check_settings, lambda L: _set(L.settings[1], value=1), []),
    ("red-threshold-fraction", check_settings, lambda L: _set(L.settings[1], value=2.5),
     [("bad-setting", SETTINGS, 3, "值")]),
    ("red-threshold-13", check_settings, lambda L: _set(L.settings[1], value="13"),
     [("bad-setting", SETTINGS, 3, "值")]),
    ("red-threshold-text", check_settings, lambda L: _set(L.settings[1], value="两次"),
     [("bad-setting", SETTINGS, 3, "值")]),
    ("red-threshold-12-ok", check_settings, lambda L: _set(L.settings[1], value=12.0), []),
    ("red-threshold-blank-ok", check_settings, lambda L: _set(L.settings[1], value=None), []),
    ("quarter-day-29", check_settings, lambda L: _set(L.settings[2], value=29),
     [("bad-setting", SETTINGS, 4, "值")]),
    ("quarter-day-28-ok", check_settings, lambda L: _set(L.settings[2], value="28"), []),
    ("monthly-workday-0", check_settings, lambda L: _set(L.settings[3], value=0),
     [("bad-setting", SETTINGS, 5, "值")]),
    ("monthly-workday-16", check_settings, lambda L: _set(L.settings[3], value=16),
     [("bad-setting", SETTINGS, 5, "值")]),
    ("monthly-workday-11", check_settings, lambda L: _set(L.settings[3], value=11),
     [("bad-setting", SETTINGS, 5, "值")]),
    ("monthly-workday-10-ok", check_settings, lambda L: _set(L.settings[3], value=10), []),
    ("backups-0", check_settings, lambda L: L.settings.append(Setting(row=7, key="备份保留份数", value=0)),
     [("bad-setting", SETTINGS, 7, "值")]),
    ("backups-100-ok", check_settings, lambda L: L.settings.append(Setting(row=7, key="备份保留份数", value=100)), []),
    ("first-issue-1000", check_settings, lambda L: L.settings.append(Setting(row=7, key="起始期号", value="1000")),
     [("bad-setting", SETTINGS, 7, "值")]),
    ("first-issue-999-ok", check_settings, lambda L: L.settings.append(Setting(row=7, key="起始期号", value=999)), []),
    ("missing-as-blue", check_settings, lambda L: L.settings.append(Setting(row=7, key="缺报视为", value="蓝灯")),
     [("bad-setting", SETTINGS, 7, "值")]),
    ("missing-as-red-ok", check_settings, lambda L: L.settings.append(Setting(row=7, key="缺报视为", value=" 红灯 ")), []),
    ("late-as-red", check_settings, lambda L: L.settings.append(Setting(row=7, key="逾期报送视为", value="红灯")),
     [("bad-setting", SETTINGS, 7, "值")]),
    ("late-as-yellow-ok", check_settings, lambda L: L.settings.append(Setting(row=7, key="逾期报送视为", value="黄灯")), []),
    # check_required ---------------------------------------------------------------------------
    ("task-no-lead-unit", check_required, lambda L: _set(L.tasks[0], lead_units=[]),
     [("required-field", TASKS, 2, "牵头单位")]),
    ("task-no-content-no-kind", check_required, lambda L: _set(L.tasks[1], content="", kind=""),
     [("required-field", TASKS, 3, "类别"), ("required-field", TASKS, 3, "工作任务")]),
    ("task-no-id-cadence-status", check_required, lambda L: _set(L.tasks[2], id="", cadence="", status=""),
     [("required-field", TASKS, 4, "任务编号"), ("required-field", TASKS, 4, "报送周期"),
      ("required-field", TASKS, 4, "状态")]),
    ("task-optional-blank-ok", check_required,
     lambda L: _set(L.tasks[0], leaders=[], co_units=[], deadline=None, category="", note=""), []),
    ("target-no-text", check_required, lambda L: _set(L.targets[1], target=""),
     [("required-field", TARGETS, 3, "节点目标")]),
    ("target-no-period", check_required, lambda L: _set(L.targets[0], period=""),
     [("required-field", TARGETS, 2, "周期")]),
    ("feedback-no-unit", check_required, lambda L: _set(L.feedback[0], unit=""),
     [("required-field", FEEDBACK, 2, "报送单位")]),
    ("unit-no-type", check_required, lambda L: _set(L.units[2], type=""),
     [("required-field", UNITS, 4, "类型")]),
    ("holiday-no-day", check_required, lambda L: _set(L.holidays[0], day=None),
     [("required-field", HOLIDAYS, 2, "日期")]),
    # check_choices ----------------------------------------------------------------------------
    ("task-kind", check_choices, lambda L: _set(L.tasks[0], kind="重点工作"),
     [("invalid-choice", TASKS, 2, "类别")]),
    ("task-status", check_choices, lambda L: _set(L.tasks[1], status="完成"),
     [("invalid-choice", TASKS, 3, "状态")]),
    ("task-cadence", check_choices, lambda L: _set(L.tasks[2], cadence="每月"),
     [("invalid-choice", TASKS, 4, "报送周期")]),
    ("target-status", check_choices, lambda L: _set(L.targets[0], status="确认"),
     [("invalid-choice", TARGETS, 2, "确认状态")]),
    ("feedback-completion-light-late", check_choices,
     lambda L: _set(L.feedback[0], completion="完成", self_light="绿", late="Y"),
     [("invalid-choice", FEEDBACK, 2, "完成情况"), ("invalid-choice", FEEDBACK, 2, "自评灯色"),
      ("invalid-choice", FEEDBACK, 2, "是否逾期")]),
    ("light-color", check_choices, lambda L: _set(L.lights[0], light="蓝灯"),
     [("invalid-choice", LIGHTS, 2, "灯色")]),
    ("unit-type", check_choices, lambda L: _set(L.units[3], type="街道"),
     [("invalid-choice", UNITS, 5, "类型")]),
    ("submission-status", check_choices, lambda L: _set(L.submissions[0], status="已交"),
     [("invalid-choice", SUBMISSIONS, 2, "状态")]),
    ("holiday-type", check_choices, lambda L: _set(L.holidays[0], type="假"),
     [("invalid-choice", HOLIDAYS, 2, "类型")]),
    ("blank-choice-ok", check_choices, lambda L: _set(L.feedback[0], completion="", self_light="", late=""), []),
    # check_task_ids ---------------------------------------------------------------------------
    ("duplicate-id", check_task_ids,
     lambda L: L.tasks.append(Task(row=5, id="2024-ZD-001", kind="重点任务")),
     [("duplicate-task-id", TASKS, 5, "任务编号")]),
    ("bad-id-short-number", check_task_ids, lambda L: _set(L.tasks[0], id="2024-ZD-1"),
     [("bad-task-id", TASKS, 2, "任务编号")]),
    ("bad-id-no-year", check_task_ids, lambda L: _set(L.tasks[0], id="ZD-001"),
     [("bad-task-id", TASKS, 2, "任务编号")]),
    ("thousandth-task-of-a-province", check_task_ids, lambda L: _set(L.tasks[0], id="2024-ZD-1000"), []),
    ("bad-id-five-digits", check_task_ids, lambda L: _set(L.tasks[0], id="2024-ZD-10000"),
     [("bad-task-id", TASKS, 2, "任务编号")]),
    ("id-kind-mismatch", check_task_ids, lambda L: _set(L.tasks[0], id="2024-MS-02"),
     [("task-id-kind-mismatch", TASKS, 2, "任务编号")]),
    ("id-year-mismatch", check_task_ids, lambda L: _set(L.tasks[0], id="2023-ZD-001"),
     [("task-id-year", TASKS, 2, "任务编号")]),
    ("id-year-unknown-ledger-year", check_task_ids,
     lambda L: (_set(L.tasks[0], id="2023-ZD-001"), L.settings.pop(0)), []),
    ("blank-id-skipped", check_task_ids, lambda L: _set(L.tasks[0], id=""), []),
    # check_units ------------------------------------------------------------------------------
    ("abbreviated-lead-unit", check_units, lambda L: _set(L.tasks[0], lead_units=["区发改局"]),
     [("unknown-unit", TASKS, 2, "牵头单位")]),
    ("unknown-co-unit", check_units, lambda L: _set(L.tasks[0], co_units=["区统计局"]),
     [("unknown-unit", TASKS, 2, "配合单位")]),
    ("alias-used", check_units,
     lambda L: (_set(L.units[1], aliases=["区财政"]), _set(L.tasks[0], co_units=["区财政"])),
     [("unit-alias", TASKS, 2, "配合单位")]),
    ("collective-without-townships", check_units, lambda L: _set(L, units=L.units[:2]),
     [("collective-empty", TASKS, 3, "牵头单位"), ("unknown-unit", TASKS, 4, "牵头单位")]),
    # DESIGN §3 / issue 22: a some-of name is an error until the office names the units.
    ("unspecified-collective", check_units,
     lambda L: _set(L.tasks[1], lead_units=["有关镇人民政府、街道办事处"]), [("unnamed-collective", TASKS, 3, "牵头单位")]),
    ("feedback-unit", check_units, lambda L: _set(L.feedback[0], unit="区统计局"),
     [("unknown-unit", FEEDBACK, 2, "报送单位")]),
    # check_unit_directory ---------------------------------------------------------------------
    ("ambiguous-alias", check_unit_directory,
     lambda L: (_set(L.units[0], aliases=["区发改局"]), _set(L.units[1], aliases=["区发改局"])),
     [("ambiguous-unit-name", UNITS, 3, "别名")]),
    ("name-equals-other-alias", check_unit_directory,
     lambda L: (_set(L.units[0], aliases=["区财政局"])),
     [("ambiguous-unit-name", UNITS, 3, "单位名称")]),
    ("duplicate-unit", check_unit_directory,
     lambda L: L.units.append(Unit(row=6, name="区财政局", type="区直部门")),
     [("duplicate-unit", UNITS, 6, "单位名称")]),
    ("bad-email", check_unit_directory, lambda L: _set(L.units[0], email="fgj.yc.gov.cn"),
     [("bad-email", UNITS, 2, "邮箱")]),
    ("one-bad-email-of-two", check_unit_directory, lambda L: _set(L.units[1], email="czj@yc.gov.cn；czj@yc"),
     [("bad-email", UNITS, 3, "邮箱")]),
    # check_leaders ----------------------------------------------------------------------------
    ("missing-leader", check_leaders, lambda L: _set(L.tasks[0], leaders=[]),
     [("missing-leader", TASKS, 2, "责任领导")]),
    ("missing-leader-cancelled-ok", check_leaders, lambda L: _set(L.tasks[0], leaders=[], status="已取消"), []),
    ("missing-leader-no-id-ok", check_leaders, lambda L: _set(L.tasks[0], leaders=[], id=""), []),
    # check_deadlines (完成时限 as task lists write it; the forms themselves: tests/test_deadlines.py)
    ("deadline-garbage", check_deadlines, lambda L: _set(L.tasks[0], deadline="按省统一部署"),
     [("deadline-unreadable", TASKS, 2, "完成时限")]),
    ("deadline-two-dates", check_deadlines, lambda L: _set(L.tasks[0], deadline="6月底前完成一期，年底前完成二期"),
     [("deadline-ambiguous", TASKS, 2, "完成时限")]),
    ("deadline-impossible-day", check_deadlines, lambda L: _set(L.tasks[0], deadline="2024-02-30"),
     [("bad-date", TASKS, 2, "完成时限")]),
    ("deadline-month-13", check_deadlines, lambda L: _set(L.tasks[0], deadline="13月底前"),
     [("bad-date", TASKS, 2, "完成时限")]),
    ("deadline-ongoing-ok", check_deadlines, lambda L: _set(L.tasks[0], deadline="持续推进"), []),
    ("deadline-date-cell-ok", check_deadlines, lambda L: _set(L.tasks[0], deadline=datetime(2025, 6, 30)), []),
    ("deadline-next-year-text", check_deadlines, lambda L: _set(L.tasks[0], deadline="2025年6月底"),
     [("deadline-text", TASKS, 2, "完成时限")]),
    ("deadline-yearless-month-end-text", check_deadlines, lambda L: _set(L.tasks[0], deadline="6月底前"),
     [("deadline-text", TASKS, 2, "完成时限")]),
    ("deadline-year-end-text", check_deadlines, lambda L: _set(L.tasks[0], deadline="年底前"),
     [("deadline-text", TASKS, 2, "完成时限")]),
    ("deadline-yearless-no-ledger-year", check_deadlines,
     lambda L: (_set(L.tasks[0], deadline="6月底前"), L.settings.pop(0)),
     [("bad-date", TASKS, 2, "完成时限")]),
    ("deadline-two-years-out", check_deadlines, lambda L: _set(L.tasks[0], deadline="2026-06-30"),
     [("date-out-of-range", TASKS, 2, "完成时限")]),
    ("deadline-last-year", check_deadlines, lambda L: _set(L.tasks[2], deadline=date(2023, 12, 31)),
     [("date-out-of-range", TASKS, 4, "完成时限")]),
    ("overdue", check_deadlines, lambda L: _set(L.tasks[2], deadline=date(2024, 5, 31)),
     [("task-overdue", TASKS, 4, "完成时限")]),
    ("overdue-text-deadline", check_deadlines, lambda L: _set(L.tasks[0], deadline="5月底前"),
     [("deadline-text", TASKS, 2, "完成时限"), ("task-overdue", TASKS, 2, "完成时限")]),
    ("due-today-not-overdue", check_deadlines, lambda L: _set(L.tasks[2], deadline=date(2024, 6, 1)), []),
    ("overdue-but-done-ok", check_deadlines, lambda L: _set(L.tasks[2], deadline=date(2024, 5, 31), status="已办结"), []),
    ("overdue-but-cancelled-ok", check_deadlines,
     lambda L: _set(L.tasks[2], deadline=date(2024, 5, 31), status="已取消"), []),
    # check_dates ------------------------------------------------------------------------------
    ("received-yearless-is-bad", check_dates, lambda L: _set(L.feedback[0], received_at="4月8日"),
     [("bad-date", FEEDBACK, 2, "报送时间")]),
    ("confirmed-garbage", check_dates, lambda L: _set(L.targets[0], confirmed_on="三月底"),
     [("bad-date", TARGETS, 2, "确认日期")]),
    ("confirmed-in-future", check_dates, lambda L: _set(L.targets[0], confirmed_on="2024-06-02"),
     [("date-in-future", TARGETS, 2, "确认日期")]),
    ("confirmed-today-ok", check_dates, lambda L: _set(L.targets[0], confirmed_on=date(2024, 6, 1)), []),
    ("received-garbage", check_dates, lambda L: _set(L.feedback[0], received_at="昨天"),
     [("bad-date", FEEDBACK, 2, "报送时间")]),
    ("received-in-future", check_dates, lambda L: _set(L.feedback[0], received_at=datetime(2024, 7, 10, 9, 0)),
     [("date-in-future", FEEDBACK, 2, "报送时间")]),
    ("received-text-with-time-ok", check_dates, lambda L: _set(L.feedback[0], received_at="2024-04-08 10:30"), []),
    ("holiday-garbage", check_dates, lambda L: _set(L.holidays[0], day="国庆"),
     [("bad-date", HOLIDAYS, 2, "日期")]),
    # check_cadence ----------------------------------------------------------------------------
    ("task-cadence-vs-kind", check_cadence, lambda L: _set(L.tasks[1], cadence="季度"),
     [("cadence-mismatch", TASKS, 3, "报送周期")]),
    ("target-bad-period", check_cadence, lambda L: _set(L.targets[0], period="一季度"),
     [("bad-period", TARGETS, 2, "周期")]),
    ("target-period-spelling", check_cadence, lambda L: _set(L.targets[0], period="2024年第一季度"),
     [("period-format", TARGETS, 2, "周期")]),
    ("target-period-year", check_cadence, lambda L: _set(L.targets[0], period="2023Q4"),
     [("period-year", TARGETS, 2, "周期")]),
    ("target-month-for-quarterly-task", check_cadence, lambda L: _set(L.targets[0], period="2024-03"),
     [("cadence-mismatch", TARGETS, 2, "周期")]),
    ("feedback-quarter-for-monthly-task", check_cadence,
     lambda L: _set(L.feedback[0], task_id="2024-MS-01-1", period="2024Q1"),
     [("cadence-mismatch", FEEDBACK, 2, "周期")]),
    ("feedback-bad-period", check_cadence, lambda L: _set(L.feedback[0], period="2024Q5"),
     [("bad-period", FEEDBACK, 2, "周期")]),
    ("blank-period-skipped", check_cadence, lambda L: _set(L.targets[0], period=""), []),
    # check_references -------------------------------------------------------------------------
    ("target-unknown-task", check_references, lambda L: _set(L.targets[1], task_id="2024-MS-09-1"),
     [("target-unknown-task", TARGETS, 3, "任务编号")]),
    ("feedback-unknown-task", check_references, lambda L: _set(L.feedback[0], task_id="2024-ZD-099"),
     [("feedback-unknown-task", FEEDBACK, 2, "任务编号")]),
    ("duplicate-target", check_references,
     lambda L: L.targets.append(NodeTarget(row=4, task_id="2024-ZD-001", period="2024Q1", target="另一个目标")),
     [("duplicate-target", TARGETS, 4, "周期")]),
    ("same-task-other-period-ok", check_references,
     lambda L: L.targets.append(NodeTarget(row=4, task_id="2024-ZD-001", period="2024Q2", target="下季度目标")), []),
    ("orphan-subitem", check_references,
     lambda L: L.tasks.append(Task(row=5, id="2024-MS-05-1", kind="民生实事")),
     [("orphan-subitem", TASKS, 5, "任务编号")]),
    # -- 考核调整 ----------------------------------------------------------------------------
    ("adjustment-ok", check_adjustments,
     lambda L: L.adjustments.append(Adjustment(row=2, unit="区财政局", points=2, reason="获省级表彰", approver="张区长")), []),
    ("adjustment-unknown-unit", check_adjustments,
     lambda L: L.adjustments.append(Adjustment(row=2, unit="区不存在局", points=2, reason="表彰", approver="张区长")),
     [("score-adjustment-invalid", "考核调整", 2, "单位")]),
    ("adjustment-not-a-number", check_adjustments,
     lambda L: L.adjustments.append(Adjustment(row=3, unit="区财政局", points="两分", reason="表彰", approver="张区长")),
     [("score-adjustment-invalid", "考核调整", 3, "分值")]),
    ("adjustment-unapproved", check_adjustments,
     lambda L: L.adjustments.append(Adjustment(row=4, unit="新江街道办事处", points=-1, reason="投诉属实", approver="")),
     [("score-adjustment-invalid", "考核调整", 4, "批准人")]),
]


@pytest.mark.parametrize(("case", "check", "mutate", "expected"), CASES, ids=[c[0] for c in CASES])
def test_check(case, check, mutate, expected):
    ledger = clean_ledger()
    mutate(ledger)
    findings = check(ledger, CTX)
    assert where(findings) == sorted(expected)
    for f in findings:
        assert f.file == FILE
        assert f.message  # a Chinese sentence for the clerk
        assert f.code == f.code.lower() and " " not in f.code  # kebab-case


def test_every_check_has_cases():
    covered = {c[1].__name__ for c in CASES if c[3]}
    assert covered == {c.__name__ for c in CHECKS}


# -- levels and messages ------------------------------------------------------------------------

def _only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def test_unknown_unit_abbreviation_message_matches_design(ledger):
    ledger.tasks[0].lead_units = ["区发改局"]
    f = _only(check_units(ledger, CTX))
    assert f.level is Level.warning
    assert f.message == "“区发改局”不在单位名录中，是否为“区发展和改革局”？"
    assert "区发展和改革局" in f.hint
    assert f.location() == "台账.xlsx › 任务台账 › 第2行 › 【牵头单位】"


def test_unknown_unit_without_match_is_an_error(ledger):
    ledger.tasks[0].co_units = ["区统计局"]
    f = _only(check_units(ledger, CTX))
    assert f.level is Level.error
    assert f.message.startswith("“区统计局”不在单位名录中。")


def test_unknown_unit_suggests_nearest_name(ledger):
    ledger.tasks[0].co_units = ["区发展与改革委员会"]
    f = _only(check_units(ledger, CTX))
    assert f.level is Level.error
    assert f.message == "“区发展与改革委员会”不在单位名录中。是否为“区发展和改革局”？"


def test_alias_is_info_with_canonical_name(ledger):
    ledger.units[1].aliases = ["区财政"]
    ledger.tasks[0].co_units = ["区财政"]
    f = _only(check_units(ledger, CTX))
    assert f.level is Level.info
    assert f.message == "“区财政”是“区财政局”的别名。"


def test_collective_empty_is_warning(ledger):
    ledger.units = ledger.units[:2]
    ledger.tasks[2].lead_units = ["区财政局"]
    f = _only(check_units(ledger, CTX))
    assert (f.code, f.level) == ("collective-empty", Level.warning)
    assert "各镇人民政府、街道办事处" in f.message


def test_duplicate_task_id_names_first_row(ledger):
    ledger.tasks.append(Task(row=9, id="2024-ZD-001", kind="重点任务"))
    f = _only(check_task_ids(ledger, CTX))
    assert f.level is Level.error
    assert "与第2行重复" in f.message


def test_task_id_warnings_are_warnings(ledger):
    ledger.tasks[0].id = "2024-MS-002"
    ledger.tasks[1].id = "2024-ZD-1"
    levels = {f.code: f.level for f in check_task_ids(ledger, CTX)}
    assert levels == {"task-id-kind-mismatch": Level.warning, "bad-task-id": Level.warning}


def test_duplicate_target_names_first_row(ledger):
    ledger.targets.append(NodeTarget(row=7, task_id="2024-ZD-001", period="2024Q1", target="x"))
    f = _only(check_references(ledger, CTX))
    assert f.level is Level.error
    assert "与第2行重复" in f.message


def test_invalid_choice_lists_allowed_values(ledger):
    ledger.tasks[0].status = "完成"
    f = _only(check_choices(ledger, CTX))
    assert f.message == "【状态】的值“完成”无效。"
    assert f.hint.startswith("只能填写：进行中、已办结、已取消")


def test_required_field_message(ledger):
    ledger.tasks[0].lead_units = []
    f = _only(check_required(ledger, CTX))
    assert f.level is Level.error
    assert f.message == "【牵头单位】不能为空。"


def test_cadence_levels(ledger):
    ledger.tasks[1].cadence = "季度"  # 民生实事 on a quarterly cadence: a warning only
    ledger.targets[0].period = "2024年第一季度"  # accepted spelling: info
    ledger.feedback[0].period = "2024-03"  # month for a quarterly task: error
    levels = sorted((f.code, f.level.value) for f in check_cadence(ledger, CTX))
    assert levels == [("cadence-mismatch", "警告"), ("cadence-mismatch", "错误"), ("period-format", "提示")]


def test_period_format_suggests_canonical_spelling(ledger):
    ledger.targets[1].period = "2024年3月"
    f = _only(check_cadence(ledger, CTX))
    assert f.message == "周期“2024年3月”建议写作“2024-03”。"


def test_date_out_of_range_message(ledger):
    ledger.tasks[0].deadline = "2026年6月30日"
    f = _only(check_deadlines(ledger, CTX))
    assert f.message == "完成时限2026-06-30不在2024年度内。"


def test_overdue_message_names_deadline_and_days(ledger):
    ledger.tasks[0].deadline = "三季度末"  # read as 2024-09-30
    ctx = Context(file=FILE, today=date(2024, 10, 8))
    found = [f for f in check_deadlines(ledger, ctx) if f.row == 2]  # (row 4, due 9-30, is 超期 too)
    assert [(f.code, f.level) for f in found] == [("deadline-text", Level.warning), ("task-overdue", Level.warning)]
    assert found[0].message == "完成时限“三季度末”是文字，可改为日期2024-09-30。"
    assert found[1].message == "任务2024-ZD-001超期未办结：完成时限2024-09-30，已超期8天。"
    assert found[1].hint


def test_deadline_not_range_checked_without_year(ledger):
    ledger.settings = [s for s in ledger.settings if s.key != "年度"]
    ledger.tasks[0].deadline = datetime(2030, 6, 30)
    assert check_deadlines(ledger, CTX) == []


def test_missing_leader_only_for_top_level_tasks(ledger):
    # 2024-MS-01-1 (row 4) already has no leader: sub-items inherit their project's leader.
    assert ledger.tasks[2].leaders == []
    ledger.tasks[1].leaders = []
    f = _only(check_leaders(ledger, CTX))
    assert (f.code, f.level, f.row) == ("missing-leader", Level.warning, 3)


def test_setting_message_quotes_value(ledger):
    ledger.settings[1].value = 0
    f = _only(check_settings(ledger, CTX))
    assert f.message == "【设置】“红灯阈值”的值“0”无效，将按默认值2计算。"
    assert f.hint == "填写 1 到 12 之间的整数。"


# -- regressions: bugs found in review, fixed ---------------------------------------------------------

def test_alias_equal_to_own_name_is_not_a_duplicate_unit(ledger):
    ledger.units[1].aliases = ["区财政局"]
    assert [f.code for f in check_unit_directory(ledger, CTX) if f.code == "duplicate-unit"] == []


def test_duplicate_unit_detected_after_normalisation(ledger):
    ledger.units.append(Unit(row=6, name="区 财政局", type="区直部门", email="other@yc.gov.cn"))
    assert where(check_unit_directory(ledger, CTX)) == [("duplicate-unit", UNITS, 6, "单位名称")]


def test_duplicate_target_detected_across_period_spellings(ledger):
    ledger.targets.append(NodeTarget(row=4, task_id="2024-ZD-001", period="2024年第一季度", target="另一个目标"))
    assert where(check_references(ledger, CTX)) == [("duplicate-target", TARGETS, 4, "周期")]


def test_validate_reports_a_bad_missing_as_setting(ledger):
    ledger.settings.append(Setting(row=7, key="缺报视为", value="绿灯"))
    f = _only(validate(ledger, CTX))
    assert (f.code, f.level, f.file, f.sheet, f.row, f.column) == ("bad-setting", Level.error, FILE, SETTINGS, 7, "值")
    assert f.message == "【设置】“缺报视为”的值“绿灯”无效，将按默认值黄灯计算。"
    assert f.hint == "只能填写：黄灯、红灯。"


# -- typed settings (what the services read) -------------------------------------

@pytest.mark.parametrize(("value", "expected", "bad"), [
    (3, 3, False), ("3", 3, False), (3.0, 3, False), (" 12 ", 12, False), (1, 1, False),
    (None, 2, False), ("", 2, False),  # blank: the default, silently
    (0, 2, True), (13, 2, True), (2.5, 2, True), ("两次", 2, True), ("-1", 2, True),
])
def test_int_setting(value, expected, bad):
    led = Ledger(settings=[Setting(row=4, key="红灯阈值", value=value)])
    got, findings = int_setting(led, "红灯阈值", 2)
    assert got == expected
    assert where(findings) == ([("bad-setting", SETTINGS, 4, "值")] if bad else [])


def test_int_setting_absent_and_other_bounds():
    assert int_setting(Ledger(), "季度截止日", 10) == (10, [])
    led = Ledger(settings=[Setting(row=5, key="季度截止日", value=28), Setting(row=6, key="备份保留份数", value=101)])
    assert int_setting(led, "季度截止日", 10) == (28, [])
    keep, findings = int_setting(led, "备份保留份数", 10)
    assert keep == 10
    assert [(f.row, f.message, f.hint) for f in findings] == [
        (6, "【设置】“备份保留份数”的值“101”无效，将按默认值10计算。", "填写 1 到 100 之间的整数。")]


@pytest.mark.parametrize(("key", "value", "expected", "bad"), [
    ("缺报视为", "红灯", "红灯", False), ("缺报视为", " 黄灯 ", "黄灯", False), ("缺报视为", None, "黄灯", False),
    ("缺报视为", "绿灯", "黄灯", True), ("缺报视为", "红", "黄灯", True),
    ("逾期报送视为", "黄灯", "黄灯", False), ("逾期报送视为", "按内容", "按内容", False),
    ("逾期报送视为", "红灯", "按内容", True),
])
def test_choice_setting(key, value, expected, bad):
    led = Ledger(settings=[Setting(row=8, key=key, value=value)])
    default = {"缺报视为": "黄灯", "逾期报送视为": "按内容"}[key]
    got, findings = choice_setting(led, key, default)
    assert got == expected
    assert where(findings) == ([("bad-setting", SETTINGS, 8, "值")] if bad else [])


# -- validate ------------------------------------------------------------------------------------

def test_validate_runs_every_check_and_sorts(ledger):
    ledger.settings[1].value = 0  # 设置 row 3
    ledger.units[0].email = "bad"  # 单位名录 row 2
    ledger.feedback[0].completion = "完成"  # 反馈记录 row 2
    ledger.tasks[2].lead_units = ["区统计局"]  # 任务台账 row 4
    ledger.tasks[0].status = "完成"  # 任务台账 row 2
    ledger.targets[1].period = "2024Q1"  # 节点目标 row 3: quarter for a monthly task
    findings = validate(ledger, CTX)
    assert [(f.sheet, f.row, f.column, f.code) for f in findings] == [
        (TASKS, 2, "状态", "invalid-choice"),
        (TASKS, 4, "牵头单位", "unknown-unit"),
        (TARGETS, 3, "周期", "cadence-mismatch"),
        (FEEDBACK, 2, "完成情况", "invalid-choice"),
        (UNITS, 2, "邮箱", "bad-email"),
        (SETTINGS, 3, "值", "bad-setting"),
    ]
    assert has_errors(findings)
    assert count_by_level(findings) == {"错误": 6, "警告": 0, "提示": 0}


def test_validate_warnings_only_is_not_an_error(ledger):
    ledger.tasks[0].leaders = []
    findings = validate(ledger, CTX)
    assert [f.code for f in findings] == ["missing-leader"]
    assert not has_errors(findings)
    assert count_by_level(findings) == {"错误": 0, "警告": 1, "提示": 0}


def test_finding_text_and_dict():
    f = Finding(code="unknown-unit", level=Level.warning, message="“区发改局”不在单位名录中。", sheet="任务台账",
                row=12, column="牵头单位", file="台账.xlsx", hint="改为“区发展和改革局”")
    assert f.location() == "台账.xlsx › 任务台账 › 第12行 › 【牵头单位】"
    assert f.text() == "“区发改局”不在单位名录中。（建议：改为“区发展和改革局”）"
    stable = {"code": "unknown-unit", "level": "警告", "file": "台账.xlsx", "sheet": "任务台账",
              "row": 12, "column": "牵头单位", "message": "“区发改局”不在单位名录中。", "hint": "改为“区发展和改革局”"}
    as_dict = f.as_dict()  # the --json shape: these keys are a contract; more may be added
    assert {k: as_dict.get(k) for k in stable} == stable
    bare = Finding(code="x", level=Level.info, message="m")
    assert bare.location() == "" and bare.text() == "m"


# -- parse_cell_date -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-06-30", date(2024, 6, 30)),
        ("2024/6/30", date(2024, 6, 30)),
        ("2024.6.30", date(2024, 6, 30)),
        ("2024年6月30日", date(2024, 6, 30)),
        (" 2024 年 6 月 30 日 ", date(2024, 6, 30)),
        ("2024年6月底", date(2024, 6, 30)),
        ("2024年6月末", date(2024, 6, 30)),
        ("2024年2月底", date(2024, 2, 29)),  # leap year
        ("2023年2月底", date(2023, 2, 28)),
        ("2024年12月底", date(2024, 12, 31)),
        ("2024-06", date(2024, 6, 30)),  # a month means its last day
        ("2024年底", date(2024, 12, 31)),
        ("2024-04-08 10:30", date(2024, 4, 8)),
        ("2024-04-08 10:30:15", date(2024, 4, 8)),
        (date(2024, 6, 30), date(2024, 6, 30)),
        (datetime(2024, 6, 30, 17, 45), date(2024, 6, 30)),
        ("2024年6月底前", date(2024, 6, 30)),
        ("2024年4月8日10:30", date(2024, 4, 8)),
        ("2024-4-8 9:05", date(2024, 4, 8)),
        ("６月底", None),  # year-less needs a year
        ("年底前", None),
        ("2024-02-30", None),
        ("2023-02-29", None),
        ("2024年13月底", None),
        ("2024-13", None),
        ("长期", None),
        ("持续推进", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_cell_date(value, expected):
    assert parse_cell_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("6月底前", date(2024, 6, 30)),
        ("6月30日前", date(2024, 6, 30)),
        ("6月30日", date(2024, 6, 30)),
        ("12月底", date(2024, 12, 31)),
        ("2月底", date(2024, 2, 29)),
        ("9月末", date(2024, 9, 30)),
        ("年底前", date(2024, 12, 31)),
        ("年底", date(2024, 12, 31)),
        ("2025年6月底前", date(2025, 6, 30)),  # an explicit year wins
        ("2月30日", None),
        ("13月底", None),
        ("6", None),
        ("长期", None),
    ],
)
def test_parse_cell_date_yearless_with_ledger_year(value, expected):
    assert parse_cell_date(value, year=2024) == expected


def test_parse_cell_date_yearless_other_year():
    assert parse_cell_date("2月底", year=2023) == date(2023, 2, 28)
    assert parse_cell_date("年底", year=2025) == date(2025, 12, 31)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 4, 8, 10, 30), datetime(2024, 4, 8, 10, 30)),
        (date(2024, 4, 8), datetime(2024, 4, 8, 0, 0)),
        ("2024-04-08 10:30", datetime(2024, 4, 8, 10, 30)),
        ("2024-04-08 10:30:15", datetime(2024, 4, 8, 10, 30, 15)),
        ("2024-4-8 9:05", datetime(2024, 4, 8, 9, 5)),
        ("2024年4月8日14:00", datetime(2024, 4, 8, 14, 0)),
        ("2024-04-08", datetime(2024, 4, 8, 0, 0)),
        ("昨天", None),
        (None, None),
    ],
)
def test_parse_cell_datetime(value, expected):
    from xl_duban.domain.cells import parse_cell_datetime

    assert parse_cell_datetime(value) == expected


def test_parse_cell_date_still_importable_from_rules():
    from xl_duban.domain import cells

    assert rules.parse_cell_date is cells.parse_cell_date
