#!/usr/bin/env bash
# Points a GoNB kernel's Go module at this repository, so that notebook cells
# compile against its packages and the dependency versions of its go.mod.
# The notebooks' setup cell runs it: !*"$GONB_DIR/../scripts/gonb-setup.sh"
# (GoNB runs "!*" lines in the kernel's module folder; GONB_DIR is the
# notebook's folder.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ -f "$root/go.mod" ]] || { echo "gonb-setup: error: no go.mod in $root" >&2; exit 1; }
module="$(cd "$root" && go list -m)"
gonb="$(sed -n 's/^[[:space:]]*github.com\/janpfeifer\/gonb \(v[^ ]*\).*/\1/p' "$root/go.mod" | head -1)"
go mod edit -replace="$module=$root" -require="$module@v0.0.0-00010101000000-000000000000" \
  ${gonb:+-require=github.com/janpfeifer/gonb@$gonb}
echo "$module => $root ($(go env GOVERSION), GOEXPERIMENT=${GOEXPERIMENT:-})"
