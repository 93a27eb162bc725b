# Shared settings of the notebook scripts; source it, don't run it:
#   . "$(dirname "${BASH_SOURCE[0]}")/notebooks-env.sh"
# It sets ROOT (the repository), VENV, TOOLS, and points Jupyter at the
# project-local venv (kernels, config, runtime files), so that a user's own
# ~/.jupyter or ~/.local/share/jupyter (say, another GoNB install) never
# changes what these scripts run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${NOTEBOOKS_VENV:-$ROOT/.venv}"
TOOLS="${NOTEBOOKS_TOOLS:-$ROOT/.tools}"

export JUPYTER_DATA_DIR="$VENV/share/jupyter"
export JUPYTER_CONFIG_DIR="$VENV/etc/jupyter"
export JUPYTER_RUNTIME_DIR="$VENV/share/jupyter/runtime"
export JUPYTER_PLATFORM_DIRS=1
export PATH="$VENV/bin:$TOOLS/bin:$PATH"

# go.mod needs Go 1.27: every go command of the scripts, and of the GoNB
# kernel they install, runs with the toolchain go1.27.3 (fetched once through
# the module proxy) unless GOTOOLCHAIN says otherwise.
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"
if [[ "$GOTOOLCHAIN" == local ]]; then export GOTOOLCHAIN=go1.27.3; fi
