"""Excel worksheet functions (xlwings UDFs) over the domain core — ranges in, arrays out.

Each function takes whole columns (one value per row out) or single cells (a value out),
applies the rule of ``xl_duban.domain`` that the command line applies, and never lets an
exception reach Excel: a cell that cannot be computed says why, in Chinese, starting with
``错误：``. Everything here is glue — shapes, cell values, caches; the rules themselves are
called, not restated:

- DUBAN_LIGHT: ``domain.lights.light_task`` on a synthetic history (prior yellows, then the
  row's return), memoised per distinct (完成情况, 逾期, 缺报, prior streak, rules).
- DUBAN_STREAK: ``light_task`` again, one period at a time with its light given as the
  核定灯色 (the streak is all a period hands on to the next), memoised per (streak, light).
- DUBAN_DUE / DUBAN_WORKDAY: ``domain.due.DueDates`` (``domain.periods.due_date`` on the
  chinesecalendar package plus an optional 节假日 range).
- DUBAN_OVERDUE: ``domain.deadlines`` — ``read_deadline`` (完成时限 as task lists write it) and
  ``overdue_days``, the rule ``validate`` and the bulletin's 超期未办结 use.
- DUBAN_UNIT: ``domain.units.UnitDirectory`` over a 单位名录 range read like the ledger's sheet.
- DUBAN_SIMILAR: rapidfuzz ``ratio`` / 100, the bulletin's "进展情况与上期雷同" measure.

On Windows the ``xw.func`` / ``xw.arg`` decorators register the functions with xlwings'
COM server; elsewhere they are no-ops and the functions are plain Python callables.
:func:`vba_module` writes the VBA wrapper module (``DubanFunctions``) the template needs.
"""

from __future__ import annotations

import functools
import gc
import importlib
import inspect
import io
import itertools
import random
import sys
import time
import types
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, NamedTuple

import xlwings as xw
from rapidfuzz.fuzz import ratio

from xl_duban.domain.cells import parse_cell_date
from xl_duban.domain.deadlines import OVERDUE, overdue_days, read_deadline
from xl_duban.domain.lights import LightRules, Verdict, is_late, light_task, normalize_completion, normalize_light
from xl_duban.domain.models import Completion, Feedback, LightColor, LightRecord, NodeTarget, Task
from xl_duban.domain.periods import Period
from xl_duban.domain.settings import check_value, from_values
from xl_duban.domain.schema import HOLIDAYS, UNITS, SheetSpec
from xl_duban.domain.units import UnitDirectory, split_list
from xl_duban.domain.cells import cell_text
from xl_duban.domain.due import DueDates
from xl_duban.domain.grid import grid_layout, records_from_grid
from xl_duban.io.calendar_source import work_calendar

__all__ = ["DUBAN_DUE", "DUBAN_LIGHT", "DUBAN_OVERDUE", "DUBAN_SIMILAR", "DUBAN_STREAK", "DUBAN_UNIT", "DUBAN_WORKDAY",
           "FUNCTIONS", "MODULE_NAME", "REGISTER_SUB", "benchmark_rows", "clear_caches", "vba_module"]

CATEGORY = "督办"  # the function wizard's category
PYTHON_MODULE = "udfs"  # what XLPy.CallUDF imports: this package
MODULE_NAME = "DubanFunctions"  # the VBA module holding the wrappers (named by the VBA writer)
REGISTER_SUB = "DubanRegisterFunctions"  # public VBA sub: Chinese wizard texts via Application.MacroOptions
ERROR = "错误："  # every error text a cell shows starts with this


class UdfError(ValueError):
    """A Chinese message for one cell (or for the whole call)."""


class Failed(NamedTuple):
    """A cell value that could not be read: the message its output cell shows."""

    message: str


def _message(exc: Exception) -> str:
    if isinstance(exc, UdfError):
        return ERROR + str(exc)
    return f"{ERROR}计算失败（{type(exc).__name__}：{exc}）"


def _attempt(convert: Callable[[Any], Any], value: Any) -> Any:
    try:
        return convert(value)
    except Exception as exc:  # noqa: BLE001 — the cell shows the reason, Excel never sees a traceback
        return Failed(_message(exc))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and (not value or value.isspace()))


# -- shapes: scalar, 1-D list, 2-D list; whole columns converted once per distinct value -----------
class Grid(NamedTuple):
    rows: list[list[Any]]
    kind: int  # 0 a single value, 1 a plain list (a column), 2 a list of rows

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.rows[0]) if self.rows else 0


def _grid(value: Any, what: str) -> Grid:
    """A cell value, a list (a column) or a list of rows, as rows of cells."""
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list):
        return Grid([[value]], 0)
    types_ = set(map(type, value))
    if not types_ & {list, tuple}:
        return Grid([[v] for v in value], 1)
    if not types_ <= {list, tuple} or len(set(map(len, value))) > 1:
        raise UdfError(f"{what}的范围不是规整的矩形区域")
    return Grid(value, 2)


def _broadcast(grids: dict[str, Grid]) -> tuple[int, int]:
    """The output shape: every argument has the same rows/columns, or one of them (a single cell)."""
    shape = [1, 1]
    for axis, name in ((0, "行数"), (1, "列数")):
        sizes = {g.shape[axis] for g in grids.values()}
        big = sizes - {1}
        if len(big) > 1:
            detail = "、".join(f"{what}{g.shape[axis]}" for what, g in grids.items() if g.shape[axis] != 1)
            raise UdfError(f"参数的{name}不一致（{detail}），请选取同样大小的范围或单个单元格")
        shape[axis] = big.pop() if big else min(sizes)
    return shape[0], shape[1]


def _flat(g: Grid, n_rows: int, n_cols: int) -> list[Any]:
    """The cells of ``g`` in output order, repeated along the axes where it has one row/column."""
    r, c = g.shape
    if (r, c) == (n_rows, n_cols):
        return [row[0] for row in g.rows] if c == 1 else [v for row in g.rows for v in row]
    return [g.rows[i if r > 1 else 0][j if c > 1 else 0] for i in range(n_rows) for j in range(n_cols)]


def _keys(values: list[Any]) -> list[Any]:
    """Dictionary keys for cell values: the values, unless TRUE/FALSE would pass for 1/0."""
    if bool in set(map(type, values)):
        return [(type(v), v) for v in values]
    return values


class Column(NamedTuple):
    values: list[Any]  # converted cell by cell (failures as Failed)
    blank: list[bool]  # which cells were blank
    failed: bool  # whether any cell failed


def _column(values: list[Any], convert: Callable[[Any], Any] | None) -> Column:
    """``convert`` over a column, called once per distinct value; failures become :class:`Failed`."""
    blank = [v is None or (isinstance(v, str) and (not v or v.isspace())) for v in values]  # _blank, inlined
    if convert is None:
        return Column(values, blank, False)
    keys = _keys(values)
    table = {k: _attempt(convert, v) for k, v in dict(zip(keys, values)).items()}
    return Column([table[k] for k in keys], blank, Failed in set(map(type, table.values())))


class Arg(NamedTuple):
    value: Any  # what Excel passed: a value, a column, a range
    convert: Callable[[Any], Any] | None = None  # cell value → what ``fn`` needs (may raise UdfError)


def _elementwise(fn: Callable[..., Any] | None, args: dict[str, Arg]) -> Any:
    """``fn`` applied cell by cell over broadcast arguments, in the shape of the largest one.

    Each argument is converted once per distinct value. A cell whose row-wise arguments
    (those as large as the output) are all blank gives ""; a cell with an unreadable value
    or a failing computation gives its error text, the other cells are unaffected. Without
    ``fn`` the (single) converted argument is the result.
    """
    grids = {what: _grid(arg.value, what) for what, arg in args.items()}
    n_rows, n_cols = _broadcast(grids)
    n = n_rows * n_cols
    blank = [True] * n
    columns = []
    any_failed = False
    for arg, g in zip(args.values(), grids.values()):
        single = g.shape == (1, 1) and n != 1
        column = _column([g.rows[0][0]] if single else _flat(g, n_rows, n_cols), arg.convert)
        if g.shape == (n_rows, n_cols):
            blank = [a and b for a, b in zip(blank, column.blank)]
        any_failed = any_failed or column.failed
        columns.append(itertools.repeat(column.values[0], n) if single else column.values)
    out = []
    for is_blank, values in zip(blank, zip(*columns)):
        if is_blank:
            out.append("")
            continue
        if any_failed:
            failed = next((v for v in values if type(v) is Failed), None)
            if failed is not None:
                out.append(failed.message)
                continue
        if fn is None:
            out.append(values[0])
            continue
        try:
            out.append(fn(*values))
        except Exception as exc:  # noqa: BLE001
            out.append(_message(exc))
    return _shaped(out, n_rows, n_cols, max(g.kind for g in grids.values()))


def _shaped(out: list[Any], n_rows: int, n_cols: int, kind: int) -> Any:
    if kind == 0:
        return out[0] if out else ""
    if kind == 1 and n_cols == 1:
        return out
    return [out[i * n_cols:(i + 1) * n_cols] for i in range(n_rows)]


def _safe(f: Callable[..., Any]) -> Callable[..., Any]:
    """Whatever goes wrong becomes one Chinese error text, never an exception in Excel."""
    @functools.wraps(f)
    def wrapper(*args: Any) -> Any:
        collecting = gc.isenabled()
        gc.disable()  # a call allocates many small acyclic objects: no collector passes over the caches
        try:
            return f(*args)
        except Exception as exc:  # noqa: BLE001
            return _message(exc)
        finally:
            if collecting:
                gc.enable()
    return wrapper


# -- registry: the decorators and what the VBA generator needs ---------------------------------
@dataclass(frozen=True)
class UdfSpec:
    name: str
    description: str  # first paragraph of the docstring: the wizard's description
    args: tuple[tuple[str, dict[str, Any]], ...]  # (argument, xw.arg options incl. doc)
    func: Callable[..., Any]


FUNCTIONS: dict[str, UdfSpec] = {}


def _decorate(f: Callable[..., Any], func: Callable, arg: Callable, spec_args) -> Callable[..., Any]:
    for name, options in reversed(spec_args):
        f = arg(name, **options)(f)
    return func(category=CATEGORY)(f)


def udf(**arg_options: dict[str, Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@xw.func`` plus ``@xw.arg`` per argument (Chinese ``doc``), and the function recorded
    in :data:`FUNCTIONS` for :func:`vba_module`. Arguments are ASCII: they become VBA names."""
    def wrap(f: Callable[..., Any]) -> Callable[..., Any]:
        safe = _safe(f)
        spec_args = tuple(arg_options.items())
        description = inspect.cleandoc(f.__doc__ or "").split("\n\n")[0].replace("\n", "")
        FUNCTIONS[f.__name__] = UdfSpec(f.__name__, description, spec_args, safe)
        return _decorate(safe, xw.func, xw.arg, spec_args)
    return wrap


# -- cell values --------------------------------------------------------------------------------
_EXCEL_EPOCH = date(1899, 12, 30)


def _cell_date(value: Any, what: str) -> date | None:
    """A date from a date cell, an Excel serial number, or text (2024-04-10, 2024年4月10日)."""
    if type(value) is datetime:
        return value.date()
    if _blank(value):
        return None
    day = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # 1900-01-01 … 9999-12-31 as Excel counts days
            day = _EXCEL_EPOCH + timedelta(days=int(value))
    elif not isinstance(value, bool):
        day = parse_cell_date(value)
    if day is None:
        raise UdfError(f"{what}“{cell_text(value)}”不是日期")
    return day


def _period(value: Any) -> Period:
    if isinstance(value, float) and value.is_integer():  # 202403 typed as a number
        value = int(value)
    try:
        return Period.parse(value)
    except ValueError as exc:
        raise UdfError(str(exc)) from None


def _count(value: Any, what: str) -> int | None:
    """A whole number 0…999 from a number cell or a number typed as text; None when blank."""
    if _blank(value):
        return None
    try:
        number = None if isinstance(value, bool) else float(str(value).strip())
    except ValueError:
        number = None
    if number is None or not number.is_integer() or not 0 <= number <= _MAX_COUNT:
        raise UdfError(f"{what}“{cell_text(value)}”应为 0 到 {_MAX_COUNT} 的整数")
    return int(number)


_MAX_COUNT = 999


def _scalar(value: Any, what: str) -> Any:
    if isinstance(value, (list, tuple)):
        cells = [c for row in _grid(value, what).rows for c in row]
        if len(cells) != 1:
            raise UdfError(f"{what}只能是一个单元格")
        value = cells[0]
    return value


def _setting(key: str, value: Any) -> Any:
    """A UDF argument checked as the 设置 value of the same name is checked (bounds, choices);
    None when blank (the 设置 default applies)."""
    value = _scalar(value, key)
    if _blank(value):
        return None
    found = check_value(key, value)
    if found:
        raise UdfError(f"{key}“{cell_text(value)}”无效，{found.hint}")
    return value


def _range_key(value: Any, what: str) -> tuple[tuple[Any, ...], ...]:
    if not isinstance(value, (list, tuple)) and _blank(value):
        return ()
    return tuple(tuple(row) for row in _grid(value, what).rows)


def _records(rows: tuple[tuple[Any, ...], ...], spec: SheetSpec) -> list:
    """Records of a range read like the ledger sheet: by header when the range has the header
    row (tblUnits[#全部]), otherwise the columns in the sheet's standard order."""
    grid = [list(r) for r in rows]
    headers = set(spec.headers)
    if not any(cell_text(v) in headers for row in grid[:10] for v in row):
        grid.insert(0, list(spec.headers))
    records, _findings = records_from_grid(grid, spec, "", grid_layout(grid, spec))
    return records


@functools.lru_cache(maxsize=16)
def _due_dates(holidays: tuple[tuple[Any, ...], ...], quarter_day: Any, monthly_workday: Any) -> DueDates:
    settings, _found = from_values(季度截止日=quarter_day, 月报截止工作日=monthly_workday)
    return DueDates(work_calendar(_records(holidays, HOLIDAYS) if holidays else []), settings)


def _calendar(holidays: Any, quarter_day: Any = None, monthly_workday: Any = None) -> DueDates:
    return _due_dates(_range_key(holidays, "节假日范围"), _setting("季度截止日", quarter_day),
                      _setting("月报截止工作日", monthly_workday))


@functools.lru_cache(maxsize=16)
def _rules(threshold: Any, missing: Any, late: Any) -> LightRules:
    settings, _found = from_values(红灯阈值=threshold, 缺报视为=missing, 逾期报送视为=late)
    return LightRules.of(settings)


# -- lights ------------------------------------------------------------------------------------
_TASK = Task(id="UDF", content="工作表函数", cadence="月度", status="进行中")
_START = Period(year=2001, month=1)
_NO_TEXT = object()  # a blank 完成情况 cell (unlike text that is no 完成情况, which counts as a return)


def _history(prior: int) -> tuple[list[Period], dict[Period, NodeTarget], dict[Period, list[Feedback]]]:
    """``prior`` periods reported 未完成 (a streak of that length), and the period after them."""
    periods = [_START.shift(i) for i in range(prior + 1)]
    targets = {p: NodeTarget(task_id=_TASK.id, period=str(p), target="节点目标") for p in periods}
    feedback = {p: [Feedback(task_id=_TASK.id, period=str(p), unit="单位", completion=Completion.not_done.value)]
                for p in periods[:-1]}
    return periods, targets, feedback


@functools.lru_cache(maxsize=4096)
def _verdict(completion: Completion | None, missing: bool, late: bool, prior: int, rules: LightRules) -> Verdict:
    """The domain's light for one period after ``prior`` consecutive yellows."""
    periods, targets, feedback = _history(prior)
    if not missing:
        feedback[periods[-1]] = [Feedback(task_id=_TASK.id, period=str(periods[-1]), unit="单位",
                                          completion=completion.value if completion else "", late="是" if late else "")]
    verdicts, _findings = light_task(_TASK, periods, targets, feedback, {}, lambda p: None, rules)
    return verdicts[-1]


@functools.lru_cache(maxsize=4096)
def _step(prior: int, light: LightColor | None) -> int:
    """The domain's streak after ``prior`` yellows and one more period whose final (核定) light
    is ``light``; None: a period without a node target, which leaves the streak as it is."""
    periods, targets, feedback = _history(prior)
    last = periods[-1]
    overrides = {}
    if light is None:
        del targets[last]
    else:
        overrides[last] = LightRecord(task_id=_TASK.id, period=str(last), override=light.value,
                                      override_note="工作表函数")
    verdicts, _findings = light_task(_TASK, periods, targets, feedback, overrides, lambda p: None, LightRules())
    return verdicts[-1].streak if verdicts else 0


def _completion(value: Any) -> Completion | None | object:
    return _NO_TEXT if _blank(value) else normalize_completion(value)


def _light(value: Any) -> LightColor | None:
    light = normalize_light(value)
    if light is None and not _blank(value):
        raise UdfError(f"灯色“{cell_text(value)}”无法识别，请填写绿灯、黄灯或红灯")
    return light


def _prior(value: Any, rules: LightRules) -> int:
    """Consecutive yellows before this period: a number, or last period's light (绿灯 0,
    黄灯 1, 红灯 = 红灯阈值 — enough for the next yellow to stay red)."""
    if _blank(value):
        return 0
    light = normalize_light(value)
    if light is not None:
        return {LightColor.green: 0, LightColor.yellow: 1, LightColor.red: rules.red_threshold}[light]
    try:
        return _count(value, "上期连续黄灯次数")
    except UdfError:
        raise UdfError(f"上期“{cell_text(value)}”无法识别，请填写上期灯色（绿灯/黄灯/红灯）或连续黄灯次数") from None


def _deadline(value: Any, due_dates: DueDates) -> date | None:
    """A deadline cell: a date, or a period (2024Q1 / 2024-03) whose report deadline it is."""
    if isinstance(value, str) and not _blank(value):
        try:
            return due_dates(Period.parse(value))
        except ValueError:
            pass
    try:
        return _cell_date(value, "截止日期")
    except UdfError:
        raise UdfError(f"截止日期“{cell_text(value)}”无法识别，请填写日期或周期（如 2024Q1、2024-03）") from None


class _Return(NamedTuple):  # what lights.is_late reads of a 反馈记录 row
    late: str
    received_at: date | None


@udf(completion={"ndim": 2, "doc": "完成情况：已完成、未完成、已办结……（可选整列）；与报送日期都空表示未报送"},
     due={"ndim": 2, "doc": "截止日期，或周期如 2024Q1、2024-03（按报送截止日计算）；可选整列或一个单元格"},
     received={"ndim": 2, "doc": "报送日期（晚于截止日期为逾期报送）；可省略"},
     previous={"ndim": 2, "doc": "上期灯色（绿灯/黄灯/红灯）或上期连续黄灯次数；空表示没有连续黄灯"},
     red_threshold={"doc": "红灯阈值：连续几次黄灯亮红灯，默认 2"},
     missing_as={"doc": "缺报视为：黄灯（默认）或红灯"},
     late_as={"doc": "逾期报送视为：按内容（默认）或黄灯"})
def DUBAN_LIGHT(completion, due, received=None, previous=None, red_threshold=None, missing_as=None, late_as=None):
    """按督查方案亮灯：每行返回绿灯、黄灯或红灯，与“亮灯”命令同一规则。

    已完成、已办结亮绿灯；未完成或完成情况无法识别亮黄灯；完成情况和报送日期都空为未报送（按“缺报视为”）；
    加上本期黄灯，连续黄灯达到红灯阈值亮红灯，上期为红灯时本期再黄仍为红灯。整行参数都空的行返回空。
    """
    rules = _rules(_setting("红灯阈值", red_threshold), _setting("缺报视为", missing_as),
                   _setting("逾期报送视为", late_as))
    due_dates = _calendar(None)
    lateness: dict[tuple, bool] = {}
    lights: dict[tuple, str] = {}

    def cell(text, deadline, received_on, prior):
        missing = text is _NO_TEXT and received_on is None
        pair = (received_on, deadline)
        late = lateness.get(pair)
        if late is None:
            late = lateness[pair] = is_late(_Return("", received_on), deadline)
        key = (text, missing, late, prior)
        light = lights.get(key)
        if light is None:
            light = lights[key] = _verdict(None if text is _NO_TEXT else text, missing, late, prior, rules).light.value
        return light

    return _elementwise(cell, {
        "完成情况": Arg(completion, _completion),
        "截止日期": Arg(due, lambda v: _deadline(v, due_dates)),
        "报送日期": Arg(received, lambda v: _cell_date(v, "报送日期")),
        "上期": Arg(previous, lambda v: _prior(v, rules)),
    })


@udf(lights={"ndim": 2, "doc": "灯色：每行一项任务，每列一个周期（按时间先后）；空单元格表示该期无节点目标"},
     prior_streak={"ndim": 2, "doc": "第一列之前的连续黄灯次数（整列或一个单元格），默认 0"})
def DUBAN_STREAK(lights, prior_streak=None):
    """连续黄灯次数：每行返回截至最后一期的连续黄灯（非绿灯）次数，与“亮灯”命令同一算法。

    绿灯清零；黄灯、红灯各加 1；空单元格（该期无节点目标）不改变次数。整行都空的行返回空。
    """
    grid = _grid(lights, "灯色")
    if grid.kind == 1:  # a plain list: one task's periods in order
        grid = Grid([[row[0] for row in grid.rows]], 0)
    before = _grid(prior_streak, "上期连续黄灯次数")
    if before.shape[1] != 1:
        raise UdfError("上期连续黄灯次数只能是一列或一个单元格")
    n_rows = _broadcast({"灯色": Grid([[None]] * len(grid.rows), 2), "上期连续黄灯次数": before})[0]
    width = grid.shape[1]
    flat = [v for row in grid.rows for v in row]
    cells = _keys(flat)  # every distinct value is read once
    colors = {k: _attempt(_light, v) for k, v in dict(zip(cells, flat)).items()}
    blank = {k: _blank(v) for k, v in dict(zip(cells, flat)).items()}
    first = [row[0] for row in before.rows]
    starts = _keys(first)
    counts = {k: _attempt(lambda v: _count(v, "上期连续黄灯次数"), v) for k, v in dict(zip(starts, first)).items()}
    count_blank = {k: _blank(v) for k, v in dict(zip(starts, first)).items()}
    row_keys = [tuple(cells[r * width:(r + 1) * width]) for r in range(len(grid.rows))]
    done: dict[tuple, Any] = {}

    def streak(key: tuple) -> Any:
        if key not in done:
            done[key] = _fold(key[0], counts[key[1]], count_blank[key[1]], colors, blank)
        return done[key]

    out = [streak(key) for key in zip(itertools.repeat(row_keys[0], n_rows) if len(row_keys) == 1 else row_keys,
                                      itertools.repeat(starts[0], n_rows) if len(starts) == 1 else starts)]
    if grid.kind == 2 or before.kind == 2:
        return [[v] for v in out]
    return out if before.kind == 1 else out[0]


def _fold(row: tuple, streak: Any, no_start: bool, colors: dict, blank: dict) -> Any:
    """The streak along one row of lights (keys of ``colors``), from a start count."""
    if no_start and all(blank[k] for k in row):
        return ""
    if type(streak) is Failed:
        return streak.message
    streak = streak or 0
    for k in row:
        color = colors[k]
        if type(color) is Failed:
            return color.message
        streak = _step(streak, color)
    return streak


# -- dates ---------------------------------------------------------------------------------------
@udf(period={"ndim": 2, "doc": "周期：季度写作 2024Q1，月份写作 2024-03（可选整列）"},
     holidays={"ndim": 2, "doc": "节假日范围（日期、类型 休/班/已核对），覆盖法定节假日安排，如 tblHolidays[#全部]；可省略"},
     quarter_day={"doc": "季度截止日，默认 10（次月 10 日）"},
     monthly_workday={"doc": "月报截止工作日，默认 3（次月第 3 个工作日）"})
def DUBAN_DUE(period, holidays=None, quarter_day=None, monthly_workday=None):
    """报送截止日期：季度报次月 10 日，月报次月第 3 个工作日（按法定节假日和调休计算）。

    未收录放假安排的年份按放假办法推算（见 DUBAN_CALENDAR_STATUS），请在节假日范围中登记并标记“已核对”。
    """
    due_dates = _calendar(holidays, quarter_day, monthly_workday)
    return _elementwise(None, {"周期": Arg(period, lambda v: due_dates(_period(v)))})


@udf(year_number={"ndim": 2, "doc": "年份，如 2027（可选整列）"},
     holidays={"ndim": 2, "doc": "节假日范围（日期、类型 休/班/已核对），如 tblHolidays[#全部]；可省略"})
def DUBAN_CALENDAR_STATUS(year_number, holidays=None):
    """该年放假安排的来源：“官方公布”（已收录国务院放假安排）、“已录入”（节假日范围中登记并有一行类型“已核对”）
    或“推算”（按《全国年节及纪念日放假办法》推算，调休上班日未知，该年的截止日期可能不准）。"""
    calendar = _calendar(holidays).calendar
    return _elementwise(None, {"年份": Arg(year_number, lambda v: calendar.source(_year(v)).value)})


def _year(value: Any) -> int:
    if isinstance(value, str):
        value = value.strip().removesuffix("年")
    try:
        number = None if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not number.is_integer() or not 1901 <= number <= 2099:
        raise UdfError(f"年份“{cell_text(value)}”无效，请填写四位年份（如 2027）")
    return int(number)


@udf(start_day={"ndim": 2, "doc": "起始日期（可选整列）"},
     workdays={"ndim": 2, "doc": "工作日数 N（0～999 的整数；整列或一个单元格）"},
     holidays={"ndim": 2, "doc": "节假日范围（日期、类型 休/班/已核对），覆盖法定节假日安排，如 tblHolidays[#全部]；可省略"})
def DUBAN_WORKDAY(start_day, workdays, holidays=None):
    """起始日期之后的第 N 个工作日（按法定节假日和调休计算，如整改期限）。"""
    due_dates = _calendar(holidays)
    known = _workday_memo(due_dates)  # (day, n) → day; (day, 1) are the steps
    if len(known) > 500_000:  # a long Excel session: keep the memory bounded
        known.clear()

    def cell(day, n):
        if day is None or n is None:
            raise UdfError("缺少起始日期" if day is None else "缺少工作日数")
        result = known.get((day, n))
        if result is None:
            result = day
            for _ in range(n):
                step = known.get((result, 1))
                if step is None:
                    step = known[(result, 1)] = due_dates.add_workdays(result, 1)
                result = step
            known[(day, n)] = result
        return result

    return _elementwise(cell, {"起始日期": Arg(start_day, lambda v: _cell_date(v, "起始日期")),
                               "工作日数": Arg(workdays, lambda v: _count(v, "工作日数"))})


@functools.lru_cache(maxsize=16)
def _workday_memo(due_dates: DueDates) -> dict:
    return {}


_UNREAD = {"invalid": "不是有效日期", "no-year": "未写年份，请填写台账年度参数", "ambiguous": "含多个时间，无法确定完成日期",
           "unreadable": "无法识别为日期"}


def _task_deadline(value: Any, year: int | None) -> date | None:
    """A 完成时限 cell: a date, an Excel serial number, or text as task lists write it (年底前);
    None for no deadline (blank, 长期坚持)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _cell_date(value, "完成时限")
    read = read_deadline(value, year)
    if read.kind in _UNREAD:
        raise UdfError(f"完成时限“{read.text}”{_UNREAD[read.kind]}")
    return read.day


@udf(deadline={"ndim": 2, "doc": "完成时限：日期，或“12月10日前”“三季度末”“年底前”等文字（可选整列）"},
     status={"ndim": 2, "doc": "状态：进行中、已办结、已取消（整列或一个单元格）；已办结、已取消的不计超期"},
     today={"doc": "按哪一天判断，如 TODAY()；省略为今天"},
     ledger_year={"doc": "台账年度：未写年份的完成时限（如“年底前”）按此年度；省略为判断日所在年度"})
def DUBAN_OVERDUE(deadline, status, today=None, ledger_year=None):
    """超期判断：完成时限已过、状态不是已办结（或已取消）的返回“超期”，否则返回空，与校验和通报同一规则。

    完成时限当天仍未超期；“长期坚持”“持续推进”等没有具体日期的不计超期；无法识别的完成时限返回错误提示。
    """
    today = _scalar(today, "判断日期")
    day = date.today() if _blank(today) else _cell_date(today, "判断日期")
    year = _setting("年度", ledger_year)
    year = day.year if year is None else int(float(year))
    marks: dict[tuple, str] = {}

    def cell(deadline_day, state):
        key = (deadline_day, state)
        mark = marks.get(key)
        if mark is None:
            mark = marks[key] = OVERDUE if overdue_days(deadline_day, state, day) is not None else ""
        return mark

    return _elementwise(cell, {"完成时限": Arg(deadline, lambda v: _task_deadline(v, year)),
                               "状态": Arg(status, lambda v: cell_text(v))})


# -- units and text --------------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _directory(rows: tuple[tuple[Any, ...], ...]) -> tuple[UnitDirectory, dict]:
    return UnitDirectory(_records(rows, UNITS)), {}


def _canonical(value: Any, directory: UnitDirectory) -> str:
    names = []
    for part in split_list(cell_text(value)):
        res = directory.resolve(part)
        if res.name is None:
            guess = f"是否为“{res.suggestions[0]}”？" if res.suggestions else ""
            raise UdfError(f"“{part}”不在单位名录中。{guess}")
        names.append(res.name)
    return "、".join(names)


@udf(unit_name={"ndim": 2, "doc": "单位名称（可选整列；多个单位用“、”分隔）"},
     directory={"ndim": 2, "doc": "单位名录范围，最好含表头，如 tblUnits[#全部]；无表头时依次为单位名称、别名"})
def DUBAN_UNIT(unit_name, directory=None):
    """单位规范名称：按单位名录（名称、别名、简称）换成标准名称；多个单位用“、”连接。

    名录中找不到的单位返回错误提示和最接近的名称。
    """
    rows = _range_key(directory, "单位名录范围")
    if not rows:
        raise UdfError("请指定单位名录范围，如 tblUnits[#全部]（【单位名录】表）")
    found, known = _directory(rows)

    def canonical(value):
        key = (type(value), value)
        if key not in known:
            known[key] = _attempt(lambda v: _canonical(v, found), value)
        return known[key]

    return _elementwise(None, {"单位名称": Arg(unit_name, canonical)})


def _text(value: Any) -> str:
    return value if type(value) is str else cell_text(value)


@udf(text1={"ndim": 2, "doc": "文本1，如上期进展情况（可选整列）"},
     text2={"ndim": 2, "doc": "文本2，如本期进展情况（整列或一个单元格）"})
def DUBAN_SIMILAR(text1, text2):
    """两段文字的相似度（0～1），与通报判断“进展情况与上期雷同”的算法相同；任一为空返回空。"""
    def cell(a, b):  # texts are mostly all different: no table of distinct values
        return "" if _blank(a) or _blank(b) else ratio(_text(a), _text(b)) / 100
    return _elementwise(cell, {"文本1": Arg(text1), "文本2": Arg(text2)})


def clear_caches() -> None:
    """Forget every memoised value (tests and cold-start benchmarks)."""
    for cached in (_due_dates, _rules, _verdict, _step, _workday_memo, _directory):
        cached.cache_clear()


# -- the VBA wrapper module ----------------------------------------------------------------------------
def _xlwings_udfs() -> types.ModuleType:
    """``xlwings.udfs`` (the "Import Functions" code), importable off Windows with COM stubbed.

    It imports pythoncom / pywintypes / win32com at the top for the COM server; generating
    VBA text needs none of them. The stubs and the module are taken out of ``sys.modules``
    again so that nothing else mistakes this machine for one with COM.
    """
    try:
        return importlib.import_module("xlwings.udfs")
    except ImportError:
        pass
    stubs = {}
    for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
        if name not in sys.modules:
            stub = types.ModuleType(name)
            stub.CoInitialize = stub.Dispatch = lambda *a, **k: None
            stub.com_error = type("com_error", (Exception,), {})
            stub.TimeType = datetime
            stubs[name] = sys.modules[name] = stub
    try:
        return importlib.import_module("xlwings.udfs")
    finally:
        for name in stubs:
            sys.modules.pop(name, None)
        sys.modules.pop("xlwings.udfs", None)
        if hasattr(xw, "udfs") and isinstance(getattr(xw, "udfs"), types.ModuleType):
            delattr(xw, "udfs")


def _wrappers_vba(workbook_name: str) -> str:
    """What xlwings' generate_vba_wrapper writes for our functions (decorated afresh with the
    real xlwings decorators, on copies, so this works on any platform)."""
    generator = _xlwings_udfs()
    module = types.ModuleType(PYTHON_MODULE)
    for name, spec in FUNCTIONS.items():
        clone = functools.wraps(spec.func)(lambda *a, _f=spec.func: _f(*a))
        clone.__dict__.pop("__xlfunc__", None)
        setattr(module, name, _decorate(clone, generator.xlfunc, generator.xlarg, spec.args))
    out = io.StringIO()
    generator.generate_vba_wrapper(PYTHON_MODULE, module, out, types.SimpleNamespace(Name=workbook_name))
    return out.getvalue()


def _vba_string(target: str, text: str, per_line: int = 60) -> list[str]:
    """VBA lines assigning ``text`` to ``target`` in pure ASCII (UTF-16 code units via DubanW)."""
    units = [str(int.from_bytes(text.encode("utf-16-le")[i:i + 2], "little"))
             for i in range(0, len(text.encode("utf-16-le")), 2)]
    lines = [f'{target} = ""']
    for i in range(0, len(units), per_line):
        lines.append(f'{target} = {target} & DubanW("{",".join(units[i:i + per_line])}")')
    return lines


def _registration_vba() -> str:
    """A public sub giving the functions their Chinese category, description and argument
    help in the function wizard (what "Import Functions" does via Application.MacroOptions).
    Call it from Workbook_Open; it keeps the workbook's Saved state."""
    body = ["Dim wasSaved As Boolean", "Dim book As String", "Dim wizardCategory As String", "Dim d As String",
            "Dim a() As Variant", "Dim app As Object", "On Error Resume Next", "Set app = Application",
            "wasSaved = ThisWorkbook.Saved",
            "book = \"'\" & Replace(ThisWorkbook.Name, \"'\", \"''\") & \"'!\"", *_vba_string("wizardCategory", CATEGORY)]
    for name, spec in sorted(FUNCTIONS.items()):
        docs = [options["doc"] for _arg, options in spec.args]
        body += _vba_string("d", spec.description[:255])
        body.append(f"ReDim a(0 To {len(docs) - 1})")
        for i, doc in enumerate(docs):
            body += _vba_string(f"a({i})", doc[:255])
        body.append(f'app.MacroOptions Macro:=book & "{name}", Description:=d, Category:=wizardCategory, '
                    "ArgumentDescriptions:=a")
    body += ["ThisWorkbook.Saved = wasSaved", "On Error GoTo 0"]
    return "\n".join([
        "' Chinese names for the function wizard; VBA source stays ASCII (UTF-16 code units below).",
        "' Optional argument: keeps this sub out of the Macros dialog. Late bound (app As Object):",
        "' ArgumentDescriptions needs Excel 2010+, older versions skip it instead of failing to compile.",
        f"Public Sub {REGISTER_SUB}(Optional ByVal quiet As Boolean = True)",
        *("    " + line for line in body),
        "End Sub",
        "",
        "Private Function DubanW(ByVal codes As String) As String",
        "    Dim part As Variant",
        "    For Each part In Split(codes, \",\")",
        "        DubanW = DubanW & ChrW(CLng(part))",
        "    Next part",
        "End Function",
        "",
    ])


def vba_module(workbook_name: str = "template.xlsm") -> str:
    """The VBA source of the ``DubanFunctions`` module (ASCII, no ``Attribute VB_Name`` line).

    The wrappers are xlwings' own ("Import Functions"): each calls
    ``XLPy.CallUDF("udfs", "DUBAN_…", Array(args…), ThisWorkbook, Application.Caller)``, so the
    workbook also needs xlwings' VBA module (``XLPy``) and Python must be able to import ``udfs``.
    ``#Const App`` is what import_udfs puts on top: the wrappers' ``#If App`` depends on it.
    """
    header = [
        f"' {MODULE_NAME}: Excel worksheet functions of xl_duban (Python package '{PYTHON_MODULE}').",
        "' Generated by udfs.vba_module() from xlwings' UDF wrapper generator - do not edit.",
        "#Const App = \"Microsoft Excel\" 'Adjust when using outside of Excel",
        "",
    ]
    return "\n".join(header) + _wrappers_vba(workbook_name) + _registration_vba()


# -- benchmark -------------------------------------------------------------------------------------------
def _realistic_inputs(n: int, seed: int = 20240410) -> dict[str, tuple]:
    """Arguments of one call per UDF over ``n`` rows, as a clerk's sheet would pass them."""
    from importlib import resources
    import csv

    rnd = random.Random(seed)
    completions = ["已完成", "未完成", "正常推进", "滞后", "已办结", "完成", None, " 未完成 "]
    lights = ["绿灯", "黄灯", "红灯", None, "绿", "黄"]
    periods = [f"{y}Q{q}" for y in (2023, 2024, 2025) for q in range(1, 5)] + \
              [f"{y}-{m:02d}" for y in (2023, 2024, 2025) for m in range(1, 13)]
    rows = list(csv.reader(resources.files("xl_duban.data").joinpath("units2022.csv").read_text(encoding="utf-8")
                           .splitlines()))
    directory = [r[:3] for r in rows]
    spellings = [r[0] for r in rows[1:]] + [a for r in rows[1:] for a in split_list(r[1])]
    base = "组织召开专题推进会，完成项目立项、用地报批和施工图设计，累计完成投资{}万元，占年度计划的{}%。"
    progress = lambda: [[base.format(rnd.randint(100, 9000), rnd.randint(10, 100)) * rnd.randint(1, 3)]  # noqa: E731
                        for _ in range(n)]  # every row its own text, 50-150 characters
    col = lambda values: [[rnd.choice(values)] for _ in range(n)]  # noqa: E731
    received = [[datetime(2024, 4, 1, 9) + timedelta(days=rnd.randint(0, 20), hours=rnd.randint(0, 8))]
                for _ in range(n)]
    due = [[datetime(2024, 4, 10)] if rnd.random() < 0.5 else ["2024Q1"] for _ in range(n)]
    starts = [[datetime(2024, 1, 1) + timedelta(days=rnd.randint(0, 700))] for _ in range(n)]
    return {
        "DUBAN_LIGHT": (col(completions), due, received, col(lights)),
        "DUBAN_STREAK": ([[rnd.choice(lights) for _ in range(4)] for _ in range(n)], col([0.0, 1.0, 2.0, None])),
        "DUBAN_DUE": (col(periods),),
        "DUBAN_CALENDAR_STATUS": (col([2023.0, 2024.0, 2026.0, 2027.0, 2030.0, None]),),
        "DUBAN_WORKDAY": (starts, [[float(rnd.randint(1, 15))] for _ in range(n)]),
        "DUBAN_UNIT": (col(spellings), directory),
        "DUBAN_OVERDUE": (col([datetime(2024, 6, 30), datetime(2024, 12, 31), "年底前", "三季度末", "6月30日前", None,
                               "长期坚持"]), col(["进行中", "已办结", "进行中", None]), datetime(2024, 10, 8), 2024.0),
        "DUBAN_SIMILAR": (progress(), progress()),
    }


def benchmark_rows(n: int = 10_000, repeat: int = 3, cold: bool = True) -> dict[str, float]:
    """Seconds per call of each UDF over ``n`` realistic rows (the best of ``repeat`` calls).

    ``cold``: clear every cache before each call, as after opening the workbook; otherwise
    the caches stay warm, as on a recalculation with the UDF server running.
    """
    inputs = _realistic_inputs(n)
    out = {}
    for name, args in inputs.items():
        fn = FUNCTIONS[name].func
        best = float("inf")
        for _ in range(repeat):
            if cold:
                clear_caches()
            start = time.perf_counter()
            result = fn(*args)
            best = min(best, time.perf_counter() - start)
            if isinstance(result, str) and result.startswith(ERROR):
                raise RuntimeError(f"{name}: {result}")
        out[name] = best
    return out
