#!/usr/bin/env bash
# Side-by-side CPU benchmark (`make bench`): one epoch of our Go training
# (mnistfc's BenchmarkEpoch) against a PyTorch reference of the original
# notebook's loop (bench/torch_reference.py) on the same MNIST files, with
# seconds per epoch (training + validation), peak resident memory and the
# speed-up of Go over each PyTorch variant. Results: $BENCH_OUT/bench.json.
#
# Environment:
#   BENCH_GO_EPOCHS=5     epochs timed on the Go side (-benchtime Nx)
#   BENCH_TORCH_EPOCHS=3  epochs timed per PyTorch run
#   BENCH_TORCH_THREADS=2 torch.set_num_threads
#   BENCH_TORCH_LEAN=1    also time idiomatic PyTorch (--preload --lean: no
#                         autograd in evaluation), not the original's loop
#   BENCH_ONNX=1          also time our training on the ONNX Runtime backend
#                         (installs it with scripts/install-onnxruntime.sh; 0: skip)
#   BENCH_XLA=1           also time our training on XLA's CPU plugin, xla:cpu
#                         (installs it with scripts/install-xla-cpu.sh; 0: skip)
#   BENCH_FULL=1          also time the whole 35-epoch runs of both programs
#   BENCH_PEERS=0         1: also time what a user would pick today, from a
#                         bench-only venv (bench/install-peers.sh; pinned PyTorch
#                         2.x from PyPI and JAX; ~6 GB): PyTorch 2.x idiomatic
#                         (--preload --lean) and with the original pipeline, JAX
#                         with one jit step per batch and with one jit per epoch
#                         (lax.scan) (bench/jax_reference.py, BENCH_TORCH_EPOCHS+1
#                         epochs, the first, compiling, one not timed), and this
#                         machine's float32 matmul GFLOP/s with the floor it puts
#                         under an epoch (bench/matmul_gflops.py, with the venv's
#                         torch, numpy and jax and with Debian's torch and numpy)
#   BENCH_PEERS_VENV      that venv (default .tools/bench-venv; see install-peers.sh)
#   BENCH_OUT=out/bench   output folder
#   GOMLX_BACKEND         GoMLX backend of the Go side (default: go)
#
# Run it on an idle machine: it reports how much CPU other processes took
# meanwhile and warns above 10% (PyTorch with 2 OpenMP threads slowed down up
# to ~20x when another process kept one of 2 cores busy). The reference gives
# OpenBLAS 1 thread (see bench/torch_reference.py -h and its docstring).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${BENCH_OUT:-out/bench}
GO_EPOCHS=${BENCH_GO_EPOCHS:-5}
TORCH_EPOCHS=${BENCH_TORCH_EPOCHS:-3}
TORCH_THREADS=${BENCH_TORCH_THREADS:-2}
PY=/usr/bin/python3
PEERS=${BENCH_PEERS:-0}
PEERS_VENV=${BENCH_PEERS_VENV:-.tools/bench-venv}
export GOEXPERIMENT=simd
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}" # go.mod needs Go 1.27

step() { echo "==> $*" >&2; }
die() { echo "bench/run.sh: $*" >&2; exit 1; }
for n in "$GO_EPOCHS" "$TORCH_EPOCHS" "$TORCH_THREADS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "BENCH_GO_EPOCHS, BENCH_TORCH_EPOCHS and BENCH_TORCH_THREADS must be positive integers (got '$n')"
done
command -v go >/dev/null || die "go not found on PATH"
mkdir -p "$OUT"
LOAD_BEFORE=$(cut -d" " -f1-3 /proc/loadavg)
STAT_BEFORE=$(head -n 1 /proc/stat)
WALL_BEFORE=$(date +%s.%N)

# (a) PyTorch for /usr/bin/python3; with BENCH_PEERS=1, the peers' venv.
step "PyTorch: bench/install-torch.sh"
bench/install-torch.sh || die "bench/install-torch.sh failed: PyTorch is needed for the reference side"
PEERS_PY=""
if [ "$PEERS" = 1 ]; then
  step "Peers: BENCH_PEERS_VENV=$PEERS_VENV bench/install-peers.sh"
  BENCH_PEERS_VENV="$PEERS_VENV" bench/install-peers.sh || die "BENCH_PEERS=1 but bench/install-peers.sh failed"
  PEERS_PY=$PEERS_VENV/bin/python
fi

# (b) Go: BenchmarkEpoch reports s/epoch and peakRSS-MiB.
# go_bench NAME [go test flags...]: runs it, output in $OUT/NAME-bench.txt;
# sets SPE (s/epoch) and RSS (peakRSS-MiB, or "-").
go_bench() {
  local name=$1; shift
  step "Go ($name backend): GOMLX_BACKEND=${GOMLX_BACKEND:-go} GOEXPERIMENT=simd go test $* -run '^\$' -bench '^BenchmarkEpoch\$' -benchtime ${GO_EPOCHS}x ./mnistfc"
  go test "$@" -run '^$' -bench '^BenchmarkEpoch$' -benchtime "${GO_EPOCHS}x" ./mnistfc | tee "$OUT/$name-bench.txt" >&2 \
    || die "the Go benchmark ($name) failed (output in $OUT/$name-bench.txt)"
  read -r SPE RSS < <(awk '/^BenchmarkEpoch/ { for (i = 2; i <= NF; i++) { if ($i == "s/epoch") s = $(i-1); if ($i == "peakRSS-MiB") m = $(i-1) } }
    END { print (s == "" ? "-" : s), (m == "" ? "-" : m) }' "$OUT/$name-bench.txt")
  [ "$SPE" != "-" ] || die "no s/epoch metric in the Go benchmark output ($OUT/$name-bench.txt)"
}
# The pure-Go row names its backend: the default is now the fastest installed.
# It runs on the kernel family the command line picks on this CPU
# (`mnistfc calibrate`; none to pick without AVX-512), unless
# GOMLX_GO_SIMD_AVX512 is set.
KERNELS=""
if [ -z "${GOMLX_GO_SIMD_AVX512:-}" ]; then
  KENV=$(go run ./cmd/mnistfc calibrate -print-env) || KENV=""
  if [ -n "$KENV" ]; then
    export "${KENV?}"
    KERNELS=", $KENV (calibrated)"
  fi
else
  KERNELS=", GOMLX_GO_SIMD_AVX512=$GOMLX_GO_SIMD_AVX512"
fi
GOMLX_BACKEND=${GOMLX_BACKEND:-go} go_bench go
GO_SPE=$SPE GO_RSS=$RSS
unset GOMLX_GO_SIMD_AVX512 # Only the pure-Go backend reads it.

# (b2) Go on the ONNX Runtime backend (build tag onnx).
ONNX_SPE=- ONNX_RSS=-
if [ "${BENCH_ONNX:-1}" != 0 ]; then
  step "ONNX Runtime: scripts/install-onnxruntime.sh"
  if scripts/install-onnxruntime.sh; then
    GOMLX_BACKEND=onnx go_bench onnx -tags onnx
    ONNX_SPE=$SPE ONNX_RSS=$RSS
  else
    echo "bench/run.sh: WARNING: ONNX Runtime could not be installed; the onnx row is skipped" >&2
  fi
fi

# (b3) Go on XLA's PJRT CPU plugin (cgo build, the default).
XLA_SPE=- XLA_RSS=-
if [ "${BENCH_XLA:-1}" != 0 ]; then
  step "XLA CPU plugin: scripts/install-xla-cpu.sh"
  if scripts/install-xla-cpu.sh; then
    GOMLX_BACKEND=xla:cpu CGO_ENABLED=1 go_bench xla
    XLA_SPE=$SPE XLA_RSS=$RSS
  else
    echo "bench/run.sh: WARNING: the XLA CPU plugin could not be installed; the xla:cpu row is skipped" >&2
  fi
fi

# (c) PyTorch: the original pipeline, then preloaded tensors (same loop).
torch_run() { # name, extra flags...
  local name=$1; shift
  local cmd=("$PY" bench/torch_reference.py --epochs "$TORCH_EPOCHS" --threads "$TORCH_THREADS"
             --hidden 100 --batch 1000 --json --quiet "$@")
  step "PyTorch ($name): ${cmd[*]}"
  "${cmd[@]}" > "$OUT/torch-$name.txt" || die "the PyTorch reference ($name) failed"
  tail -n 1 "$OUT/torch-$name.txt" > "$OUT/torch-$name.json"
}
torch_run defaults --blas-threads 0
torch_run original
torch_run preload --preload
TORCH_RUNS="defaults original preload"
if [ "${BENCH_TORCH_LEAN:-0}" = 1 ]; then
  torch_run lean --preload --lean
  TORCH_RUNS="$TORCH_RUNS lean"
fi

# (c2) Today's peers (BENCH_PEERS=1), from the bench-only venv, and the matmul floor.
PEER_RUNS=""
if [ "$PEERS" = 1 ]; then
  peer_run() { # name, python script, flags...
    local name=$1; shift
    local cmd=("$PEERS_PY" "$@" --threads "$TORCH_THREADS" --hidden 100 --batch 1000 --json --quiet)
    step "Peer ($name): ${cmd[*]}"
    "${cmd[@]}" > "$OUT/peer-$name.txt" || die "the peer run ($name) failed (output in $OUT/peer-$name.txt)"
    tail -n 1 "$OUT/peer-$name.txt" > "$OUT/peer-$name.json"
    PEER_RUNS="$PEER_RUNS $name"
  }
  peer_run torch2-lean bench/torch_reference.py --epochs "$TORCH_EPOCHS" --preload --lean
  peer_run torch2-original bench/torch_reference.py --epochs "$TORCH_EPOCHS"
  peer_run jax-step bench/jax_reference.py --epochs "$((TORCH_EPOCHS + 1))" --mode step
  peer_run jax-scan bench/jax_reference.py --epochs "$((TORCH_EPOCHS + 1))" --mode scan
  for side in peers debian; do
    mpy=$PEERS_PY libs=torch,numpy,jax
    [ "$side" = debian ] && mpy=$PY libs=torch,numpy
    step "Matmul GFLOP/s ($side): $mpy bench/matmul_gflops.py --threads $TORCH_THREADS --libs $libs --json"
    "$mpy" bench/matmul_gflops.py --threads "$TORCH_THREADS" --libs "$libs" --json | tee "$OUT/matmul-$side.txt" >&2 \
      || die "bench/matmul_gflops.py ($side) failed (output in $OUT/matmul-$side.txt)"
    tail -n 1 "$OUT/matmul-$side.txt" > "$OUT/matmul-$side.json"
  done
fi

# Optional: the whole 35-epoch runs.
FULL=""
if [ "${BENCH_FULL:-0}" = 1 ]; then
  step "Go (full): go build -o $OUT/mnistfc ./cmd/mnistfc && $OUT/mnistfc train -json -out $OUT/train"
  go build -o "$OUT/mnistfc" ./cmd/mnistfc || die "go build ./cmd/mnistfc failed"
  TIME=()
  [ -x /usr/bin/time ] && TIME=(/usr/bin/time -v -o "$OUT/go-full.time")
  "${TIME[@]}" "$OUT/mnistfc" train -json -out "$OUT/train" > "$OUT/go-full.txt" \
    || die "$OUT/mnistfc train failed (output in $OUT/go-full.txt)"
  tail -n 1 "$OUT/go-full.txt" > "$OUT/go-full.json"
  step "PyTorch (full): $PY bench/torch_reference.py --preload --epochs 35 --threads $TORCH_THREADS --json --quiet"
  "$PY" bench/torch_reference.py --preload --epochs 35 --threads "$TORCH_THREADS" --json --quiet > "$OUT/torch-full.txt" \
    || die "the PyTorch reference (full) failed"
  tail -n 1 "$OUT/torch-full.txt" > "$OUT/torch-full.json"
  FULL=1
fi

# (d) table, (e) bench.json.
times > "$OUT/times.txt" # CPU time of this script's processes (the last line: children)
STAT_AFTER=$(head -n 1 /proc/stat)
WALL_AFTER=$(date +%s.%N)
CPU_MODEL=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
OUT="$OUT" GO_SPE="$GO_SPE" GO_RSS="$GO_RSS" ONNX_SPE="$ONNX_SPE" ONNX_RSS="$ONNX_RSS" XLA_SPE="$XLA_SPE" XLA_RSS="$XLA_RSS" GO_EPOCHS="$GO_EPOCHS" TORCH_EPOCHS="$TORCH_EPOCHS" \
TORCH_RUNS="$TORCH_RUNS" PEER_RUNS="$PEER_RUNS" FULL="$FULL" NPROC="$(nproc)" CPU_MODEL="$CPU_MODEL" LOAD_BEFORE="$LOAD_BEFORE" \
STAT_BEFORE="$STAT_BEFORE" STAT_AFTER="$STAT_AFTER" WALL_BEFORE="$WALL_BEFORE" WALL_AFTER="$WALL_AFTER" \
KERNELS="$KERNELS" OUR_TIMES="$(tail -n 1 "$OUT/times.txt")" LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)" GO_VERSION="$(go env GOVERSION)" BACKEND="${GOMLX_BACKEND:-go}" \
"$PY" - <<'PYEOF'
import json, os, re

env = os.environ
out = env["OUT"]
def load(name):
    path = os.path.join(out, name)
    try:
        with open(path) as f:
            return json.loads(f.read())
    except (OSError, ValueError) as e:
        raise SystemExit(f"bench/run.sh: cannot read the JSON summary {path}: {e}")

go_spe = float(env["GO_SPE"])
go_rss = None if env["GO_RSS"] == "-" else float(env["GO_RSS"])
labels = {"defaults": "original pipeline, Debian's thread defaults",
          "original": "original pipeline (Dataset+DataLoader)",
          "preload": "preloaded tensors (same loop)",
          "lean": "preloaded + no_grad eval (not the original loop)"}
def short_version(v):  # "1.13.0a0" -> "1.13", "2.15.0+cu132" -> "2.15"
    return ".".join(re.split(r"[.+]", v or "?")[:2])
rows = [{"name": "go", "label": f"Go/GoMLX ({env['BACKEND']} backend{env.get('KERNELS', '')})", "seconds_per_epoch": go_spe,
         "peak_rss_mib": go_rss, "epochs": int(env["GO_EPOCHS"])}]
onnx_spe = None if env["ONNX_SPE"] == "-" else float(env["ONNX_SPE"])

def backend_row(name, label, spe, rss):
    """A row of ours on another backend; its speed-up is pure Go's over it."""
    return {"name": name, "label": label, "seconds_per_epoch": spe,
            "peak_rss_mib": None if rss == "-" else float(rss),
            "epochs": int(env["GO_EPOCHS"]), "speedup_of_go": round(go_spe / spe, 2)}

def reference_row(name, label, d, **extra):
    """A row of a Python reference's --json summary d; its speed-ups are ours over it."""
    row = {"name": name, "label": label, "seconds_per_epoch": d["seconds_per_epoch"],
           "first_epoch_seconds": d["first_epoch_seconds"], "peak_rss_mib": d["peak_rss_mb"],
           "epochs": d["epochs"], "threads": d["threads"], **extra,
           "speedup_of_go": round(d["seconds_per_epoch"] / go_spe, 2)}
    if onnx_spe is not None:
        row["speedup_of_onnx"] = round(d["seconds_per_epoch"] / onnx_spe, 2)
    return row

if onnx_spe is not None:
    rows.append(backend_row("onnx", "Go/GoMLX (onnx backend: ONNX Runtime)", onnx_spe, env["ONNX_RSS"]))
if env["XLA_SPE"] != "-":
    rows.append(backend_row("xla-cpu", "Go/GoMLX (xla:cpu backend: XLA PJRT CPU plugin)",
                            float(env["XLA_SPE"]), env["XLA_RSS"]))
torch_version = None
for name in env["TORCH_RUNS"].split():
    d = load(f"torch-{name}.json")
    torch_version = d.get("torch")
    label = f"the original's framework (Debian PyTorch {short_version(torch_version)}): {labels[name]}"
    rows.append(reference_row(f"pytorch-{name}", label, d, blas_threads=d.get("blas_threads")))

# Today's peers (BENCH_PEERS=1): PyTorch 2.x from PyPI and JAX, from the bench-only venv.
peer_versions = {}
for name in env["PEER_RUNS"].split():
    d = load(f"peer-{name}.json")
    extra = {"final_val_acc": d["final_val_acc"]}
    if d["impl"] == "jax":
        peer_versions["jax"] = d["jax"]
        label = f"JAX {d['jax']}: " + ("one jit step per batch" if d["mode"] == "step" else
                                      "one jit per epoch (lax.scan)")
        # The first (compiling) epoch is not timed.
        extra.update(timed_epochs=max(1, d["epochs"] - 1), includes_compile=d["includes_compile"])
    else:
        peer_versions["torch"] = d["torch"]
        label = f"PyTorch {short_version(d['torch'])} (PyPI): " + (
            "preloaded + no_grad eval (idiomatic)" if d["lean"] else "original pipeline (Dataset+DataLoader)")
    rows.append(reference_row(name, label, d, **extra))

# The machine's float32 matmul speed (bench/matmul_gflops.py, with the venv's python and with
# Debian's) and the floor it puts under an epoch: the fastest library at the model's shape.
matmul = None
if env["PEER_RUNS"]:
    sides = {side: load(f"matmul-{side}.json") for side in ("peers", "debian")}
    best = max(sides.values(), key=lambda m: m["gflops_model"])
    peak = max(sides.values(), key=lambda m: m["gflops_peak"])
    prods = min(sides.values(), key=lambda m: m["matmul_epoch_seconds"])
    matmul = {"epoch_gflop": best["epoch_gflop"], "threads": best["threads"],
              "gflops_model": round(best["gflops_model"], 1), "gflops_model_lib": best["gflops_model_lib"],
              "gflops_peak": round(peak["gflops_peak"], 1), "gflops_peak_lib": peak["gflops_peak_lib"],
              "floor_seconds": round(best["floor_seconds"], 4), "floor_seconds_peak": round(peak["floor_seconds_peak"], 4),
              "matmul_epoch_seconds": round(prods["matmul_epoch_seconds"], 4), "matmul_epoch_lib": prods["matmul_epoch_lib"],
              "runs": sides}
    for r in rows:
        r["times_floor"] = round(r["seconds_per_epoch"] / matmul["floor_seconds"], 2)

# CPU time the machine spent busy during this script, less our own processes' CPU time:
# what other processes took from the benchmark, as a share of all CPUs.
def busy_and_total(line):
    v = [int(x) for x in line.split()[1:9]]
    return sum(v) - v[3] - v[4], sum(v)
def seconds(t):  # "1m2.345s"
    m, s = t.rstrip("s").split("m")
    return 60 * float(m) + float(s)
b0, t0 = busy_and_total(env["STAT_BEFORE"])
b1, t1 = busy_and_total(env["STAT_AFTER"])
hz = os.sysconf("SC_CLK_TCK")
ours = sum(seconds(t) for t in env["OUR_TIMES"].split())
wall = float(env["WALL_AFTER"]) - float(env["WALL_BEFORE"])
other = max(0.0, (b1 - b0) / hz - ours)
other_pct = round(100 * other / (wall * int(env["NPROC"])), 1) if wall > 0 else 0.0
machine = {"nproc": int(env["NPROC"]), "cpu_model": env["CPU_MODEL"], "wall_seconds": round(wall, 1),
           "other_cpu_pct": other_pct, "load_before": env["LOAD_BEFORE"],
           "load_after": env["LOAD_AFTER"], "go": env["GO_VERSION"], "torch": torch_version}
if peer_versions:
    machine["peers"] = peer_versions
print()
print(f"Machine: {machine['nproc']} CPUs, {machine['cpu_model']}; other processes used {machine['other_cpu_pct']}% of the CPUs; "
      f"load average before {machine['load_before']}, after {machine['load_after']}")
print(f"{machine['go']} (GOEXPERIMENT=simd), torch {torch_version}"
      + "".join(f", {k} {v} (peers' venv)" for k, v in peer_versions.items())
      + "; hidden 100, batch 1000, lr 0.1, row softmax; "
      f"seconds per epoch = training (51000 images) + validation (9000)")
if machine["other_cpu_pct"] > 10:
    print(f"WARNING: other processes used {machine['other_cpu_pct']}% of the CPUs during the benchmark, so these "
          f"timings are not reliable (PyTorch with 2 threads suffers most); rerun on an idle machine.")
print()
w = max(len(r["label"]) for r in rows)
fl = matmul is not None
print(f"{'implementation':<{w}}  {'s/epoch':>8}  {'peak RSS MiB':>12}  {'Go speed-up':>11}  {'onnx speed-up':>13}"
      + (f"  {'x floor':>7}" if fl else ""))
for r in rows:
    rss = "-" if r["peak_rss_mib"] is None else f"{r['peak_rss_mib']:.0f}"
    sp = "1.00" if r["name"] == "go" else f"{r['speedup_of_go']:.2f}"
    osp = "1.00" if r["name"] == "onnx" else (f"{r['speedup_of_onnx']:.2f}" if "speedup_of_onnx" in r else "-")
    print(f"{r['label']:<{w}}  {r['seconds_per_epoch']:>8.3f}  {rss:>12}  {sp:>11}  {osp:>13}"
          + (f"  {r['times_floor']:>7.2f}" if fl else ""))
print("(speed-up: that row's seconds per epoch over ours; on the onnx and xla:cpu rows, the Go column is pure Go's over theirs)")
if env["PEER_RUNS"]:
    print("(PyTorch rows: the mean over all their epochs; JAX rows: over all but the first, which compiles)")
if fl:
    m = matmul
    print(f"Matmul, float32, {m['threads']} threads (bench/matmul_gflops.py, fastest library of the venv's and "
          f"Debian's): {m['gflops_model']:.1f} GFLOP/s at [1000,784]x[784,100] ({m['gflops_model_lib']}), "
          f"{m['gflops_peak']:.1f} at 2048^3 ({m['gflops_peak_lib']}).")
    print(f"Floor: an epoch is {m['epoch_gflop']:.2f} GFLOP of matmuls (forward and backward of both layers for "
          f"51000 images, forward for 9000): {m['epoch_gflop']:.2f} / {m['gflops_model']:.1f} = "
          f"{m['floor_seconds']:.3f} s/epoch ({m['floor_seconds_peak']:.3f} s at the 2048^3 speed; the epoch's "
          f"products alone, back to back: {m['matmul_epoch_seconds']:.3f} s with {m['matmul_epoch_lib']}).")
    print(f"(x floor: that row's seconds per epoch over {m['floor_seconds']:.3f} s)")

result = {"machine": machine, "go_epochs": int(env["GO_EPOCHS"]), "torch_epochs": int(env["TORCH_EPOCHS"]),
          "rows": rows}
if matmul is not None:
    result["matmul"] = matmul
orig = next(r for r in rows if r["name"] == "pytorch-original")
dflt = next(r for r in rows if r["name"] == "pytorch-defaults")
result["speedup_vs_original"] = orig["speedup_of_go"]
result["speedup_vs_original_defaults"] = dflt["speedup_of_go"]
print()
print(f"Go vs the original PyTorch loop: {dflt['speedup_of_go']:.2f}x with Debian's defaults "
      f"(OpenBLAS threads = CPUs on top of torch's threads), {orig['speedup_of_go']:.2f}x with OpenBLAS on 1 thread "
      f"(issue target: at least 4x)")
if onnx_spe is not None:
    result["onnx_speedup_vs_original"] = orig["speedup_of_onnx"]
    result["onnx_speedup_vs_original_defaults"] = dflt["speedup_of_onnx"]
    print(f"Go on ONNX Runtime vs the original PyTorch loop: {dflt['speedup_of_onnx']:.2f}x with Debian's defaults, "
          f"{orig['speedup_of_onnx']:.2f}x with OpenBLAS on 1 thread")

if env["FULL"]:
    g, t = load("go-full.json"), load("torch-full.json")
    go_full_rss = None
    try:
        with open(os.path.join(out, "go-full.time")) as f:
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
            go_full_rss = int(m.group(1)) / 1024 if m else None
    except OSError:
        pass
    full = [
        {"name": "go", "seconds_per_epoch": g["seconds_per_epoch"], "total_seconds": g["total_seconds"],
         "test_acc": g.get("test_acc"), "peak_rss_mib": go_full_rss},
        {"name": "pytorch-preload", "seconds_per_epoch": t["seconds_per_epoch"], "total_seconds": t["total_seconds"],
         "test_acc": t["test_acc"], "peak_rss_mib": t["peak_rss_mb"]},
    ]
    full[1]["speedup_of_go"] = round(t["seconds_per_epoch"] / g["seconds_per_epoch"], 2)
    full[1]["speedup_of_go_total"] = round(t["total_seconds"] / g["total_seconds"], 2)
    result["full"] = full
    print()
    print("Whole 35-epoch runs (total includes data loading and test):")
    print(f"{'':<16}  {'s/epoch':>8}  {'total s':>8}  {'test acc':>8}  {'peak RSS MiB':>12}")
    for r in full:
        rss = "-" if r["peak_rss_mib"] is None else f"{r['peak_rss_mib']:.0f}"
        acc = "-" if r["test_acc"] is None else f"{r['test_acc']:.4f}"
        print(f"{r['name']:<16}  {r['seconds_per_epoch']:>8.3f}  {r['total_seconds']:>8.2f}  {acc:>8}  {rss:>12}")
    print(f"Go speed-up: {full[1]['speedup_of_go']:.2f}x per epoch, {full[1]['speedup_of_go_total']:.2f}x in total")

path = os.path.join(out, "bench.json")
with open(path, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
print()
print(f"Wrote {path}")
PYEOF
