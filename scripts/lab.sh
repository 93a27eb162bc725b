#!/usr/bin/env bash
# Starts JupyterLab on notebooks/ with the project's GoNB kernel, bound to
# 127.0.0.1 (`make lab`). Run scripts/setup-notebooks.sh first.
#   LAB_PORT   port (default 8888; the next free one if taken)
#   MNISTFC_EPOCHS and any other variables reach the notebooks' kernels.
# Extra arguments go to `jupyter lab`.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/notebooks-env.sh"

[[ -x "$VENV/bin/jupyter-lab" ]] || { echo "lab: run scripts/setup-notebooks.sh first" >&2; exit 1; }
args=(--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port="${LAB_PORT:-8888}"
      --ServerApp.root_dir="$ROOT/notebooks")
# Jupyter refuses to run as root without this (containers, CI machines).
[[ "$(id -u)" == 0 ]] && args+=(--allow-root)
echo "lab: starting JupyterLab on $ROOT/notebooks; open the http://127.0.0.1:... URL printed below (Ctrl-C twice to stop)" >&2
exec "$VENV/bin/jupyter-lab" "${args[@]}" "$@"
