"""完成时限 as task lists write it, read into a date of the ledger's year; 超期 — pure, no clock.

DESIGN §3: 完成时限 is a date cell. Task lists write it in words: ``12 月 10 日``, ``6月底前``,
``年底前``, ``三季度末``, ``上半年``, ``2024.12``, ``3月至6月``. :func:`read_deadline` turns such
text into the last day it allows (the month's, quarter's, half-year's or year's end where only
those are given), in the ledger's year unless the text names another (``2025年6月底``, ``明年``).

What the text is, and what import and validate do with it (:class:`Deadline` ``.kind``):

==============  ==========================================  ====================================
kind            example                                     the ledger keeps
==============  ==========================================  ====================================
``date``        ``6月30日前``, ``三季度末``, a date cell      the date in 完成时限
``words``       ``2025年6月底前完成一期``, ``力争年底前``      the date; the text appended to 备注
``ongoing``     ``长期坚持``, ``持续推进``, ``常态化``         完成时限 blank; the text in 备注
``start``       ``2025年3月启动``, ``3月起``, ``3月开工``       完成时限 blank; the text in 备注
``ambiguous``   ``6月底前完成一期，年底前完成二期``            the text in 完成时限 and in 备注
``invalid``     ``2024-02-30``, ``13月底``                   the text (a date that does not exist)
``no-year``     ``6月底前`` in a ledger without 年度          the text
``unreadable``  ``按省统一部署``, ``待定``                    the text
==============  ==========================================  ====================================

The date part is taken only when it is unambiguous: exactly one date expression, or two
joined as a range (``3月至6月``, ``二至三季度`` → the end of the range), or several that name
the same day. Two different dates in words (a first phase and a second, a start and an end
not written as a range) are not guessed between: which one the office tracks is its call.
Words around a single date that only say "by" (前、以前、之前、底前、止、为止、截至、完成、内)
are dropped; any other word keeps the whole text in 备注 as the clerk wrote it. A single date
followed straight by 启动、开始、起、动工、开工 is when the work starts, not a deadline (``start``);
``5月1日前开工`` (start *by* 5月1日) is a deadline.

A number or date *cell* of a workbook is read by :func:`read_deadline_cell` with its number
format, as the cell displays it: a date shown without its day (``yyyy"年"m"月"``, ``yyyy-mm``,
``mmm-yy`` — typing 2025年10月 in Excel makes the date 2025-10-01 shown so) is the end of that
month; a number is read as the format shows it (2025.1 shown ``0.00`` is 2025.10). A number
whose format does not fix its decimals (General) may have lost a trailing zero — 2025.1 typed
as 2025.10, 6.3 as 6.30 — and when both readings are dates it is not guessed (``ambiguous``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .models import TaskStatus

# Kinds whose written text carries more than the date: it goes to 备注 on import.
KEEP_TEXT = ("words", "ongoing", "start", "ambiguous")
# Kinds with a date (``Deadline.day`` set).
DATED = ("date", "words")

_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN = "〇零○一二两三四五六七八九十"
_ONGOING = re.compile(r"长期|持续|常态|经常性|每年|每季|每月|逐年|动态|滚动|长效")
# "by" words around a date: dropped, they add nothing to the date itself
_AFFIX = ("截止到", "截止至", "截至", "截止", "不晚于", "不迟于", "最迟", "最晚", "为止", "以前", "之前", "以内",
          "之内", "完成", "前", "止", "内", "于", "在", "到", "至")
_RANGE = r"(?:至|到|－|-|—|–|~|〜|～)"
_REL = "明年|次年|下一年|下年|今年|本年|当年"  # years named relative to the ledger's
# One date expression. Groups per alternative: y*/rel* (year), m*, d*, part (旬/底/末/份/中), qn*, hw.
_EXPR = re.compile(
    r"(?P<ymd>(?P<y1>\d{4})[./-](?P<m1>\d{1,2})[./-](?P<d1>\d{1,2})日?)"
    r"|(?P<ym>(?P<y2>\d{4})[./-](?P<m2>\d{1,2})(?![\d./-]))"
    rf"|(?P<q>(?:(?P<y3>\d{{4}})年?|(?P<rel3>{_REL}))?(?:第?(?P<qn>\d)季度|[Qq](?P<qn2>\d))(?:末|底)?)"
    rf"|(?P<half>(?:(?P<y4>\d{{4}})年?|(?P<rel4>{_REL}))?(?P<hw>上半年|下半年|年中))"
    rf"|(?P<md>(?:(?P<y5>\d{{4}})年|(?P<rel5>{_REL}))?(?P<m5>\d{{1,2}})月"
    r"(?:(?P<d5>\d{1,2})[日号]?|(?P<part>上旬|中旬|下旬|底|末|份|中))?)"
    rf"|(?P<ye>(?P<y6>\d{{4}})年(?:底|末|终|内|度内|度)?|(?P<rel6>{_REL})(?:底|末|终|内|度内|度)?"
    r"|年底|年末|年终|年内|年度内|岁末|全年|本年度)"
)
_MONTH_DAY_ONLY = re.compile(r"(\d{1,2})\.(\d{1,2})")  # 6.30 — only as the whole text, never inside words
_MONTH_RANGE = re.compile(r"(?<![\d.])(\d{1,2})(?:月份?)?" + _RANGE + r"(\d{1,2})月")  # 3-6月, 3月至6月 → 6月
_START = re.compile(r"(?:启动|开始|动工|开工|起(?!草))")  # right after the date: when work starts
_QUARTER_RANGE = re.compile(r"第?(\d)(?:季度)?" + _RANGE + r"第?(\d)季度")  # 二至三季度 → 三季度


@dataclass(frozen=True)
class Deadline:
    """What a 完成时限 says: its date (None when there is none to take) and what kind of text it is."""

    day: date | None
    kind: str  # date, words, ongoing, start, ambiguous, invalid, no-year, unreadable, blank
    text: str = ""  # the written text, spaces trimmed ("" for a date cell)
    reason: str = ""  # why a number cell is ambiguous, for the clerk ("" otherwise)

    @property
    def keeps_text(self) -> bool:
        """Whether the written text means more than the date (it belongs in 备注)."""
        return self.kind in KEEP_TEXT


def _cn_number(text: str) -> int:
    """十二 → 12, 三十一 → 31, 二〇二四 → 2024 (digit by digit when there is no 十)."""
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return int("".join(str(_CN_DIGITS[c]) for c in text))


def _arabic(text: str) -> str:
    """Chinese numerals before 年/月/日/号/季度 as digits: 二〇二四年十二月三十一日 → 2024年12月31日."""
    text = re.sub(r"([〇零○一二三四五六七八九]{4})年", lambda m: f"{_cn_number(m.group(1))}年", text)
    text = re.sub(rf"(?<![{_CN}])([{_CN}]{{1,3}})(?=月|日|号|季度|至|到)",
                  lambda m: str(_cn_number(m.group(1))) if _valid_cn(m.group(1)) else m.group(1), text)
    return text


def _valid_cn(text: str) -> bool:
    return bool(re.fullmatch(r"[一二两三四五六七八九]?十[一二三四五六七八九]?|[〇零一二两三四五六七八九]", text))


def normalize(value: object) -> str:
    """The text of a 完成时限 cell as the parser reads it: full-width forms folded (NFKC),
    spaces removed, Chinese numerals of dates as digits."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    text = re.sub(r"(?:[T\s]|(?<=日))\d{1,2}:\d{2}(?::\d{2})?$", "", text)  # a time after the date: 2024-12-31 00:00
    text = re.sub(r"\s+", "", text)
    return _arabic(text)


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1))


class _Invalid(Exception):
    """A date expression that names no real day (2月30日, 13月, 第五季度)."""


def _explicit_year(m: re.Match) -> bool:
    return any(m.group(g) for g in m.re.groupindex if g[:1] == "y" and g[1:].isdigit() or g.startswith("rel"))


def _day_of(m: re.Match, year: int | None) -> date | None:
    """The last day one expression allows; None without a year; _Invalid when there is no such day."""
    try:
        if m.group("ymd"):
            return date(int(m.group("y1")), int(m.group("m1")), int(m.group("d1")))
        if m.group("ym"):
            return _month(int(m.group("y2")), int(m.group("m2")))
        if m.group("q"):
            y = int(m.group("y3")) if m.group("y3") else _rel(m.group("rel3"), year)
            q = int(m.group("qn") or m.group("qn2"))
            if not 1 <= q <= 4:
                raise _Invalid
            return None if y is None else _month_end(y, 3 * q)
        if m.group("half"):
            y = int(m.group("y4")) if m.group("y4") else _rel(m.group("rel4"), year)
            return None if y is None else _month_end(y, 12 if m.group("hw") == "下半年" else 6)
        if m.group("md"):
            y = int(m.group("y5")) if m.group("y5") else _rel(m.group("rel5"), year)
            if y is None:
                return None
            month = int(m.group("m5"))
            if m.group("d5"):
                return date(y, month, int(m.group("d5")))
            end = _month(y, month)
            return {"上旬": end.replace(day=10), "中旬": end.replace(day=20), "中": end.replace(day=15)}.get(m.group("part"), end)
        y = int(m.group("y6")) if m.group("y6") else _rel(m.group("rel6"), year)
        return None if y is None else date(y, 12, 31)
    except ValueError:
        raise _Invalid from None


def _rel(word: str | None, year: int | None) -> int | None:
    if year is None:
        return None
    return year + 1 if word in ("明年", "次年", "下一年", "下年") else year


def _month(year: int, month: int) -> date:
    if not 1 <= month <= 12:
        raise ValueError(month)
    return _month_end(year, month)


def _strip_affixes(rest: str, punctuation: bool = True) -> str:
    """``rest`` without "by" words at either end (and without punctuation)."""
    if punctuation:
        rest = re.sub(r"[\s，,。.;；、:：()（）\[\]【】\"“”'‘’]", "", rest)
    changed = True
    while rest and changed:
        changed = False
        for word in _AFFIX:
            if rest.startswith(word):
                rest, changed = rest[len(word):], True
            if rest.endswith(word):
                rest, changed = rest[:-len(word)], True
    return rest


def read_deadline(value: object, year: int | None) -> Deadline:
    """What a 完成时限 cell says, in ledger year ``year`` (None: only texts naming their year read).

    A date or datetime cell is that date. See the module docstring for the kinds of text.
    """
    if isinstance(value, datetime):
        return Deadline(value.date(), "date")
    if isinstance(value, date):
        return Deadline(value, "date")
    written = re.sub(r"\s+", " ", str(value if value is not None else "")).strip()
    if not written:
        return Deadline(None, "blank")
    text = normalize(written)
    m = _MONTH_DAY_ONLY.fullmatch(_strip_affixes(text, punctuation=False) or "-")
    if m and not re.search(r"\d{4}", text):
        if year is None:
            return Deadline(None, "no-year", written)
        try:
            return Deadline(date(year, int(m.group(1)), int(m.group(2))), "date", written)
        except ValueError:
            return Deadline(None, "invalid", written)
    text = _QUARTER_RANGE.sub(lambda r: f"第{r.group(2)}季度", text)
    text = _MONTH_RANGE.sub(lambda r: f"{r.group(2)}月", text)
    found: list[tuple[re.Match, date | None]] = []
    rest = []
    last = 0
    try:
        for m in _EXPR.finditer(text):
            gap = text[last:m.start()]
            day = _day_of(m, year)
            if found and re.fullmatch(_RANGE, gap):  # 2024年3月至2025年6月: the end of the range
                start, _ = found.pop()
                if not _explicit_year(m) and _explicit_year(start):
                    day = _day_of(m, _start_year(start, year))
            else:
                rest.append(gap)
            found.append((m, day))
            last = m.end()
    except _Invalid:
        return Deadline(None, "invalid", written)
    rest.append(text[last:])
    if not found:
        return Deadline(None, "ongoing" if _ONGOING.search(text) else "unreadable", written)
    days = {d for _m, d in found}
    if len(found) == 1 and _START.match(text, found[0][0].end()):  # 2025年3月启动: a start, no deadline
        return Deadline(None, "start", written)
    if None in days:
        return Deadline(None, "no-year", written)
    if len(days) > 1:
        return Deadline(None, "ambiguous", written)
    words = _strip_affixes("".join(rest))
    return Deadline(days.pop(), "words" if words else "date", written)


def _start_year(m: re.Match, year: int | None) -> int | None:
    """The year the start of a range names, for an end that names none (2024年11月至次年… aside)."""
    day = _day_of(m, year)
    return day.year if day else year


# -- number and date cells with their number format ------------------------------------------------
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?: \d{2}:\d{2})?")  # a date cell's text (cells.cell_text)
_NUMBER = re.compile(r"-?\d+(?:\.(\d+))?")


def _format_code(number_format: str) -> str:
    """The first section of an Excel number format without literals, escapes, [..] and padding."""
    code = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]|[_*].', "", number_format or "")
    return code.split(";")[0].lower()


def read_deadline_cell(text: str, year: int | None, number_format: str) -> Deadline:
    """A 完成时限 cell that holds a number or a date (its text as ``cells.cell_text`` gives it)
    with the cell's number format ("" when the reader cannot tell), read as the cell displays it."""
    code = _format_code(number_format)
    iso = _ISO.fullmatch(text)
    if iso:
        day = date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        if re.search(r"[hs]", code) or "d" in code or not re.search(r"[my]", code):
            return Deadline(day, "date")  # the day is shown (or no format to tell): that day
        if "m" in code:  # yyyy年m月, yyyy-mm, mmm-yy: the month, so its last day
            return Deadline(_month_end(day.year, day.month), "date")
        return Deadline(date(day.year, 12, 31), "date")  # yyyy年: the year
    number = _NUMBER.fullmatch(text)
    if not number:
        return read_deadline(text, year)
    places = re.search(r"\.([0#?]+)", code)
    if re.search(r"[0#?]", code) and not (places and set(places.group(1)) - {"0"}):  # 0.00: what it shows
        return read_deadline(f"{float(text):.{len(places.group(1)) if places else 0}f}", year)
    read = read_deadline(text, year)
    if number.group(1) and read.day is not None:  # General: a trailing zero may have been dropped
        other = read_deadline(text + "0", year)
        if other.day is not None and other.day != read.day:
            return Deadline(None, "ambiguous", f"{text}或{text}0",
                            f"单元格是数字{text}，Excel 不显示末尾的0，可能是{text}也可能是{text}0")
    return read


# -- 超期 ------------------------------------------------------------------------------------------
OVERDUE = "超期"


def is_open(status: object) -> bool:
    """A task still to be done: not 已办结 and not 已取消 (a blank 状态 counts as 进行中)."""
    return str(status or "").strip() not in (TaskStatus.done.value, TaskStatus.cancelled.value)


def overdue_days(deadline: date | None, status: object, today: date) -> int | None:
    """Days a task is past its 完成时限 (1 on the day after it), or None when it is not 超期.

    超期: the deadline has passed (the deadline day itself is still on time) and the task is
    neither 已办结 nor 已取消. No deadline (blank, 长期坚持, unreadable) is never 超期. The one
    rule behind ``validate``, the bulletin's 超期未办结 and the worksheet function DUBAN_OVERDUE.
    """
    if deadline is None or not is_open(status) or today <= deadline:
        return None
    return (today - deadline).days
