"""Checking returned unit workbooks and merging them into the ledger (DESIGN §6) — pure.

A returned file is trusted only as far as it can be proven: its ``_duban`` identity must
carry the office's signature, match an issue still in force (a re-issue supersedes the old
file), come back from the unit it was issued to, and its locked cells must read exactly as
issued. Rows are matched by 任务编号, never by position, because units sort and resize.
Anything short of that quarantines the whole file with a finding that tells the clerk why
and what the unit should do — a unit's words are never merged half-way or silently.

Accepted returns replace older ones for the same unit, task and period; the replaced values
go to 变更日志 so every earlier state can be rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable, NamedTuple

from pydantic import TypeAdapter

from .changes import PROPOSAL, proposal_note
from .cells import CELL_TEXT_LIMIT, parse_cell_datetime, row_text
from .findings import Finding, Level, error, has_errors, info, warning
from .issuing import (COMPLETION_HEADER, FEEDBACK_INPUTS, SELF_LIGHT_HEADER, SIGNERS, Form, IssueIdentity, IssuedWorkbook,
                      target_columns, verify)
from .lights import normalize_completion, normalize_light
from .mail import normalize_address, split_addresses
from .models import (ChangeLogEntry, Completion, Feedback, LightColor, Ledger, NodeTarget, ReturnSource, Submission,
                     SubmissionState, TargetStatus, TaskKind)
from .units import normalize_name

META_SHEET = "_duban"
FEEDBACK_FIELDS = (  # input header → Feedback field
    (FEEDBACK_INPUTS[0], "completion"), (FEEDBACK_INPUTS[1], "progress"), (FEEDBACK_INPUTS[2], "problems"),
    (FEEDBACK_INPUTS[3], "plan"), (FEEDBACK_INPUTS[4], "self_light"))
LEDGER_HEADERS = {"completion": "完成情况", "progress": "进展情况", "problems": "存在问题", "plan": "下一步计划",
                  "self_light": "自评灯色", "received_at": "报送时间", "late": "是否逾期", "source_file": "来源文件",
                  "file_hash": "文件指纹"}
RESUBMIT = "请在督查室最近下发的原文件上填写后重新报送。"


class ReturnedRow(NamedTuple):
    """One data row of the returned sheet: its Excel row and the text of every column by header."""

    row: int
    values: dict[str, str]


@dataclass(slots=True, kw_only=True)
class ReturnedFile:
    """What an adapter read from one returned workbook — text only, with Excel locations.

    Plain data rather than a validated model: it is built once per file by the reader (from
    cell texts it has just made) and crosses from the reading process, where pickling and
    unpickling a model's every row cost more than the checks themselves."""

    name: str  # as shown in findings: "回复.eml › 2024Q1_区财政局_重点任务反馈表.xlsx"
    file_hash: str
    received_at: datetime
    sender: str = ""  # From address (normalised) when the file came attached to an e-mail
    sender_problem: str = ""  # why the e-mail's From names no single address: the return is held
    claimed_at: datetime | None = None  # the e-mail's Date header: what the sender says, never the receipt time
    meta: dict[str, str] = field(default_factory=dict)  # _duban identity fields
    meta_rows: list[tuple[str, ...]] = field(default_factory=list)  # task id, then the locked texts as issued
    sheet: str = ""  # the visible sheet holding the table
    header_row: int | None = None
    rows: list[ReturnedRow] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)  # header texts found on the header row
    formula_cells: list[tuple[int, str]] = field(default_factory=list)  # (Excel row, header) of cells holding a formula
    merged_cells: list[tuple[int, int, tuple[str, ...]]] = field(default_factory=list)  # first row, last row, headers covered
    signers: dict[str, str] = field(default_factory=dict)  # 填报人 / 联系电话 / 审核人 as typed above the table

    def summary(self) -> "ReturnedFile":
        """The file as a verdict names it — where it came from, which sheet — without its cell
        texts, which the checks have read and nothing needs again."""
        return ReturnedFile(name=self.name, file_hash=self.file_hash, received_at=self.received_at, sender=self.sender,
                            sender_problem=self.sender_problem, claimed_at=self.claimed_at, sheet=self.sheet,
                            header_row=self.header_row, signers=self.signers)


@dataclass
class Checked:
    """The verdict on one returned file: accepted (with its records) or rejected (findings say why)."""

    file: ReturnedFile
    issue: IssueIdentity | None = None  # the issue the file's signature proves, without its rows
    findings: list[Finding] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)
    targets: list[NodeTarget] = field(default_factory=list)  # proposed targets of a 目标安排表
    source: str = ""  # ReturnSource: where the return came from (set by :func:`confirm`, or the clerk's --accept)
    repeat: bool = False  # the same values as the return already accepted: nothing to merge

    @property
    def registered(self) -> bool:
        """The unit's own return: from its address in 单位名录, or a file the clerk handed in."""
        return self.source not in ("", ReturnSource.unregistered.value)

    @property
    def accepted(self) -> bool:
        return self.issue is not None and not self.repeat and not has_errors(self.findings)

    @property
    def late(self) -> bool:
        return self.issue is not None and self.file.received_at.date() > date.fromisoformat(self.issue.due)

    @property
    def outcome(self) -> str:
        """退回 / 重复 / 逾期接收 / 已接收, as the collection report and 变更日志 say it."""
        if self.repeat:
            return "重复"
        return "退回" if not self.accepted else "逾期接收" if self.late else "已接收"


class SubmissionIndex:
    """报送情况 rows by period and unit (unit names compared normalised), built once per command.

    Every issued workbook and every returned file looks up its unit's row. Scanning the whole
    table for each made a province's collect quadratic (200 files × 20,000 rows, normalising
    each unit name every time). The first row of a (period, unit) wins, as a top-down reading
    of the sheet finds it; rows created through :meth:`add` are found from then on.
    """

    def __init__(self, rows: list[Submission]) -> None:
        self._rows = rows
        self._index: dict[tuple[str, str], Submission] | None = None  # built at the first lookup

    @property
    def _by_key(self) -> dict[tuple[str, str], Submission]:
        """Built when first needed rather than with the context: collect's readers are already
        at work on the first files by then, instead of waiting for it."""
        if self._index is None:
            self._index = {}
            for row in self._rows:
                self._index.setdefault((row.period, normalize_name(row.unit)), row)
        return self._index

    def get(self, period: str, unit: str) -> Submission | None:
        """The row of ``unit`` for ``period``, or None when nothing was issued to it."""
        return self._by_key.get((period, normalize_name(unit)))

    def add(self, row: Submission) -> None:
        """Append a new row to the table and to the index."""
        index = self._by_key
        self._rows.append(row)
        index.setdefault((row.period, normalize_name(row.unit)), row)


@dataclass(frozen=True)
class CollectContext:
    """What the checks compare a file with: the ledger's issues and units, and the signing key."""

    ledger: Ledger
    key: bytes
    now: datetime | None = None  # the collect's time: a sender's date after it is a lie
    registered_only: bool = False  # 设置 仅接收登记邮箱: a sender not in 单位名录 is held for the clerk
    submissions: SubmissionIndex = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "submissions", SubmissionIndex(self.ledger.submissions))


def _at(file: ReturnedFile, **where) -> dict:
    return {"file": file.name, "sheet": file.sheet, **where}


# --- identity ----------------------------------------------------------------------------


def read_identity(file: ReturnedFile, key: bytes) -> tuple[IssuedWorkbook | None, list[Finding]]:
    """The signed identity of a returned file, or findings saying why it cannot be trusted.

    Everything the signature covers is rebuilt from ``_duban`` alone (fields plus the locked
    texts as issued); the visible sheet is compared with it afterwards. A file without
    ``_duban`` was not issued by us (or was rebuilt by copy-paste); one whose signature fails
    was edited where only the office may write, or signed with another office's key.
    """
    where = {"file": file.name, "sheet": META_SHEET}
    if not file.meta:
        return None, [error("unsigned-file", "文件中没有督查室下发时附带的校验信息（隐藏工作表“_duban”），无法确认来源。",
                            file=file.name, hint="请单位在督查室下发的原文件上填写（不要复制到新文件或另存为其他格式后再改），重新报送。")]
    try:
        form = Form(file.meta.get("表类型", ""))
        kind = TaskKind(file.meta.get("类别", ""))
        issued_at = datetime.fromisoformat(file.meta.get("下发时间", ""))
        year = int(file.meta.get("年度", "0") or 0)
        n_locked = len(form.locked_headers)
        issue = IssuedWorkbook.model_validate({  # rows and all in one validation: a file has a few dozen
            "issue_id": file.meta.get("下发编号", ""), "unit": file.meta.get("单位", ""), "period": file.meta.get("周期", ""),
            "kind": kind, "issued_at": issued_at, "due": file.meta.get("截止时间", ""), "form": form, "year": year,
            "rows": [{"locked": (*r, *[""] * n_locked)[:n_locked]} for r in file.meta_rows],
            "format_version": file.meta.get("格式版本", "")})
        date.fromisoformat(issue.due)
    except ValueError:
        return None, [error("bad-signature", "隐藏的校验信息不完整或被改动，无法确认文件来源。", **where, hint=RESUBMIT)]
    if str(len(issue.rows)) != file.meta.get("任务数", "").strip() or not verify(issue.payload(), key, file.meta.get("签名", "")):
        return None, [error("bad-signature", f"签名校验未通过：文件中督查室填写的内容或隐藏校验信息被改动，"
                                             f"或不是本督查室签发的文件（自称是{issue.unit}的{issue.period}{issue.form.value}）。",
                            **where, hint=RESUBMIT)]
    return issue, []


# --- checks on a file whose identity is proven: each a plain function ----------------------


def check_issue_in_force(file: ReturnedFile, issue: IssueIdentity, ctx: CollectContext) -> list[Finding]:
    """The issue must be the one recorded in 报送情况 for that unit and period: a file from a
    superseded issue (re-issued with new targets) or from another ledger is refused."""
    row = ctx.submissions.get(issue.period, issue.unit)
    what = f"{issue.unit}的{issue.period}{issue.form.value}"
    if row is None:
        return [error("no-matching-issue", f"本台账没有向{issue.unit}下发过{issue.period}{issue.form.value}，"
                                           "文件可能属于其他年度或其他台账。", file=file.name, sheet="报送情况",
                      hint="核对文件的周期和单位；如确需收取，请先下发后让单位在新文件上填写。")]
    issued = parse_cell_datetime(row.issued_at)
    if issued is None or issued.replace(microsecond=0) != issue.issued_at:
        when = f"{issued:%Y-%m-%d %H:%M}" if issued else "另一时间"
        return [error("superseded-issue", f"{what}已于{when}重新下发，本文件是{issue.issued_at:%Y-%m-%d %H:%M}下发的旧版，不再有效。",
                      file=file.name, sheet="报送情况", row=row.row, column="下发时间",
                      hint="请单位在最新下发的文件上填写后重新报送。")]
    return []


def check_sender(file: ReturnedFile, issue: IssueIdentity, ctx: CollectContext) -> list[Finding]:
    """A file mailed back from another unit's registered address is misrouted: that unit may
    have typed its own work into someone else's form. A sender not in 单位名录 at all (a
    personal mailbox) is accepted with a note — or held, when 仅接收登记邮箱 says so. A message
    whose From names no single address cannot be placed, so it is held for the clerk: a blank
    or doubled From must not be a way around this check."""
    if file.sender_problem:
        return [error("sender-unclear", f"{file.sender_problem}，无法确认由谁寄回，暂不接收。", file=file.name,
                      hint=f"请核实来源；确属{issue.unit}报送的，请其从单位登记邮箱重新发送。")]
    if not file.sender:
        return []
    sender = normalize_address(file.sender)
    owners = sender_units(sender, ctx)
    if not owners:
        if ctx.registered_only:
            return [error("unregistered-sender", f"发件地址{sender}未登记在单位名录中，按设置“仅接收登记邮箱”暂不接收。",
                          file=file.name, hint=f"核实后请{issue.unit}从登记邮箱重新发送，或在【单位名录】中补充该地址。")]
        return [info("unknown-sender", f"发件地址{sender}未登记在单位名录中，按文件签名确认为{issue.unit}报送。",
                     file=file.name, hint="如该地址为单位常用邮箱，可在【单位名录】邮箱中补充。")]
    if normalize_name(issue.unit) in {normalize_name(o) for o in owners}:
        return []
    return [error("wrong-unit", f"这是下发给{issue.unit}的{issue.period}{issue.form.value}，却由{'、'.join(owners)}"
                                f"（{sender}）寄回。", file=file.name,
                  hint=f"请{'、'.join(owners)}使用下发给本单位的文件填写；如确为代报，请由{issue.unit}从本单位邮箱报送。")]


def sender_units(sender: str, ctx: CollectContext) -> list[str]:
    """The units of 单位名录 whose 邮箱 holds ``sender`` (compared normalised)."""
    sender = normalize_address(sender)
    return [u.name for u in ctx.ledger.units if sender in {normalize_address(a) for a in split_addresses(u.email)}]


def check_replacing(file: ReturnedFile, issue: IssueIdentity, ctx: CollectContext) -> list[Finding]:
    """A unit's accepted return is replaced only from the unit's registered address (or a
    file dropped in the inbox by the clerk): a stranger who got hold of a form — or replays
    an accepted one, re-zipped — must not overwrite what the unit reported, nor make it late."""
    if not file.sender or file.sender_problem or sender_units(file.sender, ctx):
        return []
    row = ctx.submissions.get(issue.period, issue.unit)
    if row is None or not row.accepted:
        return []
    return [error("unregistered-replace", f"{issue.unit}的{issue.period}{issue.form.value}已于{_when(row.received_at)}接收；"
                                          f"未登记的地址{normalize_address(file.sender)}寄来的新版本暂不接收。", file=file.name,
                  hint=f"如确为{issue.unit}更正，请其从登记邮箱重新发送，或核实后用 duban collect --accept 接收。")]


def _when(value: object) -> str:
    moment = parse_cell_datetime(value)
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "此前"


def repeats_accepted(checked: "Checked", ctx: CollectContext) -> bool:
    """Whether an accepted return brings exactly the values already taken from the unit for
    its period — a copy sent again (whatever its bytes), which must change neither the
    records nor the time and lateness the unit was recorded with.

    A feedback form: every row equals the unit's 反馈记录 row, task by task. A 目标安排表:
    the unit's return for it was accepted before, and every target it proposes is already
    the 节点目标 or the change to it awaiting approval (:func:`_target_stands`) — a copy the
    merge would add nothing from."""
    if checked.issue is None:
        return False
    ledger = ctx.ledger
    if checked.issue.form is not Form.feedback:
        row = ctx.submissions.get(checked.issue.period, checked.issue.unit)
        if not checked.targets or row is None or not row.accepted:
            return False
        current = {(t.task_id, t.period): t for t in ledger.targets}
        return all(_target_stands(current.get((t.task_id, t.period)), t.target) for t in checked.targets)
    if not checked.feedback:
        return False
    unit = normalize_name(checked.issue.unit)
    mine = {f.task_id: f for f in ledger.feedback if f.period == checked.issue.period and normalize_name(f.unit) == unit}
    fields = [name for _header, name in FEEDBACK_FIELDS]
    return all(fb.task_id in mine and all(_text(getattr(fb, n)) == _text(getattr(mine[fb.task_id], n)) for n in fields)
               for fb in checked.feedback)


def _target_stands(current: NodeTarget | None, proposed: str) -> bool:
    """Whether a proposed node target is already in 节点目标: its text, or (a confirmed one)
    the change proposed and awaiting the 分管领导's approval."""
    if current is None:
        return False
    if _same_text(current.target, proposed):
        return True
    found = PROPOSAL.search(current.change_note or "") if current.status == TargetStatus.change_pending.value else None
    return found is not None and _same_text(found["target"], proposed)


def check_sender_date(file: ReturnedFile, issue: IssueIdentity, ctx: CollectContext) -> list[Finding]:
    """The e-mail's Date is what the sender's computer says; the office decides lateness by
    when its own server received the message. A Date more than a day away from that, before
    the form was issued or after now is worth the clerk's eye (a wrong clock, or a backdated
    return), but never changes on-time or late."""
    claimed, received = file.claimed_at, file.received_at
    if claimed is None:
        return []
    if claimed < issue.issued_at:
        why = f"早于反馈表下发时间{issue.issued_at:%Y-%m-%d %H:%M}"
    elif ctx.now is not None and claimed > ctx.now + timedelta(minutes=5):
        why = "晚于当前时间"
    elif abs(claimed - received) > timedelta(days=1):
        why = f"与督查室收到的时间{received:%Y-%m-%d %H:%M}相差超过一天"
    else:
        return []
    return [warning("sender-date-mismatch", f"邮件自称发于{claimed:%Y-%m-%d %H:%M}，{why}；是否逾期按收到时间"
                                            f"{received:%Y-%m-%d %H:%M}认定。", file=file.name,
                    hint="一般是发件电脑时钟不准；如怀疑倒签日期，请与单位核实。")]


def check_columns(file: ReturnedFile, issue: IssuedWorkbook) -> list[Finding]:
    """Every column of the issued table must still be there (found by header, any order)."""
    if file.header_row is None:
        return [error("table-not-found", "找不到反馈表的表头（“任务编号”所在行），表格可能被删除或改动。",
                      **_at(file), hint=RESUBMIT)]
    missing = [h for h in (*issue.form.locked_headers, *issue.inputs) if h not in file.headers]
    return [error("missing-column", f"缺少“{h}”列。", **_at(file, row=file.header_row, column=h),
                  hint="请勿删除或改动表头；" + RESUBMIT) for h in missing]


def check_rows(file: ReturnedFile, issue: IssuedWorkbook) -> list[Finding]:
    """Each issued task exactly once; rows the office did not issue must be empty."""
    findings: list[Finding] = []
    issued = set(issue.task_ids)
    seen: dict[str, int] = {}
    for r in file.rows:
        task_id = r.values.get("任务编号", "")
        if task_id in issued:
            if task_id in seen:
                findings.append(error("duplicate-row", f"任务{task_id}出现了两次（第{seen[task_id]}行和第{r.row}行）。",
                                      **_at(file, row=r.row, column="任务编号"), hint="删除多出的行，或" + RESUBMIT))
            seen.setdefault(task_id, r.row)
        elif any(r.values.get(h, "") for h in issue.inputs):
            label = f"任务编号“{task_id}”不是下发给本单位的任务" if task_id else "该行没有任务编号"
            findings.append(error("unexpected-row", f"{label}，但填写了内容，无法归入任何任务。",
                                  **_at(file, row=r.row, column="任务编号"),
                                  hint="请把内容填到对应任务的行内，不要自行增加行。"))
    for task_id in issued - seen.keys():
        findings.append(error("task-row-missing", f"下发的任务{task_id}所在行被删除或任务编号被改动。",
                              **_at(file, column="任务编号"), hint=RESUBMIT))
    return findings


def check_locked_cells(file: ReturnedFile, issue: IssuedWorkbook) -> list[Finding]:
    """The grey cells must read exactly as issued: a unit that rewrites its node target or the
    task text would otherwise be judged against words the office never set."""
    findings: list[Finding] = []
    as_issued = {r.task_id: r.locked for r in issue.rows}
    for r in file.rows:
        locked = as_issued.get(r.values.get("任务编号", ""))
        if locked is None:
            continue
        for header, original in zip(issue.form.locked_headers[1:], locked[1:]):
            now = r.values.get(header, "")
            if _same_text(now, original):
                continue
            findings.append(error("locked-cell-edited", f"【{header}】是督查室填写的内容，已被改动：原为“{_short(original)}”，"
                                                        f"现为“{_short(now)}”。", **_at(file, row=r.row, column=header),
                                  hint="灰色单元格不得修改。请撤销改动（或在原文件上重新填写）后重新报送；"
                                       "对节点目标有异议请另行书面说明。"))
    return findings


def check_values(file: ReturnedFile, issue: IssuedWorkbook) -> list[Finding]:
    """Drop-down answers must be recognisable (绿/绿灯/green/G/✓ …); something else cannot be
    lit honestly, so the unit is asked to choose again rather than the office guessing."""
    if issue.form is not Form.feedback:
        return []
    findings: list[Finding] = []
    filled = 0
    for r in _issued_rows(file, issue):
        if not any(r.values.get(h, "") for h in issue.inputs):
            continue
        filled += 1
        for header, normalize, allowed in ((COMPLETION_HEADER, normalize_completion, Completion),
                                           (SELF_LIGHT_HEADER, normalize_light, LightColor)):
            text = r.values.get(header, "")
            if text and normalize(text) is None:
                findings.append(error("invalid-choice", f"【{header}】“{_short(text)}”无法识别，应为"
                                                        f"{'、'.join(c.value for c in allowed)}之一。",
                                      **_at(file, row=r.row, column=header), hint="请从下拉列表中选择后重新报送。"))
        if not r.values.get(COMPLETION_HEADER, ""):
            findings.append(warning("completion-missing", f"任务{r.values['任务编号']}填写了内容但未选择【完成情况】，亮灯时按未完成处理。",
                                    **_at(file, row=r.row, column=COMPLETION_HEADER),
                                    hint="如已完成节点目标，请单位补报并选择“已完成”。"))
    if not filled:
        findings.append(error("empty-return", "文件中所有任务都没有填写，可能寄回了空白表。", **_at(file),
                              hint="请单位填写后重新报送。"))
    return findings


def check_formulas(file: ReturnedFile, issue: IssuedWorkbook) -> list[Finding]:
    """A formula is refused, never evaluated: its cached value may be stale or absent, and a
    formula is a way for a file to compute — or fetch — what nobody typed."""
    return [error("formula-in-cell", f"第{row}行【{column}】是公式，督查室不计算公式。", **_at(file, row=row, column=column),
                  hint="请把公式改为数值（复制后“选择性粘贴→数值”）再报送。")
            for row, column in file.formula_cells]


def _rows_text(first: int, last: int) -> str:
    return f"第{first}行" if first == last else f"第{first}行至第{last}行"


def check_merged_cells(file: ReturnedFile, issue: IssuedWorkbook) -> list[Finding]:
    """Merged cells over answers hide which task (or which question) the text belongs to;
    the office would have to guess, so the unit is asked to unmerge."""
    inputs = set(issue.inputs)
    return [error("merged-cells", f"{_rows_text(first, last)}的【{'、'.join(dict.fromkeys(headers))}】被合并，无法判断内容属于哪项任务。",
                  **_at(file, row=first, column=next(h for h in headers if h in inputs)),
                  hint="请取消合并单元格，每项任务分别填写后重新报送。")
            for first, last, headers in file.merged_cells if inputs & set(headers)]


def check_text_length(file: ReturnedFile, issue: IssuedWorkbook) -> list[Finding]:
    """An answer as long as one Excel cell can hold (32,767 characters) may already have been
    cut: readers stop there without saying so. Keeping it would lose what the unit wrote
    beyond the limit, so the unit is asked to shorten it."""
    return [error("cell-too-long", f"【{header}】达到 Excel 单元格 {CELL_TEXT_LIMIT} 个字符的上限，超出部分会丢失。",
                  **_at(file, row=r.row, column=header), hint="请精简内容或改为附件说明后重新报送。")
            for r in file.rows for header in issue.inputs if len(r.values.get(header, "")) >= CELL_TEXT_LIMIT]


FILE_CHECKS: list[Callable[[ReturnedFile, IssuedWorkbook], list[Finding]]] = [
    check_columns, check_rows, check_locked_cells, check_formulas, check_merged_cells, check_text_length, check_values,
]
LEDGER_CHECKS: list[Callable[[ReturnedFile, IssueIdentity, CollectContext], list[Finding]]] = [
    check_issue_in_force, check_sender, check_replacing, check_sender_date,
]
RECORD_FINDINGS = frozenset({"empty-row", "late-return"})  # what :func:`examine` says about the records it built


def examine(file: ReturnedFile, key: bytes) -> Checked:
    """The verdict the file alone decides: its signed identity, every :data:`FILE_CHECKS`, and,
    if none fails, the records it brings (反馈记录 or proposed 节点目标).

    Split from the ledger's checks (:func:`confirm`) so it can run where the file is read —
    in the reading processes, while the ledger is still loading — since it needs nothing but
    the file and the signing key. The verdict carries :meth:`ReturnedFile.summary` and
    :meth:`IssuedWorkbook.identity`, not the cell texts and the issued rows: once compared
    they are not needed again."""
    issue, findings = read_identity(file, key)
    checked = Checked(file=file.summary(), findings=findings)
    if issue is None:
        return checked
    checked.issue = issue.identity()
    for check in FILE_CHECKS:
        checked.findings.extend(check(file, issue))
        if check is check_columns and has_errors(checked.findings):
            break  # the other checks would only repeat the missing table row by row
    if not has_errors(checked.findings):
        if issue.form is Form.feedback:
            checked.feedback, empty = _feedback_of(file, issue, checked.late)
            checked.findings.extend(empty)
        else:
            checked.targets = _targets_of(file, issue)
        if checked.late:
            checked.findings.append(warning("late-return", f"{issue.unit}的{issue.period}{issue.form.value}于"
                                                           f"{file.received_at:%Y-%m-%d %H:%M}收到，晚于截止日{issue.due}，记为逾期报送。",
                                            file=file.name, hint="逾期情况将在通报中列出。"))
    return checked


def confirm(checked: Checked, ctx: CollectContext) -> Checked:
    """The ledger's part of the verdict on an :func:`examine`-d file: the issue must still be
    in force and the sender must not be another unit (:data:`LEDGER_CHECKS`).

    Their findings come first, as the questions asked first. A file from a superseded issue
    is told only that (its rows would repeat the same cause); a file the ledger refuses
    brings no records, and so nothing is said about them either (:data:`RECORD_FINDINGS`)."""
    if checked.issue is None:
        return checked
    file, issue = checked.file, checked.issue
    findings: list[Finding] = []
    for check in LEDGER_CHECKS:
        findings.extend(check(file, issue, ctx))
        if check is check_issue_in_force and has_errors(findings):
            return Checked(file=file, issue=issue, findings=findings)
    if has_errors(findings):
        return Checked(file=file, issue=issue,
                       findings=[*findings, *(f for f in checked.findings if f.code not in RECORD_FINDINGS)])
    checked.findings[:0] = findings
    checked.source = source_of(file, ctx)
    # the unit's own copy of what a stranger sent is no repeat: it makes the record the unit's (来源, time)
    if repeats_accepted(checked, ctx) and not replaces_unregistered(checked, ctx.submissions.get(issue.period, issue.unit)):
        checked.repeat = True
        checked.findings = [info("repeat-return", f"与已接收的{issue.unit}{issue.period}{issue.form.value}内容相同，"
                                                  "不再重复记录，报送时间和状态不变。", file=file.name,
                                 hint="无需处理。")]
    return checked


def source_of(file: ReturnedFile, ctx: CollectContext) -> str:
    """登记邮箱 / 未登记地址 for a mailed return; 收件箱文件 for a file with no sender: the clerk
    put it in the inbox (a held From never gets this far)."""
    if not file.sender:
        return ReturnSource.inbox.value
    return ReturnSource.registered.value if sender_units(file.sender, ctx) else ReturnSource.unregistered.value


def prefer_registered(checked: list["Checked"]) -> None:
    """Hold the accepted returns of one run that meet a return of the same unit and period
    from the unit's registered address (or the clerk's own file): that one wins whatever the
    times — its words are the unit's; the other's may be anyone's."""
    registered = {(c.issue.period, normalize_name(c.issue.unit)) for c in checked if c.accepted and c.registered}
    for c in checked:
        if c.accepted and not c.registered and (c.issue.period, normalize_name(c.issue.unit)) in registered:
            c.findings.append(error("unregistered-replace", f"同一批收到了{c.issue.unit}从登记邮箱寄来的{c.issue.period}"
                                                            f"{c.issue.form.value}，以登记邮箱的为准，本文件暂不接收。",
                                    file=c.file.name, hint="核实后如需以本文件为准，用 duban collect --accept 接收。"))


MAX_FINDINGS_PER_FILE = 20  # the clerk reads a file's first few problems; the unit fixes them all at once


def bounded(findings: list[Finding], limit: int, where: dict) -> list[Finding]:
    """At most ``limit`` findings, errors first (so a refusal keeps its reason) and, within a
    level, those about the whole file before those about one row (a late return is said before
    its blank rows), then one saying how many more there were: a file padded with a thousand
    bad rows must not bury the report or swell 校验结果."""
    if len(findings) <= limit:
        return findings
    order = {"错误": 0, "警告": 1, "提示": 2}
    kept = sorted(findings, key=lambda f: (order.get(f.level.value, 3), f.row is not None))[:limit]
    return [*kept, info("more-findings", f"另有{len(findings) - limit}处问题未逐一列出。", **where,
                        hint="按已列出的问题修改后，其余问题多半随之消除；重新报送后会再次检查。")]


def check_return(file: ReturnedFile, ctx: CollectContext) -> Checked:
    """Run every check on one file; if none fails, build the records it brings. Collect runs
    the two halves in two processes; this is both in one."""
    return confirm(examine(file, ctx.key), ctx)


def _issued_rows(file: ReturnedFile, issue: IssuedWorkbook) -> list[ReturnedRow]:
    issued = set(issue.task_ids)
    return [r for r in file.rows if r.values.get("任务编号", "") in issued]


def _feedback_of(file: ReturnedFile, issue: IssuedWorkbook, is_late: bool) -> tuple[list[Feedback], list[Finding]]:
    """The 反馈记录 rows an accepted feedback form brings: one per issued task the unit filled
    in (a blank row is a warning, not a record). They are validated together, in one call
    (a province's collect makes over a thousand of them; a little cheaper than one by one)."""
    common = {"period": issue.period, "unit": issue.unit, "received_at": file.received_at, "late": "是" if is_late else "否",
              "source_file": file.name, "file_hash": file.file_hash}
    records, findings = [], []
    for r in _issued_rows(file, issue):
        values = {name: r.values.get(header, "") for header, name in FEEDBACK_FIELDS}
        if not any(values.values()):
            findings.append(warning("empty-row", f"任务{r.values['任务编号']}未填写，按未报送处理。",
                                    **_at(file, row=r.row), hint="如有进展，请单位补报。"))
            continue
        completion, light = normalize_completion(values["completion"]), normalize_light(values["self_light"])
        values["completion"] = completion.value if completion else ""
        values["self_light"] = light.value if light else ""
        records.append({"task_id": r.values["任务编号"], **common, **values})
    return _FEEDBACK_RECORDS.validate_python(records), findings


_FEEDBACK_RECORDS = TypeAdapter(list[Feedback])


def _targets_of(file: ReturnedFile, issue: IssuedWorkbook) -> list[NodeTarget]:
    columns = target_columns(issue.kind, issue.year)
    return [NodeTarget(task_id=r.values["任务编号"], period=str(period), target=r.values.get(header, ""), row=r.row)
            for r in _issued_rows(file, issue) for header, period in columns if r.values.get(header, "")]


def _same_text(a: str, b: str) -> bool:
    return a == b or _clean(a) == _clean(b)


def _clean(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n"))


def _short(text: str, limit: int = 40) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


# --- merging -------------------------------------------------------------------------------


@dataclass
class MergeResult:
    added: int = 0
    replaced: int = 0
    kept_newer: int = 0
    targets_filled: int = 0
    targets_proposed: int = 0
    refused: int = 0  # refused returns recorded as 退回 in 报送情况
    findings: list[Finding] = field(default_factory=list)


def merge_returns(ledger: Ledger, checked: list[Checked], now: datetime, command: str = "duban collect") -> MergeResult:
    """Apply the accepted returns (oldest first) and record them in 报送情况; of a refused
    one only its fate is recorded (:func:`_record_refusal`), none of its content.

    A newer return for the same unit, task and period replaces the older row in place (its
    extras kept) and each replaced value goes to 变更日志; an older file arriving after a
    newer one changes nothing — unless the older one is the unit's own and what stands came
    from an address not in 单位名录 (:func:`replaces_unregistered`). Targets: an unconfirmed
    target takes the unit's text; a confirmed one is never overwritten — the proposal is
    recorded and the row becomes 调整待批.
    """
    result = MergeResult()
    index = {(f.task_id, f.period, normalize_name(f.unit)): f for f in ledger.feedback}
    submissions = SubmissionIndex(ledger.submissions)
    for item in sorted(checked, key=lambda c: c.file.received_at):
        if not item.accepted:
            result.refused += _record_refusal(ledger, submissions, item, now, command)
            continue
        source = f"{item.file.name}#{item.file.file_hash}"
        row = submissions.get(item.issue.period, item.issue.unit)
        unit_over_stranger = replaces_unregistered(item, row)
        if unit_over_stranger and item.issue.form is Form.feedback:
            _drop_unanswered(ledger, index, item, now, command, source)
        for fb in item.feedback:
            _merge_feedback(ledger, index, fb, now, command, source, result, whatever_time=unit_over_stranger)
        for target in item.targets:
            _merge_target(ledger, item.issue.unit, target, now, command, source, result)
        if row is not None:
            _record_submission(ledger, row, item, now, command, whatever_time=unit_over_stranger)
    return result


def replaces_unregistered(item: Checked, row: Submission | None) -> bool:
    """Whether an accepted return is the unit's own (registered address, the clerk's file or
    --accept) meeting a return accepted earlier from an address not in 单位名录.

    For one unit and period the unit's own return wins over a stranger's whatever their
    times: the stranger's may have been anyone's words. The unit's own receipt time then
    decides 按时/逾期 — it is the unit's real report, and a stranger's earlier copy must not
    make it on time (nor a stranger's later one make it late)."""
    return row is not None and item.registered and row.source == ReturnSource.unregistered.value and row.accepted


def _drop_unanswered(ledger: Ledger, index: dict, item: Checked, now: datetime, command: str, source: str) -> None:
    """The stranger's 反馈记录 rows of a task the unit's own return leaves blank: removed (to
    变更日志), since only the unit's return now speaks for it — a blank row is 未报送."""
    unit, period = normalize_name(item.issue.unit), item.issue.period
    answered = {fb.task_id for fb in item.feedback}
    stale = [f for f in ledger.feedback if f.period == period and normalize_name(f.unit) == unit and f.task_id not in answered]
    for fb in stale:
        ledger.feedback.remove(fb)
        index.pop((fb.task_id, fb.period, normalize_name(fb.unit)), None)
        values = {header: _text(getattr(fb, name)) for name, header in LEDGER_HEADERS.items() if _text(getattr(fb, name))}
        ledger.changelog.append(ChangeLogEntry(time=now, action="删除反馈", object=fb.task_id, field=f"{fb.period} {fb.unit}",
                                               old=row_text(values), new="单位从登记邮箱的报送未填写此项",
                                               source=f"{command} {source}"))


def _merge_feedback(ledger: Ledger, index: dict, fb: Feedback, now: datetime, command: str, source: str,
                    result: MergeResult, whatever_time: bool = False) -> None:
    key = (fb.task_id, fb.period, normalize_name(fb.unit))
    old = index.get(key)
    if old is None:
        ledger.feedback.append(fb)
        index[key] = fb
        result.added += 1
        values = {header: _text(getattr(fb, name)) for name, header in LEDGER_HEADERS.items() if _text(getattr(fb, name))}
        ledger.changelog.append(ChangeLogEntry(time=now, action="收集反馈", object=fb.task_id, field=f"{fb.period} {fb.unit} 新增",
                                               new=row_text(values), source=f"{command} {source}"))
        return
    old_time, new_time = parse_cell_datetime(old.received_at), parse_cell_datetime(fb.received_at)
    if old.file_hash == fb.file_hash or (old_time and new_time and old_time > new_time and not whatever_time):
        result.kept_newer += old.file_hash != fb.file_hash
        return
    for name, header in LEDGER_HEADERS.items():
        before, after = _text(getattr(old, name)), _text(getattr(fb, name))
        if before != after:
            ledger.changelog.append(ChangeLogEntry(time=now, action="更新反馈", object=fb.task_id,
                                                   field=f"{fb.period} {fb.unit} {header}", old=before, new=after,
                                                   source=f"{command} {source}"))
            setattr(old, name, getattr(fb, name))
    result.replaced += 1


def _merge_target(ledger: Ledger, unit: str, proposed: NodeTarget, now: datetime, command: str, source: str,
                  result: MergeResult) -> None:
    current = next((t for t in ledger.targets if t.task_id == proposed.task_id and t.period == proposed.period), None)
    log = lambda field, old, new: ledger.changelog.append(ChangeLogEntry(  # noqa: E731
        time=now, action="报送目标", object=proposed.task_id, field=f"{proposed.period} {field}", old=old, new=new,
        source=f"{command} {source}"))
    if current is None:
        ledger.targets.append(NodeTarget(task_id=proposed.task_id, period=proposed.period, target=proposed.target,
                                         status=TargetStatus.pending.value))
        log("节点目标", "", proposed.target)
        result.targets_filled += 1
        return
    if _same_text(current.target, proposed.target):
        return
    if current.status in (TargetStatus.confirmed.value, TargetStatus.change_pending.value):
        note = proposal_note(unit, now.date(), proposed.target)
        if current.change_note != note:
            log("变更说明", current.change_note, note)
            log("确认状态", current.status, TargetStatus.change_pending.value)
            current.change_note, current.status = note, TargetStatus.change_pending.value
            result.targets_proposed += 1
        return
    log("节点目标", current.target, proposed.target)
    current.target, current.status = proposed.target, TargetStatus.pending.value
    result.targets_filled += 1


def _record_submission(ledger: Ledger, row: Submission, item: Checked, now: datetime, command: str,
                       whatever_time: bool = False) -> None:
    """报送情况 of an accepted file's unit and period: received time, on time or late, and
    where the return came from (来源).

    A refused file only marks the row 退回 (:func:`_record_refusal`); an accepted return
    replaces the 退回, and a unit's earlier accepted return always stands — but the unit's
    own return replaces one from an unregistered address ``whatever_time``
    (:func:`replaces_unregistered`), and 变更日志 says so.
    """
    received = parse_cell_datetime(row.received_at)
    if row.accepted and received and received > item.file.received_at and not whatever_time:
        return  # a newer return is already recorded
    state = SubmissionState.late.value if item.late else SubmissionState.on_time.value
    why = f"{command} {item.file.name}#{item.file.file_hash}"
    if (received, row.status) != (item.file.received_at, state):
        ledger.changelog.append(ChangeLogEntry(time=now, action="收集", object=row.unit, field=f"{row.period}报送状态",
                                               old=row.status, new=state, source=why))
    if whatever_time:
        ledger.changelog.append(ChangeLogEntry(time=now, action="取代未登记报送", object=row.unit, field=f"{row.period}来源",
                                               old=row.source, new=item.source, source=why))
    elif row.source and row.source != item.source:
        ledger.changelog.append(ChangeLogEntry(time=now, action="收集", object=row.unit, field=f"{row.period}来源",
                                               old=row.source, new=item.source, source=why))
    row.received_at, row.status, row.problem, row.source = item.file.received_at, state, "", item.source
    row.filler, row.phone, row.reviewer = (item.file.signers.get(label, "") for label in SIGNERS)


def _record_refusal(ledger: Ledger, submissions: SubmissionIndex, item: Checked, now: datetime, command: str) -> bool:
    """报送情况 of a refused return's unit and period: 退回, with when and why in 问题.

    The office must be able to tell a unit that sent nothing from one whose form it refused
    (a 通报 calls the first 未报送 and the second 退回未重报). Only the status is recorded —
    the refused file's content never reaches 反馈记录 or 节点目标 — and an accepted return,
    earlier or later, always stands over a refusal. A file whose issue cannot be proven
    names no unit, so it is recorded nowhere but in quarantine/."""
    row = submissions.get(item.issue.period, item.issue.unit) if item.issue is not None else None
    if row is None or row.accepted:
        return False
    reasons = "；".join(dict.fromkeys(f.message for f in item.findings if f.level is Level.error))
    problem = f"{item.file.received_at:%Y-%m-%d %H:%M} 退回：{reasons}"
    if (row.status, row.problem) == (SubmissionState.returned.value, problem):
        return False
    ledger.changelog.append(ChangeLogEntry(time=now, action="收集", object=row.unit, field=f"{row.period}报送状态",
                                           old=row.status, new=SubmissionState.returned.value,
                                           source=f"{command} {item.file.name}#{item.file.file_hash}"))
    row.received_at, row.status, row.problem = item.file.received_at, SubmissionState.returned.value, problem
    return True


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return "" if value is None else str(value)


def missing_returns(ledger: Ledger, periods: set[str], today: date, due: Callable[[Submission], date | None]) -> list[Finding]:
    """Units issued a workbook for one of ``periods`` with no accepted return yet: a warning
    once the due date has passed (催办), a note before it."""
    out = []
    for row in ledger.submissions:
        if row.period not in periods or not row.issued_at or row.accepted:
            continue
        day = due(row)
        overdue = day is not None and today > day
        make = warning if overdue else info
        when = f"截止日{day.isoformat()}" if day else "截止日未知"
        out.append(make("missing-return", f"{row.unit}尚未报送{row.period}（{when}{'，已逾期' if overdue else ''}）。",
                        sheet="报送情况", row=row.row, column="状态", subject=f"{row.period} {row.unit}",
                        hint="可用“催办”（duban remind）发送催办邮件。" if overdue else "截止日前无需催办。"))
    return out
