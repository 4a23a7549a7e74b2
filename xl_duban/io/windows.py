"""What Windows and Office say about this machine, read and never changed: the registry (the
one boundary tests fake, :class:`Registry`), the xlwings add-in and its configuration, and a
file's Mark of the Web.

Everything here only reads. ``duban doctor`` turns these facts into checks
(:mod:`xl_duban.services.doctor`); on other systems there is no registry and these checks
are not run.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

OFFICE = r"Software\Microsoft\Office"
POLICIES = r"Software\Policies\Microsoft\Office"
EXCEL_APP_PATH = r"SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths\excel.exe"
HKCU, HKLM = "HKCU", "HKLM"


class Registry(Protocol):
    """Read access to the Windows registry. ``root`` is ``"HKCU"`` or ``"HKLM"``."""

    def value(self, root: str, key: str, name: str) -> object | None:
        """The value ``name`` of ``key`` ("" for the key's default value), None if absent."""

    def subkeys(self, root: str, key: str) -> list[str]:
        """The names of ``key``'s subkeys ([] if the key is absent)."""


class WinRegistry:
    """The real registry through :mod:`winreg` (Windows only)."""

    def __init__(self) -> None:
        import winreg  # ImportError elsewhere: there is no registry to read

        self._winreg = winreg
        self._roots = {HKCU: winreg.HKEY_CURRENT_USER, HKLM: winreg.HKEY_LOCAL_MACHINE}

    def value(self, root: str, key: str, name: str) -> object | None:
        try:
            with self._winreg.OpenKey(self._roots[root], key) as handle:
                return self._winreg.QueryValueEx(handle, name)[0]
        except OSError:
            return None

    def subkeys(self, root: str, key: str) -> list[str]:
        names: list[str] = []
        try:
            with self._winreg.OpenKey(self._roots[root], key) as handle:
                while True:
                    try:
                        names.append(self._winreg.EnumKey(handle, len(names)))
                    except OSError:
                        return names
        except OSError:
            return names


def system_registry() -> Registry | None:
    """The registry of this machine, None where there is none."""
    if sys.platform != "win32":
        return None
    try:
        return WinRegistry()
    except ImportError:  # pragma: no cover - every Windows Python has winreg
        return None


@dataclass
class OfficeFacts:
    """What the registry says about Excel. ``version`` is Office's internal one (16.0 =
    2016/2019/2021/365); ``vba_warnings`` Excel's macro setting (1 all enabled, 2 disabled
    with notification — the default, 3 only signed, 4 all disabled), policy first;
    ``trusted`` the paths of its trusted locations, with whether subfolders count."""

    excel: str | None = None
    version: str | None = None
    access_vbom: int | None = None
    vba_warnings: int | None = None
    block_internet_macros: int | None = None
    trusted: list[tuple[str, bool]] = field(default_factory=list)


def _number(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def office_facts(registry: Registry) -> OfficeFacts:
    """Read Excel's install path, version, macro and trust settings (policy keys win)."""
    facts = OfficeFacts()
    path = registry.value(HKLM, EXCEL_APP_PATH, "")
    facts.excel = str(path) if path else None
    versions = sorted((v for v in registry.subkeys(HKCU, OFFICE) if re.fullmatch(r"\d+\.0", v)),
                      key=lambda v: float(v))
    with_excel = [v for v in versions if registry.subkeys(HKCU, rf"{OFFICE}\{v}\Excel")]
    facts.version = (with_excel or versions or [None])[-1]
    if facts.version is None:
        return facts

    def setting(name: str) -> int | None:
        for base in (POLICIES, OFFICE):
            value = _number(registry.value(HKCU, rf"{base}\{facts.version}\Excel\Security", name))
            if value is not None:
                return value
        return None

    facts.access_vbom = setting("AccessVBOM")
    facts.vba_warnings = setting("VBAWarnings")
    facts.block_internet_macros = setting("blockcontentexecutionfrominternet")
    for base in (POLICIES, OFFICE):
        locations = rf"{base}\{facts.version}\Excel\Security\Trusted Locations"
        for name in registry.subkeys(HKCU, locations):
            folder = registry.value(HKCU, rf"{locations}\{name}", "Path")
            if folder:
                subfolders = _number(registry.value(HKCU, rf"{locations}\{name}", "AllowSubfolders")) == 1
                facts.trusted.append((os.path.expandvars(str(folder)), subfolders))
    return facts


def is_trusted(folder: Path, trusted: list[tuple[str, bool]]) -> bool:
    """Whether ``folder`` is one of Excel's trusted locations (or below one that allows subfolders)."""
    here = os.path.normcase(os.path.normpath(str(folder)))
    for path, subfolders in trusted:
        base = os.path.normcase(os.path.normpath(path))
        if here == base or (subfolders and here.startswith(base.rstrip("\\/") + os.sep)):
            return True
    return False


def internet_zone(path: Path) -> int | None:
    """The ZoneId of ``path``'s Mark of the Web (3 = from the Internet), None when unmarked.

    Windows keeps it in the alternate data stream ``file:Zone.Identifier``; on other systems
    a file of that name stands in for it, which is what a copy from an NTFS share leaves."""
    try:
        text = Path(f"{path}:Zone.Identifier").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = re.search(r"^\s*ZoneId\s*=\s*(\d+)", text, re.MULTILINE)
    return int(found.group(1)) if found else None


def xlstart_folder(environ: dict[str, str] | None = None) -> Path | None:
    """Excel's per-user start-up folder, where ``xlwings addin install`` puts xlwings.xlam."""
    appdata = (os.environ if environ is None else environ).get("APPDATA")
    return Path(appdata) / "Microsoft" / "Excel" / "XLSTART" if appdata else None


def xlwings_interpreter(workbook: Path | None, environ: dict[str, str] | None = None) -> tuple[str | None, str]:
    """The Python the xlwings add-in starts, and where that was configured: an
    ``xlwings.conf`` beside the workbook wins over the user's ``~/.xlwings/xlwings.conf``;
    unconfigured, the add-in runs ``python`` from PATH (returned as None)."""
    env = os.environ if environ is None else environ
    home = env.get("USERPROFILE") or env.get("HOME")
    candidates = []
    if workbook is not None:
        candidates.append(workbook.parent / "xlwings.conf")
    if home:
        candidates.append(Path(home) / ".xlwings" / "xlwings.conf")
    for conf in candidates:
        try:
            text = conf.read_text(encoding="utf-8-sig", errors="replace")
        except OSError:
            continue
        for key in ("INTERPRETER_WIN", "INTERPRETER"):
            found = re.search(rf'^\s*"{key}"\s*,\s*"(.*)"\s*$', text, re.MULTILINE)
            if found and found.group(1).strip():
                return found.group(1).strip(), str(conf)
    return None, ""
