"""``duban bulletin``: the 通报 or 月报 of a period, its notices and the 约谈名单."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from ..domain.changes import BULLETIN, bulletin_number
from ..domain.findings import Finding, error, warning
from ..domain.issuing import file_safe
from ..domain.lights import is_lit
from ..domain.models import ChangeLogEntry, TaskKind
from .outcome import Outcome, date_argument, period_argument, reports_bad_input
from .session import Store, session


def not_lit(ledger, period, what: str) -> Finding | None:
    """``not-lit`` when 亮灯记录 holds no light of ``period`` (:func:`~xl_duban.domain.lights.is_lit`)."""
    if is_lit(ledger, period):
        return None
    return error("not-lit", f"{period}尚未亮灯，无法生成{what}。", sheet="亮灯记录",
                 hint=f"先运行“亮灯”（duban light --period {period}）。")


def chart_font_missing(what: str) -> Finding:
    """The chart could not be drawn: the document is made without it, and says how to get it."""
    from ..io.bulletin_docs import FONT_PACKAGE

    return warning("chart-font-missing", f"本机没有中文字体，{what}已生成，但不含亮灯情况图表（单位名称会显示为方框）。",
                   hint=f"安装中文字体（Debian/Ubuntu：sudo apt install {FONT_PACKAGE}；Windows 自带微软雅黑）后重新生成{what}。")


@reports_bad_input
def publish_bulletin(ledger_path: Path | Store, period_text: str, out_dir: Path, *, now: datetime,
                     issued_on: date | str | None = None) -> Outcome:
    """``duban bulletin``: the 通报 (quarter, key tasks) or 月报 (month, 民生实事) of P.

    Writes the bulletin document, one 督查整改通知书 per unit with yellow or red items and the
    约谈名单 into ``out_dir``, and the 通报-P / 月报-P sheet into the ledger (one atomic write).
    Every number comes from 亮灯记录 as it stands: run ``light`` first. The documents are dated
    ``issued_on`` (``--date``), else the day they are made: the 成文日期 is the day of signing.
    """
    from ..domain.bulletin import build_bulletin, notices
    from ..domain.lights import LightRules
    from ..io.bulletin_docs import chart_png, write_bulletin_docx, write_bulletin_sheet, write_interview_list_docx, write_notice_docx

    period = period_argument(period_text)
    issued_on = date_argument(issued_on)
    with session(ledger_path, "bulletin", now) as s:
        ledger, findings, settings = s.ledger, s.findings, s.settings
        kind = TaskKind.reporting_in(period)
        unlit = not_lit(ledger, period, "通报")
        if unlit is not None:
            return Outcome(findings=[*findings, unlit])
        sheet = f"{'通报' if kind is TaskKind.key else '月报'}-{period}"
        number, new = bulletin_number(ledger, sheet, settings.first_number)
        issued_on = issued_on or now.date()
        bulletin = build_bulletin(ledger, period, number, settings.similarity, LightRules.of(settings), s.due,
                                  today=issued_on)  # 超期未办结 as of the bulletin's date
        masthead, office = settings.masthead, settings.signing_office
        chart = chart_png(bulletin)
        if chart is None:
            findings.append(chart_font_missing("通报"))
        year = period.year
        doc = write_bulletin_docx(out_dir / f"{masthead}{year}年第{number}期（{period.label}{kind.value}通报）.docx", bulletin,
                                  masthead=masthead, office=office, issued_on=issued_on, chart=chart,
                                  colophon=(settings.bulletin_report_to, settings.bulletin_send_to, settings.bulletin_issue_to))
        rectify_by = s.due.add_workdays(issued_on, settings.rectify_days)
        notice_files = []
        for n, (unit, items) in enumerate(notices(bulletin).items(), 1):
            notice_files.append(str(write_notice_docx(
                out_dir / "整改通知书" / f"{period}_{file_safe(unit)}_督查整改通知书.docx", unit, items, bulletin, office=office,
                issued_on=issued_on, rectify_by=rectify_by, number=f"督整〔{year}〕{number}-{n}号")))
        interviews = write_interview_list_docx(out_dir / f"{period}_约谈名单.docx", bulletin, office=office, issued_on=issued_on,
                                               when=settings.interview_time, where=settings.interview_place,
                                               form=settings.interview_form)
        if new:
            ledger.changelog.append(ChangeLogEntry(time=now, action=BULLETIN, object=sheet, field="期号", new=str(number),
                                                   source=f"duban bulletin --period {period}"))
        s.save(views=[lambda wb: write_bulletin_sheet(wb, bulletin, masthead=masthead, office=office, issued_on=issued_on)],
               always=True)  # the bulletin sheet is its product
        c = bulletin.counts
        summary = {"ledger": str(s.path), "period": str(period), "kind": kind.value, "number": number, "sheet": sheet,
                   "document": str(doc), "notices": notice_files, "interviews": str(interviews),
                   "counts": {"绿灯": c.green, "黄灯": c.yellow, "红灯": c.red, "合计": c.total},
                   "red": [i.task_id for i in bulletin.red], "yellow": [i.task_id for i in bulletin.yellow],
                   "praised": bulletin.praised, "late": bulletin.late, "missing": bulletin.missing,
                   "returned": bulletin.returned, "issued_on": issued_on.isoformat(), "chart": chart is not None,
                   "disagreements": len(bulletin.disagreements),
                   "copied": [{"task": x.task_id, "unit": x.unit, "score": x.score} for x in bulletin.copied],
                   "rectify_by": rectify_by.isoformat()}
        return Outcome(summary=summary, findings=[*findings, *settings.findings("相似度阈值", "整改期限")])
