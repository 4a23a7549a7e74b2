"""The button table (xl_duban/buttons.py) is the one list of ribbon buttons.

The committed Duban.bas and customUI14.xml are what the table generates, ``macros`` has exactly
one function per button, and ``xl_duban.ribbon.BUTTONS`` has the table's keys and titles.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

import macros
from xl_duban import buttons, ribbon
from xl_duban.buttons import BUTTONS
from xl_duban.excel import template

UI_NS = "{http://schemas.microsoft.com/office/2009/07/customui}"
KEYS = [b.key for b in BUTTONS]


# -- the generated files --------------------------------------------------------------------------------------------
def test_generated_paths_are_the_template_sources():
    assert buttons.BAS_PATH == template.VBA_DIR / "Duban.bas"
    assert buttons.RIBBON_PATH == template.RIBBON


@pytest.mark.parametrize("path", [buttons.BAS_PATH, buttons.RIBBON_PATH], ids=lambda p: p.name)
def test_committed_sources_are_what_the_table_generates(path):
    assert path.read_bytes() == buttons.sources()[path], (
        f"{path.relative_to(buttons.REPO)} differs from xl_duban/buttons.py: edit the table (not the file), "
        "run `python -m xl_duban.buttons`, then rebuild the template with `python -m xl_duban.excel.template`")


def test_bas_is_ascii_with_crlf():
    data = buttons.render_bas().encode("ascii")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.endswith(b"End Sub\r\n")


def test_ribbon_xml_says_what_the_table_says():
    tab = ET.fromstring(buttons.render_ribbon().encode("utf-8")).find(f"{UI_NS}ribbon/{UI_NS}tabs/{UI_NS}tab")
    assert (tab.get("id"), tab.get("label")) == (buttons.TAB_ID, buttons.TAB_LABEL)
    seen = []
    for group in tab.findall(f"{UI_NS}group"):
        for b in group.findall(f"{UI_NS}button"):
            seen.append(buttons.Button(
                key="", label=b.get("label"), sub=b.get("onAction"), id=b.get("id"),
                group=buttons.Group(group.get("id"), group.get("label")), image=b.get("imageMso"),
                screentip=b.get("screentip"), supertip=b.get("supertip"), doc=""))
    assert seen == [replace(b, key="", doc="") for b in BUTTONS]


def test_bas_has_one_sub_per_button_in_order():
    lines = buttons.render_bas().split("\r\n")
    subs = [line for line in lines if line.startswith("Public Sub ")]
    assert subs == [f"Public Sub {b.sub}(control As IRibbonControl)" for b in BUTTONS]
    calls = [line.strip() for line in lines if "RunPython" in line and not line.startswith("'")]
    assert calls == [f'RunPython "import macros; macros.{key}()"' for key in KEYS]


def test_attributes_are_escaped_in_the_ribbon():
    odd = replace(BUTTONS[0], supertip='a "quoted" <tip> & more', screentip="x'y")
    tab = ET.fromstring(buttons.render_ribbon((odd,)).encode("utf-8"))
    button = next(tab.iter(f"{UI_NS}button"))
    assert (button.get("supertip"), button.get("screentip")) == (odd.supertip, odd.screentip)


@pytest.mark.parametrize("table, message", [
    ((BUTTONS[0], BUTTONS[2], BUTTONS[1]), "next to each other"),
    ((BUTTONS[0], replace(BUTTONS[1], sub=BUTTONS[0].sub)), "same sub"),
    ((BUTTONS[0], replace(BUTTONS[1], id=BUTTONS[0].id)), "same id"),
    ((replace(BUTTONS[0], key="import"),), "Python name"),
    ((replace(BUTTONS[0], key="校验"),), "Python name"),
    ((replace(BUTTONS[0], sub="Duban校验"),), "ASCII VBA name"),
])
def test_a_broken_table_is_refused(table, message):
    with pytest.raises(ValueError, match=message):
        buttons.render_bas(table)


def test_the_table_loads_without_third_party_packages():
    """Pure data: importing it pulls in nothing outside the standard library."""
    code = ("import sys; before = set(sys.modules); import xl_duban.buttons; "
            "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
            "print(sorted(new - set(sys.stdlib_module_names) - {'xl_duban'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=buttons.REPO)
    assert out.stdout.strip() == "[]"


# -- the Python side ------------------------------------------------------------------------------------------------
def test_macros_has_one_function_per_button():
    exported = [name for name, value in vars(macros).items() if not name.startswith("_") and callable(value)
                and getattr(value, "__module__", None) == "macros"]
    assert exported == KEYS
    assert macros.__all__ == KEYS
    for b in BUTTONS:
        function = getattr(macros, b.key)
        assert function.__name__ == function.__qualname__ == b.key
        assert function.__doc__ == buttons.macro_doc(b) == f"{b.label}：{b.doc}"


def test_each_macro_presses_its_button(monkeypatch):
    pressed = []
    monkeypatch.setattr(macros, "press", lambda key, book: pressed.append((key, book)) or key)
    for key in KEYS:
        assert getattr(macros, key)(book=f"book of {key}") == key
    assert pressed == [(key, f"book of {key}") for key in KEYS]


def test_ribbon_buttons_are_the_table():
    assert [(key, title) for key, (title, _) in ribbon.BUTTONS.items()] == [(b.key, b.label) for b in BUTTONS]
    assert set(ribbon.RUNS) == set(KEYS), "xl_duban.ribbon.RUNS must say what each button of the table runs"
    assert all(callable(run) for _, run in ribbon.BUTTONS.values())
