#!/usr/bin/env bash
# Where an epoch's time goes (`make profile`), on each backend this machine
# has:
#   - go: a CPU profile of `mnistfc train -cpuprofile` split by kind of work
#     (scripts/profile_breakdown.py), and the step's matrix products alone
#     (bench/gomatmul);
#   - xla:cpu (after `make xla-cpu`): XLA's kernels do not show in a Go
#     profile, so the split is by experiment: the epochs with and without
#     validation (history.json's per-epoch seconds), and the matrix products
#     alone on xla:cpu (bench/gomatmul); the rest is elementwise work,
#     reductions and the loop's overhead.
# Output in $PROFILE_OUT (default out/profile). Environment: PROFILE_EPOCHS
# (default 4), PROFILE_HIDDEN (default 100).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOEXPERIMENT=simd GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"
OUT=${PROFILE_OUT:-out/profile}
EPOCHS=${PROFILE_EPOCHS:-4}
HIDDEN=${PROFILE_HIDDEN:-100}
mkdir -p "$OUT"
go build -o "$OUT/mnistfc" ./cmd/mnistfc

# products_per_epoch BACKEND: seconds of one epoch's matrix products, from
# bench/gomatmul (51 training steps of five products, 9 validation batches
# of the two forward ones).
products_per_epoch() {
  GOMLX_BACKEND=$1 go test -run '^$' -bench . -benchtime 30x ./bench/gomatmul | tee "$OUT/products-$1.txt" |
    python3 -c '
import re, sys
ns = {}
for line in sys.stdin:
    m = re.match(r"BenchmarkMatmul/(\w+)\S*\s+\d+\s+([\d.]+) ns/op", line)
    if m:
        ns[m.group(1)] = float(m.group(2)) / 1e9
train = sum(ns[k] for k in ("forward1_W1", "dW1_dZ1", "forward2_W2", "dW2_dZ2", "dH_dZ2"))
val = ns["forward1_W1"] + ns["forward2_W2"]
print("%.3f" % (51 * train + 9 * val))'
}

# epoch_seconds DIR FIRST: mean seconds of the epochs from FIRST on in DIR/history.json.
epoch_seconds() {
  python3 -c '
import json, sys
e = json.load(open(sys.argv[1] + "/history.json"))["epochs"][int(sys.argv[2]) - 1:]
print("%.3f" % (sum(x["seconds"] for x in e) / len(e)))' "$1" "$2"
}

echo "== go: CPU profile of $EPOCHS epochs, hidden $HIDDEN"
"$OUT/mnistfc" train -backend go -hidden "$HIDDEN" -epochs "$EPOCHS" -cpuprofile "$OUT/go.pprof" -out "$OUT/go" | grep "per epoch"
S=$(epoch_seconds "$OUT/go" 1)
python3 scripts/profile_breakdown.py "$OUT/mnistfc" "$OUT/go.pprof" --epochs "$EPOCHS" --seconds-per-epoch "$S" | tee "$OUT/go-breakdown.md"
echo "the epoch's matrix products alone (bench/gomatmul): $(products_per_epoch go) s of $S s/epoch"
echo "go tool pprof -http=: $OUT/mnistfc $OUT/go.pprof   # to look further"

if "$OUT/mnistfc" train -backend xla:cpu -hidden 1 -epochs 1 -out "$OUT/xla-probe" >/dev/null 2>&1; then
  echo
  echo "== xla:cpu: by experiment, $EPOCHS epochs, hidden $HIDDEN"
  "$OUT/mnistfc" train -backend xla:cpu -hidden "$HIDDEN" -epochs "$EPOCHS" -out "$OUT/xla" | grep "per epoch"
  "$OUT/mnistfc" train -backend xla:cpu -hidden "$HIDDEN" -epochs "$EPOCHS" -eval-every 1000 -out "$OUT/xla-noval" | grep "per epoch"
  FULL=$(epoch_seconds "$OUT/xla" 2)
  TRAIN=$(epoch_seconds "$OUT/xla-noval" 2)
  PROD=$(products_per_epoch xla:cpu)
  python3 -c '
import sys
full, train, prod = map(float, sys.argv[1:])
print("| part of an xla:cpu epoch | s/epoch | share |")
print("| --- | ---: | ---: |")
for name, v in [("epoch (training and validation), epochs 2 on", full),
                ("validation (the difference with an epoch that skips it)", full - train),
                ("matrix products alone, each as its own call (bench/gomatmul)", prod),
                ("the rest: elementwise, reductions, the loop, calls", full - prod)]:
    print("| %s | %.3f | %.0f %% |" % (name, v, 100 * v / full))' "$FULL" "$TRAIN" "$PROD" | tee "$OUT/xla-breakdown.md"
else
  echo
  echo "xla:cpu: not installed here (make xla-cpu); skipped"
fi
