"""``duban collect``: returned workbooks checked, merged exactly, or quarantined with a finding."""

from __future__ import annotations

import hashlib
import json
import os
import random
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import openpyxl
import pytest

from xl_duban.io.ledger_store import LedgerStore
from xl_duban.io.returns import CHINA, gather
from xl_duban.reports import summary_lines
from xl_duban.samples import fill_return
from xl_duban.services import collect_returns, init_ledger, issue_workbooks

from .conftest import ISSUED_AT, NOW, run_json
from .office import office  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("config_dir")

UNIT = "区发展和改革局"
UNIT_MAIL = "unit001@yuancheng.example"


FATE_SHEETS = {"报送情况", "变更日志", "校验结果", "收集报告"}  # where a refused return's fate is recorded


def content(ledger: Path) -> dict[str, list[tuple]]:
    """Every sheet but those recording a return's fate: what a refused file must never change."""
    wb = openpyxl.load_workbook(ledger, read_only=True)
    return {name: list(wb[name].iter_rows(values_only=True)) for name in wb.sheetnames if name not in FATE_SHEETS}


def assert_refused(ledger: Path, before: dict, unit: str, reason: str) -> None:
    """The ledger's content as it was; 报送情况 says 退回 with the time and the reason."""
    assert content(ledger) == before
    row = next(s for s in LedgerStore(ledger).load()[0].submissions if s.period == "2022Q2" and s.unit == unit)
    assert row.status == "退回" and reason in row.problem and " 退回：" in row.problem, row
OTHER_MAIL = "unit003@yuancheng.example"  # 区财政局
ON_TIME = datetime(2022, 7, 8, 16, 20)
LATE = datetime(2022, 7, 12, 9, 5)
COLLECT_AT = datetime(2022, 7, 13, 10, 0)


@pytest.fixture
def issued(planned_ledger, tmp_path) -> tuple[Path, Path, list[str]]:
    """2022Q2 issued to every lead unit; returns (ledger, this unit's workbook, its task ids)."""
    out = tmp_path / "下发"
    assert issue_workbooks(planned_ledger, "2022Q2", out, now=ISSUED_AT).exit_code == 0
    workbook = out / f"2022Q2_{UNIT}_重点任务反馈表.xlsx"
    return planned_ledger, workbook, task_ids_of(workbook)


def task_ids_of(workbook: Path) -> list[str]:
    """The 任务编号 column of an issued feedback form, as the unit sees it."""
    ws = openpyxl.load_workbook(workbook, read_only=True)["反馈表"]
    return [r[0] for r in ws.iter_rows(min_row=6, values_only=True) if r and r[0]]


def received(path: Path, when: datetime) -> Path:
    """Set the file's time as the moment it was saved from the mail (Beijing time)."""
    stamp = when.replace(tzinfo=CHINA).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def as_eml(workbook: Path, out: Path, sender: str, when: datetime, dated: datetime | None = None) -> Path:
    """The message as the office's mail server stored it: received at ``when`` (its top
    Received line), dated ``dated`` by the sender's computer (``when`` unless told)."""
    msg = EmailMessage()
    msg["Received"] = f"from unit.example by mail.yuancheng.example; {format_datetime(when.replace(tzinfo=CHINA))}"
    msg["From"], msg["To"], msg["Subject"] = sender, "duchashi@yuancheng.example", "回复：反馈表"
    msg["Date"] = format_datetime((dated or when).replace(tzinfo=CHINA))
    msg.set_content("反馈表已填好，请查收。")
    msg.add_attachment(workbook.read_bytes(), maintype="application", subtype="octet-stream", filename=workbook.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(bytes(msg))
    return out


def answers_for(ids: list[str]) -> dict[str, dict[str, object]]:
    return {
        ids[0]: {"完成情况": "完成", "进展情况": "二季度GDP增长6.2%。\n固定资产投资增长8%。", "存在问题及原因分析": "无",
                 "下一步工作计划和意见建议": "继续抓好项目建设。", "自评灯色": "绿"},
        ids[1]: {"完成情况": "未完成", "进展情况": "园区规划已报批，尚未批复。", "存在问题及原因分析": "审批周期长",
                 "下一步工作计划和意见建议": "跟进省厅。", "自评灯色": "Y"},
    }


def feedback_rows(ledger: Path, period: str = "2022Q2") -> list[tuple]:
    led, _ = LedgerStore(ledger).load()
    return [(f.task_id, f.unit, f.completion, f.progress, f.problems, f.plan, f.self_light, f.received_at, f.late,
             f.file_hash) for f in led.feedback if f.period == period]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_accepts_exactly_the_typed_values_and_a_second_run_changes_nothing(issued, tmp_path):
    ledger, workbook, ids = issued
    inbox = tmp_path / "收件"
    back = received(fill_return(workbook, inbox / workbook.name, answers_for(ids)), ON_TIME)
    outcome = collect_returns(ledger, [inbox], now=COLLECT_AT)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings if f.level.value == "错误"]
    assert (outcome.summary["accepted"], outcome.summary["rejected"], outcome.summary["added"]) == (1, 0, 2)
    digest = sha(back)
    assert feedback_rows(ledger) == [
        (ids[0], UNIT, "已完成", "二季度GDP增长6.2%。\n固定资产投资增长8%。", "无", "继续抓好项目建设。", "绿灯", ON_TIME, "否", digest),
        (ids[1], UNIT, "未完成", "园区规划已报批，尚未批复。", "审批周期长", "跟进省厅。", "黄灯", ON_TIME, "否", digest),
    ]
    led, _ = LedgerStore(ledger).load()
    row = next(s for s in led.submissions if s.period == "2022Q2" and s.unit == UNIT)
    assert (row.status, row.received_at) == ("已报送", ON_TIME)
    # the untouched tasks of the file are reported, not invented
    empty = {f.row for f in outcome.findings if f.code == "empty-row"}
    assert len(empty) == len(ids) - 2
    # archived by hash; the collection report lists the file; units not yet returned are listed
    archived = ledger.parent / "archive" / "2022Q2" / UNIT / "收回" / f"{digest[:12]}_{workbook.name}"
    assert archived.read_bytes() == back.read_bytes()
    report = openpyxl.load_workbook(ledger)["收集报告"]
    assert [c.value for c in report[4]][:4] == [workbook.name, UNIT, "2022Q2", "已接收"]
    missing = [f for f in outcome.findings if f.code == "missing-return"]
    assert len(missing) == len([s for s in led.submissions if s.period == "2022Q2"]) - 1
    assert all(f.level.value == "警告" for f in missing)  # past the 7-10 deadline
    before = ledger.read_bytes()
    again = collect_returns(ledger, [inbox], now=COLLECT_AT)
    assert again.summary["skipped"] == 1 and again.summary["accepted"] == 0
    assert ledger.read_bytes() == before


def test_typed_line_breaks_are_unified_and_stray_control_characters_dropped(issued, tmp_path):
    """Text pasted from other programs brings \\r line ends and control characters (C0, DEL,
    C1); the ledger keeps what a clerk sees: \\n line breaks, no invisible characters, no
    spaces at either end. Plain answers in the same file are kept exactly."""
    ledger, workbook, ids = issued
    answers = answers_for(ids)
    answers[ids[0]]["进展情况"] = "  第一行\r\n第二行\r第三行\x7f  "
    answers[ids[1]]["存在问题及原因分析"] = "审批\x85周期\x9f长\t（待省厅）"
    back = received(fill_return(workbook, tmp_path / "收件" / workbook.name, answers), ON_TIME)
    outcome = collect_returns(ledger, [back.parent], now=COLLECT_AT)
    assert outcome.summary["accepted"] == 1, [f.text() for f in outcome.findings if f.level.value == "错误"]
    rows = {r[0]: r for r in feedback_rows(ledger)}
    assert rows[ids[0]][3] == "第一行\n第二行\n第三行"
    assert rows[ids[1]][4] == "审批周期长\t（待省厅）"
    assert rows[ids[1]][3] == "园区规划已报批，尚未批复。"


def test_a_newer_return_replaces_the_older_and_the_old_values_are_logged(issued, tmp_path):
    ledger, workbook, ids = issued
    first, second = answers_for(ids), answers_for(ids)
    second[ids[1]] = {**second[ids[1]], "完成情况": "已完成", "进展情况": "园区规划已获批复。", "自评灯色": "绿灯"}
    inbox = tmp_path / "收件"
    # the later file sorts first by name: order of reading must not matter, receipt time does
    received(fill_return(workbook, inbox / "a_更正.xlsx", second), LATE)
    received(fill_return(workbook, inbox / "b_初报.xlsx", first), ON_TIME)
    outcome = collect_returns(ledger, [inbox], now=COLLECT_AT)
    assert outcome.summary["accepted"] == 2 and outcome.summary["late"] == 1
    rows = {r[0]: r for r in feedback_rows(ledger)}
    assert rows[ids[1]][2:9] == ("已完成", "园区规划已获批复。", "审批周期长", "跟进省厅。", "绿灯", LATE, "是")
    assert rows[ids[0]][7:9] == (LATE, "是")  # the whole later file replaces the earlier one
    assert any(f.code == "late-return" for f in outcome.findings)
    led, _ = LedgerStore(ledger).load()
    log = {(e.object, e.field): (e.old, e.new) for e in led.changelog if e.action == "更新反馈"}
    assert log[(ids[1], f"2022Q2 {UNIT} 完成情况")] == ("未完成", "已完成")
    assert log[(ids[1], f"2022Q2 {UNIT} 进展情况")] == ("园区规划已报批，尚未批复。", "园区规划已获批复。")
    assert next(s for s in led.submissions if s.unit == UNIT and s.period == "2022Q2").status == "逾期报送"


def test_an_older_file_arriving_later_changes_nothing(issued, tmp_path):
    ledger, workbook, ids = issued
    newer, older = answers_for(ids), answers_for(ids)
    older[ids[0]] = {**older[ids[0]], "进展情况": "旧稿"}
    received(fill_return(workbook, tmp_path / "1" / "新.xlsx", newer), LATE)
    received(fill_return(workbook, tmp_path / "2" / "旧.xlsx", older), ON_TIME)
    collect_returns(ledger, [tmp_path / "1"], now=COLLECT_AT)
    before = feedback_rows(ledger)
    outcome = collect_returns(ledger, [tmp_path / "2"], now=COLLECT_AT)
    assert outcome.summary["accepted"] == 1 and outcome.summary["added"] == outcome.summary["replaced"] == 0
    assert feedback_rows(ledger) == before


def test_eml_attachments_use_the_servers_receipt_time_and_the_same_bytes_twice_count_once(issued, tmp_path):
    ledger, workbook, ids = issued
    filled = fill_return(workbook, tmp_path / "填好" / workbook.name, answers_for(ids))
    inbox = tmp_path / "收件"
    as_eml(filled, inbox / "回复1.eml", UNIT_MAIL, ON_TIME)
    received(Path(inbox / workbook.name).write_bytes(filled.read_bytes()) and inbox / workbook.name, LATE)
    outcome = collect_returns(ledger, [inbox], now=COLLECT_AT)
    assert (outcome.summary["accepted"], outcome.summary["skipped"]) == (1, 1)
    assert {r[7] for r in feedback_rows(ledger)} == {ON_TIME}  # from the top Received line, not the file time


def tamper_lock(workbook: Path, out: Path, ids: list[str]) -> Path:
    answers = answers_for(ids)
    answers[ids[1]]["节点目标"] = "目标改小了"
    return fill_return(workbook, out, answers)


def tamper_meta(workbook: Path, out: Path, ids: list[str]) -> Path:
    fill_return(workbook, out, answers_for(ids))
    wb = openpyxl.load_workbook(out)
    wb["_duban"]["B4"] = "区财政局"  # claims to be another unit's file
    wb.save(out)
    return out


def drop_meta(workbook: Path, out: Path, ids: list[str]) -> Path:
    fill_return(workbook, out, answers_for(ids))
    wb = openpyxl.load_workbook(out)
    del wb["_duban"]
    wb.save(out)
    return out


def drop_row(workbook: Path, out: Path, ids: list[str]) -> Path:
    fill_return(workbook, out, answers_for(ids))
    wb = openpyxl.load_workbook(out)
    wb["反馈表"].delete_rows(7)
    wb.save(out)
    return out


def extra_row(workbook: Path, out: Path, ids: list[str]) -> Path:
    fill_return(workbook, out, answers_for(ids))
    wb = openpyxl.load_workbook(out)
    ws = wb["反馈表"]
    ws.cell(ws.max_row + 1, 6).value = "另有一项工作也已完成。"
    wb.save(out)
    return out


def bad_choice(workbook: Path, out: Path, ids: list[str]) -> Path:
    answers = answers_for(ids)
    answers[ids[0]]["自评灯色"] = "紫灯"
    return fill_return(workbook, out, answers)


def blank(workbook: Path, out: Path, ids: list[str]) -> Path:
    return fill_return(workbook, out, {})


def garbage(workbook: Path, out: Path, ids: list[str]) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"PK\x03\x04" + random.Random(7).randbytes(3000))
    return out


REJECTIONS = {
    "locked-cell-edited": tamper_lock,
    "bad-signature": tamper_meta,
    "unsigned-file": drop_meta,
    "task-row-missing": drop_row,
    "unexpected-row": extra_row,
    "invalid-choice": bad_choice,
    "empty-return": blank,
    "unreadable-file": garbage,
}


UNPROVEN = {"unreadable-file", "bad-signature", "unsigned-file"}  # the file proves no issue, so it names no unit


@pytest.mark.parametrize("code", sorted(REJECTIONS))
def test_each_rejection_leaves_the_ledger_byte_identical(issued, tmp_path, code):
    ledger, workbook, ids = issued
    inbox = tmp_path / "收件"
    bad = received(REJECTIONS[code](workbook, inbox / workbook.name, ids), ON_TIME)
    before, before_bytes = content(ledger), ledger.read_bytes()
    outcome = collect_returns(ledger, [inbox], now=COLLECT_AT)
    assert outcome.exit_code == 1 and outcome.summary["rejected"] == 1
    found = [f for f in outcome.findings if f.code == code]
    assert found and all(f.file == workbook.name and f.hint for f in found)
    if code in UNPROVEN:  # no proven issue names a unit: nothing to record
        assert ledger.read_bytes() == before_bytes
    else:
        assert_refused(ledger, before, UNIT, found[0].message)
    quarantined = ledger.parent / "quarantine" / f"{sha(bad)[:12]}_{workbook.name}"
    assert quarantined.read_bytes() == bad.read_bytes()
    note = quarantined.with_name(quarantined.name + ".退回原因.txt").read_text(encoding="utf-8")
    assert found[0].message in note
    # a second run skips the quarantined file and changes nothing
    after = ledger.read_bytes()
    again = collect_returns(ledger, [inbox], now=COLLECT_AT)
    assert again.summary["skipped"] == 1 and ledger.read_bytes() == after


def test_locked_cell_finding_names_the_exact_cell(issued, tmp_path):
    ledger, workbook, ids = issued
    bad = tamper_lock(workbook, tmp_path / "收件" / workbook.name, ids)
    outcome = collect_returns(ledger, [bad], now=COLLECT_AT)
    [finding] = [f for f in outcome.findings if f.code == "locked-cell-edited"]
    assert (finding.sheet, finding.row, finding.column) == ("反馈表", 7, "节点目标")
    assert f"{ids[1]}二季度目标" in finding.message and "目标改小了" in finding.message


def test_superseded_issue_is_refused(issued, tmp_path):
    ledger, workbook, ids = issued
    old = fill_return(workbook, tmp_path / "收件" / workbook.name, answers_for(ids))
    issue_workbooks(ledger, "2022Q2", tmp_path / "重发", now=datetime(2022, 6, 28, 15, 30), reissue=True)
    before = content(ledger)
    outcome = collect_returns(ledger, [old], now=COLLECT_AT)
    assert [f.code for f in outcome.findings if f.level.value == "错误"] == ["superseded-issue"]
    assert "2022-06-28 15:30" in outcome.findings[0].message
    assert_refused(ledger, before, UNIT, outcome.findings[0].message)


def test_a_return_mailed_by_another_unit_is_refused(issued, tmp_path):
    ledger, workbook, ids = issued
    filled = fill_return(workbook, tmp_path / "填好" / workbook.name, answers_for(ids))
    mail = as_eml(filled, tmp_path / "收件" / "代报.eml", OTHER_MAIL, ON_TIME)
    before = content(ledger)
    outcome = collect_returns(ledger, [mail], now=COLLECT_AT)
    [finding] = [f for f in outcome.findings if f.level.value == "错误"]
    assert finding.code == "wrong-unit" and "区财政局" in finding.message and UNIT in finding.message
    assert_refused(ledger, before, UNIT, finding.message)
    # the unit sends its form again from its own address: accepted, the 退回 replaced
    answers = answers_for(ids)
    answers[ids[1]]["进展情况"] = "园区规划已批复。"
    resent = fill_return(workbook, tmp_path / "重报" / workbook.name, answers)
    again = collect_returns(ledger, [as_eml(resent, tmp_path / "重报" / "回复.eml", UNIT_MAIL, ON_TIME)], now=COLLECT_AT)
    assert again.summary["accepted"] == 1
    row = next(s for s in LedgerStore(ledger).load()[0].submissions if s.period == "2022Q2" and s.unit == UNIT)
    assert (row.status, row.problem) == ("已报送", "")


def test_a_misrouted_return_is_told_its_own_problems_but_nothing_about_records_it_does_not_bring(issued, tmp_path):
    """The readers examine the file (records and all); the ledger's refusal then drops the
    records and what was said about them (blank rows, lateness), keeping the file's own problems."""
    ledger, workbook, ids = issued

    def filled(folder: str, progress: str) -> Path:  # one answer, one without 完成情况, the other rows blank
        return fill_return(workbook, tmp_path / folder / workbook.name,
                           {ids[0]: {"完成情况": "完成", "进展情况": progress, "自评灯色": "绿"}, ids[1]: {"进展情况": "推进中。"}})

    before = content(ledger)
    outcome = collect_returns(ledger, [as_eml(filled("代报", "已开工。"), tmp_path / "代报.eml", OTHER_MAIL, LATE)], now=COLLECT_AT)
    codes = [f.code for f in outcome.findings if f.code != "missing-return"]
    assert codes[0] == "wrong-unit" and "completion-missing" in codes
    assert not {"empty-row", "late-return"} & set(codes)
    assert outcome.summary["rejected"] == 1
    assert_refused(ledger, before, UNIT, outcome.findings[0].message)
    # the control: the same answers from the unit's own address are accepted, with those notes
    own = collect_returns(ledger, [as_eml(filled("本单位", "已开工！"), tmp_path / "回复.eml", UNIT_MAIL, LATE)], now=COLLECT_AT)
    assert own.summary["accepted"] == 1
    assert {"empty-row", "late-return", "completion-missing"} <= {f.code for f in own.findings}


def test_a_file_of_another_ledger_is_refused(issued, tmp_path):
    _ledger, workbook, ids = issued
    other = tmp_path / "另一台账" / "台账.xlsx"
    other.parent.mkdir()
    init_ledger(other, 2022, now=NOW)
    filled = fill_return(workbook, tmp_path / "收件" / workbook.name, answers_for(ids))
    before = other.read_bytes()
    outcome = collect_returns(other, [filled], now=COLLECT_AT)
    assert [f.code for f in outcome.findings if f.level.value == "错误"] == ["no-matching-issue"]
    assert other.read_bytes() == before


def test_targets_fill_pending_and_a_change_to_a_confirmed_target_waits_for_approval(planned_ledger, tmp_path):
    task, result = _targets_returned(planned_ledger, tmp_path)
    assert result.exit_code == 0, result.findings
    assert (result.summary["targets_filled"], result.summary["targets_proposed"]) == (1, 1)
    led, _ = LedgerStore(planned_ledger).load()
    targets = {(t.task_id, t.period): t for t in led.targets}
    q2, q3 = targets[(task, "2022Q2")], targets[(task, "2022Q3")]
    assert (q2.target, q2.status) == (f"{task}二季度目标", "调整待批")  # never applied silently
    assert "二季度目标调高" in q2.change_note and UNIT in q2.change_note
    assert (q3.target, q3.status) == ("三季度完成主体工程", "待报送")
    logged = {(e.object, e.field, e.new) for e in led.changelog if e.action == "报送目标"}
    assert (task, "2022Q3 节点目标", "三季度完成主体工程") in logged
    assert (task, "2022Q2 确认状态", "调整待批") in logged
    # the summary says targets arrived and wait for confirmation
    assert result.summary["targets_waiting"] == 2
    line = next(x for x in summary_lines("collect", result) if "节点目标" in x)
    assert "收到节点目标 1 条" in line and "调整申请 1 条" in line and "待确认 2 条" in line and "duban confirm" in line


def test_confirm_targets_and_approve_a_change_with_the_leaders_consent(planned_ledger, tmp_path):
    task, _result = _targets_returned(planned_ledger, tmp_path)
    ledger = str(planned_ledger)
    code, done = run_json("confirm", ledger, "--period", "2022Q3", "--by", "李明", "--note", "已与区发改局核对")
    assert code == 0 and done["confirmed"] == [f"{task} 2022Q3"] and done["change_pending"] == 0
    led, _ = LedgerStore(planned_ledger).load()
    q3 = next(t for t in led.targets if (t.task_id, t.period) == (task, "2022Q3"))
    assert (q3.status, q3.target) == ("已确认", "三季度完成主体工程") and q3.confirmed_on is not None
    [entry] = [e for e in led.changelog if e.action == "确认目标"]
    assert (entry.object, entry.field, entry.old, entry.new) == (task, "2022Q3 确认状态", "待报送", "已确认")
    assert "李明" in entry.source and "已与区发改局核对" in entry.source

    # a proposal changes a confirmed target only with the 分管领导's name
    before = planned_ledger.read_bytes()
    code, refused = run_json("confirm", ledger, "--approve")
    assert code == 2 and refused["findings"][0]["code"] == "approval-needs-leader" and "--by" in refused["findings"][0]["hint"]
    assert planned_ledger.read_bytes() == before
    code, done = run_json("confirm", ledger, "--approve", "--task", task, "--by", "曹新华", "--note", "项目提前开工")
    assert code == 0 and done["approved"] == [f"{task} 2022Q2"]
    led, _ = LedgerStore(planned_ledger).load()
    q2 = next(t for t in led.targets if (t.task_id, t.period) == (task, "2022Q2"))
    assert (q2.status, q2.target) == ("已确认", "二季度目标调高")
    assert f"原节点目标：{task}二季度目标" in q2.change_note and "曹新华" in q2.change_note
    approved = {(e.field, e.old, e.new) for e in led.changelog if e.action == "批准调整"}
    assert ("2022Q2 节点目标", f"{task}二季度目标", "二季度目标调高") in approved
    assert all("曹新华" in e.source for e in led.changelog if e.action == "批准调整")

    # nothing left: a second run changes nothing and writes nothing
    before = planned_ledger.read_bytes()
    code, again = run_json("confirm", ledger)
    assert code == 0 and again["confirmed"] == [] and [f["code"] for f in again["findings"]] == ["nothing-to-confirm"]
    assert planned_ledger.read_bytes() == before
    code, unknown = run_json("confirm", ledger, "--task", "2022-ZD-999")
    assert code == 2 and unknown["findings"][0]["code"] == "unknown-target-task"


def _targets_returned(planned_ledger, tmp_path):
    """The 2022 季度目标安排表 issued; one unit's return collected: a Q3 target filled in (待报送)
    and a change to its confirmed Q2 target proposed (调整待批). Returns (task id, collect's Outcome)."""
    out = tmp_path / "目标"
    outcome = issue_workbooks(planned_ledger, "2022", out, now=datetime(2022, 1, 10, 9, 0), targets=True)
    assert outcome.exit_code == 0 and outcome.summary["period"] == "2022年度季度目标"
    workbook = out / f"2022_{UNIT}_重点任务季度目标安排表.xlsx"
    ws = openpyxl.load_workbook(workbook)["目标安排表"]
    assert [c.value for c in ws[5]] == ["任务编号", "工作任务", "完成时限", "第一季度", "第二季度", "第三季度", "第四季度"]
    task = ws.cell(6, 1).value
    assert ws.cell(6, 5).value == f"{task}二季度目标"  # the confirmed target is shown
    back = fill_return(workbook, tmp_path / "收件" / workbook.name,
                       {task: {"第二季度": "二季度目标调高", "第三季度": "三季度完成主体工程"}})
    received(back, datetime(2022, 1, 15, 10, 0))
    return task, collect_returns(planned_ledger, [back], now=datetime(2022, 1, 16, 9, 0))


def test_cli_collect_json(issued, tmp_path):
    ledger, workbook, ids = issued
    inbox = tmp_path / "收件"
    received(fill_return(workbook, inbox / workbook.name, answers_for(ids)), ON_TIME)
    code, result = run_json("collect", str(ledger), str(inbox))
    assert code == 0 and result["accepted"] == 1
    assert result["files"][0]["unit"] == UNIT and result["files"][0]["result"] == "已接收"
    code, result = run_json("collect", str(ledger))
    assert code == 2 and result["findings"][0]["code"] == "usage-error"


def test_returns_typed_in_libreoffice_and_saved_as_xlsx_xls_and_ods_are_accepted_exactly(office, issued, tmp_path):
    """A real office suite edits the issued file as a unit would (sheet protection on)."""
    ledger, workbook, ids = issued
    typed = {
        ids[0]: ("已完成", "二季度GDP增长6.2%，\n固定资产投资增长8%", "=SUM(1,1) 是文字不是公式", "继续抓好项目建设", "绿灯"),
        ids[2]: ("未完成", "进度 75%（３季度前完工）", "资金未到位", "+协调资金", "黄灯"),
    }
    edits = [("反馈表", f"{col}{6 + ids.index(task)}", value)
             for task, values in typed.items() for col, value in zip("EFGHI", values)]
    edits.append(("反馈表", f"F{6 + ids.index(ids[3])}", 12345))  # a number typed as progress
    inbox = tmp_path / "收件"
    office.fill(workbook, edits, out_xlsx=inbox / "填好.xlsx", out_xls=inbox / "填好.xls", out_ods=inbox / "填好.ods")
    expected = {task: values for task, values in typed.items()}
    for name in ("填好.xlsx", "填好.xls", "填好.ods"):
        received(inbox / name, ON_TIME)
    for name in ("填好.xlsx", "填好.xls", "填好.ods"):
        target = tmp_path / name.replace(".", "_") / "台账.xlsx"  # each format into a fresh copy of the ledger
        target.parent.mkdir()
        target.write_bytes(ledger.read_bytes())
        outcome = collect_returns(target, [inbox / name], now=COLLECT_AT)
        assert outcome.summary["accepted"] == 1, [f.text() for f in outcome.findings if f.level.value == "错误"]
        rows = {r[0]: r for r in feedback_rows(target)}
        assert set(rows) == {*typed, ids[3]}
        for task, values in expected.items():
            assert rows[task][2:7] == values, name
        assert rows[ids[3]][3] == "12345"


def test_a_feedback_row_is_rebuilt_from_the_change_log_at_any_point(issued, tmp_path):
    """Audit: 变更日志 holds every value a command wrote into 反馈记录, with time, command and the
    source file's hash — replaying it gives the row as it stood after any run."""
    ledger, workbook, ids = issued
    first, second = answers_for(ids), answers_for(ids)
    second[ids[1]] = {**second[ids[1]], "完成情况": "已完成", "进展情况": "园区规划已获批复。", "自评灯色": "绿灯"}
    early, late = tmp_path / "1", tmp_path / "2"
    one = received(fill_return(workbook, early / "初报.xlsx", first), ON_TIME)
    assert collect_returns(ledger, [early], now=COLLECT_AT).summary["accepted"] == 1
    after_first = {r[0]: r for r in feedback_rows(ledger)}
    two = received(fill_return(workbook, late / "更正.xlsx", second), LATE)
    later = COLLECT_AT.replace(hour=15)
    assert collect_returns(ledger, [late], now=later).summary["accepted"] == 1
    final = {r[0]: r for r in feedback_rows(ledger)}
    assert after_first != final
    led, _ = LedgerStore(ledger).load()
    columns = ("完成情况", "进展情况", "存在问题", "下一步计划", "自评灯色", "报送时间", "是否逾期", "文件指纹")

    def replay(until: datetime) -> dict[str, tuple]:
        state: dict[str, dict[str, str]] = {}
        for e in led.changelog:
            if e.action in ("收集反馈", "更新反馈") and e.time <= until:
                period, unit, column = e.field.split(" ", 2)
                if (period, unit) != ("2022Q2", UNIT):
                    continue
                if e.action == "收集反馈":  # a new row: all its values in one entry
                    state[e.object] = json.loads(e.new)
                else:  # a replaced value, with the old one beside it
                    assert state[e.object].get(column, "") == e.old
                    state[e.object][column] = e.new
        return {task: tuple(values.get(c, "") for c in columns) for task, values in state.items()}

    def as_text(rows: dict[str, tuple]) -> dict[str, tuple]:
        return {task: (*(v or "" for v in r[2:7]), r[7].isoformat(sep=" "), r[8], r[9]) for task, r in rows.items()}

    assert replay(COLLECT_AT) == as_text(after_first)
    assert replay(later) == as_text(final)
    sources = {e.source for e in led.changelog if e.action in ("收集反馈", "更新反馈")}
    assert sources == {f"duban collect {one.name}#{sha(one)}", f"duban collect {two.name}#{sha(two)}"}


def test_the_inbox_is_listed_with_its_subfolders_and_without_lock_hidden_or_odd_files(tmp_path):
    """What gather hands to the readers from a folder: workbooks and mails in it and in its
    subfolders, in path order; not Office's lock files, hidden files, other types, a folder
    reached through a link, a link to a file outside the inbox (reported), or a pipe
    (opening one would wait forever). A link to a file inside the inbox is read like the file."""
    inbox = tmp_path / "收件箱"
    (inbox / "第二批" / "补报").mkdir(parents=True)
    (inbox / "a.xlsx").write_bytes(b"A")
    (inbox / "第二批" / "b.XLSM").write_bytes(b"B")
    (inbox / "第二批" / "补报" / "c.xls").write_bytes(b"C")
    (inbox / "~$a.xlsx").write_bytes(b"lock")
    (inbox / ".hidden.xlsx").write_bytes(b"hidden")
    (inbox / "说明.txt").write_bytes(b"text")
    elsewhere = tmp_path / "别处"
    elsewhere.mkdir()
    (elsewhere / "d.xlsx").write_bytes(b"D")
    links = hasattr(os, "symlink") and hasattr(os, "mkfifo")
    if links:
        (inbox / "链接").symlink_to(elsewhere, target_is_directory=True)
        (inbox / "e.xlsx").symlink_to(elsewhere / "d.xlsx")  # leads out of the inbox: not read
        (inbox / "g.xlsx").symlink_to(inbox / "第二批" / "b.XLSM")  # stays inside: read like the file
        os.mkfifo(inbox / "f.xlsx")
    found, problems = gather([inbox])
    assert problems == ([("e.xlsx", "是指向收件文件夹以外的链接，未读取")] if links else [])
    assert [i.data for i in found] == [b"A", *([b"B"] if links else []), b"B", b"C"]
    assert [i.name for i in found] == ["a.xlsx", *(["g.xlsx"] if links else []), "b.XLSM", "c.xls"]


def test_the_signer_cells_are_the_units_to_fill(issued, tmp_path):
    """填报人 / 联系电话 / 审核人 are unlocked cells above the table: typing them is not an
    edit of a locked cell, the return is accepted as usual, and 报送情况 records who answers for it."""
    from xl_duban.io.unit_workbook import SIGNER_ROW

    ledger, workbook, ids = issued
    back = fill_return(workbook, tmp_path / "填" / workbook.name, answers_for(ids))
    wb = openpyxl.load_workbook(back)
    ws = wb.worksheets[0]
    inputs = [c for c in range(1, ws.max_column + 1) if not ws.cell(SIGNER_ROW, c).protection.locked
              and ws.cell(SIGNER_ROW, c).coordinate not in ws.merged_cells]
    assert len(inputs) == 3
    for col, value in zip(inputs, ("张三", "0762-3333333", "李四")):
        ws.cell(SIGNER_ROW, col).value = value
    wb.save(back)
    outcome = collect_returns(ledger, [received(back, ON_TIME)], now=COLLECT_AT)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings if f.level.value == "错误"]
    assert (outcome.summary["accepted"], outcome.summary["rejected"]) == (1, 0)
    led, _ = LedgerStore(ledger).load()
    row = next(s for s in led.submissions if s.period == "2022Q2" and s.unit == UNIT)
    assert (row.status, row.filler, row.phone, row.reviewer) == ("已报送", "张三", "0762-3333333", "李四")
    others = [s for s in led.submissions if s.unit != UNIT]
    assert others and not any((s.filler, s.phone, s.reviewer) != ("", "", "") for s in others)
