"""督查专报 (``duban brief``, issue 27): one report per 分管区领导, read as LibreOffice prints it.

Every expectation is counted here from the ledger's sheets (亮灯记录 灯色, 任务台账 责任领导,
报送情况 状态) read with openpyxl, never from the brief's own objects: a leader must find in
his or her 专报 exactly the yellow and red tasks of the portfolio, the true counts and their
change, and nothing of another leader's.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections import Counter
from pathlib import Path

import docx
import openpyxl
import pytest

from xl_duban.domain.issuing import lead_units_of
from xl_duban.domain.units import UnitDirectory
from xl_duban.io.ledger_store import LedgerStore
from xl_duban.services import brief_leaders

from .conftest import run_json
from .test_bulletin import LATER, lights_sheet, year  # noqa: F401  (fixture)
from .test_documents import drawn, flat, page_count, pdf_text, sheet, to_pdfs, width
from .test_libreoffice import ARTIFACTS, _run, office, poppler  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("config_dir")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leaders_of_tasks(ledger: Path) -> dict[str, list[str]]:
    """任务编号 → the names in its 责任领导 cell, read straight from 任务台账."""
    return {r["任务编号"]: [n for n in str(r["责任领导"] or "").split("、") if n] for r in sheet(ledger, "任务台账")}


def test_each_leader_gets_exactly_the_portfolio(office, poppler, year, tmp_path):
    before = digest(year)
    out = tmp_path / "专报"
    code, result = run_json("brief", str(year), "--period", "2022Q2", "--out", str(out), "--date", "2022-07-20")
    assert code == 0, result
    assert digest(year) == before  # the ledger is only read: not a byte written
    assert not (year.parent / "台账备份").exists()
    lights, previous = lights_sheet(year, "2022Q2"), lights_sheet(year, "2022Q1")
    leaders = leaders_of_tasks(year)
    portfolio: dict[str, list[str]] = {}
    for task in lights:
        for name in leaders[task]:
            portfolio.setdefault(name, []).append(task)
    briefs = {b["leader"]: b for b in result["briefs"]}
    assert set(briefs) == set(portfolio)  # one brief per leader named on a lit task
    led, _ = LedgerStore(year).load()
    directory = UnitDirectory(led.units)
    status = {r["单位"]: r["状态"] for r in sheet(year, "报送情况") if r["周期"] == "2022Q2"}
    pdfs = dict(zip(briefs, to_pdfs(office, [Path(b["document"]) for b in briefs.values()], tmp_path / "pdf")))
    widths: list[float] = []
    for leader, tasks in portfolio.items():
        brief = briefs[leader]
        assert Path(brief["document"]).name == f"督查专报-{leader}-2022Q2.docx"
        colors = Counter(lights[t] for t in tasks)
        red = sorted(t for t in tasks if lights[t] == "红灯")
        yellow = sorted(t for t in tasks if lights[t] == "黄灯")
        assert brief["counts"] == {"绿灯": colors["绿灯"], "黄灯": colors["黄灯"], "红灯": colors["红灯"], "合计": len(tasks)}
        assert sorted(brief["red"]) == red and sorted(brief["yellow"]) == yellow
        pdf = pdfs[leader]
        pages = page_count(pdf)
        assert pages <= 2, leader  # 1–2 pages, as LibreOffice prints it
        last = [line for line in pdf_text(poppler, pdf, pages, pages, layout=False).splitlines() if line.strip()]
        body = [line for line in last if not line.startswith(("报：", "区府办公室督查室")) and not re.fullmatch(r"—\s*\d+\s*—", line)]
        assert body, (leader, last)  # the last page never holds the 版记 alone
        text = flat(pdf_text(poppler, pdf))
        assert all(t in text for t in red + yellow), leader
        assert not any(t in text for t in lights if t not in red + yellow), leader  # no green, no other leader's
        assert f"{leader}同志分管的重点任务共有{len(tasks)}项亮灯，其中绿灯{colors['绿灯']}项" in text
        assert f"红灯{colors['红灯']}项" in text and f"黄灯{colors['黄灯']}项" in text
        before_colors = Counter(previous[t] for t in previous if leader in leaders[t])
        if before_colors:
            change = colors["红灯"] - before_colors["红灯"]
            words = f"增加{change}项" if change > 0 else f"减少{-change}项" if change < 0 else "持平"
            assert f"与第一季度相比，" in text and f"红灯{words}" in text, leader
        assert text.count("红灯") >= len(red) and ("全部亮绿灯" in text) == (not red and not yellow), leader
        units = {u for t in tasks for u in lead_units_of(next(x for x in led.tasks if x.id == t), directory)}
        reporting = text.split("牵头单位报送情况")[1].split(f"报：{leader}")[0]
        assert f"分管任务共有{len(units)}个牵头单位" in reporting
        for state, label in (("逾期报送", "逾期报送"), ("退回", "退回未重报"), ("未报送", "未报送")):
            named = sorted(u for u in units if status.get(u) == state)
            if named:
                assert f"{label}{len(named)}家（{'、'.join(named)}）" in reporting, (leader, state)
            else:
                assert not re.search(label + r"\d+家", reporting), (leader, state)
        assert f"报：{leader}同志" in text and "—1—" in text
        assert len(docx.Document(brief["document"]).inline_shapes) == 1  # the chart
        lines = [line for line in pdf_text(poppler, pdf, layout=False).splitlines() if line.strip()]
        widths += [width(line) for line in lines if not re.search(r"[A-Za-z0-9]", line)]
    assert max(widths) <= 28 and 28 in widths  # GB/T 9704: 28 characters on a full body line
    most_red = max(portfolio, key=lambda name: (briefs[name]["counts"]["红灯"], name))
    none = sorted(name for name in portfolio if not briefs[name]["red"] and not briefs[name]["yellow"])
    assert none, "the demo has a leader with no yellow or red"
    (ARTIFACTS / "briefs").mkdir(parents=True, exist_ok=True)
    for name, pages in ((most_red, 2), (none[0], 1)):
        _run([poppler["pdftoppm"], "-png", "-r", "60", "-f", "1", "-l", str(pages), str(pdfs[name]),
              str(ARTIFACTS / "briefs" / f"brief-{name}")], what="pdftoppm")


def test_monthly_briefs_count_livelihood_projects(year, tmp_path):
    outcome = brief_leaders(year, "2022-06", tmp_path / "out", now=LATER)
    assert outcome.exit_code == 0, outcome.findings
    lights = lights_sheet(year, "2022-06")
    leaders = leaders_of_tasks(year)
    for brief in outcome.summary["briefs"]:
        tasks = [t for t in lights if brief["leader"] in leaders[t]]
        assert tasks and all(t.startswith("2022-MS-") for t in tasks)
        assert brief["counts"]["合计"] == len(tasks)
        assert sorted(brief["red"] + brief["yellow"]) == sorted(t for t in tasks if lights[t] != "绿灯")
        text = "".join(p.text for p in docx.Document(brief["document"]).paragraphs)
        assert "2022年6月" in text and "民生实事" in text


def test_a_period_not_lit_writes_nothing(year, tmp_path):
    before = digest(year)
    outcome = brief_leaders(year, "2022Q4", tmp_path / "out", now=LATER)
    assert outcome.exit_code == 1 and [f.code for f in outcome.findings if f.level.value == "错误"] == ["not-lit"]
    bad = brief_leaders(year, "2022Q5", tmp_path / "out", now=LATER)
    assert bad.exit_code == 2 and "2024Q1" in bad.findings[0].text()
    assert not (tmp_path / "out").exists() and digest(year) == before


def test_a_task_without_a_leader_is_named(year, tmp_path):
    """A lit task whose 责任领导 is blank is in no 专报: the office is told which one, where."""
    wb = openpyxl.load_workbook(year)
    ws = wb["任务台账"]
    header = [c.value for c in ws[1]]
    red = sorted(t for t, c in lights_sheet(year, "2022Q2").items() if c == "红灯")[0]
    row = next(r for r in ws.iter_rows(min_row=2) if r[header.index("任务编号")].value == red)
    row[header.index("责任领导")].value = None
    wb.save(year)
    outcome = brief_leaders(year, "2022Q2", tmp_path / "out", now=LATER)
    [finding] = [f for f in outcome.findings if f.code == "missing-leader"]
    assert red in finding.message and finding.sheet == "任务台账" and finding.row == row[0].row
    assert not any(red in b["red"] for b in outcome.summary["briefs"])


def test_chart_draws_every_label_in_whole_tasks(year):
    """The chart of a leader's lights per quarter: no missing glyph (a warning is an error
    here), whole numbers on the axis, one column a period lit so far with the sheet's counts."""
    from xl_duban.domain.briefs import leader_briefs
    from xl_duban.domain.bulletin import build_bulletin
    from xl_duban.domain.periods import Period
    from xl_duban.io import bulletin_docs

    font = bulletin_docs.cjk_font_file()
    assert font is not None, "no CJK font file found (install fonts-noto-cjk)"
    led, _ = LedgerStore(year).load()
    leaders = leaders_of_tasks(year)
    for brief in leader_briefs(led, build_bulletin(led, Period.parse("2022Q2"), 0)):
        ax = drawn(lambda: bulletin_docs.brief_chart_figure(brief, font)).axes[0]
        assert all(float(t).is_integer() for t in ax.get_yticks())
        assert [t.get_text() for t in ax.get_xticklabels()] == ["第一季度", "第二季度"][:len(brief.history)]
        for (period, counts), quarter in zip(brief.history, ("2022Q1", "2022Q2")):
            colors = Counter(c for t, c in lights_sheet(year, quarter).items() if brief.leader in leaders[t])
            assert (counts.green, counts.yellow, counts.red) == (colors["绿灯"], colors["黄灯"], colors["红灯"])
        heights = [sum(p.get_height() for p in ax.patches if p.get_x() < i < p.get_x() + p.get_width())
                   for i in range(len(brief.history))]
        assert heights == [c.total for _p, c in brief.history]


def test_ribbon_button_writes_the_quarters_briefs(year, tmp_path):
    """领导专报 runs the same service over the open book, into 领导专报 beside the ledger."""
    from xl_duban import ribbon
    from xl_duban.io.ledger_store import LedgerStore as Store

    store = Store(year)
    led, _ = store.load()
    led.set_setting("当前季度", "2022Q2")
    store.save(led, now=LATER)
    [(command, outcome)] = list(ribbon.RUNS["leader_briefs"](store, led, None, LATER))
    assert command == "brief" and outcome.exit_code == 0
    files = sorted(p.name for p in (year.parent / "领导专报").iterdir())
    assert files == sorted(Path(b["document"]).name for b in outcome.summary["briefs"]) and files
    shutil.rmtree(year.parent / "领导专报")
