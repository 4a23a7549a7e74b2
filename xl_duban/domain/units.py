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

# Endings that close an organisation name; a wrapped fragment lacking one continues.
ORG_SUFFIXES = (
    "局", "委员会", "委", "办公室", "办事处", "办", "政府", "中心", "大队", "支队", "总队", "公司",
    "集团", "分局", "院", "所", "站", "会", "部", "署", "厅", "队", "馆", "室", "社", "团", "联",
    "处", "科", "组", "行", "校", "园", "专班", "班", "指挥部", "协",
)
# A branch-office fragment (``源城分局``) continues the name on the line above it.
_BRANCH_FRAGMENT = re.compile(r"[^区市省县各]{1,6}分局")
# A line opening like this starts a new name (区…, 市…, 各镇…, 有关单位), never the rest of
# the name above it. ``市场…`` is a word, not the prefix 市 (``源城区`` / ``市场监督管理局``).
_NEW_NAME = re.compile(r"^(?:区|市(?!场)|省|县|各|有关)")

# Collective names → the unit type they stand for (None: cannot be expanded automatically).
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

_SPLIT = re.compile(r"[、，,；;/\n]+")
_FILLER = re.compile(r"[和与及的]")
_SPACE = re.compile(r"\s+")


def normalize_name(text: object) -> str:
    """Canonical spelling for comparison and storage.

    NFKC folds full-width letters, digits and brackets (``（`` → ``(``); all whitespace is
    removed because Chinese names never contain spaces — the spaces in ``疏 纲`` or
    ``区 财政局`` are alignment padding from Word.
    """
    return _normalized(str(text or ""))


@lru_cache(maxsize=8192)
def _normalized(s: str) -> str:
    """:func:`normalize_name` of a string, remembered: the same few hundred unit names are
    compared thousands of times (a province's 报送情况 alone has a row per unit and period)."""
    s = unicodedata.normalize("NFKC", s)
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
    """Whether a name ends like an organisation (局, 办事处, 委员会 …)."""
    return name.endswith(ORG_SUFFIXES)


def _protect_collectives(line: str) -> tuple[str, dict[str, str]]:
    """Replace collective names (which contain 、) by placeholders before splitting."""
    mapping: dict[str, str] = {}
    for i, name in enumerate(sorted(COLLECTIVES, key=len, reverse=True)):
        if name in line:
            token = f"\u0000{i}\u0000"
            line = line.replace(name, token)
            mapping[token] = name
    return line, mapping


def split_units(cell: object, known: Iterable[str] = ()) -> list[str]:
    """Split a unit cell into normalised names, re-joining names wrapped across lines.

    A line break inside a cell separates units, except where Word wrapped one long name:
    the pieces are joined when together they form a known name, when the first piece does
    not end like an organisation (``区文化广电旅游`` + ``体育局``), or when the second is
    a bare branch-office name (``市医疗保障局`` + ``源城分局``). ``known`` are directory names and
    aliases, used to prefer a real name when in doubt. Short of a known joined name, a
    second piece that opens a name of its own (``区…``, ``市…``, ``各…``, ``有关…``, a collective)
    is never joined: ``区科协`` / ``区财政局`` are two units.
    """
    known_set = {normalize_name(k) for k in known}
    lines = [normalize_name(x) for x in str(cell or "").replace("\r", "\n").split("\n")]
    pieces_per_line: list[list[str]] = []
    for line in lines:
        if not line:
            continue
        protected, mapping = _protect_collectives(line)
        parts = [mapping.get(p, p) for p in re.split(r"[、，,；;/]+", protected) if p]
        parts = [_restore(p, mapping) for p in parts]
        parts = [normalize_name(p) for p in parts if normalize_name(p)]
        if parts:
            pieces_per_line.append(parts)

    result: list[str] = []
    for parts in pieces_per_line:
        if result and _is_wrap(result[-1], parts[0], known_set):
            result[-1] = result[-1] + parts[0]
            parts = parts[1:]
        result.extend(parts)
    return _dedupe(result)


def split_list(cell: object) -> list[str]:
    """Split a multi-valued ledger cell (``、``, commas, semicolons, line breaks).

    Collective names keep their inner ``、`` — ``各镇人民政府、街道办事处`` is one entry.
    Entries are stripped but otherwise kept as typed, so validation can quote them.
    """
    parts = [p.strip() for p in re.split(r"[、，,；;\n]+", str(cell or "")) if p.strip()]
    out: list[str] = []
    for part in parts:  # re-join the pieces of a collective name split at its inner 、
        if out and normalize_name(out[-1] + "、" + part) in COLLECTIVES:
            out[-1] = out[-1] + "、" + part
        else:
            out.append(part)
    return out


def _restore(part: str, mapping: dict[str, str]) -> str:
    for token, name in mapping.items():
        part = part.replace(token, name)
    return part


def _is_wrap(first: str, second: str, known: set[str]) -> bool:
    if first in COLLECTIVES or second in COLLECTIVES:
        return False
    joined = first + second
    if joined in known:
        return True
    if first in known and second in known:
        return False
    if _NEW_NAME.match(second):
        return False
    if not ends_like_org(first):
        return True
    return second not in known and _BRANCH_FRAGMENT.fullmatch(second) is not None


def guess_unit_type(name: str) -> str:
    """Best guess of 类型 for a new name, for the clerk to confirm."""
    if name in COLLECTIVES:
        return UnitType.other.value
    if re.search(r"(镇人民政府|街道办事处|街道办|镇政府)$", name):
        return UnitType.township.value
    if name.startswith(("市", "省")) and ("分局" in name or "源城" in name) or name.endswith(("税务局", "供电局")):
        return UnitType.vertical.value
    if name.startswith("区"):
        return UnitType.department.value
    return UnitType.other.value


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

        A variant or abbreviation match is accepted only when it is unique; otherwise the
        closest names are offered as suggestions in the finding.
        """
        q = normalize_name(raw)
        if q in COLLECTIVES:
            return Resolution(q, Match.collective, q)
        if q in self._by_key:
            canonical = self._by_key[q]
            return Resolution(q, Match.exact if canonical == q else Match.alias, canonical)
        variants = self._variant.get(_FILLER.sub("", q), set())
        if len(variants) == 1:
            return Resolution(q, Match.variant, next(iter(variants)))
        abbrev = {
            self._by_key[key]
            for key in self._by_key
            if _is_abbreviation(q, key) or _is_abbreviation(_FILLER.sub("", q), _FILLER.sub("", key))
        }
        if len(abbrev) == 1:
            return Resolution(q, Match.abbreviation, next(iter(abbrev)))
        return Resolution(q, Match.unknown, None, tuple(self.suggest(q)))

    def suggest(self, raw: str, limit: int = 3) -> list[str]:
        """Closest directory names for an unknown spelling (for the "是否为…？" hint)."""
        q = normalize_name(raw)
        if not self._by_key or not q:
            return []
        hits = process.extract(q, list(self._by_key), scorer=fuzz.ratio, limit=limit * 3, score_cutoff=45)
        return _dedupe(self._by_key[key] for key, _score, _i in hits)[:limit]

    def expand(self, name: str) -> list[str]:
        """Every unit a name stands for: itself, or all units of a collective's type."""
        q = normalize_name(name)
        if q in COLLECTIVES:
            unit_type = COLLECTIVES[q]
            if unit_type is None:
                return []
            return [normalize_name(u.name) for u in self.units if u.type == unit_type and u.name]
        res = self.resolve(q)
        return [res.name] if res.name else []
