"""Periods and deadlines (DESIGN §4): parsing, printing, stepping, ordering, due dates.

Expected values are written out by hand: calendar facts are taken from the State Council
holiday schedules (as shipped in the ``chinesecalendar`` package), weekdays are plain
Gregorian facts, and quarterly deadlines come from the 督查方案 seed (4-10, 7-10, 10-10, 1-10).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from xl_duban.domain.calendar import WorkCalendar
from xl_duban.domain.findings import Level
from xl_duban.domain.models import Holiday, Ledger
from xl_duban.domain.periods import Cadence, Period, due_date, periods_of_year, working_period
from xl_duban.io.calendar_source import estimated_days_off, package_years, work_calendar


def Q(year: int, quarter: int) -> Period:
    return Period(year=year, quarter=quarter)


def M(year: int, month: int) -> Period:
    return Period(year=year, month=month)


# -- parsing -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024Q1", Q(2024, 1)),
        ("2024q4", Q(2024, 4)),
        ("2024 q1", Q(2024, 1)),
        (" 2024Q2 ", Q(2024, 2)),
        ("2024年第一季度", Q(2024, 1)),
        ("2024年第二季度", Q(2024, 2)),
        ("2024年第三季度", Q(2024, 3)),
        ("2024年第四季度", Q(2024, 4)),
        ("2024年1季度", Q(2024, 1)),
        ("2024年3季度", Q(2024, 3)),
        ("2024年一季度", Q(2024, 1)),
        ("2024年Q3", Q(2024, 3)),
        ("２０２４Ｑ１", Q(2024, 1)),  # full-width digits and letter
        ("２０２４年第４季度", Q(2024, 4)),
        ("2024-3", M(2024, 3)),
        ("2024-03", M(2024, 3)),
        ("2024-12", M(2024, 12)),
        ("2024.03", M(2024, 3)),
        ("2024.10", M(2024, 10)),
        ("2024/3", M(2024, 3)),
        ("2024年3月", M(2024, 3)),
        ("2024年3月份", M(2024, 3)),
        ("2024 年 3 月", M(2024, 3)),
        ("202403", M(2024, 3)),
        ("202412", M(2024, 12)),
        ("２０２４年３月", M(2024, 3)),  # full-width digits
        ("２０２４－０３", M(2024, 3)),  # full-width hyphen too
    ],
)
def test_parse_accepts_clerk_spellings(text, expected):
    p = Period.parse(text)
    assert (p.year, p.quarter, p.month) == (expected.year, expected.quarter, expected.month)
    assert p == expected


def test_parse_returns_period_unchanged():
    p = Q(2024, 2)
    assert Period.parse(p) is p


@pytest.mark.parametrize(
    "text",
    ["2024Q5", "2024Q0", "2024-13", "2024-00", "abc", "", None, "2024年第五季度", "20241", "2024"],
)
def test_parse_rejects_with_chinese_message(text):
    with pytest.raises(ValueError) as excinfo:
        Period.parse(text)
    message = str(excinfo.value)
    assert message.startswith("无法识别的周期“")
    assert "季度写作 2024Q1，月份写作 2024-03" in message


def test_parse_error_quotes_what_was_typed():
    with pytest.raises(ValueError, match="“2024Q5”"):
        Period.parse("2024Q5")
    with pytest.raises(ValueError, match="“2024-13”"):
        Period.parse("2024-13")
    with pytest.raises(ValueError, match="“abc”"):
        Period.parse("abc")


@pytest.mark.parametrize("text", ["1999Q1", "2204-03"])
def test_parse_out_of_range_year_has_chinese_message(text):
    with pytest.raises(ValueError) as excinfo:
        Period.parse(text)
    assert "无法识别的周期" in str(excinfo.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"year": 2024},  # neither quarter nor month
        {"year": 2024, "quarter": 1, "month": 3},  # both
        {"year": 2024, "quarter": 5},
        {"year": 2024, "quarter": 0},
        {"year": 2024, "month": 13},
        {"year": 2024, "month": 0},
        {"year": 1999, "month": 1},
        {"year": 2101, "quarter": 1},
    ],
)
def test_constructor_rejects_invalid(kwargs):
    with pytest.raises(ValueError):
        Period(**kwargs)


# -- printing ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("period", "text", "label"),
    [
        (Q(2024, 1), "2024Q1", "2024年第一季度"),
        (Q(2024, 2), "2024Q2", "2024年第二季度"),
        (Q(2024, 3), "2024Q3", "2024年第三季度"),
        (Q(2024, 4), "2024Q4", "2024年第四季度"),
        (M(2024, 3), "2024-03", "2024年3月"),
        (M(2024, 12), "2024-12", "2024年12月"),
    ],
)
def test_str_and_label(period, text, label):
    assert str(period) == text
    assert period.label == label


def test_cadence():
    assert Q(2024, 1).cadence is Cadence.quarterly
    assert M(2024, 1).cadence is Cadence.monthly
    assert Cadence.quarterly.value == "季度"
    assert Cadence.monthly.value == "月度"


def test_periods_are_hashable_values():
    assert len({Q(2024, 1), Period.parse("2024年第一季度"), Period.parse("2024 q1")}) == 1
    assert Q(2024, 1) != M(2024, 1)
    assert Q(2024, 1) != Q(2025, 1)


# -- stepping ------------------------------------------------------------------------------------

def test_next_previous_across_year_ends():
    assert Q(2024, 4).next() == Q(2025, 1)
    assert Q(2025, 1).previous() == Q(2024, 4)
    assert Q(2024, 1).next() == Q(2024, 2)
    assert M(2024, 12).next() == M(2025, 1)
    assert M(2024, 1).previous() == M(2023, 12)
    assert M(2024, 6).next() == M(2024, 7)
    assert M(2024, 6).previous() == M(2024, 5)


@pytest.mark.parametrize(
    ("start", "steps", "expected"),
    [
        (Q(2024, 2), 0, Q(2024, 2)),
        (Q(2024, 2), -5, Q(2023, 1)),
        (Q(2024, 2), 7, Q(2026, 1)),
        (Q(2024, 1), -4, Q(2023, 1)),
        (M(2024, 3), 13, M(2025, 4)),
        (M(2024, 3), -3, M(2023, 12)),
        (M(2024, 3), -15, M(2022, 12)),
        (M(2024, 12), 12, M(2025, 12)),
    ],
)
def test_shift(start, steps, expected):
    assert start.shift(steps) == expected


def test_quarter_of():
    assert M(2024, 1).quarter_of() == Q(2024, 1)
    assert M(2024, 3).quarter_of() == Q(2024, 1)
    assert M(2024, 4).quarter_of() == Q(2024, 2)
    assert M(2024, 12).quarter_of() == Q(2024, 4)
    assert Q(2024, 3).quarter_of() == Q(2024, 3)


def test_periods_of_year():
    assert [str(p) for p in periods_of_year(2024, Cadence.quarterly)] == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    months = [str(p) for p in periods_of_year(2024, Cadence.monthly)]
    assert months == [f"2024-{m:02d}" for m in range(1, 13)]


# -- start / end / contains ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        (Q(2024, 1), date(2024, 1, 1), date(2024, 3, 31)),
        (Q(2024, 2), date(2024, 4, 1), date(2024, 6, 30)),
        (Q(2024, 3), date(2024, 7, 1), date(2024, 9, 30)),
        (Q(2024, 4), date(2024, 10, 1), date(2024, 12, 31)),
        (M(2024, 2), date(2024, 2, 1), date(2024, 2, 29)),  # leap year
        (M(2023, 2), date(2023, 2, 1), date(2023, 2, 28)),
        (M(2024, 4), date(2024, 4, 1), date(2024, 4, 30)),
        (M(2024, 12), date(2024, 12, 1), date(2024, 12, 31)),
    ],
)
def test_start_end(period, start, end):
    assert period.start == start
    assert period.end == end


def test_contains():
    q1 = Q(2024, 1)
    assert q1.contains(date(2024, 1, 1))
    assert q1.contains(date(2024, 2, 29))
    assert q1.contains(date(2024, 3, 31))
    assert not q1.contains(date(2023, 12, 31))
    assert not q1.contains(date(2024, 4, 1))
    dec = M(2024, 12)
    assert dec.contains(date(2024, 12, 31))
    assert not dec.contains(date(2025, 1, 1))
    assert not dec.contains(date(2024, 11, 30))


# -- ordering ------------------------------------------------------------------------------------

def test_sort_order_is_chronological_quarter_after_its_months():
    shuffled = [Q(2024, 2), M(2024, 3), Q(2023, 4), Q(2024, 1), M(2024, 1), M(2023, 12), M(2024, 4)]
    assert [str(p) for p in sorted(shuffled)] == [
        "2023-12", "2023Q4", "2024-01", "2024-03", "2024Q1", "2024-04", "2024Q2",
    ]


def test_less_than():
    assert Q(2024, 4) < Q(2025, 1)
    assert not Q(2025, 1) < Q(2024, 4)
    assert M(2024, 12) < M(2025, 1)
    assert M(2024, 3) < Q(2024, 1)
    assert Q(2024, 1) < M(2024, 4)
    assert not Q(2024, 1) < Q(2024, 1)


# -- due dates: quarterly ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def statutory() -> WorkCalendar:
    """The real calendar: chinesecalendar package data, no 节假日 overrides."""
    return work_calendar()


@pytest.mark.parametrize(
    ("period", "due"),
    [
        (Q(2024, 1), date(2024, 4, 10)),
        (Q(2024, 2), date(2024, 7, 10)),
        (Q(2024, 3), date(2024, 10, 10)),
        (Q(2024, 4), date(2025, 1, 10)),
    ],
)
def test_quarterly_due_date(statutory, period, due):
    assert due_date(period, statutory) == (due, [])


def test_quarterly_due_date_is_a_fixed_day_even_in_an_unknown_year(statutory):
    # The 督查方案 fixes 1-10 regardless of weekends, so no calendar, no fallback warning.
    assert due_date(Q(2099, 4), statutory) == (date(2100, 1, 10), [])


def test_quarterly_due_date_custom_day(statutory):
    assert due_date(Q(2024, 2), statutory, quarter_due_day=15) == (date(2024, 7, 15), [])
    assert due_date(Q(2024, 4), statutory, quarter_due_day=5) == (date(2025, 1, 5), [])


# -- due dates: monthly on the statutory calendar ---------------------------------------------

@pytest.mark.parametrize(
    ("period", "due", "why"),
    [
        (M(2024, 9), date(2024, 10, 10), "国庆 10-01..07 off; Tue 8, Wed 9, Thu 10"),
        (M(2024, 1), date(2024, 2, 4), "Thu 1, Fri 2, Sun 4 is a 春节 make-up workday"),
        (M(2024, 4), date(2024, 5, 8), "劳动节 05-01..05 off; Mon 6, Tue 7, Wed 8"),
        (M(2024, 2), date(2024, 3, 5), "no holiday: Fri 1, Mon 4, Tue 5"),
        (M(2024, 5), date(2024, 6, 5), "June starts on a weekend: Mon 3, Tue 4, Wed 5"),
        (M(2023, 12), date(2024, 1, 4), "元旦 Mon 01-01 off; Tue 2, Wed 3, Thu 4 (year end)"),
        (M(2025, 1), date(2025, 2, 7), "春节 02-01..04 off; Wed 5, Thu 6, Fri 7"),
        (M(2025, 9), date(2025, 10, 11), "国庆/中秋 10-01..08 off; Thu 9, Fri 10, Sat 11 make-up"),
        (M(2025, 12), date(2026, 1, 6), "元旦 01-01..03 off; Sun 4 make-up, Mon 5, Tue 6"),
        (M(2026, 9), date(2026, 10, 10), "国庆 10-01..07 off; Thu 8, Fri 9, Sat 10 make-up"),
    ],
)
def test_monthly_due_date_on_statutory_calendar(statutory, period, due, why):
    assert due_date(period, statutory) == (due, []), why


def test_monthly_due_date_custom_workday(statutory):
    # October 2024: 1-7 off, then Tue 8, Wed 9, Thu 10, Fri 11, Sat 12 (make-up workday).
    assert due_date(M(2024, 9), statutory, monthly_workday=1) == (date(2024, 10, 8), [])
    assert due_date(M(2024, 9), statutory, monthly_workday=5) == (date(2024, 10, 12), [])


def test_statutory_calendar_facts(statutory):
    assert statutory.is_workday(date(2024, 2, 4))  # Sunday make-up day
    assert statutory.is_workday(date(2024, 10, 12))  # Saturday make-up day
    assert not statutory.is_workday(date(2024, 10, 1))  # Tuesday, National Day
    assert not statutory.is_workday(date(2024, 6, 10))  # Monday, Dragon Boat Festival
    assert not statutory.is_workday(date(2024, 2, 3))  # ordinary Saturday
    assert statutory.is_workday(date(2024, 3, 1))  # ordinary Friday


# -- estimated years and 节假日 overrides -------------------------------------------------------

def _assert_single_estimate(findings, year: int):
    assert [f.code for f in findings] == ["calendar-estimated"]
    f = findings[0]
    assert f.level is Level.warning
    assert f.sheet == "节假日"
    assert f"{year}年" in f.message and "推算" in f.message
    assert "已核对" in f.hint


@pytest.fixture
def year_2027_unknown():
    if 2027 in package_years():
        pytest.skip("the installed chinesecalendar now knows 2027; pick a later unknown year")


def test_package_does_not_know_far_future():
    years = package_years()
    assert 2024 in years and 2026 in years
    assert 2099 not in years


# The statutory days off of 2027 by the 2024 放假办法, on lunar dates from the almanac:
# 春节 (正月初一) 2027-02-06, so 除夕 is 02-05; 清明 04-05; 端午 06-09; 中秋 09-15.
DAYS_OFF_2027 = {date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8),
                 date(2027, 4, 5), date(2027, 5, 1), date(2027, 5, 2), date(2027, 6, 9), date(2027, 9, 15),
                 date(2027, 10, 1), date(2027, 10, 2), date(2027, 10, 3)}


def test_estimated_days_off_of_2027():
    assert estimated_days_off(2027) == DAYS_OFF_2027


@pytest.mark.parametrize("year", [2025, 2026])
def test_estimate_agrees_with_the_published_schedules(year):
    """Years the State Council has published under the amended 办法: every estimated day off
    is a day off in its schedule (the schedule adds bridging days and 调休 on top)."""
    import chinese_calendar

    assert year in package_years()
    assert estimated_days_off(year) <= {d for d in chinese_calendar.holidays if d.year == year}


def test_monthly_deadline_in_an_estimated_year(statutory, year_2027_unknown):
    # 2027-01-01 (Friday) is 元旦: Mon 4, Tue 5, Wed 6 — the old Monday-Friday fallback said the 5th
    due, findings = due_date(M(2026, 12), statutory)
    assert due == date(2027, 1, 6)
    _assert_single_estimate(findings, 2027)


@pytest.mark.parametrize(
    ("period", "due"),
    [
        (M(2027, 2), date(2027, 3, 3)),  # 2027-03-01 is a Monday
        (M(2027, 9), date(2027, 10, 6)),  # 国庆 Fri 1–Sun 3 off: Mon 4, Tue 5, Wed 6
        (M(2027, 1), date(2027, 2, 3)),  # Mon 1, Tue 2, Wed 3 (春节 starts on the 5th)
    ],
)
def test_more_estimated_answers(statutory, year_2027_unknown, period, due):
    got, findings = due_date(period, statutory)
    assert got == due
    _assert_single_estimate(findings, 2027)


def test_estimated_far_future_year(statutory):
    due, findings = due_date(M(2099, 5), statutory)
    assert due.month == 6 and due >= date(2099, 6, 3)  # 2099-06-01 is a Monday
    _assert_single_estimate(findings, 2099)


CHECKED_2027 = Holiday(row=20, day="2027-01-01", type="已核对", note="2027年放假安排已按国务院通知登记")


def test_a_single_day_off_no_longer_marks_a_year_known(year_2027_unknown):
    ledger = Ledger(holidays=[Holiday(row=2, day="2027-01-04", type="休", note="元旦补休")])
    # 1 Jan (estimated) and 4 Jan (typed) off: Tue 5, Wed 6, Thu 7 — and still an estimate
    due, findings = due_date(M(2026, 12), work_calendar(ledger.holidays))
    assert due == date(2027, 1, 7)
    _assert_single_estimate(findings, 2027)
    assert work_calendar(ledger.holidays).source(2027).value == "推算"


def test_checked_year_is_the_offices_own_and_not_estimated(year_2027_unknown):
    # the office typed 2027's schedule and marked it checked: no estimate is added (1 Jan is a
    # working day here because the office did not type it off) and no warning
    ledger = Ledger(holidays=[Holiday(row=2, day="2027-01-04", type="休"), CHECKED_2027])
    cal = work_calendar(ledger.holidays)
    assert cal.source(2027).value == "已录入" and cal.source(2024).value == "官方公布"
    assert due_date(M(2026, 12), cal) == (date(2027, 1, 6), [])  # Fri 1, Tue 5, Wed 6


def test_override_saturday_workday_changes_answer(year_2027_unknown):
    ledger = Ledger(holidays=[
        *[Holiday(row=2 + i, day=date(2027, 10, d), type="休", note="国庆节") for i, d in enumerate(range(1, 8))],
        Holiday(row=9, day="2027年10月9日", type="班", note="国庆调休"),  # a Saturday
        CHECKED_2027,
    ])
    # Oct 1-7 off, Fri 8, Sat 9 (班), Mon 11.
    assert due_date(M(2027, 9), work_calendar(ledger.holidays)) == (date(2027, 10, 11), [])


def test_override_new_year_pair(year_2027_unknown):
    ledger = Ledger(holidays=[
        Holiday(row=2, day=date(2027, 1, 1), type="休"),
        Holiday(row=3, day=date(2027, 1, 2), type="班"),  # Saturday
        CHECKED_2027,
    ])
    # Sat 2 (班), Mon 4, Tue 5.
    assert due_date(M(2026, 12), work_calendar(ledger.holidays)) == (date(2027, 1, 5), [])


def test_override_wins_over_package_in_known_year():
    off = Ledger(holidays=[Holiday(row=2, day="2024-10-08", type="休")])
    # Oct 1-8 off: Wed 9, Thu 10, Fri 11.
    assert due_date(M(2024, 9), work_calendar(off.holidays)) == (date(2024, 10, 11), [])
    on = Ledger(holidays=[Holiday(row=2, day="2024-10-05", type="班")])
    # Sat 5 (班), Tue 8, Wed 9.
    assert due_date(M(2024, 9), work_calendar(on.holidays)) == (date(2024, 10, 9), [])


def test_override_with_invalid_type_or_date_is_ignored(statutory, year_2027_unknown):
    ledger = Ledger(holidays=[
        Holiday(row=2, day="2027-01-04", type="假"),
        Holiday(row=3, day="not a date", type="休"),
    ])
    due, findings = due_date(M(2026, 12), work_calendar(ledger.holidays))
    assert due == date(2027, 1, 6)
    _assert_single_estimate(findings, 2027)


# -- the pure calendar arithmetic ----------------------------------------------------------------

def test_work_calendar_pure_arithmetic():
    cal = WorkCalendar(
        holidays={date(2030, 5, 1): "Labour Day", date(2030, 5, 2): "Labour Day"},
        workdays=[date(2030, 5, 4)],  # a Saturday
        known_years=[2030],
    )
    # 2030-05-01 is a Wednesday.
    assert cal.knows(2030) and not cal.knows(2031)
    assert not cal.is_workday(date(2030, 5, 1))
    assert cal.is_workday(date(2030, 5, 3))
    assert cal.is_workday(date(2030, 5, 4))
    assert not cal.is_workday(date(2030, 5, 5))
    assert cal.nth_workday(2030, 5, 1) == (date(2030, 5, 3), [])
    assert cal.nth_workday(2030, 5, 2) == (date(2030, 5, 4), [])
    assert cal.nth_workday(2030, 5, 3) == (date(2030, 5, 6), [])
    # (Apr 30, May 6]: Fri 3, Sat 4, Mon 6 are working days.
    assert cal.workdays_between(date(2030, 4, 30), date(2030, 5, 6)) == 3
    assert cal.workdays_between(date(2030, 5, 6), date(2030, 5, 6)) == 0
    assert cal.workdays_between(date(2030, 5, 6), date(2030, 5, 1)) == 0


def test_work_calendar_only_checked_years_are_known():
    cal = WorkCalendar(overrides={date(2031, 1, 1): False, date(2032, 1, 1): False}, checked_years=[2031])
    assert cal.knows(2031) and not cal.knows(2032)
    assert cal.estimate_findings(2031) == []
    assert [f.code for f in cal.estimate_findings(2032)] == ["calendar-estimated"]


def test_nth_workday_bounds():
    cal = WorkCalendar()
    with pytest.raises(ValueError):
        cal.nth_workday(2030, 5, 0)
    # A month has at most 23 Monday-Friday days.
    with pytest.raises(ValueError):
        cal.nth_workday(2030, 5, 24)


def test_statutory_late_return_counts_working_days(statutory):
    # Due Thu 2024-10-10; received Mon 10-14: Fri 11, Sat 12 (make-up), Mon 14 → 3 working days late.
    assert statutory.workdays_between(date(2024, 10, 10), date(2024, 10, 14)) == 3
    # Across the whole National Day week only Sep 30 (Mon) counts: (Sep 29, Oct 7].
    assert statutory.workdays_between(date(2024, 9, 29), date(2024, 10, 7)) == 1


def test_every_2024_monthly_deadline_is_a_workday(statutory):
    for month in range(1, 13):
        due, findings = due_date(M(2024, month), statutory)
        assert findings == []
        assert due.day <= 12
        assert statutory.is_workday(due)
        first = (date(2024, month, 28) + timedelta(days=4)).replace(day=1)
        assert due >= first


@pytest.mark.parametrize("today, cadence, expected", [
    (date(2026, 11, 22), Cadence.quarterly, "2026Q3"),   # Q4 ends 39 days later
    (date(2026, 12, 17), Cadence.quarterly, "2026Q4"),   # 14 days before the quarter ends
    (date(2026, 11, 22), Cadence.monthly, "2026-11"),    # November ends 8 days later
    (date(2026, 12, 3), Cadence.monthly, "2026-11"),     # collecting November's returns
    (date(2027, 1, 8), Cadence.quarterly, "2026Q4"),     # last year's ledger stays in its year
    (date(2027, 1, 8), Cadence.monthly, "2026-12"),
    (date(2025, 6, 1), Cadence.quarterly, "2026Q1"),     # before the year: its first period
])
def test_working_period_of_a_ribbon_button(today, cadence, expected):
    assert str(working_period(today, 2026, cadence)) == expected
