"""The ledger workbook on disk (DESIGN §3, §8): xl_duban.io.ledger_store at openpyxl level.

Every test writes a real .xlsx file and reads it back from disk with openpyxl (not through
the store's in-memory workbook), so what is asserted is what Excel would open. Expected
values are literals taken from DESIGN §3, never computed by the code under test.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import PatternFill
from openpyxl.utils import column_index_from_string, range_boundaries

from xl_duban.domain.findings import Finding, Level
from xl_duban.domain.models import Feedback, Holiday, NodeTarget, Task, Unit
from xl_duban.domain.schema import DATA_SHEETS, SHEET_ORDER
from xl_duban.domain import settings as setting_specs
from xl_duban.io import ledger_store
from xl_duban.io.ledger_store import HIGHLIGHT, LedgerError, LedgerStore, create_ledger

NOW = datetime(2024, 1, 2, 9, 30)
BACKUPS = "台账备份"

# -- the contract, copied from DESIGN §3 ------------------------------------------------------------
DESIGN_SHEETS = ["任务台账", "节点目标", "反馈记录", "亮灯记录", "亮灯总览", "单位名录", "报送情况", "校验结果",
                 "变更日志", "设置", "节假日", "考核调整"]  # 考核调整: added by the 考核 issue (README records it)

DESIGN_HEADERS = {
    "任务台账": ["任务编号", "类别", "大类", "序号", "工作任务", "责任领导", "牵头单位", "配合单位", "完成时限",
             "报送周期", "状态", "备注", "任务简称"],
    "节点目标": ["任务编号", "周期", "节点目标", "确认状态", "确认日期", "变更说明"],
    "反馈记录": ["任务编号", "周期", "报送单位", "完成情况", "进展情况", "存在问题", "下一步计划", "自评灯色",
             "报送时间", "是否逾期", "来源文件", "文件指纹"],
    "亮灯记录": ["任务编号", "周期", "灯色", "连续黄灯", "依据", "自评灯色", "核定灯色", "核定说明"],
    "单位名录": ["单位名称", "别名", "类型", "联系人", "联系电话", "邮箱"],
    "报送情况": ["周期", "单位", "下发时间", "截止时间", "发送状态", "回收时间", "状态", "问题", "来源", "填报人", "联系电话", "审核人"],
    "校验结果": ["工作表", "行", "列", "级别", "代码", "说明"],
    "变更日志": ["时间", "操作", "对象", "字段", "旧值", "新值", "来源"],
    "设置": ["项目", "值"],
    "节假日": ["日期", "类型", "说明"],
    "考核调整": ["单位", "分值", "事由", "批准人"],
}

LIGHTS = ["绿灯", "黄灯", "红灯"]
# Enumerated columns and their allowed values (DESIGN §3 parentheses, §2 lights, 是/否 for 是否逾期).
DESIGN_CHOICES = {
    "任务台账": {"类别": ["重点任务", "民生实事"], "报送周期": ["季度", "月度"], "状态": ["进行中", "已办结", "已取消"]},
    "节点目标": {"确认状态": ["待报送", "已确认", "调整待批"]},
    "反馈记录": {"完成情况": ["已完成", "未完成", "已办结"], "自评灯色": LIGHTS, "是否逾期": ["是", "否"]},
    "亮灯记录": {"灯色": LIGHTS, "自评灯色": LIGHTS, "核定灯色": LIGHTS},
    "单位名录": {"类型": ["区直部门", "镇街", "垂直管理", "其他"]},
    "报送情况": {"状态": ["已报送", "逾期报送", "未报送", "退回"], "来源": ["登记邮箱", "未登记地址", "收件箱文件", "人工接收"]},
    "校验结果": {"级别": ["错误", "警告", "提示"]},
    "变更日志": {},
    "设置": {},
    "节假日": {"类型": ["休", "班", "已核对"]},  # 已核对: issue 23, a year typed in whole (README)
    "考核调整": {},
}

SPECS = {spec.name: spec for spec in DATA_SHEETS}


# -- helpers -----------------------------------------------------------------------------------------------
@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    path = tmp_path / "台账.xlsx"
    create_ledger(path, 2024, now=NOW)
    return path


def reopen(path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(path)


def header_row(ws) -> list:
    values = [c.value for c in ws[1]]
    while values and values[-1] is None:
        values.pop()
    return values


def rows_by_id(ws) -> dict[str, dict[str, object]]:
    """Data rows of a sheet keyed by the first column, each as {header: cell}."""
    headers = header_row(ws)
    out = {}
    for row in ws.iter_rows(min_row=2, max_col=len(headers)):
        if row[0].value is None:
            continue
        out[row[0].value] = dict(zip(headers, row))
    return out


def sheet_files(path: Path) -> list[Path]:
    return sorted(p for p in path.parent.iterdir() if p.is_file())


def backups(path: Path) -> list[Path]:
    folder = path.parent / BACKUPS
    return sorted(folder.iterdir()) if folder.exists() else []


def task(id: str, content: str, **kw) -> Task:
    base = dict(id=id, kind="重点任务", category="经济发展", seq="1", content=content, leaders=["张副区长"],
                lead_units=["区发展和改革局"], co_units=[], deadline=date(2024, 12, 31), cadence="季度",
                status="进行中", note="")
    base.update(kw)
    return Task(**base)


# -- create_ledger ---------------------------------------------------------------------------------------------
def test_create_ledger_sheets_in_contract_order(ledger_path: Path):
    wb = reopen(ledger_path)
    assert wb.sheetnames == DESIGN_SHEETS
    assert wb.sheetnames == list(SHEET_ORDER)


def test_schema_matches_design_headers():
    """The schema module is the code side of DESIGN §3; both must agree."""
    assert {name: spec.headers for name, spec in SPECS.items()} == DESIGN_HEADERS
    assert {name: {c.header: list(c.choices) for c in spec.columns if c.choices} for name, spec in SPECS.items()} \
        == DESIGN_CHOICES


@pytest.mark.parametrize("sheet", list(DESIGN_HEADERS))
def test_new_data_sheet_has_table_header_freeze_and_fill(ledger_path: Path, sheet: str):
    ws = reopen(ledger_path)[sheet]
    spec = SPECS[sheet]
    headers = header_row(ws)
    # header row: exactly the contract columns in order (设置 also carries a 说明 column for the clerk)
    expected = spec.headers + (["说明"] if sheet == "设置" else [])
    assert headers == expected
    assert headers[: len(DESIGN_HEADERS[sheet])] == DESIGN_HEADERS[sheet]

    # exactly one Excel table, anchored at A1, spanning the header row, column names = header cells
    assert len(ws.tables) == 1
    table = next(iter(ws.tables.values()))
    assert table.name == spec.table
    min_col, min_row, max_col, max_row = range_boundaries(table.ref)
    assert (min_col, min_row) == (1, 1)
    assert max_col == len(headers)
    assert max_row >= 2  # Excel needs at least one data row under the header
    assert [c.name for c in table.tableColumns] == headers

    assert ws.freeze_panes == "A2"
    for cell in ws[1][: len(headers)]:
        assert cell.fill.fill_type == "solid", cell.coordinate
        assert cell.fill.fgColor.rgb == ledger_store.HEADER_FILL.fgColor.rgb, cell.coordinate
        assert cell.fill.fgColor.rgb not in ("00000000", "FFFFFFFF")
        assert cell.font.b


def read_dropdowns(ws) -> dict[str, list[str]]:
    """{header: allowed values} of every list validation, read back from the file."""
    headers = header_row(ws)
    out: dict[str, list[str]] = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.type == "list"
        formula = dv.formula1
        assert formula.startswith('"') and formula.endswith('"'), formula
        for rng in dv.sqref.ranges:
            min_col, min_row, max_col, max_row = range_boundaries(rng.coord)
            assert min_col == max_col, rng.coord
            assert min_row == 2, rng.coord  # never on the header
            assert max_row >= 10000, rng.coord  # covers rows typed later, not just the current ones
            header = headers[min_col - 1]
            assert header not in out, f"two drop-downs on 【{header}】"
            out[header] = formula[1:-1].split(",")
    return out


@pytest.mark.parametrize("sheet", list(DESIGN_CHOICES))
def test_new_data_sheet_has_dropdown_on_every_enumerated_column(ledger_path: Path, sheet: str):
    ws = reopen(ledger_path)[sheet]
    assert read_dropdowns(ws) == DESIGN_CHOICES[sheet]


def test_dropdowns_not_duplicated_by_repeated_saves(ledger_path: Path):
    store = LedgerStore(ledger_path)
    led, _ = store.load()
    store.save(led, now=datetime(2024, 1, 3))
    led, _ = store.load()
    store.save(led, now=datetime(2024, 1, 4))
    wb = reopen(ledger_path)
    for sheet, choices in DESIGN_CHOICES.items():
        assert len(wb[sheet].data_validations.dataValidation) == len(choices), sheet
        assert read_dropdowns(wb[sheet]) == choices


def test_new_ledger_settings_hold_every_default_and_the_year(ledger_path: Path):
    ws = reopen(ledger_path)["设置"]
    values = {row[0]: row[1] for row in ws.iter_rows(min_row=2, max_col=2, values_only=True) if row[0]}
    keys = [row[0] for row in ws.iter_rows(min_row=2, max_col=1, values_only=True) if row[0]]
    assert keys == [spec.key for spec in setting_specs.SPECS]
    assert values["年度"] == 2024
    # defaults named in DESIGN §3 / §5
    assert values["红灯阈值"] == 2
    assert values["缺报视为"] == "黄灯"
    assert values["逾期报送视为"] == "按内容"
    assert values["季度截止日"] == 10
    assert values["刊名"] == "源城政务督查"


def test_create_ledger_refuses_to_overwrite(ledger_path: Path):
    before = ledger_path.read_bytes()
    with pytest.raises(LedgerError):
        create_ledger(ledger_path, 2025, now=NOW)
    assert ledger_path.read_bytes() == before


# -- load / save round trip ----------------------------------------------------------------------------------
def test_round_trip_records_lists_and_dates(ledger_path: Path):
    store = LedgerStore(ledger_path)
    led, findings = store.load()
    assert findings == []
    assert led.tasks == []
    assert led.year == 2024

    led.tasks = [
        Task(id="2024-ZD-001", kind="重点任务", category="经济发展", seq="1",
             content="推动制造业高质量发展，新增规上工业企业30家", short_name="", leaders=["张副区长", "李副区长"],
             lead_units=["区工业和信息化局"], co_units=["各镇人民政府、街道办事处", "区财政局"],
             deadline=date(2024, 12, 31), cadence="季度", status="进行中", note="年度重点"),
        Task(id="2024-MS-03-2", kind="民生实事", category="教育", seq="3.2", content="新建公办幼儿园2所",
             leaders=["王副区长"], lead_units=["区教育局", "区住房和城乡建设局"], co_units=["区直各单位"],
             deadline="2024年9月底前", cadence="月度", status="进行中"),
    ]
    led.targets = [NodeTarget(task_id="2024-ZD-001", period="2024Q1", target="完成项目摸底", status="已确认",
                              confirmed_on=date(2024, 3, 5))]
    led.feedback = [Feedback(task_id="2024-ZD-001", period="2024Q1", unit="区工业和信息化局", completion="已完成",
                             progress="已完成摸底", self_light="绿灯", received_at=datetime(2024, 4, 8, 15, 30),
                             late="否")]
    led.units = [Unit(name="区工业和信息化局", aliases=["区工信局", "区经信局"], type="区直部门", contact="陈某",
                      phone="0762-1234567")]
    led.holidays = [Holiday(day=date(2024, 10, 1), type="休", note="国庆节")]
    led.set_setting("刊名", "源城督查专刊")
    store.save(led, now=datetime(2024, 1, 3, 10, 0))

    again, findings = LedgerStore(ledger_path).load()
    assert findings == []
    assert [t.model_dump() for t in again.tasks] == [
        dict(id="2024-ZD-001", kind="重点任务", category="经济发展", seq="1",
             content="推动制造业高质量发展，新增规上工业企业30家", short_name="", leaders=["张副区长", "李副区长"],
             lead_units=["区工业和信息化局"], co_units=["各镇人民政府、街道办事处", "区财政局"],
             deadline=date(2024, 12, 31), cadence="季度", status="进行中", note="年度重点"),
        dict(id="2024-MS-03-2", kind="民生实事", category="教育", seq="3.2", content="新建公办幼儿园2所", short_name="",
             leaders=["王副区长"], lead_units=["区教育局", "区住房和城乡建设局"], co_units=["区直各单位"],
             deadline="2024年9月底前", cadence="月度", status="进行中", note=""),
    ]
    assert type(again.tasks[0].deadline) is date  # a date, not a datetime and not text
    assert [t.model_dump() for t in again.targets] == [
        dict(task_id="2024-ZD-001", period="2024Q1", target="完成项目摸底", status="已确认",
             confirmed_on=date(2024, 3, 5), change_note="")]
    fb = again.feedback[0]
    assert fb.received_at == datetime(2024, 4, 8, 15, 30)
    assert (fb.unit, fb.completion, fb.self_light, fb.late) == ("区工业和信息化局", "已完成", "绿灯", "否")
    assert again.units[0].aliases == ["区工信局", "区经信局"]
    assert again.holidays[0].day == date(2024, 10, 1)
    assert setting_specs.read_settings(again.settings)[0].masthead == "源城督查专刊"
    assert again.year == 2024

    # what Excel shows: 、-joined text, real dates with a date format
    ws = reopen(ledger_path)["任务台账"]
    rows = rows_by_id(ws)
    assert rows["2024-ZD-001"]["配合单位"].value == "各镇人民政府、街道办事处、区财政局"
    assert rows["2024-ZD-001"]["责任领导"].value == "张副区长、李副区长"
    deadline = rows["2024-ZD-001"]["完成时限"]
    assert deadline.is_date and deadline.value == datetime(2024, 12, 31)
    assert "yy" in deadline.number_format.lower() and "h" not in deadline.number_format.lower()
    received = rows_by_id(reopen(ledger_path)["反馈记录"])["2024-ZD-001"]["报送时间"]
    assert received.is_date and "h" in received.number_format.lower()


def test_round_trip_edit_and_delete_leaves_no_stale_rows(ledger_path: Path):
    store = LedgerStore(ledger_path)
    led, _ = store.load()
    led.tasks = [task(f"2024-ZD-00{i}", f"任务{i}") for i in range(1, 4)]
    store.save(led, now=datetime(2024, 1, 3))

    led, _ = store.load()
    led.tasks[0].status = "已办结"
    led.tasks[0].co_units = ["区财政局", "有关镇人民政府、街道办事处"]
    del led.tasks[1]
    store.save(led, now=datetime(2024, 1, 4))

    again, _ = LedgerStore(ledger_path).load()
    assert [(t.id, t.status, t.co_units) for t in again.tasks] == [
        ("2024-ZD-001", "已办结", ["区财政局", "有关镇人民政府、街道办事处"]),
        ("2024-ZD-003", "进行中", []),
    ]
    ws = reopen(ledger_path)["任务台账"]
    assert all(c.value is None for c in ws[4][:12])  # the third row of the old data is empty now
    table = ws.tables["tblTasks"]
    assert range_boundaries(table.ref)[3] == 3  # table shrinks to header + 2 rows


def test_round_trip_keeps_full_width_brackets_in_unit_names(ledger_path: Path):
    store = LedgerStore(ledger_path)
    led, _ = store.load()
    led.tasks = [task("2024-ZD-001", "整治城区内涝点", lead_units=["区委办（区府办）"],
                      co_units=["各镇（街道）", "区城市管理和综合执法局"])]
    store.save(led, now=datetime(2024, 1, 3))
    again, _ = LedgerStore(ledger_path).load()
    assert again.tasks[0].lead_units == ["区委办（区府办）"]
    assert again.tasks[0].co_units == ["各镇（街道）", "区城市管理和综合执法局"]


# -- what the user added survives ---------------------------------------------------------------------------------
def test_user_column_and_user_sheet_survive_load_and_save(ledger_path: Path):
    store = LedgerStore(ledger_path)
    led, _ = store.load()
    led.tasks = [task("2024-ZD-001", "任务一"), task("2024-ZD-002", "任务二")]
    store.save(led, now=datetime(2024, 1, 3))

    # the clerk, in Excel: a column to the right of the table and a private sheet
    wb = reopen(ledger_path)
    ws = wb["任务台账"]
    assert ws["N1"].value is None
    ws["N1"] = "督办员"
    ws["N2"] = "刘干事"
    ws["N3"] = "黄干事"
    notes = wb.create_sheet("我的备注")
    notes["B3"] = "一季度通报前核对第5项"
    notes["B3"].fill = PatternFill("solid", fgColor="FFFFFF00")
    wb.save(ledger_path)

    led, findings = store.load()
    assert findings == []
    assert [t.extras for t in led.tasks] == [{"督办员": "刘干事"}, {"督办员": "黄干事"}]
    led.tasks.insert(0, task("2024-ZD-000", "插在最前面的任务"))
    led.tasks.append(task("2024-ZD-003", "新增任务三"))
    store.save(led, now=datetime(2024, 1, 4))

    wb = reopen(ledger_path)
    ws = wb["任务台账"]
    assert header_row(ws) == DESIGN_HEADERS["任务台账"] + ["督办员"]
    assert {tid: cells["督办员"].value for tid, cells in rows_by_id(ws).items()} == {
        "2024-ZD-000": None, "2024-ZD-001": "刘干事", "2024-ZD-002": "黄干事", "2024-ZD-003": None}
    table = ws.tables["tblTasks"]
    assert [c.name for c in table.tableColumns] == DESIGN_HEADERS["任务台账"] + ["督办员"]
    assert range_boundaries(table.ref) == (1, 1, len(DESIGN_HEADERS["任务台账"]) + 1, 5)

    assert "我的备注" in wb.sheetnames
    assert wb["我的备注"]["B3"].value == "一季度通报前核对第5项"
    assert wb["我的备注"]["B3"].fill.fill_type == "solid"
    assert wb["我的备注"]["B3"].fill.fgColor.rgb == "FFFFFF00"
    # and the store still reads the ledger as before
    again, _ = LedgerStore(ledger_path).load()
    assert [t.id for t in again.tasks] == ["2024-ZD-000", "2024-ZD-001", "2024-ZD-002", "2024-ZD-003"]
    assert again.tasks[1].extras == {"督办员": "刘干事"}


def test_user_column_text_that_looks_like_a_formula_stays_text(ledger_path: Path):
    store = LedgerStore(ledger_path)
    led, _ = store.load()
    led.tasks = [task("2024-ZD-001", "任务一")]
    store.save(led, now=datetime(2024, 1, 3))
    wb = reopen(ledger_path)
    ws = wb["任务台账"]
    ws["N1"] = "批注"
    ws["N2"] = "=1+1"
    ws["N2"].data_type = "s"  # typed as text in Excel ('=1+1)
    wb.save(ledger_path)
    assert reopen(ledger_path)["任务台账"]["N2"].data_type == "s"

    led, _ = store.load()
    store.save(led, now=datetime(2024, 1, 4))
    cell = reopen(ledger_path)["任务台账"]["N2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")


# -- text that looks like a formula ----------------------------------------------------------------------------------
FORMULA_LIKE = ["=1+1", "=SUM(A1:A3)", "+86 0762-3333333", "-5%以内", "@区财政局", "=HYPERLINK(\"http://x\")"]


def test_formula_like_text_is_stored_as_text(ledger_path: Path):
    store = LedgerStore(ledger_path)
    led, _ = store.load()
    led.tasks = [task(f"2024-ZD-{i:03d}", text, category=text, note=text, leaders=[text])
                 for i, text in enumerate(FORMULA_LIKE, 1)]
    store.save(led, now=datetime(2024, 1, 3))

    ws = reopen(ledger_path)["任务台账"]
    rows = rows_by_id(ws)
    for i, text in enumerate(FORMULA_LIKE, 1):
        for header in ("大类", "工作任务", "责任领导", "备注"):
            cell = rows[f"2024-ZD-{i:03d}"][header]
            assert (cell.value, cell.data_type) == (text, "s"), (header, text)
    with zipfile.ZipFile(ledger_path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in zf.read(name) and b"<f " not in zf.read(name), name
    again, _ = LedgerStore(ledger_path).load()
    assert [t.content for t in again.tasks] == FORMULA_LIKE
    assert [t.note for t in again.tasks] == FORMULA_LIKE


# -- Excel holds the file ------------------------------------------------------------------------------------------
LONG_NAME = "2024年政府工作报告重点任务督查台账.xlsx"


@pytest.mark.parametrize("name, owner", [
    ("台账.xlsx", "~$台账.xlsx"),
    (LONG_NAME, "~$24年政府工作报告重点任务督查台账.xlsx"),  # Excel drops the first two characters
])
def test_load_and_save_refused_while_excel_holds_the_file(tmp_path: Path, name: str, owner: str):
    path = tmp_path / name
    create_ledger(path, 2024, now=NOW)
    store = LedgerStore(path)
    led, _ = store.load()
    led.tasks = [task("2024-ZD-001", "任务一")]

    lock = tmp_path / owner
    lock.write_bytes(b"\x0bExcel user")
    before = path.read_bytes()
    with pytest.raises(LedgerError, match="正在被 Excel"):
        LedgerStore(path).load()
    with pytest.raises(LedgerError, match="正在被 Excel"):
        store.save(led, now=datetime(2024, 1, 3))
    assert path.read_bytes() == before
    assert backups(path) == []

    lock.unlink()  # Excel closed: the same save goes through
    store.save(led, now=datetime(2024, 1, 3))
    assert [t.id for t in LedgerStore(path).load()[0].tasks] == ["2024-ZD-001"]


# -- atomic save and backups ------------------------------------------------------------------------------------------
def test_save_backs_up_previous_file(ledger_path: Path):
    before = ledger_path.read_bytes()
    store = LedgerStore(ledger_path)
    led, _ = store.load()
    led.tasks = [task("2024-ZD-001", "任务一")]
    store.save(led, now=datetime(2024, 1, 3, 10, 0))

    saved = backups(ledger_path)
    assert len(saved) == 1
    assert saved[0].read_bytes() == before
    assert saved[0].suffix == ".xlsx"
    assert ledger_path.read_bytes() != before
    assert sheet_files(ledger_path) == [ledger_path]  # no temp file left beside the ledger


def test_backups_rotate_to_setting(ledger_path: Path):
    store = LedgerStore(ledger_path)
    led, _ = store.load()
    led.set_setting("备份保留份数", 2)
    store.save(led, now=datetime(2024, 1, 3, 9, 0))  # the setting is in the file from now on
    for p in backups(ledger_path):
        p.unlink()

    before_each = []
    for i in range(4):
        led, _ = store.load()
        led.tasks = [task("2024-ZD-001", f"第{i}次修改")]
        before_each.append(ledger_path.read_bytes())
        store.save(led, now=datetime(2024, 1, 4, 10, i))

    kept = backups(ledger_path)
    assert len(set(before_each)) == 4
    # the newest two, and the day's first (the state before the day's work began)
    assert sorted(p.read_bytes() for p in kept) == sorted([before_each[0], *before_each[2:]])


def test_a_burst_of_saves_never_pushes_out_yesterdays_backup(ledger_path: Path):
    store = LedgerStore(ledger_path)
    led, _ = store.load()
    led.set_setting("备份保留份数", 3)
    store.save(led, now=datetime(2024, 1, 3, 17, 0))  # yesterday's last work
    yesterday = backups(ledger_path)
    assert len(yesterday) == 1
    kept_bytes = yesterday[0].read_bytes()
    for i in range(12):  # ten typos and more, the next morning
        led, _ = store.load()
        led.tasks = [task("2024-ZD-001", f"第{i}次修改")]
        store.save(led, now=datetime(2024, 1, 4, 9, i))
    kept = backups(ledger_path)
    assert kept_bytes in [p.read_bytes() for p in kept]
    # 3 newest + the first of 2024-01-04 + the first of 2024-01-03
    assert len(kept) == 5
    assert sorted(p.name[len("台账."):len("台账.") + 8] for p in kept) == ["20240103", "20240104", "20240104", "20240104", "20240104"]


def test_backups_rotate_for_ledger_name_with_brackets(tmp_path: Path):
    path = tmp_path / "台账[定稿].xlsx"
    create_ledger(path, 2024, now=NOW)
    store = LedgerStore(path)
    led, _ = store.load()
    led.set_setting("备份保留份数", 2)
    for i in range(4):
        store.save(led, now=datetime(2024, 1, 4, 10, i))
    assert len(backups(path)) == 3  # the newest two and the day's first


class DiskFull(OSError):
    pass


def test_failed_write_leaves_ledger_untouched(ledger_path: Path, monkeypatch: pytest.MonkeyPatch):
    store = LedgerStore(ledger_path)
    led, _ = store.load()
    led.tasks = [task("2024-ZD-001", "任务一")]
    store.save(led, now=datetime(2024, 1, 3))
    before = ledger_path.read_bytes()
    backups_before = [p.name for p in backups(ledger_path)]

    calls = []

    def half_write(path: Path, data: bytes):  # the disk fills up half-way through the file
        path.write_bytes(data[: len(data) // 2])
        calls.append(path)
        raise DiskFull(28, "No space left on device")

    monkeypatch.setattr(ledger_store, "write_durably", half_write)
    led.tasks.append(task("2024-ZD-002", "任务二"))
    with pytest.raises((DiskFull, LedgerError)):
        store.save(led, now=datetime(2024, 1, 4))

    assert calls and calls[0] != ledger_path  # the half file went elsewhere ...
    assert ledger_path.read_bytes() == before  # ... the ledger is byte-identical
    assert sheet_files(ledger_path) == [ledger_path]  # and no temp file is left
    assert [p.name for p in backups(ledger_path)] == backups_before
    assert [t.id for t in LedgerStore(ledger_path).load()[0].tasks] == ["2024-ZD-001"]

    monkeypatch.undo()  # disk freed: the next save works
    store.save(led, now=datetime(2024, 1, 5))
    assert [t.id for t in LedgerStore(ledger_path).load()[0].tasks] == ["2024-ZD-001", "2024-ZD-002"]


def test_failed_rename_leaves_ledger_untouched(ledger_path: Path, monkeypatch: pytest.MonkeyPatch):
    before = ledger_path.read_bytes()
    store = LedgerStore(ledger_path)
    led, _ = store.load()
    led.tasks = [task("2024-ZD-001", "任务一")]

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied", str(dst))

    monkeypatch.setattr(ledger_store.os, "replace", refuse)
    with pytest.raises((PermissionError, LedgerError)):
        store.save(led, now=datetime(2024, 1, 3))
    monkeypatch.undo()
    assert ledger_path.read_bytes() == before
    assert sheet_files(ledger_path) == [ledger_path]


# -- highlights ------------------------------------------------------------------------------------------------
def test_highlights_set_and_cleared_user_fill_kept(ledger_path: Path):
    store = LedgerStore(ledger_path)
    led, _ = store.load()
    led.tasks = [task("2024-ZD-001", "任务一", lead_units=["区发改局"]), task("2024-ZD-002", "任务二")]
    finding = Finding(code="unknown-unit", level=Level.error, sheet="任务台账", row=2, column="牵头单位",
                      message="第2行【牵头单位】“区发改局”不在单位名录中", hint="改为“区发展和改革局”")
    store.save(led, highlights=[finding], now=datetime(2024, 1, 3))

    ws = reopen(ledger_path)["任务台账"]
    lead_col = DESIGN_HEADERS["任务台账"].index("牵头单位") + 1
    cell = ws.cell(2, lead_col)
    assert cell.value == "区发改局"
    assert cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == HIGHLIGHT
    assert cell.comment is not None and "不在单位名录中" in cell.comment.text
    assert ws.cell(3, lead_col).fill.fill_type is None  # only the pointed cell
    assert ws.cell(2, lead_col - 1).fill.fill_type is None

    # the clerk marks another cell in her own colour, then the next validation finds nothing
    wb = reopen(ledger_path)
    wb["任务台账"]["E3"].fill = PatternFill("solid", fgColor="FF92D050")
    wb.save(ledger_path)
    led, _ = store.load()
    store.save(led, highlights=[], now=datetime(2024, 1, 4))

    ws = reopen(ledger_path)["任务台账"]
    cell = ws.cell(2, lead_col)
    assert cell.fill.fill_type is None or cell.fill.fgColor.rgb != HIGHLIGHT
    assert cell.comment is None
    assert ws["E3"].fill.fill_type == "solid" and ws["E3"].fill.fgColor.rgb == "FF92D050"
    assert ws["E3"].value == "任务二"


def test_save_without_highlights_argument_keeps_existing_highlight(ledger_path: Path):
    """highlights=None means 'not a validation run': leave the marks alone."""
    store = LedgerStore(ledger_path)
    led, _ = store.load()
    led.tasks = [task("2024-ZD-001", "任务一")]
    finding = Finding(code="bad-deadline", level=Level.warning, sheet="任务台账", row=2, column="完成时限",
                      message="第2行【完成时限】无法识别")
    store.save(led, highlights=[finding], now=datetime(2024, 1, 3))
    led, _ = store.load()
    store.save(led, now=datetime(2024, 1, 4))
    cell = reopen(ledger_path)["任务台账"].cell(2, column_index_from_string("I"))
    assert cell.fill.fgColor.rgb == HIGHLIGHT
    assert cell.comment is not None
