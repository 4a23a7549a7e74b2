"""What each button of the 督办 ribbon tab does, over the workbook it was clicked in.

A button runs the same service as the command line, over an
:class:`~xl_duban.io.xlwings_store.XlwingsStore` instead of a file, with the arguments a
clerk would otherwise type chosen by convention: the period from 设置 当前季度/当前月份 or
from today's date (:func:`~xl_duban.domain.periods.working_period`), and folders beside
the ledger (来文, 下发, 发出邮件, 通报, the 收件箱文件夹). Progress goes to Excel's status bar;
the result ends in one Chinese message box. No exception reaches Excel as a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from . import services
from .buttons import BUTTONS as BUTTON_TABLE
from .domain.findings import Finding, count_by_level
from .domain.lights import is_lit
from .domain.models import Ledger
from .domain.periods import Cadence, Period, working_period
from .domain.settings import read_settings
from .errors import LedgerError
from .io.xlwings_store import XlwingsStore
from .reports import summary_lines

SOURCES_DIR = "来文"
ISSUE_DIR = "下发"
MAIL_DIR = "发出邮件"
BULLETIN_DIR = "通报"
SOURCE_SUFFIXES = {".docx", ".xlsx", ".xlsm", ".xls", ".csv"}
SHOWN_FINDINGS = 8


@dataclass
class Pressed:
    """What a button did: the title and lines of its message box, and the outcomes."""

    title: str
    lines: list[str] = field(default_factory=list)
    outcomes: list[services.Outcome] = field(default_factory=list)

    @property
    def message(self) -> str:
        return "\n".join(self.lines)


def button_period(ledger: Ledger, cadence: Cadence, today: date) -> Period:
    """The period a button works on: 设置 当前季度 / 当前月份 when filled in, else the working
    period of today (:func:`~xl_duban.domain.periods.working_period`) within the ledger's year."""
    settings, _ = read_settings(ledger.settings)
    key = "当前季度" if cadence is Cadence.quarterly else "当前月份"
    bad = settings.findings(key)
    if bad:
        raise LedgerError(bad[0].message)
    chosen = settings.current(cadence)
    if chosen is not None:
        return chosen
    return working_period(today, settings.year or today.year, cadence)


def status_bar(app, text: str | None) -> None:
    """Show ``text`` in Excel's status bar (None gives it back to Excel). Engines without a
    status bar (xlwings' remote engine raises NotImplementedError) just do without it."""
    try:
        app.status_bar = text
    except NotImplementedError:
        pass


def _status(book) -> Callable[[str, int, int], None]:
    def report(label: str, done: int, total: int) -> None:
        status_bar(book.app, f"督办：{label} {done}/{max(total, 1)}")
    return report


def _findings_lines(findings: list[Finding]) -> list[str]:
    if not findings:
        return []
    counts = count_by_level(findings)
    lines = ["发现问题：" + "，".join(f"{k} {v} 条" for k, v in counts.items())]
    lines += [f"· {f.location()} {f.text()}" for f in findings[:SHOWN_FINDINGS]]
    if len(findings) > SHOWN_FINDINGS:
        lines.append(f"……另有 {len(findings) - SHOWN_FINDINGS} 条，见【校验结果】或【收集报告】。")
    return lines


def press(button: str, book, *, now: datetime | None = None) -> Pressed:
    """Run one ribbon button over ``book`` and show the result; returns what was shown.

    ``button`` is a key of :data:`BUTTONS`. Errors a clerk can fix (a missing folder, a
    ledger error) are shown as such; anything else is logged with its traceback to a file
    and shown as one sentence telling the clerk not to save: a button that runs two services
    (a quarter and a month) may have written the first one's results into the book."""
    title, run = BUTTONS[button]
    now = now or datetime.now().replace(microsecond=0)
    app = book.app
    status_bar(app, f"督办：{title}……")
    pressed = Pressed(title)
    try:
        store = XlwingsStore(book)
        ledger, _ = store.load()
        for command, outcome in run(store, ledger, book, now):
            pressed.outcomes.append(outcome)
            pressed.lines += summary_lines(command, outcome)
            pressed.lines += _findings_lines(outcome.findings)
        if not pressed.lines:
            pressed.lines = ["已完成，未发现问题。"]
    except LedgerError as exc:  # after what an earlier period of the same button did, if anything
        pressed.lines.append(str(exc))
    except Exception as exc:  # last resort: the traceback goes to a log, the clerk gets one sentence
        from .io.failures import log_failure

        log = log_failure(f"ribbon {button}")
        pressed.lines = [f"程序内部错误（{type(exc).__name__}），本次操作未完成。工作簿中可能已写入部分结果："
                         f"请不要保存，关闭工作簿（不保存）后重新打开再试。详细信息已记录到 {log}"]
    finally:
        status_bar(app, None)
    app.alert(pressed.message, title=f"督办 - {title}")
    return pressed


# -- the buttons ---------------------------------------------------------------------------------
def _validate(store, ledger, book, now):
    yield "validate", services.validate_ledger(store, now=now)


def _import(store, ledger, book, now):
    folder = store.path.parent / SOURCES_DIR
    files = sorted(p for p in folder.glob("*") if p.suffix.lower() in SOURCE_SUFFIXES and not p.name.startswith("~$"))
    if not files:
        raise LedgerError(f"没有找到要导入的文件：请把任务清单、民生实事分解表、单位名录（.docx/.xlsx/.csv）放入台账所在文件夹下的“{SOURCES_DIR}”文件夹。")
    yield "import", services.import_files(store, files, now=now, progress=_status(book))


def _confirm_targets(store, ledger, book, now):
    yield "confirm", services.confirm_node_targets(store, now=now, year=ledger.year or now.year,
                                                   note="督办功能区“确认目标”")


def _each_kind(ledger: Ledger, now: datetime):
    """The working quarter (重点任务) and the working month (民生实事)."""
    return [button_period(ledger, Cadence.quarterly, now.date()), button_period(ledger, Cadence.monthly, now.date())]


def _issue(store, ledger, book, now):
    """Issue the working quarter's and month's forms — once: issuing again would supersede
    forms the units may already be filling in (their returns would then be refused)."""
    issued = {s.period for s in ledger.submissions}
    for period in _each_kind(ledger, now):
        if str(period) in issued:
            yield "skipped", services.Outcome(summary={"line": f"{period} 的反馈表此前已下发，未重复下发"
                                                                 "（确需重新下发请用命令 duban issue）。"})
            continue
        out = store.path.parent / ISSUE_DIR / str(period)
        yield "issue", services.issue_workbooks(store, str(period), out, now=now, progress=_status(book))


def _mail_options(store, ledger, period) -> dict:
    return {"smtp": True} if read_settings(ledger.settings)[0].smtp_host else {"eml_dir": store.path.parent / MAIL_DIR / str(period)}


def _send(store, ledger, book, now):
    for period in _each_kind(ledger, now):
        yield "send", services.send_workbooks(store, str(period), now=now, progress=_status(book),
                                              **_mail_options(store, ledger, period))


def _remind(store, ledger, book, now):
    for period in _each_kind(ledger, now):
        yield "remind", services.remind_units(store, str(period), now=now, **_mail_options(store, ledger, period))


def _collect(store, ledger, book, now):
    """From the IMAP mailbox when one is set up (mail lands in the 收件箱文件夹 first), else
    from the 收件箱文件夹 where the clerk saved the replies."""
    settings, _ = read_settings(ledger.settings)
    if settings.imap_host:
        yield "collect", services.collect_returns(store, [], now=now, imap=True, progress=_status(book))
        return
    inbox = store.path.parent / settings.inbox_folder
    if not inbox.is_dir():
        raise LedgerError(f"没有找到收件文件夹“{inbox}”：请把各单位回复的邮件（.eml）或反馈表（.xlsx）存入该文件夹，"
                          "或在【设置】中填写 IMAP 服务器以便直接从邮箱收取。")
    yield "collect", services.collect_returns(store, [inbox], now=now, progress=_status(book))


def _light(store, ledger, book, now):
    for period in _each_kind(ledger, now):
        yield "light", services.light_up(store, str(period), now=now)


def _bulletin(cadence: Cadence):
    def run(store, ledger, book, now):
        period = button_period(ledger, cadence, now.date())
        yield "bulletin", services.publish_bulletin(store, str(period), store.path.parent / BULLETIN_DIR, now=now)
    return run


PUBLIC_DIR = "公开版"


def _publish(store, ledger, book, now):
    """The public page of the working quarter and month — of each one already lit."""
    for period in _each_kind(ledger, now):
        if not is_lit(ledger, period):
            yield "skipped", services.Outcome(summary={"line": f"{period} 尚未亮灯，未生成公开版（先按“亮灯”）。"})
            continue
        yield "publish", services.publish_public(store, str(period), store.path.parent / PUBLIC_DIR, now=now)


BRIEF_DIR = "领导专报"


def _briefs(store, ledger, book, now):
    """The quarter's 督查专报 (key tasks: the leaders' portfolios) beside the ledger."""
    period = button_period(ledger, Cadence.quarterly, now.date())
    yield "brief", services.brief_leaders(store, str(period), store.path.parent / BRIEF_DIR, now=now)


SCORE_DIR = "考核"


def _score(store, ledger, book, now):
    yield "score", services.score_units(store, None, out_dir=store.path.parent / SCORE_DIR, now=now)


def _rollover(store, ledger, book, now):
    """Next year's ledger beside this one, from the file as saved (the open book is not read:
    what Excel has not saved yet is not in it — the message says so)."""
    year = (ledger.year or now.year) + 1
    target = store.path.parent / f"{year}年督查台账{store.path.suffix or '.xlsx'}"
    outcome = services.rollover_ledger(store.path, target, year, carry=True, now=now)
    if outcome.summary:
        outcome.summary["note"] = "按已保存的台账文件生成；本台账尚未保存的修改不在新台账中。"
    yield "rollover", outcome


def _doctor(store, ledger, book, now):
    """``duban doctor`` over this book: open in Excel by definition, so no ``~$`` check."""
    yield "doctor", services.check_environment(store, now=now)


# what each button of xl_duban.buttons.BUTTONS runs, by key (tests/test_buttons.py: the same keys)
RUNS: dict[str, Callable] = {
    "validate": _validate,
    "import_tasks": _import,
    "issue": _issue,
    "send": _send,
    "collect": _collect,
    "confirm_targets": _confirm_targets,
    "remind": _remind,
    "light": _light,
    "quarterly_bulletin": _bulletin(Cadence.quarterly),
    "monthly_bulletin": _bulletin(Cadence.monthly),
    "publish": _publish,
    "leader_briefs": _briefs,
    "score": _score,
    "rollover": _rollover,
    "doctor": _doctor,
}

# key -> (title, run), in ribbon order; keys and titles come from the button table
BUTTONS: dict[str, tuple[str, Callable]] = {b.key: (b.label, RUNS[b.key]) for b in BUTTON_TABLE}
