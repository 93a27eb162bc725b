#!/usr/bin/env bash
# Points a GoNB kernel's Go module at this repository, so that notebook cells
# compile against its packages and the dependency versions of its go.mod.
# The notebooks' setup cell runs it: !*"$GONB_DIR/../scripts/gonb-setup.sh"
# (GoNB runs "!*" lines in the kernel's module folder; GONB_DIR is the
# notebook's folder.)
#
# It also copies the repository's requirements and go.sum into that module,
# so that every package they provide builds with no `go get`: the setup cell
# turns GoNB's automatic `go get` off (%noautoget), which ran before every
# cell's build (scripts/cell-build-bench.sh; docs/performance.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ -f "$root/go.mod" ]] || { echo "gonb-setup: error: no go.mod in $root" >&2; exit 1; }
module="$(cd "$root" && go list -m)"
# -require=path@version for every requirement of the repository's go.mod
# (block and single-line forms).
requires="$(awk '
	/^require[ \t]*\($/ { block = 1; next }
	block && /^\)/ { block = 0; next }
	block && NF >= 2 && $1 !~ /^\/\// { print "-require=" $1 "@" $2 }
	/^require[ \t]+[^( \t]/ { print "-require=" $2 "@" $3 }
' "$root/go.mod")"
# shellcheck disable=SC2086 # one argument per line of $requires
go mod edit -replace="$module=$root" -require="$module@v0.0.0-00010101000000-000000000000" $requires
touch go.sum
sort -u -o go.sum go.sum "$root/go.sum"
echo "$module => $root ($(go env GOVERSION), GOEXPERIMENT=${GOEXPERIMENT:-})"
