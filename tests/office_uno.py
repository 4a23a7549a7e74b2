"""UNO side of ``tests/office.py``: runs under the SYSTEM python (``/usr/bin/python3``), never the venv.

The venv has no ``uno`` module, so ``tests.office.Office`` starts this script in a subprocess, writes one
JSON job to its stdin and reads one JSON line from its stdout::

    {"action": "ping", "port": 2002, "timeout": 30}
    {"action": "fill", "port": 2002, "timeout": 30, "src": "/abs/in.xlsx",
     "edits": [["反馈表", "C3", "text"], ["反馈表", "E3", 0.75]],
     "outputs": [["/abs/out.xlsx", "Calc MS Excel 2007 XML"], ["/abs/out.xls", "MS Excel 97"]]}

Answer: ``{"ok": true, ...}`` with exit status 0, or ``{"ok": false, "kind": ..., "message": ...}`` with a non-zero
exit status (``kind`` is ``"locked"`` for a write into a locked cell of a protected sheet, else ``"error"``).
Standard library + ``uno`` only; keep it that way.
"""

from __future__ import annotations

import json
import re
import sys
import time
import traceback

EXIT_ERROR = 1
EXIT_LOCKED = 3
CELL_RE = re.compile(r"^\$?[A-Z]{1,3}\$?[1-9][0-9]{0,6}$")


class JobError(Exception):
    kind = "error"
    code = EXIT_ERROR


class LockedCell(JobError):
    kind = "locked"
    code = EXIT_LOCKED


def _props(**kwargs):
    from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

    out = []
    for name, value in kwargs.items():
        p = PropertyValue()
        p.Name, p.Value = name, value
        out.append(p)
    return tuple(out)


def connect(port: int, timeout: float):
    """The remote component context of the soffice listening on 127.0.0.1:port (retried until timeout)."""
    import uno  # type: ignore[import-not-found]
    from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    url = f"uno:socket,host=127.0.0.1,port={int(port)};urp;StarOffice.ComponentContext"
    deadline = time.monotonic() + timeout
    while True:
        try:
            return resolver.resolve(url)
        except NoConnectException as exc:
            if time.monotonic() >= deadline:
                raise JobError(f"no office listening on 127.0.0.1:{port} after {timeout:.0f} s: {exc.Message}")
            time.sleep(0.25)


def desktop_of(ctx):
    return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)


def ping(job: dict) -> dict:
    # touch the desktop so a half-started office fails here, not in the first fill
    desktop = desktop_of(connect(job["port"], job.get("timeout", 30)))
    return {"ok": True, "components": sum(1 for _ in _iterate(desktop.getComponents()))}


def _iterate(enum_access):
    e = enum_access.createEnumeration()
    while e.hasMoreElements():
        yield e.nextElement()


def _target_cells(doc, edits: list) -> list:
    """Resolve and check every edit BEFORE anything is written: (cell, value) pairs."""
    sheets = doc.getSheets()
    resolved = []
    for i, edit in enumerate(edits):
        if not (isinstance(edit, list) and len(edit) == 3):
            raise JobError(f"edit #{i} is not [sheet, cell, value]: {edit!r}")
        sheet_name, address, value = edit
        if not sheets.hasByName(sheet_name):
            raise JobError(f"edit #{i}: no sheet {sheet_name!r} (sheets: {list(sheets.getElementNames())})")
        if not (isinstance(address, str) and CELL_RE.match(address.upper())):
            raise JobError(f"edit #{i}: {address!r} is not a single A1 cell address")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise JobError(f"edit #{i}: value must be str, int or float, not {type(value).__name__}")
        sheet = sheets.getByName(sheet_name)
        cell = sheet.getCellRangeByName(address.upper())
        # LibreOffice's API does not enforce protection: a write into a locked cell of a protected sheet is
        # silently accepted. A clerk could not type there, so refuse it ourselves.
        if sheet.isProtected() and cell.CellProtection.IsLocked:
            raise LockedCell(f"{sheet_name}!{address} is a locked cell of a protected sheet "
                             f"(a user could not type {value!r} there)")
        resolved.append((cell, value))
    return resolved


def fill(job: dict) -> dict:
    import uno  # type: ignore[import-not-found]

    desktop = desktop_of(connect(job["port"], job.get("timeout", 30)))
    src_url = uno.systemPathToFileUrl(job["src"])
    # Hidden: no window; MacroExecutionMode 0 = NEVER_EXECUTE; UpdateDocMode 0 = NO_UPDATE (no link prompts)
    doc = None
    for attempt in range(3):  # a freshly started soffice may refuse the first load for a moment
        doc = desktop.loadComponentFromURL(src_url, "_blank", 0,
                                           _props(Hidden=True, MacroExecutionMode=0, UpdateDocMode=0))
        if doc is not None:
            break
        time.sleep(1)
    if doc is None:
        raise JobError(f"LibreOffice could not open {job['src']}")
    try:
        if not doc.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
            raise JobError(f"{job['src']} did not open as a spreadsheet")
        for cell, value in _target_cells(doc, job["edits"]):
            if isinstance(value, str):
                cell.setString(value)  # always a text cell: "=1+1" stays text, "007" keeps its zeros
            else:
                cell.setValue(float(value))
        written = []
        for path, filter_name in job["outputs"]:
            doc.storeToURL(uno.systemPathToFileUrl(path), _props(FilterName=filter_name, Overwrite=True))
            written.append(path)
        return {"ok": True, "written": written}
    finally:
        try:
            doc.close(True)
        except Exception:  # noqa: BLE001 - a close veto must not hide the real error
            doc.dispose()


def main() -> int:
    try:
        job = json.loads(sys.stdin.read())
        action = {"ping": ping, "fill": fill}.get(job.get("action"))
        if action is None:
            raise JobError(f"unknown action {job.get('action')!r}")
        result = action(job)
        code = 0
    except JobError as exc:
        result, code = {"ok": False, "kind": exc.kind, "message": str(exc)}, exc.code
    except Exception as exc:  # noqa: BLE001 - UNO exceptions carry .Message; report them all the same way
        message = getattr(exc, "Message", "") or str(exc)
        result = {"ok": False, "kind": "error", "message": f"{type(exc).__name__}: {message}",
                  "traceback": traceback.format_exc()}
        code = EXIT_ERROR
    sys.stdout.write(json.dumps(result) + "\n")  # ASCII-only JSON: no locale trouble on the pipe
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
