"""The documents a leader signs, read as LibreOffice prints them (issue 25).

Every expectation is counted here from the ledger's sheets (亮灯记录, 任务台账, 报送情况,
反馈记录), never from the bulletin's own objects, and checked in the text pdftotext reads
from the rendered PDF: a notice that says 亮红灯 about a yellow item, or 未完成节点目标 of a
unit that sent nothing, fails here.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn

from xl_duban.domain.issuing import lead_units_of
from xl_duban.domain.units import UnitDirectory
from xl_duban.io.ledger_store import LedgerStore
from xl_duban.services import publish_bulletin

from .test_bulletin import LATER, lights_sheet, sheet_rows, year  # noqa: F401  (fixture)
from .test_libreoffice import ARTIFACTS, _run, office, poppler  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("config_dir")


def to_pdfs(office, sources: list[Path], outdir: Path) -> list[Path]:
    """All ``sources`` converted by one LibreOffice run (20 notices in one start-up)."""
    outdir.mkdir(parents=True, exist_ok=True)
    _run([office.exe, "--headless", "--norestore", f"-env:UserInstallation={office.profile.as_uri()}",
          "--convert-to", "pdf", "--outdir", str(outdir), *map(str, sources)], what="soffice --convert-to pdf")
    return [outdir / (s.stem + ".pdf") for s in sources]


def pdf_text(poppler, pdf: Path, first: int | None = None, last: int | None = None, layout: bool = True) -> str:
    """The text of a PDF; ``layout`` keeps a hyphen at a line's end (2022-⏎ZD-001), the raw
    mode keeps each table cell on its own lines (for measuring body lines)."""
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    return _run([poppler["pdftotext"], *(["-layout"] if layout else []), *pages, str(pdf), "-"], what="pdftotext").stdout


def flat(text: str) -> str:
    return "".join(text.split())


def drawn(make_figure):
    """The figure ``make_figure()`` returns, drawn with every warning an error: a "Glyph …
    missing from font(s)" fails the test instead of printing boxes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = make_figure()
        fig.canvas.draw()
    return fig


def page_count(pdf: Path) -> int:
    return int(re.search(r"Pages:\s+(\d+)", _run(["pdfinfo", str(pdf)], what="pdfinfo").stdout).group(1))


def width(line: str) -> float:
    """Characters a printed line takes: a half-width letter or digit is half a character."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1 for ch in line if not ch.isspace())


def sheet(ledger: Path, name: str) -> list[dict]:
    rows = list(openpyxl.load_workbook(ledger, read_only=True)[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_notices_say_only_what_the_ledger_holds(office, poppler, year, tmp_path):
    outcome = publish_bulletin(year, "2022Q2", tmp_path / "out", now=LATER)
    assert outcome.exit_code == 0, outcome.findings
    led, _ = LedgerStore(year).load()
    directory = UnitDirectory(led.units)
    leads = {t.id: lead_units_of(t, directory) for t in led.tasks}
    lights = lights_sheet(year, "2022Q2")
    basis = {r["任务编号"]: r["依据"] for r in sheet(year, "亮灯记录") if r["周期"] == "2022Q2"}
    status = {r["单位"]: r["状态"] for r in sheet(year, "报送情况") if r["周期"] == "2022Q2"}
    reported = {r["报送单位"] for r in sheet(year, "反馈记录") if r["周期"] == "2022Q2"}

    def answers(task: str, unit: str) -> bool:
        """The unit answers for the task's light: it leads it and, on a co-led task where the
        依据 names units, it is one of those named."""
        named = [u for u in leads[task] if u in basis[task]]
        return unit in (named or leads[task])

    pdfs = to_pdfs(office, [Path(p) for p in outcome.summary["notices"]], tmp_path / "pdf")
    kinds = set()
    for pdf in pdfs:
        unit = pdf.stem.split("_")[1]
        text = flat(pdf_text(poppler, pdf))
        lit = [t for t in lights if unit in leads[t]]
        red = [t for t in lit if lights[t] == "红灯" and answers(t, unit)]
        yellow = [t for t in lit if lights[t] == "黄灯" and answers(t, unit)]
        assert red or yellow
        colours = "、".join(x for x in (f"{len(red)}项亮红灯" if red else "", f"{len(yellow)}项亮黄灯" if yellow else "") if x)
        assert f"你单位牵头的{len(lit)}项重点任务中，{colours}" in text, unit
        assert all(t in text for t in red + yellow) and not any(t in text for t in lit if t not in red + yellow)
        assert ("约谈你单位主要负责人" in text) == bool(red), unit  # 约谈 only for a red item
        assert text.count("亮红灯。") == len(red) and text.count("亮黄灯。") == len(yellow), unit
        assert "贵单位" not in text and "…" not in text
        assert ("逾期报送" in text) == (status.get(unit) == "逾期报送"), unit  # its own lateness only
        if status.get(unit) == "退回":  # its return was refused: not “未报送”, and why, once
            assert "你单位报送的反馈表被退回，未重新报送" in text and "你单位未报送反馈表" not in text, unit
            assert text.count("反馈表已被退回（") == 1, unit
            kinds.add("refused")
        elif unit not in reported:  # sent nothing: never “reported the target unmet”
            assert "你单位未报送反馈表" in text and "你单位报告" not in text, unit
        kinds.add("mixed" if red and yellow else "red" if red else "yellow")
        png = ARTIFACTS / "notices" / pdf.stem
        png.parent.mkdir(parents=True, exist_ok=True)
        _run([poppler["pdftoppm"], "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(png)],
             what="pdftoppm")
    assert kinds == {"mixed", "red", "yellow", "refused"}  # the demo has units of each kind


@pytest.mark.parametrize("period, most_pages", [("2022Q2", 8), ("2022-06", 4)])
def test_bulletin_leads_with_the_red_items(office, poppler, year, tmp_path, period, most_pages):
    outcome = publish_bulletin(year, period, tmp_path / "out", now=LATER)
    lights = lights_sheet(year, period)
    red = sorted(t for t, c in lights.items() if c == "红灯")
    assert red and sorted(outcome.summary["red"]) == red
    document = Path(outcome.summary["document"])
    [pdf] = to_pdfs(office, [document], tmp_path / "pdf")
    first_pages = re.sub(r"—\d+—", "", flat(pdf_text(poppler, pdf, 1, 2)))  # an id may run on past the page number
    assert all(t in first_pages for t in red)  # a leader finds every red item on pages 1–2
    whole = pdf_text(poppler, pdf)
    assert "…" not in whole
    assert page_count(pdf) <= most_pages
    # GB/T 9704: 28 characters on a full body line, never more
    lines = [line for line in pdf_text(poppler, pdf, layout=False).splitlines() if line.strip()]
    widths = [width(line) for line in lines if not re.search(r"[A-Za-z0-9]", line)]  # pure Chinese lines
    assert max(widths) <= 28 and 28 in widths
    # the order a leader reads: 总体情况, red, yellow before praise and the tables
    text = flat(whole)
    order = [text.find(h) for h in ("一、总体情况", "二、亮红灯事项", "三、亮黄灯事项", "表扬", "逾期报送、未报送和退回",
                                     "各单位亮灯情况", "按责任领导分列")]
    assert all(i >= 0 for i in order) and order == sorted(order)
    ARTIFACTS.mkdir(exist_ok=True)
    _run([poppler["pdftoppm"], "-png", "-r", "60", "-f", "1", "-l", "3", str(pdf),
          str(ARTIFACTS / f"leader-first-{period}")], what="pdftoppm")


def _tables(document: Path) -> list[list[list[str]]]:
    return [[[c.text for c in row.cells] for row in table.rows] for table in docx.Document(str(document)).tables]


def test_tables_carry_a_total_and_say_how_co_led_tasks_count(year, tmp_path):
    outcome = publish_bulletin(year, "2022Q2", tmp_path / "out", now=LATER)
    document = Path(outcome.summary["document"])
    lights = lights_sheet(year, "2022Q2")
    tables = _tables(document)
    body = next(t for t in tables if t[0][0] == "牵头单位")
    leaders = next(t for t in tables if t[0][0] == "责任领导")
    assert not any(t[0][:6] == ["牵头单位", "亮灯任务", "绿灯", "黄灯", "红灯", "牵头单位"] for t in tables)  # no appendix
    for table in (body, leaders):
        *rows, total = table[1:]
        assert total[0] == "合计"
        assert [int(x) for x in total[1:]] == [sum(int(r[i]) for r in rows) for i in range(1, 5)]
    assert all(int(r[3]) + int(r[4]) > 0 for r in body[1:-1])  # the body lists only units behind
    text = "\n".join(p.text for p in docx.Document(str(document)).paragraphs)
    assert "共同牵头的任务计入每个牵头单位" in text
    # every unit's row is the ledger sheet's (the full table after the signature), with its 合计
    rows = sheet_rows(year, "通报-2022Q2")
    start = next(n for n, r in enumerate(rows) if r and r[0] == "附表")
    header = next(n for n in range(start, len(rows)) if rows[n] and rows[n][0] == "牵头单位")
    full = [r for r in rows[header + 1:] if r and r[0] and isinstance(r[1], int)]
    units = [r for r in full if r[0] != "合计"]
    [total] = [r for r in full if r[0] == "合计"]
    assert total[1] == sum(r[1] for r in units) > len(lights)  # co-led tasks count for each unit
    assert any(f"合计{total[1]}项多于亮灯任务数{len(lights)}项" in str(c) for r in rows for c in r if c)
    behind = [r for r in units if r[3] or r[4]]
    assert [r[0] for r in body[1:-1]] == [r[0] for r in behind]
    assert f"其余{len(units) - len(behind)}个牵头单位牵头的任务均计绿灯" in text


def test_official_layout_in_the_document(year, tmp_path):
    """GB/T 9704-2012 as the .docx declares it: A4, type area 156 × 225 mm, a 22 × 28 grid,
    justified 3号 body, page numbers odd right / even left in 4号宋体, a title broken between
    words, the signature 4 characters in from the right, a 版记 with the 印发 line."""
    outcome = publish_bulletin(year, "2022Q2", tmp_path / "out", now=LATER, issued_on="2022-07-25")
    doc = docx.Document(outcome.summary["document"])
    section = doc.sections[0]
    mm = lambda length: round(length / 36000)  # noqa: E731  (EMU → mm)
    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert mm(section.page_width - section.left_margin - section.right_margin) == 156
    assert mm(section.page_height - section.top_margin - section.bottom_margin) == 225
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "linesAndChars" and grid.get(qn("w:linePitch")) == "579"
    normal = doc.styles["Normal"]
    assert normal.font.size.pt == 16 and normal.paragraph_format.alignment == 3  # JUSTIFY
    assert doc.settings.odd_and_even_pages_header_footer
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    assert (odd.alignment, even.alignment) == (2, 0)  # right, left
    assert odd.paragraph_format.right_indent.pt == 14 and even.paragraph_format.left_indent.pt == 14
    number = odd._p.find(".//" + qn("w:fldSimple"))
    assert number.find(".//" + qn("w:sz")).get(qn("w:val")) == "28"  # 4号
    assert number.find(".//" + qn("w:rFonts")).get(qn("w:ascii")) == "宋体"
    title = next(p for p in doc.paragraphs if "落实情况的通报" in p.text)
    assert title.alignment == 1 and title.text.split("\n") == ["关于2022年第二季度区《政府工作报告》", "重点任务落实情况的通报"]
    day = next(p for p in doc.paragraphs if p.text == "2022年7月25日")  # --date sets the 成文日期
    assert day.paragraph_format.right_indent.pt == 64
    texts = [p.text for p in doc.paragraphs]
    assert any(t.startswith("报：") for t in texts) and any(t.startswith("发：") for t in texts)
    assert texts[-1].endswith("2022年7月25日印发")
    notice = docx.Document(outcome.summary["notices"][0])
    assert notice.paragraphs[-2].text.startswith("抄送：分管区领导") and notice.paragraphs[-1].text.endswith("印发")


def test_interview_list_names_time_place_and_the_unit_head(office, poppler, year, tmp_path):
    store = LedgerStore(year)
    led, _ = store.load()
    led.set_setting("约谈地点", "区政府三楼会议室")
    store.save(led, now=LATER)
    outcome = publish_bulletin(year, "2022Q2", tmp_path / "out", now=LATER)
    path = Path(outcome.summary["interviews"])
    [table] = docx.Document(str(path)).tables
    widths = [c.width for c in table.rows[0].cells]
    assert round(sum(widths) / 36000) <= 156  # inside the type area (mm)
    [pdf] = to_pdfs(office, [path], tmp_path / "pdf")
    text = flat(pdf_text(poppler, pdf))
    assert "约谈地点：区政府三楼会议室" in text and "约谈时间：＿" in text
    assert all(t in text for t in outcome.summary["red"]) and "主要负责人" in text
    last = flat(pdf_text(poppler, pdf, page_count(pdf), page_count(pdf)))
    assert "2022-ZD-" in last  # the signature never stands alone on a page


@pytest.mark.parametrize("period", ["2022-02", "2022-06"])
def test_interview_list_never_ends_with_the_signature_alone(office, poppler, year, tmp_path, period):
    """The demo's monthly lists: one long 民生实事 item whose row ends near the foot of page 1
    (LibreOffice left 区府办公室督查室 and the date alone on the last page before): the last
    page holds the last red item's row above the signature."""
    outcome = publish_bulletin(year, period, tmp_path / "out", now=LATER)
    [pdf] = to_pdfs(office, [Path(outcome.summary["interviews"])], tmp_path / "pdf")
    pages = page_count(pdf)
    last = flat(pdf_text(poppler, pdf, pages, pages, layout=False))  # each cell's lines together
    assert "区府办公室督查室" in last
    assert "主要负责人" in last, last  # the last item's row is there too (its id may wrap in the cell)
    _run([poppler["pdftoppm"], "-png", "-r", "50", "-f", str(pages), "-l", str(pages), "-singlefile", str(pdf),
          str(ARTIFACTS / f"interviews-{period}-last-page")], what="pdftoppm")


def test_without_a_chinese_font_the_bulletin_is_made_without_the_chart(year, tmp_path, monkeypatch):
    from xl_duban.io import bulletin_docs

    monkeypatch.setattr(bulletin_docs, "cjk_font_file", lambda: None)
    outcome = publish_bulletin(year, "2022Q2", tmp_path / "out", now=LATER)
    assert outcome.summary["chart"] is False and Path(outcome.summary["document"]).exists()
    [finding] = [f for f in outcome.findings if f.code == "chart-font-missing"]
    assert "fonts-noto-cjk" in finding.hint
    assert not docx.Document(outcome.summary["document"]).inline_shapes


def test_chart_finds_the_font_whatever_matplotlib_cached(year, tmp_path, monkeypatch):
    """A font cache built before the CJK fonts were installed (CI, a new office PC): the chart
    still finds the installed files, draws every name without a missing glyph, counts in whole
    tasks and shows only the units with yellow or red, in the table's order."""
    from matplotlib import font_manager

    from xl_duban.domain.bulletin import build_bulletin
    from xl_duban.domain.periods import Period
    from xl_duban.io import bulletin_docs

    stale = [f for f in font_manager.fontManager.ttflist if f.name not in bulletin_docs.CJK_FONTS
             and "CJK" not in f.name and "WenQuanYi" not in f.name]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    bulletin_docs.cjk_font_file.cache_clear()
    try:
        font = bulletin_docs.cjk_font_file()
    finally:
        bulletin_docs.cjk_font_file.cache_clear()
    assert font is not None, "no CJK font file found (install fonts-noto-cjk)"
    led, _ = LedgerStore(year).load()
    bulletin = build_bulletin(led, Period.parse("2022Q2"), 8)
    ax = drawn(lambda: bulletin_docs.chart_figure(bulletin, font)).axes[0]
    assert all(float(t).is_integer() for t in ax.get_xticks())
    names = [t.get_text() for t in ax.get_yticklabels()][::-1]  # top to bottom
    behind = [r.name for r in bulletin.by_unit if r.counts.yellow or r.counts.red]
    assert names == behind[:bulletin_docs.CHART_UNITS] and len(behind) < len(bulletin.by_unit)
    assert ax.get_title() == f"2022年第二季度有黄灯、红灯的{len(behind)}个牵头单位亮灯情况"
