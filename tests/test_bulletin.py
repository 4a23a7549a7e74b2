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

from xl_duban.domain.issuing import lead_units_of
from xl_duban.domain.units import UnitDirectory
from xl_duban.io.ledger_store import LedgerStore
from xl_duban.services import light_up, publish_bulletin

from .conftest import NOW
from .test_libreoffice import ARTIFACTS, _run, office, poppler  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("config_dir")
LATER = datetime(2022, 7, 20, 9, 0)


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
    """Paragraphs, then each table row as cells joined by "|", tables inside cells included
    (the 约谈名单's last row holds the last item's row and the signature)."""
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]

    def rows(tables) -> None:
        for table in tables:
            for row in table.rows:
                parts.append("|".join(c.text for c in row.cells))
                for cell in row.cells:
                    rows(cell.tables)

    rows(document.tables)
    return "\n".join(parts)


def sheet_rows(ledger: Path, name: str) -> list[tuple]:
    return [r for r in openpyxl.load_workbook(ledger)[name].iter_rows(values_only=True)]


def test_every_count_equals_an_independent_count_of_the_lights(year, tmp_path):
    headers = ["牵头单位", "亮灯任务", "绿灯", "黄灯", "红灯"]
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
    start = next(n for n, r in enumerate(rows) if r and r[0] == "附表")  # every unit: the sheet's table
    unit_rows = [r for r in rows[start:] if r and r[0] not in (None, "合计", *headers) and isinstance(r[1], int)]
    assert sum(int(r[1]) for r in unit_rows) >= len(lights)
    assert all(int(r[1]) == int(r[2]) + int(r[3]) + int(r[4]) for r in unit_rows)


def published_numbers(ledger: Path) -> dict[str, int]:
    """Bulletin sheet → 期号, read straight from the 变更日志 sheet."""
    rows = sheet_rows(ledger, "变更日志")
    h = rows[0]
    return {r[h.index("对象")]: int(r[h.index("新值")]) for r in rows[1:] if r[h.index("操作")] == "通报"}


def test_numbering_continues_across_monthly_and_quarterly_bulletins(year, tmp_path):
    numbers = published_numbers(year)
    # the demo publishes 月报 for 2022-01 … 2022-06 and 通报 for both quarters, in the order they happen
    assert sorted(numbers, key=numbers.get) == ["月报-2022-01", "月报-2022-02", "月报-2022-03", "通报-2022Q1",
                                                "月报-2022-04", "月报-2022-05", "月报-2022-06", "通报-2022Q2"]
    assert sorted(numbers.values()) == list(range(1, len(numbers) + 1))
    again = publish_bulletin(year, "2022Q2", tmp_path / "b", now=LATER)
    assert again.summary["number"] == numbers["通报-2022Q2"]  # republishing keeps its number
    assert f"第{numbers['通报-2022Q2']}期" in docx_text(Path(again.summary["document"]))
    assert published_numbers(year) == numbers


def test_monthly_bulletin_counts_only_livelihood_projects(year, tmp_path):
    outcome = publish_bulletin(year, "2022-06", tmp_path / "out", now=LATER)
    assert outcome.exit_code == 0, outcome.findings
    lights = lights_sheet(year, "2022-06")
    assert lights and all(t.startswith("2022-MS-") for t in lights)
    colors = Counter(lights.values())
    assert outcome.summary["counts"] == {"绿灯": colors["绿灯"], "黄灯": colors["黄灯"], "红灯": colors["红灯"],
                                         "合计": len(lights)}
    assert set(outcome.summary["red"]) == {t for t, c in lights.items() if c == "红灯"}
    assert set(outcome.summary["yellow"]) == {t for t, c in lights.items() if c == "黄灯"}
    previous = Counter(lights_sheet(year, "2022-05").values())
    text = docx_text(Path(outcome.summary["document"]))
    rows = sheet_rows(year, "月报-2022-06")
    sheet_text = "\n".join(str(c) for r in rows for c in r if c is not None)
    sentence = (f"2022年6月共对{len(lights)}项民生实事亮灯，其中绿灯{colors['绿灯']}项（{colors['绿灯'] / len(lights):.1%}）、"
                f"黄灯{colors['黄灯']}项（{colors['黄灯'] / len(lights):.1%}）、红灯{colors['红灯']}项")
    for where in (text, sheet_text):
        assert "关于2022年6月区十件民生实事落实情况的通报" in where.replace("\n", "")  # the title breaks between words
        assert sentence in where and "与5月相比" in where
        assert "2022-ZD-" not in where  # key tasks belong to the quarterly bulletin
    green_delta = colors["绿灯"] - previous["绿灯"]
    assert (f"绿灯增加{green_delta}项" if green_delta > 0 else f"绿灯减少{-green_delta}项" if green_delta else "绿灯持平") in text


def test_notices_and_interview_list(year, tmp_path):
    outcome = publish_bulletin(year, "2022Q2", tmp_path / "out", now=LATER)
    led, _ = LedgerStore(year).load()
    lights = lights_sheet(year, "2022Q2")
    tasks = {t.id: t for t in led.tasks}
    directory = UnitDirectory(led.units)
    basis = {r.task_id: r.basis for r in led.lights if r.period == "2022Q2"}

    def answerable(task_id: str) -> list[str]:
        """A notice goes to each lead unit of a flagged task; on a co-led task, to the units its
        依据 names as behind (those that met their target get none)."""
        leads = lead_units_of(tasks[task_id], directory)
        return [u for u in leads if u in basis[task_id]] or leads

    flagged_units = {u for t, c in lights.items() if c in ("黄灯", "红灯") for u in answerable(t)}
    names = {Path(p).name.split("_")[1] for p in outcome.summary["notices"]}
    assert names == flagged_units
    notice = next(Path(p) for p in outcome.summary["notices"] if "_区发展和改革局_" in p)
    text = docx_text(notice)
    mine = [t for t, c in lights.items() if c in ("黄灯", "红灯") and "区发展和改革局" in answerable(t)]
    theirs = [t for t, c in lights.items() if c in ("黄灯", "红灯") and t not in mine]
    assert mine and all(t in text for t in mine) and "抄送：分管区领导曹新华" in text
    assert not any(t in text for t in theirs)  # not a co-lead's item it met the target of
    assert f"请于{int(outcome.summary['rectify_by'][:4])}年" in text
    interviews = docx_text(Path(outcome.summary["interviews"]))
    assert all(t in interviews for t, c in lights.items() if c == "红灯")


def bulletin_lines(document: Path, ledger: Path, sheet: str) -> tuple[set[str], set[str]]:
    """The bulletin's lines as a reader sees them (docx paragraphs and table rows; sheet rows),
    without list numbers, which shift when an item above them comes or goes."""
    doc = docx.Document(str(document))
    lines = [p.text for p in doc.paragraphs if p.text.strip()]
    for table in doc.tables:
        for row in table.rows:
            cells = [c.text for c in row.cells]
            halves = [cells[:5], cells[5:]] if len(cells) == 10 else [cells]  # the appendix: two units a row
            lines += ["|".join(h) for h in halves if any(h)]
    cells = ["|".join(str(c) for c in r if c is not None) for r in sheet_rows(ledger, sheet) if any(r)]
    strip = lambda line: re.sub(r"^(\d+\. |\d+\|)", "", line)  # noqa: E731  (list numbers, table 序号)
    return {strip(x) for x in lines}, {strip(x) for x in cells}


def test_one_changed_feedback_changes_exactly_the_lines_that_depend_on_it(year, tmp_path):
    before = publish_bulletin(year, "2022Q2", tmp_path / "a", now=LATER).summary
    lines_before = bulletin_lines(Path(before["document"]), year, "通报-2022Q2")
    red_task = before["red"][0]
    lights_before = {(r.task_id, r.period): r.model_dump() for r in LedgerStore(year).load()[0].lights}
    store = LedgerStore(year)
    led, _ = store.load()
    task = next(t for t in led.tasks if t.id == red_task)
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
    # in the bulletin (docx and sheet) only the lines that depend on this task changed: its own
    # item, its units' and leaders' table rows, the totals and the list counts
    lines_after = bulletin_lines(Path(after["document"]), year, "通报-2022Q2")
    owners = set(task.lead_units) | set(task.leaders)

    def depends(line: str) -> bool:
        return (red_task in line or line.split("|")[0] in owners or f"共对{before['counts']['合计']}项重点任务亮灯" in line
                or line.startswith("合计|") or re.match(r"自评.灯、核定.灯的\d+项：", line) is not None  # a grouped list
                or re.fullmatch(r"(共|亮红灯的)\d+项(：|如下（原因见第二部分）：)", line) is not None
                or re.fullmatch(r"亮红灯的\d+项如下（牵头单位、责任领导和原因见第二部分）：", line) is not None
                or re.fullmatch(r"[\d\w-]+([|、][\d\w-]*)*", line) is not None and "-ZD-" in line  # the red numbers' grid
                or re.fullmatch(r"[一二三四五六七八九]、亮[红黄]灯事项（(约谈|整改)）\d+项", line) is not None)

    for old, new in zip(lines_before, lines_after):
        diff = old ^ new
        assert diff and all(depends(line) for line in diff), sorted(x for x in diff if not depends(x))
        assert any(red_task in line and "亮红灯" in line for line in old - new)  # gone from the red list
        assert any(red_task in line and "亮黄灯" in line for line in new - old)  # now in the yellow list
        assert {line.split("|")[0] for line in diff if "|" in line and line.split("|")[0] in owners} == owners


@pytest.mark.parametrize("period, sheet, title", [
    ("2022Q2", "通报-2022Q2", "关于2022年第二季度区《政府工作报告》重点任务落实情况的通报"),
    ("2022-06", "月报-2022-06", "关于2022年6月区十件民生实事落实情况的通报"),
])
def test_bulletin_renders_to_pdf_and_png(office, poppler, year, tmp_path, period, sheet, title):
    outcome = publish_bulletin(year, period, tmp_path / "out", now=LATER)
    ARTIFACTS.mkdir(exist_ok=True)
    kind = "quarterly" if "Q" in period else "monthly"
    for source, stem in ((Path(outcome.summary["document"]), f"bulletin-{kind}-docx"), (year, f"bulletin-{kind}-sheet")):
        if source == year:  # only the bulletin sheet: a copy of the ledger holding just that sheet
            wb = openpyxl.load_workbook(year)
            for name in wb.sheetnames:
                if name != sheet:
                    del wb[name]
            source = tmp_path / "bulletin-sheet.xlsx"
            wb.save(source)
        pdf = office.convert(source, "pdf", tmp_path / stem, ".pdf")
        info = _run([poppler["pdftotext"], "-layout", str(pdf), "-"], what="pdftotext").stdout
        flat = "".join(info.split())
        assert "源城政务督查" in flat and f"第{outcome.summary['number']}期" in flat
        assert title in flat
        assert f"红灯{outcome.summary['counts']['红灯']}项" in flat
        assert all(t in flat for t in outcome.summary["red"] + outcome.summary["yellow"])
        pages = int(re.search(r"Pages:\s+(\d+)", _run(["pdfinfo", str(pdf)], what="pdfinfo").stdout).group(1))
        assert 1 <= pages <= 40
        png = ARTIFACTS / stem
        _run([poppler["pdftoppm"], "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(png)],
             what="pdftoppm")
        assert png.with_name(png.name + ".png").read_bytes()[:4] == b"\x89PNG"


def test_chart_keeps_to_one_page_for_many_units():
    """A province has ~200 lead units: the chart shows the 30 most behind (the table lists all),
    so it grows with the units up to 30 and then stops, well inside one page."""
    import struct

    from xl_duban.domain.bulletin import Bulletin, Counts, Row
    from xl_duban.domain.models import TaskKind
    from xl_duban.domain.periods import Period
    from xl_duban.io.bulletin_docs import CHART_UNITS, chart_png

    def height_mm(units: int) -> float:
        rows = [Row(name=f"第{i}单位", counts=Counts(green=1, yellow=1 + i % 3, red=i % 2)) for i in range(units)]
        bulletin = Bulletin(period=Period.parse("2024Q1"), kind=TaskKind.key, number=1, counts=Counts(green=units),
                            previous=None, by_unit=rows)
        png = chart_png(bulletin)
        return struct.unpack(">I", png[16:20])[0] and struct.unpack(">I", png[20:24])[0] / 150 * 25.4  # IHDR, 150 dpi

    few, most, many = height_mm(12), height_mm(CHART_UNITS), height_mm(200)
    assert few < most == many  # capped at CHART_UNITS bars
    assert most < 225 / 2  # half the type area at most: it never takes a page of its own


def test_table_cells_keep_line_breaks_and_edge_spaces():
    """Bulletin tables copy their first row for speed; texts a copy cannot hold as they are
    (a clerk's two-line 核定说明, a leading space) are written the long way."""
    from docx.oxml.ns import qn

    from xl_duban.io.bulletin_docs import add_table, official_document

    doc = official_document()
    add_table(doc, ["编号", "依据"], [["1", "第一行\n第二行"], ["2", " 前导空格"], ["3", "普通"]], [2.0, 8.0])
    cells = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert cells == [["编号", "依据"], ["1", "第一行\n第二行"], ["2", " 前导空格"], ["3", "普通"]]
    second = doc.tables[0].rows[1].cells[1]._tc
    assert second.find(".//" + qn("w:br")) is not None  # a real line break, not a raw newline
    spaced = doc.tables[0].rows[2].cells[1]._tc.find(".//" + qn("w:t"))
    assert spaced.get("{http://www.w3.org/XML/1998/namespace}space") == "preserve"  # Word keeps the space
