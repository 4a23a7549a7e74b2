"""Simulated units for the demo (and the end-to-end tests): they fill their issued workbooks
and mail them back the way real units do — most on time, some late, one not at all, one
after editing a grey cell, one sent from another unit's mailbox.

Everything is deterministic (derived from task ids and unit names), so a demo run can be
repeated and explained: the same tasks are behind in the same quarters, so two yellow
quarters in a row escalate to red.
"""

from __future__ import annotations

import os

import re
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from .domain.issuing import target_columns
from .domain.models import TaskKind
from .domain.periods import Period
from .io.returns import CHINA
from .samples import fill_return

PROBLEMS = ("项目用地报批手续尚未办结", "上级补助资金尚未下达", "受持续降雨影响施工进度滞后", "征地拆迁协调难度较大",
            "招标程序耗时较长", "相关部门审批意见尚未反馈")


@dataclass(frozen=True)
class Roles:
    """Which units misbehave in a round (None when there are too few units)."""

    missing: str | None = None
    late: tuple[str, ...] = ()
    tampered: str | None = None
    misrouted: str | None = None  # its file is mailed back from another unit's address
    misrouted_via: str | None = None
    copier: str | None = None  # copies last period's progress word for word


@dataclass
class Reply:
    """One simulated return: the filled workbook, who sends it, and when."""

    unit: str
    file_name: str
    data: bytes
    sender: str
    received_at: datetime
    answers: dict[str, dict[str, str]] = field(default_factory=dict)
    tampered_task: str | None = None


def _h(*parts: object) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode("utf-8"))


def choose_roles(units: list[str], period: str) -> Roles:
    """Pick the misbehaving units of a round from the sorted unit list (deterministic)."""
    units = sorted(units, key=lambda u: _h(u, period))
    if len(units) < 8:
        return Roles()
    return Roles(missing=units[0], late=(units[1], units[2]), tampered=units[3], misrouted=units[4],
                 misrouted_via=units[5], copier=units[6])


def is_behind(task_id: str, period: str) -> bool:
    """Whether a task misses its node target this period: a few tasks are behind every quarter
    (they turn red), a few others slip once."""
    return _h(task_id) % 9 == 0 or _h(task_id, period) % 8 == 0


def _clause(content: str) -> str:
    first = re.split(r"[，。；,;：:\n]", re.sub(r"^\s*[\d一二三四五六七八九十]+[、.．]\s*", "", content))[0]
    return first[:24]


DONE = ("{label}，{clause}已按节点目标完成，相关台账资料齐全。",
        "本期完成{clause}阶段任务，累计完成年度计划的{pct}%，佐证材料已归档备查。",
        "召开专题推进会{n}次，{clause}各项工作按计划落实到位，节点目标如期完成。",
        "对照节点目标逐项销号：{clause}的主要指标均达到进度要求，群众满意度较高。")
BEHIND = ("{label}，{clause}工作正在推进，完成节点目标的约{pct}%。",
          "受客观因素影响，{clause}进度偏慢，目前完成约{pct}%，已制定赶进度方案。",
          "前期手续基本办结，{clause}仍在推进中，本期仅完成约{pct}%。")


def progress_text(task_id: str, period: str, clause: str, behind: bool) -> str:
    """A unit's progress sentence: worded differently from one period to the next (as real
    reports are), so only a deliberate copy trips the bulletin's similarity check."""
    parsed = Period.parse(period)
    templates = BEHIND if behind else DONE
    step = parsed.year * 12 + (parsed.month or parsed.quarter or 0)  # consecutive periods: consecutive steps
    template = templates[(_h(task_id) + step) % len(templates)]
    return template.format(label=parsed.label, clause=clause, pct=(60 if behind else 30) + _h(task_id, period) % 30,
                           n=2 + _h(task_id, period, "n") % 4)


def answers_for(rows: list[tuple[str, str]], period: str, previous: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    """A unit's answers for its rows ``(task id, task text)``; ``previous`` progress is copied
    verbatim when given (the lazy report the bulletin should catch)."""
    out = {}
    for task_id, content in rows:
        clause = _clause(content)
        behind = is_behind(task_id, period)
        if behind:
            problem = PROBLEMS[_h(task_id, period) % len(PROBLEMS)]
            answer = {"完成情况": "未完成", "存在问题及原因分析": f"{problem}。",
                      "下一步工作计划和意见建议": "倒排工期，加强协调，力争下期完成。",
                      "自评灯色": "绿灯" if _h(task_id, "self") % 5 == 0 else "黄灯"}
        else:
            answer = {"完成情况": "已完成", "存在问题及原因分析": "无", "下一步工作计划和意见建议": "巩固成效，按计划推进下一阶段工作。",
                      "自评灯色": "绿灯"}
        answer["进展情况"] = progress_text(task_id, period, clause, behind)
        if previous and previous.get(task_id):
            answer["进展情况"] = previous[task_id]
        out[task_id] = answer
    return out


def target_answers(rows: list[tuple[str, str]], kind: TaskKind, year: int) -> dict[str, dict[str, str]]:
    """A unit's 目标安排表: one measurable target per period, rising through the year."""
    columns = target_columns(kind, year)
    out = {}
    for task_id, content in rows:
        clause = _clause(content)
        out[task_id] = {header: f"{clause}：完成全年目标的{round(100 * (i + 1) / len(columns))}%"
                        for i, (header, _period) in enumerate(columns)}
    return out


def issued_rows(path: Path) -> list[tuple[str, str]]:
    """(任务编号, 工作任务) of an issued workbook, as the unit reads them."""
    import openpyxl

    ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r and "任务编号" in r)
    id_col, text_col = rows[header].index("任务编号"), rows[header].index("工作任务")
    return [(str(r[id_col]), str(r[text_col] or "")) for r in rows[header + 1:] if r and r[id_col]]


def simulate_round(issued: dict[str, Path], period: str, due: date, emails: dict[str, str], work_dir: Path,
                   previous: dict[str, dict[str, str]] | None = None) -> tuple[list[Reply], Roles]:
    """Every unit's reply to its issued workbook for ``period`` (a feedback form)."""
    roles = choose_roles(list(issued), period)
    replies = []
    for unit, path in sorted(issued.items()):
        if unit == roles.missing:
            continue
        rows = issued_rows(path)
        answers = answers_for(rows, period, (previous or {}).get(unit) if unit == roles.copier else None)
        typed = {task: dict(values) for task, values in answers.items()}
        tampered = None
        if unit == roles.tampered and rows:
            tampered = rows[0][0]
            typed[tampered]["节点目标"] = "（本单位认为该目标过高，已调整为）完成前期工作"
        out = fill_return(path, work_dir / unit / path.name, typed)
        late = unit in roles.late
        day = due + timedelta(days=2 + _h(unit) % 3) if late else due - timedelta(days=1 + _h(unit) % 4)
        moment = datetime.combine(day, time(9 + _h(unit, "t") % 8, _h(unit, "m") % 60))
        sender = emails.get(roles.misrouted_via or "", "") if unit == roles.misrouted else emails.get(unit, "")
        replies.append(Reply(unit, path.name, out.read_bytes(), sender, moment, answers, tampered))
    return replies, roles


def simulate_targets(issued: dict[str, Path], kind: TaskKind, year: int, received: datetime, emails: dict[str, str],
                     work_dir: Path) -> list[Reply]:
    """Every unit returns its 目标安排表 on time."""
    replies = []
    for unit, path in sorted(issued.items()):
        answers = target_answers(issued_rows(path), kind, year)
        out = fill_return(path, work_dir / unit / path.name, answers)
        replies.append(Reply(unit, path.name, out.read_bytes(), emails.get(unit, ""), received, answers))
    return replies


def reply_eml(reply: Reply, to: str, out_dir: Path) -> Path:
    """The unit's reply as an .eml file as the office's mail server stored it: its top
    ``Received:`` line (the server's own) says when it arrived, which is what collect goes by;
    the sender's ``Date:`` says the same, as a unit's correct clock would. The file's own time
    is the arrival too, as when a mail client saves it."""
    msg = EmailMessage()
    when = format_datetime(reply.received_at.replace(tzinfo=CHINA))
    msg["Received"] = f"from unit.example by mail.{(to or 'localhost').rpartition('@')[2]}; {when}"
    msg["From"], msg["To"] = reply.sender or "unknown@example.invalid", to or "duchashi@localhost"
    msg["Subject"] = f"回复：{reply.file_name.removesuffix('.xlsx')}（{reply.unit}）"
    msg["Date"] = when
    msg.set_content(f"督查室：\n\n    {reply.unit}的表格已填好，请查收。\n")
    msg.add_attachment(reply.data, maintype="application",
                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename=reply.file_name)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{reply.received_at:%Y%m%d-%H%M}_{reply.unit}.eml"
    path.write_bytes(bytes(msg))
    stamp = reply.received_at.replace(tzinfo=CHINA).timestamp()
    os.utime(path, (stamp, stamp))
    return path
