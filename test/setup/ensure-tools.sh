#!/usr/bin/env bash
# The system tools the test suite drives: Debian's Chromium (browser tests)
# and socat (the serial-line tests of the pump). Installs them with apt-get
# when missing and allowed (root, or passwordless sudo); otherwise says how.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v socat >/dev/null 2>&1 || missing+=(socat)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing test tools: ${missing[*]} (Debian packages)…"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
  echo "Missing ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-noto-core >/dev/null
