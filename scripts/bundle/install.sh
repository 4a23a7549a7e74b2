#!/usr/bin/env bash
# xl_duban 离线安装（Linux）：只从本文件夹的 wheels 安装，不连接任何软件源。
#   bash install.sh                    在本文件夹下新建（或沿用）虚拟环境 venv 并安装
#   bash install.sh 目录               在指定目录新建（或沿用）虚拟环境并安装
#   bash install.sh --python 解释器     不新建虚拟环境，安装到指定的 Python（例如已有虚拟环境里的 bin/python）
# 新建虚拟环境用的 Python：环境变量 PYTHON 指定的，否则先找本安装包适用版本（@LINUX_PYTHONS@）的 python3.X 命令，再找 python3。
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WHEELS="$HERE/wheels"
VERSIONS="@LINUX_PYTHONS@"   # 本安装包含有软件包的 Python 版本

usage() {
  sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}
die() {
  echo "错误：$*" >&2
  exit 1
}
# 0 when the interpreter is one this bundle has wheels for
supported() {
  "$1" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] in '$VERSIONS'.split() else 1)" 2>/dev/null
}

VENV=""
PY=""
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  --python)
    [ $# -ge 2 ] && [ -n "$2" ] || { usage >&2; exit 2; }
    PY=$2 ;;
  "") VENV="$HERE/venv" ;;
  -*) usage >&2; exit 2 ;;
  *) VENV=$1 ;;
esac

[ -d "$WHEELS" ] || die "找不到软件包文件夹“$WHEELS”。请把整个安装包文件夹完整复制过来再运行。"

if [ -n "$VENV" ]; then
  if [ -x "$VENV/bin/python" ]; then
    echo "沿用已有的虚拟环境：$VENV"
  else
    BASE=""
    if [ -n "${PYTHON:-}" ]; then
      BASE=$PYTHON
    else
      for v in $VERSIONS; do
        if command -v "python$v" >/dev/null 2>&1; then BASE="python$v"; break; fi
      done
      if [ -z "$BASE" ] && command -v python3 >/dev/null 2>&1; then BASE=python3; fi
    fi
    [ -n "$BASE" ] || die "找不到 Python。请先安装 Python（本安装包适用的版本：$VERSIONS）。"
    supported "$BASE" || die "“$BASE”的版本不适用：本安装包只含 Python $VERSIONS 的软件包。可用环境变量 PYTHON 指定其他 Python。"
    echo "正在用 $BASE 新建虚拟环境：$VENV"
    "$BASE" -m venv "$VENV" || die "新建虚拟环境失败。Debian/Ubuntu/麒麟/统信等系统请先安装 python3-venv 软件包。"
  fi
  PY="$VENV/bin/python"
fi

supported "$PY" || die "“$PY”无法运行或版本不适用：本安装包只含 Python $VERSIONS 的软件包。"

# 只用本安装包：不读本机的 pip 配置文件，不用其中或环境变量里的其他软件包来源和版本约束。
export PIP_CONFIG_FILE=/dev/null
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_CONSTRAINT PIP_REQUIREMENT PIP_TARGET PIP_PREFIX PIP_ROOT PIP_USER

echo "正在从 $WHEELS 安装 xl_duban（离线，不连接网络）……"
"$PY" -m pip install --disable-pip-version-check --upgrade --no-index --find-links "$WHEELS" xl_duban \
  || die "安装失败，请查看上面的提示。"
# 同一版本号的新安装包也要换上新的 xl_duban（依赖已装好，不再重装）
"$PY" -m pip install --disable-pip-version-check --quiet --force-reinstall --no-deps --no-index --find-links "$WHEELS" xl_duban \
  || die "安装失败，请查看上面的提示。"
"$PY" -c "import xl_duban.cli" || die "xl_duban 已安装但无法导入，请查看上面的提示。"

SCRIPTS=$("$PY" -c "import sysconfig; print(sysconfig.get_path('scripts'))")
echo
echo "安装完成。查看帮助："
echo "    \"$SCRIPTS/duban\" --help"
echo "新建台账，例如："
echo "    \"$SCRIPTS/duban\" init 2024 ~/督查/2024年督查台账.xlsx"
