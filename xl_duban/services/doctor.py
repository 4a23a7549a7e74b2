"""``duban doctor``: is this PC ready for the office's work? Read-only.

The ribbon has never run in Windows Excel before its first install, and whoever installs it
is not a programmer: every part the commands and buttons rely on is checked here and told as
✔ / ✘ / ⚠ with a one-line fix, so what is missing is found before the first real quarter.
Nothing is changed — except the signing key, created when absent and ``fix`` is asked for.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from datetime import datetime
from importlib import metadata
from pathlib import Path

from ..domain.doctor import Check, Status, calendar_checks, failed, mail_checks, unit_email_check, validation_check
from ..domain.models import Ledger
from ..domain.settings import read_settings
from ..errors import LedgerError
from ..io import fonts, windows
from ..io.calendar_source import work_calendar
from ..io.failures import error_log_path
from ..io.keys import KEY_FILE, config_dir, signing_key
from ..io.ledger_store import LedgerStore, lock_files
from ..io.printing import soffice
from .outcome import Outcome
from .session import Store, is_ledger_path

PACKAGE = "xl_duban"
REINSTALL = "在离线安装包文件夹中重新运行 install.bat（Linux：bash install.sh），不要单独升级某个库"
SYSTEM = object()  # the machine's own registry (none outside Windows)


def check_environment(ledger: Path | Store | None = None, *, now: datetime, fix: bool = False,
                      registry: windows.Registry | None | object = SYSTEM) -> Outcome:
    """Every check of this machine (and of ``ledger`` when given: a path from the command line,
    or the live book's store from the ribbon, which is open in Excel by definition).
    ``registry``: the Windows registry to read (tests give a fake); None skips the Windows checks."""
    if registry is SYSTEM:
        registry = windows.system_registry()
    path = (Path(ledger) if is_ledger_path(ledger) else ledger.path) if ledger is not None else None
    checks = [python_check(), *package_checks()]
    if registry is not None:
        checks += windows_checks(registry, path if path is not None and path.suffix.lower() == ".xlsm" else None)
    checks += [cjk_font_check(), *official_font_checks(), libreoffice_check(), key_check(fix), error_log_check()]
    loaded = None
    if ledger is not None:
        ledger_checks, loaded = _ledger_checks(ledger, path)
        checks += ledger_checks
    calendar = work_calendar(loaded.holidays if loaded else ())
    checks += calendar_checks(calendar, (now.year, now.year + 1), in_ledger=loaded is not None)
    return Outcome(summary={"checks": [c.as_dict() for c in checks], "ledger": str(path) if path else None},
                   failed=failed(checks))


# -- Python and libraries ---------------------------------------------------------------------------------------------
def python_check() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    fix = "安装 64 位 Python 3.11 或 3.12（离线安装包不含 Python 安装程序，需另行拷贝），再运行 install.bat"
    ok = sys.version_info >= (3, 11)
    return Check("python", "Python", Status.ok if ok else Status.fail,
                 f"{version}（{sys.executable}）" + ("" if ok else "：督办需要 3.11 或更高版本"), fix)


def package_checks() -> list[Check]:
    """xl_duban's version, and each library it requires: installed, in a version it accepts."""
    from packaging.requirements import Requirement

    try:
        own = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return [Check("xl_duban", "督办程序", Status.fail, "未安装（只是从源代码目录运行）", REINSTALL)]
    found, problems = [], []
    for text in metadata.requires(PACKAGE) or []:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue  # test-only extras
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{requirement.name} 未安装")
            continue
        if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name} {version}（需要 {requirement.specifier}）")
        found.append(f"{requirement.name} {version}")
    return [Check("xl_duban", "督办程序", Status.ok, f"xl_duban {own}", REINSTALL),
            Check("libraries", "依赖库", Status.fail if problems else Status.ok,
                  ("；".join(problems) + "。已安装：" if problems else "") + "，".join(found), REINSTALL)]


# -- Windows and Excel ------------------------------------------------------------------------------------------------
def windows_checks(registry: windows.Registry, workbook: Path | None) -> list[Check]:
    """Excel, the xlwings add-in and its Python, and whether Excel will run the ribbon's macros
    (macro settings, trusted folder, Mark of the Web) — read from the registry, never changed."""
    facts = windows.office_facts(registry)
    checks = [Check("excel", "Excel", Status.ok if facts.excel else Status.fail,
                    f"{facts.excel}（Office {facts.version or '版本未知'}）" if facts.excel else "注册表中没有 Excel（excel.exe）",
                    "安装 Microsoft Excel 2010 或更高版本（WPS 表格不能运行督办选项卡的按钮，可照《首次核对清单》核对填表）"),
              _addin_check(), _interpreter_check(workbook)]
    vbom = "已信任" if facts.access_vbom == 1 else "未信任"
    checks.append(Check("vba_project_access", "信任对 VBA 工程对象模型的访问", Status.ok,
                        f"{vbom}（督办模板不需要此项，保持默认即可）",
                        "无需更改；仅当用 xlwings 的 Import Functions 重新导入工作表函数时才需临时勾选"))
    checks.append(_macro_check(facts, workbook))
    return checks


def _addin_check() -> Check:
    folder = windows.xlstart_folder()
    addin = folder / "xlwings.xlam" if folder else None
    fix = "在命令提示符执行 …\\venv\\Scripts\\xlwings addin install（或改用 duban template build --standalone 生成的模板）"
    if addin is not None and addin.is_file():
        return Check("xlwings_addin", "xlwings 加载项", Status.ok, str(addin), fix)
    return Check("xlwings_addin", "xlwings 加载项", Status.fail, f"XLSTART 中没有 xlwings.xlam（{folder or '找不到 %APPDATA%'}）", fix)


def _same_python(configured: str) -> bool:
    """Whether ``configured`` is this Python (python.exe or pythonw.exe of the same folder)."""
    here = Path(sys.executable).resolve().parent
    return Path(configured).expanduser().resolve().parent == here


def _interpreter_check(workbook: Path | None) -> Check:
    """The add-in runs the configured Python; it must be the one xl_duban is installed in."""
    configured, where = windows.xlwings_interpreter(workbook)
    ours = Path(sys.executable)
    fix = f"在 Excel 的 xlwings 选项卡把 Interpreter 设为 {ours}（或在 xlwings.conf 中写 \"INTERPRETER_WIN\",\"{ours}\"）"
    if configured is None:
        on_path = shutil.which("python")
        if on_path and _same_python(on_path):
            return Check("interpreter", "xlwings 使用的 Python", Status.ok, f"未配置，使用 PATH 中的 {on_path}（即本程序所在的 Python）", fix)
        return Check("interpreter", "xlwings 使用的 Python", Status.fail,
                     f"未配置 Interpreter，PATH 中的 python 是 {on_path or '（没有）'}，不是装有督办的 {ours}", fix)
    if not Path(configured).is_file():
        return Check("interpreter", "xlwings 使用的 Python", Status.fail, f"{where} 配置的 {configured} 不存在", fix)
    if not _same_python(configured):
        return Check("interpreter", "xlwings 使用的 Python", Status.warn,
                     f"{where} 配置的 {configured} 不是装有督办的 {ours}：按钮可能找不到 xl_duban", fix)
    return Check("interpreter", "xlwings 使用的 Python", Status.ok, f"{configured}（{where}）", fix)


def _macro_check(facts: windows.OfficeFacts, workbook: Path | None) -> Check:
    """Excel runs the ribbon's VBA when the workbook's folder is trusted, or macros are allowed
    with notification and the file is not marked as from the Internet (Office blocks those
    outright since 2022)."""
    warnings = facts.vba_warnings or 2
    setting = {1: "启用所有宏", 2: "禁用所有宏，并发出通知", 3: "禁用无数字签署的所有宏", 4: "禁用所有宏，并且不通知"}.get(warnings, str(warnings))
    fix = ("Excel“文件→选项→信任中心→信任中心设置→受信任位置”添加台账所在文件夹；"
           "从邮件或网上得到的 .xlsm：右键→属性→勾选“解除锁定”（或 PowerShell：Unblock-File 文件名）")
    if workbook is None:
        status = Status.ok if warnings in (1, 2) else Status.warn
        return Check("macros", "宏设置", status, f"“{setting}”（指定 .xlsm 台账时再检查其文件夹是否受信任、是否被标记为来自网络）", fix)
    if windows.is_trusted(workbook.parent, facts.trusted):
        return Check("macros", "宏设置", Status.ok, f"“{setting}”；台账文件夹 {workbook.parent} 是受信任位置", fix)
    zone = windows.internet_zone(workbook)
    if zone is not None and zone >= 3:
        return Check("macros", "宏设置", Status.fail, f"{workbook.name} 被标记为来自网络（Zone {zone}），Excel 会阻止其中的宏", fix)
    if warnings in (3, 4):
        return Check("macros", "宏设置", Status.fail, f"“{setting}”，台账文件夹 {workbook.parent} 不是受信任位置：按钮不会运行", fix)
    return Check("macros", "宏设置", Status.ok,
                 f"“{setting}”：打开台账时点“启用内容”即可（把台账文件夹设为受信任位置则不必每次点）", fix)


# -- fonts, LibreOffice ---------------------------------------------------------------------------------------------
def cjk_font_check() -> Check:
    """The bulletin chart's own lookup (:func:`~xl_duban.io.fonts.cjk_font_file`), so the doctor
    reports the very font the chart will be drawn with."""
    found = fonts.cjk_font_file()
    fix = "安装任一中文字体（Windows 自带微软雅黑；Linux：apt install fonts-noto-cjk 或 fonts-wqy-zenhei），再运行一次"
    if found is None:
        return Check("cjk_font", "通报图表的中文字体", Status.fail,
                     f"找不到可用的中文字体（{'、'.join(fonts.CJK_FONTS[:3])} 等）：通报将不带图表生成", fix)
    return Check("cjk_font", "通报图表的中文字体", Status.ok, found, fix)


def official_font_checks() -> list[Check]:
    """GB/T 9704's fonts. Missing ones are substituted by Word, WPS or LibreOffice (the layout
    holds, the faces differ), so a missing one is ⚠: printed documents should use the real ones."""
    installed = fonts.installed_fonts()
    checks = []
    for key, name in (("font_title", fonts.TITLE_FONT), ("font_body", fonts.BODY_FONT),
                      ("font_heading", fonts.HEADING_FONT), ("font_kai", fonts.KAI_FONT)):
        found = fonts.find_official_font(name, installed)
        fix = f"安装“{name}”字体（政府机关电脑一般已有；向信息中心索取字体文件，右键→为所有用户安装）"
        if found:
            checks.append(Check(key, f"公文字体 {name}", Status.ok, f"已安装（{found.path.name}）", fix))
        else:
            substitute = fonts.substitute(name)
            instead = f"，本机以“{substitute}”代替" if substitute else "，Word/WPS 将以相近字体代替"
            checks.append(Check(key, f"公文字体 {name}", Status.warn, f"未安装{instead}（版式不变，字形不同）", fix))
    return checks


def libreoffice_check() -> Check:
    found = soffice()
    fix = "可选：只用于把通报转为 PDF 核对版式和运行渲染测试；需要时安装 LibreOffice"
    return Check("libreoffice", "LibreOffice（可选）", Status.ok if found else Status.warn,
                 found or "未安装（督办的日常工作不需要）", fix)


# -- the signing key and the error log ------------------------------------------------------------------------------
def _private(path: Path) -> bool:
    """Only the owner can read it (POSIX modes; on Windows the user's profile folder guards it)."""
    return os.name == "nt" or path.stat().st_mode & 0o077 == 0


def key_check(fix: bool) -> Check:
    """The key every issued form is signed with: a returned form is accepted only if its
    signature checks against the same key, so it must exist, be intact and be the user's own."""
    path = config_dir() / KEY_FILE
    advice = (f"保管好 {path}：下发和收集须用同一密钥（换电脑时复制该文件）；"
              "没有密钥时执行 duban doctor --fix 生成（已下发的反馈表须用原密钥核验）")
    if not path.exists():
        if fix:
            signing_key()
            return Check("signing_key", "签名密钥", Status.ok, f"已生成 {path}（仅本用户可读）", advice)
        return Check("signing_key", "签名密钥", Status.warn, f"尚未生成（{path}）：第一次下发反馈表时自动生成", advice)
    try:
        text = path.read_text(encoding="ascii").strip()
        valid = len(bytes.fromhex(text)) == 32
    except OSError as exc:
        return Check("signing_key", "签名密钥", Status.fail, f"{path} 无法读取（{type(exc).__name__}）",
                     "检查该文件的权限和所有者（应属于当前用户）；" + advice)
    except ValueError:
        valid = False
    if not valid:
        return Check("signing_key", "签名密钥", Status.fail, f"{path} 内容不是有效的密钥（已损坏）",
                     "从备份恢复该文件；确无备份时删除它后执行 duban doctor --fix（此前下发的反馈表将无法核验签名，须重新下发）")
    if not _private(path):
        return Check("signing_key", "签名密钥", Status.fail, f"{path} 其他用户也能读取：他人可伪造反馈表的签名",
                     f"执行 chmod 600 {path}")
    return Check("signing_key", "签名密钥", Status.ok, f"{path}（仅本用户可读）", advice)


def error_log_check() -> Check:
    """The private error log: entries there are what the maintainer needs back."""
    path = error_log_path()
    fix = f"把 {path} 随核对结果一并发回（其中可能有单位名称和路径，只发给维护人员）"
    if not path.exists():
        return Check("error_log", "错误记录", Status.ok, f"没有错误记录（将写在 {path}）", fix)
    try:
        entries = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.startswith("--- ")]
    except OSError as exc:
        return Check("error_log", "错误记录", Status.warn, f"{path} 无法读取（{type(exc).__name__}）", fix)
    if not _private(path):
        return Check("error_log", "错误记录", Status.warn, f"{path} 其他用户也能读取", f"执行 chmod 600 {path}；" + fix)
    if not entries:
        return Check("error_log", "错误记录", Status.ok, f"{path} 中没有错误记录", fix)
    last = entries[-1][4:].split(" ", 1)
    return Check("error_log", "错误记录", Status.warn,
                 f"{path} 中有 {len(entries)} 条程序内部错误，最近一次 {last[0][:19]}（{last[1] if len(last) > 1 else ''}）", fix)


# -- the ledger -----------------------------------------------------------------------------------------------------
def folder_writable(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (a save writes a temporary file beside the
    ledger, then a backup): tried for real — permissions on a share are not what os.access says."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".~duban-doctor-"):
            return True
    except OSError:
        return False


def _ledger_checks(ledger: Path | Store, path: Path) -> tuple[list[Check], Ledger | None]:
    """The ledger file, its folder, and what its content says (mail, units, last validation).
    A path is checked for Excel's ``~$`` owner file first; the ribbon's live book is open by
    definition and read through its store."""
    checks: list[Check] = []
    live = not is_ledger_path(ledger)
    if not live:
        owners = [p for p in lock_files(path) if p.exists()]
        if owners:
            checks.append(Check("ledger_open", "台账是否被打开", Status.fail,
                                f"{path.name} 正在被 Excel 或 WPS 打开（{owners[0].name}），命令行命令会拒绝修改它",
                                f"保存并关闭该文件；已关闭仍有此提示时（Excel 异常退出留下的），删除 {owners[0]}"))
            return checks, None
        checks.append(Check("ledger_open", "台账是否被打开", Status.ok, "未被 Excel 或 WPS 打开",
                            "命令行运行前先保存并关闭台账"))
    folder = path.parent if str(path.parent) else Path.cwd()
    writable = folder.is_dir() and folder_writable(folder)
    checks.append(Check("ledger_folder", "台账所在文件夹", Status.ok if writable else Status.fail,
                        f"{folder.resolve()} {'可写入' if writable else '无法写入：保存、备份、下发都会失败'}",
                        "把台账放在本用户有写入权限的文件夹（如 D:\\督查\\）；网络盘请确认有“修改”权限"))
    try:
        loaded, _ = (ledger if live else LedgerStore(path)).load()
    except LedgerError as exc:
        checks.append(Check("ledger", "台账", Status.fail, str(exc), "指定 duban init 建立的台账文件（.xlsx 或 .xlsm）"))
        return checks, None
    settings, _ = read_settings(loaded.settings)
    from ..io.mailbox import imap_password
    from ..io.mailer import smtp_password

    checks.append(Check("ledger", "台账", Status.ok,
                        f"{path.name}：{settings.year or '年度未填'} 年度，任务 {len(loaded.tasks)} 项，单位 {len(loaded.units)} 个",
                        "指定 duban init 建立的台账文件（.xlsx 或 .xlsm）"))
    checks += mail_checks(settings, smtp_password=bool(smtp_password()), imap_password=bool(imap_password()))
    checks += [unit_email_check(loaded), validation_check(loaded)]
    return checks, loaded
