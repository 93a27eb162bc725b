#!/usr/bin/env bash
# gpu-check.sh: checks and times training on an NVIDIA GPU through XLA/PJRT,
# on a machine with no Go toolchain, using a binary built elsewhere.
#
# Build the binary and the data folder on a machine with Go (see `make gpu-bundle`):
#   bin/mnistfc      cgo build with the XLA backend (GOEXPERIMENT=simd, CGO_ENABLED=1)
#   bin/mnist/       the four MNIST IDX files
# then, on the GPU machine, from the repository root:
#   scripts/gpu-check.sh [OUT_DIR]
#
# It finds a PJRT CUDA plugin: $MNISTFC_PJRT_PLUGIN if set, else a
# pjrt_c_api_cuda_plugin.so installed by `mnistfc install-xla`, else the
# xla_cuda_plugin.so of an installed jax-cuda12/13-pjrt Python package
# together with its nvidia-* libraries. Then it:
#   1. trains hidden 100, lr 0.1, 35 epochs, seed 0 on the GPU and on the CPU
#      (pure-Go backend) and checks that the test accuracies agree within 0.5 points;
#   2. times the seven-experiment sweep on the GPU;
#   3. runs the original notebook's PyTorch loop on the same GPU (if torch is installed).
# Results go to OUT_DIR (default $OUT or ./gpu-results) as JSON lines and a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-gpu-results}}
mkdir -p "$out"
bin=${MNISTFC_BIN:-bin/mnistfc}
data=${MNISTFC_DATA:-bin/mnist}
[ -x "$bin" ] || { echo "gpu-check: no executable $bin (build it with 'make gpu-bundle')" >&2; exit 2; }
[ -d "$data" ] || { echo "gpu-check: no data folder $data (build it with 'make gpu-bundle')" >&2; exit 2; }
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"

py=$(command -v python3 || true)
plugin=${MNISTFC_PJRT_PLUGIN:-}
if [ -z "$plugin" ]; then
  for p in "$HOME/.local/lib/go-xla/pjrt_c_api_cuda_plugin.so" /usr/local/lib/go-xla/pjrt_c_api_cuda_plugin.so; do
    [ -f "$p" ] && { plugin=$p; break; }
  done
fi
if [ -z "$plugin" ] && [ -n "$py" ]; then
  plugin=$("$py" - <<'PY' 2>/dev/null || true
import glob, importlib.util, os
for name in ("jax_plugins.xla_cuda13", "jax_plugins.xla_cuda12"):
    try:
        spec = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        continue
    if spec and spec.submodule_search_locations:
        for d in spec.submodule_search_locations:
            for f in glob.glob(os.path.join(d, "xla_cuda_plugin.so")):
                print(f); raise SystemExit
PY
)
fi
[ -n "$plugin" ] || { echo "gpu-check: no PJRT CUDA plugin found: install one with 'mnistfc install-xla -plugin cuda', pip install jax-cuda13-pjrt, or set MNISTFC_PJRT_PLUGIN" >&2; exit 2; }
echo "PJRT plugin: $plugin" | tee "$out/plugin.txt"

# The plugin loads libcudart, cuBLAS, cuDNN... from the nvidia-* Python packages next to it
# (site-packages/nvidia/*/lib); ptxas and libdevice come from the CUDA data dir.
site=$(cd "$(dirname "$plugin")/../.." && pwd)
if [ -d "$site/nvidia" ]; then
  libs=$(find "$site/nvidia" -maxdepth 3 -type d -name lib | tr '\n' ':')
  export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:-}"
  cudadir=$(find "$site/nvidia" -maxdepth 3 -type d -name nvvm -printf '%h\n' 2>/dev/null | head -1)
  [ -n "$cudadir" ] && export XLA_FLAGS="${XLA_FLAGS:-} --xla_gpu_cuda_data_dir=$cudadir"
  ptxas=$(find "$site/nvidia" -name ptxas -type f 2>/dev/null | head -1)
  [ -n "$ptxas" ] && export PATH="$(dirname "$ptxas"):$PATH"
fi
export GOPJRT_CUDA_CHECKS=0 GOMLX_NO_AUTO_INSTALL=1
gpu="xla:$plugin"

last_json() { grep '^{' "$1" | tail -1; }
timed() { # timed NAME CMD...: runs CMD, keeps its output in $out/NAME.log, prints wall seconds.
  local name=$1; shift
  local t0; t0=$(date +%s.%N)
  "$@" >"$out/$name.log" 2>&1 || { echo "gpu-check: $name failed:" >&2; tail -20 "$out/$name.log" >&2; exit 1; }
  echo "$name wall $(echo "$(date +%s.%N) - $t0" | bc) s" | tee -a "$out/summary.txt"
}

: >"$out/summary.txt"
timed train-gpu "$bin" train -backend "$gpu" -data "$data" -out "$out/run-gpu" -json
timed train-cpu "$bin" train -backend go -data "$data" -out "$out/run-cpu" -json
last_json "$out/train-gpu.log" | tee "$out/train-gpu.json"
last_json "$out/train-cpu.log" | tee "$out/train-cpu.json"
timed sweep-gpu "$bin" sweep -backend "$gpu" -data "$data" -parallel 1 -json -out "$out/sweep-gpu"
if [ -n "$py" ] && "$py" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  timed torch-gpu "$py" bench/torch_reference.py --device cuda --data "$data" --json --quiet
  last_json "$out/torch-gpu.log" | tee "$out/torch-gpu.json"
fi

"${py:-python3}" - "$out" <<'PY' | tee -a "$out/summary.txt"
import json, os, sys
out = sys.argv[1]
load = lambda n: json.load(open(os.path.join(out, n))) if os.path.exists(os.path.join(out, n)) else None
g, c, t = load("train-gpu.json"), load("train-cpu.json"), load("torch-gpu.json")
print(f"GPU  : test acc {g['test_acc']:.4f}, {g['seconds_per_epoch']*1000:.1f} ms/epoch, 35 epochs of training {g['train_seconds']:.2f} s, whole run {g['total_seconds']:.2f} s")
print(f"CPU  : test acc {c['test_acc']:.4f}, {c['seconds_per_epoch']*1000:.1f} ms/epoch")
diff = abs(g["test_acc"] - c["test_acc"]) * 100
print(f"accuracy difference GPU vs CPU: {diff:.2f} points ({'OK' if diff <= 0.5 else 'TOO LARGE'})")
if t:
    print(f"PyTorch GPU: test acc {t['test_acc']:.4f}, {t['seconds_per_epoch']*1000:.1f} ms/epoch; speed-up {t['seconds_per_epoch']/g['seconds_per_epoch']:.1f}x")
runs = [json.loads(l) for l in open(os.path.join(out, "sweep-gpu.log")) if l.startswith("{")]
print(f"sweep on GPU: {len(runs)} runs, training+test {sum(r['seconds'] for r in runs):.2f} s")
sys.exit(0 if diff <= 0.5 else 1)
PY
