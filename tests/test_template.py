"""workbooks/template.xlsm: the committed file is a fresh build, and independent readers accept it.

The default build references the xlwings add-in for RunPython; the standalone build embeds the
installed xlwings' own VBA. Both are checked with ../shared/tools/check_xlsm.py (oletools,
olefile and headless LibreOffice), with openpyxl (the ledger sheets) and oletools (every
module's source equals its .bas text), and LibreOffice's imported source is compared too.

LibreOffice or the check tool missing: skipped locally, a failure when ``CI`` is set.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
import pytest

from tests.processes import run_bounded
from tests.test_vba import dir_of, module_sources, project_of, reference_records
from xl_duban import buttons as button_table
from xl_duban.excel import template
from xl_duban.excel.vba import Module
from xl_duban.io.ledger_store import SHEET_ORDER

REPO = Path(__file__).resolve().parents[1]
# the workplace's shared checker; a verbatim copy travels with the tests for machines without ../shared
CHECK_XLSM = next(p for p in (REPO.parent / "shared" / "tools" / "check_xlsm.py", REPO / "tests" / "tools" / "check_xlsm.py")
                  if p.exists() or p.parent.name == "tools" and p.parent.parent.name == "tests")
XLWINGS = Path(__import__("xlwings").__file__).parent
TIMEOUT = 300  # seconds; a hung soffice fails the test instead of the run
UI_NS = "{http://schemas.microsoft.com/office/2009/07/customui}"

# ribbon label -> the Python call its button makes (the contract with the `macros` package),
# from the one table of buttons (tests/test_buttons.py checks the table against `macros`)
BUTTONS = {b.label: button_table.runpython_call(b) for b in button_table.BUTTONS}


def _require(what: str, ok: bool, hint: str) -> None:
    if ok:
        return
    message = f"{what} not available ({hint})"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {message}; the template check must run in CI", pytrace=False)
    pytest.skip(message)


def _run(args: list[str]) -> subprocess.CompletedProcess:
    """Run in its own process group; kill the whole group (soffice too) after TIMEOUT."""
    return run_bounded(args, TIMEOUT, args[1] if len(args) > 1 else args[0])


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("template")
    paths = {"default": out / "template.xlsm", "standalone": out / "template_standalone.xlsm"}
    template.build_template(paths["default"])
    template.build_template(paths["standalone"], standalone=True)
    return paths


def _members(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def _bas_text(path: Path) -> str:
    return path.read_bytes().decode("ascii").replace("\r\n", "\n").replace("\n", "\r\n")


# -- the committed file ---------------------------------------------------------------------------------------------
def test_committed_template_is_a_fresh_build(built):
    """Same parts, same order, same bytes in each part (zip deflate output may vary by zlib)."""
    assert template.TEMPLATE.exists(), "run: python -m xl_duban.excel.template"
    committed, fresh = _members(template.TEMPLATE), _members(built["default"])
    stale = [name for (name, data), (_, new) in zip(committed, fresh) if data != new]
    assert [n for n, _ in committed] == [n for n, _ in fresh] and not stale, (
        f"workbooks/template.xlsm is stale ({stale or 'parts differ'}): "
        "rebuild it with `python -m xl_duban.excel.template` and commit it")


def test_build_is_byte_deterministic(built, tmp_path):
    again = tmp_path / "again.xlsm"
    template.build_template(again)
    assert again.read_bytes() == built["default"].read_bytes()
    template.build_template(again, standalone=True)
    assert again.read_bytes() == built["standalone"].read_bytes()


def test_zip_members_have_fixed_dates_and_order(built):
    with zipfile.ZipFile(built["default"]) as z:
        infos = z.infolist()
    assert [i.filename for i in infos][:2] == ["[Content_Types].xml", "_rels/.rels"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    with zipfile.ZipFile(built["default"]) as z:
        core = z.read("docProps/core.xml").decode()
    assert re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]*)<", core) == ["2026-01-01T00:00:00Z"] * 2


# -- package parts ------------------------------------------------------------------------------------------------
def test_package_parts(built):
    with zipfile.ZipFile(built["default"]) as z:
        ct = z.read("[Content_Types].xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        root = z.read("_rels/.rels").decode()
        ui = z.read("customUI/customUI14.xml")
    assert 'PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"' in ct
    assert '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>' in ct
    assert re.search(r'Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
                     r'Target="vbaProject.bin"', rels)
    assert re.search(r'Type="http://schemas.microsoft.com/office/2007/relationships/ui/extensibility" '
                     r'Target="customUI/customUI14.xml"', root)
    assert ui == template.RIBBON.read_bytes()
    for xml in (ct, rels, root):
        ET.fromstring(xml)
    assert len(set(re.findall(r'Id="([^"]*)"', rels))) == len(re.findall(r'Id="', rels))
    assert len(set(re.findall(r'Id="([^"]*)"', root))) == len(re.findall(r'Id="', root))


def test_macro_package_replaces_existing_vba_and_ribbon(built):
    """Applied to its own output (as after an openpyxl keep_vba save) it gives the same parts."""
    again = template.macro_package(built["default"].read_bytes(), vba_project=b"new",
                                   custom_ui=template.RIBBON.read_bytes())
    with zipfile.ZipFile(io.BytesIO(again)) as z:
        names = z.namelist()
        assert z.read("xl/vbaProject.bin") == b"new"
        assert z.read("[Content_Types].xml").decode().count('Extension="bin"') == 1
        assert z.read("_rels/.rels").decode().count("ui/extensibility") == 1
        assert z.read("xl/_rels/workbook.xml.rels").decode().count("relationships/vbaProject") == 1
    assert len(names) == len(set(names))


# -- the ledger sheets ----------------------------------------------------------------------------------------------
def test_ledger_sheets_and_codenames(built):
    wb = openpyxl.load_workbook(built["default"], keep_vba=True)
    assert wb.sheetnames == list(SHEET_ORDER)
    assert wb.code_name == "ThisWorkbook"
    assert [ws.sheet_properties.codeName for ws in wb.worksheets] == [
        f"Sheet{i}" for i in range(1, len(SHEET_ORDER) + 1)]
    settings = {row[0]: row[1] for row in wb["设置"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert settings["年度"] == template.PLACEHOLDER_YEAR
    assert wb["任务台账"].tables  # the ledger's Excel tables survive the surgery


# -- the ribbon and the VBA ------------------------------------------------------------------------------------------
def test_ribbon_buttons_call_the_macros():
    ui = ET.parse(template.RIBBON).getroot()
    tab = ui.find(f"{UI_NS}ribbon/{UI_NS}tabs/{UI_NS}tab")
    assert tab.get("label") == "督办"
    assert [g.get("label") for g in tab.findall(f"{UI_NS}group")] == [g.label for g, _ in button_table.groups()]
    buttons = {b.get("label"): b for b in tab.iter(f"{UI_NS}button")}
    assert list(buttons) == list(BUTTONS)
    duban = (template.VBA_DIR / "Duban.bas").read_text("ascii")
    for label, call in BUTTONS.items():
        b = buttons[label]
        assert b.get("size") == "large" and b.get("imageMso") and b.get("screentip")
        sub = b.get("onAction")
        body = re.search(rf"^Public Sub {sub}\(control As IRibbonControl\)\n(.*?)^End Sub", duban, re.M | re.S)
        assert body, f"{label}: no Sub {sub}(control As IRibbonControl) in Duban.bas"
        assert body.group(1).strip() == f'RunPython "{call}"'


@pytest.mark.parametrize("path", sorted(template.VBA_DIR.glob("*.bas")), ids=lambda p: p.name)
def test_vba_sources_are_ascii(path):
    path.read_bytes().decode("ascii")


@pytest.mark.parametrize("kind", ["default", "standalone"])
def test_module_sources_equal_the_bas_files(built, kind):
    with zipfile.ZipFile(built[kind]) as z:
        project = z.read("xl/vbaProject.bin")
    sources = module_sources(project)
    expected = {f"Sheet{i}" for i in range(1, len(SHEET_ORDER) + 1)} | {"ThisWorkbook"}
    for path in template.VBA_DIR.glob("*.bas"):
        name = Module.from_file(path).name
        expected.add(name)
        assert sources[name] == _bas_text(path), path.name
    udf = template._udf_module()
    if udf is not None:
        expected.add("DubanFunctions")
        assert sources["DubanFunctions"] == udf.stored_source()
    if kind == "standalone":
        expected |= {"xlwings", "Dictionary"}
        assert sources["xlwings"] == _bas_text(XLWINGS / "xlwings.bas")
        cls = _bas_text(XLWINGS / "addin" / "Dictionary.cls")
        body = cls[cls.index("''\r\n"):]
        assert sources["Dictionary"].endswith(body)
        assert 'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"' in sources["Dictionary"]
    assert set(sources) == expected
    for name in expected:
        if name == "ThisWorkbook" or re.fullmatch(r"Sheet\d+", name):
            base = "00020819" if name == "ThisWorkbook" else "00020820"
            assert f'Attribute VB_Base = "0{{{base}-0000-0000-C000-000000000046}}"' in sources[name]


def test_runpython_source(built):
    """Default: a reference to the xlwings add-in. Standalone: xlwings' module, no such reference."""
    default = reference_records(dir_of(project_of(built["default"])))
    standalone = reference_records(dir_of(project_of(built["standalone"])))
    quickstart = reference_records(dir_of(project_of(XLWINGS / "quickstart.xlsm")))
    assert list(default) == ["stdole", "Office", "xlwings"]
    assert default["xlwings"] == quickstart["xlwings"]  # REFERENCEPROJECT to xlwings.xlam
    assert list(standalone) == ["stdole", "Office"]
    assert built["default"].read_bytes() != built["standalone"].read_bytes()
    with zipfile.ZipFile(built["standalone"]) as z:
        sources = module_sources(z.read("xl/vbaProject.bin"))
    version = __import__("xlwings").__version__
    assert f'"xlwings64-{version}.dll"' in sources["xlwings"]  # must match the installed package


# -- independent readers ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["default", "standalone"])
def test_check_xlsm_with_libreoffice(built, kind):
    _require("../shared/tools/check_xlsm.py", CHECK_XLSM.exists(), str(CHECK_XLSM))
    _require("soffice", shutil.which("soffice") is not None, "Debian package libreoffice-calc-nogui")
    proc = _run([sys.executable, str(CHECK_XLSM), str(built[kind]), "--libreoffice", "--json"])
    report = json.loads(proc.stdout[:proc.stdout.rstrip().rindex("\n")])
    failed = {name: r["detail"] for name, r in report.items() if not r["ok"]}
    assert proc.returncode == 0 and not failed, (failed, proc.stdout[-2000:], proc.stderr[-2000:])
    assert set(report) == {"content-types", "vba-rel", "ribbon", "vba-modules", "callbacks", "codenames",
                           "libreoffice"}
    assert len(report["callbacks"]["detail"]["resolved"]) == len(BUTTONS)


LO_SOURCES = r'''
import json, os, shutil, subprocess, sys, tempfile, time
import uno
from com.sun.star.beans import PropertyValue
profile = tempfile.mkdtemp(prefix="lo_profile_")
pipe = "duban_tpl_%d" % os.getpid()
proc = subprocess.Popen(["soffice", "--headless", "--invisible", "--norestore",
                         "-env:UserInstallation=file://" + profile, "--accept=pipe,name=%s;urp;" % pipe],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
out = {}
try:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(120):
        try:
            ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            break
        except Exception:
            time.sleep(0.5)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    hidden = PropertyValue(); hidden.Name = "Hidden"; hidden.Value = True
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(sys.argv[1]), "_blank", 0, (hidden,))
    libs = doc.BasicLibraries
    for lib_name in libs.ElementNames:
        libs.loadLibrary(lib_name)
        lib = libs.getByName(lib_name)
        for mod in lib.ElementNames:
            out[lib_name + "/" + mod] = lib.getByName(mod)
    doc.close(True)
    desktop.terminate()
finally:
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.rmtree(profile, ignore_errors=True)
print(json.dumps(out))
'''


def test_libreoffice_imports_the_same_source(built, tmp_path):
    """LibreOffice decompresses every module of the standalone build to the .bas text.

    LibreOffice drops ``Attribute`` lines and prefixes its own ``Rem Attribute`` / ``Option``
    lines; the remaining code must equal ours line for line (an independent decompressor).
    """
    lo_python = os.environ.get("LO_PYTHON", "/usr/bin/python3")
    _require("soffice", shutil.which("soffice") is not None, "Debian package libreoffice-calc-nogui")
    _require("python3-uno", subprocess.run([lo_python, "-c", "import uno"], capture_output=True).returncode == 0,
             "Debian package python3-uno")
    script = tmp_path / "lo_sources.py"
    script.write_text(LO_SOURCES)
    proc = _run([lo_python, str(script), str(built["standalone"].resolve())])
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = json.loads(proc.stdout.strip().splitlines()[-1])
    with zipfile.ZipFile(built["standalone"]) as z:
        ours = module_sources(z.read("xl/vbaProject.bin"))
    assert {k.split("/", 1)[1] for k in imported if not k.startswith("Standard/")} == set(ours)
    for name, source in ours.items():
        lo_lines = imported[f"VBAProject/{name}"].split("\n")
        while lo_lines and re.match(r"Rem Attribute |Option VBASupport |Option ClassModule$", lo_lines[0]):
            lo_lines.pop(0)
        our_lines = [line for line in source.split("\r\n") if not line.startswith("Attribute ")]
        assert "\n".join(lo_lines).rstrip("\n") == "\n".join(our_lines).rstrip("\n"), name


def test_main_entry_point(tmp_path, capsys):
    out = tmp_path / "t.xlsm"
    assert template.main([str(out)]) == 0
    assert out.read_bytes() == template.template_bytes()
    with pytest.raises(SystemExit):
        template.main(["--standalone"])  # the committed template is never overwritten by it
