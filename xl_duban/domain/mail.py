"""The words of the office's emails (pure: no SMTP, no files).

A unit receives its workbook with a subject that names the period, the kind and the
deadline, so the clerk at the unit can file and act on it without opening the attachment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .cells import date_text
from .periods import Period

_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class MailDraft:
    """One email before transport: recipients, subject, plain-text body, attachment name."""

    to: tuple[str, ...]
    subject: str
    body: str
    attachment: str


def normalize_address(address: str) -> str:
    """An address as compared: case, surrounding angle brackets and spaces, and the trailing
    dot of a fully qualified domain ignored (``Unit@Example.CN.`` is ``unit@example.cn``), so
    a sender cannot pass for someone else — or for no one — by spelling."""
    return address.strip().strip("<>").strip().lower().rstrip(".")


def valid_address(address: str) -> bool:
    return bool(_ADDRESS.match(address))


def split_addresses(text: str) -> tuple[str, ...]:
    """Addresses from a 邮箱 cell (several separated by ; ， , or spaces); invalid ones dropped."""
    return tuple(a for a in re.split(r"[;；,，\s]+", text or "") if _ADDRESS.match(a))


def issue_mail(unit: str, addresses: str, period: Period, kind: str, due: date, attachment: str,
               office: str, sender_office: str) -> MailDraft:
    """The email that carries a unit's feedback workbook (下发)."""
    subject = f"【督办】请于{date_text(due)}前报送{period.label}{kind}落实情况（{unit}）"
    body = (
        f"{unit}：\n\n"
        f"    附件是贵单位牵头的{period.label}{kind}落实情况反馈表，请对照节点目标逐项填写"
        f"“完成情况”“进展情况”“存在问题及原因分析”“下一步工作计划和意见建议”“自评灯色”，"
        f"于{date_text(due)}（含当日）前将填好的表格作为附件回复本邮件。\n\n"
        "    请注意：灰色单元格由督查室填写，请勿改动；不要增删行列，不要重命名工作表，直接保存为 .xlsx 即可。"
        "表格内容将按任务编号自动汇总，逾期报送的将在通报中注明。\n\n"
        f"{sender_office}\n{office}\n"
    )
    return MailDraft(split_addresses(addresses), subject, body, attachment)


def reminder_mail(unit: str, addresses: str, period: Period, kind: str, due: date, attachment: str,
                  office: str, sender_office: str, overdue: bool) -> MailDraft:
    """The 催办 email: the same workbook again, with the deadline (or that it has passed)."""
    when = f"已于{date_text(due)}截止" if overdue else f"将于{date_text(due)}截止"
    subject = f"【催办】{unit}：{period.label}{kind}落实情况尚未报送（{when}）"
    body = (
        f"{unit}：\n\n"
        f"    贵单位{period.label}{kind}落实情况反馈表{when}，督查室尚未收到。"
        f"请{'尽快' if overdue else '按时'}填写附件中的反馈表并回复本邮件；如已报送，请忽略本提醒。"
        f"{'逾期报送情况将在通报中注明。' if overdue else ''}\n\n"
        f"{sender_office}\n{office}\n"
    )
    return MailDraft(split_addresses(addresses), subject, body, attachment)
