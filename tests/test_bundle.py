"""Offline install (scripts/bundle.sh): the bundle installs xl_duban on a machine with no index.

The slow test builds the real Linux bundle for the running interpreter (it downloads the wheels
from PyPI; pip's own cache keeps them, so a second run downloads nothing), installs it with the
bundle's install.sh into a fresh venv while every index is unreachable, and runs the installed
``duban``. The Windows half of the bundle is not downloaded here: the cheap tests check install.bat's
text and that the completeness check bundle.sh runs for each target (scripts/bundle/wheelset.py)
adds pywin32 for Windows, which ``pip download --platform win_amd64`` leaves out.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO

BUNDLE_SH = REPO / "scripts" / "bundle.sh"
TEMPLATES = REPO / "scripts" / "bundle"
NO_INDEX = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_NO_INDEX": "1"}  # nothing answers on port 9


def _wheelset():
    spec = importlib.util.spec_from_file_location("bundle_wheelset", TEMPLATES / "wheelset.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _run(args, *, env=None, cwd=None, timeout=900) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, encoding="utf-8",
                          errors="replace", env=env, cwd=cwd, timeout=timeout)
    assert proc.returncode == 0, f"{args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bundle folder, venv folder, work folder): the Linux bundle built and installed offline."""
    work = tmp_path_factory.mktemp("bundle")
    bundle = work / "离线 安装包"  # a space and Chinese characters on purpose
    elsewhere = work / "别处"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_NO_INDEX")}
    started = time.monotonic()
    _run(["bash", BUNDLE_SH, "--linux-only", bundle], env={**env, "PYTHON": sys.executable}, cwd=elsewhere,
         timeout=1800)
    built = time.monotonic()
    venv = work / "虚拟 环境"
    install_env = {**env, **NO_INDEX, "PYTHON": sys.executable}
    # from another folder: install.sh finds its wheels itself; it creates the venv (python -m venv)
    first = _run(["bash", bundle / "install.sh", venv], env=install_env, cwd=elsewhere)
    # again, into the venv's python: already satisfied, only xl_duban itself is reinstalled
    _run(["bash", bundle / "install.sh", "--python", venv / "bin" / "python"], env=install_env, cwd=elsewhere)
    print(f"\nbundle.sh --linux-only: {built - started:.1f} s; install.sh twice: {time.monotonic() - built:.1f} s")
    return bundle, venv, work, first.stdout


@pytest.mark.slow  # downloads the Linux wheels for this interpreter (~70 MB; cached by pip afterwards)
def test_linux_bundle_installs_offline_and_runs(installed):
    bundle, venv, work, install_log = installed
    wheels = sorted(p.name for p in (bundle / "wheels").iterdir())
    assert wheels and all(name.endswith(".whl") for name in wheels), wheels  # no sdist left to build
    assert any(name.startswith("xl_duban-") for name in wheels)
    assert not any("win_amd64" in name for name in wheels)
    # pip took every package from the bundle, nowhere else
    processed = [line for line in install_log.splitlines() if line.startswith("Processing ")]
    assert processed and all("离线 安装包/wheels/" in line for line in processed), processed
    assert "安装完成" in install_log

    bat = (bundle / "install.bat").read_bytes()
    assert b"\r\n" in bat and b"\n" not in bat.replace(b"\r\n", b""), "install.bat must have CRLF line ends"
    for name in ("install.bat", "install.sh", "说明.txt"):
        assert not re.search(r"@[A-Z_]+@", (bundle / name).read_text(encoding="utf-8-sig")), name
    assert (bundle / "说明.txt").read_bytes().startswith(b"\xef\xbb\xbf")  # Notepad reads it as UTF-8
    assert os.access(bundle / "install.sh", os.X_OK)

    duban = venv / "bin" / "duban"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(NO_INDEX, PYTHONIOENCODING="utf-8")
    where = _run([venv / "bin" / "python", "-c", "import xl_duban; print(xl_duban.__file__)"], env=env, cwd=work)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout  # the installed copy, not the repo
    help_ = _run([duban, "--help"], env=env, cwd=work)
    assert "init" in help_.stdout
    ledger = work / "台账.xlsx"
    _run([duban, "init", "2024", ledger], env=env, cwd=work)
    assert ledger.is_file() and zipfile.is_zipfile(ledger)
    sheets = _run([venv / "bin" / "python", "-c",
                   "import json, sys, openpyxl; print(json.dumps(openpyxl.load_workbook(sys.argv[1]).sheetnames))",
                   ledger], env=env, cwd=work)
    assert "任务台账" in json.loads(sheets.stdout)


@pytest.mark.slow
def test_installed_bundle_creates_the_macro_ledger_and_builds_the_same_template(installed):
    """The template and its VBA sources travel in the wheel (package ``workbooks``)."""
    _bundle, venv, work, _log = installed
    ledger = work / "带功能区的台账.xlsm"
    env = {**os.environ, **NO_INDEX, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run([str(venv / "bin" / "duban"), "init", "2024", str(ledger)], capture_output=True,
                          text=True, encoding="utf-8", errors="replace", cwd=work, timeout=300, env=env)
    assert proc.returncode == 0 and ledger.is_file(), proc.stdout + proc.stderr
    built = work / "模板.xlsm"
    proc = subprocess.run([str(venv / "bin" / "duban"), "template", "build", "--out", str(built)], capture_output=True,
                          text=True, encoding="utf-8", errors="replace", cwd=work, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert built.read_bytes() == (REPO / "workbooks" / "template.xlsm").read_bytes()


def test_installers_use_only_the_bundle():
    bat = (TEMPLATES / "install.bat").read_text(encoding="utf-8")
    sh = (TEMPLATES / "install.sh").read_text(encoding="utf-8")
    assert bat.splitlines()[0] == "@echo off"
    assert bat.splitlines()[4] == "chcp 65001 >nul"  # the file is UTF-8: no Chinese before this line
    assert all(line.isascii() for line in bat.splitlines()[:5])
    assert 'set "HERE=%~dp0"' in bat and 'set "WHEELS=%HERE%wheels"' in bat
    for text, wheels in ((bat, '"%WHEELS%"'), (sh, '"$WHEELS"')):
        installs = [line for line in text.splitlines() if "pip install" in line]
        assert len(installs) == 2
        for line in installs:
            assert "--no-index" in line and f"--find-links {wheels}" in line, line
        assert not re.search(r"--(extra-)?index-url|\s-i\s", text)
    assert 'HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)' in sh


def test_windows_set_gets_what_its_markers_require(tmp_path):
    """pip download --platform win_amd64 on Linux evaluates markers for Linux: the completeness
    check evaluates them for Windows (and the Python version) and names what is missing."""
    wheelset = _wheelset()
    xlwings_meta = importlib.metadata.distribution("xlwings").read_text("METADATA")
    assert re.search(r"^Requires-Dist: pywin32.*Windows", xlwings_meta, re.M)

    def wheel(filename: str, metadata: str) -> None:
        name, version = filename.split("-")[:2]
        with zipfile.ZipFile(tmp_path / filename, "w") as zf:
            zf.writestr(f"{name}-{version}.dist-info/METADATA", metadata)

    wheel("xl_duban-0.1.0-py3-none-any.whl", "Metadata-Version: 2.1\nName: xl_duban\nVersion: 0.1.0\n"
          "Requires-Dist: xlwings>=0.33\nRequires-Dist: backport; python_version < \"3.12\"\n")
    wheel("xlwings-0.37.8-cp311-cp311-win_amd64.whl", xlwings_meta)
    wheel("xlwings-0.37.8-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", xlwings_meta)
    wheel("backport-1.0-py3-none-any.whl", "Metadata-Version: 2.1\nName: backport\nVersion: 1.0\n")

    win = wheelset.resolve(tmp_path, ["xl_duban"], "win_amd64", "3.11")
    assert [m.split(">")[0] for m in win.missing] == ["pywin32"], win.missing
    assert not wheelset.resolve(tmp_path, ["xl_duban"], "linux_x86_64", "3.11").missing
    # a cp311 wheel is no wheel for 3.12, and the python_version marker drops backport there
    win312 = wheelset.resolve(tmp_path, ["xl_duban"], "win_amd64", "3.12")
    assert win312.missing == ["xlwings>=0.33"] and "backport" not in win312.chosen

    wheel("pywin32-312-cp311-cp311-win_amd64.whl", "Metadata-Version: 2.1\nName: pywin32\nVersion: 312\n")
    done = wheelset.resolve(tmp_path, ["xl_duban"], "win_amd64", "3.11")
    assert not done.missing and not done.conflicts
    assert sorted(done.chosen) == ["backport", "pywin32", "xl-duban", "xlwings"]


def test_bundle_script_completes_every_windows_target():
    """bundle.sh runs the completeness check for each target, Windows 3.11 and 3.12 included."""
    script = BUNDLE_SH.read_text(encoding="utf-8")
    assert re.search(r'^\s*WINDOWS_PYTHONS="3\.12 3\.11"$', script, re.M)
    assert re.search(r"^for v in \$WINDOWS_PYTHONS; do bundle_target win_amd64", script, re.M)
    assert '"$TEMPLATES/wheelset.py" missing --dir "$W" --target "$target"' in script
    proc = subprocess.run([sys.executable, TEMPLATES / "wheelset.py", "platforms", "--glibc", "2.28"],
                          capture_output=True, text=True, check=True)
    platforms = proc.stdout.split()
    assert platforms[0] == "manylinux_2_28_x86_64" and "manylinux2014_x86_64" in platforms
