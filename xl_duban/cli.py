"""``duban`` — the command line (DESIGN §9). Thin: parse, call a service, print.

Every command accepts ``--json`` and then prints exactly one JSON document on stdout.
Exit codes: 0 ok, 1 findings at error level, 2 usage error or unreadable input.
No Python traceback ever reaches the user: unexpected errors are logged to a file and
reported in one Chinese sentence.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

import typer

try:  # typer >= 0.29 vendors click; older releases use the click package
    from typer._click import exceptions as click
except ImportError:  # pragma: no cover - depends on the installed typer
    import click.exceptions as click  # type: ignore[no-redef]
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from . import services  # loads each use case on first use (services/__init__.py)
from .excel.template import TEMPLATE  # standard library only

if TYPE_CHECKING:
    from .domain.findings import Finding

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="督办（xl_duban）：政府工作报告重点任务督查台账工具。")
console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)

JsonOpt = typer.Option(False, "--json", help="以 JSON 输出结果（供程序调用）")
MAX_SHOWN = 40


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _print_findings(findings: list[Finding]) -> None:
    from .domain.findings import count_by_level

    if not findings:
        console.print("未发现问题。")
        return
    table = Table(title="发现的问题", show_lines=False)
    for col in ("级别", "位置", "代码", "说明"):
        table.add_column(col, overflow="fold")
    for f in findings[:MAX_SHOWN]:
        table.add_row(f.level.value, f.location(), f.code, f.text())
    console.print(table)
    if len(findings) > MAX_SHOWN:
        console.print(f"……另有 {len(findings) - MAX_SHOWN} 条，完整列表见台账【校验结果】表或使用 --json。")
    counts = count_by_level(findings)
    console.print("合计：" + "，".join(f"{k} {v} 条" for k, v in counts.items()))


def _progress_bar(as_json: bool):
    """A rich progress bar on stderr; silent in --json mode."""
    if as_json:
        return None, None
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   console=err_console, transient=True)
    task_id = bar.add_task("准备", total=1)

    def report(label: str, done: int, total: int) -> None:
        bar.update(task_id, description=label, completed=done, total=max(total, 1))

    return bar, report


def _with_progress(as_json: bool, call: Callable[..., services.Outcome]) -> Callable[[], services.Outcome]:
    """The action for :func:`_run`: ``call(progress=...)`` under a progress bar (none with --json)."""
    bar, report = _progress_bar(as_json)

    def action() -> services.Outcome:
        if bar is None:
            return call(progress=None)
        with bar:
            return call(progress=report)

    return action


def _summary(command: str) -> Callable[[services.Outcome], None]:
    """Print the command's result sentences (shared with the ribbon's message box)."""

    def render(outcome: services.Outcome) -> None:
        from .reports import summary_lines

        for line in summary_lines(command, outcome):
            console.print(line)

    return render


def _failure(code: str, message: str) -> services.Outcome:
    """The Outcome of a command that could not run (exit 2)."""
    from .domain.findings import Finding

    return services.Outcome(findings=[Finding(code=code, level="错误", message=message)], unreadable=True)


def _run(as_json: bool, action: Callable[[], services.Outcome], render: Callable[[services.Outcome], None], *,
         findings_table: bool = True) -> None:
    from .errors import LedgerError

    try:
        outcome = action()
    except LedgerError as exc:
        outcome = _failure("ledger-unavailable", str(exc))
    except Exception as exc:  # last resort: log the traceback, tell the user in Chinese
        from .io.failures import log_failure

        log = log_failure(' '.join(sys.argv))
        outcome = _failure("internal-error", f"程序内部错误（{type(exc).__name__}），台账未被修改。详细信息已记录到 {log}")
    if as_json:
        sys.stdout.write(json.dumps(outcome.as_dict(), ensure_ascii=False, default=str, indent=1) + "\n")
    else:
        if outcome.summary:
            render(outcome)
        if findings_table or outcome.findings:
            _print_findings(outcome.findings)
    raise typer.Exit(outcome.exit_code)


@app.command("init")
def init_cmd(year: int = typer.Argument(..., help="台账年度，如 2024"),
             ledger: Path = typer.Argument(..., help="新建的台账文件：.xlsx，或 .xlsm（带督办功能区，由模板生成）"),
             as_json: bool = JsonOpt) -> None:
    """新建台账：建立全部标准工作表、表头、下拉列表和默认设置。"""
    _run(as_json, lambda: services.init_ledger(ledger, year, now=_now()), _summary("init"))


@app.command("import")
def import_cmd(ledger: Path = typer.Argument(..., help="台账文件"),
               files: list[Path] = typer.Argument(..., help="任务清单（.docx/.xlsx/.csv）、单位分工清单或单位名录"),
               as_json: bool = JsonOpt) -> None:
    """导入任务：读取任务清单、民生实事分解表、单位分工清单和单位名录，重复导入不会重复添加。"""
    action = _with_progress(as_json, lambda progress: services.import_files(ledger, files, now=_now(), progress=progress))
    _run(as_json, action, _summary("import"))


@app.command("validate")
def validate_cmd(ledger: Path = typer.Argument(..., help="台账文件"), as_json: bool = JsonOpt) -> None:
    """校验台账：必填项、单位名称、任务编号、日期、周期等；结果写入【校验结果】并标出单元格。"""
    _run(as_json, lambda: services.validate_ledger(ledger, now=_now()), _summary("validate"))


@app.command("issue")
def issue_cmd(ledger: Path = typer.Argument(..., help="台账文件"),
              period: str = typer.Option(..., "--period", "-p", help="周期：季度如 2024Q1（重点任务），月份如 2024-03（民生实事）"),
              out: Path = typer.Option(..., "--out", "-o", help="反馈表输出目录"),
              kind: Optional[str] = typer.Option(None, "--kind", help="key（重点任务）或 livelihood（民生实事）；默认由周期决定"),
              targets: bool = typer.Option(False, "--targets", help="下发年初目标安排表（重点任务按季度、民生实事按月填写节点目标）；周期可写年度如 2024"),
              reissue: bool = typer.Option(False, "--reissue", help="重新下发已下发过的周期：已报送单位不再下发，其余单位此前的反馈表作废"),
              yes: bool = typer.Option(False, "--yes", "-y", help="重新下发时不再询问确认（供脚本使用）"),
              as_json: bool = JsonOpt) -> None:
    """下发反馈表：为每个牵头单位生成只含本单位任务的反馈表（带签名、锁定单元格和下拉列表），并记入【报送情况】；
    加 --targets 下发年初目标安排表。已下发过的周期须加 --reissue 才重新下发。"""
    confirm = None if yes else _confirm_reissue
    asks = reissue and not yes  # no progress bar over the question
    action = _with_progress(as_json or asks, lambda progress: services.issue_workbooks(
        ledger, period, out, now=_now(), kind_text=kind, targets=targets, reissue=reissue, confirm=confirm,
        progress=progress))
    _run(as_json, action, _summary("issue"))


def _confirm_reissue(returned: list[str], superseded: list[str]) -> bool:
    """Ask on a terminal before superseding forms units may be filling in; without a terminal
    (a script) the answer is no: a script says --yes."""
    if not sys.stdin.isatty():
        return False
    err_console.print(f"已报送、保留其反馈且不再下发的单位（{len(returned)} 个）：{'、'.join(returned) or '无'}")
    err_console.print(f"此前反馈表将作废、重新下发的单位（{len(superseded)} 个）：{'、'.join(superseded) or '无'}")
    return typer.confirm("确认重新下发？", default=False, err=True)


@app.command("send")
def send_cmd(ledger: Path = typer.Argument(..., help="台账文件"),
             period: str = typer.Option(..., "--period", "-p", help="周期，如 2024Q1 或 2024-03"),
             smtp: bool = typer.Option(False, "--smtp", help="按【设置】中的 SMTP 服务器直接发送"),
             eml: Optional[Path] = typer.Option(None, "--eml", help="不发送，在此目录生成 .eml 邮件文件"),
             resend: bool = typer.Option(False, "--resend", help="已发送的单位也重新发送"),
             as_json: bool = JsonOpt) -> None:
    """发送邮件：把各单位的反馈表作为附件发给单位名录中的邮箱（或生成 .eml 文件），结果记入【报送情况】。"""
    action = _with_progress(as_json, lambda progress: services.send_workbooks(
        ledger, period, now=_now(), eml_dir=eml, smtp=smtp, resend=resend, progress=progress))
    _run(as_json, action, _summary("send"))


@app.command("remind")
def remind_cmd(ledger: Path = typer.Argument(..., help="台账文件"),
               period: str = typer.Option(..., "--period", "-p", help="周期，如 2024Q1 或 2024-03"),
               days_before: int = typer.Option(0, "--days-before", help="截止前几天开始催办（默认截止当日起）"),
               smtp: bool = typer.Option(False, "--smtp", help="按【设置】中的 SMTP 服务器发送催办邮件"),
               eml: Optional[Path] = typer.Option(None, "--eml", help="在此目录生成催办 .eml 文件"),
               as_json: bool = JsonOpt) -> None:
    """催办：列出尚未报送的单位；加 --smtp 或 --eml 时发出催办邮件，并记入【报送情况】和【变更日志】。"""
    _run(as_json, lambda: services.remind_units(ledger, period, now=_now(), days_before=days_before, eml_dir=eml,
                                                smtp=smtp), _summary("remind"))


@app.command("collect")
def collect_cmd(ledger: Path = typer.Argument(..., help="台账文件"),
                inbox: Optional[list[Path]] = typer.Argument(None, help="收件文件夹或文件（.xlsx/.xls/.eml），可多个"),
                period: Optional[str] = typer.Option(None, "--period", "-p", help="只收取该周期的反馈表"),
                imap: bool = typer.Option(False, "--imap", help="先从【设置】中的 IMAP 邮箱收取未读邮件到收件文件夹"),
                accept: Optional[Path] = typer.Option(None, "--accept", help="人工接收 quarantine 中暂不接收的文件（须同时写 --reason）"),
                reason: str = typer.Option("", "--reason", help="人工接收的理由，记入【变更日志】"),
                as_json: bool = JsonOpt) -> None:
    """收集反馈：检查各单位寄回的反馈表（签名、单位、周期、锁定单元格、填写内容），合格的并入【反馈记录】，
    不合格的移入 quarantine 并说明原因；更新【报送情况】并生成【收集报告】。"""
    action = _with_progress(as_json, lambda progress: services.collect_returns(
        ledger, list(inbox or []), now=_now(), period_text=period, imap=imap, progress=progress, accept=accept,
        reason=reason))
    _run(as_json, action, _summary("collect"))


@app.command("confirm")
def confirm_cmd(ledger: Path = typer.Argument(..., help="台账文件"),
                period: Optional[str] = typer.Option(None, "--period", "-p", help="只确认该周期的节点目标，如 2024Q2 或 2024-03"),
                year: Optional[int] = typer.Option(None, "--year", help="只确认该年度的节点目标"),
                task: Optional[list[str]] = typer.Option(None, "--task", help="只确认这些任务（可多次指定）"),
                by: str = typer.Option("", "--by", help="确认人；加 --approve 时为同意调整的分管领导（必填）"),
                note: str = typer.Option("", "--note", help="说明（记入【变更日志】）"),
                approve: bool = typer.Option(False, "--approve", help="批准“调整待批”的节点目标：新目标替换原目标，原目标记入变更说明"),
                as_json: bool = JsonOpt) -> None:
    """确认节点目标：把各单位报来的“待报送”节点目标改为“已确认”（记入【变更日志】）；
    加 --approve 按分管领导意见批准“调整待批”的目标调整。"""
    _run(as_json, lambda: services.confirm_node_targets(ledger, now=_now(), period_text=period, year=year,
                                                        task_ids=list(task or []), by=by, note=note, approve=approve),
         _summary("confirm"))


@app.command("light")
def light_cmd(ledger: Path = typer.Argument(..., help="台账文件"),
              period: str = typer.Option(..., "--period", "-p", help="周期：季度如 2024Q1（重点任务），月份如 2024-03（民生实事）"),
              as_json: bool = JsonOpt) -> None:
    """亮灯：按节点目标完成情况亮绿灯/黄灯，连续黄灯升级为红灯；写入【亮灯记录】并重新生成【亮灯总览】。"""
    _run(as_json, lambda: services.light_up(ledger, period, now=_now()), _summary("light"))


@app.command("bulletin")
def bulletin_cmd(ledger: Path = typer.Argument(..., help="台账文件"),
                 period: str = typer.Option(..., "--period", "-p", help="季度如 2024Q1（重点任务季度通报），月份如 2024-03（民生实事月报）"),
                 out: Path = typer.Option(..., "--out", "-o", help="通报、整改通知书、约谈名单的输出目录"),
                 on: str = typer.Option("", "--date", help="成文日期，如 2024-04-15；默认为生成当天"),
                 as_json: bool = JsonOpt) -> None:
    """通报：按【亮灯记录】生成季度通报或月报（台账中的“通报-P/月报-P”工作表和公文格式 .docx），
    以及每个有黄灯、红灯事项单位的督查整改通知书和约谈名单。"""
    _run(as_json, lambda: services.publish_bulletin(ledger, period, out, now=_now(), issued_on=on or None),
         _summary("bulletin"))


@app.command("publish")
def publish_cmd(ledger: Path = typer.Argument(..., help="台账文件（只读取，不修改）"),
                period: str = typer.Option(..., "--period", "-p", help="季度如 2024Q1（重点任务），月份如 2024-03（民生实事）"),
                out: Path = typer.Option(..., "--out", "-o", help="公开版网页和 PDF 的输出目录"),
                on: str = typer.Option("", "--date", help="发布日期，如 2024-04-20；默认为生成当天"),
                as_json: bool = JsonOpt) -> None:
    """公开版：生成向社会公开的落实情况网页（单个 .html，不引用任何外部资源）和同样版式的 PDF：
    每项任务的牵头单位、推进状态（按最终灯色）和牵头单位报送的进展情况，不含约谈、整改、联系人和电话等内部信息。"""
    _run(as_json, lambda: services.publish_public(ledger, period, out, now=_now(), issued_on=on or None),
         _summary("publish"))


@app.command("brief")
def brief_cmd(ledger: Path = typer.Argument(..., help="台账文件（只读取，不修改）"),
              period: str = typer.Option(..., "--period", "-p", help="季度如 2024Q1（重点任务），月份如 2024-03（民生实事）"),
              out: Path = typer.Option(..., "--out", "-o", help="督查专报的输出目录"),
              on: str = typer.Option("", "--date", help="成文日期，如 2024-04-15；默认为生成当天"),
              as_json: bool = JsonOpt) -> None:
    """领导专报：按【亮灯记录】为每位责任领导生成本人分管任务的督查专报（.docx，1—2 页）：各色灯数及与上期比较、
    每项红灯和黄灯事项及牵头单位自己说明的问题、逾期报送/未报送/退回的牵头单位、历期亮灯图。台账不作任何修改。"""
    _run(as_json, lambda: services.brief_leaders(ledger, period, out, now=_now(), issued_on=on or None),
         _summary("brief"))


@app.command("score")
def score_cmd(ledger: Path = typer.Argument(..., help="台账文件"),
              year: Optional[int] = typer.Option(None, "--year", "-y", help="考核年度（默认台账年度）"),
              through: Optional[str] = typer.Option(None, "--through", help="只统计到该周期为止，如 2024Q2 或 2024-06"),
              out: Optional[Path] = typer.Option(None, "--out", "-o", help="另存考核结果 .xlsx 和考核结果通报 .docx 的目录"),
              as_json: bool = JsonOpt) -> None:
    """年度考核：按【亮灯记录】【报送情况】和【考核调整】为每个牵头单位计分（扣分标准在【设置】），
    写入台账的“考核-年度”和“考核明细-年度”工作表；加 --out 另存给考核办的 .xlsx 和考核结果通报。"""
    _run(as_json, lambda: services.score_units(ledger, year, through=through, out_dir=out, now=_now()), _summary("score"))


@app.command("rollover")
def rollover_cmd(old: Path = typer.Argument(..., help="本年度台账（只读取，不修改）"),
                 new: Path = typer.Argument(..., help="新建的下年度台账：.xlsx，或 .xlsm（带督办功能区）"),
                 year: int = typer.Option(..., "--year", "-y", help="新台账年度，如 2025"),
                 carry: bool = typer.Option(False, "--carry", help="把未办结、未取消的任务结转为新年度任务（新编号，备注“结转自…”）"),
                 as_json: bool = JsonOpt) -> None:
    """新建下年度台账：沿用单位名录（含别名、类型、联系人、邮箱）、设置（年度改为新年度，期号重新起算）和新年度的节假日；
    加 --carry 结转未办结任务。节点目标、反馈、亮灯不结转。"""
    _run(as_json, lambda: services.rollover_ledger(old, new, year, carry=carry, now=_now()), _summary("rollover"))


@app.command("doctor")
def doctor_cmd(ledger: Optional[Path] = typer.Argument(None, help="台账文件（可选）：一并检查台账、邮箱设置、单位邮箱和节假日"),
               fix: bool = typer.Option(False, "--fix", help="签名密钥不存在时生成它（其余各项只检查，从不修改）"),
               as_json: bool = JsonOpt) -> None:
    """环境检查：Python 和各依赖库版本、（Windows）Excel、xlwings 加载项及其 Python、宏和信任设置、中文字体和公文字体、
    LibreOffice、签名密钥、错误记录、今明两年节假日；指定台账时检查台账本身、是否被打开、文件夹能否写入、邮箱设置、
    没有邮箱的单位和上次校验的错误数。只读。有 ✘ 项时退出码为 1。"""
    from .reports import summary_lines

    def render(outcome: services.Outcome) -> None:  # long Chinese lines: the terminal wraps them
        for line in summary_lines("doctor", outcome):
            console.print(line, soft_wrap=True)

    _run(as_json, lambda: services.check_environment(ledger, now=_now(), fix=fix), render, findings_table=False)


template_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                           help="带督办功能区的台账模板（workbooks/template.xlsm）。")
app.add_typer(template_app, name="template")


@template_app.command("build")
def template_build_cmd(out: Path = typer.Option(TEMPLATE, "--out", "-o", help="模板输出文件（.xlsm）"),
                       standalone: bool = typer.Option(False, "--standalone",
                                                       help="内嵌当前安装的 xlwings 的 VBA 模块（免装 xlwings 加载项；须与 Python 端 xlwings 版本一致）"),
                       as_json: bool = JsonOpt) -> None:
    """生成模板：由 workbooks/vba/*.bas 和功能区 XML 生成带“督办”选项卡的台账模板 .xlsm（每次生成的字节完全相同）。"""
    _run(as_json, lambda: services.build_template(out, standalone=standalone), _summary("template"))


@app.command("demo")
def demo_cmd(out_dir: Path = typer.Argument(Path("duban-demo"), help="演示输出目录"), as_json: bool = JsonOpt) -> None:
    """演示：用内置的 2022 年真实清单生成来文、新建台账、导入并校验，再用模拟单位走完目标安排表、1—6 月民生实事和两个季度重点任务的下发、回收、亮灯、通报。"""
    from .demo import run_demo

    action = _with_progress(as_json, lambda progress: run_demo(out_dir, now=_now(), progress=progress))

    def render(o):
        s = o.summary
        console.print(f"台账：{s['ledger']}")
        console.print("来文：" + "；".join(Path(p).name for p in s["sources"]))
        console.print(f"督查重点任务 {s['key_tasks']} 项；民生实事 {s['livelihood_projects']} 项（子项 {s['livelihood_subitems']} 个）；"
                      f"单位 {s['units']} 个；责任领导 {len(s['leaders'])} 位：{'、'.join(s['leaders'])}")
        console.print("校验：" + "，".join(f"{k} {v} 条" for k, v in s["validation"].items()))
        for r in s.get("rounds", []):
            if "targets_filled" in r:
                console.print(f"{r['period']}：下发 {r['issued']} 份，收回 {r['accepted']} 份，填入节点目标 {r['targets_filled']} 条，"
                              f"督查室确认 {r['confirmed']} 条。")
                continue
            roles, problems = r["roles"], r["problems"]
            console.print(f"{r['period']}（截止 {r['due']}）：下发并生成邮件 {r['mailed']} 份；收到回复 {r['returned']} 份，"
                          f"接收 {r['accepted']} 份（逾期 {r['late']} 份：{'、'.join(problems.get('late-return', [])) or '无'}），"
                          f"退回 {r['rejected']} 份（改动锁定单元格：{'、'.join(problems.get('locked-cell-edited', [])) or '无'}；"
                          f"他单位代寄：{'、'.join(problems.get('wrong-unit', [])) or '无'}）；"
                          f"未报送：{roles['missing'] or '无'}。亮灯：" + "，".join(f"{k} {v}" for k, v in r["lights"].items()))
            b = r["bulletin"]
            if b.get("number"):
                console.print(f"  通报第{b['number']}期：红灯 {len(b['red'])} 项（{'、'.join(b['red']) or '无'}），表扬 {len(b['praised'])} 个单位，"
                              f"整改通知书 {len(b['notices'])} 份；{b['document']}")
            if r.get("public"):
                console.print(f"  公开版：{r['public']['tasks']} 项任务；{r['public']['html']}" +
                              (f"（PDF：{Path(r['public']['pdf']).name}）" if r["public"].get("pdf") else "（未生成 PDF）"))
        end = s.get("year_end")
        if end:
            sc, ro = end["score"], end["rollover"]
            if end.get("briefs"):
                folder = Path(end["briefs"][0]["document"]).parent
                console.print(f"领导专报（{sc['through']}）：{len(end['briefs'])} 位责任领导各一份；{folder}")
            console.print(f"考核（统计至 {sc['through']}，{sc['units']} 个牵头单位）：得分最高 {'；'.join(sc['top'])}；"
                          f"得分最低 {'；'.join(sc['bottom'])}。{sc['document']}")
            console.print(f"下年度台账：{ro['ledger']}（结转未办结任务 {ro['carried']} 项）")

    _run(as_json, action, render)


def _usage_message(exc: click.UsageError) -> str:
    """Click's usage errors in Chinese (the detail from Click is kept for precision)."""
    if isinstance(exc, click.MissingParameter):
        hint = exc.param_hint if isinstance(exc.param_hint, str) else " / ".join(exc.param_hint or [])
        return f"缺少参数 {hint or (exc.param.name if exc.param else '')}。"
    if isinstance(exc, click.NoSuchOption):
        return f"没有选项 {exc.option_name}。"
    if isinstance(exc, click.BadParameter):
        hint = exc.param_hint if isinstance(exc.param_hint, str) else " / ".join(exc.param_hint or [])
        return f"参数 {hint or (exc.param.name if exc.param else '')} 的值无效（年度须为数字，周期如 2024Q1 或 2024-03）。"
    return f"用法错误：{exc.format_message()}"


def main(argv: Optional[list[str]] = None) -> None:
    """Console-script entry point: exit codes per DESIGN §9, usage errors in Chinese."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = app(args=args, prog_name="duban", standalone_mode=False)
    except click.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `duban`: show the help
            console.print(exc.format_message())
            sys.exit(0)
        message = _usage_message(exc)
        if "--json" in args:
            outcome = _failure("usage-error", message)
            sys.stdout.write(json.dumps(outcome.as_dict(), ensure_ascii=False, indent=1) + "\n")
        else:
            if exc.ctx is not None:
                err_console.print(exc.ctx.get_usage())
            err_console.print(message + " 运行 duban --help 或 duban 命令 --help 查看用法。")
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("已取消。")
        sys.exit(130)
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
