"""Unit names: normalisation, splitting cells, the directory with aliases and collectives.

Real documents name one unit many ways: ``区发展和改革局`` / ``区发展改革局`` / ``区发改局``
across years, spaces padded in for alignment, full-width characters, a long name wrapped
over two lines of a Word cell (``区创建全国文明城市工作`` / ``领导小组办公室``), and collective
names (``各镇人民政府、街道办事处``) that stand for every township. Lights, bulletins and
emails are per unit, so each spelling must resolve to exactly one directory entry — or
become a finding that asks a person, never a silent guess.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Iterable, Sequence

from rapidfuzz import fuzz, process

from .models import Unit, UnitType

# Endings that close a unit's name: a line ending in one is a name by itself, so the next line
# does not continue it (``埔前镇`` / ``源南镇`` are two towns). 乡 and 镇 close a name except in
# the words 城乡 / 城镇 (``区住房和城乡`` / ``建设局`` is one wrapped name).
UNIT_SUFFIXES = (
    "街道办事处", "办事处", "人民政府", "政府", "镇", "乡", "街道", "街道办",
    "局", "分局", "委员会", "委", "办公室", "办", "中心", "大队", "支队", "总队", "所", "站", "院", "馆",
    "公司", "集团", "联合会", "部", "社", "会", "署", "厅", "队", "室", "团", "联", "处", "科", "组", "行", "校",
    "园", "专班", "班", "指挥部", "协", "管委",
)
ORG_SUFFIXES = UNIT_SUFFIXES  # the older name, kept for callers
# A line that is only a generic ending (``人民政府``, ``体育局`` is not: it has a head) continues
# the name above it: ``埔前镇`` / ``人民政府``, ``区工业园`` / ``管理委员会``.
_GENERIC_TAILS = frozenset((*UNIT_SUFFIXES, "管理委员会", "管委会", "领导小组办公室", "事务中心", "服务中心", "管理局"))
# A branch-office fragment (``源城分局``) continues the name on the line above it.
_BRANCH_FRAGMENT = re.compile(r"[^区市省县各]{1,6}分局")
# A line opening like this starts a new name (区…, 市…, 各镇…, 有关单位, 相关镇街), never the rest
# of the name above it. ``市场…`` is a word, not the prefix 市 (``源城区`` / ``市场监督管理局``).
_NEW_NAME = re.compile(r"^(?:区|市(?!场)|省|县|各|有关|相关|全区|国家)")
# A town or street names itself without a level prefix: ``源南镇``, ``新江街道办``.
_TOWNSHIP_NAME = re.compile(r"^[^区市省县各有相全]\w+?(?:(?<!城)[镇乡]|街道)(?:人民政府|政府|办事处|办)?$")

# Collective names seen in the documents → the unit type they stand for (None: cannot be
# expanded automatically). The rule in :func:`collective` recognises these and their variants.
COLLECTIVES: dict[str, str | None] = {
    "各镇人民政府、街道办事处": UnitType.township.value,
    "各镇(街道)政府(办事处)": UnitType.township.value,
    "各镇(街道)": UnitType.township.value,
    "各镇街": UnitType.township.value,
    "各镇、街道": UnitType.township.value,
    "区直各单位": UnitType.department.value,
    "区直各部门": UnitType.department.value,
    "有关镇人民政府、街道办事处": None,
    "有关镇(街道)": None,
}


@dataclass(frozen=True)
class Collective:
    """A group name standing for several units (DESIGN §3).

    ``all_of``: every unit of ``type`` (各镇人民政府、街道办事处, 区直各部门) — expanded when issued.
    Otherwise some-of (相关镇街道, 区直相关单位, 有关部门): which units is for the office to decide,
    so it is never a unit, never receives a form and is an error until the units are named.
    """

    name: str
    all_of: bool
    type: str | None

    @property
    def expandable(self) -> bool:
        return self.all_of and self.type is not None


# The words a group name is made of. A name made only of these, with at least one word for a
# kind of unit, is a group name: 各镇(街道), 全区各镇街, 区直相关单位, 各有关单位, 有关部门 …
_ALL_WORDS = ("全区", "所有", "全部", "各")
_SOME_WORDS = ("相关", "有关", "其他", "其它", "属地", "涉及", "牵头", "配合", "责任")
_QUALIFIERS = ("区直", "区属", "直属", "及", "和", "与")
_TOWN_WORDS = ("镇人民政府", "街道办事处", "镇政府", "人民政府", "政府", "办事处", "镇街道", "镇街", "街道办", "街道",
               "乡镇", "镇", "乡")
_DEPT_WORDS = ("职能部门", "成员单位", "机关单位", "部门单位", "委办局", "部门", "单位", "机关")
_GROUP_TOKENS = sorted({*_ALL_WORDS, *_SOME_WORDS, *_QUALIFIERS, *_TOWN_WORDS, *_DEPT_WORDS}, key=len, reverse=True)
_GROUP_PUNCT = re.compile(r"[()（）、，,;；/\s]")


@lru_cache(maxsize=4096)
def collective(name: str) -> Collective | None:
    """The group a name stands for, or None for the name of one unit.

    Recognised by rule, not only from a list: the name must consist of quantifiers (各, 全区,
    相关, 有关 …), 区直 and words for a kind of unit (镇, 街道, 人民政府, 部门, 单位 …) only.
    相关/有关/其他 or no quantifier at all make it some-of; 各/全区/所有 make it all-of when the
    kind is one 单位名录 type (镇街, or 区直部门 with 区直/部门); ``各单位`` stays some-of.
    """
    n = normalize_name(name)
    words = _GROUP_PUNCT.sub("", n)
    if not words or len(words) > 24:
        return None
    tokens: list[str] = []
    i = 0
    while i < len(words):
        token = next((t for t in _GROUP_TOKENS if words.startswith(t, i)), None)
        if token is None:
            return None
        tokens.append(token)
        i += len(token)
    town = any(t in _TOWN_WORDS for t in tokens)
    dept = any(t in _DEPT_WORDS for t in tokens)
    if not (town or dept):
        return None
    if not any(t in _ALL_WORDS or t in _SOME_WORDS or t in ("区直", "区属") for t in tokens) \
            and tokens[0] not in ("镇", "乡镇", "镇街", "镇街道"):
        return None  # a bare 人民政府 / 办事处 / 单位 is a fragment, not a group name
    some = any(t in _SOME_WORDS for t in tokens) or not any(t in _ALL_WORDS for t in tokens)
    if town and dept:
        unit_type = None
    elif town:
        unit_type = UnitType.township.value
    elif "区直" in tokens or "区属" in tokens or "部门" in tokens or "职能部门" in tokens or "委办局" in tokens:
        unit_type = UnitType.department.value
    else:
        unit_type = None  # 各单位: every unit of every kind is the office's call
    return Collective(n, not some and unit_type is not None, unit_type)


def is_unnamed_group(name: str) -> bool:
    """A some-of group name (相关镇街道) — or an all-of one no type can expand: never a unit."""
    group = collective(name)
    return group is not None and not group.expandable


_SPLIT = re.compile(r"[、，,；;/\n]+")
_FILLER = re.compile(r"[和与及的]")
_SPACE = re.compile(r"\s+")


def normalize_name(text: object) -> str:
    """Canonical spelling for comparison and storage.

    NFKC folds full-width letters, digits and brackets (``（`` → ``(``); all whitespace is
    removed because Chinese names never contain spaces — the spaces in ``疏 纲`` or
    ``区 财政局`` are alignment padding from Word.
    """
    s = unicodedata.normalize("NFKC", str(text or ""))
    s = _SPACE.sub("", s)
    s = s.replace("[bookmark:_GoBack]", "")
    return s.strip("。.，,、;；:：")


def normalize_person(text: object) -> str:
    """A leader's name without alignment spaces (``疏 纲`` → ``疏纲``)."""
    return normalize_name(text)


def split_people(cell: object) -> list[str]:
    """Split a 责任领导 cell (paragraphs or 、-separated) into normalised names, in order."""
    names = [normalize_person(p) for p in _SPLIT.split(str(cell or ""))]
    return _dedupe(n for n in names if n)


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def ends_like_org(name: str) -> bool:
    """Whether a name ends like an organisation (局, 办事处, 镇, 街道 …) — not in 城乡 / 城镇."""
    return name.endswith(UNIT_SUFFIXES) and not name.endswith(("城乡", "城镇"))


def names_itself(piece: str, known: Iterable[str] = ()) -> bool:
    """Whether a piece of a cell is a unit's name by itself, not the rest of the line above:
    a known name, a group name, a name opening with a level (区…, 市…), or a town or street."""
    return (piece in known or collective(piece) is not None or _NEW_NAME.match(piece) is not None
            or (_TOWNSHIP_NAME.match(piece) is not None and piece not in _GENERIC_TAILS))


def _is_standalone(piece: str, known: set[str]) -> bool:
    """A complete name: known, or ending like an organisation with a head (``区委`` has none)."""
    return piece in known or (len(piece) >= 3 and ends_like_org(piece))


_SEPARATORS = re.compile(r"[、，,；;/]+")


def _pieces(line: str) -> list[str]:
    """One line's names: split at 、，；/ and at spaces (re-joined later if they were padding)."""
    out: list[str] = []
    for part in _SEPARATORS.split(line):
        words = [normalize_name(w) for w in _SPACE.split(part.strip())]
        words = [w for w in words if w]
        if words:
            out.append(words)  # type: ignore[arg-type]
    return out  # type: ignore[return-value]


def split_units(cell: object, known: Iterable[str] = ()) -> list[str]:
    """Split a unit cell into normalised names, re-joining names wrapped across lines.

    Names are separated by line breaks (paragraphs), 、，；/ and spaces. A piece joins the one
    before it only when it is not a name by itself (:func:`names_itself`) and either the piece
    before is not a complete name (``区创建全国文明城市工作`` + ``领导小组办公室``, ``区 财政局``), or
    it is a bare ending (``埔前镇`` + ``人民政府``) or branch fragment (``市自然资源局`` + ``源城分局``).
    ``known`` are directory names and aliases and the names met earlier in the same file; a
    join that gives a known name always wins. A group name keeps its inner 、
    (``各镇人民政府、街道办事处``).
    """
    known_set = {normalize_name(k) for k in known}
    text = unicodedata.normalize("NFKC", str(cell or "")).replace("\r", "\n").replace("[bookmark:_GoBack]", "")
    result: list[str] = []
    for line in text.split("\n"):
        for g, words in enumerate(_pieces(line)):
            for w, word in enumerate(words):
                after_separator = g > 0 and w == 0  # 、，；/ on the same line: never a wrap
                if result and _group_tail(result[-1], word):
                    result[-1] = result[-1] + "、" + word
                elif result and not after_separator and _is_wrap(result[-1], word, known_set):
                    result[-1] = result[-1] + word
                else:
                    result.append(word)
    return _dedupe(n for n in (normalize_name(r) for r in result) if n)


def _group_tail(before: str, word: str) -> bool:
    """``各镇人民政府`` 、 ``街道办事处``: the second half of a group name written with 、."""
    return word in _GENERIC_TAILS and collective(before) is not None and collective(before + "、" + word) is not None


def split_list(cell: object) -> list[str]:
    """Split a multi-valued ledger cell (``、``, commas, semicolons, line breaks).

    Group names keep their inner ``、`` — ``各镇人民政府、街道办事处`` is one entry.
    Entries are stripped but otherwise kept as typed, so validation can quote them.
    """
    parts = [p.strip() for p in re.split(r"[、，,；;\n]+", str(cell or "")) if p.strip()]
    out: list[str] = []
    for part in parts:  # re-join the pieces of a group name split at its inner 、
        if out and (normalize_name(out[-1] + "、" + part) in COLLECTIVES or _group_tail(normalize_name(out[-1]), normalize_name(part))):
            out[-1] = out[-1] + "、" + part
        else:
            out.append(part)
    return out


def _is_wrap(first: str, second: str, known: set[str]) -> bool:
    """Whether ``second`` (the next line or space-separated piece) continues the name ``first``."""
    if collective(first) is not None or collective(second) is not None:
        return False
    joined = first + second
    if joined in known:
        return True
    if names_itself(second, known):
        return False
    if second in _GENERIC_TAILS:
        return True
    if not _is_standalone(first, known):
        return True
    return _BRANCH_FRAGMENT.fullmatch(second) is not None and first.endswith("局")


_VERTICAL = re.compile(r"税务|公安分局|海关|气象|供电|消防救援|烟草|邮政|人民银行|金融监管|统计调查|国家|^省|^中国")


def guess_unit_type(name: str) -> str:
    """Best guess of 类型 for a new name, for the clerk to confirm (the finding says so).

    镇 / 乡 / 街道 / 街道办事处 / 镇人民政府 → 镇街; 市…分局, 税务, 公安分局, 海关, 气象, 供电, 国家 / 省
    units → 垂直管理; 区…局 / 委 / 办 / 中心 / 部 → 区直部门; anything else → 其他.
    """
    n = normalize_name(name)
    if collective(n) is not None:
        return UnitType.other.value
    if re.search(r"(?:(?<!城)[镇乡]|街道)(?:人民政府|政府|办事处|办)?$", n):
        return UnitType.township.value
    if (n.startswith(("市", "省")) and "分局" in n) or _VERTICAL.search(n):
        return UnitType.vertical.value
    if re.match(r"^(?:\w{2})?区", n) and re.search(r"(局|委员会|委|办公室|办|中心|部|管委会)$", n):
        return UnitType.department.value
    return UnitType.other.value


# -- alias rules -------------------------------------------------------------------------------
# Official abbreviations of department words (long form → short form), applied to the
# distinctive part of a name: 发展和改革 ↔ 发展改革 ↔ 发改, 市场监督管理 ↔ 市场监管 …
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("工业商务和信息化", "工商信"), ("工业商务信息化", "工商信"), ("工业和信息化", "工信"), ("工业信息化", "工信"),
    ("发展和改革", "发改"), ("发展改革", "发改"),
    ("人力资源和社会保障", "人社"), ("人力资源社会保障", "人社"),
    ("住房和城乡建设", "住建"), ("住房城乡建设", "住建"),
    ("城市管理和综合执法", "城管执法"), ("城市管理综合执法", "城管执法"), ("城管综合执法", "城管执法"),
    ("市场监督管理", "市场监管"), ("国有资产", "国资"), ("科学技术", "科技"), ("医疗保障", "医保"),
    ("卫生健康", "卫健"), ("卫生和计划生育", "卫计"), ("文化广电旅游体育", "文广旅体"), ("文化广电旅游", "文广旅"),
    ("政务服务数据管理", "政数"), ("生态环境", "生态环境"), ("自然资源", "自然资源"), ("交通运输", "交通"),
    ("应急管理", "应急"), ("退役军人事务", "退役军人"), ("农业农村", "农业农村"), ("乡村振兴", "乡村振兴"),
    ("机构编制委员会办公室", "编办"), ("农村工作领导小组办公室", "农办"), ("精神文明建设", "文明"),
    ("人民政府办公室", "府办"), ("政府办公室", "府办"), ("府办公室", "府办"), ("政府办", "府办"),
    ("工商业联合会", "工商联"), ("科学技术协会", "科协"), ("残疾人联合会", "残联"), ("总工会", "总工会"),
    ("妇女联合会", "妇联"), ("文学艺术界联合会", "文联"), ("红十字会", "红会"),
)
_LONGEST_FIRST = tuple(sorted(ABBREVIATIONS, key=lambda pair: -len(pair[0])))  # 科学技术协会 before 科学技术
# Generic endings stripped before names are compared (longest first); 管理委员会 ~ 管委会.
_GENERIC_ENDINGS = tuple(sorted((
    "管理委员会", "管委会", "管委", "委员会", "领导小组办公室", "办公室", "办事处", "人民政府", "政府", "局", "委", "办", "中心", "部", "会", "大队", "支队", "队", "所", "站", "院", "馆", "公司", "集团", "社", "室",
), key=len, reverse=True))
# 源城区… / 河源市… (a place, then its level) or 区… / 市… / 区委…; ``区城市管理…`` is 区 + 城市管理.
_PLACE = r"(?:[^区市县省\W]\w[区市县](?=\w{2}))"
_LEVEL_PREFIX = re.compile(rf"^{_PLACE}?(?:区委|市委|县委|区|市(?!场)|县|省)?")
_BRANCH_TAIL = re.compile(r"(?<=局)\w{2,3}分局$")


@lru_cache(maxsize=8192)
def distinctive(name: str) -> str:
    """The part of a name that tells units apart, abbreviations applied: ``区发展和改革局`` →
    ``发改``, ``市医保局源城分局`` → ``医保``, ``埔前镇人民政府`` → ``埔前镇``, ``区工业园管委会`` → ``工业园``.

    Strips the level prefix (区, 市, 区委, 源城区 …), a branch tail (…局源城分局), generic endings
    (局, 委员会, 办公室, 中心, 人民政府 …) and the fillers 和/与/及; what is left is what two
    names must share to be the same unit."""
    n = _BRANCH_TAIL.sub("", normalize_name(name))
    n = _LEVEL_PREFIX.sub("", n, count=1)
    for long, short in _LONGEST_FIRST:
        n = n.replace(long, short)
    n = _FILLER.sub("", n)
    for long, short in _LONGEST_FIRST:
        n = n.replace(long, short)
    for _ in range(2):  # 委员会办公室 …; at least two characters stay (区委编办 → 编办)
        ending = next((e for e in _GENERIC_ENDINGS if n.endswith(e) and len(n) - len(e) >= 2), None)
        if ending is None:
            break
        n = n[: -len(ending)]
    return n


def _subsequence(short: str, full: str) -> bool:
    it = iter(full)
    return all(ch in it for ch in short)


def alias_rule(a: str, b: str) -> str | None:
    """Why two spellings may name one unit, or None: ``abbreviation`` (the same distinctive
    part once official abbreviations are applied: 区发展改革局 ~ 区发改局), ``short form`` (one
    distinctive part is a character-by-character short form of the other, same first character:
    区城管局 ~ 区城市管理局), ``similar`` (distinctive parts of 3+ characters at most one character
    apart). Names sharing only 区…局 share no distinctive part and never match; nor do units of
    different kinds (a 镇 and a 局) or different levels (区… and 市…; a name written without its
    level, 财政局, may be the 区财政局)."""
    na, nb = normalize_name(a), normalize_name(b)
    if not na or not nb or na == nb or collective(na) or collective(nb):
        return None
    levels = {_level(na), _level(nb)}
    if (len(levels) > 1 and "" not in levels) or _kind(na) != _kind(nb):  # 区… vs 市…; a name without its level may match
        return None
    if _institution(na) != _institution(nb):  # 区科技馆 is not 区科技局, 区统计调查队 not 区统计局
        return None
    da, db = distinctive(na), distinctive(nb)
    if not da or not db:
        return None
    if da == db:
        return "abbreviation"
    short, full = sorted((da, db), key=len)
    if len(short) >= 2 and short[0] == full[0] and _subsequence(short, full) and len(short) * 2 >= len(full):
        return "short form"
    if len(short) >= 3 and len(full) - len(short) <= 1 and fuzz.ratio(da, db) >= 80:
        return "similar"
    return None


_INSTITUTIONS = ("大队", "支队", "总队", "队", "公司", "集团", "馆", "院", "所", "站", "校", "社", "会")


def _institution(name: str) -> str:
    """The kind of body a name's ending says, once abbreviations are applied (科学技术协会 → 科协):
    ``馆``, ``所``, ``队`` …, or ``""`` for an organ of government (局, 委, 办, 中心, 人民政府 …)."""
    n = _BRANCH_TAIL.sub("", name)
    for long, short in _LONGEST_FIRST:
        n = n.replace(long, short)
    return next((e for e in _INSTITUTIONS if n.endswith(e) and not n.endswith(("委员会", "管委会"))), "")


def _level(name: str) -> str:
    m = re.match(r"^(?:[^区市县省\W]\w([区市县])(?=\w{2})|(区|市(?!场)|县|省))", name)  # 源城区… is 区
    return (m.group(1) or m.group(2)) if m else ""


def _kind(name: str) -> str:
    if re.search(r"(?:(?<!城)[镇乡]|街道)(?:人民政府|政府|办事处|办)?$", name):
        return "镇街"
    if "分局" in name:
        return "分局"
    return ""


class Match(str, Enum):
    exact = "exact"  # the canonical name
    alias = "alias"  # a registered alias
    variant = "variant"  # same name once fillers (和/与/及) are dropped
    abbreviation = "abbreviation"  # a short form: characters in order, same first and last
    collective = "collective"  # a collective name standing for several units
    unknown = "unknown"


@dataclass(frozen=True)
class Resolution:
    """How a name was matched to the directory; ``suggestions`` when it was not."""

    query: str
    match: Match
    name: str | None = None
    suggestions: tuple[str, ...] = field(default_factory=tuple)

    @property
    def certain(self) -> bool:
        """Exact, alias and collective matches need no confirmation; the others do."""
        return self.match in (Match.exact, Match.alias, Match.collective)


def _is_abbreviation(short: str, full: str) -> bool:
    if len(short) >= len(full) or len(short) < 3 or short[0] != full[0]:
        return False
    if short[-1] != full[-1] and not full.startswith(short):
        return False
    it = iter(full)
    return all(ch in it for ch in short)


class UnitDirectory:
    """The 单位名录 as a lookup: canonical names, aliases, types and collectives."""

    def __init__(self, units: Sequence[Unit]) -> None:
        self.units = list(units)
        self._by_key: dict[str, str] = {}
        self._variant: dict[str, set[str]] = {}
        for u in self.units:
            name = normalize_name(u.name)
            if not name:
                continue
            for key in [name, *(normalize_name(a) for a in u.aliases)]:
                if key:
                    self._by_key.setdefault(key, name)
                    self._variant.setdefault(_FILLER.sub("", key), set()).add(name)
        self._names = [normalize_name(u.name) for u in self.units if normalize_name(u.name)]

    def names(self) -> list[str]:
        return list(self._names)

    def known_spellings(self) -> list[str]:
        """Names and aliases — what :func:`split_units` may use to re-join wraps."""
        return list(self._by_key)

    def unit(self, name: str) -> Unit | None:
        key = normalize_name(name)
        return next((u for u in self.units if normalize_name(u.name) == key), None)

    def resolve(self, raw: str) -> Resolution:
        """Match a spelling to a canonical name (exact → alias → variant → abbreviation).

        A variant or abbreviation match is accepted only when it is unique, and never onto a
        longer name that holds another unit's name (``埔前镇`` is no short form of a glued
        ``埔前镇源南镇``); otherwise names a rule supports (:func:`alias_rule`) are offered as
        suggestions in the finding.
        """
        q = normalize_name(raw)
        if collective(q) is not None:
            return Resolution(q, Match.collective, q)
        if q in self._by_key:
            canonical = self._by_key[q]
            return Resolution(q, Match.exact if canonical == q else Match.alias, canonical)
        variants = {v for v in self._variant.get(_FILLER.sub("", q), set()) if not self._glued(v, q)}
        if len(variants) == 1:
            return Resolution(q, Match.variant, next(iter(variants)))
        abbrev = {
            self._by_key[key]
            for key in self._by_key
            if (_is_abbreviation(q, key) or _is_abbreviation(_FILLER.sub("", q), _FILLER.sub("", key)))
            and not self._glued(key, q) and not self._glued(self._by_key[key], q)
        }
        if len(abbrev) == 1:
            return Resolution(q, Match.abbreviation, next(iter(abbrev)))
        if len(abbrev) > 1:  # a short form of several names: offer them, decide nothing
            return Resolution(q, Match.unknown, None, tuple(sorted(abbrev))[:3])
        return Resolution(q, Match.unknown, None, tuple(self.suggest(q)))

    def _glued(self, full: str, query: str) -> bool:
        """Whether ``full`` holds another unit's name besides ``query`` — names glued together
        by an old import (``埔前镇源南镇``), never a longer spelling of ``query``."""
        if any(len(name) >= 3 and name != full and name != query and name in full for name in self._names):
            return True
        if full.startswith(query):
            rest = full[len(query):]
        elif full.endswith(query):
            rest = full[: -len(query)]
        else:
            return False
        return ends_like_org(query) and len(query) >= 3 and names_itself(rest, self._names) and rest not in _GENERIC_TAILS

    def suggest(self, raw: str, limit: int = 3) -> list[str]:
        """Directory names an unknown spelling may stand for (the "是否为…？" hint) — only
        where :func:`alias_rule` supports it, best reason first; never a mere look-alike."""
        q = normalize_name(raw)
        if not self._by_key or not q:
            return []
        order = {"abbreviation": 0, "short form": 1, "similar": 2}
        hits = [(order[rule], -fuzz.ratio(q, key), self._by_key[key])
                for key in self._by_key if (rule := alias_rule(q, key))]
        return _dedupe(name for _o, _r, name in sorted(hits))[:limit]

    def expand(self, name: str) -> list[str]:
        """Every unit a name stands for: itself, all units of an all-of group's type, or
        nothing for a some-of group (相关镇街道) — which units is the office's decision."""
        q = normalize_name(name)
        group = collective(q)
        if group is not None:
            if not group.expandable:
                return []
            return [normalize_name(u.name) for u in self.units if u.type == group.type and u.name]
        res = self.resolve(q)
        return [res.name] if res.name else []
