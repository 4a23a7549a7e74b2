"""Table-driven tests of the light rules (DESIGN §5). Expected lights are written by hand."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from xl_duban.domain.lights import LightRules, light_tasks, normalize_completion, normalize_light, period_name
from xl_duban.domain.models import Feedback, LightRecord, NodeTarget, Task
from xl_duban.domain.periods import Period

Q = [Period(year=2024, quarter=q) for q in range(1, 5)] + [Period(year=2025, quarter=1)]
DUE = {p: date(p.year + (p.quarter == 4), (3 * p.quarter) % 12 + 1, 10) for p in Q}

# Step codes: G met · Y not met · - no return · N no node target · C 已办结 · L met but late
# A step may carry an override "Y>绿灯:reason" (reason may be empty) and a self light "G@黄灯".


def build(steps: list[str], task_id="2024-ZD-001", status="进行中"):
    task = Task(id=task_id, kind="重点任务", content="x", lead_units=["区财政局"], cadence="季度", status=status)
    targets, feedback, existing = [], [], []
    for period, step in zip(Q, steps):
        step, _, self_light = step.partition("@")
        step, _, override = step.partition(">")
        if step == "N":
            continue
        targets.append(NodeTarget(task_id=task_id, period=str(period), target="节点", status="已确认"))
        received = datetime(period.year + (period.quarter == 4), (3 * period.quarter) % 12 + 1, 8)
        if step in ("G", "Y", "C", "L"):
            completion = {"G": "已完成", "Y": "未完成", "C": "已办结", "L": "已完成"}[step]
            if step == "L":
                received = datetime(received.year, received.month, 20)
            feedback.append(Feedback(task_id=task_id, period=str(period), unit="区财政局", completion=completion,
                                     self_light=self_light, received_at=received))
        if override:
            light, _, note = override.partition(":")
            existing.append(LightRecord(task_id=task_id, period=str(period), override=light, override_note=note))
    return task, targets, feedback, existing


def run(steps, rules=LightRules(), up_to=Q[3], status="进行中"):
    task, targets, feedback, existing = build(steps, status=status)
    return light_tasks([task], targets, feedback, existing, up_to, DUE.get, rules)


CASES = [
    # name, steps, expected [(light, streak)] for lit periods only, rules
    ("G,G", ["G", "G"], [("绿灯", 0), ("绿灯", 0)], LightRules()),
    ("Y,Y -> R", ["Y", "Y"], [("黄灯", 1), ("红灯", 2)], LightRules()),
    ("Y,G,Y -> Y", ["Y", "G", "Y"], [("黄灯", 1), ("绿灯", 0), ("黄灯", 1)], LightRules()),
    ("Y,Y,Y -> R stays", ["Y", "Y", "Y"], [("黄灯", 1), ("红灯", 2), ("红灯", 3)], LightRules()),
    ("missing -> Y", ["-"], [("黄灯", 1)], LightRules()),
    ("missing twice -> R", ["-", "-"], [("黄灯", 1), ("红灯", 2)], LightRules()),
    ("late but met -> G", ["L"], [("绿灯", 0)], LightRules()),
    ("late as yellow", ["L", "L"], [("黄灯", 1), ("红灯", 2)], LightRules(late_yellow=True)),
    ("override breaks streak", ["Y", "Y>绿灯:经核实已完成", "Y"], [("黄灯", 1), ("绿灯", 0), ("黄灯", 1)], LightRules()),
    ("override creates streak", ["G>黄灯:数据不实", "Y"], [("黄灯", 1), ("红灯", 2)], LightRules()),
    ("override red at once", ["G>红灯:严重滞后"], [("红灯", 1)], LightRules()),
    ("override keeps yellow", ["Y", "Y>黄灯:给予宽限"], [("黄灯", 1), ("黄灯", 2)], LightRules()),
    ("override without reason ignored", ["Y", "Y>绿灯:"], [("黄灯", 1), ("红灯", 2)], LightRules()),
    ("completed task stops", ["G", "C", "-", "-"], [("绿灯", 0), ("绿灯", 0)], LightRules()),
    ("no target -> no light, streak carries", ["Y", "N", "Y"], [("黄灯", 1), ("红灯", 2)], LightRules()),
    ("no target anywhere", ["N", "N"], [], LightRules()),
    ("threshold 3", ["Y", "Y", "Y", "G"], [("黄灯", 1), ("黄灯", 2), ("红灯", 3), ("绿灯", 0)], LightRules(red_threshold=3)),
    ("missing as red", ["-"], [("红灯", 1)], LightRules(missing_as=normalize_light("红灯"))),
]


@pytest.mark.parametrize("name,steps,expected,rules", CASES, ids=[c[0] for c in CASES])
def test_light_table(name, steps, expected, rules):
    result = run(steps, rules)
    assert [(v.light.value, v.streak) for v in result.verdicts] == expected


def test_basis_sentences():
    verdicts = run(["Y", "Y", "-", "L", "G>黄灯:进度数据不实"], up_to=Q[4]).verdicts
    assert [v.basis for v in verdicts] == [
        "第一季度节点目标未完成，亮黄灯",
        "第二季度节点目标未完成，连续2次黄灯，亮红灯",
        "第三季度未报送，连续3次黄灯，亮红灯",
        "第四季度节点目标已完成（逾期报送），亮绿灯",
        "经核定为黄灯：进度数据不实（系统判定：第一季度节点目标已完成）",
    ]


def test_override_without_reason_is_an_error_finding():
    findings = run(["Y", "Y>绿灯:"], up_to=Q[1]).findings
    assert [(f.code, f.level.value, f.column) for f in findings] == [("override-without-reason", "错误", "核定说明")]


def test_self_assessment_disagreement_is_a_finding_and_both_are_kept():
    result = run(["Y@绿灯", "G@绿灯"], up_to=Q[1])
    assert [(f.code, f.message) for f in result.findings] == [
        ("self-assessment-disagreement", "2024-ZD-001 2024Q1 自评绿灯，核定结果为黄灯。")]
    assert [(v.light.value, v.self_light) for v in result.verdicts] == [("黄灯", "绿灯"), ("绿灯", "绿灯")]


def test_cancelled_and_closed_tasks():
    assert run(["Y", "Y"], status="已取消").verdicts == []
    # marked 已办结 in 任务台账: lit up to its last return, nothing after
    assert [(v.period.quarter, v.light.value) for v in run(["G", "-", "-"], status="已办结").verdicts] == [(1, "绿灯")]


# -- regressions: bugs found in review, fixed ---------------------------------------------------------

def quarters(result):
    return [(v.period.quarter, v.light.value, v.streak) for v in result.verdicts]


def test_marking_a_task_closed_keeps_its_past():
    # Q2 had no return (yellow, then red by streak) before Q3's return closed the task; marking
    # it 已办结 must not erase Q2 nor re-flow Q3's streak, and Q4 gets no light.
    steps = ["Y", "-", "G", "-"]
    assert quarters(run(steps)) == [(1, "黄灯", 1), (2, "红灯", 2), (3, "绿灯", 0), (4, "黄灯", 1)]
    assert quarters(run(steps, status="已办结")) == [(1, "黄灯", 1), (2, "红灯", 2), (3, "绿灯", 0)]
    assert [v.basis for v in run(steps, status="已办结").verdicts] == [
        "第一季度节点目标未完成，亮黄灯", "第二季度未报送，连续2次黄灯，亮红灯", "第三季度节点目标已完成，亮绿灯"]


def test_closed_task_lit_through_its_last_return_only():
    assert quarters(run(["Y", "Y", "-", "-"], status="已办结")) == [(1, "黄灯", 1), (2, "红灯", 2)]
    assert quarters(run(["-", "-", "Y", "-"], status="已办结")) == [(1, "黄灯", 1), (2, "红灯", 2), (3, "红灯", 3)]
    assert quarters(run(["-", "-"], status="已办结")) == []  # never reported: nothing to keep


def test_cancelled_task_gets_no_verdicts_even_with_returns_and_overrides():
    result = run(["Y", "G>黄灯:数据不实", "Y"], status="已取消")
    assert (result.verdicts, result.findings) == ([], [])


def _resubmission(*rows):
    """Feedback rows for 2024Q1, each (unit, completion, received_at)."""
    return [Feedback(task_id="2024-ZD-001", period="2024Q1", unit=u, completion=c, received_at=r) for u, c, r in rows]


def _light_q1(feedback):
    task, targets, _, _ = build(["G"])
    return [(v.light.value, v.basis) for v in light_tasks([task], targets, feedback, [], Q[0], DUE.get, LightRules()).verdicts]


def test_corrected_resubmission_of_the_same_unit_wins():
    feedback = _resubmission(("区财政局", "未完成", datetime(2024, 4, 3, 9, 0)),
                             ("区财政局", "已完成", datetime(2024, 4, 8, 16, 30)))
    assert _light_q1(feedback) == [("绿灯", "第一季度节点目标已完成，亮绿灯")]


def test_latest_return_is_by_received_time_not_row_order():
    feedback = _resubmission(("区财政局", "已完成", "2024-04-08 16:30"),
                             ("区财政局", "未完成", "2024-04-08 09:00"))  # older, pasted below
    assert _light_q1(feedback) == [("绿灯", "第一季度节点目标已完成，亮绿灯")]
    feedback = _resubmission(("区财政局", "已完成", datetime(2024, 4, 3)),
                             ("区 财政局", "未完成", datetime(2024, 4, 8)))  # same unit, padded name
    assert _light_q1(feedback) == [("黄灯", "第一季度节点目标未完成，亮黄灯")]


def test_latest_return_without_time_is_oldest_and_ties_go_to_the_later_row():
    feedback = _resubmission(("区财政局", "已完成", datetime(2024, 4, 8)), ("区财政局", "未完成", None))
    assert _light_q1(feedback) == [("绿灯", "第一季度节点目标已完成，亮绿灯")]
    feedback = _resubmission(("区财政局", "已完成", None), ("区财政局", "未完成", None))
    assert _light_q1(feedback) == [("黄灯", "第一季度节点目标未完成，亮黄灯")]
    feedback = _resubmission(("区财政局", "未完成", datetime(2024, 4, 8, 10)), ("区财政局", "已完成", datetime(2024, 4, 8, 10)))
    assert _light_q1(feedback) == [("绿灯", "第一季度节点目标已完成，亮绿灯")]


def test_other_units_old_not_done_still_counts():
    feedback = _resubmission(("区税务局", "未完成", datetime(2024, 4, 2)),
                             ("区财政局", "未完成", datetime(2024, 4, 3)),
                             ("区财政局", "已完成", datetime(2024, 4, 8)))
    # a report from a unit that is not (or no longer) a lead unit is judged too, and named
    assert _light_q1(feedback) == [("黄灯", "第一季度区税务局节点目标未完成，亮黄灯")]


def test_missing_as_red_basis_does_not_claim_a_yellow_streak():
    rules = LightRules(missing_as=normalize_light("红灯"))
    verdicts = run(["-", "-", "G", "Y", "Y"], rules, up_to=Q[4]).verdicts
    assert [(v.light.value, v.streak, v.basis) for v in verdicts] == [
        ("红灯", 1, "第一季度未报送，亮红灯"),
        ("红灯", 2, "第二季度未报送，亮红灯"),
        ("绿灯", 0, "第三季度节点目标已完成，亮绿灯"),
        ("黄灯", 1, "第四季度节点目标未完成，亮黄灯"),
        ("红灯", 2, "第一季度节点目标未完成，连续2次黄灯，亮红灯"),
    ]


@pytest.mark.parametrize(("period", "expected"), [
    (Period(year=2024, quarter=2), "第二季度"), (Period(year=2025, quarter=4), "第四季度"),
    (Period(year=2024, month=3), "3月"), (Period(year=2024, month=12), "12月"),
])
def test_period_name(period, expected):
    assert period_name(period) == expected


def test_several_lead_units_any_not_done_is_yellow():
    task, targets, _, _ = build(["G"])
    feedback = [Feedback(task_id=task.id, period="2024Q1", unit="区财政局", completion="已完成"),
                Feedback(task_id=task.id, period="2024Q1", unit="区税务局", completion="未完成")]
    verdicts = light_tasks([task], targets, feedback, [], Q[0], DUE.get, LightRules()).verdicts
    assert [v.light.value for v in verdicts] == ["黄灯"]


def test_monthly_and_quarterly_side_by_side():
    key, key_targets, key_feedback, _ = build(["Y", "Y"])
    monthly = Task(id="2024-MS-01", kind="民生实事", content="m", lead_units=["区民政局"], cadence="月度", status="进行中")
    months = [Period(year=2024, month=m) for m in (1, 2, 3)]
    m_targets = [NodeTarget(task_id=monthly.id, period=str(p), target="t") for p in months]
    m_feedback = [Feedback(task_id=monthly.id, period="2024-01", unit="区民政局", completion="未完成"),
                  Feedback(task_id=monthly.id, period="2024-03", unit="区民政局", completion="未完成")]
    tasks, targets, feedback = [key, monthly], key_targets + m_targets, key_feedback + m_feedback
    quarterly = light_tasks(tasks, targets, feedback, [], Q[1], lambda p: None, LightRules()).verdicts
    assert [(v.task_id, str(v.period), v.light.value) for v in quarterly] == [
        ("2024-ZD-001", "2024Q1", "黄灯"), ("2024-ZD-001", "2024Q2", "红灯")]
    monthly_run = light_tasks(tasks, targets, feedback, [], months[2], lambda p: None, LightRules()).verdicts
    assert [(str(v.period), v.light.value, v.streak) for v in monthly_run] == [
        ("2024-01", "黄灯", 1), ("2024-02", "红灯", 2), ("2024-03", "红灯", 3)]


def test_rerunning_an_earlier_period_recomputes_later_streaks():
    task, targets, feedback, _ = build(["Y", "Y", "Y"])
    existing = [LightRecord(task_id=task.id, period="2024Q3", light="红灯", streak=3)]
    # a late return turns Q1 green; lighting Q1 again must re-flow Q2 and Q3
    feedback[0] = feedback[0].model_copy(update={"completion": "已完成"})
    verdicts = light_tasks([task], targets, feedback, existing, Q[0], DUE.get, LightRules()).verdicts
    assert [(str(v.period), v.light.value, v.streak) for v in verdicts] == [
        ("2024Q1", "绿灯", 0), ("2024Q2", "黄灯", 1), ("2024Q3", "红灯", 2)]


@pytest.mark.parametrize("text,expected", [("绿", "绿灯"), ("绿灯", "绿灯"), ("green", "绿灯"), ("G", "绿灯"), ("✓", "绿灯"),
                                           ("黄", "黄灯"), ("Ｙ", "黄灯"), ("红灯", "红灯"), (" R ", "红灯"), ("", None), (None, None),
                                           ("蓝灯", None)])
def test_normalize_light(text, expected):
    result = normalize_light(text)
    assert (result.value if result else None) == expected


@pytest.mark.parametrize("text,expected", [("已完成", "已完成"), ("完成", "已完成"), ("未完成", "未完成"), ("推进中", "未完成"),
                                           ("已办结", "已办结"), (" 已完成 ", "已完成"), ("DONE", "已完成"),
                                           ("Not Done", "未完成"), ("", None), (None, None), ("差不多", None)])
def test_normalize_completion(text, expected):
    result = normalize_completion(text)
    assert (result.value if result else None) == expected
