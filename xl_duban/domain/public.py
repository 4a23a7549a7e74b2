"""What the public version (公开版) of a period says — pure: every row is a task of the ledger,
its status the final light in public wording, its progress the lead units' own words.

The 督查方案 asks that the progress of the 政府工作报告 tasks and the 民生实事 be published
“以适当方式向社会公开”. A citizen reads what the district promised, who answers for it and
how far it has got; the internal side of supervision is not public: which unit was called
to an 约谈, which got a 整改通知书, a unit's 自评 or 存在问题, a return the office refused,
findings — and the staff who filled in a form, their phone numbers and mail addresses, even
where a unit wrote them into its own 进展情况 (:func:`scrub`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

from .bulletin import sentences, split_sentences, subject_words, task_text
from .issuing import lead_units_of
from .lights import final_light, normalize_completion, unit_key_of
from .models import SEP, Completion, Ledger, LightColor, Task, TaskKind, TaskStatus
from .periods import Period
from .settings import Settings
from .units import UnitDirectory

# Words of the internal side of supervision: a sentence of a unit's progress that holds one
# is not published (it speaks of the office's measures, not of the work).
INTERNAL_WORDS = ("约谈", "整改", "自评", "退回", "隔离", "问责", "扣分", "亮灯", "绿灯", "黄灯", "红灯", "未报送",
                  "逾期", "核定", "存在问题", "督查室", "督办单", "校验", "反馈表")

# a full-width form (０-９, Ａ-Ｚ, ＠, －, （）, ：, ideographic space) read as its ASCII twin, one character for
# one, so a match in the folded text is a match at the same place in the unit's own words
_FOLD = {**{c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}, 0x3000: 0x20, 0x2014: 0x2D, 0x2010: 0x2D, 0x2013: 0x2D,
         0x2212: 0x2D}
_D = r"\d(?:[ \-]?\d)"  # a digit, then digits a space or hyphen may separate (138 1234 5678, 0755-1234-5678)
_CONTACT = re.compile("|".join((
    r"(?<![\d.])(?:\+?86[ \-]?)?1[3-9]" + _D[2:] + r"{9}(?![\d])",  # mobile, +86 optional
    r"(?<![\d.])\(?0\d{2,3}\)?[ \-]?\d(?:[ \-]?\d){6,7}(?:[ \-]?(?:转|ext\.?|-)[ ]?\d{1,5})?(?!\d)",  # (0755)12345678-801
    r"(?<![\d.])[48]00(?:[ \-]?\d){7}(?!\d)",  # 400 / 800 hotlines
    r"[A-Za-z0-9._%+\-]+ ?(?:@|\(at\)|\[at\]| at ) ?[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",  # mail
    r"(?:电话|手机|座机|传真|热线|联系方式|tel|phone|qq|微信|wechat|邮箱|e-?mail)\s*[:：]?\s*[A-Za-z0-9_\-@.() ]{5,}",
    r"(?:联系人|填报人|填表人|审核人|经办人)\s*[:：]",  # whoever the label names, known to the ledger or not
)), re.IGNORECASE)
# a bare number of 7–8 digits is a local telephone number unless a unit or measure follows it
# (12345678元, 1234567人次) or it is a date (20220630)
_LOCAL = re.compile(r"(?<![\d.])(\d(?:[ \-]?\d){6,7})(?![\d.]|\s*[元万亿千百十个人户家项件次套台间所座条处公米平亩吨辆份张%‰年月日号])")
_DATE8 = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
_BRACKETS = re.compile(r"[（(【\[](?:[^（()）【】\[\]]|[（(][^（()）]*[）)])*[）)】\]]")  # one level nested: （电话：(0755)…）
_CLAUSE_END = re.compile(r"(?<=[，,、])(?!\d)")
_CLOSE = "。！？；;!?"
SEE_ITEMS = "见各分项"


def fold(text: str) -> str:
    """``text`` with full-width letters, digits and signs as ASCII, same length."""
    return text.translate(_FOLD)


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", fold(text)).lower()


def has_contact(text: str, names: Iterable[str] = ()) -> bool:
    """Whether ``text`` holds a phone number, an e-mail address (or a QQ / 微信 account) or one
    of ``names`` — whatever its width or the spaces typed inside it."""
    folded = fold(text)
    if _CONTACT.search(folded):
        return True
    for m in _LOCAL.finditer(folded):
        if not _DATE8.fullmatch(re.sub(r"[ \-]", "", m.group(1))):
            return True
    squeezed = _squeeze(text)
    return any(name and name in squeezed for name in names)


def staff_names(ledger: Ledger) -> frozenset[str]:
    """The people the ledger itself names as staff: 填报人 and 审核人 in 报送情况, 联系人 in
    单位名录 (several names in one cell split at 、，/ and spaces). Two characters at least: a
    single character would strike half the words of a sentence."""
    cells = [*(s.filler for s in ledger.submissions), *(s.reviewer for s in ledger.submissions),
             *(u.contact for u in ledger.units)]
    names = set()
    for cell in cells:
        for name in re.split(r"[、，,/;；\s]+", fold(str(cell or ""))):
            name = name.strip().lower()
            if len(name) >= 2 and not any(ch.isdigit() for ch in name):
                names.add(name)
    return frozenset(names)


def scrub(text: str, names: Iterable[str] = ()) -> str:
    """A unit's 进展情况 as it may be published: a sentence with an internal word dropped
    whole; a bracket, or a clause (between commas), that holds a phone number, an e-mail
    address or a staff name dropped; what is left in the unit's own words, sentence ends kept."""
    names = tuple(_squeeze(n) for n in names if n)
    text = _BRACKETS.sub(lambda m: "" if has_contact(m.group(0), names) else m.group(0), " ".join(text.split()))
    out = []
    for sentence in split_sentences(text):
        if any(word in _squeeze(sentence) for word in INTERNAL_WORDS):
            continue
        body = sentence.rstrip(_CLOSE)
        close = sentence[len(body):] or "。"
        kept = [c for c in _CLAUSE_END.split(body) if c.strip() and not has_contact(c, names)]
        if not kept:
            continue
        body = "".join(kept).strip().rstrip("，,、：: ")
        if body:
            out.append(body + close[-1])
    return "".join(out)


@dataclass(frozen=True)
class Words:
    """The public wording of the statuses (设置 公开用语…)."""

    done: str = "已完成"
    on_track: str = "按序时推进"
    behind: str = "进度滞后"
    closed: str = "已办结"
    pending: str = "本期进展待更新"

    @classmethod
    def of(cls, settings: Settings) -> "Words":
        return cls(settings.public_done, settings.public_on_track, settings.public_behind, settings.public_closed,
                   settings.public_pending)


@dataclass(frozen=True)
class PublicRow:
    """One line of the public table."""

    number: str  # 序号: 1, 2 … and 8-1 for a sub-item
    task_id: str  # not printed: for the office's cross-check
    task: str
    units: str  # 牵头单位 as the ledger names them
    status: str  # public wording; "" when the task has no light this period
    progress: tuple[str, ...]  # one entry per lead unit with its words (prefixed with its name when co-led)


@dataclass
class PublicPage:
    """Everything the public page prints, in print order."""

    period: Period
    kind: TaskKind
    title: str
    publisher: str
    issued_on: date
    rows: list[PublicRow] = field(default_factory=list)
    words: Words = Words()

    def counts(self) -> dict[str, int]:
        """How many tasks have each status, in the order of :class:`Words` (zero ones left out)."""
        order = (self.words.done, self.words.closed, self.words.on_track, self.words.behind)
        return {w: n for w in order if (n := sum(r.status == w for r in self.rows))}

    def summary_sentence(self) -> str:
        """本期公开N项…，其中…: the numbers a reader sees before the table."""
        kind = "《政府工作报告》重点任务" if self.kind is TaskKind.key else "民生实事"
        counts = "、".join(f"{w}{n}项" for w, n in self.counts().items())
        return f"本期公开{kind}{len(self.rows)}项" + (f"，其中{counts}" if counts else "") + "。"


def district_of(office_name: str) -> str:
    """The district a 机关名称 names (源城区人民政府办公室 → 源城区), else 区."""
    m = re.match(r"^(.{1,10}?区)", office_name or "")
    return m.group(1) if m else "区"


def public_status(task: Task, light: LightColor | None, completions: list[Completion | None], words: Words) -> str:
    """The public wording of a task's state: 已办结 when the ledger closes it; else from the final
    light — yellow or red 进度滞后, green 按序时推进, or 已完成 when every lead unit reported the
    task finished (已办结) this period; "" when the task has no light this period."""
    if task.status == TaskStatus.done.value:
        return words.closed
    if light is None:
        return ""
    if light is not LightColor.green:
        return words.behind
    if completions and all(c is Completion.closed for c in completions):
        return words.done
    return words.on_track


def build_public_page(ledger: Ledger, period: Period, settings: Settings, issued_on: date) -> PublicPage:
    """The public page of ``period`` (quarter → 重点任务, month → 民生实事): every task of that kind
    except a cancelled one, in ledger order, with its status and its lead units' words."""
    kind = TaskKind.reporting_in(period)
    words = Words.of(settings)
    directory = UnitDirectory(ledger.units)
    key = unit_key_of(directory)
    names = staff_names(ledger)
    lights = {r.task_id: final_light(r) for r in ledger.lights if r.period == str(period)}
    feedback: dict[tuple[str, str], list] = {}
    for fb in ledger.feedback:
        if fb.period == str(period):
            feedback.setdefault((fb.task_id, key(fb.unit)), []).append(fb)
    tasks = [t for t in ledger.tasks if t.kind == kind.value and t.id and t.status != TaskStatus.cancelled.value]
    page = PublicPage(period, kind, "".join(subject_words(period, kind, district_of(settings.office_name))),
                      settings.office_name or settings.signing_office, issued_on, words=words)
    parents = {t.parent_id for t in tasks if t.parent_id}
    top = 0
    sub: dict[str, int] = {}
    numbers: dict[str, str] = {}
    for task in tasks:
        parent = task.parent_id
        if parent and parent in numbers:
            sub[parent] = sub.get(parent, 0) + 1
            number = f"{numbers[parent]}-{sub[parent]}"
        else:
            top += 1
            number = str(top)
        numbers[task.id] = number
        if task.id in parents:  # a 民生实事 split into sub-items reports through them
            page.rows.append(PublicRow(number, task.id, task_text(task), SEP.join(task.lead_units), "", (SEE_ITEMS,)))
            continue
        units = lead_units_of(task, directory)
        returns = {u: feedback.get((task.id, key(u)), [None])[-1] for u in units}
        progress = []
        for unit, fb in returns.items():
            said = sentences(scrub(fb.progress, names), 120, most=2 if len(units) == 1 else 1) if fb else ""
            said = said or words.pending
            progress.append(said if len(units) == 1 else f"{unit}：{said}")
        completions = [normalize_completion(fb.completion) if fb else None for fb in returns.values()]
        page.rows.append(PublicRow(number, task.id, task_text(task), SEP.join(task.lead_units),
                                   public_status(task, lights.get(task.id), completions, words),
                                   tuple(progress) or (words.pending,)))
    return page
