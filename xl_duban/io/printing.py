"""Print an HTML page to PDF with a program already on the machine.

The public page's PDF must look like the page, so a browser prints it: every Windows 10/11
office PC has Microsoft Edge, which prints headless (``--print-to-pdf``) like Chromium and
Chrome on Linux. Without a browser LibreOffice converts it (a plainer layout); without
either the HTML is still written and the caller says what to install. One lookup for the
programs, shared with ``duban doctor`` (:func:`soffice`).

``XL_DUBAN_PDF_PRINTER`` names the program to use (a path, or ``none`` to print no PDF):
for an office whose browser sits somewhere unusual, and for the tests of the no-browser path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PRINTER_ENV = "XL_DUBAN_PDF_PRINTER"
TIMEOUT = 120  # seconds for one page to print
BROWSER_NAMES = ("msedge", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "microsoft-edge",
                 "microsoft-edge-stable", "chrome")
WINDOWS_BROWSERS = (("Microsoft", "Edge", "Application", "msedge.exe"), ("Google", "Chrome", "Application", "chrome.exe"))


def soffice() -> str | None:
    """LibreOffice's program, on PATH or in its usual Windows folder."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    for base in (os.environ.get("ProgramFiles"), os.environ.get("ProgramFiles(x86)")):
        if base and (Path(base) / "LibreOffice" / "program" / "soffice.exe").is_file():
            return str(Path(base) / "LibreOffice" / "program" / "soffice.exe")
    return None


def browser() -> str | None:
    """A Chromium-family browser (Edge, Chromium, Chrome): on PATH or in its usual Windows folder."""
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for base in (os.environ.get("ProgramFiles(x86)"), os.environ.get("ProgramFiles"), os.environ.get("LOCALAPPDATA")):
        for parts in WINDOWS_BROWSERS:
            if base and Path(base, *parts).is_file():
                return str(Path(base, *parts))
    return None


@dataclass(frozen=True)
class Printer:
    """A program that prints HTML to PDF: ``kind`` browser or libreoffice."""

    kind: str
    program: str

    @property
    def name(self) -> str:
        return Path(self.program).stem


def find_printer() -> Printer | None:
    """The program that will print: ``XL_DUBAN_PDF_PRINTER`` when set (``none``: no program),
    else a browser, else LibreOffice; None when there is none."""
    chosen = os.environ.get(PRINTER_ENV, "").strip()
    if chosen:
        if chosen.lower() == "none":
            return None
        return Printer("libreoffice" if Path(chosen).stem.lower() in ("soffice", "libreoffice") else "browser", chosen)
    found = browser()
    if found:
        return Printer("browser", found)
    found = soffice()
    return Printer("libreoffice", found) if found else None


def print_pdf(html_path: Path, pdf_path: Path, printer: Printer) -> str | None:
    """Print ``html_path`` to ``pdf_path``; None when done, else why not (one line, for a finding).
    The program runs with a fresh profile in a temporary folder, so an open browser or
    LibreOffice window of the user is neither used nor disturbed."""
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="duban-print-") as work:
        if printer.kind == "browser":
            args = [printer.program, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                    "--disable-extensions", "--no-pdf-header-footer", f"--user-data-dir={work}",
                    f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()]
            if hasattr(os, "geteuid") and os.geteuid() == 0:  # Chromium refuses to run as root with its sandbox
                args.insert(1, "--no-sandbox")
            made = pdf_path
        else:
            args = [printer.program, f"-env:UserInstallation={Path(work, 'profile').as_uri()}", "--headless",
                    "--norestore", "--convert-to", "pdf:writer_web_pdf_Export", "--outdir", work, str(html_path)]
            made = Path(work) / (html_path.stem + ".pdf")
        if pdf_path.exists():
            pdf_path.unlink()
        try:
            proc = subprocess.run(args, capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{printer.name} 无法运行（{type(exc).__name__}）"
        if not made.is_file() or made.stat().st_size == 0:
            return f"{printer.name} 未生成 PDF（退出码 {proc.returncode}）"
        if made != pdf_path:
            shutil.move(str(made), pdf_path)
    return None
