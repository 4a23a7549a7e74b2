"""The ledger in a real office suite: headless LibreOffice Calc (DESIGN §1, §8 real-client tests).

A ledger written by xl_duban must open in LibreOffice, survive a LibreOffice re-save with the
same sheets and texts (text that looks like a formula stays text), and print. The first page
of the 任务台账 sheet is rendered to ``test-artifacts/`` so a person can look at it.

LibreOffice missing: skipped locally, a failure when the ``CI`` environment variable is set.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from xl_duban.domain.models import Task
from xl_duban.io.ledger_store import LedgerStore, create_ledger

from .processes import run_bounded

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
TIMEOUT = 120  # seconds per external call; a hung soffice fails the test instead of the run

SHEETS = ["任务台账", "节点目标", "反馈记录", "亮灯记录", "亮灯总览", "单位名录", "报送情况", "校验结果",
          "变更日志", "设置", "节假日", "考核调整"]
TASK_HEADERS = ["任务编号", "类别", "大类", "序号", "工作任务", "责任领导", "牵头单位", "配合单位", "完成时限",
                "报送周期", "状态", "备注"]

TASKS = [
    Task(id="2024-ZD-001", kind="重点任务", category="经济发展", seq="1",
         content="推动制造业高质量发展，全年新增规上工业企业30家", leaders=["张副区长", "李副区长"],
         lead_units=["区工业和信息化局"], co_units=["各镇人民政府、街道办事处", "区财政局"],
         deadline=date(2024, 12, 31), cadence="季度", status="进行中", note="年度重点"),
    Task(id="2024-ZD-002", kind="重点任务", category="城市建设", seq="2", content="=1+1",
         leaders=["王副区长"], lead_units=["区住房和城乡建设局"], co_units=[], deadline=date(2024, 6, 30),
         cadence="季度", status="进行中", note="+86 0762-3333333"),
    Task(id="2024-MS-03-2", kind="民生实事", category="教育", seq="3.2", content="新建公办幼儿园2所，新增学位540个",
         leaders=["陈副区长"], lead_units=["区教育局"], co_units=["区自然资源局"], deadline="2024年9月底前",
         cadence="月度", status="已办结", note="@区教育局 核实"),
]
# cell texts of 任务台账 as a user sees them (任务编号 → {header: text})
EXPECTED_TEXT = {
    "2024-ZD-001": {"工作任务": "推动制造业高质量发展，全年新增规上工业企业30家", "责任领导": "张副区长、李副区长",
                    "牵头单位": "区工业和信息化局", "配合单位": "各镇人民政府、街道办事处、区财政局", "备注": "年度重点",
                    "类别": "重点任务", "报送周期": "季度", "状态": "进行中"},
    "2024-ZD-002": {"工作任务": "=1+1", "责任领导": "王副区长", "牵头单位": "区住房和城乡建设局",
                    "备注": "+86 0762-3333333", "类别": "重点任务"},
    "2024-MS-03-2": {"工作任务": "新建公办幼儿园2所，新增学位540个", "牵头单位": "区教育局", "配合单位": "区自然资源局",
                     "完成时限": "2024年9月底前", "备注": "@区教育局 核实", "类别": "民生实事", "状态": "已办结"},
}


# -- running the office suite -------------------------------------------------------------------------------------
def _require(tool: str, package: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        message = f"`{tool}` not found on PATH (install the Debian package {package})"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {message}; real-client tests must run in CI", pytrace=False)
        pytest.skip(message)
    return exe


def _run(args: list[str], *, what: str) -> subprocess.CompletedProcess:
    """Run a command (killed with its process group after TIMEOUT seconds); it must succeed."""
    result = run_bounded(args, TIMEOUT, what)
    assert result.returncode == 0, f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


class Office:
    """One headless LibreOffice with a private profile (never the user's own)."""

    def __init__(self, exe: str, profile: Path) -> None:
        self.exe = exe
        self.profile = profile

    def convert(self, source: Path, target: str, outdir: Path, suffix: str) -> Path:
        outdir.mkdir(parents=True, exist_ok=True)
        _run([self.exe, "--headless", "--norestore", f"-env:UserInstallation={self.profile.as_uri()}",
              "--convert-to", target, "--outdir", str(outdir), str(source)], what=f"soffice --convert-to {target}")
        out = outdir / (source.stem + suffix)
        assert out.exists() and out.stat().st_size > 0, f"LibreOffice wrote no {out.name}"
        return out


@pytest.fixture(scope="session")
def office(tmp_path_factory: pytest.TempPathFactory) -> Office:
    exe = _require("soffice", "libreoffice-calc-nogui")
    return Office(exe, tmp_path_factory.mktemp("lo-profile"))


@pytest.fixture(scope="session")
def poppler() -> dict[str, str]:
    return {tool: _require(tool, "poppler-utils") for tool in ("pdftoppm", "pdftotext")}


@pytest.fixture(scope="session")
def filled_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger made by create_ledger and filled with tasks through the store."""
    path = tmp_path_factory.mktemp("ledger") / "ledger2024.xlsx"
    create_ledger(path, 2024, now=datetime(2024, 1, 2, 9, 0))
    store = LedgerStore(path)
    led, _ = store.load()
    led.tasks = [t.model_copy(deep=True) for t in TASKS]
    store.save(led, now=datetime(2024, 1, 3, 9, 0))
    return path


@pytest.fixture(scope="session")
def lo_xlsx(office: Office, filled_ledger: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return office.convert(filled_ledger, 'xlsx:Calc MS Excel 2007 XML', tmp_path_factory.mktemp("lo-xlsx"), ".xlsx")


def task_texts_from_rows(rows: list[list]) -> dict[str, dict[str, object]]:
    headers = [str(h) for h in rows[0]]
    assert headers[: len(TASK_HEADERS)] == TASK_HEADERS
    return {row[0]: dict(zip(headers, row)) for row in rows[1:] if row and row[0]}


# -- tests ------------------------------------------------------------------------------------------------
def test_libreoffice_converts_ledger_to_xlsx_and_pdf(office: Office, filled_ledger: Path, lo_xlsx: Path,
                                                      tmp_path: Path):
    with zipfile.ZipFile(lo_xlsx) as zf:
        assert zf.testzip() is None
        assert "xl/workbook.xml" in zf.namelist()
    pdf = office.convert(filled_ledger, "pdf", tmp_path, ".pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_libreoffice_resave_keeps_sheets_and_task_texts(lo_xlsx: Path):
    book = CalamineWorkbook.from_path(str(lo_xlsx))
    assert book.sheet_names == SHEETS
    rows = book.get_sheet_by_name("任务台账").to_python()
    texts = task_texts_from_rows(rows)
    assert list(texts) == ["2024-ZD-001", "2024-ZD-002", "2024-MS-03-2"]
    for task_id, expected in EXPECTED_TEXT.items():
        for header, text in expected.items():
            assert texts[task_id][header] == text, (task_id, header)
    assert texts["2024-ZD-001"]["完成时限"] == date(2024, 12, 31)  # still a date after the round trip

    # the formula-looking text is a text cell in LibreOffice's file, not a formula that gives 2
    ws = openpyxl.load_workbook(lo_xlsx)["任务台账"]
    cells = {row[0].value: row for row in ws.iter_rows(min_row=2, max_col=len(TASK_HEADERS))}
    content = cells["2024-ZD-002"][TASK_HEADERS.index("工作任务")]
    assert (content.value, content.data_type) == ("=1+1", "s")
    note = cells["2024-ZD-002"][TASK_HEADERS.index("备注")]
    assert (note.value, note.data_type) == ("+86 0762-3333333", "s")


def test_libreoffice_resaved_ledger_loads_back(lo_xlsx: Path, tmp_path: Path):
    """A clerk who opened and saved the ledger in LibreOffice still has a ledger."""
    copy = tmp_path / "resaved.xlsx"
    shutil.copy2(lo_xlsx, copy)
    led, findings = LedgerStore(copy).load()
    assert findings == []
    assert led.year == 2024
    assert [t.model_dump() for t in led.tasks] == [t.model_dump() for t in TASKS]


def test_libreoffice_saved_ledger_takes_a_change_and_opens_again(office: Office, lo_xlsx: Path, tmp_path: Path):
    """LibreOffice's file keeps its texts in a shared-string table and its own cell formats;
    the store copies the rows it does not change as they are, so both must still fit."""
    copy = tmp_path / "resaved.xlsx"
    shutil.copy2(lo_xlsx, copy)
    with zipfile.ZipFile(copy) as zf:
        assert "xl/sharedStrings.xml" in zf.namelist()  # the premise: rows point into the table
    store = LedgerStore(copy)
    led, _ = store.load()
    added = TASKS[0].model_copy(update={"id": "2024-ZD-009", "content": "新增的任务"})
    led.tasks.append(added)
    store.save(led, now=datetime(2024, 2, 1, 9, 0))

    texts = task_texts_from_rows(CalamineWorkbook.from_path(str(copy)).get_sheet_by_name("任务台账").to_python())
    assert list(texts) == ["2024-ZD-001", "2024-ZD-002", "2024-MS-03-2", "2024-ZD-009"]
    for task_id, expected in EXPECTED_TEXT.items():
        for header, text in expected.items():
            assert texts[task_id][header] == text, (task_id, header)
    date_format = openpyxl.load_workbook(lo_xlsx)["任务台账"]["I2"].number_format  # LibreOffice's own
    ws = openpyxl.load_workbook(copy)["任务台账"]
    assert ws["I2"].value == datetime(2024, 12, 31) and ws["I2"].number_format == date_format
    assert [t.model_dump(exclude={"row"}) for t in LedgerStore(copy).load()[0].tasks] == \
        [t.model_dump(exclude={"row"}) for t in [*TASKS, added]]
    pdf = office.convert(copy, "pdf", tmp_path / "pdf", ".pdf")  # LibreOffice opens the result
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_task_sheet_renders_to_pdf_and_png(office: Office, filled_ledger: Path, poppler: dict[str, str],
                                           tmp_path: Path):
    # only the first page: the 任务台账 sheet is the first sheet and fits one page wide
    pdf = office.convert(filled_ledger, 'pdf:calc_pdf_Export:{"PageRange":{"type":"string","value":"1"}}',
                         tmp_path, ".pdf")
    text = _run([poppler["pdftotext"], "-f", "1", "-l", "1", "-layout", str(pdf), "-"], what="pdftotext").stdout
    flat = "".join(text.split())
    for header in ("任务编号", "工作任务", "责任领导", "牵头单位", "配合单位", "完成时限", "报送周期"):
        assert header in flat, header
    for word in ("2024-ZD-001", "2024-MS-03-2", "区工业和信息化局", "区住房和城乡建设局", "=1+1"):
        assert word in flat, word
    assert "节点目标" not in flat and "项目" not in flat  # no other sheet on this page

    ARTIFACTS.mkdir(exist_ok=True)
    stem = ARTIFACTS / "ledger-任务台账"
    png = stem.with_name(stem.name + ".png")
    png.unlink(missing_ok=True)
    _run([poppler["pdftoppm"], "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
         what="pdftoppm")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    # A4 landscape at 60 dpi is about 702 x 496 pixels
    assert width > height
    assert 650 <= width <= 750 and 450 <= height <= 550, (width, height)


@pytest.mark.parametrize("targets", [False, True], ids=["反馈表", "目标安排表"])
def test_issued_unit_workbooks_render_in_libreoffice(office: Office, poppler: dict[str, str], planned_ledger: Path,
                                                     config_dir: Path, tmp_path: Path, targets: bool):
    """What a unit opens: the title, its name, the deadline and its tasks, landscape, no other sheet."""
    from xl_duban.services import issue_workbooks

    outcome = issue_workbooks(planned_ledger, "2022" if targets else "2022Q2", tmp_path / "out",
                              now=datetime(2022, 6, 25, 9, 0), targets=targets)
    entry = next(w for w in outcome.summary["workbooks"] if w["unit"] == "区发展和改革局")
    pdf = office.convert(Path(entry["file"]), "pdf", tmp_path / "pdf", ".pdf")
    info = _run([poppler["pdftotext"], "-layout", str(pdf), "-"], what="pdftotext").stdout
    flat = "".join(info.split())
    title = "2022年区《政府工作报告》督查重点任务季度目标安排表" if targets else "2022年第二季度区《政府工作报告》督查重点任务落实情况反馈表"
    assert title in flat
    assert "报送单位：区发展和改革局" in flat and "2022-ZD-001" in flat
    headers = ("第一季度", "第四季度", "完成时限") if targets else ("节点目标", "上期进展", "自评灯色", "2022-ZD-001二季度目标")
    for word in headers:
        assert word in flat, word
    assert "_duban" not in flat and "签名" not in flat  # the hidden sheet is not printed
    stem = ARTIFACTS / f"unit-{'目标安排表' if targets else '反馈表'}"
    ARTIFACTS.mkdir(exist_ok=True)
    _run([poppler["pdftoppm"], "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
         what="pdftoppm")
    width, height = struct.unpack(">II", stem.with_name(stem.name + ".png").read_bytes()[16:24])
    assert width > height  # A4 landscape
