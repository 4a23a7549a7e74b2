"""Which fonts this machine has: the CJK font the bulletin's chart is drawn with, and the four
fonts GB/T 9704 names for official documents.

One lookup for the chart (:mod:`.bulletin_docs`) and for ``duban doctor``, so what the doctor
reports is what the bulletin will use.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

# the chart's CJK font, first found wins (Windows, then Linux families)
CJK_FONTS = ("Microsoft YaHei", "SimHei", "SimSun", "Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "AR PL UMing CN")

# GB/T 9704: 标题 方正小标宋简体, 正文 仿宋_GB2312, 一级标题 黑体, 二级标题 楷体_GB2312
TITLE_FONT, BODY_FONT, HEADING_FONT, KAI_FONT = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"
# the family names a font file may carry for each (Chinese and English names of the same face)
OFFICIAL_FONTS: dict[str, tuple[str, ...]] = {
    BODY_FONT: (BODY_FONT, "FangSong_GB2312", "仿宋", "FangSong"),
    TITLE_FONT: (TITLE_FONT, "FZXiaoBiaoSong-B05S", "FZXiaoBiaoSong-B05", "方正小标宋_GBK"),
    HEADING_FONT: (HEADING_FONT, "SimHei"),
    KAI_FONT: (KAI_FONT, "KaiTi_GB2312", "楷体", "KaiTi"),
}


@dataclass(frozen=True)
class FontFile:
    """A font family and the file it is drawn from."""

    name: str
    path: Path


def installed_fonts() -> list[FontFile]:
    """The fonts matplotlib knows of (its cached scan of the system's font folders)."""
    from matplotlib import font_manager

    return [FontFile(f.name, Path(f.fname)) for f in font_manager.fontManager.ttflist]


CJK_FILES = ("NotoSansCJK", "NotoSerifCJK", "SourceHanSans", "SourceHanSerif", "msyh", "simhei", "simsun", "simfang",
             "wqy-zenhei", "wqy-microhei", "uming", "ukai", "DroidSansFallback")
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts", "C:/Windows/Fonts",
             "~/AppData/Local/Microsoft/Windows/Fonts", "/Library/Fonts", "/System/Library/Fonts")


@functools.lru_cache(maxsize=1)
def cjk_font_file() -> str | None:
    """A CJK font file on this machine, found without trusting matplotlib's font cache.

    The cache is built once, the first time matplotlib runs; fonts installed after that (a new
    office PC, a CI image) are not in it, and re-installing fonts does not rebuild it. So the
    installed files are looked up directly: the cache first, then fontconfig's list, then the
    usual font folders of Linux, Windows and macOS."""
    import glob
    import os
    import shutil
    import subprocess

    from matplotlib import font_manager

    cached: dict[str, str] = {}  # a family's regular face before its bold or light ones
    for f in sorted(font_manager.fontManager.ttflist, key=lambda f: (f.weight not in ("normal", "regular", 400), f.fname)):
        cached.setdefault(f.name, f.fname)
    for name in CJK_FONTS:
        if name in cached and os.path.exists(cached[name]):
            return cached[name]
    listed: list[str] = []  # fontconfig's files that cover Chinese
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=20).stdout
            listed = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    found: list[str] = []
    for folder in FONT_DIRS:
        root = os.path.expanduser(folder)
        if os.path.isdir(root):
            found += sorted(glob.glob(os.path.join(root, "**", "*.[to]t[fc]"), recursive=True))
    plain_first = lambda path: ("bold" in path.lower() or "light" in path.lower() or "black" in path.lower(), path)  # noqa: E731
    known = [path for key in CJK_FILES for path in sorted([*listed, *found], key=plain_first)
             if key.lower() in os.path.basename(path).lower()]
    return next(iter(known + [p for p in listed if p.lower().endswith((".ttc", ".ttf", ".otf"))]), None)


def find_official_font(name: str, fonts: Iterable[FontFile] | None = None) -> FontFile | None:
    """The installed file of an official font (by any of its family names), or None."""
    names = OFFICIAL_FONTS[name]
    return next((f for f in (installed_fonts() if fonts is None else fonts) if f.name in names and f.path.is_file()),
                None)


def substitute(name: str) -> str | None:
    """The face the system draws ``name`` with when it is missing (fontconfig's ``fc-match``,
    what LibreOffice uses on Linux); None where there is no fontconfig (Windows: Word and WPS
    choose their own substitute)."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        # for Chinese text: without the language fontconfig names a Latin face that has no 汉字
        out = subprocess.run([fc_match, "-f", "%{family}", f"{name}:lang=zh-cn"], capture_output=True, text=True,
                             timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.split(",")[0].strip() or None
