"""``duban doctor``: every check against the real condition it is about (a font file gone,
a key file nobody can read or everybody can, a ledger Excel holds, a year not typed into
节假日, a mail password missing), and the Windows checks against a registry that is the one
faked boundary (:class:`FakeRegistry`); the real one is read wherever ``winreg`` exists.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import run_cli
from tests.fake_registry import SECURITY, FakeRegistry, office
from xl_duban.domain.models import Holiday
from xl_duban.io import fonts, windows
from xl_duban.io.failures import log_failure
from xl_duban.io.ledger_store import LedgerStore
from xl_duban.services import check_environment, validate_ledger

NOW = datetime(2026, 12, 7, 9, 0)  # the holiday package knows 2026, not yet 2027
LINUX_CHECKS = {"python", "xl_duban", "libraries", "cjk_font", "font_title", "font_body", "font_heading", "font_kai",
                "libreoffice", "signing_key", "error_log", "calendar_2026", "calendar_2027"}
LEDGER_CHECKS = {"ledger_open", "ledger_folder", "ledger", "smtp", "imap", "unit_email", "validation"}


def checks_of(outcome) -> dict[str, dict]:
    return {c["name"]: c for c in outcome.summary["checks"]}


def doctor(ledger=None, **kw):
    return checks_of(check_environment(ledger, now=NOW, registry=None, **kw))


# -- the command ----------------------------------------------------------------------------------------------------
def test_json_lists_every_check_with_a_fix(ledger, config_dir):
    proc = run_cli("doctor", str(ledger), "--json")
    report = json.loads(proc.stdout)
    names = {c["name"] for c in report["checks"]}
    this_year = datetime.now().year  # the command reads the clock: this year and next
    expected = {n for n in LINUX_CHECKS if not n.startswith("calendar_")} | LEDGER_CHECKS
    assert names >= expected | {f"calendar_{this_year}", f"calendar_{this_year + 1}"}, names
    for check in report["checks"]:
        assert set(check) >= {"name", "status", "detail", "fix"}
        assert check["status"] in ("ok", "warn", "fail") and check["detail"] and check["fix"], check
    failing = [c["name"] for c in report["checks"] if c["status"] == "fail"]
    assert proc.returncode == (1 if failing else 0) and report["ok"] == (not failing)


def test_text_output_marks_each_check(ledger, config_dir):
    proc = run_cli("doctor", str(ledger))
    lines = [line for line in proc.stdout.splitlines() if line[:1] in "✔⚠✘"]
    report = json.loads(run_cli("doctor", str(ledger), "--json").stdout)
    assert len(lines) == len(report["checks"])
    assert "未发现问题" not in proc.stdout and "Traceback" not in proc.stderr


# -- calendar ---------------------------------------------------------------------------------------------------------
def test_next_year_is_estimated_until_typed_in_and_checked(ledger, config_dir):
    assert doctor()["calendar_2026"]["status"] == "ok"
    assert doctor()["calendar_2027"]["status"] == "warn" and "推算" in doctor()["calendar_2027"]["detail"]
    store = LedgerStore(ledger)
    data, _ = store.load()
    data.holidays.append(Holiday(day="2027-02-06", type="休", note="春节"))  # one row does not make a year known
    store.save(data, now=NOW)
    assert doctor(ledger)["calendar_2027"]["status"] == "warn"
    data, _ = store.load()
    data.holidays.append(Holiday(day="2027-01-01", type="已核对", note="2027年放假安排已登记"))
    store.save(data, now=NOW)
    checked = doctor(ledger)["calendar_2027"]
    assert checked["status"] == "ok" and "已录入" in checked["detail"]


# -- fonts ------------------------------------------------------------------------------------------------------------
def test_the_chart_font_is_the_bulletins_own_lookup(monkeypatch):
    """The doctor reports the file the chart is drawn with (a stale matplotlib cache is the
    bulletin's concern: tests/test_documents.py); no CJK font at all is ✘."""
    real = fonts.cjk_font_file()
    if real is None:
        pytest.skip("no CJK font on this machine")
    assert doctor()["cjk_font"]["status"] == "ok" and doctor()["cjk_font"]["detail"] == real
    monkeypatch.setattr(fonts, "cjk_font_file", lambda: None)
    check = doctor()["cjk_font"]
    assert check["status"] == "fail" and "不带图表" in check["detail"] and "fonts-noto-cjk" in check["fix"]


def test_official_fonts_present_or_substituted(tmp_path, monkeypatch):
    path = fonts.cjk_font_file()
    if path is None:
        pytest.skip("no CJK font on this machine")
    real = fonts.FontFile("Noto Sans CJK SC", Path(path))
    face = tmp_path / "simhei.ttf"
    shutil.copyfile(real.path, face)
    monkeypatch.setattr(fonts, "installed_fonts", lambda: [fonts.FontFile("SimHei", face), real])
    found = doctor()
    assert found["font_heading"]["status"] == "ok" and "simhei.ttf" in found["font_heading"]["detail"]
    assert found["font_body"]["status"] == "warn" and "代替" in found["font_body"]["detail"]


# -- signing key and error log ----------------------------------------------------------------------------------------
def test_absent_key_is_created_only_with_fix(config_dir):
    key = config_dir / "signing.key"
    assert doctor()["signing_key"]["status"] == "warn" and not key.exists()
    assert doctor(fix=True)["signing_key"]["status"] == "ok"
    assert key.is_file() and len(bytes.fromhex(key.read_text())) == 32
    if os.name != "nt":
        assert key.stat().st_mode & 0o777 == 0o600


def test_a_key_others_can_read_fails(config_dir):
    doctor(fix=True)
    key = config_dir / "signing.key"
    key.chmod(0o644)
    check = doctor()["signing_key"]
    assert check["status"] == "fail" and "chmod 600" in check["fix"]


def test_a_damaged_key_fails(config_dir):
    config_dir.mkdir(parents=True)
    (config_dir / "signing.key").write_text("not a key")
    assert doctor()["signing_key"]["status"] == "fail"
    assert (config_dir / "signing.key").read_text() == "not a key"  # --fix does not touch an existing key
    assert doctor(fix=True)["signing_key"]["status"] == "fail"


def test_an_unreadable_key_fails(config_dir):
    (config_dir / "signing.key").mkdir(parents=True)  # a key path nobody can read as a file
    check = doctor()["signing_key"]
    assert check["status"] == "fail" and "无法读取" in check["detail"]


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root reads any file")
def test_a_key_without_read_permission_fails(config_dir):
    doctor(fix=True)
    (config_dir / "signing.key").chmod(0)
    assert doctor()["signing_key"]["status"] == "fail"


def test_error_log_entries_are_counted(config_dir):
    assert doctor()["error_log"]["status"] == "ok"
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log_failure("duban collect 台账.xlsx")
        log_failure("ribbon collect")
    check = doctor()["error_log"]
    assert check["status"] == "warn" and "2 条" in check["detail"] and "ribbon collect" in check["detail"]


# -- the ledger -------------------------------------------------------------------------------------------------------
def test_a_ledger_held_by_excel_fails(ledger, config_dir):
    owner = ledger.with_name("~$" + ledger.name)
    owner.write_bytes(b"\x0bclerk")
    outcome = check_environment(ledger, now=NOW, registry=None)
    found = checks_of(outcome)
    assert found["ledger_open"]["status"] == "fail" and owner.name in found["ledger_open"]["detail"]
    assert outcome.exit_code == 1
    owner.unlink()
    assert doctor(ledger)["ledger_open"]["status"] == "ok"


def test_not_a_ledger_fails(tmp_path, config_dir):
    other = tmp_path / "别的表.xlsx"
    openpyxl.Workbook().save(other)
    assert doctor(other)["ledger"]["status"] == "fail"
    assert doctor(tmp_path / "没有这个文件.xlsx")["ledger"]["status"] == "fail"


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_folder_fails(ledger, config_dir):
    ledger.parent.chmod(0o555)
    try:
        assert doctor(ledger)["ledger_folder"]["status"] == "fail"
    finally:
        ledger.parent.chmod(0o755)


def test_mail_settings_and_passwords(ledger, config_dir, monkeypatch):
    monkeypatch.delenv("DUBAN_SMTP_PASSWORD", raising=False)
    monkeypatch.delenv("DUBAN_IMAP_PASSWORD", raising=False)
    monkeypatch.setitem(sys.modules, "keyring", None)  # no keyring on this machine
    found = doctor(ledger)
    assert found["smtp"]["status"] == "warn" and found["imap"]["status"] == "warn"  # not set up: .eml by hand
    store = LedgerStore(ledger)
    data, _ = store.load()
    data.set_setting("SMTP服务器", "smtp.example.gov.cn")
    data.set_setting("IMAP服务器", "imap.example.gov.cn")
    data.set_setting("IMAP端口", "九九三")
    store.save(data, now=NOW)
    found = doctor(ledger)
    assert found["smtp"]["status"] == "fail" and "发件人" in found["smtp"]["detail"]
    assert found["imap"]["status"] == "fail" and "IMAP端口" in found["imap"]["detail"]
    data, _ = store.load()
    data.set_setting("发件人", "duchashi@example.gov.cn")
    data.set_setting("IMAP端口", "993")
    store.save(data, now=NOW)
    found = doctor(ledger)
    assert found["smtp"]["status"] == "fail" and "DUBAN_SMTP_PASSWORD" in found["smtp"]["fix"]
    monkeypatch.setenv("DUBAN_SMTP_PASSWORD", "s3cret-授权码")
    monkeypatch.setenv("DUBAN_IMAP_PASSWORD", "s3cret-授权码")
    outcome = check_environment(ledger, now=NOW, registry=None)
    found = checks_of(outcome)
    assert found["smtp"]["status"] == "ok" and found["imap"]["status"] == "ok"
    assert "s3cret" not in json.dumps(outcome.as_dict(), ensure_ascii=False)


def test_units_without_email_are_named(ledger, config_dir):
    store = LedgerStore(ledger)
    data, _ = store.load()
    for unit in data.units:
        unit.email = unit.email or f"{len(unit.name)}@example.gov.cn"
    data.units[3].email = ""
    store.save(data, now=NOW)
    check = doctor(ledger)["unit_email"]
    assert check["status"] == "warn" and check["detail"].startswith("1 个单位") and data.units[3].name in check["detail"]


def test_last_validation_error_count(ledger, config_dir):
    store = LedgerStore(ledger)
    data, _ = store.load()
    data.units[0].name, data.units[1].name = data.units[1].name, data.units[1].name  # a duplicate unit
    store.save(data, now=NOW)
    validate_ledger(ledger, now=NOW)
    sheet = openpyxl.load_workbook(ledger, read_only=True)["校验结果"]
    rows = list(sheet.iter_rows(values_only=True))
    errors = sum(1 for row in rows[1:] if row[rows[0].index("级别")] == "错误")
    assert errors > 0
    check = doctor(ledger)["validation"]
    assert check["status"] == "warn" and f"错误 {errors} 条" in check["detail"]


# -- Windows, through the registry boundary -----------------------------------------------------------------------------
@pytest.fixture
def windows_user(tmp_path, monkeypatch, config_dir) -> Path:
    """%APPDATA% and %USERPROFILE% of a Windows user, as folders."""
    home = tmp_path / "Users" / "clerk"
    (home / "AppData" / "Roaming").mkdir(parents=True)
    monkeypatch.setenv("APPDATA", str(home / "AppData" / "Roaming"))
    monkeypatch.setenv("USERPROFILE", str(home))
    return home


def test_no_excel_fails(windows_user):
    found = checks_of(check_environment(None, now=NOW, registry=FakeRegistry({})))
    assert found["excel"]["status"] == "fail"


def test_excel_addin_and_interpreter(windows_user):
    found = checks_of(check_environment(None, now=NOW, registry=office()))
    assert found["excel"]["status"] == "ok" and "16.0" in found["excel"]["detail"]
    assert found["xlwings_addin"]["status"] == "fail"
    xlstart = windows.xlstart_folder()
    xlstart.mkdir(parents=True)
    (xlstart / "xlwings.xlam").write_bytes(b"PK")
    conf = windows_user / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir()
    conf.write_text('"INTERPRETER_WIN","C:\\没有\\python.exe"\n', encoding="utf-8")
    found = checks_of(check_environment(None, now=NOW, registry=office()))
    assert found["xlwings_addin"]["status"] == "ok"
    assert found["interpreter"]["status"] == "fail" and "不存在" in found["interpreter"]["detail"]
    conf.write_text(f'"INTERPRETER_WIN","{sys.executable}"\n', encoding="utf-8")
    found = checks_of(check_environment(None, now=NOW, registry=office()))
    assert found["interpreter"]["status"] == "ok"


def test_macros_trust_and_mark_of_the_web(windows_user, tmp_path):
    book = tmp_path / "督查" / "2027年督查台账.xlsm"
    book.parent.mkdir()
    shutil.copyfile(Path(__file__).resolve().parents[1] / "workbooks" / "template.xlsm", book)
    checks = lambda registry: checks_of(check_environment(book, now=NOW, registry=registry))  # noqa: E731
    assert checks(office())["macros"]["status"] == "ok"  # default: enable on the message bar
    assert checks(office({"VBAWarnings": 4}))["macros"]["status"] == "fail"
    assert checks(office({"VBAWarnings": 4}, trusted=str(tmp_path)))["macros"]["status"] == "ok"
    Path(f"{book}:Zone.Identifier").write_text("[ZoneTransfer]\r\nZoneId=3\r\n", encoding="utf-8")
    marked = checks(office())["macros"]
    assert marked["status"] == "fail" and "Unblock-File" in marked["fix"]
    assert checks(office(trusted=str(book.parent)))["macros"]["status"] == "ok"


def test_policy_wins_over_user_setting():
    registry = FakeRegistry({
        ("HKCU", SECURITY): {"VBAWarnings": 2, "AccessVBOM": 0},
        ("HKCU", r"Software\Policies\Microsoft\Office\16.0\Excel\Security"): {"VBAWarnings": 3, "AccessVBOM": 1},
        ("HKCU", r"Software\Microsoft\Office\16.0\Excel\Options"): {}})
    facts = windows.office_facts(registry)
    assert (facts.version, facts.vba_warnings, facts.access_vbom) == ("16.0", 3, 1)


@pytest.mark.skipif(sys.platform != "win32", reason="winreg exists on Windows only")
def test_the_real_registry_reads():  # pragma: no cover - Windows
    registry = windows.WinRegistry()
    assert registry.subkeys("HKCU", "Software")
    assert registry.value("HKCU", r"Software\没有这个键", "x") is None
    windows.office_facts(registry)
