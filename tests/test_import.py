"""Integration: real .docx/.xlsx/.csv files rebuilt from the seeds, imported into a real ledger."""

from __future__ import annotations

import csv
from datetime import date
import os
from pathlib import Path

import openpyxl
import pytest

from xl_duban.domain.units import Match, UnitDirectory
from xl_duban.io.ledger_store import LedgerStore
from xl_duban.io.readers import UnreadableFile, read_source
from xl_duban.samples import write_prose_docx, write_tables_docx
from xl_duban.services import import_files

from .conftest import NOW


def load(path: Path):
    ledger, findings = LedgerStore(path).load()
    assert findings == []
    return ledger


def paragraphs(cell: list[str]) -> list[str]:
    return [p.strip() for p in cell if p.strip()]


# -- 附件2: 98 key tasks ---------------------------------------------------------------------------------
@pytest.fixture
def key_docx(tmp_path, seed_tables) -> Path:
    return write_tables_docx([seed_tables["附件2"]], tmp_path / "附件2.docx", repeat_header_every=25)


def test_key_task_list_yields_98_tasks_with_leaders_and_units(ledger, key_docx, seed_tables):
    outcome = import_files(ledger, [key_docx], now=NOW)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    tasks = {t.id: t for t in load(ledger).tasks}
    rows = seed_tables["附件2"].rows
    assert len(rows) == 98
    assert sorted(tasks) == [f"2022-ZD-{n:03d}" for n in range(1, 99)]
    directory = UnitDirectory(load(ledger).units)
    for row in rows:
        seq, content, leaders, units = int(row[0][0]), row[1], row[2], row[3]
        task = tasks[f"2022-ZD-{seq:03d}"]
        assert task.kind == "重点任务" and task.cadence == "季度" and task.status == "进行中"
        assert task.content == "\n".join(paragraphs(content))
        # leaders: one per paragraph in the Word cell, alignment spaces removed
        assert task.leaders == [p.replace(" ", "") for p in paragraphs(leaders)]
        # units: every name is a real unit of the hand-made directory (no wrap fragments left)
        for name in task.lead_units:
            assert directory.resolve(name).match in (Match.exact, Match.collective), (seq, name)
        assert 1 <= len(task.lead_units) <= len(paragraphs(units))


def test_key_task_irregular_cells(ledger, key_docx):
    import_files(ledger, [key_docx], now=NOW)
    tasks = {t.id: t for t in load(ledger).tasks}
    # two units in one cell, separate paragraphs
    assert tasks["2022-ZD-005"].lead_units == ["区财政局", "区税务局"]
    # two leaders, one padded with a space in the source ("吴 健")
    assert tasks["2022-ZD-010"].leaders == ["曹新华", "吴健"]
    # a unit name wrapped over two lines of the cell
    assert tasks["2022-ZD-058"].lead_units == ["区委宣传部", "区创建全国文明城市工作领导小组办公室"]
    # a collective name kept whole next to ordinary units
    assert tasks["2022-ZD-029"].lead_units == ["各镇人民政府、街道办事处", "区城市管理和综合执法局", "市生态环境局源城分局"]
    # two units in one paragraph separated by a line break
    assert tasks["2022-ZD-027"].lead_units == ["区工业园管理委员会", "区工业商务和信息化局", "区科学技术局"]
    # five leaders/units cells
    assert tasks["2022-ZD-046"].leaders == ["曹新华", "疏纲"]
    assert len(tasks["2022-ZD-046"].lead_units) == 5


def test_repeated_header_rows_are_reported_not_imported(ledger, key_docx):
    outcome = import_files(ledger, [key_docx], now=NOW)
    repeated = [f for f in outcome.findings if f.code == "repeated-header"]
    # header is Word row 1; a header row follows every 25 data rows → rows 27, 53, 79
    assert [f.row for f in repeated] == [27, 53, 79]
    assert all(f.file == "附件2.docx" and f.sheet == "表格1" for f in repeated)


def test_reimport_adds_nothing(ledger, key_docx):
    first = import_files(ledger, [key_docx], now=NOW)
    before = load(ledger)
    second = import_files(ledger, [key_docx], now=NOW)
    after = load(ledger)
    assert first.summary["added_tasks"] == 98
    assert second.summary["added_tasks"] == 0 and second.summary["unchanged_tasks"] == 98
    assert [t.model_dump() for t in after.tasks] == [t.model_dump() for t in before.tasks]
    assert len(after.units) == len(before.units)
    assert len(after.changelog) == len(before.changelog)


def test_import_is_logged_with_source_hash_and_each_row_can_be_rebuilt_from_the_log(ledger, key_docx):
    import hashlib
    import json

    from xl_duban.domain.schema import TASKS

    import_files(ledger, [key_docx], now=NOW)
    led = load(ledger)
    log = [e for e in led.changelog if e.action == "导入" and e.object.startswith("2022-ZD-")]
    digest = hashlib.sha256(key_docx.read_bytes()).hexdigest()
    assert {e.source for e in log} == {f"duban import 附件2.docx#{digest}"}  # command, file and its hash
    rebuilt = {e.object: json.loads(e.new) for e in log if e.field == "任务（新增）"}
    assert len(rebuilt) == 98
    for task in led.tasks:
        row = {}
        for column in TASKS.columns:
            value = getattr(task, column.field)
            text = "、".join(value) if isinstance(value, list) else "" if value is None else str(value)
            if text:
                row[column.header] = text
        assert rebuilt[task.id] == row


# -- 附件3: 10 民生实事 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("subitem_rows", [False, True], ids=["subitems-in-cell", "subitem-rows-empty-seq"])
def test_livelihood_projects_and_subitems(ledger, tmp_path, seed_tables, subitem_rows):
    path = write_tables_docx([seed_tables["附件3"]], tmp_path / "附件3.docx", subitem_rows=subitem_rows)
    outcome = import_files(ledger, [path], now=NOW)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    tasks = {t.id: t for t in load(ledger).tasks}
    projects = [t for t in tasks.values() if t.parent_id is None]
    assert sorted(t.id for t in projects) == [f"2022-MS-{n:02d}" for n in range(1, 11)]
    assert all(t.kind == "民生实事" and t.cadence == "月度" for t in tasks.values())
    for row in seed_tables["附件3"].rows:
        seq, category, name = int(row[0][0]), row[1][0], row[2][0]
        task = tasks[f"2022-MS-{seq:02d}"]
        assert task.category == category
        assert task.content.startswith(name + "：")
        assert task.leaders == [p.replace(" ", "") for p in paragraphs(row[4])]
    # project 8 has four numbered sub-items (paragraphs "1.…" in the source cell)
    subs = sorted(t.id for t in tasks.values() if t.parent_id == "2022-MS-08")
    assert subs == ["2022-MS-08-1", "2022-MS-08-2", "2022-MS-08-3", "2022-MS-08-4"]
    assert tasks["2022-MS-08-3"].content.startswith("实施源城区第一中学扩建工程")
    assert tasks["2022-MS-08-3"].lead_units == ["区教育局"] and tasks["2022-MS-08-3"].leaders == ["邓彬斌"]
    # wrapped unit names in this table
    assert tasks["2022-MS-06"].lead_units == ["市医疗保障局源城分局"]
    assert tasks["2022-MS-07"].lead_units == ["区文化广电旅游体育局"]
    assert tasks["2022-MS-04"].leaders == ["吴健"]
    assert tasks["2022-MS-10"].lead_units == ["源西街道办事处", "区消防救援大队"]


# -- Excel and CSV lists with synonym headers ------------------------------------------------------------------
def test_xlsx_list_with_synonym_headers_and_bad_rows(ledger, tmp_path):
    path = tmp_path / "补充任务.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "清单"
    ws.append(["2022年区督查重点任务补充清单"])
    ws.append([])
    ws.append(["序号", "项目分类", "具体内容", "分管区领导", "牵头责任单位", "相关责任单位", "完成时限"])
    ws.append([1, "城市建设", "推进老旧小区改造。", "疏 纲", "区住建局", "区财政局、区发改局", "2022年12月底"])
    ws.append([2, "城市建设", "", "疏纲", "区住房和城乡建设局", None, None])  # no content
    ws.append(["二", "城市建设", "建设口袋公园。", "疏纲", "区城市管理和综合执法局", None, None])  # bad 序号
    ws.append([3, "营商环境", "优化政务服务。", "吴健", "区政务服务数据管理局", "区新成立的中心", "2022-06-30"])
    wb.save(path)
    outcome = import_files(ledger, [path], now=NOW)
    tasks = {t.id: t for t in load(ledger).tasks}
    assert sorted(tasks) == ["2022-ZD-001", "2022-ZD-003"]
    t1 = tasks["2022-ZD-001"]
    assert t1.category == "城市建设" and t1.leaders == ["疏纲"]
    assert t1.lead_units == ["区住房和城乡建设局"]  # 区住建局 is a registered alias
    assert t1.co_units == ["区财政局", "区发展和改革局"]  # 区发改局 is a registered alias
    assert t1.deadline == date(2022, 12, 31)  # 完成时限 is read into a date cell (DESIGN §3)
    by_code = {f.code: f for f in outcome.findings}
    assert (by_code["missing-content"].file, by_code["missing-content"].sheet, by_code["missing-content"].row,
            by_code["missing-content"].column) == ("补充任务.xlsx", "清单", 5, "具体内容")
    assert (by_code["bad-seq"].row, by_code["bad-seq"].column) == (6, "序号")
    # an unknown unit joins 单位名录 with a finding asking to confirm it
    assert by_code["new-unit"].row == 7 and "区新成立的中心" in by_code["new-unit"].message
    assert "区新成立的中心" in [u.name for u in load(ledger).units]
    # nothing dropped silently: every data row is a task or an error finding
    errors = [f for f in outcome.findings if f.level.value == "错误"]
    assert len(tasks) + len(errors) == 4


def test_csv_in_gb18030_with_other_synonyms(ledger, tmp_path):
    path = tmp_path / "民生实事.csv"
    rows = [["序号", "分类", "项目名称", "工作任务", "分管区领导", "责任单位", "配合单位", "备注"],
            ["1", "教育", "新建幼儿园", "新增学位500个。", "邓彬斌", "区教育局", "区发展改革局", ""],
            ["", "", "", "1.完成主体工程。", "", "", "", ""],
            ["", "", "", "2.完成验收。", "", "", "", ""]]
    with open(path, "w", encoding="gb18030", newline="") as fh:
        csv.writer(fh).writerows(rows)
    outcome = import_files(ledger, [path], now=NOW)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    tasks = {t.id: t for t in load(ledger).tasks}
    assert sorted(tasks) == ["2022-MS-01", "2022-MS-01-1", "2022-MS-01-2"]
    assert tasks["2022-MS-01"].content == "新建幼儿园：新增学位500个。"
    assert tasks["2022-MS-01"].co_units == ["区发展和改革局"]
    assert tasks["2022-MS-01-2"].content == "完成验收。" and tasks["2022-MS-01-2"].lead_units == ["区教育局"]


def test_abbreviation_becomes_alias_with_finding(tmp_path):
    from xl_duban.services import init_ledger

    path = tmp_path / "台账.xlsx"
    init_ledger(path, 2022, now=NOW)
    units = tmp_path / "units.csv"
    units.write_text("单位名称,类型\n区发展和改革局,区直部门\n", encoding="utf-8")
    tasks = tmp_path / "tasks.csv"
    tasks.write_text("序号,工作任务,责任领导,牵头单位\n1,做好项目储备。,曹新华,区发改局\n", encoding="utf-8")
    outcome = import_files(path, [units, tasks], now=NOW)
    ledger = load(path)
    assert ledger.tasks[0].lead_units == ["区发展和改革局"]
    assert ledger.units[0].aliases == ["区发改局"]
    assert [f.code for f in outcome.findings] == ["unit-alias-matched"]
    assert outcome.findings[0].level.value == "警告"


# -- 附件1: prose 单位分工清单 ------------------------------------------------------------------------------------
def test_division_prose(ledger, tmp_path, division_paragraphs):
    path = write_prose_docx(division_paragraphs, tmp_path / "附件1.docx")
    outcome = import_files(ledger, [path], now=NOW)
    tasks = load(ledger).tasks
    with_units = [p for p in division_paragraphs if p.rstrip("。").endswith(("）", ")", "]")) and "详见" not in p[-8:]]
    assert len(tasks) == len(with_units) == 27
    platform = next(t for t in tasks if t.content.startswith("打造优质产业平台"))
    assert platform.category == "致力做强工业经济"
    assert platform.lead_units == ["区工业园管理委员会"]
    assert platform.co_units[-1] == "埔前镇人民政府" and len(platform.co_units) == 8
    assert not platform.content.endswith("）")
    skipped = [f for f in outcome.findings if f.code == "prose-skipped"]
    assert any("详见附件3" in f.message for f in skipped)


# -- unreadable input --------------------------------------------------------------------------------------------------
def test_unreadable_file_is_a_finding_and_adds_nothing(ledger, tmp_path):
    bad = tmp_path / "损坏.docx"
    bad.write_bytes(os.urandom(2048))
    before = load(ledger)
    outcome = import_files(ledger, [bad], now=NOW)
    assert outcome.exit_code == 2
    assert [f.code for f in outcome.findings] == ["unreadable-file"]
    assert outcome.findings[0].file == "损坏.docx"
    after = load(ledger)
    assert after.tasks == before.tasks == [] and len(after.units) == len(before.units)


def _meeting_notice(path: Path) -> Path:
    from docx import Document

    doc = Document()
    for text in ("关于召开2022年第一季度重点工作推进会的通知", "各镇人民政府、街道办事处，区直各单位：",
                 "定于2022年4月8日上午9时在区行政中心三楼会议室召开推进会，请各单位主要负责同志准时参加。"):
        doc.add_paragraph(text)
    doc.save(str(path))
    return path


def _unfamiliar_headers(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "科室", "电话"])
    wb.active.append(["张三", "综合科", "0762-1234567"])
    wb.save(path)
    return path


FAILED_IMPORTS = {  # name → (make the file, exit code, the error's code)
    "会议通知.docx": (_meeting_notice, 1, "nothing-imported"),
    "通讯录.xlsx": (_unfamiliar_headers, 1, "nothing-imported"),
    "旧格式.doc": (lambda p: (p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(1024)), p)[1], 2, "unreadable-file"),
    "损坏.xlsx": (lambda p: (p.write_bytes(os.urandom(2048)), p)[1], 2, "unreadable-file"),
    "不存在.docx": (lambda p: p, 2, "unreadable-file"),
}


@pytest.mark.parametrize("name", FAILED_IMPORTS)
def test_a_failed_import_writes_nothing_and_is_an_error(ledger, tmp_path, name):
    make, code, finding_code = FAILED_IMPORTS[name]
    source = make(tmp_path / name)
    before = ledger.read_bytes()
    backups = sorted((ledger.parent / "台账备份").glob("*"))
    outcome = import_files(ledger, [source], now=NOW)
    assert outcome.exit_code == code
    assert finding_code in [f.code for f in outcome.findings if f.level.value == "错误"]
    assert outcome.summary["written"] is False
    assert ledger.read_bytes() == before  # no 校验结果 rewrite either
    assert sorted((ledger.parent / "台账备份").glob("*")) == backups


def test_import_summary_counts_the_findings_shown(ledger, tmp_path):
    from xl_duban.reports import summary_lines

    outcome = import_files(ledger, [_meeting_notice(tmp_path / "会议通知.docx")], now=NOW)
    [_file, total] = summary_lines("import", outcome)
    errors = sum(f.level.value == "错误" for f in outcome.findings)
    assert errors == 1 and f"错误 {errors} 条" in total and "台账未改动" in total


# -- merged cells, section rows, duplicates (review fixes) ------------------------------------------------------
LIVELIHOOD_HEADER = ["序号", "分类", "项目名称", "工作任务", "分管区领导", "牵头责任单位", "备注"]


def _docx_table(path: Path, title: str, header: list[str], rows: list[list[str]], merges=()) -> Path:
    """A Word document with one table; ``merges`` are ((row, col), (row, col)) in table coordinates
    (header = row 0), merged with python-docx like a drafter would (text stays in the top cell)."""
    from docx import Document

    doc = Document()
    doc.add_paragraph(title)
    grid = doc.add_table(rows=1 + len(rows), cols=len(header))
    for c, text in enumerate(header):
        grid.cell(0, c).text = text
    for r, row in enumerate(rows, 1):
        for c, text in enumerate(row):
            if text:
                grid.cell(r, c).text = text
    for (r0, c0), (r1, c1) in merges:
        grid.cell(r0, c0).merge(grid.cell(r1, c1))
    doc.save(str(path))
    return path


def _xlsx_table(path: Path, title: str, header: list[str], rows: list[list], merges=()) -> Path:
    """A workbook: title in row 1, header in row 3, data from row 4; ``merges`` are Excel ranges."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "清单"
    ws.append([title])
    ws.append([])
    ws.append(header)
    for row in rows:
        ws.append(row)
    for ref in merges:
        ws.merge_cells(ref)
    wb.save(path)
    return path


def test_docx_vertically_merged_seq_makes_subitem_rows(ledger, tmp_path):
    # 序号/分类/项目名称/分管区领导/牵头责任单位 merged over the project's two sub-item rows
    rows = [["1", "教育", "新建学校", "新增学位3000个。", "邓彬斌", "区教育局", ""],
            ["", "", "", "1.新建源城区第一小学。", "", "", ""],
            ["", "", "", "2.扩建源城中学。", "", "", "2022年底完成"],
            ["2", "民政", "养老服务", "建设社区居家养老服务站5个。", "吴 健", "区民政局", ""]]
    merges = [((1, c), (3, c)) for c in (0, 1, 2, 4, 5)]
    path = _docx_table(tmp_path / "民生实事.docx", "2022年区十件民生实事任务分解表", LIVELIHOOD_HEADER, rows, merges)
    outcome = import_files(ledger, [path], now=NOW)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    assert not [f for f in outcome.findings if f.code == "task-id-conflict"]
    tasks = {t.id: t for t in load(ledger).tasks}
    assert sorted(tasks) == ["2022-MS-01", "2022-MS-01-1", "2022-MS-01-2", "2022-MS-02"]
    assert tasks["2022-MS-01"].content == "新建学校：新增学位3000个。"
    assert tasks["2022-MS-01-1"].content == "新建源城区第一小学。"  # no "新建学校：" prefix from the merged name
    sub2 = tasks["2022-MS-01-2"]
    assert (sub2.content, sub2.category, sub2.leaders, sub2.lead_units, sub2.note) == (
        "扩建源城中学。", "教育", ["邓彬斌"], ["区教育局"], "2022年底完成")
    assert tasks["2022-MS-02"].leaders == ["吴健"]


def test_docx_first_subitem_on_project_row_under_merged_seq(ledger, tmp_path):
    rows = [["1", "教育", "新建学校", "1.新建源城区第一小学。", "邓彬斌", "区教育局", ""],
            ["", "", "", "2.扩建源城中学。", "", "", ""]]
    merges = [((1, c), (2, c)) for c in (0, 1, 2, 4, 5)]
    path = _docx_table(tmp_path / "民生实事.docx", "2022年区十件民生实事任务分解表", LIVELIHOOD_HEADER, rows, merges)
    outcome = import_files(ledger, [path], now=NOW)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    tasks = {t.id: t.content for t in load(ledger).tasks}
    assert tasks == {"2022-MS-01": "新建学校", "2022-MS-01-1": "新建源城区第一小学。", "2022-MS-01-2": "扩建源城中学。"}


def test_docx_merged_leader_and_unit_reach_every_key_task(ledger, tmp_path):
    header = ["序号", "工作任务", "责任领导", "牵头承办单位"]
    rows = [["1", "推进老旧小区改造。", "疏纲", "区住房和城乡建设局"],
            ["2", "建设口袋公园。", "", ""],
            ["3", "优化政务服务。", "吴健", "区政务服务数据管理局"]]
    path = _docx_table(tmp_path / "重点任务.docx", "2022年区政府工作报告督查重点任务清单", header, rows,
                       [((1, 2), (2, 2)), ((1, 3), (2, 3))])
    outcome = import_files(ledger, [path], now=NOW)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    tasks = {t.id: t for t in load(ledger).tasks}
    assert sorted(tasks) == ["2022-ZD-001", "2022-ZD-002", "2022-ZD-003"]
    assert tasks["2022-ZD-002"].leaders == ["疏纲"] and tasks["2022-ZD-002"].lead_units == ["区住房和城乡建设局"]
    assert not [f for f in outcome.findings if f.code == "missing-lead-unit"]


def test_xlsx_merged_lead_unit_is_filled_down(ledger, tmp_path):
    header = ["序号", "工作任务", "责任领导", "牵头单位"]
    rows = [[1, "推进老旧小区改造。", "疏纲", "区住房和城乡建设局"],
            [2, "建设口袋公园。", None, None],
            [3, "优化政务服务。", "吴健", "区政务服务数据管理局"]]
    path = _xlsx_table(tmp_path / "重点任务.xlsx", "2022年区督查重点任务清单", header, rows, ["C4:C5", "D4:D5"])
    outcome = import_files(ledger, [path], now=NOW)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    tasks = {t.id: t for t in load(ledger).tasks}
    assert tasks["2022-ZD-002"].leaders == ["疏纲"]
    assert tasks["2022-ZD-002"].lead_units == ["区住房和城乡建设局"]
    assert not [f for f in outcome.findings if f.code == "missing-lead-unit"]


def test_xlsx_merged_seq_over_subitem_rows(ledger, tmp_path):
    rows = [[1, "教育", "新建学校", "新增学位3000个。", "邓彬斌", "区教育局", None],
            [None, None, None, "1.新建源城区第一小学。", None, None, None],
            [None, None, None, "2.扩建源城中学。", None, None, None],
            [2, "民政", "养老服务", "建设社区居家养老服务站5个。", "吴健", "区民政局", None]]
    merges = [f"{col}4:{col}6" for col in "ABCEF"]
    path = _xlsx_table(tmp_path / "民生实事.xlsx", "2022年区十件民生实事任务分解表", LIVELIHOOD_HEADER, rows, merges)
    outcome = import_files(ledger, [path], now=NOW)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    tasks = {t.id: t for t in load(ledger).tasks}
    assert sorted(tasks) == ["2022-MS-01", "2022-MS-01-1", "2022-MS-01-2", "2022-MS-02"]
    assert tasks["2022-MS-01-1"].content == "新建源城区第一小学。"
    assert tasks["2022-MS-01-2"].lead_units == ["区教育局"] and tasks["2022-MS-01-2"].category == "教育"
    assert [f.row for f in outcome.findings if f.code == "subitem-row"] == [5, 6]


def test_xlsx_merged_seq_over_key_task_rows_is_reported(ledger, tmp_path):
    header = ["序号", "工作任务", "责任领导", "牵头单位"]
    rows = [[1, "推进老旧小区改造。", "疏纲", "区住房和城乡建设局"],
            [None, "建设口袋公园。", "疏纲", "区城市管理和综合执法局"]]
    path = _xlsx_table(tmp_path / "重点任务.xlsx", "2022年区督查重点任务清单", header, rows, ["A4:A5"])
    outcome = import_files(ledger, [path], now=NOW)
    assert [t.id for t in load(ledger).tasks] == ["2022-ZD-001"]
    missing = [f for f in outcome.findings if f.code == "missing-seq"]
    assert [(f.row, f.column) for f in missing] == [(5, "序号")] and "合并" in missing[0].message


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_section_rows_set_category(ledger, tmp_path, fmt):
    header = ["序号", "工作任务", "责任领导", "牵头单位"]
    rows = [["一、着力稳增长，推动经济高质量发展", "", "", ""],
            ["1", "做好项目储备。", "曹新华", "区发展和改革局"],
            ["2", "抓好招商引资。", "曹新华", "区招商局"],
            ["（二）优化营商环境", "", "", ""],
            ["3", "优化政务服务。", "吴健", "区政务服务数据管理局"]]
    if fmt == "docx":  # section rows merged across the table, as drafted
        path = _docx_table(tmp_path / "重点任务.docx", "2022年区督查重点任务清单", header, rows,
                           [((1, 0), (1, 3)), ((4, 0), (4, 3))])
    else:  # the first merged across, the second typed in the first column only
        path = _xlsx_table(tmp_path / "重点任务.xlsx", "2022年区督查重点任务清单", header, rows, ["A4:D4"])
    outcome = import_files(ledger, [path], now=NOW)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    assert not [f for f in outcome.findings if f.level.value == "错误"]
    tasks = {t.id: t.category for t in load(ledger).tasks}
    assert tasks == {"2022-ZD-001": "着力稳增长", "2022-ZD-002": "着力稳增长", "2022-ZD-003": "优化营商环境"}


def test_explicit_category_beats_section_row(ledger, tmp_path):
    path = tmp_path / "清单.csv"
    path.write_text("序号,大类,工作任务,牵头单位\n一、着力稳增长,,,\n1,,做好项目储备。,区发展和改革局\n"
                    "2,招商,抓好招商引资。,区招商局\n", encoding="utf-8")
    outcome = import_files(ledger, [path], now=NOW)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    assert {t.id: t.category for t in load(ledger).tasks} == {"2022-ZD-001": "着力稳增长", "2022-ZD-002": "招商"}


def test_same_text_under_another_id_is_imported_with_warning(ledger, tmp_path):
    first = tmp_path / "清单1.csv"
    first.write_text("序号,工作任务,牵头单位\n1,做好项目储备。,区发展和改革局\n", encoding="utf-8")
    import_files(ledger, [first], now=NOW)
    second = tmp_path / "清单2.csv"
    second.write_text("序号,工作任务,牵头单位\n1,做好项目储备。,区发展和改革局\n5,做好项目储备。,区发展和改革局\n"
                      "2,抓好招商引资。,区招商局\n", encoding="utf-8")
    outcome = import_files(ledger, [second], now=NOW)
    assert outcome.summary["added_tasks"] == 2 and outcome.summary["unchanged_tasks"] == 1
    tasks = {t.id: t.content for t in load(ledger).tasks}
    assert tasks["2022-ZD-005"] == "做好项目储备。"
    dup = [f for f in outcome.findings if f.code == "duplicate-content"]
    assert [(f.level.value, f.row) for f in dup] == [("警告", 3)] and "2022-ZD-001" in dup[0].message
    # re-importing is still idempotent, and an id taken by another text is still a conflict
    again = import_files(ledger, [second], now=NOW)
    assert again.summary["added_tasks"] == 0 and again.summary["unchanged_tasks"] == 3
    third = tmp_path / "清单3.csv"
    third.write_text("序号,工作任务,牵头单位\n2,另一项任务。,区招商局\n", encoding="utf-8")
    conflict = import_files(ledger, [third], now=NOW)
    assert [f.code for f in conflict.findings if f.level.value == "错误"] == ["task-id-conflict"]


def test_cell_subitem_continuation_lines_stay_with_their_item(ledger, tmp_path):
    task = "保障城区供水。\n1.新建水厂一座，\n日供水2万吨。\n2.5万平方米管网改造完成验收。\n2.改造老旧管网30公里。"
    rows = [["1", "城建", "供水保障", task, "疏纲", "区住房和城乡建设局", ""]]
    path = _docx_table(tmp_path / "民生实事.docx", "2022年区十件民生实事任务分解表", LIVELIHOOD_HEADER, rows)
    outcome = import_files(ledger, [path], now=NOW)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    tasks = {t.id: t.content for t in load(ledger).tasks}
    assert tasks == {"2022-MS-01": "供水保障：保障城区供水。",
                     "2022-MS-01-1": "新建水厂一座，\n日供水2万吨。\n2.5万平方米管网改造完成验收。",
                     "2022-MS-01-2": "改造老旧管网30公里。"}


def test_subitem_row_starting_with_a_decimal_is_not_renumbered(ledger, tmp_path):
    path = tmp_path / "民生实事.csv"
    rows = [["序号", "项目名称", "工作任务", "牵头单位"],
            ["1", "公园建设", "新建公园。", "区城市管理和综合执法局"],
            ["", "", "2.5万平方米绿地完成种植。", ""]]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    outcome = import_files(ledger, [path], now=NOW)
    assert outcome.exit_code == 0, [f.text() for f in outcome.findings]
    tasks = {t.id: t.content for t in load(ledger).tasks}
    assert tasks == {"2022-MS-01": "公园建设：新建公园。", "2022-MS-01-1": "2.5万平方米绿地完成种植。"}


def test_missing_file_says_so(ledger, tmp_path):
    outcome = import_files(ledger, [tmp_path / "不存在.docx"], now=NOW)
    assert outcome.exit_code == 2
    [finding] = outcome.findings
    assert finding.code == "unreadable-file" and "找不到文件" in finding.message
    # the reader's reason never repeats the "文件无法读取" a caller may put in front of it
    assert "PackageNotFoundError" not in finding.message and finding.message.count("文件无法读取") <= 1
    with pytest.raises(UnreadableFile) as raised:
        read_source(tmp_path / "不存在.docx")
    assert str(raised.value).startswith("找不到文件")


def test_corrupt_file_message_does_not_repeat_prefix(ledger, tmp_path):
    bad = tmp_path / "损坏.xlsx"
    bad.write_bytes(os.urandom(2048))
    outcome = import_files(ledger, [bad], now=NOW)
    [finding] = outcome.findings
    assert finding.message.count("文件无法读取") <= 1 and "已损坏" in finding.message
    with pytest.raises(UnreadableFile) as raised:
        read_source(bad)
    assert not str(raised.value).startswith("文件无法读取")
