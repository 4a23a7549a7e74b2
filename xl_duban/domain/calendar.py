"""Working-day arithmetic on the Chinese statutory calendar (DESIGN §4).

Monthly returns for 民生实事 are due by the 3rd *working* day of the next month. China
moves weekends around public holidays (调休): a Sunday can be a working day (2024-02-04)
and a weekday a holiday (2024-10-01..07). The calendar data itself comes from an adapter
(the maintained ``chinesecalendar`` package plus the ledger's 节假日 sheet); this module
only does the arithmetic, so it stays pure and testable with any data.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable, Mapping

from .findings import Finding, warning


class WorkCalendar:
    """A working-day calendar: statutory data, per-ledger overrides, Mon-Fri fallback.

    ``holidays`` / ``workdays`` are the statutory days off and make-up working days for the
    years in ``known_years``. ``overrides`` (from the 节假日 sheet) map a date to True
    (班, a working day) or False (休, a day off) and win over everything: the State
    Council publishes next year's schedule around December, before any package update.
    A year covered neither by the package nor by an override falls back to Monday-Friday,
    and every answer for such a year carries a warning finding so nobody trusts it blindly.
    """

    def __init__(
        self,
        holidays: Mapping[date, str] | Iterable[date] = (),
        workdays: Mapping[date, str] | Iterable[date] = (),
        known_years: Iterable[int] = (),
        overrides: Mapping[date, bool] | None = None,
    ) -> None:
        self._holidays = frozenset(holidays)
        self._workdays = frozenset(workdays)
        self._overrides = dict(overrides or {})
        self._known_years = frozenset(known_years) | {d.year for d in self._overrides}

    def knows(self, year: int) -> bool:
        """True when holidays for ``year`` come from real data (package or 节假日 sheet)."""
        return year in self._known_years

    def is_workday(self, day: date) -> bool:
        """Whether offices work on ``day``; make-up Sundays count, holiday weekdays do not."""
        if day in self._overrides:
            return self._overrides[day]
        if day in self._workdays:
            return True
        if day in self._holidays:
            return False
        return day.weekday() < 5

    def fallback_findings(self, year: int) -> list[Finding]:
        """The warning attached to answers for a year the calendar does not know."""
        if self.knows(year):
            return []
        return [
            warning(
                "calendar-fallback",
                f"{year}年的法定节假日安排尚未收录，工作日暂按周一至周五计算，截止时间可能不准。",
                sheet="节假日",
                hint=f"国务院公布{year}年放假安排后，在【节假日】表逐日登记“休”和“班”（调休上班日）。",
            )
        ]

    def nth_workday(self, year: int, month: int, n: int) -> tuple[date, list[Finding]]:
        """The ``n``-th working day of a month, with a fallback warning if the year is unknown.

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
                    return day, self.fallback_findings(year)
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
