"""Use cases: the same code behind the ``duban`` command line and the Excel ribbon.

One module per use case, each over one :func:`~xl_duban.services.session.session` (lock,
load once, findings to 校验结果, save once). A service returns an :class:`Outcome` — a
JSON-able summary plus findings — never prints and never reads the clock: the caller
passes ``now``. Its first argument is a ledger path (the command line) or a store already
open on the live book (the ribbon).

This package is the public API: the command line, the ribbon, the demo, the tests and the
benchmarks import these names only. They load on first use, so ``duban --help`` starts
without openpyxl, pandas or lxml.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_HOMES = {
    "Outcome": "outcome", "BadInput": "outcome", "Progress": "outcome", "KIND_ARGUMENTS": "outcome",
    "Session": "session", "due_dates": "session", "findings_to_rows": "session",
    "init_ledger": "importing", "build_template": "importing", "import_files": "importing",
    "validate_ledger": "validating",
    "issue_workbooks": "issuing", "TARGETS_DAYS": "issuing",
    "send_workbooks": "mail", "remind_units": "mail",
    "collect_returns": "collecting", "read_and_check": "collecting", "COLLECT_SHEETS": "collecting",
    "light_up": "lighting",
    "publish_bulletin": "bulletin", "publish_public": "publishing", "brief_leaders": "briefing",
    "score_units": "scoring", "rollover_ledger": "rollover",
    "confirm_node_targets": "confirming",
    "check_environment": "doctor",
}

__all__ = sorted([*_HOMES, "LedgerError"])

if TYPE_CHECKING:  # what the names are, for readers and type checkers
    from ..errors import LedgerError
    from .briefing import brief_leaders
    from .bulletin import publish_bulletin
    from .collecting import COLLECT_SHEETS, collect_returns, read_and_check
    from .confirming import confirm_node_targets
    from .doctor import check_environment
    from .importing import build_template, import_files, init_ledger
    from .issuing import TARGETS_DAYS, issue_workbooks
    from .lighting import light_up
    from .publishing import publish_public
    from .mail import remind_units, send_workbooks
    from .rollover import rollover_ledger
    from .scoring import score_units
    from .outcome import KIND_ARGUMENTS, BadInput, Outcome, Progress
    from .session import Session, due_dates, findings_to_rows
    from .validating import validate_ledger


def __getattr__(name: str):
    """Load the module of a public name on first use (PEP 562)."""
    if name == "LedgerError":
        from ..errors import LedgerError

        return LedgerError
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
