"""``duban publish``: the public version (公开版) of a period — an HTML page and its PDF.

Read-only: the ledger is opened under its lock and never saved (the page is made from the
record; making it is not a change to the record)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from ..domain.findings import info, warning
from ..domain.models import TaskKind
from .bulletin import not_lit
from .outcome import Outcome, date_argument, period_argument, reports_bad_input
from .session import Store, session


def page_stem(period_label: str, kind: TaskKind) -> str:
    """The files' name: 2022年第二季度重点任务落实情况（公开版）."""
    return f"{period_label}{kind.value}落实情况（公开版）"


@reports_bad_input
def publish_public(ledger_path: Path | Store, period_text: str, out_dir: Path, *, now: datetime,
                   issued_on: date | str | None = None) -> Outcome:
    """``duban publish``: the page of P (quarter → 重点任务, month → 民生实事) for the government
    website, as a self-contained .html and a .pdf of the same page, into ``out_dir``.

    The statuses are the final lights of 亮灯记录 as they stand: run ``light`` first. Dated
    ``issued_on`` (``--date``), else the day it is made."""
    from ..domain.public import build_public_page
    from ..io.printing import PRINTER_ENV, find_printer, print_pdf
    from ..io.public_page import write_public_html

    period = period_argument(period_text)
    issued_on = date_argument(issued_on)
    with session(ledger_path, "publish", now) as s:
        ledger, findings, settings = s.ledger, list(s.findings), s.settings
        unlit = not_lit(ledger, period, "公开版")
        if unlit is not None:
            return Outcome(findings=[*findings, unlit])
        page = build_public_page(ledger, period, settings, issued_on or now.date())
        stem = page_stem(period.label, page.kind)
        html_path = write_public_html(out_dir / f"{stem}.html", page)
        pdf_path = out_dir / f"{stem}.pdf"
        printer = find_printer()
        pdf = None
        if printer is None:
            if pdf_path.exists():  # an older PDF beside a new page would not be the same page
                pdf_path.unlink()
            findings.append(info("pdf-printer-missing", "本机没有找到可把网页打印为 PDF 的程序，已生成公开版网页，未生成 PDF。",
                                 hint="Windows 自带 Microsoft Edge；Linux 安装 chromium（sudo apt install chromium）或 "
                                      f"LibreOffice 后重新生成；也可用环境变量 {PRINTER_ENV} 指定浏览器程序的位置。"))
        else:
            why = print_pdf(html_path, pdf_path, printer)
            if why is None:
                pdf = pdf_path
            else:
                findings.append(warning("pdf-print-failed", f"公开版网页已生成，但打印 PDF 未成功：{why}。",
                                        hint="用浏览器打开网页后选择“打印 → 另存为 PDF”，或检查该程序能否正常启动。"))
        summary = {"ledger": str(s.path), "period": str(period), "kind": page.kind.value, "title": page.title,
                   "html": str(html_path), "pdf": str(pdf) if pdf else None,
                   "printer": printer.program if printer else None, "tasks": len(page.rows), "counts": page.counts(),
                   "issued_on": page.issued_on.isoformat()}
        return Outcome(summary=summary, findings=[*findings, *settings.findings(
            "公开用语已完成", "公开用语按序时推进", "公开用语进度滞后", "公开用语已办结", "公开用语待更新")])
