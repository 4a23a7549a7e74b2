"""The year's 绩效考核 (duban score) and next year's ledger (duban rollover).

The rules are checked table-driven on small ledgers written here, with the expected points
worked out by hand from the rules (基础分 100, 黄灯 1, 红灯 3, 逾期 0.5, 未报送 2 by default).
On the demo's half year the scores written into the ledger are recomputed independently,
straight from the 亮灯记录, 报送情况, 任务台账 and 单位名录 cells read with openpyxl.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from xl_duban.domain.models import Adjustment, Ledger, LightRecord, Setting, Submission, Task, Unit
from xl_duban.domain.periods import Period
from xl_duban.domain.scoring import ScoreRules, assess
from xl_duban.domain.settings import read_settings
from xl_duban.io.ledger_store import LedgerStore
from xl_duban.services import rollover_ledger, score_units

from .conftest import NOW
from .test_libreoffice import office, poppler  # noqa: F401  (fixtures)

A, B, C = "区住房和城乡建设局", "区交通运输局", "区财政局"
UNITS = [Unit(name=A, aliases=["区住建局"], type="区直部门"), Unit(name=B, type="区直部门"), Unit(name=C, type="区直部门")]
TODAY = date(2022, 7, 20)
DUE = {"2022Q1": date(2022, 4, 10), "2022Q2": date(2022, 7, 10), "2022Q3": date(2022, 10, 10), "2022-01": date(2022, 2, 8)}


def task(n: int, *leads: str, kind: str = "重点任务") -> Task:
    code = "ZD" if kind == "重点任务" else "MS"
    return Task(id=f"2022-{code}-{n:03d}" if code == "ZD" else f"2022-MS-{n:02d}", kind=kind, content="x",
                lead_units=list(leads), cadence="季度", status="进行中")


def light(task_id: str, period: str, color: str, override: str = "", note: str = "") -> LightRecord:
    return LightRecord(task_id=task_id, period=period, light=color, basis=f"{period}依据", override=override, override_note=note)


def sub(period: str, unit: str, status: str, due: str = "") -> Submission:
    return Submission(period=period, unit=unit, issued_at=datetime(2022, 1, 5), due_at=due or None, status=status)


def scores(ledger: Ledger, rules: ScoreRules = ScoreRules(), through: str | None = None) -> dict[str, float]:
    result = assess(ledger, 2022, rules, TODAY, lambda p: DUE.get(str(p)), Period.parse(through) if through else None)
    return {r.unit: r.score for r in result.rows}


CASES = [
    # name, tasks, lights, submissions, adjustments, expected {unit: score}
    ("nothing against anyone", [task(1, A), task(2, B)], [light("2022-ZD-001", "2022Q1", "绿灯")], [], [],
     {A: 100, B: 100}),
    ("a yellow and a red", [task(1, A), task(2, A)],
     [light("2022-ZD-001", "2022Q1", "黄灯"), light("2022-ZD-002", "2022Q1", "黄灯"), light("2022-ZD-002", "2022Q2", "红灯")], [], [],
     {A: 95}),
    ("the office's override wins both ways", [task(1, A), task(2, B)],
     [light("2022-ZD-001", "2022Q1", "黄灯", "绿灯", "经分管领导同意"), light("2022-ZD-002", "2022Q1", "绿灯", "红灯", "弄虚作假")],
     [], [], {A: 100, B: 97}),
    ("a co-led task charges each lead unit", [task(1, A, B)], [light("2022-ZD-001", "2022Q1", "红灯")], [], [],
     {A: 97, B: 97}),
    ("late and missing returns; before the deadline nothing is missing yet", [task(1, A), task(2, B), task(3, C)], [],
     [sub("2022Q1", A, "逾期报送"), sub("2022Q1", B, "未报送", "2022-04-10"), sub("2022Q3", C, "未报送", "2022-10-10")], [],
     {A: 99.5, B: 98, C: 100}),
    ("a refused return not sent again is missing; the targets round is not scored", [task(1, A), task(2, B)], [],
     [sub("2022Q2", A, "退回", "2022-07-10"), sub("2022年度季度目标", B, "未报送", "2022-01-20")], [],
     {A: 98, B: 100}),
    ("a 报送情况 row without its deadline takes the period's", [task(1, A)], [], [sub("2022Q1", "区住建局", "未报送")], [],
     {A: 98}),
    ("adjustments add and take, with reason and approver", [task(1, A), task(2, B)], [],
     [], [Adjustment(unit="区住建局", points=2, reason="获省级表彰", approver="张三"),
          Adjustment(unit=B, points="-1.5", reason="群众投诉属实", approver="李四")],
     {A: 102, B: 98.5}),
    ("an adjustment without approval does not count", [task(1, A)], [], [],
     [Adjustment(unit=A, points=5, reason="表彰", approver="")], {A: 100}),
    ("the score never falls below zero", [task(1, A)], [light("2022-ZD-001", f"2022-{m:02d}", "红灯") for m in range(1, 13)] * 3,
     [], [], {A: 0}),
]


@pytest.mark.parametrize(("name", "tasks", "lights", "subs", "adjustments", "expected"), CASES, ids=[c[0] for c in CASES])
def test_score_rules(name, tasks, lights, subs, adjustments, expected):
    ledger = Ledger(tasks=tasks, lights=lights, submissions=subs, adjustments=adjustments, units=UNITS)
    assert scores(ledger) == expected


def test_through_a_period_leaves_later_ones_out():
    ledger = Ledger(tasks=[task(1, A), task(2, A, kind="民生实事")], units=UNITS,
                    lights=[light("2022-ZD-001", "2022Q1", "黄灯"), light("2022-ZD-001", "2022Q2", "红灯"),
                            light("2022-MS-02", "2022-03", "黄灯"), light("2022-MS-02", "2022-04", "黄灯")])
    assert scores(ledger, through="2022Q1") == {A: 98}  # Q1 and March; not Q2, not April
    assert scores(ledger, through="2022-05") == {A: 97}  # Q1, March, April; Q2 ends in June
    assert scores(ledger) == {A: 94}


def test_ranks_share_equal_scores_and_grades_follow_the_thresholds():
    ledger = Ledger(tasks=[task(1, A), task(2, B), task(3, C)], units=UNITS,
                    lights=[light("2022-ZD-002", f"2022Q{q}", "红灯") for q in (1, 2, 3, 4)]
                    + [light("2022-ZD-003", f"2022Q{q}", "红灯") for q in (1, 2, 3, 4)])
    result = assess(ledger, 2022, ScoreRules(), TODAY, lambda p: None)
    assert [(r.unit, r.score, r.rank, r.grade) for r in result.rows] == [(A, 100, 1, "好"), (B, 88, 2, "较好"), (C, 88, 2, "较好")]
    strict = ScoreRules(red=10, thresholds=(99, 90, 61))
    assert [(r.score, r.grade) for r in assess(ledger, 2022, strict, TODAY, lambda p: None).rows] == [(100, "好"), (60, "差"), (60, "差")]


def test_rule_values_come_from_the_settings():
    settings, findings = read_settings([Setting(key="年度", value=2022), Setting(key="黄灯扣分", value="0.25"),
                                        Setting(key="等次好分数线", value=99), Setting(key="红灯扣分", value="很多")])
    rules = ScoreRules.of(settings)
    assert (rules.yellow, rules.red, rules.thresholds[0]) == (0.25, 3, 99)
    assert [f.code for f in findings] == ["bad-setting"] and "红灯扣分" in findings[0].message


# -- the demo's half year, recomputed from the cells ------------------------------------------------------
def _rows(ws, header_row: int = 1) -> list[dict]:
    rows = list(ws.iter_rows(values_only=True))
    headers = rows[header_row - 1]
    return [dict(zip(headers, r)) for r in rows[header_row:] if any(v is not None for v in r)]


@pytest.fixture
def demo_ledger(demo_year, tmp_path, config_dir) -> Path:
    ledger = tmp_path / "台账.xlsx"
    shutil.copy2(demo_year / "2022年督查台账.xlsx", ledger)
    return ledger


def test_demo_scores_equal_an_independent_count(demo_ledger, tmp_path):
    outcome = score_units(demo_ledger, 2022, through="2022Q2", out_dir=tmp_path / "考核", now=datetime(2022, 7, 20, 9))
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    wb = openpyxl.load_workbook(demo_ledger)
    assert wb["考核-2022"]["A1"].value.endswith("（统计至2022年第二季度）")
    units = {r["单位名称"]: r["类型"] for r in _rows(wb["单位名录"])}
    towns = [u for u, t in units.items() if t == "镇街"]
    leads: dict[str, list[str]] = {}
    for r in _rows(wb["任务台账"]):
        cell = r["牵头单位"]
        names = towns.copy() if "各镇人民政府、街道办事处" in cell else []
        names += [n for n in cell.replace("各镇人民政府、街道办事处", "").split("、") if n]
        leads[r["任务编号"]] = names
    expected: dict[str, dict[str, int]] = {}
    for r in _rows(wb["亮灯记录"]):
        final = r["核定灯色"] or r["灯色"]
        months = {"2022Q1": 3, "2022Q2": 6}.get(r["周期"]) or int(r["周期"][5:])
        if final in ("黄灯", "红灯") and months <= 6:
            for unit in leads[r["任务编号"]]:
                expected.setdefault(unit, {}).setdefault(final, 0)
                expected[unit][final] += 1
    for r in _rows(wb["报送情况"]):
        if re.fullmatch(r"2022(Q[12]|-0[1-6])", r["周期"]) and r["状态"] in ("逾期报送", "未报送", "退回"):
            key = "逾期报送" if r["状态"] == "逾期报送" else "未报送"
            expected.setdefault(r["单位"], {}).setdefault(key, 0)
            expected[r["单位"]][key] += 1  # every deadline of the half year is before 20 July
    sheet = _rows(wb["考核-2022"], header_row=2)
    assert {r["单位"] for r in sheet} == {u for names in leads.values() for u in names}
    for r in sheet:
        mine = expected.get(r["单位"], {})
        assert (r["黄灯"], r["红灯"], r["逾期报送"], r["未报送"]) == (
            mine.get("黄灯", 0), mine.get("红灯", 0), mine.get("逾期报送", 0), mine.get("未报送", 0)), r["单位"]
        deduction = mine.get("黄灯", 0) * 1 + mine.get("红灯", 0) * 3 + mine.get("逾期报送", 0) * 0.5 + mine.get("未报送", 0) * 2
        assert r["扣分"] == pytest.approx(deduction) and r["得分"] == pytest.approx(max(0, 100 - deduction)), r["单位"]
        assert r["排名"] == 1 + sum(other["得分"] > r["得分"] for other in sheet)
    details = _rows(wb["考核明细-2022"], header_row=2)
    for r in sheet:  # 考核明细 holds exactly the points behind each score
        assert sum(-d["扣分"] for d in details if d["单位"] == r["单位"]) == pytest.approx(r["扣分"])
    assert sum(sum(v.values()) for v in expected.values()) == len(details) > 0
    assert wb["考核调整"].cell(1, 1).value == "单位"  # a ledger made before 考核调整: now it has one to fill
    log = [r for r in _rows(wb["变更日志"]) if r["操作"] == "考核"]
    assert log[-1]["对象"] == "考核-2022" and "--through 2022Q2" in log[-1]["来源"]
    office = openpyxl.load_workbook(outcome.summary["workbook"])
    assert [c.value for c in office["考核-2022"][3]] == [c.value for c in wb["考核-2022"][3]]


def test_adjustments_typed_in_the_sheet_count_and_bad_ones_are_findings(demo_ledger):
    score_units(demo_ledger, now=datetime(2022, 7, 20, 9))  # gives the ledger its 考核调整 sheet
    wb = openpyxl.load_workbook(demo_ledger)
    ws = wb["考核调整"]
    for row in (["区教育局", 3, "获评省级先进集体", "王区长"], ["区教育局", "两分", "表彰", "王区长"],
                ["区不存在局", 1, "表彰", "王区长"], ["区财政局", -2, "", "王区长"]):
        ws.append(row)
    wb.save(demo_ledger)
    before = {r["单位"]: r for r in _rows(openpyxl.load_workbook(demo_ledger)["考核-2022"], header_row=2)}
    outcome = score_units(demo_ledger, now=datetime(2022, 7, 21, 9))
    after = {r["单位"]: r for r in _rows(openpyxl.load_workbook(demo_ledger)["考核-2022"], header_row=2)}
    assert after["区教育局"]["调整"] == 3 and after["区教育局"]["得分"] == before["区教育局"]["得分"] + 3
    assert after["区财政局"]["得分"] == before["区财政局"]["得分"]
    bad = [f for f in outcome.findings if f.code == "score-adjustment-invalid"]
    assert [(f.row, f.column) for f in bad] == [(3, "分值"), (4, "单位"), (5, "事由")] and outcome.exit_code == 1
    from xl_duban.services import validate_ledger
    assert len([f for f in validate_ledger(demo_ledger, now=NOW).findings if f.code == "score-adjustment-invalid"]) == 3


def test_score_refuses_another_year_and_writes_nothing(demo_ledger):
    digest = hashlib.sha256(demo_ledger.read_bytes()).hexdigest()
    for kwargs in ({"year": 2023}, {"through": "2023Q1"}, {"through": "2022Q9"}):
        outcome = score_units(demo_ledger, now=NOW, **{"year": None, **kwargs})
        assert outcome.exit_code == 2 and outcome.findings[0].message
    assert hashlib.sha256(demo_ledger.read_bytes()).hexdigest() == digest


def test_score_document_renders(demo_ledger, tmp_path, office, poppler):
    from .test_libreoffice import ARTIFACTS, _run

    outcome = score_units(demo_ledger, through="2022Q2", out_dir=tmp_path / "考核", now=datetime(2022, 7, 20, 9))
    pdf = office.convert(Path(outcome.summary["document"]), "pdf", tmp_path / "pdf", ".pdf")
    text = _run([poppler["pdftotext"], "-layout", str(pdf), "-"], what="pdftotext").stdout
    flat = "".join(text.split())
    assert "关于2022年度督查工作绩效考核结果的通报" in flat and "统计至2022年第二季度" in flat
    lines = text.splitlines()
    for row in outcome.summary["rows"]:  # every unit's row as the ledger has it (a long name wraps in its cell)
        adjustment = rf"{row['adjustment']:g}\s+" if row["adjustment"] else ""
        pattern = re.compile(rf"^\s*{row['rank']}\s+(\S+)\s+{row['yellow']}\s+{row['red']}\s+{row['late']}\s+{row['missing']}\s+"
                             rf"{adjustment}{row['score']:g}\s+{row['grade']}\s*$")
        assert any((m := pattern.match(line)) and row["unit"].startswith(m.group(1)) for line in lines), row
    ARTIFACTS.mkdir(exist_ok=True)
    _run([poppler["pdftoppm"], "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(ARTIFACTS / "score-docx")],
         what="pdftoppm")


# -- next year's ledger ----------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_rollover_carries_units_settings_holidays_and_open_tasks(demo_ledger, tmp_path, suffix):
    wb = openpyxl.load_workbook(demo_ledger)
    settings = wb["设置"]
    for r in range(2, settings.max_row + 1):
        if settings.cell(r, 1).value == "红灯阈值":
            settings.cell(r, 2).value = 3
    tasks = wb["任务台账"]
    status_col = [c.value for c in tasks[1]].index("状态") + 1
    tasks.cell(2, status_col).value = "已办结"  # 2022-ZD-001 finished
    holidays = wb["节假日"]
    holidays.append([datetime(2023, 1, 2), "休", "元旦（office typed）"])
    wb.save(demo_ledger)
    before = hashlib.sha256(demo_ledger.read_bytes()).hexdigest()
    old, _ = LedgerStore(demo_ledger).load()
    new_path = tmp_path / f"2023年督查台账{suffix}"
    outcome = rollover_ledger(demo_ledger, new_path, 2023, carry=True, now=datetime(2022, 12, 30, 9))
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    assert hashlib.sha256(demo_ledger.read_bytes()).hexdigest() == before
    new, findings = LedgerStore(new_path).load()
    assert not [f for f in findings if f.level.value == "错误"]
    assert [(u.name, u.aliases, u.type, u.email) for u in new.units] == [(u.name, u.aliases, u.type, u.email) for u in old.units]
    got = read_settings(new.settings)[0]
    assert (got.year, got.red_threshold, got.masthead) == (2023, 3, read_settings(old.settings)[0].masthead)
    assert [h.note for h in new.holidays] == ["元旦（office typed）"]
    assert not new.targets and not new.feedback and not new.lights and not new.submissions
    open_old = [t for t in old.tasks if t.status not in ("已办结", "已取消")]
    assert len(new.tasks) == len(open_old) == len(old.tasks) - 1
    assert new.tasks[0].id == "2023-ZD-001" and new.tasks[0].note.startswith("结转自 2022-ZD-002")
    assert [t.content for t in new.tasks] == [t.content for t in open_old]
    subs = [t for t in new.tasks if t.parent_id]
    assert subs and all(t.parent_id in {x.id for x in new.tasks} for t in subs)
    assert {t.id.split("-")[0] for t in new.tasks} == {"2023"}
    carried = [e for e in new.changelog if e.action == "结转"]
    assert len(carried) == len(new.tasks) and carried[0].old == "2022-ZD-002"


def test_rollover_without_carry_and_its_refusals(demo_ledger, tmp_path):
    new_path = tmp_path / "2023.xlsx"
    outcome = rollover_ledger(demo_ledger, new_path, 2023, now=NOW)
    new, _ = LedgerStore(new_path).load()
    assert outcome.exit_code == 0 and not new.tasks and len(new.units) == outcome.summary["units"] > 0
    for args in ((demo_ledger, tmp_path / "x.xlsx", 2022), (demo_ledger, new_path, 2024), (tmp_path / "无.xlsx", tmp_path / "y.xlsx", 2023)):
        refused = rollover_ledger(*args, now=NOW)
        assert refused.exit_code == 2 and refused.findings[0].message
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path / "y.xlsx").exists()
    assert not list(tmp_path.glob(".~duban-rollover-*"))
