"""A co-led task through the real services (DESIGN §5.8): init → import a task list whose
牵头单位 cell names two units → issue → only one unit returns → collect → light → bulletin.
The ledger's 亮灯记录 row, its 依据 and the bulletin's by-unit table are read back from the
files, as the office would read them."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from xl_duban.io.ledger_store import LedgerStore
from xl_duban.samples import SeedTable, fill_return, write_tables_docx
from xl_duban.services import collect_returns, import_files, issue_workbooks, light_up, publish_bulletin

from .test_bulletin import docx_text
from .test_collect import CHINA

pytestmark = pytest.mark.usefixtures("config_dir")

HOUSING, TRANSPORT, FINANCE = "区住房和城乡建设局", "区交通运输局", "区财政局"
CO_LED, SINGLE = "2022-ZD-001", "2022-ZD-002"
ISSUED = {"2022Q1": datetime(2022, 3, 25, 9, 0), "2022Q2": datetime(2022, 6, 24, 9, 0)}
ON_TIME = {"2022Q1": datetime(2022, 4, 8, 15, 0), "2022Q2": datetime(2022, 7, 8, 15, 0)}
AFTER = {"2022Q1": datetime(2022, 4, 12, 9, 0), "2022Q2": datetime(2022, 7, 12, 9, 0)}


@pytest.fixture
def co_led(ledger, tmp_path) -> Path:
    """The fresh 2022 ledger with two key tasks imported from a Word task list: 2022-ZD-001 led
    by “区住建局、区交通运输局” (one cell, an alias among them), 2022-ZD-002 by 区财政局; node
    targets for Q1 and Q2, except 2022-ZD-002 in Q2."""
    table = SeedTable(attachment="附件2", title="2022年区《政府工作报告》督查重点任务清单",
                      header=["序号", "工作任务", "责任领导", "牵头承办单位", "备注"],
                      rows=[[["1"], ["推进5个老旧小区和9个智能停车场升级改造。"], ["曹新华"], ["区住建局、区交通运输局"], []],
                            [["2"], ["一般公共预算收入增长5%左右。"], ["曹新华"], [FINANCE], []]])
    outcome = import_files(ledger, [write_tables_docx([table], tmp_path / "附件2.docx")], now=ISSUED["2022Q1"])
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    store = LedgerStore(ledger)
    led, _ = store.load()
    assert {t.id: t.lead_units for t in led.tasks} == {CO_LED: [HOUSING, TRANSPORT], SINGLE: [FINANCE]}
    from xl_duban.domain.models import NodeTarget
    for task_id, period in ((CO_LED, "2022Q1"), (CO_LED, "2022Q2"), (SINGLE, "2022Q1")):
        led.targets.append(NodeTarget(task_id=task_id, period=period, target=f"{period}节点目标", status="已确认"))
    store.save(led, now=ISSUED["2022Q1"])
    return ledger


def issue(ledger: Path, period: str, out: Path) -> dict[str, Path]:
    """Issue ``period``; each unit's form by unit name (a task without a confirmed target for
    the period gets no row, and the one error says which)."""
    outcome = issue_workbooks(ledger, period, out, now=ISSUED[period])
    assert [f.code for f in outcome.findings if f.level.value == "错误"] in ([], ["no-confirmed-target"]), \
        [f.text() for f in outcome.findings]
    return {p.name.split("_")[1]: p for p in out.glob(f"{period}_*反馈表.xlsx")}


def task_ids(form: Path) -> list[str]:
    ws = openpyxl.load_workbook(form, read_only=True).worksheets[0]
    return [r[0] for r in ws.iter_rows(values_only=True) if r and isinstance(r[0], str) and r[0].startswith("2022-ZD-")]


def answer(forms: dict[str, Path], inbox: Path, period: str, answers: dict[str, dict[str, str]]) -> None:
    """The units in ``answers`` fill and return their forms (unit → task → 完成情况), on time."""
    for unit, values in answers.items():
        back = fill_return(forms[unit], inbox / forms[unit].name,
                           {t: {"完成情况": v, "进展情况": f"{unit}{period}进展", "自评灯色": "绿灯"} for t, v in values.items()})
        stamp = ON_TIME[period].replace(tzinfo=CHINA).timestamp()
        os.utime(back, (stamp, stamp))


def light_rows(ledger: Path) -> dict[tuple[str, str], tuple]:
    ws = openpyxl.load_workbook(ledger, read_only=True)["亮灯记录"]
    rows = list(ws.iter_rows(values_only=True))
    h = rows[0]
    return {(r[h.index("任务编号")], r[h.index("周期")]): (r[h.index("灯色")], r[h.index("连续黄灯")], r[h.index("依据")])
            for r in rows[1:] if r[0]}


def test_co_led_task_is_judged_by_every_lead_unit(co_led, tmp_path):
    # every lead unit gets the co-led task in its own form
    forms = issue(co_led, "2022Q1", tmp_path / "下发Q1")
    assert {unit: task_ids(form) for unit, form in forms.items()} == {
        HOUSING: [CO_LED], TRANSPORT: [CO_LED], FINANCE: [SINGLE]}

    # Q1: 区交通运输局 and 区财政局 report 已完成; 区住房和城乡建设局 stays silent
    inbox = tmp_path / "收件Q1"
    answer(forms, inbox, "2022Q1", {TRANSPORT: {CO_LED: "已完成"}, FINANCE: {SINGLE: "已完成"}})
    outcome = collect_returns(co_led, [inbox], now=AFTER["2022Q1"])
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings if f.level.value == "错误"]
    led, _ = LedgerStore(co_led).load()
    assert sorted((f.task_id, f.unit, f.completion) for f in led.feedback if f.period == "2022Q1") == [
        (CO_LED, TRANSPORT, "已完成"), (SINGLE, FINANCE, "已完成")]  # one 反馈记录 row per unit

    outcome = light_up(co_led, "2022Q1", now=AFTER["2022Q1"])
    assert outcome.exit_code == 0
    assert light_rows(co_led) == {
        (CO_LED, "2022Q1"): ("黄灯", 1, f"第一季度{HOUSING}未报送，亮黄灯"),
        (SINGLE, "2022Q1"): ("绿灯", 0, "第一季度节点目标已完成，亮绿灯"),
    }
    assert outcome.summary["counts"] == {"绿灯": 1, "黄灯": 1, "红灯": 0}
    # B said 绿灯 and met its target: not a disagreement although the task is yellow
    assert not [f for f in outcome.findings if f.code == "self-assessment-disagreement"]

    # the bulletin: each unit's own row; the yellow item names the unit behind; one notice
    out = tmp_path / "通报Q1"
    published = publish_bulletin(co_led, "2022Q1", out, now=AFTER["2022Q1"])
    assert published.exit_code == 0
    text = docx_text(Path(published.summary["document"]))
    # the document's table lists the unit behind; the units all green are counted in one sentence
    assert f"{HOUSING}|1|0|1|0" in text and f"{TRANSPORT}|1|" not in text and f"{FINANCE}|1|" not in text
    assert "其余2个牵头单位牵头的任务均计绿灯" in text
    # the unit behind, in its own state (it sent nothing), then the co-lead that met its target
    assert f"{HOUSING}未报送反馈表。亮黄灯。共同牵头的{TRANSPORT}本期已完成。" in text
    assert [Path(p).name for p in published.summary["notices"]] == [f"2022Q1_{HOUSING}_督查整改通知书.docx"]
    assert TRANSPORT in published.summary["praised"] and HOUSING not in published.summary["praised"]
    sheet = openpyxl.load_workbook(co_led, read_only=True)["通报-2022Q1"]
    cells = ["|".join(str(c) for c in r if c is not None) for r in sheet.iter_rows(values_only=True) if any(r)]
    assert f"{HOUSING}|1|0|1|0" in cells and f"{TRANSPORT}|1|1|0|0" in cells and f"{FINANCE}|1|1|0|0" in cells  # 附表
    assert any(c.startswith(f"1. {CO_LED} ") and f"|{HOUSING}未报送反馈表。亮黄灯。共同牵头的{TRANSPORT}本期已完成。" in c
               for c in cells)

    # Q2: 区住房和城乡建设局 reports 未完成, 区交通运输局 已完成 → the task's second yellow → red,
    # naming 区住房和城乡建设局; 2022-ZD-002 has no Q2 target → no light, and a warning lists it
    forms = issue(co_led, "2022Q2", tmp_path / "下发Q2")
    assert set(forms) == {HOUSING, TRANSPORT}  # 区财政局's only task has no Q2 target: no form
    inbox = tmp_path / "收件Q2"
    answer(forms, inbox, "2022Q2", {HOUSING: {CO_LED: "未完成"}, TRANSPORT: {CO_LED: "已完成"}})
    assert collect_returns(co_led, [inbox], now=AFTER["2022Q2"]).exit_code == 0
    outcome = light_up(co_led, "2022Q2", now=AFTER["2022Q2"])
    rows = light_rows(co_led)
    assert rows[(CO_LED, "2022Q2")] == ("红灯", 2, f"第二季度{HOUSING}节点目标未完成，连续2次黄灯，亮红灯")
    assert (SINGLE, "2022Q2") not in rows
    [warning] = [f for f in outcome.findings if f.code == "no-node-target"]
    assert (warning.level.value, warning.sheet, warning.column) == ("警告", "节点目标", "节点目标")
    assert warning.message == f"2022Q2有1项任务没有节点目标，本期未亮灯：{SINGLE}。"
    validation = openpyxl.load_workbook(co_led, read_only=True)["校验结果"]
    assert any("no-node-target" in r for r in validation.iter_rows(values_only=True))  # the clerk sees it in Excel

    published = publish_bulletin(co_led, "2022Q2", tmp_path / "通报Q2", now=AFTER["2022Q2"])
    text = docx_text(Path(published.summary["document"]))
    assert f"{HOUSING}|1|0|0|1" in text and f"{TRANSPORT}|1|" not in text  # TRANSPORT met its target: not behind
    assert published.summary["red"] == [CO_LED]
    interviews = docx_text(Path(published.summary["interviews"]))
    assert f"|{CO_LED}|" in interviews and HOUSING in interviews and TRANSPORT not in interviews
