#!/usr/bin/env bash
# Installs XLA's PJRT CPU plugin for mnistfc's XLA backend (`make xla-cpu`),
# so that `-backend xla:cpu` (or GOMLX_BACKEND=xla:cpu) runs without network
# access, flag or environment variable. The plugin comes from the PyPI wheel
# lammps-jax-pjrt-cpu (pinned version, Apache-2.0; built from jaxlib's XLA),
# downloaded with pip (`pip download --no-deps`, which checks the wheel's
# SHA-256 too) and nothing else. This script checks the wheel's and the
# plugin's SHA-256, and puts the plugin, with the wheel's LICENSE and
# THIRD_PARTY_NOTICES, in $MNISTFC_XLA_DIR, by default <repo>/.tools/xla/,
# one of the places where the program looks for it (see the README).
# Linux x86-64 only. Needs python3 with pip; about 62 MB to download and
# 201 MB on disk.
set -euo pipefail

VERSION=0.11.2
WHEEL=lammps_jax_pjrt_cpu-$VERSION-py3-none-manylinux_2_27_x86_64.whl
WHEEL_SHA256=1319390d948b39f69f7dade496b7c385149d9ca6097a6b62114da113216d9ad1
PLUGIN_SHA256=ad1309ac822b1b24d51b7f9947c7c9fa9ef5d67f390584cbc3d1fa2428fed9c2
MEMBER=lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR=${MNISTFC_XLA_DIR:-$ROOT/.tools/xla}
PLUGIN=$DIR/pjrt_c_api_cpu_plugin.so
STAMP=$DIR/mnistfc-installed-from
PYTHON=${PYTHON:-python3}

log() { echo "install-xla-cpu: $*" >&2; }
die() { log "$*"; exit 1; }

[ "$(uname -s)/$(uname -m)" = "Linux/x86_64" ] || die "only Linux x86-64 is supported (this is $(uname -s)/$(uname -m))"
if [ -f "$PLUGIN" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "lammps-jax-pjrt-cpu==$VERSION" ] \
   && [ "$(sha256sum "$PLUGIN" | cut -d' ' -f1)" = "$PLUGIN_SHA256" ]; then
  log "$PLUGIN (lammps-jax-pjrt-cpu==$VERSION) is installed"
  exit 0
fi
command -v "$PYTHON" >/dev/null || die "$PYTHON not found (set PYTHON=/path/to/python3)"
"$PYTHON" -m pip --version >/dev/null 2>&1 \
  || die "$PYTHON has no pip: install it (apt-get install -y python3-pip) or set PYTHON to a python3 with pip (e.g. PYTHON=.venv/bin/python after make notebooks-setup)"

mkdir -p "$DIR"
tmp=$(mktemp -d "$DIR/.install.XXXXXX") # next to the plugin, so that the final mv is a rename
trap 'rm -rf "$tmp"' EXIT
echo "lammps-jax-pjrt-cpu==$VERSION --hash=sha256:$WHEEL_SHA256" > "$tmp/requirements.txt"
log "pip download --no-deps lammps-jax-pjrt-cpu==$VERSION (62 MB, from PyPI)"
"$PYTHON" -m pip download --quiet --disable-pip-version-check --no-input --no-deps --only-binary=:all: \
  --require-hashes -r "$tmp/requirements.txt" --dest "$tmp" \
  || die "pip download lammps-jax-pjrt-cpu==$VERSION failed: see pip's message above (PyPI not reachable, or the wheel's SHA-256 not $WHEEL_SHA256)"
[ -f "$tmp/$WHEEL" ] || die "pip did not download $WHEEL (got: $(ls "$tmp"))"
got=$(sha256sum "$tmp/$WHEEL" | cut -d' ' -f1)
[ "$got" = "$WHEEL_SHA256" ] || die "$WHEEL has SHA-256 $got, want $WHEEL_SHA256"

# Unpack only the plugin and the license files (Python's zipfile: no unzip needed).
"$PYTHON" - "$tmp/$WHEEL" "$tmp/x" "$MEMBER" \
  "lammps_jax_pjrt_cpu-$VERSION.dist-info/licenses/LICENSE" \
  "lammps_jax_pjrt_cpu-$VERSION.dist-info/licenses/THIRD_PARTY_NOTICES" <<'EOF' || die "cannot unpack $WHEEL"
import os, shutil, sys, zipfile
wheel, out, *members = sys.argv[1:]
os.makedirs(out, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for m in members:
        with z.open(m) as src, open(os.path.join(out, os.path.basename(m)), "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
EOF
got=$(sha256sum "$tmp/x/pjrt_c_api_cpu_plugin.so" | cut -d' ' -f1)
[ "$got" = "$PLUGIN_SHA256" ] || die "$MEMBER has SHA-256 $got, want $PLUGIN_SHA256"

chmod 0755 "$tmp/x/pjrt_c_api_cpu_plugin.so"
chmod 0644 "$tmp/x/LICENSE" "$tmp/x/THIRD_PARTY_NOTICES"
mv -f "$tmp/x/LICENSE" "$DIR/LICENSE"
mv -f "$tmp/x/THIRD_PARTY_NOTICES" "$DIR/THIRD_PARTY_NOTICES"
mv -f "$tmp/x/pjrt_c_api_cpu_plugin.so" "$PLUGIN"
echo "lammps-jax-pjrt-cpu==$VERSION" > "$STAMP"
log "installed $PLUGIN (XLA's PJRT CPU plugin from lammps-jax-pjrt-cpu==$VERSION)"
if [ "$DIR" != "$ROOT/.tools/xla" ]; then
  log "not the default folder: run with MNISTFC_XLA_DIR=$DIR, or -backend xla:$PLUGIN"
fi
