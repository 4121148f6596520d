#!/usr/bin/env bash
# The web console's checks: lint, type-check and unit tests of web/, a fresh build that must equal the committed
# bundle (web/dist, which the server embeds), the server binary, then the end-to-end browser tests (web/e2e,
# Playwright against the real server with the offline demo model, in Debian's Chromium).
#
#   bash scripts/test-web.sh                 # everything
#   SECOPS_BIN=/path/to/secops bash ...      # another server binary for the browser tests
#   E2E_ARGS="tests/chat.spec.ts" bash ...   # only some browser tests (passed to `playwright test`)
#
# Needs root (or a present /usr/bin/chromium) the first time: it installs Debian's chromium package.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/secops-ci-target}"
export SECOPS_BIN="${SECOPS_BIN:-$CARGO_TARGET_DIR/debug/secops}"
export SECOPS_E2E_CHROMIUM="${SECOPS_E2E_CHROMIUM:-/usr/bin/chromium}"
# Playwright never downloads a browser here (there is no network for it); the tests use Debian's Chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

echo "== chromium"
if [ ! -x "$SECOPS_E2E_CHROMIUM" ]; then
  if [ "$SECOPS_E2E_CHROMIUM" != /usr/bin/chromium ]; then
    echo "SECOPS_E2E_CHROMIUM=$SECOPS_E2E_CHROMIUM is not an executable" >&2
    exit 1
  fi
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }; then
    echo "could not install Debian's chromium package (apt-get install -y chromium); the browser tests need it" >&2
    exit 1
  fi
  if [ ! -x /usr/bin/chromium ]; then
    echo "apt-get installed chromium but /usr/bin/chromium is missing" >&2
    exit 1
  fi
fi
"$SECOPS_E2E_CHROMIUM" --version

echo "== web: npm ci"
(cd web && npm ci --no-audit --no-fund)
echo "== web: lint"
(cd web && npm run lint)
echo "== web: typecheck"
(cd web && npm run typecheck)
echo "== web: unit tests"
(cd web && npm test)

echo "== web: build, and the committed bundle must equal it"
(cd web && npm run build)
if ! git diff --exit-code --stat -- web/dist; then
  echo "web/dist differs from a fresh build: run 'npm run build' in web/ and commit web/dist" >&2
  exit 1
fi
untracked="$(git status --porcelain --untracked-files=all -- web/dist)"
if [ -n "$untracked" ]; then
  echo "web/dist has files a fresh build made that are not committed (or changed):" >&2
  echo "$untracked" >&2
  exit 1
fi

echo "== server binary (embeds web/dist)"
cargo build -p secops-server --bin secops --locked

echo "== browser tests (web/e2e)"
cd web/e2e
npm ci --no-audit --no-fund
npx tsc --noEmit -p tsconfig.json
start=$(date +%s)
status=0
# shellcheck disable=SC2086 # E2E_ARGS is a list of arguments
npx playwright test ${E2E_ARGS:-} || status=$?
end=$(date +%s)
echo "browser tests took $((end - start)) s (screenshots in web/e2e/screenshots, report in web/e2e/playwright-report)"
if [ -f test-results/results.json ]; then
  node -e '
    const s = require("./test-results/results.json").stats;
    const failed = s.unexpected + s.flaky;
    console.log(`e2e: ${s.expected} passed, ${failed} failed` + (s.skipped ? `, ${s.skipped} skipped` : ""));
  '
fi
exit "$status"
