"""Due dates of periods: the ledger's calendar and 设置 together.

Every command that names a deadline (issue, send, remind, light, the rectification date of a
notice, the worksheet functions) asks the same object, so a form, its reminder and the
light that judges it can never disagree about the day. Pure: the calendar is handed in
(``io.calendar_source.work_calendar``), the settings are typed (``domain.settings``).
"""

from __future__ import annotations

from datetime import date, timedelta

from .calendar import WorkCalendar
from .findings import Finding
from .periods import Period, due_date
from .settings import Settings


class DueDates:
    """Due dates of periods on a calendar and the 季度截止日 / 月报截止工作日 settings,
    remembering calendar warnings (a year the calendar only estimates) and bad values of the
    two settings (they fall back to the defaults, so a typo in 设置 never crashes a run)."""

    def __init__(self, calendar: WorkCalendar, settings: Settings) -> None:
        self._calendar = calendar
        self._quarter_day = settings.quarter_day
        self._monthly_workday = settings.monthly_workday
        self._warnings: dict[str, Finding] = {f.message: f for f in settings.findings("季度截止日", "月报截止工作日")}

    @property
    def calendar(self) -> WorkCalendar:
        return self._calendar

    def workday_on_or_after(self, day: date) -> date:
        """The first working day from ``day`` on (a deadline never falls on a day off)."""
        while not self._calendar.is_workday(day):
            day += timedelta(days=1)
        return self._noted(day)

    def add_workdays(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (a rectification period counts working days)."""
        while n > 0:
            day += timedelta(days=1)
            n -= self._calendar.is_workday(day)
        return self._noted(day)

    def __call__(self, period: Period) -> date:
        day, found = due_date(period, self._calendar, self._quarter_day, self._monthly_workday)
        for f in found:
            self._warnings.setdefault(f.message, f)
        return day

    def _noted(self, day: date) -> date:
        """``day``, after noting the warning if its year's calendar is only estimated: every
        deadline counted in working days in such a year carries it (a quarterly deadline is a
        fixed day of the month and needs no calendar)."""
        for f in self._calendar.estimate_findings(day.year):
            self._warnings.setdefault(f.message, f)
        return day

    @property
    def findings(self) -> list[Finding]:
        return list(self._warnings.values())
