"""Reporting periods and their deadlines (DESIGN §4).

Key tasks report per quarter (``2024Q1``), 民生实事 per month (``2024-03``). Periods are
values: parsed tolerantly from what clerks type (``2024年第一季度``, ``2024.3``), printed in
one canonical form, ordered, and stepped forwards and backwards across year ends because
streaks (two yellows in a row) run across Q4 → Q1.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from enum import Enum

from pydantic import BaseModel, ConfigDict, model_validator

from .calendar import WorkCalendar
from .findings import Finding

_ZH_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_ZH_QUARTER = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}


class Cadence(str, Enum):
    """How often a task reports; the value is the 任务台账 报送周期 label."""

    quarterly = "季度"
    monthly = "月度"


class Period(BaseModel):
    """A quarter or a month of a year. Exactly one of ``quarter`` / ``month`` is set."""

    model_config = ConfigDict(frozen=True)

    year: int
    quarter: int | None = None
    month: int | None = None

    @model_validator(mode="after")
    def _check(self) -> "Period":
        if (self.quarter is None) == (self.month is None):
            raise ValueError("a period is either a quarter or a month")
        if self.quarter is not None and not 1 <= self.quarter <= 4:
            raise ValueError("quarter must be 1-4")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError("month must be 1-12")
        if not 2000 <= self.year <= 2100:
            raise ValueError("year out of range")
        return self

    # -- parsing and printing -------------------------------------------------------
    @classmethod
    def parse(cls, text: object) -> "Period":
        """Parse ``2024Q1`` / ``2024-03`` and the spellings clerks type.

        Accepted: ``2024Q1``, ``2024 q1``, ``2024年第一季度``, ``2024年1季度``, ``2024-3``,
        ``2024.03``, ``2024/3``, ``2024年3月``, ``202403``, full-width digits. Raises
        ``ValueError`` with a Chinese message otherwise.
        """
        if isinstance(text, Period):
            return text
        raw = unicodedata.normalize("NFKC", str(text or "")).strip()
        s = re.sub(r"\s+", "", raw).upper()
        m = re.fullmatch(r"(\d{4})(?:年)?(?:Q|第)?([1-4一二三四])(?:季度|季|Q)?", s)
        year = re.match(r"\d{4}", s)
        if year and not 2000 <= int(year.group()) <= 2100:
            raise ValueError(f"无法识别的周期“{raw}”：年份超出范围（2000—2100），请检查是否录入错误")
        if m and ("Q" in s or "季" in s):
            return cls(year=int(m.group(1)), quarter=_ZH_DIGITS[m.group(2)])
        m = re.fullmatch(r"(\d{4})(?:[-./年])(\d{1,2})(?:月(?:份)?)?", s) or re.fullmatch(r"(\d{4})(\d{2})", s)
        if m and 1 <= int(m.group(2)) <= 12:
            return cls(year=int(m.group(1)), month=int(m.group(2)))
        raise ValueError(f"无法识别的周期“{raw}”，季度写作 2024Q1，月份写作 2024-03")

    def __str__(self) -> str:
        if self.quarter is not None:
            return f"{self.year}Q{self.quarter}"
        return f"{self.year}-{self.month:02d}"

    @property
    def label(self) -> str:
        """Chinese label for documents: ``2024年第一季度`` / ``2024年3月``."""
        if self.quarter is not None:
            return f"{self.year}年{_ZH_QUARTER[self.quarter]}"
        return f"{self.year}年{self.month}月"

    # -- calendar ------------------------------------------------------------------
    @property
    def cadence(self) -> Cadence:
        return Cadence.quarterly if self.quarter is not None else Cadence.monthly

    @property
    def first_month(self) -> int:
        return self.month if self.month is not None else 3 * self.quarter - 2

    @property
    def last_month(self) -> int:
        return self.month if self.month is not None else 3 * self.quarter

    @property
    def start(self) -> date:
        return date(self.year, self.first_month, 1)

    @property
    def end(self) -> date:
        y, m = (self.year + 1, 1) if self.last_month == 12 else (self.year, self.last_month + 1)
        return date(y, m, 1) - timedelta(days=1)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def _index(self) -> int:
        return self.year * 12 + self.first_month - 1

    def shift(self, steps: int) -> "Period":
        """The period ``steps`` periods later (negative: earlier), across year ends."""
        if self.quarter is not None:
            q = self.year * 4 + self.quarter - 1 + steps
            return Period(year=q // 4, quarter=q % 4 + 1)
        m = self._index() + steps
        return Period(year=m // 12, month=m % 12 + 1)

    def next(self) -> "Period":
        return self.shift(1)

    def previous(self) -> "Period":
        return self.shift(-1)

    def sort_key(self) -> tuple[int, int, int]:
        """Chronological order; a quarter sorts after the months it contains."""
        return (self.year, self.last_month, 0 if self.month is not None else 1)

    def __lt__(self, other: "Period") -> bool:
        return self.sort_key() < other.sort_key()

    def quarter_of(self) -> "Period":
        """The quarter a month falls in (a quarter returns itself)."""
        if self.quarter is not None:
            return self
        return Period(year=self.year, quarter=(self.month - 1) // 3 + 1)


def periods_of_year(year: int, cadence: Cadence) -> list[Period]:
    """All periods of one cadence in a year, in order (the columns of 亮灯总览)."""
    if cadence is Cadence.quarterly:
        return [Period(year=year, quarter=q) for q in range(1, 5)]
    return [Period(year=year, month=m) for m in range(1, 13)]


def due_date(
    period: Period,
    calendar: WorkCalendar,
    quarter_due_day: int = 10,
    monthly_workday: int = 3,
) -> tuple[date, list[Finding]]:
    """The last day on which a return for ``period`` counts as on time.

    Quarterly: day ``quarter_due_day`` (设置 季度截止日, default 10) of the month after the
    quarter — 4-10, 7-10, 10-10 and 1-10 of the next year, as the 督查方案 fixes it.
    Monthly: the ``monthly_workday``-th working day (default 3) of the next month on the
    statutory calendar, so holidays and 调休 Sundays move it. Findings warn when the
    calendar had to fall back to Monday-Friday.
    """
    following = Period(year=period.year, month=period.last_month).next()
    if period.quarter is not None:
        return date(following.year, following.month, quarter_due_day), []
    return calendar.nth_workday(following.year, following.month, monthly_workday)


def working_period(today: date, year: int, cadence: Cadence, lead_days: int = 15) -> Period:
    """The period a ribbon button works on when the clerk has not named one.

    Forms go out shortly before a period ends and come back within weeks after it, so the
    working period is the latest one whose end is at most ``lead_days`` away or already past:
    on 22 November that is the third quarter (the fourth ends 39 days later) and November.
    A ledger holds one year, so the answer is kept inside ``year`` — the office finishing
    last year's ledger in January gets its fourth quarter and December.
    """
    periods = periods_of_year(year, cadence)
    reached = [p for p in periods if p.end <= today + timedelta(days=lead_days)]
    return reached[-1] if reached else periods[0]
