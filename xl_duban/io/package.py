"""What openpyxl cannot carry through a save, carried over from the original file (issue 5).

openpyxl rebuilds the whole package when the store saves a ledger. Measured with openpyxl
3.1.5 on ledgers a clerk extended in LibreOffice (and Excel-only parts added by hand; see
``tests/test_package.py``):

* kept byte for byte: ``xl/vbaProject.bin`` and the ``customUI/`` parts (``keep_vba=True``);
  the 2006 ``customUI.xml`` root relationship; picture bytes;
* kept, re-encoded: cell notes, defined names, tables, pivot tables and their caches (stable
  after one pass; LibreOffice still opens them), external links, and the charts and pictures
  it can read (charts lose their style/colour parts and what openpyxl's chart model lacks;
  picture anchors are rewritten);
* lost: the ribbon's ``customUI14.xml`` root relationship (the part stays, orphaned: no
  ribbon), shapes and text boxes, threaded comments and their persons list, sparklines and
  every other worksheet ``extLst`` extension, custom XML parts, printer settings, slicers and
  their caches, OLE objects, form controls (their parts stay, orphaned, in an .xlsm); and a
  sheet the program regenerates loses its codeName, which ties it to its VBA document module.

So the store lets openpyxl write, then :func:`carry_over` puts back, from the original bytes,
what openpyxl dropped: the ribbon relationships (and parts), every sheet's DrawingML drawing
with its whole closure (charts, chart styles and colours, pictures, shapes, embedded data —
the original drawing replaces the one openpyxl re-encoded, so nothing is doubled, except on
sheets the program draws itself, see :func:`drawn_by_program`), header/footer pictures, sheet
backgrounds, threaded comments and persons, worksheet extensions (sparklines, extended
validations, extended conditional formats not paired with a rule openpyxl keeps), custom XML,
WPS stores (cell pictures), codeNames. Sheets are matched by name through ``workbook.xml``:
openpyxl renumbers sheet parts. Carried parts keep their bytes and, when free, their names;
the result is checked (:func:`package_problems`) before it may replace the ledger.

What cannot be carried faithfully (slicers, timelines, controls, OLE objects, data
connections, macro sheets, shared-workbook revisions, dynamic-array/rich-value metadata,
anything unrecognised) is found by :func:`scan_package` / :func:`check_writable` BEFORE
anything is written, and the save is refused with a Chinese message naming the sheet, the
kind of content and what the clerk can do.
"""

from __future__ import annotations

import io
import posixpath
import re
import time
import zipfile
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, NamedTuple, Union
from urllib.parse import quote, unquote
from xml.sax.saxutils import quoteattr

from lxml import etree

from ..errors import LedgerError

Source = Union[bytes, str, Path]

# -- namespaces and relationship types ---------------------------------------------------------------------
CT_PART = "[Content_Types].xml"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
X14_NS = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XDR_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
R_ID = f"{{{R_NS}}}id"

OD = R_NS + "/"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships/"
MS06 = "http://schemas.microsoft.com/office/2006/relationships/"
MS07 = "http://schemas.microsoft.com/office/2007/relationships/"
MS11 = "http://schemas.microsoft.com/office/2011/relationships/"
MS17 = "http://schemas.microsoft.com/office/2017/10/relationships/"

RT_OFFICE_DOCUMENT = OD + "officeDocument"
RT_RIBBON = (MS06 + "ui/extensibility", MS07 + "ui/extensibility")
RT_VBA = MS06 + "vbaProject"
RT_WORKSHEET = OD + "worksheet"
RT_CHARTSHEET = OD + "chartsheet"
RT_DRAWING = OD + "drawing"
RT_VML = OD + "vmlDrawing"
RT_IMAGE = OD + "image"
RT_TABLE = OD + "table"
RT_THREADED = MS17 + "threadedComment"
RT_PERSON = MS17 + "person"
RT_CUSTOM_XML = OD + "customXml"
WPS_RELS = "http://www.wps.cn/"
RT_WPS_CELL_IMAGE = WPS_RELS + "officeDocument/2020/cellImage"

MACRO_ENABLED = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"

# -- what the scan finds, and what becomes of it ------------------------------------------------------------
CARRY = "carry"  # openpyxl drops or re-encodes it: carried over from the original bytes
KEPT = "kept"  # openpyxl keeps it (re-encoded)
DROPPED = "dropped"  # openpyxl drops it and that loses nothing of the clerk's (rebuilt by Excel)
REFUSED = "refused"  # cannot be carried faithfully: the save is refused before anything is written

KIND_NAMES = {
    "ribbon": "自定义功能区（督办选项卡）",
    "vba": "VBA 宏工程",
    "chart": "图表",
    "image": "图片",
    "shape": "形状或文本框",
    "smartart": "SmartArt 图形",
    "drawing": "绘图对象",
    "note": "批注",
    "threaded-comment": "新版批注（对话式批注）",
    "persons": "批注作者名单",
    "sparkline": "迷你图",
    "validation-x14": "数据验证（下拉列表）",
    "format-x14": "条件格式",
    "extension": "工作表扩展设置",
    "header-footer-image": "页眉页脚中的图片",
    "background-image": "工作表背景图片",
    "pivot": "数据透视表",
    "external-link": "外部链接",
    "custom-xml": "自定义 XML 数据",
    "cell-image": "WPS 单元格图片",
    "wps-data": "WPS 扩展数据",
    "printer-settings": "打印机设置",
    "thumbnail": "缩略图",
    "signature": "数字签名",
    "slicer": "切片器",
    "timeline": "日程表",
    "control": "按钮、复选框等控件",
    "ole": "嵌入对象（如插入的 Word 文档）",
    "macro-sheet": "Excel 4.0 宏表或对话框表",
    "connection": "外部数据连接（数据查询）",
    "query-table": "外部数据查询表",
    "shared-workbook": "共享工作簿的修订记录",
    "rich-data": "动态数组公式、单元格内图片或数据类型",
    "unknown": "无法识别的内容",
}

ADVICE = {
    "slicer": "请删除切片器，或把数据透视表连同切片器移到另一个工作簿",
    "timeline": "请删除日程表，或把数据透视表连同日程表移到另一个工作簿",
    "control": "可改用“督办”选项卡上的按钮，或把控件移到另一个工作簿",
    "ole": "请把嵌入对象另存为单独的文件后从台账中删除",
    "macro-sheet": "请把该工作表移到另一个工作簿",
    "connection": "请把查询结果粘贴为数值，或把查询移到另一个工作簿",
    "query-table": "请把查询结果粘贴为数值，或把查询移到另一个工作簿",
    "shared-workbook": "请先取消共享（审阅→共享工作簿）后再运行",
    "rich-data": "请把这些公式或图片移到另一个工作簿，或把公式结果粘贴为数值",
}
DEFAULT_ADVICE = "请将其移到另一个工作簿（可用公式引用台账中的数据）"


@dataclass(frozen=True)
class Content:
    """One piece of content found in a ledger package."""

    kind: str  # a key of KIND_NAMES
    fate: str  # CARRY, KEPT, DROPPED or REFUSED
    part: str  # the package part holding it
    sheet: str | None = None  # the sheet it sits on, None for workbook-level content

    @property
    def label(self) -> str:
        return KIND_NAMES.get(self.kind, self.kind)

    def where(self) -> str:
        if self.kind == "macro-sheet" and self.sheet:
            return f"工作表【{self.sheet}】是{self.label}"
        return f"工作表【{self.sheet}】中的{self.label}" if self.sheet else f"工作簿中的{self.label}"


@dataclass
class Scan:
    """Everything :func:`scan_package` found, in package order."""

    contents: list[Content] = field(default_factory=list)

    @property
    def refused(self) -> list[Content]:
        return [c for c in self.contents if c.fate == REFUSED]

    @property
    def carried(self) -> list[Content]:
        return [c for c in self.contents if c.fate == CARRY]

    def kinds(self, fate: str | None = None, sheet: str | None = None) -> set[str]:
        return {c.kind for c in self.contents if (fate is None or c.fate == fate) and (sheet is None or c.sheet == sheet)}

    def refusal(self, file_name: str) -> str:
        """The Chinese message for a refused save ('' when nothing is refused)."""
        lines, seen = [], set()
        on_sheets = {c.kind for c in self.refused if c.sheet}
        for c in self.refused:
            key = (c.sheet, c.kind, c.part if c.kind == "unknown" else "")
            if key in seen or (c.sheet is None and c.kind in on_sheets):  # a slicer's cache: its sheet says it
                continue
            seen.add(key)
            what = c.where() + (f"（{c.part}）" if c.kind == "unknown" else "")
            lines.append(f"  · {what}：{ADVICE.get(c.kind, DEFAULT_ADVICE)}。")
        if not lines:
            return ""
        return (f"台账“{file_name}”中有命令行无法安全保存的内容，为防止丢失，本次未对台账作任何修改：\n"
                + "\n".join(lines)
                + "\n处理后请重新运行。图表、图片、形状、批注、数据透视表和督办选项卡都可以保留在台账中。")


# -- the package in memory -------------------------------------------------------------------------------------
class Rel(NamedTuple):
    id: str
    type: str
    target: str
    external: bool


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)


def _xml(data: bytes) -> etree._Element:
    return etree.fromstring(data, _PARSER)


def _tostring(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def rels_part(source: str) -> str:
    """The relationships part of ``source`` (``""`` is the package root)."""
    if not source:
        return "_rels/.rels"
    folder, name = posixpath.split(source)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve(source: str, target: str) -> str:
    """The part name a relationship of ``source`` points at."""
    target = unquote(target.split("#", 1)[0])
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target)).lstrip("/")


def _extension(name: str) -> str:
    """A part name's extension as content types match it ("_rels/.rels" → "rels")."""
    base = posixpath.basename(name)
    return base.rsplit(".", 1)[1].lower() if "." in base else ""


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class Package:
    """An OPC package held as ``{part name: bytes}`` with its content types and relationships."""

    def __init__(self, data: bytes) -> None:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            names = [i.filename for i in infos]
            self.duplicates = sorted({n for n in names if names.count(n) > 1})
            self.parts: dict[str, bytes] = {}
            for info in infos:  # a duplicate member: the last one wins, as zipfile reads it
                self.parts[info.filename] = zf.read(info)
        self.defaults: dict[str, str] = {}
        self.overrides: dict[str, str] = {}
        if CT_PART in self.parts:
            for el in _xml(self.parts[CT_PART]):
                if _local(el.tag) == "Default" and el.get("Extension"):
                    self.defaults[el.get("Extension").lower()] = el.get("ContentType")
                elif _local(el.tag) == "Override" and el.get("PartName"):
                    self.overrides[unquote(el.get("PartName")).lstrip("/")] = el.get("ContentType")
        self._rels: dict[str, list[Rel]] = {}
        self._trees: dict[str, etree._Element] = {}
        self.outlines: dict[str, bytes] = {}  # sheet part → its XML without the rows
        self.types_changed = False

    # content types
    def content_type(self, name: str) -> str | None:
        if name in self.overrides:
            return self.overrides[name]
        lowered = {k.lower(): v for k, v in self.overrides.items()}
        if name.lower() in lowered:
            return lowered[name.lower()]
        return self.defaults.get(_extension(name))

    def _types_xml(self) -> bytes:
        out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n', f'<Types xmlns="{CT_NS}">']
        out += [f"<Default Extension={quoteattr(ext)} ContentType={quoteattr(ct)}/>" for ext, ct in self.defaults.items()]
        out += [f"<Override PartName={quoteattr('/' + quote(name))} ContentType={quoteattr(ct)}/>"
                for name, ct in self.overrides.items()]
        out.append("</Types>")
        return "".join(out).encode("utf-8")

    # relationships
    def rels(self, source: str) -> list[Rel]:
        if source not in self._rels:
            data = self.parts.get(rels_part(source))
            rels = []
            if data is not None:
                for el in _xml(data):
                    if _local(el.tag) == "Relationship":
                        rels.append(Rel(el.get("Id", ""), el.get("Type", ""), el.get("Target", ""),
                                        el.get("TargetMode", "") == "External"))
            self._rels[source] = rels
        return self._rels[source]

    def set_rels(self, source: str, rels: list[Rel]) -> None:
        self._rels[source] = list(rels)
        items = "".join(
            f"<Relationship Id={quoteattr(r.id)} Type={quoteattr(r.type)} Target={quoteattr(r.target)}"
            + (' TargetMode="External"' if r.external else "") + "/>" for r in rels)
        self.parts[rels_part(source)] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                                         f'<Relationships xmlns="{PKG_REL_NS}">{items}</Relationships>').encode("utf-8")

    def add_rel(self, source: str, rel_type: str, target_part: str) -> str:
        rels = self.rels(source)
        ids = {r.id for r in rels}
        n = len(rels) + 1
        while f"rId{n}" in ids:
            n += 1
        self.set_rels(source, [*rels, Rel(f"rId{n}", rel_type, "/" + quote(target_part), False)])
        return f"rId{n}"

    def targets(self, source: str, rel_type: str | None = None) -> list[tuple[Rel, str]]:
        return [(r, resolve(source, r.target)) for r in self.rels(source)
                if not r.external and (rel_type is None or r.type == rel_type)]

    def rel_by_id(self, source: str, rid: str | None) -> Rel | None:
        return next((r for r in self.rels(source) if r.id == rid), None)

    # XML parts
    def tree(self, name: str) -> etree._Element:
        if name not in self._trees:
            self._trees[name] = _xml(self.parts[name])
        return self._trees[name]

    def store_tree(self, name: str) -> None:
        self.parts[name] = _tostring(self._trees[name])

    def workbook(self) -> str | None:
        return next((t for r, t in self.targets("", RT_OFFICE_DOCUMENT) if t in self.parts), None)

    def sheets(self) -> dict[str, tuple[str, str]]:
        """Sheet name → (part name, relationship type), from workbook.xml."""
        wb = self.workbook()
        if wb is None:
            return {}
        out = {}
        sheets = next((el for el in self.tree(wb) if _local(el.tag) == "sheets"), None)
        for el in sheets if sheets is not None else ():
            rel = self.rel_by_id(wb, el.get(R_ID))
            if rel is not None and not rel.external and el.get("name") is not None:
                out[el.get("name")] = (resolve(wb, rel.target), rel.type)
        return out

    def to_bytes(self, pieces: dict[str, list[bytes]] | None = None) -> bytes:
        """The package as a zip (see :func:`zip_parts`)."""
        if self.types_changed:
            self.parts[CT_PART] = self._types_xml()
        return zip_parts(self.parts, pieces=pieces)


def zip_parts(parts: dict[str, bytes], *, pieces: dict[str, list[bytes]] | None = None,
              compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """``parts`` as a zip, content types first (as office suites write it). ``pieces`` gives
    parts as lists of byte strings, written one after the other (a big sheet is never joined
    into one more copy of itself)."""
    pieces = pieces or {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name in [CT_PART] + [n for n in parts if n != CT_PART]:
            if name in pieces:
                info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
                info.compress_type = compression
                with zf.open(info, "w") as fh:
                    for piece in pieces[name]:
                        fh.write(piece)
            elif name in parts:
                zf.writestr(name, parts[name])
    return buf.getvalue()


def _load(source: Source) -> bytes:
    return source if isinstance(source, bytes) else Path(source).read_bytes()


# -- detection ---------------------------------------------------------------------------------------------------
EXT_SPARKLINE = "{05C60535-1F16-4FD2-B633-F4F36F0B64E0}"
EXT_X14_VALIDATION = "{CCE6A557-97BC-4B89-ADB6-D9C93CAAB3DF}"
EXT_X14_FORMAT = "{78C0D931-6437-407D-A8EE-F0AAD7539E65}"
EXT_REFUSED = {
    "{A8765BA9-456A-4DAB-B4F3-ACF838C121DE}": "slicer",  # x14:slicerList
    "{3A4CF648-6AED-40F4-86FF-DC5316D8AED3}": "slicer",  # x15:slicerList (table slicers)
    "{7E03D99C-DC04-49D9-9315-930204A7B6E9}": "timeline",  # x15:timelineRefs
}
EXT_KINDS = {EXT_SPARKLINE: "sparkline", EXT_X14_VALIDATION: "validation-x14", EXT_X14_FORMAT: "format-x14"}

SLICER_URIS = {"http://schemas.microsoft.com/office/drawing/2010/slicer": "slicer",
               "http://schemas.microsoft.com/office/drawing/2012/timeslicer": "timeline"}
DIAGRAM_URI = "http://schemas.openxmlformats.org/drawingml/2006/diagram"

ROOT_RELS = {PKG + "metadata/core-properties": None, OD + "extended-properties": None, OD + "custom-properties": None,
             PKG + "metadata/thumbnail": ("thumbnail", DROPPED),
             PKG + "digital-signature/origin": ("signature", DROPPED)}  # any change voids a signature
WORKBOOK_RELS = {
    OD + "styles": None, OD + "theme": None, OD + "sharedStrings": None, OD + "calcChain": None,
    OD + "volatileDependencies": None, OD + "pivotCacheDefinition": None,
    OD + "externalLink": ("external-link", KEPT),
    RT_VBA: ("vba", CARRY),
    RT_CUSTOM_XML: ("custom-xml", CARRY),
    RT_PERSON: ("persons", CARRY),
    RT_WPS_CELL_IMAGE: ("cell-image", CARRY),
    OD + "dialogsheet": ("macro-sheet", REFUSED), MS06 + "xlMacrosheet": ("macro-sheet", REFUSED),
    MS06 + "xlIntlMacrosheet": ("macro-sheet", REFUSED),
    OD + "connections": ("connection", REFUSED),
    MS07 + "slicerCache": ("slicer", REFUSED), MS11 + "timelineCache": ("timeline", REFUSED),
    OD + "revisionHeaders": ("shared-workbook", REFUSED), OD + "usernames": ("shared-workbook", REFUSED),
    OD + "sheetMetadata": ("rich-data", REFUSED),
    "http://customschemas.google.com/relationships/workbookmetadata": None,  # Google Sheets' export stamp
}
RICH_DATA_RELS = ("rdRichValue", "rdArray", "richStyles", "rdSupportingPropertyBag", "richValueRel")
SHEET_RELS = {
    OD + "comments": ("note", KEPT), OD + "pivotTable": ("pivot", KEPT), OD + "hyperlink": None,
    RT_TABLE: None, RT_DRAWING: None, RT_VML: None, RT_IMAGE: None,  # judged by the element that uses them
    RT_THREADED: ("threaded-comment", CARRY),
    OD + "printerSettings": ("printer-settings", DROPPED),
    MS07 + "slicer": ("slicer", REFUSED), MS11 + "timeline": ("timeline", REFUSED),
    OD + "control": ("control", REFUSED), OD + "ctrlProp": ("control", REFUSED),
    MS06 + "activeXControlBinary": ("control", REFUSED),
    OD + "oleObject": ("ole", REFUSED), OD + "package": ("ole", REFUSED),
    "http://schemas.microsoft.com/office/2019/04/relationships/namedSheetView": None,  # co-authors' views: no content
}


def scan_package(source: Source | Package) -> Scan:
    """What a ledger holds beyond cells, and for each thing: carried, kept, dropped or refused."""
    return _scan(source if isinstance(source, Package) else Package(_load(source)))


def check_writable(source: Source | Package, *, file_name: str | None = None) -> Scan:
    """Raise :class:`LedgerError` when the ledger holds content a save would lose; else the scan.

    Call it before anything is written (the store does, in ``_write_replace``; calling it at
    load time too tells the clerk before the command does its work).
    """
    if file_name is None:
        file_name = Path(source).name if isinstance(source, (str, Path)) else "台账"
    try:
        scan = scan_package(source)
    except (zipfile.BadZipFile, etree.XMLSyntaxError, KeyError) as exc:
        raise LedgerError(f"台账“{file_name}”的文件结构无法识别（{type(exc).__name__}），为防止丢失内容未作修改；"
                          "可从“台账备份”文件夹恢复最近的备份。") from exc
    if scan.refused:
        raise LedgerError(scan.refusal(file_name))
    return scan


def _scan(pkg: Package) -> Scan:
    scan = Scan()
    add = scan.contents.append
    for rel, target in pkg.targets(""):  # package-level extras hold no cell content: unknown ones are dropped
        if rel.type in RT_RIBBON:
            add(Content("ribbon", CARRY, target))
        elif rel.type != RT_OFFICE_DOCUMENT:
            verdict = ROOT_RELS.get(rel.type, ("unknown", DROPPED))
            if verdict:
                add(Content(verdict[0], verdict[1], target))
    wb = pkg.workbook()
    if wb is None:
        return scan
    for rel, target in pkg.targets(wb):
        if rel.type in (RT_WORKSHEET, RT_CHARTSHEET):
            continue
        verdict = WORKBOOK_RELS.get(rel.type, _unlisted_workbook_rel(rel.type))
        if verdict:
            add(Content(verdict[0], verdict[1], target, _sheet_of(pkg, wb, rel.id)))
    for name, (part, rel_type) in pkg.sheets().items():
        if rel_type in (RT_WORKSHEET, RT_CHARTSHEET) and part in pkg.parts:
            _scan_sheet(pkg, name, part, add)
    return scan


def _unlisted_workbook_rel(rel_type: str) -> tuple[str, str]:
    if _is_wps(rel_type):
        return "wps-data", CARRY
    if any(part in rel_type for part in RICH_DATA_RELS):  # Excel 365 pictures in cells, data types
        return "rich-data", REFUSED
    return "unknown", REFUSED


def _is_wps(rel_type: str) -> bool:
    """WPS Office's own workbook-level stores (cell pictures, custom data): self-contained, carried whole."""
    return rel_type.startswith(WPS_RELS)


def _sheet_of(pkg: Package, wb: str, rid: str) -> str | None:
    """The sheet name a workbook relationship belongs to (macro and dialog sheets)."""
    sheets = next((el for el in pkg.tree(wb) if _local(el.tag) == "sheets"), None)
    for el in sheets if sheets is not None else ():
        if el.get(R_ID) == rid:
            return el.get("name")
    return None


SHEET_MARKERS = (b"drawing", b"Drawing", b"picture", b"oleObjects", b"controls", b"extLst", b"AlternateContent")


def _sheet_elements(pkg: Package, part: str) -> list[etree._Element]:
    """The top-level elements of a sheet, when it may hold any we look at (parsing a big sheet costs)."""
    outline = _outline_bytes(pkg, part)
    if not any(marker in outline for marker in SHEET_MARKERS):
        return []
    return [el for el in sheet_outline(pkg, part) if isinstance(el.tag, str)]


def _outline_bytes(pkg: Package, part: str) -> bytes:
    """A sheet part without its rows: everything this module looks at in a sheet is outside
    ``<sheetData>``, which is nearly all of a big sheet's bytes."""
    key = "outline:" + part
    if key not in pkg.outlines:
        data = pkg.parts[part]
        start, end = data.find(b"<sheetData"), data.find(b"</sheetData>")
        if start >= 0 and end > start:
            data = data[:start] + b"<sheetData/>" + data[end + len(b"</sheetData>"):]
        pkg.outlines[key] = data
    return pkg.outlines[key]


def sheet_outline(pkg: Package, part: str) -> etree._Element:
    """A sheet's root element without its rows (see :func:`_outline_bytes`)."""
    key = "outline:" + part
    if key not in pkg._trees:
        pkg._trees[key] = _xml(_outline_bytes(pkg, part))
    return pkg._trees[key]


def _scan_sheet(pkg: Package, sheet: str, part: str, add) -> None:
    for el in _sheet_elements(pkg, part):
        tag = _local(el.tag)
        rel = pkg.rel_by_id(part, el.get(R_ID))
        target = resolve(part, rel.target) if rel is not None and not rel.external else None
        if tag == "drawing" and target in pkg.parts:
            _scan_drawing(pkg, sheet, target, add)
        elif tag == "legacyDrawing" and target in pkg.parts:
            if _vml_controls(pkg.parts[target]):
                add(Content("control", REFUSED, target, sheet))
        elif tag == "legacyDrawingHF" and target:
            add(Content("header-footer-image", CARRY, target, sheet))
        elif tag == "picture" and target:
            add(Content("background-image", CARRY, target, sheet))
        elif tag == "oleObjects":
            add(Content("ole", REFUSED, part, sheet))
        elif tag == "controls":
            add(Content("control", REFUSED, part, sheet))
        elif tag == "extLst":
            for ext in el:
                uri = (ext.get("uri") or "").upper()
                if uri in EXT_REFUSED:
                    add(Content(EXT_REFUSED[uri], REFUSED, part, sheet))
                elif _has_rid(ext):
                    add(Content("unknown", REFUSED, f"{part} extLst {uri}", sheet))
                else:
                    add(Content(EXT_KINDS.get(uri, "extension"), CARRY, part, sheet))
        elif _local(el.tag) == "AlternateContent":  # Excel wraps controls and OLE objects in mc:AlternateContent
            inner = {_local(x.tag) for x in el.iter() if isinstance(x.tag, str)}
            if "controls" in inner or "control" in inner:
                add(Content("control", REFUSED, part, sheet))
            elif "oleObjects" in inner or "oleObject" in inner:
                add(Content("ole", REFUSED, part, sheet))
    for rel, target in pkg.targets(part):
        verdict = SHEET_RELS.get(rel.type, ("unknown", REFUSED))
        if rel.type == RT_TABLE and target in pkg.parts:
            for trel, ttarget in pkg.targets(target):
                if trel.type != OD + "queryTable":
                    continue
                add(Content("query-table", REFUSED, ttarget, sheet))
        if verdict:
            add(Content(verdict[0], verdict[1], target, sheet))


def _has_rid(el: etree._Element) -> bool:
    return any(k.startswith(f"{{{R_NS}}}") for x in el.iter() if isinstance(x.tag, str) for k in x.attrib)


def _vml_controls(vml: bytes) -> bool:
    """True when a legacy VML drawing holds anything but cell notes (form controls)."""
    types = set(re.findall(rb'ObjectType\s*=\s*["\']([A-Za-z]+)["\']', vml))
    return bool(types - {b"Note"})


def _scan_drawing(pkg: Package, sheet: str, part: str, add) -> None:
    root = pkg.tree(part)
    for anchor in root:
        if _local(anchor.tag) not in ("twoCellAnchor", "oneCellAnchor", "absoluteAnchor"):
            continue
        uris = {el.get("uri") for el in anchor.iter(f"{{{A_NS}}}graphicData")}
        refused = [SLICER_URIS[u] for u in uris if u in SLICER_URIS]
        locals_ = {_local(el.tag) for el in anchor.iter() if isinstance(el.tag, str)}
        if refused:
            add(Content(refused[0], REFUSED, part, sheet))
        elif "chart" in locals_ and any(u and "chart" in u for u in uris):
            add(Content("chart", CARRY, part, sheet))
        elif DIAGRAM_URI in uris:
            add(Content("smartart", CARRY, part, sheet))
        elif "pic" in locals_:
            add(Content("image", CARRY, part, sheet))
        elif locals_ & {"sp", "grpSp", "cxnSp"}:
            add(Content("shape", CARRY, part, sheet))
        else:
            add(Content("drawing", CARRY, part, sheet))


# -- carrying over -------------------------------------------------------------------------------------------
WS_ORDER = ["sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
            "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate",
            "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting", "dataValidations", "hyperlinks",
            "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks", "customProperties",
            "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF",
            "picture", "oleObjects", "controls", "webPublishItems", "tableParts", "extLst"]
CS_ORDER = ["sheetPr", "sheetViews", "sheetProtection", "customSheetViews", "pageMargins", "pageSetup", "headerFooter",
            "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "webPublishItems", "extLst"]
# sheet elements pointing at one related part that is carried whole from the original
CARRIED_ELEMENTS = {"drawing": RT_DRAWING, "legacyDrawingHF": RT_VML, "picture": RT_IMAGE}
CARRIED_WORKBOOK_RELS = (RT_CUSTOM_XML, RT_PERSON, RT_WPS_CELL_IMAGE)


def drawn_by_program(wb) -> set[str]:
    """Sheets of openpyxl workbook ``wb`` holding a chart or picture the program added.

    openpyxl re-reads charts and pictures of a loaded sheet with the anchor objects of the
    file; the program anchors what it adds at a cell (``ws.add_chart(chart, "A5")``). On such
    a sheet (a regenerated bulletin) the drawing openpyxl writes is the program's and wins.
    """
    drawn = set()
    for ws in [*wb.worksheets, *getattr(wb, "chartsheets", [])]:
        objects = [*getattr(ws, "_charts", []), *getattr(ws, "_images", [])]
        if any(isinstance(getattr(o, "anchor", None), str) for o in objects):
            drawn.add(ws.title)
    return drawn


def carry_over(original: Source | Package, written: Source, *, keep_written: Iterable[str] = ()) -> bytes:
    """The package openpyxl ``written`` with what it dropped from ``original`` put back.

    A sheet's original drawing replaces the one openpyxl re-encoded, except on the sheets
    named in ``keep_written`` (see :func:`drawn_by_program`), whose written drawing stays.
    Returns ``written`` unchanged when there is nothing to carry. Raises :class:`LedgerError`
    if the result would not be a valid package (the ledger must then be left as it is).
    """
    out_bytes = _load(written)
    orig = original if isinstance(original, Package) else Package(_load(original))
    out = Package(out_bytes)
    carrier = _Carrier(orig, out, set(keep_written))
    try:
        carrier.run()
        if not carrier.changed and not out.duplicates:
            return out_bytes
        data = out.to_bytes()
        problems = package_problems(data)
    except Exception as exc:  # a defect here must cost the save, never the ledger
        raise LedgerError(f"内部错误：保存时无法保留台账中的图表、图片或功能区（{type(exc).__name__}: {exc}），"
                          "为防止损坏未作任何修改。请把台账发给维护人员。") from exc
    if problems:
        raise LedgerError("内部错误：保存时无法完整保留台账中的图表、图片或功能区（" + "；".join(problems[:3])
                          + "），为防止损坏未作任何修改。请把台账发给维护人员。")
    return data


class _Carrier:
    def __init__(self, orig: Package, out: Package, keep_written: set[str]) -> None:
        self.orig, self.out = orig, out
        self.keep_written = keep_written  # sheets whose written drawing is the program's
        self.mapping: dict[str, str] = {}  # original part → part in the output
        self.changed = False

    def run(self) -> None:
        self._root()
        self._workbook()
        self._sheets()

    # whole-package relationships
    def _root(self) -> None:
        out_types = {r.type for r in self.out.rels("")}
        for rel, target in self.orig.targets(""):
            if rel.type in RT_RIBBON and rel.type not in out_types and target in self.orig.parts:
                self.out.add_rel("", rel.type, self.copy(target))
                self.changed = True

    def _workbook(self) -> None:
        owb, wb = self.orig.workbook(), self.out.workbook()
        if owb is None or wb is None:
            return
        for rel, target in self.orig.targets(owb):
            if target not in self.orig.parts:
                continue
            if rel.type == RT_VBA:
                if self.out.targets(wb, RT_VBA) or self.out.content_type(wb) != MACRO_ENABLED:
                    continue  # openpyxl kept it (keep_vba), or the written file is an .xlsx
            elif rel.type not in CARRIED_WORKBOOK_RELS and not _is_wps(rel.type):
                continue
            data = self.orig.parts[target]
            if any(self.out.parts.get(t) == data for _, t in self.out.targets(wb, rel.type)):
                continue
            self.out.add_rel(wb, rel.type, self.copy(target))
            self.changed = True

    # sheets, matched by name
    def _sheets(self) -> None:
        orig_sheets, out_sheets = self.orig.sheets(), self.out.sheets()
        plans: list[_SheetPlan] = []
        for name, (opart, otype) in orig_sheets.items():
            if name not in out_sheets or opart not in self.orig.parts:
                continue
            part, rtype = out_sheets[name]
            if rtype != otype or part not in self.out.parts:
                continue
            plan = self._plan(opart, part, otype, keep_drawing=name in self.keep_written)
            if plan.elements or plan.threaded or plan.exts or plan.code_name:
                plans.append(plan)
        # first take out what openpyxl re-encoded, then copy the originals (their names are free again)
        replaced: list[str] = []
        for plan in plans:
            root = self.out.tree(plan.part)
            for tag in plan.elements:
                for el in [e for e in root if _local(e.tag) == tag]:
                    rel = self.out.rel_by_id(plan.part, el.get(R_ID))
                    root.remove(el)
                    if rel is not None:
                        self.out.set_rels(plan.part, [r for r in self.out.rels(plan.part) if r.id != rel.id])
                        if not rel.external:
                            replaced.append(resolve(plan.part, rel.target))
        self._collect_garbage(replaced)
        for plan in plans:
            part = plan.part
            root = self.out.tree(part)
            order = WS_ORDER if plan.rel_type == RT_WORKSHEET else CS_ORDER
            if plan.code_name:  # a regenerated sheet keeps the VBA document module it belongs to
                sheet_pr = next((e for e in root if _local(e.tag) == "sheetPr"), None)
                if sheet_pr is None:
                    sheet_pr = etree.Element(f"{{{MAIN_NS}}}sheetPr")
                    root.insert(0, sheet_pr)
                sheet_pr.set("codeName", plan.code_name)
            for tag, target in plan.elements.items():
                new = self.copy(target)
                rid = self.out.add_rel(part, CARRIED_ELEMENTS[tag], new)
                el = etree.Element(f"{{{MAIN_NS}}}{tag}", nsmap={"r": R_NS})
                el.set(R_ID, rid)
                _insert(root, el, order)
            have = {t for _, t in self.out.targets(part, RT_THREADED)}
            for target in plan.threaded:
                if target not in have:
                    self.out.add_rel(part, RT_THREADED, self.copy(target))
            if plan.exts:
                ext_lst = next((e for e in root if _local(e.tag) == "extLst"), None)
                if ext_lst is None:
                    ext_lst = etree.Element(f"{{{MAIN_NS}}}extLst")
                    _insert(root, ext_lst, order)
                present = {(e.get("uri") or "").upper() for e in ext_lst}
                for ext in plan.exts:
                    if (ext.get("uri") or "").upper() not in present:
                        ext_lst.append(ext)
            self.out.store_tree(part)
            self.changed = True

    def _plan(self, opart: str, part: str, rel_type: str, keep_drawing: bool) -> "_SheetPlan":
        """What to carry from one original sheet to the written sheet ``part``."""
        plan = _SheetPlan(part, rel_type)
        top = _sheet_elements(self.orig, opart)
        for el in top:
            tag = _local(el.tag)
            if tag == "drawing" and keep_drawing:
                continue
            if tag in CARRIED_ELEMENTS and el.tag == f"{{{MAIN_NS}}}{tag}":
                rel = self.orig.rel_by_id(opart, el.get(R_ID))
                if rel is not None and not rel.external and resolve(opart, rel.target) in self.orig.parts:
                    plan.elements[tag] = resolve(opart, rel.target)
        plan.threaded = [t for _, t in self.orig.targets(opart, RT_THREADED) if t in self.orig.parts]
        plan.exts = _carried_exts(sheet_outline(self.orig, opart)) if rel_type == RT_WORKSHEET and top else []
        code_name = _code_name(self.orig.parts[opart])
        if code_name and not _code_name(self.out.parts[part]):
            plan.code_name = code_name
        return plan

    # parts
    def copy(self, name: str) -> str:
        """Copy original part ``name`` and everything it relates to; its name in the output."""
        if name in self.mapping:
            return self.mapping[name]
        data = self.orig.parts[name]
        orig_rels = self.orig.parts.get(rels_part(name))
        reuse = self.out.parts.get(name) == data and self.out.parts.get(rels_part(name)) in (None, orig_rels)
        new = name if reuse or name not in self.out.parts else self._fresh(name)
        self.mapping[name] = new
        self.out.parts[new] = data
        self._set_type(new, self.orig.content_type(name))
        if orig_rels is not None:
            rels, renamed = [], False
            for rel in self.orig.rels(name):
                target = resolve(name, rel.target)
                if rel.external or target not in self.orig.parts:
                    rels.append(rel)
                    continue
                moved = self.copy(target)
                if moved != target or posixpath.dirname(new) != posixpath.dirname(name):
                    rel, renamed = rel._replace(target="/" + quote(moved)), True
                rels.append(rel)
            if renamed:
                self.out.set_rels(new, rels)
            else:
                self.out.parts[rels_part(new)] = orig_rels
                self.out._rels.pop(new, None)
        self.changed = True
        return new

    def _fresh(self, name: str) -> str:
        folder, base = posixpath.split(name)
        stem, ext = posixpath.splitext(base)
        m = re.match(r"^(.*?)(\d*)$", stem)
        prefix, n = m.group(1), int(m.group(2) or 1)
        taken = {p.lower() for p in self.out.parts} | {p.lower() for p in self.mapping.values()}
        while True:
            n += 1
            candidate = posixpath.join(folder, f"{prefix}{n}{ext}")
            if candidate.lower() not in taken:
                return candidate

    def _set_type(self, name: str, content_type: str | None) -> None:
        if content_type is None or self.out.content_type(name) == content_type:
            return
        ext = _extension(name)
        if ext and ext not in self.out.defaults and self.orig.defaults.get(ext) == content_type:
            self.out.defaults[ext] = content_type
        else:
            self.out.overrides[name] = content_type
        self.out.types_changed = True

    def _collect_garbage(self, candidates: list[str]) -> None:
        """Remove re-encoded parts nothing points at any more (and their content types)."""
        if not candidates:
            return
        reachable, stack = set(), [""]
        while stack:
            source = stack.pop()
            for _rel, target in self.out.targets(source):
                if target in self.out.parts and target not in reachable:
                    reachable.add(target)
                    stack.append(target)
        closure, stack = set(), list(candidates)
        while stack:
            name = stack.pop()
            if name in closure or name not in self.out.parts:
                continue
            closure.add(name)
            stack += [t for _, t in self.out.targets(name)]
        for name in closure - reachable:
            del self.out.parts[name]
            self.out.parts.pop(rels_part(name), None)
            self.out._rels.pop(name, None)
            self.out._trees.pop(name, None)
            if self.out.overrides.pop(name, None) is not None:
                self.out.types_changed = True
            self.changed = True


@dataclass
class _SheetPlan:
    """What is carried onto one written sheet."""

    part: str  # the sheet part openpyxl wrote
    rel_type: str  # worksheet or chartsheet
    elements: dict[str, str] = field(default_factory=dict)  # drawing / legacyDrawingHF / picture → original part
    threaded: list[str] = field(default_factory=list)  # original threaded-comment parts
    exts: list[etree._Element] = field(default_factory=list)  # worksheet extensions
    code_name: str | None = None  # the VBA document module's name, lost when the sheet was regenerated


CODE_NAME = re.compile(rb'<(?:\w+:)?sheetPr\b[^>]*?\bcodeName="([^"]*)"')


def _code_name(sheet_xml: bytes) -> str | None:
    """The codeName of a sheet (its sheetPr comes first: only the head is searched)."""
    m = CODE_NAME.search(sheet_xml[:4096])
    return m.group(1).decode("utf-8") if m else None


def _insert(root: etree._Element, el: etree._Element, order: list[str]) -> None:
    """Insert ``el`` among ``root``'s children where the schema's sequence puts it."""
    rank = order.index(_local(el.tag))
    for i, child in enumerate(root):
        tag = _local(child.tag)
        if child.tag == f"{{{MAIN_NS}}}{tag}" and tag in order and order.index(tag) > rank:
            root.insert(i, el)
            return
    root.append(el)


def _carried_exts(root: etree._Element) -> list[etree._Element]:
    """Copies of a sheet's extensions that openpyxl drops and that stand on their own.

    Extended conditional formats paired with a rule of the main section (data bars) are left
    out: openpyxl keeps the main rule, and the pairing id is gone with it.
    """
    ext_lst = next((e for e in root if _local(e.tag) == "extLst"), None)
    if ext_lst is None:
        return []
    paired = {(e.text or "").strip() for e in root.iter(f"{{{X14_NS}}}id")}
    out = []
    for ext in ext_lst:
        uri = (ext.get("uri") or "").upper()
        if _local(ext.tag) != "ext" or uri in EXT_REFUSED or _has_rid(ext):
            continue
        ext = deepcopy(ext)
        if uri == EXT_X14_FORMAT:
            for cf in list(ext.iter(f"{{{X14_NS}}}conditionalFormatting")):
                for rule in cf.findall(f"{{{X14_NS}}}cfRule"):
                    if rule.get("id") in paired:
                        cf.remove(rule)
                if cf.find(f"{{{X14_NS}}}cfRule") is None:
                    cf.getparent().remove(cf)
            if next(ext.iter(f"{{{X14_NS}}}conditionalFormatting"), None) is None:
                continue
        out.append(ext)
    return out


# -- checking a package ---------------------------------------------------------------------------------------
def package_problems(source: Source) -> list[str]:
    """What makes a package invalid: duplicate members, dangling relationships, repeated ids,
    parts without a content type, content-type overrides for missing parts. [] when valid."""
    pkg = Package(_load(source))
    problems = [f"重复的压缩包成员 {n}" for n in pkg.duplicates]
    if CT_PART not in pkg.parts:
        return problems + ["缺少 [Content_Types].xml"]
    sources = [""] + [n for n in pkg.parts if n != CT_PART and not n.endswith(".rels")]
    for source in sources:
        if rels_part(source) not in pkg.parts:
            continue
        rels = pkg.rels(source)
        ids = [r.id for r in rels]
        problems += [f"{rels_part(source)} 中重复的关系 {i}" for i in sorted(set(i for i in ids if ids.count(i) > 1))]
        problems += [f"{rels_part(source)} 指向不存在的 {resolve(source, r.target)}" for r in rels
                     if not r.external and resolve(source, r.target) not in pkg.parts]
    problems += [f"{n} 没有内容类型" for n in pkg.parts if n != CT_PART and pkg.content_type(n) is None]
    problems += [f"内容类型指向不存在的 {n}" for n in pkg.overrides if n not in pkg.parts
                 and n.lower() not in {p.lower() for p in pkg.parts}]
    for n in pkg.parts:  # every relationships part must belong to an existing source part
        if n.endswith(".rels") and n != "_rels/.rels":
            folder, base = posixpath.split(n)
            owner = posixpath.join(posixpath.dirname(folder), base[:-5])
            if posixpath.basename(folder) == "_rels" and owner not in pkg.parts:
                problems.append(f"{n} 的源部件不存在")
    return problems
