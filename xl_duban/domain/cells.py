"""Dates from what clerks type into cells — pure, no clock: a year-less date needs its year passed in.

Real 任务清单 write deadlines as ``2024年6月底前``, ``6月30日前`` or just ``年底前``; returns carry
a real datetime or text like ``2024-04-08 10:30``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, datetime, time

from .periods import Period


CELL_TEXT_LIMIT = 32767  # the most characters one Excel cell holds; longer text is repaired away by Excel


def row_text(values: dict[str, str]) -> str:
    """A whole new row in one 变更日志 cell, column by column: JSON with Chinese kept readable.
    One entry per new row (not one per value) keeps a year's log small enough to load fast,
    while the row can still be rebuilt exactly (``json.loads``)."""
    return json.dumps(values, ensure_ascii=False)


def date_text(d: date) -> str:
    """A date as documents and forms write it: 2024年6月30日."""
    return f"{d.year}年{d.month}月{d.day}日"

_SUFFIX = re.compile(r"(之前|以前|前)$")  # "2024年6月底前" is the seeds' way of writing a deadline
_YEAR = r"(?:(\d{4})[-/.年])"
_TIME = re.compile(r"(?:\s+|T|(?<=日))(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")  # split off before spaces are dropped
_FULL = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_NO_YEAR_DAY = re.compile(r"(\d{1,2})月(\d{1,2})日?")
_MONTH = re.compile(_YEAR + r"?(\d{1,2})(?:月(?:底|末)?)?")
_YEAR_END = re.compile(r"(\d{4})?年(?:底|末)")


def _split(value: object) -> tuple[str, tuple[int, int, int] | None]:
    """The date part without spaces or a trailing 前, and the time of day if one follows it."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    m = _TIME.search(text)
    clock = None
    if m:
        clock = (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
        text = text[:m.start()]
    return _SUFFIX.sub("", re.sub(r"\s+", "", text)), clock


def _month_end(year: int, month: int) -> date | None:
    try:
        return Period(year=year, month=month).end
    except ValueError:  # month 13, or a year Period does not accept
        return None


def parse_cell_date(value: object, year: int | None = None) -> date | None:
    """A date from a cell, or None.

    Accepted: a real date/datetime; ``2024-06-30``, ``2024/6/30``, ``2024年6月30日`` (a time
    after it is ignored); ``2024年6月底``/``2024-06`` (the month's last day); ``2024年底``.
    With ``year`` also the year-less ``6月30日``, ``6月底`` and ``年底`` (that month-end, day or
    12-31 in ``year``). A trailing 前/之前/以前 is ignored: ``6月底前`` is the deadline 6-30.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text, _clock = _split(value)
    if not text:
        return None
    m = _FULL.fullmatch(text)
    if m:
        return _day(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _NO_YEAR_DAY.fullmatch(text)
    if m:
        return _day(year, int(m.group(1)), int(m.group(2))) if year else None
    m = _YEAR_END.fullmatch(text)
    if m:
        y = int(m.group(1)) if m.group(1) else year
        return _month_end(y, 12) if y else None
    m = _MONTH.fullmatch(text)
    if m and (m.group(1) or "月" in text):  # a bare number is not a month
        y = int(m.group(1)) if m.group(1) else year
        return _month_end(y, int(m.group(2))) if y else None
    m = re.fullmatch(r"(\d{4})年", text)
    if m:
        return _month_end(int(m.group(1)), 12)
    return None


def parse_cell_datetime(value: object) -> datetime | None:
    """A moment from a cell (报送时间): a datetime, a date (midnight), or text with an optional time."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    day = parse_cell_date(value)
    if day is None:
        return None
    _text, clock = _split(value)
    try:
        return datetime.combine(day, time(*clock) if clock else time())
    except ValueError:  # 25:70 — keep the day
        return datetime.combine(day, time())


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def cell_text(value: object) -> str:
    """A cell value as the text a clerk sees: integral floats without .0, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def column_letter(index: int) -> str:
    """Excel's letters for column ``index`` (1 → A, 27 → AA). Here rather than openpyxl's so
    that the processes reading returned files need not import openpyxl (and numpy with it)."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """The column number of Excel's ``letters`` (A → 1, AA → 27)."""
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index
