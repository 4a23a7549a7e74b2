"""``duban confirm``: the office confirms the node targets units returned; the 分管领导
approves a proposed change (督查方案: a confirmed target changes only with the 分管区领导's
consent, so every confirmation and approval is logged with who and why)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..domain.changes import confirm_targets
from ..domain.findings import error, info
from ..domain.models import NodeTarget, TargetStatus
from .outcome import BadInput, Outcome, period_argument, reports_bad_input
from .session import Store, session


@reports_bad_input
def confirm_node_targets(ledger_path: Path | Store, *, now: datetime, period_text: str | None = None,
                         year: int | None = None, task_ids: list[str] = (), by: str = "", note: str = "",
                         approve: bool = False) -> Outcome:
    """``duban confirm``: 待报送 node targets → 已确认 (确认日期 today), each logged in 变更日志;
    with ``approve`` the 调整待批 proposals are applied instead, approved by ``by`` (the
    分管领导, required). ``period_text`` / ``year`` / ``task_ids`` narrow what is confirmed."""
    if period_text and year:
        raise BadInput(error("usage-error", "--period 与 --year 只能指定一个。"))
    period = str(period_argument(period_text)) if period_text else None
    by, note = (by or "").strip(), (note or "").strip()
    if approve and not by:
        raise BadInput(error("approval-needs-leader", "批准节点目标调整须写明同意调整的分管领导。",
                             hint="加 --by 分管领导姓名（督查方案：已确认的节点目标须经分管区领导同意方可调整）。"))
    wanted = set(task_ids or ())

    def selected(target: NodeTarget) -> bool:
        return ((period is None or target.period == period) and (year is None or target.period[:4] == str(year))
                and (not wanted or target.task_id in wanted))

    with session(ledger_path, "confirm", now) as s:
        ledger, findings = s.ledger, list(s.findings)
        unknown = sorted(wanted - {t.task_id for t in ledger.targets})
        if unknown:
            raise BadInput(error("unknown-target-task", f"【节点目标】中没有这些任务的节点目标：{'、'.join(unknown)}，未作任何确认。",
                                 sheet="节点目标", hint="核对任务编号；节点目标须先经目标安排表收回（duban collect）。"))
        command = "duban confirm --approve" if approve else "duban confirm"
        done = confirm_targets(ledger, now, command, selected=selected, approve=approve, by=by, note=note)
        if done.empty:
            findings.append(info("target-empty", f"以下节点目标尚未填写，未确认：{'、'.join(done.empty)}。", sheet="节点目标",
                                 hint="在【节点目标】中填写后再确认。"))
        if not done.confirmed and not done.approved:
            what = "调整待批的节点目标" if approve else "待报送的节点目标"
            findings.append(info("nothing-to-confirm", f"没有{what}需要{'批准' if approve else '确认'}。", sheet="节点目标"))
        s.save()
        left = [t for t in ledger.targets if selected(t)]
        return Outcome(summary={"ledger": str(s.path), "approve": approve, "by": by, "confirmed": done.confirmed,
                                "approved": done.approved,
                                "pending": sum(t.status == TargetStatus.pending.value for t in left),
                                "change_pending": sum(t.status == TargetStatus.change_pending.value for t in left)},
                       findings=findings)
