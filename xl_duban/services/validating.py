"""``duban validate``: every rule over the ledger, into 校验结果 and onto the cells."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..domain.findings import Finding, count_by_level
from ..domain.models import Ledger
from ..domain.rules import Context, validate
from .outcome import Outcome
from .session import Store, session, source_file_rows


def check_ledger(ledger: Ledger, file: str, now: datetime, load_findings: list[Finding] = ()) -> list[Finding]:
    """Validation findings; blank cells of a column that is missing altogether are not repeated
    row by row (the one missing-column finding says it all)."""
    missing = {(f.sheet, f.column) for f in load_findings if f.code == "missing-column"}
    return [f for f in validate(ledger, Context(file=file, today=now.date()))
            if not (f.code == "required-field" and (f.sheet, f.column) in missing)]


def validate_ledger(ledger_path: Path | Store, *, now: datetime) -> Outcome:
    """``duban validate``: run every rule over the whole ledger, write 校验结果, highlight cells
    (and clear fixed ones). The findings an import made about its source files stay listed
    (:func:`~xl_duban.services.session.source_file_rows`): validate cannot see those files."""
    with session(ledger_path, "validate", now) as s:
        findings = s.findings + check_ledger(s.ledger, s.file, now, s.findings)
        s.save(validation=findings, keep=source_file_rows(s.ledger), highlights=findings, skip_incomplete=True, report=True)
        counts = count_by_level(findings)
        return Outcome(summary={"ledger": str(s.path), "counts": counts, "tasks": len(s.ledger.tasks),
                                "units": len(s.ledger.units)}, findings=findings)
