"""Every 督办 ribbon button's macro, end to end, on real xlwings Book objects (no Excel).

An .xlsm ledger made by ``duban init`` is opened the way a click in Excel would hand it to
Python: ``tests/xlwings_remote.py`` builds the payload the VBA client sends, the macro runs
on ``xw.Book(json=payload)`` (xlwings' remote engine, enabled for tests only), and the
actions it returns are applied back to the file as Excel would apply them. The buttons are
pressed in the order an office works through a quarter; after each one the file is read
back independently (openpyxl / the file store) and compared with what the service reported.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

import macros
from tests.xlwings_remote import run_macro
from xl_duban.demo import write_unit_directory
from xl_duban.domain.models import NodeTarget, TargetStatus, TaskKind
from xl_duban.io.ledger_store import LedgerStore
from xl_duban.io.views import LIGHT_FILLS
from xl_duban.ribbon import BUTTONS
from xl_duban.samples import seed_2022_tables, write_tables_docx
from xl_duban.services import init_ledger
from xl_duban.simulation import reply_eml, simulate_round

NOW = datetime(2022, 3, 20, 9, 0)
QUARTER, MONTH = "2022Q1", "2022-03"


def test_every_button_has_a_macro_and_every_macro_a_button():
    exported = {name for name in dir(macros) if not name.startswith("_") and callable(getattr(macros, name))
                and getattr(macros, name).__module__ == "macros"}
    assert exported == set(BUTTONS)


@pytest.fixture(scope="module")
def office(tmp_path_factory) -> Path:
    """The office's folder: the received documents in 来文 and a fresh .xlsm ledger."""
    folder = tmp_path_factory.mktemp("督查室")
    tables = seed_2022_tables()
    write_unit_directory(folder / "来文" / "单位名录.xlsx", now=NOW)
    write_tables_docx([tables["附件2"]], folder / "来文" / "附件2 督查重点任务清单.docx")
    write_tables_docx([tables["附件3"]], folder / "来文" / "附件3 十件民生实事任务分解表.docx")
    ledger = folder / "2022年督查台账.xlsm"
    init_ledger(ledger, 2022, now=NOW)
    store = LedgerStore(ledger)  # the clerk picks the periods in 设置 (else today's date decides)
    data, _ = store.load()
    data.set_setting("当前季度", QUARTER)
    data.set_setting("当前月份", MONTH)
    data.set_setting("发件人", "duchashi@yuancheng.example")
    store.save(data, now=NOW)
    return ledger


def press(ledger: Path, macro, monkeypatch):
    """Click one button: the macro runs on a remote-engine Book over the ledger file; the
    book's folder is the working directory (the remote engine's fullname has no folder)."""
    monkeypatch.chdir(ledger.parent)
    result = run_macro(ledger, macro)
    pressed = result.return_value
    assert len(result.alerts) == 1, "every button ends with exactly one message box"
    assert result.alerts[0].prompt == pressed.message and pressed.title in result.alerts[0].title
    assert "内部错误" not in pressed.message, pressed.message
    assert not result.coercions, result.coercions  # no text turned into a number, date or formula
    return pressed


def reread(ledger: Path):
    return LedgerStore(ledger).load()[0]


def test_buttons_through_a_quarter(office, monkeypatch):
    ledger = office

    # 导入任务: every file of 来文
    pressed = press(ledger, macros.import_tasks, monkeypatch)
    outcome = pressed.outcomes[0]
    book = reread(ledger)
    assert outcome.summary["added_tasks"] == len(book.tasks) > 100
    assert outcome.summary["added_units"] == len(book.units) > 50
    assert {t.kind for t in book.tasks} == {TaskKind.key.value, TaskKind.livelihood.value}
    assert f"合计新增任务 {len(book.tasks)} 项" in pressed.message

    # the 目标安排表 round is not a button of its own: its confirmed targets are put in directly
    store = LedgerStore(ledger)
    data, _ = store.load()
    data.targets = [NodeTarget(task_id=t.id, period=QUARTER if t.kind == TaskKind.key.value else MONTH,
                               target="按计划完成本期节点任务", status=TargetStatus.confirmed.value, confirmed_on=NOW.date())
                    for t in data.tasks]
    store.save(data, now=NOW)

    # 校验: findings land in 校验结果 as rows
    pressed = press(ledger, macros.validate, monkeypatch)
    book = reread(ledger)
    assert len(book.validation) == len(pressed.outcomes[0].findings)
    assert f"已校验 {len(book.tasks)} 项任务" in pressed.message

    # 下发反馈表: this quarter's and this month's forms, once
    pressed = press(ledger, macros.issue, monkeypatch)
    issued = {o.summary["period"]: o.summary["workbooks"] for o in pressed.outcomes}
    assert set(issued) == {QUARTER, MONTH}
    for period, workbooks in issued.items():
        files = sorted((ledger.parent / "下发" / period).glob("*.xlsx"))
        assert len(files) == len(workbooks) > 0
    book = reread(ledger)
    assert sorted((s.period, s.unit) for s in book.submissions) == sorted(
        (p, w["unit"]) for p, ws in issued.items() for w in ws)
    again = press(ledger, macros.issue, monkeypatch)
    assert again.message.count("此前已下发") == 2
    assert len(reread(ledger).submissions) == len(book.submissions)

    # 发送邮件: no SMTP server set, so .eml files under 发出邮件
    pressed = press(ledger, macros.send, monkeypatch)
    for outcome in pressed.outcomes:
        period = outcome.summary["period"]
        assert len(list((ledger.parent / "发出邮件" / period).glob("*.eml"))) == outcome.summary["eml"] > 0

    # the units reply into the 收件箱文件夹 (default "inbox")
    book = reread(ledger)
    emails = {u.name: u.email for u in book.units}
    files = {w["unit"]: Path(w["file"]) for w in issued[QUARTER]}
    replies, roles = simulate_round(files, QUARTER, date(2022, 4, 10), emails, ledger.parent / "单位端", None)
    for reply in replies:
        reply_eml(reply, "duchashi@yuancheng.example", ledger.parent / "inbox")

    # 收集反馈
    pressed = press(ledger, macros.collect, monkeypatch)
    summary = pressed.outcomes[0].summary
    assert summary["accepted"] + summary["rejected"] == len(replies)
    assert summary["accepted"] > 0 and summary["added"] > 0
    book = reread(ledger)
    assert len([f for f in book.feedback if f.period == QUARTER]) == summary["added"]
    report = openpyxl.load_workbook(ledger)["收集报告"]
    assert str(report["A1"].value).startswith("收集报告")

    # 催办: units that have not replied
    pressed = press(ledger, macros.remind, monkeypatch)
    pending = {o.summary["period"]: o.summary["pending"] for o in pressed.outcomes}
    assert roles.missing in pending[QUARTER]

    # 亮灯: 亮灯记录 rows and the coloured 亮灯总览
    pressed = press(ledger, macros.light, monkeypatch)
    book = reread(ledger)
    lit = [r for r in book.lights if r.period == QUARTER and r.light]
    counts = next(o.summary["counts"] for o in pressed.outcomes if o.summary["period"] == QUARTER)
    assert sum(counts[c] for c in ("绿灯", "黄灯", "红灯")) == len(lit) > 0
    overview = openpyxl.load_workbook(ledger)["亮灯总览"]
    coloured = [c for row in overview.iter_rows() for c in row if c.value in LIGHT_FILLS]
    assert coloured and all(c.fill.fgColor.rgb[-6:] == LIGHT_FILLS[c.value].fgColor.rgb[-6:] for c in coloured)

    # 季度通报 and 月度通报: the ledger sheet and the .docx
    pressed = press(ledger, macros.quarterly_bulletin, monkeypatch)
    summary = pressed.outcomes[0].summary
    assert summary["period"] == QUARTER and Path(summary["document"]).exists()
    assert summary["sheet"] in openpyxl.load_workbook(ledger).sheetnames
    pressed = press(ledger, macros.monthly_bulletin, monkeypatch)
    summary = pressed.outcomes[0].summary
    assert summary["period"] == MONTH and summary["sheet"] in openpyxl.load_workbook(ledger).sheetnames

    # 年度考核: the sheets in the book, the files in 考核
    pressed = press(ledger, macros.score, monkeypatch)
    summary = pressed.outcomes[0].summary
    sheets = openpyxl.load_workbook(ledger).sheetnames
    assert {"考核-2022", "考核明细-2022"} <= set(sheets)
    assert (ledger.parent / "考核" / Path(summary["document"]).name).exists()
    scored = openpyxl.load_workbook(ledger)["考核-2022"]
    assert summary["units"] == scored.max_row - 2 > 0  # a title row and a header row, then one row per unit
    assert "得分最高" in pressed.message

    # 新建下年度台账: beside this one, from the saved file, this one unchanged
    before = reread(ledger)  # (the remote engine writes the book back; tests/test_score.py checks the file's bytes)
    pressed = press(ledger, macros.rollover, monkeypatch)
    new = ledger.parent / "2023年督查台账.xlsm"
    assert new.exists() and reread(ledger).model_dump() == before.model_dump() and "尚未保存的修改" in pressed.message
    assert len(LedgerStore(new).load()[0].units) == len(reread(ledger).units)


def ledger_with_setting(folder: Path, key: str, value) -> Path:
    """A fresh .xlsm ledger whose 设置 ``key`` the clerk set to ``value``."""
    ledger = folder / "台账.xlsm"
    init_ledger(ledger, 2022, now=NOW)
    store = LedgerStore(ledger)
    data, _ = store.load()
    data.set_setting(key, value)
    store.save(data, now=NOW)
    return ledger


def test_a_button_reports_a_ledger_problem_in_chinese(tmp_path, monkeypatch):
    ledger = ledger_with_setting(tmp_path, "当前季度", "第五季度")
    pressed = press(ledger, macros.light, monkeypatch)
    assert "当前季度" in pressed.message and "无法识别" in pressed.message
    assert not pressed.outcomes


def test_validate_twice_clears_the_cells_it_marked_and_tables_span_the_rows(tmp_path, monkeypatch):
    from openpyxl.utils import range_boundaries

    from xl_duban.io.ledger_store import HIGHLIGHT

    ledger = ledger_with_setting(tmp_path, "备份保留份数", "abc")

    def fill_of_setting() -> str | None:
        ws = openpyxl.load_workbook(ledger)["设置"]
        row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "备份保留份数")
        return row[1].fill.fgColor.rgb if row[1].fill.fill_type == "solid" else None

    pressed = press(ledger, macros.validate, monkeypatch)
    assert "备份保留份数" in pressed.message
    assert fill_of_setting() == HIGHLIGHT
    store = LedgerStore(ledger)  # the clerk corrects the cell (through the file store here)
    data, _ = store.load()
    data.set_setting("备份保留份数", 10)
    store.save(data, now=NOW)
    press(ledger, macros.validate, monkeypatch)
    assert fill_of_setting() is None

    wb = openpyxl.load_workbook(ledger)
    ws = wb["单位名录"]
    units = len(LedgerStore(ledger).load()[0].units)
    _c0, r0, _c1, r1 = range_boundaries(next(iter(ws.tables.values())).ref)
    assert r1 - r0 == max(units, 1)


def test_a_button_recreates_a_deleted_sheet_and_still_runs_both_periods(tmp_path, monkeypatch):
    ledger = tmp_path / "台账.xlsm"
    init_ledger(ledger, 2022, now=NOW)
    wb = openpyxl.load_workbook(ledger, keep_vba=True)
    del wb["节假日"]
    wb.save(ledger)
    pressed = press(ledger, macros.light, monkeypatch)
    assert len(pressed.outcomes) == 2  # the quarter and the month
    assert "节假日" in openpyxl.load_workbook(ledger).sheetnames


def test_period_typed_as_a_date_or_of_the_wrong_cadence():
    from xl_duban.domain.models import Ledger
    from xl_duban.domain.periods import Cadence
    from xl_duban.io.ledger_store import LedgerError
    from xl_duban.ribbon import button_period

    ledger = Ledger()
    ledger.set_setting("年度", 2022)
    today = date(2026, 11, 22)
    assert str(button_period(ledger, Cadence.quarterly, today)) == "2022Q4"  # after the ledger's year: its last period
    ledger.set_setting("当前月份", datetime(2022, 10, 1))  # 2022-10 typed into a General cell
    assert str(button_period(ledger, Cadence.monthly, today)) == "2022-10"
    ledger.set_setting("当前季度", "2022-03")
    with pytest.raises(LedgerError, match="当前季度应填写季度"):
        button_period(ledger, Cadence.quarterly, today)


def test_the_confirm_button_confirms_the_years_pending_targets(tmp_path, monkeypatch):
    ledger = tmp_path / "台账.xlsm"
    init_ledger(ledger, 2022, now=NOW)
    store = LedgerStore(ledger)
    data, _ = store.load()
    data.targets = [NodeTarget(task_id="2022-ZD-001", period="2022Q2", target="完成立项", status=TargetStatus.pending.value),
                    NodeTarget(task_id="2022-ZD-001", period="2022Q3", target="", status=TargetStatus.pending.value),
                    NodeTarget(task_id="2022-ZD-002", period="2022Q2", target="开工", status=TargetStatus.change_pending.value,
                               change_note="区财政局2022-01-15报送拟调整为：完工（待分管领导同意）")]
    store.save(data, now=NOW)
    pressed = press(ledger, macros.confirm_targets, monkeypatch)
    assert "确认节点目标 1 条" in pressed.message and "调整待批 1 条" in pressed.message
    after = {(t.task_id, t.period): t.status for t in reread(ledger).targets}
    # only the filled-in pending target; an approval needs the 分管领导 (duban confirm --approve --by)
    assert after == {("2022-ZD-001", "2022Q2"): "已确认", ("2022-ZD-001", "2022Q3"): "待报送",
                     ("2022-ZD-002", "2022Q2"): "调整待批"}


def test_the_doctor_button_checks_without_changing_the_book(tmp_path, monkeypatch):
    monkeypatch.setenv("XL_DUBAN_CONFIG_DIR", str(tmp_path / "config"))
    ledger = tmp_path / "台账.xlsm"
    init_ledger(ledger, 2022, now=NOW)
    before = reread(ledger).model_dump()
    ledger.with_name("~$" + ledger.name).write_bytes(b"clerk")  # Excel holds the book while its button runs
    pressed = press(ledger, macros.doctor, monkeypatch)
    checks = pressed.outcomes[0].summary["checks"]
    names = {c["name"] for c in checks}
    assert {"python", "signing_key", "cjk_font", "ledger", "smtp", "unit_email", "validation"} <= names
    assert "ledger_open" not in names  # the book is open in Excel by definition
    shown = [line for line in pressed.lines if line[:1] in "✔⚠✘"]
    assert [line[0] for line in shown] == [{"ok": "✔", "warn": "⚠", "fail": "✘"}[c["status"]] for c in checks]
    ledger.with_name("~$" + ledger.name).unlink()
    assert reread(ledger).model_dump() == before and not (tmp_path / "config" / "signing.key").exists()
