"""Smoke run of the benchmark (issue 6): ``python -m benchmarks.run --scale district`` end to end.

Every stage must run on the synthetic district year and produce what the scale implies — one
workbook per unit with key tasks, every filled return accepted, all 16 periods lit, the next
bulletin number, the baselines reading the same files. No timing assertions: the numbers are
for ``benchmarks/RESULTS.md``, and this machine is shared.
"""

from __future__ import annotations

import json
import sys
import time

from benchmarks import run as bench
from benchmarks.synthetic import SCALES, ensure_ledger

STAGES = ("issue", "collect", "light", "light_domain", "bulletin", "load_save", "udfs", "floor", "floor_after", "naive")


def test_district_benchmark_runs_every_stage(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XL_DUBAN_CONFIG_DIR", str(tmp_path / "config"))
    started = time.perf_counter()
    assert bench.main(["--scale", "district", "--runs", "1", "--out", str(tmp_path), "--in-process"]) == 0
    took = time.perf_counter() - started

    report = json.loads((tmp_path / "results-district.json").read_text(encoding="utf-8"))
    ledger = report["ledger"]
    scale = SCALES["district"]
    assert (ledger["key_tasks"], ledger["livelihood_rows"], ledger["units"]) == (scale.key_tasks, scale.livelihood_rows,
                                                                                scale.units)
    assert ledger["feedback"] and ledger["lights"] and ledger["changelog"] > ledger["feedback"]
    assert ensure_ledger(tmp_path / "cache", scale)[2] is False  # cached: a second call does not generate again

    run = report["raw"][0]
    stages = run["stages"]
    assert set(STAGES) <= set(stages)
    for name in STAGES:
        assert stages[name]["seconds"] > 0 and stages[name]["peak_mb"] > 0, name

    issued = stages["issue"]["counts"]
    assert issued["workbooks"] == ledger["units_with_key_tasks"] == scale.units  # every unit leads key tasks
    assert issued["task_rows"] == ledger["key_rows_issued"]

    returns = run["returns"]
    assert returns["files"] == issued["workbooks"]
    collected = stages["collect"]["counts"]
    assert collected["accepted"] == returns["files"] and collected["rejected"] == 0 and collected["skipped"] == 0
    assert collected["late"] == returns["late"] == 2
    assert collected["added"] == issued["task_rows"] and collected["missing"] == 0

    lit = stages["light"]["counts"]
    assert lit["2022Q4 lit"] == scale.key_tasks  # every key task has a Q4 target and now a Q4 return
    assert lit["2022-12 lit"] > 0
    assert stages["light_domain"]["counts"]["periods"] == 16
    assert stages["light_domain"]["counts"]["verdicts"] == lit["2022Q4 recomputed"] + lit["2022-12 recomputed"]

    bulletin = stages["bulletin"]["counts"]
    assert bulletin["number"] == ledger["bulletin_sheets"] + 1  # 15 earlier bulletins, one 期号 series
    assert bulletin["lit"] == scale.key_tasks and bulletin["notices"] > 0

    full = stages["load_save"]["counts"]
    assert full["feedback"] == ledger["feedback"] + collected["added"]
    assert full["lights"] > ledger["lights"]

    assert stages["floor"]["counts"] == stages["floor_after"]["counts"]  # the same files before and after the collect
    assert stages["floor"]["counts"]["files"] == stages["naive"]["counts"]["files"] == returns["files"]
    if sys.platform.startswith("linux"):  # /proc/PID/schedstat: each reader's CPU while read_and_check ran
        # inside collect the readers may have read every file while the ledger loaded (nothing left
        # for them afterwards); on its own, with nothing to overlap, each of them reads
        cpu = stages["collect"]["cpu"]
        assert cpu["main"] > 0 and len(cpu["readers"]) >= 1 and all(seconds >= 0 for seconds in cpu["readers"])
        alone = stages["read_check_alone"]
        assert alone["cpu"]["main"] > 0 and len(alone["cpu"]["readers"]) >= 1 and all(s > 0 for s in alone["cpu"]["readers"])
        assert alone["counts"] == {"files": returns["files"], "accepted": returns["files"]}
        ratios = sorted(r["vs_floor"] for r in alone["repeats"])  # each timing over the floor timed around it
        assert len(ratios) == 3 and all(r["floor"] > 0 for r in alone["repeats"]) and alone["vs_floor"] == ratios[1]
        assert report["summary"]["read_check_alone"]["cpu"]["vs_floor"] > 0
    assert stages["floor"]["counts"]["sheets"] == stages["naive"]["counts"]["frames"] == 2 * returns["files"]
    udfs = stages["udfs"]["counts"]["udfs"]
    assert udfs is None or (udfs and all(seconds > 0 for seconds in udfs.values()))

    summary = report["summary"]
    assert summary["collect"]["read_check"] > 0 and summary["cycle_peak_mb"] > 0 and summary["reader_peaks_mb"]
    assert len(report["table"]) > len(STAGES) and (tmp_path / "results-district.md").is_file()
    out = capsys.readouterr().out
    assert "下发 issue" in out and "读取+检查" in out
    print(f"district benchmark smoke run: {took:.1f} s")
