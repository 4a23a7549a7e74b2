"""One function per button of the 督办 ribbon tab.

``workbooks/vba/Duban.bas`` calls them through xlwings ``RunPython`` ("import macros;
macros.validate()"). Each takes the calling book (``xw.Book.caller()``; tests pass a book)
and runs :func:`xl_duban.ribbon.press`, which opens a store over that book, runs the same
service as the command line, writes the result into the book, shows progress in the status
bar and ends with a Chinese message box.
"""

from __future__ import annotations

from xl_duban.ribbon import Pressed, press


def _caller(book):
    if book is not None:
        return book
    import xlwings as xw

    return xw.Book.caller()


def validate(book=None) -> Pressed:
    """校验：检查台账并在【校验结果】列出问题、标出单元格。"""
    return press("validate", _caller(book))


def import_tasks(book=None) -> Pressed:
    """导入任务：导入台账所在文件夹下“来文”中的任务清单、分工清单和单位名录。"""
    return press("import_tasks", _caller(book))


def issue(book=None) -> Pressed:
    """下发反馈表：为本季度重点任务和本月民生实事生成各单位反馈表（“下发”文件夹）。"""
    return press("issue", _caller(book))


def send(book=None) -> Pressed:
    """发送邮件：把本期反馈表发给各单位（未设置 SMTP 时生成 .eml 到“发出邮件”文件夹）。"""
    return press("send", _caller(book))


def collect(book=None) -> Pressed:
    """收集反馈：检查收件箱中的反馈表并并入【反馈记录】，生成【收集报告】。"""
    return press("collect", _caller(book))


def remind(book=None) -> Pressed:
    """催办：向本期逾期未报送的单位发出催办邮件。"""
    return press("remind", _caller(book))


def light(book=None) -> Pressed:
    """亮灯：为本季度重点任务和本月民生实事亮灯，并重新生成【亮灯总览】。"""
    return press("light", _caller(book))


def quarterly_bulletin(book=None) -> Pressed:
    """季度通报：生成本季度重点任务通报、整改通知书和约谈名单（“通报”文件夹和台账工作表）。"""
    return press("quarterly_bulletin", _caller(book))


def monthly_bulletin(book=None) -> Pressed:
    """月度通报：生成本月民生实事月报（“通报”文件夹和台账工作表）。"""
    return press("monthly_bulletin", _caller(book))
