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
from ..domain.bulletin import Bulletin, Item, leaders_of, task_short
from ..domain.models import LightColor
from ..timing import stage
from .fonts import BODY_FONT, HEADING_FONT, KAI_FONT, TITLE_FONT, find_cjk_font
from .ledger_store import HEADER_FILL, Stamps, print_setup, write_cell
from .views import LIGHT_FILLS, _fresh_sheet, fit_row_height

RED = RGBColor(0xC0, 0x00, 0x00)
CHART_COLORS = {"绿灯": "#5CB85C", "黄灯": "#F0C419", "红灯": "#D9534F"}


# --- chart --------------------------------------------------------------------------------


CHART_UNITS = 30  # bars that fit the picture's page; the table beside it lists every unit


def chart_title(bulletin: Bulletin) -> str:
    """The chart's title, saying when it shows only the units most behind."""
    shown = f"（红灯、黄灯较多的前{CHART_UNITS}个单位）" if len(bulletin.by_unit) > CHART_UNITS else ""
    return f"{bulletin.period.label}各牵头单位亮灯情况{shown}"


def chart_png(bulletin: Bulletin) -> tuple[bytes, bool]:
    """A stacked bar chart of lights by lead unit; (PNG bytes, whether a CJK font was found).

    Without a Chinese font the unit names would print as boxes, so the caller reports it.
    A city or province has a few hundred units: the chart shows the ``CHART_UNITS`` with the
    most red and yellow lights (the table above it lists them all), so it stays one page tall
    and readable — 200 bars would be a picture 1.2 m long shrunk onto A4.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    found = find_cjk_font()
    family = found.name if found else None
    rows = list(reversed(bulletin.by_unit[:CHART_UNITS]))
    names = [r.name for r in rows]
    fig = Figure(figsize=(6.3, max(2.0, 0.24 * len(rows) + 1.0)), dpi=150)
    ax = fig.add_subplot()
    left = [0] * len(rows)
    for color in (LightColor.green, LightColor.yellow, LightColor.red):
        values = [r.counts.of(color) for r in rows]
        ax.barh(names, values, left=left, color=CHART_COLORS[color.value], label=color.value, height=0.7)
        left = [a + b for a, b in zip(left, values)]
    font = {"family": family} if family else {}
    ax.set_yticks(range(len(names)), names, fontsize=7, **font)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel("任务数", fontsize=8, **font)
    ax.set_title(chart_title(bulletin), fontsize=10, **font)
    ax.legend(prop={"family": family, "size": 7} if family else {"size": 7}, loc="lower right")
    ax.grid(axis="x", linestyle=":", linewidth=0.5)
    ax.set_axisbelow(True)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue(), family is not None


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


def _build_official_document() -> Document:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    style = doc.styles["Normal"]
    _set_font(style.font, style.element, BODY_FONT, 16)
    style.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    style.paragraph_format.line_spacing = Pt(28)
    style.paragraph_format.space_after = Pt(0)
    _page_number_footer(section)
    return doc


def _font_run(run, name: str, size: float, bold: bool = False, color: RGBColor | None = None) -> None:
    """Give ``run`` its font: a copy of run properties made once per font (a bulletin sets
    thousands of runs, and python-docx's property setters search the XML each time)."""
    run._element.insert(0, copy.deepcopy(_run_properties(name, size, bold, str(color) if color is not None else None)))


@functools.lru_cache(maxsize=64)
def _run_properties(name: str, size: float, bold: bool, color: str | None):
    scratch = OxmlElement("w:r")
    _set_font(Run(scratch, None).font, scratch, name, size, bold, RGBColor.from_string(color) if color else None)
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
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "18"), ("w:space", "4"), ("w:color", "C00000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    ppr.append(borders)


def _page_number_footer(section) -> None:
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run("— ")
    _font_run(run, "宋体", 14)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    inner = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    inner.append(text)
    field.append(inner)
    p._p.append(field)
    run = p.add_run(" —")
    _font_run(run, "宋体", 14)


def add_table(doc, headers: list[str], rows: list[list[str]], widths: list[float]) -> None:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths):
        column.width = Cm(width)
    for cell, header, width in zip(table.rows[0].cells, headers, widths):
        cell.width = Cm(width)
        _cell_text(cell, header, bold=True)
    # one body row is made through python-docx, the others are copies of it with their own
    # texts: a province bulletin has tables of 200 rows, and each row made the long way costs ~2 ms
    for cell, width in zip(table.add_row().cells, widths):
        cell.width = Cm(width)
        _cell_text(cell, "·")
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
            for cell, text, width in zip(table.add_row().cells, texts, widths):
                cell.width = Cm(width)
                _cell_text(cell, text)
    _repeat_header(table.rows[0])


def _plain(text: str) -> bool:
    """Text a ``<w:t>`` holds as it is: no line break or tab, no space at either end."""
    return text == text.strip() and not any(ch in text for ch in "\n\r\t")


def _cell_text(cell, text: str, bold: bool = False) -> None:
    p = cell.paragraphs[0]
    p.paragraph_format.first_line_indent = Pt(0)
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    run = p.add_run(text)
    _font_run(run, HEADING_FONT if bold else BODY_FONT, 10.5, bold)


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    trpr.append(header)


def _masthead(doc, masthead: str, number: int, office: str, issued_on: date) -> None:
    _para(doc, masthead, font=TITLE_FONT, size=42, align=WD_ALIGN_PARAGRAPH.CENTER, color=RED, spacing=None)
    _para(doc, f"第{number}期", size=16, align=WD_ALIGN_PARAGRAPH.CENTER)
    line = _para(doc, "", align=WD_ALIGN_PARAGRAPH.LEFT)
    line.paragraph_format.tab_stops.add_tab_stop(Mm(156), alignment=2)  # right tab at the text edge
    run = line.add_run(f"{office}\t{date_text(issued_on)}")
    _font_run(run, BODY_FONT, 14)
    _red_rule(line)
    _para(doc, "", indent=False)


def _items_text(items: list[Item]) -> list[str]:
    return [f"{n}. {task_short(item, 60)}（{item.task_id}，牵头单位：{item.units_text}，责任领导：{'、'.join(item.leaders) or '—'}）。"
            f"{item.basis}" for n, item in enumerate(items, 1)]


# --- the bulletin -------------------------------------------------------------------------


def write_bulletin_docx(path: Path, bulletin: Bulletin, *, masthead: str, office: str, issued_on: date,
                        chart: bytes) -> Path:
    """The bulletin as an official document: masthead, numbers, tables, chart, named lists."""
    doc = official_document()
    _masthead(doc, masthead, bulletin.number, office, issued_on)
    _para(doc, bulletin.title, font=TITLE_FONT, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, spacing=None)
    _para(doc, "", indent=False)
    _para(doc, "各镇人民政府、街道办事处，区直各单位：", indent=False)
    _para(doc, f"根据区政府督查工作安排，督查室对{bulletin.period.label}{bulletin.kind.value}落实情况进行了督查和亮灯评定，"
               "现将有关情况通报如下：")
    _para(doc, "一、总体情况", font=HEADING_FONT)
    _para(doc, bulletin.summary_sentence())
    if bulletin.late or bulletin.missing:
        parts = []
        if bulletin.late:
            parts.append(f"逾期报送{len(bulletin.late)}家：{'、'.join(bulletin.late)}")
        if bulletin.missing:
            parts.append(f"未报送{len(bulletin.missing)}家：{'、'.join(bulletin.missing)}")
        _para(doc, "报送方面，" + "；".join(parts) + "。")
    _para(doc, "（一）各牵头单位亮灯情况", font=KAI_FONT)
    add_table(doc, ["牵头单位", "亮灯任务", "绿灯", "黄灯", "红灯"],
           [[r.name, r.counts.total, r.counts.green, r.counts.yellow, r.counts.red] for r in bulletin.by_unit],
           [7.0, 2.2, 2.0, 2.0, 2.0])
    doc.add_picture(io.BytesIO(chart), width=Mm(150))
    picture = doc.paragraphs[-1]
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    picture.paragraph_format.first_line_indent = Pt(0)
    picture.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE  # an exact 28 pt line would clip the picture
    _para(doc, "（二）按责任领导分列", font=KAI_FONT)
    add_table(doc, ["责任领导", "亮灯任务", "绿灯", "黄灯", "红灯"],
           [[r.name, r.counts.total, r.counts.green, r.counts.yellow, r.counts.red] for r in bulletin.by_leader],
           [7.0, 2.2, 2.0, 2.0, 2.0])
    _para(doc, "二、亮红灯事项（约谈）", font=HEADING_FONT)
    _list(doc, bulletin.red, "本期无亮红灯事项。", "以上事项连续亮黄灯，由分管区领导约谈牵头单位主要负责人。")
    _para(doc, "三、亮黄灯事项（整改）", font=HEADING_FONT)
    _list(doc, bulletin.yellow, "本期无亮黄灯事项。", "以上事项由督查室向牵头单位发出督查整改通知书，抄送分管区领导。")
    numbers = iter(("四", "五", "六", "七") if bulletin.as_of is None else ("五", "六", "七"))
    if bulletin.as_of is not None:
        _para(doc, "四、超期未办结事项", font=HEADING_FONT)
        for text in overdue_text(bulletin):
            _para(doc, text)
    _para(doc, f"{next(numbers)}、表扬和批评", font=HEADING_FONT)
    praise = "、".join(bulletin.praised)
    _para(doc, f"对所牵头任务全部亮绿灯且按时报送的{len(bulletin.praised)}个单位予以表扬：{praise}。" if praise
          else "本期没有所牵头任务全部亮绿灯且按时报送的单位。")
    if bulletin.late or bulletin.missing:
        _para(doc, "对逾期报送或未报送的单位提出批评：" + "、".join([*bulletin.late, *bulletin.missing]) + "。")
    if bulletin.disagreements:
        _para(doc, f"{next(numbers)}、自评与核定不一致事项", font=HEADING_FONT)
        for d in bulletin.disagreements:
            _para(doc, f"{d.task_id}（{d.unit}）：自评{d.self_light}，核定{d.light}。")
    if bulletin.copied:
        _para(doc, f"{next(numbers)}、进展情况与上期雷同", font=HEADING_FONT)
        for c in bulletin.copied:
            _para(doc, f"{c.task_id}（{c.unit}）：本期进展情况与上期相似度{c.score:.0%}，请如实报告本期新进展。")
    _para(doc, "", indent=False)
    _para(doc, office, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, date_text(issued_on), align=WD_ALIGN_PARAGRAPH.RIGHT)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path


def overdue_text(bulletin: Bulletin) -> list[str]:
    """The paragraphs of 超期未办结事项: the date counted on, each task with its deadline and
    days over (longest overdue first), what the units are to do — or that there are none."""
    as_of = date_text(bulletin.as_of)
    if not bulletin.overdue:
        return [f"截至{as_of}，没有超过完成时限仍未办结的{bulletin.kind.value}。"]
    lines = [f"截至{as_of}，已过完成时限仍未办结的{bulletin.kind.value}共{len(bulletin.overdue)}项："]
    lines += [f"{n}. {task_short(o, 60)}（{o.task_id}，牵头单位：{'、'.join(o.units) or '—'}，"
              f"责任领导：{'、'.join(o.leaders) or '—'}）。完成时限{date_text(o.deadline)}，已超期{o.days}天。"
              for n, o in enumerate(bulletin.overdue, 1)]
    lines.append("请牵头单位抓紧办结并将办结情况报送督查室；确需调整完成时限的，报分管区领导同意后书面报督查室备案。")
    return lines


def _list(doc, items: list[Item], empty: str, closing: str) -> None:
    if not items:
        _para(doc, empty)
        return
    _para(doc, f"共{len(items)}项：")
    for text in _items_text(items):
        _para(doc, text)
    _para(doc, closing)


def write_notice_docx(path: Path, unit: str, items: list[Item], bulletin: Bulletin, *, office: str, issued_on: date,
                      rectify_by: date, number: str) -> Path:
    """督查整改通知书 to one unit: its yellow and red items, the deadline, cc its 分管领导."""
    doc = _emptied(_notice_document())
    _para(doc, "督查整改通知书", font=TITLE_FONT, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, color=RED, spacing=None)
    _para(doc, number, size=16, align=WD_ALIGN_PARAGRAPH.CENTER)
    _red_rule(doc.paragraphs[-1])
    _para(doc, "", indent=False)
    _para(doc, f"{unit}：", indent=False)
    _para(doc, f"经督查，贵单位牵头的以下{len(items)}项{bulletin.kind.value}{bulletin.period.label}未完成节点目标，"
               f"亮{'红灯' if any(i.light == LightColor.red.value for i in items) else '黄灯'}：")
    for text in _items_text(items):
        _para(doc, text)
    _para(doc, f"请于{date_text(rectify_by)}前完成整改，并将整改情况书面报送督查室。亮红灯事项将由分管区领导约谈贵单位主要负责人。")
    _para(doc, "", indent=False)
    _para(doc, office, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, date_text(issued_on), align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, "", indent=False)
    _para(doc, "抄送：" + "、".join(f"{name}同志" for name in leaders_of(items)) + "。", size=14, indent=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path


def write_interview_list_docx(path: Path, bulletin: Bulletin, *, office: str, issued_on: date) -> Path:
    """约谈名单: each red item with the unit to be interviewed and the leader who interviews."""
    doc = official_document()
    _para(doc, f"{bulletin.period.label}亮红灯事项约谈名单", font=TITLE_FONT, size=22,
          align=WD_ALIGN_PARAGRAPH.CENTER, spacing=None)
    _para(doc, "", indent=False)
    add_table(doc, ["序号", "任务编号", "任务", "约谈对象（牵头单位主要负责人）", "约谈人（分管区领导）", "依据"],
           [[n, i.task_id, task_short(i, 30), "、".join(i.answerable), "、".join(i.leaders), i.basis]
            for n, i in enumerate(bulletin.red, 1)] or [["", "", "本期无亮红灯事项", "", "", ""]],
           [1.0, 2.4, 4.0, 3.0, 2.2, 3.4])
    _para(doc, "", indent=False)
    _para(doc, f"{office}　{date_text(issued_on)}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path


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
    for col, width in SHEET_WIDTHS.items():
        ws.column_dimensions[chr(64 + col)].width = width
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
            row += 1
        row += 1
        return first, row - 2

    line(masthead, bold=True, size=26, color="FFC00000", height=42)
    line(f"第{bulletin.number}期", size=14)
    line(f"{office}　　{date_text(issued_on)}")
    line(bulletin.title, bold=True, size=16, height=30)
    line("一、总体情况", bold=True)
    line(bulletin.summary_sentence())
    if bulletin.late:
        line(f"逾期报送（{len(bulletin.late)}家）：{'、'.join(bulletin.late)}")
    if bulletin.missing:
        line(f"未报送（{len(bulletin.missing)}家）：{'、'.join(bulletin.missing)}")
    line("（一）各牵头单位亮灯情况", bold=True)
    headers = ["牵头单位", "亮灯任务", "绿灯", "黄灯", "红灯"]
    first, last = table(headers, [[r.name, r.counts.total, r.counts.green, r.counts.yellow, r.counts.red]
                                  for r in bulletin.by_unit], fills=True)
    line("（二）按责任领导分列", bold=True)
    table(["责任领导", "亮灯任务", "绿灯", "黄灯", "红灯"],
          [[r.name, r.counts.total, r.counts.green, r.counts.yellow, r.counts.red] for r in bulletin.by_leader], fills=True)
    for heading, items, empty in (("二、亮红灯事项（约谈）", bulletin.red, "本期无亮红灯事项。"),
                                  ("三、亮黄灯事项（整改）", bulletin.yellow, "本期无亮黄灯事项。")):
        line(heading, bold=True)
        if items:
            table(["任务编号", "牵头单位", "连续黄灯", "责任领导", "", "依据"],
                  [[i.task_id, i.units_text, i.streak, "、".join(i.leaders), "", i.basis] for i in items])
        else:
            line(empty)
    numbers = iter(("四", "五", "六") if bulletin.as_of is None else ("五", "六", "七"))
    if bulletin.as_of is not None:
        line(f"四、超期未办结事项（截至{date_text(bulletin.as_of)}）", bold=True)
        if bulletin.overdue:
            table(["任务编号", "完成时限", "超期天数", "责任领导", "", "牵头单位及任务"],
                  [[o.task_id, o.deadline.isoformat(), o.days, "、".join(o.leaders), "",
                    f"{'、'.join(o.units)}：{task_short(o, 60)}"] for o in bulletin.overdue])
        else:
            line("无")
    line(f"{next(numbers)}、表扬和批评", bold=True)
    line(f"表扬（所牵头任务全部亮绿灯且按时报送）：{'、'.join(bulletin.praised) or '无'}")
    line(f"批评（逾期报送或未报送）：{'、'.join([*bulletin.late, *bulletin.missing]) or '无'}")
    line(f"{next(numbers)}、自评与核定不一致", bold=True)
    if bulletin.disagreements:
        table(["任务编号", "报送单位", "自评灯色", "核定灯色"],
              [[d.task_id, d.unit, d.self_light, d.light] for d in bulletin.disagreements])
    else:
        line("无")
    line(f"{next(numbers)}、进展情况与上期雷同", bold=True)
    if bulletin.copied:
        table(["任务编号", "报送单位", "相似度", "", "", "本期进展情况"],
              [[c.task_id, c.unit, f"{c.score:.0%}", "", "", c.text] for c in bulletin.copied])
    else:
        line("无")
    if bulletin.by_unit:
        chart = BarChart()
        chart.type, chart.grouping, chart.overlap = "bar", "stacked", 100
        chart.title = chart_title(bulletin)
        last = min(last, first + CHART_UNITS)  # the rows are sorted: the units most behind first
        data = Reference(ws, min_col=3, max_col=5, min_row=first, max_row=last)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=first + 1, max_row=last))
        for series, color in zip(chart.series, ("5CB85C", "F0C419", "D9534F")):
            series.graphicalProperties.solidFill = color
        chart.height, chart.width = max(7.5, 0.45 * (last - first) + 3), 17
        ws.add_chart(chart, f"A{row + 1}")
    print_setup(ws)
    ws.page_setup.orientation = "portrait"  # a bulletin reads top to bottom
    ws.print_options.horizontalCentered = True
