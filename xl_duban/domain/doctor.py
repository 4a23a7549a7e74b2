"""``duban doctor``'s verdicts: each check of an office PC as ✔ / ✘ / ⚠ with a one-line fix.

The facts (versions, fonts, files, the registry) are gathered by the service through the io
adapters; what is judged from a ledger's own content (its calendar years, mail settings,
units' e-mail, last validation) is decided here, without I/O, so it is tested plainly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterable

from .calendar import WorkCalendar, YearSource
from .models import Ledger
from .settings import Settings

MAX_NAMED = 10  # units named in one line; the rest counted


class Status(str, Enum):
    ok = "ok"
    warn = "warn"  # works, but something should be done (or an optional part is missing)
    fail = "fail"  # a part the office needs will not work: exit code 1

    @property
    def mark(self) -> str:
        return {"ok": "✔", "warn": "⚠", "fail": "✘"}[self.value]


@dataclass(frozen=True)
class Check:
    """One check: ``name`` (stable, for scripts), ``title`` (Chinese), ``status``, ``detail``
    (what was found) and ``fix`` (what to do if it is not ✔ — also given when it is, so the
    returned report says how each part is repaired)."""

    name: str
    title: str
    status: Status
    detail: str
    fix: str

    def as_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "status": self.status.value, "mark": self.status.mark,
                "detail": self.detail, "fix": self.fix}


def failed(checks: Iterable[Check]) -> bool:
    return any(c.status is Status.fail for c in checks)


def calendar_checks(calendar: WorkCalendar, years: Iterable[int], *, in_ledger: bool) -> list[Check]:
    """This year and next: a deadline in an estimated year may fall on a make-up working day
    the State Council announces only in December, so the office types the schedule in."""
    checks = []
    for year in years:
        source = calendar.source(year)
        fix = (f"国务院公布{year}年放假安排后，在台账【节假日】逐日登记“休”“班”，再加一行类型“已核对”（日期填{year}年任一天）；"
               "或安装新版 chinesecalendar")
        if source is YearSource.estimated:
            where = "，台账【节假日】也未登记“已核对”" if in_ledger else "；未指定台账，未看其【节假日】"
            checks.append(Check(f"calendar_{year}", f"{year}年节假日", Status.warn,
                                f"推算（chinesecalendar 未收录{year}年{where}）：调休上班日无法预知，截止日期可能不准", fix))
        else:
            detail = "官方公布（chinesecalendar 软件包）" if source is YearSource.official else "已录入（【节假日】已核对）"
            checks.append(Check(f"calendar_{year}", f"{year}年节假日", Status.ok, detail, fix))
    return checks


def mail_checks(settings: Settings, *, smtp_password: bool, imap_password: bool) -> list[Check]:
    """SMTP and IMAP settings complete. Without them the office mails .eml files by hand and
    saves replies into the inbox folder, so an unset server is ⚠, a half-set one ✘.
    Passwords live outside the workbook (environment or keyring): only their presence is told."""
    checks = []
    for name, title, host, account, password, env, user, keys in (
            ("smtp", "发件邮箱（SMTP）", settings.smtp_host, settings.sender, smtp_password, "DUBAN_SMTP_PASSWORD", "smtp",
             ("SMTP服务器", "SMTP端口", "SMTP加密", "发件人")),
            ("imap", "收件邮箱（IMAP）", settings.imap_host, settings.imap_account, imap_password, "DUBAN_IMAP_PASSWORD", "imap",
             ("IMAP服务器", "IMAP端口", "IMAP加密", "IMAP账号"))):
        secret_fix = (f"设置环境变量 {env}（邮箱的客户端授权码），或执行 python -m keyring set xl_duban {user}")
        problems = settings.findings(*keys)
        if problems:
            checks.append(Check(name, title, Status.fail, problems[0].message, f"在【设置】中改正：{problems[0].hint or '见说明列'}"))
        elif not host:
            checks.append(Check(name, title, Status.warn, "未设置服务器：" + (
                "发送邮件将生成 .eml 文件，需用邮件客户端手动发出" if name == "smtp" else "收集反馈只读取收件文件夹中保存的邮件和反馈表"),
                f"需要时在【设置】中填写{keys[0]}、{keys[1]}、{keys[2]}和{keys[3]}，密码另行{secret_fix}"))
        elif not account:
            checks.append(Check(name, title, Status.fail, f"已填{keys[0]} {host}，但{keys[3]}为空",
                                f"在【设置】中填写{keys[3]}"))
        elif not password:
            checks.append(Check(name, title, Status.fail, f"{host}（{account}）：未找到密码（环境变量和系统钥匙串中都没有）",
                                secret_fix))
        else:
            checks.append(Check(name, title, Status.ok, f"{host}:{settings.smtp_port if name == 'smtp' else settings.imap_port}"
                                f"（{account}，密码已提供，未显示）", secret_fix))
    return checks


def unit_email_check(ledger: Ledger) -> Check:
    """Units in 单位名录 without an e-mail address: their forms cannot go out by mail."""
    missing = [u.name for u in ledger.units if u.name and not u.email.strip()]
    fix = "在【单位名录】的“邮箱”列填写；没有邮箱的单位，反馈表需另行送达（U 盘、内网文件传输等）"
    if not ledger.units:
        return Check("unit_email", "单位邮箱", Status.warn, "【单位名录】中还没有单位",
                     "用 duban import 导入单位名录（或功能区“导入任务”），再补全邮箱")
    if not missing:
        return Check("unit_email", "单位邮箱", Status.ok, f"{len(ledger.units)} 个单位都有邮箱", fix)
    named = "、".join(missing[:MAX_NAMED]) + (f" 等 {len(missing)} 个" if len(missing) > MAX_NAMED else "")
    return Check("unit_email", "单位邮箱", Status.warn, f"{len(missing)} 个单位没有邮箱：{named}", fix)


def validation_check(ledger: Ledger) -> Check:
    """The errors the last ``duban validate`` (or a command's own checks) left in 校验结果."""
    errors = sum(row.level == "错误" for row in ledger.validation)
    warnings = sum(row.level == "警告" for row in ledger.validation)
    fix = "运行 duban validate 台账（或按功能区“校验”），按【校验结果】逐条改正"
    if errors:
        return Check("validation", "上次校验", Status.warn, f"【校验结果】中有错误 {errors} 条、警告 {warnings} 条", fix)
    return Check("validation", "上次校验", Status.ok, f"【校验结果】中没有错误（警告 {warnings} 条）", fix)
