"""The catalogue of finding codes (DESIGN §7): what each code means and what the clerk does.

Every :class:`~xl_duban.domain.findings.Finding` carries a stable kebab-case code. This
module lists them all — the level the program emits each at, the step of the work it
belongs to, a short Chinese title and one sentence on what to do — so that the codes a
clerk sees in 校验结果 or ``--json`` can be looked up (:func:`describe`) and README's
问题代码一览 can be generated (:func:`markdown_table`, :func:`with_table`).

``tests/test_codes.py`` scans the whole source tree and fails when a code is emitted that
is not here, when an entry here is never emitted, or when a level here is not one the
program uses; it also rewrites README's table (``python -m tests.test_codes --readme``).

Pure and standard library only (the domain layer does no I/O, DESIGN §8): the levels are
the Chinese labels of :class:`~xl_duban.domain.findings.Level`, spelled out.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

ERROR, WARNING, INFO = "错误", "警告", "提示"
LEVELS = (ERROR, WARNING, INFO)

# The steps of the work, in the order README lists them.
AREAS = ("命令", "台账", "设置", "校验", "导入", "下发", "发送", "催办", "收集", "亮灯", "通报", "考核")

BEGIN, END = "<!-- codes:begin -->", "<!-- codes:end -->"


@dataclass(frozen=True)
class CodeInfo:
    """One finding code.

    ``levels`` are all the levels the program emits the code at, the usual one first
    (``level``); most codes have exactly one. ``areas`` are the steps that raise it.
    """

    code: str
    levels: tuple[str, ...]
    areas: tuple[str, ...]
    title: str
    action: str

    @property
    def level(self) -> str:
        """The usual level (the first of :attr:`levels`)."""
        return self.levels[0]

    @property
    def area(self) -> str:
        """The main step (the first of :attr:`areas`)."""
        return self.areas[0]


# code, levels ("/"-separated, usual first), areas ("/"-separated, main first), title, action
_ROWS: tuple[tuple[str, str, str, str, str], ...] = (
    # -- 命令：命令行参数与运行 ----------------------------------------------------------
    ("usage-error", "错误", "命令", "命令用法有误",
     "按提示补全或改正命令的参数（如 --smtp / --eml、类别、收件文件夹）后重新运行。"),
    ("ledger-unavailable", "错误", "命令/台账", "台账无法打开或保存",
     "按提示处理（如关闭正在使用台账的 Excel/WPS、等待其他命令结束）后重试，台账未被修改。"),
    ("internal-error", "错误", "命令", "程序内部错误",
     "台账未被修改；请把提示中的日志文件发给维护人员。"),
    ("bad-year", "错误", "命令/设置", "新建台账的年度无效",
     "填写四位年份（如 2024）后重新新建台账。"),
    # -- 台账：工作表结构 ------------------------------------------------------------------
    ("missing-sheet", "错误", "台账", "台账缺少标准工作表",
     "不要删除或重命名标准工作表；保存时会重建空表，原有数据请从台账备份恢复。"),
    ("missing-column", "错误", "台账/收集", "缺少必需的列",
     "恢复被删除或改名的表头（列名一字不差）；反馈表缺列时请单位在下发的原文件上重新填写。"),
    # -- 设置 ------------------------------------------------------------------------------
    ("bad-setting", "错误", "设置", "设置值无效",
     "在【设置】中按提示改正该项（或清空以使用默认值）；改正前按默认值计算。"),
    ("calendar-estimated", "警告", "设置", "该年放假安排为推算",
     "国务院公布放假安排后，在【节假日】逐日登记“休”和“班”，再加一行类型“已核对”确认该年。"),
    # -- 校验：台账内容 ---------------------------------------------------------------------
    ("required-field", "错误", "校验", "必填项为空",
     "补填该单元格。"),
    ("invalid-choice", "错误", "校验/收集", "取值不在可选范围内",
     "从下拉列表中选择规定的值；反馈表中出现时请单位改正后重新报送。"),
    ("duplicate-task-id", "错误", "校验", "任务编号重复",
     "修改其中一行的任务编号，使每项任务的编号唯一。"),
    ("bad-task-id", "警告", "校验", "任务编号格式不规范",
     "按“2024-ZD-001 / 2024-MS-03 / 2024-MS-03-2”的格式改正编号。"),
    ("task-id-kind-mismatch", "警告", "校验", "任务编号与类别不一致",
     "核对类别，或改正编号中的 ZD（重点任务）/ MS（民生实事）。"),
    ("task-id-year", "警告", "校验", "任务编号的年度与台账年度不同",
     "核对编号中的年份是否录错。"),
    ("orphan-subitem", "错误", "校验", "子项所属的项目不存在",
     "先登记所属的民生实事项目，或改正子项的编号。"),
    ("unknown-unit", "错误/警告", "校验/下发", "单位不在单位名录中",
     "改为单位名录中的名称，或在【单位名录】中新增该单位（或登记为别名）；有相近名称时为警告。"),
    ("unit-alias", "提示", "校验", "使用了单位的别名",
     "可统一改写为单位的规范名称。"),
    ("collective-empty", "警告", "校验", "统称没有对应的单位",
     "在【单位名录】中登记各镇（街道）并将类型设为“镇街”。"),
    ("unnamed-collective", "错误", "校验", "统称须明确具体单位",
     "把“相关镇街道”“区直相关单位”等统称改为具体单位名称（多个用“、”隔开）；明确前不下发反馈表、不计入通报。"),
    ("collective-in-directory", "警告", "校验/导入", "单位名录中登记了统称",
     "统称不是单位：删除【单位名录】中的该行，在任务的【牵头单位】/【配合单位】中写明具体单位。"),
    ("glued-unit-name", "警告", "校验", "单位名称像是几个单位连在一起",
     "核对该名称：如是几个单位，在任务中用“、”分开填写，并删除【单位名录】中的该行。"),
    ("duplicate-unit", "错误", "校验", "单位重复登记",
     "删除重复的行，或合并两行的联系方式。"),
    ("ambiguous-unit-name", "错误", "校验", "名称或别名同时指向两个单位",
     "修改名称或别名，使每个名称只属于一个单位。"),
    ("bad-email", "错误", "校验", "邮箱格式不正确",
     "改为 name@example.gov.cn 的形式，多个地址用分号隔开。"),
    ("missing-leader", "警告", "校验/通报", "未填写责任领导",
     "补填分管区领导（整改通知书需抄送分管领导；没有责任领导的任务不在任何领导专报中）。"),
    ("bad-date", "错误", "校验", "日期无效",
     "改为有效日期（如 2024-03-31）。"),
    ("date-out-of-range", "错误/警告", "校验/导入", "日期不在台账年度内",
     "核对日期中的年份是否录错（导入时为警告，校验时为错误）。"),
    ("date-in-future", "错误", "校验", "日期晚于今天",
     "核对日期是否录错。"),
    ("deadline-text", "警告", "校验", "完成时限是文字，可改为日期",
     "在【完成时限】中输入提示的日期（如 2024-06-30），说明文字移入【备注】；重新导入时会自动转换。"),
    ("deadline-unreadable", "警告", "校验/导入", "完成时限无法识别为日期",
     "写作 2024-12-31、12月底前、三季度末或年底前；确无具体时限的写“长期”“持续推进”。"),
    ("deadline-ambiguous", "警告", "校验/导入", "完成时限含多个时间",
     "在【完成时限】中只填督办跟踪的最终完成日期，分阶段的时间写在【备注】或节点目标中。"),
    ("task-overdue", "警告", "校验", "任务超期未办结",
     "督促牵头单位办结；已办结的将【状态】改为“已办结”，时限调整的按程序报批后修改【完成时限】。"),
    ("bad-date-option", "错误", "命令", "--date 日期无法识别",
     "日期写作 2024-04-15（或 2024年4月15日）。"),
    ("bad-period", "错误", "校验/命令", "周期无法识别",
     "季度写作 2024Q1，月份写作 2024-03。"),
    ("period-format", "提示", "校验", "周期写法不规范",
     "按建议改写为标准写法（如 2024Q1、2024-03）。"),
    ("period-year", "警告", "校验", "周期不在台账年度内",
     "核对周期中的年份。"),
    ("cadence-mismatch", "错误/警告", "校验/下发", "周期与报送频次不符",
     "重点任务按季度（2024Q1）、民生实事按月（2024-03）；仅【报送频次】与类别惯例不同时为警告。"),
    ("target-unknown-task", "错误", "校验", "节点目标的任务编号不存在",
     "核对任务编号，或先在【任务台账】中登记该任务。"),
    ("feedback-unknown-task", "错误", "校验", "反馈的任务编号不存在",
     "核对任务编号，或先在【任务台账】中登记该任务。"),
    ("duplicate-target", "错误", "校验", "节点目标重复",
     "每项任务每个周期只保留一条节点目标，删除多余的行。"),
    # -- 导入：来文任务清单与单位名录 ---------------------------------------------------------
    ("unreadable-file", "错误", "导入/收集", "文件无法读取",
     "确认文件未损坏、未加密并另存为 .xlsx / .docx 后重试；回收的文件请单位重新报送。"),
    ("nothing-imported", "错误", "导入", "文件中没有可导入的内容",
     "确认任务清单有“序号”“工作任务”“牵头单位”等表头后重新导入。"),
    ("year-mismatch", "提示", "导入", "来文年度与台账年度不同",
     "确认导入的是本年度的文件；导错时从台账备份恢复。"),
    ("not-a-task-table", "提示", "导入", "不是任务清单，已跳过",
     "如确为任务清单，把表头改为“工作任务”“牵头单位”等标准列名后重新导入。"),
    ("target-form-skipped", "提示", "导入", "节点目标表或反馈表，已跳过",
     "节点目标请通过“下发反馈表 --targets”和“收集反馈”录入。"),
    ("repeated-header", "提示", "导入", "重复的表头行，已跳过",
     "无需处理（跨页表格常见）。"),
    ("missing-content", "错误", "导入", "缺少工作任务内容，未导入",
     "补全【工作任务】后重新导入。"),
    ("bad-seq", "错误", "导入", "序号不是数字，未导入",
     "将序号改为阿拉伯数字后重新导入。"),
    ("missing-seq", "错误", "导入", "序号为空或被合并，未导入",
     "补填序号（或取消合并、把续行并入上一行）后重新导入。"),
    ("subitem-row", "提示", "导入", "按民生实事子项导入",
     "核对该行是否确为上一项民生实事的子项。"),
    ("deadline-words", "提示", "导入", "完成时限含说明文字，原文已记入备注",
     "核对【完成时限】中识别出的日期；说明文字保留在【备注】中。"),
    ("deadline-ongoing", "提示", "导入", "完成时限不是具体日期，已记入备注",
     "“长期坚持”“持续推进”等任务不计超期；如有具体时限，请填入【完成时限】。"),
    ("deadline-start", "提示", "导入", "完成时限是开始时间，已记入备注",
     "“2025年3月启动”等是开始时间，不计超期；如有完成时限，请填入【完成时限】。"),
    ("missing-lead-unit", "警告", "导入", "牵头单位为空",
     "在【任务台账】中补填牵头单位。"),
    ("prose-skipped", "提示", "导入", "段落没有责任单位，未导入",
     "如该段是一项任务，在段末用括号注明责任单位后重新导入。"),
    ("missing-unit-name", "错误", "导入", "单位名称为空，未导入",
     "补填单位名称后重新导入。"),
    ("task-id-conflict", "错误", "导入", "任务编号已被另一项任务占用",
     "核对是否为同一任务的修订稿；如是，直接在【任务台账】中修改原任务。"),
    ("duplicate-content", "警告", "导入", "任务内容与已有任务相同",
     "核对是否重复；确属重复的，将新任务的状态改为“已取消”。"),
    ("collective-unit", "提示", "导入", "统称需由督查室确定具体单位",
     "在【牵头单位】中列出具体的镇（街道）。"),
    ("unit-alias-matched", "警告", "导入", "按简称或不同写法匹配到已有单位",
     "核对匹配是否正确；有误时在【单位名录】中删除该别名并新增单位。"),
    ("new-unit", "警告", "导入", "新单位已加入单位名录",
     "在【单位名录】中确认类型，补填联系人和邮箱；如为已有单位的别称，改为别名。"),
    ("unit-note-dropped", "提示", "导入", "单位名称后括注的文字不是单位，未作为单位导入",
     "核对括注（如“牵头”“开发区”）；如是另一个单位，在【任务台账】中补上该单位名称。"),
    ("roles-in-lead-cell", "提示", "导入", "牵头单位栏中注明配合的单位已记入配合单位",
     "核对【牵头单位】和【配合单位】的划分是否与原文一致。"),
    ("unit-full-name-adopted", "警告", "导入", "简称与后出现的全称为同一单位，已以全称为准",
     "核对两个名称是否确为同一单位；如不是，在【单位名录】中删除该别名，另行新增单位。"),
    # -- 下发 --------------------------------------------------------------------------------
    ("nothing-to-issue", "警告", "下发", "没有需要报送的任务",
     "核对【任务台账】中任务的类别和状态。"),
    ("collective-not-issued", "警告", "下发", "牵头单位为统称，未下发反馈表",
     "在【任务台账】中把统称改为具体单位后重新下发（duban issue）。"),
    ("period-outside-year", "错误", "下发", "周期不在台账年度内，未下发",
     "周期应为台账年度的季度或月份；其他年度请使用该年度的台账。"),
    ("already-issued", "错误", "下发", "该周期已下发过，未重新下发",
     "确需重新下发时加 --reissue：已报送单位的反馈保留、不再下发，其余单位此前的反馈表作废。"),
    ("reissue-not-confirmed", "错误", "下发", "未确认重新下发",
     "在终端中回答 y 确认，或在脚本中加 --yes。"),
    ("deadline-passed", "警告", "下发", "下发时报送截止日已过",
     "确认周期是否填错；如确为补发，另行通知各单位报送时限。"),
    ("approval-needs-leader", "错误", "下发", "批准目标调整未写明分管领导",
     "加 --by 分管领导姓名：已确认的节点目标须经分管区领导同意方可调整。"),
    ("unknown-target-task", "错误", "下发", "指定的任务没有节点目标",
     "核对任务编号；节点目标须先经目标安排表收回（duban collect）。"),
    ("target-empty", "提示", "下发", "节点目标尚未填写，未确认",
     "在【节点目标】中填写后再确认（duban confirm）。"),
    ("nothing-to-confirm", "提示", "下发", "没有需要确认或批准的节点目标",
     "节点目标须先经目标安排表收回（duban collect）。"),
    ("no-confirmed-target", "错误", "下发", "任务没有已确认的节点目标，未列入反馈表",
     "下发目标安排表收集节点目标（duban issue --targets），用 duban confirm 确认后重新下发。"),
    # -- 发送 --------------------------------------------------------------------------------
    ("smtp-not-configured", "错误", "发送", "未设置发信服务器",
     "在【设置】中填写“SMTP服务器”和“发件人”，或改用 --eml 生成邮件文件。"),
    ("nothing-to-send", "警告", "发送", "该周期尚未下发反馈表",
     "先运行“下发反馈表”（duban issue）。"),
    ("issued-file-missing", "错误", "发送", "找不到已下发的反馈表",
     "先运行“下发反馈表”（duban issue），或恢复被移走的反馈表文件。"),
    ("no-email", "警告", "发送", "单位没有有效邮箱，未发送",
     "在【单位名录】中填写邮箱后重新发送。"),
    ("send-failed", "错误", "发送/催办", "邮件发送失败",
     "按错误信息检查网络和邮箱设置后重新发送。"),
    # -- 催办 --------------------------------------------------------------------------------
    ("too-early", "提示", "催办", "尚未到催办时间",
     "截止日临近时再催办，或用 --days-before N 在截止前 N 天催办。"),
    ("reminder-not-sent", "警告", "催办", "未能催办",
     "补全单位邮箱或重新下发反馈表后再催办。"),
    # -- 收集 --------------------------------------------------------------------------------
    ("imap-not-configured", "错误", "收集", "未设置收件邮箱",
     "在【设置】中填写“IMAP服务器”和“IMAP账号”，或把附件保存到文件夹后从文件夹收集。"),
    ("imap-failed", "错误", "收集", "收取邮件失败",
     "按错误信息检查 IMAP 设置和网络后重试。"),
    ("no-attachment", "提示", "收集", "邮件中没有 Excel 附件",
     "无需处理；如单位称已报送，请其把反馈表作为附件重新发送。"),
    ("unsigned-file", "错误", "收集", "文件没有下发时的校验信息",
     "请单位在督查室下发的原文件上填写后重新报送。"),
    ("bad-signature", "错误", "收集", "签名校验未通过",
     "请单位在下发的原文件上重新填写（不改动灰色单元格）后重新报送。"),
    ("no-matching-issue", "错误", "收集", "没有对应的下发记录",
     "核对文件的周期和单位；确需收取的，先下发再请单位在新文件上填写。"),
    ("superseded-issue", "错误", "收集", "文件已被重新下发的版本取代",
     "请单位在最新下发的文件上填写后重新报送。"),
    ("unknown-sender", "提示", "收集", "发件地址未登记",
     "如该地址是单位常用邮箱，在【单位名录】中补充。"),
    ("sender-unclear", "错误", "收集", "发件人不明",
     "核实来源；确属该单位报送的，请其从登记邮箱重新发送，或核实后用 collect --accept 接收。"),
    ("unregistered-sender", "错误", "收集", "发件地址未登记（仅接收登记邮箱）",
     "核实后请单位从登记邮箱重新发送，或在【单位名录】中补充该地址。"),
    ("sender-date-mismatch", "警告", "收集", "邮件日期与收到时间不符",
     "无需处理，是否逾期按督查室收到的时间认定；怀疑倒签日期时与单位核实。"),
    ("unregistered-replace", "错误", "收集", "未登记地址寄来的版本不取代已接收的反馈",
     "核实是否确为该单位更正；是则请其从登记邮箱重新发送，或用 collect --accept 接收。"),
    ("repeat-return", "提示", "收集", "重复报送（内容与已接收的相同）",
     "无需处理，报送时间和状态不变。"),
    ("too-many-rows", "错误", "收集", "表格行数远多于下发的表格",
     "请单位在下发的原文件上填写，删除多余的行后重新报送。"),
    ("more-findings", "提示", "收集", "其余问题未逐一列出",
     "按已列出的问题修改；重新报送后会再次检查。"),
    ("file-not-kept", "错误", "收集", "文件无法存入归档或隔离区",
     "检查台账所在文件夹的磁盘空间和写入权限，并把原邮件或文件另行保存。"),
    ("wrong-unit", "错误", "收集", "文件由其他单位寄回",
     "请该单位使用下发给本单位的文件填写；代报须从原单位的邮箱报送。"),
    ("table-not-found", "错误", "收集", "找不到反馈表的表头",
     "请单位在下发的原文件上重新填写后报送。"),
    ("duplicate-row", "错误", "收集", "同一任务出现两次",
     "请单位删除多出的行后重新报送。"),
    ("unexpected-row", "错误", "收集", "多出的行填写了内容",
     "请单位把内容填到对应任务的行内，不自行增加行，重新报送。"),
    ("task-row-missing", "错误", "收集", "任务行被删除或编号被改动",
     "请单位在下发的原文件上重新填写后报送。"),
    ("locked-cell-edited", "错误", "收集", "督查室填写的内容被改动",
     "请单位撤销对灰色单元格的改动后重新报送。"),
    ("formula-in-cell", "错误", "收集", "单元格中是公式",
     "请单位把公式改为数值（选择性粘贴→数值）后重新报送。"),
    ("merged-cells", "错误", "收集", "单元格被合并",
     "请单位取消合并，每项任务分别填写后重新报送。"),
    ("cell-too-long", "错误", "收集", "内容超过单元格字数上限",
     "请单位精简内容或改为附件说明后重新报送。"),
    ("empty-return", "错误", "收集", "寄回了空白表",
     "请单位填写后重新报送。"),
    ("completion-missing", "警告", "收集", "未选择完成情况",
     "亮灯时按未完成处理；如已完成，请单位补报并选择“已完成”。"),
    ("empty-row", "警告", "收集", "任务未填写",
     "按未报送处理；如有进展，请单位补报。"),
    ("late-return", "警告", "收集", "逾期报送",
     "无需处理，逾期情况将在通报中列出。"),
    ("missing-return", "警告/提示", "收集", "单位尚未报送",
     "逾期的用“催办”（duban remind）发送催办邮件；未到截止日的（提示）无需处理。"),
    # -- 亮灯 --------------------------------------------------------------------------------
    ("before-deadline", "警告", "亮灯", "尚未到报送截止日",
     "截止日过后再次运行亮灯，结果会自动更新。"),
    ("invalid-override", "错误", "亮灯", "核定灯色无效",
     "在“核定灯色”中只填写绿灯、黄灯或红灯。"),
    ("override-without-reason", "错误", "亮灯", "核定未填写说明，未生效",
     "在“核定说明”中写明核定依据后重新亮灯。"),
    ("self-assessment-disagreement", "警告", "亮灯", "自评灯色与核定结果不一致",
     "在通报中说明差异原因，必要时与责任单位核实。"),
    ("no-node-target", "警告", "亮灯", "任务本期没有节点目标，未亮灯",
     "在【节点目标】为所列任务补填本期节点目标并确认后重新亮灯；已完成的任务在【任务台账】标为“已办结”。"),
    ("unnamed-lead-unlit", "警告", "亮灯", "牵头单位为统称的任务未亮灯",
     "在【任务台账】把统称改为具体单位名称，下发反馈表后再亮灯。"),
    # -- 考核 --------------------------------------------------------------------------------
    ("score-adjustment-invalid", "错误", "校验/考核", "考核调整不能计入",
     "在【考核调整】中填写单位名录中的单位、数字分值、事由和批准人。"),
    ("score-empty", "警告", "考核", "没有可考核的牵头单位",
     "先导入任务、下发反馈表并亮灯，再计算考核。"),
    # -- 通报 --------------------------------------------------------------------------------
    ("not-lit", "错误", "通报", "该周期尚未亮灯",
     "先运行“亮灯”（duban light）再生成通报。"),
    ("chart-font-missing", "警告", "通报", "本机缺少中文字体",
     "安装中文字体（如 fonts-noto-cjk）后重新生成通报。"),
    ("pdf-printer-missing", "提示", "通报", "本机没有可打印 PDF 的浏览器，公开版只生成网页",
     "Windows 自带 Microsoft Edge；Linux 安装 chromium 或 LibreOffice，或用 XL_DUBAN_PDF_PRINTER 指定浏览器位置。"),
    ("pdf-print-failed", "警告", "通报", "公开版打印 PDF 未成功",
     "用浏览器打开公开版网页，选择“打印 → 另存为 PDF”；或检查浏览器能否正常启动。"),
)


def _build(rows: tuple[tuple[str, str, str, str, str], ...]) -> dict[str, CodeInfo]:
    out: dict[str, CodeInfo] = {}
    for code, levels, areas, title, action in rows:
        if code in out:
            raise ValueError(f"finding code {code!r} catalogued twice")
        entry = CodeInfo(code, tuple(levels.split("/")), tuple(areas.split("/")), title, action)
        if not set(entry.levels) <= set(LEVELS) or not set(entry.areas) <= set(AREAS):
            raise ValueError(f"finding code {code!r}: unknown level or area")
        out[code] = entry
    return out


CATALOGUE: dict[str, CodeInfo] = _build(_ROWS)
"""Every finding code, keyed by code, in README order."""


def describe(code: str) -> CodeInfo | None:
    """The catalogue entry of ``code`` (None for a code not in the catalogue)."""
    return CATALOGUE.get(code)


def codes() -> list[str]:
    """All catalogued codes, sorted."""
    return sorted(CATALOGUE)


def _ordered() -> list[CodeInfo]:
    """Entries grouped by main area (in :data:`AREAS` order), then by code."""
    return sorted(CATALOGUE.values(), key=lambda e: (AREAS.index(e.area), e.code))


def markdown_table() -> str:
    """The catalogue as a Markdown table (README's 问题代码一览), ending in a newline."""
    lines = ["| 代码 | 级别 | 环节 | 问题 | 怎么办 |", "| --- | --- | --- | --- | --- |"]
    for e in _ordered():
        cells = [f"`{e.code}`", "/".join(e.levels), "、".join(e.areas), e.title, e.action]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def with_table(readme: str) -> str:
    """``readme`` with the text between the ``codes:begin`` / ``codes:end`` markers
    replaced by :func:`markdown_table`; ValueError when the markers are missing."""
    start, stop = readme.find(BEGIN), readme.find(END)
    if start < 0 or stop < start:
        raise ValueError(f"README has no {BEGIN} … {END} block")
    return readme[:start + len(BEGIN)] + "\n" + markdown_table() + readme[stop:]


def table_in(readme: str) -> str | None:
    """The text between the markers (as :func:`markdown_table` renders it), or None."""
    start, stop = readme.find(BEGIN), readme.find(END)
    if start < 0 or stop < start:
        return None
    return readme[start + len(BEGIN):stop].lstrip("\n")


def main(argv: list[str] | None = None) -> int:
    """``python -m xl_duban.domain.codes [CODE …]``: print the table, or describe codes.

    (README's block is rewritten by ``python -m tests.test_codes --readme``: the domain
    layer does not touch files.)"""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        sys.stdout.write(markdown_table())
        return 0
    status = 0
    for code in args:
        e = describe(code)
        if e is None:
            print(f"{code}: 不是已登记的问题代码")
            status = 1
        else:
            print(f"{e.code}（{'/'.join(e.levels)}，{'、'.join(e.areas)}）：{e.title}。{e.action}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
