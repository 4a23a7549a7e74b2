"""Run xlwings macro code against REAL ``xlwings.Book`` objects without Excel (tests only).

xlwings' *remote* engine (xlwings PRO code, PolyForm Noncommercial 1.0.0, which permits use
by government institutions) builds a ``Book`` from a JSON payload -- the one the VBA client
``RunServerPython`` (``xlwings/addin/Remote.bas``) sends from Excel -- and records every
change the code makes as a list of *actions* (``book.json()``) instead of touching Excel.
This module closes the loop on a real file:

    payload_from_file(path)    the payload Remote.bas would send for the workbook on disk
    xw.Book(json=payload)      the real xlwings API (Range, Sheet, Book, App) over it
    apply_actions(path, acts)  what Excel would do with the actions, done with openpyxl
    run_macro(path, func)      all three, plus saving; returns alerts and other side effects

The licence key is set only here, for the test process (``enable_remote``); run-time code
must never need the remote engine.

Fidelity notes (sources: the installed package's Remote.bas, WebHelpers.bas, _xlremote.py):

* Payload values are built the way Remote.bas serialises ``UsedRange.Value``: A1 to the end of
  the used range (cells with a value *or* a format count, as in Excel), empty cells as JSON
  ``null`` (WebHelpers' ConvertToJson turns Empty into null, not ""), dates as
  ``yyyy-mm-ddTHH:MM:SS.000Z``, numbers through ``CStr`` (15 significant digits; integral
  values arrive as ``int``), text of 16-100 characters made only of ``0-9 . E e`` sent as a
  bare JSON number (VBA-JSON's "large number" rule), the seven classic error values as their
  text. Formula cells carry their cached value (read with openpyxl ``data_only=True``); a
  workbook written by openpyxl has no cached values, so its formulas read as empty.
* Remote.bas declares row counters ``As Integer``: a used range ending below row 32767 makes
  Excel fail with "Overflow" (error 6). ``payload_from_file`` raises ``PayloadError`` then.
* ``setValues`` emulates Excel's own parsing of text assigned through ``Range.Value`` (what a
  user typing it would get): "001" -> 1, "5%" -> 0.05, "2022-03-01" -> a date, "=..." -> a
  formula, "'001" -> the text 001. Every such change is listed in ``Result.coercions`` so a
  test can assert that none happened. The parser is an approximation of zh-CN Excel.
* ``client="desktop"`` (default) applies every action the way Excel does for the same
  xlwings call on the desktop (what ``RunPython`` macros get). ``client="vba"`` follows
  Remote.bas to the letter: its ``ParseIso`` on every value, its ``addSheet`` positioning,
  ``range.color = None`` failing, and a ``VbaClientError`` at the first action Remote.bas has
  no handler for (Excel: "Cannot run the macro ..."); earlier actions stay applied.
  ``Result.vba_missing`` always lists the actions the stock VBA client could not run.
* Charts (desktop Excel; Remote.bas has none): bar and column charts added from a block by
  columns at an anchor cell, their titles, series fill colours, deletion. The payload lists
  the sheet's existing charts as Excel names them.
* Not emulated: recalculation (formulas keep their old cached values; Excel recalculates),
  adjusting formula references when cells move or sheets are deleted, conditional formats,
  other chart types and chart formatting, pictures, shapes, pivot tables, threaded comments;
  such actions raise ``UnsupportedActionError`` rather than being skipped.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

LICENSE_ENV = "XLWINGS_LICENSE_KEY"
LICENSE_VALUE = "noncommercial"
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
VBA_INTEGER_MAX = 32_767
EXCEL_MAX_TEXT = 32_767
VBA_EPOCH = dt.datetime(1899, 12, 30)

# The seven error values WebHelpers.ConvertToJson knows; any other error (#SPILL!, #CALC!,
# #FIELD!, ...) becomes an empty token, i.e. invalid JSON, and the request fails.
VBA_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!")


class HarnessError(Exception):
    """Something Excel itself would refuse (bad sheet name, invalid shape, ...)."""


class PayloadError(HarnessError):
    """Remote.bas could not build or send this payload from Excel."""


class UnsupportedActionError(HarnessError):
    """An action the harness does not emulate (never silently skipped)."""


class VbaClientError(HarnessError):
    """With client="vba": Excel's VBA client fails on this action (Remote.bas has no handler)."""

    def __init__(self, message: str, result: "Result"):
        super().__init__(message)
        self.result = result


# --------------------------------------------------------------------------------------
# Licence / engine
# --------------------------------------------------------------------------------------

def enable_remote() -> None:
    """Make ``xw.Book(json=...)`` work in this (test) process.

    Sets ``XLWINGS_LICENSE_KEY=noncommercial`` for the process and registers the remote
    engine. xlwings registers its PRO engines at import time, so when xlwings was imported
    before the variable was set (another test, a plugin) the engine is added here instead.
    """
    os.environ[LICENSE_ENV] = LICENSE_VALUE
    import xlwings as xw

    if "remote" not in [engine.name for engine in xw.engines]:
        from xlwings.main import Engine
        from xlwings.pro import _xlremote  # validates the licence on import

        xw.engines.add(Engine(impl=_xlremote.engine))
        xw.__pro__ = True


def _remote_engine() -> Iterator[None]:
    """Fixture: ``xw.Book(json=...)`` works. Use it in a test module with
    ``from .xlwings_remote import remote_engine  # noqa: F401 (fixture)``."""
    enable_remote()
    yield
    _clear_engine_caches()


try:
    import pytest
except ImportError:  # pragma: no cover - pytest is a test dependency
    remote_engine = None
else:
    remote_engine = pytest.fixture(_remote_engine, name="remote_engine")


def _clear_engine_caches() -> None:
    # _xlremote.get_range_api is an unbounded lru_cache keyed by the whole sheet's values:
    # without clearing it every payload a test ever built stays in memory.
    try:
        from xlwings.pro import _xlremote
    except Exception:  # noqa: BLE001 - engine never enabled
        return
    _xlremote.get_range_api.cache_clear()


# --------------------------------------------------------------------------------------
# Remote.bas facts read from the installed package
# --------------------------------------------------------------------------------------

def _addin_dir() -> Path:
    import xlwings

    return Path(xlwings.__file__).resolve().parent / "addin"


def remote_bas_handlers() -> frozenset[str]:
    """Action names the installed Remote.bas can run (``Sub x(wb As Workbook, action ...)``)."""
    text = (_addin_dir() / "Remote.bas").read_text(encoding="utf-8", errors="replace")
    return frozenset(re.findall(r"^Sub (\w+)\(wb As Workbook, action As Dictionary\)", text, re.M))


# --------------------------------------------------------------------------------------
# Payload
# --------------------------------------------------------------------------------------

def _vba_number(value: int | float) -> int | float:
    """A Double as CStr prints it (15 significant digits), parsed back as JSON would."""
    if isinstance(value, int) and abs(value) < 10**15:
        return value
    value = float(value)
    if not math.isfinite(value):
        raise PayloadError(f"number {value!r} cannot be a cell value")
    if value.is_integer() and abs(value) < 1e15:
        return int(value)
    return float(format(value, ".15g"))


def _vba_iso(value: dt.datetime) -> str:
    """WebHelpers.ConvertToIso: Format$(date, "yyyy-mm-ddTHH:mm:ss.000Z") (whole seconds)."""
    if value.microsecond >= 500_000:
        value = value + dt.timedelta(seconds=1)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + ".000Z"


def _string_is_large_number(text: str) -> bool:
    """WebHelpers.json_StringIsLargeNumber: 16..100 chars, only ``. 0-9 E e``."""
    return 16 <= len(text) <= 100 and all(ch in "0123456789.Ee" for ch in text)


def _payload_value(cell: Any, where: str) -> Any:
    """One cell of ``UsedRange.Value`` as Remote.bas puts it on the wire."""
    if cell is None:
        return None
    value = cell.value
    if value is None:
        return None
    if cell.data_type == "e":
        if value in VBA_ERRORS:
            return value
        raise PayloadError(f"{where}: error value {value} is not one WebHelpers.ConvertToJson "
                           "knows; it would send invalid JSON and the call fails in Excel")
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return _vba_number(value)
    if isinstance(value, dt.datetime):
        return _vba_iso(value.replace(tzinfo=None))
    if isinstance(value, dt.date):
        return _vba_iso(dt.datetime(value.year, value.month, value.day))
    if isinstance(value, dt.time):
        return _vba_iso(dt.datetime.combine(VBA_EPOCH.date(), value))
    if isinstance(value, dt.timedelta):
        return _vba_iso(VBA_EPOCH + value)
    text = str(value)
    if _string_is_large_number(text):
        try:
            return json.loads(text)
        except ValueError:
            raise PayloadError(f"{where}: text {text!r} is sent unquoted by VBA-JSON (16+ chars of "
                               "0-9 . E e) and is not valid JSON: the call fails in Excel") from None
    return text


def _used_extent(ws: Any) -> tuple[int, int, bool]:
    """(last row, last column, single empty cell?) of Excel's UsedRange (values or formats)."""
    rows = cols = 0
    min_r = min_c = None
    count = 0
    for (r, c), cell in ws._cells.items():
        if cell.value is None and not cell.has_style:
            continue
        count += 1
        rows = max(rows, r)
        cols = max(cols, c)
        min_r = r if min_r is None else min(min_r, r)
        min_c = c if min_c is None else min(min_c, c)
    for merged in ws.merged_cells.ranges:
        rows, cols = max(rows, merged.max_row), max(cols, merged.max_col)
        min_r = merged.min_row if min_r is None else min(min_r, merged.min_row)
        min_c = merged.min_col if min_c is None else min(min_c, merged.min_col)
    if not rows:
        return 0, 0, True
    single = (min_r, min_c) == (rows, cols)
    single_empty = single and ws._cells.get((rows, cols)) is not None and ws._cells[(rows, cols)].value is None
    return rows, cols, single_empty


def _sheet_values(ws: Any, index: int) -> list[list[Any]]:
    rows, cols, single_empty = _used_extent(ws)
    if not rows or single_empty:
        return [[]]
    if rows > VBA_INTEGER_MAX or cols > VBA_INTEGER_MAX:
        raise PayloadError(
            f"sheet {ws.title!r}: used range ends at row {rows}, column {cols}; Remote.bas keeps "
            f"these in 16-bit Integers, Excel stops with 'Overflow' (error 6) above {VBA_INTEGER_MAX}")
    cells = ws._cells
    from openpyxl.utils import get_column_letter

    out = []
    for r in range(1, rows + 1):
        row = []
        for c in range(1, cols + 1):
            cell = cells.get((r, c))
            row.append(None if cell is None or cell.value is None
                       else _payload_value(cell, f"{ws.title}!{get_column_letter(c)}{r}"))
        out.append(row)
    return out


def _name_prefix(sheet_name: str) -> str:
    """How Excel qualifies a sheet-scoped name (``Sheet1!x``, ``'My Sheet'!x``)."""
    from xlwings.pro._xlremote import _sheet_name_prefix

    return _sheet_name_prefix(sheet_name)


def _name_entry(wb: Any, name: str, value: str, scope_ws: Any | None) -> dict | None:
    """A Remote.bas names entry, or None when ``RefersToRange`` would fail (constants, formulas,
    references to several sheets or to a missing sheet)."""
    from openpyxl.workbook.defined_name import DefinedName

    defn = DefinedName(name=name, attr_text=value)
    try:
        destinations = list(defn.destinations)
    except Exception:  # noqa: BLE001 - not a reference
        return None
    if not destinations:
        return None
    titles = {title for title, _ in destinations}
    if len(titles) != 1:
        return None
    (title,) = titles
    sheets = list(wb._sheets)
    target = next((i for i, s in enumerate(sheets) if s.title == title), None)
    if target is None:
        return None
    address = ",".join(ref.replace("$", "") for _, ref in destinations)
    entry = {
        "name": name if scope_ws is None else f"{_name_prefix(scope_ws.title)}!{name}",
        "sheet_index": target,
        "address": address,
        "book_scope": scope_ws is None,
        "scope_sheet_name": None if scope_ws is None else scope_ws.title,
        "scope_sheet_index": None if scope_ws is None else sheets.index(scope_ws),
    }
    return entry


def _payload_names(wb: Any) -> list[dict]:
    entries = []
    for name, defn in wb.defined_names.items():
        entry = _name_entry(wb, name, defn.attr_text, None)
        if entry:
            entries.append(entry)
    from openpyxl.utils import quote_sheetname

    for ws in wb.worksheets:
        for name, defn in ws.defined_names.items():
            entry = _name_entry(wb, name, defn.attr_text, ws)
            if entry:
                entries.append(entry)
        # Reserved names openpyxl keeps as sheet attributes; Excel lists them in wb.Names.
        reserved = []
        if ws.print_area:
            reserved.append(("Print_Area", ws.print_area))
        if ws.print_titles:
            reserved.append(("Print_Titles", ws.print_titles))
        if ws.auto_filter and ws.auto_filter.ref:
            reserved.append(("_FilterDatabase", f"{quote_sheetname(ws.title)}!{_absolute(ws.auto_filter.ref)}"))
        for name, value in reserved:
            entry = _name_entry(wb, name, value, ws)
            if entry:
                entries.append(entry)
    entries.sort(key=lambda e: e["name"].casefold())
    return entries


def _absolute(ref: str) -> str:
    from openpyxl.utils.cell import absolute_coordinate

    return ":".join(absolute_coordinate(part) for part in ref.replace("$", "").split(":"))


def _payload_tables(ws: Any) -> list[dict]:
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.utils import get_column_letter

    tables = []
    for table in ws.tables.values():
        min_c, min_r, max_c, max_r = range_boundaries(table.ref)
        headers = (table.headerRowCount if table.headerRowCount is not None else 1) > 0
        totals = bool(table.totalsRowCount)

        def addr(r0: int, r1: int) -> str:
            return f"${get_column_letter(min_c)}${r0}:${get_column_letter(max_c)}${r1}"

        body0 = min_r + (1 if headers else 0)
        body1 = max_r - (1 if totals else 0)
        tables.append({
            "name": table.displayName or table.name,
            "range_address": addr(min_r, max_r),
            "header_row_range_address": addr(min_r, min_r) if headers else None,
            "data_body_range_address": addr(body0, body1) if body1 >= body0 else None,
            "total_row_range_address": addr(max_r, max_r) if totals else None,
            "show_headers": headers,
            "show_totals": totals,
            "table_style": table.tableStyleInfo.name if table.tableStyleInfo and table.tableStyleInfo.name else "",
            "show_autofilter": table.autoFilter is not None,
        })
    return tables


def _split_config(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)


def payload_from_file(path: Path | str, *, active_sheet: str | None = None, selection: str | None = "A1",
                      include: str | Iterable[str] | None = None,
                      exclude: str | Iterable[str] | None = None) -> dict:
    """The JSON payload Remote.bas (``RunServerPython``) sends for the workbook at ``path``.

    ``active_sheet``: the sheet the user is on (default: the workbook's saved active sheet); it
    must be visible. ``selection``: an A1 address as ``Selection.Address(False, False)`` gives
    it, or None for a non-range selection. ``include``/``exclude``: the INCLUDE/EXCLUDE
    settings (sheet names, comma-separated or a list); excluded sheets are sent with
    ``values [[]]`` and no pictures/tables, like Remote.bas does.
    """
    import openpyxl
    import xlwings as xw

    path = Path(path)
    wb = openpyxl.load_workbook(path, data_only=True, keep_links=False)
    try:
        inc, exc = _split_config(include), _split_config(exclude)
        if inc and exc:
            raise PayloadError("Either use 'include' or 'exclude', but not both!")
        if inc:
            exc = [ws.title for ws in wb.worksheets if ws.title not in inc]
        all_sheets = list(wb._sheets)
        if active_sheet is None:
            active = wb.active
        else:
            active = next((s for s in all_sheets if s.title == active_sheet), None)
            if active is None:
                raise HarnessError(f"no sheet {active_sheet!r} in {path.name}")
        if getattr(active, "sheet_state", "visible") != "visible":
            raise HarnessError(f"sheet {active.title!r} is hidden; Excel cannot make it the active sheet")
        sheets = []
        for index, ws in enumerate(wb.worksheets):
            excluded = ws.title in exc
            sheets.append({
                "name": ws.title,
                "pictures": [],
                "charts": [] if excluded else [{"name": "Chart" if n == 1 else f"Chart {n}"}  # as Excel names them
                                               for n in range(1, len(ws._charts) + 1)],
                "tables": [] if excluded else _payload_tables(ws),
                "values": [[]] if excluded else _sheet_values(ws, index),
            })
        payload = {
            "client": "VBA",
            "version": xw.__version__,
            "book": {
                "name": path.name,
                # ActiveSheet.Index counts chart sheets too, as Remote.bas does.
                "active_sheet_index": all_sheets.index(active),
                "selection": selection,
            },
            "names": _payload_names(wb),
            "sheets": sheets,
        }
    finally:
        wb.close()
    # Over the wire and back: whatever json cannot carry fails here, as it would in Excel.
    return json.loads(json.dumps(payload, ensure_ascii=False, allow_nan=False))


# --------------------------------------------------------------------------------------
# Result objects
# --------------------------------------------------------------------------------------

@dataclass
class Alert:
    prompt: str
    title: str
    buttons: str
    mode: str
    callback: str


@dataclass
class Coercion:
    """Text written through setValues that Excel stored as something else."""
    sheet: str
    cell: str
    text: str
    stored: Any
    kind: str  # number, percent, date, datetime, time, boolean, formula, iso_date(ParseIso)


@dataclass
class Result:
    actions: list[dict] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    other: list[dict] = field(default_factory=list)  # non-cell actions, in order
    coercions: list[Coercion] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    vba_missing: list[str] = field(default_factory=list)  # no handler in Remote.bas
    active_sheet: str | None = None
    selection: str | None = None
    return_value: Any = None
    payload: dict | None = None

    @property
    def messages(self) -> list[str]:
        return [alert.prompt for alert in self.alerts]

    @property
    def funcs(self) -> list[str]:
        return [action["func"] for action in self.actions]


# --------------------------------------------------------------------------------------
# Excel's parsing of text put into Range.Value (approximation of zh-CN Excel)
# --------------------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?$")
_TIME = r"(\d{1,2}):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?"
_DATE_YMD = re.compile(r"^(\d{4}|\d{2})[-/](\d{1,2})[-/](\d{1,2})(?:[ T]+" + _TIME + r")?$")
_DATE_CN = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_DATE_YM = re.compile(r"^(\d{4})[-/](\d{1,2})$")
_DATE_MD = re.compile(r"^(\d{1,2})[-/](\d{1,2})$")
_TIME_ONLY = re.compile(r"^" + _TIME + r"$")


def _date_or_none(y: int, m: int, d: int) -> dt.datetime | None:
    if y < 100:
        y += 2000 if y < 30 else 1900
    try:
        value = dt.datetime(y, m, d)
    except ValueError:
        return None
    return value if value.year >= 1900 else None


def excel_parse_text(text: str, *, today: dt.date | None = None) -> tuple[Any, str | None, str | None]:
    """What Excel stores when ``text`` is assigned to a General cell via ``Range.Value``.

    Returns (value, kind, number_format); kind None means the text stays text.
    """
    stripped = text.strip()
    if not stripped:
        return text, None, None
    if text.startswith("="):
        return text, "formula", None
    upper = stripped.upper()
    if upper in ("TRUE", "FALSE"):
        return upper == "TRUE", "boolean", None
    number_text = stripped
    percent = number_text.endswith("%")
    if percent:
        number_text = number_text[:-1].strip()
    currency = number_text[:1] in ("¥", "$", "￥")
    if currency:
        number_text = number_text[1:]
    if number_text and any(ch.isdigit() for ch in number_text) and _NUMBER.match(number_text):
        plain = number_text.replace(",", "")
        number = float(plain)
        if percent:
            number = number / 100
            fmt = "0%" if "." not in plain else "0.00%"
        else:
            fmt = "#,##0" if "," in number_text else None
            if currency:
                fmt = "¥#,##0.00"
        if number.is_integer() and abs(number) < 1e15 and "." not in plain and "e" not in plain.lower() and not percent:
            number = int(number)
        return number, ("percent" if percent else "number"), fmt
    match = _DATE_YMD.match(stripped)
    if match:
        base = _date_or_none(int(match[1]), int(match[2]), int(match[3]))
        if base is not None:
            if match[4] is None:
                return base, "date", "yyyy/m/d"
            hh, mm, ss = int(match[4]), int(match[5]), float(match[6] or 0)
            if hh < 24 and mm < 60 and ss < 60:
                return base + dt.timedelta(hours=hh, minutes=mm, seconds=round(ss)), "datetime", "yyyy/m/d h:mm"
    match = _DATE_CN.match(stripped)
    if match:
        base = _date_or_none(int(match[1]), int(match[2]), int(match[3]))
        if base is not None:
            return base, "date", 'yyyy"年"m"月"d"日"'
    match = _DATE_YM.match(stripped)
    if match:
        base = _date_or_none(int(match[1]), int(match[2]), 1)
        if base is not None:
            return base, "date", "yyyy/m"
    match = _DATE_MD.match(stripped)
    if match:
        year = (today or dt.date.today()).year
        base = _date_or_none(year, int(match[1]), int(match[2]))
        if base is not None:
            return base, "date", "m月d日"
    match = _TIME_ONLY.match(stripped)
    if match:
        hh, mm, ss = int(match[1]), int(match[2]), float(match[3] or 0)
        if hh < 24 and mm < 60 and ss < 60:
            return dt.time(hh, mm, int(round(ss)) % 60), "time", "h:mm" if match[3] is None else "h:mm:ss"
    return text, None, None


def _vba_cint(text: str) -> int:
    s = text.strip()
    if s[:2].lower() == "&h":
        value = int(s[2:], 16)
    else:
        if not s or not re.fullmatch(r"[+-]?(\d{1,3}(,\d{3})+|\d*)(\.\d*)?([eE][+-]?\d+)?", s) or not re.search(r"\d", s):
            raise ValueError(text)
        f = float(s.replace(",", ""))
        value = round(f)  # banker's rounding, as CInt
    if not -32768 <= value <= 32767:
        raise OverflowError(text)
    return value


def _vba_dateserial(y: int, m: int, d: int) -> dt.datetime:
    if 0 <= y <= 29:
        y += 2000
    elif 30 <= y <= 99:
        y += 1900
    if not 100 <= y <= 9999:
        raise ValueError(y)
    y += (m - 1) // 12
    m = (m - 1) % 12 + 1
    return dt.datetime(y, m, 1) + dt.timedelta(days=d - 1)


def vba_parse_iso(value: Any) -> dt.datetime:
    """WebHelpers.ParseIso as Remote.bas' setValues calls it on *every* value (raises on error)."""
    if value is None:
        raise ValueError("Invalid use of Null")
    if isinstance(value, bool):
        text = "True" if value else "False"
    elif isinstance(value, float):
        text = format(value, ".15g")
    else:
        text = str(value)
    parts = text.split("T")
    date_parts = parts[0].split("-")
    if len(date_parts) < 3:
        raise ValueError(text)
    result = _vba_dateserial(_vba_cint(date_parts[0]), _vba_cint(date_parts[1]), _vba_cint(date_parts[2]))
    if len(parts) > 1:
        rest = parts[1]
        if "Z" in rest:
            clock = rest.replace("Z", "")
        else:
            index = rest.find("+")
            if index < 0:
                index = rest.find("-")
            clock = rest[:index] if index >= 0 else rest
        time_parts = clock.split(":") if clock else []  # VBA: Split("", ":") has no elements
        if len(time_parts) == 1:
            result += dt.timedelta(hours=_vba_cint(time_parts[0]))
        elif len(time_parts) == 2:
            result += dt.timedelta(hours=_vba_cint(time_parts[0]), minutes=_vba_cint(time_parts[1]))
        elif len(time_parts) == 3:
            seconds = re.match(r"\s*[+-]?\d*\.?\d*", time_parts[2])[0].strip()  # Int(Val(...))
            sec = math.floor(float(seconds)) if seconds not in ("", "+", "-", ".", "+.", "-.") else 0
            result += dt.timedelta(hours=_vba_cint(time_parts[0]), minutes=_vba_cint(time_parts[1]), seconds=sec)
    return result


# --------------------------------------------------------------------------------------
# Range helpers
# --------------------------------------------------------------------------------------

def _col(c: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(c)


def _addr(r0: int, c0: int, r1: int | None = None, c1: int | None = None) -> str:
    r1 = r0 if r1 is None else r1
    c1 = c0 if c1 is None else c1
    if c0 == 1 and c1 == MAX_COLUMNS:
        return f"{r0}:{r1}"
    if r0 == 1 and r1 == MAX_ROWS:
        return f"{_col(c0)}:{_col(c1)}"
    start = f"{_col(c0)}{r0}"
    return start if (r0, c0) == (r1, c1) else f"{start}:{_col(c1)}{r1}"


def _parse_address(address: str) -> tuple[int, int, int, int]:
    """(row0, col0, row1, col1), 1-based inclusive, of an A1 address (no sheet part)."""
    from xlwings import utils as xu

    address = address.split("!")[-1].replace("$", "")
    t1, t2 = xu.a1_to_tuples(address)
    if t2 is None:
        t2 = t1
    return t1[0], t1[1], t2[0], t2[1]


@dataclass
class _Rect:
    r0: int
    c0: int
    r1: int
    c1: int

    @property
    def nrows(self) -> int:
        return self.r1 - self.r0 + 1

    @property
    def ncols(self) -> int:
        return self.c1 - self.c0 + 1

    @property
    def whole_rows(self) -> bool:
        return self.c0 == 1 and self.c1 == MAX_COLUMNS

    @property
    def whole_cols(self) -> bool:
        return self.r0 == 1 and self.r1 == MAX_ROWS

    @property
    def size(self) -> int:
        return self.nrows * self.ncols

    def contains(self, r: int, c: int) -> bool:
        return self.r0 <= r <= self.r1 and self.c0 <= c <= self.c1

    def __str__(self) -> str:
        return _addr(self.r0, self.c0, self.r1, self.c1)


def _rect_of(action: dict) -> _Rect:
    r0 = action["start_row"] + 1
    c0 = action["start_column"] + 1
    return _Rect(r0, c0, r0 + action["row_count"] - 1, c0 + action["column_count"] - 1)


def _rect_from_address(address: str) -> _Rect:
    return _Rect(*_parse_address(address))


# --------------------------------------------------------------------------------------
# Applying actions
# --------------------------------------------------------------------------------------

# How _xlremote writes Python dates/datetimes (Engine.prepare_xl_data_element).
_ISO_WRITE = re.compile(r"^\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}:\d{2})?$")

_NON_CELL = {
    "alert", "runMacro", "save", "calculate", "setCalculation", "setScreenUpdating", "rangeSelect",
}
_OFFICEJS_ONLY = {
    # _xlremote raises NotImplementedError for these unless the payload's client is Office.js.
    "setDataValidationList", "setDataValidationRule", "deleteDataValidation",
    "applyAutoFilterRange", "applyAutoFilterTable", "clearAutoFilterRange", "clearAutoFilterTable",
    "addComment", "addCommentReply", "deleteComment", "setCommentText", "setCommentResolved",
}
_NOT_EMULATED = {
    "rangeAutofill": "needs Excel's series logic",
    "rangeToPng": "renders the range to an image",
    "chartToPng": "renders a chart",
    "addConditionalFormat": "conditional formats", "setConditionalFormat": "conditional formats",
    "deleteConditionalFormat": "conditional formats", "clearConditionalFormats": "conditional formats",
    "addTableRow": "table rows", "deleteTableRow": "table rows", "addTableColumn": "table columns",
    "deleteTableColumn": "table columns", "tableSort": "table sort",
    "showHeadersTable": "table header row", "showTotalsTable": "table totals row",
    "addPivotTable": "pivot tables",
}
_ALIGN_H = {"General": "general", "Left": "left", "Center": "center", "Right": "right", "Fill": "fill",
            "Justify": "justify", "CenterAcrossSelection": "centerContinuous", "Distributed": "distributed"}
_ALIGN_V = {"Top": "top", "Center": "center", "Bottom": "bottom", "Justify": "justify", "Distributed": "distributed"}
_BORDER_STYLE = {  # xlwings line_style -> openpyxl border style (weight "thin" unless stated)
    "continuous": "thin", "dash": "dashed", "dash_dot": "dashDot", "dash_dot_dot": "dashDotDot",
    "dot": "dotted", "double": "double", "slant_dash_dot": "slantDashDot",
}


def _hex(color: str) -> str:
    color = color.lstrip("#")
    if not re.fullmatch(r"[0-9A-Fa-f]{6}", color):
        raise HarnessError(f"bad colour {color!r}")
    return "FF" + color.upper()


class _Applier:
    def __init__(self, wb: Any, result: Result, *, client: str, today: dt.date | None, active_index: int | None):
        self.wb = wb
        self.result = result
        self.client = client
        self.today = today
        sheets = list(wb._sheets)
        self.active = sheets[active_index] if active_index is not None else wb.active
        self.handlers = remote_bas_handlers()

    # -- lookups ----------------------------------------------------------------------
    def ws(self, position: int | None) -> Any:
        if position is None:
            raise HarnessError("action without sheet_position")
        sheets = self.wb.worksheets
        if not 0 <= position < len(sheets):
            raise HarnessError(f"no worksheet at position {position} (have {len(sheets)})")
        return sheets[position]

    def cells(self, ws: Any, rect: _Rect, *, create: bool = True) -> Iterator[Any]:
        """Cells of ``rect``; for whole rows/columns only the ones that exist."""
        if not create or rect.size > 2_000_000:
            for (r, c), cell in list(ws._cells.items()):
                if rect.contains(r, c):
                    yield cell
            return
        for r in range(rect.r0, rect.r1 + 1):
            for c in range(rect.c0, rect.c1 + 1):
                yield ws.cell(r, c)

    def styled_cells(self, ws: Any, rect: _Rect) -> Iterator[Any]:
        """Cells to restyle; whole rows/columns also restyle the row/column dimension."""
        big = rect.whole_rows or rect.whole_cols
        yield from self.cells(ws, rect, create=not big)
        if rect.whole_cols:
            for c in range(rect.c0, rect.c1 + 1):
                yield ws.column_dimensions[_col(c)]
        elif rect.whole_rows:
            for r in range(rect.r0, rect.r1 + 1):
                yield ws.row_dimensions[r]

    def warn(self, text: str) -> None:
        if text not in self.result.warnings:
            self.result.warnings.append(text)

    # -- dispatcher -------------------------------------------------------------------
    def apply(self, action: dict) -> None:
        func = action.get("func")
        if func not in self.handlers and func not in self.result.vba_missing:
            self.result.vba_missing.append(func)
        if self.client == "vba" and func not in self.handlers:
            raise VbaClientError(
                f"Excel (VBA client): \"Cannot run the macro '{func}'\" - Remote.bas has no handler "
                "for this action; the actions before it were applied", self.result)
        if func in _NON_CELL:
            self.result.other.append(action)
            getattr(self, f"do_{func}", lambda a: None)(action)
            return
        handler = getattr(self, f"do_{func}", None)
        if handler is None:
            if func in _OFFICEJS_ONLY:
                raise UnsupportedActionError(
                    f"action {func!r} is only emitted for Office.js clients; the harness emulates the VBA client")
            reason = _NOT_EMULATED.get(func)
            raise UnsupportedActionError(
                f"action {func!r} is not emulated by tests/xlwings_remote.py"
                + (f" ({reason})" if reason else "") + f": {action}")
        handler(action)

    # -- non-cell ---------------------------------------------------------------------
    def do_alert(self, action: dict) -> None:
        args = list(action["args"]) + [""] * 5
        self.result.alerts.append(Alert(*(("" if a is None else a) for a in args[:5])))

    def do_rangeSelect(self, action: dict) -> None:
        ws = self.ws(action["sheet_position"])
        self.active = ws
        self.result.selection = str(_rect_of(action))
        ws.sheet_view.selection[0].activeCell = _addr(_rect_of(action).r0, _rect_of(action).c0)
        ws.sheet_view.selection[0].sqref = str(_rect_of(action))

    # -- values -----------------------------------------------------------------------
    def _store(self, ws: Any, cell: Any, value: Any) -> None:
        from openpyxl.cell.cell import MergedCell

        where = cell.coordinate
        if isinstance(cell, MergedCell):
            if value is None or value == "":
                return
            raise HarnessError(f"{ws.title}!{where} is inside a merged range; only its top-left cell takes a value")
        if self.client == "vba":
            # Remote.bas setValues: arr(i, j) = WebHelpers.ParseIso(value), the raw value on error.
            try:
                parsed = vba_parse_iso(value)
            except (ValueError, OverflowError):
                parsed = None
            if parsed is not None:
                general = cell.number_format == "General"
                cell.value = parsed
                if general:
                    cell.number_format = "yyyy/m/d" if parsed.time() == dt.time(0) else "yyyy/m/d h:mm"
                if not (isinstance(value, str) and _ISO_WRITE.match(value)):
                    self.result.coercions.append(Coercion(ws.title, where, str(value), parsed, "iso_date"))
                return
        if value is None or value == "":
            cell.value = None
            return
        if isinstance(value, bool) or isinstance(value, (int, float)):
            cell.value = value
            return
        if not isinstance(value, str):
            raise HarnessError(f"{ws.title}!{where}: unexpected value type {type(value).__name__}: {value!r}")
        if len(value) > EXCEL_MAX_TEXT:
            raise HarnessError(f"{ws.title}!{where}: {len(value)} characters; an Excel cell holds at most {EXCEL_MAX_TEXT}")
        if value.startswith("'"):  # Excel: text without the apostrophe, PrefixCharacter "'"
            cell.value = value[1:]
            cell.data_type = "s"
            cell.quotePrefix = True
            return
        if cell.number_format == "@":  # Text-formatted cells keep text as typed
            cell.value = value
            cell.data_type = "s"
            return
        stored, kind, fmt = excel_parse_text(value, today=self.today)
        if kind is None:
            if value[:1] in "+-@" and len(value) > 1:
                self.warn(f"{ws.title}!{where}: text {value!r} starts with {value[0]!r}; typed into Excel it "
                          "would be taken for a formula - the harness stores it as text")
            cell.value = value
            cell.data_type = "s"
            return
        if not (kind in ("date", "datetime") and _ISO_WRITE.match(value)):
            # Python dates arrive as "2022-03-01" / "2022-03-01 10:00:00"; Excel making them dates
            # again is the intended round trip, not a coercion.
            self.result.coercions.append(Coercion(ws.title, where, value, stored, kind))
        general = cell.number_format == "General"
        cell.value = stored  # openpyxl gives datetimes its own format: decide on the format before
        if general:
            cell.number_format = fmt or "General"

    def do_setValues(self, action: dict) -> None:
        ws = self.ws(action["sheet_position"])
        rect = _rect_of(action)
        values = action["values"]
        if not isinstance(values, list) or not values or not all(isinstance(row, list) for row in values):
            raise HarnessError(f"setValues needs a 2-D list, got {values!r}")
        widths = {len(row) for row in values}
        if len(widths) != 1:
            raise HarnessError(f"setValues rows have different lengths {sorted(widths)}")
        if (len(values), widths.pop()) != (rect.nrows, rect.ncols):
            raise HarnessError(f"setValues: {len(values)}x{len(values[0])} values for range {rect} "
                               f"({rect.nrows}x{rect.ncols}); Excel would fill the rest with #N/A")
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                self._store(ws, ws.cell(rect.r0 + i, rect.c0 + j), value)

    def do_setFormula(self, action: dict) -> None:
        from openpyxl.formula.translate import Translator

        ws = self.ws(action["sheet_position"])
        rect = _rect_of(action)
        values = action["values"]
        self.warn("formulas written by the macro are not recalculated by the harness (no cached values)")
        if not isinstance(values, list):  # one formula for a bigger range: Excel adjusts references
            origin = f"{_col(rect.c0)}{rect.r0}"
            for r in range(rect.r0, rect.r1 + 1):
                for c in range(rect.c0, rect.c1 + 1):
                    text = str(values)
                    if text.startswith("="):
                        text = Translator(text, origin).translate_formula(f"{_col(c)}{r}")
                    self._store(ws, ws.cell(r, c), text)
            return
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                self._store(ws, ws.cell(rect.r0 + i, rect.c0 + j), value)

    def do_setFormulaArray(self, action: dict) -> None:
        from openpyxl.worksheet.formula import ArrayFormula

        ws = self.ws(action["sheet_position"])
        rect = _rect_of(action)
        text = action["args"][0]
        ws.cell(rect.r0, rect.c0).value = ArrayFormula(str(rect), text)

    # -- clearing ---------------------------------------------------------------------
    def _clear(self, ws: Any, rect: _Rect, *, contents: bool, formats: bool) -> None:
        from openpyxl.cell.cell import MergedCell
        from openpyxl.styles.cell_style import StyleArray

        for (r, c), cell in list(ws._cells.items()):
            if not rect.contains(r, c):
                continue
            if contents and not isinstance(cell, MergedCell):
                cell.value = None
            if formats:
                cell._style = StyleArray()
            if contents and formats:
                cell.hyperlink = None
                cell.comment = None
        if formats:
            for merged in list(ws.merged_cells.ranges):
                if rect.r0 <= merged.min_row and merged.max_row <= rect.r1 and rect.c0 <= merged.min_col and merged.max_col <= rect.c1:
                    ws.unmerge_cells(str(merged))
            if rect.whole_cols:
                for c in range(rect.c0, rect.c1 + 1):
                    dim = ws.column_dimensions.get(_col(c))
                    if dim is not None:
                        dim._style = StyleArray()
            if rect.whole_rows:
                for r in range(rect.r0, rect.r1 + 1):
                    dim = ws.row_dimensions.get(r)
                    if dim is not None:
                        dim._style = StyleArray()

    def do_rangeClearContents(self, action: dict) -> None:
        self._clear(self.ws(action["sheet_position"]), _rect_of(action), contents=True, formats=False)

    def do_rangeClearFormats(self, action: dict) -> None:
        self._clear(self.ws(action["sheet_position"]), _rect_of(action), contents=False, formats=True)

    def do_rangeClear(self, action: dict) -> None:
        self._clear(self.ws(action["sheet_position"]), _rect_of(action), contents=True, formats=True)

    _ALL = _Rect(1, 1, MAX_ROWS, MAX_COLUMNS)

    def do_sheetClear(self, action: dict) -> None:
        self._clear(self.ws(action["sheet_position"]), self._ALL, contents=True, formats=True)

    def do_sheetClearContents(self, action: dict) -> None:
        self._clear(self.ws(action["sheet_position"]), self._ALL, contents=True, formats=False)

    def do_sheetClearFormats(self, action: dict) -> None:
        self._clear(self.ws(action["sheet_position"]), self._ALL, contents=False, formats=True)

    # -- charts (desktop Excel; Remote.bas has no chart handlers) ------------------------
    _CHART_KINDS = {"ColumnStacked": ("col", "stacked"), "BarStacked": ("bar", "stacked"),
                    "ColumnClustered": ("col", "clustered"), "BarClustered": ("bar", "clustered")}

    def do_addChart(self, action: dict) -> None:
        """Chart.SetSourceData by columns on a block whose first column is text and first row
        the headers: the first column gives the categories, each other column a series named
        by its header — as Excel does. Placed at its anchor cell; the size converted from points."""
        from openpyxl.chart import BarChart, Reference

        _name, kind, sheet, address, _left, _top, width, height, plot_by, anchor, _style = action["args"]
        if kind not in self._CHART_KINDS:
            raise UnsupportedActionError(f"addChart of type {kind!r}")
        if plot_by not in (None, "Columns") or anchor is None:
            raise UnsupportedActionError("addChart by rows or without an anchor cell")
        ws, source = self.ws(action["sheet_position"]), self.wb[sheet]
        rect = _rect_from_address(address)
        chart = BarChart()
        chart.type, chart.grouping = self._CHART_KINDS[kind]
        if chart.grouping == "stacked":
            chart.overlap = 100
        chart.add_data(Reference(source, min_col=rect.c0 + 1, max_col=rect.c1, min_row=rect.r0, max_row=rect.r1),
                       titles_from_data=True)
        chart.set_categories(Reference(source, min_col=rect.c0, min_row=rect.r0 + 1, max_row=rect.r1))
        chart.width, chart.height = width * 2.54 / 72, height * 2.54 / 72
        ws.add_chart(chart, anchor.replace("$", ""))

    def _chart(self, action: dict):
        return self.ws(action["sheet_position"])._charts[action["args"][0]]

    def do_setChartTitle(self, action: dict) -> None:
        self._chart(action).title = action["args"][1]

    def do_setChartSeries(self, action: dict) -> None:
        _chart, index, values = action["args"]
        if set(values) - {"fill_color"}:
            raise UnsupportedActionError(f"setChartSeries {sorted(set(values) - {'fill_color'})}")
        self._chart(action).series[index].graphicalProperties.solidFill = values["fill_color"].lstrip("#").upper()

    def do_deleteChart(self, action: dict) -> None:
        del self.ws(action["sheet_position"])._charts[action["args"][0]]

    # -- formats ----------------------------------------------------------------------
    def do_setRangeColor(self, action: dict) -> None:
        from openpyxl.styles import PatternFill

        color = action["args"][0]
        if color is None:
            if self.client == "vba":
                raise HarnessError("Remote.bas setRangeColor: HexToRgb(Null) fails ('Invalid use of Null'); "
                                   "range.color = None cannot clear a fill through the VBA client")
            fill = PatternFill(fill_type=None)
        else:
            fill = PatternFill(fill_type="solid", start_color=_hex(color), end_color=_hex(color))
        for target in self.styled_cells(self.ws(action["sheet_position"]), _rect_of(action)):
            target.fill = fill

    def do_setRangeColors(self, action: dict) -> None:
        from openpyxl.styles import PatternFill

        ws = self.ws(action["sheet_position"])
        rect = _rect_of(action)
        matrix = action["args"][0]
        for i, row in enumerate(matrix):
            for j, color in enumerate(row):
                if color == "keep":
                    continue
                cell = ws.cell(rect.r0 + i, rect.c0 + j)
                cell.fill = (PatternFill(fill_type=None) if color is None
                             else PatternFill(fill_type="solid", start_color=_hex(color), end_color=_hex(color)))

    def do_setFontProperty(self, action: dict) -> None:
        attribute, value = action["args"][0], action["args"][1]
        key = {"bold": "b", "italic": "i", "size": "sz", "name": "name", "color": "color"}.get(attribute)
        if key is None:
            raise UnsupportedActionError(f"setFontProperty {attribute!r}")
        for target in self.styled_cells(self.ws(action["sheet_position"]), _rect_of(action)):
            font = copy.copy(target.font)
            if attribute == "color":
                font.color = None if value is None else _hex(value)
            elif attribute in ("bold", "italic"):
                setattr(font, key, bool(value))
            else:
                setattr(font, key, value)
            target.font = font

    def do_setNumberFormat(self, action: dict) -> None:
        fmt = action["args"][0]
        for target in self.styled_cells(self.ws(action["sheet_position"]), _rect_of(action)):
            target.number_format = fmt

    def _alignment(self, action: dict, **changes: Any) -> None:
        for target in self.styled_cells(self.ws(action["sheet_position"]), _rect_of(action)):
            alignment = copy.copy(target.alignment)
            for key, value in changes.items():
                setattr(alignment, key, value)
            target.alignment = alignment

    def do_setWrapText(self, action: dict) -> None:
        self._alignment(action, wrap_text=bool(action["args"][0]))

    def do_setHorizontalAlignment(self, action: dict) -> None:
        self._alignment(action, horizontal=_ALIGN_H[action["args"][0]])

    def do_setVerticalAlignment(self, action: dict) -> None:
        self._alignment(action, vertical=_ALIGN_V[action["args"][0]])

    def do_rangeAdjustIndent(self, action: dict) -> None:
        amount = int(action["args"][0])
        for target in self.styled_cells(self.ws(action["sheet_position"]), _rect_of(action)):
            alignment = copy.copy(target.alignment)
            alignment.indent = max(0, min(250, int(alignment.indent or 0) + amount))
            target.alignment = alignment

    def do_setBorderProperty(self, action: dict) -> None:
        from openpyxl.styles import Border, Side

        side_name, attribute, value = action["args"][:3]
        ws = self.ws(action["sheet_position"])
        rect = _rect_of(action)
        if side_name.startswith("diagonal"):
            raise UnsupportedActionError(f"setBorderProperty on {side_name}")
        for cell in self.cells(ws, rect):
            r, c = cell.row, cell.column
            sides = []
            if side_name == "edge_top" and r == rect.r0:
                sides.append("top")
            elif side_name == "edge_bottom" and r == rect.r1:
                sides.append("bottom")
            elif side_name == "edge_left" and c == rect.c0:
                sides.append("left")
            elif side_name == "edge_right" and c == rect.c1:
                sides.append("right")
            elif side_name == "inside_horizontal":
                sides += (["top"] if r > rect.r0 else []) + (["bottom"] if r < rect.r1 else [])
            elif side_name == "inside_vertical":
                sides += (["left"] if c > rect.c0 else []) + (["right"] if c < rect.c1 else [])
            if not sides:
                continue
            border = copy.copy(cell.border)
            for name in sides:
                old = getattr(border, name) or Side()
                side = copy.copy(old)
                if attribute == "line_style":
                    side.style = None if value is None else _BORDER_STYLE.get(value, value)
                elif attribute == "weight":
                    if value in ("medium", "thick") and (side.style in (None, "thin")):
                        side.style = value
                    elif value in ("thin", "hairline"):
                        side.style = "hair" if value == "hairline" else (side.style if side.style not in ("medium", "thick") else "thin")
                elif attribute == "color":
                    side.color = _hex(value)
                    if side.style is None:
                        side.style = "thin"
                setattr(border, name, side)
            cell.border = Border(left=border.left, right=border.right, top=border.top, bottom=border.bottom,
                                 diagonal=border.diagonal, diagonalUp=border.diagonalUp, diagonalDown=border.diagonalDown)

    # -- rows / columns ---------------------------------------------------------------
    def do_setColumnWidth(self, action: dict) -> None:
        ws = self.ws(action["sheet_position"])
        rect = _rect_of(action)
        for c in range(rect.c0, rect.c1 + 1):
            ws.column_dimensions[_col(c)].width = action["args"][0]
        self.warn("column_width: the remote engine passes the number on unchanged (Office.js reads it as "
                  "points, desktop Excel as characters); the harness stores it as characters")

    def do_setRowHeight(self, action: dict) -> None:
        ws = self.ws(action["sheet_position"])
        rect = _rect_of(action)
        for r in range(rect.r0, rect.r1 + 1):
            ws.row_dimensions[r].height = action["args"][0]

    def do_setColumnHidden(self, action: dict) -> None:
        ws = self.ws(action["sheet_position"])
        rect = _rect_of(action)
        for c in range(rect.c0, rect.c1 + 1):
            ws.column_dimensions[_col(c)].hidden = bool(action["args"][0])

    def do_setRowHidden(self, action: dict) -> None:
        ws = self.ws(action["sheet_position"])
        rect = _rect_of(action)
        for r in range(rect.r0, rect.r1 + 1):
            ws.row_dimensions[r].hidden = bool(action["args"][0])

    @staticmethod
    def _display_width(value: Any) -> int:
        if value is None:
            return 0
        if isinstance(value, dt.datetime):
            text = f"{value.year}/{value.month}/{value.day}"
        elif isinstance(value, float):
            text = format(value, ".10g")
        else:
            text = str(value)
        longest = max(text.split("\n"), key=len)
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in longest)

    def _autofit(self, ws: Any, rect: _Rect, axis: str) -> None:
        self.warn("autofit is approximated (display width of the text + 2; row heights reset to automatic)")
        if axis == "columns":
            widths: dict[int, int] = {}
            for (r, c), cell in ws._cells.items():
                if rect.contains(r, c) and cell.value is not None:
                    size = (cell.font.sz or 11) / 11 if cell.font is not None else 1
                    widths[c] = max(widths.get(c, 0), math.ceil(self._display_width(cell.value) * size))
            for c, width in widths.items():
                ws.column_dimensions[_col(c)].width = width + 2
        else:
            rows = {r for (r, c) in ws._cells if rect.contains(r, c)}
            for r in rows:
                if r in ws.row_dimensions:
                    ws.row_dimensions[r].height = None

    def do_setAutofit(self, action: dict) -> None:
        self._autofit(self.ws(action["sheet_position"]), _rect_of(action), action["args"][0])

    def do_setSheetAutofit(self, action: dict) -> None:
        self._autofit(self.ws(action["sheet_position"]), self._ALL, action["args"][0])

    def do_rangeGroup(self, action: dict, delta: int = 1) -> None:
        ws = self.ws(action["sheet_position"])
        rect = _rect_of(action)
        by = action["args"][0]
        if by in ("rows", "r"):
            for r in range(rect.r0, rect.r1 + 1):
                dim = ws.row_dimensions[r]
                dim.outline_level = max(0, min(7, (dim.outline_level or 0) + delta))
        else:
            for c in range(rect.c0, rect.c1 + 1):
                dim = ws.column_dimensions[_col(c)]
                dim.outline_level = max(0, min(7, (dim.outline_level or 0) + delta))

    def do_rangeUngroup(self, action: dict) -> None:
        self.do_rangeGroup(action, delta=-1)

    # -- merging ----------------------------------------------------------------------
    def do_rangeMerge(self, action: dict) -> None:
        ws = self.ws(action["sheet_position"])
        rect = _rect_of(action)
        rows = [(r, r) for r in range(rect.r0, rect.r1 + 1)] if action["args"][0] else [(rect.r0, rect.r1)]
        for r0, r1 in rows:
            if r0 == r1 and rect.c0 == rect.c1:
                continue
            ws.merge_cells(start_row=r0, start_column=rect.c0, end_row=r1, end_column=rect.c1)

    def do_rangeUnmerge(self, action: dict) -> None:
        ws = self.ws(action["sheet_position"])
        rect = _rect_of(action)
        for merged in list(ws.merged_cells.ranges):
            if not (merged.max_row < rect.r0 or merged.min_row > rect.r1 or merged.max_col < rect.c0 or merged.min_col > rect.c1):
                ws.unmerge_cells(str(merged))

    # -- moving cells -----------------------------------------------------------------
    def _relocate(self, ws: Any, moves: list[tuple[Any, int, int]]) -> None:
        """Move cell objects (value, style, hyperlink, comment) to new coordinates."""
        for cell, _, _ in moves:
            del ws._cells[(cell.row, cell.column)]
        for cell, r, c in moves:
            cell.row, cell.column = r, c
            ws._cells[(r, c)] = cell
            if cell.hyperlink is not None:
                cell.hyperlink.ref = cell.coordinate

    def _check_merges(self, ws: Any, band: _Rect, what: str) -> None:
        for merged in ws.merged_cells.ranges:
            inside = band.contains(merged.min_row, merged.min_col) and band.contains(merged.max_row, merged.max_col)
            outside = (merged.max_row < band.r0 or merged.min_row > band.r1 or merged.max_col < band.c0
                       or merged.min_col > band.c1)
            if not inside and not outside:
                raise HarnessError(f"{what}: Excel cannot change part of the merged cell {merged.coord}")

    def _formula_warning(self, ws: Any) -> None:
        if any(c.data_type == "f" for w in ws.parent.worksheets for c in w._cells.values()):
            self.warn("cells moved but formula references were not adjusted (Excel would adjust them)")

    def _shift(self, ws: Any, rect: _Rect, shift: str, delete: bool) -> None:
        vertical = shift in ("up", "down")
        band = (_Rect(rect.r0, rect.c0, MAX_ROWS, rect.c1) if vertical
                else _Rect(rect.r0, rect.c0, rect.r1, MAX_COLUMNS))
        self._check_merges(ws, band, "delete" if delete else "insert")
        n = rect.nrows if vertical else rect.ncols
        moves = []
        for (r, c), cell in list(ws._cells.items()):
            if not band.contains(r, c):
                continue
            if delete and rect.contains(r, c):
                del ws._cells[(r, c)]
                continue
            if vertical:
                moves.append((cell, r - n if delete else r + n, c))
            else:
                moves.append((cell, r, c - n if delete else c + n))
        self._relocate(ws, [m for m in moves if m[1] <= MAX_ROWS and m[2] <= MAX_COLUMNS])
        for merged in list(ws.merged_cells.ranges):
            if band.contains(merged.min_row, merged.min_col):
                if delete and rect.contains(merged.min_row, merged.min_col):
                    ws.merged_cells.remove(merged)
                    continue
                if vertical:
                    merged.shift(row_shift=-n if delete else n)
                else:
                    merged.shift(col_shift=-n if delete else n)
        if rect.whole_rows and vertical:
            self._shift_dimensions(ws.row_dimensions, rect.r0, rect.r1, n, delete, key=lambda k: k)
        if rect.whole_cols and not vertical:
            self._shift_columns(ws, rect.c0, rect.c1, n, delete)
        self._formula_warning(ws)

    @staticmethod
    def _shift_dimensions(dims: Any, first: int, last: int, n: int, delete: bool, key: Callable) -> None:
        items = sorted(dims.items())
        new = {}
        for index, dim in items:
            if index < first:
                new[index] = dim
            elif delete and index <= last:
                continue
            else:
                target = index - n if delete else index + n
                dim.index = target
                new[target] = dim
        dims.clear()
        dims.update(new)

    @staticmethod
    def _shift_columns(ws: Any, first: int, last: int, n: int, delete: bool) -> None:
        from openpyxl.utils import column_index_from_string

        dims = ws.column_dimensions
        items = sorted(((column_index_from_string(k), v) for k, v in dims.items()), key=lambda kv: kv[0])
        new = {}
        for index, dim in items:
            if index < first:
                target = index
            elif delete and index <= last:
                continue
            else:
                target = index - n if delete else index + n
            dim.index = _col(target)
            dim.min = dim.max = target
            new[_col(target)] = dim
        dims.clear()
        dims.update(new)

    def do_rangeDelete(self, action: dict) -> None:
        shift = action["args"][0]
        if shift not in ("up", "left"):
            raise HarnessError(f"rangeDelete shift {shift!r}")
        self._shift(self.ws(action["sheet_position"]), _rect_of(action), shift, delete=True)

    def do_rangeInsert(self, action: dict) -> None:
        args = list(action["args"]) + [None, None]
        shift, origin = args[0], args[1]
        if shift not in ("down", "right"):
            raise HarnessError(f"rangeInsert shift {shift!r}")
        if self.client == "vba":
            origin = "format_from_left_or_above"  # Remote.bas ignores copy_origin (Excel's default)
        ws = self.ws(action["sheet_position"])
        rect = _rect_of(action)
        self._shift(ws, rect, shift, delete=False)
        # Inserted cells take the format of their neighbour (Excel's CopyOrigin).
        vertical = shift == "down"
        if origin == "format_from_right_or_below":
            src = (lambda r, c: (rect.r1 + 1, c)) if vertical else (lambda r, c: (r, rect.c1 + 1))
        else:
            src = (lambda r, c: (rect.r0 - 1, c)) if vertical else (lambda r, c: (r, rect.c0 - 1))
        if rect.size <= 2_000_000:
            for r in range(rect.r0, rect.r1 + 1):
                for c in range(rect.c0, rect.c1 + 1):
                    sr, sc = src(r, c)
                    if sr >= 1 and sc >= 1 and (sr, sc) in ws._cells and ws._cells[(sr, sc)].has_style:
                        ws.cell(r, c)._style = copy.copy(ws._cells[(sr, sc)]._style)

    def _values_matrix(self, ws: Any, rect: _Rect) -> list[list[Any]]:
        return [[ws._cells[(r, c)].value if (r, c) in ws._cells else None for c in range(rect.c0, rect.c1 + 1)]
                for r in range(rect.r0, rect.r1 + 1)]

    @staticmethod
    def _sort_key(value: Any, warn: Callable[[str], None]) -> tuple:
        # Excel: numbers (and dates) < text < logical < errors; blanks always last.
        if value is None or value == "":
            return (4, 0)
        if isinstance(value, bool):
            return (2, value)
        if isinstance(value, (int, float)):
            return (0, value)
        if isinstance(value, (dt.datetime, dt.date)):
            return (0, (value - dt.datetime(1899, 12, 30)).total_seconds() if isinstance(value, dt.datetime) else value.toordinal())
        text = str(value)
        if text in VBA_ERRORS:
            return (3, 0)
        if any(ord(ch) > 127 for ch in text):
            warn("sort: zh-CN Excel orders Chinese text by pinyin; the harness orders it by code point")
        return (1, text.casefold())

    def _reorder_rows(self, ws: Any, rect: _Rect, order: list[int]) -> None:
        """Rows of ``rect`` (0-based within rect) rearranged so that row i takes old row order[i]."""
        snapshot = {}
        for i in range(rect.nrows):
            for c in range(rect.c0, rect.c1 + 1):
                cell = ws._cells.pop((rect.r0 + i, c), None)
                if cell is not None:
                    snapshot[(i, c)] = cell
        for new_i, old_i in enumerate(order):
            for c in range(rect.c0, rect.c1 + 1):
                cell = snapshot.get((old_i, c))
                if cell is not None:
                    cell.row = rect.r0 + new_i
                    ws._cells[(cell.row, c)] = cell
                    if cell.hyperlink is not None:
                        cell.hyperlink.ref = cell.coordinate

    def do_rangeSort(self, action: dict) -> None:
        ws = self.ws(action["sheet_position"])
        rect = _rect_of(action)
        keys, ascending, has_headers = action["args"][:3]
        keys = keys if isinstance(keys, list) else [keys]
        ascending = ascending if isinstance(ascending, list) else [ascending] * len(keys)
        start = 1 if has_headers else 0
        matrix = self._values_matrix(ws, rect)
        rows = list(range(start, rect.nrows))
        for key, asc in reversed(list(zip(keys, ascending))):
            def sort_key(i: int, k: int = key) -> tuple:
                return self._sort_key(matrix[i][k - 1], self.warn)
            blanks = [i for i in rows if sort_key(i)[0] == 4]
            filled = [i for i in rows if sort_key(i)[0] != 4]
            filled.sort(key=sort_key, reverse=not asc)
            rows = filled + blanks
        self._reorder_rows(ws, rect, list(range(start)) + rows)

    def do_rangeRemoveDuplicates(self, action: dict) -> None:
        ws = self.ws(action["sheet_position"])
        rect = _rect_of(action)
        columns, has_headers = action["args"][:2]
        columns = columns if isinstance(columns, list) else [columns]
        matrix = self._values_matrix(ws, rect)
        start = 1 if has_headers else 0
        seen, keep, drop = set(), list(range(start)), []
        for i in range(start, rect.nrows):
            key = tuple(str(matrix[i][c - 1]).casefold() if isinstance(matrix[i][c - 1], str) else matrix[i][c - 1]
                        for c in columns)
            (drop if key in seen else keep).append(i)
            seen.add(key)
        self._reorder_rows(ws, rect, keep + drop)
        for i in range(len(keep), rect.nrows):
            for c in range(rect.c0, rect.c1 + 1):
                ws._cells.pop((rect.r0 + i, c), None)

    def do_rangeReplaceAll(self, action: dict) -> None:
        ws = self.ws(action["sheet_position"])
        old, new, whole, match_case = action["args"][:4]
        flags = 0 if match_case else re.I
        pattern = re.compile(("^" + re.escape(old) + "$") if whole else re.escape(old), flags)
        for cell in self.cells(ws, _rect_of(action), create=False):
            if isinstance(cell.value, str) and pattern.search(cell.value):
                cell.value = pattern.sub(lambda m: new, cell.value)

    def _copy_block(self, src_ws: Any, src: _Rect, dst_ws: Any, r0: int, c0: int, *, kind: str = "all",
                    skip_blanks: bool = False, transpose: bool = False) -> None:
        from openpyxl.formula.translate import Translator
        from openpyxl.cell.cell import MergedCell

        snapshot = {}
        for r in range(src.r0, src.r1 + 1):
            for c in range(src.c0, src.c1 + 1):
                cell = src_ws._cells.get((r, c))
                snapshot[(r - src.r0, c - src.c0)] = (
                    None if cell is None else (cell.value, cell.data_type, copy.copy(cell._style), cell.coordinate))
        for (i, j), data in snapshot.items():
            di, dj = (j, i) if transpose else (i, j)
            target = dst_ws.cell(r0 + di, c0 + dj)
            if data is None:
                if skip_blanks:
                    continue
                value, data_type, style, origin = None, "n", None, None
            else:
                value, data_type, style, origin = data
            if skip_blanks and value is None:
                continue
            if kind in ("all", "formats") and style is not None:
                target._style = copy.copy(style)
            elif kind in ("all", "formats") and style is None:
                from openpyxl.styles.cell_style import StyleArray

                target._style = StyleArray()
            if isinstance(target, MergedCell):
                continue
            if kind == "link":
                target.value = f"={_name_prefix(src_ws.title)}!{_col(src.c0 + j)}{src.r0 + i}"
            elif kind in ("all", "formulas", "values"):
                if data_type == "f" and isinstance(value, str) and kind != "values":
                    value = Translator(value, origin).translate_formula(target.coordinate)
                elif data_type == "f" and kind == "values":
                    self.warn("copy values of a formula: the harness has no calculated value (writes None)")
                    value = None
                target.value = value
                if isinstance(value, str) and data_type == "s":
                    target.data_type = "s"

    def do_copyRange(self, action: dict) -> None:
        dest_sheet, dest_address = (list(action["args"]) + [None, None])[:2]
        if dest_sheet is None:
            self.result.other.append(action)  # to the clipboard
            return
        src_ws = self.ws(action["sheet_position"])
        dst = _rect_from_address(dest_address)
        self._copy_block(src_ws, _rect_of(action), self.ws(dest_sheet), dst.r0, dst.c0)

    def do_copyFromRange(self, action: dict) -> None:
        src_sheet, src_address, kind, skip_blanks, transpose = (list(action["args"]) + [None] * 5)[:5]
        kind = kind or "all"
        if kind not in ("all", "formats", "formulas", "values", "link"):
            raise UnsupportedActionError(f"copyFromRange copy_type {kind!r}")
        dst = _rect_of(action)
        self._copy_block(self.ws(src_sheet), _rect_from_address(src_address), self.ws(action["sheet_position"]),
                         dst.r0, dst.c0, kind=kind, skip_blanks=bool(skip_blanks), transpose=bool(transpose))

    def do_moveRange(self, action: dict) -> None:
        dest_sheet, dest_address = action["args"][:2]
        src_ws, src = self.ws(action["sheet_position"]), _rect_of(action)
        dst_ws, dst = self.ws(dest_sheet), _rect_from_address(dest_address)
        self._copy_block(src_ws, src, dst_ws, dst.r0, dst.c0)
        moved = _Rect(dst.r0, dst.c0, dst.r0 + src.nrows - 1, dst.c0 + src.ncols - 1)
        for (r, c) in list(src_ws._cells):
            if src.contains(r, c) and not (src_ws is dst_ws and moved.contains(r, c)):
                del src_ws._cells[(r, c)]
        self._formula_warning(src_ws)

    # -- hyperlinks, names, notes -----------------------------------------------------
    def do_addHyperlink(self, action: dict) -> None:
        from openpyxl.worksheet.hyperlink import Hyperlink

        address, text, tip = (list(action["args"]) + [None, None, None])[:3]
        ws = self.ws(action["sheet_position"])
        rect = _rect_of(action)
        cell = ws.cell(rect.r0, rect.c0)
        cell.hyperlink = Hyperlink(ref=cell.coordinate, target=address, tooltip=tip)
        cell.value = text if text is not None else address
        cell.style = "Hyperlink"

    def _ref(self, ws: Any, rect: _Rect) -> str:
        from openpyxl.utils import quote_sheetname

        return f"{quote_sheetname(ws.title)}!{_absolute(str(rect))}"

    def _add_name(self, name: str, refers_to: str, scope_ws: Any | None) -> None:
        from openpyxl.workbook.defined_name import DefinedName

        if "!" in name:
            sheet_part, name = name.rsplit("!", 1)
            sheet_title = sheet_part.strip("'").replace("''", "'")
            scope_ws = self.wb[sheet_title]
        defn = DefinedName(name=name, attr_text=refers_to.lstrip("="))
        if scope_ws is None:
            self.wb.defined_names[name] = defn
        else:
            scope_ws.defined_names[name] = defn

    def do_setRangeName(self, action: dict) -> None:
        ws = self.ws(action["sheet_position"])
        self._add_name(action["args"][0], self._ref(ws, _rect_of(action)), None)

    def do_namesAdd(self, action: dict) -> None:
        name, refers_to = action["args"][:2]
        scope = None if action.get("sheet_position") is None else self.ws(action["sheet_position"])
        self._add_name(name, refers_to, scope)

    def _names_of(self, book_scope: bool, scope_index: int | None) -> Any:
        if book_scope:
            return self.wb.defined_names
        return list(self.wb._sheets)[scope_index].defined_names

    def do_nameDelete(self, action: dict) -> None:
        full, _refers, bare, _sheet_index, book_scope, scope_index = (list(action["args"]) + [None] * 6)[:6]
        names = self._names_of(bool(book_scope), scope_index)
        key = bare or full.rsplit("!", 1)[-1]
        if key not in names:
            raise HarnessError(f"nameDelete: no name {full!r}")
        del names[key]

    def do_setNameRefersTo(self, action: dict) -> None:
        name, book_scope, scope_index, value = action["args"][:4]
        names = self._names_of(bool(book_scope), scope_index)
        key = name.rsplit("!", 1)[-1]
        if key not in names:
            raise HarnessError(f"setNameRefersTo: no name {name!r}")
        names[key].attr_text = value.lstrip("=")

    def do_addNote(self, action: dict) -> None:
        from openpyxl.comments import Comment

        address, text = action["args"][:2]
        ws = self.ws(action["sheet_position"])
        rect = _rect_from_address(address)
        ws.cell(rect.r0, rect.c0).comment = Comment(text, "xlwings")

    def do_setNoteText(self, action: dict) -> None:
        raise UnsupportedActionError("setNoteText (Office.js only)")

    # -- sheets -----------------------------------------------------------------------
    @staticmethod
    def _check_sheet_name(wb: Any, name: Any, ignore: Any = None) -> None:
        if not isinstance(name, str) or not name or len(name) > 31 or re.search(r"[\[\]:*?/\\]", name) \
                or name.startswith("'") or name.endswith("'") or name.casefold() == "history":
            raise HarnessError(f"Excel refuses the sheet name {name!r}")
        for sheet in wb._sheets:
            if sheet is not ignore and sheet.title.casefold() == name.casefold():
                raise HarnessError(f"Excel refuses the sheet name {name!r}: a sheet with that name exists")

    def _move_sheet_to(self, sheet: Any, worksheet_index: int) -> None:
        """Put ``sheet`` at position ``worksheet_index`` among the worksheets."""
        sheets = self.wb._sheets
        sheets.remove(sheet)
        others = [s for s in sheets if s in self.wb.worksheets]
        if worksheet_index >= len(others):
            anchor = sheets.index(others[-1]) + 1 if others else len(sheets)
        else:
            anchor = sheets.index(others[worksheet_index])
        sheets.insert(anchor, sheet)

    def do_addSheet(self, action: dict) -> None:
        index, name = (list(action["args"]) + [None, None])[:2]
        if name is not None:
            self._check_sheet_name(self.wb, name)
        else:
            n = 1
            while any(s.title.casefold() == f"sheet{n}" for s in self.wb._sheets):
                n += 1
            name = f"Sheet{n}"
        ws = self.wb.create_sheet(title=name)
        if self.client == "vba":
            # Remote.bas: wb.Sheets.Add (before the active sheet), then
            # mysheet.Move After:=Worksheets(args(1) + 1), counted after the insertion.
            worksheets = list(self.wb.worksheets)
            worksheets.remove(ws)
            active_pos = worksheets.index(self.active) if self.active in worksheets else 0
            worksheets.insert(active_pos, ws)
            anchor = worksheets[index] if index < len(worksheets) else worksheets[-1]
            worksheets.remove(ws)
            position = worksheets.index(anchor) + 1 if anchor is not ws else active_pos
            self._move_sheet_to(ws, position)
            if position != index:
                self.warn(f"addSheet: Remote.bas put {name!r} at position {position}, the script asked for {index} "
                          "(it moves the new sheet after Worksheets(index + 1) counted after Sheets.Add inserted it "
                          "before the active sheet)")
        else:
            self._move_sheet_to(ws, index)
        self.active = ws

    def do_setSheetName(self, action: dict) -> None:
        from xlwings.pro._xlremote import _rename_sheet_in_formula

        ws = self.ws(action["sheet_position"])
        new = action["args"][0]
        self._check_sheet_name(self.wb, new, ignore=ws)
        old = ws.title
        ws.title = new
        # Excel rewrites references to the sheet in formulas and defined names.
        for sheet in self.wb.worksheets:
            for cell in sheet._cells.values():
                if cell.data_type == "f" and isinstance(cell.value, str):
                    cell.value = _rename_sheet_in_formula(cell.value, old, new)
        for holder in [self.wb.defined_names] + [s.defined_names for s in self.wb.worksheets]:
            for defn in holder.values():
                if defn.attr_text:
                    defn.attr_text = _rename_sheet_in_formula("=" + defn.attr_text, old, new)[1:]

    def _visible(self) -> list[Any]:
        return [s for s in self.wb._sheets if getattr(s, "sheet_state", "visible") == "visible"]

    def do_sheetDelete(self, action: dict) -> None:
        ws = self.ws(action["sheet_position"])
        if self._visible() == [ws]:
            raise HarnessError("Excel cannot delete the only visible sheet")
        sheets = self.wb._sheets
        position = sheets.index(ws)
        self.wb.remove(ws)
        if self.active is ws:
            visible = self._visible()
            after = [s for s in visible if sheets.index(s) >= position]
            self.active = after[0] if after else visible[-1]
        if any(c.data_type == "f" for w in self.wb.worksheets for c in w._cells.values()):
            self.warn("sheet deleted: formulas that referred to it are not turned into #REF! by the harness")

    def do_setSheetVisibility(self, action: dict) -> None:
        ws = self.ws(action["sheet_position"])
        state = {"Visible": "visible", "Hidden": "hidden", "VeryHidden": "veryHidden"}[action["args"][0]]
        if state != "visible" and self._visible() == [ws]:
            raise HarnessError("Excel cannot hide the only visible sheet")
        ws.sheet_state = state
        if state != "visible" and self.active is ws:
            sheets = self.wb._sheets
            visible = self._visible()
            after = [s for s in visible if sheets.index(s) > sheets.index(ws)]
            self.active = after[0] if after else visible[-1]

    def do_setSheetPosition(self, action: dict) -> None:
        self._move_sheet_to(self.ws(action["sheet_position"]), action["args"][0])

    def do_copySheet(self, action: dict) -> None:
        position, target_index, name = action["args"][:3]
        source = self.ws(action["sheet_position"])
        target = self.ws(target_index)
        self._check_sheet_name(self.wb, name)
        new = self.wb.copy_worksheet(source)
        new.title = name
        new.sheet_state = "visible"
        worksheets = [s for s in self.wb.worksheets if s is not new]
        index = worksheets.index(target) + (1 if position == "After" else 0)
        self._move_sheet_to(new, index)
        self.active = new
        self.warn("copySheet: openpyxl copies cells, styles, dimensions and merges (not images, charts, "
                  "data validation or conditional formats)")

    def do_activateSheet(self, action: dict) -> None:
        ws = self.ws(action["args"][0])
        if ws.sheet_state != "visible":
            raise HarnessError(f"Excel cannot activate the hidden sheet {ws.title!r}")
        self.active = ws
        self.result.other.append(action)

    def do_setShowGridlines(self, action: dict) -> None:
        self.ws(action["sheet_position"]).sheet_view.showGridLines = bool(action["args"][0])

    def do_freezePaneAtRange(self, action: dict) -> None:
        ws = self.ws(action["sheet_position"])
        rect = _rect_from_address(action["args"][0])
        rows = 0 if rect.whole_cols else rect.r1
        cols = 0 if rect.whole_rows else rect.c1
        ws.freeze_panes = f"{_col(cols + 1)}{rows + 1}" if (rows or cols) else None

    def do_freezePaneUnfreeze(self, action: dict) -> None:
        self.ws(action["sheet_position"]).freeze_panes = None

    def do_setPrintArea(self, action: dict) -> None:
        ws = self.ws(action["sheet_position"])
        value = action["args"][0]
        if value:
            ws.print_area = value
        else:
            ws._print_area = None

    # -- tables -----------------------------------------------------------------------
    def _table(self, action: dict) -> Any:
        ws = self.ws(action["sheet_position"])
        tables = list(ws.tables.values())
        return ws, tables[action["args"][0]]

    def do_addTable(self, action: dict) -> None:
        from openpyxl.worksheet.table import Table, TableStyleInfo

        ws = self.ws(action["sheet_position"])
        address, has_headers, style, name = (list(action["args"]) + [None] * 4)[:4]
        if not has_headers:
            raise UnsupportedActionError("addTable without headers (Excel inserts a header row)")
        if name is None:
            n = 1
            existing = {t.displayName for s in self.wb.worksheets for t in s.tables.values()}
            while f"Table{n}" in existing:
                n += 1
            name = f"Table{n}"
        table = Table(displayName=name, name=name, ref=str(_rect_from_address(address)))
        table.tableStyleInfo = TableStyleInfo(name=style or "TableStyleMedium2", showRowStripes=True)
        ws.add_table(table)

    def do_setTableName(self, action: dict) -> None:
        ws, table = self._table(action)
        old = table.name
        table.name = table.displayName = action["args"][1]
        if old in ws.tables:
            del ws.tables[old]
        ws.tables[table.name] = table

    def do_resizeTable(self, action: dict) -> None:
        _, table = self._table(action)
        table.ref = str(_rect_from_address(action["args"][1]))
        if table.autoFilter is not None:
            table.autoFilter.ref = table.ref

    def do_setTableStyle(self, action: dict) -> None:
        from openpyxl.worksheet.table import TableStyleInfo

        _, table = self._table(action)
        if table.tableStyleInfo is None:
            table.tableStyleInfo = TableStyleInfo()
        table.tableStyleInfo.name = action["args"][1]

    def do_showAutofilterTable(self, action: dict) -> None:
        from openpyxl.worksheet.filters import AutoFilter

        _, table = self._table(action)
        table.autoFilter = AutoFilter(ref=table.ref) if action["args"][1] else None

    def _style_flag(self, action: dict, attribute: str) -> None:
        from openpyxl.worksheet.table import TableStyleInfo

        _, table = self._table(action)
        if table.tableStyleInfo is None:
            table.tableStyleInfo = TableStyleInfo()
        setattr(table.tableStyleInfo, attribute, bool(action["args"][1]))

    def do_showTableStyleFirstColumn(self, action: dict) -> None:
        self._style_flag(action, "showFirstColumn")

    def do_showTableStyleLastColumn(self, action: dict) -> None:
        self._style_flag(action, "showLastColumn")

    def do_showTableStyleRowStripes(self, action: dict) -> None:
        self._style_flag(action, "showRowStripes")

    def do_showTableStyleColumnStripes(self, action: dict) -> None:
        self._style_flag(action, "showColumnStripes")


def _actions_list(actions: Any) -> list[dict]:
    if isinstance(actions, dict):
        actions = actions.get("actions", [])
    # Over the wire: what json cannot carry (NaN, inf, odd types) fails as on a real server.
    try:
        return json.loads(json.dumps(list(actions), ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise HarnessError(f"the actions cannot be sent as JSON: {exc}") from exc


def apply_actions(path_or_workbook: Path | str | Any, actions: list[dict] | dict, out: Path | str | None = None, *,
                  client: str = "desktop", active_sheet: str | int | None = None,
                  today: dt.date | None = None) -> Result:
    """Apply ``book.json()`` actions to a workbook as Excel would, with openpyxl.

    ``path_or_workbook``: a .xlsx/.xlsm path (loaded, changed and saved to ``out`` or back to
    itself) or an openpyxl Workbook (changed in place; saved only when ``out`` is given).
    ``client``: "desktop" (default) or "vba", see the module docstring. ``active_sheet``: the
    sheet (name, or index as in the payload's ``active_sheet_index``) that was active when the
    macro ran (default: the workbook's active sheet); it matters for ``client="vba"`` addSheet. ``today``: the year Excel assumes for "3/1".

    Returns a ``Result``: alerts (message boxes, collected instead of shown), other non-cell
    actions, coercions, warnings and the actions the stock VBA client cannot run.
    """
    import openpyxl

    if client not in ("desktop", "vba"):
        raise ValueError("client must be 'desktop' or 'vba'")
    actions = _actions_list(actions)
    result = Result(actions=actions)
    if not actions and out is None:
        return result  # nothing to do: leave the file byte for byte as it was
    if isinstance(path_or_workbook, (str, Path)):
        path = Path(path_or_workbook)
        wb = openpyxl.load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm", rich_text=True)
        save_to: Path | None = Path(out) if out is not None else path
    else:
        wb = path_or_workbook
        save_to = Path(out) if out is not None else None
    active_index = active_sheet
    if isinstance(active_sheet, str):
        active_index = [s.title for s in wb._sheets].index(active_sheet)
    applier = _Applier(wb, result, client=client, today=today, active_index=active_index)
    error: Exception | None = None
    try:
        for action in actions:
            applier.apply(action)
    except VbaClientError as exc:
        error = exc
    finally:
        wb.active = wb._sheets.index(applier.active)
        for sheet in wb.worksheets:  # only one selected tab, like Excel
            sheet.sheet_view.tabSelected = sheet is applier.active
        result.active_sheet = applier.active.title
    if save_to is not None and (error is None or isinstance(error, VbaClientError)):
        wb.save(save_to)
    if error is not None:
        raise error
    return result


# --------------------------------------------------------------------------------------
# One macro call
# --------------------------------------------------------------------------------------

def run_macro(path: Path | str, func: Callable[[Any], Any], *, caller_sheet: str | None = None,
              selection: str | None = "A1", out: Path | str | None = None, client: str = "desktop",
              include: str | Iterable[str] | None = None, exclude: str | Iterable[str] | None = None,
              today: dt.date | None = None) -> Result:
    """Run ``func(book)`` on a real xlwings Book over the workbook at ``path`` and apply what it did.

    Builds the payload (``caller_sheet`` = the sheet the user clicked the button on), makes
    ``book = xw.Book(json=payload)``, calls ``func(book)``, applies ``book.json()`` to the file
    and saves it (to ``out`` if given). If ``func`` raises, nothing is applied (xlwings Server
    answers with an error and Remote.bas only shows it) and the exception propagates.
    ``Result.return_value`` is what ``func`` returned.
    """
    import xlwings as xw

    enable_remote()
    payload = payload_from_file(path, active_sheet=caller_sheet, selection=selection, include=include,
                                exclude=exclude)
    sent = copy.deepcopy(payload)  # the engine uses the dict as its model and changes it in place
    book = xw.Book(json=payload)
    try:
        value = func(book)
        actions = book.json()
    finally:
        book.close()
        _clear_engine_caches()
    result = apply_actions(path, actions, out, client=client, today=today,
                           active_sheet=sent["book"]["active_sheet_index"])
    result.return_value = value
    result.payload = sent
    return result
