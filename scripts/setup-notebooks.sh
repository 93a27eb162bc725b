#!/usr/bin/env bash
# Installs the notebook tooling, all pinned and project-local:
#   .venv/        Python venv with JupyterLab and nbconvert (scripts/requirements-notebooks.txt)
#   .tools/bin/   gonb (the Go kernel), goimports and gopls (scripts/tools/go.mod)
#   .venv/share/jupyter/kernels/gonb/   the GoNB kernelspec, pointing at .tools/bin/gonb
#
# Idempotent and fast when nothing changed: each part is redone only when its
# pins (or the Python/Go version) changed, or its result is missing or broken.
# FORCE=1 redoes everything. PYTHON picks the interpreter for the venv
# (default: python3).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/notebooks-env.sh"

PYTHON="${PYTHON:-python3}"
REQUIREMENTS="$ROOT/scripts/requirements-notebooks.txt"
TOOLS_MOD="$ROOT/scripts/tools"
KERNEL_DIR="$JUPYTER_DATA_DIR/kernels/gonb"

log() { echo "setup-notebooks: $*" >&2; }
die() { echo "setup-notebooks: error: $*" >&2; exit 1; }
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }
stamp_ok() { [[ "${FORCE:-0}" != 1 && -f "$1" && "$(cat "$1")" == "$2" ]]; }

command -v go >/dev/null || die "go is not on PATH"
command -v "$PYTHON" >/dev/null || die "$PYTHON is not on PATH (set PYTHON=/path/to/python3)"

# --- 1. Python venv with JupyterLab and nbconvert ---------------------------
py_version="$("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
venv_stamp="$VENV/.setup-notebooks.stamp"
venv_want="$(hash_of "$REQUIREMENTS") python-$py_version"
if stamp_ok "$venv_stamp" "$venv_want" && [[ -x "$VENV/bin/jupyter-lab" && -x "$VENV/bin/jupyter-nbconvert" ]] &&
    "$VENV/bin/python" -c '' 2>/dev/null; then
    log "venv up to date ($VENV)"
else
    start=$SECONDS
    log "creating venv $VENV with $PYTHON ($py_version)"
    rm -f "$venv_stamp"
    "$PYTHON" -m venv --clear "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQUIREMENTS"
    echo "$venv_want" >"$venv_stamp"
    log "venv ready in $((SECONDS - start)) s"
fi

# --- 2. gonb, goimports, gopls from the pinned tools module -----------------
go_version="$(go env GOVERSION)"
tools_stamp="$TOOLS/.setup-notebooks.stamp"
tools_want="$(hash_of "$TOOLS_MOD/go.mod" "$TOOLS_MOD/go.sum") $go_version"
if stamp_ok "$tools_stamp" "$tools_want" &&
    [[ -x "$TOOLS/bin/gonb" && -x "$TOOLS/bin/goimports" && -x "$TOOLS/bin/gopls" ]]; then
    log "Go tools up to date ($TOOLS/bin)"
else
    start=$SECONDS
    log "building gonb, goimports and gopls into $TOOLS/bin (first time: about a minute)"
    rm -f "$tools_stamp"
    mkdir -p "$TOOLS/bin"
    # -mod=readonly: never edit the committed go.mod/go.sum. GOFLAGS is set in
    # full so that a GOFLAGS from the environment cannot break the tools build.
    (cd "$TOOLS_MOD" && GOBIN="$TOOLS/bin" GOFLAGS="-mod=readonly -buildvcs=false" GOWORK=off go install tool)
    echo "$tools_want" >"$tools_stamp"
    log "Go tools ready in $((SECONDS - start)) s: $("$TOOLS/bin/gonb" --version 2>&1 | head -1)"
fi

# --- 3. GoNB kernelspec in the venv -----------------------------------------
# gonb --install writes kernel.json with argv[0] = the absolute path of the
# gonb binary. We then add an "env" so that the kernel finds goimports and
# gopls in .tools/bin whatever PATH Jupyter was started with (jupyter_client
# substitutes ${PATH} from its own environment).
kernel_want="$(hash_of "$tools_stamp" "${BASH_SOURCE[0]}") $TOOLS $VENV"
kernel_stamp="$KERNEL_DIR/.setup-notebooks.stamp"
if stamp_ok "$kernel_stamp" "$kernel_want" && [[ -f "$KERNEL_DIR/kernel.json" ]]; then
    log "GoNB kernel up to date ($KERNEL_DIR)"
else
    rm -rf "$KERNEL_DIR"
    # --raw_error: compile errors as plain text (readable in nbconvert output and
    # in the checker). The kernel's log goes to .tools/log/gonb-kernel.log, not to
    # the terminal of nbconvert or JupyterLab (gonb v0.11.5 also logs a test
    # "Warning message" and "Error message" at every start).
    mkdir -p "$TOOLS/log"
    out="$("$TOOLS/bin/gonb" --install --raw_error --logtostderr=false --log_file=/dev/null \
        --stderrthreshold=FATAL --extra_log="$TOOLS/log/gonb-kernel.log" 2>&1)" ||
        die "gonb --install failed: $out"
    "$VENV/bin/python" - "$KERNEL_DIR/kernel.json" "$TOOLS/bin" <<'EOF'
import json, os, sys
path, tools_bin = sys.argv[1], sys.argv[2]
with open(path) as f:
    spec = json.load(f)
gonb = os.path.join(tools_bin, "gonb")
if not os.path.isabs(spec["argv"][0]) or not os.access(spec["argv"][0], os.X_OK):
    spec["argv"][0] = gonb
spec.setdefault("env", {})["PATH"] = tools_bin + ":${PATH}"
spec["env"]["GOTOOLCHAIN"] = os.environ.get("GOTOOLCHAIN", "go1.27.3")
# The AVX kernels of GoMLX's pure-Go backend (about 4x faster), for every cell's build.
spec["env"]["GOEXPERIMENT"] = "simd"
spec["metadata"] = {"installed_by": "scripts/setup-notebooks.sh"}
with open(path, "w") as f:
    json.dump(spec, f, indent=1)
    f.write("\n")
EOF
    echo "$kernel_want" >"$kernel_stamp"
    log "GoNB kernel installed: $KERNEL_DIR/kernel.json"
fi

# --- 4. The notebooks' Go packages, compiled ahead --------------------------
# GoNB builds every cell as a program. Its first build compiles the packages
# the notebooks import (GoMLX, go-xla, gonum/plot, this repository's):
# 48 s for the imports cell with an empty Go build cache, 1.0 s when they
# are compiled already (docs/performance.md). This compiles them here, with
# the kernel's settings, into the Go build cache the kernel uses; when
# nothing changed it takes under a second.
start=$SECONDS
(cd "$ROOT" && GOEXPERIMENT=simd go build ./notebook ./analysis ./plotting ./mnistfc) ||
    die "the notebooks' Go packages do not build (see above)"
if ((SECONDS - start > 2)); then
    log "compiled the notebooks' Go packages in $((SECONDS - start)) s (once: a notebook's first cell then builds in about a second)"
else
    log "notebooks' Go packages compiled"
fi
