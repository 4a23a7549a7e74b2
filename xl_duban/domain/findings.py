"""Findings: every check in xl_duban reports problems as data, never as exceptions.

Modelled on beancount's error records and frictionless' located errors: a finding
names *where* (file, sheet, Excel row, column header), *what* (a stable kebab-case
code and a Chinese sentence a clerk understands) and *how to fix it* (a hint).
"""

from __future__ import annotations

from enum import Enum
from typing import Iterable

from pydantic import BaseModel, ConfigDict


class Level(str, Enum):
    """Severity. Only ``error`` makes a command exit 1 (DESIGN §9)."""

    error = "错误"
    warning = "警告"
    info = "提示"


class Finding(BaseModel):
    """One located problem (DESIGN §7).

    ``row`` is the Excel row number (1-based, header included) or the table row in a
    Word document; ``column`` is the header text, never a column letter, because
    users insert and move columns.
    """

    model_config = ConfigDict(frozen=True)

    code: str
    level: Level
    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""
    file: str = ""
    hint: str = ""
    subject: str = ""  # what the finding is about, e.g. "2024-ZD-001 2024Q1", for cross-referencing

    def location(self) -> str:
        """Human-readable location, e.g. ``台账.xlsx › 任务台账 › 第12行 › 【牵头单位】``."""
        parts = [p for p in (self.file, self.sheet) if p]
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"【{self.column}】")
        return " › ".join(parts)

    def text(self) -> str:
        """Message plus fix hint, as written into 校验结果 and printed by the CLI."""
        return f"{self.message}（建议：{self.hint}）" if self.hint else self.message

    def as_dict(self) -> dict:
        """JSON shape used by ``--json`` (stable keys, Chinese level label)."""
        return {
            "code": self.code,
            "level": self.level.value,
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "hint": self.hint,
            "subject": self.subject,
        }


def error(code: str, message: str, **where) -> Finding:
    """Shorthand for an error-level finding."""
    return Finding(code=code, level=Level.error, message=message, **where)


def warning(code: str, message: str, **where) -> Finding:
    """Shorthand for a warning-level finding."""
    return Finding(code=code, level=Level.warning, message=message, **where)


def info(code: str, message: str, **where) -> Finding:
    """Shorthand for an info-level finding."""
    return Finding(code=code, level=Level.info, message=message, **where)


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding is at error level (exit code 1 per DESIGN §9)."""
    return any(f.level is Level.error for f in findings)


def count_by_level(findings: Iterable[Finding]) -> dict[str, int]:
    """Counts keyed by the Chinese level label, zero-filled, for summaries."""
    counts = {lvl.value: 0 for lvl in Level}
    for f in findings:
        counts[f.level.value] += 1
    return counts
