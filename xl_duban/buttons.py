"""The buttons of the 督办 ribbon tab: the one table the button sources are made from.

Each entry says everything about one button. From this table

* ``workbooks/ribbon/customUI14.xml`` (the ribbon: groups, labels, icons, tips, onAction) and
  ``workbooks/vba/Duban.bas`` (one ``Sub X(control As IRibbonControl)`` per button, calling
  ``RunPython "import macros; macros.<key>()"``) are generated — both are committed, and
  ``workbooks/template.xlsm`` is built from them;
* ``macros`` defines one function per button (``macros.<key>``, docstring from ``doc``);
* ``xl_duban.ribbon.BUTTONS`` takes its keys and titles (what a press runs is defined there).

To add or change a button, edit :data:`BUTTONS`, then run::

    python -m xl_duban.buttons              # rewrites Duban.bas and customUI14.xml
    python -m xl_duban.excel.template       # rebuilds workbooks/template.xlsm

(and give ``xl_duban.ribbon`` what the new button runs). ``tests/test_buttons.py`` fails while
the committed files differ from what this table gives.

Standard library only: importable without openpyxl or xlwings.
"""

from __future__ import annotations

import keyword
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

__all__ = ["Group", "Button", "BUTTONS", "TAB_ID", "TAB_LABEL", "BAS_PATH", "RIBBON_PATH",
           "groups", "runpython_call", "macro_doc", "render_bas", "render_ribbon", "sources", "write_sources",
           "main"]

REPO = Path(__file__).resolve().parents[1]
BAS_PATH = REPO / "workbooks" / "vba" / "Duban.bas"
RIBBON_PATH = REPO / "workbooks" / "ribbon" / "customUI14.xml"

TAB_ID = "DubanTab"
TAB_LABEL = "督办"
TAB_AFTER = "TabHome"  # insertAfterMso


@dataclass(frozen=True)
class Group:
    """A group of the ribbon tab (``<group id=… label=…>``)."""

    id: str
    label: str


@dataclass(frozen=True)
class Button:
    """One ribbon button.

    ``key``: the name of its function in ``macros`` and its key in ``xl_duban.ribbon.BUTTONS``
    (a Python identifier). ``label``: its Chinese caption, also the title of its message box.
    ``sub``: the VBA Sub in Duban.bas, the button's ``onAction`` (ASCII). ``id``: the button's
    id in the ribbon XML. ``image``: its ``imageMso`` icon. ``screentip``/``supertip``: the tip
    shown on hover. ``doc``: what the button does, the docstring of ``macros.<key>`` after
    "<label>：".
    """

    key: str
    label: str
    sub: str
    id: str
    group: Group
    image: str
    screentip: str
    supertip: str
    doc: str


LEDGER = Group("DubanGroupLedger", "台账")
ISSUE = Group("DubanGroupIssue", "下发与收集")
LIGHTS = Group("DubanGroupLights", "亮灯与通报")
YEAR = Group("DubanGroupYear", "年度")
HELP = Group("DubanGroupHelp", "帮助")

# in ribbon order; a group's buttons are next to each other
BUTTONS: tuple[Button, ...] = (
    Button("validate", "校验", "DubanValidate", "DubanBtnValidate", LEDGER, "DataValidation",
           "校验台账",
           "检查各表的必填项、单位名称、任务编号和日期，结果写入【校验结果】并标出有问题的单元格。",
           "检查台账并在【校验结果】列出问题、标出单元格。"),
    Button("import_tasks", "导入任务", "DubanImportTasks", "DubanBtnImportTasks", LEDGER, "ImportTextFile",
           "导入任务清单",
           "导入任务清单（Word 附件2/附件3、Excel/CSV 清单）和单位名录，写入【任务台账】【单位名录】；"
           "重复导入同一文件不会新增内容。",
           "导入台账所在文件夹下“来文”中的任务清单、分工清单和单位名录。"),
    Button("issue", "下发反馈表", "DubanIssue", "DubanBtnIssue", ISSUE, "ExportExcel",
           "下发反馈表",
           "为本期每个牵头单位生成一份反馈表，记入【报送情况】。",
           "为本季度重点任务和本月民生实事生成各单位反馈表（“下发”文件夹）。"),
    Button("send", "发送邮件", "DubanSend", "DubanBtnSend", ISSUE, "FileSendAsAttachment",
           "发送邮件",
           "给每个单位发一封邮件，附本单位的反馈表。",
           "把本期反馈表发给各单位（未设置 SMTP 时生成 .eml 到“发出邮件”文件夹）。"),
    Button("collect", "收集反馈", "DubanCollect", "DubanBtnCollect", ISSUE, "ImportExcel",
           "收集反馈",
           "检查寄回的反馈表：合格的并入【反馈记录】，不合格的隔离并说明原因，结果见【收集报告】。",
           "检查收件箱中的反馈表并并入【反馈记录】，生成【收集报告】。"),
    Button("confirm_targets", "确认目标", "DubanConfirmTargets", "DubanBtnConfirmTargets", ISSUE, "ReviewAcceptChange",
           "确认节点目标",
           "把各单位报来的“待报送”节点目标改为“已确认”，逐条记入【变更日志】；“调整待批”的须经分管领导同意后用 duban confirm --approve 批准。",
           "确认本年度各单位报来的节点目标（待报送 → 已确认）。"),
    Button("remind", "催办", "DubanRemind", "DubanBtnRemind", ISSUE, "MailSendMessage",
           "催办",
           "列出本期尚未报送的单位并发催办邮件，记入【报送情况】和【变更日志】。",
           "向本期逾期未报送的单位发出催办邮件。"),
    Button("light", "亮灯", "DubanLight", "DubanBtnLight", LIGHTS, "ConditionalFormattingMenu",
           "亮灯",
           "按规则给本期每项任务亮绿灯、黄灯或红灯，写入【亮灯记录】并更新【亮灯总览】。",
           "为本季度重点任务和本月民生实事亮灯，并重新生成【亮灯总览】。"),
    Button("quarterly_bulletin", "季度通报", "DubanQuarterlyBulletin", "DubanBtnQuarterly", LIGHTS, "CreateReport",
           "季度通报",
           "生成重点任务季度通报（台账工作表和公文格式 .docx）。",
           "生成本季度重点任务通报、整改通知书和约谈名单（“通报”文件夹和台账工作表）。"),
    Button("monthly_bulletin", "月度通报", "DubanMonthlyBulletin", "DubanBtnMonthly", LIGHTS, "CalendarInsert",
           "月度通报",
           "生成民生实事月度通报（台账工作表和公文格式 .docx）。",
           "生成本月民生实事月报（“通报”文件夹和台账工作表）。"),
    Button("publish", "公开版", "DubanPublish", "DubanBtnPublish", LIGHTS, "FileSaveAsWebPage",
           "公开版",
           "生成向社会公开的落实情况网页和同样版式的 PDF（“公开版”文件夹）：任务、牵头单位、推进状态和进展情况，"
           "不含约谈、整改、联系人和电话等内部信息。只读取台账，不修改。",
           "生成本季度重点任务和本月民生实事的公开版网页和 PDF（“公开版”文件夹；尚未亮灯的周期跳过）。"),
    Button("leader_briefs", "领导专报", "DubanLeaderBriefs", "DubanBtnLeaderBriefs", LIGHTS, "ReviewShareWorkbook",
           "领导专报",
           "为每位责任领导生成本季度本人分管重点任务的督查专报（.docx，1—2 页）：各色灯数及与上季度比较、红灯黄灯事项和单位说明的原因、"
           "逾期报送/未报送/退回的牵头单位、历季亮灯图。台账不作修改。",
           "生成本季度每位责任领导的督查专报（“领导专报”文件夹）。"),
    Button("score", "年度考核", "DubanScore", "DubanBtnScore", YEAR, "ChartInsert",
           "年度考核",
           "按【亮灯记录】【报送情况】和【考核调整】为每个牵头单位计分（扣分标准在【设置】），写入“考核-年度”和“考核明细-年度”工作表。",
           "计算本年度各牵头单位的督查考核得分（台账工作表，以及“考核”文件夹中的 .xlsx 和考核结果通报）。"),
    Button("rollover", "新建下年度台账", "DubanRollover", "DubanBtnRollover", YEAR, "FileNew",
           "新建下年度台账",
           "按已保存的台账文件新建下一年度台账：沿用单位名录、设置和节假日，结转未办结的任务。本台账不作修改。",
           "在台账所在文件夹新建下一年度台账（沿用单位名录和设置，结转未办结任务）。"),
    Button("doctor", "环境检查", "DubanDoctor", "DubanBtnDoctor", HELP, "Help",
           "环境检查",
           "检查本机能否正常使用督办（与 duban doctor 相同）：Python 和依赖库、xlwings、宏设置、字体、签名密钥、节假日、"
           "本台账的邮箱设置和单位邮箱。只检查，不修改。",
           "检查本机和本台账的运行环境（同 duban doctor），结果在提示框中逐项列出。"),
)


def runpython_call(button: Button) -> str:
    """The Python the button's Sub hands to xlwings' RunPython."""
    return f"import macros; macros.{button.key}()"


def macro_doc(button: Button) -> str:
    """The docstring of ``macros.<key>``."""
    return f"{button.label}：{button.doc}"


def groups(buttons: tuple[Button, ...] = BUTTONS) -> list[tuple[Group, list[Button]]]:
    """The ribbon's groups in order, each with its buttons; ValueError if the table is not
    usable (a group split in two, a key, Sub or id used twice, a key or Sub that is no ASCII
    identifier)."""
    out: list[tuple[Group, list[Button]]] = []
    for button in buttons:
        key = button.key
        if not (key.isidentifier() and key.isascii() and not key.startswith("_") and not keyword.iskeyword(key)):
            raise ValueError(f"{button.key!r}: a button's key must be a public ASCII Python name")
        if not (button.sub.isidentifier() and button.sub.isascii()):
            raise ValueError(f"{button.sub!r}: a button's Sub must be an ASCII VBA name")
        if out and out[-1][0] == button.group:
            out[-1][1].append(button)
        elif any(group == button.group for group, _ in out):
            raise ValueError(f"group {button.group.id}: its buttons must be next to each other")
        else:
            out.append((button.group, [button]))
    for field in ("key", "sub", "id", "label"):
        values = [getattr(b, field) for b in buttons]
        if len(set(values)) != len(values):
            raise ValueError(f"two buttons have the same {field}")
    return out


_BAS_HEADER = """\
Attribute VB_Name = "Duban"
' Callbacks of the Duban ribbon tab (workbooks/ribbon/customUI14.xml): one Sub per button.
' Each runs the Python function of that button in the `macros` package through xlwings'
' RunPython, which comes from the xlwings add-in (default template) or from the embedded
' xlwings module (standalone build). The Python side opens the calling workbook and runs
' the same service as the `duban` command line.
'
' Keep this file ASCII only: the project is stored with codepage 1252 and Chinese text
' would show garbled on non-Chinese Windows. The Chinese labels live in the ribbon XML.
Option Explicit
"""


def render_bas(buttons: tuple[Button, ...] = BUTTONS) -> str:
    """The text of ``workbooks/vba/Duban.bas`` (CRLF line ends, ASCII only)."""
    groups(buttons)
    lines = _BAS_HEADER.splitlines()
    for button in buttons:
        lines += ["", f"Public Sub {button.sub}(control As IRibbonControl)",
                  f'    RunPython "{runpython_call(button)}"', "End Sub"]
    text = "\r\n".join(lines) + "\r\n"
    text.encode("ascii")  # UnicodeEncodeError: VBA sources must stay ASCII
    return text


_RIBBON_HEADER = """\
<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- 督办 ribbon tab of template.xlsm (Office 2010+ schema). Each onAction names a
     Sub X(control As IRibbonControl) in workbooks/vba/Duban.bas. -->
<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui">
  <ribbon>
    <tabs>
"""

_RIBBON_FOOTER = """\
    </tabs>
  </ribbon>
</customUI>
"""


def render_ribbon(buttons: tuple[Button, ...] = BUTTONS) -> str:
    """The text of ``workbooks/ribbon/customUI14.xml`` (LF line ends, to be written as UTF-8)."""
    q = quoteattr
    out = [_RIBBON_HEADER,
           f"      <tab id={q(TAB_ID)} label={q(TAB_LABEL)} insertAfterMso={q(TAB_AFTER)}>\n"]
    for group, members in groups(buttons):
        out.append(f"        <group id={q(group.id)} label={q(group.label)}>\n")
        for b in members:
            out.append(f'          <button id={q(b.id)} label={q(b.label)} size="large" imageMso={q(b.image)}\n'
                       f"                  onAction={q(b.sub)} screentip={q(b.screentip)}\n"
                       f"                  supertip={q(b.supertip)}/>\n")
        out.append("        </group>\n")
    out += ["      </tab>\n", _RIBBON_FOOTER]
    return "".join(out)


def sources(buttons: tuple[Button, ...] = BUTTONS) -> dict[Path, bytes]:
    """The generated files and their exact bytes."""
    return {BAS_PATH: render_bas(buttons).encode("ascii"),
            RIBBON_PATH: render_ribbon(buttons).encode("utf-8")}


def write_sources() -> list[Path]:
    """Write the generated files that differ from the table; returns those written."""
    written = []
    for path, data in sources().items():
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    if argv if argv is not None else sys.argv[1:]:
        print("usage: python -m xl_duban.buttons  (rewrites Duban.bas and customUI14.xml from the table)",
              file=sys.stderr)
        return 2
    written = write_sources()
    for path in written:
        print(f"written: {path.relative_to(REPO)}")
    if written:
        print("now rebuild the template: python -m xl_duban.excel.template")
    else:
        print("Duban.bas and customUI14.xml already match the table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
