#!/usr/bin/env bash
# Starts JupyterLab on notebooks/ with the project's GoNB kernel, bound to
# 127.0.0.1 (`make lab`). Run scripts/setup-notebooks.sh first.
#   LAB_PORT   port (default 8888; the next free one if taken)
#   MNISTFC_EPOCHS and any other variables reach the notebooks' kernels;
#   GOMLX_GO_SIMD_AVX512, unless set, is what `mnistfc calibrate -print-env` prints.
# Extra arguments go to `jupyter lab`.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/notebooks-env.sh"

[[ -x "$VENV/bin/jupyter-lab" ]] || { echo "lab: run scripts/setup-notebooks.sh first" >&2; exit 1; }
# The pure-Go backend's faster kernel family on this CPU for the notebooks'
# kernels: what `mnistfc calibrate -print-env` prints (measured once per
# machine and kept), unless GOMLX_GO_SIMD_AVX512 is set; if that fails, a
# note and GoMLX's default.
if [[ -z "${GOMLX_GO_SIMD_AVX512:-}" ]]; then
  if kernels="$(cd "$ROOT" && GOEXPERIMENT="${GOEXPERIMENT:-simd}" go run ./cmd/mnistfc calibrate -print-env)"; then
    for kv in $kernels; do
      if [[ "$kv" == GOMLX_*=* ]]; then
        export "$kv"
        echo "lab: $kv, the faster pure-Go kernels on this CPU (mnistfc calibrate)" >&2
      fi
    done
  else
    echo "lab: note: no kernel calibration; the pure-Go backend keeps GoMLX's default kernels" >&2
  fi
fi
args=(--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port="${LAB_PORT:-8888}"
      --ServerApp.root_dir="$ROOT/notebooks")
# Jupyter refuses to run as root without this (containers, CI machines).
[[ "$(id -u)" == 0 ]] && args+=(--allow-root)
echo "lab: starting JupyterLab on $ROOT/notebooks; open the http://127.0.0.1:... URL printed below (Ctrl-C twice to stop)" >&2
exec "$VENV/bin/jupyter-lab" "${args[@]}" "$@"
