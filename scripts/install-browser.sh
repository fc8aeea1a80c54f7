#!/usr/bin/env bash
# The real browser the console's end-to-end tests drive: Debian's Chromium and its
# ChromeDriver (Playwright drives /usr/bin/chromium; its own browser download is not used).
# Installed only where missing; needs root, or sudo.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "error: the console's browser tests need Chromium at /usr/bin/chromium (install the chromium package of your system)" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  SUDO="sudo"
fi
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
