"""``python -m benchmarks.run --scale district|city|province [--runs 3] [--out DIR] [--profile]``

One run plays the office's quarter on the synthetic year of :mod:`benchmarks.synthetic`
through the services the ``duban`` command line uses, on a fresh copy of the cached ledger:

1. 下发 — ``issue_workbooks`` for 2022Q4: one signed workbook per unit with key tasks.
2. The units fill them (``simulation.answers_for`` + ``samples.fill_return``, not timed; the
   filled files are cached beside the ledger and reused while the issues are the same).
3. 收集 — ``collect_returns`` on the inbox folder of all returns. Timed whole, and split into
   the stages it marks: the ledger load and save, and reading and checking the returns
   (``gather`` + ``accepted_hashes`` + ``read_and_check``: what the command spends on them,
   and what the baselines are compared with). The floor (below) is timed
   just before and just after it, on the same files. Then the same reading and checking
   once more on its own (``services.read_and_check``, nothing to overlap; information only),
   where the readers' peak memory is read.
4. 亮灯 — ``light_up`` for 2022Q4 and for 2022-12: each recomputes its cadence's whole
   history, so together they light all 16 periods. The pure domain part
   (``light_tasks`` for both cadences on the loaded ledger) is timed on its own.
5. 通报 — ``publish_bulletin`` for 2022Q4 (document, 整改通知书, 约谈名单, ledger sheet).
6. 台账读写 — ``LedgerStore.load`` + ``save`` of the full-year ledger the cycle leaves.
7. UDFs — ``udfs.benchmark_rows(n=10_000)`` when the package provides it.
8. Baselines on the same returned files: python-calamine reading every sheet's values (the
   floor, timed around the collect: this machine's speed drifts by a third over tens of
   seconds, and a floor timed minutes later compared the collect with another machine) and
   ``pandas.read_excel(sheet_name=None, engine="openpyxl")`` (the naive way, after the cycle
   so pandas' memory is not counted in it). The ratio to the floor is each run's read+check
   in collect over its own floor (the quicker of the two timings), the median over runs.

Parts of a stage come from the code's own marks (:func:`xl_duban.timing.stage`, recorded with
:func:`xl_duban.timing.recording`); nothing in ``xl_duban`` is patched.

Every run is its own process (so peak memory is per run); with ``--runs N`` the table shows
medians. Peak memory: the process's peak RSS is reset before each stage (``/proc/self/clear_refs``)
and read after it (``VmHWM``); the readers' own ``VmHWM`` is read (``ReadPool.pids``) after they
read the same returns on their own, and the cycle's peak adds them to the main process's. ``--profile``
runs once in this process with cProfile around every stage and writes the top functions
(cumulative and own seconds) into the out dir.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import importlib
import io
import json
import os
import platform
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path(os.environ.get("TMPDIR", "/tmp")) / "xl_duban-bench"
RESULTS_VERSION = 1

# targets of issue 6 (province scale, this 2-core machine); read + check means what ``duban collect``
# spends reading and checking inside the command (the stand-alone ratio is information only)
TARGETS = {
    "load_save": 5.0,
    "issue": 10.0,
    "read_check_vs_floor": 1.5,
    "naive_vs_read_check": 10.0,
    "light_domain": 0.3,
    "bulletin": 2.0,
    "udf": 0.050,
    "peak_mb": 500.0,
}


# -- measuring ---------------------------------------------------------------------------------------
def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    """Reset this process's peak RSS to its current RSS (Linux ≥ 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def trim_heap() -> bool:
    """Give the memory earlier stages freed back to the OS (glibc ``malloc_trim``), as the end
    of their process would: each ``duban`` command is a process of its own, while this
    benchmark plays them in one. What earlier stages still hold (imported modules, caches)
    stays, so the peaks remain on the high side. False where there is no glibc."""
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


def peak_mb() -> float:
    """Peak RSS since the last :func:`reset_peak` (VmHWM), else since the process started."""
    kb = _status_kb("VmHWM")
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kb / 1024, 1)


def children_peak_mb() -> float:
    """Largest peak RSS of any finished child process. On Linux a child's ru_maxrss also counts
    the parent's pages it shared between fork and exec, so it overstates a small child of a big
    parent: :func:`read_check_alone` reads the readers' own VmHWM instead where /proc exists."""
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


def process_peak_mb(pid: int) -> float | None:
    """Another process's peak RSS (VmHWM of its /proc entry), None where there is none."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            kb = next((int(line.split()[1]) for line in fh if line.startswith("VmHWM:")), None)
    except OSError:
        return None
    return None if kb is None else round(kb / 1024, 1)


def read_check_alone(rec: "Recorder", inbox: Path, ledger_path: Path) -> list[float]:
    """Stage ``read_check_alone``: collect's reading and checking of the inbox against the ledger
    as it was before the collect (``services.read_and_check``, the public helper), with the
    benchmark's own readers started and ready and no ledger load to overlap. Printed for
    information only (no target: the target is what the command spends on it, see
    :func:`read_check`). It reads the same files as the collect's readers, so the readers' own
    peak memory is read here, before the pool ends them; returned in MB. A function of its own,
    so the ledger it loads is gone before the next stage's peak memory."""
    from xl_duban import services
    from xl_duban.io.guard import ReadPool
    from xl_duban.io.ledger_store import LedgerStore

    ledger, _findings = LedgerStore(ledger_path).load()
    with ReadPool() as pool:
        pool.start()
        for worker in pool.workers:  # wait until each reader has imported its modules, as collect's have by now
            worker.call(len, b"")
        with rec.stage("read_check_alone") as st:
            verdicts = services.read_and_check([inbox], ledger_path, ledger, pool)
        peaks = [process_peak_mb(pid) for pid in pool.pids()]
    st["counts"] = {"files": len(verdicts), "accepted": sum(1 for v in verdicts if v is not None and v.accepted)}
    return [p for p in peaks if p is not None] or [children_peak_mb()]


LOAD, SAVE = "台账读取 load", "台账保存 save"  # the services' session marks them


class Recorder:
    """Stage results of one run: seconds, peak MB, counts, and the parts the code marks with
    :func:`xl_duban.timing.stage` while the stage runs; optional cProfile per stage."""

    def __init__(self, profile_dir: Path | None = None) -> None:
        self.stages: dict[str, dict] = {}
        self.profile_dir = profile_dir

    @contextmanager
    def stage(self, name: str) -> Iterator[dict]:
        from xl_duban.timing import recording

        gc.collect()
        trim_heap()
        reset_peak()
        entry: dict = {"counts": {}, "rss_start_mb": round((_status_kb("VmRSS") or 0) / 1024, 1)}
        profiler = cProfile.Profile() if self.profile_dir else None
        with recording() as times:
            t0 = time.perf_counter()
            if profiler:
                profiler.enable()
            try:
                yield entry
            finally:
                if profiler:
                    profiler.disable()
                seconds = time.perf_counter() - t0
        entry.update(seconds=seconds, peak_mb=peak_mb(), parts={k: round(v.seconds, 4) for k, v in times.items()},
                     calls={k: v.calls for k, v in times.items()})
        self.stages[name] = entry
        if profiler:
            write_profile(profiler, self.profile_dir, name)


def write_profile(profiler: cProfile.Profile, folder: Path, name: str, top: int = 30) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(str(folder / f"{name}.prof"))
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    (folder / f"{name}.txt").write_text(text.getvalue(), encoding="utf-8")


# -- one run -----------------------------------------------------------------------------------------
def _ok(outcome, what: str) -> None:
    """A service that could not run at all is a crash of its stage."""
    errors = [f for f in outcome.findings if f.level.value == "错误"]
    if outcome.exit_code == 2 or errors:
        raise RuntimeError(f"{what} 失败（exit {outcome.exit_code}）：" + "；".join(f.text() for f in errors[:5]))


def _identity(path: Path) -> str:
    """A digest of an issued workbook's signed identity (its ``_duban`` sheet: issue id, unit,
    period, locked texts, signature): cached returns are reused only for the very same issue."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    grid = wb.get_sheet_by_name("_duban").to_python() if "_duban" in wb.sheet_names else []
    return hashlib.sha256(json.dumps(grid, ensure_ascii=False, default=str).encode("utf-8")).hexdigest()[:16]


def prepare_returns(cache: Path, issued: list[dict], period: str, due: str, inbox: Path) -> dict:
    """The units' filled returns of ``issued`` copied into ``inbox`` with their arrival times as
    file times (two late, the rest on time). Filled once and cached while the issues — ids,
    units and the signing key — stay the same; returns counts and the fill time."""
    from xl_duban.io.keys import signing_key
    from xl_duban.io.returns import CHINA
    from xl_duban.samples import fill_return
    from xl_duban.simulation import answers_for, choose_roles, issued_rows

    from .synthetic import stable_int

    key_id = hashlib.sha256(signing_key()).hexdigest()[:12]
    wanted = sorted([w["unit"], Path(w["file"]).name, w["issue_id"], _identity(Path(w["file"]))] for w in issued)
    folder = cache / f"returns-{period}"
    manifest = folder / "manifest.json"
    filled_now, seconds = False, 0.0
    current = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else None
    if current is None or current.get("key") != key_id or current.get("issues") != wanted:
        t0 = time.perf_counter()
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        due_day = datetime.fromisoformat(due)
        late_units = set(choose_roles([w["unit"] for w in issued], period).late)
        for w in issued:
            path = Path(w["file"])
            answers = answers_for(issued_rows(path), period)
            out = fill_return(path, folder / path.name, answers)
            unit = w["unit"]
            days = 1 + stable_int(unit) % 2 if unit in late_units else -(1 + stable_int(unit) % 4)
            moment = (due_day + timedelta(days=days)).replace(hour=9 + stable_int(unit, "t") % 8,
                                                              minute=stable_int(unit, "m") % 60)
            stamp = moment.replace(tzinfo=CHINA).timestamp()
            os.utime(out, (stamp, stamp))
        manifest.write_text(json.dumps({"key": key_id, "issues": wanted, "late": sorted(late_units)}, ensure_ascii=False),
                            encoding="utf-8")
        filled_now, seconds = True, time.perf_counter() - t0
    inbox.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in folder.glob("*.xlsx"))
    for p in files:
        shutil.copy2(p, inbox / p.name)
    late = json.loads(manifest.read_text(encoding="utf-8")).get("late", [])
    return {"files": len(files), "late": len(late), "filled_now": filled_now, "fill_seconds": round(seconds, 3)}


def one_run(scale_name: str, out: Path, index: int, *, profile: bool = False, keep: bool = False) -> dict:
    """Play the cycle once on a fresh copy of the cached ledger; returns the run's results."""
    from xl_duban import services
    from xl_duban.domain.lights import LightRules, light_tasks
    from xl_duban.domain.units import UnitDirectory
    from xl_duban.domain.periods import Period
    from xl_duban.domain.settings import read_settings
    from xl_duban.io.ledger_store import LedgerStore
    from xl_duban.timing import stage

    from . import synthetic as syn

    scale = syn.SCALES[scale_name]
    cache_ledger, stats, _generated = syn.ensure_ledger(out / "cache", scale)
    run_dir = out / "runs" / f"{scale_name}-{index}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    ledger = run_dir / syn.LEDGER_NAME
    shutil.copy2(cache_ledger, ledger)
    rec = Recorder(out / "profile" / scale_name if profile else None)
    result: dict = {"scale": scale_name, "run": index, "started": datetime.now().isoformat(timespec="seconds"),
                    "ledger": stats, "peak_reset": reset_peak(), "rss_after_imports_mb": round((_status_kb("VmRSS") or 0) / 1024, 1)}

    # 1. issue
    with rec.stage("issue") as st:
        issued = services.issue_workbooks(ledger, syn.CYCLE_PERIOD, run_dir / "下发", now=syn.CYCLE_ISSUED_AT)
        _ok(issued, "下发")
        st["counts"] = {"workbooks": len(issued.summary["workbooks"]),
                        "task_rows": sum(w["tasks"] for w in issued.summary["workbooks"])}

    # 2. the units fill their workbooks (not timed; cached)
    before_collect = run_dir / "收集前台账.xlsx"  # for reading and checking the same files again on their own (3b)
    shutil.copy2(ledger, before_collect)
    inbox = run_dir / "收件箱"
    result["returns"] = prepare_returns(cache_ledger.parent, issued.summary["workbooks"], syn.CYCLE_PERIOD,
                                        issued.summary["due"], inbox)

    # 3. collect, bracketed by the floor on the same files: the machine's speed drifts over
    # tens of seconds, so the floor is timed just before and just after the reading it is compared with
    files = sorted(inbox.glob("*.xlsx"))
    importlib.import_module("python_calamine")  # imported outside the timing: only the reading is compared
    with rec.stage("floor") as st:
        st["counts"] = calamine_floor(files)
    with rec.stage("collect") as st:
        collected = services.collect_returns(ledger, [inbox], now=syn.CYCLE_COLLECT_AT)
        _ok(collected, "收集")
        s = collected.summary
        st["counts"] = {k: s[k] if not isinstance(s[k], list) else len(s[k])
                        for k in ("accepted", "late", "rejected", "skipped", "added", "replaced", "missing")}
    with rec.stage("floor_after") as st:
        st["counts"] = calamine_floor(files)

    # 3b. the same reading and checking on its own, with nothing to overlap (information only), and
    # the readers' peak memory
    result["reader_peaks_mb"] = read_check_alone(rec, inbox, before_collect)
    result["children_maxrss_mb"] = children_peak_mb()
    if profile:  # the reading happens in the reader processes, out of cProfile's sight: read in this process too
        from xl_duban.io.keys import signing_key
        from xl_duban.io.returns import gather, read_and_examine

        with rec.stage("collect_read_in_process") as st:
            incoming, _problems = gather([inbox])
            key = signing_key()
            for item in incoming:
                read_and_examine(item, hashlib.sha256(item.data).hexdigest(), services.COLLECT_SHEETS, key)
            st["counts"] = {"files": len(incoming)}

    # 4. light-up: both cadences, each recomputing its whole history — every period of the year
    with rec.stage("light") as st:
        counts: dict = {"periods": [syn.CYCLE_PERIOD, syn.LAST_MONTH]}
        for period in counts["periods"]:
            lit = services.light_up(ledger, period, now=syn.CYCLE_LIGHT_AT)
            _ok(lit, f"亮灯 {period}")
            counts[f"{period} lit"] = lit.summary["lit_tasks"]
            counts[f"{period} recomputed"] = lit.summary["recomputed"]
        st["counts"] = counts

    # 5. bulletin
    with rec.stage("bulletin") as st:
        published = services.publish_bulletin(ledger, syn.CYCLE_PERIOD, run_dir / "通报", now=syn.CYCLE_BULLETIN_AT)
        _ok(published, "通报")
        s = published.summary
        st["counts"] = {"number": s["number"], "notices": len(s["notices"]), "red": len(s["red"]),
                        "yellow": len(s["yellow"]), "lit": s["counts"]["合计"]}

    # 6. ledger load + save of the full-year ledger the cycle leaves
    with rec.stage("load_save") as st:
        store = LedgerStore(ledger)
        with stage(LOAD):  # marked here as the services' session marks them
            full, _ = store.load()
        with stage(SAVE):
            store.save(full, now=syn.CYCLE_BULLETIN_AT + timedelta(hours=1))
        st["counts"] = {"tasks": len(full.tasks), "feedback": len(full.feedback), "lights": len(full.lights),
                        "changelog": len(full.changelog), "ledger_mb": round(ledger.stat().st_size / 2**20, 2)}

    # the pure light-up on the full-year ledger just loaded: both cadences, every period
    with rec.stage("light_domain") as st:
        due = services.due_dates(full)
        rules = LightRules.of(read_settings(full.settings)[0])
        verdicts, periods = 0, set()
        for period in (syn.CYCLE_PERIOD, syn.LAST_MONTH):
            run = light_tasks(full.tasks, full.targets, full.feedback, full.lights, Period.parse(period), due, rules,
                              directory=UnitDirectory(full.units))  # as duban light has it: collectives expanded
            verdicts += len(run.verdicts)
            periods |= {str(v.period) for v in run.verdicts}
        st["counts"] = {"verdicts": verdicts, "periods": len(periods), "tasks": len({t.id for t in full.tasks})}
    del full, store

    # 7. UDFs
    with rec.stage("udfs") as st:
        st["counts"] = {"udfs": run_udfs()}

    # 8. the naive baseline on the same returned files (after the cycle: pandas' memory stays out of it)
    importlib.import_module("pandas")  # imported outside the timing: only the reading is compared
    with rec.stage("naive") as st:
        st["counts"] = pandas_naive(files)

    result["stages"] = rec.stages
    result["finished"] = datetime.now().isoformat(timespec="seconds")
    if not keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return result


def run_udfs() -> dict[str, float] | None:
    """``udfs.benchmark_rows(n=10_000)`` → seconds per UDF, or None while the package has none."""
    try:
        import udfs  # type: ignore[import-not-found]
    except ImportError:
        return None
    fn = getattr(udfs, "benchmark_rows", None)
    if fn is None:
        return None
    return {str(k): float(v) for k, v in fn(n=10_000).items()}


def calamine_floor(files: list[Path]) -> dict:
    """python-calamine reading every sheet's values of every file, and nothing else."""
    from python_calamine import CalamineWorkbook

    sheets = cells = 0
    for path in files:
        wb = CalamineWorkbook.from_path(str(path))
        for name in wb.sheet_names:
            rows = wb.get_sheet_by_name(name).to_python()
            sheets += 1
            cells += sum(len(r) for r in rows)
    return {"files": len(files), "sheets": sheets, "cells": cells}


def pandas_naive(files: list[Path]) -> dict:
    """The naive way: ``pandas.read_excel`` of every sheet with openpyxl, file by file."""
    import pandas as pd

    frames = rows = 0
    for path in files:
        book = pd.read_excel(path, sheet_name=None, engine="openpyxl")
        frames += len(book)
        rows += sum(len(df) for df in book.values())
    return {"files": len(files), "frames": frames, "rows": rows}


# -- many runs, the table ------------------------------------------------------------------------------
def machine() -> dict:
    model = ""
    try:
        model = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                      if ln.startswith("model name")), "")
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")))
        mem = f"{kb / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    versions = {}
    for dist in ("openpyxl", "python-calamine", "pandas", "pydantic", "python-docx", "matplotlib"):
        try:
            from importlib.metadata import version

            versions[dist] = version(dist)
        except Exception:  # noqa: BLE001
            versions[dist] = "?"
    commit, dirty = "", []
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                                timeout=10).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--", "xl_duban"], cwd=REPO, capture_output=True,
                                text=True, timeout=10).stdout
        dirty = [line[3:] for line in status.splitlines() if line.strip()]  # uncommitted changes the numbers include
    except (OSError, subprocess.SubprocessError):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "memory": mem, "os": platform.platform(),
            "python": platform.python_version(), "packages": versions, "commit": commit, "uncommitted": dirty,
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else []}


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


CYCLE = ("issue", "collect", "light", "bulletin", "load_save")  # the office's commands: what the peak-memory target covers


READ_AND_CHECK = "读取并检查 read_and_check"
READ_CHECK_PARTS = ("扫描收件箱 gather", "已处理指纹 accepted_hashes", READ_AND_CHECK)


def read_check(collect: dict) -> float:
    """Reading and checking the returns, as the floor and the naive baseline read them: the
    inbox files read from disk (gather), the hashes of files handled before looked up, and
    every file read behind the readers' wall and checked (read_and_check). Merging the
    accepted rows into the ledger, archiving the files and the ledger's load and save are
    collect's other parts, printed beside it; the baselines do nothing like them."""
    return sum(collect["parts"].get(label, 0.0) for label in READ_CHECK_PARTS)


def floor_seconds(run: dict) -> float:
    """The run's floor: the quicker of its timings just before and just after the collect.
    The quicker one, not the mean: right after the collect the floor often runs a third
    slower (the collect's writes still being flushed, its memory just handed back), which
    would flatter the ratio. Runs recorded before the floor was bracketed have one timing."""
    stages = run["stages"]
    return min(stages[name]["seconds"] for name in ("floor", "floor_after") if name in stages)


SHEET_VIEW = "通报工作表 write_bulletin_sheet"


def bulletin_own(bulletin: dict) -> float:
    """The bulletin's own work: all of it but the ledger load and save, whose target is the
    load+save stage's; the bulletin sheet, drawn inside the save, counts as the bulletin's."""
    parts = bulletin["parts"]
    return bulletin["seconds"] - parts.get(LOAD, 0.0) - parts.get(SAVE, 0.0) + parts.get(SHEET_VIEW, 0.0)


def summarize(runs: list[dict]) -> dict:
    """Medians over runs of every stage's seconds and parts; the largest peak memory."""
    names = list(runs[0]["stages"])
    out: dict = {}
    for name in names:
        entries = [r["stages"][name] for r in runs]
        parts = {label: round(_median([e["parts"].get(label, 0.0) for e in entries]), 4) for label in entries[0]["parts"]}
        out[name] = {"seconds": round(_median([e["seconds"] for e in entries]), 4),
                     "min": round(min(e["seconds"] for e in entries), 4), "max": round(max(e["seconds"] for e in entries), 4),
                     "peak_mb": max(e["peak_mb"] for e in entries), "parts": parts, "counts": entries[-1]["counts"],
                     "calls": entries[-1].get("calls", {})}
    out["collect"]["read_check"] = round(_median([read_check(r["stages"]["collect"]) for r in runs]), 4)
    out["floor"]["bracket"] = round(_median([floor_seconds(r) for r in runs]), 4)
    out["collect"]["vs_floor"] = round(_median([read_check(r["stages"]["collect"]) / floor_seconds(r) for r in runs]), 3)
    out["read_check_alone"]["vs_floor"] = round(_median([r["stages"]["read_check_alone"]["seconds"] / floor_seconds(r)
                                                         for r in runs]), 3)
    out["bulletin"]["own"] = round(_median([bulletin_own(r["stages"]["bulletin"]) for r in runs]), 4)
    out["cycle_peak_mb"] = max(r["stages"][n]["peak_mb"] for r in runs for n in CYCLE)
    out["rss_after_imports_mb"] = max(r.get("rss_after_imports_mb", 0.0) for r in runs)
    widest = max((r.get("reader_peaks_mb", []) for r in runs), key=sum)
    out["reader_peaks_mb"] = widest
    udfs = [r["stages"]["udfs"]["counts"]["udfs"] for r in runs]
    out["udf_seconds"] = None if any(u is None for u in udfs) else {k: round(_median([u[k] for u in udfs]), 5) for k in udfs[0]}
    return out


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("✓ 达标" if ok else "✗ 未达标")


def table_rows(summary: dict, runs: int) -> list[list[str]]:
    """[stage, seconds, min–max, peak MB, target, ratio, verdict] rows for the terminal and Markdown.
    Each stage is followed by its parts (the stages the code marks inside it, in the order first entered)."""
    s = summary
    rows: list[list[str]] = []

    def secs(x: float) -> str:
        return f"{x:.3f}" if x < 10 else f"{x:.1f}"

    def add(label: str, name: str | None, target: str = "", ratio: str = "", ok: bool | None = None) -> None:
        st = s[name] if name else {}
        seconds = st.get("seconds")
        spread = f"{secs(st['min'])}–{secs(st['max'])}" if name and runs > 1 else ""
        peak = f"{st['peak_mb']:.0f}" if name else ""
        rows.append([label, "" if seconds is None else secs(seconds), spread, peak, target, ratio, verdict(ok) if target else ""])

    def parts(name: str, skip: tuple[str, ...] = ()) -> None:
        calls = s[name].get("calls", {})
        for label, value in s[name]["parts"].items():
            if label not in skip:
                n = calls.get(label, 0)
                rows.append([f"  └ {label}" + (f"（{n} 次）" if n > 1 else ""), secs(value), "", "", "", "", ""])

    def against(seconds: float, key: str) -> tuple[str, str, bool]:
        return f"≤ {TARGETS[key]:g} s", f"{seconds / TARGETS[key]:.2f}× 目标", seconds <= TARGETS[key]

    ls = s["load_save"]
    add(f"台账读取+保存 ledger load + save（全年台账 {ls['counts']['ledger_mb']} MB）", "load_save",
        *against(ls["seconds"], "load_save"))
    parts("load_save")

    iss = s["issue"]
    add(f"下发 issue {iss['counts']['workbooks']} 份（{iss['counts']['task_rows']} 行）", "issue", *against(iss["seconds"], "issue"))
    parts("issue")

    col, floor, naive, alone = s["collect"], s["floor"], s["naive"], s["read_check_alone"]
    rc = col["read_check"]
    add(f"收集 collect {col['counts']['accepted']} 份（服务合计）", "collect")
    parts("collect")
    vs_floor, vs_naive = col["vs_floor"], naive["seconds"] / rc
    rows.append(["读取+检查 read + check：收集命令中的读取与检查（gather + accepted_hashes + read_and_check）",
                 secs(rc), "", "",
                 f"≤ {TARGETS['read_check_vs_floor']:g}× calamine", f"{vs_floor:.2f}× calamine（各次与本次 floor 之比的中位数）",
                 verdict(vs_floor <= TARGETS["read_check_vs_floor"])])
    rows.append(["", "", "", "", f"≥ {TARGETS['naive_vs_read_check']:g}× 快于 pandas", f"pandas 慢 {vs_naive:.1f}×",
                 verdict(vs_naive >= TARGETS["naive_vs_read_check"])])
    add("读取+检查 单独进行、无可重叠（仅供参考，不设目标；同一批文件）", "read_check_alone", "",
        f"{alone['vs_floor']:.2f}× calamine")
    add(f"基线 floor：calamine 只读值（{floor['counts']['files']} 份；收集前后各测一次，取较快的 {secs(floor['bracket'])} s）", "floor")
    if "floor_after" in s:
        add("  └ 收集之后再测 floor", "floor_after")
    add(f"基线 naive：pandas.read_excel openpyxl（{naive['counts']['files']} 份）", "naive")

    li, dom = s["light"], s["light_domain"]
    add(f"亮灯 light（2 次服务：{'、'.join(li['counts'].get('periods', []))}）", "light")
    parts("light")
    add(f"亮灯计算（领域 light_tasks）{dom['counts']['tasks']} 项 × {dom['counts']['periods']} 个周期", "light_domain",
        *against(dom["seconds"], "light_domain"))

    bu = s["bulletin"]
    add(f"通报 bulletin（{bu['counts']['notices']} 份整改通知书；命令合计）", "bulletin")
    parts("bulletin")
    target, ratio, ok = against(bu["own"], "bulletin")
    rows.append(["通报本身 bulletin's own work（合计 − 台账读取 − 台账保存 + 通报工作表）", secs(bu["own"]), "", "",
                 target, ratio, verdict(ok)])

    if s["udf_seconds"] is None:
        rows.append(["UDFs 10,000 行", "未实现", "", "", f"≤ {TARGETS['udf'] * 1000:g} ms", "", "—"])
    else:
        worst = max(s["udf_seconds"].values(), default=0.0)
        rows.append(["UDFs 10,000 行（最慢的一个）", secs(worst), "", f"{s['udfs']['peak_mb']:.0f}", f"≤ {TARGETS['udf'] * 1000:g} ms",
                     f"{worst / TARGETS['udf']:.2f}× 目标", verdict(worst <= TARGETS["udf"])])
        for name, value in s["udf_seconds"].items():
            rows.append([f"  └ {name}", f"{value:.4f}", "", "", "", f"{value * 1000:.1f} ms", verdict(value <= TARGETS["udf"])])

    readers = s["reader_peaks_mb"]
    total = s["cycle_peak_mb"] + sum(readers)
    rows.append([f"全流程峰值内存 peak RSS（主进程 + 读取进程；导入后 {s['rss_after_imports_mb']:.0f} MB）", "", "",
                 f"{total:.0f}", f"≤ {TARGETS['peak_mb']:g} MB",
                 f"{s['cycle_peak_mb']:.0f} + " + " + ".join(f"{r:.0f}" for r in readers) + " MB",
                 verdict(total <= TARGETS["peak_mb"])])
    return rows


HEADERS = ["阶段 stage", "秒 s（中位数）", "最小–最大", "峰值 MB", "目标 target", "比值 ratio", "结论"]


def print_table(rows: list[list[str]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 170, highlight=False)
    table = Table(title=title, show_lines=False)
    for i, h in enumerate(HEADERS):
        table.add_column(h, justify="right" if i in (1, 3) else "left", overflow="fold")
    for row in rows:
        style = "bold" if row[0] and not row[0].startswith(" ") else None
        table.add_row(*row, style=style)
    console.print(table)


def markdown_table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for row in rows:
        cells = [c.replace("|", "\\|") for c in row]
        if cells[0].startswith("  "):
            cells[0] = "&nbsp;&nbsp;" + cells[0].strip()
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=("district", "city", "province"), default="district")
    parser.add_argument("--runs", type=int, default=1, help="repeat the cycle N times (each in its own process); medians")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"cache and results folder (default {DEFAULT_OUT})")
    parser.add_argument("--profile", action="store_true", help="one run in this process with cProfile per stage")
    parser.add_argument("--keep", action="store_true", help="keep each run's folder (ledger, issued files, bulletins)")
    parser.add_argument("--in-process", action="store_true", help="run in this process (the smoke test; peaks then include it)")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("XL_DUBAN_CONFIG_DIR", str(out / "config"))  # the benchmark's own signing key

    if args.worker is not None:
        result = one_run(args.scale, out, args.worker, keep=args.keep)
        path = out / "runs" / f"{args.scale}-run{args.worker}.json"
        path.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        return 0

    from . import synthetic as syn

    scale = syn.SCALES[args.scale]
    t0 = time.perf_counter()
    _ledger, stats, generated = syn.ensure_ledger(out / "cache", scale, progress=lambda text: print("  " + text, flush=True))
    gen_note = (f"生成台账 {stats['seconds']:.1f} s" if generated else f"使用缓存台账（生成时用时 {stats['seconds']:.1f} s）")
    print(f"{args.scale}: {stats['tasks']} 项任务（重点 {stats['key_tasks']}，民生实事 {stats['livelihood_rows']} 行），"
          f"{stats['units']} 个单位，反馈 {stats['feedback']} 条，亮灯 {stats['lights']} 条，变更日志 {stats['changelog']} 行；"
          f"{gen_note}", flush=True)
    at_start = machine()
    runs: list[dict] = []
    walls: list[float] = []
    for i in range(1, max(args.runs, 1) + 1):
        w0 = time.perf_counter()
        if args.profile or args.in_process:
            runs.append(one_run(args.scale, out, i, profile=args.profile, keep=args.keep))
        else:
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
            cmd = [sys.executable, "-m", "benchmarks.run", "--scale", args.scale, "--out", str(out), "--worker", str(i)]
            if args.keep:
                cmd.append("--keep")
            proc = subprocess.run(cmd, cwd=REPO, env=env)
            if proc.returncode != 0:
                print(f"第 {i} 次运行失败（exit {proc.returncode}）", file=sys.stderr)
                return 1
            runs.append(json.loads((out / "runs" / f"{args.scale}-run{i}.json").read_text(encoding="utf-8")))
        walls.append(time.perf_counter() - w0)
        fill = runs[-1]["returns"]
        print(f"  第 {i} 次运行 {walls[-1]:.1f} s" + (f"（含单位填写 {fill['fill_seconds']:.1f} s，已缓存）" if fill["filled_now"] else ""),
              flush=True)
    summary = summarize(runs)
    rows = table_rows(summary, len(runs))
    title = (f"xl_duban benchmark — {args.scale}（{stats['tasks']} 项任务 / {stats['units']} 个单位），"
             f"{len(runs)} 次运行的中位数" + ("（cProfile 开启，时间偏大）" if args.profile else ""))
    print_table(rows, title)
    report = {"version": RESULTS_VERSION, "scale": args.scale, "runs": len(runs), "profile": args.profile,
              "command": " ".join(["python -m benchmarks.run", *(argv if argv is not None else sys.argv[1:])]),
              "machine": at_start, "load_average_after": list(os.getloadavg()) if hasattr(os, "getloadavg") else [],
              "ledger": stats, "targets": TARGETS, "summary": summary,
              "table": rows, "run_seconds": [round(w, 2) for w in walls], "total_seconds": round(time.perf_counter() - t0, 2),
              "raw": runs}
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for name in (f"results-{args.scale}.json", f"results-{args.scale}-{stamp}.json"):
        (out / name).write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    (out / f"results-{args.scale}.md").write_text(f"{title}\n\n{markdown_table(rows)}", encoding="utf-8")
    print(f"结果：{out / f'results-{args.scale}.json'}（Markdown 表：results-{args.scale}.md）"
          + (f"；cProfile：{out / 'profile' / args.scale}" if args.profile else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
