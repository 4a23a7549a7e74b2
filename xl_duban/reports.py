"""The one-paragraph result of each command in Chinese, shared by the command line (printed)
and the ribbon (shown in the closing message box), so both say the same thing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .services.outcome import Outcome


def _init(s: dict) -> list[str]:
    return [f"已新建 {s['year']} 年度台账：{s['ledger']}"]


def _import(s: dict) -> list[str]:
    lines = [f"{Path(entry['file']).name}：新增任务 {len(entry['added_tasks'])} 项，已存在 {entry['unchanged']} 项，"
             f"新增单位 {len(entry['added_units'])} 个" for entry in s["files"]]
    counts = s.get("counts", {})
    line = (f"合计新增任务 {s['added_tasks']} 项、单位 {s['added_units']} 个；本次导入发现"
            + "、".join(f"{level} {counts.get(level, 0)} 条" for level in ("错误", "警告", "提示")) + "（见下表）。")
    if s.get("written"):
        line += f"导入后台账自身校验发现错误 {s['validation']['errors']} 条（不在下表，见【校验结果】或运行 duban validate）。"
    else:
        line += "台账未改动（未写入，未备份）。"
    lines.append(line)
    return lines


def _validate(s: dict) -> list[str]:
    return [f"已校验 {s['tasks']} 项任务、{s['units']} 个单位。"]


def _issue(s: dict) -> list[str]:
    lines = [f"{s['period']} {s['kind']}{s['form']}已生成 {len(s['workbooks'])} 份，截止时间 {s['due']}，目录：{s['out_dir']}"]
    if s.get("kept_returned"):
        lines.append(f"已报送、未重新下发的单位 {len(s['kept_returned'])} 个：{'、'.join(s['kept_returned'])}（其反馈保留有效）。")
    return lines


def _send(s: dict) -> list[str]:
    return [f"{s['period']}：已发送 {s['sent']} 封，生成邮件文件 {s['eml']} 封，跳过（此前已发送）{s['skipped']} 个，"
            f"失败 {s['failed']} 个。"]


def _remind(s: dict) -> list[str]:
    names = "、".join(s["pending"]) or "无"
    return [f"{s['period']}（截止 {s['due']}）尚未报送 {len(s['pending'])} 个单位：{names}；本次催办 {s['reminded']} 个。"]


def _collect(s: dict) -> list[str]:
    line = (f"接收 {s['accepted']} 份（其中逾期 {s['late']} 份），退回 {s['rejected']} 份，跳过已收取 {s['skipped']} 份；"
            f"新增反馈 {s.get('added', 0)} 条，更新 {s.get('replaced', 0)} 条。")
    if s.get("fetched") is not None:
        line = f"从邮箱收取邮件 {s['fetched']} 封。" + line
    lines = [line]
    if s.get("targets_filled") or s.get("targets_proposed") or s.get("targets_waiting"):
        lines.append(f"收到节点目标 {s.get('targets_filled', 0)} 条、调整申请 {s.get('targets_proposed', 0)} 条；"
                     f"台账中待确认 {s.get('targets_waiting', 0)} 条（用 duban confirm 确认，调整须 --approve 经分管领导同意）。")
    if s.get("missing"):
        lines.append("尚未报送：" + "；".join(s["missing"]))
    return lines


def _confirm(s: dict) -> list[str]:
    done = (f"批准调整节点目标 {len(s['approved'])} 条（分管领导：{s['by']}）" if s["approve"]
            else f"确认节点目标 {len(s['confirmed'])} 条")
    return [f"{done}；仍待确认 {s['pending']} 条，调整待批 {s['change_pending']} 条。"]


def _light(s: dict) -> list[str]:
    c = s["counts"]
    return [f"{s['period']} 共亮灯 {s['lit_tasks']} 项：绿灯 {c['绿灯']}，黄灯 {c['黄灯']}，红灯 {c['红灯']}"
            f"（连同历史周期共重算 {s['recomputed']} 条）。"]


def _bulletin(s: dict) -> list[str]:
    c = s["counts"]
    return [f"{s['period']} 第{s['number']}期通报：亮灯 {c['合计']} 项，绿灯 {c['绿灯']}、黄灯 {c['黄灯']}、红灯 {c['红灯']}；"
            f"表扬 {len(s['praised'])} 个单位；整改通知书 {len(s['notices'])} 份（整改期限 {s['rectify_by']}）。",
            f"文件：{s['document']}；约谈名单：{s['interviews']}；台账工作表：{s['sheet']}"]


def _publish(s: dict) -> list[str]:
    counts = "、".join(f"{word}{n}项" for word, n in s["counts"].items())
    return [f"{s['title']}（公开版）：{s['tasks']} 项任务" + (f"，{counts}" if counts else "") + "。",
            f"网页：{s['html']}" + (f"；PDF：{s['pdf']}" if s["pdf"] else "（未生成 PDF）")]


def _brief(s: dict) -> list[str]:
    lines = [f"{s['period']} 领导专报 {len(s['briefs'])} 份（{s['kind']}），输出目录：{s['out']}"]
    for b in s["briefs"]:
        c = b["counts"]
        lines.append(f"· {b['leader']}：亮灯 {c['合计']} 项，绿灯 {c['绿灯']}、黄灯 {c['黄灯']}、红灯 {c['红灯']}；{b['document']}")
    return lines


def _template(s: dict) -> list[str]:
    kind = "内嵌 xlwings VBA（无需安装 xlwings 加载项）" if s["standalone"] else "使用 xlwings 加载项的 RunPython"
    return [f"已生成模板 {s['template']}（{s['bytes']:,} 字节，{kind}）。"]


def _score(s: dict) -> list[str]:
    scope = f"（统计至 {s['through']}）" if s.get("through") else ""
    lines = [f"{s['year']} 年度考核{scope}：{s['units']} 个牵头单位，扣分及调整 {s['items']} 项；"
             f"台账工作表：{'、'.join(s['sheets'])}。",
             f"得分最高：{'；'.join(s['top'])}。得分最低：{'；'.join(s['bottom'])}。"]
    if s.get("document"):
        lines.append(f"文件：{s['workbook']}；{s['document']}")
    return lines


def _rollover(s: dict) -> list[str]:
    carried = s["carried"]
    return [f"已新建 {s['year']} 年度台账：{s['ledger']}（单位 {s['units']} 个，节假日 {s['holidays']} 条，"
            f"结转未办结任务 {len(carried)} 项）；原台账 {s['old']} 未改动。"] + ([s["note"]] if s.get("note") else [])


def _doctor(s: dict) -> list[str]:
    from .domain.doctor import Status

    checks = s["checks"]
    lines = [f"{Status(c['status']).mark} {c['title']}：{c['detail']}" + ("" if c["status"] == "ok" else f"\n    → {c['fix']}")
             for c in checks]
    counts = {status: sum(c["status"] == status.value for c in checks) for status in Status}
    lines.append(f"共 {len(checks)} 项：✔ {counts[Status.ok]} 项，⚠ {counts[Status.warn]} 项，✘ {counts[Status.fail]} 项。"
                 + ("有 ✘ 项须先处理。" if counts[Status.fail] else ""))
    return lines


def _skipped(s: dict) -> list[str]:
    return [s["line"]]


SUMMARIES = {"skipped": _skipped, "template": _template, "init": _init, "import": _import, "validate": _validate, "issue": _issue, "send": _send,
             "remind": _remind, "collect": _collect, "confirm": _confirm, "light": _light, "bulletin": _bulletin,
             "publish": _publish, "brief": _brief,
             "score": _score, "rollover": _rollover, "doctor": _doctor}


def summary_lines(command: str, outcome: Outcome) -> list[str]:
    """What ``command`` did, in sentences a clerk reads (empty when it stopped early)."""
    if not outcome.summary:
        return []
    return SUMMARIES[command](outcome.summary)
