#!/usr/bin/env bash
# The web client's tests: its unit tests against the shared vectors (node's test runner), then the page in a
# real browser (Debian's chromium, driven by playwright-core at the version the lock file pins) against the
# debug build's server and bots. Installs what is missing: node, chromium, the npm package.
set -euo pipefail
cd "$(dirname "$0")"
missing=()
command -v node >/dev/null || missing+=(nodejs npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
(cd ../../web && node --test test/)
npm ci --no-audit --no-fund --silent
node --test --test-concurrency=1 play.test.mjs
