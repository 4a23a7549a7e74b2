"""Drive a real LibreOffice Calc the way a unit clerk would: open a workbook, type into cells, save.

    from tests.office import Office, LockedCellError, office  # noqa: F401  (``office`` is a fixture)

    def test_something(office: Office, tmp_path):
        office.fill(src, [("反馈表", "C3", "已完成"), ("反馈表", "E3", 0.75)],
                    out_xlsx=tmp_path / "out.xlsx", out_xls=tmp_path / "out.xls")

``Office`` starts ONE ``soffice --headless`` with a private temporary profile, listening on a free local port,
and kills its process group on exit. The venv python has no ``uno``: the UNO work runs in ``office_uno.py``
under the system python (``/usr/bin/python3`` with Debian's ``python3-uno``), one short subprocess per call.
Every wait has a time limit, so a hung office fails a test instead of hanging the run.

Cells are written WITHOUT unprotecting the sheet. LibreOffice's API does not enforce sheet protection (it
accepts writes into locked cells), so ``fill`` checks ``isProtected()`` / ``CellProtection.IsLocked`` itself
and raises ``LockedCellError`` before anything is written or saved.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import IO, Iterator, Sequence, Union

import pytest

from .processes import end_group, free_port, group_alive  # noqa: F401  (group_alive: used by tests)

UNO_SCRIPT = Path(__file__).with_name("office_uno.py")
UNO_PYTHON = "/usr/bin/python3"
XLSX_FILTER = "Calc MS Excel 2007 XML"
XLS_FILTER = "MS Excel 97"
ODS_FILTER = "calc8"
START_TIMEOUT = 60.0  # seconds for soffice to accept UNO connections
OP_TIMEOUT = 120.0  # seconds per fill (open, edit, save, close)

Value = Union[str, int, float]
Edit = tuple[str, str, Value]


class OfficeError(RuntimeError):
    """LibreOffice could not be started, or could not do what was asked."""


class OfficeTimeout(OfficeError):
    """LibreOffice did not answer in time (it is killed and restarted on the next call)."""


class LockedCellError(OfficeError):
    """An edit targets a locked cell of a protected sheet: a clerk could not type there."""


# -- availability ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def office_unavailable_reason(uno_python: str = UNO_PYTHON) -> str | None:
    """Why a real office cannot be driven here, or None when it can."""
    if shutil.which("soffice") is None:
        return "`soffice` not found on PATH (install libreoffice-calc-nogui)"
    if not os.access(uno_python, os.X_OK):
        return f"{uno_python} not found (the UNO bridge needs the system python with python3-uno)"
    try:
        proc = subprocess.run([uno_python, "-I", "-c", "import uno"], capture_output=True, text=True, timeout=30,
                              env=_system_python_env())
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{uno_python} -c 'import uno' failed: {exc}"
    if proc.returncode != 0:
        return f"{uno_python} cannot import uno (install python3-uno): {proc.stderr.strip()[-300:]}"
    return None


def office_available() -> bool:
    """True when soffice and a system python with ``uno`` are installed."""
    return office_unavailable_reason() is None


def _system_python_env() -> dict[str, str]:
    """The environment for the system python: nothing of the venv leaks in."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    env["PYTHONIOENCODING"] = "utf-8"
    return env








def _check_edits(edits: Sequence[Edit]) -> list[list]:
    out = []
    for i, edit in enumerate(edits):
        if not (isinstance(edit, (tuple, list)) and len(edit) == 3):
            raise TypeError(f"edit #{i} must be (sheet, cell, value), got {edit!r}")
        sheet, cell, value = edit
        if not isinstance(sheet, str) or not isinstance(cell, str):
            raise TypeError(f"edit #{i}: sheet and cell must be strings, got {edit!r}")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise TypeError(f"edit #{i}: value must be str, int or float, not {type(value).__name__}")
        out.append([sheet, cell, value])
    return out


# -- the office ------------------------------------------------------------------------------------------------
class Office:
    """One headless LibreOffice for many ``fill`` calls. Use as a context manager."""

    def __init__(self, *, soffice: str | None = None, uno_python: str = UNO_PYTHON,
                 start_timeout: float = START_TIMEOUT, op_timeout: float = OP_TIMEOUT) -> None:
        self.soffice = soffice or shutil.which("soffice") or "soffice"
        self.uno_python = uno_python
        self.start_timeout = start_timeout
        self.op_timeout = op_timeout
        self.port: int | None = None
        self._proc: subprocess.Popen | None = None
        self._workdir: Path | None = None
        self._log: IO[bytes] | None = None

    # lifecycle
    def __enter__(self) -> "Office":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self.stop()  # clean up a dead instance first
        self._workdir = Path(tempfile.mkdtemp(prefix="xl-duban-office-"))
        profile = self._workdir / "profile"
        self.port = free_port()
        self._log = open(self._workdir / "soffice.log", "wb")
        args = [self.soffice, "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
                "--nolockcheck", f"-env:UserInstallation={profile.as_uri()}",
                f"--accept=socket,host=127.0.0.1,port={self.port};urp;"]
        try:
            self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log,
                                          stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            self.stop()
            raise OfficeError(f"cannot start {self.soffice}: {exc}") from exc
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self) -> None:
        assert self._proc is not None and self.port is not None
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._proc.poll() is not None:
                raise OfficeError(f"soffice exited with {self._proc.returncode} while starting\n{self._log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                pass
            if time.monotonic() >= deadline:
                raise OfficeTimeout(f"soffice did not listen on port {self.port} within {self.start_timeout:.0f} s"
                                    f"\n{self._log_tail()}")
            time.sleep(0.1)
        left = max(5.0, deadline - time.monotonic())
        self._call({"action": "ping", "timeout": left}, timeout=left + 10)

    def stop(self) -> None:
        if self._proc is not None:
            end_group(self._proc)
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def _log_tail(self, chars: int = 2000) -> str:
        if self._workdir is None:
            return ""
        try:
            text = (self._workdir / "soffice.log").read_text(errors="replace")
        except OSError:
            return ""
        return f"soffice output: {text[-chars:]}" if text.strip() else "soffice printed nothing"

    # work
    def _call(self, job: dict, *, timeout: float) -> dict:
        """Run one job in the system python; return its answer or raise."""
        job = {**job, "port": self.port}
        helper = subprocess.Popen([self.uno_python, "-I", str(UNO_SCRIPT)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                                  env=_system_python_env())
        try:
            out, err = helper.communicate(json.dumps(job).encode("ascii"), timeout=timeout)
        except subprocess.TimeoutExpired:
            end_group(helper, grace=0)
            self.stop()  # its state is unknown now; the next call starts a fresh one
            raise OfficeTimeout(f"LibreOffice did not finish {job['action']!r} within {timeout:.0f} s "
                                f"(killed; it restarts on the next call)") from None
        lines = out.decode("utf-8", "replace").strip().splitlines()
        try:
            answer = json.loads(lines[-1]) if lines else None
        except json.JSONDecodeError:
            answer = None
        if helper.returncode == 0 and isinstance(answer, dict) and answer.get("ok"):
            return answer
        detail = (answer or {}).get("message") or "no answer"
        if (answer or {}).get("kind") == "locked":
            raise LockedCellError(detail)
        extra = err.decode("utf-8", "replace").strip()
        dead = "" if self.running else f"\nsoffice is no longer running\n{self._log_tail()}"
        raise OfficeError(f"LibreOffice {job['action']} failed (exit {helper.returncode}): {detail}"
                          + (f"\n{answer['traceback']}" if (answer or {}).get("traceback") else "")
                          + (f"\nstderr: {extra[-2000:]}" if extra else "") + dead)

    def fill(self, src: Path, edits: Sequence[Edit], out_xlsx: Path | None = None,
             out_xls: Path | None = None, out_ods: Path | None = None) -> None:
        """Open ``src`` hidden, type ``edits`` (sheet, A1 cell, str | int | float) and save.

        Strings are typed with ``setString`` (always text, so "=1+1" stays text), numbers with ``setValue``.
        Saves as .xlsx ("Calc MS Excel 2007 XML"), .xls ("MS Excel 97") and/or .ods ("calc8"); ``src`` itself is not changed.
        Existing output files are replaced; after any error none of the requested outputs exists.
        Raises LockedCellError for a locked cell of a protected sheet, OfficeError for anything else.
        """
        src = Path(src).resolve()
        if not src.is_file():
            raise FileNotFoundError(src)
        outputs = [(Path(p).resolve(), f) for p, f in ((out_xlsx, XLSX_FILTER), (out_xls, XLS_FILTER), (out_ods, ODS_FILTER)) if p]
        if not outputs:
            raise ValueError("give out_xlsx, out_xls and/or out_ods")
        if any(p == src for p, _ in outputs) or len({p for p, _ in outputs}) != len(outputs):
            raise ValueError("output paths must differ from src and from each other")
        job = {"action": "fill", "timeout": 30, "src": str(src), "edits": _check_edits(edits),
               "outputs": [[str(p), f] for p, f in outputs]}
        for p, _ in outputs:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.unlink(missing_ok=True)
        self.start()  # no-op when running; restarts after a timeout or crash
        # a soffice killed while loading leaves its lock file beside the source; a fresh soffice
        # then refuses to open the file headless (loadComponentFromURL returns None)
        (src.parent / f".~lock.{src.name}#").unlink(missing_ok=True)
        try:
            self._call(job, timeout=self.op_timeout)
        except BaseException:
            for p, _ in outputs:
                p.unlink(missing_ok=True)
            raise
        missing = [str(p) for p, _ in outputs if not (p.is_file() and p.stat().st_size > 0)]
        if missing:
            raise OfficeError(f"LibreOffice reported success but wrote no {missing}")


# -- pytest ----------------------------------------------------------------------------------------------------
def require_office() -> None:
    """Skip the calling test when no office can be driven here; fail instead when the CI variable is set."""
    reason = office_unavailable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {reason}; real-office tests must run in CI", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def office() -> Iterator[Office]:
    """One LibreOffice for the session; skipped when missing, a failure when the CI variable is set."""
    require_office()
    with Office() as instance:
        yield instance
