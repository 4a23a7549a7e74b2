"""Crash safety (issue 7): a command killed with SIGKILL at any moment leaves the ledger either
exactly as it was or exactly as the finished command leaves it, and it opens cleanly."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from xl_duban.io.ledger_store import LedgerStore
from xl_duban.samples import fill_return
from xl_duban.services import collect_returns, issue_workbooks, light_up, publish_bulletin

from .conftest import ISSUED_AT
from .test_collect import COLLECT_AT, ON_TIME, UNIT, answers_for, received, task_ids_of

pytestmark = [pytest.mark.usefixtures("config_dir"),
              pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")]
KILLS = {"collect": 40, "light": 35, "bulletin": 35}  # ≥ 100 random kill points in all


def contents(ledger: Path) -> dict[str, list]:
    """Every sheet's values, read independently of the code under test."""
    wb = CalamineWorkbook.from_path(str(ledger))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


CHILD = """
import sys
from datetime import datetime
from pathlib import Path
from xl_duban.services import collect_returns, light_up, publish_bulletin

now = datetime.fromisoformat(sys.argv[1])
print("ready", flush=True)
name, home = sys.stdin.readline().rstrip("\\n").split("\\t")
home = Path(home)
if name == "collect":
    outcome = collect_returns(home / "台账.xlsx", [home / "收件"], now=now)
elif name == "light":
    outcome = light_up(home / "台账.xlsx", "2022Q2", now=now)
else:
    outcome = publish_bulletin(home / "台账.xlsx", "2022Q2", home / "通报", now=now)
sys.exit(outcome.exit_code)
"""


class Child:
    """A real process with everything imported, waiting to run one command when told."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD, COLLECT_AT.isoformat()], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, encoding="utf-8")

    def go(self, name: str, home: Path) -> None:
        assert self.proc.stdout.readline().strip() == "ready"
        self.proc.stdin.write(f"{name}\t{home}\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def wait(self) -> int:
        return self.proc.wait(timeout=120)


COMMANDS = {
    "collect": lambda home: collect_returns(home / "台账.xlsx", [home / "收件"], now=COLLECT_AT),
    "light": lambda home: light_up(home / "台账.xlsx", "2022Q2", now=COLLECT_AT),
    "bulletin": lambda home: publish_bulletin(home / "台账.xlsx", "2022Q2", home / "通报", now=COLLECT_AT),
}


@pytest.fixture
def prepared(planned_ledger, tmp_path) -> dict[str, Path]:
    """One folder per command holding the ledger just before that command runs."""
    home = planned_ledger.parent
    out = tmp_path / "下发"
    assert issue_workbooks(planned_ledger, "2022Q2", out, now=ISSUED_AT).exit_code == 0
    workbook = out / f"2022Q2_{UNIT}_重点任务反馈表.xlsx"
    received(fill_return(workbook, home / "收件" / workbook.name, answers_for(task_ids_of(workbook))), ON_TIME)
    states = {}
    for name, command in COMMANDS.items():
        snapshot = tmp_path / f"before-{name}"
        shutil.copytree(home, snapshot, ignore=shutil.ignore_patterns("台账备份"))
        states[name] = snapshot
        assert command(home).exit_code == 0  # the next command starts from this one's result
    return states


def test_sigkill_at_random_points_leaves_the_old_or_the_new_ledger(prepared, tmp_path):
    rnd = random.Random(20261122)
    tally = {}
    spare = Child()  # the next child imports while the current one runs
    for name, kills in KILLS.items():
        before = prepared[name]
        # the finished result, and how long the command takes from start to end
        done = tmp_path / f"done-{name}"
        shutil.copytree(before, done)
        child, spare = spare, Child()
        child.go(name, done)
        started = time.monotonic()
        assert child.wait() == 0
        duration = time.monotonic() - started
        old, new = contents(before / "台账.xlsx"), contents(done / "台账.xlsx")
        assert old != new
        outcomes = {"old": 0, "new": 0}
        for n in range(kills):
            home = tmp_path / f"kill-{name}-{n}"
            shutil.copytree(before, home)
            child, spare = spare, Child()
            child.go(name, home)
            time.sleep(rnd.uniform(0, duration * 1.1))
            child.kill()
            state = contents(home / "台账.xlsx")
            assert state in (old, new), f"{name}: kill {n} left a ledger that is neither the old nor the new one"
            outcomes["old" if state == old else "new"] += 1
            LedgerStore(home / "台账.xlsx").load()  # opens cleanly through the store as well
            shutil.rmtree(home)
        tally[name] = outcomes
        # after a kill the command simply runs again: the dead process's lock and temp file are swept
        home = tmp_path / f"rerun-{name}"
        shutil.copytree(before, home)
        child, spare = spare, Child()
        child.go(name, home)
        time.sleep(duration * 0.8)
        child.kill()
        assert COMMANDS[name](home).exit_code == 0
        assert contents(home / "台账.xlsx") == new
        assert not list(home.glob(".~*"))  # no lock or temp file left behind
    spare.kill()
    print("\nSIGKILL outcomes (old ledger / completed ledger):", tally, file=sys.stderr)
    assert sum(t["old"] for t in tally.values()) > 0 and sum(t["new"] for t in tally.values()) > 0
