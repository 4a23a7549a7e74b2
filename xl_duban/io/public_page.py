"""The public version (公开版) as one self-contained HTML page, and its PDF.

The page goes on the district's government website (or is printed for a notice board), so
it stands alone: inline CSS, no script, nothing loaded from elsewhere (no web font, image or
link — a government site's pages must not call out to other servers, and the same file must
open on an office PC with no network). Fonts are the CJK fonts installed on the reader's
machine. Every text from the ledger is escaped: a unit's words are data, never markup.
"""

from __future__ import annotations

import html
from pathlib import Path

from ..domain.public import PublicPage
from .fonts import CJK_FONTS

FONT_STACK = ", ".join([*(f'"{name}"' for name in ("Microsoft YaHei", "PingFang SC", *CJK_FONTS)), "sans-serif"])

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f2f2f2; color: #222; font-family: %(fonts)s; font-size: 16px; line-height: 1.75; }
header.site { background: #b5121b; color: #fff; padding: 14px 0; }
header.site p { max-width: 1100px; margin: 0 auto; padding: 0 24px; font-size: 22px; font-weight: bold; letter-spacing: 2px; }
main { max-width: 1100px; margin: 0 auto; background: #fff; padding: 32px 48px 40px; }
h1 { font-size: 24px; text-align: center; color: #b5121b; margin: 8px 0 12px; line-height: 1.5; }
.meta { text-align: center; color: #666; font-size: 14px; border-bottom: 1px solid #ddd; padding-bottom: 12px; margin: 0 0 20px; }
.meta span { margin: 0 12px; }
main > p { text-indent: 2em; margin: 0 0 12px; }
table { width: 100%%; table-layout: fixed; border-collapse: collapse; margin: 16px 0 20px; font-size: 15px; }
caption { font-weight: bold; font-size: 17px; padding-bottom: 8px; }
th, td { border: 1px solid #999; padding: 6px 8px; vertical-align: top; text-align: left; }
thead th { background: #f6e7e7; text-align: center; }
col.n { width: 3.5em; } col.t { width: 34%%; } col.u { width: 17%%; } col.s { width: 6.5em; }
td { overflow-wrap: anywhere; }
td.n, td.s { text-align: center; }
td.s.behind { color: #b5121b; }
td p { margin: 0; text-indent: 0; }
td p + p { margin-top: 4px; }
.sign { text-align: right; margin-top: 28px; text-indent: 0; }
footer { max-width: 1100px; margin: 0 auto; padding: 12px 24px 24px; color: #777; font-size: 13px; text-align: center; }
@page { size: A4; margin: 18mm 15mm; }
@media print {
  body { background: #fff; font-size: 11pt; }
  header.site { background: none; color: #b5121b; border-bottom: 2px solid #b5121b; padding: 0 0 4mm; }
  header.site p { padding: 0; max-width: none; }
  main { max-width: none; padding: 0; }
  table { font-size: 10pt; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  footer { padding: 4mm 0 0; }
}
""" % {"fonts": FONT_STACK}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def page_html(page: PublicPage) -> str:
    """The page's HTML text: ``<html lang="zh-CN">``, a table with caption, head and body."""
    issued = f"{page.issued_on.year}年{page.issued_on.month}月{page.issued_on.day}日"
    rows = []
    for row in page.rows:
        status = row.status or "—"
        css = "s behind" if row.status == page.words.behind else "s"
        progress = "".join(f"<p>{_e(text)}</p>" for text in row.progress)
        rows.append(f'<tr><td class="n">{_e(row.number)}</td><td>{_e(row.task)}</td><td>{_e(row.units)}</td>'
                    f'<td class="{css}">{_e(status)}</td><td>{progress}</td></tr>')
    what = "重点任务" if page.kind.value == "重点任务" else "民生实事"
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(page.title)}</title>
<style>{CSS}</style>
</head>
<body>
<header class="site"><p>{_e(page.publisher)}</p></header>
<main>
<h1>{_e(page.title)}</h1>
<p class="meta"><span>发布机构：{_e(page.publisher)}</span><span>发布日期：{_e(issued)}</span></p>
<p>按照政务公开有关要求，现将{_e(page.title)}公开如下。{_e(page.summary_sentence())}</p>
<table border="1">
<caption>{_e(page.title)}一览</caption>
<colgroup><col class="n"><col class="t"><col class="u"><col class="s"><col class="p"></colgroup>
<thead><tr><th scope="col">序号</th><th scope="col">工作任务</th><th scope="col">牵头单位</th><th scope="col">推进状态</th><th scope="col">进展情况</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
<p>表中“推进状态”按本期督查核定结果填写，“进展情况”摘自各牵头单位报送的{_e(what)}落实情况。</p>
<p class="sign">{_e(page.publisher)}<br>{_e(issued)}</p>
</main>
<footer>{_e(page.publisher)}　{_e(page.title)}</footer>
</body>
</html>
"""


def write_public_html(path: Path, page: PublicPage) -> Path:
    """Write the page (UTF-8; line ends as written, on every system)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page_html(page), encoding="utf-8", newline="\n")
    return path
