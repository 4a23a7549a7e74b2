"""督查看板 (issue 27): counts of final lights by period, by 责任领导 and the units most often
behind, written by ``duban light`` with native charts that survive later saves; rendered by
LibreOffice. Expected counts are recounted here from the 亮灯记录 cells with openpyxl."""

from __future__ import annotations

import re
import shutil
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from xl_duban.domain.dashboard import build_dashboard
from xl_duban.domain.models import Ledger, LightRecord, Task, TaskKind, Unit
from xl_duban.domain.periods import Period
from xl_duban.services import light_up, validate_ledger

from .test_libreoffice import office, poppler  # noqa: F401  (fixtures)

A, B = "区住房和城乡建设局", "区交通运输局"


def test_counts_use_the_final_light_and_the_latest_period_for_leaders():
    tasks = [Task(id="2022-ZD-001", kind="重点任务", leaders=["张三"], lead_units=[A, B]),
             Task(id="2022-ZD-002", kind="重点任务", leaders=["李四"], lead_units=[A]),
             Task(id="2022-MS-01", kind="民生实事", leaders=["张三"], lead_units=[B])]
    lights = [LightRecord(task_id="2022-ZD-001", period="2022Q1", light="黄灯"),
              LightRecord(task_id="2022-ZD-002", period="2022Q1", light="黄灯", override="绿灯", override_note="已完成"),
              LightRecord(task_id="2022-ZD-001", period="2022Q2", light="红灯"),
              LightRecord(task_id="2022-ZD-002", period="2022Q2", light="绿灯"),
              LightRecord(task_id="2022-MS-01", period="2022-03", light="黄灯"),
              LightRecord(task_id="2021-ZD-009", period="2021Q4", light="红灯")]  # another year, another task
    board = build_dashboard(Ledger(tasks=tasks, lights=lights, units=[Unit(name=A), Unit(name=B)]), 2022)
    key = {str(p): c.row() for p, c in board.by_period[TaskKind.key]}
    assert key == {"2022Q1": [1, 1, 0, 2], "2022Q2": [1, 0, 1, 2]}
    assert board.latest[TaskKind.key] == Period.parse("2022Q2")
    assert [(n, c.row()) for n, c in board.by_leader[TaskKind.key]] == [("张三", [0, 0, 1, 1]), ("李四", [1, 0, 0, 1])]
    assert [str(p) for p, _c in board.by_period[TaskKind.livelihood]] == ["2022-03"]
    assert board.units_behind == [(B, 2, 1), (A, 1, 1)]  # co-led: each lead unit counts the task's light


@pytest.fixture
def lit(demo_year, tmp_path, config_dir) -> Path:
    ledger = tmp_path / "台账.xlsx"
    shutil.copy2(demo_year / "2022年督查台账.xlsx", ledger)
    outcome = light_up(ledger, "2022Q2", now=datetime(2022, 7, 20, 9))
    assert outcome.exit_code in (0, 1)
    return ledger


def _final_counts(wb) -> dict[str, Counter]:
    rows = list(wb["亮灯记录"].iter_rows(values_only=True))
    head = rows[0]
    out: dict[str, Counter] = {}
    for r in rows[1:]:
        d = dict(zip(head, r))
        if d["任务编号"]:
            out.setdefault(d["周期"], Counter())[d["核定灯色"] or d["灯色"]] += 1
    return out


def _charts(path: Path, sheet: str) -> int:
    """How many charts the sheet's drawing holds, read from the package (openpyxl drops charts)."""
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(rf'<sheet[^>]*name="{sheet}"[^>]*r:id="(rId\d+)"', book).group(1)
        target = re.search(rf'Id="{rid}"[^>]*Target="/?(?:xl/)?([^"]+)"', rels) or re.search(
            rf'Target="/?(?:xl/)?([^"]+)"[^>]*Id="{rid}"', rels)
        sheet_part = "xl/" + target.group(1)
        sheet_rels = sheet_part.replace("worksheets/", "worksheets/_rels/") + ".rels"
        drawing = re.search(r'drawings/(drawing[^"]+)"', z.read(sheet_rels).decode()).group(1)
        drawing_rels = z.read(f"xl/drawings/_rels/{drawing}.rels").decode()
        return drawing_rels.count("/charts/chart")


def _chart_shapes(path: Path, sheet: str) -> list[tuple]:
    """Each chart of the sheet as (direction, grouping, title, data formulas), from the package."""
    with zipfile.ZipFile(path) as z:
        names = sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        shapes = []
        for name in names:
            xml = z.read(name).decode()
            xml = re.sub(r"<(/?)c:", r"<\1", xml)  # Excel writes c:-prefixed chart XML, openpyxl the default namespace
            title = "".join(re.findall(r"<a:t>([^<]*)</a:t>", xml.split("</title>")[0])) if "<title>" in xml else ""
            formulas = tuple(f for f in re.findall(r"<f>([^<]+)</f>", xml) if sheet in f)
            if formulas:
                shapes.append((re.search(r'<barDir val="(\w+)"', xml).group(1),
                               re.search(r'<grouping val="(\w+)"', xml).group(1), title,
                               tuple(sorted(f.replace("'", "").replace("$", "") for f in formulas))))
    return sorted(shapes)


def test_the_live_book_gets_the_same_native_charts(demo_year, tmp_path, monkeypatch, config_dir):
    """The 亮灯 button on the book open in Excel (xlwings' remote engine over the demo's ledger,
    actions applied the way desktop Excel applies them) makes the dashboard's charts as the
    book's own charts: the same kinds, titles and data as the file store's."""
    from tests.xlwings_remote import run_macro
    from xl_duban import ribbon

    by_file, live = tmp_path / "file" / "台账.xlsx", tmp_path / "live" / "台账.xlsx"
    for path in (by_file, live):
        path.parent.mkdir()
        shutil.copy2(demo_year / "2022年督查台账.xlsx", path)
    now = datetime(2022, 7, 20, 9)
    monkeypatch.chdir(live.parent)
    pressed = run_macro(live, lambda book: ribbon.press("light", book, now=now)).return_value
    assert "内部错误" not in pressed.message, pressed.message
    for outcome in pressed.outcomes:  # the file store lights what the button lit (this quarter and this month)
        light_up(by_file, outcome.summary["period"], now=now)
    shapes = _chart_shapes(live, "督查看板")
    assert len(shapes) == 4 and {(d, g) for d, g, *_ in shapes} == {("col", "stacked"), ("bar", "stacked")}
    assert shapes == _chart_shapes(by_file, "督查看板")


def test_light_writes_the_dashboard(lit):
    wb = openpyxl.load_workbook(lit)
    assert "督查看板" in wb.sheetnames
    ws = wb["督查看板"]
    assert ws["A1"].value.startswith("2022年督查看板")
    counts = _final_counts(wb)
    found = {}
    for row in ws.iter_rows(values_only=True):
        if row[0] and re.fullmatch(r"2022年(第[一二三四]季度|\d+月)", str(row[0])) and isinstance(row[1], int):
            found[row[0]] = list(row[1:5])
    expected = {}
    for period, c in counts.items():
        label = Period.parse(period).label
        expected[label] = [c["绿灯"], c["黄灯"], c["红灯"], c["绿灯"] + c["黄灯"] + c["红灯"]]
    assert found == expected and len(found) == 8  # 2022Q1, Q2 and 2022-01 … 06
    assert _charts(lit, "督查看板") == 4  # two kinds × (by period, by leader)
    validate_ledger(lit, now=datetime(2022, 7, 21, 9))  # another command's save keeps the charts
    assert _charts(lit, "督查看板") == 4


def test_dashboard_renders(lit, office, poppler, tmp_path):
    from .test_libreoffice import ARTIFACTS, _run

    pdf = office.convert(lit, "pdf", tmp_path / "pdf", ".pdf")
    pages = int(re.search(r"Pages:\s+(\d+)", _run(["pdfinfo", str(pdf)], what="pdfinfo").stdout).group(1))
    page = next(p for p in range(1, pages + 1)
                if "督查看板" in _run([poppler["pdftotext"], "-f", str(p), "-l", str(p), str(pdf), "-"], what="pdftotext").stdout)
    text = _run([poppler["pdftotext"], "-f", str(page), "-l", str(page), str(pdf), "-"], what="pdftotext").stdout
    assert "按责任领导" in "".join(text.split())
    ARTIFACTS.mkdir(exist_ok=True)
    _run([poppler["pdftoppm"], "-png", "-r", "70", "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
          str(ARTIFACTS / "dashboard")], what="pdftoppm")
