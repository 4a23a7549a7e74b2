"""Working-day arithmetic on the Chinese statutory calendar (DESIGN §4).

Monthly returns for 民生实事 are due by the 3rd *working* day of the next month. China
moves weekends around public holidays (调休): a Sunday can be a working day (2024-02-04)
and a weekday a holiday (2024-10-01..07). The calendar data itself comes from an adapter
(the maintained ``chinesecalendar`` package plus the ledger's 节假日 sheet, and for years
neither knows the statutory days off on lunar dates from ``lunar-python``); this module only
does the arithmetic and the rule of which days are off, so it stays pure and testable.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import Enum
from typing import Callable, Iterable, Mapping

from .findings import Finding, warning


class YearSource(str, Enum):
    """Where a year's days off come from (the worksheet function DUBAN_CALENDAR_STATUS shows it)."""

    official = "官方公布"  # the maintained calendar package has the State Council's schedule
    typed = "已录入"  # the office typed the schedule into 节假日 and marked the year 已核对
    estimated = "推算"  # neither: the statutory days off computed from the lunar calendar


def statutory_days_off(year: int, *, spring_festival: date, qingming: date, dragon_boat: date,
                       mid_autumn: date) -> set[date]:
    """The days off the 《全国年节及纪念日放假办法》 (as amended in 2024) fixes for everyone,
    given the year's lunar dates: 元旦 1 day, 春节 4 (除夕 to 正月初三), 清明 1, 劳动节 2 (5-1, 5-2),
    端午 1, 中秋 1, 国庆 3 (10-1..3). The State Council's yearly schedule adds bridging days and
    make-up working days (调休) around these; they cannot be known in advance, so a year known
    only this way is an estimate."""
    eve = spring_festival - timedelta(days=1)
    return {date(year, 1, 1), *(eve + timedelta(days=i) for i in range(4)), qingming, date(year, 5, 1),
            date(year, 5, 2), dragon_boat, mid_autumn, *(date(year, 10, d) for d in (1, 2, 3))}


class WorkCalendar:
    """A working-day calendar: statutory data, per-ledger overrides, estimated years.

    ``holidays`` / ``workdays`` are the statutory days off and make-up working days for the
    years in ``known_years`` (the package). ``overrides`` (from the 节假日 sheet) map a date to
    True (班, a working day) or False (休, a day off) and win over everything: the State
    Council publishes next year's schedule around December, before any package update.
    ``checked_years`` are the years the office marked 已核对 in 节假日 once it typed the whole
    schedule in. Any other year is estimated: ``estimate(year)`` gives its statutory days off
    (:func:`statutory_days_off`), weekends are added, and every deadline in it carries the
    warning ``calendar-estimated`` so nobody trusts it blindly. A single 休 row does not make a
    year known — the Spring Festival may still be missing.
    """

    def __init__(
        self,
        holidays: Mapping[date, str] | Iterable[date] = (),
        workdays: Mapping[date, str] | Iterable[date] = (),
        known_years: Iterable[int] = (),
        overrides: Mapping[date, bool] | None = None,
        checked_years: Iterable[int] = (),
        estimate: Callable[[int], set[date]] | None = None,
    ) -> None:
        self._holidays = frozenset(holidays)
        self._workdays = frozenset(workdays)
        self._overrides = dict(overrides or {})
        self._official = frozenset(known_years)
        self._checked = frozenset(checked_years)
        self._estimate = estimate
        self._estimated: dict[int, set[date]] = {}

    def source(self, year: int) -> YearSource:
        """Where ``year``'s days off come from."""
        if year in self._official:
            return YearSource.official
        return YearSource.typed if year in self._checked else YearSource.estimated

    def knows(self, year: int) -> bool:
        """True when holidays for ``year`` come from real data (package, or 节假日 marked 已核对)."""
        return self.source(year) is not YearSource.estimated

    def _estimated_off(self, year: int) -> set[date]:
        if self._estimate is None:
            return set()
        if year not in self._estimated:
            self._estimated[year] = self._estimate(year)
        return self._estimated[year]

    def is_workday(self, day: date) -> bool:
        """Whether offices work on ``day``; make-up Sundays count, holiday weekdays do not."""
        if day in self._overrides:
            return self._overrides[day]
        if day in self._workdays:
            return True
        if day in self._holidays:
            return False
        if not self.knows(day.year) and day in self._estimated_off(day.year):
            return False
        return day.weekday() < 5

    def estimate_findings(self, year: int) -> list[Finding]:
        """The warning attached to answers for a year the calendar only estimates."""
        if self.knows(year):
            return []
        return [
            warning(
                "calendar-estimated",
                f"{year}年的放假安排尚未收录或未在【节假日】核对，工作日按《全国年节及纪念日放假办法》推算"
                "（元旦、春节除夕至初三、清明、劳动节2天、端午、中秋、国庆3天，另加周末；调休上班日无法预知），截止时间可能不准。",
                sheet="节假日",
                hint=f"国务院公布{year}年放假安排后，在【节假日】逐日登记“休”和“班”（调休上班日），"
                     f"再加一行类型“已核对”（日期填{year}年任一天）确认该年。",
            )
        ]

    def nth_workday(self, year: int, month: int, n: int) -> tuple[date, list[Finding]]:
        """The ``n``-th working day of a month, with a warning if the year is only estimated.

        Used for the monthly deadline: "每月第3个工作日前" in the 督查方案.
        """
        if n < 1:
            raise ValueError("n must be >= 1")
        day = date(year, month, 1)
        count = 0
        while True:
            if self.is_workday(day):
                count += 1
                if count == n:
                    return day, self.estimate_findings(year)
            day += timedelta(days=1)
            if day.month != month:
                raise ValueError(f"{year}-{month:02d} has fewer than {n} working days")

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]`` — how many working days late a return is."""
        if end <= start:
            return 0
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_workday(day)
        return count
