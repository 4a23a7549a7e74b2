"""An outside review's task lists: group names, township lists, wraps, brackets, roles, spellings.

A reviewer imported task lists written in other districts' styles (龙湖区 / 清溪区 / 南平区) and
found units made of group names (区相关部门, 项目所在镇街), 各街道 expanded to towns, shared-suffix
lists (龙城、新城街道) giving a unit called 龙城, wraps left in two (中共龙湖区委 / 宣传部), a unit filed as
an alias of its own sub-body, bracketed notes glued into names, 牵头/配合 written in one cell, and
a short form and its full name becoming two units. Each pattern is a row of a Word list written
by code, imported with ``import_files`` into a real ledger and asserted at the ledger level;
the rules behind them are checked on their own over variants below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xl_duban.domain.models import Ledger, Task, Unit
from xl_duban.domain.units import (UnitDirectory, collective, guess_unit_type, normalize_name, split_roles, split_unit_cell,
                                   split_units)
from xl_duban.io.ledger_store import LedgerStore
from xl_duban.samples import SeedTable, write_tables_docx
from xl_duban.services import import_files, init_ledger, issue_workbooks, validate_ledger

from .conftest import NOW, add_targets

pytestmark = pytest.mark.usefixtures("config_dir")

TOWN, DEPT, VERT, OTHER = "镇街", "区直部门", "垂直管理", "其他"
HEADER = ["序号", "工作任务", "责任领导", "牵头单位", "配合单位", "完成时限"]

# (序号, 牵头单位 paragraphs, 配合单位 paragraphs)
ROWS: list[tuple[int, list[str], list[str]]] = [
    (1, ["区相关部门"], ["区有关单位"]),  # group names with a level prefix
    (2, ["区退役军人事务局等相关部门"], ["各镇街卫生院"]),  # a unit + 等相关部门; all of a kind that is no type
    (3, ["项目所在镇街"], ["涉及的镇街", "区有关部门"]),  # 所在, 的
    (4, ["龙城、新城街道，东湖、西山镇"], ["白石乡"]),  # shared-suffix lists
    (5, ["中共龙湖区委", "宣传部"], ["区委政法委", "员会"]),  # a party organ's sub-body; a broken ending
    (6, ["市公安局龙湖分局", "交警大队"], ["国家税务总局", "龙湖区税务局"]),  # a branch's sub-body; a 总局's local office
    (7, ["区公安分局交警大队"], []),
    (8, ["区公安分局"], []),  # the parent after its sub-body: its own unit
    (9, ["区卫健局（区疾控中心）"], ["区住建局", "（区人防办）"]),  # bracketed names
    (10, ["区教育局牵头，各镇街配合"], []),  # roles in the lead cell
    (11, ["区市监局"], []),
    (12, ["区市场监督管理局"], []),  # the full name after its short form
    (13, ["区城管局"], ["区教育局（牵头）"]),
    (14, ["区城市管理和综合执法局"], ["各街道"]),
    (15, ["区自然资源分局"], ["中国移动龙湖分公司"]),
]
GROUPS = ["区相关部门", "区有关单位", "等相关部门", "各镇街卫生院", "项目所在镇街", "涉及的镇街", "区有关部门"]


def write_list(path: Path, rows=ROWS) -> Path:
    cells = [[[str(n)], [f"第{n}项任务：推进龙湖区重点工作{n}。"], ["张 明"], lead, co, ["2025年12月底"]] for n, lead, co in rows]
    return write_tables_docx([SeedTable("附件", "龙湖区2025年重点任务清单", HEADER, cells)], path)


def load(path: Path) -> Ledger:
    ledger, _ = LedgerStore(path).load()
    return ledger


@pytest.fixture
def imported(tmp_path):
    path = tmp_path / "台账.xlsx"
    init_ledger(path, 2025, now=NOW)
    return path, import_files(path, [write_list(tmp_path / "清单.docx")], now=NOW)


def tasks_of(ledger: Ledger) -> dict[int, Task]:
    return {int(t.seq): t for t in ledger.tasks}


def test_review_list_units_and_types(imported):
    path, _ = imported
    ledger = load(path)
    units = {u.name: (u.type, u.aliases) for u in ledger.units}
    assert units == {
        "区退役军人事务局": (DEPT, []),
        "龙城街道": (TOWN, []), "新城街道": (TOWN, []), "东湖镇": (TOWN, []), "西山镇": (TOWN, []), "白石乡": (TOWN, []),
        "中共龙湖区委宣传部": (DEPT, []), "区委政法委员会": (DEPT, []),
        "市公安局龙湖分局交警大队": (VERT, []), "国家税务总局龙湖区税务局": (VERT, []),
        "区公安分局交警大队": (VERT, []), "区公安分局": (VERT, []),
        "区卫健局": (DEPT, []), "区疾控中心": (DEPT, []), "区住建局": (DEPT, []), "区人防办": (DEPT, []),
        "区教育局": (DEPT, []),
        "区市场监督管理局": (DEPT, ["区市监局"]), "区城市管理和综合执法局": (DEPT, ["区城管局"]),
        "区自然资源分局": (VERT, []), "中国移动龙湖分公司": (OTHER, []),
    }
    assert not [n for n in units if "(" in n or collective(n)]


def test_review_list_task_units(imported):
    path, outcome = imported
    t = tasks_of(load(path))
    assert (t[1].lead_units, t[1].co_units) == (["区相关部门"], ["区有关单位"])
    assert (t[2].lead_units, t[2].co_units) == (["区退役军人事务局", "等相关部门"], ["各镇街卫生院"])
    assert (t[3].lead_units, t[3].co_units) == (["项目所在镇街"], ["涉及的镇街", "区有关部门"])
    assert t[4].lead_units == ["龙城街道", "新城街道", "东湖镇", "西山镇"]
    assert (t[5].lead_units, t[5].co_units) == (["中共龙湖区委宣传部"], ["区委政法委员会"])
    assert (t[6].lead_units, t[6].co_units) == (["市公安局龙湖分局交警大队"], ["国家税务总局龙湖区税务局"])
    assert t[7].lead_units == ["区公安分局交警大队"] and t[8].lead_units == ["区公安分局"]
    assert (t[9].lead_units, t[9].co_units) == (["区卫健局", "区疾控中心"], ["区住建局", "区人防办"])
    assert (t[10].lead_units, t[10].co_units) == (["区教育局"], ["各镇街"])
    assert t[11].lead_units == t[12].lead_units == ["区市场监督管理局"]  # the earlier short form follows the unit
    assert t[13].lead_units == t[14].lead_units == ["区城市管理和综合执法局"]
    assert t[13].co_units == ["区教育局"] and t[14].co_units == ["各街道"]
    codes = [f.code for f in outcome.findings]
    assert codes.count("unit-full-name-adopted") == 2
    assert codes.count("roles-in-lead-cell") == 1 and codes.count("unit-note-dropped") == 1
    assert not [f for f in outcome.findings if f.code == "unit-alias-matched"]  # 区公安分局 is no short form of its 大队
    assert not [f for f in outcome.findings if f.code == "new-unit" and any(f"“{g}”" in f.message for g in GROUPS)]


def test_review_list_groups_are_errors_until_named(imported):
    path, _ = imported
    errors = [f for f in validate_ledger(path, now=NOW).findings if f.code == "unnamed-collective"]
    named = sorted(f.message.split("“")[1].split("”")[0] for f in errors)
    assert named == sorted(GROUPS)


def test_all_of_streets_and_towns_expand_to_their_own_kind(imported, tmp_path):
    path, _ = imported
    directory = UnitDirectory(load(path).units)
    assert directory.expand("各街道") == ["龙城街道", "新城街道"]
    assert directory.expand("各镇") == ["东湖镇", "西山镇"]
    assert directory.expand("各乡镇") == ["东湖镇", "西山镇", "白石乡"]
    for both in ("各镇街", "各镇（街道）", "各镇人民政府、街道办事处"):
        assert directory.expand(both) == ["龙城街道", "新城街道", "东湖镇", "西山镇", "白石乡"]
    add_targets(path, "2025Q1")
    outcome = issue_workbooks(path, "2025Q1", tmp_path / "下发", now=NOW)
    units = {w["unit"] for w in outcome.summary["workbooks"]}
    assert not any(collective(u) for u in units)
    assert {"龙城街道", "新城街道", "区教育局"} <= units


def test_full_township_name_resolves_to_the_short_directory_entry(imported, tmp_path):
    path, _ = imported
    second = write_list(tmp_path / "第二批.docx", [(21, ["东湖镇人民政府", "新城街道办事处"], ["西山镇政府"])])
    outcome = import_files(path, [second], now=NOW)
    ledger = load(path)
    t = tasks_of(ledger)
    assert (t[21].lead_units, t[21].co_units) == (["东湖镇", "新城街道"], ["西山镇"])
    assert not [f for f in outcome.findings if f.code == "new-unit"]
    assert "东湖镇人民政府" in {u.name: u for u in ledger.units}["东湖镇"].aliases


# -- the rules on their own ----------------------------------------------------------------------
LEVELS = ("", "区", "市", "全区", "辖区")
SOME = ("相关", "有关", "涉及", "所在", "项目所在", "属地", "其他", "涉及的", "有关的")
KINDS = ("部门", "单位", "镇街", "镇(街道)", "职能部门", "卫生院", "学校", "企业", "村(社区)")


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("some", SOME)
@pytest.mark.parametrize("kind", KINDS)
def test_some_of_group_names_by_rule(level, some, kind):
    name = level + some + kind
    group = collective(name)
    assert group is not None and not group.expandable, name
    assert split_units(name) == [split_units(name)[0]] and collective(split_units(name)[0]) is not None
    assert UnitDirectory([Unit(name="区教育局", type=DEPT)]).expand(name) == []


@pytest.mark.parametrize("unit", ["区退役军人事务局", "区教育局", "市公安局龙湖分局", "东湖镇"])
@pytest.mark.parametrize("rest", ["等相关部门", "等有关单位", "等", "等相关镇街"])
def test_a_named_unit_before_deng_is_kept_and_the_rest_is_a_group(unit, rest):
    assert split_units(unit + rest) == [unit, rest]
    assert collective(rest) is not None and not collective(rest).expandable


@pytest.mark.parametrize(("name", "only"), [
    ("各街道", ("街道",)), ("全区各街道", ("街道",)), ("各街道办事处", ("街道",)), ("各镇", ("镇",)), ("各镇人民政府", ("镇",)),
    ("各乡镇", ("镇", "乡")), ("各镇街", ()), ("各镇(街道)", ()), ("各镇人民政府、街道办事处", ()), ("全区各镇街", ()),
])
def test_all_of_township_groups_say_which_kind(name, only):
    group = collective(name)
    assert group.expandable and group.only == only


@pytest.mark.parametrize("sep", ["、", "，", "/"])
@pytest.mark.parametrize("ending", ["街道", "镇", "乡", "街道办事处"])
def test_shared_suffix_lists(sep, ending):
    assert split_units(f"龙城{sep}新城{ending}") == [f"龙城{ending}", f"新城{ending}"]
    assert split_units(f"东湖{sep}西山{sep}白石{ending}") == [f"东湖{ending}", f"西山{ending}", f"白石{ending}"]


def test_shared_suffix_leaves_known_and_long_pieces_alone():
    assert split_units("东湖、新城街道", known=["东湖镇"]) == ["东湖", "新城街道"]  # known as a town: not a street
    assert split_units("区城投、新城街道") == ["区城投", "新城街道"]
    assert split_units("高新技术产业区、新城街道") == ["高新技术产业区", "新城街道"]


@pytest.mark.parametrize(("lines", "name"), [
    (["中共龙湖区委", "宣传部"], "中共龙湖区委宣传部"), (["中共龙湖区委", "组织部"], "中共龙湖区委组织部"),
    (["中共清溪区委", "统战部"], "中共清溪区委统战部"), (["区委政法委", "员会"], "区委政法委员会"),
    (["区政府办", "公室"], "区政府办公室"), (["市公安局龙湖分局", "交警大队"], "市公安局龙湖分局交警大队"),
    (["市公安局清溪分局", "治安大队"], "市公安局清溪分局治安大队"), (["国家税务总局", "龙湖区税务局"], "国家税务总局龙湖区税务局"),
    (["国家税务总局", "清溪区税务局"], "国家税务总局清溪区税务局"),
])
@pytest.mark.parametrize("sep", ["\n", "\n\n"])
def test_wraps_of_sub_bodies_and_broken_endings(lines, name, sep):
    assert split_units(sep.join(lines)) == [name]


@pytest.mark.parametrize("cell", ["区卫健局\n区疾控中心", "区委宣传部\n区文明办", "市公安局龙湖分局\n区交警大队", "区应急管理局 区消防救援大队"])
def test_two_units_on_two_lines_stay_two(cell):
    assert len(split_units(cell)) == 2


@pytest.mark.parametrize(("cell", "names", "notes"), [
    ("区卫健局（区疾控中心）", ["区卫健局", "区疾控中心"], []),
    ("区委宣传部(区文明办)", ["区委宣传部", "区文明办"], []),
    ("区住建局\n（区人防办）", ["区住建局", "区人防办"], []),
    ("区发展和改革局\n（区粮食和物资储备局）", ["区发展和改革局", "区粮食和物资储备局"], []),
    ("区教育局（牵头）", ["区教育局"], ["牵头"]),
    ("各镇街（开发区）", ["各镇街"], ["开发区"]),
    ("各镇（街道）", ["各镇(街道)"], []),
    ("相关村（社区）", ["相关村(社区)"], []),
])
def test_brackets(cell, names, notes):
    assert split_unit_cell(cell) == (names, notes)


@pytest.mark.parametrize(("cell", "lead", "co"), [
    ("区教育局牵头，各镇街配合", ["区教育局"], ["各镇街"]),
    ("区教育局、区财政局牵头，各镇街、区直有关部门配合", ["区教育局", "区财政局"], ["各镇街", "区直有关部门"]),
    ("区教育局牵头负责，区卫健局协助", ["区教育局"], ["区卫健局"]),
    ("区教育局、区财政局", ["区教育局", "区财政局"], []),
    ("区教育局负责", ["区教育局负责"], []),  # no 配合 word: the cell is kept as written
])
def test_roles_in_a_lead_cell(cell, lead, co):
    assert split_roles(split_units(cell)) == (lead, co)


def test_a_parent_is_never_matched_to_its_sub_body():
    directory = UnitDirectory([Unit(name="区公安分局交警大队", type=VERT), Unit(name="市自然资源局源城分局", type=VERT),
                               Unit(name="新江街道办事处", type=TOWN), Unit(name="东湖镇", type=TOWN)])
    assert directory.resolve("区公安分局").name is None
    assert directory.resolve("市自然资源局").name is None
    assert directory.resolve("新江街道办").name == "新江街道办事处"  # a short ending is still a short form
    for spelling in ("东湖镇人民政府", "东湖镇政府"):
        assert directory.resolve(spelling).name == "东湖镇"


@pytest.mark.parametrize(("name", "kind"), [
    ("区自然资源分局", VERT), ("区公安分局", VERT), ("中国移动龙湖分公司", OTHER), ("中国电信清溪分公司", OTHER),
    ("龙湖产业投资集团有限公司", OTHER), ("国网龙湖供电公司", OTHER), ("中共龙湖区委宣传部", DEPT),
])
def test_types_of_branches_and_companies(name, kind):
    assert guess_unit_type(name) == kind


# -- groups belonging to one unit, 及/和 between names ---------------------------------------------
@pytest.mark.parametrize("name", [
    "区创文办各成员单位", "区创文办成员单位", "区市场监管局各市场监管所", "区城管执法局各执法中队", "区教育局所属学校",
    "区卫健局下属医疗机构", "各税务所", "各执法大队", "区委宣传部各成员单位",
])
def test_groups_of_one_unit_are_unnamed_groups(name):
    group = collective(name)
    assert group is not None and not group.expandable, name
    assert split_units(name) == [normalize_name(name)]


@pytest.mark.parametrize(("cell", "names"), [
    ("区教育局及各中小学", ["区教育局", "各中小学"]),
    ("区卫健局和相关医疗机构", ["区卫健局", "相关医疗机构"]),
    ("区住房和城乡建设局与区交通运输局", ["区住房和城乡建设局", "区交通运输局"]),
    ("区教育局以及区财政局", ["区教育局", "区财政局"]),
    ("区发展和改革局", ["区发展和改革局"]), ("区人力资源和社会保障局", ["区人力资源和社会保障局"]),
    ("区工业和信息化局", ["区工业和信息化局"]), ("区科技和工业信息化局及各镇街", ["区科技和工业信息化局", "各镇街"]),
    ("区市场监管局石岩监管所", ["区市场监管局石岩监管所"]),  # one named sub-unit is a unit
])
def test_names_joined_by_and(cell, names):
    assert split_units(cell) == names


def test_roles_with_a_group_of_one_unit():
    assert split_roles(split_units("区文明办牵头，区创文办各成员单位配合")) == (["区文明办"], ["区创文办各成员单位"])


def test_member_groups_in_a_list_are_errors_and_get_no_form(tmp_path):
    path = tmp_path / "台账.xlsx"
    init_ledger(path, 2025, now=NOW)
    rows = [(1, ["区创文办各成员单位"], []), (2, ["区教育局及各中小学"], []), (3, ["区市场监管局各市场监管所"], ["区城管局"])]
    import_files(path, [write_list(tmp_path / "清单.docx", rows)], now=NOW)
    ledger = load(path)
    assert sorted(u.name for u in ledger.units) == ["区城管局", "区教育局"]
    t = tasks_of(ledger)
    assert t[2].lead_units == ["区教育局", "各中小学"]
    errors = sorted(f.message.split("“")[1].split("”")[0]
                    for f in validate_ledger(path, now=NOW).findings if f.code == "unnamed-collective")
    assert errors == ["区创文办各成员单位", "区市场监管局各市场监管所", "各中小学"]
    add_targets(path, "2025Q1")  # issue lists only tasks with a confirmed target (issue 23)
    outcome = issue_workbooks(path, "2025Q1", tmp_path / "下发", now=NOW)
    assert {w["unit"] for w in outcome.summary["workbooks"]} == {"区教育局"}
