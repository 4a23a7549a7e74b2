#!/usr/bin/env bash
# Set up a fresh machine for the whole test suite and run it.
# Installs the system packages the real-client tests need (headless LibreOffice with
# Python-UNO, CJK fonts, poppler for PDF→PNG, dovecot as a real IMAP server) when they
# are missing, then the venv; chromium for the public page's browser test (driven by playwright,
# which downloads no browser of its own).
set -euo pipefail
cd "$(dirname "$0")/.."
APT_PACKAGES="libreoffice-calc-nogui libreoffice-writer-nogui libreoffice-script-provider-python python3-uno fonts-noto-cjk poppler-utils dovecot-imapd chromium"
missing=""
for pkg in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "安装系统软件包:$missing"
  # Let no package start its service while installing (policy-rc.d exit 101 = "forbidden"): under
  # systemd or a real runlevel dovecot-imapd would start a system IMAP server on port 143, and if
  # that start fails (port taken, ...) its postinst fails the whole install. The tests start their
  # own servers on free ports.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    trap '$SUDO rm -f "$policy"' EXIT
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
  else
    policy=""
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
  if [ -n "$policy" ]; then
    $SUDO rm -f "$policy"
    trap - EXIT
  fi
fi
bash scripts/setup.sh --test
exec .venv/bin/python -m pytest "$@"
