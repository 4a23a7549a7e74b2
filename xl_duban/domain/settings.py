"""The 设置 sheet, typed: every key the program reads, declared once.

The office tunes the supervision rules (红灯阈值, 缺报视为, deadlines …) and the mail setup in
the ledger's 设置 sheet, as 项目 / 值 rows a clerk types by hand. This module is the only
place that reads those rows: :func:`read_settings` turns them, once per command, into a
frozen :class:`Settings` object and one ``bad-setting`` finding per unusable value (which
key, what is wrong, what is allowed). A bad value never crashes a run: the rule falls back
to its default, and ``duban validate`` shows the clerk the same finding the command used.
``duban init`` writes the sheet from :data:`SPECS` (项目, 值, 说明), so the keys a new ledger
offers are exactly the keys read here.

Pure: no I/O and no clock.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterable, Protocol

from .findings import Finding, error
from .periods import Cadence, Period

SHEET = "设置"
VALUE_COLUMN = "值"


class SettingRow(Protocol):
    """What is read of a 设置 row (``domain.models.Setting``)."""

    key: str
    value: Any
    row: int | None


@dataclass(frozen=True)
class Spec:
    """One 设置 key: its Chinese name, the attribute of :class:`Settings`, its kind
    (int / number / float / choice / text / year / quarter / month), default, bounds or allowed values,
    and the 说明 a new ledger shows beside it."""

    key: str
    attr: str
    kind: str
    default: Any
    note: str
    bounds: tuple[float, float] | None = None
    choices: tuple[str, ...] = ()
    blank: Any = ...  # the value of a blank cell, when not the default (... = the default)

    @property
    def when_blank(self) -> Any:
        return self.default if self.blank is ... else self.blank

    def hint(self) -> str:
        """What the clerk may type (the fix hint of a bad value)."""
        if self.kind == "choice":
            return "只能填写：" + "、".join(self.choices) + "。"
        if self.kind == "float":
            return "填写 0 到 1 之间的小数（如 0.9），或百分数（如 90%）。"
        if self.kind == "year":
            return "填写四位年份，如 2024。"
        if self.bounds is not None:
            low, high = self.bounds
            return f"填写 {low:g} 到 {high:g} 之间的{'数（可带小数，如 0.5）' if self.kind == 'number' else '整数'}。"
        return "填写整数。"


SPECS: tuple[Spec, ...] = (
    Spec("年度", "year", "year", None, "台账年度，如 2024"),
    Spec("机关名称", "office_name", "text", "区人民政府办公室", "通报落款", blank=""),
    Spec("督查室", "supervision_office", "text", "区府办公室督查室", "收件与联系部门", blank=""),
    Spec("刊名", "masthead", "text", "源城政务督查", "通报刊头"),
    Spec("起始期号", "first_number", "int", 1, "本年度第一期通报的期号", bounds=(1, 999)),
    Spec("红灯阈值", "red_threshold", "int", 2, "连续黄灯达到此次数亮红灯", bounds=(1, 12)),
    Spec("缺报视为", "missing_as", "choice", "黄灯", "未报送的任务亮灯", choices=("黄灯", "红灯")),
    Spec("逾期报送视为", "late_as", "choice", "按内容", "逾期报送的任务：按所报内容亮灯，或一律亮黄灯", choices=("按内容", "黄灯")),
    Spec("季度截止日", "quarter_day", "int", 10, "季度反馈于季后次月几日前报送", bounds=(1, 28)),
    Spec("月报截止工作日", "monthly_workday", "int", 3, "民生实事于次月第几个工作日前报送", bounds=(1, 10)),
    Spec("相似度阈值", "similarity", "float", 0.9, "进展情况与上期雷同的判定阈值"),
    Spec("通报报", "bulletin_report_to", "text", "区委、区政府领导", "通报版记“报”行（报送的上级领导）"),
    Spec("通报送", "bulletin_send_to", "text", "区人大常委会办公室，区政协办公室", "通报版记“送”行（送达的同级机关）"),
    Spec("通报发", "bulletin_issue_to", "text", "各镇人民政府、街道办事处，区直各单位", "通报版记“发”行（下发的单位）"),
    Spec("约谈时间", "interview_time", "text", "", "约谈名单所列约谈时间；留空则留出空白待填"),
    Spec("约谈地点", "interview_place", "text", "", "约谈名单所列约谈地点；留空则留出空白待填"),
    Spec("约谈形式", "interview_form", "text", "", "约谈名单所列约谈形式（如集体约谈）；留空则留出空白待填"),
    Spec("整改期限", "rectify_days", "int", 10, "整改通知书要求的整改期限（工作日）", bounds=(1, 60)),
    Spec("公开用语已完成", "public_done", "text", "已完成", "公开版：本期各牵头单位均报已办结、亮绿灯的任务所示状态"),
    Spec("公开用语按序时推进", "public_on_track", "text", "按序时推进", "公开版：最终亮绿灯的任务所示状态"),
    Spec("公开用语进度滞后", "public_behind", "text", "进度滞后", "公开版：最终亮黄灯或红灯的任务所示状态"),
    Spec("公开用语已办结", "public_closed", "text", "已办结", "公开版：【任务台账】状态为已办结的任务所示状态"),
    Spec("公开用语待更新", "public_pending", "text", "本期进展待更新", "公开版：牵头单位本期尚无可公开的进展时所示文字"),
    Spec("备份保留份数", "backups", "int", 10, "保存台账前的备份保留份数", bounds=(1, 100)),
    Spec("考核基础分", "score_base", "number", 100, "年度考核（duban score）每个牵头单位的基础分", bounds=(0, 1000)),
    Spec("黄灯扣分", "score_yellow", "number", 1, "所牵头任务每期最终亮黄灯一次扣分", bounds=(0, 100)),
    Spec("红灯扣分", "score_red", "number", 3, "所牵头任务每期最终亮红灯一次扣分", bounds=(0, 100)),
    Spec("逾期报送扣分", "score_late", "number", 0.5, "每期反馈逾期报送一次扣分", bounds=(0, 100)),
    Spec("未报送扣分", "score_missing", "number", 2, "每期反馈截止后仍未报送（含退回未重报）一次扣分", bounds=(0, 100)),
    Spec("等次好分数线", "grade_good", "number", 95, "得分不低于此为“好”", bounds=(0, 1000)),
    Spec("等次较好分数线", "grade_fair", "number", 85, "得分不低于此为“较好”", bounds=(0, 1000)),
    Spec("等次一般分数线", "grade_pass", "number", 70, "得分不低于此为“一般”，以下为“差”", bounds=(0, 1000)),
    Spec("SMTP服务器", "smtp_host", "text", "", "发件服务器地址"),
    Spec("SMTP端口", "smtp_port", "int", 465, "465（SSL）或 587（STARTTLS）", bounds=(1, 65535)),
    Spec("SMTP加密", "smtp_security", "choice", "SSL", "SSL / STARTTLS / 无", choices=("SSL", "STARTTLS", "无")),
    Spec("发件人", "sender", "text", "", "发件邮箱地址；密码通过环境变量 DUBAN_SMTP_PASSWORD 或系统钥匙串提供"),
    Spec("IMAP服务器", "imap_host", "text", "", "收件服务器地址"),
    Spec("IMAP端口", "imap_port", "int", 993, "993（SSL）或 143（STARTTLS / 无）", bounds=(1, 65535)),
    Spec("IMAP加密", "imap_security", "choice", "SSL", "SSL / STARTTLS / 无", choices=("SSL", "STARTTLS", "无")),
    Spec("IMAP账号", "imap_user", "text", "", "收件邮箱账号，空则同发件人；密码通过环境变量 DUBAN_IMAP_PASSWORD 或系统钥匙串提供"),
    Spec("收件箱文件夹", "inbox_folder", "text", "inbox", "从邮箱收取的邮件（.eml）保存目录，相对台账所在文件夹"),
    Spec("仅接收登记邮箱", "registered_only", "choice", "否", "是：发件地址未登记在单位名录中的反馈表一律暂不接收，待核实",
         choices=("是", "否")),
    Spec("每封邮件附件上限", "attachments_per_mail", "int", 20, "一封邮件最多读取的表格附件数，其余报告后不读取", bounds=(1, 500)),
    Spec("每次收集文件上限", "files_per_collect", "int", 500, "一次收集最多读取的文件数（先到先读），其余留待下次", bounds=(1, 100000)),
    Spec("当前季度", "current_quarter", "quarter", None, "功能区按钮处理的季度，如 2024Q3；留空则按今天自动判断（季末前15天起为本季度）"),
    Spec("当前月份", "current_month", "month", None, "功能区按钮处理的月份，如 2024-10；留空则按今天自动判断（月末前15天起为本月）"),
)
BY_KEY: dict[str, Spec] = {spec.key: spec for spec in SPECS}


@dataclass(frozen=True)
class Settings:
    """The ledger's 设置, parsed: one attribute per :data:`SPECS` entry (blank → default,
    except the two names of the office: blank means "do not name it")."""

    year: int | None
    office_name: str
    supervision_office: str
    masthead: str
    first_number: int
    red_threshold: int
    missing_as: str
    late_as: str
    quarter_day: int
    monthly_workday: int
    similarity: float
    bulletin_report_to: str
    bulletin_send_to: str
    bulletin_issue_to: str
    interview_time: str
    interview_place: str
    interview_form: str
    rectify_days: int
    public_done: str
    public_on_track: str
    public_behind: str
    public_closed: str
    public_pending: str
    backups: int
    score_base: float
    score_yellow: float
    score_red: float
    score_late: float
    score_missing: float
    grade_good: float
    grade_fair: float
    grade_pass: float
    smtp_host: str
    smtp_port: int
    smtp_security: str
    sender: str
    imap_host: str
    imap_port: int
    imap_security: str
    imap_user: str
    inbox_folder: str
    registered_only: str
    attachments_per_mail: int
    files_per_collect: int
    current_quarter: Period | None
    current_month: Period | None
    problems: tuple[tuple[str, Finding], ...] = field(default=(), compare=False, repr=False)  # (key, finding)

    def findings(self, *keys: str) -> list[Finding]:
        """The bad-setting findings of ``keys`` (of every key when none is named): a command
        reports the bad values of the settings it used."""
        return [f for key, f in self.problems if not keys or key in keys]

    @property
    def signing_office(self) -> str:
        """Who signs a bulletin or notice: the 督查室 when named, else the 机关名称."""
        return self.supervision_office or self.office_name or "督查室"

    @property
    def imap_account(self) -> str:
        """The mailbox collect reads: IMAP账号, else the 发件人 address (one shared mailbox)."""
        return self.imap_user or self.sender

    def current(self, cadence: Cadence) -> Period | None:
        """The period the ribbon's buttons work on, when the office named one."""
        return self.current_quarter if cadence is Cadence.quarterly else self.current_month


def _first_row(rows: Iterable[SettingRow], key: str) -> SettingRow | None:
    """The row that counts: the first non-blank one of ``key`` (a blank duplicate is ignored)."""
    return next((r for r in rows if r.key == key and r.value not in (None, "")), None)


def _parse(spec: Spec, value: Any) -> tuple[Any, str | None]:
    """(typed value, None) or (default, Chinese reason the value cannot be used)."""
    if spec.kind == "text":
        return str(value).strip(), None
    if spec.kind == "choice":
        text = unicodedata.normalize("NFKC", str(value)).strip()
        return (text, None) if text in spec.choices else (spec.default, "invalid")
    if spec.kind in ("int", "year"):
        try:
            number = float(unicodedata.normalize("NFKC", str(value)).strip())
        except ValueError:
            return spec.default, "invalid"
        low, high = spec.bounds or (None, None)
        if not number.is_integer() or (low is not None and not low <= number <= high):
            return spec.default, "invalid"
        return int(number), None
    if spec.kind == "number":  # points: 0.5 is as good as 2
        try:
            number = float(unicodedata.normalize("NFKC", str(value)).strip())
        except ValueError:
            return spec.default, "invalid"
        low, high = spec.bounds
        return (int(number) if number.is_integer() else number, None) if low <= number <= high else (spec.default, "invalid")
    if spec.kind == "float":
        try:
            number = float(unicodedata.normalize("NFKC", str(value)).strip().rstrip("%"))
        except ValueError:
            return spec.default, "invalid"
        number = number / 100 if number > 1 else number
        return (number, None) if 0 < number <= 1 else (spec.default, "invalid")
    return _parse_period(spec, value)


def _parse_period(spec: Spec, value: Any) -> tuple[Period | None, str | None]:
    cadence = Cadence.quarterly if spec.kind == "quarter" else Cadence.monthly
    if isinstance(value, (date, datetime)):  # 2024-10 typed into a General cell: Excel made it a date
        month = Period(year=value.year, month=value.month)
        return (month if cadence is Cadence.monthly else month.quarter_of()), None
    try:
        period = Period.parse(str(value))
    except ValueError as exc:
        return None, (f"【设置】{spec.key}“{value}”无法识别：{exc}。请改为如 2024Q3 / 2024-10，或清空后按今天自动判断。")
    if period.cadence is not cadence:
        example = "2024Q3" if cadence is Cadence.quarterly else "2024-10"
        return None, (f"【设置】{spec.key}应填写{'季度' if cadence is Cadence.quarterly else '月份'}（如 {example}），"
                      f"现为“{value}”。请改正，或清空后按今天自动判断。")
    return period, None


def _bad(spec: Spec, row: SettingRow | None, reason: str) -> Finding:
    if reason != "invalid":  # a sentence of its own (the working periods)
        message = reason
    elif spec.kind == "year":
        message = "【设置】中“年度”缺失或不是数字。"
    else:
        message = f"【设置】“{spec.key}”的值“{row.value}”无效，将按默认值{spec.default}计算。"
    return error("bad-setting", message, sheet=SHEET, row=row.row if row else None, column=VALUE_COLUMN,
                 hint=spec.hint())


def read_settings(rows: Iterable[SettingRow], *, require_year: bool = True) -> tuple[Settings, list[Finding]]:
    """The typed settings of a ledger's 设置 rows and a finding per bad value.

    Blank or absent → the default silently (年度 has none: absent → None and a finding);
    surrounding spaces and full-width forms are forgiven; anything else → the default and
    a ``bad-setting`` error at that row."""
    rows = list(rows)
    values: dict[str, Any] = {}
    problems: list[tuple[str, Finding]] = []
    for spec in SPECS:
        row = _first_row(rows, spec.key)
        if row is None:
            values[spec.attr] = spec.when_blank
            if spec.kind == "year" and require_year:
                problems.append((spec.key, _bad(spec, next((r for r in rows if r.key == spec.key), None), "invalid")))
            continue
        values[spec.attr], reason = _parse(spec, row.value)
        if reason is not None:
            problems.append((spec.key, _bad(spec, row, reason)))
    settings = Settings(**values, problems=tuple(problems))
    return settings, settings.findings()


def year_of(rows: Iterable[SettingRow]) -> int | None:
    """The ledger's 年度 alone (None when missing or not a number)."""
    row = _first_row(rows, "年度")
    if row is None:
        return None
    value, reason = _parse(BY_KEY["年度"], row.value)
    return None if reason else value


def check_value(key: str, value: Any) -> Finding | None:
    """The finding a 设置 value would get (None when usable or blank): worksheet functions take
    some rule values as arguments and check them exactly as the sheet's are checked."""
    spec = BY_KEY[key]
    if value in (None, ""):
        return None
    _value, reason = _parse(spec, value)
    return None if reason is None else _bad(spec, _Row(key, value), reason)


@dataclass
class _Row:
    key: str
    value: Any
    row: int | None = None


def from_values(**values: Any) -> tuple[Settings, list[Finding]]:
    """Typed settings from key=value pairs (keys in Chinese), e.g. a worksheet function's
    arguments; blank values take the default."""
    return read_settings((_Row(key, value) for key, value in values.items() if value not in (None, "")),
                         require_year=False)


def set_value(rows: list, key: str, value: Any, make_row: Callable[..., Any]) -> None:
    """Write a 设置 value: the key's first row, or a new row made by ``make_row(key=, value=)``."""
    spec = BY_KEY.get(key)
    if spec is None:
        raise KeyError(f"unknown 设置 key {key!r}")
    for row in rows:
        if row.key == key:
            row.value = value
            return
    rows.append(make_row(key=key, value=value))


def initial_rows(year: int) -> list[tuple[str, Any, str]]:
    """The 设置 rows of a new ledger: (项目, 值, 说明) of every key, 年度 filled in."""
    return [(spec.key, year if spec.kind == "year" else ("" if spec.default is None else spec.default), spec.note)
            for spec in SPECS]


def default(key: str) -> Any:
    """The default value of a 设置 key."""
    return BY_KEY[key].default


def allowed_text(spec: Spec) -> str:
    """What a key accepts, in Chinese (the README's table and the sheet's 说明)."""
    if spec.kind == "choice":
        return "、".join(spec.choices)
    if spec.kind in ("int", "year"):
        return f"{spec.bounds[0]:g}–{spec.bounds[1]:g} 的整数" if spec.bounds else "四位年份"
    if spec.kind == "number":
        return f"{spec.bounds[0]:g}–{spec.bounds[1]:g} 的数"
    if spec.kind == "float":
        return "0–1 的小数或百分数"
    if spec.kind in ("quarter", "month"):
        return "季度如 2024Q3" if spec.kind == "quarter" else "月份如 2024-10"
    return "文字"


def markdown_table() -> str:
    """The README's table of 设置 keys (``python -m xl_duban.domain.settings`` prints it)."""
    lines = ["| 项目 | 默认值 | 可填写 | 说明 |", "|---|---|---|---|"]
    for spec in SPECS:
        value = "（空）" if spec.default in (None, "") else f"{spec.default}"
        lines.append(f"| {spec.key} | {value} | {allowed_text(spec)} | {spec.note} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
