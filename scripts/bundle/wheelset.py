"""Is a folder of wheels a complete, installable set for one target (platform + Python)?

``pip download --platform ... --python-version ...`` picks wheels for the target but evaluates
environment markers (``sys_platform``, ``platform_system``, ``python_version`` ...) for the
machine it runs on: downloading for Windows on Linux silently leaves out ``pywin32`` (xlwings)
and ``colorama`` (click). This module walks ``Requires-Dist`` of the wheels in the folder from
the root requirement, with the markers evaluated for the *target*, and lists what is missing,
so that ``scripts/bundle.sh`` can download it and check again.

    python wheelset.py missing --dir WHEELS --target win_amd64 --python 3.11 xl_duban
        prints one requirement per line that no wheel in WHEELS satisfies (nothing: complete)
    python wheelset.py list --dir WHEELS --target win_amd64 --python 3.11 xl_duban
        prints the wheels (file names) the target installs
    python wheelset.py platforms --glibc 2.28
        prints the manylinux platform tags (for pip --platform) of a Linux x86_64 with that glibc

Uses ``packaging`` when it is installed, otherwise the copy vendored inside pip.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path

try:
    from packaging import tags as _tags
    from packaging.markers import Marker
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name, parse_wheel_filename
    from packaging.version import Version
except ImportError:  # pragma: no cover - a bare interpreter that has pip
    from pip._vendor.packaging import tags as _tags  # type: ignore[no-redef]
    from pip._vendor.packaging.markers import Marker  # type: ignore[no-redef]  # noqa: F401
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.specifiers import SpecifierSet  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename  # type: ignore[no-redef]
    from pip._vendor.packaging.version import Version  # type: ignore[no-redef]

WINDOWS = "win_amd64"
LINUX = "linux_x86_64"  # any manylinux_*_x86_64 (see manylinux_platforms)


def manylinux_platforms(glibc: str = "2.28") -> list[str]:
    """Platform tags a Linux x86_64 with the given glibc accepts, newest first (what pip --platform wants)."""
    major, minor = (int(p) for p in glibc.split("."))
    if major != 2 or minor < 17:
        raise ValueError(f"glibc {glibc}: only 2.17 and later are supported")
    out = [f"manylinux_2_{n}_x86_64" for n in range(minor, 16, -1)]
    out += ["manylinux2014_x86_64", "manylinux_2_12_x86_64", "manylinux2010_x86_64",
            "manylinux_2_5_x86_64", "manylinux1_x86_64"]
    return out


def marker_environment(target: str, python: str) -> dict[str, str]:
    """PEP 508 marker variables of a CPython ``python`` (\"3.11\") on ``target`` (win_amd64 / linux_x86_64)."""
    env = {"implementation_name": "cpython", "platform_python_implementation": "CPython",
           "python_version": python, "python_full_version": f"{python}.0",
           "implementation_version": f"{python}.0"}
    if target == WINDOWS:
        env.update(os_name="nt", sys_platform="win32", platform_system="Windows", platform_machine="AMD64",
                   platform_release="10", platform_version="10.0.19045")
    elif target == LINUX:
        env.update(os_name="posix", sys_platform="linux", platform_system="Linux", platform_machine="x86_64",
                   platform_release="", platform_version="")
    else:
        raise ValueError(f"unknown target {target!r} (use {WINDOWS} or {LINUX})")
    return env


def supported_tags(target: str, python: str, glibc: str = "2.28") -> set:
    major, minor = (int(p) for p in python.split("."))
    platforms = [WINDOWS] if target == WINDOWS else manylinux_platforms(glibc)
    interpreter = f"cp{major}{minor}"
    return set(_tags.cpython_tags((major, minor), [interpreter], platforms)) | set(
        _tags.compatible_tags((major, minor), interpreter, platforms))


@dataclass
class Wheel:
    path: Path
    name: str
    version: Version
    tags: frozenset
    _meta: object = field(default=None, repr=False)

    def metadata(self):
        if self._meta is None:
            with zipfile.ZipFile(self.path) as zf:
                names = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
                if len(names) != 1:
                    raise ValueError(f"{self.path.name}: no single .dist-info/METADATA")
                self._meta = HeaderParser().parsestr(zf.read(names[0]).decode("utf-8"))
        return self._meta

    def requires(self) -> list[Requirement]:
        return [Requirement(r) for r in (self.metadata().get_all("Requires-Dist") or [])]

    def requires_python(self) -> SpecifierSet:
        return SpecifierSet(self.metadata().get("Requires-Python") or "")


def read_wheels(folder: Path) -> dict[str, list[Wheel]]:
    out: dict[str, list[Wheel]] = {}
    for path in sorted(folder.glob("*.whl")):
        name, version, _build, tags = parse_wheel_filename(path.name)
        out.setdefault(canonicalize_name(name), []).append(Wheel(path, name, version, frozenset(tags)))
    return out


@dataclass
class Result:
    chosen: dict[str, Wheel]
    missing: list[str]   # requirement strings (without markers) that no wheel satisfies
    conflicts: list[str]  # a project reached twice with specifiers the chosen wheel does not meet


def resolve(folder: Path, roots: list[str], target: str, python: str, glibc: str = "2.28") -> Result:
    """Walk the requirements from ``roots`` through the wheels in ``folder`` as an install on the
    target would: the newest compatible wheel satisfying the requirement, markers evaluated for the
    target (pip only backtracks on conflicts, which are reported here instead)."""
    wheels = read_wheels(folder)
    env = marker_environment(target, python)
    ok_tags = supported_tags(target, python, glibc)
    py_version = Version(f"{python}.0")
    chosen: dict[str, Wheel] = {}
    extras_done: dict[str, set[str]] = {}
    missing: list[str] = []
    conflicts: list[str] = []
    queue: list[tuple[Requirement, str]] = [(Requirement(r), "(root)") for r in roots]
    while queue:
        req, parent = queue.pop(0)
        name = canonicalize_name(req.name)
        if name in chosen:
            wheel = chosen[name]
            if not req.specifier.contains(wheel.version, prereleases=True):
                conflicts.append(f"{req} (from {parent}) but {wheel.path.name} was chosen")
        else:
            candidates = [w for w in wheels.get(name, [])
                          if w.tags & ok_tags and req.specifier.contains(w.version, prereleases=True)
                          and w.requires_python().contains(py_version, prereleases=True)]
            if not candidates:
                bare = Requirement(str(req))
                bare.marker = None
                if str(bare) not in missing:
                    missing.append(str(bare))
                continue
            wheel = chosen[name] = max(candidates, key=lambda w: w.version)
            extras_done[name] = set()
        new_extras = {""} if not extras_done[name] else set()
        new_extras |= {canonicalize_name(e) for e in req.extras} - extras_done[name]
        if not new_extras:
            continue
        extras_done[name] |= new_extras
        for dep in wheel.requires():
            if dep.marker is None:
                if "" in new_extras:
                    queue.append((dep, wheel.path.name))
            elif any(dep.marker.evaluate({**env, "extra": e}) for e in new_extras):
                queue.append((dep, wheel.path.name))
    return Result(chosen, missing, conflicts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["missing", "list", "platforms"])
    ap.add_argument("--dir", type=Path)
    ap.add_argument("--target", choices=[WINDOWS, LINUX])
    ap.add_argument("--python", help="3.11, 3.12, ...")
    ap.add_argument("--glibc", default="2.28")
    ap.add_argument("roots", nargs="*")
    args = ap.parse_intermixed_args(argv)
    if args.command == "platforms":
        try:
            print("\n".join(manylinux_platforms(args.glibc)))
        except ValueError as exc:
            ap.error(str(exc))
        return 0
    if not (args.dir and args.target and args.python and args.roots):
        ap.error("missing / list need --dir, --target, --python and at least one requirement")
    result = resolve(args.dir, args.roots, args.target, args.python, args.glibc)
    if result.conflicts:
        print("\n".join(f"版本冲突: {c}" for c in result.conflicts), file=sys.stderr)
        return 2
    if args.command == "missing":
        for req in result.missing:
            print(req)
    else:
        if result.missing:
            print("缺少: " + ", ".join(result.missing), file=sys.stderr)
            return 1
        for name in sorted(result.chosen):
            print(result.chosen[name].path.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
