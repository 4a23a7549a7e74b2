"""A synthetic year of the supervision office at district, city or province scale.

The ledger is built through the project's own code paths, in memory, the way a year of real
commands would have built it, and written once by :class:`~xl_duban.io.ledger_store.LedgerStore`:

1. ``services.init_ledger`` makes the file (every sheet, table, drop-down and default 设置).
2. The 单位名录 and the task lists go through the importer's mapping and merge
   (``map_unit_table`` / ``merge_units``, ``map_task_table`` / ``merge_tasks``) — what
   ``duban import`` does after reading a file — so 任务台账, 单位名录 and their 变更日志 rows
   (one JSON entry per imported task) are exactly an import's. Task texts and leaders are the
   real 2022 lists (``xl_duban/samples.py``), repeated with a place name in front beyond the
   98 key tasks and 10 民生实事 projects; units are the real 57 plus the same departments of the
   neighbouring counties and more townships.
3. The 季度 and 月度目标安排表 rounds: one issue per lead unit (``domain.changes.record_issue``),
   each unit's targets (``simulation.target_answers``) merged by ``collecting.merge_returns``
   (节点目标, 报送情况, 变更日志), then confirmed by the office as the demo does.
4. Every feedback round in date order — 民生实事 2022-01 … 2022-12 and key tasks 2022Q1 …
   2022Q3 (Q4 is what the benchmark itself issues and collects): issue records, the simulated
   units' answers (``simulation.answers_for``: the same tasks fall behind in the same periods,
   one unit per round does not report, two are late, one copies last period's progress)
   merged by ``merge_returns`` with the 收集文件 log rows ``collect`` writes, the light-up
   (``lights.light_tasks`` with the service's 变更日志 rows) and the bulletin number
   (``bulletin.build_bulletin``; its 通报-P / 月报-P sheet is written into the ledger).

Only the file reading and writing of each round is skipped: returns are built as the records
``collect`` would have made of them, so a province year takes a minute, not hours. The result
is cached under the out dir, keyed by scale and :data:`GENERATOR_VERSION`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import time as clock
import zlib
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Callable

from xl_duban.domain.bulletin import Bulletin, build_bulletin
from xl_duban.domain.collecting import FEEDBACK_FIELDS, Checked, ReturnedFile, SubmissionIndex, merge_returns
from xl_duban.domain.importing import RawRow, RawTable, map_task_table, map_unit_table, merge_tasks, merge_units
from xl_duban.domain.issuing import (Form, IssuedWorkbook, IssueRow, file_name as issue_file_name, make_issue_id, recipients,
                                     target_columns, targets_label)
from xl_duban.domain.lights import normalize_completion, normalize_light
from xl_duban.domain.models import ChangeLogEntry, Feedback, Ledger, NodeTarget, TaskKind
from xl_duban.domain.periods import Cadence, Period, periods_of_year
from xl_duban.domain.units import UnitDirectory
from xl_duban.io.bulletin_docs import write_bulletin_sheet
from xl_duban.io.ledger_store import LedgerStore
from xl_duban.io.views import write_overview
from xl_duban.samples import seed_2022_tables
from xl_duban.domain.changes import BULLETIN, COLLECTED, bulletin_number, confirm_targets, record_issue, relight
from xl_duban.domain.lights import LightRules
from xl_duban.domain.settings import read_settings
from xl_duban.services import TARGETS_DAYS, due_dates, findings_to_rows, init_ledger
from xl_duban.simulation import answers_for, choose_roles, target_answers

GENERATOR_VERSION = 1  # bump when the generated ledger changes, so caches are rebuilt
YEAR = 2022
OFFICE_MAIL = "duchashi@yuancheng.example"
LEDGER_NAME = f"{YEAR}年督查台账.xlsx"

# the benchmark's own round: 2022Q4 issued after the December 民生实事 round, collected after its due date
CYCLE_PERIOD = f"{YEAR}Q4"
CYCLE_ISSUED_AT = datetime(YEAR, 12, 26, 9, 0)
CYCLE_COLLECT_AT = datetime(YEAR + 1, 1, 12, 9, 0)
CYCLE_LIGHT_AT = datetime(YEAR + 1, 1, 12, 16, 0)
CYCLE_BULLETIN_AT = datetime(YEAR + 1, 1, 13, 10, 0)
LAST_MONTH = f"{YEAR}-12"
HISTORY_QUARTERS = (1, 2, 3)

TARGETS_AT = (datetime(YEAR, 1, 10, 9, 0), datetime(YEAR, 1, 14, 10, 30), datetime(YEAR, 1, 18, 9, 0),
              datetime(YEAR, 1, 18, 16, 0))


@dataclass(frozen=True)
class Scale:
    """How big a synthetic year is. ``livelihood_rows`` counts 任务台账 rows of 民生实事
    (projects and their sub-items); a project split into sub-items reports through them."""

    name: str
    key_tasks: int
    livelihood_rows: int
    units: int


SCALES: dict[str, Scale] = {
    # the real 2022 district: 98 key tasks, 10 民生实事 projects (the 8th with 4 sub-items)
    "district": Scale("district", key_tasks=98, livelihood_rows=14, units=40),
    "city": Scale("city", key_tasks=340, livelihood_rows=60, units=100),
    "province": Scale("province", key_tasks=1000, livelihood_rows=200, units=200),
}

COUNTIES = ("东源县", "和平县", "龙川县", "紫金县", "连平县")
PLACES = ("东源县", "和平县", "龙川县", "紫金县", "连平县", "江东新区", "高新区", "源城区", "市直机关", "万绿湖片区", "灯塔盆地")
TOWNS = ("仙塘", "灯塔", "骆湖", "船塘", "顺天", "上莞", "曾田", "柳城", "义合", "蓝口", "黄田", "叶潭", "黄村", "康禾",
         "锡场", "新港", "双江", "涧头", "半江", "漳溪", "古竹", "临江", "热水", "彭寨", "阳明", "礼士", "林寨", "合水",
         "公白", "青州", "浰源", "下车", "鹤市", "车田", "老隆", "佗城", "黄石", "紫城", "龙窝", "贝岭", "优胜", "大湖")
CATEGORIES = ("着力稳增长", "做强实体经济", "推进创新驱动", "扩大有效投资", "优化营商环境", "全面推进乡村振兴",
              "提升城市品质", "增进民生福祉", "守牢安全底线")
DEADLINES = ("2022年12月底前", "2022年12月底前", "2022年6月底前", "2022年9月底前", "2022年12月底前")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁谢曾邓"
GIVEN = ("伟", "芳", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "华",
         "建国", "晓东", "志强", "海燕", "振华", "国平")
COLLECTIVE = "各镇人民政府、街道办事处"


def stable_int(*parts: object) -> int:
    """A number derived from ``parts`` alone (CRC-32), so every choice of the generator repeats."""
    return zlib.crc32("|".join(map(str, parts)).encode("utf-8"))


def _person(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7 + i // len(SURNAMES)) % len(GIVEN)]


# -- source tables ---------------------------------------------------------------------------------
def unit_rows(n: int) -> list[list[str]]:
    """单位名录 rows (单位名称, 别名, 类型, 联系人, 联系电话, 邮箱): the real 57 district units first,
    then the same departments of the neighbouring counties; a fifth of them townships."""
    text = resources.files("xl_duban.data").joinpath("units2022.csv").read_text(encoding="utf-8")
    base = list(csv.reader(text.splitlines()))[1:]
    towns_base = [r for r in base if r[2] == "镇街"]
    depts_base = [r for r in base if r[2] != "镇街"]
    n_town = n // 5
    depts: list[list[str]] = list(depts_base)
    for county in COUNTIES:
        for name, aliases, kind, *_rest in depts_base:
            if name.startswith("区"):
                new = county + name[1:]
                alias = "、".join(county + a[1:] for a in aliases.split("、") if a.startswith("区"))
            elif "源城" in name:
                new, alias = name.replace("源城", county[:2]), ""
            else:
                continue
            depts.append([new, alias, kind])
    towns: list[list[str]] = list(towns_base)
    towns += [[f"{t}镇人民政府", "", "镇街"] for t in TOWNS]
    towns += [[f"{c[:2]}{t}镇人民政府", "", "镇街"] for c in COUNTIES for t in TOWNS]
    chosen = depts[:n - n_town] + towns[:n_town]
    if len(chosen) != n:
        raise ValueError(f"cannot make {n} unit names")
    rows = []
    for i, (name, aliases, kind, *_rest) in enumerate(chosen, 1):
        rows.append([name, aliases, kind, _person(i), f"0762-33{i:05d}", f"unit{i:03d}@yuancheng.example"])
    return rows


def _table(file: str, sheet: str, header: list[str], rows: list[list[str]], context: str = "") -> RawTable:
    return RawTable(file=file, sheet=sheet, context=context,
                    rows=[RawRow(cells=tuple(r), row=i) for i, r in enumerate([header, *rows], 1)])


def key_task_rows(scale: Scale, units: list[str], leaders: list[str]) -> list[list[str]]:
    """附件2-style rows: the real 98 tasks, repeated with a place in front; every unit leads some."""
    seed = seed_2022_tables()["附件2"].rows
    n = len(units)
    rows = []
    for i in range(scale.key_tasks):
        cells = seed[i % len(seed)]
        content = "\n".join(cells[1])
        cycle = i // len(seed)
        if cycle:
            content = f"{PLACES[(cycle - 1) % len(PLACES)]}：{content}"
        leader = "\n".join(cells[2]) if i < len(seed) else leaders[stable_int(i, "leader") % len(leaders)]
        lead = [units[i % n]]
        if i % 33 == 20 and i < len(seed):  # the real list's three tasks for every township
            lead = [COLLECTIVE]
        elif i % 4 == 1:
            lead.append(units[(i * 7 + 3) % n])
            if i % 20 == 5:
                lead.append(units[(i * 11 + 5) % n])
        co = [units[(i * 13 + 7) % n]] if i % 3 == 0 else []
        lead = list(dict.fromkeys(lead))
        co = [u for u in co if u not in lead]
        rows.append([str(i + 1), CATEGORIES[(i // 12) % len(CATEGORIES)], content, leader, "、".join(lead), "、".join(co),
                     DEADLINES[i % len(DEADLINES)], ""])
    return rows


def livelihood_task_rows(scale: Scale, units: list[str], leaders: list[str]) -> list[list[str]]:
    """附件3-style rows: the real 10 projects (the 8th with numbered sub-items in its cell),
    repeated with a place in front, until ``scale.livelihood_rows`` task rows are reached."""
    seed = seed_2022_tables()["附件3"].rows
    n = len(units)
    rows, used, k = [], 0, 0
    while used < scale.livelihood_rows:
        cells = seed[k % len(seed)]
        cycle = k // len(seed)
        content = "\n".join(cells[3])
        subs = sum(1 for line in cells[3] if line[:2].rstrip(".．、").isdigit() and line[1:2] in ".．、")
        need = 1 + (subs if subs >= 2 else 0)
        k += 1
        if used + need > scale.livelihood_rows:
            if k > 10 * len(seed):
                break
            continue
        name = "".join(cells[2])
        if cycle:
            place = PLACES[(cycle - 1) % len(PLACES)]
            name = f"{place}{name}"
            content = "\n".join(f"{line[:2]}{place}{line[2:]}" if line[:2].rstrip(".．、").isdigit() and line[1:2] in ".．、"
                                else line for line in cells[3])
        leader = "\n".join(cells[4]) if cycle == 0 else leaders[stable_int(k, "ms-leader") % len(leaders)]
        lead = [units[(k * 5 + 1) % n]]
        if k % 4 == 0:
            lead.append(units[(k * 9 + 2) % n])
        rows.append([str(len(rows) + 1), "".join(cells[1]), name, content, leader, "、".join(dict.fromkeys(lead)), ""])
        used += need
    return rows


def leader_names(scale: Scale) -> list[str]:
    seed = seed_2022_tables()["附件2"].rows
    names = list(dict.fromkeys(name.replace(" ", "") for r in seed for name in r[2]))
    extra = max(0, scale.units // 12 - len(names))
    return names + [_person(100 + i) for i in range(extra)]


# -- the year ---------------------------------------------------------------------------------------
def _hash(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode("utf-8")).hexdigest()


def _import(ledger: Ledger, scale: Scale, now: datetime) -> dict:
    units = unit_rows(scale.units)
    unit_table = _table("单位名录.xlsx", "单位名录", ["单位名称", "别名", "类型", "联系人", "联系电话", "邮箱"], units)
    mapped, findings = map_unit_table(unit_table)
    merge_units(ledger, mapped, f"duban import 单位名录.xlsx#{_hash(units)}", now)
    names = [u.name for u in ledger.units]
    leaders = leader_names(scale)
    tables = [
        _table(f"附件2 {YEAR}年区政府工作报告督查重点任务清单.docx", "表格1",
               ["序号", "大类", "工作任务", "责任领导", "牵头承办单位", "配合单位", "完成时限", "备注"],
               key_task_rows(scale, names, leaders), context=f"{YEAR}年区《政府工作报告》督查重点任务清单"),
        _table(f"附件3 {YEAR}年区十件民生实事任务分解表.docx", "表格1",
               ["序号", "分类", "项目名称", "工作任务", "分管区领导", "牵头责任单位", "备注"],
               livelihood_task_rows(scale, names, leaders), context=f"{YEAR}年区十件民生实事任务分解表"),
    ]
    for table in tables:
        drafts, table_findings = map_task_table(table, UnitDirectory(ledger.units))
        result = merge_tasks(ledger, drafts, YEAR, f"duban import {table.file}#{_hash(table.rows)}", now)
        findings += table_findings + result.findings
    errors = [f for f in findings if f.level.value == "错误"]
    if errors:
        raise RuntimeError(f"synthetic import failed: {errors[:3]}")
    return {"import_findings": len(findings)}


def _issue_records(ledger: Ledger, label: str, units, issued_at: datetime, due_day: date) -> None:
    submissions = SubmissionIndex(ledger.submissions)
    for unit in units:
        record_issue(ledger, submissions, label, unit, issued_at, due_day)
    for row in ledger.submissions:
        if row.period == label and row.issued_at == issued_at:
            row.send_status = "已生成邮件"  # duban send --eml


def _log_collected(ledger: Ledger, checked: list[Checked], now: datetime) -> None:
    """The 收集文件 rows ``collect`` writes for every accepted file."""
    for c in checked:
        if c.accepted:
            ledger.changelog.append(ChangeLogEntry(time=now, action=COLLECTED, object=c.file.name,
                                                   field=f"{c.issue.period} {c.issue.unit}", new=c.outcome,
                                                   source=f"duban collect {c.file.name}#{c.file.file_hash}"))


def _targets_round(ledger: Ledger, kind: TaskKind) -> int:
    """目标安排表 out and back for ``kind``; the office confirms what came back (as the demo does)."""
    issued_at, received_at, collect_at, confirm_at = TARGETS_AT
    label = targets_label(YEAR, kind)
    due_day = due_dates(ledger).workday_on_or_after(issued_at.date() + timedelta(days=TARGETS_DAYS))
    by_unit = recipients(ledger, kind)
    _issue_records(ledger, label, by_unit, issued_at, due_day)
    columns = dict(target_columns(kind, YEAR))
    checked = []
    for unit, tasks in by_unit.items():
        answers = target_answers([(t.id, t.content) for t in tasks], kind, YEAR)
        issue = IssuedWorkbook(issue_id=make_issue_id(unit, label, kind, issued_at, Form.targets), unit=unit, period=label,
                               kind=kind, issued_at=issued_at, due=due_day.isoformat(), form=Form.targets, year=YEAR,
                               rows=tuple(IssueRow(locked=(t.id, t.content)) for t in tasks))
        targets = [NodeTarget(task_id=task_id, period=str(columns[header]), target=text)
                   for task_id, values in answers.items() for header, text in values.items()]
        checked.append(Checked(file=ReturnedFile(name=issue_file_name(issue), file_hash=_hash(issue.issue_id),
                                                 received_at=received_at), issue=issue, targets=targets))
    merge_returns(ledger, checked, collect_at)
    _log_collected(ledger, checked, collect_at)
    return len(confirm_targets(ledger, confirm_at, "duban demo（督查室核对）").confirmed)


def schedule() -> list[tuple[Period, datetime]]:
    """History rounds in the order the office runs them: 民生实事 every month (issued on the
    25th), key tasks Q1–Q3 (issued on the 24th of the quarter's last month)."""
    months = [(Period(year=YEAR, month=m), datetime(YEAR, m, 25, 9, 0)) for m in range(1, 13)]
    quarters = [(Period(year=YEAR, quarter=q), datetime(YEAR, 3 * q, 24, 9, 0)) for q in HISTORY_QUARTERS]
    return sorted(months + quarters, key=lambda r: r[1])


def round_answers(units: list[str], tasks_of: dict[str, list], period: str, previous: dict | None = None):
    """Each returning unit's answers for ``period`` and when its return arrives (relative to
    the due date): (unit, answers, late, days) — one unit does not report, two are late."""
    roles = choose_roles(units, period)
    out = []
    for unit in units:
        if unit == roles.missing:
            continue
        prev = (previous or {}).get(unit) if unit == roles.copier else None
        answers = answers_for([(t.id, t.content) for t in tasks_of[unit]], period, prev)
        late = unit in roles.late
        days = 2 + stable_int(unit) % 3 if late else -(1 + stable_int(unit) % 4)
        out.append((unit, answers, late, days))
    return out


def _feedback_round(ledger: Ledger, period: Period, issued_at: datetime, previous: dict) -> tuple[datetime, int]:
    """Issue, returns, collect for one period; returns the collect time and the files accepted."""
    kind = TaskKind.reporting_in(period)
    label = str(period)
    due_day = due_dates(ledger)(period)
    by_unit = recipients(ledger, kind)
    _issue_records(ledger, label, by_unit, issued_at, due_day)
    collect_at = datetime.combine(due_day + timedelta(days=4), time(9, 0))
    checked = []
    for unit, answers, _late, days in round_answers(list(by_unit), by_unit, label, previous.get(kind)):
        tasks = by_unit[unit]
        received = datetime.combine(due_day + timedelta(days=days), time(9 + stable_int(unit, "t") % 8, stable_int(unit, "m") % 60))
        issue = IssuedWorkbook(issue_id=make_issue_id(unit, label, kind, issued_at), unit=unit, period=label, kind=kind,
                               issued_at=issued_at, due=due_day.isoformat(), year=YEAR,
                               rows=tuple(IssueRow(locked=(t.id, t.content)) for t in tasks))
        file = ReturnedFile(name=issue_file_name(issue), file_hash=_hash(issue.issue_id, "returned"), received_at=received)
        item = Checked(file=file, issue=issue)
        late = "是" if item.late else "否"
        for task_id, values in answers.items():
            fields = {name: values.get(header, "") for header, name in FEEDBACK_FIELDS}
            completion, light = normalize_completion(fields["completion"]), normalize_light(fields["self_light"])
            fields["completion"] = completion.value if completion else ""
            fields["self_light"] = light.value if light else ""
            item.feedback.append(Feedback(task_id=task_id, period=label, unit=unit, **fields, received_at=received,
                                          late=late, source_file=file.name, file_hash=file.file_hash))
        checked.append(item)
        previous.setdefault(kind, {})[unit] = {t: a["进展情况"] for t, a in answers.items()}
    merge_returns(ledger, checked, collect_at)
    _log_collected(ledger, checked, collect_at)
    return collect_at, len(checked)


def light_in_memory(ledger: Ledger, period: Period, now: datetime) -> int:
    """What ``light_up`` does to the ledger, without the file (:func:`domain.changes.relight`).
    Returns the lights of ``period``."""
    rules = LightRules.of(read_settings(ledger.settings)[0])
    run = relight(ledger, period, due_dates(ledger), rules, now)
    ledger.validation = findings_to_rows(run.findings)
    return sum(1 for v in run.verdicts if v.period == period)


def bulletin_in_memory(ledger: Ledger, period: Period, now: datetime) -> Bulletin:
    """The bulletin of ``period`` and its 期号 in 变更日志 (the sheet is rendered at save)."""
    sheet = f"{'通报' if period.quarter else '月报'}-{period}"
    number, new = bulletin_number(ledger, sheet, read_settings(ledger.settings)[0].first_number)
    bulletin = build_bulletin(ledger, period, number, 0.9)
    if new:
        ledger.changelog.append(ChangeLogEntry(time=now, action=BULLETIN, object=sheet, field="期号", new=str(number),
                                               source=f"duban bulletin --period {period}"))
    return bulletin


def generate(path: Path, scale: Scale, progress: Callable[[str], None] | None = None) -> dict:
    """Write the synthetic ledger of ``scale`` to ``path`` (which must not exist); returns its statistics."""
    say = progress or (lambda _text: None)
    started = clock.perf_counter()
    phases: dict[str, float] = {}

    def phase(name: str, t0: float) -> float:
        now = clock.perf_counter()
        phases[name] = round(now - t0, 3)
        return now

    t = clock.perf_counter()
    init_ledger(path, YEAR, now=datetime(YEAR, 1, 4, 9, 0))
    store = LedgerStore(path)
    ledger, _ = store.load()
    ledger.set_setting("发件人", OFFICE_MAIL)
    stats = _import(ledger, scale, datetime(YEAR, 1, 5, 10, 0))
    t = phase("import", t)
    say(f"{scale.name}: 导入 {len(ledger.tasks)} 项任务、{len(ledger.units)} 个单位")
    stats["targets_confirmed"] = sum(_targets_round(ledger, kind) for kind in (TaskKind.key, TaskKind.livelihood))
    t = phase("targets", t)
    previous: dict = {}
    bulletins: list[tuple[Bulletin, date]] = []
    for period, issued_at in schedule():
        collect_at, _files = _feedback_round(ledger, period, issued_at, previous)
        light_in_memory(ledger, period, collect_at.replace(hour=16))
        bulletins.append((bulletin_in_memory(ledger, period, collect_at + timedelta(days=1)), (collect_at + timedelta(days=1)).date()))
        say(f"{scale.name}: {period} 反馈、亮灯、通报")
    t = phase("rounds", t)
    settings, _ = read_settings(ledger.settings)
    masthead, office = settings.masthead, settings.signing_office
    views = [lambda wb, b=b, d=d: write_bulletin_sheet(wb, b, masthead=masthead, office=office, issued_on=d)
             for b, d in bulletins]
    views.append(lambda wb: write_overview(wb, YEAR, ledger.tasks, ledger.lights, LAST_MONTH))
    say(f"{scale.name}: 保存台账")
    store.save(ledger, now=datetime(YEAR + 1, 1, 10, 17, 0), views=views)
    phase("save", t)
    key_units = recipients(ledger, TaskKind.key)
    stats.update({
        "scale": asdict(scale),
        "generator_version": GENERATOR_VERSION,
        "tasks": len(ledger.tasks),
        "key_tasks": sum(1 for x in ledger.tasks if x.kind == TaskKind.key.value),
        "livelihood_rows": sum(1 for x in ledger.tasks if x.kind == TaskKind.livelihood.value),
        "livelihood_reporting": sum(len(v) for v in recipients(ledger, TaskKind.livelihood).values()),
        "units": len(ledger.units),
        "units_with_key_tasks": len(key_units),
        "key_rows_issued": sum(len(v) for v in key_units.values()),
        "targets": len(ledger.targets),
        "feedback": len(ledger.feedback),
        "lights": len(ledger.lights),
        "submissions": len(ledger.submissions),
        "changelog": len(ledger.changelog),
        "bulletin_sheets": len(bulletins),
        "ledger_bytes": path.stat().st_size,
        "phases": phases,
        "seconds": round(clock.perf_counter() - started, 3),
    })
    return stats


def ensure_ledger(cache_root: Path, scale: Scale, progress: Callable[[str], None] | None = None) -> tuple[Path, dict, bool]:
    """The cached synthetic ledger of ``scale`` under ``cache_root`` (generated when missing):
    (ledger path, statistics, whether it was generated now)."""
    folder = cache_root / f"{scale.name}-v{GENERATOR_VERSION}"
    ledger, meta = folder / LEDGER_NAME, folder / "stats.json"
    if ledger.is_file() and meta.is_file():
        return ledger, json.loads(meta.read_text(encoding="utf-8")), False
    work = cache_root / f".{scale.name}-v{GENERATOR_VERSION}.{os.getpid()}.tmp"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    stats = generate(work / LEDGER_NAME, scale, progress)
    shutil.rmtree(work / "台账备份", ignore_errors=True)
    (work / "stats.json").write_text(json.dumps(stats, ensure_ascii=False, indent=2), encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(work, folder)
    return ledger, stats, True


def periods_all() -> list[Period]:
    """The 16 periods of the year: 4 quarters and 12 months."""
    return [*periods_of_year(YEAR, Cadence.quarterly), *periods_of_year(YEAR, Cadence.monthly)]
