"""The VBA-project writer (xl_duban.excel.vba) read back by independent readers.

Compression against oletools' decompressor, the compound file against olefile, the
protection fields against ms-ovba-crypto, and the dir stream record by record against
xlwings' own files (quickstart.xlsm, quickstart_standalone.xlsm, addin/xlwings.xlam).
"""

from __future__ import annotations

import io
import os
import random
import struct
import warnings
import zipfile
from pathlib import Path

import olefile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

with warnings.catch_warnings():  # oletools 0.60 uses pyparsing names pyparsing 3 deprecates
    warnings.simplefilter("ignore", DeprecationWarning)
    from oletools.olevba import VBA_Parser, decompress_stream

from xl_duban.excel import vba
from xl_duban.excel.vba import (OFFICE, STDOLE, XLWINGS_ADDIN, Module, ProjectReference,
                                RegisteredReference, build_vba_project, compound_file, compress,
                                encrypt_data)

REPO = Path(__file__).resolve().parents[1]
XLWINGS = Path(__import__("xlwings").__file__).parent


def decompress(data: bytes) -> bytes:
    return bytes(decompress_stream(bytearray(data)))


# -- reading a project back, independently of the writer ------------------------------------------------------------
def dir_records(data: bytes) -> list[tuple[int, bytes]]:
    """The records of a decompressed dir stream ([MS-OVBA] 2.3.4.2) as (id, data)."""
    out, i = [], 0
    while i < len(data):
        rec_id, size = struct.unpack_from("<HI", data, i)
        if rec_id == 0x0009:  # PROJECTVERSION: Reserved (=4), then 4 + 2 bytes
            size = 6
        out.append((rec_id, data[i + 6:i + 6 + size]))
        i += 6 + size
    return out


def project_of(path_or_bytes) -> olefile.OleFileIO:
    """The vbaProject.bin of an .xlsm/.xlam (or the bytes of a vbaProject.bin)."""
    if isinstance(path_or_bytes, (str, Path)):
        with zipfile.ZipFile(path_or_bytes) as z:
            path_or_bytes = z.read("xl/vbaProject.bin")
    return olefile.OleFileIO(io.BytesIO(path_or_bytes))


def dir_of(ole: olefile.OleFileIO) -> list[tuple[int, bytes]]:
    return dir_records(decompress(ole.openstream("VBA/dir").read()))


def sections(records: list[tuple[int, bytes]]) -> tuple[list, list, list]:
    """Split into PROJECTINFORMATION, PROJECTREFERENCES and PROJECTMODULES records."""
    ids = [r for r, _ in records]
    first_ref = next(i for i, r in enumerate(ids) if r == 0x0016)
    modules = ids.index(0x000F)
    return records[:first_ref], records[first_ref:modules], records[modules:]


def reference_records(records) -> dict[str, tuple[int, bytes]]:
    """Reference name -> its REFERENCEREGISTERED/PROJECT record (name records skipped)."""
    _, refs, _ = sections(records)
    out, name = {}, None
    for rec_id, data in refs:
        if rec_id == 0x0016:
            name = data.decode("cp1252")
        elif rec_id in (0x000D, 0x000E):
            out[name] = (rec_id, data)
    return out


def module_sources(data: bytes) -> dict[str, str]:
    vp = VBA_Parser("project.bin", data=data)
    try:
        return {name.rsplit(".", 1)[0]: code for (_, _, name, code) in vp.extract_macros()}
    finally:
        vp.close()


# -- compression --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [
    b"", b"a", b"ab", b"abc", b"a" * 4096, b"a" * 4097, b"abc" * 5000,
    bytes(range(256)) * 16, bytes(range(256)) * 17, os.urandom(4096), os.urandom(4097), os.urandom(3000),
    os.urandom(9000), b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa",  # [MS-OVBA] 3.2.3
], ids=lambda d: f"{len(d)}B")
def test_compress_round_trips_through_oletools(data):
    packed = compress(data)
    assert packed[0] == 1  # SignatureByte
    assert decompress(packed) == data


def test_compress_known_sizes():
    assert compress(b"") == b"\x01"  # a container with no chunks
    assert len(compress(b"a" * 4096)) < 20  # one compressed chunk
    # an incompressible full chunk is stored raw: header 0x3FFF (size 4095+3, flag 0)
    raw = os.urandom(4096)
    packed = compress(raw)
    assert packed[1:3] == b"\xff\x3f" and packed[3:] == raw
    # a compressed chunk header: signature 0b011, flag 1
    header = struct.unpack_from("<H", compress(b"hello hello hello"), 1)[0]
    assert header >> 12 == 0b1011


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=12000),
    st.lists(st.sampled_from([b"a", b"b", b"ab", b"\r\n", b"End Sub", b" "]), max_size=3000).map(b"".join),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=9000).map(str.encode),
))
def test_compress_round_trips_random(data):
    assert decompress(compress(data)) == data


@pytest.mark.parametrize("path", [
    *sorted((REPO / "workbooks" / "vba").glob("*.bas")),
    XLWINGS / "xlwings.bas", XLWINGS / "addin" / "Dictionary.cls", XLWINGS / "addin" / "WebHelpers.bas",
], ids=lambda p: p.name)
def test_compress_real_sources(path):
    data = path.read_bytes()
    packed = compress(data)
    assert decompress(packed) == data
    assert len(packed) < len(data) * 0.7


# -- modules ------------------------------------------------------------------------------------------------------
def test_non_ascii_source_is_refused_with_module_and_line():
    with pytest.raises(ValueError, match=r"'Report'.*line 3"):
        Module("Report", "Sub A()\n  x = 1\n  MsgBox \"督办\"\nEnd Sub\n")
    with pytest.raises(ValueError, match=r"'Mod1'.*line 2"):
        Module.from_source('Attribute VB_Name = "Mod1"\n\' caf\u00e9\n')


def test_non_ascii_file_is_refused_with_line(tmp_path):
    path = tmp_path / "Bad.bas"
    path.write_bytes('Attribute VB_Name = "Bad"\r\nSub A()\r\n  \' 中文\r\nEnd Sub\r\n'.encode("gbk"))
    with pytest.raises(ValueError, match=r"Bad\.bas.*line 3"):
        Module.from_file(path)


@pytest.mark.parametrize("name", ["", "1abc", "has space", "x" * 32, "督办", "a-b"])
def test_bad_module_names(name):
    with pytest.raises(ValueError):
        Module(name)


def test_duplicate_module_names_refused():
    with pytest.raises(ValueError, match="two VBA modules"):
        build_vba_project([Module("Duban"), Module("DUBAN")])


def test_attribute_lines_by_kind():
    assert Module("M", "Sub A()\nEnd Sub").stored_source() == 'Attribute VB_Name = "M"\r\nSub A()\r\nEnd Sub\r\n'
    wb = Module.workbook().stored_source()
    assert wb.startswith('Attribute VB_Name = "ThisWorkbook"\r\n'
                         'Attribute VB_Base = "0{00020819-0000-0000-C000-000000000046}"\r\n')
    assert "VB_PredeclaredId = True" in wb and "VB_Exposed = True" in wb
    sheet = Module.sheet("Sheet3").stored_source()
    assert 'Attribute VB_Base = "0{00020820-0000-0000-C000-000000000046}"' in sheet
    cls = Module("C", kind="class").stored_source()
    assert 'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"' in cls
    assert "VB_PredeclaredId = False" in cls and "VB_Exposed = False" in cls


def test_class_file_matches_excels_stored_form():
    """Dictionary.cls read from the .cls file is stored as Excel stores it in quickstart_standalone."""
    mod = Module.from_file(XLWINGS / "addin" / "Dictionary.cls")
    assert mod.kind == "class" and mod.name == "Dictionary"
    ole = project_of(XLWINGS / "quickstart_standalone.xlsm")
    offset = next(struct.unpack("<I", d)[0] for r, d in _module_records(dir_of(ole), "Dictionary") if r == 0x0031)
    excel = decompress(ole.openstream("VBA/Dictionary").read()[offset:]).decode("cp1252")
    header = excel[:excel.index("''\r\n")]
    assert "\r\n".join(mod.attribute_lines()) + "\r\n" == header


def _module_records(records, name):
    _, _, mods = sections(records)
    out, current = [], None
    for rec_id, data in mods:
        if rec_id == 0x0019:
            current = data.decode("cp1252")
        if current == name:
            out.append((rec_id, data))
        if rec_id == 0x002B:
            current = None
    return out


def test_xlwings_module_stored_as_its_file():
    mod = Module.from_file(XLWINGS / "xlwings.bas")
    assert mod.kind == "standard" and mod.name == "xlwings"
    assert mod.stored_source() == (XLWINGS / "xlwings.bas").read_bytes().decode("ascii")


# -- the project --------------------------------------------------------------------------------------------------
MODULES = [
    Module.workbook(), Module.sheet("Sheet1"), Module.sheet("Sheet2"),
    Module("Module1", 'Sub SampleCall()\n    RunPython "import x; x.main()"\nEnd Sub\n'),
    Module.from_file(XLWINGS / "xlwings.bas"),
    Module.from_file(XLWINGS / "addin" / "Dictionary.cls"),
]


@pytest.fixture(scope="module")
def project() -> bytes:
    return build_vba_project(MODULES)


def test_project_is_deterministic(project):
    assert build_vba_project(MODULES) == project


def test_oletools_reads_every_module(project):
    sources = module_sources(project)
    assert list(sources) == [m.name for m in MODULES]
    for mod in MODULES:
        assert sources[mod.name] == mod.stored_source()


def test_streams_and_vba_project(project):
    ole = project_of(project)
    assert sorted("/".join(e) for e in ole.listdir()) == sorted(
        ["PROJECT", "PROJECTwm", "VBA/_VBA_PROJECT", "VBA/dir"] + [f"VBA/{m.name}" for m in MODULES])
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000100")
    wm = ole.openstream("PROJECTwm").read()
    assert wm == b"".join(m.name.encode() + b"\0" + m.name.encode("utf-16-le") + b"\0\0" for m in MODULES) + b"\0\0"


def test_project_stream(project):
    text = project_of(project).openstream("PROJECT").read().decode("cp1252")
    lines = text.split("\r\n")
    assert lines[0] == f'ID="{vba.DEFAULT_PROJECT_ID}"'
    assert lines[1:7] == ["Document=ThisWorkbook/&H00000000", "Document=Sheet1/&H00000000",
                          "Document=Sheet2/&H00000000", "Module=Module1", "Module=xlwings", "Class=Dictionary"]
    assert lines[7:10] == ['Name="VBAProject"', 'HelpContextID="0"', 'VersionCompatible32="393222000"']
    assert "[Host Extender Info]" in lines
    assert "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000" in lines
    assert text.endswith("\r\n")


def test_protection_fields_decrypt(project):
    from ms_ovba_crypto import MsOvbaCrypto

    text = project_of(project).openstream("PROJECT").read().decode("cp1252")
    fields = dict(line.split("=", 1) for line in text.split("\r\n") if line[:4] in ("CMG=", "DPB=", "GC=\""))
    values = {k: MsOvbaCrypto.decrypt(bytes.fromhex(v.strip('"'))) for k, v in fields.items()}
    assert values == {"CMG": b"\0\0\0\0", "DPB": b"\0", "GC": b"\xff"}  # unlocked, no password, visible


@pytest.mark.parametrize("seed", [0x00, 0x02, 0x5C, 0x8D, 0xFF])
@pytest.mark.parametrize("data", [b"\0\0\0\0", b"\0", b"\xff", b"password-hash-and-more"])
def test_encryption_matches_ms_ovba_crypto(monkeypatch, seed, data):
    """[MS-OVBA] 2.4.3.2 as ms-ovba-crypto implements it, with its random draws fixed."""
    from ms_ovba_crypto import MsOvbaCrypto, ms_ovba_crypto

    draws = iter([seed, 7, 7, 7])
    monkeypatch.setattr(ms_ovba_crypto.random, "randint", lambda a, b: next(draws))
    project_id = "{5CF9CDAB-B77B-4FE4-BD7E-D29900070E1B}"
    ours = encrypt_data(project_id, data, seed, ignored=7)
    assert ours == MsOvbaCrypto.encrypt(project_id, data)
    assert MsOvbaCrypto.decrypt(ours) == data


def test_encryption_reproduces_xlwings_fields():
    """The CMG/DPB/GC of quickstart_standalone.xlsm, re-encrypted with their own seed."""
    ole = project_of(XLWINGS / "quickstart_standalone.xlsm")
    text = ole.openstream("PROJECT").read().decode("cp1252")
    project_id = text.split('"')[1]
    fields = dict(line.split("=", 1) for line in text.split("\r\n") if line[:4] in ("CMG=", "DPB=", "GC=\""))
    for key, data in (("CMG", b"\0\0\0\0"), ("DPB", b"\0"), ("GC", b"\xff")):
        theirs = bytes.fromhex(fields[key].strip('"'))
        seed = theirs[0]
        assert (seed & 6) // 2 == 2
        # the two ignored bytes decrypt to whatever Office drew: recover them from the file
        unencrypted1, encrypted1, encrypted2 = sum(project_id.encode()) & 0xFF, theirs[2], theirs[1]
        ignored = []
        for enc in theirs[3:5]:
            ignored.append(enc ^ ((encrypted2 + unencrypted1) & 0xFF))
            encrypted2, encrypted1, unencrypted1 = encrypted1, enc, ignored[-1]
        assert encrypt_data(project_id, data, seed, ignored=bytes(ignored)) == theirs


# -- the dir stream against xlwings' files, record by record -------------------------------------------------------
def test_dir_information_records_match_quickstart_standalone(project):
    ours, _, _ = sections(dir_of(project_of(project)))
    theirs, _, _ = sections(dir_of(project_of(XLWINGS / "quickstart_standalone.xlsm")))
    assert [r for r, _ in ours] == [r for r, _ in theirs]
    different = {0x0009}  # PROJECTVERSION: Office counts saves; ours is a fixed 1.0
    assert [(r, d) for r, d in ours if r not in different] == [(r, d) for r, d in theirs if r not in different]


def test_module_records_match_quickstart_standalone(project):
    """Same record sequence per module; MODULEOFFSET 0 (source only) and cookies 0xFFFF."""
    ours, theirs = dir_of(project_of(project)), dir_of(project_of(XLWINGS / "quickstart_standalone.xlsm"))
    for name in ["ThisWorkbook", "Sheet1", "Module1", "Sheet2", "xlwings", "Dictionary"]:
        a, b = _module_records(ours, name), _module_records(theirs, name)
        assert [r for r, _ in a] == [r for r, _ in b], name
        for (rec_id, data), (_, their_data) in zip(a, b):
            if rec_id == 0x0031:
                assert data == b"\0\0\0\0"
            elif rec_id == 0x002C:
                assert data == b"\xff\xff"
            elif rec_id not in (0x001C, 0x0048):  # Dictionary's docstring: we keep it in the source
                assert data == their_data, (name, hex(rec_id))
    _, _, mods = sections(ours)
    assert mods[0] == (0x000F, struct.pack("<H", len(MODULES)))
    assert mods[1] == (0x0013, b"\xff\xff")
    assert mods[-1] == (0x0010, b"")


def test_reference_records_match_xlwings():
    """stdole and Office as in xlwings.xlam; the add-in reference as in quickstart.xlsm."""
    ours = reference_records(dir_of(project_of(build_vba_project(MODULES[:1], references=(STDOLE, OFFICE, XLWINGS_ADDIN)))))
    addin = reference_records(dir_of(project_of(XLWINGS / "addin" / "xlwings.xlam")))
    quickstart = reference_records(dir_of(project_of(XLWINGS / "quickstart.xlsm")))
    assert list(ours) == ["stdole", "Office", "xlwings"]
    assert ours["stdole"] == addin["stdole"]
    assert ours["Office"] == addin["Office"]
    assert ours["xlwings"] == quickstart["xlwings"]
    records = dir_of(project_of(build_vba_project(MODULES[:1])))
    _, refs, _ = sections(records)
    assert [r for r, _ in refs] == [0x16, 0x3E, 0x0D, 0x16, 0x3E, 0x0D]


def test_reference_kinds():
    reg = RegisteredReference("X", "*\\G{00000000-0000-0000-0000-000000000000}#1.0#0#x.tlb#X")
    proj = ProjectReference("Y", "*\\CC:\\y.xlam", "*\\Cy.xlam", 1, 2)
    refs = reference_records(dir_of(project_of(build_vba_project([Module("M")], references=(reg, proj)))))
    assert refs["X"] == (0x0D, struct.pack("<I", len(reg.libid)) + reg.libid.encode() + bytes(6))
    assert refs["Y"][0] == 0x0E and refs["Y"][1].endswith(struct.pack("<IH", 1, 2))


def test_module_types(project):
    records = dir_of(project_of(project))
    kinds = {name: [r for r, _ in _module_records(records, name) if r in (0x21, 0x22)] for name in
             [m.name for m in MODULES]}
    assert kinds == {"ThisWorkbook": [0x22], "Sheet1": [0x22], "Sheet2": [0x22], "Module1": [0x21],
                     "xlwings": [0x21], "Dictionary": [0x22]}


# -- the compound file ----------------------------------------------------------------------------------------------
def _cfb_less(a: str, b: str) -> bool:
    return (len(a), a.upper()) < (len(b), b.upper())


def _check_red_black(ole: olefile.OleFileIO) -> None:
    """Every storage's children form a red-black binary search tree ([MS-CFB] 2.6.4)."""
    entries = {e.sid: e for e in ole.direntries if e is not None}
    NOSTREAM = 0xFFFFFFFF

    def walk(sid: int, lo: str | None, hi: str | None, parent_red: bool) -> int:
        if sid == NOSTREAM:
            return 1
        e = entries[sid]
        red = e.color == 0
        assert not (red and parent_red), "red node with a red parent"
        assert lo is None or _cfb_less(lo, e.name)
        assert hi is None or _cfb_less(e.name, hi)
        left = walk(e.sid_left, lo, e.name, red)
        right = walk(e.sid_right, e.name, hi, red)
        assert left == right, "unequal black height"
        return left + (0 if red else 1)

    for e in entries.values():
        if e.entry_type in (1, 5) and e.sid_child != NOSTREAM:
            assert entries[e.sid_child].color == 1, "tree root must be black"
            walk(e.sid_child, None, None, False)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 40])
def test_directory_trees_are_red_black(count):
    streams = {f"S/m{i:02d}" + "x" * (i % 5): bytes([i]) * (i * 37) for i in range(count)}
    ole = olefile.OleFileIO(io.BytesIO(compound_file(streams)))
    _check_red_black(ole)
    for path, data in streams.items():
        assert ole.openstream(path).read() == data


def test_compound_file_layout():
    streams = {
        "empty": b"",
        "small": b"x" * 100,
        "just_below": os.urandom(4095),
        "cutoff": os.urandom(4096),  # not below the cut-off: regular sectors
        "big": os.urandom(300_000),  # several FAT sectors
        "D/E/deep": b"deep",
    }
    data = compound_file(streams)
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1") and len(data) % 512 == 0
    minor, major, order, shift, mini_shift = struct.unpack_from("<HHHHH", data, 24)
    assert (minor, major, order, shift, mini_shift) == (0x3E, 3, 0xFFFE, 9, 6)
    assert struct.unpack_from("<I", data, 56)[0] == 4096  # mini stream cut-off
    ole = olefile.OleFileIO(io.BytesIO(data))
    for path, content in streams.items():
        assert ole.openstream(path).read() == content
        assert ole.get_size(path) == len(content)
    entry = {e.name: e for e in ole.direntries if e is not None}
    assert entry["small"].size < 4096 and entry["cutoff"].size == 4096
    assert ole.minifatsect != 0xFFFFFFFE  # a mini FAT exists
    for e in entry.values():
        assert e.createTime == 0 and e.modifyTime == 0 and e.clsid == ""
    _check_red_black(ole)


def test_compound_file_rejects_bad_names():
    with pytest.raises(ValueError):
        compound_file({"a" * 32: b""})
    with pytest.raises(ValueError):
        compound_file({"a!b": b""})
    with pytest.raises(ValueError):
        compound_file({"A": b"", "a": b""})


def test_random_projects_read_back():
    rng = random.Random(5)
    for _ in range(5):
        mods = [Module.workbook()] + [
            Module(f"M{i}", "".join(rng.choice(["Sub X()\n", "  y = 1\n", "End Sub\n", "' comment\n"])
                                    for _ in range(rng.randrange(0, 800))))
            for i in range(rng.randrange(1, 12))]
        sources = module_sources(build_vba_project(mods))
        assert sources == {m.name: m.stored_source() for m in mods}
