"""Unit names (DESIGN §3, seeds): normalising, splitting cells, the directory and collectives.

Cell texts below are copied from the seed documents in /work/shared/seeds (附件2/附件3 of
2022 and the 2024 督查方案), where Word wrapped long names and padded leaders' names.
"""

from __future__ import annotations

import pytest

from xl_duban.domain.models import Unit
from xl_duban.domain.units import (
    Match,
    UnitDirectory,
    guess_unit_type,
    normalize_name,
    normalize_person,
    split_list,
    split_people,
    split_units,
)

DEPT, TOWN, VERT = "区直部门", "镇街", "垂直管理"

# A directory built from names that occur in the seeds.
DIRECTORY_ROWS = [
    ("区发展和改革局", DEPT, []),
    ("区财政局", DEPT, []),
    ("区教育局", DEPT, []),
    ("区市场监督管理局", DEPT, []),
    ("区工业商务和信息化局", DEPT, ["区工信局"]),
    ("区城市管理和综合执法局", DEPT, []),
    ("区政务服务数据管理局", DEPT, []),
    ("区农业农村局", DEPT, []),
    ("区乡村振兴局", DEPT, []),
    ("区工业园管理委员会", DEPT, []),
    ("上城街道办事处", TOWN, []),
    ("新江街道办事处", TOWN, []),
    ("东埔街道办事处", TOWN, []),
    ("源西街道办事处", TOWN, []),
    ("高埔岗街道办事处", TOWN, []),
    ("埔前镇人民政府", TOWN, []),
    ("源南镇人民政府", TOWN, []),
    ("源城供电局", VERT, []),
    ("市医疗保障局源城分局", VERT, []),
]
TOWNSHIPS = ["上城街道办事处", "新江街道办事处", "东埔街道办事处", "源西街道办事处", "高埔岗街道办事处",
             "埔前镇人民政府", "源南镇人民政府"]


@pytest.fixture(scope="module")
def directory() -> UnitDirectory:
    return UnitDirectory([Unit(row=i + 2, name=n, type=t, aliases=a) for i, (n, t, a) in enumerate(DIRECTORY_ROWS)])


# -- normalize_name ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("区 财政局", "区财政局"),  # alignment padding inside the name
        ("  区财政局\t", "区财政局"),
        ("\u3000区财政局\u3000", "区财政局"),  # ideographic space
        ("区\n财政局", "区财政局"),
        ("各镇（街道）", "各镇(街道)"),  # full-width brackets folded
        ("ＡＢＣ１２３", "ABC123"),  # full-width letters and digits folded
        ("区财政局。", "区财政局"),  # trailing punctuation stripped
        ("、区财政局，", "区财政局"),
        ("区财政局[bookmark:_GoBack]", "区财政局"),  # Word bookmark residue
        (None, ""),
        ("", ""),
    ],
)
def test_normalize_name(raw, expected):
    assert normalize_name(raw) == expected


def test_normalize_person():
    assert normalize_person("疏 纲") == "疏纲"
    assert normalize_person("吴 健 ") == "吴健"


# -- split_people --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("疏 纲", ["疏纲"]),  # seed: 责任领导 padded for alignment
        ("邓彬斌", ["邓彬斌"]),
        ("疏 纲\n\n邓彬斌", ["疏纲", "邓彬斌"]),  # several leaders as paragraphs
        ("黎映花\n\n疏 纲\n\n吴 健", ["黎映花", "疏纲", "吴健"]),
        ("疏纲、邓彬斌", ["疏纲", "邓彬斌"]),
        ("疏 纲、吴 健、疏纲", ["疏纲", "吴健"]),  # duplicates collapse, order kept
        ("", []),
        (None, []),
    ],
)
def test_split_people(cell, expected):
    assert split_people(cell) == expected


# -- split_units ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        # Wrapped names from the seeds, rejoined without any directory knowledge.
        ("区创建全国文明城市工作\n\n领导小组办公室", ["区创建全国文明城市工作领导小组办公室"]),
        ("市医疗保障局\n\n源城分局", ["市医疗保障局源城分局"]),
        ("区文化广电旅游\n\n体育局", ["区文化广电旅游体育局"]),
        # Not wraps: each line is a complete unit.
        ("上城街道办事处\n\n新江街道办事处", ["上城街道办事处", "新江街道办事处"]),
        ("上城街道办事处\n\n新江街道办事处\n\n区文化广电旅游体育局",
         ["上城街道办事处", "新江街道办事处", "区文化广电旅游体育局"]),
        ("东埔街道办事处\n\n源西街道办事处\n\n上城街道办事处",
         ["东埔街道办事处", "源西街道办事处", "上城街道办事处"]),
        ("区乡村振兴局\n\n源城供电局", ["区乡村振兴局", "源城供电局"]),
        # Collectives stay whole, also next to other units.
        ("各镇人民政府、街道办事处", ["各镇人民政府、街道办事处"]),
        ("区农业农村局\n\n各镇人民政府、街道办事处", ["区农业农村局", "各镇人民政府、街道办事处"]),
        # Seed 附件1 bracket list: 、 and ， separators, a branch office, then a collective.
        ("区工业园管理委员会、区发展和改革局、市生态环境局源城分局，各镇人民政府、街道办事处",
         ["区工业园管理委员会", "区发展和改革局", "市生态环境局源城分局", "各镇人民政府、街道办事处"]),
        ("各镇（街道）政府（办事处）", ["各镇(街道)政府(办事处)"]),
        # Padding, CRLF and repeats.
        ("区 财政局\r\n区财政局", ["区财政局"]),
        ("区财政局/区教育局；区民政局", ["区财政局", "区教育局", "区民政局"]),
        ("", []),
        (None, []),
    ],
)
def test_split_units_without_directory(cell, expected):
    assert split_units(cell) == expected


def test_split_units_known_name_is_not_joined_to_previous_line():
    assert split_units("区乡村振兴局\n\n源城供电局", known=["源城供电局"]) == ["区乡村振兴局", "源城供电局"]
    assert split_units("区乡村振兴局\n\n源城供电局", known=["区乡村振兴局", "源城供电局"]) == ["区乡村振兴局", "源城供电局"]


def test_split_units_two_known_names_stay_apart():
    # 区科协 does not end like an organisation, so only the directory keeps it apart from the next line.
    assert split_units("区科协\n\n区妇联", known=["区科协", "区妇联"]) == ["区科协", "区妇联"]


def test_split_units_known_joined_name_wins():
    # The first piece ends like an organisation (…局) and the second is not a bare branch
    # fragment, so only the directory can tell that this is one wrapped name.
    cell = "区自然资源局\n\n源城规划中心"
    assert split_units(cell) == ["区自然资源局", "源城规划中心"]
    assert split_units(cell, known=["区自然资源局源城规划中心"]) == ["区自然资源局源城规划中心"]


def test_split_units_uses_directory_spellings(directory):
    cell = "区乡村振兴局\n\n源城供电局\n\n市医疗保障局\n\n源城分局"
    assert split_units(cell, directory.known_spellings()) == ["区乡村振兴局", "源城供电局", "市医疗保障局源城分局"]


# -- split_list ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("各镇人民政府、街道办事处", ["各镇人民政府、街道办事处"]),
        ("区财政局、各镇人民政府、街道办事处", ["区财政局", "各镇人民政府、街道办事处"]),
        ("各镇人民政府、街道办事处、区财政局", ["各镇人民政府、街道办事处", "区财政局"]),
        ("有关镇人民政府、街道办事处", ["有关镇人民政府、街道办事处"]),
        # one entry, kept as typed (full-width brackets included) so validation can quote it
        ("各镇（街道）政府（办事处）、区教育局", ["各镇（街道）政府（办事处）", "区教育局"]),
        ("各镇人民政府、 街道办事处；区财政局", ["各镇人民政府、街道办事处", "区财政局"]),
        ("区财政局， 区教育局;区民政局；区司法局\n区应急管理局",
         ["区财政局", "区教育局", "区民政局", "区司法局", "区应急管理局"]),
        ("区 财政局", ["区 财政局"]),  # kept as typed so validation can quote it
        ("区财政局、、", ["区财政局"]),
        ("", []),
        (None, []),
    ],
)
def test_split_list(cell, expected):
    assert split_list(cell) == expected


# -- UnitDirectory.resolve -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("query", "match", "name"),
    [
        ("区发展和改革局", Match.exact, "区发展和改革局"),
        (" 区发展和改革局 ", Match.exact, "区发展和改革局"),
        ("区 发展和改革局", Match.exact, "区发展和改革局"),
        ("区工信局", Match.alias, "区工业商务和信息化局"),
        ("区发展改革局", Match.variant, "区发展和改革局"),  # 2024 督查方案 spelling
        ("区工业商务信息化局", Match.variant, "区工业商务和信息化局"),
        ("区发改局", Match.abbreviation, "区发展和改革局"),
        ("区市场监管局", Match.abbreviation, "区市场监督管理局"),  # 2024 督查方案 spelling
        ("新江街道办", Match.abbreviation, "新江街道办事处"),
        ("埔前镇政府", Match.abbreviation, "埔前镇人民政府"),
        ("各镇人民政府、街道办事处", Match.collective, "各镇人民政府、街道办事处"),
        ("各镇（街道）", Match.collective, "各镇(街道)"),
    ],
)
def test_resolve_ladder(directory, query, match, name):
    res = directory.resolve(query)
    assert res.match is match
    assert res.name == name
    assert res.suggestions == ()


def test_resolution_certainty(directory):
    assert directory.resolve("区发展和改革局").certain
    assert directory.resolve("区工信局").certain
    assert directory.resolve("各镇人民政府、街道办事处").certain
    assert not directory.resolve("区发展改革局").certain
    assert not directory.resolve("区发改局").certain
    assert not directory.resolve("区统计局").certain


def test_resolve_unknown_with_suggestion(directory):
    res = directory.resolve("区发展与改革委员会")
    assert res.match is Match.unknown
    assert res.name is None
    assert res.suggestions[0] == "区发展和改革局"


def test_resolve_unknown_name(directory):
    # Issue 22: 区统计局 shares only 区…局 with the directory's names — no rule supports any of
    # them, so nothing is suggested (the old fuzzy ratio offered three look-alikes).
    res = directory.resolve("区统计局")
    assert res.match is Match.unknown
    assert res.name is None
    assert res.suggestions == ()


def test_resolve_ambiguous_abbreviation_is_unknown(directory):
    # 区…管理局 fits 区市场监督管理局, 区政务服务数据管理局 and 区城市管理和综合执法局.
    res = directory.resolve("区管理局")
    assert res.match is Match.unknown
    assert res.name is None
    assert res.suggestions


def test_resolve_ambiguous_variant_is_not_guessed():
    d = UnitDirectory([Unit(name="区甲和乙局", type=DEPT), Unit(name="区甲与乙局", type=DEPT)])
    assert d.resolve("区甲乙局").name is None
    assert d.resolve("区甲和乙局").match is Match.exact


def test_suggest_on_empty_directory():
    d = UnitDirectory([])
    assert d.suggest("区财政局") == []
    assert d.resolve("区财政局").match is Match.unknown


def test_directory_accessors(directory):
    assert directory.names() == [n for n, _t, _a in DIRECTORY_ROWS]
    assert set(directory.known_spellings()) == {n for n, _t, _a in DIRECTORY_ROWS} | {"区工信局"}
    assert directory.unit("区 财政局").name == "区财政局"
    assert directory.unit("区统计局") is None


# -- expand --------------------------------------------------------------------------------------

def test_expand_township_collective(directory):
    assert directory.expand("各镇人民政府、街道办事处") == TOWNSHIPS
    assert directory.expand("各镇（街道）") == TOWNSHIPS
    assert directory.expand("各镇街") == TOWNSHIPS


def test_expand_department_collective(directory):
    assert directory.expand("区直各单位") == [n for n, t, _a in DIRECTORY_ROWS if t == DEPT]


def test_expand_unspecified_collective_is_empty(directory):
    assert directory.expand("有关镇人民政府、街道办事处") == []
    assert directory.expand("有关镇（街道）") == []


def test_expand_single_names(directory):
    assert directory.expand("区发改局") == ["区发展和改革局"]
    assert directory.expand("区工信局") == ["区工业商务和信息化局"]
    assert directory.expand("区统计局") == []


# -- guess_unit_type ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("新江街道办事处", TOWN),
        ("埔前镇人民政府", TOWN),
        ("新江街道办", TOWN),
        ("源南镇政府", TOWN),
        ("市医疗保障局源城分局", VERT),
        ("市自然资源局源城分局", VERT),
        ("源城供电局", VERT),
        ("区税务局", VERT),
        ("区财政局", DEPT),
        ("区委宣传部", DEPT),
        ("各镇人民政府、街道办事处", "其他"),
        ("市生态环境局", "其他"),
        ("源城区残疾人联合会", "其他"),
    ],
)
def test_guess_unit_type(name, expected):
    assert guess_unit_type(name) == expected


# -- split_units: unrelated names are not joined (review fix) ---------------------------------------

@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("区科协\n区财政局", ["区科协", "区财政局"]),  # 科协 ends like an organisation
        ("区发改\n\n区财政局", ["区发改", "区财政局"]),  # an abbreviation, then a name of its own
        ("区发改\n\n市生态环境局源城分局", ["区发改", "市生态环境局源城分局"]),
        ("区发改\n\n有关镇（街道）", ["区发改", "有关镇(街道)"]),
        ("区发改\n\n各镇街", ["区发改", "各镇街"]),
        ("源城区\n\n市场监督管理局", ["源城区市场监督管理局"]),  # 市场 is a word, not the prefix 市
    ],
)
def test_split_units_never_joins_a_new_name(cell, expected):
    assert split_units(cell) == expected


def test_split_units_wraps_still_join():
    assert split_units("区创建全国文明城市工作\n\n领导小组办公室") == ["区创建全国文明城市工作领导小组办公室"]
    assert split_units("市医疗保障局\n\n源城分局") == ["市医疗保障局源城分局"]
    assert split_units("区文化广电旅游\n\n体育局") == ["区文化广电旅游体育局"]


# -- split_subitems (domain, shared with samples) ---------------------------------------------------

def test_split_subitems_continuation_and_decimals():
    from xl_duban.domain.importing import split_subitems
    from xl_duban.samples import split_subitems as samples_split

    assert samples_split is split_subitems
    lines = ["保障城区供水。", "1.新建水厂一座，", "日供水2万吨。", "", "2.改造管网2.5公里。", "3、完成验收。"]
    assert split_subitems(lines) == (["保障城区供水。"],
                                     ["1.新建水厂一座，\n日供水2万吨。", "2.改造管网2.5公里。", "3、完成验收。"])
    assert split_subitems(["2.5万平方米绿地。"]) == (["2.5万平方米绿地。"], [])
    assert split_subitems(["1.种植2.5万平方米绿地。", "2.5万株乔木。"]) == ([], ["1.种植2.5万平方米绿地。\n2.5万株乔木。"])
