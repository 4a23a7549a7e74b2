"""The public version (公开版): the demo's 2022Q2 page, checked against the ledger's cells read
with openpyxl, opened in a real headless Chromium (no request but the page itself, no console
error, a screenshot kept in test-artifacts/), printed to PDF, and made without a browser."""

from __future__ import annotations

import hashlib
import html
import html.parser
import json
import os
import re
import shutil
import subprocess
import unicodedata
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from xl_duban.domain.public import has_contact, scrub
from xl_duban.io.ledger_store import LedgerStore
from xl_duban.services import publish_public

from .conftest import run_cli
from .test_libreoffice import ARTIFACTS

LATER = datetime(2022, 7, 20, 9, 0)
STAFF = ("王晓红", "李建国", "陈志强")  # 填报人, 审核人 (报送情况), 联系人 (单位名录)
INJECTED = {  # task → (its lead unit's 进展情况 with things that must not be published, what must remain)
    "2022-ZD-001": ("本季度完成投资12.5亿元，联系人：王晓红，电话：１３８ １２３４ ５６７８。已督促项目加快建设。",
                    "本季度完成投资12.5亿元。已督促项目加快建设。"),
    "2022-ZD-002": ("推进情况良好（详询李建国，0762－3300001）。邮箱 fgj＠yuancheng．gov．cn。", "推进情况良好。"),
    "2022-ZD-003": ("经约谈后已整改到位。本期完成年度计划的50%。", "本期完成年度计划的50%。"),
    "2022-ZD-004": ("陈 志 强同志牵头，完成项目签约3个，热线（0762）8888666。", "完成项目签约3个。"),
}
PROBLEM = "资金缺口较大，需区财政统筹解决"  # a 存在问题: never published
FORBIDDEN_WORDS = ("约谈", "整改", "自评", "退回", "隔离", "未报送", "存在问题", "红灯", "黄灯", "绿灯", "亮灯", PROBLEM)


# -- the scrubber on variants one would not think of first ------------------------------------------------------------
@pytest.mark.parametrize("text, kept", [
    ("截至6月底完成80%，联系电话13812345678。", "截至6月底完成80%。"),
    ("完成80%，手机：+86 138-1234-5678。", "完成80%。"),
    ("完成80%，电话：１３８１２３４５６７８。", "完成80%。"),  # full-width digits
    ("完成80%，电话 138 1234 5678。", "完成80%。"),  # spaces inside the number
    ("完成验收（电话：(0755)12345678转801）。", "完成验收。"),
    ("完成验收，座机0755 1234 5678。", "完成验收。"),
    ("完成验收，咨询电话：88886666。", "完成验收。"),  # a bare 8-digit landline
    ("完成验收，热线400-123-4567。", "完成验收。"),
    ("资料已报送，邮箱：abc.d_e＠qq．com。", "资料已报送。"),  # ＠ and ． written full width
    ("资料已报送，邮箱 abc (at) yuancheng.gov.cn。", "资料已报送。"),
    ("资料已报送，QQ：123456789。", "资料已报送。"),
    ("联系人：赵六。完成招标。", "完成招标。"),  # a name the ledger does not know, after its label
    ("经约谈，已制定方案。新建道路2公里。", "新建道路2公里。"),
    ("按整改通知书要求完成。完成招标。", "完成招标。"),
    ("单位自评为绿灯。完成招标。", "完成招标。"),
])
def test_scrub_drops_contacts_and_internal_sentences(text, kept):
    assert scrub(text) == kept


@pytest.mark.parametrize("text", [
    "完成投资12345678元。", "累计投入资金1234567万元。", "2022-06-30前完成招标。", "于20220630完成验收。",
    "完成年度计划的52%。", "服务群众12345人次。", "拨打12345政务服务便民热线的诉求全部办结。",
])
def test_scrub_keeps_numbers_that_are_no_contact(text):
    assert scrub(text) == text and not has_contact(text)


def test_scrub_drops_a_staff_name_however_it_is_spaced():
    assert scrub("由王　晓红同志负责推进，已完成80%。", ["王晓红"]) == "已完成80%。"
    assert scrub("王晓红。", ["王晓红"]) == ""


# -- the demo's 2022Q2 page ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def made(demo_year, tmp_path_factory):
    """The demo ledger with staff names, contacts, an internal sentence, a 存在问题, a 核定 light,
    a task reported finished and a closed task put in, then ``publish`` for 2022Q2."""
    work = tmp_path_factory.mktemp("public")
    ledger = work / "台账.xlsx"
    shutil.copy2(demo_year / "2022年督查台账.xlsx", ledger)
    store = LedgerStore(ledger)
    led, _ = store.load()
    for s in led.submissions:
        if s.period == "2022Q2":
            s.filler, s.reviewer, s.phone = STAFF[0], STAFF[1], "13912345678"
    led.units[0].contact = STAFF[2]
    for fb in led.feedback:
        if fb.period == "2022Q2" and fb.task_id in INJECTED:
            fb.progress = INJECTED[fb.task_id][0]
        if fb.period == "2022Q2" and fb.task_id == "2022-ZD-005":
            fb.problems = PROBLEM
    red = next(r for r in led.lights if r.period == "2022Q2" and r.light == "红灯" and r.task_id not in INJECTED)
    red.override, red.override_note = "绿灯", "经核实已按期完成"
    green = [r.task_id for r in led.lights if r.period == "2022Q2" and r.light == "绿灯"]
    singles = {t.id for t in led.tasks if len(t.lead_units) == 1}
    finished = next(t for t in green if t in singles and t not in INJECTED)
    for fb in led.feedback:
        if fb.period == "2022Q2" and fb.task_id == finished:
            fb.completion = "已办结"
    closed = next(t for t in led.tasks if t.kind == "重点任务" and t.id not in INJECTED and t.id != finished)
    closed.status = "已办结"
    store.save(led, now=LATER)
    before = hashlib.sha256(ledger.read_bytes()).digest()
    outcome = publish_public(ledger, "2022Q2", work / "公开版", now=LATER)
    return {"ledger": ledger, "outcome": outcome, "before": before, "override": red.task_id, "finished": finished,
            "closed": closed.id}


class Table(html.parser.HTMLParser):
    """The page's table rows (cell texts) and every tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: list[tuple[str, dict]] = []
        self._cell: list[str] | None = None
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td" and self._in_body:
            self._cell = []
        elif tag == "p" and self._cell is not None and self._cell:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _sheet(ledger: Path, name: str) -> list[dict]:
    rows = list(openpyxl.load_workbook(ledger, read_only=True)[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:] if any(v is not None for v in r)]


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def test_publish_writes_the_page_and_its_pdf_and_not_the_ledger(made):
    outcome = made["outcome"]
    assert outcome.exit_code == 0, outcome.findings
    assert hashlib.sha256(made["ledger"].read_bytes()).digest() == made["before"]  # read-only
    html_path, pdf = Path(outcome.summary["html"]), Path(outcome.summary["pdf"])
    assert html_path.name == "2022年第二季度重点任务落实情况（公开版）.html" and pdf.suffix == ".pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "2022年第二季度区《政府工作报告》重点任务落实情况" in _plain(text)
    assert _plain(INJECTED["2022-ZD-003"][1]) in _plain(text)
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(ARTIFACTS / "public-2022Q2-pdf")],
                   check=True)


def test_every_task_once_with_its_final_light_in_public_words(made):
    page = Path(made["outcome"].summary["html"]).read_text(encoding="utf-8")
    table = Table()
    table.feed(page)
    tasks = [t for t in _sheet(made["ledger"], "任务台账") if t["类别"] == "重点任务" and t["状态"] != "已取消"]
    assert len(table.rows) == len(tasks) == made["outcome"].summary["tasks"]
    lights = {r["任务编号"]: r["核定灯色"] or r["灯色"] for r in _sheet(made["ledger"], "亮灯记录") if r["周期"] == "2022Q2"}
    feedback: dict[str, list[dict]] = {}
    for f in _sheet(made["ledger"], "反馈记录"):
        if f["周期"] == "2022Q2":
            feedback.setdefault(f["任务编号"], []).append(f)
    seen = {}
    for task, row in zip(tasks, table.rows):
        number, content, units, status, progress = row
        assert _plain(content) == _plain(task["工作任务"])
        assert units == task["牵头单位"]
        done = feedback.get(task["任务编号"]) and all(f["完成情况"] == "已办结" for f in feedback[task["任务编号"]])
        expected = ("已办结" if task["状态"] == "已办结" else "—" if not lights.get(task["任务编号"])
                    else "进度滞后" if lights[task["任务编号"]] != "绿灯" else "已完成" if done else "按序时推进")
        assert status == expected, task["任务编号"]
        seen[task["任务编号"]] = (status, progress)
        if task["任务编号"] in INJECTED:
            assert progress == INJECTED[task["任务编号"]][1]
        elif "、" not in task["牵头单位"] and feedback.get(task["任务编号"]):  # one lead unit: its own words, cut at a sentence end
            own = _plain(feedback[task["任务编号"]][-1]["进展情况"])
            assert _plain(progress) and own.startswith(_plain(progress)) and _plain(progress)[-1] in "。！？；"
    assert seen[made["override"]][0] == "按序时推进"  # 核定灯色 over 灯色
    assert seen[made["finished"]][0] == "已完成" and seen[made["closed"]][0] == "已办结"
    assert len({row[0] for row in table.rows}) == len(table.rows)  # 序号 once each


def test_nothing_internal_and_no_contact_anywhere_in_the_page(made):
    page = Path(made["outcome"].summary["html"]).read_text(encoding="utf-8")
    plain = _plain(html.unescape(page))
    for task in _sheet(made["ledger"], "任务台账"):  # the district's own published task text is quoted whole
        plain = plain.replace(_plain(task["工作任务"]), "")  # (“高标准整改中央生态环境保护督察交办案件” is a task)
    for word in (*STAFF, *FORBIDDEN_WORDS):
        assert _plain(word) not in plain, word
    assert not re.search(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\w@\w|\(at\)|3300001|8888666", plain)
    units = _sheet(made["ledger"], "单位名录")
    assert not any(u["联系电话"] and _plain(u["联系电话"]) in plain for u in units)
    assert not any(u["邮箱"] and _plain(u["邮箱"]).split("@")[0] in plain for u in units)
    returned = [s["问题"] for s in _sheet(made["ledger"], "报送情况") if s["周期"] == "2022Q2" and s["问题"]]
    assert returned and not any(_plain(p)[:12] in plain for p in returned)  # why a return was refused


def test_the_page_stands_alone(made):
    page = Path(made["outcome"].summary["html"]).read_text(encoding="utf-8")
    table = Table()
    table.feed(page)
    tags = {tag for tag, _ in table.tags}
    assert ("html", {"lang": "zh-CN"}) in table.tags and ("meta", {"charset": "utf-8"}) in table.tags
    assert {"table", "caption", "thead", "tbody", "th"} <= tags and "script" not in tags
    assert all(attrs.get("scope") == "col" for tag, attrs in table.tags if tag == "th")
    assert not [(tag, attrs) for tag, attrs in table.tags if {"src", "href", "srcset", "action"} & set(attrs)]
    assert not re.search(r"https?:|url\(|@import|@font-face|//[a-z]", page, re.I)
    assert "@media print" in page and "size: A4" in page


def test_chromium_opens_the_page_without_a_request_or_an_error(made):
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium not installed (scripts/test.sh installs it)")
    url = Path(made["outcome"].summary["html"]).resolve().as_uri()
    requests, problems = [], []
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(url, wait_until="networkidle")
            rows = page.locator("tbody tr").count()
            title = page.title()
            page.screenshot(path=str(ARTIFACTS / "public-2022Q2.png"), full_page=True)
        finally:
            browser.close()
    assert requests == [url]
    assert problems == []
    assert rows == made["outcome"].summary["tasks"] and title == made["outcome"].summary["title"]


def test_no_browser_still_writes_the_page_and_says_what_to_install(made, tmp_path, monkeypatch):
    monkeypatch.setenv("XL_DUBAN_PDF_PRINTER", "none")
    outcome = publish_public(made["ledger"], "2022-06", tmp_path, now=LATER)
    assert outcome.exit_code == 0
    assert outcome.summary["pdf"] is None and Path(outcome.summary["html"]).is_file()
    assert Path(outcome.summary["html"]).name == "2022年6月民生实事落实情况（公开版）.html"
    assert [f.code for f in outcome.findings] == ["pdf-printer-missing"] and "chromium" in outcome.findings[0].hint
    assert not list(tmp_path.glob("*.pdf"))


def test_the_cli_and_the_settings_wording(made, tmp_path, config_dir):
    store = LedgerStore(made["ledger"])
    led, _ = store.load()
    led.set_setting("公开用语进度滞后", "正在加快推进")
    led.set_setting("机关名称", "源城区人民政府办公室")
    store.save(led, now=LATER)
    env_before = os.environ.get("XL_DUBAN_PDF_PRINTER")
    os.environ["XL_DUBAN_PDF_PRINTER"] = "none"
    try:
        proc = run_cli("publish", str(made["ledger"]), "-p", "2022Q2", "-o", str(tmp_path), "--json")
    finally:
        if env_before is None:
            del os.environ["XL_DUBAN_PDF_PRINTER"]
        else:
            os.environ["XL_DUBAN_PDF_PRINTER"] = env_before
    result = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stdout
    lights = {r["任务编号"]: r["核定灯色"] or r["灯色"] for r in _sheet(made["ledger"], "亮灯记录") if r["周期"] == "2022Q2"}
    behind = [t for t in _sheet(made["ledger"], "任务台账") if t["类别"] == "重点任务" and t["状态"] not in ("已办结", "已取消")
              and lights.get(t["任务编号"], "绿灯") != "绿灯"]
    assert result["counts"]["正在加快推进"] == len(behind)
    page = Path(result["html"]).read_text(encoding="utf-8")
    assert "<title>2022年第二季度源城区《政府工作报告》重点任务落实情况</title>" in page
    bad = run_cli("publish", str(made["ledger"]), "-p", "2022Q4", "-o", str(tmp_path / "x"))
    assert bad.returncode == 1 and "尚未亮灯" in bad.stdout and "Traceback" not in bad.stdout + bad.stderr
    assert not (tmp_path / "x").exists()


def test_the_demo_writes_the_public_page_of_2022q2(demo_year):
    folder = demo_year / "公开版"
    assert sorted(p.name for p in folder.iterdir()) == ["2022年第二季度重点任务落实情况（公开版）.html",
                                                         "2022年第二季度重点任务落实情况（公开版）.pdf"]
    table = Table()
    table.feed((folder / "2022年第二季度重点任务落实情况（公开版）.html").read_text(encoding="utf-8"))
    tasks = [t for t in _sheet(demo_year / "2022年督查台账.xlsx", "任务台账") if t["类别"] == "重点任务"]
    assert len(table.rows) == len(tasks)
