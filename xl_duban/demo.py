"""``duban demo``: a realistic half year built from the bundled 2022 documents of the real process.

The demo goes through the same doors a clerk uses: it writes the Word attachments as the
office receives them (with a header row repeated at page breaks, padded and wrapped names),
a unit directory workbook, then runs ``init``, ``import`` and ``validate``. It then plays
the year with simulated units (:mod:`xl_duban.simulation`): the 季度 and 月度目标安排表 go out
and come back, the office confirms the targets, then six monthly 民生实事 rounds and two
quarterly key-task rounds run, in date order, issue → send (.eml) → returns (most on time,
some late, one missing, one with an edited grey cell, one mailed from another unit's
address, one copying last period's progress) → collect → light → bulletin, so later periods
show red lights, bulletins naming them (one 期号 series), 整改通知书 and the 约谈名单; 2022Q2 also
gets its public version (公开版) for the government website.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path

from openpyxl import Workbook

from .domain.mail import split_addresses
from .domain.issuing import targets_label
from .domain.models import TaskKind
from .io.ledger_store import BACKUP_DIR, LedgerStore, atomic_save
from .samples import seed_2022_tables, write_tables_docx
from .services import (KIND_ARGUMENTS, Outcome, Progress, brief_leaders, collect_returns, confirm_node_targets, import_files,
                       init_ledger, issue_workbooks, light_up, publish_bulletin, publish_public, rollover_ledger, score_units,
                       send_workbooks,
                       validate_ledger)
from .simulation import reply_eml, simulate_round, simulate_targets

DEMO_YEAR = 2022
LEDGER_NAME = f"{DEMO_YEAR}年督查台账.xlsx"
OFFICE_MAIL = "duchashi@yuancheng.example"
WORK_DIRS = ("下发", "发出邮件", "收件箱", "单位端（模拟）", "通报", "公开版", "领导专报", "考核", "archive", "quarantine")
PUBLIC_PERIODS = ("2022Q2",)  # the public version (公开版) the demo writes: the half year's last quarter
NEXT_LEDGER_NAME = f"{DEMO_YEAR + 1}年督查台账.xlsx"
YEAR_END_AT = datetime(2022, 7, 20, 9, 0)  # after the second quarter's bulletin: the half year's 考核
TARGETS_AT = (datetime(2022, 1, 10, 9, 0), datetime(2022, 1, 14, 10, 30), datetime(2022, 1, 18, 9, 0))
DEMO_MONTHS = 6  # 民生实事 rounds 2022-01 … 2022-06, alongside the two quarters
ROUNDS = (("2022Q1", datetime(2022, 3, 25, 9, 0), datetime(2022, 4, 15, 9, 0)),
          ("2022Q2", datetime(2022, 6, 24, 9, 0), datetime(2022, 7, 15, 9, 0)))


def write_unit_directory(path: Path, *, now: datetime) -> Path:
    """The bundled 单位名录 as the .xlsx a clerk would keep."""
    wb = Workbook()
    ws = wb.active
    ws.title = "单位名录"
    text = resources.files("xl_duban.data").joinpath("units2022.csv").read_text(encoding="utf-8")
    for row in csv.reader(text.splitlines()):
        ws.append(row)
    atomic_save(wb, path, now=now)
    return path


def build_ledger(out_dir: Path, *, now: datetime, progress: Progress | None = None) -> tuple[Path, list[Path], Outcome, Outcome]:
    """``out_dir``/来文 (the source documents) imported into a fresh ``out_dir``/2022年督查台账.xlsx
    and validated; returns (ledger, sources, import outcome, validation outcome)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    inbox = out_dir / "来文"
    tables = seed_2022_tables()
    sources = [
        write_unit_directory(inbox / "单位名录.xlsx", now=now),
        write_tables_docx([tables["附件2"]], inbox / "附件2 2022年区政府工作报告督查重点任务清单.docx", repeat_header_every=30),
        write_tables_docx([tables["附件3"]], inbox / "附件3 2022年区十件民生实事任务分解表.docx"),
    ]
    ledger_path = out_dir / LEDGER_NAME
    _put_away_previous_run(out_dir, ledger_path, now)
    init_ledger(ledger_path, DEMO_YEAR, now=now)
    imported = import_files(ledger_path, sources, now=now, progress=progress)
    return ledger_path, sources, imported, validate_ledger(ledger_path, now=now)


def run_demo(out_dir: Path, *, now: datetime, progress: Progress | None = None) -> Outcome:
    """Build the demo ledger from its source documents, then play the year (:func:`play_year`)."""
    ledger_path, sources, imported, checked = build_ledger(out_dir, now=now, progress=progress)
    ledger, _ = LedgerStore(ledger_path).load()
    key = [t for t in ledger.tasks if t.kind == TaskKind.key.value]
    livelihood = [t for t in ledger.tasks if t.kind == TaskKind.livelihood.value]
    summary = {
        "ledger": str(ledger_path),
        "sources": [str(p) for p in sources],
        "key_tasks": len(key),
        "livelihood_projects": sum(1 for t in livelihood if t.parent_id is None),
        "livelihood_subitems": sum(1 for t in livelihood if t.parent_id is not None),
        "units": len(ledger.units),
        "leaders": sorted({name for t in ledger.tasks for name in t.leaders}),
        "import_findings": len(imported.findings),
        "validation": checked.summary["counts"],
    }
    findings = imported.findings + checked.findings
    if not imported.unreadable:
        summary["rounds"] = play_year(out_dir, ledger_path, progress)
        summary["year_end"] = year_end(out_dir, ledger_path)
    return Outcome(summary=summary, findings=findings, unreadable=imported.unreadable)


def _put_away_previous_run(out_dir: Path, ledger_path: Path, now: datetime) -> None:
    """The demo starts afresh; an earlier run's ledger and folders go to the backups, never deleted."""
    earlier = [p for p in (ledger_path, out_dir / NEXT_LEDGER_NAME, *(out_dir / d for d in WORK_DIRS)) if p.exists()]
    if not earlier:
        return
    target = out_dir / BACKUP_DIR / f"上次演示-{now:%Y%m%d-%H%M%S-%f}"
    target.mkdir(parents=True)
    for path in earlier:
        shutil.move(str(path), str(target / path.name))


def _step(progress: Progress | None, label: str, done: int, total: int) -> None:
    if progress:
        progress(label, done, total)


def schedule() -> list[tuple[str, datetime]]:
    """The demo's feedback rounds in the order the office runs them: 民生实事 every month
    (issued around the 25th), key tasks every quarter (issued with that month's round)."""
    months = [(f"{DEMO_YEAR}-{m:02d}", datetime(DEMO_YEAR, m, 25 if m != 6 else 24, 9, 0)) for m in range(1, DEMO_MONTHS + 1)]
    quarters = [(period, issued_at) for period, issued_at, _collect in ROUNDS]
    return sorted(months + quarters, key=lambda r: (r[1], "Q" in r[0]))


LONG_TASK = 80  # characters: a task the clerk gives a 任务简称


def clerk_short_name(content: str) -> str:
    """The 任务简称 the demo's clerk types for a long task: its heading (the words before the
    first ：), else its first clause, when that is short enough to be a name; nothing otherwise."""
    text = "".join(content.split())
    if len(text) <= LONG_TASK:
        return ""
    for mark in "：:，。；":
        head = text.split(mark, 1)[0]
        if 4 <= len(head) <= 30 and head != text:
            return head
    return ""


def play_year(out_dir: Path, ledger_path: Path, progress: Progress | None = None) -> list[dict]:
    """The targets rounds, then every feedback round of :func:`schedule`: issue → send →
    simulated returns → collect → light → bulletin."""
    store = LedgerStore(ledger_path)
    ledger, _ = store.load()
    ledger.set_setting("发件人", OFFICE_MAIL)
    for task in ledger.tasks:  # the clerk names the long tasks, as the bulletin's tables print them
        task.short_name = task.short_name or clerk_short_name(task.content)
    store.save(ledger, now=TARGETS_AT[0])
    emails = {u.name: (split_addresses(u.email) or ("",))[0] for u in ledger.units}
    rounds = [_targets_round(out_dir, ledger_path, kind, emails) for kind in (TaskKind.key, TaskKind.livelihood)]
    plan = schedule()
    collect_days = {period: collect_at for period, _issued, collect_at in ROUNDS}
    previous: dict[str, dict[str, dict[str, str]]] = {}
    for n, (period, issued_at) in enumerate(plan):
        _step(progress, f"{period} 下发、填报、收集、亮灯、通报", n, len(plan))
        kind = TaskKind.key if "Q" in period else TaskKind.livelihood
        rounds.append(_feedback_round(out_dir, ledger_path, period, issued_at, collect_days.get(period), emails, previous, kind))
    _step(progress, "完成", len(plan), len(plan))
    return rounds


def _targets_round(out_dir: Path, ledger_path: Path, kind: TaskKind, emails: dict[str, str]) -> dict:
    """The 目标安排表 of ``kind`` out and back; the office confirms what came back."""
    label = targets_label(DEMO_YEAR, kind)
    issued = issue_workbooks(ledger_path, str(DEMO_YEAR), out_dir / "下发" / label, now=TARGETS_AT[0], targets=True,
                             kind_text=next(k for k, v in KIND_ARGUMENTS.items() if v == kind))
    files = {w["unit"]: Path(w["file"]) for w in issued.summary["workbooks"]}
    replies = simulate_targets(files, kind, DEMO_YEAR, TARGETS_AT[1], emails, out_dir / "单位端（模拟）" / label)
    for reply in replies:
        reply_eml(reply, OFFICE_MAIL, out_dir / "收件箱" / label)
    collected = collect_returns(ledger_path, [out_dir / "收件箱" / label], now=TARGETS_AT[2])
    confirmed = _confirm_targets(ledger_path, TARGETS_AT[2].replace(hour=16))
    return {"period": label, "issued": len(files), "accepted": collected.summary["accepted"],
            "targets_filled": collected.summary["targets_filled"], "confirmed": confirmed}


def _feedback_round(out_dir: Path, ledger_path: Path, period: str, issued_at: datetime, collect_at: datetime | None,
                    emails: dict[str, str], previous: dict[str, dict[str, dict[str, str]]], kind: TaskKind) -> dict:
    """One period: issue, send as .eml, simulated replies, collect (two days after the due
    date unless given), light, bulletin. ``previous`` keeps each kind's last progress texts
    so the simulated copier has something to copy."""
    issued = issue_workbooks(ledger_path, period, out_dir / "下发" / period, now=issued_at)
    files = {w["unit"]: Path(w["file"]) for w in issued.summary["workbooks"]}
    sent = send_workbooks(ledger_path, period, now=issued_at.replace(hour=10), eml_dir=out_dir / "发出邮件" / period)
    due = date.fromisoformat(issued.summary["due"])
    replies, roles = simulate_round(files, period, due, emails, out_dir / "单位端（模拟）" / period, previous.get(kind))
    for reply in replies:
        reply_eml(reply, OFFICE_MAIL, out_dir / "收件箱" / period)
    collect_at = collect_at or datetime.combine(due + timedelta(days=4), datetime.min.time()).replace(hour=9)
    collected = collect_returns(ledger_path, [out_dir / "收件箱" / period], now=collect_at)
    lit = light_up(ledger_path, period, now=collect_at.replace(hour=16))
    published = publish_bulletin(ledger_path, period, out_dir / "通报", now=collect_at + timedelta(days=1))
    public = (publish_public(ledger_path, period, out_dir / "公开版", now=collect_at + timedelta(days=1))
              if period in PUBLIC_PERIODS else None)
    previous[kind] = {r.unit: {t: a["进展情况"] for t, a in r.answers.items()} for r in replies}
    codes: dict[str, list[str]] = {}
    for entry in collected.summary["files"]:
        for code in entry["codes"]:
            if code in ("late-return", "locked-cell-edited", "wrong-unit"):
                codes.setdefault(code, []).append(entry["unit"])
    return {"period": period, "due": issued.summary["due"], "issued": len(files), "mailed": sent.summary["eml"],
            "returned": len(replies), "accepted": collected.summary["accepted"],
            "late": collected.summary["late"], "rejected": collected.summary["rejected"],
            "missing": collected.summary["missing"], "problems": codes,
            "roles": {"missing": roles.missing, "late": list(roles.late), "tampered": roles.tampered,
                      "misrouted": roles.misrouted, "misrouted_via": roles.misrouted_via, "copier": roles.copier},
            "lights": lit.summary["counts"],
            "bulletin": {k: published.summary.get(k) for k in ("number", "document", "red", "yellow", "praised", "notices")},
            **({"public": {k: public.summary.get(k) for k in ("html", "pdf", "tasks")}} if public else {})}


def year_end(out_dir: Path, ledger_path: Path) -> dict:
    """The second quarter's 督查专报 for every leader (``duban brief``), the 考核 of the half
    year played (``duban score --through 2022Q2``), then next year's ledger with the
    unfinished tasks carried over (``duban rollover --carry``)."""
    briefs = brief_leaders(ledger_path, ROUNDS[-1][0], out_dir / "领导专报", now=YEAR_END_AT)
    scored = score_units(ledger_path, DEMO_YEAR, through=ROUNDS[-1][0], out_dir=out_dir / "考核", now=YEAR_END_AT)
    rolled = rollover_ledger(ledger_path, out_dir / NEXT_LEDGER_NAME, DEMO_YEAR + 1, carry=True,
                             now=YEAR_END_AT.replace(hour=10))
    return {"briefs": [{k: b[k] for k in ("leader", "document", "counts")} for b in briefs.summary.get("briefs", [])],
            "score": {k: scored.summary.get(k) for k in ("through", "units", "top", "bottom", "document", "workbook")},
            "rollover": {"ledger": rolled.summary.get("ledger"), "carried": len(rolled.summary.get("carried", []))}}


def _confirm_targets(ledger_path: Path, now: datetime) -> int:
    """The office checks the returned targets and confirms them: ``duban confirm``."""
    confirmed = confirm_node_targets(ledger_path, now=now, year=DEMO_YEAR, by="督查室", note="核对各单位报送的节点目标")
    return len(confirmed.summary["confirmed"])
