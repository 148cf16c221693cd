#!/usr/bin/env bash
# What the dashboard's browser test (e2e DashboardIT) needs: Debian's chromium and the npm package playwright-core
# (pinned in e2e/src/test/node/package-lock.json) to drive it. Installs what is missing; prints what it did.
#   chromium: `apt-get install chromium` when we are root (as CI is); otherwise says how, and fails.
#   playwright-core: `npm ci` in e2e/src/test/node (node_modules/ there is ignored by git).
# Exit status 0 when both are there afterwards. CHROMIUM overrides the browser's path (default /usr/bin/chromium).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_DIR="$ROOT/e2e/src/test/node"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: $CHROMIUM is missing: apt-get install chromium" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq chromium >&2
  else
    echo "install-browser: $CHROMIUM is missing and this is not root with apt-get: install Debian's chromium" >&2
    echo "install-browser: (sudo apt-get install chromium), or set CHROMIUM to a Chromium binary" >&2
    exit 1
  fi
  [ -x "$CHROMIUM" ] || { echo "install-browser: apt-get installed chromium, yet $CHROMIUM is not there" >&2; exit 1; }
fi

if [ ! -f "$NODE_DIR/node_modules/playwright-core/package.json" ]; then
  command -v npm >/dev/null 2>&1 || { echo "install-browser: npm (Node 20+) is needed to install playwright-core" >&2; exit 1; }
  echo "install-browser: npm ci in $NODE_DIR (playwright-core)" >&2
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund >&2)
fi
echo "install-browser: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM"), playwright-core $(node -p "require('$NODE_DIR/node_modules/playwright-core/package.json').version")" >&2
