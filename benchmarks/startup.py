"""Whole-process start-up of the command line: ``duban --help`` and ``duban validate LEDGER``.

Every ribbon click and every ``duban`` starts a fresh Python, so this is what a clerk feels on
each button. Each command runs ``--repeat`` times as a new process, the checkouts interleaved; the
median wall time (and the range) is printed. ``--checkout DIR`` runs another checkout of the project (e.g. a ``git worktree`` of the
commit before a change) with the same interpreter, so before and after are timed in one run
on one machine::

    git worktree add /tmp/before 4f5b628
    python -m benchmarks.startup --ledger 演示/2022年督查台账.xlsx --checkout /tmp/before --checkout .
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENTRY = "import sys; from xl_duban.cli import main; sys.argv[0] = 'duban'; main()"


def timed(checkout: Path, args: list[str], repeat: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(checkout.resolve())}
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        # run from a neutral folder: `python -c` puts the current folder first on sys.path
        proc = subprocess.run([sys.executable, "-c", ENTRY, *args], env=env, capture_output=True, cwd=tempfile.gettempdir())
        times.append(time.perf_counter() - t0)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{checkout}: duban {' '.join(args)} failed:\n{proc.stderr.decode(errors='replace')}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", type=Path, required=True, help="a ledger to validate (a copy is used)")
    parser.add_argument("--checkout", type=Path, action="append", required=True, help="project checkout(s) to time")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("| checkout | duban --help (median s) | duban validate (median s) |")
    print("|---|---|---|")
    times = {c: {"help": [], "validate": []} for c in args.checkout}
    with tempfile.TemporaryDirectory() as tmp:
        ledgers = {}
        for checkout in args.checkout:
            ledgers[checkout] = Path(tmp) / checkout.resolve().name / args.ledger.name
            ledgers[checkout].parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(args.ledger, ledgers[checkout])
        for _ in range(args.repeat):  # interleaved: a machine that gets busier slows every checkout alike
            for checkout in args.checkout:
                times[checkout]["help"] += timed(checkout, ["--help"], 1)
                times[checkout]["validate"] += timed(checkout, ["validate", str(ledgers[checkout])], 1)
    for checkout, t in times.items():
        helps, validates = t["help"], t["validate"]
        print(f"| {checkout} | {statistics.median(helps):.3f} ({min(helps):.3f}–{max(helps):.3f}) "
              f"| {statistics.median(validates):.3f} ({min(validates):.3f}–{max(validates):.3f}) |")


if __name__ == "__main__":
    main()
