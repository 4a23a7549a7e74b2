"""Two commands on one ledger at once: the second waits for the first (or refuses), nothing is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xl_duban.io import lock
from xl_duban.io.ledger_store import LedgerError, LedgerStore
from xl_duban.samples import fill_return
from xl_duban.services import issue_workbooks, light_up

from .conftest import ISSUED_AT, run_cli
from .test_collect import COLLECT_AT, ON_TIME, UNIT, answers_for, received, task_ids_of

pytestmark = pytest.mark.usefixtures("config_dir")

HOLD = """
import sys, time
from pathlib import Path
from xl_duban.io import lock
lock.acquire(Path(sys.argv[1]), command="duban 测试占用")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
lock.release(Path(sys.argv[1]))
"""


def hold(ledger: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(ledger), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_command_waits_for_the_first(planned_ledger):
    holder = hold(planned_ledger, 2.0)
    started = time.monotonic()
    outcome = light_up(planned_ledger, "2022Q2", now=COLLECT_AT)
    waited = time.monotonic() - started
    holder.wait(timeout=30)
    assert outcome.exit_code == 0
    assert waited >= 1.0  # it did not run while the other held the ledger
    assert not lock.lock_path(planned_ledger.resolve()).exists()


def test_refuses_with_a_clear_message_when_the_wait_runs_out(planned_ledger, monkeypatch):
    monkeypatch.setattr(lock, "WAIT_SECONDS", 0.5)
    before = planned_ledger.read_bytes()
    holder = hold(planned_ledger, 5.0)
    try:
        with pytest.raises(LedgerError, match="另一个督办命令正在修改台账.*duban 测试占用"):
            light_up(planned_ledger, "2022Q2", now=COLLECT_AT)
    finally:
        holder.kill()
        holder.wait()
    assert planned_ledger.read_bytes() == before
    # the holder was killed: its lock is stale and the next command takes it over
    assert light_up(planned_ledger, "2022Q2", now=COLLECT_AT).exit_code == 0


def test_two_commands_started_together_both_land(planned_ledger, tmp_path):
    out = tmp_path / "下发"
    assert issue_workbooks(planned_ledger, "2022Q2", out, now=ISSUED_AT).exit_code == 0
    workbook = out / f"2022Q2_{UNIT}_重点任务反馈表.xlsx"
    inbox = tmp_path / "收件"
    received(fill_return(workbook, inbox / workbook.name, answers_for(task_ids_of(workbook))), ON_TIME)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    base = [sys.executable, "-m", "xl_duban.cli"]
    procs = [subprocess.Popen([*base, "collect", str(planned_ledger), str(inbox), "--json"], stdout=subprocess.PIPE, env=env),
             subprocess.Popen([*base, "light", str(planned_ledger), "--period", "2022Q2", "--json"], stdout=subprocess.PIPE,
                              env=env)]
    results = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    led, _ = LedgerStore(planned_ledger).load()
    assert any(f.period == "2022Q2" and f.unit == UNIT for f in led.feedback)  # collect's work is there
    assert any(r.period == "2022Q2" for r in led.lights)  # and so is light's
    actions = {e.action for e in led.changelog}
    assert {"收集文件", "亮灯"} <= actions
