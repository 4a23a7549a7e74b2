"""``duban init``, ``duban template build`` and ``duban import``: a new ledger and its tasks."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..domain.findings import Finding, count_by_level, error, has_errors, info
from ..domain.importing import RawTable, detect_year, map_prose, map_task_table, map_unit_table, merge_tasks, merge_units
from ..domain.models import Ledger
from ..domain.units import UnitDirectory
from ..excel.template import TEMPLATE
from ..io.archive import file_hash
from ..io.ledger_store import create_ledger
from ..io.readers import UnreadableFile, read_source
from .outcome import Outcome, Progress
from .session import Store, session, source_file_rows
from .validating import check_ledger


def init_ledger(path: Path, year: int, *, now: datetime) -> Outcome:
    """``duban init``: a new ledger with every sheet of DESIGN §3 (.xlsm: from the template,
    with the 督办 ribbon)."""
    if not 2000 <= year <= 2100:
        return Outcome(findings=[error("bad-year", f"年度“{year}”无效，请填写四位年份。")], unreadable=True)
    create_ledger(path, year, now=now, template=TEMPLATE)
    return Outcome(summary={"ledger": str(path), "year": year})


def build_template(out: Path, *, standalone: bool = False) -> Outcome:
    """``duban template build``: the macro-enabled ledger skeleton with the 督办 ribbon, from
    the VBA sources and ribbon XML under ``workbooks/`` (byte-identical on every build)."""
    from ..excel.template import build_template as build

    build(out, standalone=standalone)
    return Outcome(summary={"template": str(out), "standalone": standalone, "bytes": out.stat().st_size})


def import_files(ledger_path: Path | Store, files: list[Path], *, now: datetime, progress: Progress | None = None) -> Outcome:
    """``duban import``: task lists (.docx/.xlsx/.csv), prose 分工清单 and unit lists.

    All files are mapped first and the ledger is written once at the end, so a failure
    halfway leaves the ledger as it was. Import findings and the validation of the result
    go to 校验结果 — only when some file was read as a list: an import where every file failed
    writes nothing (no backup either), its findings are printed.
    """
    with session(ledger_path, "import", now) as s:
        ledger = s.ledger
        year = ledger.year
        findings: list[Finding] = list(s.findings)
        if year is None:
            return Outcome(findings=[*findings, error("bad-setting", "台账【设置】中缺少年度，无法生成任务编号。", sheet="设置")])
        summary = {"ledger": str(s.path), "files": [], "added_tasks": 0, "unchanged_tasks": 0, "added_units": 0}
        unreadable = False
        for n, path in enumerate(files, 1):
            if progress:
                progress(f"导入 {path.name}", n - 1, len(files))
            entry = {"file": str(path), "added_tasks": [], "unchanged": 0, "added_units": []}
            summary["files"].append(entry)
            try:
                tables, prose = read_source(path)
                source = f"duban import {path.name}#{file_hash(path)}"
            except (UnreadableFile, OSError) as exc:
                unreadable = True
                reason = str(exc) if isinstance(exc, UnreadableFile) else f"文件无法读取（{exc.strerror or type(exc).__name__}）"
                findings.append(error("unreadable-file", reason, file=path.name,
                                      hint="确认文件未损坏、未加密，并另存为 .docx / .xlsx 后重试。"))
                continue
            file_findings, results = _import_one(ledger, tables, prose, year, source, now)
            findings.extend(file_findings)
            for result in results:
                entry["added_tasks"] += result.added_tasks
                entry["unchanged"] += result.unchanged
                entry["added_units"] += result.added_units
            if not any(r.added_tasks or r.unchanged or r.added_units for r in results) and not has_errors(file_findings):
                # a file that yields nothing is an error whatever else was noted about it (unfamiliar
                # headers are only a 提示 on their own): the clerk must not read exit 0 as "imported"
                findings.append(error("nothing-imported", "文件中没有找到可导入的任务清单、单位名录或带责任单位的段落，未导入任何内容。",
                                      file=path.name, hint="任务清单需有“序号”“工作任务”“牵头单位”等表头；会议通知等其他文件无需导入。"))
            summary["added_tasks"] += len(entry["added_tasks"])
            summary["unchanged_tasks"] += entry["unchanged"]
            summary["added_units"] += len(entry["added_units"])
        if progress:
            progress("保存台账", len(files), len(files))
        s.store.renumber(ledger)  # new tasks get the rows they will have, so findings point at them
        validation = check_ledger(ledger, s.file, now)
        kept = source_file_rows(ledger, replaced={p.name for p in files})  # other files' findings stay listed
        # a file read as a task list or unit list (even one adding nothing new) replaces its rows of
        # 校验结果, so the notes on it stay current; an import where every file failed writes nothing
        read_one = bool(summary["added_tasks"] or summary["unchanged_tasks"] or summary["added_units"])
        summary["written"] = s.save(validation=findings + validation, keep=kept, highlights=validation, report=read_one)
        summary["counts"] = count_by_level(findings)
        summary["validation"] = {"errors": sum(f.level.value == "错误" for f in validation), "total": len(validation)}
        return Outcome(summary=summary, findings=findings, unreadable=unreadable)


def _import_one(ledger: Ledger, tables: list[RawTable], prose, year: int, source: str, now: datetime):
    findings: list[Finding] = []
    results = []
    task_tables = 0
    for table in tables:
        units = map_unit_table(table)
        if units is not None:
            unit_list, unit_findings = units
            findings.extend(unit_findings)
            results.append(merge_units(ledger, unit_list, source, now))
            continue
        drafts, table_findings = map_task_table(table, UnitDirectory(ledger.units))
        findings.extend(table_findings)
        if drafts or any(f.code in ("missing-content", "missing-seq", "bad-seq") for f in table_findings):
            task_tables += 1
            findings.extend(_year_check(table.context, year, table.file))
            result = merge_tasks(ledger, drafts, year, source, now)
            findings.extend(result.findings)
            results.append(result)
    if not task_tables and prose is not None and prose.paragraphs:
        drafts, prose_findings = map_prose(prose, UnitDirectory(ledger.units))
        if drafts:
            findings.extend(prose_findings)
            findings.extend(_year_check(" ".join(t for _, t in prose.paragraphs[:5]), year, prose.file))
            result = merge_tasks(ledger, drafts, year, source, now)
            findings.extend(result.findings)
            results.append(result)
    return findings, results


def _year_check(context: str, year: int, file: str) -> list[Finding]:
    found = detect_year(context)
    if found and found != year:
        return [info("year-mismatch", f"文件标题为{found}年，台账年度为{year}年，任务编号按台账年度生成。", file=file,
                     hint="如导入错了年度，请从“台账备份”恢复。")]
    return []
