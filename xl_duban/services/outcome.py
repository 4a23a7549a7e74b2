"""What every use case returns, and how a bad argument becomes one."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from ..domain.cells import parse_cell_date
from ..domain.findings import Finding, error, has_errors
from ..domain.models import TaskKind
from ..domain.periods import Period

Progress = Callable[[str, int, int], None]  # (label, done, total)


@dataclass
class Outcome:
    """What a use case did: a summary for people and machines, and its findings."""

    summary: dict = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    unreadable: bool = False  # some input could not be read at all → exit code 2
    failed: bool = False  # a check failed that is no finding about a ledger (duban doctor's ✘) → exit code 1

    @property
    def exit_code(self) -> int:
        """DESIGN §9: 2 unreadable input, 1 findings at error level (or a failed check), else 0."""
        if self.unreadable:
            return 2
        return 1 if self.failed or has_errors(self.findings) else 0

    def as_dict(self) -> dict:
        return {"ok": self.exit_code == 0, "exit_code": self.exit_code, **self.summary,
                "findings": [f.as_dict() for f in self.findings]}


class BadInput(Exception):
    """An argument the user typed cannot be used; carries the Outcome to report (exit 2)."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.outcome = Outcome(findings=[finding], unreadable=True)


def reports_bad_input(service: Callable[..., Outcome]) -> Callable[..., Outcome]:
    """Turn a :class:`BadInput` raised inside a service into its Outcome."""

    @functools.wraps(service)
    def wrapper(*args, **kwargs) -> Outcome:
        try:
            return service(*args, **kwargs)
        except BadInput as exc:
            return exc.outcome

    return wrapper


def period_argument(text: str) -> Period:
    """The period a user typed (2024Q1, 2024-03, 2024年第一季度 …), or :class:`BadInput`."""
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise BadInput(error("bad-period", str(exc), hint="季度写作 2024Q1，月份写作 2024-03。")) from exc


def date_argument(text: str | date | None) -> date | None:
    """A date the user typed (``--date 2024-04-15``, 2024年4月15日), None when not given, or
    :class:`BadInput`."""
    if text is None or isinstance(text, date) or not text.strip():
        return text or None
    day = parse_cell_date(text.strip())
    if day is None:
        raise BadInput(error("bad-date-option", f"日期“{text}”无法识别。", hint="日期写作 2024-04-15（或 2024年4月15日）。"))
    return day


KIND_ARGUMENTS = {"key": TaskKind.key, "livelihood": TaskKind.livelihood}


def kind_argument(text: str | None) -> TaskKind | None:
    """``--kind key|livelihood`` (None when not given), or :class:`BadInput`."""
    if not text:
        return None
    kind = KIND_ARGUMENTS.get(text.strip().lower())
    if kind is None:
        raise BadInput(error("usage-error", f"类别“{text}”无效，应为 key（重点任务）或 livelihood（民生实事）。"))
    return kind
