"""督查专报: one short report per 分管区领导 on his or her own portfolio — pure.

A district's bulletin covers a hundred tasks and forty units; a 分管区领导 answers for a
dozen of them and asks the 督查室 how *those* stand. The 专报 is the bulletin cut to one
leader: the same items with the same true wording (:mod:`.documents`: 未报送 only of a
unit that sent nothing, 退回未重报 of one whose return was refused), so what a leader reads
in the 专报 and in the bulletin never differ. A task that names several leaders in 责任领导
is in each of their 专报s, as it is in each of their rows of the bulletin's leader table.

It is short on purpose (1–2 pages): the counts and their change, each red then yellow item
with its lead units and their own words on the problem, the units that reported late, not
at all or were refused, and a small chart of the leader's lights period by period.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .bulletin import Bulletin, Counts, Item, counts_sentence, leaders_of, lit_counts
from .documents import NUMERALS, Block, portfolio_table, reporting_sentence
from .models import Ledger, TaskKind
from .periods import Period, periods_of_year

MASTHEAD = "督查专报"
WHOLE_ITEMS = 5  # yellow and red items printed with their task text (more: by 任务编号, to stay in two pages)


@dataclass
class Brief:
    """One leader's 专报 of one period: everything it prints, in print order."""

    leader: str
    period: Period
    kind: TaskKind
    counts: Counts
    previous: Counts | None  # the previous period of the same kind, None when nothing of the leader's was lit
    red: list[Item] = field(default_factory=list)
    yellow: list[Item] = field(default_factory=list)
    units: list[str] = field(default_factory=list)  # the lead units of the leader's lit tasks
    late: list[str] = field(default_factory=list)  # of ``units``: as the bulletin's 报送 lists
    returned: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    history: list[tuple[Period, Counts]] = field(default_factory=list)  # the periods of this kind so far

    @property
    def title_words(self) -> tuple[str, ...]:
        """The title in the words a line may break between."""
        return (self.period.label, f"{self.leader}同志", "分管", f"{self.kind.value}", "落实情况")

    @property
    def history_label(self) -> str:
        """What the chart shows: 各季度 / 各月."""
        return f"{self.period.year}年各{'季度' if self.kind is TaskKind.key else '月'}"


def leader_briefs(ledger: Ledger, bulletin: Bulletin) -> list[Brief]:
    """The 专报 of every leader named in 责任领导 of a task lit in the bulletin's period,
    in the order of the bulletin's leader table (most red first). A task without a leader is
    in none of them (validate's ``missing-leader`` names it)."""
    leaders = leaders_of(bulletin.items)
    order = {row.name: n for n, row in enumerate(bulletin.by_leader)}
    return [leader_brief(ledger, bulletin, leader) for leader in sorted(leaders, key=lambda name: order.get(name, 0))]


def leader_brief(ledger: Ledger, bulletin: Bulletin, leader: str) -> Brief:
    """``leader``'s part of ``bulletin``: the items naming the leader in 责任领导, their lead
    units' reporting, and the leader's lights in every period of the year so far."""
    period, kind = bulletin.period, bulletin.kind
    items = [i for i in bulletin.items if leader in i.leaders]
    units = list(dict.fromkeys(u for i in items for u in i.units))
    own = set(units)
    task_ids = {t.id for t in ledger.tasks if t.id and t.kind == kind.value and leader in t.leaders}
    so_far = [p for p in periods_of_year(period.year, period.cadence) if not period < p]
    history = [(p, counts) for p in so_far if (counts := lit_counts(ledger, p, task_ids)) is not None and counts.total]
    return Brief(leader=leader, period=period, kind=kind, counts=lit_counts(ledger, period, task_ids) or Counts(),
                 previous=lit_counts(ledger, period.previous(), task_ids),
                 red=[i for i in bulletin.red if leader in i.leaders], yellow=[i for i in bulletin.yellow if leader in i.leaders],
                 units=units, late=[u for u in bulletin.late if u in own], returned=[u for u in bulletin.returned if u in own],
                 missing=[u for u in bulletin.missing if u in own], history=history)


def brief_blocks(brief: Brief, *, chart: bool) -> list[Block]:
    """The 专报's text: the counts and their change with the chart of the year so far, the
    red then yellow items (one table row each: the task, its lead units' state and their own
    存在问题), the reporting of the leader's units.

    No 署名 and 成文日期 at the end: a 专报 is a 简报-style report whose masthead carries the
    office and the date (as the bulletin's masthead does), and a 1–2 page report to one leader
    spends no third page on a seal block."""
    numbers = iter(NUMERALS)
    h1 = lambda text: Block("h1", f"{next(numbers)}、{text}")  # noqa: E731
    c, what = brief.counts, brief.kind.value
    sentence = counts_sentence(f"{brief.period.label}，{brief.leader}同志分管的{what}共有{c.total}项亮灯",
                               c, brief.previous, brief.period)
    if brief.previous is None or not brief.previous.total:  # counts_sentence compares only with a lit period
        sentence = sentence.removesuffix("。") + f"；{brief.period.previous().label}分管任务未亮灯，不作比较。"
    out = [h1("总体情况"), Block("p", sentence)]
    if chart:  # the trend next to the numbers, on page 1
        out.append(Block("chart"))
    if not brief.red and not brief.yellow:
        out.append(Block("p", f"本期分管的{c.total}项{what}全部亮绿灯，没有亮黄灯、红灯的事项。"))
    items = [*brief.red, *brief.yellow]
    if items:
        if brief.red and brief.yellow:
            out.append(h1(f"亮红灯、黄灯事项（红灯{len(brief.red)}项、黄灯{len(brief.yellow)}项）"))
        else:
            out.append(h1(f"亮{'红' if brief.red else '黄'}灯事项{len(items)}项"))
        whole = len(items) <= WHOLE_ITEMS
        out.append(portfolio_table(items, brief.leader, whole))
        if not whole:
            out.append(Block("p", f"任务内容见【任务台账】和{brief.period.label}{'通报' if brief.kind is TaskKind.key else '月报'}。"))
    out.append(h1("牵头单位报送情况"))
    out.append(Block("p", f"分管任务共有{len(brief.units)}个牵头单位。{reporting_sentence(brief)}"))
    return out


def chart_title(brief: Brief) -> str:
    return f"{brief.leader}同志分管{brief.kind.value}{brief.history_label}亮灯情况"
