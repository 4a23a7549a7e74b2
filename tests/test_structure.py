"""The shape of the code: no import cycles, a fast start, settings read in one place, no
private names borrowed across packages.

Each check reads the source (``ast``) or runs a fresh interpreter, so it holds for the code
as it is, wherever a module moves.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("xl_duban", "udfs", "macros")
HEAVY = ("openpyxl", "pandas", "numpy", "matplotlib", "docx", "lxml", "python_calamine", "xlwings", "pydantic")

# Imports that happen in another process, not in the importing one: the reader process
# (``python -m xl_duban.io.read_worker MODULE...``) imports the modules named on its command line.
OTHER_PROCESS = {"xl_duban.io.read_worker"}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(importer: str, level: int, module: str | None) -> str:
    if not level:
        return module or ""
    base = importer.split(".") if _is_package(importer) else importer.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _known(name: str) -> str | None:
    """The project module ``name`` is, or lies in (None for the standard library and others)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(name: str) -> set[str]:
    """Every project module ``name`` imports: at module level, inside functions, and through
    ``importlib.import_module`` (a name built at run time counts as every module of the package)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {m for alias in node.names if (m := _known(alias.name))}
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, node.level, node.module)
            for alias in node.names:  # `from . import x` may name a module
                sub = _known(f"{target}.{alias.name}")
                if sub == f"{target}.{alias.name}":
                    out.add(sub)
                elif (m := _known(target)):
                    out.add(m)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"
              and name not in OTHER_PROCESS):
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                if (m := _known(arg.value)):
                    out.add(m)
            else:
                package = name if _is_package(name) else name.rpartition(".")[0]
                out |= {m for m in MODULES if m.startswith(package + ".")}
    out.discard(name)
    return out


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (a list of modules, first = last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycles():
    graph = {name: imports_of(name) for name in MODULES}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_the_cycle_finder_finds_cycles_through_function_imports_and_importlib():
    """The checker itself: a cycle made only by an import inside a function, or by
    ``importlib.import_module``, is found."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    late = ast.parse("def f():\n    from xl_duban.services import light_up\n")
    assert any(isinstance(n, ast.ImportFrom) for n in ast.walk(late))  # ast.walk sees function bodies
    assert "xl_duban.services.session" in imports_of("xl_duban.services")  # importlib with a run-time name


def _loaded_after(code: str) -> list[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_udfs_load_only_the_domain_and_the_calendar():
    """The worksheet-function server starts with every Excel recalculation: it must not pull
    in the use cases, the mail clients or the ledger store."""
    loaded = _loaded_after("import udfs")
    ours = [m for m in loaded if m.startswith("xl_duban.")]
    allowed = [m for m in ours if m.startswith("xl_duban.domain") or m in ("xl_duban.io", "xl_duban.io.calendar_source")]
    assert ours == allowed
    assert not {"smtplib", "imaplib"} & set(loaded)


def test_cli_starts_without_the_heavy_libraries():
    """Every ribbon click and every `duban` starts a fresh Python: the command line loads a
    library only when a command needs it."""
    loaded = _loaded_after("import xl_duban.cli")
    assert [m for m in loaded if m.split(".")[0] in HEAVY] == []
    helped = _loaded_after("import sys\nfrom xl_duban.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    assert [m for m in helped if m.split(".")[0] in HEAVY] == []
    assert "xl_duban.services.collecting" not in helped


def test_the_help_is_printed_without_the_heavy_libraries_by_the_installed_command():
    duban = Path(sys.executable).with_name("duban")
    if not duban.exists():
        pytest.skip("the duban script is not installed beside this interpreter")
    proc = subprocess.run([str(duban), "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "import" in proc.stdout


def _py_files(*roots: str):
    for root in roots:
        yield from (ROOT / root).rglob("*.py")


def test_settings_are_read_only_in_the_settings_module():
    """设置 is parsed once, typed, in ``domain/settings.py``: nobody else looks a value up by
    its Chinese key."""
    reads = re.compile(r"\.setting\(|\.key\s*==|setting_default|int_setting|choice_setting")
    offenders = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
                 for p in _py_files("xl_duban", "udfs", "macros", "benchmarks")
                 if p.name != "settings.py"
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if reads.search(line)]
    assert offenders == []


def test_no_module_imports_private_names_of_another_package():
    """A leading underscore marks what a package keeps to itself; tests, the demo, the ribbon
    and the benchmarks use public names only."""
    offenders = []
    for path in _py_files(*PACKAGES, "tests", "benchmarks"):
        rel = path.relative_to(ROOT)
        own = ".".join(rel.parts[:-1])
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level:
                continue
            source = node.module or ""
            if not source.split(".")[0] in PACKAGES or source.rpartition(".")[0] == own or source == own:
                continue
            offenders += [f"{rel}: from {source} import {a.name}" for a in node.names if a.name.startswith("_")]
    assert offenders == []


def test_imports_point_down_the_layers():
    """domain imports only domain (pure core); io never imports the use cases or the front ends."""
    wrong = []
    for name in MODULES:
        deps = imports_of(name)
        if name.startswith("xl_duban.domain"):
            wrong += [f"{name} → {d}" for d in deps if not d.startswith("xl_duban.domain") and d != "xl_duban"]
        if name.startswith("xl_duban.io"):
            wrong += [f"{name} → {d}" for d in deps if d.split(".")[:2] == ["xl_duban", "services"]
                      or d in ("xl_duban.cli", "xl_duban.ribbon", "xl_duban.demo")]
    assert wrong == []
