"""Mail transport: MIME messages, SMTP (SSL / STARTTLS / plain) with retries, and .eml files."""

from __future__ import annotations

import os
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Callable

from ..domain.mail import MailDraft

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
PASSWORD_ENV = "DUBAN_SMTP_PASSWORD"


class MailError(Exception):
    """A message could not be delivered; the text is Chinese and says why."""


def build_message(draft: MailDraft, sender: str, attachment: bytes) -> EmailMessage:
    """A standard MIME message; the Chinese file name is RFC 2231-encoded by the library."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(draft.to)
    msg["Subject"] = draft.subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] if "@" in sender else None)
    msg.set_content(draft.body)
    msg.add_attachment(attachment, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=draft.attachment)
    return msg


def write_eml(msg: EmailMessage, path: Path) -> Path:
    """A ready-to-send .eml file (opens in Outlook, Foxmail, Thunderbird)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(msg))
    return path


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # SSL / STARTTLS / 无
    sender: str
    password: str | None


def secret(env: str, keyring_user: str) -> str | None:
    """A password from the environment variable ``env`` or the OS keyring (service ``xl_duban``,
    user ``keyring_user``) — never from a workbook."""
    if os.environ.get(env):
        return os.environ[env]
    try:
        import keyring  # optional: Windows Credential Manager, macOS Keychain, Secret Service
    except ImportError:
        return None
    try:
        return keyring.get_password("xl_duban", keyring_user)
    except Exception:  # a keyring backend that is not set up is the same as no password
        return None


def smtp_password() -> str | None:
    """The SMTP password (environment variable DUBAN_SMTP_PASSWORD or keyring user ``smtp``)."""
    return secret(PASSWORD_ENV, "smtp")


def send_smtp(msg: EmailMessage, settings: SmtpSettings, *, attempts: int = 3,
              sleep: Callable[[float], None] = time.sleep, timeout: float = 30) -> None:
    """Deliver with retries and exponential backoff (1 s, 2 s …) on temporary failures."""
    if settings.password and not (settings.sender + settings.password).isascii():
        raise MailError(f"发件人或密码含有中文等非 ASCII 字符，SMTP 登录无法传送；请改用邮箱的客户端授权码（环境变量 {PASSWORD_ENV}）")
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            _deliver(msg, settings, timeout)
            return
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"SMTP 登录失败（{exc.smtp_code}），请检查发件人和密码（环境变量 {PASSWORD_ENV}）") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError("收件地址被邮件服务器拒绝：" + "、".join(exc.recipients)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            last = exc
            if attempt + 1 < attempts:
                sleep(2 ** attempt)
    raise MailError(f"发送失败（已重试 {attempts} 次）：{type(last).__name__} {last}") from last


def _deliver(msg: EmailMessage, s: SmtpSettings, timeout: float) -> None:
    context = ssl.create_default_context()
    if s.security.upper() == "SSL":
        client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(s.host, s.port, timeout=timeout)
    with client:
        if s.security.upper() == "STARTTLS":
            client.starttls(context=context)
        if s.password:
            client.login(s.sender, s.password)
        client.send_message(msg)
