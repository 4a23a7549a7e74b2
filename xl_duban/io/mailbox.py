"""IMAP: fetch the unseen messages of the office mailbox into the inbox folder as .eml files.

Each message is written (atomically, named by its content hash so a message fetched twice
is stored once) before it is marked \\Seen on the server: a crash in between means the
message is fetched again next time, never lost. Collect then reads the .eml files.
"""

from __future__ import annotations

import hashlib
import imaplib
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from .mailer import secret

PASSWORD_ENV = "DUBAN_IMAP_PASSWORD"


class MailboxError(Exception):
    """The mailbox could not be read; the text is Chinese and says why."""


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    security: str  # SSL / STARTTLS / 无
    user: str
    password: str | None
    folder: str = "INBOX"


def imap_password() -> str | None:
    """The IMAP password (environment variable DUBAN_IMAP_PASSWORD or keyring user ``imap``)."""
    return secret(PASSWORD_ENV, "imap")


def fetch_unseen(settings: ImapSettings, inbox: Path, *, timeout: float = 60) -> list[Path]:
    """Save every unseen message that has attachments as ``inbox/{hash}.eml`` and mark it seen.

    Messages without attachments (replies such as “收到”) are left unseen for a person to read.
    """
    try:
        client = _connect(settings, timeout)
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        raise MailboxError(f"无法连接收件服务器 {settings.host}:{settings.port}（{type(exc).__name__}：{exc}）") from exc
    saved: list[Path] = []
    try:
        if not (settings.user + (settings.password or "")).isascii():
            raise MailboxError(f"IMAP账号或密码含有中文等非 ASCII 字符，IMAP 登录无法传送；请改用邮箱的客户端授权码"
                               f"（环境变量 {PASSWORD_ENV}）")
        try:
            client.login(settings.user, settings.password or "")
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"收件邮箱登录失败，请检查 IMAP账号 和密码（环境变量 {PASSWORD_ENV}）") from exc
        status, _ = client.select(settings.folder)
        if status != "OK":
            raise MailboxError(f"邮箱中没有文件夹“{settings.folder}”")
        status, data = client.uid("SEARCH", None, "UNSEEN")
        uids = data[0].split() if status == "OK" and data and data[0] else []
        inbox.mkdir(parents=True, exist_ok=True)
        for uid in uids:
            status, parts = client.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])")
            part = next((p for p in parts or [] if isinstance(p, tuple) and len(p) > 1), None)
            if status != "OK" or part is None or not _has_attachment(part[1]):
                continue
            raw = received_line(part[0]) + part[1]
            path = inbox / f"{hashlib.sha256(raw).hexdigest()[:16]}.eml"
            if not path.exists():
                tmp = path.with_name(path.name + ".part")
                tmp.write_bytes(raw)
                os.replace(tmp, path)
            client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            saved.append(path)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"收取邮件时出错（{type(exc).__name__}：{exc}），已保存的邮件不受影响") from exc
    finally:
        try:
            client.logout()
        except Exception:  # the connection may already be gone; nothing to clean up
            pass
    return saved


def received_line(response: bytes) -> bytes:
    """A ``Received:`` line dated with the server's INTERNALDATE of the message (when the
    office's mailbox took it), put on top of the saved message: collect takes the receipt
    time from the top Received line, never from the sender's Date. Empty when the server
    gave no INTERNALDATE."""
    import time
    from email.utils import formatdate

    stamp = imaplib.Internaldate2tuple(response)
    if stamp is None:
        return b""
    return f"Received: by duban (IMAP INTERNALDATE); {formatdate(time.mktime(stamp), localtime=True)}\r\n".encode("ascii")


def _connect(s: ImapSettings, timeout: float) -> imaplib.IMAP4:
    security = s.security.upper()
    if security == "SSL":
        return imaplib.IMAP4_SSL(s.host, s.port, ssl_context=ssl.create_default_context(), timeout=timeout)
    client = imaplib.IMAP4(s.host, s.port, timeout=timeout)
    if security == "STARTTLS":
        client.starttls(ssl_context=ssl.create_default_context())
    return client


def _has_attachment(raw: bytes) -> bool:
    """Whether a message carries attachments. One that cannot even be taken apart (nested a
    thousand deep, say) is saved as well: collect then reports it by name, instead of the
    fetch stopping on it every time."""
    from .returns import parse_message

    try:
        msg, _delimiters = parse_message(raw)  # a flood costs its first parts only, here as in collect
        return any(True for _ in msg.iter_attachments())
    except Exception:  # noqa: BLE001 - any failure here is that message's, never the fetch's
        return True
