"""``duban rollover``: next year's ledger, made from this year's (this year's is only read)."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

from ..domain.findings import error
from ..errors import LedgerError
from .outcome import BadInput, Outcome, reports_bad_input


@reports_bad_input
def rollover_ledger(old_path: Path, new_path: Path, year: int, *, carry: bool = False, now: datetime) -> Outcome:
    """``duban rollover``: a new ledger of ``year`` (.xlsx, or .xlsm from the template) with
    the old one's 单位名录, 设置 (年度 changed; 期号 start again) and 节假日 of ``year`` on,
    and with ``carry`` its unfinished tasks under new ids. The old ledger is read, never
    written; the new one appears whole or not at all."""
    from ..domain.rollover import roll_over
    from ..excel.template import TEMPLATE
    from ..io.ledger_store import LedgerStore, create_ledger

    old_path, new_path = Path(old_path), Path(new_path)
    if not old_path.is_file():
        raise BadInput(error("ledger-unavailable", f"找不到台账“{old_path}”。", hint="检查文件名和路径。"))
    if not 2000 <= year <= 2100:
        raise BadInput(error("bad-year", f"年度“{year}”无效，请填写四位年份。"))
    if new_path.exists():
        raise BadInput(error("usage-error", f"“{new_path.name}”已存在，为防止覆盖未新建。", hint="换一个文件名，或先移走原文件。"))
    old, findings = LedgerStore(old_path).load()
    if old.year is not None and year <= old.year:
        raise BadInput(error("usage-error", f"“{old_path.name}”是{old.year}年度的台账，新台账的年度应在其后（如 {old.year + 1}）。",
                             hint=f"改用 --year {old.year + 1}。"))
    new_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=new_path.parent, prefix=".~duban-rollover-") as work:
        draft = Path(work) / new_path.name  # its save's backup stays in the scratch folder
        create_ledger(draft, year, now=now, template=TEMPLATE)
        store = LedgerStore(draft)
        new, _ = store.load()
        carried = roll_over(old, new, year, carry=carry, now=now, source=f"duban rollover {old_path.name}")
        store.save(new, now=now)
        if new_path.exists():
            raise LedgerError(f"“{new_path.name}”在生成期间被建立，为防止覆盖未替换。")
        os.replace(draft, new_path)
    summary = {"old": str(old_path), "ledger": str(new_path), "year": year, "units": len(new.units),
               "holidays": len(new.holidays), "carried": [{"from": old_id, "to": task.id} for old_id, task in carried]}
    return Outcome(summary=summary, findings=[f for f in findings if f.level.value == "错误"])
