#!/usr/bin/env bash
# Set up a fresh machine for the whole test suite and run it.
# Installs the system packages the real-client tests need (headless LibreOffice with
# Python-UNO, CJK fonts, poppler for PDF→PNG) when they are missing, then the venv.
set -euo pipefail
cd "$(dirname "$0")/.."
APT_PACKAGES="libreoffice-calc-nogui libreoffice-writer-nogui libreoffice-script-provider-python python3-uno fonts-noto-cjk poppler-utils"
missing=""
for pkg in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "安装系统软件包:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
bash scripts/setup.sh --test
exec .venv/bin/python -m pytest "$@"
