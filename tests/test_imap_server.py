"""The real-IMAP fixture itself, checked with nothing but ``imaplib``: login, delivery as UNSEEN, byte-exact
FETCH of an .xlsx attachment, \\Seen that sticks across connections, refused wrong passwords."""

from __future__ import annotations

import email
import email.policy
import imaplib
import io
import socket
import zipfile
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Iterator

import pytest

import tests.imap_server as imap_module
from tests.imap_server import ImapServer, imap_server  # noqa: F401  (``imap_server`` is a fixture)

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
XLSX_NAME = "反馈表.xlsx"


def xlsx_like_bytes() -> bytes:
    """A small zip shaped like an .xlsx, with a stored member holding every byte value."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types/>')
        z.writestr("xl/workbook.xml", "<workbook><sheets><sheet name=\"反馈表\"/></sheets></workbook>",
                   compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("xl/media/blob.bin", bytes(range(256)) * 8, compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()


def make_message(subject: str, body: str, attachment: bytes | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = "区经信局 <unit@example.com>"
    msg["To"] = "督办 <duban@example.com>"
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="example.com")
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(attachment, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=XLSX_NAME)
    return msg.as_bytes(policy=email.policy.SMTP)  # CRLF line ends, as on the wire


@contextmanager
def logged_in(server: ImapServer) -> Iterator[imaplib.IMAP4]:
    client = imaplib.IMAP4(server.host, server.port, timeout=10)
    try:
        typ, _ = client.login(server.user, server.password)
        assert typ == "OK"
        typ, _ = client.select("INBOX")
        assert typ == "OK"
        yield client
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def search(client: imaplib.IMAP4, criterion: str) -> list[bytes]:
    typ, data = client.search(None, criterion)
    assert typ == "OK"
    return data[0].split()


def test_login_over_plain_imap_on_a_private_port(imap_server: ImapServer) -> None:
    assert imap_server.host == "127.0.0.1"
    assert imap_server.port != 143 and 1024 < imap_server.port < 65536
    client = imaplib.IMAP4(imap_server.host, imap_server.port, timeout=10)
    try:
        assert client.welcome.startswith(b"* OK")
        typ, data = client.login(imap_server.user, imap_server.password)
        assert typ == "OK", data
        typ, data = client.select("INBOX")
        assert (typ, data) == ("OK", [b"0"])
    finally:
        client.logout()


def test_delivered_messages_are_unseen_and_fetch_is_byte_exact(imap_server: ImapServer) -> None:
    attachment = xlsx_like_bytes()
    plain = make_message("通知", "请于本周五前反馈。")
    with_xlsx = make_message("反馈表", "见附件。", attachment)
    imap_server.deliver(plain)
    imap_server.deliver(with_xlsx)

    with logged_in(imap_server) as client:
        assert search(client, "UNSEEN") == [b"1", b"2"]
        assert search(client, "ALL") == [b"1", b"2"]
        typ, data = client.fetch(b"2", "(RFC822)")
        assert typ == "OK"
        raw = data[0][1]
    assert raw == with_xlsx

    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(parsed["Subject"]) == "反馈表"
    parts = list(parsed.iter_attachments())
    assert len(parts) == 1
    assert parts[0].get_filename() == XLSX_NAME
    assert parts[0].get_content_type() == "/".join(XLSX_TYPE)
    assert parts[0].get_payload(decode=True) == attachment


def test_seen_flag_sticks_across_connections(imap_server: ImapServer) -> None:
    imap_server.deliver(make_message("一", "1"))
    imap_server.deliver(make_message("二", "2", xlsx_like_bytes()))

    with logged_in(imap_server) as client:
        assert len(search(client, "UNSEEN")) == 2
        typ, _ = client.store("1:*", "+FLAGS", "(\\Seen)")
        assert typ == "OK"
        assert search(client, "UNSEEN") == []
        assert search(client, "SEEN") == [b"1", b"2"]

    with logged_in(imap_server) as client:
        assert search(client, "UNSEEN") == []
        assert search(client, "ALL") == [b"1", b"2"]


def test_fetch_rfc822_marks_seen_but_body_peek_does_not(imap_server: ImapServer) -> None:
    """What an IMAP client relies on: FETCH RFC822 sets \\Seen (RFC 3501), BODY.PEEK[] leaves it."""
    imap_server.deliver(make_message("一", "1"))
    imap_server.deliver(make_message("二", "2"))
    with logged_in(imap_server) as client:
        client.fetch(b"1", "(BODY.PEEK[])")
        assert search(client, "UNSEEN") == [b"1", b"2"]
        client.fetch(b"1", "(RFC822)")
        assert search(client, "UNSEEN") == [b"2"]


def test_delivery_during_an_open_session_shows_up(imap_server: ImapServer) -> None:
    with logged_in(imap_server) as client:
        assert search(client, "ALL") == []
        imap_server.deliver(make_message("迟到的", "late"))
        client.noop()
        assert search(client, "UNSEEN") == [b"1"]


def test_wrong_password_and_unknown_user_are_refused(imap_server: ImapServer) -> None:
    for user, password in ((imap_server.user, imap_server.password + "x"), ("nobody-here", imap_server.password)):
        client = imaplib.IMAP4(imap_server.host, imap_server.port, timeout=10)
        try:
            with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED|[Aa]uthentication failed"):
                client.login(user, password)
        finally:
            client.shutdown()
    with logged_in(imap_server) as client:  # no lock-out afterwards
        assert search(client, "ALL") == []


def test_stop_frees_the_port_and_is_idempotent(imap_server: ImapServer) -> None:
    port = imap_server.port
    assert imap_server.running
    assert "143" not in (imap_server.root / "dovecot.conf").read_text()
    imap_server.stop()
    imap_server.stop()
    assert not imap_server.running
    with pytest.raises(OSError):
        socket.create_connection((imap_server.host, port), timeout=2).close()


def test_require_dovecot_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imap_module, "dovecot_unavailable_reason", lambda: "`dovecot` not found")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        imap_module.require_dovecot()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        imap_module.require_dovecot()
