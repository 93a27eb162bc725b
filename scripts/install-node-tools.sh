#!/usr/bin/env bash
# Installs the Node.js packages of the notebook tooling, pinned by
# notebooks/e2e/package-lock.json, into notebooks/e2e/node_modules (npm ci):
#   playwright-core  drives Debian's Chromium (make e2e, make report-check)
#   katex            the math renderer embedded in the HTML reports (make report)
# Idempotent: does nothing while the lock file is unchanged. Needs node (20 or
# newer) and npm; the npm registry is the only thing it reaches.
set -euo pipefail
E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../notebooks/e2e" && pwd)"

command -v node >/dev/null || { echo "install-node-tools: error: node is not on PATH (Debian: apt-get install -y nodejs npm)" >&2; exit 1; }
lock_hash="$(sha256sum "$E2E_DIR/package-lock.json" | cut -d' ' -f1)"
if [[ "$(cat "$E2E_DIR/node_modules/.e2e-stamp" 2>/dev/null)" != "$lock_hash" ]]; then
    echo "install-node-tools: installing playwright-core and katex (npm ci in notebooks/e2e)" >&2
    (cd "$E2E_DIR" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_hash" >"$E2E_DIR/node_modules/.e2e-stamp"
fi
