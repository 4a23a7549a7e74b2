"""What the bulletin, the 整改通知书 and the 约谈名单 say, as blocks of text — pure.

The .docx writer and the ledger sheet render the same blocks, so the document a leader signs
and the sheet the clerk checks cannot say different things. Every statement about a light is
built from the item's own record (:class:`~xl_duban.domain.bulletin.Item`: each lead unit's
state, lateness and words), never from a sentence that fits most items: a notice is an
official statement to a unit, and “亮红灯” about a yellow item, or “未完成节点目标” about a unit
that sent nothing, is a false one.

The order is the leader's (督查室 practice for 通报): what is red first, on page 1, then yellow,
overdue, praise, reporting discipline, and the tables last, with the full unit table as an
appendix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .bulletin import Bulletin, Item, Row, UnitReport, UnitState, copied_by_unit, leaders_of, sentences, task_title, total
from .cells import date_text
from .models import LightColor

RED_LINES = 8  # red items listed one line each on page 1 when there are at most this many
QUOTE = 50  # characters of a unit's own words quoted (whole sentences)
NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class Block:
    """One piece of a document: ``kind`` is h1 (黑体), h2 (楷体), p (body), table, ids (a grid of
    task numbers, no header), chart, signature, date, appendix and title2 (the ledger sheet's
    附表); a table carries ``headers``, ``rows``, ``widths`` (cm) and a ``note``."""

    kind: str
    text: str = ""
    headers: tuple[str, ...] = ()
    rows: tuple[tuple, ...] = ()
    widths: tuple[float, ...] = ()
    note: str = ""
    color_columns: tuple[int, ...] = field(default=())  # columns whose numbers are 绿灯/黄灯/红灯 counts


def state_words(report: UnitReport, you: bool = False) -> str:
    """One unit's own state in an item: what its return was (未报送 only when it sent nothing,
    退回未重报 when the office refused its return), and late only when its own return was."""
    who = "你单位" if you else report.unit
    text = {UnitState.missing: f"{who}未报送反馈表",
            UnitState.returned: f"{who}报送的反馈表被退回，未重新报送",
            UnitState.not_done: f"{who}报告节点目标未完成",
            UnitState.blank: f"{who}反馈未填写完成情况",
            UnitState.done: f"{who}报告节点目标已完成",
            UnitState.closed: f"{who}报告任务已办结"}[report.state]
    return text + ("（逾期报送）" if report.late else "")


def own_words(report: UnitReport) -> list[str]:
    """The unit's own 进展情况 and 存在问题, whole sentences only."""
    out = []
    if report.progress:
        out.append(f"进展情况：{sentences(report.progress, QUOTE)}")
    if report.problems:
        out.append(f"存在问题：{sentences(report.problems, QUOTE)}")
    return out


def _reason(item: Item, reports: list[UnitReport], you: bool, brief: bool = False) -> str:
    """Why an item has its light: the node target, each answering unit's own state and words,
    and the light (连续N期 for a red that has lasted). ``brief`` (a yellow item in the bulletin,
    whose notice carries the rest): each unit's state and its own 存在问题, and the light."""
    parts = [] if brief else [f"节点目标：{sentences(item.target, QUOTE)}" if item.target else "本期节点目标未填写"]
    words = (lambda r: [w for w in own_words(r) if w.startswith("存在问题")]) if brief else own_words
    groups: dict[tuple, list[UnitReport]] = {}  # co-leads that said the same thing are named together
    for report in reports:
        groups.setdefault((report.state, report.late, report.returned_reason, *words(report)), []).append(report)
    for group in groups.values():
        first = group[0]
        named = UnitReport("、".join(r.unit for r in group), first.light, first.state, first.late,
                           returned_reason=first.returned_reason)
        parts.append(state_words(named, you=you))
        parts += words(first)
    states = {r.state for r in reports}
    return "。".join(p.rstrip("。；;") for p in parts) + f"。{item.light_words(states <= {UnitState.not_done})}。"


def item_paragraphs(n: int, item: Item, unit: str) -> list[str]:
    """An item of a notice to ``unit``: the task (whole), then only that unit's own part,
    addressed as 你单位."""
    head = f"{n}. {item.content}（{item.task_id}；责任领导：{'、'.join(item.leaders) or '未填写'}）"
    return [head, _reason(item, [r for r in item.reports if r.unit == unit], you=True)]


def item_table(items: list[Item]) -> Block:
    """The red items of a bulletin as a table, each with its node target and the answering
    units' own words (五号 in the document: 30 items with their reasons fit a few pages, where
    三号 paragraphs took twenty; the columns as wide as their texts are long, so a row is as
    short as it can be)."""
    rows = tuple((n, _task_cell(item), _with_met(item, _reason(item, _answering(item), you=False)))
                 for n, item in enumerate(items, 1))
    return Block("table", headers=("序号", "任务编号、任务（责任领导）", "节点目标和未完成情况"), rows=rows,
                 widths=(NUMBER_WIDTH, *split_widths(rows, TYPE_WIDTH - NUMBER_WIDTH)))


def brief_table(items: list[Item]) -> Block:
    """The yellow items of a bulletin, one row each: the whole task with its leaders, and each
    answering unit's state with its own 存在问题 — the node target and progress are in the
    unit's 整改通知书. A leader reads the reds in full and the yellows at a glance (the demo's
    quarter has 15 of each; in full they took as many pages as the rest of the bulletin)."""
    rows = tuple((n, _task_cell(item), _with_met(item, _reason(item, _answering(item), you=False, brief=True)))
                 for n, item in enumerate(items, 1))
    return Block("table", headers=("序号", "任务编号、任务（责任领导）", "牵头单位和未完成情况"), rows=rows,
                 widths=(NUMBER_WIDTH, *split_widths(rows, TYPE_WIDTH - NUMBER_WIDTH)))


TYPE_WIDTH = 15.6  # cm: the type area of GB/T 9704 (156 mm)
NUMBER_WIDTH = 0.9  # cm: the 序号 column
TABLE_CHARS_PER_CM = 2.8  # 五号 (10.5 pt) with the document's −0.4 pt character spacing
CELL_PADDING = 0.38  # cm: a cell's left and right margins together


def width(text: str) -> float:
    """Width of a text in characters: a half-width letter or digit is half a character."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1 for ch in text)


def cell_lines(text: str, cm: float) -> int:
    """How many lines ``text`` takes in a table cell ``cm`` wide (五号)."""
    per_line = max(1.0, (cm - CELL_PADDING) * TABLE_CHARS_PER_CM)
    return max(1, -int(-width(str(text)) // per_line))


def split_widths(rows: tuple[tuple, ...], total_cm: float, step: float = 0.1) -> tuple[float, float]:
    """Widths of a table's last two text columns that make its rows as short as they can be:
    a row is as tall as its longer cell, so the split that balances the two texts row by row
    saves paper (the demo's 18 red items: a third of a page against fixed widths)."""
    def height(left: float) -> int:
        return sum(max(cell_lines(r[-2], left), cell_lines(r[-1], total_cm - left)) for r in rows)
    candidates = [round(4 + step * n, 2) for n in range(int((total_cm - 8) / step) + 1)]
    left = min(candidates, key=lambda w: (height(w), abs(w - total_cm / 2)))
    return left, round(total_cm - left, 2)


def portfolio_table(items: list[Item], leader: str, whole: bool) -> Block:
    """A leader's yellow and red items in one table, red first, each with its lead units'
    state and their own 存在问题 (the yellow rows of the bulletin, :func:`brief_table`). With
    ``whole`` the task is printed whole, with the other leaders who share it; without, by its
    任务编号 only — a portfolio of fifteen items with their texts takes four pages, and the
    专报 is read in two."""
    def task(item: Item) -> str:
        others = [name for name in item.leaders if name != leader]
        return f"{item.task_id} {item.content}" + (f"（共同责任领导：{'、'.join(others)}）" if others else "") if whole else item.task_id
    rows = tuple((n, item.light, task(item), _with_met(item, _reason(item, _answering(item), you=False, brief=True)))
                 for n, item in enumerate(items, 1))
    header = "任务编号、任务" if whole else "任务编号"
    widths = (0.9, 1.2, 7.2, 6.3) if whole else (0.9, 1.2, 3.0, 10.5)
    return Block("table", headers=("序号", "灯色", header, "牵头单位和未完成情况"), rows=rows, widths=widths)


ID_COLUMNS = 5  # task numbers a row: 2022-MS-08-2 keeps to one line in 五号


def id_grid(task_ids: list[str]) -> Block:
    """Task numbers in rows of ``ID_COLUMNS``: a number never breaks at its hyphens, as it
    would in a justified 3号 line (“2022-ZD-” at one line's end, “001” on the next)."""
    chunks = [task_ids[n:n + ID_COLUMNS] for n in range(0, len(task_ids), ID_COLUMNS)]
    rows = tuple((*chunk, *[""] * (ID_COLUMNS - len(chunk))) for chunk in chunks)
    return Block("ids", rows=rows, widths=(round(TYPE_WIDTH / ID_COLUMNS, 2),) * ID_COLUMNS)


def _task_cell(item: Item) -> str:
    return f"{item.task_id} {task_title(item)}（责任领导：{'、'.join(item.leaders) or '未填写'}）"


def _with_met(item: Item, reason: str) -> str:
    """The reason, then the co-lead units that met their target (they are named, not criticised)."""
    return reason + (f"{item.met_text}。" if item.met_text else "")


def _answering(item: Item) -> list[UnitReport]:
    return [r for r in item.reports if r.unit in item.answerable]


def _table(headers: tuple[str, ...], rows: list[Row], note: str) -> Block:
    """A lights table with its 合计 row and a note on what the 合计 counts."""
    t = total(rows)
    body = tuple((r.name, r.counts.total, r.counts.green, r.counts.yellow, r.counts.red) for r in rows)
    return Block("table", headers=headers, rows=(*body, ("合计", t.total, t.green, t.yellow, t.red)),
                 widths=(5.3, 2.0, 1.2, 1.2, 1.2), note=note, color_columns=(2, 3, 4))


def behind_units(bulletin: Bulletin) -> list[Row]:
    """The units with a yellow or red light, most behind first: the body's table and the chart."""
    return [r for r in bulletin.by_unit if r.counts.red or r.counts.yellow]


CO_LED = "共同牵头的任务计入每个牵头单位，按各单位自己的结果计灯（已完成节点目标的计绿灯）"


def unit_table(bulletin: Bulletin, rows: list[Row]) -> Block:
    """牵头单位 table: all units (appendix) or those behind (body), with 合计 and what it counts."""
    summed = total(rows).total
    if rows is bulletin.by_unit:
        note = (f"注：共同牵头的任务计入每个牵头单位，故合计{summed}项多于亮灯任务数{bulletin.counts.total}项。"
                if summed != bulletin.counts.total else "")  # how each unit counts: the body table's note
    else:
        note = f"注：只列有黄灯或红灯的单位；{CO_LED}。"
    return _table(("牵头单位", "亮灯任务", "绿灯", "黄灯", "红灯"), rows, note)


def leader_table(bulletin: Bulletin) -> Block:
    """责任领导 table: a task with several leaders counts for each."""
    summed = total(bulletin.by_leader).total
    note = (f"注：有多位责任领导的任务计入每位领导，故合计{summed}项多于亮灯任务数{bulletin.counts.total}项。"
            if summed != bulletin.counts.total else "")
    return _table(("责任领导", "亮灯任务", "绿灯", "黄灯", "红灯"), bulletin.by_leader, note)


def reporting_sentence(bulletin: Bulletin) -> str:
    """报送方面: how many returns came on time, late, were refused and not resent, or never came."""
    parts = []
    for label, units in (("逾期报送", bulletin.late), ("退回未重报", bulletin.returned), ("未报送", bulletin.missing)):
        if units:
            parts.append(f"{label}{len(units)}家（{'、'.join(units)}）")
    return ("报送方面，" + "；".join(parts) + "。") if parts else "报送方面，各单位均按时报送。"


def bulletin_blocks(bulletin: Bulletin, *, office: str, issued_on: date, chart: bool,
                    full_table: bool = False) -> list[Block]:
    """The bulletin from its title to the signature, leader first: page 1 says how many of each
    light and which items are red; then the red items, the yellow, 超期, praise, reporting, the
    disagreements, copied progress, and the tables last. The body's unit table lists only the
    units behind; the table of every unit (``full_table``) is the ledger sheet's alone — the
    document says how many others there are (all green), and a leader reads 8 pages, not 11."""
    numbers = iter(NUMERALS)
    h1 = lambda text: Block("h1", f"{next(numbers)}、{text}")  # noqa: E731
    out = [Block("p", "各镇人民政府、街道办事处，区直各单位："),
           Block("p", f"根据区政府督查工作安排，督查室对{bulletin.period.label}{bulletin.kind.value}落实情况进行了督查和亮灯评定，"
                      "现将有关情况通报如下："),
           h1("总体情况"), Block("p", bulletin.summary_sentence()), Block("p", reporting_sentence(bulletin))]
    if bulletin.red and len(bulletin.red) <= RED_LINES:
        out.append(Block("p", f"亮红灯的{len(bulletin.red)}项是："))
        out += [Block("p", f"{n}. {i.task_id}，{'、'.join(i.answerable)}，责任领导{'、'.join(i.leaders) or '未填写'}")
                for n, i in enumerate(bulletin.red, 1)]
    elif bulletin.red:  # too many for a line each: their numbers on page 1 all the same, units and reasons follow
        out.append(Block("p", f"亮红灯的{len(bulletin.red)}项如下（牵头单位、责任领导和原因见第二部分）："))
        out.append(id_grid([i.task_id for i in bulletin.red]))
    for heading, items, empty, closing in (
            ("亮红灯事项（约谈）", bulletin.red, "本期无亮红灯事项。", "以上事项由分管区领导约谈牵头单位主要负责人。"),
            ("亮黄灯事项（整改）", bulletin.yellow, "本期无亮黄灯事项。", "以上事项由督查室向牵头单位发出督查整改通知书，抄送分管区领导。")):
        out.append(h1(f"{heading}{len(items)}项" if items else heading))
        if items:
            out.append(item_table(items) if items is bulletin.red else brief_table(items))
        out.append(Block("p", closing if items else empty))
    if bulletin.as_of is not None:
        out.append(h1("超期未办结事项"))
        out += [Block("p", text) for text in overdue_text(bulletin)]
    out.append(h1("表扬"))
    praise = "、".join(bulletin.praised)
    out.append(Block("p", f"对所牵头任务全部亮绿灯且按时报送的{len(bulletin.praised)}个单位予以表扬：{praise}。" if praise
                     else "本期没有所牵头任务全部亮绿灯且按时报送的单位。"))
    out.append(h1("逾期报送、未报送和退回"))
    if bulletin.late or bulletin.missing or bulletin.returned:
        if bulletin.late:
            out.append(Block("p", f"逾期报送的{len(bulletin.late)}个单位：{'、'.join(bulletin.late)}。"))
        if bulletin.returned:
            out.append(Block("p", f"反馈表被退回、截至通报时未重新报送的{len(bulletin.returned)}个单位：{'、'.join(bulletin.returned)}。"))
        if bulletin.missing:
            out.append(Block("p", f"未报送的{len(bulletin.missing)}个单位：{'、'.join(bulletin.missing)}。"))
        out.append(Block("p", "对以上单位提出批评，请按时、如实报送。"))
    else:
        out.append(Block("p", "各单位均按时报送。"))
    if bulletin.disagreements:
        out.append(h1("自评与核定不一致"))
        pairs: dict[tuple[str, str], list[str]] = {}  # a task counted once, however many co-leads said so
        for d in bulletin.disagreements:
            tasks = pairs.setdefault((d.self_light, d.light), [])
            if d.task_id not in tasks:
                tasks.append(d.task_id)
        out += [Block("p", f"自评{own}、核定{light}的{len(tasks)}项：{'、'.join(tasks)}。")
                for (own, light), tasks in sorted(pairs.items())]
    if bulletin.copied:
        out.append(h1("进展情况与上期雷同"))
        units = copied_by_unit(bulletin.copied)
        lines = [f"{c.unit}：{c.count}项任务的进展情况与上期相似，最高相似度{c.top:.0%}。" for c in units]
        lines[-1] += "请如实报告本期新进展。" if len(units) == 1 else "请以上单位如实报告本期新进展。"
        out += [Block("p", line) for line in lines]
    out.append(h1("各单位亮灯情况"))
    behind = behind_units(bulletin)
    out.append(Block("h2", f"（一）有黄灯、红灯的{len(behind)}个牵头单位"))
    if behind:
        out.append(unit_table(bulletin, behind))
        if chart:
            out.append(Block("chart"))
    else:
        out.append(Block("p", "本期没有亮黄灯或红灯的牵头单位。"))
    others = len(bulletin.by_unit) - len(behind)
    if others:
        out.append(Block("p", f"其余{others}个牵头单位牵头的任务均计绿灯（明细见台账“{bulletin.sheet_name}”工作表）。"))
    out.append(Block("h2", "（二）按责任领导分列"))
    out.append(leader_table(bulletin))
    out.append(Block("signature", office))
    out.append(Block("date", date_text(issued_on)))
    if full_table:
        out.append(Block("appendix", "附表"))
        out.append(Block("title2", f"{bulletin.period.label}各牵头单位亮灯情况"))
        out.append(unit_table(bulletin, bulletin.by_unit))
    return out


def overdue_text(bulletin: Bulletin) -> list[str]:
    """The paragraphs of 超期未办结事项: the date counted on, each task (whole) with its deadline
    and days over (longest overdue first), what the units are to do — or that there are none."""
    as_of = date_text(bulletin.as_of)
    if not bulletin.overdue:
        return [f"截至{as_of}，没有超过完成时限仍未办结的{bulletin.kind.value}。"]
    lines = [f"截至{as_of}，已过完成时限仍未办结的{bulletin.kind.value}共{len(bulletin.overdue)}项："]
    lines += [f"{n}. {o.content}（{o.task_id}；牵头单位：{'、'.join(o.units) or '未填写'}；"
              f"责任领导：{'、'.join(o.leaders) or '未填写'}）。完成时限{date_text(o.deadline)}，已超期{o.days}天。"
              for n, o in enumerate(bulletin.overdue, 1)]
    lines.append("请牵头单位抓紧办结并将办结情况报送督查室；确需调整完成时限的，报分管区领导同意后书面报督查室备案。")
    return lines


def notice_paragraphs(unit: str, items: list[Item], bulletin: Bulletin, rectify_by: date) -> list[str]:
    """The body of one 督查整改通知书 (下行文: 你单位). It opens with the counts by colour of
    the unit's own lit tasks; the 约谈 sentence only when one of its items is red; lateness only
    when its own return was late."""
    row = next((r for r in bulletin.by_unit if r.name == unit), None)
    red = [i for i in items if i.light == LightColor.red.value]
    yellow = [i for i in items if i.light != LightColor.red.value]
    lit = row.counts.total if row else len(items)
    colours = "、".join(text for text in (f"{len(red)}项亮红灯" if red else "", f"{len(yellow)}项亮黄灯" if yellow else "") if text)
    out = [f"经督查，{bulletin.period.label}你单位牵头的{lit}项{bulletin.kind.value}中，{colours}，具体如下："]
    n = 0
    for label, group in (("亮红灯事项", red), ("亮黄灯事项", yellow)):
        if group:
            out.append(f"（{NUMERALS[0] if label == '亮红灯事项' or not red else NUMERALS[1]}）{label}")
        for item in group:
            n += 1
            out += item_paragraphs(n, item, unit)
    if unit in bulletin.late:
        out.append(f"你单位{bulletin.period.label}反馈表逾期报送，请严格按时报送。")
    refused = next((r.returned_reason for i in items for r in i.reports if r.unit == unit and r.returned_reason), "")
    if refused:  # the reason once, not under every item
        out.append(f"你单位{bulletin.period.label}反馈表已被退回（{refused.rstrip('。')}），请按要求重新报送。")
    ask = f"请于{date_text(rectify_by)}前完成整改，并将整改情况书面报送督查室。"
    if red:
        ask += f"以上亮红灯的{len(red)}项，将由分管区领导约谈你单位主要负责人。"
    out.append(ask)
    return out


def copy_to(items: list[Item]) -> str:
    """抄送 of a notice: the 分管区领导 of its items, with their title."""
    leaders = leaders_of(items)
    return "抄送：分管区领导" + (f"{'、'.join(leaders)}同志" if leaders else "") + "。"
