"""The domain layer stays pure (DESIGN §8): no file, Excel, network or clock access.

The source of every module under ``xl_duban/domain`` is inspected with ``ast`` (imports and
calls), and a fresh interpreter checks that importing the domain drags in no I/O library.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[1] / "xl_duban" / "domain"
DOMAIN_FILES = sorted(DOMAIN.rglob("*.py"))

FORBIDDEN_MODULES = {
    "os", "io", "pathlib", "shutil", "socket", "smtplib", "imaplib", "email", "subprocess",
    "openpyxl", "docx", "xlwings", "pandas", "python_calamine", "chinese_calendar", "time",
    "tempfile", "requests", "urllib",
}
CLOCK_CALLS = {("datetime", "now"), ("datetime", "today"), ("datetime", "utcnow"), ("date", "today")}
HEAVY_IO = ["openpyxl", "docx", "xlwings", "pandas", "python_calamine"]


def forbidden_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) for every absolute import whose top-level package is forbidden."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import inside the package
                continue
            names = [node.module or ""]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__"
              and node.args and isinstance(node.args[0], ast.Constant)):
            names = [str(node.args[0].value)]
        else:
            continue
        found += [(node.lineno, n) for n in names if n.split(".")[0] in FORBIDDEN_MODULES]
    return found


def _dotted(node: ast.AST) -> list[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return parts[::-1]


def _datetime_aliases(tree: ast.AST) -> dict[str, str]:
    """Local names bound to ``datetime``/``date`` under another name (``from datetime import date as d``)."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "datetime":
            aliases.update({a.asname: a.name for a in node.names if a.asname})
        elif isinstance(node, ast.Import):
            aliases.update({a.asname: a.name for a in node.names if a.asname and a.name == "datetime"})
    return aliases


def forbidden_calls(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, call) for open() and the clock: datetime.now/today/utcnow, date.today."""
    found = []
    aliases = _datetime_aliases(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        dotted = _dotted(node.func)
        if dotted and dotted[0] in aliases:
            dotted = [aliases[dotted[0]], *dotted[1:]]
        if dotted == ["open"] or dotted[-2:] == ["io", "open"]:
            found.append((node.lineno, "open"))
        elif len(dotted) >= 2 and (dotted[-2], dotted[-1]) in CLOCK_CALLS:
            found.append((node.lineno, ".".join(dotted)))
    return found


# -- the detectors themselves must be able to fail ----------------------------------------------

BAD_SOURCE = '''
import os
import os.path
from pathlib import Path
import urllib.request
from chinese_calendar import is_workday
import datetime
from datetime import date, datetime as dt
x = open("f.txt")
a = datetime.datetime.now()
b = dt.today()
c = date.today()
d = datetime.datetime.utcnow()
e = __import__("openpyxl")
from . import periods
from .calendar import WorkCalendar
'''


def test_detectors_catch_violations():
    tree = ast.parse(BAD_SOURCE)
    assert sorted(m for _l, m in forbidden_imports(tree)) == sorted(
        ["os", "os.path", "pathlib", "urllib.request", "chinese_calendar", "openpyxl"])
    calls = sorted(c for _l, c in forbidden_calls(tree))
    assert calls == sorted(["open", "datetime.datetime.now", "datetime.today", "date.today",
                            "datetime.datetime.utcnow"])
    # Harmless look-alikes are not flagged.
    ok = ast.parse("from datetime import date\nd = date(2024, 1, 1)\nx = d.replace(day=2)\ny = obj.open_file()\n")
    assert forbidden_calls(ok) == [] and forbidden_imports(ok) == []


def test_domain_files_found():
    names = {p.name for p in DOMAIN_FILES}
    assert {"calendar.py", "findings.py", "importing.py", "models.py", "periods.py", "rules.py",
            "schema.py", "units.py"} <= names


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: p.name)
def test_no_io_or_clock_imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    assert forbidden_imports(tree) == [], f"{path.name} imports I/O or clock modules"


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: p.name)
def test_no_open_or_clock_calls(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    assert forbidden_calls(tree) == [], f"{path.name} opens files or reads the clock"


def test_importing_domain_loads_no_io_library():
    modules = sorted(f"xl_duban.domain.{p.stem}" for p in DOMAIN_FILES if p.stem != "__init__")
    code = (
        "import importlib, json, sys\n"
        "import xl_duban.domain.rules, xl_duban.domain.importing\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(json.dumps(sorted(m for m in {HEAVY_IO + ['chinese_calendar']!r} if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=DOMAIN.parents[1])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_subprocess_probe_can_detect_a_loaded_library():
    """The probe above is not vacuous: the io adapter does load chinese_calendar."""
    code = ("import json, sys\nimport xl_duban.io.calendar_source\n"
            "print(json.dumps('chinese_calendar' in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=DOMAIN.parents[1])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) is True


def test_reading_processes_do_not_load_the_workbook_writers():
    """collect's reader processes import only what reading a return needs: openpyxl (with
    numpy) would cost each of them ~25 MB, and two run beside the command."""
    from xl_duban.io.guard import PRELOAD

    code = ("import importlib, json, sys\n"
            f"for name in {list(PRELOAD)!r}: importlib.import_module(name)\n"
            "print(json.dumps(sorted(m for m in ('openpyxl', 'numpy', 'docx', 'pandas') if m in sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=DOMAIN.parents[1])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("index, letters", [(1, "A"), (26, "Z"), (27, "AA"), (52, "AZ"), (703, "AAA"), (16384, "XFD")])
def test_column_letters(index: int, letters: str):
    from xl_duban.domain.cells import column_index, column_letter

    assert column_letter(index) == letters
    assert column_index(letters) == index
