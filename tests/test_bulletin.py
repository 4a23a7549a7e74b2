"""``duban bulletin`` on the demo year: every number traceable to 亮灯记录, rendered by LibreOffice."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from datetime import datetime
from pathlib import Path

import docx
import openpyxl
import pytest

from xl_duban.demo import run_demo
from xl_duban.io.ledger_store import LedgerStore
from xl_duban.services import light_up, publish_bulletin

from .conftest import NOW
from .test_libreoffice import ARTIFACTS, _run, office, poppler  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("config_dir")
LATER = datetime(2022, 7, 20, 9, 0)


@pytest.fixture(scope="module")
def demo_year(tmp_path_factory) -> Path:
    """The demo's year (targets, 2022Q1 and 2022Q2 collected, lit and published), built once."""
    import os

    out = tmp_path_factory.mktemp("demo-year")
    os.environ["XL_DUBAN_CONFIG_DIR"] = str(out / "config")
    try:
        outcome = run_demo(out, now=NOW)
    finally:
        del os.environ["XL_DUBAN_CONFIG_DIR"]
    assert outcome.exit_code == 0
    return out


@pytest.fixture
def year(demo_year, tmp_path) -> Path:
    """A private copy of the demo ledger (tests change it)."""
    ledger = tmp_path / "台账.xlsx"
    shutil.copy2(demo_year / "2022年督查台账.xlsx", ledger)
    return ledger


def lights_sheet(ledger: Path, period: str) -> dict[str, str]:
    """任务编号 → 灯色 for ``period``, read straight from the 亮灯记录 sheet (not through the store)."""
    ws = openpyxl.load_workbook(ledger, read_only=True)["亮灯记录"]
    rows = list(ws.iter_rows(values_only=True))
    h = rows[0]
    return {r[h.index("任务编号")]: r[h.index("灯色")] for r in rows[1:]
            if r[h.index("周期")] == period and r[h.index("灯色")]}


def leader_counts(ledger: Path, lights: dict[str, str]) -> dict[str, Counter]:
    ws = openpyxl.load_workbook(ledger, read_only=True)["任务台账"]
    rows = list(ws.iter_rows(values_only=True))
    h = rows[0]
    out: dict[str, Counter] = {}
    for r in rows[1:]:
        task = r[h.index("任务编号")]
        if task in lights:
            for leader in str(r[h.index("责任领导")] or "").split("、"):
                out.setdefault(leader, Counter())[lights[task]] += 1
    return out


def docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("|".join(c.text for c in row.cells))
    return "\n".join(parts)


def sheet_rows(ledger: Path, name: str) -> list[tuple]:
    return [r for r in openpyxl.load_workbook(ledger)[name].iter_rows(values_only=True)]


def test_every_count_equals_an_independent_count_of_the_lights(year, tmp_path):
    outcome = publish_bulletin(year, "2022Q2", tmp_path / "out", now=LATER)
    assert outcome.exit_code == 0, outcome.findings
    lights = lights_sheet(year, "2022Q2")
    colors = Counter(lights.values())
    assert outcome.summary["counts"] == {"绿灯": colors["绿灯"], "黄灯": colors["黄灯"], "红灯": colors["红灯"],
                                         "合计": len(lights)}
    assert colors["红灯"] > 0 and colors["黄灯"] > 0  # the demo escalates
    assert set(outcome.summary["red"]) == {t for t, c in lights.items() if c == "红灯"}
    assert set(outcome.summary["yellow"]) == {t for t, c in lights.items() if c == "黄灯"}
    previous = Counter(lights_sheet(year, "2022Q1").values())
    sentence = (f"2022年第二季度共对{len(lights)}项重点任务亮灯，其中绿灯{colors['绿灯']}项（{colors['绿灯'] / len(lights):.1%}）、"
                f"黄灯{colors['黄灯']}项（{colors['黄灯'] / len(lights):.1%}）、红灯{colors['红灯']}项")
    delta = colors["红灯"] - previous["红灯"]
    assert delta > 0  # no red in the first quarter of the demo, some in the second
    # the document and the ledger sheet say the same numbers
    text = docx_text(Path(outcome.summary["document"]))
    rows = sheet_rows(year, "通报-2022Q2")
    sheet_text = "\n".join(str(c) for r in rows for c in r if c is not None)
    for where in (text, sheet_text):
        assert sentence in where
        assert f"红灯增加{delta}项" in where
    # by-leader table: each row equals a count made from 任务台账 and 亮灯记录
    expected = leader_counts(year, lights)
    table = {r[0]: r[1:5] for r in rows if r and r[0] in expected and isinstance(r[1], int)}
    assert table == {k: (sum(v.values()), v["绿灯"], v["黄灯"], v["红灯"]) for k, v in expected.items()}
    # the by-unit rows add up to at least every lit task once
    document = docx.Document(outcome.summary["document"])
    unit_rows = [[c.text for c in row.cells] for row in document.tables[0].rows[1:]]
    assert sum(int(r[1]) for r in unit_rows) >= len(lights)
    assert all(int(r[1]) == int(r[2]) + int(r[3]) + int(r[4]) for r in unit_rows)


def test_numbering_continues_and_republishing_keeps_the_number(year, tmp_path):
    first = publish_bulletin(year, "2022Q2", tmp_path / "a", now=LATER)
    again = publish_bulletin(year, "2022Q2", tmp_path / "b", now=LATER)
    assert first.summary["number"] == again.summary["number"] == 2  # the demo published 2022Q1 as 第1期
    assert "第2期" in docx_text(Path(again.summary["document"]))


def test_notices_and_interview_list(year, tmp_path):
    outcome = publish_bulletin(year, "2022Q2", tmp_path / "out", now=LATER)
    led, _ = LedgerStore(year).load()
    lights = lights_sheet(year, "2022Q2")
    tasks = {t.id: t for t in led.tasks}
    flagged_units = {u for t, c in lights.items() if c in ("黄灯", "红灯") for u in tasks[t].lead_units}
    names = {Path(p).name.split("_")[1] for p in outcome.summary["notices"]}
    assert names == flagged_units
    notice = next(Path(p) for p in outcome.summary["notices"] if "_区发展和改革局_" in p)
    text = docx_text(notice)
    mine = [t for t, c in lights.items() if c in ("黄灯", "红灯") and "区发展和改革局" in tasks[t].lead_units]
    assert all(t in text for t in mine) and "抄送：" in text and "曹新华同志" in text
    assert f"请于{int(outcome.summary['rectify_by'][:4])}年" in text
    interviews = docx_text(Path(outcome.summary["interviews"]))
    assert all(t in interviews for t, c in lights.items() if c == "红灯")


def test_one_changed_feedback_changes_exactly_the_lines_that_depend_on_it(year, tmp_path):
    before = publish_bulletin(year, "2022Q2", tmp_path / "a", now=LATER).summary
    red_task = before["red"][0]
    lights_before = {(r.task_id, r.period): r.model_dump() for r in LedgerStore(year).load()[0].lights}
    store = LedgerStore(year)
    led, _ = store.load()
    # the unit corrects its first-quarter return: the target had been met after all
    for fb in led.feedback:
        if fb.task_id == red_task and fb.period == "2022Q1":
            fb.completion = "已完成"
    store.save(led, now=LATER)
    light_up(year, "2022Q2", now=LATER)
    after = publish_bulletin(year, "2022Q2", tmp_path / "b", now=LATER).summary
    # Q1 turns green, so Q2 is a first yellow: the task moves from the red list to the yellow list
    assert set(after["red"]) == set(before["red"]) - {red_task}
    assert set(after["yellow"]) == set(before["yellow"]) | {red_task}
    assert after["counts"]["红灯"] == before["counts"]["红灯"] - 1
    assert after["counts"]["黄灯"] == before["counts"]["黄灯"] + 1
    assert after["counts"]["绿灯"] == before["counts"]["绿灯"]
    assert lights_sheet(year, "2022Q1")[red_task] == "绿灯"
    # in 亮灯记录 exactly the two records of that task changed (light, streak, 依据), nothing else
    lights_after = {(r.task_id, r.period): r.model_dump() for r in LedgerStore(year).load()[0].lights}
    changed = {k for k in lights_after if lights_after[k] != lights_before.get(k)}
    assert changed == {(red_task, "2022Q1"), (red_task, "2022Q2")}
    assert (lights_after[(red_task, "2022Q2")]["streak"], lights_after[(red_task, "2022Q2")]["light"]) == (1, "黄灯")


def test_bulletin_renders_to_pdf_and_png(office, poppler, year, tmp_path):
    outcome = publish_bulletin(year, "2022Q2", tmp_path / "out", now=LATER)
    ARTIFACTS.mkdir(exist_ok=True)
    for source, stem in ((Path(outcome.summary["document"]), "bulletin-docx"), (year, "bulletin-sheet")):
        if source == year:  # only the bulletin sheet: a copy of the ledger holding just that sheet
            wb = openpyxl.load_workbook(year)
            for name in wb.sheetnames:
                if name != "通报-2022Q2":
                    del wb[name]
            source = tmp_path / "bulletin-sheet.xlsx"
            wb.save(source)
        pdf = office.convert(source, "pdf", tmp_path / stem, ".pdf")
        info = _run([poppler["pdftotext"], "-layout", str(pdf), "-"], what="pdftotext").stdout
        flat = "".join(info.split())
        assert "源城政务督查" in flat and "第2期" in flat
        assert "关于2022年第二季度区《政府工作报告》重点任务落实情况的通报" in flat
        assert f"红灯{outcome.summary['counts']['红灯']}项" in flat
        assert all(t in flat for t in outcome.summary["red"])
        pages = int(re.search(r"Pages:\s+(\d+)", _run(["pdfinfo", str(pdf)], what="pdfinfo").stdout).group(1))
        assert 2 <= pages <= 40
        png = ARTIFACTS / stem
        _run([poppler["pdftoppm"], "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(png)],
             what="pdftoppm")
        assert png.with_name(png.name + ".png").read_bytes()[:4] == b"\x89PNG"
