#!/usr/bin/env bash
# Browser test of a GoNB notebook in a real JupyterLab (`make e2e`):
#   scripts/e2e-notebooks.sh [NOTEBOOK]      (default notebooks/mnist_fc.ipynb)
#
# Starts JupyterLab from the project venv on 127.0.0.1, a free port and a
# random token, with throw-away settings (no autosave: the notebook file is
# never written; no windowing: every cell is in the page; no news checks) and
# workspace; then notebooks/e2e/run-notebook.mjs drives Debian's Chromium with
# playwright-core: open the notebook, Run > Run All Cells, wait for every
# code cell and the kernel, check images and errors, and save a screenshot to
# artifacts/e2e-<notebook>.png. JupyterLab and its kernels are shut down at
# the end, pass or fail. Exit status: that of the browser test.
#
# Environment: E2E_MIN_IMAGES (default 1), E2E_TIMEOUT_S (seconds for all
# cells, default 900: on a cold Go build cache the first GoNB cell that
# imports GoMLX compiles for 25 s here, longer elsewhere), CHROMIUM (default /usr/bin/chromium,
# installed with apt-get when missing and running as root),
# MNISTFC_EPOCHS (passed on to the kernel; default 1 here).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/notebooks-env.sh"

NOTEBOOK="${1:-$ROOT/notebooks/mnist_fc.ipynb}"
NOTEBOOK="$(cd "$(dirname "$NOTEBOOK")" && pwd)/$(basename "$NOTEBOOK")"
NB_ROOT="$ROOT/notebooks"
NAME="$(basename "$NOTEBOOK" .ipynb)"
ARTIFACTS="$ROOT/artifacts"
E2E_DIR="$ROOT/notebooks/e2e"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export MNISTFC_EPOCHS="${MNISTFC_EPOCHS:-1}"

log() { echo "e2e: $*" >&2; }
die() { echo "e2e: error: $*" >&2; exit 1; }

[[ -f "$NOTEBOOK" ]] || die "no notebook $NOTEBOOK"
case "$NOTEBOOK" in "$NB_ROOT"/*) ;; *) die "$NOTEBOOK is not under $NB_ROOT" ;; esac
[[ -x "$VENV/bin/jupyter-lab" ]] || die "run scripts/setup-notebooks.sh first"
command -v node >/dev/null || die "node is not on PATH (Debian: apt-get install -y nodejs npm)"
if [[ ! -x "$CHROMIUM" && "$CHROMIUM" == /usr/bin/chromium && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    log "installing Debian's chromium (apt-get; Playwright's own browser download does not work here)"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
fi
[[ -x "$CHROMIUM" ]] || die "no Chromium at $CHROMIUM (Debian: apt-get install -y chromium; or set CHROMIUM)"

# playwright-core (and katex), pinned by notebooks/e2e/package-lock.json.
"$ROOT/scripts/install-node-tools.sh"

mkdir -p "$ARTIFACTS"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mnistfc-e2e.XXXXXX")"
SERVER_LOG="$ARTIFACTS/e2e-$NAME-jupyter.log"
server_pid=""
cp "$NOTEBOOK" "$WORK/notebook.orig"

cleanup() {
    local status=$?
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        log "stopping JupyterLab (pid $server_pid)"
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    # Settings say no autosave; this makes sure the committed notebook stays as it was.
    if ! cmp -s "$WORK/notebook.orig" "$NOTEBOOK"; then
        log "warning: $NOTEBOOK was changed during the test; restoring it"
        cp "$WORK/notebook.orig" "$NOTEBOOK"
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Throw-away JupyterLab settings and workspace.
settings="$WORK/user-settings"
mkdir -p "$settings/@jupyterlab/docmanager-extension" "$settings/@jupyterlab/notebook-extension" \
    "$settings/@jupyterlab/apputils-extension" "$WORK/workspaces"
echo '{"autosave": false}' >"$settings/@jupyterlab/docmanager-extension/plugin.jupyterlab-settings"
echo '{"windowingMode": "none"}' >"$settings/@jupyterlab/notebook-extension/tracker.jupyterlab-settings"
echo '{"fetchNews": "false", "checkForUpdates": false}' >"$settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings"

port="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
token="$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(24))')"
args=(--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port="$port" --ServerApp.port_retries=0
      --IdentityProvider.token="$token" --ServerApp.root_dir="$NB_ROOT"
      --LabApp.user_settings_dir="$settings" --LabApp.workspaces_dir="$WORK/workspaces"
      --LabApp.expose_app_in_browser=True --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate)
[[ "$(id -u)" == 0 ]] && args+=(--allow-root)

# The runs the notebook keeps (notebook.RunsDir) go to a new folder: the test
# sees the notebook train, not runs kept by an earlier session.
export MNISTFC_RUNS_DIR="$WORK/runs"
log "starting JupyterLab on 127.0.0.1:$port (log: $SERVER_LOG)"
start=$SECONDS
"$VENV/bin/jupyter-lab" "${args[@]}" >"$SERVER_LOG" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 120); do
    kill -0 "$server_pid" 2>/dev/null || { tail -20 "$SERVER_LOG" >&2; die "JupyterLab exited"; }
    if "$VENV/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "$base/api/status?token=$token" 2>/dev/null; then
        break
    fi
    sleep 0.5
done
log "JupyterLab up in $((SECONDS - start)) s"

rel="${NOTEBOOK#"$NB_ROOT"/}"
status=0
E2E_URL="$base" E2E_TOKEN="$token" E2E_NOTEBOOK="$rel" \
    E2E_SCREENSHOT="$ARTIFACTS/e2e-$NAME.png" \
    E2E_MIN_IMAGES="${E2E_MIN_IMAGES:-1}" E2E_TIMEOUT_S="${E2E_TIMEOUT_S:-900}" \
    node "$E2E_DIR/run-notebook.mjs" || status=$?
exit "$status"
