#!/usr/bin/env bash
# make deploy-check: checks what of deploy/ can be checked without a cluster
# or a Docker engine, with pinned tools installed into .tools/deploy-venv
# (deploy/requirements-check.txt; redone only when the pins change):
#   1. the Kubernetes manifests against Kubernetes' JSON schemas (strict: no
#      unknown fields) for the oldest and newest versions they target, with
#      kubernetes-validate, which bundles the schemas; inside a network
#      namespace of its own (unshare -n) where the machine allows one, to
#      show that it needs no network; and a broken manifest must fail;
#   2. the Slurm script with bash -n and shellcheck, this script too;
#   3. the Dockerfile with hadolint (it is not built here);
#   4. the Slurm script run as 2 array tasks of a tiny grid (1 epoch, hidden
#      1 and 2) with a faked Slurm environment, then merged.
# PYTHON picks the interpreter for the venv (default: python3).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# go.mod needs Go 1.27 (see the Makefile).
if [[ "${GOTOOLCHAIN:-local}" == local ]]; then export GOTOOLCHAIN=go1.27.3; fi
VENV=${DEPLOY_VENV:-$ROOT/.tools/deploy-venv}
REQUIREMENTS=deploy/requirements-check.txt
PYTHON=${PYTHON:-python3}
K8S_VERSIONS=(1.29.0 1.37.0) # backoffLimitPerIndex is on by default from 1.29

log() { echo "deploy-check: $*" >&2; }
die() { log "error: $*"; exit 1; }

# --- Tools ---------------------------------------------------------------------
want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1) $("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [[ -f "$VENV/.stamp" && "$(cat "$VENV/.stamp")" == "$want" && -x "$VENV/bin/kubernetes-validate" ]]; then
    log "tools up to date ($VENV)"
else
    log "installing the pinned tools into $VENV"
    "$PYTHON" -m venv --clear "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQUIREMENTS"
    echo "$want" >"$VENV/.stamp"
fi
export PATH="$VENV/bin:$PATH"

# --- 1. Kubernetes manifests ------------------------------------------------------
offline=()
if unshare -n true 2>/dev/null; then
    offline=(unshare -n)
    log "kubernetes-validate runs without network (unshare -n)"
else
    log "no network namespace here (unshare -n refused): kubernetes-validate runs as is (it reads only its bundled schemas)"
fi
manifests=(deploy/kubernetes/*.yaml)
for v in "${K8S_VERSIONS[@]}"; do
    "${offline[@]}" kubernetes-validate --strict --kubernetes-version "$v" "${manifests[@]}"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed 's/completionMode: Indexed/completionMode: Indexed\n  completionsMode: Indexed/' deploy/kubernetes/sweep-job.yaml >"$tmp/broken.yaml"
if "${offline[@]}" kubernetes-validate --quiet --strict --kubernetes-version "${K8S_VERSIONS[0]}" "$tmp/broken.yaml" >"$tmp/broken.out" 2>&1; then
    die "kubernetes-validate passed a manifest with an unknown field (completionsMode)"
fi
grep -q "completionsMode" "$tmp/broken.out" || die "kubernetes-validate failed the broken manifest without naming the field: $(cat "$tmp/broken.out")"
log "a manifest with an unknown field fails, as it should"

# --- 2. Shell scripts ---------------------------------------------------------------
for f in deploy/slurm/*.sbatch deploy/check.sh; do
    bash -n "$f"
done
shellcheck deploy/slurm/*.sbatch deploy/check.sh
log "bash -n and shellcheck $(shellcheck --version | sed -n 's/^version: //p'): deploy/slurm/*.sbatch deploy/check.sh"

# --- 3. Dockerfile --------------------------------------------------------------------
hadolint deploy/Dockerfile
log "hadolint $(hadolint --version | grep -o '[0-9][0-9.]*' | head -1): deploy/Dockerfile (not built here)"

# --- 4. The Slurm script, run as a 2-task array on a tiny grid --------------------
GOEXPERIMENT=simd go build -o "$tmp/mnistfc" ./cmd/mnistfc
for id in 7 8; do # --array=7-8: ids from SLURM_ARRAY_TASK_MIN=7
    env SLURM_ARRAY_TASK_ID=$id SLURM_ARRAY_TASK_MIN=7 SLURM_ARRAY_TASK_MAX=8 SLURM_ARRAY_TASK_COUNT=2 SLURM_ARRAY_TASK_STEP=1 \
        SLURM_CPUS_PER_TASK=1 MNISTFC="$tmp/mnistfc" OUT="$tmp/grid" HIDDENS=1,2 LRS=0.1 SEEDS=1 EPOCHS=1 SWEEP_FLAGS="-backend go" \
        bash deploy/slurm/sweep.sbatch >"$tmp/task-$id.out" 2>&1 || die "array task $id failed: $(cat "$tmp/task-$id.out")"
done
grep -q "shard 2/2 (from SLURM_ARRAY_TASK_ID=8, SLURM_ARRAY_TASK_MIN=7, SLURM_ARRAY_TASK_COUNT=2)" "$tmp/task-8.out" ||
    die "array task 8 did not say it ran shard 2/2: $(cat "$tmp/task-8.out")"
"$tmp/mnistfc" merge -out "$tmp/grid/merged" "$tmp/grid"/shard-* >"$tmp/merge.out" 2>&1 || die "merge failed: $(cat "$tmp/merge.out")"
grep -q '^| 2 | 0.1 | 0\.' "$tmp/merge.out" || die "the merged table lacks hidden 2: $(cat "$tmp/merge.out")"
for f in results.json results.csv heatmap.png; do
    [[ -s "$tmp/grid/merged/$f" ]] || die "merge wrote no $f"
done
log "the Slurm script ran 2 array tasks (ids 7-8) of a 2-run grid, and merge put them together"
log "passed"
