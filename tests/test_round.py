"""A full round on the demo data: issue → send to a real SMTP server → the units' replies
(simulated, mailed back as .eml) → collect; and the same from a real IMAP mailbox."""

from __future__ import annotations

import email
from datetime import date, datetime, timedelta
from email import policy
from pathlib import Path

import pytest

from xl_duban.demo import build_ledger
from xl_duban.domain.lights import normalize_completion, normalize_light
from xl_duban.io.ledger_store import LedgerStore
from xl_duban.io.returns import CHINA
from xl_duban.services import collect_returns, issue_workbooks, send_workbooks
from xl_duban.simulation import reply_eml, simulate_round

from .conftest import NOW, add_targets
from .imap_server import ImapServer, imap_server  # noqa: F401  (fixture)
from .test_send import Recorder, smtp  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("config_dir")

PERIOD = "2022Q2"
ISSUED = datetime(2022, 6, 24, 9, 0)
COLLECTED = datetime(2022, 7, 15, 9, 0)
OFFICE = "duchashi@yuancheng.example"


@pytest.fixture(scope="module")
def demo_sources(tmp_path_factory) -> Path:
    """The demo's ledger after import (built once; each test works on a copy)."""
    out = tmp_path_factory.mktemp("demo")
    ledger, _sources, imported, _checked = build_ledger(out, now=NOW)
    assert not imported.unreadable
    return ledger


@pytest.fixture
def ledger(demo_sources, tmp_path) -> Path:
    path = tmp_path / demo_sources.name
    path.write_bytes(demo_sources.read_bytes())
    add_targets(path, PERIOD)
    return path


def settings(ledger: Path, **values) -> None:
    store = LedgerStore(ledger)
    led, _ = store.load()
    for key, value in values.items():
        led.set_setting(key, value)
    store.save(led, now=NOW)


def issued_by_mail(messages: list[tuple[list[str], bytes]], ledger: Path, folder: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """What each unit received: its workbook saved from the mail, keyed by the unit whose
    address the mail went to (as 单位名录 says)."""
    led, _ = LedgerStore(ledger).load()
    owner = {u.email: u.name for u in led.units}
    files = {}
    for rcpt, raw in messages:
        msg = email.message_from_bytes(raw, policy=policy.default)
        [part] = list(msg.iter_attachments())
        path = folder / part.get_filename()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(part.get_payload(decode=True))
        files[owner[rcpt[0]]] = path
    return files, {u.name: u.email for u in led.units}


def snapshot(ledger: Path) -> dict:
    led, _ = LedgerStore(ledger).load()
    return {name: [r.model_dump() for r in getattr(led, name)]
            for name in ("tasks", "targets", "lights", "units", "settings", "holidays", "feedback", "submissions")}


def test_full_round_issue_send_reply_collect(ledger, smtp, tmp_path):
    handler = Recorder()
    server = smtp(handler)
    settings(ledger, SMTP服务器="127.0.0.1", SMTP端口=server.port, SMTP加密="无", 发件人=OFFICE)
    issued = issue_workbooks(ledger, PERIOD, tmp_path / "下发", now=ISSUED)
    assert issued.exit_code == 0
    sent = send_workbooks(ledger, PERIOD, now=ISSUED, smtp=True, sleep=lambda s: None)
    assert sent.summary["sent"] == len(issued.summary["workbooks"]) == len(handler.messages)
    files, emails = issued_by_mail(handler.messages, ledger, tmp_path / "各单位收到")
    replies, roles = simulate_round(files, PERIOD, date.fromisoformat(issued.summary["due"]), emails, tmp_path / "单位端")
    assert None not in (roles.missing, roles.tampered, roles.misrouted) and len(roles.late) == 2
    inbox = tmp_path / "收件箱"
    for reply in replies:
        reply_eml(reply, OFFICE, inbox)
    before = snapshot(ledger)
    outcome = collect_returns(ledger, [inbox], now=COLLECTED)

    # 反馈记录 holds exactly the values of the accepted replies, normalised, and nothing else
    accepted = [r for r in replies if r.unit not in (roles.tampered, roles.misrouted)]
    expected = sorted(
        (task, r.unit, normalize_completion(a["完成情况"]).value, a["进展情况"], a["存在问题及原因分析"],
         a["下一步工作计划和意见建议"], normalize_light(a["自评灯色"]).value, r.received_at, "是" if r.unit in roles.late else "否")
        for r in accepted for task, a in r.answers.items())
    led, _ = LedgerStore(ledger).load()
    got = sorted((f.task_id, f.unit, f.completion, f.progress, f.problems, f.plan, f.self_light, f.received_at, f.late)
                 for f in led.feedback)
    assert got == expected
    # each case reported with its code, naming the right unit
    by_code: dict[str, set[str]] = {}
    for entry in outcome.summary["files"]:
        for code in entry["codes"]:
            by_code.setdefault(code, set()).add(entry["unit"])
    assert by_code["late-return"] == set(roles.late)
    assert by_code["locked-cell-edited"] == {roles.tampered}
    assert by_code["wrong-unit"] == {roles.misrouted}
    missing = {f.subject for f in outcome.findings if f.code == "missing-return"}
    assert missing == {f"{PERIOD} {u}" for u in (roles.missing, roles.tampered, roles.misrouted)}
    # nothing else changed: only 报送情况 of the accepted units
    after = snapshot(ledger)
    for name in ("tasks", "targets", "lights", "units", "settings", "holidays"):
        assert after[name] == before[name], name
    changed = {a["unit"] for a, b in zip(after["submissions"], before["submissions"]) if a != b}
    assert changed == {r.unit for r in accepted}
    states = {s.unit: s.status for s in led.submissions}
    assert {u for u, s in states.items() if s == "逾期报送"} == set(roles.late)
    # the same inbox again: not one byte changes
    data = ledger.read_bytes()
    again = collect_returns(ledger, [inbox], now=COLLECTED)
    assert again.summary["skipped"] == len(replies) and ledger.read_bytes() == data


def test_collect_from_a_real_imap_mailbox(ledger, imap_server: ImapServer, tmp_path, monkeypatch):
    settings(ledger, IMAP服务器=imap_server.host, IMAP端口=imap_server.port, IMAP加密="无", IMAP账号=imap_server.user)
    monkeypatch.setenv("DUBAN_IMAP_PASSWORD", imap_server.password)
    issued = issue_workbooks(ledger, PERIOD, tmp_path / "下发", now=ISSUED)
    led, _ = LedgerStore(ledger).load()
    emails = {u.name: u.email for u in led.units}
    files = {w["unit"]: Path(w["file"]) for w in issued.summary["workbooks"]}
    replies, roles = simulate_round(files, PERIOD, date.fromisoformat(issued.summary["due"]), emails, tmp_path / "单位端")
    # the server took each message an hour after the unit's clock and the simulated Received line
    # say: the receipt time is the mailbox's INTERNALDATE
    taken = {r.unit: r.received_at + timedelta(hours=1) for r in replies[:3]}
    for reply in replies[:3]:
        imap_server.deliver(reply_eml(reply, OFFICE, tmp_path / "发出").read_bytes(),
                            received_at=taken[reply.unit].replace(tzinfo=CHINA).timestamp())
    imap_server.deliver(b"From: a@b.example\r\nSubject: ok\r\n\r\nreceived, thanks\r\n")  # no attachment: left unread
    outcome = collect_returns(ledger, [], now=COLLECTED, imap=True)
    assert outcome.summary["fetched"] == 3
    assert outcome.summary["accepted"] + outcome.summary["rejected"] == 3
    assert {e["unit"] for e in outcome.summary["files"]} == {r.unit for r in replies[:3]}
    assert {e["unit"]: e["received_at"] for e in outcome.summary["files"]} == {
        u: t.isoformat(sep=" ", timespec="minutes") for u, t in taken.items()}
    assert len(list((ledger.parent / "inbox").glob("*.eml"))) == 3
    # fetched messages are marked seen on the server; the second run fetches nothing and changes nothing
    data = ledger.read_bytes()
    again = collect_returns(ledger, [], now=COLLECTED, imap=True)
    assert again.summary["fetched"] == 0 and ledger.read_bytes() == data
    import imaplib
    client = imaplib.IMAP4(imap_server.host, imap_server.port)
    client.login(imap_server.user, imap_server.password)
    client.select("INBOX")
    assert len(client.search(None, "UNSEEN")[1][0].split()) == 1  # only the reply without attachment
    client.logout()
