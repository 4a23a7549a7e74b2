"""Write a VBA project (``xl/vbaProject.bin``) without Office: [MS-OVBA] inside [MS-CFB].

Standard library only. What is written, and why:

* Module source is stored compressed ([MS-OVBA] 2.4.1) at MODULEOFFSET 0, with no compiled
  p-code, and ``_VBA_PROJECT`` is the 7-byte stream ``CC 61 FF FF 00 01 00``: Version 0xFFFF
  and no PerformanceCache ([MS-OVBA] 2.3.4.1, "MUST be 0xFFFF on write", "MUST NOT be present
  on write"). Office then compiles the project from the source text ([MS-OVBA] 1.6). xlwings'
  ``quickstart_standalone.xlsm`` ships its ``xlwings`` module the same way.
* PROJECTCODEPAGE is 1252 and every name and source line must be ASCII: Chinese VBA text would
  need codepage 936 and shows garbled on non-Chinese Windows. Chinese labels live in the ribbon
  XML (UTF-8) and in Python. Non-ASCII input raises ValueError naming the module and line.
* Everything is deterministic: a fixed project ID, fixed encryption seeds for the CMG/DPB/GC
  protection fields ([MS-OVBA] 2.4.3), zero CFB timestamps and CLSIDs, a fixed sector layout.
  Building the same modules twice gives the same bytes.
"""
from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "CODEPAGE", "Module", "RegisteredReference", "ProjectReference", "STDOLE", "OFFICE",
    "XLWINGS_ADDIN", "DEFAULT_REFERENCES", "DEFAULT_PROJECT_ID", "compress", "encrypt_data",
    "vba_streams", "compound_file", "build_vba_project",
]

CODEPAGE = 1252
DEFAULT_PROJECT_ID = "{F1DE3E7D-4A77-5B2A-9366-379D7FB6278C}"  # uuid5(URL, "xl_duban/template.xlsm/VBAProject")

# VB_Base of document modules: the Excel Workbook / Worksheet coclasses; of class modules: the
# generic VBA class. Values as Excel writes them (checked against xlwings' quickstart files).
WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
SHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
CLASS_BASE = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"

ModuleKind = Literal["standard", "class", "document"]
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}\Z")


# --------------------------------------------------------------------------- modules


def _check_ascii(module: str, text: str, line_offset: int = 0) -> None:
    """Raise ValueError at the first non-ASCII character (sources are codepage 1252, ASCII only)."""
    for number, line in enumerate(text.splitlines(), start=1 + line_offset):
        for ch in line:
            if ord(ch) > 0x7E or (ord(ch) < 0x20 and ch != "\t"):
                raise ValueError(
                    f"VBA module {module!r}, line {number}: character {ch!r} is not printable "
                    "ASCII; VBA sources must be ASCII only (PROJECTCODEPAGE 1252), put Chinese "
                    "text in the ribbon XML or in Python")


def _crlf(text: str) -> str:
    """VBA stores source with CRLF line ends and a final line end."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return "".join(line + "\r\n" for line in lines)


@dataclass(frozen=True)
class Module:
    """One VBA module: its name, kind and source code *without* the ``Attribute VB_*`` lines.

    ``kind``: "standard" (a .bas module; MODULETYPE 0x21), "class" (a .cls module) or
    "document" (ThisWorkbook and one per sheet, bound by codeName); class and document
    modules both have MODULETYPE 0x22 ([MS-OVBA] 2.3.4.2.3.2.8). ``base`` is the
    ``VB_Base`` of a document module (default: a worksheet). ``attributes`` override or extend
    the attribute lines the writer prepends (e.g. ``("VB_Exposed", "True")``).
    ``line_offset`` is the number of lines before ``code`` in its source file, for messages.
    """

    name: str
    code: str = ""
    kind: ModuleKind = "standard"
    base: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    line_offset: int = 0

    def __post_init__(self) -> None:
        if not _IDENT.match(self.name):
            raise ValueError(f"VBA module name {self.name!r} must be an ASCII identifier of at "
                             "most 31 characters (letter first, then letters, digits, _)")
        if self.kind not in ("standard", "class", "document"):
            raise ValueError(f"VBA module {self.name!r}: unknown kind {self.kind!r}")
        _check_ascii(self.name, self.code, self.line_offset)
        for key, value in self.attributes:
            _check_ascii(self.name, f"{key} {value}")

    @classmethod
    def workbook(cls, name: str = "ThisWorkbook", code: str = "") -> Module:
        """The workbook's document module; ``name`` must equal workbook.xml's codeName."""
        return cls(name, code, "document", WORKBOOK_BASE)

    @classmethod
    def sheet(cls, name: str, code: str = "") -> Module:
        """A worksheet's document module; ``name`` must equal the sheet's codeName."""
        return cls(name, code, "document", SHEET_BASE)

    @classmethod
    def from_source(cls, text: str, *, name: str | None = None,
                    kind: ModuleKind | None = None) -> Module:
        """Parse an exported .bas/.cls text (as the VBA editor writes it).

        A .cls ``VERSION 1.0 CLASS`` / ``BEGIN`` … ``END`` header makes it a class module;
        the leading ``Attribute VB_*`` lines are taken out of the code (the writer puts them
        back in the order Excel stores them) and kept as attributes.
        """
        label = name or "?"
        m = re.search(r'^Attribute\s+VB_Name\s*=\s*"([^"]*)"', text, re.M)
        if m and name is None:
            label = m.group(1)
        _check_ascii(label, text)
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        i = 0
        is_class = False
        if lines and lines[0].strip().upper().startswith("VERSION ") and "CLASS" in lines[0].upper():
            is_class = True
            i = 1
            if i < len(lines) and lines[i].strip().upper() == "BEGIN":
                while i < len(lines) and lines[i].strip().upper() != "END":
                    i += 1
                i += 1
        attrs: dict[str, str] = {}
        while i < len(lines):
            am = re.match(r"\s*Attribute\s+(VB_\w+)\s*=\s*(.*?)\s*$", lines[i])
            if not am:
                break
            attrs[am.group(1)] = am.group(2)
            i += 1
        vb_name = attrs.pop("VB_Name", None)
        if name is None:
            if vb_name is None:
                raise ValueError("VBA source has no 'Attribute VB_Name' line; pass name=")
            name = vb_name.strip('"')
        base = attrs.pop("VB_Base", None)
        base = base.strip('"') if base else None
        if kind is None:
            if is_class:
                kind = "class"
            elif base in (WORKBOOK_BASE, SHEET_BASE):
                kind = "document"
            else:
                kind = "standard"
        if kind == "class" and base == CLASS_BASE:
            base = None
        return cls(name, "\n".join(lines[i:]), kind, base, tuple(attrs.items()), line_offset=i)

    @classmethod
    def from_file(cls, path: Path | str, *, kind: ModuleKind | None = None) -> Module:
        """Read an exported .bas/.cls file (ASCII); the name comes from ``Attribute VB_Name``."""
        path = Path(path)
        raw = path.read_bytes()
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError as exc:
            line = raw[:exc.start].count(b"\n") + 1
            raise ValueError(f"VBA module file {path.name!r}, line {line}: byte "
                             f"0x{raw[exc.start]:02X} is not ASCII; VBA sources must be ASCII "
                             "only (PROJECTCODEPAGE 1252)") from None
        if kind is None and path.suffix.lower() == ".cls":
            kind = "class"
        return cls.from_source(text, kind=kind)

    def attribute_lines(self) -> list[str]:
        """The ``Attribute VB_*`` header VBA keeps at the top of the stored source."""
        if self.kind == "standard":
            pairs = [("VB_Name", f'"{self.name}"')]
        else:
            document = self.kind == "document"
            base = self.base or (SHEET_BASE if document else CLASS_BASE)
            pairs = [
                ("VB_Name", f'"{self.name}"'),
                ("VB_Base", f'"{base}"'),
                ("VB_GlobalNameSpace", "False"),
                ("VB_Creatable", "False"),
                ("VB_PredeclaredId", "True" if document else "False"),
                ("VB_Exposed", "True" if document else "False"),
                ("VB_TemplateDerived", "False"),
                ("VB_Customizable", "True" if document else "False"),
            ]
        index = {key: n for n, (key, _) in enumerate(pairs)}
        for key, value in self.attributes:
            if key in ("VB_Name", "VB_Base"):
                continue
            if key in index:
                pairs[index[key]] = (key, value)
            else:
                index[key] = len(pairs)
                pairs.append((key, value))
        return [f"Attribute {key} = {value}" for key, value in pairs]

    def stored_source(self) -> str:
        """The module text as stored in its stream: attribute lines, then the code, CRLF."""
        return _crlf("\n".join(self.attribute_lines()) + "\n" + self.code)


@dataclass(frozen=True)
class RegisteredReference:
    """REFERENCEREGISTERED ([MS-OVBA] 2.3.4.2.2.5): a registered type library by LIBID."""

    name: str
    libid: str


@dataclass(frozen=True)
class ProjectReference:
    """REFERENCEPROJECT ([MS-OVBA] 2.3.4.2.2.6): another VBA project (e.g. an add-in)."""

    name: str
    libid_absolute: str
    libid_relative: str
    major: int
    minor: int


Reference = RegisteredReference | ProjectReference

# Exact records from xlwings' own add-in (addin/xlwings.xlam, xlwings 0.37.8). IRibbonControl
# lives in the Office type library.
STDOLE = RegisteredReference(
    "stdole",
    r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\Windows\System32\stdole2.tlb#OLE Automation")
OFFICE = RegisteredReference(
    "Office",
    r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#C:\Program Files\Common Files\Microsoft Shared"
    r"\OFFICE16\MSO.DLL#Microsoft Office 16.0 Object Library")
# The reference xlwings' quickstart.xlsm (0.37.8) carries to the xlwings add-in, copied record for
# record: RunPython then resolves to the add-in's project "xlwings" that `xlwings addin install`
# loads at Excel start-up. The paths are the xlwings developer's own; the binding is to the
# loaded add-in, as for every workbook `xlwings quickstart` creates.
XLWINGS_ADDIN = ProjectReference(
    "xlwings",
    r"*\CC:\Users\felix\dev\xlwings\xlwings\addin\xlwings.xlam",
    r"*\Caddin\xlwings.xlam",
    0x68FE4C3D,
    0x000C)
DEFAULT_REFERENCES: tuple[Reference, ...] = (STDOLE, OFFICE)


# --------------------------------------------------------------------------- compression


def compress(data: bytes) -> bytes:
    """[MS-OVBA] 2.4.1 compression: a CompressedContainer of 4096-byte chunks.

    Each chunk is compressed on its own ([MS-OVBA] 2.4.1.3.7) with literal and copy tokens;
    copies are the longest match inside the chunk, the nearest one on ties. A chunk whose
    compressed form would exceed 4096 bytes is stored raw (CompressedChunkFlag 0).

    One deliberate difference: [MS-OVBA] 2.4.1.3.10 pads a *final* raw chunk shorter than 4096
    bytes with 0x00 bytes, which a decompressor returns as data. We store it unpadded, so the
    data reads back exactly (oletools does). It needs about 3,640 incompressible bytes at the
    end of the data, which ASCII VBA source never has.
    """
    out = bytearray(b"\x01")  # SignatureByte
    for start in range(0, len(data), 4096):
        out += _compress_chunk(data[start:start + 4096])
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    n = len(chunk)
    body = bytearray()
    heads: dict[bytes, list[int]] = {}

    def index(p: int) -> None:
        if p + 3 <= n:
            heads.setdefault(chunk[p:p + 3], []).append(p)

    pos = 0
    while pos < n and len(body) <= 4096:
        flag_at = len(body)
        body.append(0)
        flags = 0
        for bit in range(8):
            if pos >= n:
                break
            best_len = best_off = 0
            if pos + 3 <= n:
                # CopyToken help ([MS-OVBA] 2.4.1.3.19.1): bit count from the distance to the
                # chunk start, at least 4; the rest of the 16 bits hold length - 3.
                bit_count = max((pos - 1).bit_length(), 4)
                max_len = min((0xFFFF >> bit_count) + 3, n - pos)
                for cand in reversed(heads.get(chunk[pos:pos + 3], ())):
                    length = 3
                    while length < max_len and chunk[cand + length] == chunk[pos + length]:
                        length += 1
                    if length > best_len:
                        best_len, best_off = length, pos - cand
                        if length == max_len:
                            break
            if best_len >= 3:
                token = ((best_off - 1) << (16 - bit_count)) | (best_len - 3)
                body += struct.pack("<H", token)
                flags |= 1 << bit
                for p in range(pos, pos + best_len):
                    index(p)
                pos += best_len
            else:
                index(pos)
                body.append(chunk[pos])
                pos += 1
        body[flag_at] = flags
    if len(body) <= 4096:
        # CompressedChunkHeader: size - 3 in bits 0-11, signature 0b011, flag 1.
        return struct.pack("<H", (len(body) - 1) | 0x3000 | 0x8000) + body
    return struct.pack("<H", 0x0FFF | 0x3000) + chunk  # raw chunk


# --------------------------------------------------------------------------- protection fields


def encrypt_data(project_id: str, data: bytes, seed: int, ignored: int | bytes = 0) -> bytes:
    """[MS-OVBA] 2.4.3.2 data encryption, used for the CMG, DPB and GC lines of PROJECT.

    ProjKey is the byte sum of the project ID string; EncryptedByte1 starts as ProjKeyEnc and
    EncryptedByte2 as VersionEnc. ``seed`` is fixed by the caller (Office draws it at random)
    so the output is deterministic; the (seed & 6) / 2 ignored bytes take the value
    ``ignored`` (an int for all of them, or bytes one by one).
    """
    count = (seed & 6) // 2
    filler = bytes([ignored]) * count if isinstance(ignored, int) else bytes(ignored)
    if len(filler) != count:
        raise ValueError(f"seed 0x{seed:02X} needs {count} ignored bytes, got {len(filler)}")
    version = 2
    proj_key = sum(project_id.encode("ascii")) & 0xFF
    out = bytearray([seed, seed ^ version, seed ^ proj_key])
    unencrypted1, encrypted1, encrypted2 = proj_key, seed ^ proj_key, seed ^ version

    def put(byte: int) -> None:
        nonlocal unencrypted1, encrypted1, encrypted2
        enc = byte ^ ((encrypted2 + unencrypted1) & 0xFF)
        out.append(enc)
        encrypted2, encrypted1, unencrypted1 = encrypted1, enc, byte

    for byte in filler:
        put(byte)
    for byte in struct.pack("<I", len(data)):
        put(byte)
    for byte in data:
        put(byte)
    return bytes(out)


# Fixed seeds (Office picks random ones); (seed & 6) // 2 == 2 ignored bytes, as Office writes.
_SEEDS = {"CMG": 0x5C, "DPB": 0x5D, "GC": 0x5E}


# --------------------------------------------------------------------------- VBA streams


def _rec(rec_id: int, data: bytes = b"") -> bytes:
    return struct.pack("<HI", rec_id, len(data)) + data


def _mbcs(text: str) -> bytes:
    return text.encode("cp1252")


def _u16(text: str) -> bytes:
    return text.encode("utf-16-le")


def _dir_stream(modules: Sequence[Module], project_name: str,
                references: Sequence[Reference]) -> bytes:
    """The decompressed ``VBA/dir`` stream, record by record as [MS-OVBA] 2.3.4.2 lists them."""
    out = bytearray()
    # PROJECTINFORMATION (2.3.4.2.1). SysKind 3 = 64-bit Windows, as xlwings' files have it;
    # with no compiled code it only records where the project was "last saved".
    out += _rec(0x0001, struct.pack("<I", 3))            # PROJECTSYSKIND
    out += _rec(0x0002, struct.pack("<I", 0x0409))       # PROJECTLCID
    out += _rec(0x0014, struct.pack("<I", 0x0409))       # PROJECTLCIDINVOKE
    out += _rec(0x0003, struct.pack("<H", CODEPAGE))     # PROJECTCODEPAGE
    out += _rec(0x0004, _mbcs(project_name))             # PROJECTNAME
    out += _rec(0x0005) + _rec(0x0040)                   # PROJECTDOCSTRING (+ Unicode)
    out += _rec(0x0006) + _rec(0x003D)                   # PROJECTHELPFILEPATH (1, 2)
    out += _rec(0x0007, struct.pack("<I", 0))            # PROJECTHELPCONTEXT
    out += _rec(0x0008, struct.pack("<I", 0))            # PROJECTLIBFLAGS
    out += struct.pack("<HIIH", 0x0009, 4, 1, 0)         # PROJECTVERSION: Reserved 4, 1.0
    out += _rec(0x000C) + _rec(0x003C)                   # PROJECTCONSTANTS (+ Unicode)
    # PROJECTREFERENCES (2.3.4.2.2)
    for ref in references:
        out += _rec(0x0016, _mbcs(ref.name)) + _rec(0x003E, _u16(ref.name))  # REFERENCENAME
        if isinstance(ref, RegisteredReference):
            libid = _mbcs(ref.libid)
            out += _rec(0x000D, struct.pack("<I", len(libid)) + libid + struct.pack("<IH", 0, 0))
        else:
            absolute, relative = _mbcs(ref.libid_absolute), _mbcs(ref.libid_relative)
            out += _rec(0x000E, struct.pack("<I", len(absolute)) + absolute
                        + struct.pack("<I", len(relative)) + relative
                        + struct.pack("<IH", ref.major, ref.minor))
    # PROJECTMODULES (2.3.4.2.3); cookies "MUST be 0xFFFF on write"
    out += _rec(0x000F, struct.pack("<H", len(modules)))
    out += _rec(0x0013, struct.pack("<H", 0xFFFF))       # PROJECTCOOKIE
    for mod in modules:
        out += _rec(0x0019, _mbcs(mod.name)) + _rec(0x0047, _u16(mod.name))   # MODULENAME(+U)
        out += _rec(0x001A, _mbcs(mod.name)) + _rec(0x0032, _u16(mod.name))   # MODULESTREAMNAME
        out += _rec(0x001C) + _rec(0x0048)                                     # MODULEDOCSTRING
        out += _rec(0x0031, struct.pack("<I", 0))        # MODULEOFFSET: source only, no p-code
        out += _rec(0x001E, struct.pack("<I", 0))        # MODULEHELPCONTEXT
        out += _rec(0x002C, struct.pack("<H", 0xFFFF))   # MODULECOOKIE
        out += _rec(0x0021 if mod.kind == "standard" else 0x0022)  # MODULETYPE
        out += _rec(0x002B)                              # module Terminator
    out += _rec(0x0010)                                  # dir Terminator
    return bytes(out)


def _project_stream(modules: Sequence[Module], project_name: str, project_id: str) -> bytes:
    """The PROJECT stream ([MS-OVBA] 2.3.1): module list, name, protection, workspace."""
    lines = [f'ID="{project_id}"']
    for mod in modules:
        if mod.kind == "document":
            lines.append(f"Document={mod.name}/&H00000000")
        elif mod.kind == "class":
            lines.append(f"Class={mod.name}")
        else:
            lines.append(f"Module={mod.name}")
    lines += [f'Name="{project_name}"', 'HelpContextID="0"', 'VersionCompatible32="393222000"']
    # ProjectProtectionState 0 (not locked), ProjectPassword none (a single 0x00,
    # [MS-OVBA] 2.3.1.16), ProjectVisibilityState 0xFF (visible).
    for key, data in (("CMG", struct.pack("<I", 0)), ("DPB", b"\x00"), ("GC", b"\xff")):
        lines.append(f'{key}="{encrypt_data(project_id, data, _SEEDS[key]).hex().upper()}"')
    lines += ["", "[Host Extender Info]",
              "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
              "", "[Workspace]"]
    lines += [f"{mod.name}=0, 0, 0, 0, C" for mod in modules]
    return _mbcs("".join(line + "\r\n" for line in lines))


def _projectwm_stream(modules: Sequence[Module]) -> bytes:
    """PROJECTwm ([MS-OVBA] 2.3.3): each module name in MBCS and UTF-16, then 0x0000."""
    out = bytearray()
    for mod in modules:
        out += _mbcs(mod.name) + b"\x00" + _u16(mod.name) + b"\x00\x00"
    return bytes(out + b"\x00\x00")


# _VBA_PROJECT ([MS-OVBA] 2.3.4.1): Reserved1 0x61CC, Version 0xFFFF, Reserved2 0x00,
# Reserved3 0x0001 (as every Office-free writer and xlwings' standalone file has it), no cache.
VBA_PROJECT_STREAM = bytes.fromhex("CC61FFFF000100")


def vba_streams(modules: Iterable[Module], *, project_name: str = "VBAProject",
                references: Sequence[Reference] = DEFAULT_REFERENCES,
                project_id: str = DEFAULT_PROJECT_ID) -> dict[str, bytes]:
    """The streams of the project, by CFB path (``VBA/dir`` …), before the container."""
    modules = list(modules)
    if not _IDENT.match(project_name):
        raise ValueError(f"VBA project name {project_name!r} must be an ASCII identifier")
    if not re.fullmatch(r"\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", project_id):
        raise ValueError(f"project_id {project_id!r} must be an upper-case braced GUID")
    seen: set[str] = set()
    for mod in modules:
        if mod.name.upper() in seen:
            raise ValueError(f"two VBA modules are named {mod.name!r} (names ignore case)")
        seen.add(mod.name.upper())
    for ref in references:
        for text in vars(ref).values():
            if isinstance(text, str):
                _check_ascii(f"reference {ref.name}", text)
    streams = {
        "PROJECT": _project_stream(modules, project_name, project_id),
        "PROJECTwm": _projectwm_stream(modules),
        "VBA/_VBA_PROJECT": VBA_PROJECT_STREAM,
        "VBA/dir": compress(_dir_stream(modules, project_name, references)),
    }
    for mod in modules:
        streams[f"VBA/{mod.name}"] = compress(_mbcs(mod.stored_source()))
    return streams


def build_vba_project(modules: Iterable[Module], *, project_name: str = "VBAProject",
                      references: Sequence[Reference] = DEFAULT_REFERENCES,
                      project_id: str = DEFAULT_PROJECT_ID) -> bytes:
    """The bytes of a ``vbaProject.bin`` holding ``modules`` (in this order)."""
    return compound_file(vba_streams(modules, project_name=project_name,
                                     references=references, project_id=project_id))


# --------------------------------------------------------------------------- compound file

_SECTOR = 512
_MINI = 64
_CUTOFF = 4096
_FREESECT, _ENDOFCHAIN, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


class _Node:
    def __init__(self, name: str, kind: int, data: bytes = b"") -> None:
        if len(name) > 31 or not name or any(c in name for c in "/\\:!"):
            raise ValueError(f"compound-file entry name {name!r} is not allowed ([MS-CFB] 2.6.1)")
        self.name, self.kind, self.data = name, kind, data
        self.children: dict[str, _Node] = {}
        self.id = self.left = self.right = self.child = _NOSTREAM
        self.black = True
        self.start, self.size = 0, 0

    def key(self) -> tuple[int, str]:
        # [MS-CFB] 2.6.4: shorter names sort first, then by upper-cased code points.
        return (len(self.name.encode("utf-16-le")), self.name.upper())


def _red_black(nodes: list[_Node]) -> int:
    """Link sorted siblings into a red-black tree ([MS-CFB] 2.6.4); return the root's id.

    The tree is built by splitting at the median, so every empty link lies on the last two
    levels; colouring the nodes of an incomplete last level red makes every path from the
    root carry the same number of black nodes, and no red node has a red child.
    """
    if not nodes:
        return _NOSTREAM
    depth: dict[int, int] = {}

    def build(lo: int, hi: int, level: int) -> int:
        if lo >= hi:
            return _NOSTREAM
        mid = (lo + hi) // 2
        node = nodes[mid]
        depth[id(node)] = level
        node.left = build(lo, mid, level + 1)
        node.right = build(mid + 1, hi, level + 1)
        return node.id

    root = build(0, len(nodes), 0)
    last = max(depth.values())
    full = sum(1 for d in depth.values() if d == last) == 2 ** last
    for node in nodes:
        node.black = full or depth[id(node)] != last
    return root


def compound_file(streams: Mapping[str, bytes]) -> bytes:
    """A version-3 compound file ([MS-CFB]) holding ``streams``, keyed by path ("VBA/dir").

    512-byte sectors; streams under 4096 bytes go to the mini stream (64-byte sectors,
    [MS-CFB] 2.6.3 / 2.7). Layout: header, FAT, directory, mini FAT, mini stream, large
    streams, each chain contiguous. Timestamps and CLSIDs are zero. Up to 109 FAT sectors
    (about 6.8 MB): a VBA project is far smaller, so no DIFAT sectors are written.
    """
    root = _Node("Root Entry", 5)
    for path, data in streams.items():
        *dirs, leaf = path.split("/")
        node = root
        for part in dirs:
            node = node.children.setdefault(part.upper(), _Node(part, 1))
            if node.kind != 1:
                raise ValueError(f"{path!r}: {part!r} is a stream, not a storage")
        if leaf.upper() in node.children:
            raise ValueError(f"compound-file entry {path!r} given twice (names ignore case)")
        node.children[leaf.upper()] = _Node(leaf, 2, bytes(data))

    entries: list[_Node] = []

    def number(node: _Node) -> None:
        node.id = len(entries)
        entries.append(node)
        for child in sorted(node.children.values(), key=_Node.key):
            number(child)

    number(root)
    for node in entries:
        node.child = _red_black(sorted(node.children.values(), key=_Node.key))

    # mini stream and mini FAT
    mini = bytearray()
    minifat: list[int] = []
    big: list[_Node] = []
    for node in entries:
        if node.kind != 2:
            continue
        node.size = len(node.data)
        if node.size == 0:
            node.start = _ENDOFCHAIN
        elif node.size < _CUTOFF:
            count = -(-node.size // _MINI)
            node.start = len(minifat)
            minifat += [node.start + i + 1 for i in range(count - 1)] + [_ENDOFCHAIN]
            mini += node.data + b"\x00" * (count * _MINI - node.size)
        else:
            big.append(node)

    def sectors(nbytes: int) -> int:
        return -(-nbytes // _SECTOR)

    n_dir = sectors(len(entries) * 128)
    n_minifat = sectors(len(minifat) * 4)
    n_mini = sectors(len(mini))
    n_big = sum(sectors(node.size) for node in big)
    rest = n_dir + n_minifat + n_mini + n_big
    n_fat = 1
    while n_fat * (_SECTOR // 4) < n_fat + rest:
        n_fat += 1
    if n_fat > 109:
        raise ValueError("compound file too large for a header-only DIFAT (over ~6.8 MB)")

    fat = [_FREESECT] * (n_fat * _SECTOR // 4)
    fat[:n_fat] = [_FATSECT] * n_fat
    cursor = n_fat

    def chain(count: int) -> int:
        nonlocal cursor
        if count == 0:
            return _ENDOFCHAIN
        start = cursor
        for s in range(start, start + count - 1):
            fat[s] = s + 1
        fat[start + count - 1] = _ENDOFCHAIN
        cursor += count
        return start

    dir_start = chain(n_dir)
    minifat_start = chain(n_minifat)
    root.start, root.size = chain(n_mini), len(mini)
    for node in big:
        node.start = chain(sectors(node.size))

    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"), bytes(16),
        0x003E, 0x0003, 0xFFFE, 9, 6, bytes(6),
        0,                      # number of directory sectors: 0 in version 3
        n_fat, dir_start,
        0,                      # transaction signature
        _CUTOFF, minifat_start, n_minifat,
        _ENDOFCHAIN, 0)         # no DIFAT sectors
    header += struct.pack("<109I", *(list(range(n_fat)) + [_FREESECT] * (109 - n_fat)))

    directory = bytearray()
    for node in entries:
        name = node.name.encode("utf-16-le") + b"\x00\x00"
        start, size = (node.start, node.size) if node.kind in (2, 5) else (0, 0)
        directory += struct.pack(
            "<64sHBBIII16sIQQIQ", name, len(name), node.kind, 1 if node.black else 0,
            node.left, node.right, node.child, bytes(16), 0, 0, 0, start, size)
    unused = struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, _NOSTREAM, _NOSTREAM, _NOSTREAM,
                         bytes(16), 0, 0, 0, 0, 0)
    while len(directory) % _SECTOR:
        directory += unused

    def pad(data: bytes | bytearray) -> bytes:
        return bytes(data) + b"\x00" * (-len(data) % _SECTOR)

    minifat += [_FREESECT] * (n_minifat * _SECTOR // 4 - len(minifat))
    body = [header, struct.pack(f"<{len(fat)}I", *fat), bytes(directory),
            struct.pack(f"<{len(minifat)}I", *minifat), pad(mini)]
    body += [pad(node.data) for node in big]
    return b"".join(body)
