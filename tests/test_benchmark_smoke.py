"""Smoke run of the benchmark (issue 6): ``python -m benchmarks.run --scale district`` end to end.

Every stage must run on the synthetic district year and produce what the scale implies — one
workbook per unit with key tasks, every filled return accepted, all 16 periods lit, the next
bulletin number, the baselines reading the same files — and reports the parts the code marks
(``xl_duban.timing``), each entered as often as the work implies. No timing assertions: the numbers are
for ``benchmarks/RESULTS.md``, and this machine is shared.
"""

from __future__ import annotations

import json
import time

from benchmarks import run as bench
from benchmarks.synthetic import SCALES, ensure_ledger

STAGES = ("issue", "collect", "read_check_alone", "light", "light_domain", "bulletin", "load_save", "udfs", "floor",
          "floor_after", "naive")
WRITE = "其中写出文件 atomic_save"  # marked in LedgerStore.save


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
    alone = stages["read_check_alone"]  # the same reading and checking on its own (information only)
    assert alone["counts"] == {"files": returns["files"], "accepted": returns["files"]}
    assert run["reader_peaks_mb"] and all(mb > 0 for mb in run["reader_peaks_mb"])

    # every stage reports the parts the code marks (xl_duban.timing), each entered as often as the work implies
    def marked(stage: str) -> dict[str, int]:
        parts, calls = stages[stage]["parts"], stages[stage]["calls"]
        assert set(parts) == set(calls) and all(seconds > 0 for seconds in parts.values()), (stage, parts)
        return calls

    assert marked("issue") == {bench.LOAD: 1, bench.SAVE: 1, WRITE: 1, "写工作簿 write_unit_workbook": issued["workbooks"]}
    assert marked("collect") == {bench.LOAD: 1, bench.SAVE: 1, WRITE: 1, **dict.fromkeys(bench.READ_CHECK_PARTS, 1)}
    light = marked("light")  # two services; one whose lights are already on record writes nothing (issue 23)
    assert light[bench.LOAD] == 2 and light.get(bench.SAVE) == light.get(WRITE) and 1 <= light[bench.SAVE] <= 2
    assert marked("bulletin") == {bench.LOAD: 1, bench.SAVE: 1, WRITE: 1, bench.SHEET_VIEW: 1}
    assert marked("load_save") == {bench.LOAD: 1, bench.SAVE: 1, WRITE: 1}
    assert marked("read_check_alone") == dict.fromkeys(bench.READ_CHECK_PARTS, 1)
    assert stages["floor"]["counts"]["sheets"] == stages["naive"]["counts"]["frames"] == 2 * returns["files"]
    udfs = stages["udfs"]["counts"]["udfs"]
    assert udfs is None or (udfs and all(seconds > 0 for seconds in udfs.values()))

    summary = report["summary"]
    assert summary["collect"]["read_check"] > 0 and summary["collect"]["vs_floor"] > 0
    assert summary["read_check_alone"]["vs_floor"] > 0 and summary["cycle_peak_mb"] > 0 and summary["reader_peaks_mb"]
    assert 0 < summary["bulletin"]["own"] < stages["bulletin"]["seconds"]
    alone_row = next(row for row in report["table"] if "单独进行" in row[0])
    assert alone_row[4] == alone_row[6] == ""  # no target on its own: the target is what the command spends
    assert len(report["table"]) > len(STAGES) and (tmp_path / "results-district.md").is_file()
    out = capsys.readouterr().out
    assert "下发 issue" in out and "读取+检查" in out
    print(f"district benchmark smoke run: {took:.1f} s")
