"""The typed 设置: every key declared once, parsed once, a finding per bad value."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from xl_duban.domain.models import Ledger, Setting
from xl_duban.domain.periods import Cadence, Period
from xl_duban.domain.settings import BY_KEY, SPECS, check_value, from_values, initial_rows, markdown_table, read_settings

ROOT = Path(__file__).resolve().parent.parent


def _rows(**values):
    return [Setting(row=n, key=k, value=v) for n, (k, v) in enumerate(values.items(), 2)]


def test_a_new_ledger_parses_without_findings_to_the_declared_defaults():
    settings, findings = read_settings([Setting(key=k, value=v) for k, v, _note in initial_rows(2024)])
    assert findings == []
    assert settings.year == 2024
    for spec in SPECS[1:]:
        assert getattr(settings, spec.attr) == spec.default, spec.key


@pytest.mark.parametrize(("key", "typed", "expected"), [
    ("红灯阈值", "３", 3),  # full-width digits, as a Chinese IME types them
    ("相似度阈值", "85%", 0.85),
    ("相似度阈值", 90, 0.9),
    ("SMTP加密", " STARTTLS ", "STARTTLS"),
    ("当前季度", "2024年第三季度", Period(year=2024, quarter=3)),
    ("当前月份", datetime(2024, 10, 1), Period(year=2024, month=10)),  # 2024-10 typed into a General cell
    ("当前季度", datetime(2024, 10, 1), Period(year=2024, quarter=4)),
])
def test_values_a_clerk_types_are_read(key, typed, expected):
    settings, findings = read_settings(_rows(年度=2024, **{key: typed}))
    assert getattr(settings, BY_KEY[key].attr) == expected
    assert findings == []


@pytest.mark.parametrize(("key", "typed"), [
    ("红灯阈值", "两次"), ("SMTP端口", 70000), ("相似度阈值", 150), ("相似度阈值", "高"), ("IMAP加密", "TLS"),
    ("当前月份", "2024Q3"), ("当前季度", "第五季度"), ("起始期号", 0),
])
def test_a_bad_value_falls_back_to_the_default_with_one_located_finding(key, typed):
    settings, findings = read_settings(_rows(年度=2024, **{key: typed}))
    spec = BY_KEY[key]
    assert getattr(settings, spec.attr) == spec.default
    assert [(f.code, f.level.value, f.sheet, f.row, f.column) for f in findings] == [("bad-setting", "错误", "设置", 3, "值")]
    assert settings.findings(key) == findings and settings.findings("刊名") == []
    assert findings[0].hint


def test_blank_office_names_mean_no_name_and_the_signing_office_falls_back():
    settings, _ = read_settings(_rows(年度=2024, 机关名称="", 督查室=""))
    assert (settings.office_name, settings.supervision_office, settings.signing_office) == ("", "", "督查室")
    settings, _ = read_settings(_rows(年度=2024, 机关名称="某区政府办", 督查室=""))
    assert settings.signing_office == "某区政府办"
    assert settings.imap_account == "" and read_settings(_rows(发件人="a@b.cn"))[0].imap_account == "a@b.cn"


def test_the_year_is_required_in_a_ledger_but_not_for_worksheet_function_arguments():
    _settings, findings = read_settings([])
    assert [f.message for f in findings] == ["【设置】中“年度”缺失或不是数字。"]
    settings, findings = from_values(红灯阈值=3, 缺报视为=None)
    assert (settings.red_threshold, settings.missing_as, findings) == (3, "黄灯", [])
    assert check_value("缺报视为", "蓝灯").hint == "只能填写：黄灯、红灯。"
    assert check_value("缺报视为", "") is None


def test_the_working_period_setting_names_its_cadence():
    settings, _ = read_settings(_rows(年度=2024, 当前季度="2024Q2", 当前月份="2024-05"))
    assert settings.current(Cadence.quarterly) == Period(year=2024, quarter=2)
    assert settings.current(Cadence.monthly) == Period(year=2024, month=5)


def test_set_setting_writes_only_declared_keys():
    ledger = Ledger()
    ledger.set_setting("刊名", "督查专刊")
    ledger.set_setting("刊名", "源城督查")
    assert [(s.key, s.value) for s in ledger.settings] == [("刊名", "源城督查")]
    with pytest.raises(KeyError):
        ledger.set_setting("刊头", "x")


def test_readme_lists_every_setting_as_declared():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- settings:begin -->\n(.*?)\n<!-- settings:end -->", readme, re.S)
    assert block is not None and block.group(1).strip() == markdown_table(), \
        "README 的【设置】表与 xl_duban/domain/settings.py 不一致：运行 python -m xl_duban.domain.settings 重新生成"
