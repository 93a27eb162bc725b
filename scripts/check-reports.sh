#!/usr/bin/env bash
# Checks HTML reports in headless Chromium with the network cut (make report-check):
#   scripts/check-reports.sh REPORT.html...
#   scripts/check-reports.sh --grade PAGE.html...   # grader's pages: nothing of the submission runs (check-grade-page.mjs)
# For each reports/.../NAME.html: math rendered by the embedded KaTeX and no raw
# LaTeX left in the visible text, table of contents, run stamp, folded code,
# images, nothing fetched (notebooks/e2e/check-report.mjs). Screenshots:
# artifacts/report-NAME.png (top of the page) and artifacts/report-NAME-math.png
# (the first displayed formula).
# Environment: CHROMIUM (default /usr/bin/chromium, installed with apt-get when
# missing and running as root), ARTIFACTS (default artifacts/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
ARTIFACTS="${ARTIFACTS:-$ROOT/artifacts}"

die() { echo "check-reports: error: $*" >&2; exit 1; }
checker=check-report.mjs prefix=report
if [[ "${1:-}" == --grade ]]; then
    checker=check-grade-page.mjs prefix=grade
    shift
fi
(($# > 0)) || die "usage: scripts/check-reports.sh [--grade] REPORT.html..."
if [[ ! -x "$CHROMIUM" && "$CHROMIUM" == /usr/bin/chromium && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "check-reports: installing Debian's chromium (apt-get)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
fi
[[ -x "$CHROMIUM" ]] || die "no Chromium at $CHROMIUM (Debian: apt-get install -y chromium; or set CHROMIUM)"
"$ROOT/scripts/install-node-tools.sh"

jobs=()
for html in "$@"; do
    [[ -f "$html" ]] || die "no report $html"
    jobs+=("$html" "$ARTIFACTS/$prefix-$(basename "$html" .html).png")
done
mkdir -p "$ARTIFACTS"
exec node "$ROOT/notebooks/e2e/$checker" "${jobs[@]}"
