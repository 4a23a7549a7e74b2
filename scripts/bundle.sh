#!/usr/bin/env bash
# Build the offline installation bundle: a folder with every wheel xl_duban needs at run time
# (pyproject [project] dependencies and theirs, plus the xl_duban wheel built from this tree),
# install.bat / install.sh that install from it with --no-index, and 说明.txt.
#
#   bash scripts/bundle.sh [OUT_DIR]                Windows win_amd64 + Linux x86_64, CPython 3.11 and 3.12
#   bash scripts/bundle.sh --linux-only [OUT_DIR]   Linux x86_64 for the running interpreter's version only
#   options: --glibc 2.28   oldest glibc the Linux wheels must run on (2.17 for CentOS 7; older
#                           wheels, e.g. pandas 2.x instead of 3.x, are picked then)
#   OUT_DIR defaults to dist/xl_duban-offline. PYTHON selects the interpreter that runs pip
#   (default python3); it needs the internet (PyPI or the mirror in its pip configuration).
#
# pip download --platform evaluates environment markers for the machine it runs on, not for the
# target, so each target's set is walked again with the target's markers (scripts/bundle/wheelset.py)
# and whatever is missing (pywin32, colorama on Windows ...) is downloaded until the set is complete;
# then pip itself resolves xl_duban from the folder alone for each target.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEMPLATES="$REPO/scripts/bundle"
PY=${PYTHON:-python3}
GLIBC=2.28
OUT=""
LINUX_ONLY=0

usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "错误：$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --linux-only) LINUX_ONLY=1 ;;
    --glibc) [ $# -ge 2 ] || die "--glibc 后面须写版本，例如 2.28"; GLIBC=$2; shift ;;
    --glibc=*) GLIBC=${1#*=} ;;
    -h|--help) usage; exit 0 ;;
    -*) usage >&2; exit 2 ;;
    *) [ -z "$OUT" ] || die "只能指定一个输出文件夹"; OUT=$1 ;;
  esac
  shift
done
OUT=${OUT:-$REPO/dist/xl_duban-offline}

"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)' 2>/dev/null \
  || die "“$PY”无法运行或版本过旧（生成安装包需要 Python 3.8 以上，可用环境变量 PYTHON 指定）"
"$PY" -c 'import sys, pip; sys.exit(0 if tuple(map(int, pip.__version__.split(".")[:2])) >= (22, 2) else 1)' 2>/dev/null \
  || die "“$PY”没有 pip 或 pip 过旧（需要 22.2 以上）：请先执行 $PY -m pip install --upgrade pip"

if [ "$LINUX_ONLY" = 1 ]; then
  WINDOWS_PYTHONS=""
  LINUX_PYTHONS=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
else
  WINDOWS_PYTHONS="3.12 3.11"
  LINUX_PYTHONS="3.12 3.11"
fi
LINUX_PLATFORMS=$("$PY" "$TEMPLATES/wheelset.py" platforms --glibc "$GLIBC") || die "glibc 版本“$GLIBC”无效"

# The output folder: a fresh one, or an earlier bundle whose wheels are replaced (never anything else).
if [ -e "$OUT" ]; then
  [ -d "$OUT" ] || die "“$OUT”不是文件夹"
  for entry in "$OUT"/* "$OUT"/.[!.]*; do
    [ -e "$entry" ] || continue
    case "$(basename "$entry")" in
      wheels|install.bat|install.sh|说明.txt|venv) ;;
      *) die "“$OUT”已存在且不是离线安装包文件夹（有“$(basename "$entry")”），为防止误删未使用。请指定新的或空的文件夹。" ;;
    esac
  done
  rm -rf "$OUT/wheels"
fi
mkdir -p "$OUT/wheels"
OUT=$(cd "$OUT" && pwd)
W="$OUT/wheels"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# -- the xl_duban wheel, built from a copy of the tree (files git tracks or would track), so the
#    build leaves nothing behind in the working tree
echo "构建 xl_duban wheel ……"
"$PY" - "$REPO" "$WORK/src" <<'PYCOPY'
import os, shutil, subprocess, sys
repo, dst = sys.argv[1:3]
try:
    out = subprocess.run(["git", "-C", repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         capture_output=True, check=True).stdout
    files = [os.fsdecode(f) for f in out.split(b"\0") if f]
except (OSError, subprocess.CalledProcessError):
    files = []
if files:
    for rel in files:
        src = os.path.join(repo, rel)
        if os.path.isfile(src):  # tracked files deleted in the tree are skipped
            os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
            shutil.copy2(src, os.path.join(dst, rel))
else:
    shutil.copytree(repo, dst, ignore=shutil.ignore_patterns(
        ".git", ".venv", "dist", "build", "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache", ".hypothesis"))
PYCOPY
"$PY" -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir "$WORK/self" "$WORK/src" >"$WORK/pip.log" 2>&1 \
  || { cat "$WORK/pip.log" >&2; die "构建 xl_duban wheel 失败"; }
SELF=$(ls "$WORK/self"/xl_duban-*.whl)
mv "$SELF" "$W/"
SELF="$W/$(basename "$SELF")"
VERSION=$(basename "$SELF" | cut -d- -f2)

# pip's target options for one target: win_amd64 | linux_x86_64, and a Python version like 3.12
target_flags() {
  local p
  printf '%s\n' --only-binary=:all: --implementation cp --python-version "$2" --abi "cp${2/./}"
  if [ "$1" = win_amd64 ]; then
    printf '%s\n' --platform win_amd64
  else
    for p in $LINUX_PLATFORMS; do printf '%s\n' --platform "$p"; done
  fi
}

# Build a wheel from the sdist of a requirement that has no wheel; pure Python only.
build_pure() {
  local req=$1 f
  rm -rf "$WORK/sdist" && mkdir "$WORK/sdist"
  echo "  “$req”没有可用的 wheel，由源码包构建（仅限纯 Python）……"
  "$PY" -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir "$WORK/sdist" "$req" >>"$WORK/pip.log" 2>&1 \
    || return 1
  for f in "$WORK/sdist"/*.whl; do
    case "$f" in
      *-none-any.whl) mv "$f" "$W/" ;;
      *) echo "“$(basename "$f")”不是纯 Python 的 wheel，不能用于其他平台。" >>"$WORK/pip.log"; return 1 ;;
    esac
  done
}

# pip download REQ... for one target into the folder; requirements without any wheel are built.
download() {
  local target=$1 pyver=$2 req last="" attempt
  shift 2
  local flags
  mapfile -t flags < <(target_flags "$target" "$pyver")
  for attempt in $(seq 1 20); do
    if "$PY" -m pip download --quiet --disable-pip-version-check "${flags[@]}" \
        --find-links "$W" --dest "$W" "$@" >"$WORK/pip.log" 2>&1; then
      return 0
    fi
    # pip names a direct dependency "lunar-python>=1.4 (from xl-duban)": keep the requirement only
    req=$(sed -n 's/^ERROR: No matching distribution found for \(.*\)$/\1/p' "$WORK/pip.log" | head -n 1 \
          | sed 's/ (from [^)]*)$//')
    if [ -z "$req" ] || [ "$req" = "$last" ] || ! build_pure "$req"; then
      cat "$WORK/pip.log" >&2
      die "下载 $target / Python $pyver 的软件包失败"
    fi
    last=$req
  done
  die "下载 $target / Python $pyver 的软件包失败（重试次数过多）"
}

# Download for one target, then add what the target's markers require until the set is complete,
# then have pip resolve xl_duban from the folder alone.
bundle_target() {
  local target=$1 pyver=$2 missing i flags
  echo "下载 $target / CPython $pyver 的软件包 ……"
  download "$target" "$pyver" "$SELF"
  for i in $(seq 1 10); do
    missing=$("$PY" "$TEMPLATES/wheelset.py" missing --dir "$W" --target "$target" --python "$pyver" \
              --glibc "$GLIBC" xl_duban) || die "检查 $target / Python $pyver 的软件包失败"
    [ -z "$missing" ] && break
    echo "  按 $target / Python $pyver 的环境标记补充：$(echo $missing)"
    mapfile -t reqs <<<"$missing"
    download "$target" "$pyver" "${reqs[@]}"
  done
  [ -z "$missing" ] || die "$target / Python $pyver 的软件包仍不完整：$missing"
  mapfile -t flags < <(target_flags "$target" "$pyver")
  env -u PIP_FIND_LINKS -u PIP_CONSTRAINT -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null \
    "$PY" -m pip install --dry-run --quiet --disable-pip-version-check --ignore-installed "${flags[@]}" \
      --no-index --find-links "$W" --target "$WORK/dry-run" xl_duban >"$WORK/pip.log" 2>&1 \
    || { cat "$WORK/pip.log" >&2; die "pip 无法只用安装包为 $target / Python $pyver 安装 xl_duban"; }
}

for v in $WINDOWS_PYTHONS; do bundle_target win_amd64 "$v"; done
for v in $LINUX_PYTHONS; do bundle_target linux_x86_64 "$v"; done

# -- installers and 说明.txt: install.bat CRLF (cmd needs it), 说明.txt with BOM + CRLF (Notepad)
"$PY" - "$TEMPLATES" "$OUT" "$VERSION" "$WINDOWS_PYTHONS" "$LINUX_PYTHONS" "$GLIBC" <<'PYRENDER'
import os, re, sys
from pathlib import Path
templates, out, version, win, linux, glibc = sys.argv[1:]
templates, out = Path(templates), Path(out)
def shown(versions):
    return "、".join(sorted(versions.split(), key=lambda v: tuple(map(int, v.split(".")))))
examples = {"2.17": "（CentOS 7 及以后的发行版）",
            "2.28": "（如麒麟 V10、统信 UOS 20、CentOS/RHEL 8 及以后）"}.get(glibc, "")
common = {"VERSION": version, "COUNT": str(len(list((out / "wheels").glob("*.whl")))),
          "WINDOWS_PYTHONS": win, "LINUX_PYTHONS": linux}
readme = dict(common, WINDOWS_PYTHONS=shown(win), LINUX_PYTHONS=shown(linux),
              WINDOWS_SUPPORT=f"64 位 Python {shown(win)}" if win else "不含（本安装包只含 Linux 软件包）",
              LINUX_SUPPORT=f"x86_64，glibc {glibc} 及以上{examples}，Python {shown(linux)}")
for name, values, newline, bom in (("install.bat", common, "\r\n", ""), ("install.sh", common, "\n", ""),
                                   ("说明.txt", readme, "\r\n", "\ufeff")):
    text = (templates / name).read_text(encoding="utf-8")
    text = re.sub(r"@([A-Z_]+)@", lambda m: values[m.group(1)], text)
    text = bom + text.replace("\r\n", "\n").replace("\n", newline)
    (out / name).write_bytes(text.encode("utf-8"))
os.chmod(out / "install.sh", 0o755)
PYRENDER

COUNT=$(ls "$W" | wc -l)
SIZE=$(du -sh "$OUT" | cut -f1)
echo "完成：$OUT（$COUNT 个 wheel，共 $SIZE）"
if [ -n "$WINDOWS_PYTHONS" ]; then echo "  Windows win_amd64：CPython $WINDOWS_PYTHONS"; fi
echo "  Linux x86_64（glibc ≥ $GLIBC）：CPython $LINUX_PYTHONS"
