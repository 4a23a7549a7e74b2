"""Issue 5 item 5: a write never loses the VBA project, the ribbon, or what a clerk added that openpyxl
cannot carry (xl_duban.io.package), and refuses — leaving the ledger byte-identical — what cannot be carried.

The ledgers are real files, created as .xlsm the way the office creates them (``duban init … 台账.xlsm``, from
workbooks/template.xlsm: 督办 ribbon in customUI14 linked from ``_rels/.rels``, VBA project, codeNames). The clerk's
additions are made by a real LibreOffice through UNO (a new sheet 【图表分析】 with a column chart, a PNG picture, a
text box and a note; a pivot table on 【透视】 over it; a PNG logo on 【任务台账】 and on 【亮灯总览】, which `light`
regenerates). LibreOffice saves .xlsx only faithfully (its .xlsm export rewrites the VBA project and drops
codeNames), so the file then gets back, by zip surgery, exactly what Excel would have kept: the ledger's own
vbaProject.bin, ribbon part and relationship, macro content type and codeNames. Parts only Excel or WPS write
(threaded comments, sparklines, chart styles, custom XML, WPS cell pictures) are added by zip surgery too. What
survives each write is checked in the zip, and by opening the result in LibreOffice again.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import warnings
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.drawing.image import Image as XlImage

from xl_duban.demo import write_unit_directory
from xl_duban.domain.models import NodeTarget, ValidationRow
from xl_duban.io import package
from xl_duban.io.ledger_store import LedgerError, LedgerStore, new_ledger_workbook
from xl_duban.io.package import Package, carry_over, check_writable, package_problems, scan_package
from xl_duban.samples import fill_return, write_tables_docx
from xl_duban.services import init_ledger

from .conftest import REPO, run_cli
from .office import UNO_PYTHON, Office, _system_python_env, office  # noqa: F401  (office is a fixture)

NOW = datetime(2026, 3, 2, 9, 30)
USER_SHEET = "图表分析"
PIVOT_SHEET = "透视"
RIBBON_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
DRAWING_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing"
CHART_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
IMAGE_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
LOGO_SHEETS = ("任务台账", "亮灯总览")  # a data sheet, and the overview `light` regenerates whole
TEMPLATE_SHEETS = ["任务台账", "节点目标", "反馈记录", "亮灯记录", "亮灯总览", "单位名录", "报送情况", "校验结果",
                   "变更日志", "设置", "节假日"]

# -- LibreOffice, through UNO (system python) -----------------------------------------------------------------
UNO_JOB = r'''
import json, sys, time, uno
from com.sun.star.awt import Point, Rectangle, Size
from com.sun.star.beans import PropertyValue
from com.sun.star.table import CellAddress, CellRangeAddress

def props(**kw):
    out = []
    for k, v in kw.items():
        p = PropertyValue(); p.Name, p.Value = k, v; out.append(p)
    return tuple(out)

job = json.loads(sys.stdin.read())
local = uno.getComponentContext()
resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
deadline = time.monotonic() + 30
while True:
    try:
        ctx = resolver.resolve("uno:socket,host=127.0.0.1,port=%d;urp;StarOffice.ComponentContext" % job["port"]); break
    except Exception:
        if time.monotonic() > deadline: raise
        time.sleep(0.25)
smgr = ctx.ServiceManager
desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)

def load(path):
    for _ in range(3):
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0,
                                           props(Hidden=True, MacroExecutionMode=0, UpdateDocMode=0))
        if doc is not None: return doc
        time.sleep(1)
    raise RuntimeError("cannot open " + path)

def picture(doc, page, png, x, y):
    gp = smgr.createInstanceWithContext("com.sun.star.graphic.GraphicProvider", ctx)
    shape = doc.createInstance("com.sun.star.drawing.GraphicObjectShape")
    shape.Graphic = gp.queryGraphic(props(URL=uno.systemPathToFileUrl(png)))
    page.add(shape)
    shape.setSize(Size(3000, 2000)); shape.setPosition(Point(x, y))

def decorate(doc):
    sheets = doc.getSheets()
    sheets.insertNewByName(job["sheet"], sheets.getCount())
    idx = sheets.getCount() - 1
    sh = sheets.getByName(job["sheet"])
    sh.getCellByPosition(0, 0).setString("单位"); sh.getCellByPosition(1, 0).setString("完成数")
    for i, (unit, n) in enumerate([("区发展和改革局", 3), ("区财政局", 5), ("城关镇", 2), ("东城街道", 7)], 1):
        sh.getCellByPosition(0, i).setString(unit); sh.getCellByPosition(1, i).setValue(n)
    data = CellRangeAddress(); data.Sheet, data.StartColumn, data.StartRow, data.EndColumn, data.EndRow = idx, 0, 0, 1, 4
    rect = Rectangle(); rect.X, rect.Y, rect.Width, rect.Height = 6000, 500, 12000, 7000
    sh.getCharts().addNewByName("完成情况图", rect, (data,), True, True)
    page = sh.getDrawPage()
    picture(doc, page, job["png"], 500, 4000)
    box = doc.createInstance("com.sun.star.drawing.RectangleShape")
    page.add(box)
    box.setSize(Size(4000, 1500)); box.setPosition(Point(500, 9000)); box.setString("说明：数据来自台账")
    note = CellAddress(); note.Sheet, note.Column, note.Row = idx, 3, 1
    sh.getAnnotations().insertNew(note, "手工统计，待核")
    sheets.insertNewByName(job["pivot_sheet"], sheets.getCount())
    pivots = sheets.getByName(job["pivot_sheet"]).getDataPilotTables()
    desc = pivots.createDataPilotDescriptor()
    desc.setSourceRange(data)
    from com.sun.star.sheet.DataPilotFieldOrientation import DATA, ROW
    desc.getDataPilotFields().getByIndex(0).Orientation = ROW
    desc.getDataPilotFields().getByIndex(1).Orientation = DATA
    dest = CellAddress(); dest.Sheet, dest.Column, dest.Row = sheets.getCount() - 1, 0, 0
    pivots.insertNewByName("完成透视", dest, desc)
    for name in job["logo_sheets"]:
        picture(doc, sheets.getByName(name).getDrawPage(), job["png"], 20000, 200)

def inspect(doc):
    out = {}
    sheets = doc.getSheets()
    for name in sheets.getElementNames():
        sh = sheets.getByName(name)
        page = sh.getDrawPage()
        shapes = sorted(page.getByIndex(i).getShapeType().rsplit(".", 1)[-1] for i in range(page.getCount()))
        out[name] = {"charts": sh.getCharts().getCount(), "shapes": shapes,
                     "notes": sh.getAnnotations().getCount(), "pivots": sh.getDataPilotTables().getCount()}
    out["_basic"] = sorted(doc.BasicLibraries.getElementNames())
    return out

doc = load(job["src"])
try:
    if job["action"] == "convert":
        doc.storeToURL(uno.systemPathToFileUrl(job["out"]), props(FilterName="Calc MS Excel 2007 XML", Overwrite=True))
        answer = {"ok": True}
    elif job["action"] == "decorate":
        decorate(doc)
        doc.storeToURL(uno.systemPathToFileUrl(job["out"]), props(FilterName="Calc MS Excel 2007 XML", Overwrite=True))
        answer = {"ok": True}
    else:
        answer = {"ok": True, "sheets": inspect(doc)}
finally:
    doc.close(True)
sys.stdout.write(json.dumps(answer) + "\n")
sys.stdout.flush()
import os
os._exit(0)  # skip interpreter teardown: tearing the UNO bridge down at exit can crash the helper (SIGSEGV)
'''


def uno(office: Office, tmp: Path, job: dict) -> dict:
    office.start()  # no-op when running
    script = tmp / "package_uno_job.py"
    script.write_text(UNO_JOB, encoding="utf-8")
    proc = subprocess.run([UNO_PYTHON, "-I", str(script)], input=json.dumps({**job, "port": office.port}),
                          capture_output=True, text=True, timeout=180, env=_system_python_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def lo_sees(office: Office, path: Path, tmp: Path) -> dict:
    """What LibreOffice finds in ``path``: per sheet charts, shape types, notes, pivot tables; Basic libraries."""
    return uno(office, tmp, {"action": "inspect", "src": str(path)})["sheets"]


# -- building the ledger ---------------------------------------------------------------------------------------
def png_bytes() -> bytes:
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (120, 80), (200, 30, 30))
    ImageDraw.Draw(im).rectangle((10, 10, 60, 60), fill=(20, 20, 200))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def png(path: Path) -> Path:
    path.write_bytes(png_bytes())
    return path


def add_rel(rels: bytes, rid: str, rel_type: str, target: str) -> bytes:
    return rels.replace(b"</Relationships>",
                        f'<Relationship Id="{rid}" Type="{rel_type}" Target="{target}"/></Relationships>'.encode())


def add_type(types: bytes, element: str) -> bytes:
    return types.replace(b"</Types>", element.encode() + b"</Types>")


def rewrite(path: Path, change, out: Path | None = None) -> Path:
    """Zip surgery: ``change(parts)`` edits the {name: bytes} of ``path``; written to ``out`` (default: in place)."""
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    change(parts)
    out = out or path
    out.write_bytes(rewrite_bytes(parts))
    return out


def rewrite_bytes(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


def code_names(pkg: Package) -> dict[str, str | None]:
    """codeName of the workbook ("") and of every sheet."""
    names = {"": (re.search(rb'<(?:\w+:)?workbookPr\b[^>]*?codeName="([^"]*)"', pkg.parts[pkg.workbook()]) or [None, None])[1]}
    for sheet, (part, _) in pkg.sheets().items():
        names[sheet] = (re.search(rb'<(?:\w+:)?sheetPr\b[^>]*?codeName="([^"]*)"', pkg.parts[part]) or [None, None])[1]
    return {k: v.decode() if v else None for k, v in names.items()}


def as_saved_by_excel(decorated: Path, macro_source: Path, out: Path) -> Path:
    """``decorated`` (LibreOffice's .xlsx) with what Excel keeps of ``macro_source`` put back by zip surgery
    (NOTES-excel.md): macro-enabled workbook type, vbaProject.bin linked from the workbook, the ribbon part linked
    from the package root, and the codeNames of the workbook and of every sheet."""
    source = Package(macro_source.read_bytes())
    names = code_names(source)
    ribbon = [t for _, t in source.targets("", RIBBON_TYPE)]
    assert ribbon and "xl/vbaProject.bin" in source.parts

    def change(parts: dict[str, bytes]) -> None:
        pkg = Package(rewrite_bytes(parts))
        types = parts["[Content_Types].xml"].replace(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", package.MACRO_ENABLED.encode())
        if b'Extension="bin"' not in types:
            types = add_type(types, '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>')
        parts["[Content_Types].xml"] = types
        parts["xl/vbaProject.bin"] = source.parts["xl/vbaProject.bin"]
        parts["xl/_rels/workbook.xml.rels"] = add_rel(parts["xl/_rels/workbook.xml.rels"], "rIdVba", package.RT_VBA,
                                                      "vbaProject.bin")
        parts[ribbon[0]] = source.parts[ribbon[0]]
        if not pkg.targets("", RIBBON_TYPE):  # LibreOffice keeps the part, and sometimes the link
            parts["_rels/.rels"] = add_rel(parts["_rels/.rels"], "rIdRibbon", RIBBON_TYPE, ribbon[0])
        wb = pkg.workbook()
        parts[wb] = re.sub(rb"<workbookPr\b", f'<workbookPr codeName="{names[""]}"'.encode(), parts[wb], count=1)
        for sheet, (part, _) in pkg.sheets().items():
            if names.get(sheet):
                xml = re.sub(rb'(<sheetPr\b[^>]*?) codeName="[^"]*"', rb"\1", parts[part], count=1)
                if b"<sheetPr" in xml:
                    xml = xml.replace(b"<sheetPr", f'<sheetPr codeName="{names[sheet]}"'.encode(), 1)
                else:
                    xml = re.sub(rb"(<worksheet\b[^>]*>)", rf'\1<sheetPr codeName="{names[sheet]}"/>'.encode(), xml, count=1)
                parts[part] = xml

    return rewrite(decorated, change, out)


def clerk_adds(office: Office, ledger: Path, work: Path) -> Path:
    """The clerk's additions to ``ledger``, made in LibreOffice, as Excel would save them: ``work/<ledger name>``."""
    work.mkdir(parents=True, exist_ok=True)
    decorated = work / "decorated.xlsx"
    uno(office, work, {"action": "decorate", "src": str(ledger), "out": str(decorated), "png": str(png(work / "logo.png")),
                       "sheet": USER_SHEET, "pivot_sheet": PIVOT_SHEET, "logo_sheets": LOGO_SHEETS})
    if ledger.suffix.lower() != ".xlsm":
        return decorated
    return as_saved_by_excel(decorated, ledger, work / ledger.name)


@pytest.fixture(scope="module")
def xlsm_master(office: Office, tmp_path_factory) -> Path:
    """A 2026 ledger created by ``duban init`` as .xlsm, with the clerk's additions."""
    tmp = tmp_path_factory.mktemp("xlsm")
    assert init_ledger(tmp / "台账.xlsm", 2026, now=NOW).exit_code == 0
    return clerk_adds(office, tmp / "台账.xlsm", tmp / "clerk")


@pytest.fixture
def xlsm(xlsm_master: Path, tmp_path: Path) -> Path:
    path = tmp_path / "台账.xlsm"
    shutil.copy2(xlsm_master, path)
    return path


# -- looking at a package --------------------------------------------------------------------------------------
def sheet_drawing(pkg: Package, sheet: str) -> str | None:
    part = pkg.sheets()[sheet][0]
    drawings = pkg.targets(part, DRAWING_TYPE)
    assert len(drawings) <= 1 and len(re.findall(rb"<(?:\w+:)?drawing\b", pkg.parts[part])) == len(drawings)
    return drawings[0][1] if drawings else None


def assert_carried(path: Path, original: Path) -> None:
    """VBA byte-identical, ribbon present and linked, codeNames kept, every drawing of the original as it was,
    a valid package."""
    pkg, orig = Package(path.read_bytes()), Package(original.read_bytes())
    assert package_problems(path.read_bytes()) == []
    assert pkg.parts["xl/vbaProject.bin"] == orig.parts["xl/vbaProject.bin"]
    assert [t for _, t in pkg.targets(pkg.workbook(), package.RT_VBA)] == ["xl/vbaProject.bin"]
    assert pkg.content_type(pkg.workbook()) == package.MACRO_ENABLED
    ribbons = [t for _, t in pkg.targets("", RIBBON_TYPE)]
    assert ribbons == ["customUI/customUI14.xml"] and pkg.parts[ribbons[0]] == orig.parts[ribbons[0]]
    assert b"http://schemas.microsoft.com/office/2009/07/customui" in pkg.parts[ribbons[0]]
    names, names_before = code_names(pkg), code_names(orig)
    assert names[""] == "ThisWorkbook" and [names[s] for s in TEMPLATE_SHEETS] == [f"Sheet{i}" for i in range(1, 12)]
    assert {k: v for k, v in names.items() if k in names_before} == names_before
    for sheet in (USER_SHEET, *LOGO_SHEETS):
        drawing, before = sheet_drawing(pkg, sheet), sheet_drawing(orig, sheet)
        assert drawing is not None and pkg.parts[drawing] == orig.parts[before], sheet
        kinds = {r.type: t for r, t in pkg.targets(drawing)}
        kinds_before = {r.type: t for r, t in orig.targets(before)}
        assert kinds.keys() == kinds_before.keys()
        for rel_type, target in kinds.items():
            assert pkg.parts[target] == orig.parts[kinds_before[rel_type]]
    assert unreachable(pkg) == set()  # no re-encoded copy left behind
    charts = [t for _, t in pkg.targets(sheet_drawing(pkg, USER_SHEET), CHART_TYPE)]
    images = [t for _, t in pkg.targets(sheet_drawing(pkg, USER_SHEET), IMAGE_TYPE)]
    assert len(charts) == 1 and len(images) == 1 and pkg.parts[images[0]][:8] == b"\x89PNG\r\n\x1a\n"


def unreachable(pkg: Package) -> set[str]:
    """Parts no relationship leads to (relationship parts and [Content_Types].xml aside)."""
    seen, todo = set(), [""]
    while todo:
        for _rel, target in pkg.targets(todo.pop()):
            if target in pkg.parts and target not in seen:
                seen.add(target)
                todo.append(target)
    return {n for n in pkg.parts if n not in seen and n != "[Content_Types].xml" and not n.endswith(".rels")}


def assert_office_sees_everything(seen: dict) -> None:
    assert seen[USER_SHEET]["charts"] == 1
    assert seen[USER_SHEET]["shapes"] == sorted(["OLE2Shape", "GraphicObjectShape", "CustomShape", "CaptionShape"])
    assert seen[USER_SHEET]["notes"] == 1
    assert seen[PIVOT_SHEET]["pivots"] == 1
    for sheet in LOGO_SHEETS:
        assert "GraphicObjectShape" in seen[sheet]["shapes"], sheet
    assert "VBAProject" in seen["_basic"]


# -- the premise: what openpyxl alone does -----------------------------------------------------------------------
def test_openpyxl_alone_drops_the_ribbon_link_and_the_text_box(xlsm: Path, tmp_path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(xlsm, keep_vba=True)
    assert len(wb[USER_SHEET]._charts) == 1 and len(wb[USER_SHEET]._images) == 1  # it re-encodes what it can read
    wb.save(tmp_path / "plain.xlsm")
    pkg, orig = Package((tmp_path / "plain.xlsm").read_bytes()), Package(xlsm.read_bytes())
    assert pkg.parts["xl/vbaProject.bin"] == orig.parts["xl/vbaProject.bin"]
    assert pkg.parts["customUI/customUI14.xml"] == orig.parts["customUI/customUI14.xml"]  # the part stays ...
    assert pkg.targets("", RIBBON_TYPE) == []  # ... but nothing links it: no ribbon
    shapes = f"{{{package.XDR_NS}}}sp"
    assert len(list(orig.tree(sheet_drawing(orig, USER_SHEET)).iter(shapes))) == 1  # LibreOffice wrote the text box
    assert list(pkg.tree(sheet_drawing(pkg, USER_SHEET)).iter(shapes)) == []  # openpyxl dropped it


# -- the store -----------------------------------------------------------------------------------------------------
def test_store_save_keeps_vba_ribbon_chart_picture_shape_pivot(xlsm: Path, tmp_path: Path, office: Office):
    original = tmp_path / "original.xlsm"
    shutil.copy2(xlsm, original)
    scan = scan_package(xlsm)
    assert scan.refused == []
    assert {"chart", "image", "shape"} <= scan.kinds(package.CARRY, USER_SHEET)
    assert "ribbon" in scan.kinds(package.CARRY) and "pivot" in scan.kinds(package.KEPT, PIVOT_SHEET)

    store = LedgerStore(xlsm)
    ledger, findings = store.load()
    assert ledger.settings and not [f for f in findings if f.code == "missing-sheet"]
    store.save(ledger, now=NOW)
    assert_carried(xlsm, original)
    store = LedgerStore(xlsm)  # and again: nothing doubles, nothing drifts
    ledger, _ = store.load()
    store.save(ledger, now=NOW)
    second = xlsm.read_bytes()
    assert_carried(xlsm, original)
    store = LedgerStore(xlsm)
    ledger, _ = store.load()
    store.save(ledger, now=NOW)
    third = Package(xlsm.read_bytes())
    assert sorted(third.parts) == sorted(Package(second).parts)
    assert_office_sees_everything(lo_sees(office, xlsm, tmp_path))


def test_plain_ledger_is_left_to_openpyxl(tmp_path: Path):
    """Nothing to carry: the bytes openpyxl wrote are returned as they are."""
    wb, _ = new_ledger_workbook(2026)
    buf = io.BytesIO()
    wb.save(buf)
    written = buf.getvalue()
    assert carry_over(written, written) is written
    assert scan_package(written).refused == [] and scan_package(written).carried == []


def test_a_sheet_the_program_adds_keeps_its_picture_and_the_original_drawing_gets_a_free_name(xlsm: Path, tmp_path: Path):
    """Part names collide when openpyxl writes a new drawing under a name the original used."""
    original = tmp_path / "original.xlsm"
    shutil.copy2(xlsm, original)

    def new_sheet_with_picture(wb):
        ws = wb.create_sheet("程序图", 0)  # first: its drawing is written first and takes drawing1.xml
        ws.add_image(XlImage(str(png(tmp_path / "p.png"))), "B2")

    store = LedgerStore(xlsm)
    ledger, _ = store.load()
    store.save(ledger, now=NOW, views=[new_sheet_with_picture])
    assert_carried(xlsm, original)
    pkg = Package(xlsm.read_bytes())
    mine = sheet_drawing(pkg, "程序图")
    assert mine not in {sheet_drawing(pkg, USER_SHEET), sheet_drawing(pkg, "任务台账")}
    assert [r.type for r, _ in pkg.targets(mine)] == [IMAGE_TYPE]


def test_regenerated_sheets_keep_codename_and_the_clerks_picture_and_show_the_programs_new_chart(xlsm: Path,
                                                                                                    tmp_path: Path):
    """亮灯总览 is rebuilt whole by `light`: it keeps its codeName (its VBA document module) and the clerk's logo.
    Where the program draws (a bulletin sheet rebuilt on every run), its fresh chart wins over the file's."""
    from openpyxl.chart import BarChart, Reference

    original = tmp_path / "original.xlsm"
    shutil.copy2(xlsm, original)

    def overview(wb):
        index = wb.sheetnames.index("亮灯总览")
        wb.remove(wb["亮灯总览"])
        wb.create_sheet("亮灯总览", index)["A1"] = "亮灯总览（重新生成）"

    def bulletin(title: str):
        def render(wb):
            if "通报-测试" in wb.sheetnames:
                wb.remove(wb["通报-测试"])
            ws = wb.create_sheet("通报-测试")
            for row in [("单位", "绿灯"), ("甲", 3), ("乙", 5)]:
                ws.append(row)
            chart = BarChart()
            chart.title = title
            chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=3), titles_from_data=True)
            ws.add_chart(chart, "D2")
        return render

    for title in ("第一次通报", "第二次通报"):
        store = LedgerStore(xlsm)
        ledger, _ = store.load()
        store.save(ledger, now=NOW, views=[overview, bulletin(title)])
    assert_carried(xlsm, original)
    pkg = Package(xlsm.read_bytes())
    charts = [t for _, t in pkg.targets(sheet_drawing(pkg, "通报-测试"), CHART_TYPE)]
    assert len(charts) == 1 and "第二次通报".encode() in pkg.parts[charts[0]]
    assert unreachable(pkg) == set()


# -- every CLI command in turn ---------------------------------------------------------------------------------
@pytest.mark.usefixtures("config_dir")
def test_every_cli_command_keeps_vba_ribbon_and_the_clerks_sheet(tmp_path: Path, office: Office, seed_tables):
    """Done-when of issue 5 item 5: a ledger created as .xlsm, then written by every CLI command in turn."""
    ledger = tmp_path / "台账.xlsm"
    assert run_cli("init", "2022", str(ledger)).returncode == 0
    units = write_unit_directory(tmp_path / "单位名录.xlsx", now=NOW)
    docs = [write_tables_docx([seed_tables[a]], tmp_path / f"{a}.docx") for a in ("附件2", "附件3")]
    proc = run_cli("import", str(ledger), str(units), *map(str, docs))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    store = LedgerStore(ledger)  # Q2 targets for every key task, as the targets round would leave them
    led, _ = store.load()
    led.targets += [NodeTarget(task_id=t.id, period="2022Q2", target=f"{t.id}二季度目标", status="已确认")
                    for t in led.tasks if t.kind == "重点任务"]
    # a problem the clerk has since fixed is still listed: validate has something to write (an unchanged result writes nothing)
    led.validation = [ValidationRow(sheet="任务台账", at_row=2, column="牵头单位", level="错误", code="unknown-unit",
                                    message="已改正的旧问题")]
    store.save(led, now=NOW)
    more = tmp_path / "补充任务.csv"  # a task not imported yet: import has something to write
    more.write_text("序号,工作任务,责任领导,牵头单位\n99,推进补充的重点任务。,曹新华,区财政局\n", encoding="utf-8")

    ledger = clerk_adds(office, ledger, tmp_path / "work")
    original = tmp_path / "original.xlsm"
    shutil.copy2(ledger, original)
    out = tmp_path / "out"
    issued, mail, bulletins, inbox = out / "下发", out / "邮件", out / "通报", out / "收件"
    commands = [
        ("validate", str(ledger)),
        ("import", str(ledger), str(more)),
        ("issue", str(ledger), "-p", "2022Q2", "-o", str(issued)),
        ("send", str(ledger), "-p", "2022Q2", "--eml", str(mail)),
        ("remind", str(ledger), "-p", "2022Q2", "--eml", str(mail)),
        ("collect", str(ledger), str(inbox)),
        ("light", str(ledger), "-p", "2022Q2"),
        ("bulletin", str(ledger), "-p", "2022Q2", "-o", str(bulletins)),
        ("bulletin", str(ledger), "-p", "2022Q2", "-o", str(bulletins)),  # regenerates its sheet and chart
    ]
    wrote = []
    for command in commands:
        if command[0] == "collect":
            form = issued / "2022Q2_区发展和改革局_重点任务反馈表.xlsx"
            ids = [r[0] for r in openpyxl.load_workbook(form, read_only=True)["反馈表"].iter_rows(min_row=6, values_only=True)
                   if r and r[0]]
            fill_return(form, inbox / form.name, {ids[0]: {"完成情况": "完成", "进展情况": "已开工。", "自评灯色": "绿"}})
        before, inode = ledger.read_bytes(), ledger.stat().st_ino
        proc = run_cli(*command)
        assert "Traceback" not in proc.stderr, proc.stderr
        assert proc.returncode in (0, 1), (command, proc.stdout, proc.stderr)
        # a save renames a new file over the ledger; within the same second as the save before it,
        # a command that changes no cell (validate after import) writes the very same bytes
        if ledger.read_bytes() != before or ledger.stat().st_ino != inode:
            wrote.append(command[0])
        assert_carried(ledger, original)
    assert {"import", "validate", "issue", "send", "remind", "collect", "light", "bulletin"} <= set(wrote), wrote
    pkg = Package(ledger.read_bytes())
    bulletin_drawing = sheet_drawing(pkg, "通报-2022Q2")  # the program's chart, written by openpyxl, once
    assert len(pkg.targets(bulletin_drawing, CHART_TYPE)) == 1
    check = subprocess.run([sys.executable, str(REPO / "tests" / "tools" / "check_xlsm.py"), str(ledger), "--json"],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr  # modules, ribbon callbacks, codeNames
    seen = lo_sees(office, ledger, tmp_path)
    assert_office_sees_everything(seen)
    assert seen["通报-2022Q2"]["charts"] == 1


# -- what is refused -----------------------------------------------------------------------------------------------
SLICER = ("http://schemas.microsoft.com/office/2007/relationships/slicer",
          "application/vnd.ms-excel.slicer+xml", "xl/slicers/slicer1.xml",
          b'<slicers xmlns="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"/>')
CONTROL = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships/ctrlProp",
           "application/vnd.ms-excel.controlproperties+xml", "xl/ctrlProps/ctrlProp1.xml",
           b'<formControlPr xmlns="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" objectType="Button"/>')


def add_to_user_sheet(rel_type: str, content_type: str, name: str, data: bytes):
    def change(parts: dict[str, bytes]) -> None:
        pkg = Package(rewrite_bytes(parts))
        sheet = pkg.sheets()[USER_SHEET][0]
        rels = package.rels_part(sheet)
        parts[rels] = add_rel(parts[rels], "rIdAdded", rel_type, "/" + name)
        parts[name] = data
        parts["[Content_Types].xml"] = add_type(parts["[Content_Types].xml"],
                                                f'<Override PartName="/{name}" ContentType="{content_type}"/>')
    return change


OLE = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships/oleObject",
       "application/vnd.openxmlformats-officedocument.oleObject", "xl/embeddings/oleObject1.bin",
       b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
UNKNOWN = ("http://example.com/relationships/gadget", "application/vnd.example.gadget+xml", "xl/gadgets/gadget1.xml",
           b"<gadget/>")


@pytest.mark.parametrize("added, kind", [(SLICER, "切片器"), (CONTROL, "按钮、复选框等控件"),
                                         (OLE, "嵌入对象（如插入的 Word 文档）"),
                                         (UNKNOWN, "无法识别的内容（xl/gadgets/gadget1.xml）")],
                         ids=["slicer", "control", "ole", "unknown"])
def test_content_that_cannot_be_carried_is_refused_before_anything_is_written(xlsm: Path, added, kind):
    rewrite(xlsm, add_to_user_sheet(*added))
    before = xlsm.read_bytes()
    with pytest.raises(LedgerError) as refused:  # refused when the ledger is opened, before any work
        LedgerStore(xlsm).load()
    message = str(refused.value)
    assert f"工作表【{USER_SHEET}】中的{kind}" in message
    assert "未对台账作任何修改" in message and "处理后请重新运行" in message
    assert message.count("\n  · ") == 1  # one line per sheet and kind, each with what to do
    assert re.search(rf"工作表【{USER_SHEET}】中的.+：请|：可", message)
    assert xlsm.read_bytes() == before
    assert sorted(p.name for p in xlsm.parent.iterdir()) == [xlsm.name]  # no temp file, no backup
    with pytest.raises(LedgerError):
        check_writable(xlsm)


def test_refusal_through_the_cli_names_sheet_and_kind(xlsm: Path):
    rewrite(xlsm, add_to_user_sheet(*SLICER))
    before = xlsm.read_bytes()
    proc = run_cli("validate", str(xlsm))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert f"工作表【{USER_SHEET}】中的切片器" in proc.stdout + proc.stderr
    assert xlsm.read_bytes() == before


# -- Excel-only parts LibreOffice does not write: threaded comments, sparklines, chart styles, custom XML ----------
def add_excel_parts(parts: dict[str, bytes]) -> None:
    pkg = Package(rewrite_bytes(parts))
    sheet = pkg.sheets()[USER_SHEET][0]
    rels = package.rels_part(sheet)
    chart = next(n for n in parts if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
    parts["xl/charts/style1.xml"] = b'<cs:chartStyle xmlns:cs="http://schemas.microsoft.com/office/drawing/2012/chartStyle" id="201"/>'
    parts["xl/charts/colors1.xml"] = b'<cs:colorStyle xmlns:cs="http://schemas.microsoft.com/office/drawing/2012/chartStyle" meth="cycle" id="10"/>'
    parts[package.rels_part(chart)] = (
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2011/relationships/chartStyle" Target="style1.xml"/>'
        b'<Relationship Id="rId2" Type="http://schemas.microsoft.com/office/2011/relationships/chartColorStyle" Target="colors1.xml"/>'
        b'</Relationships>')
    parts["xl/threadedComments/threadedComment1.xml"] = (
        '<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
        '<threadedComment ref="D2" dT="2026-01-05T10:00:00.00" personId="{11111111-2222-3333-4444-555555555555}" '
        'id="{AAAAAAAA-2222-3333-4444-555555555555}"><text>请核实</text></threadedComment></ThreadedComments>').encode()
    parts["xl/persons/person.xml"] = (
        '<personList xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
        '<person displayName="张三" id="{11111111-2222-3333-4444-555555555555}" userId="zs" providerId="None"/></personList>'
    ).encode()
    parts[rels] = add_rel(parts[rels], "rIdTc", package.RT_THREADED, "../threadedComments/threadedComment1.xml")
    parts["xl/_rels/workbook.xml.rels"] = add_rel(parts["xl/_rels/workbook.xml.rels"], "rIdPerson", package.RT_PERSON,
                                                  "persons/person.xml")
    parts["customXml/item1.xml"] = b'<duban xmlns="urn:duban">x</duban>'
    parts["xl/_rels/workbook.xml.rels"] = add_rel(parts["xl/_rels/workbook.xml.rels"], "rIdCx", package.RT_CUSTOM_XML,
                                                  "../customXml/item1.xml")
    parts["xl/cellimages.xml"] = (  # WPS 嵌入单元格图片: =DISPIMG("ID_1",1) finds it through the workbook
        '<etc:cellImages xmlns:etc="http://www.wps.cn/officeDocument/2017/etCustomData" '
        'xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><etc:cellImage><xdr:pic>'
        '<xdr:nvPicPr><xdr:cNvPr id="2" name="ID_1"/><xdr:cNvPicPr/></xdr:nvPicPr><xdr:blipFill><a:blip r:embed="rId1"/>'
        '</xdr:blipFill><xdr:spPr/></xdr:pic></etc:cellImage></etc:cellImages>').encode()
    parts["xl/_rels/cellimages.xml.rels"] = (
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" '
        b'Target="media/cellimage1.png"/></Relationships>')
    parts["xl/media/cellimage1.png"] = png_bytes()
    parts["xl/_rels/workbook.xml.rels"] = add_rel(parts["xl/_rels/workbook.xml.rels"], "rIdWps", package.RT_WPS_CELL_IMAGE,
                                                  "cellimages.xml")
    spark = ('<extLst><ext xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" '
             'uri="{05C60535-1F16-4fd2-B633-F4F36F0B64E0}"><x14:sparklineGroups '
             'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><x14:sparklineGroup>'
             '<x14:colorSeries rgb="FF376092"/><x14:sparklines><x14:sparkline><xm:f>图表分析!B2:B5</xm:f>'
             '<xm:sqref>C6</xm:sqref></x14:sparkline></x14:sparklines></x14:sparklineGroup></x14:sparklineGroups></ext></extLst>')
    xml = parts[sheet].decode("utf-8")
    assert "<extLst>" not in xml
    parts[sheet] = xml.replace("</worksheet>", spark + "</worksheet>").encode("utf-8")
    types = parts["[Content_Types].xml"]
    for name, content_type in [("xl/charts/style1.xml", "application/vnd.ms-office.chartstyle+xml"),
                               ("xl/charts/colors1.xml", "application/vnd.ms-office.chartcolorstyle+xml"),
                               ("xl/threadedComments/threadedComment1.xml", "application/vnd.ms-excel.threadedcomments+xml"),
                               ("xl/persons/person.xml", "application/vnd.ms-excel.person+xml"),
                               ("xl/cellimages.xml", "application/vnd.wps-officedocument.cellimage+xml")]:
        types = add_type(types, f'<Override PartName="/{name}" ContentType="{content_type}"/>')
    parts["[Content_Types].xml"] = types


def test_excel_parts_are_carried_and_linked(xlsm: Path, tmp_path: Path, office: Office):
    rewrite(xlsm, add_excel_parts)
    original = tmp_path / "original.xlsm"
    shutil.copy2(xlsm, original)
    scan = scan_package(xlsm)
    assert {"threaded-comment", "sparkline"} <= scan.kinds(package.CARRY, USER_SHEET)
    assert {"persons", "custom-xml", "cell-image"} <= scan.kinds(package.CARRY)

    store = LedgerStore(xlsm)
    ledger, _ = store.load()
    store.save(ledger, now=NOW)
    assert_carried(xlsm, original)
    pkg, orig = Package(xlsm.read_bytes()), Package(original.read_bytes())
    sheet = pkg.sheets()[USER_SHEET][0]
    threaded = [t for _, t in pkg.targets(sheet, package.RT_THREADED)]
    assert len(threaded) == 1 and pkg.parts[threaded[0]] == orig.parts["xl/threadedComments/threadedComment1.xml"]
    chart = [t for _, t in pkg.targets(sheet_drawing(pkg, USER_SHEET), CHART_TYPE)][0]
    assert sorted(pkg.parts[t] for _, t in pkg.targets(chart)) == sorted(
        [orig.parts["xl/charts/style1.xml"], orig.parts["xl/charts/colors1.xml"]])
    assert pkg.content_type(threaded[0]) == "application/vnd.ms-excel.threadedcomments+xml"
    wb = pkg.workbook()
    assert [pkg.parts[t] for _, t in pkg.targets(wb, package.RT_PERSON)] == [orig.parts["xl/persons/person.xml"]]
    assert [pkg.parts[t] for _, t in pkg.targets(wb, package.RT_CUSTOM_XML)] == [orig.parts["customXml/item1.xml"]]
    cell_images = [t for _, t in pkg.targets(wb, package.RT_WPS_CELL_IMAGE)]
    assert [pkg.parts[t] for t in cell_images] == [orig.parts["xl/cellimages.xml"]]
    assert [pkg.parts[t] for _, t in pkg.targets(cell_images[0])] == [orig.parts["xl/media/cellimage1.png"]]
    xml = pkg.parts[sheet].decode("utf-8")
    assert xml.count("{05C60535-1F16-4fd2-B633-F4F36F0B64E0}") == 1 and "图表分析!B2:B5" in xml
    assert xml.index("<drawing") < xml.index("<legacyDrawing") < xml.index("<extLst")  # schema order
    assert_office_sees_everything(lo_sees(office, xlsm, tmp_path))
    uno(office, tmp_path, {"action": "convert", "src": str(xlsm), "out": str(tmp_path / "by_office.xlsx")})
    again = Package((tmp_path / "by_office.xlsx").read_bytes())  # LibreOffice read the sparkline: it writes it back
    assert "<xm:f>图表分析!B2:B5</xm:f>".encode() in again.parts[again.sheets()[USER_SHEET][0]]


# -- an .xlsx ledger gets the same care --------------------------------------------------------------------------
def test_xlsx_ledger_keeps_chart_picture_and_shape(xlsm_master: Path, tmp_path: Path):
    path = tmp_path / "台账.xlsx"
    shutil.copy2(xlsm_master.with_name("decorated.xlsx"), path)  # LibreOffice's own save
    original = Package(path.read_bytes())
    store = LedgerStore(path)
    ledger, _ = store.load()
    store.save(ledger, now=NOW)
    pkg = Package(path.read_bytes())
    assert package_problems(path.read_bytes()) == []
    assert "xl/vbaProject.bin" not in pkg.parts
    for sheet in (USER_SHEET, *LOGO_SHEETS):
        assert pkg.parts[sheet_drawing(pkg, sheet)] == original.parts[sheet_drawing(original, sheet)]


# -- the package check itself --------------------------------------------------------------------------------------
def test_package_problems_finds_what_excel_would_repair(tmp_path: Path):
    wb, _ = new_ledger_workbook(2026)
    wb.save(tmp_path / "ok.xlsx")
    ok = tmp_path / "ok.xlsx"
    assert package_problems(ok.read_bytes()) == []

    def dangling(parts):
        parts["_rels/.rels"] = add_rel(parts["_rels/.rels"], "rIdX", RIBBON_TYPE, "customUI/customUI14.xml")

    def untyped(parts):
        parts["xl/media/image9.qqq"] = b"x"
        parts["xl/worksheets/_rels/sheet1.xml.rels"] = add_rel(parts["xl/worksheets/_rels/sheet1.xml.rels"], "rIdY",
                                                               IMAGE_TYPE, "../media/image9.qqq")

    def repeated_id(parts):
        parts["_rels/.rels"] = add_rel(parts["_rels/.rels"], "rId1", RIBBON_TYPE, "docProps/app.xml")

    for change, expected in [(dangling, "指向不存在的 customUI/customUI14.xml"), (untyped, "xl/media/image9.qqq 没有内容类型"),
                             (repeated_id, "_rels/.rels 中重复的关系 rId1")]:
        bad = rewrite(ok, change, tmp_path / f"{change.__name__}.xlsx")
        assert any(expected in p for p in package_problems(bad.read_bytes())), (expected, package_problems(bad.read_bytes()))
    with zipfile.ZipFile(ok) as zf, zipfile.ZipFile(tmp_path / "dup.xlsx", "w") as out, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name it is asked to write
        for info in zf.infolist():
            out.writestr(info, zf.read(info))
        out.writestr("xl/styles.xml", zf.read("xl/styles.xml"))
    assert "重复的压缩包成员 xl/styles.xml" in package_problems((tmp_path / "dup.xlsx").read_bytes())
