"""Use cases: the same code behind the ``duban`` command line and the Excel ribbon.

Each service opens a store, runs domain code, writes the ledger at most once (atomically),
and returns an :class:`Outcome` — a JSON-able summary plus findings. Services never print
and never read the clock: the caller passes ``now``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable, Iterable, Protocol

from .domain.findings import Finding, count_by_level, error, has_errors, info, warning
from .domain.cells import parse_cell_date
from .domain.collecting import (Checked, CollectContext, ReturnedFile, SubmissionIndex, confirm, merge_returns,
                                missing_returns)
from .domain.importing import RawTable, map_prose, map_task_table, map_unit_table, merge_tasks, merge_units, detect_year
from .domain.lights import LightRules, light_tasks
from .domain.issuing import (Form, IssueIndex, build_issue, build_targets_issue, file_name as issue_file_name, file_safe, recipients,
                             sign, targets_label)
from .domain.mail import issue_mail, reminder_mail
from .domain.models import (TASK_ID, ChangeLogEntry, Ledger, LightColor, Submission, SubmissionState, TargetStatus, TaskKind, ValidationRow,
                            parse_period_or_none)
from .domain.periods import Period, due_date
from .domain.rules import Context, choice_setting, int_setting, validate
from .domain.schema import DATA_SHEETS
from .domain.units import UnitDirectory
from .io import lock
from .io.calendar_source import work_calendar
from .io.guard import ReadPool
from .io.ledger_store import LedgerError, LedgerStore, create_ledger
from .io.keys import signing_key
from .io.mailer import MailError, SmtpSettings, build_message, send_smtp, smtp_password, write_eml
from .io.unit_workbook import write_unit_workbook
from .io.views import write_collection_report, write_overview
from .io.returns import NO_ATTACHMENT, Incoming, gather, read_and_examine
from .io.mailbox import ImapSettings, MailboxError, fetch_unseen, imap_password
from .io.readers import UnreadableFile, read_source
from .excel.template import TEMPLATE  # the macro-enabled ledger skeleton (`duban template build`)

Progress = Callable[[str, int, int], None]  # (label, done, total)


@dataclass
class Outcome:
    """What a use case did: a summary for people and machines, and its findings."""

    summary: dict = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    unreadable: bool = False  # some input could not be read at all → exit code 2

    @property
    def exit_code(self) -> int:
        """DESIGN §9: 2 unreadable input, 1 findings at error level, else 0."""
        if self.unreadable:
            return 2
        return 1 if has_errors(self.findings) else 0

    def as_dict(self) -> dict:
        return {"ok": self.exit_code == 0, "exit_code": self.exit_code, **self.summary,
                "findings": [f.as_dict() for f in self.findings]}


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes: the identity of a source in 变更日志 and archives."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _findings_to_rows(findings: list[Finding]) -> list[ValidationRow]:
    return [ValidationRow(sheet=f.sheet if f.sheet in LEDGER_SHEETS else " › ".join(p for p in (f.file, f.sheet) if p),
                          at_row=f.row, column=f.column, level=f.level.value, code=f.code, message=f.text())
            for f in findings]


LEDGER_SHEETS = {spec.name for spec in DATA_SHEETS}


class BadInput(Exception):
    """An argument the user typed cannot be used; carries the Outcome to report (exit 2)."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.outcome = Outcome(findings=[finding], unreadable=True)


def _period_argument(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise BadInput(error("bad-period", str(exc), hint="季度写作 2024Q1，月份写作 2024-03。")) from exc


def reports_bad_input(service: Callable[..., Outcome]) -> Callable[..., Outcome]:
    """Turn a :class:`BadInput` raised inside a service into its Outcome."""

    @functools.wraps(service)
    def wrapper(*args, **kwargs) -> Outcome:
        try:
            return service(*args, **kwargs)
        except BadInput as exc:
            return exc.outcome

    return wrapper


def locks_ledger(command: str) -> Callable[[Callable[..., Outcome]], Callable[..., Outcome]]:
    """Hold the ledger's lock (:mod:`xl_duban.io.lock`) for a whole command — read, change,
    write — so a second command started meanwhile waits instead of overwriting this one's work."""

    def decorate(service: Callable[..., Outcome]) -> Callable[..., Outcome]:
        @functools.wraps(service)
        def wrapper(ledger_path, *args, **kwargs) -> Outcome:
            if not is_ledger_path(ledger_path):  # a live book: Excel itself owns it
                return service(ledger_path, *args, **kwargs)
            lock.acquire(Path(ledger_path), command=f"duban {command}")
            try:
                return service(ledger_path, *args, **kwargs)
            finally:
                lock.release(Path(ledger_path))

        return wrapper

    return decorate


class Store(Protocol):
    """What a service needs of a ledger: the openpyxl file store (:class:`LedgerStore`, the
    command line) and the live-book store (:class:`~xl_duban.io.xlwings_store.XlwingsStore`,
    the ribbon) both provide it, so both run the very same service code."""

    path: Path

    @property
    def file(self) -> str: ...

    def load(self) -> tuple[Ledger, list[Finding]]: ...

    def renumber(self, ledger: Ledger) -> None: ...

    def save(self, ledger: Ledger, *, highlights: list[Finding] | None = None, now: datetime,
             views: Iterable[Callable] = (), skip_incomplete: bool = False) -> None: ...


def is_ledger_path(target: object) -> bool:
    """A service's first argument names a ledger file (else it is a store already open)."""
    return isinstance(target, (str, Path))


def open_store(target: Path | str | Store) -> Store:
    """The store for a service's first argument: a ledger file path, or a store already open
    (the ribbon passes the store over the calling workbook)."""
    return LedgerStore(target) if is_ledger_path(target) else target


def init_ledger(path: Path, year: int, *, now: datetime) -> Outcome:
    """``duban init``: a new ledger with every sheet of DESIGN §3 (.xlsm: from the template,
    with the 督办 ribbon)."""
    if not 2000 <= year <= 2100:
        return Outcome(findings=[error("bad-year", f"年度“{year}”无效，请填写四位年份。")], unreadable=True)
    create_ledger(path, year, now=now, template=TEMPLATE)
    return Outcome(summary={"ledger": str(path), "year": year})


def build_template(out: Path, *, standalone: bool = False) -> Outcome:
    """``duban template build``: the macro-enabled ledger skeleton with the 督办 ribbon, from
    the VBA sources and ribbon XML under ``workbooks/`` (byte-identical on every build)."""
    from .excel.template import build_template as build

    build(out, standalone=standalone)
    return Outcome(summary={"template": str(out), "standalone": standalone, "bytes": out.stat().st_size})


def _check_ledger(ledger: Ledger, store: Store, now: datetime, load_findings: list[Finding] = ()) -> list[Finding]:
    """Validation findings; blank cells of a column that is missing altogether are not repeated
    row by row (the one missing-column finding says it all)."""
    missing = {(f.sheet, f.column) for f in load_findings if f.code == "missing-column"}
    return [f for f in validate(ledger, Context(file=store.file, today=now.date()))
            if not (f.code == "required-field" and (f.sheet, f.column) in missing)]


@locks_ledger("import")
def import_files(ledger_path: Path, files: list[Path], *, now: datetime, progress: Progress | None = None) -> Outcome:
    """``duban import``: task lists (.docx/.xlsx/.csv), prose 分工清单 and unit lists.

    All files are mapped first and the ledger is written once at the end, so a failure
    halfway leaves the ledger as it was. Import findings and the validation of the result
    go to 校验结果.
    """
    store = open_store(ledger_path)
    ledger_path = store.path
    ledger, load_findings = store.load()
    year = ledger.year
    findings: list[Finding] = list(load_findings)
    if year is None:
        return Outcome(findings=[*findings, error("bad-setting", "台账【设置】中缺少年度，无法生成任务编号。", sheet="设置")])
    summary = {"ledger": str(ledger_path), "files": [], "added_tasks": 0, "unchanged_tasks": 0, "added_units": 0}
    unreadable = False
    for n, path in enumerate(files, 1):
        if progress:
            progress(f"导入 {path.name}", n - 1, len(files))
        entry = {"file": str(path), "added_tasks": [], "unchanged": 0, "added_units": []}
        summary["files"].append(entry)
        try:
            tables, prose = read_source(path)
            source = f"duban import {path.name}#{file_hash(path)}"
        except (UnreadableFile, OSError) as exc:
            unreadable = True
            reason = str(exc) if isinstance(exc, UnreadableFile) else f"文件无法读取（{exc.strerror or type(exc).__name__}）"
            findings.append(error("unreadable-file", reason, file=path.name,
                                  hint="确认文件未损坏、未加密，并另存为 .docx / .xlsx 后重试。"))
            continue
        file_findings, results = _import_one(ledger, tables, prose, year, source, now)
        findings.extend(file_findings)
        for result in results:
            entry["added_tasks"] += result.added_tasks
            entry["unchanged"] += result.unchanged
            entry["added_units"] += result.added_units
        if not any(r.added_tasks or r.unchanged or r.added_units for r in results) and not file_findings:
            findings.append(error("nothing-imported", "文件中没有找到任务清单、单位名录或带责任单位的段落。", file=path.name,
                                  hint="任务清单需有“序号”“工作任务”“牵头单位”等表头。"))
        summary["added_tasks"] += len(entry["added_tasks"])
        summary["unchanged_tasks"] += entry["unchanged"]
        summary["added_units"] += len(entry["added_units"])
    if progress:
        progress("保存台账", len(files), len(files))
    store.renumber(ledger)  # new tasks get the rows they will have, so findings point at them
    validation = _check_ledger(ledger, store, now)
    ledger.validation = _findings_to_rows(findings + validation)
    store.save(ledger, highlights=validation, now=now)
    summary["validation"] = {"errors": sum(f.level.value == "错误" for f in validation), "total": len(validation)}
    return Outcome(summary=summary, findings=findings, unreadable=unreadable)


def _import_one(ledger: Ledger, tables: list[RawTable], prose, year: int, source: str, now: datetime):
    findings: list[Finding] = []
    results = []
    task_tables = 0
    for table in tables:
        units = map_unit_table(table)
        if units is not None:
            unit_list, unit_findings = units
            findings.extend(unit_findings)
            results.append(merge_units(ledger, unit_list, source, now))
            continue
        drafts, table_findings = map_task_table(table, UnitDirectory(ledger.units))
        findings.extend(table_findings)
        if drafts or any(f.code in ("missing-content", "missing-seq", "bad-seq") for f in table_findings):
            task_tables += 1
            findings.extend(_year_check(table.context, year, table.file))
            result = merge_tasks(ledger, drafts, year, source, now)
            findings.extend(result.findings)
            results.append(result)
    if not task_tables and prose is not None and prose.paragraphs:
        drafts, prose_findings = map_prose(prose, UnitDirectory(ledger.units))
        if drafts:
            findings.extend(prose_findings)
            findings.extend(_year_check(" ".join(t for _, t in prose.paragraphs[:5]), year, prose.file))
            result = merge_tasks(ledger, drafts, year, source, now)
            findings.extend(result.findings)
            results.append(result)
    return findings, results


def _year_check(context: str, year: int, file: str) -> list[Finding]:
    found = detect_year(context)
    if found and found != year:
        return [info("year-mismatch", f"文件标题为{found}年，台账年度为{year}年，任务编号按台账年度生成。", file=file,
                     hint="如导入错了年度，请从“台账备份”恢复。")]
    return []


@locks_ledger("validate")
def validate_ledger(ledger_path: Path, *, now: datetime) -> Outcome:
    """``duban validate``: run every rule, write 校验结果, highlight cells (and clear fixed ones)."""
    store = open_store(ledger_path)
    ledger_path = store.path
    ledger, load_findings = store.load()
    findings = load_findings + _check_ledger(ledger, store, now, load_findings)
    ledger.validation = _findings_to_rows(findings)
    store.save(ledger, highlights=findings, now=now, skip_incomplete=True)
    counts = count_by_level(findings)
    return Outcome(summary={"ledger": str(ledger_path), "counts": counts, "tasks": len(ledger.tasks),
                            "units": len(ledger.units)}, findings=findings)


def light_rules(ledger: Ledger) -> tuple[LightRules, list[Finding]]:
    """The light rules from 设置 (红灯阈值, 缺报视为, 逾期报送视为); bad values fall back with a finding."""
    threshold, f1 = int_setting(ledger, "红灯阈值", 2)
    missing, f2 = choice_setting(ledger, "缺报视为", "黄灯")
    late, f3 = choice_setting(ledger, "逾期报送视为", "按内容")
    rules = LightRules(red_threshold=threshold, missing_as=LightColor(missing), late_yellow=late == "黄灯")
    return rules, [*f1, *f2, *f3]


class DueDates:
    """Due dates of periods on a ledger's calendar and 设置, remembering calendar warnings.

    Bad 季度截止日 / 月报截止工作日 values fall back to the defaults with a finding, so a typo in
    设置 can never crash a run.
    """

    def __init__(self, ledger: Ledger) -> None:
        self._calendar = work_calendar(ledger)
        self._quarter_day, f1 = int_setting(ledger, "季度截止日", 10)
        self._monthly_workday, f2 = int_setting(ledger, "月报截止工作日", 3)
        self._warnings: dict[str, Finding] = {f.message: f for f in (*f1, *f2)}

    def workday_on_or_after(self, day: date) -> date:
        """The first working day from ``day`` on (a deadline never falls on a day off)."""
        while not self._calendar.is_workday(day):
            day += timedelta(days=1)
        return day

    def add_workdays(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (a rectification period counts working days)."""
        while n > 0:
            day += timedelta(days=1)
            n -= self._calendar.is_workday(day)
        return day

    def __call__(self, period: Period) -> date:
        day, found = due_date(period, self._calendar, self._quarter_day, self._monthly_workday)
        for f in found:
            self._warnings.setdefault(f.message, f)
        return day

    @property
    def findings(self) -> list[Finding]:
        return list(self._warnings.values())


@reports_bad_input
@locks_ledger("light")
def light_up(ledger_path: Path, period_text: str, *, now: datetime) -> Outcome:
    """``duban light``: lights of every task of P's cadence over the whole history (DESIGN §5).

    Recomputes all streaks, keeps the office's overrides, logs every changed light in
    变更日志, regenerates 亮灯总览, and writes the ledger once.
    """
    period = _period_argument(period_text)
    store = open_store(ledger_path)
    ledger_path = store.path
    ledger, findings = store.load()
    rules, rule_findings = light_rules(ledger)
    due = DueDates(ledger)
    where = {"file": store.file, "sheet": "亮灯记录"}
    run = relight(ledger, period, due, rules, now, lambda task_id, p: where)
    row_of = {f"{r.task_id} {r.period}": n for n, r in enumerate(ledger.lights, 2)}
    run.findings = [f.model_copy(update={"row": row_of.get(f.subject)}) for f in run.findings]
    if now.date() <= due(period) and any(v.missing for v in run.verdicts if v.period == period):
        findings.append(warning("before-deadline", f"{period}的报送截止日为{due(period).isoformat()}，尚未到期；"
                                                   "未报送的任务已按“未报送”亮灯。", sheet="亮灯记录",
                                hint="截止日过后再次运行亮灯，结果会自动更新。"))
    year = ledger.year or period.year
    overview = lambda wb: write_overview(wb, year, ledger.tasks, ledger.lights, str(period))  # noqa: E731
    all_findings = [*findings, *rule_findings, *due.findings, *run.findings]
    ledger.validation = _findings_to_rows(all_findings)
    store.save(ledger, highlights=all_findings, now=now, views=[overview])
    lit = [v for v in run.verdicts if v.period == period]
    counts = {c.value: sum(v.light is c for v in lit) for c in LightColor}
    return Outcome(summary={"ledger": str(ledger_path), "period": str(period), "counts": counts,
                            "lit_tasks": len(lit), "recomputed": len(run.verdicts)}, findings=all_findings)


LIGHT_FIELDS = (("light", "灯色"), ("streak", "连续黄灯"), ("basis", "依据"), ("self_light", "自评灯色"))


def relight(ledger: Ledger, period: Period, due: DueDates, rules: LightRules, now: datetime,
            where: Callable[[str, Period], dict] = lambda task_id, p: {}):
    """The ledger's lights of P's cadence recomputed over the whole history (no file work):
    every changed field of a 亮灯记录 row logged in 变更日志, the office's own columns kept,
    亮灯记录 sorted. Returns the domain's run (verdicts and findings)."""
    existing = {(r.task_id, r.period): r for r in ledger.lights}
    run = light_tasks(ledger.tasks, ledger.targets, ledger.feedback, ledger.lights, period, due, rules, where)
    source = f"duban light --period {period}"
    fresh = {}
    for verdict in run.verdicts:
        record = verdict.record()
        old = existing.get((record.task_id, record.period))
        if old is not None:
            record.extras = old.extras
        for name, label in LIGHT_FIELDS:
            before, after = getattr(old, name, None) if old else None, getattr(record, name)
            if (old is None and name == "light") or (old is not None and before != after):
                ledger.changelog.append(ChangeLogEntry(time=now, action="亮灯", object=record.task_id,
                                                       field=f"{record.period}{label}", old="" if before is None else str(before),
                                                       new="" if after is None else str(after), source=source))
        fresh[(record.task_id, record.period)] = record
    # lights that were not recomputed stay as they are: the history of a task that was closed or
    # cancelled later (a red light led to an 约谈) must never be rewritten
    kept = [r for r in ledger.lights if (r.task_id, r.period) not in fresh]
    ledger.lights = sorted([*kept, *fresh.values()], key=_light_order)
    return run


def confirm_targets(ledger: Ledger, now: datetime, source: str) -> int:
    """The office confirms every returned node target still pending (in Excel: the 确认状态
    drop-down), each logged in 变更日志. Returns how many were confirmed."""
    pending = [t for t in ledger.targets if t.status == TargetStatus.pending.value]
    for target in pending:
        ledger.changelog.append(ChangeLogEntry(time=now, action="确认目标", object=target.task_id,
                                               field=f"{target.period} 确认状态", old=target.status,
                                               new=TargetStatus.confirmed.value, source=source))
        target.status, target.confirmed_on = TargetStatus.confirmed.value, now.date()
    return len(pending)


KIND_ARGUMENTS = {"key": TaskKind.key, "livelihood": TaskKind.livelihood}


def _kind_argument(text: str | None) -> TaskKind | None:
    if not text:
        return None
    kind = KIND_ARGUMENTS.get(text.strip().lower())
    if kind is None:
        raise BadInput(error("usage-error", f"类别“{text}”无效，应为 key（重点任务）或 livelihood（民生实事）。"))
    return kind


def _issue_target(period_text: str, kind_text: str | None, targets: bool) -> tuple[str, TaskKind, Period | None, int]:
    """What to issue: (报送情况 周期, kind, period or None for a 目标安排表, year).

    A feedback form's kind follows its period (quarter → key tasks, month → 民生实事). A
    目标安排表 covers a year: ``--period 2024`` (key tasks unless ``--kind``) or any period of it.
    """
    kind = _kind_argument(kind_text)
    if targets:
        text = str(period_text).strip()
        if re.fullmatch(r"\d{4}(年|年度)?", text):
            year, kind = int(text[:4]), kind or TaskKind.key
        else:
            period = _period_argument(text)
            year, kind = period.year, kind or TaskKind.reporting_in(period)
        return targets_label(year, kind), kind, None, year
    period = _period_argument(period_text)
    natural = TaskKind.reporting_in(period)
    if kind is not None and kind is not natural:
        raise BadInput(error("cadence-mismatch", f"{period}是{'季度' if period.quarter else '月份'}，只能下发{natural.value}反馈表。",
                             hint="重点任务用季度（2024Q1），民生实事用月份（2024-03）。"))
    return str(period), natural, period, period.year


TARGETS_DAYS = 10  # a 目标安排表 is due ten days after it is issued (next working day if that is a day off)


@reports_bad_input
@locks_ledger("issue")
def issue_workbooks(ledger_path: Path, period_text: str, out_dir: Path, *, now: datetime,
                    kind_text: str | None = None, targets: bool = False, progress: Progress | None = None) -> Outcome:
    """``duban issue``: one signed workbook per lead unit with only its tasks (DESIGN §6).

    Files are written first, then every issue is recorded in 报送情况 in one ledger write;
    re-issuing for the same unit and period supersedes the earlier file (its 下发时间 changes,
    so collect can refuse a return of the old one). With ``targets`` the start-of-year
    目标安排表 is issued instead: one column per quarter (key tasks) or month (民生实事).
    """
    label, kind, period, year = _issue_target(period_text, kind_text, targets)
    store = open_store(ledger_path)
    ledger_path = store.path
    ledger, findings = store.load()
    due = DueDates(ledger)
    due_day = due(period) if period is not None else due.workday_on_or_after(now.date() + timedelta(days=TARGETS_DAYS))
    key = signing_key()
    by_unit = recipients(ledger, kind)
    directory = UnitDirectory(ledger.units)
    written: list[dict] = []
    index = IssueIndex.of(ledger) if period is not None else None  # feedback forms only
    submissions = SubmissionIndex(ledger.submissions)
    for n, (unit, tasks) in enumerate(by_unit.items(), 1):
        if progress:
            progress(f"生成 {unit}", n - 1, len(by_unit))
        if directory.unit(unit) is None:
            findings.append(warning("unknown-unit", f"“{unit}”不在单位名录中，仍为其生成了反馈表，但无法发送邮件。",
                                    sheet="单位名录", hint="在【单位名录】中登记该单位及邮箱。"))
        if period is not None:
            issue = build_issue(ledger, unit, tasks, period, now, due_day.isoformat(), index)
        else:
            issue = build_targets_issue(ledger, unit, tasks, year, now, due_day.isoformat())
        path = write_unit_workbook(out_dir / issue_file_name(issue), issue, sign(issue.payload(), key))
        archived = archive_dir(ledger_path, label, unit) / path.name
        archived.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, archived)  # send attaches the archived copy, wherever --out was
        written.append({"unit": unit, "file": str(path), "tasks": len(tasks), "issue_id": issue.issue_id})
        _record_issue(ledger, submissions, label, unit, now, due_day)
    if progress:
        progress("保存台账", len(by_unit), len(by_unit))
    if not by_unit:
        findings.append(warning("nothing-to-issue", f"台账中没有需要报送的{kind.value}。", sheet="任务台账"))
    store.save(ledger, now=now)
    form = Form.feedback if period is not None else Form.targets
    return Outcome(summary={"ledger": str(ledger_path), "period": label, "kind": kind.value, "form": form.value,
                            "due": due_day.isoformat(), "out_dir": str(out_dir), "workbooks": written},
                   findings=[*findings, *due.findings])


def archive_dir(ledger_path: Path, period: str, unit: str) -> Path:
    """``archive/{period}/{unit}/`` beside the ledger (DESIGN §6): issued and collected files."""
    return ledger_path.parent / "archive" / period / file_safe(unit)


class _Courier:
    """What send and remind share: the transport (SMTP settings from 设置, or .eml files)."""

    def __init__(self, ledger: Ledger, *, smtp: bool, eml_dir: Path | None, sleep: Callable[[float], None]) -> None:
        self.eml_dir, self.sleep = eml_dir, sleep
        self.sender = str(ledger.setting("发件人", "") or "")
        self.office = str(ledger.setting("机关名称", "") or "")
        self.sender_office = str(ledger.setting("督查室", "") or "")
        self.findings: list[Finding] = []
        self.settings: SmtpSettings | None = None
        if smtp == (eml_dir is not None):
            self.findings.append(error("usage-error", "请指定 --smtp（直接发送）或 --eml 目录（生成邮件文件）二者之一。"))
        elif smtp:
            host = str(ledger.setting("SMTP服务器", "") or "")
            port, self.findings = int_setting(ledger, "SMTP端口", 465)
            if not host or not self.sender:
                self.findings.append(error("smtp-not-configured", "【设置】中未填写“SMTP服务器”或“发件人”，无法发送。",
                                           sheet="设置", hint="填写后重试，或改用 --eml 生成邮件文件。"))
            self.settings = SmtpSettings(host, port, str(ledger.setting("SMTP加密", "SSL")), self.sender, smtp_password())

    @property
    def ready(self) -> bool:
        return not has_errors(self.findings)

    def deliver(self, draft, attachment: Path) -> str:
        """Send or write one message; returns the 发送状态 to record, raises MailError."""
        msg = build_message(draft, self.sender or "duban@localhost", attachment.read_bytes())
        if self.eml_dir is not None:
            write_eml(msg, self.eml_dir / f"{attachment.stem}.eml")
            return "已生成邮件"
        send_smtp(msg, self.settings, sleep=self.sleep)
        return "已发送"


def _issued_file(ledger_path: Path, row: Submission) -> Path | None:
    """The newest archived workbook issued to this unit for this period."""
    files = sorted(archive_dir(ledger_path, row.period, row.unit).glob("*.xlsx"), key=lambda p: p.stat().st_mtime)
    return files[-1] if files else None


def _where(store: Store, row: Submission) -> dict:
    return {"file": store.file, "sheet": "报送情况", "row": row.row, "subject": f"{row.period} {row.unit}"}


@reports_bad_input
@locks_ledger("send")
def send_workbooks(ledger_path: Path, period_text: str, *, now: datetime, eml_dir: Path | None = None,
                   smtp: bool = False, resend: bool = False, progress: Progress | None = None,
                   sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """``duban send``: one email per unit with its issued workbook, by SMTP or as .eml files.

    Idempotent: a unit already sent for P is skipped unless ``resend``. Each unit's result
    goes to 报送情况 (发送状态, 问题); the ledger is written once, even when sending fails
    halfway, so what was sent is never forgotten.
    """
    period = _period_argument(period_text)
    store = open_store(ledger_path)
    ledger_path = store.path
    ledger, findings = store.load()
    courier = _Courier(ledger, smtp=smtp, eml_dir=eml_dir, sleep=sleep)
    if not courier.ready:
        return Outcome(findings=[*findings, *courier.findings], unreadable=True)
    kind = TaskKind.reporting_in(period)
    directory = UnitDirectory(ledger.units)
    due = DueDates(ledger)
    rows = [r for r in ledger.submissions if r.period == str(period) and r.issued_at]
    counts = {"sent": 0, "eml": 0, "skipped": 0, "failed": 0}
    try:
        for n, row in enumerate(rows, 1):
            if progress:
                progress(f"发送 {row.unit}", n - 1, len(rows))
            where = _where(store, row)
            if smtp and row.send_status == "已发送" and not resend:
                counts["skipped"] += 1
                continue
            attachment = _issued_file(ledger_path, row)
            if attachment is None:
                findings.append(error("issued-file-missing", f"找不到{row.unit}的{row.period}反馈表。", column="单位", **where,
                                      hint="先运行“下发反馈表”（duban issue）。"))
                continue
            unit = directory.unit(row.unit)
            draft = issue_mail(row.unit, unit.email if unit else "", period, kind.value,
                               parse_cell_date(row.due_at) or due(period), attachment.name, courier.office,
                               courier.sender_office)
            if not draft.to:
                row.send_status, row.problem = "无邮箱", "单位名录中没有有效邮箱"
                findings.append(warning("no-email", f"{row.unit}在单位名录中没有有效邮箱，未发送。", column="单位", **where,
                                        hint="在【单位名录】中填写邮箱后重新发送。"))
                continue
            try:
                row.send_status, row.problem = courier.deliver(draft, attachment), ""
            except MailError as exc:
                row.send_status, row.problem = "发送失败", str(exc)
                findings.append(error("send-failed", f"{row.unit}：{exc}", column="发送状态", **where))
                counts["failed"] += 1
                continue
            counts["sent" if smtp else "eml"] += 1
    finally:
        store.save(ledger, now=now)
    if not rows:
        findings.append(warning("nothing-to-send", f"{period}尚未下发反馈表。", sheet="报送情况",
                                hint="先运行“下发反馈表”（duban issue）。"))
    return Outcome(summary={"ledger": str(ledger_path), "period": str(period), **counts,
                            "eml_dir": str(eml_dir) if eml_dir else ""}, findings=findings)


@reports_bad_input
@locks_ledger("remind")
def remind_units(ledger_path: Path, period_text: str, *, now: datetime, days_before: int = 0,
                 eml_dir: Path | None = None, smtp: bool = False, sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """``duban remind``: 催办 the units without an accepted return for P.

    Reminders start ``days_before`` days before the due date (0: on the due date). Without
    --smtp or --eml the list is only printed. Every reminder sent is recorded in 报送情况
    (问题) and 变更日志, so the bulletin can say who was chased and when.
    """
    period = _period_argument(period_text)
    store = open_store(ledger_path)
    ledger_path = store.path
    ledger, findings = store.load()
    deliver = smtp or eml_dir is not None
    courier = _Courier(ledger, smtp=smtp, eml_dir=eml_dir, sleep=sleep) if deliver else None
    if courier is not None and not courier.ready:
        return Outcome(findings=[*findings, *courier.findings], unreadable=True)
    kind = TaskKind.reporting_in(period)
    due = DueDates(ledger)
    due_day = due(period)
    findings += due.findings  # e.g. the calendar fell back to Monday-Friday for this year
    accepted = {SubmissionState.on_time.value, SubmissionState.late.value}
    pending = [r for r in ledger.submissions if r.period == str(period) and r.issued_at and r.status not in accepted]
    summary = {"ledger": str(ledger_path), "period": str(period), "due": due_day.isoformat(),
               "pending": [r.unit for r in pending], "reminded": 0}
    if now.date() < due_day - timedelta(days=max(days_before, 0)):
        findings.append(info("too-early", f"{period}截止日为{due_day.isoformat()}，尚未到催办时间。",
                             hint="可用 --days-before N 在截止前 N 天催办。"))
        return Outcome(summary=summary, findings=findings)
    if courier is None:
        return Outcome(summary=summary, findings=findings)
    directory = UnitDirectory(ledger.units)
    overdue = now.date() > due_day
    try:
        for row in pending:
            where = _where(store, row)
            attachment = _issued_file(ledger_path, row)
            unit = directory.unit(row.unit)
            draft = reminder_mail(row.unit, unit.email if unit else "", period, kind.value, due_day,
                                  attachment.name if attachment else "", courier.office, courier.sender_office, overdue)
            if attachment is None or not draft.to:
                findings.append(warning("reminder-not-sent", f"{row.unit}：{'没有有效邮箱' if attachment else '找不到已下发的反馈表'}，未催办。",
                                        column="单位", **where, hint="补全单位邮箱或重新下发后再催办。"))
                continue
            try:
                courier.deliver(draft, attachment)
            except MailError as exc:
                findings.append(error("send-failed", f"{row.unit}催办邮件：{exc}", column="问题", **where))
                continue
            note = f"{now:%Y-%m-%d}已催办"
            ledger.changelog.append(ChangeLogEntry(time=now, action="催办", object=row.unit, field=f"{row.period}报送",
                                                   old=row.problem, new=note, source="duban remind"))
            row.problem = note
            summary["reminded"] += 1
    finally:
        store.save(ledger, now=now)
    return Outcome(summary=summary, findings=findings)


COLLECT_SHEETS = ("反馈表", "目标安排表")
COLLECTED = "收集文件"  # 变更日志 操作 of one accepted file; its 来源 ends with the file's SHA-256
QUARANTINE = "quarantine"


def quarantine_dir(ledger_path: Path) -> Path:
    """``quarantine/`` beside the ledger: rejected returns, each with a 退回原因 note."""
    return ledger_path.parent / QUARANTINE


def accepted_hashes(ledger: Ledger) -> set[str]:
    """Full SHA-256 of the files accepted before, from the ledger (反馈记录 and 变更日志). The
    same bytes are never handled twice, so collecting one inbox again changes nothing."""
    accepted = {f.file_hash for f in ledger.feedback if f.file_hash}
    accepted |= {e.source.rsplit("#", 1)[-1] for e in ledger.changelog if e.action == COLLECTED and "#" in e.source}
    return accepted


def quarantined_hashes(ledger_path: Path) -> set[str]:
    """The 12-character hash prefixes of the files refused before and waiting in quarantine/
    (known without the ledger); deleting a file from quarantine/ lets it be checked again."""
    folder = quarantine_dir(ledger_path)
    return {p.name[:12] for p in folder.iterdir() if p.name[12:13] == "_"} if folder.is_dir() else set()


@reports_bad_input
@locks_ledger("collect")
def collect_returns(ledger_path: Path, inboxes: list[Path], *, now: datetime, period_text: str | None = None,
                    imap: bool = False, progress: Progress | None = None) -> Outcome:
    """``duban collect``: check every returned workbook under the inbox folders (and attached
    to .eml files) and merge the accepted ones into 反馈记录 / 节点目标 (DESIGN §6).

    Every file is archived by hash under archive/{period}/{unit}/收回/. A rejected file
    changes nothing in the ledger: it is copied to quarantine/ with a note of why and what
    the unit should do. Accepted files update 反馈记录, 报送情况, 变更日志, 校验结果 and
    收集报告 in one atomic ledger write after every file was read and checked — an exception
    anywhere leaves the ledger untouched. Files already handled are skipped, so a second run
    on the same inbox changes nothing.
    """
    only = str(_period_argument(period_text)) if period_text else None
    if not inboxes and not imap:
        raise BadInput(error("usage-error", "请指定收件文件夹（或 .eml / .xlsx 文件），或使用 --imap 从邮箱收取。"))
    with ReadPool() as pool:
        pool.start()  # the readers start up while the ledger loads
        return _collect(open_store(ledger_path), inboxes, now, only, imap, progress, pool)


def _collect(store: Store, inboxes: list[Path], now: datetime, only: str | None, imap: bool,
             progress: Progress | None, pool: ReadPool) -> Outcome:
    ledger_path = store.path
    # the files are found and handed to the readers before the ledger loads (with --imap the
    # mailbox settings are in the ledger, so after): they read while this process loads it
    early = None if imap else _start_reading(inboxes, ledger_path, pool)
    ledger, findings = store.load()
    fetched = None
    if imap:
        inbox = ledger_path.parent / str(ledger.setting("收件箱文件夹", "inbox"))
        fetched, mailbox_findings = _fetch_mail(ledger, inbox)
        if has_errors(mailbox_findings):
            return Outcome(findings=[*findings, *mailbox_findings], unreadable=True)
        early = _start_reading([*inboxes, inbox], ledger_path, pool)
    candidates, problems, skipped, verdicts = _finish_reading(early, ledger, progress)
    for name, reason in problems:
        level = info if reason == NO_ATTACHMENT else error
        findings.append(level("unreadable-file" if level is error else "no-attachment", reason, file=name))
    checked: list[tuple[Incoming, Checked]] = []
    for (item, _digest), result in zip(candidates, verdicts):
        if result is None:
            continue  # collected in an earlier run
        if only and result.issue is not None and result.issue.period != only:
            skipped += 1  # left for the collect of its own period
            continue
        checked.append((item, result))
    if progress:
        progress("保存台账", len(candidates), len(candidates))
    summary = {"ledger": str(ledger_path), "files": [], "accepted": 0, "late": 0, "rejected": 0, "skipped": skipped,
               "fetched": fetched, "added": 0, "replaced": 0, "targets_filled": 0, "targets_proposed": 0}
    report = []
    for item, result in checked:
        findings.extend(result.findings)
        entry = _file_away(ledger_path, item, result)
        summary["files"].append(entry)
        summary["accepted" if result.accepted else "rejected"] += 1
        summary["late"] += int(result.accepted and result.late)
        report.append(entry.pop("report"))
    accepted = [c for _i, c in checked if c.accepted]
    merged = merge_returns(ledger, accepted, now)
    summary.update(added=merged.added, replaced=merged.replaced, targets_filled=merged.targets_filled,
                   targets_proposed=merged.targets_proposed)
    periods = {only} if only else {c.issue.period for _i, c in checked if c.issue is not None}
    missing = missing_returns(ledger, periods, now.date(), lambda row: parse_cell_date(row.due_at))
    findings.extend(missing)
    summary["missing"] = [f.subject for f in missing]
    if not accepted:  # nothing to merge: the ledger stays byte-identical
        return Outcome(summary=summary, findings=findings, unreadable=bool(problems) and not checked)
    for item, result in checked:
        if result.accepted:
            ledger.changelog.append(ChangeLogEntry(
                time=now, action=COLLECTED, object=item.file_name, field=f"{result.issue.period} {result.issue.unit}",
                new=result.outcome, source=f"duban collect {result.file.name}#{result.file.file_hash}"))
    for f in missing:
        period, unit = f.subject.split(" ", 1)
        report.append({"单位": unit, "周期": period, "结果": "未报送", "说明": f.message, "处理建议": f.hint})
    title = (f"收集报告（{now:%Y-%m-%d %H:%M}）：接收{summary['accepted']}份（其中逾期{summary['late']}份），"
             f"退回{summary['rejected']}份，跳过已处理{skipped}份，未报送{len(missing)}家")
    ledger.validation = _findings_to_rows(findings)
    store.save(ledger, now=now, views=[lambda wb: write_collection_report(wb, title, report)])
    return Outcome(summary=summary, findings=findings)


def _start_reading(inboxes: list[Path], ledger_path: Path, pool: ReadPool):
    """The returned files under ``inboxes`` in arrival order, each new one handed to the readers
    at once (:meth:`ReadPool.read_ahead`) to be read and examined
    (:func:`~xl_duban.io.returns.read_and_examine`: all the checks but the ledger's). Returns (file and hash of each new file, the
    problems of what could not be gathered, how many were skipped, the reading under way).

    Skipped already: a second copy of the same bytes (of identical copies the first to arrive
    counts) and a file waiting in quarantine/. Whether a file was accepted before is in the
    ledger, which is still loading; such a file is read anyway, then left aside."""
    incoming, problems = gather(inboxes)
    incoming.sort(key=lambda i: (i.received_at, i.name))  # arrival order: of identical copies the first counts
    rejected_before = quarantined_hashes(ledger_path)
    candidates: list[tuple[Incoming, str]] = []
    skipped, seen = 0, set()
    for item in incoming:
        digest = hashlib.sha256(item.data).hexdigest()
        if digest[:12] in rejected_before or digest in seen:
            skipped += 1
            continue
        seen.add(digest)
        candidates.append((item, digest))
    key = signing_key()
    reading = pool.read_ahead(read_and_examine, [(item, digest, COLLECT_SHEETS, key) for item, digest in candidates])
    return candidates, problems, skipped, reading


def _finish_reading(early, ledger: Ledger, progress: Progress | None = None):
    """The verdicts of a reading begun by :func:`_start_reading`, now that the ledger is loaded:
    (its files, problems, how many were skipped, each file's :class:`Checked` — None for a
    file accepted in an earlier run, which is not checked again)."""
    candidates, problems, skipped, reading = early
    ctx = CollectContext(ledger=ledger, key=signing_key())
    accepted_before = accepted_hashes(ledger)
    wanted = [digest not in accepted_before for _item, digest in candidates]
    skipped += wanted.count(False)
    return candidates, problems, skipped, read_and_check(candidates, ctx, reading, wanted, progress)


def read_and_check(fresh: list[tuple[Incoming, str]], ctx: CollectContext, reading, wanted: list[bool],
                   progress: Progress | None = None) -> list[Checked | None]:
    """The verdict on each (file, hash), in order: ``reading`` (:func:`_start_reading`) reads
    and examines them behind the readers' wall, and each is confirmed against the ledger here
    as soon as its answer arrives, while the readers go on with the next ones. A file not
    ``wanted`` (collected in an earlier run) is read but left aside: its verdict is None."""
    results: list[Checked | None] = [None] * len(fresh)
    total, done = sum(wanted), 0
    with closing(reading) as read:
        for index, (ok, value) in read:
            if not wanted[index]:
                continue
            item, digest = fresh[index]
            results[index] = confirm(value, ctx) if ok else _unreadable(item, digest, value)
            done += 1
            if progress:
                progress("读取并检查反馈表", done, total)
    return results


def _unreadable(item: Incoming, digest: str, exc: UnreadableFile) -> Checked:
    """The verdict on a file the reader refused (damaged, encrypted, a zip bomb, too slow)."""
    returned = ReturnedFile(name=item.name, file_hash=digest, received_at=item.received_at, sender=item.sender)
    return Checked(file=returned, findings=[error("unreadable-file", str(exc), file=item.name,
                                                  hint="请单位确认文件能正常打开、未加密，另存为 .xlsx 后重新报送。")])


def _fetch_mail(ledger: Ledger, inbox: Path) -> tuple[int | None, list[Finding]]:
    """Unseen messages of the 设置 IMAP mailbox into ``inbox``; (messages saved, findings)."""
    host = str(ledger.setting("IMAP服务器", "") or "")
    user = str(ledger.setting("IMAP账号", "") or ledger.setting("发件人", "") or "")
    if not host or not user:
        return None, [error("imap-not-configured", "【设置】中未填写“IMAP服务器”或“IMAP账号”（或“发件人”），无法收取邮件。",
                            sheet="设置", hint="填写后重试，或把邮件附件保存到文件夹后指定该文件夹收集。")]
    port, findings = int_setting(ledger, "IMAP端口", 993)
    security, more = choice_setting(ledger, "IMAP加密", "SSL")
    try:
        saved = fetch_unseen(ImapSettings(host, port, security, user, imap_password()), inbox)
    except MailboxError as exc:
        return None, [*findings, *more, error("imap-failed", str(exc), sheet="设置")]
    return len(saved), [*findings, *more]


def _file_away(ledger_path: Path, item: Incoming, result: Checked) -> dict:
    """Archive the file by hash under archive/{period}/{unit}/收回/; a rejected one also goes
    to quarantine/ with a note of why, for the clerk to forward to the unit. Returns the
    file's line of the collection report (JSON entry plus the sheet row under "report")."""
    prefix = f"{result.file.file_hash[:12]}_{file_safe(item.file_name)}"
    issue = result.issue
    stored = None
    if issue is not None:
        stored = archive_dir(ledger_path, issue.period, issue.unit) / "收回" / prefix
        _write_once(stored, item.data)
    errors = [f for f in result.findings if f.level.value == "错误"]
    if not result.accepted:
        stored = quarantine_dir(ledger_path) / prefix
        _write_once(stored, item.data)
        note = "\n".join(f"{f.location()}：{f.message}" + (f"\n    处理建议：{f.hint}" if f.hint else "") for f in errors)
        _write_once(stored.with_name(stored.name + ".退回原因.txt"), f"{item.name}\n\n{note}\n".encode("utf-8"))
    outcome = result.outcome
    reasons = errors or [f for f in result.findings if f.code == "late-return"]
    received = result.file.received_at.isoformat(sep=" ", timespec="minutes")
    tasks = len(result.feedback) + len({t.task_id for t in result.targets})
    return {"file": item.name, "unit": issue.unit if issue else "", "period": issue.period if issue else "",
            "result": outcome, "received_at": received, "tasks": tasks, "stored": str(stored or ""),
            "codes": sorted({f.code for f in result.findings}),
            "report": {"文件": item.name, "单位": issue.unit if issue else "", "周期": issue.period if issue else "",
                       "结果": outcome, "接收时间": received, "任务数": tasks,
                       "说明": "；".join(f.text() for f in reasons[:3]) + ("；等" if len(reasons) > 3 else ""),
                       "处理建议": reasons[0].hint if reasons else ""}}


def _write_once(path: Path, data: bytes) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


BULLETIN = "通报"  # 变更日志 操作 of a published bulletin; 对象 is its sheet, 新值 its 期号


def _bulletin_number(ledger: Ledger, sheet: str) -> tuple[int, bool]:
    """The 期号 of a bulletin: kept when the same bulletin is published again, else the next
    number after every earlier bulletin (or 设置 起始期号 for the first). (number, is new)."""
    numbers: dict[str, int] = {}
    for e in ledger.changelog:
        if e.action == BULLETIN and e.new.isdigit():
            numbers[e.object] = int(e.new)
    if sheet in numbers:
        return numbers[sheet], False
    start, _ = int_setting(ledger, "起始期号", 1)
    return max([start - 1, *numbers.values()]) + 1, True


def _float_setting(ledger: Ledger, key: str, default: float) -> tuple[float, list[Finding]]:
    try:
        value = float(str(ledger.setting(key, default)).strip().rstrip("%"))
        value = value / 100 if value > 1 else value
        if 0 < value <= 1:
            return value, []
    except ValueError:
        pass
    return default, [warning("bad-setting", f"【设置】“{key}”应为0到1之间的小数，已按{default}处理。", sheet="设置", column="值")]


@reports_bad_input
@locks_ledger("bulletin")
def publish_bulletin(ledger_path: Path, period_text: str, out_dir: Path, *, now: datetime) -> Outcome:
    """``duban bulletin``: the 通报 (quarter, key tasks) or 月报 (month, 民生实事) of P.

    Writes the bulletin document, one 督查整改通知书 per unit with yellow or red items and the
    约谈名单 into ``out_dir``, and the 通报-P / 月报-P sheet into the ledger (one atomic write).
    Every number comes from 亮灯记录 as it stands: run ``light`` first.
    """
    from .domain.bulletin import build_bulletin, notices
    from .io.bulletin_docs import chart_png, write_bulletin_docx, write_bulletin_sheet, write_interview_list_docx, write_notice_docx

    period = _period_argument(period_text)
    store = open_store(ledger_path)
    ledger_path = store.path
    ledger, findings = store.load()
    kind = TaskKind.reporting_in(period)
    if not any(r.period == str(period) and r.light for r in ledger.lights):
        return Outcome(findings=[*findings, error("not-lit", f"{period}尚未亮灯，无法生成通报。", sheet="亮灯记录",
                                                  hint=f"先运行“亮灯”（duban light --period {period}）。")])
    similarity, f1 = _float_setting(ledger, "相似度阈值", 0.9)
    rectify_days, f2 = int_setting(ledger, "整改期限", 10)
    sheet = f"{'通报' if kind is TaskKind.key else '月报'}-{period}"
    number, new = _bulletin_number(ledger, sheet)
    bulletin = build_bulletin(ledger, period, number, similarity)
    masthead = str(ledger.setting("刊名", "源城政务督查"))
    office = str(ledger.setting("督查室", "") or ledger.setting("机关名称", "") or "督查室")
    issued_on = now.date()
    chart, has_font = chart_png(bulletin)
    if not has_font:
        findings.append(warning("chart-font-missing", "本机没有中文字体，通报图表中的单位名称可能显示为方框。",
                                hint="安装中文字体（如 fonts-noto-cjk）后重新生成。"))
    year = period.year
    doc = write_bulletin_docx(out_dir / f"{masthead}{year}年第{number}期（{period.label}{kind.value}通报）.docx", bulletin,
                              masthead=masthead, office=office, issued_on=issued_on, chart=chart)
    rectify_by = DueDates(ledger).add_workdays(issued_on, rectify_days)
    notice_files = []
    for n, (unit, items) in enumerate(notices(bulletin).items(), 1):
        notice_files.append(str(write_notice_docx(
            out_dir / "整改通知书" / f"{period}_{file_safe(unit)}_督查整改通知书.docx", unit, items, bulletin, office=office,
            issued_on=issued_on, rectify_by=rectify_by, number=f"督整〔{year}〕{number}-{n}号")))
    interviews = write_interview_list_docx(out_dir / f"{period}_约谈名单.docx", bulletin, office=office, issued_on=issued_on)
    if new:
        ledger.changelog.append(ChangeLogEntry(time=now, action=BULLETIN, object=sheet, field="期号", new=str(number),
                                               source=f"duban bulletin --period {period}"))
    store.save(ledger, now=now, views=[lambda wb: write_bulletin_sheet(wb, bulletin, masthead=masthead, office=office,
                                                                       issued_on=issued_on)])
    c = bulletin.counts
    summary = {"ledger": str(ledger_path), "period": str(period), "kind": kind.value, "number": number, "sheet": sheet,
               "document": str(doc), "notices": notice_files, "interviews": str(interviews),
               "counts": {"绿灯": c.green, "黄灯": c.yellow, "红灯": c.red, "合计": c.total},
               "red": [i.task_id for i in bulletin.red], "yellow": [i.task_id for i in bulletin.yellow],
               "praised": bulletin.praised, "late": bulletin.late, "missing": bulletin.missing,
               "disagreements": len(bulletin.disagreements),
               "copied": [{"task": x.task_id, "unit": x.unit, "score": x.score} for x in bulletin.copied],
               "rectify_by": rectify_by.isoformat()}
    return Outcome(summary=summary, findings=[*findings, *f1, *f2])


def _record_issue(ledger: Ledger, submissions: SubmissionIndex, period: str, unit: str, now: datetime,
                  due_day: date) -> None:
    """Create or refresh the 报送情况 row of (period, unit): issued now, not yet sent or returned."""
    row = submissions.get(period, unit)
    if row is None:
        row = Submission(period=period, unit=unit)
        submissions.add(row)
    elif row.issued_at:
        ledger.changelog.append(ChangeLogEntry(time=now, action="下发", object=unit, field=f"{period}下发时间",
                                               old=str(row.issued_at), new=now.isoformat(sep=" "), source="duban issue"))
    row.issued_at, row.due_at = now, due_day
    row.send_status = row.send_status or "未发送"
    row.status = row.status or SubmissionState.missing.value


def _light_order(record) -> tuple:
    """亮灯记录 by task (2022-ZD-99 before 2022-ZD-100 before 2022-ZD-1000), then period."""
    p = parse_period_or_none(record.period)
    m = TASK_ID.match(record.task_id or "")
    task = (m.group(1), m.group(2), int(m.group(3)), int(m.group(4) or 0), "") if m else ("", "", 0, 0, record.task_id)
    return (task, p.sort_key() if p else (9999, 99, 9))


__all__ = ["Outcome", "LedgerError", "init_ledger", "build_template", "import_files", "validate_ledger", "light_up", "issue_workbooks", "send_workbooks", "remind_units", "collect_returns", "publish_bulletin", "file_hash"]
