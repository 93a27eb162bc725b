#!/usr/bin/env bash
# Times what GoNB does for every notebook cell, outside Jupyter: `go get`
# (GoNB's automatic dependency fetch) and `go build` of a cell program that
# imports the notebooks' packages, with each set of build flags, in a module
# set up like the notebooks' kernel module (scripts/gonb-setup.sh).
#
#   scripts/cell-build-bench.sh [ROUNDS]      (default 5 rounds)
#
# Each round runs every variant once, in turn, after a one-line change to the
# program (as a student's edit would), so the link always runs; it prints
# the median and the range of each variant. docs/performance.md keeps the
# figures with the machine and the date.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-5}"
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"
[[ "$GOTOOLCHAIN" == local ]] && export GOTOOLCHAIN=go1.27.3
export GOEXPERIMENT="${GOEXPERIMENT:-simd}"

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
cd "$dir"
go mod init gonb_cell_bench >/dev/null 2>&1
"$root/scripts/gonb-setup.sh" >/dev/null
cat >main.go <<'EOF'
package main

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/janpfeifer/gonb/gonbui"

	"github.com/mnistfc/mnistfc/mnistfc"
	"github.com/mnistfc/mnistfc/notebook"
	"github.com/mnistfc/mnistfc/plotting"
)

var (
	_ *model.Scope
	_ = gonbui.Sync
	_ = plotting.PNG
)

func sigmoid(x *graph.Node) *graph.Node { return graph.Sigmoid(x) }

func main() {
	fmt.Printf("%+v %d\n", mnistfc.DefaultConfig(), notebook.Epochs(35))
}
EOF
# A first build fills the build cache (not timed).
go build -o cell . 2>/dev/null || go build -tags noxla -o cell .
go build -tags noxla -o cell .

variants=(
	"go get (GoNB's automatic dependency fetch)|go get"
	"build -tags noxla|go build -tags noxla -o cell ."
	"build -tags noxla -ldflags=-s|go build -tags noxla -ldflags=-s -o cell ."
	"build with XLA (cgo, external linker)|go build -o cell ."
	"build with XLA, -ldflags=-w|go build -ldflags=-w -o cell ."
	"build with XLA, -ldflags=-s|go build -ldflags=-s -o cell ."
	"build with XLA, gold linker|go build -ldflags=-extldflags=-fuse-ld=gold -o cell ."
	"build with XLA, -ldflags=-linkmode=internal|go build -ldflags=-linkmode=internal -o cell ."
	"build with XLA, -ldflags='-s -linkmode=internal'|go build -ldflags='-s -linkmode=internal' -o cell ."
)
declare -A times
for ((r = 1; r <= rounds; r++)); do
	for v in "${variants[@]}"; do
		name="${v%%|*}" cmd="${v#*|}"
		echo "// round $r $RANDOM" >>main.go
		start=$(date +%s%N)
		if ! eval "$cmd" >/dev/null 2>&1; then
			times[$name]+=" fail"
			continue
		fi
		times[$name]+=" $(( ($(date +%s%N) - start) / 1000000 ))"
	done
done
printf '%-52s %8s %s\n' "variant ($rounds rounds)" "median" "range (ms)"
for v in "${variants[@]}"; do
	name="${v%%|*}"
	python3 - "$name" ${times[$name]} <<'EOF'
import statistics, sys
name, vals = sys.argv[1], sys.argv[2:]
ok = [int(v) for v in vals if v != "fail"]
if not ok:
    print("%-52s %8s" % (name, "fail"))
else:
    print("%-52s %6d ms %d-%d%s" % (name, statistics.median(ok), min(ok), max(ok), " (%d failed)" % (len(vals) - len(ok)) if len(ok) < len(vals) else ""))
EOF
done
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); $(go env GOVERSION)"
