"""The bulletin as a document and as a ledger sheet, the 整改通知书 and the 约谈 list.

Documents follow the conventions of GB/T 9704 (党政机关公文格式) as far as a .docx can:
A4 with 37/35/28/26 mm margins, a red masthead (刊名 and 第N期) over a red rule, the title in
方正小标宋简体, body text in 仿宋_GB2312 三号 (16 pt) at a fixed 28 pt line pitch, level-one
headings in 黑体 and level-two in 楷体_GB2312, page numbers “— N —” in the footer. Where those
fonts are not installed (most machines outside government offices), Word, WPS and LibreOffice
substitute the nearest Song/Fang Song/Hei face they have; the layout does not depend on them.
"""

from __future__ import annotations

import copy
import functools
import io
from datetime import date
from pathlib import Path
from typing import Callable

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.text.run import Run
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, Side

from ..domain.cells import date_text
from ..domain.briefs import MASTHEAD as BRIEF_MASTHEAD, Brief, brief_blocks
from ..domain.briefs import chart_title as brief_chart_title
from ..domain.bulletin import Bulletin, Item, task_title
from ..domain.lights import period_name
from ..domain.documents import Block, behind_units, bulletin_blocks, copy_to, notice_paragraphs, width
from ..domain.models import LightColor
from ..timing import stage
from .fonts import BODY_FONT, CJK_FONTS, HEADING_FONT, KAI_FONT, TITLE_FONT, cjk_font_file  # noqa: F401 (CJK_FONTS: tests)
from .ledger_store import HEADER_FILL, Stamps, print_setup, write_cell
from .views import LIGHT_FILLS, _fresh_sheet, fit_row_height

RED = RGBColor(0xC0, 0x00, 0x00)
CHART_COLORS = {"绿灯": "#5CB85C", "黄灯": "#F0C419", "红灯": "#D9534F"}


# --- chart --------------------------------------------------------------------------------


CHART_UNITS = 30  # bars that fit the picture's page; the table beside it lists every unit behind
FONT_PACKAGE = "fonts-noto-cjk"  # Debian/Ubuntu; on Windows 微软雅黑 is always installed


def chart_units(bulletin: Bulletin) -> list:
    """The units the chart shows: those with a yellow or red light, most behind first (the
    order of the body's table and of the sheet's chart), at most ``CHART_UNITS``."""
    return behind_units(bulletin)[:CHART_UNITS]


def chart_title(bulletin: Bulletin) -> str:
    """The chart's title, saying exactly which units it shows."""
    behind = len(behind_units(bulletin))
    shown = f"有黄灯、红灯的{behind}个牵头单位" if behind <= CHART_UNITS else f"黄灯、红灯最多的{CHART_UNITS}个牵头单位（共{behind}个）"
    return f"{bulletin.period.label}{shown}亮灯情况"


def chart_png(bulletin: Bulletin) -> bytes | None:
    """A stacked bar chart of the units with yellow or red lights (:func:`chart_figure`) as
    PNG; None without a CJK font (the names would print as boxes: the caller makes the
    bulletin without the chart and says which package to install)."""
    return figure_png(lambda font_file: chart_figure(bulletin, font_file))


def figure_png(figure: Callable[[str], object]) -> bytes | None:
    """The matplotlib Figure ``figure`` draws with a CJK font file, as PNG; None when this
    machine has no CJK font (:func:`~.fonts.cjk_font_file`)."""
    font_file = cjk_font_file()
    if font_file is None:
        return None
    out = io.BytesIO()
    figure(font_file).savefig(out, format="png")
    return out.getvalue()


def _figure(width: float, height: float):
    """A blank matplotlib Figure of ``width`` × ``height`` inches at 150 dpi (Agg: no display)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=150)


def chart_figure(bulletin: Bulletin, font_file: str):
    """The chart as a matplotlib Figure, every text in the font of ``font_file`` (given by
    file, so matplotlib's font cache does not matter).

    A city or province has a few hundred units: the chart shows at most ``CHART_UNITS`` bars,
    the most behind first, so it stays one page tall and readable. The axis counts tasks, so
    its ticks are whole numbers."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import MaxNLocator

    font = FontProperties(fname=font_file)
    rows = list(reversed(chart_units(bulletin)))  # barh draws the first row at the bottom
    names = [r.name for r in rows]
    fig = _figure(5.2, max(1.3, 0.11 * len(rows) + 0.7))  # under 3 mm a bar on the page
    ax = fig.add_subplot()
    _stack(ax, [r.counts for r in rows], horizontal=True)
    ax.set_yticks(range(len(names)), names, fontproperties=font, fontsize=6.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel("任务数（项）", fontproperties=font, fontsize=8)
    ax.set_title(chart_title(bulletin), fontproperties=font, fontsize=10)
    ax.legend(prop=FontProperties(fname=font_file, size=7), loc="lower right")
    ax.grid(axis="x", linestyle=":", linewidth=0.5)
    ax.set_axisbelow(True)
    fig.tight_layout()
    return fig


def _stack(ax, counts: list, *, horizontal: bool) -> None:
    """One stacked bar per ``counts`` (green, yellow, red from the base), in the lights' colours."""
    base = [0] * len(counts)
    for color in (LightColor.green, LightColor.yellow, LightColor.red):
        values = [c.of(color) for c in counts]
        if horizontal:
            ax.barh(range(len(counts)), values, left=base, color=CHART_COLORS[color.value], label=color.value, height=0.7)
        else:
            ax.bar(range(len(counts)), values, bottom=base, color=CHART_COLORS[color.value], label=color.value, width=0.6)
        base = [a + b for a, b in zip(base, values)]


def brief_chart_figure(brief: Brief, font_file: str):
    """A 专报's chart: the leader's green, yellow and red tasks in each period of the year so
    far, one stacked column a period (whole tasks on the axis), small enough to leave the page
    to the text."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import MaxNLocator

    font = FontProperties(fname=font_file)
    fig = _figure(5.2, 1.4)  # printed 132 mm wide, as the bulletin's: its 7 pt labels print at 7 pt
    ax = fig.add_subplot()
    _stack(ax, [c for _p, c in brief.history], horizontal=False)
    ax.set_xticks(range(len(brief.history)), [period_name(p) for p, _c in brief.history], fontproperties=font, fontsize=7)
    ax.set_xlim(-0.7, max(len(brief.history), 4) - 0.3)  # a column stays a column with one or two periods
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylabel("任务数（项）", fontproperties=font, fontsize=8)
    ax.set_title(brief_chart_title(brief), fontproperties=font, fontsize=9)
    ax.legend(prop=FontProperties(fname=font_file, size=7), loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", linestyle=":", linewidth=0.5)
    ax.set_axisbelow(True)
    fig.tight_layout()
    return fig


# --- docx helpers -------------------------------------------------------------------------


def official_document() -> Document:
    """A blank document in the official layout, opened from a slim template made once.

    python-docx's default template carries 790 KB of style definitions (every built-in
    style, twice over with stylesWithEffects.xml) that each document would parse and
    compress again; a bulletin writes one notice per unit behind."""
    return Document(io.BytesIO(_official_template()))


@functools.lru_cache(maxsize=1)
def _notice_document() -> Document:
    """One document every notice of a run is written into in turn (:func:`_emptied`): a
    notice only adds paragraphs, and a province bulletin writes 170 of them."""
    return official_document()


def _emptied(doc) -> Document:
    """``doc`` with its body emptied (the page setup, its last child, stays)."""
    body = doc.element.body
    for child in list(body)[:-1] if len(body) and body[-1].tag == qn("w:sectPr") else list(body):
        body.remove(child)
    return doc


@functools.lru_cache(maxsize=1)
def _official_template() -> bytes:
    doc = _build_official_document()
    _slim(doc)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


KEPT_STYLES = {"Normal", "Table Grid", "Footer", "Header"}


def _slim(doc) -> None:
    """Drop what no document here uses: styles other than the defaults and ``KEPT_STYLES``
    (with what they are based on), the latent-style list, stylesWithEffects and the thumbnail."""
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            doc.part.drop_rel(rid)
    package = doc.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            package.rels.pop(rid)
    root = doc.styles.element
    styles = {el.get(qn("w:styleId")): el for el in root.findall(qn("w:style"))}
    keep = {sid for sid, el in styles.items()
            if el.get(qn("w:default")) == "1" or (el.find(qn("w:name")) is not None
                                                   and el.find(qn("w:name")).get(qn("w:val")) in KEPT_STYLES)}
    todo = list(keep)
    while todo:  # what the kept styles are based on or linked to
        el = styles.get(todo.pop())
        for tag in ("w:basedOn", "w:link", "w:next"):
            ref = el.find(qn(tag)) if el is not None else None
            if ref is not None and ref.get(qn("w:val")) in styles and ref.get(qn("w:val")) not in keep:
                keep.add(ref.get(qn("w:val")))
                todo.append(ref.get(qn("w:val")))
    for sid, el in styles.items():
        if sid not in keep:
            root.remove(el)
    latent = root.find(qn("w:latentStyles"))
    if latent is not None:
        root.remove(latent)


CHAR = Pt(16)  # one character of the body (3号)
LINE_PITCH = 579  # twips: 22 lines in the 225 mm type area (GB/T 9704-2012 §5.2.2)
CHAR_SPACE = -849  # 1/4096 pt added to the 16 pt pitch: 28 characters in the 156 mm type area
CHAR_TIGHTEN = -8  # twentieths of a point between characters: 28 a line (LibreOffice needs 0.4 pt, not 0.21)


PPR_ORDER = ("pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
             "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap", "overflowPunct",
             "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind",
             "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc", "textDirection", "textAlignment",
             "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange")
RPR_ORDER = ("rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike", "outline", "shadow",
             "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden", "color", "spacing", "w", "kern",
             "position", "sz", "szCs", "highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs",
             "em", "lang", "eastAsianLayout", "specVanish", "oMath")


def _insert_ordered(parent, element, order: tuple[str, ...]) -> None:
    """Put ``element`` where the schema wants it among ``parent``'s children (Word refuses a
    document whose properties are out of order), replacing one of the same name."""
    name = element.tag.rpartition("}")[2]
    for old in parent.findall(element.tag):
        parent.remove(old)
    rank = order.index(name)
    for child in parent:
        other = child.tag.rpartition("}")[2]
        if other in order and order.index(other) > rank:
            child.addprevious(element)
            return
    parent.append(element)


def _build_official_document() -> Document:
    """A4, type area 156 × 225 mm (margins 37/35/28/26 mm), a grid of 22 lines × 28 characters,
    3号仿宋 justified, page numbers on odd pages right and on even pages left (GB/T 9704-2012
    §5.2, §7.5): the page a leader signs is the page every office prints."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    # the page number's line starts 7 mm below the type area: 35 − 7 − one 4号 line (≈ 5 mm)
    section.footer_distance = Mm(23)
    style = doc.styles["Normal"]
    _set_font(style.font, style.element, BODY_FONT, 16)
    style.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    style.paragraph_format.line_spacing = Pt(LINE_PITCH / 20)
    style.paragraph_format.space_after = Pt(0)
    style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    # The grid is declared (Word shows 22 × 28 when text is typed in), but text is laid off it
    # with each character 0.4 pt narrower: a 16 pt character is wider than the grid's
    # 15.79 pt cell, and LibreOffice gives such a character two cells (14 a line), while
    # Word squeezes it. 16 − 0.4 = 15.6 pt a character gives 28 a line in both (LibreOffice
    # reads the spacing only on the runs, so every run carries it).
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    _insert_ordered(style.element.get_or_add_pPr(), snap, PPR_ORDER)
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), str(CHAR_TIGHTEN))
    _insert_ordered(style.element.get_or_add_rPr(), spacing, RPR_ORDER)
    sectpr = section._sectPr
    for old in sectpr.findall(qn("w:docGrid")):
        sectpr.remove(old)
    grid = OxmlElement("w:docGrid")
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(LINE_PITCH))
    grid.set(qn("w:charSpace"), str(CHAR_SPACE))
    sectpr.append(grid)
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number_footer(section.footer, WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number_footer(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)
    return doc


def _font_run(run, name: str, size: float, bold: bool = False, color: RGBColor | None = None) -> None:
    """Give ``run`` its font: a copy of run properties made once per font (a bulletin sets
    thousands of runs, and python-docx's property setters search the XML each time)."""
    run._element.insert(0, copy.deepcopy(_run_properties(name, size, bold, str(color) if color is not None else None)))


@functools.lru_cache(maxsize=64)
def _run_properties(name: str, size: float, bold: bool, color: str | None):
    scratch = OxmlElement("w:r")
    _set_font(Run(scratch, None).font, scratch, name, size, bold, RGBColor.from_string(color) if color else None)
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), str(CHAR_TIGHTEN))
    _insert_ordered(scratch.rPr, spacing, RPR_ORDER)
    return scratch.rPr


def _set_font(font, element, name: str, size: float, bold: bool = False, color: RGBColor | None = None) -> None:
    font.name, font.size, font.bold = name, Pt(size), bold
    if color is not None:
        font.color.rgb = color
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)


def _para(doc, text: str = "", *, font: str = BODY_FONT, size: float = 16, bold: bool = False,
          align=None, indent: bool = True, color: RGBColor | None = None, spacing: float | None = 28):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    if indent and align is None:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    if spacing is None:
        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    if text:
        run = p.add_run(text)
        _font_run(run, font, size, bold, color)
    return p


def _red_rule(paragraph) -> None:
    """The red separator line under the masthead (a bottom border of the paragraph)."""
    borders = _sides("w:pBdr", ("bottom",), {"w:val": "single", "w:sz": "18", "w:space": "4", "w:color": "C00000"})
    _insert_ordered(paragraph._p.get_or_add_pPr(), borders, PPR_ORDER)


def _page_number_footer(footer, align) -> None:
    """“— 1 —” in 4号半角宋体, one character in from the outer edge (odd right, even left)."""
    p = footer.paragraphs[0]
    p.alignment = align
    p.paragraph_format.first_line_indent = Pt(0)
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        p.paragraph_format.right_indent = Pt(14)
    else:
        p.paragraph_format.left_indent = Pt(14)
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    run = p.add_run("— ")
    _font_run(run, "宋体", 14)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    inner = OxmlElement("w:r")
    inner.append(copy.deepcopy(_run_properties("宋体", 14, False, None)))
    text = OxmlElement("w:t")
    text.text = "1"
    inner.append(text)
    field.append(inner)
    p._p.append(field)
    run = p.add_run(" —")
    _font_run(run, "宋体", 14)


def _new_table(doc, rows: int, widths) -> object:
    """An empty bordered table of ``rows`` rows, its columns ``widths`` cm wide, centred."""
    table = doc.add_table(rows=rows, cols=len(widths))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, cm in zip(table.columns, widths):
        column.width = Cm(cm)
    return table


def _fill_row(row, texts, widths, bold: bool = False) -> None:
    """One row's cells: their widths and texts (五号)."""
    for cell, text, cm in zip(row.cells, texts, widths):
        cell.width = Cm(cm)
        _cell_text(cell, str(text), bold=bold)


def add_table(doc, headers: list[str], rows: list[list[str]], widths: list[float]) -> None:
    table = _new_table(doc, 1, widths)
    _fill_row(table.rows[0], headers, widths, bold=True)
    # one body row is made through python-docx, the others are copies of it with their own
    # texts: a province bulletin has tables of 200 rows, and each row made the long way costs ~2 ms
    _fill_row(table.add_row(), ["·"] * len(widths), widths)
    template = table.rows[-1]._tr
    table._tbl.remove(template)
    for values in rows:
        texts = [str(value) for value in values]
        if all(_plain(text) for text in texts):
            tr = copy.deepcopy(template)
            for t, text in zip(tr.iter(qn("w:t")), texts):
                t.text = text
            table._tbl.append(tr)
        else:  # line breaks, tabs or edge spaces: python-docx writes them as Word has them
            _fill_row(table.add_row(), texts, widths)
    _repeat_header(table.rows[0])


def _grid(doc, rows: tuple[tuple, ...], widths: tuple[float, ...]) -> None:
    """A table of short texts without a header row (五号, centred in the type area)."""
    table = _new_table(doc, len(rows), widths)
    for row, values in zip(table.rows, rows):
        _fill_row(row, values, widths)


def _plain(text: str) -> bool:
    """Text a ``<w:t>`` holds as it is: no line break or tab, no space at either end."""
    return text == text.strip() and not any(ch in text for ch in "\n\r\t")


TABLE_LINE = 12  # 五号 (10.5 pt) set nearly solid: the demo's 18 red items in under three pages


def _cell_text(cell, text: str, bold: bool = False) -> None:
    p = cell.paragraphs[0]
    p.paragraph_format.first_line_indent = Pt(0)
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    p.paragraph_format.line_spacing = Pt(TABLE_LINE)
    p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    run = p.add_run(text)
    _font_run(run, HEADING_FONT if bold else BODY_FONT, 10.5, bold)


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    trpr.append(header)


def _off_grid(paragraph) -> None:
    """Take a paragraph off the character grid: a 2号 title or a table cell on the 3号 grid
    would take two grid cells a character."""
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    _insert_ordered(paragraph._p.get_or_add_pPr(), snap, PPR_ORDER)


def title_lines(words: tuple[str, ...], limit: float = 19) -> list[str]:
    """The title's lines: as few as fit ``limit`` characters (2号 on the 156 mm type area),
    broken only between ``words``, the longest line as short as can be (a balanced 梯形)."""
    import itertools

    n = len(words)
    for lines in range(1, n + 1):
        best = None
        for cuts in itertools.combinations(range(1, n), lines - 1):
            bounds = (0, *cuts, n)
            texts = ["".join(words[a:b]) for a, b in zip(bounds, bounds[1:])]
            longest = max(width(t) for t in texts)
            if longest <= limit and (best is None or longest < best[0]):
                best = (longest, texts)
        if best:
            return best[1]
    return ["".join(words)]


def _title(doc, words: tuple[str, ...], *, color: RGBColor | None = None) -> None:
    """The title: 2号小标宋, centred, its lines broken between words."""
    p = _para(doc, "", align=WD_ALIGN_PARAGRAPH.CENTER, spacing=None)
    _off_grid(p)
    for n, line in enumerate(title_lines(words)):
        run = p.add_run(line)
        _font_run(run, TITLE_FONT, 22, False, color)
        if n < len(title_lines(words)) - 1:
            run.add_break()


def _masthead(doc, masthead: str, issue: str, office: str, issued_on: date) -> None:
    """刊头 in red, the issue line (第N期; none for a 专报, whose title names the period), the
    office and date over a red rule."""
    _off_grid(_para(doc, masthead, font=TITLE_FONT, size=42, align=WD_ALIGN_PARAGRAPH.CENTER, color=RED, spacing=None))
    if issue:
        _para(doc, issue, size=16, align=WD_ALIGN_PARAGRAPH.CENTER)
    line = _para(doc, "", align=WD_ALIGN_PARAGRAPH.LEFT)
    line.paragraph_format.tab_stops.add_tab_stop(Mm(156), alignment=2)  # right tab at the text edge
    run = line.add_run(f"{office}\t{date_text(issued_on)}")
    _font_run(run, BODY_FONT, 14)
    _red_rule(line)
    _para(doc, "", indent=False)


def _keep_text_with_next(doc) -> bool:
    """When the document so far ends in a paragraph (not a table), keep it with what comes
    next, so a signature or a 版记 never stands alone on a page; whether it did."""
    body = [el for el in doc.element.body if el.tag != qn("w:sectPr")]
    after_text = bool(body) and body[-1].tag == qn("w:p")
    if after_text:
        doc.paragraphs[-1].paragraph_format.keep_with_next = True
    return after_text


def _signature(doc, office: str, issued_on: date) -> None:
    """署名 and 成文日期: the date 4 characters in from the right, the office centred over it,
    three blank lines above for the seal (GB/T 9704-2012 §7.3.5.1)."""
    after_text = _keep_text_with_next(doc)  # no page holding only a signature
    for _ in range(2):
        _para(doc, "", indent=False).paragraph_format.keep_with_next = after_text
    day = date_text(issued_on)
    shift = max(0.0, (width(day) - width(office)) / 2)
    for text, indent in ((office, 4 + shift), (day, 4)):
        p = _para(doc, text, align=WD_ALIGN_PARAGRAPH.RIGHT)
        p.paragraph_format.right_indent = Pt(16 * indent)
        p.paragraph_format.keep_with_next = True


def distribution(colophon: tuple[str, str, str]) -> list[str]:
    """The 报 / 送 / 发 lines of a bulletin's 版记 (【设置】通报报、通报送、通报发; blank ones left out)."""
    return [f"{label}：{text}" for label, text in zip("报送发", colophon) if text]


def _colophon(doc, lines: list[str], office: str, issued_on: date, *, gap: bool = True) -> None:
    """版记: 报/送/发 (or 抄送) lines and the 印发 line, 4号仿宋 between rules, at the end
    (after a blank line unless not ``gap``: its top rule already sets it off the text)."""
    if gap:
        _para(doc, "", indent=False)
    rows = [*lines, f"{office}\t{date_text(issued_on)}印发"]
    for n, text in enumerate(rows):
        p = _para(doc, "", align=WD_ALIGN_PARAGRAPH.LEFT, indent=False)
        p.paragraph_format.left_indent, p.paragraph_format.right_indent = Pt(14), Pt(14)
        p.paragraph_format.keep_with_next = n < len(rows) - 1
        p.paragraph_format.tab_stops.add_tab_stop(Mm(156) - Pt(28), alignment=2)
        run = p.add_run(text)
        _font_run(run, BODY_FONT, 14)
        _rule(p, "top" if n == 0 else None, "bottom")


def _sides(tag: str, sides, attrs: dict[str, str]):
    """``<tag>`` holding one ``<w:side …attrs/>`` per side: borders and cell margins alike."""
    outer = OxmlElement(tag)
    for side in sides:
        el = OxmlElement(f"w:{side}")
        for key, value in attrs.items():
            el.set(qn(key), value)
        outer.append(el)
    return outer


def _rule(paragraph, *sides: str | None) -> None:
    borders = _sides("w:pBdr", [side for side in sides if side],
                     {"w:val": "single", "w:sz": "6", "w:space": "1", "w:color": "000000"})
    _insert_ordered(paragraph._p.get_or_add_pPr(), borders, PPR_ORDER)


def _render(doc, blocks: list[Block], chart: bytes | None) -> None:
    """The blocks of :mod:`~xl_duban.domain.documents` as paragraphs and tables."""
    for block in blocks:
        if block.kind == "h1":
            _para(doc, block.text, font=HEADING_FONT)
        elif block.kind == "h2":
            _para(doc, block.text, font=KAI_FONT)
        elif block.kind == "p":
            _para(doc, block.text)
        elif block.kind == "table":
            add_table(doc, list(block.headers), [list(r) for r in block.rows], list(block.widths))
            if block.note:
                _para(doc, block.note)
        elif block.kind == "ids":
            _grid(doc, block.rows, block.widths)
        elif block.kind == "chart" and chart is not None:
            doc.add_picture(io.BytesIO(chart), width=Mm(132))  # the figure's own size: its 7 pt labels print at 7 pt
            picture = doc.paragraphs[-1]
            picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
            picture.paragraph_format.first_line_indent = Pt(0)
            picture.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE  # an exact line would clip it


# --- the bulletin -------------------------------------------------------------------------


def write_bulletin_docx(path: Path, bulletin: Bulletin, *, masthead: str, office: str, issued_on: date,
                        chart: bytes | None, colophon: tuple[str, str, str] = ("", "", "")) -> Path:
    """The bulletin as an official document: masthead, title, the body leader first, signature
    and the 版记 (报 / 送 / 发 from 设置); the table of every unit is the ledger sheet's alone."""
    doc = official_document()
    _masthead(doc, masthead, f"第{bulletin.number}期", office, issued_on)
    _title(doc, bulletin.title_words)
    _para(doc, "", indent=False)
    blocks = bulletin_blocks(bulletin, office=office, issued_on=issued_on, chart=chart is not None)
    body = blocks[:next(n for n, b in enumerate(blocks) if b.kind == "signature")]
    _para(doc, body[0].text, indent=False)  # the 主送 line starts at the margin
    _render(doc, body[1:], chart)
    _signature(doc, office, issued_on)
    _colophon(doc, distribution(colophon), office, issued_on)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path


def write_brief_docx(path: Path, brief: Brief, *, office: str, issued_on: date, chart: bytes | None) -> Path:
    """督查专报 to one 分管区领导: the bulletin's masthead labelled 督查专报 (the office and
    date under it), the title, the leader's part of the bulletin
    (:func:`~xl_duban.domain.briefs.brief_blocks`) and a 版记 addressed 报：XXX同志."""
    doc = official_document()
    _masthead(doc, BRIEF_MASTHEAD, "", office, issued_on)
    _title(doc, brief.title_words)  # no 主送 line under it: the text starts at once (its 报 is in the 版记)
    blocks = brief_blocks(brief, chart=chart is not None)
    for block, next_block in zip(blocks, [*blocks[1:], None]):
        _render(doc, [block], chart)
        if block.kind == "h1" and next_block is not None and next_block.kind == "table":  # never last on its page
            doc.paragraphs[-1].paragraph_format.keep_with_next = True
    _keep_text_with_next(doc)  # never a page holding only the 版记
    _colophon(doc, [f"报：{brief.leader}同志"], office, issued_on, gap=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path


def write_notice_docx(path: Path, unit: str, items: list[Item], bulletin: Bulletin, *, office: str, issued_on: date,
                      rectify_by: date, number: str) -> Path:
    """督查整改通知书 to one unit: its own yellow and red items, the deadline, cc its 分管领导."""
    doc = _emptied(_notice_document())
    _title(doc, ("督查整改通知书",), color=RED)
    _para(doc, number, size=16, align=WD_ALIGN_PARAGRAPH.CENTER)
    _red_rule(doc.paragraphs[-1])
    _para(doc, "", indent=False)
    _para(doc, f"{unit}：", indent=False)
    for text in notice_paragraphs(unit, items, bulletin, rectify_by):
        if text.startswith("（") and text.endswith("事项"):
            _para(doc, text, font=KAI_FONT)
        else:
            _para(doc, text)
    _signature(doc, office, issued_on)
    _colophon(doc, [copy_to(items).rstrip("。")], office, issued_on)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path


def write_interview_list_docx(path: Path, bulletin: Bulletin, *, office: str, issued_on: date,
                              when: str = "", where: str = "", form: str = "") -> Path:
    """约谈名单: when, where and how (from 设置, else blanks to fill), each red item with the
    unit head to be interviewed and the leader who interviews, in a table inside the type area."""
    doc = official_document()
    _title(doc, (bulletin.period.label, "亮红灯事项", "约谈名单"))
    _para(doc, "", indent=False)
    blank = "＿＿＿＿＿＿＿＿＿＿"
    for label, value in (("约谈时间", when), ("约谈地点", where), ("约谈形式", form)):
        _para(doc, f"{label}：{value or blank}")
    add_table(doc, ["序号", "任务编号", "任务", "约谈对象", "约谈人", "原因"],
              [[n, i.task_id, task_title(i), "、".join(f"{u}主要负责人" for u in i.answerable),
                "、".join(f"分管区领导{name}" for name in i.leaders) or "分管区领导", i.light_words()]
               for n, i in enumerate(bulletin.red, 1)] or [["", "", "本期无亮红灯事项", "", "", ""]],
              [1.0, 3.0, 4.7, 2.9, 2.0, 2.0])  # 2022-MS-08-2 on one line
    _signature(doc, office, issued_on)
    _sign_in_last_row(doc, doc.tables[-1])
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path


def _sign_in_last_row(doc, table) -> None:
    """The signature never stands alone on a page. LibreOffice ignores keep-with-next on a
    table's rows, but never splits a row marked cantSplit: the last item's row becomes one
    borderless row holding that item (as a table of the same columns) and the signature
    paragraphs after it, so the signature always has the last item above it on its page."""
    last = table.rows[-1]._tr
    body = doc.element.body
    signature = [el for el in body if el.tag == qn("w:p")][-4:]  # 2 blank lines, office, date
    inner = copy.deepcopy(table._tbl)
    for tr in inner.findall(qn("w:tr")):
        inner.remove(tr)
    inner.append(copy.deepcopy(last))
    row = OxmlElement("w:tr")
    trpr = OxmlElement("w:trPr")
    trpr.append(OxmlElement("w:cantSplit"))
    row.append(trpr)
    cell = OxmlElement("w:tc")
    tcpr = OxmlElement("w:tcPr")
    span = OxmlElement("w:gridSpan")
    span.set(qn("w:val"), str(len(table.columns)))
    tcpr.append(span)
    tcpr.append(_sides("w:tcBorders", ("top", "left", "bottom", "right"), {"w:val": "nil"}))
    tcpr.append(_sides("w:tcMar", ("left", "right"), {"w:w": "0", "w:type": "dxa"}))
    cell.append(tcpr)
    cell.append(inner)
    for p in signature:
        cell.append(p)  # moved out of the body into the cell
    row.append(cell)
    last.addprevious(row)
    table._tbl.remove(last)


# --- the ledger sheet ---------------------------------------------------------------------

_THIN = Side(style="thin", color="FF808080")
_BORDER = Border(top=_THIN, bottom=_THIN, left=_THIN, right=_THIN)
_WRAP = Alignment(vertical="top", wrap_text=True)
SHEET_WIDTHS = {1: 26, 2: 11, 3: 9, 4: 9, 5: 9, 6: 40}


@stage("通报工作表 write_bulletin_sheet")  # drawn inside the ledger's save; the benchmark counts it as the bulletin's
def write_bulletin_sheet(wb, bulletin: Bulletin, *, masthead: str, office: str, issued_on: date) -> None:
    """通报-P / 月报-P in the ledger: the same content as the document, print-ready A4 portrait,
    with a native Excel chart of lights by unit."""
    ws = _fresh_sheet(wb, bulletin.sheet_name)
    stamps = Stamps()
    for col, chars in SHEET_WIDTHS.items():
        ws.column_dimensions[chr(64 + col)].width = chars
    row = 1

    def line(text: str, *, bold: bool = False, size: float = 11, color: str | None = None, height: float | None = None) -> None:
        nonlocal row
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=6)
        cell = ws.cell(row, 1)
        write_cell(cell, text)
        cell.font = Font(bold=bold, size=size, color=color)
        cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="center" if size > 12 else "left")
        fit_row_height(ws, row, {1: sum(SHEET_WIDTHS.values())}, line_height=size * 1.45)
        if height:
            ws.row_dimensions[row].height = height
        row += 1

    def table(headers: list[str], rows: list[list], fills: bool = False) -> tuple[int, int]:
        nonlocal row
        first = row
        for col, header in enumerate(headers, 1):
            cell = ws.cell(row, col, header)
            cell.font, cell.fill, cell.border = Font(bold=True), HEADER_FILL, _BORDER
        row += 1
        for values in rows:
            for col, value in enumerate(values, 1):
                cell = ws.cell(row, col)
                write_cell(cell, value) if isinstance(value, str) else setattr(cell, "value", value)
                if fills and col in (3, 4, 5) and value:
                    stamps.apply(cell, headers[col - 1], border=_BORDER, alignment=_WRAP, fill=LIGHT_FILLS[headers[col - 1]])
                else:
                    stamps.apply(cell, "text", border=_BORDER, alignment=_WRAP)
            fit_row_height(ws, row, {col: SHEET_WIDTHS[col] for col in range(1, len(values) + 1)})
            row += 1
        row += 1
        return first, row - 2

    def items(headers: list[str], rows: list[list]) -> None:
        """A table of red or yellow items: 序号 and the task in column A, the reason across
        B–F (the sheet's columns are sized for the unit tables: the reason in a 9-wide column
        printed one word a line)."""
        nonlocal row
        widths = {1: SHEET_WIDTHS[1], 2: sum(w for col, w in SHEET_WIDTHS.items() if col > 1)}
        for n, (task, reason) in enumerate([(headers[1], headers[2]), *((f"{number}. {task}", reason) for number, task, reason in rows)]):
            ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=6)
            for col in range(1, 7):
                cell = ws.cell(row, col)
                if col in (1, 2):
                    write_cell(cell, task if col == 1 else reason)
                if n == 0:
                    cell.font, cell.fill, cell.border, cell.alignment = Font(bold=True), HEADER_FILL, _BORDER, _WRAP
                else:
                    stamps.apply(cell, "text", border=_BORDER, alignment=_WRAP)
            fit_row_height(ws, row, widths)
            row += 1
        row += 1

    line(masthead, bold=True, size=26, color="FFC00000", height=42)
    line(f"第{bulletin.number}期", size=14)
    line(f"{office}　　{date_text(issued_on)}")
    line(bulletin.title, bold=True, size=16, height=30)
    chart_rows: tuple[int, int] | None = None
    for block in bulletin_blocks(bulletin, office=office, issued_on=issued_on, chart=True, full_table=True):
        if block.kind in ("h1", "h2", "appendix", "title2"):
            line(block.text, bold=True)
        elif block.kind in ("p", "signature", "date"):
            line(block.text)
        elif block.kind == "ids":
            line("、".join(i for r in block.rows for i in r if i))
        elif block.kind == "table" and block.headers[0] == "序号" and len(block.headers) == 3:
            items(list(block.headers), [list(r) for r in block.rows])
        elif block.kind == "table":
            first, last = table(list(block.headers), [list(r) for r in block.rows], fills=bool(block.color_columns))
            if chart_rows is None and block.color_columns:
                chart_rows = (first, last - 1)  # the body's table of units behind, without its 合计 row
            if block.note:
                row -= 1
                line(block.note)
                row += 1
        elif block.kind == "chart" and chart_rows:
            first, last = chart_rows
            last = min(last, first + CHART_UNITS)  # the rows are sorted: the units most behind first
            chart = BarChart()
            chart.type, chart.grouping, chart.overlap = "bar", "stacked", 100
            chart.title = chart_title(bulletin)
            chart.add_data(Reference(ws, min_col=3, max_col=5, min_row=first, max_row=last), titles_from_data=True)
            chart.set_categories(Reference(ws, min_col=1, min_row=first + 1, max_row=last))
            for series, color in zip(chart.series, ("5CB85C", "F0C419", "D9534F")):
                series.graphicalProperties.solidFill = color
            chart.x_axis.scaling.orientation = "maxMin"  # the first (most behind) unit on top, as in the document
            chart.x_axis.tickLblSkip = 1  # every unit's name, not every other one
            chart.x_axis.delete = chart.y_axis.delete = False
            chart.y_axis.majorUnit = 1  # whole tasks
            chart.height, chart.width = max(7.5, 0.45 * (last - first) + 3), 17
            ws.add_chart(chart, f"A{row}")
            row += int(chart.height / 0.53) + 2  # rows of 15 pt under the chart
    print_setup(ws)
    ws.page_setup.orientation = "portrait"  # a bulletin reads top to bottom
    ws.print_options.horizontalCentered = True
