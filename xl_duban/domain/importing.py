"""Mapping task lists into ledger records (pure: raw tables in, tasks and findings out).

The office receives task lists as Word attachments (附件2 督查重点任务清单, 附件3 民生实事分解表),
as Excel/CSV lists with whatever headers the drafter chose, and as prose (附件1 单位分工清单).
Adapters turn each file into :class:`RawTable` / :class:`RawProse`; this module recognises
headers by their synonyms, maps rows, and merges the result into a ledger so that
importing the same file twice adds nothing. Every row it cannot map becomes a finding
with the file, table, row and column where it stands — nothing is dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from .cells import row_text
from .deadlines import read_deadline, read_deadline_cell
from .findings import Finding, error, info, warning
from .models import ChangeLogEntry, Ledger, Task, TaskKind, TaskStatus, Unit
from .schema import TASKS
from .units import (Match, UnitDirectory, _is_abbreviation, alias_rule, collective, ends_like_org, guess_unit_type,
                    normalize_name, split_people, split_roles, split_unit_cell, split_units)

# Header synonyms seen in the seeds and in office practice → Task field.
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("任务编号",),
    "kind": ("类别", "任务类别"),
    "seq": ("序号", "编号"),
    "category": ("大类", "分类", "项目分类"),
    "name": ("项目名称",),
    "content": ("工作任务", "具体内容", "任务内容", "重点工作", "工作内容"),
    "leaders": ("责任领导", "分管区领导", "分管市领导", "分管领导", "责任区领导", "区领导"),
    "lead_units": ("牵头承办单位", "牵头责任单位", "牵头单位", "责任单位", "承办单位", "牵头部门"),
    "co_units": ("相关责任单位", "配合单位", "协办单位", "参与单位", "协同单位"),
    "deadline": ("完成时限", "完成时间", "时限要求"),
    "cadence": ("报送周期",),
    "status": ("状态",),
    "note": ("备注",),
}
UNIT_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("单位名称", "单位"),
    "aliases": ("别名", "简称"),
    "type": ("类型", "单位类型"),
    "contact": ("联系人",),
    "phone": ("联系电话", "电话"),
    "email": ("邮箱", "电子邮箱", "邮件地址"),
}
# "1." / "2．" / "3、" sub-item numbering — but not a decimal such as "2.5万平方米".
_NUMBERED = re.compile(r"^\s*(\d{1,2})\s*[.．、](?!\d)\s*")
_TARGET_FORM_HEADERS = ("第一季度目标", "第二季度目标", "一月份", "节点任务")
# Fields a row never takes from a cell merged down from the row above. A merged 牵头单位 or
# 责任领导 is shared by every row it spans, but a merged 序号 (or 项目名称) spans the sub-item
# rows of one 民生实事 project: copying it down would make each sub-item a second task with
# the project's number, so those rows read it as empty and become sub-items.
_OWN_ONLY_FIELDS = ("seq", "name")


@dataclass(frozen=True)
class RawRow:
    cells: tuple[str, ...]
    row: int  # Excel row, or 1-based row of a Word table (header row = 1)
    # Positions whose text the adapter copied from the cell above because the two are one
    # vertically merged cell (Word ``vMerge``, an Excel merged range): the row shares that
    # value but did not write it itself. See :data:`_OWN_ONLY_FIELDS`.
    merged: frozenset[int] = frozenset()
    # Positions of a workbook row holding a number or a date → the cell's number format ("" when
    # the adapter cannot tell): the 完成时限 is read as the cell displays it (deadlines.read_deadline_cell).
    number_formats: dict[int, str] = field(default_factory=dict)


@dataclass
class RawTable:
    """A table as an adapter read it: cell texts (paragraphs joined by newlines)."""

    file: str
    sheet: str  # sheet name, or 表格N for the N-th table of a Word document
    rows: list[RawRow]
    context: str = ""  # title lines above the table, file name — used to tell the kind


@dataclass
class RawProse:
    """Paragraphs of a prose document, numbered from 1."""

    file: str
    paragraphs: list[tuple[int, str]]


@dataclass
class TaskDraft:
    """A task read from a source, before it is merged into the ledger."""

    kind: TaskKind
    seq: int
    sub: int | None
    content: str
    category: str = ""
    leaders: list[str] = field(default_factory=list)
    lead_units: list[str] = field(default_factory=list)
    co_units: list[str] = field(default_factory=list)
    deadline: str = ""
    note: str = ""
    where: dict = field(default_factory=dict)  # file/sheet/row for findings
    deadline_column: str = "完成时限"  # the source's header of the deadline, for findings
    deadline_format: str | None = None  # the number format of a number/date 完成时限 cell; None: text
    deadline_inherited: bool = False  # the project's 完成时限, already reported on the project's row

    def task_id(self, year: int) -> str:
        """Stable id per DESIGN §3: ``2024-ZD-001``, ``2024-MS-03``, ``2024-MS-03-2``."""
        if self.kind is TaskKind.key:
            return f"{year}-ZD-{self.seq:03d}"
        base = f"{year}-MS-{self.seq:02d}"
        return base if self.sub is None else f"{base}-{self.sub}"


def _match_header(text: str, synonyms: dict[str, tuple[str, ...]]) -> str | None:
    h = normalize_name(text).replace("\n", "")
    for fld, names in synonyms.items():
        if h in names:
            return fld
    for fld, names in synonyms.items():
        if any(h.startswith(n) for n in names if len(n) >= 3):
            return fld
    return None


def find_header(table: RawTable, synonyms: dict[str, tuple[str, ...]], must: tuple[str, ...]) -> tuple[int, dict[int, str]] | None:
    """Index of the header row within the first 10 rows and its column → field mapping."""
    for i, raw in enumerate(table.rows[:10]):
        mapping: dict[int, str] = {}
        for c, text in enumerate(raw.cells):
            fld = _match_header(text, synonyms)
            if fld and fld not in mapping.values():
                mapping[c] = fld
        if all(m in mapping.values() for m in must) and len(mapping) >= 2:
            return i, mapping
    return None


def detect_year(*texts: str) -> int | None:
    """The year a document is about, from its title (``2022年区…``)."""
    for t in texts:
        m = re.search(r"(20\d{2})\s*年", t or "")
        if m:
            return int(m.group(1))
    return None


def _parse_seq(text: str) -> int | None:
    t = normalize_name(text)
    m = re.fullmatch(r"(\d{1,4})", t.rstrip("."))
    return int(m.group(1)) if m else None


def _table_kind(table: RawTable, mapping: dict[int, str]) -> TaskKind:
    if "民生实事" in table.context or "民生实事" in table.sheet:
        return TaskKind.livelihood
    if "重点任务" in table.context or "重点工作" in table.context:
        return TaskKind.key
    return TaskKind.livelihood if "name" in mapping.values() else TaskKind.key


def map_task_table(table: RawTable, directory: UnitDirectory) -> tuple[list[TaskDraft], list[Finding]]:
    """Turn one table into task drafts. Tables that are not task lists yield a finding only."""
    where = {"file": table.file, "sheet": table.sheet}
    header = find_header(table, HEADER_SYNONYMS, must=("content",))
    if header is None or "lead_units" not in header[1].values():
        if not any(c.strip() for r in table.rows for c in r.cells):
            return [], []
        return [], [info("not-a-task-table", f"{table.sheet}不是任务清单（未找到【工作任务】和【牵头单位】列），已跳过。", **where,
                         hint="如确为任务清单，请将表头改为“工作任务”“牵头单位”等标准列名。")]
    h_index, mapping = header
    header_cells = table.rows[h_index].cells
    if any(any(k in normalize_name(c) for k in _TARGET_FORM_HEADERS) for c in header_cells):
        return [], [info("target-form-skipped", f"{table.sheet}是节点目标安排表或反馈表，不是任务清单，已跳过。", **where,
                         hint="节点目标请通过“下发反馈表 --targets”及“收集反馈”录入。")]
    default_kind = _table_kind(table, mapping)
    col_of = {fld: c for c, fld in mapping.items()}
    header_key = [normalize_name(c) for c in header_cells]
    known = directory.known_spellings()  # grows with the names met in this table (split_units)

    drafts: list[TaskDraft] = []
    findings: list[Finding] = []
    last_project: TaskDraft | None = None
    section = ""  # 大类 from the last section row (一、… / （一）…)
    for raw in table.rows[h_index + 1:]:
        at = {**where, "row": raw.row}
        cells = list(raw.cells) + [""] * (len(header_cells) - len(raw.cells))
        if not any(c.strip() for i, c in enumerate(cells) if i not in raw.merged):
            continue  # blank, or only the continuation of cells merged from above
        if [normalize_name(c) for c in cells[: len(header_key)]] == header_key:
            findings.append(info("repeated-header", "重复的表头行（跨页表格常见），已跳过。", **at))
            continue
        heading = _section_heading(cells)
        only_content = {i for i, c in enumerate(cells) if c.strip()} == {col_of["content"]}
        if heading is not None and not (only_content and last_project is not None):
            # (text alone in 工作任务 under a 民生实事 project is a sub-item row numbered 一、)
            section, last_project = heading, None
            continue
        value = {fld: "" if c in raw.merged and fld in _OWN_ONLY_FIELDS else cells[c].strip()
                 for fld, c in col_of.items() if c < len(cells)}
        kind = TaskKind(value["kind"]) if value.get("kind") in ("重点任务", "民生实事") else default_kind
        content = _content(value)
        if not content:
            findings.append(error("missing-content", "该行没有工作任务内容，未导入。", column=header_cells[col_of["content"]], **at,
                                  hint="补全【工作任务】后重新导入。"))
            continue
        seq_text = value.get("seq", "")
        seq = _parse_seq(seq_text) if seq_text else None
        lead_units, co_units = _unit_columns(value, header_cells, col_of, known, at, findings)
        draft = TaskDraft(
            kind=kind, seq=seq or 0, sub=None, content=content,
            category=normalize_name(value.get("category", "")),
            leaders=split_people(value.get("leaders", "")),
            lead_units=lead_units,
            co_units=co_units,
            deadline=value.get("deadline", ""),
            note=value.get("note", "").strip(),
            where={**at, "column": ""},
            deadline_column=header_cells[col_of["deadline"]].strip() if "deadline" in col_of else "完成时限",
            deadline_format=raw.number_formats.get(col_of["deadline"]) if "deadline" in col_of else None,
        )
        if seq is None and seq_text:
            findings.append(error("bad-seq", f"序号“{seq_text}”不是数字，无法生成任务编号，未导入。",
                                  column=header_cells[col_of["seq"]], **at, hint="将序号改为阿拉伯数字。"))
            continue
        if seq is None:
            if kind is TaskKind.livelihood and last_project is not None:
                draft.seq, draft.sub = last_project.seq, _next_sub(drafts, last_project)
                numbered = _NUMBERED.match(draft.content)
                if numbered:  # "3.实施…": the drafter's own number is the sub-item number
                    draft.content = draft.content[numbered.end():].strip()
                    if int(numbered.group(1)) >= draft.sub:
                        draft.sub = int(numbered.group(1))
                _inherit(draft, last_project)
                draft.category = draft.category or section
                drafts.append(draft)
                findings.append(info("subitem-row", f"序号为空，按第{last_project.seq}项民生实事的子项导入。", **at))
                continue
            column = header_cells[col_of["seq"]] if "seq" in col_of else ""
            if "seq" in col_of and col_of["seq"] in raw.merged:
                findings.append(error("missing-seq", "序号与上一行合并为一个单元格，无法确定本行的任务编号，未导入。", column=column, **at,
                                      hint="如本行是上一项任务的续行，请将内容并入上一行；如是另一项任务，请取消合并并补填序号。"))
            else:
                findings.append(error("missing-seq", "序号为空，无法确定任务编号，未导入。", column=column, **at,
                                      hint="补填序号后重新导入；民生实事的子项请放在所属项目之后。"))
            continue
        draft.category = draft.category or section
        drafts.append(draft)
        if kind is TaskKind.livelihood:
            last_project = draft
            drafts.extend(_cell_subitems(draft, value.get("name", ""), value.get("content", "")))
        if not draft.lead_units:
            findings.append(warning("missing-lead-unit", "牵头单位为空，已导入，请补填。", column="牵头单位", **at))
    return drafts, findings


def _unit_columns(value: dict[str, str], header_cells: tuple[str, ...] | list[str], col_of: dict[str, int],
                  known: list[str], at: dict, findings: list[Finding]) -> tuple[list[str], list[str]]:
    """The row's lead and co-operating units: bracketed notes that name no unit become a finding
    (``区教育局（牵头）``), and a 牵头单位 cell that marks roles (``区教育局牵头，各镇街配合``) gives
    its 配合 names to the co-operating units."""
    columns = {}
    for fld in ("lead_units", "co_units"):
        names, notes = split_unit_cell(value.get(fld, ""), known)
        column = header_cells[col_of[fld]].strip() if fld in col_of else ""
        for note in notes:
            findings.append(info("unit-note-dropped", f"【{column}】中括注的“{note}”不是单位名称，未作为单位导入。",
                                 column=column, **at, hint="如括注的是另一个单位，请在【任务台账】中补上该单位名称。"))
        columns[fld] = _met(names, known)
    lead, moved = split_roles(columns["lead_units"])
    co = columns["co_units"]
    if moved:
        co = [*co, *(n for n in moved if n not in co)]
        column = header_cells[col_of["lead_units"]].strip()
        findings.append(info("roles-in-lead-cell", f"【{column}】注明由“{'、'.join(moved)}”配合，已记入配合单位；牵头单位为“{'、'.join(lead)}”。",
                             column=column, **at, hint="核对牵头单位和配合单位的划分是否与原文一致。"))
    return lead, co


def _met(names: list[str], known: list[str]) -> list[str]:
    """Remember the unit names met so far in a file: a later cell listing ``区科协`` on its own
    line keeps it apart from the next line as the directory would (DESIGN §3, issue 22)."""
    known.extend(n for n in names if n not in known and collective(n) is None)
    return names


def _section_heading(cells: list[str]) -> str | None:
    """The 大类 title of a section row (``一、着力稳增长`` alone in the row, often merged across)."""
    texts = {c.strip() for c in cells if c.strip()}
    if len(texts) != 1:
        return None
    text = next(iter(texts))
    return _heading_title(text) if _HEADING.match(text) else None


def _content(value: dict[str, str]) -> str:
    return _join_name(value.get("name", ""), value.get("content", ""))


def _join_name(name: str, content: str) -> str:
    name, content = name.strip(), content.strip()
    if name and content and not content.startswith(name):
        return f"{name}：{content}"
    return content or name


def _next_sub(drafts: list[TaskDraft], project: TaskDraft) -> int:
    subs = [d.sub for d in drafts if d.seq == project.seq and d.kind is project.kind and d.sub]
    return max(subs, default=0) + 1


def _inherit(sub: TaskDraft, parent: TaskDraft) -> None:
    sub.category = sub.category or parent.category
    sub.leaders = sub.leaders or list(parent.leaders)
    sub.lead_units = sub.lead_units or list(parent.lead_units)
    sub.co_units = sub.co_units or list(parent.co_units)
    if not str(sub.deadline or "").strip():  # a sub-item is bound by its project's 完成时限
        sub.deadline, sub.deadline_format, sub.deadline_column = parent.deadline, parent.deadline_format, parent.deadline_column
        sub.deadline_inherited = bool(str(parent.deadline or "").strip())


def split_subitems(lines: list[str]) -> tuple[list[str], list[str]]:
    """Split the paragraphs of a 工作任务 cell into its intro and numbered sub-items.

    A sub-item starts at a paragraph numbered ``1.`` / ``2．`` / ``3、`` (a decimal such as
    ``2.5万平方米`` is not a number); an unnumbered paragraph after a sub-item continues that
    sub-item (Word users press Enter inside an item), joined with a line break. Items keep
    their numbers; blank paragraphs are dropped.
    """
    intro: list[str] = []
    items: list[str] = []
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if _NUMBERED.match(text):
            items.append(text)
        elif items:
            items[-1] += "\n" + text
        else:
            intro.append(text)
    return intro, items


def _cell_subitems(project: TaskDraft, name: str, cell: str) -> list[TaskDraft]:
    """Numbered paragraphs (``1.…``) inside a 民生实事 工作任务 cell are its sub-items.

    Two or more numbered items are split off. A single item is split off only when it is
    item 1, fills the cell and the row has a 项目名称 to stand for the project — the layout
    where the first sub-item shares the project's row and the others follow in rows below
    under a merged 序号 / 项目名称.
    """
    intro, items = split_subitems(cell.split("\n"))
    numbers = [int(_NUMBERED.match(item).group(1)) for item in items]
    if not (len(items) >= 2 or (numbers == [1] and not intro and name.strip())):
        return []
    project.content = _join_name(name, "\n".join(intro)) or "\n".join(items)
    subs = []
    for k, text in enumerate(items, 1):
        sub = TaskDraft(kind=project.kind, seq=project.seq, sub=k, content=_NUMBERED.sub("", text, count=1).strip(),
                        where=project.where)
        _inherit(sub, project)
        subs.append(sub)
    return subs


# -- prose: 附件1 单位分工清单 ---------------------------------------------------------------
_HEADING = re.compile(r"^(?:[（(][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、)")
_TRAILING_UNITS = re.compile(r"[（(\[【]([^（()）\[\]【】]+)[)）\]】]\s*[。.]?$")


def map_prose(prose: RawProse, directory: UnitDirectory) -> tuple[list[TaskDraft], list[Finding]]:
    """Each paragraph ending in （units） is a key task; headings give 大类.

    The first unit in the brackets leads, the rest co-operate — the convention of the
    分工清单, where the lead unit is always named first.
    """
    drafts: list[TaskDraft] = []
    findings: list[Finding] = []
    category = ""
    started = False  # title lines above the first heading or task are not body text
    known = directory.known_spellings()  # grows with the names met in this document
    for number, raw_text in prose.paragraphs:
        text = raw_text.replace("[bookmark: _GoBack]", "").strip()
        at = {"file": prose.file, "sheet": "正文", "row": number}
        m = _TRAILING_UNITS.search(text)
        units = _units_in_brackets(m.group(1), known) if m else []
        if not units:
            if _HEADING.match(text):
                category, started = _heading_title(text), True
            elif started:
                findings.append(info("prose-skipped", f"第{number}段末尾没有责任单位括注，未作为任务导入：“{text[:30]}”。", **at,
                                     hint="如该段是一项任务，请在段末用括号注明责任单位后重新导入。"))
            continue
        started = True
        if _HEADING.match(text):
            category = _heading_title(text)
        content = text[: m.start()].strip()
        drafts.append(TaskDraft(kind=TaskKind.key, seq=len(drafts) + 1, sub=None, content=content,
                                category=category, lead_units=units[:1], co_units=units[1:],
                                note="来源：单位分工清单", where={**at, "column": ""}))
    return drafts, findings


def _units_in_brackets(text: str, known: list[str]) -> list[str]:
    units = split_units(text, known)
    return _met(units, known) if units and all(_looks_like_unit(u) for u in units) else []


def _looks_like_unit(name: str) -> bool:
    return collective(name) is not None or ends_like_org(name)


def _heading_title(text: str) -> str:
    body = _HEADING.sub("", text)
    return re.split(r"[，。,]", body, maxsplit=1)[0][:30]


# -- unit directory lists ---------------------------------------------------------------------
def map_unit_table(table: RawTable) -> tuple[list[Unit], list[Finding]] | None:
    """A 单位名录 list (单位名称, 别名, 类型, 联系人, 联系电话, 邮箱), or None if not one."""
    header = find_header(table, UNIT_HEADERS, must=("name", "type"))
    if header is None:
        return None
    h_index, mapping = header
    units, findings = [], []
    for raw in table.rows[h_index + 1:]:
        value = {fld: (raw.cells[c].strip() if c < len(raw.cells) else "") for c, fld in mapping.items()}
        if not any(value.values()):
            continue
        name = normalize_name(value.get("name", ""))
        if not name:
            findings.append(error("missing-unit-name", "单位名称为空，未导入。", file=table.file, sheet=table.sheet,
                                  row=raw.row, column="单位名称"))
            continue
        units.append(Unit(name=name, aliases=split_units(value.get("aliases", "")),
                          type=value.get("type", "") or guess_unit_type(name), contact=value.get("contact", ""),
                          phone=value.get("phone", ""), email=value.get("email", "").strip()))
    return units, findings


# -- merge into the ledger ------------------------------------------------------------------------
@dataclass
class MergeResult:
    added_tasks: list[str] = field(default_factory=list)
    unchanged: int = 0
    added_units: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def _content_key(kind: str, text: str) -> tuple[str, str]:
    return kind, re.sub(r"[\s，。,.；;：:、]", "", normalize_name(text))


def merge_tasks(ledger: Ledger, drafts: list[TaskDraft], year: int, source: str, now: datetime) -> MergeResult:
    """Add drafts not yet in the ledger; resolve and register their units.

    A task whose id is already present with the same kind and text is left alone, so
    re-importing a file adds nothing. An id already taken by a different text is a conflict
    finding, never an overwrite: the ledger is the record and only a person may change it.
    The same text under a new id is imported — two rows may well repeat a task on purpose —
    with a ``duplicate-content`` warning that names the other task, for a person to check.
    """
    result = MergeResult()
    by_content: dict[tuple[str, str], Task] = {}
    for t in ledger.tasks:
        by_content.setdefault(_content_key(t.kind, t.content), t)
    by_id = {t.id: t for t in ledger.tasks}
    for draft in drafts:
        tid = draft.task_id(year)
        key = _content_key(draft.kind.value, draft.content)
        if tid in by_id:
            if _content_key(by_id[tid].kind, by_id[tid].content) == key:
                result.unchanged += 1
                continue
            result.findings.append(error(
                "task-id-conflict", f"任务编号{tid}已被另一项任务占用（“{by_id[tid].content[:20]}…”），本行未导入。",
                **draft.where, hint="核对是否为同一任务的修订稿；如是，请在【任务台账】中直接修改。"))
            continue
        if key in by_content:
            other = by_content[key]
            result.findings.append(warning(
                "duplicate-content", f"本行任务内容与任务{other.id}相同，已按编号{tid}导入，请核对是否重复。",
                **draft.where, hint=f"如确属重复，请在【任务台账】中将{tid}的状态改为“已取消”。"))
        lead = _register_units(ledger, draft.lead_units, draft.where, source, now, result)
        co = _register_units(ledger, draft.co_units, draft.where, source, now, result)
        lead = _current_names(ledger, lead)  # a short form in this very row may have become an alias
        deadline, note = _deadline_cell(draft, year, [] if draft.deadline_inherited else result.findings)
        task = Task(id=tid, kind=draft.kind.value, category=draft.category, seq=_seq_label(draft),
                    content=draft.content, leaders=draft.leaders, lead_units=lead, co_units=co,
                    deadline=deadline, cadence=draft.kind.cadence.value,
                    status=TaskStatus.open.value, note=note)
        ledger.tasks.append(task)
        by_content.setdefault(key, task)
        by_id[tid] = task
        result.added_tasks.append(tid)
        values = {}
        for column in TASKS.columns:  # every value of the new row, so it can be rebuilt from the log
            value = getattr(task, column.field)
            text = "、".join(value) if isinstance(value, list) else "" if value is None else str(value)
            if text:
                values[column.header] = text
        ledger.changelog.append(ChangeLogEntry(time=now, action="导入", object=tid, field="任务（新增）",
                                               new=row_text(values), source=source))
    return result


def _deadline_cell(draft: TaskDraft, year: int, findings: list[Finding]) -> tuple[date | str | None, str]:
    """完成时限 and 备注 of a new task (DESIGN §3, rules in :mod:`.deadlines`): the date the
    written deadline gives, in ``year`` unless it names another; words that mean more than the
    date are appended to the clerk's 备注. Text with no date to take stays in 完成时限 (validate
    keeps flagging it) — except 长期坚持 and the like, which are no deadline."""
    if draft.deadline_format is None:
        read = read_deadline(draft.deadline, year)
    else:  # a number or date cell: as it displays (2025年10月 → 10-31; 2025.1 in General: 1月 or 10月?)
        read = read_deadline_cell(draft.deadline, year, draft.deadline_format)
    note = draft.note
    if read.keeps_text and read.text not in note:
        note = f"{note}；完成时限：{read.text}" if note else f"完成时限：{read.text}"
    where = {**draft.where, "column": draft.deadline_column}
    shown = f"{draft.deadline_column}“{read.text}”"
    if read.kind == "words":
        findings.append(info("deadline-words", f"{shown}按{read.day.isoformat()}记为完成时限，原文已记入备注。", **where,
                             hint="核对识别出的日期；如应以其他时间为准，请在【任务台账】中修改。"))
    elif read.kind == "ongoing":
        findings.append(info("deadline-ongoing", f"{shown}不是具体日期，已记入备注，不计超期。", **where))
    elif read.kind == "start":
        findings.append(info("deadline-start", f"{shown}是开始时间，不是完成时限，已记入备注，不计超期。", **where,
                             hint="如有完成时限，请填入【任务台账】的【完成时限】。"))
    elif read.kind == "ambiguous" and read.reason:
        findings.append(warning("deadline-ambiguous", f"{draft.deadline_column}{read.reason}，无法确定完成日期，"
                                f"已按“{read.text}”导入并记入备注。", **where,
                                hint="核对来文后在【任务台账】的【完成时限】中填写日期；来文中可将该列设为文本格式再填写。"))
    elif read.kind == "ambiguous":
        findings.append(warning("deadline-ambiguous", f"{shown}含多个时间，无法确定完成日期，原文已记入备注。", **where,
                                hint="在【任务台账】的【完成时限】中填写督办跟踪的最终完成日期。"))
    elif read.kind in ("unreadable", "invalid", "no-year"):
        findings.append(warning("deadline-unreadable", f"{shown}无法识别为日期，已按原文导入，不计超期。", **where,
                                hint="在【任务台账】中改为日期，如 2024-12-31；确无具体时限的写“长期”“持续推进”。"))
    if read.day is not None and year and not year <= read.day.year <= year + 1:  # as validate's date-out-of-range
        findings.append(warning("date-out-of-range", f"{draft.deadline_column}{read.day.isoformat()}不在{year}年度内，"
                                "已按该日期导入。", **where, hint="核对来文中的年份是否录错；校验时将报错。"))
    if read.day is not None:
        return read.day, note
    return (None if read.kind in ("blank", "ongoing", "start") else read.text), note


def _seq_label(draft: TaskDraft) -> str:
    return str(draft.seq) if draft.sub is None else f"{draft.seq}.{draft.sub}"


def _register_units(ledger: Ledger, names: list[str], where: dict, source: str, now: datetime,
                    result: MergeResult) -> list[str]:
    """Canonical names for ``names``; unknown ones join 单位名录 with a finding to confirm."""
    out = []
    for raw in names:
        directory = UnitDirectory(ledger.units)
        res = directory.resolve(raw)
        if res.match in (Match.exact, Match.alias, Match.collective):
            out.append(res.name)
            group = collective(res.name) if res.match is Match.collective else None
            if group is not None and not group.expandable:  # 相关镇街道: kept as written, never a unit
                result.findings.append(info("collective-unit", f"“{res.name}”是统称，需由督查室明确具体单位；明确前不下发反馈表。",
                                            **where, hint="在【任务台账】中把统称改为具体单位名称，多个用“、”隔开。"))
            continue
        if res.match in (Match.variant, Match.abbreviation):
            unit = directory.unit(res.name)
            unit.aliases = [*unit.aliases, res.query]
            ledger.changelog.append(ChangeLogEntry(time=now, action="导入", object=res.name, field="别名",
                                                   new=res.query, source=source))
            result.findings.append(warning("unit-alias-matched", f"“{res.query}”已按{'简称' if res.match is Match.abbreviation else '不同写法'}匹配为“{res.name}”，并记为其别名。",
                                           **where, hint="如匹配有误，请在【单位名录】中删除该别名并新增单位。"))
            out.append(res.name)
            continue
        short = _earlier_short_form(ledger, res.query, result)
        if short is not None:  # 区市监局 earlier in this import, now 区市场监督管理局: one unit, the full name
            _adopt_full_name(ledger, short, res.query, source, now, result)
            result.findings.append(warning(
                "unit-full-name-adopted", f"“{short.name}”是“{res.query}”的简称，已合并为一个单位，以全称为准，简称记为别名。",
                **where, hint="如两者不是同一单位，请在【单位名录】中删除该别名并另行新增单位。"))
            out.append(res.query)
            continue
        unit = Unit(name=res.query, type=guess_unit_type(res.query))
        ledger.units.append(unit)
        ledger.changelog.append(ChangeLogEntry(time=now, action="导入", object=res.query, field="单位",
                                               new=f"新增单位（{unit.type}）", source=source))
        result.added_units.append(res.query)
        similar = f"是否为“{res.suggestions[0]}”？" if res.suggestions else ""
        result.findings.append(warning("new-unit", f"新单位“{res.query}”已加入单位名录（类型暂定为{unit.type}）。{similar}",
                                       **where, hint="在【单位名录】中确认类型，补填联系人和邮箱；如为已有单位的别称，请改为别名。"))
        out.append(res.query)
    return out


def _current_names(ledger: Ledger, names: list[str]) -> list[str]:
    renamed = {a: u.name for u in ledger.units for a in u.aliases}
    return [renamed.get(n, n) for n in names]


def _earlier_short_form(ledger: Ledger, full: str, result: MergeResult) -> Unit | None:
    """The one unit added earlier in this import under a short form of ``full`` (区市监局 for
    区市场监督管理局, 区城管局 for 区城市管理和综合执法局), if the abbreviation rule says so."""
    if collective(full) is not None:
        return None
    added = set(result.added_units)
    hits = [u for u in ledger.units if u.name in added and not u.aliases
            and (_is_abbreviation(u.name, full) and alias_rule(u.name, full) is not None)]
    return hits[0] if len(hits) == 1 else None


def _adopt_full_name(ledger: Ledger, unit: Unit, full: str, source: str, now: datetime, result: MergeResult) -> None:
    """Rename ``unit`` to ``full``, keep its short name as an alias, and point the tasks at it."""
    short = unit.name
    unit.name, unit.aliases, unit.type = full, [short], guess_unit_type(full)
    for task in ledger.tasks:
        task.lead_units = [full if n == short else n for n in task.lead_units]
        task.co_units = [full if n == short else n for n in task.co_units]
    result.added_units = [full if n == short else n for n in result.added_units]
    ledger.changelog.append(ChangeLogEntry(time=now, action="导入", object=full, field="单位名称", old=short, new=full,
                                           source=source))
    ledger.changelog.append(ChangeLogEntry(time=now, action="导入", object=full, field="别名", new=short, source=source))


def merge_units(ledger: Ledger, units: list[Unit], source: str, now: datetime) -> MergeResult:
    """Add directory entries not yet present (by canonical name or alias); fill blank contacts."""
    result = MergeResult()
    for unit in units:
        if collective(unit.name) is not None:  # 各镇街 / 相关单位 stand for units, they are not one
            result.findings.append(warning("collective-in-directory", f"“{unit.name}”是统称，不是单位，未加入单位名录。",
                                           hint="统称在任务中使用：“各镇街”等自动展开为该类型的全部单位，“相关单位”等须写明具体单位。"))
            continue
        existing = UnitDirectory(ledger.units).resolve(unit.name)
        if existing.match in (Match.exact, Match.alias):
            current = UnitDirectory(ledger.units).unit(existing.name)
            changed = False
            for fld in ("contact", "phone", "email"):
                if not getattr(current, fld) and getattr(unit, fld):
                    setattr(current, fld, getattr(unit, fld))
                    ledger.changelog.append(ChangeLogEntry(time=now, action="导入", object=current.name,
                                                           field=fld, new=getattr(unit, fld), source=source))
                    changed = True
            new_aliases = [a for a in unit.aliases if a not in current.aliases and a != current.name]
            if new_aliases:
                current.aliases = [*current.aliases, *new_aliases]
                changed = True
            result.unchanged += not changed
            continue
        ledger.units.append(unit)
        ledger.changelog.append(ChangeLogEntry(time=now, action="导入", object=unit.name, field="单位",
                                               new=f"新增单位（{unit.type}）", source=source))
        result.added_units.append(unit.name)
    return result
