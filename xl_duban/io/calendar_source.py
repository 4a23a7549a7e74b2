"""The statutory calendar adapter: the ``chinesecalendar`` package plus the 节假日 sheet, and
for years neither knows, the lunar dates of the statutory holidays from ``lunar-python``
(pure Python, so the offline bundle carries it)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Iterable

import chinese_calendar

from ..domain.calendar import WorkCalendar, statutory_days_off
from ..domain.cells import parse_cell_date
from ..domain.models import Holiday, HolidayType


def package_years() -> range:
    """Years the installed package has official holiday data for."""
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return range(min(years), max(years) + 1)


def _solar(lunar) -> date:
    solar = lunar.getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


@lru_cache(maxsize=None)
def estimated_days_off(year: int) -> frozenset[date]:
    """The statutory days off of ``year`` on its lunar dates (春节, 端午, 中秋) and 清明."""
    from lunar_python import Lunar

    qingming = Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]
    return frozenset(statutory_days_off(
        year, spring_festival=_solar(Lunar.fromYmd(year, 1, 1)),
        qingming=date(qingming.getYear(), qingming.getMonth(), qingming.getDay()),
        dragon_boat=_solar(Lunar.fromYmd(year, 5, 5)), mid_autumn=_solar(Lunar.fromYmd(year, 8, 15))))


def work_calendar(holidays: Iterable[Holiday] = ()) -> WorkCalendar:
    """Statutory data from the package, overridden day by day by the ledger's 节假日 rows; a year
    with a 已核对 row is the office's own; any other year is estimated."""
    overrides, checked = {}, set()
    for h in holidays:
        day = parse_cell_date(h.day)
        if day is None:
            continue
        if h.type in (HolidayType.off.value, HolidayType.work.value):
            overrides[day] = h.type == HolidayType.work.value
        elif h.type == HolidayType.checked.value:
            checked.add(day.year)
    return WorkCalendar(chinese_calendar.holidays, chinese_calendar.workdays, package_years(), overrides,
                        checked_years=checked, estimate=estimated_days_off)
