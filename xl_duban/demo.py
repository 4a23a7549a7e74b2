"""``duban demo``: a realistic ledger built from the bundled 2022 documents of the real process.

The demo goes through the same doors a clerk uses: it writes the Word attachments as the
office receives them (with a header row repeated at page breaks, padded and wrapped names),
a unit directory workbook, then runs ``init``, ``import`` and ``validate``.
"""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from importlib import resources
from pathlib import Path

from openpyxl import Workbook

from .domain.models import TaskKind
from .io.ledger_store import BACKUP_DIR, LedgerStore, atomic_save
from .samples import seed_2022_tables, write_tables_docx
from .services import Outcome, Progress, import_files, init_ledger, validate_ledger

DEMO_YEAR = 2022
LEDGER_NAME = f"{DEMO_YEAR}年督查台账.xlsx"


def write_unit_directory(path: Path, *, now: datetime) -> Path:
    """The bundled 单位名录 as the .xlsx a clerk would keep."""
    wb = Workbook()
    ws = wb.active
    ws.title = "单位名录"
    text = resources.files("xl_duban.data").joinpath("units2022.csv").read_text(encoding="utf-8")
    for row in csv.reader(text.splitlines()):
        ws.append(row)
    atomic_save(wb, path, now=now)
    return path


def run_demo(out_dir: Path, *, now: datetime, progress: Progress | None = None) -> Outcome:
    """Build ``out_dir``/来文 (source documents) and ``out_dir``/2022年督查台账.xlsx."""
    out_dir.mkdir(parents=True, exist_ok=True)
    inbox = out_dir / "来文"
    tables = seed_2022_tables()
    sources = [
        write_unit_directory(inbox / "单位名录.xlsx", now=now),
        write_tables_docx([tables["附件2"]], inbox / "附件2 2022年区政府工作报告督查重点任务清单.docx", repeat_header_every=30),
        write_tables_docx([tables["附件3"]], inbox / "附件3 2022年区十件民生实事任务分解表.docx"),
    ]
    ledger_path = out_dir / LEDGER_NAME
    if ledger_path.exists():  # the demo starts from a fresh ledger; the old one goes to the backups
        backup_dir = ledger_path.parent / BACKUP_DIR
        backup_dir.mkdir(exist_ok=True)
        shutil.move(ledger_path, backup_dir / f"{ledger_path.stem}.{now:%Y%m%d-%H%M%S-%f}{ledger_path.suffix}")
    init_ledger(ledger_path, DEMO_YEAR, now=now)
    imported = import_files(ledger_path, sources, now=now, progress=progress)
    checked = validate_ledger(ledger_path, now=now)
    ledger, _ = LedgerStore(ledger_path).load()
    key = [t for t in ledger.tasks if t.kind == TaskKind.key.value]
    livelihood = [t for t in ledger.tasks if t.kind == TaskKind.livelihood.value]
    summary = {
        "ledger": str(ledger_path),
        "sources": [str(p) for p in sources],
        "key_tasks": len(key),
        "livelihood_projects": sum(1 for t in livelihood if t.parent_id is None),
        "livelihood_subitems": sum(1 for t in livelihood if t.parent_id is not None),
        "units": len(ledger.units),
        "leaders": sorted({name for t in ledger.tasks for name in t.leaders}),
        "import_findings": len(imported.findings),
        "validation": checked.summary["counts"],
    }
    return Outcome(summary=summary, findings=imported.findings + checked.findings,
                   unreadable=imported.unreadable)
