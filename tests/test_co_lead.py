"""Co-led tasks (DESIGN §5.8) and tasks without a node target (§5.5), table-driven over the
domain rules. Expected lights and 依据 are written by hand from the 督查方案: every 牵头单位
answers for its task, so a co-led task is as bad as its worst lead unit, a missing return
counts as 缺报, and a task that cannot be lit is said to be unlit."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from xl_duban.domain.bulletin import build_bulletin, notices
from xl_duban.domain.lights import LightRules, light_tasks, normalize_light
from xl_duban.domain.models import Feedback, Ledger, LightRecord, NodeTarget, Task, Unit
from xl_duban.domain.periods import Period
from xl_duban.domain.units import UnitDirectory

Q = [Period(year=2024, quarter=q) for q in range(1, 5)]
DUE = {p: date(p.year + (p.quarter == 4), (3 * p.quarter) % 12 + 1, 10) for p in Q}
A, B, C = "区住房和城乡建设局", "区交通运输局", "区财政局"
TOWNS = ["埔前镇人民政府", "源南镇人民政府", "东埔街道办事处"]
UNITS = [Unit(name=A, aliases=["区住建局"], type="区直部门"), Unit(name=B, type="区直部门"), Unit(name=C, type="区直部门"),
         *(Unit(name=t, type="镇街") for t in TOWNS)]
TASK_ID = "2024-ZD-001"

# One letter per quarter and unit: G 已完成 · Y 未完成 · - no return · ? return without 完成情况 ·
# C 已办结 · L 已完成 but late · a lower-case letter: the same, with 自评灯色 绿灯.


def build(leads: list[str], steps: dict[str, str], quarters: int, aliases: dict[str, str] | None = None):
    task = Task(id=TASK_ID, kind="重点任务", content="x", lead_units=leads, cadence="季度", status="进行中")
    targets = [NodeTarget(task_id=TASK_ID, period=str(p), target="节点", status="已确认") for p in Q[:quarters]]
    feedback = []
    for unit, codes in steps.items():
        for period, code in zip(Q, codes):
            if code == "-":
                continue
            received = datetime(period.year + (period.quarter == 4), (3 * period.quarter) % 12 + 1, 8)
            if code.upper() == "L":
                received = received.replace(day=20)
            completion = {"G": "已完成", "Y": "未完成", "?": "", "C": "已办结", "L": "已完成"}[code.upper()]
            feedback.append(Feedback(task_id=TASK_ID, period=str(period), unit=(aliases or {}).get(unit, unit),
                                     completion=completion, received_at=received, self_light="绿灯" if code.islower() else ""))
    return task, targets, feedback


def light(leads, steps, quarters=1, rules=LightRules(), existing=(), aliases=None):
    task, targets, feedback = build(leads, steps, quarters, aliases)
    return light_tasks([task], targets, feedback, list(existing), Q[quarters - 1], DUE.get, rules,
                       directory=UnitDirectory(UNITS))


CASES = [
    # name, 牵头单位 cell, steps per unit, expected [(light, streak, 依据)] per quarter, rules
    ("one silent lead unit", [A, B], {A: "-", B: "G"},
     [("黄灯", 1, f"第一季度{A}未报送，亮黄灯")], LightRules()),
    ("both silent", [A, B], {A: "-", B: "-"},
     [("黄灯", 1, f"第一季度{A}、{B}未报送，亮黄灯")], LightRules()),
    ("one yellow one green", [A, B], {A: "G", B: "Y"},
     [("黄灯", 1, f"第一季度{B}节点目标未完成，亮黄灯")], LightRules()),
    ("both green", [A, B], {A: "G", B: "G"},
     [("绿灯", 0, f"第一季度{A}、{B}节点目标均已完成，亮绿灯")], LightRules()),
    ("green with a late unit", [A, B], {A: "L", B: "G"},
     [("绿灯", 0, f"第一季度{A}、{B}节点目标均已完成（{A}逾期报送），亮绿灯")], LightRules()),
    ("late as yellow names the late unit", [A, B], {A: "L", B: "G"},
     [("黄灯", 1, f"第一季度{A}节点目标已完成，但逾期报送，亮黄灯")], LightRules(late_yellow=True)),
    ("silent and not done: both named, by reason", [A, B, C], {A: "-", B: "Y", C: "G"},
     [("黄灯", 1, f"第一季度{A}未报送，{B}节点目标未完成，亮黄灯")], LightRules()),
    ("blank 完成情况 names the unit", [A, B], {A: "?", B: "G"},
     [("黄灯", 1, f"第一季度{A}反馈未填写完成情况，亮黄灯")], LightRules()),
    ("missing as red: the silent unit makes it red, named first", [A, B], {A: "Y", B: "-"},
     [("红灯", 1, f"第一季度{B}未报送，{A}节点目标未完成，亮红灯")], LightRules(missing_as=normalize_light("红灯"))),
    ("two periods, different units: the task's streak makes red", [A, B], {A: "-G", B: "GY"},
     [("黄灯", 1, f"第一季度{A}未报送，亮黄灯"), ("红灯", 2, f"第二季度{B}节点目标未完成，连续2次黄灯，亮红灯")],
     LightRules()),
    ("green in between resets", [A, B], {A: "-GG", B: "GGY"},
     [("黄灯", 1, f"第一季度{A}未报送，亮黄灯"), ("绿灯", 0, f"第二季度{A}、{B}节点目标均已完成，亮绿灯"),
      ("黄灯", 1, f"第三季度{B}节点目标未完成，亮黄灯")], LightRules()),
    ("one unit 已办结 does not close a co-led task", [A, B], {A: "C-", B: "GG"},
     [("绿灯", 0, f"第一季度{A}、{B}节点目标均已完成，亮绿灯"), ("黄灯", 1, f"第二季度{A}未报送，亮黄灯")], LightRules()),
    ("all 已办结 closes it", [A, B], {A: "C-", B: "C-"},
     [("绿灯", 0, f"第一季度{A}、{B}均报任务已办结，亮绿灯")], LightRules()),
    ("a collective lead is each of its units", ["各镇人民政府、街道办事处"], {TOWNS[0]: "G", TOWNS[1]: "G"},
     [("黄灯", 1, f"第一季度{TOWNS[2]}未报送，亮黄灯")], LightRules()),
    ("a collective all behind alike is counted", ["各镇人民政府、街道办事处", A], {t: "Y" for t in [*TOWNS, A]},
     [("黄灯", 1, "第一季度全部4个牵头单位节点目标未完成，亮黄灯")], LightRules()),
    ("single lead unit: wording as before", [A], {A: "-"},
     [("黄灯", 1, "第一季度未报送，亮黄灯")], LightRules()),
]


@pytest.mark.parametrize("name,leads,steps,expected,rules", CASES, ids=[c[0] for c in CASES])
def test_co_led_light_table(name, leads, steps, expected, rules):
    quarters = max(len(s) for s in steps.values())
    run = light(leads, steps, quarters, rules)
    assert [(v.light.value, v.streak, v.basis) for v in run.verdicts] == expected


def test_an_alias_in_feedback_is_the_same_lead_unit():
    # a row typed by hand with the unit's alias is that unit's return, not a third unit's
    run = light([A, B], {A: "G", B: "G"}, aliases={A: "区住建局"})
    assert [(v.light.value, v.basis) for v in run.verdicts] == [("绿灯", f"第一季度{A}、{B}节点目标均已完成，亮绿灯")]


def test_an_override_still_replaces_the_combined_light():
    existing = [LightRecord(task_id=TASK_ID, period="2024Q1", override="绿灯", override_note="经核实区住建局已完成")]
    run = light([A, B], {A: "-", B: "G"}, existing=existing)
    assert [(v.light.value, v.basis) for v in run.verdicts] == [
        ("绿灯", f"经核定为绿灯：经核实区住建局已完成（系统判定：第一季度{A}未报送）")]


def test_each_units_self_assessment_is_checked_against_the_light_it_answers_for():
    # B said green and met its target: no disagreement although the task is yellow because of A
    run = light([A, B], {A: "y", B: "g"})
    assert [f.message for f in run.findings if f.code == "self-assessment-disagreement"] == [
        f"{TASK_ID} 2024Q1 {A}自评绿灯，核定结果为黄灯。"]
    # several units that said the same are one finding for the task and period
    run = light([A, B, C], {A: "y", B: "y", C: "G"})
    assert [f.message for f in run.findings if f.code == "self-assessment-disagreement"] == [
        f"{TASK_ID} 2024Q1 {A}、{B}自评绿灯，核定结果为黄灯。"]


def test_verdict_keeps_each_units_own_result():
    [verdict] = light([A, B], {A: "-", B: "G"}).verdicts
    assert [(r.unit, r.light.value, r.reason, r.missing) for r in verdict.units] == [
        (A, "黄灯", "未报送", True), (B, "绿灯", "节点目标已完成", False)]
    assert verdict.missing  # the service's before-deadline warning counts a silent co-lead


# -- no node target: no light, and said so ----------------------------------------------------

def test_no_node_target_no_light_and_one_warning_listing_the_tasks():
    tasks = [Task(id=f"2024-ZD-00{n}", kind="重点任务", content="x", lead_units=[C], cadence="季度", status=status)
             for n, status in ((1, "进行中"), (2, "进行中"), (3, "已办结"), (4, "已取消"), (5, ""))]
    tasks.append(Task(id="2024-MS-01", kind="民生实事", content="m", lead_units=[C], cadence="月度", status="进行中"))
    targets = [NodeTarget(task_id="2024-ZD-001", period="2024Q1", target="节点"),
               NodeTarget(task_id="2024-ZD-002", period="2024Q1", target="  ")]  # a blank target is none
    feedback = [Feedback(task_id=t.id, period="2024Q1", unit=C, completion="未完成") for t in tasks]
    run = light_tasks(tasks, targets, feedback, [], Q[0], DUE.get, LightRules(),
                      lambda task_id, p: {"file": "台账.xlsx", "sheet": "亮灯记录"})
    assert [(v.task_id, v.light.value) for v in run.verdicts] == [("2024-ZD-001", "黄灯")]
    [finding] = run.findings
    assert (finding.code, finding.level.value, finding.file, finding.sheet, finding.column) == (
        "no-node-target", "警告", "台账.xlsx", "节点目标", "节点目标")
    # open key tasks only: not the closed or cancelled one, not the monthly 民生实事
    assert finding.message == "2024Q1有2项任务没有节点目标，本期未亮灯：2024-ZD-002、2024-ZD-005。"


def test_a_project_split_into_sub_items_is_not_listed():
    tasks = [Task(id="2024-MS-03", kind="民生实事", content="p", lead_units=[C], status="进行中"),
             Task(id="2024-MS-03-1", kind="民生实事", content="s", lead_units=[C], status="进行中")]
    run = light_tasks(tasks, [], [], [], Period(year=2024, month=3), lambda p: None, LightRules())
    assert [f.message for f in run.findings] == ["2024-03有1项任务没有节点目标，本期未亮灯：2024-MS-03-1。"]


def test_every_task_with_a_target_no_warning():
    assert light([A, B], {A: "G", B: "G"}).findings == []


# -- the bulletin: each unit's own result ------------------------------------------------------

def bulletin_of(leads, steps, quarters=1):
    task, targets, feedback = build(leads, steps, quarters)
    run = light_tasks([task], targets, feedback, [], Q[quarters - 1], DUE.get, LightRules(),
                      directory=UnitDirectory(UNITS))
    ledger = Ledger(tasks=[task], targets=targets, feedback=feedback, units=UNITS,
                    lights=[v.record() for v in run.verdicts])
    return build_bulletin(ledger, Q[quarters - 1], 1, due=DUE.get)


def test_bulletin_counts_each_unit_with_its_own_result():
    b = bulletin_of([A, B], {A: "-", B: "G"})
    assert (b.counts.total, b.counts.yellow) == (1, 1)  # the task counts once, yellow
    rows = {r.name: (r.counts.total, r.counts.green, r.counts.yellow, r.counts.red) for r in b.by_unit}
    assert rows == {A: (1, 0, 1, 0), B: (1, 1, 0, 0)}
    [item] = b.yellow
    assert (item.units, item.answerable) == ((A, B), (A,))
    assert item.units_text == f"{A}（共同牵头的{B}本期已完成）"
    assert list(notices(b)) == [A]  # no 整改通知书 for the unit that met its target


def test_bulletin_red_by_streak_goes_to_the_unit_behind_now():
    b = bulletin_of([A, B], {A: "-G", B: "GY"}, quarters=2)
    rows = {r.name: (r.counts.green, r.counts.yellow, r.counts.red) for r in b.by_unit}
    assert rows == {A: (1, 0, 0), B: (0, 0, 1)}
    assert [(i.task_id, i.answerable) for i in b.red] == [(TASK_ID, (B,))]


def test_bulletin_all_behind_names_all():
    b = bulletin_of([A, B], {A: "-", B: "Y"})
    [item] = b.yellow
    assert (item.answerable, item.units_text) == ((A, B), f"{A}、{B}")
    assert sorted(notices(b)) == sorted([A, B])


def test_a_task_led_only_by_an_unnamed_group_is_not_lit_and_said_so():
    """No form went to 相关镇街道, so nobody failed to report: the task gets no light (not 未报送)
    and one warning names it until the office names the units."""
    task, targets, feedback = build(["相关镇街道"], {}, 1)
    run = light_tasks([task], targets, feedback, [], Q[0], DUE.get, LightRules(), directory=UnitDirectory(UNITS))
    assert run.verdicts == []
    [finding] = [f for f in run.findings if f.code == "unnamed-lead-unlit"]
    assert TASK_ID in finding.message and finding.level.value == "警告"
    named, _, _ = build(["相关镇街道", A], {A: "G"}, 1)  # a named lead unit beside it: lit on its own return
    run = light_tasks([named], targets, [], [], Q[0], DUE.get, LightRules(), directory=UnitDirectory(UNITS))
    assert [v.light.value for v in run.verdicts] == ["黄灯"] and not [f for f in run.findings if f.code == "unnamed-lead-unlit"]
