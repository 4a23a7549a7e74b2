"""The statutory calendar adapter: the ``chinesecalendar`` package plus the 节假日 sheet."""

from __future__ import annotations

from typing import Iterable

import chinese_calendar

from ..domain.calendar import WorkCalendar
from ..domain.cells import parse_cell_date
from ..domain.models import Holiday, HolidayType


def package_years() -> range:
    """Years the installed package has official holiday data for."""
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return range(min(years), max(years) + 1)


def work_calendar(holidays: Iterable[Holiday] = ()) -> WorkCalendar:
    """Statutory data from the package, overridden day by day by the ledger's 节假日 rows."""
    overrides = {}
    for h in holidays:
        day = parse_cell_date(h.day)
        if day and h.type in (HolidayType.off.value, HolidayType.work.value):
            overrides[day] = h.type == HolidayType.work.value
    return WorkCalendar(chinese_calendar.holidays, chinese_calendar.workdays, package_years(), overrides)
