"""The catalogue of finding codes (xl_duban/domain/codes.py) against the code that emits them.

DESIGN §7 calls finding codes stable, so each one a clerk can see has an entry in
:mod:`xl_duban.domain.codes` and a row in README's 问题代码一览.  These tests keep the
three in step:

* every code the program can emit is catalogued — found by reading *every* ``.py`` file
  under ``xl_duban/``, ``udfs/`` and ``macros/`` with :mod:`ast`, never a list of file
  names, so code that moves between modules (services.py → services/…) is still seen
  and a new ``error("some-new-code", …)`` anywhere fails the test until it is catalogued;
* every catalogued code is really emitted somewhere (no dead entries);
* the level the catalogue records is a level the program emits the code at;
* codes that the program *reads back* (``f.code == "missing-column"``) are catalogued too,
  so a typo there cannot silently disable a rule;
* README's table is the rendered table.

How the scan finds emissions (:class:`Scan`): a *factory* is something whose call makes a
finding — ``error``/``warning``/``info`` (the helpers in domain/findings.py) and
``Finding(code=…, level=…)``, also ``f.model_copy(update={"code": …})``.  The code argument
of a factory call is resolved to string literals: a literal, either branch of
``a if c else b``, a local or module-level name bound to such a thing (also
``for …, code, … in (("x", …), ("y", …))`` and tuple/dict tables of codes), a dict lookup in
a module-level table.  A local alias of the helpers
(``make = warning if overdue else info``) is a factory with both levels.  When the code is a
*parameter* of the enclosing function, that function becomes a factory too and its callers
are resolved in turn (so a helper ``def _bad(code, msg): return error(code, msg)`` is
followed).  A code the scan cannot resolve (say an f-string) makes
:func:`test_every_emission_is_resolved` fail, naming the place, until it is resolved or
listed in :data:`DYNAMIC` with a comment.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from xl_duban.domain import codes

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("xl_duban", "udfs", "macros")
README = ROOT / "README.md"

KEBAB = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
ERROR, WARNING, INFO = "错误", "警告", "提示"
BASE_FACTORIES = {"error": frozenset({ERROR}), "warning": frozenset({WARNING}), "info": frozenset({INFO})}
LEVEL_NAMES = {"error": ERROR, "warning": WARNING, "info": INFO, ERROR: ERROR, WARNING: WARNING, INFO: INFO}
ANY_LEVEL = frozenset({ERROR, WARNING, INFO})

# Codes emitted in a way the scan cannot resolve to literals, keyed by the name of the
# function that emits them (not by file: functions move between modules).  Empty today —
# every emission resolves.  Add an entry, with a comment saying where the code is built,
# only when a code really is computed (e.g. an f-string).
DYNAMIC: dict[str, set[str]] = {}

# Catalogue entries the scan cannot see emitted, each with the reason.  Empty today.
NOT_SEEN_BY_SCAN: dict[str, str] = {}


@dataclass(frozen=True)
class Site:
    """One place a finding with a given code is made."""

    code: str
    levels: frozenset[str]
    file: str
    line: int
    function: str

    def where(self) -> str:
        return f"{self.file}:{self.line} ({self.function})"


@dataclass
class Scan:
    """Static scan of the whole source tree for finding codes (see module docstring)."""

    roots: list[Path]
    sites: list[Site] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    consumed: list[Site] = field(default_factory=list)  # codes compared against, e.g. f.code == "x"

    def __post_init__(self) -> None:
        self.modules: list[tuple[str, ast.Module]] = []
        for root in self.roots:
            for path in sorted(root.rglob("*.py")):
                if ".venv" in path.parts or "__pycache__" in path.parts:
                    continue
                rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
                self.modules.append((rel, ast.parse(path.read_text(encoding="utf-8"), filename=rel)))
        # module-level constants (name -> value node), across the tree: codes kept in tables
        self.constants: dict[str, list[ast.expr]] = {}
        for _file, tree in self.modules:
            for node in tree.body:
                for name, value in _bindings(node):
                    self.constants.setdefault(name, []).append(value)
        # the helpers under any name they are imported as (``from .findings import error as err``)
        # and names bound to the findings module itself (``from ..domain import findings``)
        self.factories: dict[str, frozenset[str]] = dict(BASE_FACTORIES)
        self.module_aliases: set[str] = {"findings"}
        for _file, tree in self.modules:
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom):
                    for alias in node.names:
                        if (node.module or "").split(".")[-1] == "findings" and alias.name in BASE_FACTORIES:
                            self.factories[alias.asname or alias.name] = BASE_FACTORIES[alias.name]
                        elif alias.name == "findings":
                            self.module_aliases.add(alias.asname or alias.name)
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.name.split(".")[-1] == "findings":
                            self.module_aliases.add(alias.asname or alias.name)
        # derived factories: function name -> (code parameter, its index, is a method, levels)
        self.derived: dict[str, tuple[str, int, bool, frozenset[str]]] = {}
        self._run()

    # ---- driving -------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            before = dict(self.derived)
            self.sites, self.unresolved, self.consumed = [], [], []
            for file, tree in self.modules:
                self._visit_scope(file, tree, "<module>", [], params=())
            if self.derived == before:
                return

    def _visit_scope(self, file: str, scope: ast.AST, name: str, outer: list[ast.AST], params: tuple[str, ...]) -> None:
        """Walk the statements of one function (or module), not descending into nested defs."""
        chain = [*outer, scope]
        for node in _walk_local(scope):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and node is not scope:
                args = node.args
                names = tuple(a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs))
                qual = node.name if not isinstance(node, ast.Lambda) else name
                self._visit_scope(file, node, qual, chain, names)
            elif isinstance(node, ast.Call):
                self._call(file, node, name, chain, params)
            elif isinstance(node, ast.Compare):
                self._compare(file, node, name, chain)

    # ---- one call ------------------------------------------------------------------------

    def _call(self, file: str, call: ast.Call, function: str, chain: list[ast.AST], params: tuple[str, ...]) -> None:
        levels, code_arg = self._factory(call, chain)
        if code_arg is None:
            return
        self._emit(file, call, function, chain, params, code_arg, levels)

    def _factory(self, call: ast.Call, chain: list[ast.AST]) -> tuple[frozenset[str], ast.expr | None]:
        """(levels, code argument) when ``call`` makes a finding, else (…, None)."""
        func = call.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name is None:
            return ANY_LEVEL, None
        if name == "model_copy":  # finding.model_copy(update={"code": "other-code"})
            update = _keyword(call, "update")
            if isinstance(update, ast.Dict):
                for key, value in zip(update.keys, update.values):
                    if isinstance(key, ast.Constant) and key.value == "code":
                        return ANY_LEVEL, value
            return ANY_LEVEL, None
        if name == "Finding":
            code = _keyword(call, "code") or (call.args[0] if call.args else None)
            level = _keyword(call, "level")
            return (self._level_of(level) if level is not None else ANY_LEVEL), code
        if isinstance(func, ast.Name):
            levels = self._alias_levels(name, chain)
            if levels is not None:
                return levels, (call.args[0] if call.args else _keyword(call, "code"))
        elif name in BASE_FACTORIES and isinstance(func.value, ast.Name) and func.value.id in self.module_aliases:
            return BASE_FACTORIES[name], (call.args[0] if call.args else _keyword(call, "code"))
        if name in self.derived:
            param, index, method, levels = self.derived[name]
            arg = _keyword(call, param)
            if arg is None:
                position = index - (1 if method and isinstance(func, ast.Attribute) else 0)
                if 0 <= position < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[:position + 1]):
                    arg = call.args[position]
            return levels, arg
        return ANY_LEVEL, None

    def _alias_levels(self, name: str, chain: list[ast.AST]) -> frozenset[str] | None:
        """Levels of a bare-name factory: the helpers, or a local alias such as
        ``make = warning if overdue else info``; None when ``name`` is no factory."""
        for scope in reversed(chain):
            if isinstance(scope, ast.Module):
                break
            values = [v for n, v in _scope_bindings(scope) if n == name]
            if _is_param(scope, name):
                return None  # a parameter that happens to be called error/info: not the helper
            if values:
                levels: set[str] = set()
                for value in values:
                    names = _names_in(value)
                    if not names or not all(n in self.factories for n in names):
                        return None
                    for n in names:
                        levels |= self.factories[n]
                return frozenset(levels)
        return self.factories.get(name)

    def _level_of(self, node: ast.expr) -> frozenset[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in LEVEL_NAMES:
            return frozenset({LEVEL_NAMES[node.value]})
        if isinstance(node, ast.Attribute) and node.attr in LEVEL_NAMES and isinstance(node.value, ast.Name) and node.value.id == "Level":
            return frozenset({LEVEL_NAMES[node.attr]})
        return ANY_LEVEL

    def _emit(self, file, call, function, chain, params, code_arg, levels) -> None:
        if _is_passthrough(code_arg):
            return  # Finding(code=f.code, …): re-emits an existing finding's code
        if isinstance(code_arg, ast.Name) and code_arg.id in params and not _scope_bindings_named(chain[-1], code_arg.id):
            scope = chain[-1]
            if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and scope.name not in {"error", "warning", "info"}:
                method = bool(params) and params[0] in {"self", "cls"}
                entry = (code_arg.id, params.index(code_arg.id), method, levels)
                known = self.derived.get(scope.name)
                if known is not None and known[:3] == entry[:3]:
                    entry = (*entry[:3], known[3] | levels)
                self.derived[scope.name] = entry
            return
        found, ok = self._resolve(code_arg, chain, set())
        if not ok:
            if function in DYNAMIC:
                found = DYNAMIC[function]
            else:
                self.unresolved.append(f"{file}:{call.lineno} ({function}): {ast.unparse(code_arg)}")
                return
        for code in sorted(found):
            self.sites.append(Site(code, levels, file, call.lineno, function))

    # ---- resolving a code expression to string literals -------------------------------

    def _resolve(self, node: ast.expr, chain: list[ast.AST], seen: set[str]) -> tuple[set[str], bool]:
        """The strings ``node`` can evaluate to, and whether that set is complete."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}, True
        if isinstance(node, ast.IfExp):
            return _union(self._resolve(node.body, chain, seen), self._resolve(node.orelse, chain, seen))
        if isinstance(node, ast.BoolOp):
            return _union(*(self._resolve(v, chain, seen) for v in node.values))
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return _union(*(self._resolve(v, chain, seen) for v in node.elts)) if node.elts else (set(), True)
        if isinstance(node, ast.Subscript):  # TABLE[key] -> every value of the table
            return self._values(node.value, chain, seen)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            return self._values(node.func.value, chain, seen)  # TABLE.get(key, default)
        if isinstance(node, ast.Name):
            if node.id in seen:
                return set(), True
            seen = seen | {node.id}
            for scope in reversed(chain):
                if isinstance(scope, ast.Module):
                    break
                bound = self._local(node.id, scope, chain, seen)
                if bound is not None:
                    return bound
            values = self.constants.get(node.id)
            if values:
                return _union(*(self._resolve(v, chain[:1], seen) for v in values))
        return set(), False

    def _values(self, table: ast.expr, chain: list[ast.AST], seen: set[str]) -> tuple[set[str], bool]:
        node = table
        if isinstance(node, ast.Name):
            values = [v for scope in reversed(chain) if not isinstance(scope, ast.Module)
                      for n, v in _scope_bindings(scope) if n == node.id] or self.constants.get(node.id, [])
            if len(values) == 1:
                node = values[0]
        if isinstance(node, ast.Dict):
            return _union(*(self._resolve(v, chain, seen) for v in node.values))
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return self._resolve(node, chain, seen)
        return set(), False

    def _local(self, name: str, scope: ast.AST, chain: list[ast.AST], seen: set[str]) -> tuple[set[str], bool] | None:
        """Resolve ``name`` from its bindings in ``scope``; None when it is not bound there."""
        results = []
        for node in _walk_local(scope):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
                for target_name, value in _bindings(node):
                    if target_name == name:
                        results.append(self._resolve(value, chain, seen))
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                got = self._loop(name, node.target, node.iter, chain, seen)
                if got is not None:
                    results.append(got)
        return _union(*results) if results else None

    def _loop(self, name, target, iterable, chain, seen) -> tuple[set[str], bool] | None:
        """``for name in ("a", "b")`` / ``for x, name in (("…", "a"), …)``."""
        if isinstance(target, ast.Name):
            if target.id != name:
                return None
            return self._resolve(iterable, chain, seen) if isinstance(iterable, (ast.Tuple, ast.List, ast.Set, ast.Name)) else (set(), False)
        if isinstance(target, (ast.Tuple, ast.List)):
            for i, elt in enumerate(target.elts):
                if isinstance(elt, ast.Name) and elt.id == name:
                    rows = iterable
                    if isinstance(rows, ast.Name):
                        found = self.constants.get(rows.id)
                        rows = found[0] if found and len(found) == 1 else rows
                    if not isinstance(rows, (ast.Tuple, ast.List)):
                        return set(), False
                    parts = []
                    for row in rows.elts:
                        if not isinstance(row, (ast.Tuple, ast.List)) or len(row.elts) != len(target.elts):
                            return set(), False
                        parts.append(self._resolve(row.elts[i], chain, seen))
                    return _union(*parts)
                if isinstance(elt, (ast.Tuple, ast.List)) and name in {n.id for n in ast.walk(elt) if isinstance(n, ast.Name)}:
                    return set(), False  # nested unpacking: not worth following
        return None

    # ---- codes the program reads back ----------------------------------------------------

    def _compare(self, file: str, node: ast.Compare, function: str, chain: list[ast.AST]) -> None:
        """``f.code == "x"`` / ``f.code in ("x", "y")`` / ``f.code not in TABLE``."""
        sides = [node.left, *node.comparators]
        if not any(isinstance(s, ast.Attribute) and s.attr == "code" for s in sides):
            return
        for side in sides:
            if isinstance(side, ast.Attribute) and side.attr == "code":
                continue
            found, _ok = self._resolve(side, chain, set())
            for code in found:
                self.consumed.append(Site(code, ANY_LEVEL, file, node.lineno, function))

    # ---- summaries -----------------------------------------------------------------------

    def emitted(self) -> dict[str, list[Site]]:
        out: dict[str, list[Site]] = {}
        for site in self.sites:
            out.setdefault(site.code, []).append(site)
        return out


# ---- small AST helpers ----------------------------------------------------------------------

def _walk_local(scope: ast.AST):
    """Every node of ``scope`` except the insides of nested functions (which are yielded)."""
    todo = list(ast.iter_child_nodes(scope))
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))
        elif isinstance(node, ast.ClassDef):
            todo.extend(node.body)


def _bindings(node: ast.AST):
    """(name, value) for simple assignments ``name = value`` (also annotated / walrus)."""
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Name):
                yield target.id, node.value
            elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(node.value, (ast.Tuple, ast.List)) \
                    and len(target.elts) == len(node.value.elts):
                for t, v in zip(target.elts, node.value.elts):
                    if isinstance(t, ast.Name):
                        yield t.id, v
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        yield node.target.id, node.value
    elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
        yield node.target.id, node.value


def _scope_bindings(scope: ast.AST):
    for node in _walk_local(scope):
        yield from _bindings(node)


def _scope_bindings_named(scope: ast.AST, name: str) -> bool:
    return any(n == name for n, _v in _scope_bindings(scope))


def _is_param(scope: ast.AST, name: str) -> bool:
    if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return False
    args = scope.args
    return name in {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}


def _names_in(node: ast.expr) -> set[str]:
    """Names a factory alias may be: ``warning`` / ``warning if c else info`` / ``a or b``."""
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.IfExp):
        a, b = _names_in(node.body), _names_in(node.orelse)
        return a | b if a and b else set()
    if isinstance(node, ast.BoolOp):
        parts = [_names_in(v) for v in node.values]
        return set().union(*parts) if all(parts) else set()
    return set()


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_passthrough(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "code"


def _union(*parts: tuple[set[str], bool]) -> tuple[set[str], bool]:
    found: set[str] = set()
    ok = True
    for values, complete in parts:
        found |= values
        ok = ok and complete
    return found, ok


# ---- the tests ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scan() -> Scan:
    return Scan([ROOT / d for d in SOURCE_DIRS])


def _levels_of(sites: list[Site]) -> set[str]:
    return set().union(*(s.levels for s in sites))


def test_every_emission_is_resolved(scan: Scan):
    """Each finding's code resolves to literals; a computed one must be listed in DYNAMIC."""
    assert scan.unresolved == [], (
        "finding codes the scan cannot resolve to string literals; write them as literals or list "
        "them in DYNAMIC (tests/test_codes.py) with a comment:\n  " + "\n  ".join(scan.unresolved))


def test_every_emitted_code_is_catalogued(scan: Scan):
    missing = {code: sites for code, sites in scan.emitted().items() if codes.describe(code) is None}
    assert not missing, (
        "finding codes emitted but not in xl_duban/domain/codes.py (add a row to _ROWS, then run "
        "`python -m tests.test_codes --readme`):\n  "
        + "\n  ".join(f"{code} [{'/'.join(sorted(_levels_of(sites)))}] at {sites[0].where()}"
                      for code, sites in sorted(missing.items())))


def test_every_catalogued_code_is_emitted(scan: Scan):
    """No dead entries: a code the program no longer emits leaves the catalogue (and README)."""
    emitted = set(scan.emitted()) | set(NOT_SEEN_BY_SCAN)
    dead = sorted(set(codes.CATALOGUE) - emitted)
    assert not dead, f"catalogued but never emitted (remove them or see NOT_SEEN_BY_SCAN): {dead}"


def test_catalogued_levels_are_the_emitted_levels(scan: Scan):
    """Every level the catalogue gives a code is one the program can emit it at, and every
    place that emits it at one definite level emits a catalogued level."""
    wrong = []
    for code, sites in sorted(scan.emitted().items()):
        entry = codes.describe(code)
        if entry is None:
            continue  # reported by test_every_emitted_code_is_catalogued
        possible = _levels_of(sites)
        for level in entry.levels:
            if level not in possible:
                wrong.append(f"{code}: catalogued as {level}, emitted only as {'/'.join(sorted(possible))}")
        for site in sites:
            if not site.levels & set(entry.levels):
                wrong.append(f"{code}: emitted as {'/'.join(sorted(site.levels))} at {site.where()}, "
                             f"catalogued as {'/'.join(entry.levels)}")
    assert not wrong, "\n".join(wrong)


def test_codes_read_back_are_catalogued(scan: Scan):
    """Codes the program compares against (``f.code == "missing-column"``) exist: a typo there
    would silently switch a rule off."""
    unknown = sorted({f"{s.code} at {s.where()}" for s in scan.consumed if codes.describe(s.code) is None})
    assert scan.consumed, "the scan should see codes read back (e.g. f.code == \"missing-column\")"
    assert not unknown, f"codes compared against but not catalogued: {unknown}"


def test_codes_are_kebab_case():
    assert [c for c in codes.CATALOGUE if not KEBAB.fullmatch(c)] == []


def test_catalogue_entries_are_complete():
    from xl_duban.domain.findings import Level

    labels = {level.value for level in Level}
    for entry in codes.CATALOGUE.values():
        assert entry.levels and set(entry.levels) <= labels, entry
        assert len(set(entry.levels)) == len(entry.levels), entry
        assert entry.areas and set(entry.areas) <= set(codes.AREAS), entry
        assert entry.title and entry.action.endswith("。"), entry
        assert "|" not in entry.title + entry.action and "\n" not in entry.title + entry.action, entry


def test_describe():
    entry = codes.describe("locked-cell-edited")
    assert entry is not None and entry.level == "错误" and entry.area == "收集"
    assert codes.describe("missing-return").levels == ("警告", "提示")
    assert codes.describe("no-such-code") is None
    assert codes.codes() == sorted(codes.CATALOGUE)
    assert codes.main(["late-return"]) == 0 and codes.main(["no-such-code"]) == 1


def test_markdown_table_lists_every_code_once():
    table = codes.markdown_table()
    rows = table.splitlines()[2:]
    assert len(rows) == len(codes.CATALOGUE)
    assert sorted(re.match(r"\| `([^`]+)` \|", r).group(1) for r in rows) == codes.codes()
    assert all(r.count(" | ") == 4 for r in rows)


def test_readme_table_is_current():
    text = README.read_text(encoding="utf-8")
    heading, english = text.find("\n## 问题代码一览\n"), text.find("\n## English summary\n")
    assert 0 <= heading < english, "README: the section 问题代码一览 comes just before English summary"
    assert text.find(codes.BEGIN) > heading and text.find(codes.END) < english
    assert codes.table_in(text) == codes.markdown_table(), (
        "README's table of finding codes is stale: run `python -m tests.test_codes --readme`")
    assert codes.with_table(text) == text


# ---- the scan itself must be able to fail ---------------------------------------------------

SCRATCH = '''
from xl_duban.domain.findings import Finding, error, info, warning
from xl_duban.domain.findings import warning as warn
from xl_duban.domain import findings as F
import logging

TABLE = {"a": "from-a-table", "b": "from-b-table"}
PAIRS = (("pair-one", 1), ("pair-two", 2))


def plain():
    return [error("no-such-code", "x"), warn("renamed-helper", "x"), F.info("module-helper", "x"),
            Finding(code="direct-finding", level="警告", message="x"),
            error("copied", "x").model_copy(update={"code": "recoded"})]


def branches(flag, key):
    make = warning if flag else info
    out = [make("aliased-factory", "x"), error("if-yes" if flag else "if-no", "x"), error(TABLE[key], "x")]
    code = "local-name"
    out.append(error(code, "x"))
    for code2, _n in PAIRS:
        out.append(error(code2, "x"))
    logging.info("not-a-finding")
    return out


def _helper(where, code, message):
    return error(code, message, sheet=where)


class Thing:
    def _bad(self, code):
        return warning(code, "x")

    def run(self):
        return [_helper("设置", "via-helper", "x"), self._bad("via-method")]


def computed(n):
    return error(f"computed-{n}", "x")
'''


def test_scan_sees_codes_written_every_way(tmp_path):
    (tmp_path / "scratch.py").write_text(SCRATCH, encoding="utf-8")
    scratch = Scan([tmp_path])
    emitted = scratch.emitted()
    assert set(emitted) == {"no-such-code", "renamed-helper", "module-helper", "direct-finding", "aliased-factory",
                            "if-yes", "if-no", "from-a-table", "from-b-table", "local-name", "pair-one", "pair-two",
                            "via-helper", "via-method", "copied", "recoded"}
    assert _levels_of(emitted["aliased-factory"]) == {WARNING, INFO}
    assert _levels_of(emitted["direct-finding"]) == {WARNING}
    assert _levels_of(emitted["via-method"]) == {WARNING}
    assert len(scratch.unresolved) == 1 and "computed" in scratch.unresolved[0]


def test_a_new_code_anywhere_in_the_tree_is_caught(tmp_path, scan: Scan):
    """A scratch copy of the source tree with one made-up code added to a module that
    emits findings: the scan reports it, and it is not catalogued."""
    import shutil

    for name in SOURCE_DIRS:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=lambda folder, names: [
            n for n in names if n == "__pycache__" or (not n.endswith(".py") and not Path(folder, n).is_dir())])
    target = next(p for p in sorted((tmp_path / "xl_duban").rglob("*.py"))
                  if "import" in p.read_text(encoding="utf-8") and "error" in p.read_text(encoding="utf-8")
                  and p.name not in ("findings.py", "codes.py"))
    text = target.read_text(encoding="utf-8")
    target.write_text(text + "\n\ndef _made_up():\n    from xl_duban.domain.findings import error\n"
                      "    return error(\"no-such-code\", \"x\")\n", encoding="utf-8")
    copy = Scan([tmp_path / name for name in SOURCE_DIRS])
    assert "no-such-code" in copy.emitted() and codes.describe("no-such-code") is None
    assert set(copy.emitted()) - {"no-such-code"} == set(scan.emitted())


if __name__ == "__main__":  # python -m tests.test_codes --readme: rewrite README's table
    import sys

    if sys.argv[1:] != ["--readme"]:
        raise SystemExit("usage: python -m tests.test_codes --readme")
    before = README.read_text(encoding="utf-8")
    after = codes.with_table(before)
    if after != before:
        README.write_text(after, encoding="utf-8")
    print(f"README: {len(codes.CATALOGUE)} codes, {'updated' if after != before else 'already current'}")
