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
    # For an all-of group of 镇街: the endings its units' names must have (各街道 → the streets
    # only, 各镇 → the towns only); empty for every unit of the type.
    only: tuple[str, ...] = ()

    @property
    def expandable(self) -> bool:
        return self.all_of and self.type is not None

    def covers(self, name: str) -> bool:
        """Whether a unit of the group's type is one of the group (各街道 holds no town)."""
        return not self.only or _town_kind(normalize_name(name)) in self.only


# The words a group name is made of. A name made only of these, with at least one word for a
# kind of unit, is a group name: 各镇(街道), 全区各镇街, 区直相关单位, 各有关单位, 有关部门 …
_ALL_WORDS = ("全区", "所有", "全部", "各")
_SOME_WORDS = ("相关", "有关", "其他", "其它", "属地", "涉及", "项目所在", "所在", "所属", "下属", "牵头", "配合", "责任", "等")
_QUALIFIERS = ("区直", "区属", "直属", "及", "和", "与", "的")
# A level written before a group name (区相关部门, 市有关部门, 辖区各镇街): only at its start.
_LEVEL_WORDS = ("全市", "全县", "辖区", "区", "市", "县")
_TOWN_WORDS = ("镇人民政府", "街道办事处", "镇政府", "人民政府", "政府", "办事处", "镇街道", "镇街", "街道办", "街道",
               "乡镇", "镇", "乡", "街")
_DEPT_WORDS = ("职能部门", "成员单位", "机关单位", "部门单位", "委办局", "部门", "单位", "机关")
# Kinds of body that are no 单位名录 type: 各镇街卫生院, 各中小学校, 相关村（社区）, 相关企业 — a group
# of them is never expanded; the office names the units.
_OTHER_KIND_WORDS = ("卫生院", "医院", "医疗卫生机构", "医疗机构", "卫生机构", "机构", "中小学校", "中小学", "学校", "幼儿园",
                     "国有企业", "国企", "企业", "村社区", "村居", "社区", "村委会", "居委会", "村", "市场监管所", "派出所",
                     "司法所", "站所", "执法中队", "中队", "所", "站")
_GROUP_TOKENS = sorted({*_ALL_WORDS, *_SOME_WORDS, *_QUALIFIERS, *_TOWN_WORDS, *_DEPT_WORDS, *_OTHER_KIND_WORDS},
                       key=len, reverse=True)
_GROUP_PUNCT = re.compile(r"[()（）、，,;；/\s]")
_STREET_WORDS = ("街道办事处", "街道办", "街道", "办事处", "街")
_TOWN_ONLY_WORDS = ("镇人民政府", "镇政府", "镇")


def _town_kind(name: str) -> str:
    """``街道``, ``镇`` or ``乡`` for a township's name (新江街道办事处, 埔前镇人民政府), else ``""``."""
    m = re.search(r"(?:(?<!城)([镇乡])|(街道))(?:人民政府|政府|办事处|办)?$", name)
    return "" if m is None else (m.group(1) or m.group(2))


def _only(tokens: list[str]) -> tuple[str, ...]:
    """Which townships an all-of group of 镇街 holds: 各街道 → streets, 各镇 → towns, 各乡镇 → towns
    and 乡, 各镇街 / 各镇（街道） / 各镇人民政府、街道办事处 → all (empty)."""
    words = [t for t in tokens if t in _TOWN_WORDS]
    streets = any(t in _STREET_WORDS for t in words)
    towns = any(t in _TOWN_ONLY_WORDS or t == "乡镇" for t in words)
    xiang = any(t in ("乡", "乡镇") for t in words)
    if streets and not (towns or xiang) and not any(t in ("镇街", "镇街道") for t in words):
        return ("街道",)
    if (towns or xiang) and not streets and not any(t in ("镇街", "镇街道", "人民政府", "政府") and t != "乡镇" for t in words):
        return tuple(k for k, on in (("镇", towns), ("乡", xiang)) if on)
    return ()


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
    level = next((w for w in _LEVEL_WORDS if words.startswith(w)), "")
    tokens = _group_tokens(words, 0)
    if tokens is None and level:  # 区属地部门 is 区 + 属地 + 部门, 区属国有企业 is 区属 + 国有企业
        tokens = _group_tokens(words, len(level))
    else:
        level = ""
    if tokens is None:
        return _owned_group(n, words)
    if tokens and all(t == "等" for t in tokens) and not level:
        return Collective(n, False, None)  # ``区人社局、区教育局等``: the units behind 等 are unnamed
    town = any(t in _TOWN_WORDS for t in tokens)
    dept = any(t in _DEPT_WORDS for t in tokens)
    other = any(t in _OTHER_KIND_WORDS for t in tokens)
    if not (town or dept or other) or tokens == ["街"]:
        return None
    if not any(t in _ALL_WORDS or t in _SOME_WORDS or t in ("区直", "区属") for t in tokens) \
            and tokens[0] not in ("镇", "乡镇", "镇街", "镇街道") and not other:
        return None  # a bare 人民政府 / 办事处 / 单位 is a fragment, not a group name
    if other and not any(t in _ALL_WORDS or t in _SOME_WORDS or t in ("区直", "区属") for t in tokens):
        return None  # 区卫生院, 镇卫生院: one body, not a group
    some = any(t in _SOME_WORDS for t in tokens) or not any(t in _ALL_WORDS for t in tokens)
    if other or (town and dept) or level in ("市", "全市", "县", "全县"):
        unit_type = None  # 各镇街卫生院, 市有关部门: no 单位名录 type holds them
    elif town:
        unit_type = UnitType.township.value
    elif "区直" in tokens or "区属" in tokens or "部门" in tokens or "职能部门" in tokens or "委办局" in tokens:
        unit_type = UnitType.department.value
    else:
        unit_type = None  # 各单位: every unit of every kind is the office's call
    return Collective(n, not some and unit_type is not None, unit_type,
                      _only(tokens) if unit_type == UnitType.township.value else ())


# Where the group part of ``区创文办各成员单位`` / ``区教育局所属学校`` begins.
_OWNED_TAIL = re.compile(r"各|所属|下属|成员")


def _owned_group(name: str, words: str) -> Collective | None:
    """``各税务所``, or a group belonging to one unit: ``区创文办各成员单位``, ``区市场监管局各市场监管所``,
    ``区教育局所属学校``. Which of them answer is the office's call — the owner itself, or named
    members — so it is an unnamed group, never the owner and never a unit of its own."""
    if words.startswith("各") and 2 <= len(words) - 1 <= 8 and ends_like_org(words[1:]):
        return Collective(name, False, None)  # 各税务所, 各执法大队: every one of a kind no type holds
    for m in _OWNED_TAIL.finditer(words):
        owner, tail = words[: m.start()], words[m.start():]
        if len(owner) < 3 or not ends_like_org(owner):
            continue
        if tail.startswith("成员"):
            tail = "各" + tail
        if collective(tail) is not None:
            return Collective(name, False, None)
    return None


def _group_tokens(words: str, start: int) -> list[str] | None:
    tokens: list[str] = []
    i = start
    while i < len(words):
        token = next((t for t in _GROUP_TOKENS if words.startswith(t, i)), None)
        if token is None:
            return None
        tokens.append(token)
        i += len(token)
    return tokens


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
    it is a bare ending (``埔前镇`` + ``人民政府``), a broken ending (``区委政法委`` + ``员会``), a branch
    fragment (``市自然资源局`` + ``源城分局``) or the sub-body of a parent organ (``中共龙湖区委`` +
    ``宣传部``, ``市公安局龙湖分局`` + ``交警大队``, ``国家税务总局`` + ``龙湖区税务局``).
    ``known`` are directory names and aliases and the names met earlier in the same file; a
    join that gives a known name always wins. A group name keeps its inner 、
    (``各镇人民政府、街道办事处``). Bare names before a township ending share it (``龙城、新城街道``
    → 龙城街道, 新城街道); ``区教育局等相关部门`` is the unit and the unnamed rest (等相关部门); a
    bracketed name is a unit of its own (``区卫健局（区疾控中心）``), other bracketed words are
    notes (:func:`split_unit_cell`).
    """
    return split_unit_cell(cell, known)[0]


def split_unit_cell(cell: object, known: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """:func:`split_units` and the bracketed notes it dropped (``区教育局（牵头）`` → ``牵头``)."""
    known_set = {normalize_name(k) for k in known}
    text = unicodedata.normalize("NFKC", str(cell or "")).replace("\r", "\n").replace("[bookmark:_GoBack]", "")
    result: list[str] = []
    for line in text.split("\n"):
        for g, words in enumerate(_share_suffix(_pieces(line), known_set)):
            for w, word in enumerate(words):
                after_separator = g > 0 and w == 0  # 、，；/ on the same line: never a wrap
                if result and _group_tail(result[-1], word):
                    result[-1] = result[-1] + "、" + word
                elif result and not after_separator and _is_wrap(result[-1], word, known_set):
                    result[-1] = result[-1] + word
                else:
                    result.append(word)
    names: list[str] = []
    notes: list[str] = []
    for piece in (normalize_name(r) for r in result):
        for name in _split_etc(piece, known_set):
            got, dropped = _unbracket(name, known_set)
            names.extend(got)
            notes.extend(dropped)
    return _dedupe(n for n in (normalize_name(n) for n in names) if n), notes


# Township endings a list of bare names may share: 龙城、新城街道 → 龙城街道, 新城街道.
_SHARED_ENDINGS = ("街道办事处", "镇人民政府", "街道", "镇", "乡")


def _share_suffix(groups: list[list[str]], known: set[str]) -> list[list[str]]:
    """Give bare names (2–3 characters, no ending, not a known name) the township ending of the
    name after them on the same line: ``东湖、西山镇`` → 东湖镇, 西山镇. A bare name known with
    another ending (东湖镇 known, the list says 东湖、新城街道) is left as written."""
    out = [list(g) for g in groups]
    for g, words in enumerate(out):
        if len(words) != 1 or not _bare(words[0], known):
            continue
        nxt = next((o for o in out[g + 1:] if not (len(o) == 1 and _bare(o[0], known))), None)
        if nxt is None or len(nxt) != 1:
            continue
        ending = next((e for e in _SHARED_ENDINGS if nxt[0].endswith(e) and 2 <= len(nxt[0]) - len(e) <= 3), None)
        if ending is None or collective(nxt[0]) is not None or _NEW_NAME.match(nxt[0]):
            continue
        other = [k for k in known if k.startswith(words[0]) and _town_kind(k) and _town_kind(k) != _town_kind(nxt[0])]
        if other and words[0] + ending not in known:
            continue  # known as a town of the other kind: the office decides
        out[g] = [words[0] + ending]
    return out


def _bare(word: str, known: set[str]) -> bool:
    return (2 <= len(word) <= 3 and word not in known and not ends_like_org(word) and not word.endswith(_SHARED_ENDINGS)
            and collective(word) is None
            and _NEW_NAME.match(word) is None and not re.search(r"[()\d]", word))


_ETC = re.compile(r"等(?=[^等]*$)")
_AND = re.compile(r"以及|及|和|与")


def _split_etc(piece: str, known: set[str]) -> list[str]:
    """``区退役军人事务局等相关部门`` → the unit and the unnamed rest ``等相关部门``; ``区教育局等`` →
    the unit and ``等``. Only when the part before 等 is a unit's name and the rest a group.
    ``区教育局及各中小学`` / ``区卫健局和区医保局`` → both, split at 及/和/与 only where the part
    before is a unit's name and the part after a group or a name with its own level (区…), so
    ``区发展和改革局`` stays one name."""
    m = _ETC.search(piece)
    if m is not None and m.start() > 0:
        head, tail = piece[: m.start()], piece[m.start():]
        if _unit_like(head, known) and collective(tail) is not None:
            return [head, tail]
    for m in _AND.finditer(piece):
        head, tail = piece[: m.start()], piece[m.end():]
        if _unit_like(head, known) and tail and (
                collective(tail) is not None or tail in known or (_NEW_NAME.match(tail) and _unit_like(tail, known))):
            return [head, *_split_etc(tail, known)]
    return [piece]


def _unit_like(name: str, known: set[str]) -> bool:
    return name in known or (len(name) >= 3 and ends_like_org(name))


_BRACKETED = re.compile(r"[()]")


def _unbracket(piece: str, known: set[str]) -> tuple[list[str], list[str]]:
    """Names and notes of a piece with brackets: ``区卫健局(区疾控中心)`` → 区卫健局 and 区疾控中心
    (a unit's name by itself), ``区教育局(牵头)`` → 区教育局 and the note 牵头. A group name keeps its
    brackets (各镇(街道)); no unit's name ever has one."""
    if "(" not in piece and ")" not in piece or collective(piece) is not None:
        return [piece], []
    parts = [p for p in _BRACKETED.split(piece) if p]
    if not parts:
        return [], []
    names, notes = [], []
    outer = piece[0] not in "()"
    for k, part in enumerate(parts):
        if (k == 0 and outer) or part in known or collective(part) is not None \
                or (len(part) >= 3 and ends_like_org(part)):
            names.append(part)
        else:
            notes.append(part)
    return names, notes


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
    if _broken_ending(first, second):
        return True
    if names_itself(second, known):
        return False
    if second in _GENERIC_TAILS:
        return True
    if not _is_standalone(first, known):
        return True
    if _SUB_BODY.fullmatch(second) and first.endswith(_PARENT_ENDINGS) and second not in known:
        return True  # 中共龙湖区委 / 宣传部, 市公安局龙湖分局 / 交警大队, 国家税务总局 / 龙湖区税务局
    return _BRANCH_FRAGMENT.fullmatch(second) is not None and first.endswith("局")


# Endings a wrap may break in two: 区委政法委 / 员会, 区人民政府办 / 公室.
_BREAKABLE_ENDINGS = ("委员会", "办公室", "办事处", "人民政府", "管委会", "联合会", "指挥部", "事务中心", "服务中心")
# A parent organ whose sub-body a wrapped line may name: a party committee, a branch, a 总局.
_PARENT_ENDINGS = ("区委", "市委", "县委", "党委", "党工委", "分局", "总局")
# A sub-body with no level of its own: 宣传部, 组织部, 交警大队, 交通警察大队, 龙湖区税务局.
_SUB_BODY = re.compile(r"[^区市省县各有相全国中]\w{0,7}(?:部|办|办公室|大队|中队|支队|科|委员会|税务局)")


def _broken_ending(first: str, second: str) -> bool:
    """``区委政法委`` + ``员会``: the second line is the rest of a word the first one started."""
    if len(second) > 3 or second in _GENERIC_TAILS:
        return False
    return any(e.endswith(second) and len(second) < len(e) and first.endswith(e[: len(e) - len(second)])
               and len(first) > len(e) - len(second) for e in _BREAKABLE_ENDINGS)


_VERTICAL = re.compile(r"税务|公安分局|海关|气象|供电|消防救援|烟草|邮政|人民银行|金融监管|统计调查|国家|^省|^中国")


def guess_unit_type(name: str) -> str:
    """Best guess of 类型 for a new name, for the clerk to confirm (the finding says so).

    镇 / 乡 / 街道 / 街道办事处 / 镇人民政府 → 镇街; …公司 / …集团 → 其他; …分局, 税务, 公安分局, 海关, 气象,
    供电, 国家 / 省 units → 垂直管理; 区…局 / 委 / 办 / 中心 / 部 → 区直部门; anything else → 其他.
    """
    n = normalize_name(name)
    if collective(n) is not None:
        return UnitType.other.value
    if re.search(r"(?:(?<!城)[镇乡]|街道)(?:人民政府|政府|办事处|办)?$", n):
        return UnitType.township.value
    if re.search(r"(?:公司|集团)$", n):
        return UnitType.other.value  # 中国移动龙湖分公司, 区城投集团: enterprises
    if (n.startswith(("市", "省")) and "分局" in n) or n.endswith("分局") or _VERTICAL.search(n):
        return UnitType.vertical.value  # 区自然资源分局: a branch of the city's bureau
    if re.match(r"^(?:中共)?(?:\w{2})?区", n) and re.search(r"(局|委员会|委|办公室|办|中心|部|管委会)$", n):
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


def township_key(name: str) -> str:
    """A township's name without 人民政府 / 政府 / 办事处 / 办: 东湖镇人民政府 → 东湖镇, 新城街道办事处 →
    新城街道 — the spellings one office and another use for the same town or street."""
    return re.sub(r"(?<=[镇乡])(?:人民政府|政府)$|(?<=街道)(?:办事处|办)$", "", name)


# A role written after a name in a 牵头单位 cell: 区教育局牵头，各镇街配合.
_LEAD_MARK = re.compile(r"(?:牵头负责|牵头|负责|主责)$")
_CO_MARK = re.compile(r"(?:协助配合|配合|协助|协办|参与)$")


def split_roles(names: list[str]) -> tuple[list[str], list[str]]:
    """Lead and co-operating units of a 牵头单位 cell that marks the roles itself
    (``区教育局牵头，各镇街配合`` → [区教育局], [各镇街]). A role word covers the names since the
    previous one (``区教育局、区财政局牵头``); a cell with no 配合 word is all lead, as written."""
    if not any(_CO_MARK.search(n) and _role_head(n, _CO_MARK) for n in names):
        return list(names), []
    lead: list[str] = []
    co: list[str] = []
    pending: list[str] = []
    for name in names:
        for mark, into in ((_LEAD_MARK, lead), (_CO_MARK, co)):
            head = _role_head(name, mark)
            if head:
                into.extend([*pending, head])
                pending = []
                break
        else:
            pending.append(name)
    lead.extend(pending)
    return _dedupe(lead), _dedupe(co)


def _role_head(name: str, mark: re.Pattern[str]) -> str:
    m = mark.search(name)
    if m is None or m.start() == 0:
        return ""
    head = name[: m.start()]
    return head if collective(head) is not None or (len(head) >= 3 and ends_like_org(head)) else ""


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
        self._township: dict[str, set[str]] = {}  # 东湖镇 ≡ 东湖镇人民政府, 新城街道 ≡ 新城街道办事处
        for key, name in self._by_key.items():
            if _town_kind(key):
                self._township.setdefault(township_key(key), set()).add(name)

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
        townships = self._township.get(township_key(q), set()) if not abbrev and _town_kind(q) else set()
        if len(townships) == 1:  # 东湖镇人民政府 when the directory says 东湖镇: 镇 ≡ 镇人民政府
            return Resolution(q, Match.variant, next(iter(townships)))
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
            if ends_like_org(query) and len(query) >= 3 and len(rest) >= 3 and ends_like_org(rest) \
                    and not any(t.endswith(rest) for t in (*_GENERIC_TAILS, *_BREAKABLE_ENDINGS)):
                return True  # 区公安分局交警大队 is a body under 区公安分局, never another spelling of it
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
            return [normalize_name(u.name) for u in self.units if u.type == group.type and u.name and group.covers(u.name)]
        res = self.resolve(q)
        return [res.name] if res.name else []
