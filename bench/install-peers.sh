#!/usr/bin/env bash
# Installs the benchmark's peers (bench/run.sh with BENCH_PEERS=1) into a
# bench-only virtual environment, .tools/bench-venv (gitignored): today's
# PyTorch from PyPI, with what bench/torch_reference.py's original pipeline
# needs (torchvision, scikit-learn), and JAX for the CPU
# (bench/jax_reference.py); bench/matmul_gflops.py uses all three. Pinned
# versions; idempotent, silent when they are there. Never used by CI.
#
# Environment:
#   BENCH_PEERS_VENV=DIR    the venv to use instead of .tools/bench-venv. If its
#                           python already imports torch, torchvision, sklearn
#                           and jax, it is used as it is (other versions than the
#                           pins get a warning); else the pins are installed
#                           into it (created if DIR does not exist).
#   BENCH_PEERS_PYTHON=EXE  the python that creates the venv (default python3;
#                           3.11 or newer: torch, jax and scikit-learn ask for it)
#
# PyPI's default torch wheel for Linux is the CUDA build: with its nvidia-*
# packages it takes ~5.6 GB, the venv ~6 GB (it runs on the CPU all the same).
set -euo pipefail
cd "$(dirname "$0")/.."

# The pins (PyPI, checked on Python 3.11). torchvision 0.29.2 is the newest on
# PyPI; it asks for torch >= 2.14 and its transforms work with 2.15.
TORCH_VERSION=2.15.0
TORCHVISION_VERSION=0.29.2
JAX_VERSION=0.10.2
SKLEARN_VERSION=1.9.1
PINS=("torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION" "jax[cpu]==$JAX_VERSION"
      "scikit-learn==$SKLEARN_VERSION")

VENV=${BENCH_PEERS_VENV:-.tools/bench-venv}
PY=$VENV/bin/python
say() { echo "install-peers.sh: $*" >&2; }

# versions: prints "torch torchvision jax jaxlib sklearn" versions, or fails.
versions() {
  "$PY" - <<'EOF' 2>/dev/null
import importlib.metadata as md
import jax, sklearn, torch, torchvision  # noqa: F401  (they must import, not only be installed)
print(*(md.version(p) for p in ("torch", "torchvision", "jax", "jaxlib", "scikit-learn")))
EOF
}

want="$TORCH_VERSION $TORCHVISION_VERSION $JAX_VERSION $JAX_VERSION $SKLEARN_VERSION"
if [ -x "$PY" ] && have=$(versions); then
  if [ "$have" != "$want" ]; then
    if [ -n "${BENCH_PEERS_VENV:-}" ]; then
      say "WARNING: $VENV has torch, torchvision, jax, jaxlib, scikit-learn $have, not the pins ($want); using it as it is"
      exit 0
    fi
    say "$VENV has $have, not the pins ($want): installing the pins"
  else
    exit 0
  fi
fi

if [ ! -x "$PY" ]; then
  BASE=${BENCH_PEERS_PYTHON:-python3}
  command -v "$BASE" >/dev/null 2>&1 || { say "no $BASE on PATH (set BENCH_PEERS_PYTHON)"; exit 1; }
  "$BASE" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' \
    || { say "$BASE is Python $("$BASE" -c 'import platform; print(platform.python_version())'); the pins need 3.11 or newer (set BENCH_PEERS_PYTHON)"; exit 1; }
  say "creating $VENV with $BASE ($("$BASE" -c 'import platform; print(platform.python_version())'))"
  mkdir -p "$(dirname "$VENV")"
  "$BASE" -m venv "$VENV" || { say "$BASE -m venv $VENV failed (Debian: apt-get install python3-venv)"; exit 1; }
fi

free_kb=$(df -Pk "$VENV" | awk 'NR == 2 { print $4 }')
say "WARNING: installing ${PINS[*]} into $VENV from PyPI."
say "  PyPI's default torch is the CUDA build: with its nvidia-* packages it takes ~5.6 GB, the"
say "  whole venv ~6 GB ($(( free_kb / 1024 / 1024 )) GB free there). Ctrl-C stops it; BENCH_PEERS_VENV"
say "  can point at an existing venv that has them."
"$PY" -m pip install --disable-pip-version-check "${PINS[@]}" \
  || { say "pip install failed"; exit 1; }
have=$(versions) || { say "installed, but $PY still cannot import torch, torchvision, sklearn and jax:";
                      "$PY" -c 'import torch, torchvision, sklearn, jax'; exit 1; }
say "ready: $PY with torch, torchvision, jax, jaxlib, scikit-learn $have ($(du -sh "$VENV" | cut -f1))"
