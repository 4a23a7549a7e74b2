"""Shared fixtures: seed documents rebuilt as real files, fresh ledgers, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from xl_duban.samples import SeedTable, parse_flattened_tables, parse_prose

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO.parent / "shared" / "seeds"
NOW = datetime(2022, 3, 1, 9, 30)
ISSUED_AT = datetime(2022, 6, 25, 9, 0)


def seed_text(name: str) -> str:
    """A seed document from ../shared/seeds (the real source), falling back to the bundled copy."""
    files = {"lists": ("000_4fa9b783bb75d894.txt", "seed2022_lists.txt"),
             "division": ("001_8f97faddad606658.txt", "seed2022_division.txt")}[name]
    shared = SEEDS / files[0]
    if shared.exists():
        return shared.read_text(encoding="utf-8")
    return (REPO / "xl_duban" / "data" / files[1]).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seed_tables() -> dict[str, SeedTable]:
    return {t.attachment: t for t in parse_flattened_tables(seed_text("lists")) if t.attachment}


@pytest.fixture(scope="session")
def division_paragraphs() -> list[str]:
    return parse_prose(seed_text("division"))


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    """A fresh 2022 ledger with the bundled 单位名录 imported."""
    from xl_duban.demo import write_unit_directory
    from xl_duban.services import import_files, init_ledger

    path = tmp_path / "台账.xlsx"
    init_ledger(path, 2022, now=NOW)
    units = write_unit_directory(tmp_path / "单位名录.xlsx", now=NOW)
    outcome = import_files(path, [units], now=NOW)
    assert outcome.exit_code == 0, outcome.findings
    return path


@pytest.fixture
def config_dir(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "config"
    monkeypatch.setenv("XL_DUBAN_CONFIG_DIR", str(path))
    return path


@pytest.fixture
def planned_ledger(ledger, tmp_path, seed_tables) -> Path:
    """The 2022 lists imported; Q2 targets for every key task; Q1 progress from 区发展和改革局."""
    from xl_duban.io.ledger_store import LedgerStore
    from xl_duban.domain.models import Feedback, NodeTarget
    from xl_duban.samples import write_tables_docx
    from xl_duban.services import import_files

    docs = [write_tables_docx([seed_tables["附件2"]], tmp_path / "附件2.docx"),
            write_tables_docx([seed_tables["附件3"]], tmp_path / "附件3.docx")]
    assert import_files(ledger, docs, now=NOW).exit_code == 0
    store = LedgerStore(ledger)
    led, _ = store.load()
    for task in led.tasks:
        if task.kind == "重点任务":
            led.targets.append(NodeTarget(task_id=task.id, period="2022Q2", target=f"{task.id}二季度目标", status="已确认"))
    led.feedback.append(Feedback(task_id="2022-ZD-001", period="2022Q1", unit="区发展和改革局", completion="未完成",
                                 progress="一季度GDP增长5.1%"))
    store.save(led, now=NOW)
    return ledger


def add_targets(ledger: Path, period: str, *, status: str = "已确认", only=None) -> list[str]:
    """Node targets for ``period`` on every reportable task of its kind (or the ids in ``only``),
    as the targets round and ``duban confirm`` leave them; returns the task ids. ``issue``
    lists only tasks with a confirmed target for the period."""
    from xl_duban.domain.issuing import reportable_tasks
    from xl_duban.domain.models import NodeTarget, TaskKind
    from xl_duban.domain.periods import Period
    from xl_duban.io.ledger_store import LedgerStore

    store = LedgerStore(ledger)
    led, _ = store.load()
    have = {(t.task_id, t.period) for t in led.targets}
    ids = [t.id for t in reportable_tasks(led, TaskKind.reporting_in(Period.parse(period))) if only is None or t.id in only]
    led.targets += [NodeTarget(task_id=i, period=period, target=f"{i}节点目标", status=status)
                    for i in ids if (i, period) not in have]
    store.save(led, now=NOW)
    return ids


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real ``duban`` entry point in a subprocess."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "xl_duban.cli", *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd, env=env, timeout=300)


def run_json(*args: str) -> tuple[int, dict]:
    proc = run_cli(*args, "--json")
    try:
        return proc.returncode, json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"not JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


@pytest.fixture(scope="session")
def demo_year(tmp_path_factory) -> Path:
    """The demo's year (targets, 2022-01 … 2022-06 and 2022Q1, 2022Q2 collected, lit and
    published), built once per test run: tests copy its ledger before changing anything."""
    import os

    from xl_duban.demo import run_demo

    out = tmp_path_factory.mktemp("demo-year")
    old = os.environ.get("XL_DUBAN_CONFIG_DIR")
    os.environ["XL_DUBAN_CONFIG_DIR"] = str(out / "config")
    try:
        outcome = run_demo(out, now=NOW)
    finally:
        if old is None:
            del os.environ["XL_DUBAN_CONFIG_DIR"]
        else:
            os.environ["XL_DUBAN_CONFIG_DIR"] = old
    assert outcome.exit_code == 0
    return out
