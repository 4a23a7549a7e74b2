"""``duban light`` on a real ledger: records, overview sheet, change log, recomputation."""

from __future__ import annotations

from datetime import datetime

import openpyxl
import pytest

from xl_duban.domain.models import Feedback, NodeTarget, Task
from xl_duban.io.ledger_store import LedgerStore
from xl_duban.io.views import LIGHT_FILLS
from xl_duban.services import light_up

from .conftest import run_json

NOW = datetime(2022, 11, 1, 10, 0)
UNIT = "区财政局"


@pytest.fixture
def lit_ledger(ledger):
    """Three key tasks with Q1-Q3 targets; returns chosen so the lights are known by hand:
    ZD-001: 未完成, 未完成, 未完成  → 黄 红 红
    ZD-002: 已完成, 未完成, (none)   → 绿 黄 红(未报送)
    ZD-003: 未完成, 已完成(late), 未完成 → 黄 绿 黄
    """
    store = LedgerStore(ledger)
    led, _ = store.load()
    answers = {"2022-ZD-001": ["未完成", "未完成", "未完成"], "2022-ZD-002": ["已完成", "未完成", None],
               "2022-ZD-003": ["未完成", "已完成", "未完成"]}
    for task_id, values in answers.items():
        led.tasks.append(Task(id=task_id, kind="重点任务", content=f"任务{task_id}", leaders=["曹新华"], lead_units=[UNIT],
                              cadence="季度", status="进行中"))
        for q, value in enumerate(values, 1):
            led.targets.append(NodeTarget(task_id=task_id, period=f"2022Q{q}", target="节点", status="已确认"))
            if value:
                day = 20 if (task_id, q) == ("2022-ZD-003", 2) else 8  # Q2 due 7-10: the 20th is late
                led.feedback.append(Feedback(task_id=task_id, period=f"2022Q{q}", unit=UNIT, completion=value,
                                             received_at=datetime(2022, 3 * q + 1, day)))
    store.save(led, now=NOW)
    return ledger


def lights_of(path):
    led, _ = LedgerStore(path).load()
    return {(r.task_id, r.period): (r.light, r.streak) for r in led.lights}, led


EXPECTED_Q3 = {
    ("2022-ZD-001", "2022Q1"): ("黄灯", 1), ("2022-ZD-001", "2022Q2"): ("红灯", 2), ("2022-ZD-001", "2022Q3"): ("红灯", 3),
    ("2022-ZD-002", "2022Q1"): ("绿灯", 0), ("2022-ZD-002", "2022Q2"): ("黄灯", 1), ("2022-ZD-002", "2022Q3"): ("红灯", 2),
    ("2022-ZD-003", "2022Q1"): ("黄灯", 1), ("2022-ZD-003", "2022Q2"): ("绿灯", 0), ("2022-ZD-003", "2022Q3"): ("黄灯", 1),
}


def test_light_writes_records_overview_and_log(lit_ledger):
    outcome = light_up(lit_ledger, "2022Q3", now=NOW)
    assert outcome.exit_code == 0, outcome.findings
    assert outcome.summary["counts"] == {"绿灯": 0, "黄灯": 1, "红灯": 2}
    lights, led = lights_of(lit_ledger)
    assert lights == EXPECTED_Q3
    basis = {(r.task_id, r.period): r.basis for r in led.lights}
    assert basis[("2022-ZD-002", "2022Q3")] == "第三季度未报送，连续2次黄灯，亮红灯"
    assert basis[("2022-ZD-003", "2022Q2")] == "第二季度节点目标已完成（逾期报送），亮绿灯"
    assert len([e for e in led.changelog if e.action == "亮灯" and e.field.endswith("灯色") and "自评" not in e.field]) == 9

    ws = openpyxl.load_workbook(lit_ledger)["亮灯总览"]
    cells = {(ws.cell(r, 1).value, ws.cell(header_row(ws), c).value): ws.cell(r, c)
             for r in range(1, ws.max_row + 1) for c in range(4, 8)}
    for (task_id, period), (light, _streak) in EXPECTED_Q3.items():
        cell = cells[(task_id, period)]
        assert cell.value == light and cell.fill.fgColor.rgb == LIGHT_FILLS[light].fgColor.rgb


def header_row(ws) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "任务编号")


def test_rerun_is_idempotent(lit_ledger):
    light_up(lit_ledger, "2022Q3", now=NOW)
    first, led1 = lights_of(lit_ledger)
    light_up(lit_ledger, "2022Q3", now=NOW)
    second, led2 = lights_of(lit_ledger)
    assert first == second
    assert len(led2.changelog) == len(led1.changelog)  # nothing changed, nothing logged


def test_changing_one_feedback_row_changes_exactly_its_dependants(lit_ledger):
    light_up(lit_ledger, "2022Q3", now=NOW)
    store = LedgerStore(lit_ledger)
    led, _ = store.load()
    row = next(f for f in led.feedback if (f.task_id, f.period) == ("2022-ZD-001", "2022Q2"))
    row.completion = "已完成"
    store.save(led, now=NOW)
    light_up(lit_ledger, "2022Q1", now=NOW)  # re-running an EARLIER period re-flows later streaks
    after, led = lights_of(lit_ledger)
    changed = {k for k in EXPECTED_Q3 if after[k] != EXPECTED_Q3[k]}
    assert changed == {("2022-ZD-001", "2022Q2"), ("2022-ZD-001", "2022Q3")}
    assert after[("2022-ZD-001", "2022Q2")] == ("绿灯", 0)
    assert after[("2022-ZD-001", "2022Q3")] == ("黄灯", 1)
    log = [(e.object, e.field, e.old, e.new) for e in led.changelog if e.action == "亮灯" and e.time == NOW]
    tail = [entry for entry in log if entry[1] in ("2022Q2灯色", "2022Q3灯色", "2022Q2连续黄灯", "2022Q3连续黄灯")][-4:]
    assert tail == [("2022-ZD-001", "2022Q2灯色", "红灯", "绿灯"), ("2022-ZD-001", "2022Q2连续黄灯", "2", "0"),
                    ("2022-ZD-001", "2022Q3灯色", "红灯", "黄灯"), ("2022-ZD-001", "2022Q3连续黄灯", "3", "1")]


def test_override_is_kept_and_needs_a_reason(lit_ledger):
    light_up(lit_ledger, "2022Q3", now=NOW)
    store = LedgerStore(lit_ledger)
    led, _ = store.load()
    for rec in led.lights:
        if (rec.task_id, rec.period) == ("2022-ZD-002", "2022Q2"):
            rec.override, rec.override_note = "绿灯", "经分管领导同意，6月30日已完成"
        if (rec.task_id, rec.period) == ("2022-ZD-003", "2022Q3"):
            rec.override = "绿灯"  # no reason
    store.save(led, now=NOW)
    code, result = run_json("light", str(lit_ledger), "--period", "2022Q3")
    assert code == 1
    errors = [(f["code"], f["sheet"], f["column"], f["subject"]) for f in result["findings"] if f["level"] == "错误"]
    assert errors == [("override-without-reason", "亮灯记录", "核定说明", "2022-ZD-003 2022Q3")]
    lights, led = lights_of(lit_ledger)
    assert lights[("2022-ZD-002", "2022Q2")] == ("绿灯", 0)  # override applied, streak broken
    assert lights[("2022-ZD-002", "2022Q3")] == ("黄灯", 1)
    assert lights[("2022-ZD-003", "2022Q3")] == ("黄灯", 1)  # unreasoned override not applied
    kept = {(r.task_id, r.period): (r.override, r.override_note) for r in led.lights if r.override}
    assert kept == {("2022-ZD-002", "2022Q2"): ("绿灯", "经分管领导同意，6月30日已完成"),
                    ("2022-ZD-003", "2022Q3"): ("绿灯", "")}


def test_bad_period_is_a_usage_error(lit_ledger):
    code, result = run_json("light", str(lit_ledger), "--period", "2022Q5")
    assert code == 2 and result["findings"][0]["code"] == "bad-period"


def test_closing_or_cancelling_a_task_never_rewrites_its_past(lit_ledger):
    light_up(lit_ledger, "2022Q3", now=NOW)
    store = LedgerStore(lit_ledger)
    led, _ = store.load()
    status = {"2022-ZD-001": "已取消", "2022-ZD-002": "已办结"}
    for t in led.tasks:
        t.status = status.get(t.id, t.status)
    store.save(led, now=NOW)
    light_up(lit_ledger, "2022Q3", now=NOW)
    after, _ = lights_of(lit_ledger)
    # ZD-001's red lights (which led to an 约谈) stay; ZD-002 (已办结) keeps Q1-Q2, last return in Q2
    for key in [("2022-ZD-001", p) for p in ("2022Q1", "2022Q2", "2022Q3")] + [("2022-ZD-002", "2022Q1"),
                                                                              ("2022-ZD-002", "2022Q2")]:
        assert after[key] == EXPECTED_Q3[key], key
