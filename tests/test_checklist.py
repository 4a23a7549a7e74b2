"""docs/首次核对清单.md — the first manual check in Windows Excel and WPS — is generated here:
every expected answer in it (each button's message, each worksheet function's result, the
checks ``duban doctor`` lists) is computed by running the code, so the checklist cannot drift
from it. ``python -m tests.test_checklist --write`` rewrites the file; the test fails while
the committed file differs.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

import udfs
from tests.fake_registry import office
from tests.xlwings_remote import run_macro
from xl_duban import ribbon
from xl_duban.buttons import BUTTONS
from xl_duban.demo import write_unit_directory
from xl_duban.domain.models import TaskKind
from xl_duban.io.ledger_store import LedgerStore
from xl_duban.reports import summary_lines
from xl_duban.samples import fill_return, seed_2022_tables, write_tables_docx
from xl_duban.services import check_environment, init_ledger, issue_workbooks
from xl_duban.simulation import issued_rows, target_answers

CHECKLIST = Path(__file__).resolve().parents[1] / "docs" / "首次核对清单.md"
# the tester's day: after every 2022 deadline, as on the office PC (numbers are the same on any
# such day; dates counted from today, such as a 整改期限, differ)
NOW = datetime(2026, 12, 14, 9, 0)
SHOWN_CHARS = 120  # a longer line is cut: the tester compares its start
FOLDER = r"D:\督查\核对"
LEDGER = "2022年督查台账.xlsm"

# worksheet functions: (function, arguments as typed in the cell, what it shows) — results computed below
FUNCTIONS = [
    ("DUBAN_DUE", ("2024-01",), "2024年1月民生实事月报截止日（春节前的调休上班日）"),
    ("DUBAN_DUE", ("2024Q3",), "2024年三季度重点任务截止日"),
    ("DUBAN_WORKDAY", (date(2024, 9, 30), 1), "9月30日之后的第1个工作日（国庆放假）"),
    ("DUBAN_CALENDAR_STATUS", (2026,), "2026年节假日来源"),
    ("DUBAN_CALENDAR_STATUS", (2027,), "2027年节假日来源（未登记时为推算）"),
    ("DUBAN_LIGHT", ("已完成", "2024Q1"), "已完成"),
    ("DUBAN_LIGHT", ("未完成", "2024Q1"), "未完成"),
    ("DUBAN_LIGHT", ("未完成", "2024Q1", None, "黄灯"), "上期黄灯、本期仍未完成"),
    ("DUBAN_LIGHT", ("", "2024Q1"), "未报送"),
    ("DUBAN_STREAK", ((("黄灯", "黄灯", "绿灯", "黄灯"),),), "最后连续黄灯次数"),
    ("DUBAN_OVERDUE", ("12月10日前", "推进中", date(2024, 12, 20), 2024), "完成时限已过、未办结"),
    ("DUBAN_UNIT", ("区发改局", (("单位名称", "别名"), ("区发展和改革局", "区发改局"))), "简称换成规范名称"),
    ("DUBAN_SIMILAR", ("已完成项目立项", "已完成项目立项工作"), "两段进展的相似度"),
]


def excel_argument(value) -> str:
    """A Python argument as it is typed into an Excel formula."""
    if value is None:
        return ""
    if isinstance(value, date):
        return f"DATE({value.year},{value.month},{value.day})"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple):  # a 2-D array constant: rows by ';', columns by ','
        return "{" + ";".join(",".join(excel_argument(v) for v in row) for row in value) + "}"
    return str(value)


def shown(value) -> str:
    """What the cell shows (dates formatted as dates)."""
    while isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    return value.isoformat() if isinstance(value, date) else str(value)


def function_rows() -> list[str]:
    rows = []
    for name, args, what in FUNCTIONS:
        result = getattr(udfs, name)(*[list(map(list, a)) if isinstance(a, tuple) else a for a in args])
        formula = f"={name}({','.join(excel_argument(a) for a in args)})"
        rows.append(f"| `{formula}` | {what} | **{shown(result)}** | |")
    return rows


def _office(folder: Path) -> Path:
    """The check folder: 来文 with the 2022 documents (from `duban demo`), a fresh .xlsm ledger
    whose 设置 names 2022Q1 and 2022-03 (as the checklist tells the tester to type)."""
    tables = seed_2022_tables()
    write_unit_directory(folder / "来文" / "单位名录.xlsx", now=NOW)
    write_tables_docx([tables["附件2"]], folder / "来文" / "附件2 督查重点任务清单.docx")
    write_tables_docx([tables["附件3"]], folder / "来文" / "附件3 十件民生实事任务分解表.docx")
    ledger = folder / LEDGER
    init_ledger(ledger, 2022, now=NOW)
    store = LedgerStore(ledger)
    data, _ = store.load()
    data.set_setting("当前季度", "2022Q1")
    data.set_setting("当前月份", "2022-03")
    store.save(data, now=NOW)
    return ledger


FILLED = 2  # units whose 目标安排表 the tester fills: the first in Excel, the second in WPS


def _lines(lines: list[str], folder: Path) -> str:
    """The first lines of a message box (and its first finding), as the tester's machine shows them."""
    kept = [line for line in lines if not line.startswith("·")][:4] + [line for line in lines if line.startswith("·")][:1]
    kept = [line if len(line) <= SHOWN_CHARS else line[:SHOWN_CHARS] + "……" for line in kept]
    return "<br>".join(kept).replace(str(folder), FOLDER).replace("/", "\\")


def scenario(folder: Path) -> tuple[list[str], dict[str, str]]:
    """The checklist's path through the program, run for real: a fresh .xlsm ledger, the
    buttons pressed on xlwings' remote engine (as tests/test_macros.py), the 目标安排表 issued
    from the command line and two of them filled in (openpyxl standing in for Excel and WPS).
    Returns the button table's rows and the other expected answers."""
    ledger = _office(folder)
    rows: list[str] = []
    facts: dict[str, str] = {}
    here = os.getcwd()
    os.chdir(folder)

    def press(key: str) -> None:
        button = next(b for b in BUTTONS if b.key == key)
        pressed = run_macro(ledger, lambda book: ribbon.press(key, book, now=NOW)).return_value
        expected = ("逐项列出 ✔ / ⚠ / ✘，最后一行“共 N 项：……”；应没有 ✘（有则照 → 后的提示处理后再按）"
                    if key == "doctor" else _lines(pressed.lines, folder))
        rows.append(f"| {len(rows) + 1} | {button.group.label} | **{button.label}** | {button.doc} | {expected} | |")

    try:
        press("import_tasks")
        press("validate")
        issued = issue_workbooks(ledger, "2022", folder / "下发" / "目标", now=NOW, targets=True)
        facts["targets_issued"] = _lines(summary_lines("issue", issued), folder)
        files = sorted((w["unit"], Path(w["file"])) for w in issued.summary["workbooks"])[:FILLED]
        facts["filled_units"] = "、".join(unit for unit, _ in files)
        facts["filled_files"] = "、".join(f"`{path.name}`" for _, path in files)
        for unit, path in files:
            out = fill_return(path, folder / "inbox" / path.name, target_answers(issued_rows(path), TaskKind.key, 2022))
            os.utime(out, (NOW.timestamp() + 3600,) * 2)
        for key in ("collect", "confirm_targets", "issue", "send", "remind", "light", "quarterly_bulletin",
                    "monthly_bulletin", "publish", "leader_briefs", "score", "rollover", "doctor"):
            press(key)
    finally:
        os.chdir(here)
    assert len(rows) == len(BUTTONS)
    return rows, facts


def doctor_rows(folder: Path) -> list[str]:
    """The checks duban doctor makes on a Windows PC with a ledger (the registry faked)."""
    ledger = folder / LEDGER
    lock = ledger.with_name("~$" + ledger.name)
    lock.unlink(missing_ok=True)
    saved = {k: os.environ.get(k) for k in ("APPDATA", "USERPROFILE", "XL_DUBAN_CONFIG_DIR")}
    os.environ.update(APPDATA=str(folder / "AppData"), USERPROFILE=str(folder), XL_DUBAN_CONFIG_DIR=str(folder / "cfg"))
    try:
        checks = check_environment(ledger, now=datetime(2026, 12, 7), registry=office()).summary["checks"]
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    python = r"D:\督办\xl_duban-offline\venv\Scripts\python.exe"
    rows = []
    for c in checks:
        fix = c["fix"].replace(sys.executable, python).replace(str(folder / "cfg"), r"%APPDATA%\xl_duban")
        rows.append(f"| `{c['name']}` | {re.sub(r'20[0-9]{2}年', '今年/明年', c['title'])} | {re.sub(r'20[0-9]{2}年', '该年', fix)} |")
    return rows


def render() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "核对"
        folder.mkdir()
        buttons, facts = scenario(folder)
        checks = doctor_rows(folder)
    seen, unique = set(), []
    for row in checks:  # calendar rows of this year and next share a title
        if row.split("|")[2] not in seen:
            seen.add(row.split("|")[2])
            unique.append(row)
    return TEMPLATE.format(buttons="\n".join(buttons), functions="\n".join(function_rows()), checks="\n".join(unique),
                           folder=FOLDER, ledger=LEDGER, **facts)


TEMPLATE = """\
# 首次核对清单（Windows Excel 约 20 分钟，WPS 约 10 分钟）

<!-- 本文件由 `python -m tests.test_checklist --write` 生成：表中“应看到”一列是测试实际运行程序算出的，
     请勿手改；程序改变时测试会失败，重新生成即可。 -->

督办的功能区和工作表函数在开发时没有 Windows 电脑可用，只在 Linux 上用 xlwings 的远程引擎测试过。
请在办公室的 Windows 电脑上照本清单做一遍，逐行在最后一列填“✔”或“✘ + 实际看到的内容”，然后把
**填好的本清单**和 **`duban doctor --json` 的输出文件**（见第 2 步）发回给维护人员。

## 1. 安装（离线安装包）

1. 先装 64 位 Python 3.11 或 3.12（安装时勾选“Add python.exe to PATH”）。
2. 把离线安装包文件夹 `xl_duban-offline` 复制到 `D:\\督办\\xl_duban-offline`，双击 `install.bat`；最后应显示 `duban.exe` 的完整路径。 结果：____
3. 命令提示符中执行 `D:\\督办\\xl_duban-offline\\venv\\Scripts\\xlwings addin install`，再打开 Excel 的“xlwings”选项卡，
   Interpreter 填 `D:\\督办\\xl_duban-offline\\venv\\Scripts\\python.exe`。

## 2. `duban doctor`

```
mkdir {folder}
cd /d {folder}
D:\\督办\\xl_duban-offline\\venv\\Scripts\\duban doctor
D:\\督办\\xl_duban-offline\\venv\\Scripts\\duban doctor --json > doctor.json
```

应看到下列各项，每项 ✔ / ⚠ / ✘ 和一行说明；✘ 项照 → 后的提示处理，再运行一次。“今年/明年节假日”在国务院公布
放假安排前为 ⚠ 推算，属正常。第 3 步建好台账后，再运行 `duban doctor {ledger} --json > doctor.json`（多出台账各项）。

| 名称（JSON 的 name） | 检查 | ✘ / ⚠ 时怎么办 |
|---|---|---|
{checks}

## 3. 建台账、打开模板

1. 另找一个文件夹执行 `duban demo 演示`，把 `演示\\来文\\` 中的三个文件复制到 `{folder}\\来文\\`。
2. `duban init 2022 {folder}\\{ledger}`，用 Excel 打开。若出现黄色“安全警告”，点“启用内容”；若是红色“已阻止宏”，
   关闭文件，右键 → 属性 → 勾选“解除锁定”，再打开。 结果：____
3. 功能区应出现“督办”选项卡，分组和按钮与下表一致。 结果：____
4. 在【设置】中把“当前季度”填 `2022Q1`、“当前月份”填 `2022-03`，保存。

## 4. 按钮和单位表格（按下表顺序，每个按钮按完看提示框，再 Ctrl+S 保存）

“应看到”是提示框的前几行和第一条问题（数字应相同；路径、从今天算起的日期可以不同）。第 2 个按钮之后先做下面的“单位表格”，再按第 3 个。

**单位表格（Excel 一次，WPS 一次）**

1. 命令提示符中执行 `duban issue {folder}\\{ledger} --targets --period 2022 --out {folder}\\下发\\目标`
   （年初目标安排表只在命令行下发），应显示：{targets_issued}　结果：____
2. 打开 `{folder}\\下发\\目标\\` 中{filled_files}（{filled_units}）。灰色单元格（任务编号、工作任务）应不能修改，
   “节点目标”各列可以填写。第一份用 **Excel**、第二份用 **WPS 表格**：每行每个季度填一句节点目标，
   **另存到** `{folder}\\inbox\\`（文件名不变，.xlsx 格式），关闭。　结果：Excel ____　WPS ____
3. 回到台账，接着按下表第 3 个按钮“收集反馈”：两份都应接收；若有退回，把 `quarantine\\` 中的文件和“退回原因.txt”一并发回。

| # | 分组 | 按钮 | 做什么 | 应看到 | 结果 |
|---|---|---|---|---|---|
{buttons}

按过“亮灯”后看【督查看板】（最后一张工作表）：应有“重点任务：各季度亮灯情况”（堆积柱形图）和“重点任务：按责任领导”（堆积条形图）
两张 Excel 图表，系列为绿灯、黄灯、红灯，颜色分别为绿、黄、红；再按一次“亮灯”，仍是两张（不重复叠加）。　结果：____

## 5. 工作表函数

在台账新建一张工作表，逐个输入公式（结果是日期的单元格设为日期格式）。也可在函数向导的“督办”类别中找到这些函数。

| 公式 | 含义 | 应显示 | 结果 |
|---|---|---|---|
{functions}

## 6. WPS（约 10 分钟，另一台装 WPS 的电脑也可以）

1. 单位表格：第 4 步“单位表格”中的第二份目标安排表用 WPS 表格填写并另存为 .xlsx，收集时应被接收（见第 4 步第 3 个按钮）。　结果：____
2. 用 WPS 表格打开台账 `{folder}\\{ledger}`：各工作表、表头、下拉列表（如【任务台账】“状态”列）应正常显示。　结果：____
3. WPS 中“督办”选项卡的按钮和 `DUBAN_*` 函数不可用（xlwings 只支持 Windows Excel），属预期；记下看到的情况（选项卡是否出现、
   公式显示什么）。**不要在 WPS 中保存台账**（关闭时选“不保存”）。　结果：____
4. 打开第 4 步“季度通报”生成的 `{folder}\\通报\\` 中的 .docx（WPS 文字）：红色版头、标题、仿宋正文、图表中的单位名称应是汉字而不是方框。　结果：____

## 7. 发回

- 本清单（每行最后一列已填）；
- `doctor.json`（`duban doctor {ledger} --json` 的输出；其中不含任何密码）；
- 有 ⚠“错误记录”时，`duban doctor` 所示的 error.log 文件；
- 被退回的反馈表及其“退回原因.txt”（如有）。
"""


def test_checklist_is_what_the_code_gives():
    assert CHECKLIST.read_text(encoding="utf-8") == render(), (
        "docs/首次核对清单.md is stale: run `python -m tests.test_checklist --write`")


if __name__ == "__main__":  # python -m tests.test_checklist --write
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python -m tests.test_checklist --write")
    CHECKLIST.write_text(render(), encoding="utf-8")
    print(f"written: {CHECKLIST}")
