"""Excel worksheet functions (udfs/): whole ranges give what the domain gives row by row.

Expected values are computed by the domain functions on the same rows (a real history per
row), never written down from the UDFs' own output.
"""

from __future__ import annotations

import csv
import inspect
import random
import re
import sys
from datetime import date, datetime, timedelta
from importlib import resources

import pytest

import udfs
from udfs import DUBAN_CALENDAR_STATUS, DUBAN_DUE, DUBAN_LIGHT, DUBAN_SIMILAR, DUBAN_STREAK, DUBAN_UNIT, DUBAN_WORKDAY
from xl_duban.domain.bulletin import copied_progress
from xl_duban.domain.lights import LightRules, light_tasks
from xl_duban.domain.models import Feedback, Holiday, Ledger, LightColor, LightRecord, NodeTarget, Task, Unit
from xl_duban.domain.periods import Period, due_date
from xl_duban.domain.units import UnitDirectory, split_list
from xl_duban.io.calendar_source import work_calendar
from xl_duban.services import due_dates as DueDates  # the due dates of a ledger

NAMES = ("DUBAN_LIGHT", "DUBAN_STREAK", "DUBAN_DUE", "DUBAN_WORKDAY", "DUBAN_UNIT", "DUBAN_SIMILAR", "DUBAN_OVERDUE",
         "DUBAN_CALENDAR_STATUS")


def is_error(value) -> bool:
    return isinstance(value, str) and value.startswith("错误：")


def column(values) -> list[list]:
    return [[v] for v in values]


# -- DUBAN_LIGHT ------------------------------------------------------------------------------------
Q1 = Period(year=2024, quarter=1)
M3 = Period(year=2024, month=3)
DUE_Q1 = date(2024, 4, 10)

# (完成情况, 截止日期或周期, 报送日期, 上期) as a clerk's sheet holds them
LIGHT_ROWS = [
    ("已完成", datetime(2024, 4, 10), datetime(2024, 4, 8, 10, 30), None),
    ("未完成", datetime(2024, 4, 10), datetime(2024, 4, 9, 16, 0), None),
    ("未完成", datetime(2024, 4, 10), datetime(2024, 4, 9, 16, 0), "黄灯"),
    ("未完成", "2024Q1", datetime(2024, 4, 12), "红灯"),
    ("正常推进", "2024Q1", datetime(2024, 4, 2), "绿灯"),
    ("滞后", "2024Q1", datetime(2024, 4, 2), "黄灯"),
    ("已办结", "2024Q1", datetime(2024, 4, 2), "红灯"),
    ("已完成", "2024Q1", datetime(2024, 4, 15, 9, 0), "黄灯"),  # late but done
    ("完成", "2024-03", datetime(2024, 4, 7), None),  # monthly: due on the 3rd working day of April
    ("已完成", "2024-03", datetime(2024, 4, 8), None),
    (None, "2024Q1", None, None),  # no return at all
    (None, "2024Q1", None, "黄灯"),
    (None, "2024Q1", datetime(2024, 4, 3), None),  # a return without 完成情况
    (" 未完成 ", date(2024, 4, 10), "2024-04-09", 2.0),
    ("未完成", "2024年4月10日", None, 1.0),
    ("已完成", None, datetime(2024, 4, 30), "3"),
    ("没完成", datetime(2024, 4, 10), datetime(2024, 4, 11), "绿"),
]


def prior_of(previous, rules: LightRules) -> int:
    """How many consecutive yellows a previous light or count stands for (the UDF's documented reading)."""
    if previous is None:
        return 0
    if isinstance(previous, str) and previous.strip() in ("绿灯", "绿"):
        return 0
    if isinstance(previous, str) and previous.strip() in ("黄灯", "黄"):
        return 1
    if isinstance(previous, str) and previous.strip() in ("红灯", "红"):
        return rules.red_threshold
    return int(float(previous))


def deadline_of(cell) -> date | None:
    if cell is None:
        return None
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if re.fullmatch(r"\d{4}(Q\d|-\d\d)", cell):
        return DueDates(Ledger())(Period.parse(cell))
    return {"2024年4月10日": date(2024, 4, 10)}[cell]


def domain_light(row, rules: LightRules = LightRules()) -> str:
    """The light ``light_tasks`` gives this row's task: ``prior`` earlier quarters reported
    未完成, then this quarter's return (if any) with its real 报送时间 against its deadline."""
    completion, deadline, received, previous = row
    prior = prior_of(previous, rules)
    periods = [Q1.shift(i - prior) for i in range(prior + 1)]
    task = Task(id="2024-ZD-001", kind="重点任务", content="任务", lead_units=["区财政局"], cadence="季度", status="进行中")
    targets = [NodeTarget(task_id=task.id, period=str(p), target="节点", status="已确认") for p in periods]
    feedback = [Feedback(task_id=task.id, period=str(p), unit="区财政局", completion="未完成",
                         received_at=datetime(p.year, p.last_month, 20)) for p in periods[:-1]]
    if completion is not None or received is not None:
        feedback.append(Feedback(task_id=task.id, period=str(Q1), unit="区财政局", completion=completion or "",
                                 received_at=received))
    due = deadline_of(deadline)
    run = light_tasks([task], targets, feedback, [], Q1, lambda p: due if p == Q1 else None, rules)
    verdicts = [v for v in run.verdicts if v.period == Q1]
    return verdicts[0].light.value


@pytest.mark.parametrize("rules, args", [
    (LightRules(), ()),
    (LightRules(red_threshold=3), (3.0,)),
    (LightRules(missing_as=LightColor.red), (None, "红灯")),
    (LightRules(late_yellow=True), (None, None, "黄灯")),
    (LightRules(red_threshold=1, missing_as=LightColor.red, late_yellow=True), (1, "红灯", "黄灯")),
])
def test_light_column_equals_domain_per_row(rules, args):
    completion, due, received, previous = (column(c) for c in zip(*LIGHT_ROWS))
    got = DUBAN_LIGHT(completion, due, received, previous, *args)
    assert got == [[domain_light(row, rules)] for row in LIGHT_ROWS]


def test_light_is_not_constant():
    """The rows above exercise every colour (a guard against a comparison that proves nothing)."""
    lights = {domain_light(row) for row in LIGHT_ROWS}
    assert lights == {"绿灯", "黄灯", "红灯"}


def test_light_shapes():
    row = LIGHT_ROWS[2]
    expected = domain_light(row)
    assert DUBAN_LIGHT(*row) == expected  # single cells in, a value out
    assert DUBAN_LIGHT(*([[v]] for v in row)) == [[expected]]  # a 1×1 range
    # one row across: four tasks side by side
    rows = LIGHT_ROWS[:4]
    got = DUBAN_LIGHT(*([list(c)] for c in zip(*rows)))
    assert got == [[domain_light(r) for r in rows]]
    # plain lists are columns; a single deadline cell applies to every row
    plain = DUBAN_LIGHT([r[0] for r in rows], "2024Q1", [r[2] for r in rows], [r[3] for r in rows])
    assert plain == [domain_light((r[0], "2024Q1", r[2], r[3])) for r in rows]


def test_light_blank_rows_stay_blank():
    completion = [["已完成"], [None], ["  "], ["未完成"]]
    received = [[datetime(2024, 4, 1)], [None], [None], [None]]
    got = DUBAN_LIGHT(completion, "2024Q1", received)
    assert got[1] == [""] and got[2] == [""]
    assert got[0] == [domain_light(("已完成", "2024Q1", datetime(2024, 4, 1), None))]
    assert DUBAN_LIGHT(None, None) == ""
    # a row with its own deadline but nothing reported is 未报送, not blank
    assert DUBAN_LIGHT([[None]], [["2024Q1"]]) == [[domain_light((None, "2024Q1", None, None))]]


def test_light_bad_cells_say_why_in_chinese():
    got = DUBAN_LIGHT([["已完成"], ["已完成"], ["未完成"], ["未完成"]],
                      [["2024Q1"], ["下周"], ["2024Q1"], ["2024Q1"]],
                      [[datetime(2024, 4, 1)], [datetime(2024, 4, 1)], ["昨天"], [None]],
                      [[None], [None], [None], ["紫灯"]])
    assert got[0] == [domain_light(("已完成", "2024Q1", datetime(2024, 4, 1), None))]
    assert is_error(got[1][0]) and "截止日期" in got[1][0] and "下周" in got[1][0]
    assert is_error(got[2][0]) and "报送日期" in got[2][0]
    assert is_error(got[3][0]) and "紫灯" in got[3][0]


@pytest.mark.parametrize("args, words", [
    ((["已完成"], "2024Q1", None, None, "很多"), "红灯阈值"),
    ((["已完成"], "2024Q1", None, None, 0), "红灯阈值"),
    ((["已完成"], "2024Q1", None, None, [[2, 3]]), "红灯阈值"),
    ((["已完成"], "2024Q1", None, None, None, "绿灯"), "缺报视为"),
    ((["已完成"], "2024Q1", None, None, None, None, "不管"), "逾期报送视为"),
    (([["已完成"], ["未完成"]], [["2024Q1"], ["2024Q1"], ["2024Q1"]]), "行数"),
    (([["已完成"], ["未完成", "已完成"]], "2024Q1"), "规整"),
])
def test_light_bad_arguments_give_an_error_text(args, words):
    got = DUBAN_LIGHT(*args)
    assert is_error(got) and words in got


def test_no_exception_escapes():
    junk = [object(), {"a": 1}, float("nan"), -1e308, True, "", "\x00", [], [[]], [[None, None]], date.max, b"x"]
    rnd = random.Random(7)
    for _ in range(300):
        for name in NAMES:
            fn = getattr(udfs, name)
            n = len(inspect.signature(fn).parameters)
            args = [rnd.choice(junk) for _ in range(rnd.randint(1, n))]
            result = fn(*args)  # even a missing required argument comes back as a cell text
            assert isinstance(result, (str, int, float, date, list)), (name, args, result)


# -- DUBAN_STREAK and chained lights over real histories ------------------------------------------------
QUARTERS = [Period(year=2023, quarter=q) for q in range(1, 5)] + [Period(year=2024, quarter=q) for q in range(1, 5)]


def random_history(rnd: random.Random, task_id: str):
    """Returns for one task over QUARTERS: G met, Y not met, L met but late, - no return, N no target."""
    steps = [rnd.choice("GGYYYL-N") for _ in QUARTERS]
    task = Task(id=task_id, kind="重点任务", content="任务", lead_units=["区财政局"], cadence="季度", status="进行中")
    targets, feedback, rows = [], [], []
    for p, step in zip(QUARTERS, steps):
        due = date(p.year + (p.quarter == 4), p.last_month % 12 + 1, 10)
        received = datetime(due.year, due.month, 15 if step == "L" else 8)
        completion = {"G": "已完成", "Y": "未完成", "L": "已完成"}.get(step)
        if step != "N":
            targets.append(NodeTarget(task_id=task_id, period=str(p), target="节点", status="已确认"))
        if completion:
            feedback.append(Feedback(task_id=task_id, period=str(p), unit="区财政局", completion=completion,
                                     received_at=received))
        rows.append((completion, due, received if completion else None, step))
    return task, targets, feedback, rows


def due_of(p: Period) -> date:
    return date(p.year + (p.quarter == 4), p.last_month % 12 + 1, 10)


@pytest.mark.parametrize("rules", [LightRules(), LightRules(red_threshold=3), LightRules(late_yellow=True)])
def test_streak_and_chained_lights_match_light_tasks(rules):
    rnd = random.Random(2024 + rules.red_threshold + rules.late_yellow)
    tasks, targets, feedback, rows = [], [], [], {}
    for i in range(60):
        task, t, f, r = random_history(rnd, f"2023-ZD-{i + 1:03d}")
        tasks.append(task), targets.extend(t), feedback.extend(f)
        rows[task.id] = r
    run = light_tasks(tasks, targets, feedback, [], QUARTERS[-1], due_of, rules)
    verdict = {(v.task_id, v.period): v for v in run.verdicts}
    # the 亮灯总览 matrix: one row per task, one column per quarter, blank where no light
    matrix = [[verdict[(t.id, p)].light.value if (t.id, p) in verdict else None for p in QUARTERS] for t in tasks]
    for k in range(1, len(QUARTERS) + 1):
        streaks = DUBAN_STREAK([row[:k] for row in matrix])
        for task, got, row in zip(tasks, streaks, matrix):
            lit = [verdict[(task.id, p)] for p in QUARTERS[:k] if (task.id, p) in verdict]
            assert got == ([lit[-1].streak] if lit else [""]), (task.id, row[:k])
    # each quarter's light from its return and the streak before it, column by column
    red_threshold = rules.red_threshold
    late_as = "黄灯" if rules.late_yellow else "按内容"
    for k, p in enumerate(QUARTERS):
        before = DUBAN_STREAK([row[:k] for row in matrix], 0) if k else 0
        lit = [(t, i) for i, t in enumerate(tasks) if (t.id, p) in verdict]
        got = DUBAN_LIGHT([[rows[t.id][k][0]] for t, _ in lit], [[rows[t.id][k][1]] for t, _ in lit],
                          [[rows[t.id][k][2]] for t, _ in lit], [before[i] for _, i in lit] if k else 0,
                          red_threshold, None, late_as)
        assert got == [[verdict[(t.id, p)].light.value] for t, _ in lit], p


def test_streak_from_overrides_and_prior_counts():
    """Any sequence of final lights (核定灯色 included), after a given streak, as light_tasks counts it."""
    rnd = random.Random(11)
    choices = ["绿灯", "黄灯", "红灯", None, "黄", "G", "red"]
    matrix = [[rnd.choice(choices) for _ in range(5)] for _ in range(200)]
    priors = [[rnd.choice([None, 0, 1, 2.0, "3", 5])] for _ in matrix]
    got = DUBAN_STREAK(matrix, priors)
    for row, (prior,), (streak,) in zip(matrix, priors, got):
        k = int(float(prior)) if prior is not None else 0
        periods = [Period(year=2020, quarter=1).shift(i) for i in range(k + len(row))]
        task = Task(id="2020-ZD-001", kind="重点任务", content="任务", lead_units=["区财政局"], cadence="季度")
        targets, feedback, existing = [], [], []
        for i, p in enumerate(periods):
            light = row[i - k] if i >= k else "黄灯"
            if light is None:
                continue
            targets.append(NodeTarget(task_id=task.id, period=str(p), target="节点"))
            existing.append(LightRecord(task_id=task.id, period=str(p), override=light, override_note="核定"))
        run = light_tasks([task], targets, feedback, existing, periods[-1], lambda p: None, LightRules())
        expected = run.verdicts[-1].streak if run.verdicts else 0
        assert streak == ("" if prior is None and all(v is None for v in row) else expected), (row, prior)


def test_streak_shapes_and_errors():
    assert DUBAN_STREAK("黄灯") == 1
    assert DUBAN_STREAK("黄灯", 1) == 2
    assert DUBAN_STREAK(["黄灯", "绿灯", "黄灯"]) == 1  # a plain list: one task's periods
    assert DUBAN_STREAK([["黄灯"], ["绿灯"]], 1) == [[2], [0]]
    assert DUBAN_STREAK([["黄灯"]], [[1], [2], [None]]) == [[2], [3], [1]]
    assert DUBAN_STREAK([[None, None]]) == [[""]]
    got = DUBAN_STREAK([["紫灯"], ["黄灯"], ["黄灯"]], [[0], [-1], ["x"]])
    assert is_error(got[0][0]) and "紫灯" in got[0][0]
    assert is_error(got[1][0]) and is_error(got[2][0])
    assert is_error(DUBAN_STREAK([["黄灯"]], [[1, 2]]))
    assert is_error(DUBAN_STREAK([["黄灯"], ["黄灯"]], [[1], [2], [3]]))


# -- DUBAN_DUE and DUBAN_WORKDAY -------------------------------------------------------------------------------
def test_due_equals_domain_due_date_on_the_statutory_calendar():
    periods = [str(p) for y in range(2019, 2027) for p in
               [Period(year=y, quarter=q) for q in range(1, 5)] + [Period(year=y, month=m) for m in range(1, 13)]]
    calendar = work_calendar()
    expected = [[due_date(Period.parse(p), calendar)[0]] for p in periods]
    assert DUBAN_DUE(column(periods)) == expected
    # spellings clerks type, a number, a blank, a typo
    got = DUBAN_DUE([["2024年第一季度"], ["2024.3"], [202410.0], [None], ["2024Q5"]])
    assert got[:3] == [[date(2024, 4, 10)], [due_date(Period.parse("2024-03"), calendar)[0]],
                       [due_date(Period.parse("2024-10"), calendar)[0]]]
    assert got[3] == [""]
    assert is_error(got[4][0]) and "周期" in got[4][0]
    assert DUBAN_DUE("2024-09") == due_date(Period.parse("2024-09"), calendar)[0]
    # 2024-01: the 3rd working day of February is Sunday 2-4, a make-up working day
    assert DUBAN_DUE("2024-01") == date(2024, 2, 4)


HOLIDAY_ROWS = [["日期", "类型", "说明"], [datetime(2024, 5, 6), "休", "假设的调休"], [datetime(2027, 2, 1), "休", "春节"],
                ["2027-02-02", "休", "春节"], [datetime(2027, 2, 6), "班", "调休上班"]]


def test_due_with_holidays_and_settings_matches_the_ledger_calendar():
    ledger = Ledger(holidays=[Holiday(day=r[0].date() if isinstance(r[0], datetime) else date.fromisoformat(r[0]),
                                      type=r[1]) for r in HOLIDAY_ROWS[1:]])
    calendar = work_calendar(ledger.holidays)
    periods = ["2024-04", "2027-01", "2027-02", "2024Q1", "2026Q4"]
    for rows in (HOLIDAY_ROWS, HOLIDAY_ROWS[1:]):  # with the header row (tblHolidays[#全部]) or without
        got = DUBAN_DUE(column(periods), rows, 15, 2)
        assert got == [[due_date(Period.parse(p), calendar, 15, 2)[0]] for p in periods]
    assert DUBAN_DUE("2024-04", HOLIDAY_ROWS) != DUBAN_DUE("2024-04")  # the override moved it
    for bad, words in ((40, "季度截止日"), ("十", "季度截止日")):
        got = DUBAN_DUE(column(periods), None, bad)
        assert is_error(got) and words in got
    assert is_error(DUBAN_DUE("2024-04", None, None, 0))


def test_calendar_status_official_typed_estimated():
    assert DUBAN_CALENDAR_STATUS(column([2024, "2025年", 2099, None, "明年"])) == [
        ["官方公布"], ["官方公布"], ["推算"], [""], [DUBAN_CALENDAR_STATUS("明年")]]
    assert is_error(DUBAN_CALENDAR_STATUS("明年"))
    rows = [["日期", "类型", "说明"], [datetime(2099, 1, 1), "休", "元旦"]]
    assert DUBAN_CALENDAR_STATUS(2099, rows) == "推算"  # one 休 row does not make the year known
    rows.append([datetime(2099, 1, 2), "已核对", "2099年放假安排已登记"])
    assert DUBAN_CALENDAR_STATUS(2099, rows) == "已录入"


def test_due_in_an_estimated_year_uses_the_same_calendar_as_the_ledger():
    # 2098-12's report: the 3rd working day of January 2099, 1 January (元旦) off by the 办法
    ledger_due = due_date(Period.parse("2098-12"), work_calendar([]))[0]
    assert DUBAN_DUE("2098-12") == ledger_due
    assert not work_calendar([]).is_workday(date(2099, 1, 1))  # a Thursday, 元旦


def test_workday_equals_the_services_count():
    rnd = random.Random(5)
    starts = [datetime(2023, 12, 20) + timedelta(days=rnd.randint(0, 800)) for _ in range(300)]
    starts += [datetime(2024, 9, 27), datetime(2024, 2, 8), datetime(2024, 10, 1)]
    ns = [float(rnd.randint(0, 20)) for _ in starts[:-3]] + [3.0, 1.0, 0.0]
    due = DueDates(Ledger())
    assert DUBAN_WORKDAY(column(starts), column(ns)) == [[due.add_workdays(s.date(), int(n))] for s, n in zip(starts, ns)]
    assert DUBAN_WORKDAY(datetime(2024, 9, 27), 3) == date(2024, 10, 8)  # 9-29 is a make-up Sunday, 10-1…7 off
    with_holidays = DueDates(Ledger(holidays=[Holiday(day=date(2024, 5, 6), type="休")]))
    assert DUBAN_WORKDAY([[datetime(2024, 4, 30)], ["2024-05-01"]], 2, HOLIDAY_ROWS) == \
        [[with_holidays.add_workdays(date(2024, 4, 30), 2)], [with_holidays.add_workdays(date(2024, 5, 1), 2)]]


def test_workday_blank_and_bad_cells():
    got = DUBAN_WORKDAY([[datetime(2024, 4, 1)], [None], ["不是日期"], [datetime(2024, 4, 1)], [datetime(2024, 4, 1)]],
                        [[1], [1], [1], [-2], [None]])
    assert got[0] == [DueDates(Ledger()).add_workdays(date(2024, 4, 1), 1)]
    assert is_error(got[1][0]) and "起始日期" in got[1][0]
    assert is_error(got[2][0]) and "不是日期" in got[2][0]
    assert is_error(got[3][0]) and "工作日数" in got[3][0]
    assert is_error(got[4][0]) and "工作日数" in got[4][0]
    assert DUBAN_WORKDAY([[None], [datetime(2024, 4, 1)]], 5)[0] == [""]


# -- DUBAN_UNIT -------------------------------------------------------------------------------------------------------
def directory_rows() -> list[list[str]]:
    text = resources.files("xl_duban.data").joinpath("units2022.csv").read_text(encoding="utf-8")
    return [row for row in csv.reader(text.splitlines())]


def test_unit_equals_directory_resolution():
    rows = directory_rows()
    units = [Unit(name=r[0], aliases=split_list(r[1]), type=r[2]) for r in rows[1:]]
    directory = UnitDirectory(units)
    names = [r[0] for r in rows[1:]] + [a for r in rows[1:] for a in split_list(r[1])]
    names += ["区 财政局", "区财政局、区发改局", "各镇人民政府、街道办事处", "区发展与改革局", "区财政局\n区发展改革局"]
    expected = [["、".join(directory.resolve(part).name for part in split_list(n))] for n in names]
    assert DUBAN_UNIT(column(names), rows) == expected  # the whole table with its header row
    assert DUBAN_UNIT(column(names), [r[:2] for r in rows[1:]]) == expected  # name and alias columns, no header
    assert DUBAN_UNIT("区发改局", rows) == "区发展和改革局"
    assert any(a != b for a, (b,) in zip(names, expected))  # aliases really were replaced


def test_unit_unknown_blank_and_missing_directory():
    rows = directory_rows()
    got = DUBAN_UNIT([["财政局"], [None], ["火星办事处"], ["区财政局、火星办事处"]], rows)  # written without its level
    assert is_error(got[0][0]) and "财政局" in got[0][0] and "是否为“区财政局”" in got[0][0]
    assert got[1] == [""]
    assert is_error(got[2][0]) and is_error(got[3][0]) and "火星办事处" in got[3][0]
    missing = DUBAN_UNIT([["区财政局"]])
    assert is_error(missing) and "单位名录" in missing


# -- DUBAN_SIMILAR ------------------------------------------------------------------------------------------------------
PROGRESS = [
    ("已完成项目立项和用地报批，正在开展施工图设计。", "已完成项目立项和用地报批，正在开展施工图设计。"),
    ("已完成项目立项和用地报批，正在开展施工图设计。", "已完成施工图设计，正在进行招标，计划下月开工建设。"),
    ("累计完成投资1200万元，占年度计划的40%。", "累计完成投资1300万元，占年度计划的43%。"),
    ("推进中", "推进中。"),
]


def test_similar_is_the_bulletins_measure():
    """The score copied_progress puts in the bulletin for the same texts (rounded there to 3 places)."""
    got = DUBAN_SIMILAR(column([a for a, _ in PROGRESS]), column([b for _, b in PROGRESS]))
    for (old, new), (score,) in zip(PROGRESS, got):
        ledger = Ledger(feedback=[Feedback(task_id="2024-ZD-001", period="2024Q1", unit="区财政局", progress=old),
                                  Feedback(task_id="2024-ZD-001", period="2024Q2", unit="区财政局", progress=new)])
        copied = copied_progress(ledger, Period.parse("2024Q2"), {"2024-ZD-001"}, 0.0)
        assert round(score, 3) == copied[0].score
        assert 0.0 <= score <= 1.0
    assert got[0] == [1.0]


def test_similar_shapes_blanks_and_numbers():
    a, b = PROGRESS[2]
    assert DUBAN_SIMILAR(a, b) == DUBAN_SIMILAR([[a]], [[b]])[0][0]
    assert DUBAN_SIMILAR([a, None, "  "], b)[1:] == ["", ""]
    assert DUBAN_SIMILAR(1200.0, "1200") == 1.0
    assert DUBAN_SIMILAR([[a, b]], [[b, a]]) == [[DUBAN_SIMILAR(a, b), DUBAN_SIMILAR(b, a)]]


# -- registration, VBA wrapper module ---------------------------------------------------------------------------------------
VBA_WORDS = {"date", "name", "text", "type", "end", "sub", "function", "dim", "set", "let", "get", "property", "string",
             "integer", "long", "double", "variant", "object", "next", "for", "to", "step", "if", "then", "else", "case",
             "select", "with", "as", "is", "not", "and", "or", "mod", "option", "optional", "byval", "byref", "call",
             "exit", "goto", "on", "error", "resume", "print", "open", "close", "input", "output", "random", "len",
             "me", "new", "nothing", "empty", "null", "true", "false", "time", "day", "month", "year", "range"}


def test_functions_are_registered_with_chinese_help():
    assert set(udfs.FUNCTIONS) == set(NAMES)
    for name, spec in udfs.FUNCTIONS.items():
        fn = getattr(udfs, name)
        params = list(inspect.signature(fn).parameters)
        assert [a for a, _ in spec.args] == params, name  # every argument has its help text
        assert re.search(r"[\u4e00-\u9fff]", fn.__doc__) and re.search(r"[\u4e00-\u9fff]", spec.description)
        assert len(spec.description) <= 255
        for arg, options in spec.args:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", arg) and arg not in VBA_WORDS, arg
            assert re.search(r"[\u4e00-\u9fff]", options["doc"]) and len(options["doc"]) <= 255


def decode(codes: str) -> str:
    units = [int(c) for c in codes.split(",")]
    return b"".join(u.to_bytes(2, "little") for u in units).decode("utf-16-le")


def test_vba_module_wraps_every_function_in_ascii():
    had_pythoncom = "pythoncom" in sys.modules
    text = udfs.vba_module()
    assert text.isascii()
    assert "Attribute VB_Name" not in text
    lines = text.splitlines()
    assert max(len(line) for line in lines) < 1024
    const = lines.index('#Const App = "Microsoft Excel" \'Adjust when using outside of Excel')
    for name in NAMES:
        params = list(inspect.signature(getattr(udfs, name)).parameters)
        sig = next(i for i, line in enumerate(lines) if line.startswith(f"Function {name}("))
        assert sig > const
        declared = re.findall(r"(?:Optional )?(\w+)", lines[sig][len(f"Function {name}("):-1])
        assert declared == params
        call = f'{name} = XLPy.CallUDF("udfs", "{name}", Array({", ".join(params)}), ThisWorkbook, Application.Caller)'
        assert call in text
        assert "End Function" in lines[sig:]
    assert ("pythoncom" in sys.modules) == had_pythoncom  # the COM stubs are gone again
    assert "xlwings.udfs" not in sys.modules or had_pythoncom


def test_vba_registration_carries_the_chinese_descriptions():
    text = udfs.vba_module()
    assert f"Public Sub {udfs.REGISTER_SUB}(" in text
    body = text[text.index(f"Public Sub {udfs.REGISTER_SUB}("):]
    values: dict[str, str] = {}
    registered = {}
    for line in body.splitlines():
        line = line.strip()
        m = re.fullmatch(r'(\w+(?:\(\d+\))?) = ""', line)
        if m:
            values[m.group(1)] = ""
        m = re.fullmatch(r'(\w+(?:\(\d+\))?) = \1 & DubanW\("([\d,]+)"\)', line)
        if m:
            values[m.group(1)] += decode(m.group(2))
        m = re.match(r'app\.MacroOptions Macro:=book & "(\w+)", Description:=d, Category:=wizardCategory, '
                     r"ArgumentDescriptions:=a$", line)
        if m:
            docs = [values[k] for k in sorted((k for k in values if k.startswith("a(")), key=lambda k: int(k[2:-1]))]
            registered[m.group(1)] = (values["d"], docs, values["wizardCategory"])
            for k in [k for k in values if k.startswith("a(")]:
                del values[k]
    assert set(registered) == set(NAMES)
    for name, (description, docs, category) in registered.items():
        spec = udfs.FUNCTIONS[name]
        assert description == spec.description
        assert docs == [options["doc"] for _, options in spec.args]
        assert category == udfs.CATEGORY == "督办"


def test_benchmark_reports_every_function():
    timings = udfs.benchmark_rows(n=200, repeat=1)
    assert set(timings) == set(NAMES)
    assert all(isinstance(t, float) and t > 0 for t in timings.values())
