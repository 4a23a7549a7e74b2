"""``duban collect``: returned workbooks checked, the accepted ones merged (DESIGN §6)."""

from __future__ import annotations

import hashlib
from contextlib import closing
from datetime import datetime
from pathlib import Path

from ..domain.cells import parse_cell_date
from ..domain.changes import COLLECTED, accepted_hashes
from ..domain.collecting import (MAX_FINDINGS_PER_FILE, Checked, CollectContext, ReturnedFile, bounded, confirm,
                                 merge_returns, missing_returns, prefer_registered)
from ..domain.findings import Finding, error, has_errors, info
from ..domain.models import ChangeLogEntry, Ledger, ReturnSource, TargetStatus
from ..domain.settings import Settings
from ..io.archive import QUARANTINE, keep_return, quarantined_hashes
from ..io.failures import log_failure
from ..io.guard import ReadPool
from ..io.keys import signing_key
from ..io.mailbox import ImapSettings, MailboxError, fetch_unseen, imap_password
from ..io.readers import UnreadableFile
from ..io.returns import CHINA, NO_ATTACHMENT, WORKBOOK_SUFFIXES, Incoming, Limits, gather, read_and_examine
from ..io.views import write_collection_report
from ..timing import stage
from .outcome import BadInput, Outcome, Progress, period_argument, reports_bad_input
from .session import Session, Store, session

COLLECT_SHEETS = ("反馈表", "目标安排表")
MAX_VALIDATION_ROWS = 2000  # 校验结果 of one collect: a province's worth of real findings, never a flood's
NOTE_CHARS = 8000  # a 退回原因 note: the first findings of a file are what the unit needs


@reports_bad_input
def collect_returns(ledger_path: Path | Store, inboxes: list[Path], *, now: datetime, period_text: str | None = None,
                    imap: bool = False, progress: Progress | None = None, accept: Path | None = None,
                    reason: str = "") -> Outcome:
    """``duban collect``: check every returned workbook under the inbox folders (and attached
    to .eml files) and merge the accepted ones into 反馈记录 / 节点目标.

    Every file is archived by hash under archive/{period}/{unit}/收回/. A rejected file
    is copied to quarantine/ with a note of why and what the unit should do; of it the ledger
    records only its fate — 报送情况 退回 with the time and reason, 变更日志, 校验结果 and 收集报告 —
    and none of its content. Accepted files update 反馈记录, 报送情况, 变更日志, 校验结果 and
    收集报告 in one atomic ledger write after every file was read and checked — an exception
    anywhere leaves the ledger untouched. Files already handled are skipped, so a second run
    on the same inbox changes nothing.
    """
    only = str(period_argument(period_text)) if period_text else None
    if accept is not None:
        return _accept(ledger_path, accept, reason, now, progress)
    if not inboxes and not imap:
        raise BadInput(error("usage-error", "请指定收件文件夹（或 .eml / .xlsx 文件），或使用 --imap 从邮箱收取。"))
    with session(ledger_path, "collect", now, load=False) as s, ReadPool() as pool:
        pool.start()  # the readers start up while the ledger loads
        return _collect(s, inboxes, only, imap, progress, pool)


def _accept(ledger_path: Path | Store, path: Path, reason: str, now: datetime, progress: Progress | None) -> Outcome:
    """``duban collect LEDGER --accept FILE --reason 说明``: the clerk takes a held or
    quarantined workbook as the office's own file. Every check of the file itself still runs
    (signature, issue in force, locked cells, formulas …); what the clerk vouches for is where
    it came from — the sender checks do not apply to a file the clerk hands in — and the reason
    is kept in 变更日志. The copy in quarantine/ and its note are removed once it is accepted."""
    reason = " ".join(reason.split())
    if not reason:
        raise BadInput(error("usage-error", "用 --accept 接收文件时须用 --reason 写明理由（记入变更日志），如 --reason \"已电话核实\"。"))
    if not path.is_file() or path.suffix.lower() not in WORKBOOK_SUFFIXES:
        raise BadInput(error("usage-error", f"“{path}”不是表格文件：--accept 接收 quarantine/ 中的 .xlsx、.xls 或 .ods 文件。"))
    with session(ledger_path, "collect", now, load=False) as s, ReadPool(1) as pool:
        outcome = _collect(s, [path], None, False, progress, pool, accepted_by=reason)
    if outcome.summary.get("accepted"):
        for kept in (path, path.with_name(path.name + ".退回原因.txt")):
            if kept.parent.name == QUARANTINE:
                kept.unlink(missing_ok=True)
    return outcome


def _collect(s: Session, inboxes: list[Path], only: str | None, imap: bool, progress: Progress | None,
             pool: ReadPool, accepted_by: str = "") -> Outcome:
    now = s.now
    ledger = s.load()
    findings = s.findings
    fetched = None
    if imap:
        inbox = s.path.parent / s.settings.inbox_folder
        fetched, mailbox_findings = _fetch_mail(s.settings, inbox)
        if has_errors(mailbox_findings):
            return Outcome(findings=[*findings, *mailbox_findings], unreadable=True)
        inboxes = [*inboxes, inbox]
    limits = Limits(attachments=s.settings.attachments_per_mail, files=s.settings.files_per_collect)
    findings += s.settings.findings("仅接收登记邮箱", "每封邮件附件上限", "每次收集文件上限")
    ctx = CollectContext(ledger=ledger, key=signing_key(), now=now, registered_only=s.settings.registered_only == "是")
    candidates, problems, skipped, verdicts = _read(inboxes, s.path, ctx, pool, progress, limits,
                                                    again=bool(accepted_by))
    for name, reason in problems:
        level = info if reason == NO_ATTACHMENT else error
        findings.append(level("unreadable-file" if level is error else "no-attachment", reason, file=name))
    checked: list[tuple[Incoming, Checked]] = []
    for (item, _digest), result in zip(candidates, verdicts):
        if only and result.issue is not None and result.issue.period != only:
            skipped += 1  # left for the collect of its own period
            continue
        if accepted_by:
            result.source = ReturnSource.clerk.value  # 来源 人工接收: the clerk vouches for it
        checked.append((item, result))
    prefer_registered([c for _i, c in checked])
    if progress:
        progress("保存台账", len(candidates), len(candidates))
    summary = {"ledger": str(s.path), "files": [], "accepted": 0, "late": 0, "rejected": 0, "skipped": skipped,
               "fetched": fetched, "added": 0, "replaced": 0, "targets_filled": 0, "targets_proposed": 0}
    report = []
    for item, result in checked:
        entry = _file_away(s.path, item, result)
        findings.extend(result.findings)
        summary["files"].append(entry)
        summary["accepted" if result.accepted else "skipped" if result.repeat else "rejected"] += 1
        summary["late"] += int(result.accepted and result.late)
        report.append(entry.pop("report"))
    accepted = [c for _i, c in checked if c.accepted]
    merged = merge_returns(ledger, [c for _i, c in checked], now)  # a refused return: only 退回 in 报送情况
    summary.update(added=merged.added, replaced=merged.replaced, targets_filled=merged.targets_filled,
                   targets_proposed=merged.targets_proposed,
                   targets_waiting=sum(t.status in (TargetStatus.pending.value, TargetStatus.change_pending.value)
                                       and bool(t.target.strip()) for t in ledger.targets))
    periods = {only} if only else {c.issue.period for _i, c in checked if c.issue is not None}
    missing = missing_returns(ledger, periods, now.date(), lambda row: parse_cell_date(row.due_at))
    findings.extend(missing)
    summary["missing"] = [f.subject for f in missing]
    if not accepted and not merged.refused:  # nothing to record: the ledger stays byte-identical
        return Outcome(summary=summary, findings=findings, unreadable=bool(problems) and not checked)
    for item, result in checked:
        if result.accepted:
            ledger.changelog.append(ChangeLogEntry(
                time=now, action=COLLECTED, object=item.file_name, field=f"{result.issue.period} {result.issue.unit}",
                new=result.outcome, source=f"duban collect {result.file.name}#{result.file.file_hash}"))
            if accepted_by:
                ledger.changelog.append(ChangeLogEntry(
                    time=now, action="人工接收", object=item.file_name, field=f"{result.issue.period} {result.issue.unit}",
                    new=accepted_by, source=f"duban collect --accept {result.file.name}#{result.file.file_hash}"))
    for f in missing:
        period, unit = f.subject.split(" ", 1)
        report.append({"单位": unit, "周期": period, "结果": "未报送", "说明": f.message, "处理建议": f.hint})
    title = (f"收集报告（{now:%Y-%m-%d %H:%M}）：接收{summary['accepted']}份（其中逾期{summary['late']}份），"
             f"退回{summary['rejected']}份，跳过已处理{summary['skipped']}份，未报送{len(missing)}家")
    s.save(validation=bounded(findings, MAX_VALIDATION_ROWS, {"sheet": "收集报告"}), views=[lambda wb: write_collection_report(wb, title, report)])
    return Outcome(summary=summary, findings=findings)


def _read(inboxes: list[Path], ledger_path: Path, ctx: CollectContext, pool: ReadPool, progress: Progress | None = None,
          limits: Limits = Limits(), again: bool = False):
    """The returned files under ``inboxes`` in arrival order, each new one read and examined by
    the readers (:func:`~xl_duban.io.returns.read_and_examine`: all the checks but the ledger's)
    and confirmed against the ledger here as its answer arrives. Returns (file and hash of each
    file checked, the problems of what could not be gathered, how many were skipped, each
    file's :class:`Checked`).

    Skipped: a second copy of the same bytes (of identical copies the first to arrive counts),
    a file waiting in quarantine/ (unless ``again``: the clerk accepts it) and a file accepted
    in an earlier run."""
    with stage("扫描收件箱 gather"):
        incoming, problems = gather(inboxes, limits)
    incoming.sort(key=lambda i: (i.received_at, i.name))  # arrival order: of identical copies the first counts
    with stage("已处理指纹 accepted_hashes"):
        accepted_before = accepted_hashes(ctx.ledger)
    rejected_before = quarantined_hashes(ledger_path)
    candidates: list[tuple[Incoming, str]] = []
    skipped, seen = 0, set()
    for item in incoming:
        digest = hashlib.sha256(item.data).hexdigest()
        if (digest[:12] in rejected_before and not again) or digest in accepted_before or digest in seen:
            skipped += 1
            continue
        seen.add(digest)
        candidates.append((item, digest))
    with stage("读取并检查 read_and_check"):
        verdicts = _read_and_check(candidates, ctx, pool, progress)
    return candidates, problems, skipped, verdicts


def _read_and_check(fresh: list[tuple[Incoming, str]], ctx: CollectContext, pool: ReadPool,
                    progress: Progress | None = None) -> list[Checked]:
    """The verdict on each (file, hash), in order: the readers read and examine them behind
    their wall, and each is confirmed against the ledger here as soon as its answer arrives,
    while the readers go on with the next ones."""
    results: list[Checked | None] = [None] * len(fresh)
    calls = [(item, digest, COLLECT_SHEETS, ctx.key) for item, digest in fresh]
    with closing(pool.completed(read_and_examine, calls)) as read:
        for done, (index, (ok, value)) in enumerate(read, 1):
            item, digest = fresh[index]
            results[index] = _verdict(item, digest, ok, value, ctx)
            if progress:
                progress("读取并检查反馈表", done, len(fresh))
    return results


def read_and_check(inboxes: list[Path], ledger_path: Path, ledger: Ledger, pool: ReadPool) -> list[Checked]:
    """Collect's reading and checking of the files under ``inboxes`` against ``ledger``, and
    nothing else (no merge, no file work): the benchmark times it on its own."""
    return _read(inboxes, ledger_path, CollectContext(ledger=ledger, key=signing_key()), pool)[3]


def _verdict(item: Incoming, digest: str, ok: bool, value, ctx: CollectContext) -> Checked:
    """The verdict on one file: the reader's, confirmed against the ledger, its findings
    bounded (:func:`~xl_duban.domain.collecting.bounded`). Whatever goes wrong here costs
    this file only: it is refused with the cause, and the run goes on."""
    try:
        checked = confirm(value, ctx) if ok else _unreadable(item, digest, value)
    except Exception as exc:  # noqa: BLE001 - one file's failure never stops the others
        log_failure(f"collect {item.name}")
        checked = _unreadable(item, digest, f"检查时出错（{type(exc).__name__}），已暂不接收")
    checked.findings = bounded(checked.findings, MAX_FINDINGS_PER_FILE, {"file": item.name})
    return checked


def _unreadable(item: Incoming, digest: str, exc: UnreadableFile | str) -> Checked:
    """The verdict on a file the reader refused (damaged, encrypted, a zip bomb, too slow)."""
    returned = ReturnedFile(name=item.name, file_hash=digest, received_at=item.received_at, sender=item.sender)
    return Checked(file=returned, findings=[error("unreadable-file", str(exc), file=item.name,
                                                  hint="请单位确认文件能正常打开、未加密，另存为 .xlsx 后重新报送。")])


def _fetch_mail(settings: Settings, inbox: Path) -> tuple[int | None, list[Finding]]:
    """Unseen messages of the 设置 IMAP mailbox into ``inbox``; (messages saved, findings)."""
    if not settings.imap_host or not settings.imap_account:
        return None, [error("imap-not-configured", "【设置】中未填写“IMAP服务器”或“IMAP账号”（或“发件人”），无法收取邮件。",
                            sheet="设置", hint="填写后重试，或把邮件附件保存到文件夹后指定该文件夹收集。")]
    findings = settings.findings("IMAP端口", "IMAP加密")
    try:
        saved = fetch_unseen(ImapSettings(settings.imap_host, settings.imap_port, settings.imap_security,
                                          settings.imap_account, imap_password()), inbox)
    except MailboxError as exc:
        return None, [*findings, error("imap-failed", str(exc), sheet="设置")]
    return len(saved), findings


def _file_away(ledger_path: Path, item: Incoming, result: Checked) -> dict:
    """Keep the file (:func:`~xl_duban.io.archive.keep_return`: archived, and a rejected one in
    quarantine/ with a note of why, for the clerk to forward to the unit). Returns the file's
    line of the collection report (JSON entry plus the sheet row under "report")."""
    issue = result.issue
    errors = [f for f in result.findings if f.level.value == "错误"]
    refusal = None
    if not result.accepted and not result.repeat:
        told = [*errors, *(f for f in result.findings if f.code == "more-findings")]
        note = "\n".join(f"{f.location()}：{f.message}" + (f"\n    处理建议：{f.hint}" if f.hint else "") for f in told)
        refusal = f"{item.name}\n\n{note}\n"[:NOTE_CHARS]
    try:
        stored = keep_return(ledger_path, item.file_name, item.data, result.file.file_hash,
                             issue.period if issue else None, issue.unit if issue else None, refusal,
                             item.received_at.replace(tzinfo=CHINA).timestamp())
    except Exception as exc:  # noqa: BLE001 - a file that cannot be kept is reported, and the run goes on
        log_failure(f"collect {item.name}")
        stored = None
        result.findings.append(error("file-not-kept", f"文件无法存入归档或隔离区（{type(exc).__name__}），本次不接收。",
                                     file=item.name, hint="检查台账所在文件夹的磁盘空间和写入权限后重新收集。"))
        errors = [f for f in result.findings if f.level.value == "错误"]
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
