"""Next year's ledger from this year's: what carries over and what starts again.

The office's units, their e-mail addresses and its own rules (设置) outlive the year; the
year's record (node targets, returns, lights, bulletins) does not — each year is assessed on
its own, and the 期号 of the bulletins starts again at 起始期号. Tasks not finished when the
year ends may go on as tasks of the new year (``--carry``): the work report lists them again,
and the 督查室 supervises them as new tasks with a note of where they came from. Pure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from .cells import parse_cell_date
from .models import TASK_ID, ChangeLogEntry, Holiday, Ledger, Setting, Task, TaskStatus
from .settings import BY_KEY

CARRY = "结转"  # 变更日志 操作 of a task carried into the new year


def carried_note(old_id: str, note: str) -> str:
    return f"结转自 {old_id}" + (f"；{note}" if note.strip() else "")


def carry_tasks(tasks: Iterable[Task], year: int) -> list[tuple[str, Task]]:
    """(old id, new task) of every task neither 已办结 nor 已取消, renumbered in ledger order:
    ``Y-ZD-001`` …, ``Y-MS-01`` …; a 民生实事 sub-item keeps its number under its project's new
    id, and a project is carried when any of its sub-items is (it holds their name)."""
    tasks = [t for t in tasks if t.id and TASK_ID.match(t.id)]
    finished = (TaskStatus.done.value, TaskStatus.cancelled.value)
    open_ids = {t.id for t in tasks if t.status not in finished}
    needed = open_ids | {t.parent_id for t in tasks if t.id in open_ids and t.parent_id}
    counters = {"ZD": 0, "MS": 0}
    renamed: dict[str, str] = {}
    out: list[tuple[str, Task]] = []
    for task in tasks:
        if task.id not in needed:
            continue
        m = TASK_ID.match(task.id)
        code, sub = m.group(2), m.group(4)
        parent = task.parent_id
        if sub and parent in renamed:
            new_id = f"{renamed[parent]}-{sub}"
        else:
            counters[code] += 1
            new_id = f"{year}-{code}-{counters[code]:03d}" if code == "ZD" else f"{year}-MS-{counters[code]:02d}"
            renamed[task.id] = new_id
        new = task.model_copy(deep=True, update={"id": new_id, "note": carried_note(task.id, task.note or ""),
                                                  "status": TaskStatus.open.value if task.status in finished else task.status,
                                                  "row": None})
        out.append((task.id, new))
    return out


def settings_rows(old: Iterable[Setting], year: int) -> list[tuple[str, Any]]:
    """(项目, 值) of the new year's 设置: every value the office set, 年度 the new year."""
    rows = [(r.key, r.value) for r in old if r.key and r.key != "年度" and r.key in BY_KEY]
    return [("年度", year), *rows]


def holidays_from(old: Iterable[Holiday], year: int) -> list[Holiday]:
    """The 节假日 rows of ``year`` and later (the office may have typed next year's already)."""
    out = []
    for h in old:
        day = parse_cell_date(h.day)
        if day is not None and day.year >= year:
            out.append(h.model_copy(update={"row": None}))
    return out


def roll_over(old: Ledger, new: Ledger, year: int, *, carry: bool, now: datetime, source: str) -> list[tuple[str, Task]]:
    """Fill ``new`` (a fresh ledger of ``year``) from ``old``: 单位名录, 设置, 节假日 and, with
    ``carry``, the unfinished tasks (each logged in 变更日志). Returns the carried tasks."""
    new.units = [u.model_copy(deep=True, update={"row": None}) for u in old.units]
    for key, value in settings_rows(old.settings, year):
        new.set_setting(key, value)
    new.holidays = holidays_from(old.holidays, year)
    carried = carry_tasks(old.tasks, year) if carry else []
    new.tasks = [task for _old, task in carried]
    new.changelog.extend(ChangeLogEntry(time=now, action=CARRY, object=task.id, field="任务编号", old=old_id, new=task.id,
                                        source=source) for old_id, task in carried)
    return carried
