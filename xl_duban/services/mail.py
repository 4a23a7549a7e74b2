"""``duban send`` and ``duban remind``: the issued workbooks by mail, and the 催办 of units
that have not returned theirs."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from ..domain.cells import parse_cell_date
from ..domain.findings import Finding, error, has_errors, info, warning
from ..domain.mail import issue_mail, reminder_mail
from ..domain.models import ChangeLogEntry, Submission, TaskKind
from ..domain.settings import Settings
from ..domain.units import UnitDirectory
from ..io.archive import issued_file
from ..io.mailer import MailError, SmtpSettings, build_message, send_smtp, smtp_password, write_eml
from .outcome import Outcome, Progress, period_argument, reports_bad_input
from .session import Store, session


class Courier:
    """What send and remind share: the transport (SMTP settings from 设置, or .eml files)."""

    def __init__(self, settings: Settings, *, smtp: bool, eml_dir: Path | None, sleep: Callable[[float], None]) -> None:
        self.eml_dir, self.sleep = eml_dir, sleep
        self.sender = settings.sender
        self.office = settings.office_name
        self.sender_office = settings.supervision_office
        self.findings: list[Finding] = []
        self.settings: SmtpSettings | None = None
        if smtp == (eml_dir is not None):
            self.findings.append(error("usage-error", "请指定 --smtp（直接发送）或 --eml 目录（生成邮件文件）二者之一。"))
        elif smtp:
            self.findings = settings.findings("SMTP端口", "SMTP加密")
            if not settings.smtp_host or not self.sender:
                self.findings.append(error("smtp-not-configured", "【设置】中未填写“SMTP服务器”或“发件人”，无法发送。",
                                           sheet="设置", hint="填写后重试，或改用 --eml 生成邮件文件。"))
            self.settings = SmtpSettings(settings.smtp_host, settings.smtp_port, settings.smtp_security, self.sender,
                                         smtp_password())

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


def _where(store: Store, row: Submission) -> dict:
    return {"file": store.file, "sheet": "报送情况", "row": row.row, "subject": f"{row.period} {row.unit}"}


@reports_bad_input
def send_workbooks(ledger_path: Path | Store, period_text: str, *, now: datetime, eml_dir: Path | None = None,
                   smtp: bool = False, resend: bool = False, progress: Progress | None = None,
                   sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """``duban send``: one email per unit with its issued workbook, by SMTP or as .eml files.

    Idempotent: a unit already sent for P is skipped unless ``resend``. Each unit's result
    goes to 报送情况 (发送状态, 问题); the ledger is written once, even when sending fails
    halfway, so what was sent is never forgotten.
    """
    period = period_argument(period_text)
    with session(ledger_path, "send", now) as s:
        ledger, findings = s.ledger, s.findings
        courier = Courier(s.settings, smtp=smtp, eml_dir=eml_dir, sleep=sleep)
        if not courier.ready:
            return Outcome(findings=[*findings, *courier.findings], unreadable=True)
        kind = TaskKind.reporting_in(period)
        directory = UnitDirectory(ledger.units)
        rows = [r for r in ledger.submissions if r.period == str(period) and r.issued_at]
        counts = {"sent": 0, "eml": 0, "skipped": 0, "failed": 0}
        try:
            for n, row in enumerate(rows, 1):
                if progress:
                    progress(f"发送 {row.unit}", n - 1, len(rows))
                where = _where(s.store, row)
                if smtp and row.send_status == "已发送" and not resend:
                    counts["skipped"] += 1
                    continue
                attachment = issued_file(s.path, row.period, row.unit)
                if attachment is None:
                    findings.append(error("issued-file-missing", f"找不到{row.unit}的{row.period}反馈表。", column="单位", **where,
                                          hint="先运行“下发反馈表”（duban issue）。"))
                    continue
                unit = directory.unit(row.unit)
                draft = issue_mail(row.unit, unit.email if unit else "", period, kind.value,
                                   parse_cell_date(row.due_at) or s.due(period), attachment.name, courier.office,
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
            s.save()
        if not rows:
            findings.append(warning("nothing-to-send", f"{period}尚未下发反馈表。", sheet="报送情况",
                                    hint="先运行“下发反馈表”（duban issue）。"))
        return Outcome(summary={"ledger": str(s.path), "period": str(period), **counts,
                                "eml_dir": str(eml_dir) if eml_dir else ""}, findings=findings)


@reports_bad_input
def remind_units(ledger_path: Path | Store, period_text: str, *, now: datetime, days_before: int = 0,
                 eml_dir: Path | None = None, smtp: bool = False, sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """``duban remind``: 催办 the units without an accepted return for P.

    Reminders start ``days_before`` days before the due date (0: on the due date). Without
    --smtp or --eml the list is only printed. Every reminder sent is recorded in 报送情况
    (问题) and 变更日志, so the bulletin can say who was chased and when.
    """
    period = period_argument(period_text)
    with session(ledger_path, "remind", now) as s:
        ledger, findings = s.ledger, s.findings
        deliver = smtp or eml_dir is not None
        courier = Courier(s.settings, smtp=smtp, eml_dir=eml_dir, sleep=sleep) if deliver else None
        if courier is not None and not courier.ready:
            return Outcome(findings=[*findings, *courier.findings], unreadable=True)
        kind = TaskKind.reporting_in(period)
        due_day = s.due(period)
        findings += s.due.findings  # e.g. the calendar fell back to Monday-Friday for this year
        pending = [r for r in ledger.submissions if r.period == str(period) and r.issued_at and not r.accepted]
        summary = {"ledger": str(s.path), "period": str(period), "due": due_day.isoformat(),
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
                where = _where(s.store, row)
                attachment = issued_file(s.path, row.period, row.unit)
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
            s.save()
        return Outcome(summary=summary, findings=findings)
