#!/usr/bin/env bash
# Installs what bench/torch_reference.py needs: Debian's PyTorch, torchvision
# and scikit-learn for /usr/bin/python3. Idempotent; silent when present.
# `make torch-golden` uses this torch (1.13) for mnistfc/torchcompat/testdata/torch_golden.json;
# PyPI's torch 2.15 (CPU) gave the same initial weights and batch orders bit
# for bit and per-step losses within 2e-7 relative (see mnistfc/torchcompat/torchcompat.go).
set -euo pipefail

PY=/usr/bin/python3
PKGS=(python3-torch python3-torchvision python3-sklearn)

have() { [ -x "$PY" ] && "$PY" -c 'import torch, torchvision, sklearn' >/dev/null 2>&1; }

if have; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-torch.sh: $PY cannot import torch, torchvision and sklearn, and there is no apt-get;" >&2
  echo "  install PyTorch, torchvision and scikit-learn for $PY by hand." >&2
  exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-torch.sh: not root and no sudo; run as root: apt-get install ${PKGS[*]}" >&2
    exit 1
  fi
fi

apt_install() {
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${PKGS[@]}"
}

echo "install-torch.sh: installing ${PKGS[*]} (Debian packages, a few minutes)..." >&2
if ! apt_install; then
  echo "install-torch.sh: apt-get install failed; running apt-get update once and retrying" >&2
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  apt_install
fi

if ! have; then
  echo "install-torch.sh: installed ${PKGS[*]} but $PY still cannot import torch, torchvision, sklearn:" >&2
  "$PY" -c 'import torch, torchvision, sklearn' || true
  exit 1
fi
echo "install-torch.sh: $("$PY" -c 'import torch; print("torch", torch.__version__)') ready" >&2
