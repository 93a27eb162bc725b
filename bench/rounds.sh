#!/usr/bin/env bash
# Alternating rounds of one epoch's time (`make bench-rounds`): our training
# on go (GoMLX's default kernels and the calibrated pick) and on xla:cpu,
# against idiomatic PyTorch 2.x and JAX (lax.scan) from the peers' venv
# (bench/install-peers.sh), ROUNDS times in turn, then the best and the
# median of each. This host's speed changes from one minute to the next, so
# only rows of one run, taken in turn, compare.
#
# Environment: ROUNDS (default 5), BENCH_PEERS_VENV (default .tools/bench-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOEXPERIMENT=simd GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"
ROUNDS=${ROUNDS:-5}
PY=${BENCH_PEERS_VENV:-.tools/bench-venv}/bin/python
OUT=${BENCH_OUT:-out/bench-rounds}
mkdir -p "$OUT"
bench/install-peers.sh
scripts/install-xla-cpu.sh >/dev/null
go test -c -o "$OUT/mnistfc.test" ./mnistfc
KENV=$(go run ./cmd/mnistfc calibrate -print-env)
KENV=${KENV:-GOMLX_GO_SIMD_AVX512=1}

ours() { # ENV...: s/epoch of BenchmarkEpoch over 5 epochs
  (cd mnistfc && env "$@" "../$OUT/mnistfc.test" -test.run '^$' -test.bench '^BenchmarkEpoch$' -test.benchtime 5x) |
    awk '/^BenchmarkEpoch/ { for (i = 2; i <= NF; i++) if ($i == "s/epoch") print $(i-1) }'
}
peer() { # script flags...: s/epoch, the mean of the epochs after the first
  "$PY" "$@" --threads 2 --hidden 100 --batch 1000 --json --quiet | tail -n 1 |
    python3 -c 'import json, sys; e = json.load(sys.stdin)["epoch_seconds"][1:]; print("%.3f" % (sum(e) / len(e)))'
}

rows=("go, GoMLX's default kernels (GOMLX_GO_SIMD_AVX512=1)" "go, the calibrated pick ($KENV)" "xla:cpu" \
      "PyTorch 2.x (PyPI), preloaded + no_grad evaluation" "JAX, one jit per epoch (lax.scan)")
: > "$OUT/rounds.tsv"
for r in $(seq "$ROUNDS"); do
  t=("$(ours GOMLX_BACKEND=go GOMLX_GO_SIMD_AVX512=1)" "$(ours GOMLX_BACKEND=go "$KENV")" "$(ours GOMLX_BACKEND=xla:cpu)" \
     "$(peer bench/torch_reference.py --epochs 4 --preload --lean)" "$(peer bench/jax_reference.py --epochs 4 --mode scan)")
  echo "round $r: ${t[*]}" >&2
  (IFS=$'\t'; echo "${t[*]}") >> "$OUT/rounds.tsv"
done
python3 - "$OUT/rounds.tsv" "${rows[@]}" <<'PYEOF'
import statistics, sys
rows = sys.argv[2:]
rounds = [list(map(float, l.split("\t"))) for l in open(sys.argv[1]) if l.strip()]
print("| implementation | s/epoch, each round | best | median |")
print("| --- | --- | ---: | ---: |")
for i, name in enumerate(rows):
    v = [r[i] for r in rounds]
    print("| %s | %s | %.3f | %.3f |" % (name, ", ".join("%.3f" % x for x in v), min(v), statistics.median(v)))
PYEOF
echo "(ours: BenchmarkEpoch over 5 epochs, graphs compiled before; peers: epochs 2-4 of 4)"
