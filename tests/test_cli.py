"""End-to-end: the real ``duban`` command on real files — planted errors, exit codes, docs."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from xl_duban.cli import app
from xl_duban.io.ledger_store import HIGHLIGHT
from xl_duban.samples import write_tables_docx
from xl_duban.services import import_files

from .conftest import NOW, REPO, run_cli, run_json


@pytest.fixture
def full_ledger(ledger, tmp_path, seed_tables) -> Path:
    """A 2022 ledger with units, the 98 key tasks and the 10 民生实事 imported."""
    docs = [write_tables_docx([seed_tables["附件2"]], tmp_path / "附件2.docx"),
            write_tables_docx([seed_tables["附件3"]], tmp_path / "附件3.docx")]
    assert import_files(ledger, docs, now=NOW).exit_code == 0
    return ledger


def _row_of(ws, task_id: str) -> int:
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == task_id)


def _col(ws, header: str) -> int:
    return [c.value for c in ws[1]].index(header) + 1


def test_validate_reports_exactly_the_planted_errors(full_ledger):
    code, clean = run_json("validate", str(full_ledger))
    assert code == 0 and clean["findings"] == []

    wb = openpyxl.load_workbook(full_ledger)
    tasks, targets, units = wb["任务台账"], wb["节点目标"], wb["单位名录"]
    planted = set()

    def plant(ws, row, header, value, code):
        ws.cell(row, _col(ws, header)).value = value
        planted.add((code, ws.title, row, header))

    plant(tasks, _row_of(tasks, "2022-ZD-003"), "任务编号", "2022-ZD-002", "duplicate-task-id")
    plant(tasks, _row_of(tasks, "2022-ZD-010"), "牵头单位", "区发展局XYZ", "unknown-unit")
    plant(tasks, _row_of(tasks, "2022-ZD-020"), "完成时限", "2022-02-30", "bad-date")
    plant(tasks, _row_of(tasks, "2022-ZD-060"), "完成时限", "2030-12-31", "date-out-of-range")
    plant(tasks, _row_of(tasks, "2022-ZD-030"), "责任领导", None, "missing-leader")
    plant(tasks, _row_of(tasks, "2022-ZD-040"), "状态", "完成了", "invalid-choice")
    plant(tasks, _row_of(tasks, "2022-ZD-050"), "工作任务", None, "required-field")
    for row, values in ((2, ["2022-ZD-001", "2022-03", "完成一季度目标"]), (3, ["2022-ZD-999", "2022Q1", "目标"])):
        for col, value in enumerate(values, 1):
            targets.cell(row, col).value = values[col - 1]
    planted.add(("cadence-mismatch", "节点目标", 2, "周期"))
    planted.add(("target-unknown-task", "节点目标", 3, "任务编号"))
    plant(units, 5, "邮箱", "not-an-address", "bad-email")
    targets.tables["tblTargets"].ref = "A1:F3"
    wb.save(full_ledger)

    code, result = run_json("validate", str(full_ledger))
    reported = {(f["code"], f["sheet"], f["row"], f["column"]) for f in result["findings"]}
    assert reported == planted
    assert code == 1
    assert {f["level"] for f in result["findings"] if f["code"] == "missing-leader"} == {"警告"}

    # 校验结果 lists them and the offending cells are highlighted
    wb = openpyxl.load_workbook(full_ledger)
    assert wb["校验结果"].max_row - 1 == len(planted)
    for _code, sheet, row, header in planted:
        cell = wb[sheet].cell(row, _col(wb[sheet], header))
        assert cell.fill.fgColor.rgb == HIGHLIGHT, (sheet, row, header)

    # fix everything: highlights and results go away
    tasks, targets, units = wb["任务台账"], wb["节点目标"], wb["单位名录"]
    tasks.cell(_find_dup(tasks), 1).value = "2022-ZD-003"
    tasks.cell(_row_of(tasks, "2022-ZD-010"), _col(tasks, "牵头单位")).value = "区发展和改革局"
    # a fixed 完成时限 is a date cell (text would be flagged "可改为日期"); those tasks are done,
    # else, validated years later, they would be 超期 (task-overdue)
    tasks.cell(_row_of(tasks, "2022-ZD-020"), _col(tasks, "完成时限")).value = datetime(2022, 6, 30)
    tasks.cell(_row_of(tasks, "2022-ZD-060"), _col(tasks, "完成时限")).value = datetime(2022, 12, 31)
    for task_id in ("2022-ZD-020", "2022-ZD-060"):
        tasks.cell(_row_of(tasks, task_id), _col(tasks, "状态")).value = "已办结"
    tasks.cell(_row_of(tasks, "2022-ZD-030"), _col(tasks, "责任领导")).value = "疏纲"
    tasks.cell(_row_of(tasks, "2022-ZD-040"), _col(tasks, "状态")).value = "进行中"
    tasks.cell(_row_of(tasks, "2022-ZD-050"), _col(tasks, "工作任务")).value = "补回的任务内容。"
    targets.cell(2, 2).value = "2022Q1"
    targets.cell(3, 1).value = "2022-ZD-009"
    units.cell(5, _col(units, "邮箱")).value = "fixed@yuancheng.example"
    wb.save(full_ledger)
    code, result = run_json("validate", str(full_ledger))
    assert code == 0 and result["findings"] == []
    wb = openpyxl.load_workbook(full_ledger)
    highlighted = [c.coordinate for ws in wb for row in ws.iter_rows() for c in row
                   if c.fill is not None and c.fill.fgColor.rgb == HIGHLIGHT]
    assert highlighted == []


def _find_dup(ws) -> int:
    ids = [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)]
    return ids.index("2022-ZD-002", ids.index("2022-ZD-002") + 1) + 2


def test_demo_builds_the_2022_ledger(tmp_path):
    code, result = run_json("demo", str(tmp_path / "演示"))
    assert code == 0, result["findings"]
    assert result["key_tasks"] == 98
    assert result["livelihood_projects"] == 10
    assert Path(result["ledger"]).exists()
    assert all(Path(p).exists() for p in result["sources"])
    assert result["validation"]["错误"] == 0


def test_init_then_validate_human_output(tmp_path):
    ledger = tmp_path / "台账.xlsx"
    proc = run_cli("init", "2024", str(ledger))
    assert proc.returncode == 0 and "已新建 2024 年度台账" in proc.stdout
    proc = run_cli("validate", str(ledger))
    assert proc.returncode == 0 and "未发现问题" in proc.stdout


def test_exit_codes_and_no_tracebacks(tmp_path):
    missing = tmp_path / "没有.xlsx"
    code, result = run_json("validate", str(missing))
    assert code == 2 and result["findings"][0]["code"] == "ledger-unavailable"
    assert "找不到台账文件" in result["findings"][0]["message"]

    ledger = tmp_path / "台账.xlsx"
    assert run_cli("init", "2024", str(ledger)).returncode == 0
    code, result = run_json("init", "2024", str(ledger))  # refuses to overwrite
    assert code == 2 and "已存在" in result["findings"][0]["message"]

    (tmp_path / ("~$" + ledger.name)).write_bytes(b"owner")  # Excel has it open
    proc = run_cli("validate", str(ledger))
    assert proc.returncode == 2 and "正在被 Excel" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr

    proc = run_cli("init")  # usage error
    assert proc.returncode == 2


NOT_A_LEDGER_COMMANDS = [
    ("validate",), ("light", "-p", "2024Q1"), ("issue", "-p", "2024Q1", "-o", "下发"), ("import", "附件.docx"),
    ("remind", "-p", "2024Q1"), ("bulletin", "-p", "2024Q1", "-o", "通报"), ("confirm", "--year", "2024"),
]


@pytest.mark.parametrize("command", NOT_A_LEDGER_COMMANDS, ids=[c[0] for c in NOT_A_LEDGER_COMMANDS])
def test_an_ordinary_workbook_is_refused_as_a_ledger(tmp_path, command):
    book = tmp_path / "单位通讯录.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "单位名录"  # even a sheet of the ledger's does not make it one
    wb.active.append(["单位名称", "邮箱"])
    wb.active.append(["区教育局", "jyj@example.gov.cn"])
    wb.save(book)
    before = book.read_bytes()
    name, *rest = command
    code, result = run_json(name, str(book), *[str(tmp_path / a) if a.endswith(("docx", "发", "报")) else a for a in rest])
    assert code == 2, result
    [finding] = result["findings"]
    assert finding["code"] == "ledger-unavailable" and "不是督办台账" in finding["message"]
    assert "任务台账" in finding["message"] and "设置" in finding["message"] and "duban init" in finding["message"]
    assert book.read_bytes() == before and not (tmp_path / "台账备份").exists()


def test_every_command_is_documented_in_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    reference = readme[readme.index("## 命令参考"):]
    documented = set(re.findall(r"^### `duban ([a-z]+(?: [a-z]+)?)", reference, flags=re.M))
    commands = {c.name for c in app.registered_commands}
    commands |= {f"{group.name} {c.name}" for group in app.registered_groups
                 for c in group.typer_instance.registered_commands}
    assert commands == documented
    for name in commands:  # every documented command accepts --json
        proc = run_cli(*name.split(), "--help")
        assert proc.returncode == 0 and "--json" in proc.stdout


def test_interrupt_is_reported_in_chinese(monkeypatch, capsys):
    from xl_duban import cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "app", interrupted)
    with pytest.raises(SystemExit) as exited:
        cli.main(["validate", "x.xlsx"])
    assert exited.value.code == 130
    assert "已取消" in capsys.readouterr().err


def test_template_build_and_init_xlsm_through_the_command_line(tmp_path: Path):
    import zipfile

    from xl_duban.excel.template import TEMPLATE

    out = tmp_path / "模板.xlsm"
    code, report = run_json("template", "build", "--out", str(out))
    assert code == 0
    assert report["template"] == str(out) and not report["standalone"]
    with zipfile.ZipFile(out) as fresh, zipfile.ZipFile(TEMPLATE) as committed:
        assert [(i.filename, fresh.read(i)) for i in fresh.infolist()] == \
               [(i.filename, committed.read(i)) for i in committed.infolist()]

    ledger = tmp_path / "2024年督查台账.xlsm"
    proc = run_cli("init", "2024", str(ledger))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wb = openpyxl.load_workbook(ledger, keep_vba=True)
    settings = {r[0].value: r[1].value for r in wb["设置"].iter_rows(min_row=2) if r[0].value}
    assert settings["年度"] == 2024
    with zipfile.ZipFile(ledger) as z:
        assert "xl/vbaProject.bin" in z.namelist() and "customUI/customUI14.xml" in z.namelist()
        assert "customUI/customUI14.xml" in z.read("_rels/.rels").decode()
    assert run_cli("init", "2024", str(tmp_path / "台账.xls")).returncode == 2  # neither .xlsx nor .xlsm
