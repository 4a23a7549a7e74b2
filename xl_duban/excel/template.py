"""Build ``workbooks/template.xlsm``: the ledger skeleton with the 督办 ribbon tab and VBA.

    python -m xl_duban.excel.template [--standalone] [OUT]

The sheets come from ``new_ledger_workbook`` (openpyxl, placeholder 年度 2026); the package is
then made macro-enabled by hand (``macro_package``), because openpyxl drops the customUI14
root relationship on save (../shared/NOTES-excel.md). The VBA project is written by
``xl_duban.excel.vba`` from the ASCII sources in ``workbooks/vba/*.bas`` plus:

* one empty document module per sheet (``Sheet1`` …) and ``ThisWorkbook``, matching the
  codeNames set in workbook.xml and each sheet's XML;
* ``DubanFunctions``, the UDF wrappers from ``udfs.vba_module()`` when that exists;
* RunPython: by default a REFERENCEPROJECT to the xlwings add-in, exactly as xlwings'
  ``quickstart.xlsm`` carries it; with ``standalone=True`` the installed xlwings' own
  ``xlwings.bas`` and ``addin/Dictionary.cls`` are embedded instead (as in
  ``quickstart_standalone.xlsm``): that module names a DLL with the xlwings version in it, so
  a standalone workbook only works with that very xlwings version.

The build is byte-deterministic: fixed document properties, zip timestamps and member order.
"""
from __future__ import annotations

import argparse
import importlib
import io
import os
import re
import sys
import zipfile
from datetime import datetime
from pathlib import Path

from .vba import OFFICE, STDOLE, XLWINGS_ADDIN, Module, build_vba_project

__all__ = ["TEMPLATE", "VBA_DIR", "RIBBON", "PLACEHOLDER_YEAR", "template_modules",
           "ledger_skeleton", "macro_package", "template_bytes", "build_template", "main"]

REPO = Path(__file__).resolve().parents[2]
WORKBOOKS = REPO / "workbooks"
TEMPLATE = WORKBOOKS / "template.xlsm"
VBA_DIR = WORKBOOKS / "vba"
RIBBON = WORKBOOKS / "ribbon" / "customUI14.xml"
PLACEHOLDER_YEAR = 2026  # `duban init` sets the real 年度 when it copies the template
FIXED_TIME = datetime(2026, 1, 1)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
UDF_MODULE = "DubanFunctions"
WORKBOOK_OPEN = "Private Sub Workbook_Open()\r\n    DubanRegisterFunctions True\r\nEnd Sub\r\n"

_MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_VBA_CT = "application/vnd.ms-office.vbaProject"
_VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
_UI_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
_UI_REL_2006 = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
_UI_PART = "customUI/customUI14.xml"
_VBA_PART = "xl/vbaProject.bin"


def _xlwings_dir() -> Path:
    import xlwings

    return Path(xlwings.__file__).parent


def _udf_module() -> Module | None:
    """``DubanFunctions`` from ``udfs.vba_module()``, or None while ``udfs`` lacks it.

    ``udfs`` is a top-level package of this repository, not of the installed distribution:
    the repository root is put on sys.path so the build does not depend on the directory it
    is started from.
    """
    if str(REPO) not in sys.path and (REPO / "udfs").is_dir():
        sys.path.insert(0, str(REPO))
    try:
        udfs = importlib.import_module("udfs")
    except ModuleNotFoundError as exc:
        if exc.name != "udfs":
            raise
        return None
    vba_module = getattr(udfs, "vba_module", None)
    if vba_module is None:
        # `udfs` is not written yet (issue 5): the template is built without worksheet
        # functions, and tests/test_template.py will ask for a rebuild once it exists.
        return None
    return Module.from_source(vba_module(), name=UDF_MODULE, kind="standard")


def template_modules(sheet_code_names: list[str], *, standalone: bool = False) -> list[Module]:
    """The template's modules in project order: documents, ``workbooks/vba``, UDFs, xlwings."""
    udf = _udf_module()
    # the worksheet functions' Chinese help goes into Excel's function wizard on every open
    # (Application.MacroOptions cannot be stored in the file)
    on_open = WORKBOOK_OPEN if udf is not None else ""
    modules = [Module.workbook("ThisWorkbook", on_open)]
    modules += [Module.sheet(name) for name in sheet_code_names]
    modules += [Module.from_file(p) for p in sorted(VBA_DIR.glob("*.bas"))]
    if udf is not None:
        modules.append(udf)
    if standalone:
        xw = _xlwings_dir()
        modules.append(Module.from_file(xw / "xlwings.bas"))
        # xlwings.bas uses the Dictionary class on the Mac (`#If Mac`), like
        # quickstart_standalone.xlsm we ship it so the project compiles there too.
        modules.append(Module.from_file(xw / "addin" / "Dictionary.cls"))
    return modules


def ledger_skeleton() -> tuple[bytes, list[str]]:
    """The openpyxl-written .xlsx of an empty ledger, and the sheets' codeNames in order.

    codeNames are ASCII (``Sheet1`` …): they are the VBA document-module names, and VBA
    names must be ASCII in this project (codepage 1252).
    """
    from xl_duban.io.ledger_store import new_ledger_workbook

    wb, _ = new_ledger_workbook(PLACEHOLDER_YEAR)
    wb.code_name = "ThisWorkbook"
    names = []
    for number, ws in enumerate(wb.worksheets, start=1):
        ws.sheet_properties.codeName = f"Sheet{number}"
        names.append(f"Sheet{number}")
    wb.properties.creator = "xl_duban"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)  # openpyxl sets `modified` to now; macro_package fixes it again
    return buf.getvalue(), names


def _insert_before_close(xml: str, tag: str, element: str) -> str:
    at = xml.rindex(f"</{tag}>")
    return xml[:at] + element + xml[at:]


def _drop_relationships(xml: str, types: tuple[str, ...]) -> str:
    for rel_type in types:
        xml = re.sub(r'<Relationship\b[^>]*\bType="' + re.escape(rel_type) + r'"[^>]*/>', "", xml)
    return xml


def _free_id(xml: str, prefix: str) -> str:
    used = set(re.findall(r'\bId="([^"]*)"', xml))
    n = 1
    while f"{prefix}{n}" in used:
        n += 1
    return f"{prefix}{n}"


def macro_package(xlsx_bytes: bytes, *, vba_project: bytes, custom_ui: bytes | None = None,
                  timestamp: datetime = FIXED_TIME) -> bytes:
    """Turn an openpyxl-written .xlsx into .xlsm bytes with ``vba_project`` and the ribbon.

    Package surgery (../shared/NOTES-excel.md): the workbook part becomes
    ``macroEnabled.main``; ``.bin`` gets the vbaProject content type;
    ``xl/_rels/workbook.xml.rels`` links ``vbaProject.bin``; ``custom_ui`` (a 2009/07 customUI
    document) goes to ``customUI/customUI14.xml``, linked from ``_rels/.rels`` with the 2007
    ui/extensibility type. Existing VBA and ribbon parts and links are replaced, so this also
    repairs a file that openpyxl saved with ``keep_vba=True`` (which drops the ribbon link).

    docProps/core.xml gets ``timestamp`` as created and modified date; members are written in
    a fixed order with fixed zip dates, so equal input gives equal bytes.
    """
    src = zipfile.ZipFile(io.BytesIO(xlsx_bytes))
    parts = {name: src.read(name) for name in src.namelist()}
    # the old VBA project and ribbon parts are replaced (their links are dropped below)
    order = [n for n in src.namelist() if n != _VBA_PART and not n.startswith("customUI/")]

    ct = parts["[Content_Types].xml"].decode("utf-8")
    ct, count = re.subn(r'(<Override\b[^>]*\bPartName="/xl/workbook\.xml"[^>]*\bContentType=")[^"]*(")',
                        rf"\g<1>{_MACRO_MAIN}\g<2>", ct)
    if count != 1:
        ct, count = re.subn(r'(<Override\b[^>]*\bContentType=")[^"]*("[^>]*\bPartName="/xl/workbook\.xml")',
                            rf"\g<1>{_MACRO_MAIN}\g<2>", ct)
    if count != 1:
        raise ValueError("[Content_Types].xml has no Override for /xl/workbook.xml")
    ct = re.sub(r'<Default\b[^>]*\bExtension="bin"[^>]*/>', "", ct)
    ct = re.sub(r'<Override\b[^>]*\bPartName="/xl/vbaProject\.bin"[^>]*/>', "", ct)
    ct = _insert_before_close(ct, "Types", f'<Default Extension="bin" ContentType="{_VBA_CT}"/>')
    parts["[Content_Types].xml"] = ct.encode("utf-8")

    rels = _drop_relationships(parts["xl/_rels/workbook.xml.rels"].decode("utf-8"), (_VBA_REL,))
    rels = _insert_before_close(rels, "Relationships", f'<Relationship Type="{_VBA_REL}" '
                                f'Target="vbaProject.bin" Id="{_free_id(rels, "rId")}"/>')
    parts["xl/_rels/workbook.xml.rels"] = rels.encode("utf-8")
    parts[_VBA_PART] = vba_project

    root = _drop_relationships(parts["_rels/.rels"].decode("utf-8"), (_UI_REL, _UI_REL_2006))
    if custom_ui is not None:
        root = _insert_before_close(root, "Relationships", f'<Relationship Type="{_UI_REL}" '
                                    f'Target="{_UI_PART}" Id="{_free_id(root, "rId")}"/>')
        parts[_UI_PART] = custom_ui
    parts["_rels/.rels"] = root.encode("utf-8")

    if "docProps/core.xml" in parts:
        stamp = timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")
        core = parts["docProps/core.xml"].decode("utf-8")
        core = re.sub(r"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)",
                      rf"\g<1>{stamp}\g<3>", core)
        parts["docProps/core.xml"] = core.encode("utf-8")

    first = ["[Content_Types].xml", "_rels/.rels"]
    names = first + [n for n in order if n not in first] + [_VBA_PART]
    if custom_ui is not None:
        names.append(_UI_PART)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0  # the same bytes whichever OS builds it
            info.external_attr = 0
            out.writestr(info, parts[name], compresslevel=9)
    return buf.getvalue()


def template_bytes(*, standalone: bool = False) -> bytes:
    """The bytes of the template workbook (what ``build_template`` writes)."""
    xlsx, code_names = ledger_skeleton()
    references = (STDOLE, OFFICE) if standalone else (STDOLE, OFFICE, XLWINGS_ADDIN)
    vba_project = build_vba_project(template_modules(code_names, standalone=standalone),
                                    references=references)
    return macro_package(xlsx, vba_project=vba_project, custom_ui=RIBBON.read_bytes())


def build_template(out: Path, *, standalone: bool = False) -> None:
    """Write the template workbook to ``out`` (through a temporary file beside it)."""
    out = Path(out)
    data = template_bytes(standalone=standalone)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".~{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m xl_duban.excel.template",
        description="Build the macro-enabled ledger template (督办 ribbon tab, VBA project).")
    parser.add_argument("out", nargs="?", type=Path,
                        help=f"output file (default {TEMPLATE.relative_to(REPO)}; "
                             "required with --standalone)")
    parser.add_argument("--standalone", action="store_true",
                        help="embed the installed xlwings' VBA instead of referencing the "
                             "xlwings add-in (works only with that xlwings version)")
    args = parser.parse_args(argv)
    if args.out is None:
        if args.standalone:
            parser.error("give OUT with --standalone (the committed template uses the add-in)")
        args.out = TEMPLATE
    build_template(args.out, standalone=args.standalone)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
