"""``duban send`` against a real SMTP server (aiosmtpd on localhost) and as .eml files."""

from __future__ import annotations

import email
import socket
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from xl_duban.io.ledger_store import LedgerStore
from xl_duban.io.archive import archive_dir
from xl_duban.services import import_files, issue_workbooks, remind_units, send_workbooks

from .conftest import NOW, add_targets

UNITS = {"区财政局": "unit003@yuancheng.example", "区教育局": "unit022@yuancheng.example"}


class Recorder:
    """An SMTP handler that keeps every message; ``fail_first`` temporary failures first."""

    def __init__(self, fail_first: int = 0) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.fail_first = fail_first

    async def handle_DATA(self, server, session, envelope):
        if self.fail_first:
            self.fail_first -= 1
            return "451 4.3.0 请稍后重试"
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    def start(handler: Recorder):
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        started.append(controller)
        return controller

    started: list[Controller] = []
    yield start
    for c in started:
        c.stop()


@pytest.fixture
def issued(ledger, tmp_path, monkeypatch):
    monkeypatch.setenv("XL_DUBAN_CONFIG_DIR", str(tmp_path / "config"))
    tasks = tmp_path / "tasks.csv"
    tasks.write_text("序号,工作任务,责任领导,牵头单位\n1,做好财政收支。,曹新华,区财政局\n2,办好教育。,邓彬斌,区教育局\n"
                     "3,财政教育联动。,曹新华,区财政局、区教育局\n", encoding="utf-8")
    assert import_files(ledger, [tasks], now=NOW).exit_code == 0
    add_targets(ledger, "2022Q1")
    assert issue_workbooks(ledger, "2022Q1", tmp_path / "下发", now=NOW).exit_code == 0
    return ledger


def configure(ledger: Path, port: int) -> None:
    store = LedgerStore(ledger)
    led, _ = store.load()
    for key, value in (("SMTP服务器", "127.0.0.1"), ("SMTP端口", port), ("SMTP加密", "无"), ("发件人", "duban@yuancheng.example")):
        led.set_setting(key, value)
    store.save(led, now=NOW)


def parsed(raw: bytes):
    msg = email.message_from_bytes(raw, policy=policy.default)
    [part] = list(msg.iter_attachments())
    return msg, part


def statuses(ledger: Path) -> dict[str, str]:
    led, _ = LedgerStore(ledger).load()
    return {s.unit: s.send_status for s in led.submissions if s.period == "2022Q1"}


def test_smtp_sends_each_unit_its_own_workbook(issued, smtp):
    handler = Recorder()
    controller = smtp(handler)
    configure(issued, controller.port)
    outcome = send_workbooks(issued, "2022Q1", now=NOW, smtp=True)
    assert outcome.exit_code == 0, outcome.findings
    assert outcome.summary["sent"] == 2
    by_rcpt = {tuple(rcpt): raw for rcpt, raw in handler.messages}
    assert set(by_rcpt) == {(addr,) for addr in UNITS.values()}
    for unit, addr in UNITS.items():
        msg, part = parsed(by_rcpt[(addr,)])
        assert msg["Subject"] == f"【督办】请于2022年4月10日前报送2022年第一季度重点任务落实情况（{unit}）"
        assert msg["From"] == "duban@yuancheng.example"
        assert part.get_filename() == f"2022Q1_{unit}_重点任务反馈表.xlsx"
        archived = archive_dir(issued, "2022Q1", unit) / part.get_filename()
        assert part.get_content() == archived.read_bytes()
        assert "2022年4月10日" in msg.get_body(("plain",)).get_content()
    assert statuses(issued) == {unit: "已发送" for unit in UNITS}


def test_send_is_idempotent_unless_resend(issued, smtp):
    handler = Recorder()
    configure(issued, smtp(handler).port)
    send_workbooks(issued, "2022Q1", now=NOW, smtp=True)
    again = send_workbooks(issued, "2022Q1", now=NOW, smtp=True)
    assert again.summary["skipped"] == 2 and again.summary["sent"] == 0
    assert len(handler.messages) == 2
    forced = send_workbooks(issued, "2022Q1", now=NOW, smtp=True, resend=True)
    assert forced.summary["sent"] == 2 and len(handler.messages) == 4


def test_temporary_failure_is_retried_with_backoff(issued, smtp):
    handler = Recorder(fail_first=1)
    configure(issued, smtp(handler).port)
    waits: list[float] = []
    outcome = send_workbooks(issued, "2022Q1", now=NOW, smtp=True, sleep=waits.append)
    assert outcome.summary["sent"] == 2 and waits == [1]
    assert len(handler.messages) == 2


def test_persistent_failure_is_recorded_and_reported(issued, smtp):
    handler = Recorder(fail_first=100)
    configure(issued, smtp(handler).port)
    waits: list[float] = []
    outcome = send_workbooks(issued, "2022Q1", now=NOW, smtp=True, sleep=waits.append)
    assert outcome.exit_code == 1 and outcome.summary["failed"] == 2
    assert {f.code for f in outcome.findings} == {"send-failed"}
    assert waits == [1, 2, 1, 2]  # three attempts per unit
    led, _ = LedgerStore(issued).load()
    rows = [s for s in led.submissions if s.period == "2022Q1"]
    assert {s.send_status for s in rows} == {"发送失败"} and all("已重试 3 次" in s.problem for s in rows)


def test_eml_files_and_missing_address(issued, tmp_path):
    store = LedgerStore(issued)
    led, _ = store.load()
    next(u for u in led.units if u.name == "区教育局").email = ""
    store.save(led, now=NOW)
    outcome = send_workbooks(issued, "2022Q1", now=NOW, eml_dir=tmp_path / "eml")
    assert outcome.summary["eml"] == 1
    assert [(f.code, f.level.value) for f in outcome.findings] == [("no-email", "警告")]
    [eml] = list((tmp_path / "eml").glob("*.eml"))
    msg, part = parsed(eml.read_bytes())
    assert msg["To"] == UNITS["区财政局"]
    assert part.get_content() == (archive_dir(issued, "2022Q1", "区财政局") / part.get_filename()).read_bytes()
    assert statuses(issued) == {"区财政局": "已生成邮件", "区教育局": "无邮箱"}


def test_smtp_needs_settings(issued):
    outcome = send_workbooks(issued, "2022Q1", now=NOW, smtp=True)
    assert outcome.exit_code == 2 and outcome.findings[-1].code == "smtp-not-configured"


# -- 催办 -----------------------------------------------------------------------------------------------------------
def test_remind_lists_only_before_the_deadline(issued, tmp_path):
    outcome = remind_units(issued, "2022Q1", now=NOW, eml_dir=tmp_path / "eml")  # NOW is 2022-03-01, due 04-10
    assert outcome.summary["pending"] == list(UNITS) and outcome.summary["reminded"] == 0
    assert [f.code for f in outcome.findings] == ["too-early"]
    assert not (tmp_path / "eml").exists()


def test_remind_days_before_writes_reminders_and_records_them(issued, tmp_path):
    outcome = remind_units(issued, "2022Q1", now=NOW, days_before=45, eml_dir=tmp_path / "eml")
    assert outcome.summary["reminded"] == 2
    subjects = sorted(parsed(p.read_bytes())[0]["Subject"] for p in (tmp_path / "eml").glob("*.eml"))
    assert subjects == [f"【催办】{u}：2022年第一季度重点任务落实情况尚未报送（将于2022年4月10日截止）" for u in sorted(UNITS)]
    led, _ = LedgerStore(issued).load()
    assert {s.unit: s.problem for s in led.submissions} == {u: "2022-03-01已催办" for u in UNITS}
    assert sorted(e.object for e in led.changelog if e.action == "催办") == sorted(UNITS)


def test_remind_after_deadline_skips_units_that_returned(issued, smtp):
    handler = Recorder()
    configure(issued, smtp(handler).port)
    store = LedgerStore(issued)
    led, _ = store.load()
    next(s for s in led.submissions if s.unit == "区财政局").status = "已报送"
    store.save(led, now=NOW)
    late = NOW.replace(month=4, day=12)
    outcome = remind_units(issued, "2022Q1", now=late, smtp=True)
    assert outcome.summary["pending"] == ["区教育局"] and outcome.summary["reminded"] == 1
    [(rcpt, raw)] = handler.messages
    msg, part = parsed(raw)
    assert rcpt == [UNITS["区教育局"]]
    assert msg["Subject"] == "【催办】区教育局：2022年第一季度重点任务落实情况尚未报送（已于2022年4月10日截止）"
    assert part.get_filename() == "2022Q1_区教育局_重点任务反馈表.xlsx"


def test_remind_without_transport_only_lists(issued):
    before = LedgerStore(issued).load()[0].changelog
    outcome = remind_units(issued, "2022Q1", now=NOW.replace(month=5))
    assert outcome.summary["pending"] == list(UNITS) and outcome.summary["reminded"] == 0
    assert len(LedgerStore(issued).load()[0].changelog) == len(before)
